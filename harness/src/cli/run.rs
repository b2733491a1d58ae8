//! `ssc-harness run`: replay vectors and report.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use harness::identity::DeclarationId;
use harness::psam::{Keys, PsamError};
use harness::report::{self, Format};
use harness::requirements::Requirements;
use harness::runner;
use harness::service::FlowError;
use harness::vectors::{Case, Declared};

use super::target::{PsamArgs, Target};
use super::{Outcome, cases};

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum FormatArg {
    /// Failures in detail, then a summary by area.
    Text,
    /// One JSON document.
    Json,
    /// JUnit XML, one testsuite per area and one of the requirements.
    Junit,
    /// One self-contained HTML page (no scripts, nothing fetched).
    Html,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Text => Self::Text,
            FormatArg::Json => Self::Json,
            FormatArg::Junit => Self::Junit,
            FormatArg::Html => Self::Html,
        }
    }
}

#[derive(Args)]
pub(super) struct RunArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    psam: PsamArgs,
    /// Report format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
    /// Write the report to this file instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// The requirements list the verdicts are given for: a markdown file whose rows are
    /// `| REQ-… | Clause | Requirement |` (default: docs/REQUIREMENTS.md, built in). A case
    /// naming an id not in it is an error before the run.
    #[arg(long, value_name = "FILE")]
    requirements: Option<PathBuf>,
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
    /// Cases spread over N independent in-process cards, 1 to 4 per CPU (with readers: one
    /// job per `--reader`); results in file order, as a serial run.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = jobs)]
    jobs: usize,
    /// On a reader: a shell command run before every case that restores the card's initial
    /// state (for `ssc-card serve`: `ssc-card restore --pid PID`, which waits until the card
    /// is restored). Without it, cases tagged `stateful` are skipped on readers.
    #[arg(long, value_name = "CMD", requires = "reader")]
    restore_cmd: Option<String>,
    /// On a reader: also run cases tagged `destructive` (they block the PIN's unblocking
    /// key, the application or the card for ever on a real card).
    #[arg(long)]
    allow_destructive: bool,
    /// Leave out the "data" area: the card's data checked against the specification, as
    /// `ssc-harness check` does (one case per requirement it covers).
    #[arg(long)]
    no_data: bool,
    /// Vector files or folders.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

/// The most jobs a run may ask for: four per CPU the machine can run at once (a job is a
/// thread with its own card; past that they only wait their turn, and tens of thousands
/// exhaust the process).
fn max_jobs() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .saturating_mul(4)
}

/// `--jobs N`: a count from 1 to [`max_jobs`].
fn jobs(text: &str) -> Result<usize, String> {
    let max = max_jobs();
    text.parse::<usize>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| format!("expected a number of jobs from 1 to {max} (4 per CPU)"))
}

impl RunArgs {
    /// The requirements list: `--requirements`, else the built-in one.
    fn requirements(&self) -> anyhow::Result<Requirements> {
        Ok(match &self.requirements {
            Some(path) => Requirements::load(path)?,
            None => Requirements::builtin()?,
        })
    }

    /// True when `--filter` and `--tags` keep `case`: its name, tags or file contain the
    /// filter's text, and it has one of the tags.
    fn keeps(&self, case: &Case) -> bool {
        let filtered = self.filter.as_deref().is_none_or(|pat| {
            case.name.contains(pat)
                || case.tags.iter().any(|t| t.contains(pat))
                || case.file.to_string_lossy().contains(pat)
        });
        filtered && (self.tags.is_empty() || case.tags.iter().any(|t| self.tags.contains(t)))
    }

    /// Each reader's card checked against the declaration before any case (the ATR, the PIN
    /// counters and values, the keys: [`harness::preflight`]); what it could not check is
    /// said on stderr. True when every reader's keys were checked.
    fn preflight(&self, declared: &Declared) -> anyhow::Result<bool> {
        let mut keys_checked = true;
        for (n, name) in self.target.reader.iter().enumerate() {
            let mut t = self.target.open_nth(n, self.restore_cmd.clone())?;
            let keys = self.reader_keys(declared)?;
            let checked = harness::preflight::check(
                t.as_mut(),
                &declared.declaration,
                self.restore_cmd.is_some(),
                Some(&keys),
            )
            .map_err(|e| {
                anyhow::anyhow!(
                    "{name}: not run: {e} (declaration {})",
                    declared.declaration
                )
            })?;
            for note in &checked.notes {
                eprintln!("{name}: {note}");
            }
            keys_checked &= checked.keys;
        }
        Ok(keys_checked)
    }

    /// The "data" area: `check` on a fresh card of the first job (the declared card), its
    /// findings as cases, one per requirement ([`harness::check::as_cases`]).
    fn data_cases(
        &self,
        declared: &Declared,
        keys: Option<&Keys>,
    ) -> anyhow::Result<Vec<harness::runner::CaseResult>> {
        let started = std::time::Instant::now();
        let mut t = self.target.open_nth(0, self.restore_cmd.clone())?;
        t.fresh_card()?;
        let profile = &declared.declaration.profile;
        let own = Keys::from_profile(profile);
        let atr = t.atr()?;
        let mut psam = harness::psam::Psam::new(keys.unwrap_or(&own), &atr)?;
        let options = harness::check::CheckOptions {
            pin: harness::check::DeclaredPin::of_profile(profile),
            unchecked: false,
        };
        match harness::check::check_card(t.as_mut(), Some(&mut psam), &options) {
            Ok(found) => Ok(harness::check::as_cases(
                &found,
                &declared.declaration,
                started.elapsed(),
            )),
            Err(FlowError::Psam(PsamError::Transport(e))) => Err(e.into()),
            Err(e) => Ok(harness::check::unread_cases(&e.to_string())),
        }
    }

    /// The keys of a reader's card: `--keys`, else the declaration's.
    fn reader_keys(&self, declared: &Declared) -> anyhow::Result<Keys> {
        Ok(self
            .target
            .psam_keys()?
            .unwrap_or_else(|| Keys::from_profile(&declared.declaration.profile)))
    }

    pub(super) fn run(self) -> anyhow::Result<Outcome> {
        let requirements = self.requirements()?;
        let declared = self.target.declared()?;
        let (cases, suite) = cases::load_suite(&self.paths, &declared)?;
        // Every case loaded, selected or not: an unknown id is a broken suite.
        requirements.check(&cases)?;
        let cases: Vec<Case> = cases.into_iter().filter(|c| self.keeps(c)).collect();
        let on_reader = self.target.on_reader();
        let keys_checked = !on_reader || self.preflight(&declared)?;
        let reader_skip = cases::skip_policy(
            on_reader,
            self.restore_cmd.is_some(),
            self.allow_destructive,
        );
        // Keys that could not be checked are not tried on a card: a wrong one spends tries.
        let skip = |c: &Case| {
            reader_skip(c).or_else(|| {
                (!keys_checked && cases::uses_keys(c)).then(|| {
                    "uses the keys, which hold no IRK and so could not be checked against the \
                     card without spending a try (add the IRK, key 00)"
                        .to_owned()
                })
            })
        };
        let keys = if on_reader {
            Some(self.reader_keys(&declared)?)
        } else {
            self.target.psam_keys()?
        };
        let psam = self.psam.source()?;
        let options = runner::Options {
            keys: keys.as_ref(),
            psam: psam.as_ref(),
            region: self.psam.region.as_deref(),
            auto_response: self.auto_response,
            keep_going: false,
            stop_on_spent_try: on_reader,
        };
        let jobs = if on_reader {
            self.target.reader.len()
        } else {
            self.jobs
        };
        if jobs > 1 && matches!(psam, Some(harness::psam::PsamSource::Reader(_))) {
            anyhow::bail!(
                "--psam-reader: one PSAM in a reader serves one job at a time (give --jobs 1 \
                 and one --reader)"
            );
        }
        let mut report = harness::jobs::run_parallel(
            jobs,
            &|n| self.target.open_nth(n, self.restore_cmd.clone()),
            cases,
            &skip,
            options,
        )?;
        if !self.no_data && harness::check::data_cases().iter().any(|c| self.keeps(c)) {
            let data = self.data_cases(&declared, keys.as_ref())?;
            report
                .results
                .extend(data.into_iter().filter(|r| self.keeps(&r.case)));
        }
        report.identity.declaration = Some(DeclarationId::of(&declared));
        report.identity.suite = Some(suite);
        report.requirements = Some(requirements);
        let rendered = report::render_with(&report, self.format.into(), self.trace);
        match &self.output {
            Some(path) => std::fs::write(path, rendered)
                .with_context(|| format!("cannot write report {}", path.display()))?,
            None => std::io::stdout().lock().write_all(rendered.as_bytes())?,
        }
        Ok(Outcome::of(report.all_passed()))
    }
}
