use super::*;
use crate::federation::seal::OpeningKey;

fn key(seed: u8) -> NodeKey {
    NodeKey::from_log_signer(&crate::federation::test_nodes::signer(seed)).unwrap()
}

const M: &str = "identity--11111111-1111-4111-8111-111111111111";
const T: i64 = 1_800_000_000_000_000;

fn rotate(old: u8, new: u8, at: i64) -> SignedKeyStatement {
    let enc = OpeningKey::of(&key(new)).public_key().to_string();
    SignedKeyStatement::rotation(M, &key(old), &key(new), enc, at)
}

fn current(seed: u8) -> String {
    key(seed).public_key().to_string()
}

#[test]
fn a_rotation_signed_by_both_keys_moves_the_member_to_the_new_key() {
    let s = rotate(1, 2, T);
    let step = next(M, &current(1), &[], &s, T).unwrap();
    assert_eq!(
        step,
        Step::Rotate {
            key: current(2),
            encryption_key: OpeningKey::of(&key(2)).public_key().to_string()
        }
    );
    // It reads back from its JSON as it was written.
    let back: SignedKeyStatement =
        serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
    assert_eq!(KeyHistory(&[s]).former(&current(1)).unwrap().until, T);
}

#[test]
fn forged_or_incomplete_rotations_are_refused() {
    let good = rotate(1, 2, T);
    // Only one signature.
    let mut one = good.clone();
    one.signatures.pop();
    assert!(next(M, &current(1), &[], &one, T)
        .unwrap_err()
        .0
        .contains("two signatures"));
    // The new key's signature made by someone else (a thief of the old key who does not
    // hold the key it names).
    let mut stolen = good.clone();
    stolen.signatures[1] = key(9).sign(&good.statement.document());
    assert!(next(M, &current(1), &[], &stolen, T)
        .unwrap_err()
        .0
        .contains("new key"));
    // The old key's signature by another key: a stranger announcing a key for the member.
    let stranger = SignedKeyStatement::rotation(
        M,
        &key(9),
        &key(2),
        OpeningKey::of(&key(2)).public_key().to_string(),
        T,
    );
    let e = next(M, &current(1), &[], &stranger, T).unwrap_err().0;
    assert!(e.contains("only the current key is rotated out"), "{e}");
    // A changed statement after signing.
    let mut changed = good.clone();
    if let KeyStatement::KeyRotation { at, .. } = &mut changed.statement {
        *at = format_us(T + 1);
    }
    assert!(next(M, &current(1), &[], &changed, T + 1)
        .unwrap_err()
        .0
        .contains("old key"));
    // About another member.
    let e = next(
        "identity--22222222-2222-4222-8222-222222222222",
        &current(1),
        &[],
        &good,
        T,
    )
    .unwrap_err()
    .0;
    assert!(e.contains("not identity--2222"), "{e}");
    // Dated well ahead of the reader's clock.
    let e = next(M, &current(1), &[], &good, T - 301 * 1_000_000)
        .unwrap_err()
        .0;
    assert!(e.contains("future"), "{e}");
}

#[test]
fn the_old_key_signs_no_rotation_once_rotated_out_and_no_key_is_used_twice() {
    let first = rotate(1, 2, T);
    let history = [first.clone()];
    // Replayed: not after the last statement, and from a key no longer current.
    assert!(next(M, &current(2), &history, &first, T).is_err());
    // The old key, stolen, signs a rotation to a key of the thief's after the rotation.
    let e = next(M, &current(2), &history, &rotate(1, 3, T + 10), T + 10)
        .unwrap_err()
        .0;
    assert!(e.contains("only the current key is rotated out"), "{e}");
    // Back to the former key.
    let e = next(M, &current(2), &history, &rotate(2, 1, T + 10), T + 10)
        .unwrap_err()
        .0;
    assert!(e.contains("used once"), "{e}");
    // A second, proper rotation continues the chain.
    assert!(matches!(
        next(M, &current(2), &history, &rotate(2, 3, T + 10), T + 10),
        Ok(Step::Rotate { .. })
    ));
}

#[test]
fn a_former_key_is_revoked_by_the_current_key_from_a_past_time() {
    let history = vec![rotate(1, 2, T)];
    let revoke = SignedKeyStatement::revocation(M, &current(1), T - 50, &key(2), T + 5);
    assert_eq!(
        next(M, &current(2), &history, &revoke, T + 5),
        Ok(Step::Revoke)
    );
    let mut after = history.clone();
    after.push(revoke.clone());
    let former = KeyHistory(&after).former(&current(1)).unwrap();
    assert_eq!(former.revoked_from, Some(T - 50));
    assert!(KeyHistory(&history).former_signature_counts(&current(1)));
    assert!(!KeyHistory(&after).former_signature_counts(&current(1)));
    // Signed by the revoked key itself, or by a stranger.
    let by_old = SignedKeyStatement::revocation(M, &current(1), T - 50, &key(1), T + 5);
    assert!(next(M, &current(2), &history, &by_old, T + 5).is_err());
    // The current key; a key that never was the member's; twice; from the future.
    let own = SignedKeyStatement::revocation(M, &current(2), T, &key(2), T + 5);
    assert!(next(M, &current(2), &history, &own, T + 5)
        .unwrap_err()
        .0
        .contains("current key"));
    let other = SignedKeyStatement::revocation(M, &current(7), T, &key(2), T + 5);
    assert!(next(M, &current(2), &history, &other, T + 5)
        .unwrap_err()
        .0
        .contains("not a former key"));
    let again = SignedKeyStatement::revocation(M, &current(1), T - 40, &key(2), T + 6);
    assert!(next(M, &current(2), &after, &again, T + 6)
        .unwrap_err()
        .0
        .contains("revoked already"));
    let ahead = SignedKeyStatement::revocation(M, &current(1), T + 9, &key(2), T + 5);
    assert!(next(M, &current(2), &history, &ahead, T + 5)
        .unwrap_err()
        .0
        .contains("has passed"));
}

#[test]
fn unknown_fields_and_kinds_are_refused_when_read() {
    let s = serde_json::to_value(rotate(1, 2, T)).unwrap();
    let mut extra = s.clone();
    extra["statement"]["valid_until"] = serde_json::json!("2099-01-01T00:00:00Z");
    assert!(serde_json::from_value::<SignedKeyStatement>(extra).is_err());
    let mut kind = s;
    kind["statement"]["type"] = serde_json::json!("key-escrow");
    assert!(serde_json::from_value::<SignedKeyStatement>(kind).is_err());
}

fn decision(seed: u8, revoked_from: i64) -> Decision {
    Decision {
        proposal: "proposal--00000000-0000-4000-8000-000000000001".into(),
        new_key: current(seed),
        encryption_key: OpeningKey::of(&key(seed)).public_key().to_string(),
        revoked_from,
    }
}

#[test]
fn a_replacement_revokes_every_key_used_from_its_time_and_the_new_key_continues() {
    // 1 → 2 before the compromise, 2 → 3 by the thief after it.
    let mut history = vec![rotate(1, 2, T), rotate(2, 3, T + 20)];
    let r = replace(M, &current(3), &history, &decision(4, T + 10), T + 30).unwrap();
    assert!(r.signatures.is_empty());
    history.push(r.clone());
    let past = KeyHistory(&history);
    assert_eq!(past.former(&current(1)).unwrap().revoked_from, None);
    assert!(past.former_signature_counts(&current(1)));
    for used_after in [2, 3] {
        let f = past.former(&current(used_after)).unwrap();
        assert_eq!(f.revoked_from, Some(T + 10), "key {used_after}");
    }
    assert_eq!(past.former(&current(3)).unwrap().until, T + 30);
    // The thief's key rotates nothing any more; the new key does; no revoked key returns.
    let e = next(M, &current(4), &history, &rotate(3, 5, T + 40), T + 40).unwrap_err();
    assert!(e.0.contains("only the current key"), "{e}");
    assert!(next(M, &current(4), &history, &rotate(4, 5, T + 40), T + 40).is_ok());
    let e = next(M, &current(4), &history, &rotate(4, 2, T + 40), T + 40).unwrap_err();
    assert!(e.0.contains("used once"), "{e}");
    for old in [1, 2, 3, 4] {
        let e = replace(M, &current(4), &history, &decision(old, T), T + 50).unwrap_err();
        assert!(e.0.contains("was the member's key before"), "{old}: {e}");
    }
    // Another node's copy of the same decision (another key pinned then) is the same.
    let mut copy = r.clone();
    if let KeyStatement::KeyReplacement { old_key, .. } = &mut copy.statement {
        *old_key = current(2);
    }
    assert!(copy.same_as(&r) && r.same_as(&copy));
    assert!(!rotate(1, 2, T).same_as(&r));
    // Nor is a replacement ever taken from a peer, whatever it says.
    let e = next(M, &current(4), &history, &copy, T + 60).unwrap_err();
    assert!(e.0.contains("never taken from a peer"), "{e}");
    // Keys that are not keys.
    let mut bad = decision(5, T);
    bad.new_key = "ed25519:AAAA".into();
    assert!(replace(M, &current(4), &history, &bad, T + 50).is_err());
    let mut bad = decision(5, T);
    bad.encryption_key = current(5);
    assert!(replace(M, &current(4), &history, &bad, T + 50)
        .unwrap_err()
        .0
        .contains("encryption key"));
}
