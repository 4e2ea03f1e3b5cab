//! The `changegate` binary: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = changegate::args::Cli::parse();
    changegate::run(cli)
}
