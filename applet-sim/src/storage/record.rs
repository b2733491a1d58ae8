//! The state file's format: a header (magic, version, profile fingerprint, salt, snapshot
//! length, CRC-32), then records, each `len ‖ !len ‖ payload ‖ CRC-32`; the encoding and
//! decoding of a record, and the parser that reads a whole file, tells a torn last append
//! (dropped) from damage (refused).
//!
//! Format 2 keeps PIN values sealed (model/secret.rs: a salted verifier, and the PKI key of
//! a PIN verified by cryptogram) under the header's salt. Format 3 adds the declaration the
//! file was made from ([`Declaration`]: the profile's name and the digest of its canonical
//! content), the first record of the snapshot. Formats 1 (no salt, PIN values in the clear)
//! and 2 (no declaration) are still read, so that opening migrates them: their records are
//! replayed, then the file is rewritten in format 3.

use crate::model::{PinValue, Salt, SealedPin};

/// One datum of the persistent state, whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// PIN object `index` (profile order): its sealed value and counter (format 2).
    Pin {
        /// Index among the profile's PINs.
        index: u16,
        /// The value, sealed.
        sealed: SealedPin,
        /// Tries left.
        remaining: u8,
    },
    /// PIN object `index`: its value in the clear and counter (format 1, read to migrate).
    LegacyPin {
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
    /// Key `index` with a new value (the PKI key update `84 D4`, docs/CARD.md §3.7) and its
    /// counter (kind 0x20).
    KeyValue {
        /// Index among the profile's keys.
        index: u16,
        /// The value.
        value: Vec<u8>,
        /// Tries left.
        remaining: u8,
    },
    /// The PKI application's SM2 private keys, all of them (kind 0x21): (DF node, file id,
    /// the 32-byte scalar). Kept in the clear, as the PKI key of a PIN is (docs/SECURITY.md,
    /// "The state file on a shared host", rule 4).
    PkiKeys(Vec<(u16, u16, [u8; 32])>),
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
    /// The medical e-purse's state (docs/CARD.md §4.6; kind 8).
    Purse(crate::purse::PurseState),
}

/// An EF's content in a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EfData {
    /// Transparent bytes.
    Transparent(Vec<u8>),
    /// Records in order.
    Records(Vec<Vec<u8>>),
}

/// The declaration a state file was made from (format 3): the profile's name as it was given
/// (`builtin:gen3`, a path) and the digest of its canonical content
/// ([`crate::Profile::digest`]). A state file belongs to one declaration: opened with another
/// it is refused, naming both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declaration {
    /// The profile's name, for messages (at most 4096 bytes are kept).
    pub name: String,
    /// SM3 of the profile's canonical content.
    pub digest: [u8; 32],
}

/// The longest declaration name kept (longer names are cut at a character boundary).
pub const MAX_NAME: usize = 4096;

impl Declaration {
    /// A declaration, its name cut to 4096 bytes (at a character boundary).
    #[must_use]
    pub fn new(name: &str, digest: [u8; 32]) -> Self {
        let mut end = name.len().min(MAX_NAME);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        Self {
            name: name.get(..end).unwrap_or_default().to_owned(),
            digest,
        }
    }

    /// The first 8 bytes of the digest in hex, for messages.
    #[must_use]
    pub fn short_digest(&self) -> String {
        self.digest
            .iter()
            .take(8)
            .map(|b| format!("{b:02X}"))
            .collect()
    }

    /// The record that holds it (kind 7): digest ‖ name length ‖ name.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut p = vec![7u8];
        p.extend_from_slice(&self.digest);
        put_bytes(&mut p, self.name.as_bytes());
        frame(&p)
    }

    fn decode(p: &[u8]) -> Option<Self> {
        let mut r = Reader(p);
        if r.u8()? != 7 {
            return None;
        }
        let digest = r.take(32)?.try_into().ok()?;
        let name = r.bytes()?;
        if name.len() > MAX_NAME || !r.0.is_empty() {
            return None;
        }
        Some(Self {
            name: String::from_utf8(name.to_vec()).ok()?,
            digest,
        })
    }
}

/// `SSCSTATE`: the first bytes of a state file.
pub const MAGIC: [u8; 8] = *b"SSCSTATE";
/// The format version written (formats 1 and 2 are read too, to migrate them).
pub const FORMAT_VERSION: u16 = 3;
/// Format 1: magic(8) ‖ version(2) ‖ profile fingerprint(8) ‖ snapshot length(4) ‖ CRC-32
/// of the previous 22 bytes(4).
const HEADER_V1_LEN: usize = 26;
/// Formats 2 and 3: magic(8) ‖ version(2) ‖ profile fingerprint(8) ‖ salt(16) ‖ snapshot
/// length(4) ‖ CRC-32 of the previous 38 bytes(4).
const HEADER_LEN: usize = 42;

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

/// The header of a file (in the current format) whose snapshot (the records written whole
/// at creation or compaction, which must all be there) takes `snapshot_len` bytes.
pub(super) fn header(fingerprint: u64, salt: &Salt, snapshot_len: usize) -> Vec<u8> {
    header_of(FORMAT_VERSION, fingerprint, salt, snapshot_len)
}

/// The header of format 2 or 3 (the tests write format-2 files with it).
fn header_of(version: u16, fingerprint: u64, salt: &Salt, snapshot_len: usize) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.extend_from_slice(&MAGIC);
    h.extend_from_slice(&version.to_le_bytes());
    h.extend_from_slice(&fingerprint.to_le_bytes());
    h.extend_from_slice(salt);
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
                sealed,
                remaining,
            } => {
                p.push(6);
                p.extend_from_slice(&index.to_le_bytes());
                p.push(*remaining);
                p.extend_from_slice(&sealed.verifier);
                match &sealed.pki_key {
                    None => p.push(0),
                    Some(key) => {
                        p.push(1);
                        p.extend_from_slice(key);
                    }
                }
            }
            Self::LegacyPin {
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
            Self::KeyValue {
                index,
                value,
                remaining,
            } => {
                p.push(0x20);
                p.extend_from_slice(&index.to_le_bytes());
                p.push(*remaining);
                put_bytes(&mut p, value);
            }
            Self::PkiKeys(keys) => {
                p.push(0x21);
                put_u32(&mut p, keys.len());
                for (node, fid, d) in keys {
                    p.extend_from_slice(&node.to_le_bytes());
                    p.extend_from_slice(&fid.to_le_bytes());
                    p.extend_from_slice(d);
                }
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
            Self::Purse(state) => {
                p.push(8);
                put_bytes(&mut p, &state.encode());
            }
        }
        frame(&p)
    }

    /// Decodes one record's payload (length and CRC already checked) of a file in format
    /// `version`.
    fn decode(p: &[u8], version: u16) -> Option<Self> {
        Self::decode_at(p, false, version)
    }

    /// Decodes a payload; inside a batch (`nested`) another batch is refused before it is
    /// read, so a crafted file cannot make decoding recurse. A PIN record is of its file's
    /// format: clear in format 1, sealed in format 2.
    fn decode_at(p: &[u8], nested: bool, version: u16) -> Option<Self> {
        let mut r = Reader(p);
        let record = match r.u8()? {
            6 if version >= 2 => Self::Pin {
                index: r.u16()?,
                remaining: r.u8()?,
                sealed: SealedPin {
                    verifier: r.take(32)?.try_into().ok()?,
                    pki_key: match r.u8()? {
                        0 => None,
                        1 => Some(r.take(16)?.try_into().ok()?),
                        _ => return None,
                    },
                },
            },
            1 if version == 1 => Self::LegacyPin {
                index: r.u16()?,
                remaining: r.u8()?,
                value: PinValue::from_bytes(r.take(17)?)?,
            },
            2 => Self::Key {
                index: r.u16()?,
                remaining: r.u8()?,
            },
            0x20 if version >= 3 => Self::KeyValue {
                index: r.u16()?,
                remaining: r.u8()?,
                value: r.bytes()?.to_vec(),
            },
            0x21 if version >= 3 => {
                let n = r.u32()?;
                let mut keys = Vec::new();
                for _ in 0..n {
                    keys.push((r.u16()?, r.u16()?, r.take(32)?.try_into().ok()?));
                }
                Self::PkiKeys(keys)
            }
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
                    let inner = parse_one(r.bytes()?, version)?;
                    // No batch inside a batch.
                    if matches!(inner, Self::Batch(_)) {
                        return None;
                    }
                    records.push(inner);
                }
                Self::Batch(records)
            }
            8 => Self::Purse(crate::purse::PurseState::decode(r.bytes()?)?),
            _ => return None,
        };
        r.0.is_empty().then_some(record)
    }
}

/// One whole encoded record (length, inverted length, payload, CRC), or `None`.
fn parse_one(bytes: &[u8], version: u16) -> Option<Record> {
    let (body, crc) = bytes.split_last_chunk::<4>()?;
    let len = u32::from_le_bytes(body.get(..4)?.try_into().ok()?);
    let check = u32::from_le_bytes(body.get(4..8)?.try_into().ok()?);
    let payload = body.get(8..)?;
    (len == !check
        && usize::try_from(len).ok() == Some(payload.len())
        && u32::from_le_bytes(*crc) == crc32(body))
    .then(|| Record::decode_at(payload, true, version))
    .flatten()
}

/// A payload framed as a record: `len(u32 LE) ‖ !len ‖ payload ‖ CRC-32(len ‖ !len ‖
/// payload)`.
fn frame(p: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(p.len() + 12);
    let len = u32::try_from(p.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(p);
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
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
    /// The file's format version (1 or 2: to migrate).
    pub version: u16,
    /// The file's salt (`None` in format 1).
    pub salt: Option<Salt>,
    /// The fingerprint of the profile layout the file was written for.
    pub fingerprint: u64,
    /// The declaration the file was made from (`None` before format 3).
    pub declaration: Option<Declaration>,
}

/// Parses a state file's bytes for a profile with this fingerprint (the tests' shorthand).
///
/// # Errors
/// The reason the file is refused (another profile's layout included).
#[cfg(test)]
pub fn parse(bytes: &[u8], fingerprint: u64) -> Result<Parsed, String> {
    let parsed = parse_any(bytes)?;
    check_fingerprint(parsed.fingerprint, fingerprint)?;
    Ok(parsed)
}

/// Refuses a file written for another profile layout.
///
/// # Errors
/// The reason, with both fingerprints.
pub fn check_fingerprint(stored: u64, fingerprint: u64) -> Result<(), String> {
    (stored == fingerprint).then_some(()).ok_or_else(|| {
        format!("written for another card profile (fingerprint {stored:016X}, this profile {fingerprint:016X})")
    })
}

/// Parses a state file's bytes whatever profile it was written for (the caller compares
/// [`Parsed::declaration`] and [`Parsed::fingerprint`]); nothing is written, so a reader
/// that must not change the file (`ssc-card state`) uses it too.
///
/// # Errors
/// The reason the file is refused.
pub fn parse_any(bytes: &[u8]) -> Result<Parsed, String> {
    let Header {
        version,
        salt,
        fingerprint,
        len: mut at,
        snapshot_end,
    } = check_header(bytes)?;
    let mut declaration = None;
    if version >= 3 {
        // Format 3: the snapshot starts with the declaration.
        let rest = bytes.get(at..snapshot_end).unwrap_or_default();
        let (payload, len) = match next_frame(rest, at, true)? {
            Some(Frame {
                payload,
                len,
                ok: true,
            }) => (payload, len),
            _ => return Err(format!("corrupt record at byte {at} (checksum mismatch)")),
        };
        declaration = Some(
            Declaration::decode(payload)
                .ok_or_else(|| format!("corrupt snapshot: no declaration record at byte {at}"))?,
        );
        at += len;
    }
    let mut records = Vec::new();
    while at < bytes.len() {
        let in_snapshot = at < snapshot_end;
        let rest = bytes.get(at..).unwrap_or_default();
        let Some((record, len)) = next_record(rest, at, in_snapshot, version)? else {
            // A torn tail: the valid part ends here.
            break;
        };
        records.push(record);
        at += len;
        if in_snapshot && at > snapshot_end {
            return Err(format!(
                "corrupt snapshot: a record crosses its end at byte {snapshot_end}"
            ));
        }
    }
    Ok(Parsed {
        records,
        valid_len: at,
        version,
        salt,
        fingerprint,
        declaration,
    })
}

/// What a checked header says.
struct Header {
    version: u16,
    salt: Option<Salt>,
    fingerprint: u64,
    /// Its length (where the snapshot starts).
    len: usize,
    /// Where the snapshot ends (the journal starts).
    snapshot_end: usize,
}

/// A header field: `N` bytes at `at`.
fn field<const N: usize>(head: &[u8], at: usize) -> Option<[u8; N]> {
    head.get(at..at + N)?.try_into().ok()
}

/// Checks the header (magic, version, checksum) and that the file holds its whole snapshot.
fn check_header(bytes: &[u8]) -> Result<Header, String> {
    let truncated = |need: usize| format!("truncated: {} bytes, a header has {need}", bytes.len());
    let magic = bytes.get(..MAGIC.len()).unwrap_or(bytes);
    if !MAGIC.starts_with(magic) {
        return Err("not a card state file (no SSCSTATE magic)".into());
    }
    let magic_and_version = bytes.get(..10).ok_or_else(|| truncated(HEADER_V1_LEN))?;
    let version = field(magic_and_version, 8).map_or(0, u16::from_le_bytes);
    let header_len = match version {
        1 => HEADER_V1_LEN,
        2 | FORMAT_VERSION => HEADER_LEN,
        other => {
            return Err(format!(
                "format version {other} (this build reads versions 1 to {FORMAT_VERSION})"
            ));
        }
    };
    let head = bytes
        .get(..header_len)
        .ok_or_else(|| truncated(header_len))?;
    let le32 = |at| field(head, at).map(u32::from_le_bytes);
    let crc_at = header_len - 4;
    if le32(crc_at) != Some(crc32(head.get(..crc_at).unwrap_or_default())) {
        return Err("corrupt header (checksum mismatch)".into());
    }
    let salt = (version >= 2).then(|| field::<16>(head, 18)).flatten();
    let fingerprint = field(head, 10).map_or(0, u64::from_le_bytes);
    let snapshot_end = le32(crc_at - 4)
        .and_then(|n| usize::try_from(n).ok())
        .and_then(|n| n.checked_add(header_len))
        .unwrap_or(usize::MAX);
    if bytes.len() < snapshot_end {
        return Err(format!(
            "truncated: {} bytes, the snapshot alone needs {snapshot_end}",
            bytes.len()
        ));
    }
    Ok(Header {
        version,
        salt,
        fingerprint,
        len: header_len,
        snapshot_end,
    })
}

/// The record at the start of `rest` (byte `at` of the file) and the bytes it takes, or
/// `None` for a torn tail (possible only after the snapshot).
///
/// # Errors
/// The reason the file is refused: a damaged length, a truncated snapshot record, a bad
/// checksum before more data or in the snapshot, a checksummed record this build cannot read.
fn next_record(
    rest: &[u8],
    at: usize,
    in_snapshot: bool,
    version: u16,
) -> Result<Option<(Record, usize)>, String> {
    let Some(Frame { payload, len, ok }) = next_frame(rest, at, in_snapshot)? else {
        return Ok(None);
    };
    match (ok, Record::decode(payload, version)) {
        (true, Some(r)) => Ok(Some((r, len))),
        // Whole and checksummed but not a record this build knows: never torn.
        (true, None) => Err(format!(
            "a record this build cannot read at byte {at} (corrupt, or a newer format)"
        )),
        // A bad checksum at the very end is a torn append; before more data, or in the
        // snapshot, it is damage.
        (false, _) if len == rest.len() && !in_snapshot => Ok(None),
        (false, _) => Err(format!("corrupt record at byte {at} (checksum mismatch)")),
    }
}

/// One record's frame as read: its payload, the bytes it takes, whether its checksum is
/// right.
struct Frame<'a> {
    payload: &'a [u8],
    len: usize,
    ok: bool,
}

/// The frame at the start of `rest` (byte `at` of the file), or `None` for a torn tail
/// (possible only after the snapshot).
///
/// # Errors
/// A damaged length, or a truncated snapshot record.
fn next_frame(rest: &[u8], at: usize, in_snapshot: bool) -> Result<Option<Frame<'_>>, String> {
    // An append the file system extended but never filled (zeros after a crash, as some
    // file systems leave them) is a torn tail too.
    if !in_snapshot && rest.iter().all(|b| *b == 0) {
        return Ok(None);
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
        return Ok(None);
    };
    let (body, crc) = whole.split_at(whole.len() - 4);
    let ok = crc.try_into().map(u32::from_le_bytes).ok() == Some(crc32(body));
    Ok(Some(Frame {
        payload: body.get(8..).unwrap_or_default(),
        len: whole.len(),
        ok,
    }))
}

#[cfg(test)]
mod tests;
