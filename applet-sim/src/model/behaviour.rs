//! Behaviour variants (docs/CARD.md §9.9): the places where the specification leaves the
//! card a choice and real cards differ, each a named option of the profile's `[behaviour]`
//! table. The defaults are this project's card as it always answered.

use super::kinds::UnknownName;

/// What VERIFY without data (the tries query, §5.1) answers once the PIN is verified.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum VerifyQueryVerified {
    /// `9000`: verified needs no tries count (the default; ISO 7816-4 §11.5.6).
    #[default]
    Success,
    /// `63Cx` with the tries left, verified or not (the counter is all the query reports).
    Tries,
}

/// What SELECT of the MF answers when the FCI is asked for (P2 = 00).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SelectMf {
    /// `9000` without data (the default).
    #[default]
    NoFci,
    /// `6F 04 83 02 3F 00`: an FCI with the file identifier (under T=0 behind `61 06`).
    Fci,
}

/// What a case 2 command under T=0 answers when its Le is not the data's length (§4.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum WrongLe {
    /// `6Cxx` with the exact length, whatever Le (the default; Part 5 §6.10).
    #[default]
    ExactLength,
    /// The data and `9000` when Le is 00 or more than the data; `6Cxx` only when Le is
    /// shorter (as under T=1).
    Data,
}

/// What a wrong secure-messaging MAC (the SSC MAC of §6.3) costs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MacFailure {
    /// Nothing: `6988`, no try of any key (the default; §5.2 item 6).
    #[default]
    Free,
    /// A try of the MAC key: `6988` while it has tries, `6983` once it is locked; a right
    /// MAC gives the tries back.
    KeyTry,
}

/// What happens to a pending challenge when a command fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ChallengeAfterError {
    /// It is kept until a command uses it (the default; §9.3).
    #[default]
    Kept,
    /// Any command answered with an error drops it.
    Dropped,
}

/// Whether SELECT with P1 = 00 (MF/DF by FID, Part 5 §6.11) reaches EFs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SelectEfByP100 {
    /// It does, as the readers of §4.1 expect (`00A4000002EF05` → 9000; the default).
    #[default]
    Allowed,
    /// Only MF and DFs: an EF by P1 = 00 answers `6A82` (P1 = 02 selects it).
    DfOnly,
}

/// The card's choices where the specification is silent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Behaviour {
    /// `verify_query_verified`.
    pub verify_query_verified: VerifyQueryVerified,
    /// `select_mf`.
    pub select_mf: SelectMf,
    /// `wrong_le`.
    pub wrong_le: WrongLe,
    /// `mac_failure`.
    pub mac_failure: MacFailure,
    /// `challenge_after_error`.
    pub challenge_after_error: ChallengeAfterError,
    /// `select_ef_by_p1_00`.
    pub select_ef_by_p1_00: SelectEfByP100,
}

/// One option: its name in the profile, its values' names (the default first).
#[derive(Clone, Copy, Debug)]
pub struct Choice {
    /// The key in `[behaviour]`.
    pub name: &'static str,
    /// The values, the default first.
    pub values: &'static [&'static str],
}

/// Every option and its values (docs/CARD.md §9.9), the default first.
pub const CHOICES: [Choice; 6] = [
    Choice {
        name: "verify_query_verified",
        values: &["9000", "63Cx"],
    },
    Choice {
        name: "select_mf",
        values: &["no-fci", "fci"],
    },
    Choice {
        name: "wrong_le",
        values: &["6Cxx", "data"],
    },
    Choice {
        name: "mac_failure",
        values: &["free", "key-try"],
    },
    Choice {
        name: "challenge_after_error",
        values: &["kept", "dropped"],
    },
    Choice {
        name: "select_ef_by_p1_00",
        values: &["allowed", "df-only"],
    },
];

impl Behaviour {
    /// Sets option `name` to `value` (names as in [`CHOICES`]).
    ///
    /// # Errors
    /// [`UnknownName`] for an option or a value that does not exist.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), UnknownName> {
        let choice = CHOICES
            .iter()
            .find(|o| o.name == name)
            .ok_or_else(|| UnknownName {
                expected: CHOICES.iter().map(|c| c.name).collect(),
                found: name.to_owned(),
            })?;
        let index = choice
            .values
            .iter()
            .position(|v| *v == value)
            .ok_or_else(|| UnknownName {
                expected: choice.values.to_vec(),
                found: value.to_owned(),
            })?;
        let second = index == 1;
        match name {
            "verify_query_verified" => {
                self.verify_query_verified = if second {
                    VerifyQueryVerified::Tries
                } else {
                    VerifyQueryVerified::Success
                };
            }
            "select_mf" => {
                self.select_mf = if second {
                    SelectMf::Fci
                } else {
                    SelectMf::NoFci
                };
            }
            "wrong_le" => {
                self.wrong_le = if second {
                    WrongLe::Data
                } else {
                    WrongLe::ExactLength
                };
            }
            "mac_failure" => {
                self.mac_failure = if second {
                    MacFailure::KeyTry
                } else {
                    MacFailure::Free
                };
            }
            "challenge_after_error" => {
                self.challenge_after_error = if second {
                    ChallengeAfterError::Dropped
                } else {
                    ChallengeAfterError::Kept
                };
            }
            "select_ef_by_p1_00" => {
                self.select_ef_by_p1_00 = if second {
                    SelectEfByP100::DfOnly
                } else {
                    SelectEfByP100::Allowed
                };
            }
            _ => {}
        }
        Ok(())
    }

    /// Each option and its value's name, in [`CHOICES`] order.
    #[must_use]
    pub fn values(&self) -> Vec<(&'static str, &'static str)> {
        let second = [
            self.verify_query_verified == VerifyQueryVerified::Tries,
            self.select_mf == SelectMf::Fci,
            self.wrong_le == WrongLe::Data,
            self.mac_failure == MacFailure::KeyTry,
            self.challenge_after_error == ChallengeAfterError::Dropped,
            self.select_ef_by_p1_00 == SelectEfByP100::DfOnly,
        ];
        CHOICES
            .iter()
            .zip(second)
            .map(|(c, s)| (c.name, c.values.get(usize::from(s)).copied().unwrap_or("")))
            .collect()
    }

    /// The options that differ from the default, as `name = "value"` lines.
    #[must_use]
    pub fn changed(&self) -> Vec<(&'static str, &'static str)> {
        let default = Self::default().values();
        self.values()
            .into_iter()
            .zip(default)
            .filter(|(v, d)| v != d)
            .map(|(v, _)| v)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_and_the_default_is_first() {
        let default = Behaviour::default();
        for (i, o) in CHOICES.iter().enumerate() {
            assert_eq!(default.values()[i], (o.name, o.values[0]));
            assert!(default.changed().is_empty());
            for v in o.values {
                let mut b = Behaviour::default();
                b.set(o.name, v).unwrap();
                assert_eq!(b.values()[i], (o.name, *v));
                // Only this option changed.
                for (j, other) in b.values().iter().enumerate() {
                    if j != i {
                        assert_eq!(*other, default.values()[j]);
                    }
                }
            }
        }
        let mut b = Behaviour::default();
        assert!(b.set("select_mf", "maybe").is_err());
        assert!(b.set("no_such_option", "fci").is_err());
        assert_eq!(b, Behaviour::default());
    }
}
