//! Cancellation by the proposer and audits, between three nodes over real SQLite stores
//! carried through the real inbox: a cancellation reaches every node and ends the vote, or
//! is refused with its reason and changes nothing; an audit agrees with an honest peer's
//! dossier and catches an altered outcome, a forged ballot and a forged dossier.

use comity_stix::clock::now_us;

use super::audit::{self, Dossier, SignedDossier};
use super::service::{self, count_due};
use super::service_tests::{
    adopt, ballot, count_time, deliver, rules, send, tabled_at, with_rules, SECOND,
};
use super::*;
use crate::federation::inbox::Answer;
use crate::identity::signed;
use crate::test_peers::{peer, peers, reason_of, Peer};

/// Ten minutes of voting delay, so a proposal tabled now stays pending.
async fn with_delay(peers: &[&Peer]) {
    let rules = Rules {
        voting_delay_seconds: 600,
        ..rules()
    };
    for p in peers {
        service::set_initial_rules(&p.node, &rules, now_us() - SECOND)
            .await
            .unwrap();
    }
}

async fn log_size(p: &Peer) -> u64 {
    p.node.store().transparency_log().log_size().await.unwrap()
}

async fn state(p: &Peer, id: &str) -> ProposalState {
    service::show(p.node.store(), id, now_us())
        .await
        .unwrap()
        .state
}

#[tokio::test]
async fn the_proposer_cancels_while_pending_and_every_node_holds_it_canceled() {
    let [a, b, c] = peers::<3>().await;
    with_delay(&[&a, &b, &c]).await;
    let id = service::propose(&a.node, adopt("gge-13c"), now_us())
        .await
        .unwrap()
        .proposal
        .id;
    deliver(&a, &b).await;
    deliver(&a, &c).await;

    // Another member may not cancel it; nothing changes.
    let log_before = log_size(&b).await;
    let e = service::cancel(&b.node, &id, now_us()).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("only the proposer, {}, may cancel proposal {id}", a.id)
    );
    assert_eq!(b.node.store().cancellation(&id).await.unwrap(), None);
    assert_eq!(log_size(&b).await, log_before);
    assert_eq!(state(&b, &id).await, ProposalState::Pending);

    let log_before = log_size(&a).await;
    let shown = service::cancel(&a.node, &id, now_us()).await.unwrap();
    assert_eq!(shown.state, ProposalState::Canceled);
    assert_eq!(log_size(&a).await, log_before + 1);
    let again = service::cancel(&a.node, &id, now_us()).await.unwrap_err();
    assert!(
        again.to_string().contains("was canceled already"),
        "{again}"
    );
    deliver(&a, &b).await;
    deliver(&a, &c).await;
    for p in [&a, &b, &c] {
        assert_eq!(state(p, &id).await, ProposalState::Canceled);
        assert!(p.node.store().cancellation(&id).await.unwrap().is_some());
    }

    // No ballot is taken on it, and it is never counted.
    let voting = now_us() + 601 * SECOND;
    let e = service::vote(&b.node, &id, Choice::Yes, voting)
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("was canceled by its proposer"),
        "{e}"
    );
    assert!(b.node.store().ballots(&id).await.unwrap().is_empty());
    assert_eq!(count_due(c.node.store(), i64::MAX / 2).await.unwrap(), 0);
    assert_eq!(c.node.store().outcome(&id).await.unwrap(), None);
}

#[tokio::test]
async fn a_cancellation_late_forged_or_by_another_is_refused_and_changes_nothing() {
    // Once voting opened, the proposer may not cancel.
    let [a, b, c] = peers::<3>().await;
    with_rules(&[&a, &b, &c]).await;
    let open = service::propose(&a.node, adopt("gge-13d"), tabled_at())
        .await
        .unwrap()
        .proposal
        .id;
    let e = service::cancel(&a.node, &open, now_us()).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("proposal {open} can no longer be canceled: voting has opened")
    );
    assert_eq!(a.node.store().cancellation(&open).await.unwrap(), None);
    assert_eq!(state(&a, &open).await, ProposalState::Active);

    // Envelopes that carry a cancellation other than the proposer's, signed while pending.
    let [a, b, c] = peers::<3>().await;
    with_delay(&[&a, &b, &c]).await;
    let tabled = service::propose(&a.node, adopt("gge-13e"), now_us())
        .await
        .unwrap();
    let id = tabled.proposal.id.clone();
    deliver(&a, &b).await;
    let proposal = a.node.store().proposal(&id).await.unwrap().unwrap().json;
    let body = |c: &str| format!(r#"{{"proposal":{proposal},"cancellation":{c}}}"#);
    let a_key = a.node.log().node_key();
    let opens = tabled.proposal.voting_starts();
    let forger = peer(9).await;
    let cases = [
        (
            &a,
            Cancellation::sign(&id, &a.id, now_us(), forger.node.log().node_key()).json,
            "does not verify with the pinned key",
        ),
        (
            &a,
            Cancellation::sign(&id, &a.id, opens, a_key).json,
            "voting has opened",
        ),
        (
            &a,
            Cancellation::sign(&id, &a.id, now_us() + 3600 * SECOND, a_key).json,
            "voting has opened",
        ),
        (
            &a,
            Cancellation::sign(
                "proposal--00000000-0000-4000-8000-000000000009",
                &a.id,
                now_us(),
                a_key,
            )
            .json,
            "the cancellation is of proposal",
        ),
        (
            &a,
            Cancellation::sign(&id, &c.id, now_us(), c.node.log().node_key()).json,
            "was signed for",
        ),
        (
            &a,
            r#"{"v":1,"proposal":"x"}"#.to_owned(),
            "not a cancellation",
        ),
        (
            &c,
            Cancellation::sign(&id, &c.id, now_us(), c.node.log().node_key()).json,
            "was tabled by",
        ),
    ];
    for (from, text, reason) in cases {
        let answer = send(from, &b, body(&text)).await;
        assert!(reason_of(&answer).contains(reason), "{reason}: {answer:?}");
        assert_eq!(b.node.store().cancellation(&id).await.unwrap(), None);
    }
    assert_eq!(state(&b, &id).await, ProposalState::Pending);
    // A ballot and a cancellation in one envelope.
    let good = Cancellation::sign(&id, &a.id, now_us(), a_key).json;
    let both = format!(
        r#"{{"proposal":{proposal},"cancellation":{good},"ballot":{}}}"#,
        ballot(&id, &a, a_key, Choice::Yes, 1, now_us())
    );
    let answer = send(&a, &b, both).await;
    assert!(
        reason_of(&answer).contains("one act per envelope"),
        "{answer:?}"
    );
    // The proposer's own, signed while pending, is taken in once.
    assert!(matches!(
        send(&a, &b, body(&good)).await,
        Answer::Delivered(_)
    ));
    assert_eq!(state(&b, &id).await, ProposalState::Canceled);
    let other = Cancellation::sign(&id, &a.id, now_us() + 1, a_key).json;
    let answer = send(&a, &b, body(&other)).await;
    assert!(
        reason_of(&answer).contains("was canceled already"),
        "{answer:?}"
    );
}

/// `dossier` with its members changed by `change`, signed by `p`'s key.
fn resigned(p: &Peer, dossier: &Dossier, change: impl FnOnce(&mut Dossier)) -> String {
    let mut changed = dossier.clone();
    change(&mut changed);
    signed::sign(&changed, p.node.log().node_key()).0
}

#[tokio::test]
async fn an_audit_agrees_with_an_honest_peer_and_catches_an_altered_outcome_and_forgeries() {
    let [a, b, c] = peers::<3>().await;
    with_rules(&[&a, &b, &c]).await;
    let at = tabled_at();
    let id = service::propose(&a.node, adopt("gge-13f"), at)
        .await
        .unwrap()
        .proposal
        .id;
    let voting = at + 2 * SECOND;
    for (p, choice) in [(&a, Choice::Yes), (&b, Choice::Yes), (&c, Choice::No)] {
        deliver(&a, p).await;
        service::vote(&p.node, &id, choice, voting).await.unwrap();
    }
    for from in [&a, &b, &c] {
        for to in [&a, &b, &c] {
            if from.id != to.id {
                deliver(from, to).await;
            }
        }
    }
    for p in [&a, &b, &c] {
        assert_eq!(count_due(p.node.store(), count_time(at)).await.unwrap(), 1);
    }
    let held = audit::dossier(b.node.store(), b.node.log().node_key(), &id, now_us())
        .await
        .unwrap();
    assert_eq!(held.dossier.ballots.len(), 3);
    assert_eq!(SignedDossier::parse(&held.json).unwrap(), held);

    // An honest peer agrees.
    let report = audit::audit(a.node.store(), &b.id, &id, &held.json)
        .await
        .unwrap();
    assert!(report.agree, "{:?}", report.findings);
    assert_eq!(report.here.derived, report.there.derived);
    assert_eq!(report.there.claimed.as_ref(), Some(&report.there.derived));
    assert_eq!(report.there.derived.decision, Decision::Succeeded);

    // A peer that claims another outcome is caught, whatever its digest says.
    let lie = resigned(&b, &held.dossier, |d| {
        let o = d.outcome.as_mut().unwrap();
        o.decision = Decision::Defeated;
        o.yes = 1;
    });
    let report = audit::audit(a.node.store(), &b.id, &id, &lie)
        .await
        .unwrap();
    assert!(!report.agree);
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert!(
        report.findings[0].contains("claims the outcome defeated (yes 1, no 1")
            && report.findings[0].contains("which does not hash to its digest")
            && report.findings[0].contains("its own ballots give succeeded (yes 2, no 1"),
        "{}",
        report.findings[0]
    );

    // A ballot whose bytes were forged is evidence, not counted.
    let forger = peer(9).await;
    let forged = ballot(
        &id,
        &c,
        forger.node.log().node_key(),
        Choice::Yes,
        5,
        voting,
    );
    let with_forgery = resigned(&b, &held.dossier, |d| d.ballots.push(forged.clone()));
    let report = audit::audit(a.node.store(), &b.id, &id, &with_forgery)
        .await
        .unwrap();
    assert!(!report.agree);
    assert_eq!(report.forged.len(), 1);
    assert_eq!(report.forged[0].member.as_deref(), Some(c.id.as_str()));
    assert_eq!(report.only_there.len(), 1);
    assert_eq!(report.there.derived.yes, 2, "the forgery is not counted");
    assert!(report
        .findings
        .iter()
        .any(|f| f.contains("does not verify with") && f.contains("a forgery")));

    // A peer missing a ballot derives another outcome: the ballot is named.
    let missing = resigned(&b, &held.dossier, |d| {
        d.ballots.pop();
        d.outcome = None;
    });
    let report = audit::audit(a.node.store(), &b.id, &id, &missing)
        .await
        .unwrap();
    assert!(!report.agree);
    assert_eq!(report.only_here.len(), 1);
    assert!(
        report.findings[0].contains("the ballots"),
        "{:?}",
        report.findings
    );

    // A dossier not signed by the peer's pinned key, or naming another member, or not a
    // dossier, is refused.
    let unsigned = resigned(&forger, &held.dossier, |_| {});
    let e = audit::audit(a.node.store(), &b.id, &id, &unsigned)
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("does not verify with the pinned key"),
        "{e}"
    );
    let e = audit::audit(a.node.store(), &c.id, &id, &held.json)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("the dossier is from {}, not from {}", b.id, c.id)
    );
    for text in ["", "{", "[]", r#"{"v":1,"signature":"x"}"#] {
        let e = audit::audit(a.node.store(), &b.id, &id, text)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("is not a dossier"), "{text}: {e}");
    }
}
