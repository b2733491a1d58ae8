//! The state file remembers its declaration (issue 17): the profile's name and the digest of
//! its canonical content. Opened with another profile, or with its own profile edited since,
//! it is refused naming both and left as it was; `--reset-state` (`Card::recreate`) starts it
//! again from the profile; a file of an older build (format 2, no declaration) is taken as
//! the profile's it is opened with, with a warning, and records it from then on.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use applet_sim::{Card, Profile, StateError};
use common::{GEN3, SELECT_SSSE, script, serial};

fn temp_dir(name: &str) -> PathBuf {
    common::temp_dir("decl", name)
}

fn gen3() -> Profile {
    Profile::builtin("gen3").unwrap()
}

/// gen3 with another PIN value, written to `path` and loaded from there.
fn edited(path: &Path, pin: &str) -> Profile {
    fs::write(
        path,
        GEN3.replacen("value = \"123456\"", &format!("value = \"{pin}\""), 1),
    )
    .unwrap();
    Profile::load(path.to_str().unwrap()).unwrap()
}

/// A state file with one wrong SSSE PIN in it (63C2 afterwards).
fn used_state_file(profile: &Profile, path: &Path) {
    let mut card = Card::open(profile, path).unwrap();
    script(
        &mut card,
        &[(SELECT_SSSE, "9000"), ("0020000003999999", "63C2")],
    );
}

fn other_declaration(e: StateError) -> (String, String, String) {
    let message = e.to_string();
    match e {
        StateError::OtherDeclaration {
            recorded, current, ..
        } => (recorded.name.clone(), current.name.clone(), message),
        other => panic!("not a declaration mismatch: {other}"),
    }
}

#[test]
fn another_profile_is_refused_naming_both_and_the_file_is_left_as_it_was() {
    let _serial = serial();
    let dir = temp_dir("other");
    let path = dir.join("card.state");
    used_state_file(&gen3(), &path);
    let before = fs::read(&path).unwrap();
    // The same layout, another card (another PIN value).
    let other = edited(&dir.join("other.toml"), "654321");
    let (recorded, current, message) = other_declaration(Card::open(&other, &path).unwrap_err());
    assert_eq!(recorded, "builtin:gen3");
    assert!(current.ends_with("other.toml"), "{current}");
    assert!(
        message.contains("made from profile builtin:gen3") && message.contains("other.toml"),
        "{message}"
    );
    assert!(message.contains("left as it was"), "{message}");
    // Another layout: named the same way, not as a foreign fingerprint.
    let (recorded, current, _) =
        other_declaration(Card::open(&Profile::builtin("gen2").unwrap(), &path).unwrap_err());
    assert_eq!(
        (recorded.as_str(), current.as_str()),
        ("builtin:gen3", "builtin:gen2")
    );
    assert_eq!(fs::read(&path).unwrap(), before, "a refused file changed");
    // The same card under another name (the built-in printed to a file) is the same
    // declaration: accepted, its state intact.
    let copy = dir.join("copy.toml");
    fs::write(&copy, GEN3).unwrap();
    let mut card = Card::open(&Profile::load(copy.to_str().unwrap()).unwrap(), &path).unwrap();
    script(&mut card, &[(SELECT_SSSE, "9000"), ("00200000", "63C2")]);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn an_edited_profile_is_refused_saying_it_was_edited() {
    let _serial = serial();
    let dir = temp_dir("edited");
    let path = dir.join("card.state");
    let profile = dir.join("mine.toml");
    used_state_file(&edited(&profile, "111111"), &path);
    let before = fs::read(&path).unwrap();
    let (recorded, current, message) =
        other_declaration(Card::open(&edited(&profile, "222222"), &path).unwrap_err());
    assert_eq!(recorded, current);
    assert!(message.contains("the profile was edited"), "{message}");
    assert_eq!(fs::read(&path).unwrap(), before);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn recreate_starts_the_file_again_from_the_profile() {
    let _serial = serial();
    let dir = temp_dir("recreate");
    let path = dir.join("card.state");
    used_state_file(&gen3(), &path);
    let other = edited(&dir.join("other.toml"), "654321");
    {
        let mut card = Card::recreate(&other, &path).unwrap();
        script(&mut card, &[(SELECT_SSSE, "9000"), ("00200000", "63C3")]);
        script(&mut card, &[("0020000003654321", "9000")]);
    }
    // It now belongs to the new profile.
    let mut card = Card::open(&other, &path).unwrap();
    script(&mut card, &[(SELECT_SSSE, "9000"), ("00200000", "63C3")]);
    drop(card);
    let (recorded, _, _) = other_declaration(Card::open(&gen3(), &path).unwrap_err());
    assert!(recorded.ends_with("other.toml"));
    // A missing file is created; a file that is not a state file is refused and kept.
    let fresh = dir.join("fresh.state");
    drop(Card::recreate(&gen3(), &fresh).unwrap());
    assert!(Card::open(&gen3(), &fresh).is_ok());
    let precious = dir.join("notes.txt");
    fs::write(&precious, "not a card").unwrap();
    fs::set_permissions(&precious, fs::Permissions::from_mode(0o600)).unwrap();
    let e = Card::recreate(&gen3(), &precious).unwrap_err().to_string();
    assert!(e.contains("not a card state file"), "{e}");
    assert_eq!(fs::read_to_string(&precious).unwrap(), "not a card");
    let _ = fs::remove_dir_all(&dir);
}

/// CRC-32 (IEEE), as the state file's header uses.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A format-3 file rewritten as format 2 (what the previous build wrote): the declaration
/// record taken out of the snapshot, the header's version, snapshot length and CRC fixed.
fn as_format_2(bytes: &[u8]) -> Vec<u8> {
    assert_eq!(&bytes[8..10], &[3, 0]);
    let len = u32::from_le_bytes(bytes[42..46].try_into().unwrap()) as usize + 12;
    let snapshot = u32::from_le_bytes(bytes[34..38].try_into().unwrap()) as usize - len;
    let mut out = bytes[..42].to_vec();
    out[8..10].copy_from_slice(&2u16.to_le_bytes());
    out[34..38].copy_from_slice(&u32::try_from(snapshot).unwrap().to_le_bytes());
    let crc = crc32(&out[..38]);
    out[38..42].copy_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&bytes[42 + len..]);
    out
}

#[test]
fn a_file_of_an_older_build_is_adopted_and_records_the_profile_from_then_on() {
    let _serial = serial();
    let dir = temp_dir("adopt");
    let path = dir.join("card.state");
    used_state_file(&gen3(), &path);
    fs::write(&path, as_format_2(&fs::read(&path).unwrap())).unwrap();
    {
        let mut card = Card::open(&gen3(), &path).unwrap();
        assert!(card.state_file_adopted());
        script(&mut card, &[(SELECT_SSSE, "9000"), ("00200000", "63C2")]);
    }
    let bytes = fs::read(&path).unwrap();
    assert_eq!(&bytes[8..10], &[3, 0], "migrated to format 3");
    let card = Card::open(&gen3(), &path).unwrap();
    assert!(!card.state_file_adopted());
    drop(card);
    let other = edited(&dir.join("other.toml"), "654321");
    let (recorded, _, _) = other_declaration(Card::open(&other, &path).unwrap_err());
    assert_eq!(recorded, "builtin:gen3");
    let _ = fs::remove_dir_all(&dir);
}

/// `ssc-card ARGS` with `input` on stdin: exit code, stdout, stderr.
fn ssc_card(args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ssc-card"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn the_shell_and_serve_refuse_another_profile_and_reset_state_starts_again() {
    let _serial = serial();
    let dir = temp_dir("cli");
    let state = dir.join("card.state");
    let state = state.to_str().unwrap();
    let other = dir.join("other.toml");
    edited(&other, "654321");
    let other = other.to_str().unwrap();
    let probe = format!("{SELECT_SSSE}\n00200000\n");
    let wrong = format!("{SELECT_SSSE}\n0020000003999999\n");
    let (code, _, _) = ssc_card(&["shell", "--state", state], &wrong);
    assert_eq!(code, 0);
    let before = fs::read(state).unwrap();
    for cmd in ["shell", "serve"] {
        let (code, out, err) = ssc_card(&[cmd, "--state", state, "--profile", other], &probe);
        assert_eq!(code, 2, "{cmd}: {err}");
        assert_eq!(out, "");
        assert!(
            err.contains("made from profile builtin:gen3") && err.contains("other.toml"),
            "{cmd}: {err}"
        );
        assert!(err.contains("add --reset-state"), "{cmd}: {err}");
    }
    assert_eq!(fs::read(state).unwrap(), before);
    // --reset-state: the card starts again from the profile (all tries back).
    let (code, out, err) = ssc_card(
        &[
            "shell",
            "--state",
            state,
            "--profile",
            other,
            "--reset-state",
        ],
        &probe,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("< 63 C3"), "{out}");
    assert!(err.contains("started again from the profile"), "{err}");
    let (code, out, _) = ssc_card(&["shell", "--state", state, "--profile", other], &probe);
    assert_eq!(code, 0);
    assert!(out.contains("63 C3"), "{out}");
    // --reset-state needs --state.
    let (code, _, err) = ssc_card(&["shell", "--reset-state"], "");
    assert_eq!(code, 2);
    assert!(err.contains("--state"), "{err}");
    // A file of an older build: a warning naming it and the profile it is taken as.
    let old = dir.join("old.state");
    drop(Card::open(&gen3(), &old).unwrap());
    fs::write(&old, as_format_2(&fs::read(&old).unwrap())).unwrap();
    let (code, _, err) = ssc_card(&["shell", "--state", old.to_str().unwrap()], &probe);
    assert_eq!(code, 0);
    assert!(
        err.contains("warning:") && err.contains("taken as builtin:gen3's"),
        "{err}"
    );
    let _ = fs::remove_dir_all(&dir);
}
