//! The small vocabularies of the card: transmission protocol, cipher suite, application
//! kind, EF structure, unblock method. Each parses from and prints as the name a profile uses.

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

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::T0 => "T=0",
            Self::T1 => "T=1",
        })
    }
}

impl CipherSuite {
    /// Every suite with its profile name.
    pub const NAMES: [(Self, &'static str); 3] =
        [(Self::Des3, "des3"), (Self::Sm4, "sm4"), (Self::Aes, "aes")];

    /// The profile name: `des3`, `sm4` or `aes`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Des3 => "des3",
            Self::Sm4 => "sm4",
            Self::Aes => "aes",
        }
    }
}

impl fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is none of the vocabulary's words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, found {found:?}")]
pub struct UnknownName {
    /// The accepted names, quoted and joined (`"des3", "sm4" or "aes"`).
    pub expected: &'static str,
    /// What was given.
    pub found: String,
}

impl FromStr for CipherSuite {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::NAMES
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(c, _)| *c)
            .ok_or_else(|| UnknownName {
                expected: "\"des3\", \"sm4\" or \"aes\"",
                found: s.to_owned(),
            })
    }
}

impl FromStr for Protocol {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "T=0" => Ok(Self::T0),
            "T=1" => Ok(Self::T1),
            other => Err(UnknownName {
                expected: "\"T=0\" or \"T=1\"",
                found: other.to_owned(),
            }),
        }
    }
}
