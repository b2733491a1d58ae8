//! The card: one exhaustive dispatch from a typed [`Command`] to its handler.
//!
//! Data path (docs/ARCHITECTURE.md): bytes -> [`CommandApdu`] -> [`Command`] (the command
//! table, `crate::command`) -> handler -> `Result<Response, StatusWord>` -> T=0/T=1 shaping
//! (`response.rs`) -> bytes.
//!
//! Shared by every handler: `state.rs` (persistent and volatile state and the questions asked
//! of it: scope, security status, challenge), `durable.rs` (the state file's write points),
//! `secure.rs` (command MACs and secure messaging), `response.rs`. Handlers, by subject, each
//! using only those: `files.rs` (SELECT, binary and record commands), `pins.rs` (VERIFY and
//! PIN changes), `auth.rs` (challenge, external and internal authentication, the issuer's PIN
//! unblock), `lifecycle.rs` (application and card blocks), `pboc.rs` (the financial
//! application's PIN reload and unblock), `pki.rs` (the PKI application's own commands),
//! `purse.rs` (DF04's medical e-purse, docs/CARD.md §4.6). `inspect.rs` (feature `testing`)
//! serves tests.

// Shared by the handlers: state, persistence, secure messaging, response shaping.
mod durable;
mod response;
mod secure;
mod state;

// Handlers, one per subject; each uses the shared modules above and never another handler.
mod auth;
mod files;
mod lifecycle;
mod pboc;
mod pins;
mod pki;
mod pki_data;
mod purse;
mod purse_data;

#[cfg(any(test, feature = "testing"))]
mod inspect;

pub(crate) use durable::fingerprint as layout_fingerprint;

use apdu::{ApduResult, CommandApdu, Response, StatusWord};

use self::state::{CardKey, Lifecycle, OwnedPin, Persistent, Rng, Volatile};
use crate::command::Command;
use crate::model::behaviour::ChallengeAfterError;
use crate::model::{Behaviour, CipherSuite, PinObject, Protocol};
use crate::profile::Profile;

/// A social security card built from a profile, answering APDUs.
///
/// Not `Clone`: a card on a state file cannot be duplicated (two cards never share one
/// file); [`Card::volatile_copy`] says what a copy is.
#[derive(Debug)]
pub struct Card {
    atr: Vec<u8>,
    protocol: Protocol,
    cipher: CipherSuite,
    /// The choices where the specification is silent (docs/CARD.md §9.9).
    behaviour: Behaviour,
    persistent: Persistent,
    volatile: Volatile,
    rng: Rng,
    store: durable::Storage,
    /// The financial application's application transaction counter (tag 9F36), counted up
    /// by each GET PROCESSING OPTIONS (`pboc.rs`). [I] Kept across resets but not on the
    /// state file: a card reopened from its state file starts again at 0.
    atc: u16,
}

impl Card {
    /// A fresh card, powered on, as the profile describes it (in the state it chooses, if
    /// any: PIN and key counters, blocked applications, a blocked card).
    #[must_use]
    pub fn new(profile: &Profile) -> Self {
        let (fs, dfs) = profile.file_system();
        let owner = |label: &str| dfs.node(label);
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
                )
                .with_remaining(p.tries),
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
                // A chosen state never gives more tries than the maximum.
                remaining: k.tries.min(k.max_tries),
                value_changed: false,
            })
            .collect();
        // The medical e-purse (docs/CARD.md §4.6) in its DF, with that DF's EF08 as its log.
        let purse = profile
            .purse
            .as_ref()
            .map(|def| purse_data::Purse::new(def, owner(&def.parent), &fs));
        // A chosen state (docs/CARD.md §4.5): the blocks the profile starts the card with.
        let lifecycle = Lifecycle {
            card_blocked: profile.card_blocked,
            blocked_apps: profile
                .dfs
                .iter()
                .filter_map(|d| Some((owner(&d.id), d.blocked?)))
                .collect(),
        };
        Self {
            atr: profile.atr.clone(),
            protocol: profile.protocol,
            cipher: profile.cipher,
            behaviour: profile.options.behaviour,
            persistent: Persistent {
                fs,
                pins,
                keys,
                lifecycle,
                pki: pki_data::PrivateKeys::default(),
                purse,
            },
            volatile: Volatile::new(),
            rng: Rng::new(profile.options.challenge_seed),
            store: durable::Storage::default(),
            atc: 0,
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

    /// A fresh card from a built-in profile name or, if no built-in has that name, a
    /// profile file.
    ///
    /// # Errors
    /// [`crate::ProfileError`] naming the file, line and what is wrong.
    pub fn load(name_or_path: &str) -> Result<Self, crate::ProfileError> {
        Ok(Self::new(&Profile::load(name_or_path)?))
    }

    /// A copy of the card as it is now (persistent and volatile state), held in memory
    /// only: the copy of a durable card is not on the state file and never writes to it.
    #[must_use]
    pub fn volatile_copy(&self) -> Self {
        Self {
            atr: self.atr.clone(),
            protocol: self.protocol,
            cipher: self.cipher,
            behaviour: self.behaviour,
            persistent: self.persistent.clone(),
            volatile: self.volatile.clone(),
            rng: self.rng.clone(),
            store: durable::Storage::default(),
            atc: self.atc,
        }
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
        match CommandApdu::parse(apdu) {
            Ok(command) => match self.process(&command) {
                Ok(response) => self.shape(&command, response, out),
                Err(sw) => out.extend_from_slice(&sw.to_bytes()),
            },
            Err(_) => {
                // A malformed APDU: wrong length, nothing else looked at (docs/SECURITY.md,
                // bad input); as any other command, it ends an open e-purse transaction
                // (§4.6).
                self.volatile.pending.clear();
                self.volatile.purse_session = None;
                out.extend_from_slice(&StatusWord::WrongLength.to_bytes());
            }
        }
        // §9.9 `challenge_after_error = "dropped"`: any answer but 9000 and 61xx (6Cxx and
        // the malformed APDU's 6700 included) drops the challenge.
        if self.behaviour.challenge_after_error == ChallengeAfterError::Dropped
            && !matches!(out.as_slice(), [.., 0x90, 0x00] | [.., 0x61, _])
        {
            self.volatile.challenge = None;
        }
        self.maintain_storage();
    }

    fn process(&mut self, apdu: &CommandApdu<'_>) -> ApduResult<Response> {
        // A storage failure fails closed: nothing more is compared or written (docs/SECURITY.md
        // §1 rule 9) until the card is reopened from its state file.
        if self.store.failed() {
            return Err(StatusWord::MemoryFailure);
        }
        let command = Command::decode(apdu, self.app_kind());
        // Response data is available to the GET RESPONSE immediately following only.
        if !matches!(command, Ok(Command::GetResponse { .. })) {
            self.volatile.pending.clear();
        }
        // An e-purse transaction lasts from its INIT to the command that completes it
        // (docs/CARD.md §4.6): any other command ends it.
        if !purse::continues_session(&command) {
            self.volatile.purse_session = None;
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
                self.check_secure_messaging(sm, file, data)?;
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
                self.check_secure_messaging(sm, file, data)?;
                self.update_record(file, p1, mode, data)
            }
            Command::AppendRecord { file, data } => self.append_record(file, data),
            Command::GetChallenge { len } => self.get_challenge(len),
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
            } => self.pin_unblock(new_pin, enciphered, &mac),
            Command::PbocPinUnblock { enciphered, mac } => self.pboc_pin_unblock(enciphered, &mac),
            Command::PinReload { pin, mac } => self.pin_reload(pin, &mac),
            Command::ApplicationBlock { permanent, mac } => self.application_block(permanent, &mac),
            Command::ApplicationUnblock { mac } => self.application_unblock(&mac),
            Command::CardBlock { mac } => self.card_block(&mac),
            Command::GetProcessingOptions { pdol_data } => self.get_processing_options(pdol_data),
            Command::GetData { tag } => self.get_data(tag),
            Command::Pki(command) => self.pki(command),
            Command::Purse(command) => self.purse(command),
            Command::GetResponse { ne } => self.get_response(ne),
        }
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
        self.restore_state(issued)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.sync_state()
    }
}
