//! Runs every transparency-dev/merkle inclusion and consistency probe (see
//! `tests/vectors/NOTICE.md`) through `verify_inclusion` / `verify_consistency` and checks the
//! outcome against each probe's `wantErr`.
//!
//! The Go probes carry byte strings of any length, while our API takes 32-byte [`Hash`]es:
//! * a leaf hash or proof entry that is not 32 bytes cannot be expressed in our API, so the
//!   probe counts as rejected at the type boundary (all such probes want an error);
//! * a root that is not 32 bytes (the generator's "don't care" placeholders and truncated
//!   roots) is zero-padded to 32 bytes, so the verifier still decides by comparing roots,
//!   exactly as Go compares the raw bytes.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use changegate_ledger::{Hash, verify_consistency, verify_inclusion};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionProbe {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsistencyProbe {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

/// How a probe's verdict was reached.
enum Verdict {
    /// The verifier ran and returned this.
    Verified(bool),
    /// An input could not be expressed as a 32-byte hash.
    RejectedAtTypeBoundary,
}

fn vector_directory(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(kind)
}

fn json_files(directory: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![directory.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("vector directory is readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|extension| extension == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn decode(field: &str) -> Vec<u8> {
    BASE64.decode(field).expect("vector fields are base64")
}

fn exact_hash(field: &str) -> Option<Hash> {
    decode(field).try_into().ok()
}

fn padded_root(field: &str) -> Hash {
    let bytes = decode(field);
    assert!(bytes.len() <= 32, "roots are at most 32 bytes");
    let mut root = [0u8; 32];
    root[..bytes.len()].copy_from_slice(&bytes);
    root
}

fn exact_proof(proof: &Option<Vec<String>>) -> Option<Vec<Hash>> {
    proof.iter().flatten().map(|entry| exact_hash(entry)).collect()
}

/// Checks every probe, returning (probes read, probes decided at the type boundary).
fn check_probes(kind: &str, run: impl Fn(&str) -> (Verdict, bool, String)) -> (usize, usize) {
    let files = json_files(&vector_directory(kind));
    let mut failures = Vec::new();
    let mut boundary = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("vector file is readable");
        let (verdict, want_error, description) = run(&text);
        let got_error = match verdict {
            Verdict::Verified(accepted) => !accepted,
            Verdict::RejectedAtTypeBoundary => {
                boundary += 1;
                true
            }
        };
        if got_error != want_error {
            failures.push(format!("{}: {description}: want error {want_error}, got error {got_error}", file.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {kind} probes failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    (files.len(), boundary)
}

#[test]
fn every_inclusion_probe_matches_want_err() {
    let (count, boundary) = check_probes("inclusion", |text| {
        let probe: InclusionProbe = serde_json::from_str(text).expect("inclusion probe JSON");
        let verdict = match (exact_hash(&probe.leaf_hash), exact_proof(&probe.proof)) {
            (Some(leaf), Some(proof)) => Verdict::Verified(
                verify_inclusion(&leaf, probe.leaf_idx, probe.tree_size, &proof, &padded_root(&probe.root)).is_ok(),
            ),
            _ => Verdict::RejectedAtTypeBoundary,
        };
        (verdict, probe.want_err, probe.desc)
    });
    println!("inclusion probes: {count} passed ({boundary} rejected at the type boundary)");
    assert!(count >= 98, "expected at least 98 inclusion probes, read {count}");
}

#[test]
fn every_consistency_probe_matches_want_err() {
    let (count, boundary) = check_probes("consistency", |text| {
        let probe: ConsistencyProbe = serde_json::from_str(text).expect("consistency probe JSON");
        let verdict = match exact_proof(&probe.proof) {
            Some(proof) => Verdict::Verified(
                verify_consistency(
                    probe.size1,
                    probe.size2,
                    &proof,
                    &padded_root(&probe.root1),
                    &padded_root(&probe.root2),
                )
                .is_ok(),
            ),
            None => Verdict::RejectedAtTypeBoundary,
        };
        (verdict, probe.want_err, probe.desc)
    });
    println!("consistency probes: {count} passed ({boundary} rejected at the type boundary)");
    assert!(count >= 98, "expected at least 98 consistency probes, read {count}");
}
