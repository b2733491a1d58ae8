//! The table parser, the check of the cases' ids, and the verdict rules.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::runner::{CaseResult, Failure, Outcome};

const LIST: &str = "\
# Requirements

Some prose | with a pipe, and a table that is not requirements:

| Term | Meaning |
|---|---|
| PIN | personal identification number |

| Id | Clause | Requirement |
|---|---|---|
| REQ-PIN-03 | §5.1 | A wrong PIN answers 63Cx with the tries left |
|REQ-PIN-04|§5.1|The last wrong try blocks the PIN|
  | REQ-SEL-01 | §4.3 | SELECT answers `61xx` \\| `9000` |
| REQ-X.1_a |  | No clause, no closing pipe
";

fn parse(text: &str) -> Result<Requirements, RequirementsError> {
    Requirements::parse(text, Path::new("reqs.md"))
}

#[test]
fn rows_are_read_and_the_rest_is_ignored() {
    let reqs = parse(LIST).unwrap();
    let ids: Vec<&str> = reqs.list.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["REQ-PIN-03", "REQ-PIN-04", "REQ-SEL-01", "REQ-X.1_a"]);
    let first = &reqs.list[0];
    assert_eq!(first.clause, "§5.1");
    assert_eq!(first.text, "A wrong PIN answers 63Cx with the tries left");
    assert_eq!(first.line, 11);
    assert_eq!(reqs.list[2].text, "SELECT answers `61xx` | `9000`");
    assert_eq!(reqs.list[3].clause, "");
    assert_eq!(reqs.list[3].line, 14);
    assert_eq!(reqs.source, "reqs.md");
    assert_eq!(reqs.get("REQ-PIN-04").map(|r| r.line), Some(12));
    assert!(reqs.get("REQ-PIN-05").is_none());
}

#[test]
fn the_digest_is_of_the_text() {
    let a = parse(LIST).unwrap();
    let b = parse(&format!("{LIST}\nA closing remark.\n")).unwrap();
    assert_eq!(a.list, b.list);
    assert_ne!(a.digest, b.digest);
    assert_eq!(a.digest, crate::identity::sm3(LIST.as_bytes()));
}

#[test]
fn malformed_rows_are_errors_naming_file_and_line() {
    let cases = [
        (
            "| REQ-A | §1 | text |\n\n| REQ-B | §1 |\n",
            3,
            "has 3 cells, `| Id | Clause | Requirement |`; this one has 2",
        ),
        ("| REQ-A | §1 | text | extra |\n", 1, "this one has 4"),
        (
            "x\n| REQ-A B | §1 | text |\n",
            2,
            "requirement id \"REQ-A B\" has ' '",
        ),
        (
            "| REQ-A | §1 |  |\n",
            1,
            "requirement \"REQ-A\" has no text",
        ),
        (
            "| REQ-A | §1 | one |\n| REQ-B | §2 | two |\n| REQ-A | §3 | three |\n",
            3,
            "requirement \"REQ-A\" is already listed at line 1",
        ),
    ];
    for (text, line, message) in cases {
        let e = parse(text).unwrap_err();
        assert_eq!(e.line, line, "{e}");
        assert!(e.message.contains(message), "{e}");
        assert!(
            e.to_string().starts_with(&format!("reqs.md:{line}: ")),
            "{e}"
        );
    }
}

#[test]
fn a_file_without_rows_is_an_error() {
    let e = parse("# Requirements\n\n| Id | Clause | Requirement |\n|---|---|---|\n").unwrap_err();
    assert_eq!(e.line, 0);
    assert!(e.to_string().starts_with("reqs.md: no requirements"), "{e}");
}

#[test]
fn files_are_read_with_the_vector_files_bounds() {
    let e = Requirements::load(Path::new("/nonexistent/reqs.md")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/reqs.md: cannot read"),
        "{e}"
    );
    let e = Requirements::load(Path::new("/")).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
}

#[test]
fn the_built_in_list_parses() {
    let reqs = Requirements::builtin().unwrap();
    assert!(!reqs.list.is_empty());
    assert_eq!(reqs.source, BUILTIN_SOURCE);
    assert!(reqs.list.iter().all(|r| r.id.starts_with("REQ-")));
}

fn case(name: &str, line: usize, requirements: &[&str]) -> Case {
    Case {
        name: name.into(),
        tags: Vec::new(),
        file: Arc::from(Path::new("v/pin/a.apdu")),
        line,
        profile: None,
        steps: Vec::new(),
        requirements: requirements.iter().map(|s| (*s).to_owned()).collect(),
        not_applicable: None,
    }
}

#[test]
fn a_case_naming_an_unknown_id_is_an_error_naming_it() {
    let reqs = parse(LIST).unwrap();
    let good = case("good", 1, &["REQ-PIN-03", "REQ-SEL-01"]);
    assert_eq!(reqs.check(std::slice::from_ref(&good)), Ok(()));
    let e = reqs
        .check(&[good, case("bad", 7, &["REQ-PIN-04", "REQ-PIN-99"])])
        .unwrap_err();
    assert_eq!(
        (e.line, e.id.as_str(), e.case.as_str()),
        (7, "REQ-PIN-99", "bad")
    );
    let text = e.to_string();
    assert!(
        text.starts_with("v/pin/a.apdu:7: case \"bad\" names requirement \"REQ-PIN-99\""),
        "{text}"
    );
    assert!(text.contains("reqs.md"), "{text}");
}

fn failed() -> Outcome {
    Outcome::Failed(Failure {
        step: 1,
        line: 2,
        command: vec![0, 0xA4, 0, 0],
        is_reset: false,
        expected: "9000".into(),
        actual: vec![0x6A, 0x82],
        differing: vec![0, 1],
        finding: None,
    })
}

fn skipped() -> Outcome {
    Outcome::Skipped("on a reader".into())
}

fn na() -> Outcome {
    Outcome::NotApplicable("needs pki".into())
}

#[test]
fn the_verdict_rules() {
    use Outcome::Passed;
    use Verdict::{Fail, NotApplicable, NotTested, Pass};
    let table: [(&[Outcome], Verdict); 12] = [
        (&[], NotTested),
        (&[Passed], Pass),
        (&[Passed, Passed], Pass),
        (&[failed()], Fail),
        (&[Passed, failed(), Passed], Fail),
        (&[na(), failed()], Fail),
        (&[skipped(), failed()], Fail),
        (&[na()], NotApplicable),
        (&[na(), na()], NotApplicable),
        (&[skipped()], NotTested),
        (&[na(), skipped()], NotTested),
        (&[Passed, na(), skipped()], Pass),
    ];
    for (outcomes, verdict) in table {
        assert_eq!(Verdict::of(outcomes), verdict, "{outcomes:?}");
    }
}

#[test]
fn verdicts_follow_the_list_and_name_their_cases() {
    let reqs = parse(LIST).unwrap();
    let result = |name: &str, ids: &[&str], outcome: Outcome| CaseResult {
        case: case(name, 1, ids),
        outcome,
        duration: Duration::ZERO,
        trace: Vec::new(),
    };
    let results = [
        result("a", &["REQ-PIN-03", "REQ-PIN-03"], Outcome::Passed),
        result("b", &["REQ-PIN-03", "REQ-PIN-04"], failed()),
        result("c", &["REQ-SEL-01"], na()),
        result("d", &[], Outcome::Passed),
    ];
    let v = verdicts(&reqs, &results);
    let got: Vec<(&str, Verdict, Vec<&str>)> = v
        .iter()
        .map(|r| {
            (
                r.requirement.id.as_str(),
                r.verdict,
                r.cases.iter().map(|c| c.case.name.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("REQ-PIN-03", Verdict::Fail, vec!["a", "b"]),
            ("REQ-PIN-04", Verdict::Fail, vec!["b"]),
            ("REQ-SEL-01", Verdict::NotApplicable, vec!["c"]),
            ("REQ-X.1_a", Verdict::NotTested, vec![]),
        ]
    );
    assert_eq!(
        tally(&v),
        [
            (Verdict::Pass, 0),
            (Verdict::Fail, 2),
            (Verdict::NotApplicable, 1),
            (Verdict::NotTested, 1)
        ]
    );
}
