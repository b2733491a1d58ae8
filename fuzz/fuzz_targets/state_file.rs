//! The state-file parser on arbitrary bytes (the built-in gen3 profile's layout): no panic;
//! a refused file is left exactly as it was; an accepted one gives a card that answers a
//! SELECT, and what opening left on the medium (torn tail cut, older format migrated) opens
//! again to the same answers.
#![no_main]

use applet_sim::testing::MemMedium;
use applet_sim::{Card, Profile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(profile) = Profile::builtin("gen3") else {
        return;
    };
    let medium = MemMedium::with_bytes(data.to_vec());
    match Card::open_on(&profile, Box::new(medium.clone())) {
        Err(_) => assert!(data.is_empty() || medium.current() == data),
        Ok(mut card) => {
            let select = [0x00, 0xA4, 0x00, 0x00];
            let query = [0x00, 0x20, 0x00, 0x00];
            let first = (card.transmit(&select), card.transmit(&query));
            let again = MemMedium::with_bytes(medium.current());
            let mut reopened = Card::open_on(&profile, Box::new(again))
                .unwrap_or_else(|e| panic!("an opened state file does not reopen: {e}"));
            let second = (reopened.transmit(&select), reopened.transmit(&query));
            assert_eq!(first, second);
        }
    }
});
