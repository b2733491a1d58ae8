//! The reader side of T=0 (docs/CARD.md §4.3): `61xx` is followed by GET RESPONSE, `6Cxx` by
//! the same command with Le = xx. The one place the harness does this; replay with
//! `--auto-response`, the software PSAM and the service-centre flows all use it.

use apdu::{Response, StatusWord};

use super::{Transport, TransportError};

/// One command and the card's response, as sent and received.
pub type Exchange = (Vec<u8>, Vec<u8>);

/// How many follow-ups a command may need before the card is taken to be stuck.
const MAX_EXCHANGES: usize = 16;

/// Sends `command` as a reader does, logging every exchange (GET RESPONSE and re-issued
/// commands included) in `log`. Returns the final response with the data of all its parts
/// (a response shorter than a status word is returned as it is).
///
/// # Errors
/// [`TransportError`] when the card cannot be reached or never stops asking.
pub fn exchange(
    t: &mut dyn Transport,
    command: &[u8],
    log: &mut Vec<Exchange>,
) -> Result<Vec<u8>, TransportError> {
    let mut command = command.to_vec();
    let mut data = Vec::new();
    for _ in 0..MAX_EXCHANGES {
        let response = t.transmit(&command)?;
        log.push((command.clone(), response.clone()));
        let Some((body, sw)) = Response::split(&response) else {
            return Ok(response);
        };
        data.extend_from_slice(body);
        match sw {
            StatusWord::MoreAvailable(n) => command = vec![0x00, 0xC0, 0x00, 0x00, n],
            StatusWord::WrongLe(n) => {
                if let Some(le) = command.last_mut() {
                    *le = n;
                }
            }
            sw => {
                data.extend_from_slice(&sw.to_bytes());
                return Ok(data);
            }
        }
    }
    Err(TransportError::EndlessFollowUp)
}
