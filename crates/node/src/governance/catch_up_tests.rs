//! A node that joins later catches up with the history decided since the genesis, over
//! real SQLite stores: four nodes in one process, three founders deciding a norm, a rule
//! change, the late node's admission, a defeated statement tabled while the admission was
//! open, and an amendment; then the late node verifies and applies it, refusing every
//! forged, altered, omitted or reordered history with the reason and storing nothing past
//! the last good item.

use std::collections::BTreeSet;

use async_trait::async_trait;
use comity_stix::clock::now_us;

use super::catch_up::{catch_up, CatchUp, Pages};
use super::genesis::{adopt, draft, sign, FoundingNorm, SignedGenesis};
use super::history::{self, Page, SignedPage};
use super::service::{self, count_due, electorate_now, rules_in_force, NewProposal};
use super::service_tests::{count_time, deliver, rules, SECOND};
use super::*;
use crate::test_peers::{peer, peers, Peer};

/// A page as a peer might alter it before it signs it.
type Tamper = Box<dyn Fn(&mut Page) + Send + Sync>;

/// `peer`'s history read straight from its store, as its route serves it, at `now`;
/// altered by `tamper` (and signed again with the peer's key) when given.
struct Direct<'a> {
    peer: &'a Peer,
    now: i64,
    tamper: Option<Tamper>,
    signer: Option<&'a Peer>,
}

fn honest(peer: &Peer, now: i64) -> Direct<'_> {
    Direct {
        peer,
        now,
        tamper: None,
        signer: None,
    }
}

fn tampered(
    peer: &Peer,
    now: i64,
    tamper: impl Fn(&mut Page) + Send + Sync + 'static,
) -> Direct<'_> {
    Direct {
        tamper: Some(Box::new(tamper)),
        ..honest(peer, now)
    }
}

#[async_trait]
impl Pages for Direct<'_> {
    fn peer(&self) -> &str {
        &self.peer.id
    }

    async fn fetch(&self, after: Option<&str>) -> Result<String, String> {
        let key = self.peer.node.log().node_key();
        let page = history::page(self.peer.node.store(), key, after, self.now)
            .await
            .map_err(|e| e.to_string())?;
        if self.tamper.is_none() && self.signer.is_none() {
            return Ok(page.json);
        }
        let mut page = page.page;
        if let Some(t) = &self.tamper {
            t(&mut page);
        }
        let key = self.signer.unwrap_or(self.peer).node.log().node_key();
        Ok(SignedPage::sign(page, key).json)
    }
}

/// Three founders and a node that joins later, with the history they decided.
struct Federation {
    a: Peer,
    b: Peer,
    c: Peer,
    d: Peer,
    /// The decided proposals in decided order: a norm, a rule change, d's admission, a
    /// defeated statement, an amendment.
    decided: Vec<String>,
    /// When d catches up: every proposal counted.
    now: i64,
    /// The genesis they adopted.
    genesis: SignedGenesis,
}

fn texts(text: &str) -> Texts {
    [
        ("en".into(), text.into()),
        ("fr".into(), format!("« {text} »")),
    ]
    .into()
}

async fn genesis(a: &Peer, b: &Peer, c: &Peer) -> SignedGenesis {
    let founders: BTreeSet<String> = [b.id.clone(), c.id.clone()].into();
    let norms = vec![FoundingNorm {
        norm: "gge-2015-a".into(),
        texts: texts("States should cooperate."),
    }];
    let drafted = draft(
        &a.node,
        "Test federation",
        &founders,
        rules(),
        norms,
        now_us(),
    )
    .await
    .unwrap();
    let by_b = sign(&b.node, drafted).await.unwrap();
    sign(&c.node, by_b).await.unwrap()
}

async fn count_all(nodes: &[&Peer], at: i64) {
    for p in nodes {
        count_due(p.node.store(), at).await.unwrap();
    }
}

/// Tables `action` by `by` at `at` with `sponsors`, delivers it to the other founders,
/// casts `choices` (a, b, c) two seconds in and delivers every ballot.
async fn decide(
    f: [&Peer; 3],
    by: usize,
    action: Action,
    sponsors: &[&Peer],
    at: i64,
    choices: [Option<Choice>; 3],
) -> String {
    let new = NewProposal {
        action,
        sponsors: sponsors.iter().map(|p| p.id.clone()).collect(),
    };
    let id = service::propose(&f[by].node, new, at)
        .await
        .unwrap()
        .proposal
        .id;
    for to in f {
        if to.id != f[by].id {
            deliver(f[by], to).await;
        }
    }
    for (p, choice) in f.iter().zip(choices) {
        if let Some(choice) = choice {
            service::vote(&p.node, &id, choice, at + 2 * SECOND)
                .await
                .unwrap();
        }
    }
    for from in f {
        for to in f {
            if from.id != to.id {
                deliver(from, to).await;
            }
        }
    }
    id
}

async fn federation() -> Federation {
    let [a, b, c] = peers::<3>().await;
    let d = peer(4).await;
    let signed = genesis(&a, &b, &c).await;
    for p in [&a, &b, &c, &d] {
        adopt(&p.node, &signed, now_us()).await.unwrap();
    }
    let f = [&a, &b, &c];
    let yes = [Some(Choice::Yes); 3];
    let t0 = now_us() - 10 * SECOND;
    let norm = Action::AdoptNorm {
        norm: "gge-2015-f".into(),
        texts: texts("States should not harm critical infrastructure."),
    };
    let p1 = decide(f, 0, norm, &[], t0, yes).await;
    let t1 = count_time(t0) + SECOND;
    count_all(&f, t1).await;
    let changed = Rules {
        abstentions_count_toward_quorum: false,
        ..rules()
    };
    let p2 = decide(f, 1, Action::ChangeRules { rules: changed }, &[], t1, yes).await;
    let t2 = count_time(t1) + SECOND;
    count_all(&f, t2).await;
    let admit = Action::AdmitMember {
        member: d.id.clone(),
        public_key: d.node.log().node_key().public_key(),
        country: "ZZ".into(),
    };
    let p3 = decide(f, 0, admit, &[&b, &c], t2, yes).await;
    // Tabled while the admission is open, against the member set without d; defeated.
    let statement = Action::JointStatement {
        texts: texts("We condemn attacks on hospitals."),
    };
    let no = [Some(Choice::No), Some(Choice::No), None];
    let p4 = decide(f, 1, statement, &[], t2 + 20 * SECOND, no).await;
    let t3 = count_time(t2 + 20 * SECOND) + SECOND;
    count_all(&f, t3).await;
    let amend = Action::AmendNorm {
        norm: "gge-2015-f".into(),
        texts: texts("States should never harm critical infrastructure."),
    };
    let p5 = decide(f, 2, amend, &[], t3, yes).await;
    let now = count_time(t3) + SECOND;
    count_all(&f, now).await;
    Federation {
        a,
        b,
        c,
        d,
        decided: vec![p1, p2, p3, p4, p5],
        now,
        genesis: signed,
    }
}

/// What a node's governance comes to: its rules' digest, its member set's digest, its
/// norms, and each decided proposal with its outcome digest and execution.
async fn governance_of(
    p: &Peer,
) -> (
    String,
    String,
    Vec<NormView>,
    Vec<(String, String, String, bool)>,
) {
    let store = p.node.store();
    let decided = store
        .decided(None, usize::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|r| async move {
            let o = store.outcome(&r.id).await.unwrap().unwrap();
            (r.id, r.sha256, o.digest, o.executed_at.is_some())
        });
    let mut outcomes = Vec::new();
    for d in decided {
        outcomes.push(d.await);
    }
    (
        rules_in_force(store).await.unwrap().digest(),
        electorate_now(store).await.unwrap().digest(),
        service::norms(store)
            .await
            .unwrap()
            .into_iter()
            .map(|n| NormView {
                // A norm of the genesis takes effect when each node adopts it.
                at: if n.proposal.starts_with("genesis--") {
                    String::new()
                } else {
                    n.at
                },
                ..n
            })
            .collect(),
        outcomes,
    )
}

async fn run(f: &Federation, sources: &[&dyn Pages]) -> CatchUp {
    catch_up(&f.d.node, sources, f.now, &mut |_| {})
        .await
        .unwrap()
}

async fn held(p: &Peer) -> Vec<String> {
    let mut ids: Vec<String> = p
        .node
        .store()
        .decided(None, usize::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

/// The stop's reason, asserting where it stopped.
fn reason(report: &CatchUp, peer: &Peer, proposal: Option<&String>) -> String {
    let stop = report.stopped.as_ref().expect("the catch-up stopped");
    assert_eq!(stop.peer, peer.id, "{stop:?}");
    assert_eq!(stop.proposal.as_ref(), proposal, "{stop:?}");
    stop.reason.clone()
}

#[tokio::test]
async fn a_late_node_catches_up_refusing_every_forged_altered_omitted_or_reordered_history() {
    let f = federation().await;
    let (b, d, ids) = (&f.b, &f.d, &f.decided);
    // Before: d's rules are not those in force, so it refuses what its peers table now.
    assert_ne!(governance_of(d).await.0, governance_of(&f.a).await.0);

    // A ballot signed by another key than its member's: nothing is stored.
    let forged = tampered(b, f.now, |page| {
        let text = &mut page.items[0].ballots[0];
        let ballot = SignedBallot::parse(text).unwrap().ballot;
        *text = ballot.sign(&super::tests::key(99)).unwrap().json;
    });
    let report = run(&f, &[&forged]).await;
    let why = reason(&report, b, Some(&ids[0]));
    assert!(
        why.contains("is refused: the signature does not verify with the member's pinned key"),
        "{why}"
    );
    assert!(d.node.store().proposals(10).await.unwrap().is_empty());

    // A tally that does not add up.
    let altered = tampered(b, f.now, |page| page.items[0].outcome.yes -= 1);
    let why = reason(&run(&f, &[&altered]).await, b, Some(&ids[0]));
    assert!(
        why.contains("is not what its ballots give: succeeded (yes 3"),
        "{why}"
    );
    assert!(why.contains("which does not hash to its digest"), "{why}");
    assert!(d.node.store().proposals(10).await.unwrap().is_empty());

    // A page not signed by the peer's pinned key.
    let stranger = Direct {
        signer: Some(&f.c),
        ..honest(b, f.now)
    };
    let why = reason(&run(&f, &[&stranger]).await, b, None);
    assert!(
        why.contains("does not verify with the pinned key of"),
        "{why}"
    );

    // The rule change omitted: the admission was tabled under rules not in force then. The
    // norm before it stays applied, nothing after it is stored.
    let omitted = tampered(b, f.now, |page| {
        page.items.remove(1);
    });
    let report = run(&f, &[&omitted]).await;
    let why = reason(&report, b, Some(&ids[2]));
    assert!(why.contains("was tabled under rules (sha256"), "{why}");
    assert!(why.contains("other than those in force then"), "{why}");
    assert_eq!(report.applied.len(), 1);
    assert_eq!(held(d).await, sorted(&ids[..1]));
    assert_eq!(service::norms(d.node.store()).await.unwrap().len(), 2);

    // Reordered: the same refusal; the norm, held now, is verified again, not applied.
    let reordered = tampered(b, f.now, |page| page.items.swap(1, 2));
    let report = run(&f, &[&reordered]).await;
    assert!(reason(&report, b, Some(&ids[2])).contains("other than those in force then"));
    assert_eq!((report.held, report.applied.len()), (1, 0));

    // The rule change altered after its proposer signed it.
    let resigned = tampered(b, f.now, |page| {
        let text = page.items[1].proposal.clone();
        page.items[1].proposal = text.replace(
            "\"abstentions_count_toward_quorum\":false",
            "\"abstentions_count_toward_quorum\":true",
        );
        assert_ne!(page.items[1].proposal, text);
    });
    let why = reason(&run(&f, &[&resigned]).await, b, Some(&ids[1]));
    assert!(
        why.contains("the proposal's signature does not verify with the key of"),
        "{why}"
    );
    assert!(why.contains("pinned then"), "{why}");

    // An effect that differs: the rule change claimed not executed.
    let unexecuted = tampered(b, f.now, |page| page.items[1].executed = false);
    let why = reason(&run(&f, &[&unexecuted]).await, b, Some(&ids[1]));
    assert!(
        why.contains("was not executed, but it is executed here"),
        "{why}"
    );
    assert_eq!(held(d).await, sorted(&ids[..1]));
    assert_eq!(rules_in_force(d.node.store()).await.unwrap(), rules());

    // Two peers that disagree: c's history lacks the defeated statement. What both list
    // before it is applied, nothing after.
    let lacking = tampered(&f.c, f.now, |page| {
        page.items.remove(3);
    });
    let b_honest = honest(b, f.now);
    let report = run(&f, &[&b_honest, &lacking]).await;
    let why = reason(&report, &f.c, Some(&ids[3]));
    assert!(
        why.contains(&format!("{} lists proposal {}", b.id, ids[3])),
        "{why}"
    );
    assert_eq!(held(d).await, sorted(&ids[..3]));

    // The honest history, from two peers that agree: d ends with the same rules, member
    // set, norms and outcomes as every founder.
    let c_honest = honest(&f.c, f.now);
    let mut seen = Vec::new();
    let report = catch_up(&d.node, &[&b_honest, &c_honest], f.now, &mut |p| {
        seen.push(p.verified)
    })
    .await
    .unwrap();
    assert_eq!(report.stopped, None, "{report:?}");
    assert_eq!((report.verified, report.held), (5, 3));
    let applied: Vec<&String> = report.applied.iter().map(|a| &a.proposal).collect();
    assert_eq!(applied, vec![&ids[3], &ids[4]]);
    assert_eq!(seen, vec![1, 2, 3, 4, 5]);
    let expected = governance_of(&f.a).await;
    assert_eq!(expected.3.len(), 5);
    for p in [&f.b, &f.c, d] {
        assert_eq!(governance_of(p).await, expected);
    }
    // The ballots are kept as the nodes that took part keep theirs.
    assert_eq!(
        store_ballots(d, &ids[4]).await,
        store_ballots(&f.a, &ids[4]).await
    );

    // Again: nothing new.
    let again = run(&f, &[&b_honest]).await;
    assert_eq!((again.verified, again.held, again.applied.len()), (5, 5, 0));
    assert_eq!(again.stopped, None);
    assert_eq!(governance_of(d).await, expected);

    // d takes part now: a proposal tabled after the history reaches it and is taken in.
    let next = NewProposal {
        action: Action::AdoptNorm {
            norm: "gge-2015-g".into(),
            texts: texts("States should protect the integrity of supply chains."),
        },
        sponsors: Default::default(),
    };
    let id = service::propose(&f.a.node, next, f.now)
        .await
        .unwrap()
        .proposal
        .id;
    // (Sealed envelopes reach d once a pins the encryption key of d's own record; the
    // inbox then takes the proposal in as here.)
    let text = f.a.node.store().proposal(&id).await.unwrap().unwrap().json;
    let fresh = service::take_in(d.node.store(), &f.a.id, &text, service::Carried::Nothing)
        .await
        .unwrap();
    assert!(fresh);
}

/// The ballot texts `p` holds on `id`, in order.
async fn store_ballots(p: &Peer, id: &str) -> Vec<String> {
    let mut texts: Vec<String> = p
        .node
        .store()
        .ballots(id)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.json)
        .collect();
    texts.sort();
    texts
}

#[tokio::test]
async fn an_open_proposal_is_no_history_and_any_node_of_the_genesis_derives_the_same_rules() {
    let f = federation().await;
    // Not yet decided: a peer cannot pass off a proposal still open here as decided; what
    // came before it is applied.
    let b_honest = honest(&f.b, f.now);
    let early = catch_up(&f.d.node, &[&b_honest], f.now - 60 * SECOND, &mut |_| {})
        .await
        .unwrap();
    let why = reason(&early, &f.b, Some(&f.decided[4]));
    assert!(why.contains("is not decided yet"), "{why}");
    assert_eq!(early.applied.len(), 4);
    // A node of the same genesis that the history does not admit (the peer's route would
    // refuse it; here it reads the store) derives the same rules and norms.
    let e = peer(5).await;
    adopt(&e.node, &f.genesis, now_us()).await.unwrap();
    let report = catch_up(&e.node, &[&b_honest], f.now, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(report.stopped, None, "{report:?}");
    let (theirs, ours) = (governance_of(&f.a).await, governance_of(&e).await);
    assert_eq!(
        (&ours.0, &ours.2, &ours.3),
        (&theirs.0, &theirs.2, &theirs.3)
    );
    // Its own member, which no history names, is the one difference in its member set.
    assert_ne!(ours.1, theirs.1);
    // A peer it names twice, or itself, is refused before anything is read.
    let e_itself = honest(&e, f.now);
    for sources in [vec![&b_honest as &dyn Pages, &b_honest], vec![&e_itself]] {
        let refused = catch_up(&e.node, &sources, f.now, &mut |_| {}).await;
        assert!(refused
            .unwrap_err()
            .to_string()
            .contains("this node's member or named twice"));
    }
}
