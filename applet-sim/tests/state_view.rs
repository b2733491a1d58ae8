//! `ssc-card state FILE` (issue 13, "looking at a card"): a state file's counters, blocks and
//! files, in text and JSON, read without opening the file for writing — its bytes and mtime
//! stay as they were, nothing is created beside it, a torn tail or an older format is shown
//! as opening would leave it without being repaired, a file another process holds is read
//! without waiting. Errors name the file and exit non-zero.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use applet_sim::{Card, Profile};
use common::{GEN3, SELECT_SSSE, script, serial};

fn temp_dir(name: &str) -> PathBuf {
    common::temp_dir("view", name)
}

/// `ssc-card state ARGS`: exit code, stdout, stderr.
fn state(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ssc-card"))
        .arg("state")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A card in a chosen state (the SSSE blocked, key 0A locked) on a state file, with one
/// wrong bank PIN; its profile is a file beside it.
fn a_used_card(dir: &Path) -> (PathBuf, PathBuf) {
    let profile = dir.join("chosen.toml");
    let text = GEN3
        .replacen(
            "# blocked = \"permanent\" #",
            "blocked = \"permanent\" #",
            1,
        )
        .replacen("id = 0x0A ", "tries = 0\nid = 0x0A ", 1);
    fs::write(&profile, text).unwrap();
    let p = Profile::load(profile.to_str().unwrap()).unwrap();
    let path = dir.join("card.state");
    let mut card = Card::open(&p, &path).unwrap();
    script(
        &mut card,
        &[
            (SELECT_SSSE, "9303"),
            ("00A4040C08A000000333010101", "9000"),
            ("0020000003999999", "63C2"),
        ],
    );
    (path, profile)
}

/// The file's bytes and modification time, and the names in its folder.
fn snapshot(path: &Path) -> (Vec<u8>, SystemTime, Vec<String>) {
    let mut names: Vec<String> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    (
        fs::read(path).unwrap(),
        fs::metadata(path).unwrap().modified().unwrap(),
        names,
    )
}

#[test]
fn text_shows_counters_blocks_and_files_named_by_the_profile_it_was_made_from() {
    let _serial = serial();
    let dir = temp_dir("text");
    let (path, profile) = a_used_card(&dir);
    let profile = profile.to_str().unwrap();
    // A profile file is named with --profile (a path the state file records is never
    // opened on its word).
    let (code, out, err) = state(&[path.to_str().unwrap(), "--profile", profile]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!(
            "{}: state file, format 3, made from profile {profile} (declaration ",
            path.display()
        )),
        "{out}"
    );
    for line in [
        &format!("names and maxima from profile {profile}"),
        "card: not blocked",
        "  SSSE (ssse): BLOCKED, permanent",
        "  PSE (pboc): not blocked",
        "  PKI (pki): not blocked",
        "  SSSE PIN reference 00: 3 of 3 tries left",
        "  UNIONPAY PIN reference 00: 2 of 3 tries left",
        "  CERT PIN reference 00: 10 of 10 tries left",
        "  SSSE key id 0A version 1: 0 of 3 tries left (BLOCKED)",
        "  SSSE key id 04 version 1: 3 of 3 tries left",
        "  SSSE/EF05 (SFI 05, linear, 7 records)",
        "      7: 07 09 41 33 32 30 31 30 36 38 37",
        "  SSSE/EF08 (SFI 08, transparent, 4096 bytes)",
        "    0000: FF D8 FF E0 00 10 4A 46 49 46 00 01 01 00 00 00 01 00 01 00 00 FF D9 00 00 00 00 00 00 00 00 00",
        "    0017: 00 to the end (4073 bytes)",
        "  DF02/EF16 (SFI 16, cyclic, 0 records)",
        "  UNIONPAY/0002 (SFI 02, linear, 1 record)",
    ] {
        assert!(out.lines().any(|l| l == line), "no line {line:?} in\n{out}");
    }
    // No PIN value, in any form, and no note.
    assert!(
        !out.contains("123456") && !out.contains("12 34 56"),
        "{out}"
    );
    assert!(!out.contains("note:"), "{out}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn json_has_the_same_facts() {
    let _serial = serial();
    let dir = temp_dir("json");
    let (path, profile) = a_used_card(&dir);
    let (code, out, err) = state(&[
        path.to_str().unwrap(),
        "--json",
        "--profile",
        profile.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["format"], 3);
    assert_eq!(v["made_from"]["profile"], profile.to_str().unwrap());
    assert_eq!(v["made_from"]["digest"].as_str().unwrap().len(), 64);
    assert_eq!(v["card_blocked"], false);
    let apps = v["applications"].as_array().unwrap();
    assert_eq!(apps[0]["df"], "SSSE");
    assert_eq!(apps[0]["blocked"], "permanent");
    assert_eq!(apps[1]["blocked"], serde_json::Value::Null);
    let bank_pin = &v["pins"][1];
    assert_eq!(
        (&bank_pin["df"], &bank_pin["remaining"], &bank_pin["max"]),
        (&"UNIONPAY".into(), &2.into(), &3.into())
    );
    let key_0a = v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["reference"] == "0A")
        .unwrap();
    assert_eq!(
        (&key_0a["remaining"], &key_0a["version"]),
        (&0.into(), &1.into())
    );
    let ef05 = &v["files"][0];
    assert_eq!(
        (&ef05["df"], &ef05["fid"]),
        (&"SSSE".into(), &"EF05".into())
    );
    assert_eq!(
        ef05["content"]["records"][6], "0709413332303130363837",
        "{ef05}"
    );
    let ef08 = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fid"] == "EF08" && f["df"] == "SSSE")
        .unwrap();
    assert_eq!(ef08["content"]["binary"].as_str().unwrap().len(), 2 * 4096);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn looking_changes_nothing_and_does_not_wait_for_the_card_that_holds_the_file() {
    let _serial = serial();
    let dir = temp_dir("readonly");
    let (path, profile) = a_used_card(&dir);
    let p = path.to_str().unwrap();
    let before = snapshot(&path);
    // While a card holds the file (locked), and after.
    {
        let _card = Card::open(&Profile::load(profile.to_str().unwrap()).unwrap(), &path).unwrap();
        let before = snapshot(&path);
        assert_eq!(state(&[p]).0, 0);
        assert_eq!(state(&[p, "--json"]).0, 0);
        assert_eq!(snapshot(&path), before);
    }
    assert_eq!(state(&[p]).0, 0);
    assert_eq!(snapshot(&path), before);
    // A torn tail is shown as opening would leave it, and left on the disk.
    let mut torn = fs::read(&path).unwrap();
    torn.extend_from_slice(&[0x20, 0, 0, 0, 0xDF]);
    fs::write(&path, &torn).unwrap();
    let before = snapshot(&path);
    let (code, out, _) = state(&[p, "--profile", profile.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        out.contains("note: the last 5 bytes are a write cut short"),
        "{out}"
    );
    assert!(out.contains("UNIONPAY PIN reference 00: 2 of 3"), "{out}");
    assert_eq!(snapshot(&path), before, "the torn tail was repaired");
    // A missing file is not created.
    let missing = dir.join("none.state");
    let (code, out, err) = state(&[missing.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("none.state: cannot read"), "{err}");
    assert!(!missing.exists());
    let _ = fs::remove_dir_all(&dir);
}

/// A format-1 file (the fixture of an older build) is shown as read, not migrated; it
/// records no profile, so the counters are by number unless `--profile` names them.
#[test]
fn an_older_format_is_shown_not_migrated() {
    let _serial = serial();
    let dir = temp_dir("old");
    let path = dir.join("old.state");
    fs::copy(
        format!(
            "{}/tests/fixtures/v1-gen3.state",
            env!("CARGO_MANIFEST_DIR")
        ),
        &path,
    )
    .unwrap();
    let before = snapshot(&path);
    let p = path.to_str().unwrap();
    let (code, out, _) = state(&[p]);
    assert_eq!(code, 0);
    assert!(out.contains("state file, format 1\n"), "{out}");
    assert!(
        out.contains("note: format 1, written by an older build"),
        "{out}"
    );
    assert!(out.contains("no profile for this file"), "{out}");
    assert!(out.contains("  PIN #0: 2 tries left"), "{out}");
    // The gen3 layout it was written for (the built-in has grown since).
    let v1 = format!("{}/tests/fixtures/v1-gen3.toml", env!("CARGO_MANIFEST_DIR"));
    let (code, out, _) = state(&[p, "--profile", &v1]);
    assert_eq!(code, 0);
    assert!(
        out.contains("  SSSE PIN reference 00: 2 of 3 tries left"),
        "{out}"
    );
    // Today's gen3 holds its keys in version 01: another layout, by number.
    let (code, out, _) = state(&[p, "--profile", "gen3"]);
    assert_eq!(code, 0);
    assert!(out.contains("written for another card layout than profile builtin:gen3"));
    // gen2 has another layout: by number, saying so.
    let (code, out, _) = state(&[p, "--profile", "gen2"]);
    assert_eq!(code, 0);
    assert!(out.contains("written for another card layout than profile builtin:gen2"));
    assert_eq!(snapshot(&path), before, "the old file was changed");
    let _ = fs::remove_dir_all(&dir);
}

/// When the profile the file was made from is gone or was edited, the file is still shown,
/// by number, with a note.
#[test]
fn a_lost_or_edited_profile_shows_the_file_by_number() {
    let _serial = serial();
    let dir = temp_dir("lost");
    let (path, profile) = a_used_card(&dir);
    let p = path.to_str().unwrap();
    fs::write(&profile, GEN3).unwrap();
    let (code, out, _) = state(&[p, "--profile", profile.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains("declares another card than the file"), "{out}");
    // Without --profile the recorded path is not opened: the file by number, and how to
    // name it.
    fs::remove_file(&profile).unwrap();
    let (code, out, _) = state(&[p]);
    assert_eq!(code, 0);
    assert!(
        out.contains("made from the profile file") && out.contains("give it with --profile"),
        "{out}"
    );
    assert!(out.contains("  #1: BLOCKED, permanent"), "{out}");
    assert!(out.contains("  file #11 (?, 7 records)"), "{out}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn files_that_are_not_state_files_are_plain_errors_naming_them() {
    let _serial = serial();
    let dir = temp_dir("errors");
    let (path, _) = a_used_card(&dir);
    let text = dir.join("notes.txt");
    fs::write(&text, "hello").unwrap();
    let empty = dir.join("empty.state");
    fs::write(&empty, "").unwrap();
    let mut bytes = fs::read(&path).unwrap();
    bytes[20] ^= 0xFF; // in the header's salt: its checksum fails
    let corrupt = dir.join("corrupt.state");
    fs::write(&corrupt, &bytes).unwrap();
    let cases = [
        (text, "notes.txt: not a card state file"),
        (empty, "empty.state: empty"),
        (corrupt, "corrupt.state: corrupt header"),
        (dir.clone(), "not a regular file (a folder)"),
        (PathBuf::from("/dev/zero"), "/dev/zero: not a regular file"),
    ];
    for (file, message) in cases {
        let (code, out, err) = state(&[file.to_str().unwrap()]);
        assert_eq!(code, 2, "{}", file.display());
        assert_eq!(out, "");
        assert!(err.starts_with("error: ") && err.contains(message), "{err}");
    }
    let _ = fs::remove_dir_all(&dir);
}

/// A life-cycle record naming one application many times (which opening refuses) is
/// refused as damaged, not shown at a size that grows with the file.
#[test]
fn a_life_cycle_record_listing_an_application_twice_is_damage() {
    let _serial = serial();
    let dir = temp_dir("lifecycle");
    let (path, profile) = a_used_card(&dir);
    let mut bytes = fs::read(&path).unwrap();
    let record = applet_sim::testing::Record::Lifecycle {
        card_blocked: false,
        blocked_apps: vec![(1, true); 1000],
    };
    bytes.extend(record.encode());
    fs::write(&path, &bytes).unwrap();
    let (code, out, err) = state(&[
        path.to_str().unwrap(),
        "--profile",
        profile.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("lists an application twice"), "{err}");
    // Opening the card refuses the same file.
    assert!(Card::open(&Profile::load(profile.to_str().unwrap()).unwrap(), &path).is_err());
    let _ = fs::remove_dir_all(&dir);
}

/// Names that come from files are printed with their control characters escaped: a
/// profile path with an escape sequence in it cannot drive the terminal.
#[test]
fn control_characters_in_names_are_escaped() {
    let _serial = serial();
    let dir = temp_dir("escape");
    let profile = dir.join("\u{1b}]0;owned\u{7}.toml");
    fs::write(&profile, GEN3).unwrap();
    let path = dir.join("card.state");
    drop(Card::open(&Profile::load(profile.to_str().unwrap()).unwrap(), &path).unwrap());
    let (code, out, err) = state(&[path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert!(out.contains("\\u{1b}]0;owned\\u{7}.toml"), "{out}");
    let _ = fs::remove_dir_all(&dir);
}
