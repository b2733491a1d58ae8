//! The specification's tables the checks apply (docs/CARD.md §3.4, §3.5): each EF's items
//! with their tags, formats and lengths, the sub-applications and their AIDs, the record
//! fixed-size records of DF02 and DF04. Data only; [`super::rules`] holds the rules.

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
#[derive(Clone, Copy, Debug)]
pub(super) enum Kind {
    /// Nothing beyond the format.
    Plain,
    /// A date YYYYMMDD in BCD (`FF`s: not written, where `may_be_unwritten`).
    Date,
    /// A region code, 6 digits in BCD (GB/T 2260).
    Region,
    /// A B-TLV of simple TLVs from this table (DF01 EF15 tag 40 a degree: 57 an 3, 58 cn 3,
    /// 59 an 0x28; DF02 EF05 43 and 44, DF02 EF15 99, DF03 EF06 4A, DF03 EF19 79).
    Nested(&'static [Item]),
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
use Kind::{Date, Nested, Plain, Region};

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
            item(0x40, "degree", B, 0x34, Nested(&DEGREE)),
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
/// (V2.0 Table 9, docs/CARD.md §3.5).
pub(super) const FIXED_RECORDS: [(&str, u8, usize); 4] = [
    ("DF02", 0x07, 0x55),
    ("DF02", 0x16, 0x12),
    ("DF04", 0x08, 0x1C),
    ("DF04", 0x15, 3),
];

/// The record EFs of DF02, DF03, DF04 and DF07 and their items (V2.0 Table 9 pp. 10-14,
/// docs/CARD.md §3.5.1): DF label and table.
pub(super) const SUB_APPLICATION_EFS: [(&str, EfSpec); 17] = [
    (
        "DF02",
        sub(
            0x05,
            &[
                item(0x42, "technical title code", An, 3, Plain),
                item(0x41, "technical title level", An, 3, Plain),
                item(
                    0x43,
                    "vocational qualification",
                    B,
                    0x6C,
                    Nested(&QUALIFICATION),
                ),
                item(
                    0x44,
                    "professional qualification",
                    B,
                    0x65,
                    Nested(&PROFESSIONAL),
                ),
            ],
        ),
    ),
    (
        "DF02",
        sub(
            0x06,
            &[
                item(0x4C, "employment registration date", Cn, 4, Date),
                item(0x4B, "employment registration type", An, 5, Plain),
                item(0x4D, "employment registration region", Cn, 3, Region),
                unwritten(item(0x60, "unemployment registration date", Cn, 4, Date)),
                item(0x4F, "unemployment registration type", An, 6, Plain),
                item(0x50, "unemployment registration region", Cn, 3, Region),
                item(0x3A, "current occupation", An, 7, Plain),
            ],
        ),
    ),
    (
        "DF02",
        sub(
            0x09,
            &[
                item(0x55, "employment certificate number", An, 0x10, Plain),
                item(0x56, "certificate issuer", An, 0x46, Plain),
                item(0x96, "certificate date", Cn, 4, Date),
                item(0x97, "certificate region", Cn, 3, Region),
            ],
        ),
    ),
    (
        "DF02",
        sub(
            0x15,
            &[
                item(0x99, "employment assistance", B, 0x10, Nested(&ASSISTANCE)),
                unwritten(item(0x0F, "assistance end date", Cn, 4, Date)),
                unwritten(item(0x1F, "assistance end region", Cn, 3, Region)),
            ],
        ),
    ),
    (
        "DF03",
        sub(
            0x05,
            &[
                item(0x61, "unemployment insurance region", Cn, 3, Region),
                unwritten(item(0x60, "unemployment registration date", Cn, 4, Date)),
                unwritten(item(0x98, "last benefit claim date", Cn, 4, Date)),
                unwritten(item(0x62, "benefit report date", Cn, 4, Date)),
                item(0x63, "contribution years", An, 3, Plain),
                item(0x64, "effective contribution years", An, 3, Plain),
                item(0x65, "benefit months due", An, 3, Plain),
                item(0x66, "benefit months received", An, 3, Plain),
            ],
        ),
    ),
    (
        "DF03",
        sub(
            0x06,
            &[
                item(0x45, "work ability appraisal number", An, 0x14, Plain),
                item(0x46, "appraisal matter", An, 2, Plain),
                item(0x47, "disability grade", An, 2, Plain),
                item(0x48, "self-care grade", An, 1, Plain),
                item(0x49, "appraisal conclusion", An, 1, Plain),
                item(0x67, "appraisal date", Cn, 4, Date),
                item(0x6B, "appraisal body", An, 0x3C, Plain),
                item(0x4A, "confirmation", B, 0x61, Nested(&CONFIRMATION)),
            ],
        ),
    ),
    (
        "DF03",
        sub(
            0x07,
            &[
                item(0x70, "pension insurance type", An, 3, Plain),
                item(0x71, "pension insurance region", Cn, 3, Region),
                unwritten(item(0x6E, "pension account date", Cn, 4, Date)),
                unwritten(item(0x6C, "retirement date", Cn, 4, Date)),
                unwritten(item(0x6F, "benefit start date", Cn, 4, Date)),
                unwritten(item(0x73, "pension update date", Cn, 4, Date)),
            ],
        ),
    ),
    (
        "DF03",
        sub(
            0x15,
            &[
                item(0x7A, "injury insurance region", Cn, 3, Region),
                unwritten(item(0x7B, "injury benefit start date", Cn, 4, Date)),
                unwritten(item(0x7C, "injury update date", Cn, 4, Date)),
            ],
        ),
    ),
    (
        "DF03",
        sub(
            0x16,
            &[
                item(0x51, "maternity insurance region", Cn, 3, Region),
                item(0x5F, "unemployed spouse flag", An, 1, Plain),
            ],
        ),
    ),
    (
        "DF03",
        sub(
            0x17,
            &[
                item(0x3B, "injury recognition number", An, 0x14, Plain),
                item(0x3C, "employer", An, 0x46, Plain),
                item(0x3D, "recognition conclusion", An, 1, Plain),
                item(0x3E, "recognition date", Cn, 4, Date),
                item(0x3F, "recognition body", An, 0x3C, Plain),
            ],
        ),
    ),
    (
        "DF03",
        sub(
            0x18,
            &[
                item(0x74, "dependant insurance type", An, 3, Plain),
                item(0x75, "dependant insurance region", Cn, 3, Region),
                item(0x76, "dependency relation", Cn, 1, Plain),
                item(0x77, "dependant benefit start date", Cn, 4, Date),
                item(0x78, "dependant update date", Cn, 4, Date),
            ],
        ),
    ),
    (
        "DF03",
        sub(
            0x19,
            &[item(
                0x79,
                "insurance certificate",
                B,
                0x27,
                Nested(&CERTIFICATE),
            )],
        ),
    ),
    (
        "DF04",
        sub(
            0x05,
            &[
                item(0x81, "medical insurance type", An, 8, Plain),
                item(0x84, "medical insurance region", Cn, 3, Region),
                item(0x87, "health record number", An, 0x11, Plain),
                item(0x8C, "insured category", Cn, 1, Plain),
                unwritten(item(0x80, "medical account date", Cn, 4, Date)),
                item(0x8B, "medical account number", An, 0x1D, Plain),
                item(0x8A, "medical certificate number", An, 0x0F, Plain),
                item(0x83, "designated institution 1", An, 9, Plain),
                item(0x86, "designated institution 2", An, 9, Plain),
                item(0x89, "designated institution 3", An, 9, Plain),
                item(0x7D, "injury institution 1", An, 9, Plain),
                item(0x7E, "injury institution 2", An, 9, Plain),
                item(0x7F, "injury institution 3", An, 9, Plain),
                item(0x8D, "maternity institution 1", An, 9, Plain),
                item(0x8E, "maternity institution 2", An, 9, Plain),
                item(0x8F, "card use mode", An, 1, Plain),
            ],
        ),
    ),
    (
        "DF04",
        sub(
            0x06,
            &[
                item(0x90, "offline settlement allowed", An, 1, Plain),
                item(0x92, "offline settlement total", Cn, 4, Plain),
                item(0x93, "offline settlement count", An, 2, Plain),
            ],
        ),
    ),
    (
        "DF07",
        sub(
            0x05,
            &[
                item(0xF0, "honour title code", An, 2, Plain),
                item(0xF1, "honour title level", An, 1, Plain),
                item(0xF2, "honour title date", Cn, 4, Date),
                item(0xF3, "medal code", An, 3, Plain),
                item(0xF4, "medal date", Cn, 4, Date),
            ],
        ),
    ),
    (
        "DF07",
        sub(
            0x06,
            &[
                item(0xF5, "expert category", An, 3, Plain),
                item(0xF6, "approval date", Cn, 4, Date),
                item(0xF7, "approving body", An, 0x46, Plain),
            ],
        ),
    ),
    (
        "DF07",
        sub(
            0x07,
            &[
                item(0xF8, "transfer approval date", Cn, 4, Date),
                item(0xF9, "placement", An, 1, Plain),
            ],
        ),
    ),
];

/// The clause of DF02-DF07's items.
pub(super) const SUB_CLAUSE: &str = "docs/CARD.md §3.5.1";

const fn sub(sfi: u8, items: &'static [Item]) -> EfSpec {
    EfSpec {
        sfi,
        items,
        by_number: false,
        clause: SUB_CLAUSE,
    }
}

/// DF02 EF05 tag 43, a vocational qualification (工人技术等级).
const QUALIFICATION: [Item; 5] = [
    item(0x5A, "qualification code", An, 7, Plain),
    item(0x5B, "qualification grade", An, 1, Plain),
    item(0x5C, "certifying body", An, 0x46, Plain),
    item(0x5D, "certificate date", Cn, 4, Date),
    item(0x5E, "certificate number", An, 0x10, Plain),
];

/// DF02 EF05 tag 44, a professional qualification (专业技术人员).
const PROFESSIONAL: [Item; 4] = [
    item(0x33, "qualification code", An, 3, Plain),
    item(0x34, "registering body", An, 0x46, Plain),
    item(0x35, "registration date", Cn, 4, Date),
    item(0x36, "certificate number", An, 0x10, Plain),
];

/// DF02 EF15 tag 99, an employment-assistance recognition.
const ASSISTANCE: [Item; 3] = [
    item(0x10, "assistance type", An, 3, Plain),
    item(0x11, "recognition date", Cn, 4, Date),
    item(0x12, "recognition region", Cn, 3, Region),
];

/// DF03 EF06 tag 4A, an applied confirmation.
const CONFIRMATION: [Item; 5] = [
    item(0x13, "matter code", An, 2, Plain),
    item(0x14, "conclusion", An, 1, Plain),
    item(0x15, "aid item", An, 0x14, Plain),
    item(0x16, "application date", Cn, 4, Date),
    item(0x17, "confirming body", An, 0x3C, Plain),
];

/// DF03 EF19 tag 79, an insurance certificate (参保凭证).
const CERTIFICATE: [Item; 7] = [
    item(0x18, "insurance type", An, 3, Plain),
    item(0x19, "insurance region", Cn, 3, Region),
    item(0x1A, "local start date", Cn, 4, Date),
    unwritten(item(0x1B, "local end date", Cn, 4, Date)),
    item(0x1C, "amount paid", Cn, 4, Plain),
    item(0x1D, "months paid", An, 3, Plain),
    item(0x1E, "issue date", Cn, 4, Date),
];

/// The UnionPay applications looked for beside the SSSE: debit, credit, quasi-credit
/// (docs/CARD.md §3.6 names the debit one).
pub(super) const BANK_AIDS: [[u8; 8]; 3] = [
    [0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x01],
    [0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x02],
    [0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x03],
];
