//! The terminal side of the medical e-purse (docs/CARD.md §4.6, docs/PSAM.md §9): a load
//! (INIT LOAD, MAC1 checked, CREDIT LOAD with MAC2, TAC checked) and a purchase (INIT
//! PURCHASE, DEBIT with MAC1, MAC2 and TAC checked), with the purse keys of the declared
//! card's profile (software keys: the PSAM key table has none for the purse).

use apdu::{Response, StatusWord};
use applet_sim::model::CipherSuite;
use applet_sim::purse::{self, Load, Purchase, PurseDef};

use super::{PsamError, Step, Transcript, send};
use crate::transport::Transport;

/// The terminal id the steps use (cn6).
pub const TERMINAL: [u8; 6] = [0x32, 0x01, 0x00, 0x00, 0x00, 0x09];
/// The date-time the steps use (YYYYMMDDhhmmss).
pub const TIME: [u8; 7] = [0x20, 0x25, 0x03, 0x01, 0x12, 0x00, 0x00];

/// The purse keys and cipher of the card behind `t`.
fn purse_of(t: &dyn Transport) -> Result<(PurseDef, CipherSuite), PsamError> {
    let p = t.profile().ok_or(PsamError::NoPurseKeys)?;
    let def = p.purse.clone().ok_or(PsamError::NoPurseKeys)?;
    Ok((def, p.cipher))
}

/// Sends `cmd`; the answer's data when it is 9000, else a stop with the transcript.
fn step(
    t: &mut dyn Transport,
    log: &mut Transcript,
    cmd: Vec<u8>,
) -> Result<Step<Vec<u8>>, PsamError> {
    let r = send(t, log, cmd)?;
    Ok(match Response::split(&r) {
        Some((data, StatusWord::Success)) => Step::Go(data.to_vec()),
        _ => Step::Stop(log.clone()),
    })
}

fn field<const N: usize>(data: &[u8], at: usize) -> [u8; N] {
    data.get(at..at + N)
        .and_then(|b| <[u8; N]>::try_from(b).ok())
        .unwrap_or([0; N])
}

/// A load of `amount` fen (key index 01): the CREDIT LOAD answer is the step's; a MAC1 or
/// TAC that does not verify is reported as a problem. `tamper` flips a bit of MAC2.
///
/// # Errors
/// [`PsamError`] without the purse keys, or a transport failure.
pub fn load(t: &mut dyn Transport, amount: u32, tamper: bool) -> Result<Transcript, PsamError> {
    let (def, suite) = purse_of(t)?;
    let mut log = Transcript::default();
    let mut cmd = vec![0xB0, 0x28, 0x00, 0x01, 0x0B, def.keys.dlk.index];
    cmd.extend_from_slice(&amount.to_be_bytes());
    cmd.extend_from_slice(&TERMINAL);
    cmd.push(0x10);
    let init = match step(t, &mut log, cmd)? {
        Step::Go(d) if d.len() == 16 => d,
        Step::Go(_) => {
            log.problem = Some("INIT LOAD answered other than 16 bytes".into());
            return Ok(log);
        }
        Step::Stop(log) => return Ok(log),
    };
    let load = Load {
        amount,
        terminal: TERMINAL,
        balance: u32::from_be_bytes(field(&init, 0)),
        seq: u16::from_be_bytes(field(&init, 4)),
    };
    let key = purse::load_session_key(suite, &def.keys.dlk.value, field(&init, 8), load.seq)?;
    if load.mac1(suite, &key)? != field::<4>(&init, 12) {
        log.problem = Some("the card's MAC1 does not verify under DLK".into());
        return Ok(log);
    }
    let mut mac2 = load.mac2(suite, &key, TIME)?;
    if tamper {
        mac2[0] ^= 0x01;
    }
    let mut cmd = vec![0xB0, 0x2A, 0x00, 0x00, 0x0B];
    cmd.extend_from_slice(&TIME);
    cmd.extend_from_slice(&mac2);
    cmd.push(0x04);
    if let Step::Go(tac) = step(t, &mut log, cmd)?
        && tac != load.tac(suite, &def.keys.dtk.0, TIME)?
    {
        log.problem = Some("the card's TAC does not verify under DTK".into());
    }
    Ok(log)
}

/// A purchase of `amounts` (CIA, SPIP, SPFP; key index 01, terminal transaction number
/// 00000001): the DEBIT answer is the step's; a MAC2 or TAC that does not verify is
/// reported as a problem. `tamper` flips a bit of MAC1.
///
/// # Errors
/// [`PsamError`] without the purse keys, or a transport failure.
pub fn purchase(
    t: &mut dyn Transport,
    amounts: [u32; 3],
    tamper: bool,
) -> Result<Transcript, PsamError> {
    let (def, suite) = purse_of(t)?;
    let [amount, self_paid, fund_paid] = amounts;
    let p = Purchase {
        amount,
        self_paid,
        fund_paid,
        terminal: TERMINAL,
    };
    let mut log = Transcript::default();
    let mut cmd = vec![0xB0, 0x28, 0x01, 0x01, 0x13, def.keys.dpk.index];
    for a in amounts {
        cmd.extend_from_slice(&a.to_be_bytes());
    }
    cmd.extend_from_slice(&TERMINAL);
    cmd.push(0x16);
    let init = match step(t, &mut log, cmd)? {
        Step::Go(d) if d.len() == 0x16 => d,
        Step::Go(_) => {
            log.problem = Some("INIT PURCHASE answered other than 0x16 bytes".into());
            return Ok(log);
        }
        Step::Stop(log) => return Ok(log),
    };
    let seq = u16::from_be_bytes(field(&init, 4));
    let terminal_seq = [0, 0, 0, 1];
    let key = purse::purchase_session_key(
        suite,
        &def.keys.dpk.value,
        field(&init, 18),
        seq,
        terminal_seq,
    )?;
    let mut mac1 = p.mac1(suite, &key, TIME)?;
    if tamper {
        mac1[0] ^= 0x01;
    }
    let mut cmd = vec![0xB0, 0x2C, 0x01, 0x00, 0x0F];
    cmd.extend_from_slice(&terminal_seq);
    cmd.extend_from_slice(&TIME);
    cmd.extend_from_slice(&mac1);
    cmd.push(0x08);
    if let Step::Go(answer) = step(t, &mut log, cmd)? {
        if answer.get(..4) != Some(&p.tac(suite, &def.keys.dtk.0, terminal_seq, TIME)?[..]) {
            log.problem = Some("the card's TAC does not verify under DTK".into());
        } else if answer.get(4..) != Some(&p.mac2(suite, &key)?[..]) {
            log.problem = Some("the card's MAC2 does not verify under DPK".into());
        }
    }
    Ok(log)
}

/// UPDATE STARTING DAY `B0 56 00 00` (MMDD ‖ MAC under the DSK session key of a fresh
/// challenge). `tamper` flips a bit of the MAC.
///
/// # Errors
/// [`PsamError`] without the purse keys, or a transport failure.
pub fn start_day(
    t: &mut dyn Transport,
    day: [u8; 2],
    tamper: bool,
) -> Result<Transcript, PsamError> {
    let (def, suite) = purse_of(t)?;
    let mut log = Transcript::default();
    let r = match step(t, &mut log, vec![0x00, 0x84, 0x00, 0x00, 0x08])? {
        Step::Go(r) => r,
        Step::Stop(log) => return Ok(log),
    };
    let key = applet_sim::crypto::session_key(suite, &def.keys.dsk.0, &r)?;
    let mut mac = purse::mac(suite, &key, &[&day])?;
    if tamper {
        mac[0] ^= 0x01;
    }
    let mut cmd = vec![0xB0, 0x56, 0x00, 0x00, 0x06];
    cmd.extend_from_slice(&day);
    cmd.extend_from_slice(&mac);
    send(t, &mut log, cmd)?;
    Ok(log)
}
