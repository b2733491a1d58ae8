//! Replays cases against a transport and records what happened.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::identity::RunIdentity;
use crate::pattern::Expect;
use crate::psam::{CardInfo, Keys, Op, Psam, PsamCard, PsamError, PsamSource};
use crate::requirements::Requirements;
use crate::transport::{self, Transport, TransportError};
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
    /// A data check's finding instead of an exchange (the run's "data" area): the items
    /// and values found; `expected` then holds the rules they break.
    pub finding: Option<String>,
}

/// How a case ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every step matched.
    Passed,
    /// A step did not match.
    Failed(Failure),
    /// Not run on this target, with the reason (a reader without `--restore-cmd`, …).
    Skipped(String),
    /// Not applicable to the declared card (it lacks what the case needs), with the reason.
    NotApplicable(String),
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
    /// What each step sent and got (empty when skipped).
    pub trace: Vec<StepTrace>,
}

/// All results of a run.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    /// What the cases ran against.
    pub target: String,
    /// What the run was: when, which tool, the card's ATR (the runner's), the declaration
    /// and the suite (the caller's, who read them).
    pub identity: RunIdentity,
    /// The requirements list the verdicts are given for (the caller's; `None`: reports
    /// give no verdicts).
    pub requirements: Option<Requirements>,
    /// One entry per case, in order.
    pub results: Vec<CaseResult>,
    /// Wall time of the run.
    pub duration: Duration,
}

impl RunReport {
    /// (passed, failed, skipped); [`RunReport::not_applicable`] counts the rest.
    #[must_use]
    pub fn counts(&self) -> (usize, usize, usize) {
        self.results
            .iter()
            .fold((0, 0, 0), |(p, f, s), r| match r.outcome {
                Outcome::Passed => (p + 1, f, s),
                Outcome::Failed(_) => (p, f + 1, s),
                Outcome::Skipped(_) => (p, f, s + 1),
                Outcome::NotApplicable(_) => (p, f, s),
            })
    }

    /// How many cases did not apply to the declared card.
    #[must_use]
    pub fn not_applicable(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::NotApplicable(_)))
            .count()
    }

    /// True when nothing failed.
    #[must_use]
    pub fn all_passed(&self) -> bool {
        self.counts().1 == 0
    }
}

/// Decides whether a case is skipped on this target, and why.
pub type SkipPolicy<'a> = &'a dyn Fn(&Case) -> Option<String>;

/// How cases are run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options<'a> {
    /// PSAM keys for `psam` steps (else the transport's own, e.g. the virtual card's profile).
    pub keys: Option<&'a Keys>,
    /// A PSAM card for the SSSE's cryptograms of `psam` steps instead of software keys
    /// (`--psam`, `--psam-reader`); the financial application's still use `keys`.
    pub psam: Option<&'a PsamSource>,
    /// The card's region code for the PSAM card's city and province factors (`--region`;
    /// else read from the card's EF05, [`CardInfo::read`]).
    pub region: Option<&'a str>,
    /// T=0 as readers do it: `61xx` followed by GET RESPONSE, `6Cxx` by the command again
    /// with Le = xx; the answer compared is the joined one, the trace shows every exchange.
    pub auto_response: bool,
    /// Run every step even after a mismatch (for `record`).
    pub keep_going: bool,
    /// Stop the run at the first case whose card answered `63Cx` or `6983` where the case
    /// expected otherwise (a try the declaration did not foresee was spent; on a real card
    /// the next cases would spend more): the remaining cases are skipped, saying why.
    pub stop_on_spent_try: bool,
}

/// What one step sent and got.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepTrace {
    /// Every command and response (GET RESPONSE and re-issued commands included).
    pub exchanges: Vec<(Vec<u8>, Vec<u8>)>,
    /// The step's answer (the ATR for a reset).
    pub answer: Vec<u8>,
}

/// Runs `cases` in order, each on a fresh card, except those `skip` gives a reason for;
/// the report's identity has the time and the card's ATR as the run starts.
///
/// # Errors
/// [`TransportError`] when the transport fails (a card that answers wrongly is a failure,
/// not an error).
pub fn run(
    transport: &mut dyn Transport,
    cases: Vec<Case>,
    skip: SkipPolicy<'_>,
    options: Options<'_>,
) -> Result<RunReport, TransportError> {
    run_with_progress(transport, cases, skip, options, &mut |_, _| {})
}

/// As [`run`], calling `progress(done, total)` after each case.
///
/// # Errors
/// [`TransportError`] when the transport fails.
pub fn run_with_progress(
    transport: &mut dyn Transport,
    cases: Vec<Case>,
    skip: SkipPolicy<'_>,
    options: Options<'_>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<RunReport, TransportError> {
    let started = Instant::now();
    let identity = RunIdentity::starting_now(Some(transport.atr()?));
    let total = cases.len();
    let mut results = Vec::with_capacity(total);
    let mut stopped: Option<String> = None;
    for case in cases {
        let result = match &stopped {
            Some(why) => skipped(case, why),
            None => run_one(transport, case, skip, options)?,
        };
        if options.stop_on_spent_try && stopped.is_none() {
            stopped = spent_a_try(&result);
        }
        results.push(result);
        progress(results.len(), total);
    }
    Ok(RunReport {
        target: transport.describe(),
        identity,
        requirements: None,
        results,
        duration: started.elapsed(),
    })
}

/// Why a run stops after `result` ([`Options::stop_on_spent_try`]): its card answered
/// `63Cx` or `6983` (a try spent, or a counter at 0) where the case expected another answer.
#[must_use]
pub fn spent_a_try(result: &CaseResult) -> Option<String> {
    let Outcome::Failed(f) = &result.outcome else {
        return None;
    };
    let sw = match f.actual.as_slice() {
        [.., a, b] if !f.is_reset && f.finding.is_none() => u16::from_be_bytes([*a, *b]),
        _ => return None,
    };
    (sw & 0xFFF0 == 0x63C0 || sw == 0x6983).then(|| {
        format!(
            "not run: the run stopped after {} ({}:{}), whose card answered {sw:04X} where \
             `{}` was expected: a try the declaration did not foresee (its PINs, keys or \
             counters are not the card's), and the next cases could spend more",
            result.case.name,
            result.case.file.display(),
            f.line,
            f.expected
        )
    })
}

/// A case not run because the run stopped.
#[must_use]
pub fn skipped(case: Case, why: &str) -> CaseResult {
    CaseResult {
        case,
        outcome: Outcome::Skipped(why.to_owned()),
        duration: Duration::ZERO,
        trace: Vec::new(),
    }
}

/// Runs one case of a run on a fresh card: not applicable, skipped (`skip` gives a
/// reason), or replayed.
///
/// # Errors
/// [`TransportError`] when the transport fails.
pub fn run_one(
    transport: &mut dyn Transport,
    case: Case,
    skip: SkipPolicy<'_>,
    options: Options<'_>,
) -> Result<CaseResult, TransportError> {
    let t = Instant::now();
    let (outcome, trace) = match (&case.not_applicable, skip(&case)) {
        (Some(reason), _) => (Outcome::NotApplicable(reason.clone()), Vec::new()),
        (None, Some(reason)) => (Outcome::Skipped(reason), Vec::new()),
        (None, None) => run_case_traced(transport, &case, options)?,
    };
    Ok(CaseResult {
        case,
        outcome,
        duration: t.elapsed(),
        trace,
    })
}

/// Runs one case on a fresh card; `psam` steps use a PSAM with `keys` or the transport's own
/// (a case with such steps is skipped without any).
///
/// # Errors
/// [`TransportError`] when the transport fails.
pub fn run_case(
    transport: &mut dyn Transport,
    case: &Case,
    keys: Option<&Keys>,
) -> Result<Outcome, TransportError> {
    let options = Options {
        keys,
        ..Options::default()
    };
    run_case_traced(transport, case, options).map(|(outcome, _)| outcome)
}

/// True when a case has `psam` steps.
fn needs_psam(case: &Case) -> bool {
    case.steps
        .iter()
        .any(|s| matches!(s.kind, StepKind::Psam { .. }))
}

/// True when a case has e-purse `psam` steps (`purse-load`, `purse-purchase`,
/// `purse-start-day`).
fn needs_purse_keys(case: &Case) -> bool {
    use crate::psam::Operation;
    case.steps.iter().any(|s| {
        matches!(
            &s.kind,
            StepKind::Psam { op, .. } if matches!(
                op.operation,
                Operation::PurseLoad(_) | Operation::PursePurchase(_) | Operation::PurseStartDay(_)
            )
        )
    })
}

/// The reason a case is not run on this transport, if any, and the PSAM keys its `psam`
/// steps use (`options.keys`, else the transport's own).
fn prepare(
    transport: &mut dyn Transport,
    case: &Case,
    keys: Option<&Keys>,
    psam_card: bool,
) -> Result<Result<Option<Keys>, String>, TransportError> {
    if !transport.use_profile(case.profile.as_deref())? {
        return Ok(Err(format!(
            "needs a {} card (declare the reader's card with --profile)",
            case.profile.as_deref().unwrap_or("-")
        )));
    }
    let own = match keys {
        Some(_) => None,
        None => transport.profile().map(Keys::from_profile),
    };
    if needs_psam(case) && keys.is_none() && own.is_none() && !psam_card {
        return Ok(Err(
            "has psam steps and no PSAM keys were given (--keys FILE)".into(),
        ));
    }
    // The e-purse's keys come only from the card's profile (a keys file cannot carry them
    // yet): a card in a reader has none to give.
    if needs_purse_keys(case) && transport.profile().is_none_or(|p| p.purse.is_none()) {
        return Ok(Err(
            "has e-purse psam steps, whose keys only the virtual card's profile gives".into(),
        ));
    }
    Ok(Ok(own))
}

/// Runs one case and returns each step's trace (steps after a failure are not run unless
/// `keep_going`).
///
/// # Errors
/// [`TransportError`] when the transport fails.
pub fn run_case_traced(
    transport: &mut dyn Transport,
    case: &Case,
    options: Options<'_>,
) -> Result<(Outcome, Vec<StepTrace>), TransportError> {
    // `--keys` are the declared card's: a case a file puts on another card (its `profile`
    // line, in a run without a declaration) keeps that card's own keys.
    let given = if case.profile.is_some() {
        None
    } else {
        options.keys
    };
    let own_keys = match prepare(transport, case, given, options.psam.is_some())? {
        Ok(own) => own,
        Err(reason) => return Ok((Outcome::Skipped(reason), Vec::new())),
    };
    transport.fresh_card()?;
    let psam_card = match options.psam {
        Some(source) if needs_psam(case) => Some((source, card_info(transport, options.region)?)),
        _ => None,
    };
    let mut replay = Replay {
        transport,
        keys: given.or(own_keys.as_ref()),
        psam_card,
        auto_response: options.auto_response,
        psam: None,
        variables: HashMap::new(),
    };
    let mut traces = Vec::with_capacity(case.steps.len());
    let mut first_failure = None;
    for (index, step) in case.steps.iter().enumerate() {
        let mut trace = StepTrace::default();
        let mismatch = replay.step(&step.kind, &mut trace)?;
        traces.push(trace);
        if let Some(m) = mismatch {
            first_failure.get_or_insert(m.at(index + 1, step.line));
            if !options.keep_going {
                break;
            }
        }
    }
    let outcome = first_failure.map_or(Outcome::Passed, Outcome::Failed);
    Ok((outcome, traces))
}

/// What the PSAM card needs to know about the fresh card ([`CardInfo::read`]: SELECT SSSE,
/// READ RECORD of EF05), then a warm reset, so the case still starts on a card with the MF
/// selected and nothing done. Why it could not be learnt is the first `psam` step's failure.
fn card_info(
    transport: &mut dyn Transport,
    region: Option<&str>,
) -> Result<Result<CardInfo, String>, TransportError> {
    let info = match CardInfo::read(transport, region) {
        Ok(info) => Ok(info),
        Err(crate::psam::CardInfoError::Transport(e)) => return Err(e),
        Err(e) => Err(PsamError::from(e).to_string()),
    };
    transport.reset()?;
    Ok(info)
}

/// A step whose answer did not match, before it is placed in its case.
struct Mismatch {
    command: Vec<u8>,
    is_reset: bool,
    expected: String,
    actual: Vec<u8>,
}

impl Mismatch {
    /// The failure of step `step` (1-based), written on `line`.
    fn at(self, step: usize, line: usize) -> Failure {
        Failure {
            step,
            line,
            differing: differing(&self.expected, &self.actual),
            finding: None,
            command: self.command,
            is_reset: self.is_reset,
            expected: self.expected,
            actual: self.actual,
        }
    }
}

/// One case being replayed: the card, the PSAM once it is needed, the captured variables.
struct Replay<'t, 'k> {
    transport: &'t mut dyn Transport,
    keys: Option<&'k Keys>,
    /// The PSAM card and what it needs to know about this card (`None`: software keys).
    psam_card: Option<(&'k PsamSource, Result<CardInfo, String>)>,
    auto_response: bool,
    psam: Option<Psam>,
    variables: HashMap<String, Vec<u8>>,
}

impl Replay<'_, '_> {
    /// Runs one step, its exchanges logged in `trace`; the mismatch when its answer does not
    /// match.
    fn step(
        &mut self,
        kind: &StepKind,
        trace: &mut StepTrace,
    ) -> Result<Option<Mismatch>, TransportError> {
        match kind {
            StepKind::Reset { atr } => {
                let actual = self.transport.reset()?;
                trace.answer.clone_from(&actual);
                Ok(match atr {
                    Some(p) if !p.matches(&actual) => Some(Mismatch {
                        command: Vec::new(),
                        is_reset: true,
                        expected: p.to_string(),
                        actual,
                    }),
                    _ => None,
                })
            }
            StepKind::Exchange {
                command,
                inserts,
                expect,
            } => {
                let command = with_variables(command, inserts, &self.variables);
                let actual = self.send(&command, trace)?;
                trace.answer.clone_from(&actual);
                Ok(self.check(expect, command, actual))
            }
            StepKind::Psam { op, expect } => self.psam_step(op, expect, trace),
        }
    }

    /// Sends a command, following `61xx`/`6Cxx` when asked; logs every exchange.
    fn send(&mut self, command: &[u8], trace: &mut StepTrace) -> Result<Vec<u8>, TransportError> {
        if self.auto_response {
            return transport::exchange(self.transport, command, &mut trace.exchanges);
        }
        let answer = self.transport.transmit(command)?;
        trace.exchanges.push((command.to_vec(), answer.clone()));
        Ok(answer)
    }

    /// Compares an answer with its expectation; a match captures its variables.
    fn check(&mut self, expect: &Expect, command: Vec<u8>, actual: Vec<u8>) -> Option<Mismatch> {
        match expect.captures(&actual) {
            Some(captured) => {
                self.variables.extend(captured);
                None
            }
            None => Some(Mismatch {
                command,
                is_reset: false,
                expected: expect.to_string(),
                actual,
            }),
        }
    }

    /// A `psam` step: the operation through the PSAM (made for this card on first use).
    fn psam_step(
        &mut self,
        op: &Op,
        expect: &Expect,
        trace: &mut StepTrace,
    ) -> Result<Option<Mismatch>, TransportError> {
        let failed = |expected: String, command: Vec<u8>, actual: Vec<u8>| Mismatch {
            command,
            is_reset: false,
            expected,
            actual,
        };
        if self.psam.is_none() {
            match self.new_psam() {
                Ok(p) => self.psam = Some(p),
                Err(PsamError::Transport(e)) => return Err(e),
                Err(e) => return Ok(Some(failed(format!("psam: {e}"), Vec::new(), Vec::new()))),
            }
        }
        let Some(psam) = self.psam.as_mut() else {
            return Ok(None);
        };
        match op.run(psam, self.transport) {
            Err(PsamError::Transport(e)) => Err(e),
            Err(e) => Ok(Some(failed(format!("psam: {e}"), Vec::new(), Vec::new()))),
            Ok(transcript) => {
                let actual = transcript.response().to_vec();
                let command = transcript.command().to_vec();
                trace.answer.clone_from(&actual);
                trace.exchanges.clone_from(&transcript.exchanges);
                Ok(match transcript.problem {
                    Some(problem) => Some(failed(problem, command, actual)),
                    None => self.check(expect, command, actual),
                })
            }
        }
    }
}

impl Replay<'_, '_> {
    /// The PSAM of this case, made on its first `psam` step: software keys, or the PSAM card
    /// (with the software keys' financial-application keys).
    fn new_psam(&mut self) -> Result<Psam, PsamError> {
        let atr = self.transport.atr()?;
        match (&self.psam_card, self.keys) {
            (Some((source, info)), keys) => {
                let info = info.clone().map_err(PsamError::CardContext)?;
                let card = PsamCard::open(source.open()?, &source.describe(), info)?;
                Psam::with_crypto(Box::new(card), keys, &atr)
            }
            (None, Some(keys)) => Psam::new(keys, &atr),
            (None, None) => Err(PsamError::NoKeys),
        }
    }
}

/// The command with the case's variables put in (a variable never captured, after a failed
/// step under `keep_going`, inserts nothing).
fn with_variables(
    command: &[u8],
    inserts: &[(usize, String)],
    variables: &HashMap<String, Vec<u8>>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(command.len() + 16);
    let mut at = 0;
    for (pos, name) in inserts {
        out.extend_from_slice(command.get(at..*pos).unwrap_or_default());
        out.extend_from_slice(variables.get(name).map_or(&[][..], Vec::as_slice));
        at = *pos;
    }
    out.extend_from_slice(command.get(at..).unwrap_or_default());
    out
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
