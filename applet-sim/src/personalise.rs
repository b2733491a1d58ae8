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

/// A TOML holder record: one holder, each field a string (or a number: `region = 320100`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolderToml {
    name: Option<Spanned<Value>>,
    citizen_id: Option<Spanned<Value>>,
    region: Option<Spanned<Value>>,
    issue_date: Option<Spanned<Value>>,
    expiry_date: Option<Spanned<Value>>,
    sex: Option<Spanned<Value>>,
    birth_date: Option<Spanned<Value>>,
    nation: Option<Spanned<Value>>,
    serial: Option<Spanned<Value>>,
    card_number: Option<Spanned<Value>>,
}

/// The holders of a file: TOML (one holder) or CSV (a header naming the columns, then one
/// holder a line). A `.csv` name is CSV, a `.toml` name TOML; any other is CSV when its first
/// line has a comma and no `=`.
///
/// # Errors
/// [`PersonaliseError`] naming the file, line and column.
pub fn read_holders(path: &Path) -> Result<Vec<Holder>, PersonaliseError> {
    let source = path.display().to_string();
    let text = read_text(path, MAX_PROFILE_BYTES * 16).map_err(|e| PersonaliseError {
        source_name: source.clone(),
        line: 0,
        column: 0,
        message: e.problem.to_string(),
    })?;
    let csv = match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("csv") => true,
        Some(e) if e.eq_ignore_ascii_case("toml") => false,
        _ => text
            .lines()
            .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .is_some_and(|l| l.contains(',') && !l.contains('=')),
    };
    if csv {
        parse_csv(&text, &source)
    } else {
        parse_toml(&text, &source).map(|h| vec![h])
    }
}

/// One holder from TOML text.
///
/// # Errors
/// [`PersonaliseError`] at the offending entry.
pub fn parse_toml(text: &str, source: &str) -> Result<Holder, PersonaliseError> {
    let place = |offset: usize| {
        let (line, column) = line_col(text, offset);
        Pos { line, column }
    };
    let fail = |offset: usize, message: String| {
        let p = place(offset);
        PersonaliseError {
            source_name: source.to_owned(),
            line: p.line,
            column: p.column,
            message,
        }
    };
    let raw: HolderToml = toml::from_str(text).map_err(|e| {
        fail(
            e.span().map_or(0, |s| s.start),
            e.message().trim().to_owned(),
        )
    })?;
    let given = [
        ("name", raw.name),
        ("citizen_id", raw.citizen_id),
        ("region", raw.region),
        ("issue_date", raw.issue_date),
        ("expiry_date", raw.expiry_date),
        ("sex", raw.sex),
        ("birth_date", raw.birth_date),
        ("nation", raw.nation),
        ("serial", raw.serial),
        ("card_number", raw.card_number),
    ];
    let mut fields = HashMap::new();
    for (field, value) in given {
        let Some(value) = value else { continue };
        let span = value.span();
        let text = match value.into_inner() {
            Value::String(s) => s,
            Value::Integer(i) => i.to_string(),
            other => {
                return Err(fail(
                    span.start,
                    format!(
                        "{field}: expected text or a number, found a {}",
                        other.type_str()
                    ),
                ));
            }
        };
        fields.insert(field, (text, place(span.start)));
    }
    Ok(Holder {
        source: source.to_owned(),
        at: Pos { line: 1, column: 1 },
        fields,
    })
}

/// Holders from CSV text: a header naming the columns (the names of [`FIELDS`], any order,
/// the required ones present), then one holder a line; `#` lines and blank lines are
/// skipped; a field may be quoted (`"…"`, `""` for a quote) and spaces around it are
/// dropped.
///
/// # Errors
/// [`PersonaliseError`] at the line and column of the problem.
pub fn parse_csv(text: &str, source: &str) -> Result<Vec<Holder>, PersonaliseError> {
    let fail = |line: usize, column: usize, message: String| PersonaliseError {
        source_name: source.to_owned(),
        line,
        column,
        message,
    };
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let (header_line, header) = lines.next().ok_or_else(|| {
        fail(
            0,
            0,
            "no header line (name,citizen_id,region,issue_date,…)".into(),
        )
    })?;
    let mut columns: Vec<&'static str> = Vec::new();
    for (name, column) in split_csv(header).map_err(|(c, m)| fail(header_line, c, m))? {
        let known = FIELDS
            .iter()
            .find(|f| f.eq_ignore_ascii_case(&name))
            .ok_or_else(|| {
                fail(
                    header_line,
                    column,
                    format!("unknown column {name:?} (columns: {})", FIELDS.join(", ")),
                )
            })?;
        if columns.contains(known) {
            return Err(fail(header_line, column, format!("column {known} twice")));
        }
        columns.push(known);
    }
    if let Some(missing) = REQUIRED.iter().find(|r| !columns.contains(r)) {
        return Err(fail(
            header_line,
            1,
            format!("no column {missing} (required: {})", REQUIRED.join(", ")),
        ));
    }
    let mut holders = Vec::new();
    for (line, row) in lines {
        if holders.len() == MAX_HOLDERS {
            return Err(fail(line, 1, format!("more than {MAX_HOLDERS} holders")));
        }
        let cells = split_csv(row).map_err(|(c, m)| fail(line, c, m))?;
        if cells.len() != columns.len() {
            return Err(fail(
                line,
                1,
                format!("{} fields, the header names {}", cells.len(), columns.len()),
            ));
        }
        let fields = columns
            .iter()
            .zip(cells)
            .map(|(field, (value, column))| (*field, (value, Pos { line, column })))
            .collect();
        holders.push(Holder {
            source: source.to_owned(),
            at: Pos { line, column: 1 },
            fields,
        });
    }
    Ok(holders)
}

/// The fields of a CSV line, each trimmed, with the 1-based column (in characters) it
/// starts at.
fn split_csv(line: &str) -> Result<Vec<(String, usize)>, (usize, String)> {
    let mut out = Vec::new();
    // Counted once: a default evaluated for every field made a line of commas quadratic.
    let end = line.chars().count();
    let mut chars = line.chars().enumerate().peekable();
    loop {
        while chars.next_if(|(_, c)| *c == ' ' || *c == '\t').is_some() {}
        let start = chars.peek().map_or(end, |(i, _)| *i) + 1;
        let mut value = String::new();
        if chars.next_if(|(_, c)| *c == '"').is_some() {
            loop {
                match chars.next() {
                    None => return Err((start, "a quoted field is not closed".into())),
                    Some((_, '"')) if chars.next_if(|(_, c)| *c == '"').is_some() => {
                        value.push('"');
                    }
                    Some((_, '"')) => break,
                    Some((_, c)) => value.push(c),
                }
            }
            while chars.next_if(|(_, c)| *c == ' ' || *c == '\t').is_some() {}
            match chars.peek() {
                None | Some((_, ',')) => {}
                Some((i, _)) => {
                    return Err((
                        i + 1,
                        "text after a quoted field (a comma is missing)".into(),
                    ));
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|(_, c)| *c != ',') {
                value.push(c);
            }
            value = value.trim_end().to_owned();
        }
        out.push((value, start));
        if chars.next().is_none() {
            return Ok(out);
        }
    }
}

// --- The checks ---------------------------------------------------------------------------

/// ISO 7064 MOD 11-2 weights of the citizen ID's 17 digits (GB 11643).
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The citizen ID's check character for its first 17 digits (`None` for a non-digit).
#[must_use]
pub fn citizen_id_check(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in first17.chars().zip(ID_WEIGHTS) {
        sum += c.to_digit(10)? * w;
    }
    "10X98765432".chars().nth(usize::try_from(sum % 11).ok()?)
}

/// An 18-character citizen ID: 17 digits (a valid birth date at 7–14) and the right check
/// character; a lower-case `x` is taken as `X`.
fn citizen_id(id: &str) -> Result<String, String> {
    let id = id.trim().to_ascii_uppercase();
    if id.chars().count() != 18 {
        return Err(format!(
            "{id:?} has {} characters, a citizen ID 18",
            id.chars().count()
        ));
    }
    // Before any cut by byte position: 18 characters of one byte each.
    if let Some(c) = id.chars().find(|c| !c.is_ascii()) {
        return Err(format!(
            "{id:?}: {c:?} (U+{:04X}) is not a digit 0-9 (or X at the end); a citizen ID is \
             17 digits and a check character",
            u32::from(c)
        ));
    }
    let (first17, check) = id.split_at(17);
    let expected = citizen_id_check(first17)
        .ok_or_else(|| format!("{id:?}: the first 17 characters must be digits"))?;
    if check != expected.to_string() {
        return Err(format!(
            "{id:?}: the check character is {check}, ISO 7064 MOD 11-2 gives {expected} (a \
             mistyped digit?)"
        ));
    }
    let birth = first17.get(6..14).unwrap_or_default();
    date(birth).map_err(|e| format!("{id:?}: its birth date (characters 7-14) {e}"))?;
    Ok(id)
}

/// The name in GBK: not empty, no control character, every character in GBK, at most 50
/// bytes (30 in tag 09, 20 more in the extension 4E).
fn gbk_name(name: &str) -> Result<Vec<u8>, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("empty".into());
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!("a control character {c:?}"));
    }
    for c in name.chars() {
        let (_, _, unmappable) = encoding_rs::GBK.encode(c.encode_utf8(&mut [0; 4]));
        if unmappable {
            return Err(format!("{c:?} (U+{:04X}) has no GBK code", u32::from(c)));
        }
    }
    let (bytes, _, _) = encoding_rs::GBK.encode(name);
    if bytes.len() > NAME_LEN + NAME_EXTENSION_LEN {
        return Err(format!(
            "{} bytes in GBK, at most {} (tag 09 and its extension 4E)",
            bytes.len(),
            NAME_LEN + NAME_EXTENSION_LEN
        ));
    }
    let cut = name_cut(&bytes);
    if bytes.len() - cut > NAME_EXTENSION_LEN {
        return Err(format!(
            "{} bytes in GBK do not fit: tag 09 takes the first {cut} (whole characters, at \
             most {NAME_LEN} bytes), which leaves {} for its extension 4E, which holds \
             {NAME_EXTENSION_LEN}",
            bytes.len(),
            bytes.len() - cut
        ));
    }
    Ok(bytes.into_owned())
}

/// Where a GBK name is cut between tag 09 and its extension 4E: after the last whole
/// character within tag 09's 30 bytes (a byte 81-FE starts a two-byte character), so that
/// no character is split between the two records.
fn name_cut(gbk: &[u8]) -> usize {
    let mut at = 0;
    while let Some(lead) = gbk.get(at) {
        let width = if *lead >= 0x81 { 2 } else { 1 };
        if at + width > NAME_LEN {
            break;
        }
        at += width;
    }
    at.min(gbk.len())
}

/// EF06 tag 09: the name, 30 bytes (V2.0 Table 9).
const NAME_LEN: usize = 30;
/// EF06 tag 4E: the name's extension, 20 bytes.
const NAME_EXTENSION_LEN: usize = 20;

/// A region code: 6 digits (GB/T 2260), not starting with 00.
fn region_code(region: &str) -> Result<String, String> {
    let r = region.trim();
    if r.len() != 6 || !r.bytes().all(|b| b.is_ascii_digit()) || r.starts_with("00") {
        return Err(format!("{r:?} is not a 6-digit region code (GB/T 2260)"));
    }
    Ok(r.to_owned())
}

/// A date YYYYMMDD or YYYY-MM-DD that exists, years 1900..=2099 ([`Date::parse`]), as
/// YYYYMMDD.
fn date(text: &str) -> Result<String, String> {
    Date::parse(text.trim()).map(|d| d.to_string())
}

/// Ten years after a date YYYYMMDD (29 February becomes 28 February in a common year);
/// `None` past 2099 or for a text that is not a date.
fn ten_years_after(date: &str) -> Option<String> {
    Date::parse(date)
        .ok()
        .and_then(|d| d.years_later(10))
        .map(|d| d.to_string())
}

/// `1`/`male`/`m`/`男` or `2`/`female`/`f`/`女`.
fn sex(text: &str) -> Result<char, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "m" | "male" | "男" => Ok('1'),
        "2" | "f" | "female" | "女" => Ok('2'),
        other => Err(format!("{other:?}: expected 1 (male) or 2 (female)")),
    }
}

/// A nationality code (GB 3304): 01..=56, 97 or 98, one or two digits.
fn nation(text: &str) -> Result<String, String> {
    let t = text.trim();
    match t.parse::<u8>() {
        Ok(n) if t.len() <= 2 && ((1..=56).contains(&n) || n == 97 || n == 98) => {
            Ok(format!("{n:02}"))
        }
        _ => Err(format!(
            "{t:?}: expected a GB 3304 code, 01 to 56 (or 97, 98)"
        )),
    }
}

/// A card serial: 4 bytes in hex.
fn serial_field(text: &str) -> Result<[u8; 4], String> {
    apdu::parse_hex(text.trim())
        .ok()
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .ok_or_else(|| format!("{:?}: expected 4 bytes in hex (8 hex digits)", text.trim()))
}

/// The serial of a card whose record gives none: the first 4 bytes of SM3 over the
/// citizen ID and region (the same holder and region give the same card; give `serial`
/// for a reissue).
fn derived_serial(id: &str, region: &str) -> [u8; 4] {
    let mut h = sm3::Sm3::new();
    h.update(b"ssc-card personalise serial\0");
    h.update(id.as_bytes());
    h.update(region.as_bytes());
    let digest = h.finalize();
    let mut serial = [0u8; 4];
    serial.copy_from_slice(digest.get(..4).unwrap_or(&[0; 4]));
    serial
}

/// Weights of the card number's first 8 characters (docs/CARD.md §3.4, V2.0 App. A).
const CARD_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// The card number's check character for its first 8 characters (digits, and upper-case
/// letters A = 10 … Z = 35): C9 = 11 − (Σ Ci·Wi mod 11); 10 → `X`, 11 → `0`. `None` for
/// another character or length.
#[must_use]
pub fn card_number_check(first8: &str) -> Option<char> {
    if first8.chars().count() != 8 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in first8.chars().zip(CARD_WEIGHTS) {
        let v = match c {
            '0'..='9' | 'A'..='Z' => c.to_digit(36)?,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10)?,
    })
}

/// A card number: 8 characters (an upper-case letter, then digits or upper-case letters) and
/// the check character, which is computed for 8 given and checked for 9.
fn card_number(text: &str) -> Result<String, String> {
    let t = text.trim().to_ascii_uppercase();
    let first8: String = t.chars().take(8).collect();
    let check = card_number_check(&first8)
        .filter(|_| t.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
        .ok_or_else(|| {
            format!("{t:?}: expected a letter and 7 digits or letters (then the check character)")
        })?;
    match t.chars().count() {
        8 => Ok(format!("{first8}{check}")),
        9 if t.ends_with(check) => Ok(t),
        9 => Err(format!(
            "{t:?}: the check character is {}, the card number's rule gives {check}",
            t.chars().last().unwrap_or(' ')
        )),
        n => Err(format!(
            "{t:?}: {n} characters, a card number has 9 (or 8 without the check)"
        )),
    }
}

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
mod tests {
    use super::*;

    /// docs/CARD.md §3.4: the built-in card's number and the observed HA1046924 check out;
    /// 10 is X and 11 is 0.
    #[test]
    fn card_number_check_characters() {
        assert_eq!(card_number_check("A3201068"), Some('7'));
        assert_eq!(card_number_check("HA104692"), Some('4'));
        assert_eq!(card_number_check("a3201068"), None);
        assert_eq!(card_number_check("A320106"), None);
        // Sums giving 10 (X) and 11 (0).
        let x = (0..10_000_000u32)
            .map(|n| format!("A{n:07}"))
            .find(|b| card_number_check(b) == Some('X'))
            .unwrap();
        let zero = (0..10_000_000u32)
            .map(|n| format!("A{n:07}"))
            .find(|b| card_number_check(b) == Some('0'))
            .unwrap();
        let sum = |b: &str| -> u32 {
            b.chars()
                .zip(CARD_WEIGHTS)
                .map(|(c, w)| c.to_digit(36).unwrap() * w)
                .sum()
        };
        assert_eq!(sum(&x) % 11, 1);
        assert_eq!(sum(&zero) % 11, 0);
        assert_eq!(card_number("A3201068").unwrap(), "A32010687");
        assert!(card_number("A32010688").unwrap_err().contains("gives 7"));
    }

    /// GB 11643 / ISO 7064 MOD 11-2: the standard's sample and the built-in holder.
    #[test]
    fn citizen_id_check_characters() {
        assert_eq!(citizen_id_check("11010519491231002"), Some('X'));
        assert_eq!(citizen_id_check("32010219850612123"), Some('X'));
        assert_eq!(
            citizen_id("11010519491231002x").unwrap(),
            "11010519491231002X"
        );
        let e = citizen_id("110105194912310021").unwrap_err();
        assert!(e.contains("ISO 7064 MOD 11-2 gives X"), "{e}");
        assert!(citizen_id("11010519491331002X").is_err()); // month 13 (check ignored)
        assert!(citizen_id("1101051949123100").is_err());
    }

    #[test]
    fn dates_names_and_records() {
        assert_eq!(date("2024-02-29").unwrap(), "20240229");
        assert!(date("20230229").is_err());
        assert_eq!(ten_years_after("20240229").unwrap(), "20340228");
        assert_eq!(ten_years_after("20900101"), None);
        assert!(date("2-0-2-4-0-2-2-9").is_err());
        assert_eq!(
            gbk_name("苏宁安").unwrap(),
            [0xCB, 0xD5, 0xC4, 0xFE, 0xB0, 0xB2]
        );
        assert!(gbk_name("😀").unwrap_err().contains("no GBK code"));
        assert!(gbk_name(&"王".repeat(26)).unwrap_err().contains("52 bytes"));
        assert_eq!(record(0x09, &[0xCB, 0xD5, 0, 0]), "09 04 CB D5 00*2");
        assert_eq!(record(0x4E, &[0; 3]), "4E 03 00*3");
        assert_eq!(record(0x0A, b"1"), "0A 01 31");
        let fields = split_csv(r#" a , "b, ""c""" ,,d"#).unwrap();
        assert_eq!(
            fields,
            [
                ("a".to_owned(), 2),
                ("b, \"c\"".to_owned(), 6),
                (String::new(), 18),
                ("d".to_owned(), 19)
            ]
        );
        assert!(split_csv(r#""open"#).is_err());
    }
}
