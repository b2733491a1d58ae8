//! Sweeps (docs/SECURITY.md "Bad input"): all 65,536 CLA×INS pairs in four card states (fresh,
//! PIN verified, PIN blocked, card blocked); every P1/P2 of each implemented instruction; Lc
//! and Le from 0 to 261 and the extended-length edges. Every answer must be a status word
//! the spec names (no `Other`), nothing may panic, and a rejected command must leave the
//! persistent state as it was.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use apdu::StatusWord;
use applet_sim::command::implemented;
use applet_sim::crypto::{session_key, ssc_mac};
use applet_sim::model::CipherSuite;
use applet_sim::{Card, Profile};
use common::{SELECT_SSSE, x};

/// The four states, SSSE selected.
fn states() -> Vec<(&'static str, Card)> {
    let mut fresh = Card::new(&Profile::builtin("gen3").unwrap());
    x(&mut fresh, SELECT_SSSE);
    let mut verified = fresh.volatile_copy();
    assert_eq!(x(&mut verified, "0020000003123456"), "9000");
    let mut blocked = fresh.volatile_copy();
    for _ in 0..3 {
        x(&mut blocked, "0020000003111111");
    }
    assert_eq!(x(&mut blocked, "00200000"), "6983");
    let mut card_blocked = fresh.volatile_copy();
    let r = card_blocked.transmit(&apdu::parse_hex("0084000008").unwrap());
    let bk = apdu::parse_hex(
        "C05976E4B1ADE485D337604F223B8115", /* gen3 BK, docs/CARD.md §6.8 */
    )
    .unwrap();
    let ks = session_key(CipherSuite::Sm4, &bk, &r[..8]).unwrap();
    let mac = ssc_mac(CipherSuite::Sm4, &ks, &[0x84, 0x16, 0, 0, 4]).unwrap();
    let cmd = format!("8416000004{}", apdu::hex_compact(&mac));
    assert_eq!(x(&mut card_blocked, &cmd), "9000");
    vec![
        ("fresh", fresh),
        ("PIN verified", verified),
        ("PIN blocked", blocked),
        ("card blocked", card_blocked),
    ]
}

/// Sends `apdu` to `card` (restored from `base` first when it changed) and checks the rules;
/// returns the status word.
fn probe(card: &mut Card, base: &Card, apdu: &[u8], what: &str) -> StatusWord {
    if !card.same_state(base) {
        *card = base.volatile_copy();
    }
    let r = card.transmit(apdu);
    let (_, sw) = r
        .split_last_chunk::<2>()
        .unwrap_or_else(|| panic!("{what}: {} answered {r:02X?}", apdu::hex_compact(apdu)));
    let sw = StatusWord::from(*sw);
    assert!(
        !matches!(sw, StatusWord::Other(_)),
        "{what}: {} answered {sw:?}, a status word the spec does not name",
        apdu::hex_compact(apdu)
    );
    let accepted = matches!(
        sw,
        StatusWord::Success | StatusWord::MoreAvailable(_) | StatusWord::RemainingRetries(_)
    );
    if !accepted {
        assert!(
            card.same_persistent_state(base),
            "{what}: rejected {} ({sw:?}) but changed the persistent state",
            apdu::hex_compact(apdu)
        );
    }
    sw
}

#[test]
fn every_cla_ins_pair_in_four_states() {
    for (name, base) in states() {
        let mut card = base.volatile_copy();
        let mut counts = std::collections::BTreeMap::new();
        for cla in 0..=255u8 {
            for ins in 0..=255u8 {
                let sw = probe(&mut card, &base, &[cla, ins, 0, 0], name);
                *counts.entry(u16::from(sw)).or_insert(0u32) += 1;
                let known_cla = [0x00, 0x04, 0x80, 0x84, 0xB0].contains(&cla);
                let expected = match (name, known_cla) {
                    ("card blocked", _) => Some(StatusWord::FunctionNotSupported),
                    (_, false) => Some(StatusWord::ClaNotSupported),
                    _ if !implemented().any(|(_, i)| i == ins) => Some(StatusWord::InsNotSupported),
                    _ => None,
                };
                if let Some(e) = expected {
                    assert_eq!(sw, e, "{name}: {cla:02X} {ins:02X} 00 00");
                }
            }
        }
        assert!(
            counts.len() > 1 || name == "card blocked",
            "{name}: {counts:?}"
        );
    }
}

#[test]
fn every_p1_p2_of_each_implemented_instruction() {
    for (name, base) in states().into_iter().take(2) {
        let mut card = base.volatile_copy();
        for (cla, ins) in implemented() {
            for p1 in 0..=255u8 {
                for p2 in 0..=255u8 {
                    probe(&mut card, &base, &[cla, ins, p1, p2], name);
                    probe(
                        &mut card,
                        &base,
                        &[cla, ins, p1, p2, 0x04, 0x12, 0x34, 0x56, 0x78],
                        name,
                    );
                }
            }
        }
    }
}

#[test]
fn lc_and_le_from_0_to_261_and_extended_edges() {
    let (_, base) = states().swap_remove(0);
    let mut card = base.volatile_copy();
    for (cla, ins) in implemented() {
        for p1p2 in [[0x00, 0x00], [0x01, 0x04], [0x81, 0x00], [0x00, 0x81]] {
            let header = [cla, ins, p1p2[0], p1p2[1]];
            for n in 0..=261usize {
                let data = vec![0x31u8; n];
                // Short Lc (n <= 255), short Le (n <= 256), extended Lc and Le.
                if n <= 255 {
                    let mut a = header.to_vec();
                    a.push(n as u8);
                    a.extend(&data);
                    probe(&mut card, &base, &a, "short Lc");
                }
                if n <= 256 {
                    let mut a = header.to_vec();
                    a.push(n as u8);
                    probe(&mut card, &base, &a, "short Le");
                }
                let mut a = header.to_vec();
                a.push(0);
                a.extend_from_slice(&(n as u16).to_be_bytes());
                a.extend(&data);
                probe(&mut card, &base, &a, "extended Lc");
                let mut a = header.to_vec();
                a.push(0);
                a.extend_from_slice(&(n as u16).to_be_bytes());
                probe(&mut card, &base, &a, "extended Le");
            }
            for le in [0x0000u16, 0x0001, 0x00FF, 0x0100, 0x0101, 0x7FFF, 0xFFFF] {
                let mut a = header.to_vec();
                a.extend_from_slice(&[0x00, 0x00, 0x02, 0x3F, 0x00]);
                a.extend_from_slice(&le.to_be_bytes());
                probe(&mut card, &base, &a, "extended case 4");
            }
            // A declared extended Lc of 65,535 with only a few bytes behind it.
            let mut a = header.to_vec();
            a.extend_from_slice(&[0x00, 0xFF, 0xFF, 0x01, 0x02]);
            assert_eq!(
                probe(&mut card, &base, &a, "short body"),
                StatusWord::WrongLength
            );
        }
    }
}
