//! `ssc-harness run --format json|html|junit` on the small suite in tests/report-suite/: the
//! run's identity (checked against what it names: the built-in card's ATR and declaration
//! digest, the suite's files, the requirements file) and a verdict of each kind; unknown
//! requirement ids and malformed lists are errors before the run.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sm3::Digest;

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/report-suite")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
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

/// `run` on the report suite with its requirements, `select` cases only, in `format`.
fn run(format: &str, extra: &[&str]) -> (i32, String, String) {
    let (list, vectors) = (suite().join("requirements.md"), suite().join("vectors"));
    let mut args = vec![
        "run",
        "--format",
        format,
        "--requirements",
        s(&list),
        "--filter",
        "select",
    ];
    args.extend(extra);
    args.push(s(&vectors));
    harness(&args)
}

fn sm3_hex(bytes: &[u8]) -> String {
    hex::encode(sm3::Sm3::digest(bytes))
}

/// The suite digest as identity.rs documents it, computed here independently.
fn suite_sm3(files: &[PathBuf]) -> String {
    let mut names: Vec<String> = files.iter().map(|p| s(p).to_owned()).collect();
    names.sort();
    let mut text = Vec::new();
    for name in names {
        text.extend_from_slice(name.as_bytes());
        text.push(0);
        text.extend_from_slice(sm3_hex(&std::fs::read(&name).unwrap()).as_bytes());
        text.push(b'\n');
    }
    sm3_hex(&text)
}

#[test]
fn json_has_the_run_identity_and_a_verdict_per_requirement() {
    let (code, out, err) = run("json", &[]);
    assert_eq!(code, 1, "{out}{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();

    let run = &doc["run"];
    let gen3 = applet_sim::Profile::builtin("gen3").unwrap();
    assert_eq!(run["tool"], "ssc-harness");
    assert_eq!(run["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(run["target"], doc["target"]);
    assert!(run["target"].as_str().unwrap().starts_with("sim"), "{run}");
    assert_eq!(run["atr"], apdu::hex_compact(&gen3.atr));
    assert_eq!(run["declaration"]["name"], "gen3");
    assert_eq!(run["declaration"]["declared"], false);
    assert_eq!(run["declaration"]["sm3"], hex::encode(gen3.digest()));
    let vectors = suite().join("vectors");
    assert_eq!(run["suite"]["files"], 2, "read, filtered out or not");
    assert_eq!(
        run["suite"]["sm3"],
        suite_sm3(&[vectors.join("select.apdu"), vectors.join("other.apdu")])
    );
    let list = std::fs::read(suite().join("requirements.md")).unwrap();
    assert_eq!(run["requirements"]["sm3"], sm3_hex(&list));
    assert_eq!(run["requirements"]["count"], 5);
    let started = run["started"].as_str().unwrap();
    let shape: String = started
        .chars()
        .map(|c| if c.is_ascii_digit() { 'D' } else { c })
        .collect();
    assert_eq!(shape, "DDDD-DD-DDTDD:DD:DDZ", "{started}");

    let summary = &doc["summary"];
    for (key, n) in [
        ("total", 3),
        ("passed", 1),
        ("failed", 1),
        ("skipped", 0),
        ("not_applicable", 1),
    ] {
        assert_eq!(summary[key], n, "{key}");
    }
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(
        cases[0]["requirements"],
        serde_json::json!(["REQ-T-01", "REQ-T-02"])
    );

    let verdicts: Vec<(&str, &str, Vec<&str>)> = doc["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap(),
                r["verdict"].as_str().unwrap(),
                r["cases"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("REQ-T-01", "PASS", vec!["select.pass"]),
            ("REQ-T-02", "FAIL", vec!["select.pass", "select.fail"]),
            ("REQ-T-03", "N/A", vec!["select.des-only"]),
            ("REQ-T-04", "NOT TESTED", vec![]),
            ("REQ-T-05", "NOT TESTED", vec![]),
        ]
    );
    assert_eq!(doc["requirements"][0]["clause"], "§4.3");
}

#[test]
fn jobs_and_a_declared_card_keep_the_identity() {
    let (code, out, err) = run("json", &["--jobs", "2", "--profile", "gen3"]);
    assert_eq!(code, 1, "{out}{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let gen3 = applet_sim::Profile::builtin("gen3").unwrap();
    assert_eq!(doc["run"]["atr"], apdu::hex_compact(&gen3.atr));
    assert_eq!(doc["run"]["declaration"]["declared"], true);
    assert_eq!(doc["run"]["declaration"]["sm3"], hex::encode(gen3.digest()));
    assert_eq!(doc["requirements"][1]["verdict"], "FAIL");
}

#[test]
fn html_is_one_escaped_page_with_identity_verdicts_and_the_failure() {
    let out_file = std::env::temp_dir().join(format!("ssc-report-{}.html", std::process::id()));
    let (code, stdout, err) = run("html", &["-o", s(&out_file)]);
    assert_eq!(code, 1, "{err}");
    assert!(stdout.is_empty());
    let html = std::fs::read_to_string(&out_file).unwrap();
    let _ = std::fs::remove_file(&out_file);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.to_ascii_lowercase().contains("<script"));
    assert!(!html.contains("http"));
    let gen3 = applet_sim::Profile::builtin("gen3").unwrap();
    assert!(html.contains(&apdu::hex_spaced(&gen3.atr)));
    assert!(html.contains(&hex::encode(gen3.digest())));
    for (id, label) in [
        ("REQ-T-01", "PASS"),
        ("REQ-T-02", "FAIL"),
        ("REQ-T-03", "N/A"),
        ("REQ-T-04", "NOT TESTED"),
    ] {
        let row = html
            .lines()
            .find(|l| l.starts_with(&format!("<tr id=\"req-{id}\">")))
            .unwrap_or_else(|| panic!("{id}: {html}"));
        assert!(row.contains(&format!(">{label}</span>")), "{row}");
    }
    assert!(html.contains("step 1 at line 12"), "{html}");
    assert!(
        html.contains("<code><mark>61</mark> <mark>1E</mark></code>"),
        "{html}"
    );
    assert!(html.contains("30 bytes available (GET RESPONSE)"), "{html}");
}

#[test]
fn junit_has_the_identity_as_properties_and_a_requirements_suite() {
    let (code, xml, err) = run("junit", &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        xml.contains("<property name=\"tool\" value=\"ssc-harness "),
        "{xml}"
    );
    assert!(
        xml.contains("<property name=\"suite.files\" value=\"2\"/>"),
        "{xml}"
    );
    assert!(
        xml.contains("<testsuite name=\"requirements\" tests=\"5\" failures=\"1\" skipped=\"3\""),
        "{xml}"
    );
    assert!(xml.contains("<testcase name=\"REQ-T-02\" classname=\"requirements\" time=\"0\">\n      <failure message=\"FAIL: select.fail failed\">"), "{xml}");
    assert!(
        xml.contains(
            "<skipped message=\"N/A: not applicable to the declared card: select.des-only\"/>"
        ),
        "{xml}"
    );
    assert!(
        xml.contains("<skipped message=\"NOT TESTED: no case of the run names it\"/>"),
        "{xml}"
    );
}

#[test]
fn an_unknown_requirement_is_an_error_before_the_run() {
    let list = suite().join("requirements.md");
    let unknown = suite().join("unknown");
    let (code, out, err) = harness(&["run", "--requirements", s(&list), s(&unknown)]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("unknown.apdu:8: case \"misspelt\" names requirement \"REQ-T-99\""),
        "{err}"
    );
    // The built-in list is the default, and does not have the suite's ids.
    let (code, _, err) = harness(&["run", s(&suite().join("vectors"))]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("docs/REQUIREMENTS.md (built in)"), "{err}");
}

#[test]
fn a_malformed_list_is_an_error_naming_its_line() {
    let dir = std::env::temp_dir().join(format!("ssc-reports-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let list = dir.join("bad.md");
    std::fs::write(&list, "# List\n\n| REQ-A | §1 | fine |\n| REQ-B | §2 |\n").unwrap();
    let (code, _, err) = harness(&[
        "run",
        "--requirements",
        s(&list),
        s(&suite().join("vectors")),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("bad.md:4: a requirement row has 3 cells"),
        "{err}"
    );
    let (code, _, err) = harness(&[
        "run",
        "--requirements",
        "/dev/zero",
        s(&suite().join("vectors")),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/dev/zero: not a regular file"), "{err}");
}
