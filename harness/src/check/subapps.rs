//! The sub-applications DF01-DF07 (docs/CARD.md §3.5): DF01's EFs by their table (tags,
//! lengths, formats); DF02-DF07, whose item tables are not on the shelf, by what is known:
//! the fixed-size records of the cyclic EFs, and for the others one simple TLV whose tag is
//! in the tag ranges of those DFs.

use super::items::{self, RECORD_FORMAT};
use super::read::DfData;
use super::rules;
use super::spec::{DF01, DF01_CLAUSE, FIXED_RECORDS, SUB_APPLICATION_TAGS};
use super::{Collector, Finding};

/// Checks the sub-applications that were read.
pub(super) fn check(c: &mut Collector, dfs: &[DfData]) {
    for df in dfs {
        for (sfi, records) in &df.efs {
            let prefix = format!("{} EF{sfi:02X}", df.label);
            if df.label == "DF01" {
                match DF01.iter().find(|s| s.sfi == *sfi) {
                    Some(spec) => {
                        items::check_records(c, &prefix, spec, records, false);
                    }
                    None => tlv_records(c, &prefix, records, None),
                }
                continue;
            }
            let fixed = FIXED_RECORDS
                .iter()
                .find(|(label, s, _)| *label == df.label && s == sfi);
            match fixed {
                Some((_, _, size)) => fixed_records(c, &prefix, records, *size),
                None => tlv_records(c, &prefix, records, Some(&SUB_APPLICATION_TAGS)),
            }
        }
    }
}

/// Records of a cyclic EF of a fixed size (docs/CARD.md §3.5, "Known shapes").
fn fixed_records(c: &mut Collector, prefix: &str, records: &[Vec<u8>], size: usize) {
    for (n, record) in (1usize..).zip(records) {
        c.count();
        if record.len() != size {
            c.add(Finding::new(
                format!("{prefix} record {n}"),
                apdu::hex_compact(record),
                format!(
                    "{} byte(s): the records of {prefix} have {size} (0x{size:02X})",
                    record.len()
                ),
                DF01_CLAUSE,
            ));
        }
    }
}

/// Records of an EF whose table is not known: one simple TLV each, with a tag in `ranges`
/// when given.
fn tlv_records(c: &mut Collector, prefix: &str, records: &[Vec<u8>], ranges: Option<&[(u8, u8)]>) {
    for (n, record) in (1usize..).zip(records) {
        c.count();
        let here = format!("{prefix} record {n}");
        match rules::simple_tlv(record) {
            Err(e) => c.add(Finding::new(
                here,
                apdu::hex_compact(record),
                e,
                RECORD_FORMAT,
            )),
            Ok((tag, _)) => {
                if let Some(ranges) = ranges
                    && !ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&tag))
                {
                    c.add(Finding::new(
                        here,
                        apdu::hex_compact(record),
                        format!(
                            "tag {tag:02X} is outside the item tags of DF02-DF07 (41-4F, 55-56, \
                             5A-5E, 60-79, 7A-7F, 80-93, 96-99, F0-F9)"
                        ),
                        DF01_CLAUSE,
                    ));
                }
            }
        }
    }
}
