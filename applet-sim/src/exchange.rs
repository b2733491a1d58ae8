//! Response shaping by protocol (docs/CARD.md §4.3, ISO 7816-3 §12.2) and GET RESPONSE,
//! shared by every card of the crate (the social security card and the PSAM): under T=0
//! data waits behind `61xx` (or `6Cxx` for a case 2 command with the wrong Le); under T=1 it
//! is returned up to Ne.

use crate::model::behaviour::WrongLe;
use apdu::{ApduResult, Case, CommandApdu, Response, StatusWord};

use crate::model::Protocol;

/// T=0 procedure statuses (ISO 7816-3 §12.2): data for a case 2 command is returned when Le
/// matches it exactly, else `6Cxx`; data for any other case waits in `pending` for GET
/// RESPONSE behind `61xx`. Under T=1 data is returned up to Ne.
pub(crate) fn shape(
    protocol: Protocol,
    wrong_le: WrongLe,
    pending: &mut Vec<u8>,
    apdu: &CommandApdu<'_>,
    response: Response,
    out: &mut Vec<u8>,
) {
    if response.data.is_empty() || response.sw != StatusWord::Success {
        response.encode_into(out);
        return;
    }
    let len = response.data.len();
    let ne = apdu.ne.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let sw = match (protocol, apdu.case(), ne) {
        // The exact Le; and with §9.9 `wrong_le = "data"`, Le 00 or more than the data.
        (Protocol::T0, Case::Two, Some(ne))
            if ne >= len && (ne == len || wrong_le == WrongLe::Data) =>
        {
            return response.encode_into(out);
        }
        (Protocol::T0, Case::Two, _) => StatusWord::WrongLe(short_len(len)),
        (Protocol::T0, _, _) => {
            *pending = response.data;
            StatusWord::MoreAvailable(short_len(len))
        }
        (Protocol::T1, _, Some(ne)) if len <= ne => return response.encode_into(out),
        (Protocol::T1, _, Some(_)) => StatusWord::WrongLe(short_len(len)),
        // T=1 without Le: no response data is expected.
        (Protocol::T1, _, None) => StatusWord::Success,
    };
    out.extend_from_slice(&sw.to_bytes());
}

/// GET RESPONSE (docs/CARD.md §4.1): Le beyond what is pending answers `6Cxx`, less answers
/// Le bytes and `61xx` for the rest; nothing pending answers 6F00.
/// With §9.9 `wrong_le = "data"`, Le beyond what is pending (Le 00 included) answers all of
/// it and 9000.
pub(crate) fn get_response(
    pending: &mut Vec<u8>,
    ne: u32,
    wrong_le: WrongLe,
) -> ApduResult<Response> {
    if pending.is_empty() {
        return Err(StatusWord::NoPreciseDiagnosis);
    }
    let available = pending.len();
    let ne = usize::try_from(ne).unwrap_or(usize::MAX);
    if ne > available && wrong_le == WrongLe::Data {
        return Ok(Response::new(std::mem::take(pending), StatusWord::Success));
    }
    if ne > available {
        return Err(StatusWord::WrongLe(short_len(available)));
    }
    let data: Vec<u8> = pending.drain(..ne).collect();
    let sw = match pending.len() {
        0 => StatusWord::Success,
        rest => StatusWord::MoreAvailable(short_len(rest)),
    };
    Ok(Response::new(data, sw))
}

/// A length as the one byte of `61xx`/`6Cxx`: 256 and more are `00`.
fn short_len(len: usize) -> u8 {
    u8::try_from(len).unwrap_or(0)
}
