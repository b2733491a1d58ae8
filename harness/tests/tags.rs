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
