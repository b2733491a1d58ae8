//! Writes cases in the native format (version 2): `convert` (a script's own expectations)
//! and `record` (what the card answered).

use std::fmt::Write as _;

use apdu::{Response, hex_spaced};

use crate::runner::StepTrace;
use crate::vectors::{Case, StepKind};

/// The answer as an exact pattern, except where it cannot repeat: the data of a GET
/// CHALLENGE answer and of a PSAM step (challenge-dependent) become `XX` bytes.
fn answer_pattern(answer: &[u8], varies: bool) -> String {
    match Response::split(answer) {
        None => "* xxxx".into(),
        Some((data, sw)) if varies => {
            let mut s: String = data.iter().map(|_| "XX ").collect();
            s.push_str(&apdu::hex_compact(&sw.to_bytes()));
            s
        }
        Some(_) => hex_spaced(answer),
    }
}

/// A command as written: hex with `{name}` where variables go.
fn command_text(command: &[u8], inserts: &[(usize, String)]) -> String {
    let mut out = String::new();
    let mut at = 0;
    for (pos, name) in inserts {
        out.push_str(&hex_spaced(command.get(at..*pos).unwrap_or_default()));
        out.push_str(&format!(" {{{name}}} "));
        at = *pos;
    }
    out.push_str(&hex_spaced(command.get(at..).unwrap_or_default()));
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Native vector text for `cases`. With `answers` (one trace per case, from a run with
/// `keep_going`), each step expects what the card answered; else the cases' own expectations.
#[must_use]
pub fn to_native(cases: &[Case], answers: Option<&[Vec<StepTrace>]>, comment: &str) -> String {
    let mut out = String::from("version 2\n");
    for line in comment.lines() {
        let _ = writeln!(out, "# {line}");
    }
    for (i, case) in cases.iter().enumerate() {
        let traces = answers.and_then(|a| a.get(i));
        let _ = writeln!(out, "\ncase {}", case.name);
        let mut tags = case.tags.clone();
        if traces.is_some() && !tags.iter().any(|t| t == "recorded") {
            tags.push("recorded".into());
        }
        if !tags.is_empty() {
            let _ = writeln!(out, "  tags {}", tags.join(" "));
        }
        for (j, step) in case.steps.iter().enumerate() {
            let answer = traces.and_then(|t| t.get(j)).map(|t| t.answer.as_slice());
            match (&step.kind, answer) {
                (StepKind::Reset { .. }, Some(atr)) => {
                    let _ = writeln!(out, "  reset {}", hex_spaced(atr));
                }
                (StepKind::Reset { atr: None }, None) => {
                    let _ = writeln!(out, "  reset");
                }
                (StepKind::Reset { atr: Some(p) }, None) => {
                    let _ = writeln!(out, "  reset {p}");
                }
                (
                    StepKind::Exchange {
                        command,
                        inserts,
                        expect,
                    },
                    a,
                ) => {
                    let _ = writeln!(out, "  > {}", command_text(command, inserts));
                    let challenge = command.get(1) == Some(&0x84) && command.first() == Some(&0x00);
                    let pattern =
                        a.map_or_else(|| expect.to_string(), |a| answer_pattern(a, challenge));
                    let _ = writeln!(out, "  < {pattern}");
                }
                (StepKind::Psam { op, expect }, a) => {
                    let _ = writeln!(out, "  psam {}", op.text);
                    let pattern = a.map_or_else(|| expect.to_string(), |a| answer_pattern(a, true));
                    let _ = writeln!(out, "  < {pattern}");
                }
            }
        }
    }
    out
}
