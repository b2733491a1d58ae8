//! The cases the subcommands run: loaded from files and scripts, and which of them a reader
//! skips.

use std::path::PathBuf;

use harness::identity::SuiteId;
use harness::vectors::{self, Case, Declared};

/// Every case of the vector files and scripts under `paths` (native vectors, scriptor,
/// apdutool and ETSI scripts: `import`), for the card `declared`.
pub(super) fn load(paths: &[PathBuf], declared: &Declared) -> anyhow::Result<Vec<Case>> {
    load_suite(paths, declared).map(|(cases, _)| cases)
}

/// [`load`], and the suite it read (every file and include, for the run's identity).
pub(super) fn load_suite(
    paths: &[PathBuf],
    declared: &Declared,
) -> anyhow::Result<(Vec<Case>, SuiteId)> {
    let files = vectors::discover(paths)?;
    if files.is_empty() {
        let list: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        anyhow::bail!(
            "no vector files or scripts under {} (a folder is searched for *.apdu, *.scr, \
             *.scriptor, *.script and *.etsi; give a file by its path to run it whatever its \
             name)",
            list.join(", ")
        );
    }
    // One budget for the run: its bytes, steps and includes are bounded as a whole.
    let mut budget = vectors::Budget::new();
    let mut cases = Vec::new();
    for f in &files {
        cases.extend(harness::import::parse_file_in(f, &mut budget, declared)?);
    }
    Ok((cases, budget.suite()))
}

/// The skip policy of a run: on a reader, [`reader_skip`]; the in-process card runs
/// everything.
pub(super) fn skip_policy(
    on_reader: bool,
    can_restore: bool,
    allow_destructive: bool,
) -> impl Fn(&Case) -> Option<String> + Sync {
    move |c: &Case| {
        on_reader
            .then(|| reader_skip(c, can_restore, allow_destructive))
            .flatten()
    }
}

/// Why a case does not run on a reader (the in-process card runs everything).
fn reader_skip(case: &Case, can_restore: bool, allow_destructive: bool) -> Option<String> {
    let tagged = |t: &str| case.tags.iter().any(|x| x == t);
    if tagged("sim-only") {
        return Some("sends bytes PC/SC refuses to carry (tagged sim-only)".into());
    }
    if tagged("destructive") && !allow_destructive {
        return Some(
            "can block a real card for ever (tagged destructive); give --allow-destructive".into(),
        );
    }
    if tagged("stateful") && !can_restore {
        return Some(
            "changes the card's persistent state (tagged stateful); give --restore-cmd to \
             restore the card between cases"
                .into(),
        );
    }
    None
}

/// True when a case has terminal crypto steps (`psam`), which use the keys.
pub(super) fn uses_keys(case: &Case) -> bool {
    case.steps
        .iter()
        .any(|s| matches!(s.kind, harness::vectors::StepKind::Psam { .. }))
}

/// The paths as the comments of written vectors name them.
pub(super) fn names(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    names.join(", ")
}
