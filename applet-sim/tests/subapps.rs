//! The sub-applications' own keys (docs/CARD.md §3.3, §3.5, §6.7): DF01-DF07 are written
//! after external authentication with their UKn, with CLA 04 under their STKDFxx (82), read
//! with the PIN or their RKn; a DF-specific id (b8 set) names a key of the current DF only,
//! so a DF's key never opens another DF's files and an SSSE key never opens a DF's.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use applet_sim::crypto::{auth_cryptogram, session_key, ssc_mac};
use applet_sim::model::CipherSuite;
use applet_sim::{Card, Profile};
use common::{SELECT_SSSE, builtin, script, ssse_key, x};

const ORIGINAL: [u8; 8] = [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11];
const DF01: &str = "00A4040C06D15600000500";
const DF02: &str = "00A4040C06D15600000501";
const DF07: &str = "00A4040C06D15600000504";

/// A built-in card's key `id` of sub-application `df` (its label), card-level.
fn df_key(profile: &str, df: &str, id: u8) -> Vec<u8> {
    let p = Profile::builtin(profile).unwrap();
    p.keys
        .iter()
        .find(|k| k.parent == df && k.id == id)
        .unwrap()
        .value
        .clone()
}

fn suite(profile: &str) -> CipherSuite {
    Profile::builtin(profile).unwrap().cipher
}

/// GET CHALLENGE, then EXTERNAL AUTHENTICATE `id` with the cryptogram of `key`.
fn authenticate(card: &mut Card, suite: CipherSuite, id: u8, key: &[u8]) -> String {
    let r = x(card, "0084000008");
    assert!(r.ends_with("9000"), "{r}");
    let challenge = apdu::parse_hex(&r[..16]).unwrap();
    let ks = session_key(suite, key, &challenge).unwrap();
    let auth = auth_cryptogram(suite, &ks, &ORIGINAL).unwrap();
    let cmd = format!(
        "008200{id:02X}10{}{}",
        apdu::hex_compact(&auth),
        apdu::hex_compact(&ORIGINAL)
    );
    x(card, &cmd)
}

/// GET CHALLENGE, then the CLA 04 command `header ‖ Lc ‖ data ‖ MAC` under `key` (§6.3).
fn secured(card: &mut Card, suite: CipherSuite, key: &[u8], header: &str, data: &str) -> String {
    let r = x(card, "0084000008");
    let challenge = apdu::parse_hex(&r[..16]).unwrap();
    let ks = session_key(suite, key, &challenge).unwrap();
    let data = apdu::parse_hex(data).unwrap();
    let mut signed = apdu::parse_hex(header).unwrap();
    signed.push(u8::try_from(data.len() + 4).unwrap());
    signed.extend_from_slice(&data);
    let mac = ssc_mac(suite, &ks, &signed).unwrap();
    x(
        card,
        &format!("{}{}", apdu::hex_compact(&signed), apdu::hex_compact(&mac)),
    )
}

#[test]
fn df01_is_written_with_its_uk_and_read_with_its_rk_on_both_generations() {
    for profile in ["gen3", "gen2"] {
        let s = suite(profile);
        let mut c = builtin(profile);
        script(&mut c, &[(SELECT_SSSE, "9000"), (DF01, "9000")]);
        // Nothing authenticated: no write, no read.
        script(
            &mut c,
            &[("00DC013C03290132", "6982"), ("00B2013C03", "6982")],
        );
        // UK2DF01 (84) writes EF07; the read still needs the PIN or RK1DF01.
        assert_eq!(
            authenticate(&mut c, s, 0x84, &df_key(profile, "DF01", 0x84)),
            "9000"
        );
        script(
            &mut c,
            &[("00DC013C03290132", "9000"), ("00B2013C03", "6982")],
        );
        assert_eq!(
            authenticate(&mut c, s, 0x8E, &df_key(profile, "DF01", 0x8E)),
            "9000"
        );
        script(&mut c, &[("00B2013C03", "2901329000")]);
    }
}

#[test]
fn each_file_answers_to_its_own_uk_only() {
    let s = suite("gen3");
    let mut c = builtin("gen3");
    script(&mut c, &[(SELECT_SSSE, "9000"), (DF01, "9000")]);
    // UK1DF01 (83) writes EF05, not EF07 (UK2) nor EF06 (UK4).
    assert_eq!(
        authenticate(&mut c, s, 0x83, &df_key("gen3", "DF01", 0x83)),
        "9000"
    );
    script(
        &mut c,
        &[
            ("00DC012C0420023230", "9000"),
            ("00DC013C03290132", "6982"),
            ("00DC0134032401FF", "6982"),
        ],
    );
    // The reserved transparent EF16 is read freely, written with UK7DF01 (89).
    script(
        &mut c,
        &[("00B0960002", "00009000"), ("00D6960001AA", "6982")],
    );
    assert_eq!(
        authenticate(&mut c, s, 0x89, &df_key("gen3", "DF01", 0x89)),
        "9000"
    );
    script(
        &mut c,
        &[("00D6960001AA", "9000"), ("00B0960002", "AA009000")],
    );
}

#[test]
fn a_dfs_key_never_opens_another_dfs_files() {
    let s = suite("gen3");
    let mut c = builtin("gen3");
    // UK1DF02 (83 of DF02) authenticated; DF01's 83 was not.
    script(&mut c, &[(SELECT_SSSE, "9000"), (DF02, "9000")]);
    assert_eq!(
        authenticate(&mut c, s, 0x83, &df_key("gen3", "DF02", 0x83)),
        "9000"
    );
    script(&mut c, &[(DF01, "9000"), ("00DC012C0420023230", "6982")]);
    // DF02's key value does not authenticate as DF01's 83 (a wrong cryptogram, 63Cx).
    assert_eq!(
        authenticate(&mut c, s, 0x83, &df_key("gen3", "DF02", 0x83)),
        "63C2"
    );
    // In the SSSE a DF-specific id names no key: 6A88, no try spent anywhere.
    script(&mut c, &[(SELECT_SSSE, "9000")]);
    assert_eq!(
        authenticate(&mut c, s, 0x83, &df_key("gen3", "DF01", 0x83)),
        "6A88"
    );
    script(&mut c, &[(DF01, "9000")]);
    assert_eq!(
        authenticate(&mut c, s, 0x83, &df_key("gen3", "DF01", 0x83)),
        "9000"
    );
}

#[test]
fn an_ssse_key_never_opens_a_dfs_files() {
    let s = suite("gen3");
    let mut c = builtin("gen3");
    script(&mut c, &[(SELECT_SSSE, "9000")]);
    let uk = apdu::parse_hex(&ssse_key("gen3", 0x04)).unwrap();
    let rk = apdu::parse_hex(&ssse_key("gen3", 0x0A)).unwrap();
    assert_eq!(authenticate(&mut c, s, 0x04, &uk), "9000");
    assert_eq!(authenticate(&mut c, s, 0x0A, &rk), "9000");
    script(
        &mut c,
        &[
            (DF01, "9000"),
            ("00DC012C0420023230", "6982"),
            ("00B2012C04", "6982"),
            (DF07, "9000"),
            ("00B2012C04", "6982"),
        ],
    );
}

#[test]
fn secure_messaging_in_a_df_uses_its_stkdf() {
    let s = suite("gen3");
    let mut c = builtin("gen3");
    script(&mut c, &[(SELECT_SSSE, "9000"), (DF01, "9000")]);
    let stk_df = df_key("gen3", "DF01", 0x82);
    let stk = apdu::parse_hex(&ssse_key("gen3", 0x02)).unwrap();
    // A right STKDF01 MAC without UK2DF01: the update condition still applies.
    assert_eq!(secured(&mut c, s, &stk_df, "04DC013C", "290133"), "6982");
    assert_eq!(
        authenticate(&mut c, s, 0x84, &df_key("gen3", "DF01", 0x84)),
        "9000"
    );
    // The SSSE's STK does not MAC a DF01 write; nothing is written.
    assert_eq!(secured(&mut c, s, &stk, "04DC013C", "290133"), "6988");
    assert_eq!(secured(&mut c, s, &stk_df, "04DC013C", "290133"), "9000");
    assert_eq!(
        authenticate(&mut c, s, 0x8E, &df_key("gen3", "DF01", 0x8E)),
        "9000"
    );
    script(&mut c, &[("00B2013C03", "2901339000")]);
    // In the SSSE the STK (02) still MACs, and DF01's STKDF does not.
    let mut c = builtin("gen3");
    script(&mut c, &[(SELECT_SSSE, "9000")]);
    let uk = apdu::parse_hex(&ssse_key("gen3", 0x04)).unwrap();
    assert_eq!(authenticate(&mut c, s, 0x04, &uk), "9000");
    assert_eq!(
        secured(&mut c, s, &stk_df, "04DC052C", "050420240316"),
        "6988"
    );
    assert_eq!(secured(&mut c, s, &stk, "04DC052C", "050420240316"), "9000");
}

#[test]
fn df07_is_read_with_its_rk_only_and_df04_ef06_needs_pin_and_rk1() {
    let s = suite("gen3");
    let mut c = builtin("gen3");
    script(
        &mut c,
        &[
            (SELECT_SSSE, "9000"),
            ("0020000003123456", "9000"),
            (DF07, "9000"),
            ("00B2012C04", "6982"),
        ],
    );
    assert_eq!(
        authenticate(&mut c, s, 0x86, &df_key("gen3", "DF07", 0x86)),
        "9000"
    );
    // RK1DF07 opens EF05 only; EF06 wants RK2DF07.
    script(
        &mut c,
        &[("00B2012C04", "F00230319000"), ("00B2013400", "6982")],
    );
    let mut c = builtin("gen3");
    script(
        &mut c,
        &[(SELECT_SSSE, "9000"), ("00A4040C06D15600000503", "9000")],
    );
    assert_eq!(
        authenticate(&mut c, s, 0x84, &df_key("gen3", "DF04", 0x84)),
        "9000"
    );
    script(
        &mut c,
        &[
            ("00B2013403", "6982"),
            ("0020000003123456", "9000"),
            ("00B2013403", "9001309000"),
        ],
    );
}
