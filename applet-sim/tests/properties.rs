//! Property tests on the whole card: no input panics it, every answer ends in a status word,
//! and a command answered with an error changes no persistent state.

// Test helpers (outside #[test] functions) fail loudly on broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use applet_sim::Card;
use proptest::prelude::*;

const SELECT_SSSE: &[u8] = &[
    0x00, 0xA4, 0x04, 0x0C, 0x0F, 0x73, 0x78, 0x31, 0x2E, 0x73, 0x68, 0x2E, 0xC9, 0xE7, 0xBB, 0xE1,
    0xB1, 0xA3, 0xD5, 0xCF,
];

/// APDU-shaped inputs: a header from the card's own vocabulary, then arbitrary lengths/data.
fn apdu() -> impl Strategy<Value = Vec<u8>> {
    let cla = prop_oneof![
        Just(0x00u8),
        Just(0x04),
        Just(0x80),
        Just(0x84),
        any::<u8>()
    ];
    let ins = prop_oneof![
        Just(0xA4u8),
        Just(0xB2),
        Just(0x20),
        Just(0xC0),
        any::<u8>()
    ];
    (
        cla,
        ins,
        any::<u8>(),
        any::<u8>(),
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(c, i, p1, p2, tail)| {
            let mut v = vec![c, i, p1, p2];
            v.extend(tail);
            v
        })
}

fn is_error(response: &[u8]) -> bool {
    matches!(response.split_last_chunk::<2>(), Some((_, [sw1, _])) if !matches!(sw1, 0x90 | 0x61))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    #[test]
    fn arbitrary_bytes_get_a_status_word(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut card = Card::default_card().unwrap();
        let r = card.transmit(&bytes);
        prop_assert!(r.len() >= 2);
    }

    /// Sequences of commands in the SSSE: every answer is data ‖ SW, and whenever the card
    /// answers an error the persistent state is what it was before — except the one
    /// documented exception, a wrong PIN (63Cx), which costs a try by design.
    #[test]
    fn rejected_commands_change_nothing(seq in proptest::collection::vec(apdu(), 1..25)) {
        let mut card = Card::default_card().unwrap();
        card.transmit(SELECT_SSSE);
        for cmd in &seq {
            let before = card.volatile_copy();
            let r = card.transmit(cmd);
            prop_assert!(r.len() >= 2, "{cmd:02X?} -> {r:02X?}");
            let sw = u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]]);
            if is_error(&r) && sw & 0xFFF0 != 0x63C0 {
                prop_assert!(card.same_persistent_state(&before), "{cmd:02X?} -> {sw:04X} changed state");
            }
        }
    }
}
