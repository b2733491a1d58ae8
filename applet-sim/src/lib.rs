//! A model of the Chinese social security card (社会保障卡, SSC) that answers ISO 7816-4
//! APDUs as a real card does: its file system, PIN objects and security state, built from a
//! card profile. The reference is shared/spec/SSC-CARD.md; the counter rules are
//! shared/spec/SECURITY.md.
//!
//! ```
//! use applet_sim::Card;
//! let mut card = Card::default_card().unwrap();
//! // SELECT the SSSE by name: under T=0 the FCI waits behind 61 1E (SSC-CARD.md §4.3).
//! let name = b"\x73\x78\x31\x2E\x73\x68\x2E\xC9\xE7\xBB\xE1\xB1\xA3\xD5\xCF";
//! let mut select = vec![0x00, 0xA4, 0x04, 0x00, 0x0F];
//! select.extend_from_slice(name);
//! assert_eq!(card.transmit(&select), [0x61, 0x1E]);
//! ```

mod card;
pub mod command;
pub mod crypto;
mod device;
pub mod fs;
pub mod model;
pub mod profile;
pub mod shell;
pub mod storage;
pub mod vpcd;

pub use card::{Card, fingerprint};
pub use device::SmartCard;
pub use profile::{Profile, ProfileError};

// Old paths, kept until the harness and storage move to `model` (removed in this restructuring).
#[doc(hidden)]
pub use model::{AppKind, CipherSuite, Protocol, Unblock, access, pin};
