//! The JUnit XML report: one testsuite per area, then a testsuite `requirements` with one
//! testcase per requirement (FAIL a failure, N/A and NOT TESTED skipped with a message);
//! every testsuite carries the run's identity as its `<properties>`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use apdu::hex_compact;

use super::{escape_markup as xml, failure_lines, identity_fields, requirement_verdicts};
use crate::requirements::{RequirementVerdict, Verdict};
use crate::runner::{CaseResult, Outcome, RunReport};

/// The classname and testsuite name of the requirements' verdicts.
const REQUIREMENTS_SUITE: &str = "requirements";

/// The report as JUnit XML.
pub(super) fn junit(report: &RunReport) -> String {
    let mut by_area: BTreeMap<String, Vec<&CaseResult>> = BTreeMap::new();
    for r in &report.results {
        by_area.entry(r.case.area()).or_default().push(r);
    }
    let verdicts = requirement_verdicts(report);
    let properties = properties(report);
    let (_, failed, skipped) = report.counts();
    let count = |v: Verdict| verdicts.iter().filter(|r| r.verdict == v).count();
    let failed = failed + count(Verdict::Fail);
    let skipped = skipped
        + report.not_applicable()
        + count(Verdict::NotApplicable)
        + count(Verdict::NotTested);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"ssc-harness\" tests=\"{}\" failures=\"{failed}\" skipped=\"{skipped}\" time=\"{:.6}\">",
        report.results.len() + verdicts.len(),
        report.duration.as_secs_f64()
    );
    for (area, results) in by_area {
        area_suite(&area, &results, &properties, &mut out);
    }
    if report.requirements.is_some() {
        requirements_suite(&verdicts, &properties, &mut out);
    }
    out.push_str("</testsuites>\n");
    out
}

/// The identity as a `<properties>` element (indented for a testsuite).
fn properties(report: &RunReport) -> String {
    let mut out = String::from("    <properties>\n");
    for (name, value) in identity_fields(report) {
        let _ = writeln!(
            out,
            "      <property name=\"{}\" value=\"{}\"/>",
            xml(name),
            xml(&value)
        );
    }
    out.push_str("    </properties>\n");
    out
}

/// The testsuite of one area.
fn area_suite(area: &str, results: &[&CaseResult], properties: &str, out: &mut String) {
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
        xml(area),
        results.len()
    );
    out.push_str(properties);
    for r in results {
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\" time=\"{:.6}\"",
            xml(&r.case.name),
            xml(area),
            xml(&r.case.file.display().to_string()),
            r.case.line,
            r.duration.as_secs_f64()
        );
        match &r.outcome {
            Outcome::Passed => out.push_str("/>\n"),
            Outcome::Skipped(reason) => {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    xml(reason)
                );
            }
            Outcome::NotApplicable(reason) => {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"N/A: {}\"/>\n    </testcase>",
                    xml(reason)
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
                    xml(&f.expected),
                    hex_compact(&f.actual),
                    xml(&detail)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n");
}

/// The testsuite of the requirements' verdicts: a testcase per requirement.
fn requirements_suite(verdicts: &[RequirementVerdict<'_>], properties: &str, out: &mut String) {
    let count = |v: Verdict| verdicts.iter().filter(|r| r.verdict == v).count();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{REQUIREMENTS_SUITE}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"0\">",
        verdicts.len(),
        count(Verdict::Fail),
        count(Verdict::NotApplicable) + count(Verdict::NotTested)
    );
    out.push_str(properties);
    for v in verdicts {
        let names = |keep: &dyn Fn(&Outcome) -> bool| {
            v.cases
                .iter()
                .filter(|r| keep(&r.outcome))
                .map(|r| r.case.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{REQUIREMENTS_SUITE}\" time=\"0\"",
            xml(&v.requirement.id)
        );
        let text = format!("{} {}", v.requirement.clause, v.requirement.text);
        match v.verdict {
            Verdict::Pass => {
                let _ = writeln!(
                    out,
                    ">\n      <system-out>{}\nPASS: {}</system-out>\n    </testcase>",
                    xml(text.trim()),
                    xml(&names(&|o| matches!(o, Outcome::Passed)))
                );
            }
            Verdict::Fail => {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"FAIL: {}\">{}</failure>\n    </testcase>",
                    xml(&format!(
                        "{} failed",
                        names(&|o| matches!(o, Outcome::Failed(_)))
                    )),
                    xml(text.trim())
                );
            }
            Verdict::NotApplicable | Verdict::NotTested => {
                let why = if v.cases.is_empty() {
                    "no case of the run names it".to_owned()
                } else if v.verdict == Verdict::NotApplicable {
                    format!("not applicable to the declared card: {}", names(&|_| true))
                } else {
                    format!("none of its cases ran: {}", names(&|_| true))
                };
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"{}: {}\"/>\n    </testcase>",
                    v.verdict.label(),
                    xml(&why)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n");
}
