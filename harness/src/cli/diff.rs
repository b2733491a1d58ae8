//! `ssc-harness diff`: the card against the model of its declaration ([`harness::diff`],
//! docs/DIFF.md); exit 0 no difference, 1 differences, 2 error.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use applet_sim::Profile;
use applet_sim::message::printable;
use clap::Args;
use harness::declaration::Declaration;
use harness::diff::{
    DEFAULT_MAX_LEN, DEFAULT_SEQUENCES, DiffOptions, Differ, Summary, vector_text,
};
use harness::psam::Keys;
use harness::transport::{self, SimTransport, Transport};

use super::Outcome;

#[derive(Args)]
pub(super) struct DiffArgs {
    /// The card under test in this PC/SC reader (needs the `pcsc` feature).
    #[arg(long, value_name = "NAME", required_unless_present = "sim_profile")]
    reader: Option<String>,
    /// The card under test is a virtual card of this profile (built-in name or file), in
    /// process: a variant against the declaration.
    #[arg(long, value_name = "PROFILE", conflicts_with = "reader")]
    sim_profile: Option<String>,
    /// The card's declaration (built-in name or profile file): the model is built from it.
    #[arg(long, value_name = "PROFILE")]
    profile: String,
    /// The generator's seed (default: from the clock, printed in the summary).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// How many sequences (at least 1).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SEQUENCES, value_parser = sequences)]
    sequences: usize,
    /// Units per sequence, at most, 1 to 100 (a unit is a command with the SELECTs it
    /// needs).
    #[arg(long, value_name = "L", default_value_t = DEFAULT_MAX_LEN, value_parser = max_len)]
    max_len: usize,
    /// A shell command that puts the card in the reader back in its initial state: run
    /// between sequences that changed it; writes are then generated too.
    #[arg(long, value_name = "CMD", conflicts_with = "sim_profile")]
    restore_cmd: Option<String>,
    /// The PSAM's keys (README "Keys files"); default: the declaration's.
    #[arg(long, value_name = "FILE")]
    keys: Option<PathBuf>,
    /// Send units that block a PIN or key or change the card for good (a reader).
    #[arg(long)]
    allow_destructive: bool,
    /// Write each difference's minimal sequence as a vector file (diff-001.apdu, …) here.
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the summary as JSON: seed, sequences, commands, withheld, differences (group,
    /// title, occurrences, found_in, sequence, exchanges, vector).
    #[arg(long)]
    json: bool,
}

impl DiffArgs {
    pub(super) fn run(self) -> anyhow::Result<Outcome> {
        let declaration = Declaration::new(&self.profile, Profile::load(&self.profile)?);
        let keys = self.keys.as_deref().map(Keys::load).transpose()?;
        let in_process = self.sim_profile.is_some();
        // The output folder before anything is sent: a run is not wasted on a bad -o.
        if let Some(dir) = &self.out {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the folder {}", dir.display()))?;
        }
        let mut target: Box<dyn Transport> = match (&self.sim_profile, &self.reader) {
            (Some(p), _) => Box::new(SimTransport::new(&Profile::load(p)?)),
            (None, Some(name)) => {
                transport::open_reader(name, self.restore_cmd.clone(), &self.profile)?
            }
            (None, None) => anyhow::bail!("--reader or --sim-profile names the card under test"),
        };
        let restorable = in_process || self.restore_cmd.is_some();
        let mut authenticate = true;
        if !in_process {
            // As before a conformance run: the ATR, the counters, the PINs and the keys
            // (docs/SECURITY.md); keys that could not be checked are not used.
            let psam_keys = keys
                .clone()
                .unwrap_or_else(|| Keys::from_profile(&declaration.profile));
            let checked = harness::preflight::check(
                target.as_mut(),
                &declaration,
                restorable,
                Some(&psam_keys),
            )
            .map_err(|r| anyhow::anyhow!("the card is not safe to test: {r}"))?;
            for note in &checked.notes {
                eprintln!("note: {}", printable(note));
            }
            authenticate = checked.keys || self.allow_destructive;
            if !authenticate {
                eprintln!(
                    "note: the keys could not be checked against the card (no IRK): no \
                     authentication is generated"
                );
            }
        }
        let seed = self.seed.unwrap_or_else(clock_seed);
        let options = DiffOptions {
            seed,
            sequences: self.sequences,
            max_len: self.max_len,
            restorable,
            allow_destructive: self.allow_destructive,
            in_process,
            authenticate,
        };
        let terminal = std::io::stderr().is_terminal();
        let total = self.sequences;
        let summary =
            Differ::new(target.as_mut(), &declaration, keys, options).diff(|done, found| {
                if terminal && (done % 50 == 0 || done == total) {
                    eprint!("\r{done}/{total} sequences, {found} differences");
                    if done == total {
                        eprintln!();
                    }
                }
            })?;
        // The summary is printed even when a vector cannot be written (then exit 2).
        let (vectors, written) = match self.write_vectors(&summary) {
            Ok(v) => (v, Ok(())),
            Err(e) => (vec![None; summary.differences.len()], Err(e)),
        };
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json(&summary, &vectors))?
            );
        } else {
            print_text(&summary, &vectors, &target.describe());
        }
        written?;
        Ok(Outcome::of(summary.differences.is_empty()))
    }

    /// Writes one vector per difference into `-o DIR` (created when missing; a file of the
    /// same name is replaced, never written through a symlink).
    fn write_vectors(&self, summary: &Summary) -> anyhow::Result<Vec<Option<PathBuf>>> {
        let Some(dir) = &self.out else {
            return Ok(vec![None; summary.differences.len()]);
        };
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        summary
            .differences
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let path = dir.join(format!("diff-{:03}.apdu", i + 1));
                let text = vector_text(d, i, &self.profile, summary.seed);
                applet_sim::write_private(&path, text.as_bytes(), true)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                Ok(Some(path))
            })
            .collect()
    }
}

/// `--max-len`: 1 to 100 (a sequence is held in memory and shrunk; longer ones find nothing
/// shorter ones would not).
fn max_len(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n @ 1..=100) => Ok(n),
        _ => Err("expected a number from 1 to 100".into()),
    }
}

/// `--sequences`: at least 1.
fn sequences(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("expected a number of sequences, at least 1".into()),
    }
}

/// A seed from the clock (nanoseconds since the epoch).
fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| {
            u64::try_from(d.as_nanos() & u128::from(u64::MAX)).unwrap_or(1)
        })
}

/// The summary as JSON.
fn json(summary: &Summary, vectors: &[Option<PathBuf>]) -> serde_json::Value {
    let differences: Vec<serde_json::Value> = summary
        .differences
        .iter()
        .zip(vectors)
        .map(|(d, v)| {
            serde_json::json!({
                "group": d.group,
                "title": d.title,
                "occurrences": d.occurrences,
                "found_in": d.found_in,
                "sequence": d.sequence.iter().map(harness::diff::Action::line).collect::<Vec<_>>(),
                "exchanges": d.exchanges.iter().map(|e| serde_json::json!({
                    "command": apdu::hex_compact(&e.command),
                    "card": apdu::hex_compact(&e.card),
                    "model": apdu::hex_compact(&e.model),
                })).collect::<Vec<_>>(),
                "vector": v.as_ref().map(|p| p.display().to_string()),
            })
        })
        .collect();
    serde_json::json!({
        "seed": summary.seed,
        "sequences": summary.sequences,
        "commands": summary.commands,
        "withheld": summary.withheld,
        "stopped": summary.stopped,
        "differences": differences,
    })
}

/// Each difference with its minimal sequence, then the summary line.
fn print_text(summary: &Summary, vectors: &[Option<PathBuf>], target: &str) {
    for (i, (d, v)) in summary.differences.iter().zip(vectors).enumerate() {
        println!(
            "difference {}: {} ({} sequences, first in sequence {})",
            i + 1,
            printable(&d.title),
            d.occurrences,
            d.found_in
        );
        for action in &d.sequence {
            println!("    {}", action.line());
        }
        if let Some(e) = d.exchanges.iter().find(|e| !e.agrees()) {
            println!(
                "    card {} / model {}",
                apdu::hex_compact(&e.card),
                apdu::hex_compact(&e.model)
            );
        }
        if let Some(path) = v {
            println!("    vector: {}", printable(&path.display().to_string()));
        }
    }
    if let Some(why) = &summary.stopped {
        println!("stopped: {why}");
    }
    println!(
        "{}: {} sequences, {} commands, {} units withheld, {} differences (seed {})",
        printable(target),
        summary.sequences,
        summary.commands,
        summary.withheld,
        summary.differences.len(),
        summary.seed
    );
}
