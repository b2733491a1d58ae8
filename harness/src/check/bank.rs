//! The financial application beside the SSSE (docs/CARD.md §3.6; JR/T 0025): its rules
//! (PAN and Luhn, track-2 equivalent data, YYMMDD dates) and their use on the records read
//! from it: the PAN (`5A`) Luhn-valid, the expiry (`5F24`) and effective (`5F25`) dates that
//! exist and in order, track 2 (`57`) holding the same PAN and expiry month.

use apdu::tlv::{BerIter, BerTlv};
use applet_sim::date::Date;

use super::read::BankData;
use super::rules::cn_digits;
use super::{Collector, Finding};

/// The clause of the financial application's records.
const CLAUSE: &str = "docs/CARD.md §3.6; JR/T 0025";

/// Whether digits pass the Luhn check (ISO/IEC 7812-1): from the right, every second digit
/// doubled (its digits summed), the total a multiple of 10. `false` for no digits or a
/// non-digit.
pub(super) fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(d) = c.to_digit(10) else {
            return false;
        };
        sum += if i % 2 == 1 {
            let twice = d * 2;
            twice / 10 + twice % 10
        } else {
            d
        };
    }
    !digits.is_empty() && sum % 10 == 0
}

/// The PAN (tag `5A`, cn up to 10 bytes): 13 to 19 digits, `F`-padded, Luhn-valid; the
/// digits.
///
/// # Errors
/// What is wrong.
pub(super) fn pan(value: &[u8]) -> Result<String, String> {
    let digits = cn_digits(value)?;
    if !(13..=19).contains(&digits.len()) {
        return Err(format!("{} digit(s): a PAN has 13 to 19", digits.len()));
    }
    if !luhn(&digits) {
        return Err("the Luhn check digit (ISO/IEC 7812-1) is wrong".to_owned());
    }
    Ok(digits)
}

/// Track-2 equivalent data (tag `57`): PAN ‖ `D` ‖ expiry YYMM ‖ service code (3) ‖
/// discretionary digits, `F`-padded to whole bytes. The PAN and the expiry YYMM.
///
/// # Errors
/// What is wrong with the layout.
pub(super) fn track2(value: &[u8]) -> Result<(String, String), String> {
    let text: String = apdu::hex_compact(value);
    let body = text.strip_suffix('F').unwrap_or(&text);
    let (pan, rest) = body
        .split_once('D')
        .ok_or("no field separator D after the PAN")?;
    if pan.is_empty() || !pan.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{pan:?}: the PAN before D is digits"));
    }
    if rest.len() < 7 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{rest:?}: after D come the expiry YYMM, a 3-digit service code and digits only"
        ));
    }
    Ok((pan.to_owned(), rest.get(..4).unwrap_or_default().to_owned()))
}

/// A date YYMMDD in 3 BCD bytes (`5F24`, `5F25`) that exists (years 2000-2099).
///
/// # Errors
/// Why it is not a date.
pub(super) fn yymmdd(value: &[u8]) -> Result<Date, String> {
    let digits = cn_digits(value)?;
    if digits.len() != 6 {
        return Err(format!("{digits:?}: the date is 6 BCD digits YYMMDD"));
    }
    super::rules::date(&format!("20{digits}"))
}

/// The primitive objects of the records (inside their templates), by tag, first wins;
/// a record that is not BER-TLV is a finding.
fn objects<'a>(
    c: &mut Collector,
    label: &str,
    records: &'a [(u8, u8, Vec<u8>)],
) -> Vec<(u32, &'a [u8])> {
    fn walk<'a>(input: &'a [u8], out: &mut Vec<(u32, &'a [u8])>) -> Result<(), String> {
        for tlv in BerIter::new(input) {
            let tlv: BerTlv<'a> = tlv.map_err(|e| e.to_string())?;
            if tlv.tag.is_constructed() {
                walk(tlv.value, out)?;
            } else if !out.iter().any(|(t, _)| *t == tlv.tag.0) {
                out.push((tlv.tag.0, tlv.value));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for (sfi, number, record) in records {
        if let Err(e) = walk(record, &mut out) {
            c.count();
            c.add(Finding::new(
                format!("{label} SFI {sfi:02X} record {number}"),
                apdu::hex_compact(record),
                format!("a record is BER-TLV (an EMV template 70): {e}"),
                CLAUSE,
            ));
        }
    }
    out
}

/// Checks the financial application's records.
pub(super) fn check(c: &mut Collector, bank: &BankData) {
    let label = bank.label;
    let objects = objects(c, label, &bank.records);
    let get = |tag: u32| objects.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v);
    let finding = |c: &mut Collector, item: &str, value: &[u8], rule: String| {
        c.add(Finding::new(
            format!("{label} tag {item}"),
            apdu::hex_compact(value),
            rule,
            CLAUSE,
        ));
    };
    let pan_digits = match get(0x5A) {
        Some(v) => {
            c.count();
            pan(v).map_err(|e| finding(c, "5A PAN", v, e)).ok()
        }
        None => {
            c.count();
            finding(
                c,
                "5A PAN",
                &[],
                "no PAN (5A) in the application's records (readers look for it, §3.6)".into(),
            );
            None
        }
    };
    let date = |c: &mut Collector, tag: u32, item: &str| {
        let v = get(tag)?;
        c.count();
        yymmdd(v).map_err(|e| finding(c, item, v, e)).ok()
    };
    let expiry = date(c, 0x5F24, "5F24 expiry date");
    let effective = date(c, 0x5F25, "5F25 effective date");
    if let (Some(from), Some(to), Some(v)) = (effective, expiry, get(0x5F24))
        && from >= to
    {
        finding(
            c,
            "5F24 expiry date",
            v,
            format!("the expiry date {to} is not after the effective date {from} (5F25)"),
        );
    }
    if let Some(v) = get(0x57) {
        c.count();
        match track2(v) {
            Err(e) => finding(c, "57 track 2", v, e),
            Ok((track_pan, yymm)) => {
                if let Some(p) = &pan_digits
                    && *p != track_pan
                {
                    finding(
                        c,
                        "57 track 2",
                        v,
                        format!("its PAN {track_pan} is not the PAN {p} of tag 5A"),
                    );
                }
                if let Some(to) = expiry
                    && to.to_string().get(2..6) != Some(yymm.as_str())
                {
                    finding(
                        c,
                        "57 track 2",
                        v,
                        format!("its expiry YYMM {yymm} is not the month of 5F24 ({to})"),
                    );
                }
            }
        }
    }
}
