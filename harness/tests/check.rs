//! `ssc-harness check` end to end: the planted format errors of
//! tests/declarations/bad-format.toml are each found (item and rule), exit 1; the built-in
//! gen3 and gen2 cards give no findings, exit 0; `--json` parses; the PIN's counter is
//! queried before VERIFY and a counter below its maximum stops it; and the library API
//! (`harness::check::check_card`) without keys or with a wrong PIN.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use applet_sim::Profile;
use applet_sim::model::PinValue;
use harness::check::{CheckOptions, DeclaredPin, check_card};
use harness::transport::SimTransport;

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

fn bad_format() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/declarations/bad-format.toml")
        .to_str()
        .unwrap()
        .to_owned()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssc-check-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `check --json` on a profile: exit code and the parsed document.
fn check_json(extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["check", "--json"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = harness(&args);
    let doc = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("--json does not parse ({e}): {stdout}{stderr}"));
    (code, doc, stderr)
}

#[test]
fn each_planted_format_error_is_found_by_item_and_rule() {
    let profile = bad_format();
    let (code, doc, stderr) = check_json(&["--profile", &profile]);
    assert_eq!(code, 1, "{doc}{stderr}");
    let findings = doc["findings"].as_array().unwrap();
    let planted = [
        ("EF06 tag 08 citizen ID", "ISO 7064 MOD 11-2"),
        ("EF05 tag 07 card number", "check character 8"),
        ("EF05 tag 06 expiry date", "not a date that exists"),
        ("EF05 tag 01 card identification code", "ATR's TA-TD"),
        ("EF06 tag 09 name", "not GBK"),
        ("EF06 tag 0A sex", "GB/T 2261.1"),
    ];
    for (item, rule) in planted {
        assert!(
            findings.iter().any(|f| f["item"] == item
                && f["rule"].as_str().unwrap().contains(rule)
                && !f["clause"].as_str().unwrap().is_empty()),
            "no finding {item} / {rule} in {doc:#}"
        );
    }
    // Nothing else: every other item of gen3 conforms.
    assert_eq!(findings.len(), planted.len(), "{doc:#}");
    let sex = findings
        .iter()
        .find(|f| f["item"] == "EF06 tag 0A sex")
        .unwrap();
    assert_eq!(sex["value"], "7");
    assert_eq!(sex["clause"], "docs/CARD.md §3.4; GB/T 2261.1");
    assert!(doc["checked"].as_u64().unwrap() >= 30, "{doc:#}");
    assert_eq!(doc["atr"], "3B6D000000814A444686603201001C9B25");
}

#[test]
fn the_text_report_has_a_line_per_finding_and_a_summary() {
    let profile = bad_format();
    let (code, stdout, _) = harness(&["check", "--sim", "--profile", &profile]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(
            "EF06 tag 08 citizen ID = \"320102198506121231\": check character 1: ISO 7064 MOD \
             11-2 over the first 17 digits gives X (docs/CARD.md §3.4; GB 11643)"
        ),
        "{stdout}"
    );
    let summary = stdout.lines().last().unwrap();
    assert!(summary.ends_with(" items checked, 6 findings"), "{stdout}");
}

#[test]
fn the_built_in_cards_conform() {
    for profile in ["gen3", "gen2"] {
        let (code, doc, stderr) = check_json(&["--profile", profile]);
        assert_eq!(code, 0, "{profile}: {doc:#}{stderr}");
        assert_eq!(doc["findings"].as_array().unwrap().len(), 0, "{doc:#}");
        // The ATR, EF05 and EF06 (7 each), DF01's records, DF02-DF04's (V2.0 Table 9), the
        // bank's; DF07 and DF04 EF06 need the DF's read key, not the PIN: not checked.
        assert_eq!(doc["checked"].as_u64().unwrap(), 91, "{profile}: {doc:#}");
        let not_checked = doc["not_checked"].to_string();
        assert!(!not_checked.contains("EF06 (social"), "{not_checked}");
        assert!(not_checked.contains("DF07 EF05"), "{not_checked}");
        let (code, stdout, _) = harness(&["check", "--profile", profile]);
        assert_eq!(code, 0);
        assert!(
            stdout.ends_with("91 items checked, 0 findings\n"),
            "{stdout}"
        );
    }
    // The same with a PSAM card computing RKSSSE's cryptogram for EF06.
    let (code, doc, stderr) = check_json(&["--profile", "gen3", "--psam", "builtin"]);
    assert_eq!(code, 0, "{doc:#}{stderr}");
    assert_eq!(doc["checked"].as_u64().unwrap(), 91, "{doc:#}");
}

#[test]
fn a_pin_counter_below_its_maximum_is_never_verified() {
    let gen3 = applet_sim::profile::builtin_text("gen3").unwrap();
    let text = gen3.replacen("# tries = 0 ", "tries = 2 #", 1);
    assert_ne!(text, gen3);
    let path = temp_file("two-tries.toml", &text);
    let (code, stdout, stderr) =
        harness(&["check", "--trace", "--profile", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("the SSSE PIN has 2 tries left, fewer than its declared maximum 3"),
        "{stdout}"
    );
    // The counter was queried (no data), no PIN was sent.
    assert!(stderr.contains("> 00 20 00 00\n"), "{stderr}");
    assert!(!stderr.contains("> 00 20 00 00 03"), "{stderr}");
    assert!(stdout.ends_with(" items checked, 0 findings\n"), "{stdout}");
}

#[test]
fn an_error_exits_2() {
    let (code, _, stderr) = harness(&["check", "--profile", "no-such-profile"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn the_library_reports_what_it_could_not_read() {
    let profile = Profile::builtin("gen3").unwrap();
    let mut card = SimTransport::new(&profile);
    // No keys: EF06 of a 3.0 card is not read; no PIN: nor are the sub-applications.
    let report = check_card(&mut card, None, &CheckOptions::default()).unwrap();
    assert!(report.passed(), "{:?}", report.findings);
    assert_eq!(report.items_checked, 1 + 7 + 4);
    let not_checked = report.not_checked.join("\n");
    assert!(not_checked.contains("RKSSSE"), "{not_checked}");
    assert!(
        not_checked.contains("no SSSE PIN is declared"),
        "{not_checked}"
    );

    // A wrong PIN: VERIFY fails once, and the sub-applications are not read.
    let wrong = DeclaredPin {
        value: PinValue::from_digits("654321").unwrap(),
        max_tries: 3,
    };
    let options = CheckOptions {
        pin: Some(wrong),
        unchecked: false,
    };
    let report = check_card(&mut card, None, &options).unwrap();
    assert!(
        report
            .not_checked
            .iter()
            .any(|n| n.contains("63C2") && n.contains("not this card's")),
        "{:?}",
        report.not_checked
    );
    // The profile's own PIN is the declared one.
    let declared = DeclaredPin::of_profile(&profile).unwrap();
    assert_eq!(declared.max_tries, 3);
}

#[test]
fn keys_that_are_not_the_cards_are_said() {
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/keys/gen3.toml");
    // gen2's EF06 is free to read: the data is checked, the keys' mismatch is said.
    let (code, stdout, stderr) = harness(&[
        "check",
        "--profile",
        "gen2",
        "--keys",
        keys.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("not the IRK's of the keys given"),
        "{stdout}"
    );
    // gen3's EF06 needs RKSSSE: with gen2's keys it is not read (no try spent), the rest is.
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/keys/gen2.toml");
    let (code, doc, stderr) = check_json(&["--profile", "gen3", "--keys", keys.to_str().unwrap()]);
    assert_eq!(code, 0, "{doc:#}{stderr}");
    let not_checked = doc["not_checked"].to_string();
    assert!(
        not_checked.contains("the keys do not match this card"),
        "{not_checked}"
    );
    assert!(not_checked.contains("EF06 (social"), "{not_checked}");
    assert_eq!(doc["checked"].as_u64().unwrap(), 91 - 7, "{doc:#}");
}
