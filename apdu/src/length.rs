//! How Lc and Le are written on the wire (ISO 7816-3 §12.1.3); shared by the parser and
//! the encoder.

/// How Lc and Le are encoded on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LengthEncoding {
    /// One-byte Lc (01..FF) and Le (00 = 256).
    #[default]
    Short,
    /// Three-byte Lc/Le (`00 hi lo`), two-byte Le after data; `0000` = 65,536.
    Extended,
}
