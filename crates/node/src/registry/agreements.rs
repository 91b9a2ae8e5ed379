//! Agreement documents, their signatures, and the agreement acts.

use std::collections::BTreeSet;

use comity_store::{RegistryEntry, RegistryKind, StoreError};
use comity_tlog::entry::AGREEMENT_CHANGED;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::members::Member;
use super::{
    check_identity_id, check_text, invalid, parse_time, timestamp, Directory, Registry,
    RegistryError, RegistryState,
};
use crate::identity::{KeyError, NodeKey, PublicKey};
use crate::policy::{
    Agreement, AgreementStatus, HandlingCode, MemberId, MemberStatus, Purpose, Scope, Tlp,
};
use comity_stix::clock::now_us;

/// What an agreement covers, as written in its document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeDocument {
    /// STIX object types, e.g. `indicator`.
    pub object_types: BTreeSet<String>,
    /// The most restrictive TLP level that may flow: `clear`, `green`, `amber`,
    /// `amber+strict` or `red`.
    pub max_tlp: String,
    /// The handling codes the parties undertake to honour (`H0` … `H3`).
    pub handling: BTreeSet<String>,
    /// `intelligence`, `police-cooperation`, `judicial-assistance`.
    pub purposes: BTreeSet<String>,
}

/// One party's signature over an agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartySignature {
    /// The signing member.
    pub member: String,
    /// The key it signed with, `ed25519:<base64>`.
    pub public_key: String,
    /// Ed25519 over the canonical JSON of the agreement without its signatures, base64.
    pub signature: String,
}

/// A sharing agreement as its parties hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementDocument {
    /// `agreement--<UUID>`.
    pub id: String,
    /// A title people recognise.
    pub title: String,
    /// The member who proposed it.
    pub proposer: String,
    /// Its parties (two or more members).
    pub parties: BTreeSet<String>,
    /// What it covers.
    pub scope: ScopeDocument,
    /// In force from (RFC 3339).
    pub valid_from: String,
    /// In force until, exclusive (RFC 3339); none for no end.
    pub valid_until: Option<String>,
    /// When it was drawn up.
    pub created: String,
    /// The parties' signatures.
    #[serde(default)]
    pub signatures: Vec<PartySignature>,
}

impl AgreementDocument {
    /// What each party signs: the document without its signatures.
    pub fn signed_body(&self) -> Value {
        let mut body = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut body {
            map.remove("signatures");
        }
        body
    }

    /// Whether `other` has exactly the same terms (everything but the signatures).
    pub fn same_terms(&self, other: &AgreementDocument) -> bool {
        comity_stix::canonical_json(&self.signed_body())
            == comity_stix::canonical_json(&other.signed_body())
    }

    /// Whether `member` has signed (as far as this document says).
    pub fn signed_by(&self, member: &str) -> bool {
        self.signatures.iter().any(|s| s.member == member)
    }

    /// The parties whose signatures are missing, by id.
    pub fn missing(&self) -> Vec<String> {
        self.parties
            .iter()
            .filter(|p| !self.signed_by(p))
            .cloned()
            .collect()
    }

    /// Whether every party has signed.
    pub fn is_complete(&self) -> bool {
        self.parties.iter().all(|p| self.signed_by(p))
    }

    /// Checks the terms of a document drawn up elsewhere (received from a party or
    /// imported) as [`Registry::create_agreement`] checks a draft, and reads them.
    pub fn check_terms(&self) -> Result<Agreement, RegistryError> {
        // Refusals quote ids; what they quote stays short.
        let long = |s: &str| s.len() > 128;
        if long(&self.id)
            || long(&self.proposer)
            || self.parties.iter().any(|p| long(p))
            || self
                .signatures
                .iter()
                .any(|s| long(&s.member) || long(&s.public_key) || long(&s.signature))
        {
            return Err(invalid(
                "an agreement's ids, keys and signatures have at most 128 characters each",
            ));
        }
        if self.parties.len() > 1000 {
            return Err(invalid("an agreement has at most 1000 parties"));
        }
        let id_ok = self
            .id
            .strip_prefix("agreement--")
            .and_then(|u| uuid::Uuid::parse_str(u).ok())
            .is_some_and(|u| u.hyphenated().to_string() == self.id["agreement--".len()..]);
        if !id_ok {
            return Err(invalid(format!(
                "{:?} is not an agreement id (agreement--<lowercase UUID>)",
                self.id
            )));
        }
        check_text("an agreement's title", &self.title, 256)?;
        if self.parties.len() < 2 {
            return Err(invalid(format!(
                "agreement {} needs at least two parties",
                self.id
            )));
        }
        for party in &self.parties {
            check_identity_id(party)?;
        }
        if !self.parties.contains(&self.proposer) {
            return Err(invalid(format!(
                "the proposer {} of agreement {} is not one of its parties",
                self.proposer, self.id
            )));
        }
        if self.scope.object_types.is_empty() || self.scope.purposes.is_empty() {
            return Err(invalid(
                "an agreement's scope needs at least one object type and one purpose",
            ));
        }
        parse_time("created", &self.created)?;
        let terms = self.to_policy(AgreementStatus::Proposed)?;
        if terms.valid_until.is_some_and(|u| u <= terms.valid_from) {
            return Err(invalid("valid_until must come after valid_from"));
        }
        Ok(terms)
    }

    /// Checks every signature: by a party, at most one per party, made with the key this
    /// node pins for it (or a former key of it), and valid over the terms. Returns the
    /// parties whose signature was made with a key since revoked. The Ed25519 checks are
    /// skipped for a document text whose signatures verified before on this node, as its
    /// `state` says (`text` is the document as stored or received, which carries the
    /// signers' keys, compared with the pinned ones every time); without a state they are
    /// never skipped.
    fn verify_signatures(
        &self,
        text: &str,
        members: &[Member],
        state: Option<&RegistryState>,
    ) -> Result<BTreeSet<String>, String> {
        let mut seen = BTreeSet::new();
        let mut revoked = BTreeSet::new();
        for sig in &self.signatures {
            if !self.parties.contains(&sig.member) {
                return Err(format!(
                    "agreement {} carries a signature by {}, who is not one of its parties",
                    self.id, sig.member
                ));
            }
            if !seen.insert(sig.member.as_str()) {
                return Err(format!(
                    "agreement {} carries two signatures by {}",
                    self.id, sig.member
                ));
            }
            let pinned = members
                .iter()
                .find(|m| m.id.0 == sig.member)
                .ok_or_else(|| {
                    format!(
                        "agreement {} is signed by {}, which is not a registered member of this node",
                        self.id, sig.member
                    )
                })?;
            // A key the member rotated out still counts for what it signed, unless revoked.
            if pinned.record.public_key != sig.public_key {
                let history = crate::identity::rotation::KeyHistory(&pinned.record.key_history);
                match history.former(&sig.public_key) {
                    Some(f) if f.revoked_from.is_some() => {
                        revoked.insert(sig.member.clone());
                    }
                    Some(_) => {}
                    None => {
                        return Err(format!(
                            "the signature of {} on agreement {} is made with a key that is not its pinned key",
                            sig.member, self.id
                        ))
                    }
                }
            }
        }
        // Every exit reads the agreements, and Ed25519 costs tens of µs: each text is
        // verified once per node.
        if state.is_some_and(|s| s.verified(text)) {
            return Ok(revoked);
        }
        let body = self.signed_body();
        for sig in &self.signatures {
            let key: PublicKey = sig
                .public_key
                .parse()
                .map_err(|err: KeyError| format!("the key of {}: {err}", sig.member))?;
            key.verify(&body, &sig.signature).map_err(|err| {
                format!(
                    "the signature of {} on agreement {} does not verify with its pinned key: {err}",
                    sig.member, self.id
                )
            })?;
        }
        if let Some(state) = state {
            state.remember(text);
        }
        Ok(revoked)
    }

    /// The scope and period as the policy engine reads them.
    fn to_policy(&self, status: AgreementStatus) -> Result<Agreement, RegistryError> {
        let s = &self.scope;
        let max_tlp = Tlp::from_extension_value(&s.max_tlp).ok_or_else(|| {
            invalid(format!(
                "max TLP {:?} is not clear, green, amber, amber+strict or red",
                s.max_tlp
            ))
        })?;
        let handling = s
            .handling
            .iter()
            .map(|c| {
                HandlingCode::parse(c)
                    .ok_or_else(|| invalid(format!("handling code {c:?} is not H0, H1, H2 or H3")))
            })
            .collect::<Result<_, _>>()?;
        let purposes = s
            .purposes
            .iter()
            .map(|p| p.parse::<Purpose>().map_err(invalid))
            .collect::<Result<_, _>>()?;
        Ok(Agreement {
            id: self.id.clone(),
            parties: self.parties.iter().cloned().map(MemberId).collect(),
            scope: Scope {
                object_types: s.object_types.clone(),
                max_tlp,
                handling,
                purposes,
            },
            valid_from: parse_time("valid_from", &self.valid_from)?,
            valid_until: self
                .valid_until
                .as_deref()
                .map(|u| parse_time("valid_until", u))
                .transpose()?,
            status,
        })
    }
}

/// An agreement as this node holds it: the signed document, its status and the engine's
/// reading of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedAgreement {
    /// The document with its signatures.
    pub document: AgreementDocument,
    /// The engine's reading (scope, period, status).
    pub terms: Agreement,
    /// The parties whose signature on it was made with a key since revoked: while any is,
    /// it covers nothing and can only be terminated.
    pub revoked: BTreeSet<String>,
}

impl SignedAgreement {
    /// How it stands here, as shown: `signature revoked` while it carries a signature
    /// made with a key since revoked and is not terminated, its status otherwise.
    pub fn state(&self) -> &'static str {
        if !self.revoked.is_empty() && self.terms.status != AgreementStatus::Terminated {
            "signature revoked"
        } else {
            self.terms.status.as_str()
        }
    }

    /// Refuses any change but termination of an agreement carrying a revoked signature.
    fn check_not_revoked(&self) -> Result<(), RegistryError> {
        match self.revoked.first() {
            Some(member) => Err(invalid(format!(
                "the signature of {member} on agreement {} is made with a key revoked since: \
                 it covers nothing and can only be terminated (the parties sign a new one)",
                self.document.id
            ))),
            None => Ok(()),
        }
    }
}

/// What an agreement act of this node changed, and so what the other parties are to hear
/// of it. The registry only records; the federation queues
/// ([`crate::federation::agreement::queue_change`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgreementChange {
    /// This node proposed or signed: the document with every signature it holds goes to
    /// the other parties.
    Signed {
        /// The agreement as this node holds it now.
        agreement: SignedAgreement,
        /// This node's member id.
        by: String,
    },
    /// This node withdrew (terminated the agreement): the other parties are told.
    Withdrawn {
        /// The agreement as this node holds it now.
        agreement: SignedAgreement,
        /// This node's member id.
        by: String,
    },
    /// A change that is this node's own business (a suspension or a reinstatement):
    /// nothing travels.
    Local(SignedAgreement),
}

impl AgreementChange {
    /// The agreement as this node holds it now.
    pub fn agreement(&self) -> &SignedAgreement {
        match self {
            AgreementChange::Signed { agreement, .. }
            | AgreementChange::Withdrawn { agreement, .. }
            | AgreementChange::Local(agreement) => agreement,
        }
    }

    /// The agreement as this node holds it now, taken.
    pub fn into_agreement(self) -> SignedAgreement {
        match self {
            AgreementChange::Signed { agreement, .. }
            | AgreementChange::Withdrawn { agreement, .. }
            | AgreementChange::Local(agreement) => agreement,
        }
    }
}

/// What taking in a copy of an agreement changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The agreement as this node holds it now.
    pub agreement: SignedAgreement,
    /// The parties whose signatures were new to this node.
    pub added: Vec<String>,
}

/// Why [`Registry::change_agreement`]'s change makes no new version.
enum ChangeError {
    /// There is nothing to change: the agreement as held.
    Unchanged(Box<SignedAgreement>),
    /// The change is refused.
    Refused(RegistryError),
}

/// Nothing to change in this agreement.
struct Unchanged(SignedAgreement);

impl From<Unchanged> for ChangeError {
    fn from(u: Unchanged) -> ChangeError {
        ChangeError::Unchanged(Box::new(u.0))
    }
}

impl From<RegistryError> for ChangeError {
    fn from(e: RegistryError) -> ChangeError {
        ChangeError::Refused(e)
    }
}

/// What an admin fills in to draw up an agreement.
#[derive(Debug, Clone)]
pub struct AgreementDraft {
    /// A title.
    pub title: String,
    /// The other parties (this node is always a party).
    pub partners: BTreeSet<String>,
    /// What it covers.
    pub scope: ScopeDocument,
    /// In force from; now when absent.
    pub valid_from: Option<String>,
    /// In force until; no end when absent.
    pub valid_until: Option<String>,
}

impl<'a> Directory<'a> {
    /// One agreement, its signatures checked against the pinned keys.
    pub async fn agreement(&self, id: &str) -> Result<Option<SignedAgreement>, RegistryError> {
        let members = self.members().await?;
        self.store
            .registry_entry(RegistryKind::Agreement, id)
            .await?
            .map(|e| read_agreement(&e, &members, self.state))
            .transpose()
    }

    /// Every agreement, by id.
    pub async fn agreements(&self) -> Result<Vec<SignedAgreement>, RegistryError> {
        let members = self.members().await?;
        self.store
            .registry(RegistryKind::Agreement)
            .await?
            .iter()
            .map(|e| read_agreement(e, &members, self.state))
            .collect()
    }
}

impl<'a> Registry<'a> {
    /// Proposes an agreement between this node and `draft.partners`: draws it up, signs
    /// its terms with this node's key and stores it as proposed. Returns the change, which
    /// the other parties are to hear of ([`crate::federation::agreement::propose`] queues
    /// it; otherwise the document goes to them out of band, e.g. `comity agreement show`
    /// and `comity agreement import`). It comes into force on a node once that node holds
    /// every party's signature.
    pub async fn create_agreement(
        &self,
        draft: AgreementDraft,
        key: &NodeKey,
    ) -> Result<AgreementChange, RegistryError> {
        let local = self.signing_member(key).await?;
        if draft.title.trim().is_empty() || draft.title.len() > 256 {
            return Err(invalid(
                "an agreement's title must have 1 to 256 characters",
            ));
        }
        if draft.partners.is_empty() {
            return Err(invalid("an agreement needs at least one other party"));
        }
        for partner in &draft.partners {
            match self.member(partner).await? {
                None => return Err(invalid(format!("no member {partner} is registered"))),
                Some(m) if m.record.local => {
                    return Err(invalid("this node is a party already; name the others"))
                }
                Some(m) if m.status == MemberStatus::Suspended => {
                    return Err(invalid(format!("member {partner} is suspended")))
                }
                Some(_) => {}
            }
        }
        if draft.scope.object_types.is_empty() || draft.scope.purposes.is_empty() {
            return Err(invalid(
                "an agreement's scope needs at least one object type and one purpose",
            ));
        }
        let now = OffsetDateTime::now_utc();
        let mut parties = draft.partners;
        parties.insert(local.id.0.clone());
        let mut document = AgreementDocument {
            id: format!("agreement--{}", uuid::Uuid::new_v4()),
            title: draft.title,
            proposer: local.id.0.clone(),
            parties,
            scope: draft.scope,
            valid_from: draft.valid_from.unwrap_or_else(|| timestamp(now)),
            valid_until: draft.valid_until,
            created: timestamp(now),
            signatures: Vec::new(),
        };
        let terms = document.to_policy(AgreementStatus::Proposed)?;
        if terms.valid_until.is_some_and(|u| u <= terms.valid_from) {
            return Err(invalid("valid_until must come after valid_from"));
        }
        document.signatures.push(PartySignature {
            member: local.id.0.clone(),
            public_key: local.record.public_key.clone(),
            signature: key.sign(&document.signed_body()),
        });
        let agreement = SignedAgreement {
            document,
            terms,
            revoked: BTreeSet::new(),
        };
        self.store
            .add_registry_entry(&agreement_entry(&agreement)?)
            .await?;
        self.commit(
            AGREEMENT_CHANGED,
            &agreement.document.id,
            agreement_json(&agreement),
        )
        .await?;
        Ok(AgreementChange::Signed {
            agreement,
            by: local.id.0,
        })
    }

    /// Signs a proposed agreement this node is party to with this node's key and commits
    /// the signature to the log. Returns the change: the document with every signature
    /// this node holds, for the other parties ([`crate::federation::agreement::sign`]
    /// queues it). It is in force here once every party's signature is present.
    pub async fn sign_agreement(
        &self,
        id: &str,
        key: &NodeKey,
    ) -> Result<AgreementChange, RegistryError> {
        let local = self.signing_member(key).await?;
        let me = &local.id.0;
        let (agreement, _) = self
            .change_agreement(id, |held| {
                let mut agreement = held.ok_or_else(|| invalid(format!("no agreement {id}")))?;
                let document = &mut agreement.document;
                if !document.parties.contains(me) {
                    return Err(
                        invalid(format!("this node is not a party to agreement {id}")).into(),
                    );
                }
                if document.signed_by(me) {
                    return Err(
                        invalid(format!("this node has signed agreement {id} already")).into(),
                    );
                }
                if agreement.terms.status == AgreementStatus::Terminated {
                    return Err(invalid(format!("agreement {id} is terminated for good")).into());
                }
                agreement.check_not_revoked()?;
                let document = &mut agreement.document;
                document.signatures.push(PartySignature {
                    member: me.clone(),
                    public_key: local.record.public_key.clone(),
                    signature: key.sign(&document.signed_body()),
                });
                if agreement.terms.status == AgreementStatus::Proposed && document.is_complete() {
                    agreement.terms.status = AgreementStatus::Active;
                }
                Ok(Some(agreement))
            })
            .await?;
        Ok(AgreementChange::Signed {
            agreement,
            by: local.id.0,
        })
    }

    /// Takes in a copy of an agreement, received from the party `sender` or (`None`)
    /// imported by an admin: its terms are checked, this node must be a party and so must
    /// the sender, every party must be registered here, every signature must verify with
    /// the signer's pinned key, and the proposer's must be there. A copy of an agreement
    /// held already must have exactly the same terms; its signatures are added to those
    /// held (none is ever dropped). A new agreement is stored as proposed until every party
    /// has signed; nothing is signed for this node. A refusal is [`RegistryError::Invalid`]
    /// and changes nothing; a change is committed to the log.
    pub async fn merge_agreement(
        &self,
        incoming: AgreementDocument,
        sender: Option<&str>,
    ) -> Result<Merged, RegistryError> {
        let local = self
            .local_member()
            .await?
            .ok_or_else(|| invalid("this node has no member record yet; run `comity init`"))?;
        let id = incoming.id.clone();
        let terms = incoming.check_terms()?;
        if !incoming.parties.contains(&local.id.0) {
            return Err(invalid(format!(
                "this node is not a party to agreement {id}"
            )));
        }
        if let Some(sender) = sender.filter(|s| !incoming.parties.contains(*s)) {
            return Err(invalid(format!(
                "the sender {sender} is not a party to agreement {id}"
            )));
        }
        let members = self.members().await?;
        if let Some(stranger) = incoming
            .parties
            .iter()
            .find(|p| !members.iter().any(|m| &m.id.0 == *p))
        {
            return Err(invalid(format!(
                "party {stranger} of agreement {id} is not a registered member of this node"
            )));
        }
        let text = serde_json::to_string(&incoming)
            .map_err(|e| invalid(format!("cannot encode the agreement: {e}")))?;
        let revoked = incoming
            .verify_signatures(&text, &members, self.state)
            .map_err(invalid)?;
        if let Some(member) = revoked.first() {
            return Err(invalid(format!(
                "the signature of {member} on agreement {id} is made with a key revoked since"
            )));
        }
        if !incoming.signed_by(&incoming.proposer) {
            return Err(invalid(format!(
                "agreement {id} does not carry the signature of its proposer {}",
                incoming.proposer
            )));
        }
        let mut added = Vec::new();
        let (agreement, _) = self
            .change_agreement(&id, |held| {
                added.clear();
                let Some(mut held) = held else {
                    let status = if incoming.is_complete() {
                        AgreementStatus::Active
                    } else {
                        AgreementStatus::Proposed
                    };
                    added.extend(incoming.signatures.iter().map(|s| s.member.clone()));
                    return Ok(Some(SignedAgreement {
                        document: incoming.clone(),
                        terms: Agreement {
                            status,
                            ..terms.clone()
                        },
                        revoked: BTreeSet::new(),
                    }));
                };
                held.check_not_revoked()?;
                if !held.document.same_terms(&incoming) {
                    return Err(invalid(format!(
                        "this node holds agreement {id} with other terms; changed terms need a new agreement"
                    ))
                    .into());
                }
                for sig in &incoming.signatures {
                    if !held.document.signed_by(&sig.member) {
                        added.push(sig.member.clone());
                        held.document.signatures.push(sig.clone());
                    }
                }
                if added.is_empty() {
                    return Err(Unchanged(held).into());
                }
                if held.terms.status == AgreementStatus::Proposed && held.document.is_complete() {
                    held.terms.status = AgreementStatus::Active;
                }
                Ok(Some(held))
            })
            .await?;
        Ok(Merged { agreement, added })
    }

    /// Reads agreement `id` (`None` when this node holds none), lets `change` make its new
    /// version (`Err(Unchanged)` when there is nothing to change), and writes it only if
    /// nobody wrote it in between (compare and swap), committing it to the log; otherwise
    /// reads it again and retries. Returns the agreement and whether it changed.
    async fn change_agreement(
        &self,
        id: &str,
        mut change: impl FnMut(Option<SignedAgreement>) -> Result<Option<SignedAgreement>, ChangeError>,
    ) -> Result<(SignedAgreement, bool), RegistryError> {
        // On one node changes wait for each other (see `RegistryState`); across processes
        // sharing the store, and without a node's state, the compare and swap catches the
        // one that came second.
        let _guard = match self.directory.state {
            Some(state) => Some(state.changes.lock().await),
            None => None,
        };
        for _ in 0..32 {
            let members = self.members().await?;
            let entry = self
                .store
                .registry_entry(RegistryKind::Agreement, id)
                .await?;
            let held = entry
                .as_ref()
                .map(|e| read_agreement(e, &members, self.state))
                .transpose()?;
            let agreement = match change(held) {
                Ok(Some(a)) => a,
                Ok(None) => return Err(invalid(format!("no agreement {id}"))),
                Err(ChangeError::Unchanged(a)) => return Ok((*a, false)),
                Err(ChangeError::Refused(e)) => return Err(e),
            };
            let new = agreement_entry(&agreement)?;
            let written = match &entry {
                None => match self.store.add_registry_entry(&new).await {
                    Ok(()) => true,
                    Err(StoreError::Conflict(_)) => false,
                    Err(e) => return Err(e.into()),
                },
                Some(old) => self.store.replace_registry_entry(&new, old).await?,
            };
            if written {
                self.commit(AGREEMENT_CHANGED, id, agreement_json(&agreement))
                    .await?;
                return Ok((agreement, true));
            }
            tracing::debug!(agreement = %id, "agreement changed meanwhile; reading it again");
        }
        Err(invalid(format!(
            "agreement {id} keeps changing under this node; try again"
        )))
    }

    /// This node's member record, which `key` must be the node key of: what signs for it.
    async fn signing_member(&self, key: &NodeKey) -> Result<Member, RegistryError> {
        let local = self
            .local_member()
            .await?
            .ok_or_else(|| invalid("this node has no member record yet; run `comity init`"))?;
        if key.public_key().to_string() != local.record.public_key {
            return Err(invalid(
                "the node key does not match the public key of this node's member record",
            ));
        }
        Ok(local)
    }

    /// Suspends, reinstates or terminates an agreement. A terminated one stays terminated;
    /// a proposed one can only be terminated (declined). Suspension is this node's own
    /// decision ([`AgreementChange::Local`]); a termination is this party's withdrawal,
    /// which ends the agreement for every party ([`AgreementChange::Withdrawn`]: see
    /// [`crate::federation::agreement::set_status`], which queues it for the others).
    pub async fn set_agreement_status(
        &self,
        id: &str,
        status: AgreementStatus,
    ) -> Result<AgreementChange, RegistryError> {
        let (agreement, _) = self
            .change_agreement(id, |held| {
                let mut agreement = held.ok_or_else(|| invalid(format!("no agreement {id}")))?;
                let current = agreement.terms.status;
                if current == AgreementStatus::Terminated {
                    return Err(invalid(format!("agreement {id} is terminated for good")).into());
                }
                if status == AgreementStatus::Proposed {
                    return Err(invalid(
                        "an agreement is proposed only until every party has signed it",
                    )
                    .into());
                }
                if current == AgreementStatus::Proposed && status != AgreementStatus::Terminated {
                    return Err(invalid(format!(
                        "agreement {id} is not in force yet: it awaits the signatures of {}",
                        agreement.document.missing().join(", ")
                    ))
                    .into());
                }
                if current == status {
                    return Err(
                        invalid(format!("agreement {id} is {} already", status.as_str())).into(),
                    );
                }
                if status != AgreementStatus::Terminated {
                    agreement.check_not_revoked()?;
                }
                agreement.terms.status = status;
                Ok(Some(agreement))
            })
            .await?;
        if status == AgreementStatus::Terminated {
            if let Some(local) = self.local_member().await? {
                return Ok(AgreementChange::Withdrawn {
                    agreement,
                    by: local.id.0,
                });
            }
        }
        Ok(AgreementChange::Local(agreement))
    }

    /// Party `party` withdrew from agreement `id` (its signed envelope says so): the
    /// agreement ends here too. `Ok(false)` when it had ended already.
    pub async fn withdrawn(&self, id: &str, party: &str) -> Result<bool, RegistryError> {
        let (_, changed) = self
            .change_agreement(id, |held| {
                let mut agreement =
                    held.ok_or_else(|| invalid(format!("this node holds no agreement {id}")))?;
                if !agreement.document.parties.iter().any(|p| p == party) {
                    return Err(invalid(format!("{party} is not a party to agreement {id}")).into());
                }
                if agreement.terms.status == AgreementStatus::Terminated {
                    return Err(ChangeError::Unchanged(Box::new(agreement)));
                }
                agreement.terms.status = AgreementStatus::Terminated;
                Ok(Some(agreement))
            })
            .await?;
        Ok(changed)
    }
}

fn agreement_entry(a: &SignedAgreement) -> Result<RegistryEntry, RegistryError> {
    Ok(RegistryEntry {
        kind: RegistryKind::Agreement,
        id: a.document.id.clone(),
        status: a.terms.status.into(),
        document: serde_json::to_string(&a.document)
            .map_err(|e| invalid(format!("cannot encode the agreement: {e}")))?,
        updated_at: now_us(),
    })
}

fn agreement_json(a: &SignedAgreement) -> Value {
    json!({"status": a.terms.status.as_str(), "document": a.document})
}

/// Reads a stored agreement and checks every signature against the signer's pinned key: an
/// agreement whose signatures do not verify is reported, never applied; one signed with a
/// key since revoked is read, with the signers named ([`SignedAgreement::revoked`]).
pub(super) fn read_agreement(
    e: &RegistryEntry,
    members: &[Member],
    state: Option<&RegistryState>,
) -> Result<SignedAgreement, RegistryError> {
    let corrupt = |why: String| RegistryError::Corrupt {
        kind: "agreement",
        id: e.id.clone(),
        why,
    };
    let document: AgreementDocument =
        serde_json::from_str(&e.document).map_err(|err| corrupt(err.to_string()))?;
    let status = AgreementStatus::parse(e.status.as_str())
        .ok_or_else(|| corrupt(format!("unknown status {:?}", e.status.as_str())))?;
    let revoked = document
        .verify_signatures(&e.document, members, state)
        .map_err(corrupt)?;
    // Only a document signed by every party is ever put in force (or suspended): one that
    // says so without the signatures was changed behind this node's back.
    if matches!(status, AgreementStatus::Active | AgreementStatus::Suspended)
        && !document.is_complete()
    {
        return Err(corrupt(format!(
            "it is marked {} but lacks the signatures of {}",
            status.as_str(),
            document.missing().join(", ")
        )));
    }
    let terms = document
        .to_policy(status)
        .map_err(|err| corrupt(err.to_string()))?;
    Ok(SignedAgreement {
        document,
        terms,
        revoked,
    })
}
