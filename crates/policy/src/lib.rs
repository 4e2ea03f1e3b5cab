//! Changegate's policy core: approval rules as code.
//!
//! - [`PolicyInput`]: the facts a policy sees (the change, its services, calendar, requester,
//!   approvals so far, `now`), documented field by field in [`input`].
//! - [`Policy`]: a versioned set of Rego files (regorus), validated and prepared once;
//!   [`Policy::default_policy`] is the policy shipped in the binary.
//! - [`evaluate`]: one decision ([`PolicyDecision`]) under a time limit, failing closed: any error
//!   is an `Err` and the change stays unapproved. Every decision carries the policy's version
//!   hash and the input's canonical hash so it can be replayed.
//! - [`run_policy_tests`]: `opa test`-style runs of `test_*` rules.
//! - [`approvals_satisfied`]: counts approvals against the requirement under separation of duties.
//!
//! Pure: no I/O and no clock (the time comes in as `input.now`). The only thread is the
//! evaluation worker that enforces the time limit (see [`engine`]).

pub mod decision;
pub mod engine;
pub mod input;
pub mod testing;

pub use changegate_core::approval::{ApprovalStatus, Approver, approvals_satisfied};
pub use decision::{PolicyDecision, RequiredApproval};
pub use engine::{ENTRY_POINT, EvalLimits, Policy, PolicyError, PolicyFile, evaluate};
pub use input::{
    ApprovalFacts, CalendarFacts, ChangeFacts, FreezeFacts, PolicyInput, RequesterFacts, SecurityEvidence,
    ServiceFacts, TemplateFacts,
};
pub use testing::{TestReport, run_policy_tests, run_policy_tests_with_limits};
