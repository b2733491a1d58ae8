//! The JSON report: `target`, `run` (the identity), `summary`, `cases` (each with the
//! requirements it names) and `requirements` (each with its verdict and cases).

use apdu::hex_compact;
use serde_json::{Value, json};

use super::{failed_command, requirement_verdicts, status, sw_of};
use crate::identity::TOOL;
use crate::requirements::{Verdict, tally};
use crate::runner::{Outcome, RunReport};

/// The report as one pretty-printed JSON document and a newline.
pub(super) fn json(report: &RunReport) -> String {
    let (passed, failed, skipped) = report.counts();
    let cases: Vec<_> = report
        .results
        .iter()
        .map(|r| {
            let detail = match &r.outcome {
                Outcome::Passed => Value::Null,
                Outcome::Skipped(reason) | Outcome::NotApplicable(reason) => {
                    json!({ "reason": reason })
                }
                Outcome::Failed(f) => json!({
                    "step": f.step,
                    "line": f.line,
                    "command": failed_command(f),
                    "expected": f.expected,
                    "actual": hex_compact(&f.actual),
                    "actual_sw_meaning": sw_of(&f.actual).map(|sw| sw.meaning().into_owned()),
                    "finding": f.finding,
                }),
            };
            json!({
                "name": r.case.name,
                "file": r.case.file.display().to_string(),
                "line": r.case.line,
                "area": r.case.area(),
                "tags": r.case.tags,
                "requirements": r.case.requirements,
                "status": status(&r.outcome),
                "duration_us": u64::try_from(r.duration.as_micros()).unwrap_or(u64::MAX),
                "failure": detail,
            })
        })
        .collect();
    let verdicts = requirement_verdicts(report);
    let requirements: Vec<_> = verdicts
        .iter()
        .map(|v| {
            json!({
                "id": v.requirement.id,
                "clause": v.requirement.clause,
                "text": v.requirement.text,
                "verdict": v.verdict.label(),
                "cases": v.cases.iter().map(|r| r.case.name.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut by_verdict = serde_json::Map::new();
    for (v, n) in tally(&verdicts) {
        by_verdict.insert(verdict_key(v).into(), n.into());
    }
    let doc = json!({
        "target": report.target,
        "run": run(report),
        "summary": {
            "total": report.results.len(),
            "passed": passed,
            "failed": failed,
            "skipped": skipped,
            "not_applicable": report.not_applicable(),
            "duration_ms": report.duration.as_secs_f64() * 1e3,
            "requirements": by_verdict,
        },
        "cases": cases,
        "requirements": requirements,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// A verdict's key in `summary.requirements`.
fn verdict_key(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::NotApplicable => "not_applicable",
        Verdict::NotTested => "not_tested",
    }
}

/// The run's identity (digests in lowercase hex; `null` for what the run does not know).
fn run(report: &RunReport) -> Value {
    let id = &report.identity;
    json!({
        "tool": TOOL,
        "version": id.version,
        "started": id.started,
        "target": report.target,
        "atr": id.atr.as_deref().map(hex_compact),
        "declaration": id.declaration.as_ref().map(|d| json!({
            "name": d.name,
            "declared": d.fixed,
            "sm3": hex::encode(d.digest),
        })),
        "suite": id.suite.as_ref().map(|s| json!({
            "files": s.files,
            "sm3": hex::encode(s.digest),
        })),
        "requirements": report.requirements.as_ref().map(|r| json!({
            "source": r.source,
            "count": r.list.len(),
            "sm3": hex::encode(r.digest),
        })),
    })
}
