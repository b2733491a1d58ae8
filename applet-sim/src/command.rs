//! Typed commands: the second decoding step, from an [`apdu::CommandApdu`] to what the card
//! is asked to do (SSC-CARD.md §4.1). Every bad CLA, INS, P1, P2, Lc or Le is turned into its
//! status word here, before any handler runs, so a rejected command touches no state.
//!
//! Which application answers which instruction is decided once, in [`allowed_in`].

use apdu::{CommandApdu, StatusWord};

use crate::profile::AppKind;

/// Instruction bytes (ISO 7816-4 §5.1.2 Table 4, SSC Part 5).
pub mod ins {
    /// VERIFY.
    pub const VERIFY: u8 = 0x20;
    /// CHANGE REFERENCE DATA.
    pub const CHANGE_REFERENCE_DATA: u8 = 0x24;
    /// RESET RETRY COUNTER.
    pub const RESET_RETRY_COUNTER: u8 = 0x2C;
    /// CHANGE PIN (SSC, class 80).
    pub const CHANGE_PIN: u8 = 0x5E;
    /// PIN CHANGE/UNBLOCK by the issuer (SSC, class 84).
    pub const PIN_UNBLOCK: u8 = 0x24;
    /// CARD BLOCK (class 84).
    pub const CARD_BLOCK: u8 = 0x16;
    /// APPLICATION UNBLOCK (PBOC, class 84).
    pub const APPLICATION_UNBLOCK: u8 = 0x18;
    /// APPLICATION BLOCK (class 84).
    pub const APPLICATION_BLOCK: u8 = 0x1E;
    /// EXTERNAL AUTHENTICATE.
    pub const EXTERNAL_AUTHENTICATE: u8 = 0x82;
    /// GET CHALLENGE.
    pub const GET_CHALLENGE: u8 = 0x84;
    /// INTERNAL AUTHENTICATE.
    pub const INTERNAL_AUTHENTICATE: u8 = 0x88;
    /// SELECT.
    pub const SELECT: u8 = 0xA4;
    /// READ BINARY.
    pub const READ_BINARY: u8 = 0xB0;
    /// READ RECORD(S).
    pub const READ_RECORD: u8 = 0xB2;
    /// GET RESPONSE.
    pub const GET_RESPONSE: u8 = 0xC0;
    /// UPDATE BINARY.
    pub const UPDATE_BINARY: u8 = 0xD6;
    /// UPDATE RECORD.
    pub const UPDATE_RECORD: u8 = 0xDC;
    /// APPEND RECORD.
    pub const APPEND_RECORD: u8 = 0xE2;
}

/// Class bytes the card knows: interindustry `00`, with SM `04`, proprietary `80`, with SM
/// `84` (SSC-CARD.md §4.1).
const KNOWN_CLA: [u8; 4] = [0x00, 0x04, 0x80, 0x84];

/// Every (CLA, INS) pair the card implements, for telling 6E00 from 6D00.
pub const IMPLEMENTED: [(u8, u8); 20] = [
    (0x00, ins::SELECT),
    (0x00, ins::READ_BINARY),
    (0x00, ins::READ_RECORD),
    (0x00, ins::UPDATE_BINARY),
    (0x00, ins::UPDATE_RECORD),
    (0x00, ins::APPEND_RECORD),
    (0x00, ins::GET_CHALLENGE),
    (0x00, ins::EXTERNAL_AUTHENTICATE),
    (0x00, ins::INTERNAL_AUTHENTICATE),
    (0x00, ins::GET_RESPONSE),
    (0x00, ins::VERIFY),
    (0x00, ins::CHANGE_REFERENCE_DATA),
    (0x00, ins::RESET_RETRY_COUNTER),
    (0x80, ins::CHANGE_PIN),
    (0x84, ins::PIN_UNBLOCK),
    (0x84, ins::APPLICATION_BLOCK),
    (0x84, ins::APPLICATION_UNBLOCK),
    (0x84, ins::CARD_BLOCK),
    (0x04, ins::UPDATE_BINARY),
    (0x04, ins::UPDATE_RECORD),
];

/// What a command asks of the card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// SELECT `00 A4` (§4.1; ISO 7816-4 §11.1.1).
    Select {
        /// What is selected.
        target: SelectBy<'a>,
        /// Whether the FCI is returned (P2 b4-b3 = 00) or not (`0C`).
        return_fci: bool,
    },
    /// READ BINARY `00 B0` (§4.1).
    ReadBinary {
        /// The EF: current or by SFI.
        file: FileRef,
        /// Offset of the first byte.
        offset: u16,
        /// Bytes asked for (Ne).
        ne: u32,
    },
    /// UPDATE BINARY `00/04 D6` (§4.1).
    UpdateBinary {
        /// The EF: current or by SFI.
        file: FileRef,
        /// Offset of the first byte.
        offset: u16,
        /// The bytes to write.
        data: &'a [u8],
        /// With CLA 04: the MAC that closes the data field.
        sm: Option<SecureMessaging>,
    },
    /// READ RECORD `00 B2` (§4.1; ISO 7816-4 §11.3.3).
    ReadRecord {
        /// The EF: current or by SFI.
        file: FileRef,
        /// P1: record number or record identifier.
        p1: u8,
        /// Which records (P2 b3-b1).
        mode: RecordMode,
    },
    /// UPDATE RECORD `00 DC` (§4.1): by number, or by identifier (appending when missing).
    UpdateRecord {
        /// The EF: current or by SFI.
        file: FileRef,
        /// P1: record number or record identifier.
        p1: u8,
        /// By number or by identifier.
        mode: RecordMode,
        /// The whole new record.
        data: &'a [u8],
        /// With CLA 04: the MAC that closes the data field.
        sm: Option<SecureMessaging>,
    },
    /// APPEND RECORD `00 E2 00 P2` (ISO 7816-4 §11.3.6).
    AppendRecord {
        /// The EF: current or by SFI.
        file: FileRef,
        /// The new record.
        data: &'a [u8],
    },
    /// GET CHALLENGE `00 84 00 00 Le` (§4.1; Le 4, 8 or 16).
    GetChallenge {
        /// Challenge length.
        len: u8,
    },
    /// EXTERNAL AUTHENTICATE `00 82 00 keyid` (§4.1, §6.5): auth data ‖ original data
    /// [‖ key version].
    ExternalAuthenticate {
        /// The card key id (P2).
        key_id: u8,
        /// The terminal's cryptogram.
        auth: [u8; 8],
        /// The data it was computed over.
        original: [u8; 8],
        /// The key version, when given.
        version: Option<u8>,
    },
    /// INTERNAL AUTHENTICATE `00 88 00 00` (§4.1, §6.5): session-key input ‖ data
    /// [‖ key version]; answered with the IRK's cryptogram.
    InternalAuthenticate {
        /// The terminal's random for the session key.
        input: [u8; 8],
        /// The data to authenticate.
        data: [u8; 8],
        /// The key version, when given.
        version: Option<u8>,
    },
    /// VERIFY `00 20 P1 P2` (§4.1, §5.1).
    Verify {
        /// The PIN reference (P2).
        reference: u8,
        /// Check, query or logout.
        action: VerifyAction<'a>,
    },
    /// CHANGE PIN `80 5E 01 P2` (§4.1): current PIN ‖ `FF` ‖ new PIN.
    ChangePin {
        /// The PIN reference (P2).
        reference: u8,
        /// The current PIN.
        old: &'a [u8],
        /// The new PIN.
        new: &'a [u8],
    },
    /// CHANGE REFERENCE DATA `00 24 00 P2` (ISO 7816-4 §11.5.7): old ‖ new.
    ChangeReferenceData {
        /// The PIN reference (P2).
        reference: u8,
        /// Old value ‖ new value.
        data: &'a [u8],
    },
    /// RESET RETRY COUNTER `00 2C P1 P2` (ISO 7816-4 §11.5.10; SECURITY.md §1 rule 7).
    ResetRetryCounter {
        /// The PIN reference (P2).
        reference: u8,
        /// What the data field holds (P1).
        mode: ResetMode,
        /// The data field.
        data: &'a [u8],
    },
    /// PIN CHANGE/UNBLOCK `84 24 00 P2` (§4.1, §5.2): at the service centre, after external
    /// authentication with the PUK key; P2 = 01 sets a new PIN, 00 only resets the counter.
    PinUnblock {
        /// P2 = 01: the data carries a new PIN enciphered as LD ‖ PIN ‖ 80...
        new_pin: bool,
        /// The enciphered PIN block (empty for P2 = 00).
        enciphered: &'a [u8],
        /// The MAC (the last 4 bytes).
        mac: [u8; 4],
    },
    /// APPLICATION BLOCK `84 1E 00 P2` (§4.1, §5.4): P2 = 01 permanent, 00 temporary (PBOC
    /// only); the data field is the MAC.
    ApplicationBlock {
        /// P2 = 01.
        permanent: bool,
        /// The MAC.
        mac: [u8; 4],
    },
    /// APPLICATION UNBLOCK `84 18 00 00` (PBOC, §5.4): the data field is the MAC.
    ApplicationUnblock {
        /// The MAC.
        mac: [u8; 4],
    },
    /// CARD BLOCK `84 16 00 00` (§4.1, §5.4): the data field is the MAC.
    CardBlock {
        /// The MAC.
        mac: [u8; 4],
    },
    /// PIN RELOAD `80 5E 00 00` (PBOC, §5.4): new PIN ‖ MAC.
    PinReload {
        /// The new PIN in the PIN's encoding.
        pin: &'a [u8],
        /// The MAC over the new PIN.
        mac: [u8; 4],
    },
    /// GET RESPONSE `00 C0 00 00 Le` (§4.1).
    GetResponse {
        /// Bytes asked for.
        ne: u32,
    },
}

/// Secure messaging of a CLA 04 write (§6.3): the MAC is computed over the header with the
/// SM bit ‖ Lc counting the MAC ‖ the plain data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecureMessaging {
    /// CLA INS P1 P2 as sent.
    pub header: [u8; 4],
    /// The MAC (the last 4 bytes of the data field).
    pub mac: [u8; 4],
}

/// SELECT's target by P1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectBy<'a> {
    /// P1=00: the MF (no data or 3F00), or a DF or EF by FID (real readers select EFs so).
    Fid(Option<u16>),
    /// P1=01: a child DF by FID.
    ChildDf(u16),
    /// P1=02: an EF of the current DF by FID.
    ChildEf(u16),
    /// P1=03: the parent of the current DF.
    Parent,
    /// P1=04: a DF by (possibly partial) name; `next` for P2 occurrence 02.
    DfName {
        /// The name or its prefix.
        name: &'a [u8],
        /// Next occurrence after the current DF rather than the first.
        next: bool,
    },
}

/// The EF a record or binary command addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileRef {
    /// The current EF (SFI 0).
    Current,
    /// An EF of the current DF by short file identifier.
    Sfi(u8),
}

/// A record command's P2 b3-b1 (ISO 7816-4 Table 49; SSC-CARD.md §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordMode {
    /// 100: record number P1 (00 = current record).
    Number,
    /// 101: records P1 to last (READ only).
    FromNumberToLast,
    /// 110: records last to P1 (READ only).
    FromLastToNumber,
    /// 000..011: an occurrence of the record whose identifier (first byte) is P1.
    Identifier(Occurrence),
}

/// Which occurrence of a record identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Occurrence {
    /// 000: first.
    First,
    /// 001: last.
    Last,
    /// 010: next after the record pointer.
    Next,
    /// 011: previous before the record pointer.
    Previous,
}

/// What VERIFY does, decided from P1 and the data field (ISO 7816-4 §11.5.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyAction<'a> {
    /// P1=00 with data: compare.
    Check(&'a [u8]),
    /// P1=00 without data: the status (9000 verified, 63Cx tries left).
    Query,
    /// P1=FF without data: reset the verified status.
    Logout,
    /// P1=01 (the PKI application, §3.7): SM4 of the card's challenge under the first 16
    /// bytes of SM3 of the PIN in BCD.
    Cryptogram(&'a [u8; 16]),
}

/// RESET RETRY COUNTER's P1 (SECURITY.md §1 rule 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetMode {
    /// 00: PUK ‖ new PIN.
    PukAndNewPin,
    /// 01: PUK only (the counter is reset, the PIN kept).
    PukOnly,
    /// 02: new PIN only (the PUK verified before).
    NewPinOnly,
    /// 03: no data (the PUK verified before).
    NoData,
}

/// Whether an application of this kind answers the instruction (`None`: at the MF). The SSC
/// spec's SSSE has CHANGE PIN but not `00 24` / `00 2C` / `84 18` (§4.1: those answer 6D00
/// there); the PKI application is ISO style and has no `80 5E` nor class-84 commands; the
/// financial application follows PBOC (§5.4).
#[must_use]
pub fn allowed_in(cla: u8, ins: u8, kind: Option<AppKind>) -> bool {
    let ssse_or_pboc = matches!(kind, Some(AppKind::Ssse | AppKind::Pboc));
    match (cla, ins) {
        (0x80, ins::CHANGE_PIN) => ssse_or_pboc,
        (0x00, ins::CHANGE_REFERENCE_DATA | ins::RESET_RETRY_COUNTER) => kind == Some(AppKind::Pki),
        (0x84, ins::PIN_UNBLOCK | ins::APPLICATION_BLOCK | ins::CARD_BLOCK) => ssse_or_pboc,
        (0x84, ins::APPLICATION_UNBLOCK) => kind == Some(AppKind::Pboc),
        _ => true,
    }
}

impl<'a> Command<'a> {
    /// Decodes a command for the current application: 6E00 for an unknown class, 6D00 for
    /// an instruction the application does not have, then each command's own checks.
    ///
    /// # Errors
    /// The status word that rejects the command.
    pub fn decode(apdu: &CommandApdu<'a>, kind: Option<AppKind>) -> Result<Self, StatusWord> {
        let cla = apdu.cla.0;
        if !KNOWN_CLA.contains(&cla) {
            return Err(StatusWord::ClaNotSupported);
        }
        if !allowed_in(cla, apdu.ins, kind) {
            return Err(StatusWord::InsNotSupported);
        }
        match (cla, apdu.ins) {
            (0x00, ins::SELECT) => select(apdu),
            (0x00, ins::READ_BINARY) => read_binary(apdu),
            (0x00 | 0x04, ins::UPDATE_BINARY) => update_binary(apdu),
            (0x00, ins::READ_RECORD) => read_record(apdu),
            (0x00 | 0x04, ins::UPDATE_RECORD) => update_record(apdu),
            (0x00, ins::APPEND_RECORD) => append_record(apdu),
            (0x00, ins::GET_CHALLENGE) => get_challenge(apdu),
            (0x00, ins::EXTERNAL_AUTHENTICATE) => external_authenticate(apdu),
            (0x00, ins::INTERNAL_AUTHENTICATE) => internal_authenticate(apdu),
            (0x00, ins::GET_RESPONSE) => get_response(apdu),
            (0x00, ins::VERIFY) => verify(apdu, kind),
            (0x00, ins::CHANGE_REFERENCE_DATA) => change_reference_data(apdu),
            (0x00, ins::RESET_RETRY_COUNTER) => reset_retry_counter(apdu),
            (0x80, ins::CHANGE_PIN) => change_pin(apdu, kind),
            (0x84, ins::PIN_UNBLOCK) => pin_unblock(apdu, kind),
            (0x84, ins::APPLICATION_BLOCK) => application_block(apdu, kind),
            (0x84, ins::APPLICATION_UNBLOCK) => {
                mac_only(apdu).map(|mac| Command::ApplicationUnblock { mac })
            }
            (0x84, ins::CARD_BLOCK) => mac_only(apdu).map(|mac| Command::CardBlock { mac }),
            (_, ins) if IMPLEMENTED.iter().any(|(_, i)| *i == ins) => {
                Err(StatusWord::ClaNotSupported)
            }
            _ => Err(StatusWord::InsNotSupported),
        }
    }
}

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

fn select<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
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

fn read_binary<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    let ne = require_case_2(apdu)?;
    let (file, offset) = binary_address(apdu.p1, apdu.p2)?;
    Ok(Command::ReadBinary { file, offset, ne })
}

fn update_binary<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
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
fn mac_only(apdu: &CommandApdu<'_>) -> Result<[u8; 4], StatusWord> {
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
fn application_block<'a>(
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

fn read_record<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
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

fn update_record<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
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

fn append_record<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    let data = require_case_3(apdu)?;
    if apdu.p1 != 0 || apdu.p2 & 0x07 != 0 {
        return Err(StatusWord::IncorrectP1P2);
    }
    let file = record_file(apdu.p2)?;
    Ok(Command::AppendRecord { file, data })
}

fn get_challenge<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
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

fn external_authenticate<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
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

fn internal_authenticate<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
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

fn get_response<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    let ne = require_case_2(apdu)?;
    if (apdu.p1, apdu.p2) != (0, 0) {
        return Err(StatusWord::IncorrectP1P2);
    }
    Ok(Command::GetResponse { ne })
}

fn verify<'a>(apdu: &CommandApdu<'a>, kind: Option<AppKind>) -> Result<Command<'a>, StatusWord> {
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

fn change_pin<'a>(
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
fn pin_unblock<'a>(
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
    Ok(Command::PinUnblock {
        new_pin,
        enciphered,
        mac: *mac,
    })
}

fn change_reference_data<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
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

fn reset_retry_counter<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
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
