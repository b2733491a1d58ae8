//! The PSAM as a card (docs/PSAM.md §8): [`PsamCard`] provides the primitives of
//! [`Crypto`] by sending `BF DE` (DELIVERY SESSION KEY) and `80 FA` (CIPHER DATA) to a PSAM
//! — the in-process `applet_sim::Psam` or a PSAM in a PC/SC reader ([`PsamSource`]) — the
//! way a service-centre terminal does. What the PSAM needs to know about the card
//! ([`CardInfo`]): its cipher (which PSAM application to select), its ATR (the card-level
//! diversification factor) and its region (the city and province factors).

use std::fmt;

use apdu::tlv::{BerTlv, Tag};
use apdu::{Response, StatusWord};
use applet_sim::crypto::{DiversifyError, card_factor, city_factor, province_factor};
use applet_sim::model::keys::ssse;
use applet_sim::model::{CipherSuite, Vocabulary};

use super::PsamError;
use super::crypto::{Crypto, block_len, pad80};
use crate::transport::{self, SimTransport, Transport, TransportError};

/// One row of the PSAM key table (docs/PSAM.md §2.1): which PSAM key serves a card key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRef {
    /// The card key id (docs/CARD.md §6.7).
    pub card_key: u8,
    /// The PSAM's key id (`BF DE` P2).
    pub psam_key: u8,
    /// The PSAM key's usage byte (`BF DE` P1): b8–b6 the number of diversification levels.
    pub usage: u8,
}

impl KeyRef {
    /// How many factors `BF DE` carries for this key: 1 card; 2 card, city; 3 card, city,
    /// province.
    #[must_use]
    pub fn levels(self) -> usize {
        usize::from(self.usage >> 5)
    }
}

/// The PSAM keys of the SSSE's card keys (docs/PSAM.md §2.1; the built-in `psam` profile).
pub const KEY_TABLE: [KeyRef; 6] = [
    KeyRef {
        card_key: ssse::IRK,
        psam_key: 0x08,
        usage: 0x67,
    },
    KeyRef {
        card_key: ssse::STK,
        psam_key: 0x09,
        usage: 0x26,
    },
    KeyRef {
        card_key: ssse::RK,
        psam_key: 0x0A,
        usage: 0x67,
    },
    KeyRef {
        card_key: ssse::UK,
        psam_key: 0x12,
        usage: 0x48,
    },
    KeyRef {
        card_key: ssse::BK,
        psam_key: 0x11,
        usage: 0x48,
    },
    KeyRef {
        card_key: ssse::PUK_KEY,
        psam_key: 0x10,
        usage: 0x48,
    },
];

/// The 2.0 PSAM application's AID (docs/PSAM.md §1).
pub const PSAM_V2_AID: &[u8] = &[0xD1, 0x56, 0x00, 0x00, 0x05, 0x90];
/// The 3.0 PSAM's name "sx3.sh.社会保障" (docs/PSAM.md §1), selected before [`PSAM_V3_DF`].
pub const PSAM_V3_NAME: &[u8] = b"sx3.sh.\xC9\xE7\xBB\xE1\xB1\xA3\xD5\xCF";
/// The 3.0 PSAM application's DF.
pub const PSAM_V3_DF: [u8; 2] = [0xDF, 0x01];

/// What the PSAM needs to know about the card it computes for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardInfo {
    /// The card's cipher suite: the PSAM application to select (DES → 2.0, SM4 → 3.0).
    pub suite: CipherSuite,
    /// The card's 6-digit region code (city and province factors, docs/CARD.md §6.6).
    pub region: String,
    /// The card's ATR (its last 8 bytes are the card factor).
    pub atr: Vec<u8>,
}

/// Why [`CardInfo::read`] could not learn what the PSAM needs.
#[derive(Debug, thiserror::Error)]
pub enum CardInfoError {
    /// The card refused a command.
    #[error("{step}: the card answered {code:04X} ({meaning})", code = u16::from(*sw), meaning = sw.meaning())]
    Refused {
        /// The command.
        step: &'static str,
        /// Its status word.
        sw: StatusWord,
    },
    /// The SSSE's FCI has no algorithm flag (tag 86 in 9F0C).
    #[error("the SSSE's FCI has no algorithm flag (tag 86): give the card's cipher another way")]
    NoAlgorithm,
    /// An algorithm flag no PSAM here serves.
    #[error("the SSSE's FCI names algorithm {0:02X} (01 DES and 03 SM4 are served by a PSAM)")]
    Algorithm(u8),
    /// EF05's card identification code does not start with a 6-digit region code.
    #[error(
        "EF05's card identification code {0} does not start with a region code in BCD: give --region"
    )]
    NoRegion(String),
    /// A region code that is not 6 digits.
    #[error("region {0:?}: expected a 6-digit region code such as 320100")]
    BadRegion(String),
    /// The transport failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

impl CardInfo {
    /// Learns from the card what a terminal learns before it uses its PSAM: SELECT the SSSE
    /// with its FCI, whose algorithm flag (`9F0C { 86 01 xx }`, docs/CARD.md §1: 01 DES,
    /// 03 SM4) gives the cipher; READ RECORD 1 of EF05 (SFI 05), the card identification
    /// code, whose first 3 bytes are the region code in BCD — unless `region` is given. The
    /// card is left with the SSSE selected (no key is used, nothing is written).
    ///
    /// # Errors
    /// [`CardInfoError`] naming what is missing.
    pub fn read(t: &mut dyn Transport, region: Option<&str>) -> Result<Self, CardInfoError> {
        let atr = t.atr()?;
        let fci = exchange(t, &crate::card::select_ssse(true), "SELECT SSSE")?;
        let suite = algorithm(&fci)?;
        let region = match region {
            Some(r) => r.to_owned(),
            None => {
                let record = exchange(t, &[0x00, 0xB2, 0x01, 0x2C, 0x00], "READ RECORD 1 of EF05")?;
                region_of(&record)?
            }
        };
        if city_factor(&region).is_none() {
            return Err(CardInfoError::BadRegion(region));
        }
        Ok(Self { suite, region, atr })
    }
}

/// Sends a command as a reader does; its data when it answers 9000.
fn exchange(
    t: &mut dyn Transport,
    command: &[u8],
    step: &'static str,
) -> Result<Vec<u8>, CardInfoError> {
    let response = transport::exchange(t, command, &mut Vec::new())?;
    match Response::split(&response) {
        Some((data, StatusWord::Success)) => Ok(data.to_vec()),
        Some((_, sw)) => Err(CardInfoError::Refused { step, sw }),
        None => Err(CardInfoError::Refused {
            step,
            sw: StatusWord::from(0u16),
        }),
    }
}

/// The cipher suite of an SSSE FCI's algorithm flag.
fn algorithm(fci: &[u8]) -> Result<CipherSuite, CardInfoError> {
    let flag = BerTlv::find(fci, Tag(0x9F0C))
        .ok()
        .flatten()
        .and_then(|t| BerTlv::find(t.value, Tag(0x86)).ok().flatten())
        .or_else(|| BerTlv::find(fci, Tag(0x86)).ok().flatten());
    match flag.map(|t| t.value) {
        Some([0x01]) => Ok(CipherSuite::Des3),
        Some([0x03]) => Ok(CipherSuite::Sm4),
        Some([other]) => Err(CardInfoError::Algorithm(*other)),
        _ => Err(CardInfoError::NoAlgorithm),
    }
}

/// The region code of EF05's record 1 (`01 10 <region BCD 3> D156000005 …`).
fn region_of(record: &[u8]) -> Result<String, CardInfoError> {
    let code = match record {
        [0x01, _, value @ ..] => value,
        other => other,
    };
    let digits = apdu::hex_compact(code.get(..3).unwrap_or_default());
    if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(CardInfoError::NoRegion(apdu::hex_compact(code)))
    }
}

/// Where the PSAM card is.
#[derive(Clone, Debug)]
pub enum PsamSource {
    /// The in-process PSAM card (`--psam`), a fresh copy each time it is opened.
    InProcess(Box<applet_sim::Psam>),
    /// A PSAM in a PC/SC reader (`--psam-reader`, feature `pcsc`).
    Reader(String),
}

impl PsamSource {
    /// A connection to the PSAM, powered on.
    ///
    /// # Errors
    /// [`TransportError`] when the reader cannot be reached.
    pub fn open(&self) -> Result<Box<dyn Transport>, TransportError> {
        match self {
            Self::InProcess(psam) => Ok(Box::new(SimTransport::with_card(
                &psam.profile().source_name,
                psam.as_ref().clone(),
            ))),
            Self::Reader(name) => transport::open_reader(name, None, "psam"),
        }
    }

    /// For messages: `PSAM psam (in process)`, `PSAM in reader "NAME"`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::InProcess(p) => format!("PSAM {} (in process)", p.profile().source_name),
            Self::Reader(name) => format!("PSAM in reader {name:?}"),
        }
    }
}

/// The [`Crypto`] primitives through a PSAM's APDUs, for one card.
pub struct PsamCard {
    psam: Box<dyn Transport>,
    name: String,
    card: CardInfo,
    session: bool,
}

impl fmt::Debug for PsamCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PsamCard")
            .field("name", &self.name)
            .field("card", &self.card)
            .finish_non_exhaustive()
    }
}

/// The most data one `80 FA` carries: whole 8- and 16-byte blocks within a short Lc.
const CHUNK: usize = 240;

impl PsamCard {
    /// Selects the PSAM application for the card's cipher (2.0 by AID for DES; 3.0 by name,
    /// then DF01, for SM4; docs/PSAM.md §1) on the PSAM behind `psam`, named `name` in
    /// messages.
    ///
    /// # Errors
    /// [`PsamError::NoApplication`] for a cipher no PSAM application serves; the PSAM's
    /// refusal of a SELECT; a transport failure.
    pub fn open(psam: Box<dyn Transport>, name: &str, card: CardInfo) -> Result<Self, PsamError> {
        let mut this = Self {
            psam,
            name: name.to_owned(),
            card,
            session: false,
        };
        match this.card.suite {
            CipherSuite::Des3 => {
                this.select(PSAM_V2_AID)?;
            }
            CipherSuite::Sm4 => {
                this.select(PSAM_V3_NAME)?;
                let mut cmd = vec![0x00, 0xA4, 0x00, 0x00, 0x02];
                cmd.extend_from_slice(&PSAM_V3_DF);
                this.send(cmd, "SELECT DF01")?;
            }
            other => return Err(PsamError::NoApplication(other.name())),
        }
        Ok(this)
    }

    fn select(&mut self, name: &[u8]) -> Result<(), PsamError> {
        let lc = u8::try_from(name.len()).map_err(|_| PsamError::DataTooLong(name.len()))?;
        let mut cmd = vec![0x00, 0xA4, 0x04, 0x00, lc];
        cmd.extend_from_slice(name);
        self.send(cmd, "SELECT the PSAM application")?;
        Ok(())
    }

    /// The card this PSAM computes for.
    #[must_use]
    pub fn card(&self) -> &CardInfo {
        &self.card
    }

    /// Sends a command to the PSAM as a reader does; its data when it answers 9000.
    fn send(&mut self, cmd: Vec<u8>, what: &str) -> Result<Vec<u8>, PsamError> {
        let response = transport::exchange(self.psam.as_mut(), &cmd, &mut Vec::new())?;
        match Response::split(&response) {
            Some((data, StatusWord::Success)) => Ok(data.to_vec()),
            other => Err(PsamError::Refused {
                psam: self.name.clone(),
                command: what.to_owned(),
                sw: other.map_or(StatusWord::from(0u16), |(_, sw)| sw),
            }),
        }
    }

    /// `80 FA P1 00 Lc data`: its data.
    fn cipher_data(&mut self, p1: u8, data: &[u8]) -> Result<Vec<u8>, PsamError> {
        let lc = u8::try_from(data.len()).map_err(|_| PsamError::DataTooLong(data.len()))?;
        let mut cmd = vec![0x80, 0xFA, p1, 0x00, lc];
        cmd.extend_from_slice(data);
        self.send(cmd, &format!("CIPHER DATA 80 FA {p1:02X}"))
    }

    /// The factors of `levels` levels, card first, as `BF DE` takes them.
    fn factors(&self, levels: usize) -> Result<Vec<u8>, PsamError> {
        let region = self.card.region.as_str();
        let bad = || PsamError::Diversify(DiversifyError::BadRegion(region.to_owned()));
        let mut out = Vec::with_capacity(levels * 8);
        out.extend(
            card_factor(&self.card.atr).ok_or(PsamError::Diversify(DiversifyError::ShortAtr))?,
        );
        if levels >= 2 {
            out.extend(city_factor(region).ok_or_else(bad)?);
        }
        if levels >= 3 {
            out.extend(province_factor(region).ok_or_else(bad)?);
        }
        Ok(out)
    }
}

impl Crypto for PsamCard {
    fn describe(&self) -> String {
        self.name.clone()
    }

    fn suite(&self) -> CipherSuite {
        self.card.suite
    }

    fn holds(&self, id: u8) -> bool {
        KEY_TABLE.iter().any(|k| k.card_key == id)
    }

    fn missing(&self, id: u8) -> PsamError {
        PsamError::NotInKeyTable(id)
    }

    /// `BF DE <usage> <PSAM key> Lc <factors, card first> <input ‖ 00.. to one block>`.
    fn session(&mut self, id: u8, input: &[u8]) -> Result<(), PsamError> {
        self.session = false;
        let key = KEY_TABLE
            .iter()
            .find(|k| k.card_key == id)
            .ok_or_else(|| self.missing(id))?;
        let mut data = self.factors(key.levels())?;
        let mut block = input.to_vec();
        block.resize(block_len(self.card.suite), 0);
        data.extend(block);
        let lc = u8::try_from(data.len()).map_err(|_| PsamError::DataTooLong(data.len()))?;
        let mut cmd = vec![0xBF, 0xDE, key.usage, key.psam_key, lc];
        cmd.extend(data);
        self.send(
            cmd,
            &format!(
                "DELIVERY SESSION KEY BF DE {:02X} {:02X} (card key {id:02X})",
                key.usage, key.psam_key
            ),
        )?;
        self.session = true;
        Ok(())
    }

    /// `80 FA 00`, in chunks of whole blocks.
    fn encipher(&mut self, blocks: &[u8]) -> Result<Vec<u8>, PsamError> {
        if !self.session {
            return Err(PsamError::NoSession);
        }
        if !blocks.len().is_multiple_of(block_len(self.card.suite)) {
            return Err(PsamError::NotWholeBlocks(blocks.len()));
        }
        let mut out = Vec::with_capacity(blocks.len());
        for chunk in blocks.chunks(CHUNK) {
            let e = self.cipher_data(0x00, chunk)?;
            if e.len() != chunk.len() {
                return Err(self.short("CIPHER DATA 80 FA 00", e.len()));
            }
            out.extend(e);
        }
        Ok(out)
    }

    /// `80 FA 05` over IV (zeros) ‖ data ‖ `80 00..`; past one command, the chained form:
    /// `07` (IV and the first blocks), `03` (middle), `01` (last).
    fn mac(&mut self, data: &[u8]) -> Result<[u8; 4], PsamError> {
        if !self.session {
            return Err(PsamError::NoSession);
        }
        let n = block_len(self.card.suite);
        let mut all = vec![0u8; n];
        all.extend(pad80(data, n));
        let pieces: Vec<&[u8]> = all.chunks(CHUNK).collect();
        let last = pieces.len() - 1;
        let mut answer = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            let p1 = match (i, last) {
                (0, 0) => 0x05,
                (0, _) => 0x07,
                (i, l) if i == l => 0x01,
                _ => 0x03,
            };
            answer = self.cipher_data(p1, piece)?;
        }
        answer
            .as_slice()
            .try_into()
            .map_err(|_| self.short("CIPHER DATA (MAC)", answer.len()))
    }
}

impl PsamCard {
    fn short(&self, command: &str, len: usize) -> PsamError {
        PsamError::ShortAnswer {
            psam: self.name.clone(),
            command: command.to_owned(),
            len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_and_the_algorithm_come_from_the_card_data() {
        let record = apdu::parse_hex("0110320100D156000005001C9B25FFFFFFFF").unwrap_or_default();
        assert_eq!(region_of(&record).ok().as_deref(), Some("320100"));
        assert!(region_of(&[0x01, 0x10, 0xFF, 0xFF, 0xFF]).is_err());
        let fci = apdu::parse_hex("6F1C840F7378312E73682EC9E7BBE1B1A3D5CFA50988011E9F0C03860103")
            .unwrap_or_default();
        assert_eq!(algorithm(&fci).ok(), Some(CipherSuite::Sm4));
        assert!(matches!(
            algorithm(&[0x6F, 0x00]),
            Err(CardInfoError::NoAlgorithm)
        ));
        assert!(matches!(
            algorithm(&[0x86, 0x01, 0x02]),
            Err(CardInfoError::Algorithm(2))
        ));
        assert_eq!(KEY_TABLE.iter().map(|k| k.levels()).sum::<usize>(), 13);
    }
}
