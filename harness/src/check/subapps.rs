//! The sub-applications DF01-DF07 (docs/CARD.md §3.5, §3.5.1): each record EF by its table
//! of V2.0 Table 9 (tags, lengths, formats), the cyclic EFs by their record size; an EF no
//! table names (a local extension from EF0C) holds one simple TLV per record.

use super::items::{self, RECORD_FORMAT};
use super::read::DfData;
use super::rules;
use super::spec::{DF01, FIXED_RECORDS, SUB_APPLICATION_EFS, SUB_CLAUSE};
use super::{Collector, Finding};

/// Checks the sub-applications that were read.
pub(super) fn check(c: &mut Collector, dfs: &[DfData]) {
    for df in dfs {
        for (sfi, records) in &df.efs {
            let prefix = format!("{} EF{sfi:02X}", df.label);
            let table = if df.label == "DF01" {
                DF01.iter().find(|s| s.sfi == *sfi)
            } else {
                SUB_APPLICATION_EFS
                    .iter()
                    .find(|(label, s)| *label == df.label && s.sfi == *sfi)
                    .map(|(_, s)| s)
            };
            if let Some(spec) = table {
                items::check_records(c, &prefix, spec, records, false);
                continue;
            }
            let fixed = FIXED_RECORDS
                .iter()
                .find(|(label, s, _)| *label == df.label && s == sfi);
            match fixed {
                Some((_, _, size)) => fixed_records(c, &prefix, records, *size),
                None => tlv_records(c, &prefix, records),
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
                SUB_CLAUSE,
            ));
        }
    }
}

/// Records of an EF whose table is not known: one simple TLV each.
fn tlv_records(c: &mut Collector, prefix: &str, records: &[Vec<u8>]) {
    for (n, record) in (1usize..).zip(records) {
        c.count();
        if let Err(e) = rules::simple_tlv(record) {
            c.add(Finding::new(
                format!("{prefix} record {n}"),
                apdu::hex_compact(record),
                e,
                RECORD_FORMAT,
            ));
        }
    }
}
