//! Signed notes and checkpoints: the golang.org/x/mod `sumdb/note` test vectors (key strings,
//! an exact signed note, and its malformed-note cases), our own golden checkpoint, round
//! trips, tampering and key-mismatch cases.

use changegate_ledger::{Checkpoint, LedgerError, NoteSigner, NoteVerifier, leaf_hash, open_checkpoint};

const PETER_PRIVATE_KEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VERIFIER_KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const ENOCH_VERIFIER_KEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
const PETER_SIGNATURE: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIGNATURE: &str =
    "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

fn peter() -> NoteVerifier {
    NoteVerifier::from_verifier_key(PETER_VERIFIER_KEY).expect("Go test verifier key")
}

fn enoch() -> NoteVerifier {
    NoteVerifier::from_verifier_key(ENOCH_VERIFIER_KEY).expect("Go test verifier key")
}

#[test]
fn go_private_key_derives_go_verifier_key() {
    let signer = NoteSigner::from_private_key_string(PETER_PRIVATE_KEY).expect("Go test key");
    assert_eq!(signer.name(), "PeterNeumann");
    assert_eq!(signer.key_id(), [0xc7, 0x4f, 0x20, 0xa3]);
    assert_eq!(signer.verifier_key(), PETER_VERIFIER_KEY);
    assert_eq!(signer.to_private_key_string(), PETER_PRIVATE_KEY);
    assert_eq!(peter().name(), "PeterNeumann");
    assert_eq!(peter().key_id(), [0xc7, 0x4f, 0x20, 0xa3]);
    assert_eq!(signer.verifier(), peter());
}

#[test]
fn go_sign_vector() {
    let signer = NoteSigner::from_private_key_string(PETER_PRIVATE_KEY).expect("Go test key");
    let note = signer.sign(TEXT).expect("valid body");
    assert_eq!(note, format!("{TEXT}\n{PETER_SIGNATURE}"));
    assert!(matches!(signer.sign("abc"), Err(LedgerError::MalformedNote(_))));
}

#[test]
fn go_open_vectors() {
    let both = format!("{TEXT}\n{PETER_SIGNATURE}{ENOCH_SIGNATURE}");
    assert_eq!(peter().verify(&both).as_deref(), Ok(TEXT));
    assert_eq!(enoch().verify(&both).as_deref(), Ok(TEXT));

    // A key that did not sign: unknown, even though the note is otherwise valid.
    let only_peter = format!("{TEXT}\n{PETER_SIGNATURE}");
    assert_eq!(enoch().verify(&only_peter), Err(LedgerError::UnknownKey));

    // Too many signature lines.
    let many = format!("{TEXT}\n{}", PETER_SIGNATURE.repeat(101));
    assert!(matches!(peter().verify(&many), Err(LedgerError::MalformedNote(_))));
    let hundred = format!("{TEXT}\n{}", PETER_SIGNATURE.repeat(100));
    assert_eq!(peter().verify(&hundred).as_deref(), Ok(TEXT));

    // Invalid signature from the trusted key.
    let corrupted = format!("{TEXT}\n{}ABCD{}", &PETER_SIGNATURE[..60], &PETER_SIGNATURE[60..]);
    assert_eq!(peter().verify(&corrupted), Err(LedgerError::SignatureInvalid));

    // Duplicated verified and unverified signatures, including a corrupt unknown one.
    let duplicated = format!(
        "{TEXT}\n{PETER_SIGNATURE}{PETER_SIGNATURE}{ENOCH_SIGNATURE}{ENOCH_SIGNATURE}{}ABCD{}",
        &ENOCH_SIGNATURE[..60],
        &ENOCH_SIGNATURE[60..]
    );
    assert_eq!(peter().verify(&duplicated).as_deref(), Ok(TEXT));

    // Invalid encoded message syntax.
    let malformed = [
        TEXT.to_owned(),
        format!("{TEXT}\n"),
        format!("{TEXT}\n{}", &PETER_SIGNATURE[..PETER_SIGNATURE.len() - 1]),
        format!("\x01{TEXT}\n{PETER_SIGNATURE}"),
        format!(
            "{TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
        ),
        format!("{TEXT}\n{PETER_SIGNATURE}Unexpected line.\n"),
    ];
    for note in &malformed {
        assert!(matches!(peter().verify(note), Err(LedgerError::MalformedNote(_))), "{note:?} should be malformed");
    }
    let mut not_utf8 = b"\xff".to_vec();
    not_utf8.extend_from_slice(format!("{TEXT}\n{PETER_SIGNATURE}").as_bytes());
    assert!(matches!(peter().verify_bytes(&not_utf8), Err(LedgerError::MalformedNote(_))));
    assert_eq!(peter().verify_bytes(format!("{TEXT}\n{PETER_SIGNATURE}").as_bytes()).as_deref(), Ok(TEXT));

    // Signatures under another name or key ID are not ours.
    let misnamed = PETER_SIGNATURE.replace("PeterNeumann", "CarmenSandiego");
    assert_eq!(peter().verify(&format!("{TEXT}\n{misnamed}")), Err(LedgerError::UnknownKey));
    let wrong_key_id = PETER_SIGNATURE.replace("x08g", "xxxx");
    assert_eq!(peter().verify(&format!("{TEXT}\n{wrong_key_id}")), Err(LedgerError::UnknownKey));
}

#[test]
fn go_verifier_key_manglings_are_rejected() {
    let bytes = PETER_VERIFIER_KEY.as_bytes();
    for start in 0..=bytes.len() {
        for end in start + 1..=bytes.len() {
            if start == 0 && end == bytes.len() {
                continue;
            }
            let fragment = std::str::from_utf8(&bytes[start..end]).expect("ASCII");
            assert!(NoteVerifier::from_verifier_key(fragment).is_err(), "{fragment:?} accepted");
        }
    }
    for position in 0..bytes.len() {
        let mut mangled = bytes.to_vec();
        mangled[position] += 1;
        let mangled = String::from_utf8(mangled).expect("ASCII");
        assert!(NoteVerifier::from_verifier_key(&mangled).is_err(), "{mangled:?} accepted");
    }
    // Wrong key length and unknown algorithm, each with a matching key hash.
    for key in [
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ] {
        assert!(matches!(NoteVerifier::from_verifier_key(key), Err(LedgerError::MalformedKey(_))));
    }
}

#[test]
fn go_private_key_manglings_are_rejected() {
    let bytes = PETER_PRIVATE_KEY.as_bytes();
    for start in 0..=bytes.len() {
        for end in start + 1..=bytes.len() {
            if start == 0 && end == bytes.len() {
                continue;
            }
            let fragment = std::str::from_utf8(&bytes[start..end]).expect("ASCII");
            assert!(NoteSigner::from_private_key_string(fragment).is_err(), "{fragment:?} accepted");
        }
    }
    for position in 0..bytes.len() {
        let mut mangled = bytes.to_vec();
        mangled[position] += 1;
        let mangled = String::from_utf8(mangled).expect("ASCII");
        assert!(NoteSigner::from_private_key_string(&mangled).is_err(), "{mangled:?} accepted");
    }
}

/// Our own golden values: a fixed secret must always give these exact strings, so any change
/// in key encoding, body format or signing is caught. They were cross-checked with an
/// independent implementation (Python `cryptography` Ed25519 plus hashlib).
const GOLDEN_SECRET: [u8; 32] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12,
    0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
];
const GOLDEN_NAME: &str = "changegate.example/audit";
const GOLDEN_VERIFIER_KEY: &str = "changegate.example/audit+8b83f04d+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
const GOLDEN_PRIVATE_KEY: &str =
    "PRIVATE+KEY+changegate.example/audit+8b83f04d+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f";
const GOLDEN_NOTE: &str = "changegate.example/audit
3
+tO4yb77q6aNZHcJbc0SaFI12tDwJo9qGz1iPZmqwjg=

\u{2014} changegate.example/audit i4PwTY4jgVoPLpER8I2coDyspPDRPpICRwUGhvey8WQCfM/H1bWfbrvymAoAuQxlRF6mUyyrZHtMhoiCxs+IP7g+agc=
";

fn golden_checkpoint() -> Checkpoint {
    Checkpoint { origin: GOLDEN_NAME.to_owned(), size: 3, root: leaf_hash(b"golden root") }
}

#[test]
fn golden_checkpoint_note() {
    let signer = NoteSigner::from_secret_bytes(GOLDEN_NAME, &GOLDEN_SECRET).expect("valid name");
    let note = signer.sign(&golden_checkpoint().to_body()).expect("valid body");
    assert_eq!(signer.verifier_key(), GOLDEN_VERIFIER_KEY);
    assert_eq!(signer.to_private_key_string(), GOLDEN_PRIVATE_KEY);
    assert_eq!(note, GOLDEN_NOTE);

    let verifier = NoteVerifier::from_verifier_key(GOLDEN_VERIFIER_KEY).expect("golden key");
    assert_eq!(open_checkpoint(GOLDEN_NOTE, &verifier), Ok(golden_checkpoint()));
    let restored = NoteSigner::from_private_key_string(GOLDEN_PRIVATE_KEY).expect("golden key");
    assert_eq!(restored.verifier_key(), GOLDEN_VERIFIER_KEY);
}

#[test]
fn sign_verify_round_trip_and_tampering() {
    let signer = NoteSigner::from_secret_bytes("log.example", &[7; 32]).expect("valid name");
    let verifier = NoteVerifier::from_verifier_key(&signer.verifier_key()).expect("own key");
    let checkpoint = Checkpoint { origin: "log.example".to_owned(), size: 42, root: leaf_hash(b"root") };
    let note = signer.sign(&checkpoint.to_body()).expect("valid body");
    assert_eq!(open_checkpoint(&note, &verifier), Ok(checkpoint.clone()));

    // Tampered body: a different size under the same signature.
    let tampered = note.replacen("\n42\n", "\n43\n", 1);
    assert_eq!(open_checkpoint(&tampered, &verifier), Err(LedgerError::SignatureInvalid));

    // Wrong key, same name: the key ID differs, so the signature is not "ours".
    let other = NoteSigner::from_secret_bytes("log.example", &[8; 32]).expect("valid name");
    assert_eq!(other.verifier().verify(&note), Err(LedgerError::UnknownKey));

    // A cosignature from another key is ignored; both keys verify the doubly signed note.
    let cosigner = NoteSigner::from_secret_bytes("witness.example", &[9; 32]).expect("name");
    let cosigned = cosigner.sign(&checkpoint.to_body()).expect("valid body");
    let cosignature_line = cosigned.rsplit_once("\n\n").map(|(_, line)| line).expect("signature block");
    let doubly_signed = format!("{note}{cosignature_line}");
    assert_eq!(open_checkpoint(&doubly_signed, &verifier), Ok(checkpoint.clone()));
    assert_eq!(open_checkpoint(&doubly_signed, &cosigner.verifier()), Ok(checkpoint));

    // Bodies that may contain blank lines still split at the last blank line.
    let body_with_blank_line = "first\n\nsecond\n";
    let note = signer.sign(body_with_blank_line).expect("valid body");
    assert_eq!(verifier.verify(&note).as_deref(), Ok(body_with_blank_line));
    assert!(matches!(open_checkpoint(&note, &verifier), Err(LedgerError::MalformedCheckpoint(_))));
}

#[test]
fn invalid_names_and_bodies_are_rejected() {
    for name in ["", "a b", "a+b", "tab\there", "new\nline", "nbsp\u{a0}"] {
        assert!(
            matches!(NoteSigner::from_secret_bytes(name, &[1; 32]), Err(LedgerError::MalformedKey(_))),
            "{name:?} accepted"
        );
    }
    let signer = NoteSigner::from_secret_bytes("log.example", &[1; 32]).expect("valid name");
    for body in ["", "no newline", "control\x07\n"] {
        assert!(matches!(signer.sign(body), Err(LedgerError::MalformedNote(_))), "{body:?} accepted");
    }
    let oversized = format!("{}\n", "a".repeat(changegate_ledger::MAX_NOTE_BYTES));
    assert!(matches!(signer.sign(&oversized), Err(LedgerError::MalformedNote(_))));
    assert!(matches!(signer.verifier().verify(&oversized), Err(LedgerError::MalformedNote(_))));
    // The debug form must not leak the secret.
    let debug = format!("{signer:?}");
    assert!(debug.contains("log.example"));
    assert!(!debug.contains(&signer.to_private_key_string()[30..]));
}

#[test]
fn weak_and_invalid_public_keys_are_rejected() {
    use base64::Engine as _;
    use sha2::{Digest, Sha256};
    // The identity point (small order) and a y-coordinate that is not on the curve, each with
    // a correct key ID so that only the key check can reject them.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut not_on_curve = [0u8; 32];
    not_on_curve[0] = 2;
    for point in [identity, not_on_curve] {
        let mut encoded = vec![0x01];
        encoded.extend_from_slice(&point);
        let mut hasher = Sha256::new();
        hasher.update(b"weak\n");
        hasher.update(&encoded);
        let key_id = hex::encode(&hasher.finalize()[..4]);
        let key = format!("weak+{key_id}+{}", base64::engine::general_purpose::STANDARD.encode(&encoded));
        assert!(matches!(NoteVerifier::from_verifier_key(&key), Err(LedgerError::MalformedKey(_))));
    }
}
