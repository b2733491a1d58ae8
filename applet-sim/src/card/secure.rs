//! Secure messaging and command MACs (docs/CARD.md §6.3, §5.4): the SSC MAC of class-84/04
//! commands under a card key's session key, and the PBOC MAC (IV = the card's challenge) of
//! the financial application. Each uses up the current challenge; a wrong MAC answers 6988
//! and changes nothing else (no key try is spent, §5.2 item 6) — unless the profile chooses
//! `mac_failure = "key-try"` (§9.9) for the SSC MAC.

use apdu::{ApduResult, StatusWord};
use subtle::ConstantTimeEq;

use super::Card;
use super::durable::Datum;
use crate::command::{FileRef, SecureMessaging};
use crate::crypto;
use crate::model::WritePoint;
use crate::model::behaviour::MacFailure;
use crate::model::keys::{df, ssse::STK};

impl Card {
    /// Checks an SSC-style MAC (§6.3) on a class-84/04 command: the session key of card key
    /// `key_id` from the current challenge (used up), over `header ‖ Lc ‖ data` where Lc
    /// counts the MAC. Returns the session key for the data decryption that may follow.
    /// 6A88 without the key, 6984 without a challenge, 6988 for a wrong MAC; nothing else
    /// changes (with `mac_failure = "key-try"`: 6983 for a locked key, and a wrong MAC
    /// spends a try).
    pub(super) fn check_ssc_mac(
        &mut self,
        key_id: u8,
        header: [u8; 4],
        data: &[u8],
        mac: &[u8; 4],
    ) -> ApduResult<Vec<u8>> {
        let index = self.key_index(key_id, None)?;
        self.check_ssc_mac_of(index, header, data, mac)
    }

    /// [`Card::check_ssc_mac`] with the key by its number in the card's key table.
    fn check_ssc_mac_of(
        &mut self,
        index: usize,
        header: [u8; 4],
        data: &[u8],
        mac: &[u8; 4],
    ) -> ApduResult<Vec<u8>> {
        // §9.9 `mac_failure = "key-try"`: the MAC key counts like an authentication key
        // (docs/SECURITY.md §1): locked answers 6983 before the challenge is used; the try is
        // spent, durably, before the comparison and given back on a match.
        let counted = self.behaviour.mac_failure == MacFailure::KeyTry;
        let remaining = self
            .persistent
            .keys
            .get(index)
            .ok_or(StatusWord::ReferenceNotFound)?
            .remaining;
        if counted && remaining == 0 {
            return Err(StatusWord::AuthenticationMethodBlocked);
        }
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
        if counted {
            self.count_key_try(index, false)?;
        }
        if bool::from(expected.ct_eq(mac)) {
            if counted {
                self.count_key_try(index, true)?;
            }
            Ok(ks)
        } else {
            Err(StatusWord::SmDataObjectsIncorrect)
        }
    }

    /// Spends a try of key `index` (`restore`: gives them all back), durably.
    fn count_key_try(&mut self, index: usize, restore: bool) -> ApduResult<()> {
        let key = self
            .persistent
            .keys
            .get_mut(index)
            .ok_or(StatusWord::ReferenceNotFound)?;
        let point = if restore {
            key.remaining = key.max_tries;
            WritePoint::KeyRestore
        } else {
            key.remaining = key.remaining.saturating_sub(1);
            WritePoint::KeyDecrement
        };
        self.commit(point, Datum::Key(index))
    }

    /// Secure messaging of a CLA 04 write (§4.1, §6.3): the MAC under the session key of the
    /// STK of the file's DF from the current challenge, checked before the command itself
    /// (which still needs the file's update condition). In a sub-application that holds its
    /// own STKDFxx (82, §6.7) that key, else the STK (02) the DF sees: a DF's STK never MACs a
    /// write to another DF's file, the SSSE's never one to a DF that has its own.
    pub(super) fn check_secure_messaging(
        &mut self,
        sm: Option<SecureMessaging>,
        file: FileRef,
        data: &[u8],
    ) -> ApduResult<()> {
        let Some(sm) = sm else {
            return Ok(());
        };
        let df = self.file_df(file);
        let index = self
            .key_at(df, df::STK, None)
            .or_else(|| self.key_at(df, STK, None))
            .ok_or(StatusWord::ReferenceNotFound)?;
        self.check_ssc_mac_of(index, sm.header, data, &sm.mac)
            .map(|_| ())
    }

    /// Checks a PBOC MAC over `header ‖ Lc ‖ data` with key `key_id` and the current
    /// challenge as IV (used up): 6A88, 6984, 6988 (nothing changed).
    pub(super) fn check_pboc_mac(
        &mut self,
        key_id: u8,
        header: [u8; 4],
        data: &[u8],
        mac: &[u8; 4],
    ) -> ApduResult<()> {
        self.key_value(key_id)?;
        let challenge = self.take_challenge()?;
        let key = self.key_value(key_id)?;
        let signed = signed_data(header, data)?;
        let expected = crypto::pboc_mac(key, &challenge, &signed)
            .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        if bool::from(expected.ct_eq(mac)) {
            Ok(())
        } else {
            Err(StatusWord::SmDataObjectsIncorrect)
        }
    }
}

/// The MAC input of §6.3: header ‖ Lc (the data plus the 4 MAC bytes) ‖ data.
fn signed_data(header: [u8; 4], data: &[u8]) -> ApduResult<Vec<u8>> {
    let lc = u8::try_from(data.len() + 4).map_err(|_| StatusWord::WrongLength)?;
    let mut signed = Vec::with_capacity(data.len() + 5);
    signed.extend_from_slice(&header);
    signed.push(lc);
    signed.extend_from_slice(data);
    Ok(signed)
}
