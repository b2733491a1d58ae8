//! `ssc-harness diff` in process (docs/DIFF.md): every behaviour variant of docs/CARD.md §9.9
//! (and the protocol) is found against the default declaration, and none is found where the
//! card is its declaration; the CLI writes vectors that pass on the model and fail on the
//! card, and its JSON summary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use applet_sim::Profile;
use applet_sim::model::behaviour::CHOICES;
use harness::declaration::Declaration;
use harness::diff::{DEFAULT_SEQUENCES, DiffOptions, Differ, Summary};
use harness::transport::SimTransport;

const GEN3: &str = include_str!("../../applet-sim/profiles/gen3.toml");

fn in_process(seed: u64) -> DiffOptions {
    DiffOptions {
        seed,
        sequences: DEFAULT_SEQUENCES,
        restorable: true,
        in_process: true,
        ..DiffOptions::default()
    }
}

fn diff(card: &str, declaration: &str, seed: u64) -> Summary {
    let card = Profile::parse(card, "card").unwrap();
    let declared = Declaration::new("declared", Profile::parse(declaration, "declared").unwrap());
    let mut target = SimTransport::new(&card);
    Differ::new(&mut target, &declared, None, in_process(seed))
        .diff(|_, _| {})
        .unwrap()
}

/// gen3 with one option of `[behaviour]` switched to its other value.
fn variant(name: &str, value: &str) -> String {
    format!("{GEN3}\n[behaviour]\n{name} = \"{value}\"\n")
}

#[test]
fn every_variant_is_found_and_none_without_it() {
    let mut variants: Vec<(String, String)> = CHOICES
        .iter()
        .map(|c| {
            (
                format!("{} = {}", c.name, c.values[1]),
                variant(c.name, c.values[1]),
            )
        })
        .collect();
    variants.push((
        "protocol T=1".to_owned(),
        GEN3.replacen("protocol = \"T=0\"", "protocol = \"T=1\"", 1),
    ));
    for (name, card) in &variants {
        assert_ne!(card, GEN3, "{name}");
        let found = diff(card, GEN3, 1);
        assert!(
            !found.differences.is_empty(),
            "{name}: not found in {} sequences",
            found.sequences
        );
        // The card against its own declaration: nothing.
        let none = diff(card, card, 1);
        assert!(
            none.differences.is_empty(),
            "{name} against itself: {:#?}",
            none.differences.first()
        );
    }
}

fn harness_bin() -> &'static str {
    env!("CARGO_BIN_EXE_ssc-harness")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssc-diff-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(harness_bin()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_cli_writes_vectors_that_pass_on_the_model_and_fail_on_the_card() {
    let dir = temp_dir("cli");
    let card = dir.join("card.toml");
    std::fs::write(&card, variant("verify_query_verified", "63Cx")).unwrap();
    let out = dir.join("out");
    let (code, stdout, stderr) = run(&[
        "diff",
        "--sim-profile",
        s(&card),
        "--profile",
        "gen3",
        "--seed",
        "7",
        "-o",
        s(&out),
        "--json",
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["seed"], 7);
    assert_eq!(v["sequences"], DEFAULT_SEQUENCES);
    assert!(v["commands"].as_u64().unwrap() > 1000);
    let d = &v["differences"][0];
    assert!(d["group"].as_str().unwrap().starts_with("00 20"), "{d}");
    let sequence = d["sequence"].as_array().unwrap();
    assert!(sequence.len() <= 3, "{d}");
    let vector = d["vector"].as_str().unwrap();
    // The vector passes on the model (the declaration) and fails on the card.
    let (code, stdout, _) = run(&["run", "--no-data", "--profile", "gen3", vector]);
    assert_eq!(code, 0, "{stdout}");
    let (code, stdout, _) = run(&["run", "--no-data", "--profile", s(&card), vector]);
    assert_eq!(code, 1, "{stdout}");
    // The same card against itself: exit 0, no difference, nothing written.
    let (code, stdout, _) = run(&[
        "diff",
        "--sim-profile",
        s(&card),
        "--profile",
        s(&card),
        "--seed",
        "7",
        "--sequences",
        "300",
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("300 sequences") && stdout.contains("0 differences"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_arguments_are_errors() {
    let (code, _, stderr) = run(&["diff", "--profile", "gen3"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = run(&["diff", "--sim-profile", "nope.toml", "--profile", "gen3"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("nope.toml"), "{stderr}");
    for bad in ["0", "101", "x"] {
        let (code, _, stderr) = run(&[
            "diff",
            "--sim-profile",
            "gen3",
            "--profile",
            "gen3",
            "--max-len",
            bad,
        ]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("from 1 to 100"), "{stderr}");
    }
    // --restore-cmd is for a reader.
    let (code, _, stderr) = run(&[
        "diff",
        "--sim-profile",
        "gen3",
        "--profile",
        "gen3",
        "--restore-cmd",
        "true",
    ]);
    assert_eq!(code, 2, "{stderr}");
}
