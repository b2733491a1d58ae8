//! A software PSAM: the terminal side of the issuer-security flows (docs/CARD.md §5.2, §5.4,
//! §6, §7), from card keys or master keys with diversification factors ([`keys`]), against
//! any transport (the in-process card or a PC/SC reader); [`op`] names the operations as
//! vectors and the command line write them.
//!
//! Each operation is the APDU sequence a service-centre terminal sends, e.g. `pin_reset`:
//! GET CHALLENGE, then `84 24 00 01` with the new PIN enciphered and MACed under the STK
//! session key. An operation stops at the first answer that is not 9000 and reports it as its
//! answer, so a vector can expect `6A81` from a blocked card whichever command met it.

use apdu::{Response, StatusWord};
use applet_sim::crypto::{self, DiversifyError, KeyLengthError};
use applet_sim::model::{AppKind, CipherSuite, PinTextError, PinValue};

use crate::transport::{self, Transport, TransportError};
use applet_sim::model::keys::{pboc, ssse};

pub mod keys;
pub mod op;

pub use self::keys::{App, Keys, KeysError, KeysFileError, MAX_KEYS_BYTES};
pub use self::op::{OPERATIONS, Op, Operation};

/// The PSAM for one card: card keys resolved (master keys diversified with the card's ATR).
#[derive(Clone, Debug)]
pub struct Psam {
    cipher: CipherSuite,
    keys: keys::Resolved,
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
    /// Resolves `keys` for the card with this ATR.
    ///
    /// # Errors
    /// [`PsamError::Diversify`] when a master key cannot be diversified.
    pub fn new(keys: &Keys, atr: &[u8]) -> Result<Self, PsamError> {
        Ok(Self {
            cipher: keys.cipher(),
            keys: keys.resolve(atr).map_err(PsamError::Diversify)?,
            random: 0x5053_414D_0000_0001,
        })
    }

    fn key(&self, app: App, id: u8) -> Result<&[u8], PsamError> {
        self.keys
            .get(&(app, id))
            .map(Vec::as_slice)
            .ok_or(PsamError::NoKey(app, id))
    }

    /// A terminal random (SplitMix64; freshness, not secrecy, is what the card needs).
    fn random8(&mut self) -> [u8; 8] {
        self.random = self.random.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.random;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)).to_be_bytes()
    }

    /// EXTERNAL AUTHENTICATE with SSSE key `id` (§6.5, §7.1): a challenge as the original
    /// data, a second as the session-key input, then `00 82 00 id 10 auth ‖ original`.
    /// `tamper` flips a bit of the cryptogram (for failure-path vectors).
    ///
    /// # Errors
    /// [`PsamError`] without the key or when the transport fails.
    pub fn external_authenticate(
        &mut self,
        t: &mut dyn Transport,
        id: u8,
        tamper: bool,
    ) -> Result<Transcript, PsamError> {
        let key = self.key(App::Ssse, id)?.to_vec();
        let mut log = Transcript::default();
        let original = step!(challenge(t, &mut log, 8)?);
        let r = step!(challenge(t, &mut log, 8)?);
        let original: [u8; 8] = original.try_into().map_err(|_| PsamError::ShortChallenge)?;
        let ks = crypto::session_key(self.cipher, &key, &r)?;
        let mut auth = crypto::auth_cryptogram(self.cipher, &ks, &original)?;
        if tamper {
            auth[0] ^= 0x01;
        }
        let mut cmd = vec![0x00, 0x82, 0x00, id, 0x10];
        cmd.extend_from_slice(&auth);
        cmd.extend_from_slice(&original);
        send(t, &mut log, cmd)?;
        Ok(log)
    }

    /// INTERNAL AUTHENTICATE (§6.5): two terminal randoms; the card's cryptogram is checked
    /// against the IRK (00). A wrong one is the transcript's `problem`.
    ///
    /// # Errors
    /// [`PsamError`] without the IRK or when the transport fails.
    pub fn internal_authenticate(
        &mut self,
        t: &mut dyn Transport,
    ) -> Result<Transcript, PsamError> {
        let key = self.key(App::Ssse, ssse::IRK)?.to_vec();
        let mut log = Transcript::default();
        let (input, data) = (self.random8(), self.random8());
        let mut cmd = vec![0x00, 0x88, 0x00, 0x00, 0x10];
        cmd.extend_from_slice(&input);
        cmd.extend_from_slice(&data);
        cmd.push(0x00);
        let response = send(t, &mut log, cmd)?;
        let ks = crypto::session_key(self.cipher, &key, &input)?;
        let expected = crypto::auth_cryptogram(self.cipher, &ks, &data)?;
        if let Some((answered, StatusWord::Success)) = Response::split(&response)
            && response.get(..8) != Some(&expected[..])
        {
            log.problem = Some(format!(
                "INTERNAL AUTHENTICATE: the card answered {}, the IRK gives {}",
                apdu::hex_compact(answered),
                apdu::hex_compact(&expected)
            ));
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
        let cipher = self.cipher;
        self.ssc_command(t, ssse::STK, [0x84, 0x24, 0x00, 0x01], tamper, |ks| {
            Ok(crypto::encrypt_data(cipher, ks, &bcd)?)
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
    /// data ‖ SSC MAC` where `data` may depend on the session key (an enciphered PIN).
    fn ssc_command(
        &mut self,
        t: &mut dyn Transport,
        key_id: u8,
        header: [u8; 4],
        tamper: bool,
        data: impl FnOnce(&[u8]) -> Result<Vec<u8>, PsamError>,
    ) -> Result<Transcript, PsamError> {
        let key = self.key(App::Ssse, key_id)?.to_vec();
        let mut log = Transcript::default();
        let r = step!(challenge(t, &mut log, 8)?);
        let ks = crypto::session_key(self.cipher, &key, &r)?;
        let data = data(&ks)?;
        let mac = |s: &[u8]| Ok(crypto::ssc_mac(self.cipher, &ks, s)?);
        send_maced(t, log, header, &data, mac, tamper)
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
        let key = self.key(App::Pboc, key_id)?.to_vec();
        let mut log = Transcript::default();
        let iv = step!(challenge(t, &mut log, 4)?);
        let mac = |s: &[u8]| Ok(crypto::pboc_mac(&key, &iv, s)?);
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
        let dpuk = self.key(App::Pboc, pboc::DPUK)?.to_vec();
        let suite = self.cipher.for_app(Some(AppKind::Pboc));
        let enc = crypto::encrypt_data(suite, &dpuk, &pin_bcd(pin)?)?;
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
        let dprk = self.key(App::Pboc, pboc::DPRK)?.to_vec();
        let bcd = pin_bcd(pin)?;
        let mut mac = crypto::pboc_reload_mac(&dprk, &bcd)?;
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
        let mut cryptogram = crypto::pki_verify_cryptogram(&bcd, &r);
        if tamper {
            cryptogram[0] ^= 0x01;
        }
        let mut cmd = vec![0x00, 0x20, 0x01, reference, 0x10];
        cmd.extend_from_slice(&cryptogram);
        send(t, &mut log, cmd)?;
        Ok(log)
    }
}

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
