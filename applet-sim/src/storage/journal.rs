//! The journal: the card's storage on a medium. Opening parses the state file (or draws the
//! salt of a new one, which the caller then writes whole; a torn tail is cut off only once
//! every record was accepted) and checks that it was made from the same declaration; each
//! write point appends one record (synced unless the point says otherwise; after a failure
//! every write fails), and compaction rewrites the whole state atomically, in the current
//! format, under the file's salt, with the declaration first.

use std::fmt;
use std::io;

use super::record::{
    Declaration, FORMAT_VERSION, MAGIC, Record, check_fingerprint, header, parse_any,
};
use super::{Medium, StorageFailure, WritePoint};
use crate::model::Salt;

/// Compact after this many journal records.
const COMPACT_AFTER: usize = 4096;
/// Compact after this many bytes of journal, whatever the count: far below the largest state
/// file read (`file.rs`).
const COMPACT_AFTER_BYTES: usize = 32 << 20;

/// The card's storage: a medium holding a state file, appended at each write point.
pub struct Journal {
    medium: Box<dyn Medium>,
    fingerprint: u64,
    /// The declaration the file records (written first in every snapshot).
    declaration: Declaration,
    salt: Salt,
    since_compaction: usize,
    bytes_since_compaction: usize,
    compact_after: usize,
    failed: Option<StorageFailure>,
    /// The medium was empty when opened: this journal wrote the file's first state.
    created: bool,
    /// The file recorded no declaration (formats 1 and 2): it was taken as this one's.
    adopted: bool,
    /// The write points passed (compaction as "compaction"), for the tearing report: kept
    /// only by a resumed journal (the tearing run's), so a long-running card does not grow.
    log: Option<Vec<&'static str>>,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal")
            .field("fingerprint", &self.fingerprint)
            .field("since_compaction", &self.since_compaction)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Opens the journal on `medium`: the records to replay, or the reason the content is
    /// refused (nothing written then). When `new` (no file existed) and the medium is empty,
    /// a salt is drawn and nothing is read: the caller writes the initial state with
    /// [`Journal::compact`]; an existing empty file is refused as truncated. A file made
    /// from another declaration is refused ([`OpenError::OtherDeclaration`]) before its
    /// layout is compared; one that records none (formats 1 and 2, older builds) is taken as
    /// `declaration`'s ([`Journal::adopted`]) and migrated by the caller.
    ///
    /// # Errors
    /// A message for a refused file, the declaration it records, or the I/O error (or no
    /// random source).
    pub fn open(
        mut medium: Box<dyn Medium>,
        fingerprint: u64,
        declaration: Declaration,
        new: bool,
    ) -> Result<(Self, Opened), OpenError> {
        let bytes = medium.read_all().map_err(OpenError::Io)?;
        let mut journal = Self::new(medium, fingerprint, declaration, Salt::default(), None);
        let mut opened = Opened {
            records: Vec::new(),
            torn_tail_at: None,
            new: bytes.is_empty(),
            migrate_from: None,
        };
        if bytes.is_empty() {
            if !new {
                return Err(OpenError::Refused(
                    "empty: truncated (a new state file is made only where none exists)".into(),
                ));
            }
            getrandom::fill(&mut journal.salt)
                .map_err(|e| OpenError::Io(io::Error::other(e.to_string())))?;
            journal.created = true;
            return Ok((journal, opened));
        }
        let parsed = parse_any(&bytes).map_err(OpenError::Refused)?;
        match parsed.declaration {
            Some(recorded) if recorded.digest != journal.declaration.digest => {
                return Err(OpenError::OtherDeclaration(recorded));
            }
            Some(_) => {}
            None => journal.adopted = true,
        }
        check_fingerprint(parsed.fingerprint, fingerprint).map_err(OpenError::Refused)?;
        journal.since_compaction = parsed.records.len();
        journal.bytes_since_compaction = bytes.len();
        match parsed.salt {
            Some(salt) => journal.salt = salt,
            None => {
                // Format 1: a salt for the rewrite in the current format.
                getrandom::fill(&mut journal.salt)
                    .map_err(|e| OpenError::Io(io::Error::other(e.to_string())))?;
            }
        }
        opened.torn_tail_at = (parsed.valid_len < bytes.len()).then_some(parsed.valid_len);
        opened.migrate_from = (parsed.version != FORMAT_VERSION).then_some(parsed.version);
        opened.records = parsed.records;
        Ok((journal, opened))
    }

    /// A journal that starts the file again (`--reset-state`): whatever state the medium
    /// holds is replaced by the caller's [`Journal::compact`], under a new salt. Only a
    /// state file is replaced (its magic, whatever else is wrong with it), or an empty or
    /// missing one: any other content is refused and left as it was.
    ///
    /// # Errors
    /// A message for a file that is not a state file, or the I/O error (or no random source).
    pub fn recreate(
        mut medium: Box<dyn Medium>,
        fingerprint: u64,
        declaration: Declaration,
    ) -> Result<Self, OpenError> {
        let bytes = medium.read_all().map_err(OpenError::Io)?;
        if !bytes.is_empty() && !bytes.starts_with(&MAGIC) {
            return Err(OpenError::Refused(
                "not a card state file (no SSCSTATE magic): only a state file is recreated".into(),
            ));
        }
        let mut journal = Self::new(medium, fingerprint, declaration, Salt::default(), None);
        getrandom::fill(&mut journal.salt)
            .map_err(|e| OpenError::Io(io::Error::other(e.to_string())))?;
        journal.created = bytes.is_empty();
        Ok(journal)
    }

    /// Whether the medium was empty when opened (a new state file).
    #[must_use]
    pub fn created(&self) -> bool {
        self.created
    }

    /// Whether the file recorded no declaration (written by an older build, formats 1 and
    /// 2) and was taken as the one it was opened with (which it records from its migration
    /// on).
    #[must_use]
    pub fn adopted(&self) -> bool {
        self.adopted
    }

    /// The state file's salt (PIN values are sealed under it).
    #[must_use]
    pub fn salt(&self) -> Salt {
        self.salt
    }

    /// Cuts off a torn tail, once the records before it were all accepted (so a refused
    /// file is never changed).
    ///
    /// # Errors
    /// The I/O error.
    pub fn drop_torn_tail(&mut self, at: usize) -> io::Result<()> {
        self.medium.truncate(at)
    }

    /// A journal on a medium that already holds the state it continues, under its salt (no
    /// read, no write). It keeps a log of its write points ([`Journal::take_log`]).
    #[cfg(any(test, feature = "testing"))]
    #[must_use]
    pub fn resume(
        medium: Box<dyn Medium>,
        fingerprint: u64,
        declaration: Declaration,
        salt: Salt,
    ) -> Self {
        Self::new(medium, fingerprint, declaration, salt, Some(Vec::new()))
    }

    fn new(
        medium: Box<dyn Medium>,
        fingerprint: u64,
        declaration: Declaration,
        salt: Salt,
        log: Option<Vec<&'static str>>,
    ) -> Self {
        Self {
            medium,
            fingerprint,
            declaration,
            salt,
            since_compaction: 0,
            bytes_since_compaction: 0,
            compact_after: COMPACT_AFTER,
            failed: None,
            created: false,
            adopted: false,
            log,
        }
    }

    /// Appends a record at a write point, synced unless the point says otherwise. After a
    /// failure every write fails.
    ///
    /// # Errors
    /// [`StorageFailure`].
    pub fn write(&mut self, point: WritePoint, record: &Record) -> Result<(), StorageFailure> {
        if let Some(f) = &self.failed {
            return Err(f.clone());
        }
        if let Some(log) = &mut self.log {
            log.push(point.name());
        }
        let bytes = record.encode();
        self.bytes_since_compaction = self.bytes_since_compaction.saturating_add(bytes.len());
        let result = self.medium.append(&bytes).and_then(|()| {
            if point.synced() {
                self.medium.sync()
            } else {
                Ok(())
            }
        });
        self.since_compaction += 1;
        result.map_err(|e| {
            let failure = StorageFailure {
                point,
                message: e.to_string(),
            };
            self.failed = Some(failure.clone());
            failure
        })
    }

    /// Whether a write failed (the card then refuses commands).
    #[must_use]
    pub fn failed(&self) -> bool {
        self.failed.is_some()
    }

    /// Whether the journal is long enough to compact.
    #[must_use]
    pub fn wants_compaction(&self) -> bool {
        self.since_compaction >= self.compact_after
            || self.bytes_since_compaction >= COMPACT_AFTER_BYTES
    }

    /// Compacts after `n` journal records instead of the default (the tearing run uses a
    /// small `n` so that compactions are torn too).
    #[cfg(any(test, feature = "testing"))]
    pub fn compact_every(&mut self, n: usize) {
        self.compact_after = n.max(1);
    }

    /// The write points passed since the last call, oldest first.
    #[cfg(any(test, feature = "testing"))]
    pub fn take_log(&mut self) -> Vec<&'static str> {
        self.log.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Writes the whole state as a new file, atomically, its declaration first.
    ///
    /// # Errors
    /// The I/O error (the old file is intact: the rename is the commit).
    pub fn compact(&mut self, state: &[Record]) -> io::Result<()> {
        let mut snapshot = self.declaration.encode();
        for r in state {
            snapshot.extend_from_slice(&r.encode());
        }
        let mut bytes = header(self.fingerprint, &self.salt, snapshot.len());
        bytes.extend_from_slice(&snapshot);
        if let Some(log) = &mut self.log {
            log.push("compaction");
        }
        let result = self.medium.replace(&bytes);
        if let Err(e) = &result {
            self.failed = Some(StorageFailure {
                point: WritePoint::Lifecycle,
                message: format!("compaction: {e}"),
            });
        } else {
            self.since_compaction = 0;
            self.bytes_since_compaction = 0;
        }
        result
    }

    /// Syncs what is pending (the unsynced restore records), e.g. before exiting.
    ///
    /// # Errors
    /// I/O.
    pub fn flush(&mut self) -> io::Result<()> {
        self.medium.sync()
    }
}

/// What an opened journal holds.
#[derive(Debug)]
pub struct Opened {
    /// The records to replay.
    pub records: Vec<Record>,
    /// Where a torn last append starts, to cut off after the records are accepted.
    pub torn_tail_at: Option<usize>,
    /// The medium was empty: the caller writes the initial state ([`Journal::compact`]).
    pub new: bool,
    /// The file is in this older format: the caller rewrites it ([`Journal::compact`]) once
    /// its records are accepted.
    pub migrate_from: Option<u16>,
}

/// Why a journal could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The content is not a state file of this card.
    #[error("{0}")]
    Refused(String),
    /// The file was made from another declaration (the one it records).
    #[error("made from profile {} (declaration {})", .0.name, .0.short_digest())]
    OtherDeclaration(Declaration),
    /// I/O.
    #[error("I/O on the medium")]
    Io(#[source] io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemMedium;

    #[test]
    fn only_a_resumed_journal_keeps_a_log_of_its_writes() {
        let record = Record::Lifecycle {
            card_blocked: false,
            blocked_apps: Vec::new(),
        };
        let d = || Declaration::new("test", [0; 32]);
        let (mut opened, _) = Journal::open(Box::new(MemMedium::new()), 7, d(), true).unwrap();
        let mut resumed = Journal::resume(Box::new(MemMedium::new()), 7, d(), Salt::default());
        for _ in 0..3 {
            opened.write(WritePoint::Lifecycle, &record).unwrap();
            resumed.write(WritePoint::Lifecycle, &record).unwrap();
        }
        // A long-running card (`serve --state`) keeps nothing per write.
        assert!(opened.log.is_none());
        assert_eq!(opened.take_log(), Vec::<&str>::new());
        assert_eq!(resumed.take_log(), ["lifecycle"; 3]);
        assert_eq!(resumed.take_log(), Vec::<&str>::new());
    }
}
