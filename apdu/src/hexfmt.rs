//! Hex as people write it in card logs: spaces optional, either case.

use thiserror::Error;

/// Why a string is not hex bytes.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum HexError {
    /// A character that is neither a hex digit nor whitespace.
    #[error("'{ch}' at column {column} is not a hex digit")]
    BadChar {
        /// The character.
        ch: char,
        /// 1-based column in the input.
        column: usize,
    },
    /// An odd number of hex digits.
    #[error("odd number of hex digits ({digits})")]
    OddLength {
        /// How many digits.
        digits: usize,
    },
}

/// Parses hex digits, ignoring ASCII whitespace anywhere (`"00 A4 0400"`).
///
/// # Errors
/// [`HexError`] naming the first bad character or an odd digit count.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, HexError> {
    let mut digits = String::with_capacity(s.len());
    for (i, ch) in s.chars().enumerate() {
        if ch.is_ascii_hexdigit() {
            digits.push(ch);
        } else if !ch.is_ascii_whitespace() {
            return Err(HexError::BadChar { ch, column: i + 1 });
        }
    }
    hex::decode(&digits).map_err(|_| HexError::OddLength {
        digits: digits.len(),
    })
}

/// Uppercase hex, bytes separated by single spaces: `"6F 1C 84"`.
#[must_use]
pub fn spaced(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&hex::encode_upper([*b]));
    }
    out
}

/// Uppercase hex without separators: `"6F1C84"`.
#[must_use]
pub fn compact(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_log_style_hex() {
        assert_eq!(parse_hex("00 a4 0400\t0F").unwrap(), [0, 0xA4, 4, 0, 0x0F]);
        assert_eq!(parse_hex("").unwrap(), Vec::<u8>::new());
        assert_eq!(
            parse_hex("0G"),
            Err(HexError::BadChar { ch: 'G', column: 2 })
        );
        assert_eq!(parse_hex("ABC"), Err(HexError::OddLength { digits: 3 }));
        assert_eq!(spaced(&[0x6F, 0x1C, 0x00]), "6F 1C 00");
        assert_eq!(compact(&[0x90, 0x00]), "9000");
    }
}
