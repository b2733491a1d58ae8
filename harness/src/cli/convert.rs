//! `ssc-harness convert`: scripts written out as native vectors.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::{Outcome, cases};

#[derive(Args)]
pub(super) struct ConvertArgs {
    /// Scripts or vector files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Write here instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

impl ConvertArgs {
    pub(super) fn run(self) -> anyhow::Result<Outcome> {
        let cases = cases::load(&self.paths, &harness::vectors::Declared::builtin())?;
        let text = harness::writer::to_native(
            &cases,
            None,
            &format!(
                "Converted by ssc-harness convert from {}.\nA step without an expectation in the source expects any answer (* xxxx); \
                 `ssc-harness record` captures real ones.",
                cases::names(&self.paths)
            ),
        );
        match &self.output {
            Some(path) => std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?,
            None => print!("{text}"),
        }
        Ok(Outcome::Passed)
    }
}
