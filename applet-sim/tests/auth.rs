//! EXTERNAL and INTERNAL AUTHENTICATE end to end in process, with the terminal's side
//! computed by `applet_sim::crypto` (itself checked against docs/CARD.md §8's independently
//! computed vectors): reading EF06 of a 3.0 card after authentication with RKSSSE (key 0A),
//! and every failure path.

// Test helpers (outside #[test] functions) fail loudly on broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use applet_sim::crypto::{auth_cryptogram, session_key};
use applet_sim::model::CipherSuite;
use common::{SELECT_SSSE, builtin, script, ssse_key, x};

/// The built-in card of a suite.
fn profile_of(suite: CipherSuite) -> &'static str {
    if suite == CipherSuite::Sm4 {
        "gen3"
    } else {
        "gen2"
    }
}

const ORIGINAL: [u8; 8] = [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11];

/// GET CHALLENGE, then the EXTERNAL AUTHENTICATE command for `key` (hex) and key id.
fn ext_auth(
    card: &mut applet_sim::Card,
    suite: CipherSuite,
    key: &str,
    id: u8,
    tamper: bool,
) -> String {
    let r = x(card, "0084000008");
    assert!(r.ends_with("9000"), "{r}");
    let challenge = apdu::parse_hex(&r[..16]).unwrap();
    let ks = session_key(suite, &apdu::parse_hex(key).unwrap(), &challenge).unwrap();
    let mut auth = auth_cryptogram(suite, &ks, &ORIGINAL).unwrap();
    if tamper {
        auth[0] ^= 1;
    }
    format!(
        "008200{id:02X}10{}{}",
        apdu::hex_compact(&auth),
        apdu::hex_compact(&ORIGINAL)
    )
}

#[test]
fn ef06_after_external_authentication_with_key_0a() {
    let mut c = builtin("gen3");
    script(&mut c, &[(SELECT_SSSE, "9000"), ("00B2013414", "6982")]);
    let cmd = ext_auth(
        &mut c,
        CipherSuite::Sm4,
        &ssse_key("gen3", 0x0A),
        0x0A,
        false,
    );
    assert_eq!(x(&mut c, &cmd), "9000");
    // §7.1: 00A4020002EF06, then records by identifier 08, 09, 4E.
    script(&mut c, &[("00A4020002EF06", "9000")]);
    assert_eq!(&x(&mut c, "00B2080014")[..4], "0812");
    assert_eq!(&x(&mut c, "00B2090020")[..12], "091ECBD5C4FE");
    assert_eq!(
        x(&mut c, "00B24E0016"),
        format!("4E14{}9000", "00".repeat(20))
    );
    // EF07/EF08 too; writes still need key 04.
    assert!(x(&mut c, "00B0880004").starts_with("FFD8FFE0"));
    script(&mut c, &[("00DC0A3403 0A0132", "6982")]);
    // The authentication ends with a reset, and with another application.
    c.reset();
    script(&mut c, &[(SELECT_SSSE, "9000"), ("00B2013414", "6982")]);
    let cmd = ext_auth(
        &mut c,
        CipherSuite::Sm4,
        &ssse_key("gen3", 0x0A),
        0x0A,
        false,
    );
    script(
        &mut c,
        &[
            (&cmd, "9000"),
            ("00A4040C0C504B492EC9E7BBE1B1A3D5CF", "9000"),
            (SELECT_SSSE, "9000"),
            ("00B2013414", "6982"),
        ],
    );
}

#[test]
fn gen2_des_authentication() {
    let mut c = builtin("gen2");
    script(&mut c, &[(SELECT_SSSE, "9000"), ("00B0870004", "6982")]);
    let cmd = ext_auth(
        &mut c,
        CipherSuite::Des3,
        &ssse_key("gen2", 0x0A),
        0x0A,
        false,
    );
    assert_eq!(x(&mut c, &cmd), "9000");
    assert_eq!(x(&mut c, "00B0870004"), "000000009000");
}

#[test]
fn failure_paths() {
    let mut c = builtin("gen3");
    script(&mut c, &[(SELECT_SSSE, "9000")]);
    let good = ext_auth(
        &mut c,
        CipherSuite::Sm4,
        &ssse_key("gen3", 0x0A),
        0x0A,
        false,
    );
    // The challenge is single use: a second try with the same cryptogram has none.
    script(&mut c, &[(&good, "9000"), (&good, "6984")]);
    // No challenge at all, after a reset.
    c.reset();
    script(&mut c, &[(SELECT_SSSE, "9000"), (&good, "6984")]);
    // Unknown key id, bad lengths and parameters: nothing counted.
    let _ = x(&mut c, "0084000008");
    script(
        &mut c,
        &[
            ("0082000710 00000000000000000000000000000000", "6A88"),
            ("0082000A0F 000000000000000000000000000000", "6700"),
            ("0082000A12 000000000000000000000000000000000000", "6700"),
            ("0082010A10 00000000000000000000000000000000", "6A86"),
            ("0082000A11 00000000000000000000000000000000 00", "6A88"),
        ],
    );
    // Wrong cryptograms: 63C2, 63C1, 63C0, then blocked even for the right one.
    for left in ["63C2", "63C1", "63C0"] {
        let bad = ext_auth(
            &mut c,
            CipherSuite::Sm4,
            &ssse_key("gen3", 0x0A),
            0x0A,
            true,
        );
        assert_eq!(x(&mut c, &bad), left);
    }
    let good = ext_auth(
        &mut c,
        CipherSuite::Sm4,
        &ssse_key("gen3", 0x0A),
        0x0A,
        false,
    );
    assert_eq!(x(&mut c, &good), "6983");
    // Blocked across a reset; other keys unaffected (key 04 with its version byte 01).
    c.reset();
    script(&mut c, &[(SELECT_SSSE, "9000")]);
    let good = ext_auth(
        &mut c,
        CipherSuite::Sm4,
        &ssse_key("gen3", 0x0A),
        0x0A,
        false,
    );
    assert_eq!(x(&mut c, &good), "6983");
    let uk = ext_auth(
        &mut c,
        CipherSuite::Sm4,
        &ssse_key("gen3", 0x04),
        0x04,
        false,
    );
    let with_version = format!("{}01", uk.replacen("0082000410", "0082000411", 1));
    assert_eq!(x(&mut c, &with_version), "9000");
    // A right cryptogram after a wrong one restores the counter.
    for (tamper, want) in [(true, "63C2"), (false, "9000"), (true, "63C2")] {
        let cmd = ext_auth(
            &mut c,
            CipherSuite::Sm4,
            &ssse_key("gen3", 0x04),
            0x04,
            tamper,
        );
        assert_eq!(x(&mut c, &cmd), want);
    }
}

#[test]
fn internal_authentication_with_the_irk() {
    let mut c = builtin("gen3");
    script(&mut c, &[(SELECT_SSSE, "9000")]);
    // §7.1's shape: 0088000010 R1 ‖ R2, T=0: the 8 bytes wait behind 61 08.
    let r1 = apdu::parse_hex("32D9E876ADB31BBF").unwrap();
    let r2: [u8; 8] = apdu::parse_hex("DBF7A936D0D18C9E")
        .unwrap()
        .try_into()
        .unwrap();
    script(
        &mut c,
        &[("008800001032D9E876ADB31BBFDBF7A936D0D18C9E", "6108")],
    );
    let ks = session_key(
        CipherSuite::Sm4,
        &apdu::parse_hex(&ssse_key("gen3", 0x00)).unwrap(),
        &r1,
    )
    .unwrap();
    let want = apdu::hex_compact(&auth_cryptogram(CipherSuite::Sm4, &ks, &r2).unwrap());
    assert_eq!(x(&mut c, "00C0000008"), format!("{want}9000"));
    script(
        &mut c,
        &[
            ("0088010010 00000000000000000000000000000000", "6A86"),
            ("008800000F 000000000000000000000000000000", "6700"),
        ],
    );
    // At the MF there is no IRK.
    c.reset();
    script(
        &mut c,
        &[("008800001032D9E876ADB31BBFDBF7A936D0D18C9E", "6A88")],
    );
}

/// The terminal's `84 24 00 P2` after a fresh challenge: the new PIN (BCD) enciphered, MACed.
fn pin_unblock(
    card: &mut applet_sim::Card,
    suite: CipherSuite,
    new_pin: Option<&str>,
    tamper: bool,
) -> String {
    use applet_sim::crypto::{encrypt_data, ssc_mac};
    let r = x(card, "0084000008");
    let challenge = apdu::parse_hex(&r[..16]).unwrap();
    let ks = session_key(
        suite,
        &apdu::parse_hex(&ssse_key(profile_of(suite), 0x02)).unwrap(),
        &challenge,
    )
    .unwrap();
    let enc = match new_pin {
        Some(p) => encrypt_data(suite, &ks, &apdu::parse_hex(p).unwrap()).unwrap(),
        None => Vec::new(),
    };
    let mut cmd = vec![
        0x84,
        0x24,
        0x00,
        u8::from(new_pin.is_some()),
        u8::try_from(enc.len() + 4).unwrap(),
    ];
    cmd.extend(&enc);
    let mut mac = ssc_mac(suite, &ks, &cmd).unwrap();
    if tamper {
        mac[3] ^= 0x80;
    }
    cmd.extend(mac);
    apdu::hex_compact(&cmd)
}

fn block_ssse_pin(c: &mut applet_sim::Card) {
    script(
        c,
        &[
            (SELECT_SSSE, "9000"),
            ("0020000003000000", "63C2"),
            ("0020000003000000", "63C1"),
            ("0020000003000000", "63C0"),
            ("0020000003123456", "6983"),
        ],
    );
}

#[test]
fn service_centre_pin_reset_and_unblock() {
    for (profile, suite) in [("gen3", CipherSuite::Sm4), ("gen2", CipherSuite::Des3)] {
        let mut c = builtin(profile);
        block_ssse_pin(&mut c);
        // Without the PUK key's authentication: 6982.
        let cmd = pin_unblock(&mut c, suite, Some("654321"), false);
        assert_eq!(x(&mut c, &cmd), "6982", "{profile}");
        // Authenticate with the PUK key (06), take a fresh challenge, set 654321 (§7.1's flow).
        let auth = ext_auth(&mut c, suite, &ssse_key(profile, 0x06), 0x06, false);
        assert_eq!(x(&mut c, &auth), "9000", "{profile}");
        // A bad MAC: 6988, nothing changed, and the challenge is used up.
        let bad = pin_unblock(&mut c, suite, Some("654321"), true);
        assert_eq!(x(&mut c, &bad), "6988", "{profile}");
        assert_eq!(x(&mut c, &bad), "6984", "{profile}");
        script(&mut c, &[("00200000", "6983")]);
        let good = pin_unblock(&mut c, suite, Some("654321"), false);
        assert_eq!(x(&mut c, &good), "9000", "{profile}");
        script(
            &mut c,
            &[
                ("00200000", "63C3"),
                ("0020000003123456", "63C2"),
                ("0020000003654321", "9000"),
            ],
        );
        // Unblock only (P2 = 00): the counter is restored, the PIN kept.
        block_ssse_pin(&mut c);
        let unblock = pin_unblock(&mut c, suite, None, false);
        assert_eq!(x(&mut c, &unblock), "9000", "{profile}");
        script(&mut c, &[("0020000003654321", "9000")]);
    }
}

#[test]
fn pin_unblock_failure_paths() {
    let mut c = builtin("gen3");
    script(&mut c, &[(SELECT_SSSE, "9000")]);
    let auth = ext_auth(
        &mut c,
        CipherSuite::Sm4,
        &ssse_key("gen3", 0x06),
        0x06,
        false,
    );
    script(
        &mut c,
        &[
            (&auth, "9000"),
            // No challenge since the authentication used it.
            ("8424000004 00000000", "6984"),
            // Malformed: no MAC (6987), P2 00 with data, P2 01 without, bad P1/P2, an Le.
            ("84240000", "6987"),
            ("8424000003 000000", "6987"),
            ("8424000008 0000000000000000", "6700"),
            ("8424000104 00000000", "6700"),
            ("8424010004 00000000", "6A86"),
            ("8424000204 00000000", "6A86"),
            ("8424000004 00000000 00", "6700"),
        ],
    );
    // A new PIN that is not BCD, under a good MAC: 6A80, PIN unchanged.
    let cmd = pin_unblock(&mut c, CipherSuite::Sm4, Some("12AB56"), false);
    script(&mut c, &[(&cmd, "6A80"), ("0020000003123456", "9000")]);
    // Not in the PKI application (its PIN has a PUK): 6D00.
    script(
        &mut c,
        &[
            ("00A4040C0C53532E434552542E41444631", "9000"),
            ("8424000004 00000000", "6D00"),
        ],
    );
}

/// gen3 (its keys in version 01) with a second UKSSSE (key 04) and a second IRK (00) in
/// version 02, each with its own value, after the version-01 ones.
fn gen3_with_version_02() -> applet_sim::Card {
    let mut text = applet_sim::profile::builtin_text("gen3")
        .unwrap()
        .to_owned();
    text.push_str(&format!(
        "\n[[key]]\nparent = \"SSSE\"\nid = 0x04\nversion = 2\nvalue = \"{UK_V02}\"\n\
         [[key]]\nparent = \"SSSE\"\nid = 0x00\nversion = 2\nvalue = \"{IRK_V02}\"\n"
    ));
    applet_sim::Card::new(&applet_sim::Profile::parse(&text, "gen3+v02").unwrap())
}

const UK_V02: &str = "0123456789ABCDEFFEDCBA9876543210";
const IRK_V02: &str = "00112233445566778899AABBCCDDEEFF";

/// The 3.0 form of docs/CARD.md §7.4 (SSC-CARD.md §7.4, S16): one challenge R serves as both
/// session-key input and original data, `0082000411 (E[0..8] ⊕ E[8..16]) R <version>`.
fn ext_auth_7_4(card: &mut applet_sim::Card, key: &str, version: u8) -> String {
    let r = x(card, "0084000008");
    assert!(r.ends_with("9000"), "{r}");
    let challenge = apdu::parse_hex(&r[..16]).unwrap();
    let ks = session_key(CipherSuite::Sm4, &apdu::parse_hex(key).unwrap(), &challenge).unwrap();
    let original: [u8; 8] = challenge.as_slice().try_into().unwrap();
    let auth = auth_cryptogram(CipherSuite::Sm4, &ks, &original).unwrap();
    format!(
        "0082000411{}{}{version:02X}",
        apdu::hex_compact(&auth),
        &r[..16]
    )
}

#[test]
fn keys_are_found_by_id_and_version() {
    // The built-in gen3 holds its keys in version 01: §7.4's 3.0 sequence, byte for byte,
    // then a write by record number.
    let mut c = builtin("gen3");
    let uk = ssse_key("gen3", 0x04);
    script(&mut c, &[(SELECT_SSSE, "9000")]);
    let cmd = ext_auth_7_4(&mut c, &uk, 0x01);
    assert_eq!(x(&mut c, &cmd), "9000");
    script(
        &mut c,
        &[
            ("00A4020C02EF05", "9000"),
            ("00DC050406050420240316", "9000"),
            ("00B2050406", "0504202403169000"),
        ],
    );
    // Version 00 is not held: 6A88, before the challenge is used, nothing counted.
    let mut c = builtin("gen3");
    script(&mut c, &[(SELECT_SSSE, "9000")]);
    let cmd = ext_auth_7_4(&mut c, &uk, 0x00);
    assert_eq!(x(&mut c, &cmd), "6A88");
    let with_01 = format!("{}01", &cmd[..cmd.len() - 2]);
    assert_eq!(x(&mut c, &with_01), "9000");

    // Two versions of key 04: each cryptogram under its own version.
    let mut c = gen3_with_version_02();
    script(&mut c, &[(SELECT_SSSE, "9000")]);
    let cmd = ext_auth_7_4(&mut c, UK_V02, 0x02);
    assert_eq!(x(&mut c, &cmd), "9000");
    // The version-02 cryptogram under version 01 is a wrong one for that key (counted).
    let cmd = ext_auth_7_4(&mut c, UK_V02, 0x01);
    assert_eq!(x(&mut c, &cmd), "63C2");
    // A version the card does not hold: 6A88, nothing counted.
    let cmd = ext_auth_7_4(&mut c, UK_V02, 0x03);
    assert_eq!(x(&mut c, &cmd), "6A88");
    // Without the version byte: the first declared (version 01), whose counter is restored.
    let cmd = ext_auth_7_4(&mut c, &uk, 0x00);
    let without = cmd[..cmd.len() - 2].replacen("0082000411", "0082000410", 1);
    assert_eq!(x(&mut c, &without), "9000");
    // INTERNAL AUTHENTICATE with version 02 answers under the version-02 IRK.
    let r1 = [0x32, 0xD9, 0xE8, 0x76, 0xAD, 0xB3, 0x1B, 0xBF];
    let r2 = [0xDB, 0xF7, 0xA9, 0x36, 0xD0, 0xD1, 0x8C, 0x9E];
    let ks = session_key(CipherSuite::Sm4, &apdu::parse_hex(IRK_V02).unwrap(), &r1).unwrap();
    let want = auth_cryptogram(CipherSuite::Sm4, &ks, &r2).unwrap();
    let cmd = format!(
        "0088000011{}{}02",
        apdu::hex_compact(&r1),
        apdu::hex_compact(&r2)
    );
    // T=0: the answer waits behind 6108 (docs/CARD.md §4.3).
    script(&mut c, &[(&cmd, "6108")]);
    assert_eq!(
        x(&mut c, "00C0000008"),
        format!("{}9000", apdu::hex_compact(&want))
    );
    // Without it: the first declared IRK (version 01), a different answer.
    let without = cmd[..cmd.len() - 2].replacen("0088000011", "0088000010", 1);
    script(&mut c, &[(&without, "6108")]);
    let answer = x(&mut c, "00C0000008");
    assert!(answer.ends_with("9000") && answer.len() == 20, "{answer}");
    assert_ne!(answer, format!("{}9000", apdu::hex_compact(&want)));
    let cmd03 = format!("{}03", &cmd[..cmd.len() - 2]);
    assert_eq!(x(&mut c, &cmd03), "6A88");
}

/// With two versions of the PUK key (06), the version the terminal authenticated with opens
/// `84 24` (attack finding: only the first-declared version did).
#[test]
fn any_authenticated_version_of_the_puk_key_opens_the_pin_reset() {
    let mut text = applet_sim::profile::builtin_text("gen3")
        .unwrap()
        .to_owned();
    text.push_str(&format!(
        "\n[[key]]\nparent = \"SSSE\"\nid = 0x06\nversion = 2\nvalue = \"{UK_V02}\"\n"
    ));
    let mut c = applet_sim::Card::new(&applet_sim::Profile::parse(&text, "puk-v02").unwrap());
    script(
        &mut c,
        &[(SELECT_SSSE, "9000"), ("0020000003654321", "63C2")],
    );
    // §7.4's form with key 06 instead of 04.
    let cmd = ext_auth_7_4(&mut c, UK_V02, 0x02).replacen("0082000411", "0082000611", 1);
    assert_eq!(x(&mut c, &cmd), "9000");
    let unblock = pin_unblock(&mut c, CipherSuite::Sm4, None, false);
    script(&mut c, &[(&unblock, "9000"), ("00200000", "63C3")]);
}

/// An IRK (key 00) the MF holds is not a terminal key where an application inherits it
/// (attack finding: the financial application spent its tries on EXTERNAL AUTHENTICATE).
#[test]
fn an_inherited_irk_stays_an_irk() {
    let mut text = applet_sim::profile::builtin_text("gen3")
        .unwrap()
        .to_owned();
    text.push_str(&format!(
        "\n[[key]]\nparent = \"MF\"\nid = 0x00\nvalue = \"{IRK_V02}\"\n"
    ));
    let mut c = applet_sim::Card::new(&applet_sim::Profile::parse(&text, "mf-irk").unwrap());
    script(&mut c, &[("00A4040C08A000000333010101", "9000")]);
    assert_eq!(x(&mut c, "0084000008").len(), 20);
    script(
        &mut c,
        &[("0082000010 00000000000000000000000000000000", "6A88")],
    );
}
