//! Access conditions of EFs (docs/CARD.md §3.3, V2.0 Tables 3-8), written in profiles as
//! `free`, `never`, `pin`, `key:0A`, `pin|key:83` or `pin&key:83`.

use std::fmt;
use std::str::FromStr;

/// What must hold before a file may be read or updated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Always allowed.
    Free,
    /// Never allowed.
    Never,
    /// The application's PIN verified.
    Pin,
    /// External authentication with this card key id (e.g. 0A = RKSSSE, 04 = UKSSSE).
    Key(u8),
    /// The PIN verified or the key authenticated ("PIN 或 RK", V2.0 DF tables).
    PinOrKey(u8),
    /// The PIN verified and the key authenticated ("PIN & RK", DF04 EF06).
    PinAndKey(u8),
}

/// A set of bytes (00..=FF): key ids, or the numbers of the keys externally authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct KeySet([u128; 2]);

impl KeySet {
    /// The empty set.
    pub const EMPTY: Self = Self([0; 2]);

    fn slot(id: u8) -> (usize, u128) {
        (usize::from(id >> 7), 1u128 << (id & 0x7F))
    }

    /// Adds a key id.
    pub fn insert(&mut self, id: u8) {
        let (i, bit) = Self::slot(id);
        if let Some(w) = self.0.get_mut(i) {
            *w |= bit;
        }
    }

    /// True when the key id is in the set.
    #[must_use]
    pub fn contains(self, id: u8) -> bool {
        let (i, bit) = Self::slot(id);
        self.0.get(i).is_some_and(|w| w & bit != 0)
    }
}

/// The security status an access condition is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Granted {
    /// A PIN of the current application is verified.
    pub pin: bool,
    /// Key ids authenticated by EXTERNAL AUTHENTICATE.
    pub keys: KeySet,
}

impl Granted {
    fn key(self, id: u8) -> bool {
        self.keys.contains(id)
    }
}

impl Access {
    /// True when `granted` satisfies this condition.
    #[must_use]
    pub fn allows(self, granted: Granted) -> bool {
        match self {
            Self::Free => true,
            Self::Never => false,
            Self::Pin => granted.pin,
            Self::Key(k) => granted.key(k),
            Self::PinOrKey(k) => granted.pin || granted.key(k),
            Self::PinAndKey(k) => granted.pin && granted.key(k),
        }
    }
}

/// Why an access condition does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected free, never, pin, key:XX, pin|key:XX or pin&key:XX (XX hex), found {0:?}")]
pub struct AccessParseError(String);

impl FromStr for Access {
    type Err = AccessParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || AccessParseError(s.to_owned());
        let key = |k: &str| {
            u8::from_str_radix(k, 16)
                .ok()
                .filter(|_| k.len() == 2)
                .ok_or_else(err)
        };
        match s.trim() {
            "free" => Ok(Self::Free),
            "never" => Ok(Self::Never),
            "pin" => Ok(Self::Pin),
            t => {
                if let Some(k) = t.strip_prefix("pin|key:") {
                    Ok(Self::PinOrKey(key(k)?))
                } else if let Some(k) = t.strip_prefix("pin&key:") {
                    Ok(Self::PinAndKey(key(k)?))
                } else if let Some(k) = t.strip_prefix("key:") {
                    Ok(Self::Key(key(k)?))
                } else {
                    Err(err())
                }
            }
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Free => f.write_str("free"),
            Self::Never => f.write_str("never"),
            Self::Pin => f.write_str("pin"),
            Self::Key(k) => write!(f, "key:{k:02X}"),
            Self::PinOrKey(k) => write!(f, "pin|key:{k:02X}"),
            Self::PinAndKey(k) => write!(f, "pin&key:{k:02X}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prints_and_checks() {
        for s in ["free", "never", "pin", "key:0A", "pin|key:83", "pin&key:04"] {
            assert_eq!(s.parse::<Access>().unwrap().to_string(), s);
        }
        assert_eq!("key:0a".parse::<Access>(), Ok(Access::Key(0x0A)));
        assert!("key:".parse::<Access>().is_err());
        assert!("key:8".parse::<Access>().is_err());
        assert!("key:100".parse::<Access>().is_err());
        assert!("pin or key".parse::<Access>().is_err());
        let mut keys = KeySet::EMPTY;
        keys.insert(0x0A);
        keys.insert(0x83);
        assert!(keys.contains(0x0A) && keys.contains(0x83) && !keys.contains(0x8A));
        let none = Granted::default();
        let pin = Granted {
            pin: true,
            keys: KeySet::EMPTY,
        };
        let key0a = Granted { pin: false, keys };
        assert!(Access::Free.allows(none) && !Access::Never.allows(pin));
        assert!(!Access::Key(0x0A).allows(none) && Access::Key(0x0A).allows(key0a));
        assert!(Access::PinOrKey(0x0A).allows(pin) && Access::PinOrKey(0x0A).allows(key0a));
        assert!(!Access::PinAndKey(0x0A).allows(pin) && !Access::PinAndKey(0x0A).allows(key0a));
        assert!(Access::PinAndKey(0x0A).allows(Granted { pin: true, keys }));
        assert!(Access::Key(0x83).allows(key0a) && !Access::Key(0x03).allows(key0a));
    }
}
