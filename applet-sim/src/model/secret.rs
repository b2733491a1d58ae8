//! How a PIN value is sealed for a state file (docs/SECURITY.md §2 rule 4). A PIN object
//! (model/pin.rs, its `Secret`) keeps the digits on a volatile card; on a card that lives in
//! a state file, only a salted verifier, plus, for a PIN that the PKI application verifies by
//! cryptogram, the key that VERIFY needs (the value a real card holds).
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
    /// The verifier of a PIN at this place, from its fixed-length form (`PinValue::to_bytes`).
    #[must_use]
    pub fn verifier(&self, fixed: &[u8]) -> [u8; 32] {
        let mut h = sm3::Sm3::new();
        h.update(b"SSC-PIN-V1");
        h.update(self.salt);
        h.update(self.index.to_le_bytes());
        h.update(fixed);
        h.finalize().into()
    }

    /// What the state file keeps of a PIN, from its fixed-length form and packed BCD.
    #[must_use]
    pub fn seal(&self, fixed: &[u8], bcd: &[u8]) -> SealedPin {
        SealedPin {
            verifier: self.verifier(fixed),
            pki_key: self.keeps_pki_key.then(|| pki_pin_key(bcd)),
        }
    }
}
