//! GET CHALLENGE, EXTERNAL AUTHENTICATE, INTERNAL AUTHENTICATE and the issuer's PIN reset
//! `84 24` (docs/CARD.md §4.1, §5.2, §5.3, §6.2–§6.5); the MAC checks they use are in
//! `secure.rs`.
//!
//! Each card key has its own try counter with the PIN rules of docs/SECURITY.md §1: a malformed
//! command or a missing challenge changes nothing (6700/6984); a blocked key answers 6983
//! without a comparison; the counter is decremented before the comparison and restored on a
//! match; the challenge is single use either way.

use apdu::{ApduResult, Response, StatusWord};
use subtle::ConstantTimeEq;

use super::Card;
use super::durable::Datum;
use super::state::key_slot;
use crate::crypto;
use crate::model::Unblock;
use crate::model::WritePoint;
use crate::model::keys::{
    self,
    ssse::{IRK, PUK_KEY, STK},
};

impl Card {
    /// GET CHALLENGE (§4.1, §6.2): 4, 8 or 16 fresh bytes, which become the current
    /// challenge (replacing any earlier one) until used, reset, or another application.
    /// A failing random source answers 6F00 and leaves no challenge.
    pub(super) fn get_challenge(&mut self, len: u8) -> ApduResult<Response> {
        let mut challenge = [0u8; 16];
        let n = usize::from(len).min(16);
        self.volatile.challenge = None;
        self.rng
            .fill(challenge.get_mut(..n).unwrap_or_default())
            .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        self.volatile.challenge = Some((challenge, len));
        Ok(Response::new(
            challenge.get(..n).unwrap_or_default().to_vec(),
            StatusWord::Success,
        ))
    }

    /// EXTERNAL AUTHENTICATE: the terminal proves it holds key P2 by encrypting the
    /// "original data" under the session key derived from the card's current challenge.
    /// Success grants the key until reset or another application.
    pub(super) fn external_authenticate(
        &mut self,
        key_id: u8,
        auth: &[u8; 8],
        original: &[u8; 8],
        version: Option<u8>,
    ) -> ApduResult<Response> {
        // The IRK proves the card, never the terminal (no reflection of INTERNAL
        // AUTHENTICATE's answer): there is no external-authentication key with its id.
        if keys::usage(self.app_kind(), key_id) != keys::Usage::External {
            return Err(StatusWord::ReferenceNotFound);
        }
        let index = self.key_index(key_id, version)?;
        // An inherited key keeps the usage of the application that owns it: the MF's IRK
        // is not a terminal key in the financial application.
        if keys::usage(self.owner_kind(index), key_id) != keys::Usage::External {
            return Err(StatusWord::ReferenceNotFound);
        }
        let cipher = self.cipher;
        if self
            .persistent
            .keys
            .get(index)
            .is_some_and(|k| k.remaining == 0)
        {
            return Err(StatusWord::AuthenticationMethodBlocked);
        }
        let challenge = self.take_challenge()?;
        let key = self
            .persistent
            .keys
            .get_mut(index)
            .ok_or(StatusWord::ReferenceNotFound)?;
        key.remaining -= 1;
        // Durable before the comparison (docs/SECURITY.md §1 rule 3).
        self.commit(WritePoint::KeyDecrement, Datum::Key(index))?;
        let key = self
            .persistent
            .keys
            .get_mut(index)
            .ok_or(StatusWord::ReferenceNotFound)?;
        let expected = crypto::session_key(cipher, &key.value, &challenge)
            .and_then(|ks| crypto::auth_cryptogram(cipher, &ks, original))
            .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        if bool::from(expected.ct_eq(auth)) {
            key.remaining = key.max_tries;
            self.commit(WritePoint::KeyRestore, Datum::Key(index))?;
            if let Some(slot) = key_slot(index) {
                self.volatile.authenticated.insert(slot);
            }
            Ok(Response::status(StatusWord::Success))
        } else {
            Err(StatusWord::RemainingRetries(key.remaining))
        }
    }

    /// INTERNAL AUTHENTICATE: the card proves it holds the IRK: the cryptogram of the data
    /// under the session key from the terminal's random (§6.5).
    pub(super) fn internal_authenticate(
        &self,
        input: &[u8; 8],
        data: &[u8; 8],
        version: Option<u8>,
    ) -> ApduResult<Response> {
        // Only where key 00 is the IRK (not in the financial application, whose 00 would be
        // a terminal-authentication key: its answer could be reflected).
        if keys::usage(self.app_kind(), IRK) != keys::Usage::Internal {
            return Err(StatusWord::ReferenceNotFound);
        }
        let index = self.key_index(IRK, version)?;
        if keys::usage(self.owner_kind(index), IRK) != keys::Usage::Internal {
            return Err(StatusWord::ReferenceNotFound);
        }
        let key = self
            .persistent
            .keys
            .get(index)
            .ok_or(StatusWord::ReferenceNotFound)?;
        let out = crypto::session_key(self.cipher, &key.value, input)
            .and_then(|ks| crypto::auth_cryptogram(self.cipher, &ks, data))
            .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        Ok(Response::new(out.to_vec(), StatusWord::Success))
    }

    /// PIN CHANGE/UNBLOCK `84 24 00 P2` (§5.2, the service centre): needs external
    /// authentication with the PUK key (06) and a fresh challenge; the MAC and the enciphered
    /// PIN use the session key of the STK (02) from that challenge (§7.1 shows one key for
    /// both). P2 = 01 sets the new PIN and restores the counter, 00 restores the counter.
    /// Checks in order: 6982, 6A88, 6984, 6988 (nothing changed), 6A80.
    pub(super) fn pin_unblock(
        &mut self,
        new_pin: bool,
        enciphered: &[u8],
        mac: &[u8; 4],
    ) -> ApduResult<Response> {
        if !self.key_authenticated(PUK_KEY) {
            return Err(StatusWord::SecurityStatusNotSatisfied);
        }
        let pin_index = self
            .pins_in_scope()
            .find(|(_, p)| p.unblock == Unblock::IssuerKey)
            .map(|(i, _)| i)
            .ok_or(StatusWord::ReferenceNotFound)?;
        let header = [0x84, 0x24, 0x00, u8::from(new_pin)];
        let ks = self.check_ssc_mac(STK, header, enciphered, mac)?;
        let cipher = self.cipher;
        self.with_pin(pin_index, |pin, commit| {
            if new_pin {
                let block =
                    crypto::decrypt_data(cipher, &ks, enciphered).ok_or(StatusWord::WrongData)?;
                let value = pin.decode(&block).map_err(|_| StatusWord::WrongData)?;
                pin.set_value(value, commit)?;
            } else {
                pin.unblock(commit)?;
            }
            Ok(Response::status(StatusWord::Success))
        })?
    }
}
