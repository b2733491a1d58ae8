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

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::pin::PinValue;

/// Where a persistent change is made durable (docs/SECURITY.md: "named write points").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WritePoint {
    /// A PIN's counter decremented, before the comparison.
    PinDecrement,
    /// A PIN's counter back to its maximum after a match or an unblock (not synced: losing it
    /// only loses a try).
    PinRestore,
    /// A PIN's value replaced (with its counter restored).
    PinValue,
    /// A key's counter decremented, before the comparison.
    KeyDecrement,
    /// A key's counter back to its maximum (not synced).
    KeyRestore,
    /// An EF's content changed (UPDATE BINARY/RECORD, APPEND RECORD).
    FileUpdate,
    /// An application blocked or unblocked, or the card blocked.
    Lifecycle,
}

impl WritePoint {
    /// Every write point, for reports.
    pub const ALL: [Self; 7] = [
        Self::PinDecrement,
        Self::PinRestore,
        Self::PinValue,
        Self::KeyDecrement,
        Self::KeyRestore,
        Self::FileUpdate,
        Self::Lifecycle,
    ];

    /// The name used in reports and comments (`pin.decrement`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::PinDecrement => "pin.decrement",
            Self::PinRestore => "pin.restore",
            Self::PinValue => "pin.value",
            Self::KeyDecrement => "key.decrement",
            Self::KeyRestore => "key.restore",
            Self::FileUpdate => "ef.update",
            Self::Lifecycle => "lifecycle",
        }
    }

    /// Whether the record is synced before the command goes on.
    #[must_use]
    pub fn synced(self) -> bool {
        !matches!(self, Self::PinRestore | Self::KeyRestore)
    }
}

impl fmt::Display for WritePoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One datum of the persistent state, whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// PIN object `index` (profile order): its value and counter.
    Pin {
        /// Index among the profile's PINs.
        index: u16,
        /// The value.
        value: PinValue,
        /// Tries left.
        remaining: u8,
    },
    /// Key `index` (profile order): its counter.
    Key {
        /// Index among the profile's keys.
        index: u16,
        /// Tries left.
        remaining: u8,
    },
    /// An EF's whole content.
    Ef {
        /// The file's node number.
        node: u16,
        /// Transparent bytes, or records.
        content: EfData,
    },
    /// Several records written as one (all or none survive a power cut).
    Batch(Vec<Record>),
    /// The life-cycle state.
    Lifecycle {
        /// CARD BLOCK done.
        card_blocked: bool,
        /// Blocked applications: (node, permanent).
        blocked_apps: Vec<(u16, bool)>,
    },
}

/// An EF's content in a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EfData {
    /// Transparent bytes.
    Transparent(Vec<u8>),
    /// Records in order.
    Records(Vec<Vec<u8>>),
}

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
    /// Another process holds the file.
    #[error("{path}: in use by another process (locked)")]
    Locked {
        /// The file.
        path: PathBuf,
    },
}

/// A write that did not reach the medium: the card answers 6581 and refuses every further
/// command until it is reopened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("storage failure at {point}: {message}")]
pub struct StorageFailure {
    /// The write point.
    pub point: WritePoint,
    /// What the medium said.
    pub message: String,
}

// --- The file format --------------------------------------------------------------------

/// `SSCSTATE`: the first bytes of a state file.
pub const MAGIC: [u8; 8] = *b"SSCSTATE";
/// The format version written and read.
pub const FORMAT_VERSION: u16 = 1;
/// magic(8) ‖ version(2) ‖ profile fingerprint(8) ‖ snapshot length(4) ‖ CRC-32 of the
/// previous 22 bytes(4).
const HEADER_LEN: usize = 26;
/// Compact after this many journal records.
const COMPACT_AFTER: usize = 4096;

/// CRC-32 (IEEE 802.3, reflected, as zlib), bitwise: records are small.
#[must_use]
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// FNV-1a, 64-bit: the profile fingerprint that makes a state file belong to one card layout.
#[must_use]
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// The header of a file whose snapshot (the records written whole at creation or
/// compaction, which must all be there) takes `snapshot_len` bytes.
fn header(fingerprint: u64, snapshot_len: usize) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.extend_from_slice(&MAGIC);
    h.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    h.extend_from_slice(&fingerprint.to_le_bytes());
    put_u32(&mut h, snapshot_len);
    let crc = crc32(&h);
    h.extend_from_slice(&crc.to_le_bytes());
    h
}

impl Record {
    /// `len(u32 LE) ‖ !len ‖ payload ‖ CRC-32(len ‖ !len ‖ payload)`. The inverted copy of
    /// the length tells a damaged length (refused) from a torn append (dropped).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Vec::new();
        match self {
            Self::Pin {
                index,
                value,
                remaining,
            } => {
                p.push(1);
                p.extend_from_slice(&index.to_le_bytes());
                p.push(*remaining);
                p.extend_from_slice(&value.to_bytes());
            }
            Self::Key { index, remaining } => {
                p.push(2);
                p.extend_from_slice(&index.to_le_bytes());
                p.push(*remaining);
            }
            Self::Ef { node, content } => {
                p.push(3);
                p.extend_from_slice(&node.to_le_bytes());
                match content {
                    EfData::Transparent(bytes) => {
                        p.push(0);
                        put_bytes(&mut p, bytes);
                    }
                    EfData::Records(records) => {
                        p.push(1);
                        put_u32(&mut p, records.len());
                        for r in records {
                            put_bytes(&mut p, r);
                        }
                    }
                }
            }
            Self::Batch(records) => {
                p.push(5);
                put_u32(&mut p, records.len());
                for r in records {
                    put_bytes(&mut p, &r.encode());
                }
            }
            Self::Lifecycle {
                card_blocked,
                blocked_apps,
            } => {
                p.push(4);
                p.push(u8::from(*card_blocked));
                put_u32(&mut p, blocked_apps.len());
                for (node, permanent) in blocked_apps {
                    p.extend_from_slice(&node.to_le_bytes());
                    p.push(u8::from(*permanent));
                }
            }
        }
        let mut out = Vec::with_capacity(p.len() + 12);
        let len = u32::try_from(p.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(&p);
        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes one record's payload (length and CRC already checked).
    fn decode(p: &[u8]) -> Option<Self> {
        Self::decode_at(p, false)
    }

    /// Decodes a payload; inside a batch (`nested`) another batch is refused before it is
    /// read, so a crafted file cannot make decoding recurse.
    fn decode_at(p: &[u8], nested: bool) -> Option<Self> {
        let mut r = Reader(p);
        let record = match r.u8()? {
            1 => Self::Pin {
                index: r.u16()?,
                remaining: r.u8()?,
                value: PinValue::from_bytes(r.take(17)?)?,
            },
            2 => Self::Key {
                index: r.u16()?,
                remaining: r.u8()?,
            },
            3 => {
                let node = r.u16()?;
                let content = match r.u8()? {
                    0 => EfData::Transparent(r.bytes()?.to_vec()),
                    1 => {
                        let n = r.u32()?;
                        let mut records = Vec::new();
                        for _ in 0..n {
                            records.push(r.bytes()?.to_vec());
                        }
                        EfData::Records(records)
                    }
                    _ => return None,
                };
                Self::Ef { node, content }
            }
            4 => {
                let card_blocked = r.u8()? != 0;
                let n = r.u32()?;
                let mut blocked_apps = Vec::new();
                for _ in 0..n {
                    blocked_apps.push((r.u16()?, r.u8()? != 0));
                }
                Self::Lifecycle {
                    card_blocked,
                    blocked_apps,
                }
            }
            5 if nested => return None,
            5 => {
                let n = r.u32()?;
                let mut records = Vec::new();
                for _ in 0..n {
                    let inner = parse_one(r.bytes()?)?;
                    // No batch inside a batch.
                    if matches!(inner, Self::Batch(_)) {
                        return None;
                    }
                    records.push(inner);
                }
                Self::Batch(records)
            }
            _ => return None,
        };
        r.0.is_empty().then_some(record)
    }
}

/// One whole encoded record (length, inverted length, payload, CRC), or `None`.
fn parse_one(bytes: &[u8]) -> Option<Record> {
    let (body, crc) = bytes.split_last_chunk::<4>()?;
    let len = u32::from_le_bytes(body.get(..4)?.try_into().ok()?);
    let check = u32::from_le_bytes(body.get(4..8)?.try_into().ok()?);
    let payload = body.get(8..)?;
    (len == !check
        && usize::try_from(len).ok() == Some(payload.len())
        && u32::from_le_bytes(*crc) == crc32(body))
    .then(|| Record::decode_at(payload, true))
    .flatten()
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u32(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// A cursor over a payload; every read is checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<usize> {
        usize::try_from(u32::from_le_bytes(self.take(4)?.try_into().ok()?)).ok()
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()?;
        self.take(n)
    }
}

/// A parsed state file: its records, and where the valid part ends (a torn tail after it
/// is dropped on opening).
#[derive(Debug)]
pub struct Parsed {
    /// The records in order.
    pub records: Vec<Record>,
    /// Bytes of header and whole records.
    pub valid_len: usize,
}

/// Parses a state file's bytes for a profile with this fingerprint.
///
/// # Errors
/// The reason the file is refused.
pub fn parse(bytes: &[u8], fingerprint: u64) -> Result<Parsed, String> {
    let head = bytes.get(..HEADER_LEN).ok_or_else(|| {
        format!(
            "truncated: {} bytes, a header has {HEADER_LEN}",
            bytes.len()
        )
    })?;
    if head.get(..8) != Some(&MAGIC[..]) {
        return Err("not a card state file (no SSCSTATE magic)".into());
    }
    // A header field: N bytes at `at`.
    fn field<const N: usize>(head: &[u8], at: usize) -> Option<[u8; N]> {
        head.get(at..at + N)?.try_into().ok()
    }
    let le32 = |at| field(head, at).map(u32::from_le_bytes);
    if le32(22) != Some(crc32(head.get(..22).unwrap_or_default())) {
        return Err("corrupt header (checksum mismatch)".into());
    }
    let version = field(head, 8).map(u16::from_le_bytes);
    if version != Some(FORMAT_VERSION) {
        return Err(format!(
            "format version {} (this build reads version {FORMAT_VERSION})",
            version.unwrap_or_default()
        ));
    }
    let stored = field(head, 10).map(u64::from_le_bytes);
    if stored != Some(fingerprint) {
        return Err(format!(
            "written for another card profile (fingerprint {:016X}, this profile {fingerprint:016X})",
            stored.unwrap_or_default()
        ));
    }
    let snapshot_end = le32(18)
        .and_then(|n| usize::try_from(n).ok())
        .and_then(|n| n.checked_add(HEADER_LEN))
        .unwrap_or(usize::MAX);
    if bytes.len() < snapshot_end {
        return Err(format!(
            "truncated: {} bytes, the snapshot alone needs {snapshot_end}",
            bytes.len()
        ));
    }
    let mut records = Vec::new();
    let mut at = HEADER_LEN;
    while at < bytes.len() {
        let in_snapshot = at < snapshot_end;
        let rest = bytes.get(at..).unwrap_or_default();
        // An append the file system extended but never filled (zeros after a crash, as some
        // file systems leave them) is a torn tail too.
        if !in_snapshot && rest.iter().all(|b| *b == 0) {
            break;
        }
        let word = |i: usize| {
            rest.get(i..i + 4)
                .and_then(|w| w.try_into().ok())
                .map(u32::from_le_bytes)
        };
        if let (Some(len), Some(check)) = (word(0), word(4))
            && len != !check
        {
            return Err(format!("corrupt record length at byte {at}"));
        }
        let whole = word(0)
            .and_then(|l| usize::try_from(l).ok())
            .and_then(|l| l.checked_add(12))
            .and_then(|n| rest.get(..n));
        let Some(whole) = whole else {
            if in_snapshot {
                return Err(format!("truncated snapshot record at byte {at}"));
            }
            // Shorter than its length says: the torn tail of an append.
            break;
        };
        let (body, crc) = whole.split_at(whole.len() - 4);
        let ok = crc.try_into().map(u32::from_le_bytes).ok() == Some(crc32(body));
        match (ok, Record::decode(body.get(8..).unwrap_or_default())) {
            (true, Some(r)) => records.push(r),
            // Whole and checksummed but not a record this build knows: never torn.
            (true, None) => {
                return Err(format!(
                    "a record this build cannot read at byte {at} (corrupt, or a newer format)"
                ));
            }
            // A bad checksum at the very end is a torn append; before more data, or in the
            // snapshot, it is damage.
            (false, _) if whole.len() == rest.len() && !in_snapshot => break,
            (false, _) => return Err(format!("corrupt record at byte {at} (checksum mismatch)")),
        }
        at += whole.len();
        if in_snapshot && at > snapshot_end {
            return Err(format!(
                "corrupt snapshot: a record crosses its end at byte {snapshot_end}"
            ));
        }
    }
    Ok(Parsed {
        records,
        valid_len: at,
    })
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

/// A state file on disk. A lock file beside it (`FILE.lock`) is held while it is open, so a
/// second process is refused; a missing state file is created by an atomic replace, so it
/// never exists half written.
#[derive(Debug)]
pub struct FileMedium {
    path: PathBuf,
    file: Option<File>,
    _lock: File,
}

impl FileMedium {
    /// Locks and opens the state file; `created` tells that it did not exist (it is created
    /// by the first [`Medium::replace`]).
    ///
    /// # Errors
    /// [`StateError::Io`], or [`StateError::Locked`] when another process holds it.
    pub fn open(path: &Path) -> Result<(Self, bool), StateError> {
        let io = |what: &'static str| {
            let path = path.to_owned();
            move |source| StateError::Io { path, what, source }
        };
        let mut lock_name = path.as_os_str().to_owned();
        lock_name.push(".lock");
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(PathBuf::from(lock_name))
            .map_err(io("cannot open the lock file"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StateError::Locked {
                    path: path.to_owned(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io("cannot lock")(e)),
        }
        let file = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io("cannot open")(e)),
        };
        let created = file.is_none();
        Ok((
            Self {
                path: path.to_owned(),
                file,
                _lock: lock,
            },
            created,
        ))
    }

    fn file(&mut self) -> io::Result<&mut File> {
        self.file.as_mut().ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "the state file is not created yet")
        })
    }

    fn sync_dir(&self) -> io::Result<()> {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()
    }
}

impl Medium for FileMedium {
    fn read_all(&mut self) -> io::Result<Vec<u8>> {
        let Some(file) = self.file.as_mut() else {
            return Ok(Vec::new());
        };
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let file = self.file()?;
        file.seek(SeekFrom::End(0))?;
        file.write_all(bytes)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.file()?.sync_data()
    }

    fn replace(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut tmp_name = self.path.as_os_str().to_owned();
        tmp_name.push(".tmp");
        let tmp = PathBuf::from(tmp_name);
        {
            let mut f = File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        self.sync_dir()?;
        self.file = Some(OpenOptions::new().read(true).write(true).open(&self.path)?);
        Ok(())
    }

    fn truncate(&mut self, len: usize) -> io::Result<()> {
        let file = self.file()?;
        file.set_len(u64::try_from(len).unwrap_or(u64::MAX))?;
        file.sync_all()
    }
}

/// How a power cut treats the write it interrupts (the tearing tests' three models).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CutMode {
    /// The interrupted write is lost; earlier writes survive.
    Dropped,
    /// The interrupted write lands in part (half its bytes); earlier writes survive.
    Torn,
    /// Every write since the last sync is lost, the interrupted one included.
    UnsyncedLost,
}

impl CutMode {
    /// All three.
    pub const ALL: [Self; 3] = [Self::Dropped, Self::Torn, Self::UnsyncedLost];

    /// The name in reports.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Dropped => "dropped",
            Self::Torn => "torn",
            Self::UnsyncedLost => "unsynced-lost",
        }
    }
}

/// The disk as seen by the tests: what is written (`current`) and what would survive a power
/// cut (`durable`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Disk {
    current: Vec<u8>,
    durable: Vec<u8>,
}

/// A state file in memory, shared by clones, with an optional power cut at the n-th write
/// operation (counting append, replace and truncate). After the cut every operation fails.
#[derive(Clone, Debug, Default)]
pub struct MemMedium {
    disk: Arc<Mutex<Disk>>,
    plan: Arc<Mutex<CutPlan>>,
}

#[derive(Clone, Copy, Debug, Default)]
struct CutPlan {
    writes: usize,
    cut_at: Option<(usize, CutMode)>,
    cut: bool,
}

impl MemMedium {
    /// An empty medium.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A medium whose bytes are `bytes`, all durable.
    #[must_use]
    pub fn with_bytes(bytes: Vec<u8>) -> Self {
        let m = Self::new();
        if let Ok(mut d) = m.disk.lock() {
            d.durable.clone_from(&bytes);
            d.current = bytes;
        }
        m
    }

    /// An independent copy (what is written and what is durable), without a cut plan.
    #[must_use]
    pub fn fork(&self) -> Self {
        let m = Self::new();
        if let (Ok(mut to), Ok(from)) = (m.disk.lock(), self.disk.lock()) {
            *to = from.clone();
        }
        m
    }

    /// Cuts power at write operation `n` (0-based) in `mode`.
    pub fn cut_at(&self, n: usize, mode: CutMode) {
        if let Ok(mut p) = self.plan.lock() {
            p.cut_at = Some((n, mode));
        }
    }

    /// Write operations so far.
    #[must_use]
    pub fn writes(&self) -> usize {
        self.plan.lock().map_or(0, |p| p.writes)
    }

    /// Whether the power was cut.
    #[must_use]
    pub fn was_cut(&self) -> bool {
        self.plan.lock().is_ok_and(|p| p.cut)
    }

    /// The bytes as written (unsynced included).
    #[must_use]
    pub fn current(&self) -> Vec<u8> {
        self.disk
            .lock()
            .map(|d| d.current.clone())
            .unwrap_or_default()
    }

    /// The bytes a power-up finds: after a cut, what the cut mode left; else the durable
    /// bytes (a cut now, losing what is unsynced).
    #[must_use]
    pub fn after_power_cut(&self) -> Vec<u8> {
        let cut = self.was_cut();
        self.disk
            .lock()
            .map(|d| {
                if cut {
                    d.current.clone()
                } else {
                    d.durable.clone()
                }
            })
            .unwrap_or_default()
    }

    /// Counts a write operation; `Ok(None)` to perform it, `Ok(Some(mode))` when the power is
    /// cut at this one, an error after the cut.
    fn begin_write(&self) -> io::Result<Option<CutMode>> {
        let mut p = self.plan.lock().map_err(|_| io::Error::other("poisoned"))?;
        if p.cut {
            return Err(io::Error::other("power is off"));
        }
        let n = p.writes;
        p.writes += 1;
        match p.cut_at {
            Some((at, mode)) if at == n => {
                p.cut = true;
                Ok(Some(mode))
            }
            _ => Ok(None),
        }
    }

    fn disk(&self) -> io::Result<std::sync::MutexGuard<'_, Disk>> {
        self.disk.lock().map_err(|_| io::Error::other("poisoned"))
    }
}

fn power_cut() -> io::Error {
    io::Error::other("power cut")
}

impl Medium for MemMedium {
    fn read_all(&mut self) -> io::Result<Vec<u8>> {
        if self.was_cut() {
            return Err(power_cut());
        }
        Ok(self.disk()?.current.clone())
    }

    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let cut = self.begin_write()?;
        let mut d = self.disk()?;
        match cut {
            None => {
                d.current.extend_from_slice(bytes);
                Ok(())
            }
            Some(mode) => {
                // What survives: `current` becomes the power-up image.
                match mode {
                    CutMode::Dropped => {}
                    CutMode::Torn => {
                        let half = bytes.get(..bytes.len() / 2).unwrap_or_default();
                        d.current.extend_from_slice(half);
                    }
                    CutMode::UnsyncedLost => d.current = d.durable.clone(),
                }
                Err(power_cut())
            }
        }
    }

    fn sync(&mut self) -> io::Result<()> {
        if self.was_cut() {
            return Err(power_cut());
        }
        let mut d = self.disk()?;
        d.durable = d.current.clone();
        Ok(())
    }

    fn replace(&mut self, bytes: &[u8]) -> io::Result<()> {
        let cut = self.begin_write()?;
        let mut d = self.disk()?;
        match cut {
            None => {
                d.current = bytes.to_vec();
                d.durable = bytes.to_vec();
                Ok(())
            }
            // Rename is atomic: a cut leaves the old file (its unsynced tail lost when the
            // model says so).
            Some(CutMode::UnsyncedLost) => {
                d.current = d.durable.clone();
                Err(power_cut())
            }
            Some(CutMode::Dropped | CutMode::Torn) => Err(power_cut()),
        }
    }

    fn truncate(&mut self, len: usize) -> io::Result<()> {
        let cut = self.begin_write()?;
        let mut d = self.disk()?;
        match cut {
            None => {
                d.current.truncate(len);
                d.durable = d.current.clone();
                Ok(())
            }
            Some(CutMode::UnsyncedLost) => {
                d.current = d.durable.clone();
                Err(power_cut())
            }
            Some(CutMode::Dropped | CutMode::Torn) => Err(power_cut()),
        }
    }
}

// --- The journal ------------------------------------------------------------------------

/// The card's storage: a medium holding a state file, appended at each write point.
pub struct Journal {
    medium: Box<dyn Medium>,
    fingerprint: u64,
    since_compaction: usize,
    compact_after: usize,
    failed: Option<StorageFailure>,
    /// The write points passed (compaction as "compaction"), for the tearing report.
    log: Vec<&'static str>,
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
    /// refused (nothing written then). When `new` (no file existed), `initial` (the profile's
    /// state) is written; an existing empty file is refused as truncated. A torn tail is cut
    /// off.
    ///
    /// # Errors
    /// A message for a refused file, or the I/O error.
    pub fn open(
        mut medium: Box<dyn Medium>,
        fingerprint: u64,
        initial: &[Record],
        new: bool,
    ) -> Result<(Self, Opened), OpenError> {
        let bytes = medium.read_all().map_err(OpenError::Io)?;
        let mut journal = Self {
            medium,
            fingerprint,
            since_compaction: 0,
            compact_after: COMPACT_AFTER,
            failed: None,
            log: Vec::new(),
        };
        if bytes.is_empty() {
            if !new {
                return Err(OpenError::Refused(
                    "empty: truncated (a new state file is made only where none exists)".into(),
                ));
            }
            journal.compact(initial).map_err(OpenError::Io)?;
            return Ok((
                journal,
                Opened {
                    records: Vec::new(),
                    torn_tail_at: None,
                },
            ));
        }
        let parsed = parse(&bytes, fingerprint).map_err(OpenError::Refused)?;
        journal.since_compaction = parsed.records.len();
        let torn_tail_at = (parsed.valid_len < bytes.len()).then_some(parsed.valid_len);
        Ok((
            journal,
            Opened {
                records: parsed.records,
                torn_tail_at,
            },
        ))
    }

    /// Cuts off a torn tail, once the records before it were all accepted (so a refused
    /// file is never changed).
    ///
    /// # Errors
    /// The I/O error.
    pub fn drop_torn_tail(&mut self, at: usize) -> io::Result<()> {
        self.medium.truncate(at)
    }

    /// A journal on a medium that already holds the state it continues (no read, no write).
    #[must_use]
    pub fn resume(medium: Box<dyn Medium>, fingerprint: u64) -> Self {
        Self {
            medium,
            fingerprint,
            since_compaction: 0,
            compact_after: COMPACT_AFTER,
            failed: None,
            log: Vec::new(),
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
        self.log.push(point.name());
        let result = self.medium.append(&record.encode()).and_then(|()| {
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
    }

    /// Compacts after `n` journal records instead of the default (the tearing run uses a
    /// small `n` so that compactions are torn too).
    pub fn compact_every(&mut self, n: usize) {
        self.compact_after = n.max(1);
    }

    /// The write points passed since the last call, oldest first.
    pub fn take_log(&mut self) -> Vec<&'static str> {
        std::mem::take(&mut self.log)
    }

    /// Writes the whole state as a new file, atomically.
    ///
    /// # Errors
    /// The I/O error (the old file is intact: the rename is the commit).
    pub fn compact(&mut self, state: &[Record]) -> io::Result<()> {
        let mut snapshot = Vec::new();
        for r in state {
            snapshot.extend_from_slice(&r.encode());
        }
        let mut bytes = header(self.fingerprint, snapshot.len());
        bytes.extend_from_slice(&snapshot);
        self.log.push("compaction");
        let result = self.medium.replace(&bytes);
        if let Err(e) = &result {
            self.failed = Some(StorageFailure {
                point: WritePoint::Lifecycle,
                message: format!("compaction: {e}"),
            });
        } else {
            self.since_compaction = 0;
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
}

/// Why a journal could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// The content is not a state file of this card.
    Refused(String),
    /// I/O.
    Io(io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn crc32_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(fnv1a(b""), 0xCBF2_9CE4_8422_2325);
    }

    fn record() -> impl Strategy<Value = Record> {
        let bytes = prop::collection::vec(any::<u8>(), 0..40);
        prop_oneof![
            (any::<u16>(), "[0-9]{1,16}", any::<u8>()).prop_map(|(index, digits, remaining)| {
                Record::Pin {
                    index,
                    value: PinValue::from_digits(&digits).unwrap_or_else(|_| unreachable!()),
                    remaining,
                }
            }),
            (any::<u16>(), any::<u8>())
                .prop_map(|(index, remaining)| Record::Key { index, remaining }),
            (any::<u16>(), bytes.clone()).prop_map(|(node, b)| Record::Ef {
                node,
                content: EfData::Transparent(b)
            }),
            (any::<u16>(), prop::collection::vec(bytes, 0..5)).prop_map(|(node, r)| Record::Ef {
                node,
                content: EfData::Records(r)
            }),
            (
                any::<bool>(),
                prop::collection::vec((any::<u16>(), any::<bool>()), 0..4)
            )
                .prop_map(|(card_blocked, blocked_apps)| Record::Lifecycle {
                    card_blocked,
                    blocked_apps
                }),
        ]
    }

    proptest! {
        /// Records round-trip through a file; a file cut anywhere in its journal reopens
        /// with a prefix of its records; any byte flipped is refused or drops the tail.
        #[test]
        fn files_round_trip_and_tolerate_only_a_torn_tail(
            snapshot in prop::collection::vec(record(), 0..4),
            journal in prop::collection::vec(record(), 0..6),
            cut in any::<prop::sample::Index>(),
            flip in any::<prop::sample::Index>(),
        ) {
            let mut snap = Vec::new();
            for r in &snapshot { snap.extend(r.encode()); }
            let mut bytes = header(7, snap.len());
            bytes.extend(&snap);
            let journal_start = bytes.len();
            let mut last_start = bytes.len();
            for r in &journal {
                last_start = bytes.len();
                bytes.extend(r.encode());
            }
            let all: Vec<Record> = snapshot.iter().chain(&journal).cloned().collect();
            let parsed = parse(&bytes, 7).unwrap();
            prop_assert_eq!(&parsed.records, &all);
            prop_assert_eq!(parsed.valid_len, bytes.len());
            prop_assert!(parse(&bytes, 8).is_err());
            // A torn journal: a prefix of the records survives.
            let at = journal_start + cut.index(bytes.len() - journal_start + 1);
            let torn = parse(&bytes[..at], 7).unwrap();
            prop_assert!(all.starts_with(&torn.records));
            prop_assert!(torn.records.len() >= snapshot.len());
            // A flipped byte: refused, or (in the last record) a shorter prefix.
            let i = flip.index(bytes.len());
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x01;
            if let Ok(p) = parse(&damaged, 7) {
                // Only the last journal record's payload or CRC: a torn-looking tail.
                prop_assert!(i >= journal_start && i >= last_start + 8, "flip at {} accepted", i);
                prop_assert!(all.starts_with(&p.records));
                prop_assert!(p.records.len() < all.len());
            }
        }
    }

    #[test]
    fn a_medium_cut_models_the_three_losses() {
        for (mode, survives) in [
            (CutMode::Dropped, b"ab".to_vec()),
            (CutMode::Torn, b"abc".to_vec()),
            (CutMode::UnsyncedLost, b"a".to_vec()),
        ] {
            let mut m = MemMedium::new();
            m.append(b"a").unwrap();
            m.sync().unwrap();
            m.append(b"b").unwrap();
            m.cut_at(2, mode);
            assert!(m.append(b"cd").is_err());
            assert!(m.sync().is_err() && m.append(b"e").is_err());
            assert_eq!(m.after_power_cut(), survives, "{mode:?}");
        }
    }

    fn file(records: &[Vec<u8>]) -> Vec<u8> {
        let mut bytes = header(7, 0);
        for r in records {
            bytes.extend(r);
        }
        bytes
    }

    /// A record with a right CRC around any payload.
    fn raw(payload: &[u8]) -> Vec<u8> {
        let len = u32::try_from(payload.len()).unwrap_or(0);
        let mut out = len.to_le_bytes().to_vec();
        out.extend((!len).to_le_bytes());
        out.extend(payload);
        let crc = crc32(&out);
        out.extend(crc.to_le_bytes());
        out
    }

    /// Found by review: nested batches recursed (a stack overflow on a crafted file); a
    /// checksummed record this build cannot read was dropped as if torn; a zero-filled tail
    /// was refused instead of dropped.
    #[test]
    fn crafted_and_crashed_tails() {
        let key = Record::Key {
            index: 1,
            remaining: 2,
        };
        // A batch inside a batch is refused before its inside is read (no recursion).
        let mut inner = Record::Batch(vec![key.clone()]).encode();
        for _ in 0..3 {
            let mut p = vec![5u8];
            put_u32(&mut p, 1);
            put_bytes(&mut p, &inner);
            inner = raw(&p);
        }
        let e = parse(&file(&[key.encode(), inner]), 7).unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
        // A whole record of an unknown kind at the end: refused, not dropped.
        let e = parse(&file(&[key.encode(), raw(&[6, 1, 2])]), 7).unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
        // Zeros where an append should have landed: a torn tail.
        let mut bytes = file(&[key.encode()]);
        let valid = bytes.len();
        bytes.extend([0u8; 37]);
        let p = parse(&bytes, 7).unwrap();
        assert_eq!((p.records, p.valid_len), (vec![key], valid));
    }
}
