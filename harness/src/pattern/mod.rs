//! Expected responses: data patterns with wildcard nibbles and `*`, and status-word patterns
//! with alternatives (`9000|6283`) and wildcards (`63Cx`). Grammar in vectors/README.md.

use std::fmt;

use apdu::Response;

mod glob;

use self::glob::glob;

/// One nibble of a pattern: a hex digit or a wildcard (`x`, `X`, `?`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Nibble {
    Digit(u8),
    Any,
}

/// One element of a data pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A byte compared under a mask (`value & mask == actual & mask`).
    Byte {
        /// Expected bits.
        value: u8,
        /// Which bits are compared.
        mask: u8,
    },
    /// `*`: any number of bytes (zero or more).
    AnyData,
    /// `*N`: any N bytes (only the length is checked).
    AnyBytes(usize),
    /// `{name:N}`: any N bytes, kept as the case's variable `name` (version 2).
    Capture {
        /// The variable.
        name: String,
        /// How many bytes.
        len: usize,
    },
}

/// A pattern for response data.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DataPattern(pub Vec<Item>);

/// A pattern for one status word: four nibbles, each a digit or a wildcard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwPattern {
    value: u16,
    mask: u16,
}

/// An expected response: data pattern and one or more acceptable status words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expect {
    /// The data pattern.
    pub data: DataPattern,
    /// Acceptable status words (any one matches).
    pub sw: Vec<SwPattern>,
}

/// A pattern that does not parse: the column (1-based, within the pattern) and what was
/// expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    /// Column within the pattern text.
    pub column: usize,
    /// What was expected.
    pub message: String,
}

fn nibbles(token: &str, column: usize) -> Result<Vec<Nibble>, PatternError> {
    token
        .chars()
        .enumerate()
        .map(|(i, c)| match c {
            'x' | 'X' | '?' => Ok(Nibble::Any),
            c => c
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
                .map(Nibble::Digit)
                .ok_or_else(|| PatternError {
                    column: column + i,
                    message: format!("expected a hex digit, 'x' or '*', found {c:?}"),
                }),
        })
        .collect()
}

fn byte(hi: Nibble, lo: Nibble) -> Item {
    let part = |n: Nibble| match n {
        Nibble::Digit(d) => (d, 0x0F),
        Nibble::Any => (0, 0),
    };
    let (h, hm) = part(hi);
    let (l, lm) = part(lo);
    Item::Byte {
        value: (h << 4) | l,
        mask: (hm << 4) | lm,
    }
}

impl SwPattern {
    fn from_nibbles(n: &[Nibble]) -> Option<Self> {
        if n.len() != 4 {
            return None;
        }
        let mut value = 0u16;
        let mut mask = 0u16;
        for nib in n {
            value <<= 4;
            mask <<= 4;
            if let Nibble::Digit(d) = nib {
                value |= u16::from(*d);
                mask |= 0xF;
            }
        }
        Some(Self { value, mask })
    }

    /// True when `sw` matches.
    #[must_use]
    pub fn matches(self, sw: u16) -> bool {
        sw & self.mask == self.value
    }
}

impl Expect {
    /// Parses `[data tokens] SW` where the status word is the last four nibbles, or the last
    /// token is `SW|SW|...`. `column` is where the pattern starts in its line.
    ///
    /// # Errors
    /// [`PatternError`] at the offending column.
    pub fn parse(text: &str, column: usize) -> Result<Self, PatternError> {
        let tokens: Vec<(usize, &str)> = tokens(text, column);
        let Some(&(last_col, last)) = tokens.last() else {
            return Err(PatternError {
                column,
                message: "expected a response: [data] SW, e.g. 9000 or 6F1C... 9000".into(),
            });
        };
        // Alternatives: the whole last token is `SW|SW...`.
        let (data_tokens, alternatives) = if last.contains('|') {
            let mut sws = Vec::new();
            let mut col = last_col;
            for alt in last.split('|') {
                let sw =
                    SwPattern::from_nibbles(&nibbles(alt, col)?).ok_or_else(|| PatternError {
                        column: col,
                        message: format!(
                            "expected a 4-digit status word in alternatives, found {alt:?}"
                        ),
                    })?;
                sws.push(sw);
                col += alt.len() + 1;
            }
            (
                tokens.get(..tokens.len() - 1).unwrap_or_default(),
                Some(sws),
            )
        } else {
            (tokens.as_slice(), None)
        };
        // Data: a nibble stream with whole items between ('*', '*N', 'BB/MM', '{name:N}').
        let mut stream: Vec<(usize, Option<Nibble>)> = Vec::new();
        let mut whole: Vec<(usize, Vec<Item>)> = Vec::new();
        for &(col, tok) in data_tokens {
            if let Some(items) = special(tok, col)? {
                // A marker in the nibble stream: where the whole items go.
                stream.push((col, None));
                whole.push((col, items));
            } else {
                stream.extend(
                    nibbles(tok, col)?
                        .into_iter()
                        .enumerate()
                        .map(|(i, n)| (col + i, Some(n))),
                );
            }
        }
        let sw = match alternatives {
            Some(sws) => sws,
            None => {
                let split = stream.len().checked_sub(4).ok_or_else(|| PatternError {
                    column: last_col,
                    message: "expected a status word (4 hex digits, e.g. 9000 or 63Cx) at the end"
                        .into(),
                })?;
                let tail: Vec<Nibble> = stream
                    .get(split..)
                    .unwrap_or_default()
                    .iter()
                    .map_while(|(_, n)| *n)
                    .collect();
                let sw = SwPattern::from_nibbles(&tail).ok_or_else(|| PatternError {
                    column: last_col,
                    message: "expected a status word (4 hex digits) after '*'".into(),
                })?;
                stream.truncate(split);
                vec![sw]
            }
        };
        let mut items = Vec::new();
        let mut pending: Option<(usize, Nibble)> = None;
        let mut whole = whole.into_iter();
        for (col, n) in stream {
            match (n, pending.take()) {
                (None, None) => items.extend(whole.next().map(|(_, i)| i).unwrap_or_default()),
                (None, Some((c, _))) => {
                    return Err(PatternError {
                        column: c,
                        message: format!("odd number of hex digits before column {col}"),
                    });
                }
                (Some(n), None) => pending = Some((col, n)),
                (Some(lo), Some((_, hi))) => items.push(byte(hi, lo)),
            }
        }
        if let Some((c, _)) = pending {
            return Err(PatternError {
                column: c,
                message: "odd number of hex digits in the data".into(),
            });
        }
        // No response carries more: refusing here keeps every pattern's size bounded.
        let fixed = items.iter().fold(0usize, |n, i| n.saturating_add(i.len()));
        if fixed > MAX_DATA {
            return Err(PatternError {
                column,
                message: format!(
                    "the data pattern asks for {fixed} bytes; a response carries at most {MAX_DATA}"
                ),
            });
        }
        Ok(Self {
            data: DataPattern(items),
            sw,
        })
    }

    /// True when the response bytes (data ‖ SW1 SW2) match.
    #[must_use]
    pub fn matches(&self, response: &[u8]) -> bool {
        let Some((data, sw)) = Response::split(response) else {
            return false;
        };
        let sw = u16::from(sw);
        self.sw.iter().any(|p| p.matches(sw)) && self.data.matches(data)
    }

    /// The variables a matching response captures (`None` when it does not match).
    #[must_use]
    pub fn captures(&self, response: &[u8]) -> Option<Captures> {
        let (data, sw) = Response::split(response)?;
        let sw = u16::from(sw);
        if !self.sw.iter().any(|p| p.matches(sw)) {
            return None;
        }
        self.data.captures(data)
    }
}

/// The most response data an APDU carries (extended Le): no pattern asks for more.
const MAX_DATA: usize = 65_536;

/// A token that is a whole item rather than hex digits: `*` (any data), `*N` (any N bytes:
/// length only), `BB/MM` (a byte under a bit mask), `{name:N}` (capture N bytes).
fn special(tok: &str, col: usize) -> Result<Option<Vec<Item>>, PatternError> {
    let bad = |message: String| PatternError {
        column: col,
        message,
    };
    if tok == "*" {
        return Ok(Some(vec![Item::AnyData]));
    }
    if let Some(n) = tok.strip_prefix('*') {
        let n: usize = n.parse().ok().filter(|n| *n <= MAX_DATA).ok_or_else(|| {
            bad(format!(
                "expected `*` or `*N` (N bytes, at most {MAX_DATA}), found {tok:?}"
            ))
        })?;
        return Ok(Some(vec![Item::AnyBytes(n)]));
    }
    if let Some((v, m)) = tok.split_once('/') {
        let hex = |h: &str| {
            u8::from_str_radix(h, 16)
                .ok()
                .filter(|_| h.len() == 2)
                .ok_or_else(|| {
                    bad(format!(
                        "expected BB/MM (value/mask, hex bytes), found {tok:?}"
                    ))
                })
        };
        let (value, mask) = (hex(v)?, hex(m)?);
        return Ok(Some(vec![Item::Byte {
            value: value & mask,
            mask,
        }]));
    }
    if let Some(inner) = tok.strip_prefix('{') {
        let inner = inner
            .strip_suffix('}')
            .ok_or_else(|| bad(format!("expected {{name:N}}, found {tok:?}")))?;
        let (name, len) = inner.split_once(':').ok_or_else(|| {
            bad(format!(
                "expected {{name:N}} to capture N bytes, found {tok:?}"
            ))
        })?;
        let len: usize = len
            .parse()
            .ok()
            .filter(|n| (1..=MAX_DATA).contains(n))
            .ok_or_else(|| bad(format!("expected a byte count in {tok:?}")))?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(bad(format!(
                "a variable name is letters, digits and _: {tok:?}"
            )));
        }
        return Ok(Some(vec![Item::Capture {
            name: name.to_owned(),
            len,
        }]));
    }
    Ok(None)
}

fn tokens(text: &str, column: usize) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((column + s, text.get(s..i).unwrap_or_default()));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((column + s, text.get(s..).unwrap_or_default()));
    }
    out
}

impl DataPattern {
    /// True when `data` matches; `*` matches any run of bytes.
    #[must_use]
    pub fn matches(&self, data: &[u8]) -> bool {
        glob(&self.0, data, &mut Vec::new())
    }

    /// The variables a match captures (`None`: no match).
    #[must_use]
    pub fn captures(&self, data: &[u8]) -> Option<Captures> {
        let mut caps = Vec::new();
        glob(&self.0, data, &mut caps).then_some(caps)
    }

    /// The names of the variables the pattern captures.
    pub fn capture_names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|i| match i {
            Item::Capture { name, .. } => Some(name.as_str()),
            _ => None,
        })
    }

    /// Parses a bare data pattern (no status word), as for an ATR.
    ///
    /// # Errors
    /// [`PatternError`] at the offending column.
    pub fn parse(text: &str, column: usize) -> Result<Self, PatternError> {
        // Reuse the response grammar with a status word that always matches.
        let expect = Expect::parse(&format!("{text} xxxx"), column)?;
        Ok(expect.data)
    }
}

/// Variables captured by `{name:N}` items.
pub type Captures = Vec<(String, Vec<u8>)>;

impl fmt::Display for SwPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for shift in [12u16, 8, 4, 0] {
            if (self.mask >> shift) & 0xF == 0 {
                f.write_str("x")?;
            } else {
                write!(f, "{:X}", (self.value >> shift) & 0xF)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for DataPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match item {
                Item::AnyData => f.write_str("*")?,
                Item::AnyBytes(n) => write!(f, "*{n}")?,
                Item::Capture { name, len } => write!(f, "{{{name}:{len}}}")?,
                Item::Byte { value, mask }
                    if *mask & 0x0F != 0x0F && *mask & 0x0F != 0
                        || *mask & 0xF0 != 0xF0 && *mask & 0xF0 != 0 =>
                {
                    write!(f, "{value:02X}/{mask:02X}")?;
                }
                Item::Byte { value, mask } => {
                    for (shift, m) in [(4u8, 0xF0u8), (0, 0x0F)] {
                        if mask & m == 0 {
                            f.write_str("x")?;
                        } else {
                            write!(f, "{:X}", (value >> shift) & 0xF)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.data.0.is_empty() {
            write!(f, "{} ", self.data)?;
        }
        let sws: Vec<String> = self.sw.iter().map(ToString::to_string).collect();
        f.write_str(&sws.join("|"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, response: &str) -> bool {
        Expect::parse(pattern, 1)
            .unwrap()
            .matches(&apdu::parse_hex(response).unwrap())
    }

    #[test]
    fn patterns_match_as_documented() {
        #[rustfmt::skip]
        let table = [
            ("9000",               "9000",         true),
            ("90 00",              "9000",         true),
            ("9000",               "019000",       false),
            ("63Cx",               "63C2",         true),
            ("63Cx",               "63B2",         false),
            ("9000|6283",          "6283",         true),
            ("9000|6283",          "6A82",         false),
            ("0110 * 9000",        "0110AABB9000", true),
            ("0110 * 9000",        "01109000",     true),
            ("0110 * 9000",        "02109000",     false),
            ("01 XX 33 9000",      "01FF339000",   true),
            ("01 ?? 33 9000",      "01FF349000",   false),
            ("3x 9000",            "3A9000",       true),
            ("* 9000",             "9000",         true),
            ("* 61xx",             "AB611E",       true),
            ("6F * CF * 9000|61xx","6F01CF02611E", true),
            ("*3 9000",            "0102039000",   true),
            ("*3 9000",            "01029000",     false),
            ("81/F1 9000",         "8F9000",       true),
            ("81/F1 9000",         "829000",       false),
            ("{r:2} 33 9000",      "AABB339000",   true),
            ("{r:2} 9000",         "AA9000",       false),
        ];
        for (pattern, response, expected) in table {
            assert_eq!(m(pattern, response), expected, "{pattern} vs {response}");
        }
    }

    #[test]
    fn errors_name_the_column() {
        #[rustfmt::skip]
        let table = [
            ("",            1, "expected a response"),
            ("90",          1, "expected a status word"),
            ("0G 9000",     2, "expected a hex digit"),
            ("012 9000",    3, "odd number"),
            ("01 * 9000|62", 11, "4-digit status word"),
            ("9000 *",      6, "after '*'"),
        ];
        for (pattern, column, message) in table {
            let e = Expect::parse(pattern, 1).unwrap_err();
            assert_eq!(e.column, column, "{pattern}: {e:?}");
            assert!(e.message.contains(message), "{pattern}: {e:?}");
        }
    }

    #[test]
    fn captures_keep_the_bytes() {
        let e = Expect::parse("01 {a:2} * {b:1} 9000", 1).unwrap();
        let caps = e
            .captures(&apdu::parse_hex("01AABBCCDDEE9000").unwrap())
            .unwrap();
        assert_eq!(
            caps,
            vec![("a".into(), vec![0xAA, 0xBB]), ("b".into(), vec![0xEE])]
        );
        assert!(
            e.captures(&apdu::parse_hex("02AABB9000").unwrap())
                .is_none()
        );
        for bad in [
            "{a} 9000",
            "{a:0} 9000",
            "{a-b:1} 9000",
            "*x 9000",
            "8/F1 9000",
        ] {
            assert!(Expect::parse(bad, 1).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_round_trips() {
        for p in [
            "9000",
            "01 xx 33 * 63Cx",
            "6F 1C 9000|6283",
            "81/F1 {r:4} 9000",
        ] {
            let e = Expect::parse(p, 1).unwrap();
            assert_eq!(Expect::parse(&e.to_string(), 1).unwrap(), e, "{p}");
        }
    }
}
