//! `ssc-harness bench`: correct-PIN VERIFY throughput and latency.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use applet_sim::Profile;
use clap::Args;
use harness::bench::{self, BenchResult};
use harness::card;
use harness::transport::{SimTransport, Transport};

use super::Outcome;
use super::target::Target;

#[derive(Args)]
pub(super) struct BenchArgs {
    #[command(flatten)]
    target: Target,
    /// How long to loop.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// The SSSE PIN (it must be right: a refused first VERIFY stops the run).
    #[arg(long, default_value = "123456")]
    pin: String,
    /// Print JSON (`verify_per_s`, `p50_us`, `p90_us`, `p99_us`, `max_us`).
    #[arg(long)]
    json: bool,
    /// Durable mode: the virtual card on this state file (kept; created when missing),
    /// measured against one fdatasync per VERIFY on the same disk in the same run.
    #[arg(long, value_name = "FILE", conflicts_with = "reader")]
    state: Option<PathBuf>,
}

impl BenchArgs {
    /// The card to measure, and the fsync rate of its disk in durable mode.
    fn transport(&self, duration: Duration) -> anyhow::Result<(Box<dyn Transport>, Option<f64>)> {
        let Some(path) = &self.state else {
            let mut t = self.target.open(None)?;
            t.fresh_card()?;
            return Ok((t, None));
        };
        let profile = Profile::load(self.target.profile_name())?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        let fsyncs = bench::fsync_baseline(&dir, duration)
            .with_context(|| format!("fsync baseline in {}", dir.display()))?;
        Ok((
            Box::new(SimTransport::durable(&profile, path)?),
            Some(fsyncs),
        ))
    }

    pub(super) fn run(self) -> anyhow::Result<Outcome> {
        if !(self.seconds > 0.0 && self.seconds <= 3600.0) {
            anyhow::bail!("--seconds: more than 0, at most 3600");
        }
        let verify = bench::verify_apdu(&self.pin)?;
        let duration = Duration::from_secs_f64(self.seconds);
        let (mut transport, baseline) = self.transport(duration)?;
        let select = card::select_ssse(false);
        let mut result = bench::verify_loop(transport.as_mut(), &select, &verify, duration)?;
        if let Some(f) = baseline {
            result.fsync_per_s = Some(f);
            result.fsync_ratio = Some(result.verify_per_s / f);
        }
        if self.json {
            println!("{}", serde_json::to_string_pretty(&result)?);
        } else {
            print_text(&result);
        }
        Ok(Outcome::Passed)
    }
}

fn print_text(result: &BenchResult) {
    println!(
        "{}: {} correct-PIN VERIFYs in {:.2} s: {:.0} VERIFY/s, p50 {:.2} µs, p90 {:.2} µs, \
         p99 {:.2} µs, max {:.2} µs",
        result.target,
        result.ops,
        result.seconds,
        result.verify_per_s,
        result.p50_us,
        result.p90_us,
        result.p99_us,
        result.max_us
    );
    if let (Some(f), Some(r)) = (result.fsync_per_s, result.fsync_ratio) {
        println!(
            "same disk, same run: {f:.0} write+fdatasync/s; durable VERIFY reaches {:.1}% of it",
            r * 100.0
        );
    }
}
