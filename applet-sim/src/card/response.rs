//! Response shaping by protocol and GET RESPONSE for the card: the card's pending data and
//! protocol handed to the crate's shared rules (`crate::exchange`, docs/CARD.md §4.3).

use apdu::{ApduResult, CommandApdu, Response};

use super::Card;
use crate::exchange;

impl Card {
    /// T=0/T=1 shaping of a successful response (docs/CARD.md §4.3).
    pub(super) fn shape(&mut self, apdu: &CommandApdu<'_>, response: Response, out: &mut Vec<u8>) {
        exchange::shape(
            self.protocol,
            self.behaviour.wrong_le,
            &mut self.volatile.pending,
            apdu,
            response,
            out,
        );
    }

    /// GET RESPONSE (docs/CARD.md §4.1).
    pub(super) fn get_response(&mut self, ne: u32) -> ApduResult<Response> {
        exchange::get_response(&mut self.volatile.pending, ne, self.behaviour.wrong_le)
    }
}
