language-name = English
skip-to-content = Skip to the content
nav-label = Main menu
nav-dashboard = Dashboard
nav-intel = Intelligence
nav-requests = Requests
nav-sessions = My sessions
pref-language = Language
pref-time-zone = Time zone
pref-apply = Apply
sign-out = Sign out
yes = Yes
no = No

error-back = Back to the dashboard
error-too-large = The form is too large.
error-csrf = This form has expired or did not come from this site. Reload the page and try again.
error-forbidden = You are not allowed to do this.
error-not-found = Not found.
error-throttled = Too many attempts. Wait a minute and try again.
error-invalid = The request is not valid.
error-internal = Something went wrong on the server. The incident has been logged.
error-busy = Too many people are signed in. Try again later.
error-language = This language is not available.
error-time-zone = Unknown time zone: use a name such as Europe/Paris or UTC.

signin-title = Sign in
signin-name = User name
signin-password = Password
signin-submit = Sign in
signin-failed = Wrong user name or password.
signin-throttled = Too many failed attempts. Wait a minute before trying again.

sessions-title = My sessions
sessions-count = { $count ->
    [one] You have one open session.
   *[other] You have { $count } open sessions.
}
sessions-since = Signed in
sessions-browser = Browser
sessions-action = Action
sessions-current = this one
sessions-revoke = End this session

dashboard-title = Dashboard
dashboard-waiting = Requests awaiting our action
dashboard-waiting-count = { $count ->
    [0] No request awaits our action.
    [one] One request awaits our action.
   *[other] { $count } requests await our action.
}
dashboard-proposals = Proposals open for a vote
dashboard-proposals-count = { $count ->
    [0] No proposal is open for a vote.
    [one] One proposal is open for a vote.
   *[other] { $count } proposals are open for a vote.
}
dashboard-recent = New intelligence this week
dashboard-recent-none = Nothing new this week that you may read.
dashboard-log = Transparency log
dashboard-log-none = The log has no checkpoint yet.
dashboard-cosignatures = { $count ->
    [0] No peer has cosigned this checkpoint yet.
    [one] Cosigned by one peer.
   *[other] Cosigned by { $count } peers.
}

intel-title = Intelligence
intel-none = You may not read any collection.
intel-filter-type = Object type
intel-filter = Filter
intel-empty = No object to show.
intel-objects = Objects
intel-next = Next page

object-type = Type
object-name = Name
object-id = Identifier
object-markings = Markings
object-version = Version
object-back = Back to the collection
object-no-tlp = No TLP marking
object-versions = { $count ->
    [one] One version
   *[other] { $count } versions
}
object-json = STIX JSON
object-who-else = Who else has seen this
object-who-else-no-values = This object holds no observable value to look up.
object-who-else-suppressed = On a warning list, not correlated:
object-who-else-count = { $count ->
    [0] No other object you may read holds it.
    [one] One other object you may read holds it
   *[other] { $count } other objects you may read hold it
}
object-who-else-members = { $count ->
    [one] (one member).
   *[other] ({ $count } members).
}

tlp-clear = TLP:CLEAR: disclosure is not limited.
tlp-green = TLP:GREEN: limited disclosure, within the community.
tlp-amber = TLP:AMBER: limited disclosure, to the recipient's organisation and its clients.
tlp-amber-strict = TLP:AMBER+STRICT: limited disclosure, to the recipient's organisation only.
tlp-red = TLP:RED: for the eyes and ears of individual recipients only.
handling-h0 = For law-enforcement purposes only.
handling-h1 = Not for judicial proceedings without the originator's consent.
handling-h2 = No onward dissemination without the originator's consent.
handling-h3 = Other restrictions, stated in text.

requests-title = Cooperation requests
requests-new = Draft a new request
requests-inbox = Inbox: requests to us
requests-outbox = Outbox: our requests
requests-count = { $count ->
    [0] No request.
    [one] One request.
   *[other] { $count } requests.
}

request-id = Identifier
request-kind = Kind
request-partner = Partner
request-requester = Requesting member
request-requested = Requested member
request-state = State
request-due = Due (your time)
request-due-partner = Due (partner's time)
request-emergency = Emergency
request-overdue = Overdue
request-acts = What you can do
request-reason = Reason
request-until = Preserved until (RFC 3339)
request-link = Follow-up request
request-conditions = Conditions
request-note = Note
request-timeline = Signed history
request-at = At
request-by = by
request-signature = Signature
request-document = Request document

draft-title = New request
draft-choose = Choose
draft-to = Requested member (identity--…)
draft-emergency = Emergency (imminent risk to life or safety)
draft-emergency-justification = Justification of the emergency
draft-source = Required by
draft-save = Save as draft

kind-assistance = Assistance (24/7 network)
kind-preservation = Expedited preservation
kind-disclosure = Expedited disclosure of traffic data
kind-production = Production order
kind-mla = Mutual legal assistance

field-authority-name = Requesting authority
field-authority-contact = Contact of the authority
field-authority-time-zone = Time zone of the authority
field-legal-basis-instrument = Legal instrument
field-summary = Summary of the facts
field-offence = Offence
field-details-incident = Incident
field-details-help-sought = Help sought
field-details-data = Data to preserve
field-details-relation-to-offence = Relation of the data to the offence
field-details-custodian = Custodian of the data
field-details-necessity = Why preservation is needed
field-details-mla-to-follow = A request for mutual assistance will follow
field-details-preservation = The preservation this follows
field-details-communication = Communication concerned
field-details-categories = Data categories (comma-separated)
field-details-time-range-from = From
field-details-time-range-to = To
field-details-time-range-time-zone = Time zone of the period
field-details-addressee = Service provider addressed
field-details-purpose = Purpose of the request
field-details-assistance-sought = Assistance sought
field-details-laws = Applicable law
field-details-proceedings = Proceedings concerned

state-draft = Draft
state-submitted = Submitted
state-delivered = Delivered
state-acknowledged = Acknowledged
state-under-review = Under review
state-info-requested = Information requested
state-accepted = Accepted
state-accepted-with-conditions = Accepted with conditions
state-postponed = Postponed
state-refused = Refused
state-in-execution = In execution
state-partially-executed = Partly executed
state-executed = Executed
state-closed = Closed
state-preserved = Preserved
state-extended = Extended
state-linked = Linked
state-lapsed = Lapsed
state-released = Released
state-withdrawn = Withdrawn

act-submit = Sign and submit
act-deliver = Delivered
act-retrieve = Opened
act-acknowledge = Acknowledge
act-review = Start review
act-request-info = Ask for information
act-supply-info = Supply information
act-accept = Accept
act-accept-with-conditions = Accept with conditions
act-accept-conditions = Accept the conditions
act-postpone = Postpone
act-resume = Resume
act-refuse = Refuse
act-execute = Start execution
act-execute-partially = Deliver in part
act-complete = Complete
act-close = Close
act-preserve = Confirm preservation
act-extend = Extend preservation
act-link = Link the follow-up request
act-lapse = Record the lapse
act-release = Release the data
act-withdraw = Withdraw

reason-essential-interests = Essential interests (sovereignty, security, public order)
reason-political-offence = Political offence
reason-dual-criminality = Dual criminality not met
reason-immunity = Immunities or privileges
reason-fundamental-rights = Fundamental rights
reason-ne-bis-in-idem = Ne bis in idem
reason-incomplete = Incomplete or manifestly wrong request
reason-data-not-held = Data not held
reason-impossible = Execution impossible
reason-other = Other reason (in the note)

nav-governance = Governance
nav-members = Members
governance-title = Proposals
governance-proposals = Proposals, newest first
governance-count = { $count ->
    [0] No proposal has been tabled.
    [one] One proposal.
   *[other] { $count } proposals.
}
governance-back = Back to the proposals
norms-title = Norms and rules
norms-registry = Norms registry
norms-count = { $count ->
    [0] No norm has been adopted.
    [one] One version of a norm.
   *[other] { $count } versions of norms.
}
norm-version = version { $count }
norm-repealed = Repealed
norm-in-force = In force
norm-decided = Decided by
norm-founded = Adopted at the founding, by the genesis document
norm-id = Norm
rules-title = Rules in force
rules-voting-delay = Delay before voting opens
rules-voting-period = Voting period
rules-execution-window = Execution window
rules-quorum = Quorum (share of active members)
rules-abstentions = Abstentions count toward quorum
rules-kinds = What each kind of proposal needs
rules-sponsors = Sponsors needed
duration-days = { $count ->
    [one] { $count } day
   *[other] { $count } days
}
duration-hours = { $count ->
    [one] { $count } hour
   *[other] { $count } hours
}
duration-minutes = { $count ->
    [one] { $count } minute
   *[other] { $count } minutes
}
duration-seconds = { $count ->
    [one] { $count } second
   *[other] { $count } seconds
}
proposal-kind = Kind
proposal-state = State
proposal-proposer = Proposed by
proposal-window = Voting window
proposal-tally = Tally
proposal-id = Identifier
proposal-sponsors = Sponsors
proposal-effect = What it would do
proposal-member = Member
proposal-timeline = Timeline
proposal-tabled = Tabled
proposal-voting-starts = Voting opens
proposal-deadline = Deadline
proposal-execution-ends = Execution window ends
proposal-vote = Vote for our member
proposal-vote-legend = Our member's ballot (a later ballot replaces it until the deadline)
proposal-vote-submit = Sign and cast the ballot
proposal-cancel = Cancel this proposal
proposal-cancel-explain = Our member tabled it and voting has not opened: canceling it is signed and sent to every member, and no ballot will count.
proposal-cancel-submit = Sign and send the cancellation
proposal-result = Result
proposal-result-so-far = Result so far (provisional until the deadline)
proposal-quorum = Quorum
proposal-majority = Majority
proposal-met = met
proposal-not-met = not met
proposal-digest = Outcome digest
proposal-not-executed = The proposal succeeded, but its effect could not apply on this node (see the node's log).
proposal-ballots = Ballots counted
proposal-ballots-count = { $count ->
    [0] No ballot counts yet.
    [one] One ballot counts.
   *[other] { $count } ballots count.
}
proposal-choice = Ballot
proposal-refused = Ballots refused
proposal-reason = Reason
proposal-kind-admit-member = Admission of a member
proposal-does-admit-member = Admits a new member with its node's key and its country.
proposal-kind-suspend-member = Suspension of a member
proposal-does-suspend-member = Suspends an active member.
proposal-kind-reinstate-member = Reinstatement of a member
proposal-does-reinstate-member = Reinstates a suspended member.
proposal-kind-expel-member = Expulsion of a member
proposal-does-expel-member = Expels a member.
proposal-kind-adopt-norm = Adoption of a norm
proposal-does-adopt-norm = Adopts a norm with the texts below.
proposal-kind-amend-norm = Amendment of a norm
proposal-does-amend-norm = Replaces an adopted norm's texts with those below.
proposal-kind-repeal-norm = Repeal of a norm
proposal-does-repeal-norm = Repeals an adopted norm.
proposal-kind-change-rules = Change of the rules
proposal-does-change-rules = Puts the rules below in force.
proposal-kind-joint-statement = Joint statement
proposal-does-joint-statement = Adopts a joint statement, signed by the members who vote yes.
proposal-kind-revoke-member-key = Revocation of a member's keys
proposal-does-revoke-member-key = Revokes every key of a member used from the time below (a thief's that rotated first included) and pins the new keys the member supplied out of band. The member concerned votes like any other, and its own vote alone never carries it.
proposal-revoked-from = Keys revoked from
proposal-encryption-key = Encryption key
proposal-state-pending = Pending
proposal-state-active = Voting open
proposal-state-canceled = Canceled
proposal-state-defeated = Defeated
proposal-state-succeeded = Succeeded
proposal-state-executed = Executed
proposal-state-expired = Expired
choice-yes = Yes
choice-no = No
choice-abstain = Abstain
decision-succeeded = Succeeded
decision-defeated = Defeated
decision-so-far-succeeded = Passing so far
decision-so-far-defeated = Failing so far
refusal-malformed = Unreadable ballot
refusal-other-proposal = Ballot on another proposal
refusal-unknown-member = Not a member at tabling
refusal-suspended = Suspended at tabling
refusal-bad-signature = Signature does not verify
refusal-early = Cast before voting opened
refusal-late = Cast after the deadline
refusal-replayed = Same ballot received again
refusal-superseded = Replaced by a later ballot
refusal-equivocation = Conflicting ballots from one member
members-title = Members and agreements
members-directory = Member directory
members-count = { $count ->
    [0] No member is registered.
    [one] One member.
   *[other] { $count } members.
}
member-name = Name
member-country = Country
member-roles = Roles
member-status = Status
member-endpoint = Endpoint
member-fingerprint = Key fingerprint
member-key = Node key
member-local = this node
member-role-cert = National CERT/CSIRT
member-role-police = Police cyber unit
member-role-judicial = Judicial authority
member-role-central-authority = Central authority
member-status-active = Active
member-status-suspended = Suspended
agreements-title = Sharing agreements
agreements-count = { $count ->
    [0] No agreement yet.
    [one] One agreement.
   *[other] { $count } agreements.
}
agreement-id = Identifier
agreement-parties = Parties
agreement-missing = Signature awaited from
agreement-types = Object types
agreement-max-tlp = Most restrictive TLP
agreement-handling = Handling codes honoured
agreement-purposes = Purposes
agreement-valid = In force
agreement-no-end = no end
agreement-status-proposed = Proposed
agreement-status-active = Active
agreement-status-suspended = Suspended
agreement-status-terminated = Terminated

propose-title = Table a proposal
propose-norm = Norm identifier
propose-norm-hint = Up to 64 letters, digits, '.', '_' or '-', such as gge-2015-13f; for an amendment or a repeal, the identifier of a norm in force.
propose-texts = Text of the proposal
propose-texts-hint = { $count ->
    [one] Write it in at least one language, at most { $count } character in each; leave the other languages empty.
   *[other] Write it in at least one language, at most { $count } characters in each; leave the other languages empty.
}
propose-no-member = No member can be the subject of this kind of proposal now.
propose-record = Member record file
propose-record-hint = Paste the file the candidate's node wrote (comity member show-local --out FILE): its signature is checked against the key it carries, which you confirm with the candidate out of band.
propose-rules = New rules (JSON)
propose-rules-hint = The rules in force, to edit into the rules proposed: durations in seconds, shares as fractions such as 2/3.
propose-revoked-from-hint = When the compromise began, as an RFC 3339 time such as 2026-12-01T00:00:00Z: whatever the member's keys signed from then on counts for nothing.
propose-keys-hint = The new identity key and encryption key, as the member's node printed them (comity key prepare); confirm them with the member out of band.
propose-sponsors-needed = { $count ->
    [0] This kind of proposal needs no sponsor.
    [one] This kind of proposal needs one sponsor besides our member.
   *[other] This kind of proposal needs { $count } sponsors besides our member.
}
propose-no-sponsor = No other active member can sponsor it.
propose-too-few-sponsors = Fewer members can sponsor it than the rules in force ask for: the node will refuse it.
propose-explain = Tabling signs the proposal for our member and sends it to every active member. It can be canceled until voting opens.
propose-submit = Sign and table the proposal
error-propose-text-long = { $count ->
    [one] A text may hold at most { $count } character.
   *[other] A text may hold at most { $count } characters.
}
error-propose-text-empty = Write the text in at least one language.
error-propose-norm-empty = Give the norm's identifier.
error-propose-member-empty = Choose the member the proposal concerns.
error-propose-member-unknown = This member is not in the member directory.
error-propose-sponsor-unknown = A sponsor is not in the member directory.
error-propose-record-empty = Paste the member record file of the candidate.
error-propose-record = The member record file is refused.
error-propose-rules-empty = Give the rules to put in force.
error-propose-rules = These rules cannot be read.
error-propose-revoked-from = Give the time as RFC 3339, such as 2026-12-01T00:00:00Z.
error-propose-key-empty = Give the member's new identity key and encryption key.
error-propose-key = A key is refused.
error-propose-refused = The node refused to table this proposal.

nav-tokens = API tokens
nav-admin = Administration
tokens-title = API tokens
tokens-explain = An API token lets a program (a TAXII client, a sensor, a script) act as you through the node's API, with your role, until it expires or is revoked.
tokens-mine = Your tokens
tokens-all = Every token of this node
tokens-count = { $count ->
    [0] No token.
    [one] One token.
   *[other] { $count } tokens.
}
tokens-back = Back to the API tokens
token-label = Label
token-id = Identifier
token-holder = Holder
token-for-member = peer member
token-created = Created
token-expires = Expires
token-never = never
token-state = State
token-action = Action
token-state-active = Active
token-state-expired = Expired
token-state-revoked = Revoked
token-revoke = Revoke
token-new = New token
token-label-hint = { $count ->
    [one] What it is for, such as "MISP sync": at most { $count } character.
   *[other] What it is for, such as "MISP sync": at most { $count } characters.
}
token-days = Days until it expires
token-days-hint = { $count ->
    [one] From 1 to { $count } day.
   *[other] From 1 to { $count } days.
}
token-member = Issue it to a peer member
token-member-hint = A peer member's token reads only the policy views made for that member.
token-member-none = No: a token for me
token-create-explain = The token is shown once, on the next page; the node keeps only its hash.
token-create = Create the token
token-created-title = Token created
token-secret = The token
token-use = Programs send it in a header:
secret-once = Copy it now: it is shown this once and never again, and the node cannot show it to anyone later. Keep it as secret as a password.
error-token-label = { $count ->
    [one] Give a label of 1 to { $count } character, without control characters.
   *[other] Give a label of 1 to { $count } characters, without control characters.
}
error-token-days = Give a whole number of days from 1 to { $count }.
error-token-member = This member cannot receive a token.
error-token-revoke = This token cannot be revoked.

admin-title = Administration
admin-users = Users
admin-users-count = { $count ->
    [0] No user.
    [one] One user.
   *[other] { $count } users.
}
admin-user = User name
admin-role = Role
admin-change-role = Change the role
admin-new-role = New role of
admin-set-role = Change
admin-you = you
role-viewer = Viewer (reads)
role-analyst = Analyst (reads and writes intelligence)
role-liaison = Liaison officer (cooperation requests)
role-admin = Administrator
admin-new-user = Add a user
admin-name-hint = { $count ->
    [one] At most { $count } character, without ':' or control characters.
   *[other] At most { $count } characters, without ':' or control characters.
}
admin-password = Password
admin-password-again = Password again
admin-password-hint = { $count ->
    [one] Type a password of at least { $count } character twice, or leave both fields empty to have one generated and shown once.
   *[other] Type a password of at least { $count } characters twice, or leave both fields empty to have one generated and shown once.
}
admin-new-user-explain = Adding a user, like changing a role, is recorded in the node's transparency log (name and role, never the password).
admin-add-user = Add the user
admin-user-added = User added
admin-password-generated = The generated password
admin-password-typed = The user signs in with the password you typed.
admin-back = Back to the administration
admin-sessions = Open sessions of every user
admin-sessions-count = { $count ->
    [0] No open session.
    [one] One open session.
   *[other] { $count } open sessions.
}
error-admin-name = This user name is refused.
error-admin-exists = A user has this name already.
error-admin-no-user = There is no such user.
error-admin-role = Choose one of the roles offered.
error-admin-password-mismatch = The two passwords differ.
error-admin-password-short = { $count ->
    [one] The password needs at least { $count } character.
   *[other] The password needs at least { $count } characters.
}
error-admin-no-session = This session has ended already.
