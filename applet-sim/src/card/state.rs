//! The card's state (docs/CARD.md §9.2; docs/SECURITY.md rule 8): what survives a reset
//! ([`Persistent`]: files, PIN objects, keys, life cycle) and what a reset clears
//! ([`Volatile`]: selection, security status, challenge, pending response), and the questions
//! every handler asks of it: the current application, the PINs and keys in scope, the
//! security status, the current block, the challenge.

use apdu::{ApduResult, StatusWord};

use super::Card;
use crate::fs::{FileSystem, MF, NodeId};
pub(super) use crate::model::AppBlock;
use crate::model::keys;
use crate::model::{AppKind, Granted, KeySet, PinObject, Unblock};

/// A PIN object and the DF it belongs to (it applies in that DF and below).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct OwnedPin {
    pub(super) owner: NodeId,
    pub(super) pin: PinObject,
    pub(super) unblock: Unblock,
}

/// A card key (docs/CARD.md §6.7), held for the issuer-security commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct CardKey {
    pub(super) owner: NodeId,
    pub(super) id: u8,
    pub(super) version: u8,
    pub(super) value: Vec<u8>,
    pub(super) max_tries: u8,
    pub(super) remaining: u8,
    /// The value was replaced on the card (`84 D4`): the state file holds it.
    pub(super) value_changed: bool,
}

/// What survives a reset or power cut.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Persistent {
    pub(super) fs: FileSystem,
    pub(super) pins: Vec<OwnedPin>,
    pub(super) keys: Vec<CardKey>,
    pub(super) lifecycle: Lifecycle,
    /// The PKI application's SM2 private keys (docs/CARD.md §3.7).
    pub(super) pki: super::pki_data::PrivateKeys,
    /// The medical e-purse, when the card has one (`purse.rs`, docs/CARD.md §4.6).
    pub(super) purse: Option<super::purse_data::Purse>,
}

/// What a reset clears (docs/CARD.md §9.2; docs/SECURITY.md §1 rule 8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Volatile {
    pub(super) current_df: NodeId,
    pub(super) current_ef: Option<NodeId>,
    /// Index of the current record in the current EF (ISO 7816-4 record pointer).
    pub(super) record_pointer: Option<usize>,
    /// Bit n: `pins[n]` verified since the application was entered.
    pub(super) verified: u64,
    /// Keys externally authenticated in the current application, by their number in
    /// [`Persistent::keys`] (not by id: ids are scoped to the DF that owns the key).
    pub(super) authenticated: KeySet,
    /// The last GET CHALLENGE answer, until used, reset or another application (§6.2).
    pub(super) challenge: Option<([u8; 16], u8)>,
    /// Response data waiting for GET RESPONSE (T=0).
    pub(super) pending: Vec<u8>,
    /// The PKI application's chosen key pair and imported SM4 key (§3.7).
    pub(super) pki: super::pki_data::Session,
    /// The e-purse transaction an INIT opened (docs/CARD.md §4.6): idle when `None`.
    pub(super) purse_session: Option<super::purse_data::Session>,
}

impl Volatile {
    pub(super) fn new() -> Self {
        Self {
            current_df: MF,
            current_ef: None,
            record_pointer: None,
            verified: 0,
            authenticated: KeySet::EMPTY,
            challenge: None,
            pending: Vec::new(),
            pki: super::pki_data::Session::default(),
            purse_session: None,
        }
    }
}

/// The card's life-cycle state: what the blocking commands change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Lifecycle {
    /// CARD BLOCK done: every command answers 6A81.
    pub(super) card_blocked: bool,
    /// Blocked applications (their DF) and how.
    pub(super) blocked_apps: Vec<(NodeId, AppBlock)>,
}

impl Lifecycle {
    /// How the application holding `node` is blocked, if it is. Free while nothing is
    /// blocked (the APDU path asks on every command).
    pub(super) fn block_of(&self, fs: &FileSystem, node: NodeId) -> Option<AppBlock> {
        if self.blocked_apps.is_empty() {
            return None;
        }
        let app = fs.application_of(fs.df_of(node));
        self.blocked_apps
            .iter()
            .find(|(a, _)| *a == app)
            .map(|(_, b)| *b)
    }
}

/// The card's random source for GET CHALLENGE (docs/SECURITY.md §1): the operating
/// system's, so no answer predicts the next (a terminal that lends its PSAM briefly cannot be
/// pre-played); or, when the profile sets `challenge_seed`, SplitMix64 from that seed, for
/// reproducible vectors.
#[derive(Clone, Debug)]
pub(super) struct Rng {
    source: Source,
    /// Bytes handed in from outside ([`Card::feed_random`], feature `testing`), served before
    /// the source: the differential tester gives the model the challenge the card under
    /// test answered.
    fed: std::collections::VecDeque<u8>,
}

#[derive(Clone, Debug)]
enum Source {
    /// `getrandom`: the kernel's CSPRNG.
    Os,
    /// SplitMix64 state (reproducible, predictable by design).
    Seeded(u64),
}

/// The random source failed (no challenge is issued).
#[derive(Clone, Copy, Debug)]
pub(super) struct RngFailure;

/// The most fed bytes kept (a challenge is at most 16 bytes; older bytes are dropped).
pub(super) const MAX_FED: usize = 64;

impl Rng {
    pub(super) fn new(seed: Option<u64>) -> Self {
        Self {
            source: seed.map_or(Source::Os, Source::Seeded),
            fed: std::collections::VecDeque::new(),
        }
    }

    /// Queues `bytes` to be served before the source's (the oldest dropped past
    /// [`MAX_FED`]).
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(super) fn feed(&mut self, bytes: &[u8]) {
        self.fed.extend(bytes);
        while self.fed.len() > MAX_FED {
            self.fed.pop_front();
        }
    }

    /// Fills `out` with fresh bytes: fed ones first, then the source's.
    pub(super) fn fill(&mut self, out: &mut [u8]) -> Result<(), RngFailure> {
        let fed = out.len().min(self.fed.len());
        let (head, rest) = out.split_at_mut(fed);
        for (slot, byte) in head.iter_mut().zip(self.fed.drain(..fed)) {
            *slot = byte;
        }
        if rest.is_empty() {
            return Ok(());
        }
        match &mut self.source {
            Source::Os => getrandom::fill(rest).map_err(|_| RngFailure),
            Source::Seeded(state) => {
                for chunk in rest.chunks_mut(8) {
                    let bytes = split_mix_64(state).to_be_bytes();
                    chunk.copy_from_slice(bytes.get(..chunk.len()).unwrap_or_default());
                }
                Ok(())
            }
        }
    }
}

/// One step of SplitMix64.
fn split_mix_64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Card {
    /// The command set of the current application.
    pub(super) fn app_kind(&self) -> Option<AppKind> {
        self.persistent.fs.kind_of(self.volatile.current_df)
    }

    /// Makes `df` current; leaving an application clears its security status and challenge
    /// (§5.1, §5.3, §9.2).
    pub(super) fn enter_df(&mut self, df: NodeId) {
        let fs = &self.persistent.fs;
        if fs.application_of(df) != fs.application_of(self.volatile.current_df) {
            self.volatile.verified = 0;
            self.volatile.authenticated = KeySet::EMPTY;
            self.volatile.challenge = None;
            self.volatile.pki = super::pki_data::Session::default();
        }
        self.volatile.current_df = df;
        self.volatile.current_ef = None;
        self.volatile.record_pointer = None;
    }

    /// PIN objects that apply in the current DF (declared there or above), with their index.
    pub(super) fn pins_in_scope(&self) -> impl Iterator<Item = (usize, &OwnedPin)> {
        let current = self.volatile.current_df;
        let fs = &self.persistent.fs;
        self.persistent
            .pins
            .iter()
            .enumerate()
            .filter(move |(_, p)| fs.is_within(current, p.owner))
    }

    /// The security status that applies to the files of `df`, whatever the selection path
    /// (docs/SECURITY.md rule 8): the PINs declared in `df` or above that are verified, and
    /// the ids of the keys that `df` sees (its own or its nearest ancestor's key of that id)
    /// that were authenticated. A sub-DF's local PIN or key never opens a file of its parent
    /// or of a sibling.
    pub(super) fn granted_at(&self, df: NodeId) -> Granted {
        let fs = &self.persistent.fs;
        let pin = self
            .persistent
            .pins
            .iter()
            .enumerate()
            .any(|(i, p)| self.volatile.verified & bit(i) != 0 && fs.is_within(df, p.owner));
        let mut keys = KeySet::EMPTY;
        if self.volatile.authenticated != KeySet::EMPTY {
            let keys_of = &self.persistent.keys;
            for (i, k) in keys_of.iter().enumerate() {
                // Granted when `df` sees this id in the DF that owns the authenticated key
                // (any version of it).
                let seen = self.key_at(df, k.id, None).and_then(|j| keys_of.get(j));
                if key_slot(i).is_some_and(|slot| self.volatile.authenticated.contains(slot))
                    && seen.is_some_and(|s| s.owner == k.owner)
                {
                    keys.insert(k.id);
                }
            }
        }
        Granted { pin, keys }
    }

    /// Whether the key `id` that the current DF sees was authenticated.
    /// Any version of it counts (§6.7, key groups), as for file access ([`Self::granted_at`]).
    pub(super) fn key_authenticated(&self, id: u8) -> bool {
        let keys = &self.persistent.keys;
        let Some(seen) = self
            .key_at(self.volatile.current_df, id, None)
            .and_then(|j| keys.get(j))
        else {
            return false;
        };
        keys.iter().enumerate().any(|(i, k)| {
            k.id == id
                && k.owner == seen.owner
                && key_slot(i).is_some_and(|slot| self.volatile.authenticated.contains(slot))
        })
    }

    /// The block of the application the current DF belongs to.
    pub(super) fn current_block(&self) -> Option<AppBlock> {
        let p = &self.persistent;
        p.lifecycle.block_of(&p.fs, self.volatile.current_df)
    }

    /// The kind of the application that owns key `index` (`None`: the MF's).
    pub(super) fn owner_kind(&self, index: usize) -> Option<AppKind> {
        let owner = self.persistent.keys.get(index)?.owner;
        self.persistent.fs.kind_of(owner)
    }

    /// The key with this id (and version, when given) that applies in the current DF.
    pub(super) fn key_index(&self, id: u8, version: Option<u8>) -> ApduResult<usize> {
        self.key_at(self.volatile.current_df, id, version)
            .ok_or(StatusWord::ReferenceNotFound)
    }

    /// The key with this id (and version) that `df` sees: of the keys declared in `df` or
    /// above, the one declared nearest to `df` (key ids are scoped to the DF that owns them);
    /// a DF-specific id (b8 set, docs/CARD.md §6.7) only among the keys of `df` itself.
    pub(super) fn key_at(&self, df: NodeId, id: u8, version: Option<u8>) -> Option<usize> {
        let fs = &self.persistent.fs;
        let specific = keys::df_specific(id);
        let mut best: Option<(usize, NodeId)> = None;
        for (i, k) in self.persistent.keys.iter().enumerate() {
            let in_scope = if specific {
                k.owner == df
            } else {
                fs.is_within(df, k.owner)
            };
            let matches = k.id == id && version.is_none_or(|v| v == k.version) && in_scope;
            // A later match replaces the best only when it is declared deeper.
            if matches
                && best.is_none_or(|(_, owner)| owner != k.owner && fs.is_within(k.owner, owner))
            {
                best = Some((i, k.owner));
            }
        }
        best.map(|(i, _)| i)
    }

    /// The value of key `id` in scope (6A88 when there is none).
    pub(super) fn key_value(&self, id: u8) -> ApduResult<&[u8]> {
        let index = self.key_index(id, None)?;
        self.persistent
            .keys
            .get(index)
            .map(|k| k.value.as_slice())
            .ok_or(StatusWord::ReferenceNotFound)
    }

    /// The current challenge, used up (single use, §6.2); 6984 when there is none.
    pub(super) fn take_challenge(&mut self) -> ApduResult<Vec<u8>> {
        let (challenge, len) = self
            .volatile
            .challenge
            .take()
            .ok_or(StatusWord::ReferenceDataNotUsable)?;
        Ok(challenge
            .get(..usize::from(len))
            .unwrap_or_default()
            .to_vec())
    }
}

/// The slot of key number `index` in the set of authenticated keys. Validated profiles hold
/// at most 256 keys; a key beyond (a profile built by hand) has no slot and is never
/// granted (fail closed).
pub(super) fn key_slot(index: usize) -> Option<u8> {
    u8::try_from(index).ok()
}

/// The security-status bit of PIN number `index` (profiles hold at most 64 PINs).
pub(super) fn bit(index: usize) -> u64 {
    u32::try_from(index)
        .ok()
        .and_then(|i| 1u64.checked_shl(i))
        .unwrap_or(0)
}
