//! Scripts users already have (docs/PROTOCOLS.md §9), read as they are: pcsc-tools
//! `scriptor` scripts, Java Card `apdutool` `.scr` scripts, and ETSI TS 101 955 (Annex B)
//! scripts with their expectations. Each script becomes one case named after the file.
//!
//! Detection: by extension (`.scriptor`/`.script`: scriptor, `.etsi`: ETSI, `.apdu`: native),
//! else by content (`case` directives: native; `CMD`/`RST` lines: ETSI; nothing but hex lines,
//! `reset` and `exit`: scriptor; `;`-terminated statements or `0x` bytes: apdutool). `.scr`
//! is both apdutool's and, by habit, scriptor's extension: its content decides.
//!
//! A step without an expectation (scriptor and apdutool have none) expects "any answer" —
//! `* xxxx`: the run then shows every command reached the card and got a status word, and
//! `--trace` prints the answers; `ssc-harness record` turns the answers into expectations.

use std::path::Path;
use std::sync::Arc;

use crate::pattern::Expect;
use crate::vectors::{self, Budget, Case, Declared, Step, StepKind, VectorError};

/// A script format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The native vector format (vectors/README.md).
    Native,
    /// pcsc-tools `scriptor`: hex APDU lines, `reset`, `exit`, `#` comments, `\` continuation.
    Scriptor,
    /// Java Card `apdutool`: `CLA INS P1 P2 LC [data] LE;` in `0x` hex or decimal,
    /// `powerup;`, `powerdown;`, `//` and `/* */` comments.
    Apdutool,
    /// ETSI TS 101 955 Annex B: `RST`, `OFF`, `INI`, `REM`, `CMD hex [data] (SW, SW)`.
    Etsi,
}

impl Format {
    /// The format of a file, by extension and then by content (`.scr`, apdutool's and
    /// often scriptor's, by content).
    #[must_use]
    pub fn detect(path: &Path, text: &str) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("apdu") => return Self::Native,
            Some("scriptor" | "script") => return Self::Scriptor,
            Some("etsi") => return Self::Etsi,
            _ => {}
        }
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("//"))
            .collect();
        let starts = |w: &str| lines.iter().any(|l| l.split_whitespace().next() == Some(w));
        if starts("case") || starts("version") {
            Self::Native
        } else if starts("CMD") || starts("RST") || starts("REM") {
            Self::Etsi
        } else if is_scriptor(text) {
            Self::Scriptor
        } else if lines.iter().any(|l| l.ends_with(';') || l.contains("0x"))
            || path.extension().is_some_and(|e| e == "scr")
        {
            // Neither (a mistake to report): `.scr` is read as apdutool's, the rest as scriptor.
            Self::Apdutool
        } else {
            Self::Scriptor
        }
    }

    /// The name in messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Native => "native vectors",
            Self::Scriptor => "scriptor script",
            Self::Apdutool => "apdutool script",
            Self::Etsi => "ETSI TS 101 955 script",
        }
    }
}

/// Parses a file in any supported format.
///
/// # Errors
/// [`VectorError`] naming the file, line and column.
pub fn parse_file(path: &Path) -> Result<Vec<Case>, VectorError> {
    parse_file_in(path, &mut Budget::new(), &Declared::builtin())
}

/// [`parse_file`] as part of a run whose bounds `budget` keeps (vectors/README.md,
/// "Limits"): the file's bytes and steps, and for native vectors its includes.
///
/// # Errors
/// [`VectorError`] naming the file, line and column (for a bound, the line that crosses it).
pub fn parse_file_in(
    path: &Path,
    budget: &mut Budget,
    declared: &Declared,
) -> Result<Vec<Case>, VectorError> {
    let text = vectors::read_text_in(path, budget)?;
    match Format::detect(path, &text) {
        Format::Native => vectors::parse_str_in(&text, path, budget, declared),
        f => {
            let cases = parse_script(&text, path, f)?;
            for step in cases.iter().flat_map(|c| &c.steps) {
                budget
                    .steps(1)
                    .map_err(|m| VectorError::at(path, step.line, 1, m))?;
            }
            Ok(cases)
        }
    }
}

/// Parses text in the format [`Format::detect`] finds for it.
///
/// # Errors
/// [`VectorError`] naming the file, line and column.
pub fn parse_str(text: &str, path: &Path) -> Result<Vec<Case>, VectorError> {
    match Format::detect(path, text) {
        Format::Native => vectors::parse_str(text, path),
        f => parse_script(text, path, f),
    }
}

fn any_answer() -> Expect {
    // `*` then a wildcard status word: parses by construction.
    Expect::parse("* xxxx", 1).unwrap_or_else(|_| Expect {
        data: crate::pattern::DataPattern::default(),
        sw: Vec::new(),
    })
}

/// True when every logical line of `text` is what scriptor reads (a hex APDU, `reset`,
/// `exit`) and there is at least one: an apdutool statement ends with `;`, which is not hex.
fn is_scriptor(text: &str) -> bool {
    let lines = logical_lines(text, &["#"]);
    !lines.is_empty()
        && lines.iter().all(|(_, line)| {
            matches!(line.to_ascii_lowercase().as_str(), "reset" | "exit")
                || apdu::parse_hex(line).is_ok()
        })
}

/// Logical lines: comments removed, `\` continuations joined; (first line number, text).
fn logical_lines(text: &str, comment: &[&str]) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let mut line = raw;
        for c in comment {
            if let Some(at) = line.find(c) {
                line = line.get(..at).unwrap_or_default();
            }
        }
        let line = line.trim();
        let (body, continues) = match line.strip_suffix('\\') {
            Some(b) => (b.trim_end(), true),
            None => (line, false),
        };
        let entry = pending.get_or_insert_with(|| (i + 1, String::new()));
        if !entry.1.is_empty() && !body.is_empty() {
            entry.1.push(' ');
        }
        entry.1.push_str(body);
        if !continues
            && let Some(done) = pending.take()
            && !done.1.is_empty()
        {
            out.push(done);
        }
    }
    if let Some(done) = pending.filter(|p| !p.1.is_empty()) {
        out.push(done);
    }
    out
}

fn script_case(path: &Path, steps: Vec<Step>, format: Format) -> Result<Vec<Case>, VectorError> {
    let name = path
        .file_stem()
        .map_or_else(|| "script".into(), |s| s.to_string_lossy().into_owned());
    if steps.is_empty() {
        return Err(VectorError::at(
            path,
            1,
            1,
            format!("the {} sends no command", format.name()),
        ));
    }
    Ok(vec![Case {
        name,
        tags: vec!["imported".into()],
        file: Arc::from(path),
        line: 1,
        profile: None,
        steps,
        requirements: Vec::new(),
        not_applicable: None,
    }])
}

fn parse_script(text: &str, path: &Path, format: Format) -> Result<Vec<Case>, VectorError> {
    let steps = match format {
        Format::Native => return vectors::parse_str(text, path),
        Format::Scriptor => scriptor_steps(text, path)?,
        Format::Apdutool => apdutool_steps(text, path)?,
        Format::Etsi => etsi_steps(text, path)?,
    };
    script_case(path, steps, format)
}

/// A step that sends `command` and accepts any answer.
fn any_answer_step(line: usize, command: Vec<u8>) -> Step {
    Step {
        line,
        kind: StepKind::Exchange {
            command,
            inserts: Vec::new(),
            expect: any_answer(),
        },
    }
}

/// A reset step that does not check the ATR.
fn reset_step(line: usize) -> Step {
    Step {
        line,
        kind: StepKind::Reset { atr: None },
    }
}

/// scriptor: hex APDU lines, `reset`, `exit`.
fn scriptor_steps(text: &str, path: &Path) -> Result<Vec<Step>, VectorError> {
    let mut steps = Vec::new();
    for (n, line) in logical_lines(text, &["#"]) {
        match line.to_ascii_lowercase().as_str() {
            "reset" => steps.push(reset_step(n)),
            "exit" => break,
            _ => {
                let command = apdu::parse_hex(&line).map_err(|e| {
                    VectorError::at(
                        path,
                        n,
                        1,
                        format!("expected a hex APDU, `reset` or `exit`: {e}"),
                    )
                })?;
                steps.push(any_answer_step(n, command));
            }
        }
    }
    Ok(steps)
}

/// apdutool: statements end with `;` and may span lines.
fn apdutool_steps(text: &str, path: &Path) -> Result<Vec<Step>, VectorError> {
    let cleaned = strip_block_comments(text);
    let mut steps = Vec::new();
    let mut statement = String::new();
    let mut first_line = 0;
    for (i, raw) in cleaned.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or_default();
        for (j, part) in line.split(';').enumerate() {
            if j > 0 {
                steps.extend(apdutool_statement(&statement, first_line, path)?);
                statement.clear();
            }
            if statement.trim().is_empty() && !part.trim().is_empty() {
                first_line = i + 1;
            }
            statement.push(' ');
            statement.push_str(part);
        }
    }
    if !statement.trim().is_empty() {
        return Err(VectorError::at(
            path,
            first_line,
            1,
            "expected `;` at the end of the statement".into(),
        ));
    }
    Ok(steps)
}

/// ETSI TS 101 955 Annex B: `RST`, `OFF`, `INI`, `REM`, `CMD`.
fn etsi_steps(text: &str, path: &Path) -> Result<Vec<Step>, VectorError> {
    let mut steps = Vec::new();
    for (n, line) in logical_lines(text, &[]) {
        let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
        match word.to_ascii_uppercase().as_str() {
            "REM" | "INI" | "OFF" => {}
            "RST" => steps.push(reset_step(n)),
            "CMD" => steps.push(etsi_command(rest, n, path)?),
            other => {
                return Err(VectorError::at(
                    path,
                    n,
                    1,
                    format!("expected RST, OFF, INI, REM or CMD, found {other:?}"),
                ));
            }
        }
    }
    Ok(steps)
}

/// Removes `/* ... */` comments, keeping line breaks (so line numbers stay right).
fn strip_block_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(rest.get(..start).unwrap_or_default());
        let after = rest.get(start + 2..).unwrap_or_default();
        let end = after.find("*/").map_or(after.len(), |e| e + 2);
        let comment = after.get(..end).unwrap_or_default();
        out.extend(comment.chars().filter(|c| *c == '\n'));
        rest = after.get(end..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// One apdutool statement: a command word or `CLA INS P1 P2 LC [data] LE`. apdutool always
/// writes LE; `0x7F` (its "any length") is dropped, so a command without response data stays
/// case 1 or 3; any other LE is sent.
fn apdutool_statement(
    statement: &str,
    line: usize,
    path: &Path,
) -> Result<Option<Step>, VectorError> {
    let err = |column: usize, message: String| VectorError::at(path, line, column, message);
    let words: Vec<&str> = statement.split_whitespace().collect();
    match words.first().map(|w| w.to_ascii_lowercase()).as_deref() {
        None => return Ok(None),
        Some("powerup") => return Ok(Some(reset_step(line))),
        Some("powerdown" | "contacted" | "contactless" | "delay" | "echo" | "output") => {
            return Ok(None);
        }
        _ => {}
    }
    let bytes = words
        .iter()
        .map(|w| {
            let parsed = match w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
                Some(h) => u8::from_str_radix(h, 16).ok(),
                None => w.parse::<u8>().ok(),
            };
            parsed.ok_or_else(|| err(1, format!("expected a byte (0x.. or decimal), found {w:?}")))
        })
        .collect::<Result<Vec<u8>, _>>()?;
    let (header, rest) = bytes
        .split_first_chunk::<4>()
        .ok_or_else(|| err(1, "expected CLA INS P1 P2 LC [data] LE".into()))?;
    let (&lc, rest) = rest
        .split_first()
        .ok_or_else(|| err(1, "expected LC after CLA INS P1 P2".into()))?;
    let (data, le) = rest
        .split_at_checked(usize::from(lc))
        .ok_or_else(|| err(1, format!("LC says {lc} data bytes, {} follow", rest.len())))?;
    let le = match le {
        [] => None,
        [0x7F] => None,
        [le] => Some(*le),
        _ => {
            return Err(err(
                1,
                format!("{} bytes after the data, expected one LE", le.len()),
            ));
        }
    };
    let mut command = header.to_vec();
    if lc > 0 {
        command.push(lc);
        command.extend_from_slice(data);
    }
    command.extend(le);
    Ok(Some(any_answer_step(line, command)))
}

/// `CMD hex [expected data] (SW, SW)`: `XX` is any byte; without `[...]` the data is not
/// checked; without `(...)` any status word.
fn etsi_command(rest: &str, line: usize, path: &Path) -> Result<Step, VectorError> {
    let err = |column: usize, message: String| VectorError::at(path, line, column, message);
    let cmd_end = rest.find(['[', '(']).unwrap_or(rest.len());
    let command = apdu::parse_hex(rest.get(..cmd_end).unwrap_or_default())
        .map_err(|e| err(5, format!("expected the command in hex: {e}")))?;
    let between = |open: char, close: char| -> Result<Option<&str>, VectorError> {
        match rest.find(open) {
            None => Ok(None),
            Some(a) => {
                let b = rest
                    .get(a..)
                    .and_then(|r| r.find(close))
                    .ok_or_else(|| err(a + 5, format!("expected `{close}`")))?;
                Ok(rest.get(a + 1..a + b))
            }
        }
    };
    let data = between('[', ']')?.map_or_else(|| "*".to_owned(), str::to_owned);
    let sws: Vec<String> = between('(', ')')?.map_or_else(
        || vec!["xxxx".to_owned()],
        |s| {
            s.split(',')
                .map(|w| w.split_whitespace().collect::<String>())
                .collect()
        },
    );
    let pattern = format!("{data} {}", sws.join("|"));
    let expect = Expect::parse(&pattern, 1)
        .map_err(|e| err(1, format!("expectation {pattern:?}: {}", e.message)))?;
    Ok(Step {
        line,
        kind: StepKind::Exchange {
            command,
            inserts: Vec::new(),
            expect,
        },
    })
}
