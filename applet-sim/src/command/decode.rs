//! One decoder per instruction: P1, P2, Lc and Le checked, each bad value turned into its
//! status word here, before any handler runs (docs/CARD.md §4.1, §4.2).

use apdu::{CommandApdu, StatusWord};

use super::types::{
    Command, FileRef, Occurrence, RecordMode, ResetMode, SecureMessaging, SelectBy, VerifyAction,
};
use crate::model::AppKind;

/// No Le allowed, or 6700.
fn require_no_le(apdu: &CommandApdu<'_>) -> Result<(), StatusWord> {
    if apdu.ne.is_some() {
        Err(StatusWord::WrongLength)
    } else {
        Ok(())
    }
}

/// No data allowed, or 6700.
fn require_no_data(apdu: &CommandApdu<'_>) -> Result<(), StatusWord> {
    if apdu.data.is_empty() {
        Ok(())
    } else {
        Err(StatusWord::WrongLength)
    }
}

/// Data and no Le (case 3), or 6700.
fn require_case_3<'a>(apdu: &CommandApdu<'a>) -> Result<&'a [u8], StatusWord> {
    require_no_le(apdu)?;
    if apdu.data.is_empty() {
        Err(StatusWord::WrongLength)
    } else {
        Ok(apdu.data)
    }
}

/// Le and no data (case 2), or 6700.
fn require_case_2(apdu: &CommandApdu<'_>) -> Result<u32, StatusWord> {
    require_no_data(apdu)?;
    apdu.ne.ok_or(StatusWord::WrongLength)
}

fn fid(data: &[u8]) -> Result<u16, StatusWord> {
    match data {
        [hi, lo] => Ok(u16::from_be_bytes([*hi, *lo])),
        _ => Err(StatusWord::WrongLength),
    }
}

pub(super) fn select<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    // P2 b4-b3: 00 return FCI, 0C no response data; b2-b1: occurrence (DF name only).
    let return_fci = match apdu.p2 & 0xFC {
        0x00 => true,
        0x0C => false,
        _ => return Err(StatusWord::IncorrectP1P2),
    };
    let occurrence = apdu.p2 & 0x03;
    if occurrence != 0 && apdu.p1 != 0x04 {
        return Err(StatusWord::IncorrectP1P2);
    }
    let target = match apdu.p1 {
        0x00 if apdu.data.is_empty() => SelectBy::Fid(None),
        0x00 => SelectBy::Fid(Some(fid(apdu.data)?)),
        0x01 => SelectBy::ChildDf(fid(apdu.data)?),
        0x02 => SelectBy::ChildEf(fid(apdu.data)?),
        0x03 => {
            require_no_data(apdu)?;
            SelectBy::Parent
        }
        0x04 => {
            if !(1..=16).contains(&apdu.data.len()) {
                return Err(StatusWord::WrongLength);
            }
            let next = match occurrence {
                0x00 => false,
                0x02 => true,
                _ => return Err(StatusWord::IncorrectP1P2),
            };
            SelectBy::DfName {
                name: apdu.data,
                next,
            }
        }
        _ => return Err(StatusWord::IncorrectP1P2),
    };
    Ok(Command::Select { target, return_fci })
}

/// P1 b8=1: SFI in b5-b1 and an 8-bit offset in P2; else a 15-bit offset (§4.1).
fn binary_address(p1: u8, p2: u8) -> Result<(FileRef, u16), StatusWord> {
    if p1 & 0x80 == 0 {
        return Ok((FileRef::Current, u16::from_be_bytes([p1, p2])));
    }
    match p1 & 0x7F {
        0 | 0x1F..=0x7F => Err(StatusWord::IncorrectP1P2),
        sfi => Ok((FileRef::Sfi(sfi), u16::from(p2))),
    }
}

pub(super) fn read_binary<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    let ne = require_case_2(apdu)?;
    let (file, offset) = binary_address(apdu.p1, apdu.p2)?;
    Ok(Command::ReadBinary { file, offset, ne })
}

pub(super) fn update_binary<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    let (data, sm) = secured_data(apdu)?;
    let (file, offset) = binary_address(apdu.p1, apdu.p2)?;
    Ok(Command::UpdateBinary {
        file,
        offset,
        data,
        sm,
    })
}

/// A write's data field: plain with CLA 00; with CLA 04 data ‖ MAC, where fewer than 4
/// bytes is a missing MAC (6987) and a MAC alone is no data (6700).
fn secured_data<'a>(
    apdu: &CommandApdu<'a>,
) -> Result<(&'a [u8], Option<SecureMessaging>), StatusWord> {
    if apdu.cla.0 & 0x0C == 0 {
        return Ok((require_case_3(apdu)?, None));
    }
    require_no_le(apdu)?;
    let (data, mac) = apdu
        .data
        .split_last_chunk::<4>()
        .ok_or(StatusWord::SmDataObjectsMissing)?;
    if data.is_empty() {
        return Err(StatusWord::WrongLength);
    }
    let sm = SecureMessaging {
        header: [apdu.cla.0, apdu.ins, apdu.p1, apdu.p2],
        mac: *mac,
    };
    Ok((data, Some(sm)))
}

/// A class-84 command whose data field is exactly a MAC, with P1 = P2 = 00.
pub(super) fn mac_only(apdu: &CommandApdu<'_>) -> Result<[u8; 4], StatusWord> {
    if (apdu.p1, apdu.p2) != (0, 0) {
        return Err(StatusWord::IncorrectP1P2);
    }
    mac_field(apdu)
}

/// The data field as a lone MAC: none is 6987, another length 6700.
fn mac_field(apdu: &CommandApdu<'_>) -> Result<[u8; 4], StatusWord> {
    require_no_le(apdu)?;
    match apdu.data {
        [] => Err(StatusWord::SmDataObjectsMissing),
        [a, b, c, d] => Ok([*a, *b, *c, *d]),
        _ => Err(StatusWord::WrongLength),
    }
}

/// `84 1E 00 P2`: the SSSE knows only the permanent block (P2 = 01, §4.1); PBOC also the
/// temporary one (P2 = 00, §5.4).
pub(super) fn application_block<'a>(
    apdu: &CommandApdu<'a>,
    kind: Option<AppKind>,
) -> Result<Command<'a>, StatusWord> {
    let permanent = match (apdu.p1, apdu.p2, kind) {
        (0x00, 0x01, _) => true,
        (0x00, 0x00, Some(AppKind::Pboc)) => false,
        _ => return Err(StatusWord::IncorrectP1P2),
    };
    Ok(Command::ApplicationBlock {
        permanent,
        mac: mac_field(apdu)?,
    })
}

/// P2 b8-b4: SFI (0 = current EF, 31 reserved).
fn record_file(p2: u8) -> Result<FileRef, StatusWord> {
    match p2 >> 3 {
        0 => Ok(FileRef::Current),
        31 => Err(StatusWord::IncorrectP1P2),
        sfi => Ok(FileRef::Sfi(sfi)),
    }
}

fn record_mode(p2: u8) -> Result<RecordMode, StatusWord> {
    Ok(match p2 & 0x07 {
        0b000 => RecordMode::Identifier(Occurrence::First),
        0b001 => RecordMode::Identifier(Occurrence::Last),
        0b010 => RecordMode::Identifier(Occurrence::Next),
        0b011 => RecordMode::Identifier(Occurrence::Previous),
        0b100 => RecordMode::Number,
        0b101 => RecordMode::FromNumberToLast,
        0b110 => RecordMode::FromLastToNumber,
        _ => return Err(StatusWord::IncorrectP1P2),
    })
}

pub(super) fn read_record<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    require_case_2(apdu)?;
    let file = record_file(apdu.p2)?;
    let mode = record_mode(apdu.p2)?;
    if apdu.p1 == 0xFF && !matches!(mode, RecordMode::Identifier(_)) {
        return Err(StatusWord::IncorrectP1P2);
    }
    Ok(Command::ReadRecord {
        file,
        p1: apdu.p1,
        mode,
    })
}

pub(super) fn update_record<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    let (data, sm) = secured_data(apdu)?;
    let file = record_file(apdu.p2)?;
    let mode = match record_mode(apdu.p2)? {
        RecordMode::FromNumberToLast | RecordMode::FromLastToNumber => {
            return Err(StatusWord::IncorrectP1P2);
        }
        RecordMode::Number if apdu.p1 == 0xFF => return Err(StatusWord::IncorrectP1P2),
        m => m,
    };
    Ok(Command::UpdateRecord {
        file,
        p1: apdu.p1,
        mode,
        data,
        sm,
    })
}

pub(super) fn append_record<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    let data = require_case_3(apdu)?;
    if apdu.p1 != 0 || apdu.p2 & 0x07 != 0 {
        return Err(StatusWord::IncorrectP1P2);
    }
    let file = record_file(apdu.p2)?;
    Ok(Command::AppendRecord { file, data })
}

pub(super) fn get_challenge<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    let ne = require_case_2(apdu)?;
    if (apdu.p1, apdu.p2) != (0, 0) {
        return Err(StatusWord::IncorrectP1P2);
    }
    match ne {
        4 | 8 | 16 => Ok(Command::GetChallenge {
            len: u8::try_from(ne).unwrap_or(8),
        }),
        _ => Err(StatusWord::WrongLength),
    }
}

/// `first(8) ‖ second(8) [‖ key version(1)]`: Lc 10 or 11 (§4.1), else 6700.
type AuthData = ([u8; 8], [u8; 8], Option<u8>);

fn auth_data(data: &[u8]) -> Result<AuthData, StatusWord> {
    let (first, rest) = data
        .split_first_chunk::<8>()
        .ok_or(StatusWord::WrongLength)?;
    let (second, rest) = rest
        .split_first_chunk::<8>()
        .ok_or(StatusWord::WrongLength)?;
    match rest {
        [] => Ok((*first, *second, None)),
        [version] => Ok((*first, *second, Some(*version))),
        _ => Err(StatusWord::WrongLength),
    }
}

pub(super) fn external_authenticate<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    require_no_le(apdu)?;
    if apdu.p1 != 0x00 {
        return Err(StatusWord::IncorrectP1P2);
    }
    let (auth, original, version) = auth_data(apdu.data)?;
    Ok(Command::ExternalAuthenticate {
        key_id: apdu.p2,
        auth,
        original,
        version,
    })
}

pub(super) fn internal_authenticate<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    if (apdu.p1, apdu.p2) != (0, 0) {
        return Err(StatusWord::IncorrectP1P2);
    }
    let (input, data, version) = auth_data(apdu.data)?;
    Ok(Command::InternalAuthenticate {
        input,
        data,
        version,
    })
}

pub(super) fn get_response<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    let ne = require_case_2(apdu)?;
    if (apdu.p1, apdu.p2) != (0, 0) {
        return Err(StatusWord::IncorrectP1P2);
    }
    Ok(Command::GetResponse { ne })
}

pub(super) fn verify<'a>(
    apdu: &CommandApdu<'a>,
    kind: Option<AppKind>,
) -> Result<Command<'a>, StatusWord> {
    // `00 20 00 P2 00`: the SSC spec's Lc = 00 query (Part 5 §6.14.5), on the wire the one
    // short length byte 00 after the header (what ISO 7816-3 reads as Le = 256).
    if apdu.p1 == 0x00
        && apdu.data.is_empty()
        && apdu.ne == Some(256)
        && apdu.encoding == apdu::LengthEncoding::Short
    {
        return Ok(Command::Verify {
            reference: apdu.p2,
            action: VerifyAction::TriesQuery,
        });
    }
    require_no_le(apdu)?;
    let action = match (apdu.p1, apdu.data) {
        (0x00, []) => VerifyAction::Query,
        (0x00, data) => VerifyAction::Check(data),
        (0x01, data) if kind == Some(AppKind::Pki) => {
            VerifyAction::Cryptogram(data.try_into().map_err(|_| StatusWord::WrongLength)?)
        }
        (0xFF, []) => VerifyAction::Logout,
        (0xFF, _) => return Err(StatusWord::WrongLength),
        _ => return Err(StatusWord::IncorrectP1P2),
    };
    Ok(Command::Verify {
        reference: apdu.p2,
        action,
    })
}

pub(super) fn change_pin<'a>(
    apdu: &CommandApdu<'a>,
    kind: Option<AppKind>,
) -> Result<Command<'a>, StatusWord> {
    // 80 5E 00 00 is PBOC's PIN RELOAD, which the SSSE answers 6D00 (§4.1).
    match (apdu.p1, kind) {
        (0x01, _) => {}
        (0x00, Some(AppKind::Pboc)) => return pin_reload(apdu),
        (0x00, _) => return Err(StatusWord::InsNotSupported),
        _ => return Err(StatusWord::IncorrectP1P2),
    }
    let data = require_case_3(apdu)?;
    // Lc 03..11: at least one byte each side of the FF separator (§4.1).
    if !(3..=0x11).contains(&data.len()) {
        return Err(StatusWord::WrongLength);
    }
    let split = data
        .iter()
        .position(|b| *b == 0xFF)
        .ok_or(StatusWord::WrongData)?;
    let old = data.get(..split).unwrap_or_default();
    let new = data.get(split + 1..).unwrap_or_default();
    if old.is_empty() || new.is_empty() {
        return Err(StatusWord::WrongData);
    }
    Ok(Command::ChangePin {
        reference: apdu.p2,
        old,
        new,
    })
}

/// PIN RELOAD `80 5E 00 00`: new PIN (2..8 bytes) ‖ MAC (§5.4).
fn pin_reload<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    if apdu.p2 != 0x00 {
        return Err(StatusWord::IncorrectP1P2);
    }
    require_no_le(apdu)?;
    let (pin, mac) = apdu
        .data
        .split_last_chunk::<4>()
        .ok_or(StatusWord::SmDataObjectsMissing)?;
    if pin.is_empty() {
        return Err(StatusWord::WrongLength);
    }
    Ok(Command::PinReload { pin, mac: *mac })
}

/// `84 24 00 P2`. SSSE (§4.1): P2 = 00 MAC only, 01 enciphered new PIN ‖ MAC. PBOC (§5.4):
/// P2 = 00 with the enciphered current PIN ‖ MAC.
pub(super) fn pin_unblock<'a>(
    apdu: &CommandApdu<'a>,
    kind: Option<AppKind>,
) -> Result<Command<'a>, StatusWord> {
    require_no_le(apdu)?;
    let pboc = kind == Some(AppKind::Pboc);
    let new_pin = match (apdu.p1, apdu.p2, pboc) {
        (0x00, 0x00, _) => false,
        (0x00, 0x01, false) => true,
        _ => return Err(StatusWord::IncorrectP1P2),
    };
    // The MAC closes the data field; without it the command is unprotected (6987).
    let (enciphered, mac) = apdu
        .data
        .split_last_chunk::<4>()
        .ok_or(StatusWord::SmDataObjectsMissing)?;
    if enciphered.is_empty() == (new_pin || pboc) {
        return Err(StatusWord::WrongLength);
    }
    let mac = *mac;
    Ok(if pboc {
        Command::PbocPinUnblock { enciphered, mac }
    } else {
        Command::PinUnblock {
            new_pin,
            enciphered,
            mac,
        }
    })
}

pub(super) fn change_reference_data<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    // P1 = 01 (new value only) is not offered: the old value is always checked.
    if apdu.p1 != 0x00 {
        return Err(StatusWord::IncorrectP1P2);
    }
    let data = require_case_3(apdu)?;
    Ok(Command::ChangeReferenceData {
        reference: apdu.p2,
        data,
    })
}

pub(super) fn reset_retry_counter<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    require_no_le(apdu)?;
    let mode = match apdu.p1 {
        0x00 => ResetMode::PukAndNewPin,
        0x01 => ResetMode::PukOnly,
        0x02 => ResetMode::NewPinOnly,
        0x03 => ResetMode::NoData,
        _ => return Err(StatusWord::IncorrectP1P2),
    };
    if (mode == ResetMode::NoData) != apdu.data.is_empty() {
        return Err(StatusWord::WrongLength);
    }
    Ok(Command::ResetRetryCounter {
        reference: apdu.p2,
        mode,
        data: apdu.data,
    })
}

/// GET PROCESSING OPTIONS `80 A8 00 00 Lc 83 L data [Le]` (§3.6.1; JR/T 0025 B.2): P1 P2
/// other than 00 00 → 6A86; no data field → 6700; a data field that is not one template
/// `83` → 6A80, one whose length byte disagrees with Lc → 6700 ([I]: short-form length
/// only, as no PDOL of this card asks for 128 bytes).
pub(super) fn get_processing_options<'a>(
    apdu: &CommandApdu<'a>,
) -> Result<Command<'a>, StatusWord> {
    if (apdu.p1, apdu.p2) != (0, 0) {
        return Err(StatusWord::IncorrectP1P2);
    }
    let Some((&tag, rest)) = apdu.data.split_first() else {
        return Err(StatusWord::WrongLength);
    };
    let Some((&len, pdol_data)) = rest.split_first() else {
        return Err(StatusWord::WrongLength);
    };
    if tag != 0x83 || len >= 0x80 {
        return Err(StatusWord::WrongData);
    }
    if usize::from(len) != pdol_data.len() {
        return Err(StatusWord::WrongLength);
    }
    Ok(Command::GetProcessingOptions { pdol_data })
}

/// GET DATA `80 CA P1 P2 Le` (§3.6.1; EMV Book 3 §6.5.7): case 2, the tag in P1 P2.
pub(super) fn get_data<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    require_case_2(apdu)?;
    Ok(Command::GetData {
        tag: u16::from_be_bytes([apdu.p1, apdu.p2]),
    })
}
