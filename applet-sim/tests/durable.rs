//! Durable state (`--state`): the persistent state survives restarts; a corrupt, truncated,
//! foreign or locked file is refused and left exactly as it was; a PIN's or key's decrement
//! is durable before the comparison, shown by cutting the power at each write.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::PathBuf;

use applet_sim::testing::{CutMode, MemMedium};
use applet_sim::{Card, Profile};
use common::{SELECT_SSSE, script, x};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssc-durable-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn gen3() -> Profile {
    Profile::builtin("gen3").unwrap()
}

#[test]
fn state_survives_restarts() {
    let dir = temp_dir("restarts");
    let path = dir.join("card.state");
    let p = gen3();
    {
        let mut c = Card::open(&p, &path).unwrap();
        assert!(c.state_file_created() && c.is_durable());
        script(
            &mut c,
            &[(SELECT_SSSE, "9000"), ("0020000003111111", "63C2")],
        );
        // A file written through the SFI of the PKI EF 0012 after the user PIN.
        script(
            &mut c,
            &[
                ("00A4040C0C53532E434552542E41444631", "9000"),
                ("0020008108313233343536FFFF", "9000"),
                ("00A4020C020012", "9000"),
                ("00D6000003AABBCC", "9000"),
            ],
        );
    }
    let mut c = Card::open(&p, &path).unwrap();
    assert!(!c.state_file_created());
    // The counter and the file kept; the security status did not.
    script(
        &mut c,
        &[
            (SELECT_SSSE, "9000"),
            ("00200000", "63C2"),
            ("00A4040C0C53532E434552542E41444631", "9000"),
            ("00A4020C020012", "9000"),
            ("00B0000003", "AABBCC9000"),
            ("00D6000001DD", "6982"),
        ],
    );
    drop(c);
    // Many restarts and more writes than one journal holds before compaction.
    for round in 0..3 {
        let mut c = Card::open(&p, &path).unwrap();
        x(&mut c, SELECT_SSSE);
        for _ in 0..2100 {
            assert_eq!(x(&mut c, "0020000003123456"), "9000", "round {round}");
        }
    }
    let mut c = Card::open(&p, &path).unwrap();
    script(&mut c, &[(SELECT_SSSE, "9000"), ("00200000", "63C3")]);
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(
        size < 64 * 1024,
        "the journal was not compacted: {size} bytes"
    );
}

#[test]
fn a_blocked_card_stays_blocked_across_restarts() {
    let dir = temp_dir("blocked");
    let path = dir.join("card.state");
    let p = gen3();
    {
        let mut c = Card::open(&p, &path).unwrap();
        x(&mut c, SELECT_SSSE);
        for _ in 0..3 {
            x(&mut c, "0020000003111111");
        }
        assert_eq!(x(&mut c, "0020000003123456"), "6983");
    }
    let mut c = Card::open(&p, &path).unwrap();
    script(
        &mut c,
        &[(SELECT_SSSE, "9000"), ("0020000003123456", "6983")],
    );
}

#[test]
fn a_second_process_is_refused_by_the_lock() {
    let dir = temp_dir("lock");
    let path = dir.join("card.state");
    let _first = Card::open(&gen3(), &path).unwrap();
    let e = Card::open(&gen3(), &path).unwrap_err().to_string();
    assert!(e.contains("locked"), "{e}");
    assert!(e.contains("card.state"), "{e}");
}

/// Every single-byte change in the header or the snapshot, and every truncation inside
/// them, is refused, naming the file, and leaves it byte for byte as it was.
#[test]
fn damaged_files_are_refused_and_left_alone() {
    let dir = temp_dir("damage");
    let good = dir.join("good.state");
    let p = gen3();
    drop(Card::open(&p, &good).unwrap());
    let bytes = std::fs::read(&good).unwrap();
    let bad = dir.join("bad.state");
    let check = |content: &[u8], what: &str| {
        std::fs::write(&bad, content).unwrap();
        let e = Card::open(&p, &bad)
            .err()
            .unwrap_or_else(|| panic!("{what}: accepted"));
        let message = e.to_string();
        assert!(message.contains("bad.state"), "{what}: {message}");
        assert!(message.contains("left as it was"), "{what}: {message}");
        assert_eq!(
            std::fs::read(&bad).unwrap(),
            content,
            "{what}: file changed"
        );
    };
    let step = (bytes.len() / 97).max(1);
    for i in (0..bytes.len()).step_by(step).chain(0..26) {
        let mut b = bytes.clone();
        b[i] ^= 0x40;
        check(&b, &format!("byte {i} flipped"));
    }
    for len in (0..bytes.len()).step_by(step) {
        check(&bytes[..len], &format!("cut to {len} bytes"));
    }
    check(b"not a state file at all, just text", "foreign");
    // Another profile's file.
    let gen2 = dir.join("gen2.state");
    drop(Card::open(&Profile::builtin("gen2").unwrap(), &gen2).unwrap());
    check(&std::fs::read(&gen2).unwrap(), "another profile");
}

/// The decrement is made durable before the comparison: with the power cut at the
/// decrement's write the right PIN is not accepted (6581, nothing compared), and whatever
/// the cut model, the reopened card never has more tries than before.
#[test]
fn the_decrement_is_durable_before_the_comparison() {
    let p = gen3();
    let base = MemMedium::new();
    let mut card = Card::open_on(&p, Box::new(base.clone())).unwrap();
    x(&mut card, SELECT_SSSE);
    for mode in CutMode::ALL {
        for (pin, write) in [("123456", 0), ("123456", 1), ("111111", 0)] {
            let medium = base.fork();
            let mut c = card.volatile_copy();
            c.resume_on(&p, Box::new(medium.clone()));
            medium.cut_at(write, mode);
            let answer = x(&mut c, &format!("0020000003{pin}"));
            assert_eq!(answer, "6581", "{mode:?} {pin} write {write}");
            // Fail closed until reopened.
            assert_eq!(x(&mut c, "00200000"), "6581");
            let image = medium.after_power_cut();
            let mut reopened = Card::open_on(&p, Box::new(MemMedium::with_bytes(image))).unwrap();
            x(&mut reopened, SELECT_SSSE);
            let tries = x(&mut reopened, "00200000");
            assert!(
                tries == "63C3" || tries == "63C2",
                "{mode:?} {pin} write {write}: {tries}"
            );
            // The right PIN's decrement, once written, stays (a lost try, never a gained one).
            if write == 1 {
                assert_eq!(tries, "63C2", "{mode:?}: the synced decrement was lost");
            }
        }
    }
}

/// CARD BLOCK is for ever: after a restart the card still answers every command 6A81.
#[test]
fn a_blocked_card_answers_6a81_after_a_restart() {
    use applet_sim::crypto::{session_key, ssc_mac};
    use applet_sim::model::CipherSuite;
    let dir = temp_dir("card-block");
    let path = dir.join("card.state");
    let p = gen3();
    {
        let mut c = Card::open(&p, &path).unwrap();
        x(&mut c, SELECT_SSSE);
        let r = c.transmit(&apdu::parse_hex("0084000008").unwrap());
        let bk = apdu::parse_hex(
            "C05976E4B1ADE485D337604F223B8115", /* gen3 BK, docs/CARD.md §6.8 */
        )
        .unwrap();
        let ks = session_key(CipherSuite::Sm4, &bk, &r[..8]).unwrap();
        let mac = ssc_mac(CipherSuite::Sm4, &ks, &[0x84, 0x16, 0, 0, 4]).unwrap();
        assert_eq!(
            x(&mut c, &format!("8416000004{}", apdu::hex_compact(&mac))),
            "9000"
        );
    }
    let mut c = Card::open(&p, &path).unwrap();
    script(&mut c, &[(SELECT_SSSE, "6A81"), ("0084000008", "6A81")]);
}

/// Found by review: a file refused for a record that does not fit the profile had its torn
/// tail cut off first; now it is left exactly as it was. A life-cycle record blocking one
/// application twice is refused too.
#[test]
fn a_refused_file_keeps_its_torn_tail() {
    use applet_sim::testing::Record;
    let dir = temp_dir("refused-tail");
    let path = dir.join("card.state");
    let p = gen3();
    drop(Card::open(&p, &path).unwrap());
    let mut bytes = std::fs::read(&path).unwrap();
    let good = bytes.clone();
    bytes.extend(
        Record::Key {
            index: 999,
            remaining: 1,
        }
        .encode(),
    );
    let partial = Record::Key {
        index: 0,
        remaining: 1,
    }
    .encode();
    bytes.extend(&partial[..partial.len() / 2]);
    std::fs::write(&path, &bytes).unwrap();
    let e = Card::open(&p, &path).err().unwrap().to_string();
    assert!(e.contains("key #999"), "{e}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the refused file changed"
    );
    // Blocked twice.
    let mut twice = good;
    twice.extend(
        Record::Lifecycle {
            card_blocked: false,
            blocked_apps: vec![(1, false), (1, true)],
        }
        .encode(),
    );
    std::fs::write(&path, &twice).unwrap();
    let e = Card::open(&p, &path).err().unwrap().to_string();
    assert!(e.contains("blocked twice"), "{e}");
}
