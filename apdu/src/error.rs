//! Errors of the codec: what is wrong with a byte string that should be an APDU or a TLV.

use thiserror::Error;

/// Why a byte string is not a well-formed command APDU (ISO 7816-3 §12.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum ParseError {
    /// Fewer than the four header bytes.
    #[error("too short: {len} bytes, a command APDU has at least 4 (CLA INS P1 P2)")]
    TooShort {
        /// Bytes received.
        len: usize,
    },
    /// Lc announces more data than the command carries.
    #[error("Lc says {lc} data bytes but only {available} follow")]
    Truncated {
        /// The announced length.
        lc: usize,
        /// The bytes that follow Lc.
        available: usize,
    },
    /// Bytes left over after Lc, data and Le.
    #[error("{extra} trailing byte(s) after Lc, data and Le")]
    TrailingBytes {
        /// How many bytes are left over.
        extra: usize,
    },
    /// A short Lc of 00 (a short Lc is 01..FF).
    #[error("Lc = 00 in short form")]
    ZeroShortLc,
    /// An extended Lc of 0000 (an extended Lc is 0001..FFFF).
    #[error("Lc = 0000 in extended form")]
    ZeroExtendedLc,
    /// An extended length marker (00) not followed by two length bytes.
    #[error("bad extended length: 00 must be followed by two length bytes")]
    BadExtendedLength,
    /// An extended case-4 command whose Le is not two bytes.
    #[error("bad extended Le: an extended case 4 command ends with a two-byte Le")]
    BadExtendedLe,
}

/// Why a command cannot be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// More than 65,535 data bytes.
    #[error("{len} data bytes: at most 65535 fit in an APDU")]
    DataTooLong {
        /// The data length.
        len: usize,
    },
    /// Ne outside 1..=65536.
    #[error("Ne = {ne}: an APDU expects 1..=65536 bytes")]
    BadNe {
        /// The expected length asked for.
        ne: u32,
    },
    /// Short encoding asked for, but the lengths need extended encoding.
    #[error("lengths need extended encoding (data {len} bytes, Ne {ne:?})")]
    NeedsExtended {
        /// The data length.
        len: usize,
        /// The expected length.
        ne: Option<u32>,
    },
}

/// Why a byte string is not a well-formed TLV.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum TlvError {
    /// The input ends inside a tag.
    #[error("truncated tag at offset {offset}")]
    TruncatedTag {
        /// Offset of the tag.
        offset: usize,
    },
    /// The input ends inside a length.
    #[error("truncated length at offset {offset}")]
    TruncatedLength {
        /// Offset of the length.
        offset: usize,
    },
    /// The length is not a valid encoding (e.g. BER 0x80 indefinite, or more than 4 bytes).
    #[error("invalid length encoding at offset {offset}")]
    BadLength {
        /// Offset of the length.
        offset: usize,
    },
    /// The value is shorter than the length says.
    #[error("value at offset {offset} needs {len} bytes, {available} left")]
    TruncatedValue {
        /// Offset of the value.
        offset: usize,
        /// The announced length.
        len: usize,
        /// Bytes left.
        available: usize,
    },
    /// A tag longer than this codec supports (more than 4 bytes).
    #[error("tag at offset {offset} is longer than 4 bytes")]
    TagTooLong {
        /// Offset of the tag.
        offset: usize,
    },
    /// A value longer than the encoding can express.
    #[error("value of {len} bytes too long for this TLV encoding")]
    ValueTooLong {
        /// The value length.
        len: usize,
    },
    /// A simple-TLV tag of 00 or FF (ISO 7816-4 §5.2.1 reserves them).
    #[error("invalid simple-TLV tag {tag:02X} at offset {offset}")]
    BadSimpleTag {
        /// The tag byte.
        tag: u8,
        /// Offset of the tag.
        offset: usize,
    },
}
