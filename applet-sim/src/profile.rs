//! Card profiles: a TOML file describing one card (ATR, protocol, applications, files, PIN
//! objects), validated into a [`Profile`] that [`crate::Card::new`] builds a card from.
//!
//! Unknown keys are refused, and every error names the file, the line and the column.
//! Built-in profiles are embedded in the binary ([`Profile::builtin`]).

use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::access::Access;
use crate::pin::{PinEncoding, PinValue};

/// The built-in profiles: (name, TOML text).
pub const BUILTIN: [(&str, &str); 2] = [
    ("gen3", include_str!("../profiles/gen3.toml")),
    ("gen2", include_str!("../profiles/gen2.toml")),
];

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "gen3";

/// A profile that cannot be used, with where and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location(source_name, *line, *column))]
pub struct ProfileError {
    /// The file name, or `builtin:NAME`.
    pub source_name: String,
    /// 1-based line (0 when the error is about the whole file).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// `file:line:column: `, or `file: ` when there is no line.
fn location(source: &str, line: usize, column: usize) -> String {
    if line == 0 {
        format!("{source}: ")
    } else {
        format!("{source}:{line}:{column}: ")
    }
}

/// The transmission protocol whose procedure bytes the card emulates (SSC-CARD.md §2, §4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// T=0: the card answers `61xx` for data it holds and `6Cxx` for a wrong Le.
    T0,
    /// T=1: data is returned with the answer.
    T1,
}

/// The block cipher of the card's keys (SSC-CARD.md §6.1): the FCI algorithm flag says which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CipherSuite {
    /// DES / 3DES with double-length keys, 8-byte blocks (second generation, flag 01).
    Des3,
    /// SM4, 16-byte blocks (third generation, flag 03).
    Sm4,
    /// AES-128 with the SM4 scheme (an option; not in the SSC spec).
    Aes,
}

/// Which command set an application answers (SSC-CARD.md §4.1, §3.6, §3.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppKind {
    /// The SSSE and its sub-DFs: SSC Part 5 commands (CHANGE PIN `80 5E`, no `00 24`/`00 2C`).
    Ssse,
    /// The financial (PBOC / UnionPay) application: PBOC conventions.
    Pboc,
    /// The third-generation PKI application: ISO-style PINs with a PUK (`00 24`, `00 2C`).
    Pki,
}

/// How a blocked PIN is unblocked (SSC-CARD.md §5.2, §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unblock {
    /// Not at all.
    Never,
    /// At the service centre, with the issuer's PUK key (external authentication with key 06
    /// and `84 24`; the issuer-security issue).
    IssuerKey,
    /// With a PUK object of the same application, by reference (RESET RETRY COUNTER).
    Puk(u8),
}

/// A card key (SSC-CARD.md §6.7): id, value, try counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyDef {
    /// The DF (application) that holds the key.
    pub parent: String,
    /// Card key id (EXTERNAL AUTHENTICATE P2).
    pub id: u8,
    /// Key version (group).
    pub version: u8,
    /// The card key: 8 or 16 bytes (given, or derived from a master key, §6.6).
    pub value: Vec<u8>,
    /// Tries after a success (and initially).
    pub max_tries: u8,
}

/// Options that change behaviour the spec leaves open.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Options {
    /// Seed for GET CHALLENGE, for reproducible vectors; random when absent.
    pub challenge_seed: Option<u64>,
}

/// How an EF holds its data (ISO 7816-4 §5.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Structure {
    /// A byte string read with READ BINARY.
    Transparent,
    /// Linear records of variable length.
    Linear,
    /// Cyclic records: the newest is record 1.
    Cyclic,
}

/// A DF (an application or a sub-directory) as the profile declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DfDef {
    /// The label other entries name as `parent`.
    pub id: String,
    /// The parent's label (`MF` for a top-level application).
    pub parent: String,
    /// File identifier, if the DF can be selected by FID.
    pub fid: Option<u16>,
    /// DF name / AID, if the DF can be selected by name.
    pub name: Option<Vec<u8>>,
    /// The FCI answered on SELECT, built from `dir_sfi` and `algorithm` unless given whole.
    pub fci: Option<Vec<u8>>,
    /// The command set, for an application DF directly under the MF.
    pub kind: Option<AppKind>,
}

/// An EF as the profile declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EfDef {
    /// The parent DF's label.
    pub parent: String,
    /// File identifier.
    pub fid: u16,
    /// Short file identifier (1..=30).
    pub sfi: Option<u8>,
    /// Structure.
    pub structure: Structure,
    /// Transparent: size in bytes; record files: the maximum number of records.
    pub capacity: usize,
    /// Record files: the longest record accepted by UPDATE/APPEND RECORD.
    pub record_size: usize,
    /// Read access condition.
    pub read: Access,
    /// Update access condition.
    pub update: Access,
    /// Transparent contents (zero-filled to the size).
    pub data: Vec<u8>,
    /// Records, record 1 first.
    pub records: Vec<Vec<u8>>,
}

/// A PIN object as the profile declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinDef {
    /// The DF (application) that owns the PIN.
    pub parent: String,
    /// The reference (VERIFY P2).
    pub reference: u8,
    /// How the PIN is encoded in commands.
    pub encoding: PinEncoding,
    /// Fewest digits accepted.
    pub min_digits: u8,
    /// Most digits accepted.
    pub max_digits: u8,
    /// The initial value.
    pub value: PinValue,
    /// Tries after a success (and initially).
    pub max_tries: u8,
    /// How it is unblocked when blocked.
    pub unblock: Unblock,
}

/// A validated card profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Where it came from: a path or `builtin:NAME`.
    pub source_name: String,
    /// One line saying what card this is.
    pub description: String,
    /// The answer to reset.
    pub atr: Vec<u8>,
    /// The protocol whose procedure statuses the card answers.
    pub protocol: Protocol,
    /// The cipher of the card's keys.
    pub cipher: CipherSuite,
    /// Behaviour options.
    pub options: Options,
    /// DFs in declaration order (parents before children).
    pub dfs: Vec<DfDef>,
    /// EFs in declaration order.
    pub efs: Vec<EfDef>,
    /// PIN objects.
    pub pins: Vec<PinDef>,
    /// Card keys.
    pub keys: Vec<KeyDef>,
}

// --- The TOML shape -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileToml {
    card: CardToml,
    #[serde(default)]
    df: Vec<Spanned<DfToml>>,
    #[serde(default)]
    ef: Vec<Spanned<EfToml>>,
    #[serde(default)]
    pin: Vec<Spanned<PinToml>>,
    #[serde(default)]
    key: Vec<Spanned<KeyToml>>,
    #[serde(default)]
    options: OptionsToml,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OptionsToml {
    challenge_seed: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardToml {
    description: String,
    region: Option<String>,
    atr: Spanned<String>,
    protocol: Spanned<String>,
    cipher: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DfToml {
    id: String,
    parent: String,
    fid: Option<String>,
    name: Option<String>,
    dir_sfi: Option<u8>,
    algorithm: Option<u8>,
    fci: Option<String>,
    kind: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EfToml {
    parent: String,
    fid: String,
    sfi: Option<u8>,
    structure: String,
    size: Option<usize>,
    max_records: Option<usize>,
    record_size: Option<usize>,
    read: String,
    update: String,
    data: Option<String>,
    #[serde(default)]
    records: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PinToml {
    parent: String,
    reference: u8,
    encoding: String,
    min_digits: u8,
    max_digits: u8,
    value: String,
    max_tries: u8,
    unblock: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyToml {
    parent: String,
    id: u8,
    #[serde(default)]
    version: u8,
    value: Option<String>,
    master: Option<String>,
    #[serde(default)]
    diversify: Vec<String>,
    #[serde(default = "default_key_tries")]
    max_tries: u8,
}

fn default_key_tries() -> u8 {
    3
}

// --- Loading --------------------------------------------------------------------------------

impl Profile {
    /// A built-in profile by name.
    ///
    /// # Errors
    /// [`ProfileError`] for an unknown name (or a broken built-in, which a test rules out).
    pub fn builtin(name: &str) -> Result<Self, ProfileError> {
        let text = builtin_text(name).ok_or_else(|| ProfileError {
            source_name: name.to_owned(),
            line: 0,
            column: 0,
            message: format!(
                "no built-in profile {name:?} (built-in: {})",
                BUILTIN.map(|(n, _)| n).join(", ")
            ),
        })?;
        Self::parse(text, &format!("builtin:{name}"))
    }

    /// A profile from a built-in name or, if no built-in has that name, a file path.
    ///
    /// # Errors
    /// [`ProfileError`] naming the file (unreadable, or what is wrong and where).
    pub fn load(name_or_path: &str) -> Result<Self, ProfileError> {
        if builtin_text(name_or_path).is_some() {
            return Self::builtin(name_or_path);
        }
        let path = Path::new(name_or_path);
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError {
            source_name: name_or_path.to_owned(),
            line: 0,
            column: 0,
            message: if e.kind() == std::io::ErrorKind::NotFound
                && !name_or_path.contains(['/', '.'])
            {
                format!(
                    "no built-in profile {name_or_path:?} and no such file (built-in: {})",
                    BUILTIN.map(|(n, _)| n).join(", ")
                )
            } else {
                format!("cannot read profile: {e}")
            },
        })?;
        Self::parse(&text, name_or_path)
    }

    /// Parses and validates profile text; `source_name` is used in errors.
    ///
    /// # Errors
    /// [`ProfileError`] with line and column of the offending entry.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, ProfileError> {
        let at = |span: Range<usize>, message: String| {
            let (line, column) = line_col(text, span.start);
            ProfileError {
                source_name: source_name.to_owned(),
                line,
                column,
                message,
            }
        };
        let raw: ProfileToml = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            at(span, e.message().trim().to_owned())
        })?;

        let atr =
            hex_field(raw.card.atr.get_ref(), "atr").map_err(|m| at(raw.card.atr.span(), m))?;
        if !(2..=33).contains(&atr.len()) || atr.first() != Some(&0x3B) {
            return Err(at(
                raw.card.atr.span(),
                "atr: an ATR is 2..=33 bytes starting with 3B (direct convention)".into(),
            ));
        }
        let protocol = match raw.card.protocol.get_ref().as_str() {
            "T=0" => Protocol::T0,
            "T=1" => Protocol::T1,
            other => {
                return Err(at(
                    raw.card.protocol.span(),
                    format!("protocol: expected \"T=0\" or \"T=1\", found {other:?}"),
                ));
            }
        };

        let cipher = match raw.card.cipher.get_ref().as_str() {
            "des3" => CipherSuite::Des3,
            "sm4" => CipherSuite::Sm4,
            "aes" => CipherSuite::Aes,
            other => {
                return Err(at(
                    raw.card.cipher.span(),
                    format!("cipher: expected \"des3\", \"sm4\" or \"aes\", found {other:?}"),
                ));
            }
        };

        let mut dfs: Vec<DfDef> = Vec::with_capacity(raw.df.len());
        for entry in &raw.df {
            let df = df_def(entry.get_ref(), &dfs).map_err(|m| at(entry.span(), m))?;
            dfs.push(df);
        }
        let mut efs: Vec<EfDef> = Vec::with_capacity(raw.ef.len());
        for entry in &raw.ef {
            let ef = ef_def(entry.get_ref(), &dfs, &efs).map_err(|m| at(entry.span(), m))?;
            efs.push(ef);
        }
        if let Some(extra) = raw.pin.get(64) {
            return Err(at(extra.span(), "at most 64 PIN objects".into()));
        }
        let mut pins: Vec<PinDef> = Vec::with_capacity(raw.pin.len());
        for entry in &raw.pin {
            let pin = pin_def(entry.get_ref(), &dfs, &pins).map_err(|m| at(entry.span(), m))?;
            pins.push(pin);
        }
        for (entry, pin) in raw.pin.iter().zip(&pins) {
            if let Unblock::Puk(r) = pin.unblock
                && !pins
                    .iter()
                    .any(|p| p.parent == pin.parent && p.reference == r)
            {
                return Err(at(
                    entry.span(),
                    format!(
                        "unblock: no PIN with reference {r:02X} in {} to act as PUK",
                        pin.parent
                    ),
                ));
            }
        }
        let mut keys: Vec<KeyDef> = Vec::with_capacity(raw.key.len());
        let factors = crate::crypto::Factors {
            region: raw.card.region.as_deref(),
            atr: &atr,
        };
        for entry in &raw.key {
            let key = key_def(entry.get_ref(), &dfs, &keys, cipher, &factors)
                .map_err(|m| at(entry.span(), m))?;
            keys.push(key);
        }
        Ok(Self {
            source_name: source_name.to_owned(),
            description: raw.card.description,
            atr,
            protocol,
            cipher,
            options: Options {
                challenge_seed: raw.options.challenge_seed,
            },
            dfs,
            efs,
            pins,
            keys,
        })
    }
}

impl Profile {
    /// The application kind of the DF labelled `label` (its own or its nearest ancestor's).
    #[must_use]
    pub fn kind_of_df(&self, label: &str) -> Option<AppKind> {
        kind_in(&self.dfs, label)
    }
}

/// The text of a built-in profile.
#[must_use]
pub fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Hex as in the profiles: spaces anywhere, and `BB*N` for N repetitions of byte BB.
fn hex_field(value: &str, field: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut plain = String::new();
    for token in value.split_whitespace() {
        if let Some((byte, count)) = token.split_once('*') {
            out.extend(apdu::parse_hex(&plain).map_err(|e| format!("{field}: {e}"))?);
            plain.clear();
            let byte = match apdu::parse_hex(byte).as_deref() {
                Ok([b]) => *b,
                _ => {
                    return Err(format!(
                        "{field}: {token:?}: expected BB*N, BB one hex byte"
                    ));
                }
            };
            let count: usize = count
                .parse()
                .ok()
                .filter(|n| *n <= 0x10000)
                .ok_or_else(|| {
                    format!("{field}: {token:?}: expected BB*N, N a decimal count up to 65536")
                })?;
            out.extend(std::iter::repeat_n(byte, count));
        } else {
            plain.push_str(token);
        }
    }
    out.extend(apdu::parse_hex(&plain).map_err(|e| format!("{field}: {e}"))?);
    Ok(out)
}

fn fid_field(value: &str, field: &str) -> Result<u16, String> {
    match hex_field(value, field)?.as_slice() {
        [hi, lo] => Ok(u16::from_be_bytes([*hi, *lo])),
        other => Err(format!(
            "{field}: a file identifier is 2 bytes, found {}",
            other.len()
        )),
    }
}

fn known_parent(parent: &str, dfs: &[DfDef]) -> Result<(), String> {
    if parent == "MF" || dfs.iter().any(|d| d.id == parent) {
        Ok(())
    } else {
        Err(format!(
            "parent {parent:?} is not MF or a DF declared above"
        ))
    }
}

fn df_def(t: &DfToml, dfs: &[DfDef]) -> Result<DfDef, String> {
    if t.id == "MF" || dfs.iter().any(|d| d.id == t.id) {
        return Err(format!("df id {:?} is already used", t.id));
    }
    known_parent(&t.parent, dfs)?;
    let fid = t.fid.as_deref().map(|f| fid_field(f, "fid")).transpose()?;
    if matches!(fid, Some(0x3F00 | 0x3FFF | 0xFFFF)) {
        return Err("fid: 3F00, 3FFF and FFFF are reserved (ISO 7816-4 §5.3.1.1)".into());
    }
    let name = t
        .name
        .as_deref()
        .map(|n| hex_field(n, "name"))
        .transpose()?;
    if let Some(n) = &name
        && !(1..=16).contains(&n.len())
    {
        return Err(format!(
            "name: a DF name is 1..=16 bytes, found {}",
            n.len()
        ));
    }
    if fid.is_none() && name.is_none() {
        return Err("a DF needs a fid, a name, or both".into());
    }
    let fci = match (&t.fci, &name) {
        (Some(_), _) if t.dir_sfi.is_some() || t.algorithm.is_some() => {
            return Err("give either fci or dir_sfi/algorithm, not both".into());
        }
        (Some(f), _) => Some(hex_field(f, "fci")?),
        (None, Some(n)) => Some(crate::fs::build_fci(n, t.dir_sfi, t.algorithm)),
        (None, None) => None,
    };
    let kind = match t.kind.as_deref() {
        None => None,
        Some("ssse") => Some(AppKind::Ssse),
        Some("pboc") => Some(AppKind::Pboc),
        Some("pki") => Some(AppKind::Pki),
        Some(other) => {
            return Err(format!(
                "kind: expected \"ssse\", \"pboc\" or \"pki\", found {other:?}"
            ));
        }
    };
    if kind.is_some() && t.parent != "MF" {
        return Err("kind: only an application directly under the MF has a kind".into());
    }
    Ok(DfDef {
        id: t.id.clone(),
        parent: t.parent.clone(),
        fid,
        name,
        fci,
        kind,
    })
}

fn ef_def(t: &EfToml, dfs: &[DfDef], efs: &[EfDef]) -> Result<EfDef, String> {
    known_parent(&t.parent, dfs)?;
    let fid = fid_field(&t.fid, "fid")?;
    if matches!(fid, 0x3F00 | 0x3FFF | 0xFFFF) {
        return Err("fid: 3F00, 3FFF and FFFF are reserved (ISO 7816-4 §5.3.1.1)".into());
    }
    let siblings = || efs.iter().filter(|e| e.parent == t.parent);
    if siblings().any(|e| e.fid == fid)
        || dfs
            .iter()
            .any(|d| d.parent == t.parent && d.fid == Some(fid))
    {
        return Err(format!("fid {fid:04X} is used twice in {}", t.parent));
    }
    if let Some(sfi) = t.sfi {
        if !(1..=30).contains(&sfi) {
            return Err(format!("sfi: must be 1..=30, found {sfi}"));
        }
        if siblings().any(|e| e.sfi == Some(sfi)) {
            return Err(format!("sfi {sfi} is used twice in {}", t.parent));
        }
    }
    let structure = match t.structure.as_str() {
        "transparent" => Structure::Transparent,
        "linear" => Structure::Linear,
        "cyclic" => Structure::Cyclic,
        other => {
            return Err(format!(
                "structure: expected \"transparent\", \"linear\" or \"cyclic\", found {other:?}"
            ));
        }
    };
    let read = t.read.parse::<Access>().map_err(|e| format!("read: {e}"))?;
    let update = t
        .update
        .parse::<Access>()
        .map_err(|e| format!("update: {e}"))?;
    let (capacity, data, records) = match structure {
        Structure::Transparent => {
            if !t.records.is_empty() || t.max_records.is_some() || t.record_size.is_some() {
                return Err("a transparent EF has size and data, not records".into());
            }
            let size = t.size.ok_or("a transparent EF needs a size")?;
            if size > 0x7FFF {
                return Err(format!(
                    "size: at most 32767 bytes (15-bit offsets), found {size}"
                ));
            }
            let mut data = t
                .data
                .as_deref()
                .map(|d| hex_field(d, "data"))
                .transpose()?
                .unwrap_or_default();
            if data.len() > size {
                return Err(format!(
                    "data: {} bytes do not fit in size {size}",
                    data.len()
                ));
            }
            data.resize(size, 0);
            (size, data, Vec::new())
        }
        Structure::Linear | Structure::Cyclic => {
            if t.data.is_some() || t.size.is_some() {
                return Err("a record EF has max_records and records, not size or data".into());
            }
            let max = t.max_records.ok_or("a record EF needs max_records")?;
            if !(1..=254).contains(&max) {
                return Err(format!("max_records: must be 1..=254, found {max}"));
            }
            let records = t
                .records
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let bytes = hex_field(r, &format!("records[{i}]"))?;
                    if bytes.is_empty() || bytes.len() > 255 {
                        return Err(format!("records[{i}]: a record is 1..=255 bytes"));
                    }
                    Ok(bytes)
                })
                .collect::<Result<Vec<_>, String>>()?;
            if records.len() > max {
                return Err(format!(
                    "{} records exceed max_records {max}",
                    records.len()
                ));
            }
            (max, Vec::new(), records)
        }
    };
    Ok(EfDef {
        parent: t.parent.clone(),
        fid,
        sfi: t.sfi,
        structure,
        capacity,
        record_size: t.record_size.unwrap_or(255),
        read,
        update,
        data,
        records,
    })
}

fn pin_def(t: &PinToml, dfs: &[DfDef], pins: &[PinDef]) -> Result<PinDef, String> {
    known_parent(&t.parent, dfs)?;
    if pins
        .iter()
        .any(|p| p.parent == t.parent && p.reference == t.reference)
    {
        return Err(format!(
            "PIN reference {:02X} is used twice in {}",
            t.reference, t.parent
        ));
    }
    let encoding = t.encoding.parse::<PinEncoding>()?;
    if t.min_digits == 0 || t.min_digits > t.max_digits || t.max_digits > encoding.max_digits() {
        return Err(format!(
            "digits: need 1 <= min_digits <= max_digits <= {} for {:?}",
            encoding.max_digits(),
            t.encoding
        ));
    }
    let value = PinValue::from_digits(&t.value).map_err(|e| format!("value: {e}"))?;
    if !(t.min_digits..=t.max_digits).contains(&value.len()) {
        return Err(format!(
            "value: {} digits, outside {}..={}",
            value.len(),
            t.min_digits,
            t.max_digits
        ));
    }
    if !(1..=15).contains(&t.max_tries) {
        return Err(format!(
            "max_tries: must be 1..=15 (63Cx), found {}",
            t.max_tries
        ));
    }
    let unblock = match t.unblock.as_str() {
        "never" => Unblock::Never,
        "issuer-key" => Unblock::IssuerKey,
        u => match u.strip_prefix("puk:").map(|r| u8::from_str_radix(r, 16)) {
            Some(Ok(r)) if r != t.reference => Unblock::Puk(r),
            _ => {
                return Err(format!(
                    "unblock: expected \"never\", \"issuer-key\" or \"puk:XX\" (another PIN's reference, hex), found {u:?}"
                ));
            }
        },
    };
    Ok(PinDef {
        parent: t.parent.clone(),
        reference: t.reference,
        encoding,
        min_digits: t.min_digits,
        max_digits: t.max_digits,
        value,
        max_tries: t.max_tries,
        unblock,
    })
}

/// The application kind a DF belongs to (its own or its nearest ancestor's).
fn kind_in<'a>(dfs: &'a [DfDef], mut label: &'a str) -> Option<AppKind> {
    for _ in 0..=dfs.len() {
        let df = dfs.iter().find(|d| d.id == label)?;
        if df.kind.is_some() {
            return df.kind;
        }
        label = &df.parent;
    }
    None
}

fn key_def(
    t: &KeyToml,
    dfs: &[DfDef],
    keys: &[KeyDef],
    card_cipher: CipherSuite,
    factors: &crate::crypto::Factors<'_>,
) -> Result<KeyDef, String> {
    // The financial application's keys are 3DES whatever the card's suite (§5.4).
    let cipher = if kind_in(dfs, &t.parent) == Some(AppKind::Pboc) {
        CipherSuite::Des3
    } else {
        card_cipher
    };
    known_parent(&t.parent, dfs)?;
    if keys
        .iter()
        .any(|k| k.parent == t.parent && k.id == t.id && k.version == t.version)
    {
        return Err(format!(
            "key {:02X} version {} is declared twice in {}",
            t.id, t.version, t.parent
        ));
    }
    let value = match (&t.value, &t.master) {
        (Some(v), None) if t.diversify.is_empty() => hex_field(v, "value")?,
        (Some(_), None) => return Err("diversify: goes with master, not value".into()),
        (None, Some(m)) => factors.derive(cipher, &hex_field(m, "master")?, &t.diversify)?,
        _ => return Err("give either value (the card key) or master (and diversify)".into()),
    };
    let ok = match cipher {
        CipherSuite::Des3 => matches!(value.len(), 8 | 16),
        CipherSuite::Sm4 | CipherSuite::Aes => value.len() == 16,
    };
    if !ok {
        return Err(format!(
            "value: {} bytes is not a key for {cipher:?} (DES: 8 or 16, SM4/AES: 16)",
            value.len()
        ));
    }
    if !(1..=15).contains(&t.max_tries) {
        return Err(format!(
            "max_tries: must be 1..=15 (63Cx), found {}",
            t.max_tries
        ));
    }
    Ok(KeyDef {
        parent: t.parent.clone(),
        id: t.id,
        version: t.version,
        value,
        max_tries: t.max_tries,
    })
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::T0 => "T=0",
            Self::T1 => "T=1",
        })
    }
}
