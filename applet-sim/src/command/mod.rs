//! Typed commands: the second decoding step, from an [`apdu::CommandApdu`] to what the card
//! is asked to do (docs/CARD.md §4.1). Every bad CLA, INS, P1, P2, Lc or Le is turned into its
//! status word here, before any handler runs, so a rejected command touches no state.
//!
//! The command set is one table, `TABLE`: each (CLA, INS) row says which applications
//! accept it and which decoder builds the typed [`Command`]. Adding an instruction is one
//! row, one variant and one handler.

use apdu::{CommandApdu, StatusWord};

use crate::model::AppKind;

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
    /// GET PROCESSING OPTIONS (EMV, class 80).
    pub const GET_PROCESSING_OPTIONS: u8 = 0xA8;
    /// GET DATA (EMV, class 80).
    pub const GET_DATA: u8 = 0xCA;
    /// Medical e-purse (class B0, §4.6): GET BALANCE.
    pub const PURSE_GET_BALANCE: u8 = 0x26;
    /// Medical e-purse: INIT LOAD / INIT PURCHASE.
    pub const PURSE_INIT: u8 = 0x28;
    /// Medical e-purse: CREDIT LOAD.
    pub const PURSE_CREDIT: u8 = 0x2A;
    /// Medical e-purse: DEBIT.
    pub const PURSE_DEBIT: u8 = 0x2C;
    /// Medical e-purse: GET TRANSACTION PROOF.
    pub const PURSE_GET_PROOF: u8 = 0x2E;
    /// Medical e-purse: update / get the starting day.
    pub const PURSE_START_DAY: u8 = 0x56;
}

mod decode;
mod pki;
mod purse;
mod types;

pub use pki::{Export, KeyPairFiles, PkiCommand};
pub use purse::{Balance, PurseCommand};

pub use types::{
    Command, FileRef, Occurrence, RecordMode, ResetMode, SecureMessaging, SelectBy, VerifyAction,
};

/// Class bytes the card knows: interindustry `00`, with SM `04`, proprietary `80`, with SM
/// `84`, the medical e-purse's `B0` (docs/CARD.md §4.1, §4.6).
const KNOWN_CLA: [u8; 5] = [0x00, 0x04, 0x80, 0x84, 0xB0];

/// Where a command is accepted. The SSC spec's SSSE has CHANGE PIN but not `00 24` /
/// `00 2C` / `84 18` (§4.1: those answer 6D00 there); the PKI application is ISO style and
/// has no `80 5E` nor class-84 commands; the financial application follows PBOC (§5.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Apps {
    /// Every application and the MF.
    All,
    /// The SSSE (and its sub-DFs) and the financial application.
    SsseOrPboc,
    /// The PKI application.
    Pki,
    /// The financial application.
    Pboc,
    /// The SSSE and its sub-DFs (the medical e-purse, §4.6).
    Ssse,
}

impl Apps {
    /// Whether an application of this kind (`None`: at the MF) accepts the command.
    #[must_use]
    pub(crate) fn accepts(self, kind: Option<AppKind>) -> bool {
        match self {
            Self::All => true,
            Self::SsseOrPboc => matches!(kind, Some(AppKind::Ssse | AppKind::Pboc)),
            Self::Pki => kind == Some(AppKind::Pki),
            Self::Pboc => kind == Some(AppKind::Pboc),
            Self::Ssse => kind == Some(AppKind::Ssse),
        }
    }
}

/// One row of the command set, as data (for tests and tools; the dispatch is the `match`
/// the same table expands to).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Row {
    /// Class byte.
    pub(crate) cla: u8,
    /// Instruction byte.
    pub(crate) ins: u8,
}

/// The command set, written once: each row expands both to an entry of `TABLE` and to an
/// arm of `dispatch`, a `match` on (CLA, INS) that calls the row's decoder directly (no
/// indirect call on the APDU path).
macro_rules! command_table {
    ($( ($cla:literal, $ins:path, $apps:ident, $decode:expr) ),* $(,)?) => {
        /// The card's command set (docs/CARD.md §4.1, §5.4, §3.7).
        pub(crate) const TABLE: &[Row] = &[$( Row { cla: $cla, ins: $ins } ),*];

        /// The row's decoder for a (CLA, INS) of the table, refused with 6D00 where the row
        /// does not accept the application; for a pair not in the table, 6E00 when the
        /// instruction exists with another class, else 6D00.
        #[inline]
        fn dispatch<'a>(
            apdu: &CommandApdu<'a>,
            kind: Option<AppKind>,
        ) -> Result<Command<'a>, StatusWord> {
            match (apdu.cla.0, apdu.ins) {
                $( ($cla, $ins) if !Apps::$apps.accepts(kind) => Err(StatusWord::InsNotSupported),
                   ($cla, $ins) => ($decode)(apdu, kind), )*
                (_, ins) if TABLE.iter().any(|r| r.ins == ins) => Err(StatusWord::ClaNotSupported),
                _ => Err(StatusWord::InsNotSupported),
            }
        }
    };
}

#[rustfmt::skip]
command_table![
    (0x00, ins::SELECT,                All,        |a, _| decode::select(a)),
    (0x00, ins::READ_BINARY,           All,        |a, _| decode::read_binary(a)),
    (0x00, ins::UPDATE_BINARY,         All,        |a, _| decode::update_binary(a)),
    (0x04, ins::UPDATE_BINARY,         All,        |a, _| decode::update_binary(a)),
    (0x00, ins::READ_RECORD,           All,        |a, _| decode::read_record(a)),
    (0x00, ins::UPDATE_RECORD,         All,        |a, _| decode::update_record(a)),
    (0x04, ins::UPDATE_RECORD,         All,        |a, _| decode::update_record(a)),
    (0x00, ins::APPEND_RECORD,         All,        |a, _| decode::append_record(a)),
    (0x00, ins::GET_CHALLENGE,         All,        |a, _| decode::get_challenge(a)),
    (0x00, ins::EXTERNAL_AUTHENTICATE, All,        |a, _| decode::external_authenticate(a)),
    (0x00, ins::INTERNAL_AUTHENTICATE, All,        |a, _| decode::internal_authenticate(a)),
    (0x00, ins::GET_RESPONSE,          All,        |a, _| decode::get_response(a)),
    (0x00, ins::VERIFY,                All,        decode::verify),
    (0x00, ins::CHANGE_REFERENCE_DATA, Pki,        |a, _| decode::change_reference_data(a)),
    (0x00, ins::RESET_RETRY_COUNTER,   Pki,        |a, _| decode::reset_retry_counter(a)),
    (0x80, ins::CHANGE_PIN,            SsseOrPboc, decode::change_pin),
    (0x84, ins::PIN_UNBLOCK,           SsseOrPboc, decode::pin_unblock),
    (0x84, ins::APPLICATION_BLOCK,     SsseOrPboc, decode::application_block),
    (0x84, ins::APPLICATION_UNBLOCK,   Pboc,       |a, _| decode::mac_only(a).map(|mac| Command::ApplicationUnblock { mac })),
    (0x84, ins::CARD_BLOCK,            SsseOrPboc, |a, _| decode::mac_only(a).map(|mac| Command::CardBlock { mac })),
    (0x80, ins::GET_PROCESSING_OPTIONS, Pboc,      |a, _| decode::get_processing_options(a)),
    (0x80, ins::GET_DATA,              Pboc,       |a, _| decode::get_data(a)),
    (0x80, pki::ins::PIN_HASH,         Pki,        |a, _| pki::pin_hash(a)),
    (0x84, pki::ins::CHANGE_PIN,       Pki,        |a, _| pki::change_pin(a)),
    (0x84, pki::ins::KEY_UPDATE,       Pki,        |a, _| pki::key_update(a)),
    (0x80, pki::ins::GENERATE_KEY_PAIR, Pki,       |a, _| pki::generate_key_pair(a)),
    (0x80, pki::ins::EXPORT_PUBLIC_KEY, Pki,       |a, _| pki::export_public_key(a)),
    (0x80, pki::ins::DECIPHER,         Pki,        |a, _| pki::decipher(a)),
    (0x80, pki::ins::IMPORT_SESSION_KEY, Pki,      |a, _| pki::import_session_key(a)),
    (0x80, pki::ins::IMPORT_KEY,       Pki,        |a, _| pki::import_key(a)),
    (0x00, pki::ins::SIGN,             Pki,        |a, _| pki::sign(a)),
    (0xB0, ins::PURSE_INIT,            Ssse,       |a, _| purse::init(a)),
    (0xB0, ins::PURSE_CREDIT,          Ssse,       |a, _| purse::credit(a)),
    (0xB0, ins::PURSE_DEBIT,           Ssse,       |a, _| purse::debit(a)),
    (0xB0, ins::PURSE_GET_BALANCE,     Ssse,       |a, _| purse::get_balance(a)),
    (0xB0, ins::PURSE_GET_PROOF,       Ssse,       |a, _| purse::get_proof(a)),
    (0xB0, ins::PURSE_START_DAY,       Ssse,       |a, _| purse::start_day(a)),
];

/// Every (CLA, INS) pair the card implements, in table order.
pub fn implemented() -> impl Iterator<Item = (u8, u8)> {
    TABLE.iter().map(|r| (r.cla, r.ins))
}

impl<'a> Command<'a> {
    /// Decodes a command for the current application: 6E00 for an unknown class or a class
    /// the instruction does not take, 6D00 for an instruction the application does not
    /// have, then the row's decoder.
    ///
    /// # Errors
    /// The status word that rejects the command.
    pub fn decode(apdu: &CommandApdu<'a>, kind: Option<AppKind>) -> Result<Self, StatusWord> {
        if !KNOWN_CLA.contains(&apdu.cla.0) {
            return Err(StatusWord::ClaNotSupported);
        }
        dispatch(apdu, kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(apdu: &[u8], kind: Option<AppKind>) -> Result<(), StatusWord> {
        let apdu = CommandApdu::parse(apdu).unwrap();
        Command::decode(&apdu, kind).map(|_| ())
    }

    const MAC: [u8; 4] = [1, 2, 3, 4];

    fn with_mac(header: [u8; 4]) -> Vec<u8> {
        let mut v = header.to_vec();
        v.push(4);
        v.extend_from_slice(&MAC);
        v
    }

    /// An APDU, the application it is sent in, and the expected decoding.
    type Case<'a> = (&'a [u8], Option<AppKind>, Result<(), StatusWord>);

    #[test]
    fn each_instruction_is_accepted_where_its_row_says() {
        use AppKind::{Pboc, Pki, Ssse};
        let unblock_app = with_mac([0x84, 0x18, 0x00, 0x00]);
        let change_ref = [0x00, 0x24, 0x00, 0x81, 0x02, 0x31, 0x32];
        let change_pin = [0x80, 0x5E, 0x01, 0x00, 0x03, 0x12, 0xFF, 0x34];
        let card_block = with_mac([0x84, 0x16, 0x00, 0x00]);
        #[rustfmt::skip]
        let table: [Case<'_>; 12] = [
            (&unblock_app, Some(Pboc), Ok(())),
            (&unblock_app, Some(Ssse), Err(StatusWord::InsNotSupported)),
            (&unblock_app, None,       Err(StatusWord::InsNotSupported)),
            (&change_ref,  Some(Pki),  Ok(())),
            (&change_ref,  Some(Ssse), Err(StatusWord::InsNotSupported)),
            (&change_pin,  Some(Ssse), Ok(())),
            (&change_pin,  Some(Pboc), Ok(())),
            (&change_pin,  Some(Pki),  Err(StatusWord::InsNotSupported)),
            (&change_pin,  None,       Err(StatusWord::InsNotSupported)),
            (&card_block,  Some(Ssse), Ok(())),
            (&card_block,  Some(Pki),  Err(StatusWord::InsNotSupported)),
            (&[0x00, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00], None, Ok(())),
        ];
        for (apdu, kind, want) in table {
            assert_eq!(decode(apdu, kind), want, "{apdu:02X?} in {kind:?}");
        }
    }

    #[test]
    fn unknown_class_and_instruction_are_told_apart() {
        // A class the card does not know.
        assert_eq!(
            decode(&[0x90, 0xA4, 0x00, 0x00], None),
            Err(StatusWord::ClaNotSupported)
        );
        // A known class with an instruction that exists only with another class.
        assert_eq!(
            decode(&[0x80, 0xA4, 0x00, 0x00], None),
            Err(StatusWord::ClaNotSupported)
        );
        assert_eq!(
            decode(&[0x04, 0xB0, 0x00, 0x00], None),
            Err(StatusWord::ClaNotSupported)
        );
        // An instruction the card does not have at all.
        assert_eq!(
            decode(&[0x00, 0x46, 0x00, 0x00], None),
            Err(StatusWord::InsNotSupported)
        );
        assert_eq!(
            decode(&[0x80, 0x46, 0x00, 0x00], None),
            Err(StatusWord::InsNotSupported)
        );
    }

    #[test]
    fn every_row_is_decoded_through_its_own_arm() {
        for row in TABLE {
            let bytes = [row.cla, row.ins, 0x00, 0x00];
            let apdu = CommandApdu::parse(&bytes).unwrap();
            for kind in [
                None,
                Some(AppKind::Ssse),
                Some(AppKind::Pboc),
                Some(AppKind::Pki),
            ] {
                // Whatever the decoder thinks of P1/P2 and lengths, the pair is known.
                assert_ne!(
                    dispatch(&apdu, kind).err(),
                    Some(StatusWord::ClaNotSupported),
                    "{row:?} in {kind:?}"
                );
            }
        }
        assert_eq!(implemented().count(), TABLE.len());
    }

    fn verify_action(apdu: &[u8]) -> Result<VerifyAction<'_>, StatusWord> {
        let apdu = CommandApdu::parse(apdu).unwrap();
        match Command::decode(&apdu, Some(AppKind::Ssse))? {
            Command::Verify { action, .. } => Ok(action),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn verify_with_lc_00_is_the_tries_query() {
        // SSC Part 5 §6.14.5 (docs/CARD.md §5.1): `00 20 00 P2 00`.
        assert_eq!(
            verify_action(&[0x00, 0x20, 0x00, 0x00, 0x00]),
            Ok(VerifyAction::TriesQuery)
        );
        assert_eq!(
            verify_action(&[0x00, 0x20, 0x00, 0x81, 0x00]),
            Ok(VerifyAction::TriesQuery)
        );
        // The case-1 form stays the ISO query.
        assert_eq!(
            verify_action(&[0x00, 0x20, 0x00, 0x00]),
            Ok(VerifyAction::Query)
        );
        // Any other length byte without data, an extended Le, or P1 FF with it: 6700.
        for bad in [
            &[0x00, 0x20, 0x00, 0x00, 0x01][..],
            &[0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00],
            &[0x00, 0x20, 0xFF, 0x00, 0x00],
            &[0x00, 0x20, 0x00, 0x00, 0x02, 0x12, 0x34, 0x00],
        ] {
            assert_eq!(
                verify_action(bad),
                Err(StatusWord::WrongLength),
                "{bad:02X?}"
            );
        }
    }
}
