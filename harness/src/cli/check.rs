//! `ssc-harness check`: the card's data checked item by item against the specification
//! ([`harness::check`]); exit 0 without findings, 1 with any, 2 on an error.

use anyhow::Context;
use applet_sim::Profile;
use clap::Args;
use harness::check::{self, CheckOptions, CheckReport, DeclaredPin};
use harness::psam::{CardInfo, Keys, Psam, PsamCard};
use harness::transport::{Traced, Transport};

use super::Outcome;
use super::target::{PsamArgs, Target};

#[derive(Args)]
pub(super) struct CheckArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    psam: PsamArgs,
    /// Print JSON: target, atr, findings (item, value, rule, clause), checked (items),
    /// not_checked.
    #[arg(long)]
    json: bool,
    /// Authenticate with RKSSSE for EF06 without checking the keys first with INTERNAL
    /// AUTHENTICATE (keys without an IRK; a wrong key then costs a try).
    #[arg(long)]
    unchecked: bool,
    /// Print every APDU sent to the card and to the PSAM (on stderr).
    #[arg(long)]
    trace: bool,
}

impl CheckArgs {
    fn traced(&self, t: Box<dyn Transport>, label: &str) -> Box<dyn Transport> {
        if self.trace {
            Box::new(Traced::new(t, label, Box::new(|line| eprintln!("{line}"))))
        } else {
            t
        }
    }

    /// The cryptograms for EF06 of a 3.0 card: a PSAM card when asked for, else software
    /// keys (`--keys`, or the virtual card's profile's); none on a reader without either.
    fn psam(&self, card: &mut dyn Transport) -> anyhow::Result<Option<Psam>> {
        let keys = self
            .target
            .psam_keys()?
            .or_else(|| card.profile().map(Keys::from_profile));
        let atr = card.atr()?;
        match self.psam.source()? {
            Some(source) => {
                let info = CardInfo::read(card, self.psam.region.as_deref())
                    .context("the PSAM needs the card's cipher and region")?;
                let psam = self.traced(source.open()?, "psam");
                let module = PsamCard::open(psam, &source.describe(), info)?;
                Ok(Some(Psam::with_crypto(
                    Box::new(module),
                    keys.as_ref(),
                    &atr,
                )?))
            }
            None => Ok(keys.map(|k| Psam::new(&k, &atr)).transpose()?),
        }
    }

    pub(super) fn run(self) -> anyhow::Result<Outcome> {
        // The declaration of the card: its SSSE PIN, for the sub-applications.
        let declared = Profile::load(self.target.profile_name())?;
        let card = self.target.open(None)?;
        let mut card = self.traced(card, "card");
        // The declared PIN is sent only to the declared card: another ATR is another card,
        // whose PIN a VERIFY with this one could spend a try of.
        let atr = card.reset()?;
        let same_card = atr == declared.atr;
        let options = CheckOptions {
            pin: DeclaredPin::of_profile(&declared).filter(|_| same_card),
            unchecked: self.unchecked,
        };
        let mut psam = self.psam(card.as_mut())?;
        let mut report = check::check_card(card.as_mut(), psam.as_mut(), &options)?;
        if !same_card {
            report.not_checked.push(format!(
                "the sub-applications DF01-DF07: the card's ATR is not the declaration's \
                 ({}), so its PIN was not sent (--profile declares the card)",
                declared.source_name
            ));
        }
        if self.json {
            println!("{}", serde_json::to_string_pretty(&json(&report))?);
        } else {
            print_text(&report);
        }
        Ok(Outcome::of(report.passed()))
    }
}

/// The report as JSON.
fn json(report: &CheckReport) -> serde_json::Value {
    serde_json::json!({
        "target": report.target,
        "atr": apdu::hex_compact(&report.atr),
        "findings": report.findings,
        "checked": report.items_checked,
        "not_checked": report.not_checked,
    })
}

/// One line per finding, one per part not checked, then the summary.
fn print_text(report: &CheckReport) {
    use applet_sim::message::printable;
    println!(
        "{}: ATR {}",
        printable(&report.target),
        apdu::hex_compact(&report.atr)
    );
    for finding in &report.findings {
        println!("{finding}");
    }
    for what in &report.not_checked {
        println!("not checked: {}", printable(what));
    }
    println!(
        "{} items checked, {} findings",
        report.items_checked,
        report.findings.len()
    );
}
