//! The `stateful` and `destructive` tags are true: a case carries `stateful` exactly when
//! running it leaves the card's persistent state changed (so on a real card, or `ssc-card
//! serve`, it needs restoring before the next case), and `destructive` exactly when it leaves
//! the card changed beyond what the card's own commands undo. Checked by running every case
//! of the suite in process.

// Test helpers (outside #[test] functions) fail loudly on broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;

use applet_sim::Profile;
use harness::import::parse_file;
use harness::runner::{Outcome, run_case};
use harness::transport::SimTransport;
use harness::vectors::discover;

#[test]
fn stateful_tags_match_what_the_cases_do() {
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
    let profile = Profile::builtin("gen3").unwrap();
    let mut sim = SimTransport::new(&profile);
    let mut wrong = Vec::new();
    let mut stateful = 0;
    let mut destructive = 0;
    for file in discover(&[suite]).unwrap() {
        for case in parse_file(&file).unwrap() {
            assert_eq!(
                run_case(&mut sim, &case, None).unwrap(),
                Outcome::Passed,
                "{}",
                case.name
            );
            let changed = sim.persistent_state_changed();
            let tagged = case.tags.iter().any(|t| t == "stateful");
            stateful += usize::from(changed);
            if changed != tagged {
                wrong.push(format!(
                    "{} (changes state: {changed}, tagged stateful: {tagged})",
                    case.name
                ));
            }
            let lost = sim.irreversibly_changed();
            let tagged = case.tags.iter().any(|t| t == "destructive");
            destructive += usize::from(lost);
            if lost != tagged {
                wrong.push(format!(
                    "{} (irreversible: {lost}, tagged destructive: {tagged})",
                    case.name
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "stateful tags to fix:\n{}",
        wrong.join("\n")
    );
    assert!(stateful > 0);
    assert!(destructive > 0);
}

/// A transport that watches the card's try counters after every command: `spent` is set
/// when any PIN or key counter went down, even if a later command restores it.
struct Watch {
    sim: SimTransport,
    last: (Vec<u8>, Vec<u8>),
    spent: bool,
}

impl Watch {
    fn look(&mut self) {
        let now = self.sim.card().counters();
        let down = |a: &[u8], b: &[u8]| a.iter().zip(b).any(|(before, after)| after < before);
        self.spent |= down(&self.last.0, &now.0) || down(&self.last.1, &now.1);
        self.last = now;
    }

    fn start(&mut self) {
        self.last = self.sim.card().counters();
        self.spent = false;
    }
}

impl harness::transport::Transport for Watch {
    fn describe(&self) -> String {
        self.sim.describe()
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, harness::transport::TransportError> {
        let answer = self.sim.transmit(apdu)?;
        self.look();
        Ok(answer)
    }

    fn reset(&mut self) -> Result<Vec<u8>, harness::transport::TransportError> {
        let atr = self.sim.reset()?;
        self.look();
        Ok(atr)
    }

    fn atr(&mut self) -> Result<Vec<u8>, harness::transport::TransportError> {
        self.sim.atr()
    }

    fn profile(&self) -> Option<&Profile> {
        self.sim.profile()
    }

    fn use_profile(
        &mut self,
        profile: Option<&str>,
    ) -> Result<bool, harness::transport::TransportError> {
        self.sim.use_profile(profile)
    }

    fn fresh_card(&mut self) -> Result<(), harness::transport::TransportError> {
        self.sim.fresh_card()?;
        self.start();
        Ok(())
    }
}

/// `spends-tries` is on exactly the cases that bring a PIN's or a key's try counter down at
/// some step (on a real card such a case costs tries even when it restores them later).
#[test]
fn spends_tries_tags_match_what_the_cases_do() {
    use harness::transport::Transport as _;
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
    let profile = Profile::builtin("gen3").unwrap();
    let mut watch = Watch {
        sim: SimTransport::new(&profile),
        last: (Vec::new(), Vec::new()),
        spent: false,
    };
    let mut wrong = Vec::new();
    let mut spending = 0;
    for file in discover(&[suite]).unwrap() {
        for case in parse_file(&file).unwrap() {
            watch.start();
            assert_eq!(
                run_case(&mut watch, &case, None).unwrap(),
                Outcome::Passed,
                "{}",
                case.name
            );
            let tagged = case.tags.iter().any(|t| t == "spends-tries");
            spending += usize::from(watch.spent);
            if watch.spent != tagged {
                wrong.push(format!(
                    "{} (spends a try: {}, tagged spends-tries: {tagged})",
                    case.name, watch.spent
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "spends-tries tags to fix:\n{}",
        wrong.join("\n")
    );
    assert!(spending > 10, "only {spending} cases spend a try");
    let _ = watch.describe();
}
