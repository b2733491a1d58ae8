//! The class byte (CLA), ISO 7816-4 §5.4.1.

use std::fmt;

/// How a class byte is coded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClassKind {
    /// First interindustry values, `000x xxxx`: channels 0–3, two SM bits.
    FirstInterindustry,
    /// Further interindustry values, `01xx xxxx`: channels 4–19, one SM bit.
    FurtherInterindustry,
    /// Proprietary, `1xxx xxxx` except `FF` (the SSC's `80`/`84` and PBOC's `B0` are here).
    Proprietary,
    /// `001x xxxx` is reserved for future use, `FF` is invalid (PPS).
    Invalid,
}

/// Secure messaging indicated by the class byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecureMessaging {
    /// No SM.
    None,
    /// Proprietary SM format.
    Proprietary,
    /// ISO SM, header not processed (not authenticated).
    HeaderNotAuthenticated,
    /// ISO SM, header authenticated (first interindustry only).
    HeaderAuthenticated,
}

/// A class byte with its ISO 7816-4 decoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Class(pub u8);

impl Class {
    /// How the byte is coded.
    #[must_use]
    pub fn kind(self) -> ClassKind {
        match self.0 {
            0x00..=0x1F => ClassKind::FirstInterindustry,
            0x40..=0x7F => ClassKind::FurtherInterindustry,
            0x80..=0xFE => ClassKind::Proprietary,
            0x20..=0x3F | 0xFF => ClassKind::Invalid,
        }
    }

    /// True for the interindustry classes (first and further).
    #[must_use]
    pub fn is_interindustry(self) -> bool {
        matches!(
            self.kind(),
            ClassKind::FirstInterindustry | ClassKind::FurtherInterindustry
        )
    }

    /// Bit b5 of an interindustry class: this command is not the last of a chain.
    /// Proprietary classes have no chaining bit (`B0` is the SSC's medical e-purse class).
    #[must_use]
    pub fn is_chained(self) -> bool {
        self.is_interindustry() && self.0 & 0x10 != 0
    }

    /// The secure-messaging indication.
    ///
    /// For proprietary classes the SSC and PBOC specs follow the first-interindustry coding
    /// (`84` = `80` with a MAC, docs/CARD.md §6.3), so b4–b3 are read the same way there.
    #[must_use]
    pub fn secure_messaging(self) -> SecureMessaging {
        match self.kind() {
            ClassKind::FirstInterindustry | ClassKind::Proprietary => match (self.0 >> 2) & 0b11 {
                0b00 => SecureMessaging::None,
                0b01 => SecureMessaging::Proprietary,
                0b10 => SecureMessaging::HeaderNotAuthenticated,
                _ => SecureMessaging::HeaderAuthenticated,
            },
            ClassKind::FurtherInterindustry if self.0 & 0x20 != 0 => {
                SecureMessaging::HeaderNotAuthenticated
            }
            ClassKind::FurtherInterindustry | ClassKind::Invalid => SecureMessaging::None,
        }
    }

    /// True when any secure messaging is indicated.
    #[must_use]
    pub fn has_secure_messaging(self) -> bool {
        self.secure_messaging() != SecureMessaging::None
    }

    /// The logical channel: 0–3 (first interindustry), 4–19 (further), 0 otherwise.
    #[must_use]
    pub fn channel(self) -> u8 {
        match self.kind() {
            ClassKind::FirstInterindustry => self.0 & 0x03,
            ClassKind::FurtherInterindustry => 4 + (self.0 & 0x0F),
            ClassKind::Proprietary | ClassKind::Invalid => 0,
        }
    }

    /// The class with the SM and chaining bits and the channel cleared: `04` -> `00`,
    /// `84` -> `80` (a proprietary class keeps all bits but the SM bits).
    #[must_use]
    pub fn base(self) -> u8 {
        match self.kind() {
            ClassKind::FirstInterindustry => self.0 & 0xE0,
            ClassKind::FurtherInterindustry => self.0 & 0xC0,
            ClassKind::Proprietary => self.0 & 0xF3,
            ClassKind::Invalid => self.0,
        }
    }
}

impl From<u8> for Class {
    fn from(b: u8) -> Self {
        Self(b)
    }
}

impl From<Class> for u8 {
    fn from(c: Class) -> Self {
        c.0
    }
}

impl fmt::Debug for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Class({:02X})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_classes_the_ssc_uses() {
        #[rustfmt::skip]
        let table = [
            // cla  kind                               sm                                     chain  ch  base
            (0x00, ClassKind::FirstInterindustry,   SecureMessaging::None,                  false, 0, 0x00),
            (0x04, ClassKind::FirstInterindustry,   SecureMessaging::Proprietary,           false, 0, 0x00),
            (0x0C, ClassKind::FirstInterindustry,   SecureMessaging::HeaderAuthenticated,   false, 0, 0x00),
            (0x10, ClassKind::FirstInterindustry,   SecureMessaging::None,                  true,  0, 0x00),
            (0x03, ClassKind::FirstInterindustry,   SecureMessaging::None,                  false, 3, 0x00),
            (0x41, ClassKind::FurtherInterindustry, SecureMessaging::None,                  false, 5, 0x40),
            (0x7F, ClassKind::FurtherInterindustry, SecureMessaging::HeaderNotAuthenticated, true, 19, 0x40),
            (0x80, ClassKind::Proprietary,          SecureMessaging::None,                  false, 0, 0x80),
            (0x84, ClassKind::Proprietary,          SecureMessaging::Proprietary,           false, 0, 0x80),
            (0xB0, ClassKind::Proprietary,          SecureMessaging::None,                  false, 0, 0xB0),
            (0x20, ClassKind::Invalid,              SecureMessaging::None,                  false, 0, 0x20),
            (0xFF, ClassKind::Invalid,              SecureMessaging::None,                  false, 0, 0xFF),
        ];
        for (cla, kind, sm, chained, channel, base) in table {
            let c = Class(cla);
            assert_eq!(c.kind(), kind, "{cla:02X}");
            assert_eq!(c.secure_messaging(), sm, "{cla:02X}");
            assert_eq!(c.is_chained(), chained, "{cla:02X}");
            assert_eq!(c.channel(), channel, "{cla:02X}");
            assert_eq!(c.base(), base, "{cla:02X}");
        }
    }
}
