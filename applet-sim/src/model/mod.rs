//! The card's domain vocabulary, depending on nothing else in this crate: protocol, cipher
//! suite, application kind, application block, EF structure and control parameters, unblock
//! method ([`kinds`]), key ids ([`keys`]), application names ([`aid`]), access conditions
//! ([`access`]), write points ([`write`](mod@write)), the PIN object ([`pin`]) and what it keeps
//! of its value ([`secret`]).
//!
//! Everything else — crypto, the file system, profiles, the card — is built on these.

pub mod access;
pub mod aid;
pub mod behaviour;
pub mod file;
pub mod keys;
pub mod kinds;
pub mod pin;
pub mod secret;
pub mod write;

pub use access::{Access, AccessParseError, Granted, KeySet};
pub use behaviour::Behaviour;
pub use file::EfControl;
pub use kinds::{
    AppBlock, AppKind, CipherSuite, Protocol, Structure, Unblock, UnknownName, Vocabulary,
};
pub use pin::{PinEncoding, PinError, PinObject, PinTextError, PinValue, Secret};
pub use secret::{Salt, SealedPin, Sealing};
pub use write::{StorageFailure, WritePoint};
