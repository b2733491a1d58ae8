//! Every format on one report: a passing, a failing, a skipped and a not-applicable case,
//! names and reasons with markup in them, and a requirements list.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::identity::{DeclarationId, RunIdentity, SuiteId};
use crate::requirements::Requirements;
use crate::runner::CaseResult;
use crate::vectors::Case;

const LIST: &str = "| Id | Clause | Requirement |\n|---|---|---|\n\
| REQ-A | §1 | Answers <b>bold</b> & \"quoted\" |\n\
| REQ-B | §2 | Fails |\n\
| REQ-C | §3 | Not for this card |\n\
| REQ-D | §4 | Never named |\n";

fn result(name: &str, ids: &[&str], outcome: Outcome) -> CaseResult {
    CaseResult {
        case: Case {
            name: name.into(),
            tags: vec!["pin".into()],
            file: Arc::from(Path::new("suite/pin/a&b.apdu")),
            line: 3,
            profile: None,
            steps: Vec::new(),
            requirements: ids.iter().map(|s| (*s).to_owned()).collect(),
            not_applicable: None,
        },
        outcome,
        duration: Duration::from_micros(250),
        trace: Vec::new(),
    }
}

fn report() -> RunReport {
    let failure = Failure {
        step: 2,
        line: 9,
        command: vec![0x00, 0x20, 0x00, 0x00, 0x02, 0x12, 0x34],
        is_reset: false,
        expected: "63C2 <x>".into(),
        actual: vec![0x69, 0x83],
        differing: vec![0, 1],
        finding: None,
    };
    RunReport {
        target: "sim <gen3> & co".into(),
        identity: RunIdentity {
            started: "2026-12-03T15:34:02Z".into(),
            version: "9.9.9".into(),
            atr: Some(vec![0x3B, 0x6D, 0x00]),
            declaration: Some(DeclarationId {
                name: "vendor<1>.toml".into(),
                digest: [0xAB; 32],
                fixed: true,
            }),
            suite: Some(SuiteId {
                digest: [0xCD; 32],
                files: 3,
            }),
        },
        requirements: Some(Requirements::parse(LIST, Path::new("reqs.md")).unwrap()),
        results: vec![
            result("x<script>alert(1)</script>&y", &["REQ-A"], Outcome::Passed),
            result("fails", &["REQ-A", "REQ-B"], Outcome::Failed(failure)),
            result(
                "skipped",
                &["REQ-D"],
                Outcome::Skipped("a <reader> & no restore".into()),
            ),
            result(
                "na",
                &["REQ-C"],
                Outcome::NotApplicable("needs \"pki\" \u{1}".into()),
            ),
        ],
        duration: Duration::from_millis(2),
    }
}

#[test]
fn html_escapes_everything_and_runs_no_script() {
    let html = render(&report(), Format::Html);
    assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
    assert!(
        html.contains("x&lt;script&gt;alert(1)&lt;/script&gt;&amp;y"),
        "{html}"
    );
    assert!(html.contains("sim &lt;gen3&gt; &amp; co"));
    assert!(html.contains("Answers &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;"));
    assert!(html.contains("suite/pin/a&amp;b.apdu:3"));
    assert!(html.contains("a &lt;reader&gt; &amp; no restore"));
    assert!(html.contains("needs &quot;pki&quot; \u{FFFD}"));
    assert!(!html.contains('\u{1}'));
    assert!(!html.contains("<b>"));
    // Nothing fetched: no URL, no external resource of any kind.
    for needle in [
        "http:", "https:", "src=", "<link", "<img", "<iframe", "url(", "@import",
    ] {
        assert!(!html.contains(needle), "{needle}");
    }
}

/// The elements of `html` that must close, balanced and properly nested.
fn assert_balanced(html: &str) {
    const VOID: [&str; 4] = ["meta", "br", "!DOCTYPE", "link"];
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let tail = &rest[start + 1..];
        let end = tail.find('>').expect("a tag closes");
        let tag = &tail[..end];
        rest = &tail[end + 1..];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect();
        if VOID.contains(&name.as_str()) || tag.ends_with('/') {
            continue;
        }
        if tag.starts_with('/') {
            assert_eq!(open.pop().as_deref(), Some(name.as_str()), "</{name}>");
        } else {
            open.push(name);
        }
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
}

#[test]
fn html_is_one_page_with_identity_summary_verdicts_and_failures() {
    let html = render(&report(), Format::Html);
    assert!(
        html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")
    );
    assert!(html.ends_with("</html>\n"));
    assert_eq!(html.matches("<style>").count(), 1);
    assert_balanced(&html);
    for field in [
        "ssc-harness 9.9.9",
        "2026-12-03T15:34:02Z",
        "3B 6D 00",
        "vendor&lt;1&gt;.toml (declared)",
        &"ab".repeat(32),
        &"cd".repeat(32),
        "reqs.md, 4 requirements",
    ] {
        assert!(html.contains(field), "{field}");
    }
    assert!(html.contains(
        "<span class=\"v v-fail\">FAILED</span> 1 passed, 1 failed, 1 skipped, 1 not applicable"
    ));
    for (id, class, label) in [
        ("REQ-A", "fail", "FAIL"),
        ("REQ-B", "fail", "FAIL"),
        ("REQ-C", "na", "N/A"),
        ("REQ-D", "not-tested", "NOT TESTED"),
    ] {
        let row = html
            .lines()
            .find(|l| l.starts_with(&format!("<tr id=\"req-{id}\">")))
            .unwrap();
        assert!(
            row.contains(&format!("<span class=\"v v-{class}\">{label}</span>")),
            "{row}"
        );
    }
    // The failure: the step, expected and actual with the differing bytes marked, the SW.
    assert!(html.contains("<article id=\"failure-1\">"));
    assert!(html.contains("step 2 at line 9"));
    assert!(html.contains("<code>00200000021234</code>"));
    assert!(html.contains("<code>63C2 &lt;x&gt;</code>"));
    assert!(html.contains("<code><mark>69</mark> <mark>83</mark></code>"));
    assert!(html.contains("<dt>status word</dt><dd><code>6983</code> "));
    assert!(html.contains("<a href=\"#failure-1\">"));
}

#[test]
fn json_has_the_run_the_verdicts_and_every_earlier_field() {
    let doc: serde_json::Value = serde_json::from_str(&render(&report(), Format::Json)).unwrap();
    let run = &doc["run"];
    assert_eq!(run["tool"], "ssc-harness");
    assert_eq!(run["version"], "9.9.9");
    assert_eq!(run["started"], "2026-12-03T15:34:02Z");
    assert_eq!(run["target"], "sim <gen3> & co");
    assert_eq!(run["atr"], "3B6D00");
    assert_eq!(run["declaration"]["name"], "vendor<1>.toml");
    assert_eq!(run["declaration"]["declared"], true);
    assert_eq!(run["declaration"]["sm3"], "ab".repeat(32));
    assert_eq!(run["suite"]["files"], 3);
    assert_eq!(run["suite"]["sm3"], "cd".repeat(32));
    assert_eq!(run["requirements"]["source"], "reqs.md");
    assert_eq!(run["requirements"]["count"], 4);
    let s = &doc["summary"];
    for (key, n) in [
        ("total", 4),
        ("passed", 1),
        ("failed", 1),
        ("skipped", 1),
        ("not_applicable", 1),
    ] {
        assert_eq!(s[key], n, "{key}");
    }
    assert_eq!(s["requirements"]["fail"], 2);
    assert_eq!(s["requirements"]["not_tested"], 1);
    assert_eq!(
        doc["cases"][1]["requirements"],
        serde_json::json!(["REQ-A", "REQ-B"])
    );
    assert!(doc["cases"][1]["failure"]["actual_sw_meaning"].is_string());
    let reqs = doc["requirements"].as_array().unwrap();
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[0]["id"], "REQ-A");
    assert_eq!(reqs[0]["clause"], "§1");
    assert_eq!(reqs[0]["verdict"], "FAIL");
    assert_eq!(
        reqs[0]["cases"],
        serde_json::json!(["x<script>alert(1)</script>&y", "fails"])
    );
    assert_eq!(reqs[3]["verdict"], "NOT TESTED");
    assert_eq!(reqs[3]["cases"], serde_json::json!(["skipped"]));
}

#[test]
fn junit_carries_the_identity_and_a_suite_of_verdicts() {
    let xml = render(&report(), Format::Junit);
    assert!(
        xml.contains("<testsuites name=\"ssc-harness\" tests=\"8\" failures=\"3\" skipped=\"4\"")
    );
    assert!(xml.contains("<property name=\"started\" value=\"2026-12-03T15:34:02Z\"/>"));
    assert!(xml.contains("<property name=\"target\" value=\"sim &lt;gen3&gt; &amp; co\"/>"));
    assert!(
        xml.contains("<testsuite name=\"requirements\" tests=\"4\" failures=\"2\" skipped=\"2\"")
    );
    assert!(xml.contains("<testcase name=\"REQ-B\" classname=\"requirements\" time=\"0\">\n      <failure message=\"FAIL: fails failed\">"));
    assert!(xml.contains("<skipped message=\"N/A: not applicable to the declared card: na\"/>"));
    assert!(xml.contains("<skipped message=\"NOT TESTED: none of its cases ran: skipped\"/>"));
    assert!(xml.contains("x&lt;script&gt;alert(1)&lt;/script&gt;&amp;y"));
    assert!(!xml.contains('\u{1}'));
    assert_balanced(xml.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
}

#[test]
fn text_has_the_identity_first_and_the_verdicts_before_the_totals() {
    let text = render(&report(), Format::Text);
    assert!(
        text.starts_with(
            "tool              ssc-harness 9.9.9\nstarted           2026-12-03T15:34:02Z\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("\nrequirement verdict    cases\nREQ-A       FAIL           2\n"),
        "{text}"
    );
    assert!(text.contains("REQ-D       NOT TESTED     1\n"), "{text}");
    assert!(
        text.contains("requirements: 0 PASS, 2 FAIL, 1 N/A, 1 NOT TESTED\n"),
        "{text}"
    );
    assert!(
        text.ends_with("1 passed, 1 failed, 1 skipped, 1 not applicable (4 cases in 2.0 ms)\n"),
        "{text}"
    );
}

#[test]
fn without_a_list_there_are_no_verdicts() {
    let mut r = report();
    r.requirements = None;
    let text = render(&r, Format::Text);
    assert!(!text.contains("requirement"), "{text}");
    let doc: serde_json::Value = serde_json::from_str(&render(&r, Format::Json)).unwrap();
    assert_eq!(doc["requirements"], serde_json::json!([]));
    assert!(doc["run"]["requirements"].is_null());
    assert!(!render(&r, Format::Junit).contains("name=\"requirements\""));
    assert!(!render(&r, Format::Html).contains("id=\"requirements\""));
}
