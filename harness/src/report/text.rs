//! The text report: the run's identity, failures in detail, a summary by area, the
//! requirements' verdicts, and the totals last.

use std::fmt::Write as _;

use apdu::hex_spaced;

use super::{by_area, failure_lines, identity_fields, requirement_verdicts, sw_of};
use crate::requirements::tally;
use crate::runner::{Outcome, RunReport};

/// The report; with `trace`, every exchange of every case after the identity.
pub(super) fn text(report: &RunReport, trace: bool) -> String {
    let mut out = String::new();
    for (name, value) in identity_fields(report) {
        let _ = writeln!(out, "{name:<17} {value}");
    }
    out.push('\n');
    if trace {
        traces(report, &mut out);
    }
    for r in &report.results {
        match &r.outcome {
            Outcome::Passed => {}
            Outcome::Failed(f) => {
                let _ = writeln!(
                    out,
                    "FAIL {} ({}:{}), step {} at line {}",
                    shown(&r.case.name),
                    shown(&r.case.file.display().to_string()),
                    r.case.line,
                    f.step,
                    f.line
                );
                failure_lines(f, &mut out);
            }
            Outcome::Skipped(reason) => {
                let _ = writeln!(
                    out,
                    "SKIP {} ({}): {}",
                    shown(&r.case.name),
                    shown(&r.case.file.display().to_string()),
                    shown(reason)
                );
            }
            Outcome::NotApplicable(reason) => {
                let _ = writeln!(
                    out,
                    "N/A  {} ({}): {}",
                    shown(&r.case.name),
                    shown(&r.case.file.display().to_string()),
                    shown(reason)
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{:<12} {:>6} {:>6} {:>7} {:>5} {:>9}",
        "area", "passed", "failed", "skipped", "n/a", "ms"
    );
    for (area, t) in &by_area(report) {
        let _ = writeln!(
            out,
            "{area:<12} {:>6} {:>6} {:>7} {:>5} {:>9.2}",
            t.passed, t.failed, t.skipped, t.not_applicable, t.ms
        );
    }
    requirements(report, &mut out);
    let (p, f, s) = report.counts();
    let n = report.not_applicable();
    let _ = writeln!(
        out,
        "{p} passed, {f} failed, {s} skipped, {n} not applicable ({} cases in {:.1} ms)",
        report.results.len(),
        report.duration.as_secs_f64() * 1e3
    );
    out
}

/// The requirements' table (id, verdict, how many cases name it) and their tally.
fn requirements(report: &RunReport, out: &mut String) {
    let verdicts = requirement_verdicts(report);
    if report.requirements.is_none() {
        return;
    }
    let width = verdicts
        .iter()
        .map(|v| v.requirement.id.len())
        .max()
        .unwrap_or(0)
        .max("requirement".len());
    let _ = writeln!(
        out,
        "\n{:<width$} {:<10} {:>5}",
        "requirement", "verdict", "cases"
    );
    for v in &verdicts {
        let _ = writeln!(
            out,
            "{:<width$} {:<10} {:>5}",
            v.requirement.id,
            v.verdict.label(),
            v.cases.len()
        );
    }
    let counts: Vec<String> = tally(&verdicts)
        .iter()
        .map(|(v, n)| format!("{n} {}", v.label()))
        .collect();
    let _ = writeln!(out, "requirements: {}", counts.join(", "));
}

/// Every exchange, case by case: `> command` / `< answer : meaning`.
fn traces(report: &RunReport, out: &mut String) {
    for r in &report.results {
        if r.trace.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "case {} ({}:{})",
            shown(&r.case.name),
            shown(&r.case.file.display().to_string()),
            r.case.line
        );
        for (step, t) in r.case.steps.iter().zip(&r.trace) {
            if t.exchanges.is_empty() {
                let _ = writeln!(out, "  {}  -> {}", step.kind, hex_spaced(&t.answer));
            }
            for (c, a) in &t.exchanges {
                let meaning = sw_of(a)
                    .map(|s| s.meaning().into_owned())
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  > {}\n  < {} : {meaning}",
                    hex_spaced(c),
                    hex_spaced(a)
                );
            }
        }
    }
}

/// Text from files and cards as a terminal may show it: control characters escaped (a file
/// named with an escape sequence cannot drive the reader's terminal or forge report lines).
fn shown(text: &str) -> String {
    applet_sim::message::printable(text)
}
