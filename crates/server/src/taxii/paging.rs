//! `next` tokens: a keyset cursor (date_added, row) authenticated with the node's paging
//! key and bound to one collection, so a token works on any server process of the node,
//! and a forged, garbled or transplanted one is refused with 400 instead of silently
//! paging from an arbitrary point.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use comity_store::Cursor;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::ApiError;

const MAC_LEN: usize = 16;

fn mac(key: &[u8; 32], scope: &str, body: &[u8]) -> [u8; MAC_LEN] {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(&(scope.len() as u64).to_be_bytes());
    m.update(scope.as_bytes());
    m.update(body);
    let full = m.finalize().into_bytes();
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(&full[..MAC_LEN]);
    out
}

/// Encodes a cursor as an opaque token valid only within `scope` (a collection).
pub fn encode(key: &[u8; 32], scope: &str, cursor: Cursor) -> String {
    let mut bytes = Vec::with_capacity(16 + MAC_LEN);
    bytes.extend_from_slice(&cursor.date_added.to_be_bytes());
    bytes.extend_from_slice(&cursor.row.to_be_bytes());
    let tag = mac(key, scope, &bytes);
    bytes.extend_from_slice(&tag);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a token made by [`encode`] with the same key and scope.
pub fn decode(key: &[u8; 32], scope: &str, token: &str) -> Result<Cursor, ApiError> {
    let invalid = || {
        ApiError::bad_request("the next token is not one this server issued for this collection")
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    if bytes.len() != 16 + MAC_LEN {
        return Err(invalid());
    }
    let (body, tag) = bytes.split_at(16);
    if !bool::from(mac(key, scope, body).ct_eq(tag)) {
        return Err(invalid());
    }
    let date_added = i64::from_be_bytes(body[..8].try_into().map_err(|_| invalid())?);
    let row = i64::from_be_bytes(body[8..].try_into().map_err(|_| invalid())?);
    Ok(Cursor { date_added, row })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_forgeries_fail() {
        let key = [3u8; 32];
        let c = Cursor {
            date_added: 1_700_000_000_000_000,
            row: 42,
        };
        let t = encode(&key, "root/a", c);
        assert_eq!(decode(&key, "root/a", &t).unwrap(), c);
        assert!(decode(&[4u8; 32], "root/a", &t).is_err());
        assert!(decode(&key, "root/b", &t).is_err());
        let mut forged = URL_SAFE_NO_PAD.decode(&t).unwrap();
        forged[15] ^= 1;
        assert!(decode(&key, "root/a", &URL_SAFE_NO_PAD.encode(forged)).is_err());
        for junk in ["", "abc", "!!!!", &"A".repeat(5000)] {
            assert!(decode(&key, "root/a", junk).is_err());
        }
    }
}
