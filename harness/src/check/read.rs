//! Gathering the card's data for the checks, as a reader would: the ATR, the SSSE's FCI,
//! EF05 and EF06 ([`crate::service::read_holder_records`], external authentication with
//! RKSSSE when the card asks), the sub-applications after VERIFY of the declared PIN (only
//! when its counter, queried for free, is at the declared maximum), and the financial
//! application's records. Nothing is written; no key or PIN try is spent on a guess.

use apdu::tlv::{BerTlv, Tag};
use apdu::{Response, StatusWord};

use crate::card;
use crate::psam::Psam;
use crate::service::{self, FlowError};
use crate::transport::{self, Transport, TransportError};

use super::spec::{BANK_AIDS, RID, SUB_APPLICATIONS};
use super::{CheckOptions, DeclaredPin};

/// What was read.
#[derive(Clone, Debug, Default)]
pub(super) struct CardData {
    /// The ATR.
    pub atr: Vec<u8>,
    /// The SSSE FCI's algorithm flag (`9F0C { 86 01 xx }`), if it has one.
    pub algorithm: Option<u8>,
    /// EF05's records as returned.
    pub ef05: Vec<Vec<u8>>,
    /// EF06's records as returned (`None`: not read).
    pub ef06: Option<Vec<Vec<u8>>>,
    /// The sub-applications that were read.
    pub sub_applications: Vec<DfData>,
    /// The financial application, when the card has one.
    pub bank: Option<BankData>,
    /// What was not read, and why.
    pub not_checked: Vec<String>,
}

/// A sub-application's record EFs.
#[derive(Clone, Debug, Default)]
pub(super) struct DfData {
    /// `DF01` … `DF07`.
    pub label: &'static str,
    /// Its record EFs by SFI, each with its records (record 1 first).
    pub efs: Vec<(u8, Vec<Vec<u8>>)>,
}

/// The financial application's records.
#[derive(Clone, Debug, Default)]
pub(super) struct BankData {
    /// Which application (`UnionPay debit` …).
    pub label: &'static str,
    /// (SFI, record number, record).
    pub records: Vec<(u8, u8, Vec<u8>)>,
}

/// Sends a command as readers do: the response's data and status word.
fn send(t: &mut dyn Transport, command: &[u8]) -> Result<Response, TransportError> {
    let response = transport::exchange(t, command, &mut Vec::new())?;
    Ok(Response::parse(&response).unwrap_or(Response::status(StatusWord::from(0u16))))
}

/// The most records read from one EF (a cyclic EF of DF04 holds 30 or more).
const MAX_RECORDS: u8 = 254;

/// What READ RECORD made of an EF.
enum EfRead {
    /// Its records (none: an empty record EF).
    Records(Vec<Vec<u8>>),
    /// No such EF (`6A82`), or not a record EF (`6981`).
    Absent,
    /// Refused with this status word (e.g. `6982`: another key is needed).
    Refused(StatusWord),
}

/// Reads every record of the EF with this SFI in the current DF, record 1 first.
fn read_ef(t: &mut dyn Transport, sfi: u8) -> Result<EfRead, TransportError> {
    let mut records = Vec::new();
    for number in 1..=MAX_RECORDS {
        let Response { data, sw } = send(t, &[0x00, 0xB2, number, sfi << 3 | 0x04, 0x00])?;
        match sw {
            StatusWord::Success => records.push(data),
            StatusWord::RecordNotFound => break,
            StatusWord::FileNotFound | StatusWord::IncompatibleFileStructure if number == 1 => {
                return Ok(EfRead::Absent);
            }
            sw => return Ok(EfRead::Refused(sw)),
        }
    }
    Ok(EfRead::Records(records))
}

/// Reads what the checks need (module documentation).
///
/// # Errors
/// [`FlowError`] when the card cannot be reached or refuses a step a reader needs (SELECT
/// of the SSSE, READ RECORD of EF05). Keys that are not the card's are no error: EF06 is
/// then listed as not checked.
pub(super) fn read_card(
    t: &mut dyn Transport,
    psam: Option<&mut Psam>,
    options: &CheckOptions,
) -> Result<CardData, FlowError> {
    let fci = match send(t, &card::select_ssse(true))? {
        Response {
            data,
            sw: StatusWord::Success,
        } => data,
        Response { sw, .. } => {
            return Err(FlowError::Refused {
                step: "SELECT SSSE".into(),
                sw,
            });
        }
    };
    let algorithm = BerTlv::find(&fci, Tag(0x9F0C))
        .ok()
        .flatten()
        .and_then(|t| BerTlv::find(t.value, Tag(0x86)).ok().flatten())
        .and_then(|t| t.value.first().copied());
    let holder = match service::read_holder_records(t, psam, options.unchecked) {
        // The keys are not the card's (found before any try was spent): what is free to
        // read is checked all the same.
        Err(e @ FlowError::KeysDoNotMatch { .. }) => {
            let mut holder = service::read_holder_records(t, None, false)?;
            holder
                .skipped
                .retain(|s| !s.starts_with("INTERNAL AUTHENTICATE"));
            holder.skipped.insert(0, e.to_string());
            holder
        }
        other => other?,
    };
    let mut not_checked = holder.skipped;
    if holder.card_authentic == Some(false) {
        not_checked.push(
            "INTERNAL AUTHENTICATE: the card's cryptogram is not the IRK's of the keys given \
             (not this card's keys, or not a genuine card)"
                .to_owned(),
        );
    }
    let sub_applications = read_sub_applications(t, options.pin, &mut not_checked)?;
    let bank = read_bank(t, &mut not_checked)?;
    Ok(CardData {
        atr: holder.atr,
        algorithm,
        ef05: holder.ef05,
        ef06: holder.ef06,
        sub_applications,
        bank,
        not_checked,
    })
}

/// What the sub-applications' records need that is missing, for the report.
const SUB_APPS: &str = "the sub-applications DF01-DF07 (read after VERIFY of the SSSE PIN)";

/// VERIFY of the declared PIN, after its counter was queried for free and found at the
/// declared maximum; `Ok(false)` with the reason noted when it is not sent or fails.
fn verify_pin(
    t: &mut dyn Transport,
    pin: Option<DeclaredPin>,
    not_checked: &mut Vec<String>,
) -> Result<bool, FlowError> {
    service::select_ssse(t)?;
    // VERIFY without data: the counter, no try spent (docs/CARD.md §5.1).
    let tries = match send(t, &[0x00, 0x20, 0x00, 0x00])?.sw {
        StatusWord::Success => return Ok(true), // the card has no PIN
        StatusWord::RemainingRetries(n) => n,
        StatusWord::AuthenticationMethodBlocked => {
            not_checked.push(format!("{SUB_APPS}: the SSSE PIN is blocked (6983)"));
            return Ok(false);
        }
        sw => {
            not_checked.push(format!(
                "{SUB_APPS}: VERIFY without data (the PIN's counter) answered {:04X} ({})",
                u16::from(sw),
                sw.meaning()
            ));
            return Ok(false);
        }
    };
    let Some(pin) = pin else {
        not_checked.push(format!("{SUB_APPS}: no SSSE PIN is declared for this card"));
        return Ok(false);
    };
    if tries < pin.max_tries {
        not_checked.push(format!(
            "{SUB_APPS}: the SSSE PIN has {tries} tries left, fewer than its declared maximum \
             {}: VERIFY was not sent (a wrong PIN would cost one of them)",
            pin.max_tries
        ));
        return Ok(false);
    }
    let bcd = pin.value.to_bcd();
    let mut verify = vec![0x00, 0x20, 0x00, 0x00, u8::try_from(bcd.len()).unwrap_or(0)];
    verify.extend_from_slice(&bcd);
    match send(t, &verify)?.sw {
        StatusWord::Success => Ok(true),
        sw => {
            not_checked.push(format!(
                "{SUB_APPS}: VERIFY of the declared SSSE PIN answered {:04X} ({}): the declared \
                 PIN is not this card's",
                u16::from(sw),
                sw.meaning()
            ));
            Ok(false)
        }
    }
}

/// The sub-applications' record EFs (SFI 01-1E of each), after VERIFY.
fn read_sub_applications(
    t: &mut dyn Transport,
    pin: Option<DeclaredPin>,
    not_checked: &mut Vec<String>,
) -> Result<Vec<DfData>, FlowError> {
    if !verify_pin(t, pin, not_checked)? {
        return Ok(Vec::new());
    }
    let mut dfs = Vec::new();
    for (label, pix) in SUB_APPLICATIONS {
        let mut aid = RID.to_vec();
        aid.push(pix);
        let select = card::select_by_name(&aid, false).unwrap_or_default();
        match send(t, &select)?.sw {
            StatusWord::Success => {}
            StatusWord::FileNotFound => {
                not_checked.push(format!("{label}: not on the card (SELECT answered 6A82)"));
                continue;
            }
            sw => {
                not_checked.push(format!(
                    "{label}: SELECT answered {:04X} ({})",
                    u16::from(sw),
                    sw.meaning()
                ));
                continue;
            }
        }
        let mut df = DfData {
            label,
            efs: Vec::new(),
        };
        for sfi in 0x01..=0x1E {
            match read_ef(t, sfi)? {
                EfRead::Records(records) => df.efs.push((sfi, records)),
                EfRead::Absent => {}
                EfRead::Refused(sw) => not_checked.push(format!(
                    "{label} EF{sfi:02X}: READ RECORD answered {:04X} ({}){}",
                    u16::from(sw),
                    sw.meaning(),
                    if sw == StatusWord::SecurityStatusNotSatisfied {
                        ": it needs more than the SSSE PIN (the DF's read key)"
                    } else {
                        ""
                    }
                )),
            }
        }
        dfs.push(df);
    }
    Ok(dfs)
}

/// The UnionPay application's records (SFI 01-0A), if the card has one.
fn read_bank(
    t: &mut dyn Transport,
    not_checked: &mut Vec<String>,
) -> Result<Option<BankData>, FlowError> {
    let labels = ["UnionPay debit", "UnionPay credit", "UnionPay quasi-credit"];
    for (aid, label) in BANK_AIDS.iter().zip(labels) {
        let select = card::select_by_name(aid, true).unwrap_or_default();
        match send(t, &select)?.sw {
            StatusWord::Success => {}
            StatusWord::SelectedFileInvalidated => {
                not_checked.push(format!(
                    "{label}: blocked for now (SELECT answered 6283), its records are not read"
                ));
                return Ok(None);
            }
            _ => continue,
        }
        let mut bank = BankData {
            label,
            records: Vec::new(),
        };
        for sfi in 0x01..=0x0A {
            match read_ef(t, sfi)? {
                EfRead::Records(records) => bank.records.extend(
                    (1u8..)
                        .zip(records)
                        .map(|(number, record)| (sfi, number, record)),
                ),
                EfRead::Absent => {}
                EfRead::Refused(sw) => not_checked.push(format!(
                    "{label} SFI {sfi:02X}: READ RECORD answered {:04X} ({})",
                    u16::from(sw),
                    sw.meaning()
                )),
            }
        }
        return Ok(Some(bank));
    }
    Ok(None)
}
