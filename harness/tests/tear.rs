//! The tearing run (docs/SECURITY.md "Persistence and power loss"): the whole suite on a durable
//! card, power cut at every write of every command in three ways, zero violations; and the
//! checker itself catches a state that breaks the rules.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;
use std::process::Command;

use applet_sim::testing::MemMedium;
use applet_sim::{Card, Profile};
use harness::import::parse_file;
use harness::runner::run;
use harness::tear::TearTransport;
use harness::vectors::discover;

#[test]
fn the_suite_survives_power_cuts_at_every_write() {
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
    for name in ["gen3", "gen2"] {
        let profile = Profile::builtin(name).unwrap();
        let mut cases = Vec::new();
        for f in discover(std::slice::from_ref(&suite)).unwrap() {
            cases.extend(parse_file(&f).unwrap());
        }
        let mut t = TearTransport::new(&profile).unwrap();
        let result = run(
            &mut t,
            cases,
            &|_| None,
            harness::runner::Options::default(),
        )
        .unwrap();
        let r = &t.report;
        assert!(r.violations.is_empty(), "{name}: {:#?}", r.violations);
        assert!(r.write_points > 100, "{name}: {}", r.write_points);
        assert_eq!(r.tears, 3 * r.write_points);
        for point in [
            "pin.decrement",
            "pin.restore",
            "pin.value",
            "key.decrement",
            "ef.update",
            "lifecycle",
            "purse.update",
            "compaction",
        ] {
            assert!(r.by_point.contains_key(point), "{name}: no {point} torn");
        }
        if name == "gen3" {
            assert!(result.all_passed());
            // The PKI key pair generation (80 40), a private key and its EF in one batch.
            assert!(
                r.by_point.contains_key("key.pair"),
                "{name}: no key.pair torn"
            );
        }
    }
}

/// The checker is not blind: a reopened card with more tries than before, or with an EF
/// that is neither its old nor its new content, is reported.
#[test]
fn the_checker_reports_broken_states() {
    let p = Profile::builtin("gen3").unwrap();
    let mut before = Card::new(&p);
    let select = apdu::parse_hex("00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF").unwrap();
    before.transmit(&select);
    before.transmit(&apdu::parse_hex("0020000003111111").unwrap());
    let mut after = before.volatile_copy();
    after.transmit(&apdu::parse_hex("0020000003111111").unwrap());
    // A "reopened" card that forgot the wrong tries: counter 3 > 2.
    let fresh = Card::open_on(&p, Box::new(MemMedium::new())).unwrap();
    let v = fresh.power_cut_violations(&before, &after);
    assert!(v.iter().any(|m| m.contains("PIN #0: counter 3")), "{v:?}");
    // A card whose PIN value is neither old nor new.
    let mut other = {
        // Changed on a medium, then reopened so its volatile state is fresh.
        let m = MemMedium::new();
        let mut c = Card::open_on(&p, Box::new(m.clone())).unwrap();
        c.transmit(&select);
        c.transmit(&apdu::parse_hex("805E010007123456FF999999").unwrap());
        Card::open_on(&p, Box::new(MemMedium::with_bytes(m.current()))).unwrap()
    };
    let v = other.power_cut_violations(&before, &after);
    assert!(
        v.iter().any(|m| m.contains("value neither old nor new")),
        "{v:?}"
    );
    // Security status surviving is reported too.
    other.transmit(&select);
    let v = other.power_cut_violations(&before, &after);
    assert!(v.iter().any(|m| m.contains("volatile state")), "{v:?}");
}

#[test]
fn tear_command_reports_json() {
    let out = Command::new(env!("CARGO_BIN_EXE_ssc-harness"))
        .args(["tear", "--json"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/pin"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["write_points"].as_u64().unwrap() > 0);
    assert_eq!(
        v["tears"].as_u64(),
        v["write_points"].as_u64().map(|n| 3 * n)
    );
    assert_eq!(v["violations"].as_array().unwrap().len(), 0);
}
