//! Unit tests of the vpcd framing and serving.

use super::*;
use crate::Card;

#[test]
fn control_frames_and_apdus() {
    let card = Card::default_card().unwrap();
    let mut slot = Slot::new("t", card.volatile_copy(), card, false);
    let mut out = Vec::new();
    assert_eq!(slot.handle(&[CTRL_ON], &mut out), None);
    assert_eq!(slot.handle(&[CTRL_ATR], &mut out), Some(()));
    assert_eq!(out, slot.card().atr());
    assert_eq!(slot.handle(&[0x00, 0xA4, 0x00, 0x00], &mut out), Some(()));
    assert_eq!(out, [0x90, 0x00]);
    // Malformed APDUs are the card's business: 6700.
    assert_eq!(slot.handle(&[0x00, 0xA4], &mut out), Some(()));
    assert_eq!(out, [0x67, 0x00]);
    assert_eq!(slot.handle(&[3], &mut out), None);
    assert_eq!(slot.handle(&[], &mut out), None);
    // Removal answers Get ATR with an empty frame.
    let controls = Controls::default();
    controls.remove.store(true, Ordering::SeqCst);
    slot.apply(&controls);
    assert_eq!(slot.handle(&[CTRL_ATR], &mut out), Some(()));
    assert!(out.is_empty());
    controls.insert.store(true, Ordering::SeqCst);
    slot.apply(&controls);
    slot.handle(&[CTRL_ATR], &mut out);
    assert_eq!(out, slot.card().atr());
}

/// Issue 16 item 6: a restore whose rewrite fails (the medium refuses the write, as a
/// full disk does) is acknowledged as failed, not as done.
#[test]
fn a_failed_restore_is_acknowledged_as_failed() {
    use crate::restore_ack::{Ack, RestoreAck};
    use crate::testing::{CutMode, MemMedium};
    let profile = crate::Profile::builtin("gen3").unwrap();
    let medium = MemMedium::new();
    let card = Card::open_on(&profile, Box::new(medium.clone())).unwrap();
    let mut slot = Slot::new("t", card, Card::new(&profile), false);
    let base = std::env::temp_dir().join(format!("ssc-slot-{}", std::process::id()));
    std::fs::create_dir_all(&base).unwrap();
    let ack = RestoreAck::create(&base, 0).unwrap();
    let path = ack.path().to_owned();
    slot.acknowledge_restores(ack);
    let controls = Controls::default();
    controls.restore.store(true, Ordering::SeqCst);
    slot.apply(&controls);
    assert_eq!(
        Ack::read(&path).unwrap(),
        Ack {
            count: 1,
            failure: None
        }
    );
    medium.cut_at(medium.writes(), CutMode::Dropped);
    controls.restore.store(true, Ordering::SeqCst);
    slot.apply(&controls);
    let ack = Ack::read(&path).unwrap();
    assert_eq!(ack.count, 2);
    assert!(ack.failure.is_some_and(|f| f.contains("power cut")));
    drop(slot);
    assert!(!path.exists());
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn a_byte_stream_is_answered_frame_by_frame() {
    let card = Card::default_card().unwrap();
    let mut slot = Slot::new("t", card.volatile_copy(), card, false);
    // Power on (no answer), Get ATR, SELECT MF, then half a frame.
    let input = [
        0x00, 0x01, CTRL_ON, 0x00, 0x01, CTRL_ATR, 0x00, 0x04, 0x00, 0xA4, 0x00, 0x00, 0x00, 0x05,
        0x00,
    ];
    let wire = answer_stream(&mut slot, &input);
    let atr = slot.card().atr().to_vec();
    let mut want = vec![0x00, u8::try_from(atr.len()).unwrap()];
    want.extend(&atr);
    want.extend([0x00, 0x02, 0x90, 0x00]);
    assert_eq!(wire, want);
    assert!(answer_stream(&mut slot, &[0xFF]).is_empty());
}
