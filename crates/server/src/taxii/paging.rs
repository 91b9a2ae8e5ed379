//! `next` tokens: a keyset cursor (date_added, row) sealed with XChaCha20-Poly1305 under a
//! key derived from the node's paging key, with the token's scope (collection, endpoint
//! and filters) as associated data. A token works on any server process of the node; it
//! reveals nothing to its holder (a random nonce, a fixed length, no readable time or row
//! number); a forged, garbled or transplanted one is refused with 400 instead of silently
//! paging from an arbitrary point.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use comity_store::Cursor;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::ApiError;

/// Bytes of a sealed cursor: nonce, two big-endian i64, Poly1305 tag.
const NONCE_LEN: usize = 24;
const CURSOR_LEN: usize = 16;
const TAG_LEN: usize = 16;

/// The token cipher: its key is derived from the paging key, never the key itself.
fn cipher(key: &[u8; 32]) -> XChaCha20Poly1305 {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(b"comity next token v2");
    XChaCha20Poly1305::new(&m.finalize().into_bytes())
}

/// Encodes a cursor as an opaque token valid only within `scope`.
pub fn encode(key: &[u8; 32], scope: &str, cursor: Cursor) -> String {
    let mut plain = [0u8; CURSOR_LEN];
    plain[..8].copy_from_slice(&cursor.date_added.to_be_bytes());
    plain[8..].copy_from_slice(&cursor.row.to_be_bytes());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let sealed = cipher(key)
        .encrypt(
            &nonce,
            Payload {
                msg: &plain,
                aad: scope.as_bytes(),
            },
        )
        .expect("a 16-byte cursor always seals");
    let mut bytes = Vec::with_capacity(NONCE_LEN + CURSOR_LEN + TAG_LEN);
    bytes.extend_from_slice(&nonce);
    bytes.extend_from_slice(&sealed);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a token made by [`encode`] with the same key and scope.
pub fn decode(key: &[u8; 32], scope: &str, token: &str) -> Result<Cursor, ApiError> {
    let invalid = || {
        ApiError::bad_request("the next token is not one this server issued for this collection")
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    if bytes.len() != NONCE_LEN + CURSOR_LEN + TAG_LEN {
        return Err(invalid());
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    let plain = cipher(key)
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: scope.as_bytes(),
            },
        )
        .map_err(|_| invalid())?;
    let date_added = i64::from_be_bytes(plain[..8].try_into().map_err(|_| invalid())?);
    let row = i64::from_be_bytes(plain[8..].try_into().map_err(|_| invalid())?);
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
        let raw = URL_SAFE_NO_PAD.decode(&t).unwrap();
        for i in 0..raw.len() {
            let mut forged = raw.clone();
            forged[i] ^= 1;
            assert!(
                decode(&key, "root/a", &URL_SAFE_NO_PAD.encode(forged)).is_err(),
                "byte {i} flipped"
            );
        }
        for junk in ["", "abc", "!!!!", &"A".repeat(5000), &"A".repeat(75)] {
            assert!(decode(&key, "root/a", junk).is_err());
        }
    }

    #[test]
    fn tokens_reveal_neither_time_nor_row() {
        let key = [7u8; 32];
        let c = Cursor {
            date_added: 0x0102_0304_0506_0708,
            row: 0x1112_1314_1516_1718,
        };
        let a = URL_SAFE_NO_PAD.decode(encode(&key, "s", c)).unwrap();
        let b = URL_SAFE_NO_PAD.decode(encode(&key, "s", c)).unwrap();
        assert_ne!(a, b, "the same cursor gives a new token each time");
        let later = Cursor {
            date_added: c.date_added + 1,
            row: c.row + 1,
        };
        let other = URL_SAFE_NO_PAD.decode(encode(&key, "s", later)).unwrap();
        assert_eq!(a.len(), other.len(), "every token has the same length");
        for token in [&a, &b, &other] {
            for plain in [&c.date_added.to_be_bytes()[..4], &c.row.to_be_bytes()[..4]] {
                assert!(!token.windows(4).any(|w| w == plain), "{token:?}");
            }
        }
    }
}
