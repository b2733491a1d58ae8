//! `ssc-harness` arguments and subcommands (design/ARCHITECTURE.md, command-line contract).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use applet_sim::Profile;
use clap::{Args, Parser, Subcommand};

use crate::report::{self, Format};
use crate::runner;
use crate::transport::{SimTransport, Transport};
use crate::vectors::{self, Case};

/// Conformance vectors against the virtual social security card or a card in a reader.
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
    /// Correct-PIN VERIFY in a loop: VERIFYs per second and latency percentiles.
    Bench(BenchArgs),
    /// List PC/SC readers and the ATR of the card in each.
    Readers,
}

/// Where the APDUs go.
#[derive(Args)]
struct Target {
    /// The in-process virtual card (the default).
    #[arg(long, conflicts_with = "reader")]
    sim: bool,
    /// A PC/SC reader by name, e.g. 'Virtual PCD 00 00' (needs the `pcsc` feature).
    #[arg(long, value_name = "NAME")]
    reader: Option<String>,
    /// The card profile of the virtual card: a built-in name (gen3, gen2) or a TOML file.
    #[arg(long, default_value = applet_sim::profile::DEFAULT_PROFILE)]
    profile: String,
}

impl Target {
    fn open(&self, restore: Option<String>) -> anyhow::Result<Box<dyn Transport>> {
        match &self.reader {
            None => Ok(Box::new(SimTransport::new(&Profile::load(&self.profile)?))),
            Some(name) => open_reader(name, restore),
        }
    }
}

#[cfg(feature = "pcsc")]
fn open_reader(name: &str, restore: Option<String>) -> anyhow::Result<Box<dyn Transport>> {
    Ok(Box::new(crate::transport::PcscTransport::connect(
        name, restore,
    )?))
}

#[cfg(not(feature = "pcsc"))]
fn open_reader(_name: &str, _restore: Option<String>) -> anyhow::Result<Box<dyn Transport>> {
    anyhow::bail!(crate::transport::NO_PCSC)
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    target: Target,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Run only cases whose name, tags or file contain this text.
    #[arg(long)]
    filter: Option<String>,
    /// On a reader: a shell command run before every case that restores the card's initial
    /// state (for `ssc-card serve`: `kill -HUP <pid>`). Without it, cases tagged `stateful`
    /// are skipped on readers.
    #[arg(long, value_name = "CMD", requires = "reader")]
    restore_cmd: Option<String>,
    /// Vector files or folders.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

#[derive(Args)]
struct BenchArgs {
    #[command(flatten)]
    target: Target,
    /// How long to loop.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// The SSSE PIN (it must be right: a refused first VERIFY stops the run).
    #[arg(long, default_value = "123456")]
    pin: String,
    /// Print JSON (`verify_per_s`, `p50_us`, `p99_us`).
    #[arg(long)]
    json: bool,
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
            Command::Bench(args) => args.run(),
            Command::Readers => readers(),
        }
    }
}

/// Why a case does not run on a reader (the in-process card runs everything).
fn reader_skip(case: &Case, can_restore: bool) -> Option<String> {
    let tagged = |t: &str| case.tags.iter().any(|x| x == t);
    if tagged("sim-only") {
        return Some("sends bytes PC/SC refuses to carry (tagged sim-only)".into());
    }
    if tagged("stateful") && !can_restore {
        return Some(
            "changes the card's persistent state (tagged stateful); give --restore-cmd to \
             restore the card between cases"
                .into(),
        );
    }
    None
}

impl RunArgs {
    fn run(self) -> anyhow::Result<Outcome> {
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
        let on_reader = self.target.reader.is_some();
        let can_restore = self.restore_cmd.is_some();
        let mut transport = self.target.open(self.restore_cmd.clone())?;
        let skip = |c: &Case| on_reader.then(|| reader_skip(c, can_restore)).flatten();
        let report = runner::run(transport.as_mut(), cases, &skip)?;
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

/// SELECT the SSSE by name, no FCI (SSC-CARD.md §3.2).
const SELECT_SSSE: [u8; 20] = [
    0x00, 0xA4, 0x04, 0x0C, 0x0F, 0x73, 0x78, 0x31, 0x2E, 0x73, 0x68, 0x2E, 0xC9, 0xE7, 0xBB, 0xE1,
    0xB1, 0xA3, 0xD5, 0xCF,
];

/// VERIFY of the SSSE PIN: packed BCD, F-padded (SSC-CARD.md §5.1).
fn verify_apdu(pin: &str) -> anyhow::Result<Vec<u8>> {
    if !(4..=16).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        anyhow::bail!("--pin: 4 to 16 decimal digits");
    }
    let mut digits = pin.to_owned();
    if digits.len() % 2 == 1 {
        digits.push('F');
    }
    let block = apdu::parse_hex(&digits)?;
    let mut apdu = vec![0x00, 0x20, 0x00, 0x00, u8::try_from(block.len())?];
    apdu.extend(block);
    Ok(apdu)
}

impl BenchArgs {
    fn run(self) -> anyhow::Result<Outcome> {
        if !(self.seconds > 0.0 && self.seconds <= 3600.0) {
            anyhow::bail!("--seconds: more than 0, at most 3600");
        }
        let verify = verify_apdu(&self.pin)?;
        let mut transport = self.target.open(None)?;
        let result = crate::bench::verify_loop(
            transport.as_mut(),
            &SELECT_SSSE,
            &verify,
            Duration::from_secs_f64(self.seconds),
        )?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&result)?);
        } else {
            println!(
                "{}: {} correct-PIN VERIFYs in {:.2} s: {:.0} VERIFY/s, p50 {:.2} µs, p99 {:.2} µs",
                result.target,
                result.ops,
                result.seconds,
                result.verify_per_s,
                result.p50_us,
                result.p99_us
            );
        }
        Ok(Outcome::Passed)
    }
}

#[cfg(feature = "pcsc")]
fn readers() -> anyhow::Result<Outcome> {
    let list = crate::transport::list_readers()?;
    if list.is_empty() {
        println!("no PC/SC readers");
    }
    for (name, atr) in list {
        match atr {
            Some(atr) => println!("{name}\tcard present\tATR {}", apdu::hex_spaced(&atr)),
            None => println!("{name}\tno card"),
        }
    }
    Ok(Outcome::Passed)
}

#[cfg(not(feature = "pcsc"))]
fn readers() -> anyhow::Result<Outcome> {
    anyhow::bail!(crate::transport::NO_PCSC)
}
