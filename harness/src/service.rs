//! Service-centre and bank-counter flows for users (`ssc-harness card ...`): read and decode
//! the holder's data the way the MOHRSS reader interface does (docs/CARD.md §11,
//! `iReadCardBas`), reset or unblock the PIN (§5.2), block the application or the card
//! (§4.1), the bank's PIN reload and temporary block (§5.4), each through a [`Psam`] (software
//! keys or a PSAM card) against any transport. Before a flow spends a key try, the keys are
//! checked against the card with INTERNAL AUTHENTICATE, which spends none ([`check_keys`]).

use std::fmt::Write as _;

use apdu::{Response, StatusWord};

use applet_sim::model::aid;
use applet_sim::model::keys::ssse;

use crate::card;
use crate::psam::{Op, Operation, Psam, PsamError, Transcript};
use crate::transport::{self, Transport, TransportError};

/// Sends a command the way readers do ([`transport::exchange`]): the final data and status
/// word.
fn send(t: &mut dyn Transport, apdu: &[u8]) -> Result<Response, TransportError> {
    let response = transport::exchange(t, apdu, &mut Vec::new())?;
    Ok(parse(&response))
}

/// A response's data and status word (`0000` for a response too short to hold one).
fn parse(response: &[u8]) -> Response {
    Response::parse(response).unwrap_or(Response::status(StatusWord::from(0u16)))
}

/// Why a flow stopped.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The PSAM or the transport failed.
    #[error(transparent)]
    Psam(#[from] PsamError),
    /// The card refused a step.
    #[error("{step}: the card answered {code:04X} ({meaning})", code = u16::from(*sw), meaning = sw.meaning())]
    Refused {
        /// The step.
        step: String,
        /// Its status word.
        sw: StatusWord,
    },
    /// A step's answer did not check out (e.g. the card's cryptogram).
    #[error("{step}: {problem}")]
    Failed {
        /// The step.
        step: String,
        /// What was wrong.
        problem: String,
    },
    /// The keys (software or the PSAM's) are not this card's: INTERNAL AUTHENTICATE, which
    /// costs no try, gave another cryptogram. Nothing that spends a try was sent.
    #[error("the keys do not match this card: {detail}; no try was spent")]
    KeysDoNotMatch {
        /// What the card answered and what the keys give.
        detail: String,
    },
    /// The keys hold no IRK (00), so they cannot be checked without spending a try.
    #[error(
        "{keys} have no IRK (key 00): the keys cannot be checked against this card without \
         spending a key try (the check is INTERNAL AUTHENTICATE with the IRK)"
    )]
    CannotCheckKeys {
        /// Where the keys come from.
        keys: String,
    },
}

impl From<TransportError> for FlowError {
    fn from(e: TransportError) -> Self {
        Self::Psam(PsamError::Transport(e))
    }
}

fn refused(step: &str, sw: StatusWord) -> FlowError {
    FlowError::Refused {
        step: step.to_owned(),
        sw,
    }
}

/// SELECT the SSSE by name, FCI requested (§3.2); it must answer 9000.
///
/// # Errors
/// [`FlowError::Refused`] with the card's status word (`6A81` for a blocked card).
pub fn select_ssse(t: &mut dyn Transport) -> Result<(), FlowError> {
    match send(t, &card::select_ssse(true))?.sw {
        StatusWord::Success => Ok(()),
        sw => Err(refused("SELECT SSSE", sw)),
    }
}

/// SELECT the financial application by AID (§5.4); `9000`, or `6283` when it is blocked
/// for now (a temporary block after a loss report: the unblock still needs it selected).
///
/// # Errors
/// [`FlowError::Refused`] with any other status word.
pub fn select_bank(t: &mut dyn Transport) -> Result<(), FlowError> {
    let select = card::select_by_name(aid::BANK, false).unwrap_or_default();
    match send(t, &select)?.sw {
        StatusWord::Success | StatusWord::SelectedFileInvalidated => Ok(()),
        sw => Err(refused("SELECT the financial application", sw)),
    }
}

/// Checks the keys against the card (the SSSE selected) without spending a try: INTERNAL
/// AUTHENTICATE with two terminal randoms, the card's cryptogram compared with the IRK's
/// (software keys or the PSAM's key 08). It proves the key set (the IRK, and for master
/// keys the region and the card factor) belongs to this card; a card key given wrongly
/// next to the right IRK is still found only by the card.
///
/// # Errors
/// [`FlowError::KeysDoNotMatch`], [`FlowError::CannotCheckKeys`] without an IRK, the card's
/// refusal, a PSAM or transport failure.
pub fn check_keys(t: &mut dyn Transport, psam: &mut Psam) -> Result<(), FlowError> {
    if !psam.holds(ssse::IRK) {
        return Err(FlowError::CannotCheckKeys {
            keys: psam.describe(),
        });
    }
    let transcript = psam.internal_authenticate(t)?;
    if let Some(problem) = transcript.problem {
        return Err(FlowError::KeysDoNotMatch { detail: problem });
    }
    match parse(transcript.response()).sw {
        StatusWord::Success => Ok(()),
        sw => Err(refused("INTERNAL AUTHENTICATE", sw)),
    }
}

/// Runs PSAM operations in order after selecting the SSSE and, when `check` is set,
/// checking the keys first ([`check_keys`]); every one must answer 9000. Returns the
/// transcripts.
///
/// # Errors
/// [`FlowError`] naming the refused step and its status word.
pub fn run_ops(
    t: &mut dyn Transport,
    psam: &mut Psam,
    ops: &[Operation],
    check: bool,
) -> Result<Vec<Transcript>, FlowError> {
    select_ssse(t)?;
    if check {
        check_keys(t, psam)?;
    }
    run(t, psam, ops)
}

/// Runs the financial application's operations (software keys, PBOC MACs: a wrong MAC
/// costs no try, §5.4) after selecting it ([`select_bank`]).
///
/// # Errors
/// [`FlowError`] naming the refused step and its status word.
pub fn run_bank_ops(
    t: &mut dyn Transport,
    psam: &mut Psam,
    ops: &[Operation],
) -> Result<Vec<Transcript>, FlowError> {
    select_bank(t)?;
    run(t, psam, ops)
}

/// Runs operations in order; every one must answer 9000.
fn run(
    t: &mut dyn Transport,
    psam: &mut Psam,
    ops: &[Operation],
) -> Result<Vec<Transcript>, FlowError> {
    let mut done = Vec::with_capacity(ops.len());
    for operation in ops {
        let op = Op {
            text: String::new(),
            operation: operation.clone(),
            tamper: false,
        };
        let transcript = op.run(psam, t)?;
        if !transcript.ok() {
            if let Some(problem) = &transcript.problem {
                return Err(FlowError::Failed {
                    step: operation.to_string(),
                    problem: problem.clone(),
                });
            }
            let sw = parse(transcript.response()).sw;
            return Err(refused(&operation.to_string(), sw));
        }
        done.push(transcript);
    }
    Ok(done)
}

/// Reads EF06's records (the SSSE selected), after external authentication with RKSSSE
/// (0A) when the card asks for it (a 3.0 card, §3.3) — unless the keys were found not to
/// be the card's (`irk_matched` false): then [`FlowError::KeysDoNotMatch`] before a try is
/// spent.
///
/// # Errors
/// [`FlowError`] naming the refused step.
pub fn read_ef06(
    t: &mut dyn Transport,
    psam: &mut Psam,
    irk_matched: Option<bool>,
) -> Result<Vec<(u8, Vec<u8>)>, FlowError> {
    Ok(tlvs(&read_ef06_raw(t, psam, irk_matched)?))
}

/// As [`read_ef06`], each record as the card returned it (for checks of its TLV form).
///
/// # Errors
/// [`FlowError`] naming the refused step.
pub fn read_ef06_raw(
    t: &mut dyn Transport,
    psam: &mut Psam,
    irk_matched: Option<bool>,
) -> Result<Vec<Vec<u8>>, FlowError> {
    match read_raw_records(t, 0x06) {
        Err(FlowError::Refused {
            sw: StatusWord::SecurityStatusNotSatisfied,
            ..
        }) if irk_matched == Some(false) => Err(FlowError::KeysDoNotMatch {
            detail: "INTERNAL AUTHENTICATE gave another cryptogram than the IRK's, and EF06 \
                     needs external authentication with RKSSSE (0A)"
                .into(),
        }),
        Err(FlowError::Refused {
            sw: StatusWord::SecurityStatusNotSatisfied,
            ..
        }) => {
            let tr = psam.external_authenticate(t, ssse::RK, false)?;
            if !tr.ok() {
                return Err(refused(
                    "EXTERNAL AUTHENTICATE with RKSSSE (0A)",
                    parse(tr.response()).sw,
                ));
            }
            read_raw_records(t, 0x06)
        }
        other => other,
    }
}

/// The holder's data as `iReadCardBas` returns it (§11), decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct HolderData {
    /// 发卡地区行政区划代码: the first three bytes of the card identification code.
    pub region: String,
    /// 社会保障号码 (EF06 tag 08).
    pub social_security_number: String,
    /// 卡号 (EF05 tag 07).
    pub card_number: String,
    /// 卡识别码 (EF05 tag 01), hex.
    pub card_id: String,
    /// 姓名 (EF06 tags 09 ‖ 4E), decoded from GBK.
    pub name: String,
    /// 卡复位信息: the ATR's historical bytes, hex.
    pub historical_bytes: String,
    /// 规范版本 (EF05 tag 03).
    pub version: String,
    /// 发卡日期 YYYYMMDD (EF05 tag 05).
    pub issue_date: String,
    /// 卡有效期 YYYYMMDD (EF05 tag 06).
    pub expiry_date: String,
    /// 卡的类别 (EF05 tag 02).
    pub card_type: String,
    /// 性别 (EF06 tag 0A): 1 male, 2 female, 9 unspecified.
    pub sex: String,
    /// 民族 (EF06 tag 0B), GB 3304 code.
    pub nation: String,
    /// 出生地 (EF06 tag 0C).
    pub birthplace: String,
    /// 出生日期 (EF06 tag 0D).
    pub birth_date: String,
    /// Whether INTERNAL AUTHENTICATE proved the card holds the IRK (None: not checked).
    pub card_authentic: Option<bool>,
    /// What was not read or checked for lack of keys, and why (empty when all was).
    pub skipped: Vec<String>,
}

impl HolderData {
    /// The `iReadCardBas` line: `region|SSN|card number|card id|name|historical bytes|
    /// version|issue date|expiry|`.
    #[must_use]
    pub fn pipe_line(&self) -> String {
        let mut s = String::new();
        for field in [
            &self.region,
            &self.social_security_number,
            &self.card_number,
            &self.card_id,
            &self.name,
            &self.historical_bytes,
            &self.version,
            &self.issue_date,
            &self.expiry_date,
        ] {
            let _ = write!(s, "{field}|");
        }
        s
    }
}

/// `an` data: ASCII/GBK, 00-padded (§3.4).
fn an(value: &[u8]) -> String {
    let end = value
        .iter()
        .rposition(|b| *b != 0x00 && *b != 0xFF)
        .map_or(0, |i| i + 1);
    let (text, _, _) = encoding_rs::GBK.decode(value.get(..end).unwrap_or_default());
    text.into_owned()
}

/// `cn` data: BCD digits, F-padded (§3.4).
fn cn(value: &[u8]) -> String {
    apdu::hex_compact(value).trim_end_matches('F').to_owned()
}

/// Reads the records of an EF by SFI (the current application's), by number from 1 until
/// 6A83, as (tag, value).
///
/// # Errors
/// [`FlowError::Refused`] naming the record.
pub fn read_records(t: &mut dyn Transport, sfi: u8) -> Result<Vec<(u8, Vec<u8>)>, FlowError> {
    Ok(tlvs(&read_raw_records(t, sfi)?))
}

/// As [`read_records`], each record as the card returned it (its data, without the status
/// word): nothing is cut or dropped, so a record's TLV form can be checked.
///
/// # Errors
/// [`FlowError::Refused`] naming the record.
pub fn read_raw_records(t: &mut dyn Transport, sfi: u8) -> Result<Vec<Vec<u8>>, FlowError> {
    let mut out = Vec::new();
    for number in 1..=16u8 {
        let Response { data, sw } = send(t, &[0x00, 0xB2, number, sfi << 3 | 0x04, 0x00])?;
        match sw {
            StatusWord::Success => out.push(data),
            StatusWord::RecordNotFound => break,
            sw => {
                return Err(refused(
                    &format!("READ RECORD {number} of SFI {sfi:02X}"),
                    sw,
                ));
            }
        }
    }
    Ok(out)
}

/// Records as (tag, value): the value cut to the record's length byte; a record shorter than
/// a tag and a length is left out.
fn tlvs(records: &[Vec<u8>]) -> Vec<(u8, Vec<u8>)> {
    records
        .iter()
        .filter_map(|record| match record.as_slice() {
            [tag, len, value @ ..] => Some((
                *tag,
                value.get(..usize::from(*len)).unwrap_or(value).to_vec(),
            )),
            _ => None,
        })
        .collect()
}

/// What EF06 holds, for messages about it.
const EF06: &str = "EF06 (social security number, name, sex, nation, birthplace, birth date)";

/// The holder's records as the card returned them ([`read_holder_records`]), before any
/// decoding: for checks of their form (`crate::check`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HolderRecords {
    /// The card's ATR.
    pub atr: Vec<u8>,
    /// EF05's records, record 1 first.
    pub ef05: Vec<Vec<u8>>,
    /// EF06's records, record 1 first; `None` when EF06 was not read (see `skipped`).
    pub ef06: Option<Vec<Vec<u8>>>,
    /// Whether INTERNAL AUTHENTICATE proved the card holds the IRK (None: not checked).
    pub card_authentic: Option<bool>,
    /// What was not read or checked for lack of keys, and why (empty when all was).
    pub skipped: Vec<String>,
}

/// Reads the holder's data (§11): the ATR's historical bytes, SELECT SSSE, INTERNAL
/// AUTHENTICATE when the PSAM has the IRK, EF05 (free to read), then EF06 (after external
/// authentication with RKSSSE, key 0A, when the card asks for it, §3.3). Without a PSAM, or
/// without the key a step needs, that step is skipped and said in
/// [`HolderData::skipped`]; what is public is read all the same. EF06's external
/// authentication spends a try of the RK when the key is wrong: it is made only after the
/// IRK matched (keys without an IRK: only when `unchecked`), never after it did not.
///
/// # Errors
/// [`FlowError`] naming the refused step.
pub fn read_holder(
    t: &mut dyn Transport,
    psam: Option<&mut Psam>,
    unchecked: bool,
) -> Result<HolderData, FlowError> {
    let raw = read_holder_records(t, psam, unchecked)?;
    let k = raw.atr.get(1).map_or(0, |t0| usize::from(t0 & 0x0F));
    let historical = raw
        .atr
        .get(raw.atr.len().saturating_sub(k)..)
        .unwrap_or_default();
    let mut records = tlvs(&raw.ef05);
    records.extend(tlvs(raw.ef06.as_deref().unwrap_or_default()));
    let get = |tag: u8| {
        records
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default()
    };
    let card_id = get(0x01);
    let mut name = an(get(0x09));
    name.push_str(&an(get(0x4E)));
    Ok(HolderData {
        region: cn(card_id.get(..3).unwrap_or_default()),
        social_security_number: an(get(0x08)),
        card_number: an(get(0x07)),
        card_id: apdu::hex_compact(card_id),
        name,
        historical_bytes: apdu::hex_compact(historical),
        version: an(get(0x03)),
        issue_date: cn(get(0x05)),
        expiry_date: cn(get(0x06)),
        card_type: an(get(0x02)),
        sex: an(get(0x0A)),
        nation: cn(get(0x0B)),
        birthplace: cn(get(0x0C)),
        birth_date: cn(get(0x0D)),
        card_authentic: raw.card_authentic,
        skipped: raw.skipped,
    })
}

/// What [`read_holder`] reads, each record as the card returned it (same steps, same
/// guards on the RK's tries).
///
/// # Errors
/// [`FlowError`] naming the refused step.
pub fn read_holder_records(
    t: &mut dyn Transport,
    mut psam: Option<&mut Psam>,
    unchecked: bool,
) -> Result<HolderRecords, FlowError> {
    let atr = t.atr()?;
    select_ssse(t)?;
    let mut skipped = Vec::new();
    let card_authentic = match psam.as_deref_mut().map(|p| p.internal_authenticate(t)) {
        Some(Ok(tr)) => Some(tr.ok()),
        None | Some(Err(PsamError::NoKey(..))) => {
            skipped.push(
                "INTERNAL AUTHENTICATE (is the card genuine?): needs the IRK, key 00".to_owned(),
            );
            None
        }
        Some(Err(e)) => return Err(e.into()),
    };
    let ef05 = read_raw_records(t, 0x05)?;
    let skip_ef06 =
        || format!("{EF06}: the card opens it after EXTERNAL AUTHENTICATE with RKSSSE, key 0A");
    // With keys, EF06 goes through `read_ef06`'s guard: no RK try when the IRK did not match.
    let irk = match card_authentic {
        None if unchecked => Some(true),
        other => other,
    };
    let ef06 = match psam {
        Some(_) if irk.is_none() => match read_raw_records(t, 0x06) {
            Err(FlowError::Refused {
                sw: StatusWord::SecurityStatusNotSatisfied,
                ..
            }) => {
                skipped.push(format!(
                    "{EF06}: the keys have no IRK to check them against the card first, and a \
                     wrong RKSSSE (0A) would cost a try (give the IRK, or --unchecked)"
                ));
                None
            }
            other => Some(other?),
        },
        Some(p) => match read_ef06_raw(t, p, irk) {
            Err(FlowError::Psam(PsamError::NoKey(..))) => {
                skipped.push(skip_ef06());
                None
            }
            other => Some(other?),
        },
        None => match read_raw_records(t, 0x06) {
            Err(FlowError::Refused {
                sw: StatusWord::SecurityStatusNotSatisfied,
                ..
            }) => {
                skipped.push(skip_ef06());
                None
            }
            other => Some(other?),
        },
    };
    Ok(HolderRecords {
        atr,
        ef05,
        ef06,
        card_authentic,
        skipped,
    })
}
