//! Shared fixtures for the criterion benchmarks in `benches/`: the APDUs a terminal sends to
//! a social security card (docs/CARD.md §7).

/// SELECT the SSSE by name, case 3: with the FCI (P2 00, answered 61 1E under T=0) or
/// without (P2 0C).
#[must_use]
pub fn select_ssse(fci: bool) -> Vec<u8> {
    let p2 = if fci { 0x00 } else { 0x0C };
    let mut apdu = vec![0x00, 0xA4, 0x04, p2, 0x0F];
    apdu.extend_from_slice(applet_sim::model::aid::SSSE);
    apdu
}

/// VERIFY the SSSE PIN with the default 123456 (§7.2).
pub const VERIFY_GOOD: [u8; 8] = [0x00, 0x20, 0x00, 0x00, 0x03, 0x12, 0x34, 0x56];

/// VERIFY with a wrong PIN.
pub const VERIFY_BAD: [u8; 8] = [0x00, 0x20, 0x00, 0x00, 0x03, 0x65, 0x43, 0x21];

/// READ RECORD 1 of EF05 by SFI (P2 = 2C), exact Le.
pub const READ_EF05_REC1: [u8; 5] = [0x00, 0xB2, 0x01, 0x2C, 0x12];

/// A fresh default card with the SSSE selected.
#[must_use]
pub fn card_in_ssse() -> applet_sim::Card {
    let mut card = applet_sim::Card::default_card().unwrap_or_else(|e| {
        // The built-in profile is checked by the test suite; a bench cannot go on without it.
        eprintln!("{e}");
        std::process::exit(2)
    });
    card.transmit(&select_ssse(false));
    card
}
