//! What a PIN object keeps of its value (docs/SECURITY.md "PIN values at rest"): the digits
//! themselves on a volatile card, or — on a card that lives in a state file — only a salted
//! verifier, plus, for a PIN that the PKI application verifies by cryptogram, the key that
//! VERIFY needs (the value a real card holds).
//!
//! The verifier is `SM3("SSC-PIN-V1" ‖ salt ‖ index ‖ fixed-length form)`, the salt drawn per
//! state file, the index the PIN's place in the profile: equal PINs give different
//! verifiers in two files and in two PIN objects. A candidate is compared by computing its
//! verifier and comparing the 32 bytes in constant time. This keeps the digits out of the
//! file, its backups and casual reads; it does not resist an offline search of the 10^4 to
//! 10^16 values by whoever can read the file (a PIN has little entropy): the file's mode and
//! ownership checks are what protect it.

use std::fmt;

use sm3::Digest;
use subtle::ConstantTimeEq;

use super::pin::PinValue;

/// A state file's random salt.
pub type Salt = [u8; 16];

/// The PKI application's PIN key (docs/CARD.md §3.7): the first 16 bytes of SM3 of the PIN
/// in packed BCD.
#[must_use]
pub fn pki_pin_key(pin_bcd: &[u8]) -> [u8; 16] {
    let digest = sm3::Sm3::digest(pin_bcd);
    let mut key = [0u8; 16];
    if let Some(head) = digest.get(..16) {
        key.copy_from_slice(head);
    }
    key
}

/// How the PIN object at one place of a state file is sealed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sealing {
    /// The state file's salt.
    pub salt: Salt,
    /// The PIN's index among the profile's PINs.
    pub index: u16,
    /// Whether the PKI application may verify this PIN by cryptogram (its key is kept).
    pub keeps_pki_key: bool,
}

/// What a state file holds of a PIN value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SealedPin {
    /// The salted verifier.
    pub verifier: [u8; 32],
    /// `SM3(PIN in BCD)[0..16]`, kept only for a PIN verified by cryptogram.
    pub pki_key: Option<[u8; 16]>,
}

impl fmt::Debug for SealedPin {
    /// Never prints the verifier or the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedPin(key kept: {})", self.pki_key.is_some())
    }
}

impl Sealing {
    /// The verifier of `value` at this place.
    #[must_use]
    pub fn verifier(&self, value: &PinValue) -> [u8; 32] {
        let mut h = sm3::Sm3::new();
        h.update(b"SSC-PIN-V1");
        h.update(self.salt);
        h.update(self.index.to_le_bytes());
        h.update(value.to_bytes());
        h.finalize().into()
    }

    /// What the state file keeps of `value`.
    #[must_use]
    pub fn seal(&self, value: &PinValue) -> SealedPin {
        SealedPin {
            verifier: self.verifier(value),
            pki_key: self.keeps_pki_key.then(|| pki_pin_key(&value.to_bcd())),
        }
    }
}

/// A PIN object's secret: the digits (a volatile card: compared directly, no hash, no
/// allocation), or their sealed form (a card on a state file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secret {
    /// The digits.
    Clear(PinValue),
    /// The sealed form and how it was sealed.
    Sealed(Sealing, SealedPin),
}

impl Secret {
    /// Whether `candidate` is the PIN, in constant time (over the fixed-length form, or over
    /// the 32 bytes of the verifier).
    #[must_use]
    pub fn matches(&self, candidate: &PinValue) -> bool {
        match self {
            Self::Clear(value) => value.ct_eq(candidate),
            Self::Sealed(sealing, sealed) => {
                bool::from(sealing.verifier(candidate).ct_eq(&sealed.verifier))
            }
        }
    }

    /// The PKI PIN key, when this secret can give it (always in the clear; sealed, only when
    /// kept).
    #[must_use]
    pub fn pki_key(&self) -> Option<[u8; 16]> {
        match self {
            Self::Clear(value) => Some(pki_pin_key(&value.to_bcd())),
            Self::Sealed(_, sealed) => sealed.pki_key,
        }
    }

    /// A new value, kept the way the old one was.
    pub fn set(&mut self, value: PinValue) {
        *self = match *self {
            Self::Clear(_) => Self::Clear(value),
            Self::Sealed(sealing, _) => Self::Sealed(sealing, sealing.seal(&value)),
        };
    }

    /// Seals a clear value (what opening a state file does to the profile's values); a
    /// sealed one keeps its form, under the new sealing.
    pub fn seal(&mut self, sealing: Sealing) {
        *self = match *self {
            Self::Clear(value) => Self::Sealed(sealing, sealing.seal(&value)),
            Self::Sealed(_, sealed) => Self::Sealed(sealing, sealed),
        };
    }

    /// The sealed form, for the state file (`None` in the clear).
    #[must_use]
    pub fn sealed(&self) -> Option<SealedPin> {
        match self {
            Self::Clear(_) => None,
            Self::Sealed(_, sealed) => Some(*sealed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(s: &str) -> PinValue {
        PinValue::from_digits(s).unwrap()
    }

    #[test]
    fn sealed_secrets_compare_by_verifier_and_depend_on_salt_and_place() {
        let sealing = Sealing {
            salt: [7; 16],
            index: 0,
            keeps_pki_key: false,
        };
        let mut s = Secret::Clear(pin("123456"));
        s.seal(sealing);
        assert!(s.matches(&pin("123456")) && !s.matches(&pin("1234560")));
        assert_eq!(s.pki_key(), None);
        s.set(pin("654321"));
        assert!(s.matches(&pin("654321")) && !s.matches(&pin("123456")));
        let other_salt = Sealing {
            salt: [8; 16],
            ..sealing
        };
        let other_index = Sealing {
            index: 1,
            ..sealing
        };
        let v = sealing.verifier(&pin("1234"));
        assert_ne!(v, other_salt.verifier(&pin("1234")));
        assert_ne!(v, other_index.verifier(&pin("1234")));
        let pki = Sealing {
            keeps_pki_key: true,
            ..sealing
        };
        let mut s = Secret::Clear(pin("123456"));
        let clear_key = s.pki_key();
        s.seal(pki);
        assert_eq!(s.pki_key(), clear_key);
        assert_eq!(
            format!("{:?}", pki.seal(&pin("1"))),
            "SealedPin(key kept: true)"
        );
    }
}
