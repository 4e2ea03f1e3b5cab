//! Fuzzes everything that parses untrusted checkpoint text: signed-note verification, checkpoint
//! bodies and key strings. None of them may panic on any input, and anything that verifies
//! must parse back to itself.

#![no_main]

use std::sync::OnceLock;

use changegate_ledger::{Checkpoint, NoteSigner, NoteVerifier, open_checkpoint};
use libfuzzer_sys::fuzz_target;

/// A fixed trusted key, so that inputs carrying its name and key ID reach signature checks.
fn verifier() -> &'static NoteVerifier {
    static VERIFIER: OnceLock<NoteVerifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        NoteSigner::from_secret_bytes("fuzz.example", &[0x5a; 32])
            .expect("constant key name is valid")
            .verifier()
    })
}

fuzz_target!(|data: &[u8]| {
    let verifier = verifier();
    // Raw bytes exercise the UTF-8 check; valid UTF-8 then goes through every text parser.
    let _ = verifier.verify_bytes(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = verifier.verify(text);
    if let Ok(checkpoint) = Checkpoint::parse_body(text) {
        assert_eq!(checkpoint.to_body(), text, "accepted bodies are canonical");
    }
    if let Ok(checkpoint) = open_checkpoint(text, verifier) {
        assert_eq!(
            Checkpoint::parse_body(&checkpoint.to_body()).as_ref(),
            Ok(&checkpoint)
        );
    }
    let _ = NoteVerifier::from_verifier_key(text);
    let _ = NoteSigner::from_private_key_string(text);
});
