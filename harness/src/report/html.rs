//! The HTML report: one self-contained HTML5 page (inline CSS; no scripts, no external
//! resources) with the run's identity, the summary, the requirements' verdicts (colour and
//! text), every failing case in detail (the step, expected against actual with the
//! differing bytes marked, the status word's meaning) and every case's outcome. Everything
//! that comes from files or the card is escaped.

use std::fmt::Write as _;

use apdu::hex_spaced;

use super::{
    by_area, compared_len, escape_markup as esc, failed_command, identity_fields,
    requirement_verdicts, status, sw_of,
};
use crate::requirements::{RequirementVerdict, tally};
use crate::runner::{Failure, Outcome, RunReport};

/// The page's style sheet: verdicts and outcomes coloured, and written out.
const STYLE: &str = "\
:root{color-scheme:light dark}
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:80rem;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}h3{font-size:1.05rem;margin:.3rem 0}
table{border-collapse:collapse;margin:.5rem 0 1rem}
th,td{border:1px solid #8886;padding:.2rem .6rem;text-align:left;vertical-align:top}
th{background:#8882}
td.n{text-align:right;font-variant-numeric:tabular-nums}
code,.hex{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
.v{font-weight:bold;white-space:nowrap;padding:.05rem .4rem;border-radius:3px}
.v-pass,.v-passed{color:#fff;background:#1a7f37}
.v-fail,.v-failed{color:#fff;background:#cf222e}
.v-na,.v-not-applicable{color:#fff;background:#6e7781}
.v-not-tested,.v-skipped{color:#000;background:#e3b341}
.banner{font-size:1.2rem}
mark{background:#ff8182;color:#000;font-weight:bold}
article{border-left:4px solid #cf222e;padding:.2rem 1rem;margin:1rem 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.4rem 0}
dt{font-weight:bold}dd{margin:0}
";

/// The report as one HTML page.
pub(super) fn html(report: &RunReport) -> String {
    let mut out = String::with_capacity(16 * 1024 + report.results.len() * 400);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>ssc-harness report: {}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
         <main>\n<h1>Conformance report</h1>\n",
        esc(&report.target)
    );
    identity(report, &mut out);
    summary(report, &mut out);
    let verdicts = requirement_verdicts(report);
    if report.requirements.is_some() {
        requirements(&verdicts, &mut out);
    }
    failures(report, &mut out);
    cases(report, &mut out);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// The run's identity as a two-column table.
fn identity(report: &RunReport, out: &mut String) {
    out.push_str("<section id=\"run\">\n<h2>Run</h2>\n<table>\n");
    for (name, value) in identity_fields(report) {
        let class = if name.ends_with("sm3") || name == "atr" {
            " class=\"hex\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td{class}>{}</td></tr>",
            esc(name),
            esc(&value)
        );
    }
    out.push_str("</table>\n</section>\n");
}

/// The outcome, the totals and a table by area.
fn summary(report: &RunReport, out: &mut String) {
    let (p, f, s) = report.counts();
    let n = report.not_applicable();
    let (class, word) = if f == 0 {
        ("v-pass", "PASSED")
    } else {
        ("v-fail", "FAILED")
    };
    let _ = writeln!(
        out,
        "<section id=\"summary\">\n<h2>Summary</h2>\n<p class=\"banner\"><span class=\"v {class}\">{word}</span> \
         {p} passed, {f} failed, {s} skipped, {n} not applicable ({} cases in {:.1} ms)</p>",
        report.results.len(),
        report.duration.as_secs_f64() * 1e3
    );
    out.push_str(
        "<table>\n<thead><tr><th>Area</th><th>Passed</th><th>Failed</th><th>Skipped</th>\
         <th>N/A</th><th>ms</th></tr></thead>\n<tbody>\n",
    );
    for (area, t) in &by_area(report) {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{:.2}</td></tr>",
            esc(area),
            t.passed,
            t.failed,
            t.skipped,
            t.not_applicable,
            t.ms
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// Every requirement of the list with its verdict and cases.
fn requirements(verdicts: &[RequirementVerdict<'_>], out: &mut String) {
    out.push_str("<section id=\"requirements\">\n<h2>Requirements</h2>\n<p>");
    let counts: Vec<String> = tally(verdicts)
        .iter()
        .map(|(v, n)| {
            format!(
                "<span class=\"v v-{}\">{}</span> {n}",
                v.slug(),
                esc(v.label())
            )
        })
        .collect();
    out.push_str(&counts.join(" &nbsp; "));
    out.push_str(
        "</p>\n<table>\n<thead><tr><th>Id</th><th>Clause</th><th>Requirement</th>\
         <th>Verdict</th><th>Cases</th></tr></thead>\n<tbody>\n",
    );
    for v in verdicts {
        let names: Vec<String> = v
            .cases
            .iter()
            .map(|r| {
                format!(
                    "<code>{}</code> <span class=\"v v-{}\">{}</span>",
                    esc(&r.case.name),
                    status(&r.outcome),
                    esc(status(&r.outcome))
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "<tr id=\"{}\"><td><code>{}</code></td><td>{}</td><td>{}</td>\
             <td><span class=\"v v-{}\">{}</span></td><td>{}</td></tr>",
            esc(&format!("req-{}", v.requirement.id)),
            esc(&v.requirement.id),
            esc(&v.requirement.clause),
            esc(&v.requirement.text),
            v.verdict.slug(),
            esc(v.verdict.label()),
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join("<br>")
            }
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// Every failing case: where, the step, expected against actual, the status word.
fn failures(report: &RunReport, out: &mut String) {
    out.push_str("<section id=\"failures\">\n<h2>Failures</h2>\n");
    let mut any = false;
    for (i, r) in report.results.iter().enumerate() {
        let Outcome::Failed(f) = &r.outcome else {
            continue;
        };
        any = true;
        let _ = writeln!(
            out,
            "<article id=\"failure-{i}\">\n<h3><code>{}</code></h3>\n<p>{}:{}, step {} at line {}</p>\n<dl>",
            esc(&r.case.name),
            esc(&r.case.file.display().to_string()),
            r.case.line,
            f.step,
            f.line
        );
        if let Some(found) = &f.finding {
            let _ = writeln!(
                out,
                "<dt>found</dt><dd><code>{}</code></dd>\n<dt>rule</dt><dd>{}</dd>\n</dl>\n</article>",
                esc(found),
                esc(&f.expected)
            );
            continue;
        }
        let _ = writeln!(
            out,
            "<dt>step</dt><dd><code>{}</code></dd>\n<dt>expected</dt><dd><code>{}</code></dd>\n\
             <dt>actual</dt><dd><code>{}</code></dd>",
            esc(&failed_command(f)),
            esc(&f.expected),
            marked(f)
        );
        if !f.is_reset
            && let Some(sw) = sw_of(&f.actual)
        {
            let _ = writeln!(
                out,
                "<dt>status word</dt><dd><code>{:04X}</code> {}</dd>",
                u16::from(sw),
                esc(&sw.meaning())
            );
        }
        out.push_str("</dl>\n</article>\n");
    }
    if !any {
        out.push_str("<p>None.</p>\n");
    }
    out.push_str("</section>\n");
}

/// The answer's bytes in hex, those that differ from the expectation in `<mark>` (an
/// expected byte the answer lacks as a marked `--`).
fn marked(f: &Failure) -> String {
    if f.differing.is_empty() {
        return esc(&hex_spaced(&f.actual));
    }
    let bytes: Vec<String> = (0..compared_len(f))
        .map(|i| {
            let byte = f
                .actual
                .get(i)
                .map_or_else(|| "--".to_owned(), |b| format!("{b:02X}"));
            if f.differing.contains(&i) {
                format!("<mark>{byte}</mark>")
            } else {
                byte
            }
        })
        .collect();
    bytes.join(" ")
}

/// Every case and how it ended.
fn cases(report: &RunReport, out: &mut String) {
    out.push_str(
        "<section id=\"cases\">\n<h2>Cases</h2>\n<table>\n<thead><tr><th>Case</th><th>File</th>\
         <th>Outcome</th><th>Requirements</th><th>Detail</th></tr></thead>\n<tbody>\n",
    );
    for (i, r) in report.results.iter().enumerate() {
        let detail = match &r.outcome {
            Outcome::Passed => String::new(),
            Outcome::Failed(f) => format!(
                "<a href=\"#failure-{i}\">step {} at line {}</a>",
                f.step, f.line
            ),
            Outcome::Skipped(reason) | Outcome::NotApplicable(reason) => esc(reason),
        };
        let requirements: Vec<String> = r
            .case
            .requirements
            .iter()
            .map(|id| format!("<a href=\"#{}\">{}</a>", esc(&format!("req-{id}")), esc(id)))
            .collect();
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}:{}</td><td><span class=\"v v-{}\">{}</span></td>\
             <td>{}</td><td>{detail}</td></tr>",
            esc(&r.case.name),
            esc(&r.case.file.display().to_string()),
            r.case.line,
            status(&r.outcome),
            esc(status(&r.outcome)),
            requirements.join(" ")
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}
