//! Before the first case on a reader: is the card in the reader the declared one, in its
//! declared state? A suite run on the wrong card, or on a card whose PIN counters are already
//! down, would lock it; so the run stops (exit 2) before any case when
//!
//! 1. the ATR differs from the declaration's;
//! 2. a declared PIN's counter, queried with VERIFY without data (`00 20 00 REF`, which
//!    spends no try: docs/CARD.md §4.1, §5.1), is below the declared tries;
//! 3. a declared PIN is not the card's: VERIFY with it answers `63Cx`. That spends one try;
//!    with `--restore-cmd` the card is restored at once and the counter checked again, so
//!    the card's counters end as they began.
//!
//! 4. the keys (declared, or `--keys`) are not the card's: INTERNAL AUTHENTICATE, which
//!    spends no try, is checked with the IRK (keys without an IRK are not checked).
//!
//! Checks 2 and 3 go PIN by PIN, so a wrong declaration costs at most one try of one PIN; a
//! PIN with a single try left is not verified (that try would block it). Keys without an
//! IRK cannot be checked: [`Checked::keys`] says so, and the run then leaves out the cases
//! that use them. During the run, the first case answered `63Cx` or `6983` unexpectedly
//! stops it ([`crate::runner::Options::stop_on_spent_try`]).

use std::fmt;

use applet_sim::profile::{DfDef, PinDef};

use crate::declaration::Declaration;
use crate::psam::{Keys, Psam};
use crate::service::{self, FlowError};
use crate::transport::{Transport, TransportError, exchange};

/// Why a reader's card must not be run.
#[derive(Debug)]
pub enum Refusal {
    /// The ATR is not the declared one.
    AtrDiffers {
        /// The card's.
        card: Vec<u8>,
        /// The declaration's.
        declared: Vec<u8>,
    },
    /// A PIN has fewer tries left than declared.
    CounterLow {
        /// Which PIN.
        pin: String,
        /// Tries left on the card.
        left: u8,
        /// Tries the declaration says it has.
        declared: u8,
    },
    /// The declared PIN is not the card's.
    PinDiffers {
        /// Which PIN.
        pin: String,
        /// Tries left after the one VERIFY.
        left: u8,
        /// True when the card was restored (`--restore-cmd`) and its counter is back.
        restored: bool,
    },
    /// The keys do not match the card (INTERNAL AUTHENTICATE).
    KeysDiffer {
        /// What did not match.
        detail: String,
    },
    /// The card answered a selection or query in a way no conforming card does.
    Unexpected {
        /// What was sent, and for what.
        step: String,
        /// The answer.
        answer: Vec<u8>,
    },
    /// The reader failed.
    Transport(TransportError),
}

impl From<TransportError> for Refusal {
    fn from(e: TransportError) -> Self {
        Self::Transport(e)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AtrDiffers { card, declared } => write!(
                f,
                "the card's ATR {} is not the declared {}: is this the declared card? \
                 (--profile names its declaration)",
                apdu::hex_spaced(card),
                apdu::hex_spaced(declared)
            ),
            Self::CounterLow {
                pin,
                left,
                declared,
            } => write!(
                f,
                "the {pin} has {left} tries left, the declaration says {declared}: a wrong \
                 value was tried before, and the suite could block it; restore the card (or \
                 declare `tries = {left}`) first"
            ),
            Self::PinDiffers {
                pin,
                left,
                restored: true,
            } => write!(
                f,
                "the declared {pin} is not the card's (VERIFY answered 63C{left:X}); the card \
                 was restored and its counter is back: correct the declaration"
            ),
            Self::PinDiffers {
                pin,
                left,
                restored: false,
            } => write!(
                f,
                "the declared {pin} is not the card's (VERIFY answered 63C{left:X}: one try \
                 spent, {left} left); correct the declaration, and restore the counter (the \
                 right PIN, or the issuer's unblock) before running again"
            ),
            Self::KeysDiffer { detail } => write!(
                f,
                "the keys are not the card's ({detail}; INTERNAL AUTHENTICATE, no try spent): \
                 correct the declaration's keys or --keys"
            ),
            Self::Unexpected { step, answer } => write!(
                f,
                "{step} answered {}: the card does not answer as declared",
                apdu::hex_spaced(answer)
            ),
            Self::Transport(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Refusal {}

/// What the preflight could check and what it could not (the card passed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// True when the keys were checked against the card (INTERNAL AUTHENTICATE with the
    /// IRK); false when none were given or they hold no IRK.
    pub keys: bool,
    /// What was left unchecked, and why (for the user: a PIN with one try left, keys
    /// without an IRK).
    pub notes: Vec<String>,
}

/// Checks the card behind `transport` against `declaration` (module docs). `can_restore`:
/// [`Transport::fresh_card`] restores the card's initial state (a reader with
/// `--restore-cmd`, or the virtual card). Leaves the card reset.
///
/// # Errors
/// [`Refusal`], why the run must not start.
pub fn check(
    transport: &mut dyn Transport,
    declaration: &Declaration,
    can_restore: bool,
    keys: Option<&Keys>,
) -> Result<Checked, Refusal> {
    let mut checked = Checked::default();
    let card = transport.reset()?;
    let declared = &declaration.profile.atr;
    if card != *declared {
        return Err(Refusal::AtrDiffers {
            card,
            declared: declared.clone(),
        });
    }
    for pin in &declaration.profile.pins {
        let name = pin_name(declaration, pin);
        let left = tries_left(transport, declaration, pin)?;
        if left < pin.tries {
            return Err(Refusal::CounterLow {
                pin: name,
                left,
                declared: pin.tries,
            });
        }
        if left <= 1 {
            if left == 1 {
                checked.notes.push(format!(
                    "the {name} was not verified: its one try left would block it were the \
                     declared value wrong"
                ));
            }
            continue;
        }
        let mut verify = vec![0x00, 0x20, 0x00, pin.reference];
        let data = declaration.pin_data(pin);
        verify.push(u8::try_from(data.len()).unwrap_or(u8::MAX));
        verify.extend(data);
        let answer = send(transport, &verify)?;
        match sw(&answer) {
            0x9000 => {}
            sw if sw & 0xFFF0 == 0x63C0 => {
                let left = low_nibble(sw);
                let restored = can_restore && {
                    transport.fresh_card()?;
                    tries_left(transport, declaration, pin)? == pin.tries
                };
                return Err(Refusal::PinDiffers {
                    pin: name,
                    left,
                    restored,
                });
            }
            _ => {
                return Err(Refusal::Unexpected {
                    step: format!("VERIFY of the {name}"),
                    answer,
                });
            }
        }
    }
    if let Some(keys) = keys {
        checked.keys = check_keys(transport, keys)?;
        if !checked.keys {
            checked.notes.push(
                "the keys hold no IRK (key 00), so they cannot be checked without spending a \
                 key try: the cases that use them are not run"
                    .into(),
            );
        }
    }
    transport.reset()?;
    Ok(checked)
}

/// The keys checked with INTERNAL AUTHENTICATE on the SSSE (none is spent): true when
/// they are the card's, false when they cannot be checked (no IRK).
fn check_keys(transport: &mut dyn Transport, keys: &Keys) -> Result<bool, Refusal> {
    let atr = transport.reset()?;
    let flow = Psam::new(keys, &atr)
        .map_err(FlowError::from)
        .and_then(|mut psam| {
            service::select_ssse(transport)?;
            service::check_keys(transport, &mut psam)
        });
    match flow {
        Ok(()) => Ok(true),
        Err(FlowError::CannotCheckKeys { .. }) => Ok(false),
        Err(FlowError::Psam(crate::psam::PsamError::Transport(e))) => Err(Refusal::Transport(e)),
        Err(e) => Err(Refusal::KeysDiffer {
            detail: e.to_string(),
        }),
    }
}

/// The PIN as messages name it: "SSSE PIN (reference 00)".
fn pin_name(declaration: &Declaration, pin: &PinDef) -> String {
    let app = declaration
        .profile
        .dfs
        .iter()
        .find(|d| d.id == pin.parent)
        .map_or(pin.parent.as_str(), |d| d.id.as_str());
    format!(
        "{} PIN (reference {:02X})",
        applet_sim::message::printable(app),
        pin.reference
    )
}

/// The PIN's tries left, by VERIFY without data after a reset and the selection of its DF.
fn tries_left(
    transport: &mut dyn Transport,
    declaration: &Declaration,
    pin: &PinDef,
) -> Result<u8, Refusal> {
    transport.reset()?;
    select_df(transport, declaration, &pin.parent)?;
    let answer = send(transport, &[0x00, 0x20, 0x00, pin.reference])?;
    match sw(&answer) {
        0x6983 => Ok(0),
        sw if sw & 0xFFF0 == 0x63C0 => Ok(low_nibble(sw)),
        _ => Err(Refusal::Unexpected {
            step: format!("VERIFY without data of the {}", pin_name(declaration, pin)),
            answer,
        }),
    }
}

/// Selects the DF labelled `label` from the MF: its top-level application by name (else
/// FID), then each DF below by FID (else name), without FCI.
fn select_df(
    transport: &mut dyn Transport,
    declaration: &Declaration,
    label: &str,
) -> Result<(), Refusal> {
    let mut path: Vec<&DfDef> = Vec::new();
    let mut at = label;
    while let Some(df) = declaration.profile.dfs.iter().find(|d| d.id == at) {
        if path.iter().any(|p| p.id == df.id) {
            break;
        }
        path.push(df);
        at = &df.parent;
    }
    for (depth, df) in path.iter().rev().enumerate() {
        let by_name = |name: &[u8]| crate::card::select_by_name(name, false).unwrap_or_default();
        let by_fid = |fid: u16| {
            let [hi, lo] = fid.to_be_bytes();
            vec![0x00, 0xA4, 0x00, 0x0C, 0x02, hi, lo]
        };
        let command = match (depth, &df.name, df.fid) {
            (0, Some(name), _) | (_, Some(name), None) => by_name(name),
            (_, _, Some(fid)) => by_fid(fid),
            (_, None, None) => continue,
        };
        let answer = send(transport, &command)?;
        if sw(&answer) != 0x9000 {
            return Err(Refusal::Unexpected {
                step: format!("SELECT of {}", applet_sim::message::printable(&df.id)),
                answer,
            });
        }
    }
    Ok(())
}

/// `command` as a reader sends it (T=0 follow-ups included).
fn send(transport: &mut dyn Transport, command: &[u8]) -> Result<Vec<u8>, TransportError> {
    exchange(transport, command, &mut Vec::new())
}

fn sw(answer: &[u8]) -> u16 {
    match answer {
        [.., a, b] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    }
}

fn low_nibble(sw: u16) -> u8 {
    u8::try_from(sw & 0x0F).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use applet_sim::{Card, Profile};

    use super::*;
    use crate::transport::SimTransport;

    fn declaration(text: &str) -> Declaration {
        Declaration::new("t", Profile::parse(text, "t").unwrap())
    }

    fn gen3_text() -> String {
        applet_sim::profile::builtin_text("gen3")
            .unwrap()
            .to_owned()
    }

    /// The card a reader holds: built from `card`, checked against `declared`.
    fn run(
        card: &str,
        declared: &str,
        can_restore: bool,
    ) -> (Result<Checked, Refusal>, SimTransport) {
        let mut sim = SimTransport::new(&Profile::parse(card, "card").unwrap());
        let d = declaration(declared);
        let keys = Keys::from_profile(&d.profile);
        let result = check(&mut sim, &d, can_restore, Some(&keys));
        (result, sim)
    }

    fn ssse_tries(sim: &mut SimTransport) -> Vec<u8> {
        sim.reset().unwrap();
        send(sim, &hex("00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF")).unwrap();
        send(sim, &hex("00200000")).unwrap()
    }

    fn hex(s: &str) -> Vec<u8> {
        apdu::parse_hex(s).unwrap()
    }

    #[test]
    fn the_declared_card_passes() {
        let g = gen3_text();
        let checked = run(&g, &g, false).0.unwrap();
        assert!(checked.keys && checked.notes.is_empty(), "{checked:?}");
        let gen2 = applet_sim::profile::builtin_text("gen2").unwrap();
        assert!(run(gen2, gen2, false).0.is_ok());
    }

    #[test]
    fn another_atr_is_refused_before_any_pin() {
        let g = gen3_text();
        let other = g.replacen("00 1C 9B 25", "00 1C 9B 26", 1);
        let (r, mut sim) = run(&g, &other, false);
        assert!(matches!(r, Err(Refusal::AtrDiffers { .. })), "{r:?}");
        assert_eq!(ssse_tries(&mut sim), hex("63C3"));
    }

    #[test]
    fn a_low_counter_is_refused_and_nothing_spent() {
        let g = gen3_text();
        let card = g.replacen(
            "max_tries = 3\nunblock = \"issuer-key\"",
            "max_tries = 3\ntries = 2\nunblock = \"issuer-key\"",
            1,
        );
        assert_ne!(card, g);
        let (r, mut sim) = run(&card, &g, false);
        assert!(
            matches!(
                r,
                Err(Refusal::CounterLow {
                    left: 2,
                    declared: 3,
                    ..
                })
            ),
            "{r:?}"
        );
        assert_eq!(ssse_tries(&mut sim), hex("63C2"));
    }

    #[test]
    fn a_wrong_pin_costs_one_try_or_none_with_restore() {
        let g = gen3_text();
        let card = g.replacen(
            "value = \"123456\"\nmax_tries = 3",
            "value = \"654321\"\nmax_tries = 3",
            1,
        );
        assert_ne!(card, g);
        let (r, mut sim) = run(&card, &g, false);
        assert!(
            matches!(
                r,
                Err(Refusal::PinDiffers {
                    left: 2,
                    restored: false,
                    ..
                })
            ),
            "{r:?}"
        );
        assert_eq!(ssse_tries(&mut sim), hex("63C2"));
        let (r, mut sim) = run(&card, &g, true);
        assert!(
            matches!(r, Err(Refusal::PinDiffers { restored: true, .. })),
            "{r:?}"
        );
        assert_eq!(ssse_tries(&mut sim), hex("63C3"));
    }

    #[test]
    fn keys_that_are_not_the_cards_are_refused_before_any_try() {
        let g = gen3_text();
        let other = g.replacen(
            "534D342D49524B2D4E4154494F4E414C",
            "534D342D49524B2D4E4154494F4E414D",
            1,
        );
        assert_ne!(other, g);
        let (r, mut sim) = run(&g, &other, false);
        assert!(matches!(r, Err(Refusal::KeysDiffer { .. })), "{r:?}");
        assert_eq!(
            sim.card().counters(),
            Card::new(&Profile::parse(&g, "g").unwrap()).counters()
        );
        assert_eq!(ssse_tries(&mut sim), hex("63C3"));
    }

    #[test]
    fn refusals_name_the_pin() {
        let g = gen3_text();
        let card = g.replacen(
            "max_tries = 3\nunblock = \"issuer-key\"",
            "max_tries = 3\ntries = 2\nunblock = \"issuer-key\"",
            1,
        );
        let (r, _) = run(&card, &g, false);
        match r {
            Err(Refusal::CounterLow { pin, .. }) => assert_eq!(pin, "SSSE PIN (reference 00)"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_blocked_pin_declared_blocked_passes_and_is_not_verified() {
        let g = gen3_text();
        let blocked = g.replacen(
            "max_tries = 3\nunblock = \"issuer-key\"",
            "max_tries = 3\ntries = 0\nunblock = \"issuer-key\"",
            1,
        );
        assert_ne!(blocked, g);
        let (r, mut sim) = run(&blocked, &blocked, false);
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(ssse_tries(&mut sim), hex("6983"));
    }

    #[test]
    fn a_pin_on_its_last_try_is_not_verified() {
        let g = gen3_text();
        let one = g.replacen(
            "max_tries = 3\nunblock = \"issuer-key\"",
            "max_tries = 3\ntries = 1\nunblock = \"issuer-key\"",
            1,
        );
        // The declared value is wrong, but its last try is not risked.
        let wrong = one.replacen("value = \"123456\"", "value = \"654321\"", 1);
        let (r, mut sim) = run(&one, &wrong, false);
        let checked = r.unwrap();
        assert!(
            checked.notes.iter().any(|n| n.contains("one try left")),
            "{checked:?}"
        );
        assert_eq!(ssse_tries(&mut sim), hex("63C1"));
    }

    #[test]
    fn answers_no_conforming_card_gives_are_refused() {
        let g = gen3_text();
        // A declared PIN the card's format refuses: VERIFY answers neither 9000 nor 63Cx.
        let card = g.replacen(
            "min_digits = 4\nmax_digits = 16",
            "min_digits = 6\nmax_digits = 16",
            1,
        );
        let short = g.replacen("value = \"123456\"", "value = \"1234\"", 1);
        assert!(card != g && short != g);
        let (r, mut sim) = run(&card, &short, false);
        assert!(matches!(r, Err(Refusal::Unexpected { .. })), "{r:?}");
        assert_eq!(ssse_tries(&mut sim), hex("63C3"));
        // A declared PIN the card does not have: its query answers 6A88.
        let extra = format!(
            "{g}\n[[pin]]\nparent = \"SSSE\"\nreference = 0x01\nencoding = \"bcd\"\n\
             min_digits = 4\nmax_digits = 8\nvalue = \"1111\"\nmax_tries = 3\nunblock = \"never\"\n"
        );
        let (r, _) = run(&g, &extra, false);
        match r {
            Err(Refusal::Unexpected { step, answer }) => {
                assert!(step.starts_with("VERIFY without data"), "{step}");
                assert_eq!(answer, hex("6A88"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_pin_below_an_application_is_reached_through_it() {
        // A DF with only a FID under the SSSE, holding a PIN: SELECT SSSE by name, then the
        // DF by FID.
        let g = gen3_text();
        let sub = format!(
            "{g}\n[[df]]\nid = \"SUB\"\nparent = \"SSSE\"\nfid = \"DF09\"\n\
             [[pin]]\nparent = \"SUB\"\nreference = 0x01\nencoding = \"bcd\"\n\
             min_digits = 4\nmax_digits = 8\nvalue = \"1111\"\nmax_tries = 3\nunblock = \"never\"\n"
        );
        let (r, _) = run(&sub, &sub, false);
        assert!(r.is_ok(), "{r:?}");
    }

    #[test]
    fn keys_without_an_irk_are_reported_unchecked() {
        let g = gen3_text();
        let no_irk = g.replacen(
            "[[key]]\nparent = \"SSSE\"\nid = 0x00             # IRK, internal authentication\n\
             version = 1\nmaster = \"534D342D49524B2D4E4154494F4E414C\"   # \"SM4-IRK-NATIONAL\", PSAM key 08\n\
             diversify = [\"province\", \"city\", \"card\"]\n",
            "",
            1,
        );
        assert_ne!(no_irk, g);
        let (r, mut sim) = run(&g, &no_irk, false);
        let checked = r.unwrap();
        assert!(!checked.keys);
        assert!(
            checked.notes.iter().any(|n| n.contains("no IRK")),
            "{checked:?}"
        );
        assert_eq!(ssse_tries(&mut sim), hex("63C3"));
    }

    #[test]
    fn messages_say_what_to_do() {
        let m = Refusal::CounterLow {
            pin: "SSSE PIN (reference 00)".into(),
            left: 1,
            declared: 3,
        }
        .to_string();
        assert!(m.contains("1 tries left") && m.contains("declaration says 3"));
    }
}
