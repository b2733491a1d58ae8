//! EXTERNAL AUTHENTICATE, INTERNAL AUTHENTICATE, the SSC MAC of class-84/04 commands and
//! the issuer's PIN reset `84 24` (SSC-CARD.md §4.1, §5.2, §5.3, §6.2–§6.5).
//!
//! Each card key has its own try counter with the PIN rules of SECURITY.md §1: a malformed
//! command or a missing challenge changes nothing (6700/6984); a blocked key answers 6983
//! without a comparison; the counter is decremented before the comparison and restored on a
//! match; the challenge is single use either way.

use apdu::{ApduResult, Response, StatusWord};
use subtle::ConstantTimeEq;

use super::Card;
use super::durable::Datum;
use crate::command::SecureMessaging;
use crate::crypto;
use crate::storage::WritePoint;

/// Card key ids (§6.7): IRK, STK, BK, PUK key.
const IRK: u8 = 0x00;
pub(super) const STK: u8 = 0x02;
pub(super) const BK: u8 = 0x05;
const PUK_KEY: u8 = 0x06;

impl Card {
    /// The key with this id (and version, when given) that applies in the current DF.
    pub(super) fn key_index(&self, id: u8, version: Option<u8>) -> ApduResult<usize> {
        let current = self.volatile.current_df;
        let fs = &self.persistent.fs;
        self.persistent
            .keys
            .iter()
            .position(|k| {
                k.id == id
                    && version.is_none_or(|v| v == k.version)
                    && fs.is_within(current, k.owner)
            })
            .ok_or(StatusWord::ReferenceNotFound)
    }

    /// The current challenge, used up (single use, §6.2); 6984 when there is none.
    pub(super) fn take_challenge(&mut self) -> ApduResult<Vec<u8>> {
        let (challenge, len) = self
            .volatile
            .challenge
            .take()
            .ok_or(StatusWord::ReferenceDataNotUsable)?;
        Ok(challenge
            .get(..usize::from(len))
            .unwrap_or_default()
            .to_vec())
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
        let index = self.key_index(key_id, version)?;
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
        // Durable before the comparison (SECURITY.md §1 rule 3).
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
            self.volatile.keys.insert(key_id);
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
        let index = self.key_index(IRK, version)?;
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

    /// Checks an SSC-style MAC (§6.3) on a class-84/04 command: the session key of card key
    /// `key_id` from the current challenge (used up), over `header ‖ Lc ‖ data` where Lc
    /// counts the MAC. Returns the session key for the data decryption that may follow.
    /// 6A88 without the key, 6984 without a challenge, 6988 for a wrong MAC; nothing else
    /// changes.
    pub(super) fn check_ssc_mac(
        &mut self,
        key_id: u8,
        header: [u8; 4],
        data: &[u8],
        mac: &[u8; 4],
    ) -> ApduResult<Vec<u8>> {
        let index = self.key_index(key_id, None)?;
        let challenge = self.take_challenge()?;
        let cipher = self.cipher;
        let key = self
            .persistent
            .keys
            .get(index)
            .ok_or(StatusWord::ReferenceNotFound)?;
        let ks = crypto::session_key(cipher, &key.value, &challenge)
            .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        let signed = signed_data(header, data)?;
        let expected =
            crypto::ssc_mac(cipher, &ks, &signed).map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        if bool::from(expected.ct_eq(mac)) {
            Ok(ks)
        } else {
            Err(StatusWord::SmDataObjectsIncorrect)
        }
    }

    /// Secure messaging of a CLA 04 write (§4.1, §6.3): the MAC under the STK (02) session
    /// key from the current challenge, checked before the command itself.
    pub(super) fn check_secure_messaging(
        &mut self,
        sm: Option<SecureMessaging>,
        data: &[u8],
    ) -> ApduResult<()> {
        match sm {
            None => Ok(()),
            Some(sm) => self
                .check_ssc_mac(STK, sm.header, data, &sm.mac)
                .map(|_| ()),
        }
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
        if !self.volatile.keys.contains(PUK_KEY) {
            return Err(StatusWord::SecurityStatusNotSatisfied);
        }
        let pin_index = self
            .pins_in_scope()
            .find(|(_, p)| p.unblock == crate::profile::Unblock::IssuerKey)
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

/// The MAC input of §6.3: header ‖ Lc (the data plus the 4 MAC bytes) ‖ data.
pub(super) fn signed_data(header: [u8; 4], data: &[u8]) -> ApduResult<Vec<u8>> {
    let lc = u8::try_from(data.len() + 4).map_err(|_| StatusWord::WrongLength)?;
    let mut signed = Vec::with_capacity(data.len() + 5);
    signed.extend_from_slice(&header);
    signed.push(lc);
    signed.extend_from_slice(data);
    Ok(signed)
}
