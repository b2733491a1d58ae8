//! The small vocabularies of the card: transmission protocol, cipher suite, application
//! kind, EF structure, unblock method. Each word-valued one has one table of the names a
//! profile uses ([`Vocabulary::NAMES`]), which parses and prints it.

use std::fmt;
use std::str::FromStr;

/// The transmission protocol whose procedure bytes the card emulates (docs/CARD.md §2, §4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// T=0: the card answers `61xx` for data it holds and `6Cxx` for a wrong Le.
    T0,
    /// T=1: data is returned with the answer.
    T1,
}

/// The block cipher of the card's keys (docs/CARD.md §6.1): the FCI algorithm flag says which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CipherSuite {
    /// DES / 3DES with double-length keys, 8-byte blocks (second generation, flag 01).
    Des3,
    /// SM4, 16-byte blocks (third generation, flag 03).
    Sm4,
    /// AES-128 with the SM4 scheme (an option; not in the SSC spec).
    Aes,
}

/// Which command set an application answers (docs/CARD.md §4.1, §3.6, §3.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppKind {
    /// The SSSE and its sub-DFs: SSC Part 5 commands (CHANGE PIN `80 5E`, no `00 24`/`00 2C`).
    Ssse,
    /// The financial (PBOC / UnionPay) application: PBOC conventions.
    Pboc,
    /// The third-generation PKI application: ISO-style PINs with a PUK (`00 24`, `00 2C`).
    Pki,
}

/// How a blocked PIN is unblocked (docs/CARD.md §5.2, §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unblock {
    /// Not at all.
    Never,
    /// At the service centre, with the issuer's PUK key (external authentication with key 06
    /// and `84 24`; the issuer-security issue).
    IssuerKey,
    /// With a PUK object of the same application, by reference (RESET RETRY COUNTER).
    Puk(u8),
}

/// How an EF holds its data (ISO 7816-4 §5.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Structure {
    /// A byte string read with READ BINARY.
    Transparent,
    /// Linear records of variable length.
    Linear,
    /// Cyclic records: the newest is record 1.
    Cyclic,
}

/// How an application is blocked (docs/CARD.md §4.1, §4.4, §5.4): by a command
/// (`84 1E`), or from the start by a profile (`blocked` of a `[[df]]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppBlock {
    /// `84 1E 00 00` (PBOC only): SELECT answers 6283, other commands 6985; `84 18` lifts it.
    Temporary,
    /// `84 1E 00 01`: for ever; every command in the application answers 9303.
    Permanent,
}

impl AppBlock {
    /// The stronger of two blocks.
    #[must_use]
    pub fn max_block(self, other: Self) -> Self {
        if self == Self::Permanent || other == Self::Permanent {
            Self::Permanent
        } else {
            Self::Temporary
        }
    }
}

/// A vocabulary of words written in profiles: each value and its name, listed once.
pub trait Vocabulary: Copy + PartialEq + 'static {
    /// Every value with its name.
    const NAMES: &'static [(Self, &'static str)];

    /// The name of this value.
    #[must_use]
    fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(v, _)| *v == self)
            .map_or("?", |(_, n)| *n)
    }

    /// The value named `word`.
    ///
    /// # Errors
    /// [`UnknownName`] listing the names accepted.
    fn from_name(word: &str) -> Result<Self, UnknownName> {
        Self::NAMES
            .iter()
            .find(|(_, n)| *n == word)
            .map(|(v, _)| *v)
            .ok_or_else(|| UnknownName {
                expected: Self::NAMES.iter().map(|(_, n)| *n).collect(),
                found: word.to_owned(),
            })
    }
}

/// A name that is none of the vocabulary's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownName {
    /// The accepted names.
    pub expected: Vec<&'static str>,
    /// What was given.
    pub found: String,
}

impl fmt::Display for UnknownName {
    /// `expected "des3", "sm4" or "aes", found "x"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected ")?;
        let n = self.expected.len();
        for (i, name) in self.expected.iter().enumerate() {
            let sep = match (i, n - i) {
                (0, _) => "",
                (_, 1) => " or ",
                _ => ", ",
            };
            write!(f, "{sep}{name:?}")?;
        }
        write!(f, ", found {:?}", self.found)
    }
}

impl std::error::Error for UnknownName {}

impl Vocabulary for Protocol {
    const NAMES: &'static [(Self, &'static str)] = &[(Self::T0, "T=0"), (Self::T1, "T=1")];
}

impl Vocabulary for CipherSuite {
    const NAMES: &'static [(Self, &'static str)] =
        &[(Self::Des3, "des3"), (Self::Sm4, "sm4"), (Self::Aes, "aes")];
}

impl Vocabulary for AppKind {
    const NAMES: &'static [(Self, &'static str)] = &[
        (Self::Ssse, "ssse"),
        (Self::Pboc, "pboc"),
        (Self::Pki, "pki"),
    ];
}

impl Vocabulary for Structure {
    const NAMES: &'static [(Self, &'static str)] = &[
        (Self::Transparent, "transparent"),
        (Self::Linear, "linear"),
        (Self::Cyclic, "cyclic"),
    ];
}

/// `FromStr` and `Display` of a vocabulary, from its names.
macro_rules! by_name {
    ($($t:ty),*) => {$(
        impl FromStr for $t {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::from_name(s)
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    )*};
}

impl Vocabulary for AppBlock {
    const NAMES: &'static [(Self, &'static str)] = &[
        (Self::Temporary, "temporary"),
        (Self::Permanent, "permanent"),
    ];
}

by_name!(Protocol, CipherSuite, AppKind, Structure, AppBlock);

impl CipherSuite {
    /// The suite of the keys of an application of this kind on a card of this suite: the
    /// financial application's keys are 3DES whatever the card's (docs/CARD.md §5.4).
    #[must_use]
    pub fn for_app(self, kind: Option<AppKind>) -> Self {
        match kind {
            Some(AppKind::Pboc) => Self::Des3,
            _ => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print_both_ways() {
        for (v, n) in CipherSuite::NAMES {
            assert_eq!(n.parse::<CipherSuite>().unwrap(), *v);
            assert_eq!(v.to_string(), *n);
        }
        assert_eq!("linear".parse::<Structure>().unwrap(), Structure::Linear);
        assert_eq!(AppKind::Pki.to_string(), "pki");
        assert_eq!(
            "x".parse::<CipherSuite>().unwrap_err().to_string(),
            "expected \"des3\", \"sm4\" or \"aes\", found \"x\""
        );
        assert_eq!(
            "T=2".parse::<Protocol>().unwrap_err().to_string(),
            "expected \"T=0\" or \"T=1\", found \"T=2\""
        );
    }

    #[test]
    fn the_financial_applications_keys_are_3des() {
        assert_eq!(
            CipherSuite::Sm4.for_app(Some(AppKind::Pboc)),
            CipherSuite::Des3
        );
        assert_eq!(
            CipherSuite::Sm4.for_app(Some(AppKind::Ssse)),
            CipherSuite::Sm4
        );
        assert_eq!(CipherSuite::Aes.for_app(None), CipherSuite::Aes);
    }
}
