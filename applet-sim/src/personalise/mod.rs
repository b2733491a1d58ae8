//! Personalisation (issue 13; docs/CARD.md §3.4, §2, §6.6): profiles for other cardholders,
//! made from a base profile and a small holder record, with every derived field consistent.
//!
//! A holder record gives the name, the citizen ID number (社会保障号码), the issuing region,
//! the issue date and optionally the expiry date, sex, birth date, nationality, card serial
//! and card number: one holder in a TOML file, many in a CSV file ([`read_holders`]). Each
//! is checked ([`Holder::check`]): the citizen ID's check character (ISO 7064 MOD 11-2), the
//! birth date and sex it encodes against those given, the dates (YYYYMMDD or YYYY-MM-DD,
//! [`crate::date`]), the name's GBK encoding (at most 30 bytes of whole characters in EF06
//! tag 09, the rest, at most 20 bytes, in the extension 4E), the card number's
//! check character (docs/CARD.md §3.4: C9 = 11 − (Σ Ci·Wi mod 11), W = 3 7 9 10 5 8 4 2,
//! A = 10 … Z = 35; 10 → `X`, 11 → `0`).
//!
//! [`personalise`] then writes the base profile again with, for that holder:
//! - the ATR's T8–T9 (the region's first four digits) and TA–TD (the card serial), and the
//!   same serial in the card identification code (EF05 tag 01 = region ‖ `D156000005` ‖
//!   serial ‖ `FFFFFFFF`: the 认证码's algorithm is not public, §10, and real cards carry
//!   `FFFFFFFF`);
//! - EF05: the issuing region in the initialising organisation (tag 04), the issue and
//!   expiry dates (05, 06), the card number (07);
//! - EF06: the citizen ID (08), the name in GBK (09 and 4E), sex (0A), nationality (0B, `FF`
//!   when not given), place of birth (0C: the ID's first six digits), birth date (0D);
//! - `[card] region`, so keys given as a master key and diversification levels (`master`,
//!   `diversify`) are derived for this card (the card level from the new ATR, the city and
//!   province levels from the region) when the profile is loaded.
//!
//! Keys given as card values (`value`) are kept as they are: every card made from the base
//! shares them, as with the base itself (the front end warns). The other holder data of the
//! base — the sub-applications DF01–DF07 (address, employer, …) and the financial
//! application's records (PAN, track 2, the Latin name 5F20) — is kept too: it is the bank's
//! and the other departments' personalisation, not the card issuer's.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use sm3::Digest;
use toml::{Spanned, Table, Value};

use crate::date::{Date, LAST_YEAR};
use crate::input::read_text;
use crate::model::AppKind;
use crate::profile::{MAX_PROFILE_BYTES, Profile, line_col, location};

mod fields;
mod holders;

use self::fields::*;
pub use self::fields::{card_number_check, citizen_id_check, nation};
pub use self::holders::{parse_csv, parse_toml, read_holders};

/// A holder record that cannot be used, or a base that cannot be personalised: where and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location(source_name, *line, *column))]
pub struct PersonaliseError {
    /// The file (holder record or base profile).
    pub source_name: String,
    /// 1-based line (0: the whole file).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// The holder record fields, in the order a CSV header may name them.
pub const FIELDS: [&str; 10] = [
    "name",
    "citizen_id",
    "region",
    "issue_date",
    "expiry_date",
    "sex",
    "birth_date",
    "nation",
    "serial",
    "card_number",
];

/// Fields every holder record has.
const REQUIRED: [&str; 4] = ["name", "citizen_id", "region", "issue_date"];

/// The most holders one CSV file may hold.
pub const MAX_HOLDERS: usize = 100_000;

/// Where a value stands in its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pos {
    line: usize,
    column: usize,
}

/// One holder as read: each field's text and where it stands.
#[derive(Clone, Debug)]
pub struct Holder {
    source: String,
    /// Where the record starts (errors about a missing field point here).
    at: Pos,
    fields: HashMap<&'static str, (String, Pos)>,
}

/// A holder checked: the card data every derived field comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardData {
    /// The name as given.
    pub name: String,
    /// The name in GBK (1..=50 bytes: whole characters within 30 for tag 09, at most 20 after
    /// them for 4E).
    pub name_gbk: Vec<u8>,
    /// The citizen ID, 18 characters, its check character upper case.
    pub citizen_id: String,
    /// The issuing region, 6 digits.
    pub region: String,
    /// Issue date, YYYYMMDD.
    pub issue_date: String,
    /// Expiry date, YYYYMMDD (ten years after issue unless given).
    pub expiry_date: String,
    /// `1` male, `2` female (from the citizen ID).
    pub sex: char,
    /// Birth date, YYYYMMDD (from the citizen ID).
    pub birth_date: String,
    /// Nationality code (GB 3304, two digits), if given.
    pub nation: Option<String>,
    /// The card serial: ATR TA–TD and bytes 9–12 of the card identification code.
    pub serial: [u8; 4],
    /// The card number, 9 characters with its check character.
    pub card_number: String,
}

impl Holder {
    /// The text of `field`, if given (an empty CSV cell is not given).
    fn get(&self, field: &str) -> Option<(&str, Pos)> {
        self.fields
            .get(field)
            .map(|(v, p)| (v.as_str(), *p))
            .filter(|(v, _)| !v.is_empty())
    }

    fn error(&self, at: Pos, message: String) -> PersonaliseError {
        PersonaliseError {
            source_name: self.source.clone(),
            line: at.line,
            column: at.column,
            message,
        }
    }

    /// Checks the record and derives the card data; `letter` starts a card number that is
    /// not given (the base card's district letter).
    ///
    /// # Errors
    /// [`PersonaliseError`] at the field that is wrong (at the record for a missing one).
    pub fn check(&self, letter: char) -> Result<CardData, PersonaliseError> {
        let required = |field: &str| {
            self.get(field)
                .ok_or_else(|| self.error(self.at, format!("{field}: missing (required)")))
        };
        let at = |pos: Pos, field: &'static str| {
            move |m: String| self.error(pos, format!("{field}: {m}"))
        };

        let (id, id_at) = required("citizen_id")?;
        let id = citizen_id(id).map_err(at(id_at, "citizen_id"))?;
        let birth_date = id.get(6..14).unwrap_or_default().to_owned();
        // GB 11643: the 17th digit is odd for a man, even for a woman.
        let id_sex = match id.chars().nth(16).and_then(|d| d.to_digit(10)) {
            Some(d) if d % 2 == 1 => '1',
            _ => '2',
        };
        let (name, name_at) = required("name")?;
        let name_gbk = gbk_name(name).map_err(at(name_at, "name"))?;
        let (region, region_at) = required("region")?;
        let region = region_code(region).map_err(at(region_at, "region"))?;
        let (issue, issue_at) = required("issue_date")?;
        let issue_date = date(issue).map_err(at(issue_at, "issue_date"))?;
        let expiry_date = match self.get("expiry_date") {
            Some((e, e_at)) => {
                let e = date(e).map_err(at(e_at, "expiry_date"))?;
                if e <= issue_date {
                    return Err(self.error(
                        e_at,
                        format!("expiry_date: {e} is not after the issue date {issue_date}"),
                    ));
                }
                e
            }
            None => ten_years_after(&issue_date).ok_or_else(|| {
                self.error(
                    issue_at,
                    format!(
                        "issue_date: {issue_date}: ten years after it is past {LAST_YEAR}, the \
                         last year a card date may have; give expiry_date"
                    ),
                )
            })?,
        };
        if let Some((b, b_at)) = self.get("birth_date") {
            let b = date(b).map_err(at(b_at, "birth_date"))?;
            if b != birth_date {
                return Err(self.error(
                    b_at,
                    format!("birth_date: {b}, but the citizen ID says {birth_date}"),
                ));
            }
        }
        if birth_date > issue_date {
            return Err(self.error(
                issue_at,
                format!("issue_date: {issue_date} is before the birth date {birth_date}"),
            ));
        }
        if let Some((s, s_at)) = self.get("sex") {
            let given = sex(s).map_err(at(s_at, "sex"))?;
            if given != id_sex {
                return Err(self.error(
                    s_at,
                    format!(
                        "sex: {s:?}, but the citizen ID says {} ('{id_sex}': its 17th digit is {})",
                        if id_sex == '1' { "male" } else { "female" },
                        if id_sex == '1' { "odd" } else { "even" }
                    ),
                ));
            }
        }
        let nation = self
            .get("nation")
            .map(|(n, n_at)| nation(n).map_err(at(n_at, "nation")))
            .transpose()?;
        let serial = match self.get("serial") {
            Some((s, s_at)) => serial_field(s).map_err(at(s_at, "serial"))?,
            None => derived_serial(&id, &region),
        };
        let card_number = match self.get("card_number") {
            Some((c, c_at)) => card_number(c).map_err(at(c_at, "card_number"))?,
            None => derived_card_number(letter, serial),
        };
        Ok(CardData {
            name: name.to_owned(),
            name_gbk,
            citizen_id: id,
            region,
            issue_date,
            expiry_date,
            sex: id_sex,
            birth_date,
            nation,
            serial,
            card_number,
        })
    }

    /// Where the record starts (`file:line`), for messages.
    #[must_use]
    pub fn place(&self) -> String {
        format!("{}:{}", self.source, self.at.line)
    }
}

// --- Reading holder records ------------------------------------------------------------

/// Checks every holder (in file order) and that no two share a citizen ID, a serial or a
/// card number (each card's profile is named after its card number).
///
/// Citizen IDs, and serials and card numbers given in the records, must not repeat. A
/// serial or card number derived (not given) that is taken already — given by any holder,
/// or derived for one before it in the batch — moves on to the next free one (the serial
/// counted up by one, the card number's 7 digits counted up by one, its check character
/// recomputed): the same batch always gives the same cards, and a batch of many holders
/// does not stop on two derived numbers alike (10^7 card numbers). A holder's derived
/// number may so depend on the others in its batch; give `card_number` (and `serial`) to
/// fix them.
///
/// # Errors
/// The first [`PersonaliseError`], at the field; a repeat at the later holder's field.
pub fn check_all(holders: &[Holder], letter: char) -> Result<Vec<CardData>, PersonaliseError> {
    let mut cards: Vec<CardData> = Vec::with_capacity(holders.len());
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut serials: HashSet<[u8; 4]> = HashSet::new();
    let mut numbers: HashSet<String> = HashSet::new();
    // First what is given: every holder checked, no citizen ID, serial or card number given
    // twice.
    for h in holders {
        let card = h.check(letter)?;
        let mut keys = vec![("citizen_id", card.citizen_id.clone())];
        if h.get("serial").is_some() {
            keys.push(("serial", apdu::hex_compact(&card.serial)));
            serials.insert(card.serial);
        }
        if h.get("card_number").is_some() {
            keys.push(("card_number", card.card_number.clone()));
            numbers.insert(card.card_number.clone());
        }
        for (field, value) in keys {
            if let Some(first) = seen.insert(format!("{field} {value}"), h.place()) {
                let at = h.get(field).map_or(h.at, |(_, p)| p);
                return Err(h.error(
                    at,
                    format!("{field}: {value} again (first at {first}); each card needs its own"),
                ));
            }
        }
        cards.push(card);
    }
    // Then what is derived, in file order: a value taken already moves on to the next free
    // one (the sets hold every value given and every one derived so far).
    for (h, card) in holders.iter().zip(&mut cards) {
        let number_given = h.get("card_number").is_some();
        if h.get("serial").is_none() {
            let mut serial = u32::from_be_bytes(card.serial);
            while serials.contains(&serial.to_be_bytes()) {
                serial = serial.wrapping_add(1);
            }
            card.serial = serial.to_be_bytes();
            serials.insert(card.serial);
            if !number_given {
                card.card_number = derived_card_number(letter, card.serial);
            }
        }
        if !number_given {
            let mut digits = u32::from_be_bytes(card.serial) % CARD_DIGITS;
            while numbers.contains(&card.card_number) {
                digits = (digits + 1) % CARD_DIGITS;
                card.card_number = card_number_of(letter, digits);
            }
            numbers.insert(card.card_number.clone());
        }
    }
    Ok(cards)
}

/// How many card numbers there are for one district letter (7 digits).
const CARD_DIGITS: u32 = 10_000_000;

/// The card number derived from a serial: the district letter, the serial's last 7 decimal
/// digits, the check character.
fn derived_card_number(letter: char, serial: [u8; 4]) -> String {
    card_number_of(letter, u32::from_be_bytes(serial) % CARD_DIGITS)
}

/// The card number of a district letter and 7 digits, with its check character.
fn card_number_of(letter: char, digits: u32) -> String {
    let body = format!("{letter}{digits:07}");
    let check = card_number_check(&body).unwrap_or('0');
    format!("{body}{check}")
}

// --- The profile ------------------------------------------------------------------------

/// A base profile to personalise: its text and what validation says of it.
#[derive(Debug)]
pub struct Base {
    text: String,
    profile: Profile,
    /// The SSSE's label.
    ssse: String,
    /// The district letter of the base's card number (EF05 tag 07), `A` if none.
    pub letter: char,
    /// How many of its keys are given as card values (kept as they are).
    pub value_keys: usize,
}

impl Base {
    /// A base profile by built-in name or path: a third-generation-style card with the
    /// ATR `3B 6D 00 00` + 13 historical bytes and an SSSE.
    ///
    /// # Errors
    /// [`PersonaliseError`] naming the profile.
    pub fn load(name_or_path: &str) -> Result<Self, PersonaliseError> {
        let fail = |message: String| PersonaliseError {
            source_name: name_or_path.to_owned(),
            line: 0,
            column: 0,
            message,
        };
        let profile = Profile::load(name_or_path).map_err(|e| PersonaliseError {
            source_name: e.source_name,
            line: e.line,
            column: e.column,
            message: e.message,
        })?;
        let text = match crate::profile::builtin_text(name_or_path) {
            Some(t) => t.to_owned(),
            None => read_text(Path::new(name_or_path), MAX_PROFILE_BYTES)
                .map_err(|e| fail(e.problem.to_string()))?,
        };
        if !matches!(profile.atr.as_slice(), [0x3B, 0x6D, 0x00, 0x00, ..] if profile.atr.len() == 17)
        {
            return Err(fail(
                "its ATR is not 3B 6D 00 00 and 13 historical bytes (docs/CARD.md §2), where \
                 the region (T8-T9) and serial (TA-TD) go"
                    .into(),
            ));
        }
        let ssse = profile
            .dfs
            .iter()
            .find(|d| d.kind == Some(AppKind::Ssse) && d.parent == "MF")
            .map(|d| d.id.clone())
            .ok_or_else(|| fail("no SSSE application (a [[df]] with kind = \"ssse\")".into()))?;
        let letter = profile
            .efs
            .iter()
            .find(|e| e.parent == ssse && e.control.fid == 0xEF05)
            .and_then(|e| e.records.iter().find(|r| r.first() == Some(&0x07)))
            .and_then(|r| r.get(2).copied())
            .map(char::from)
            .filter(char::is_ascii_uppercase)
            .unwrap_or('A');
        let value_keys = profile_table(&text)
            .ok()
            .and_then(|t| t.get("key").and_then(Value::as_array).cloned())
            .map_or(0, |keys| {
                keys.iter().filter(|k| k.get("value").is_some()).count()
            });
        Ok(Self {
            text,
            profile,
            ssse,
            letter,
            value_keys,
        })
    }

    /// The base's name (`builtin:gen3`, or its path).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.profile.source_name
    }
}

fn profile_table(text: &str) -> Result<Table, String> {
    text.parse::<Table>().map_err(|e| e.to_string())
}

/// The ATR with the region's first four digits at T8–T9 and the serial at TA–TD.
#[must_use]
pub fn atr_for(base_atr: &[u8], region: &str, serial: [u8; 4]) -> Vec<u8> {
    let mut atr = base_atr.to_vec();
    let bcd = apdu::parse_hex(region.get(..4).unwrap_or_default()).unwrap_or_default();
    if let Some(t89) = atr.get_mut(11..13) {
        t89.copy_from_slice(bcd.get(..2).unwrap_or(&[0, 0]));
    }
    if let Some(serial_bytes) = atr.get_mut(13..17) {
        serial_bytes.copy_from_slice(&serial);
    }
    atr
}

/// A record's hex as the profiles write it: tag, length, value, its trailing zeros as one
/// `00*N` (`09 1E CD F5 D0 A1 C3 F7 00*24`).
fn record(tag: u8, value: &[u8]) -> String {
    let len = u8::try_from(value.len()).unwrap_or(u8::MAX);
    let zeros = value.iter().rev().take_while(|b| **b == 0).count();
    let (data, _) = value.split_at(value.len() - zeros);
    let mut text = format!("{tag:02X} {len:02X}");
    if !data.is_empty() {
        text.push(' ');
        text.push_str(&spaced(data));
    }
    if zeros > 0 {
        text.push_str(&format!(" 00*{zeros}"));
    }
    text
}

fn spaced(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn bcd(digits: &str) -> Vec<u8> {
    apdu::parse_hex(digits).unwrap_or_default()
}

/// The first byte of a record written in a profile (hex, maybe spaced).
fn record_tag(text: &str) -> Option<u8> {
    let hex: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(2)
        .collect();
    u8::from_str_radix(&hex, 16).ok()
}

/// Replaces (or appends) the records with these tags in an EF's `records` array.
fn set_records(ef: &mut Table, records: &[(u8, String)]) {
    let list = ef
        .entry("records")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(list) = list else { return };
    for (tag, text) in records {
        let at = list
            .iter()
            .position(|r| r.as_str().and_then(record_tag) == Some(*tag));
        match at.and_then(|i| list.get_mut(i)) {
            Some(slot) => *slot = Value::String(text.clone()),
            None => list.push(Value::String(text.clone())),
        }
    }
}

impl fmt::Display for CardData {
    /// `A32010687 (serial 001C9B25): 苏宁安, 32010219850612123X, region 320100`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "card {} (serial {}): {}, {}, region {}, valid {} to {}",
            self.card_number,
            apdu::hex_compact(&self.serial),
            self.name,
            self.citizen_id,
            self.region,
            self.issue_date,
            self.expiry_date
        )
    }
}

/// The profile text of `card` made from `base`, validated (it loads as `output_name`).
///
/// # Errors
/// [`PersonaliseError`] when the base's layout cannot take the holder's data (the result
/// would not load: e.g. EF05 or EF06 with fewer records or shorter records than the
/// specification's).
pub fn personalise(
    base: &Base,
    card: &CardData,
    output_name: &str,
) -> Result<String, PersonaliseError> {
    let fail = |message: String| PersonaliseError {
        source_name: base.name().to_owned(),
        line: 0,
        column: 0,
        message,
    };
    let mut doc = profile_table(&base.text).map_err(fail)?;
    let atr = atr_for(&base.profile.atr, &card.region, card.serial);
    if let Some(Value::Table(c)) = doc.get_mut("card") {
        c.insert("atr".into(), Value::String(spaced(&atr)));
        c.insert("region".into(), Value::String(card.region.clone()));
        c.insert(
            "description".into(),
            Value::String(format!(
                "card {}, region {}, personalised from {}",
                card.card_number,
                card.region,
                base.name()
            )),
        );
    }
    let region = bcd(&card.region);
    let mut card_id = region.clone();
    card_id.extend_from_slice(&[0xD1, 0x56, 0x00, 0x00, 0x05]);
    card_id.extend_from_slice(&card.serial);
    card_id.extend_from_slice(&[0xFF; 4]);
    // Tag 04: 91 56 00 00 02 ‖ issuing region ‖ the initialising organisation's region and
    // sequence as in the base.
    let mut org = base
        .profile
        .efs
        .iter()
        .find(|e| e.parent == base.ssse && e.control.fid == 0xEF05)
        .and_then(|e| e.records.iter().find(|r| r.first() == Some(&0x04)))
        .and_then(|r| r.get(2..).map(<[u8]>::to_vec))
        .filter(|v| v.len() == 12)
        .unwrap_or_else(|| {
            let mut v = vec![0x91, 0x56, 0x00, 0x00, 0x02];
            v.extend_from_slice(&region);
            v.extend_from_slice(&region);
            v.push(0x01);
            v
        });
    if let Some(issuing) = org.get_mut(5..8) {
        issuing.copy_from_slice(region.get(..3).unwrap_or(&[0; 3]));
    }
    let ef05 = vec![
        (0x01, record(0x01, &card_id)),
        (0x04, record(0x04, &org)),
        (0x05, record(0x05, &bcd(&card.issue_date))),
        (0x06, record(0x06, &bcd(&card.expiry_date))),
        (0x07, record(0x07, card.card_number.as_bytes())),
    ];
    // Cut between characters: tag 09 padded with 00 after its last whole character.
    let cut = name_cut(&card.name_gbk);
    let mut name = card.name_gbk.get(..cut).unwrap_or_default().to_vec();
    name.resize(NAME_LEN, 0);
    let mut ext = card.name_gbk.get(cut..).unwrap_or_default().to_vec();
    ext.resize(NAME_EXTENSION_LEN, 0);
    let ef06 = vec![
        (0x08, record(0x08, card.citizen_id.as_bytes())),
        (0x09, record(0x09, &name)),
        (0x4E, record(0x4E, &ext)),
        (
            0x0A,
            record(0x0A, &[u8::try_from(card.sex).unwrap_or(b'9')]),
        ),
        (
            0x0B,
            record(0x0B, &card.nation.as_deref().map_or(vec![0xFF], bcd)),
        ),
        (
            0x0C,
            record(0x0C, &bcd(card.citizen_id.get(..6).unwrap_or_default())),
        ),
        (0x0D, record(0x0D, &bcd(&card.birth_date))),
    ];
    let (mut found05, mut found06) = (false, false);
    if let Some(Value::Array(efs)) = doc.get_mut("ef") {
        for ef in efs.iter_mut().filter_map(Value::as_table_mut) {
            let parent = ef.get("parent").and_then(Value::as_str);
            let fid = ef
                .get("fid")
                .and_then(Value::as_str)
                .map(|f| f.replace(' ', "").to_ascii_uppercase());
            if parent != Some(base.ssse.as_str()) {
                continue;
            }
            match fid.as_deref() {
                Some("EF05") => {
                    set_records(ef, &ef05);
                    found05 = true;
                }
                Some("EF06") => {
                    set_records(ef, &ef06);
                    found06 = true;
                }
                _ => {}
            }
        }
    }
    if !(found05 && found06) {
        return Err(fail(format!(
            "no EF05 and EF06 in its SSSE ({}) to hold the holder's data",
            base.ssse
        )));
    }
    let body = toml::to_string_pretty(&doc).map_err(|e| fail(e.to_string()))?;
    let text = format!(
        "# Made by `ssc-card personalise` from {} for card {} (region {}, serial {}).\n\
         # Keys given as `master` + `diversify` are derived for this card when it is loaded;\n\
         # keys given as `value` are the base's. Load it with `--profile PATH`; edit freely.\n\n{body}",
        base.name(),
        card.card_number,
        card.region,
        apdu::hex_compact(&card.serial)
    );
    Profile::parse(&text, output_name).map_err(|e| {
        fail(format!(
            "the profile made for card {} does not load ({e}): the base's layout cannot hold \
             this holder's data",
            card.card_number
        ))
    })?;
    Ok(text)
}

#[cfg(test)]
mod tests;
