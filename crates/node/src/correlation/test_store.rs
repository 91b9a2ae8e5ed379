//! The world the correlation tests share: a real SQLite store with our collection and one
//! receiving a peer's objects, and viewers reading either or both through the release
//! TAXII reads use.

use std::collections::HashMap;

use comity_store::prelude::*;
use comity_store::{ApiRoot, Collection, CollectionRef, Role};
use comity_store_sqlite::SqliteStore;

use super::who_else::Reader;
use crate::policy::{Channel, MemberId, MemberStatus, Peer, Purpose};
use crate::registry::Federation;
use crate::release::Release;

pub(super) const LOCAL: &str = "identity--0a000000-0000-4000-8000-000000000001";
pub(super) const PEER: &str = "identity--0b000000-0000-4000-8000-000000000002";
const ROOT: &str = "r";

/// The collections: ours, and one receiving the peer's objects.
pub(super) fn collection(peer: bool) -> CollectionRef {
    CollectionRef {
        api_root: ROOT.into(),
        id: if peer { "from-peer" } else { "ours" }.into(),
    }
}

/// A store in `dir` holding both collections, empty.
pub(super) async fn store(dir: &std::path::Path) -> SqliteStore {
    let store = SqliteStore::open(dir).unwrap();
    store
        .create_api_root(ApiRoot {
            name: ROOT.into(),
            title: "r".into(),
            description: None,
            max_content_length: 1 << 20,
        })
        .await
        .unwrap();
    for peer in [false, true] {
        store
            .create_collection(Collection {
                id: collection(peer).id,
                api_root: ROOT.into(),
                title: "c".into(),
                description: None,
                view: None,
                origin: peer.then(|| PEER.to_owned()),
            })
            .await
            .unwrap();
    }
    store
}

/// This node and the peer, active, with no agreement.
pub(super) fn federation() -> Federation {
    let mut peers = HashMap::new();
    peers.insert(
        MemberId(PEER.into()),
        Peer {
            member: MemberId(PEER.into()),
            status: MemberStatus::Active,
            agreements: Vec::new(),
        },
    );
    Federation {
        local: Some(MemberId(LOCAL.into())),
        peers,
        ..Federation::default()
    }
}

/// A local viewer reading the collections marked readable (`[ours, the peer's]`).
pub(super) fn reader(readable: [bool; 2]) -> Reader {
    Reader::new(
        [false, true]
            .into_iter()
            .filter(|p| readable[usize::from(*p)])
            .map(|peer| {
                let release = Release::for_user(
                    federation(),
                    Role::Viewer,
                    Channel::TaxiiRead,
                    Purpose::Intelligence,
                )
                .from_origin(peer.then_some(PEER));
                (collection(peer), release)
            }),
    )
}
