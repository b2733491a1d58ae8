//! Cards in PC/SC readers, whether or not this build has the PC/SC transport: without the
//! `pcsc` feature both functions answer [`TransportError::NoPcsc`].

use std::time::Duration;

use super::{Transport, TransportError};

/// A reader's name and the ATR of the card it holds, if any.
pub type ReaderInfo = (String, Option<Vec<u8>>);

/// The card in reader `name`, declared to be of `profile`; `restore` is a shell command run
/// before each case to restore the card's initial state.
///
/// # Errors
/// [`TransportError`] when PC/SC or the reader cannot be reached, or this build has no PC/SC.
#[cfg(feature = "pcsc")]
pub fn open_reader(
    name: &str,
    restore: Option<String>,
    profile: &str,
) -> Result<Box<dyn Transport>, TransportError> {
    Ok(Box::new(
        super::PcscTransport::connect(name, restore)?.declaring(profile),
    ))
}

/// The card in reader `name` (this build has no PC/SC transport: always an error).
///
/// # Errors
/// [`TransportError::NoPcsc`].
#[cfg(not(feature = "pcsc"))]
pub fn open_reader(
    _name: &str,
    _restore: Option<String>,
    _profile: &str,
) -> Result<Box<dyn Transport>, TransportError> {
    Err(TransportError::NoPcsc)
}

/// The readers PC/SC knows, each with the ATR of the card it holds (see
/// `PcscTransport`'s `list_readers`).
///
/// # Errors
/// [`TransportError`] when PC/SC cannot be reached.
#[cfg(feature = "pcsc")]
pub fn list_readers(wait: Duration) -> Result<Vec<ReaderInfo>, TransportError> {
    super::pcsc::list_readers(wait)
}

/// The readers PC/SC knows (this build has no PC/SC transport: always an error).
///
/// # Errors
/// [`TransportError::NoPcsc`].
#[cfg(not(feature = "pcsc"))]
pub fn list_readers(_wait: Duration) -> Result<Vec<ReaderInfo>, TransportError> {
    Err(TransportError::NoPcsc)
}
