//! `ssc-harness tear`: power cuts at every write (docs/SECURITY.md "Persistence and power loss").
//!
//! The conformance suite runs against a card on an in-memory state file. Before each command
//! really runs, a copy of the card runs it once to count its write operations; then, for each
//! write and each of the three cut models (the write dropped, the write torn, unsynced writes
//! lost), another copy runs it with the power cut there, the card is reopened from what the
//! medium holds, and the reopened state is checked: it opens; no PIN or key counter is higher
//! than before the command unless the command's success was committed; every datum is its
//! old or its new value; no security status survives. Copies compact after every command, so
//! the atomic rewrite of the state file is torn too.

use std::collections::BTreeMap;

use applet_sim::testing::{CutMode, MemMedium};
use applet_sim::{Card, Profile};
use serde::Serialize;

use crate::transport::{Transport, TransportError};

/// A state that broke a rule after a power cut.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Violation {
    /// The command (hex).
    pub command: String,
    /// The write operation cut (0-based within the command).
    pub write: usize,
    /// The cut model.
    pub mode: &'static str,
    /// What was wrong.
    pub problem: String,
}

/// The counts of a tearing run (`--json`: these fields).
#[derive(Clone, Debug, Default, Serialize)]
pub struct TearReport {
    /// Cases run.
    pub cases: usize,
    /// Cases whose expectations held (the card answers as usual on durable storage).
    pub cases_passed: usize,
    /// Cases that failed.
    pub cases_failed: usize,
    /// Wall time of the run.
    pub seconds: f64,
    /// Commands sent.
    pub commands: usize,
    /// Write operations seen (each cut in three ways).
    pub write_points: usize,
    /// Power cuts made and checked.
    pub tears: usize,
    /// Write operations by write point name.
    pub by_point: BTreeMap<&'static str, usize>,
    /// Rule violations found (must be none).
    pub violations: Vec<Violation>,
}

/// A transport whose card lives on an in-memory state file and which tears power at every
/// write of every command before running it for real.
pub struct TearTransport {
    /// The profile of cases without a `profile` directive.
    base: Profile,
    profile: Profile,
    medium: MemMedium,
    card: Card,
    /// What the run found.
    pub report: TearReport,
}

impl TearTransport {
    /// A fresh card of `profile` on an empty in-memory state file.
    ///
    /// # Errors
    /// [`TransportError`] if the initial state cannot be written (it always can in memory).
    pub fn new(profile: &Profile) -> Result<Self, TransportError> {
        let profile = &seeded(profile.clone());
        let medium = MemMedium::new();
        let card = open(profile, &medium)?;
        Ok(Self {
            base: profile.clone(),
            profile: profile.clone(),
            medium,
            card,
            report: TearReport::default(),
        })
    }

    /// A copy of the card on a copy of its medium (compacting after every command).
    fn fork(&self) -> (Card, MemMedium) {
        let medium = self.medium.fork();
        let mut card = self.card.volatile_copy();
        card.resume_on(&self.profile, Box::new(medium.clone()));
        card.compact_every(1);
        (card, medium)
    }

    fn tear(&mut self, apdu: &[u8]) {
        let (mut probe, probe_medium) = self.fork();
        probe.transmit(apdu);
        let writes = probe_medium.writes();
        for point in probe.take_write_log() {
            *self.report.by_point.entry(point).or_default() += 1;
        }
        self.report.write_points += writes;
        for write in 0..writes {
            for mode in CutMode::ALL {
                let (mut card, medium) = self.fork();
                medium.cut_at(write, mode);
                card.transmit(apdu);
                self.report.tears += 1;
                let image = MemMedium::with_bytes(medium.after_power_cut());
                let problems = match Card::open_on(&self.profile, Box::new(image)) {
                    Ok(reopened) => reopened.power_cut_violations(&self.card, &probe),
                    Err(e) => vec![format!(
                        "the state does not reopen: {}",
                        applet_sim::message::chain(&e)
                    )],
                };
                self.report
                    .violations
                    .extend(problems.into_iter().map(|problem| Violation {
                        command: apdu::hex_compact(apdu),
                        write,
                        mode: mode.name(),
                        problem,
                    }));
            }
        }
    }
}

/// The profile with a challenge seed when it has none: each torn run is a copy of the card,
/// and a command that draws random bytes into persistent state (the PKI key pair generation
/// `80 40`, docs/CARD.md §3.7.1) must draw the same ones in every copy, or the reopened card
/// would hold a key neither the old nor the oracle's new state has.
fn seeded(mut profile: Profile) -> Profile {
    profile.options.challenge_seed.get_or_insert(0x5EED);
    profile
}

fn open(profile: &Profile, medium: &MemMedium) -> Result<Card, TransportError> {
    Card::open_on(profile, Box::new(medium.clone())).map_err(TransportError::MemoryState)
}

impl Transport for TearTransport {
    fn describe(&self) -> String {
        format!("sim ({}) on a torn state file", self.profile.source_name)
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.report.commands += 1;
        self.tear(apdu);
        Ok(self.card.transmit(apdu))
    }

    fn reset(&mut self) -> Result<Vec<u8>, TransportError> {
        Ok(self.card.reset().to_vec())
    }

    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        Ok(self.card.atr().to_vec())
    }

    fn profile(&self) -> Option<&Profile> {
        Some(&self.profile)
    }

    fn use_profile(&mut self, profile: Option<&str>) -> Result<bool, TransportError> {
        self.profile = match profile {
            None => self.base.clone(),
            Some(name) => seeded(Profile::load(name).map_err(TransportError::Profile)?),
        };
        Ok(true)
    }

    fn fresh_card(&mut self) -> Result<(), TransportError> {
        self.report.cases += 1;
        self.medium = MemMedium::new();
        self.card = open(&self.profile, &self.medium)?;
        Ok(())
    }
}
