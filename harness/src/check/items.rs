//! The checks every record of a table's EF gets: one simple TLV, the tag the specification
//! gives the record, the specification's length, the value's format (`an`, `cn`, dates,
//! region codes, nested degrees). What passes goes on to the item-specific rules
//! ([`super::ssse`]).

use super::rules::{self, an_text, bcd_date, cn_digits, region_code, unwritten};
use super::spec::{EfSpec, Format, Item, Kind};
use super::{Collector, Finding};

/// The clause of the record format.
pub(super) const RECORD_FORMAT: &str = "docs/CARD.md §3.4 (record format)";

/// A value as a finding shows it: the text of an `an` value that decodes, else hex.
pub(super) fn shown(format: Format, value: &[u8]) -> String {
    match format {
        Format::An => an_text(value).unwrap_or_else(|_| apdu::hex_compact(value)),
        Format::Cn | Format::B => apdu::hex_compact(value),
    }
}

/// A record whose form, tag, length and format are right.
#[derive(Clone, Copy, Debug)]
pub(super) struct Checked<'a> {
    /// Its item in the table.
    pub item: &'static Item,
    /// Its value.
    pub value: &'a [u8],
}

impl Checked<'_> {
    /// The `an` value's text (its format was checked).
    pub(super) fn text(&self) -> String {
        an_text(self.value).unwrap_or_default()
    }

    /// The `cn` value's digits (its format was checked).
    pub(super) fn digits(&self) -> String {
        cn_digits(self.value).unwrap_or_default()
    }

    /// Whether the value is `FF`s, an item not written.
    pub(super) fn unwritten(&self) -> bool {
        self.item.may_be_unwritten && unwritten(self.value)
    }
}

/// An item's name in findings: `EF06 tag 08 citizen ID`.
pub(super) fn label(prefix: &str, item: &Item) -> String {
    format!("{prefix} tag {:02X} {}", item.tag, item.name)
}

/// Checks the records of an EF against its table and returns those that pass, in record
/// order. With `required`, an item of the table no record holds is a finding too.
pub(super) fn check_records<'a>(
    c: &mut Collector,
    prefix: &str,
    spec: &EfSpec,
    records: &'a [Vec<u8>],
    required: bool,
) -> Vec<Checked<'a>> {
    let mut passed = Vec::new();
    let mut seen = Vec::new();
    for (n, record) in (1usize..).zip(records) {
        c.count();
        let here = format!("{prefix} record {n}");
        let (tag, value) = match rules::simple_tlv(record) {
            Ok(tlv) => tlv,
            Err(e) => {
                c.add(Finding::new(
                    here,
                    apdu::hex_compact(record),
                    e,
                    RECORD_FORMAT,
                ));
                continue;
            }
        };
        seen.push(tag);
        if spec.by_number {
            match spec.items.get(n - 1) {
                None => c.add(Finding::new(
                    &here,
                    apdu::hex_compact(record),
                    format!(
                        "the specification gives {prefix} {} records, this is record {n}",
                        spec.items.len()
                    ),
                    spec.clause,
                )),
                Some(expected) if expected.tag != tag => c.add(Finding::new(
                    &here,
                    apdu::hex_compact(record),
                    format!(
                        "record {n} holds tag {:02X} ({}); the card's holds tag {tag:02X}",
                        expected.tag, expected.name
                    ),
                    spec.clause,
                )),
                Some(_) => {}
            }
        }
        let Some(item) = spec.item(tag) else {
            if !spec.by_number {
                let tags: Vec<String> = spec
                    .items
                    .iter()
                    .map(|i| format!("{:02X}", i.tag))
                    .collect();
                c.add(Finding::new(
                    here,
                    apdu::hex_compact(record),
                    format!(
                        "tag {tag:02X} is no item of {prefix} (its tags: {})",
                        tags.join(" ")
                    ),
                    spec.clause,
                ));
            }
            continue;
        };
        let name = label(prefix, item);
        let mut problems = Vec::new();
        if value.len() != usize::from(item.len) {
            problems.push(format!(
                "length {}: the specification's is {}",
                value.len(),
                item.len
            ));
        }
        problems.extend(format_problems(item, value));
        let ok = problems.is_empty();
        for p in problems {
            c.add(Finding::new(
                &name,
                shown(item.format, value),
                p,
                spec.clause,
            ));
        }
        if ok {
            passed.push(Checked { item, value });
        }
    }
    if required {
        for item in spec.items.iter().filter(|i| !seen.contains(&i.tag)) {
            c.count();
            c.add(Finding::new(
                label(prefix, item),
                "",
                format!("missing: no record of {prefix} holds tag {:02X}", item.tag),
                spec.clause,
            ));
        }
    }
    passed
}

/// What is wrong with a value's format and, if nothing, with its kind (a date, a region
/// code, a degree).
pub(super) fn format_problems(item: &Item, value: &[u8]) -> Vec<String> {
    if item.may_be_unwritten && unwritten(value) {
        return Vec::new();
    }
    let format = match item.format {
        Format::An => an_text(value).err(),
        Format::Cn => cn_digits(value).err(),
        Format::B => None,
    };
    if let Some(problem) = format {
        return vec![problem];
    }
    match item.kind {
        Kind::Plain => Vec::new(),
        Kind::Date => bcd_date(value).err().into_iter().collect(),
        Kind::Region => cn_digits(value)
            .and_then(|d| region_code(&d))
            .err()
            .into_iter()
            .collect(),
        Kind::Nested(items) => nested(value, items),
    }
}

/// A B-TLV (DF01 EF15 tag 40, a degree: `57` an 3, `58` cn 3, `59` an 0x28; the B-TLVs of
/// DF02 and DF03): simple TLVs of `items`; a value of `00`s or `FF`s is an unused slot.
fn nested(value: &[u8], items: &[Item]) -> Vec<String> {
    if value.iter().all(|b| *b == 0) || unwritten(value) {
        return Vec::new();
    }
    let mut problems = Vec::new();
    let mut rest = value;
    while let [tag, len, after @ ..] = rest {
        let Some(inner) = after.get(..usize::from(*len)) else {
            problems.push(format!(
                "inner tag {tag:02X}: length {len} runs past the value"
            ));
            break;
        };
        match items.iter().find(|i| i.tag == *tag) {
            None => {
                let tags: Vec<String> = items.iter().map(|i| format!("{:02X}", i.tag)).collect();
                problems.push(format!(
                    "inner tag {tag:02X} is not one of {}",
                    tags.join(", ")
                ));
            }
            Some(i) if inner.len() != usize::from(i.len) => problems.push(format!(
                "inner tag {tag:02X} ({}): length {len}, the specification's is {}",
                i.name, i.len
            )),
            Some(i) => problems.extend(
                format_problems(i, inner)
                    .into_iter()
                    .map(|p| format!("inner tag {tag:02X} ({}): {p}", i.name)),
            ),
        }
        rest = after.get(usize::from(*len)..).unwrap_or_default();
    }
    if rest.len() == 1 {
        problems.push("a stray byte after the inner TLVs".to_owned());
    }
    problems
}
