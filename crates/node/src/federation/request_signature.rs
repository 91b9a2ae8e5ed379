//! The signature on an inbox request, checked before any byte of its body is read: RFC 9421
//! HTTP Message Signatures with Ed25519 (`alg="ed25519"`) by the sending node's key, over
//! the method, the path and the RFC 9530 `Content-Digest` (SHA-256) of the body, with the
//! parameters `created` (Unix seconds), `keyid` (the sender's member id), `nonce` (a fresh
//! UUID) and `alg`. Exactly one form is written and read:
//!
//! ```text
//! Content-Digest: sha-256=:<base64 SHA-256 of the body>:
//! Signature-Input: comity=("@method" "@path" "content-digest");created=<s>;keyid="<member id>";nonce="<uuid>";alg="ed25519"
//! Signature: comity=:<base64 Ed25519 signature>:
//! ```
//!
//! The signature base is RFC 9421's: one line per covered component, then the
//! `@signature-params` line, joined by `\n`. Anything else (other components, labels,
//! parameters, whitespace, escapes) is refused: the receiver reads one strict form.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::identity::{NodeKey, PublicKey};

/// The signature label this node writes and reads.
const LABEL: &str = "comity";
/// The covered components, as serialised in `Signature-Input`.
const COMPONENTS: &str = r#"("@method" "@path" "content-digest")"#;
/// How far a request's `created` may be from the receiver's clock, either way (seconds).
pub const MAX_SKEW_SECONDS: i64 = 300;

/// The three headers of a signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// `Content-Digest`.
    pub content_digest: String,
    /// `Signature-Input`.
    pub signature_input: String,
    /// `Signature`.
    pub signature: String,
}

/// A request signature as read from the headers, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSignature {
    /// The claimed sender (`keyid`).
    pub sender: String,
    /// `created`, Unix seconds.
    pub created: i64,
    /// The request's nonce.
    pub nonce: String,
    /// The SHA-256 the body must have.
    pub digest: [u8; 32],
    params: String,
    content_digest: String,
    signature: [u8; 64],
}

/// Why a request signature was refused. The texts name the header and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestSignatureError {
    /// A header is missing or not ASCII.
    #[error("the request has no {0} header")]
    Missing(&'static str),
    /// A header is not in the one form this node reads.
    #[error("the {header} header is malformed: {why}")]
    Malformed {
        /// The header.
        header: &'static str,
        /// What is wrong.
        why: &'static str,
    },
    /// `created` is too far from this node's clock.
    #[error("the request signature was created at {created}, more than {MAX_SKEW_SECONDS} s from this node's clock ({now})")]
    Stale {
        /// `created`.
        created: i64,
        /// This node's clock.
        now: i64,
    },
    /// The signature does not verify with the sender's pinned key.
    #[error("the request signature does not verify with the pinned key of {0}")]
    BadSignature(String),
    /// The body's SHA-256 is not the one signed.
    #[error("the body does not match the signed Content-Digest")]
    DigestMismatch,
}

/// The `Content-Digest` value for `body`.
fn content_digest(digest: &[u8]) -> String {
    format!("sha-256=:{}:", BASE64.encode(digest))
}

/// RFC 9421's signature base for these fields.
fn signature_base(method: &str, path: &str, content_digest: &str, params: &str) -> String {
    format!(
        "\"@method\": {method}\n\"@path\": {path}\n\"content-digest\": {content_digest}\n\"@signature-params\": {params}"
    )
}

/// Signs a request of `sender` with `key`: `method` to `path` carrying `body`, made at
/// `created` (Unix seconds) with a fresh nonce.
pub fn sign(
    key: &NodeKey,
    sender: &str,
    method: &str,
    path: &str,
    body: &[u8],
    created: i64,
) -> SignatureHeaders {
    let content_digest = content_digest(&Sha256::digest(body));
    let nonce = uuid::Uuid::new_v4();
    let params =
        format!(r#"{COMPONENTS};created={created};keyid="{sender}";nonce="{nonce}";alg="ed25519""#);
    let base = signature_base(method, path, &content_digest, &params);
    let signature = BASE64.encode(key.sign_bytes(base.as_bytes()));
    SignatureHeaders {
        content_digest,
        signature_input: format!("{LABEL}={params}"),
        signature: format!("{LABEL}=:{signature}:"),
    }
}

/// A quoted string parameter value without escapes: `"…"` of visible ASCII but `"` and `\`.
fn quoted(value: &str) -> Option<&str> {
    let inner = value.strip_prefix('"')?.strip_suffix('"')?;
    inner
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
        .then_some(inner)
}

/// A byte sequence `:base64:` of exactly `N` bytes.
fn byte_sequence<const N: usize>(value: &str) -> Option<[u8; N]> {
    let inner = value.strip_prefix(':')?.strip_suffix(':')?;
    BASE64.decode(inner).ok()?.try_into().ok()
}

impl RequestSignature {
    /// Reads the three headers (`None` for a missing one). Nothing is verified yet.
    pub fn parse(
        content_digest: Option<&str>,
        signature_input: Option<&str>,
        signature: Option<&str>,
    ) -> Result<RequestSignature, RequestSignatureError> {
        use RequestSignatureError::{Malformed, Missing};
        let content_digest = content_digest.ok_or(Missing("Content-Digest"))?;
        let input = signature_input.ok_or(Missing("Signature-Input"))?;
        let signature = signature.ok_or(Missing("Signature"))?;
        let malformed = |header, why| Malformed { header, why };
        let digest = content_digest
            .strip_prefix("sha-256=")
            .and_then(byte_sequence::<32>)
            .ok_or(malformed(
                "Content-Digest",
                "it must be exactly sha-256=:<base64 of 32 bytes>:",
            ))?;
        let signature = signature
            .strip_prefix("comity=")
            .and_then(byte_sequence::<64>)
            .ok_or(malformed(
                "Signature",
                "it must be exactly comity=:<base64 of a 64-byte Ed25519 signature>:",
            ))?;
        let params = input
            .strip_prefix("comity=")
            .ok_or(malformed("Signature-Input", "the label must be comity"))?;
        let rest = params.strip_prefix(COMPONENTS).ok_or(malformed(
            "Signature-Input",
            r#"the covered components must be ("@method" "@path" "content-digest")"#,
        ))?;
        let (mut created, mut keyid, mut nonce, mut alg) = (None, None, None, None);
        for param in rest.split(';').skip(1) {
            let (name, value) = param
                .split_once('=')
                .ok_or(malformed("Signature-Input", "a parameter has no value"))?;
            let slot = match name {
                "created" => &mut created,
                "keyid" => &mut keyid,
                "nonce" => &mut nonce,
                "alg" => &mut alg,
                _ => {
                    return Err(malformed(
                        "Signature-Input",
                        "only created, keyid, nonce and alg are read",
                    ))
                }
            };
            if slot.replace(value).is_some() {
                return Err(malformed("Signature-Input", "a parameter is repeated"));
            }
        }
        if !rest.is_empty() && !rest.starts_with(';') {
            return Err(malformed(
                "Signature-Input",
                "parameters follow the components",
            ));
        }
        let created = created
            .filter(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()) && c.len() <= 15)
            .and_then(|c| c.parse::<i64>().ok())
            .ok_or(malformed("Signature-Input", "created must be Unix seconds"))?;
        let sender = keyid
            .and_then(quoted)
            .filter(|k| !k.is_empty() && k.len() <= 200)
            .ok_or(malformed(
                "Signature-Input",
                "keyid must be the sender's member id, quoted",
            ))?;
        let nonce = nonce
            .and_then(quoted)
            .filter(|n| uuid::Uuid::try_parse(n).is_ok())
            .ok_or(malformed("Signature-Input", "nonce must be a quoted UUID"))?;
        if alg != Some("\"ed25519\"") {
            return Err(malformed("Signature-Input", r#"alg must be "ed25519""#));
        }
        Ok(RequestSignature {
            sender: sender.to_owned(),
            created,
            nonce: nonce.to_owned(),
            digest,
            params: params.to_owned(),
            content_digest: content_digest.to_owned(),
            signature,
        })
    }

    /// Checks `created` against `now` (Unix seconds): at most [`MAX_SKEW_SECONDS`] apart.
    pub fn check_time(&self, now: i64) -> Result<(), RequestSignatureError> {
        if (self.created - now).abs() > MAX_SKEW_SECONDS {
            return Err(RequestSignatureError::Stale {
                created: self.created,
                now,
            });
        }
        Ok(())
    }

    /// Checks the signature over `method` and `path` with the sender's pinned `key`. The
    /// body is checked later, against the signed digest, as it is read.
    pub fn verify(
        &self,
        key: &PublicKey,
        method: &str,
        path: &str,
    ) -> Result<(), RequestSignatureError> {
        let base = signature_base(method, path, &self.content_digest, &self.params);
        key.verify_bytes(base.as_bytes(), &self.signature)
            .map_err(|_| RequestSignatureError::BadSignature(self.sender.clone()))
    }

    /// Checks a body read in full (or its SHA-256) against the signed digest.
    pub fn check_digest(&self, sha256: &[u8]) -> Result<(), RequestSignatureError> {
        use subtle::ConstantTimeEq as _;
        if bool::from(sha256.ct_eq(&self.digest)) {
            Ok(())
        } else {
            Err(RequestSignatureError::DigestMismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> NodeKey {
        let signer = comity_tlog::note::Signer::new(
            "comity/test",
            comity_tlog::note::KeyKind::Ed25519,
            ed25519_dalek::SigningKey::from_bytes(&[seed; 32]),
        )
        .unwrap();
        NodeKey::from_log_signer(&signer).unwrap()
    }

    fn signed(body: &[u8]) -> (SignatureHeaders, NodeKey) {
        let k = key(7);
        (
            sign(
                &k,
                "identity--a",
                "POST",
                "/federation/v1/inbox",
                body,
                1_000,
            ),
            k,
        )
    }

    fn parse(h: &SignatureHeaders) -> Result<RequestSignature, RequestSignatureError> {
        RequestSignature::parse(
            Some(&h.content_digest),
            Some(&h.signature_input),
            Some(&h.signature),
        )
    }

    #[test]
    fn a_signed_request_verifies_and_its_body_digest_is_checked() {
        let (h, k) = signed(b"{\"x\":1}");
        let r = parse(&h).unwrap();
        assert_eq!(r.sender, "identity--a");
        r.check_time(1_100).unwrap();
        r.verify(&k.public_key(), "POST", "/federation/v1/inbox")
            .unwrap();
        r.check_digest(&Sha256::digest(b"{\"x\":1}")).unwrap();
        assert_eq!(
            r.check_digest(&Sha256::digest(b"{\"x\":2}")),
            Err(RequestSignatureError::DigestMismatch)
        );
    }

    #[test]
    fn another_key_path_method_time_or_digest_is_refused() {
        let (h, k) = signed(b"body");
        let r = parse(&h).unwrap();
        let bad = RequestSignatureError::BadSignature("identity--a".into());
        let path = "/federation/v1/inbox";
        assert_eq!(
            r.verify(&key(8).public_key(), "POST", path),
            Err(bad.clone())
        );
        assert_eq!(
            r.verify(&k.public_key(), "POST", "/other"),
            Err(bad.clone())
        );
        assert_eq!(r.verify(&k.public_key(), "GET", path), Err(bad.clone()));
        assert_eq!(
            r.check_time(1_301),
            Err(RequestSignatureError::Stale {
                created: 1_000,
                now: 1_301
            })
        );
        assert_eq!(
            r.check_time(699),
            Err(RequestSignatureError::Stale {
                created: 1_000,
                now: 699
            })
        );
        let mut other = h.clone();
        other.content_digest = parse(&signed(b"other").0).unwrap().content_digest;
        let r = parse(&other).unwrap();
        assert_eq!(r.verify(&k.public_key(), "POST", path), Err(bad.clone()));
        let mut sender = h.clone();
        sender.signature_input = h.signature_input.replace("identity--a", "identity--b");
        let r = parse(&sender).unwrap();
        assert_eq!(
            r.verify(&k.public_key(), "POST", path),
            Err(RequestSignatureError::BadSignature("identity--b".into()))
        );
    }

    #[test]
    fn every_other_form_of_the_headers_is_refused() {
        let (h, _) = signed(b"body");
        let variants = [
            h.signature_input.replace("comity=", "sig1="),
            h.signature_input.replace(r#" "content-digest""#, ""),
            h.signature_input.replace(";alg=\"ed25519\"", ""),
            h.signature_input.replace("ed25519", "rsa-pss-sha512"),
            h.signature_input
                .replace(";created=1000", ";created=1000;created=1000"),
            h.signature_input.replace(";created=1000", ";created=-5"),
            h.signature_input
                .replace(";created=1000", ";created=1000;expires=9"),
            h.signature_input.replace(";nonce=\"", ";nonce=\"x"),
            h.signature_input
                .replace("keyid=\"identity--a\"", "keyid=\"a\\\"b\""),
            h.signature_input.replace(";", "; "),
        ];
        for v in variants {
            let got =
                RequestSignature::parse(Some(&h.content_digest), Some(&v), Some(&h.signature));
            assert!(
                matches!(
                    got,
                    Err(RequestSignatureError::Malformed {
                        header: "Signature-Input",
                        ..
                    })
                ),
                "{v}: {got:?}"
            );
        }
        let got = RequestSignature::parse(
            Some("sha-512=:AA==:"),
            Some(&h.signature_input),
            Some(&h.signature),
        );
        assert!(matches!(
            got,
            Err(RequestSignatureError::Malformed {
                header: "Content-Digest",
                ..
            })
        ));
        let got = RequestSignature::parse(
            Some(&h.content_digest),
            Some(&h.signature_input),
            Some("comity=:AA==:"),
        );
        assert!(matches!(
            got,
            Err(RequestSignatureError::Malformed {
                header: "Signature",
                ..
            })
        ));
        assert_eq!(
            RequestSignature::parse(None, Some(&h.signature_input), Some(&h.signature)),
            Err(RequestSignatureError::Missing("Content-Digest"))
        );
    }
}
