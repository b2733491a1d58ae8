//! Command-APDU codec: the edge-case table, and property tests (arbitrary bytes never panic;
//! encode(parse(x)) == x; parse(encode(c)) == c).

// Test helpers (outside #[test] functions) fail loudly on broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use apdu::{Case, Command, CommandApdu, EncodeError, LengthEncoding, ParseError, parse_hex};
use proptest::prelude::*;

fn h(s: &str) -> Vec<u8> {
    parse_hex(s).unwrap()
}

/// (input, case, data length, Ne, encoding) for valid APDUs.
#[test]
fn valid_edge_cases() {
    let d255 = "11".repeat(255);
    let d256 = "11".repeat(256);
    #[rustfmt::skip]
    let table: Vec<(String, Case, usize, Option<u32>, LengthEncoding)> = vec![
        ("00A40000".into(),                     Case::One,   0, None,         LengthEncoding::Short),
        ("00B2010400".into(),                   Case::Two,   0, Some(256),    LengthEncoding::Short),
        ("00B2010412".into(),                   Case::Two,   0, Some(0x12),   LengthEncoding::Short),
        ("00840000FF".into(),                   Case::Two,   0, Some(255),    LengthEncoding::Short),
        ("0020000003123456".into(),             Case::Three, 3, None,         LengthEncoding::Short),
        ("00A4040002EF0500".into(),             Case::Four,  2, Some(256),    LengthEncoding::Short),
        ("00A4040002EF0501".into(),             Case::Four,  2, Some(1),      LengthEncoding::Short),
        (format!("00D60000FF{d255}"),           Case::Three, 255, None,       LengthEncoding::Short),
        (format!("00D60000FF{d255}00"),         Case::Four,  255, Some(256),  LengthEncoding::Short),
        ("00B0000000FFFF".into(),               Case::Two,   0, Some(65_535), LengthEncoding::Extended),
        ("00B00000000000".into(),               Case::Two,   0, Some(65_536), LengthEncoding::Extended),
        ("00B00000000001".into(),               Case::Two,   0, Some(1),      LengthEncoding::Extended),
        (format!("00D60000000100{d256}"),       Case::Three, 256, None,       LengthEncoding::Extended),
        ("00D6000000000111".into(),             Case::Three, 1, None,         LengthEncoding::Extended),
        ("00D60000000001110000".into(),         Case::Four,  1, Some(65_536), LengthEncoding::Extended),
        ("00D60000000001110100".into(),         Case::Four,  1, Some(256),    LengthEncoding::Extended),
    ];
    for (hex, case, len, ne, enc) in table {
        let bytes = h(&hex);
        let apdu = CommandApdu::parse(&bytes).unwrap_or_else(|e| panic!("{hex}: {e}"));
        assert_eq!(apdu.case(), case, "{hex}");
        assert_eq!(apdu.data.len(), len, "{hex}");
        assert_eq!(apdu.ne, ne, "{hex}");
        assert_eq!(apdu.encoding, enc, "{hex}");
        assert_eq!(apdu.to_vec(), bytes, "{hex}");
    }
}

#[test]
fn extended_maximum_data() {
    let mut bytes = h("00D60000 00FFFF");
    bytes.extend(std::iter::repeat_n(0xAB, 65_535));
    let apdu = CommandApdu::parse(&bytes).unwrap();
    assert_eq!((apdu.case(), apdu.data.len()), (Case::Three, 65_535));
    bytes.extend([0x00, 0x00]);
    let apdu = CommandApdu::parse(&bytes).unwrap();
    assert_eq!((apdu.case(), apdu.ne), (Case::Four, Some(65_536)));
    assert_eq!(apdu.to_vec(), bytes);
}

/// Malformed inputs and the precise error each gets.
#[test]
fn malformed_edge_cases() {
    #[rustfmt::skip]
    let table: [(&str, ParseError); 13] = [
        ("",                       ParseError::TooShort { len: 0 }),
        ("00",                     ParseError::TooShort { len: 1 }),
        ("00A404",                 ParseError::TooShort { len: 3 }),
        ("00A4040002EF",           ParseError::Truncated { lc: 2, available: 1 }),
        ("0020000008123456",       ParseError::Truncated { lc: 8, available: 3 }),
        ("00A4040002EF050000",     ParseError::TrailingBytes { extra: 1 }),
        ("00A4040002EF05000000",   ParseError::TrailingBytes { extra: 2 }),
        ("00A404000000",           ParseError::ZeroShortLc),
        ("00A40400000000AA",       ParseError::ZeroExtendedLc),
        ("00D60000000002AA",       ParseError::Truncated { lc: 2, available: 1 }),
        ("00D60000000001AA00",     ParseError::BadExtendedLe),
        ("00D60000000001AA000000", ParseError::TrailingBytes { extra: 1 }),
        ("00D60000000001AA00000000", ParseError::TrailingBytes { extra: 2 }),
    ];
    for (hex, err) in table {
        assert_eq!(CommandApdu::parse(&h(hex)), Err(err), "{hex}");
    }
}

#[test]
fn case_1_has_no_length_encoding() {
    let c = Command::new(0, 0, 0, 0).extended();
    assert_eq!(c.encode().unwrap(), [0, 0, 0, 0]);
    assert_eq!(c.view().unwrap().encoding, LengthEncoding::Short);
}

#[test]
fn builder_chooses_the_shortest_encoding_and_checks_bounds() {
    let c = Command::new(0x00, 0xB2, 0x01, 0x2C).le(0x0B);
    assert_eq!(c.encode().unwrap(), h("00B2012C0B"));
    assert_eq!(
        Command::new(0, 0xB0, 0, 0).le(256).encode().unwrap(),
        h("00B0000000")
    );
    assert_eq!(
        Command::new(0, 0xB0, 0, 0).le(257).encode().unwrap(),
        h("00B00000000101")
    );
    assert_eq!(
        Command::new(0, 0xB0, 0, 0)
            .le(1)
            .extended()
            .encode()
            .unwrap(),
        h("00B00000000001")
    );
    assert_eq!(
        Command::new(0, 0xB0, 0, 0).le(0).encode(),
        Err(EncodeError::BadNe { ne: 0 })
    );
    assert_eq!(
        Command::new(0, 0xB0, 0, 0).le(65_537).encode(),
        Err(EncodeError::BadNe { ne: 65_537 })
    );
    assert_eq!(
        Command::new(0, 0xD6, 0, 0).data(vec![0; 65_536]).encode(),
        Err(EncodeError::DataTooLong { len: 65_536 })
    );
    let forced_short = Command {
        encoding: Some(LengthEncoding::Short),
        ..Command::new(0, 0xD6, 0, 0).data(vec![0; 256])
    };
    assert!(matches!(
        forced_short.encode(),
        Err(EncodeError::NeedsExtended { .. })
    ));
}

fn arb_command() -> impl Strategy<Value = Command> {
    (
        any::<[u8; 4]>(),
        prop_oneof![
            3 => proptest::collection::vec(any::<u8>(), 0..=300),
            1 => proptest::collection::vec(any::<u8>(), 0..=70_000),
        ],
        prop_oneof![
            Just(None),
            (1u32..=65_536).prop_map(Some),
            (1u32..=256).prop_map(Some)
        ],
        prop_oneof![
            Just(None),
            Just(Some(LengthEncoding::Short)),
            Just(Some(LengthEncoding::Extended))
        ],
    )
        .prop_map(|([cla, ins, p1, p2], data, ne, encoding)| Command {
            cla,
            ins,
            p1,
            p2,
            data,
            ne,
            encoding,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Arbitrary bytes never panic the parser; whatever parses re-encodes to the same bytes.
    #[test]
    fn parse_never_panics_and_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(apdu) = CommandApdu::parse(&bytes) {
            prop_assert_eq!(apdu.to_vec(), bytes);
        }
    }

    /// Bytes shaped like an APDU header plus lengths, to reach the deep branches often.
    #[test]
    fn near_valid_bytes_round_trip(
        header in any::<[u8; 4]>(),
        marker in prop_oneof![Just(0u8), any::<u8>()],
        tail in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = header.to_vec();
        bytes.push(marker);
        bytes.extend(tail);
        if let Ok(apdu) = CommandApdu::parse(&bytes) {
            prop_assert_eq!(apdu.to_vec(), bytes);
        }
    }

    /// Every encodable command parses back to itself and re-encodes identically.
    #[test]
    fn encode_then_parse_is_identity(cmd in arb_command()) {
        match cmd.encode() {
            Ok(bytes) => {
                let apdu = CommandApdu::parse(&bytes).expect("an encoded command parses");
                prop_assert_eq!(apdu.data, &cmd.data[..]);
                prop_assert_eq!(apdu.ne, cmd.ne);
                prop_assert_eq!((apdu.cla.0, apdu.ins, apdu.p1, apdu.p2), (cmd.cla, cmd.ins, cmd.p1, cmd.p2));
                prop_assert_eq!(&apdu.to_vec(), &bytes);
                prop_assert_eq!(Some(apdu), cmd.view().ok());
            }
            Err(EncodeError::DataTooLong { len }) => prop_assert!(len > 65_535),
            Err(EncodeError::NeedsExtended { .. }) => {
                prop_assert_eq!(cmd.encoding, Some(LengthEncoding::Short));
            }
            Err(EncodeError::BadNe { .. }) => prop_assert!(false, "generated Ne is in range"),
        }
    }

    /// Arbitrary bytes never panic the TLV parsers.
    #[test]
    fn tlv_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = apdu::tlv::SimpleTlvIter::new(&bytes).count();
        if let Ok(nodes) = apdu::tlv::BerNode::parse_all(&bytes) {
            let mut out = Vec::new();
            for n in &nodes {
                n.encode_into(&mut out).unwrap();
            }
            // Re-encoding uses minimal lengths, so it can only be as long or shorter.
            prop_assert!(out.len() <= bytes.len());
        }
    }
}
