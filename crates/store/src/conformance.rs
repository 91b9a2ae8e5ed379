//! The conformance suite every [`Store`] backend must pass. A backend's tests invoke
//! [`conformance_tests!`](crate::conformance_tests), which makes one test per check, each
//! on a fresh, empty store (see [`checks`]); [`run_all`] runs every check in order on one
//! store. Each check names the behaviour it pins down.

use crate::*;

const ROOT: &str = "conformance";
const COLLECTION: &str = "2f6a4f1e-6b8b-4c67-9b1a-3f1d4d9a0c01";

fn indicator(uuid_tail: u32, modified: &str) -> NewObject {
    let id = format!("indicator--00000000-0000-4000-8000-{uuid_tail:012}");
    NewObject {
        json: format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2020-01-01T00:00:00.000Z","modified":"{modified}","pattern":"[ipv4-addr:value = '10.0.0.1']","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"}}"#
        ),
        id,
        object_type: "indicator".into(),
        version: modified.into(),
        version_key: modified.replace(".000Z", ".000000000Z"),
        spec_version: "2.1".into(),
        values: Vec::new(),
    }
}

fn collection() -> CollectionRef {
    CollectionRef {
        api_root: ROOT.into(),
        id: COLLECTION.into(),
    }
}

/// Creates one API root and one collection; used by [`run_all`] and by backends' own tests.
pub async fn seed_small(store: &dyn Store) {
    store
        .create_api_root(ApiRoot {
            name: ROOT.into(),
            title: "Conformance".into(),
            description: None,
            max_content_length: 1 << 20,
        })
        .await
        .unwrap();
    store
        .create_collection(Collection {
            id: COLLECTION.into(),
            api_root: ROOT.into(),
            title: "c".into(),
            description: Some("d".into()),
            view: None,
            origin: None,
        })
        .await
        .unwrap();
}

/// Runs every check in order on an empty store.
pub async fn run_all(store: &dyn Store) {
    seed_small(store).await;
    roots_and_collections(store).await;
    adding_is_idempotent_and_dates_increase(store).await;
    version_flags_follow_modified(store).await;
    filters_select_exactly(store).await;
    paging_neither_skips_nor_repeats(store).await;
    deleting_rederives_first_and_last(store).await;
    statuses_round_trip(store).await;
    users_and_grants(store).await;
    node_secret_is_stable(store).await;
    tokens_round_trip(store).await;
    registry_round_trip(store).await;
    views_round_trip(store).await;
    roles_change(store).await;
    transparency_log(store, store.transparency_log()).await;
    origins_round_trip(store).await;
    federation(store).await;
    meta_version_follows_what_servers_cache(store).await;
    one_time_ids_are_used_once_until_they_expire(store).await;
    collections_are_federated_only_when_turned_on(store).await;
    requests(store).await;
    value_postings_follow_their_versions(store).await;
    reindexing_replaces_each_versions_postings(store).await;
    feeds_round_trip(store).await;
    feed_values_are_replaced_with_the_state(store).await;
    governance_acts_are_written_once_with_log_and_envelopes(store).await;
    governance_outcomes_apply_their_effect_or_nothing(store).await;
    governance_cancellations_are_stored_once_and_end_voting(store).await;
    governance_decided_proposals_are_stored_whole_or_not_at_all(store).await;
    object_texts_come_back_byte_for_byte(store).await;
}

/// The request checks, run by [`run_all`].
async fn requests(store: &dyn Store) {
    // First: it lists every request of the store.
    requests_filter_and_page_exactly(store).await;
    request_drafts_are_replaced_only_while_drafts(store).await;
    request_events_append_in_order_with_log_and_envelope(store).await;
    request_replays_and_conflicts_change_nothing(store).await;
    attachment_transfers_are_kept_with_their_event_until_ended(store).await;
    request_appends_race_one_winner(store, store).await;
}

async fn roots_and_collections(store: &dyn Store) {
    let root = store.api_root(ROOT).await.unwrap().unwrap();
    assert_eq!(root.max_content_length, 1 << 20);
    assert!(store.api_root("missing").await.unwrap().is_none());
    let dup = store
        .create_api_root(ApiRoot {
            name: ROOT.into(),
            title: "again".into(),
            description: None,
            max_content_length: 1,
        })
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    let orphan = store
        .create_collection(Collection {
            id: COLLECTION.into(),
            api_root: "missing".into(),
            title: "x".into(),
            description: None,
            view: None,
            origin: None,
        })
        .await;
    assert!(matches!(orphan, Err(StoreError::NotFound(_))), "{orphan:?}");
    let cols = store.collections(ROOT).await.unwrap();
    assert_eq!(cols.len(), 1);
    assert_eq!(cols[0].description.as_deref(), Some("d"));
    assert!(store.collection(ROOT, "nope").await.unwrap().is_none());
    let missing = CollectionRef {
        api_root: ROOT.into(),
        id: "nope".into(),
    };
    let page = PageRequest {
        limit: 10,
        after: None,
    };
    let r = store
        .objects(&missing, &ObjectFilter::default(), &page)
        .await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
}

async fn adding_is_idempotent_and_dates_increase(store: &dyn Store) {
    let col = collection();
    let batch = vec![
        indicator(1, "2020-01-01T00:00:00.000Z"),
        indicator(2, "2020-01-01T00:00:00.000Z"),
    ];
    let out = store.add_objects(&col, batch.clone()).await.unwrap();
    let dates: Vec<i64> = out
        .iter()
        .map(|o| match o {
            AddOutcome::Added { date_added } => *date_added,
            other => panic!("expected Added, got {other:?}"),
        })
        .collect();
    assert!(dates[0] < dates[1]);
    let again = store.add_objects(&col, batch).await.unwrap();
    assert_eq!(again, vec![AddOutcome::AlreadyStored; 2]);
    let mut changed = indicator(1, "2020-01-01T00:00:00.000Z");
    changed.json = changed.json.replace("10.0.0.1", "10.0.0.2");
    let conflict = store.add_objects(&col, vec![changed]).await.unwrap();
    assert_eq!(conflict, vec![AddOutcome::ConflictingVersion]);
    let later = store
        .add_objects(&col, vec![indicator(3, "2020-01-01T00:00:00.000Z")])
        .await
        .unwrap();
    match later[0] {
        AddOutcome::Added { date_added } => assert!(date_added > dates[1]),
        ref other => panic!("expected Added, got {other:?}"),
    }
    assert_eq!(store.count_objects(&col).await.unwrap(), 3);
}

async fn ids_of(store: &dyn Store, filter: &ObjectFilter) -> Vec<(String, String)> {
    let page = PageRequest {
        limit: 1000,
        after: None,
    };
    store
        .objects(&collection(), filter, &page)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|o| (o.id, o.version))
        .collect()
}

async fn version_flags_follow_modified(store: &dyn Store) {
    let col = collection();
    // Versions arrive out of order: middle, newest, oldest.
    for m in [
        "2021-06-01T00:00:00.000Z",
        "2022-01-01T00:00:00.000Z",
        "2020-06-01T00:00:00.000Z",
    ] {
        store
            .add_objects(&col, vec![indicator(10, m)])
            .await
            .unwrap();
    }
    let id = indicator(10, "").id;
    let only = |versions| ObjectFilter {
        ids: vec![id.clone()],
        versions,
        ..ObjectFilter::default()
    };
    let last = ids_of(store, &only(VersionFilter::last())).await;
    assert_eq!(last, vec![(id.clone(), "2022-01-01T00:00:00.000Z".into())]);
    let first = ids_of(
        store,
        &only(VersionFilter {
            first: true,
            ..VersionFilter::default()
        }),
    )
    .await;
    assert_eq!(first, vec![(id.clone(), "2020-06-01T00:00:00.000Z".into())]);
    assert_eq!(ids_of(store, &only(VersionFilter::all())).await.len(), 3);
    let at = ids_of(
        store,
        &only(VersionFilter {
            at: vec!["2021-06-01T00:00:00.000000000Z".into()],
            ..VersionFilter::default()
        }),
    )
    .await;
    assert_eq!(at, vec![(id, "2021-06-01T00:00:00.000Z".into())]);
}

async fn filters_select_exactly(store: &dyn Store) {
    let col = collection();
    let mut sco = NewObject {
        id: "ipv4-addr--ff000000-0000-4000-8000-000000000001".into(),
        object_type: "ipv4-addr".into(),
        version: String::new(),
        version_key: String::new(),
        spec_version: "2.1".into(),
        json: String::new(),
        values: Vec::new(),
    };
    sco.json = format!(
        r#"{{"type":"ipv4-addr","id":"{}","value":"10.0.0.1"}}"#,
        sco.id
    );
    let added = store.add_objects(&col, vec![sco.clone()]).await.unwrap();
    let AddOutcome::Added { date_added } = added[0] else {
        panic!("expected Added, got {added:?}");
    };
    let by_type = ids_of(
        store,
        &ObjectFilter {
            types: vec!["ipv4-addr".into()],
            versions: VersionFilter::last(),
            ..ObjectFilter::default()
        },
    )
    .await;
    assert_eq!(by_type, vec![(sco.id.clone(), String::new())]);
    let two_types = ids_of(
        store,
        &ObjectFilter {
            types: vec!["ipv4-addr".into(), "indicator".into()],
            versions: VersionFilter::last(),
            ..ObjectFilter::default()
        },
    )
    .await;
    assert_eq!(two_types.len(), 5);
    let after = ids_of(
        store,
        &ObjectFilter {
            added_after: Some(date_added - 1),
            versions: VersionFilter::all(),
            ..ObjectFilter::default()
        },
    )
    .await;
    assert_eq!(after, vec![(sco.id.clone(), String::new())]);
    let none = ids_of(
        store,
        &ObjectFilter {
            added_after: Some(date_added),
            versions: VersionFilter::all(),
            ..ObjectFilter::default()
        },
    )
    .await;
    assert!(none.is_empty());
    let spec20 = ids_of(
        store,
        &ObjectFilter {
            spec_versions: vec!["2.0".into()],
            versions: VersionFilter::all(),
            ..ObjectFilter::default()
        },
    )
    .await;
    assert!(spec20.is_empty());
    let hostile = ids_of(
        store,
        &ObjectFilter {
            ids: vec!["x' OR '1'='1".into()],
            versions: VersionFilter::all(),
            ..ObjectFilter::default()
        },
    )
    .await;
    assert!(hostile.is_empty());
}

async fn paging_neither_skips_nor_repeats(store: &dyn Store) {
    let col = collection();
    let batch: Vec<NewObject> = (100..350)
        .map(|i| indicator(i, "2020-01-01T00:00:00.000Z"))
        .collect();
    store.add_objects(&col, batch).await.unwrap();
    let filter = ObjectFilter {
        versions: VersionFilter::all(),
        ..ObjectFilter::default()
    };
    let total = store.count_objects(&col).await.unwrap() as usize;
    let mut seen = std::collections::HashSet::new();
    let mut after = None;
    let mut last_date = i64::MIN;
    loop {
        let page = store
            .objects(&col, &filter, &PageRequest { limit: 37, after })
            .await
            .unwrap();
        for o in &page.items {
            assert!(o.date_added > last_date, "date_added must increase");
            last_date = o.date_added;
            assert!(
                seen.insert((o.id.clone(), o.version.clone())),
                "repeated {}",
                o.id
            );
        }
        match page.next {
            Some(cursor) => after = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen.len(), total);
}

async fn deleting_rederives_first_and_last(store: &dyn Store) {
    let col = collection();
    let id = indicator(10, "").id;
    let newest = ObjectFilter {
        versions: VersionFilter {
            at: vec!["2022-01-01T00:00:00.000000000Z".into()],
            ..VersionFilter::default()
        },
        ..ObjectFilter::default()
    };
    assert_eq!(store.delete_object(&col, &id, &newest).await.unwrap(), 1);
    let last = ids_of(
        store,
        &ObjectFilter {
            ids: vec![id.clone()],
            versions: VersionFilter::last(),
            ..ObjectFilter::default()
        },
    )
    .await;
    assert_eq!(last, vec![(id.clone(), "2021-06-01T00:00:00.000Z".into())]);
    assert_eq!(
        store
            .delete_object(
                &col,
                &id,
                &ObjectFilter {
                    versions: VersionFilter::all(),
                    ..ObjectFilter::default()
                }
            )
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .delete_object(&col, "indicator--missing", &ObjectFilter::default())
            .await
            .unwrap(),
        0
    );
}

async fn statuses_round_trip(store: &dyn Store) {
    let status = Status {
        id: "1b9a5b3c-0000-4000-8000-000000000001".into(),
        api_root: ROOT.into(),
        status: "complete".into(),
        request_timestamp: "2026-01-01T00:00:00.000000Z".into(),
        created_us: 1,
        successes: vec![StatusDetail {
            id: "indicator--x".into(),
            version: "v".into(),
            message: None,
        }],
        failures: vec![StatusDetail {
            id: "1".into(),
            version: String::new(),
            message: Some("why".into()),
        }],
        pendings: vec![],
        poster: Some("ana".into()),
    };
    store.put_status(&status).await.unwrap();
    assert_eq!(
        store.status(ROOT, &status.id).await.unwrap(),
        Some(status.clone())
    );
    assert_eq!(store.status("other", &status.id).await.unwrap(), None);
}

async fn users_and_grants(store: &dyn Store) {
    let user = User {
        name: "ana".into(),
        role: Role::Analyst,
        password_hash: "$argon2id$x".into(),
    };
    store.create_user(user.clone()).await.unwrap();
    assert!(matches!(
        store.create_user(user.clone()).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.user("ana").await.unwrap(), Some(user));
    store.set_password_hash("ana", "$argon2id$y").await.unwrap();
    assert_eq!(
        store.user("ana").await.unwrap().unwrap().password_hash,
        "$argon2id$y"
    );
    assert!(matches!(
        store.set_password_hash("nobody", "h").await,
        Err(StoreError::NotFound(_))
    ));
    let col = collection();
    assert_eq!(store.access(&col, "ana").await.unwrap(), Access::default());
    let rw = Access {
        read: true,
        write: true,
    };
    store.grant(&col, "ana", rw).await.unwrap();
    assert_eq!(store.access(&col, "ana").await.unwrap(), rw);
    assert!(matches!(
        store.grant(&col, "nobody", rw).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.users().await.unwrap().len(), 1);
}

async fn node_secret_is_stable(store: &dyn Store) {
    let a = store.node_secret("paging", [7; 32]).await.unwrap();
    let b = store.node_secret("paging", [9; 32]).await.unwrap();
    assert_eq!(a, [7; 32]);
    assert_eq!(a, b);
}

/// A token as an issuer would store it; `n` varies the secret hash.
fn token(id: &str, created_at: i64, n: u8) -> ApiToken {
    // Every byte value class: zero, high bit, 0xff.
    let mut secret_sha256 = [0u8; 32];
    for (i, b) in secret_sha256.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(n);
    }
    secret_sha256[0] = 0;
    secret_sha256[31] = 0xff;
    ApiToken {
        id: id.into(),
        label: format!("label of {id}"),
        user: "ana".into(),
        member: None,
        secret_sha256,
        created_at,
        expires_at: None,
        revoked_at: None,
    }
}

async fn tokens_round_trip(store: &dyn Store) {
    const T0: i64 = 1_767_225_600_000_000;
    assert!(store.tokens().await.unwrap().is_empty());
    let plain = token("tok-1", T0 + 2, 1);
    let member = ApiToken {
        label: "misp sync \"ünïcode\"".into(),
        member: Some("identity--7b1c2d3e-0000-4000-8000-000000000001".into()),
        expires_at: Some(T0 + 86_400_000_000),
        ..token("tok-3", T0 + 1, 2)
    };
    let tied = token("tok-2", T0 + 1, 3);
    let born_revoked = ApiToken {
        revoked_at: Some(T0 + 5),
        ..token("tok-4", T0 + 3, 4)
    };
    for t in [&plain, &member, &tied, &born_revoked] {
        store.create_token(t).await.unwrap();
    }
    assert_eq!(store.token("tok-1").await.unwrap(), Some(plain.clone()));
    assert_eq!(store.token("tok-3").await.unwrap(), Some(member.clone()));
    assert_eq!(
        store.token("tok-4").await.unwrap(),
        Some(born_revoked.clone())
    );
    assert_eq!(store.token("tok-9").await.unwrap(), None);
    // By created_at, then id: neither the order of creation nor that of ids alone.
    assert_eq!(
        store.tokens().await.unwrap(),
        vec![
            tied.clone(),
            member.clone(),
            plain.clone(),
            born_revoked.clone()
        ]
    );
    let dup = store
        .create_token(&ApiToken {
            label: "impostor".into(),
            ..token("tok-1", T0 + 9, 9)
        })
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    assert_eq!(store.token("tok-1").await.unwrap(), Some(plain.clone()));

    assert!(store.revoke_token("tok-3", T0 + 10).await.unwrap());
    assert!(!store.revoke_token("tok-3", T0 + 20).await.unwrap());
    assert!(!store.revoke_token("tok-4", T0 + 20).await.unwrap());
    let revoked = ApiToken {
        revoked_at: Some(T0 + 10),
        ..member
    };
    assert_eq!(store.token("tok-3").await.unwrap(), Some(revoked.clone()));
    assert_eq!(
        store.token("tok-4").await.unwrap(),
        Some(born_revoked.clone())
    );
    let r = store.revoke_token("tok-9", T0 + 10).await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    // Revoking one token touches no other.
    assert_eq!(
        store.tokens().await.unwrap(),
        vec![tied, revoked, plain, born_revoked]
    );
}

fn entry(kind: RegistryKind, id: &str, status: &str, document: &str, at: i64) -> RegistryEntry {
    RegistryEntry {
        kind,
        id: id.into(),
        status: status.parse().unwrap(),
        document: document.into(),
        updated_at: at,
    }
}

async fn registry_round_trip(store: &dyn Store) {
    use RegistryKind::{Agreement, Member};
    const A: &str = "identity--aaaaaaaa-0000-4000-8000-000000000001";
    const B: &str = "identity--bbbbbbbb-0000-4000-8000-000000000002";
    const UPPER: &str = "identity--CCCCCCCC-0000-4000-8000-000000000003";
    // Unicode, escaped and raw quotes, a backslash, a newline, spacing kept as written.
    let tricky = "{ \"name\": \"CERT Zürich — «ops» 🛡\",\n  \"note\": \"it's \\\"quoted\\\" \\\\ \\u00e9\" }";
    assert!(store.registry(Member).await.unwrap().is_empty());
    let b = entry(Member, B, "active", tricky, 10);
    let a = entry(Member, A, "suspended", r#"{"id":"a"}"#, 11);
    let upper = entry(Member, UPPER, "active", "{}", 12);
    let pact = entry(Agreement, B, "proposed", r#"{"parties":["a","b"]}"#, 13);
    for e in [&b, &a, &upper, &pact] {
        store.add_registry_entry(e).await.unwrap();
    }
    assert_eq!(
        store.registry_entry(Member, B).await.unwrap(),
        Some(b.clone())
    );
    assert_eq!(
        store.registry_entry(Agreement, B).await.unwrap(),
        Some(pact.clone())
    );
    assert_eq!(store.registry_entry(Agreement, A).await.unwrap(), None);
    // By id, byte-wise: upper case sorts before lower case.
    assert_eq!(
        store.registry(Member).await.unwrap(),
        vec![upper.clone(), a.clone(), b.clone()]
    );
    assert_eq!(store.registry(Agreement).await.unwrap(), vec![pact.clone()]);

    let dup = store
        .add_registry_entry(&entry(Member, B, "active", "{}", 99))
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    assert_eq!(store.registry_entry(Member, B).await.unwrap(), Some(b));

    let suspended = entry(Member, B, "suspended", r#"{"why":"ÿ \"late\""}"#, 20);
    store.update_registry_entry(&suspended).await.unwrap();
    assert_eq!(
        store.registry_entry(Member, B).await.unwrap(),
        Some(suspended.clone())
    );
    assert_eq!(
        store.registry_entry(Agreement, B).await.unwrap(),
        Some(pact.clone()),
        "an update touches one kind only"
    );
    // A compare and swap replaces only what it expects.
    let stale = entry(Member, B, "active", "{}", 10);
    let swapped = entry(Member, B, "suspended", r#"{"v":2}"#, 30);
    assert!(!store
        .replace_registry_entry(&swapped, &stale)
        .await
        .unwrap());
    assert_eq!(
        store.registry_entry(Member, B).await.unwrap(),
        Some(suspended.clone()),
        "a stale compare and swap changes nothing"
    );
    assert!(store
        .replace_registry_entry(&swapped, &suspended)
        .await
        .unwrap());
    assert_eq!(
        store.registry_entry(Member, B).await.unwrap(),
        Some(swapped.clone())
    );
    assert!(!store
        .replace_registry_entry(&suspended, &suspended)
        .await
        .unwrap());
    assert!(
        !store
            .replace_registry_entry(&entry(Agreement, A, "active", "{}", 21), &pact)
            .await
            .unwrap(),
        "no such entry"
    );
    store.update_registry_entry(&suspended).await.unwrap();
    let missing = store
        .update_registry_entry(&entry(Agreement, A, "active", "{}", 21))
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
    assert_eq!(store.registry_entry(Agreement, A).await.unwrap(), None);
    assert_eq!(
        store.registry(Member).await.unwrap(),
        vec![upper, a, suspended]
    );
    assert_eq!(store.registry(Agreement).await.unwrap(), vec![pact]);
}

async fn views_round_trip(store: &dyn Store) {
    let view = Collection {
        id: "2f6a4f1e-6b8b-4c67-9b1a-3f1d4d9a0c02".into(),
        api_root: ROOT.into(),
        title: "what peer X may read".into(),
        description: None,
        view: Some(format!(
            r#"{{"source":"{COLLECTION}","member":"identity--7b1c2d3e-0000-4000-8000-000000000001","types":["indicator"],"note":"für "X""}}"#
        )),
        origin: None,
    };
    store.create_collection(view.clone()).await.unwrap();
    assert_eq!(
        store.collection(ROOT, &view.id).await.unwrap(),
        Some(view.clone())
    );
    let plain = store.collection(ROOT, COLLECTION).await.unwrap().unwrap();
    assert_eq!(plain.view, None);
    assert_eq!(store.collections(ROOT).await.unwrap(), vec![plain, view]);
}

async fn roles_change(store: &dyn Store) {
    let rolf = User {
        name: "rolf".into(),
        role: Role::Viewer,
        password_hash: "$argon2id$r".into(),
    };
    store.create_user(rolf.clone()).await.unwrap();
    store.set_role("rolf", Role::Liaison).await.unwrap();
    assert_eq!(
        store.user("rolf").await.unwrap(),
        Some(User {
            role: Role::Liaison,
            ..rolf.clone()
        })
    );
    store.set_role("rolf", Role::Admin).await.unwrap();
    assert_eq!(store.user("rolf").await.unwrap().unwrap().role, Role::Admin);
    assert_eq!(
        store.user("ana").await.unwrap().unwrap().role,
        Role::Analyst,
        "only the named user changes"
    );
    let r = store.set_role("nobody", Role::Admin).await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    assert!(store.user("nobody").await.unwrap().is_none());
}

/// The transparency log checks, run by [`run_all`] when the backend has a log
/// ([`Store::transparency_log`]); expects a log without entries and the collection of
/// [`seed_small`].
pub async fn transparency_log(store: &dyn Store, log: &dyn TransparencyLog) {
    log_appends_store_the_tlog_layout(log).await;
    objects_and_commitments_are_stored_together(store, log).await;
    openings_are_kept_per_scope_and_copied(log).await;
    checkpoints_keep_the_largest(log).await;
    witness_state_is_compare_and_swap(log).await;
    trusted_logs_are_replaced_by_origin(log).await;
    cosignatures_are_kept_per_witness_and_size(log).await;
    witness_alerts_keep_each_evidence_once(log).await;
}

/// An entry whose bytes are `text`, with the opening `opening of TEXT` under the subject
/// `subject of TEXT`.
fn openable(text: &str) -> OpenableEntry {
    OpenableEntry {
        entry: text.as_bytes().to_vec(),
        subject: format!("subject of {text}"),
        opening: format!("opening of {text}").into_bytes(),
    }
}

fn entry_bytes(n: u64) -> Vec<u8> {
    format!("entry {n}").into_bytes()
}

/// The stored hashes of a log of `entries`, computed in memory as the contract says.
fn expected_hashes(entries: &[Vec<u8>]) -> Vec<comity_tlog::Hash> {
    use comity_tlog::tree::stored_hashes_for_append;
    let mut stored = Vec::new();
    for (n, e) in entries.iter().enumerate() {
        let new = stored_hashes_for_append(n as u64, comity_tlog::Hash::leaf(e), &stored).unwrap();
        stored.extend(new);
    }
    stored
}

async fn log_appends_store_the_tlog_layout(log: &dyn TransparencyLog) {
    assert_eq!(log.log_size().await.unwrap(), 0);
    assert!(log.latest_checkpoint().await.unwrap().is_none());
    let first: Vec<Vec<u8>> = (0..300).map(entry_bytes).collect();
    assert_eq!(log.append_entries(first).await.unwrap(), 0);
    let second: Vec<Vec<u8>> = (300..301).map(entry_bytes).collect();
    assert_eq!(log.append_entries(second).await.unwrap(), 300);
    assert_eq!(log.log_size().await.unwrap(), 301);
    let all: Vec<Vec<u8>> = (0..301).map(entry_bytes).collect();
    assert_eq!(log.log_entries(0, 301).await.unwrap(), all);
    assert_eq!(
        log.log_entries(299, 301).await.unwrap(),
        all[299..].to_vec()
    );
    let r = log.log_entries(300, 302).await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    let want = expected_hashes(&all);
    let count = comity_tlog::tree::stored_hash_count(301).unwrap();
    assert_eq!(want.len() as u64, count);
    // Out of order and repeated, as the proof code asks.
    let indexes: Vec<u64> = (0..count).rev().chain([5, 5]).collect();
    let got = log.log_hashes(indexes.clone()).await.unwrap();
    let expected: Vec<_> = indexes.iter().map(|&i| want[i as usize]).collect();
    assert_eq!(got, expected);
    let r = log.log_hashes(vec![count]).await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
}

async fn objects_and_commitments_are_stored_together(store: &dyn Store, log: &dyn TransparencyLog) {
    let col = collection();
    let before = log.log_size().await.unwrap();
    let fresh = indicator(900, "2021-01-01T00:00:00.000Z");
    let known = indicator(1, "2020-01-01T00:00:00.000Z");
    let out = log
        .add_objects_logged(
            &col,
            vec![known, fresh],
            vec![openable("known"), openable("fresh")],
        )
        .await
        .unwrap();
    assert_eq!(out[0], AddOutcome::AlreadyStored);
    assert!(matches!(out[1], AddOutcome::Added { .. }), "{out:?}");
    assert_eq!(log.log_size().await.unwrap(), before + 1);
    assert_eq!(
        log.log_entries(before, before + 1).await.unwrap(),
        vec![b"fresh".to_vec()]
    );
    // A failed add appends nothing.
    let missing = CollectionRef {
        api_root: ROOT.into(),
        id: "00000000-0000-4000-8000-00000000dead".into(),
    };
    let r = log
        .add_objects_logged(
            &missing,
            vec![indicator(901, "2021-01-01T00:00:00.000Z")],
            vec![openable("lost")],
        )
        .await;
    assert!(r.is_err());
    assert_eq!(log.log_size().await.unwrap(), before + 1);
    let page = PageRequest {
        limit: 10,
        after: None,
    };
    let filter = ObjectFilter {
        ids: vec![indicator(900, "").id],
        versions: VersionFilter::all(),
        ..ObjectFilter::default()
    };
    assert_eq!(
        store
            .objects(&col, &filter, &page)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    // The tree still follows the layout after mixed appends.
    let size = log.log_size().await.unwrap();
    let entries = log.log_entries(0, size).await.unwrap();
    let want = expected_hashes(&entries);
    let count = want.len() as u64;
    assert_eq!(log.log_hashes((0..count).collect()).await.unwrap(), want);
}

async fn openings_are_kept_per_scope_and_copied(log: &dyn TransparencyLog) {
    let col = collection();
    let other = CollectionRef {
        api_root: ROOT.into(),
        id: "00000000-0000-4000-8000-00000000beef".into(),
    };
    // The opening of the object added above is kept in its collection's scope only.
    let kept = log
        .openings(&scope_of(Some(&col)), "subject of fresh")
        .await
        .unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].entry, b"fresh".to_vec());
    assert_eq!(kept[0].opening, b"opening of fresh".to_vec());
    let fresh_index = kept[0].index;
    assert_eq!(
        log.log_entries(fresh_index, fresh_index + 1).await.unwrap(),
        vec![b"fresh".to_vec()]
    );
    for (scope, subject) in [
        (Some(&other), "subject of fresh"),
        (None, "subject of fresh"),
        (Some(&col), "subject of known"),
        (Some(&col), "subject of lost"),
        (Some(&col), "subject of fres"),
    ] {
        assert!(
            log.openings(&scope_of(scope), subject)
                .await
                .unwrap()
                .is_empty(),
            "{scope:?} {subject}"
        );
    }
    // The node's own acts, in the node's scope.
    let first = log
        .append_openable(vec![openable("act a"), openable("act b")])
        .await
        .unwrap();
    let acts = log
        .openings(&scope_of(None), "subject of act b")
        .await
        .unwrap();
    assert_eq!(
        acts,
        vec![KeptOpening {
            index: first + 1,
            entry: b"act b".to_vec(),
            opening: b"opening of act b".to_vec(),
        }]
    );
    assert!(log
        .openings(&scope_of(Some(&col)), "subject of act a")
        .await
        .unwrap()
        .is_empty());
    // What a copy carries: every opening of a range with its scope, kept again elsewhere.
    let size = log.log_size().await.unwrap();
    let all = log.openings_between(0, size).await.unwrap();
    let scopes: Vec<(u64, String, String)> = all
        .iter()
        .map(|o| (o.index, o.scope.clone(), o.subject.clone()))
        .collect();
    assert_eq!(
        scopes,
        vec![
            (fresh_index, scope_of(Some(&col)), "subject of fresh".into()),
            (first, String::new(), "subject of act a".into()),
            (first + 1, String::new(), "subject of act b".into()),
        ]
    );
    assert_eq!(
        log.openings_between(first + 1, first + 1).await.unwrap(),
        vec![]
    );
    // Keeping an opening again for an entry changes nothing: the first is kept.
    let again = ScopedOpening {
        opening: b"forged".to_vec(),
        ..all[1].clone()
    };
    log.keep_openings(vec![again]).await.unwrap();
    assert_eq!(log.openings_between(0, size).await.unwrap(), all);
    assert_eq!(
        log.openings(&scope_of(None), "subject of act a")
            .await
            .unwrap()[0]
            .opening,
        b"opening of act a".to_vec()
    );
}

async fn checkpoints_keep_the_largest(log: &dyn TransparencyLog) {
    let cp = |size: u64, note: &str| StoredCheckpoint {
        size,
        note: note.into(),
    };
    log.put_checkpoint(cp(5, "five\n")).await.unwrap();
    log.put_checkpoint(cp(3, "three\n")).await.unwrap();
    log.put_checkpoint(cp(5, "other five\n")).await.unwrap();
    assert_eq!(
        log.latest_checkpoint().await.unwrap(),
        Some(cp(5, "five\n"))
    );
}

async fn witness_state_is_compare_and_swap(log: &dyn TransparencyLog) {
    use comity_tlog::witness::{TreeHead, WitnessedCheckpoint};
    let head = |size: u64| TreeHead {
        size,
        root: comity_tlog::Hash::leaf(&size.to_be_bytes()),
    };
    let witnessed = |size: u64| WitnessedCheckpoint {
        head: head(size),
        note: format!("note {size}\n"),
    };
    let origin = "peer.example/log";
    assert!(log.witnessed(origin).await.unwrap().is_none());
    assert!(log.witness_swap(origin, None, witnessed(1)).await.unwrap());
    assert!(!log.witness_swap(origin, None, witnessed(2)).await.unwrap());
    assert!(!log
        .witness_swap(origin, Some(head(7)), witnessed(2))
        .await
        .unwrap());
    assert!(log
        .witness_swap(origin, Some(head(1)), witnessed(2))
        .await
        .unwrap());
    assert_eq!(log.witnessed(origin).await.unwrap(), Some(witnessed(2)));
    assert!(log.witnessed("other.example/log").await.unwrap().is_none());
}

async fn trusted_logs_are_replaced_by_origin(log: &dyn TransparencyLog) {
    let trusted = |origin: &str, key: &str| TrustedLog {
        origin: origin.into(),
        verifier_key: key.into(),
    };
    log.trust_log(trusted("b.example/log", "b+1+x"))
        .await
        .unwrap();
    log.trust_log(trusted("a.example/log", "a+1+x"))
        .await
        .unwrap();
    log.trust_log(trusted("b.example/log", "b+2+y"))
        .await
        .unwrap();
    assert_eq!(
        log.trusted_logs().await.unwrap(),
        vec![
            trusted("a.example/log", "a+1+x"),
            trusted("b.example/log", "b+2+y")
        ]
    );
}

async fn cosignatures_are_kept_per_witness_and_size(log: &dyn TransparencyLog) {
    let cs = |witness: &str, size: u64, line: &str| CollectedCosignature {
        witness: witness.into(),
        size,
        checkpoint: format!("checkpoint {size}\n"),
        line: line.into(),
        received_at: 1_000 + size as i64,
    };
    assert!(log.cosignatures(None).await.unwrap().is_empty());
    assert!(log
        .latest_cosignature("identity--b")
        .await
        .unwrap()
        .is_none());
    log.put_cosignature(cs("identity--b", 3, "b3\n"))
        .await
        .unwrap();
    log.put_cosignature(cs("identity--c", 5, "c5\n"))
        .await
        .unwrap();
    log.put_cosignature(cs("identity--b", 5, "b5\n"))
        .await
        .unwrap();
    log.put_cosignature(cs("identity--b", 5, "b5 again\n"))
        .await
        .unwrap();
    assert_eq!(
        log.cosignatures(None).await.unwrap(),
        vec![
            cs("identity--b", 5, "b5 again\n"),
            cs("identity--c", 5, "c5\n")
        ]
    );
    assert_eq!(
        log.cosignatures(Some(3)).await.unwrap(),
        vec![cs("identity--b", 3, "b3\n")]
    );
    assert!(log.cosignatures(Some(4)).await.unwrap().is_empty());
    assert_eq!(
        log.latest_cosignature("identity--b").await.unwrap(),
        Some(cs("identity--b", 5, "b5 again\n"))
    );
    assert!(log
        .latest_cosignature("identity--x")
        .await
        .unwrap()
        .is_none());
}

async fn witness_alerts_keep_each_evidence_once(log: &dyn TransparencyLog) {
    let alert = |digest: &str, at: i64| WitnessAlert {
        id: 0,
        at,
        peer: "identity--b".into(),
        kind: WitnessAlertKind::Fork,
        detail: "two roots for size 5".into(),
        ours: "ours\n".into(),
        theirs: "theirs\n".into(),
        proof: String::new(),
        digest: digest.into(),
    };
    assert!(log.witness_alerts().await.unwrap().is_empty());
    let first = log.put_witness_alert(alert("d1", 10)).await.unwrap();
    let again = log.put_witness_alert(alert("d1", 11)).await.unwrap();
    let second = log.put_witness_alert(alert("d2", 12)).await.unwrap();
    assert!(first.is_some() && second.is_some(), "{first:?} {second:?}");
    assert_eq!(again, None);
    assert_ne!(first, second);
    let kept = log.witness_alerts().await.unwrap();
    assert_eq!(
        kept,
        vec![
            WitnessAlert {
                id: first.unwrap(),
                ..alert("d1", 10)
            },
            WitnessAlert {
                id: second.unwrap(),
                ..alert("d2", 12)
            }
        ]
    );
}

async fn origins_round_trip(store: &dyn Store) {
    let received = Collection {
        id: "2f6a4f1e-6b8b-4c67-9b1a-3f1d4d9a0c03".into(),
        api_root: ROOT.into(),
        title: "shared by peer A".into(),
        description: Some("what A shares with us".into()),
        view: None,
        origin: Some(PEER_A.into()),
    };
    store.create_collection(received.clone()).await.unwrap();
    assert_eq!(
        store.collection(ROOT, &received.id).await.unwrap(),
        Some(received.clone())
    );
    let plain = store.collection(ROOT, COLLECTION).await.unwrap().unwrap();
    assert_eq!(plain.origin, None);
    let all = store.collections(ROOT).await.unwrap();
    assert_eq!(all.first(), Some(&plain));
    assert_eq!(all.last(), Some(&received));
    assert!(
        all[..all.len() - 1].iter().all(|c| c.origin.is_none()),
        "{all:?}"
    );
}

/// Peers as the node names them (member ids); the upper-case one sorts first byte-wise.
const PEER_A: &str = "identity--aaaaaaaa-0000-4000-8000-00000000000a";
const PEER_B: &str = "identity--bbbbbbbb-0000-4000-8000-00000000000b";
const PEER_UPPER: &str = "identity--CCCCCCCC-0000-4000-8000-00000000000c";
const PEER_RACE: &str = "identity--dddddddd-0000-4000-8000-00000000000d";
const SENDER: &str = "identity--eeeeeeee-0000-4000-8000-00000000000e";
const OTHER_SENDER: &str = "identity--ffffffff-0000-4000-8000-00000000000f";

/// A time in microseconds around which the federation checks happen.
const SENT_AT: i64 = 1_767_225_600_000_000;

/// An envelope made at `created_at`, with a body that keeps quotes and non-ASCII text.
fn envelope(id: &str, created_at: i64) -> OutboxItem {
    OutboxItem {
        id: id.into(),
        kind: OutboxKind::StixObjects,
        created_at,
        body: format!(r#"{{"id":"{id}","note":"für \"X\" — «ok»"}}"#),
    }
}

fn seqs_of(entries: &[OutboxEntry]) -> Vec<u64> {
    entries.iter().map(|e| e.seq).collect()
}

/// The federation checks (outbox and inbox journal), run by [`run_all`].
async fn federation(store: &dyn Store) {
    outbox_seqs_are_per_peer_and_conflicts_append_nothing(store).await;
    outbox_due_keeps_each_peers_order(store).await;
    delivery_keeps_the_first_receipt(store).await;
    outbox_peers_and_stats_are_exact(store).await;
    outbox_pushes_race_without_gaps(store, store).await;
    inbox_journal_keeps_the_first_record(store).await;
    inbox_apply_is_one_transaction(store).await;
    removing_a_member_drops_only_what_waits_for_it(store).await;
}

/// A member removed takes its waiting envelopes with it, nothing of anyone else's; its
/// next envelope follows the last one it was delivered.
async fn removing_a_member_drops_only_what_waits_for_it(store: &dyn Store) {
    const GONE: &str = "identity--99999999-0000-4000-8000-000000000009";
    let member = |id: &str| RegistryEntry {
        kind: RegistryKind::Member,
        id: id.into(),
        status: RegistryStatus::Active,
        document: "{}".into(),
        updated_at: SENT_AT,
    };
    let missing = store.remove_member(GONE).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
    store.add_registry_entry(&member(GONE)).await.unwrap();
    let items = (1..=4)
        .map(|n| envelope(&format!("gone-{n}"), SENT_AT + n))
        .collect();
    assert_eq!(
        store.outbox_push(GONE, items).await.unwrap(),
        vec![1, 2, 3, 4]
    );
    assert!(store
        .outbox_delivered(GONE, 1, SENT_AT + 9, "{}")
        .await
        .unwrap());
    let others = store.outbox_after(PEER_A, 0, 100).await.unwrap();
    let version = store.meta_version().await.unwrap();
    // An agreement of the same id is another document: it stays.
    let agreement = RegistryEntry {
        kind: RegistryKind::Agreement,
        ..member(GONE)
    };
    store.add_registry_entry(&agreement).await.unwrap();
    assert_eq!(store.remove_member(GONE).await.unwrap(), 3);
    assert!(
        store.meta_version().await.unwrap() > version,
        "caches must hear of it"
    );
    assert_eq!(
        store
            .registry_entry(RegistryKind::Member, GONE)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .registry_entry(RegistryKind::Agreement, GONE)
            .await
            .unwrap(),
        Some(agreement)
    );
    assert_eq!(
        seqs_of(&store.outbox_after(GONE, 0, 10).await.unwrap()),
        vec![1]
    );
    assert_eq!(store.outbox_after(PEER_A, 0, 100).await.unwrap(), others);
    let again = store.remove_member(GONE).await;
    assert!(matches!(again, Err(StoreError::NotFound(_))), "{again:?}");
    store.add_registry_entry(&member(GONE)).await.unwrap();
    assert_eq!(
        store
            .outbox_push(GONE, vec![envelope("gone-5", SENT_AT + 20)])
            .await
            .unwrap(),
        vec![2],
        "the next envelope follows the last delivered one"
    );
}

async fn outbox_seqs_are_per_peer_and_conflicts_append_nothing(store: &dyn Store) {
    assert!(store.outbox_peers().await.unwrap().is_empty());
    assert!(store.outbox_stats().await.unwrap().is_empty());
    assert!(store.outbox_after(PEER_A, 0, 10).await.unwrap().is_empty());
    assert!(store
        .outbox_due(PEER_A, SENT_AT, 10)
        .await
        .unwrap()
        .is_empty());
    let a = |n: i64| envelope(&format!("a-{n}"), SENT_AT + 10 + n);
    assert_eq!(
        store
            .outbox_push(PEER_A, vec![a(1), a(2), a(3)])
            .await
            .unwrap(),
        vec![1, 2, 3]
    );
    assert_eq!(
        store
            .outbox_push(PEER_B, vec![envelope("b-1", SENT_AT)])
            .await
            .unwrap(),
        vec![1],
        "seqs are counted per peer"
    );
    assert_eq!(
        store.outbox_push(PEER_A, vec![a(4), a(5)]).await.unwrap(),
        vec![4, 5]
    );
    assert_eq!(
        store.outbox_push(PEER_A, Vec::new()).await.unwrap(),
        Vec::<u64>::new()
    );
    // An id taken in this peer's outbox, or twice in one push: nothing is appended.
    let taken = store.outbox_push(PEER_A, vec![a(6), a(2)]).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    let twice = store.outbox_push(PEER_A, vec![a(6), a(6)]).await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    let stored = store.outbox_after(PEER_A, 0, 100).await.unwrap();
    assert_eq!(seqs_of(&stored), vec![1, 2, 3, 4, 5]);
    assert_eq!(
        stored.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        vec!["a-1", "a-2", "a-3", "a-4", "a-5"]
    );
    // Ids are unique per peer only; a refused push used up no seq.
    assert_eq!(
        store
            .outbox_push(PEER_B, vec![envelope("a-1", SENT_AT + 1)])
            .await
            .unwrap(),
        vec![2]
    );
    assert_eq!(
        store.outbox_push(PEER_A, vec![a(6)]).await.unwrap(),
        vec![6]
    );
    // Stored as given, due from its creation, never tried.
    let item = a(3);
    assert_eq!(
        store.outbox_after(PEER_A, 2, 1).await.unwrap(),
        vec![OutboxEntry {
            peer: PEER_A.into(),
            seq: 3,
            id: item.id,
            kind: item.kind,
            created_at: item.created_at,
            body: item.body,
            delivered_at: None,
            receipt: None,
            attempts: 0,
            next_attempt_at: item.created_at,
            last_error: None,
        }]
    );
}

async fn outbox_due_keeps_each_peers_order(store: &dyn Store) {
    let peer = PEER_UPPER;
    let items = (1..=4)
        .map(|n| envelope(&format!("u-{n}"), SENT_AT + n))
        .collect();
    assert_eq!(
        store.outbox_push(peer, items).await.unwrap(),
        vec![1, 2, 3, 4]
    );
    assert!(
        store
            .outbox_due(peer, SENT_AT, 10)
            .await
            .unwrap()
            .is_empty(),
        "an entry is due from its created_at"
    );
    let due = |now: i64, limit: usize| async move {
        seqs_of(&store.outbox_due(peer, now, limit).await.unwrap())
    };
    assert_eq!(due(SENT_AT + 10, 10).await, vec![1, 2, 3, 4]);
    assert_eq!(due(SENT_AT + 10, 2).await, vec![1, 2]);
    // A failed entry waiting for its retry holds back the later ones.
    store
        .outbox_failed(peer, 1, "connection refused", SENT_AT + 100)
        .await
        .unwrap();
    assert_eq!(due(SENT_AT + 99, 10).await, Vec::<u64>::new());
    let retry = store.outbox_due(peer, SENT_AT + 100, 10).await.unwrap();
    assert_eq!(seqs_of(&retry), vec![1, 2, 3, 4]);
    assert_eq!(
        (
            retry[0].attempts,
            retry[0].last_error.as_deref(),
            retry[0].next_attempt_at
        ),
        (1, Some("connection refused"), SENT_AT + 100)
    );
    assert_eq!(
        (retry[1].attempts, retry[1].last_error.as_deref()),
        (0, None)
    );
    store
        .outbox_failed(peer, 1, "timeout", SENT_AT + 200)
        .await
        .unwrap();
    assert_eq!(due(SENT_AT + 150, 10).await, Vec::<u64>::new());
    let again = store.outbox_due(peer, SENT_AT + 200, 1).await.unwrap();
    assert_eq!(
        (
            again[0].seq,
            again[0].attempts,
            again[0].last_error.as_deref()
        ),
        (1, 2, Some("timeout"))
    );
    // Once the head is delivered, the next one leads (and it is due).
    assert!(store
        .outbox_delivered(peer, 1, SENT_AT + 150, r#"{"receipt":"u-1"}"#)
        .await
        .unwrap());
    assert_eq!(due(SENT_AT + 150, 10).await, vec![2, 3, 4]);
    let r = store.outbox_failed(peer, 9, "x", SENT_AT).await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    let r = store
        .outbox_failed("identity--nobody", 1, "x", SENT_AT)
        .await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    assert_eq!(due(SENT_AT + 150, 10).await, vec![2, 3, 4]);
}

async fn delivery_keeps_the_first_receipt(store: &dyn Store) {
    let first = r#"{"receipt":"b-1","sig":"one"}"#;
    assert!(store
        .outbox_delivered(PEER_B, 1, SENT_AT + 5, first)
        .await
        .unwrap());
    assert!(!store
        .outbox_delivered(PEER_B, 1, SENT_AT + 6, r#"{"receipt":"b-1","sig":"two"}"#)
        .await
        .unwrap());
    let r = store.outbox_delivered(PEER_B, 3, SENT_AT, "{}").await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    let r = store
        .outbox_delivered("identity--nobody", 1, SENT_AT, "{}")
        .await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    let item = envelope("b-1", SENT_AT);
    let entries = store.outbox_after(PEER_B, 0, 10).await.unwrap();
    assert_eq!(seqs_of(&entries), vec![1, 2]);
    assert_eq!(
        entries[0],
        OutboxEntry {
            peer: PEER_B.into(),
            seq: 1,
            id: item.id,
            kind: item.kind,
            created_at: item.created_at,
            body: item.body,
            delivered_at: Some(SENT_AT + 5),
            receipt: Some(first.into()),
            attempts: 0,
            next_attempt_at: item.created_at,
            last_error: None,
        }
    );
    assert_eq!(entries[1].delivered_at, None);
    // A delivered entry leaves the due list but stays in catch-up pulls.
    assert_eq!(
        seqs_of(&store.outbox_due(PEER_B, SENT_AT + 10, 10).await.unwrap()),
        vec![2]
    );
    assert!(store
        .outbox_delivered(PEER_A, 2, SENT_AT + 7, r#"{"receipt":"a-2"}"#)
        .await
        .unwrap());
    let pulled = store.outbox_after(PEER_A, 1, 3).await.unwrap();
    assert_eq!(seqs_of(&pulled), vec![2, 3, 4]);
    assert_eq!(
        pulled.iter().map(|e| e.delivered_at).collect::<Vec<_>>(),
        vec![Some(SENT_AT + 7), None, None]
    );
    assert!(store.outbox_after(PEER_A, 6, 10).await.unwrap().is_empty());
    assert_eq!(
        seqs_of(&store.outbox_due(PEER_A, SENT_AT + 100, 10).await.unwrap()),
        vec![1, 3, 4, 5, 6]
    );
    assert!(store
        .outbox_delivered(PEER_B, 2, SENT_AT + 8, "{}")
        .await
        .unwrap());
    assert!(store
        .outbox_due(PEER_B, SENT_AT + 100, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn outbox_peers_and_stats_are_exact(store: &dyn Store) {
    // B has everything delivered; byte-wise order puts upper case first.
    assert_eq!(
        store.outbox_peers().await.unwrap(),
        vec![PEER_UPPER.to_owned(), PEER_A.to_owned()]
    );
    assert_eq!(
        store.outbox_stats().await.unwrap(),
        vec![
            OutboxStats {
                peer: PEER_UPPER.into(),
                pending: 3,
                oldest_pending_at: Some(SENT_AT + 2),
                last_seq: 4,
                delivered_seq: 1,
            },
            OutboxStats {
                peer: PEER_A.into(),
                pending: 5,
                oldest_pending_at: Some(SENT_AT + 11),
                last_seq: 6,
                delivered_seq: 2,
            },
            OutboxStats {
                peer: PEER_B.into(),
                pending: 0,
                oldest_pending_at: None,
                last_seq: 2,
                delivered_seq: 2,
            },
        ]
    );
}

/// Fifty single-envelope pushes in a row to [`PEER_RACE`]; returns the seqs given.
async fn push_fifty(store: &dyn Store, task: usize) -> Vec<u64> {
    let mut seqs = Vec::new();
    for i in 0..50 {
        let item = envelope(&format!("race-{task}-{i}"), SENT_AT);
        let got = store.outbox_push(PEER_RACE, vec![item]).await.unwrap();
        assert_eq!(got.len(), 1);
        seqs.extend(got);
    }
    seqs
}

/// Four tasks push fifty envelopes each to one peer at once, tasks 0 and 2 through `a`,
/// 1 and 3 through `b` (the same store, or two handles on one database standing for two
/// processes): the seqs are exactly 1..=200, each task's increasing, and each entry holds
/// the envelope its seq was given for. Expects no outbox for that peer yet.
pub async fn outbox_pushes_race_without_gaps(a: &dyn Store, b: &dyn Store) {
    let (s0, s1, s2, s3) = tokio::join!(
        push_fifty(a, 0),
        push_fifty(b, 1),
        push_fifty(a, 2),
        push_fifty(b, 3)
    );
    let mut given = std::collections::HashMap::new();
    for (task, seqs) in [s0, s1, s2, s3].into_iter().enumerate() {
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "task {task}: {seqs:?}"
        );
        for (i, seq) in seqs.into_iter().enumerate() {
            assert!(
                given.insert(seq, format!("race-{task}-{i}")).is_none(),
                "seq {seq} given twice"
            );
        }
    }
    let mut all: Vec<u64> = given.keys().copied().collect();
    all.sort_unstable();
    assert_eq!(all, (1..=200).collect::<Vec<u64>>());
    let stored = a.outbox_after(PEER_RACE, 0, 1000).await.unwrap();
    assert_eq!(seqs_of(&stored), all);
    for e in &stored {
        assert_eq!(Some(&e.id), given.get(&e.seq), "seq {}", e.seq);
    }
}

fn inbox_record(sender: &str, id: &str, seq: u64, outcome: InboxOutcome) -> InboxRecord {
    InboxRecord {
        sender: sender.into(),
        id: id.into(),
        seq,
        kind: "objects".into(),
        received_at: SENT_AT + seq as i64,
        outcome,
        reason: (outcome == InboxOutcome::Refused).then(|| "no agreement covers \"x\"".into()),
        receipt: format!(r#"{{"envelope":"{id}","outcome":"{outcome}","note":"ü"}}"#),
    }
}

async fn inbox_journal_keeps_the_first_record(store: &dyn Store) {
    assert_eq!(store.inbox_last_seq(SENDER).await.unwrap(), 0);
    assert_eq!(store.inbox_record(SENDER, "env-1").await.unwrap(), None);
    let first = inbox_record(SENDER, "env-1", 1, InboxOutcome::Delivered);
    assert!(store.inbox_put(&first).await.unwrap());
    let retry = InboxRecord {
        receipt: "another receipt".into(),
        received_at: SENT_AT + 99,
        ..first.clone()
    };
    assert!(!store.inbox_put(&retry).await.unwrap());
    assert_eq!(
        store.inbox_record(SENDER, "env-1").await.unwrap(),
        Some(first.clone())
    );
    assert!(store
        .inbox_put(&inbox_record(SENDER, "env-2", 2, InboxOutcome::Delivered))
        .await
        .unwrap());
    let refused = inbox_record(SENDER, "env-3", 3, InboxOutcome::Refused);
    assert!(store.inbox_put(&refused).await.unwrap());
    assert_eq!(
        store.inbox_record(SENDER, "env-3").await.unwrap(),
        Some(refused)
    );
    assert_eq!(
        store.inbox_last_seq(SENDER).await.unwrap(),
        3,
        "a refused envelope is final: it counts"
    );
    // The same envelope id from another sender is another record.
    let other = inbox_record(OTHER_SENDER, "env-1", 9, InboxOutcome::Delivered);
    assert!(store.inbox_put(&other).await.unwrap());
    assert_eq!(store.inbox_last_seq(OTHER_SENDER).await.unwrap(), 9);
    assert_eq!(store.inbox_last_seq(SENDER).await.unwrap(), 3);
    assert_eq!(
        store.inbox_record(SENDER, "env-1").await.unwrap(),
        Some(first)
    );
    assert_eq!(store.inbox_last_seq("identity--nobody").await.unwrap(), 0);
    // What `comity copy` reads: the senders, then each one's records in seq order.
    let senders = store.inbox_senders().await.unwrap();
    assert!(senders.windows(2).all(|w| w[0] < w[1]), "{senders:?}");
    assert!(senders.contains(&SENDER.to_owned()) && senders.contains(&OTHER_SENDER.to_owned()));
    let ids =
        |records: Vec<InboxRecord>| -> Vec<String> { records.into_iter().map(|r| r.id).collect() };
    assert_eq!(
        ids(store.inbox_after(SENDER, 0, 10).await.unwrap()),
        ["env-1", "env-2", "env-3"]
    );
    assert_eq!(
        ids(store.inbox_after(SENDER, 1, 1).await.unwrap()),
        ["env-2"]
    );
    assert!(store.inbox_after(SENDER, 3, 10).await.unwrap().is_empty());
    assert!(store
        .inbox_after(SENDER, u64::MAX, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .inbox_after("identity--nobody", 0, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn log_size(store: &dyn Store) -> u64 {
    store.transparency_log().log_size().await.unwrap()
}

async fn inbox_apply_is_one_transaction(store: &dyn Store) {
    let col = collection();
    let objects_before = store.count_objects(&col).await.unwrap();
    let log_before = log_size(store).await;
    let record = inbox_record(SENDER, "env-apply-4", 4, InboxOutcome::Delivered);
    let out = store
        .inbox_apply(
            &record,
            &col,
            vec![
                indicator(600, "2021-01-01T00:00:00.000Z"),
                indicator(601, "2021-01-01T00:00:00.000Z"),
            ],
            Vec::new(),
        )
        .await
        .unwrap()
        .expect("a new envelope is applied");
    assert_eq!(out.len(), 2);
    assert!(
        out.iter().all(|o| matches!(o, AddOutcome::Added { .. })),
        "{out:?}"
    );
    assert_eq!(store.count_objects(&col).await.unwrap(), objects_before + 2);
    assert_eq!(log_size(store).await, log_before, "no entries, no log");
    assert_eq!(
        store.inbox_record(SENDER, "env-apply-4").await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(store.inbox_last_seq(SENDER).await.unwrap(), 4);

    // A replay changes nothing, whatever it carries.
    let replay = InboxRecord {
        receipt: "replayed".into(),
        ..record.clone()
    };
    let again = store
        .inbox_apply(
            &replay,
            &col,
            vec![indicator(602, "2021-01-01T00:00:00.000Z")],
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(again, None);
    assert_eq!(store.count_objects(&col).await.unwrap(), objects_before + 2);
    assert_eq!(
        store.inbox_record(SENDER, "env-apply-4").await.unwrap(),
        Some(record)
    );
    // Another envelope with a sequence number already recorded is a conflict, and stores
    // nothing: one sequence number, one envelope.
    let twin = inbox_record(SENDER, "env-apply-twin", 4, InboxOutcome::Delivered);
    let r = store
        .inbox_apply(
            &twin,
            &col,
            vec![indicator(607, "2021-01-01T00:00:00.000Z")],
            Vec::new(),
        )
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    let r = store.inbox_put(&twin).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(
        store.inbox_record(SENDER, "env-apply-twin").await.unwrap(),
        None
    );
    assert_eq!(store.count_objects(&col).await.unwrap(), objects_before + 2);

    // A failed add records nothing.
    let missing = CollectionRef {
        api_root: ROOT.into(),
        id: "00000000-0000-4000-8000-00000000dead".into(),
    };
    let lost = inbox_record(SENDER, "env-apply-5", 5, InboxOutcome::Delivered);
    let r = store
        .inbox_apply(
            &lost,
            &missing,
            vec![indicator(603, "2021-01-01T00:00:00.000Z")],
            Vec::new(),
        )
        .await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    assert_eq!(
        store.inbox_record(SENDER, "env-apply-5").await.unwrap(),
        None
    );
    assert_eq!(store.inbox_last_seq(SENDER).await.unwrap(), 4);

    let log = store.transparency_log();
    // With log entries: the objects added and their entries commit with the record.
    let size = log.log_size().await.unwrap();
    let logged = inbox_record(SENDER, "env-apply-6", 6, InboxOutcome::Delivered);
    let out = store
        .inbox_apply(
            &logged,
            &col,
            vec![
                indicator(600, "2021-01-01T00:00:00.000Z"),
                indicator(604, "2021-01-01T00:00:00.000Z"),
            ],
            vec![openable("entry 600"), openable("entry 604")],
        )
        .await
        .unwrap()
        .expect("a new envelope is applied");
    assert_eq!(out[0], AddOutcome::AlreadyStored);
    assert!(matches!(out[1], AddOutcome::Added { .. }), "{out:?}");
    assert_eq!(log.log_size().await.unwrap(), size + 1);
    assert_eq!(
        log.log_entries(size, size + 1).await.unwrap(),
        vec![b"entry 604".to_vec()]
    );
    assert_eq!(store.count_objects(&col).await.unwrap(), objects_before + 3);
    let replayed = store
        .inbox_apply(
            &logged,
            &col,
            vec![indicator(605, "2021-01-01T00:00:00.000Z")],
            vec![openable("entry 605")],
        )
        .await
        .unwrap();
    assert_eq!(replayed, None);
    assert_eq!(log.log_size().await.unwrap(), size + 1);
    assert_eq!(store.count_objects(&col).await.unwrap(), objects_before + 3);
    // Entries that do not match the objects: an error, and nothing recorded or stored.
    let mismatched = inbox_record(SENDER, "env-apply-7", 7, InboxOutcome::Delivered);
    let r = store
        .inbox_apply(
            &mismatched,
            &col,
            vec![indicator(606, "2021-01-01T00:00:00.000Z")],
            vec![openable("one"), openable("two")],
        )
        .await;
    assert!(r.is_err(), "{r:?}");
    assert_eq!(
        store.inbox_record(SENDER, "env-apply-7").await.unwrap(),
        None
    );
    assert_eq!(log.log_size().await.unwrap(), size + 1);
    assert_eq!(store.count_objects(&col).await.unwrap(), objects_before + 3);
    assert_eq!(store.inbox_last_seq(SENDER).await.unwrap(), 6);
}

/// Every kind of change a server caches moves [`IdentityStore::meta_version`]; objects, statuses
/// and the outbox do not.
async fn meta_version_follows_what_servers_cache(store: &dyn Store) {
    let mut last = store.meta_version().await.unwrap();
    let mut moved = |now: i64, what: &str| {
        assert!(
            now > last,
            "{what} did not move the meta version ({last} -> {now})"
        );
        last = now;
    };
    store
        .create_api_root(ApiRoot {
            name: "meta".into(),
            title: "meta".into(),
            description: None,
            max_content_length: 1000,
        })
        .await
        .unwrap();
    moved(store.meta_version().await.unwrap(), "an API root");
    let col = Collection {
        id: "meta-collection".into(),
        api_root: "meta".into(),
        title: "m".into(),
        description: None,
        view: None,
        origin: None,
    };
    store.create_collection(col.clone()).await.unwrap();
    moved(store.meta_version().await.unwrap(), "a collection");
    let user = User {
        name: "meta-user".into(),
        role: Role::Viewer,
        password_hash: "$argon2id$m".into(),
    };
    store.create_user(user).await.unwrap();
    moved(store.meta_version().await.unwrap(), "a user");
    store
        .set_password_hash("meta-user", "$argon2id$n")
        .await
        .unwrap();
    moved(store.meta_version().await.unwrap(), "a password");
    store.set_role("meta-user", Role::Analyst).await.unwrap();
    moved(store.meta_version().await.unwrap(), "a role");
    let access = Access {
        read: true,
        write: false,
    };
    store.grant(&col.key(), "meta-user", access).await.unwrap();
    moved(store.meta_version().await.unwrap(), "a grant");
    store.create_token(&token("meta-tok", 1, 9)).await.unwrap();
    moved(store.meta_version().await.unwrap(), "a token");
    store.revoke_token("meta-tok", 2).await.unwrap();
    moved(store.meta_version().await.unwrap(), "a revocation");
    let member = entry(RegistryKind::Member, "identity--meta", "active", "{}", 1);
    store.add_registry_entry(&member).await.unwrap();
    moved(store.meta_version().await.unwrap(), "a member");
    let suspended = RegistryEntry {
        status: RegistryStatus::Suspended,
        ..member
    };
    store.update_registry_entry(&suspended).await.unwrap();
    moved(store.meta_version().await.unwrap(), "a member's status");

    store
        .add_objects(&col.key(), vec![indicator(900, "2021-01-01T00:00:00.000Z")])
        .await
        .unwrap();
    assert_eq!(
        store.meta_version().await.unwrap(),
        last,
        "objects moved it"
    );

    let id = "marking-definition--00000000-0000-4000-8000-000000000901";
    let definition = format!(
        r#"{{"type":"marking-definition","spec_version":"2.1","id":"{id}","created":"2020-01-01T00:00:00.000Z","definition_type":"statement","definition":{{"statement":"Copyright"}}}}"#
    );
    store
        .add_objects(
            &col.key(),
            vec![NewObject {
                id: id.into(),
                object_type: "marking-definition".into(),
                version: "2020-01-01T00:00:00.000Z".into(),
                version_key: "2020-01-01T00:00:00.000000000Z".into(),
                spec_version: "2.1".into(),
                json: definition.clone(),
                values: Vec::new(),
            }],
        )
        .await
        .unwrap();
    let added = store.meta_version().await.unwrap();
    assert!(
        added > last,
        "a marking definition did not move the meta version"
    );
    let held = store.marking_definitions().await.unwrap();
    assert!(held.contains(&definition), "{held:?}");
    assert!(held.iter().all(|j| j.contains("marking-definition")));
    let all = ObjectFilter {
        versions: VersionFilter {
            all: true,
            ..VersionFilter::default()
        },
        ..ObjectFilter::default()
    };
    assert_eq!(store.delete_object(&col.key(), id, &all).await.unwrap(), 1);
    let deleted = store.meta_version().await.unwrap();
    assert!(
        deleted > added,
        "deleting a marking definition did not move the meta version"
    );
    assert!(!store
        .marking_definitions()
        .await
        .unwrap()
        .contains(&definition));
}

/// A one-time id is accepted once; again only after it expired.
async fn one_time_ids_are_used_once_until_they_expire(store: &dyn Store) {
    assert!(store.first_use("pull:a", 100, 10).await.unwrap());
    assert!(!store.first_use("pull:a", 200, 20).await.unwrap());
    assert!(store.first_use("pull:b", 100, 20).await.unwrap());
    // Hostile ids are ids like any other (callers keep NUL out: PostgreSQL text has none).
    let odd = "pull:'; DROP TABLE used_ids; --\u{7f}é";
    assert!(store.first_use(odd, 100, 20).await.unwrap());
    assert!(!store.first_use(odd, 100, 30).await.unwrap());
    // At its expiry it is forgotten, and may be used again.
    assert!(store.first_use("pull:a", 300, 100).await.unwrap());
    assert!(!store.first_use("pull:a", 300, 101).await.unwrap());
}

async fn collections_are_federated_only_when_turned_on(store: &dyn Store) {
    let key = |id: &str| CollectionRef {
        api_root: ROOT.into(),
        id: id.into(),
    };
    let plain = key(COLLECTION);
    assert!(!store.collection_federated(&plain).await.unwrap());
    store.set_collection_federated(&plain, true).await.unwrap();
    assert!(store.collection_federated(&plain).await.unwrap());
    store.set_collection_federated(&plain, false).await.unwrap();
    assert!(!store.collection_federated(&plain).await.unwrap());
    let missing = key("8c1b7f7e-0000-4000-8000-00000000fed0");
    let r = store.collection_federated(&missing).await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    let r = store.set_collection_federated(&missing, true).await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    // Views and members' collections are never federated: they show or hold what others
    // gave; turning them on is refused and changes nothing.
    for (id, view, origin) in [
        ("8c1b7f7e-0000-4000-8000-00000000fed1", Some("{}"), None),
        (
            "8c1b7f7e-0000-4000-8000-00000000fed2",
            None,
            Some("identity--x"),
        ),
    ] {
        store
            .create_collection(Collection {
                id: id.into(),
                api_root: ROOT.into(),
                title: "not plain".into(),
                description: None,
                view: view.map(str::to_owned),
                origin: origin.map(str::to_owned),
            })
            .await
            .unwrap();
        let r = store.set_collection_federated(&key(id), true).await;
        assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
        assert!(!store.collection_federated(&key(id)).await.unwrap());
    }
}

// Cooperation requests.

const REQUESTER: &str = "identity--11111111-0000-4000-8000-000000000001";
const REQUESTED: &str = "identity--22222222-0000-4000-8000-000000000002";
const THIRD_PARTY: &str = "identity--33333333-0000-4000-8000-000000000003";

/// A time in microseconds around which the request checks happen.
const ASKED_AT: i64 = 1_767_312_000_000_000;

fn request_id(n: u32) -> String {
    format!("request--00000000-0000-4000-8000-{n:012}")
}

/// A header between the two usual parties, due a day after it is updated.
fn request_header(id: &str, state: &str, events: u64, updated_at: i64) -> RequestRecord {
    RequestRecord {
        id: id.into(),
        kind: "assistance".into(),
        requester: REQUESTER.into(),
        requested: REQUESTED.into(),
        state: state.into(),
        emergency: false,
        created_at: ASKED_AT,
        updated_at,
        due_at: (events > 0).then_some(updated_at + 86_400_000_000),
        events,
        document: format!(
            r#"{{"id":"{id}","summary":"طلب مساعدة — 请求协助 — «{state}»","events":{events}}}"#
        ),
    }
}

/// Event `n` of request `id`; `variant` makes another event at the same place. Its JSON
/// keeps quotes, escapes and Arabic and Chinese text, and its `sha256` is a hex SHA-256
/// standing for the JSON's (the store compares it, never computes it).
fn request_event(id: &str, n: u64, act: &str, variant: &str) -> RequestEvent {
    let json = format!(
        r#"{{"request":"{id}","n":{n},"act":"{act}","note":"الرجاء الرد \"بسرعة\" — 请尽快答复 {variant}","esc":"\u00e9\n"}}"#
    );
    RequestEvent {
        request: id.into(),
        n,
        actor: if n % 2 == 1 { REQUESTER } else { REQUESTED }.into(),
        act: act.into(),
        at: ASKED_AT + n as i64 * 1_000,
        sha256: comity_tlog::Hash::leaf(json.as_bytes()).to_hex(),
        json,
    }
}

/// The log entry that commits to `event`.
fn request_log_entry(event: &RequestEvent) -> OpenableEntry {
    OpenableEntry {
        entry: format!(
            "request event {}#{} {}",
            event.request, event.n, event.sha256
        )
        .into_bytes(),
        subject: format!("{}#{}", event.request, event.n),
        opening: format!("opening of {}#{}", event.request, event.n).into_bytes(),
    }
}

/// Event `n` of request `id` (state `state` after it) with its header, log entry and, when
/// `send`, the envelope for the requested member's outbox.
fn request_append(id: &str, n: u64, state: &str, variant: &str, send: bool) -> RequestAppend {
    let event = request_event(id, n, state, variant);
    let header = request_header(id, state, n, event.at);
    RequestAppend {
        header,
        log_entry: request_log_entry(&event),
        send: send.then(|| {
            (
                REQUESTED.to_owned(),
                OutboxItem {
                    id: format!("{id}#{n}{variant}"),
                    kind: OutboxKind::Request,
                    created_at: event.at,
                    body: event.json.clone(),
                },
            )
        }),
        event,
        replaces: None,
        transfers: Vec::new(),
    }
}

/// What one request looks like from outside: header, events, log size, the requested
/// member's outbox and the request's pending attachment transfers.
async fn request_snapshot(
    store: &dyn Store,
    id: &str,
) -> (
    Option<RequestRecord>,
    Vec<RequestEvent>,
    u64,
    Vec<OutboxEntry>,
    Vec<AttachmentTransfer>,
) {
    (
        store.request(id).await.unwrap(),
        store.request_events(id).await.unwrap(),
        log_size(store).await,
        store.outbox_after(REQUESTED, 0, 10_000).await.unwrap(),
        store.attachment_transfers(Some(id)).await.unwrap(),
    )
}

/// A draft is saved, replaced while it is a draft with no events, and refused once its
/// request has an event; none of it is cached metadata.
async fn request_drafts_are_replaced_only_while_drafts(store: &dyn Store) {
    let id = request_id(1);
    let version = store.meta_version().await.unwrap();
    assert_eq!(store.request(&id).await.unwrap(), None);
    assert_eq!(store.request_events(&id).await.unwrap(), Vec::new());
    let draft = request_header(&id, "draft", 0, ASKED_AT);
    store.save_request_draft(&draft).await.unwrap();
    assert_eq!(store.request(&id).await.unwrap(), Some(draft.clone()));
    let edited = RequestRecord {
        kind: "preservation".into(),
        emergency: true,
        updated_at: ASKED_AT + 5,
        due_at: Some(ASKED_AT + 10),
        document: r#"{"summary":"تعديل — 修改"}"#.into(),
        ..draft.clone()
    };
    store.save_request_draft(&edited).await.unwrap();
    assert_eq!(store.request(&id).await.unwrap(), Some(edited.clone()));
    assert_eq!(store.request_events(&id).await.unwrap(), Vec::new());

    let submit = request_append(&id, 1, "submitted", "", true);
    assert!(store.append_request_event(&submit).await.unwrap());
    let again = store.save_request_draft(&edited).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(
        store.request(&id).await.unwrap(),
        Some(submit.header.clone())
    );
    assert_eq!(store.request_events(&id).await.unwrap(), vec![submit.event]);
    assert_eq!(
        store.meta_version().await.unwrap(),
        version,
        "requests are not cached metadata"
    );
}

/// Events are appended in order, each with its header, one log entry (its opening kept
/// under the request scope) and, when it has one, its envelope; they come back in order,
/// their JSON byte for byte. Event 1 of a request without a header creates it.
async fn request_events_append_in_order_with_log_and_envelope(store: &dyn Store) {
    let id = request_id(2);
    store
        .save_request_draft(&request_header(&id, "draft", 0, ASKED_AT))
        .await
        .unwrap();
    let mut appended = Vec::new();
    for (n, state, send) in [
        (1, "submitted", true),
        (2, "acknowledged", true),
        (3, "noted", false),
        (4, "answered", true),
    ] {
        let (log_before, outbox_before) = (
            log_size(store).await,
            store.outbox_after(REQUESTED, 0, 10_000).await.unwrap(),
        );
        let append = request_append(&id, n, state, "", send);
        assert!(
            store.append_request_event(&append).await.unwrap(),
            "event {n}"
        );
        assert_eq!(
            store.request(&id).await.unwrap(),
            Some(append.header.clone())
        );
        assert_eq!(log_size(store).await, log_before + 1, "event {n}");
        let kept = store
            .transparency_log()
            .openings_between(log_before, log_before + 1)
            .await
            .unwrap();
        assert_eq!(
            kept,
            vec![ScopedOpening {
                index: log_before,
                scope: REQUEST_SCOPE.into(),
                subject: append.log_entry.subject.clone(),
                opening: append.log_entry.opening.clone(),
            }]
        );
        assert_eq!(
            store
                .transparency_log()
                .log_entries(log_before, log_before + 1)
                .await
                .unwrap(),
            vec![append.log_entry.entry.clone()]
        );
        let outbox = store.outbox_after(REQUESTED, 0, 10_000).await.unwrap();
        match &append.send {
            Some((_, item)) => {
                assert_eq!(outbox.len(), outbox_before.len() + 1, "event {n}");
                let last = outbox.last().unwrap();
                assert_eq!(
                    (&last.id, last.kind, last.created_at, &last.body),
                    (&item.id, OutboxKind::Request, item.created_at, &item.body)
                );
            }
            None => assert_eq!(outbox, outbox_before, "event {n} sends nothing"),
        }
        appended.push(append.event);
    }
    let events = store.request_events(&id).await.unwrap();
    assert_eq!(events, appended);
    for (got, want) in events.iter().zip(&appended) {
        assert_eq!(got.json.as_bytes(), want.json.as_bytes());
    }
    assert!(events[1].json.contains("الرجاء") && events[1].json.contains("请尽快答复"));

    let fresh = request_id(3);
    let first = request_append(&fresh, 1, "submitted", "", false);
    assert!(store.append_request_event(&first).await.unwrap());
    assert_eq!(store.request(&fresh).await.unwrap(), Some(first.header));
    assert_eq!(
        store.request_events(&fresh).await.unwrap(),
        vec![first.event]
    );
}

/// A replay of a stored event returns `false`; another event at a stored place, a gap, an
/// event past 1 without a header and an envelope whose id is taken are conflicts. None of
/// them changes the header, the events, the log or the outbox.
async fn request_replays_and_conflicts_change_nothing(store: &dyn Store) {
    let id = request_id(4);
    for (n, state) in [(1, "submitted"), (2, "acknowledged")] {
        let append = request_append(&id, n, state, "", true);
        assert!(store.append_request_event(&append).await.unwrap());
    }
    let before = request_snapshot(store, &id).await;
    assert_eq!(before.1.len(), 2);

    for (n, state) in [(1, "submitted"), (2, "acknowledged")] {
        // The same event, whatever comes with it.
        let mut replay = request_append(&id, n, state, "", true);
        replay.header.state = "replayed".into();
        replay.header.document = "{}".into();
        replay.log_entry.entry = b"another entry".to_vec();
        replay.send.as_mut().unwrap().1.id = format!("replay-{n}");
        assert!(
            !store.append_request_event(&replay).await.unwrap(),
            "event {n}"
        );
        assert_eq!(request_snapshot(store, &id).await, before, "replay of {n}");
    }
    let mut other = request_append(&id, 2, "refused", "another", true);
    other.transfers = vec![SHA_A.into()];
    let r = store.append_request_event(&other).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(
        request_snapshot(store, &id).await,
        before,
        "another event 2"
    );

    let mut gap = request_append(&id, 4, "answered", "", true);
    gap.transfers = vec![SHA_A.into()];
    let r = store.append_request_event(&gap).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(request_snapshot(store, &id).await, before, "a gap");

    // Event 3 whose envelope id is taken: nothing of it is stored, not even its log entry.
    let mut taken = request_append(&id, 3, "answered", "", true);
    taken.send.as_mut().unwrap().1.id = before.3.last().unwrap().id.clone();
    taken.transfers = vec![SHA_A.into()];
    let r = store.append_request_event(&taken).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(
        request_snapshot(store, &id).await,
        before,
        "a taken envelope id"
    );

    // Event 2 of a request that has no header.
    let nowhere = request_id(5);
    let nowhere_before = request_snapshot(store, &nowhere).await;
    let r = store
        .append_request_event(&request_append(&nowhere, 2, "acknowledged", "", true))
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(request_snapshot(store, &nowhere).await, nowhere_before);
    assert_eq!(nowhere_before.0, None);

    // The next event in order still goes in.
    let next = request_append(&id, 3, "answered", "", true);
    assert!(store.append_request_event(&next).await.unwrap());
    assert_eq!(store.request(&id).await.unwrap(), Some(next.header));

    // The other party's event 2 supersedes the one held, and event 3 with it; naming the
    // wrong event to supersede changes nothing.
    let held = request_snapshot(store, &id).await;
    let mut wrong = request_append(&id, 2, "withdrawn", "theirs", false);
    wrong.replaces = Some(held.1[2].sha256.clone());
    let r = store.append_request_event(&wrong).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(
        request_snapshot(store, &id).await,
        held,
        "a wrong replacement"
    );
    let mut theirs = request_append(&id, 2, "withdrawn", "theirs", false);
    theirs.replaces = Some(held.1[1].sha256.clone());
    assert!(store.append_request_event(&theirs).await.unwrap());
    let (header, events, size, outbox, _) = request_snapshot(store, &id).await;
    assert_eq!(header, Some(theirs.header.clone()));
    assert_eq!(events, vec![held.1[0].clone(), theirs.event.clone()]);
    assert_eq!(size, held.2 + 1, "one log entry more");
    assert_eq!(outbox, held.3, "nothing sent");
}

/// Attachment SHA-256s of the transfer checks.
const SHA_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const SHA_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// The transfers an event lists are kept with it, in its transaction, once each, until
/// ended one by one; transfers with no envelope to follow are refused with the event.
async fn attachment_transfers_are_kept_with_their_event_until_ended(store: &dyn Store) {
    let (id, other) = (request_id(6), request_id(7));
    let transfer = |request: &str, sha256: &str| AttachmentTransfer {
        request: request.to_owned(),
        sha256: sha256.to_owned(),
        member: REQUESTED.to_owned(),
    };
    // Listed with no envelope to follow: refused, nothing stored.
    let before = request_snapshot(store, &id).await;
    let mut nowhere = request_append(&id, 1, "submitted", "", false);
    nowhere.transfers = vec![SHA_A.into()];
    let r = store.append_request_event(&nowhere).await;
    assert!(matches!(r, Err(StoreError::Backend(_))), "{r:?}");
    assert_eq!(request_snapshot(store, &id).await, before);

    let mut first = request_append(&id, 1, "submitted", "", true);
    first.transfers = vec![SHA_B.into(), SHA_A.into(), SHA_B.into()];
    assert!(store.append_request_event(&first).await.unwrap());
    let mut theirs = request_append(&other, 1, "submitted", "", true);
    theirs.transfers = vec![SHA_A.into()];
    assert!(store.append_request_event(&theirs).await.unwrap());
    let both = vec![transfer(&id, SHA_A), transfer(&id, SHA_B)];
    assert_eq!(store.attachment_transfers(Some(&id)).await.unwrap(), both);
    let mut all = both.clone();
    all.push(transfer(&other, SHA_A));
    assert_eq!(store.attachment_transfers(None).await.unwrap(), all);

    // A replay of the event starts nothing again.
    store.end_attachment_transfer(&both[0]).await.unwrap();
    assert!(!store.append_request_event(&first).await.unwrap());
    assert_eq!(
        store.attachment_transfers(Some(&id)).await.unwrap(),
        [transfer(&id, SHA_B)]
    );
    // Ending one twice, or one never started, changes nothing more.
    store.end_attachment_transfer(&both[0]).await.unwrap();
    store
        .end_attachment_transfer(&transfer(&request_id(8), SHA_A))
        .await
        .unwrap();
    store.end_attachment_transfer(&both[1]).await.unwrap();
    assert_eq!(store.attachment_transfers(Some(&id)).await.unwrap(), []);
    assert_eq!(
        store.attachment_transfers(None).await.unwrap(),
        [transfer(&other, SHA_A)]
    );
    // A later event may list the same bytes again.
    let mut again = request_append(&id, 2, "amended", "", true);
    again.transfers = vec![SHA_A.into()];
    assert!(store.append_request_event(&again).await.unwrap());
    assert_eq!(
        store.attachment_transfers(Some(&id)).await.unwrap(),
        [transfer(&id, SHA_A)]
    );
}

/// Stores the headers of [`requests_filter_and_page_exactly`]: six requests of two kinds,
/// three members and several states, two updated at the same time, some overdue.
async fn seed_requests(store: &dyn Store) {
    let t = ASKED_AT;
    let header = |n, kind: &str, (requester, requested): (&str, &str), state: &str, updated_at| {
        let id = request_id(n);
        RequestRecord {
            kind: kind.into(),
            requester: requester.into(),
            requested: requested.into(),
            ..request_header(&id, state, u64::from(state != "draft"), updated_at)
        }
    };
    let (assistance, preservation) = ("assistance", "preservation");
    let headers = [
        RequestRecord {
            due_at: Some(t + 100),
            ..header(11, assistance, (REQUESTER, REQUESTED), "submitted", t + 10)
        },
        RequestRecord {
            due_at: Some(t + 50),
            ..header(
                12,
                preservation,
                (REQUESTED, REQUESTER),
                "acknowledged",
                t + 20,
            )
        },
        RequestRecord {
            due_at: None,
            ..header(13, assistance, (REQUESTER, THIRD_PARTY), "draft", t + 30)
        },
        RequestRecord {
            due_at: Some(t + 200),
            ..header(
                14,
                assistance,
                (THIRD_PARTY, REQUESTED),
                "submitted",
                t + 30,
            )
        },
        RequestRecord {
            due_at: None,
            ..header(
                15,
                preservation,
                (THIRD_PARTY, REQUESTER),
                "submitted",
                t + 40,
            )
        },
        RequestRecord {
            due_at: Some(t + 10),
            ..header(16, assistance, (REQUESTED, THIRD_PARTY), "closed", t + 5)
        },
    ];
    for header in headers {
        if header.events == 0 {
            store.save_request_draft(&header).await.unwrap();
        } else {
            let mut append = request_append(&header.id, 1, &header.state, "", false);
            append.header = header;
            assert!(store.append_request_event(&append).await.unwrap());
        }
    }
}

async fn request_ids(store: &dyn Store, filter: RequestFilter) -> Vec<u32> {
    store
        .requests(&filter)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            r.id.strip_prefix("request--00000000-0000-4000-8000-")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unexpected id {}", r.id))
        })
        .collect()
}

/// Every filter narrows the list, together with the others; the list is newest first,
/// ties by id descending, and pages with `before` neither skip nor repeat.
async fn requests_filter_and_page_exactly(store: &dyn Store) {
    seed_requests(store).await;
    let t = ASKED_AT;
    let all = |limit| RequestFilter {
        limit,
        ..RequestFilter::default()
    };
    assert_eq!(request_ids(store, all(100)).await, [15, 14, 13, 12, 11, 16]);
    assert_eq!(request_ids(store, all(0)).await, Vec::<u32>::new());
    let partner = |id: &str| RequestFilter {
        partner: Some(id.into()),
        ..all(100)
    };
    assert_eq!(
        request_ids(store, partner(REQUESTER)).await,
        [15, 13, 12, 11]
    );
    assert_eq!(
        request_ids(store, partner(REQUESTED)).await,
        [14, 12, 11, 16]
    );
    assert_eq!(
        request_ids(store, partner(THIRD_PARTY)).await,
        [15, 14, 13, 16]
    );
    assert_eq!(
        request_ids(store, partner("identity--nobody")).await,
        Vec::<u32>::new()
    );
    let kind = RequestFilter {
        kind: Some("preservation".into()),
        ..all(100)
    };
    assert_eq!(request_ids(store, kind).await, [15, 12]);
    let state = RequestFilter {
        state: Some("submitted".into()),
        ..all(100)
    };
    assert_eq!(request_ids(store, state).await, [15, 14, 11]);
    // Strictly before; a request with no due time is never overdue.
    let overdue = RequestFilter {
        due_before: Some(t + 100),
        ..all(100)
    };
    assert_eq!(request_ids(store, overdue).await, [12, 16]);
    let combined = RequestFilter {
        partner: Some(REQUESTER.into()),
        kind: Some("assistance".into()),
        ..all(100)
    };
    assert_eq!(request_ids(store, combined).await, [13, 11]);
    let combined = RequestFilter {
        partner: Some(REQUESTED.into()),
        state: Some("submitted".into()),
        due_before: Some(t + 150),
        ..all(100)
    };
    assert_eq!(request_ids(store, combined).await, [11]);

    // Pages of two, then of one through a filter, each after the last of the previous.
    for (filter, want) in [
        (all(2), vec![15, 14, 13, 12, 11, 16]),
        (partner(REQUESTED), vec![14, 12, 11, 16]),
    ] {
        let size = if filter.partner.is_some() { 1 } else { 2 };
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = store
                .requests(&RequestFilter {
                    before: before.clone(),
                    limit: size,
                    ..filter.clone()
                })
                .await
                .unwrap();
            assert!(page.len() <= size);
            let Some(last) = page.last() else { break };
            before = Some((last.updated_at, last.id.clone()));
            seen.extend(page.iter().map(|r| r.id.clone()));
        }
        let want: Vec<String> = want.into_iter().map(request_id).collect();
        assert_eq!(seen, want);
    }
    // The tie at t + 30: after 14 comes 13, at the same time with a smaller id.
    let after_tie = RequestFilter {
        before: Some((t + 30, request_id(14))),
        ..all(100)
    };
    assert_eq!(request_ids(store, after_tie).await, [13, 12, 11, 16]);
}

/// Two different events for place `n` of request `id`, each with its own envelope id.
pub fn racing_request_appends(id: &str, n: u64) -> (RequestAppend, RequestAppend) {
    let state = if n == 1 { "submitted" } else { "amended" };
    (
        request_append(id, n, state, "a", true),
        request_append(id, n, state, "b", true),
    )
}

/// Checks a race of [`racing_request_appends`] for place `n`: exactly one append won
/// (`Ok(true)`), the other is a `Conflict`, and the store holds the winner with one log
/// entry and one envelope more than `before` ([`request_snapshot`]'s log size and
/// envelopes, before the race).
pub async fn check_request_race(
    store: &dyn Store,
    id: &str,
    n: u64,
    outcomes: [StoreResult<bool>; 2],
    log_before: u64,
    outbox_before: usize,
) {
    let (a, b) = racing_request_appends(id, n);
    let winner = match outcomes {
        [Ok(true), Err(StoreError::Conflict(_))] => a,
        [Err(StoreError::Conflict(_)), Ok(true)] => b,
        other => panic!("event {n}: one append must win and one conflict: {other:?}"),
    };
    assert_eq!(store.request(id).await.unwrap(), Some(winner.header));
    let events = store.request_events(id).await.unwrap();
    assert_eq!(events.len() as u64, n);
    assert_eq!(events.last(), Some(&winner.event));
    assert_eq!(log_size(store).await, log_before + 1);
    let outbox = store.outbox_after(REQUESTED, 0, 10_000).await.unwrap();
    assert_eq!(outbox.len(), outbox_before + 1);
    assert_eq!(outbox.last().unwrap().id, winner.send.unwrap().1.id);
}

/// Two different events claim the same place of one request at once, through `a` and `b`
/// (the same store, or two handles on one database standing for two processes), for
/// places 1 to 8: each time exactly one wins and the other is a conflict.
pub async fn request_appends_race_one_winner(a: &dyn Store, b: &dyn Store) {
    let id = request_id(20);
    for n in 1..=8 {
        let (log_before, outbox_before) = (
            log_size(a).await,
            a.outbox_after(REQUESTED, 0, 10_000).await.unwrap().len(),
        );
        let (x, y) = racing_request_appends(&id, n);
        let (rx, ry) = tokio::join!(a.append_request_event(&x), b.append_request_event(&y));
        check_request_race(a, &id, n, [rx, ry], log_before, outbox_before).await;
    }
}

fn feed_record(name: &str) -> FeedRecord {
    FeedRecord {
        name: name.into(),
        kind: "list".into(),
        url: format!("https://feeds.example/{name}.txt"),
        api_root: ROOT.into(),
        collection: "c1".into(),
        interval_secs: 3600,
        settings: r#"{"confidence":50}"#.into(),
        secret: Some(format!("secret of {name}")),
        created_at: 1_000,
    }
}

async fn feeds_round_trip(store: &dyn Store) {
    let first = FeedState {
        next_run: 1_000,
        ..FeedState::default()
    };
    // Added out of order, listed by name (byte-wise: "B" before "a").
    for name in ["b", "a", "B"] {
        store.add_feed(&feed_record(name), &first).await.unwrap();
    }
    let names: Vec<String> = store
        .feeds()
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.record.name)
        .collect();
    assert_eq!(names, ["B", "a", "b"]);
    let mut other = feed_record("a");
    other.url = "https://elsewhere.example/".into();
    assert!(matches!(
        store.add_feed(&other, &first).await,
        Err(StoreError::Conflict(_))
    ));
    let kept = store.feed("a").await.unwrap().unwrap();
    assert_eq!(kept.record, feed_record("a"), "a conflict changes nothing");
    assert_eq!(kept.state, first);
    let after = FeedState {
        cursor: Some("2026-12-07T00:00:00.000001Z".into()),
        last_run: Some(2_000),
        last_error: Some("503 from the source".into()),
        failures: 2,
        next_run: 9_000,
        runs: 5,
        failed_runs: 3,
        objects: 1_234,
    };
    store.save_feed_state("a", &after).await.unwrap();
    assert_eq!(store.feed("a").await.unwrap().unwrap().state, after);
    assert_eq!(store.feed("b").await.unwrap().unwrap().state, first);
    assert!(matches!(
        store.save_feed_state("nope", &after).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.feed("nope").await.unwrap(), None);
    store.remove_feed("a").await.unwrap();
    assert_eq!(store.feed("a").await.unwrap(), None);
    assert!(matches!(
        store.remove_feed("a").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.feeds().await.unwrap().len(), 2);
    // A name freed by removal can be taken again, from a fresh state.
    store.add_feed(&feed_record("a"), &first).await.unwrap();
    assert_eq!(store.feed("a").await.unwrap().unwrap().state, first);
}

fn feed_value(value: &str, created: &str) -> FeedValue {
    FeedValue {
        value: value.into(),
        created: created.into(),
    }
}

async fn feed_values_are_replaced_with_the_state(store: &dyn Store) {
    let first = FeedState {
        next_run: 1,
        ..FeedState::default()
    };
    store.add_feed(&feed_record("list"), &first).await.unwrap();
    store.add_feed(&feed_record("other"), &first).await.unwrap();
    assert!(store.feed_values("list").await.unwrap().is_empty());
    let ran = FeedState {
        cursor: Some("sha256:ab".into()),
        runs: 1,
        objects: 2,
        next_run: 2,
        ..first.clone()
    };
    let values = vec![
        feed_value("ipv4-addr:203.0.113.9", "2026-01-01T00:00:00Z"),
        feed_value("domain-name:evil.example", "2026-01-01T00:00:00Z"),
    ];
    store
        .replace_feed_values("list", &values, &ran)
        .await
        .unwrap();
    store
        .replace_feed_values("other", &values[..1], &ran)
        .await
        .unwrap();
    let mut sorted = values.clone();
    sorted.sort();
    assert_eq!(store.feed_values("list").await.unwrap(), sorted);
    assert_eq!(store.feed("list").await.unwrap().unwrap().state, ran);
    // A replacement drops what is gone and keeps only the new set.
    let next = vec![feed_value(
        "url:https://x.example/a b",
        "2026-02-01T00:00:00Z",
    )];
    let ran_again = FeedState {
        runs: 2,
        ..ran.clone()
    };
    store
        .replace_feed_values("list", &next, &ran_again)
        .await
        .unwrap();
    assert_eq!(store.feed_values("list").await.unwrap(), next);
    // A value twice refuses the whole replacement: values and state stay as they were.
    let twice = vec![next[0].clone(), next[0].clone()];
    let refused = FeedState {
        runs: 99,
        ..ran.clone()
    };
    assert!(store
        .replace_feed_values("list", &twice, &refused)
        .await
        .is_err());
    assert_eq!(store.feed_values("list").await.unwrap(), next);
    assert_eq!(store.feed("list").await.unwrap().unwrap().state, ran_again);
    // An unknown feed is refused, storing nothing.
    assert!(matches!(
        store.replace_feed_values("nope", &next, &ran).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.feed_values("nope").await.unwrap().is_empty());
    // Other feeds' values are their own; removal takes the values with the feed.
    assert_eq!(store.feed_values("other").await.unwrap(), values[..1]);
    store.remove_feed("list").await.unwrap();
    assert!(store.feed_values("list").await.unwrap().is_empty());
    store.add_feed(&feed_record("list"), &first).await.unwrap();
    assert!(store.feed_values("list").await.unwrap().is_empty());
}

/// Object texts that a store might be tempted to normalise, and sizes on either side of
/// what compression is worth: each must come back byte for byte.
pub fn hostile_texts() -> Vec<String> {
    let wide: String = (0..100_000u32)
        .map(|i| char::from_u32(0x4e00 + (i * 7919) % 0x5000).unwrap_or('?'))
        .collect();
    vec![
        String::new(),
        "{}".into(),
        r#"{"name":"ünïcödé ☃ 𝄞 \u0000 \"q\" \\","x":"\n\t"}"#.into(),
        "\u{feff}{ \"a\" :  1 ,\n \"b\" : [ ] }  ".into(),
        format!(r#"{{"description":"{wide}"}}"#),
        format!(r#"{{"x":"{}"}}"#, "0123456789abcdef".repeat(1 << 16)),
    ]
}

/// Version `n` of a run of indicators that differ the way real ones do.
fn varied_indicator(n: u32) -> NewObject {
    let mut o = indicator(910_000 + n, "2021-03-04T05:06:07.000Z");
    o.json = o.json.replace(
        "10.0.0.1",
        &format!("{}.{}.{}.{}", 11 + n % 200, n % 251, (n / 7) % 253, n % 255),
    );
    o
}

/// The collection of [`object_texts_come_back_byte_for_byte`], apart from the others.
fn texts_collection() -> CollectionRef {
    CollectionRef {
        api_root: ROOT.into(),
        id: "texts".into(),
    }
}

/// Adds `objects`, each as a new version; panics unless every one is added.
async fn add_all(store: &dyn Store, objects: Vec<NewObject>) {
    let n = objects.len();
    let out = store
        .add_objects(&texts_collection(), objects)
        .await
        .unwrap();
    assert_eq!(
        out.iter()
            .filter(|o| matches!(o, AddOutcome::Added { .. }))
            .count(),
        n
    );
}

/// Reads every version of the collection back through a paged query and the row walk of
/// the value index (the rows of its ids), and compares each text with what was added.
async fn assert_texts(store: &dyn Store, expected: &std::collections::HashMap<String, String>) {
    let mut seen = 0;
    let mut after = None;
    loop {
        let filter = ObjectFilter {
            versions: VersionFilter::all(),
            ..ObjectFilter::default()
        };
        let page = store
            .objects(
                &texts_collection(),
                &filter,
                &PageRequest { limit: 500, after },
            )
            .await
            .unwrap();
        for o in &page.items {
            assert_eq!(Some(&o.json), expected.get(&o.id), "{}", o.id);
            seen += 1;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, expected.len());
    let walked: Vec<StoredObject> = store
        .versions_after(0, usize::MAX >> 2)
        .await
        .unwrap()
        .into_iter()
        .filter(|o| expected.contains_key(&o.id))
        .collect();
    assert_eq!(walked.len(), expected.len());
    for o in walked {
        assert_eq!(Some(&o.json), expected.get(&o.id), "{}", o.id);
    }
}

/// Compression is invisible: hostile texts, added before and after the store has learnt a
/// dictionary from enough objects, read back byte for byte by id, by page and by row walk;
/// the same text again is already stored, another text at the same version a conflict.
pub async fn object_texts_come_back_byte_for_byte(store: &dyn Store) {
    let col = texts_collection();
    store
        .create_collection(Collection {
            id: col.id.clone(),
            api_root: ROOT.into(),
            title: "texts".into(),
            description: None,
            view: None,
            origin: None,
        })
        .await
        .unwrap();
    let mut expected = std::collections::HashMap::new();
    let mut hostile = |round: u32| -> Vec<NewObject> {
        hostile_texts()
            .into_iter()
            .enumerate()
            .map(|(i, json)| {
                let mut o = indicator(900_000 + round * 100 + i as u32, "2020-01-01T00:00:00.000Z");
                o.json = json;
                expected.insert(o.id.clone(), o.json.clone());
                o
            })
            .collect()
    };
    let before = hostile(1);
    let after = hostile(2);
    add_all(store, before.clone()).await;
    let many: Vec<NewObject> = (0..1_200).map(varied_indicator).collect();
    for o in &many {
        expected.insert(o.id.clone(), o.json.clone());
    }
    for chunk in many.chunks(300) {
        add_all(store, chunk.to_vec()).await;
    }
    add_all(store, after.clone()).await;
    for o in before
        .iter()
        .chain(&after)
        .chain(&many[..3])
        .chain(&many[1_197..])
    {
        let filter = ObjectFilter {
            ids: vec![o.id.clone()],
            versions: VersionFilter::last(),
            ..ObjectFilter::default()
        };
        let page = store
            .objects(
                &col,
                &filter,
                &PageRequest {
                    limit: 10,
                    after: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].json, o.json, "{}", o.id);
    }
    assert_texts(store, &expected).await;
    let again: Vec<NewObject> = before.iter().chain(&many[1_199..]).cloned().collect();
    let n = again.len();
    assert_eq!(
        store.add_objects(&col, again).await.unwrap(),
        vec![AddOutcome::AlreadyStored; n]
    );
    let mut changed = many[1_199].clone();
    changed.json = changed
        .json
        .replace("[ipv4-addr:value = '", "[ipv4-addr:value = '1");
    assert_eq!(
        store.add_objects(&col, vec![changed]).await.unwrap(),
        vec![AddOutcome::ConflictingVersion]
    );
    assert_texts(store, &expected).await;
}

/// The names of the checks, in the order [`run_all`] runs them; [`conformance_tests!`]
/// makes one test of each.
///
/// [`conformance_tests!`]: crate::conformance_tests
#[macro_export]
#[doc(hidden)]
macro_rules! __conformance_check_names {
    ($then:ident! $args:tt) => {
        $crate::$then! { $args
            roots_and_collections
            adding_is_idempotent_and_dates_increase
            version_flags_follow_modified
            filters_select_exactly
            paging_neither_skips_nor_repeats
            deleting_rederives_first_and_last
            statuses_round_trip
            users_and_grants
            node_secret_is_stable
            tokens_round_trip
            registry_round_trip
            views_round_trip
            roles_change
            log_appends_store_the_tlog_layout
            objects_and_commitments_are_stored_together
            openings_are_kept_per_scope_and_copied
            checkpoints_keep_the_largest
            witness_state_is_compare_and_swap
            trusted_logs_are_replaced_by_origin
            cosignatures_are_kept_per_witness_and_size
            witness_alerts_keep_each_evidence_once
            origins_round_trip
            outbox_seqs_are_per_peer_and_conflicts_append_nothing
            outbox_due_keeps_each_peers_order
            delivery_keeps_the_first_receipt
            outbox_peers_and_stats_are_exact
            outbox_pushes_race_without_gaps
            inbox_journal_keeps_the_first_record
            inbox_apply_is_one_transaction
            removing_a_member_drops_only_what_waits_for_it
            meta_version_follows_what_servers_cache
            one_time_ids_are_used_once_until_they_expire
            collections_are_federated_only_when_turned_on
            requests_filter_and_page_exactly
            request_drafts_are_replaced_only_while_drafts
            request_events_append_in_order_with_log_and_envelope
            request_replays_and_conflicts_change_nothing
            attachment_transfers_are_kept_with_their_event_until_ended
            request_appends_race_one_winner
            value_postings_follow_their_versions
            reindexing_replaces_each_versions_postings
            feeds_round_trip
            feed_values_are_replaced_with_the_state
            governance_acts_are_written_once_with_log_and_envelopes
            governance_outcomes_apply_their_effect_or_nothing
            governance_cancellations_are_stored_once_and_end_voting
            governance_decided_proposals_are_stored_whole_or_not_at_all
            object_texts_come_back_byte_for_byte
        }
    };
}

// Governance.

/// A time in microseconds around which the governance checks happen.
const TABLED_AT: i64 = 1_796_083_200_000_000;
/// The member to which governance acts are sent.
const VOTER: &str = "identity--00000000-0000-4000-8000-0000000000b2";

fn proposal_id(n: u32) -> String {
    format!("proposal--00000000-0000-4000-8000-{n:012}")
}

/// Proposal `n`, tabled `n` microseconds after [`TABLED_AT`], its deadline an hour later;
/// `variant` makes another text under the same id.
fn proposal_record(n: u32, variant: &str) -> ProposalRecord {
    let json = format!(
        r#"{{"id":"{}","texts":{{"ar":"نص","zh":"文本 {variant}"}}}}"#,
        proposal_id(n)
    );
    ProposalRecord {
        id: proposal_id(n),
        kind: "adopt_norm".into(),
        proposer: REQUESTER.into(),
        tabled_at: TABLED_AT + i64::from(n),
        deadline: TABLED_AT + i64::from(n) + 3_600_000_000,
        sha256: format!("{:0>64}", json.len() + variant.len()),
        json,
    }
}

fn ballot_record(proposal: &str, n: u32, refusal: Option<&str>) -> BallotRecord {
    BallotRecord {
        proposal: proposal.into(),
        sha256: format!("{n:0>64}"),
        member: n.is_multiple_of(2).then(|| VOTER.to_owned()),
        received_at: TABLED_AT + i64::from(n),
        refusal: refusal.map(str::to_owned),
        json: format!(r#"{{"proposal":"{proposal}","n":{n},"note":"\u00e9\n"}}"#),
    }
}

/// An act committed by one log entry about `subject`, sent to `to`.
fn governance_act(subject: &str, to: &[&str]) -> GovernanceAct {
    GovernanceAct {
        log_entries: vec![OpenableEntry {
            entry: format!("governance act {subject}").into_bytes(),
            subject: subject.into(),
            opening: format!("opening of {subject}").into_bytes(),
        }],
        sends: to
            .iter()
            .map(|peer| {
                (
                    (*peer).to_owned(),
                    OutboxItem {
                        id: format!("{subject} to {peer}"),
                        kind: OutboxKind::Governance,
                        created_at: TABLED_AT,
                        body: format!(r#"{{"act":"{subject}"}}"#),
                    },
                )
            })
            .collect(),
    }
}

/// What governance looks like from outside: proposals, ballots of `proposal`, its outcome,
/// the rules, the norms, the log's size and the voter's outbox.
async fn governance_snapshot(
    store: &dyn Store,
    proposal: &str,
) -> (
    Vec<ProposalRecord>,
    Vec<BallotRecord>,
    Option<OutcomeRecord>,
    Option<RulesVersion>,
    Vec<NormVersion>,
    u64,
    Vec<OutboxEntry>,
) {
    (
        store.proposals(100).await.unwrap(),
        store.ballots(proposal).await.unwrap(),
        store.outcome(proposal).await.unwrap(),
        store.rules_in_force().await.unwrap(),
        store.norms().await.unwrap(),
        log_size(store).await,
        store.outbox_after(VOTER, 0, 10_000).await.unwrap(),
    )
}

/// A proposal and each ballot are stored once, each with its log entry (opening kept under
/// the governance scope) and its envelopes; the same act again changes nothing, another
/// text under the same id or a ballot on an unknown proposal is refused, changing nothing.
/// Lists come back newest first, ballots in the order received, byte for byte.
pub async fn governance_acts_are_written_once_with_log_and_envelopes(store: &dyn Store) {
    let (p1, p2) = (proposal_record(1, ""), proposal_record(2, ""));
    assert_eq!(store.proposal(&p1.id).await.unwrap(), None);
    let log_before = log_size(store).await;
    let act = governance_act(&p1.id, &[VOTER, REQUESTED]);
    assert!(store.table_proposal(&p1, &act).await.unwrap());
    assert_eq!(store.proposal(&p1.id).await.unwrap(), Some(p1.clone()));
    assert_eq!(log_size(store).await, log_before + 1);
    let kept = store
        .transparency_log()
        .openings_between(log_before, log_before + 1)
        .await
        .unwrap();
    assert_eq!(kept[0].scope, GOVERNANCE_SCOPE);
    assert_eq!(kept[0].subject, p1.id);
    let outbox = store.outbox_after(VOTER, 0, 10_000).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(
        (outbox[0].kind, outbox[0].body.as_str()),
        (OutboxKind::Governance, act.sends[0].1.body.as_str())
    );
    assert_eq!(
        store
            .outbox_after(REQUESTED, 0, 10_000)
            .await
            .unwrap()
            .len(),
        1
    );

    let before = governance_snapshot(store, &p1.id).await;
    assert!(
        !store.table_proposal(&p1, &act).await.unwrap(),
        "the same again"
    );
    let other = proposal_record(1, "other");
    let refused = store
        .table_proposal(&other, &governance_act("other", &[VOTER]))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(governance_snapshot(store, &p1.id).await, before);

    assert!(store
        .table_proposal(&p2, &governance_act(&p2.id, &[]))
        .await
        .unwrap());
    let ids: Vec<String> = store
        .proposals(10)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, vec![p2.id.clone(), p1.id.clone()]);
    assert_eq!(store.proposals(1).await.unwrap(), vec![p2.clone()]);
    assert_eq!(store.proposals_due(p1.deadline - 1).await.unwrap(), vec![]);
    assert_eq!(
        store.proposals_due(p1.deadline).await.unwrap(),
        vec![p1.clone()]
    );
    assert_eq!(
        store.proposals_due(p2.deadline).await.unwrap(),
        vec![p1.clone(), p2.clone()]
    );

    let ballots = [
        ballot_record(&p1.id, 3, None),
        ballot_record(&p1.id, 2, Some(r#"{"reason":"bad_signature"}"#)),
        ballot_record(&p1.id, 1, None),
    ];
    for b in &ballots {
        let log_before = log_size(store).await;
        assert!(store
            .add_ballot(b, &governance_act(&b.sha256, &[VOTER]))
            .await
            .unwrap());
        assert_eq!(log_size(store).await, log_before + 1);
    }
    let before = governance_snapshot(store, &p1.id).await;
    assert_eq!(before.1, ballots.to_vec(), "in the order received");
    assert!(before.1[0].json.contains("\\u00e9\\n"));
    assert!(!store
        .add_ballot(&ballots[1], &governance_act("again", &[VOTER]))
        .await
        .unwrap());
    let unknown = ballot_record(&proposal_id(9), 4, None);
    let refused = store
        .add_ballot(&unknown, &governance_act("x", &[VOTER]))
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(_))),
        "{refused:?}"
    );
    assert_eq!(governance_snapshot(store, &p1.id).await, before);
    assert_eq!(store.ballots(&p2.id).await.unwrap(), vec![]);
    assert_eq!(store.ballots(&proposal_id(9)).await.unwrap(), vec![]);
}

/// Proposal `proposal` canceled by its proposer; `variant` makes another text.
fn cancellation_record(proposal: &str, variant: &str) -> CancellationRecord {
    let json = format!(r#"{{"proposal":"{proposal}","note":"«{variant}»"}}"#);
    CancellationRecord {
        proposal: proposal.into(),
        member: REQUESTER.into(),
        at: TABLED_AT + 5,
        sha256: format!("{:0>64}", json.len() + variant.len()),
        json,
    }
}

/// A proposal's cancellation is stored once with its log entry and envelopes; it takes the
/// proposal out of those due for counting and refuses later ballots. The same again changes
/// nothing; another cancellation, one of a counted proposal or of an unknown one is
/// refused, changing nothing.
pub async fn governance_cancellations_are_stored_once_and_end_voting(store: &dyn Store) {
    let (p, counted) = (proposal_record(21, ""), proposal_record(22, ""));
    for q in [&p, &counted] {
        store
            .table_proposal(q, &governance_act(&q.id, &[]))
            .await
            .unwrap();
    }
    assert_eq!(store.cancellation(&p.id).await.unwrap(), None);
    assert_eq!(due_among(store, std::slice::from_ref(&p)).await, 1);
    let k = cancellation_record(&p.id, "");
    let log_before = log_size(store).await;
    let outbox_before = store.outbox_after(VOTER, 0, 10_000).await.unwrap().len();
    assert!(store
        .cancel_proposal(&k, &governance_act(&format!("{}#canceled", p.id), &[VOTER]))
        .await
        .unwrap());
    assert_eq!(log_size(store).await, log_before + 1);
    assert_eq!(
        store.outbox_after(VOTER, 0, 10_000).await.unwrap().len(),
        outbox_before + 1
    );
    assert_eq!(store.cancellation(&p.id).await.unwrap(), Some(k.clone()));
    assert_eq!(due_among(store, std::slice::from_ref(&p)).await, 0);

    let before = governance_snapshot(store, &p.id).await;
    assert!(!store
        .cancel_proposal(&k, &governance_act("again", &[VOTER]))
        .await
        .unwrap());
    let other = store
        .cancel_proposal(
            &cancellation_record(&p.id, "other"),
            &governance_act("other", &[VOTER]),
        )
        .await;
    assert!(matches!(other, Err(StoreError::Conflict(_))), "{other:?}");
    let ballot = store
        .add_ballot(
            &ballot_record(&p.id, 8, None),
            &governance_act("ballot", &[VOTER]),
        )
        .await;
    assert!(matches!(ballot, Err(StoreError::Conflict(_))), "{ballot:?}");
    let unknown = store
        .cancel_proposal(
            &cancellation_record(&proposal_id(29), ""),
            &governance_act("unknown", &[VOTER]),
        )
        .await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound(_))),
        "{unknown:?}"
    );
    assert_eq!(governance_snapshot(store, &p.id).await, before);
    assert_eq!(store.cancellation(&p.id).await.unwrap(), Some(k));

    let outcome = OutcomeRecord {
        proposal: counted.id.clone(),
        decision: "defeated".into(),
        digest: format!("{:0>64}", 22),
        counted_at: counted.deadline,
        executed_at: None,
        json: format!(r#"{{"proposal":"{}"}}"#, counted.id),
    };
    assert!(store
        .record_outcome(&outcome, None, &governance_act("counted", &[]))
        .await
        .unwrap());
    let before = governance_snapshot(store, &counted.id).await;
    let late = store
        .cancel_proposal(
            &cancellation_record(&counted.id, ""),
            &governance_act("late", &[VOTER]),
        )
        .await;
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
    assert_eq!(governance_snapshot(store, &counted.id).await, before);
    assert_eq!(store.cancellation(&counted.id).await.unwrap(), None);
}

/// How many of `ps` are due for counting (past their deadline, no outcome).
async fn due_among(store: &dyn Store, ps: &[ProposalRecord]) -> usize {
    store
        .proposals_due(i64::MAX)
        .await
        .unwrap()
        .iter()
        .filter(|p| ps.contains(p))
        .count()
}

/// A proposal decided on other nodes is stored whole (the proposal, the ballots not held
/// yet, its outcome, its effect and log entries) or not at all: an effect that cannot apply,
/// a ballot of another proposal, another text under its id or a cancellation held here
/// leave everything as it was; once stored, the same again changes nothing.
pub async fn governance_decided_proposals_are_stored_whole_or_not_at_all(store: &dyn Store) {
    let (p, held, canceled) = (
        proposal_record(31, ""),
        proposal_record(32, ""),
        proposal_record(33, ""),
    );
    let decided = |p: &ProposalRecord, ballots: &[u32]| Decided {
        proposal: p.clone(),
        ballots: ballots
            .iter()
            .map(|n| ballot_record(&p.id, *n, None))
            .collect(),
        outcome: OutcomeRecord {
            proposal: p.id.clone(),
            decision: "succeeded".into(),
            digest: format!("{:0>64}", 31),
            counted_at: p.deadline + 5,
            executed_at: Some(p.deadline),
            json: format!(r#"{{"proposal":"{}","yes":2}}"#, p.id),
        },
    };
    let act = |p: &ProposalRecord| governance_act(&format!("{}#decided", p.id), &[]);
    let whole = decided(&p, &[41, 42]);
    let adopt = Effect::Norm(norm_version("norm-decided", 1, &p.id));
    let before = governance_snapshot(store, &p.id).await;
    let mut other_ballot = whole.clone();
    other_ballot.ballots[1].proposal = held.id.clone();
    let refused = store
        .record_decided(&other_ballot, Some(&adopt), &act(&p))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Backend(_))),
        "{refused:?}"
    );
    let wrong = Effect::Norm(norm_version("norm-decided", 2, &p.id));
    let refused = store.record_decided(&whole, Some(&wrong), &act(&p)).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(governance_snapshot(store, &p.id).await, before);

    let log_before = log_size(store).await;
    assert!(store
        .record_decided(&whole, Some(&adopt), &act(&p))
        .await
        .unwrap());
    assert_eq!(log_size(store).await, log_before + 1);
    assert_eq!(store.proposal(&p.id).await.unwrap(), Some(p.clone()));
    assert_eq!(store.ballots(&p.id).await.unwrap(), whole.ballots);
    assert_eq!(
        store.outcome(&p.id).await.unwrap(),
        Some(whole.outcome.clone())
    );
    assert!(store
        .norms()
        .await
        .unwrap()
        .contains(&norm_version("norm-decided", 1, &p.id)));
    let after = governance_snapshot(store, &p.id).await;
    assert!(!store
        .record_decided(&whole, Some(&adopt), &act(&p))
        .await
        .unwrap());
    assert_eq!(governance_snapshot(store, &p.id).await, after);

    // Listed among the decided, by deadline then id, after a given one.
    let listed = |all: Vec<ProposalRecord>| -> Vec<String> {
        all.into_iter()
            .map(|p| p.id)
            .filter(|id| [31, 32, 33].map(proposal_id).contains(id))
            .collect()
    };
    assert_eq!(
        listed(store.decided(None, usize::MAX).await.unwrap()),
        vec![p.id.clone()]
    );
    assert_eq!(
        listed(
            store
                .decided(Some((p.deadline, &p.id)), usize::MAX)
                .await
                .unwrap()
        ),
        Vec::<String>::new()
    );
    // Held already with one of its ballots: the others are added.
    store
        .table_proposal(&held, &governance_act(&held.id, &[]))
        .await
        .unwrap();
    store
        .add_ballot(
            &ballot_record(&held.id, 41, None),
            &governance_act("b", &[]),
        )
        .await
        .unwrap();
    assert!(store
        .record_decided(&decided(&held, &[41, 43]), None, &act(&held))
        .await
        .unwrap());
    let ballots = store.ballots(&held.id).await.unwrap();
    assert_eq!(ballots, decided(&held, &[41, 43]).ballots);
    assert_eq!(
        listed(
            store
                .decided(Some((p.deadline - 1, &p.id)), usize::MAX)
                .await
                .unwrap()
        ),
        vec![p.id.clone(), held.id.clone()]
    );
    assert_eq!(
        listed(
            store
                .decided(Some((p.deadline, &p.id)), usize::MAX)
                .await
                .unwrap()
        ),
        vec![held.id.clone()]
    );
    let first = store.decided(None, 1).await.unwrap();
    assert_eq!(first.len(), 1);

    // Another text under its id, or canceled here: refused, changing nothing.
    store
        .table_proposal(&canceled, &governance_act(&canceled.id, &[]))
        .await
        .unwrap();
    store
        .cancel_proposal(
            &cancellation_record(&canceled.id, ""),
            &governance_act("k", &[]),
        )
        .await
        .unwrap();
    let before = governance_snapshot(store, &canceled.id).await;
    let refused = store
        .record_decided(&decided(&canceled, &[44]), None, &act(&canceled))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let another = decided(&proposal_record(33, "another"), &[45]);
    let refused = store.record_decided(&another, None, &act(&canceled)).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(governance_snapshot(store, &canceled.id).await, before);
}

fn norm_version(norm: &str, version: u64, proposal: &str) -> NormVersion {
    NormVersion {
        norm: norm.into(),
        version,
        texts: format!(r#"{{"en":"Norm {norm}, version {version}","fr":"Norme « {norm} »"}}"#),
        repealed: false,
        proposal: proposal.into(),
        at: TABLED_AT + 10 * version as i64,
    }
}

/// What a node starts its governance with (the rules first, then norms) is applied once,
/// all or nothing, before any proposal. An outcome is stored
/// once, with its effect (a norm version, new rules, a member record) and its log entries
/// in one transaction; an effect that cannot apply stores nothing, the outcome included;
/// no ballot is taken once an outcome is stored.
pub async fn governance_outcomes_apply_their_effect_or_nothing(store: &dyn Store) {
    let first = RulesVersion {
        version: 1,
        json: r#"{"quorum":"1/2"}"#.into(),
        proposal: None,
        at: TABLED_AT,
    };
    assert_eq!(store.rules_in_force().await.unwrap(), None);
    let log_before = log_size(store).await;
    // Founding without the rules first, or with a norm that cannot apply: nothing stays.
    let founding_norm = norm_version("norm-z", 1, "genesis--1");
    let act = || governance_act("genesis", &[]);
    for wrong in [
        vec![Effect::Norm(founding_norm.clone())],
        vec![
            Effect::Rules(first.clone()),
            Effect::Norm(norm_version("norm-y", 2, "genesis--1")),
        ],
    ] {
        let refused = store.found(&wrong, &act()).await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
    }
    assert_eq!(store.rules_in_force().await.unwrap(), None);
    assert_eq!(store.norms().await.unwrap(), vec![]);
    assert_eq!(log_size(store).await, log_before);
    store
        .found(
            &[
                Effect::Rules(first.clone()),
                Effect::Norm(founding_norm.clone()),
            ],
            &act(),
        )
        .await
        .unwrap();
    assert_eq!(log_size(store).await, log_before + 1);
    assert_eq!(store.rules_in_force().await.unwrap(), Some(first.clone()));
    assert_eq!(store.norms().await.unwrap(), vec![founding_norm.clone()]);
    let again = store.found(&[Effect::Rules(first.clone())], &act()).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");

    let ps: Vec<ProposalRecord> = (11..=15).map(|n| proposal_record(n, "")).collect();
    for p in &ps {
        store
            .table_proposal(p, &governance_act(&p.id, &[]))
            .await
            .unwrap();
    }
    let outcome = |p: &ProposalRecord, executed: bool| OutcomeRecord {
        proposal: p.id.clone(),
        decision: "succeeded".into(),
        digest: format!("{:0>64}", p.id.len()),
        counted_at: p.deadline,
        executed_at: executed.then_some(p.deadline),
        json: format!(r#"{{"proposal":"{}","yes":3}}"#, p.id),
    };
    let two_entries = |p: &ProposalRecord| GovernanceAct {
        log_entries: [
            governance_act(&format!("{}#outcome", p.id), &[]),
            governance_act(&format!("{}#executed", p.id), &[]),
        ]
        .into_iter()
        .flat_map(|a| a.log_entries)
        .collect(),
        sends: Vec::new(),
    };

    // Adopting a norm.
    let adopt = Effect::Norm(norm_version("norm-a", 1, &ps[0].id));
    let log_before = log_size(store).await;
    assert!(store
        .record_outcome(&outcome(&ps[0], true), Some(&adopt), &two_entries(&ps[0]))
        .await
        .unwrap());
    assert_eq!(log_size(store).await, log_before + 2);
    assert_eq!(
        store.outcome(&ps[0].id).await.unwrap(),
        Some(outcome(&ps[0], true))
    );
    assert_eq!(
        store.norms().await.unwrap(),
        vec![norm_version("norm-a", 1, &ps[0].id), founding_norm.clone()]
    );
    assert_eq!(due_among(store, &ps).await, 4);
    // The same outcome again, or a ballot after it: nothing changes.
    let before = governance_snapshot(store, &ps[0].id).await;
    assert!(!store
        .record_outcome(&outcome(&ps[0], true), Some(&adopt), &two_entries(&ps[0]))
        .await
        .unwrap());
    let late = store
        .add_ballot(
            &ballot_record(&ps[0].id, 7, None),
            &governance_act("late", &[VOTER]),
        )
        .await;
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
    assert_eq!(governance_snapshot(store, &ps[0].id).await, before);

    // Effects that cannot apply store nothing, the outcome and its log entries included.
    let member = |status: &str, doc: &str| RegistryEntry {
        kind: RegistryKind::Member,
        id: VOTER.into(),
        status: status.parse().unwrap(),
        document: doc.into(),
        updated_at: TABLED_AT,
    };
    store
        .add_registry_entry(&member("active", "{}"))
        .await
        .unwrap();
    let failing = [
        Effect::Norm(norm_version("norm-a", 1, &ps[1].id)),
        Effect::Norm(norm_version("norm-b", 2, &ps[1].id)),
        Effect::Rules(RulesVersion {
            version: 3,
            ..first.clone()
        }),
        Effect::Member {
            entry: member("active", "{}"),
            expected: None,
        },
        Effect::Member {
            entry: member("suspended", "{}"),
            expected: Some(member("suspended", "{}")),
        },
    ];
    let unknown = OutcomeRecord {
        proposal: proposal_id(99),
        ..outcome(&ps[1], false)
    };
    let missing = store
        .record_outcome(&unknown, None, &two_entries(&ps[1]))
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
    for effect in &failing {
        let before = governance_snapshot(store, &ps[1].id).await;
        let registry_before = store.registry(RegistryKind::Member).await.unwrap();
        let refused = store
            .record_outcome(&outcome(&ps[1], true), Some(effect), &two_entries(&ps[1]))
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{effect:?}: {refused:?}"
        );
        assert_eq!(
            governance_snapshot(store, &ps[1].id).await,
            before,
            "{effect:?}"
        );
        assert_eq!(
            store.registry(RegistryKind::Member).await.unwrap(),
            registry_before
        );
    }

    // Effects that apply: an amendment, new rules, a suspension, an admission; a defeat
    // has none.
    let amend = Effect::Norm(NormVersion {
        repealed: true,
        texts: "{}".into(),
        ..norm_version("norm-a", 2, &ps[1].id)
    });
    let rules = RulesVersion {
        version: 2,
        json: r#"{"quorum":"2/3"}"#.into(),
        proposal: Some(ps[2].id.clone()),
        at: ps[2].deadline,
    };
    let admitted = RegistryEntry {
        id: "identity--00000000-0000-4000-8000-0000000000c3".into(),
        ..member("active", r#"{"country":"FR"}"#)
    };
    let applied = [
        (&ps[1], Some(amend)),
        (&ps[2], Some(Effect::Rules(rules.clone()))),
        (
            &ps[3],
            Some(Effect::Member {
                entry: member("suspended", "{}"),
                expected: Some(member("active", "{}")),
            }),
        ),
        (
            &ps[4],
            Some(Effect::Member {
                entry: admitted.clone(),
                expected: None,
            }),
        ),
    ];
    for (p, effect) in &applied {
        assert!(store
            .record_outcome(&outcome(p, true), effect.as_ref(), &two_entries(p))
            .await
            .unwrap());
    }
    let norms = store.norms().await.unwrap();
    assert_eq!(norms.len(), 3);
    assert_eq!((norms[1].version, norms[1].repealed), (2, true));
    assert_eq!(store.rules_in_force().await.unwrap(), Some(rules.clone()));
    assert_eq!(
        store.rules_versions().await.unwrap(),
        vec![first.clone(), rules]
    );
    let voter = store
        .registry_entry(RegistryKind::Member, VOTER)
        .await
        .unwrap();
    assert_eq!(voter.map(|m| m.status.as_str()), Some("suspended"));
    let admitted_id = admitted.id.clone();
    assert_eq!(
        store
            .registry_entry(RegistryKind::Member, &admitted_id)
            .await
            .unwrap(),
        Some(admitted)
    );
    assert_eq!(due_among(store, &ps).await, 0);
}

/// One test per conformance check, each on a fresh store of its own, so that one failing
/// check hides none of the others and the tests may run in parallel.
///
/// `$fresh` is a closure returning a future of `(store, guard)`: the store to check (any
/// type that derefs or coerces to `&dyn Store` through `&store`) and whatever must live as
/// long as the test does (a temporary directory, a database dropped afterwards).
///
/// ```ignore
/// comity_store::conformance_tests!(|| async {
///     let dir = tempfile::tempdir().unwrap();
///     (SqliteStore::open(dir.path()).unwrap(), dir)
/// });
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:expr) => {
        $crate::__conformance_check_names!(__conformance_tests_each!($fresh));
    };
}

#[macro_export]
#[doc(hidden)]
macro_rules! __conformance_tests_each {
    ($fresh:tt $($check:ident)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (store, guard) = ($fresh)().await;
                $crate::conformance::checks::$check(&store).await;
                drop(store);
                drop(guard);
            }
        )*
    };
}

/// Each check as [`conformance_tests!`] runs it on a fresh, empty store: the store is
/// seeded with [`seed_small`], then the checks whose data this one reads run first (as in
/// [`run_all`]), then the check itself. The transparency log checks pass without looking
/// when the backend has no log, as [`run_all`] skips them.
///
/// [`conformance_tests!`]: crate::conformance_tests
pub mod checks {
    use super::*;

    /// A check on the store, after `seed_small` and the checks named in `after`.
    macro_rules! on_store {
        ($($name:ident after [$($before:ident),*];)*) => {$(
            #[doc = concat!("`", stringify!($name), "`, on a fresh store.")]
            pub async fn $name(store: &dyn Store) {
                seed_small(store).await;
                $( super::$before(store).await; )*
                super::$name(store).await;
            }
        )*};
    }

    on_store! {
        roots_and_collections after [];
        adding_is_idempotent_and_dates_increase after [];
        version_flags_follow_modified after [];
        filters_select_exactly after [
            adding_is_idempotent_and_dates_increase,
            version_flags_follow_modified
        ];
        paging_neither_skips_nor_repeats after [
            adding_is_idempotent_and_dates_increase,
            version_flags_follow_modified,
            filters_select_exactly
        ];
        deleting_rederives_first_and_last after [version_flags_follow_modified];
        statuses_round_trip after [];
        users_and_grants after [];
        node_secret_is_stable after [];
        tokens_round_trip after [];
        registry_round_trip after [];
        views_round_trip after [];
        roles_change after [users_and_grants];
        origins_round_trip after [];
        outbox_seqs_are_per_peer_and_conflicts_append_nothing after [];
        outbox_due_keeps_each_peers_order after [
            outbox_seqs_are_per_peer_and_conflicts_append_nothing
        ];
        delivery_keeps_the_first_receipt after [
            outbox_seqs_are_per_peer_and_conflicts_append_nothing,
            outbox_due_keeps_each_peers_order
        ];
        outbox_peers_and_stats_are_exact after [
            outbox_seqs_are_per_peer_and_conflicts_append_nothing,
            outbox_due_keeps_each_peers_order,
            delivery_keeps_the_first_receipt
        ];
        inbox_journal_keeps_the_first_record after [];
        inbox_apply_is_one_transaction after [inbox_journal_keeps_the_first_record];
        removing_a_member_drops_only_what_waits_for_it after [
            outbox_seqs_are_per_peer_and_conflicts_append_nothing,
            outbox_due_keeps_each_peers_order,
            delivery_keeps_the_first_receipt
        ];
        meta_version_follows_what_servers_cache after [];
        one_time_ids_are_used_once_until_they_expire after [];
        collections_are_federated_only_when_turned_on after [];
        request_drafts_are_replaced_only_while_drafts after [];
        request_events_append_in_order_with_log_and_envelope after [];
        request_replays_and_conflicts_change_nothing after [];
        attachment_transfers_are_kept_with_their_event_until_ended after [];
        requests_filter_and_page_exactly after [];
        value_postings_follow_their_versions after [];
        reindexing_replaces_each_versions_postings after [];
        feeds_round_trip after [];
        feed_values_are_replaced_with_the_state after [];
        governance_acts_are_written_once_with_log_and_envelopes after [];
        governance_outcomes_apply_their_effect_or_nothing after [];
        governance_cancellations_are_stored_once_and_end_voting after [];
        governance_decided_proposals_are_stored_whole_or_not_at_all after [];
        object_texts_come_back_byte_for_byte after [];
    }

    /// The race of [`super::request_appends_race_one_winner`] through one store.
    pub async fn request_appends_race_one_winner(store: &dyn Store) {
        seed_small(store).await;
        super::request_appends_race_one_winner(store, store).await;
    }

    /// The race of [`super::outbox_pushes_race_without_gaps`] through one store.
    pub async fn outbox_pushes_race_without_gaps(store: &dyn Store) {
        seed_small(store).await;
        super::outbox_pushes_race_without_gaps(store, store).await;
    }

    /// A check on the log, after `seed_small` and the log checks named in `after`.
    macro_rules! on_log {
        ($($name:ident after [$($before:ident),*];)*) => {$(
            #[doc = concat!("`", stringify!($name), "`, on a fresh store's log.")]
            pub async fn $name(store: &dyn Store) {
                let log = store.transparency_log();
                seed_small(store).await;
                $( log_step!($before, store, log); )*
                log_step!($name, store, log);
            }
        )*};
    }

    /// Runs one log check, with the store where it takes one.
    macro_rules! log_step {
        (adding_is_idempotent_and_dates_increase, $store:ident, $log:ident) => {
            super::adding_is_idempotent_and_dates_increase($store).await
        };
        (objects_and_commitments_are_stored_together, $store:ident, $log:ident) => {
            super::objects_and_commitments_are_stored_together($store, $log).await
        };
        ($name:ident, $store:ident, $log:ident) => {
            super::$name($log).await
        };
    }

    on_log! {
        log_appends_store_the_tlog_layout after [];
        objects_and_commitments_are_stored_together after [
            adding_is_idempotent_and_dates_increase,
            log_appends_store_the_tlog_layout
        ];
        openings_are_kept_per_scope_and_copied after [
            adding_is_idempotent_and_dates_increase,
            log_appends_store_the_tlog_layout,
            objects_and_commitments_are_stored_together
        ];
        checkpoints_keep_the_largest after [];
        witness_state_is_compare_and_swap after [];
        trusted_logs_are_replaced_by_origin after [];
        cosignatures_are_kept_per_witness_and_size after [];
        witness_alerts_keep_each_evidence_once after [];
    }
}

/// A block's ends for an IPv4 block `a.b.c.d/prefix`.
fn v4_block(addr: [u8; 4], prefix: u32) -> NetRange {
    let bits = u32::from_be_bytes(addr);
    let host = if prefix == 0 {
        u32::MAX
    } else {
        (1u32 << (32 - prefix)) - 1
    };
    let (lo, hi) = (u128::from(bits & !host), u128::from(bits | host));
    NetRange {
        lo: lo.to_be_bytes(),
        hi: hi.to_be_bytes(),
    }
}

fn indexed(kind: &str, value: &str, net: Option<NetRange>) -> IndexedValue {
    IndexedValue {
        kind: kind.into(),
        value: value.into(),
        net,
    }
}

/// A version of object `type--…{n}` carrying `values`.
fn with_values(object_type: &str, n: u32, modified: &str, values: Vec<IndexedValue>) -> NewObject {
    let id = format!("{object_type}--00000000-0000-4000-8000-{n:012}");
    NewObject {
        json: format!(
            r#"{{"type":"{object_type}","spec_version":"2.1","id":"{id}","modified":"{modified}","n":{}}}"#,
            values.len()
        ),
        id,
        object_type: object_type.into(),
        version: modified.into(),
        version_key: modified.replace(".000Z", ".000000000Z"),
        spec_version: "2.1".into(),
        values,
    }
}

/// `(object id, version, is_last)` of each posting, sorted.
fn posted(postings: &[Posting]) -> Vec<(String, String, String, bool)> {
    let mut out: Vec<_> = postings
        .iter()
        .map(|p| {
            (
                p.object.id.clone(),
                p.object.version.clone(),
                p.value.clone(),
                p.is_last,
            )
        })
        .collect();
    out.sort();
    out
}

async fn value_postings_follow_their_versions(store: &dyn Store) {
    let col = collection();
    let before = store.posting_count().await.unwrap();
    let host = || indexed("ipv4-addr", "10.1.2.3", Some(v4_block([10, 1, 2, 3], 32)));
    let block = || indexed("ipv4-addr", "10.0.0.0/8", Some(v4_block([10, 0, 0, 0], 8)));
    let other = || indexed("ipv4-addr", "11.0.0.1", Some(v4_block([11, 0, 0, 1], 32)));
    let domain = || indexed("domain-name", "10.1.2.3", None);
    let v1 = "2021-01-01T00:00:00.000Z";
    let v2 = "2022-01-01T00:00:00.000Z";
    let address = with_values("ipv4-addr", 501, v1, vec![host()]);
    let indicator = with_values("indicator", 502, v1, vec![block(), other()]);
    let named = with_values("domain-name", 503, v1, vec![domain()]);
    store
        .add_objects(&col, vec![address.clone(), indicator.clone(), named])
        .await
        .unwrap();
    assert_eq!(store.posting_count().await.unwrap(), before + 4);

    // The address finds itself and the block that contains it; the same text under
    // another kind is another value.
    let found = store.postings(&host()).await.unwrap();
    assert_eq!(
        posted(&found),
        vec![
            (indicator.id.clone(), v1.into(), "10.0.0.0/8".into(), true),
            (address.id.clone(), v1.into(), "10.1.2.3".into(), true),
        ]
    );
    assert!(found
        .iter()
        .all(|p| p.collection == col && p.kind == "ipv4-addr"));
    let stored = found.iter().find(|p| p.object.id == address.id).unwrap();
    assert_eq!(stored.object.json, address.json);
    // The block finds what lies within it, not what lies outside.
    assert_eq!(store.postings(&block()).await.unwrap().len(), 2);
    assert_eq!(posted(&store.postings(&other()).await.unwrap()).len(), 1);
    let unseen = indexed("ipv4-addr", "12.0.0.1", Some(v4_block([12, 0, 0, 1], 32)));
    assert_eq!(store.postings(&unseen).await.unwrap(), vec![]);
    let found = store.postings(&domain()).await.unwrap();
    assert_eq!(
        posted(&found),
        vec![(
            format!("domain-name--00000000-0000-4000-8000-{:012}", 503),
            v1.into(),
            "10.1.2.3".into(),
            true
        )]
    );

    // A newer version posts its own values; the older one's stay, no longer the last.
    let newer = with_values("ipv4-addr", 501, v2, vec![host()]);
    store.add_objects(&col, vec![newer.clone()]).await.unwrap();
    let found = store.postings(&host()).await.unwrap();
    assert_eq!(
        posted(&found),
        vec![
            (indicator.id.clone(), v1.into(), "10.0.0.0/8".into(), true),
            (address.id.clone(), v1.into(), "10.1.2.3".into(), false),
            (address.id.clone(), v2.into(), "10.1.2.3".into(), true),
        ]
    );
    // A version stored already, or conflicting with one, posts nothing.
    let mut conflicting = newer.clone();
    conflicting.json = conflicting.json.replace("\"n\":1", "\"n\":9");
    store
        .add_objects(&col, vec![newer.clone(), conflicting])
        .await
        .unwrap();
    assert_eq!(store.posting_count().await.unwrap(), before + 5);
    // A write that fails posts nothing.
    let missing = CollectionRef {
        api_root: ROOT.into(),
        id: "no-such-collection".into(),
    };
    assert!(store
        .add_objects(
            &missing,
            vec![with_values("ipv4-addr", 504, v1, vec![host()])]
        )
        .await
        .is_err());
    assert_eq!(store.posting_count().await.unwrap(), before + 5);

    // Many values of one kind at once, exactly: no blocks, no other kind.
    let many = store
        .postings_of_values(
            "ipv4-addr",
            &["10.1.2.3".into(), "11.0.0.1".into(), "12.0.0.1".into()],
        )
        .await
        .unwrap();
    assert_eq!(
        posted(&many),
        vec![
            (indicator.id.clone(), v1.into(), "11.0.0.1".into(), true),
            (address.id.clone(), v1.into(), "10.1.2.3".into(), false),
            (address.id.clone(), v2.into(), "10.1.2.3".into(), true),
        ]
    );
    let many_values: Vec<String> = (0..1200)
        .map(|i| format!("10.9.{}.{}", i / 256, i % 256))
        .chain(["10.1.2.3".to_owned()])
        .collect();
    assert_eq!(
        store
            .postings_of_values("ipv4-addr", &many_values)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store.postings_of_values("ipv4-addr", &[]).await.unwrap(),
        vec![]
    );

    // Every posting of an object, any version.
    let of_address = store.object_postings(&col, &address.id).await.unwrap();
    assert_eq!(posted(&of_address).len(), 2);
    assert!(of_address.iter().all(|p| p.object.id == address.id));
    assert_eq!(
        store
            .object_postings(&col, "indicator--missing")
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(
        store.object_postings(&missing, &address.id).await.unwrap(),
        vec![]
    );

    // Deleting a version removes its postings with it.
    let only_v2 = ObjectFilter {
        versions: VersionFilter {
            at: vec![newer.version_key.clone()],
            ..VersionFilter::default()
        },
        ..ObjectFilter::default()
    };
    assert_eq!(
        store
            .delete_object(&col, &address.id, &only_v2)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        posted(&store.postings(&host()).await.unwrap()),
        vec![
            (indicator.id.clone(), v1.into(), "10.0.0.0/8".into(), true),
            (address.id.clone(), v1.into(), "10.1.2.3".into(), true),
        ]
    );
    assert_eq!(store.posting_count().await.unwrap(), before + 4);
}

async fn reindexing_replaces_each_versions_postings(store: &dyn Store) {
    let col = collection();
    let v1 = "2021-01-01T00:00:00.000Z";
    // Versions stored without values, as before the index existed.
    let plain: Vec<NewObject> = (601..606)
        .map(|n| with_values("domain-name", n, v1, Vec::new()))
        .collect();
    store.add_objects(&col, plain.clone()).await.unwrap();
    let before = store.posting_count().await.unwrap();
    // Walk every stored version in row order, in pages, as a re-index does.
    let mut walked = Vec::new();
    let mut after = 0;
    loop {
        let page = store.versions_after(after, 2).await.unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        assert!(page.windows(2).all(|w| w[0].row < w[1].row));
        assert!(page[0].row > after);
        after = last.row;
        walked.extend(page);
    }
    for o in &plain {
        assert_eq!(
            walked.iter().filter(|w| w.id == o.id).count(),
            1,
            "{}",
            o.id
        );
    }
    let rows: Vec<(i64, Vec<IndexedValue>)> = walked
        .iter()
        .filter(|w| plain.iter().any(|o| o.id == w.id))
        .map(|w| {
            (
                w.row,
                vec![indexed("domain-name", &format!("{}.example", w.id), None)],
            )
        })
        .collect();
    let gone = walked.iter().map(|w| w.row).max().unwrap() + 1000;
    let mut with_gone = rows.clone();
    with_gone.push((gone, vec![indexed("domain-name", "gone.example", None)]));
    store.reindex_versions(with_gone).await.unwrap();
    assert_eq!(store.posting_count().await.unwrap(), before + 5);
    // Re-indexing again replaces, never adds.
    store.reindex_versions(rows.clone()).await.unwrap();
    assert_eq!(store.posting_count().await.unwrap(), before + 5);
    let first = indexed("domain-name", &format!("{}.example", plain[0].id), None);
    let found = store.postings(&first).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].object.id, plain[0].id);
    let gone = indexed("domain-name", "gone.example", None);
    assert_eq!(store.postings(&gone).await.unwrap(), vec![]);
    // Re-indexing a version with no values clears its postings.
    store
        .reindex_versions(vec![(rows[0].0, Vec::new())])
        .await
        .unwrap();
    assert_eq!(store.postings(&first).await.unwrap(), vec![]);
    assert_eq!(store.posting_count().await.unwrap(), before + 4);
}
