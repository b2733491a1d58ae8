//! The terminal's flows with either source of cryptograms (docs/PSAM.md §8): software keys or
//! the in-process PSAM card through `BF DE` / `80 FA`. Every issuer flow leaves the card in
//! the same state either way; wrong keys stop before a key try is spent; `--trace` shows
//! every APDU to the card and to the PSAM; the bank's flows; `--state`; reissue.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use applet_sim::model::AppKind;
use applet_sim::model::keys::ssse;
use applet_sim::{Card, Profile};
use harness::psam::{
    CardInfo, Crypto, ExtAuth, Keys, Operation, Psam, PsamCard, PsamSource, Software,
};
use harness::reissue::{self, Reissue};
use harness::service::{self, FlowError};
use harness::transport::{SimTransport, Transport};

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

/// A fresh path in this test run's folder (nothing there yet).
fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssc-flows-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn builtin_psam() -> PsamSource {
    PsamSource::InProcess(Box::new(applet_sim::Psam::load("psam").unwrap()))
}

/// The operations' PSAM for the card behind `t`: software keys from the profile, or the
/// in-process PSAM card (what it needs read from the card, as `ssc-harness card` does).
fn psam_for(t: &mut dyn Transport, profile: &Profile, card: bool) -> Psam {
    let atr = t.atr().unwrap();
    let keys = Keys::from_profile(profile);
    if !card {
        return Psam::new(&keys, &atr).unwrap();
    }
    let source = builtin_psam();
    let info = CardInfo::read(t, None).unwrap();
    let module = PsamCard::open(source.open().unwrap(), &source.describe(), info).unwrap();
    Psam::with_crypto(Box::new(module), Some(&keys), &atr).unwrap()
}

/// VERIFY `pin` in the SSSE; the status word.
fn verify(t: &mut dyn Transport, pin: &str) -> Vec<u8> {
    t.transmit(&harness::card::select_ssse(false)).unwrap();
    t.transmit(&harness::card::verify(0, pin).unwrap()).unwrap()
}

/// Three wrong PINs: the SSSE PIN blocked.
fn block_pin(t: &mut dyn Transport) {
    for _ in 0..3 {
        verify(t, "000000");
    }
    assert_eq!(verify(t, "123456"), [0x69, 0x83]);
}

#[test]
fn every_flow_leaves_the_same_card_state_with_software_keys_and_with_the_psam_card() {
    type Flow = (&'static str, bool, fn(&mut dyn Transport, &mut Psam));
    let flows: [Flow; 7] = [
        ("int-auth", false, |t, p| {
            service::select_ssse(t).unwrap();
            service::check_keys(t, p).unwrap();
        }),
        ("read (RK 0A on gen3)", false, |t, p| {
            let h = service::read_holder(t, Some(p), false).unwrap();
            assert_eq!(h.card_authentic, Some(true));
            assert_eq!(h.social_security_number, "32010219850612123X");
            // The ATR's historical bytes: T0's low nibble counts them (13 on both cards).
            let atr = t.atr().unwrap();
            assert_eq!(
                h.historical_bytes,
                apdu::hex_compact(&atr[atr.len() - 13..])
            );
            assert_eq!(h.historical_bytes.len(), 26);
        }),
        ("ext-auth UK 04 and a write", true, |t, p| {
            let ops = [
                Operation::ExternalAuthenticate(ExtAuth::key(ssse::UK)),
                Operation::ExternalAuthenticate(ExtAuth::key(ssse::UK)),
            ];
            service::run_ops(t, p, &ops, true).unwrap();
            let write = apdu::parse_hex("00DC052806050420300101").unwrap();
            assert_eq!(t.transmit(&write).unwrap(), [0x90, 0x00]);
        }),
        ("pin-reset", true, |t, p| {
            block_pin(t);
            let ops = [
                Operation::ExternalAuthenticate(ExtAuth::key(ssse::PUK_KEY)),
                Operation::PinReset("654321".into()),
            ];
            service::run_ops(t, p, &ops, true).unwrap();
            assert_eq!(verify(t, "654321"), [0x90, 0x00]);
        }),
        // The counter back at its maximum, the PIN kept: the card as issued.
        ("pin-unblock", false, |t, p| {
            block_pin(t);
            let ops = [
                Operation::ExternalAuthenticate(ExtAuth::key(ssse::PUK_KEY)),
                Operation::PinUnblock,
            ];
            service::run_ops(t, p, &ops, true).unwrap();
            assert_eq!(verify(t, "123456"), [0x90, 0x00]);
        }),
        ("block-app", true, |t, p| {
            service::run_ops(t, p, &[Operation::BlockApplication], true).unwrap();
        }),
        ("block-card (BK 05)", true, |t, p| {
            service::run_ops(t, p, &[Operation::BlockCard], true).unwrap();
            assert_eq!(
                t.transmit(&harness::card::select_ssse(false)).unwrap(),
                [0x6A, 0x81]
            );
        }),
    ];
    for name in ["gen3", "gen2"] {
        let profile = Profile::builtin(name).unwrap();
        let issued = Card::new(&profile);
        for (flow, changes, run) in &flows {
            let mut states = Vec::new();
            for card in [false, true] {
                let mut t = SimTransport::new(&profile);
                let mut psam = psam_for(&mut t, &profile, card);
                run(&mut t, &mut psam);
                assert_eq!(
                    !t.card().same_persistent_state(&issued),
                    *changes,
                    "{name} {flow} (PSAM card: {card})"
                );
                states.push(t);
            }
            assert!(
                states[0].card().same_persistent_state(states[1].card()),
                "{name} {flow}: the two sources leave different cards"
            );
            assert_eq!(states[0].card().counters(), states[1].card().counters());
        }
    }
}

#[test]
fn the_psam_card_and_software_keys_compute_the_same_primitives() {
    // Long data: the PSAM card's chained MAC (07/03/01) and encipherment in several
    // commands give what software keys give.
    for name in ["gen3", "gen2"] {
        let profile = Profile::builtin(name).unwrap();
        let mut t = SimTransport::new(&profile);
        let info = CardInfo::read(&mut t, None).unwrap();
        assert_eq!(info.region, "320100");
        assert_eq!(info.suite, profile.cipher);
        let source = builtin_psam();
        let mut module = PsamCard::open(source.open().unwrap(), "psam", info).unwrap();
        // The software provider with the profile's card keys.
        let resolved = profile
            .keys
            .iter()
            .filter(|k| profile.kind_of_df(&k.parent) == Some(AppKind::Ssse))
            .map(|k| (k.id, k.value.clone()))
            .collect();
        let mut soft = Software::new(profile.cipher, resolved);
        let data: Vec<u8> = (0..=255u8).chain(0..=90).collect();
        for id in [
            ssse::IRK,
            ssse::STK,
            ssse::UK,
            ssse::BK,
            ssse::PUK_KEY,
            ssse::RK,
        ] {
            let r = [id, 1, 2, 3, 4, 5, 6, 7];
            module.session(id, &r).unwrap();
            soft.session(id, &r).unwrap();
            assert_eq!(
                module.mac(&data).unwrap(),
                soft.mac(&data).unwrap(),
                "{name} {id:02X}"
            );
            let blocks = &data[..256];
            assert_eq!(
                module.encipher(blocks).unwrap(),
                soft.encipher(blocks).unwrap()
            );
        }
        assert!(!module.holds(0x83));
        assert!(module.session(0x83, &[0; 8]).is_err());
    }
}

#[test]
fn wrong_keys_stop_before_the_first_key_try() {
    let profile = Profile::builtin("gen3").unwrap();
    let issued = Card::new(&profile);
    let wrong =
        Keys::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/keys/gen2.toml"))
            .unwrap();
    let mut t = SimTransport::new(&profile);
    let mut psam = Psam::new(&wrong, &t.atr().unwrap()).unwrap();
    let ops = [
        Operation::ExternalAuthenticate(ExtAuth::key(ssse::PUK_KEY)),
        Operation::PinReset("654321".into()),
    ];
    let e = service::run_ops(&mut t, &mut psam, &ops, true).unwrap_err();
    assert!(matches!(e, FlowError::KeysDoNotMatch { .. }), "{e}");
    assert!(e.to_string().contains("no try was spent"), "{e}");
    assert!(t.card().same_persistent_state(&issued));
    assert_eq!(t.card().counters(), issued.counters());
    // Unchecked, the same keys cost the PUK key a try.
    service::run_ops(&mut t, &mut psam, &ops, false).unwrap_err();
    assert_ne!(t.card().counters(), issued.counters());

    // From the command line, on a state file: the error, no EXTERNAL AUTHENTICATE sent,
    // the counters as issued when the state file is opened again.
    let state = temp_path("wrong-keys.state");
    let gen2_keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/keys/gen2.toml");
    for extra in [
        vec!["--keys", s(&gen2_keys)],
        // The PSAM card with the wrong region: its keys are not this card's either.
        vec!["--psam", "psam", "--region", "110100"],
    ] {
        let mut args = vec![
            "card",
            "pin-reset",
            "--new-pin",
            "654321",
            "--trace",
            "--state",
            s(&state),
        ];
        args.extend(extra);
        let (code, _, err) = harness(&args);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("the keys do not match this card") && err.contains("no try was spent"),
            "{err}"
        );
        assert!(err.contains("[card] > 00 88 00 00 10"), "{err}");
        assert!(!err.contains("> 00 82"), "{err}");
        let card = Card::open(&profile, &state).unwrap();
        assert_eq!(card.counters(), issued.counters());
        // The PIN kept (a state file keeps PINs salted: compared by VERIFY).
        drop(card);
        let mut t = SimTransport::durable(&profile, &state).unwrap();
        assert_eq!(verify(&mut t, "123456"), [0x90, 0x00]);
    }
    // Keys without an IRK cannot be checked: refused unless --unchecked.
    let no_irk = temp_path("no-irk.toml");
    std::fs::write(
        &no_irk,
        "cipher = \"sm4\"\n[[key]]\napp = \"ssse\"\nid = 0x06\nvalue = \"000102030405060708090A0B0C0D0E0F\"\n",
    )
    .unwrap();
    let (code, _, err) = harness(&["card", "pin-unblock", "--keys", s(&no_irk)]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no IRK") && err.contains("--unchecked"),
        "{err}"
    );
    let (code, _, err) = harness(&["card", "pin-unblock", "--keys", s(&no_irk), "--unchecked"]);
    assert_eq!(code, 2);
    assert!(err.contains("63C2"), "{err}");
}

#[test]
fn trace_shows_every_apdu_to_the_card_and_to_the_psam() {
    let (code, out, err) = harness(&["card", "pin-unblock", "--psam", "psam", "--trace"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("counter is restored (9000)"), "{out}");
    for line in [
        // SELECT SSSE with its FCI under T=0: 61 1E, then GET RESPONSE.
        "[card] > 00 A4 04 00 0F 73 78 31 2E 73 68 2E C9 E7 BB E1 B1 A3 D5 CF 00",
        "[card] < 61 1E : 30 bytes available (GET RESPONSE)",
        "[card] > 00 C0 00 00 1E",
        // The PSAM's 3.0 application (an SM4 card), the key check, the PUK key, the unblock.
        "[psam] > 00 A4 04 00 0F 73 78 33 2E 73 68 2E C9 E7 BB E1 B1 A3 D5 CF",
        "[psam] > 00 A4 00 00 02 DF 01",
        "[card] > 00 88 00 00 10",
        "[psam] > BF DE 67 08 28",
        "[psam] > BF DE 48 10 20",
        "[card] > 00 82 00 06 10",
        "[psam] > BF DE 26 09 18",
        "[psam] > 80 FA 05 00",
        "[card] > 84 24 00 00 04",
        "[card] < 90 00 : success",
    ] {
        assert!(err.contains(line), "{line} missing in:\n{err}");
    }
    // `card read --trace` traces too; stdout keeps only the answer (JSON here).
    let (code, out, err) = harness(&["card", "read", "--json", "--trace", "--profile", "gen2"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str::<serde_json::Value>(&out).unwrap();
    assert!(err.contains("[card] > 00 B2 01 2C 00"), "{err}");
    // A DES card: the 2.0 PSAM application.
    let (code, _, err) = harness(&[
        "card",
        "block-app",
        "--yes",
        "--profile",
        "gen2",
        "--psam",
        "builtin",
        "--trace",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("[psam] > 00 A4 04 00 06 D1 56 00 00 05 90"),
        "{err}"
    );
    assert!(err.contains("[psam] > BF DE 26 09 10"), "{err}");
}

#[test]
fn bank_flows_and_state_files_persist_across_runs() {
    let profile = Profile::builtin("gen3").unwrap();
    let state = temp_path("bank.state");
    let run = |action: &[&str]| {
        let mut args = vec!["card"];
        args.extend(action);
        args.extend(["--state", s(&state)]);
        harness(&args)
    };
    // The loss report: a temporary block; lifted in a second run (so it was kept).
    let (code, out, err) = run(&["bank-block"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("blocked until its unblock"), "{out}");
    let (code, _, err) = run(&["bank-unblock", "--trace"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("[card] < 62 83"),
        "the SELECT of a blocked application: {err}"
    );
    assert!(err.contains("[card] > 84 18 00 00 04"), "{err}");
    // Not blocked any more: the unblock is refused.
    let (code, _, err) = run(&["bank-unblock"]);
    assert_eq!(code, 2);
    assert!(err.contains("6985"), "{err}");
    // Without the state file, each run starts on a new card.
    let (code, _, _) = harness(&["card", "bank-unblock"]);
    assert_eq!(code, 2);
    // PIN reload at the bank, and the SSSE PIN reset: both on the state file.
    let (code, _, err) = run(&["bank-pin-reload", "--new-pin", "112233"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&["pin-reset", "--new-pin", "654321", "--psam", "psam"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = harness(&["card", "bank-pin-reload", "--state", s(&state)]);
    assert_ne!(code, 0);
    assert!(err.contains("--new-pin"), "{err}");
    let mut card = Card::open(&profile, &state).unwrap();
    let tx =
        |c: &mut Card, hex: &str| apdu::hex_compact(&c.transmit(&apdu::parse_hex(hex).unwrap()));
    assert_eq!(tx(&mut card, "00A4040C08A000000333010101"), "9000");
    assert_eq!(tx(&mut card, "0020000003112233"), "9000");
    assert_eq!(
        tx(&mut card, "00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF"),
        "9000"
    );
    assert_eq!(tx(&mut card, "0020000003654321"), "9000");
    drop(card);
    // --state is the virtual card's.
    let (code, _, err) = harness(&["card", "read", "--reader", "X", "--state", s(&state)]);
    assert_eq!(code, 2);
    assert!(err.contains("--state") && err.contains("--reader"), "{err}");
}

#[test]
fn reissue_writes_a_new_virtual_card_for_the_same_holder() {
    for (name, cli_psam) in [("gen3", "psam"), ("gen2", "")] {
        let out_path = temp_path(&format!("reissued-{name}.toml"));
        let mut args = vec!["card", "reissue", "--profile", name, "-o", s(&out_path)];
        if !cli_psam.is_empty() {
            args.extend(["--psam", cli_psam]);
        }
        let (code, out, err) = harness(&args);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("card number"), "{out}");
        let new = Profile::load(s(&out_path)).unwrap();
        let old = Profile::builtin(name).unwrap();
        // The serial: the ATR's last 4 bytes, one more than the old card's.
        let (o, n) = (old.atr.len(), new.atr.len());
        assert_eq!(old.atr[..o - 4], new.atr[..n - 4]);
        let serial = u32::from_be_bytes(new.atr[n - 4..].try_into().unwrap());
        assert_eq!(
            serial,
            u32::from_be_bytes(old.atr[o - 4..].try_into().unwrap()) + 1
        );
        // Its keys are re-derived (not the old card's), and the built-in PSAM serves them.
        let ssse_keys = |p: &Profile| -> Vec<Vec<u8>> {
            p.keys
                .iter()
                .filter(|k| p.kind_of_df(&k.parent) == Some(AppKind::Ssse))
                .map(|k| k.value.clone())
                .collect()
        };
        let (new_keys, old_keys) = (ssse_keys(&new), ssse_keys(&old));
        // The SSSE's 6 and the sub-applications' (docs/CARD.md §6.7.1).
        assert!(new_keys.len() > 6 && new_keys.len() == old_keys.len());
        assert!(new_keys.iter().zip(&old_keys).all(|(n, o)| n != o));
        let (code, out, err) =
            harness(&["card", "read", "--profile", s(&out_path), "--psam", "psam"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("yes (INTERNAL AUTHENTICATE"), "{out}");
        assert!(out.contains("32010219850612123X"), "{out}");
        let card_id = format!(
            "320100D156000005{}FFFFFFFF",
            apdu::hex_compact(&new.atr[n - 4..])
        );
        assert!(out.contains(&card_id), "{out}");
        // A32010687 → A3201069 with its check character 5.
        assert!(out.contains("A32010695"), "{out}");
        // Never over an existing file.
        let (code, _, err) = harness(&args);
        assert_eq!(code, 2);
        assert!(err.contains(s(&out_path)), "{err}");
    }
}

#[test]
fn reissue_options_and_what_it_refuses() {
    // The old card's state: an EF05 date written there (after UK) is on the reissued card.
    let state = temp_path("old.state");
    let out_path = temp_path("reissued-options.toml");
    {
        let profile = Profile::builtin("gen3").unwrap();
        let mut t = SimTransport::durable(&profile, &state).unwrap();
        let mut psam = psam_for(&mut t, &profile, false);
        let ops = [Operation::ExternalAuthenticate(ExtAuth::key(ssse::UK))];
        service::run_ops(&mut t, &mut psam, &ops, true).unwrap();
        let write = apdu::parse_hex("00DC052806050420260101").unwrap();
        assert_eq!(t.transmit(&write).unwrap(), [0x90, 0x00]);
    }
    let (code, out, err) = harness(&[
        "card",
        "reissue",
        "--state",
        s(&state),
        "--serial",
        "12345678",
        "--card-number",
        "B1234567",
        "--expiry-date",
        "20360101",
        "-o",
        s(&out_path),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("serial 12345678"), "{out}");
    let (code, out, _) = harness(&["card", "read", "--profile", s(&out_path), "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let check = reissue::check_character("B1234567").unwrap();
    assert_eq!(v["card_number"], format!("B1234567{check}"));
    assert_eq!(v["issue_date"], "20260101");
    assert_eq!(v["expiry_date"], "20360101");
    assert_eq!(v["card_authentic"], true);
    // Bad values name themselves.
    for (flag, value, message) in [
        ("--serial", "12", "serial \"12\""),
        ("--card-number", "B12345670", "check character"),
        ("--issue-date", "20261301", "YYYYMMDD"),
    ] {
        let path = temp_path("never.toml");
        let (code, _, err) = harness(&["card", "reissue", flag, value, "-o", s(&path)]);
        assert_eq!(code, 2, "{flag}");
        assert!(err.contains(message), "{flag}: {err}");
        assert!(!path.exists());
    }
    let (code, _, err) = harness(&["card", "reissue"]);
    assert_eq!(code, 2);
    assert!(err.contains("--output"), "{err}");
    // SSSE keys given as card-level values cannot be re-derived for a new card.
    let gen3 = applet_sim::profile::builtin_text("gen3").unwrap();
    let fixed = gen3.replacen(
        "master = \"534D342D55",
        "value = \"0102030405060708090A0B0C0D0E0F10\"\n# master = \"534D342D55",
        1,
    );
    let fixed = fixed.replacen(
        "diversify = [\"city\", \"card\"]\n[[key]]\nparent = \"SSSE\"\nid = 0x05",
        "[[key]]\nparent = \"SSSE\"\nid = 0x05",
        1,
    );
    let fixed_path = temp_path("fixed-keys.toml");
    std::fs::write(&fixed_path, &fixed).unwrap();
    Profile::load(s(&fixed_path)).unwrap();
    let path = temp_path("never2.toml");
    let (code, _, err) = harness(&[
        "card",
        "reissue",
        "--profile",
        s(&fixed_path),
        "-o",
        s(&path),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("SSSE key 04 is not a master key"), "{err}");
}

/// F15, F12: reissue's dates are YYYYMMDD or YYYY-MM-DD and exist, the expiry date follows
/// the issue date (the card's when only one is given); the new profile is private (0600).
#[test]
fn reissue_dates_exist_and_the_new_profile_is_private() {
    use std::os::unix::fs::PermissionsExt;
    // gen3 was issued 2024-03-15 and expires 2034-03-15.
    #[rustfmt::skip]
    let cases: &[(&[&str], &str)] = &[
        (&["--issue-date", "20230231"], "--issue-date: \"20230231\" is not a date"),
        (&["--expiry-date", "00000101"], "--expiry-date: \"00000101\" is not a date"),
        (&["--issue-date", "2-0-3-0-0-1-0-1"], "--issue-date: \"2-0-3-0-0-1-0-1\" is not a date"),
        (&["--issue-date", "20300101", "--expiry-date", "20250101"], "--expiry-date: 20250101 is not after the issue date 20300101"),
        (&["--expiry-date", "20240101"], "--expiry-date: 20240101 is not after the card's issue date 20240315"),
        (&["--issue-date", "20350101"], "--issue-date: 20350101 is not before the card's expiry date 20340315"),
    ];
    for (flags, message) in cases {
        let path = temp_path("never-dates.toml");
        let mut args = vec!["card", "reissue", "-o", s(&path)];
        args.extend_from_slice(flags);
        let (code, _, err) = harness(&args);
        assert_eq!(code, 2, "{flags:?}: {err}");
        assert!(err.contains(message), "{flags:?}: {err}");
        assert!(!path.exists());
    }
    // In a folder of its own, to see that no temporary file is left there.
    let dir = temp_path("reissue-dates");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("reissued-dates.toml");
    let (code, _, err) = harness(&[
        "card",
        "reissue",
        "--issue-date",
        "2030-01-01",
        "--expiry-date",
        "2040-02-29",
        "-o",
        s(&path),
    ]);
    assert_eq!(code, 0, "{err}");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let (code, out, _) = harness(&["card", "read", "--profile", s(&path), "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["issue_date"], "20300101");
    assert_eq!(v["expiry_date"], "20400229");
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["reissued-dates.toml"], "a temporary file is left");
}

#[test]
fn personalising_a_card_in_a_reader_writes_ef05_after_uk() {
    // The library flow a reader gets, on the in-process card: UK external authentication,
    // then the card number and the dates (the card identification code already holds the
    // ATR's serial, so it is not rewritten).
    let profile = Profile::builtin("gen3").unwrap();
    for card in [false, true] {
        let mut t = SimTransport::new(&profile);
        let mut psam = psam_for(&mut t, &profile, card);
        let r = Reissue {
            serial: [0; 4],
            card_number: reissue::card_number("C7654321").unwrap(),
            issue_date: Some(reissue::date("20250101").unwrap()),
            expiry_date: None,
        };
        let done = reissue::personalise(&mut t, &mut psam, &r).unwrap();
        // EXTERNAL AUTHENTICATE, then 2 writes (number, issue date).
        assert_eq!(done.len(), 3);
        assert!(done[1].command().starts_with(&[0x00, 0xDC]));
        let ef05 = service::read_records(&mut t, 0x05).unwrap();
        let number = ef05.iter().find(|(t, _)| *t == 0x07).unwrap();
        assert_eq!(number.1, r.card_number.as_bytes());
        let id = ef05.iter().find(|(t, _)| *t == 0x01).unwrap();
        assert_eq!(id.1[8..12], profile.atr[profile.atr.len() - 4..]);
    }
}

#[test]
fn vectors_run_through_the_psam_card() {
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
    let files: Vec<String> = ["issuer", "sm", "block", "gen2", "steps"]
        .iter()
        .map(|f| suite.join(f).to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["run", "--psam", "psam"];
    args.extend(files.iter().map(String::as_str));
    let (code, out, err) = harness(&args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(" 0 failed"), "{out}");
    // The PSAM is really used: with another region its keys are not the card's.
    args.extend(["--region", "110100"]);
    let (code, out, _) = harness(&args);
    assert_eq!(code, 1, "{out}");
    // One PSAM in a reader cannot serve parallel jobs.
    let (code, _, err) = harness(&["run", "--psam-reader", "P", "--jobs", "2", &files[0]]);
    assert_eq!(code, 2);
    assert!(err.contains("--psam-reader"), "{err}");
    let (code, _, err) = harness(&["run", "--psam", "psam", "--region", "3201", &files[0]]);
    assert_eq!(code, 2);
    assert!(err.contains("6-digit region"), "{err}");
}

/// `card read` spends no RK try with keys it cannot trust: another card's keys (the IRK
/// does not match) stop before EF06's external authentication; keys without an IRK skip
/// EF06 and say so; `--unchecked` spends the try as asked.
#[test]
fn card_read_spends_no_rk_try_with_unchecked_keys() {
    let profile = Profile::builtin("gen3").unwrap();
    let issued = Card::new(&profile);
    let gen2_keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/keys/gen2.toml");
    let rk_only = temp_path("rk-only.toml");
    std::fs::write(
        &rk_only,
        "cipher = \"sm4\"\nregion = \"320100\"\n[[key]]\napp = \"ssse\"\nid = 0x0A\nvalue = \"000102030405060708090A0B0C0D0E0F\"\n",
    )
    .unwrap();
    for (keys, want) in [
        (&gen2_keys, "the keys do not match this card"),
        (&rk_only, "no IRK to check them"),
    ] {
        let state = temp_path("read-keys.state");
        let _ = std::fs::remove_file(&state);
        let (code, out, err) = harness(&["card", "read", "--state", s(&state), "--keys", s(keys)]);
        assert!(
            format!("{out}{err}").contains(want),
            "{code}: {out} / {err}"
        );
        let card = Card::open(&profile, &state).unwrap();
        assert_eq!(card.counters(), issued.counters(), "{}", keys.display());
    }
    // --unchecked: the wrong RK is tried and costs its try.
    let state = temp_path("read-unchecked.state");
    let _ = std::fs::remove_file(&state);
    let (code, _, err) = harness(&[
        "card",
        "read",
        "--state",
        s(&state),
        "--keys",
        s(&rk_only),
        "--unchecked",
    ]);
    assert_ne!(code, 0, "{err}");
    let card = Card::open(&profile, &state).unwrap();
    assert_ne!(card.counters(), issued.counters());
}

/// What a card returns is printed with its control characters escaped: a name holding an
/// escape sequence cannot drive the terminal of whoever reads the card.
#[test]
fn card_read_escapes_control_characters_from_the_card() {
    let gen3 = applet_sim::profile::builtin_text("gen3").unwrap();
    let evil = gen3.replacen(
        "\"09 1E CBD5C4FEB0B2 00*24\"",
        "\"09 1E 1B5D303B50574E4544071B5B324A 00*16\"",
        1,
    );
    assert_ne!(evil, gen3);
    let path = temp_path("evil-name.toml");
    std::fs::write(&path, evil).unwrap();
    let (code, out, err) = harness(&["card", "read", "--profile", s(&path)]);
    // Such a name is no GBK text: a finding (exit 1), itself printed escaped.
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("finding      EF06 tag 09 name"), "{out}");
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert!(out.contains("\\u{1b}]0;PWNED\\u{7}\\u{1b}[2J"), "{out}");
}
