//! The ledger signing key on disk: made at `init`, read by `serve`, `demo` and `audit`.
//!
//! Looked for in this order: the key itself in `CHANGEGATE_SIGNING_KEY`, the file named by
//! `--signing-key-file`, then `<data-dir>/ledger-signing-key`. The file holds the key in the Go
//! note format (`PRIVATE+KEY+<name>+<id>+<base64>`) and must be readable by its owner only.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use changegate_ledger::NoteSigner;

use crate::args::KeyArgs;

pub const KEY_FILE_NAME: &str = "ledger-signing-key";

fn key_path(args: &KeyArgs, data_dir: &Path) -> PathBuf {
    args.signing_key_file.clone().unwrap_or_else(|| data_dir.join(KEY_FILE_NAME))
}

/// The configured signer, if any.
pub fn load(args: &KeyArgs, data_dir: &Path) -> anyhow::Result<Option<NoteSigner>> {
    if let Some(key) = &args.signing_key {
        let signer =
            NoteSigner::from_private_key_string(key.trim()).context("CHANGEGATE_SIGNING_KEY is not a signing key")?;
        return Ok(Some(signer));
    }
    let path = key_path(args, data_dir);
    if !path.exists() {
        if args.signing_key_file.is_some() {
            bail!("the signing key file {} does not exist", path.display());
        }
        return Ok(None);
    }
    check_permissions(&path)?;
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let signer = NoteSigner::from_private_key_string(text.trim())
        .with_context(|| format!("{} does not hold a signing key", path.display()))?;
    Ok(Some(signer))
}

#[cfg(unix)]
fn check_permissions(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        bail!(
            "the signing key {} is readable by others (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// Removes the key file `load_or_create` just made (an `init` that failed after it leaves
/// nothing behind). Never called for a key that existed before.
pub fn remove_created(args: &KeyArgs, data_dir: &Path) -> anyhow::Result<()> {
    let path = key_path(args, data_dir);
    std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))
}

/// The configured signer, or a new one written to the key file (owner-only) when there is none.
pub fn load_or_create(args: &KeyArgs, data_dir: &Path) -> anyhow::Result<(NoteSigner, bool)> {
    if let Some(signer) = load(args, data_dir)? {
        return Ok((signer, false));
    }
    let signer = changegate_service::generate_signer()?;
    let path = key_path(args, data_dir);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).with_context(|| format!("creating {}", path.display()))?;
    writeln!(file, "{}", signer.to_private_key_string())?;
    file.sync_all()?;
    Ok((signer, true))
}
