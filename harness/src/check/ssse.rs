//! The SSSE's own data (docs/CARD.md §2, §3.4): the ATR, EF05's and EF06's records by their
//! tables, then the item-specific rules and the rules across items: the card
//! identification code against the ATR, the version against the cipher, issue before
//! expiry, the citizen ID against the birth date.

use applet_sim::date::Date;

use super::items::{self, Checked, label, shown};
use super::read::CardData;
use super::spec::{EF05, EF06, EF06_V1, SSSE_CLAUSE};
use super::{Collector, Finding};
use super::{issuer, rules};

/// The first record that passed with this tag.
fn find<'a>(checked: &[Checked<'a>], tag: u8) -> Option<Checked<'a>> {
    checked.iter().find(|c| c.item.tag == tag).copied()
}

/// A finding on a checked item.
fn finding(c: &mut Collector, prefix: &str, item: Checked<'_>, rule: String, clause: &str) {
    c.add(Finding::new(
        label(prefix, item.item),
        shown(item.item.format, item.value),
        rule,
        clause,
    ));
}

/// Checks the ATR, EF05 and EF06 (when read).
pub(super) fn check(c: &mut Collector, data: &CardData) {
    c.count();
    let (problems, historical) = issuer::atr(&data.atr);
    for p in problems {
        c.add(Finding::new(
            "ATR",
            apdu::hex_compact(&data.atr),
            p,
            "docs/CARD.md §2",
        ));
    }
    let ef05 = items::check_records(c, "EF05", &EF05, &data.ef05, true);
    let mut generation = None;
    for item in &ef05 {
        let problems = match item.item.tag {
            0x01 => issuer::card_id(item.value, historical)
                .into_iter()
                .map(|p| (p, "docs/CARD.md §3.4 (V2.0 Table 10), §2"))
                .collect(),
            0x02 => one(rules::card_type(&item.text()), SSSE_CLAUSE),
            0x03 => match rules::spec_version(&item.text()) {
                Err(e) => one(Err(e), "docs/CARD.md §1"),
                Ok(g) => {
                    generation = Some(g);
                    one(
                        rules::version_for_algorithm(g, data.algorithm),
                        "docs/CARD.md §1, §9.5",
                    )
                }
            },
            0x04 => issuer::initialising_organisation(item.value)
                .into_iter()
                .map(|p| (p, "docs/CARD.md §3.4 (V2.0 Table 12)"))
                .collect(),
            0x07 => one(
                rules::card_number(&item.text()),
                "docs/CARD.md §3.4 (V2.0 App. A)",
            ),
            _ => Vec::new(),
        };
        for (p, clause) in problems {
            finding(c, "EF05", *item, p, clause);
        }
    }
    let date = |tag| find(&ef05, tag).and_then(|i| Date::from_bcd(i.value).map(|d| (i, d)));
    if let (Some((_, issue)), Some((expiry_item, expiry))) = (date(0x05), date(0x06))
        && issue >= expiry
    {
        finding(
            c,
            "EF05",
            expiry_item,
            format!("the expiry date is not after the issue date {issue} (tag 05)"),
            SSSE_CLAUSE,
        );
    }
    if let Some(records) = &data.ef06 {
        let spec = if generation == Some(1) {
            &EF06_V1
        } else {
            &EF06
        };
        let ef06 = items::check_records(c, "EF06", spec, records, true);
        check_ef06(c, &ef06);
    }
}

/// A single rule's result as the list of problems with their clause.
fn one(result: Result<(), String>, clause: &'static str) -> Vec<(String, &'static str)> {
    result.err().map(|p| (p, clause)).into_iter().collect()
}

/// EF06's item-specific rules and the citizen ID against the birth date.
fn check_ef06(c: &mut Collector, ef06: &[Checked<'_>]) {
    let birth = find(ef06, 0x0D)
        .filter(|i| !i.unwritten())
        .map(|i| i.digits());
    for item in ef06 {
        let problems = match item.item.tag {
            0x08 => {
                let id = item.text();
                let mut problems: Vec<_> = rules::citizen_id(&id)
                    .into_iter()
                    .map(|p| (p, "docs/CARD.md §3.4; GB 11643"))
                    .collect();
                if let (Some(inside), Some(birth)) = (rules::citizen_id_birth(&id), &birth)
                    && inside != birth
                {
                    problems.push((
                        format!(
                            "its birth date {inside} is not EF06's birth date {birth} (tag 0D)"
                        ),
                        "docs/CARD.md §3.4; GB 11643",
                    ));
                }
                problems
            }
            0x09 if item.text().trim().is_empty() => {
                vec![("an empty name".to_owned(), SSSE_CLAUSE)]
            }
            0x0A => one(rules::sex(&item.text()), "docs/CARD.md §3.4; GB/T 2261.1"),
            0x0B if !item.unwritten() => {
                one(rules::nation(&item.digits()), "docs/CARD.md §3.4; GB 3304")
            }
            _ => Vec::new(),
        };
        for (p, clause) in problems {
            finding(c, "EF06", *item, p, clause);
        }
    }
}
