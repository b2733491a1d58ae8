//! The e-purse's open transaction ends with any other command, a malformed APDU included
//! (docs/CARD.md §4.6; an attack finding: the 6700 path kept it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use applet_sim::purse::{self, Load, PurseDef};
use applet_sim::{Card, Profile};

const SELECT_SSSE: &str = "00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF";
const SELECT_DF04: &str = "00A4040C06D15600000503";
const TERMINAL: [u8; 6] = [0x32, 0x01, 0x00, 0x00, 0x00, 0x09];
const TIME: [u8; 7] = [0x20, 0x25, 0x03, 0x01, 0x12, 0x00, 0x00];

fn h(s: &str) -> Vec<u8> {
    apdu::parse_hex(s).unwrap()
}
fn hx(b: &[u8]) -> String {
    apdu::hex_compact(b)
}

fn send(card: &mut Card, hex: &str) -> (Vec<u8>, u16) {
    let mut r = card.transmit(&h(hex));
    if r.len() == 2 && r[0] == 0x61 {
        r = card.transmit(&[0x00, 0xC0, 0x00, 0x00, r[1]]);
    }
    let sw = u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]]);
    r.truncate(r.len() - 2);
    (r, sw)
}
fn raw(card: &mut Card, hex: &str) -> String {
    hx(&card.transmit(&h(hex)))
}
fn ok(card: &mut Card, hex: &str) -> Vec<u8> {
    let (d, sw) = send(card, hex);
    assert_eq!(sw, 0x9000, "{hex}");
    d
}

fn def(p: &Profile) -> PurseDef {
    p.purse.clone().unwrap()
}

fn in_df04(card: &mut Card) {
    ok(card, SELECT_SSSE);
    ok(card, "0020000003123456");
    ok(card, SELECT_DF04);
}

fn balance(card: &mut Card) -> u32 {
    u32::from_be_bytes(ok(card, "B026000104").try_into().unwrap())
}

/// INIT LOAD; returns (Load, session key).
fn init_load(card: &mut Card, p: &Profile, amount: u32) -> (Load, Vec<u8>) {
    let d = def(p);
    let init = ok(
        card,
        &format!("B02800010B01{amount:08X}{}10", hx(&TERMINAL)),
    );
    let balance = u32::from_be_bytes(init[0..4].try_into().unwrap());
    let seq = u16::from_be_bytes(init[4..6].try_into().unwrap());
    let random: [u8; 4] = init[8..12].try_into().unwrap();
    let key = purse::load_session_key(p.cipher, &d.keys.dlk.value, random, seq).unwrap();
    (
        Load {
            amount,
            terminal: TERMINAL,
            balance,
            seq,
        },
        key,
    )
}

fn credit_cmd(p: &Profile, load: &Load, key: &[u8]) -> String {
    let mac2 = load.mac2(p.cipher, key, TIME).unwrap();
    format!("B02A00000B{}{}04", hx(&TIME), hx(&mac2))
}

/// A malformed APDU (not parseable) between INIT LOAD and CREDIT LOAD: does it end the
/// transaction, as "any other command ends it" says?
#[test]
fn malformed_apdu_between_init_and_credit() {
    let p = Profile::builtin("gen3").unwrap();
    let mut card = Card::new(&p);
    in_df04(&mut card);
    let b0 = balance(&mut card);
    let (load, key) = init_load(&mut card, &p, 100);
    let c = credit_cmd(&p, &load, &key);
    // Lc says 5 bytes, only 2 present: a malformed APDU.
    let r = raw(&mut card, "00B000000501");
    assert_eq!(r, "6700");
    let (_, sw) = send(&mut card, &c);
    assert_eq!(sw, 0x6901, "a malformed APDU did not end the load");
    assert_eq!(balance(&mut card), b0);
}
