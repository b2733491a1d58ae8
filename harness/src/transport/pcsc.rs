//! The PC/SC transport: any reader pcsc-lite (or WinSCard) knows, through the `pcsc` crate.

use std::ffi::CString;
use std::process::Command;

use std::time::Duration;

use pcsc::{Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};

use super::{ReaderInfo, Transport, TransportError};

/// A card in a PC/SC reader.
pub struct PcscTransport {
    name: String,
    /// The profile the user says the card is (`--profile`), for vector files that ask for one.
    profile: Option<String>,
    card: pcsc::Card,
    restore: Option<String>,
    buffer: Vec<u8>,
}

impl PcscTransport {
    /// Connects to the card in `reader` (shared mode, T=0 or T=1 as the ATR allows).
    /// `restore` is a shell command run before each case to restore the card's initial state.
    ///
    /// # Errors
    /// [`TransportError`] when PC/SC or the reader cannot be reached, or holds no card.
    pub fn connect(reader: &str, restore: Option<String>) -> Result<Self, TransportError> {
        let ctx = establish()?;
        let name = CString::new(reader).map_err(|_| TransportError::ReaderName)?;
        let card = ctx
            .connect(&name, ShareMode::Shared, Protocols::ANY)
            .map_err(|source| match source {
                pcsc::Error::UnknownReader => TransportError::UnknownReader {
                    reader: reader.to_owned(),
                    available: ctx
                        .list_readers_owned()
                        .map(|names| {
                            names
                                .iter()
                                .map(|n| n.to_string_lossy().into_owned())
                                .collect()
                        })
                        .unwrap_or_default(),
                },
                pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard => TransportError::NoCard {
                    reader: reader.to_owned(),
                },
                source => TransportError::Reader {
                    reader: reader.to_owned(),
                    source,
                },
            })?;
        Ok(Self {
            name: reader.to_owned(),
            profile: None,
            card,
            restore,
            buffer: vec![0; pcsc::MAX_BUFFER_SIZE_EXTENDED],
        })
    }
}

impl PcscTransport {
    /// Declares which profile the card in the reader is (vector files with a `profile`
    /// directive run only when it is theirs).
    #[must_use]
    pub fn declaring(mut self, profile: &str) -> Self {
        self.profile = Some(profile.to_owned());
        self
    }
}

impl Transport for PcscTransport {
    fn use_profile(&mut self, profile: Option<&str>) -> Result<bool, TransportError> {
        Ok(profile.is_none() || profile == self.profile.as_deref())
    }

    fn describe(&self) -> String {
        format!("reader {:?}", self.name)
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        // A short command gets a short receive buffer: pcsc-lite moves less per call (a few
        // percent of VERIFY throughput); extended or unparsable commands get the full size.
        let short =
            apdu::CommandApdu::parse(apdu).is_ok_and(|c| c.encoding == apdu::LengthEncoding::Short);
        let size = if short {
            pcsc::MAX_BUFFER_SIZE
        } else {
            self.buffer.len()
        };
        let response = self
            .card
            .transmit(apdu, self.buffer.get_mut(..size).unwrap_or_default())?;
        Ok(response.to_vec())
    }

    fn reset(&mut self) -> Result<Vec<u8>, TransportError> {
        self.card
            .reconnect(ShareMode::Shared, Protocols::ANY, Disposition::ResetCard)?;
        // The ATR from SCardStatus: vpcd before 0.9 does not answer SCARD_ATTR_ATR_STRING.
        Ok(self.card.status2_owned()?.atr().to_vec())
    }

    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        Ok(self.card.status2_owned()?.atr().to_vec())
    }

    fn fresh_card(&mut self) -> Result<(), TransportError> {
        if let Some(cmd) = &self.restore {
            let status = Command::new("sh")
                .arg("-c")
                .arg(cmd)
                .status()
                .map_err(|source| TransportError::RestoreCommand {
                    command: cmd.clone(),
                    source,
                })?;
            if !status.success() {
                return Err(TransportError::RestoreFailed {
                    command: cmd.clone(),
                    status,
                });
            }
        }
        self.reset().map(|_| ())
    }
}

/// A PC/SC context; pcscd not running is [`TransportError::NoService`].
fn establish() -> Result<Context, TransportError> {
    Context::establish(Scope::User).map_err(|e| match e {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => TransportError::NoService,
        e => e.into(),
    })
}

/// The readers PC/SC knows, each with the ATR of the card it holds (if any). Asks pcscd for
/// the readers' state (SCardGetStatusChange) without connecting, so listing powers no card.
/// With a nonzero `wait`, it then waits up to that long for a change: pcscd polls its readers
/// while a client waits, so a card taken away since its last look shows as gone.
///
/// # Errors
/// [`TransportError`] when PC/SC cannot be reached.
pub fn list_readers(wait: Duration) -> Result<Vec<ReaderInfo>, TransportError> {
    let ctx = establish()?;
    let names = match ctx.list_readers_owned() {
        Ok(n) => n,
        Err(pcsc::Error::NoReadersAvailable) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut states: Vec<ReaderState> = names
        .into_iter()
        .map(|n| ReaderState::new(n, State::UNAWARE))
        .collect();
    ctx.get_status_change(Duration::ZERO, &mut states)?;
    if !wait.is_zero() {
        for s in &mut states {
            s.sync_current_state();
        }
        match ctx.get_status_change(wait, &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(states
        .iter()
        .map(|r| {
            let present =
                r.event_state().contains(State::PRESENT) && !r.event_state().contains(State::MUTE);
            let atr = (present && !r.atr().is_empty()).then(|| r.atr().to_vec());
            (r.name().to_string_lossy().into_owned(), atr)
        })
        .collect())
}
