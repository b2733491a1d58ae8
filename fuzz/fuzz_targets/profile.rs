//! The profile parser on arbitrary text: no panic; an accepted profile builds a card that
//! answers a SELECT.
#![no_main]

use applet_sim::{Card, Profile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = Profile::parse(&text, "fuzz.toml") {
        let mut card = Card::new(&p);
        let answer = card.transmit(&[0x00, 0xA4, 0x00, 0x00]);
        assert!(answer.len() >= 2);
    }
});
