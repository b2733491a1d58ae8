//! `ssc-harness run` end to end: the suite in vectors/ passes against the built-in card, a
//! failing vector exits 1 with a report naming case, file and line, a broken file exits 2
//! naming file:line:column.

// Test helpers (outside #[test] functions) fail loudly on broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

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

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssc-harness-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_suite_passes_in_process_and_reports_json() {
    let suite = suite();
    let (code, stdout, stderr) = harness(&["run", "--format", "json", suite.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let total = doc["summary"]["total"].as_u64().unwrap();
    assert!(total >= 100, "only {total} cases");
    assert_eq!(doc["summary"]["passed"].as_u64().unwrap(), total);
    assert_eq!(doc["summary"]["failed"].as_u64().unwrap(), 0);
    assert_eq!(doc["summary"]["skipped"].as_u64().unwrap(), 0);
    assert_eq!(doc["cases"].as_array().unwrap().len() as u64, total);
}

#[test]
fn a_wrong_expectation_fails_with_exit_1_and_a_precise_report() {
    let path = temp_file(
        "wrong.apdu",
        "case wrong.fci\n> 00A404000F7378312E73682EC9E7BBE1B1A3D5CF\n< 9000\n\
         case right\n> 00A40000\n< 9000\n",
    );
    let (code, stdout, _) = harness(&["run", "--no-data", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("FAIL wrong.fci ("), "{stdout}");
    assert!(
        stdout.contains("wrong.apdu:1), step 1 at line 2"),
        "{stdout}"
    );
    assert!(stdout.contains("expected: 9000"), "{stdout}");
    assert!(stdout.contains("actual:   61 1E"), "{stdout}");
    assert!(stdout.contains("1 passed, 1 failed, 0 skipped"), "{stdout}");

    let junit = temp_file("report.xml", "");
    let (code, _, _) = harness(&[
        "run",
        "--no-data",
        "--format",
        "junit",
        "-o",
        junit.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
    assert!(
        xml.contains("<failure message=\"step 1 at line 2: expected 9000, got 611E\""),
        "{xml}"
    );
}

#[test]
fn a_broken_file_is_an_error_naming_file_line_and_column() {
    let path = temp_file("broken.apdu", "case a\n> 00A40000\n< 9000\nsend 00A40000\n");
    let (code, stdout, stderr) = harness(&["run", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stderr.contains("broken.apdu:4:1: unknown directive \"send\""),
        "{stderr}"
    );
    let (code, _, stderr) = harness(&["run", "/nonexistent/vectors"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent/vectors"), "{stderr}");
    let (code, _, stderr) = harness(&["run", "--profile", "gen9", suite().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no built-in profile \"gen9\""), "{stderr}");
}

#[test]
fn filter_selects_cases() {
    let (code, stdout, _) = harness(&["run", "--filter", "t0", suite().to_str().unwrap()]);
    assert_eq!(code, 0);
    let line = stdout.lines().last().unwrap();
    let passed: usize = line.split(' ').next().unwrap().parse().unwrap();
    assert!((5..60).contains(&passed), "{line}");
}
