//! The financial application's PBOC commands (docs/CARD.md §5.4; JR/T 0025): PIN RELOAD
//! `80 5E 00 00` and PIN UNBLOCK `84 24 00 00`, each authenticated by the PBOC MAC (IV = the
//! card's challenge; checked in `secure.rs`, which also serves the blocking commands).
//!
//! [I] Key ids in the application (the spec names the keys, not their ids): 01 DAMK
//! (application maintenance: 84 1E/18/16), 02 DPUK (PIN unblock), 03 DPRK (PIN reload); all
//! 16-byte 3DES keys. A MAC failure answers 6988 and costs no key try.

use apdu::{ApduResult, Response, StatusWord};
use subtle::ConstantTimeEq;

use super::Card;
use crate::crypto;
use crate::model::keys::pboc::{DPRK, DPUK};

impl Card {
    /// The application's PIN (the first in scope).
    fn pboc_pin_index(&self) -> ApduResult<usize> {
        self.pins_in_scope()
            .map(|(i, _)| i)
            .next()
            .ok_or(StatusWord::ReferenceNotFound)
    }

    /// PIN RELOAD `80 5E 00 00` (§5.4): the new PIN with the reload MAC (zero IV, key DPRK
    /// left XOR right, over the PIN); sets the PIN and restores its counter. 6A88, 6988,
    /// then 6A80 for a PIN outside the object's format.
    pub(super) fn pin_reload(&mut self, pin: &[u8], mac: &[u8; 4]) -> ApduResult<Response> {
        let index = self.pboc_pin_index()?;
        let key = self.key_value(DPRK)?;
        let expected =
            crypto::pboc_reload_mac(key, pin).map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        if !bool::from(expected.ct_eq(mac)) {
            return Err(StatusWord::SmDataObjectsIncorrect);
        }
        self.with_pin(index, |object, commit| {
            let value = object.decode(pin).map_err(|_| StatusWord::WrongData)?;
            object.set_value(value, commit)?;
            Ok(Response::status(StatusWord::Success))
        })?
    }

    /// PIN UNBLOCK `84 24 00 00` (§5.4, the PBOC variant): the current PIN enciphered with
    /// DPUK (3DES-ECB of `LD ‖ PIN ‖ 80..`) ‖ a PBOC MAC under DPUK. When the PIN is the
    /// current one, its counter is restored. 6A88, 6984, 6988, then 6A80 (not the PIN; [I]:
    /// no try is counted, the MAC already proved the terminal).
    pub(super) fn pboc_pin_unblock(
        &mut self,
        enciphered: &[u8],
        mac: &[u8; 4],
    ) -> ApduResult<Response> {
        let index = self.pboc_pin_index()?;
        self.check_pboc_mac(DPUK, [0x84, 0x24, 0x00, 0x00], enciphered, mac)?;
        let key = self.key_value(DPUK)?;
        let block = crypto::decrypt_data(self.cipher.for_app(self.app_kind()), key, enciphered)
            .ok_or(StatusWord::WrongData)?;
        self.with_pin(index, |object, commit| {
            let candidate = object.decode(&block).map_err(|_| StatusWord::WrongData)?;
            if !object.matches(&candidate) {
                return Err(StatusWord::WrongData);
            }
            object.unblock(commit)?;
            Ok(Response::status(StatusWord::Success))
        })?
    }
}
