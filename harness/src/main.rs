//! `ssc-harness`: replay conformance vectors; exit 0 all pass, 1 some fail, 2 error.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    match cli::Cli::parse().run() {
        Ok(outcome) => outcome.exit_code(),
        Err(e) => {
            eprintln!("error: {}", applet_sim::message::chain(e.as_ref()));
            ExitCode::from(2)
        }
    }
}
