//! Scripts users already have (scriptor, apdutool, ETSI TS 101 955), `convert`, `record`,
//! `--jobs`, `--tags`, and the reports agreeing with each other.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use harness::import::{Format, parse_str};
use harness::vectors::StepKind;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn harness(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ssc-harness"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssc-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn formats_are_detected_by_extension_and_content() {
    let p = Path::new;
    assert_eq!(Format::detect(p("a.scr"), ""), Format::Apdutool);
    // `.scr` is apdutool's extension and, by habit, scriptor's: the content decides.
    assert_eq!(
        Format::detect(p("t1.scr"), "reset\n00 A4 04 00\nexit\n"),
        Format::Scriptor
    );
    assert_eq!(
        Format::detect(p("t2.scr"), "0x00 0xA4 0x00 0x00 0x00 0x7F;\n"),
        Format::Apdutool
    );
    assert_eq!(Format::detect(p("a.etsi"), ""), Format::Etsi);
    assert_eq!(
        Format::detect(p("a.txt"), "00 A4 04 00\nreset\n"),
        Format::Scriptor
    );
    assert_eq!(
        Format::detect(p("a.txt"), "powerup;\n0x00 0xA4 0x00 0x00 0x00 0x7F;\n"),
        Format::Apdutool
    );
    assert_eq!(
        Format::detect(p("a.txt"), "RST\nCMD 00 A4 00 00 (90 00)\n"),
        Format::Etsi
    );
    assert_eq!(
        Format::detect(p("a.txt"), "version 2\ncase x\nreset\n"),
        Format::Native
    );
}

#[test]
fn scripts_parse_into_steps() {
    let c = &parse_str(
        "reset\n00 B2 01 04 \\\n 12  # comment\nexit\n00 00\n",
        Path::new("s.scriptor"),
    )
    .unwrap()[0];
    assert_eq!(c.name, "s");
    assert_eq!(c.steps.len(), 2);
    assert_eq!(c.steps[1].line, 2);
    let StepKind::Exchange {
        command, expect, ..
    } = &c.steps[1].kind
    else {
        panic!()
    };
    assert_eq!(command, &[0x00, 0xB2, 0x01, 0x04, 0x12]);
    assert!(expect.matches(&[0x6A, 0x82]) && expect.matches(&[1, 2, 0x90, 0]));
    // apdutool: LE 0x7F dropped, other LE kept, decimal bytes, comments.
    let c = &parse_str(
        "powerup; /* x\n y */ 0x00 0x20 0x00 0x00 0x02 0x12 0x34 0x7F;\n0 178 1 4 0 18; // read\n",
        Path::new("v.scr"),
    )
    .unwrap()[0];
    let commands: Vec<Vec<u8>> = c
        .steps
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::Exchange { command, .. } => Some(command.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        commands,
        [
            vec![0x00, 0x20, 0x00, 0x00, 0x02, 0x12, 0x34],
            vec![0x00, 0xB2, 0x01, 0x04, 0x12]
        ]
    );
    assert_eq!(c.steps[1].line, 2);
    // ETSI: [data] with XX, (SW, SW).
    let c = &parse_str(
        "RST\nCMD 00 B2 01 04 03 [01 XX 33] (90 00, 62 83)\n",
        Path::new("e.etsi"),
    )
    .unwrap()[0];
    let StepKind::Exchange { expect, .. } = &c.steps[1].kind else {
        panic!()
    };
    assert!(expect.matches(&[0x01, 0x77, 0x33, 0x62, 0x83]));
    assert!(!expect.matches(&[0x01, 0x77, 0x34, 0x90, 0x00]));
}

#[test]
fn broken_scripts_name_file_and_line() {
    #[rustfmt::skip]
    let table = [
        ("bad.scriptor", "reset\n00 A4 0G 00\n", 2, "hex APDU"),
        ("bad.scr", "powerup;\n0x00 0xA4 0xZZ 0x00 0x00 0x7F;\n", 2, "expected a byte"),
        ("short.scr", "0x00 0xA4 0x04 0x00 0x05 0x01 0x7F;\n", 1, "LC says 5"),
        ("open.scr", "0x00 0xA4 0x04 0x00 0x00 0x7F\n", 1, "expected `;`"),
        ("bad.etsi", "RST\nSEND 00 A4\n", 2, "expected RST, OFF, INI, REM or CMD"),
        ("bad2.etsi", "CMD 00 A4 00 00 (90 00\n", 1, "expected `)`"),
        ("empty.scriptor", "# nothing\n", 1, "sends no command"),
    ];
    for (name, text, line, message) in table {
        let e = parse_str(text, Path::new(name)).unwrap_err();
        assert_eq!(e.line, line, "{name}: {e}");
        assert!(e.message.contains(message), "{name}: {e}");
        assert!(e.to_string().starts_with(&format!("{name}:{line}:")), "{e}");
    }
}

/// The "done when": a session recorded from a scriptor and an apdutool script
/// replays green on the same profile and fails with file:line on --profile gen2.
#[test]
fn recorded_sessions_replay_and_catch_another_card() {
    let out = temp("recorded.apdu");
    let (code, _, err) = harness(&[
        "record",
        "vectors/import/ssse-read.scriptor",
        "docs/examples/import/verify.scr",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("case ssse-read") && text.contains("case verify"),
        "{text}"
    );
    let (code, stdout, _) = harness(&["run", "--no-data", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("2 passed, 0 failed"), "{stdout}");
    let (code, stdout, _) = harness(&[
        "run",
        "--no-data",
        "--profile",
        "gen2",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stdout}");
    // Both recorded cases fail on the other card, each naming its line in the recording
    // (the first at its ATR: verify.scr's case comes first, its path sorting first).
    assert!(
        stdout.contains(&format!(
            "FAIL verify ({}:4), step 1 at line 6",
            out.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("FAIL ssse-read ({}:", out.display())),
        "{stdout}"
    );
}

#[test]
fn record_wildcards_challenges_and_psam_answers() {
    let out = temp("psam-recorded.apdu");
    let (code, _, err) = harness(&[
        "record",
        "vectors/issuer/psam.apdu",
        "vectors/challenge",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("psam int-auth\n  < XX XX XX XX XX XX XX XX 9000"),
        "{text}"
    );
    let (code, stdout, _) = harness(&["run", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn convert_keeps_expectations() {
    let (code, text, err) = harness(&["convert", "vectors/import/ef05.etsi"]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("< 03 04 xx 2E 30 xx 9000|6283"), "{text}");
    let path = temp("converted.apdu");
    std::fs::write(&path, &text).unwrap();
    let (code, stdout, _) = harness(&["run", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
}

fn json_cases(stdout: &str) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(stdout).unwrap();
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn jobs_give_the_serial_result_and_reports_agree() {
    let (code, serial, _) = harness(&["run", "--format", "json", "vectors"]);
    assert_eq!(code, 0);
    let (code, parallel, _) = harness(&["run", "--format", "json", "--jobs", "3", "vectors"]);
    assert_eq!(code, 0);
    let cases = json_cases(&serial);
    assert!(cases.len() >= 200, "{} cases", cases.len());
    assert_eq!(cases, json_cases(&parallel));
    let (code, junit, _) = harness(&["run", "--format", "junit", "vectors"]);
    assert_eq!(code, 0);
    // One testcase per case, besides the requirements' testsuite (one per requirement).
    let requirement_cases = junit.matches("classname=\"requirements\"").count();
    assert_eq!(
        junit.matches("<testcase ").count() - requirement_cases,
        cases.len()
    );
    let (code, tagged, _) = harness(&[
        "run",
        "--format",
        "json",
        "--tags",
        "gen2,import",
        "vectors",
    ]);
    assert_eq!(code, 0);
    let tagged = json_cases(&tagged);
    assert!(!tagged.is_empty() && tagged.len() < cases.len());
}

#[test]
fn auto_response_follows_61xx_and_the_trace_shows_it() {
    let path = temp("auto.apdu");
    std::fs::write(
        &path,
        "case fci-in-one\n> 00 A4 04 00 0F 7378312E73682EC9E7BBE1B1A3D5CF 00\n\
         < 6F 1C * 9000\n",
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let (code, _, _) = harness(&["run", p]);
    assert_eq!(code, 1, "without --auto-response the card answers 61 1E");
    let (code, out, _) = harness(&["run", "--auto-response", "--trace", p]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("< 61 1E"), "{out}");
    assert!(out.contains("> 00 C0 00 00 1E"), "{out}");
}

#[test]
fn v2_directives_are_checked_when_parsed() {
    #[rustfmt::skip]
    let table = [
        ("case a\n> 00 82 00 0A 10 {r}\n< 9000\n", 2, 18, "not captured before"),
        ("case a\n> 00 84 00 00 08\n< {r:8 9000\n", 3, 3, "{name:N}"),
        ("case a\ninclude nowhere.steps\n", 2, 9, "cannot read"),
        ("case a\nselect moon\n< 9000\n", 2, 8, "select: expected"),
        ("case a\nverify 12x4\n< 9000\n", 2, 8, "not decimal digits"),
        ("case a\nreset\nprofile gen2\n", 3, 9, "before the first case"),
    ];
    for (text, line, column, message) in table {
        let e = harness::vectors::parse_str(text, Path::new("v.apdu")).unwrap_err();
        assert_eq!((e.line, e.column), (line, column), "{text:?}: {e}");
        assert!(e.message.contains(message), "{text:?}: {e}");
    }
}
