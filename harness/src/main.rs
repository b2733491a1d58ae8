//! `ssc-harness`: replay conformance vectors; exit 0 all pass, 1 some fail, 2 error.

use std::process::ExitCode;

use clap::Parser;
use harness::cli::Cli;

fn main() -> ExitCode {
    match Cli::parse().run() {
        Ok(outcome) => outcome.exit_code(),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
