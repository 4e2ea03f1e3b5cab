//! Server-rendered web pages (placeholder until the pages land).

use axum::Router;

use crate::AppState;

/// The page templates.
pub fn templates() -> minijinja::Environment<'static> {
    minijinja::Environment::new()
}

/// Routes of the web pages.
pub fn routes() -> Router<AppState> {
    Router::new()
}
