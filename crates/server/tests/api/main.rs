//! The server's tests, one binary: the real application on port 0 over a fresh store with a fixed
//! clock (see `helpers`), driven over HTTP as the API's clients and the pages' browsers drive it.

mod alerts_api;
mod api;
mod browser;
mod compliance_faces;
mod helpers;
mod import_faces;
mod kpis;
mod maturity;
mod risk_pages;
mod web_pages;
