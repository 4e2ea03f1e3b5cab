//! Loading policies and evaluating them, failing closed.
//!
//! A [`Policy`] is a set of Rego files parsed and prepared once by regorus; every evaluation
//! clones the prepared engine (cheap: the parsed modules are shared behind `Arc`s) and runs it
//! with a time limit. Anything other than a well-formed decision (a parse error, a runtime error,
//! an undefined or ill-typed `data.changegate.decision`, running past the time limit) is an
//! `Err`, and the caller leaves the change unapproved.
//!
//! Time limit, enforced twice:
//! 1. regorus 0.14.1's own cooperative execution timer (`Engine::set_execution_timer_config`),
//!    checked by the interpreter between evaluation steps (every 64 steps here), stops a slow
//!    policy on its own thread and returns a limit error;
//! 2. the evaluation runs on a short-lived worker thread and the caller waits at most the time
//!    limit for its answer, so a single long builtin call that the interpreter cannot interrupt
//!    still cannot hold the caller past the limit (the worker finishes in the background and its
//!    answer is dropped).

use std::num::NonZeroU32;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use regorus::{Engine, Value};

use crate::decision::{PolicyDecision, RequiredApproval, sha256_hex};
use crate::input::PolicyInput;

/// The default policy, shipped in the binary.
pub const DEFAULT_POLICY_REGO: &str = include_str!("../policies/changegate.rego");
/// The default policy's file name.
pub const DEFAULT_POLICY_NAME: &str = "changegate.rego";
/// The tests of the default policy (`changegate policy test` on the shipped files runs them).
pub const DEFAULT_POLICY_TEST_REGO: &str = include_str!("../policies/changegate_test.rego");
/// The default policy tests' file name.
pub const DEFAULT_POLICY_TEST_NAME: &str = "changegate_test.rego";

/// The package every policy must declare.
pub const ENTRY_PACKAGE: &str = "changegate";
/// The rule in [`ENTRY_PACKAGE`] that holds the decision.
pub const ENTRY_RULE: &str = "decision";
/// The full path evaluated for a decision.
pub const ENTRY_POINT: &str = "data.changegate.decision";

/// Interpreter steps between two clock reads of regorus' cooperative timer.
const TIMER_CHECK_INTERVAL: u32 = 64;

/// Why a policy could not be loaded or could not decide. Every variant means "not approved".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A policy file does not parse.
    #[error("policy file `{file}` does not parse: {message}")]
    Parse { file: String, message: String },
    /// The files parse but do not form a usable policy (no entry point, duplicate names…).
    #[error("invalid policy: {0}")]
    Invalid(String),
    /// The input is not a valid policy input.
    #[error("invalid policy input: {0}")]
    Input(String),
    /// Rego raised an error while evaluating.
    #[error("policy evaluation failed: {0}")]
    Evaluation(String),
    /// The evaluation ran past its time limit.
    #[error("policy evaluation exceeded its time limit of {limit_ms} ms")]
    TimeLimit { limit_ms: u64 },
    /// `data.changegate.decision` is undefined or does not have the decision's shape.
    #[error("policy output is not a valid decision: {0}")]
    Output(String),
}

impl PolicyError {
    /// A stable machine-readable code for API errors and events.
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::Parse { .. } => "policy_parse_error",
            PolicyError::Invalid(_) => "policy_invalid",
            PolicyError::Input(_) => "policy_input_invalid",
            PolicyError::Evaluation(_) => "policy_evaluation_error",
            PolicyError::TimeLimit { .. } => "policy_time_limit",
            PolicyError::Output(_) => "policy_output_invalid",
        }
    }
}

/// Limits applied to one evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvalLimits {
    /// Wall-clock budget of one evaluation, in milliseconds (at least 1).
    pub time_limit_ms: u64,
}

impl EvalLimits {
    /// The default budget: generous for a policy that normally decides in well under a millisecond,
    /// short enough that a runaway policy cannot stall a pipeline gate.
    pub const DEFAULT_TIME_LIMIT_MS: u64 = 500;

    pub const fn new(time_limit_ms: u64) -> Self {
        EvalLimits { time_limit_ms }
    }

    fn duration(self) -> Duration {
        Duration::from_millis(self.time_limit_ms.max(1))
    }
}

impl Default for EvalLimits {
    fn default() -> Self {
        EvalLimits { time_limit_ms: Self::DEFAULT_TIME_LIMIT_MS }
    }
}

/// One Rego source file of a policy.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct PolicyFile {
    /// The file name (unique within a policy), e.g. `changegate.rego`.
    pub name: String,
    /// The Rego text.
    pub text: String,
}

impl PolicyFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        PolicyFile { name: name.into(), text: text.into() }
    }
}

/// A parsed, validated policy version, ready to evaluate.
#[derive(Clone)]
pub struct Policy {
    files: Vec<PolicyFile>,
    sha256: String,
    engine: Engine,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.files.iter().map(|file| file.name.as_str()).collect();
        formatter.debug_struct("Policy").field("files", &names).field("sha256", &self.sha256).finish()
    }
}

impl Policy {
    /// The default policy shipped in the binary (`policies/changegate.rego`).
    pub fn default_policy() -> Policy {
        Policy::from_files(vec![PolicyFile::new(DEFAULT_POLICY_NAME, DEFAULT_POLICY_REGO)])
            .expect("the embedded default policy is valid (tested)")
    }

    /// The default policy's files together with its tests, for `policy show` and `policy test`.
    pub fn default_files_with_tests() -> Vec<PolicyFile> {
        vec![
            PolicyFile::new(DEFAULT_POLICY_NAME, DEFAULT_POLICY_REGO),
            PolicyFile::new(DEFAULT_POLICY_TEST_NAME, DEFAULT_POLICY_TEST_REGO),
        ]
    }

    /// Parses and validates a policy made of `files`: at least one file, unique names, every file
    /// parses as Rego v1, the rules are well-formed (regorus' analysis: no recursion, safe
    /// variables), and some file of package `changegate` declares the rule `decision`. Test
    /// files (`test_*` rules) may be included; they do not affect decisions.
    pub fn from_files(files: Vec<PolicyFile>) -> Result<Policy, PolicyError> {
        let mut files = files;
        files.sort();
        let engine = prepared_engine(&files)?;
        let mut declares_entry = false;
        let packages =
            engine.get_policy_package_components().map_err(|error| PolicyError::Invalid(error.to_string()))?;
        for package in packages {
            if package.components == [ENTRY_PACKAGE] {
                declares_entry |= engine
                    .has_declared_rule_rooted_at(&package.source_file, ENTRY_RULE)
                    .map_err(|error| PolicyError::Invalid(error.to_string()))?;
            }
        }
        if !declares_entry {
            return Err(PolicyError::Invalid(format!(
                "no file declares the rule `{ENTRY_RULE}` in `package {ENTRY_PACKAGE}`: Changegate evaluates {ENTRY_POINT}"
            )));
        }
        let sha256 = policy_sha256(&files);
        Ok(Policy { files, sha256, engine })
    }

    /// The source files, sorted by name.
    pub fn files(&self) -> &[PolicyFile] {
        &self.files
    }

    /// The policy version: SHA-256 (hex) of the canonical JSON array of `[name, text]` pairs
    /// sorted by name. The same files give the same hash whatever order they were given in.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// The version hash of a set of files (see [`Policy::sha256`]).
fn policy_sha256(files: &[PolicyFile]) -> String {
    let pairs: Vec<serde_json::Value> =
        files.iter().map(|file| serde_json::json!([file.name.as_str(), file.text.as_str()])).collect();
    sha256_hex(changegate_core::canonical::to_canonical_string(&serde_json::Value::Array(pairs)).as_bytes())
}

/// An engine with `files` loaded and analysed, so clones start evaluating straight away.
pub(crate) fn prepared_engine(files: &[PolicyFile]) -> Result<Engine, PolicyError> {
    if files.is_empty() {
        return Err(PolicyError::Invalid("a policy needs at least one .rego file".into()));
    }
    for pair in files.windows(2) {
        if pair[0].name == pair[1].name {
            return Err(PolicyError::Invalid(format!("two files are named `{}`", pair[0].name)));
        }
    }
    let mut engine = Engine::new();
    for file in files {
        engine
            .add_policy(file.name.clone(), file.text.clone())
            .map_err(|error| PolicyError::Parse { file: file.name.clone(), message: error.to_string() })?;
    }
    // Evaluating anything prepares the engine: regorus analyses the rules (recursion, unsafe
    // variables, schedules) once here instead of in every clone.
    engine.set_input(Value::new_object());
    engine.eval_query("true".to_string(), false).map_err(|error| PolicyError::Invalid(error.to_string()))?;
    Ok(engine)
}

/// Evaluates `path` on a clone of `engine` with `input`, within `limits`. The answer is the rule's
/// value as JSON (`None` when undefined).
pub(crate) fn eval_rule_limited(
    engine: &Engine,
    input: Value,
    path: &str,
    limits: EvalLimits,
) -> Result<Option<serde_json::Value>, PolicyError> {
    let budget = limits.duration();
    let mut engine = engine.clone();
    engine.set_input(input);
    engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit: budget,
        check_interval: NonZeroU32::new(TIMER_CHECK_INTERVAL).expect("non-zero"),
    });
    let path = path.to_owned();
    let time_limit = PolicyError::TimeLimit { limit_ms: limits.time_limit_ms.max(1) };
    let (sender, receiver) = mpsc::sync_channel(1);
    let started = Instant::now();
    std::thread::Builder::new()
        .name("policy-eval".into())
        .spawn(move || {
            let answer = match engine.eval_rule(path) {
                Ok(Value::Undefined) => Ok(None),
                Ok(value) => serde_json::to_value(&value)
                    .map(Some)
                    .map_err(|error| PolicyError::Output(format!("the value cannot be read as JSON: {error}"))),
                Err(error) if error.downcast_ref::<regorus::LimitError>().is_some() => Err(time_limit),
                Err(error) => Err(PolicyError::Evaluation(format!("{error:#}"))),
            };
            // The caller may have given up waiting; then nobody wants the answer.
            let _ = sender.send(answer);
        })
        .map_err(|error| PolicyError::Evaluation(format!("cannot start the evaluation thread: {error}")))?;
    match receiver.recv_timeout(budget) {
        Ok(answer) if started.elapsed() <= budget => answer,
        Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(PolicyError::TimeLimit { limit_ms: limits.time_limit_ms.max(1) })
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(PolicyError::Evaluation("the evaluation thread stopped without an answer".into()))
        }
    }
}

/// Evaluates `policy` on `input`: the decision, or an error that leaves the change unapproved.
///
/// The input must be valid (`now` in RFC 3339). The decision carries the policy's version hash and
/// the input's canonical hash, so evaluating the recorded input with the recorded policy version
/// replays it exactly.
pub fn evaluate(policy: &Policy, input: &PolicyInput, limits: EvalLimits) -> Result<PolicyDecision, PolicyError> {
    changegate_core::Timestamp::parse_rfc3339(&input.now)
        .map_err(|error| PolicyError::Input(format!("`now`: {error}")))?;
    let input_json = input.to_json_value();
    let input_sha256 = sha256_hex(changegate_core::canonical::to_canonical_string(&input_json).as_bytes());
    let output = eval_rule_limited(&policy.engine, Value::from(input_json), ENTRY_POINT, limits)?
        .ok_or_else(|| PolicyError::Output(format!("{ENTRY_POINT} is undefined for this input")))?;
    decision_from_output(&output, policy.sha256.clone(), input_sha256)
}

/// Reads the policy's output strictly: an object with exactly the four keys, each well-typed.
fn decision_from_output(
    output: &serde_json::Value,
    policy_sha256: String,
    input_sha256: String,
) -> Result<PolicyDecision, PolicyError> {
    const KEYS: [&str; 4] = ["auto_approve", "required_approvals", "deny", "warn"];
    let object = output
        .as_object()
        .ok_or_else(|| PolicyError::Output(format!("{ENTRY_POINT} must be an object, not {output}")))?;
    if let Some(unknown) = object.keys().find(|key| !KEYS.contains(&key.as_str())) {
        return Err(PolicyError::Output(format!(
            "unknown key `{unknown}` in {ENTRY_POINT} (expected {})",
            KEYS.join(", ")
        )));
    }
    let field = |key: &str| object.get(key).ok_or_else(|| PolicyError::Output(format!("{ENTRY_POINT} has no `{key}`")));
    let auto_approve = field("auto_approve")?.as_bool().ok_or_else(|| {
        PolicyError::Output(format!("`auto_approve` must be a boolean, not {}", object["auto_approve"]))
    })?;
    let strings = |key: &str| -> Result<Vec<String>, PolicyError> {
        let items = field(key)?
            .as_array()
            .ok_or_else(|| PolicyError::Output(format!("`{key}` must be an array (or set) of strings")))?;
        let mut texts = items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| PolicyError::Output(format!("`{key}` must contain only strings, found {item}")))
            })
            .collect::<Result<Vec<String>, PolicyError>>()?;
        texts.sort();
        texts.dedup();
        Ok(texts)
    };
    let deny = strings("deny")?;
    let warn = strings("warn")?;
    let mut required_approvals = Vec::new();
    let items = field("required_approvals")?
        .as_array()
        .ok_or_else(|| PolicyError::Output("`required_approvals` must be an array of {role, count}".into()))?;
    for item in items {
        let shape = || {
            PolicyError::Output(format!(
                "each required approval must be {{\"role\": string, \"count\": integer ≥ 1}}, found {item}"
            ))
        };
        let entry = item.as_object().ok_or_else(shape)?;
        if entry.len() != 2 {
            return Err(shape());
        }
        let role =
            entry.get("role").and_then(serde_json::Value::as_str).filter(|role| !role.is_empty()).ok_or_else(shape)?;
        let count = entry
            .get("count")
            .and_then(serde_json::Value::as_u64)
            .filter(|count| *count >= 1)
            .and_then(|count| u32::try_from(count).ok())
            .ok_or_else(shape)?;
        required_approvals.push(RequiredApproval::new(role, count));
    }
    required_approvals.sort();
    let auto_approve = auto_approve && deny.is_empty() && required_approvals.is_empty();
    if !auto_approve && deny.is_empty() && required_approvals.is_empty() {
        return Err(PolicyError::Output(
            "the decision neither auto-approves, nor requires an approval, nor denies: the change would have no way to be approved".into(),
        ));
    }
    Ok(PolicyDecision { auto_approve, required_approvals, deny, warn, policy_sha256, input_sha256 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn policy_can_be_shared_between_threads() {
        assert_send_sync::<Policy>();
    }

    #[test]
    fn output_shape_is_checked_strictly() {
        let read = |json: serde_json::Value| decision_from_output(&json, String::new(), String::new());
        assert!(
            read(serde_json::json!({"auto_approve": true, "required_approvals": [], "deny": [], "warn": []})).is_ok()
        );
        let errors = [
            serde_json::json!([]),
            serde_json::json!({"auto_approve": "yes", "required_approvals": [], "deny": [], "warn": []}),
            serde_json::json!({"auto_approve": true, "required_approvals": [], "deny": []}),
            serde_json::json!({"auto_approve": true, "required_approvals": [], "deny": [], "warn": [], "denies": []}),
            serde_json::json!({"auto_approve": false, "required_approvals": [{"role": "x", "count": 0}], "deny": [], "warn": []}),
            serde_json::json!({"auto_approve": false, "required_approvals": [{"role": "", "count": 1}], "deny": [], "warn": []}),
            serde_json::json!({"auto_approve": false, "required_approvals": [{"role": "x", "count": 1.5}], "deny": [], "warn": []}),
            serde_json::json!({"auto_approve": false, "required_approvals": [], "deny": [1], "warn": []}),
            serde_json::json!({"auto_approve": false, "required_approvals": [], "deny": [], "warn": []}),
        ];
        for output in errors {
            assert!(matches!(read(output.clone()), Err(PolicyError::Output(_))), "{output}");
        }
    }

    #[test]
    fn deny_wins_over_auto_approve() {
        let output = serde_json::json!({"auto_approve": true, "required_approvals": [], "deny": ["no"], "warn": []});
        let decision = decision_from_output(&output, String::new(), String::new()).unwrap();
        assert!(!decision.auto_approve);
    }
}

#[cfg(test)]
mod timer_tests {
    use super::*;

    /// regorus' own cooperative timer stops a slow evaluation on its thread (so a worker the
    /// caller gave up on does not run on).
    #[test]
    fn cooperative_timer_stops_the_interpreter() {
        let files = vec![PolicyFile::new(
            "slow.rego",
            "package slow\n\nn := numbers.range(1, 2000)\n\nx := count([1 | some a in n; some b in n; some c in n; a + b + c < 0])\n",
        )];
        let mut engine = prepared_engine(&files).unwrap();
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit: Duration::from_millis(50),
            check_interval: NonZeroU32::new(TIMER_CHECK_INTERVAL).unwrap(),
        });
        let started = Instant::now();
        let error = engine.eval_rule("data.slow.x".to_string()).unwrap_err();
        assert!(error.downcast_ref::<regorus::LimitError>().is_some(), "{error:#}");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    }
}
