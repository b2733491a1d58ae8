//! `ssc-harness` arguments and subcommands (docs/ARCHITECTURE.md, command-line contract):
//! one module per subcommand, each turning its flags into calls of the `harness` library.
//! Only the binary knows clap and anyhow.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};

mod bench;
mod card;
mod cases;
mod check;
mod convert;
mod diff;
mod readers;
mod record;
mod run;
mod target;
mod tear;

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
    Run(run::RunArgs),
    /// Correct-PIN VERIFY in a loop: VERIFYs per second and latency percentiles.
    Bench(bench::BenchArgs),
    /// List PC/SC readers and the ATR of the card in each.
    Readers {
        /// Wait up to this many milliseconds for a change (pcscd then polls its readers
        /// instead of answering from what it last saw).
        #[arg(long, default_value_t = 0, value_name = "MS")]
        wait: u64,
    },
    /// Turn scripts (scriptor, apdutool, ETSI) into native vectors, with their own
    /// expectations (none: any answer).
    Convert(convert::ConvertArgs),
    /// Send scripts or vectors to a card and write native vectors whose expectations are what
    /// it answered (challenge-dependent data as XX).
    Record(record::RecordArgs),
    /// Replay the suite on a durable card, cutting the power at every write of every command
    /// in three ways, and check the reopened state (exit 1 on any violation).
    Tear(tear::TearArgs),
    /// Service-centre and bank flows, their cryptograms from software keys or a PSAM card:
    /// read the holder's data, reset or unblock the PIN, block the application or the card,
    /// the bank's PIN reload and temporary block, reissue.
    Card(card::CardArgs),
    /// Check the card's data item by item against the specification (docs/CARD.md): exit 0 no
    /// findings, 1 findings, 2 error.
    ///
    /// TLV tags and lengths of EF05, EF06 and DF01-DF07, the citizen ID, card number, dates,
    /// card identification code against the ATR, GBK names, code lists, spec version against
    /// the cipher, the financial application's PAN and dates. EF06 of a 3.0 card after
    /// external authentication (keys as for `card`); DF01-DF07 after VERIFY of the SSSE PIN
    /// that --profile declares (on a reader too), sent only when its counter, queried
    /// without spending a try, is at the declared maximum. What cannot be read is listed as
    /// not checked.
    Check(check::CheckArgs),
    /// The model as the oracle: random command sequences over the declared card's command
    /// set, sent to the card and to the model of its declaration in lockstep; each
    /// difference shrunk to a minimal sequence and written as a vector (exit 0 none, 1
    /// differences, 2 error). docs/DIFF.md.
    Diff(diff::DiffArgs),
    /// Print a completion script for a shell on stdout, e.g. `ssc-harness completions bash >
    /// ~/.local/share/bash-completion/completions/ssc-harness`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages (ssc-harness.1 and one per subcommand) into a folder, e.g.
    /// `ssc-harness man ~/.local/share/man/man1`.
    Man {
        /// The folder (created when missing).
        dir: std::path::PathBuf,
    },
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

    /// [`Outcome::Passed`] when `passed`.
    fn of(passed: bool) -> Self {
        if passed { Self::Passed } else { Self::Failed }
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
            Command::Readers { wait } => readers::run(Duration::from_millis(wait)),
            Command::Card(args) => args.run(),
            Command::Check(args) => args.run(),
            Command::Diff(args) => args.run(),
            Command::Tear(args) => args.run(),
            Command::Convert(args) => args.run(),
            Command::Record(args) => args.run(),
            Command::Completions { shell } => {
                clap_complete::generate(
                    shell,
                    &mut Self::command(),
                    "ssc-harness",
                    &mut std::io::stdout(),
                );
                Ok(Outcome::Passed)
            }
            Command::Man { dir } => {
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                clap_mangen::generate_to(Self::command(), &dir)
                    .with_context(|| format!("cannot write the man pages in {}", dir.display()))?;
                println!(
                    "{}: ssc-harness.1 and ssc-harness-SUBCOMMAND.1 (read one with `man -l {}`)",
                    dir.display(),
                    dir.join("ssc-harness.1").display()
                );
                Ok(Outcome::Passed)
            }
        }
    }
}
