//! C2SP `signed-note` with Ed25519 keys: signing checkpoints and verifying them against one
//! trusted key, in the key and note formats of Go's `golang.org/x/mod/sumdb/note`.
//!
//! Using the exact Go formats lets standard tooling (Go `note`, Tessera, witnesses) read our
//! checkpoints and keys, and lets us test against the Go package's published vectors.
//!
//! * Key ID: the first four bytes of `SHA-256(name || 0x0A || 0x01 || public key)`.
//! * Verifier key: `<name>+<8 hex key id>+<base64(0x01 || public key)>`.
//! * Private key: `PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || secret)>`.
//! * Note: the body (ending in a newline), a blank line, then one or more signature lines
//!   `— <name> <base64(key id || signature)>` (U+2014 EM DASH, a space).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::LedgerError;

/// Algorithm byte of Ed25519 keys in the signed-note key encodings.
const ALGORITHM_ED25519: u8 = 0x01;
/// Largest note accepted for verification; bounds parsing work on hostile input.
pub const MAX_NOTE_BYTES: usize = 1 << 20;
/// Largest number of signature lines accepted, as in Go's `note.Open`.
pub const MAX_SIGNATURE_LINES: usize = 100;
/// Start of every signature line: U+2014 EM DASH and a space.
const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";
/// Start of the private key encoding.
const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";
/// Length of a key ID.
const KEY_ID_LENGTH: usize = 4;
/// Length of an Ed25519 signature.
const SIGNATURE_LENGTH: usize = 64;

/// Checks a key name: non-empty, no Unicode white space, no `+` (which separates the fields
/// of key strings) and no control characters (which notes may not contain).
fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("key name is empty".to_owned());
    }
    if name.chars().any(|character| character.is_whitespace() || character == '+' || character.is_control()) {
        return Err(format!("key name {name:?} contains white space, '+' or a control character"));
    }
    Ok(())
}

/// Key ID of an Ed25519 public key under `name`.
fn compute_key_id(name: &str, public_key: &VerifyingKey) -> [u8; KEY_ID_LENGTH] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', ALGORITHM_ED25519]);
    hasher.update(public_key.as_bytes());
    let digest = hasher.finalize();
    let mut key_id = [0u8; KEY_ID_LENGTH];
    key_id.copy_from_slice(&digest[..KEY_ID_LENGTH]);
    key_id
}

/// Parses the 8-hex-digit key ID field of a key string.
fn parse_key_id(field: &str) -> Result<[u8; KEY_ID_LENGTH], LedgerError> {
    let mut key_id = [0u8; KEY_ID_LENGTH];
    if field.len() != 2 * KEY_ID_LENGTH {
        return Err(LedgerError::MalformedKey(format!("key ID {field:?} is not 8 hexadecimal digits")));
    }
    hex::decode_to_slice(field, &mut key_id)
        .map_err(|error| LedgerError::MalformedKey(format!("key ID {field:?} is not hexadecimal: {error}")))?;
    Ok(key_id)
}

/// Decodes the `base64(0x01 || 32 key bytes)` field of a key string.
fn parse_key_material(field: &str) -> Result<[u8; 32], LedgerError> {
    let decoded =
        BASE64.decode(field).map_err(|error| LedgerError::MalformedKey(format!("key is not base64: {error}")))?;
    match decoded.split_first() {
        Some((&ALGORITHM_ED25519, key)) => key
            .try_into()
            .map_err(|_| LedgerError::MalformedKey(format!("Ed25519 key has {} bytes, not 32", key.len()))),
        Some((algorithm, _)) => Err(LedgerError::MalformedKey(format!("unsupported key algorithm {algorithm:#04x}"))),
        None => Err(LedgerError::MalformedKey("key is empty".to_owned())),
    }
}

/// Rejects text that a signed note may not contain: anything over [`MAX_NOTE_BYTES`] and
/// control characters other than newline (as Go's `note.Open` does).
fn check_note_text(text: &str) -> Result<(), LedgerError> {
    if text.len() > MAX_NOTE_BYTES {
        return Err(LedgerError::MalformedNote(format!(
            "note has {} bytes, more than the limit of {MAX_NOTE_BYTES}",
            text.len()
        )));
    }
    if text.chars().any(|character| character < '\u{20}' && character != '\n') {
        return Err(LedgerError::MalformedNote("note contains a control character".to_owned()));
    }
    Ok(())
}

/// Signs note bodies with an Ed25519 key under a key name (for checkpoints: the log origin).
pub struct NoteSigner {
    name: String,
    signing_key: SigningKey,
    key_id: [u8; KEY_ID_LENGTH],
}

impl std::fmt::Debug for NoteSigner {
    /// Shows the public identity only, so the secret never reaches logs.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &hex::encode(self.key_id))
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    /// Builds a signer from a key name and a 32-byte Ed25519 secret (seed).
    pub fn from_secret_bytes(name: &str, secret: &[u8; 32]) -> Result<Self, LedgerError> {
        validate_name(name).map_err(LedgerError::MalformedKey)?;
        let signing_key = SigningKey::from_bytes(secret);
        let key_id = compute_key_id(name, &signing_key.verifying_key());
        Ok(Self { name: name.to_owned(), signing_key, key_id })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `SHA-256(name || 0x0A || 0x01 || public key)[..4]`.
    pub fn key_id(&self) -> [u8; KEY_ID_LENGTH] {
        self.key_id
    }

    /// The public verifier key string `<name>+<8 hex key id>+<base64(0x01 || public key)>`.
    pub fn verifier_key(&self) -> String {
        let mut encoded_key = vec![ALGORITHM_ED25519];
        encoded_key.extend_from_slice(self.signing_key.verifying_key().as_bytes());
        format!("{}+{}+{}", self.name, hex::encode(self.key_id), BASE64.encode(encoded_key))
    }

    /// A verifier for this signer's public key.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier { name: self.name.clone(), key_id: self.key_id, verifying_key: self.signing_key.verifying_key() }
    }

    /// Signs `body` and returns the signed note `body + "\n" + "— name base64(keyid||sig)\n"`.
    ///
    /// The body must end with a newline and must not contain control characters other than
    /// newline, so that every note we sign can be verified.
    pub fn sign(&self, body: &str) -> Result<String, LedgerError> {
        if !body.ends_with('\n') {
            return Err(LedgerError::MalformedNote("note body must end with a newline".to_owned()));
        }
        check_note_text(body)?;
        let signature = self.signing_key.sign(body.as_bytes());
        let mut signature_field = Vec::with_capacity(KEY_ID_LENGTH + SIGNATURE_LENGTH);
        signature_field.extend_from_slice(&self.key_id);
        signature_field.extend_from_slice(&signature.to_bytes());
        let note = format!("{body}\n{SIGNATURE_LINE_PREFIX}{} {}\n", self.name, BASE64.encode(signature_field));
        check_note_text(&note)?;
        Ok(note)
    }

    /// The private key in the Go note format
    /// `PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || secret)>`.
    pub fn to_private_key_string(&self) -> String {
        let mut encoded_key = vec![ALGORITHM_ED25519];
        encoded_key.extend_from_slice(self.signing_key.as_bytes());
        format!("{PRIVATE_KEY_PREFIX}{}+{}+{}", self.name, hex::encode(self.key_id), BASE64.encode(encoded_key))
    }

    /// Parses [`NoteSigner::to_private_key_string`] output (also Go's `note.GenerateKey`
    /// output), checking the key ID against the derived public key.
    pub fn from_private_key_string(private_key: &str) -> Result<Self, LedgerError> {
        let rest = private_key
            .strip_prefix(PRIVATE_KEY_PREFIX)
            .ok_or_else(|| LedgerError::MalformedKey("private key does not start with PRIVATE+KEY+".to_owned()))?;
        let mut fields = rest.splitn(3, '+');
        let (Some(name), Some(key_id_field), Some(key_field)) = (fields.next(), fields.next(), fields.next()) else {
            return Err(LedgerError::MalformedKey("private key needs name, key ID and key fields".to_owned()));
        };
        validate_name(name).map_err(LedgerError::MalformedKey)?;
        let key_id = parse_key_id(key_id_field)?;
        let secret = parse_key_material(key_field)?;
        let signer = Self::from_secret_bytes(name, &secret)?;
        if signer.key_id != key_id {
            return Err(LedgerError::MalformedKey("key ID does not match the private key".to_owned()));
        }
        Ok(signer)
    }
}

/// Verifies signed notes against one trusted Ed25519 key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: [u8; KEY_ID_LENGTH],
    verifying_key: VerifyingKey,
}

/// One parsed signature line.
struct SignatureLine<'a> {
    name: &'a str,
    key_id: [u8; KEY_ID_LENGTH],
    signature: Vec<u8>,
}

/// Parses `— <name> <base64(key id || signature)>` (without the trailing newline).
fn parse_signature_line(line: &str) -> Result<SignatureLine<'_>, LedgerError> {
    let rest = line
        .strip_prefix(SIGNATURE_LINE_PREFIX)
        .ok_or_else(|| LedgerError::MalformedNote("signature line does not start with an em dash".to_owned()))?;
    let (name, encoded) = rest
        .split_once(' ')
        .ok_or_else(|| LedgerError::MalformedNote("signature line has no space after the key name".to_owned()))?;
    validate_name(name).map_err(LedgerError::MalformedNote)?;
    let decoded = BASE64
        .decode(encoded)
        .map_err(|error| LedgerError::MalformedNote(format!("signature is not base64: {error}")))?;
    // A key ID and at least one signature byte, as in Go's note.Open.
    if decoded.len() <= KEY_ID_LENGTH {
        return Err(LedgerError::MalformedNote("signature is too short".to_owned()));
    }
    let (key_id, signature) = decoded.split_at(KEY_ID_LENGTH);
    let mut key_id_bytes = [0u8; KEY_ID_LENGTH];
    key_id_bytes.copy_from_slice(key_id);
    Ok(SignatureLine { name, key_id: key_id_bytes, signature: signature.to_vec() })
}

impl NoteVerifier {
    /// Parses a verifier key `<name>+<8 hex key id>+<base64(0x01 || public key)>`, checking
    /// the key ID and rejecting invalid or small-order (weak) Ed25519 points.
    pub fn from_verifier_key(verifier_key: &str) -> Result<Self, LedgerError> {
        let mut fields = verifier_key.splitn(3, '+');
        let (Some(name), Some(key_id_field), Some(key_field)) = (fields.next(), fields.next(), fields.next()) else {
            return Err(LedgerError::MalformedKey("verifier key needs name, key ID and key fields".to_owned()));
        };
        validate_name(name).map_err(LedgerError::MalformedKey)?;
        let key_id = parse_key_id(key_id_field)?;
        let public_key = parse_key_material(key_field)?;
        let verifying_key = VerifyingKey::from_bytes(&public_key)
            .map_err(|_| LedgerError::MalformedKey("public key is not a valid Ed25519 point".to_owned()))?;
        // verify_strict rejects every signature under a small-order key, so such a key can
        // only be a mistake or an attack; say so up front.
        if verifying_key.is_weak() {
            return Err(LedgerError::MalformedKey("public key has small order".to_owned()));
        }
        if compute_key_id(name, &verifying_key) != key_id {
            return Err(LedgerError::MalformedKey("key ID does not match the public key".to_owned()));
        }
        Ok(Self { name: name.to_owned(), key_id, verifying_key })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `SHA-256(name || 0x0A || 0x01 || public key)[..4]`.
    pub fn key_id(&self) -> [u8; KEY_ID_LENGTH] {
        self.key_id
    }

    /// Parses a signed note, checks that a signature line from this key exists and that every
    /// such line verifies (Ed25519 `verify_strict`), and returns the body (including its final
    /// newline).
    ///
    /// Signatures by other keys are ignored. Malformed notes are rejected with
    /// [`LedgerError::MalformedNote`]: over 1 MiB, control characters other than newline, no
    /// blank line before the signatures, a signature block not ending in a newline, lines
    /// that are not well-formed signature lines (bad base64 included), or more than 100
    /// signature lines. A note without a line from this key gives [`LedgerError::UnknownKey`]
    /// and a bad signature from this key gives [`LedgerError::SignatureInvalid`].
    pub fn verify(&self, note: &str) -> Result<String, LedgerError> {
        check_note_text(note)?;
        // The body ends at the last blank line, so bodies may themselves contain blank lines.
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| LedgerError::MalformedNote("no blank line before the signatures".to_owned()))?;
        let body = &note[..=split];
        let signature_block = &note[split + 2..];
        let Some(signature_lines) = signature_block.strip_suffix('\n') else {
            return Err(LedgerError::MalformedNote(
                "signature block is empty or does not end with a newline".to_owned(),
            ));
        };

        // Parse every line before verifying anything, so that a malformed note is rejected
        // as malformed no matter where the fault is.
        let mut ours = Vec::new();
        for (line_number, line) in signature_lines.split('\n').enumerate() {
            if line_number >= MAX_SIGNATURE_LINES {
                return Err(LedgerError::MalformedNote(format!("more than {MAX_SIGNATURE_LINES} signature lines")));
            }
            let parsed = parse_signature_line(line)?;
            if parsed.name == self.name && parsed.key_id == self.key_id {
                ours.push(parsed.signature);
            }
        }
        if ours.is_empty() {
            return Err(LedgerError::UnknownKey);
        }
        for signature in ours {
            let signature_bytes: [u8; SIGNATURE_LENGTH] =
                signature.as_slice().try_into().map_err(|_| LedgerError::SignatureInvalid)?;
            let signature = Signature::from_bytes(&signature_bytes);
            self.verifying_key.verify_strict(body.as_bytes(), &signature).map_err(|_| LedgerError::SignatureInvalid)?;
        }
        Ok(body.to_owned())
    }

    /// [`NoteVerifier::verify`] for raw bytes, rejecting input that is not UTF-8.
    pub fn verify_bytes(&self, note: &[u8]) -> Result<String, LedgerError> {
        if note.len() > MAX_NOTE_BYTES {
            return Err(LedgerError::MalformedNote(format!(
                "note has {} bytes, more than the limit of {MAX_NOTE_BYTES}",
                note.len()
            )));
        }
        let text = std::str::from_utf8(note).map_err(|_| LedgerError::MalformedNote("note is not UTF-8".to_owned()))?;
        self.verify(text)
    }
}
