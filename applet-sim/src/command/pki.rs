//! The PKI application's own commands (docs/CARD.md §3.7) as typed values, and their
//! decoders: P1, P2, Lc, Le and the TLV form of the data checked here, before any handler
//! runs. The byte forms are those of S15 and S16 (the personalisation programs that drive
//! "PKI.社会保障"); the signature command is \[I\] (docs/CARD.md §3.7).

use apdu::{CommandApdu, StatusWord};

use super::Command;

/// Instruction bytes of the PKI application (§3.7).
pub mod ins {
    /// `80 C4 01 03`: SM3 of a PIN.
    pub const PIN_HASH: u8 = 0xC4;
    /// `84 5E 01 P2`: the admin PIN change, enciphered with the PKI MAC.
    pub const CHANGE_PIN: u8 = 0x5E;
    /// `84 D4 01 P2`: the key update, enciphered with the PKI MAC.
    pub const KEY_UPDATE: u8 = 0xD4;
    /// `80 40 00 00`: SM2 key pair generation.
    pub const GENERATE_KEY_PAIR: u8 = 0x40;
    /// `80 C9 82 P2`: public key export.
    pub const EXPORT_PUBLIC_KEY: u8 = 0xC9;
    /// `80 4E 00 01`: SM2 decryption of a digital envelope's key.
    pub const DECIPHER: u8 = 0x4E;
    /// `80 4A 02 10`: import of an SM4 key.
    pub const IMPORT_SESSION_KEY: u8 = 0x4A;
    /// `80 C2 P1 P2`: import of an SM2 public or private key.
    pub const IMPORT_KEY: u8 = 0xC2;
    /// `00 2A 9E 9A`: PERFORM SECURITY OPERATION, COMPUTE DIGITAL SIGNATURE (ISO 7816-8) \[I\].
    pub const SIGN: u8 = 0x2A;
}

/// The files of an SM2 key pair (`C0 02 <public key EF> C2 02 <private key file>`, S16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPairFiles {
    /// The EF that holds the public key (0012 for the signature key).
    pub public: u16,
    /// The file that holds the private key (0013), never readable.
    pub private: u16,
}

/// The two steps of `80 C9 82` (S16): choose the key pair, then read its public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// P2 = 00 with `C0 02 <EF> C2 02 <file>`.
    Choose(KeyPairFiles),
    /// P2 = 80 with Le (0x42): the chosen pair's public key.
    Read {
        /// Bytes asked for.
        ne: u32,
    },
}

/// A command of the PKI application (§3.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PkiCommand<'a> {
    /// `80 C4 01 03 Lc C1 L <PIN in BCD> [Le]`: SM3 of the PIN (no PIN needed, nothing kept).
    PinHash {
        /// The PIN in BCD, as sent.
        pin: &'a [u8],
    },
    /// `84 5E 01 P2 14`: SM4(K_old, LD ‖ new PIN ‖ 80…) ‖ MAC (PKI MAC under K_old).
    ChangePin {
        /// The PIN reference (00: the admin PIN).
        reference: u8,
        /// The enciphered block.
        enciphered: &'a [u8; 16],
        /// The MAC.
        mac: [u8; 4],
    },
    /// `84 D4 01 P2 24`: SM4(old key, 13 ‖ 00 00 00 ‖ new key ‖ 80…) ‖ MAC.
    KeyUpdate {
        /// The key id (P2).
        key_id: u8,
        /// The enciphered block.
        enciphered: &'a [u8; 32],
        /// The MAC.
        mac: [u8; 4],
    },
    /// `80 40 00 00 08 C0 02 <EF> C2 02 <file>`: a new SM2 key pair.
    GenerateKeyPair(KeyPairFiles),
    /// `80 C9 82 P2`: public key export.
    ExportPublicKey(Export),
    /// `80 4E 00 01 Lc C2 02 <file> C1 L <C1 ‖ C3 ‖ C2> [Le]`: SM2 decryption with the private
    /// key of `<file>`; the plain text is returned.
    Decipher {
        /// The private key file.
        private: u16,
        /// X ‖ Y ‖ C3 ‖ C2.
        cipher: &'a [u8],
    },
    /// `80 4A 02 10 12 C1 10 <key>`: an SM4 key for the next enciphered import.
    ImportSessionKey {
        /// The key.
        key: &'a [u8; 16],
    },
    /// `80 C2 40 00 46 C0 02 <EF> CA 40 <X ‖ Y>`: a public key into its EF.
    ImportPublicKey {
        /// The EF.
        file: u16,
        /// X ‖ Y.
        xy: &'a [u8; 64],
    },
    /// `80 C2 C0 P2 26 C2 02 <file> CB 20 <d>`: a private key, enciphered (SM4-ECB under the
    /// imported session key) when P2 = 01, plain when 00.
    ImportPrivateKey {
        /// The private key file.
        file: u16,
        /// The 32 bytes.
        value: &'a [u8; 32],
        /// P2 = 01.
        enciphered: bool,
    },
    /// `00 2A 9E 9A 20 <e> [Le]`: r ‖ s of the digest under the signature private key \[I\].
    Sign {
        /// e = SM3(Z_A ‖ M).
        digest: &'a [u8; 32],
    },
}

fn pki<'a>(c: PkiCommand<'a>) -> Result<Command<'a>, StatusWord> {
    Ok(Command::Pki(c))
}

fn p1p2(apdu: &CommandApdu<'_>, p1: u8, p2: &[u8]) -> Result<(), StatusWord> {
    if apdu.p1 == p1 && p2.contains(&apdu.p2) {
        Ok(())
    } else {
        Err(StatusWord::IncorrectP1P2)
    }
}

fn no_le(apdu: &CommandApdu<'_>) -> Result<(), StatusWord> {
    apdu.ne.map_or(Ok(()), |_| Err(StatusWord::WrongLength))
}

/// One BER-TLV with a one-byte tag at the start of `data`: (value, rest); 6A80 when the tag
/// differs or the length does not fit.
fn tlv(data: &[u8], tag: u8) -> Result<(&[u8], &[u8]), StatusWord> {
    let bad = StatusWord::WrongData;
    let (t, rest) = data.split_first().ok_or(bad)?;
    if *t != tag {
        return Err(bad);
    }
    let (len, rest) = match rest {
        // The long forms as the sources write them (`C1 82 00 70`, S15/S16: not minimal).
        [0x81, l, rest @ ..] => (usize::from(*l), rest),
        [0x82, hi, lo, rest @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), rest),
        [l, rest @ ..] if *l < 0x80 => (usize::from(*l), rest),
        _ => return Err(bad),
    };
    rest.split_at_checked(len).ok_or(bad)
}

/// A `C0 02 <fid>` or `C2 02 <fid>` file reference.
fn file_ref(data: &[u8], tag: u8) -> Result<(u16, &[u8]), StatusWord> {
    let (value, rest) = tlv(data, tag)?;
    match value {
        [hi, lo] => Ok((u16::from_be_bytes([*hi, *lo]), rest)),
        _ => Err(StatusWord::WrongData),
    }
}

fn pair(data: &[u8]) -> Result<KeyPairFiles, StatusWord> {
    if data.len() != 8 {
        return Err(StatusWord::WrongLength);
    }
    let (public, rest) = file_ref(data, 0xC0)?;
    let (private, _) = file_ref(rest, 0xC2)?;
    Ok(KeyPairFiles { public, private })
}

/// The data field as a fixed-size array (6700 otherwise).
fn exact<const N: usize>(data: &[u8]) -> Result<&[u8; N], StatusWord> {
    data.try_into().map_err(|_| StatusWord::WrongLength)
}

/// `80 C4 01 03`: the value of `C1` must be 1–8 bytes of BCD digits (an odd count F-padded).
pub(super) fn pin_hash<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    p1p2(apdu, 0x01, &[0x03])?;
    if apdu.data.is_empty() {
        return Err(StatusWord::WrongLength);
    }
    let (pin, rest) = tlv(apdu.data, 0xC1)?;
    let digits = pin.len() * 2;
    let well_formed = rest.is_empty()
        && (1..=8).contains(&pin.len())
        && crate::model::PinEncoding::Bcd
            .decode(pin, 1, u8::try_from(digits).unwrap_or(16))
            .is_ok();
    if !well_formed {
        return Err(StatusWord::WrongData);
    }
    pki(PkiCommand::PinHash { pin })
}

/// `84 5E 01 P2 14`.
pub(super) fn change_pin<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    if apdu.p1 != 0x01 {
        return Err(StatusWord::IncorrectP1P2);
    }
    no_le(apdu)?;
    let data: &[u8; 20] = exact(apdu.data)?;
    let (enciphered, mac) = data
        .split_first_chunk::<16>()
        .ok_or(StatusWord::WrongLength)?;
    pki(PkiCommand::ChangePin {
        reference: apdu.p2,
        enciphered,
        mac: *exact::<4>(mac)?,
    })
}

/// `84 D4 01 P2 24`.
pub(super) fn key_update<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    if apdu.p1 != 0x01 {
        return Err(StatusWord::IncorrectP1P2);
    }
    no_le(apdu)?;
    let data: &[u8; 36] = exact(apdu.data)?;
    let (enciphered, mac) = data
        .split_first_chunk::<32>()
        .ok_or(StatusWord::WrongLength)?;
    pki(PkiCommand::KeyUpdate {
        key_id: apdu.p2,
        enciphered,
        mac: *exact::<4>(mac)?,
    })
}

/// `80 40 00 00 08 C0 02 <EF> C2 02 <file>`.
pub(super) fn generate_key_pair<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    p1p2(apdu, 0x00, &[0x00])?;
    no_le(apdu)?;
    pki(PkiCommand::GenerateKeyPair(pair(apdu.data)?))
}

/// `80 C9 82 00 08 …` (choose) or `80 C9 82 80 Le` (read).
pub(super) fn export_public_key<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    p1p2(apdu, 0x82, &[0x00, 0x80])?;
    let export = if apdu.p2 == 0x00 {
        no_le(apdu)?;
        Export::Choose(pair(apdu.data)?)
    } else {
        if !apdu.data.is_empty() {
            return Err(StatusWord::WrongLength);
        }
        Export::Read {
            ne: apdu.ne.ok_or(StatusWord::WrongLength)?,
        }
    };
    pki(PkiCommand::ExportPublicKey(export))
}

/// `80 4E 00 01 Lc C2 02 <file> C1 L <cipher> [Le]`.
pub(super) fn decipher<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    p1p2(apdu, 0x00, &[0x01])?;
    if apdu.data.is_empty() {
        return Err(StatusWord::WrongLength);
    }
    let (private, rest) = file_ref(apdu.data, 0xC2)?;
    let (cipher, rest) = tlv(rest, 0xC1)?;
    if !rest.is_empty() || cipher.len() <= 96 {
        return Err(StatusWord::WrongData);
    }
    pki(PkiCommand::Decipher { private, cipher })
}

/// `80 4A 02 10 12 C1 10 <key>`.
pub(super) fn import_session_key<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    p1p2(apdu, 0x02, &[0x10])?;
    no_le(apdu)?;
    let data: &[u8; 18] = exact(apdu.data)?;
    let (key, _) = tlv(data, 0xC1)?;
    pki(PkiCommand::ImportSessionKey { key: exact(key)? })
}

/// `80 C2 40 00` (public key) or `80 C2 C0 00|01` (private key).
pub(super) fn import_key<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    match (apdu.p1, apdu.p2) {
        (0x40, 0x00) => {
            no_le(apdu)?;
            let data: &[u8; 70] = exact(apdu.data)?;
            let (file, rest) = file_ref(data, 0xC0)?;
            let (xy, _) = tlv(rest, 0xCA)?;
            pki(PkiCommand::ImportPublicKey {
                file,
                xy: exact(xy).map_err(|_| StatusWord::WrongData)?,
            })
        }
        (0xC0, p2 @ (0x00 | 0x01)) => {
            no_le(apdu)?;
            let data: &[u8; 38] = exact(apdu.data)?;
            let (file, rest) = file_ref(data, 0xC2)?;
            let (value, _) = tlv(rest, 0xCB)?;
            pki(PkiCommand::ImportPrivateKey {
                file,
                value: exact(value).map_err(|_| StatusWord::WrongData)?,
                enciphered: p2 == 0x01,
            })
        }
        _ => Err(StatusWord::IncorrectP1P2),
    }
}

/// `00 2A 9E 9A 20 <digest> [Le]`.
pub(super) fn sign<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    p1p2(apdu, 0x9E, &[0x9A])?;
    pki(PkiCommand::Sign {
        digest: exact(apdu.data)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(hex: &str) -> Result<PkiCommand<'static>, StatusWord> {
        let bytes: &'static [u8] = Box::leak(apdu::parse_hex(hex).unwrap().into_boxed_slice());
        let apdu = CommandApdu::parse(bytes).unwrap();
        match Command::decode(&apdu, Some(crate::model::AppKind::Pki))? {
            Command::Pki(c) => Ok(c),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_sources_forms_decode() {
        assert_eq!(
            decode("80C4010305C10312345600"),
            Ok(PkiCommand::PinHash {
                pin: &[0x12, 0x34, 0x56]
            })
        );
        assert_eq!(
            decode("8040000008C0020012C2020013"),
            Ok(PkiCommand::GenerateKeyPair(KeyPairFiles {
                public: 0x12,
                private: 0x13
            }))
        );
        assert_eq!(
            decode("80C9828042"),
            Ok(PkiCommand::ExportPublicKey(Export::Read { ne: 0x42 }))
        );
        assert!(matches!(
            decode("80C9820008C0020012C2020013"),
            Ok(PkiCommand::ExportPublicKey(Export::Choose(_)))
        ));
        let cipher = "AB".repeat(0x70);
        assert!(matches!(
            decode(&format!("804E000178C2020013C1820070{cipher}")),
            Ok(PkiCommand::Decipher { private: 0x13, cipher }) if cipher.len() == 0x70
        ));
        assert!(matches!(
            decode(&format!("804A021012C110{}", "11".repeat(16))),
            Ok(PkiCommand::ImportSessionKey { .. })
        ));
        assert!(matches!(
            decode(&format!("80C2400046C0020014CA40{}", "22".repeat(64))),
            Ok(PkiCommand::ImportPublicKey { file: 0x14, .. })
        ));
        assert!(matches!(
            decode(&format!("80C2C00126C2020015CB20{}", "33".repeat(32))),
            Ok(PkiCommand::ImportPrivateKey {
                file: 0x15,
                enciphered: true,
                ..
            })
        ));
        assert!(matches!(
            decode(&format!("845E010014{}", "44".repeat(20))),
            Ok(PkiCommand::ChangePin { reference: 0, .. })
        ));
        assert!(matches!(
            decode(&format!("84D4010024{}", "55".repeat(36))),
            Ok(PkiCommand::KeyUpdate { key_id: 0, .. })
        ));
        assert!(matches!(
            decode(&format!("002A9E9A20{}00", "66".repeat(32))),
            Ok(PkiCommand::Sign { .. })
        ));
    }

    #[test]
    fn malformed_forms_answer_their_status_word() {
        use StatusWord::{IncorrectP1P2, WrongData, WrongLength};
        let cases: &[(&str, StatusWord)] = &[
            ("80C4010205C103123456", IncorrectP1P2),
            ("80C4010300", WrongLength),
            ("80C4010305C203123456", WrongData),
            ("80C4010305C104123456", WrongData),
            ("80C4010306C1031234560A", WrongData),
            ("80C4010305C1031234A6", WrongData),
            ("80C401030BC109112233445566778899", WrongData),
            ("80C4010302C100", WrongData),
            ("80C4010302C180", WrongData),
            ("8040000107C0020012C20200", IncorrectP1P2),
            ("8040000007C0020012C20200", WrongLength),
            ("8040000008C0020012C3020013", WrongData),
            ("8040000008C0030012C2020013", WrongData),
            ("8040000008C0020012C202001300", WrongLength),
            ("80C9818042", IncorrectP1P2),
            ("80C9828001AA42", WrongLength),
            ("80C98280", WrongLength),
            ("80C9820008C0020012C202001342", WrongLength),
            ("804E000200", IncorrectP1P2),
            ("804E0001", WrongLength),
            ("804E000107C2020013C10100", WrongData),
            (
                "804A021011C10F00112233445566778899AABBCCDDEEFF",
                WrongLength,
            ),
            ("80C2400000", WrongLength),
            ("80C2C00200", IncorrectP1P2),
            (
                "845E020014000000000000000000000000000000000000000000",
                IncorrectP1P2,
            ),
            ("845E010013", WrongLength),
            ("84D4000024", IncorrectP1P2),
            ("002A9E9B20", IncorrectP1P2),
            ("002A9E9A0100", WrongLength),
        ];
        for (hex, sw) in cases {
            let bytes = apdu::parse_hex(hex).unwrap();
            let Ok(a) = CommandApdu::parse(&bytes) else {
                continue;
            };
            assert_eq!(
                Command::decode(&a, Some(crate::model::AppKind::Pki)).map(|_| ()),
                Err(*sw),
                "{hex}"
            );
        }
    }
}
