//! A verdict per requirement from the outcomes of the cases that name it.

use std::collections::HashMap;
use std::fmt;

use super::{Requirement, Requirements};
use crate::runner::{CaseResult, Outcome};

/// What the run says of a requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// At least one of its cases ran, and every one that ran passed.
    Pass,
    /// One of its cases failed.
    Fail,
    /// Every one of its cases was not applicable to the declared card.
    NotApplicable,
    /// No case of the run names it, or none of them ran (skipped, or skipped and not
    /// applicable).
    NotTested,
}

impl Verdict {
    /// Every verdict, in the order reports count them.
    pub const ALL: [Self; 4] = [Self::Pass, Self::Fail, Self::NotApplicable, Self::NotTested];

    /// The verdict of a requirement whose cases ended as `outcomes`.
    #[must_use]
    pub fn of<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> Self {
        let (mut passed, mut not_applicable, mut other) = (false, false, false);
        for outcome in outcomes {
            match outcome {
                Outcome::Failed(_) => return Self::Fail,
                Outcome::Passed => passed = true,
                Outcome::NotApplicable(_) => not_applicable = true,
                Outcome::Skipped(_) => other = true,
            }
        }
        match (passed, not_applicable, other) {
            (true, _, _) => Self::Pass,
            (false, true, false) => Self::NotApplicable,
            _ => Self::NotTested,
        }
    }

    /// As reports write it: `PASS`, `FAIL`, `N/A`, `NOT TESTED`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Fail => "FAIL",
            Self::NotApplicable => "N/A",
            Self::NotTested => "NOT TESTED",
        }
    }

    /// A name for identifiers and CSS classes: `pass`, `fail`, `na`, `not-tested`.
    #[must_use]
    pub fn slug(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::NotApplicable => "na",
            Self::NotTested => "not-tested",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A requirement, its verdict and the cases of the run that name it.
#[derive(Clone, Debug)]
pub struct RequirementVerdict<'a> {
    /// The requirement.
    pub requirement: &'a Requirement,
    /// Its verdict.
    pub verdict: Verdict,
    /// The cases of the run naming it, in run order.
    pub cases: Vec<&'a CaseResult>,
}

/// Every requirement of `list`, in its order, with its verdict from `results`.
#[must_use]
pub fn verdicts<'a>(
    list: &'a Requirements,
    results: &'a [CaseResult],
) -> Vec<RequirementVerdict<'a>> {
    let mut by_id: HashMap<&str, Vec<&CaseResult>> = HashMap::new();
    for r in results {
        let mut named: Vec<&str> = r.case.requirements.iter().map(String::as_str).collect();
        named.sort_unstable();
        named.dedup();
        for id in named {
            by_id.entry(id).or_default().push(r);
        }
    }
    list.list
        .iter()
        .map(|requirement| {
            let cases = by_id.remove(requirement.id.as_str()).unwrap_or_default();
            RequirementVerdict {
                requirement,
                verdict: Verdict::of(cases.iter().map(|r| &r.outcome)),
                cases,
            }
        })
        .collect()
}

/// How many requirements have each verdict, in [`Verdict::ALL`]'s order.
#[must_use]
pub fn tally(verdicts: &[RequirementVerdict<'_>]) -> [(Verdict, usize); 4] {
    Verdict::ALL.map(|v| (v, verdicts.iter().filter(|r| r.verdict == v).count()))
}
