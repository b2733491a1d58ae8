//! The PSAM as a card (docs/PSAM.md): the terminal's security module that holds the issuer's
//! master keys and computes what a terminal sends to a social security card. It answers, under
//! T=0 with `61xx`/GET RESPONSE like the card:
//!
//! - SELECT of the MF (`3F00`), of its public EFs (`0015`, `0016`), of an application by AID
//!   (2.0: `D15600000590`) or of a directory by name then its application DF by FID (3.0:
//!   "sx3.sh.社会保障", then `DF01`) — docs/PSAM.md §1;
//! - READ BINARY of the public files, by SFI as terminals do (`00 B0 95 00 0E`,
//!   `00 B0 96 00 06`) or of the selected EF — §7;
//! - DELIVERY SESSION KEY `BF DE <usage> <key id> <factors, card first> <session input>` —
//!   §3;
//! - CIPHER DATA `80 FA <P1> 00`: P1 00 encipher, 05 one-block MAC with the IV in front,
//!   07/03/01 chained MAC (first with the IV / middle / last) — §4.
//!
//! A PSAM has no persistent state here: its keys have no try counters in the documents, so a
//! reset clears everything the terminal did.

mod profile;

use apdu::{ApduResult, CommandApdu, Response, StatusWord};

pub use self::profile::{BUILTIN, DEFAULT_PSAM, PsamApplication, PsamKey, PsamProfile, Selection};
use crate::crypto::{self, BlockCipher, MacChain};
use crate::exchange;
use crate::model::{CipherSuite, Protocol};

/// The MF's file identifier.
const MF: u16 = 0x3F00;
/// EF15: the PSAM's public information (serial, version), SFI 0x15.
const EF_PUBLIC: u16 = 0x0015;
/// EF16: the terminal number, SFI 0x16.
const EF_TERMINAL: u16 = 0x0016;

/// A PSAM built from its declaration, answering APDUs.
#[derive(Clone, Debug)]
pub struct Psam {
    profile: PsamProfile,
    volatile: Volatile,
}

/// What the terminal has done since the last reset.
#[derive(Clone, Debug, Default)]
struct Volatile {
    current: Current,
    /// The EF selected by FID, for READ BINARY without an SFI.
    ef: Option<u16>,
    session: Option<Session>,
    /// A chained MAC between `80 FA 07` and `80 FA 01`.
    chain: Option<MacChain>,
    /// Response data waiting for GET RESPONSE.
    pending: Vec<u8>,
}

/// The current DF.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Current {
    #[default]
    Mf,
    /// A directory selected by name whose application is a DF below it (3.0).
    Directory(usize),
    /// An application (index into the profile's applications).
    Application(usize),
}

/// The session key `BF DE` delivered.
#[derive(Clone)]
struct Session {
    suite: CipherSuite,
    key: Vec<u8>,
}

impl std::fmt::Debug for Session {
    /// The key is not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Session {{ suite: {:?}, key: {} bytes }}",
            self.suite,
            self.key.len()
        )
    }
}

/// The commands the PSAM answers.
enum PsamCommand<'a> {
    SelectFid(u16, bool),
    SelectName(&'a [u8], bool),
    ReadBinary {
        sfi: Option<u8>,
        offset: u16,
        ne: u32,
    },
    DeliverySessionKey {
        usage: u8,
        key_id: u8,
        data: &'a [u8],
    },
    CipherData {
        p1: u8,
        data: &'a [u8],
    },
    GetResponse {
        ne: u32,
    },
}

impl Psam {
    /// A fresh PSAM, powered on, as the declaration describes it.
    #[must_use]
    pub fn new(profile: PsamProfile) -> Self {
        Self {
            profile,
            volatile: Volatile::default(),
        }
    }

    /// A fresh PSAM from a built-in name or a declaration file.
    ///
    /// # Errors
    /// [`crate::ProfileError`] naming the file, line and what is wrong.
    pub fn load(name_or_path: &str) -> Result<Self, crate::ProfileError> {
        Ok(Self::new(PsamProfile::load(name_or_path)?))
    }

    /// The declaration it was built from.
    #[must_use]
    pub fn profile(&self) -> &PsamProfile {
        &self.profile
    }

    fn process(&mut self, apdu: &CommandApdu<'_>) -> ApduResult<Response> {
        let command = decode(apdu);
        if !matches!(command, Ok(PsamCommand::GetResponse { .. })) {
            self.volatile.pending.clear();
        }
        let chained = matches!(
            command,
            Ok(PsamCommand::CipherData {
                p1: 0x03 | 0x01,
                ..
            })
        );
        if !chained {
            // A chained MAC continues only with its next block (docs/PSAM.md §4) [I].
            self.volatile.chain = None;
        }
        match command? {
            PsamCommand::SelectFid(fid, fci) => self.select_fid(fid, fci),
            PsamCommand::SelectName(name, fci) => self.select_name(name, fci),
            PsamCommand::ReadBinary { sfi, offset, ne } => self.read_binary(sfi, offset, ne),
            PsamCommand::DeliverySessionKey {
                usage,
                key_id,
                data,
            } => self.delivery_session_key(usage, key_id, data),
            PsamCommand::CipherData { p1, data } => self.cipher_data(p1, data),
            PsamCommand::GetResponse { ne } => exchange::get_response(
                &mut self.volatile.pending,
                ne,
                crate::model::behaviour::WrongLe::ExactLength,
            ),
        }
    }

    fn select_fid(&mut self, fid: u16, _fci: bool) -> ApduResult<Response> {
        let v = &mut self.volatile;
        match (fid, v.current) {
            (MF, _) => {
                *v = Volatile::default();
            }
            (EF_PUBLIC | EF_TERMINAL, Current::Mf) => v.ef = Some(fid),
            // The application DF from its directory, or again from itself.
            (df, Current::Directory(i) | Current::Application(i)) => {
                match self.profile.applications.get(i) {
                    Some(PsamApplication {
                        selection: Selection::NameThenDf { df: app_df, .. },
                        ..
                    }) if *app_df == df => {
                        v.current = Current::Application(i);
                        v.ef = None;
                        v.session = None;
                    }
                    _ => return Err(StatusWord::FileNotFound),
                }
            }
            _ => return Err(StatusWord::FileNotFound),
        }
        Ok(Response::status(StatusWord::Success))
    }

    fn select_name(&mut self, name: &[u8], fci: bool) -> ApduResult<Response> {
        let (i, app) = self
            .profile
            .applications
            .iter()
            .enumerate()
            .find(|(_, a)| a.selection.name() == name)
            .ok_or(StatusWord::FileNotFound)?;
        let v = &mut self.volatile;
        v.current = match app.selection {
            Selection::Aid(_) => Current::Application(i),
            Selection::NameThenDf { .. } => Current::Directory(i),
        };
        v.ef = None;
        v.session = None;
        if !fci {
            return Ok(Response::status(StatusWord::Success));
        }
        // FCI: 6F { 84 name } (the documents give no more) [I].
        let n = u8::try_from(name.len()).map_err(|_| StatusWord::WrongLength)?;
        let mut data = vec![0x6F, n + 2, 0x84, n];
        data.extend_from_slice(name);
        Ok(Response::new(data, StatusWord::Success))
    }

    fn read_binary(&mut self, sfi: Option<u8>, offset: u16, ne: u32) -> ApduResult<Response> {
        let fid = match sfi {
            Some(sfi) => u16::from(sfi),
            None => self.volatile.ef.ok_or(StatusWord::NoCurrentEf)?,
        };
        if self.volatile.current != Current::Mf {
            return Err(StatusWord::FileNotFound);
        }
        let contents: &[u8] = match fid {
            EF_PUBLIC => &self.profile.public,
            EF_TERMINAL => &self.profile.terminal,
            _ => return Err(StatusWord::FileNotFound),
        };
        self.volatile.ef = Some(fid);
        let start = usize::from(offset);
        if start >= contents.len() {
            // As the card (docs/CARD.md §4.1): an offset at or past the end is 6B00.
            return Err(StatusWord::WrongParameters);
        }
        let rest = contents.get(start..).unwrap_or_default();
        let ne = usize::try_from(ne).unwrap_or(usize::MAX);
        Ok(Response::new(
            rest.get(..ne.min(rest.len())).unwrap_or_default().to_vec(),
            StatusWord::Success,
        ))
    }

    /// `BF DE`: the key `key_id` of the current application with usage `usage`, diversified
    /// by the factors (the card's first, so applied last to first), then the session key
    /// from the session input (docs/PSAM.md §3; docs/CARD.md §6.2, §6.6).
    fn delivery_session_key(&mut self, usage: u8, key_id: u8, data: &[u8]) -> ApduResult<Response> {
        self.volatile.session = None;
        let levels = usize::from(usage >> 5);
        if levels > 3 {
            return Err(StatusWord::IncorrectP1P2);
        }
        let Current::Application(i) = self.volatile.current else {
            return Err(StatusWord::ConditionsOfUseNotSatisfied);
        };
        let app = self
            .profile
            .applications
            .get(i)
            .ok_or(StatusWord::ConditionsOfUseNotSatisfied)?;
        let (factors, input) = data
            .split_at_checked(levels * 8)
            .ok_or(StatusWord::WrongLength)?;
        let block = if app.cipher == CipherSuite::Des3 {
            8
        } else {
            16
        };
        if ![0, 4, 8, block].contains(&input.len()) {
            return Err(StatusWord::WrongLength);
        }
        let key = app
            .keys
            .iter()
            .find(|k| k.id == key_id && k.usage == usage)
            .ok_or(StatusWord::ReferenceNotFound)?;
        let mut card_key = key.value.clone();
        for factor in factors.chunks_exact(8).rev() {
            let factor: &[u8; 8] = factor.try_into().map_err(|_| StatusWord::WrongLength)?;
            card_key = crypto::diversify(app.cipher, &card_key, factor)
                .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        }
        let key = if input.is_empty() {
            card_key
        } else {
            crypto::session_key(app.cipher, &card_key, input)
                .map_err(|_| StatusWord::NoPreciseDiagnosis)?
        };
        self.volatile.session = Some(Session {
            suite: app.cipher,
            key,
        });
        Ok(Response::status(StatusWord::Success))
    }

    /// `80 FA`: encipher, or a MAC over the terminal's padded blocks (docs/PSAM.md §4).
    fn cipher_data(&mut self, p1: u8, data: &[u8]) -> ApduResult<Response> {
        let session = self
            .volatile
            .session
            .as_ref()
            .ok_or(StatusWord::CommandNotAccepted)?;
        let cipher = BlockCipher::new(session.suite, &session.key)
            .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        let n = cipher.block_len();
        if data.is_empty() || !data.len().is_multiple_of(n) {
            return Err(StatusWord::WrongLength);
        }
        let with_iv = |data: &[u8]| -> ApduResult<MacChain> {
            let (iv, blocks) = data.split_at_checked(n).ok_or(StatusWord::WrongLength)?;
            if blocks.is_empty() {
                return Err(StatusWord::WrongLength);
            }
            let mut chain = MacChain::new(cipher.clone(), Some(iv));
            chain.absorb(blocks);
            Ok(chain)
        };
        let mac = |chain: &MacChain| Response::new(chain.finish().to_vec(), StatusWord::Success);
        match p1 {
            0x00 => {
                let out = crypto::ecb_encrypt(session.suite, &session.key, data)
                    .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
                Ok(Response::new(out, StatusWord::Success))
            }
            0x05 => Ok(mac(&with_iv(data)?)),
            0x07 => {
                self.volatile.chain = Some(with_iv(data)?);
                Ok(Response::status(StatusWord::Success))
            }
            0x03 | 0x01 => {
                let chain = self
                    .volatile
                    .chain
                    .as_mut()
                    .ok_or(StatusWord::CommandNotAccepted)?;
                chain.absorb(data);
                if p1 == 0x03 {
                    return Ok(Response::status(StatusWord::Success));
                }
                let response = mac(chain);
                self.volatile.chain = None;
                Ok(response)
            }
            _ => Err(StatusWord::IncorrectP1P2),
        }
    }
}

/// The PSAM's command table: CLA, INS, then P1/P2 and lengths.
fn decode<'a>(apdu: &CommandApdu<'a>) -> ApduResult<PsamCommand<'a>> {
    let (cla, ins, p1, p2) = (apdu.cla.0, apdu.ins, apdu.p1, apdu.p2);
    let ne = apdu.ne.unwrap_or(0);
    let expect_cla = |c: u8| {
        if cla == c {
            Ok(())
        } else {
            Err(StatusWord::ClaNotSupported)
        }
    };
    match ins {
        0xA4 => {
            expect_cla(0x00)?;
            let fci = match p2 {
                0x00 => true,
                0x0C => false,
                _ => return Err(StatusWord::IncorrectP1P2),
            };
            match (p1, apdu.data) {
                (0x00 | 0x02, [hi, lo]) => {
                    Ok(PsamCommand::SelectFid(u16::from_be_bytes([*hi, *lo]), fci))
                }
                (0x00 | 0x02, _) => Err(StatusWord::WrongLength),
                (0x04, name) if (1..=16).contains(&name.len()) => {
                    Ok(PsamCommand::SelectName(name, fci))
                }
                (0x04, _) => Err(StatusWord::WrongLength),
                _ => Err(StatusWord::IncorrectP1P2),
            }
        }
        0xB0 => {
            expect_cla(0x00)?;
            if !apdu.data.is_empty() || apdu.ne.is_none() {
                return Err(StatusWord::WrongLength);
            }
            let (sfi, offset) = if p1 & 0x80 != 0 {
                if p1 & 0x60 != 0 {
                    return Err(StatusWord::IncorrectP1P2);
                }
                (Some(p1 & 0x1F), u16::from(p2))
            } else {
                (None, u16::from_be_bytes([p1, p2]))
            };
            Ok(PsamCommand::ReadBinary { sfi, offset, ne })
        }
        0xC0 => {
            expect_cla(0x00)?;
            if (p1, p2) != (0, 0) {
                return Err(StatusWord::IncorrectP1P2);
            }
            if !apdu.data.is_empty() || apdu.ne.is_none() {
                return Err(StatusWord::WrongLength);
            }
            Ok(PsamCommand::GetResponse { ne })
        }
        0xDE => {
            expect_cla(0xBF)?;
            Ok(PsamCommand::DeliverySessionKey {
                usage: p1,
                key_id: p2,
                data: apdu.data,
            })
        }
        0xFA => {
            expect_cla(0x80)?;
            if p2 != 0 || ![0x00, 0x05, 0x07, 0x03, 0x01].contains(&p1) {
                return Err(StatusWord::IncorrectP1P2);
            }
            Ok(PsamCommand::CipherData {
                p1,
                data: apdu.data,
            })
        }
        _ if ![0x00, 0x80, 0xBF].contains(&cla) => Err(StatusWord::ClaNotSupported),
        _ => Err(StatusWord::InsNotSupported),
    }
}

impl crate::SmartCard for Psam {
    fn atr(&self) -> &[u8] {
        &self.profile.atr
    }

    fn reset(&mut self) -> &[u8] {
        self.volatile = Volatile::default();
        &self.profile.atr
    }

    fn transmit_into(&mut self, apdu: &[u8], out: &mut Vec<u8>) {
        out.clear();
        let Ok(command) = CommandApdu::parse(apdu) else {
            self.volatile.pending.clear();
            self.volatile.chain = None;
            out.extend_from_slice(&StatusWord::WrongLength.to_bytes());
            return;
        };
        match self.process(&command) {
            Ok(response) => exchange::shape(
                Protocol::T0,
                crate::model::behaviour::WrongLe::ExactLength,
                &mut self.volatile.pending,
                &command,
                response,
                out,
            ),
            Err(sw) => out.extend_from_slice(&sw.to_bytes()),
        }
    }

    fn restore_from(&mut self, issued: &Self) -> std::io::Result<()> {
        *self = issued.clone();
        Ok(())
    }
}
