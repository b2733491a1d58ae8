//! `ssc-harness record`: what a card answers, written as native vectors.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use harness::runner;
use harness::vectors::Case;

use super::target::{PsamArgs, Target};
use super::{Outcome, cases};

#[derive(Args)]
pub(super) struct RecordArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    psam: PsamArgs,
    /// On a reader: record cases tagged `destructive` too.
    #[arg(long)]
    allow_destructive: bool,
    /// Scripts or vector files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The vector file to write.
    #[arg(long, short, required = true)]
    output: PathBuf,
}

impl RecordArgs {
    pub(super) fn run(self) -> anyhow::Result<Outcome> {
        let cases = cases::load(&self.paths, &self.target.declared()?)?;
        let mut transport = self.target.open(None)?;
        let keys = self.target.psam_keys()?;
        let psam = self.psam.source()?;
        let options = runner::Options {
            keys: keys.as_ref(),
            psam: psam.as_ref(),
            region: self.psam.region.as_deref(),
            auto_response: false,
            keep_going: true,
            stop_on_spent_try: false,
        };
        let skip = cases::skip_policy(self.target.on_reader(), true, self.allow_destructive);
        let report = runner::run(transport.as_mut(), cases, &skip, options)?;
        let (recorded, traces): (Vec<Case>, Vec<_>) = report
            .results
            .into_iter()
            .filter(|r| !matches!(r.outcome, runner::Outcome::Skipped(_)))
            .map(|r| (r.case, r.trace))
            .unzip();
        let text = harness::writer::to_native(
            &recorded,
            Some(&traces),
            &format!(
                "Recorded by ssc-harness record from {} against {}.",
                cases::names(&self.paths),
                report.target
            ),
        );
        std::fs::write(&self.output, text)
            .with_context(|| format!("cannot write {}", self.output.display()))?;
        eprintln!(
            "recorded {} cases to {}",
            recorded.len(),
            self.output.display()
        );
        Ok(Outcome::Passed)
    }
}
