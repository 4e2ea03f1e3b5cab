//! The `changegate` command line: local commands that open the store (init, serve, demo,
//! user add, assess) and client commands that talk to a running server over its API.
//!
//! Errors are `anyhow` here and only here; the libraries below return typed errors.

mod alerts;
pub mod args;
mod assess;
mod audit;
mod client;
mod comply;
mod gate;
mod governance;
mod import;
mod keys;
mod local;
mod output;
mod policy;
mod remote;
mod risk;
mod setup;

use std::process::ExitCode;

use args::{Cli, Command};

/// Runs a parsed command line and returns the process exit code: 0 on success, 1 on failure
/// (2 is clap's, for usage errors, and `import`'s for bad rows).
pub fn run(cli: Cli) -> ExitCode {
    let json = cli.json;
    let result = match cli.command {
        Command::Init { .. }
        | Command::Serve { .. }
        | Command::Demo { .. }
        | Command::Audit(_)
        | Command::User(args::UserCommand::Add { .. }) => local::run(cli.command, json),
        Command::Policy(args::PolicyCommand::Current { client }) => governance::current_policy(&client, json),
        Command::Policy(args::PolicyCommand::Versions { client }) => governance::policy_versions(&client, json),
        Command::Policy(args::PolicyCommand::Set { client, file, comment }) => {
            governance::set_policy(&client, &file, comment, json)
        }
        Command::Policy(command) => policy::run(command, json),
        Command::Template(command) => governance::template(command, json),
        Command::Calendar(command) => governance::calendar(command, json),
        Command::Approvals { client } => governance::approvals(&client, json),
        Command::Alerts(command) => alerts::run(command, json),
        Command::Service(args::ServiceCommand::RollbackHook {
            client,
            service,
            webhook,
            command,
            remove,
            incident_window_hours,
        }) => alerts::rollback_hook(&client, &service, webhook, command, remove, incident_window_hours, json),
        Command::Risk(command) => risk::run(command, json),
        Command::Gate(arguments) => return gate::run(arguments, json),
        Command::Comply(arguments) => comply::run(arguments, json),
        Command::Assess(arguments) => assess::run(*arguments, json),
        Command::Import(arguments) => return import::run(&arguments, json),
        command => remote::run(command, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if json {
                let (code, message) = match error.downcast_ref::<client::ApiFailure>() {
                    Some(failure) => (failure.code.clone(), failure.message.clone()),
                    // Local commands (assess, risk train) carry the service's stable codes too.
                    None => match error.downcast_ref::<changegate_service::ServiceError>() {
                        Some(failure) => (failure.code().to_owned(), format!("{error:#}")),
                        None => ("cli_error".to_owned(), format!("{error:#}")),
                    },
                };
                eprintln!("{}", serde_json::json!({"error": {"code": code, "message": message}}));
            } else {
                eprintln!("error: {error:#}");
            }
            ExitCode::FAILURE
        }
    }
}
