//! The file parser: lines in order, each step after its case, every `>` or `psam` followed by
//! its `<`; `include` splices a step file in; errors name file:line:column.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use applet_sim::Profile;

use super::budget::Budget;
use super::line::{Line, line, usage};
use super::model::{Case, Step, StepKind, VectorError};
use super::{Declared, FORMAT_VERSION, high_level};
use crate::declaration::{Context, Declaration, Feature};
use crate::pattern::{DataPattern, Expect};
use crate::psam::Op;

/// The longest line once its `$` values are replaced: a command or an answer of 65,536
/// bytes in hex with spaces, and room for the rest of the line.
const MAX_SUBSTITUTED_LINE: usize = 3 * 65_536 + 1_024;

/// The most times `repeat` repeats its steps.
const MAX_REPEAT: usize = 255;

/// How deep `include`s may nest.
const MAX_INCLUDE_DEPTH: usize = 8;

/// Parses vector text at include depth `depth`.
pub(super) fn parse(
    text: &str,
    path: &Path,
    depth: usize,
    budget: &mut Budget,
    declared: &Declared,
) -> Result<Vec<Case>, VectorError> {
    let mut parser = Parser {
        path,
        budget,
        file: Arc::from(path),
        depth,
        cases: Vec::new(),
        awaiting: None,
        seen_directive: false,
        profile: None,
        captured: BTreeSet::new(),
        declared: declared.clone(),
        file_needs: Vec::new(),
        repeat: None,
        names: HashMap::new(),
    };
    for (index, raw) in text.lines().enumerate() {
        let content = raw.split('#').next().unwrap_or_default();
        let trimmed = content.trim_start();
        if trimmed.trim().is_empty() {
            continue;
        }
        let at = At {
            n: index + 1,
            indent: content.len() - trimmed.len(),
        };
        parser.line(at, trimmed.trim_end())?;
    }
    parser.finish()
}

/// A step waiting for its `<` line.
enum Awaiting {
    Command(Vec<u8>, Vec<(usize, String)>),
    Psam(Op),
}

/// Where a line is: its number and indentation.
#[derive(Clone, Copy)]
struct At {
    n: usize,
    indent: usize,
}

impl At {
    /// The column in the file of column `c` of the unindented line.
    fn col(self, c: usize) -> usize {
        self.indent + c
    }
}

/// The state of a file being read.
struct Parser<'p> {
    path: &'p Path,
    /// The bounds of the run.
    budget: &'p mut Budget,
    file: Arc<Path>,
    depth: usize,
    cases: Vec<Case>,
    /// A `>` or `psam` waiting for its `<`: (line, step).
    awaiting: Option<(usize, Awaiting)>,
    seen_directive: bool,
    profile: Option<String>,
    /// Variables captured so far in the current case (`{name:N}` in a `<` line).
    captured: BTreeSet<String>,
    /// The card the cases are written against, for `$…` values and `needs`.
    declared: Declared,
    /// `needs` before the first case: every case of the file needs these.
    file_needs: Vec<Feature>,
    /// An open `repeat`: (its line, the count, the index of its first step in the case).
    repeat: Option<(usize, usize, usize)>,
    /// The line of each case's `case` directive, by name (names are unique in a file).
    names: HashMap<String, usize>,
}

impl Parser<'_> {
    fn err(&self, line: usize, column: usize, message: String) -> VectorError {
        VectorError::at(self.path, line, column, message)
    }

    fn missing_response(&self, cmd_line: usize) -> VectorError {
        self.err(
            cmd_line,
            1,
            "expected a `<` line with the expected response after this command".into(),
        )
    }

    /// The current case, or the error of a step outside any.
    fn case(&mut self, at: At) -> Result<&mut Case, VectorError> {
        let path = self.path;
        self.cases.last_mut().ok_or_else(|| {
            VectorError::at(
                path,
                at.n,
                at.indent + 1,
                "steps and tags belong to a case: start one with `case NAME`".into(),
            )
        })
    }

    /// Adds a parsed step to the current case, counted in the run's steps (an error at the
    /// line that crosses the bound).
    fn push_step(&mut self, at: At, step: Step) -> Result<(), VectorError> {
        self.budget
            .steps(1)
            .and_then(|()| self.budget.step_bytes(weight(&step)))
            .map_err(|m| VectorError::at(self.path, step.line, 1, m))?;
        self.case(at)?.steps.push(step);
        Ok(())
    }

    /// One non-blank line (comment removed, trimmed).
    fn line(&mut self, at: At, body: &str) -> Result<(), VectorError> {
        let body = if body.contains('$') {
            Cow::Owned(self.substitute(at, body)?)
        } else {
            Cow::Borrowed(body)
        };
        let body = body.as_ref();
        let parsed = line(body).map(|(_, l)| l).map_err(|_| {
            let keyword: String = body.chars().take_while(|c| !c.is_whitespace()).collect();
            let message = match usage(&keyword) {
                Some(u) => format!("malformed {keyword:?}: expected `{u}`"),
                None => format!(
                    "unknown directive {keyword:?}: expected version, profile, case, tags, reset, psam, \
                     include, needs, req, repeat, end, select, verify, change-pin, read-record, read-binary, \
                     get-challenge, > or <"
                ),
            };
            self.err(at.n, at.indent + 1, message)
        })?;
        if let Some((cmd_line, pending)) = self.awaiting.take() {
            return self.response(at, cmd_line, pending, parsed);
        }
        self.directive(at, parsed)?;
        self.seen_directive = true;
        Ok(())
    }

    /// The `<` line a pending step waits for.
    fn response(
        &mut self,
        at: At,
        cmd_line: usize,
        pending: Awaiting,
        parsed: Line<'_>,
    ) -> Result<(), VectorError> {
        let Line::Response(c, pattern) = parsed else {
            return Err(self.missing_response(cmd_line));
        };
        let expect =
            Expect::parse(pattern, at.col(c)).map_err(|e| self.err(at.n, e.column, e.message))?;
        self.captured
            .extend(expect.data.capture_names().map(str::to_owned));
        let kind = match pending {
            Awaiting::Command(command, inserts) => StepKind::Exchange {
                command,
                inserts,
                expect,
            },
            Awaiting::Psam(op) => StepKind::Psam { op, expect },
        };
        self.push_step(
            at,
            Step {
                line: cmd_line,
                kind,
            },
        )
    }

    fn directive(&mut self, at: At, parsed: Line<'_>) -> Result<(), VectorError> {
        let n = at.n;
        match parsed {
            Line::Version(v) => self.version(at, v),
            Line::Case(name) => self.start_case(at, name),
            Line::Profile(c, name) => {
                if !self.cases.is_empty() || self.profile.is_some() {
                    return Err(self.err(
                        n,
                        at.col(c),
                        "`profile` comes once, before the first case".into(),
                    ));
                }
                self.use_profile(at, c, name)
            }
            Line::Needs(c, features) => self.needs(at, c, &features),
            Line::Req(_, ids) => {
                let case = self.case(at)?;
                case.requirements.extend(ids.into_iter().map(str::to_owned));
                Ok(())
            }
            Line::Repeat(c, count) => self.start_repeat(at, c, count),
            Line::End => self.end_repeat(at),
            Line::Tags(tags) => {
                let case = self.case(at)?;
                case.tags.extend(tags.into_iter().map(str::to_owned));
                Ok(())
            }
            Line::Reset(atr) => {
                self.case(at)?;
                let atr = atr
                    .map(|(c, p)| {
                        DataPattern::parse(p, at.col(c))
                            .map_err(|e| self.err(n, e.column, e.message))
                    })
                    .transpose()?;
                self.push_step(
                    at,
                    Step {
                        line: n,
                        kind: StepKind::Reset { atr },
                    },
                )
            }
            Line::Command(c, hex) => {
                self.case(at)?;
                let (command, inserts) = command_template(hex, at.col(c), &self.captured)
                    .map_err(|(column, m)| self.err(n, column, m))?;
                if command.is_empty() && inserts.is_empty() {
                    return Err(self.err(n, at.col(c), "expected the command APDU in hex".into()));
                }
                self.awaiting = Some((n, Awaiting::Command(command, inserts)));
                Ok(())
            }
            Line::High(c, keyword, args) => {
                self.case(at)?;
                // `select bank` is the declared card's financial ADF (debit, credit, …).
                let bank;
                let args = if keyword == "select" && args.trim() == "bank" {
                    bank = format!("aid {}", self.substitute(at, "$aid.bank")?);
                    bank.as_str()
                } else {
                    args
                };
                let command =
                    high_level::command(keyword, args).map_err(|m| self.err(n, at.col(c), m))?;
                self.awaiting = Some((n, Awaiting::Command(command, Vec::new())));
                Ok(())
            }
            Line::Include(c, target) => self.include(at, c, target),
            Line::Psam(c, args) => {
                self.case(at)?;
                let op =
                    Op::parse(args).map_err(|m| self.err(n, at.col(c), format!("psam: {m}")))?;
                self.awaiting = Some((n, Awaiting::Psam(op)));
                Ok(())
            }
            Line::Response(_, _) => Err(self.err(
                n,
                at.indent + 1,
                "a `<` expected response must follow a `>` command".into(),
            )),
        }
    }

    fn version(&self, at: At, v: &str) -> Result<(), VectorError> {
        if self.seen_directive {
            return Err(self.err(at.n, at.indent + 1, "`version` must come first".into()));
        }
        if !(1..=FORMAT_VERSION).any(|k| v == k.to_string()) {
            return Err(self.err(
                at.n,
                at.col(9),
                format!(
                    "unsupported format version {v}: this harness reads versions 1 to {FORMAT_VERSION}"
                ),
            ));
        }
        Ok(())
    }

    fn start_case(&mut self, at: At, name: &str) -> Result<(), VectorError> {
        if let Some(line) = self.names.get(name) {
            return Err(self.err(
                at.n,
                at.col(6),
                format!("case {name:?} is already defined at line {line}"),
            ));
        }
        self.names.insert(name.to_owned(), at.n);
        self.close_case()?;
        self.captured.clear();
        let not_applicable = self.unmet(&self.file_needs);
        self.cases.push(Case {
            name: name.to_owned(),
            tags: Vec::new(),
            file: Arc::clone(&self.file),
            line: at.n,
            profile: self.profile.clone(),
            steps: Vec::new(),
            requirements: Vec::new(),
            not_applicable,
        });
        Ok(())
    }

    /// `profile NAME`: in a run without a declaration, the cases run on that card and its
    /// values are the `$…` ones; a declared run ignores it (`needs` says what applies).
    fn use_profile(&mut self, at: At, c: usize, name: &str) -> Result<(), VectorError> {
        if self.declared.fixed {
            return Ok(());
        }
        let profile = Profile::load(name).map_err(|e| self.err(at.n, at.col(c), e.to_string()))?;
        self.declared.declaration = Arc::new(Declaration::new(name, profile));
        self.profile = Some(name.to_owned());
        Ok(())
    }

    /// Why the declared card does not meet `needs`, if it does not.
    fn unmet(&self, needs: &[Feature]) -> Option<String> {
        needs
            .iter()
            .find(|f| !self.declared.declaration.has(**f))
            .map(|f| format!("needs {} (the declared card has none)", f.name()))
    }

    /// `needs FEATURE…`: of the case, or before the first case of every case.
    fn needs(&mut self, at: At, c: usize, names: &[&str]) -> Result<(), VectorError> {
        let mut features = Vec::new();
        for name in names {
            // A declared count (`needs $pin.ssse.tries-3`, a decimal number once replaced):
            // met when it is not negative; one below 0 made the case N/A as it was replaced.
            if name.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            features.push(Feature::named(name).ok_or_else(|| {
                let known: Vec<&str> = Feature::ALL.iter().map(|(n, _)| *n).collect();
                self.err(
                    at.n,
                    at.col(c),
                    format!("unknown feature {name:?}: expected {}", known.join(", ")),
                )
            })?);
        }
        if self.cases.is_empty() {
            self.file_needs.extend(features);
            return Ok(());
        }
        let unmet = self.unmet(&features);
        let case = self.case(at)?;
        if case.not_applicable.is_none() {
            case.not_applicable = unmet;
        }
        Ok(())
    }

    /// `repeat COUNT`: the steps up to `end` are repeated COUNT times (one level).
    fn start_repeat(&mut self, at: At, c: usize, count: &str) -> Result<(), VectorError> {
        if let Some((line, _, _)) = self.repeat {
            return Err(self.err(
                at.n,
                at.indent + 1,
                format!("repeat inside the repeat of line {line}: repeats do not nest"),
            ));
        }
        let n = count
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_REPEAT)
            .ok_or_else(|| {
                self.err(
                    at.n,
                    at.col(c),
                    format!("expected a count from 0 to {MAX_REPEAT}"),
                )
            })?;
        let start = self.case(at)?.steps.len();
        self.repeat = Some((at.n, n, start));
        Ok(())
    }

    /// `end`: the repeated steps, counted in the run's steps.
    fn end_repeat(&mut self, at: At) -> Result<(), VectorError> {
        let Some((_, count, start)) = self.repeat.take() else {
            return Err(self.err(at.n, at.indent + 1, "`end` without a `repeat`".into()));
        };
        let case = self.case(at)?;
        let body: Vec<Step> = case.steps.drain(start..).collect();
        let copies = body.len().saturating_mul(count.saturating_sub(1));
        let bytes = body
            .iter()
            .map(weight)
            .sum::<usize>()
            .saturating_mul(count.saturating_sub(1));
        self.budget
            .steps(copies)
            .and_then(|()| self.budget.step_bytes(bytes))
            .map_err(|m| VectorError::at(self.path, at.n, 1, m))?;
        let case = self.case(at)?;
        for _ in 0..count {
            case.steps.extend(body.iter().cloned());
        }
        Ok(())
    }

    /// The line with each `$…` replaced by the declared value (vectors/README.md, "Declared
    /// values"); `$lc` in a `>` line by the number of bytes after it.
    fn substitute(&mut self, at: At, body: &str) -> Result<String, VectorError> {
        let keyword: String = body.chars().take_while(|c| !c.is_whitespace()).collect();
        let context =
            if [">", "<", "reset"].contains(&keyword.as_str()) || body.starts_with(['>', '<']) {
                Context::Hex
            } else if ["verify", "change-pin"].contains(&keyword.as_str()) {
                Context::Bcd
            } else {
                Context::Text
            };
        let mut out = String::with_capacity(body.len() + 32);
        let mut lc_at = None;
        let mut rest = body;
        while let Some(dollar) = rest.find('$') {
            out.push_str(rest.get(..dollar).unwrap_or_default());
            let after = rest.get(dollar + 1..).unwrap_or_default();
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || "._+-".contains(c)))
                .unwrap_or(after.len());
            let name = after.get(..len).unwrap_or_default();
            let column = at.col(body.len() - rest.len() + dollar + 1);
            rest = after.get(len..).unwrap_or_default();
            if name == "lc" {
                if !body.starts_with('>') || lc_at.is_some() {
                    return Err(self.err(
                        at.n,
                        column,
                        "$lc goes once in a `>` line, where Lc is".into(),
                    ));
                }
                lc_at = Some(out.len());
                continue;
            }
            let value = self
                .declared
                .declaration
                .resolve(name, context)
                .map_err(|e| self.err(at.n, column, e.0))?;
            match value {
                Ok(v) => out.push_str(&v),
                Err(missing) => {
                    out.push_str(Declaration::placeholder(name));
                    let case = self.cases.last_mut().ok_or_else(|| {
                        VectorError::at(self.path, at.n, column, missing.0.clone())
                    })?;
                    case.not_applicable.get_or_insert(missing.0);
                }
            }
        }
        out.push_str(rest);
        if out.len() > MAX_SUBSTITUTED_LINE {
            return Err(self.err(
                at.n,
                at.indent + 1,
                format!(
                    "the line is over {MAX_SUBSTITUTED_LINE} characters once its $ values are \
                     replaced (an APDU or an answer holds at most 65,536 bytes)"
                ),
            ));
        }
        if let Some(i) = lc_at {
            let tail = out.get(i..).unwrap_or_default();
            if tail.contains('{') {
                return Err(self.err(
                    at.n,
                    at.indent + 1,
                    "$lc cannot count a {variable}: write Lc in hex".into(),
                ));
            }
            let digits = tail.chars().filter(|c| !c.is_whitespace()).count();
            let lc = u8::try_from(digits / 2).map_err(|_| {
                self.err(
                    at.n,
                    at.indent + 1,
                    "$lc: more than 255 bytes follow".into(),
                )
            })?;
            out.insert_str(i, &format!("{lc:02X} "));
        }
        Ok(out)
    }

    /// `include FILE`: the steps of a step file, relative to this one, as steps of this
    /// line; the variables they capture are known after it.
    fn include(&mut self, at: At, c: usize, target: &str) -> Result<(), VectorError> {
        let n = at.n;
        self.case(at)?;
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(self.err(n, at.col(c), "includes nested more than 8 deep".into()));
        }
        self.budget
            .include()
            .map_err(|m| self.err(n, at.col(c), m))?;
        let included = self.path.parent().unwrap_or(Path::new(".")).join(target);
        let text = self
            .budget
            .read(&included)
            .map_err(|e| self.err(n, at.col(c), format!("cannot read include: {e}")))?
            .map_err(|m| self.err(n, at.col(c), m))?;
        let wrapped = format!("case included\n{text}");
        let declared = self.declared.clone();
        let inner = parse(&wrapped, &included, self.depth + 1, self.budget, &declared).map_err(
            |mut e| {
                // The wrapper's `case` line is not the file's (an error of a deeper include is
                // already placed in its own file).
                if e.path == included {
                    e.line = e.line.saturating_sub(1);
                }
                e
            },
        )?;
        let unmet = inner.iter().find_map(|c| c.not_applicable.clone());
        let case = self.case(at)?;
        if let Some(reason) = unmet {
            case.not_applicable.get_or_insert(reason);
        }
        for c in &inner {
            case.requirements.extend(c.requirements.iter().cloned());
            case.tags.extend(c.tags.iter().cloned());
        }
        for step in inner.into_iter().flat_map(|c| c.steps) {
            if let StepKind::Exchange { expect, .. } | StepKind::Psam { expect, .. } = &step.kind {
                self.captured
                    .extend(expect.data.capture_names().map(str::to_owned));
            }
            self.case(at)?.steps.push(Step { line: n, ..step });
        }
        Ok(())
    }

    /// A case must have at least one step.
    fn close_case(&self) -> Result<(), VectorError> {
        if let Some((line, _, _)) = self.repeat {
            return Err(self.err(line, 1, "`repeat` without its `end`".into()));
        }
        match self.cases.last() {
            // A case that does not apply may have no steps left (a `repeat` of a count the
            // card lacks).
            Some(c) if c.steps.is_empty() && c.not_applicable.is_none() => {
                Err(self.err(c.line, 1, format!("case {:?} has no steps", c.name)))
            }
            _ => Ok(()),
        }
    }

    /// The end of the text: no step may still wait, the last case needs a step.
    fn finish(self) -> Result<Vec<Case>, VectorError> {
        if let Some((cmd_line, _)) = self.awaiting {
            return Err(self.missing_response(cmd_line));
        }
        if let Some((line, _, _)) = self.repeat {
            return Err(self.err(line, 1, "`repeat` without its `end`".into()));
        }
        self.close_case()?;
        Ok(self.cases)
    }
}

/// The memory a parsed step takes, about, for [`Budget::step_bytes`]: its command bytes
/// and its pattern items.
fn weight(step: &Step) -> usize {
    let item = std::mem::size_of::<crate::pattern::Item>();
    let items = |e: &Expect| (e.data.0.len() + e.sw.len()).saturating_mul(item);
    std::mem::size_of::<Step>()
        + match &step.kind {
            StepKind::Reset { atr } => atr.as_ref().map_or(0, |p| p.0.len().saturating_mul(item)),
            StepKind::Exchange {
                command, expect, ..
            } => command.len() + items(expect),
            StepKind::Psam { expect, .. } => items(expect),
        }
}

/// A command with the variables to insert: (bytes, [(position, name)]).
type Template = (Vec<u8>, Vec<(usize, String)>);

/// `>` text: hex with `{name}` for variables captured earlier in the case; (bytes, inserts)
/// or (column, message).
fn command_template(
    text: &str,
    column: usize,
    captured: &BTreeSet<String>,
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

#[cfg(test)]
mod tests;
