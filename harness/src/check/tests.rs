//! The pure rules ([`super::rules`], [`super::bank`]) on examples from docs/CARD.md and the
//! built-in cards, and on random inputs where the space is large.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use proptest::prelude::*;

use super::bank::{luhn, pan, track2, yymmdd};
use super::issuer::{atr, card_id, initialising_organisation};
use super::rules::*;

#[test]
fn simple_tlv_takes_one_object_whose_length_agrees() {
    assert_eq!(
        simple_tlv(&[0x0A, 0x01, 0x31]).unwrap(),
        (0x0A, &[0x31][..])
    );
    assert!(simple_tlv(&[0x0A]).is_err());
    assert!(
        simple_tlv(&[0x0A, 0x02, 0x31])
            .unwrap_err()
            .contains("length byte says 2")
    );
    assert!(simple_tlv(&[0x0A, 0x00, 0x31]).is_err());
    assert!(simple_tlv(&[0xFF, 0x00]).is_err());
}

#[test]
fn an_is_gbk_text_then_00s_only() {
    // 苏宁安 in GBK, 00-padded (the built-in gen3 name).
    let mut name = vec![0xCB, 0xD5, 0xC4, 0xFE, 0xB0, 0xB2];
    name.resize(30, 0);
    assert_eq!(an_text(&name).unwrap(), "苏宁安");
    assert_eq!(an_text(&[0; 20]).unwrap(), "");
    assert_eq!(an_text(b"2.0\0").unwrap(), "2.0");
    // Garbage after the padding, FF padding (S16's name extension), not GBK, control.
    assert!(
        an_text(b"AB\0C")
            .unwrap_err()
            .contains("after the 00 padding")
    );
    assert!(
        an_text(&[0x41, 0xFF, 0xFF])
            .unwrap_err()
            .contains("padded with 2 FF")
    );
    assert!(
        an_text(&[0xFF, 0xFE, 0x41, 0x42, 0x00])
            .unwrap_err()
            .contains("not GBK")
    );
    assert!(an_text(&[0xCB, 0x0A]).unwrap_err().contains("not GBK"));
    assert!(an_text(&[0xCB]).unwrap_err().contains("ends the text"));
    assert!(an_text(&[0x41, 0x07]).unwrap_err().contains("not GBK"));
    // GB 18030's four-byte form is not GBK.
    assert!(an_text(&[0x81, 0x30, 0x81, 0x30]).is_err());
}

#[test]
fn cn_is_bcd_digits_then_fs_only() {
    assert_eq!(cn_digits(&[0x32, 0x01, 0x00]).unwrap(), "320100");
    assert_eq!(cn_digits(&[0x12, 0x3F]).unwrap(), "123");
    assert_eq!(cn_digits(&[0xFF]).unwrap(), "");
    assert!(
        cn_digits(&[0x1F, 0x23])
            .unwrap_err()
            .contains("after the F padding")
    );
    assert!(cn_digits(&[0x1A]).unwrap_err().contains("not a BCD digit"));
    assert!(unwritten(&[0xFF, 0xFF]));
    assert!(!unwritten(&[]));
}

#[test]
fn dates_exist() {
    assert_eq!(
        bcd_date(&[0x20, 0x34, 0x03, 0x15]).unwrap().to_string(),
        "20340315"
    );
    assert!(
        bcd_date(&[0x20, 0x33, 0x13, 0x99])
            .unwrap_err()
            .contains("month is 01 to 12")
    );
    assert!(bcd_date(&[0x20, 0x23, 0x02, 0x29]).is_err());
    assert!(bcd_date(&[0x20, 0x24, 0x02, 0x29]).is_ok());
    assert!(bcd_date(&[0x20, 0x24, 0x03]).is_err());
    assert_eq!(yymmdd(&[0x34, 0x03, 0x31]).unwrap().to_string(), "20340331");
    assert!(yymmdd(&[0x34, 0x04, 0x31]).is_err());
}

#[test]
fn citizen_ids_follow_gb_11643() {
    assert!(citizen_id("32010219850612123X").is_empty());
    // S10's example 111111198101011110 (Beijing) passes; region 99 is no province.
    assert!(citizen_id("111111198101011110").is_empty());
    let first17 = "99010219850612123";
    let check = applet_sim::personalise::citizen_id_check(first17).unwrap();
    let problems = citizen_id(&format!("{first17}{check}"));
    assert!(
        problems.len() == 1 && problems[0].contains("region"),
        "{problems:?}"
    );
    let wrong = citizen_id("320102198506121231");
    assert_eq!(wrong.len(), 1);
    assert!(wrong[0].contains("gives X"), "{wrong:?}");
    assert!(citizen_id("320102198513121238")[0].contains("birth date"));
    assert!(citizen_id("32010219850612123").len() == 1);
    assert_eq!(citizen_id_birth("32010219850612123X"), Some("19850612"));
}

#[test]
fn card_numbers_follow_v2_appendix_a() {
    // docs/CARD.md §3.4: HA1046924 (real), A32010687 (gen3).
    assert!(card_number("HA1046924").is_ok());
    assert!(card_number("A32010687").is_ok());
    assert!(card_number("A32010688").unwrap_err().contains("gives 7"));
    assert!(card_number("a32010687").is_err());
    assert!(card_number("A3201068").is_err());
}

#[test]
fn code_lists() {
    for ok in ["0", "1", "2", "9"] {
        assert!(sex(ok).is_ok());
    }
    assert!(sex("7").is_err());
    assert!(sex("").is_err());
    for ok in ["01", "56", "97", "98"] {
        assert!(nation(ok).is_ok(), "{ok}");
    }
    for bad in ["00", "57", "99", "1"] {
        assert!(nation(bad).is_err(), "{bad}");
    }
    assert!(card_type("3").is_ok());
    assert!(card_type("5").is_err());
    assert!(region_code("320100").is_ok());
    assert!(region_code("999999").is_err());
    assert!(region_code("32010").is_err());
}

#[test]
fn the_version_matches_the_cipher() {
    assert_eq!(spec_version("3.00").unwrap(), 3);
    assert_eq!(spec_version("2.0").unwrap(), 2);
    assert_eq!(spec_version("").unwrap(), 1);
    assert!(spec_version("4.00").is_err());
    assert!(spec_version("3.0x").is_err());
    assert!(version_for_algorithm(3, Some(0x03)).is_ok());
    assert!(version_for_algorithm(2, Some(0x01)).is_ok());
    assert!(version_for_algorithm(2, None).is_ok());
    assert!(
        version_for_algorithm(2, Some(0x03))
            .unwrap_err()
            .contains("SM4")
    );
    assert!(version_for_algorithm(3, Some(0x01)).is_err());
}

/// The real ATR of S11 and its card identification code (docs/CARD.md §2, §7.1).
const S11_ATR: [u8; 17] = [
    0x3B, 0x6D, 0x00, 0x00, 0x00, 0x81, 0x4A, 0x44, 0x46, 0x86, 0x60, 0x51, 0x99, 0x00, 0x00, 0x01,
    0xAC,
];

#[test]
fn the_card_id_repeats_the_atr() {
    let (problems, historical) = atr(&S11_ATR);
    assert!(problems.is_empty(), "{problems:?}");
    let h = historical.unwrap();
    assert_eq!(h.region, [0x51, 0x99]);
    assert_eq!(h.serial, [0x00, 0x00, 0x01, 0xAC]);
    let id = apdu::parse_hex("519900 D156000005 000001AC FFFFFFFF").unwrap();
    assert!(card_id(&id, historical).is_empty());
    let other = apdu::parse_hex("519900 D156000005 10000B26 FFFFFFFF").unwrap();
    assert!(card_id(&other, historical)[0].contains("TA-TD 000001AC"));
    let region = apdu::parse_hex("320100 D156000005 000001AC FFFFFFFF").unwrap();
    assert!(card_id(&region, historical)[0].contains("T8-T9 5199"));
    assert!(card_id(&id[..12], historical)[0].contains("has 16"));
    // A T=1 ATR and a short one break §2.
    let (problems, _) = atr(&[0x3B, 0x80, 0x01, 0x81]);
    assert!(problems.iter().any(|p| p.contains("T0 80")), "{problems:?}");
    assert!(!atr(&[0x3B]).0.is_empty());
    assert!(
        initialising_organisation(&apdu::parse_hex("9156000002 320100 320100 01").unwrap())
            .is_empty()
    );
    assert!(!initialising_organisation(&[0x91, 0x56]).is_empty());
}

#[test]
fn financial_data() {
    assert!(luhn("6228480000000000018"));
    assert!(!luhn("6228480000000000019"));
    assert!(!luhn(""));
    assert_eq!(
        pan(&apdu::parse_hex("6228480000000000018F").unwrap()).unwrap(),
        "6228480000000000018"
    );
    assert!(pan(&apdu::parse_hex("6228480000000000019F").unwrap()).is_err());
    let t2 = apdu::parse_hex("6228480000000000018D3403220000000F").unwrap();
    assert_eq!(
        track2(&t2).unwrap(),
        ("6228480000000000018".to_owned(), "3403".to_owned())
    );
    assert!(track2(&apdu::parse_hex("6228480000000000018340322F").unwrap()).is_err());
}

/// 17 random digits as text.
fn digits(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, n)
        .prop_map(|d| d.iter().map(|d| char::from(b'0' + d)).collect())
}

proptest! {
    /// Any 17 digits with their computed check character pass the check-character rule;
    /// any other check character fails it.
    #[test]
    fn citizen_id_check_characters(first17 in digits(17), other in prop::sample::select(
        "0123456789X".chars().collect::<Vec<_>>()
    )) {
        let check = applet_sim::personalise::citizen_id_check(&first17).unwrap();
        let id = format!("{first17}{check}");
        prop_assert!(!citizen_id(&id).iter().any(|p| p.contains("check character")));
        let wrong = format!("{first17}{other}");
        let broken = citizen_id(&wrong).iter().any(|p| p.contains("check character"));
        prop_assert_eq!(broken, other != check);
    }

    /// The same for card numbers: a letter, 7 digits or letters, then the check character.
    #[test]
    fn card_number_check_characters(
        first in prop::sample::select(('A'..='Z').collect::<Vec<_>>()),
        rest in proptest::collection::vec(prop::sample::select(
            ('0'..='9').chain('A'..='Z').collect::<Vec<_>>()), 7),
        other in prop::sample::select("0123456789X".chars().collect::<Vec<_>>()),
    ) {
        let first8: String = std::iter::once(first).chain(rest).collect();
        let check = applet_sim::personalise::card_number_check(&first8).unwrap();
        let right = format!("{first8}{check}");
        prop_assert!(card_number(&right).is_ok());
        prop_assert_eq!(card_number(&format!("{first8}{other}")).is_ok(), other == check);
    }

    /// A PAN with its Luhn digit passes; changing any one digit fails.
    #[test]
    fn luhn_catches_every_single_digit_error(body in digits(18), at in 0usize..19, delta in 1u8..10) {
        let check = (0..10u8)
            .map(|d| format!("{body}{d}"))
            .find(|p| luhn(p))
            .unwrap();
        prop_assert!(luhn(&check));
        let mut bytes = check.into_bytes();
        bytes[at] = b'0' + (bytes[at] - b'0' + delta) % 10;
        prop_assert!(!luhn(&String::from_utf8(bytes).unwrap()));
    }

    /// `cn` and `an` never panic, and a BCD date is a date exactly when it parses.
    #[test]
    fn format_rules_take_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        let _ = an_text(&bytes);
        let _ = cn_digits(&bytes);
        let _ = simple_tlv(&bytes);
        let _ = atr(&bytes);
        let _ = card_id(&bytes, None);
        let _ = track2(&bytes);
        if bytes.len() == 4 {
            let text = apdu::hex_compact(&bytes);
            prop_assert_eq!(bcd_date(&bytes).is_ok(), applet_sim::date::Date::parse(&text).is_ok());
        }
    }
}
