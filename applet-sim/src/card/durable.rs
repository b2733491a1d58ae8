//! The card on durable storage (storage.rs): opening a state file over the profile's initial
//! state, the write points of the card's handlers, compaction, and the checks the tearing
//! tests make after a power cut.

use std::fmt;
use std::path::Path;

use apdu::{ApduResult, StatusWord};

use super::Card;
use super::state::{AppBlock, Persistent};
use crate::fs::{EfContent, Node, NodeId};
use crate::model::pin::PinObject;
use crate::model::{AppKind, Salt, Sealing};
use crate::profile::Profile;
use crate::storage::{
    Declaration, EfData, FileMedium, Journal, Medium, OpenError, Record, StateError,
    StorageFailure, WritePoint, fnv1a,
};

/// The card's storage: none (volatile) or a journal. Not `Clone`: two cards never share
/// one state file.
#[derive(Default)]
pub(crate) struct Storage(pub(super) Option<Journal>);

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("volatile"),
            Some(j) => j.fmt(f),
        }
    }
}

impl Storage {
    /// Writes a record at a write point (nothing without a journal).
    /// The record is only built when there is a journal: a volatile card (the APDU hot
    /// path) pays nothing at its write points.
    pub(crate) fn write(
        &mut self,
        point: WritePoint,
        record: impl FnOnce() -> Option<Record>,
    ) -> Result<(), StorageFailure> {
        match (&mut self.0, point) {
            (None, _) => Ok(()),
            (Some(j), point) => match record() {
                Some(r) => j.write(point, &r),
                None => Err(StorageFailure {
                    point,
                    message: "no such datum".into(),
                }),
            },
        }
    }

    pub(crate) fn failed(&self) -> bool {
        self.0.as_ref().is_some_and(Journal::failed)
    }
}

/// A datum of the persistent state (what one record holds).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Datum {
    Key(usize),
    /// A key's value and counter (the PKI key update).
    KeyValue(usize),
    /// The PKI application's private keys.
    PkiKeys,
    Ef(NodeId),
    Lifecycle,
    /// The medical e-purse's state (docs/CARD.md §4.6).
    Purse,
}

/// The record of PIN object `index`: its sealed value and counter (`None` for a value in
/// the clear, which never goes to a state file).
pub(crate) fn pin_record(index: usize, pin: &PinObject) -> Option<Record> {
    Some(Record::Pin {
        index: u16::try_from(index).ok()?,
        sealed: pin.secret().sealed()?,
        remaining: pin.remaining(),
    })
}

/// The fingerprint of a profile's layout: a state file belongs to one (files, PINs, keys).
#[must_use]
pub(crate) fn fingerprint(profile: &Profile) -> u64 {
    let mut layout = String::new();
    for d in &profile.dfs {
        layout.push_str(&format!("df {} {} {:?};", d.id, d.parent, d.fid));
    }
    for e in &profile.efs {
        layout.push_str(&format!(
            "ef {} {:04X} {:?} {} {};",
            e.parent, e.control.fid, e.control.structure, e.control.capacity, e.control.record_size
        ));
    }
    for p in &profile.pins {
        layout.push_str(&format!(
            "pin {} {:02X} {:?};",
            p.parent, p.reference, p.encoding
        ));
    }
    for k in &profile.keys {
        layout.push_str(&format!("key {} {:02X} {};", k.parent, k.id, k.version));
    }
    // The purse is not part of the layout: a file written before the profile had one opens
    // with the purse in its initial state (a purse record without a purse is refused).
    fnv1a(layout.as_bytes())
}

/// The declaration a state file made from `profile` records: its name and digest.
#[must_use]
pub(crate) fn declaration(profile: &Profile) -> Declaration {
    Declaration::new(&profile.source_name, profile.digest())
}

impl Persistent {
    /// Every datum as a record: the content of a new or compacted state file.
    fn records(&self) -> Vec<Record> {
        let mut out: Vec<Record> = self
            .pins
            .iter()
            .enumerate()
            .filter_map(|(i, p)| pin_record(i, &p.pin))
            .collect();
        for i in 0..self.keys.len() {
            out.extend(self.record(Datum::Key(i)));
        }
        // A key's value and the private keys only once they differ from the profile's
        // (a state file of a card that never used them reads as before).
        for (i, k) in self.keys.iter().enumerate() {
            if k.value_changed {
                out.extend(self.record(Datum::KeyValue(i)));
            }
        }
        if !self.pki.is_empty() {
            out.extend(self.record(Datum::PkiKeys));
        }
        for node in self.fs.ef_nodes() {
            out.extend(self.record(Datum::Ef(node)));
        }
        out.extend(self.record(Datum::Lifecycle));
        out.extend(self.record(Datum::Purse));
        out
    }

    /// The current record of a datum.
    fn record(&self, datum: Datum) -> Option<Record> {
        Some(match datum {
            Datum::Key(i) => Record::Key {
                index: u16::try_from(i).ok()?,
                remaining: self.keys.get(i)?.remaining,
            },
            Datum::KeyValue(i) => {
                let k = self.keys.get(i)?;
                Record::KeyValue {
                    index: u16::try_from(i).ok()?,
                    value: k.value.clone(),
                    remaining: k.remaining,
                }
            }
            Datum::PkiKeys => Record::PkiKeys(self.pki.to_record()),
            Datum::Ef(node) => Record::Ef {
                node: node.raw(),
                content: match &self.fs.ef(node)?.content {
                    EfContent::Transparent(b) => EfData::Transparent(b.clone()),
                    EfContent::Records(r) => EfData::Records(r.clone()),
                },
            },
            Datum::Lifecycle => Record::Lifecycle {
                card_blocked: self.lifecycle.card_blocked,
                blocked_apps: self
                    .lifecycle
                    .blocked_apps
                    .iter()
                    .map(|(n, b)| (n.raw(), *b == AppBlock::Permanent))
                    .collect(),
            },
            Datum::Purse => Record::Purse(self.purse.as_ref()?.state.clone()),
        })
    }

    /// Keeps every PIN value sealed under a state file's salt (model/secret.rs); the PKI key
    /// is kept only for a PIN in whose scope a PKI application lies (VERIFY by cryptogram).
    pub(super) fn seal_pins(&mut self, salt: Salt) {
        for (i, p) in self.pins.iter_mut().enumerate() {
            p.pin.seal(Sealing {
                salt,
                index: u16::try_from(i).unwrap_or(u16::MAX),
                keeps_pki_key: self.fs.reaches_kind(p.owner, AppKind::Pki),
            });
        }
    }

    /// The salt the PIN values are sealed under (`None` when they are in the clear).
    #[cfg(any(test, feature = "testing"))]
    pub(super) fn salt(&self) -> Option<Salt> {
        self.pins.iter().find_map(|p| match p.pin.secret() {
            crate::model::Secret::Sealed(sealing, _) => Some(sealing.salt),
            crate::model::Secret::Clear(_) => None,
        })
    }

    /// Applies a record read from a state file; a record that does not fit this profile's
    /// layout (an index or node out of range, a content of the wrong shape or size) is an
    /// error, and the file is refused.
    fn apply(&mut self, record: Record) -> Result<(), String> {
        match record {
            Record::Pin {
                index,
                sealed,
                remaining,
            } => {
                let p = self.pins.get_mut(usize::from(index)).ok_or(format!(
                    "a record for PIN #{index}, which the profile lacks"
                ))?;
                if !p.pin.restore_sealed(sealed, remaining) {
                    return Err(format!(
                        "a sealed record for PIN #{index}, kept in the clear"
                    ));
                }
            }
            Record::LegacyPin {
                index,
                value,
                remaining,
            } => {
                let p = self.pins.get_mut(usize::from(index)).ok_or(format!(
                    "a record for PIN #{index}, which the profile lacks"
                ))?;
                p.pin.restore_state(value, remaining);
            }
            Record::Key { index, remaining } => {
                let k = self.keys.get_mut(usize::from(index)).ok_or(format!(
                    "a record for key #{index}, which the profile lacks"
                ))?;
                k.remaining = remaining.min(k.max_tries);
            }
            Record::KeyValue {
                index,
                value,
                remaining,
            } => {
                let k = self.keys.get_mut(usize::from(index)).ok_or(format!(
                    "a record for key #{index}, which the profile lacks"
                ))?;
                if value.len() != k.value.len() {
                    return Err(format!("a value of {} bytes for key #{index}", value.len()));
                }
                k.value = value;
                k.value_changed = true;
                k.remaining = remaining.min(k.max_tries);
            }
            Record::PkiKeys(keys) => {
                self.pki = super::pki_data::PrivateKeys::from_record(&self.fs, keys)?;
            }
            Record::Ef { node, content } => {
                let ef = self
                    .fs
                    .ef_mut(NodeId::from_raw(node))
                    .ok_or(format!("a record for file #{node}, which is not an EF"))?;
                match (&mut ef.content, content) {
                    (EfContent::Transparent(old), EfData::Transparent(new))
                        if old.len() == new.len() =>
                    {
                        *old = new;
                    }
                    (EfContent::Records(old), EfData::Records(new))
                        if new.len() <= ef.control.capacity
                            && new.iter().all(|r| r.len() <= ef.control.record_size) =>
                    {
                        *old = new;
                    }
                    _ => {
                        return Err(format!(
                            "a record for EF {:04X} that does not fit it",
                            ef.control.fid
                        ));
                    }
                }
            }
            Record::Batch(records) => {
                for r in records {
                    self.apply(r)?;
                }
            }
            Record::Purse(state) => {
                self.purse
                    .as_mut()
                    .ok_or("a purse record, and the profile has no purse")?
                    .state = state;
            }
            Record::Lifecycle {
                card_blocked,
                blocked_apps,
            } => {
                self.lifecycle.card_blocked = card_blocked;
                let mut seen = std::collections::BTreeSet::new();
                if !blocked_apps.iter().all(|(n, _)| seen.insert(*n)) {
                    return Err("an application blocked twice in one life-cycle record".into());
                }
                self.lifecycle.blocked_apps = blocked_apps
                    .into_iter()
                    .map(|(n, permanent)| {
                        let node = NodeId::from_raw(n);
                        match self.fs.node(node) {
                            Some(Node::Df(_)) => Ok((
                                node,
                                if permanent {
                                    AppBlock::Permanent
                                } else {
                                    AppBlock::Temporary
                                },
                            )),
                            _ => Err(format!("a block of file #{n}, which is not a DF")),
                        }
                    })
                    .collect::<Result<_, _>>()?;
            }
        }
        Ok(())
    }
}

impl Card {
    /// A card whose persistent state lives in the state file `path` (`--state`): created
    /// from the profile when missing, else read back. The file is locked while the card is
    /// open. The file records the declaration it was made from (the profile's name and
    /// digest); opened with a profile that declares another card (another profile, or this
    /// one edited since) it is refused, naming both. A file of an older build, which records
    /// none, is taken as this profile's and records it from now on
    /// ([`Card::state_file_adopted`]).
    ///
    /// # Errors
    /// [`StateError`]: a refused file (corrupt, truncated, another profile's, a newer
    /// format: left exactly as it was), a lock held by another process, I/O.
    pub fn open(profile: &Profile, path: &Path) -> Result<Self, StateError> {
        let (medium, created) = FileMedium::open(path)?;
        Self::open_medium(profile, Box::new(medium), created)
            .map_err(|e| state_error(e, profile, path))
    }

    /// A card on the state file `path` started again from the profile (`--reset-state`):
    /// whatever state the file holds is replaced, atomically, by the profile's initial
    /// state (a missing file is created). Only a state file is replaced (one that starts
    /// with its magic, even if damaged or another profile's), or an empty one; any other
    /// file is refused and left as it was. The same checks as [`Card::open`] apply (owner,
    /// mode, regular file, lock).
    ///
    /// # Errors
    /// [`StateError`]: a file that is not a state file, an unsafe file, a lock held by
    /// another process, I/O.
    pub fn recreate(profile: &Profile, path: &Path) -> Result<Self, StateError> {
        let (medium, _) = FileMedium::open(path)?;
        let mut card = Self::new(profile);
        let mut journal =
            Journal::recreate(Box::new(medium), fingerprint(profile), declaration(profile))
                .map_err(|e| state_error(e, profile, path))?;
        card.persistent.seal_pins(journal.salt());
        journal
            .compact(&card.persistent.records())
            .map_err(|e| state_error(OpenError::Io(e), profile, path))?;
        card.store = Storage(Some(journal));
        Ok(card)
    }

    /// True when the state file recorded no declaration (an older build wrote it) and was
    /// taken as this card's profile's; it records it from now on. Front ends say so: if the
    /// file came from another profile of the same layout, `--reset-state` starts again.
    #[must_use]
    pub fn state_file_adopted(&self) -> bool {
        self.store.0.as_ref().is_some_and(Journal::adopted)
    }

    /// True when [`Card::open`] made this card's state file (none existed): the card
    /// started from the profile. False for a card read back from its file, or without one.
    #[must_use]
    pub fn state_file_created(&self) -> bool {
        self.store.0.as_ref().is_some_and(Journal::created)
    }

    pub(super) fn open_medium(
        profile: &Profile,
        medium: Box<dyn Medium>,
        new: bool,
    ) -> Result<Self, OpenError> {
        let mut card = Self::new(profile);
        let (mut journal, opened) =
            Journal::open(medium, fingerprint(profile), declaration(profile), new)?;
        card.persistent.seal_pins(journal.salt());
        if opened.new {
            journal
                .compact(&card.persistent.records())
                .map_err(OpenError::Io)?;
        }
        for r in opened.records {
            card.persistent.apply(r).map_err(OpenError::Refused)?;
        }
        if opened.migrate_from.is_some() {
            // An older format, every record accepted: rewritten whole in the current one
            // (atomically; a torn tail is left out with the rest).
            journal
                .compact(&card.persistent.records())
                .map_err(OpenError::Io)?;
        } else if let Some(at) = opened.torn_tail_at {
            journal.drop_torn_tail(at).map_err(OpenError::Io)?;
        }
        card.store = Storage(Some(journal));
        Ok(card)
    }

    /// Puts the card back in `initial`'s persistent state with fresh volatile state (the
    /// `serve` restore, SIGHUP); on durable storage the whole state is rewritten atomically.
    ///
    /// # Errors
    /// The I/O error of the rewrite (the card then refuses commands).
    pub(super) fn restore_state(&mut self, initial: &Self) -> std::io::Result<()> {
        self.persistent = initial.persistent.clone();
        self.volatile = super::state::Volatile::new();
        match &mut self.store.0 {
            Some(j) => {
                self.persistent.seal_pins(j.salt());
                j.compact(&self.persistent.records())
            }
            None => Ok(()),
        }
    }

    /// Syncs pending records (the unsynced counter restores) — before a clean exit.
    ///
    /// # Errors
    /// The I/O error.
    pub(super) fn sync_state(&mut self) -> std::io::Result<()> {
        match &mut self.store.0 {
            Some(j) => j.flush(),
            None => Ok(()),
        }
    }

    /// Makes a datum durable at a write point: 6581 when the storage fails.
    pub(super) fn commit(&mut self, point: WritePoint, datum: Datum) -> ApduResult<()> {
        let persistent = &self.persistent;
        self.store
            .write(point, || persistent.record(datum))
            .map_err(|_| StatusWord::MemoryFailure)
    }

    /// Makes several data durable together: one batch record (a power cut keeps all or none).
    pub(super) fn commit_all(&mut self, point: WritePoint, data: &[Datum]) -> ApduResult<()> {
        let persistent = &self.persistent;
        self.store
            .write(point, || {
                data.iter()
                    .map(|d| persistent.record(*d))
                    .collect::<Option<Vec<_>>>()
                    .map(Record::Batch)
            })
            .map_err(|_| StatusWord::MemoryFailure)
    }

    /// Makes PIN objects durable together: one record, or one batch record for several (a
    /// power cut keeps all or none). Nothing for an empty list.
    pub(super) fn commit_pins(&mut self, point: WritePoint, indices: &[usize]) -> ApduResult<()> {
        if indices.is_empty() {
            return Ok(());
        }
        let pins = &self.persistent.pins;
        let record = || {
            let mut records: Vec<Record> = indices
                .iter()
                .filter_map(|&i| pins.get(i).and_then(|p| pin_record(i, &p.pin)))
                .collect();
            match records.len() {
                1 => records.pop(),
                _ => Some(Record::Batch(records)),
            }
        };
        self.store
            .write(point, record)
            .map_err(|_| StatusWord::MemoryFailure)
    }

    /// Runs `f` on PIN object `index` with the commit that writes its records.
    pub(super) fn with_pin<R>(
        &mut self,
        index: usize,
        f: impl FnOnce(&mut PinObject, &mut crate::model::pin::Commit<'_>) -> R,
    ) -> ApduResult<R> {
        let store = &mut self.store;
        let owned = self
            .persistent
            .pins
            .get_mut(index)
            .ok_or(StatusWord::ReferenceNotFound)?;
        let mut commit =
            |point: WritePoint, pin: &PinObject| store.write(point, || pin_record(index, pin));
        Ok(f(&mut owned.pin, &mut commit))
    }

    /// After a command: compacts a long journal (a failure leaves the old file and makes
    /// the card refuse commands).
    pub(super) fn maintain_storage(&mut self) {
        if let Some(j) = &mut self.store.0
            && j.wants_compaction()
        {
            let records = self.persistent.records();
            let _ = j.compact(&records);
        }
    }
}

/// A journal's refusal as a [`StateError`] naming the file.
fn state_error(e: OpenError, profile: &Profile, path: &Path) -> StateError {
    match e {
        OpenError::Refused(reason) => StateError::Refused {
            path: path.to_owned(),
            reason,
        },
        OpenError::OtherDeclaration(recorded) => StateError::OtherDeclaration {
            path: path.to_owned(),
            recorded: Box::new(recorded),
            current: Box::new(declaration(profile)),
        },
        OpenError::Io(source) => StateError::Io {
            path: path.to_owned(),
            what: "cannot read or write",
            source,
        },
    }
}
