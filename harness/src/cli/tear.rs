//! `ssc-harness tear`: the suite on a durable card with power cuts at every write.

use std::path::PathBuf;

use applet_sim::Profile;
use clap::Args;
use harness::runner;
use harness::tear::TearTransport;

use super::{Outcome, cases};

#[derive(Args)]
pub(super) struct TearArgs {
    /// The card profile: a built-in name (gen3, gen2) or a TOML file.
    #[arg(long, default_value = applet_sim::profile::DEFAULT_PROFILE)]
    profile: String,
    /// Print JSON (`write_points`, `tears`, `violations`, ...).
    #[arg(long)]
    json: bool,
    /// Vector files or folders (default: vectors).
    #[arg(default_value = "vectors")]
    paths: Vec<PathBuf>,
}

impl TearArgs {
    pub(super) fn run(self) -> anyhow::Result<Outcome> {
        let profile = Profile::load(&self.profile)?;
        let declared = harness::vectors::Declared::fixed(harness::declaration::Declaration::new(
            &self.profile,
            profile.clone(),
        ));
        let cases = cases::load(&self.paths, &declared)?;
        let mut transport = TearTransport::new(&profile)?;
        let run = runner::run(&mut transport, cases, &|_| None, runner::Options::default())?;
        let (passed, failed, skipped) = run.counts();
        let report = &mut transport.report;
        report.cases_passed = passed;
        report.cases_failed = failed;
        report.seconds = run.duration.as_secs_f64();
        if self.json {
            println!("{}", serde_json::to_string_pretty(report)?);
        } else {
            println!(
                "{}: {} cases ({passed} passed, {failed} failed, {skipped} skipped), {} commands, \
                 {} write points, {} power cuts checked, {} violations in {:.1} s",
                run.target,
                report.cases,
                report.commands,
                report.write_points,
                report.tears,
                report.violations.len(),
                run.duration.as_secs_f64()
            );
            for (point, n) in &report.by_point {
                println!("  {point:<14} {n}");
            }
            for v in report.violations.iter().take(20) {
                println!(
                    "VIOLATION > {} (write {}, {}): {}",
                    v.command, v.write, v.mode, v.problem
                );
            }
        }
        Ok(Outcome::of(report.violations.is_empty() && failed == 0))
    }
}
