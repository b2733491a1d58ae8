//! Declared values from the built-in profiles.

use super::*;

fn gen3() -> Declaration {
    Declaration::new("gen3", Profile::builtin("gen3").unwrap())
}

fn hex(d: &Declaration, r: &str) -> String {
    d.resolve(r, Context::Hex).unwrap().unwrap()
}

#[test]
fn pins_in_their_encoding() {
    let d = gen3();
    assert_eq!(hex(&d, "pin.ssse"), "123456");
    assert_eq!(hex(&d, "pin.bank"), "888888");
    assert_eq!(hex(&d, "pin.pki"), "313233343536FFFF");
    assert_eq!(hex(&d, "puk.pki"), "3132333435363738");
    assert_eq!(
        d.resolve("pin.ssse", Context::Bcd).unwrap().unwrap(),
        "123456"
    );
    assert!(d.resolve("pin.pki", Context::Bcd).unwrap().is_err());
    assert_eq!(
        d.resolve("pin.pki.tries", Context::Bcd).unwrap().unwrap(),
        "3"
    );
    assert_eq!(
        d.resolve("pin.ssse", Context::Text).unwrap().unwrap(),
        "123456"
    );
    assert_eq!(hex(&d, "pin.ssse.wrong1"), "234567");
    assert_eq!(hex(&d, "pin.ssse.wrong9"), "012345");
    assert_eq!(hex(&d, "pin.ssse.tries"), "3");
    assert_eq!(hex(&d, "pin.ssse.tries-1"), "2");
    assert_eq!(hex(&d, "puk.pki.tries"), "A");
    assert_eq!(
        d.resolve("puk.pki.tries", Context::Text).unwrap().unwrap(),
        "10"
    );
    assert_eq!(hex(&d, "pin.ssse.digits+1"), "7");
    assert_eq!(hex(&d, "key.ssse.0A.tries-1"), "2");
    assert_eq!(
        d.resolve("key.bank.01.tries", Context::Text)
            .unwrap()
            .unwrap(),
        "3"
    );
    assert!(
        d.resolve("key.ssse.7F.tries", Context::Hex)
            .unwrap()
            .is_err()
    );
    assert!(d.resolve("key.ssse.A.tries", Context::Hex).is_err());
}

#[test]
fn files_and_atr() {
    let d = gen3();
    assert_eq!(hex(&d, "rec.ssse.EF05.2"), "020133");
    assert!(hex(&d, "rec.ssse.DF01.EF07.1").starts_with("2901"));
    assert_eq!(hex(&d, "bin.ssse.EF08.0.4"), "FFD8FFE0");
    assert!(hex(&d, "rec.bank.0002.1").starts_with("70215A0A"));
    assert_eq!(hex(&d, "atr"), apdu::hex_compact(&d.profile.atr));
    assert_eq!(hex(&d, "aid.ssse"), "7378312E73682EC9E7BBE1B1A3D5CF");
    assert_eq!(hex(&d, "aid.bank"), "A000000333010101");
    assert_eq!(hex(&d, "aid.pse"), "315041592E5359532E4444463031");
    assert_eq!(hex(&d, "aid.pki"), "504B492EC9E7BBE1B1A3D5CF");
    assert!(d.resolve("aid.mf", Context::Hex).is_err());
    // A path through a DF that is not there is missing, not the DF above.
    assert!(
        d.resolve("rec.ssse.DF01.DF01.EF05.1", Context::Hex)
            .unwrap()
            .is_err()
    );
}

#[test]
fn missing_and_bad() {
    let d = Declaration::new("gen2", Profile::builtin("gen2").unwrap());
    assert!(d.resolve("pin.pki", Context::Hex).unwrap().is_err());
    assert!(d.resolve("rec.ssse.EF05.9", Context::Hex).unwrap().is_err());
    assert!(
        d.resolve("pin.ssse.tries-9", Context::Hex)
            .unwrap()
            .is_err()
    );
    for bad in [
        "pin",
        "pin.mf",
        "puk.ssse",
        "pin.ssse.wrong0",
        "pin.ssse+1",
        "rec.ssse.EF5.1",
        "rec.ssse.EF05.0",
        "nonsense",
        "atr-1",
        "pin.ssse.tries-100",
    ] {
        assert!(d.resolve(bad, Context::Hex).is_err(), "{bad}");
    }
    assert!(!d.has(Feature::Pki) && d.has(Feature::Bank) && d.has(Feature::Des));
    assert!(!d.has(Feature::BankKeys) && gen3().has(Feature::BankKeys));
    assert_eq!(Declaration::placeholder("pin.pki.tries-1"), "0");
    assert_eq!(Declaration::placeholder("rec.ssse.EF05.1"), "00");
}

#[test]
fn wrong_pins_never_equal_the_declared_one() {
    for digits in [[1u8, 2, 3, 4, 5, 6], [0; 6], [9; 6]] {
        for k in 1..=9 {
            let w = wrong(&digits, k);
            assert!(w.iter().zip(&digits).all(|(a, b)| a != b));
        }
    }
}

#[test]
fn features_of_the_built_in_cards() {
    let gen3 = gen3();
    let gen2 = Declaration::new("gen2", Profile::builtin("gen2").unwrap());
    assert!(gen3.has(Feature::Sm4) && !gen3.has(Feature::Des));
    assert!(gen2.has(Feature::Des) && !gen2.has(Feature::Sm4));
    assert!(gen3.has(Feature::T0) && !gen3.has(Feature::T1));
    let t1 = applet_sim::profile::builtin_text("gen3").unwrap().replacen(
        "protocol = \"T=0\"",
        "protocol = \"T=1\"",
        1,
    );
    let t1 = Declaration::new("t1", Profile::parse(&t1, "t1").unwrap());
    assert!(t1.has(Feature::T1) && !t1.has(Feature::T0));
    assert!(gen3.has(Feature::Ssse) && gen3.has(Feature::Pki) && gen3.has(Feature::Bank));
    // From the MF, the nearest EF05 is the SSSE's.
    assert_eq!(hex(&gen3, "rec.mf.EF05.2"), "020133");
    for (name, f) in Feature::ALL {
        assert_eq!(Feature::named(name), Some(f));
        assert_eq!(f.name(), name);
    }
    assert_eq!(Feature::named("wings"), None);
}

#[test]
fn paths_states_and_bounds() {
    let d = gen3();
    // Each DF of a path is the one of that identifier, not any DF below.
    assert_eq!(hex(&d, "rec.ssse.DF04.EF05.1"), "81083331300000000000");
    assert_eq!(d.to_string(), "builtin:gen3");
    // A reference of 64 characters is read; one more is refused.
    let long = "bin.ssse.DF01.DF01.DF01.DF01.DF01.DF01.DF01.DF01.DF01.EF08.00.10";
    assert_eq!(long.len(), 64);
    assert!(d.resolve(long, Context::Hex).is_ok());
    assert!(
        d.resolve(&long.replace(".00.", ".000."), Context::Hex)
            .is_err()
    );
    // A record or a range needs a file.
    assert!(d.resolve("rec.ssse.1", Context::Hex).is_err());
    assert!(d.resolve("bin.ssse.0.10", Context::Hex).is_err());
    // A card in a chosen state: its counts are not the limits the cases assume.
    let text = applet_sim::profile::builtin_text("gen3").unwrap();
    let chosen = text
        .replacen(
            "max_tries = 3\nunblock = \"issuer-key\"",
            "max_tries = 3\ntries = 2\nunblock = \"issuer-key\"",
            1,
        )
        .replacen(
            "id = 0x0A             # RKSSSE",
            "tries = 1\nid = 0x0A             # RKSSSE",
            1,
        );
    assert_ne!(chosen, text);
    let c = Declaration::new("chosen", Profile::parse(&chosen, "chosen").unwrap());
    assert!(c.resolve("pin.ssse.tries", Context::Hex).unwrap().is_err());
    assert_eq!(hex(&c, "pin.ssse"), "123456");
    assert_eq!(hex(&c, "pin.bank.tries"), "3");
    assert!(
        c.resolve("key.ssse.0A.tries", Context::Hex)
            .unwrap()
            .is_err()
    );
    assert_eq!(hex(&c, "key.ssse.04.tries"), "3");
    let blocked = text.replacen(
        "max_tries = 3\nunblock = \"issuer-key\"",
        "max_tries = 3\ntries = 0\nunblock = \"issuer-key\"",
        1,
    );
    let b = Declaration::new("blocked", Profile::parse(&blocked, "blocked").unwrap());
    assert!(b.resolve("pin.ssse", Context::Hex).unwrap().is_err());
}

#[test]
fn an_odd_bcd_pin_is_f_padded() {
    let text = applet_sim::profile::builtin_text("gen3").unwrap().replacen(
        "value = \"123456\"",
        "value = \"1234567\"",
        1,
    );
    let d = Declaration::new("odd", Profile::parse(&text, "odd").unwrap());
    assert_eq!(hex(&d, "pin.ssse"), "1234567F");
    assert_eq!(hex(&d, "pin.ssse.wrong1"), "2345678F");
    let pin = d.profile.pins.first().unwrap();
    assert_eq!(d.pin_data(pin), [0x12, 0x34, 0x56, 0x7F]);
}

#[test]
fn key_versions_held_and_unheld() {
    let d = gen3();
    // The built-in gen3 holds its SSSE keys in version 01 (§7.4); 00 is the first it lacks.
    assert_eq!(hex(&d, "key.ssse.04.version"), "01");
    assert_eq!(hex(&d, "key.ssse.04.unheld"), "00");
    let gen2 = Declaration::new("gen2", Profile::builtin("gen2").unwrap());
    assert_eq!(hex(&gen2, "key.ssse.04.version"), "00");
    assert_eq!(hex(&gen2, "key.ssse.04.unheld"), "01");
    // Versions 00, 01 and 02 of key 04 held: 03 is not; the other keys are unaffected.
    let mut text = applet_sim::profile::builtin_text("gen2")
        .unwrap()
        .to_owned();
    for v in [1, 2] {
        text.push_str(&format!(
            "\n[[key]]\nparent = \"SSSE\"\nid = 0x04\nversion = {v}\n\
             value = \"00112233445566778899AABBCCDDEEFF\"\n"
        ));
    }
    let three = Declaration::new("three", Profile::parse(&text, "three").unwrap());
    assert_eq!(hex(&three, "key.ssse.04.unheld"), "03");
    assert_eq!(hex(&three, "key.ssse.0A.unheld"), "01");
    assert!(
        three
            .resolve("key.ssse.7F.version", Context::Hex)
            .unwrap()
            .is_err()
    );
    assert!(three.resolve("key.ssse.04.versions", Context::Hex).is_err());
    assert!(
        three
            .resolve("key.ssse.04.version+1", Context::Hex)
            .is_err()
    );
}
