//! The software PSAM and `ssc-harness card`: keys files (card keys or master keys with
//! diversification), the holder's data read like iReadCardBas, the service-centre flows,
//! and what happens with wrong or missing keys.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use applet_sim::Profile;
use harness::psam::{Keys, Op, Psam};
use harness::runner::{Outcome, run_case};
use harness::transport::{SimTransport, Transport};
use harness::vectors::parse_str;

fn harness(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ssc-harness"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssc-psam-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const MASTER_RK: &str = "F0E1D2C3B4A5968778695A4B3C2D1E0F";

/// gen3 with RKSSSE (0A) given as a master key diversified by city and card.
fn master_profile() -> PathBuf {
    let gen3 = applet_sim::profile::builtin_text("gen3").unwrap();
    let text = gen3.replacen(
        "master = \"534D342D524B2D2D4E4154494F4E414C\"   # \"SM4-RK--NATIONAL\", PSAM key 0A\n\
         diversify = [\"province\", \"city\", \"card\"]",
        &format!("master = \"{MASTER_RK}\"\ndiversify = [\"city\", \"card\"]"),
        1,
    );
    assert_ne!(text, gen3);
    temp_file("master.toml", &text)
}

fn keys_file(name: &str, rk_master: &str) -> PathBuf {
    temp_file(
        name,
        &format!(
            "cipher = \"sm4\"\nregion = \"320100\"\n\
             [[key]]\napp = \"ssse\"\nid = 0x00\nvalue = \"1510DBA12124FC29D867702592A1FC46\"\n\
             [[key]]\napp = \"ssse\"\nid = 0x0A\nmaster = \"{rk_master}\"\ndiversify = [\"city\", \"card\"]\n"
        ),
    )
}

#[test]
fn card_read_decodes_the_holder_data() {
    let (code, out, err) = harness(&["card", "read"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("苏宁安"), "{out}");
    assert!(out.contains("yes (INTERNAL AUTHENTICATE"), "{out}");
    assert!(
        out.contains("iReadCardBas              320100|32010219850612123X|A32010687|"),
        "{out}"
    );
    let (code, out, _) = harness(&["card", "read", "--json", "--profile", "gen2"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], "2.00");
    assert_eq!(v["card_authentic"], true);
}

#[test]
fn master_keys_in_the_keys_file_match_a_diversified_card() {
    let profile = master_profile();
    let profile = profile.to_str().unwrap();
    let good = keys_file("good.toml", MASTER_RK);
    let (code, out, err) = harness(&[
        "card",
        "read",
        "--profile",
        profile,
        "--keys",
        good.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("32010219850612123X"), "{out}");
    // Another master key: the card refuses the cryptogram and counts it.
    let wrong = keys_file("wrong.toml", "000102030405060708090A0B0C0D0E0F");
    let (code, _, err) = harness(&[
        "card",
        "read",
        "--profile",
        profile,
        "--keys",
        wrong.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("63C2"), "{err}");
}

#[test]
fn broken_keys_files_name_the_file_and_the_problem() {
    #[rustfmt::skip]
    let table = [
        ("cipher = \"rot13\"\n", "expected \"des3\", \"sm4\" or \"aes\""),
        ("cipher = \"sm4\"\n[[key]]\napp = \"bank\"\nid = 1\nvalue = \"00\"\n", "app: expected"),
        ("cipher = \"sm4\"\n[[key]]\napp = \"ssse\"\nid = 1\n", "give value, or master"),
        ("cipher = \"sm4\"\n[[key]]\napp = \"ssse\"\nid = 1\nvalue = \"0G\"\n", "'G'"),
        ("cipher = \"sm4\"\ncolour = 1\n", "unknown field"),
        ("cipher = \"sm4\"\n[[key]\n", "line 2"),
    ];
    for (i, (text, message)) in table.iter().enumerate() {
        let path = temp_file(&format!("broken{i}.toml"), text);
        let e = Keys::load(&path).unwrap_err().to_string();
        assert!(e.starts_with(&path.display().to_string()), "{e}");
        assert!(e.contains(message), "{text:?}: {e}");
    }
    let (code, _, err) = harness(&["card", "read", "--keys", "/nonexistent/k.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/k.toml"), "{err}");
}

#[test]
fn service_flows_from_the_command_line() {
    let (code, out, err) = harness(&["card", "pin-reset", "--new-pin", "654321", "--trace"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("PIN is reset"), "{out}");
    // The trace is on stderr, as `ssc-card serve -v` writes it.
    assert!(err.contains("[card] > 00 82 00 06 10"), "{err}");
    assert!(err.contains("[card] > 84 24 00 01 14"), "{err}");
    let (code, _, err) = harness(&["card", "block-card"]);
    assert_eq!(code, 2);
    assert!(err.contains("--yes"), "{err}");
    let (code, _, err) = harness(&["card", "pin-reset", "--new-pin", "12"]);
    assert_ne!(code, 0);
    assert!(err.contains("6A80"), "{err}");
}

#[test]
fn psam_cases_are_skipped_without_keys_and_fail_with_wrong_ones() {
    let text = "version 2\ncase c\n> 00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF\n< 9000\n\
                psam ext-auth 0A\n< 9000\n> 00B2013414\n< 0812 * 9000\n";
    let case = &parse_str(text, Path::new("c.apdu")).unwrap()[0];
    let profile = Profile::builtin("gen3").unwrap();
    // A card that does not tell its keys (like one in a reader): the case is skipped.
    struct Reader(SimTransport);
    impl Transport for Reader {
        fn describe(&self) -> String {
            "reader".into()
        }
        fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, harness::transport::TransportError> {
            self.0.transmit(apdu)
        }
        fn reset(&mut self) -> Result<Vec<u8>, harness::transport::TransportError> {
            self.0.reset()
        }
        fn atr(&mut self) -> Result<Vec<u8>, harness::transport::TransportError> {
            self.0.atr()
        }
        fn fresh_card(&mut self) -> Result<(), harness::transport::TransportError> {
            self.0.fresh_card()
        }
    }
    let mut reader = Reader(SimTransport::new(&profile));
    let Outcome::Skipped(reason) = run_case(&mut reader, case, None).unwrap() else {
        panic!("not skipped")
    };
    assert!(reason.contains("--keys"), "{reason}");
    // The virtual card knows its profile's keys.
    let mut sim = SimTransport::new(&profile);
    assert_eq!(run_case(&mut sim, case, None).unwrap(), Outcome::Passed);
    let keys = Keys::from_profile(&profile);
    assert_eq!(
        run_case(&mut sim, case, Some(&keys)).unwrap(),
        Outcome::Passed
    );
    let wrong = Keys::parse(
        "cipher = \"sm4\"\n[[key]]\napp = \"ssse\"\nid = 0x0A\nvalue = \"000102030405060708090A0B0C0D0E0F\"\n",
    )
    .unwrap();
    let Outcome::Failed(f) = run_case(&mut sim, case, Some(&wrong)).unwrap() else {
        panic!("passed with the wrong key")
    };
    assert_eq!((f.line, f.actual.as_slice()), (5, &[0x63, 0xC2][..]));
    // A key the PSAM lacks is a failure naming it, not a crash.
    let none = Keys::parse("cipher = \"sm4\"\n").unwrap();
    let Outcome::Failed(f) = run_case(&mut sim, case, Some(&none)).unwrap() else {
        panic!("passed without the key")
    };
    assert!(f.expected.contains("no SSSE key 0A"), "{}", f.expected);
}

#[test]
fn operations_parse_and_run_against_the_library() {
    let profile = Profile::builtin("gen3").unwrap();
    let mut sim = SimTransport::new(&profile);
    let atr = sim.atr().unwrap();
    let mut psam = Psam::new(&Keys::from_profile(&profile), &atr).unwrap();
    sim.transmit(&apdu::parse_hex("00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF").unwrap())
        .unwrap();
    let op = Op::parse("int-auth").unwrap();
    let t = op.run(&mut psam, &mut sim).unwrap();
    // 00 88 answers 61 08 under T=0; the PSAM fetched the data with GET RESPONSE.
    assert_eq!(t.exchanges.len(), 2);
    assert!(t.ok() && t.problem.is_none(), "{t:?}");
    assert_eq!(t.response().len(), 10);
    for bad in [
        "",
        "ext-auth",
        "ext-auth 0A 0B",
        "pin-reset x",
        "secure 04DC",
        "fly",
    ] {
        assert!(Op::parse(bad).is_err(), "{bad}");
    }
    assert!(Op::parse("block-card tamper").unwrap().tamper);
}

/// `ext-auth KEY [version VV] [one-challenge]` (§7.1, §7.4): what is sent, byte for byte in
/// form, and that the card takes each.
#[test]
fn external_authentication_forms() {
    let profile = Profile::builtin("gen3").unwrap();
    let mut sim = SimTransport::new(&profile);
    let atr = sim.atr().unwrap();
    let mut psam = Psam::new(&Keys::from_profile(&profile), &atr).unwrap();
    sim.transmit(&apdu::parse_hex("00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF").unwrap())
        .unwrap();
    // (operation, challenges asked, the command's Lc, its last byte when a version is sent,
    // the card's answer)
    let table: [(&str, usize, u8, Option<u8>, &str); 5] = [
        ("ext-auth 04", 2, 0x10, None, "9000"),
        ("ext-auth 04 one-challenge", 1, 0x10, None, "9000"),
        ("ext-auth 04 version 01", 2, 0x11, Some(0x01), "9000"),
        (
            "ext-auth 04 version 01 one-challenge",
            1,
            0x11,
            Some(0x01),
            "9000",
        ),
        // gen3 holds no version 00 of key 04.
        (
            "ext-auth 04 version 00 one-challenge",
            1,
            0x11,
            Some(0x00),
            "6A88",
        ),
    ];
    for (text, challenges, lc, version, sw) in table {
        let op = Op::parse(text).unwrap();
        let t = op.run(&mut psam, &mut sim).unwrap();
        assert_eq!(t.exchanges.len(), challenges + 1, "{text}");
        let (cmd, answer) = t.exchanges.last().unwrap();
        assert_eq!(
            cmd.get(..5),
            Some(&[0x00, 0x82, 0x00, 0x04, lc][..]),
            "{text}"
        );
        assert_eq!(cmd.len(), 5 + usize::from(lc), "{text}");
        if let Some(v) = version {
            assert_eq!(cmd.last(), Some(&v), "{text}");
        }
        // One challenge: the original data is that challenge.
        if challenges == 1 {
            let (_, challenge) = t.exchanges.first().unwrap();
            assert_eq!(cmd.get(13..21), challenge.get(..8), "{text}");
        }
        assert_eq!(apdu::hex_compact(answer), sw, "{text}");
    }
    for bad in [
        "ext-auth 04 version",
        "ext-auth 04 version 0G",
        "ext-auth 04 one-challenge version 01",
        "ext-auth 04 twice",
    ] {
        assert!(Op::parse(bad).is_err(), "{bad}");
    }
}

/// The sub-applications' keys (docs/CARD.md §6.7.1): `df-ext-auth DF KEY` and `df-secure DF
/// HEX` take the DF's own key; a DF that does not hold it is a PSAM error naming it; the
/// operations' text is checked.
#[test]
fn sub_application_operations_use_the_dfs_own_keys() {
    let profile = Profile::builtin("gen3").unwrap();
    let mut sim = SimTransport::new(&profile);
    let atr = sim.atr().unwrap();
    let mut psam = Psam::new(&Keys::from_profile(&profile), &atr).unwrap();
    for cmd in [
        "00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF",
        "00A4040C06D15600000500",
    ] {
        sim.transmit(&apdu::parse_hex(cmd).unwrap()).unwrap();
    }
    let run = |psam: &mut Psam, sim: &mut SimTransport, text: &str| {
        let t = Op::parse(text).unwrap().run(psam, sim).unwrap();
        apdu::hex_compact(t.response())
    };
    assert_eq!(run(&mut psam, &mut sim, "df-ext-auth DF01 84"), "9000");
    assert_eq!(
        run(&mut psam, &mut sim, "df-secure DF01 04DC013C 290133 tamper"),
        "6988"
    );
    assert_eq!(
        run(&mut psam, &mut sim, "df-secure DF01 04DC013C 290133"),
        "9000"
    );
    // DF02's 84 (UK2DF02) is another key than DF01's: a wrong cryptogram in DF01.
    assert_eq!(run(&mut psam, &mut sim, "df-ext-auth DF02 84"), "63C2");
    // No DF05 keys: an error before anything is sent.
    let e = Op::parse("df-ext-auth DF05 83")
        .unwrap()
        .run(&mut psam, &mut sim)
        .unwrap_err();
    assert!(e.to_string().contains("DF05"), "{e}");
    for bad in [
        "df-ext-auth 83",
        "df-ext-auth EF01 83",
        "df-ext-auth DF1 83",
        "df-secure DF01",
    ] {
        assert!(Op::parse(bad).is_err(), "{bad}");
    }
    // A keys file names a sub-application by its FID.
    let keys = Keys::parse(
        "cipher = \"sm4\"\n[[key]]\napp = \"DF07\"\nid = 0x86\nvalue = \"00112233445566778899AABBCCDDEEFF\"\n",
    );
    assert!(keys.is_ok(), "{keys:?}");
    assert!(
        Keys::parse("cipher = \"sm4\"\n[[key]]\napp = \"EF07\"\nid = 0x86\nvalue = \"00\"\n")
            .is_err()
    );
}

/// vectors/keys/gen3.toml, the keys for the gen3 card in a reader, are the profile's keys.
#[test]
fn the_shipped_keys_file_matches_the_gen3_profile() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/keys/gen3.toml");
    let profile = Profile::builtin("gen3").unwrap();
    let atr = profile.atr.clone();
    let from_file = Psam::new(&Keys::load(&path).unwrap(), &atr).unwrap();
    let from_profile = Psam::new(&Keys::from_profile(&profile), &atr).unwrap();
    assert_eq!(format!("{from_file:?}"), format!("{from_profile:?}"));
}

/// The AES-128 option (same 16-byte-block scheme as SM4): the issuer flows pass on a gen3
/// card whose profile says `cipher = "aes"`, and its keys do not work as SM4 keys.
#[test]
fn the_issuer_flows_run_with_aes() {
    let gen3 = applet_sim::profile::builtin_text("gen3").unwrap();
    assert!(gen3.contains("cipher = \"sm4\""));
    let aes = temp_file(
        "aes.toml",
        &gen3.replacen("cipher = \"sm4\"", "cipher = \"aes\"", 1),
    );
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
    let files: Vec<String> = ["issuer/psam.apdu", "sm", "block"]
        .iter()
        .map(|f| suite.join(f).to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["run", "--profile", aes.to_str().unwrap()];
    args.extend(files.iter().map(String::as_str));
    let (code, out, err) = harness(&args);
    assert_eq!(code, 0, "{out}{err}");
    // The SM4 keys file's cryptograms are refused by the AES card.
    let sm4_keys = suite.join("keys/gen3.toml");
    let (code, _, err) = harness(&[
        "card",
        "read",
        "--profile",
        aes.to_str().unwrap(),
        "--keys",
        sm4_keys.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
}
