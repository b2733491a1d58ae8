//! The requirements the suite tests (docs/REQUIREMENTS.md): a markdown table whose rows
//! `| REQ-… | Clause | Requirement |` are the requirements, cases that name them (`req ID…`,
//! vectors/README.md), and a verdict for each requirement from its cases ([`verdicts`]).
//!
//! The repository's list is built into the binary ([`Requirements::builtin`]); another can
//! be read from a file ([`Requirements::load`], at most [`MAX_FILE_BYTES`], as vector files).
//! A row is a line starting with `|` whose first cell starts with `REQ-`; every other line
//! (headings, prose, the table's header and rule, other tables) is ignored. A row has exactly
//! three cells; `\|` is a `|` inside a cell.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use applet_sim::input::read_text;

use crate::identity::sm3;
use crate::vectors::{Case, MAX_FILE_BYTES};

mod verdict;

pub use self::verdict::{RequirementVerdict, Verdict, tally, verdicts};

/// docs/REQUIREMENTS.md as the binary was built with it.
pub const BUILTIN_TEXT: &str = include_str!("../../../docs/REQUIREMENTS.md");

/// How the built-in list is named in reports and errors.
pub const BUILTIN_SOURCE: &str = "docs/REQUIREMENTS.md (built in)";

/// One requirement: a row of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// `REQ-PIN-03`: what `req` lines name.
    pub id: String,
    /// Where the specification says it (`§5.1`); may be empty.
    pub clause: String,
    /// What is required.
    pub text: String,
    /// The line of its row.
    pub line: usize,
}

/// A list of requirements, where it came from and its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirements {
    /// The file it was read from, or [`BUILTIN_SOURCE`].
    pub source: String,
    /// The requirements, in the order of the file.
    pub list: Vec<Requirement>,
    /// SM3 of the file's bytes.
    pub digest: [u8; 32],
}

/// A requirements list that cannot be used, with where and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location(path, *line))]
pub struct RequirementsError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line (0 when it is about the whole file).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// A case naming a requirement the list does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{}:{line}: case {case:?} names requirement {id:?}, which is not in the requirements \
     list ({source_name}); fix the `req` line or give the list that has it with --requirements",
    file.display()
)]
pub struct UnknownRequirement {
    /// The case's file.
    pub file: PathBuf,
    /// The line of its `case` directive.
    pub line: usize,
    /// The case.
    pub case: String,
    /// The id it names.
    pub id: String,
    /// The list's source.
    pub source_name: String,
}

/// `file:line: `, or `file: ` when there is no line.
fn location(path: &Path, line: usize) -> String {
    if line == 0 {
        format!("{}: ", path.display())
    } else {
        format!("{}:{line}: ", path.display())
    }
}

impl Requirements {
    /// The list built into the binary (docs/REQUIREMENTS.md).
    ///
    /// # Errors
    /// [`RequirementsError`] when the built-in file is malformed (a test says it is not).
    pub fn builtin() -> Result<Self, RequirementsError> {
        Self::parse(BUILTIN_TEXT, Path::new(BUILTIN_SOURCE))
    }

    /// The list in the file at `path` (a regular file of at most [`MAX_FILE_BYTES`], UTF-8).
    ///
    /// # Errors
    /// [`RequirementsError`] naming the file (and the line, for a malformed row).
    pub fn load(path: &Path) -> Result<Self, RequirementsError> {
        let text = read_text(path, MAX_FILE_BYTES).map_err(|e| RequirementsError {
            path: path.to_owned(),
            line: 0,
            message: e.problem.to_string(),
        })?;
        Self::parse(&text, path)
    }

    /// The list in `text`; `source` names it in errors and reports.
    ///
    /// # Errors
    /// [`RequirementsError`] naming the line of a malformed row, of a second row with the
    /// same id, or the file when it has no row at all.
    pub fn parse(text: &str, source: &Path) -> Result<Self, RequirementsError> {
        let err = |line: usize, message: String| RequirementsError {
            path: source.to_owned(),
            line,
            message,
        };
        let mut list: Vec<Requirement> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (index, raw) in text.lines().enumerate() {
            let n = index + 1;
            let Some(row) = row(raw) else {
                continue;
            };
            let requirement = row.map_err(|m| err(n, m))?;
            if let Some(first) = seen.insert(requirement.id.clone(), n) {
                return Err(err(
                    n,
                    format!(
                        "requirement {:?} is already listed at line {first}",
                        requirement.id
                    ),
                ));
            }
            list.push(Requirement {
                line: n,
                ..requirement
            });
        }
        if list.is_empty() {
            return Err(err(
                0,
                "no requirements: a requirement is a table row `| REQ-… | Clause | \
                 Requirement |`"
                    .into(),
            ));
        }
        Ok(Self {
            source: source.display().to_string(),
            list,
            digest: sm3(text.as_bytes()),
        })
    }

    /// The requirement `id`, if listed.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&Requirement> {
        self.list.iter().find(|r| r.id == id)
    }

    /// Checks that every requirement `cases` name is listed.
    ///
    /// # Errors
    /// [`UnknownRequirement`] for the first case (in order) naming an id not in the list.
    pub fn check(&self, cases: &[Case]) -> Result<(), UnknownRequirement> {
        let ids: std::collections::HashSet<&str> = self.list.iter().map(|r| &*r.id).collect();
        for case in cases {
            if let Some(id) = case
                .requirements
                .iter()
                .find(|id| !ids.contains(id.as_str()))
            {
                return Err(UnknownRequirement {
                    file: case.file.to_path_buf(),
                    line: case.line,
                    case: case.name.clone(),
                    id: id.clone(),
                    source_name: self.source.clone(),
                });
            }
        }
        Ok(())
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.id, self.clause, self.text)
    }
}

/// True for the characters of a requirement id (as `req` lines take them).
fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.".contains(c)
}

/// The requirement on `line` when it is a requirement row (`None`: any other line), or why
/// the row is malformed. Its `line` is left 0.
fn row(line: &str) -> Option<Result<Requirement, String>> {
    let body = line.trim().strip_prefix('|')?;
    if !body.trim_start().starts_with("REQ-") {
        return None;
    }
    Some(parse_row(body))
}

/// A row's cells after its leading `|`.
fn parse_row(body: &str) -> Result<Requirement, String> {
    let mut cells = cells(body);
    if cells.len() != 3 {
        return Err(format!(
            "a requirement row has 3 cells, `| Id | Clause | Requirement |`; this one has {}",
            cells.len()
        ));
    }
    let text = cells.pop().unwrap_or_default();
    let clause = cells.pop().unwrap_or_default();
    let id = cells.pop().unwrap_or_default();
    if let Some(bad) = id.chars().find(|c| !is_id_char(*c)) {
        return Err(format!(
            "requirement id {id:?} has {bad:?}: an id is letters, digits, '-', '_' and '.' (as \
             `req` lines name it)"
        ));
    }
    if text.is_empty() {
        return Err(format!("requirement {id:?} has no text (its third cell)"));
    }
    Ok(Requirement {
        id,
        clause,
        text,
        line: 0,
    })
}

/// The cells of a row after its leading `|`: split at each `|` not escaped as `\|`, the
/// closing `|` optional, each trimmed, `\|` unescaped.
fn cells(body: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cell).trim().to_owned()),
            c => cell.push(c),
        }
    }
    if !cell.trim().is_empty() {
        cells.push(cell.trim().to_owned());
    }
    cells
}

#[cfg(test)]
mod tests;
