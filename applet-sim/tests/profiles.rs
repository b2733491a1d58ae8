//! Card profiles: the built-ins are what the issue and docs/CARD.md say, and a broken profile
//! is refused with file, line, column and reason.

// Test helpers (outside #[test] functions) fail loudly on broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use applet_sim::Profile;
use applet_sim::model::{AppKind, CipherSuite, Protocol};
use common::{SELECT_SSSE, builtin, script, x};

#[test]
fn gen3_matches_the_spec_layout() {
    let p = Profile::builtin("gen3").unwrap();
    assert_eq!((p.protocol, p.cipher), (Protocol::T0, CipherSuite::Sm4));
    // §2: 3B 6D 00 00 + 13 historical bytes, T8-T9 = 32 01, serial in the last four.
    assert_eq!(&p.atr[..4], [0x3B, 0x6D, 0x00, 0x00]);
    assert_eq!(p.atr.len(), 17);
    assert_eq!(&p.atr[11..13], [0x32, 0x01]);
    let serial = &p.atr[13..17];
    let mut card = Card::new(&p);
    let rec1 = card_record(&mut card, "00B2012C12");
    // Card identification code: 320100 ‖ D156000005 ‖ serial ‖ 4 bytes.
    assert_eq!(&rec1[2..5], [0x32, 0x01, 0x00]);
    assert_eq!(&rec1[5..10], [0xD1, 0x56, 0x00, 0x00, 0x05]);
    assert_eq!(&rec1[10..14], serial);
    // Applications and their kinds.
    let kinds: Vec<_> = p.dfs.iter().filter_map(|d| d.kind).collect();
    assert_eq!(kinds, [AppKind::Ssse, AppKind::Pboc, AppKind::Pki]);
    for aid in [
        "D15600000500",
        "D15600000501",
        "D15600000502",
        "D15600000503",
        "D15600000504",
    ] {
        let name = apdu::parse_hex(aid).unwrap();
        assert!(
            p.dfs.iter().any(|d| d.name.as_deref() == Some(&name[..])),
            "{aid}"
        );
    }
}

use applet_sim::Card;

fn card_record(card: &mut Card, read: &str) -> Vec<u8> {
    assert_eq!(x(card, SELECT_SSSE), "9000");
    let r = card.transmit(&apdu::parse_hex(read).unwrap());
    assert_eq!(&r[r.len() - 2..], [0x90, 0x00]);
    r[..r.len() - 2].to_vec()
}

#[test]
fn gen3_and_gen2_differ_where_the_generations_do() {
    let mut g3 = builtin("gen3");
    let mut g2 = builtin("gen2");
    // FCI algorithm flag: 03 SM4 vs 01 DES (§1).
    script(
        &mut g3,
        &[
            ("00A404000F7378312E73682EC9E7BBE1B1A3D5CF", "611E"),
            (
                "00C000001E",
                "6F1C840F7378312E73682EC9E7BBE1B1A3D5CFA50988011E9F0C03860103 9000",
            ),
        ],
    );
    script(
        &mut g2,
        &[
            ("00A404000F7378312E73682EC9E7BBE1B1A3D5CF", "611E"),
            (
                "00C000001E",
                "6F1C840F7378312E73682EC9E7BBE1B1A3D5CFA50988011E9F0C03860101 9000",
            ),
        ],
    );
    // Spec version "3.00" vs "2.00".
    script(&mut g3, &[("00B2032C06", "0304332E3030 9000")]);
    script(&mut g2, &[("00B2032C06", "0304322E3030 9000")]);
    // EF06: key 0A on gen3, free on gen2 (§3.3, §7.3: 00B201055B reads the whole EF06).
    script(&mut g3, &[("00B2013414", "6982")]);
    assert!(x(&mut g2, "00B201355B").ends_with("9000"));
    assert_eq!(x(&mut g2, "00B201355B").len(), (0x5B + 2) * 2);
    // gen2 has no PKI application.
    script(&mut g3, &[("00A4040C0C504B492EC9E7BBE1B1A3D5CF", "9000")]);
    script(&mut g2, &[("00A4040C0C504B492EC9E7BBE1B1A3D5CF", "6A82")]);
    assert_eq!(Profile::builtin("gen2").unwrap().cipher, CipherSuite::Des3);
}

#[test]
fn builtins_print_as_editable_files_that_parse_back() {
    for (name, text) in applet_sim::profile::BUILTIN {
        let a = Profile::builtin(name).unwrap();
        let b = Profile::parse(text, "copy").unwrap();
        assert_eq!(a.dfs, b.dfs);
        assert_eq!(a.efs, b.efs);
        assert_eq!(a.pins, b.pins);
    }
}

const GOOD: &str = r#"[card]
description = "t"
atr = "3B 00"
protocol = "T=0"
cipher = "sm4"

[[df]]
id = "APP"
parent = "MF"
name = "A000000001"

[[ef]]
parent = "APP"
fid = "EF01"
sfi = 1
structure = "linear"
max_records = 2
read = "free"
update = "never"
records = ["01 01 AA"]

[[pin]]
parent = "APP"
reference = 0
encoding = "bcd"
min_digits = 4
max_digits = 8
value = "1234"
max_tries = 3
unblock = "never"
"#;

#[test]
fn the_minimal_profile_is_accepted() {
    let p = Profile::parse(GOOD, "good.toml").unwrap();
    assert_eq!((p.dfs.len(), p.efs.len(), p.pins.len()), (1, 1, 1));
}

/// Each edit of GOOD and the error it must produce: line, column, words of the message.
#[test]
fn broken_profiles_name_file_line_and_reason() {
    #[rustfmt::skip]
    let table: [(&str, &str, usize, &str); 18] = [
        ("protocol = \"T=0\"", "protocol = \"T=2\"", 4, "expected \"T=0\" or \"T=1\""),
        ("cipher = \"sm4\"", "cipher = \"rot13\"", 5, "expected \"des3\", \"sm4\" or \"aes\""),
        ("atr = \"3B 00\"", "atr = \"3G 00\"", 3, "atr: 'G' at column 2"),
        ("atr = \"3B 00\"", "atr = \"3F 00\"", 3, "starting with 3B"),
        ("description = \"t\"", "description = \"t\"\ncolour = \"red\"", 3, "unknown field `colour`"),
        ("parent = \"MF\"\nname", "parent = \"XX\"\nname", 7, "parent \"XX\" is not MF or a DF declared above"),
        ("name = \"A000000001\"", "name = \"A000000001A000000001A000000001A000000001\"", 7, "a DF name is 1..=16 bytes"),
        ("fid = \"EF01\"", "fid = \"3F00\"", 12, "reserved"),
        ("sfi = 1", "sfi = 31", 12, "sfi: must be 1..=30"),
        ("structure = \"linear\"", "structure = \"tree\"", 12, "structure: expected"),
        ("read = \"free\"", "read = \"sometimes\"", 12, "read: expected free, never"),
        ("max_records = 2", "max_records = 0", 12, "max_records: must be 1..=254"),
        ("records = [\"01 01 AA\"]", "records = [\"01 01 AA\", \"02\", \"03\"]", 12, "3 records exceed max_records 2"),
        ("encoding = \"bcd\"", "encoding = \"morse\"", 22, "encoding: expected"),
        ("value = \"1234\"", "value = \"12\"", 22, "value: 2 digits, outside 4..=8"),
        ("value = \"1234\"", "value = \"12a4\"", 22, "is not decimal digits"),
        ("max_tries = 3", "max_tries = 16", 22, "max_tries: must be 1..=15"),
        ("unblock = \"never\"", "unblock = \"puk:07\"", 22, "no PIN with reference 07"),
    ];
    for (from, to, line, message) in table {
        assert!(GOOD.contains(from), "{from}");
        let text = GOOD.replacen(from, to, 1);
        let e = Profile::parse(&text, "bad.toml").unwrap_err();
        assert_eq!(e.source_name, "bad.toml");
        assert_eq!(e.line, line, "{to}: {e}");
        assert!(e.message.contains(message), "{to}: {e}");
        assert!(
            e.to_string().starts_with(&format!("bad.toml:{line}:")),
            "{e}"
        );
    }
}

#[test]
fn repeated_bytes_and_errors_in_them() {
    let p = Profile::parse(&GOOD.replace("\"01 01 AA\"", "\"01 04 00*3 FF\""), "t").unwrap();
    assert_eq!(p.efs[0].records[0], [0x01, 0x04, 0, 0, 0, 0xFF]);
    let e = Profile::parse(&GOOD.replace("\"01 01 AA\"", "\"01 04 00*x\""), "t").unwrap_err();
    assert!(e.message.contains("expected BB*N"), "{e}");
    // Placed at the record itself (issue 17), not at its entry's `[[ef]]` (line 12).
    let records = GOOD.lines().position(|l| l.contains("01 01 AA")).unwrap() + 1;
    assert_eq!(e.line, records, "{e}");
    assert_ne!(records, 12);
}

#[test]
fn unknown_names_and_unreadable_files() {
    let e = Profile::load("gen9").unwrap_err();
    assert!(
        e.to_string().contains("no built-in profile \"gen9\""),
        "{e}"
    );
    let e = Profile::load("/nonexistent/p.toml").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/p.toml: cannot read profile"),
        "{e}"
    );
}

/// §6.6: a key given as a master key and diversification levels becomes the card key the
/// chain of factors gives (province and city from `[card] region`, card from the ATR).
#[test]
fn master_keys_are_diversified() {
    use applet_sim::crypto::{card_factor, city_factor, diversify, province_factor};
    let gen3 = applet_sim::profile::builtin_text("gen3").unwrap();
    let rk = "master = \"534D342D524B2D2D4E4154494F4E414C\"";
    assert!(gen3.contains(rk));
    let master = "F0E1D2C3B4A5968778695A4B3C2D1E0F";
    let text = gen3.replacen(rk, &format!("master = \"{master}\""), 1);
    let p = Profile::parse(&text, "m.toml").unwrap();
    let key = p.keys.iter().find(|k| k.id == 0x0A).unwrap();
    let m = apdu::parse_hex(master).unwrap();
    let l1 = diversify(CipherSuite::Sm4, &m, &province_factor("320100").unwrap()).unwrap();
    let l2 = diversify(CipherSuite::Sm4, &l1, &city_factor("320100").unwrap()).unwrap();
    let l3 = diversify(CipherSuite::Sm4, &l2, &card_factor(&p.atr).unwrap()).unwrap();
    assert_eq!(key.value, l3);
    assert_ne!(key.value, m);

    #[rustfmt::skip]
    let broken: [(&str, &str); 5] = [
        ("diversify = [\"province\", \"city\", \"card\"]", "diversify = [\"street\"]"),
        ("diversify = [\"province\", \"city\", \"card\"]", "value = \"00112233445566778899AABBCCDDEEFF\""),
        ("region = \"320100\"", "region = \"3201\""),
        ("region = \"320100\"\n", ""),
        (master, "0001"),
    ];
    let messages = [
        "expected \"province\", \"city\" or \"card\"",
        "give either value",
        "not a 6-digit region code",
        "needs the region code",
        "does not fit",
    ];
    for ((from, to), message) in broken.iter().zip(messages) {
        assert!(text.contains(from), "{from}");
        let e = Profile::parse(&text.replacen(from, to, 1), "m.toml").unwrap_err();
        assert!(e.message.contains(message), "{to}: {e}");
        assert!(e.line > 0, "{e}");
    }
}

/// `Profile::load` on `/dev/zero` read without end (2 GB), on a FIFO it waited for a writer
/// for ever: both are refused at once, naming the file. Each load runs on a thread with a
/// deadline so a regression fails instead of hanging.
#[cfg(unix)]
#[test]
fn devices_fifos_and_huge_files_are_not_profiles() {
    use std::sync::mpsc;
    use std::time::Duration;
    fn load_within(path: String) -> String {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(Profile::load(&path).map(|_| ()).map_err(|e| e.to_string()));
        });
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(r) => r.unwrap_err(),
            Err(_) => panic!("loading the profile did not finish in 10 s"),
        }
    }
    let e = load_within("/dev/zero".into());
    assert!(
        e.starts_with("/dev/zero: not a regular file (a device)"),
        "{e}"
    );
    let dir = std::env::temp_dir().join(format!("ssc-profile-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("fifo.toml");
    let _ = std::fs::remove_file(&fifo);
    if std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        let e = load_within(fifo.display().to_string());
        assert!(e.contains("not a regular file (a FIFO)"), "{e}");
    }
    let big = dir.join("big.toml");
    std::fs::write(&big, vec![b'#'; 2 << 20]).unwrap();
    let e = load_within(big.display().to_string());
    assert!(e.contains("big.toml: larger than"), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}
