//! What every command that opens the store sets up first: the async runtime, logging, and the
//! store itself. It is a leaf apart from `local.rs` so that the other store commands (`audit`,
//! `comply bundle`, `assess`, `import`, `risk train`) can use it without importing `local.rs`,
//! which dispatches some of them: the imports then run one way.

use anyhow::Context;
use changegate_store::{Store, StoreLocation};

use crate::args::StoreArgs;

/// The async runtime a store command runs in (the store and the service are async).
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

/// Logs go to standard error; `CHANGEGATE_LOG` (e.g. `debug`, `changegate_store=trace`) overrides.
pub(crate) fn init_logging(default_filter: &str) {
    init_logging_as(default_filter, LogFormat::Text);
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LogFormat {
    Text,
    /// One JSON object per line (timestamp, level, target, fields, spans), for log collectors.
    Json,
}

/// Logging in the given format (`serve --log-format json` for log collectors).
pub(crate) fn init_logging_as(default_filter: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CHANGEGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
    };
}

/// Opens the store the flags name (SQLite in --data-dir, or PostgreSQL).
pub(crate) async fn open_store(args: &StoreArgs) -> anyhow::Result<Store> {
    let location = StoreLocation::from_options(&args.data_dir, args.database_url.as_deref())?;
    let description = describe(&location);
    Store::open(&location).await.with_context(|| format!("opening the store ({description})"))
}

/// The store's location for messages, without a PostgreSQL URL's credentials.
pub(crate) fn describe(location: &StoreLocation) -> String {
    match location {
        StoreLocation::DataDir(dir) => format!("SQLite in {}", dir.display()),
        StoreLocation::Postgres(_) => "PostgreSQL".to_owned(),
    }
}
