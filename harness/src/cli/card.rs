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

impl CardArgs {
    pub(super) fn run(self) -> anyhow::Result<Outcome> {
        let mut transport = self.target.open(None)?;
        let keys = self
            .target
            .psam_keys()?
            .or_else(|| transport.profile().map(Keys::from_profile))
            .ok_or_else(|| {
                anyhow::anyhow!("a card in a reader needs the PSAM's keys: give --keys FILE")
            })?;
        let atr = transport.atr()?;
        let mut psam = Psam::new(&keys, &atr)?;
        let ops = match self.action {
            CardAction::Read => {
                let holder = service::read_holder(transport.as_mut(), &mut psam)?;
                if self.json {
                    println!("{}", serde_json::to_string_pretty(&holder)?);
                } else {
                    print_holder(&holder);
                }
                return Ok(Outcome::Passed);
            }
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
        let transcripts = service::run_ops(transport.as_mut(), &mut psam, &ops)?;
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
        None => "not checked (no IRK in the keys)",
    };
    println!("{:<26}{authentic}", "card authentic");
    println!("iReadCardBas              {}", h.pipe_line());
}
