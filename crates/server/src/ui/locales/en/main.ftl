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
