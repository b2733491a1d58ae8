//! Typed commands: the second decoding step, from an [`apdu::CommandApdu`] to what the card
//! is asked to do (SSC-CARD.md §4.1). Every bad CLA, INS, P1, P2, Lc or Le is turned into its
//! status word here, before any handler runs, so a rejected command touches no state.

use apdu::{CommandApdu, StatusWord};

/// Class bytes the card knows: interindustry `00`, with SM `04`, proprietary `80`, with SM
/// `84` (SSC-CARD.md §4.1).
const KNOWN_CLA: [u8; 4] = [0x00, 0x04, 0x80, 0x84];

/// Every (CLA, INS) pair the card implements, for telling 6E00 from 6D00.
const IMPLEMENTED: [(u8, u8); 4] = [
    (0x00, ins::SELECT),
    (0x00, ins::READ_RECORD),
    (0x00, ins::VERIFY),
    (0x00, ins::GET_RESPONSE),
];

/// Instruction bytes (ISO 7816-4 §5.1.2 Table 4, SSC Part 5).
pub mod ins {
    /// SELECT.
    pub const SELECT: u8 = 0xA4;
    /// READ RECORD(S).
    pub const READ_RECORD: u8 = 0xB2;
    /// VERIFY.
    pub const VERIFY: u8 = 0x20;
    /// GET RESPONSE.
    pub const GET_RESPONSE: u8 = 0xC0;
}

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
    /// READ RECORD `00 B2` (§4.1; ISO 7816-4 §11.3.3).
    ReadRecord {
        /// The EF: current or by SFI.
        file: FileRef,
        /// P1: record number or record identifier.
        p1: u8,
        /// Which records (P2 b3-b1).
        mode: RecordMode,
    },
    /// VERIFY `00 20 00 P2` (§4.1, §5.1).
    Verify {
        /// The PIN reference (P2).
        reference: u8,
        /// The PIN block; empty asks for the tries left.
        data: &'a [u8],
    },
    /// GET RESPONSE `00 C0 00 00 Le` (§4.1).
    GetResponse {
        /// Bytes asked for.
        ne: u32,
    },
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

/// READ RECORD's P2 b3-b1 (ISO 7816-4 Table 49; SSC-CARD.md §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordMode {
    /// 100: record number P1 (00 = current record).
    Number,
    /// 101: records P1 to last.
    FromNumberToLast,
    /// 110: records last to P1.
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

impl<'a> TryFrom<&CommandApdu<'a>> for Command<'a> {
    type Error = StatusWord;

    fn try_from(apdu: &CommandApdu<'a>) -> Result<Self, StatusWord> {
        let cla = apdu.cla.0;
        if !KNOWN_CLA.contains(&cla) {
            return Err(StatusWord::ClaNotSupported);
        }
        match (cla, apdu.ins) {
            (0x00, ins::SELECT) => select(apdu),
            (0x00, ins::READ_RECORD) => read_record(apdu),
            (0x00, ins::VERIFY) => verify(apdu),
            (0x00, ins::GET_RESPONSE) => get_response(apdu),
            (_, ins) if IMPLEMENTED.iter().any(|(_, i)| *i == ins) => {
                Err(StatusWord::ClaNotSupported)
            }
            _ => Err(StatusWord::InsNotSupported),
        }
    }
}

/// No data and no Le, or 6700.
fn require_no_le(apdu: &CommandApdu<'_>) -> Result<(), StatusWord> {
    if apdu.ne.is_some() {
        Err(StatusWord::WrongLength)
    } else {
        Ok(())
    }
}

fn require_no_data(apdu: &CommandApdu<'_>) -> Result<(), StatusWord> {
    if apdu.data.is_empty() {
        Ok(())
    } else {
        Err(StatusWord::WrongLength)
    }
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

fn read_record<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    require_no_data(apdu)?;
    if apdu.ne.is_none() {
        return Err(StatusWord::WrongLength);
    }
    let file = match apdu.p2 >> 3 {
        0 => FileRef::Current,
        31 => return Err(StatusWord::IncorrectP1P2),
        sfi => FileRef::Sfi(sfi),
    };
    let mode = match apdu.p2 & 0x07 {
        0b000 => RecordMode::Identifier(Occurrence::First),
        0b001 => RecordMode::Identifier(Occurrence::Last),
        0b010 => RecordMode::Identifier(Occurrence::Next),
        0b011 => RecordMode::Identifier(Occurrence::Previous),
        0b100 => RecordMode::Number,
        0b101 => RecordMode::FromNumberToLast,
        0b110 => RecordMode::FromLastToNumber,
        _ => return Err(StatusWord::IncorrectP1P2),
    };
    if apdu.p1 == 0xFF
        && matches!(
            mode,
            RecordMode::Number | RecordMode::FromNumberToLast | RecordMode::FromLastToNumber
        )
    {
        return Err(StatusWord::IncorrectP1P2);
    }
    Ok(Command::ReadRecord {
        file,
        p1: apdu.p1,
        mode,
    })
}

fn verify<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    require_no_le(apdu)?;
    if apdu.p1 != 0x00 {
        return Err(StatusWord::IncorrectP1P2);
    }
    Ok(Command::Verify {
        reference: apdu.p2,
        data: apdu.data,
    })
}

fn get_response<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    require_no_data(apdu)?;
    if (apdu.p1, apdu.p2) != (0, 0) {
        return Err(StatusWord::IncorrectP1P2);
    }
    let ne = apdu.ne.ok_or(StatusWord::WrongLength)?;
    Ok(Command::GetResponse { ne })
}
