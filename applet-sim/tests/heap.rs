//! A card built from the default profile holds at most 64 KiB of heap, measured by an
//! instrumented global allocator (the only test in this binary, so nothing else allocates
//! while it measures).

// Test helpers (outside #[test] functions) fail loudly on broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::alloc::System;

use applet_sim::{Card, Profile};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn default_card_holds_at_most_64_kib_of_heap() {
    let profile = Profile::builtin("gen3").unwrap();
    let region = Region::new(GLOBAL);
    let mut card = Card::new(&profile);
    // A session's worth of commands must not grow it either.
    for apdu in [
        &b"\x00\xA4\x04\x00\x0F\x73\x78\x31\x2E\x73\x68\x2E\xC9\xE7\xBB\xE1\xB1\xA3\xD5\xCF"[..],
        &[0x00, 0xC0, 0x00, 0x00, 0x1E],
        &[0x00, 0x20, 0x00, 0x00, 0x03, 0x12, 0x34, 0x56],
        &[0x00, 0xB2, 0x01, 0x2C, 0x12],
        &[0x00, 0x84, 0x00, 0x00, 0x10],
    ] {
        let r = card.transmit(apdu);
        assert!(r.len() >= 2);
    }
    let stats = region.change();
    let held = stats.bytes_allocated - stats.bytes_deallocated;
    let limit = 64 * 1024;
    assert!(
        held <= limit,
        "the default card holds {held} bytes of heap, over {limit}"
    );
    // The card's own count agrees with the allocator to within a few KiB of bookkeeping.
    let own = card.heap_bytes();
    assert!(
        own <= held && held - own < 8 * 1024,
        "own count {own}, allocator {held}"
    );
    eprintln!("default card heap: {held} bytes (own count {own})");
    drop(card);
}
