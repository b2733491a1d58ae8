//! A software PSAM: the terminal side of the issuer-security flows (SSC-CARD.md §5.2, §5.4,
//! §6, §7), from card keys or master keys with diversification factors, against any
//! transport (the in-process card or a PC/SC reader).
//!
//! Each operation is the APDU sequence a service-centre terminal sends, e.g. `pin_reset`:
//! GET CHALLENGE, then `84 24 00 01` with the new PIN enciphered and MACed under the STK
//! session key. An operation stops at the first answer that is not 9000 and reports it as its
//! answer, so a vector can expect `6A81` from a blocked card whichever command met it.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use applet_sim::crypto::{self, Factors};
use applet_sim::pin::PinValue;
use applet_sim::{AppKind, CipherSuite, Profile};
use serde::Deserialize;

use crate::transport::{Transport, TransportError};

/// Which application's key table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum App {
    /// The SSSE (SSC conventions, the card's cipher suite).
    Ssse,
    /// The financial application (PBOC conventions, 3DES).
    Pboc,
}

/// A key as given: the card key, or a master key and its diversification levels (§6.6).
#[derive(Clone, Debug, PartialEq, Eq)]
enum KeySource {
    Card(Vec<u8>),
    Master {
        master: Vec<u8>,
        levels: Vec<String>,
    },
}

/// The PSAM's keys before the card is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    cipher: CipherSuite,
    region: Option<String>,
    keys: Vec<(App, u8, KeySource)>,
}

/// A keys file (`--keys FILE`, README "Keys files").
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysToml {
    cipher: String,
    region: Option<String>,
    #[serde(default)]
    key: Vec<KeyToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyToml {
    app: String,
    id: u8,
    value: Option<String>,
    master: Option<String>,
    #[serde(default)]
    diversify: Vec<String>,
}

impl Keys {
    /// The keys a profile gives its card (the SSSE's and the financial application's), so
    /// the PSAM matches the virtual card.
    #[must_use]
    pub fn from_profile(profile: &Profile) -> Self {
        let keys = profile
            .keys
            .iter()
            .filter_map(|k| {
                let app = match profile.kind_of_df(&k.parent)? {
                    AppKind::Ssse => App::Ssse,
                    AppKind::Pboc => App::Pboc,
                    AppKind::Pki => return None,
                };
                Some((app, k.id, KeySource::Card(k.value.clone())))
            })
            .collect();
        Self {
            cipher: profile.cipher,
            region: None,
            keys,
        }
    }

    /// Reads a keys file (TOML: `cipher`, optional `region`, `[[key]]` entries with `app`
    /// (`ssse` or `pboc`), `id`, and `value` or `master` + `diversify`).
    ///
    /// # Errors
    /// An error naming the file, and the line for a syntax or field error.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read the keys file", path.display()))?;
        Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// Parses the text of a keys file.
    ///
    /// # Errors
    /// A message with the line of the problem.
    pub fn parse(text: &str) -> Result<Self, String> {
        let raw: KeysToml = toml::from_str(text).map_err(|e| e.to_string())?;
        let cipher = match raw.cipher.as_str() {
            "des3" => CipherSuite::Des3,
            "sm4" => CipherSuite::Sm4,
            "aes" => CipherSuite::Aes,
            other => {
                return Err(format!(
                    "cipher: expected \"des3\", \"sm4\" or \"aes\", found {other:?}"
                ));
            }
        };
        let mut keys = Vec::with_capacity(raw.key.len());
        for (n, k) in raw.key.iter().enumerate() {
            let at = |m: String| format!("key #{} (id {:02X}): {m}", n + 1, k.id);
            let app = match k.app.as_str() {
                "ssse" => App::Ssse,
                "pboc" => App::Pboc,
                other => {
                    return Err(at(format!(
                        "app: expected \"ssse\" or \"pboc\", found {other:?}"
                    )));
                }
            };
            let hex = |s: &str| apdu::parse_hex(s).map_err(|e| at(e.to_string()));
            let source = match (&k.value, &k.master) {
                (Some(v), None) if k.diversify.is_empty() => KeySource::Card(hex(v)?),
                (None, Some(m)) => KeySource::Master {
                    master: hex(m)?,
                    levels: k.diversify.clone(),
                },
                _ => return Err(at("give value, or master with diversify".into())),
            };
            keys.push((app, k.id, source));
        }
        Ok(Self {
            cipher,
            region: raw.region,
            keys,
        })
    }
}

/// The PSAM for one card: card keys resolved (master keys diversified with the card's ATR).
#[derive(Clone, Debug)]
pub struct Psam {
    cipher: CipherSuite,
    keys: BTreeMap<(App, u8), Vec<u8>>,
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
        self.problem.is_none() && self.response().ends_with(&[0x90, 0x00])
    }
}

/// An operation that could not be run at all (not a card's refusal).
#[derive(Debug, thiserror::Error)]
pub enum PsamError {
    /// The transport failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The PSAM lacks the key.
    #[error("the PSAM has no {0:?} key {1:02X}")]
    NoKey(App, u8),
    /// A key or an argument is unusable.
    #[error("{0}")]
    Bad(String),
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
        .map_err(|e| PsamError::Bad(e.to_string()))
}

impl Psam {
    /// Resolves `keys` for the card with this ATR.
    ///
    /// # Errors
    /// [`PsamError::Bad`] when a master key cannot be diversified.
    pub fn new(keys: &Keys, atr: &[u8]) -> Result<Self, PsamError> {
        let factors = Factors {
            region: keys.region.as_deref(),
            atr,
        };
        let mut resolved = BTreeMap::new();
        for (app, id, source) in &keys.keys {
            let cipher = match app {
                App::Ssse => keys.cipher,
                App::Pboc => CipherSuite::Des3,
            };
            let value = match source {
                KeySource::Card(v) => v.clone(),
                KeySource::Master { master, levels } => factors
                    .derive(cipher, master, levels)
                    .map_err(PsamError::Bad)?,
            };
            resolved.insert((*app, *id), value);
        }
        Ok(Self {
            cipher: keys.cipher,
            keys: resolved,
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

    fn bad<E: std::fmt::Display>(e: E) -> PsamError {
        PsamError::Bad(e.to_string())
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
        let original: [u8; 8] = original
            .try_into()
            .map_err(|_| Self::bad("short challenge"))?;
        let ks = crypto::session_key(self.cipher, &key, &r).map_err(Self::bad)?;
        let mut auth = crypto::auth_cryptogram(self.cipher, &ks, &original).map_err(Self::bad)?;
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
        let key = self.key(App::Ssse, 0x00)?.to_vec();
        let mut log = Transcript::default();
        let (input, data) = (self.random8(), self.random8());
        let mut cmd = vec![0x00, 0x88, 0x00, 0x00, 0x10];
        cmd.extend_from_slice(&input);
        cmd.extend_from_slice(&data);
        cmd.push(0x00);
        let response = send(t, &mut log, cmd)?;
        let ks = crypto::session_key(self.cipher, &key, &input).map_err(Self::bad)?;
        let expected = crypto::auth_cryptogram(self.cipher, &ks, &data).map_err(Self::bad)?;
        if response.ends_with(&[0x90, 0x00]) && response.get(..8) != Some(&expected[..]) {
            log.problem = Some(format!(
                "INTERNAL AUTHENTICATE: the card answered {}, the IRK gives {}",
                apdu::hex_compact(
                    response
                        .get(..response.len().saturating_sub(2))
                        .unwrap_or_default()
                ),
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
        self.ssc_command(t, 0x02, [0x84, 0x24, 0x00, 0x01], tamper, |ks| {
            crypto::encrypt_data(cipher, ks, &bcd).map_err(Self::bad)
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
        let ks = crypto::session_key(self.cipher, &key, &r).map_err(Self::bad)?;
        let data = data(&ks)?;
        let cmd = mac_command(
            header,
            &data,
            |s| crypto::ssc_mac(self.cipher, &ks, s).map_err(Self::bad),
            tamper,
        )?;
        send(t, &mut log, cmd)?;
        Ok(log)
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
        let cmd = mac_command(
            header,
            data,
            |s| crypto::pboc_mac(&key, &iv, s).map_err(Self::bad),
            tamper,
        )?;
        send(t, &mut log, cmd)?;
        Ok(log)
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
        let key = self.key(App::Pboc, 0x02)?.to_vec();
        let enc =
            crypto::encrypt_data(CipherSuite::Des3, &key, &pin_bcd(pin)?).map_err(Self::bad)?;
        self.pboc_secured(t, 0x02, [0x84, 0x24, 0x00, 0x00], &enc, tamper)
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
        let key = self.key(App::Pboc, 0x03)?.to_vec();
        let bcd = pin_bcd(pin)?;
        let mut mac = crypto::pboc_reload_mac(&key, &bcd).map_err(Self::bad)?;
        if tamper {
            mac[0] ^= 0x01;
        }
        let lc = u8::try_from(bcd.len() + 4).map_err(Self::bad)?;
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
    let lc = u8::try_from(data.len() + 4)
        .map_err(|_| PsamError::Bad(format!("{} bytes of data do not fit Lc", data.len())))?;
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

/// Sends one command as a reader does (§4.3): `61xx` is followed by GET RESPONSE, `6Cxx`
/// by the command again with Le = xx; every exchange is logged. Returns the final response
/// with the data of all its parts.
///
/// # Errors
/// [`TransportError`] when the card cannot be reached or never stops asking.
pub fn send(
    t: &mut dyn Transport,
    log: &mut Transcript,
    cmd: Vec<u8>,
) -> Result<Vec<u8>, TransportError> {
    let mut command = cmd;
    let mut data = Vec::new();
    for _ in 0..16 {
        let response = t.transmit(&command)?;
        log.exchanges.push((command.clone(), response.clone()));
        let Some((body, &[sw1, sw2])) = response.split_last_chunk::<2>() else {
            log.answer.clone_from(&response);
            return Ok(response);
        };
        data.extend_from_slice(body);
        match sw1 {
            0x61 => command = vec![0x00, 0xC0, 0x00, 0x00, sw2],
            0x6C => {
                if let Some(le) = command.last_mut() {
                    *le = sw2;
                }
            }
            _ => {
                data.extend_from_slice(&[sw1, sw2]);
                log.answer.clone_from(&data);
                return Ok(data);
            }
        }
    }
    Err(TransportError::Io(
        "the card kept answering 61xx/6Cxx".into(),
    ))
}

/// GET CHALLENGE of `n` bytes: the challenge, or a stop when the card refuses.
fn challenge(
    t: &mut dyn Transport,
    log: &mut Transcript,
    n: u8,
) -> Result<Step<Vec<u8>>, PsamError> {
    let response = send(t, log, vec![0x00, 0x84, 0x00, 0x00, n])?;
    match response.split_last_chunk::<2>() {
        Some((data, [0x90, 0x00])) if data.len() == usize::from(n) => Ok(Step::Go(data.to_vec())),
        _ => Ok(Step::Stop(log.clone())),
    }
}

/// A PSAM operation as vectors and the command line name it (vectors/README.md, `psam`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `ext-auth KEY`: EXTERNAL AUTHENTICATE with SSSE key KEY (hex).
    ExternalAuthenticate(u8),
    /// `int-auth`: INTERNAL AUTHENTICATE, the card's answer checked with the IRK.
    InternalAuthenticate,
    /// `pin-reset PIN`: `84 24 00 01` (after `ext-auth 06`).
    PinReset(String),
    /// `pin-unblock`: `84 24 00 00` (after `ext-auth 06`).
    PinUnblock,
    /// `secure HEX`: a CLA 04/84 command (header ‖ data, no Lc) sent with the SSC MAC under
    /// the STK session key.
    Secure([u8; 4], Vec<u8>),
    /// `block-app`: APPLICATION BLOCK `84 1E 00 01` (SSC MAC, STK).
    BlockApplication,
    /// `block-card`: CARD BLOCK `84 16 00 00` (SSC MAC, BK).
    BlockCard,
    /// `pboc-block-app temporary|permanent`: `84 1E 00 00|01` (PBOC MAC, DAMK).
    PbocBlockApplication(bool),
    /// `pboc-unblock-app`: `84 18 00 00` (PBOC MAC, DAMK).
    PbocUnblockApplication,
    /// `pboc-block-card`: `84 16 00 00` (PBOC MAC, DAMK).
    PbocBlockCard,
    /// `pboc-pin-unblock PIN`: `84 24 00 00` with the current PIN (DPUK).
    PbocPinUnblock(String),
    /// `pboc-pin-reload PIN`: `80 5E 00 00` (DPRK).
    PbocPinReload(String),
    /// `pki-verify REF PIN`: `00 20 01 REF 10` (§3.7).
    PkiVerify(u8, String),
}

/// An operation and whether its MAC or cryptogram is deliberately corrupted (`tamper`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// The operation as written (words separated by one space).
    pub text: String,
    /// What to do.
    pub operation: Operation,
    /// Flip a bit of the final MAC or cryptogram.
    pub tamper: bool,
}

/// The operation names, for error messages.
pub const OPERATIONS: &str = "ext-auth KEY, int-auth, pin-reset PIN, pin-unblock, secure HEX, \
block-app, block-card, pboc-block-app temporary|permanent, pboc-unblock-app, pboc-block-card, \
pboc-pin-unblock PIN, pboc-pin-reload PIN, pki-verify REF PIN (each optionally followed by tamper)";

impl Op {
    /// Parses `NAME ARGS... [tamper]`.
    ///
    /// # Errors
    /// A message saying what was expected.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut words: Vec<&str> = text.split_whitespace().collect();
        let tamper = words.last() == Some(&"tamper");
        if tamper {
            words.pop();
        }
        let byte = |w: &str| {
            u8::from_str_radix(w, 16).map_err(|_| format!("expected a hex byte, found {w:?}"))
        };
        let digits = |w: &str| {
            PinValue::from_digits(w)
                .map(|_| w.to_owned())
                .map_err(|e| format!("expected a PIN: {e}"))
        };
        let operation = match words.as_slice() {
            ["ext-auth", key] => Operation::ExternalAuthenticate(byte(key)?),
            ["int-auth"] => Operation::InternalAuthenticate,
            ["pin-reset", pin] => Operation::PinReset(digits(pin)?),
            ["pin-unblock"] => Operation::PinUnblock,
            ["secure", hex @ ..] if !hex.is_empty() => {
                let bytes = apdu::parse_hex(&hex.concat()).map_err(|e| e.to_string())?;
                let (header, data) = bytes
                    .split_first_chunk::<4>()
                    .ok_or("secure: expected CLA INS P1 P2 and the data")?;
                Operation::Secure(*header, data.to_vec())
            }
            ["block-app"] => Operation::BlockApplication,
            ["block-card"] => Operation::BlockCard,
            ["pboc-block-app", "temporary"] => Operation::PbocBlockApplication(false),
            ["pboc-block-app", "permanent"] => Operation::PbocBlockApplication(true),
            ["pboc-unblock-app"] => Operation::PbocUnblockApplication,
            ["pboc-block-card"] => Operation::PbocBlockCard,
            ["pboc-pin-unblock", pin] => Operation::PbocPinUnblock(digits(pin)?),
            ["pboc-pin-reload", pin] => Operation::PbocPinReload(digits(pin)?),
            ["pki-verify", reference, pin] => Operation::PkiVerify(byte(reference)?, digits(pin)?),
            _ => return Err(format!("expected one of: {OPERATIONS}")),
        };
        let mut text = words.join(" ");
        if tamper {
            text.push_str(" tamper");
        }
        Ok(Self {
            text,
            operation,
            tamper,
        })
    }

    /// Runs the operation.
    ///
    /// # Errors
    /// [`PsamError`] when the PSAM lacks a key or the transport fails.
    pub fn run(&self, psam: &mut Psam, t: &mut dyn Transport) -> Result<Transcript, PsamError> {
        /// Card key ids (§6.7) and the financial application's (card/pboc.rs).
        const STK: u8 = 0x02;
        const BK: u8 = 0x05;
        const DAMK: u8 = 0x01;
        let tamper = self.tamper;
        match &self.operation {
            Operation::ExternalAuthenticate(key) => psam.external_authenticate(t, *key, tamper),
            Operation::InternalAuthenticate => psam.internal_authenticate(t),
            Operation::PinReset(pin) => psam.pin_reset(t, pin, tamper),
            Operation::PinUnblock => psam.secured(t, STK, [0x84, 0x24, 0x00, 0x00], &[], tamper),
            Operation::Secure(header, data) => psam.secured(t, STK, *header, data, tamper),
            Operation::BlockApplication => {
                psam.secured(t, STK, [0x84, 0x1E, 0x00, 0x01], &[], tamper)
            }
            Operation::BlockCard => psam.secured(t, BK, [0x84, 0x16, 0x00, 0x00], &[], tamper),
            Operation::PbocBlockApplication(permanent) => psam.pboc_secured(
                t,
                DAMK,
                [0x84, 0x1E, 0x00, u8::from(*permanent)],
                &[],
                tamper,
            ),
            Operation::PbocUnblockApplication => {
                psam.pboc_secured(t, DAMK, [0x84, 0x18, 0x00, 0x00], &[], tamper)
            }
            Operation::PbocBlockCard => {
                psam.pboc_secured(t, DAMK, [0x84, 0x16, 0x00, 0x00], &[], tamper)
            }
            Operation::PbocPinUnblock(pin) => psam.pboc_pin_unblock(t, pin, tamper),
            Operation::PbocPinReload(pin) => psam.pboc_pin_reload(t, pin, tamper),
            Operation::PkiVerify(reference, pin) => psam.pki_verify(t, *reference, pin, tamper),
        }
    }
}
