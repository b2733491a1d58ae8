//! Helpers shared by the card's integration tests: hex in, hex out.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use applet_sim::{Card, Profile};

/// The card of a fixture profile in tests/fixtures.
pub fn fixture(name: &str) -> Card {
    let path = format!("{}/tests/fixtures/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    Card::new(&Profile::load(&path).unwrap())
}

/// A built-in card.
pub fn builtin(name: &str) -> Card {
    Card::new(&Profile::builtin(name).unwrap())
}

/// Sends hex, returns the answer as compact uppercase hex.
pub fn x(card: &mut Card, apdu: &str) -> String {
    apdu::hex_compact(&card.transmit(&apdu::parse_hex(apdu).unwrap()))
}

/// Sends each (command, expected answer) pair in order, naming the step that differs.
pub fn script(card: &mut Card, steps: &[(&str, &str)]) {
    for (i, (cmd, want)) in steps.iter().enumerate() {
        let got = x(card, cmd);
        assert_eq!(got, want.replace(' ', ""), "step {i}: {cmd}");
    }
}

/// SELECT the SSSE by name without FCI.
pub const SELECT_SSSE: &str = "00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF";

/// A built-in card's key `id` of the SSSE as hex: the card-level value, derived from the
/// master the built-in PSAM holds (docs/CARD.md §6.6, docs/PSAM.md §7).
pub fn ssse_key(profile: &str, id: u8) -> String {
    let p = Profile::builtin(profile).unwrap();
    let k = p
        .keys
        .iter()
        .find(|k| k.parent == "SSSE" && k.id == id)
        .unwrap();
    apdu::hex_compact(&k.value)
}

/// The built-in gen3 profile's text, to edit in tests.
pub const GEN3: &str = include_str!("../../profiles/gen3.toml");

/// Tests that lock state files and start processes run one at a time: a process started
/// while another test's card holds a state file keeps the file's lock (flock, shared with
/// the child until it executes) for a moment, and the next open of that file would find it
/// locked.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds the test binary's one-at-a-time lock (see [`SERIAL`]).
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A fresh folder `ssc-PREFIX-PID-NAME` under the temporary folder.
pub fn temp_dir(prefix: &str, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ssc-{prefix}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
