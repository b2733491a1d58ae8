//! Transports: where APDUs go. One trait, after vpicc-rs's `VSmartCard`: the in-process
//! card ([`SimTransport`], any [`applet_sim::SmartCard`]), a card in a PC/SC reader
//! (`PcscTransport`, cargo feature `pcsc`), and the reader-style T=0 follow-up
//! ([`exchange`]) every flow that talks like a reader uses.

use applet_sim::Profile;

mod error;
mod follow_up;
#[cfg(feature = "pcsc")]
mod pcsc;
mod reader;
mod sim;
mod traced;

pub use self::error::{NO_PCSC, TransportError};
pub use self::follow_up::{Exchange, exchange};
#[cfg(feature = "pcsc")]
pub use self::pcsc::PcscTransport;
pub use self::reader::{ReaderInfo, list_readers, open_reader};
pub use self::sim::SimTransport;
pub use self::traced::{Sink, Traced};

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

    /// The profile the next fresh cards are built from, when the transport builds them (the
    /// virtual card): the software PSAM takes its keys from it. `None` for a card in a
    /// reader, whose keys are not known.
    fn profile(&self) -> Option<&Profile> {
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
