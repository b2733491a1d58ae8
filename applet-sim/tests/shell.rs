//! `ssc-card shell` through the real binary: the command-line contract of
//! docs/ARCHITECTURE.md.

// Test helpers (outside #[test] functions) fail loudly on broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::Write;
use std::process::{Command, Stdio};

fn shell(input: &str, args: &[&str]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ssc-card"))
        .arg("shell")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start ssc-card");
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
    )
}

#[test]
fn answers_select_of_the_ssse_by_name() {
    let (code, out) = shell(
        "# docs/CARD.md §3.2\n\n00 A4 04 00 0F 7378312E73682EC9E7BBE1B1A3D5CF\n00C000001E\n",
        &[],
    );
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "< 61 1E : 30 bytes available (GET RESPONSE)");
    assert_eq!(
        lines[1],
        "< 6F 1C 84 0F 73 78 31 2E 73 68 2E C9 E7 BB E1 B1 A3 D5 CF A5 09 88 01 1E 9F 0C 03 86 01 03 90 00 : success"
    );
    assert_eq!(lines.len(), 2);
}

#[test]
fn reset_bad_lines_and_malformed_apdus() {
    let (code, out) = shell("reset\nhello\n00\n00A4040\nRESET\n", &[]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "< 3B 6D 00 00 00 81 4A 44 46 86 60 32 01 00 1C 9B 25"
    );
    assert!(lines[1].starts_with("! "), "{}", lines[1]);
    assert_eq!(lines[2], "< 67 00 : wrong length (Lc or Le)");
    assert!(
        lines[3].starts_with("! ") && lines[3].contains("odd"),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4], lines[0]);
    assert_eq!(lines.len(), 5);
}

#[test]
fn a_bad_profile_is_refused_with_file_and_line() {
    let dir = std::env::temp_dir().join(format!("ssc-card-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        "[card]\ndescription = \"x\"\natr = \"3B00\"\nprotocol = \"T=2\"\ncipher = \"sm4\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ssc-card"))
        .args(["shell", "--profile", path.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:4:12: protocol: expected \"T=0\" or \"T=1\""),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn profile_show_prints_an_editable_builtin() {
    let out = Command::new(env!("CARGO_BIN_EXE_ssc-card"))
        .args(["profile", "--show", "gen3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let reparsed = applet_sim::Profile::parse(&text, "shown").unwrap();
    assert_eq!(reparsed.protocol, applet_sim::model::Protocol::T0);
}

#[test]
fn profiles_are_chosen_with_profile() {
    let (code, out) = shell(
        "00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF\n00B2032C06\n00B2013414\n",
        &["--profile", "gen2"],
    );
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    // gen2: spec version "2.00", EF06 free to read (docs/CARD.md §3.3, §7.3).
    assert_eq!(lines[1], "< 03 04 32 2E 30 30 90 00 : success");
    assert!(lines[2].starts_with("< 08 12 ") && lines[2].ends_with("90 00 : success"));
    let path = format!(
        "{}/tests/fixtures/writable.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let (code, out) = shell("reset\n", &["--profile", &path]);
    assert_eq!(code, 0);
    assert_eq!(out, "< 3B 8C 80 01 01 02 03 04 05 06 07 08 09 0A 0B 0C\n");
}
