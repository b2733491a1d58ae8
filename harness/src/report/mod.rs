//! Reports: text for people, JSON and JUnit XML for CI, one HTML page to hand over
//! (docs/ARCHITECTURE.md contract: JSON has `summary.total`, `summary.passed`,
//! `summary.failed`, `summary.skipped`, `cases`).
//!
//! Every format carries the run's identity ([`crate::identity`]) and, when the report has a
//! requirements list, a verdict for every requirement of it ([`crate::requirements`]).
//! `text`, `json`, `junit` and `html` are the formats; this module what they share.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use apdu::{Response, StatusWord, hex_compact, hex_spaced};

use crate::identity::TOOL;
use crate::requirements::{RequirementVerdict, verdicts};
use crate::runner::{Failure, Outcome, RunReport};

mod html;
mod json;
mod junit;
mod text;

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The run's identity, failures in detail, a summary by area, the requirements' verdicts.
    Text,
    /// One JSON document.
    Json,
    /// JUnit XML, one testsuite per area and one of the requirements.
    Junit,
    /// One self-contained HTML page: inline CSS, no scripts, nothing fetched.
    Html,
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
        Format::Text => text::text(report, trace),
        Format::Json => json::json(report),
        Format::Junit => junit::junit(report),
        Format::Html => html::html(report),
    }
}

/// The requirements' verdicts of the report (none without a list).
fn requirement_verdicts(report: &RunReport) -> Vec<RequirementVerdict<'_>> {
    report
        .requirements
        .as_ref()
        .map(|list| verdicts(list, &report.results))
        .unwrap_or_default()
}

/// The run's identity as (name, value) pairs, in the order reports show them; the names
/// are those of JUnit's properties (JSON's `run` has the same, nested at the dots).
fn identity_fields(report: &RunReport) -> Vec<(&'static str, String)> {
    let id = &report.identity;
    let mut fields = vec![
        ("tool", format!("{TOOL} {}", id.version)),
        ("started", id.started.clone()),
        ("target", report.target.clone()),
        (
            "atr",
            id.atr.as_deref().map_or_else(|| "-".into(), hex_spaced),
        ),
    ];
    if let Some(d) = &id.declaration {
        let how = if d.fixed {
            "declared"
        } else {
            "built in; a file's profile line applies to its cases"
        };
        fields.push(("declaration", format!("{} ({how})", d.name)));
        fields.push(("declaration.sm3", hex::encode(d.digest)));
    }
    if let Some(s) = &id.suite {
        fields.push(("suite.files", s.files.to_string()));
        fields.push(("suite.sm3", hex::encode(s.digest)));
    }
    if let Some(r) = &report.requirements {
        fields.push((
            "requirements",
            format!("{}, {} requirements", r.source, r.list.len()),
        ));
        fields.push(("requirements.sm3", hex::encode(r.digest)));
    }
    fields
}

/// How the cases of an area ended, and their time.
#[derive(Clone, Copy, Debug, Default)]
struct AreaTally {
    passed: usize,
    failed: usize,
    skipped: usize,
    not_applicable: usize,
    ms: f64,
}

/// The cases' outcomes by area, areas sorted.
fn by_area(report: &RunReport) -> BTreeMap<String, AreaTally> {
    let mut areas: BTreeMap<String, AreaTally> = BTreeMap::new();
    for r in &report.results {
        let t = areas.entry(r.case.area()).or_default();
        t.ms += r.duration.as_secs_f64() * 1e3;
        match r.outcome {
            Outcome::Passed => t.passed += 1,
            Outcome::Failed(_) => t.failed += 1,
            Outcome::Skipped(_) => t.skipped += 1,
            Outcome::NotApplicable(_) => t.not_applicable += 1,
        }
    }
    areas
}

/// A case's outcome as JSON and the HTML page name it.
fn status(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "passed",
        Outcome::Failed(_) => "failed",
        Outcome::Skipped(_) => "skipped",
        Outcome::NotApplicable(_) => "not-applicable",
    }
}

/// The status word ending `bytes`, if they hold one.
fn sw_of(bytes: &[u8]) -> Option<StatusWord> {
    Response::split(bytes).map(|(_, sw)| sw)
}

/// The step of a failure as written: `reset` or the command in hex.
fn failed_command(f: &Failure) -> String {
    if let Some(found) = &f.finding {
        found.clone()
    } else if f.is_reset {
        "reset".to_owned()
    } else {
        hex_compact(&f.command)
    }
}

/// How many byte positions a failure's answer has, counting expected bytes it lacks.
fn compared_len(f: &Failure) -> usize {
    f.actual
        .len()
        .max(f.differing.iter().max().map_or(0, |m| m + 1))
}

fn failure_lines(f: &Failure, out: &mut String) {
    if let Some(found) = &f.finding {
        let _ = writeln!(out, "  found:    {found}");
        let _ = writeln!(out, "  rule:     {}", f.expected);
        return;
    }
    if f.is_reset {
        let _ = writeln!(out, "  reset");
    } else {
        let _ = writeln!(out, "  > {}", hex_compact(&f.command));
    }
    let _ = writeln!(out, "  expected: {}", f.expected);
    let _ = writeln!(out, "  actual:   {}", hex_spaced(&f.actual));
    if !f.differing.is_empty() {
        let marks: String = (0..compared_len(f))
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

/// Text as XML and HTML carry it in content and quoted attributes: markup characters as
/// references, and characters neither may hold (C0 controls but tab, line feed and carriage
/// return; DEL and C1 controls; U+FFFE, U+FFFF) as U+FFFD.
fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
