//! Test support: fresh stores on every backend the machine offers.
//!
//! SQLite always; PostgreSQL when `CHANGEGATE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) answers. Each PostgreSQL store gets a database of
//! its own, so tests run in parallel. With `CHANGEGATE_REQUIRE_POSTGRES=1` (as in CI) an
//! unreachable PostgreSQL fails the test instead of being skipped.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::any::AnyPoolOptions;

use crate::{Backend, Store, StoreError, StoreLocation};

/// The default PostgreSQL used by tests.
pub const DEFAULT_TEST_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A store for one test; keeps its temporary directory alive.
pub struct TestStore {
    pub store: Store,
    pub location: StoreLocation,
    _directory: Option<tempfile_dir::TempDir>,
}

mod tempfile_dir {
    //! A minimal temporary directory, so the store crate needs no test-only dependency.
    use std::path::{Path, PathBuf};

    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new(label: &str) -> std::io::Result<Self> {
            let unique =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
            let path = std::env::temp_dir().join(format!("changegate-{label}-{}-{unique:x}", std::process::id()));
            std::fs::create_dir_all(&path)?;
            Ok(TempDir(path))
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The PostgreSQL admin URL tests use.
pub fn postgres_admin_url() -> String {
    std::env::var("CHANGEGATE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_TEST_POSTGRES_URL.to_owned())
}

fn postgres_required() -> bool {
    std::env::var("CHANGEGATE_REQUIRE_POSTGRES").is_ok_and(|value| value == "1" || value == "true")
}

/// A fresh, migrated SQLite store in a temporary directory.
pub async fn sqlite_store() -> Result<TestStore, StoreError> {
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let directory = tempfile_dir::TempDir::new(&format!("sqlite{count}"))
        .map_err(|error| StoreError::Config(format!("temporary directory: {error}")))?;
    let location = StoreLocation::DataDir(directory.path().to_path_buf());
    let store = Store::open(&location).await?;
    Ok(TestStore { store, location, _directory: Some(directory) })
}

/// A URL of a new, empty PostgreSQL database, or `None` when PostgreSQL is not reachable
/// (panics instead when `CHANGEGATE_REQUIRE_POSTGRES=1`).
pub async fn fresh_postgres_url() -> Option<String> {
    sqlx::any::install_default_drivers();
    let admin_url = postgres_admin_url();
    let pool = match AnyPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(&admin_url)
        .await
    {
        Ok(pool) => pool,
        Err(error) => {
            if postgres_required() {
                panic!(
                    "PostgreSQL is required (CHANGEGATE_REQUIRE_POSTGRES=1) but {admin_url} is unreachable: {error}"
                );
            }
            eprintln!("SKIPPING PostgreSQL: {admin_url} is unreachable ({error}); set CHANGEGATE_TEST_POSTGRES_URL");
            return None;
        }
    };
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let unique = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_micros();
    let database = format!("changegate_test_{}_{count}_{}", std::process::id(), unique % 1_000_000_000);
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&pool)
        .await
        .unwrap_or_else(|error| panic!("cannot create test database {database}: {error}"));
    pool.close().await;
    let base = admin_url.rsplit_once('/').map(|(base, _)| base).unwrap_or(&admin_url);
    Some(format!("{base}/{database}"))
}

/// A fresh, migrated PostgreSQL store, or `None` when PostgreSQL is not reachable.
pub async fn postgres_store() -> Option<TestStore> {
    let url = fresh_postgres_url().await?;
    let location = StoreLocation::Postgres(url);
    let store = Store::open(&location).await.expect("opening the PostgreSQL test store");
    Some(TestStore { store, location, _directory: None })
}

/// One fresh store per available backend: SQLite always, PostgreSQL when reachable.
pub async fn every_backend() -> Vec<TestStore> {
    let mut stores = vec![sqlite_store().await.expect("opening the SQLite test store")];
    if let Some(store) = postgres_store().await {
        stores.push(store);
    }
    stores
}

impl TestStore {
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }
}
