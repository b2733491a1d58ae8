//! Unit tests of personalisation: check characters, CSV splitting, field checks.

use super::holders::split_csv;
use super::*;

/// docs/CARD.md §3.4: the built-in card's number and the observed HA1046924 check out;
/// 10 is X and 11 is 0.
#[test]
fn card_number_check_characters() {
    assert_eq!(card_number_check("A3201068"), Some('7'));
    assert_eq!(card_number_check("HA104692"), Some('4'));
    assert_eq!(card_number_check("a3201068"), None);
    assert_eq!(card_number_check("A320106"), None);
    // Sums giving 10 (X) and 11 (0).
    let x = (0..10_000_000u32)
        .map(|n| format!("A{n:07}"))
        .find(|b| card_number_check(b) == Some('X'))
        .unwrap();
    let zero = (0..10_000_000u32)
        .map(|n| format!("A{n:07}"))
        .find(|b| card_number_check(b) == Some('0'))
        .unwrap();
    let sum = |b: &str| -> u32 {
        b.chars()
            .zip(CARD_WEIGHTS)
            .map(|(c, w)| c.to_digit(36).unwrap() * w)
            .sum()
    };
    assert_eq!(sum(&x) % 11, 1);
    assert_eq!(sum(&zero) % 11, 0);
    assert_eq!(card_number("A3201068").unwrap(), "A32010687");
    assert!(card_number("A32010688").unwrap_err().contains("gives 7"));
}

/// GB 11643 / ISO 7064 MOD 11-2: the standard's sample and the built-in holder.
#[test]
fn citizen_id_check_characters() {
    assert_eq!(citizen_id_check("11010519491231002"), Some('X'));
    assert_eq!(citizen_id_check("32010219850612123"), Some('X'));
    assert_eq!(
        citizen_id("11010519491231002x").unwrap(),
        "11010519491231002X"
    );
    let e = citizen_id("110105194912310021").unwrap_err();
    assert!(e.contains("ISO 7064 MOD 11-2 gives X"), "{e}");
    assert!(citizen_id("11010519491331002X").is_err()); // month 13 (check ignored)
    assert!(citizen_id("1101051949123100").is_err());
}

#[test]
fn dates_names_and_records() {
    assert_eq!(date("2024-02-29").unwrap(), "20240229");
    assert!(date("20230229").is_err());
    assert_eq!(ten_years_after("20240229").unwrap(), "20340228");
    assert_eq!(ten_years_after("20900101"), None);
    assert!(date("2-0-2-4-0-2-2-9").is_err());
    assert_eq!(
        gbk_name("苏宁安").unwrap(),
        [0xCB, 0xD5, 0xC4, 0xFE, 0xB0, 0xB2]
    );
    assert!(gbk_name("😀").unwrap_err().contains("no GBK code"));
    assert!(gbk_name(&"王".repeat(26)).unwrap_err().contains("52 bytes"));
    assert_eq!(record(0x09, &[0xCB, 0xD5, 0, 0]), "09 04 CB D5 00*2");
    assert_eq!(record(0x4E, &[0; 3]), "4E 03 00*3");
    assert_eq!(record(0x0A, b"1"), "0A 01 31");
    let fields = split_csv(r#" a , "b, ""c""" ,,d"#).unwrap();
    assert_eq!(
        fields,
        [
            ("a".to_owned(), 2),
            ("b, \"c\"".to_owned(), 6),
            (String::new(), 18),
            ("d".to_owned(), 19)
        ]
    );
    assert!(split_csv(r#""open"#).is_err());
}
