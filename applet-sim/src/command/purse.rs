//! The medical e-purse's commands (docs/CARD.md §4.1 "Medical e-purse", §4.6), class B0:
//! P1, P2 and Lc checked here (6A86, 6700) before the handler (`card/purse.rs`) runs.

use apdu::{CommandApdu, StatusWord};

use super::types::Command;

/// INIT LOAD / INIT PURCHASE / CREDIT LOAD / DEBIT / GET BALANCE / GET TRANSACTION PROOF /
/// the starting day (§4.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PurseCommand {
    /// INIT LOAD `B0 28 00 01 0B`: key index ‖ amount ‖ terminal id.
    InitLoad {
        /// DLK index.
        key_index: u8,
        /// Amount, in fen.
        amount: u32,
        /// Terminal id (cn6).
        terminal: [u8; 6],
    },
    /// CREDIT LOAD `B0 2A 00 00 0B`: date-time ‖ MAC2.
    CreditLoad {
        /// YYYYMMDDhhmmss (BCD).
        time: [u8; 7],
        /// The host's MAC2.
        mac2: [u8; 4],
    },
    /// INIT PURCHASE `B0 28 01 01 13`: key index ‖ CIA amount ‖ SPIP amount ‖ SPFP amount ‖
    /// terminal id.
    InitPurchase {
        /// DPK index.
        key_index: u8,
        /// CIA, SPIP and SPFP amounts, in fen.
        amounts: [u32; 3],
        /// Terminal id (cn6).
        terminal: [u8; 6],
    },
    /// DEBIT `B0 2C 01 00 0F`: terminal transaction number ‖ date-time ‖ MAC1.
    Debit {
        /// The terminal's transaction number.
        terminal_seq: [u8; 4],
        /// YYYYMMDDhhmmss (BCD).
        time: [u8; 7],
        /// The terminal's MAC1.
        mac1: [u8; 4],
    },
    /// GET BALANCE `B0 26 00 P2`: P2 01 CIA, 02 SPIP, 03 SPFP.
    GetBalance {
        /// Which balance.
        which: Balance,
    },
    /// GET TRANSACTION PROOF `B0 2E 00 type 02 seq`.
    GetProof {
        /// The transaction type (P2): load `32` or purchase `36`.
        kind: u8,
        /// The counter the transaction used.
        seq: u16,
    },
    /// UPDATE STARTING DAY `B0 56 00 00 06`: MMDD ‖ MAC (DSK session key over the
    /// challenge). \[I\]
    SetStartDay {
        /// MMDD (BCD).
        day: [u8; 2],
        /// The MAC.
        mac: [u8; 4],
    },
    /// GET STARTING DAY `B0 56 01 00`.
    GetStartDay,
}

/// Which balance GET BALANCE reads (P2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Balance {
    /// 01: the basic medical insurance personal account (CIA), 4 bytes.
    Account,
    /// 02: the year's personal self-pay total (SPIP) ‖ year, 6 bytes.
    SelfPaid,
    /// 03: the year's pooled-fund payment total (SPFP) ‖ year, 6 bytes.
    FundPaid,
}

/// The data field of exactly `N` bytes (6700 otherwise).
fn exact<const N: usize>(apdu: &CommandApdu<'_>) -> Result<[u8; N], StatusWord> {
    <[u8; N]>::try_from(apdu.data).map_err(|_| StatusWord::WrongLength)
}

fn u32_at(data: &[u8], at: usize) -> u32 {
    data.get(at..at + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_be_bytes)
}

fn array_at<const N: usize>(data: &[u8], at: usize) -> [u8; N] {
    data.get(at..at + N)
        .and_then(|b| <[u8; N]>::try_from(b).ok())
        .unwrap_or([0; N])
}

/// No data (case 1 or 2), or 6700.
fn no_data(apdu: &CommandApdu<'_>) -> Result<(), StatusWord> {
    if apdu.data.is_empty() {
        Ok(())
    } else {
        Err(StatusWord::WrongLength)
    }
}

/// `B0 28`: INIT LOAD (P1 P2 = 00 01) or INIT PURCHASE (01 01).
pub(super) fn init<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    let purse = match (apdu.p1, apdu.p2) {
        (0x00, 0x01) => {
            let d = exact::<0x0B>(apdu)?;
            PurseCommand::InitLoad {
                key_index: d[0],
                amount: u32_at(&d, 1),
                terminal: array_at(&d, 5),
            }
        }
        (0x01, 0x01) => {
            let d = exact::<0x13>(apdu)?;
            PurseCommand::InitPurchase {
                key_index: d[0],
                amounts: [u32_at(&d, 1), u32_at(&d, 5), u32_at(&d, 9)],
                terminal: array_at(&d, 13),
            }
        }
        _ => return Err(StatusWord::IncorrectP1P2),
    };
    Ok(Command::Purse(purse))
}

/// `B0 2A 00 00`: CREDIT LOAD.
pub(super) fn credit<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    if (apdu.p1, apdu.p2) != (0x00, 0x00) {
        return Err(StatusWord::IncorrectP1P2);
    }
    let d = exact::<0x0B>(apdu)?;
    Ok(Command::Purse(PurseCommand::CreditLoad {
        time: array_at(&d, 0),
        mac2: array_at(&d, 7),
    }))
}

/// `B0 2C 01 00`: DEBIT.
pub(super) fn debit<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    if (apdu.p1, apdu.p2) != (0x01, 0x00) {
        return Err(StatusWord::IncorrectP1P2);
    }
    let d = exact::<0x0F>(apdu)?;
    Ok(Command::Purse(PurseCommand::Debit {
        terminal_seq: array_at(&d, 0),
        time: array_at(&d, 4),
        mac1: array_at(&d, 11),
    }))
}

/// `B0 26 00 P2`: GET BALANCE.
pub(super) fn get_balance<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    let which = match (apdu.p1, apdu.p2) {
        (0x00, 0x01) => Balance::Account,
        (0x00, 0x02) => Balance::SelfPaid,
        (0x00, 0x03) => Balance::FundPaid,
        _ => return Err(StatusWord::IncorrectP1P2),
    };
    no_data(apdu)?;
    Ok(Command::Purse(PurseCommand::GetBalance { which }))
}

/// `B0 2E 00 type 02 seq`: GET TRANSACTION PROOF.
pub(super) fn get_proof<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    if apdu.p1 != 0x00 || ![crate::purse::TYPE_LOAD, crate::purse::TYPE_PURCHASE].contains(&apdu.p2)
    {
        return Err(StatusWord::IncorrectP1P2);
    }
    let seq = exact::<2>(apdu)?;
    Ok(Command::Purse(PurseCommand::GetProof {
        kind: apdu.p2,
        seq: u16::from_be_bytes(seq),
    }))
}

/// `B0 56 00 00 06` (update) or `B0 56 01 00` (get): the starting day.
pub(super) fn start_day<'a>(apdu: &CommandApdu<'a>) -> Result<Command<'a>, StatusWord> {
    let purse = match (apdu.p1, apdu.p2) {
        (0x00, 0x00) => {
            if apdu.ne.is_some() {
                return Err(StatusWord::WrongLength);
            }
            let d = exact::<6>(apdu)?;
            PurseCommand::SetStartDay {
                day: array_at(&d, 0),
                mac: array_at(&d, 2),
            }
        }
        (0x01, 0x00) => {
            no_data(apdu)?;
            PurseCommand::GetStartDay
        }
        _ => return Err(StatusWord::IncorrectP1P2),
    };
    Ok(Command::Purse(purse))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AppKind;

    fn decode(hex: &str) -> Result<Command<'static>, StatusWord> {
        let bytes: &'static [u8] = apdu::parse_hex(hex).unwrap().leak();
        let apdu = CommandApdu::parse(bytes).unwrap();
        Command::decode(&apdu, Some(AppKind::Ssse))
    }

    fn purse(hex: &str) -> PurseCommand {
        match decode(hex) {
            Ok(Command::Purse(p)) => p,
            other => panic!("{hex}: {other:?}"),
        }
    }

    #[test]
    fn each_command_decodes_its_fields() {
        assert_eq!(
            purse("B02800010B 01 00000064 320100000001 10"),
            PurseCommand::InitLoad {
                key_index: 1,
                amount: 100,
                terminal: [0x32, 0x01, 0, 0, 0, 1]
            }
        );
        assert_eq!(
            purse("B028010113 02 00000001 00000002 00000003 320100000002"),
            PurseCommand::InitPurchase {
                key_index: 2,
                amounts: [1, 2, 3],
                terminal: [0x32, 0x01, 0, 0, 0, 2]
            }
        );
        assert_eq!(
            purse("B02A00000B 20250301120000 AABBCCDD 04"),
            PurseCommand::CreditLoad {
                time: [0x20, 0x25, 0x03, 0x01, 0x12, 0, 0],
                mac2: [0xAA, 0xBB, 0xCC, 0xDD]
            }
        );
        assert_eq!(
            purse("B02C01000F 00000011 20250301120000 11223344 08"),
            PurseCommand::Debit {
                terminal_seq: [0, 0, 0, 0x11],
                time: [0x20, 0x25, 0x03, 0x01, 0x12, 0, 0],
                mac1: [0x11, 0x22, 0x33, 0x44]
            }
        );
        assert_eq!(
            purse("B026000306"),
            PurseCommand::GetBalance {
                which: Balance::FundPaid
            }
        );
        assert_eq!(
            purse("B0260002"),
            PurseCommand::GetBalance {
                which: Balance::SelfPaid
            }
        );
        assert_eq!(
            purse("B026000104"),
            PurseCommand::GetBalance {
                which: Balance::Account
            }
        );
        assert_eq!(
            purse("B02E003602000508"),
            PurseCommand::GetProof { kind: b'6', seq: 5 }
        );
        assert_eq!(
            purse("B02E003202000108"),
            PurseCommand::GetProof { kind: b'2', seq: 1 }
        );
        assert_eq!(
            purse("B056000006 0701 11223344"),
            PurseCommand::SetStartDay {
                day: [0x07, 0x01],
                mac: [0x11, 0x22, 0x33, 0x44]
            }
        );
        assert_eq!(purse("B056010002"), PurseCommand::GetStartDay);
    }

    #[test]
    fn bad_p1_p2_and_lengths_are_refused_before_any_handler() {
        for (hex, sw) in [
            (
                "B02800020B0100000064320100000001",
                StatusWord::IncorrectP1P2,
            ),
            (
                "B02801000B0100000064320100000001",
                StatusWord::IncorrectP1P2,
            ),
            ("B02800010A01000000643201000000", StatusWord::WrongLength),
            (
                "B02800010C010000006432010000000100",
                StatusWord::WrongLength,
            ),
            ("B02801010B0100000064320100000001", StatusWord::WrongLength),
            (
                "B02A00010B20250301120000AABBCCDD",
                StatusWord::IncorrectP1P2,
            ),
            ("B02A00000A20250301120000AABBCC", StatusWord::WrongLength),
            (
                "B02C00000F000000112025030112000011223344",
                StatusWord::IncorrectP1P2,
            ),
            (
                "B02C01010F000000112025030112000011223344",
                StatusWord::IncorrectP1P2,
            ),
            (
                "B02C01000E0000001120250301120000112233",
                StatusWord::WrongLength,
            ),
            ("B026000004", StatusWord::IncorrectP1P2),
            ("B026000404", StatusWord::IncorrectP1P2),
            ("B026010104", StatusWord::IncorrectP1P2),
            ("B02600010100", StatusWord::WrongLength),
            ("B02E0006020001", StatusWord::IncorrectP1P2),
            ("B02E0136020001", StatusWord::IncorrectP1P2),
            ("B02E0036010008", StatusWord::WrongLength),
            ("B02E0036", StatusWord::WrongLength),
            ("B0560000050701112233", StatusWord::WrongLength),
            ("B05600000607011122334400", StatusWord::WrongLength),
            ("B056020002", StatusWord::IncorrectP1P2),
            ("B056000102", StatusWord::IncorrectP1P2),
            ("B0560100010002", StatusWord::WrongLength),
        ] {
            assert_eq!(decode(hex).err(), Some(sw), "{hex}");
        }
    }

    #[test]
    fn the_purse_answers_in_the_ssse_only() {
        let apdu = CommandApdu::parse(&[0xB0, 0x26, 0x00, 0x01, 0x04]).unwrap();
        for kind in [None, Some(AppKind::Pboc), Some(AppKind::Pki)] {
            assert_eq!(
                Command::decode(&apdu, kind).err(),
                Some(StatusWord::InsNotSupported),
                "{kind:?}"
            );
        }
    }
}
