//! `ssc-harness card`: the service-centre and bank-counter flows, their cryptograms from
//! software keys or a PSAM card (docs/PSAM.md §8).

use std::path::{Path, PathBuf};

use anyhow::Context;
use applet_sim::Profile;
use applet_sim::model::keys::ssse;
use clap::Args;
use harness::psam::{CardInfo, ExtAuth, Keys, Operation, Psam, PsamCard, PsamSource};
use harness::reissue::{self, Reissue};
use harness::service::{self, FlowError, HolderData};
use harness::transport::{SimTransport, Traced, Transport};

use super::Outcome;
use super::target::{PsamArgs, Target};

#[derive(Args)]
pub(super) struct CardArgs {
    /// What to do.
    #[arg(value_enum)]
    action: CardAction,
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    psam: PsamArgs,
    /// The virtual card on this state file (kept; created from the profile when missing), so
    /// what a flow changes is there for the next run.
    #[arg(long, value_name = "FILE", conflicts_with = "reader")]
    state: Option<PathBuf>,
    /// `pin-reset`, `bank-pin-reload`: the new PIN.
    #[arg(long, value_name = "DIGITS", required_if_eq_any([("action", "pin-reset"), ("action", "bank-pin-reload")]))]
    new_pin: Option<String>,
    /// `block-app`, `block-card`: confirm (a real card cannot be unblocked).
    #[arg(long)]
    yes: bool,
    /// Do not check the keys against the card before a flow spends a key try (the check is
    /// INTERNAL AUTHENTICATE with the IRK, which spends none; without an IRK it cannot run).
    #[arg(long)]
    unchecked: bool,
    /// `read`: print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Print every APDU sent to the card and to the PSAM, as `ssc-card serve -v` does (on
    /// stderr).
    #[arg(long)]
    trace: bool,
    /// `reissue`: the new card number (8 characters, the check character is added; or 9 with
    /// it); default: the old one's digits plus one.
    #[arg(long, value_name = "NUMBER")]
    card_number: Option<String>,
    /// `reissue` of a virtual card: the new serial, 8 hex digits (the ATR's last 4 bytes);
    /// default: the old one plus one.
    #[arg(long, value_name = "HEX", conflicts_with = "reader")]
    serial: Option<String>,
    /// `reissue`: a new issue date, YYYYMMDD or YYYY-MM-DD (default: kept); before the expiry
    /// date.
    #[arg(long, value_name = "YYYYMMDD")]
    issue_date: Option<String>,
    /// `reissue`: a new expiry date, YYYYMMDD or YYYY-MM-DD (default: kept); after the issue
    /// date.
    #[arg(long, value_name = "YYYYMMDD")]
    expiry_date: Option<String>,
    /// `reissue` of a virtual card: where to write the new card's profile (a new file, 0600).
    #[arg(long, short, value_name = "FILE", conflicts_with = "reader")]
    output: Option<PathBuf>,
}

/// The service-centre and bank flows.
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
    /// At the bank: set a new PIN of the financial application (PIN RELOAD 80 5E 00 00,
    /// DPRK; software keys).
    BankPinReload,
    /// At the bank, on a loss report: block the financial application for now (84 1E 00 00,
    /// DAMK; software keys).
    BankBlock,
    /// At the bank: lift that temporary block (84 18 00 00, DAMK; software keys).
    BankUnblock,
    /// A new card for the same holder: new serial and card number, keys re-derived. A virtual
    /// card: writes the new card's profile (--output). A card in a reader: personalises it
    /// as the new card (EF05 after external authentication with UK 04).
    Reissue,
}

impl CardAction {
    /// The financial application's flows (software keys only).
    fn is_bank(self) -> bool {
        matches!(
            self,
            Self::BankPinReload | Self::BankBlock | Self::BankUnblock
        )
    }
}

/// `--trace`: the lines on stderr.
fn trace_sink() -> harness::transport::Sink {
    Box::new(|line| eprintln!("{line}"))
}

impl CardAction {
    /// The action as typed on the command line.
    fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::PinReset => "pin-reset",
            Self::PinUnblock => "pin-unblock",
            Self::BlockApp => "block-app",
            Self::BlockCard => "block-card",
            Self::BankPinReload => "bank-pin-reload",
            Self::BankBlock => "bank-block",
            Self::BankUnblock => "bank-unblock",
            Self::Reissue => "reissue",
        }
    }
}

impl CardArgs {
    /// The card: the virtual one (on `--state` when given) or the one in the reader.
    fn open_card(&self, label: &str) -> anyhow::Result<Box<dyn Transport>> {
        let card: Box<dyn Transport> = match &self.state {
            Some(path) => {
                let profile = Profile::load(self.target.profile_name())?;
                Box::new(SimTransport::durable(&profile, path)?)
            }
            None => self.target.open(None)?,
        };
        Ok(self.traced(card, label))
    }

    fn traced(&self, t: Box<dyn Transport>, label: &str) -> Box<dyn Transport> {
        if self.trace {
            Box::new(Traced::new(t, label, trace_sink()))
        } else {
            t
        }
    }

    /// The software keys: `--keys`, else the virtual card's profile's.
    fn software_keys(&self, card: &dyn Transport) -> anyhow::Result<Option<Keys>> {
        Ok(self
            .target
            .psam_keys()?
            .or_else(|| card.profile().map(Keys::from_profile)))
    }

    /// The terminal's security operations for the card behind `card`: a PSAM card when
    /// asked for (not for the bank's flows), else software keys.
    fn psam_for(
        &self,
        card: &mut dyn Transport,
        source: Option<&PsamSource>,
        keys: Option<&Keys>,
    ) -> anyhow::Result<Option<Psam>> {
        let atr = card.atr()?;
        match source {
            Some(source) if !self.action.is_bank() => {
                let info = CardInfo::read(card, self.psam.region.as_deref())
                    .context("the PSAM needs the card's cipher and region")?;
                let psam = self.traced(source.open()?, "psam");
                let module = PsamCard::open(psam, &source.describe(), info)?;
                Ok(Some(Psam::with_crypto(Box::new(module), keys, &atr)?))
            }
            _ => Ok(keys.map(|k| Psam::new(k, &atr)).transpose()?),
        }
    }

    /// Why a flow other than `read` cannot run without keys, and what to give.
    fn no_keys(&self, card: &dyn Transport) -> anyhow::Error {
        anyhow::anyhow!(
            "{} on {}: the card obeys only the issuer's keys: give --keys FILE \
             (vectors/keys/gen3.toml holds the built-in gen3 card's keys; README, \"Keys \
             files\"){}",
            self.action.name(),
            card.describe(),
            if self.action.is_bank() {
                " (the bank's flows use software keys)"
            } else {
                ", or a PSAM card with --psam or --psam-reader"
            }
        )
    }

    pub(super) fn run(self) -> anyhow::Result<Outcome> {
        let mut card = self.open_card("card")?;
        let keys = self.software_keys(card.as_ref())?;
        let source = self.psam.source()?;
        let psam = self.psam_for(card.as_mut(), source.as_ref(), keys.as_ref())?;
        if self.action == CardAction::Read {
            // What is public is read without keys; the rest is said to be skipped.
            let mut psam = psam;
            let holder = service::read_holder(card.as_mut(), psam.as_mut(), self.unchecked)?;
            // The data read is checked against the specification too (`check`, without the
            // sub-applications: `card read` verifies no PIN).
            let options = harness::check::CheckOptions {
                pin: None,
                unchecked: self.unchecked,
            };
            let report = harness::check::check_card(card.as_mut(), psam.as_mut(), &options)?;
            if self.json {
                let mut doc = serde_json::to_value(&holder)?;
                if let Some(map) = doc.as_object_mut() {
                    map.insert("findings".into(), serde_json::to_value(&report.findings)?);
                }
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                print_holder(&holder);
                for f in &report.findings {
                    println!("finding      {f}");
                }
            }
            return Ok(Outcome::of(report.findings.is_empty()));
        }
        let Some(mut psam) = psam else {
            return Err(self.no_keys(card.as_ref()));
        };
        let check = !self.unchecked;
        let t = card.as_mut();
        let done = match self.action {
            CardAction::Read => return Ok(Outcome::Passed), // answered above, keys or not
            CardAction::PinReset => {
                let pin = self.new_pin.clone().unwrap_or_default();
                let ops = [
                    Operation::ExternalAuthenticate(ExtAuth::key(ssse::PUK_KEY)),
                    Operation::PinReset(pin),
                ];
                flow(service::run_ops(t, &mut psam, &ops, check)).map_err(|e| {
                    match e.downcast_ref::<service::FlowError>() {
                        Some(service::FlowError::Refused {
                            sw: apdu::StatusWord::WrongData,
                            ..
                        }) => e.context(
                            "the card refused the new PIN: a PIN is decimal digits, as many as \
                             the card allows (4 to 16 on the built-in cards)",
                        ),
                        _ => e,
                    }
                })?;
                "the SSSE PIN is reset and its counter restored"
            }
            CardAction::PinUnblock => {
                let ops = [
                    Operation::ExternalAuthenticate(ExtAuth::key(ssse::PUK_KEY)),
                    Operation::PinUnblock,
                ];
                flow(service::run_ops(t, &mut psam, &ops, check))?;
                "the SSSE PIN's counter is restored"
            }
            CardAction::BlockApp | CardAction::BlockCard if !self.yes => {
                anyhow::bail!("blocking is permanent on a real card: add --yes to confirm")
            }
            CardAction::BlockApp => {
                let ops = [Operation::BlockApplication];
                flow(service::run_ops(t, &mut psam, &ops, check))?;
                "the SSSE is blocked"
            }
            CardAction::BlockCard => {
                flow(service::run_ops(
                    t,
                    &mut psam,
                    &[Operation::BlockCard],
                    check,
                ))?;
                "the card is blocked"
            }
            CardAction::BankPinReload => {
                let pin = self.new_pin.clone().unwrap_or_default();
                let ops = [Operation::PbocPinReload(pin)];
                service::run_bank_ops(t, &mut psam, &ops)?;
                "the financial application's PIN is reloaded"
            }
            CardAction::BankBlock => {
                let ops = [Operation::PbocBlockApplication(false)];
                service::run_bank_ops(t, &mut psam, &ops)?;
                "the financial application is blocked until its unblock (SELECT answers 6283)"
            }
            CardAction::BankUnblock => {
                let ops = [Operation::PbocUnblockApplication];
                service::run_bank_ops(t, &mut psam, &ops)?;
                "the financial application is unblocked"
            }
            CardAction::Reissue => {
                let target = card.describe();
                return self.reissue(card, psam, source.as_ref(), &target);
            }
        };
        println!("{}: {done} (9000)", card.describe());
        Ok(Outcome::Passed)
    }

    /// What changes on the new card, from the options and the old card's EF05.
    fn changes(&self, atr: &[u8], ef05: &[(u8, Vec<u8>)]) -> anyhow::Result<Reissue> {
        let old_number = ef05
            .iter()
            .find(|(tag, _)| *tag == 0x07)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default();
        let card_number = match &self.card_number {
            Some(n) => reissue::card_number(n)?,
            None => reissue::next_card_number(&old_number)?,
        };
        let (issue_date, expiry_date) = reissue::dates(
            self.issue_date.as_deref(),
            self.expiry_date.as_deref(),
            ef05,
        )?;
        Ok(Reissue {
            serial: match &self.serial {
                Some(s) => reissue::serial(s)?,
                None => reissue::next_serial(atr),
            },
            card_number,
            issue_date,
            expiry_date,
        })
    }

    /// `reissue`: on a reader, personalise the card in it; on the virtual card, write the
    /// profile of the new card and check it.
    fn reissue(
        &self,
        mut card: Box<dyn Transport>,
        mut psam: Psam,
        source: Option<&PsamSource>,
        target: &str,
    ) -> anyhow::Result<Outcome> {
        let t = card.as_mut();
        let atr = t.atr()?;
        if self.target.on_reader() {
            service::select_ssse(t)?;
            let ef05 = service::read_records(t, 0x05)?;
            let r = self.changes(&atr, &ef05)?;
            flow(reissue::personalise(t, &mut psam, &r))?;
            println!(
                "{target}: personalised as the holder's new card: card number {}, card \
                 identification code with the ATR's serial {} (9000)",
                r.card_number,
                apdu::hex_compact(atr.last_chunk::<4>().unwrap_or(&[0; 4]))
            );
            return Ok(Outcome::Passed);
        }
        let output = self.output.as_deref().ok_or_else(|| {
            anyhow::anyhow!("reissue of a virtual card: give --output FILE, the new card's profile")
        })?;
        // The old card: the keys checked, then its EF05 and EF06 as they are now.
        service::select_ssse(t)?;
        if !self.unchecked {
            flow(service::check_keys(t, &mut psam))?;
        }
        let ef05 = service::read_records(t, 0x05)?;
        let checked = (!self.unchecked).then_some(true);
        let ef06 = service::read_ef06(t, &mut psam, checked)?;
        let r = self.changes(&atr, &ef05)?;
        let text = profile_text(self.target.profile_name())?;
        let new_text =
            reissue::reissued_profile(&text, self.target.profile_name(), &ef05, &ef06, &r)?;
        let new_profile = Profile::parse(&new_text, &output.display().to_string())
            .context("the new card's profile does not load")?;
        // The new card: its keys (derived from its new ATR) match the PSAM's or the keys
        // file's, and it holds the holder's data.
        let mut new_card = self.traced(Box::new(SimTransport::new(&new_profile)), "new card");
        // A keys file's master keys are resolved for the new ATR; without one, the new
        // profile's keys are the software keys.
        let new_keys = self
            .target
            .psam_keys()?
            .or_else(|| Some(Keys::from_profile(&new_profile)));
        let mut new_psam = self
            .psam_for(new_card.as_mut(), source, new_keys.as_ref())?
            .ok_or_else(|| self.no_keys(new_card.as_ref()))?;
        service::select_ssse(new_card.as_mut())?;
        flow(service::check_keys(new_card.as_mut(), &mut new_psam))
            .context("the new card's keys")?;
        let new_ef06 = service::read_ef06(new_card.as_mut(), &mut new_psam, Some(true))?;
        if new_ef06 != ef06 {
            anyhow::bail!("the new card does not hold the holder's EF06");
        }
        write_new(output, &new_text)?;
        println!(
            "{target}: reissued as {}: serial {} (was {}), card number {} (was {}); the keys \
             are derived from the new ATR ({}); serve it with `ssc-card serve --profile {}`",
            output.display(),
            apdu::hex_compact(&r.serial),
            apdu::hex_compact(atr.last_chunk::<4>().unwrap_or(&[0; 4])),
            r.card_number,
            ef05.iter()
                .find(|(tag, _)| *tag == 0x07)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default(),
            new_psam.describe(),
            output.display()
        );
        Ok(Outcome::Passed)
    }
}

/// A flow's result; without an IRK, the way to go on.
fn flow<T>(result: Result<T, FlowError>) -> anyhow::Result<T> {
    match result {
        Err(e @ FlowError::CannotCheckKeys { .. }) => Err(anyhow::anyhow!(
            "{e}: add the IRK to the keys file, or give --unchecked to go on without the check"
        )),
        other => Ok(other?),
    }
}

/// The text of a profile: a built-in's, or the file's.
fn profile_text(name: &str) -> anyhow::Result<String> {
    if let Some(text) = applet_sim::profile::builtin_text(name) {
        return Ok(text.to_owned());
    }
    applet_sim::input::read_text(Path::new(name), applet_sim::profile::MAX_PROFILE_BYTES).map_err(
        |e| {
            anyhow::anyhow!(
                "{}: cannot read the profile: {}",
                e.path.display(),
                e.problem
            )
        },
    )
}

/// Writes a new private file (never over an existing one, never through a symlink).
fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    // Private (0600: the profile holds master keys and personal data), written to a
    // temporary file beside it that then takes the name by a hard link: an existing name,
    // a planted symlink included, is refused, never opened.
    applet_sim::write_private(path, text.as_bytes(), false)
        .with_context(|| format!("{}: cannot create the new profile", path.display()))
}

/// The holder's data as text; what the card returned is printed with control characters
/// escaped, so a card cannot drive the terminal (`--json` escapes by itself).
fn print_holder(h: &HolderData) {
    use applet_sim::message::printable;
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
        println!("{label:<26}{}", printable(value));
    }
    let authentic = match h.card_authentic {
        Some(true) => "yes (INTERNAL AUTHENTICATE with the IRK)",
        Some(false) => "NO: the card's cryptogram does not match the IRK",
        None => "not checked (needs the IRK, key 00: see below)",
    };
    println!("{:<26}{authentic}", "card authentic");
    println!("iReadCardBas              {}", printable(&h.pipe_line()));
    for what in &h.skipped {
        println!("{:<26}{what}", "skipped, no key");
    }
    if !h.skipped.is_empty() {
        println!(
            "{:<26}give --keys FILE with those keys (vectors/keys/gen3.toml: the built-in gen3 \
             card's)",
            ""
        );
    }
}
