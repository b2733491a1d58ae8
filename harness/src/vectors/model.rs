//! The vector model: cases of steps, and the error that names where a file is wrong.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::pattern::{DataPattern, Expect};
use crate::psam::Op;

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

impl VectorError {
    /// An error at `line`:`column` of `path`.
    #[must_use]
    pub fn at(path: &Path, line: usize, column: usize, message: String) -> Self {
        Self {
            path: path.to_owned(),
            line,
            column,
            message,
        }
    }

    /// An error about the whole file (it cannot be read).
    #[must_use]
    pub fn file(path: &Path, message: String) -> Self {
        Self::at(path, 0, 0, message)
    }
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
    /// The requirements it tests (`req`, docs/REQUIREMENTS.md).
    pub requirements: Vec<String>,
    /// Why it does not apply to the declared card (a `needs` the declaration lacks, or a
    /// declared value it does not have); such a case is reported N/A and not run.
    pub not_applicable: Option<String>,
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
