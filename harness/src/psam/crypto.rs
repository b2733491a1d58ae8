//! Where a terminal's cryptograms come from (docs/PSAM.md §8): the primitives every issuer
//! flow is written with — a session key of one card key from one input, encipherment under
//! it, the SSC MAC under it — and the software provider that computes them from the card
//! keys it holds. The PSAM card ([`super::card::PsamCard`]) provides the same primitives
//! through `BF DE` / `80 FA`, so each flow of [`super::Psam`] is written once.

use std::collections::BTreeMap;
use std::fmt;

use applet_sim::crypto;
use applet_sim::model::CipherSuite;

use super::PsamError;

/// The block length of a suite's cipher: 8 for DES, 16 for SM4 and AES (docs/CARD.md §6.1).
#[must_use]
pub fn block_len(suite: CipherSuite) -> usize {
    match suite {
        CipherSuite::Des3 => 8,
        _ => 16,
    }
}

/// `data` ‖ `80` ‖ `00`.. up to whole blocks (the padding of §6.3 and §6.4: always at least
/// the `80`).
#[must_use]
pub fn pad80(data: &[u8], block: usize) -> Vec<u8> {
    let mut padded = data.to_vec();
    padded.push(0x80);
    padded.resize(padded.len().div_ceil(block) * block, 0);
    padded
}

/// The cryptographic primitives of a terminal's security module for the SSSE's keys (card
/// key ids of docs/CARD.md §6.7). One session at a time, as on a PSAM: [`Crypto::session`]
/// replaces the previous one.
pub trait Crypto: fmt::Debug {
    /// Where the cryptograms come from, for messages ("software keys", "PSAM … in reader …").
    fn describe(&self) -> String;

    /// The cipher suite of the card keys (8-byte blocks for DES, 16 for SM4/AES).
    fn suite(&self) -> CipherSuite;

    /// Whether the module can serve card key `id`.
    fn holds(&self, id: u8) -> bool;

    /// Why card key `id` cannot be served (when [`Crypto::holds`] says so).
    fn missing(&self, id: u8) -> PsamError {
        PsamError::NoKey(super::App::Ssse, id)
    }

    /// Makes the session key of card key `id` from `input` (8 bytes: the card's challenge or
    /// a terminal random; zero-padded to one block, docs/CARD.md §6.2) the current one.
    ///
    /// # Errors
    /// [`PsamError::NoKey`] for a key the module does not hold; a PSAM's refusal; a transport
    /// failure.
    fn session(&mut self, id: u8, input: &[u8]) -> Result<(), PsamError>;

    /// Enciphers whole blocks under the session key (ECB).
    ///
    /// # Errors
    /// [`PsamError::NoSession`] without a session; a PSAM's refusal; a transport failure.
    fn encipher(&mut self, blocks: &[u8]) -> Result<Vec<u8>, PsamError>;

    /// The SSC MAC (docs/CARD.md §6.3) of `data` under the session key: zero IV, `80 00..`
    /// padding, the 4-byte fold.
    ///
    /// # Errors
    /// [`PsamError::NoSession`] without a session; a PSAM's refusal; a transport failure.
    fn mac(&mut self, data: &[u8]) -> Result<[u8; 4], PsamError>;

    /// The 8-byte authentication data of docs/CARD.md §6.5: the session key of `id` from
    /// `input`, then `original` (‖ `00`×8 for 16-byte blocks) enciphered, folded to 8 bytes.
    ///
    /// # Errors
    /// As [`Crypto::session`] and [`Crypto::encipher`].
    fn auth(&mut self, id: u8, input: &[u8], original: &[u8; 8]) -> Result<[u8; 8], PsamError> {
        self.session(id, input)?;
        let mut block = original.to_vec();
        block.resize(block_len(self.suite()), 0);
        let e = self.encipher(&block)?;
        let mut out = [0u8; 8];
        for (i, b) in e.iter().enumerate() {
            if let Some(o) = out.get_mut(i % 8) {
                *o ^= b;
            }
        }
        Ok(out)
    }

    /// Data encryption of docs/CARD.md §6.4 under the session key: `LD ‖ data ‖ 80 00..` to
    /// whole blocks, enciphered.
    ///
    /// # Errors
    /// As [`Crypto::encipher`]; [`PsamError::DataTooLong`] past 255 bytes.
    fn encrypt_data(&mut self, data: &[u8]) -> Result<Vec<u8>, PsamError> {
        let ld = u8::try_from(data.len()).map_err(|_| PsamError::DataTooLong(data.len()))?;
        let mut plain = vec![ld];
        plain.extend_from_slice(data);
        self.encipher(&pad80(&plain, block_len(self.suite())))
    }
}

/// The software provider: the card keys themselves (resolved for one card by its ATR,
/// [`super::Keys`]), computing what a PSAM would.
#[derive(Clone, Debug)]
pub struct Software {
    suite: CipherSuite,
    keys: BTreeMap<u8, Vec<u8>>,
    session: Option<Vec<u8>>,
}

impl Software {
    /// A provider with these card keys (SSSE key id → value) of `suite`.
    #[must_use]
    pub fn new(suite: CipherSuite, keys: BTreeMap<u8, Vec<u8>>) -> Self {
        Self {
            suite,
            keys,
            session: None,
        }
    }

    fn session_key(&self) -> Result<&[u8], PsamError> {
        self.session.as_deref().ok_or(PsamError::NoSession)
    }
}

impl Crypto for Software {
    fn describe(&self) -> String {
        "software keys".into()
    }

    fn suite(&self) -> CipherSuite {
        self.suite
    }

    fn holds(&self, id: u8) -> bool {
        self.keys.contains_key(&id)
    }

    fn session(&mut self, id: u8, input: &[u8]) -> Result<(), PsamError> {
        self.session = None;
        let key = self.keys.get(&id).ok_or_else(|| self.missing(id))?;
        self.session = Some(crypto::session_key(self.suite, key, input)?);
        Ok(())
    }

    fn encipher(&mut self, blocks: &[u8]) -> Result<Vec<u8>, PsamError> {
        let key = self.session_key()?;
        if !blocks.len().is_multiple_of(block_len(self.suite)) {
            return Err(PsamError::NotWholeBlocks(blocks.len()));
        }
        Ok(crypto::ecb_encrypt(self.suite, key, blocks)?)
    }

    fn mac(&mut self, data: &[u8]) -> Result<[u8; 4], PsamError> {
        Ok(crypto::ssc_mac(self.suite, self.session_key()?, data)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        apdu::parse_hex(s).unwrap_or_default()
    }

    /// The provided methods give what applet_sim's functions give (docs/CARD.md §8 key).
    #[test]
    fn provided_methods_agree_with_the_card_side_functions() {
        for suite in [CipherSuite::Des3, CipherSuite::Sm4] {
            let k = h("00112233445566778899AABBCCDDEEFF");
            let r = h("1122334455667788");
            let original = [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11];
            let mut s = Software::new(suite, BTreeMap::from([(0x04, k.clone())]));
            assert!(matches!(s.encipher(&[0; 8]), Err(PsamError::NoSession)));
            let auth = s.auth(0x04, &r, &original).ok();
            let ks = crypto::session_key(suite, &k, &r).ok();
            let expected = ks
                .as_ref()
                .and_then(|ks| crypto::auth_cryptogram(suite, ks, &original).ok());
            assert_eq!(auth, expected);
            let enc = s.encrypt_data(&[0x12, 0x34, 0x56]).ok();
            let want = ks
                .as_ref()
                .and_then(|ks| crypto::encrypt_data(suite, ks, &[0x12, 0x34, 0x56]).ok());
            assert_eq!(enc, want);
            assert!(matches!(
                s.session(0x06, &r),
                Err(PsamError::NoKey(_, 0x06))
            ));
            assert!(matches!(s.mac(b"x"), Err(PsamError::NoSession)));
        }
        assert_eq!(pad80(&[1], 8), [1, 0x80, 0, 0, 0, 0, 0, 0]);
        assert_eq!(pad80(&[0; 8], 8).len(), 16);
    }
}
