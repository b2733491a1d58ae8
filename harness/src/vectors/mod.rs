//! The native vector format, version 2 (vectors/README.md): named cases of steps, one
//! directive per line, parsed with nom. Every error names file:line:column and what was
//! expected; unknown directives are errors.
//!
//! [`model`]: cases, steps and [`VectorError`]; `parse`: the line grammar and the file
//! parser; `high_level`: the card-aware steps (`select ssse`, `verify PIN`) as APDUs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::declaration::Declaration;

mod budget;
mod high_level;
mod line;
pub mod model;
mod parse;

pub use self::budget::{
    Budget, MAX_FILE_BYTES, MAX_RUN_BYTES, MAX_RUN_INCLUDES, MAX_RUN_STEP_BYTES, MAX_RUN_STEPS,
};
pub use self::model::{Case, Step, StepKind, VectorError};

/// The newest format version this parser reads (version 2 adds `psam`, `include` and the
/// high-level steps; version 3 declared values, `needs`, `req` and `repeat`; it reads every
/// older one).
pub const FORMAT_VERSION: u32 = 3;

/// The card the cases are written against: its `$…` values and features.
#[derive(Clone, Debug)]
pub struct Declared {
    /// The declaration.
    pub declaration: Arc<Declaration>,
    /// True when the run declares the card (`--profile`): a file's `profile` line is then
    /// ignored and every case is for this card. False: the built-in card, and a file's
    /// `profile` line puts its cases on that card.
    pub fixed: bool,
}

impl Declared {
    /// The built-in default card, which a file's `profile` line replaces.
    #[must_use]
    pub fn builtin() -> Self {
        let name = applet_sim::profile::DEFAULT_PROFILE;
        let profile = applet_sim::Profile::builtin(name)
            .unwrap_or_else(|e| unreachable!("the built-in profile loads (a test says so): {e}"));
        Self {
            declaration: Arc::new(Declaration::new(name, profile)),
            fixed: false,
        }
    }

    /// The card the run declares (`--profile`): every case is for it.
    #[must_use]
    pub fn fixed(declaration: Declaration) -> Self {
        Self {
            declaration: Arc::new(declaration),
            fixed: true,
        }
    }
}

/// Reads and parses a vector file (a run of its own: [`Budget`]).
///
/// # Errors
/// [`VectorError`] naming the file, line and column.
pub fn parse_file(path: &Path) -> Result<Vec<Case>, VectorError> {
    parse_file_in(path, &mut Budget::new())
}

/// Reads and parses a vector file as part of a run whose bounds `budget` keeps.
///
/// # Errors
/// [`VectorError`] naming the file, line and column.
pub fn parse_file_in(path: &Path, budget: &mut Budget) -> Result<Vec<Case>, VectorError> {
    let text = read_text_in(path, budget)?;
    parse_str_in(&text, path, budget, &Declared::builtin())
}

/// A vector file's or script's text (a regular file of at most [`MAX_FILE_BYTES`]), or an
/// error naming it.
///
/// # Errors
/// [`VectorError`] without a line.
pub fn read_text(path: &Path) -> Result<String, VectorError> {
    read_text_in(path, &mut Budget::new())
}

/// [`read_text`], its bytes counted in a run's `budget`.
///
/// # Errors
/// [`VectorError`] without a line: the file cannot be read, or the run has read too much.
pub fn read_text_in(path: &Path, budget: &mut Budget) -> Result<String, VectorError> {
    budget
        .read(path)
        .map_err(|e| VectorError::file(path, e.problem.to_string()))?
        .map_err(|m| VectorError::file(path, m))
}

/// Parses vector text; `path` is used in errors and in the cases (and to find includes).
///
/// # Errors
/// [`VectorError`] naming the file, line and column.
pub fn parse_str(text: &str, path: &Path) -> Result<Vec<Case>, VectorError> {
    parse::parse(text, path, 0, &mut Budget::new(), &Declared::builtin())
}

/// [`parse_str`] as part of a run whose bounds `budget` keeps (the text itself is counted
/// by whoever read it), for the card `declared`.
///
/// # Errors
/// [`VectorError`] naming the file, line and column.
pub fn parse_str_in(
    text: &str,
    path: &Path,
    budget: &mut Budget,
    declared: &Declared,
) -> Result<Vec<Case>, VectorError> {
    parse::parse(text, path, 0, budget, declared)
}

/// Finds vector files (`*.apdu`) under `paths` (files are taken as given), sorted.
///
/// # Errors
/// [`VectorError`] for a path that does not exist or a folder that cannot be read.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, VectorError> {
    let mut found = Vec::new();
    for p in paths {
        let io = |e: std::io::Error| VectorError::file(p, format!("cannot read: {e}"));
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
