//! Each node keeps its own registry state: agreement signatures verified on one node are
//! not taken as verified on another node in the same process, and a tampered document is
//! refused by every node whatever each verified before.

use std::sync::Arc;

use comity_store::{RegistryKind, Store};
use comity_store_sqlite::SqliteStore;

use crate::federation::agreement as agreements;
use crate::federation::test_nodes::{countersign, draft, node, pin, signer};
use crate::log::NodeLog;
use crate::policy::AgreementStatus;

/// A [`crate::Node`] over the database in `dir`, signing as node `seed`.
fn node_over(dir: &std::path::Path, seed: u8) -> crate::Node {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir).unwrap());
    crate::Node::with_log(store, NodeLog::new(signer(seed)).unwrap())
}

#[tokio::test]
async fn two_nodes_in_one_process_do_not_share_verified_agreements() {
    let (a, b) = (node(1).await, node(2).await);
    pin(&a, &b).await;
    pin(&b, &a).await;
    let doc = agreements::propose(
        &a.registry(),
        draft("CTI", &[&b.id], &["indicator"], "green"),
        a.log.node_key(),
        false,
    )
    .await
    .unwrap()
    .document;
    countersign(&a, &b, &doc, false).await;

    // Two nodes over A's database, as two servers in one process would be.
    let (one, two) = (node_over(a.dir.path(), 1), node_over(a.dir.path(), 1));
    let entry = one
        .store()
        .registry_entry(RegistryKind::Agreement, &doc.id)
        .await
        .unwrap()
        .unwrap();
    let text = entry.document.clone();
    assert!(!one.registry_state().verified(&text));
    assert!(!two.registry_state().verified(&text));

    // Verified on the first node: remembered there, not on the second.
    let held = one.directory().agreement(&doc.id).await.unwrap().unwrap();
    assert_eq!(held.terms.status, AgreementStatus::Active);
    assert!(one.registry_state().verified(&text));
    assert!(!two.registry_state().verified(&text));

    // Tampered with in the database: refused by both nodes, the one that verified the
    // genuine text included, and in force on neither.
    let mut tampered = entry.clone();
    tampered.document = text.replace("\"CTI\"", "\"CTI, all TLP levels\"");
    assert_ne!(tampered.document, text);
    one.store().update_registry_entry(&tampered).await.unwrap();
    for n in [&one, &two] {
        let e = n.directory().agreement(&doc.id).await.unwrap_err();
        assert!(e.to_string().contains("does not verify"), "{e}");
        let federation = n.view().federation().await.unwrap();
        let peer = &federation.peers[&crate::policy::MemberId(b.id.clone())];
        assert!(peer.agreements.is_empty());
        assert!(!n.registry_state().verified(&tampered.document));
    }
    assert!(!two.registry_state().verified(&text));

    // The genuine text back: the second node verifies it for itself.
    one.store().update_registry_entry(&entry).await.unwrap();
    let held = two.directory().agreement(&doc.id).await.unwrap().unwrap();
    assert_eq!(held.document.missing(), Vec::<String>::new());
    assert!(two.registry_state().verified(&text));
}
