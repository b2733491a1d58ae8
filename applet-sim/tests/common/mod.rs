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
