//! The bounds of a vector run (vectors/README.md, "Limits"): every file a regular file of at
//! most [`MAX_FILE_BYTES`], and over the whole run (each file, each include every time it is
//! included) at most [`MAX_RUN_BYTES`] read, [`MAX_RUN_STEPS`] steps and
//! [`MAX_RUN_INCLUDES`] includes. Include fan-out grows exponentially with depth (eight
//! includes in each of nine nested files make 8⁹ copies), so only totals bound it.

use std::collections::BTreeMap;
use std::path::Path;

use applet_sim::input::{InputError, read_text};

use crate::identity::{SuiteId, sm3, suite_digest};

/// The largest vector file, step file (`include`) or script read.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// The most bytes a run reads: its files and every include each time it is included. Parsed
/// steps take about 14 times their text (one item per pattern byte), so this keeps a run
/// under a few hundred MB.
pub const MAX_RUN_BYTES: u64 = 16 << 20;

/// The most steps a run holds (a step from an included file counts each time it is included).
pub const MAX_RUN_STEPS: usize = 250_000;

/// The most memory the parsed steps of a run may take (their command bytes and pattern
/// items, a `repeat` counting every copy, an include every time), so a short file of
/// `repeat`s of long answers or `$bin` values cannot take more than a long file could.
pub const MAX_RUN_STEP_BYTES: usize = 64 << 20;

/// The most `include` lines a run follows (at any depth, each time its file is read).
pub const MAX_RUN_INCLUDES: usize = 4096;

/// What a run has used of its bounds; one for the run, given to every file it reads. It
/// also keeps each file's SM3, for the run's identity ([`Budget::suite`]).
#[derive(Clone, Debug, Default)]
pub struct Budget {
    bytes: u64,
    steps: usize,
    step_bytes: usize,
    includes: usize,
    /// Each file read (by path as given, lossy UTF-8) and the SM3 of what was read.
    files: BTreeMap<String, [u8; 32]>,
}

impl Budget {
    /// A run that has read nothing yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a file of the run (a regular file of at most [`MAX_FILE_BYTES`]) and counts
    /// its bytes. The outer error is the file's own; the inner one, the run's bound.
    pub(crate) fn read(&mut self, path: &Path) -> Result<Result<String, String>, InputError> {
        let text = read_text(path, MAX_FILE_BYTES)?;
        let counted = self.bytes(text.len());
        if counted.is_ok() {
            self.files
                .insert(path.to_string_lossy().into_owned(), sm3(text.as_bytes()));
        }
        Ok(counted.map(|()| text))
    }

    /// The files read so far, as a suite: how many and their digest
    /// ([`crate::identity::suite_digest`], in path order).
    #[must_use]
    pub fn suite(&self) -> SuiteId {
        SuiteId {
            digest: suite_digest(self.files.iter().map(|(p, d)| (p.as_str(), d))),
            files: self.files.len(),
        }
    }

    /// Counts `n` bytes of vector text.
    pub(crate) fn bytes(&mut self, n: usize) -> Result<(), String> {
        self.bytes = self
            .bytes
            .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        if self.bytes > MAX_RUN_BYTES {
            return Err(format!(
                "the run reads more than {MAX_RUN_BYTES} bytes of vectors (includes count each \
                 time they are included)"
            ));
        }
        Ok(())
    }

    /// Counts `n` steps (of a script read as a whole; the vector parser counts its own).
    ///
    /// # Errors
    /// The message of a run that crosses [`MAX_RUN_STEPS`].
    pub fn steps(&mut self, n: usize) -> Result<(), String> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > MAX_RUN_STEPS {
            return Err(format!(
                "the run has more than {MAX_RUN_STEPS} steps (steps of an included file count \
                 each time it is included)"
            ));
        }
        Ok(())
    }

    /// Counts `n` bytes of parsed steps (see [`MAX_RUN_STEP_BYTES`]).
    pub(crate) fn step_bytes(&mut self, n: usize) -> Result<(), String> {
        self.step_bytes = self.step_bytes.saturating_add(n);
        if self.step_bytes > MAX_RUN_STEP_BYTES {
            return Err(format!(
                "the run's steps take more than {MAX_RUN_STEP_BYTES} bytes once parsed \
                 (commands and expected answers; each repeat and include counts again)"
            ));
        }
        Ok(())
    }

    /// Counts one `include` line.
    pub(crate) fn include(&mut self) -> Result<(), String> {
        self.includes += 1;
        if self.includes > MAX_RUN_INCLUDES {
            return Err(format!(
                "the run follows more than {MAX_RUN_INCLUDES} includes (at any depth, each \
                 time its file is read)"
            ));
        }
        Ok(())
    }
}
