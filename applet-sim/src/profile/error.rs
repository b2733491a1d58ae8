//! Where and why a profile cannot be used: file, line, column and message.

use std::ops::Range;

/// A profile that cannot be used, with where and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location(source_name, *line, *column))]
pub struct ProfileError {
    /// The file name, or `builtin:NAME`.
    pub source_name: String,
    /// 1-based line (0 when the error is about the whole file).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// `file:line:column: `, or `file: ` when there is no line (also used for vector files).
pub fn location(source: &str, line: usize, column: usize) -> String {
    if line == 0 {
        format!("{source}: ")
    } else {
        format!("{source}:{line}:{column}: ")
    }
}

/// The 1-based line and column of byte `offset` in `text`.
#[must_use]
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Turns a span of the profile text into an error at its line and column.
pub(super) struct Placer<'a> {
    pub(super) text: &'a str,
    pub(super) source_name: &'a str,
}

impl Placer<'_> {
    pub(super) fn error(&self, span: Range<usize>, message: String) -> ProfileError {
        let (line, column) = line_col(self.text, span.start);
        ProfileError {
            source_name: self.source_name.to_owned(),
            line,
            column,
            message,
        }
    }
}
