//! `ssc-harness` arguments and subcommands.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use applet_sim::Profile;
use clap::{Args, Parser, Subcommand};

use crate::report::{self, Format};
use crate::runner;
use crate::transport::SimTransport;
use crate::vectors;

/// Conformance vectors against the virtual social security card (or, later, a reader).
#[derive(Parser)]
#[command(name = "ssc-harness", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay vector files (or folders of `*.apdu`): exit 0 all pass, 1 some fail, 2 error.
    Run(RunArgs),
}

#[derive(Args)]
struct RunArgs {
    /// Run against the in-process virtual card (the default and, for now, the only target).
    #[arg(long)]
    sim: bool,
    /// The card profile: a built-in name (gen3) or a TOML file.
    #[arg(long, default_value = applet_sim::profile::DEFAULT_PROFILE)]
    profile: String,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Run only cases whose name, tags or file contain this text.
    #[arg(long)]
    filter: Option<String>,
    /// Vector files or folders.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

/// What a successful run decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything passed.
    Passed,
    /// Something failed.
    Failed,
}

impl Outcome {
    /// 0 for passed, 1 for failed (errors are 2, in `main`).
    #[must_use]
    pub fn exit_code(self) -> ExitCode {
        match self {
            Self::Passed => ExitCode::SUCCESS,
            Self::Failed => ExitCode::from(1),
        }
    }
}

impl Cli {
    /// Runs the chosen subcommand.
    ///
    /// # Errors
    /// Anything that prevents a verdict: unreadable or malformed vectors or profile, I/O.
    pub fn run(self) -> anyhow::Result<Outcome> {
        match self.command {
            Command::Run(args) => args.run(),
        }
    }
}

impl RunArgs {
    fn run(self) -> anyhow::Result<Outcome> {
        let _ = self.sim; // --sim is the default target
        let profile = Profile::load(&self.profile)?;
        let files = vectors::discover(&self.paths)?;
        if files.is_empty() {
            anyhow::bail!("no vector files (*.apdu) under {:?}", self.paths);
        }
        let mut cases = Vec::new();
        for f in &files {
            cases.extend(vectors::parse_file(f)?);
        }
        if let Some(pat) = &self.filter {
            cases.retain(|c| {
                c.name.contains(pat.as_str())
                    || c.tags.iter().any(|t| t.contains(pat.as_str()))
                    || c.file.to_string_lossy().contains(pat.as_str())
            });
        }
        let mut transport = SimTransport::new(&profile);
        let report = runner::run(&mut transport, cases)?;
        let rendered = report::render(&report, self.format);
        match &self.output {
            Some(path) => std::fs::write(path, rendered)
                .with_context(|| format!("cannot write report {}", path.display()))?,
            None => std::io::stdout().lock().write_all(rendered.as_bytes())?,
        }
        Ok(if report.all_passed() {
            Outcome::Passed
        } else {
            Outcome::Failed
        })
    }
}
