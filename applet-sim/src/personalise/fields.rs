//! The checks of each field of a holder record: the citizen ID and its check character,
//! the GBK name and where it is cut, the region, dates, sex, nation, serial and card number.

use super::*;

/// ISO 7064 MOD 11-2 weights of the citizen ID's 17 digits (GB 11643).
pub(super) const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

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
pub(super) fn citizen_id(id: &str) -> Result<String, String> {
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
pub(super) fn gbk_name(name: &str) -> Result<Vec<u8>, String> {
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
pub(super) fn name_cut(gbk: &[u8]) -> usize {
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
pub(super) const NAME_LEN: usize = 30;
/// EF06 tag 4E: the name's extension, 20 bytes.
pub(super) const NAME_EXTENSION_LEN: usize = 20;

/// A region code: 6 digits (GB/T 2260), not starting with 00.
pub(super) fn region_code(region: &str) -> Result<String, String> {
    let r = region.trim();
    if r.len() != 6 || !r.bytes().all(|b| b.is_ascii_digit()) || r.starts_with("00") {
        return Err(format!("{r:?} is not a 6-digit region code (GB/T 2260)"));
    }
    Ok(r.to_owned())
}

/// A date YYYYMMDD or YYYY-MM-DD that exists, years 1900..=2099 ([`Date::parse`]), as
/// YYYYMMDD.
pub(super) fn date(text: &str) -> Result<String, String> {
    Date::parse(text.trim()).map(|d| d.to_string())
}

/// Ten years after a date YYYYMMDD (29 February becomes 28 February in a common year);
/// `None` past 2099 or for a text that is not a date.
pub(super) fn ten_years_after(date: &str) -> Option<String> {
    Date::parse(date)
        .ok()
        .and_then(|d| d.years_later(10))
        .map(|d| d.to_string())
}

/// `1`/`male`/`m`/`男` or `2`/`female`/`f`/`女`.
pub(super) fn sex(text: &str) -> Result<char, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "m" | "male" | "男" => Ok('1'),
        "2" | "f" | "female" | "女" => Ok('2'),
        other => Err(format!("{other:?}: expected 1 (male) or 2 (female)")),
    }
}

/// A nationality code (GB 3304): 01..=56, 97 or 98, one or two digits; as two digits.
///
/// # Errors
/// A sentence saying what is expected.
pub fn nation(text: &str) -> Result<String, String> {
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
pub(super) fn serial_field(text: &str) -> Result<[u8; 4], String> {
    apdu::parse_hex(text.trim())
        .ok()
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .ok_or_else(|| format!("{:?}: expected 4 bytes in hex (8 hex digits)", text.trim()))
}

/// The serial of a card whose record gives none: the first 4 bytes of SM3 over the
/// citizen ID and region (the same holder and region give the same card; give `serial`
/// for a reissue).
pub(super) fn derived_serial(id: &str, region: &str) -> [u8; 4] {
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
pub(super) const CARD_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

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
pub(super) fn card_number(text: &str) -> Result<String, String> {
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
