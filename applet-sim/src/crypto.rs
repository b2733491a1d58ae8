//! The SSC's symmetric cryptography (docs/CARD.md §6) with RustCrypto's `des`, `sm4` and
//! `aes`: block ciphers by suite, session keys from the card's challenge (§6.2), the
//! authentication cryptogram of EXTERNAL/INTERNAL AUTHENTICATE (§6.5) and key
//! diversification (§6.6). Used by the card and, on the terminal side, by tools and tests.

use aes::Aes128;
use des::cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use des::{Des, TdesEde2};
use sm4::Sm4;

use crate::model::CipherSuite;

/// A key that does not fit its cipher.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a {len}-byte key does not fit {suite} (DES: 8 or 16 bytes, SM4/AES: 16)")]
pub struct KeyLengthError {
    /// The suite.
    pub suite: CipherSuite,
    /// The key length given.
    pub len: usize,
}

/// A keyed block cipher of one of the suites. Short-lived (one per operation), so the
/// variants' different key-schedule sizes do not matter.
#[derive(Clone)]
#[allow(clippy::large_enum_variant)]
pub enum BlockCipher {
    /// Single DES (8-byte key, or an 8-byte DES session key).
    Des(Des),
    /// Double-length 3DES, EDE (16-byte key).
    Tdes(TdesEde2),
    /// SM4.
    Sm4(Sm4),
    /// AES-128.
    Aes(Aes128),
}

impl BlockCipher {
    /// The cipher of `suite` keyed with `key`: DES suites take 8 (DES) or 16 (3DES) bytes.
    ///
    /// # Errors
    /// [`KeyLengthError`] when the key length does not fit the suite.
    pub fn new(suite: CipherSuite, key: &[u8]) -> Result<Self, KeyLengthError> {
        let err = || KeyLengthError {
            suite,
            len: key.len(),
        };
        Ok(match (suite, key.len()) {
            (CipherSuite::Des3, 8) => Self::Des(Des::new_from_slice(key).map_err(|_| err())?),
            (CipherSuite::Des3, 16) => {
                Self::Tdes(TdesEde2::new_from_slice(key).map_err(|_| err())?)
            }
            (CipherSuite::Sm4, 16) => Self::Sm4(Sm4::new_from_slice(key).map_err(|_| err())?),
            (CipherSuite::Aes, 16) => Self::Aes(Aes128::new_from_slice(key).map_err(|_| err())?),
            _ => return Err(err()),
        })
    }

    /// Block length: 8 for DES/3DES, 16 for SM4/AES.
    #[must_use]
    pub fn block_len(&self) -> usize {
        match self {
            Self::Des(_) | Self::Tdes(_) => 8,
            Self::Sm4(_) | Self::Aes(_) => 16,
        }
    }

    /// Encrypts one block in place; a slice of another length is left as it is.
    pub fn encrypt_block(&self, block: &mut [u8]) {
        match self {
            Self::Des(c) => enc(c, block),
            Self::Tdes(c) => enc(c, block),
            Self::Sm4(c) => enc(c, block),
            Self::Aes(c) => enc(c, block),
        }
    }

    /// Decrypts one block in place; a slice of another length is left as it is.
    pub fn decrypt_block(&self, block: &mut [u8]) {
        match self {
            Self::Des(c) => dec(c, block),
            Self::Tdes(c) => dec(c, block),
            Self::Sm4(c) => dec(c, block),
            Self::Aes(c) => dec(c, block),
        }
    }
}

fn enc<C: BlockCipherEncrypt>(cipher: &C, block: &mut [u8]) {
    if let Ok(b) = <&mut Array<u8, C::BlockSize>>::try_from(block) {
        cipher.encrypt_block(b);
    }
}

fn dec<C: BlockCipherDecrypt>(cipher: &C, block: &mut [u8]) {
    if let Ok(b) = <&mut Array<u8, C::BlockSize>>::try_from(block) {
        cipher.decrypt_block(b);
    }
}

/// `data` right-padded with zeros to one block (longer input is cut to one block).
fn one_block(data: &[u8], len: usize) -> Vec<u8> {
    let mut b = data.get(..data.len().min(len)).unwrap_or_default().to_vec();
    b.resize(len, 0);
    b
}

/// The session ("process") key of §6.2 from a card key and an input (the card's current
/// challenge for EXTERNAL AUTHENTICATE and secure messaging, the terminal's random for
/// INTERNAL AUTHENTICATE): one block of the input, zero-padded, encrypted with the key. For
/// DES suites the result is an 8-byte single-DES key; for SM4/AES a 16-byte key.
///
/// # Errors
/// [`KeyLengthError`] when the key does not fit the suite.
pub fn session_key(
    suite: CipherSuite,
    key: &[u8],
    input: &[u8],
) -> Result<Vec<u8>, KeyLengthError> {
    let cipher = BlockCipher::new(suite, key)?;
    let mut block = one_block(input, cipher.block_len());
    cipher.encrypt_block(&mut block);
    Ok(block)
}

/// The 8-byte authentication data of §6.5 under a session key: DES(Ks, original) for 8-byte
/// blocks; for 16-byte blocks E = E_Ks(original ‖ 00×8) folded as E[0..8] XOR E[8..16].
///
/// # Errors
/// [`KeyLengthError`] when the session key does not fit the suite.
pub fn auth_cryptogram(
    suite: CipherSuite,
    session_key: &[u8],
    original: &[u8; 8],
) -> Result<[u8; 8], KeyLengthError> {
    let cipher = BlockCipher::new(suite, session_key)?;
    let mut block = one_block(original, cipher.block_len());
    cipher.encrypt_block(&mut block);
    let mut out = [0u8; 8];
    for (i, b) in block.iter().enumerate() {
        if let Some(o) = out.get_mut(i % 8) {
            *o ^= b;
        }
    }
    Ok(out)
}

/// The SSC MAC of §6.3 under a session key: `data` (CLA with the SM bit ‖ INS ‖ P1 ‖ P2 ‖ Lc
/// counting the MAC ‖ command data) padded with 80 00.. to whole blocks, CBC from a zero IV;
/// for 8-byte blocks the left 4 bytes of the last block, for 16-byte blocks the XOR of its
/// four 4-byte words.
///
/// # Errors
/// [`KeyLengthError`] when the session key does not fit the suite.
pub fn ssc_mac(
    suite: CipherSuite,
    session_key: &[u8],
    data: &[u8],
) -> Result<[u8; 4], KeyLengthError> {
    let cipher = BlockCipher::new(suite, session_key)?;
    let n = cipher.block_len();
    let mut padded = data.to_vec();
    padded.push(0x80);
    padded.resize(padded.len().div_ceil(n) * n, 0);
    let mut chain = MacChain::new(cipher, None);
    chain.absorb(&padded);
    Ok(chain.finish())
}

impl std::fmt::Debug for MacChain {
    /// The running block is key-dependent: not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacChain { .. }")
    }
}

/// A CBC-MAC in progress (§6.3): the running block, which can be fed whole blocks across
/// several commands (the PSAM's chained `80 FA`, docs/PSAM.md §4) and finished with the
/// SSC fold.
#[derive(Clone)]
pub struct MacChain {
    cipher: BlockCipher,
    chain: Vec<u8>,
}

impl MacChain {
    /// A chain under `cipher` from `iv` (one block; zeros when `None`, or when `iv` is not
    /// one block long).
    #[must_use]
    pub fn new(cipher: BlockCipher, iv: Option<&[u8]>) -> Self {
        let n = cipher.block_len();
        let chain = match iv {
            Some(iv) if iv.len() == n => iv.to_vec(),
            _ => vec![0; n],
        };
        Self { cipher, chain }
    }

    /// Block length of the chain's cipher.
    #[must_use]
    pub fn block_len(&self) -> usize {
        self.cipher.block_len()
    }

    /// Feeds whole blocks (the caller pads); a trailing partial block is ignored.
    pub fn absorb(&mut self, blocks: &[u8]) {
        for block in blocks.chunks_exact(self.chain.len()) {
            for (c, b) in self.chain.iter_mut().zip(block) {
                *c ^= b;
            }
            self.cipher.encrypt_block(&mut self.chain);
        }
    }

    /// The MAC of §6.3: for 8-byte blocks the left 4 bytes of the last block, for 16-byte
    /// blocks the XOR of its four 4-byte words.
    #[must_use]
    pub fn finish(&self) -> [u8; 4] {
        let n = self.chain.len();
        let mut mac = [0u8; 4];
        for (i, b) in self
            .chain
            .iter()
            .enumerate()
            .take(if n == 8 { 4 } else { 16 })
        {
            if let Some(m) = mac.get_mut(i % 4) {
                *m ^= b;
            }
        }
        mac
    }
}

/// ECB encryption of whole blocks under `key` (the PSAM's `80 FA 00`, docs/PSAM.md §4); a
/// trailing partial block is returned as it is.
///
/// # Errors
/// [`KeyLengthError`] when the key does not fit the suite.
pub fn ecb_encrypt(suite: CipherSuite, key: &[u8], data: &[u8]) -> Result<Vec<u8>, KeyLengthError> {
    let cipher = BlockCipher::new(suite, key)?;
    let mut out = data.to_vec();
    for b in out.chunks_exact_mut(cipher.block_len()) {
        cipher.encrypt_block(b);
    }
    Ok(out)
}

/// Data encryption of §6.4: `LD ‖ data ‖ 80 00..` to whole blocks, ECB under the session key.
///
/// # Errors
/// [`KeyLengthError`] when the session key does not fit the suite.
pub fn encrypt_data(
    suite: CipherSuite,
    session_key: &[u8],
    data: &[u8],
) -> Result<Vec<u8>, KeyLengthError> {
    let cipher = BlockCipher::new(suite, session_key)?;
    let n = cipher.block_len();
    let mut block = vec![u8::try_from(data.len()).unwrap_or(u8::MAX)];
    block.extend_from_slice(data);
    block.push(0x80);
    block.resize(block.len().div_ceil(n) * n, 0);
    for b in block.chunks_mut(n) {
        cipher.encrypt_block(b);
    }
    Ok(block)
}

/// Reverses [`encrypt_data`]: the data, or `None` when the ciphertext is not whole blocks or
/// the plaintext is not `LD ‖ data ‖ 80 00..`.
#[must_use]
pub fn decrypt_data(suite: CipherSuite, session_key: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
    let cipher = BlockCipher::new(suite, session_key).ok()?;
    let n = cipher.block_len();
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(n) {
        return None;
    }
    let mut plain = ciphertext.to_vec();
    for b in plain.chunks_mut(n) {
        cipher.decrypt_block(b);
    }
    let (&ld, rest) = plain.split_first()?;
    let data = rest.get(..usize::from(ld))?;
    match rest.get(usize::from(ld)..)? {
        [0x80, zeros @ ..] if zeros.iter().all(|z| *z == 0) && zeros.len() < n => {
            Some(data.to_vec())
        }
        _ => None,
    }
}

/// Key diversification of §6.6 with an 8-byte factor: DES double-length
/// `3DES_K(f) ‖ 3DES_K(~f)`, single-length `DES_K(f)`; SM4/AES `E_K(f ‖ ~f)`.
///
/// # Errors
/// [`KeyLengthError`] when the key does not fit the suite.
pub fn diversify(
    suite: CipherSuite,
    key: &[u8],
    factor: &[u8; 8],
) -> Result<Vec<u8>, KeyLengthError> {
    let cipher = BlockCipher::new(suite, key)?;
    let inverse: Vec<u8> = factor.iter().map(|b| !b).collect();
    match (&cipher, key.len()) {
        (BlockCipher::Des(_), _) => {
            let mut left = factor.to_vec();
            cipher.encrypt_block(&mut left);
            Ok(left)
        }
        (BlockCipher::Tdes(_), _) => {
            let mut left = factor.to_vec();
            let mut right = inverse;
            cipher.encrypt_block(&mut left);
            cipher.encrypt_block(&mut right);
            left.extend(right);
            Ok(left)
        }
        (BlockCipher::Sm4(_) | BlockCipher::Aes(_), _) => {
            let mut block = factor.to_vec();
            block.extend(inverse);
            cipher.encrypt_block(&mut block);
            Ok(block)
        }
    }
}

/// The level-2 (city) diversification factor of §6.6: ASCII of the 6-digit region code ‖
/// `73 78` ("sx"); Zhejiang (33…) uses the first four digits ‖ "00".
#[must_use]
pub fn city_factor(region: &str) -> Option<[u8; 8]> {
    let digits = region.as_bytes();
    if digits.len() != 6 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut f = [0u8; 8];
    f.get_mut(..6)?.copy_from_slice(digits);
    if region.starts_with("33") {
        f.get_mut(4..6)?.copy_from_slice(b"00");
    }
    f.get_mut(6..)?.copy_from_slice(b"sx");
    Some(f)
}

/// The level-1 (province) diversification factor of §6.6: ASCII of the region's first two
/// digits ‖ `30 30 30 30 73 68` ("0000sh").
#[must_use]
pub fn province_factor(region: &str) -> Option<[u8; 8]> {
    let digits = region.as_bytes().get(..2)?;
    if region.len() != 6 || !region.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut f = *b"000000sh";
    f.get_mut(..2)?.copy_from_slice(digits);
    f.get_mut(2..6)?.copy_from_slice(b"0000");
    Some(f)
}

/// The level-3 (card) diversification factor of §2/§6.6: the last 8 bytes of the ATR.
#[must_use]
pub fn card_factor(atr: &[u8]) -> Option<[u8; 8]> {
    atr.last_chunk::<8>().copied()
}

/// The PBOC MAC of §5.4 (JR/T 0025; ISO/IEC 9797-1 MAC algorithm 3, padding method 2):
/// `data` padded with 80 00.. to 8-byte blocks, CBC single DES under the key's left half from
/// `iv` (the card's challenge, zero-padded to 8 bytes), the last block finished with DES⁻¹
/// under the right half and DES under the left; the left 4 bytes. An 8-byte key is plain
/// single-DES CBC.
///
/// # Errors
/// [`KeyLengthError`] for a key of neither 8 nor 16 bytes.
pub fn pboc_mac(key: &[u8], iv: &[u8], data: &[u8]) -> Result<[u8; 4], KeyLengthError> {
    let err = || KeyLengthError {
        suite: CipherSuite::Des3,
        len: key.len(),
    };
    let (left, right) = match key.len() {
        8 => (key, None),
        16 => {
            let (l, r) = key.split_at(8);
            (l, Some(r))
        }
        _ => return Err(err()),
    };
    let left = Des::new_from_slice(left).map_err(|_| err())?;
    let mut padded = data.to_vec();
    padded.push(0x80);
    padded.resize(padded.len().div_ceil(8) * 8, 0);
    let mut chain = one_block(iv, 8);
    for block in padded.chunks(8) {
        for (c, b) in chain.iter_mut().zip(block) {
            *c ^= b;
        }
        enc(&left, &mut chain);
    }
    if let Some(right) = right {
        let right = Des::new_from_slice(right).map_err(|_| err())?;
        dec(&right, &mut chain);
        enc(&left, &mut chain);
    }
    let mut mac = [0u8; 4];
    mac.copy_from_slice(chain.get(..4).unwrap_or(&[0; 4]));
    Ok(mac)
}

/// The PBOC PIN RELOAD MAC of §5.4: single-DES CBC-MAC from a zero IV under the left half
/// XOR the right half of the 16-byte reload key, over the new PIN (80-padded).
///
/// # Errors
/// [`KeyLengthError`] unless the key has 16 bytes.
pub fn pboc_reload_mac(key: &[u8], pin: &[u8]) -> Result<[u8; 4], KeyLengthError> {
    let (left, right) = key
        .split_first_chunk::<8>()
        .filter(|(_, r)| r.len() == 8)
        .ok_or(KeyLengthError {
            suite: CipherSuite::Des3,
            len: key.len(),
        })?;
    let folded: Vec<u8> = left.iter().zip(right).map(|(l, r)| l ^ r).collect();
    pboc_mac(&folded, &[0; 8], pin)
}

pub use crate::model::secret::pki_pin_key;

/// The PKI application's VERIFY data (§3.7): SM4-ECB of the card's 16-byte challenge (or an
/// 8-byte challenge ‖ 00×8) under [`pki_pin_key`] of the PIN in packed BCD.
#[must_use]
pub fn pki_verify_cryptogram(pin_bcd: &[u8], challenge: &[u8]) -> [u8; 16] {
    pki_cryptogram(&pki_pin_key(pin_bcd), challenge)
}

/// [`pki_verify_cryptogram`] from the PIN key itself (what a card on a state file keeps).
#[must_use]
pub fn pki_cryptogram(key: &[u8; 16], challenge: &[u8]) -> [u8; 16] {
    let mut block = [0u8; 16];
    let n = challenge.len().min(16);
    if let (Some(dst), Some(src)) = (block.get_mut(..n), challenge.get(..n)) {
        dst.copy_from_slice(src);
    }
    if let Ok(cipher) = BlockCipher::new(CipherSuite::Sm4, key) {
        cipher.encrypt_block(&mut block);
    }
    block
}

/// What the diversification factors of §6.6 are made from: the card's region code (levels
/// 1 and 2) and its ATR (level 3).
#[derive(Clone, Copy, Debug)]
pub struct Factors<'a> {
    /// The 6-digit region code, e.g. `"320100"`.
    pub region: Option<&'a str>,
    /// The card's ATR.
    pub atr: &'a [u8],
}

/// Why a key cannot be diversified (docs/CARD.md §6.6).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DiversifyError {
    /// A level other than `province`, `city` or `card`.
    #[error("diversify: expected \"province\", \"city\" or \"card\", found {0:?}")]
    UnknownLevel(String),
    /// A province or city level without the card's region code.
    #[error("diversify: level {0:?} needs the region code")]
    NoRegion(String),
    /// A region code that is not 6 digits.
    #[error("region: {0:?} is not a 6-digit region code")]
    BadRegion(String),
    /// The card level with an ATR too short to hold the card serial.
    #[error("diversify: the ATR has fewer than 8 bytes")]
    ShortAtr,
    /// The master key does not fit the cipher suite.
    #[error("master: {0}")]
    Key(#[from] KeyLengthError),
}

impl Factors<'_> {
    /// The factor of one level: `province`, `city` or `card`.
    ///
    /// # Errors
    /// [`DiversifyError`] naming what is missing or wrong.
    pub fn factor(&self, level: &str) -> Result<[u8; 8], DiversifyError> {
        let region = || {
            self.region
                .ok_or_else(|| DiversifyError::NoRegion(level.to_owned()))
        };
        let bad_region = |r: &str| DiversifyError::BadRegion(r.to_owned());
        match level {
            "province" => {
                let r = region()?;
                province_factor(r).ok_or_else(|| bad_region(r))
            }
            "city" => {
                let r = region()?;
                city_factor(r).ok_or_else(|| bad_region(r))
            }
            "card" => card_factor(self.atr).ok_or(DiversifyError::ShortAtr),
            other => Err(DiversifyError::UnknownLevel(other.to_owned())),
        }
    }

    /// The card key from a master key diversified level by level, in the order given
    /// (national → province → city → card, §6.6).
    ///
    /// # Errors
    /// [`DiversifyError`] for an unknown level, a missing factor or a key that does not fit.
    pub fn derive(
        &self,
        suite: CipherSuite,
        master: &[u8],
        levels: &[String],
    ) -> Result<Vec<u8>, DiversifyError> {
        let mut key = master.to_vec();
        for level in levels {
            let factor = self.factor(level)?;
            key = diversify(suite, &key, &factor)?;
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        apdu::parse_hex(s).unwrap()
    }

    /// docs/CARD.md §8, computed independently with Python `cryptography`.
    #[test]
    fn worked_vectors_of_section_8() {
        let k = h("00112233445566778899AABBCCDDEEFF");
        let r = h("1122334455667788");
        let orig: [u8; 8] = h("8877665544332211").try_into().unwrap();
        let ks = session_key(CipherSuite::Des3, &k, &r).unwrap();
        assert_eq!(ks, h("496BD7A351364453"));
        assert_eq!(
            auth_cryptogram(CipherSuite::Des3, &ks, &orig)
                .unwrap()
                .to_vec(),
            h("5C97F12949FEBB2D")
        );
        let ks = session_key(CipherSuite::Sm4, &k, &r).unwrap();
        assert_eq!(ks, h("BF29E1979D680EF088EC19A9E56028C7"));
        assert_eq!(
            auth_cryptogram(CipherSuite::Sm4, &ks, &orig)
                .unwrap()
                .to_vec(),
            h("592A5EF774F1757C")
        );
        // Diversification, factor ASCII("330300") ‖ 7378.
        let f: [u8; 8] = h("3333303330307378").try_into().unwrap();
        assert_eq!(
            diversify(CipherSuite::Des3, &k, &f).unwrap(),
            h("13402079A97B3FCACB5DA5F42EFAC8BC")
        );
        assert_eq!(
            diversify(CipherSuite::Sm4, &k, &f).unwrap(),
            h("4B4FEE70C338965D54DCA2792FA3D2CA")
        );
        // PIN-reset session keys from STK and challenge A1..A8.
        let stk = h("0123456789ABCDEFFEDCBA9876543210");
        let c = h("A1A2A3A4A5A6A7A8");
        assert_eq!(
            session_key(CipherSuite::Des3, &stk, &c).unwrap(),
            h("720D29FF7CEE3BD9")
        );
        assert_eq!(
            session_key(CipherSuite::Sm4, &stk, &c).unwrap(),
            h("94A1A90D8F0500B8A33857BF3BDC3A05")
        );
    }

    /// §8's PIN reset and unblock APDUs, byte for byte, for DES and SM4.
    #[test]
    fn pin_reset_apdus_of_section_8() {
        let stk = h("0123456789ABCDEFFEDCBA9876543210");
        let c = h("A1A2A3A4A5A6A7A8");
        let pin = h("123456");
        // DES.
        let ks = session_key(CipherSuite::Des3, &stk, &c).unwrap();
        let enc = encrypt_data(CipherSuite::Des3, &ks, &pin).unwrap();
        assert_eq!(enc, h("1C47F79B6C5134B8"));
        let mut apdu = h("842400010C");
        apdu.extend(&enc);
        assert_eq!(
            ssc_mac(CipherSuite::Des3, &ks, &apdu).unwrap().to_vec(),
            h("A1196F5B")
        );
        assert_eq!(
            ssc_mac(CipherSuite::Des3, &ks, &h("8424000004"))
                .unwrap()
                .to_vec(),
            h("B12D5C30")
        );
        assert_eq!(decrypt_data(CipherSuite::Des3, &ks, &enc).unwrap(), pin);
        // SM4.
        let ks = session_key(CipherSuite::Sm4, &stk, &c).unwrap();
        let enc = encrypt_data(CipherSuite::Sm4, &ks, &pin).unwrap();
        assert_eq!(enc, h("7E6B5A9F6FE4359EDAEC17122AB015C7"));
        let mut apdu = h("8424000114");
        apdu.extend(&enc);
        assert_eq!(
            ssc_mac(CipherSuite::Sm4, &ks, &apdu).unwrap().to_vec(),
            h("F7A2B793")
        );
        assert_eq!(decrypt_data(CipherSuite::Sm4, &ks, &enc).unwrap(), pin);
        // Malformed ciphertexts.
        assert_eq!(decrypt_data(CipherSuite::Sm4, &ks, &enc[..8]), None);
        assert_eq!(decrypt_data(CipherSuite::Sm4, &ks, &[0; 16]), None);
    }

    /// Standard known-answer vectors: FIPS 81/NBS DES, GB/T 32907 SM4, FIPS 197 AES-128.
    #[test]
    fn known_answer_vectors() {
        let mut b = h("4E6F772069732074");
        BlockCipher::new(CipherSuite::Des3, &h("0123456789ABCDEF"))
            .unwrap()
            .encrypt_block(&mut b);
        assert_eq!(b, h("3FA40E8A984D4815"));
        let mut b = h("0123456789ABCDEFFEDCBA9876543210");
        let sm4 =
            BlockCipher::new(CipherSuite::Sm4, &h("0123456789ABCDEFFEDCBA9876543210")).unwrap();
        sm4.encrypt_block(&mut b);
        assert_eq!(b, h("681EDF34D206965E86B3E94F536E4246"));
        sm4.decrypt_block(&mut b);
        assert_eq!(b, h("0123456789ABCDEFFEDCBA9876543210"));
        let mut b = h("00112233445566778899AABBCCDDEEFF");
        BlockCipher::new(CipherSuite::Aes, &h("000102030405060708090A0B0C0D0E0F"))
            .unwrap()
            .encrypt_block(&mut b);
        assert_eq!(b, h("69C4E0D86A7B0430D8CDB78070B4C55A"));
        assert!(BlockCipher::new(CipherSuite::Sm4, &[0; 8]).is_err());
    }

    #[test]
    fn factors() {
        assert_eq!(&city_factor("650100").unwrap(), b"650100sx");
        assert_eq!(&city_factor("330300").unwrap(), b"330300sx");
        assert_eq!(&city_factor("330302").unwrap(), b"330300sx");
        assert_eq!(city_factor("65010"), None);
        let atr = h("3B6D000000814A444686605199000001AC");
        assert_eq!(card_factor(&atr).unwrap().to_vec(), h("86605199000001AC"));
    }

    /// docs/CARD.md §3.7/§8: the PKI PIN key and VERIFY cryptogram (real values from S15).
    #[test]
    fn pki_verify_vectors() {
        assert_eq!(
            pki_pin_key(&h("123456")).to_vec(),
            h("3DE741F445DD357BEA4E6C3FE6437036")
        );
        assert_eq!(
            pki_verify_cryptogram(&h("123456"), &h("178CEDCF32C5D7990216632170C7CD37")).to_vec(),
            h("358B51056B9B9EB2C96B20E7DB7A6B8F")
        );
    }

    /// PBOC MACs against an independent computation (Python `cryptography`, DES primitives
    /// composed as ISO/IEC 9797-1 MAC algorithm 3).
    #[test]
    fn pboc_macs() {
        let k = h("0123456789ABCDEFFEDCBA9876543210");
        assert_eq!(
            pboc_mac(&k, &h("11223344"), &h("841E000004"))
                .unwrap()
                .to_vec(),
            h("40D016F4")
        );
        assert_eq!(
            pboc_reload_mac(&k, &h("123456")).unwrap().to_vec(),
            h("00E8797A")
        );
        assert!(pboc_mac(&[0; 12], &[], &[]).is_err());
        assert!(pboc_reload_mac(&[0; 8], &[]).is_err());
    }

    #[test]
    fn province_factors() {
        assert_eq!(&province_factor("650100").unwrap(), b"650000sh");
        assert_eq!(province_factor("6501"), None);
    }
}
