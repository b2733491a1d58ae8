//! What `ssc-harness` tells its users (issue 17), through the real binary where it can be
//! reached without a PC/SC stack (the reader messages are checked by scripts/e2e-pcsc.sh and
//! by unit tests of `transport::error`): steps named in words, paths listed plainly, a cause
//! said once, a scriptor script named `*.scr` read as scriptor, `--restore-cmd`'s help, the
//! holder's public data read without keys, completions and man pages.

// Test helpers (outside #[test] functions) fail loudly on broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;
use std::process::Command;

use applet_sim::Profile;
use harness::psam::{Keys, Psam};
use harness::service::read_holder;
use harness::transport::{SimTransport, Transport};

fn harness(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ssc-harness"))
        .args(args)
        .output()
        .expect("run ssc-harness");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A folder of this test process's own.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssc-harness-msg-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Rust's debug formatting, which no message may show.
fn assert_no_debug_formatting(err: &str) {
    for debug in ["PinReset(", "[\"", "Ssse", "Some(", "Os {"] {
        assert!(!err.contains(debug), "debug formatting {debug:?} in: {err}");
    }
}

/// `PinReset("123"): the card answered 6A80`.
#[test]
fn a_refused_step_is_named_in_words() {
    let (code, _, err) = harness(&["card", "pin-reset", "--new-pin", "123"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("PIN reset (84 24 00 01) to new PIN 123: the card answered 6A80"),
        "{err}"
    );
    assert!(err.contains("the card refused the new PIN"), "{err}");
    assert_no_debug_formatting(&err);
}

/// `no vector files (*.apdu) or scripts under ["empty"]`.
#[test]
fn paths_are_listed_plainly() {
    let a = temp_dir("empty-a");
    let b = temp_dir("empty-b");
    let (code, _, err) = harness(&["run", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("under {}, {} (", a.display(), b.display())),
        "{err}"
    );
    assert!(err.contains("*.scr"), "{err}");
    assert_no_debug_formatting(&err);
}

/// An OS error the message already says is not said again by its cause.
#[test]
fn a_cause_is_said_once() {
    let dir = temp_dir("report");
    let vectors = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/select");
    let (code, _, err) = harness(&["run", "-o", dir.to_str().unwrap(), vectors]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot write report"), "{err}");
    assert_eq!(err.matches("os error 21").count(), 1, "{err}");
}

/// `t1.scr:1:1: expected ';'` for a scriptor script, which scriptor itself runs.
#[test]
fn a_scriptor_script_named_scr_is_read_as_scriptor() {
    let dir = temp_dir("scr");
    let scriptor = dir.join("t1.scr");
    std::fs::write(
        &scriptor,
        "# scriptor, saved as .scr\nreset\n00 A4 04 00 0F 7378312E73682EC9E7BBE1B1A3D5CF\n\
         00 C0 00 00 1E\nexit\n",
    )
    .unwrap();
    let (code, out, err) = harness(&["run", "--no-data", "--trace", scriptor.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 passed, 0 failed"), "{out}");
    // An apdutool script under the same extension is still apdutool.
    let apdutool = dir.join("t2.scr");
    std::fs::write(
        &apdutool,
        "powerup;\n0x00 0xA4 0x04 0x00 0x0F 0x73 0x78 0x31 0x2E 0x73 0x68 0x2E 0xC9 0xE7 0xBB \
         0xE1 0xB1 0xA3 0xD5 0xCF 0x7F;\n",
    )
    .unwrap();
    let (code, out, err) = harness(&["run", apdutool.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    // `convert` reads them the same way.
    let (code, out, err) = harness(&["convert", scriptor.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("> 00 C0 00 00 1E"), "{out}");
}

/// `run --restore-cmd` suggested `kill -HUP` while the README says `ssc-card restore`.
#[test]
fn restore_cmd_help_names_ssc_card_restore() {
    let (code, out, _) = harness(&["run", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("ssc-card restore --pid PID"), "{out}");
    assert!(!out.contains("kill -HUP"), "{out}");
}

/// `card read` on a reader demanded `--keys` even for the public EF05: what is public is
/// read without a PSAM, and what needed keys is said to be skipped.
#[test]
fn the_holder_s_public_data_is_read_without_keys() {
    let profile = Profile::builtin("gen3").unwrap();
    let mut card = SimTransport::new(&profile);
    let holder = read_holder(&mut card, None, false).unwrap();
    assert_eq!(holder.card_number, "A32010687");
    assert_eq!(holder.card_id.len(), 32);
    assert_eq!(holder.version, "3.00");
    // EF06 needs key 0A on a third-generation card: skipped, and said so.
    assert_eq!(holder.social_security_number, "");
    assert_eq!(holder.card_authentic, None);
    assert_eq!(holder.skipped.len(), 2, "{:?}", holder.skipped);
    assert!(holder.skipped[0].contains("key 00"), "{:?}", holder.skipped);
    assert!(holder.skipped[1].contains("EF06"), "{:?}", holder.skipped);
    assert!(holder.skipped[1].contains("key 0A"), "{:?}", holder.skipped);
    // With the keys, nothing is skipped.
    let mut card = SimTransport::new(&profile);
    let atr = card.atr().unwrap();
    let mut psam = Psam::new(&Keys::from_profile(&profile), &atr).unwrap();
    let holder = read_holder(&mut card, Some(&mut psam), false).unwrap();
    assert!(holder.skipped.is_empty(), "{:?}", holder.skipped);
    assert!(!holder.social_security_number.is_empty());
    assert_eq!(holder.card_authentic, Some(true));
    // A second-generation card's EF06 is free to read: only the check of the card is skipped.
    let gen2 = Profile::builtin("gen2").unwrap();
    let holder = read_holder(&mut SimTransport::new(&gen2), None, false).unwrap();
    assert!(!holder.social_security_number.is_empty());
    assert_eq!(holder.skipped.len(), 1, "{:?}", holder.skipped);
}

/// The JSON of `card read` says what was skipped (nothing, with the virtual card's keys).
#[test]
fn card_read_json_lists_what_was_skipped() {
    let (code, out, err) = harness(&["card", "read", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["skipped"], serde_json::json!([]));
    assert_eq!(v["card_number"], "A32010687");
}

/// `ssc-harness completions SHELL` prints a script naming the subcommands.
#[test]
fn completions_come_from_the_command_line() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, out, err) = harness(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        for word in ["ssc-harness", "run", "record", "readers", "restore-cmd"] {
            assert!(out.contains(word), "{shell} lacks {word}");
        }
    }
    let dir = temp_dir("completions");
    let (_, script, _) = harness(&["completions", "bash"]);
    let path = dir.join("ssc-harness.bash");
    std::fs::write(&path, script).unwrap();
    if let Ok(check) = Command::new("bash").arg("-n").arg(&path).output() {
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
}

/// `ssc-harness man DIR` writes one page per subcommand.
#[test]
fn man_pages_come_from_the_command_line() {
    let dir = temp_dir("man").join("man1");
    let (code, _, err) = harness(&["man", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for page in [
        "ssc-harness",
        "ssc-harness-run",
        "ssc-harness-record",
        "ssc-harness-card",
        "ssc-harness-readers",
    ] {
        let path = dir.join(format!("{page}.1"));
        let roff =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(roff.contains(&format!(".TH {page} 1")), "{page}");
    }
    let run = std::fs::read_to_string(dir.join("ssc-harness-run.1")).unwrap();
    assert!(run.contains("restore\\-cmd"), "{run}");
}

/// Without the `pcsc` feature, `--reader` says how to install the harness with it.
#[cfg(not(feature = "pcsc"))]
#[test]
fn a_reader_without_the_pcsc_feature_says_how_to_install_it() {
    let (code, _, err) = harness(&["readers"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("cargo install --locked --path harness --features pcsc"),
        "{err}"
    );
}
