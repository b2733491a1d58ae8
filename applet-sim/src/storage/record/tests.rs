//! Unit tests of the record format: round trips, damage, torn appends, versions.

use super::*;
use proptest::prelude::*;

#[test]
fn crc32_check_value() {
    // The standard check value of CRC-32/ISO-HDLC.
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(fnv1a(b""), 0xCBF2_9CE4_8422_2325);
}

const SALT: Salt = [0x5A; 16];

fn decl() -> Declaration {
    Declaration::new("builtin:test", [0xD5; 32])
}

fn record() -> impl Strategy<Value = Record> {
    let bytes = prop::collection::vec(any::<u8>(), 0..40);
    prop_oneof![
        (
            any::<u16>(),
            any::<[u8; 32]>(),
            any::<Option<[u8; 16]>>(),
            any::<u8>()
        )
            .prop_map(|(index, verifier, pki_key, remaining)| Record::Pin {
                index,
                sealed: SealedPin { verifier, pki_key },
                remaining,
            }),
        (any::<u16>(), any::<u8>()).prop_map(|(index, remaining)| Record::Key { index, remaining }),
        (any::<u16>(), bytes.clone(), any::<u8>()).prop_map(|(index, value, remaining)| {
            Record::KeyValue {
                index,
                value,
                remaining,
            }
        }),
        prop::collection::vec((any::<u16>(), any::<u16>(), any::<[u8; 32]>()), 0..3)
            .prop_map(Record::PkiKeys),
        (any::<u16>(), bytes.clone()).prop_map(|(node, b)| Record::Ef {
            node,
            content: EfData::Transparent(b)
        }),
        (any::<u16>(), prop::collection::vec(bytes, 0..5)).prop_map(|(node, r)| Record::Ef {
            node,
            content: EfData::Records(r)
        }),
        (
            any::<bool>(),
            prop::collection::vec((any::<u16>(), any::<bool>()), 0..4)
        )
            .prop_map(|(card_blocked, blocked_apps)| Record::Lifecycle {
                card_blocked,
                blocked_apps
            }),
    ]
}

proptest! {
    /// Records round-trip through a file; a file cut anywhere in its journal reopens
    /// with a prefix of its records; any byte flipped is refused or drops the tail.
    #[test]
    fn files_round_trip_and_tolerate_only_a_torn_tail(
        snapshot in prop::collection::vec(record(), 0..4),
        journal in prop::collection::vec(record(), 0..6),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
    ) {
        let mut snap = decl().encode();
        for r in &snapshot { snap.extend(r.encode()); }
        let mut bytes = header(7, &SALT, snap.len());
        bytes.extend(&snap);
        let journal_start = bytes.len();
        let mut last_start = bytes.len();
        for r in &journal {
            last_start = bytes.len();
            bytes.extend(r.encode());
        }
        let all: Vec<Record> = snapshot.iter().chain(&journal).cloned().collect();
        let parsed = parse(&bytes, 7).unwrap();
        prop_assert_eq!(&parsed.records, &all);
        prop_assert_eq!(parsed.declaration, Some(decl()));
        prop_assert_eq!(parsed.valid_len, bytes.len());
        prop_assert!(parse(&bytes, 8).is_err());
        // A torn journal: a prefix of the records survives.
        let at = journal_start + cut.index(bytes.len() - journal_start + 1);
        let torn = parse(&bytes[..at], 7).unwrap();
        prop_assert!(all.starts_with(&torn.records));
        prop_assert!(torn.records.len() >= snapshot.len());
        // A flipped byte: refused, or (in the last record) a shorter prefix.
        let i = flip.index(bytes.len());
        let mut damaged = bytes.clone();
        damaged[i] ^= 0x01;
        if let Ok(p) = parse(&damaged, 7) {
            // Only the last journal record's payload or CRC: a torn-looking tail.
            prop_assert!(i >= journal_start && i >= last_start + 8, "flip at {} accepted", i);
            prop_assert!(all.starts_with(&p.records));
            prop_assert!(p.records.len() < all.len());
        }
    }
}
fn file(records: &[Vec<u8>]) -> Vec<u8> {
    let d = decl().encode();
    let mut bytes = header(7, &SALT, d.len());
    bytes.extend(d);
    for r in records {
        bytes.extend(r);
    }
    bytes
}

/// A record with a right CRC around any payload.
fn raw(payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap_or(0);
    let mut out = len.to_le_bytes().to_vec();
    out.extend((!len).to_le_bytes());
    out.extend(payload);
    let crc = crc32(&out);
    out.extend(crc.to_le_bytes());
    out
}

/// Found by review: nested batches recursed (a stack overflow on a crafted file); a
/// checksummed record this build cannot read was dropped as if torn; a zero-filled tail
/// was refused instead of dropped.
#[test]
fn crafted_and_crashed_tails() {
    let key = Record::Key {
        index: 1,
        remaining: 2,
    };
    // A batch inside a batch is refused before its inside is read (no recursion).
    let mut inner = Record::Batch(vec![key.clone()]).encode();
    for _ in 0..3 {
        let mut p = vec![5u8];
        put_u32(&mut p, 1);
        put_bytes(&mut p, &inner);
        inner = raw(&p);
    }
    let e = parse(&file(&[key.encode(), inner]), 7).unwrap_err();
    assert!(e.contains("cannot read"), "{e}");
    // A whole record of an unknown kind at the end: refused, not dropped.
    let e = parse(&file(&[key.encode(), raw(&[7, 1, 2])]), 7).unwrap_err();
    assert!(e.contains("cannot read"), "{e}");
    // Zeros where an append should have landed: a torn tail.
    let mut bytes = file(&[key.encode()]);
    let valid = bytes.len();
    bytes.extend([0u8; 37]);
    let p = parse(&bytes, 7).unwrap();
    assert_eq!((p.records, p.valid_len), (vec![key], valid));
}

/// Format 3's snapshot starts with the declaration: a file without it, with a damaged
/// one, or with a second one later is refused; its name and digest round-trip; a file
/// of another layout is read by `parse_any` (the caller names the declarations).
#[test]
fn the_declaration_opens_the_snapshot() {
    let key = Record::Key {
        index: 1,
        remaining: 2,
    };
    let p = parse_any(&file(&[key.encode()])).unwrap();
    assert_eq!((p.declaration, p.fingerprint), (Some(decl()), 7));
    assert!(
        parse(&file(&[]), 8)
            .unwrap_err()
            .contains("another card profile")
    );
    // No declaration: the first snapshot record is a key.
    let k = key.encode();
    let mut bytes = header(7, &SALT, k.len());
    bytes.extend(&k);
    assert!(parse_any(&bytes).unwrap_err().contains("no declaration"));
    // An empty snapshot.
    assert!(
        parse_any(&header(7, &SALT, 0))
            .unwrap_err()
            .contains("truncated")
    );
    // A damaged declaration.
    let mut bytes = file(&[]);
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    assert!(parse_any(&bytes).unwrap_err().contains("checksum"));
    // A second declaration in the journal.
    let mut bytes = file(&[]);
    bytes.extend(decl().encode());
    assert!(parse_any(&bytes).unwrap_err().contains("cannot read"));
    // Names are kept whole up to MAX_NAME bytes, cut at a character boundary beyond.
    let long = "名".repeat(2000);
    let d = Declaration::new(&long, [1; 32]);
    assert!(d.name.len() <= MAX_NAME && long.starts_with(&d.name));
    assert_eq!(
        Declaration::decode(&d.encode()[8..d.encode().len() - 4]),
        Some(d)
    );
}

/// Format 1 (no salt, clear PIN records) is read, for migration; a clear PIN record in a
/// format-2 file and a sealed one in a format-1 file are refused.
#[test]
fn format_1_is_read_and_pin_records_match_their_format() {
    let legacy = Record::LegacyPin {
        index: 0,
        value: PinValue::from_digits("1234").unwrap(),
        remaining: 3,
    };
    let sealed = Record::Pin {
        index: 0,
        sealed: SealedPin {
            verifier: [1; 32],
            pki_key: None,
        },
        remaining: 3,
    };
    let v1 = |record: &Record| {
        let mut h = MAGIC.to_vec();
        h.extend(1u16.to_le_bytes());
        h.extend(7u64.to_le_bytes());
        h.extend(0u32.to_le_bytes());
        let crc = crc32(&h);
        h.extend(crc.to_le_bytes());
        h.extend(record.encode());
        h
    };
    let p = parse(&v1(&legacy), 7).unwrap();
    assert_eq!(
        (p.version, p.salt, p.records),
        (1, None, vec![legacy.clone()])
    );
    assert!(parse(&v1(&sealed), 7).unwrap_err().contains("cannot read"));
    let p = parse(&file(&[sealed.encode()]), 7).unwrap();
    assert_eq!(
        (p.version, p.salt, p.records, p.declaration),
        (3, Some(SALT), vec![sealed.clone()], Some(decl()))
    );
    // Format 2: the same without the declaration.
    let mut v2 = header_of(2, 7, &SALT, 0);
    v2.extend(sealed.encode());
    let p = parse(&v2, 7).unwrap();
    assert_eq!(
        (p.version, p.salt, p.records, p.declaration),
        (2, Some(SALT), vec![sealed], None)
    );
    // A declaration record in format 2 is not one it can hold.
    let mut v2 = header_of(2, 7, &SALT, 0);
    v2.extend(decl().encode());
    assert!(parse(&v2, 7).unwrap_err().contains("cannot read"));
    assert!(
        parse(&file(&[legacy.encode()]), 7)
            .unwrap_err()
            .contains("cannot read")
    );
    let mut future = file(&[]);
    future[8] = 4;
    assert!(parse(&future, 7).unwrap_err().contains("version 4"));
}
