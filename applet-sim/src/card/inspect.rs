//! Inspection of a card's state for tests and tools (feature `testing`): counters, state
//! comparisons, the tearing oracle, the write log and media for power-cut tests. Not part
//! of the device: a terminal sees a card only through [`crate::SmartCard`].

use super::Card;
use super::durable::{Storage, declaration, fingerprint};
use super::state::{AppBlock, CardKey, OwnedPin, Persistent, Volatile};
use crate::model::Unblock;
use crate::profile::Profile;
use crate::storage::{Journal, Medium, OpenError};

impl Card {
    /// The current challenge, if one is pending (for the issuer-security commands and tests).
    #[must_use]
    pub fn current_challenge(&self) -> Option<&[u8]> {
        self.volatile
            .challenge
            .as_ref()
            .and_then(|(c, n)| c.get(..usize::from(*n)))
    }

    /// Makes the next random bytes the card draws (its next GET CHALLENGE) `bytes`: the
    /// differential tester gives the model the challenge the card under test answered, so
    /// the cryptograms over it agree (at most the last 64 bytes are kept).
    pub fn feed_random(&mut self, bytes: &[u8]) {
        self.rng.feed(bytes);
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
                .any(|(_, b)| *b == AppBlock::Permanent)
            || p.keys.iter().any(|k| k.remaining == 0)
            || p.pins
                .iter()
                .any(|o| o.pin.is_blocked() && o.unblock == Unblock::Never)
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

    /// Puts this card (its persistent and volatile state as they are) on a medium that
    /// already holds exactly its persistent state (a fork of its own medium), without
    /// writing: the tearing tests run one command on such a copy.
    pub fn resume_on(&mut self, profile: &Profile, medium: Box<dyn Medium>) {
        let salt = self.persistent.salt().unwrap_or_default();
        self.store = Storage(Some(Journal::resume(
            medium,
            fingerprint(profile),
            declaration(profile),
            salt,
        )));
    }

    /// Compacts the state file after every `n` journal records (the tearing run uses 1, so
    /// every compaction is torn too).
    pub fn compact_every(&mut self, n: usize) {
        if let Some(j) = &mut self.store.0 {
            j.compact_every(n);
        }
    }

    /// The write points passed since the last call: kept only on a medium given with
    /// [`Card::resume_on`] (the tearing run); empty otherwise.
    pub fn take_write_log(&mut self) -> Vec<&'static str> {
        self.store
            .0
            .as_mut()
            .map(Journal::take_log)
            .unwrap_or_default()
    }

    /// Whether the card is on durable storage.
    #[must_use]
    pub fn is_durable(&self) -> bool {
        self.store.0.is_some()
    }

    /// The tearing check (docs/SECURITY.md "Persistence and power loss"): `self` is the card
    /// reopened after a power cut during a command that took `before` to `after`. Returns
    /// what is wrong: a counter higher than before without the command's success committed,
    /// a datum that is neither its old nor its new value, a security status that survived.
    #[must_use]
    pub fn power_cut_violations(&self, before: &Self, after: &Self) -> Vec<String> {
        let mut v = Vec::new();
        let (now, old, new) = (&self.persistent, &before.persistent, &after.persistent);
        let committed = now == new;
        for (i, ((n, o), w)) in now.pins.iter().zip(&old.pins).zip(&new.pins).enumerate() {
            if n.pin.remaining() > o.pin.remaining() && !committed {
                v.push(format!(
                    "PIN #{i}: counter {} after the cut, {} before, and the command's success was not committed",
                    n.pin.remaining(),
                    o.pin.remaining()
                ));
            }
            if n.pin.secret() != o.pin.secret() && n.pin.secret() != w.pin.secret() {
                v.push(format!("PIN #{i}: value neither old nor new"));
            }
        }
        for ((n, o), w) in now.keys.iter().zip(&old.keys).zip(&new.keys) {
            if n.remaining > o.remaining && !committed {
                v.push(format!(
                    "key {:02X}: counter {} after the cut, {} before",
                    n.id, n.remaining, o.remaining
                ));
            }
            if n.value != o.value && n.value != w.value {
                v.push(format!("key {:02X}: value neither old nor new", n.id));
            }
        }
        if now.pki != old.pki && now.pki != new.pki {
            v.push("PKI private keys neither old nor new".into());
        }
        // A key pair is its private key and its public key's EF together.
        if now.pki == new.pki && now.pki != old.pki && !committed {
            for node in now.fs.ef_nodes() {
                if now.fs.ef(node) != new.fs.ef(node) {
                    v.push("a private key without its public key's EF".into());
                }
            }
        }
        for node in now.fs.ef_nodes() {
            let (n, o, w) = (now.fs.ef(node), old.fs.ef(node), new.fs.ef(node));
            if n.map(|e| &e.content) != o.map(|e| &e.content)
                && n.map(|e| &e.content) != w.map(|e| &e.content)
            {
                let fid = n.map_or(0, |e| e.control.fid);
                v.push(format!("EF {fid:04X}: content neither old nor new"));
            }
        }
        if now.lifecycle != old.lifecycle && now.lifecycle != new.lifecycle {
            v.push("life cycle neither old nor new".into());
        }
        // The purse and its log move together: a purchase is all there or not at all.
        let purse = |c: &Persistent| {
            c.purse.as_ref().map(|p| {
                let log = p.log.and_then(|id| c.fs.ef(id)).map(|e| e.content.clone());
                (p.state.clone(), log)
            })
        };
        let (n, o, w) = (purse(now), purse(old), purse(new));
        if n != o && n != w {
            v.push("purse (balance, counters, EF08) neither old nor new".into());
        }
        if self.volatile != Volatile::new() {
            v.push("volatile state survived the power cut".into());
        }
        v
    }

    /// A card on any medium (memory in the tearing tests): an empty medium gets the
    /// profile's initial state; otherwise its records are replayed.
    ///
    /// # Errors
    /// [`OpenError`].
    pub fn open_on(profile: &Profile, medium: Box<dyn Medium>) -> Result<Self, OpenError> {
        Self::open_medium(profile, medium, true)
    }
}
