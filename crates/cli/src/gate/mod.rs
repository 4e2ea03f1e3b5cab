//! `changegate gate`: the change gate of a CI/CD pipeline. It creates a change, submits it (the
//! approval policy decides at once), waits for the decision within a bounded time, and answers
//! with an exit code a pipeline can branch on: 0 approved, 3 rejected or denied, 4 still
//! waiting, 2 bad usage, 1 any other failure. When approved it records that the pipeline starts
//! implementing (`schedule` when needed, then `start`). `gate --finish` records the result.
//!
//! Evidence files are summarised here, on the pipeline's side: a SARIF file becomes the security
//! evidence and its count of critical findings, a JUnit XML report the test evidence. Only the
//! summaries travel to the server.
//!
//! The rooms, in the order data flows through them: the arguments are in `crate::args` (a leaf);
//! `flow` creates, submits and polls; `finish` records the result; both read the change through
//! `status`, the one place that turns its state into a decision; `report` says what happened;
//! `evidence` reads the files with `sarif` and `junit`; `exit` holds the exit codes and the usage
//! error every room may raise.

mod evidence;
mod exit;
mod finish;
mod flow;
mod junit;
mod report;
mod sarif;
mod status;
mod wording;

use std::process::ExitCode;

use serde_json::json;

use crate::args::GateArgs;
use crate::client::ApiFailure;
use exit::{Exit, UsageError};

/// Runs `changegate gate` and returns its exit code.
pub fn run(arguments: GateArgs, json: bool) -> ExitCode {
    let result = match arguments.finish.clone() {
        Some(id) => finish::finish(&arguments, &id, json),
        None => flow::gate(&arguments, json),
    };
    let exit = match result {
        Ok(exit) => exit,
        Err(error) => {
            let exit = if error.downcast_ref::<UsageError>().is_some() { Exit::Usage } else { Exit::Failure };
            if json {
                let (code, message) = match error.downcast_ref::<ApiFailure>() {
                    Some(failure) => (failure.code.clone(), failure.message.clone()),
                    None if exit == Exit::Usage => ("usage".to_owned(), format!("{error:#}")),
                    None => ("cli_error".to_owned(), format!("{error:#}")),
                };
                eprintln!("{}", json!({"error": {"code": code, "message": message}}));
            } else {
                eprintln!("error: {error:#}");
            }
            exit
        }
    };
    ExitCode::from(exit as u8)
}
