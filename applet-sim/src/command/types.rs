//! The typed commands (docs/CARD.md §4.1): what the card is asked to do, decoded from an
//! [`apdu::CommandApdu`], with one small enum per P1/P2 vocabulary.

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
    /// RESET RETRY COUNTER `00 2C P1 P2` (ISO 7816-4 §11.5.10; docs/SECURITY.md §1 rule 7).
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
    /// PIN UNBLOCK `84 24 00 00` of the financial application (§5.4): the current PIN
    /// enciphered under the DPUK session key, then the PBOC MAC.
    PbocPinUnblock {
        /// The enciphered PIN block.
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
    /// GET PROCESSING OPTIONS `80 A8 00 00 Lc 83 L PDOL-data Le` (financial application,
    /// §3.6.1): the PDOL-related data (the value of template 83).
    GetProcessingOptions {
        /// The value of template 83 (empty for `83 00`).
        pdol_data: &'a [u8],
    },
    /// GET DATA `80 CA P1 P2 Le` (financial application, §3.6.1): the data object whose tag
    /// is P1 P2.
    GetData {
        /// The tag (P1 P2).
        tag: u16,
    },
    /// A command of the PKI application (§3.7): key pairs, imports, the enciphered PIN
    /// change and key update, the PIN hash, signatures.
    Pki(super::PkiCommand<'a>),
    /// A medical e-purse command, class B0 (§4.1, §4.6).
    Purse(super::PurseCommand),
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

/// A record command's P2 b3-b1 (ISO 7816-4 Table 49; docs/CARD.md §4.1).
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
    /// P1=00 without data (case 1): the status (9000 verified, 63Cx tries left).
    Query,
    /// P1=00 with Lc = 00 (`00 20 00 P2 00`, SSC Part 5 §6.14.5, docs/CARD.md §5.1): 63Cx
    /// with the tries left whenever the PIN exists, 6983 blocked, 9000 when there is none.
    TriesQuery,
    /// P1=FF without data: reset the verified status.
    Logout,
    /// P1=01 (the PKI application, §3.7): SM4 of the card's challenge under the first 16
    /// bytes of SM3 of the PIN in BCD.
    Cryptogram(&'a [u8; 16]),
}

/// RESET RETRY COUNTER's P1 (docs/SECURITY.md §1 rule 7).
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
