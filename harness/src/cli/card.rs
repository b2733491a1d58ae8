//! `ssc-harness card`: service-centre flows through the software PSAM.

use applet_sim::model::keys::ssse;
use clap::Args;
use harness::psam::{Keys, Operation, Psam};
use harness::service::{self, HolderData};

use super::Outcome;
use super::target::Target;

#[derive(Args)]
pub(super) struct CardArgs {
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

impl CardAction {
    /// The action as typed on the command line.
    fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::PinReset => "pin-reset",
            Self::PinUnblock => "pin-unblock",
            Self::BlockApp => "block-app",
            Self::BlockCard => "block-card",
        }
    }
}

impl CardArgs {
    pub(super) fn run(self) -> anyhow::Result<Outcome> {
        let mut transport = self.target.open(None)?;
        let keys = self
            .target
            .psam_keys()?
            .or_else(|| transport.profile().map(Keys::from_profile));
        let atr = transport.atr()?;
        let mut psam = keys.map(|k| Psam::new(&k, &atr)).transpose()?;
        if self.action == CardAction::Read {
            // What is public is read without keys; the rest is said to be skipped.
            let holder = service::read_holder(transport.as_mut(), psam.as_mut())?;
            if self.json {
                println!("{}", serde_json::to_string_pretty(&holder)?);
            } else {
                print_holder(&holder);
            }
            return Ok(Outcome::Passed);
        }
        let mut psam = psam.ok_or_else(|| {
            anyhow::anyhow!(
                "{} on {}: the card obeys only the issuer's keys, which the software PSAM \
                 takes from a keys file: give --keys FILE (vectors/keys/gen3.toml holds the \
                 built-in gen3 card's keys; README, \"Keys files\")",
                self.action.name(),
                transport.describe()
            )
        })?;
        let ops = match self.action {
            CardAction::Read => Vec::new(), // answered above, without keys
            CardAction::PinReset => vec![
                Operation::ExternalAuthenticate(ssse::PUK_KEY),
                Operation::PinReset(self.new_pin.clone().unwrap_or_default()),
            ],
            CardAction::PinUnblock => {
                vec![
                    Operation::ExternalAuthenticate(ssse::PUK_KEY),
                    Operation::PinUnblock,
                ]
            }
            CardAction::BlockApp | CardAction::BlockCard if !self.yes => {
                anyhow::bail!("blocking is permanent on a real card: add --yes to confirm")
            }
            CardAction::BlockApp => vec![Operation::BlockApplication],
            CardAction::BlockCard => vec![Operation::BlockCard],
        };
        let transcripts =
            service::run_ops(transport.as_mut(), &mut psam, &ops).map_err(|e| match &e {
                service::FlowError::Refused {
                    sw: apdu::StatusWord::WrongData,
                    ..
                } if self.action == CardAction::PinReset => anyhow::Error::new(e).context(
                    "the card refused the new PIN: a PIN is decimal digits, as many as the card \
                     allows (4 to 16 on the built-in cards)",
                ),
                _ => anyhow::Error::new(e),
            })?;
        if self.trace {
            for (c, r) in transcripts.iter().flat_map(|t| &t.exchanges) {
                println!("> {}\n< {}", apdu::hex_compact(c), apdu::hex_compact(r));
            }
        }
        println!("{}: done (9000)", transport.describe());
        Ok(Outcome::Passed)
    }
}

fn print_holder(h: &HolderData) {
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
        None => "not checked (needs the IRK, key 00: see below)",
    };
    println!("{:<26}{authentic}", "card authentic");
    println!("iReadCardBas              {}", h.pipe_line());
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
