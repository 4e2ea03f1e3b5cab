//! `changegate audit …`: checkpoints, full verification (against the store, or offline against an
//! exported bundle), inclusion proofs and bundle export.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use changegate_core::Role;
use changegate_ledger::{Frontier, NoteVerifier, leaf_hash, open_checkpoint};
use changegate_service::{Caller, Service, SystemClock};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::args::{AuditCommand, KeyArgs, StoreArgs};
use crate::{keys, setup};

/// Entries read per batch during export: the most the service's `events_after` hands out at once.
const EXPORT_BATCH_SIZE: u32 = 1_000;
/// Longest line accepted in entries.jsonl (a leaf is at most a few hundred KiB of JSON).
const ENTRY_LINE_LENGTH_MAX: usize = 4 * 1024 * 1024;

fn progress_bar(total: u64, json: bool, what: &str) -> ProgressBar {
    if json {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} entries ({per_sec}, {eta} left)")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

pub(crate) async fn service(store: &StoreArgs, keys_args: &KeyArgs) -> anyhow::Result<Service> {
    let opened = setup::open_store(store).await?;
    let mut service = Service::new(opened, Arc::new(SystemClock));
    if let Some(signer) = keys::load(keys_args, &store.data_dir)? {
        service = service.with_signer(signer);
    }
    Ok(service)
}

pub async fn run(command: AuditCommand, json: bool) -> anyhow::Result<()> {
    match command {
        AuditCommand::Checkpoint { store, keys } => {
            let service = service(&store, &keys).await?;
            let owner = service.system_caller(Role::Admin);
            service.checkpoint_now(&owner).await?;
            let checkpoint = service.latest_checkpoint(&owner).await?.context("the log is empty: nothing to sign")?;
            if json {
                println!("{}", json!({"size": checkpoint.size, "note": checkpoint.note}));
            } else {
                print!("{}", checkpoint.note);
            }
            service.close().await;
            Ok(())
        }
        AuditCommand::Verify { bundle: Some(bundle), public_key, .. } => {
            let key = public_key.context("--public-key is required with --bundle")?;
            verify_bundle(&bundle, &key, json, true)
        }
        AuditCommand::Verify { store, keys, bundle: None, .. } => {
            let service = service(&store, &keys).await?;
            let owner = service.system_caller(Role::Admin);
            let total = service.ledger_status(&owner).await?.size;
            let bar = progress_bar(total, json, "verifying");
            let progress = {
                let bar = bar.clone();
                move |done: u64, _total: u64| bar.set_position(done)
            };
            let report = service.verify_ledger(&owner, &progress).await?;
            bar.finish_and_clear();
            // The projections (current state) must be the fold of the events the ledger vouches for.
            let differing = if report.ok { service.verify_projections(&owner).await? } else { Vec::new() };
            service.close().await;
            if json {
                println!(
                    "{}",
                    json!({"ok": report.ok && differing.is_empty(), "size": report.size, "first_bad_index": report.first_bad_index,
                           "checkpoints_checked": report.checkpoints_checked, "message": report.message,
                           "projections_differing": differing})
                );
            } else if report.ok {
                println!("OK: {}", report.message);
                match differing.len() {
                    0 => println!("OK: every projection is the fold of the events"),
                    count => {
                        println!("FAILED: {count} projection rows differ from the events: {}", differing.join(", "))
                    }
                }
            } else {
                println!("FAILED at index {}: {}", report.first_bad_index.unwrap_or(report.size), report.message);
            }
            if !report.ok {
                bail!("ledger verification failed at index {}", report.first_bad_index.unwrap_or(report.size));
            }
            if !differing.is_empty() {
                bail!("{} projection rows differ from the events (the ledger itself verifies)", differing.len());
            }
            Ok(())
        }
        AuditCommand::Prove { store, keys, index, tree_size } => {
            let service = service(&store, &keys).await?;
            let owner = service.system_caller(Role::Admin);
            let tree_size = match tree_size {
                Some(size) => size,
                None => match service.latest_checkpoint(&owner).await? {
                    Some(checkpoint) if checkpoint.size > index => checkpoint.size,
                    _ => service.ledger_status(&owner).await?.size,
                },
            };
            let proof = service.inclusion_proof(&owner, index, tree_size).await?;
            let entry = service.ledger_entries(&owner, index, index + 1).await?;
            service.close().await;
            let body = json!({
                "index": proof.index,
                "tree_size": proof.tree_size,
                "leaf": entry.first().map(|(_, leaf)| STANDARD.encode(leaf)),
                "leaf_hash": STANDARD.encode(proof.leaf_hash),
                "root": STANDARD.encode(proof.root),
                "hashes": proof.hashes.iter().map(|hash| STANDARD.encode(hash)).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&body)?);
            Ok(())
        }
        AuditCommand::Export { store, keys, out } => export(&store, &keys, &out, json).await,
    }
}

async fn export(store: &StoreArgs, keys_args: &KeyArgs, out: &Path, json: bool) -> anyhow::Result<()> {
    let service = service(store, keys_args).await?;
    let owner = service.system_caller(Role::Admin);
    if service.signer().is_some() {
        service.checkpoint_now(&owner).await?;
    }
    let (checkpoint, verifier_key) = write_export(&service, &owner, out, json).await?;
    service.close().await;
    if json {
        println!("{}", json!({"out": out, "size": checkpoint.size, "public_key": verifier_key}));
    } else {
        println!("Exported {} entries to {}.", checkpoint.size, out.display());
        println!("Verify offline with:");
        println!("  changegate audit verify --bundle {} --public-key '{verifier_key}'", out.display());
    }
    Ok(())
}

/// Writes the offline-verifiable ledger export into `out` (created): `entries.jsonl` up to the
/// newest signed checkpoint, that `checkpoint`, every earlier one under `checkpoints/`, and the
/// `public-key`. Returns the checkpoint and the verifier key. `quiet` hides the progress bar.
pub(crate) async fn write_export(
    service: &Service,
    owner: &Caller,
    out: &Path,
    quiet: bool,
) -> anyhow::Result<(changegate_store::StoredCheckpoint, String)> {
    let checkpoint = service
        .latest_checkpoint(owner)
        .await?
        .context("no signed checkpoint to export against: run `changegate audit checkpoint` with the signing key")?;
    let verifier_key = service.verifier_key(owner).await?.context("no verifier key recorded for this log")?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let entries_path = out.join("entries.jsonl");
    let mut writer = BufWriter::new(
        std::fs::File::create(&entries_path).with_context(|| format!("creating {}", entries_path.display()))?,
    );
    let bar = progress_bar(checkpoint.size, quiet, "exporting");
    let mut after = 0u64;
    while after < checkpoint.size {
        let limit = EXPORT_BATCH_SIZE.min((checkpoint.size - after) as u32);
        let events = service.events_after(owner, after, limit).await?;
        if events.is_empty() {
            bail!("the store ends at {after} entries but the checkpoint covers {}", checkpoint.size);
        }
        for event in &events {
            let line = json!({"index": event.sequence - 1, "leaf": STANDARD.encode(event.leaf_bytes())});
            writeln!(writer, "{line}")?;
        }
        after = events.last().map(|event| event.sequence).unwrap_or(after);
        bar.set_position(after);
    }
    writer.flush()?;
    bar.finish_and_clear();
    std::fs::write(out.join("checkpoint"), &checkpoint.note)?;
    // Every earlier checkpoint too: offline verification then narrows a fault down to the span
    // between two signed sizes instead of only saying that the final root differs.
    let checkpoints_directory = out.join("checkpoints");
    std::fs::create_dir_all(&checkpoints_directory)?;
    for earlier in service.checkpoints(owner).await?.iter().filter(|earlier| earlier.size <= checkpoint.size) {
        std::fs::write(checkpoints_directory.join(format!("{:020}", earlier.size)), &earlier.note)?;
    }
    std::fs::write(out.join("public-key"), format!("{verifier_key}\n"))?;
    Ok((checkpoint, verifier_key))
}

/// Verifies an exported bundle with nothing but its files and a trusted verifier key. `print`
/// prints the outcome (a caller that reports on its own passes false; failures are errors).
pub(crate) fn verify_bundle(bundle: &Path, public_key: &str, json: bool, print: bool) -> anyhow::Result<()> {
    let key_text = if Path::new(public_key).is_file() {
        std::fs::read_to_string(public_key).with_context(|| format!("reading {public_key}"))?
    } else {
        public_key.to_owned()
    };
    let verifier = NoteVerifier::from_verifier_key(key_text.trim()).context("--public-key is not a verifier key")?;
    let note = std::fs::read_to_string(bundle.join("checkpoint")).context("reading the bundle's checkpoint")?;
    let checkpoint =
        open_checkpoint(&note, &verifier).context("the checkpoint's signature does not verify with this key")?;
    if checkpoint.origin != verifier.name() {
        bail!("the checkpoint is for log `{}` but the key is `{}`", checkpoint.origin, verifier.name());
    }
    let intermediate = read_intermediate_checkpoints(bundle, &verifier, checkpoint.size)?;
    let mut next_intermediate = intermediate.iter().peekable();
    let mut vouched_size = 0u64;
    let file = std::fs::File::open(bundle.join("entries.jsonl")).context("opening the bundle's entries.jsonl")?;
    let bar = progress_bar(checkpoint.size, json, "verifying");
    let mut frontier = Frontier::new();
    let mut failure: Option<(u64, String)> = None;
    for (line_number, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading line {}", line_number + 1))?;
        if frontier.size() == checkpoint.size {
            break;
        }
        let expected = frontier.size();
        if line.len() > ENTRY_LINE_LENGTH_MAX {
            failure =
                Some((expected, format!("line {} is longer than {ENTRY_LINE_LENGTH_MAX} bytes", line_number + 1)));
            break;
        }
        let entry: serde_json::Value = match serde_json::from_str(&line) {
            Ok(entry) => entry,
            Err(error) => {
                failure = Some((expected, format!("line {} is not JSON: {error}", line_number + 1)));
                break;
            }
        };
        if entry["index"].as_u64() != Some(expected) {
            failure = Some((expected, format!("expected entry {expected}, found {}", entry["index"])));
            break;
        }
        let Some(leaf) = entry["leaf"].as_str().and_then(|text| STANDARD.decode(text).ok()) else {
            failure = Some((expected, format!("entry {expected} has no base64 leaf")));
            break;
        };
        frontier.append(leaf_hash(&leaf));
        if let Some(signed) = next_intermediate.next_if(|signed| signed.size == frontier.size()) {
            if signed.root != frontier.root() {
                failure = Some((
                    vouched_size,
                    format!(
                        "the entries from index {vouched_size} to {} do not produce the root signed at size {}",
                        signed.size - 1,
                        signed.size
                    ),
                ));
                break;
            }
            vouched_size = signed.size;
        }
        if frontier.size().is_multiple_of(4096) {
            bar.set_position(frontier.size());
        }
    }
    bar.finish_and_clear();
    if failure.is_none() && frontier.size() < checkpoint.size {
        failure = Some((
            frontier.size(),
            format!("the bundle has {} entries but the checkpoint covers {}", frontier.size(), checkpoint.size),
        ));
    }
    if failure.is_none() && frontier.root() != checkpoint.root {
        // A root names a span, not an entry: the first index no matching checkpoint vouches for.
        failure = Some((
            vouched_size,
            format!(
                "the entries from index {vouched_size} to {} do not produce the signed root: one of them was altered, removed or reordered",
                checkpoint.size - 1
            ),
        ));
    }
    match failure {
        None => {
            if !print {
                return Ok(());
            }
            if json {
                println!("{}", json!({"ok": true, "size": checkpoint.size, "origin": checkpoint.origin}));
            } else {
                println!("OK: {} entries of log {} match the signed checkpoint.", checkpoint.size, checkpoint.origin);
            }
            Ok(())
        }
        Some((index, message)) => {
            if json && print {
                println!("{}", json!({"ok": false, "first_bad_index": index, "message": message}));
            }
            bail!("bundle verification FAILED at index {index}: {message}")
        }
    }
}

/// The bundle's earlier checkpoints (`checkpoints/`, optional), each signature checked, sorted by
/// size, up to `size_max`.
fn read_intermediate_checkpoints(
    bundle: &Path,
    verifier: &NoteVerifier,
    size_max: u64,
) -> anyhow::Result<Vec<changegate_ledger::Checkpoint>> {
    let directory = bundle.join("checkpoints");
    if !directory.is_dir() {
        return Ok(Vec::new());
    }
    let mut checkpoints = Vec::new();
    for entry in std::fs::read_dir(&directory).with_context(|| format!("reading {}", directory.display()))? {
        let path = entry?.path();
        let note = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let checkpoint = open_checkpoint(&note, verifier)
            .with_context(|| format!("{} is not a checkpoint signed by this key", path.display()))?;
        if checkpoint.size <= size_max {
            checkpoints.push(checkpoint);
        }
    }
    checkpoints.sort_by_key(|checkpoint| checkpoint.size);
    Ok(checkpoints)
}
