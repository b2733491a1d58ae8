//! The reader side of T=0 (docs/CARD.md §4.3): `61xx` is followed by GET RESPONSE, `6Cxx` by
//! the same command with Le = xx. The one place the harness does this; replay with
//! `--auto-response`, the software PSAM and the service-centre flows all use it.

use apdu::{CommandApdu, Response, StatusWord};

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
            StatusWord::WrongLe(n) => command = with_le(&command, n),
            sw => {
                data.extend_from_slice(&sw.to_bytes());
                return Ok(data);
            }
        }
    }
    Err(TransportError::EndlessFollowUp)
}

/// The same command with Le = `n` (`00`: 256), re-encoded by `apdu` so a case 1 or 3 command
/// gains an Le instead of losing its last data byte. A command that does not parse is sent
/// again as it is (the card will refuse it, and the follow-ups end).
fn with_le(command: &[u8], n: u8) -> Vec<u8> {
    let ne = if n == 0 { 256 } else { u32::from(n) };
    let Ok(parsed) = CommandApdu::parse(command) else {
        return command.to_vec();
    };
    let mut owned = parsed.to_owned_command();
    owned.ne = Some(ne);
    owned.encode().unwrap_or_else(|_| command.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers from a script and records what it was sent.
    struct Scripted {
        answers: Vec<Vec<u8>>,
        sent: Vec<Vec<u8>>,
    }

    impl Transport for Scripted {
        fn describe(&self) -> String {
            "scripted".into()
        }

        fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.sent.push(apdu.to_vec());
            Ok(if self.answers.is_empty() {
                vec![0x6F, 0x00]
            } else {
                self.answers.remove(0)
            })
        }

        fn reset(&mut self) -> Result<Vec<u8>, TransportError> {
            Ok(vec![0x3B, 0x00])
        }

        fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
            Ok(vec![0x3B, 0x00])
        }

        fn fresh_card(&mut self) -> Result<(), TransportError> {
            Ok(())
        }
    }

    fn run(command: &[u8], answers: &[&[u8]]) -> (Vec<u8>, Vec<Vec<u8>>) {
        let mut t = Scripted {
            answers: answers.iter().map(|a| a.to_vec()).collect(),
            sent: Vec::new(),
        };
        let response = exchange(&mut t, command, &mut Vec::new()).unwrap();
        (response, t.sent)
    }

    #[test]
    fn wrong_le_resends_with_the_le_the_card_asked_for() {
        // Case 2: the Le byte is replaced.
        let (r, sent) = run(
            &[0x00, 0xB0, 0x00, 0x00, 0x10],
            &[&[0x6C, 0x04], &[1, 2, 3, 4, 0x90, 0x00]],
        );
        assert_eq!(r, [1, 2, 3, 4, 0x90, 0x00]);
        assert_eq!(sent[1], [0x00, 0xB0, 0x00, 0x00, 0x04]);
        // Case 3: an Le is added; the data is kept.
        let (_, sent) = run(
            &[0x00, 0xB2, 0x01, 0x0C, 0x01, 0xAA],
            &[&[0x6C, 0x08], &[0x90, 0x00]],
        );
        assert_eq!(sent[1], [0x00, 0xB2, 0x01, 0x0C, 0x01, 0xAA, 0x08]);
        // 6C00 asks for 256 bytes.
        let (_, sent) = run(&[0x00, 0xB0, 0x00, 0x00], &[&[0x6C, 0x00], &[0x90, 0x00]]);
        assert_eq!(sent[1], [0x00, 0xB0, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn more_data_is_fetched_with_get_response_and_joined() {
        let (r, sent) = run(
            &[0x00, 0xA4, 0x04, 0x00, 0x01, 0xA0],
            &[&[0x61, 0x02], &[7, 8, 0x90, 0x00]],
        );
        assert_eq!(r, [7, 8, 0x90, 0x00]);
        assert_eq!(sent[1], [0x00, 0xC0, 0x00, 0x00, 0x02]);
    }

    #[test]
    fn a_card_that_never_stops_asking_is_an_error() {
        let mut t = Scripted {
            answers: vec![vec![0x61, 0x01]; 64],
            sent: Vec::new(),
        };
        assert!(matches!(
            exchange(&mut t, &[0x00, 0xC0, 0x00, 0x00, 0x01], &mut Vec::new()),
            Err(TransportError::EndlessFollowUp)
        ));
    }
}
