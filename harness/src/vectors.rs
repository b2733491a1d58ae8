//! The native vector format, version 1 (vectors/README.md): named cases of steps, one
//! directive per line, parsed with nom. Every error names file:line:column and what was
//! expected; unknown directives are errors.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::{space0, space1};
use nom::combinator::{all_consuming, rest};
use nom::multi::separated_list1;
use nom::sequence::terminated;
use nom::{IResult, Parser};

use crate::pattern::{DataPattern, Expect};
use crate::psam::Op;

/// The newest format version this parser reads (version 2 adds `psam`; it reads 1 too).
pub const FORMAT_VERSION: u32 = 2;

/// A vector file that cannot be read, with where and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location(path, *line, *column))]
pub struct VectorError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line (0 when the file cannot be read at all).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What was expected or what went wrong.
    pub message: String,
}

/// `file:line:column: `, or `file: ` when there is no line.
fn location(path: &Path, line: usize, column: usize) -> String {
    if line == 0 {
        format!("{}: ", path.display())
    } else {
        format!("{}:{line}:{column}: ", path.display())
    }
}

/// One step of a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// `reset [ATR pattern]`: a warm reset; the ATR is checked when a pattern is given.
    Reset {
        /// The expected ATR.
        atr: Option<DataPattern>,
    },
    /// `> APDU` then `< expected response`.
    Exchange {
        /// The command bytes (sent as they are, malformed or not).
        command: Vec<u8>,
        /// Variables inserted into the command before it is sent: (byte position, name),
        /// from `{name}` in the `>` line (version 2).
        inserts: Vec<(usize, String)>,
        /// The expected response.
        expect: Expect,
    },
    /// `psam OPERATION` then `< expected response` (version 2): a terminal crypto step by
    /// the software PSAM, whose answer is the first non-9000 answer of its commands or the
    /// last one.
    Psam {
        /// The operation.
        op: Op,
        /// The expected response.
        expect: Expect,
    },
}

/// A step and the line it was written on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The line of the step (the `>` line for an exchange).
    pub line: usize,
    /// What to do.
    pub kind: StepKind,
}

/// A named test case: run on a fresh card, steps in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The name, unique within its file.
    pub name: String,
    /// Tags (`tags ...`).
    pub tags: Vec<String>,
    /// The file it came from.
    pub file: Arc<Path>,
    /// The line of its `case` directive.
    pub line: usize,
    /// The card profile the file's `profile` directive asks for (version 2); `None`: any.
    pub profile: Option<String>,
    /// The steps.
    pub steps: Vec<Step>,
}

impl Case {
    /// The area a case reports under: its file's folder within the suite (e.g. `select`).
    #[must_use]
    pub fn area(&self) -> String {
        self.file
            .parent()
            .and_then(Path::file_name)
            .map_or_else(|| "-".into(), |n| n.to_string_lossy().into_owned())
    }
}

/// One parsed line.
#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    Version(&'a str),
    Case(&'a str),
    Profile(usize, &'a str),
    Tags(Vec<&'a str>),
    Reset(Option<(usize, &'a str)>),
    Command(usize, &'a str),
    Psam(usize, &'a str),
    Response(usize, &'a str),
    High(usize, &'a str, &'a str),
    Include(usize, &'a str),
}

/// A step waiting for its `<` line.
enum Awaiting {
    Command(Vec<u8>, Vec<(usize, String)>),
    Psam(Op),
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._-/:".contains(c)
}

fn is_keyword_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// `KEYWORD args`, with the column (1-based) of where the arguments start.
fn line(input: &str) -> IResult<&str, Line<'_>> {
    let col = |r: &str| input.len() - r.len() + 1;
    let (r, keyword) = alt((tag(">"), tag("<"), take_while1(is_keyword_char))).parse(input)?;
    let (args, _) = space0(r)?;
    let at = col(args);
    match keyword {
        ">" => Ok(("", Line::Command(at, args))),
        "<" => Ok(("", Line::Response(at, args))),
        "version" => all_consuming(terminated(
            take_while1(|c: char| c.is_ascii_digit()),
            space0,
        ))
        .map(Line::Version)
        .parse(args),
        "case" => all_consuming(terminated(take_while1(is_name_char), space0))
            .map(Line::Case)
            .parse(args),
        "tags" => all_consuming(terminated(
            separated_list1(space1, take_while1(is_name_char)),
            space0,
        ))
        .map(Line::Tags)
        .parse(args),
        "reset" => rest
            .map(|a: &str| (!a.trim().is_empty()).then_some((at, a)))
            .map(Line::Reset)
            .parse(args),
        "psam" => Ok(("", Line::Psam(at, args))),
        "select" | "verify" | "change-pin" | "read-record" | "read-binary" | "get-challenge" => {
            Ok(("", Line::High(at, keyword, args)))
        }
        "include" => all_consuming(terminated(
            take_while1(|c: char| !c.is_whitespace()),
            space0,
        ))
        .map(|p| Line::Include(at, p))
        .parse(args),
        "profile" => all_consuming(terminated(take_while1(is_name_char), space0))
            .map(|p| Line::Profile(at, p))
            .parse(args),
        _ => Err(nom::Err::Failure(nom::error::Error::new(
            input,
            nom::error::ErrorKind::Tag,
        ))),
    }
}

/// What each directive expects, for error messages.
fn usage(keyword: &str) -> Option<&'static str> {
    Some(match keyword {
        "version" => "version 1 or version 2",
        "case" => "case NAME (letters, digits and . _ - / :)",
        "tags" => "tags TAG...",
        "reset" => "reset [ATR pattern]",
        ">" => "> HEX APDU",
        "psam" => "psam OPERATION [ARGS] [tamper]",
        "profile" => "profile NAME (a built-in profile or a profile file)",
        "include" => "include FILE (steps, relative to this file)",
        "select" => "select mf|ssse|pki|cert|bank|pse | select aid HEX | select fid HEX",
        "verify" => "verify PIN [REF]",
        "change-pin" => "change-pin OLD NEW",
        "read-record" => "read-record SFI REC [LE]",
        "read-binary" => "read-binary SFI OFFSET LEN",
        "get-challenge" => "get-challenge N",
        "<" => "< [DATA] SW",
        _ => return None,
    })
}

/// Reads and parses a vector file.
///
/// # Errors
/// [`VectorError`] naming the file, line and column.
pub fn parse_file(path: &Path) -> Result<Vec<Case>, VectorError> {
    parse_str(&read_text(path)?, path)
}

/// A vector file's or script's text, or an error naming it.
///
/// # Errors
/// [`VectorError`] without a line.
pub fn read_text(path: &Path) -> Result<String, VectorError> {
    std::fs::read_to_string(path).map_err(|e| VectorError {
        path: path.to_owned(),
        line: 0,
        column: 0,
        message: format!("cannot read: {e}"),
    })
}

/// Parses vector text; `path` is used in errors and in the cases (and to find includes).
///
/// # Errors
/// [`VectorError`] naming the file, line and column.
pub fn parse_str(text: &str, path: &Path) -> Result<Vec<Case>, VectorError> {
    parse_inner(text, path, 0)
}

/// A command with the variables to insert: (bytes, [(position, name)]).
type Template = (Vec<u8>, Vec<(usize, String)>);

/// `>` text: hex with `{name}` for variables captured earlier in the case; (bytes, inserts)
/// or (column, message).
fn command_template(
    text: &str,
    column: usize,
    captured: &std::collections::BTreeSet<String>,
) -> Result<Template, (usize, String)> {
    let mut bytes = Vec::new();
    let mut inserts = Vec::new();
    let mut rest = text;
    let mut at = column;
    loop {
        let (hex, var) = match rest.find('{') {
            Some(open) => (rest.get(..open).unwrap_or_default(), Some(open)),
            None => (rest, None),
        };
        bytes.extend(apdu::parse_hex(hex).map_err(|e| match e {
            apdu::HexError::BadChar { ch, column } => (
                at + column - 1,
                format!("expected hex digits of a command APDU, found {ch:?}"),
            ),
            apdu::HexError::OddLength { digits } => {
                (at, format!("odd number of hex digits ({digits})"))
            }
        })?);
        let Some(open) = var else {
            return Ok((bytes, inserts));
        };
        let after = rest.get(open + 1..).unwrap_or_default();
        let close = after
            .find('}')
            .ok_or((at + open, "expected `}` after the variable name".to_owned()))?;
        let name = after.get(..close).unwrap_or_default();
        if !captured.contains(name) {
            return Err((
                at + open,
                format!(
                    "variable {{{name}}} is not captured before this line (use {{{name}:N}} in a `<` line)"
                ),
            ));
        }
        inserts.push((bytes.len(), name.to_owned()));
        at += open + close + 2;
        rest = after.get(close + 1..).unwrap_or_default();
    }
}

/// The APDU of a high-level step (version 2): `select NAME|aid HEX|fid HEX`, `verify PIN
/// [REF]`, `change-pin OLD NEW`, `read-record SFI REC [LE]`, `read-binary SFI OFFSET LEN`,
/// `get-challenge N`. Numbers are hex.
fn high_level(keyword: &str, args: &str) -> Result<Vec<u8>, String> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let byte = |w: &str| {
        u8::from_str_radix(w, 16).map_err(|_| format!("expected a hex byte, found {w:?}"))
    };
    let bcd = |pin: &str| -> Result<Vec<u8>, String> {
        applet_sim::pin::PinValue::from_digits(pin)
            .map(|v| v.to_bcd())
            .map_err(|e| e.to_string())
    };
    let with_data = |header: [u8; 4], data: &[u8]| -> Result<Vec<u8>, String> {
        let mut v = header.to_vec();
        v.push(u8::try_from(data.len()).map_err(|_| "more than 255 bytes of data".to_owned())?);
        v.extend_from_slice(data);
        Ok(v)
    };
    match (keyword, words.as_slice()) {
        ("select", ["mf"]) => Ok(vec![0x00, 0xA4, 0x00, 0x0C]),
        ("select", [name]) => {
            // SSC-CARD.md §3.1, §3.6, §3.7: the applications' names.
            let aid = match *name {
                "ssse" => "7378312E73682EC9E7BBE1B1A3D5CF",
                "pki" => "504B492EC9E7BBE1B1A3D5CF",
                "cert" => "53532E434552542E41444631",
                "bank" => "A000000333010101",
                "pse" => "315041592E5359532E4444463031",
                _ => {
                    return Err(format!(
                        "select: expected mf, ssse, pki, cert, bank, pse, aid HEX or fid HEX, found {name:?}"
                    ));
                }
            };
            with_data(
                [0x00, 0xA4, 0x04, 0x0C],
                &apdu::parse_hex(aid).map_err(|e| e.to_string())?,
            )
        }
        ("select", ["aid", hex]) => with_data(
            [0x00, 0xA4, 0x04, 0x0C],
            &apdu::parse_hex(hex).map_err(|e| e.to_string())?,
        ),
        ("select", ["fid", hex]) => {
            let fid = apdu::parse_hex(hex).map_err(|e| e.to_string())?;
            if fid.len() != 2 {
                return Err("select fid: expected two bytes".into());
            }
            with_data([0x00, 0xA4, 0x00, 0x0C], &fid)
        }
        ("verify", [pin]) => with_data([0x00, 0x20, 0x00, 0x00], &bcd(pin)?),
        ("verify", [pin, reference]) => with_data([0x00, 0x20, 0x00, byte(reference)?], &bcd(pin)?),
        ("change-pin", [old, new]) => {
            let mut data = bcd(old)?;
            data.push(0xFF);
            data.extend(bcd(new)?);
            with_data([0x80, 0x5E, 0x01, 0x00], &data)
        }
        ("read-record", [sfi, rec]) | ("read-record", [sfi, rec, _]) => {
            let le = words.get(2).map_or(Ok(0), |w| byte(w))?;
            let sfi = byte(sfi)?;
            if !(1..=30).contains(&sfi) {
                return Err("read-record: SFI 01..1E".into());
            }
            Ok(vec![0x00, 0xB2, byte(rec)?, (sfi << 3) | 0x04, le])
        }
        ("read-binary", [sfi, offset, len]) => {
            let sfi = byte(sfi)?;
            if !(1..=30).contains(&sfi) {
                return Err("read-binary: SFI 01..1E".into());
            }
            Ok(vec![0x00, 0xB0, 0x80 | sfi, byte(offset)?, byte(len)?])
        }
        ("get-challenge", [n]) => Ok(vec![0x00, 0x84, 0x00, 0x00, byte(n)?]),
        _ => Err(format!("expected `{}`", usage(keyword).unwrap_or(keyword))),
    }
}

fn parse_inner(text: &str, path: &Path, depth: usize) -> Result<Vec<Case>, VectorError> {
    let file: Arc<Path> = Arc::from(path);
    let err = |line: usize, column: usize, message: String| VectorError {
        path: path.to_owned(),
        line,
        column,
        message,
    };
    let mut cases: Vec<Case> = Vec::new();
    // A `>` or `psam` waiting for its `<`: (line, step).
    let mut awaiting: Option<(usize, Awaiting)> = None;
    let mut seen_directive = false;
    let mut profile: Option<String> = None;
    // Variables captured so far in the current case (`{name:N}` in a `<` line).
    let mut captured: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();

    for (index, raw) in text.lines().enumerate() {
        let n = index + 1;
        let content = raw.split('#').next().unwrap_or_default();
        let trimmed = content.trim_start();
        if trimmed.trim().is_empty() {
            continue;
        }
        let indent = content.len() - trimmed.len();
        let body = trimmed.trim_end();
        let parsed = line(body).map(|(_, l)| l).map_err(|_| {
            let keyword: String = body.chars().take_while(|c| !c.is_whitespace()).collect();
            match usage(&keyword) {
                Some(u) => err(
                    n,
                    indent + 1,
                    format!("malformed {keyword:?}: expected `{u}`"),
                ),
                None => err(
                    n,
                    indent + 1,
                    format!(
                        "unknown directive {keyword:?}: expected version, profile, case, tags, reset, psam, \
                         include, select, verify, change-pin, read-record, read-binary, get-challenge, > or <"
                    ),
                ),
            }
        })?;
        let col = |c: usize| indent + c;

        if let Some((cmd_line, pending)) = awaiting.take() {
            let Line::Response(c, pattern) = parsed else {
                return Err(err(
                    cmd_line,
                    1,
                    "expected a `<` line with the expected response after this command".into(),
                ));
            };
            let expect = Expect::parse(pattern, col(c)).map_err(|e| err(n, e.column, e.message))?;
            captured.extend(expect.data.capture_names().map(str::to_owned));
            let kind = match pending {
                Awaiting::Command(command, inserts) => StepKind::Exchange {
                    command,
                    inserts,
                    expect,
                },
                Awaiting::Psam(op) => StepKind::Psam { op, expect },
            };
            if let Some(case) = cases.last_mut() {
                case.steps.push(Step {
                    line: cmd_line,
                    kind,
                });
            }
            continue;
        }

        match parsed {
            Line::Version(v) => {
                if seen_directive {
                    return Err(err(n, indent + 1, "`version` must come first".into()));
                }
                if !(1..=FORMAT_VERSION).any(|k| v == k.to_string()) {
                    return Err(err(
                        n,
                        col(9),
                        format!(
                            "unsupported format version {v}: this harness reads versions 1 to {FORMAT_VERSION}"
                        ),
                    ));
                }
            }
            Line::Case(name) => {
                if let Some(prev) = cases.iter().find(|c| c.name == name) {
                    return Err(err(
                        n,
                        col(6),
                        format!("case {name:?} is already defined at line {}", prev.line),
                    ));
                }
                close_case(&cases, &err)?;
                captured.clear();
                cases.push(Case {
                    name: name.to_owned(),
                    tags: Vec::new(),
                    file: Arc::clone(&file),
                    line: n,
                    profile: profile.clone(),
                    steps: Vec::new(),
                });
            }
            Line::Profile(c, name) => {
                if !cases.is_empty() || profile.is_some() {
                    return Err(err(
                        n,
                        col(c),
                        "`profile` comes once, before the first case".into(),
                    ));
                }
                profile = Some(name.to_owned());
            }
            Line::Tags(tags) => {
                let case = cases
                    .last_mut()
                    .ok_or_else(|| outside_case(n, indent, &err))?;
                case.tags.extend(tags.into_iter().map(str::to_owned));
            }
            Line::Reset(atr) => {
                let case = cases
                    .last_mut()
                    .ok_or_else(|| outside_case(n, indent, &err))?;
                let atr = atr
                    .map(|(c, p)| {
                        DataPattern::parse(p, col(c)).map_err(|e| err(n, e.column, e.message))
                    })
                    .transpose()?;
                case.steps.push(Step {
                    line: n,
                    kind: StepKind::Reset { atr },
                });
            }
            Line::Command(c, hex) => {
                if cases.is_empty() {
                    return Err(outside_case(n, indent, &err));
                }
                let (command, inserts) = command_template(hex, col(c), &captured)
                    .map_err(|(column, m)| err(n, column, m))?;
                if command.is_empty() && inserts.is_empty() {
                    return Err(err(n, col(c), "expected the command APDU in hex".into()));
                }
                awaiting = Some((n, Awaiting::Command(command, inserts)));
            }
            Line::High(c, keyword, args) => {
                if cases.is_empty() {
                    return Err(outside_case(n, indent, &err));
                }
                let command = high_level(keyword, args).map_err(|m| err(n, col(c), m))?;
                awaiting = Some((n, Awaiting::Command(command, Vec::new())));
            }
            Line::Include(c, target) => {
                let Some(case) = cases.last_mut() else {
                    return Err(outside_case(n, indent, &err));
                };
                if depth >= 8 {
                    return Err(err(n, col(c), "includes nested more than 8 deep".into()));
                }
                let included = path.parent().unwrap_or(Path::new(".")).join(target);
                match std::fs::metadata(&included) {
                    Ok(m) if m.is_file() && m.len() <= 1 << 20 => {}
                    Ok(_) => {
                        return Err(err(
                            n,
                            col(c),
                            format!(
                                "{} is not a step file (a regular file of at most 1 MiB)",
                                included.display()
                            ),
                        ));
                    }
                    Err(e) => {
                        return Err(err(
                            n,
                            col(c),
                            format!("cannot read {}: {e}", included.display()),
                        ));
                    }
                }
                let text = std::fs::read_to_string(&included).map_err(|e| {
                    err(
                        n,
                        col(c),
                        format!("cannot read {}: {e}", included.display()),
                    )
                })?;
                let wrapped = format!("case included\n{text}");
                let inner = parse_inner(&wrapped, &included, depth + 1).map_err(|mut e| {
                    e.line = e.line.saturating_sub(1);
                    e
                })?;
                for step in inner.into_iter().flat_map(|c| c.steps) {
                    if let StepKind::Exchange { expect, .. } | StepKind::Psam { expect, .. } =
                        &step.kind
                    {
                        captured.extend(expect.data.capture_names().map(str::to_owned));
                    }
                    case.steps.push(Step { line: n, ..step });
                }
            }
            Line::Psam(c, args) => {
                if cases.is_empty() {
                    return Err(outside_case(n, indent, &err));
                }
                let op = Op::parse(args).map_err(|m| err(n, col(c), format!("psam: {m}")))?;
                awaiting = Some((n, Awaiting::Psam(op)));
            }
            Line::Response(_, _) => {
                return Err(err(
                    n,
                    indent + 1,
                    "a `<` expected response must follow a `>` command".into(),
                ));
            }
        }
        seen_directive = true;
    }
    if let Some((cmd_line, _)) = awaiting {
        return Err(err(
            cmd_line,
            1,
            "expected a `<` line with the expected response after this command".into(),
        ));
    }
    close_case(&cases, &err)?;
    Ok(cases)
}

fn outside_case(
    n: usize,
    indent: usize,
    err: &impl Fn(usize, usize, String) -> VectorError,
) -> VectorError {
    err(
        n,
        indent + 1,
        "steps and tags belong to a case: start one with `case NAME`".into(),
    )
}

/// A case must have at least one step.
fn close_case(
    cases: &[Case],
    err: &impl Fn(usize, usize, String) -> VectorError,
) -> Result<(), VectorError> {
    match cases.last() {
        Some(c) if c.steps.is_empty() => {
            Err(err(c.line, 1, format!("case {:?} has no steps", c.name)))
        }
        _ => Ok(()),
    }
}

/// Finds vector files (`*.apdu`) under `paths` (files are taken as given), sorted.
///
/// # Errors
/// [`VectorError`] for a path that does not exist or a folder that cannot be read.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, VectorError> {
    let mut found = Vec::new();
    for p in paths {
        let io = |e: std::io::Error| VectorError {
            path: p.clone(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
        };
        let meta = std::fs::metadata(p).map_err(io)?;
        if meta.is_dir() {
            walk(p, &mut found).map_err(io)?;
        } else {
            found.push(p.clone());
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, found)?;
        } else if path.extension().is_some_and(|e| {
            ["apdu", "scr", "scriptor", "script", "etsi"].contains(&&*e.to_string_lossy())
        }) {
            found.push(path);
        }
    }
    Ok(())
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reset { atr: None } => f.write_str("reset"),
            Self::Reset { atr: Some(p) } => write!(f, "reset {p}"),
            Self::Exchange { command, .. } => write!(f, "> {}", apdu::hex_compact(command)),
            Self::Psam { op, .. } => write!(f, "psam {}", op.text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Case>, VectorError> {
        parse_str(text, Path::new("t.apdu"))
    }

    #[test]
    fn parses_cases_steps_and_comments() {
        let cases = parse(
            "version 1\n# a comment\ncase ssse.select\n  tags select t0\n  reset 3B 6D *\n\
             > 00A4 040 00F 7378312E73682EC9E7BBE1B1A3D5CF  # SSSE\n< 611E\n\
             case two\n> 00B2010400\n< 6Cxx|6986\n",
        )
        .unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].tags, ["select", "t0"]);
        assert_eq!(cases[0].steps.len(), 2);
        assert_eq!(cases[0].steps[1].line, 6);
        let StepKind::Exchange {
            command, expect, ..
        } = &cases[0].steps[1].kind
        else {
            panic!("not an exchange")
        };
        assert_eq!(command.len(), 20);
        assert!(expect.matches(&[0x61, 0x1E]));
        assert_eq!(cases[1].line, 8);
    }

    #[test]
    fn errors_name_line_column_and_expectation() {
        #[rustfmt::skip]
        let table = [
            ("case a\n> 00A40000\nreset\n",        2, 1,  "expected a `<`"),
            ("case a\nfrobnicate 1\n",              2, 1,  "unknown directive \"frobnicate\""),
            ("> 00A40000\n< 9000\n",                1, 1,  "belong to a case"),
            ("case a\n> 00A4 0G00\n< 9000\n",       2, 9,  "found 'G'"),
            ("case a\n> 00A40000\n< 90\n",          3, 3,  "status word"),
            ("case a\n> 00A40000\n< 9000 1\n",      3, 3,  "odd number"),
            ("case a\n< 9000\n",                    2, 1,  "must follow a `>`"),
            ("case a\n",                            1, 1,  "has no steps"),
            ("case a\nreset\ncase a\nreset\n",      3, 6,  "already defined at line 1"),
            ("case a b\n",                          1, 1,  "malformed \"case\""),
            ("version 3\n",                         1, 9,  "unsupported format version 3"),
            ("case a\npsam ext-auth\n< 9000\n",     2, 6,  "psam: expected one of"),
            ("case a\npsam ext-auth 0G\n< 9000\n",  2, 6,  "expected a hex byte"),
            ("case a\npsam pin-reset 12x4\n<9000\n", 2, 6,  "expected a PIN"),
            ("case a\npsam block-card\n",          2, 1,  "expected a `<`"),
            ("case a\nreset\nversion 1\n",          3, 1,  "must come first"),
            ("case a\n  > 00A40000\n",              2, 1,  "expected a `<`"),
        ];
        for (text, line, column, message) in table {
            let e = parse(text).unwrap_err();
            assert_eq!((e.line, e.column), (line, column), "{text:?}: {e}");
            assert!(e.message.contains(message), "{text:?}: {e}");
            assert!(
                e.to_string()
                    .starts_with(&format!("t.apdu:{line}:{column}: "))
            );
        }
    }
}
