//! The medical e-purse (docs/CARD.md §4.6) end to end on both built-in cards: a load then a
//! purchase with the terminal's side computed here from the profile's keys, the state
//! machine's 6901, the 94xx answers, GET BALANCE, GET TRANSACTION PROOF, the starting day,
//! persistence across a reopened state file and a property test over amounts.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use applet_sim::purse::{self, Load, Purchase, PurseDef};
use applet_sim::testing::MemMedium;
use applet_sim::{Card, Profile};
use proptest::prelude::*;

const SELECT_SSSE: &str = "00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF";
const SELECT_DF04: &str = "00A4040C06D15600000503";
const TERMINAL: [u8; 6] = [0x32, 0x01, 0x00, 0x00, 0x00, 0x09];
const TIME: [u8; 7] = [0x20, 0x25, 0x03, 0x01, 0x12, 0x00, 0x00];

fn send(card: &mut Card, hex: &str) -> (Vec<u8>, u16) {
    let mut r = card.transmit(&apdu::parse_hex(hex).unwrap());
    if r.len() == 2 && r[0] == 0x61 {
        r = card.transmit(&[0x00, 0xC0, 0x00, 0x00, r[1]]);
    }
    let sw = u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]]);
    r.truncate(r.len() - 2);
    (r, sw)
}

fn ok(card: &mut Card, hex: &str) -> Vec<u8> {
    let (data, sw) = send(card, hex);
    assert_eq!(sw, 0x9000, "{hex}");
    data
}

struct Terminal {
    def: PurseDef,
    suite: applet_sim::model::CipherSuite,
}

fn fresh(name: &str) -> (Card, Terminal) {
    let p = Profile::builtin(name).unwrap();
    let t = Terminal {
        def: p.purse.clone().unwrap(),
        suite: p.cipher,
    };
    let mut card = Card::new(&p);
    in_df04(&mut card);
    (card, t)
}

fn in_df04(card: &mut Card) {
    ok(card, SELECT_SSSE);
    ok(card, "0020000003123456");
    ok(card, SELECT_DF04);
}

fn hex(b: &[u8]) -> String {
    apdu::hex_compact(b)
}

impl Terminal {
    /// INIT LOAD, MAC1 checked, CREDIT LOAD with MAC2, TAC checked: the card's answer.
    fn load(&self, card: &mut Card, amount: u32, tamper: bool) -> (Vec<u8>, u16) {
        let init = ok(
            card,
            &format!("B02800010B01{amount:08X}{}10", hex(&TERMINAL)),
        );
        assert_eq!(init.len(), 16);
        let balance = u32::from_be_bytes(init[0..4].try_into().unwrap());
        let seq = u16::from_be_bytes(init[4..6].try_into().unwrap());
        assert_eq!(init[6], self.def.keys.dlk.version);
        assert_eq!(init[7], algorithm(self.suite), "INIT LOAD's algorithm byte");
        let random: [u8; 4] = init[8..12].try_into().unwrap();
        let key =
            purse::load_session_key(self.suite, &self.def.keys.dlk.value, random, seq).unwrap();
        let load = Load {
            amount,
            terminal: TERMINAL,
            balance,
            seq,
        };
        assert_eq!(load.mac1(self.suite, &key).unwrap(), init[12..16], "MAC1");
        let mut mac2 = load.mac2(self.suite, &key, TIME).unwrap();
        if tamper {
            mac2[0] ^= 1;
        }
        let (data, sw) = send(card, &format!("B02A00000B{}{}04", hex(&TIME), hex(&mac2)));
        if sw == 0x9000 {
            let tac = load.tac(self.suite, &self.def.keys.dtk.0, TIME).unwrap();
            assert_eq!(data, tac, "load TAC");
        }
        (data, sw)
    }

    /// INIT PURCHASE, DEBIT with MAC1, MAC2 and TAC checked: the card's answer.
    fn purchase(
        &self,
        card: &mut Card,
        amounts: [u32; 3],
        terminal_seq: u32,
        tamper: bool,
    ) -> (Vec<u8>, u16) {
        let [a, s, f] = amounts;
        let (init, sw) = send(
            card,
            &format!("B028010113 01{a:08X}{s:08X}{f:08X}{} 16", hex(&TERMINAL)),
        );
        if sw != 0x9000 {
            return (init, sw);
        }
        assert_eq!(init.len(), 0x16);
        assert_eq!(init[16], self.def.keys.dpk.version);
        assert_eq!(
            init[17],
            algorithm(self.suite),
            "INIT PURCHASE's algorithm byte"
        );
        let seq = u16::from_be_bytes(init[4..6].try_into().unwrap());
        let random: [u8; 4] = init[18..22].try_into().unwrap();
        let tseq = terminal_seq.to_be_bytes();
        let key =
            purse::purchase_session_key(self.suite, &self.def.keys.dpk.value, random, seq, tseq)
                .unwrap();
        let p = Purchase {
            amount: a,
            self_paid: s,
            fund_paid: f,
            terminal: TERMINAL,
        };
        let mut mac1 = p.mac1(self.suite, &key, TIME).unwrap();
        if tamper {
            mac1[3] ^= 0x80;
        }
        let (data, sw) = send(
            card,
            &format!("B02C01000F{}{}{}08", hex(&tseq), hex(&TIME), hex(&mac1)),
        );
        if sw == 0x9000 {
            let tac = p.tac(self.suite, &self.def.keys.dtk.0, tseq, TIME).unwrap();
            assert_eq!(data[..4], tac, "purchase TAC");
            assert_eq!(data[4..], p.mac2(self.suite, &key).unwrap(), "MAC2");
        }
        (data, sw)
    }
}

/// The FCI's algorithm flag (CARD.md §6.1).
fn algorithm(suite: applet_sim::model::CipherSuite) -> u8 {
    match suite {
        applet_sim::model::CipherSuite::Des3 => 0x01,
        _ => 0x03,
    }
}

fn balance(card: &mut Card) -> u32 {
    u32::from_be_bytes(ok(card, "B026000104").try_into().unwrap())
}

#[test]
fn a_load_then_a_purchase_moves_the_money_and_logs_the_purchase() {
    for name in ["gen3", "gen2"] {
        let (mut card, t) = fresh(name);
        assert_eq!(balance(&mut card), 10000, "{name}");
        let (tac, sw) = t.load(&mut card, 5000, false);
        assert_eq!((tac.len(), sw), (4, 0x9000), "{name}");
        assert_eq!(balance(&mut card), 15000);
        let (_, sw) = t.purchase(&mut card, [1200, 300, 4500], 0x0000_0011, false);
        assert_eq!(sw, 0x9000, "{name}");
        assert_eq!(balance(&mut card), 13800);
        assert_eq!(ok(&mut card, "B026000206"), [0, 0, 1, 0x2C, 0x20, 0x25]);
        assert_eq!(ok(&mut card, "B026000306"), [0, 0, 0x29, 0x04, 0x20, 0x25]);
        // The newest EF08 record: seq 0003, type '6', terminal, time, the three amounts.
        let rec = ok(&mut card, "00B201441C");
        assert_eq!(
            hex(&rec),
            "00033632010000000920250301120000000004B00000012C00001194"
        );
        // The older records moved down; nothing else changed.
        assert_eq!(&ok(&mut card, "00B202441C")[..3], [0x00, 0x02, 0x36]);
        // The proofs of both transactions.
        let proof = ok(&mut card, "B02E003602000308");
        assert_eq!(proof.len(), 8);
        let load_proof = ok(&mut card, "B02E003202000008");
        assert_eq!(load_proof[4..], tac[..]);
        assert_eq!(send(&mut card, "B02E003602000208").1, 0x9406);
        assert_eq!(send(&mut card, "B02E003202000108").1, 0x9406);
    }
}

#[test]
fn the_limits_are_inclusive() {
    for name in ["gen3", "gen2"] {
        let (mut card, t) = fresh(name);
        // INIT PURCHASE itself refuses one fen more than the balance.
        let over = format!(
            "B02801011301{:08X}{}{}",
            10001,
            "00000000".repeat(2),
            hex(&TERMINAL)
        );
        assert_eq!(send(&mut card, &over).1, 0x9401, "{name}");
        // The whole balance can be spent, to zero.
        assert_eq!(t.purchase(&mut card, [10000, 0, 0], 1, false).1, 0x9000);
        assert_eq!(balance(&mut card), 0);
        assert_eq!(t.purchase(&mut card, [1, 0, 0], 2, false).1, 0x9401);
        assert_eq!(t.purchase(&mut card, [0, 1, 1], 3, false).1, 0x9000);
        // A load may fill the purse exactly to its maximum, not one fen more.
        let over = format!("B02800010B01{:08X}{}", 1_000_001, hex(&TERMINAL));
        assert_eq!(send(&mut card, &over).1, 0x6985);
        assert_eq!(t.load(&mut card, 1_000_000, false).1, 0x9000);
        assert_eq!(balance(&mut card), 1_000_000);
        let one = format!("B02800010B01{:08X}{}", 1, hex(&TERMINAL));
        assert_eq!(send(&mut card, &one).1, 0x6985);
    }
}

#[test]
fn completing_commands_without_their_init_answer_6901() {
    let (mut card, t) = fresh("gen3");
    let debit = format!("B02C01000F00000001{}11223344", hex(&TIME));
    let credit = format!("B02A00000B{}11223344", hex(&TIME));
    assert_eq!(send(&mut card, &debit).1, 0x6901);
    assert_eq!(send(&mut card, &credit).1, 0x6901);
    // After INIT LOAD, DEBIT is the wrong completion; after INIT PURCHASE, CREDIT.
    ok(
        &mut card,
        &format!("B02800010B0100000001{}", hex(&TERMINAL)),
    );
    assert_eq!(send(&mut card, &debit).1, 0x6901);
    assert_eq!(send(&mut card, &credit).1, 0x6901, "the session ended");
    ok(
        &mut card,
        &format!("B02801011301{}{}", "00000001".repeat(3), hex(&TERMINAL)),
    );
    assert_eq!(send(&mut card, &credit).1, 0x6901);
    // Any other command between INIT and its completion ends the transaction.
    ok(
        &mut card,
        &format!("B02801011301{}{}", "00000001".repeat(3), hex(&TERMINAL)),
    );
    ok(&mut card, "B026000104");
    assert_eq!(send(&mut card, &debit).1, 0x6901);
    // So does a reset.
    ok(
        &mut card,
        &format!("B02800010B0100000001{}", hex(&TERMINAL)),
    );
    card.reset();
    in_df04(&mut card);
    assert_eq!(send(&mut card, &credit).1, 0x6901);
    assert_eq!(balance(&mut card), 10000);
    let _ = t;
}

#[test]
fn failures_answer_their_status_and_change_nothing() {
    for name in ["gen3", "gen2"] {
        let (mut card, t) = fresh(name);
        let before = card.volatile_copy();
        // Wrong MAC2 / MAC1: 9302, the transaction over, nothing changed.
        assert_eq!(t.load(&mut card, 100, true).1, 0x9302, "{name}");
        assert_eq!(t.purchase(&mut card, [100, 0, 0], 1, true).1, 0x9302);
        // Above the balance: 9401.
        assert_eq!(t.purchase(&mut card, [10001, 0, 0], 1, false).1, 0x9401);
        // Another key index: 9403.
        let load = format!("B02800010B02000000640{}", &hex(&TERMINAL)[1..]);
        assert_eq!(send(&mut card, &load).1, 0x9403);
        let buy = format!("B02801011300{}{}", "00000001".repeat(3), hex(&TERMINAL));
        assert_eq!(send(&mut card, &buy).1, 0x9403);
        // Above the maximum balance: 6985.
        assert_eq!(
            send(
                &mut card,
                &format!("B02800010B01000F4241{}", hex(&TERMINAL))
            )
            .1,
            0x6985
        );
        // Overflowing a year total: 6985.
        let over = format!("B028010113010000000100000001FFFFFFFF{}", hex(&TERMINAL));
        assert_eq!(send(&mut card, &over).1, 0x6985);
        assert!(card.same_persistent_state(&before), "{name}");
        assert_eq!(balance(&mut card), 10000);
    }
}

#[test]
fn the_pin_guards_loads_purchases_and_balances() {
    let p = Profile::builtin("gen3").unwrap();
    let mut card = Card::new(&p);
    ok(&mut card, SELECT_SSSE);
    ok(&mut card, SELECT_DF04);
    assert_eq!(send(&mut card, "B026000104").1, 0x6982);
    let load = format!("B02800010B0100000064{}", hex(&TERMINAL));
    assert_eq!(send(&mut card, &load).1, 0x6982);
    // GET TRANSACTION PROOF and the starting day need no PIN.
    assert_eq!(send(&mut card, "B02E003202000008").1, 0x9406);
    assert_eq!(ok(&mut card, "B056010002"), [0x01, 0x01]);
    // Outside DF04 the purse is not there: 6D00; outside the SSSE too.
    ok(&mut card, SELECT_SSSE);
    assert_eq!(send(&mut card, "B026000104").1, 0x6D00);
    ok(&mut card, "00A40000023F00");
    assert_eq!(send(&mut card, "B026000104").1, 0x6D00);
}

#[test]
fn counters_at_ffff_answer_9402() {
    let mut p = Profile::builtin("gen2").unwrap();
    let def = p.purse.as_mut().unwrap();
    def.load_seq = 0xFFFF;
    def.purchase_seq = 0xFFFF;
    let t = Terminal {
        def: def.clone(),
        suite: p.cipher,
    };
    let mut card = Card::new(&p);
    in_df04(&mut card);
    assert_eq!(
        send(
            &mut card,
            &format!("B02800010B0100000064{}", hex(&TERMINAL))
        )
        .1,
        0x9402
    );
    assert_eq!(t.purchase(&mut card, [1, 0, 0], 1, false).1, 0x9402);
    // One below the limit works once, then the counter is at the limit.
    let mut p = Profile::builtin("gen3").unwrap();
    p.purse.as_mut().unwrap().purchase_seq = 0xFFFE;
    let t = Terminal {
        def: p.purse.clone().unwrap(),
        suite: p.cipher,
    };
    let mut card = Card::new(&p);
    in_df04(&mut card);
    assert_eq!(t.purchase(&mut card, [1, 0, 0], 1, false).1, 0x9000);
    assert_eq!(t.purchase(&mut card, [1, 0, 0], 1, false).1, 0x9402);
}

#[test]
fn the_starting_day_is_updated_with_the_dsk_mac_and_turns_the_year() {
    for name in ["gen3", "gen2"] {
        let (mut card, t) = fresh(name);
        let set = |card: &mut Card, day: &str, tamper: bool| -> u16 {
            let r = ok(card, "0084000008");
            let key = applet_sim::crypto::session_key(t.suite, &t.def.keys.dsk.0, &r).unwrap();
            let day = apdu::parse_hex(day).unwrap();
            let mut mac = purse::mac(t.suite, &key, &[&day]).unwrap();
            if tamper {
                mac[1] ^= 4;
            }
            send(card, &format!("B056000006{}{}", hex(&day), hex(&mac))).1
        };
        assert_eq!(send(&mut card, "B056000006070111223344").1, 0x6984);
        assert_eq!(set(&mut card, "0701", true), 0x9302, "{name}");
        assert_eq!(set(&mut card, "1301", false), 0x6A80);
        assert_eq!(ok(&mut card, "B056010002"), [0x01, 0x01]);
        assert_eq!(set(&mut card, "0301", false), 0x9000);
        assert_eq!(ok(&mut card, "B056010002"), [0x03, 0x01]);
        // A purchase on 1 March 2025 with the year starting 1 March: still 2025, kept.
        t.purchase(&mut card, [0, 5, 7], 1, false);
        assert_eq!(ok(&mut card, "B026000306"), [0, 0, 0x17, 0x77, 0x20, 0x25]);
    }
}

#[test]
fn a_new_payment_year_starts_the_totals_again() {
    let mut p = Profile::builtin("gen3").unwrap();
    p.purse.as_mut().unwrap().year = [0x20, 0x24];
    let t = Terminal {
        def: p.purse.clone().unwrap(),
        suite: p.cipher,
    };
    let mut card = Card::new(&p);
    in_df04(&mut card);
    assert_eq!(ok(&mut card, "B026000306"), [0, 0, 0x17, 0x70, 0x20, 0x24]);
    t.purchase(&mut card, [10, 20, 30], 7, false);
    assert_eq!(ok(&mut card, "B026000206"), [0, 0, 0, 20, 0x20, 0x25]);
    assert_eq!(ok(&mut card, "B026000306"), [0, 0, 0, 30, 0x20, 0x25]);
}

#[test]
fn a_reopened_state_file_keeps_the_purse_and_its_log() {
    let p = Profile::builtin("gen3").unwrap();
    let t = Terminal {
        def: p.purse.clone().unwrap(),
        suite: p.cipher,
    };
    let m = MemMedium::new();
    let mut card = Card::open_on(&p, Box::new(m.clone())).unwrap();
    in_df04(&mut card);
    t.load(&mut card, 1, false);
    t.purchase(&mut card, [2, 3, 4], 5, false);
    let mut again = Card::open_on(&p, Box::new(MemMedium::with_bytes(m.current()))).unwrap();
    in_df04(&mut again);
    assert_eq!(balance(&mut again), 9999);
    assert_eq!(&ok(&mut again, "00B201441C")[..3], [0x00, 0x03, 0x36]);
    assert_eq!(ok(&mut again, "B02E003602000308").len(), 8);
    assert_eq!(ok(&mut again, "B02E003202000008").len(), 8);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever the amounts and the order: the balance never goes below zero nor above the
    /// maximum, the counters only count up (by one per completed transaction), and a
    /// refused transaction changes nothing.
    #[test]
    fn the_purse_keeps_its_invariants(
        steps in proptest::collection::vec((any::<bool>(), 0u32..40_000, 0u32..1000, any::<bool>()), 1..12)
    ) {
        let (mut card, t) = fresh("gen3");
        let (mut money, mut loads, mut buys) = (10_000u64, 0u16, 3u16);
        for (is_load, amount, other, tamper) in steps {
            let before = card.volatile_copy();
            let sw = if is_load {
                let (sw0, sw) = {
                    let init = send(&mut card, &format!("B02800010B01{amount:08X}{}", hex(&TERMINAL)));
                    if init.1 == 0x9000 { (0x9000, t.load_after_init(&mut card, amount, &init.0, tamper)) } else { (init.1, init.1) }
                };
                let _ = sw0;
                sw
            } else {
                t.purchase(&mut card, [amount, other, other], other, tamper).1
            };
            if sw == 0x9000 {
                if is_load { money += u64::from(amount); loads += 1; } else { money -= u64::from(amount); buys += 1; }
            } else {
                prop_assert!(card.same_persistent_state(&before), "{sw:04X}");
            }
            let b = u64::from(balance(&mut card));
            prop_assert_eq!(b, money);
            prop_assert!(b <= 1_000_000);
            let seqs = ok(&mut card, &format!("B02800010B0100000000{}", hex(&TERMINAL)));
            prop_assert_eq!(u16::from_be_bytes([seqs[4], seqs[5]]), loads);
            let seqs = ok(&mut card, &format!("B02801011301{}{}", "00000000".repeat(3), hex(&TERMINAL)));
            prop_assert_eq!(u16::from_be_bytes([seqs[4], seqs[5]]), buys);
        }
    }
}

impl Terminal {
    /// CREDIT LOAD after an INIT LOAD the caller sent (its answer `init`): the status word.
    fn load_after_init(&self, card: &mut Card, amount: u32, init: &[u8], tamper: bool) -> u16 {
        let balance = u32::from_be_bytes(init[0..4].try_into().unwrap());
        let seq = u16::from_be_bytes(init[4..6].try_into().unwrap());
        let random: [u8; 4] = init[8..12].try_into().unwrap();
        let key =
            purse::load_session_key(self.suite, &self.def.keys.dlk.value, random, seq).unwrap();
        let load = Load {
            amount,
            terminal: TERMINAL,
            balance,
            seq,
        };
        let mut mac2 = load.mac2(self.suite, &key, TIME).unwrap();
        if tamper {
            mac2[2] ^= 0x10;
        }
        send(card, &format!("B02A00000B{}{}", hex(&TIME), hex(&mac2))).1
    }
}

#[test]
fn a_purse_record_needs_a_purse() {
    let p = Profile::builtin("gen3").unwrap();
    let t = Terminal {
        def: p.purse.clone().unwrap(),
        suite: p.cipher,
    };
    let m = MemMedium::new();
    let mut card = Card::open_on(&p, Box::new(m.clone())).unwrap();
    in_df04(&mut card);
    t.load(&mut card, 7, false);
    let mut without = p.clone();
    without.purse = None;
    assert!(Card::open_on(&without, Box::new(MemMedium::with_bytes(m.current()))).is_err());
    // The profile with its purse reads the load back.
    let mut again = Card::open_on(&p, Box::new(MemMedium::with_bytes(m.current()))).unwrap();
    in_df04(&mut again);
    assert_eq!(balance(&mut again), 10007);
}

/// INIT LOAD; returns (Load, session key).
fn init_load(card: &mut Card, p: &Profile, amount: u32) -> (Load, Vec<u8>) {
    let d = p.purse.clone().unwrap();
    let init = ok(
        card,
        &format!("B02800010B01{amount:08X}{}10", hex(&TERMINAL)),
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
    format!("B02A00000B{}{}04", hex(&TIME), hex(&mac2))
}

/// A malformed APDU between INIT LOAD and CREDIT LOAD ends the transaction like any other
/// command (§4.6; an attack finding: the 6700 path kept it).
#[test]
fn malformed_apdu_between_init_and_credit() {
    let p = Profile::builtin("gen3").unwrap();
    let mut card = Card::new(&p);
    in_df04(&mut card);
    let b0 = balance(&mut card);
    let (load, key) = init_load(&mut card, &p, 100);
    let c = credit_cmd(&p, &load, &key);
    // Lc says 5 bytes, only 2 present: a malformed APDU.
    assert_eq!(send(&mut card, "00B000000501").1, 0x6700);
    let (_, sw) = send(&mut card, &c);
    assert_eq!(sw, 0x6901, "a malformed APDU did not end the load");
    assert_eq!(balance(&mut card), b0);
}
