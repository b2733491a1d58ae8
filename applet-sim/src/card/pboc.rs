//! The financial application's PBOC commands (docs/CARD.md §5.4; JR/T 0025): PIN RELOAD
//! `80 5E 00 00` and PIN UNBLOCK `84 24 00 00`, each authenticated by the PBOC MAC (IV = the
//! card's challenge; checked in `secure.rs`, which also serves the blocking commands).
//!
//! The EMV read path (docs/CARD.md §3.6.1; JR/T 0025 B.2, EMV Book 3 §6.5.8, §6.5.7): GET
//! PROCESSING OPTIONS `80 A8 00 00` answers the AIP and the AFL of the ADF's records and
//! counts the ATC up; GET DATA `80 CA` answers the PIN try counter (9F17) and the ATC (9F36).
//!
//! [I] Key ids in the application (the spec names the keys, not their ids): 01 DAMK
//! (application maintenance: 84 1E/18/16), 02 DPUK (PIN unblock), 03 DPRK (PIN reload); all
//! 16-byte 3DES keys. A MAC failure answers 6988 and costs no key try.

use apdu::{ApduResult, Response, StatusWord};
use subtle::ConstantTimeEq;

use super::Card;
use crate::crypto;
use crate::fs::{EfContent, Node};
use crate::model::Access;
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

    /// GET PROCESSING OPTIONS `80 A8 00 00` (§3.6.1), in an ADF of the financial
    /// application (elsewhere there, e.g. in the PSE: 6D00). The PDOL-related data must be as
    /// long as the ADF's PDOL (FCI tag 9F38) asks, `83 00` without one (6700 otherwise).
    /// Answers format 1, `80 L AIP ‖ AFL` ([I]), after counting the ATC up (6985 once it is
    /// exhausted, or when the ADF has no record for the AFL).
    pub(super) fn get_processing_options(&mut self, pdol_data: &[u8]) -> ApduResult<Response> {
        let fci = self.current_adf_fci()?;
        if pdol_data.len() != pdol_length(fci)? {
            return Err(StatusWord::WrongLength);
        }
        let afl = self.afl();
        if afl.is_empty() {
            return Err(StatusWord::ConditionsOfUseNotSatisfied);
        }
        self.atc = self
            .atc
            .checked_add(1)
            .ok_or(StatusWord::ConditionsOfUseNotSatisfied)?;
        let mut data = Vec::with_capacity(4 + afl.len());
        data.push(0x80);
        data.push(u8::try_from(AIP.len() + afl.len()).map_err(|_| StatusWord::NoPreciseDiagnosis)?);
        data.extend_from_slice(&AIP);
        data.extend_from_slice(&afl);
        Ok(Response::new(data, StatusWord::Success))
    }

    /// GET DATA `80 CA P1 P2` (§3.6.1), in an ADF of the financial application: 9F17 the bank
    /// PIN's tries left, 9F36 the ATC; any other tag 6A88.
    pub(super) fn get_data(&mut self, tag: u16) -> ApduResult<Response> {
        self.current_adf_fci()?;
        let mut data = tag.to_be_bytes().to_vec();
        match tag {
            PIN_TRY_COUNTER => {
                let index = self.pboc_pin_index()?;
                let pin = self
                    .persistent
                    .pins
                    .get(index)
                    .ok_or(StatusWord::ReferenceNotFound)?;
                data.push(1);
                data.push(pin.pin.remaining());
            }
            ATC => {
                data.push(2);
                data.extend_from_slice(&self.atc.to_be_bytes());
            }
            _ => return Err(StatusWord::ReferenceNotFound),
        }
        Ok(Response::new(data, StatusWord::Success))
    }

    /// The FCI of the current DF when it is an ADF (a named DF below the application's root,
    /// such as the UnionPay ADF below the PSE); else 6D00, as for an instruction the DF does
    /// not have.
    fn current_adf_fci(&self) -> ApduResult<&[u8]> {
        let fs = &self.persistent.fs;
        let current = self.volatile.current_df;
        match fs.df(current) {
            Some(df) if df.name.is_some() && fs.application_of(current) != current => {
                Ok(df.fci.as_deref().unwrap_or_default())
            }
            _ => Err(StatusWord::InsNotSupported),
        }
    }

    /// The AFL of the current ADF (§3.6.1 [I]): one entry `SFI<<3, 01, last, 00` per EF of
    /// the ADF with an SFI from 1 to 10 (EMV's range for the files the AFL names), records and
    /// free reading, by SFI; no record counted for offline data authentication (the card
    /// offers none).
    fn afl(&self) -> Vec<u8> {
        let fs = &self.persistent.fs;
        let current = self.volatile.current_df;
        let mut entries: Vec<[u8; 4]> = fs
            .ef_nodes()
            .filter_map(|id| match fs.node(id) {
                Some(Node::Ef(ef)) if ef.parent == current && ef.control.read == Access::Free => {
                    let sfi = ef.control.sfi.filter(|s| (1..=10).contains(s))?;
                    let EfContent::Records(records) = &ef.content else {
                        return None;
                    };
                    let last = u8::try_from(records.len()).unwrap_or(u8::MAX);
                    (last > 0).then_some([sfi << 3, 1, last, 0])
                }
                _ => None,
            })
            .collect();
        entries.sort_unstable();
        entries.concat()
    }
}

/// [I] The AIP (EMV Book 3 Annex C1): only "terminal risk management is to be performed"
/// (byte 1 b4); no SDA, DDA or CDA (no certificate in the records), no CVM list, no issuer
/// authentication.
const AIP: [u8; 2] = [0x08, 0x00];

/// GET DATA tags (EMV Book 3 §6.5.7).
const PIN_TRY_COUNTER: u16 = 0x9F17;
const ATC: u16 = 0x9F36;

/// The length of the data a PDOL asks for: 0 without tag 9F38 in the FCI's proprietary
/// template (A5); 6985 for a PDOL the card cannot parse (a broken profile).
fn pdol_length(fci: &[u8]) -> ApduResult<usize> {
    let proprietary = find_tlv(fci, &[0x6F])
        .and_then(|fci| find_tlv(fci, &[0xA5]))
        .unwrap_or_default();
    let Some(mut dol) = find_tlv(proprietary, &[0x9F, 0x38]) else {
        return Ok(0);
    };
    let mut total = 0;
    while !dol.is_empty() {
        let (_, rest) = split_tag(dol).ok_or(StatusWord::ConditionsOfUseNotSatisfied)?;
        let (&len, rest) = rest
            .split_first()
            .ok_or(StatusWord::ConditionsOfUseNotSatisfied)?;
        total += usize::from(len);
        dol = rest;
    }
    Ok(total)
}

/// A BER-TLV tag at the start of `data` (ISO 7816-4 §5.2.2.1) and what follows it.
fn split_tag(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let first = *data.first()?;
    let mut len = 1;
    if first & 0x1F == 0x1F {
        loop {
            let b = *data.get(len)?;
            len += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    Some((data.get(..len)?, data.get(len..)?))
}

/// The value of the first data object tagged `tag` among those in `data` (one level; short
/// and `81`/`82` long lengths). `None` when absent or when `data` is malformed before it.
fn find_tlv<'a>(mut data: &'a [u8], tag: &[u8]) -> Option<&'a [u8]> {
    while !data.is_empty() {
        let (t, rest) = split_tag(data)?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = match first {
            0x00..=0x7F => (usize::from(first), rest),
            0x81 => (usize::from(*rest.first()?), rest.get(1..)?),
            0x82 => (
                usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?])),
                rest.get(2..)?,
            ),
            _ => return None,
        };
        let value = rest.get(..len)?;
        if t == tag {
            return Some(value);
        }
        data = rest.get(len..)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{find_tlv, pdol_length, split_tag};

    #[test]
    fn tags_of_one_two_and_three_bytes() {
        assert_eq!(split_tag(&[0x5A, 1]), Some((&[0x5A][..], &[1][..])));
        assert_eq!(
            split_tag(&[0x9F, 0x38, 1]),
            Some((&[0x9F, 0x38][..], &[1][..]))
        );
        assert_eq!(
            split_tag(&[0xDF, 0x81, 0x01, 2]),
            Some((&[0xDF, 0x81, 0x01][..], &[2][..]))
        );
        assert_eq!(split_tag(&[0x9F]), None);
        assert_eq!(split_tag(&[]), None);
    }

    #[test]
    fn values_with_short_and_long_lengths() {
        let data = [
            0x50, 0x01, 0xAA, 0x9F, 0x38, 0x81, 0x02, 0xBB, 0xCC, 0x87, 0x82, 0x00, 0x01, 0xDD,
        ];
        assert_eq!(find_tlv(&data, &[0x50]), Some(&[0xAA][..]));
        assert_eq!(find_tlv(&data, &[0x9F, 0x38]), Some(&[0xBB, 0xCC][..]));
        assert_eq!(find_tlv(&data, &[0x87]), Some(&[0xDD][..]));
        assert_eq!(find_tlv(&data, &[0x5A]), None);
        // A length the data does not hold, an unknown length form.
        assert_eq!(find_tlv(&[0x50, 0x02, 0xAA, 0x5A, 0x00], &[0x5A]), None);
        assert_eq!(find_tlv(&[0x50, 0x83, 0, 0, 1, 0xAA], &[0x50]), None);
    }

    #[test]
    fn pdol_length_sums_the_lengths() {
        let fci = [
            0x6F, 0x11, 0x84, 0x01, 0xA0, 0xA5, 0x0C, 0x9F, 0x38, 0x09, 0x9F, 0x7A, 0x01, 0x9F,
            0x02, 0x06, 0x5F, 0x2A, 0x02,
        ];
        assert_eq!(pdol_length(&fci), Ok(9));
        assert_eq!(pdol_length(&[0x6F, 0x03, 0x84, 0x01, 0xA0]), Ok(0));
        assert_eq!(pdol_length(&[]), Ok(0));
        // A PDOL cut inside an entry.
        let broken = [0x6F, 0x06, 0xA5, 0x04, 0x9F, 0x38, 0x01, 0x9F];
        assert!(pdol_length(&broken).is_err());
        let no_length = [0x6F, 0x07, 0xA5, 0x05, 0x9F, 0x38, 0x02, 0x9F, 0x7A];
        assert!(pdol_length(&no_length).is_err());
    }
}
