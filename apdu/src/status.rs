//! Status words (SW1 SW2), named after the SSC spec (docs/CARD.md §4.2, spec
//! Part 5 Table 5) and ISO 7816-4 §5.6.
//!
//! Every 16-bit value maps to exactly one [`StatusWord`] and back: the named variants take
//! their codes, the data-carrying variants take their ranges (`61xx`, `63Cx`, `6Cxx`) and
//! [`StatusWord::Other`] holds only codes that no other variant names, so
//! `u16::from(StatusWord::from(x)) == x` for all 65,536 values.

use std::borrow::Cow;
use std::fmt;

/// A status word as the card answers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatusWord {
    /// 0x9000: normal processing.
    Success,
    /// 0x61xx: `xx` more bytes available with GET RESPONSE (00 means 256 or more).
    MoreAvailable(u8),
    /// 0x63Cx: verification failed, `x` tries left (x = 0..15).
    RemainingRetries(u8),
    /// 0x6283: the selected file is invalidated (a PBOC application temporarily blocked).
    SelectedFileInvalidated,
    /// 0x6581: memory failure.
    MemoryFailure,
    /// 0x6700: wrong length (Lc or Le).
    WrongLength,
    /// 0x6901: command not accepted in the current state.
    CommandNotAccepted,
    /// 0x6981: command incompatible with the file structure.
    IncompatibleFileStructure,
    /// 0x6982: security status not satisfied.
    SecurityStatusNotSatisfied,
    /// 0x6983: authentication method blocked (PIN or key counter at zero).
    AuthenticationMethodBlocked,
    /// 0x6984: referenced data not usable (no challenge, or challenge already used).
    ReferenceDataNotUsable,
    /// 0x6985: conditions of use not satisfied.
    ConditionsOfUseNotSatisfied,
    /// 0x6986: command not allowed, no current EF.
    NoCurrentEf,
    /// 0x6987: expected secure-messaging data objects missing (no MAC).
    SmDataObjectsMissing,
    /// 0x6988: secure-messaging data objects incorrect (bad MAC).
    SmDataObjectsIncorrect,
    /// 0x6A80: incorrect parameters in the data field.
    WrongData,
    /// 0x6A81: function not supported (also: the card is blocked).
    FunctionNotSupported,
    /// 0x6A82: file or application not found.
    FileNotFound,
    /// 0x6A83: record not found.
    RecordNotFound,
    /// 0x6A84: not enough memory space in the file.
    NotEnoughMemory,
    /// 0x6A85: Lc inconsistent with the TLV structure.
    LcInconsistentWithTlv,
    /// 0x6A86: incorrect parameters P1-P2.
    IncorrectP1P2,
    /// 0x6A88: referenced data (key, PIN) not found.
    ReferenceNotFound,
    /// 0x6B00: wrong parameters P1-P2 (offset outside the EF).
    WrongParameters,
    /// 0x6Cxx: wrong Le, `xx` is the exact length available.
    WrongLe(u8),
    /// 0x6D00: instruction code not supported or invalid.
    InsNotSupported,
    /// 0x6E00: class not supported.
    ClaNotSupported,
    /// 0x6F00: no precise diagnosis.
    NoPreciseDiagnosis,
    /// 0x9302: MAC invalid.
    MacInvalid,
    /// 0x9303: application permanently blocked.
    ApplicationBlocked,
    /// 0x9401: insufficient funds.
    InsufficientFunds,
    /// 0x9402: transaction counter at its maximum.
    CounterAtMax,
    /// 0x9403: key index not supported.
    KeyIndexNotSupported,
    /// 0x9406: required MAC not available.
    MacNotAvailable,
    /// Any code not named above.
    Other(u16),
}

/// The fixed-code variants and their codes, in one table that both directions use.
const NAMED: [(u16, StatusWord); 31] = [
    (0x9000, StatusWord::Success),
    (0x6283, StatusWord::SelectedFileInvalidated),
    (0x6581, StatusWord::MemoryFailure),
    (0x6700, StatusWord::WrongLength),
    (0x6901, StatusWord::CommandNotAccepted),
    (0x6981, StatusWord::IncompatibleFileStructure),
    (0x6982, StatusWord::SecurityStatusNotSatisfied),
    (0x6983, StatusWord::AuthenticationMethodBlocked),
    (0x6984, StatusWord::ReferenceDataNotUsable),
    (0x6985, StatusWord::ConditionsOfUseNotSatisfied),
    (0x6986, StatusWord::NoCurrentEf),
    (0x6987, StatusWord::SmDataObjectsMissing),
    (0x6988, StatusWord::SmDataObjectsIncorrect),
    (0x6A80, StatusWord::WrongData),
    (0x6A81, StatusWord::FunctionNotSupported),
    (0x6A82, StatusWord::FileNotFound),
    (0x6A83, StatusWord::RecordNotFound),
    (0x6A84, StatusWord::NotEnoughMemory),
    (0x6A85, StatusWord::LcInconsistentWithTlv),
    (0x6A86, StatusWord::IncorrectP1P2),
    (0x6A88, StatusWord::ReferenceNotFound),
    (0x6B00, StatusWord::WrongParameters),
    (0x6D00, StatusWord::InsNotSupported),
    (0x6E00, StatusWord::ClaNotSupported),
    (0x6F00, StatusWord::NoPreciseDiagnosis),
    (0x9302, StatusWord::MacInvalid),
    (0x9303, StatusWord::ApplicationBlocked),
    (0x9401, StatusWord::InsufficientFunds),
    (0x9402, StatusWord::CounterAtMax),
    (0x9403, StatusWord::KeyIndexNotSupported),
    (0x9406, StatusWord::MacNotAvailable),
];

impl StatusWord {
    /// The two bytes SW1 SW2.
    #[must_use]
    pub fn to_bytes(self) -> [u8; 2] {
        u16::from(self).to_be_bytes()
    }

    /// SW1.
    #[must_use]
    pub fn sw1(self) -> u8 {
        self.to_bytes()[0]
    }

    /// SW2.
    #[must_use]
    pub fn sw2(self) -> u8 {
        self.to_bytes()[1]
    }

    /// True for 9000 and the 61xx "more data" procedure status.
    #[must_use]
    pub fn is_success(self) -> bool {
        matches!(self, Self::Success | Self::MoreAvailable(_))
    }

    /// What the status word means, in words (docs/CARD.md §4.2; ISO 7816-4 for the rest).
    #[must_use]
    pub fn meaning(self) -> Cow<'static, str> {
        let fixed = match self {
            Self::Success => "success",
            Self::MoreAvailable(0) => "256 or more bytes available (GET RESPONSE)",
            Self::MoreAvailable(n) => {
                return Cow::Owned(format!("{n} bytes available (GET RESPONSE)"));
            }
            Self::RemainingRetries(1) => "verification failed, 1 try left",
            Self::RemainingRetries(n) => {
                return Cow::Owned(format!("verification failed, {n} tries left"));
            }
            Self::SelectedFileInvalidated => "selected file invalidated (application blocked)",
            Self::MemoryFailure => "memory failure",
            Self::WrongLength => "wrong length (Lc or Le)",
            Self::CommandNotAccepted => "command not accepted in the current state",
            Self::IncompatibleFileStructure => "command incompatible with file structure",
            Self::SecurityStatusNotSatisfied => "security status not satisfied",
            Self::AuthenticationMethodBlocked => "authentication method blocked",
            Self::ReferenceDataNotUsable => "referenced data not usable (no valid challenge)",
            Self::ConditionsOfUseNotSatisfied => "conditions of use not satisfied",
            Self::NoCurrentEf => "no current EF",
            Self::SmDataObjectsMissing => "secure messaging data objects missing (MAC missing)",
            Self::SmDataObjectsIncorrect => "secure messaging data objects incorrect (bad MAC)",
            Self::WrongData => "wrong data",
            Self::FunctionNotSupported => "function not supported (or card blocked)",
            Self::FileNotFound => "file not found",
            Self::RecordNotFound => "record not found",
            Self::NotEnoughMemory => "not enough memory space",
            Self::LcInconsistentWithTlv => "Lc inconsistent with TLV structure",
            Self::IncorrectP1P2 => "incorrect P1 P2",
            Self::ReferenceNotFound => "referenced data not found",
            Self::WrongParameters => "wrong P1 P2 (offset outside the EF)",
            Self::WrongLe(n) => {
                return Cow::Owned(format!("wrong Le, {n} bytes available"));
            }
            Self::InsNotSupported => "instruction not supported",
            Self::ClaNotSupported => "class not supported",
            Self::NoPreciseDiagnosis => "no precise diagnosis",
            Self::MacInvalid => "MAC invalid",
            Self::ApplicationBlocked => "application permanently blocked",
            Self::InsufficientFunds => "insufficient funds",
            Self::CounterAtMax => "counter at maximum",
            Self::KeyIndexNotSupported => "key index not supported",
            Self::MacNotAvailable => "MAC not available",
            Self::Other(0x6300) => "verification failed",
            Self::Other(code) => return Cow::Owned(other_meaning(code)),
        };
        Cow::Borrowed(fixed)
    }
}

/// Meanings by ISO 7816-4 class for codes the SSC spec does not list.
fn other_meaning(code: u16) -> String {
    let [sw1, _] = code.to_be_bytes();
    let class = match sw1 {
        0x62 | 0x63 => "warning",
        0x64..=0x66 => "execution error",
        0x67..=0x6F => "checking error",
        0x90..=0x9F => "application-specific status",
        _ => "not an ISO 7816 status word",
    };
    format!("{class} ({code:04X})")
}

impl From<u16> for StatusWord {
    fn from(code: u16) -> Self {
        let [sw1, sw2] = code.to_be_bytes();
        match (sw1, sw2) {
            (0x61, n) => Self::MoreAvailable(n),
            (0x63, n @ 0xC0..=0xCF) => Self::RemainingRetries(n & 0x0F),
            (0x6C, n) => Self::WrongLe(n),
            _ => NAMED
                .iter()
                .find(|(c, _)| *c == code)
                .map_or(Self::Other(code), |(_, sw)| *sw),
        }
    }
}

impl From<StatusWord> for u16 {
    fn from(sw: StatusWord) -> Self {
        match sw {
            StatusWord::MoreAvailable(n) => 0x6100 | u16::from(n),
            StatusWord::RemainingRetries(n) => 0x63C0 | u16::from(n & 0x0F),
            StatusWord::WrongLe(n) => 0x6C00 | u16::from(n),
            StatusWord::Other(code) => code,
            named => NAMED
                .iter()
                .find(|(_, s)| *s == named)
                .map_or(0x6F00, |(c, _)| *c),
        }
    }
}

impl From<[u8; 2]> for StatusWord {
    fn from(bytes: [u8; 2]) -> Self {
        Self::from(u16::from_be_bytes(bytes))
    }
}

impl From<(u8, u8)> for StatusWord {
    fn from((sw1, sw2): (u8, u8)) -> Self {
        Self::from([sw1, sw2])
    }
}

impl fmt::Display for StatusWord {
    /// `6983 (authentication method blocked)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X} ({})", u16::from(*self), self.meaning())
    }
}

/// Result of a card operation: the error is the status word the card answers.
pub type ApduResult<T = ()> = Result<T, StatusWord>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_65536_codes_round_trip() {
        for code in 0..=u16::MAX {
            let sw = StatusWord::from(code);
            assert_eq!(u16::from(sw), code, "{code:04X} -> {sw:?}");
            // Canonical: the decoded variant is the unique one for the code.
            assert_eq!(StatusWord::from(u16::from(sw)), sw);
            if let StatusWord::Other(c) = sw {
                assert!(
                    !NAMED.iter().any(|(n, _)| *n == c),
                    "Other({c:04X}) shadows a name"
                );
            }
        }
    }

    #[test]
    fn named_table_has_no_duplicates() {
        for (i, (a, _)) in NAMED.iter().enumerate() {
            for (b, _) in NAMED.iter().skip(i + 1) {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn data_carrying_variants() {
        assert_eq!(StatusWord::from(0x611E), StatusWord::MoreAvailable(0x1E));
        assert_eq!(StatusWord::from(0x63C2), StatusWord::RemainingRetries(2));
        assert_eq!(StatusWord::from(0x6C12), StatusWord::WrongLe(0x12));
        assert_eq!(StatusWord::from(0x63B2), StatusWord::Other(0x63B2));
        assert_eq!(StatusWord::RemainingRetries(3).to_bytes(), [0x63, 0xC3]);
    }

    #[test]
    fn every_ssc_status_word_has_a_specific_meaning() {
        // docs/CARD.md §4.2, in the order listed there.
        let listed: [u16; 32] = [
            0x6112, 0x63C1, 0x6581, 0x6700, 0x6901, 0x6981, 0x6982, 0x6983, 0x6984, 0x6985, 0x6986,
            0x6988, 0x6A80, 0x6A81, 0x6A82, 0x6A83, 0x6A84, 0x6A85, 0x6A86, 0x6A88, 0x6B00, 0x6C12,
            0x6D00, 0x6E00, 0x6F00, 0x9302, 0x9303, 0x9401, 0x9402, 0x9403, 0x9406, 0x6987,
        ];
        for code in listed {
            let sw = StatusWord::from(code);
            assert!(!matches!(sw, StatusWord::Other(_)), "{code:04X} is unnamed");
            let m = sw.meaning();
            assert!(!m.contains(&format!("{code:04X}")), "{code:04X}: {m}");
        }
        assert_eq!(
            StatusWord::from(0x63C2).meaning(),
            "verification failed, 2 tries left"
        );
        assert_eq!(
            StatusWord::from(0x63C1).meaning(),
            "verification failed, 1 try left"
        );
        assert_eq!(
            StatusWord::from(0x63C0).meaning(),
            "verification failed, 0 tries left"
        );
        assert_eq!(
            StatusWord::AuthenticationMethodBlocked.to_string(),
            "6983 (authentication method blocked)"
        );
    }
}
