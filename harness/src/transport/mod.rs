//! Transports: where APDUs go. One trait, after vpicc-rs's `VSmartCard`; the in-process
//! simulator is [`SimTransport`].

use applet_sim::{Card, Profile, SmartCard};

/// A transport failure (the card could not be reached, not a card's answer).
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The card or reader went away.
    #[error("transport: {0}")]
    Io(String),
}

/// Something that answers APDUs.
pub trait Transport {
    /// A short description for reports (`sim:gen3`).
    fn describe(&self) -> String;

    /// Sends a command APDU, returns the response bytes (data ‖ SW1 SW2).
    ///
    /// # Errors
    /// [`TransportError`] when the card cannot be reached.
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError>;

    /// Warm reset; returns the ATR.
    ///
    /// # Errors
    /// [`TransportError`] when the card cannot be reached.
    fn reset(&mut self) -> Result<Vec<u8>, TransportError>;

    /// The card's ATR as last answered (no reset).
    ///
    /// # Errors
    /// [`TransportError`] when the card cannot be reached.
    fn atr(&mut self) -> Result<Vec<u8>, TransportError>;

    /// The PSAM keys of the card, when the transport knows them (the virtual card's profile
    /// keys); `None` for a card in a reader.
    fn psam_keys(&self) -> Option<crate::psam::Keys> {
        None
    }

    /// Makes the next fresh cards of `profile` (`None`: the transport's own). Only the
    /// virtual card can change; a reader answers `Ok(false)` and the case is skipped unless
    /// its profile is the one declared for the reader.
    ///
    /// # Errors
    /// [`TransportError`] for a profile that cannot be loaded.
    fn use_profile(&mut self, profile: Option<&str>) -> Result<bool, TransportError> {
        Ok(profile.is_none())
    }

    /// Starts a case on a card in its initial state (a new card for the simulator).
    ///
    /// # Errors
    /// [`TransportError`] when the card cannot be reached.
    fn fresh_card(&mut self) -> Result<(), TransportError>;
}

/// The in-process virtual card.
#[derive(Clone, Debug)]
pub struct SimTransport {
    profile_name: String,
    profile: Profile,
    template: Card,
    card: Card,
    buffer: Vec<u8>,
    /// Other profiles asked for by vector files, loaded once: (name, profile, card).
    others: Vec<(String, Profile, Card)>,
    /// The profile of the next fresh cards (`None`: the transport's own).
    current: Option<usize>,
}

impl SimTransport {
    /// A simulator transport for a profile.
    #[must_use]
    pub fn new(profile: &Profile) -> Self {
        let template = Card::new(profile);
        Self {
            profile_name: profile.source_name.clone(),
            profile: profile.clone(),
            card: template.clone(),
            template,
            buffer: Vec::with_capacity(258),
            others: Vec::new(),
            current: None,
        }
    }
}

impl SimTransport {
    /// The virtual card on a state file (durable mode, `--state`): its state is read back
    /// and kept; [`Transport::fresh_card`] rewrites it to the profile's initial state.
    ///
    /// # Errors
    /// The state file's error (refused, locked, I/O).
    pub fn durable(profile: &Profile, path: &std::path::Path) -> Result<Self, TransportError> {
        let card = Card::open(profile, path).map_err(|e| TransportError::Io(e.to_string()))?;
        Ok(Self {
            profile_name: format!("{}, state {}", profile.source_name, path.display()),
            profile: profile.clone(),
            template: Card::new(profile),
            card,
            buffer: Vec::with_capacity(258),
            others: Vec::new(),
            current: None,
        })
    }
}

impl Transport for SimTransport {
    fn describe(&self) -> String {
        format!("sim ({})", self.profile_name)
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.card.transmit_into(apdu, &mut self.buffer);
        Ok(self.buffer.clone())
    }

    fn reset(&mut self) -> Result<Vec<u8>, TransportError> {
        Ok(self.card.reset().to_vec())
    }

    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        Ok(self.card.atr().to_vec())
    }

    fn psam_keys(&self) -> Option<crate::psam::Keys> {
        Some(crate::psam::Keys::from_profile(self.current().0))
    }

    fn use_profile(&mut self, profile: Option<&str>) -> Result<bool, TransportError> {
        self.current = match profile {
            None => None,
            Some(name) => match self.others.iter().position(|(n, _, _)| n == name) {
                Some(i) => Some(i),
                None => {
                    let p = Profile::load(name).map_err(|e| TransportError::Io(e.to_string()))?;
                    let card = Card::new(&p);
                    self.others.push((name.to_owned(), p, card));
                    Some(self.others.len() - 1)
                }
            },
        };
        Ok(true)
    }

    fn fresh_card(&mut self) -> Result<(), TransportError> {
        if let Some((_, _, card)) = self.current.and_then(|i| self.others.get(i)) {
            self.card.clone_from(card);
            return Ok(());
        }
        if self.card.is_durable() {
            return self
                .card
                .restore_from(&self.template)
                .map_err(|e| TransportError::Io(format!("restoring the state file: {e}")));
        }
        self.card.clone_from(&self.template);
        Ok(())
    }
}

#[cfg(feature = "pcsc")]
mod pcsc;
#[cfg(feature = "pcsc")]
pub use self::pcsc::{PcscTransport, list_readers};

/// What `--reader` says when the harness was built without the PC/SC transport.
pub const NO_PCSC: &str = "this ssc-harness was built without the `pcsc` feature; build it with \
`cargo build --release -p harness --features pcsc` (needs libpcsclite-dev and pkg-config)";

impl SimTransport {
    /// True when the card's persistent state differs from its initial state (a case that
    /// leaves such a change behind cannot run twice on one real card without restoring it).
    #[must_use]
    pub fn persistent_state_changed(&self) -> bool {
        !self.card.same_persistent_state(self.current_template())
    }

    /// The initial card of the current profile.
    fn current_template(&self) -> &Card {
        self.current().1
    }

    /// The profile of the next fresh cards and its initial card.
    fn current(&self) -> (&Profile, &Card) {
        match self.current.and_then(|i| self.others.get(i)) {
            Some((_, p, card)) => (p, card),
            None => (&self.profile, &self.template),
        }
    }

    /// True when the card was changed beyond what its own commands undo (see
    /// [`applet_sim::Card::irreversibly_changed`]): such a case is `destructive` on a real card.
    #[must_use]
    pub fn irreversibly_changed(&self) -> bool {
        self.card.irreversibly_changed()
    }
}
