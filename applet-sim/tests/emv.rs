//! The financial application's EMV read path (docs/CARD.md §3.6.1): GET PROCESSING OPTIONS
//! with and without a PDOL, the AFL's records, GET DATA for the PIN try counter and the ATC.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use applet_sim::{Card, Profile};
use common::{GEN3, SELECT_SSSE, builtin, script, x};

const SELECT_BANK: &str = "00A4040C08A000000333010101";
const SELECT_PSE: &str = "00A4040C0E315041592E5359532E4444463031";
/// Format 1: AIP 0800, AFL SFI 1 record 1, SFI 2 record 1.
const GPO_ANSWER: &str = "800A 0800 08010100 10010100 9000";

/// gen3 with a PDOL in the ADF's FCI: 9F7A (1) 9F02 (6) 5F2A (2), 9 bytes, as the readers'
/// GPO of §3.6 carries.
fn with_pdol() -> Card {
    let old =
        "fci = \"6F 1F 84 08 A000000333010101 A5 13 50 0E 556E696F6E506179204465626974 87 01 01\"";
    let new = "fci = \"6F 2B 84 08 A000000333010101 A5 1F 50 0E 556E696F6E506179204465626974 87 01 01 9F38 09 9F7A01 9F0206 5F2A02\"";
    assert!(GEN3.contains(old));
    Card::new(&Profile::parse(&GEN3.replace(old, new), "pdol").unwrap())
}

#[test]
fn gpo_without_pdol_answers_aip_and_afl_behind_61xx() {
    let mut c = builtin("gen3");
    script(
        &mut c,
        &[
            (SELECT_BANK, "9000"),
            ("80A80000028300", "610C"),
            ("00C000000C", GPO_ANSWER),
        ],
    );
}

#[test]
fn gpo_then_the_afl_records_give_the_pan() {
    for profile in ["gen3", "gen2"] {
        let mut c = builtin(profile);
        assert_eq!(x(&mut c, SELECT_BANK), "9000");
        let mut answer = x(&mut c, "80A8000002830000");
        if answer.starts_with("61") {
            answer = x(&mut c, &format!("00C00000{}", &answer[2..]));
        }
        assert!(answer.starts_with("800A0800"), "{profile}: {answer}");
        let afl = apdu::parse_hex(&answer[8..answer.len() - 4]).unwrap();
        let mut found_pan = false;
        for entry in afl.chunks(4) {
            for record in entry[1]..=entry[2] {
                let p2 = entry[0] | 0x04;
                let mut r = x(&mut c, &format!("00B2{record:02X}{p2:02X}00"));
                if r.starts_with("6C") {
                    r = x(&mut c, &format!("00B2{record:02X}{p2:02X}{}", &r[2..]));
                }
                assert!(r.ends_with("9000"), "{profile}: {r}");
                found_pan |= r.starts_with("70") && r.contains("5A0A");
            }
        }
        assert!(found_pan, "{profile}");
    }
}

#[test]
fn gpo_with_a_pdol_wants_its_length() {
    let mut c = with_pdol();
    script(
        &mut c,
        &[
            (SELECT_BANK, "9000"),
            // The readers' GPO (§3.6).
            ("80A800000B8309 00 000000000000 0156 00", "610C"),
            ("00C000000C", GPO_ANSWER),
            ("80A80000028300", "6700"),
            ("80A800000A8308 00 000000000000 01", "6700"),
        ],
    );
}

#[test]
fn gpo_refuses_malformed_commands() {
    let mut c = builtin("gen3");
    script(
        &mut c,
        &[
            (SELECT_BANK, "9000"),
            ("80A8000000", "6700"),
            ("80A80000", "6700"),
            ("80A80000018300", "6700"),
            ("80A80000028301", "6700"),
            ("80A80000038301", "6700"),
            ("80A80000037701AA", "6A80"),
            ("80A800000383810000", "6A80"),
            ("80A80100028300", "6A86"),
            ("80A80001028300", "6A86"),
            ("00A80000028300", "6E00"),
            // Nothing was counted.
            ("80CA9F3605", "9F36 02 0000 9000"),
        ],
    );
}

#[test]
fn gpo_and_get_data_only_in_the_adf() {
    let mut c = builtin("gen3");
    script(
        &mut c,
        &[
            ("80A80000028300", "6D00"),
            ("80CA9F1700", "6D00"),
            (SELECT_SSSE, "9000"),
            ("80A80000028300", "6D00"),
            ("80CA9F1700", "6D00"),
            (SELECT_PSE, "9000"),
            ("80A80000028300", "6D00"),
            ("80CA9F3600", "6D00"),
        ],
    );
}

#[test]
fn gpo_counts_the_atc_up_across_resets() {
    let mut c = builtin("gen3");
    script(
        &mut c,
        &[
            (SELECT_BANK, "9000"),
            ("80CA9F3605", "9F36020000 9000"),
            ("80A80000028300", "610C"),
            ("80CA9F3605", "9F36020001 9000"),
            ("80A80000028300", "610C"),
            ("80CA9F3605", "9F36020002 9000"),
        ],
    );
    c.reset();
    script(
        &mut c,
        &[(SELECT_BANK, "9000"), ("80CA9F3605", "9F36020002 9000")],
    );
}

#[test]
fn get_data_gives_the_bank_pins_tries_left() {
    let mut c = builtin("gen3");
    script(
        &mut c,
        &[
            (SELECT_BANK, "9000"),
            // Case 2 under T=0: Le 00 is answered 6Cxx, as READ RECORD is.
            ("80CA9F1700", "6C04"),
            ("80CA9F1704", "9F170103 9000"),
            // A wrong bank PIN (888888 is the bank PIN).
            ("0020000003111111", "63C2"),
            ("80CA9F1704", "9F170102 9000"),
            ("0020000003888888", "9000"),
            ("80CA9F1704", "9F170103 9000"),
        ],
    );
}

#[test]
fn get_data_refuses_other_tags_and_lengths() {
    let mut c = builtin("gen3");
    script(
        &mut c,
        &[
            (SELECT_BANK, "9000"),
            ("80CA9F1300", "6A88"),
            ("80CA9F4F00", "6A88"),
            ("80CA000000", "6A88"),
            ("80CA9F17", "6700"),
            ("80CA9F17019F", "6700"),
            ("00CA9F1700", "6E00"),
        ],
    );
}

#[test]
fn the_afl_names_the_adfs_free_record_files_by_sfi() {
    let anchor = "[[ef]]\nparent = \"UNIONPAY\"\nfid = \"0001\"";
    assert!(GEN3.contains(anchor));
    let extra = r#"[[ef]]
parent = "UNIONPAY"
fid = "0007"
sfi = 0x07
structure = "linear"
max_records = 3
read = "free"
update = "never"
records = ["70 03 9F 08 01", "70 03 9F 08 02"]

[[ef]]
parent = "UNIONPAY"
fid = "0004"
sfi = 0x04
structure = "linear"
max_records = 1
read = "pin"
update = "never"
records = ["70 00"]

[[ef]]
parent = "UNIONPAY"
fid = "000B"
sfi = 0x0B
structure = "linear"
max_records = 1
read = "free"
update = "never"
records = ["70 00"]

[[ef]]
parent = "UNIONPAY"
fid = "0003"
sfi = 0x03
structure = "linear"
max_records = 2
read = "free"
update = "never"

[[ef]]
parent = "UNIONPAY"
fid = "0006"
sfi = 0x06
structure = "transparent"
size = 4
read = "free"
update = "never"

"#;
    let text = GEN3.replace(anchor, &format!("{extra}{anchor}"));
    let mut c = Card::new(&Profile::parse(&text, "afl").unwrap());
    script(
        &mut c,
        &[
            (SELECT_BANK, "9000"),
            ("80A80000028300", "6110"),
            ("00C0000010", "800E 0800 08010100 10010100 38010200 9000"),
        ],
    );
}

#[test]
fn an_exhausted_atc_refuses_gpo() {
    let mut c = builtin("gen3");
    assert_eq!(x(&mut c, SELECT_BANK), "9000");
    for _ in 0..0xFFFF {
        assert_eq!(x(&mut c, "80A80000028300"), "610C");
    }
    script(
        &mut c,
        &[
            ("80CA9F3605", "9F3602FFFF 9000"),
            ("80A80000028300", "6985"),
            ("80CA9F3605", "9F3602FFFF 9000"),
        ],
    );
}
