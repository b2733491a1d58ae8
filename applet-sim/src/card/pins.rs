//! VERIFY, CHANGE PIN, CHANGE REFERENCE DATA and RESET RETRY COUNTER (docs/CARD.md §5;
//! docs/SECURITY.md §1). The counter rules live in [`crate::model::pin::PinObject`]; this module finds
//! the PIN in scope and keeps the security status.

use crate::model::behaviour::VerifyQueryVerified;
use apdu::{ApduResult, Response, StatusWord};

use super::Card;
use super::state::bit;
use crate::command::{ResetMode, VerifyAction};
use crate::model::Unblock;
use crate::model::WritePoint;
use crate::model::pin::PinError;

impl Card {
    /// The index of the PIN with this reference that applies in the current DF (6A88 when
    /// there is none).
    fn pin_index(&self, reference: u8) -> ApduResult<usize> {
        self.pins_in_scope()
            .find(|(_, p)| p.pin.reference == reference)
            .map(|(i, _)| i)
            .ok_or(StatusWord::ReferenceNotFound)
    }

    fn pin_at(&mut self, index: usize) -> ApduResult<&mut crate::model::PinObject> {
        self.persistent
            .pins
            .get_mut(index)
            .map(|p| &mut p.pin)
            .ok_or(StatusWord::ReferenceNotFound)
    }

    /// Records the outcome of a counted comparison in the security status: a match verifies,
    /// a compared-and-failed PIN loses its status (ISO 7816-4 §11.5.6).
    fn note(&mut self, index: usize, result: Result<(), PinError>) -> ApduResult<Response> {
        match result {
            Ok(()) => {
                self.volatile.verified |= bit(index);
                Ok(Response::status(StatusWord::Success))
            }
            Err(e) => {
                if matches!(e, PinError::Mismatch { .. } | PinError::Blocked) {
                    self.volatile.verified &= !bit(index);
                }
                Err(e.into())
            }
        }
    }

    /// VERIFY (docs/CARD.md §5.1): check, query (9000 when verified, 63Cx, 6983 blocked; never
    /// a try), the Lc = 00 query (the same, and 9000 without a PIN), or logout (P1 = FF).
    pub(super) fn verify(
        &mut self,
        reference: u8,
        action: VerifyAction<'_>,
    ) -> ApduResult<Response> {
        let index = match self.pin_index(reference) {
            Ok(index) => index,
            // Lc = 00 (Part 5 §6.14.5): 9000 when there is no PIN.
            Err(_) if action == VerifyAction::TriesQuery => {
                return Ok(Response::status(StatusWord::Success));
            }
            Err(sw) => return Err(sw),
        };
        let verified = self.volatile.verified & bit(index) != 0;
        match action {
            VerifyAction::Check(data) => {
                let result = self.with_pin(index, |p, commit| p.verify(data, commit))?;
                self.note(index, result)
            }
            // Lc = 00 answers as the query: under T=0 a reader sends the case-1 query
            // `00 20 00 P2` as the TPDU `00 20 00 P2 00`, so no card can tell them apart.
            VerifyAction::Query | VerifyAction::TriesQuery => {
                let answers_9000 = verified
                    && self.behaviour.verify_query_verified == VerifyQueryVerified::Success;
                let pin = self.pin_at(index)?;
                if pin.is_blocked() {
                    Err(StatusWord::AuthenticationMethodBlocked)
                } else if answers_9000 {
                    Ok(Response::status(StatusWord::Success))
                } else {
                    Err(pin.query())
                }
            }
            VerifyAction::Cryptogram(cryptogram) => {
                // The challenge first: without one nothing is compared or counted (6984).
                let challenge = self.take_challenge()?;
                let result = self.with_pin(index, |p, commit| {
                    p.check_with(commit, |secret| {
                        // The key the card holds (docs/CARD.md §3.7); a PIN sealed without
                        // one is outside every PKI application and never matches.
                        secret.pki_key().is_some_and(|key| {
                            let expected = crate::crypto::pki_cryptogram(&key, &challenge);
                            bool::from(subtle::ConstantTimeEq::ct_eq(
                                &expected[..],
                                &cryptogram[..],
                            ))
                        })
                    })
                })?;
                self.note(index, result)
            }
            VerifyAction::Logout => {
                self.volatile.verified &= !bit(index);
                Ok(Response::status(StatusWord::Success))
            }
        }
    }

    /// CHANGE PIN `80 5E 01 00` (docs/CARD.md §4.1, §5.1): old PIN first (counted), then the
    /// new PIN's format; success resets the counter and leaves the PIN verified.
    pub(super) fn change_pin(
        &mut self,
        reference: u8,
        old: &[u8],
        new: &[u8],
    ) -> ApduResult<Response> {
        let index = self.pin_index(reference)?;
        let result = self.with_pin(index, |p, commit| p.change(old, new, commit))?;
        self.note(index, result)
    }

    /// CHANGE REFERENCE DATA `00 24 00 P2`: old ‖ new, each the PIN's fixed block length; a
    /// PIN without one (variable-length BCD) is changed with `80 5E` instead (6985 here).
    pub(super) fn change_reference_data(
        &mut self,
        reference: u8,
        data: &[u8],
    ) -> ApduResult<Response> {
        let index = self.pin_index(reference)?;
        let pin = self.pin_at(index)?;
        let len = pin
            .fixed_len()
            .ok_or(StatusWord::ConditionsOfUseNotSatisfied)?;
        if data.len() != 2 * len {
            return Err(StatusWord::WrongLength);
        }
        let (old, new) = data.split_at(len);
        let result = self.with_pin(index, |p, commit| p.change(old, new, commit))?;
        self.note(index, result)
    }

    /// RESET RETRY COUNTER `00 2C P1 P2` (docs/SECURITY.md §1 rule 7): the PUK is checked against
    /// its own counter; P1 00 = PUK ‖ new PIN, 01 = PUK, 02 = new PIN and 03 = no data after
    /// the PUK was verified. The reset PIN is not left verified.
    pub(super) fn reset_retry_counter(
        &mut self,
        reference: u8,
        mode: ResetMode,
        data: &[u8],
    ) -> ApduResult<Response> {
        let index = self.pin_index(reference)?;
        let Some(Unblock::Puk(puk_ref)) = self.persistent.pins.get(index).map(|p| p.unblock) else {
            return Err(StatusWord::ConditionsOfUseNotSatisfied);
        };
        let puk_index = self.pin_index(puk_ref)?;
        let puk_verified = self.volatile.verified & bit(puk_index) != 0;
        let new_pin = match mode {
            ResetMode::PukAndNewPin | ResetMode::PukOnly => {
                let puk_len = self
                    .pin_at(puk_index)?
                    .fixed_len()
                    .ok_or(StatusWord::ConditionsOfUseNotSatisfied)?;
                let (puk, rest) = data
                    .split_at_checked(puk_len)
                    .ok_or(StatusWord::WrongLength)?;
                if (mode == ResetMode::PukOnly) != rest.is_empty() {
                    return Err(StatusWord::WrongLength);
                }
                // The PUK block's shape first (nothing counted), then the counted comparison.
                let puk_value = self.pin_at(puk_index)?.decode(puk)?;
                let result =
                    self.with_pin(puk_index, |p, commit| p.attempt_value(&puk_value, commit))?;
                self.note(puk_index, result)?;
                (mode == ResetMode::PukAndNewPin).then_some(rest)
            }
            ResetMode::NewPinOnly | ResetMode::NoData => {
                if !puk_verified {
                    return Err(StatusWord::SecurityStatusNotSatisfied);
                }
                (mode == ResetMode::NewPinOnly).then_some(data)
            }
        };
        // A PUK checked by this command has its counter restored in memory only: it is
        // committed together with the PIN's reset, so no power cut leaves one without the
        // other.
        let puk_checked = matches!(mode, ResetMode::PukAndNewPin | ResetMode::PukOnly);
        let with_puk: &[usize] = if puk_checked { &[puk_index] } else { &[] };
        // The new PIN's format is checked after the PUK (rule 6's order).
        let decoded = match new_pin {
            Some(block) => Some(self.pin_at(index)?.decode(block)),
            None => None,
        };
        let value = match decoded {
            None => None,
            Some(Ok(v)) => Some(v),
            Some(Err(_)) => {
                self.commit_pins(WritePoint::PinRestore, with_puk)?;
                return Err(StatusWord::WrongData);
            }
        };
        let pin = self.pin_at(index)?;
        let mut in_memory = |_: WritePoint, _: &crate::model::pin::PinObject| Ok(());
        match value {
            Some(v) => pin.set_value(v, &mut in_memory)?,
            None => pin.unblock(&mut in_memory)?,
        }
        let mut both = vec![index];
        both.extend_from_slice(with_puk);
        self.commit_pins(WritePoint::PinValue, &both)?;
        self.volatile.verified &= !bit(index);
        Ok(Response::status(StatusWord::Success))
    }
}
