//! Changegate's maturity assessment: where an organisation's change management stands on the
//! five-level CMMI scale, measured on its own change history, and what to do to climb.
//!
//! Why a crate of its own: the rubric is the product's judgement of an organisation, so it has to
//! be one versioned, documented, testable thing (`docs/maturity-rubric.md` explains every criterion
//! and the sentence of the seed it comes from). It does no I/O and reads no clock: the service
//! gathers the records and the live evidence and hands them in with the period, so the same input
//! gives the same assessment everywhere, and an organisation can assess an imported history
//! without running Changegate live.
//!
//! The model (see [`rubric::RUBRIC`]):
//! - five dimensions, the seed table's columns: process (description and key characteristics),
//!   risk management, metrics and KPIs, automation, audit and compliance;
//! - for levels 2 to 5 of each, criteria: measurable checks over the period (shares of the
//!   period's production deployments with a threshold and a minimum sample, so an empty period is
//!   never "met"), checks of live evidence (policy versions, the risk model, alert rules, the
//!   ledger), and a few questions for what data cannot show (not answering is "unmet");
//! - gated levels: a dimension reaches level N only when every criterion of levels 2..N holds; the
//!   overall level is the lowest dimension (CMMI's staged view);
//! - a roadmap from the unmet criteria of each dimension's next level, and a month-by-month trend.

mod assessment;
mod checks;
mod civil;
mod criterion;
mod error;
mod facts;
mod input;
pub mod radar;
pub mod report;
pub mod rubric;
mod trend;

#[cfg(test)]
mod criterion_tests;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod testing;

pub use assessment::{
    Assessment, CriterionResult, DimensionLevel, DimensionResult, RoadmapStep, assess, check_period, validate_answers,
};
pub use criterion::Evidence;
pub use error::MaturityError;
pub use input::{
    AlertRuleEvidence, Answer, AssessmentInput, LedgerVerificationEvidence, LiveEvidence, RiskModelEvidence,
};
pub use rubric::{
    Comparison, Criterion, CriterionKind, Dimension, LEVEL_MAX, Question, RUBRIC, RUBRIC_VERSION, Unit,
    ladder_guidance, level_name, questions,
};
pub use trend::{MONTHS_MAX, TrendPoint, trend};

/// The period assessed when none is given: the 90 days before now.
pub const PERIOD_DEFAULT_DAYS: i64 = 90;
/// The longest period one assessment may cover.
pub const PERIOD_MAX_DAYS: i64 = 3 * 366;
