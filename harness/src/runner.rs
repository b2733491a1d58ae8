//! Replays cases against a transport and records what happened.

use std::time::{Duration, Instant};

use crate::psam::{Keys, Psam, PsamError};
use crate::transport::{Transport, TransportError};
use crate::vectors::{Case, StepKind};

/// Why a case failed: the first step whose answer did not match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// 1-based index of the step within the case.
    pub step: usize,
    /// The line of the step.
    pub line: usize,
    /// The step as written (`> 00A4...`, `reset`).
    pub command: Vec<u8>,
    /// True for a reset step (the ATR is compared).
    pub is_reset: bool,
    /// The expected response, as a pattern.
    pub expected: String,
    /// What the card answered.
    pub actual: Vec<u8>,
    /// Positions of `actual` that differ from the expectation (when it can tell).
    pub differing: Vec<usize>,
}

/// How a case ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every step matched.
    Passed,
    /// A step did not match.
    Failed(Failure),
    /// Not run, with the reason.
    Skipped(String),
}

/// A case and how it ended.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// The case.
    pub case: Case,
    /// The outcome.
    pub outcome: Outcome,
    /// Wall time of the case.
    pub duration: Duration,
}

/// All results of a run.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    /// What the cases ran against.
    pub target: String,
    /// One entry per case, in order.
    pub results: Vec<CaseResult>,
    /// Wall time of the run.
    pub duration: Duration,
}

impl RunReport {
    /// (passed, failed, skipped).
    #[must_use]
    pub fn counts(&self) -> (usize, usize, usize) {
        self.results
            .iter()
            .fold((0, 0, 0), |(p, f, s), r| match r.outcome {
                Outcome::Passed => (p + 1, f, s),
                Outcome::Failed(_) => (p, f + 1, s),
                Outcome::Skipped(_) => (p, f, s + 1),
            })
    }

    /// True when nothing failed.
    #[must_use]
    pub fn all_passed(&self) -> bool {
        self.counts().1 == 0
    }
}

/// Decides whether a case is skipped on this target, and why.
pub type SkipPolicy<'a> = &'a dyn Fn(&Case) -> Option<String>;

/// Runs `cases` in order, each on a fresh card, except those `skip` gives a reason for.
///
/// # Errors
/// [`TransportError`] when the transport fails (a card that answers wrongly is a failure,
/// not an error).
pub fn run(
    transport: &mut dyn Transport,
    cases: Vec<Case>,
    skip: SkipPolicy<'_>,
    keys: Option<&Keys>,
) -> Result<RunReport, TransportError> {
    let started = Instant::now();
    let mut results = Vec::with_capacity(cases.len());
    for case in cases {
        let t = Instant::now();
        let outcome = match skip(&case) {
            Some(reason) => Outcome::Skipped(reason),
            None => run_case(transport, &case, keys)?,
        };
        results.push(CaseResult {
            case,
            outcome,
            duration: t.elapsed(),
        });
    }
    Ok(RunReport {
        target: transport.describe(),
        results,
        duration: started.elapsed(),
    })
}

/// Runs one case on a fresh card; `psam` steps use a PSAM with `keys` (a case with such
/// steps is skipped without keys).
///
/// # Errors
/// [`TransportError`] when the transport fails.
pub fn run_case(
    transport: &mut dyn Transport,
    case: &Case,
    keys: Option<&Keys>,
) -> Result<Outcome, TransportError> {
    if !transport.use_profile(case.profile.as_deref())? {
        return Ok(Outcome::Skipped(format!(
            "needs a {} card (declare the reader's card with --profile)",
            case.profile.as_deref().unwrap_or("-")
        )));
    }
    let needs_psam = case
        .steps
        .iter()
        .any(|s| matches!(s.kind, StepKind::Psam { .. }));
    let own_keys = match keys {
        Some(_) => None,
        None => transport.psam_keys(),
    };
    let keys = keys.or(own_keys.as_ref());
    if needs_psam && keys.is_none() {
        return Ok(Outcome::Skipped(
            "has psam steps and no PSAM keys were given (--keys FILE)".into(),
        ));
    }
    transport.fresh_card()?;
    let mut psam: Option<Psam> = None;
    for (index, step) in case.steps.iter().enumerate() {
        let failure = match &step.kind {
            StepKind::Reset { atr } => {
                let actual = transport.reset()?;
                match atr {
                    Some(p) if !p.matches(&actual) => Some(Failure {
                        step: index + 1,
                        line: step.line,
                        command: Vec::new(),
                        is_reset: true,
                        expected: p.to_string(),
                        differing: differing(&p.to_string(), &actual),
                        actual,
                    }),
                    _ => None,
                }
            }
            StepKind::Exchange { command, expect } => {
                let actual = transport.transmit(command)?;
                (!expect.matches(&actual)).then(|| Failure {
                    step: index + 1,
                    line: step.line,
                    command: command.clone(),
                    is_reset: false,
                    expected: expect.to_string(),
                    differing: differing(&expect.to_string(), &actual),
                    actual,
                })
            }
            StepKind::Psam { op, expect } => {
                let failed = |expected: String, command: Vec<u8>, actual: Vec<u8>| Failure {
                    step: index + 1,
                    line: step.line,
                    command,
                    is_reset: false,
                    differing: differing(&expected, &actual),
                    expected,
                    actual,
                };
                let psam = match (&mut psam, keys) {
                    (Some(p), _) => Ok(p),
                    (None, Some(k)) => Psam::new(k, &transport.atr()?).map(|p| psam.insert(p)),
                    (None, None) => Err(PsamError::Bad("no PSAM keys".into())),
                };
                match psam.and_then(|p| op.run(p, transport)) {
                    Err(PsamError::Transport(e)) => return Err(e),
                    Err(e) => Some(failed(format!("psam: {e}"), Vec::new(), Vec::new())),
                    Ok(transcript) => {
                        let actual = transcript.response().to_vec();
                        let command = transcript.command().to_vec();
                        match transcript.problem {
                            Some(problem) => Some(failed(problem, command, actual)),
                            None if !expect.matches(&actual) => {
                                Some(failed(expect.to_string(), command, actual))
                            }
                            None => None,
                        }
                    }
                }
            }
        };
        if let Some(f) = failure {
            return Ok(Outcome::Failed(f));
        }
    }
    Ok(Outcome::Passed)
}

/// Positions where `actual` differs from a pattern without `*` or alternatives (byte by
/// byte, the status word included); empty when the pattern has no fixed positions.
fn differing(pattern: &str, actual: &[u8]) -> Vec<usize> {
    if pattern.contains('*') || pattern.contains('|') {
        return Vec::new();
    }
    let digits: Vec<char> = pattern.chars().filter(|c| !c.is_whitespace()).collect();
    let expected: Vec<&[char]> = digits.chunks(2).collect();
    let n = expected.len().max(actual.len());
    (0..n)
        .filter(|&i| match (expected.get(i), actual.get(i)) {
            (Some(e), Some(a)) => {
                let hex = format!("{a:02X}");
                !e.iter()
                    .zip(hex.chars())
                    .all(|(p, h)| p.eq_ignore_ascii_case(&'x') || *p == h)
            }
            _ => true,
        })
        .collect()
}
