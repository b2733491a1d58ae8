//! EXTERNAL AUTHENTICATE and INTERNAL AUTHENTICATE (SSC-CARD.md §4.1, §5.3, §6.2, §6.5).
//!
//! Each card key has its own try counter with the PIN rules of SECURITY.md §1: a malformed
//! command or a missing challenge changes nothing (6700/6984); a blocked key answers 6983
//! without a comparison; the counter is decremented before the comparison and restored on a
//! match; the challenge is single use either way.

use apdu::{ApduResult, Response, StatusWord};
use subtle::ConstantTimeEq;

use super::Card;
use crate::crypto;

/// The IRK's card key id (§6.7).
const IRK: u8 = 0x00;

impl Card {
    /// The key with this id (and version, when given) that applies in the current DF.
    fn key_index(&self, id: u8, version: Option<u8>) -> ApduResult<usize> {
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
        let key = self
            .persistent
            .keys
            .get_mut(index)
            .ok_or(StatusWord::ReferenceNotFound)?;
        if key.remaining == 0 {
            return Err(StatusWord::AuthenticationMethodBlocked);
        }
        let (challenge, len) = self
            .volatile
            .challenge
            .take()
            .ok_or(StatusWord::ReferenceDataNotUsable)?;
        // Write point "key.decrement": durable before the comparison.
        key.remaining -= 1;
        let challenge = challenge.get(..usize::from(len)).unwrap_or_default();
        let expected = crypto::session_key(cipher, &key.value, challenge)
            .and_then(|ks| crypto::auth_cryptogram(cipher, &ks, original))
            .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        if bool::from(expected.ct_eq(auth)) {
            // Write point "key.restore".
            key.remaining = key.max_tries;
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
}
