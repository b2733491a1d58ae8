//! A model of the Chinese social security card (社会保障卡, SSC) that answers ISO 7816-4
//! APDUs as a real card does: its file system, PIN objects, keys and security state, built
//! from a card profile. What the card does is documented in the repository's `docs/CARD.md`;
//! the counter and persistence rules in `docs/SECURITY.md`.
//!
//! The embedder's API is small: build a [`Card`] from a built-in profile or a profile file
//! ([`Profile`]), then [`Card::transmit`], [`Card::reset`], [`Card::atr`]; [`Card::open`]
//! keeps the card's persistent state in a state file. Every card of this crate is a
//! [`SmartCard`], which is what the shell ([`shell`]), the virtual reader ([`vpcd`]) and the
//! harness take.
//!
//! ```
//! use applet_sim::Card;
//! let mut card = Card::default_card().unwrap();
//! // SELECT the SSSE by name: under T=0 the FCI waits behind 61 1E (docs/CARD.md §4.3).
//! let mut select = vec![0x00, 0xA4, 0x04, 0x00, 0x0F];
//! select.extend_from_slice(applet_sim::model::aid::SSSE);
//! assert_eq!(card.transmit(&select), [0x61, 0x1E]);
//! ```
//!
//! Layers, each depending only on those before it: [`model`] (the vocabulary: kinds, key
//! ids, AIDs, access conditions, write points, the PIN object) → [`crypto`], the file
//! system and the state file's storage → [`profile`] (schema, validation, built-ins) and
//! [`command`] (the command table) → the card (state, durable state, secure messaging,
//! handlers) and [`SmartCard`] → [`shell`] and [`vpcd`]; [`state_view`] reads a state file
//! without opening it for writing.

mod card;
pub mod command;
pub mod crypto;
pub mod date;
mod device;
mod exchange;
mod fs;
pub mod input;
pub mod message;
pub mod model;
#[cfg(feature = "personalise")]
pub mod personalise;
pub mod pki;
pub mod profile;
pub mod psam;
pub mod purse;
pub mod restore_ack;
pub mod shell;
pub mod state_view;
mod storage;
pub mod vpcd;

pub use card::Card;
pub use device::SmartCard;
pub use profile::{Profile, ProfileError};
pub use psam::Psam;
pub use storage::{Declaration, StateError, create_private, write_private};

/// Test support (feature `testing`): the in-memory medium with power cuts for tearing
/// tests, and what it stores. The inspection methods of [`Card`] (counters, state
/// comparisons, the tearing oracle) come with the same feature.
#[cfg(any(test, feature = "testing"))]
pub mod testing {
    pub use crate::storage::{CutMode, Medium, MemMedium, OpenError, Record};
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
