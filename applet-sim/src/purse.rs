//! The medical e-purse's cryptography (docs/CARD.md §4.6, §6.2): session keys, MAC1, MAC2
//! and TAC of a load (账户划入) and a purchase (支付), written once for the card
//! (`card/purse.rs`) and the terminal (the harness's `psam purse-*` steps).
//!
//! Every MAC here is the SSC MAC of §6.3 over the data alone ("medical-transaction MACs omit
//! the header"): 80 00.. padding, CBC from a zero IV, the left 4 bytes (8-byte blocks) or the
//! XOR of the four words of the last block (16-byte blocks).

use crate::crypto::{self, KeyLengthError};
use crate::model::CipherSuite;

/// The transaction type of a load, in the MACs and GET TRANSACTION PROOF's P2: ASCII `2`
/// (an1), PBOC's e-purse load type 02 as a character. \[I\] (§4.6)
pub const TYPE_LOAD: u8 = b'2';
/// The transaction type of a purchase, in the MACs, the EF08 record and GET TRANSACTION
/// PROOF's P2: ASCII `6` (an1), PBOC's e-purse purchase type 06 as a character. \[I\] (§4.6)
pub const TYPE_PURCHASE: u8 = b'6';

/// A keyed purse key (DLK or DPK): the index INIT names, its version and algorithm
/// identifier answered by INIT, and the card-level value.
#[derive(Clone, PartialEq, Eq)]
pub struct IndexedKey {
    /// The key index of INIT's data field (9403 for any other).
    pub index: u8,
    /// The key version INIT answers.
    pub version: u8,
    /// The key (8 or 16 bytes for DES, 16 for SM4).
    pub value: Vec<u8>,
}

impl std::fmt::Debug for IndexedKey {
    /// The value is secret: not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "IndexedKey {{ index: {}, version: {} }}",
            self.index, self.version
        )
    }
}

/// The purse's keys (docs/CARD.md §6.7, §6.8): load, purchase, TAC and starting-day keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurseKeys {
    /// DLK: the load key (SESLK).
    pub dlk: IndexedKey,
    /// DPK: the purchase key (SESPK).
    pub dpk: IndexedKey,
    /// DTK: the TAC key (folded L XOR R for 16-byte DES keys).
    pub dtk: SecretBytes,
    /// DSK: the key of UPDATE STARTING DAY's MAC. \[I\]
    pub dsk: SecretBytes,
}

/// Key bytes that are never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(pub Vec<u8>);

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBytes({} bytes)", self.0.len())
    }
}

/// The purse's money and counters as a profile starts them (docs/CARD.md §6.8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurseDef {
    /// The DF that holds the purse (the medical application DF04).
    pub parent: String,
    /// The keys.
    pub keys: PurseKeys,
    /// The basic medical insurance personal account (CIA) balance, in fen.
    pub balance: u32,
    /// The largest balance a load may leave (INIT LOAD refuses more with 6985). \[I\]
    pub max_balance: u32,
    /// The online (load) transaction counter.
    pub load_seq: u16,
    /// The offline (purchase) transaction counter.
    pub purchase_seq: u16,
    /// The year's personal self-pay total (SPIP), in fen.
    pub spip: u32,
    /// The year's pooled-fund payment total (SPFP), in fen.
    pub spfp: u32,
    /// The payment year of SPIP and SPFP (BCD, e.g. `20 25`).
    pub year: [u8; 2],
    /// The starting day of the payment year (MMDD, BCD).
    pub start_day: [u8; 2],
}

/// What GET TRANSACTION PROOF answers for the last transaction of a type (§4.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proof {
    /// The counter the transaction used (online for a load, offline for a purchase).
    pub seq: u16,
    /// MAC2: the host's for a load, the card's for a purchase.
    pub mac: [u8; 4],
    /// The TAC.
    pub tac: [u8; 4],
}

/// The purse's persistent state (docs/CARD.md §4.6): what a load or a purchase changes,
/// written to the state file as one record (with the EF08 record of a purchase, as one
/// batch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurseState {
    /// The CIA balance, in fen.
    pub balance: u32,
    /// The online (load) counter.
    pub load_seq: u16,
    /// The offline (purchase) counter.
    pub purchase_seq: u16,
    /// The year's SPIP total.
    pub spip: u32,
    /// The year's SPFP total.
    pub spfp: u32,
    /// The payment year of the totals (BCD).
    pub year: [u8; 2],
    /// The starting day of the payment year (MMDD, BCD).
    pub start_day: [u8; 2],
    /// The last load's proof.
    pub last_load: Option<Proof>,
    /// The last purchase's proof.
    pub last_purchase: Option<Proof>,
}

impl PurseState {
    /// The state a profile starts the purse in.
    #[must_use]
    pub fn initial(def: &PurseDef) -> Self {
        Self {
            balance: def.balance,
            load_seq: def.load_seq,
            purchase_seq: def.purchase_seq,
            spip: def.spip,
            spfp: def.spfp,
            year: def.year,
            start_day: def.start_day,
            last_load: None,
            last_purchase: None,
        }
    }

    /// The state as bytes (the state file's purse record).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(48);
        p.extend_from_slice(&self.balance.to_be_bytes());
        p.extend_from_slice(&self.load_seq.to_be_bytes());
        p.extend_from_slice(&self.purchase_seq.to_be_bytes());
        p.extend_from_slice(&self.spip.to_be_bytes());
        p.extend_from_slice(&self.spfp.to_be_bytes());
        p.extend_from_slice(&self.year);
        p.extend_from_slice(&self.start_day);
        for proof in [self.last_load, self.last_purchase] {
            match proof {
                None => p.push(0),
                Some(x) => {
                    p.push(1);
                    p.extend_from_slice(&x.seq.to_be_bytes());
                    p.extend_from_slice(&x.mac);
                    p.extend_from_slice(&x.tac);
                }
            }
        }
        p
    }

    /// The state from [`PurseState::encode`]'s bytes, `None` for anything else.
    #[must_use]
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader(bytes);
        let balance = r.u32()?;
        let load_seq = r.u16()?;
        let purchase_seq = r.u16()?;
        let spip = r.u32()?;
        let spfp = r.u32()?;
        let year = r.array()?;
        let start_day = r.array()?;
        let mut proofs = [None, None];
        for slot in &mut proofs {
            *slot = match r.array::<1>()? {
                [0] => None,
                [1] => Some(Proof {
                    seq: r.u16()?,
                    mac: r.array()?,
                    tac: r.array()?,
                }),
                _ => return None,
            };
        }
        if !r.0.is_empty() {
            return None;
        }
        let [last_load, last_purchase] = proofs;
        Some(Self {
            balance,
            load_seq,
            purchase_seq,
            spip,
            spfp,
            year,
            start_day,
            last_load,
            last_purchase,
        })
    }
}

/// Reads big-endian fields off the front of a byte string.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, tail) = self.0.split_first_chunk::<N>()?;
        self.0 = tail;
        Some(*head)
    }

    fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }
}

/// The TAC key of §6.2: DTK_L XOR DTK_R for a 16-byte DES key, the DTK itself otherwise.
#[must_use]
pub fn tac_key(suite: CipherSuite, dtk: &[u8]) -> Vec<u8> {
    match (suite, dtk.split_at_checked(8)) {
        (CipherSuite::Des3, Some((l, r))) if r.len() == 8 => {
            l.iter().zip(r).map(|(a, b)| a ^ b).collect()
        }
        _ => dtk.to_vec(),
    }
}

/// SESLK (§6.2): the load session key, DLK over R_ICC ‖ online counter ‖ `80 00`.
///
/// # Errors
/// [`KeyLengthError`] when DLK does not fit the suite.
pub fn load_session_key(
    suite: CipherSuite,
    dlk: &[u8],
    random: [u8; 4],
    load_seq: u16,
) -> Result<Vec<u8>, KeyLengthError> {
    let mut input = random.to_vec();
    input.extend_from_slice(&load_seq.to_be_bytes());
    input.extend_from_slice(&[0x80, 0x00]);
    crypto::session_key(suite, dlk, &input)
}

/// SESPK (§6.2): the purchase session key, DPK over R_ICC ‖ offline counter ‖ the two least
/// significant bytes of the terminal's transaction number.
///
/// # Errors
/// [`KeyLengthError`] when DPK does not fit the suite.
pub fn purchase_session_key(
    suite: CipherSuite,
    dpk: &[u8],
    random: [u8; 4],
    purchase_seq: u16,
    terminal_seq: [u8; 4],
) -> Result<Vec<u8>, KeyLengthError> {
    let mut input = random.to_vec();
    input.extend_from_slice(&purchase_seq.to_be_bytes());
    input.extend_from_slice(terminal_seq.get(2..).unwrap_or_default());
    crypto::session_key(suite, dpk, &input)
}

/// The medical MAC of §6.3 over `parts` joined (no header).
///
/// # Errors
/// [`KeyLengthError`] when the key does not fit the suite.
pub fn mac(suite: CipherSuite, key: &[u8], parts: &[&[u8]]) -> Result<[u8; 4], KeyLengthError> {
    crypto::ssc_mac(suite, key, &parts.concat())
}

/// What a load is about (INIT LOAD's data and the card's answer), as both sides see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Load {
    /// The amount, in fen.
    pub amount: u32,
    /// The terminal id (cn6).
    pub terminal: [u8; 6],
    /// The balance before the load.
    pub balance: u32,
    /// The online counter the load uses.
    pub seq: u16,
}

impl Load {
    /// MAC1 (card → terminal): balance ‖ amount ‖ type ‖ terminal, under SESLK.
    ///
    /// # Errors
    /// [`KeyLengthError`] when SESLK does not fit the suite.
    pub fn mac1(&self, suite: CipherSuite, seslk: &[u8]) -> Result<[u8; 4], KeyLengthError> {
        mac(
            suite,
            seslk,
            &[
                &self.balance.to_be_bytes(),
                &self.amount.to_be_bytes(),
                &[TYPE_LOAD],
                &self.terminal,
            ],
        )
    }

    /// MAC2 (host → card): amount ‖ type ‖ terminal ‖ date-time, under SESLK.
    ///
    /// # Errors
    /// [`KeyLengthError`] when SESLK does not fit the suite.
    pub fn mac2(
        &self,
        suite: CipherSuite,
        seslk: &[u8],
        time: [u8; 7],
    ) -> Result<[u8; 4], KeyLengthError> {
        mac(
            suite,
            seslk,
            &[
                &self.amount.to_be_bytes(),
                &[TYPE_LOAD],
                &self.terminal,
                &time,
            ],
        )
    }

    /// TAC: new balance ‖ online counter (before the load) ‖ amount ‖ type ‖ terminal ‖
    /// date-time, under the TAC key.
    ///
    /// # Errors
    /// [`KeyLengthError`] when DTK does not fit the suite.
    pub fn tac(
        &self,
        suite: CipherSuite,
        dtk: &[u8],
        time: [u8; 7],
    ) -> Result<[u8; 4], KeyLengthError> {
        let new_balance = self.balance.wrapping_add(self.amount);
        mac(
            suite,
            &tac_key(suite, dtk),
            &[
                &new_balance.to_be_bytes(),
                &self.seq.to_be_bytes(),
                &self.amount.to_be_bytes(),
                &[TYPE_LOAD],
                &self.terminal,
                &time,
            ],
        )
    }
}

/// What a purchase is about: the three amounts of INIT PURCHASE and its terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Purchase {
    /// Paid from the personal account (CIA): debited from the balance.
    pub amount: u32,
    /// Paid by the person (SPIP): added to the year's SPIP total.
    pub self_paid: u32,
    /// Paid by the pooled fund (SPFP): added to the year's SPFP total.
    pub fund_paid: u32,
    /// The terminal id (cn6).
    pub terminal: [u8; 6],
}

impl Purchase {
    fn amounts(&self) -> [u8; 12] {
        let mut out = [0u8; 12];
        for (chunk, v) in out
            .chunks_exact_mut(4)
            .zip([self.amount, self.self_paid, self.fund_paid])
        {
            chunk.copy_from_slice(&v.to_be_bytes());
        }
        out
    }

    /// MAC1 (terminal → card): the three amounts ‖ type ‖ terminal ‖ date-time, under SESPK.
    ///
    /// # Errors
    /// [`KeyLengthError`] when SESPK does not fit the suite.
    pub fn mac1(
        &self,
        suite: CipherSuite,
        sespk: &[u8],
        time: [u8; 7],
    ) -> Result<[u8; 4], KeyLengthError> {
        mac(
            suite,
            sespk,
            &[&self.amounts(), &[TYPE_PURCHASE], &self.terminal, &time],
        )
    }

    /// MAC2 (card → terminal): the amount debited, under SESPK.
    ///
    /// # Errors
    /// [`KeyLengthError`] when SESPK does not fit the suite.
    pub fn mac2(&self, suite: CipherSuite, sespk: &[u8]) -> Result<[u8; 4], KeyLengthError> {
        mac(suite, sespk, &[&self.amount.to_be_bytes()])
    }

    /// TAC: the three amounts ‖ type ‖ terminal ‖ terminal's transaction number ‖
    /// date-time, under the TAC key.
    ///
    /// # Errors
    /// [`KeyLengthError`] when DTK does not fit the suite.
    pub fn tac(
        &self,
        suite: CipherSuite,
        dtk: &[u8],
        terminal_seq: [u8; 4],
        time: [u8; 7],
    ) -> Result<[u8; 4], KeyLengthError> {
        mac(
            suite,
            &tac_key(suite, dtk),
            &[
                &self.amounts(),
                &[TYPE_PURCHASE],
                &self.terminal,
                &terminal_seq,
                &time,
            ],
        )
    }

    /// The EF08 record (0x1C bytes, §3.4): seq (b2) ‖ type (an1) ‖ terminal (cn6) ‖ time
    /// (cn7) ‖ the three amounts (b4 each).
    #[must_use]
    pub fn record(&self, seq: u16, time: [u8; 7]) -> Vec<u8> {
        let mut r = Vec::with_capacity(0x1C);
        r.extend_from_slice(&seq.to_be_bytes());
        r.push(TYPE_PURCHASE);
        r.extend_from_slice(&self.terminal);
        r.extend_from_slice(&time);
        r.extend_from_slice(&self.amounts());
        r
    }
}

/// The payment year a transaction at `time` (YYYYMMDDhhmmss, BCD) falls in, given the
/// starting day (MMDD, BCD): the date's year from the starting day on, the year before
/// until then. `None` for a date that is not BCD. \[I\] (§4.6)
#[must_use]
pub fn payment_year(time: [u8; 7], start_day: [u8; 2]) -> Option<[u8; 2]> {
    let [y1, y2, m, d, ..] = time;
    let year = bcd_value(&[y1, y2])?;
    let day = bcd_value(&[m, d])?;
    let start = bcd_value(&start_day)?;
    let year = if day >= start {
        year
    } else {
        year.checked_sub(1)?
    };
    to_bcd(year)
}

/// The value of BCD bytes, `None` when a nibble is above 9.
#[must_use]
pub fn bcd_value(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |acc, &b| {
        let (hi, lo) = (u32::from(b >> 4), u32::from(b & 0x0F));
        (hi < 10 && lo < 10).then(|| acc * 100 + hi * 10 + lo)
    })
}

/// Four decimal digits as two BCD bytes (`None` above 9999).
fn to_bcd(v: u32) -> Option<[u8; 2]> {
    let digits = |n: u32| u8::try_from(((n / 10 % 10) << 4) | (n % 10)).ok();
    (v <= 9999).then_some(())?;
    Some([digits(v / 100)?, digits(v % 100)?])
}

/// Whether MMDD (BCD) is a day of the calendar (29 February included).
#[must_use]
pub fn valid_day(mmdd: [u8; 2]) -> bool {
    let (Some(m), Some(d)) = (bcd_value(&mmdd[..1]), bcd_value(&mmdd[1..])) else {
        return false;
    };
    u8::try_from(m)
        .ok()
        .filter(|m| (1..=12).contains(m))
        .is_some_and(|m| d >= 1 && d <= u32::from(crate::date::days_in(2000, m)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_round_trips_and_nothing_else_decodes() {
        let mut s = PurseState {
            balance: 0x0102_0304,
            load_seq: 7,
            purchase_seq: 0xFFFF,
            spip: 1,
            spfp: 2,
            year: [0x20, 0x25],
            start_day: [0x01, 0x01],
            last_load: None,
            last_purchase: Some(Proof {
                seq: 3,
                mac: [1, 2, 3, 4],
                tac: [5, 6, 7, 8],
            }),
        };
        assert_eq!(PurseState::decode(&s.encode()), Some(s.clone()));
        s.last_load = s.last_purchase;
        let bytes = s.encode();
        assert_eq!(PurseState::decode(&bytes), Some(s));
        for n in 0..bytes.len() {
            assert_eq!(PurseState::decode(&bytes[..n]), None, "{n}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(PurseState::decode(&long), None);
        let mut bad = bytes;
        bad[20] = 2;
        assert_eq!(PurseState::decode(&bad), None);
    }

    #[test]
    fn the_tac_key_folds_a_double_length_des_key_only() {
        let k: Vec<u8> = (0..16).collect();
        let folded = tac_key(CipherSuite::Des3, &k);
        assert_eq!(folded, vec![8, 8, 8, 8, 8, 8, 8, 8]);
        assert_eq!(tac_key(CipherSuite::Sm4, &k), k);
        assert_eq!(tac_key(CipherSuite::Des3, &k[..8]), k[..8].to_vec());
    }

    #[test]
    fn payment_years_turn_on_the_starting_day() {
        let t = |s: &str| -> [u8; 7] { apdu::parse_hex(s).unwrap().try_into().unwrap() };
        assert_eq!(
            payment_year(t("20250630235959"), [0x07, 0x01]),
            Some([0x20, 0x24])
        );
        assert_eq!(
            payment_year(t("20250701000000"), [0x07, 0x01]),
            Some([0x20, 0x25])
        );
        assert_eq!(
            payment_year(t("20250101000000"), [0x01, 0x01]),
            Some([0x20, 0x25])
        );
        assert_eq!(
            payment_year(t("20000101000000"), [0x01, 0x02]),
            Some([0x19, 0x99])
        );
        assert_eq!(payment_year(t("2A250101000000"), [0x01, 0x01]), None);
        assert_eq!(payment_year(t("00000101000000"), [0x01, 0x02]), None);
        assert_eq!(bcd_value(&[0x12, 0x34]), Some(1234));
        assert_eq!(bcd_value(&[0x1A]), None);
        assert_eq!(bcd_value(&[0xA1]), None);
    }

    #[test]
    fn days_are_checked_against_the_calendar() {
        for ok in [[0x01, 0x01], [0x02, 0x29], [0x12, 0x31], [0x04, 0x30]] {
            assert!(valid_day(ok), "{ok:02X?}");
        }
        for bad in [
            [0x00, 0x01],
            [0x13, 0x01],
            [0x04, 0x31],
            [0x01, 0x00],
            [0x1A, 0x01],
        ] {
            assert!(!valid_day(bad), "{bad:02X?}");
        }
    }

    #[test]
    fn a_purchase_record_is_0x1c_bytes_in_the_documented_order() {
        let p = Purchase {
            amount: 0x0102_0304,
            self_paid: 5,
            fund_paid: 6,
            terminal: [0x32, 0x01, 0, 0, 0, 1],
        };
        let r = p.record(0x0A0B, [0x20, 0x25, 1, 2, 3, 4, 5]);
        assert_eq!(r.len(), 0x1C);
        assert_eq!(
            apdu::hex_compact(&r),
            "0A0B36320100000001202501020304050102030400000005\
             00000006"
        );
    }
}
