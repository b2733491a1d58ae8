//! Conformance of a card's data to the specification (`ssc-harness check`, issue 12): every
//! item the card holds is read and checked against the rules of docs/CARD.md, not against
//! fixed values, so any card (the virtual one, any profile, a card in a reader) can be
//! checked.
//!
//! What is checked:
//!
//! - the ATR's layout (§2) and, from its historical bytes, the region (T8-T9) and the serial
//!   (TA-TD) the card identification code must repeat;
//! - every record of the SSSE's EF05 and EF06 (§3.4) and of the sub-applications DF01-DF07
//!   (§3.5): one simple TLV, the tag the specification gives the record, the
//!   specification's length, the value's format (`an`: GBK text then `00`s; `cn`: BCD
//!   digits then `F`s), dates that exist, region codes that are plausible;
//! - the holder's identity: the citizen ID (GB 11643 check character, its birth date equal
//!   to EF06's, its region), the card number's check character, the sex, nation and card
//!   type code lists, the name in GBK, issue before expiry;
//! - the spec version against the generation the SSSE's cipher implies (§1);
//! - the financial application, when present (§3.6): PAN Luhn, dates, track 2.
//!
//! How it is read (`read.rs`): EF05 freely; EF06 through
//! [`crate::service::read_holder_records`], after external authentication with RKSSSE when
//! the card asks (a 3.0 card), with the same guards on the key's tries as `card read`;
//! the sub-applications after VERIFY of the declared SSSE PIN, but only when the PIN's
//! counter, queried without spending a try (`00 20 00 00`), is at the declared maximum.
//! What cannot be read is listed in [`CheckReport::not_checked`], never guessed.
//!
//! The rules are pure functions over bytes (`rules.rs`, `issuer.rs`, `bank.rs`), unit-tested
//! in `tests.rs`; the tables they apply are in `spec.rs`.
//!
//! ```
//! use applet_sim::Profile;
//! use harness::check::{CheckOptions, DeclaredPin, check_card};
//! use harness::psam::{Keys, Psam};
//! use harness::transport::{SimTransport, Transport};
//!
//! let profile = Profile::builtin("gen3")?;
//! let mut card = SimTransport::new(&profile);
//! // The keys open EF06 (RKSSSE), the declared PIN the sub-applications.
//! let mut psam = Psam::new(&Keys::from_profile(&profile), &card.atr()?)?;
//! let options = CheckOptions {
//!     pin: DeclaredPin::of_profile(&profile),
//!     unchecked: false,
//! };
//! let report = check_card(&mut card, Some(&mut psam), &options)?;
//! assert!(report.passed(), "{:?}", report.findings);
//! assert_eq!(report.items_checked, 91);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use applet_sim::Profile;
use applet_sim::model::{AppKind, PinEncoding, PinValue};

use crate::psam::Psam;
use crate::service::FlowError;
use crate::transport::Transport;

pub use self::cases::{as_cases, data_cases, requirement_of, unread_cases};

mod bank;
mod cases;
mod issuer;
mod items;
mod read;
mod rules;
mod spec;
mod ssse;
mod subapps;
#[cfg(test)]
mod tests;

/// One broken rule: which item, its value, the rule and where the rule is written.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The item, e.g. `EF06 tag 08 citizen ID`, `DF01 EF05 tag 21 household address`.
    pub item: String,
    /// Its value as the card holds it, printable: text for `an` items that decode, else
    /// hex (control characters escaped).
    pub value: String,
    /// The rule and how the value breaks it.
    pub rule: String,
    /// Where the rule is written, e.g. `docs/CARD.md §3.4`.
    pub clause: String,
}

impl Finding {
    /// A finding; the value made printable.
    pub(crate) fn new(
        item: impl Into<String>,
        value: impl AsRef<str>,
        rule: impl Into<String>,
        clause: &str,
    ) -> Self {
        Self {
            item: item.into(),
            value: applet_sim::message::printable(value.as_ref()),
            rule: rule.into(),
            clause: clause.to_owned(),
        }
    }
}

impl std::fmt::Display for Finding {
    /// `ITEM = VALUE: RULE (CLAUSE)`, one line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} = {:?}: {} ({})",
            self.item, self.value, self.rule, self.clause
        )
    }
}

/// What [`check_card`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// The card (the transport's description, e.g. `sim:gen3`).
    pub target: String,
    /// The card's ATR.
    pub atr: Vec<u8>,
    /// How many items were checked: the ATR, each record of the SSSE and its
    /// sub-applications, each data object of the financial application.
    pub items_checked: usize,
    /// Every broken rule: EF by EF, each record's form and format, then the item's own
    /// rules and the rules across items.
    pub findings: Vec<Finding>,
    /// What could not be read, and why (a key or the PIN missing, a PIN counter below its
    /// maximum, an application absent): not checked, not a finding.
    pub not_checked: Vec<String>,
}

impl CheckReport {
    /// True when no rule is broken.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }
}

/// The SSSE PIN as declared for the card (the profile's), for the sub-applications.
#[derive(Clone, Copy)]
pub struct DeclaredPin {
    /// The PIN.
    pub value: PinValue,
    /// Its declared try limit: VERIFY is sent only when the card's counter is at least this.
    pub max_tries: u8,
}

impl std::fmt::Debug for DeclaredPin {
    /// The PIN's value is not shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeclaredPin")
            .field("max_tries", &self.max_tries)
            .finish_non_exhaustive()
    }
}

impl DeclaredPin {
    /// The SSSE's global PIN (reference 00, BCD) of a profile, if it declares one.
    #[must_use]
    pub fn of_profile(profile: &Profile) -> Option<Self> {
        profile
            .pins
            .iter()
            .find(|p| {
                p.reference == 0x00
                    && p.encoding == PinEncoding::Bcd
                    && profile
                        .dfs
                        .iter()
                        .any(|d| d.id == p.parent && d.kind == Some(AppKind::Ssse))
            })
            .map(|p| Self {
                value: p.value,
                max_tries: p.max_tries,
            })
    }
}

/// How [`check_card`] may authenticate.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckOptions {
    /// The SSSE PIN for the sub-applications (`None`: they are not read).
    pub pin: Option<DeclaredPin>,
    /// External authentication with RKSSSE without checking the keys first with INTERNAL
    /// AUTHENTICATE (keys without an IRK), as `card read --unchecked`.
    pub unchecked: bool,
}

/// Reads the card's data and checks every item against the specification (see the module
/// documentation). `psam` gives the cryptograms for EF06 of a 3.0 card (software keys or
/// a PSAM card); without it, or without the key, EF06 is listed as not checked.
///
/// # Errors
/// [`FlowError`] when the card cannot be reached or refuses a step every reader needs
/// (SELECT of the SSSE, READ RECORD of EF05, a PSAM's refusal). Keys found not to be the
/// card's (INTERNAL AUTHENTICATE, before any key try is spent) are no error: EF06 is then
/// listed in [`CheckReport::not_checked`].
pub fn check_card(
    t: &mut dyn Transport,
    psam: Option<&mut Psam>,
    options: &CheckOptions,
) -> Result<CheckReport, FlowError> {
    let data = read::read_card(t, psam, options)?;
    let mut c = Collector::default();
    ssse::check(&mut c, &data);
    subapps::check(&mut c, &data.sub_applications);
    if let Some(bank) = &data.bank {
        bank::check(&mut c, bank);
    }
    Ok(CheckReport {
        target: t.describe(),
        atr: data.atr,
        items_checked: c.items,
        findings: c.findings,
        not_checked: data.not_checked,
    })
}

/// Findings and the count of items checked, as the checks go.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    findings: Vec<Finding>,
    items: usize,
}

impl Collector {
    /// One more item checked.
    fn count(&mut self) {
        self.items += 1;
    }

    /// A finding.
    fn add(&mut self, finding: Finding) {
        self.findings.push(finding);
    }
}
