//! The cryptography of the 3.0 PKI application (docs/CARD.md §3.7, §6.3), shared by the card
//! and the terminal side (harness PSAM directives, tests): the PIN hash of `80 C4`, the PKI MAC
//! (IV = the card's 16-byte challenge, key = the stored key, XOR fold), the enciphered blocks
//! of the admin PIN change `84 5E` and the key update `84 D4`, and SM2 (GM/T 0003) through
//! RustCrypto's `sm2`: key pairs, the public key's 0x42-byte form, signatures of a digest,
//! decryption of a C1 ‖ C3 ‖ C2 ciphertext.

use sm2::elliptic_curve::sec1::ToSec1Point;
use sm3::{Digest, Sm3};

use crate::crypto::{BlockCipher, MacChain};
use crate::model::CipherSuite;

/// The tag and length before X ‖ Y in EF 0012 and in the `80 C9` answer (0x42 bytes in all):
/// the public-key tag `CA 40` of the import `80 C2 40 00` (S15, S16). \[I\] for the files: the
/// sources read 0x42 bytes and skip the first two.
pub const PUBLIC_KEY_TAG: [u8; 2] = [0xCA, 0x40];

/// The distinguishing identifier a terminal uses for Z_A (GM/T 0009 §10's default
/// `1234567812345678`); the card signs the digest it is given and never computes Z_A.
pub const DEFAULT_ID: &str = "1234567812345678";

/// SM3 of the PIN in BCD (`80 C4`, §3.7): the 32 bytes the card returns.
#[must_use]
pub fn pin_hash(pin_bcd: &[u8]) -> [u8; 32] {
    Sm3::digest(pin_bcd).into()
}

/// The PKI application's MAC (§6.3, S15 `SM4_MAC`/`GetMAC`): `data` padded with `80 00…` to
/// 16-byte blocks, SM4-CBC under `key` from IV = the challenge (zero-padded to 16 bytes), the
/// last block folded to 4 bytes by XOR of its four words. `None` for a key of the wrong
/// length.
#[must_use]
pub fn mac(key: &[u8], challenge: &[u8], data: &[u8]) -> Option<[u8; 4]> {
    let cipher = BlockCipher::new(CipherSuite::Sm4, key).ok()?;
    let mut iv = [0u8; 16];
    let n = challenge.len().min(16);
    iv.get_mut(..n)?.copy_from_slice(challenge.get(..n)?);
    let mut padded = data.to_vec();
    padded.push(0x80);
    padded.resize(padded.len().div_ceil(16) * 16, 0);
    let mut chain = MacChain::new(cipher, Some(&iv));
    chain.absorb(&padded);
    Some(chain.finish())
}

/// SM4-ECB of whole 16-byte blocks (`None` for a bad key or a partial block).
#[must_use]
pub fn sm4_ecb(key: &[u8], data: &[u8], encrypt: bool) -> Option<Vec<u8>> {
    let cipher = BlockCipher::new(CipherSuite::Sm4, key).ok()?;
    if !data.len().is_multiple_of(16) {
        return None;
    }
    let mut out = data.to_vec();
    for block in out.chunks_exact_mut(16) {
        if encrypt {
            cipher.encrypt_block(block);
        } else {
            cipher.decrypt_block(block);
        }
    }
    Some(out)
}

/// `LD ‖ data ‖ 80 00…` to a multiple of 16 bytes (§6.4's block form, as `84 5E` and `84 D4`
/// use it). `None` when `data` is longer than 255 bytes.
#[must_use]
pub fn padded_block(data: &[u8]) -> Option<Vec<u8>> {
    let mut block = vec![u8::try_from(data.len()).ok()?];
    block.extend_from_slice(data);
    block.push(0x80);
    block.resize(block.len().div_ceil(16) * 16, 0);
    Some(block)
}

/// Reverses [`padded_block`]: the data, or `None` when LD, the `80` or the zeros are wrong.
#[must_use]
pub fn unpad_block(block: &[u8]) -> Option<&[u8]> {
    let (ld, rest) = block.split_first()?;
    let (data, pad) = rest.split_at_checked(usize::from(*ld))?;
    let (marker, zeros) = pad.split_first()?;
    (*marker == 0x80 && zeros.iter().all(|b| *b == 0) && zeros.len() < 16).then_some(data)
}

/// The terminal's admin PIN change `84 5E 01 P2 14` (§3.7): SM4-ECB of `len ‖ new PIN in BCD ‖
/// 80 00…` under the first 16 bytes of SM3 of the old PIN in BCD, then the PKI MAC over the
/// header, Lc and that block, IV = the card's challenge. S15's trace: old `12345678`, new
/// `72923074`, challenge `84B7B9199A29A245B2ADE3E80BE4EAF3` → `91A41964…FE11 E48CEFB3`.
#[must_use]
pub fn admin_pin_change(
    reference: u8,
    old_bcd: &[u8],
    new_bcd: &[u8],
    challenge: &[u8],
) -> Vec<u8> {
    let key = crate::crypto::pki_pin_key(old_bcd);
    secured(
        [0x84, 0x5E, 0x01, reference],
        &key,
        &padded_block(new_bcd).unwrap_or_default(),
        challenge,
    )
}

/// The terminal's key update `84 D4 01 P2 24` (§3.7, S15): SM4-ECB of `13 ‖ 00 00 00 ‖ new
/// key ‖ 80 00…` under the old key, then the PKI MAC under the old key.
#[must_use]
pub fn key_update(key_id: u8, old_key: &[u8], new_key: &[u8; 16], challenge: &[u8]) -> Vec<u8> {
    let mut data = vec![0u8; 3];
    data.extend_from_slice(new_key);
    secured(
        [0x84, 0xD4, 0x01, key_id],
        old_key,
        &padded_block(&data).unwrap_or_default(),
        challenge,
    )
}

/// `header ‖ Lc ‖ SM4-ECB(key, block) ‖ MAC`.
fn secured(header: [u8; 4], key: &[u8], block: &[u8], challenge: &[u8]) -> Vec<u8> {
    let enciphered = sm4_ecb(key, block, true).unwrap_or_default();
    let mut apdu = header.to_vec();
    apdu.push(u8::try_from(enciphered.len() + 4).unwrap_or(0));
    apdu.extend_from_slice(&enciphered);
    let m = mac(key, challenge, &apdu).unwrap_or_default();
    apdu.extend_from_slice(&m);
    apdu
}

/// An SM2 private key from 32 bytes: `None` unless 0 < d < n.
#[must_use]
pub fn secret_key(bytes: &[u8]) -> Option<sm2::SecretKey> {
    sm2::SecretKey::from_slice(bytes).ok()
}

/// X ‖ Y (64 bytes) of the public key of `secret`.
#[must_use]
pub fn public_xy(secret: &sm2::SecretKey) -> [u8; 64] {
    let point = secret.public_key().to_sec1_point(false);
    let mut xy = [0u8; 64];
    if let Some(src) = point.as_bytes().get(1..65) {
        xy.copy_from_slice(src);
    }
    xy
}

/// The 0x42-byte public-key object of EF 0012 and `80 C9`: [`PUBLIC_KEY_TAG`] ‖ X ‖ Y.
#[must_use]
pub fn public_key_object(xy: &[u8; 64]) -> Vec<u8> {
    let mut out = PUBLIC_KEY_TAG.to_vec();
    out.extend_from_slice(xy);
    out
}

/// The signature r ‖ s (64 bytes, GM/T 0009's raw form) of a 32-byte digest e = SM3(Z_A ‖ M)
/// under `secret`; deterministic (RFC 6979 nonce). `None` only if signing fails.
#[must_use]
pub fn sign_digest(secret: &sm2::SecretKey, digest: &[u8; 32]) -> Option<[u8; 64]> {
    use sm2::dsa::signature::hazmat::PrehashSigner;
    let key = sm2::dsa::SigningKey::new(DEFAULT_ID, secret).ok()?;
    let sig = key.sign_prehash(digest).ok()?;
    Some(sig.to_bytes().into())
}

/// Z_A ‖ M hashed (the digest a terminal sends to be signed) for public key X ‖ Y and
/// identifier [`DEFAULT_ID`].
#[must_use]
pub fn message_digest(xy: &[u8; 64], message: &[u8]) -> Option<[u8; 32]> {
    let mut sec1 = vec![0x04];
    sec1.extend_from_slice(xy);
    sm2::dsa::VerifyingKey::from_sec1_bytes(DEFAULT_ID, &sec1).ok()?;
    let za = za(xy)?;
    let mut h = Sm3::new();
    h.update(za);
    h.update(message);
    Some(h.finalize().into())
}

/// Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A) for [`DEFAULT_ID`] (GM/T 0003.2
/// §5.5).
fn za(xy: &[u8; 64]) -> Option<[u8; 32]> {
    const A: &str = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC";
    const B: &str = "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93";
    const GX: &str = "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7";
    const GY: &str = "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0";
    let mut h = Sm3::new();
    let bits = u16::try_from(DEFAULT_ID.len() * 8).ok()?;
    h.update(bits.to_be_bytes());
    h.update(DEFAULT_ID.as_bytes());
    for c in [A, B, GX, GY] {
        h.update(apdu::parse_hex(c).ok()?);
    }
    h.update(xy);
    Some(h.finalize().into())
}

/// Checks r ‖ s over a 32-byte digest with public key X ‖ Y.
#[must_use]
pub fn verify_digest(xy: &[u8; 64], digest: &[u8; 32], signature: &[u8]) -> bool {
    use sm2::dsa::signature::hazmat::PrehashVerifier;
    let mut sec1 = vec![0x04];
    sec1.extend_from_slice(xy);
    let (Ok(vk), Ok(sig)) = (
        sm2::dsa::VerifyingKey::from_sec1_bytes(DEFAULT_ID, &sec1),
        sm2::dsa::Signature::from_slice(signature),
    ) else {
        return false;
    };
    vk.verify_prehash(digest, &sig).is_ok()
}

/// SM2 decryption of C1 (X ‖ Y, 64 bytes, no `04`) ‖ C3 (32) ‖ C2 (GM/T 0009 order, as S15's
/// `80 4E` sends it). `None` for a point off the curve, a wrong C3 or an empty C2.
#[must_use]
pub fn decrypt(secret: &sm2::SecretKey, cipher: &[u8]) -> Option<Vec<u8>> {
    use sm2::pke::{DecryptingKey, Mode};
    if cipher.len() <= 96 {
        return None;
    }
    let mut full = vec![0x04];
    full.extend_from_slice(cipher);
    DecryptingKey::new_with_mode(secret.to_nonzero_scalar(), Mode::C1C3C2)
        .decrypt(&full)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        apdu::parse_hex(s).unwrap()
    }

    #[test]
    fn pin_hash_is_the_worked_value() {
        assert_eq!(
            pin_hash(&h("123456")).to_vec(),
            h("3DE741F445DD357BEA4E6C3FE6437036F62B5E3EC0F00D62796EDB4305ED627F")
        );
        assert_eq!(
            pin_hash(&h("12345678")).to_vec(),
            h("4D59306C7397E06DE3CD82A14A926FBAFED44352AD3EF88A06F5CBE600AF3DCF")
        );
    }

    #[test]
    fn admin_pin_change_is_s15s_trace() {
        let apdu = admin_pin_change(
            0x00,
            &h("12345678"),
            &h("72923074"),
            &h("84B7B9199A29A245B2ADE3E80BE4EAF3"),
        );
        assert_eq!(
            apdu,
            h("845E010014 91A41964F0736EB6F6003DD1934FFE11 E48CEFB3")
        );
    }

    #[test]
    fn blocks_round_trip_and_reject_bad_padding() {
        let b = padded_block(&[1, 2, 3]).unwrap();
        assert_eq!(b.len(), 16);
        assert_eq!(unpad_block(&b), Some(&[1u8, 2, 3][..]));
        let mut bad = b.clone();
        bad[4] = 0x81;
        assert_eq!(unpad_block(&bad), None);
        let mut bad = b.clone();
        bad[15] = 1;
        assert_eq!(unpad_block(&bad), None);
        assert_eq!(unpad_block(&[0x20; 16]), None);
        // A whole block of padding too many.
        let mut long = b.clone();
        long.extend_from_slice(&[0; 16]);
        assert_eq!(unpad_block(&long), None);
        assert_eq!(unpad_block(&[]), None);
        assert_eq!(padded_block(&[0; 256]), None);
    }

    #[test]
    fn a_signature_verifies_with_the_public_key_only() {
        let d = secret_key(&[7u8; 32]).unwrap();
        let xy = public_xy(&d);
        let e = message_digest(&xy, b"abc").unwrap();
        let sig = sign_digest(&d, &e).unwrap();
        assert!(verify_digest(&xy, &e, &sig));
        let mut other = e;
        other[0] ^= 1;
        assert!(!verify_digest(&xy, &other, &sig));
        assert!(!verify_digest(&xy, &e, &sig[1..]));
        assert_eq!(public_key_object(&xy).len(), 0x42);
        assert!(secret_key(&[0u8; 32]).is_none());
        assert!(secret_key(&[0xFFu8; 32]).is_none());
    }

    #[test]
    fn the_mac_checks_the_key_length() {
        assert!(mac(&[0; 15], &[0; 16], b"x").is_none());
        assert!(sm4_ecb(&[0; 16], &[0; 15], true).is_none());
        assert!(decrypt(&secret_key(&[7u8; 32]).unwrap(), &[0; 96]).is_none());
    }
}
