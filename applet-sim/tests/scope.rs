//! Access-control scope (docs/SECURITY.md, rule 8; issue "hardening" item 4): the security
//! status a file is checked against is that of the file's own DF, however the file was
//! selected; key ids are scoped to the DF that owns the key; the key that proves the card
//! (INTERNAL AUTHENTICATE) is never accepted to prove the terminal.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use applet_sim::crypto::{auth_cryptogram, session_key};
use applet_sim::model::CipherSuite;
use common::{fixture, script, x};

const DF01_KEY: &str = "84848484848484848484848484840101";
const DF02_KEY: &str = "84848484848484848484848484840202";
const APP_KEY: &str = "848484848484848484848484848400AA";
const ORIGINAL: [u8; 8] = [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11];

/// GET CHALLENGE, then EXTERNAL AUTHENTICATE with key id 04 computed with `key`.
fn authenticate_04(card: &mut applet_sim::Card, key: &str) -> String {
    let r = x(card, "0084000008");
    assert!(r.ends_with("9000"), "{r}");
    let challenge = apdu::parse_hex(&r[..16]).unwrap();
    let ks = session_key(CipherSuite::Sm4, &apdu::parse_hex(key).unwrap(), &challenge).unwrap();
    let auth = auth_cryptogram(CipherSuite::Sm4, &ks, &ORIGINAL).unwrap();
    let cmd = format!(
        "0082000410{}{}",
        apdu::hex_compact(&auth),
        apdu::hex_compact(&ORIGINAL)
    );
    x(card, &cmd)
}

#[test]
fn a_sub_dfs_key_opens_its_own_files_only() {
    let mut c = fixture("scoped");
    script(
        &mut c,
        &[
            ("00A4040C07A0000000010203", "9000"),
            ("00A4000C02DF01", "9000"),
        ],
    );
    assert_eq!(authenticate_04(&mut c, DF01_KEY), "9000");
    script(
        &mut c,
        &[
            ("00A4020C02EF11", "9000"),
            ("00B0000004", "111111119000"),
            // DF02 is in the same application, and its own key 04 was not authenticated.
            ("00A4000C02DF02", "9000"),
            ("00A4020C02EF21", "9000"),
            ("00B0000004", "6982"),
        ],
    );
}

#[test]
fn the_key_declared_nearest_the_current_df_answers_to_its_id() {
    let mut c = fixture("scoped");
    script(
        &mut c,
        &[
            ("00A4040C07A0000000010203", "9000"),
            ("00A4000C02DF01", "9000"),
        ],
    );
    // DF01's own key 04 is declared before the application's: still DF01's answers.
    assert_eq!(authenticate_04(&mut c, APP_KEY), "63C2");
    assert_eq!(authenticate_04(&mut c, DF01_KEY), "9000");
    // The application's EF02 (key:04 of the application), selected from DF01, stays shut.
    script(
        &mut c,
        &[("00A4000C02EF02", "9000"), ("00B0000002", "6982")],
    );
    // DF02's key is declared after the application's: DF02's answers there.
    script(
        &mut c,
        &[
            ("00A4040C07A0000000010203", "9000"),
            ("00A4000C02DF02", "9000"),
        ],
    );
    assert_eq!(authenticate_04(&mut c, APP_KEY), "63C2");
    assert_eq!(authenticate_04(&mut c, DF02_KEY), "9000");
    // DF03 has no key 04 of its own: the application's answers, and opens EF02.
    script(
        &mut c,
        &[
            ("00A4040C07A0000000010203", "9000"),
            ("00A4000C02DF03", "9000"),
        ],
    );
    assert_eq!(authenticate_04(&mut c, APP_KEY), "9000");
    script(
        &mut c,
        &[("00A4000C02EF02", "9000"), ("00B0000002", "A5A59000")],
    );
}

#[test]
fn a_sub_dfs_local_pin_does_not_open_the_parents_files() {
    let mut c = fixture("scoped");
    script(
        &mut c,
        &[
            ("00A4040C07A0000000010203", "9000"),
            ("00A4000C02DF01", "9000"),
            // DF01's own PIN.
            ("002000010211 11", "9000"),
            // The parent's EF selected from DF01 (a sibling of the current DF).
            ("00A4000C02EF01", "9000"),
            ("00B0000004", "6982"),
            // The application's PIN opens it.
            ("00A4040C07A0000000010203", "9000"),
            ("0020000003123456", "9000"),
            ("00A4020C02EF01", "9000"),
            ("00B0000004", "A1A2A3A49000"),
        ],
    );
}

#[test]
fn the_internal_authentication_key_never_authenticates_the_terminal() {
    let mut c = fixture("scoped");
    script(&mut c, &[("00A4040C07A0000000010203", "9000")]);
    // Reflection: the card's own INTERNAL AUTHENTICATE answer for (challenge, original)
    // is what EXTERNAL AUTHENTICATE with key 00 would expect.
    let r = x(&mut c, "0084000008");
    let challenge = &r[..16];
    let orig = apdu::hex_compact(&ORIGINAL);
    let internal = x(&mut c, &format!("0088000010{challenge}{orig}00"));
    assert!(internal.ends_with("9000"), "{internal}");
    let cryptogram = &internal[..16];
    assert_eq!(
        x(&mut c, &format!("0082000010{cryptogram}{orig}")),
        "6A88",
        "EXTERNAL AUTHENTICATE accepted the card's own cryptogram"
    );
}

#[test]
fn no_reflection_in_a_financial_application_either() {
    // The fixture with the application declared as the financial one: there key 00 is an
    // ordinary key, so INTERNAL AUTHENTICATE must not answer with it.
    let path = format!("{}/tests/fixtures/scoped.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("kind = \"ssse\"", "kind = \"pboc\"");
    let mut c = applet_sim::Card::new(&applet_sim::Profile::parse(&text, "pboc-scoped").unwrap());
    script(&mut c, &[("00A4040C07A0000000010203", "9000")]);
    let r = x(&mut c, "0084000008");
    let orig = apdu::hex_compact(&ORIGINAL);
    assert_eq!(
        x(&mut c, &format!("0088000010{}{orig}00", &r[..16])),
        "6A88"
    );
}

/// A DF-specific id (b8 set, Part 5 Table 14, docs/CARD.md §6.7) names a key of the current
/// DF only: the application's key 84 is not seen from DF03 (6A88), while its global key 04
/// is (the test above).
#[test]
fn a_df_specific_id_is_not_inherited() {
    let path = format!("{}/tests/fixtures/scoped.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("id = 0x04", "id = 0x84")
        .replace("key:04", "key:84");
    let mut c =
        applet_sim::Card::new(&applet_sim::Profile::parse(&text, "scoped-84.toml").unwrap());
    script(
        &mut c,
        &[
            ("00A4040C07A0000000010203", "9000"),
            ("00A4000C02DF03", "9000"),
        ],
    );
    let r = x(&mut c, "0084000008");
    assert!(r.ends_with("9000"), "{r}");
    assert_eq!(
        x(
            &mut c,
            "00820084108877665544332211 8877665544332211"
                .replace(' ', "")
                .as_str()
        ),
        "6A88"
    );
    // In DF01, its own 84.
    script(&mut c, &[("00A4000C02DF01", "9000")]);
    let r = x(&mut c, "0084000008");
    let challenge = apdu::parse_hex(&r[..16]).unwrap();
    let ks = session_key(
        CipherSuite::Sm4,
        &apdu::parse_hex(DF01_KEY).unwrap(),
        &challenge,
    )
    .unwrap();
    let auth = auth_cryptogram(CipherSuite::Sm4, &ks, &ORIGINAL).unwrap();
    let cmd = format!(
        "0082008410{}{}",
        apdu::hex_compact(&auth),
        apdu::hex_compact(&ORIGINAL)
    );
    assert_eq!(x(&mut c, &cmd), "9000");
}
