//! The data checks as cases of a run (`ssc-harness run`'s "data" area): one case per
//! requirement of docs/REQUIREMENTS.md the checks cover, failed by the findings of that
//! requirement, skipped when what it needs could not be read.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use applet_sim::model::AppKind;

use super::{CheckReport, Finding};
use crate::declaration::{Declaration, Feature};
use crate::runner::{CaseResult, Failure, Outcome};
use crate::vectors::Case;

/// The requirements the data checks cover, and what each needs read (a prefix of the items
/// [`CheckReport::not_checked`] names: `EF06`, the sub-applications, …; `None`: always read).
const COVERED: [(&str, Option<&str>); 14] = [
    ("REQ-ATR-02", None),
    ("REQ-DATA-01", None),
    ("REQ-DATA-02", None),
    ("REQ-DATA-03", None),
    ("REQ-DATA-04", None),
    ("REQ-DATA-05", None),
    ("REQ-DATA-06", None),
    ("REQ-DATA-07", None),
    ("REQ-DATA-08", None),
    ("REQ-DATA-09", Some("EF06")),
    ("REQ-DATA-10", Some("EF06")),
    ("REQ-DATA-11", Some("the sub-applications")),
    ("REQ-DATA-12", Some("EF06")),
    ("REQ-DATA-13", Some("UnionPay")),
];

/// The requirement a finding breaks, from its item (docs/REQUIREMENTS.md, DATA and ATR).
#[must_use]
pub fn requirement_of(finding: &Finding) -> &'static str {
    let item = finding.item.as_str();
    let tag = |t: &str| item.starts_with(t);
    if tag("ATR") {
        "REQ-ATR-02"
    } else if item.starts_with("DF0") {
        "REQ-DATA-11"
    } else if tag("EF05 tag 01") {
        if finding.rule.contains("ATR") {
            "REQ-DATA-03"
        } else {
            "REQ-DATA-02"
        }
    } else if tag("EF05 tag 02") {
        "REQ-DATA-04"
    } else if tag("EF05 tag 03") {
        "REQ-DATA-05"
    } else if tag("EF05 tag 04") {
        "REQ-DATA-06"
    } else if tag("EF05 tag 05") || tag("EF05 tag 06") {
        "REQ-DATA-07"
    } else if tag("EF05 tag 07") {
        "REQ-DATA-08"
    } else if tag("EF06 tag 08") || tag("EF06 tag 0D") {
        "REQ-DATA-09"
    } else if tag("EF06 tag 09") || tag("EF06 tag 4E") {
        "REQ-DATA-10"
    } else if tag("EF06 tag 0A") || tag("EF06 tag 0B") || tag("EF06 tag 0C") {
        "REQ-DATA-12"
    } else if tag("EF05") || tag("EF06") {
        "REQ-DATA-01"
    } else {
        "REQ-DATA-13"
    }
}

/// Why a requirement of the data checks does not apply to the declared card: the financial
/// data without a financial application, the sub-applications' without any.
fn not_applicable(id: &str, declaration: &Declaration) -> Option<String> {
    let profile = &declaration.profile;
    match id {
        "REQ-DATA-13" if !declaration.has(Feature::Bank) => {
            Some("the declared card has no financial application".into())
        }
        "REQ-DATA-11" => {
            let ssse = profile
                .dfs
                .iter()
                .find(|d| d.kind == Some(AppKind::Ssse))
                .map(|d| d.id.as_str());
            let any = profile.dfs.iter().any(|d| Some(d.parent.as_str()) == ssse);
            (!any).then(|| "the declared card has no sub-applications".into())
        }
        _ => None,
    }
}

/// The "data" cases of a run from a check's report on the card `declaration` declares:
/// `data.REQ-…`, in requirement order.
#[must_use]
pub fn as_cases(
    report: &CheckReport,
    declaration: &Declaration,
    duration: Duration,
) -> Vec<CaseResult> {
    let file = data_file();
    COVERED
        .iter()
        .map(|(id, needs)| {
            let findings: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| requirement_of(f) == *id)
                .collect();
            let unread =
                needs.and_then(|prefix| report.not_checked.iter().find(|n| n.starts_with(prefix)));
            let outcome = match (findings.as_slice(), unread) {
                ([], _) if let Some(why) = not_applicable(id, declaration) => {
                    Outcome::NotApplicable(why)
                }
                ([], None) => Outcome::Passed,
                ([], Some(why)) => Outcome::Skipped(format!("not checked: {why}")),
                (found, _) => Outcome::Failed(failure(found)),
            };
            CaseResult {
                case: case(id, &file),
                outcome,
                duration: duration / 14,
                trace: Vec::new(),
            }
        })
        .collect()
}

fn data_file() -> Arc<Path> {
    Arc::from(Path::new("data/ssc-harness-check"))
}

fn case(id: &str, file: &Arc<Path>) -> Case {
    Case {
        name: format!("data.{id}"),
        tags: vec!["data".into()],
        file: Arc::clone(file),
        line: 0,
        profile: None,
        steps: Vec::new(),
        requirements: vec![id.to_owned()],
        not_applicable: None,
    }
}

/// The "data" cases when the card's data could not be read at all (the card refused a step
/// every reader needs): each skipped with `why`; the vector cases show what the card did.
#[must_use]
pub fn unread_cases(why: &str) -> Vec<CaseResult> {
    data_cases()
        .into_iter()
        .map(|case| CaseResult {
            case,
            outcome: Outcome::Skipped(format!("not checked: {why}")),
            duration: Duration::ZERO,
            trace: Vec::new(),
        })
        .collect()
}

/// The "data" cases, before they are run (for `--filter` and `--tags`).
#[must_use]
pub fn data_cases() -> Vec<Case> {
    let file = data_file();
    COVERED.iter().map(|(id, _)| case(id, &file)).collect()
}

/// The findings of one requirement as a failure: the items and values, the rules broken.
fn failure(found: &[&Finding]) -> Failure {
    let items: Vec<String> = found
        .iter()
        .map(|f| format!("{} = {:?}", f.item, f.value))
        .collect();
    let rules: Vec<String> = found
        .iter()
        .map(|f| format!("{} ({})", f.rule, f.clause))
        .collect();
    Failure {
        step: 1,
        line: 0,
        command: Vec::new(),
        is_reset: false,
        expected: rules.join("; "),
        actual: Vec::new(),
        differing: Vec::new(),
        finding: Some(items.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(item: &str, rule: &str) -> Finding {
        Finding {
            item: item.into(),
            value: "v".into(),
            rule: rule.into(),
            clause: "docs/CARD.md §3.4".into(),
        }
    }

    #[test]
    fn findings_fail_their_requirement_only() {
        let report = CheckReport {
            findings: vec![
                finding("EF05 tag 06 expiry date", "not a date"),
                finding(
                    "EF05 tag 01 card identification code",
                    "serial is not the ATR's TA-TD",
                ),
                finding("EF06 tag 0A sex", "not a code"),
            ],
            not_checked: vec!["the sub-applications DF01-DF07: no PIN".into()],
            ..CheckReport::default()
        };
        let gen3 = Declaration::new("gen3", applet_sim::Profile::builtin("gen3").unwrap());
        let cases = as_cases(&report, &gen3, Duration::ZERO);
        let outcome = |id: &str| {
            &cases
                .iter()
                .find(|c| c.case.name == format!("data.{id}"))
                .unwrap()
                .outcome
        };
        assert!(
            matches!(outcome("REQ-DATA-07"), Outcome::Failed(f) if f.finding.as_deref().unwrap().contains("expiry"))
        );
        assert!(matches!(outcome("REQ-DATA-03"), Outcome::Failed(_)));
        assert!(matches!(outcome("REQ-DATA-12"), Outcome::Failed(_)));
        assert!(matches!(outcome("REQ-DATA-02"), Outcome::Passed));
        assert!(matches!(outcome("REQ-DATA-11"), Outcome::Skipped(_)));
        assert!(cases.iter().all(|c| c.case.area() == "data"));
        assert_eq!(cases.len(), COVERED.len());
    }

    #[test]
    fn each_item_maps_to_a_listed_requirement() {
        let list = crate::requirements::Requirements::builtin().unwrap();
        for (id, _) in COVERED {
            assert!(
                list.get(id).is_some(),
                "{id} is not in docs/REQUIREMENTS.md"
            );
        }
        for item in [
            "ATR",
            "EF05 tag 02 card type",
            "EF05 tag 09 x",
            "PAN (tag 5A)",
            "EF06 tag 09 name",
            "DF01 EF05 tag 20",
        ] {
            let id = requirement_of(&finding(item, "r"));
            assert!(COVERED.iter().any(|(c, _)| *c == id), "{item} -> {id}");
        }
    }
}
