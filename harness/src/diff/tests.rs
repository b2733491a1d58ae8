use applet_sim::Profile;

use super::*;
use crate::transport::{SimTransport, Transport, TransportError};

fn gen3() -> Declaration {
    Declaration::new("gen3", Profile::builtin("gen3").unwrap())
}

/// gen3 with its text changed by `edit`, as the card under test.
fn variant(edit: impl Fn(&str) -> String) -> SimTransport {
    let text = edit(applet_sim::profile::builtin_text("gen3").unwrap());
    SimTransport::new(&Profile::parse(&text, "variant").unwrap())
}

fn options(sequences: usize, seed: u64) -> DiffOptions {
    DiffOptions {
        seed,
        sequences,
        restorable: true,
        in_process: true,
        ..DiffOptions::default()
    }
}

/// Commands of the minimal sequence (resets not counted).
fn commands(d: &Difference) -> usize {
    d.exchanges.iter().filter(|e| !e.command.is_empty()).count()
}

#[test]
fn a_card_identical_to_its_declaration_shows_no_difference() {
    let mut target = SimTransport::new(&Profile::builtin("gen3").unwrap());
    let summary = Differ::new(&mut target, &gen3(), None, options(2000, 11))
        .diff(|_, _| {})
        .unwrap();
    assert_eq!(summary.sequences, 2000);
    assert!(summary.commands > 10_000, "{}", summary.commands);
    assert!(
        summary.differences.is_empty(),
        "{:#?}",
        summary.differences.first()
    );
}

#[test]
fn five_tries_declared_as_three_is_found_in_at_most_three_commands() {
    let mut target = variant(|g| g.replacen("max_tries = 3", "max_tries = 5", 1));
    let summary = Differ::new(&mut target, &gen3(), None, options(DEFAULT_SEQUENCES, 3))
        .diff(|_, _| {})
        .unwrap();
    let d = summary.differences.first().expect("a difference");
    assert!(d.group.starts_with("00 20"), "{d:#?}");
    assert!(commands(d) <= 3, "{d:#?}");
    let text = vector_text(d, 0, "gen3", 3);
    assert!(text.contains("case diff.001"), "{text}");
    assert!(text.contains("# here the card answered"), "{text}");
}

#[test]
fn ef05_readable_only_after_the_pin_is_found() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/declarations/ef05-after-pin.toml"
    );
    let mut target = SimTransport::new(&Profile::load(path).unwrap());
    let summary = Differ::new(&mut target, &gen3(), None, options(DEFAULT_SEQUENCES, 5))
        .diff(|_, _| {})
        .unwrap();
    let d = summary
        .differences
        .iter()
        .find(|d| d.group.contains("B2") || d.group.contains("B0"))
        .expect("a read difference");
    assert!(commands(d) <= 3, "{d:#?}");
    assert!(d.title.contains("6982"), "{}", d.title);
}

#[test]
fn groups_and_expectations() {
    let e = |c: &[u8], card: &[u8], model: &[u8]| Exchange {
        command: c.to_vec(),
        card: card.to_vec(),
        model: model.to_vec(),
    };
    assert_eq!(
        group_of(&e(&[0, 0x20, 0, 0], &[0x63, 0xC5], &[0x63, 0xC3])),
        "00 20: data"
    );
    assert_eq!(
        group_of(&e(&[0, 0xB2, 1, 4, 0], &[0x69, 0x82], &[1, 0x90, 0])),
        "00 B2: card 6982, model 9000"
    );
    assert_eq!(group_of(&e(&[], &[1], &[2])), "ATR");
    assert_eq!(expectation(&[1, 2, 0x90, 0], false), "0102 9000");
    assert_eq!(expectation(&[1, 2, 0x90, 0], true), "*2 9000");
    assert_eq!(expectation(&[0x6A, 0x82], true), "6A82");
    assert_eq!(
        title_of(&[e(&[0, 0x20, 0, 0], &[0x63, 0xC5], &[0x63, 0xC3])], 0),
        "VERIFY (00 20 00 00): the card answers 63C5, the model 63C3"
    );
}

/// A virtual card that behaves like one in a reader without a restore command: a fresh card
/// is only a reset, so whatever a sequence does to it stays. It keeps the fewest tries its
/// SSSE PIN reported to a wrong PIN.
struct NoRestore(SimTransport, u8);

impl Transport for NoRestore {
    fn describe(&self) -> String {
        "no restore".to_owned()
    }
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let answer = self.0.transmit(apdu)?;
        // The generator's wrong SSSE PIN (123456 with each digit plus one).
        if let ([0x00, 0x20, 0x00, 0x00, 0x03, 0x23, 0x45, 0x67], [0x63, x]) =
            (apdu, answer.as_slice())
            && x & 0xF0 == 0xC0
        {
            self.1 = self.1.min(x & 0x0F);
        }
        Ok(answer)
    }
    fn reset(&mut self) -> Result<Vec<u8>, TransportError> {
        self.0.reset()
    }
    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        self.0.atr()
    }
    fn fresh_card(&mut self) -> Result<(), TransportError> {
        self.0.reset().map(|_| ())
    }
}

/// On a card that cannot be restored, the units that would change it are withheld and a
/// wrong PIN is always followed by the right one, even when the wrong one is where the card
/// differs: after thousands of sequences against a card with 5 tries declared as 3, every
/// counter is full and the data are the declared ones.
#[test]
fn a_card_that_cannot_be_restored_keeps_its_tries_and_data() {
    let five = variant(|g| g.replacen("max_tries = 3", "max_tries = 5", 1));
    let mut card = NoRestore(five, 0x0F);
    let options = DiffOptions {
        seed: 9,
        sequences: DEFAULT_SEQUENCES,
        ..DiffOptions::default()
    };
    let summary = Differ::new(&mut card, &gen3(), None, options)
        .diff(|_, _| {})
        .unwrap();
    assert!(
        summary
            .differences
            .iter()
            .any(|d| d.group.starts_with("00 20")),
        "{:#?}",
        summary.differences
    );
    assert!(summary.withheld > 0);
    // One wrong PIN at a time, its try given back at once: never fewer than 4 of 5.
    assert_eq!(card.1, 4);
    let t = &mut card;
    t.reset().unwrap();
    let select = apdu::parse_hex("00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF").unwrap();
    assert_eq!(t.transmit(&select).unwrap(), [0x90, 0x00]);
    assert_eq!(t.transmit(&[0x00, 0x20, 0x00, 0x00]).unwrap(), [0x63, 0xC5]);
    // EF05 record 5 (the issue date) as declared: no write reached the card.
    let model = applet_sim::Card::new(&Profile::builtin("gen3").unwrap());
    let mut m = model;
    m.transmit(&select);
    let read = [0x00, 0xB2, 0x05, 0x2C, 0x06];
    assert_eq!(t.transmit(&read).unwrap(), m.transmit(&read));
}

/// A card whose RKSSSE (0A) is not the declared one, in a reader that cannot restore it: the
/// run stops at the first try the card spends where the model spends none, so the key is
/// never locked (attack finding: 483 failed authentications and a locked key before).
#[test]
fn a_card_whose_key_differs_is_not_locked() {
    let other_rk = variant(|g| {
        g.replacen(
            "534D342D524B2D2D4E4154494F4E414C",
            "534D342D524B2D2D4E4154494F4E414D",
            1,
        )
    });
    let mut card = NoRestore(other_rk, 0x0F);
    let options = DiffOptions {
        seed: 1,
        sequences: DEFAULT_SEQUENCES,
        ..DiffOptions::default()
    };
    let summary = Differ::new(&mut card, &gen3(), None, options)
        .diff(|_, _| {})
        .unwrap();
    assert!(summary.stopped.is_some(), "{summary:#?}");
    assert!(summary.sequences < DEFAULT_SEQUENCES);
    let d = summary.differences.last().unwrap();
    assert!(d.group.starts_with("00 82: card 63Cx"), "{d:#?}");
    // Not locked: the card's own RK still authenticates.
    let text = applet_sim::profile::builtin_text("gen3").unwrap().replacen(
        "534D342D524B2D2D4E4154494F4E414C",
        "534D342D524B2D2D4E4154494F4E414D",
        1,
    );
    let own = crate::psam::Keys::from_profile(&Profile::parse(&text, "own").unwrap());
    let t = &mut card;
    let atr = t.reset().unwrap();
    let select = apdu::parse_hex("00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF").unwrap();
    assert_eq!(t.transmit(&select).unwrap(), [0x90, 0x00]);
    let mut psam = Psam::new(&own, &atr).unwrap();
    let op = crate::psam::Op::parse("ext-auth 0A").unwrap();
    let answer = op.run(&mut psam, t).unwrap();
    assert_eq!(answer.response(), [0x90, 0x00]);
}

#[test]
fn what_counts_as_a_try_spent_unexpectedly() {
    let e = |c: &[u8], card: &[u8], model: &[u8]| Exchange {
        command: c.to_vec(),
        card: card.to_vec(),
        model: model.to_vec(),
    };
    let auth = [0x00, 0x82, 0x00, 0x0A, 0x10];
    assert!(spent_unexpectedly(&e(&auth, &[0x63, 0xC2], &[0x90, 0x00])));
    assert!(spent_unexpectedly(&e(&auth, &[0x69, 0x83], &[0x69, 0x84])));
    // Both spent one: the counts differ, the right value after it gives the try back.
    assert!(!spent_unexpectedly(&e(&auth, &[0x63, 0xC4], &[0x63, 0xC2])));
    assert!(!spent_unexpectedly(&e(&auth, &[0x69, 0x83], &[0x63, 0xC0])));
    // The tries query spends nothing, in either form.
    assert!(!spent_unexpectedly(&e(
        &[0, 0x20, 0, 0],
        &[0x63, 0xC3],
        &[0x90, 0x00]
    )));
    assert!(!spent_unexpectedly(&e(
        &[0, 0x20, 0, 0, 0],
        &[0x63, 0xC3],
        &[0x90, 0x00]
    )));
    assert!(spent_unexpectedly(&e(
        &[0, 0x20, 0, 0, 1, 0x12],
        &[0x63, 0xC3],
        &[0x90, 0x00]
    )));
    // An ATR is not a command.
    assert!(!spent_unexpectedly(&e(&[], &[0x63, 0xC3], &[0x90, 0x00])));
}
