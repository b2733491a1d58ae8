//! The card: persistent state (files, PIN objects), volatile state (selection, security
//! status, pending response), one exhaustive dispatch, and T=0 response shaping.
//!
//! Data path (design/ARCHITECTURE.md): bytes -> [`CommandApdu`] -> [`Command`] -> handler ->
//! `Result<Response, StatusWord>` -> T=0/T=1 shaping -> bytes.

use apdu::{ApduResult, Case, CommandApdu, Response, StatusWord};

use crate::access::{Granted, KeySet};
use crate::command::{Command, FileRef, Occurrence, RecordMode, SelectBy};
use crate::fs::{EfContent, FileSystem, MF, Node, NodeId};
use crate::pin::{PinError, PinObject};
use crate::profile::{Profile, Protocol};

/// A PIN object and the application that owns it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct OwnedPin {
    owner: NodeId,
    pin: PinObject,
}

/// What survives a reset or power cut.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Persistent {
    fs: FileSystem,
    pins: Vec<OwnedPin>,
}

/// What a reset clears (SSC-CARD.md §9.2; SECURITY.md §1 rule 8).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Volatile {
    current_df: NodeId,
    current_ef: Option<NodeId>,
    /// Index of the current record in the current EF (ISO 7816-4 record pointer).
    record_pointer: Option<usize>,
    /// Bit n: `pins[n]` verified since the application was entered.
    verified: u64,
    /// Key ids externally authenticated in the current application.
    keys: KeySet,
    /// Response data waiting for GET RESPONSE (T=0).
    pending: Vec<u8>,
}

impl Volatile {
    fn new() -> Self {
        Self {
            current_df: MF,
            current_ef: None,
            record_pointer: None,
            verified: 0,
            keys: KeySet::EMPTY,
            pending: Vec::new(),
        }
    }
}

/// A social security card built from a profile, answering APDUs.
#[derive(Clone, Debug)]
pub struct Card {
    atr: Vec<u8>,
    protocol: Protocol,
    persistent: Persistent,
    volatile: Volatile,
}

impl Card {
    /// A fresh card, powered on, as the profile describes it.
    #[must_use]
    pub fn new(profile: &Profile) -> Self {
        let fs = FileSystem::from_profile(profile);
        let pins = profile
            .pins
            .iter()
            .map(|p| {
                let owner = profile
                    .dfs
                    .iter()
                    .position(|d| d.id == p.parent)
                    .map_or(MF, |i| fs.df_index_to_node(i));
                OwnedPin {
                    owner,
                    pin: PinObject::new(
                        p.reference,
                        p.encoding,
                        (p.min_digits, p.max_digits),
                        p.value,
                        p.max_tries,
                    ),
                }
            })
            .collect();
        Self {
            atr: profile.atr.clone(),
            protocol: profile.protocol,
            persistent: Persistent { fs, pins },
            volatile: Volatile::new(),
        }
    }

    /// A fresh card from the default built-in profile (`gen3`).
    ///
    /// # Errors
    /// Only if the built-in profile were broken, which the tests rule out.
    pub fn default_card() -> Result<Self, crate::ProfileError> {
        Ok(Self::new(&Profile::builtin(
            crate::profile::DEFAULT_PROFILE,
        )?))
    }

    /// The answer to reset.
    #[must_use]
    pub fn atr(&self) -> &[u8] {
        &self.atr
    }

    /// Warm reset or power cycle: clears all volatile state and answers the ATR.
    pub fn reset(&mut self) -> &[u8] {
        self.volatile = Volatile::new();
        &self.atr
    }

    /// Sends one command APDU and returns the response bytes (data, SW1, SW2).
    pub fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.transmit_into(apdu, &mut out);
        out
    }

    /// As [`Card::transmit`], writing into `out` (cleared first) to reuse its buffer.
    pub fn transmit_into(&mut self, apdu: &[u8], out: &mut Vec<u8>) {
        out.clear();
        let parsed = CommandApdu::parse(apdu);
        let result = match &parsed {
            // A malformed APDU: wrong length, nothing else looked at (SECURITY.md, bad input).
            Err(_) => {
                self.volatile.pending.clear();
                Err(StatusWord::WrongLength)
            }
            Ok(command) => self.process(command),
        };
        match (result, parsed) {
            (Ok(response), Ok(command)) => self.shape(&command, response, out),
            (Ok(response), Err(_)) => response.encode_into(out),
            (Err(sw), _) => out.extend_from_slice(&sw.to_bytes()),
        }
    }

    fn process(&mut self, apdu: &CommandApdu<'_>) -> ApduResult<Response> {
        let command = Command::try_from(apdu);
        // Response data is available to the GET RESPONSE immediately following only.
        if !matches!(command, Ok(Command::GetResponse { .. })) {
            self.volatile.pending.clear();
        }
        self.execute(command?)
    }

    /// The one dispatch: every command variant has its handler, no catch-all.
    fn execute(&mut self, command: Command<'_>) -> ApduResult<Response> {
        match command {
            Command::Select { target, return_fci } => self.select(target, return_fci),
            Command::ReadRecord { file, p1, mode } => self.read_record(file, p1, mode),
            Command::Verify { reference, data } => self.verify(reference, data),
            Command::GetResponse { ne } => self.get_response(ne),
        }
    }

    /// T=0 procedure statuses (SSC-CARD.md §4.3, ISO 7816-3 §12.2): data for a case 2
    /// command is returned when Le matches it exactly, else `6Cxx`; data for any other case
    /// waits for GET RESPONSE behind `61xx`. Under T=1 data is returned up to Ne.
    fn shape(&mut self, apdu: &CommandApdu<'_>, response: Response, out: &mut Vec<u8>) {
        if response.data.is_empty() || response.sw != StatusWord::Success {
            response.encode_into(out);
            return;
        }
        let len = response.data.len();
        let ne = apdu.ne.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        let sw = match (self.protocol, apdu.case(), ne) {
            (Protocol::T0, Case::Two, Some(ne)) if ne == len => return response.encode_into(out),
            (Protocol::T0, Case::Two, _) => StatusWord::WrongLe(short_len(len)),
            (Protocol::T0, _, _) => {
                self.volatile.pending = response.data;
                StatusWord::MoreAvailable(short_len(len))
            }
            (Protocol::T1, _, Some(ne)) if len <= ne => return response.encode_into(out),
            (Protocol::T1, _, Some(_)) => StatusWord::WrongLe(short_len(len)),
            // T=1 without Le: no response data is expected.
            (Protocol::T1, _, None) => StatusWord::Success,
        };
        out.extend_from_slice(&sw.to_bytes());
    }

    // --- Handlers ---------------------------------------------------------------------------

    /// SELECT (SSC-CARD.md §3.2, §4.1): a DF answers its FCI, an EF answers 9000 alone.
    /// On failure the selection is unchanged.
    fn select(&mut self, target: SelectBy<'_>, return_fci: bool) -> ApduResult<Response> {
        let fs = &self.persistent.fs;
        let current = self.volatile.current_df;
        let found = match target {
            SelectBy::Fid(None) => Some(MF),
            SelectBy::Fid(Some(fid)) => fs.resolve_fid(current, fid),
            SelectBy::ChildDf(fid) => fs
                .child_by_fid(current, fid)
                .filter(|n| fs.df(*n).is_some()),
            SelectBy::ChildEf(fid) => fs
                .child_by_fid(current, fid)
                .filter(|n| fs.ef(*n).is_some()),
            SelectBy::Parent => fs.df(current).and_then(|d| d.parent),
            SelectBy::DfName { name, next } => {
                let first = fs.dfs_by_name(name).next();
                if next {
                    // The occurrence after the current DF; the first if the current DF is
                    // not among the matches (ISO 7816-4 §7.1.1, P2 = 02).
                    let mut after = fs.dfs_by_name(name).skip_while(|n| *n != current);
                    match after.next() {
                        Some(_) => after.next(),
                        None => first,
                    }
                } else {
                    first
                }
            }
        };
        let found = found.ok_or(StatusWord::FileNotFound)?;
        match fs.node(found) {
            Some(Node::Df(df)) => {
                let fci = if return_fci { df.fci.clone() } else { None };
                self.enter_df(found);
                Ok(Response::new(fci.unwrap_or_default(), StatusWord::Success))
            }
            Some(Node::Ef(_)) => {
                self.set_current_ef(found);
                Ok(Response::status(StatusWord::Success))
            }
            None => Err(StatusWord::FileNotFound),
        }
    }

    /// Makes `df` current; leaving an application clears its security status (§5.1, §9.2).
    fn enter_df(&mut self, df: NodeId) {
        let fs = &self.persistent.fs;
        if fs.application_of(df) != fs.application_of(self.volatile.current_df) {
            self.volatile.verified = 0;
            self.volatile.keys = KeySet::EMPTY;
        }
        self.volatile.current_df = df;
        self.volatile.current_ef = None;
        self.volatile.record_pointer = None;
    }

    fn set_current_ef(&mut self, ef: NodeId) {
        if self.volatile.current_ef != Some(ef) {
            self.volatile.current_ef = Some(ef);
            self.volatile.record_pointer = None;
        }
    }

    /// The EF a command addresses; an SFI makes that EF current (ISO 7816-4 §7.2.2).
    fn resolve_ef(&mut self, file: FileRef) -> ApduResult<NodeId> {
        let ef = match file {
            FileRef::Current => self.volatile.current_ef.ok_or(StatusWord::NoCurrentEf)?,
            FileRef::Sfi(sfi) => self
                .persistent
                .fs
                .ef_by_sfi(self.volatile.current_df, sfi)
                .ok_or(StatusWord::FileNotFound)?,
        };
        self.set_current_ef(ef);
        Ok(ef)
    }

    /// The security status in the current application.
    fn granted(&self) -> Granted {
        let app = self.persistent.fs.application_of(self.volatile.current_df);
        let pin = self
            .persistent
            .pins
            .iter()
            .enumerate()
            .any(|(i, p)| p.owner == app && self.volatile.verified & bit(i) != 0);
        Granted {
            pin,
            keys: self.volatile.keys,
        }
    }

    /// READ RECORD (SSC-CARD.md §3.4, §4.1): by number, P1 to last, last to P1, or by
    /// identifier (first/last/next/previous occurrence), current EF or by SFI.
    fn read_record(&mut self, file: FileRef, p1: u8, mode: RecordMode) -> ApduResult<Response> {
        let id = self.resolve_ef(file)?;
        let granted = self.granted();
        let pointer = self.volatile.record_pointer;
        let ef = self.persistent.fs.ef(id).ok_or(StatusWord::NoCurrentEf)?;
        let EfContent::Records(records) = &ef.content else {
            return Err(StatusWord::IncompatibleFileStructure);
        };
        if !ef.read.allows(granted) {
            return Err(StatusWord::SecurityStatusNotSatisfied);
        }
        // P1 = 00 in the number modes means the current record.
        let number = || match p1 {
            0 => pointer.ok_or(StatusWord::RecordNotFound),
            n => Ok(usize::from(n) - 1),
        };
        let (data, new_pointer) = match mode {
            RecordMode::Number => {
                let i = number()?;
                (
                    records.get(i).ok_or(StatusWord::RecordNotFound)?.clone(),
                    pointer,
                )
            }
            RecordMode::FromNumberToLast | RecordMode::FromLastToNumber => {
                let i = number()?;
                let selected = records
                    .get(i..)
                    .filter(|r| !r.is_empty())
                    .ok_or(StatusWord::RecordNotFound)?;
                let data = if mode == RecordMode::FromNumberToLast {
                    selected.concat()
                } else {
                    selected.iter().rev().flatten().copied().collect()
                };
                (data, pointer)
            }
            RecordMode::Identifier(occurrence) => {
                let hit = |r: &Vec<u8>| p1 == 0 || r.first() == Some(&p1);
                let found = match (occurrence, pointer) {
                    (Occurrence::First, _) | (Occurrence::Next, None) => {
                        records.iter().position(hit)
                    }
                    (Occurrence::Last, _) | (Occurrence::Previous, None) => {
                        records.iter().rposition(hit)
                    }
                    (Occurrence::Next, Some(p)) => records
                        .iter()
                        .enumerate()
                        .skip(p + 1)
                        .find(|(_, r)| hit(r))
                        .map(|(i, _)| i),
                    (Occurrence::Previous, Some(p)) => records.iter().take(p).rposition(hit),
                };
                let i = found.ok_or(StatusWord::RecordNotFound)?;
                (
                    records.get(i).ok_or(StatusWord::RecordNotFound)?.clone(),
                    Some(i),
                )
            }
        };
        self.volatile.record_pointer = new_pointer;
        Ok(Response::new(data, StatusWord::Success))
    }

    /// VERIFY (SSC-CARD.md §5.1; SECURITY.md §1): the PIN of the current application with
    /// reference P2; no data asks for the status without costing a try.
    fn verify(&mut self, reference: u8, data: &[u8]) -> ApduResult<Response> {
        let app = self.persistent.fs.application_of(self.volatile.current_df);
        let (index, owned) = self
            .persistent
            .pins
            .iter_mut()
            .enumerate()
            .find(|(_, p)| p.owner == app && p.pin.reference == reference)
            .ok_or(StatusWord::ReferenceNotFound)?;
        let bit = bit(index);
        if data.is_empty() {
            return if owned.pin.is_blocked() {
                Err(StatusWord::AuthenticationMethodBlocked)
            } else if self.volatile.verified & bit != 0 {
                Ok(Response::status(StatusWord::Success))
            } else {
                Err(owned.pin.query())
            };
        }
        match owned.pin.verify(data) {
            Ok(()) => {
                self.volatile.verified |= bit;
                Ok(Response::status(StatusWord::Success))
            }
            Err(e) => {
                // A compared-and-failed PIN loses its verified status (ISO 7816-4 §11.5.6).
                if matches!(e, PinError::Mismatch { .. } | PinError::Blocked) {
                    self.volatile.verified &= !bit;
                }
                Err(e.into())
            }
        }
    }

    /// GET RESPONSE (SSC-CARD.md §4.1): Le beyond what is pending answers `6Cxx`, less
    /// answers Le bytes and `61xx` for the rest; nothing pending answers 6F00.
    fn get_response(&mut self, ne: u32) -> ApduResult<Response> {
        let pending = &mut self.volatile.pending;
        if pending.is_empty() {
            return Err(StatusWord::NoPreciseDiagnosis);
        }
        let available = pending.len();
        let ne = usize::try_from(ne).unwrap_or(usize::MAX);
        if ne > available {
            return Err(StatusWord::WrongLe(short_len(available)));
        }
        let data: Vec<u8> = pending.drain(..ne).collect();
        let sw = match pending.len() {
            0 => StatusWord::Success,
            rest => StatusWord::MoreAvailable(short_len(rest)),
        };
        Ok(Response::new(data, sw))
    }

    /// True when both cards hold the same persistent state (files, PIN values and counters):
    /// what a power cut cannot take away. Tests use it to show a rejected command changed
    /// nothing.
    #[must_use]
    pub fn same_persistent_state(&self, other: &Self) -> bool {
        self.persistent == other.persistent
    }

    /// Bytes of heap the card's state holds (files, PINs, buffers), for the size budget.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.persistent.fs.heap_bytes()
            + self.persistent.pins.capacity() * std::mem::size_of::<OwnedPin>()
            + self.atr.capacity()
            + self.volatile.pending.capacity()
    }
}

/// The security-status bit of PIN number `index` (profiles hold at most 64 PINs).
fn bit(index: usize) -> u64 {
    u32::try_from(index)
        .ok()
        .and_then(|i| 1u64.checked_shl(i))
        .unwrap_or(0)
}

/// A length as the one byte of `61xx`/`6Cxx`: 256 and more are `00`.
fn short_len(len: usize) -> u8 {
    u8::try_from(len).unwrap_or(0)
}
