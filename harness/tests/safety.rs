//! On a reader a run stops at the first case whose card spends a try the declaration did not
//! foresee (`63Cx` or `6983` where another answer was expected): the next cases would spend
//! more, and a wrong declaration must cost one try, not a blocked card.

// Test helpers (outside #[test] functions) fail loudly on broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;

use applet_sim::Profile;
use harness::runner::{self, Options, Outcome};
use harness::transport::SimTransport;
use harness::vectors::parse_str;

const CASES: &str = "version 3\n\
case one\n  select ssse\n  < 9000\n  > 00 20 00 00 $lc $pin.ssse\n  < 9000\n\
case two\n  select ssse\n  < 9000\n  > 00 20 00 00 $lc $pin.ssse\n  < 9000\n\
case three\n  select ssse\n  < 9000\n";

/// The cases (written for the built-in gen3, PIN 123456) against a card whose PIN is not.
fn run(stop: bool) -> (Vec<Outcome>, Vec<u8>) {
    let gen3 = applet_sim::profile::builtin_text("gen3").unwrap();
    let other = gen3.replacen("value = \"123456\"", "value = \"654321\"", 1);
    let mut card = SimTransport::new(&Profile::parse(&other, "other").unwrap());
    let cases = parse_str(CASES, Path::new("stop.apdu")).unwrap();
    let options = Options {
        stop_on_spent_try: stop,
        ..Options::default()
    };
    let report = runner::run(&mut card, cases, &|_| None, options).unwrap();
    let outcomes = report.results.into_iter().map(|r| r.outcome).collect();
    (outcomes, card.card().counters().0)
}

#[test]
fn a_run_stops_at_the_first_unforeseen_try() {
    let (outcomes, _) = run(true);
    assert!(matches!(&outcomes[0], Outcome::Failed(f) if f.actual == [0x63, 0xC2]));
    for o in &outcomes[1..] {
        match o {
            Outcome::Skipped(why) => {
                assert!(
                    why.contains("the run stopped after one (stop.apdu:"),
                    "{why}"
                );
                assert!(why.contains("answered 63C2"), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }
    // Without the guard (in process, where every case has a fresh card) all cases run.
    let (outcomes, _) = run(false);
    assert!(matches!(&outcomes[1], Outcome::Failed(_)));
    assert!(matches!(&outcomes[2], Outcome::Passed));
}
