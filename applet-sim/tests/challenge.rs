//! GET CHALLENGE's randomness (docs/SECURITY.md §1; issue "hardening" item 8): without
//! `challenge_seed` the card's challenges come from the operating system, so one challenge
//! does not predict the next. The predictor below inverts SplitMix64 (the generator a seeded
//! profile uses, and the one unseeded cards used before); it is checked to work on a seeded
//! card, so the test can fail.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{builtin, fixture};

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Inverse of `x ^ (x >> s)`.
fn unxorshift(y: u64, s: u32) -> u64 {
    let mut x = y;
    for _ in 0..=(64 / s) {
        x = y ^ (x >> s);
    }
    x
}

/// Multiplicative inverse of an odd number modulo 2^64 (Newton's iteration).
fn inverse(a: u64) -> u64 {
    let mut x = a;
    for _ in 0..6 {
        x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
    }
    x
}

fn unmix(z: u64) -> u64 {
    let z = unxorshift(z, 31).wrapping_mul(inverse(0x94D0_49BB_1331_11EB));
    let z = unxorshift(z, 27).wrapping_mul(inverse(0xBF58_476D_1CE4_E5B9));
    unxorshift(z, 30)
}

/// The next 8-byte challenge SplitMix64 would give after `seen`.
fn predict(seen: u64) -> u64 {
    mix(unmix(seen).wrapping_add(GAMMA))
}

fn challenge(card: &mut applet_sim::Card) -> u64 {
    let r = card.transmit(&[0x00, 0x84, 0x00, 0x00, 0x08]);
    assert_eq!(r.len(), 10, "{r:02X?}");
    u64::from_be_bytes(r[..8].try_into().unwrap())
}

#[test]
fn the_predictor_predicts_a_seeded_card() {
    let mut c = fixture("writable");
    let first = challenge(&mut c);
    assert_eq!(challenge(&mut c), predict(first));
}

#[test]
fn one_challenge_does_not_predict_the_next() {
    let mut c = builtin("gen3");
    for _ in 0..16 {
        let seen = challenge(&mut c);
        assert_ne!(challenge(&mut c), predict(seen));
    }
}

#[test]
fn two_fresh_cards_give_different_challenges() {
    let (mut a, mut b) = (builtin("gen3"), builtin("gen3"));
    assert_ne!(challenge(&mut a), challenge(&mut b));
}

/// `feed_random` (the differential tester's hook): fed bytes are the next challenge, a short
/// feed is completed by the card's own source, and only the last 64 fed bytes are kept.
#[test]
fn fed_bytes_are_the_next_challenge() {
    let mut c = builtin("gen3");
    c.feed_random(&[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(
        c.transmit(&[0x00, 0x84, 0x00, 0x00, 0x08]),
        [1, 2, 3, 4, 5, 6, 7, 8, 0x90, 0x00]
    );
    assert_eq!(c.current_challenge(), Some(&[1u8, 2, 3, 4, 5, 6, 7, 8][..]));
    // Used up: the next one is the card's own.
    let own = c.transmit(&[0x00, 0x84, 0x00, 0x00, 0x08]);
    assert_ne!(own.get(..8), Some(&[1u8, 2, 3, 4, 5, 6, 7, 8][..]));
    // Four fed bytes, eight asked: the four, then four of the card's.
    c.feed_random(&[9, 9, 9, 9]);
    let r = c.transmit(&[0x00, 0x84, 0x00, 0x00, 0x08]);
    assert_eq!(r.get(..4), Some(&[9u8, 9, 9, 9][..]));
    assert_eq!(r.len(), 10);
    // 70 bytes fed: the first 6 are dropped.
    let many: Vec<u8> = (0..70).collect();
    c.feed_random(&many);
    let r = c.transmit(&[0x00, 0x84, 0x00, 0x00, 0x04]);
    assert_eq!(r.get(..4), Some(&[6u8, 7, 8, 9][..]));
}
