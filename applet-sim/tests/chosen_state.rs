//! Cards in a chosen state (issue 13; docs/CARD.md §4.5): a profile sets a PIN's or key's
//! tries left, a blocked application or a blocked card, and the card starts there. Each
//! chosen state is checked against the same card driven there by APDUs: the two hold the same
//! persistent state and answer a set of commands identically. Invalid values are refused with
//! the file, line and column of the field.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use applet_sim::crypto::{auth_cryptogram, pboc_mac, session_key, ssc_mac};
use applet_sim::model::CipherSuite;
use applet_sim::{Card, Profile};
use common::{GEN3, SELECT_SSSE, script, serial, x};

const BANK: &str = "A000000333010101";

/// The card value of key `id` of DF `parent` in the built-in gen3 (given there as a value or
/// derived from a master key: either way the profile holds the card's key).
fn key(parent: &str, id: u8) -> Vec<u8> {
    gen3()
        .keys
        .iter()
        .find(|k| k.parent == parent && k.id == id)
        .unwrap()
        .value
        .clone()
}

/// gen3 with `line` inserted after the first line containing `anchor` (the built-in's
/// commented examples are uncommented the same way).
fn edit(text: &str, anchor: &str, line: &str) -> String {
    let at = text.find(anchor).unwrap_or_else(|| panic!("{anchor:?}"));
    let end = at + text[at..].find('\n').unwrap() + 1;
    format!("{}{line}\n{}", &text[..end], &text[end..])
}

fn profile(text: &str) -> Profile {
    Profile::parse(text, "chosen.toml").unwrap()
}

fn gen3() -> Profile {
    profile(GEN3)
}

/// GET CHALLENGE, then the SSC-MAC'd class-84 command `header` (no data) under the SSSE's
/// key `key_id`.
fn ssc_command(card: &mut Card, header: &str, key_id: u8) -> String {
    let r = card.transmit(&apdu::parse_hex("0084000008").unwrap());
    let ks = session_key(CipherSuite::Sm4, &key("SSSE", key_id), &r[..8]).unwrap();
    let signed = apdu::parse_hex(&format!("{header}04")).unwrap();
    let mac = ssc_mac(CipherSuite::Sm4, &ks, &signed).unwrap();
    format!("{header}04{}", apdu::hex_compact(&mac))
}

/// GET CHALLENGE, then the PBOC-MAC'd command `header` under DAMK (the financial
/// application's key 01; IV = the challenge).
fn pboc_command(card: &mut Card, header: &str) -> String {
    let r = card.transmit(&apdu::parse_hex("0084000008").unwrap());
    let signed = apdu::parse_hex(&format!("{header}04")).unwrap();
    let mac = pboc_mac(&key("UNIONPAY", 0x01), &r[..8], &signed).unwrap();
    format!("{header}04{}", apdu::hex_compact(&mac))
}

/// GET CHALLENGE, then EXTERNAL AUTHENTICATE with key 0A (right or wrong); its status word.
fn external_auth_0a(card: &mut Card, right: bool) -> String {
    let r = card.transmit(&apdu::parse_hex("0084000008").unwrap());
    if r.len() != 10 {
        return apdu::hex_compact(&r);
    }
    let ks = session_key(CipherSuite::Sm4, &key("SSSE", 0x0A), &r[..8]).unwrap();
    let original = [0x11; 8];
    let mut auth = auth_cryptogram(CipherSuite::Sm4, &ks, &original).unwrap();
    if !right {
        auth[0] ^= 1;
    }
    x(
        card,
        &format!(
            "0082000A10{}{}",
            apdu::hex_compact(&auth),
            apdu::hex_compact(&original)
        ),
    )
}

/// The commands both cards answer: selections, reads, PIN queries and checks in each
/// application, a challenge (its status word only: the bytes are random), an external
/// authentication, a reset in between.
const PROBES: &[&str] = &[
    "00A4040000",
    "00A404000F7378312E73682EC9E7BBE1B1A3D5CF",
    "00C000001E",
    SELECT_SSSE,
    "00200000",
    "00B2012C12",
    "00B2013414",
    "0020000003123456",
    "00200000",
    "805E010007123456FF123456",
    "0020000003654321",
    "00200000",
    "0084000008",
    "RESET",
    "00A4040C08A000000333010101",
    "00A4040008A000000333010101",
    "00200000",
    "0020000003888888",
    "00B2010C00",
    "00B2010C21",
    "0084000008",
    "00A4040C0C504B492EC9E7BBE1B1A3D5CF",
    "00A4040C0C53532E434552542E41444631",
    "00200081",
    "RESET",
    SELECT_SSSE,
    "EXTAUTH",
    "00B2013414",
];

/// The chosen-state card and the driven card hold the same persistent state after a reset,
/// and answer every probe alike.
fn same_card(mut chosen: Card, mut driven: Card) {
    chosen.reset();
    driven.reset();
    assert!(
        chosen.same_persistent_state(&driven),
        "the chosen state differs from the driven one: {:?} / {:?}",
        chosen.counters(),
        driven.counters()
    );
    for probe in PROBES {
        let (a, b) = match *probe {
            "RESET" => {
                chosen.reset();
                driven.reset();
                continue;
            }
            "EXTAUTH" => (
                external_auth_0a(&mut chosen, true),
                external_auth_0a(&mut driven, true),
            ),
            "0084000008" => {
                let (a, b) = (x(&mut chosen, probe), x(&mut driven, probe));
                (a[a.len() - 4..].to_owned(), b[b.len() - 4..].to_owned())
            }
            cmd => (x(&mut chosen, cmd), x(&mut driven, cmd)),
        };
        assert_eq!(a, b, "{probe}: chosen {a}, driven {b}");
    }
    assert!(chosen.same_persistent_state(&driven));
}

#[test]
fn a_locked_pin_answers_6983_to_the_first_correct_verify() {
    let text = edit(GEN3, "unblock = \"issuer-key\"", "tries = 0");
    let mut card = Card::new(&profile(&text));
    script(
        &mut card,
        &[
            (SELECT_SSSE, "9000"),
            ("00200000", "6983"),
            ("0020000003123456", "6983"),
            ("805E010007123456FF123456", "6983"),
        ],
    );
    // As the card driven there: three wrong PINs.
    let mut driven = Card::new(&gen3());
    script(
        &mut driven,
        &[
            (SELECT_SSSE, "9000"),
            ("0020000003654321", "63C2"),
            ("0020000003654321", "63C1"),
            ("0020000003654321", "63C0"),
        ],
    );
    same_card(Card::new(&profile(&text)), driven);
}

#[test]
fn one_try_left_then_63c0_then_6983() {
    let text = edit(GEN3, "unblock = \"issuer-key\"", "tries = 1");
    let mut card = Card::new(&profile(&text));
    script(
        &mut card,
        &[
            (SELECT_SSSE, "9000"),
            ("00200000", "63C1"),
            ("0020000003654321", "63C0"),
            ("0020000003123456", "6983"),
        ],
    );
    // A correct PIN while a try is left restores the maximum, as on any card.
    let mut card = Card::new(&profile(&text));
    script(
        &mut card,
        &[
            (SELECT_SSSE, "9000"),
            ("0020000003123456", "9000"),
            ("00200000", "9000"),
        ],
    );
    card.reset();
    script(&mut card, &[(SELECT_SSSE, "9000"), ("00200000", "63C3")]);
    let mut driven = Card::new(&gen3());
    script(
        &mut driven,
        &[
            (SELECT_SSSE, "9000"),
            ("0020000003654321", "63C2"),
            ("0020000003654321", "63C1"),
        ],
    );
    same_card(Card::new(&profile(&text)), driven);
}

#[test]
fn a_locked_key_answers_as_a_key_locked_by_failures() {
    let text = edit(GEN3, "id = 0x0A ", "tries = 0");
    let mut chosen = Card::new(&profile(&text));
    script(&mut chosen, &[(SELECT_SSSE, "9000")]);
    assert_eq!(external_auth_0a(&mut chosen, true), "6983");
    let mut driven = Card::new(&gen3());
    script(&mut driven, &[(SELECT_SSSE, "9000")]);
    for want in ["63C2", "63C1", "63C0"] {
        assert_eq!(external_auth_0a(&mut driven, false), want);
    }
    same_card(Card::new(&profile(&text)), driven);
    // Two tries: one failure, then one left.
    let two = edit(GEN3, "id = 0x0A ", "tries = 2");
    let mut card = Card::new(&profile(&two));
    script(&mut card, &[(SELECT_SSSE, "9000")]);
    assert_eq!(external_auth_0a(&mut card, false), "63C1");
    assert_eq!(external_auth_0a(&mut card, true), "9000");
    assert_eq!(card.counters().1, Card::new(&gen3()).counters().1);
}

#[test]
fn a_blocked_ssse_answers_as_after_84_1e() {
    let text = edit(GEN3, "kind = \"ssse\"", "blocked = \"permanent\"");
    let mut chosen = Card::new(&profile(&text));
    script(
        &mut chosen,
        &[
            (SELECT_SSSE, "9303"),
            ("00A40000", "9000"),
            ("00A4040C08A000000333010101", "9000"),
        ],
    );
    let mut driven = Card::new(&gen3());
    script(&mut driven, &[(SELECT_SSSE, "9000")]);
    let block = ssc_command(&mut driven, "841E0001", 0x02);
    script(&mut driven, &[(&block, "9000"), (SELECT_SSSE, "9303")]);
    same_card(Card::new(&profile(&text)), driven);
}

#[test]
fn a_temporarily_blocked_bank_application_answers_as_after_84_1e_00_00() {
    let text = edit(GEN3, "kind = \"pboc\"", "blocked = \"temporary\"");
    let mut chosen = Card::new(&profile(&text));
    script(
        &mut chosen,
        &[
            (&format!("00A4040008{BANK}"), "6283"),
            ("0020000003888888", "6985"),
        ],
    );
    // It can be lifted with APPLICATION UNBLOCK, as a block made by 84 1E 00 00.
    let unblock = pboc_command(&mut chosen, "84180000");
    script(
        &mut chosen,
        &[(&unblock, "9000"), ("0020000003888888", "9000")],
    );
    let mut driven = Card::new(&gen3());
    script(&mut driven, &[(&format!("00A4040C08{BANK}"), "9000")]);
    let block = pboc_command(&mut driven, "841E0000");
    script(&mut driven, &[(&block, "9000")]);
    same_card(Card::new(&profile(&text)), driven);
    // Permanent in the financial application: 9303, as 84 1E 00 01 there.
    let text = edit(GEN3, "kind = \"pboc\"", "blocked = \"permanent\"");
    let mut driven = Card::new(&gen3());
    script(&mut driven, &[(&format!("00A4040C08{BANK}"), "9000")]);
    let block = pboc_command(&mut driven, "841E0001");
    script(
        &mut driven,
        &[(&block, "9000"), (&format!("00A4040C08{BANK}"), "9303")],
    );
    same_card(Card::new(&profile(&text)), driven);
}

#[test]
fn a_blocked_card_answers_as_after_84_16() {
    let text = GEN3.replacen("# blocked = true ", "blocked = true #", 1);
    let mut chosen = Card::new(&profile(&text));
    script(
        &mut chosen,
        &[(SELECT_SSSE, "6A81"), ("0084000008", "6A81")],
    );
    let mut driven = Card::new(&gen3());
    script(&mut driven, &[(SELECT_SSSE, "9000")]);
    let block = ssc_command(&mut driven, "84160000", 0x05);
    script(&mut driven, &[(&block, "9000")]);
    same_card(Card::new(&profile(&text)), driven);
}

/// On a state file the chosen state is the initial state: written when the file is made,
/// read back as it is.
#[test]
fn a_state_file_starts_in_the_chosen_state() {
    let _serial = serial();
    let dir = std::env::temp_dir().join(format!("ssc-chosen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("card.state");
    let text = edit(GEN3, "unblock = \"issuer-key\"", "tries = 1");
    let p = profile(&text);
    {
        let mut card = Card::open(&p, &path).unwrap();
        script(&mut card, &[(SELECT_SSSE, "9000"), ("00200000", "63C1")]);
    }
    let mut card = Card::open(&p, &path).unwrap();
    script(
        &mut card,
        &[
            (SELECT_SSSE, "9000"),
            ("0020000003654321", "63C0"),
            ("0020000003123456", "6983"),
        ],
    );
    drop(card);
    let mut card = Card::open(&p, &path).unwrap();
    script(&mut card, &[(SELECT_SSSE, "9000"), ("00200000", "6983")]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Each invalid chosen state is refused at its field: file, line, column and why.
#[test]
fn invalid_chosen_states_are_refused_at_their_field() {
    // The 1-based line and column of byte `at` of `text`.
    let place = |text: &str, at: usize| {
        let start = text[..at].rfind('\n').map_or(0, |n| n + 1);
        (text[..at].matches('\n').count() + 1, at - start + 1)
    };
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &str)] = &[
        // (anchor, inserted line, what the error points at, words of the message)
        ("unblock = \"issuer-key\"", "tries = 4", "4", "tries: 4 is more than max_tries 3"),
        ("id = 0x0A ", "tries = 9", "9", "tries: 9 is more than max_tries 3"),
        ("kind = \"ssse\"", "blocked = \"temporary\"", "\"temporary\"", "only the permanent block"),
        ("kind = \"ssse\"", "blocked = \"sometimes\"", "\"sometimes\"", "expected \"temporary\" or \"permanent\""),
        ("kind = \"pki\"", "blocked = \"permanent\"", "\"permanent\"", "kind pki has no APPLICATION BLOCK"),
        ("id = \"DF01\"", "blocked = \"permanent\"", "\"permanent\"", "directly under the MF"),
        ("unblock = \"issuer-key\"", "tries = -1", "-1", "integer `-1`, expected u8"),
        ("id = 0x00 ", "tries = 0", "0", "the IRK (key 00) has no try counter"),
    ];
    for (anchor, line, at, message) in cases {
        let text = edit(GEN3, anchor, line);
        let e = Profile::parse(&text, "bad.toml").unwrap_err();
        let anchored = text.find(anchor).unwrap();
        let field = anchored + text[anchored..].find(line).unwrap();
        let (want_line, value_col) = place(&text, field + line.find(at).unwrap());
        assert_eq!(e.line, want_line, "{line}: {e}");
        assert_eq!(e.column, value_col, "{line}: {e}");
        assert!(e.message.contains(message), "{line}: {e}");
        assert!(
            e.to_string()
                .starts_with(&format!("bad.toml:{want_line}:{value_col}: ")),
            "{e}"
        );
    }
    // A temporary block of the bank application needs its DAMK to lift it.
    let no_damk = edit(GEN3, "kind = \"pboc\"", "blocked = \"temporary\"").replacen(
        "id = 0x01             # DAMK",
        "id = 0x07             # not the DAMK",
        1,
    );
    let e = Profile::parse(&no_damk, "bad.toml").unwrap_err();
    assert!(e.message.contains("needs the application's DAMK"), "{e}");
    assert!(e.line > 0, "{e}");
    // `blocked` in [card] is a boolean.
    let text = GEN3.replacen("# blocked = true ", "blocked = \"yes\" #", 1);
    let e = Profile::parse(&text, "bad.toml").unwrap_err();
    assert!(e.message.contains("bool"), "{e}");
    assert_eq!(
        e.line,
        place(&text, text.find("blocked = \"yes\"").unwrap()).0
    );
}

/// The tries a profile gives are never more than the maximum: the most a profile can
/// choose is max_tries itself, which is the card as it would be anyway.
#[test]
fn tries_equal_to_max_tries_is_the_plain_card() {
    let text = edit(GEN3, "unblock = \"issuer-key\"", "tries = 3");
    let text = edit(&text, "id = 0x0A ", "tries = 3");
    let mut a = Card::new(&profile(&text));
    let b = Card::new(&gen3());
    assert!(a.same_persistent_state(&b));
    script(&mut a, &[(SELECT_SSSE, "9000"), ("00200000", "63C3")]);
}

/// Through `ssc-card serve` and a stand-in for vpcd (the framing of docs/PROTOCOLS.md §2.1,
/// as tests/vpcd.rs): a served profile whose SSSE PIN has 0 tries answers 6983 to the first
/// correct VERIFY, on a state file too.
#[test]
fn a_served_card_with_a_locked_pin_answers_6983() {
    let _serial = serial();
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::process::{Command, Stdio};

    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let dir = std::env::temp_dir().join(format!("ssc-chosen-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let locked = dir.join("locked.toml");
    std::fs::write(&locked, GEN3.replacen("# tries = 0 ", "tries = 0 #", 1)).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _serve = Kill(
        Command::new(env!("CARGO_BIN_EXE_ssc-card"))
            .args(["serve", "--vpcd", &format!("127.0.0.1:{port}"), "--profile"])
            .arg(&locked)
            .arg("--state")
            .arg(dir.join("card.state"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let (mut stream, _) = listener.accept().unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut exchange = |payload: &[u8]| {
        let mut frame = u16::try_from(payload.len()).unwrap().to_be_bytes().to_vec();
        frame.extend_from_slice(payload);
        stream.write_all(&frame).unwrap();
        let mut header = [0u8; 2];
        stream.read_exact(&mut header).unwrap();
        let mut body = vec![0; usize::from(u16::from_be_bytes(header))];
        stream.read_exact(&mut body).unwrap();
        apdu::hex_compact(&body)
    };
    // Get ATR (control message 4), then the APDUs.
    assert_eq!(exchange(&[4]).len(), 34);
    let mut apdu = |hex: &str| exchange(&apdu::parse_hex(hex).unwrap());
    assert_eq!(apdu(SELECT_SSSE), "9000");
    assert_eq!(apdu("0020000003123456"), "6983");
    assert_eq!(apdu("00200000"), "6983");
    drop(listener);
    let _ = std::fs::remove_dir_all(&dir);
}
