//! PIN objects: encoding, length bounds, value, retry counter, and the rules of
//! docs/SECURITY.md §1 in one place.
//!
//! The order of every check is fixed here: malformed input is rejected before anything
//! changes; a blocked PIN answers 6983 without a comparison; the counter is decremented
//! *before* the comparison (so a power cut can only lose a try); the comparison is constant
//! time over a fixed-length form; a match restores the counter.

use std::fmt;
use std::str::FromStr;

use apdu::StatusWord;

use super::secret::{SealedPin, Sealing, pki_pin_key};
use super::write::{StorageFailure, WritePoint};
use subtle::ConstantTimeEq;

/// Longest PIN any encoding carries, in digits.
pub const MAX_DIGITS: usize = 16;

/// How a PIN is coded in the command data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinEncoding {
    /// Packed BCD, right-padded with nibble F when odd (SSSE PIN: `12 34 56`, §5.1).
    Bcd,
    /// One ASCII digit per byte, no padding.
    Ascii,
    /// ASCII digits right-padded with FF to 8 bytes (ISO style, the PKI user PIN).
    AsciiFfPadded,
}

impl PinEncoding {
    /// The most digits the encoding can carry.
    #[must_use]
    pub fn max_digits(self) -> u8 {
        match self {
            Self::Bcd | Self::Ascii => 16,
            Self::AsciiFfPadded => 8,
        }
    }

    /// Decodes command data into digits, checking the length bounds.
    ///
    /// # Errors
    /// [`PinError::WrongLength`] when Lc cannot hold `min..=max` digits;
    /// [`PinError::BadFormat`] for a non-digit, bad padding or a digit count out of bounds.
    pub fn decode(self, data: &[u8], min: u8, max: u8) -> Result<PinValue, PinError> {
        let (min, max) = (usize::from(min), usize::from(max));
        let mut value = PinValue::EMPTY;
        match self {
            Self::Bcd => {
                if !(min.div_ceil(2)..=max.div_ceil(2)).contains(&data.len()) {
                    return Err(PinError::WrongLength);
                }
                let nibbles = data.iter().flat_map(|b| [b >> 4, b & 0x0F]);
                let mut padding = false;
                for n in nibbles {
                    match (n, padding) {
                        (0..=9, false) => value.push(n)?,
                        (0x0F, _) => padding = true,
                        _ => return Err(PinError::BadFormat),
                    }
                }
                // Padding is a single trailing F nibble (an odd number of digits).
                if usize::from(value.len).div_ceil(2) != data.len() {
                    return Err(PinError::BadFormat);
                }
            }
            Self::Ascii => {
                if !(min..=max).contains(&data.len()) {
                    return Err(PinError::WrongLength);
                }
                for b in data {
                    value.push(ascii_digit(*b)?)?;
                }
            }
            Self::AsciiFfPadded => {
                if data.len() != 8 {
                    return Err(PinError::WrongLength);
                }
                let digits = data.iter().take_while(|b| **b != 0xFF);
                for b in digits {
                    value.push(ascii_digit(*b)?)?;
                }
                if data.iter().skip(usize::from(value.len)).any(|b| *b != 0xFF) {
                    return Err(PinError::BadFormat);
                }
            }
        }
        if !(min..=max).contains(&usize::from(value.len)) {
            return Err(PinError::BadFormat);
        }
        Ok(value)
    }
}

fn ascii_digit(b: u8) -> Result<u8, PinError> {
    if b.is_ascii_digit() {
        Ok(b - b'0')
    } else {
        Err(PinError::BadFormat)
    }
}

impl FromStr for PinEncoding {
    type Err = super::UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bcd" => Ok(Self::Bcd),
            "ascii" => Ok(Self::Ascii),
            "ascii-ff" => Ok(Self::AsciiFfPadded),
            other => Err(super::UnknownName {
                expected: vec!["bcd", "ascii", "ascii-ff"],
                found: other.to_owned(),
            }),
        }
    }
}

/// A PIN written as text that is not one: not decimal digits, none, or too many.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PinTextError {
    /// A character other than 0..=9.
    #[error("{0:?} is not decimal digits")]
    NotDigits(String),
    /// More than [`MAX_DIGITS`] digits.
    #[error("{0:?} has more than {MAX_DIGITS} digits")]
    TooLong(String),
    /// No digit at all.
    #[error("a PIN has at least one digit")]
    Empty,
}

/// A PIN as digits in a fixed-length form: digits 0..=9 then `FF` to 16 bytes, so two values
/// compare in constant time and different lengths never compare equal.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PinValue {
    digits: [u8; MAX_DIGITS],
    len: u8,
}

impl PinValue {
    const EMPTY: Self = Self {
        digits: [0xFF; MAX_DIGITS],
        len: 0,
    };

    /// From a string of decimal digits (`"123456"`).
    ///
    /// # Errors
    /// [`PinTextError`] for a non-digit, no digits, or more than 16.
    pub fn from_digits(s: &str) -> Result<Self, PinTextError> {
        let mut v = Self::EMPTY;
        for c in s.bytes() {
            let d = ascii_digit(c).map_err(|_| PinTextError::NotDigits(s.to_owned()))?;
            v.push(d).map_err(|_| PinTextError::TooLong(s.to_owned()))?;
        }
        if v.len == 0 {
            return Err(PinTextError::Empty);
        }
        Ok(v)
    }

    fn push(&mut self, digit: u8) -> Result<(), PinError> {
        let slot = self
            .digits
            .get_mut(usize::from(self.len))
            .ok_or(PinError::WrongLength)?;
        *slot = digit;
        self.len += 1;
        Ok(())
    }

    /// Number of digits.
    #[must_use]
    pub fn len(&self) -> u8 {
        self.len
    }

    /// True for no digits.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The fixed-length form and the digit count, for the state file (storage.rs).
    #[must_use]
    pub fn to_bytes(&self) -> [u8; MAX_DIGITS + 1] {
        let mut out = [0xFF; MAX_DIGITS + 1];
        out[..MAX_DIGITS].copy_from_slice(&self.digits);
        out[MAX_DIGITS] = self.len;
        out
    }

    /// Reverses [`PinValue::to_bytes`]; `None` unless the bytes are digits then `FF`s with a
    /// matching count.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (digits, len) = bytes.split_first_chunk::<MAX_DIGITS>()?;
        let [len] = len else { return None };
        let n = usize::from(*len);
        let (used, unused) = digits.split_at_checked(n)?;
        (n > 0 && used.iter().all(|d| *d <= 9) && unused.iter().all(|d| *d == 0xFF)).then_some(
            Self {
                digits: *digits,
                len: *len,
            },
        )
    }

    /// The digits in packed BCD, F-padded when odd (`123456` -> `12 34 56`, §5.1).
    #[must_use]
    pub fn to_bcd(&self) -> Vec<u8> {
        let digits = self.digits.get(..usize::from(self.len)).unwrap_or_default();
        digits
            .chunks(2)
            .map(|pair| match pair {
                [hi, lo] => hi << 4 | lo,
                [hi] => hi << 4 | 0x0F,
                _ => 0xFF,
            })
            .collect()
    }

    /// Constant-time equality over the whole fixed-length form (one 128-bit comparison
    /// through `subtle`, with no early exit).
    #[must_use]
    pub fn ct_eq(&self, other: &Self) -> bool {
        let a = u128::from_be_bytes(self.digits);
        let b = u128::from_be_bytes(other.digits);
        bool::from(a.ct_eq(&b))
    }
}

impl fmt::Debug for PinValue {
    /// Never prints the digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PinValue({} digits)", self.len)
    }
}

/// Why a PIN operation failed; each maps to one status word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinError {
    /// Lc cannot be a PIN of this object: 6700, nothing changed.
    WrongLength,
    /// Not digits, bad padding, or digits out of bounds: 6A80, nothing changed.
    BadFormat,
    /// The counter is at zero: 6983, no comparison made.
    Blocked,
    /// The comparison failed: 63Cx with the tries left.
    Mismatch {
        /// Tries left.
        remaining: u8,
    },
    /// A write point could not be made durable: 6581, no comparison made.
    Storage,
}

impl From<PinError> for StatusWord {
    fn from(e: PinError) -> Self {
        match e {
            PinError::WrongLength => Self::WrongLength,
            PinError::BadFormat => Self::WrongData,
            PinError::Blocked => Self::AuthenticationMethodBlocked,
            PinError::Mismatch { remaining } => Self::RemainingRetries(remaining),
            PinError::Storage => Self::MemoryFailure,
        }
    }
}

/// Makes a PIN object's new state durable at a named write point (the card's storage,
/// storage.rs); an error stops the operation before anything else happens. A card without
/// durable state passes `&mut |_, _| Ok(())`.
pub type Commit<'a> = dyn FnMut(WritePoint, &PinObject) -> Result<(), StorageFailure> + 'a;

/// A PIN object of an application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinObject {
    /// Reference (VERIFY P2).
    pub reference: u8,
    /// Command encoding.
    pub encoding: PinEncoding,
    /// Fewest digits.
    pub min_digits: u8,
    /// Most digits.
    pub max_digits: u8,
    /// Tries after a success.
    pub max_tries: u8,
    secret: Secret,
    remaining: u8,
}

impl PinObject {
    /// A PIN object with all its tries.
    #[must_use]
    pub fn new(
        reference: u8,
        encoding: PinEncoding,
        (min_digits, max_digits): (u8, u8),
        value: PinValue,
        max_tries: u8,
    ) -> Self {
        Self {
            reference,
            encoding,
            min_digits,
            max_digits,
            max_tries,
            secret: Secret::Clear(value),
            remaining: max_tries,
        }
    }

    /// The same object with at most `remaining` tries left (a card made in a chosen state:
    /// a profile's `tries`). It only takes tries away, never adds any: the result is at
    /// most the tries the object had, and so at most its maximum.
    #[must_use]
    pub fn with_remaining(mut self, remaining: u8) -> Self {
        self.remaining = remaining.min(self.remaining);
        self
    }

    /// Tries left.
    #[must_use]
    pub fn remaining(&self) -> u8 {
        self.remaining
    }

    /// True when the counter is at zero.
    #[must_use]
    pub fn is_blocked(&self) -> bool {
        self.remaining == 0
    }

    /// VERIFY with data (docs/SECURITY.md §1 rules 1-4).
    ///
    /// # Errors
    /// [`PinError`]: malformed input and a blocked PIN change nothing; a mismatch has
    /// already cost its try.
    pub fn verify(&mut self, data: &[u8], commit: &mut Commit<'_>) -> Result<(), PinError> {
        let candidate = self
            .encoding
            .decode(data, self.min_digits, self.max_digits)?;
        self.check(&candidate, commit)
    }

    /// The counted comparison: blocked check, decrement, compare, restore on match.
    fn check(&mut self, candidate: &PinValue, commit: &mut Commit<'_>) -> Result<(), PinError> {
        self.check_with(commit, |secret| secret.matches(candidate))
    }

    /// A counted comparison by a derived value (the PKI application's VERIFY compares a
    /// cryptogram computed from the PIN, §3.7): blocked check, decrement, `matches` on the
    /// stored value, restore on a match. `matches` must compare in constant time.
    ///
    /// # Errors
    /// [`PinError::Blocked`] (nothing changed) or [`PinError::Mismatch`] (the try is spent).
    pub fn check_with(
        &mut self,
        commit: &mut Commit<'_>,
        matches: impl FnOnce(&Secret) -> bool,
    ) -> Result<(), PinError> {
        self.attempt(commit, matches)?;
        commit(WritePoint::PinRestore, self).map_err(|_| PinError::Storage)
    }

    /// The counted comparison without committing its restore: blocked check, decrement
    /// (committed: durable before the comparison, so a power cut can only lose a try,
    /// docs/SECURITY.md §1 rule 3), compare. On a match the counter is back at its maximum in
    /// memory only: the caller commits it, alone or together with the change it allows, so
    /// that no power cut leaves the counter restored without the command's effect.
    ///
    /// # Errors
    /// [`PinError::Blocked`], [`PinError::Storage`] or [`PinError::Mismatch`].
    pub fn attempt(
        &mut self,
        commit: &mut Commit<'_>,
        matches: impl FnOnce(&Secret) -> bool,
    ) -> Result<(), PinError> {
        if self.remaining == 0 {
            return Err(PinError::Blocked);
        }
        self.remaining -= 1;
        commit(WritePoint::PinDecrement, self).map_err(|_| PinError::Storage)?;
        if matches(&self.secret) {
            self.remaining = self.max_tries;
            Ok(())
        } else {
            Err(PinError::Mismatch {
                remaining: self.remaining,
            })
        }
    }

    /// Decodes command data in this PIN's encoding and bounds (no state is touched).
    ///
    /// # Errors
    /// [`PinError::WrongLength`] or [`PinError::BadFormat`].
    pub fn decode(&self, data: &[u8]) -> Result<PinValue, PinError> {
        self.encoding.decode(data, self.min_digits, self.max_digits)
    }

    /// The length in bytes of every well-formed PIN block, when it is fixed (ASCII FF-padded,
    /// or a fixed digit count); what splits `old ‖ new` and `PUK ‖ new PIN`.
    #[must_use]
    pub fn fixed_len(&self) -> Option<usize> {
        match self.encoding {
            PinEncoding::AsciiFfPadded => Some(8),
            PinEncoding::Ascii if self.min_digits == self.max_digits => {
                Some(usize::from(self.max_digits))
            }
            PinEncoding::Bcd if self.min_digits == self.max_digits => {
                Some(usize::from(self.max_digits).div_ceil(2))
            }
            PinEncoding::Ascii | PinEncoding::Bcd => None,
        }
    }

    /// CHANGE PIN / CHANGE REFERENCE DATA (docs/SECURITY.md §1 rule 6): the old value is decoded
    /// and checked first (a counted comparison), then the new value's format; only then is the
    /// value replaced. A correct old value with a malformed new one restores the counter and
    /// changes nothing else.
    ///
    /// # Errors
    /// [`PinError`] for the old value, then [`PinError::BadFormat`] /
    /// [`PinError::WrongLength`] for the new one.
    pub fn change(
        &mut self,
        old: &[u8],
        new: &[u8],
        commit: &mut Commit<'_>,
    ) -> Result<(), PinError> {
        let old = self.decode(old)?;
        self.attempt(commit, |s| s.matches(&old))?;
        // The restored counter and the new value go in one record.
        let Ok(new) = self.decode(new) else {
            commit(WritePoint::PinRestore, self).map_err(|_| PinError::Storage)?;
            return Err(PinError::BadFormat);
        };
        self.secret.set(new);
        commit(WritePoint::PinValue, self).map_err(|_| PinError::Storage)
    }

    /// A counted comparison with an already decoded value whose restore is left to the
    /// caller (RESET RETRY COUNTER's PUK: see [`PinObject::attempt`]).
    ///
    /// # Errors
    /// [`PinError::Blocked`], [`PinError::Storage`] or [`PinError::Mismatch`].
    pub fn attempt_value(
        &mut self,
        candidate: &PinValue,
        commit: &mut Commit<'_>,
    ) -> Result<(), PinError> {
        self.attempt(commit, |s| s.matches(candidate))
    }

    /// Replaces the value and restores the counter (RESET RETRY COUNTER with a new PIN),
    /// both in one record.
    ///
    /// # Errors
    /// [`PinError::Storage`] when the write point fails.
    pub fn set_value(&mut self, value: PinValue, commit: &mut Commit<'_>) -> Result<(), PinError> {
        self.secret.set(value);
        self.remaining = self.max_tries;
        commit(WritePoint::PinValue, self).map_err(|_| PinError::Storage)
    }

    /// An uncounted constant-time comparison, for commands whose MAC already authenticated
    /// the terminal (PBOC PIN UNBLOCK, §5.4).
    #[must_use]
    pub fn matches(&self, candidate: &PinValue) -> bool {
        self.secret.matches(candidate)
    }

    /// Restores the counter (RESET RETRY COUNTER without a new PIN). Unlike a restore after
    /// a match this one is the command's effect, so it is synced (as `pin.value`).
    ///
    /// # Errors
    /// [`PinError::Storage`] when the write point fails.
    pub fn unblock(&mut self, commit: &mut Commit<'_>) -> Result<(), PinError> {
        self.remaining = self.max_tries;
        commit(WritePoint::PinValue, self).map_err(|_| PinError::Storage)
    }

    /// The value as kept (clear, or sealed for the state file).
    #[must_use]
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// Keeps the value sealed from now on (a card on a state file, model/secret.rs).
    pub fn seal(&mut self, sealing: Sealing) {
        self.secret.seal(sealing);
    }

    /// Puts back a value (clear in a format-1 file: sealed as this object is) and counter
    /// read from the state file (the counter capped at the maximum).
    pub fn restore_state(&mut self, value: PinValue, remaining: u8) {
        self.secret.set(value);
        self.remaining = remaining.min(self.max_tries);
    }

    /// Puts back a sealed value and counter read from the state file; `false` (nothing
    /// changed) when this object is not sealed.
    pub fn restore_sealed(&mut self, sealed: SealedPin, remaining: u8) -> bool {
        let Secret::Sealed(sealing, _) = self.secret else {
            return false;
        };
        self.secret = Secret::Sealed(sealing, sealed);
        self.remaining = remaining.min(self.max_tries);
        true
    }

    /// VERIFY without data: 63Cx with the tries left (never costs a try), or 6983 blocked.
    #[must_use]
    pub fn query(&self) -> StatusWord {
        if self.remaining == 0 {
            StatusWord::AuthenticationMethodBlocked
        } else {
            StatusWord::RemainingRetries(self.remaining)
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

/// The sealed comparison, kept out of line: the clear one is the in-process hot path.
#[inline(never)]
fn sealed_matches(sealing: &Sealing, sealed: &SealedPin, candidate: &PinValue) -> bool {
    bool::from(
        sealing
            .verifier(&candidate.to_bytes())
            .ct_eq(&sealed.verifier),
    )
}

impl Secret {
    /// Whether `candidate` is the PIN, in constant time (over the fixed-length form, or over
    /// the 32 bytes of the verifier).
    #[must_use]
    #[inline]
    pub fn matches(&self, candidate: &PinValue) -> bool {
        match self {
            Self::Clear(value) => value.ct_eq(candidate),
            Self::Sealed(sealing, sealed) => sealed_matches(sealing, sealed, candidate),
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
            Self::Sealed(sealing, _) => Self::Sealed(sealing, seal(sealing, &value)),
        };
    }

    /// Seals a clear value (what opening a state file does to the profile's values); a
    /// sealed one keeps its form, under the new sealing.
    pub fn seal(&mut self, sealing: Sealing) {
        *self = match *self {
            Self::Clear(value) => Self::Sealed(sealing, seal(sealing, &value)),
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

/// `value` sealed at `sealing`'s place.
fn seal(sealing: Sealing, value: &PinValue) -> SealedPin {
    sealing.seal(&value.to_bytes(), &value.to_bcd())
}

#[cfg(test)]
#[path = "pin_tests.rs"]
mod tests;
