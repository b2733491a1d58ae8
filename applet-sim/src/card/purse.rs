//! The medical e-purse (docs/CARD.md §4.6): INIT LOAD / CREDIT LOAD, INIT PURCHASE /
//! DEBIT, GET BALANCE, GET TRANSACTION PROOF and the starting day, in the DF the profile
//! puts the purse in (DF04). The state machine is idle → after INIT LOAD → idle (CREDIT
//! LOAD) and idle → after INIT PURCHASE → idle (DEBIT); any other command ends a transaction,
//! and a completing command without its INIT answers 6901. Balance, counters and the last
//! proofs are persistent and written as one record (with the EF08 record of a purchase, as
//! one batch): a power cut keeps the whole transaction or none of it.

use apdu::{ApduResult, Response, StatusWord};

use super::Card;
use super::durable::Datum;
use super::purse_data::{Purse, Session};
use crate::command::{Balance, Command, PurseCommand};
use crate::fs::EfContent;
use crate::model::{CipherSuite, WritePoint};
use crate::purse::{
    self as math, Load, Proof, Purchase, PurseState, SecretBytes, TYPE_LOAD, TYPE_PURCHASE,
};

/// Whether `command` may complete the open transaction (so does not end it first): CREDIT
/// LOAD, DEBIT, and the GET RESPONSE that fetches INIT's answer under T=0.
pub(super) fn continues_session(command: &Result<Command<'_>, StatusWord>) -> bool {
    matches!(
        command,
        Ok(Command::GetResponse { .. }
            | Command::Purse(PurseCommand::CreditLoad { .. } | PurseCommand::Debit { .. }))
    )
}

/// The algorithm identifier INIT answers: the FCI's algorithm flag (§6.1).
fn algorithm_id(suite: CipherSuite) -> u8 {
    match suite {
        CipherSuite::Des3 => 0x01,
        CipherSuite::Sm4 => 0x03,
        CipherSuite::Aes => 0x04,
    }
}

/// A MAC the card computes: 6F00 when a key does not fit the suite (a profile checked at
/// load time never has one).
fn computed(mac: Result<[u8; 4], crate::crypto::KeyLengthError>) -> ApduResult<[u8; 4]> {
    mac.map_err(|_| StatusWord::NoPreciseDiagnosis)
}

impl Card {
    /// The purse of the current DF (6D00 anywhere else: the instruction is not there).
    fn purse_here(&self) -> ApduResult<&Purse> {
        self.persistent
            .purse
            .as_ref()
            .filter(|p| p.owner == self.volatile.current_df)
            .ok_or(StatusWord::InsNotSupported)
    }

    fn purse_state_mut(&mut self) -> ApduResult<&mut PurseState> {
        self.persistent
            .purse
            .as_mut()
            .map(|p| &mut p.state)
            .ok_or(StatusWord::InsNotSupported)
    }

    /// The cardholder's PIN verified in this application (6982 otherwise): loads, purchases
    /// and balances are read after VERIFY (§4.6).
    fn require_pin(&self) -> ApduResult<()> {
        if self.granted_at(self.volatile.current_df).pin {
            Ok(())
        } else {
            Err(StatusWord::SecurityStatusNotSatisfied)
        }
    }

    /// A fresh R_ICC (6F00 when the random source fails).
    fn purse_random(&mut self) -> ApduResult<[u8; 4]> {
        let mut r = [0u8; 4];
        self.rng
            .fill(&mut r)
            .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        Ok(r)
    }

    /// One e-purse command (§4.6).
    pub(super) fn purse(&mut self, command: PurseCommand) -> ApduResult<Response> {
        self.purse_here()?;
        match command {
            PurseCommand::InitLoad {
                key_index,
                amount,
                terminal,
            } => self.init_load(key_index, amount, terminal),
            PurseCommand::CreditLoad { time, mac2 } => self.credit_load(time, mac2),
            PurseCommand::InitPurchase {
                key_index,
                amounts,
                terminal,
            } => self.init_purchase(key_index, amounts, terminal),
            PurseCommand::Debit {
                terminal_seq,
                time,
                mac1,
            } => self.debit(terminal_seq, time, mac1),
            PurseCommand::GetBalance { which } => self.get_balance(which),
            PurseCommand::GetProof { kind, seq } => self.get_proof(kind, seq),
            PurseCommand::SetStartDay { day, mac } => self.set_start_day(day, mac),
            PurseCommand::GetStartDay => {
                let day = self.purse_here()?.state.start_day;
                Ok(Response::new(day.to_vec(), StatusWord::Success))
            }
        }
    }

    /// INIT LOAD `B0 28 00 01` (§4.6): after VERIFY; 9403 for another DLK index, 9402 with
    /// the online counter at FFFF, 6985 when the load would pass the maximum balance.
    /// Answers balance ‖ online counter ‖ key version ‖ algorithm ‖ R_ICC ‖ MAC1.
    fn init_load(&mut self, key_index: u8, amount: u32, terminal: [u8; 6]) -> ApduResult<Response> {
        self.require_pin()?;
        let purse = self.purse_here()?;
        let dlk = &purse.keys.dlk;
        if key_index != dlk.index {
            return Err(StatusWord::KeyIndexNotSupported);
        }
        let state = &purse.state;
        if state.load_seq == u16::MAX {
            return Err(StatusWord::CounterAtMax);
        }
        if state
            .balance
            .checked_add(amount)
            .is_none_or(|b| b > purse.max_balance)
        {
            return Err(StatusWord::ConditionsOfUseNotSatisfied);
        }
        let load = Load {
            amount,
            terminal,
            balance: state.balance,
            seq: state.load_seq,
        };
        let (version, dlk) = (dlk.version, dlk.value.clone());
        let random = self.purse_random()?;
        let suite = self.cipher;
        let key = math::load_session_key(suite, &dlk, random, load.seq)
            .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        let mac1 = computed(load.mac1(suite, &key))?;
        let mut out = Vec::with_capacity(16);
        out.extend_from_slice(&load.balance.to_be_bytes());
        out.extend_from_slice(&load.seq.to_be_bytes());
        out.extend_from_slice(&[version, algorithm_id(suite)]);
        out.extend_from_slice(&random);
        out.extend_from_slice(&mac1);
        self.volatile.purse_session = Some(Session::Load {
            load,
            key: SecretBytes(key),
        });
        Ok(Response::new(out, StatusWord::Success))
    }

    /// CREDIT LOAD `B0 2A 00 00` (§4.6): only right after INIT LOAD (6901); a wrong MAC2
    /// answers 9302 and ends the transaction with nothing changed. Adds the amount, counts
    /// the online counter up, keeps the proof and answers the TAC.
    fn credit_load(&mut self, time: [u8; 7], mac2: [u8; 4]) -> ApduResult<Response> {
        let Some(Session::Load { load, key }) = self.volatile.purse_session.take() else {
            return Err(StatusWord::CommandNotAccepted);
        };
        let suite = self.cipher;
        if computed(load.mac2(suite, &key.0, time))? != mac2 {
            return Err(StatusWord::MacInvalid);
        }
        let dtk = self.purse_here()?.keys.dtk.0.clone();
        let tac = computed(load.tac(suite, &dtk, time))?;
        let state = self.purse_state_mut()?;
        // INIT checked both; nothing ran in between.
        state.balance = load
            .balance
            .checked_add(load.amount)
            .ok_or(StatusWord::ConditionsOfUseNotSatisfied)?;
        state.load_seq = load.seq.checked_add(1).ok_or(StatusWord::CounterAtMax)?;
        state.last_load = Some(Proof {
            seq: load.seq,
            mac: mac2,
            tac,
        });
        self.commit(WritePoint::Purse, Datum::Purse)?;
        Ok(Response::new(tac.to_vec(), StatusWord::Success))
    }

    /// INIT PURCHASE `B0 28 01 01` (§4.6): after VERIFY; 9403 for another DPK index, 9402
    /// with the offline counter at FFFF, 9401 when the CIA amount is above the balance, 6985
    /// when a year total would overflow. Answers balance ‖ offline counter ‖ SPIP ‖ SPFP ‖
    /// year ‖ key version ‖ algorithm ‖ R_ICC (0x16 bytes).
    fn init_purchase(
        &mut self,
        key_index: u8,
        amounts: [u32; 3],
        terminal: [u8; 6],
    ) -> ApduResult<Response> {
        self.require_pin()?;
        let purse = self.purse_here()?;
        let dpk = &purse.keys.dpk;
        if key_index != dpk.index {
            return Err(StatusWord::KeyIndexNotSupported);
        }
        let state = &purse.state;
        if state.purchase_seq == u16::MAX {
            return Err(StatusWord::CounterAtMax);
        }
        let [amount, self_paid, fund_paid] = amounts;
        if amount > state.balance {
            return Err(StatusWord::InsufficientFunds);
        }
        if state.spip.checked_add(self_paid).is_none()
            || state.spfp.checked_add(fund_paid).is_none()
        {
            return Err(StatusWord::ConditionsOfUseNotSatisfied);
        }
        let mut out = Vec::with_capacity(0x16);
        out.extend_from_slice(&state.balance.to_be_bytes());
        out.extend_from_slice(&state.purchase_seq.to_be_bytes());
        out.extend_from_slice(&state.spip.to_be_bytes());
        out.extend_from_slice(&state.spfp.to_be_bytes());
        out.extend_from_slice(&state.year);
        out.extend_from_slice(&[dpk.version, algorithm_id(self.cipher)]);
        let seq = state.purchase_seq;
        let random = self.purse_random()?;
        out.extend_from_slice(&random);
        self.volatile.purse_session = Some(Session::Purchase {
            purchase: Purchase {
                amount,
                self_paid,
                fund_paid,
                terminal,
            },
            random,
            seq,
        });
        Ok(Response::new(out, StatusWord::Success))
    }

    /// DEBIT `B0 2C 01 00` (§4.6): only right after INIT PURCHASE (6901); a wrong MAC1
    /// answers 9302 and ends the transaction with nothing changed. Debits the CIA amount,
    /// adds SPIP and SPFP to the year's totals (a new payment year, by the starting day,
    /// starts them from zero), counts the offline counter up, appends the EF08 record and
    /// answers TAC ‖ MAC2.
    fn debit(
        &mut self,
        terminal_seq: [u8; 4],
        time: [u8; 7],
        mac1: [u8; 4],
    ) -> ApduResult<Response> {
        let Some(Session::Purchase {
            purchase,
            random,
            seq,
        }) = self.volatile.purse_session.take()
        else {
            return Err(StatusWord::CommandNotAccepted);
        };
        let suite = self.cipher;
        let purse = self.purse_here()?;
        let key =
            math::purchase_session_key(suite, &purse.keys.dpk.value, random, seq, terminal_seq)
                .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        if computed(purchase.mac1(suite, &key, time))? != mac1 {
            return Err(StatusWord::MacInvalid);
        }
        let tac = computed(purchase.tac(suite, &purse.keys.dtk.0, terminal_seq, time))?;
        let mac2 = computed(purchase.mac2(suite, &key))?;
        let mut next = purse.state.clone();
        next.balance = next
            .balance
            .checked_sub(purchase.amount)
            .ok_or(StatusWord::InsufficientFunds)?;
        if let Some(year) = math::payment_year(time, next.start_day)
            && math::bcd_value(&year) > math::bcd_value(&next.year)
        {
            next.year = year;
            next.spip = 0;
            next.spfp = 0;
        }
        next.spip = next
            .spip
            .checked_add(purchase.self_paid)
            .ok_or(StatusWord::ConditionsOfUseNotSatisfied)?;
        next.spfp = next
            .spfp
            .checked_add(purchase.fund_paid)
            .ok_or(StatusWord::ConditionsOfUseNotSatisfied)?;
        next.purchase_seq = seq.checked_add(1).ok_or(StatusWord::CounterAtMax)?;
        next.last_purchase = Some(Proof {
            seq,
            mac: mac2,
            tac,
        });
        let log = purse.log;
        // Every check passed: now the state changes, in memory and then durably, together.
        if let Some(id) = log
            && let Some(ef) = self.persistent.fs.ef_mut(id)
            && let EfContent::Records(records) = &mut ef.content
        {
            records.insert(0, purchase.record(seq, time));
            records.truncate(ef.control.capacity);
        }
        *self.purse_state_mut()? = next;
        let mut data = vec![Datum::Purse];
        data.extend(log.map(Datum::Ef));
        self.commit_all(WritePoint::Purse, &data)?;
        let mut out = tac.to_vec();
        out.extend_from_slice(&mac2);
        Ok(Response::new(out, StatusWord::Success))
    }

    /// GET BALANCE `B0 26 00 P2` (§4.6): after VERIFY; CIA (4 bytes), or SPIP / SPFP ‖
    /// payment year (6 bytes).
    fn get_balance(&self, which: Balance) -> ApduResult<Response> {
        self.require_pin()?;
        let state = &self.purse_here()?.state;
        let mut out = Vec::with_capacity(6);
        match which {
            Balance::Account => out.extend_from_slice(&state.balance.to_be_bytes()),
            Balance::SelfPaid | Balance::FundPaid => {
                let total = if which == Balance::SelfPaid {
                    state.spip
                } else {
                    state.spfp
                };
                out.extend_from_slice(&total.to_be_bytes());
                out.extend_from_slice(&state.year);
            }
        }
        Ok(Response::new(out, StatusWord::Success))
    }

    /// GET TRANSACTION PROOF `B0 2E 00 type 02 seq` (§4.6): MAC2 ‖ TAC of the last
    /// transaction of that type when it used counter `seq`, else 9406.
    fn get_proof(&self, kind: u8, seq: u16) -> ApduResult<Response> {
        let state = &self.purse_here()?.state;
        let proof = match kind {
            TYPE_LOAD => state.last_load,
            TYPE_PURCHASE => state.last_purchase,
            _ => None,
        };
        match proof {
            Some(p) if p.seq == seq => {
                let mut out = p.mac.to_vec();
                out.extend_from_slice(&p.tac);
                Ok(Response::new(out, StatusWord::Success))
            }
            _ => Err(StatusWord::MacNotAvailable),
        }
    }

    /// UPDATE STARTING DAY `B0 56 00 00` (§4.6) [I]: MMDD ‖ MAC over MMDD under the DSK
    /// session key of the current challenge (6984 without one; the challenge is used up);
    /// 9302 for a wrong MAC, 6A80 for a day that is not MMDD.
    fn set_start_day(&mut self, day: [u8; 2], mac: [u8; 4]) -> ApduResult<Response> {
        let challenge = self.take_challenge()?;
        let suite = self.cipher;
        let dsk = &self.purse_here()?.keys.dsk.0;
        let key = crate::crypto::session_key(suite, dsk, &challenge)
            .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        if computed(math::mac(suite, &key, &[&day]))? != mac {
            return Err(StatusWord::MacInvalid);
        }
        if !math::valid_day(day) {
            return Err(StatusWord::WrongData);
        }
        self.purse_state_mut()?.start_day = day;
        self.commit(WritePoint::Purse, Datum::Purse)?;
        Ok(Response::status(StatusWord::Success))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;

    #[test]
    fn the_algorithm_byte_is_the_fci_flag() {
        assert_eq!(algorithm_id(CipherSuite::Des3), 0x01);
        assert_eq!(algorithm_id(CipherSuite::Sm4), 0x03);
        assert_eq!(algorithm_id(CipherSuite::Aes), 0x04);
    }

    #[test]
    fn only_credit_debit_and_get_response_continue_a_transaction() {
        let time = [0; 7];
        let keep = [
            Ok(Command::GetResponse { ne: 16 }),
            Ok(Command::Purse(PurseCommand::CreditLoad {
                time,
                mac2: [0; 4],
            })),
            Ok(Command::Purse(PurseCommand::Debit {
                terminal_seq: [0; 4],
                time,
                mac1: [0; 4],
            })),
        ];
        for c in &keep {
            assert!(continues_session(c), "{c:?}");
        }
        let end = [
            Ok(Command::Purse(PurseCommand::GetStartDay)),
            Ok(Command::GetChallenge { len: 8 }),
            Err(StatusWord::WrongLength),
        ];
        for c in &end {
            assert!(!continues_session(c), "{c:?}");
        }
    }

    #[test]
    fn the_log_is_the_dfs_cyclic_ef08_of_0x1c_records_only() {
        let p = Profile::builtin("gen3").unwrap();
        let card = Card::new(&p);
        let purse = card.persistent.purse.as_ref().unwrap();
        assert!(purse.log.is_some());
        // Without EF08 the purse keeps no log.
        let text = crate::profile::builtin_text("gen3").unwrap().replacen(
            "fid = \"EF08\"          # medical",
            "fid = \"EF09\"          # medical",
            1,
        );
        let card = Card::new(&Profile::parse(&text, "t").unwrap());
        assert_eq!(card.persistent.purse.as_ref().unwrap().log, None);
    }
}
