//! The PSAM operations as vectors (`psam` steps) and the command line name them
//! (vectors/README.md, `psam`), and what each runs.

use applet_sim::model::{PinTextError, PinValue};

use super::{ExtAuth, Psam, PsamError, Transcript};
use crate::transport::Transport;

/// Why an operation's text cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// Not a hex byte where one is expected.
    #[error("{0}")]
    Byte(HexByteError),
    /// Not a PIN where one is expected.
    #[error("expected a PIN: {0}")]
    Pin(PinTextError),
    /// `secure` data that is not hex.
    #[error("{0}")]
    Hex(apdu::HexError),
    /// Not a sub-application's FID (`DF01`) where one is expected.
    #[error("expected a sub-application's FID (DF01 ... DF07), found {0:?}")]
    SubApplication(String),
    /// `secure` data shorter than a command header.
    #[error("secure: expected CLA INS P1 P2 and the data")]
    SecureHeader,
    /// An unknown operation or the wrong number of arguments.
    #[error("expected one of: {OPERATIONS}")]
    Unknown,
}

/// A word that is not one hex byte.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected a hex byte, found {0:?}")]
pub struct HexByteError(pub String);

/// A sub-application's FID as vectors write it: `DF01` … `DF0F` (docs/CARD.md §3.1).
fn sub(word: &str) -> Result<u16, OpError> {
    word.strip_prefix("DF")
        .filter(|h| h.len() == 2)
        .and_then(|h| u8::from_str_radix(h, 16).ok())
        .map(|n| 0xDF00 | u16::from(n))
        .ok_or_else(|| OpError::SubApplication(word.to_owned()))
}

/// One byte written as hex digits (`0A`), as vectors write key ids, references and lengths.
///
/// # Errors
/// [`HexByteError`] with the word.
pub fn hex_byte(word: &str) -> Result<u8, HexByteError> {
    u8::from_str_radix(word, 16).map_err(|_| HexByteError(word.to_owned()))
}

/// A PSAM operation as vectors and the command line name it (vectors/README.md, `psam`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `ext-auth KEY [version VV] [one-challenge]`: EXTERNAL AUTHENTICATE with SSSE key KEY
    /// (hex), with the key version byte VV, from one challenge (§7.4) instead of two (§7.1).
    ExternalAuthenticate(ExtAuth),
    /// `df-ext-auth DF KEY`: EXTERNAL AUTHENTICATE with the DF-specific key KEY of
    /// sub-application DF (`DF01 83`, docs/CARD.md §6.7).
    SubExternalAuthenticate(u16, u8),
    /// `df-secure DF HEX`: a CLA 04 write to a file of sub-application DF, MAC'd under the
    /// session key of its STKDFxx (82).
    SubSecure(u16, [u8; 4], Vec<u8>),
    /// `int-auth`: INTERNAL AUTHENTICATE, the card's answer checked with the IRK.
    InternalAuthenticate,
    /// `pin-reset PIN`: `84 24 00 01` (after `ext-auth 06`).
    PinReset(String),
    /// `pin-unblock`: `84 24 00 00` (after `ext-auth 06`).
    PinUnblock,
    /// `secure HEX`: a CLA 04/84 command (header ‖ data, no Lc) sent with the SSC MAC under
    /// the STK session key.
    Secure([u8; 4], Vec<u8>),
    /// `block-app`: APPLICATION BLOCK `84 1E 00 01` (SSC MAC, STK).
    BlockApplication,
    /// `block-card`: CARD BLOCK `84 16 00 00` (SSC MAC, BK).
    BlockCard,
    /// `pboc-block-app temporary|permanent`: `84 1E 00 00|01` (PBOC MAC, DAMK).
    PbocBlockApplication(bool),
    /// `pboc-unblock-app`: `84 18 00 00` (PBOC MAC, DAMK).
    PbocUnblockApplication,
    /// `pboc-block-card`: `84 16 00 00` (PBOC MAC, DAMK).
    PbocBlockCard,
    /// `pboc-pin-unblock PIN`: `84 24 00 00` with the current PIN (DPUK).
    PbocPinUnblock(String),
    /// `pboc-pin-reload PIN`: `80 5E 00 00` (DPRK).
    PbocPinReload(String),
    /// `pki-verify REF PIN`: `00 20 01 REF 10` (§3.7).
    PkiVerify(u8, String),
    /// `pki-change-pin REF OLD NEW`: `84 5E 01 REF 14`, the new PIN enciphered and the PKI
    /// MAC under SM3(OLD)[0..16] (§3.7, §6.3).
    PkiChangePin(u8, String, String),
    /// `purse-load AMOUNT`: INIT LOAD, CREDIT LOAD (§4.6); amount in decimal fen.
    PurseLoad(u32),
    /// `purse-purchase CIA SPIP SPFP`: INIT PURCHASE, DEBIT (§4.6); amounts in decimal fen.
    PursePurchase([u32; 3]),
    /// `purse-start-day MMDD`: UPDATE STARTING DAY `B0 56 00 00` (DSK MAC, §4.6).
    PurseStartDay([u8; 2]),
}

impl std::fmt::Display for Operation {
    /// What the operation does, in words, with its command (`PIN reset (84 24 00 01) to new
    /// PIN 123`), for messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ExternalAuthenticate(how) => {
                write!(f, "EXTERNAL AUTHENTICATE (00 82) with key {:02X}", how.key)?;
                if let Some(v) = how.version {
                    write!(f, " version {v:02X}")?;
                }
                if how.one_challenge {
                    f.write_str(" from one challenge")?;
                }
                Ok(())
            }
            Self::SubExternalAuthenticate(df, key) => {
                write!(
                    f,
                    "EXTERNAL AUTHENTICATE (00 82) with key {key:02X} of {df:04X}"
                )
            }
            Self::SubSecure(df, header, _) => write!(
                f,
                "secured command {} under the STK of {df:04X}",
                apdu::hex_spaced(header)
            ),
            Self::InternalAuthenticate => f.write_str("INTERNAL AUTHENTICATE (00 88)"),
            Self::PinReset(pin) => write!(f, "PIN reset (84 24 00 01) to new PIN {pin}"),
            Self::PinUnblock => f.write_str("PIN unblock (84 24 00 00)"),
            Self::Secure(header, _) => {
                write!(f, "secured command {}", apdu::hex_spaced(header))
            }
            Self::BlockApplication => f.write_str("APPLICATION BLOCK (84 1E 00 01)"),
            Self::BlockCard => f.write_str("CARD BLOCK (84 16 00 00)"),
            Self::PbocBlockApplication(permanent) => write!(
                f,
                "financial APPLICATION BLOCK (84 1E 00 {:02X})",
                u8::from(*permanent)
            ),
            Self::PbocUnblockApplication => f.write_str("financial APPLICATION UNBLOCK (84 18)"),
            Self::PbocBlockCard => f.write_str("financial CARD BLOCK (84 16 00 00)"),
            Self::PbocPinUnblock(_) => f.write_str("financial PIN unblock (84 24 00 00)"),
            Self::PbocPinReload(_) => f.write_str("financial PIN reload (80 5E 00 00)"),
            Self::PkiVerify(reference, _) => {
                write!(f, "PKI VERIFY (00 20 01 {reference:02X}) by cryptogram")
            }
            Self::PkiChangePin(reference, _, _) => {
                write!(f, "PKI PIN change (84 5E 01 {reference:02X})")
            }
            Self::PurseLoad(amount) => write!(f, "e-purse load of {amount} (B0 28, B0 2A)"),
            Self::PursePurchase([a, s, p]) => {
                write!(f, "e-purse purchase of {a}/{s}/{p} (B0 28, B0 2C)")
            }
            Self::PurseStartDay(day) => {
                write!(f, "e-purse starting day {} (B0 56)", apdu::hex_compact(day))
            }
        }
    }
}

/// An operation and whether its MAC or cryptogram is deliberately corrupted (`tamper`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// The operation as written (words separated by one space).
    pub text: String,
    /// What to do.
    pub operation: Operation,
    /// Flip a bit of the final MAC or cryptogram.
    pub tamper: bool,
}

/// The operation names, for error messages.
pub const OPERATIONS: &str = "ext-auth KEY [version VV] [one-challenge], df-ext-auth DF KEY, df-secure DF HEX, int-auth, pin-reset PIN, pin-unblock, secure HEX, \
block-app, block-card, pboc-block-app temporary|permanent, pboc-unblock-app, pboc-block-card, \
pboc-pin-unblock PIN, pboc-pin-reload PIN, pki-verify REF PIN, pki-change-pin REF OLD NEW, \
purse-load AMOUNT, purse-purchase CIA SPIP SPFP, purse-start-day MMDD (each optionally followed \
by tamper)";

impl Op {
    /// Parses `NAME ARGS... [tamper]`.
    ///
    /// # Errors
    /// [`OpError`] saying what was expected.
    pub fn parse(text: &str) -> Result<Self, OpError> {
        let mut words: Vec<&str> = text.split_whitespace().collect();
        let tamper = words.last() == Some(&"tamper");
        if tamper {
            words.pop();
        }
        let byte = |w: &str| hex_byte(w).map_err(OpError::Byte);
        let digits = |w: &str| {
            PinValue::from_digits(w)
                .map(|_| w.to_owned())
                .map_err(OpError::Pin)
        };
        let secured = |hex: &[&str]| {
            let bytes = apdu::parse_hex(&hex.concat()).map_err(OpError::Hex)?;
            let (header, data) = bytes
                .split_first_chunk::<4>()
                .ok_or(OpError::SecureHeader)?;
            Ok::<_, OpError>((*header, data.to_vec()))
        };
        let fen = |w: &str| w.parse::<u32>().map_err(|_| OpError::Unknown);
        let operation = match words.as_slice() {
            ["ext-auth", key, rest @ ..] => {
                let mut how = ExtAuth::key(byte(key)?);
                let mut rest = rest;
                if let ["version", v, tail @ ..] = rest {
                    how.version = Some(byte(v)?);
                    rest = tail;
                }
                match rest {
                    [] => {}
                    ["one-challenge"] => how.one_challenge = true,
                    _ => return Err(OpError::Unknown),
                }
                Operation::ExternalAuthenticate(how)
            }
            ["df-ext-auth", df, key] => Operation::SubExternalAuthenticate(sub(df)?, byte(key)?),
            ["df-secure", df, hex @ ..] if !hex.is_empty() => {
                let (header, data) = secured(hex)?;
                Operation::SubSecure(sub(df)?, header, data)
            }
            ["int-auth"] => Operation::InternalAuthenticate,
            ["pin-reset", pin] => Operation::PinReset(digits(pin)?),
            ["pin-unblock"] => Operation::PinUnblock,
            ["secure", hex @ ..] if !hex.is_empty() => {
                let (header, data) = secured(hex)?;
                Operation::Secure(header, data)
            }
            ["block-app"] => Operation::BlockApplication,
            ["block-card"] => Operation::BlockCard,
            ["pboc-block-app", "temporary"] => Operation::PbocBlockApplication(false),
            ["pboc-block-app", "permanent"] => Operation::PbocBlockApplication(true),
            ["pboc-unblock-app"] => Operation::PbocUnblockApplication,
            ["pboc-block-card"] => Operation::PbocBlockCard,
            ["pboc-pin-unblock", pin] => Operation::PbocPinUnblock(digits(pin)?),
            ["pboc-pin-reload", pin] => Operation::PbocPinReload(digits(pin)?),
            ["pki-verify", reference, pin] => Operation::PkiVerify(byte(reference)?, digits(pin)?),
            ["pki-change-pin", reference, old, new] => {
                Operation::PkiChangePin(byte(reference)?, digits(old)?, digits(new)?)
            }
            ["purse-load", amount] => Operation::PurseLoad(fen(amount)?),
            ["purse-purchase", a, s, p] => Operation::PursePurchase([fen(a)?, fen(s)?, fen(p)?]),
            ["purse-start-day", day] => Operation::PurseStartDay(
                apdu::parse_hex(day)
                    .ok()
                    .and_then(|d| <[u8; 2]>::try_from(d).ok())
                    .ok_or(OpError::Unknown)?,
            ),
            _ => return Err(OpError::Unknown),
        };
        let mut text = words.join(" ");
        if tamper {
            text.push_str(" tamper");
        }
        Ok(Self {
            text,
            operation,
            tamper,
        })
    }

    /// Runs the operation.
    ///
    /// # Errors
    /// [`PsamError`] when the PSAM lacks a key or the transport fails.
    pub fn run(&self, psam: &mut Psam, t: &mut dyn Transport) -> Result<Transcript, PsamError> {
        use applet_sim::model::keys::pboc::DAMK;
        use applet_sim::model::keys::ssse::{BK, STK};
        let tamper = self.tamper;
        match &self.operation {
            Operation::ExternalAuthenticate(how) => {
                psam.external_authenticate_with(t, *how, tamper)
            }
            Operation::SubExternalAuthenticate(df, key) => {
                psam.sub_external_authenticate(t, *df, *key, tamper)
            }
            Operation::SubSecure(df, header, data) => {
                psam.sub_secured(t, *df, *header, data, tamper)
            }
            Operation::InternalAuthenticate => psam.internal_authenticate(t),
            Operation::PinReset(pin) => psam.pin_reset(t, pin, tamper),
            Operation::PinUnblock => psam.secured(t, STK, [0x84, 0x24, 0x00, 0x00], &[], tamper),
            Operation::Secure(header, data) => psam.secured(t, STK, *header, data, tamper),
            Operation::BlockApplication => {
                psam.secured(t, STK, [0x84, 0x1E, 0x00, 0x01], &[], tamper)
            }
            Operation::BlockCard => psam.secured(t, BK, [0x84, 0x16, 0x00, 0x00], &[], tamper),
            Operation::PbocBlockApplication(permanent) => psam.pboc_secured(
                t,
                DAMK,
                [0x84, 0x1E, 0x00, u8::from(*permanent)],
                &[],
                tamper,
            ),
            Operation::PbocUnblockApplication => {
                psam.pboc_secured(t, DAMK, [0x84, 0x18, 0x00, 0x00], &[], tamper)
            }
            Operation::PbocBlockCard => {
                psam.pboc_secured(t, DAMK, [0x84, 0x16, 0x00, 0x00], &[], tamper)
            }
            Operation::PbocPinUnblock(pin) => psam.pboc_pin_unblock(t, pin, tamper),
            Operation::PbocPinReload(pin) => psam.pboc_pin_reload(t, pin, tamper),
            Operation::PkiVerify(reference, pin) => psam.pki_verify(t, *reference, pin, tamper),
            Operation::PkiChangePin(reference, old, new) => {
                psam.pki_change_pin(t, *reference, old, new, tamper)
            }
            Operation::PurseLoad(amount) => super::purse::load(t, *amount, tamper),
            Operation::PursePurchase(amounts) => super::purse::purchase(t, *amounts, tamper),
            Operation::PurseStartDay(day) => super::purse::start_day(t, *day, tamper),
        }
    }
}
