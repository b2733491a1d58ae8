//! APDU sequences against a fresh gen3 card: the input is cut into commands (a length byte,
//! then that many bytes; 0xFF means a warm reset). No panic; every answer ends in a status
//! word the spec names; a rejected command leaves the persistent state as it was (but for a
//! PIN change with the right old value and a malformed new one, which restores the counter).
#![no_main]

use std::sync::OnceLock;

use apdu::StatusWord;
use applet_sim::{Card, Profile};
use libfuzzer_sys::fuzz_target;

fn template() -> &'static Card {
    static CARD: OnceLock<Card> = OnceLock::new();
    CARD.get_or_init(|| Card::new(&Profile::builtin("gen3").expect("built-in profile")))
}

fuzz_target!(|data: &[u8]| {
    let mut card = template().volatile_copy();
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        if len == 0xFF {
            card.reset();
            rest = tail;
            continue;
        }
        let n = usize::from(len).min(tail.len());
        let (apdu, tail) = tail.split_at(n);
        rest = tail;
        let before = card.volatile_copy();
        let answer = card.transmit(apdu);
        let (_, sw) = answer.split_last_chunk::<2>().expect("a status word");
        let sw = StatusWord::from(*sw);
        assert!(!matches!(sw, StatusWord::Other(_)), "unnamed {sw:?}");
        let accepted = matches!(
            sw,
            StatusWord::Success | StatusWord::MoreAvailable(_) | StatusWord::RemainingRetries(_)
        );
        // A PIN change whose old value was right and new value malformed answers 6A80 and
        // keeps the old PIN, with its counter restored: the old value was proven (docs/SECURITY.md
        // §1 rule 6; README "Choices").
        let change = matches!(apdu.get(..2), Some([0x80, 0x5E] | [0x00, 0x24]));
        if !accepted && !(change && sw == StatusWord::WrongData) {
            assert!(
                card.same_persistent_state(&before),
                "rejected but changed: {sw:?}"
            );
        }
    }
});
