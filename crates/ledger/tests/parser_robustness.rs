//! Runs the note, checkpoint, key and frontier parsers on random and mutated input in normal
//! CI (the cargo-fuzz target in `/fuzz` does the same at scale). The parsers must never panic,
//! and no mutation of a signed note may make it verify with a different body.

use changegate_ledger::{Checkpoint, Frontier, NoteSigner, NoteVerifier, leaf_hash, open_checkpoint};
use proptest::prelude::*;

fn signer() -> NoteSigner {
    NoteSigner::from_secret_bytes("log.example", &[3; 32]).expect("valid name")
}

fn signed_checkpoint() -> (String, String) {
    let body = Checkpoint { origin: "log.example".to_owned(), size: 12345, root: leaf_hash(b"robustness") }.to_body();
    let note = signer().sign(&body).expect("valid body");
    (body, note)
}

/// Strings assembled from the tokens the parsers care about, so that random input often gets
/// past the first checks.
fn note_like_string() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("\n".to_owned()),
        Just("\n\n".to_owned()),
        Just("\u{2014} ".to_owned()),
        Just("log.example".to_owned()),
        Just(" ".to_owned()),
        Just("+".to_owned()),
        Just("=".to_owned()),
        Just("0".to_owned()),
        Just("18446744073709551616".to_owned()),
        "[A-Za-z0-9+/=]{0,100}",
        any::<String>(),
    ];
    prop::collection::vec(token, 0..20).prop_map(|tokens| tokens.concat())
}

proptest! {
    #[test]
    fn parsers_never_panic_on_arbitrary_strings(text in any::<String>()) {
        let verifier = signer().verifier();
        let _ = verifier.verify(&text);
        let _ = Checkpoint::parse_body(&text);
        let _ = open_checkpoint(&text, &verifier);
        let _ = NoteVerifier::from_verifier_key(&text);
        let _ = NoteSigner::from_private_key_string(&text);
    }

    #[test]
    fn parsers_never_panic_on_note_like_strings(text in note_like_string()) {
        let verifier = signer().verifier();
        let _ = verifier.verify(&text);
        if let Ok(checkpoint) = Checkpoint::parse_body(&text) {
            // Only canonical bodies are accepted, so one checkpoint has one signed form.
            prop_assert_eq!(checkpoint.to_body(), text.clone());
        }
        let _ = NoteVerifier::from_verifier_key(&text);
        let _ = NoteSigner::from_private_key_string(&text);
    }

    #[test]
    fn byte_parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = signer().verifier().verify_bytes(&bytes);
        if let Ok(frontier) = Frontier::from_bytes(&bytes) {
            // Whatever parses must serialise back to the same bytes and have a root.
            prop_assert_eq!(frontier.to_bytes(), bytes);
            let _ = frontier.root();
        }
    }

    #[test]
    fn mutated_notes_never_verify_with_another_body(
        position in any::<prop::sample::Index>(),
        insertion in "[\\x00-\\x7f\u{2014}]{0,3}",
        delete in 0usize..3,
    ) {
        let (body, note) = signed_checkpoint();
        let characters: Vec<char> = note.chars().collect();
        let at = position.index(characters.len() + 1);
        let end = (at + delete).min(characters.len());
        let mutated: String = characters[..at]
            .iter()
            .copied()
            .chain(insertion.chars())
            .chain(characters[end..].iter().copied())
            .collect();
        if let Ok(verified_body) = signer().verifier().verify(&mutated) {
            prop_assert_eq!(verified_body, body.clone());
        }
        if let Ok(checkpoint) = open_checkpoint(&mutated, &signer().verifier()) {
            prop_assert_eq!(checkpoint.to_body(), body);
        }
    }

    #[test]
    fn checkpoint_bodies_round_trip(
        origin in "[!-~]{1,40}",
        size in any::<u64>(),
        root in any::<[u8; 32]>(),
    ) {
        let checkpoint = Checkpoint { origin, size, root };
        let body = checkpoint.to_body();
        prop_assert_eq!(Checkpoint::parse_body(&body), Ok(checkpoint.clone()));
        let note = signer().sign(&body).expect("valid body");
        prop_assert_eq!(open_checkpoint(&note, &signer().verifier()), Ok(checkpoint));
    }
}
