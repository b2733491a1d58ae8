//! The native vector format, version 2 (vectors/README.md): named cases of steps, one
//! directive per line, parsed with nom. Every error names file:line:column and what was
//! expected; unknown directives are errors.
//!
//! [`model`]: cases, steps and [`VectorError`]; `parse`: the line grammar and the file
//! parser; `high_level`: the card-aware steps (`select ssse`, `verify PIN`) as APDUs.

use std::path::{Path, PathBuf};

mod high_level;
mod line;
pub mod model;
mod parse;

pub use self::model::{Case, Step, StepKind, VectorError};

/// The newest format version this parser reads (version 2 adds `psam`; it reads 1 too).
pub const FORMAT_VERSION: u32 = 2;

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
    std::fs::read_to_string(path).map_err(|e| VectorError::file(path, format!("cannot read: {e}")))
}

/// Parses vector text; `path` is used in errors and in the cases (and to find includes).
///
/// # Errors
/// [`VectorError`] naming the file, line and column.
pub fn parse_str(text: &str, path: &Path) -> Result<Vec<Case>, VectorError> {
    parse::parse(text, path, 0)
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
