//! Unit tests of the PIN object (model/pin.rs): decoding, the counter rules, commits.

use super::*;
use crate::model::secret::Sealing;

/// No durable state: every write point succeeds.
#[allow(clippy::unnecessary_wraps)]
fn none(_: WritePoint, _: &PinObject) -> Result<(), StorageFailure> {
    Ok(())
}

fn ssse_pin() -> PinObject {
    PinObject::new(
        0,
        PinEncoding::Bcd,
        (4, 16),
        PinValue::from_digits("123456").unwrap(),
        3,
    )
}

#[test]
fn bcd_decoding() {
    let d = |hex: &str| PinEncoding::Bcd.decode(&apdu::parse_hex(hex).unwrap(), 4, 16);
    assert_eq!(
        d("123456").unwrap(),
        PinValue::from_digits("123456").unwrap()
    );
    assert_eq!(
        d("12345F").unwrap(),
        PinValue::from_digits("12345").unwrap()
    );
    assert_eq!(d("1234567890123456").unwrap().len(), 16);
    assert_eq!(d("12"), Err(PinError::WrongLength));
    assert_eq!(d("123456789012345678"), Err(PinError::WrongLength));
    assert_eq!(d("123F"), Err(PinError::BadFormat)); // 3 digits < 4
    assert_eq!(d("12A4"), Err(PinError::BadFormat));
    assert_eq!(d("12F4"), Err(PinError::BadFormat)); // digit after padding
    assert_eq!(d("1234FF"), Err(PinError::BadFormat)); // a whole padding byte
}

#[test]
fn ascii_decodings() {
    let ff = PinEncoding::AsciiFfPadded;
    assert_eq!(
        ff.decode(b"123456\xFF\xFF", 4, 8).unwrap(),
        PinValue::from_digits("123456").unwrap()
    );
    assert_eq!(ff.decode(b"123456\xFF", 4, 8), Err(PinError::WrongLength));
    assert_eq!(
        ff.decode(b"12\xFF456\xFF\xFF", 4, 8),
        Err(PinError::BadFormat)
    );
    assert_eq!(
        ff.decode(b"123\xFF\xFF\xFF\xFF\xFF", 4, 8),
        Err(PinError::BadFormat)
    );
    assert_eq!(
        PinEncoding::Ascii.decode(b"12345678", 8, 8).unwrap().len(),
        8
    );
    assert_eq!(
        PinEncoding::Ascii.decode(b"1234567", 8, 8),
        Err(PinError::WrongLength)
    );
    assert_eq!(
        PinEncoding::Ascii.decode(b"1234567a", 8, 8),
        Err(PinError::BadFormat)
    );
}

#[test]
fn counter_rules() {
    let mut pin = ssse_pin();
    assert_eq!(pin.query(), StatusWord::RemainingRetries(3));
    assert_eq!(
        pin.verify(&[0x12, 0x34, 0x57], &mut none),
        Err(PinError::Mismatch { remaining: 2 })
    );
    assert_eq!(pin.verify(&[0x12, 0x34, 0x56], &mut none), Ok(()));
    assert_eq!(pin.remaining(), 3);
    // Malformed input costs nothing.
    assert_eq!(pin.verify(&[0x12], &mut none), Err(PinError::WrongLength));
    assert_eq!(
        pin.verify(&[0x1A, 0x34], &mut none),
        Err(PinError::BadFormat)
    );
    assert_eq!(pin.remaining(), 3);
    for left in [2, 1, 0] {
        assert_eq!(
            pin.verify(&[0, 0, 0], &mut none),
            Err(PinError::Mismatch { remaining: left })
        );
    }
    // Blocked: no comparison, even with the right PIN.
    assert_eq!(
        pin.verify(&[0x12, 0x34, 0x56], &mut none),
        Err(PinError::Blocked)
    );
    assert_eq!(pin.query(), StatusWord::AuthenticationMethodBlocked);
    assert!(pin.is_blocked());
}

#[test]
fn change_checks_old_first_then_new_format() {
    let mut pin = ssse_pin();
    // Wrong old PIN: counted, whatever the new one looks like.
    assert_eq!(
        pin.change(&[0x11, 0x11], &[0xAA], &mut none),
        Err(PinError::Mismatch { remaining: 2 })
    );
    // Right old PIN, malformed new one: counter restored, value unchanged.
    assert_eq!(
        pin.change(&[0x12, 0x34, 0x56], &[0x1A, 0x22], &mut none),
        Err(PinError::BadFormat)
    );
    assert_eq!(pin.remaining(), 3);
    assert_eq!(pin.verify(&[0x12, 0x34, 0x56], &mut none), Ok(()));
    // Malformed old PIN: nothing counted.
    assert_eq!(
        pin.change(&[0x12], &[0x11, 0x11], &mut none),
        Err(PinError::WrongLength)
    );
    assert_eq!(pin.remaining(), 3);
    assert_eq!(
        pin.change(&[0x12, 0x34, 0x56], &[0x65, 0x43, 0x21], &mut none),
        Ok(())
    );
    assert_eq!(
        pin.verify(&[0x12, 0x34, 0x56], &mut none),
        Err(PinError::Mismatch { remaining: 2 })
    );
    assert_eq!(pin.verify(&[0x65, 0x43, 0x21], &mut none), Ok(()));
    assert_eq!(pin.fixed_len(), None);
    let puk = PinObject::new(
        0,
        PinEncoding::Ascii,
        (8, 8),
        PinValue::from_digits("12345678").unwrap(),
        10,
    );
    assert_eq!(puk.fixed_len(), Some(8));
}

#[test]
fn fixed_length_form_separates_lengths() {
    let a = PinValue::from_digits("1234").unwrap();
    let b = PinValue::from_digits("12340").unwrap();
    assert!(!a.ct_eq(&b) && a.ct_eq(&a));
    assert_eq!(format!("{a:?}"), "PinValue(4 digits)");
}

/// docs/SECURITY.md §1 rule 3: the decrement is committed before `matches` runs, the restore
/// after; a failing commit stops before the comparison.
#[test]
fn commits_come_in_order_and_a_failed_one_stops_the_comparison() {
    let mut pin = ssse_pin();
    let mut log = Vec::new();
    let mut record = |point: WritePoint, p: &PinObject| {
        log.push((point, p.remaining()));
        Ok(())
    };
    let compared = std::cell::Cell::new(false);
    let result = pin.check_with(&mut record, |v| {
        compared.set(true);
        v.matches(&PinValue::from_digits("123456").unwrap_or_else(|_| unreachable!()))
    });
    assert_eq!(result, Ok(()));
    assert!(compared.get());
    assert_eq!(
        log,
        [(WritePoint::PinDecrement, 2), (WritePoint::PinRestore, 3)]
    );
    let mut failing = |point: WritePoint, _: &PinObject| {
        Err(StorageFailure {
            point,
            message: "disk gone".into(),
        })
    };
    compared.set(false);
    let result = pin.check_with(&mut failing, |_| {
        compared.set(true);
        true
    });
    assert_eq!(result, Err(PinError::Storage));
    assert!(!compared.get(), "compared before the decrement was durable");
    assert_eq!(
        StatusWord::from(PinError::Storage),
        StatusWord::MemoryFailure
    );
}

fn pin(s: &str) -> PinValue {
    PinValue::from_digits(s).unwrap()
}

#[test]
fn sealed_secrets_compare_by_verifier_and_depend_on_salt_and_place() {
    let sealing = Sealing {
        salt: [7; 16],
        index: 0,
        keeps_pki_key: false,
    };
    let mut s = Secret::Clear(pin("123456"));
    s.seal(sealing);
    assert!(s.matches(&pin("123456")) && !s.matches(&pin("1234560")));
    assert_eq!(s.pki_key(), None);
    s.set(pin("654321"));
    assert!(s.matches(&pin("654321")) && !s.matches(&pin("123456")));
    let other_salt = Sealing {
        salt: [8; 16],
        ..sealing
    };
    let other_index = Sealing {
        index: 1,
        ..sealing
    };
    let v = sealing.verifier(&pin("1234").to_bytes());
    assert_ne!(v, other_salt.verifier(&pin("1234").to_bytes()));
    assert_ne!(v, other_index.verifier(&pin("1234").to_bytes()));
    let pki = Sealing {
        keeps_pki_key: true,
        ..sealing
    };
    let mut s = Secret::Clear(pin("123456"));
    let clear_key = s.pki_key();
    s.seal(pki);
    assert_eq!(s.pki_key(), clear_key);
    assert_eq!(
        format!("{:?}", pki.seal(&pin("1").to_bytes(), &pin("1").to_bcd())),
        "SealedPin(key kept: true)"
    );
}

/// A chosen state (a profile's `tries`) only takes tries away: never above the maximum,
/// never above what the object had; at 0 the object is blocked and a correct PIN is refused
/// with 6983, without a comparison or a write.
#[test]
fn a_chosen_counter_only_takes_tries_away() {
    assert_eq!(ssse_pin().with_remaining(200).remaining(), 3);
    assert_eq!(ssse_pin().with_remaining(1).remaining(), 1);
    assert_eq!(
        ssse_pin().with_remaining(1).with_remaining(3).remaining(),
        1
    );
    let mut locked = ssse_pin().with_remaining(0);
    assert!(locked.is_blocked());
    let mut writes = 0;
    let mut count = |_: WritePoint, _: &PinObject| -> Result<(), StorageFailure> {
        writes += 1;
        Ok(())
    };
    assert_eq!(
        locked.verify(&[0x12, 0x34, 0x56], &mut count),
        Err(PinError::Blocked)
    );
    assert_eq!(writes, 0);
    let mut one = ssse_pin().with_remaining(1);
    assert_eq!(
        one.verify(&[0x65, 0x43, 0x21], &mut none),
        Err(PinError::Mismatch { remaining: 0 })
    );
    assert_eq!(
        one.verify(&[0x12, 0x34, 0x56], &mut none),
        Err(PinError::Blocked)
    );
}
