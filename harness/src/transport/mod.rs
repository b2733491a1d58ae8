//! Transports: where APDUs go. One trait, after vpicc-rs's `VSmartCard`; the in-process
//! simulator is [`SimTransport`].

use applet_sim::{Card, Profile};

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
    template: Card,
    card: Card,
    buffer: Vec<u8>,
}

impl SimTransport {
    /// A simulator transport for a profile.
    #[must_use]
    pub fn new(profile: &Profile) -> Self {
        let template = Card::new(profile);
        Self {
            profile_name: profile.source_name.clone(),
            card: template.clone(),
            template,
            buffer: Vec::with_capacity(258),
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
        let (card, _) = Card::open(profile, path).map_err(|e| TransportError::Io(e.to_string()))?;
        Ok(Self {
            profile_name: format!("{}, state {}", profile.source_name, path.display()),
            template: Card::new(profile),
            card,
            buffer: Vec::with_capacity(258),
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

    fn fresh_card(&mut self) -> Result<(), TransportError> {
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
        !self.card.same_persistent_state(&self.template)
    }

    /// True when the card was changed beyond what its own commands undo (see
    /// [`applet_sim::Card::irreversibly_changed`]): such a case is `destructive` on a real card.
    #[must_use]
    pub fn irreversibly_changed(&self) -> bool {
        self.card.irreversibly_changed()
    }
}
