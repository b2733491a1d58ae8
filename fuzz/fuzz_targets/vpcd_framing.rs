//! The vpcd framing on an arbitrary byte stream (what the socket delivers): no panic; the
//! answer is well-formed frames.
#![no_main]

use std::sync::OnceLock;

use applet_sim::vpcd::{Slot, answer_stream};
use applet_sim::{Card, Profile};
use libfuzzer_sys::fuzz_target;

fn template() -> &'static Card {
    static CARD: OnceLock<Card> = OnceLock::new();
    CARD.get_or_init(|| Card::new(&Profile::builtin("gen3").expect("built-in profile")))
}

fuzz_target!(|data: &[u8]| {
    let card = template().volatile_copy();
    let mut slot = Slot::new("fuzz", card.volatile_copy(), card, false);
    let wire = answer_stream(&mut slot, data);
    let mut rest = wire.as_slice();
    while let Some((header, tail)) = rest.split_first_chunk::<2>() {
        let n = usize::from(u16::from_be_bytes(*header));
        assert!(tail.len() >= n, "a truncated answer frame");
        rest = &tail[n..];
    }
    assert!(rest.is_empty());
});
