use std::collections::BTreeSet;

use comity_stix::clock::now_us;

use super::*;
use crate::governance::service::{self, rules_in_force};
use crate::identity::NodeKey;
use crate::test_peers::{as_pinned, peer, peers, Peer};

fn rules() -> Rules {
    Rules {
        voting_delay_seconds: 3600,
        ..Rules::default()
    }
}

fn norms() -> Vec<FoundingNorm> {
    ["gge-2015-a", "gge-2015-f"]
        .iter()
        .map(|n| FoundingNorm {
            norm: (*n).into(),
            texts: [
                ("en".into(), format!("Norm {n} in English.")),
                ("fr".into(), format!("La norme {n} en français.")),
            ]
            .into(),
        })
        .collect()
}

/// As the file travels from one founder to the next.
fn passed(signed: &SignedGenesis) -> SignedGenesis {
    SignedGenesis::read(&serde_json::to_string_pretty(signed).unwrap()).unwrap()
}

/// A genesis drafted by `a` with `b` and `c`, signed by all three.
async fn signed_by_all(a: &Peer, b: &Peer, c: &Peer) -> SignedGenesis {
    let founders: BTreeSet<String> = [b.id.clone(), c.id.clone()].into();
    let drafted = draft(
        &a.node,
        "Test federation",
        &founders,
        rules(),
        norms(),
        now_us(),
    )
    .await
    .unwrap();
    let by_b = sign(&b.node, passed(&drafted)).await.unwrap();
    sign(&c.node, passed(&by_b)).await.unwrap()
}

async fn governance_of(p: &Peer) -> (Rules, Vec<(String, Value)>, Vec<(String, String)>) {
    let norms = service::norms(p.node.store())
        .await
        .unwrap()
        .into_iter()
        .map(|n| (n.norm, n.texts))
        .collect();
    let members = p
        .node
        .directory()
        .members()
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.id.0, m.record.public_key))
        .collect();
    (
        rules_in_force(p.node.store()).await.unwrap(),
        norms,
        members,
    )
}

#[tokio::test]
async fn founders_sign_in_turn_and_every_node_adopts_the_same_rules_norms_and_members() {
    let [a, b, c] = peers::<3>().await;
    let d = peer(4).await;
    let founders: BTreeSet<String> = [b.id.clone(), c.id.clone()].into();
    let drafted = draft(
        &a.node,
        "Test federation",
        &founders,
        rules(),
        norms(),
        now_us(),
    )
    .await
    .unwrap();
    assert_eq!(drafted.verify().unwrap().len(), 2);
    let e = adopt(&a.node, &drafted, now_us()).await.unwrap_err();
    assert!(e.to_string().contains("not signed yet by"), "{e}");
    let by_b = sign(&b.node, passed(&drafted)).await.unwrap();
    let e = sign(&b.node, passed(&by_b)).await.unwrap_err();
    assert!(e.to_string().contains("signed this genesis already"), "{e}");
    let e = sign(&d.node, passed(&by_b)).await.unwrap_err();
    assert!(e.to_string().contains("is not a founder"), "{e}");
    let all = sign(&c.node, passed(&by_b)).await.unwrap();
    assert!(all.verify().unwrap().is_empty());

    for p in [&a, &b, &c] {
        let adopted = adopt(&p.node, &passed(&all), now_us()).await.unwrap();
        assert!(adopted.pinned.is_empty(), "{adopted:?}");
        assert_eq!(adopted.norms, 2);
    }
    // A node that pins none of them joins by adopting it: it pins the three founders.
    let joined = adopt(&d.node, &passed(&all), now_us()).await.unwrap();
    let mut expected = vec![a.id.clone(), b.id.clone(), c.id.clone()];
    expected.sort();
    let mut pinned = joined.pinned.clone();
    pinned.sort();
    assert_eq!(pinned, expected);

    let (rules_a, norms_a, members_a) = governance_of(&a).await;
    assert_eq!(rules_a, rules());
    assert_eq!(norms_a.len(), 2);
    for p in [&b, &c, &d] {
        let (r, n, m) = governance_of(p).await;
        assert_eq!((&r, &n), (&rules_a, &norms_a));
        let founders_here: Vec<_> = m.into_iter().filter(|(id, _)| *id != d.id).collect();
        assert_eq!(founders_here, members_a);
    }
    // Adopted once: again is refused, and so is setting rules by hand.
    let e = adopt(&a.node, &all, now_us()).await.unwrap_err();
    assert!(e.to_string().contains("rules or proposals already"), "{e}");
    assert!(
        service::set_initial_rules(&a.node, &Rules::default(), now_us())
            .await
            .is_err()
    );
    assert_eq!(governance_of(&a).await.0, rules());
}

#[tokio::test]
async fn forged_changed_or_conflicting_geneses_change_nothing() {
    let [a, b, c] = peers::<3>().await;
    let all = signed_by_all(&a, &b, &c).await;
    let d = peer(4).await;
    let untouched = governance_of(&d).await;
    let refused = |s: SignedGenesis, says: &'static str| {
        let d = &d;
        async move {
            let e = adopt(&d.node, &s, now_us()).await.unwrap_err().to_string();
            assert!(e.contains(says), "{e} lacks {says:?}");
        }
    };
    // Changed after the founders signed.
    let mut changed = all.clone();
    changed.genesis.title = "Another federation".into();
    refused(changed, "does not verify").await;
    let mut more_norms = all.clone();
    more_norms.genesis.norms.pop();
    refused(more_norms, "does not verify").await;
    // A founder's signature made by another key, and a signature by a non-founder.
    let stranger = NodeKey::from_log_signer(&crate::federation::test_nodes::signer(9)).unwrap();
    let mut forged = all.clone();
    forged
        .signatures
        .insert(b.id.clone(), stranger.sign(&all.genesis.document()));
    refused(forged, "does not verify").await;
    let mut extra = all.clone();
    extra.signatures.insert(
        "identity--00000000-0000-4000-8000-000000000000".into(),
        stranger.sign(&all.genesis.document()),
    );
    refused(extra, "not a founder").await;
    assert_eq!(governance_of(&d).await, untouched, "nothing was adopted");

    // A founder pinned here under another key: refused, nothing pinned.
    let e = peer(5).await;
    let mut record = as_pinned(&b).await;
    record.public_key = stranger.public_key().to_string();
    e.node.registry().add_member(record).await.unwrap();
    let before = governance_of(&e).await;
    let err = adopt(&e.node, &all, now_us())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("pinned here with the key"), "{err}");
    assert_eq!(governance_of(&e).await, before);
}

#[test]
fn malformed_documents_are_refused_when_read() {
    let text = |v: serde_json::Value| SignedGenesis::read(&v.to_string()).unwrap_err().to_string();
    assert!(
        text(serde_json::json!({"genesis": {}, "signatures": {}})).contains("not a signed genesis")
    );
    assert!(SignedGenesis::read("{").is_err());
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(MAX_BYTES));
    assert!(SignedGenesis::read(&huge)
        .unwrap_err()
        .to_string()
        .contains("more than"));
}

#[tokio::test]
async fn a_document_that_breaks_its_rules_is_refused_with_the_rule() {
    let [a, b, c] = peers::<3>().await;
    let all = signed_by_all(&a, &b, &c).await;
    let reads = |g: &Genesis| {
        let text = serde_json::to_string(&SignedGenesis {
            genesis: g.clone(),
            signatures: Default::default(),
        })
        .unwrap();
        SignedGenesis::read(&text).unwrap_err().to_string()
    };
    let mut g = all.genesis.clone();
    g.format = "comity-genesis/v2".into();
    assert!(reads(&g).contains("format"));
    let mut g = all.genesis.clone();
    g.id = "genesis--1".into();
    assert!(reads(&g).contains("genesis--<UUID>"));
    let mut g = all.genesis.clone();
    g.founders.push(g.founders[0].clone());
    assert!(reads(&g).contains("named twice"));
    let mut g = all.genesis.clone();
    g.founders[1].endpoint = Some("http://cert.example".into());
    assert!(reads(&g).contains("plain http://"));
    let mut g = all.genesis.clone();
    g.norms.push(g.norms[0].clone());
    assert!(reads(&g).contains("adopted twice"));
    let mut g = all.genesis.clone();
    g.norms[0]
        .texts
        .insert("en".into(), "A \u{202E}reversed text".into());
    assert!(reads(&g).contains("U+202E"));
    let mut g = all.genesis.clone();
    g.founders.clear();
    assert!(reads(&g).contains("founders"));
    // Unknown members anywhere in the file.
    let mut v = serde_json::to_value(&all).unwrap();
    v["genesis"]["treasury"] = serde_json::json!(0);
    assert!(SignedGenesis::read(&v.to_string()).is_err());
}
