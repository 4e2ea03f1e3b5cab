//! `changegate comply …`: the compliance report from the server (table, JSON or HTML), the
//! auditor's evidence bundle written from the store, and the bundle's offline verification.
//!
//! The bundle reuses the ledger export of `audit export` (under `ledger/`), so one verification
//! path serves both; each sampled change carries its events with inclusion proofs against that
//! export's checkpoint.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use changegate_compliance::{ComplianceReport, OscalOptions, Status, assessment_results, evidence_sample, render_html};
use changegate_core::{ChangeId, Role};
use changegate_ledger::{Hash, NoteVerifier, leaf_hash, open_checkpoint, verify_inclusion};
use changegate_service::{ChangeEvidence, ComplianceQuery, GovernanceSettings};
use serde_json::{Value, json};

use crate::args::{ClientArgs, ComplianceScopeArgs, ComplyArgs, ComplyCommand, KeyArgs, StoreArgs};
use crate::client::Client;
use crate::output::table;
use crate::{audit, setup};

/// Changes at fault printed per control in the table; the rest are counted.
const CHANGES_PRINTED_MAX: usize = 5;
/// Largest change file `comply verify` reads.
const CHANGE_FILE_SIZE_MAX_BYTES: u64 = 64 * 1024 * 1024;

pub fn run(arguments: ComplyArgs, json: bool) -> anyhow::Result<()> {
    match arguments.command {
        None => report(&arguments.client, &arguments.scope, arguments.html.as_deref(), json),
        Some(ComplyCommand::Bundle { store, keys, scope, out, sample, emergency_deadline_hours }) => {
            setup::init_logging("warn");
            let options = BundleOptions { scope, sample, emergency_deadline_hours };
            setup::runtime()?.block_on(bundle(&store, &keys, &out, &options, json))
        }
        Some(ComplyCommand::Verify { bundle, public_key }) => verify(&bundle, &public_key, json),
    }
}

fn query(scope: &ComplianceScopeArgs) -> ComplianceQuery {
    ComplianceQuery { framework: Some(scope.framework.clone()), from: scope.from.clone(), to: scope.to.clone() }
}

fn status_words(status: Status) -> &'static str {
    match status {
        Status::Satisfied => "satisfied",
        Status::NotSatisfied => "NOT SATISFIED",
        Status::NotApplicable => "no data",
    }
}

fn report(client: &ClientArgs, scope: &ComplianceScopeArgs, html: Option<&Path>, json: bool) -> anyhow::Result<()> {
    let mut parameters = vec![format!("framework={}", crate::remote::encode(&scope.framework))];
    for (key, value) in [("from", &scope.from), ("to", &scope.to)] {
        if let Some(value) = value {
            parameters.push(format!("{key}={}", crate::remote::encode(value)));
        }
    }
    let answer = Client::new(client).get(&format!("/api/v1/compliance?{}", parameters.join("&")))?;
    let report: ComplianceReport =
        serde_json::from_value(answer.clone()).context("the server's compliance report does not parse")?;
    if let Some(path) = html {
        let base = client.server.trim_end_matches('/').to_owned();
        let page = render_html(&report, &|id: ChangeId| Some(format!("{base}/changes/{id}")));
        std::fs::write(path, page).with_context(|| format!("writing {}", path.display()))?;
        if !json {
            println!("Wrote {}.", path.display());
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    print_report(&report);
    Ok(())
}

fn print_report(report: &ComplianceReport) {
    println!(
        "Compliance from {} to {} (exclusive): {} production change(s) started or deployed.",
        report.from,
        report.to,
        report.changes_in_period.len()
    );
    for framework in &report.frameworks {
        println!();
        println!(
            "{} — {} ({} change(s) in scope)",
            framework.name,
            status_words(framework.status),
            framework.population
        );
        let rows: Vec<Vec<String>> = framework
            .controls
            .iter()
            .map(|control| {
                let mut at_fault: Vec<String> =
                    control.violating_changes.iter().take(CHANGES_PRINTED_MAX).map(ToString::to_string).collect();
                if control.violating_changes.len() > CHANGES_PRINTED_MAX {
                    at_fault.push(format!("+{}", control.violating_changes.len() - CHANGES_PRINTED_MAX));
                }
                if control.ledger_at_fault {
                    at_fault.insert(0, "ledger".to_owned());
                }
                vec![control.reference.clone(), status_words(control.status).to_owned(), at_fault.join(" ")]
            })
            .collect();
        table(&["control", "status", "at fault"], &rows);
    }
}

/// What `comply bundle` was asked for besides the store.
struct BundleOptions {
    scope: ComplianceScopeArgs,
    sample: u32,
    emergency_deadline_hours: u32,
}

async fn bundle(
    store: &StoreArgs,
    keys: &KeyArgs,
    out: &Path,
    options: &BundleOptions,
    json: bool,
) -> anyhow::Result<()> {
    if options.sample == 0 || options.sample as usize > changegate_compliance::SAMPLE_SIZE_MAX {
        bail!("--sample must be 1 to {}", changegate_compliance::SAMPLE_SIZE_MAX);
    }
    if options.emergency_deadline_hours == 0 {
        bail!("--emergency-deadline-hours must be at least 1");
    }
    if out.exists() && std::fs::read_dir(out).with_context(|| format!("reading {}", out.display()))?.next().is_some() {
        bail!("{} is not empty: give a new directory for the bundle", out.display());
    }
    let settings = GovernanceSettings {
        emergency_deadline_ms: i64::from(options.emergency_deadline_hours) * 60 * 60 * 1000,
        ..GovernanceSettings::default()
    };
    let service = audit::service(store, keys).await?.with_governance_settings(settings);
    let owner = service.system_caller(Role::Admin);
    // Bad input is refused before anything is written.
    let request = service.parse_compliance_query(&query(&options.scope))?;
    // A fresh verification and a checkpoint that covers it: the report's ledger evidence and the
    // export's signed root are then both current.
    let verification = service.verify_ledger(&owner, &|_, _| {}).await?;
    if !verification.ok && !json {
        eprintln!("warning: the ledger verification FAILED: {} (the report says so)", verification.message);
    }
    if service.signer().is_some() {
        service.checkpoint_now(&owner).await?;
    }
    let (checkpoint, verifier_key) = audit::write_export(&service, &owner, &out.join("ledger"), json).await?;
    let report = service.compliance_report(&owner, &request).await?;
    let sample = evidence_sample(&report, options.sample as usize);
    let changes_directory = out.join("changes");
    std::fs::create_dir_all(&changes_directory)?;
    let mut events_proven = 0usize;
    for id in &sample {
        let evidence = service.change_evidence(&owner, *id, checkpoint.size).await?;
        events_proven += evidence.events.len();
        let document = change_document(&evidence, &checkpoint.note, checkpoint.size);
        std::fs::write(changes_directory.join(format!("{id}.json")), serde_json::to_string_pretty(&document)?)?;
    }
    service.close().await;
    let sampled: BTreeSet<ChangeId> = sample.iter().copied().collect();
    let change_href = |id: ChangeId| sampled.contains(&id).then(|| format!("changes/{id}.json"));
    std::fs::write(out.join("compliance.json"), serde_json::to_string_pretty(&report)?)?;
    std::fs::write(out.join("compliance.html"), render_html(&report, &change_href))?;
    let oscal_options =
        OscalOptions { import_ap_href: "compliance.json", report_href: "compliance.json", change_href: &change_href };
    let oscal = assessment_results(&report, &oscal_options);
    std::fs::write(out.join("oscal-assessment-results.json"), serde_json::to_string_pretty(&oscal)?)?;
    std::fs::write(out.join("README.txt"), readme(&report, &sample, checkpoint.size, &verifier_key))?;
    if json {
        println!(
            "{}",
            json!({"out": out, "checkpoint_size": checkpoint.size, "public_key": verifier_key,
                   "changes": sample.iter().map(ToString::to_string).collect::<Vec<_>>(),
                   "violating_changes": report.violating_changes().len(), "events_proven": events_proven})
        );
    } else {
        println!(
            "Wrote the evidence bundle to {}: the reports, OSCAL assessment results, {} ledger entries and {} change(s) with {} proven event(s).",
            out.display(),
            checkpoint.size,
            sample.len(),
            events_proven
        );
        println!("Verify it offline with:");
        println!("  changegate comply verify --bundle {} --public-key '{verifier_key}'", out.display());
    }
    Ok(())
}

fn base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// A change file of the bundle: the record, and every event with its leaf and inclusion proof.
fn change_document(evidence: &ChangeEvidence, checkpoint_note: &str, tree_size: u64) -> Value {
    let events: Vec<Value> = evidence
        .events
        .iter()
        .zip(&evidence.proofs)
        .map(|(event, proof)| {
            json!({
                "index": proof.index,
                "sequence": event.sequence,
                "stream_version": event.stream_version,
                "type": event.event_type,
                "actor": event.actor,
                "time": event.time,
                "data": serde_json::from_str::<Value>(&event.payload).unwrap_or(Value::Null),
                "leaf": base64(&event.leaf_bytes()),
                "leaf_hash": base64(&proof.leaf_hash),
                "proof": proof.hashes.iter().map(|hash| base64(hash)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "change": evidence.change,
        "tree_size": tree_size,
        "checkpoint": checkpoint_note,
        "events": events,
    })
}

fn readme(report: &ComplianceReport, sample: &[ChangeId], tree_size: u64, verifier_key: &str) -> String {
    format!(
        "Changegate compliance evidence bundle
======================================

Period: {from} to {to} (end exclusive); generated {generated}.
Production changes started or deployed in the period: {population}; at fault: {violating}.

Contents
  compliance.json                 the report: every framework, control, check, violation and
                                  undetermined change (docs/compliance.md defines the checks)
  compliance.html                 the same report as one page (open it in a browser)
  oscal-assessment-results.json   the report as OSCAL {oscal} assessment results: one result per
                                  framework, a finding per control, an observation per check
  ledger/                         the audit ledger export (as `changegate audit export` writes it):
    entries.jsonl                 every ledger leaf up to the checkpoint, base64, one per line
    checkpoint                    the signed checkpoint (C2SP signed note, Ed25519) of size {tree_size}
    checkpoints/                  every earlier signed checkpoint
    public-key                    a copy of the log's verifier key
  changes/CHG-….json              {sampled} sampled change(s): every change at fault first, then an
                                  even spread of the others; each with its record, every event
                                  (leaf, leaf hash, inclusion proof) up to the checkpoint

How to verify
  1. Get the log's public key from the operator through another channel than this bundle and
     compare it with ledger/public-key:
       {verifier_key}
  2. Verify everything offline (no database, no network):
       changegate comply verify --bundle <this directory> --public-key '<the key from step 1>'
     This checks the checkpoint's signature, recomputes the Merkle tree from ledger/entries.jsonl
     (every earlier checkpoint too), and proves every event of every sampled change against the
     signed root. The ledger part alone is:
       changegate audit verify --bundle <this directory>/ledger --public-key '<key>'
  3. Without Changegate: a leaf hash is SHA-256(0x00 || leaf bytes), a node SHA-256(0x01 || left
     || right) (RFC 6962); the proofs follow RFC 9162 section 2.1.3.2 for leaf `index` in a tree
     of `tree_size` leaves; the checkpoint body is origin, size and base64 root (C2SP
     tlog-checkpoint).
  4. Validate the OSCAL document: pip install compliance-trestle==5.2.0, then
       python3 tools/validate_oscal.py oscal-assessment-results.json   (from the Changegate source)

Sample: {sample_list}
",
        from = report.from,
        to = report.to,
        generated = report.generated_at,
        population = report.changes_in_period.len(),
        violating = report.violating_changes().len(),
        oscal = changegate_compliance::OSCAL_VERSION,
        sampled = sample.len(),
        sample_list = sample.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
    )
}

fn decode_hash(value: &Value, what: &str) -> anyhow::Result<Hash> {
    let bytes =
        value.as_str().and_then(|text| STANDARD.decode(text).ok()).with_context(|| format!("{what} is not base64"))?;
    bytes.try_into().map_err(|_| anyhow::anyhow!("{what} is not 32 bytes"))
}

/// Verifies a bundle: the ledger export, then every change file against the same checkpoint.
fn verify(bundle: &Path, public_key: &str, json: bool) -> anyhow::Result<()> {
    // The ledger part prints nothing of its own: one answer for the whole bundle.
    audit::verify_bundle(&bundle.join("ledger"), public_key, json, false)?;
    let key_text = if Path::new(public_key).is_file() {
        std::fs::read_to_string(public_key).with_context(|| format!("reading {public_key}"))?
    } else {
        public_key.to_owned()
    };
    let verifier = NoteVerifier::from_verifier_key(key_text.trim()).context("--public-key is not a verifier key")?;
    let note = std::fs::read_to_string(bundle.join("ledger/checkpoint")).context("reading ledger/checkpoint")?;
    let checkpoint = open_checkpoint(&note, &verifier).context("the checkpoint's signature does not verify")?;
    let report: ComplianceReport = serde_json::from_str(
        &std::fs::read_to_string(bundle.join("compliance.json")).context("reading compliance.json")?,
    )
    .context("compliance.json is not a Changegate compliance report")?;
    let mut files: Vec<_> = std::fs::read_dir(bundle.join("changes"))
        .context("reading changes/")?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "json"))
        .collect();
    files.sort();
    let mut events_proven = 0usize;
    for path in &files {
        let name = path.display().to_string();
        if std::fs::metadata(path)?.len() > CHANGE_FILE_SIZE_MAX_BYTES {
            bail!("{name} is larger than {CHANGE_FILE_SIZE_MAX_BYTES} bytes");
        }
        let document: Value =
            serde_json::from_str(&std::fs::read_to_string(path)?).with_context(|| format!("{name} is not JSON"))?;
        let id = document["change"]["id"].as_str().with_context(|| format!("{name} names no change"))?;
        if document["tree_size"].as_u64() != Some(checkpoint.size) {
            bail!(
                "{name} is proven against size {} but the bundle's checkpoint is {}",
                document["tree_size"],
                checkpoint.size
            );
        }
        let events = document["events"].as_array().with_context(|| format!("{name} has no events"))?;
        for (position, event) in events.iter().enumerate() {
            let what = format!("{name}, event {}", position + 1);
            let index = event["index"].as_u64().with_context(|| format!("{what} has no index"))?;
            let leaf = event["leaf"]
                .as_str()
                .and_then(|text| STANDARD.decode(text).ok())
                .with_context(|| format!("{what} has no base64 leaf"))?;
            let leaf_json: Value =
                serde_json::from_slice(&leaf).with_context(|| format!("{what}: the leaf is not JSON"))?;
            if leaf_json["stream"] != format!("change/{id}") || leaf_json["stream_version"] != position as u64 + 1 {
                bail!("{what}: the leaf is not event {} of change {id}", position + 1);
            }
            let hash = leaf_hash(&leaf);
            if decode_hash(&event["leaf_hash"], &what)? != hash {
                bail!("{what}: the leaf does not hash to its recorded leaf hash");
            }
            let proof: Vec<Hash> = event["proof"]
                .as_array()
                .with_context(|| format!("{what} has no proof"))?
                .iter()
                .map(|hash| decode_hash(hash, &what))
                .collect::<anyhow::Result<_>>()?;
            verify_inclusion(&hash, index, checkpoint.size, &proof, &checkpoint.root)
                .map_err(|error| anyhow::anyhow!("{what}: the inclusion proof fails: {error}"))?;
            events_proven += 1;
        }
    }
    if json {
        println!(
            "{}",
            json!({"ok": true, "size": checkpoint.size, "changes": files.len(), "events_proven": events_proven,
                   "frameworks": report.frameworks.len()})
        );
    } else {
        println!(
            "OK: {} change file(s), {events_proven} event(s) proven against the checkpoint of size {}; the report covers {} framework(s).",
            files.len(),
            checkpoint.size,
            report.frameworks.len()
        );
    }
    Ok(())
}
