//! Durable card state (docs/SECURITY.md "Persistence and power loss"; issue "reliability"): one
//! storage interface with named write points, a versioned and checksummed state file, and
//! the media it lives on (a real file, or memory with power cuts for the tearing tests).
//!
//! The state file is a journal: a header, then records, each one datum whole (a PIN's value
//! and counter, a key's counter, an EF's content, the life-cycle state) with its own length
//! and CRC-32. Opening replays the records over the profile's initial state, the last record
//! of a datum winning. A write point appends one record; all write points but the two
//! "restore" ones (a counter back to its maximum: losing it only loses a try) are synced
//! before the command goes on, so a PIN's decrement is on the disk before its comparison.
//! When the journal grows, it is compacted: the whole state is written to a temporary file,
//! synced, renamed over the state file, and the folder synced.
//!
//! A torn last record (a power cut in the middle of an append) is dropped on opening: that
//! write never finished, so the command it belonged to never answered. Anything else wrong —
//! a bad header, a foreign profile, a bad record followed by more data — refuses the file and
//! leaves it exactly as it was.
//!
//! One job per file:
//! - `record.rs`: the record format, its CRC-32, encoding and decoding, and the parser of a
//!   state file (header, snapshot, journal, torn tail);
//! - `journal.rs`: the journal on a medium (append at a write point, compaction);
//! - `file.rs`: the state file on disk (checks, lock on the file, fsync, atomic replace
//!   through a private temporary file with an unpredictable name);
//! - `fault.rs`: the in-memory medium with power cuts of the tearing tests, built only for
//!   tests and the `testing` feature.
//!
//! This module holds what they share: the write points, the errors and the [`Medium`] trait.

#[cfg(any(test, feature = "testing"))]
mod fault;
mod file;
mod journal;
mod record;

use std::io;
use std::path::PathBuf;

#[cfg(any(test, feature = "testing"))]
pub use fault::{CutMode, MemMedium};
pub use file::{FileMedium, MAX_STATE_BYTES, create_private, effective_uid, write_private};
pub use journal::{Journal, OpenError};
pub use record::{Declaration, EfData, Record, fnv1a, parse_any};

pub use crate::model::{StorageFailure, WritePoint};

/// Why a state file was refused or a write failed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// I/O on the file.
    #[error("{path}: {what}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// The error.
        source: io::Error,
    },
    /// The file is not a state file of this card (corrupt, truncated, foreign, newer).
    #[error("{path}: {reason}; the file was left as it was")]
    Refused {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file is not safe to use: another user owns it, others can write it, it is not a
    /// regular file, it has several names (hard links), it is a dangling symlink, or it is
    /// too large to be a state file.
    #[error("{path}: {reason}; refused")]
    Unsafe {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Another process holds the file.
    #[error("{path}: in use by another process (locked)")]
    Locked {
        /// The file.
        path: PathBuf,
    },
    /// The file was made from another declaration than the profile it is opened with: a
    /// different profile, or the same one edited since (the card in the file is not the
    /// card the profile now declares).
    #[error(
        "{path}: {}; the file was left as it was",
        other_declaration(recorded, current)
    )]
    OtherDeclaration {
        /// The file.
        path: PathBuf,
        /// The declaration the file records.
        recorded: Box<Declaration>,
        /// The profile's declaration.
        current: Box<Declaration>,
    },
}

/// Why a state file's declaration is not the profile's, in words.
fn other_declaration(recorded: &Declaration, current: &Declaration) -> String {
    if recorded.name == current.name {
        format!(
            "made from profile {} as it was then (declaration {}), not as it is now ({}): the \
             profile was edited",
            recorded.name,
            recorded.short_digest(),
            current.short_digest()
        )
    } else {
        format!(
            "made from profile {} (declaration {}), not from {} ({})",
            recorded.name,
            recorded.short_digest(),
            current.name,
            current.short_digest()
        )
    }
}

// --- Media ------------------------------------------------------------------------------

/// What the state file lives on. Each call that changes bytes is one write operation (the
/// unit the tearing tests cut power at).
pub trait Medium: Send + Sync {
    /// The whole current content.
    ///
    /// # Errors
    /// I/O.
    fn read_all(&mut self) -> io::Result<Vec<u8>>;
    /// Appends bytes (not yet durable).
    ///
    /// # Errors
    /// I/O.
    fn append(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Makes every append so far durable.
    ///
    /// # Errors
    /// I/O; a failed sync is an error, never ignored.
    fn sync(&mut self) -> io::Result<()>;
    /// Replaces the whole content atomically and durably (temp file, sync, rename, sync of
    /// the folder).
    ///
    /// # Errors
    /// I/O.
    fn replace(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Cuts the content to `len` bytes, durably (dropping a torn tail on opening).
    ///
    /// # Errors
    /// I/O.
    fn truncate(&mut self, len: usize) -> io::Result<()>;
}
