use super::*;
use crate::federation::test_nodes::signer;
use comity_store::OutboxKind;

fn key(seed: u8) -> NodeKey {
    NodeKey::from_log_signer(&signer(seed)).unwrap()
}

fn sealer(local: &str, seed: u8, peers: &[(&str, u8)]) -> Sealer {
    Sealer {
        local: local.to_owned(),
        own: OpeningKey::of(&key(seed)).public,
        peers: Arc::new(
            peers
                .iter()
                .map(|(id, s)| ((*id).to_owned(), OpeningKey::of(&key(*s)).public))
                .collect(),
        ),
    }
}

fn federation(peers: &[(&str, u8)]) -> Federation {
    Federation {
        local: Some(crate::policy::MemberId("identity--a".into())),
        encryption_keys: sealer("identity--a", 1, peers).peers,
        ..Federation::default()
    }
}

fn entry(item: &OutboxItem, peer: &str) -> OutboxEntry {
    OutboxEntry {
        peer: peer.to_owned(),
        seq: 1,
        id: item.id.clone(),
        kind: item.kind,
        created_at: item.created_at,
        body: item.body.clone(),
        attempts: 0,
        next_attempt_at: 0,
        last_error: None,
        delivered_at: None,
        receipt: None,
    }
}

fn envelope(item: &OutboxItem, to: &str, body: String) -> Envelope {
    Envelope {
        v: super::super::envelope::VERSION,
        id: item.id.clone(),
        from: "identity--a".into(),
        to: to.into(),
        kind: Kind::parse(item.kind.as_str()).unwrap(),
        created: "2026-01-01T00:00:00.000000Z".into(),
        seq: 1,
        body: RawValue::from_string(body).unwrap(),
    }
}

const SECRET: &str = r#"{"objects":[{"pattern":"[domain-name:value = 'x7q.example']"}]}"#;

/// A queued item for B (seed 2) and the body it leaves with.
fn queued_and_leaving() -> (OutboxItem, String) {
    let s = sealer("identity--a", 1, &[("identity--b", 2)]);
    let item = s.item("identity--b", OutboxKind::StixObjects, SECRET.into());
    let fed = federation(&[("identity--b", 2)]);
    let body = leaving_body(
        &fed,
        &key(1),
        "identity--a",
        &entry(&item, "identity--b"),
        Kind::StixObjects,
        true,
        Ok,
    )
    .unwrap();
    (item, body)
}

#[test]
fn a_sealed_body_opens_for_its_receiver_and_envelope_only() {
    let (item, body) = queued_and_leaving();
    assert!(!item.body.contains("x7q.example"), "{}", item.body);
    assert!(!body.contains("x7q.example"), "{body}");
    let env = envelope(&item, "identity--b", body.clone());
    let opened = open_received(&env, &OpeningKey::of(&key(2))).unwrap();
    assert_eq!(opened.get(), SECRET);
    // Another key: refused.
    assert_eq!(
        open_received(&env, &OpeningKey::of(&key(3))).unwrap_err(),
        SealError::DoesNotOpen
    );
    // Replayed into another envelope (another id, kind, sender or receiver): refused.
    let mut other_id = env.clone();
    other_id.id = uuid::Uuid::new_v4().to_string();
    let mut other_kind = env.clone();
    other_kind.kind = Kind::Sighting;
    let mut other_from = env.clone();
    other_from.from = "identity--c".into();
    let mut other_to = env.clone();
    other_to.to = "identity--c".into();
    for moved in [other_id, other_kind, other_from, other_to] {
        assert_eq!(
            open_received(&moved, &OpeningKey::of(&key(2))).unwrap_err(),
            SealError::DoesNotOpen
        );
    }
}

#[test]
fn tampered_unsealed_and_malformed_bodies_are_refused() {
    let (item, body) = queued_and_leaving();
    let mut wire: WireBody = serde_json::from_str(&body).unwrap();
    let mut ct = BASE64.decode(&wire.sealed.ct).unwrap();
    ct[3] ^= 1;
    wire.sealed.ct = BASE64.encode(ct);
    let tampered = envelope(&item, "identity--b", serde_json::to_string(&wire).unwrap());
    assert_eq!(
        open_received(&tampered, &OpeningKey::of(&key(2))).unwrap_err(),
        SealError::DoesNotOpen
    );
    for bad in [
        SECRET.to_owned(),
        r#"{"sealed":{"enc":"AA==","ct":"AA=="}}"#.to_owned(),
        r#"{"sealed":{"enc":"!!","ct":"!!"}}"#.to_owned(),
        r#"{"sealed":{"enc":"AA==","ct":"AA==","extra":1}}"#.to_owned(),
    ] {
        let env = envelope(&item, "identity--b", bad.clone());
        let refused = open_received(&env, &OpeningKey::of(&key(2))).unwrap_err();
        assert!(
            matches!(
                refused,
                SealError::NotSealed { .. } | SealError::DoesNotOpen
            ),
            "{bad}: {refused:?}"
        );
    }
    let plain = envelope(&item, "identity--b", SECRET.into());
    assert!(matches!(
        open_received(&plain, &OpeningKey::of(&key(2))),
        Err(SealError::NotSealed {
            kind: "stix-objects",
            ..
        })
    ));
}

#[test]
fn without_the_receivers_key_nothing_leaves_and_the_copy_waits() {
    let s = sealer("identity--a", 1, &[]);
    let item = s.item("identity--b", OutboxKind::Request, r#"{"event":{}}"#.into());
    let stored: StoredBody = serde_json::from_str(&item.body).unwrap();
    assert!(stored.sealed.is_none());
    let e = entry(&item, "identity--b");
    let refused = leaving_body(
        &federation(&[]),
        &key(1),
        "identity--a",
        &e,
        Kind::Request,
        true,
        Ok,
    );
    assert!(
        matches!(&refused, Err(crate::federation::QueuedError::Seal(SealError::NoRecipientKey(m))) if m == "identity--b"),
        "{refused:?}"
    );
    // Once the key is known, the outbox's own copy is opened and sealed to the receiver.
    let fed = federation(&[("identity--b", 2)]);
    let body = leaving_body(&fed, &key(1), "identity--a", &e, Kind::Request, true, Ok).unwrap();
    let env = envelope(&item, "identity--b", body);
    let opened = open_received(&env, &OpeningKey::of(&key(2))).unwrap();
    assert_eq!(opened.get(), r#"{"event":{}}"#);
}

#[test]
fn the_policy_decides_again_on_the_outbox_copy_and_legacy_bodies_leave_sealed() {
    let s = sealer("identity--a", 1, &[("identity--b", 2)]);
    let item = s.item("identity--b", OutboxKind::StixObjects, SECRET.into());
    let fed = federation(&[("identity--b", 2)]);
    let e = entry(&item, "identity--b");
    let mut seen = String::new();
    let body = leaving_body(
        &fed,
        &key(1),
        "identity--a",
        &e,
        Kind::StixObjects,
        false,
        |p| {
            seen = p;
            Ok(r#"{"objects":[]}"#.into())
        },
    )
    .unwrap();
    assert_eq!(seen, SECRET);
    let env = envelope(&item, "identity--b", body);
    assert_eq!(
        open_received(&env, &OpeningKey::of(&key(2))).unwrap().get(),
        r#"{"objects":[]}"#
    );
    // A plaintext entry queued by an older build leaves sealed.
    let legacy = OutboxEntry {
        body: SECRET.into(),
        ..e
    };
    let body = leaving_body(
        &fed,
        &key(1),
        "identity--a",
        &legacy,
        Kind::StixObjects,
        true,
        Ok,
    )
    .unwrap();
    assert!(!body.contains("x7q"));
    let env = envelope(&item, "identity--b", body);
    assert_eq!(
        open_received(&env, &OpeningKey::of(&key(2))).unwrap().get(),
        SECRET
    );
    // Kinds that are not sealed go as queued.
    let agreement = s.item("identity--b", OutboxKind::Agreement, "{\"a\":1}".into());
    assert_eq!(agreement.body, "{\"a\":1}");
}

#[test]
fn keys_are_derived_stable_and_written_as_x25519() {
    let k = OpeningKey::of(&key(1));
    let text = k.public_key().to_string();
    assert!(text.starts_with("x25519:"), "{text}");
    assert_eq!(text.parse::<EncryptionKey>().unwrap(), *k.public_key());
    assert_eq!(OpeningKey::of(&key(1)).public_key(), k.public_key());
    assert_ne!(OpeningKey::of(&key(2)).public_key(), k.public_key());
    for bad in ["", "x25519:", "ed25519:AAAA", "x25519:AAAA", "x25519:!!!"] {
        assert_eq!(bad.parse::<EncryptionKey>(), Err(MalformedKey), "{bad}");
    }
}

#[tokio::test]
async fn a_nodes_own_record_publishes_its_derived_key() {
    let n = crate::federation::test_nodes::node(4).await;
    let local = n.registry().local_member().await.unwrap().unwrap();
    let derived = OpeningKey::of(n.log.node_key()).public_key().to_string();
    assert_eq!(
        local.record.encryption_key.as_deref(),
        Some(derived.as_str())
    );
    // Published already: nothing to do at the next start.
    assert!(!n.registry().publish_encryption_key().await.unwrap());
    // Whatever key a replaced own record names, the node's own is published.
    let mut claimed = local.record.clone();
    claimed.encryption_key = Some(OpeningKey::of(&key(9)).public_key().to_string());
    let updated = n.registry().update_local(claimed).await.unwrap();
    assert_eq!(
        updated.record.encryption_key.as_deref(),
        Some(derived.as_str())
    );
}
