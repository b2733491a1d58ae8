//! ISO 7816 codec for the SSC virtual card and its harness.
//!
//! Bytes only, no card logic and no I/O: command APDUs of the four ISO 7816-3 §12.1 cases
//! in short and extended form ([`CommandApdu`] to parse, [`Command`] to build), the class byte
//! (ISO 7816-4 §5.4.1, [`Class`]), responses and status words named after the SSC spec
//! (docs/CARD.md §4.2, [`StatusWord`]), simple-TLV and BER-TLV ([`tlv`]), and hex
//! as it is written in card logs.

mod class;
mod command;
mod error;
mod hexfmt;
mod length;
mod parse;
mod response;
mod status;
pub mod tlv;

pub use class::{Class, ClassKind, SecureMessaging};
pub use command::{Case, Command, CommandApdu, LengthEncoding};
pub use error::{EncodeError, ParseError, TlvError};
pub use hexfmt::{HexError, compact as hex_compact, parse_hex, spaced as hex_spaced};
pub use response::Response;
pub use status::{ApduResult, StatusWord};
