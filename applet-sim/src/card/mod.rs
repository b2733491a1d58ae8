//! The card: persistent state (files, PIN objects, keys), volatile state (selection, security
//! status, challenge, pending response), one exhaustive dispatch, and T=0 response shaping.
//!
//! Data path (design/ARCHITECTURE.md): bytes -> [`CommandApdu`] -> [`Command`] -> handler ->
//! `Result<Response, StatusWord>` -> T=0/T=1 shaping -> bytes. Handlers live by subject in
//! `files.rs` (SELECT, binary and record commands) and `pins.rs` (VERIFY and PIN changes).

mod auth;
mod durable;
pub use durable::fingerprint;
mod files;
mod lifecycle;
mod pboc;
mod pins;

use apdu::{ApduResult, Case, CommandApdu, Response, StatusWord};

use crate::access::{Granted, KeySet};
use crate::command::Command;
use crate::fs::{FileSystem, MF, NodeId};
use crate::pin::PinObject;
use crate::profile::{AppKind, CipherSuite, Profile, Protocol};

/// A PIN object and the DF it belongs to (it applies in that DF and below).
#[derive(Clone, Debug, PartialEq, Eq)]
struct OwnedPin {
    owner: NodeId,
    pin: PinObject,
    unblock: crate::profile::Unblock,
}

/// A card key (SSC-CARD.md §6.7), held for the issuer-security commands.
#[derive(Clone, Debug, PartialEq, Eq)]
struct CardKey {
    owner: NodeId,
    id: u8,
    version: u8,
    value: Vec<u8>,
    max_tries: u8,
    remaining: u8,
}

/// What survives a reset or power cut.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Persistent {
    fs: FileSystem,
    pins: Vec<OwnedPin>,
    keys: Vec<CardKey>,
    lifecycle: lifecycle::Lifecycle,
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
    /// The last GET CHALLENGE answer, until used, reset or another application (§6.2).
    challenge: Option<([u8; 16], u8)>,
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
            challenge: None,
            pending: Vec::new(),
        }
    }
}

/// The card's random source for GET CHALLENGE: SplitMix64, seeded from the profile option
/// (reproducible vectors) or from the process's random hasher keys. Challenges need to be
/// fresh, not secret, in a simulator.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: Option<u64>) -> Self {
        Self(seed.unwrap_or_else(|| {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(0x5353_4300);
            h.finish()
        }))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let bytes = self.next_u64().to_be_bytes();
            chunk.copy_from_slice(bytes.get(..chunk.len()).unwrap_or_default());
        }
    }
}

/// A social security card built from a profile, answering APDUs.
#[derive(Clone, Debug)]
pub struct Card {
    atr: Vec<u8>,
    protocol: Protocol,
    cipher: CipherSuite,
    persistent: Persistent,
    volatile: Volatile,
    rng: Rng,
    store: durable::Storage,
}

impl Card {
    /// A fresh card, powered on, as the profile describes it.
    #[must_use]
    pub fn new(profile: &Profile) -> Self {
        let fs = FileSystem::from_profile(profile);
        let owner = |label: &str| {
            profile
                .dfs
                .iter()
                .position(|d| d.id == label)
                .map_or(MF, |i| fs.df_index_to_node(i))
        };
        let pins = profile
            .pins
            .iter()
            .map(|p| OwnedPin {
                owner: owner(&p.parent),
                pin: PinObject::new(
                    p.reference,
                    p.encoding,
                    (p.min_digits, p.max_digits),
                    p.value,
                    p.max_tries,
                ),
                unblock: p.unblock,
            })
            .collect();
        let keys = profile
            .keys
            .iter()
            .map(|k| CardKey {
                owner: owner(&k.parent),
                id: k.id,
                version: k.version,
                value: k.value.clone(),
                max_tries: k.max_tries,
                remaining: k.max_tries,
            })
            .collect();
        Self {
            atr: profile.atr.clone(),
            protocol: profile.protocol,
            cipher: profile.cipher,
            persistent: Persistent {
                fs,
                pins,
                keys,
                lifecycle: lifecycle::Lifecycle::default(),
            },
            volatile: Volatile::new(),
            rng: Rng::new(profile.options.challenge_seed),
            store: durable::Storage::default(),
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
        let Ok(command) = CommandApdu::parse(apdu) else {
            // A malformed APDU: wrong length, nothing else looked at (SECURITY.md, bad input).
            self.volatile.pending.clear();
            out.extend_from_slice(&StatusWord::WrongLength.to_bytes());
            return;
        };
        match self.process(&command) {
            Ok(response) => self.shape(&command, response, out),
            Err(sw) => out.extend_from_slice(&sw.to_bytes()),
        }
        self.maintain_storage();
    }

    fn process(&mut self, apdu: &CommandApdu<'_>) -> ApduResult<Response> {
        // A storage failure fails closed: nothing more is compared or written (SECURITY.md
        // §1 rule 9) until the card is reopened from its state file.
        if self.store.failed() {
            return Err(StatusWord::MemoryFailure);
        }
        let command = Command::decode(apdu, self.app_kind());
        // Response data is available to the GET RESPONSE immediately following only.
        if !matches!(command, Ok(Command::GetResponse { .. })) {
            self.volatile.pending.clear();
        }
        if self.persistent.lifecycle.card_blocked {
            return Err(StatusWord::FunctionNotSupported);
        }
        let command = command?;
        self.check_lifecycle(&command)?;
        self.execute(command)
    }

    /// The one dispatch: every command variant has its handler, no catch-all.
    fn execute(&mut self, command: Command<'_>) -> ApduResult<Response> {
        match command {
            Command::Select { target, return_fci } => self.select(target, return_fci),
            Command::ReadBinary { file, offset, ne } => self.read_binary(file, offset, ne),
            Command::UpdateBinary {
                file,
                offset,
                data,
                sm,
            } => {
                self.check_secure_messaging(sm, data)?;
                self.update_binary(file, offset, data)
            }
            Command::ReadRecord { file, p1, mode } => self.read_record(file, p1, mode),
            Command::UpdateRecord {
                file,
                p1,
                mode,
                data,
                sm,
            } => {
                self.check_secure_messaging(sm, data)?;
                self.update_record(file, p1, mode, data)
            }
            Command::AppendRecord { file, data } => self.append_record(file, data),
            Command::GetChallenge { len } => Ok(self.get_challenge(len)),
            Command::ExternalAuthenticate {
                key_id,
                auth,
                original,
                version,
            } => self.external_authenticate(key_id, &auth, &original, version),
            Command::InternalAuthenticate {
                input,
                data,
                version,
            } => self.internal_authenticate(&input, &data, version),
            Command::Verify { reference, action } => self.verify(reference, action),
            Command::ChangePin {
                reference,
                old,
                new,
            } => self.change_pin(reference, old, new),
            Command::ChangeReferenceData { reference, data } => {
                self.change_reference_data(reference, data)
            }
            Command::ResetRetryCounter {
                reference,
                mode,
                data,
            } => self.reset_retry_counter(reference, mode, data),
            Command::PinUnblock {
                new_pin,
                enciphered,
                mac,
            } => match self.app_kind() {
                Some(AppKind::Pboc) => self.pboc_pin_unblock(enciphered, &mac),
                _ => self.pin_unblock(new_pin, enciphered, &mac),
            },
            Command::PinReload { pin, mac } => self.pin_reload(pin, &mac),
            Command::ApplicationBlock { permanent, mac } => self.application_block(permanent, &mac),
            Command::ApplicationUnblock { mac } => self.application_unblock(&mac),
            Command::CardBlock { mac } => self.card_block(&mac),
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
            (Protocol::T0, Case::Two, Some(ne)) if ne == len => {
                return response.encode_into(out);
            }
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

    // --- Security status -------------------------------------------------------------------

    /// The command set of the current application.
    fn app_kind(&self) -> Option<AppKind> {
        self.persistent.fs.kind_of(self.volatile.current_df)
    }

    /// Makes `df` current; leaving an application clears its security status and challenge
    /// (§5.1, §5.3, §9.2).
    fn enter_df(&mut self, df: NodeId) {
        let fs = &self.persistent.fs;
        if fs.application_of(df) != fs.application_of(self.volatile.current_df) {
            self.volatile.verified = 0;
            self.volatile.keys = KeySet::EMPTY;
            self.volatile.challenge = None;
        }
        self.volatile.current_df = df;
        self.volatile.current_ef = None;
        self.volatile.record_pointer = None;
    }

    /// PIN objects that apply in the current DF (declared there or above), with their index.
    fn pins_in_scope(&self) -> impl Iterator<Item = (usize, &OwnedPin)> {
        let current = self.volatile.current_df;
        let fs = &self.persistent.fs;
        self.persistent
            .pins
            .iter()
            .enumerate()
            .filter(move |(_, p)| fs.is_within(current, p.owner))
    }

    /// The security status in the current DF.
    fn granted(&self) -> Granted {
        let pin = self
            .pins_in_scope()
            .any(|(i, _)| self.volatile.verified & bit(i) != 0);
        Granted {
            pin,
            keys: self.volatile.keys,
        }
    }

    // --- GET CHALLENGE, GET RESPONSE ------------------------------------------------------

    /// GET CHALLENGE (§4.1, §6.2): 4, 8 or 16 fresh bytes, which become the current
    /// challenge (replacing any earlier one) until used, reset, or another application.
    fn get_challenge(&mut self, len: u8) -> Response {
        let mut challenge = [0u8; 16];
        let n = usize::from(len).min(16);
        self.rng.fill(challenge.get_mut(..n).unwrap_or_default());
        self.volatile.challenge = Some((challenge, len));
        Response::new(
            challenge.get(..n).unwrap_or_default().to_vec(),
            StatusWord::Success,
        )
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

    // --- Introspection for tests and tools -------------------------------------------------

    /// The current challenge, if one is pending (for the issuer-security commands and tests).
    #[must_use]
    pub fn current_challenge(&self) -> Option<&[u8]> {
        self.volatile
            .challenge
            .as_ref()
            .and_then(|(c, n)| c.get(..usize::from(*n)))
    }

    /// The try counters of the PIN objects and of the keys, in profile order (for the
    /// model-based tests and tools).
    #[must_use]
    pub fn counters(&self) -> (Vec<u8>, Vec<u8>) {
        (
            self.persistent
                .pins
                .iter()
                .map(|p| p.pin.remaining())
                .collect(),
            self.persistent.keys.iter().map(|k| k.remaining).collect(),
        )
    }

    /// True when both cards are in the same state, volatile state included (the sweeps use
    /// it to restore a card only when a command changed something).
    #[must_use]
    pub fn same_state(&self, other: &Self) -> bool {
        self.persistent == other.persistent && self.volatile == other.volatile
    }

    /// True when both cards hold the same persistent state (files, PIN values and counters,
    /// keys): what a power cut cannot take away. Tests use it to show a rejected command
    /// changed nothing.
    #[must_use]
    pub fn same_persistent_state(&self, other: &Self) -> bool {
        self.persistent == other.persistent
    }

    /// True when the card has been changed in a way its owner cannot undo with the card's
    /// own commands: the card blocked, an application blocked for ever, a key out of tries,
    /// or a PIN blocked that nothing unblocks. Vectors that can do this are tagged
    /// `destructive` (a real card would be lost).
    #[must_use]
    pub fn irreversibly_changed(&self) -> bool {
        let p = &self.persistent;
        p.lifecycle.card_blocked
            || p.lifecycle
                .blocked_apps
                .iter()
                .any(|(_, b)| *b == lifecycle::AppBlock::Permanent)
            || p.keys.iter().any(|k| k.remaining == 0)
            || p.pins
                .iter()
                .any(|o| o.pin.is_blocked() && o.unblock == crate::profile::Unblock::Never)
    }

    /// Bytes of heap the card's state holds by its own count (files, PINs, keys, buffers).
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.persistent.fs.heap_bytes()
            + self.persistent.pins.capacity() * std::mem::size_of::<OwnedPin>()
            + self.persistent.keys.capacity() * std::mem::size_of::<CardKey>()
            + self
                .persistent
                .keys
                .iter()
                .map(|k| k.value.capacity())
                .sum::<usize>()
            + self.atr.capacity()
            + self.volatile.pending.capacity()
    }
}

impl crate::SmartCard for Card {
    fn atr(&self) -> &[u8] {
        Card::atr(self)
    }

    fn reset(&mut self) -> &[u8] {
        Card::reset(self)
    }

    fn transmit_into(&mut self, apdu: &[u8], out: &mut Vec<u8>) {
        Card::transmit_into(self, apdu, out);
    }

    fn restore_from(&mut self, issued: &Self) -> std::io::Result<()> {
        Card::restore_from(self, issued)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Card::flush(self)
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
