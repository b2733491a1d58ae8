//! Issue 12: the suite holds for every conforming card. Run in process on each test
//! declaration of harness/tests/declarations/ (and the built-ins), it passes with no failure,
//! reports what the card lacks as not applicable, and still fails on a card that behaves
//! differently.

// Test helpers (outside #[test] functions) fail loudly on broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn declaration(name: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/declarations")
        .join(format!("{name}.toml"));
    if file.exists() {
        file.display().to_string()
    } else {
        name.to_owned()
    }
}

/// `ssc-harness run --format json [args] vectors`: (exit code, the JSON report).
fn run(args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_ssc-harness"))
        .current_dir(root())
        .arg("run")
        .args(["--format", "json"])
        .args(args)
        .arg("vectors")
        .output()
        .expect("run ssc-harness");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: no JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn failures(report: &serde_json::Value) -> Vec<String> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "failed")
        .map(|c| format!("{} ({})", c["name"], c["failure"]))
        .collect()
}

fn not_applicable(report: &serde_json::Value) -> Vec<String> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "not-applicable")
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_conforming_declaration_passes() {
    for name in ["gen3", "gen2", "vendor", "six-tries", "no-pki", "no-bank"] {
        let (code, report) = run(&["--profile", &declaration(name)]);
        let failed = failures(&report);
        assert!(
            failed.is_empty(),
            "{name}: {} failed:\n{}",
            failed.len(),
            failed.join("\n")
        );
        assert_eq!(code, 0, "{name}");
        assert!(
            report["summary"]["passed"].as_u64().unwrap() > 100,
            "{name}: too few cases ran"
        );
        let na = not_applicable(&report);
        match name {
            "no-pki" | "gen2" => {
                assert!(na.iter().any(|n| n.starts_with("pki.")), "{name}: {na:?}")
            }
            "no-bank" => assert!(
                na.iter().any(|n| n.starts_with("financial.")),
                "{name}: {na:?}"
            ),
            "gen3" | "vendor" | "six-tries" | "other-limits" => {
                // The test declarations carry no medical e-purse (`needs purse`).
                assert!(
                    na.iter()
                        .all(|n| n.starts_with("gen2.") || n.starts_with("purse.")),
                    "{name}: {na:?}"
                );
            }
            _ => {}
        }
    }
}

#[test]
fn the_built_in_run_uses_each_files_card() {
    let (code, report) = run(&[]);
    assert!(failures(&report).is_empty(), "{:?}", failures(&report));
    assert_eq!(code, 0);
    assert!(not_applicable(&report).is_empty());
    // --keys are the declared card's: the gen2 file's cases keep gen2's own keys.
    let (code, report) = run(&["--keys", "vectors/keys/gen3.toml"]);
    assert!(failures(&report).is_empty(), "{:?}", failures(&report));
    assert_eq!(code, 0);
}

#[test]
fn a_card_that_behaves_differently_fails() {
    let (code, report) = run(&["--profile", &declaration("ef05-after-pin")]);
    assert_eq!(code, 1);
    let failed = failures(&report);
    assert!(
        failed.iter().any(|f| f.contains("record.ef05")),
        "{failed:?}"
    );
}
