//! Changegate's compliance reporting: a catalogue of framework controls (PCI DSS, SOC 2,
//! ISO/IEC 27001, NIST SP 800-53, HIPAA, GDPR, EU DORA) mapped to checks over change records and
//! ledger evidence, findings per control, and the documents an auditor receives (JSON, a
//! self-contained HTML page, OSCAL assessment results).
//!
//! Why a crate of its own: the checks decide what an auditor reads as "satisfied", so they are
//! pure functions of their input — no I/O, no clock (`now` is an argument) — that the golden
//! tests pin down change by change. The service gathers the input from the store; every face
//! renders the same report. `docs/compliance.md` is the reader's guide.

pub mod catalogue;
pub mod checks;
pub mod html;
pub mod oscal;
pub mod report;

use thiserror::Error;

pub use catalogue::{CATALOGUE, Control, Framework, parse_frameworks};
pub use checks::{
    CheckId, CheckResult, ComplianceInput, ComplianceSettings, DAY_MS, LedgerEvidence, PRODUCTION_ENVIRONMENTS,
    Violation,
};
pub use html::render_html;
pub use oscal::{OSCAL_VERSION, OscalOptions, assessment_results};
pub use report::{
    ComplianceReport, ControlFinding, ControlViolation, FrameworkReport, PERIOD_DAYS_MAX, SAMPLE_SIZE_MAX, Status,
    control_violations, evaluate, evidence_sample,
};

/// What a compliance request can get wrong.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ComplianceError {
    #[error("`{0}` is not a framework; use one of pci-dss, soc2, iso27001, nist-800-53, hipaa, gdpr, eu-dora, all")]
    UnknownFramework(String),
    #[error("{0}")]
    Period(String),
}

impl ComplianceError {
    /// The input field at fault, for validation errors.
    pub fn field(&self) -> &'static str {
        match self {
            ComplianceError::UnknownFramework(_) => "framework",
            ComplianceError::Period(_) => "from",
        }
    }
}
