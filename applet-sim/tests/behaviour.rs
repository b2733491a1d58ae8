//! The behaviour variants (docs/CARD.md §9.9): each option changes the answer it documents
//! and nothing else; the defaults are the card as before.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use applet_sim::crypto::{session_key, ssc_mac};
use applet_sim::model::CipherSuite;
use applet_sim::{Card, Profile};
use common::{GEN3, SELECT_SSSE, script, ssse_key, x};

/// gen3 with `[behaviour]` `name = "value"`.
fn with(name: &str, value: &str) -> Card {
    let text = format!("{GEN3}\n[behaviour]\n{name} = \"{value}\"\n");
    Card::new(&Profile::parse(&text, "variant").unwrap())
}

fn gen3() -> Card {
    Card::new(&Profile::builtin("gen3").unwrap())
}

#[test]
fn verify_query_once_verified() {
    for (card, want) in [
        (gen3(), "9000"),
        (with("verify_query_verified", "63Cx"), "63C3"),
    ] {
        let mut c = card;
        script(
            &mut c,
            &[
                (SELECT_SSSE, "9000"),
                ("00200000", "63C3"),
                ("0020000003123456", "9000"),
                ("00200000", want),
                ("0020000000", want),
            ],
        );
    }
}

#[test]
fn select_mf_with_or_without_fci() {
    let mut c = gen3();
    script(
        &mut c,
        &[("00A40000023F00", "9000"), ("00A4000000", "9000")],
    );
    let mut c = with("select_mf", "fci");
    // T=0: the FCI waits behind 61 06.
    script(
        &mut c,
        &[
            ("00A40000023F00", "6106"),
            ("00C0000006", "6F0483023F009000"),
            ("00A4000C023F00", "9000"),
            // Case 2 (Le, no data) under T=0: the exact length first.
            ("00A4000000", "6C06"),
        ],
    );
}

#[test]
fn wrong_le_under_t0() {
    // EF05 record 1 (18 bytes) by SFI: Le 00 and Le 20 (too long) answer 6C12 by default,
    // the data with the variant; Le 10 (too short) answers 6C12 in both.
    let mut c = gen3();
    script(
        &mut c,
        &[
            (SELECT_SSSE, "9000"),
            ("00B2012C00", "6C12"),
            ("00B2012C20", "6C12"),
            ("00B2012C10", "6C12"),
        ],
    );
    let mut c = with("wrong_le", "data");
    script(&mut c, &[(SELECT_SSSE, "9000")]);
    let exact = x(&mut c, "00B2012C12");
    assert!(exact.ends_with("9000") && exact.len() == 40, "{exact}");
    script(
        &mut c,
        &[
            ("00B2012C00", &exact),
            ("00B2012C20", &exact),
            ("00B2012C10", "6C12"),
        ],
    );
}

/// `84 1E 00 01` (APPLICATION BLOCK) with a MAC under the STK over the current challenge;
/// `tamper` spoils it.
fn block_app(c: &mut Card, tamper: bool) -> String {
    let r = x(c, "0084000008");
    let challenge = apdu::parse_hex(&r[..16]).unwrap();
    let stk = apdu::parse_hex(&ssse_key("gen3", 0x02)).unwrap();
    let ks = session_key(CipherSuite::Sm4, &stk, &challenge).unwrap();
    let cmd = [0x84, 0x1E, 0x00, 0x01, 0x04];
    let mut mac = ssc_mac(CipherSuite::Sm4, &ks, &cmd).unwrap();
    if tamper {
        mac[0] ^= 0x01;
    }
    format!("{}{}", apdu::hex_compact(&cmd), apdu::hex_compact(&mac))
}

#[test]
fn mac_failure_costs_a_key_try_only_with_the_variant() {
    // Default: wrong MACs cost nothing, the STK never locks.
    let mut c = gen3();
    script(&mut c, &[(SELECT_SSSE, "9000")]);
    for _ in 0..4 {
        let cmd = block_app(&mut c, true);
        assert_eq!(x(&mut c, &cmd), "6988");
    }
    assert_eq!(c.counters(), gen3().counters());
    // key-try: each wrong MAC spends a try of the STK (02), a right one gives them back.
    let mut c = with("mac_failure", "key-try");
    let fresh = c.counters();
    script(&mut c, &[(SELECT_SSSE, "9000")]);
    let cmd = block_app(&mut c, true);
    assert_eq!(x(&mut c, &cmd), "6988");
    assert_ne!(c.counters(), fresh);
    // The right MAC restores the counter (and blocks the application).
    let cmd = block_app(&mut c, false);
    assert_eq!(x(&mut c, &cmd), "9000");
    assert_eq!(c.counters(), fresh);
    // Three wrong MACs lock the STK: then 6983, before the challenge is used.
    let mut c = with("mac_failure", "key-try");
    script(&mut c, &[(SELECT_SSSE, "9000")]);
    for _ in 0..3 {
        let cmd = block_app(&mut c, true);
        assert_eq!(x(&mut c, &cmd), "6988");
    }
    let cmd = block_app(&mut c, false);
    assert_eq!(x(&mut c, &cmd), "6983");
    assert!(c.current_challenge().is_some());
}

#[test]
fn a_failed_command_drops_the_challenge_only_with_the_variant() {
    for (card, kept) in [
        (gen3(), true),
        (with("challenge_after_error", "dropped"), false),
    ] {
        let mut c = card;
        script(&mut c, &[(SELECT_SSSE, "9000")]);
        let _ = x(&mut c, "0084000008");
        // A failing SELECT (6A82) in the same application.
        script(&mut c, &[("00A4020C02EF99", "6A82")]);
        assert_eq!(c.current_challenge().is_some(), kept);
        // A successful command keeps it either way.
        let _ = x(&mut c, "0084000008");
        assert!(x(&mut c, "00B2012C12").ends_with("9000"));
        assert!(c.current_challenge().is_some());
    }
}

#[test]
fn select_ef_with_p1_00() {
    let mut c = gen3();
    script(&mut c, &[(SELECT_SSSE, "9000"), ("00A4000C02EF05", "9000")]);
    let mut c = with("select_ef_by_p1_00", "df-only");
    script(
        &mut c,
        &[
            (SELECT_SSSE, "9000"),
            ("00A4000C02EF05", "6A82"),
            ("00A4020C02EF05", "9000"),
            // DFs and the MF still by P1 = 00.
            ("00A4000C02DF01", "9000"),
            ("00A4000C023F00", "9000"),
        ],
    );
}

#[test]
fn bad_behaviour_tables_name_the_line() {
    for (table, message) in [
        ("select_mf = \"sometimes\"", "select_mf"),
        ("no_such = \"fci\"", "no_such"),
        ("wrong_le = 3", "invalid type"),
    ] {
        let text = format!("{GEN3}\n[behaviour]\n{table}\n");
        let e = Profile::parse(&text, "variant").unwrap_err();
        let shown = e.to_string();
        assert!(shown.contains(message), "{shown}");
        assert!(e.line > 400, "{shown}");
    }
    // Only options that differ from the default change the declaration's digest.
    let default = Profile::builtin("gen3").unwrap();
    let same = Profile::parse(
        &format!("{GEN3}\n[behaviour]\nselect_mf = \"no-fci\"\n"),
        "same",
    )
    .unwrap();
    let other = Profile::parse(
        &format!("{GEN3}\n[behaviour]\nselect_mf = \"fci\"\n"),
        "other",
    )
    .unwrap();
    assert_eq!(default.digest(), same.digest());
    assert_ne!(default.digest(), other.digest());
}

/// `challenge_after_error = "dropped"`: every answer but 9000 and 61xx drops it — a
/// malformed APDU's 6700 and a `6Cxx` too (attack finding: they kept it).
#[test]
fn every_error_answer_drops_the_challenge() {
    for (error, answer) in [
        ("00B000", "6700"),
        ("00B2012C02", "6C12"),
        ("00A4020C02EF99", "6A82"),
    ] {
        let mut c = with("challenge_after_error", "dropped");
        script(&mut c, &[(SELECT_SSSE, "9000")]);
        let _ = x(&mut c, "0084000008");
        script(&mut c, &[(error, answer)]);
        assert!(c.current_challenge().is_none(), "{error}");
        // The default keeps it.
        let mut c = gen3();
        script(&mut c, &[(SELECT_SSSE, "9000")]);
        let _ = x(&mut c, "0084000008");
        script(&mut c, &[(error, answer)]);
        assert!(c.current_challenge().is_some(), "{error}");
    }
}

/// `wrong_le = "data"` applies to GET RESPONSE too: Le 00 or longer gets what is pending.
#[test]
fn get_response_with_a_long_le() {
    let select_fci = "00A404000F7378312E73682EC9E7BBE1B1A3D5CF";
    let mut c = gen3();
    script(&mut c, &[(select_fci, "611E"), ("00C0000000", "6C1E")]);
    let mut c = with("wrong_le", "data");
    assert_eq!(x(&mut c, select_fci), "611E");
    let fci = x(&mut c, "00C0000000");
    assert!(
        fci.starts_with("6F1C") && fci.ends_with("9000") && fci.len() == 64,
        "{fci}"
    );
    // Nothing pending after it.
    script(&mut c, &[("00C0000000", "6F00")]);
}
