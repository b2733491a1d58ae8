//! The terminal side of the issuer-security flows (docs/CARD.md §5.2, §5.4, §6, §7) against
//! any transport (the in-process card or a PC/SC reader). [`Psam`] writes each flow once over
//! the primitives of [`crypto::Crypto`], which come from the card keys themselves
//! ([`crypto::Software`], keys from [`keys`]: card keys, or master keys with diversification
//! factors) or from a PSAM card through its APDUs ([`card::PsamCard`], docs/PSAM.md §8);
//! [`op`] names the operations as vectors and the command line write them. The financial
//! application's (PBOC) operations always use software keys: no PSAM key table serves them.
//!
//! Each operation is the APDU sequence a service-centre terminal sends, e.g. `pin_reset`:
//! GET CHALLENGE, then `84 24 00 01` with the new PIN enciphered and MACed under the STK
//! session key. An operation stops at the first answer that is not 9000 and reports it as its
//! answer, so a vector can expect `6A81` from a blocked card whichever command met it.

use std::collections::BTreeMap;

use apdu::{Response, StatusWord};
use applet_sim::crypto::{self as sim_crypto, DiversifyError, KeyLengthError};
use applet_sim::model::{AppKind, CipherSuite, PinTextError, PinValue};

use crate::transport::{self, Transport, TransportError};
use applet_sim::model::keys::{pboc, ssse};

pub mod card;
pub mod crypto;
pub mod keys;
pub mod op;
pub mod purse;

pub use self::card::{CardInfo, CardInfoError, KEY_TABLE, KeyRef, PsamCard, PsamSource};
pub use self::crypto::{Crypto, Software};
pub use self::keys::{App, Keys, KeysError, KeysFileError, MAX_KEYS_BYTES};
pub use self::op::{OPERATIONS, Op, Operation};

/// How an EXTERNAL AUTHENTICATE is made (§6.5, §7.1, §7.4): the card key, the key version
/// byte when one is sent, and whether one challenge serves as both the original data and the
/// session-key input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtAuth {
    /// The card key id (P2).
    pub key: u8,
    /// The key version byte (Lc 11), or none (Lc 10).
    pub version: Option<u8>,
    /// One challenge as original data and session-key input (§7.4, S16), not two (§7.1).
    pub one_challenge: bool,
}

impl ExtAuth {
    /// Key `key`, two challenges, no version byte: the form of the real transcripts (§7.1).
    #[must_use]
    pub fn key(key: u8) -> Self {
        Self {
            key,
            version: None,
            one_challenge: false,
        }
    }
}

/// The terminal's security operations for one card: the SSSE's cryptograms from a
/// [`Crypto`] provider (software keys or a PSAM card), the financial application's from
/// software keys.
#[derive(Debug)]
pub struct Psam {
    ssse: Box<dyn Crypto>,
    pboc: BTreeMap<u8, Vec<u8>>,
    /// The sub-applications' DF-specific keys (software keys, by the DF's FID).
    subs: BTreeMap<u16, Software>,
    random: u64,
}

/// What an operation sent and got, and its answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transcript {
    /// Every command and response, in order (GET RESPONSE and re-issued commands included).
    pub exchanges: Vec<(Vec<u8>, Vec<u8>)>,
    /// The answer of the last command, its GET RESPONSE data joined.
    pub answer: Vec<u8>,
    /// A check of the card's answer that failed (a wrong INTERNAL AUTHENTICATE cryptogram).
    pub problem: Option<String>,
}

impl Transcript {
    /// The operation's answer: the last command's (data ‖ SW).
    #[must_use]
    pub fn response(&self) -> &[u8] {
        &self.answer
    }

    /// The last command sent.
    #[must_use]
    pub fn command(&self) -> &[u8] {
        self.exchanges.last().map_or(&[], |(c, _)| c.as_slice())
    }

    /// True when the last answer is 9000 and no check failed.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.problem.is_none()
            && matches!(
                Response::split(self.response()),
                Some((_, StatusWord::Success))
            )
    }
}

/// An operation that could not be run at all (not a card's refusal).
#[derive(Debug, thiserror::Error)]
pub enum PsamError {
    /// The transport failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// No PSAM keys were given and the transport knows none.
    #[error("no PSAM keys")]
    NoKeys,
    /// The PSAM lacks the key.
    #[error("the PSAM has no {0} key {1:02X} (add it to the keys file given with --keys)")]
    NoKey(App, u8),
    /// A key does not fit the cipher suite.
    #[error(transparent)]
    Key(#[from] KeyLengthError),
    /// A master key cannot be diversified for this card.
    #[error("{0}")]
    Diversify(DiversifyError),
    /// A PIN that is not 4 to 16 decimal digits.
    #[error("{0}")]
    Pin(PinTextError),
    /// Data too long for a short command.
    #[error("{0} bytes of data do not fit Lc")]
    DataTooLong(usize),
    /// The card's challenge was shorter than asked for.
    #[error("short challenge")]
    ShortChallenge,
    /// Encipherment or a MAC asked for before a session key.
    #[error("no session key: the PSAM delivers one first")]
    NoSession,
    /// Data to encipher that is not whole blocks.
    #[error("{0} bytes are not whole cipher blocks")]
    NotWholeBlocks(usize),
    /// A PSAM refused a command.
    #[error("{psam}: {command}: the PSAM answered {code:04X} ({meaning})", code = u16::from(*sw), meaning = sw.meaning())]
    Refused {
        /// The PSAM.
        psam: String,
        /// The command, in words.
        command: String,
        /// Its status word.
        sw: StatusWord,
    },
    /// A PSAM answered fewer bytes than the operation gives.
    #[error("{psam}: {command}: the PSAM answered {len} bytes")]
    ShortAnswer {
        /// The PSAM.
        psam: String,
        /// The command, in words.
        command: String,
        /// How many bytes it answered.
        len: usize,
    },
    /// The PSAM key table ([`KEY_TABLE`]) has no key for this card key.
    #[error(
        "the PSAM key table has no key for card key {0:02X} (it serves 00, 02, 04, 05, 06, 0A)"
    )]
    NotInKeyTable(u8),
    /// No PSAM application serves the card's cipher.
    #[error("no PSAM application serves {0} cards (2.0: des3, 3.0: sm4)")]
    NoApplication(&'static str),
    /// What the PSAM needs to know about the card could not be learnt from it.
    #[error("the PSAM needs the card's cipher and region: {0}")]
    CardInfo(#[from] CardInfoError),
    /// As [`PsamError::CardInfo`], already put in words.
    #[error("{0}")]
    CardContext(String),
    /// The declared card has no medical e-purse keys (a `[purse]` in its profile).
    #[error("no medical e-purse keys: the declared card's profile has no [purse]")]
    NoPurseKeys,
}

/// Stops an operation at the first answer that is not 9000 (returns the transcript).
macro_rules! step {
    ($t:expr) => {
        match $t {
            Step::Go(v) => v,
            Step::Stop(t) => return Ok(t),
        }
    };
}

enum Step<T> {
    Go(T),
    Stop(Transcript),
}

/// A PIN as packed BCD (§5.1).
fn pin_bcd(pin: &str) -> Result<Vec<u8>, PsamError> {
    PinValue::from_digits(pin)
        .map(|v| v.to_bcd())
        .map_err(PsamError::Pin)
}

impl Psam {
    /// The software provider with `keys` resolved for the card with this ATR.
    ///
    /// # Errors
    /// [`PsamError::Diversify`] when a master key cannot be diversified.
    pub fn new(keys: &Keys, atr: &[u8]) -> Result<Self, PsamError> {
        let resolved = keys.resolve(atr).map_err(PsamError::Diversify)?;
        let (ssse, pboc, subs) = split(resolved, keys.cipher());
        Ok(Self::with(
            Box::new(Software::new(keys.cipher(), ssse)),
            pboc,
            subs,
        ))
    }

    /// The SSSE's cryptograms from `ssse` (e.g. a [`PsamCard`]); the financial application's
    /// from the PBOC keys of `pboc` (software keys, resolved for the card with this ATR).
    ///
    /// # Errors
    /// [`PsamError::Diversify`] when a master key cannot be diversified.
    pub fn with_crypto(
        ssse: Box<dyn Crypto>,
        pboc: Option<&Keys>,
        atr: &[u8],
    ) -> Result<Self, PsamError> {
        let (pboc, subs) = match pboc {
            Some(keys) => {
                let (_, pboc, subs) = split(
                    keys.resolve(atr).map_err(PsamError::Diversify)?,
                    keys.cipher(),
                );
                (pboc, subs)
            }
            None => (BTreeMap::new(), BTreeMap::new()),
        };
        Ok(Self::with(ssse, pboc, subs))
    }

    fn with(
        ssse: Box<dyn Crypto>,
        pboc: BTreeMap<u8, Vec<u8>>,
        subs: BTreeMap<u16, Software>,
    ) -> Self {
        Self {
            ssse,
            pboc,
            subs,
            random: 0x5053_414D_0000_0001,
        }
    }

    /// The software keys of sub-application `df` holding key `id` (docs/CARD.md §6.7).
    fn sub_key(&mut self, df: u16, id: u8) -> Result<&mut Software, PsamError> {
        self.subs
            .get_mut(&df)
            .filter(|c| c.holds(id))
            .ok_or(PsamError::NoKey(App::Sub(df), id))
    }

    /// EXTERNAL AUTHENTICATE with the DF-specific key `id` of sub-application `df` (its UKn
    /// or RKn, docs/CARD.md §3.3, §6.7), the DF selected: as
    /// [`Psam::external_authenticate`], the cryptogram from the DF's key.
    ///
    /// # Errors
    /// [`PsamError`] without the key or when the transport fails.
    pub fn sub_external_authenticate(
        &mut self,
        t: &mut dyn Transport,
        df: u16,
        id: u8,
        tamper: bool,
    ) -> Result<Transcript, PsamError> {
        self.sub_key(df, id)?;
        let mut log = Transcript::default();
        let original = step!(challenge(t, &mut log, 8)?);
        let r = step!(challenge(t, &mut log, 8)?);
        let original: [u8; 8] = original.try_into().map_err(|_| PsamError::ShortChallenge)?;
        let mut auth = self.sub_key(df, id)?.auth(id, &r, &original)?;
        if tamper {
            auth[0] ^= 0x01;
        }
        let mut cmd = vec![0x00, 0x82, 0x00, id, 0x10];
        cmd.extend_from_slice(&auth);
        cmd.extend_from_slice(&original);
        send(t, &mut log, cmd)?;
        Ok(log)
    }

    /// A CLA 04 write to a file of sub-application `df` with the SSC MAC under the session
    /// key of the DF's STKDFxx (82, docs/CARD.md §6.3, §6.7).
    ///
    /// # Errors
    /// [`PsamError`] without the key or when the transport fails.
    pub fn sub_secured(
        &mut self,
        t: &mut dyn Transport,
        df: u16,
        header: [u8; 4],
        data: &[u8],
        tamper: bool,
    ) -> Result<Transcript, PsamError> {
        let stk = applet_sim::model::keys::df::STK;
        self.sub_key(df, stk)?;
        let mut log = Transcript::default();
        let r = step!(challenge(t, &mut log, 8)?);
        let crypto = self.sub_key(df, stk)?;
        crypto.session(stk, &r)?;
        send_maced(t, log, header, data, |s| crypto.mac(s), tamper)
    }

    /// Where the SSSE's cryptograms come from ("software keys", the PSAM's name).
    #[must_use]
    pub fn describe(&self) -> String {
        self.ssse.describe()
    }

    /// Whether the SSSE's key `id` is served.
    #[must_use]
    pub fn holds(&self, id: u8) -> bool {
        self.ssse.holds(id)
    }

    /// Fails without key `id` before anything is sent.
    fn ssse_key(&self, id: u8) -> Result<(), PsamError> {
        if self.ssse.holds(id) {
            Ok(())
        } else {
            Err(self.ssse.missing(id))
        }
    }

    fn pboc_key(&self, id: u8) -> Result<&[u8], PsamError> {
        self.pboc
            .get(&id)
            .map(Vec::as_slice)
            .ok_or(PsamError::NoKey(App::Pboc, id))
    }

    /// A terminal random (SplitMix64; freshness, not secrecy, is what the card needs).
    fn random8(&mut self) -> [u8; 8] {
        self.random = self.random.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.random;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)).to_be_bytes()
    }

    /// EXTERNAL AUTHENTICATE with SSSE key `id` in the two-challenge form of §7.1 and no
    /// version byte; see [`Self::external_authenticate_with`].
    ///
    /// # Errors
    /// [`PsamError`] without the key or when the transport fails.
    pub fn external_authenticate(
        &mut self,
        t: &mut dyn Transport,
        id: u8,
        tamper: bool,
    ) -> Result<Transcript, PsamError> {
        self.external_authenticate_with(t, ExtAuth::key(id), tamper)
    }

    /// EXTERNAL AUTHENTICATE (§6.5) as `how` says: a challenge as the original data and a
    /// second as the session-key input (§7.1), or one challenge as both (§7.4, S16); then
    /// `00 82 00 id 10 auth ‖ original`, or `11 … ‖ version` with a key version.
    /// `tamper` flips a bit of the cryptogram (for failure-path vectors).
    ///
    /// # Errors
    /// [`PsamError`] without the key or when the transport fails.
    pub fn external_authenticate_with(
        &mut self,
        t: &mut dyn Transport,
        how: ExtAuth,
        tamper: bool,
    ) -> Result<Transcript, PsamError> {
        let id = how.key;
        self.ssse_key(id)?;
        let mut log = Transcript::default();
        let original = step!(challenge(t, &mut log, 8)?);
        let r = if how.one_challenge {
            original.clone()
        } else {
            step!(challenge(t, &mut log, 8)?)
        };
        let original: [u8; 8] = original.try_into().map_err(|_| PsamError::ShortChallenge)?;
        let mut auth = self.ssse.auth(id, &r, &original)?;
        if tamper {
            auth[0] ^= 0x01;
        }
        let lc = if how.version.is_some() { 0x11 } else { 0x10 };
        let mut cmd = vec![0x00, 0x82, 0x00, id, lc];
        cmd.extend_from_slice(&auth);
        cmd.extend_from_slice(&original);
        cmd.extend(how.version);
        send(t, &mut log, cmd)?;
        Ok(log)
    }

    /// INTERNAL AUTHENTICATE (§6.5): two terminal randoms; the card's cryptogram is checked
    /// against the IRK (00). A wrong one is the transcript's `problem`. It costs no try of
    /// any key, so it checks the keys against the card before a flow spends one.
    ///
    /// # Errors
    /// [`PsamError`] without the IRK or when the transport fails.
    pub fn internal_authenticate(
        &mut self,
        t: &mut dyn Transport,
    ) -> Result<Transcript, PsamError> {
        self.ssse_key(ssse::IRK)?;
        let mut log = Transcript::default();
        let (input, data) = (self.random8(), self.random8());
        let mut cmd = vec![0x00, 0x88, 0x00, 0x00, 0x10];
        cmd.extend_from_slice(&input);
        cmd.extend_from_slice(&data);
        cmd.push(0x00);
        let response = send(t, &mut log, cmd)?;
        if let Some((answered, StatusWord::Success)) = Response::split(&response) {
            let expected = self.ssse.auth(ssse::IRK, &input, &data)?;
            if answered != expected {
                log.problem = Some(format!(
                    "INTERNAL AUTHENTICATE: the card answered {}, the IRK ({}) gives {}",
                    apdu::hex_compact(answered),
                    self.ssse.describe(),
                    apdu::hex_compact(&expected)
                ));
            }
        }
        Ok(log)
    }

    /// PIN reset at the service centre `84 24 00 01` (§5.2 step 4): the new PIN enciphered
    /// and MACed under the STK (02) session key of a fresh challenge. Needs a prior
    /// [`Psam::external_authenticate`] with the PUK key (06).
    ///
    /// # Errors
    /// [`PsamError`] without the STK, for a PIN that is not digits, or a transport failure.
    pub fn pin_reset(
        &mut self,
        t: &mut dyn Transport,
        pin: &str,
        tamper: bool,
    ) -> Result<Transcript, PsamError> {
        let bcd = pin_bcd(pin)?;
        self.ssc_command(t, ssse::STK, [0x84, 0x24, 0x00, 0x01], tamper, |c| {
            c.encrypt_data(&bcd)
        })
    }

    /// SSC-MAC'd command with no enciphered data: `84 24 00 00` (unblock), `84 1E 00 01`
    /// (application block, STK), `84 16 00 00` (card block, BK 05), or any CLA 04 write
    /// (`header` and `data` as the terminal means them; the PSAM adds Lc and the MAC under
    /// the STK).
    ///
    /// # Errors
    /// [`PsamError`] without the key or when the transport fails.
    pub fn secured(
        &mut self,
        t: &mut dyn Transport,
        key_id: u8,
        header: [u8; 4],
        data: &[u8],
        tamper: bool,
    ) -> Result<Transcript, PsamError> {
        self.ssc_command(t, key_id, header, tamper, |_| Ok(data.to_vec()))
    }

    /// GET CHALLENGE, the session key of SSSE key `key_id` from it, then `header ‖ Lc ‖
    /// data ‖ SSC MAC` where `data` may be computed under the session key (an enciphered
    /// PIN).
    fn ssc_command(
        &mut self,
        t: &mut dyn Transport,
        key_id: u8,
        header: [u8; 4],
        tamper: bool,
        data: impl FnOnce(&mut dyn Crypto) -> Result<Vec<u8>, PsamError>,
    ) -> Result<Transcript, PsamError> {
        self.ssse_key(key_id)?;
        let mut log = Transcript::default();
        let r = step!(challenge(t, &mut log, 8)?);
        self.ssse.session(key_id, &r)?;
        let data = data(self.ssse.as_mut())?;
        let ssse = self.ssse.as_mut();
        send_maced(t, log, header, &data, |s| ssse.mac(s), tamper)
    }

    /// A PBOC-MAC'd command (§5.4): a 4-byte challenge as IV, `key_id` of the financial
    /// application, `header ‖ Lc ‖ data ‖ MAC`.
    ///
    /// # Errors
    /// [`PsamError`] without the key or when the transport fails.
    pub fn pboc_secured(
        &mut self,
        t: &mut dyn Transport,
        key_id: u8,
        header: [u8; 4],
        data: &[u8],
        tamper: bool,
    ) -> Result<Transcript, PsamError> {
        let key = self.pboc_key(key_id)?.to_vec();
        let mut log = Transcript::default();
        let iv = step!(challenge(t, &mut log, 4)?);
        let mac = |s: &[u8]| Ok(sim_crypto::pboc_mac(&key, &iv, s)?);
        send_maced(t, log, header, data, mac, tamper)
    }

    /// PBOC PIN UNBLOCK `84 24 00 00` (§5.4): the current PIN enciphered with DPUK (02),
    /// PBOC MAC under DPUK.
    ///
    /// # Errors
    /// [`PsamError`] without DPUK, for a PIN that is not digits, or a transport failure.
    pub fn pboc_pin_unblock(
        &mut self,
        t: &mut dyn Transport,
        pin: &str,
        tamper: bool,
    ) -> Result<Transcript, PsamError> {
        let dpuk = self.pboc_key(pboc::DPUK)?.to_vec();
        let suite = CipherSuite::Des3.for_app(Some(AppKind::Pboc));
        let enc = sim_crypto::encrypt_data(suite, &dpuk, &pin_bcd(pin)?)?;
        self.pboc_secured(t, pboc::DPUK, [0x84, 0x24, 0x00, 0x00], &enc, tamper)
    }

    /// PBOC PIN RELOAD `80 5E 00 00` (§5.4): new PIN ‖ MAC under DPRK (03), zero IV, key
    /// left XOR right; no challenge.
    ///
    /// # Errors
    /// [`PsamError`] without DPRK, for a PIN that is not digits, or a transport failure.
    pub fn pboc_pin_reload(
        &mut self,
        t: &mut dyn Transport,
        pin: &str,
        tamper: bool,
    ) -> Result<Transcript, PsamError> {
        let dprk = self.pboc_key(pboc::DPRK)?.to_vec();
        let bcd = pin_bcd(pin)?;
        let mut mac = sim_crypto::pboc_reload_mac(&dprk, &bcd)?;
        if tamper {
            mac[0] ^= 0x01;
        }
        let lc = u8::try_from(bcd.len() + 4).map_err(|_| PsamError::DataTooLong(bcd.len()))?;
        let mut cmd = vec![0x80, 0x5E, 0x00, 0x00, lc];
        cmd.extend_from_slice(&bcd);
        cmd.extend_from_slice(&mac);
        let mut log = Transcript::default();
        send(t, &mut log, cmd)?;
        Ok(log)
    }

    /// The PKI application's VERIFY `00 20 01 ref 10` (§3.7): a 16-byte challenge
    /// enciphered under SM3(PIN BCD)[0..16].
    ///
    /// # Errors
    /// [`PsamError`] for a PIN that is not digits, or a transport failure.
    pub fn pki_verify(
        &mut self,
        t: &mut dyn Transport,
        reference: u8,
        pin: &str,
        tamper: bool,
    ) -> Result<Transcript, PsamError> {
        let bcd = pin_bcd(pin)?;
        let mut log = Transcript::default();
        let r = step!(challenge(t, &mut log, 16)?);
        let mut cryptogram = sim_crypto::pki_verify_cryptogram(&bcd, &r);
        if tamper {
            cryptogram[0] ^= 0x01;
        }
        let mut cmd = vec![0x00, 0x20, 0x01, reference, 0x10];
        cmd.extend_from_slice(&cryptogram);
        send(t, &mut log, cmd)?;
        Ok(log)
    }

    /// The PKI application's PIN change `84 5E 01 ref 14` (§3.7): GET CHALLENGE (16), then
    /// `LD ‖ new PIN in BCD ‖ 80…` SM4-ECB under SM3(old PIN BCD)[0..16] and the PKI MAC
    /// (IV = the challenge, same key).
    ///
    /// # Errors
    /// [`PsamError`] for a PIN that is not digits, or a transport failure.
    pub fn pki_change_pin(
        &mut self,
        t: &mut dyn Transport,
        reference: u8,
        old: &str,
        new: &str,
        tamper: bool,
    ) -> Result<Transcript, PsamError> {
        let (old, new) = (pin_bcd(old)?, pin_bcd(new)?);
        let mut log = Transcript::default();
        let r = step!(challenge(t, &mut log, 16)?);
        let mut cmd = applet_sim::pki::admin_pin_change(reference, &old, &new, &r);
        if tamper && let Some(last) = cmd.last_mut() {
            *last ^= 0x01;
        }
        send(t, &mut log, cmd)?;
        Ok(log)
    }
}

/// Resolved keys split into the SSSE's, the financial application's (by key id) and each
/// sub-application's (by its FID).
fn split(resolved: keys::Resolved, cipher: CipherSuite) -> Split {
    let (mut ssse, mut pboc) = (BTreeMap::new(), BTreeMap::new());
    let mut subs: BTreeMap<u16, BTreeMap<u8, Vec<u8>>> = BTreeMap::new();
    for ((app, id), value) in resolved {
        match app {
            App::Ssse => {
                ssse.insert(id, value);
            }
            App::Pboc => {
                pboc.insert(id, value);
            }
            App::Sub(df) => {
                subs.entry(df).or_default().insert(id, value);
            }
        }
    }
    let subs = subs
        .into_iter()
        .map(|(df, keys)| (df, Software::new(cipher, keys)))
        .collect();
    (ssse, pboc, subs)
}

/// The SSSE's keys, the financial application's, and each sub-application's.
type Split = (
    BTreeMap<u8, Vec<u8>>,
    BTreeMap<u8, Vec<u8>>,
    BTreeMap<u16, Software>,
);

/// `header ‖ Lc ‖ data ‖ MAC`, the MAC computed by `mac` over `header ‖ Lc ‖ data` (Lc
/// counting the MAC, §6.3).
fn mac_command(
    header: [u8; 4],
    data: &[u8],
    mac: impl FnOnce(&[u8]) -> Result<[u8; 4], PsamError>,
    tamper: bool,
) -> Result<Vec<u8>, PsamError> {
    let lc = u8::try_from(data.len() + 4).map_err(|_| PsamError::DataTooLong(data.len()))?;
    let mut cmd = header.to_vec();
    cmd.push(lc);
    cmd.extend_from_slice(data);
    let mut m = mac(&cmd)?;
    if tamper {
        m[0] ^= 0x01;
    }
    cmd.extend_from_slice(&m);
    Ok(cmd)
}

/// Sends `header ‖ Lc ‖ data ‖ MAC` ([`mac_command`]) and adds it to the transcript.
fn send_maced(
    t: &mut dyn Transport,
    mut log: Transcript,
    header: [u8; 4],
    data: &[u8],
    mac: impl FnOnce(&[u8]) -> Result<[u8; 4], PsamError>,
    tamper: bool,
) -> Result<Transcript, PsamError> {
    let cmd = mac_command(header, data, mac, tamper)?;
    send(t, &mut log, cmd)?;
    Ok(log)
}

/// GET CHALLENGE of `n` bytes: the challenge, or a stop when the card refuses.
fn challenge(
    t: &mut dyn Transport,
    log: &mut Transcript,
    n: u8,
) -> Result<Step<Vec<u8>>, PsamError> {
    let response = send(t, log, vec![0x00, 0x84, 0x00, 0x00, n])?;
    match Response::split(&response) {
        Some((data, StatusWord::Success)) if data.len() == usize::from(n) => {
            Ok(Step::Go(data.to_vec()))
        }
        _ => Ok(Step::Stop(log.clone())),
    }
}

/// Sends one command as a reader does ([`transport::exchange`]), logging every exchange in
/// the transcript; the final response (all its parts' data joined) is also its answer.
///
/// # Errors
/// [`TransportError`] when the card cannot be reached or never stops asking.
pub fn send(
    t: &mut dyn Transport,
    log: &mut Transcript,
    cmd: Vec<u8>,
) -> Result<Vec<u8>, TransportError> {
    let answer = transport::exchange(t, &cmd, &mut log.exchanges)?;
    log.answer.clone_from(&answer);
    Ok(answer)
}
