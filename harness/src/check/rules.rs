//! The rules, as pure functions over the bytes a card returns: the record and value formats
//! (simple TLV, `an`, `cn`, dates), the holder's identity (citizen ID, card number, region
//! codes, code lists), the spec version against the cipher. Each returns what is wrong in words (`Err`), nothing on success; the
//! ATR's and the issuer's identifiers are in [`super::issuer`], the financial
//! application's rules in [`super::bank`].

use applet_sim::date::Date;
use applet_sim::personalise::{card_number_check, citizen_id_check};

/// A record as one simple TLV (docs/CARD.md §3.4, "Record format"): `tag(1) len(1) value`,
/// the length byte equal to the value's length, tag neither `00` nor `FF`.
///
/// # Errors
/// What is wrong with the record's form.
pub(super) fn simple_tlv(record: &[u8]) -> Result<(u8, &[u8]), String> {
    let [tag, len, value @ ..] = record else {
        return Err(format!(
            "{} byte(s): a record is one simple TLV, tag(1) len(1) value",
            record.len()
        ));
    };
    if matches!(tag, 0x00 | 0xFF) {
        return Err(format!(
            "tag {tag:02X} is not a simple-TLV tag (00 and FF are not)"
        ));
    }
    if usize::from(*len) != value.len() {
        return Err(format!(
            "the length byte says {len} but the record holds {} value byte(s)",
            value.len()
        ));
    }
    Ok((*tag, value))
}

/// Whether a value is all `FF`, what cards hold for an item not written (docs/CARD.md §3.4
/// nation; §7.3 birthplace and birth date on a 2.0 card).
pub(super) fn unwritten(value: &[u8]) -> bool {
    !value.is_empty() && value.iter().all(|b| *b == 0xFF)
}

/// An `an` value: text in ASCII/GBK, then `00` padding to the item's length and nothing
/// else (docs/CARD.md §3.4); the text decoded.
///
/// # Errors
/// The first byte that breaks the rule.
pub(super) fn an_text(value: &[u8]) -> Result<String, String> {
    let end = value.iter().position(|b| *b == 0).unwrap_or(value.len());
    let (text, padding) = value.split_at(end);
    if let Some(at) = padding.iter().position(|b| *b != 0) {
        return Err(format!(
            "byte {:02X} at offset {} after the 00 padding: an is text, then 00s only",
            padding.get(at).copied().unwrap_or(0),
            end + at
        ));
    }
    let trailing_ff = text.iter().rev().take_while(|b| **b == 0xFF).count();
    if trailing_ff > 0 && trailing_ff < text.len() {
        return Err(format!(
            "padded with {trailing_ff} FF byte(s): an is padded with 00"
        ));
    }
    gbk(text)
}

/// Text in GBK: printable ASCII, or two-byte characters (lead `81`-`FE`, trail `40`-`7E`
/// or `80`-`FE`) that GBK maps; no control character.
///
/// # Errors
/// The first byte that is not GBK text.
pub(super) fn gbk(text: &[u8]) -> Result<String, String> {
    let mut at = 0;
    while let Some(&b) = text.get(at) {
        match b {
            0x20..=0x7E => at += 1,
            0x81..=0xFE => match text.get(at + 1) {
                Some(0x40..=0x7E | 0x80..=0xFE) => at += 2,
                Some(trail) => {
                    return Err(format!(
                        "not GBK: {b:02X} {trail:02X} at offset {at} (a trail byte is 40-7E or \
                         80-FE)"
                    ));
                }
                None => return Err(format!("not GBK: lead byte {b:02X} ends the text")),
            },
            _ => {
                return Err(format!(
                    "not GBK: byte {b:02X} at offset {at} is neither printable ASCII nor a GBK \
                     lead byte (81-FE)"
                ));
            }
        }
    }
    encoding_rs::GBK
        .decode_without_bom_handling_and_without_replacement(text)
        .map(std::borrow::Cow::into_owned)
        .ok_or_else(|| "not GBK: a character GBK does not map".to_owned())
}

/// A `cn` value: BCD digits, then `F` nibbles to the item's length (docs/CARD.md §3.4); the
/// digits (empty for a value of `F`s only).
///
/// # Errors
/// The first nibble that breaks the rule.
pub(super) fn cn_digits(value: &[u8]) -> Result<String, String> {
    let nibbles = value.iter().flat_map(|b| [b >> 4, b & 0x0F]);
    let mut digits = String::new();
    let mut padding = false;
    for (i, n) in nibbles.enumerate() {
        match n {
            0..=9 if padding => {
                return Err(format!(
                    "digit {n} at nibble {i} after the F padding: cn is digits, then Fs only"
                ));
            }
            0..=9 => digits.push(char::from(b'0' + n)),
            0x0F => padding = true,
            _ => return Err(format!("nibble {n:X} at {i} is not a BCD digit")),
        }
    }
    Ok(digits)
}

/// A date YYYYMMDD in 4 BCD bytes that exists (years 1900-2099).
///
/// # Errors
/// Why it is not a date.
pub(super) fn bcd_date(value: &[u8]) -> Result<Date, String> {
    let digits = cn_digits(value)?;
    if digits.len() != 8 {
        return Err(format!("{digits:?}: a date is 8 BCD digits YYYYMMDD"));
    }
    date(&digits)
}

/// Digits YYYYMMDD of a day that exists (years 1900-2099).
///
/// # Errors
/// Why they are not.
pub(super) fn date(digits: &str) -> Result<Date, String> {
    Date::parse(digits).map_err(|e| {
        let why = e.split_once("): ").map_or(e.as_str(), |(_, why)| why);
        format!("{digits} is not a date that exists: {why}")
    })
}

/// The provinces of GB/T 2260: the first two digits of every region code.
const PROVINCES: [&str; 34] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

/// A plausible region code (GB/T 2260): 6 digits, the first two a province's.
///
/// # Errors
/// What is not plausible.
pub(super) fn region_code(digits: &str) -> Result<(), String> {
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{digits:?}: a region code is 6 digits (GB/T 2260)"));
    }
    if !PROVINCES.contains(&digits.get(..2).unwrap_or_default()) {
        return Err(format!(
            "{digits:?}: {} is no province of GB/T 2260 (11-15, 21-23, 31-37, 41-46, 50-54, \
             61-65, 71, 81, 82)",
            digits.get(..2).unwrap_or_default()
        ));
    }
    Ok(())
}

/// A citizen ID (GB 11643): 17 digits and the ISO 7064 MOD 11-2 check character (`X` for
/// 10), a birth date at characters 7-14 that exists, region digits at 1-6 that are
/// plausible. Every broken rule, in that order.
pub(super) fn citizen_id(id: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let chars: Vec<char> = id.chars().collect();
    let first17: String = chars.iter().take(17).collect();
    if chars.len() != 18 || !first17.bytes().all(|b| b.is_ascii_digit()) || first17.len() != 17 {
        problems.push(format!(
            "{} character(s): a citizen ID is 17 digits and a check character (GB 11643)",
            chars.len()
        ));
        return problems;
    }
    let check = chars.get(17).copied().unwrap_or(' ');
    if let Some(expected) = citizen_id_check(&first17)
        && check != expected
    {
        problems.push(format!(
            "check character {check}: ISO 7064 MOD 11-2 over the first 17 digits gives {expected}"
        ));
    }
    if let Err(e) = date(first17.get(6..14).unwrap_or_default()) {
        problems.push(format!("its birth date (characters 7-14): {e}"));
    }
    if let Err(e) = region_code(first17.get(..6).unwrap_or_default()) {
        problems.push(format!("its region (characters 1-6): {e}"));
    }
    problems
}

/// The birth date inside a citizen ID (characters 7-14), as digits.
pub(super) fn citizen_id_birth(id: &str) -> Option<&str> {
    id.get(6..14)
        .filter(|d| d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()))
}

/// A card number (docs/CARD.md §3.4, V2.0 App. A): an upper-case letter and 7 digits or
/// upper-case letters, then C9 = 11 − (Σ Ci·Wi mod 11) with W = 3 7 9 10 5 8 4 2 and
/// A = 10 … Z = 35; 10 → `X`, 11 → `0`.
///
/// # Errors
/// What is wrong.
pub(super) fn card_number(number: &str) -> Result<(), String> {
    let chars: Vec<char> = number.chars().collect();
    let first8: String = chars.iter().take(8).collect();
    let expected = card_number_check(&first8)
        .filter(|_| chars.len() == 9 && chars.first().is_some_and(char::is_ascii_uppercase))
        .ok_or_else(|| {
            "a card number is an upper-case letter, 7 digits or upper-case letters and a check \
             character"
                .to_owned()
        })?;
    match chars.get(8) {
        Some(c) if *c == expected => Ok(()),
        Some(c) => Err(format!(
            "check character {c}: C9 = 11 - (sum of Ci*Wi mod 11), W = 3 7 9 10 5 8 4 2, gives \
             {expected}"
        )),
        None => Err("no check character".to_owned()),
    }
}

/// Sex (GB/T 2261.1): `0` unknown, `1` male, `2` female, `9` unspecified.
///
/// # Errors
/// The code is not one of them.
pub(super) fn sex(text: &str) -> Result<(), String> {
    match text {
        "0" | "1" | "2" | "9" => Ok(()),
        other => Err(format!(
            "{other:?} is not a sex code of GB/T 2261.1 (0 unknown, 1 male, 2 female, 9 \
             unspecified)"
        )),
    }
}

/// Nation (GB 3304): 01-56, 97 (other) or 98 (foreign origin, Chinese nationality).
///
/// # Errors
/// The code is not one of them.
pub(super) fn nation(digits: &str) -> Result<(), String> {
    if digits.len() != 2 {
        return Err(format!("{digits:?}: a nation code is 2 digits (GB 3304)"));
    }
    applet_sim::personalise::nation(digits).map(|_| ())
}

/// Card type (docs/CARD.md §3.4): `1` child, `2` student, `3` adult, `4` elderly.
///
/// # Errors
/// The code is not one of them.
pub(super) fn card_type(text: &str) -> Result<(), String> {
    match text {
        "1" | "2" | "3" | "4" => Ok(()),
        other => Err(format!(
            "{other:?} is not a card type (1 child, 2 student, 3 adult, 4 elderly)"
        )),
    }
}

/// The spec version item (docs/CARD.md §1): `1.0x`, `2.0x` or `3.0x` (readers compare the
/// first 3 characters; a 4th is a digit or padding); empty means 1.0. The generation.
///
/// # Errors
/// A version of no generation.
pub(super) fn spec_version(text: &str) -> Result<u8, String> {
    let generation = match text.get(..3) {
        None if text.is_empty() => return Ok(1),
        Some("1.0") => 1,
        Some("2.0") => 2,
        Some("3.0") => 3,
        _ => {
            return Err(format!(
                "{text:?}: the spec version is \"1.0x\", \"2.0x\" or \"3.0x\""
            ));
        }
    };
    match text.get(3..) {
        Some("") | None => Ok(generation),
        Some(rest) if rest.len() == 1 && rest.bytes().all(|b| b.is_ascii_digit()) => Ok(generation),
        Some(_) => Err(format!(
            "{text:?}: after \"{generation}.0\" comes one digit or the padding"
        )),
    }
}

/// The generation a cipher implies (docs/CARD.md §1, §9.5): the FCI's algorithm flag
/// `03` (SM4) is a 3.0 card; `01` (DES), `02` (SSF33) or no flag is a 2.0 card or older.
///
/// # Errors
/// A version of another generation.
pub(super) fn version_for_algorithm(generation: u8, flag: Option<u8>) -> Result<(), String> {
    let cipher = match flag {
        Some(0x01) => "01 (DES)",
        Some(0x02) => "02 (SSF33)",
        Some(0x03) => "03 (SM4)",
        Some(_) => "an unknown value",
        None => "absent (DES or SSF33)",
    };
    let sm4 = flag == Some(0x03);
    if sm4 == (generation == 3) {
        Ok(())
    } else {
        Err(format!(
            "the SSSE's FCI algorithm flag (9F0C/86) is {cipher}: a {} card, but the version \
             says {generation}.0",
            if sm4 { "3.0" } else { "2.0 or older" }
        ))
    }
}
