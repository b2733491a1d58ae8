//! `ssc-harness card reissue`: a new card for the same holder (补卡/换卡) — a new card serial
//! and card number, the holder's data unchanged, the card keys re-derived for the new card.
//!
//! What that can mean depends on where the card is (README, "Reissuing a card"):
//!
//! - **a virtual card**: [`reissued_profile`] writes the profile of the new card — the old
//!   profile with the new serial in the ATR (its last 4 bytes, docs/CARD.md §2) and in EF05's
//!   card identification code, the new card number with its check character, EF05 and EF06
//!   as read from the old card (its state file included). The SSSE's keys must be master keys
//!   diversified down to the card (`diversify` ending with `"card"`), so loading the new
//!   profile derives them from the new ATR: the same PSAM serves both cards.
//! - **a card in a reader**: its serial is in its ATR and its keys were put there before
//!   personalisation; neither can change. [`personalise`] makes it the holder's new card the
//!   way a service centre writes a new card (docs/CARD.md §7.4): external authentication with
//!   UKSSSE (04), then EF05's card identification code (made to agree with the ATR's serial),
//!   the new card number and, when given, the dates.

use apdu::StatusWord;
use applet_sim::date::Date;
use applet_sim::model::keys::ssse;
use toml::Value;

use crate::psam::{Psam, Transcript};
use crate::service::{self, FlowError};
use crate::transport::Transport;

/// EF05's card identification code: tag 01, 16 bytes; the card serial at bytes 8..12.
const CARD_ID: u8 = 0x01;
/// EF05's card number: tag 07, 9 characters.
const CARD_NUMBER: u8 = 0x07;
/// EF05's issue and expiry dates.
const ISSUE_DATE: u8 = 0x05;
const EXPIRY_DATE: u8 = 0x06;
/// Where the serial sits in the card identification code's value.
const SERIAL_AT: std::ops::Range<usize> = 8..12;

/// Why a reissue cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ReissueError {
    /// A card number that is not 8 characters (or 9 with the right check character).
    #[error(
        "card number {0:?}: expected an upper-case letter and 7 digits, optionally followed by \
         its check character"
    )]
    CardNumber(String),
    /// A 9-character card number whose last character is not its check character.
    #[error("card number {number:?}: the check character of {body} is {expected}")]
    CheckCharacter {
        /// As given.
        number: String,
        /// Its first 8 characters.
        body: String,
        /// Their check character.
        expected: char,
    },
    /// The card number cannot be counted up (its digits are all 9).
    #[error("card number {0:?} has no next number: give --card-number")]
    NoNextNumber(String),
    /// A date that is not one (YYYYMMDD or YYYY-MM-DD, a day that exists), or an expiry date
    /// not after the issue date.
    #[error("{option}: {problem}")]
    Date {
        /// The option given (`--issue-date`, `--expiry-date`).
        option: &'static str,
        /// What is wrong, in words.
        problem: String,
    },
    /// A serial that is not 4 bytes of hex.
    #[error("serial {0:?}: expected 8 hex digits (4 bytes)")]
    Serial(String),
    /// The profile is not a card profile this can rewrite.
    #[error("{source_name}: {problem}")]
    Profile {
        /// The profile's name or file.
        source_name: String,
        /// What is missing or wrong.
        problem: String,
    },
    /// The new card differs from what was asked (a bug or a card that ignores writes).
    #[error("the new card does not check out: {0}")]
    Check(String),
}

/// The check character of the first 8 characters of a card number (docs/CARD.md §3.4, V2.0
/// App. A): C9 = 11 − (Σ Ci·Wi mod 11), W = 3 7 9 10 5 8 4 2, letters A = 10 … Z = 35;
/// 10 is `X`, 11 is `0`. `None` unless 8 upper-case letters or digits.
#[must_use]
pub fn check_character(body: &str) -> Option<char> {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    if body.len() != 8 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in body.chars().zip(WEIGHTS) {
        let v = match c {
            '0'..='9' | 'A'..='Z' => c.to_digit(36)?,
            _ => return None,
        };
        sum += v * w;
    }
    match 11 - sum % 11 {
        10 => Some('X'),
        11 => Some('0'),
        d => char::from_digit(d, 10),
    }
}

/// A card number as given: 8 characters (an upper-case letter and 7 digits) get their check
/// character; 9 must end with it.
///
/// # Errors
/// [`ReissueError::CardNumber`], [`ReissueError::CheckCharacter`].
pub fn card_number(given: &str) -> Result<String, ReissueError> {
    let bad = || ReissueError::CardNumber(given.to_owned());
    let body = given.get(..8).ok_or_else(bad)?;
    let mut chars = body.chars();
    let shape = chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_digit())
        && given.len() <= 9;
    let expected = check_character(body).filter(|_| shape).ok_or_else(bad)?;
    match given.get(8..) {
        Some("") => Ok(format!("{body}{expected}")),
        Some(c) if c.starts_with(expected) => Ok(given.to_owned()),
        _ => Err(ReissueError::CheckCharacter {
            number: given.to_owned(),
            body: body.to_owned(),
            expected,
        }),
    }
}

/// The next card number after `current`: its 7 digits counted up by one, the district
/// letter kept, the check character recomputed.
///
/// # Errors
/// [`ReissueError::NoNextNumber`] when the digits are all 9 or the number is not one.
pub fn next_card_number(current: &str) -> Result<String, ReissueError> {
    let none = || ReissueError::NoNextNumber(current.to_owned());
    let letter = current.get(..1).ok_or_else(none)?;
    let digits: u32 = current
        .get(1..8)
        .and_then(|d| d.parse().ok())
        .ok_or_else(none)?;
    if digits >= 9_999_999 {
        return Err(none());
    }
    card_number(&format!("{letter}{:07}", digits + 1)).map_err(|_| none())
}

/// A date, YYYYMMDD or YYYY-MM-DD, a day that exists (years 1900 to 2099;
/// [`applet_sim::date::Date`]), as 4 BCD bytes.
///
/// # Errors
/// [`ReissueError::Date`].
pub fn date(text: &str) -> Result<[u8; 4], ReissueError> {
    Date::parse(text)
        .map(Date::bcd)
        .map_err(|problem| ReissueError::Date {
            option: "date",
            problem,
        })
}

/// A date as the card holds it: 4 BCD bytes, YYYYMMDD.
pub type Bcd = [u8; 4];

/// The new card's dates from `--issue-date` and `--expiry-date` (each YYYYMMDD or
/// YYYY-MM-DD, a day that exists), as 4 BCD bytes each: the expiry date must follow the
/// issue date — the card's own (`ef05`, tags 05 and 06) for the one not given.
///
/// # Errors
/// [`ReissueError::Date`] naming the option.
pub fn dates(
    issue: Option<&str>,
    expiry: Option<&str>,
    ef05: &[(u8, Vec<u8>)],
) -> Result<(Option<Bcd>, Option<Bcd>), ReissueError> {
    let parse = |option: &'static str, text: Option<&str>| {
        text.map(|t| Date::parse(t).map_err(|problem| ReissueError::Date { option, problem }))
            .transpose()
    };
    let issue = parse("--issue-date", issue)?;
    let expiry = parse("--expiry-date", expiry)?;
    let on_card = |tag: u8| {
        ef05.iter()
            .find(|(t, _)| *t == tag)
            .and_then(|(_, v)| Date::from_bcd(v))
    };
    let wrong = match (issue, expiry) {
        (Some(i), Some(e)) => (e <= i).then(|| {
            (
                "--expiry-date",
                format!("{e} is not after the issue date {i} (--issue-date)"),
            )
        }),
        (None, Some(e)) => on_card(ISSUE_DATE).filter(|i| e <= *i).map(|i| {
            (
                "--expiry-date",
                format!("{e} is not after the card's issue date {i}"),
            )
        }),
        (Some(i), None) => on_card(EXPIRY_DATE).filter(|e| *e <= i).map(|e| {
            (
                "--issue-date",
                format!("{i} is not before the card's expiry date {e}; give --expiry-date too"),
            )
        }),
        (None, None) => None,
    };
    if let Some((option, problem)) = wrong {
        return Err(ReissueError::Date { option, problem });
    }
    Ok((issue.map(Date::bcd), expiry.map(Date::bcd)))
}

/// A serial: 8 hex digits.
///
/// # Errors
/// [`ReissueError::Serial`].
pub fn serial(text: &str) -> Result<[u8; 4], ReissueError> {
    apdu::parse_hex(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ReissueError::Serial(text.to_owned()))
}

/// The serial after `atr`'s (its last 4 bytes, counted up by one).
#[must_use]
pub fn next_serial(atr: &[u8]) -> [u8; 4] {
    let old = atr.last_chunk::<4>().copied().unwrap_or_default();
    u32::from_be_bytes(old).wrapping_add(1).to_be_bytes()
}

/// What changes on the new card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reissue {
    /// The card serial (ATR TA–TD, EF05 card identification code bytes 8..12).
    pub serial: [u8; 4],
    /// The card number, 9 characters with its check character.
    pub card_number: String,
    /// A new issue date (EF05 tag 05), or the old one.
    pub issue_date: Option<[u8; 4]>,
    /// A new expiry date (EF05 tag 06), or the old one.
    pub expiry_date: Option<[u8; 4]>,
}

/// A record as the profile writes it: `tag len value`.
fn record(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut r = vec![tag, u8::try_from(value.len()).unwrap_or(u8::MAX)];
    r.extend_from_slice(value);
    r
}

/// EF05's records with the reissue's changes: the serial in the card identification code,
/// the card number, the dates.
fn new_ef05(ef05: &[(u8, Vec<u8>)], r: &Reissue) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::with_capacity(ef05.len());
    let mut seen_id = false;
    for (tag, value) in ef05 {
        let mut value = value.clone();
        match *tag {
            CARD_ID => {
                let serial = value
                    .get_mut(SERIAL_AT)
                    .ok_or("EF05's card identification code is shorter than 12 bytes")?;
                serial.copy_from_slice(&r.serial);
                seen_id = true;
            }
            CARD_NUMBER => value = r.card_number.as_bytes().to_vec(),
            ISSUE_DATE => value = r.issue_date.map_or(value, |d| d.to_vec()),
            EXPIRY_DATE => value = r.expiry_date.map_or(value, |d| d.to_vec()),
            _ => {}
        }
        out.push(record(*tag, &value));
    }
    if !seen_id {
        return Err("EF05 has no card identification code (record 01)".into());
    }
    Ok(out)
}

/// The profile of the reissued card: `text` (the old card's profile, named `source_name`)
/// with the new serial in `[card] atr`, EF05's and EF06's records replaced by `ef05` and
/// `ef06` (as read from the old card) with the reissue's changes, and a description saying
/// what it was reissued from. Comments are not kept; the new profile starts with a header
/// saying where it comes from. The SSSE's keys must be master keys diversified down to the
/// card, so that the new card's keys are derived from its new ATR.
///
/// # Errors
/// [`ReissueError::Profile`] naming what is missing, or an SSSE key given as a card-level
/// value.
pub fn reissued_profile(
    text: &str,
    source_name: &str,
    ef05: &[(u8, Vec<u8>)],
    ef06: &[(u8, Vec<u8>)],
    r: &Reissue,
) -> Result<String, ReissueError> {
    let err = |problem: String| ReissueError::Profile {
        source_name: source_name.to_owned(),
        problem,
    };
    let mut doc: toml::Table = text.parse().map_err(|e| err(format!("{e}")))?;
    let card = doc
        .get_mut("card")
        .and_then(Value::as_table_mut)
        .ok_or_else(|| err("no [card] table".into()))?;
    let mut atr = card
        .get("atr")
        .and_then(Value::as_str)
        .and_then(|a| apdu::parse_hex(a).ok())
        .ok_or_else(|| err("[card] atr: expected hex".into()))?;
    let n = atr.len();
    atr.get_mut(n.saturating_sub(4)..)
        .filter(|s| s.len() == 4 && n >= 12)
        .ok_or_else(|| err("[card] atr: too short to hold a card serial".into()))?
        .copy_from_slice(&r.serial);
    card.insert("atr".into(), Value::String(apdu::hex_spaced(&atr)));
    let described = card
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or(source_name)
        .to_owned();
    card.insert(
        "description".into(),
        Value::String(format!(
            "{described}; reissued: serial {}, card number {}",
            apdu::hex_compact(&r.serial),
            r.card_number
        )),
    );
    let ssse_df = tables(&doc, "df")
        .find(|t| t.get("kind").and_then(Value::as_str) == Some("ssse"))
        .and_then(|t| t.get("id").and_then(Value::as_str))
        .ok_or_else(|| err("no [[df]] of kind \"ssse\"".into()))?
        .to_owned();
    for key in tables(&doc, "key") {
        if key.get("parent").and_then(Value::as_str) != Some(ssse_df.as_str()) {
            continue;
        }
        let id = key.get("id").and_then(Value::as_integer).unwrap_or(-1);
        let to_card = key
            .get("diversify")
            .and_then(Value::as_array)
            .and_then(|levels| levels.last())
            .and_then(Value::as_str)
            == Some("card");
        if key.get("master").is_none() || !to_card {
            return Err(err(format!(
                "SSSE key {id:02X} is not a master key diversified down to the card \
                 (master + diversify ending with \"card\"): a reissued card's keys are \
                 derived from its new ATR, so they must be given that way"
            )));
        }
    }
    let records = |tag_records: Vec<Vec<u8>>| {
        Value::Array(
            tag_records
                .iter()
                .map(|rec| Value::String(apdu::hex_spaced(rec)))
                .collect(),
        )
    };
    let ef05 = records(new_ef05(ef05, r).map_err(err)?);
    let ef06 = records(ef06.iter().map(|(t, v)| record(*t, v)).collect());
    for (fid, new) in [("EF05", ef05), ("EF06", ef06)] {
        let ef = doc
            .get_mut("ef")
            .and_then(Value::as_array_mut)
            .and_then(|efs| {
                efs.iter_mut().filter_map(Value::as_table_mut).find(|t| {
                    t.get("parent").and_then(Value::as_str) == Some(ssse_df.as_str())
                        && t.get("fid")
                            .and_then(Value::as_str)
                            .is_some_and(|f| f.eq_ignore_ascii_case(fid))
                })
            })
            .ok_or_else(|| err(format!("no [[ef]] {fid} in the SSSE")))?;
        ef.insert("records".into(), new);
    }
    let body = toml::to_string(&doc).map_err(|e| err(format!("{e}")))?;
    Ok(format!(
        "# The reissued card of the holder of {source_name} (ssc-harness card reissue): serial \
         {}, card number {}.\n# The SSSE's keys are derived from the new ATR. Comments of the \
         original profile are not kept.\n\n{body}",
        apdu::hex_compact(&r.serial),
        r.card_number
    ))
}

/// The tables of an array of tables (`[[name]]`).
fn tables<'a>(doc: &'a toml::Table, name: &str) -> impl Iterator<Item = &'a toml::Table> {
    doc.get(name)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_table)
}

/// Personalises the card behind `t` as the holder's new card (docs/CARD.md §7.4): the SSSE
/// selected and the keys checked ([`service::check_keys`]), EF05 read, then external
/// authentication with UKSSSE (04) and UPDATE RECORD by identifier (`00 DC tag 28`) of the
/// card identification code (its serial made the ATR's), the card number and the dates
/// given; EF05 is read back and compared. `serial` in `r` is ignored: a card's serial is
/// its ATR's.
///
/// # Errors
/// [`FlowError`] naming the refused step; [`FlowError::Failed`] when the card does not hold
/// what was written.
pub fn personalise(
    t: &mut dyn Transport,
    psam: &mut Psam,
    r: &Reissue,
) -> Result<Vec<Transcript>, FlowError> {
    let atr = t.atr()?;
    let r = Reissue {
        serial: atr.last_chunk::<4>().copied().unwrap_or_default(),
        ..r.clone()
    };
    service::select_ssse(t)?;
    service::check_keys(t, psam)?;
    let old = service::read_records(t, 0x05)?;
    let new = new_ef05(&old, &r).map_err(|problem| FlowError::Failed {
        step: "READ RECORD of EF05".into(),
        problem,
    })?;
    let auth = psam.external_authenticate(t, ssse::UK, false)?;
    let mut done = vec![check(auth, "EXTERNAL AUTHENTICATE with key 04")?];
    for (before, after) in old.iter().map(|(t, v)| record(*t, v)).zip(&new) {
        if before == *after {
            continue;
        }
        let (tag, lc) = (after.first().copied().unwrap_or(0), after.len());
        let mut cmd = vec![0x00, 0xDC, tag, 0x05 << 3, u8::try_from(lc).unwrap_or(0)];
        cmd.extend_from_slice(after);
        let mut log = Transcript::default();
        crate::psam::send(t, &mut log, cmd)?;
        done.push(check(log, &format!("UPDATE RECORD {tag:02X} of EF05"))?);
    }
    let written: Vec<Vec<u8>> = service::read_records(t, 0x05)?
        .iter()
        .map(|(t, v)| record(*t, v))
        .collect();
    if written != new {
        return Err(FlowError::Failed {
            step: "READ RECORD of EF05".into(),
            problem: "the card does not hold what was written".into(),
        });
    }
    Ok(done)
}

/// A transcript that ended in 9000, or the step's refusal.
fn check(t: Transcript, step: &str) -> Result<Transcript, FlowError> {
    if t.ok() {
        return Ok(t);
    }
    let sw = apdu::Response::parse(t.response()).map_or(StatusWord::from(0u16), |r| r.sw);
    Err(FlowError::Refused {
        step: step.to_owned(),
        sw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_characters_of_the_specification_and_the_built_in_cards() {
        // docs/CARD.md §3.4: HA104692 4; gen3's A32010687.
        assert_eq!(check_character("HA104692"), Some('4'));
        assert_eq!(check_character("A3201068"), Some('7'));
        assert_eq!(card_number("A3201068").unwrap(), "A32010687");
        assert_eq!(card_number("A32010687").unwrap(), "A32010687");
        assert!(matches!(
            card_number("A32010681"),
            Err(ReissueError::CheckCharacter { expected: '7', .. })
        ));
        for bad in ["a3201068", "A320106", "AA201068", "A3201068XX", ""] {
            assert!(card_number(bad).is_err(), "{bad}");
        }
        assert_eq!(
            next_card_number("A32010687").unwrap().get(..8),
            Some("A3201069")
        );
        assert!(next_card_number("A99999999").is_err());
        // 10 → X, 11 → 0: find one of each among the next numbers.
        let checks: Vec<char> = (0..40)
            .filter_map(|i| check_character(&format!("A{:07}", 1_000_000 + i)))
            .collect();
        assert!(checks.contains(&'X') && checks.contains(&'0'), "{checks:?}");
    }

    #[test]
    fn dates_and_serials() {
        assert_eq!(date("20300101").unwrap(), [0x20, 0x30, 0x01, 0x01]);
        assert_eq!(date("2030-01-01").unwrap(), [0x20, 0x30, 0x01, 0x01]);
        for bad in [
            "2030011",
            "20301301",
            "20300100",
            "2030010a",
            "20230231",
            "00000101",
            "2-0-3-0-0-1-0-1",
        ] {
            assert!(date(bad).is_err(), "{bad}");
        }
        // gen3's EF05: issued 2024-03-15, expires 2034-03-15.
        let ef05 = [
            (0x05, vec![0x20, 0x24, 0x03, 0x15]),
            (0x06, vec![0x20, 0x34, 0x03, 0x15]),
        ];
        let e = |i: Option<&str>, x: Option<&str>| dates(i, x, &ef05).unwrap_err().to_string();
        assert_eq!(
            e(Some("20300101"), Some("20250101")),
            "--expiry-date: 20250101 is not after the issue date 20300101 (--issue-date)"
        );
        assert!(e(None, Some("20240315")).contains("card's issue date 20240315"));
        assert!(e(Some("20340315"), None).contains("card's expiry date 20340315"));
        assert!(e(Some("20230231"), None).starts_with("--issue-date: \"20230231\""));
        assert_eq!(
            dates(Some("2030-01-01"), None, &ef05).unwrap(),
            (Some([0x20, 0x30, 0x01, 0x01]), None)
        );
        assert_eq!(serial("001C9B26").unwrap(), [0x00, 0x1C, 0x9B, 0x26]);
        assert!(serial("001C9B").is_err());
        assert_eq!(next_serial(&[0x3B, 0x00, 0xFF, 0xFF, 0xFF, 0xFF]), [0; 4]);
    }
}
