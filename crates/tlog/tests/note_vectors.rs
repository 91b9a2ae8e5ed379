//! Published signed-note vectors: Go's `golang.org/x/mod/sumdb/note`
//! (`note_test.go`, `example_test.go`: the PeterNeumann and EnochRoot keys and
//! their signed note) and the example of the C2SP `signed-note` spec
//! (`example.com/foo`), plus the tlog-checkpoint and tlog-cosignature rules.

use comity_tlog::checkpoint::Checkpoint;
use comity_tlog::note::{KeyKind, Note, NoteError, Signer, Verifier, MAX_SIGNATURES};
use comity_tlog::Hash;
use ed25519_dalek::SigningKey;

// golang.org/x/mod sumdb/note/note_test.go TestNewSigner / TestNewVerifier.
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
// golang.org/x/mod sumdb/note/note_test.go TestVerifierList / TestOpen.
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
// golang.org/x/mod sumdb/note/note_test.go TestSign / TestOpen.
const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

fn peter() -> Verifier {
    Verifier::parse(PETER_VKEY).unwrap()
}
fn enoch() -> Verifier {
    Verifier::parse(ENOCH_VKEY).unwrap()
}

#[test]
fn go_signer_key_derives_the_published_verifier_key_and_id() {
    let signer = Signer::parse(PETER_SKEY).unwrap();
    assert_eq!(signer.id(), 0xc74f20a3);
    assert_eq!(signer.verifier().to_string(), PETER_VKEY);
    assert_eq!(signer.to_secret_string(), PETER_SKEY);
    assert_eq!(peter().to_string(), PETER_VKEY);
}

#[test]
fn signing_reproduces_the_go_example_note_byte_for_byte() {
    let signer = Signer::parse(PETER_SKEY).unwrap();
    let note = Note::sign(TEXT, &[&signer]).unwrap();
    assert_eq!(note.to_string(), format!("{TEXT}\n{PETER_SIG}"));
}

#[test]
fn open_verifies_known_keys_and_keeps_unknown_ones_aside() {
    let msg = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
    let n = Note::open(msg.as_bytes(), &[peter()]).unwrap();
    assert_eq!(n.text, TEXT);
    assert_eq!(n.verified.len(), 1);
    assert_eq!(n.verified[0].signature.name, "PeterNeumann");
    assert_eq!(n.verified[0].signature.key_id, 0xc74f20a3);
    assert_eq!(n.unverified.len(), 1);
    assert_eq!(n.unverified[0].name, "EnochRoot");

    let both = Note::open(msg.as_bytes(), &[peter(), enoch()]).unwrap();
    assert_eq!(both.verified.len(), 2);
    assert!(both.unverified.is_empty());

    assert!(matches!(
        Note::open(msg.as_bytes(), &[]),
        Err(NoteError::NoTrustedSignature { .. })
    ));
    // Repeated identical lines count once.
    let dup = format!("{TEXT}\n{PETER_SIG}{PETER_SIG}{ENOCH_SIG}{ENOCH_SIG}");
    let n = Note::open(dup.as_bytes(), &[peter()]).unwrap();
    assert_eq!((n.verified.len(), n.unverified.len()), (1, 1));
}

#[test]
fn a_bad_signature_from_a_known_key_rejects_the_note() {
    // As in Go's TestOpen: "ABCD" spliced into the signature.
    let bad = format!("{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
    let msg = format!("{TEXT}\n{bad}");
    assert_eq!(
        Note::open(msg.as_bytes(), &[peter()]),
        Err(NoteError::InvalidSignature {
            name: "PeterNeumann".into(),
            id: 0xc74f20a3
        })
    );
    // The same line from a key we do not know is merely unverified.
    let msg = format!("{TEXT}\n{bad}{ENOCH_SIG}");
    assert!(Note::open(msg.as_bytes(), &[enoch()]).is_ok());
}

#[test]
fn malformed_notes_are_refused() {
    // The bad messages of Go's TestOpen, and too many signatures.
    let cases: Vec<Vec<u8>> = vec![
        TEXT.into(),
        format!("{TEXT}\n").into(),
        format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]).into(),
        format!("\x01{TEXT}\n{PETER_SIG}").into(),
        [b"\xff".as_slice(), format!("{TEXT}\n{PETER_SIG}").as_bytes()].concat(),
        format!("{TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n").into(),
        format!("{TEXT}\n{PETER_SIG}Unexpected line.\n").into(),
    ];
    for msg in cases {
        let err = Note::open(&msg, &[peter()]).unwrap_err();
        assert!(
            matches!(
                err,
                NoteError::Malformed(_) | NoteError::MalformedSignature { .. }
            ),
            "{err:?} for {msg:?}"
        );
    }
    let many = format!("{TEXT}\n{}", PETER_SIG.repeat(MAX_SIGNATURES + 1));
    assert_eq!(
        Note::open(many.as_bytes(), &[peter()]),
        Err(NoteError::TooManySignatures(MAX_SIGNATURES + 1))
    );
}

#[test]
fn every_mangling_of_a_key_string_is_refused() {
    // Go's TestNewVerifier and TestNewSigner: every proper substring and every
    // single-byte increment must fail.
    for key in [PETER_VKEY, PETER_SKEY] {
        let parse = |k: &str| {
            if key == PETER_VKEY {
                Verifier::parse(k).is_ok()
            } else {
                Signer::parse(k).is_ok()
            }
        };
        assert!(parse(key));
        let b = key.as_bytes();
        for i in 0..=b.len() {
            for j in i + 1..=b.len() {
                if (i, j) != (0, b.len()) {
                    assert!(
                        !parse(std::str::from_utf8(&b[i..j]).unwrap()),
                        "{}",
                        &key[i..j]
                    );
                }
            }
        }
        for i in 0..b.len() {
            let mut m = b.to_vec();
            m[i] += 1;
            if let Ok(s) = std::str::from_utf8(&m) {
                assert!(!parse(s), "{s}");
            }
        }
    }
    // Go's TestNewVerifier: wrong key length and unknown algorithm, each with
    // an adjusted key id.
    assert!(Verifier::parse(
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
    )
    .is_err());
    assert_eq!(
        Verifier::parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
        Err(NoteError::UnsupportedKeyType(0x65))
    );
}

#[test]
fn c2sp_signed_note_spec_example_verifies() {
    // c2sp.org/signed-note, "Example".
    let v =
        Verifier::parse("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
            .unwrap();
    let msg = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
    let n = Note::open(msg.as_bytes(), &[v]).unwrap();
    assert_eq!(n.text, "This is an example message.\n");
}

fn cosigner(seed: u8) -> Signer {
    Signer::new(
        "witness.example/w1",
        KeyKind::CosignatureV1,
        SigningKey::from_bytes(&[seed; 32]),
    )
    .unwrap()
}

#[test]
fn checkpoints_open_with_log_signature_and_cosignatures() {
    let log = Signer::new(
        "example.com/log",
        KeyKind::Ed25519,
        SigningKey::from_bytes(&[1; 32]),
    )
    .unwrap();
    let cp = Checkpoint {
        origin: "example.com/log".into(),
        size: 3,
        root: Hash::leaf(b"x"),
        extensions: vec![],
    };
    let mut note = cp.sign(&log).unwrap();
    let w = cosigner(2);
    note.signatures
        .push(w.cosign(&note.text, 1_700_000_000).unwrap());
    let msg = note.to_string();

    let opened = Checkpoint::open(
        msg.as_bytes(),
        "example.com/log",
        &[log.verifier(), w.verifier()],
    )
    .unwrap();
    assert_eq!(opened.checkpoint, cp);
    assert_eq!(opened.note.verified.len(), 2);
    assert_eq!(opened.note.verified[1].timestamp, Some(1_700_000_000));
    // Cosigner verifier keys round-trip as vkeys with type byte 0x04.
    let vkey = w.verifier().to_string();
    assert_eq!(Verifier::parse(&vkey).unwrap(), w.verifier());
    assert_eq!(
        Signer::parse(&w.to_secret_string()).unwrap().verifier(),
        w.verifier()
    );
    // The cosignature key id uses type byte 0x04 (tlog-cosignature).
    assert_eq!(
        w.id(),
        comity_tlog::note::key_id(
            "witness.example/w1",
            KeyKind::CosignatureV1,
            w.verifier().public_key().as_bytes()
        )
    );
    assert_ne!(
        w.id(),
        comity_tlog::note::key_id(
            "witness.example/w1",
            KeyKind::Ed25519,
            w.verifier().public_key().as_bytes()
        )
    );
    // A cosignature alone does not vouch for the log.
    assert!(matches!(
        Checkpoint::open(msg.as_bytes(), "example.com/log", &[w.verifier()]),
        Err(NoteError::NoLogSignature)
    ));
    assert!(matches!(
        Checkpoint::open(msg.as_bytes(), "example.com/other", &[log.verifier()]),
        Err(NoteError::WrongOrigin { .. })
    ));
    // A cosignature key cannot make plain note signatures, nor the reverse.
    assert!(matches!(
        w.sign(&note.text),
        Err(NoteError::WrongKeyKind { .. })
    ));
    assert!(matches!(
        log.cosign(&note.text, 1),
        Err(NoteError::WrongKeyKind { .. })
    ));
    assert!(matches!(
        w.cosign(&note.text, u64::MAX),
        Err(NoteError::BadTimestamp(_))
    ));
}

#[test]
fn a_cosignature_over_another_time_or_text_fails() {
    let log = Signer::new(
        "example.com/log",
        KeyKind::Ed25519,
        SigningKey::from_bytes(&[1; 32]),
    )
    .unwrap();
    let cp = Checkpoint {
        origin: "example.com/log".into(),
        size: 0,
        root: Hash::empty_root(),
        extensions: vec![],
    };
    let mut note = cp.sign(&log).unwrap();
    let w = cosigner(3);
    let mut sig = w.cosign(&note.text, 42).unwrap();
    sig.signature[7] ^= 1; // timestamp 43, signature over 42
    note.signatures.push(sig);
    assert!(matches!(
        Checkpoint::open(
            note.to_string().as_bytes(),
            "example.com/log",
            &[log.verifier(), w.verifier()]
        ),
        Err(NoteError::InvalidSignature { .. })
    ));
}
