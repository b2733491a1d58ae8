//! `ssc-harness` arguments and subcommands (design/ARCHITECTURE.md, command-line contract).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use applet_sim::Profile;
use clap::{Args, Parser, Subcommand};

use crate::psam::{Keys, Operation, Psam};
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
    Readers {
        /// Wait up to this many milliseconds for a change (pcscd then polls its readers
        /// instead of answering from what it last saw).
        #[arg(long, default_value_t = 0, value_name = "MS")]
        wait: u64,
    },
    /// Turn scripts (scriptor, apdutool, ETSI) into native vectors, with their own
    /// expectations (none: any answer).
    Convert(ConvertArgs),
    /// Send scripts or vectors to a card and write native vectors whose expectations are what
    /// it answered (challenge-dependent data as XX).
    Record(RecordArgs),
    /// Replay the suite on a durable card, cutting the power at every write of every command
    /// in three ways, and check the reopened state (exit 1 on any violation).
    Tear(TearArgs),
    /// Service-centre flows through the software PSAM: read the holder's data, reset or
    /// unblock the PIN, block the application or the card.
    Card(CardArgs),
}

#[derive(Args)]
struct ConvertArgs {
    /// Scripts or vector files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Write here instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct RecordArgs {
    #[command(flatten)]
    target: Target,
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

impl ConvertArgs {
    fn run(self) -> anyhow::Result<Outcome> {
        let cases = load_cases(&self.paths)?;
        let names: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
        let text = crate::writer::to_native(
            &cases,
            None,
            &format!(
                "Converted by ssc-harness convert from {}.\nA step without an expectation in the source expects any answer (* xxxx); \
                 `ssc-harness record` captures real ones.",
                names.join(", ")
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

impl RecordArgs {
    fn run(self) -> anyhow::Result<Outcome> {
        let cases = load_cases(&self.paths)?;
        let mut transport = self.target.open(None)?;
        let keys = self.target.psam_keys()?;
        let options = runner::Options {
            keys: keys.as_ref(),
            auto_response: false,
            keep_going: true,
        };
        let on_reader = !self.target.reader.is_empty();
        let allow = self.allow_destructive;
        let skip = |c: &Case| on_reader.then(|| reader_skip(c, true, allow)).flatten();
        let report = runner::run(transport.as_mut(), cases, &skip, options)?;
        let (recorded, traces): (Vec<Case>, Vec<_>) = report
            .results
            .into_iter()
            .filter(|r| !matches!(r.outcome, runner::Outcome::Skipped(_)))
            .map(|r| (r.case, r.trace))
            .unzip();
        let names: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
        let text = crate::writer::to_native(
            &recorded,
            Some(&traces),
            &format!(
                "Recorded by ssc-harness record from {} against {}.",
                names.join(", "),
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

#[derive(Args)]
struct TearArgs {
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

#[derive(Args)]
struct CardArgs {
    /// What to do.
    #[arg(value_enum)]
    action: CardAction,
    #[command(flatten)]
    target: Target,
    /// `pin-reset`: the new PIN.
    #[arg(long, value_name = "DIGITS", required_if_eq("action", "pin-reset"))]
    new_pin: Option<String>,
    /// `block-app`, `block-card`: confirm (a real card cannot be unblocked).
    #[arg(long)]
    yes: bool,
    /// `read`: print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Print every APDU exchanged.
    #[arg(long)]
    trace: bool,
}

/// The service-centre flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum CardAction {
    /// Read and decode the holder's data like the MOHRSS reader interface (iReadCardBas).
    Read,
    /// Set a new SSSE PIN and restore its counter (external authentication with the PUK key
    /// 06, then 84 24 00 01).
    PinReset,
    /// Restore the SSSE PIN's try counter, keeping the PIN (06, then 84 24 00 00).
    PinUnblock,
    /// Block the SSSE for ever (84 1E 00 01); needs --yes.
    BlockApp,
    /// Block the card for ever (84 16 00 00; afterwards every command answers 6A81); needs
    /// --yes.
    BlockCard,
}

/// Where the APDUs go.
#[derive(Args)]
struct Target {
    /// The in-process virtual card (the default).
    #[arg(long, conflicts_with = "reader")]
    sim: bool,
    /// A PC/SC reader by name, e.g. 'Virtual PCD 00 00' (needs the `pcsc` feature); `run`
    /// takes several, one job each.
    #[arg(long, value_name = "NAME")]
    reader: Vec<String>,
    /// The card profile of the virtual card: a built-in name (gen3, gen2) or a TOML file.
    #[arg(long, default_value = applet_sim::profile::DEFAULT_PROFILE)]
    profile: String,
    /// The software PSAM's keys (TOML, README "Keys files"); on the virtual card the
    /// profile's keys are used when this is not given.
    #[arg(long, value_name = "FILE")]
    keys: Option<PathBuf>,
}

impl Target {
    fn open(&self, restore: Option<String>) -> anyhow::Result<Box<dyn Transport>> {
        self.open_nth(0, restore)
    }

    /// The transport of job `n`: a virtual card, or the n-th `--reader`.
    fn open_nth(&self, n: usize, restore: Option<String>) -> anyhow::Result<Box<dyn Transport>> {
        match self.reader.get(n) {
            None if self.reader.is_empty() => {
                Ok(Box::new(SimTransport::new(&Profile::load(&self.profile)?)))
            }
            None => anyhow::bail!("no reader for job {n}"),
            Some(name) => open_reader(name, restore, &self.profile),
        }
    }

    /// The PSAM keys given with `--keys` (else the transport's own: the virtual card's
    /// profile keys, none for a reader).
    fn psam_keys(&self) -> anyhow::Result<Option<Keys>> {
        self.keys.as_deref().map(Keys::load).transpose()
    }
}

#[cfg(feature = "pcsc")]
fn open_reader(
    name: &str,
    restore: Option<String>,
    profile: &str,
) -> anyhow::Result<Box<dyn Transport>> {
    Ok(Box::new(
        crate::transport::PcscTransport::connect(name, restore)?.declaring(profile),
    ))
}

#[cfg(not(feature = "pcsc"))]
fn open_reader(
    _name: &str,
    _restore: Option<String>,
    _profile: &str,
) -> anyhow::Result<Box<dyn Transport>> {
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
    /// Run only cases with one of these tags (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "TAG")]
    tags: Vec<String>,
    /// T=0 as readers do it: follow 61xx with GET RESPONSE and 6Cxx with the command again
    /// (the compared answer is the joined one; `--trace` shows every exchange).
    #[arg(long)]
    auto_response: bool,
    /// Print every exchange of every case (text format).
    #[arg(long)]
    trace: bool,
    /// Cases spread over N independent in-process cards (with readers: one job per
    /// `--reader`); results in file order, as a serial run.
    #[arg(long, default_value_t = 1, value_name = "N")]
    jobs: usize,
    /// On a reader: a shell command run before every case that restores the card's initial
    /// state (for `ssc-card serve`: `kill -HUP <pid>`). Without it, cases tagged `stateful`
    /// are skipped on readers.
    #[arg(long, value_name = "CMD", requires = "reader")]
    restore_cmd: Option<String>,
    /// On a reader: also run cases tagged `destructive` (they block the PIN's unblocking
    /// key, the application or the card for ever on a real card).
    #[arg(long)]
    allow_destructive: bool,
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
    /// Print JSON (`verify_per_s`, `p50_us`, `p90_us`, `p99_us`, `max_us`).
    #[arg(long)]
    json: bool,
    /// Durable mode: the virtual card on this state file (kept; created when missing),
    /// measured against one fdatasync per VERIFY on the same disk in the same run.
    #[arg(long, value_name = "FILE", conflicts_with = "reader")]
    state: Option<PathBuf>,
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
            Command::Readers { wait } => readers(Duration::from_millis(wait)),
            Command::Card(args) => args.run(),
            Command::Tear(args) => args.run(),
            Command::Convert(args) => args.run(),
            Command::Record(args) => args.run(),
        }
    }
}

/// Why a case does not run on a reader (the in-process card runs everything).
fn reader_skip(case: &Case, can_restore: bool, allow_destructive: bool) -> Option<String> {
    let tagged = |t: &str| case.tags.iter().any(|x| x == t);
    if tagged("sim-only") {
        return Some("sends bytes PC/SC refuses to carry (tagged sim-only)".into());
    }
    if tagged("destructive") && !allow_destructive {
        return Some(
            "can block a real card for ever (tagged destructive); give --allow-destructive".into(),
        );
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

/// Every case of the vector files and scripts under `paths` (native vectors, scriptor,
/// apdutool and ETSI scripts: `import`).
fn load_cases(paths: &[PathBuf]) -> anyhow::Result<Vec<Case>> {
    let files = vectors::discover(paths)?;
    if files.is_empty() {
        anyhow::bail!("no vector files (*.apdu) or scripts under {paths:?}");
    }
    let mut cases = Vec::new();
    for f in &files {
        cases.extend(crate::import::parse_file(f)?);
    }
    Ok(cases)
}

impl TearArgs {
    fn run(self) -> anyhow::Result<Outcome> {
        let cases = load_cases(&self.paths)?;
        let profile = Profile::load(&self.profile)?;
        let mut transport = crate::tear::TearTransport::new(&profile)?;
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
        Ok(if report.violations.is_empty() && failed == 0 {
            Outcome::Passed
        } else {
            Outcome::Failed
        })
    }
}

impl RunArgs {
    fn run(self) -> anyhow::Result<Outcome> {
        let mut cases = load_cases(&self.paths)?;
        if let Some(pat) = &self.filter {
            cases.retain(|c| {
                c.name.contains(pat.as_str())
                    || c.tags.iter().any(|t| t.contains(pat.as_str()))
                    || c.file.to_string_lossy().contains(pat.as_str())
            });
        }
        if !self.tags.is_empty() {
            cases.retain(|c| c.tags.iter().any(|t| self.tags.contains(t)));
        }
        let on_reader = !self.target.reader.is_empty();
        let can_restore = self.restore_cmd.is_some();
        let allow_destructive = self.allow_destructive;
        let skip = |c: &Case| {
            on_reader
                .then(|| reader_skip(c, can_restore, allow_destructive))
                .flatten()
        };
        let keys = self.target.psam_keys()?;
        let options = runner::Options {
            keys: keys.as_ref(),
            auto_response: self.auto_response,
            keep_going: false,
        };
        let jobs = if on_reader {
            self.target.reader.len()
        } else {
            self.jobs.max(1)
        };
        let report = crate::jobs::run_parallel(
            jobs,
            &|n| self.target.open_nth(n, self.restore_cmd.clone()),
            cases,
            &skip,
            options,
        )?;
        let rendered = report::render_with(&report, self.format, self.trace);
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
    let value = applet_sim::pin::PinValue::from_digits(pin)
        .ok()
        .filter(|v| v.len() >= 4)
        .ok_or_else(|| anyhow::anyhow!("--pin: 4 to 16 decimal digits"))?;
    let block = value.to_bcd();
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
        let duration = Duration::from_secs_f64(self.seconds);
        let (mut transport, baseline): (Box<dyn Transport>, _) = match &self.state {
            None => {
                let mut t = self.target.open(None)?;
                t.fresh_card()?;
                (t, None)
            }
            Some(path) => {
                let profile = Profile::load(&self.target.profile)?;
                let dir = match path.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
                    _ => PathBuf::from("."),
                };
                let fsyncs = crate::bench::fsync_baseline(&dir, duration)
                    .with_context(|| format!("fsync baseline in {}", dir.display()))?;
                (
                    Box::new(SimTransport::durable(&profile, path)?),
                    Some(fsyncs),
                )
            }
        };
        let mut result =
            crate::bench::verify_loop(transport.as_mut(), &SELECT_SSSE, &verify, duration)?;
        if let Some(f) = baseline {
            result.fsync_per_s = Some(f);
            result.fsync_ratio = Some(result.verify_per_s / f);
        }
        if self.json {
            println!("{}", serde_json::to_string_pretty(&result)?);
        } else {
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
        Ok(Outcome::Passed)
    }
}

#[cfg(feature = "pcsc")]
fn readers(wait: Duration) -> anyhow::Result<Outcome> {
    let list = crate::transport::list_readers(wait)?;
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
fn readers(_wait: Duration) -> anyhow::Result<Outcome> {
    anyhow::bail!(crate::transport::NO_PCSC)
}

impl CardArgs {
    fn run(self) -> anyhow::Result<Outcome> {
        let mut transport = self.target.open(None)?;
        let keys = self
            .target
            .psam_keys()?
            .or_else(|| transport.psam_keys())
            .ok_or_else(|| {
                anyhow::anyhow!("a card in a reader needs the PSAM's keys: give --keys FILE")
            })?;
        let atr = transport.atr()?;
        let mut psam = Psam::new(&keys, &atr)?;
        let ops = match self.action {
            CardAction::Read => {
                let holder = crate::service::read_holder(transport.as_mut(), &mut psam)?;
                if self.json {
                    println!("{}", serde_json::to_string_pretty(&holder)?);
                } else {
                    print_holder(&holder);
                }
                return Ok(Outcome::Passed);
            }
            CardAction::PinReset => vec![
                Operation::ExternalAuthenticate(0x06),
                Operation::PinReset(self.new_pin.clone().unwrap_or_default()),
            ],
            CardAction::PinUnblock => {
                vec![Operation::ExternalAuthenticate(0x06), Operation::PinUnblock]
            }
            CardAction::BlockApp | CardAction::BlockCard if !self.yes => {
                anyhow::bail!("blocking is permanent on a real card: add --yes to confirm")
            }
            CardAction::BlockApp => vec![Operation::BlockApplication],
            CardAction::BlockCard => vec![Operation::BlockCard],
        };
        let transcripts = crate::service::run_ops(transport.as_mut(), &mut psam, &ops)?;
        if self.trace {
            for (c, r) in transcripts.iter().flat_map(|t| &t.exchanges) {
                println!("> {}\n< {}", apdu::hex_compact(c), apdu::hex_compact(r));
            }
        }
        println!("{}: done (9000)", transport.describe());
        Ok(Outcome::Passed)
    }
}

fn print_holder(h: &crate::service::HolderData) {
    let rows = [
        ("region", &h.region),
        ("social security number", &h.social_security_number),
        ("card number", &h.card_number),
        ("card identification code", &h.card_id),
        ("name", &h.name),
        ("historical bytes", &h.historical_bytes),
        ("spec version", &h.version),
        ("issue date", &h.issue_date),
        ("expiry date", &h.expiry_date),
        ("card type", &h.card_type),
        ("sex", &h.sex),
        ("nation", &h.nation),
        ("birthplace", &h.birthplace),
        ("birth date", &h.birth_date),
    ];
    for (label, value) in rows {
        println!("{label:<26}{value}");
    }
    let authentic = match h.card_authentic {
        Some(true) => "yes (INTERNAL AUTHENTICATE with the IRK)",
        Some(false) => "NO: the card's cryptogram does not match the IRK",
        None => "not checked (no IRK in the keys)",
    };
    println!("{:<26}{authentic}", "card authentic");
    println!("iReadCardBas              {}", h.pipe_line());
}
