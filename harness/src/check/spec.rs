//! The specification's tables the checks apply (docs/CARD.md §3.4, §3.5): each EF's items
//! with their tags, formats and lengths, the sub-applications and their AIDs, the record
//! shapes documented for DF02-DF07. Data only; [`super::rules`] holds the rules.

/// How an item's value is coded (docs/CARD.md §3.4, "Record format").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Format {
    /// `an`: ASCII/GBK, left-aligned, right-padded with `00`.
    An,
    /// `cn`: BCD digits, left-aligned, right-padded with nibble `F`.
    Cn,
    /// Bytes of a layout of their own (the card identification code, nested TLVs).
    B,
}

/// What an item holds, for the rules beyond its format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// Nothing beyond the format.
    Plain,
    /// A date YYYYMMDD in BCD (`FF`s: not written, where `may_be_unwritten`).
    Date,
    /// A region code, 6 digits in BCD (GB/T 2260).
    Region,
    /// The B-TLV of a degree (DF01 EF15 tag 40): 57 an 3, 58 cn 3, 59 an 0x28.
    Degree,
}

/// One item of an EF's table.
#[derive(Clone, Copy, Debug)]
pub(super) struct Item {
    /// The tag, also the record identifier.
    pub tag: u8,
    /// The item's name in English (the Chinese is in docs/CARD.md).
    pub name: &'static str,
    /// Its format.
    pub format: Format,
    /// Its length, fixed by the specification.
    pub len: u8,
    /// What it holds.
    pub kind: Kind,
    /// `FF`s stand for "not written" (docs/CARD.md §3.4 nation, §7.3 on a 2.0 card).
    pub may_be_unwritten: bool,
}

const fn item(tag: u8, name: &'static str, format: Format, len: u8, kind: Kind) -> Item {
    Item {
        tag,
        name,
        format,
        len,
        kind,
        may_be_unwritten: false,
    }
}

const fn unwritten(mut item: Item) -> Item {
    item.may_be_unwritten = true;
    item
}

use Format::{An, B, Cn};
use Kind::{Date, Degree, Plain, Region};

/// An EF of record TLVs and its items.
#[derive(Clone, Copy, Debug)]
pub(super) struct EfSpec {
    /// Its SFI (= the low byte of its FID).
    pub sfi: u8,
    /// Its items; for [`EfSpec::by_number`] the items of records 1, 2, … in order.
    pub items: &'static [Item],
    /// Record n holds the n-th item (the specification gives the record numbers); otherwise
    /// a record may hold any item of the table.
    pub by_number: bool,
    /// The clause that gives the table.
    pub clause: &'static str,
}

impl EfSpec {
    /// The item of a tag.
    pub(super) fn item(&self, tag: u8) -> Option<&'static Item> {
        self.items.iter().find(|i| i.tag == tag)
    }
}

/// The clause of the SSSE's items.
pub(super) const SSSE_CLAUSE: &str = "docs/CARD.md §3.4";
/// The clause of DF01's items.
pub(super) const DF01_CLAUSE: &str = "docs/CARD.md §3.5";

/// EF05 发卡机构数据: record n is tag n on every generation.
pub(super) const EF05: EfSpec = EfSpec {
    sfi: 0x05,
    items: &[
        item(0x01, "card identification code", B, 0x10, Plain),
        item(0x02, "card type", An, 1, Plain),
        item(0x03, "spec version", An, 4, Plain),
        item(0x04, "initialising organisation", B, 0x0C, Plain),
        item(0x05, "issue date", Cn, 4, Date),
        item(0x06, "expiry date", Cn, 4, Date),
        item(0x07, "card number", An, 9, Plain),
    ],
    by_number: true,
    clause: SSSE_CLAUSE,
};

const SSN: Item = item(0x08, "citizen ID", An, 0x12, Plain);
const NAME: Item = item(0x09, "name", An, 0x1E, Plain);
const NAME_EXTENSION: Item = item(0x4E, "name extension", An, 0x14, Plain);
const SEX: Item = item(0x0A, "sex", An, 1, Plain);
const NATION: Item = unwritten(item(0x0B, "nation", Cn, 1, Plain));
const BIRTHPLACE: Item = unwritten(item(0x0C, "birthplace", Cn, 3, Region));
const BIRTH_DATE: Item = unwritten(item(0x0D, "birth date", Cn, 4, Date));

/// EF06 持卡人基本信息 of 2.0 and 3.0 cards (records 1-7).
pub(super) const EF06: EfSpec = EfSpec {
    sfi: 0x06,
    items: &[
        SSN,
        NAME,
        NAME_EXTENSION,
        SEX,
        NATION,
        BIRTHPLACE,
        BIRTH_DATE,
    ],
    by_number: true,
    clause: SSSE_CLAUSE,
};

/// EF06 of 1.0 cards: no name extension (records 1-6; after the sex [I] in CARD.md).
pub(super) const EF06_V1: EfSpec = EfSpec {
    sfi: 0x06,
    items: &[SSN, NAME, SEX, NATION, BIRTHPLACE, BIRTH_DATE],
    by_number: true,
    clause: SSSE_CLAUSE,
};

/// DF01 公共应用's record EFs (V2.0 Table 9, docs/CARD.md §3.5).
pub(super) const DF01: [EfSpec; 7] = [
    df01(
        0x05,
        &[
            item(0x20, "household type", An, 2, Plain),
            item(0x21, "household address", An, 0x50, Plain),
            item(0x0E, "household region", Cn, 3, Region),
        ],
    ),
    df01(
        0x06,
        &[
            item(0x23, "residence address", An, 0x50, Plain),
            item(0x24, "residence region", Cn, 3, Region),
            item(0x28, "phone", An, 0x0F, Plain),
            item(0x2C, "contact name", An, 0x32, Plain),
            item(0x2D, "contact phone", An, 0x0F, Plain),
        ],
    ),
    df01(0x07, &[item(0x29, "employment status", An, 1, Plain)]),
    df01(0x08, &[item(0x2B, "marital status", An, 1, Plain)]),
    df01(
        0x09,
        &[
            item(0x2E, "employer", An, 0x46, Plain),
            item(0x30, "organisation code", An, 9, Plain),
            item(0x32, "person category", An, 2, Plain),
        ],
    ),
    df01(
        0x0A,
        &[
            item(0x37, "nationality", An, 3, Plain),
            item(0x38, "political status", An, 2, Plain),
            unwritten(item(0x39, "party entry date", Cn, 4, Date)),
        ],
    ),
    df01(
        0x15,
        &[
            item(0x2A, "education", Cn, 1, Plain),
            item(0x40, "degree", B, 0x34, Degree),
        ],
    ),
];

const fn df01(sfi: u8, items: &'static [Item]) -> EfSpec {
    EfSpec {
        sfi,
        items,
        by_number: false,
        clause: DF01_CLAUSE,
    }
}

/// The items of a degree (DF01 EF15 tag 40): tag, name, format, length.
pub(super) const DEGREE: [Item; 3] = [
    item(0x57, "degree code", An, 3, Plain),
    item(0x58, "speciality", Cn, 3, Plain),
    item(0x59, "school", An, 0x28, Plain),
];

/// The sub-applications of the SSSE: label and the PIX after RID `D1 56 00 00 05`
/// (docs/CARD.md §3.1).
pub(super) const SUB_APPLICATIONS: [(&str, u8); 5] = [
    ("DF01", 0x00),
    ("DF02", 0x01),
    ("DF03", 0x02),
    ("DF04", 0x03),
    ("DF07", 0x04),
];

/// The social-security RID (docs/CARD.md §3.1).
pub(super) const RID: [u8; 5] = [0xD1, 0x56, 0x00, 0x00, 0x05];

/// The EFs of DF02-DF07 whose records are fixed-size, not TLVs, and their record size
/// (docs/CARD.md §3.5, "Known shapes").
pub(super) const FIXED_RECORDS: [(&str, u8, usize); 4] = [
    ("DF02", 0x07, 0x55),
    ("DF02", 0x16, 0x12),
    ("DF04", 0x08, 0x1C),
    ("DF04", 0x15, 3),
];

/// The tag ranges of DF02, DF03, DF04 and DF07's items (docs/CARD.md §3.5).
pub(super) const SUB_APPLICATION_TAGS: [(u8, u8); 8] = [
    (0x41, 0x4F),
    (0x55, 0x56),
    (0x5A, 0x5E),
    (0x60, 0x79),
    (0x7A, 0x7F),
    (0x80, 0x93),
    (0x96, 0x99),
    (0xF0, 0xF9),
];

/// The UnionPay applications looked for beside the SSSE: debit, credit, quasi-credit
/// (docs/CARD.md §3.6 names the debit one).
pub(super) const BANK_AIDS: [[u8; 8]; 3] = [
    [0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x01],
    [0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x02],
    [0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x03],
];
