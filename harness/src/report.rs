//! Reports: text for people, JSON and JUnit XML for CI (docs/ARCHITECTURE.md contract:
//! JSON has `summary.total`, `summary.passed`, `summary.failed`, `summary.skipped`, `cases`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use apdu::{Response, StatusWord, hex_compact, hex_spaced};
use serde_json::json;

use crate::runner::{Failure, Outcome, RunReport};

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Failures in detail, then a summary by area.
    Text,
    /// One JSON document.
    Json,
    /// JUnit XML, one testsuite per area.
    Junit,
}

/// Renders the report.
#[must_use]
pub fn render(report: &RunReport, format: Format) -> String {
    render_with(report, format, false)
}

/// Renders the report; with `trace`, the text format lists every exchange of every case.
#[must_use]
pub fn render_with(report: &RunReport, format: Format, trace: bool) -> String {
    match format {
        Format::Text if trace => {
            let mut out = traces(report);
            out.push_str(&text(report));
            out
        }
        Format::Text => text(report),
        Format::Json => json(report),
        Format::Junit => junit(report),
    }
}

/// Every exchange, case by case: `> command` / `< answer : meaning`.
fn traces(report: &RunReport) -> String {
    let mut out = String::new();
    for r in &report.results {
        if r.trace.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "case {} ({}:{})",
            r.case.name,
            r.case.file.display(),
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
    out
}

fn sw_of(bytes: &[u8]) -> Option<StatusWord> {
    Response::split(bytes).map(|(_, sw)| sw)
}

fn failure_lines(f: &Failure, out: &mut String) {
    if f.is_reset {
        let _ = writeln!(out, "  reset");
    } else {
        let _ = writeln!(out, "  > {}", hex_compact(&f.command));
    }
    let _ = writeln!(out, "  expected: {}", f.expected);
    let _ = writeln!(out, "  actual:   {}", hex_spaced(&f.actual));
    if !f.differing.is_empty() {
        let marks: String = (0..f
            .actual
            .len()
            .max(f.differing.iter().max().map_or(0, |m| m + 1)))
            .map(|i| {
                if f.differing.contains(&i) {
                    "^^ "
                } else {
                    "   "
                }
            })
            .collect();
        let _ = writeln!(out, "            {}", marks.trim_end());
    }
    if !f.is_reset
        && let Some(sw) = sw_of(&f.actual)
    {
        let _ = writeln!(out, "  status:   got {sw}");
    }
}

fn text(report: &RunReport) -> String {
    let mut out = String::new();
    let mut areas: BTreeMap<String, (usize, usize, usize, usize, f64)> = BTreeMap::new();
    for r in &report.results {
        let entry = areas.entry(r.case.area()).or_default();
        entry.4 += r.duration.as_secs_f64() * 1e3;
        match &r.outcome {
            Outcome::Passed => entry.0 += 1,
            Outcome::Failed(f) => {
                entry.1 += 1;
                let _ = writeln!(
                    out,
                    "FAIL {} ({}:{}), step {} at line {}",
                    r.case.name,
                    r.case.file.display(),
                    r.case.line,
                    f.step,
                    f.line
                );
                failure_lines(f, &mut out);
            }
            Outcome::Skipped(reason) => {
                entry.2 += 1;
                let _ = writeln!(
                    out,
                    "SKIP {} ({}): {reason}",
                    r.case.name,
                    r.case.file.display()
                );
            }
            Outcome::NotApplicable(reason) => {
                entry.3 += 1;
                let _ = writeln!(
                    out,
                    "N/A  {} ({}): {reason}",
                    r.case.name,
                    r.case.file.display()
                );
            }
        }
    }
    let _ = writeln!(out, "\nagainst {}", report.target);
    let _ = writeln!(
        out,
        "{:<12} {:>6} {:>6} {:>7} {:>5} {:>9}",
        "area", "passed", "failed", "skipped", "n/a", "ms"
    );
    for (area, (p, f, s, n, ms)) in &areas {
        let _ = writeln!(out, "{area:<12} {p:>6} {f:>6} {s:>7} {n:>5} {ms:>9.2}");
    }
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

fn json(report: &RunReport) -> String {
    let (passed, failed, skipped) = report.counts();
    let cases: Vec<_> = report
        .results
        .iter()
        .map(|r| {
            let (status, detail) = match &r.outcome {
                Outcome::Passed => ("passed", serde_json::Value::Null),
                Outcome::Skipped(reason) => ("skipped", json!({ "reason": reason })),
                Outcome::NotApplicable(reason) => {
                    ("not-applicable", json!({ "reason": reason }))
                }
                Outcome::Failed(f) => (
                    "failed",
                    json!({
                        "step": f.step,
                        "line": f.line,
                        "command": if f.is_reset { "reset".to_owned() } else { hex_compact(&f.command) },
                        "expected": f.expected,
                        "actual": hex_compact(&f.actual),
                        "actual_sw_meaning": sw_of(&f.actual).map(|sw| sw.meaning().into_owned()),
                    }),
                ),
            };
            json!({
                "name": r.case.name,
                "file": r.case.file.display().to_string(),
                "line": r.case.line,
                "area": r.case.area(),
                "tags": r.case.tags,
                "status": status,
                "duration_us": u64::try_from(r.duration.as_micros()).unwrap_or(u64::MAX),
                "failure": detail,
            })
        })
        .collect();
    let doc = json!({
        "target": report.target,
        "summary": {
            "total": report.results.len(),
            "passed": passed,
            "failed": failed,
            "skipped": skipped,
            "not_applicable": report.not_applicable(),
            "duration_ms": report.duration.as_secs_f64() * 1e3,
        },
        "cases": cases,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

fn xml_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&apos;".into(),
            c => c.to_string(),
        })
        .collect()
}

fn junit(report: &RunReport) -> String {
    let mut by_area: BTreeMap<String, Vec<&crate::runner::CaseResult>> = BTreeMap::new();
    for r in &report.results {
        by_area.entry(r.case.area()).or_default().push(r);
    }
    let (_, failed, skipped) = report.counts();
    let skipped = skipped + report.not_applicable();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"ssc-harness\" tests=\"{}\" failures=\"{failed}\" skipped=\"{skipped}\" time=\"{:.6}\">",
        report.results.len(),
        report.duration.as_secs_f64()
    );
    for (area, results) in by_area {
        let fails = results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
            .count();
        let skips = results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Skipped(_) | Outcome::NotApplicable(_)))
            .count();
        let time: f64 = results.iter().map(|r| r.duration.as_secs_f64()).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fails}\" skipped=\"{skips}\" time=\"{time:.6}\">",
            xml_escape(&area),
            results.len()
        );
        for r in results {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\" time=\"{:.6}\"",
                xml_escape(&r.case.name),
                xml_escape(&area),
                xml_escape(&r.case.file.display().to_string()),
                r.case.line,
                r.duration.as_secs_f64()
            );
            match &r.outcome {
                Outcome::Passed => out.push_str("/>\n"),
                Outcome::Skipped(reason) => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        xml_escape(reason)
                    );
                }
                Outcome::NotApplicable(reason) => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"N/A: {}\"/>\n    </testcase>",
                        xml_escape(reason)
                    );
                }
                Outcome::Failed(f) => {
                    let mut detail = String::new();
                    failure_lines(f, &mut detail);
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"step {} at line {}: expected {}, got {}\">{}</failure>\n    </testcase>",
                        f.step,
                        f.line,
                        xml_escape(&f.expected),
                        hex_compact(&f.actual),
                        xml_escape(&detail)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
