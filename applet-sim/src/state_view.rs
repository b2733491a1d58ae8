//! A state file looked at without opening it for writing (`ssc-card state`): its PIN and
//! key counters, its blocks and its files, from the file's bytes alone.
//!
//! The file is read as a regular file of bounded size ([`crate::input::read_bytes`]): it is
//! never created, locked, written, truncated or made private, whoever holds it. A file that
//! opening would repair — a torn last record (dropped), an older format (rewritten) — is
//! shown as opening would leave it, computed in memory, with a note saying so. No lock is
//! taken: a card serving from the file may be appending meanwhile, and a record it has not
//! finished is then seen as a torn tail.
//!
//! The file holds counters, contents and blocks by number (a PIN's, a key's place in the
//! profile, an EF's node); the profile gives the names and the maxima. [`StateFile::view`]
//! takes the profile whose layout the file was written for (checked by fingerprint) and
//! without one shows the numbers alone. PIN values are never shown (the file keeps only
//! their verifiers).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::card::layout_fingerprint;
use crate::fs::{EfContent, MF, NodeId};
use crate::input::{InputError, read_bytes};
use crate::model::Vocabulary;
use crate::profile::Profile;
use crate::storage::{Declaration, EfData, MAX_STATE_BYTES, Record, parse_any};

/// Why a state file cannot be looked at.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// Missing, unreadable, not a regular file, too large.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Not a state file, or damaged (what opening it would refuse too).
    #[error("{}: {reason}", path.display())]
    Refused {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// A state file as read: what its header says and its records as opening would replay them.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    version: u16,
    fingerprint: u64,
    declaration: Option<Declaration>,
    /// Bytes after the last whole record (a torn append, dropped on opening).
    torn: usize,
    records: Folded,
}

/// The records folded as opening replays them: the last record of a datum wins.
#[derive(Debug, Default)]
struct Folded {
    pins: BTreeMap<u16, u8>,
    keys: BTreeMap<u16, u8>,
    efs: BTreeMap<u16, EfData>,
    card_blocked: bool,
    blocked_apps: Vec<(u16, bool)>,
    /// The medical e-purse's last state (docs/CARD.md §4.6).
    purse: Option<crate::purse::PurseState>,
    /// Why opening the card would refuse the file, if a record shows it.
    invalid: Option<String>,
}

impl Folded {
    fn apply(&mut self, record: Record) {
        match record {
            Record::Pin {
                index, remaining, ..
            }
            | Record::LegacyPin {
                index, remaining, ..
            } => {
                self.pins.insert(index, remaining);
            }
            Record::Key { index, remaining }
            | Record::KeyValue {
                index, remaining, ..
            } => {
                self.keys.insert(index, remaining);
            }
            // The private keys are not shown (their count is not a counter either).
            Record::PkiKeys(_) => {}
            Record::Ef { node, content } => {
                self.efs.insert(node, content);
            }
            Record::Batch(records) => {
                for r in records {
                    self.apply(r);
                }
            }
            Record::Purse(state) => {
                self.purse = Some(state);
            }
            Record::Lifecycle {
                card_blocked,
                blocked_apps,
            } => {
                // As opening does: each application at most once (so at most one entry per
                // node of the 16-bit tree); a record that lists one twice makes the file
                // one the card refuses, and the viewer says so instead of growing with it.
                let mut seen = std::collections::HashSet::new();
                if !blocked_apps.iter().all(|(node, _)| seen.insert(*node)) {
                    self.invalid.get_or_insert_with(|| {
                        "a life-cycle record lists an application twice (opening the card \
                         refuses this file)"
                            .into()
                    });
                    return;
                }
                self.card_blocked = card_blocked;
                self.blocked_apps = blocked_apps;
            }
        }
    }
}

impl StateFile {
    /// Reads the state file at `path` (never written; see the module).
    ///
    /// # Errors
    /// [`ViewError`] naming the file: missing, unreadable, not a regular file, too large,
    /// not a state file, damaged.
    pub fn read(path: &Path) -> Result<Self, ViewError> {
        let bytes = read_bytes(path, MAX_STATE_BYTES)?;
        if bytes.is_empty() {
            return Err(ViewError::Refused {
                path: path.to_owned(),
                reason: "empty: not a state file (or one whose creation never finished)".into(),
            });
        }
        let parsed = parse_any(&bytes).map_err(|reason| ViewError::Refused {
            path: path.to_owned(),
            reason,
        })?;
        let mut records = Folded::default();
        for r in parsed.records {
            records.apply(r);
        }
        if let Some(reason) = records.invalid.take() {
            return Err(ViewError::Refused {
                path: path.to_owned(),
                reason: format!("damaged: {reason}"),
            });
        }
        Ok(Self {
            path: path.to_owned(),
            version: parsed.version,
            fingerprint: parsed.fingerprint,
            declaration: parsed.declaration,
            torn: bytes.len().saturating_sub(parsed.valid_len),
            records,
        })
    }

    /// The declaration the file records (format 3), if any.
    #[must_use]
    pub fn declaration(&self) -> Option<&Declaration> {
        self.declaration.as_ref()
    }

    /// Whether `profile` declares the card the file was made from (its digest is the one
    /// the file records).
    #[must_use]
    pub fn made_from(&self, profile: &Profile) -> bool {
        self.declaration
            .as_ref()
            .is_some_and(|d| d.digest == profile.digest())
    }

    /// The view of the file, with the names and maxima of `profile` when it has the file's
    /// layout (else by number, with a note).
    #[must_use]
    pub fn view(&self, profile: Option<&Profile>) -> StateView {
        let mut notes = Vec::new();
        if self.torn > 0 {
            notes.push(format!(
                "the last {} bytes are a write cut short (a torn record): opening the card \
                 drops them; shown without them",
                self.torn
            ));
        }
        if self.version < 3 {
            notes.push(format!(
                "format {}, written by an older build without its profile's name: opening the \
                 card rewrites it in format 3",
                self.version
            ));
        }
        let profile = match profile {
            Some(p) if layout_fingerprint(p) != self.fingerprint => {
                notes.push(format!(
                    "written for another card layout than profile {}: shown by number",
                    p.source_name
                ));
                None
            }
            Some(p) => {
                if self.declaration.is_some() && !self.made_from(p) {
                    notes.push(format!(
                        "profile {} has this layout but declares another card than the file was \
                         made from (opening it with that profile is refused)",
                        p.source_name
                    ));
                }
                Some(p)
            }
            None => None,
        };
        let mut view = StateView {
            file: self.path.display().to_string(),
            format: self.version,
            made_from: self.declaration.as_ref().map(|d| MadeFrom {
                profile: d.name.clone(),
                digest: apdu::hex_compact(&d.digest),
            }),
            names_from: profile.map(|p| p.source_name.clone()),
            notes,
            card_blocked: self.records.card_blocked,
            applications: Vec::new(),
            pins: Vec::new(),
            keys: Vec::new(),
            files: Vec::new(),
            purse: self.records.purse.as_ref().map(|p| PurseView {
                balance: p.balance,
                load_seq: p.load_seq,
                purchase_seq: p.purchase_seq,
                spip: p.spip,
                spfp: p.spfp,
                year: apdu::hex_compact(&p.year),
                start_day: apdu::hex_compact(&p.start_day),
            }),
        };
        match profile {
            Some(p) => self.named(p, &mut view),
            None => self.numbered(&mut view),
        }
        view
    }

    /// The view by number: what the file alone says.
    fn numbered(&self, view: &mut StateView) {
        let r = &self.records;
        let by_number = |counters: &BTreeMap<u16, u8>| -> Vec<Counter> {
            counters
                .iter()
                .map(|(i, remaining)| Counter {
                    index: *i,
                    df: None,
                    reference: None,
                    version: None,
                    remaining: *remaining,
                    max: None,
                })
                .collect()
        };
        view.pins = by_number(&r.pins);
        view.keys = by_number(&r.keys);
        view.applications = r
            .blocked_apps
            .iter()
            .map(|(node, permanent)| Application {
                node: *node,
                df: None,
                kind: None,
                blocked: Some(block_name(*permanent)),
            })
            .collect();
        view.files = r
            .efs
            .iter()
            .map(|(node, data)| FileView {
                node: *node,
                df: None,
                fid: None,
                sfi: None,
                structure: None,
                content: Content::of(data),
            })
            .collect();
    }

    /// The view with the profile's names and maxima, in its declaration order; what the
    /// file does not hold is the profile's initial value (a file that opening would refuse
    /// for a record out of the layout is noted).
    fn named(&self, p: &Profile, view: &mut StateView) {
        let r = &self.records;
        let (fs, nodes) = p.file_system();
        let labels = nodes.labels();
        let label = |node: NodeId| labels.get(&node).cloned();
        view.pins = p
            .pins
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let index = u16::try_from(i).unwrap_or(u16::MAX);
                Counter {
                    index,
                    df: Some(d.parent.clone()),
                    reference: Some(format!("{:02X}", d.reference)),
                    version: None,
                    remaining: r.pins.get(&index).copied().unwrap_or(d.tries),
                    max: Some(d.max_tries),
                }
            })
            .collect();
        view.keys = p
            .keys
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let index = u16::try_from(i).unwrap_or(u16::MAX);
                Counter {
                    index,
                    df: Some(d.parent.clone()),
                    reference: Some(format!("{:02X}", d.id)),
                    version: Some(d.version),
                    remaining: r.keys.get(&index).copied().unwrap_or(d.tries),
                    max: Some(d.max_tries),
                }
            })
            .collect();
        let extra_pins = r.pins.keys().filter(|i| usize::from(**i) >= p.pins.len());
        let extra_keys = r.keys.keys().filter(|i| usize::from(**i) >= p.keys.len());
        if extra_pins.count() + extra_keys.count() > 0 {
            view.notes
                .push("the file holds counters the profile lacks (opening it is refused)".into());
        }
        // Every application (a DF under the MF), blocked or not.
        view.applications = p
            .dfs
            .iter()
            .filter(|d| d.parent == "MF")
            .map(|d| {
                let node = nodes.node(&d.id);
                let blocked = r
                    .blocked_apps
                    .iter()
                    .find(|(n, _)| *n == node.raw())
                    .map(|(_, permanent)| block_name(*permanent));
                Application {
                    node: node.raw(),
                    df: Some(d.id.clone()),
                    kind: d.kind.map(|k| k.name().to_owned()),
                    blocked,
                }
            })
            .collect();
        view.files = fs
            .ef_nodes()
            .filter_map(|node| {
                let ef = fs.ef(node)?;
                let initial = match &ef.content {
                    EfContent::Transparent(b) => EfData::Transparent(b.clone()),
                    EfContent::Records(r) => EfData::Records(r.clone()),
                };
                let data = r.efs.get(&node.raw()).unwrap_or(&initial);
                Some(FileView {
                    node: node.raw(),
                    df: label(ef.parent).filter(|_| ef.parent != MF),
                    fid: Some(format!("{:04X}", ef.control.fid)),
                    sfi: ef.control.sfi,
                    structure: Some(ef.control.structure.name().to_owned()),
                    content: Content::of(data),
                })
            })
            .collect();
    }
}

fn block_name(permanent: bool) -> String {
    if permanent { "permanent" } else { "temporary" }.to_owned()
}

/// What `ssc-card state` shows (and `--json` prints): every field is the file's, with the
/// profile's names and maxima where it has them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StateView {
    /// The file.
    pub file: String,
    /// Its format version.
    pub format: u16,
    /// The declaration it records (format 3).
    pub made_from: Option<MadeFrom>,
    /// The profile whose names and maxima are shown (none: by number).
    pub names_from: Option<String>,
    /// What the reader should know: recovery opening would do, a profile that does not fit.
    pub notes: Vec<String>,
    /// CARD BLOCK done.
    pub card_blocked: bool,
    /// The applications (with a profile: all; without: the blocked ones).
    pub applications: Vec<Application>,
    /// The PIN objects' counters.
    pub pins: Vec<Counter>,
    /// The keys' counters.
    pub keys: Vec<Counter>,
    /// The EFs' contents.
    pub files: Vec<FileView>,
    /// The medical e-purse (docs/CARD.md §4.6), when the file holds its record.
    pub purse: Option<PurseView>,
}

/// The medical e-purse's state as a state file holds it (docs/CARD.md §4.6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PurseView {
    /// The CIA balance, in fen.
    pub balance: u32,
    /// The online (load) counter.
    pub load_seq: u16,
    /// The offline (purchase) counter.
    pub purchase_seq: u16,
    /// The year's SPIP total, in fen.
    pub spip: u32,
    /// The year's SPFP total, in fen.
    pub spfp: u32,
    /// The payment year (BCD, hex).
    pub year: String,
    /// The starting day (MMDD, hex).
    pub start_day: String,
}

/// The declaration a file records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MadeFrom {
    /// The profile's name as it was given.
    pub profile: String,
    /// The digest of its canonical content, hex.
    pub digest: String,
}

/// An application and its block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Application {
    /// Its node number in the file.
    pub node: u16,
    /// Its label in the profile.
    pub df: Option<String>,
    /// Its kind (`ssse`, `pboc`, `pki`).
    pub kind: Option<String>,
    /// `temporary`, `permanent`, or none.
    pub blocked: Option<String>,
}

/// A PIN's or key's counter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Counter {
    /// Its place in the profile.
    pub index: u16,
    /// The DF that holds it.
    pub df: Option<String>,
    /// The PIN's reference or the key's id, hex.
    pub reference: Option<String>,
    /// A key's version (not for PINs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u8>,
    /// Tries left (0: blocked).
    pub remaining: u8,
    /// Tries after a success.
    pub max: Option<u8>,
}

/// An EF and its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileView {
    /// Its node number in the file.
    pub node: u16,
    /// The DF that holds it.
    pub df: Option<String>,
    /// Its file identifier, hex.
    pub fid: Option<String>,
    /// Its short file identifier.
    pub sfi: Option<u8>,
    /// `transparent`, `linear` or `cyclic`.
    pub structure: Option<String>,
    /// What it holds.
    pub content: Content,
}

/// An EF's content, hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Content {
    /// A transparent EF's bytes.
    Binary(String),
    /// A record EF's records, record 1 first.
    Records(Vec<String>),
}

impl Content {
    fn of(data: &EfData) -> Self {
        match data {
            EfData::Transparent(b) => Self::Binary(apdu::hex_compact(b)),
            EfData::Records(r) => Self::Records(r.iter().map(|r| apdu::hex_compact(r)).collect()),
        }
    }
}

impl fmt::Display for StateView {
    /// Text for a terminal: every name that comes from a file (the state file's declaration,
    /// a profile's labels, paths) has its control characters escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pr = crate::message::printable;
        write!(f, "{}: state file, format {}", pr(&self.file), self.format)?;
        match &self.made_from {
            Some(m) => writeln!(
                f,
                ", made from profile {} (declaration {})",
                pr(&m.profile),
                m.digest.get(..16).unwrap_or(&m.digest)
            )?,
            None => writeln!(f)?,
        }
        match &self.names_from {
            Some(p) => writeln!(f, "names and maxima from profile {}", pr(p))?,
            None => writeln!(
                f,
                "no profile for this file: PINs, keys and files by number (--profile P names them)"
            )?,
        }
        for n in &self.notes {
            writeln!(f, "note: {}", pr(n))?;
        }
        writeln!(
            f,
            "card: {}",
            if self.card_blocked {
                "BLOCKED (every command answers 6A81)"
            } else {
                "not blocked"
            }
        )?;
        writeln!(f, "applications:")?;
        if self.applications.is_empty() {
            writeln!(f, "  none blocked")?;
        }
        for a in &self.applications {
            let name = a.df.clone().unwrap_or_else(|| format!("#{}", a.node));
            let kind = a
                .kind
                .as_deref()
                .map(|k| format!(" ({k})"))
                .unwrap_or_default();
            let state = match a.blocked.as_deref() {
                None => "not blocked".to_owned(),
                Some(b) => format!("BLOCKED, {b}"),
            };
            writeln!(f, "  {}{kind}: {state}", pr(&name))?;
        }
        writeln!(f, "PINs:")?;
        for c in &self.pins {
            writeln!(f, "  {}", pr(&counter(c, "PIN", "reference")))?;
        }
        writeln!(f, "keys:")?;
        for c in &self.keys {
            writeln!(f, "  {}", pr(&counter(c, "key", "id")))?;
        }
        if let Some(p) = &self.purse {
            writeln!(
                f,
                "medical e-purse: balance {} fen, load counter {}, purchase counter {}, \
                 {} SPIP {} / SPFP {} fen, year from {}",
                p.balance, p.load_seq, p.purchase_seq, p.year, p.spip, p.spfp, p.start_day
            )?;
        }
        writeln!(f, "files:")?;
        for e in &self.files {
            file(f, e)?;
        }
        Ok(())
    }
}

/// `SSSE PIN 00: 2 of 3 tries left`, or `PIN #0: 2 tries left` by number.
fn counter(c: &Counter, what: &str, reference: &str) -> String {
    let name = match (&c.df, &c.reference) {
        (Some(df), Some(r)) => {
            let version = c
                .version
                .filter(|v| *v != 0)
                .map(|v| format!(" version {v}"))
                .unwrap_or_default();
            format!("{df} {what} {reference} {r}{version}")
        }
        _ => format!("{what} #{}", c.index),
    };
    let tries = match c.max {
        Some(max) => format!("{} of {max} tries left", c.remaining),
        None => format!("{} tries left", c.remaining),
    };
    let blocked = if c.remaining == 0 { " (BLOCKED)" } else { "" };
    format!("{name}: {tries}{blocked}")
}

/// An EF: a line naming it, then its records or its bytes (32 a line, trailing zeros told
/// in one line).
fn file(f: &mut fmt::Formatter<'_>, e: &FileView) -> fmt::Result {
    let name = match (&e.df, &e.fid) {
        (Some(df), Some(fid)) => format!("{df}/{fid}"),
        (None, Some(fid)) => format!("MF/{fid}"),
        _ => format!("file #{}", e.node),
    };
    let name = crate::message::printable(&name);
    let sfi = e.sfi.map(|s| format!("SFI {s:02X}, ")).unwrap_or_default();
    let structure = e.structure.as_deref().unwrap_or("?");
    match &e.content {
        Content::Records(records) => {
            let n = records.len();
            let plural = if n == 1 { "" } else { "s" };
            writeln!(f, "  {name} ({sfi}{structure}, {n} record{plural})")?;
            for (i, r) in records.iter().enumerate() {
                writeln!(f, "    {:>3}: {}", i + 1, spaced(r))?;
            }
        }
        Content::Binary(hex) => {
            let len = hex.len() / 2;
            writeln!(f, "  {name} ({sfi}{structure}, {len} bytes)")?;
            let used = hex.trim_end_matches('0').len().div_ceil(2);
            let mut at = 0;
            while at < used {
                let end = (at + 32).min(len);
                let row = hex.get(at * 2..end * 2).unwrap_or_default();
                writeln!(f, "    {at:04X}: {}", spaced(row))?;
                at = end;
            }
            if used < len {
                writeln!(f, "    {used:04X}: 00 to the end ({} bytes)", len - used)?;
            }
        }
    }
    Ok(())
}

/// Compact hex with a space between bytes.
fn spaced(hex: &str) -> String {
    let bytes: Vec<&str> = (0..hex.len() / 2)
        .filter_map(|i| hex.get(i * 2..i * 2 + 2))
        .collect();
    bytes.join(" ")
}
