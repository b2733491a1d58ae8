//! From the TOML shape to a validated [`Profile`]: every field checked, every error placed at
//! its entry's line and column.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::error::{Placer, ProfileError};
use toml::Spanned;

use super::schema::{
    CardToml, DfToml, EfToml, KeyToml, PinToml, ProfileToml, PurseKeyToml, PurseToml,
};
use super::{DfDef, EfDef, KeyDef, MAX_CARD_BYTES, MAX_FILES, Options, PinDef, Profile};
use crate::model::{
    Access, AppKind, CipherSuite, EfControl, PinEncoding, PinValue, Protocol, Structure, Unblock,
};

/// Parses and validates profile text; `source_name` is used in errors.
///
/// # Errors
/// [`ProfileError`] with line and column of the offending entry.
pub(super) fn parse(text: &str, source_name: &str) -> Result<Profile, ProfileError> {
    let at = Placer { text, source_name };
    let raw: ProfileToml = toml::from_str(text)
        .map_err(|e| at.error(e.span().unwrap_or(0..0), e.message().trim().to_owned()))?;
    let (atr, protocol, cipher) = card_header(&raw.card, &at)?;
    // Node numbers are 16 bits (the MF is 0): refused before anything is built.
    let spans = raw.df.iter().map(Spanned::span);
    if let Some(span) = spans.chain(raw.ef.iter().map(Spanned::span)).nth(MAX_FILES) {
        return Err(at.error(
            span,
            format!("at most {MAX_FILES} files (DFs and EFs) under the MF"),
        ));
    }
    let mut index = Index::default();
    let mut dfs = entries(&raw.df, &at, |t, _| df_def(t, &mut index))?;
    let efs = entries(&raw.ef, &at, |t, _| ef_def(t, &mut index))?;
    if let Some(extra) = raw.pin.get(64) {
        return Err(at.error(extra.span(), "at most 64 PIN objects".into()));
    }
    let mut pins = entries(&raw.pin, &at, |t, done| pin_def(t, &index, done))?;
    check_puks(&raw.pin, &pins, &at)?;
    let factors = crate::crypto::Factors {
        region: raw.card.region.as_deref(),
        atr: &atr,
    };
    if let Some(extra) = raw.key.get(256) {
        return Err(at.error(extra.span(), "at most 256 keys".into()));
    }
    let mut keys = entries(&raw.key, &at, |t, done| {
        key_def(t, &index, done, cipher, &factors)
    })?;
    super::chosen::chosen_state(&raw, &mut dfs, &mut pins, &mut keys, &at)?;
    let behaviour = super::options::behaviour(&raw, &at)?;
    // The medical e-purse (docs/CARD.md §4.6, §6.8).
    let purse = match &raw.purse {
        Some(p) => Some(
            purse_def(p.get_ref(), &index, cipher, &factors).map_err(|m| at.error(p.span(), m))?,
        ),
        None => None,
    };
    Ok(Profile {
        source_name: source_name.to_owned(),
        description: raw.card.description,
        atr,
        protocol,
        cipher,
        options: Options {
            challenge_seed: raw.options.challenge_seed,
            behaviour,
        },
        dfs,
        efs,
        pins,
        keys,
        card_blocked: raw.card.blocked,
        purse,
    })
}

/// What the entries validated so far declare, kept so that each check is one lookup (a
/// profile of 65,535 files validates in linear time).
#[derive(Default)]
struct Index {
    /// DF labels and the application kind each belongs to (its own or its top ancestor's).
    dfs: HashMap<String, Option<AppKind>>,
    /// (parent label, FID) of every DF and EF that has one.
    fids: HashSet<(String, u16)>,
    /// (parent label, SFI) of every EF that has one.
    sfis: HashSet<(String, u8)>,
    /// Bytes of the card's files so far (FCIs, transparent sizes, record capacities).
    card_bytes: usize,
}

impl Index {
    /// The parent is the MF or a DF declared above.
    fn known_parent(&self, parent: &str) -> Result<(), String> {
        if parent == "MF" || self.dfs.contains_key(parent) {
            Ok(())
        } else {
            Err(format!(
                "parent {parent:?} is not MF or a DF declared above"
            ))
        }
    }

    /// The application kind of DF `label`.
    fn kind(&self, label: &str) -> Option<AppKind> {
        self.dfs.get(label).copied().flatten()
    }

    /// Counts `n` more bytes of files against [`MAX_CARD_BYTES`].
    fn add_bytes(&mut self, n: usize) -> Result<(), String> {
        self.card_bytes = self.card_bytes.saturating_add(n);
        if self.card_bytes > MAX_CARD_BYTES {
            return Err(format!(
                "the card's files hold more than {MAX_CARD_BYTES} bytes (FCIs, transparent \
                 sizes, max_records × record_size)"
            ));
        }
        Ok(())
    }
}

/// What is wrong with an entry, and where inside it when that is known more closely than
/// the entry (a record of an EF's `records`).
struct Placed {
    span: Option<Range<usize>>,
    message: String,
}

impl From<String> for Placed {
    fn from(message: String) -> Self {
        Self {
            span: None,
            message,
        }
    }
}

impl From<&str> for Placed {
    fn from(message: &str) -> Self {
        Self::from(message.to_owned())
    }
}

/// Validates entries in order, each against those before it; an error is placed at its entry
/// (or at the place inside it that it names).
fn entries<T, D, E: Into<Placed>>(
    raw: &[Spanned<T>],
    at: &Placer<'_>,
    mut def: impl FnMut(&T, &[D]) -> Result<D, E>,
) -> Result<Vec<D>, ProfileError> {
    let mut done = Vec::with_capacity(raw.len());
    for entry in raw {
        let d = def(entry.get_ref(), &done).map_err(|e| {
            let placed = e.into();
            at.error(placed.span.unwrap_or_else(|| entry.span()), placed.message)
        })?;
        done.push(d);
    }
    Ok(done)
}

/// `[card]`: the ATR (2..=33 bytes, direct convention), protocol and cipher suite.
fn card_header(
    card: &CardToml,
    at: &Placer<'_>,
) -> Result<(Vec<u8>, Protocol, CipherSuite), ProfileError> {
    let atr = hex_field(card.atr.get_ref(), "atr", 33).map_err(|m| at.error(card.atr.span(), m))?;
    if !(2..=33).contains(&atr.len()) || atr.first() != Some(&0x3B) {
        return Err(at.error(
            card.atr.span(),
            "atr: an ATR is 2..=33 bytes starting with 3B (direct convention)".into(),
        ));
    }
    let protocol = card
        .protocol
        .get_ref()
        .parse::<Protocol>()
        .map_err(|e| at.error(card.protocol.span(), format!("protocol: {e}")))?;
    let cipher = card
        .cipher
        .get_ref()
        .parse::<CipherSuite>()
        .map_err(|e| at.error(card.cipher.span(), format!("cipher: {e}")))?;
    Ok((atr, protocol, cipher))
}

/// Every `unblock = "puk:XX"` names a PIN of the same DF.
fn check_puks(
    raw: &[Spanned<PinToml>],
    pins: &[PinDef],
    at: &Placer<'_>,
) -> Result<(), ProfileError> {
    for (entry, pin) in raw.iter().zip(pins) {
        if let Unblock::Puk(r) = pin.unblock
            && !pins
                .iter()
                .any(|p| p.parent == pin.parent && p.reference == r)
        {
            return Err(at.error(
                entry.span(),
                format!(
                    "unblock: no PIN with reference {r:02X} in {} to act as PUK",
                    pin.parent
                ),
            ));
        }
    }
    Ok(())
}

/// Hex as in the profiles: spaces anywhere, and `BB*N` for N repetitions of byte BB; at most
/// `max` bytes, checked before each part is added (a repeat never expands past the field).
pub(crate) fn hex_field(value: &str, field: &str, max: usize) -> Result<Vec<u8>, String> {
    let too_long = || format!("{field}: more than {max} bytes");
    let mut out = Vec::new();
    let mut plain = String::new();
    let flush = |out: &mut Vec<u8>, plain: &mut String| -> Result<(), String> {
        if out.len().saturating_add(plain.len() / 2) > max {
            return Err(too_long());
        }
        out.extend(apdu::parse_hex(plain).map_err(|e| format!("{field}: {e}"))?);
        plain.clear();
        Ok(())
    };
    for token in value.split_whitespace() {
        if let Some((byte, count)) = token.split_once('*') {
            flush(&mut out, &mut plain)?;
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
            if out.len().saturating_add(count) > max {
                return Err(too_long());
            }
            out.extend(std::iter::repeat_n(byte, count));
        } else {
            plain.push_str(token);
            if plain.len() / 2 > max {
                return Err(too_long());
            }
        }
    }
    flush(&mut out, &mut plain)?;
    Ok(out)
}

/// A `fid`: 2 bytes, none of the identifiers ISO 7816-4 §5.3.1.1 reserves.
pub(crate) fn fid_field(value: &str) -> Result<u16, String> {
    let fid = match hex_field(value, "fid", 2)?.as_slice() {
        [hi, lo] => u16::from_be_bytes([*hi, *lo]),
        other => {
            return Err(format!(
                "fid: a file identifier is 2 bytes, found {}",
                other.len()
            ));
        }
    };
    if matches!(fid, 0x3F00 | 0x3FFF | 0xFFFF) {
        return Err("fid: 3F00, 3FFF and FFFF are reserved (ISO 7816-4 §5.3.1.1)".into());
    }
    Ok(fid)
}

fn df_def(t: &DfToml, index: &mut Index) -> Result<DfDef, String> {
    if t.id == "MF" || index.dfs.contains_key(&t.id) {
        return Err(format!("df id {:?} is already used", t.id));
    }
    index.known_parent(&t.parent)?;
    let fid = t.fid.as_deref().map(fid_field).transpose()?;
    let name = t
        .name
        .as_deref()
        .map(|n| hex_field(n, "name", MAX_FCI))
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
        (Some(f), _) => Some(hex_field(f, "fci", MAX_FCI)?),
        (None, Some(n)) => Some(crate::fs::build_fci(n, t.dir_sfi, t.algorithm)),
        (None, None) => None,
    };
    let kind = t
        .kind
        .as_deref()
        .map(str::parse::<AppKind>)
        .transpose()
        .map_err(|e| format!("kind: {e}"))?;
    if kind.is_some() && t.parent != "MF" {
        return Err("kind: only an application directly under the MF has a kind".into());
    }
    index.add_bytes(fci.as_ref().map_or(0, Vec::len))?;
    if let Some(fid) = fid {
        index.fids.insert((t.parent.clone(), fid));
    }
    let inherited = kind.or_else(|| index.kind(&t.parent));
    index.dfs.insert(t.id.clone(), inherited);
    Ok(DfDef {
        id: t.id.clone(),
        parent: t.parent.clone(),
        fid,
        name,
        fci,
        kind,
        blocked: None,
    })
}

fn ef_def(t: &EfToml, index: &mut Index) -> Result<EfDef, Placed> {
    index.known_parent(&t.parent)?;
    let (fid, sfi) = ef_identifiers(t, index)?;
    let structure = t
        .structure
        .parse::<Structure>()
        .map_err(|e| format!("structure: {e}"))?;
    let read = t.read.parse::<Access>().map_err(|e| format!("read: {e}"))?;
    let update = t
        .update
        .parse::<Access>()
        .map_err(|e| format!("update: {e}"))?;
    let record_size = t.record_size.unwrap_or(255);
    let (capacity, data, records) = match structure {
        Structure::Transparent => transparent_contents(t)?,
        Structure::Linear | Structure::Cyclic => record_contents(t, structure, record_size)?,
    };
    index.add_bytes(match structure {
        Structure::Transparent => capacity,
        Structure::Linear | Structure::Cyclic => capacity * record_size,
    })?;
    index.fids.insert((t.parent.clone(), fid));
    if let Some(sfi) = sfi {
        index.sfis.insert((t.parent.clone(), sfi));
    }
    Ok(EfDef {
        parent: t.parent.clone(),
        control: EfControl {
            fid,
            sfi,
            structure,
            capacity,
            record_size,
            read,
            update,
        },
        data,
        records,
    })
}

/// The FID (not reserved, unique among the DF's children) and SFI (1..=30, unique in the DF).
fn ef_identifiers(t: &EfToml, index: &Index) -> Result<(u16, Option<u8>), String> {
    let fid = fid_field(&t.fid)?;
    if index.fids.contains(&(t.parent.clone(), fid)) {
        return Err(format!("fid {fid:04X} is used twice in {}", t.parent));
    }
    if let Some(sfi) = t.sfi {
        if !(1..=30).contains(&sfi) {
            return Err(format!("sfi: must be 1..=30, found {sfi}"));
        }
        if index.sfis.contains(&(t.parent.clone(), sfi)) {
            return Err(format!("sfi {sfi} is used twice in {}", t.parent));
        }
    }
    Ok((fid, t.sfi))
}

/// The longest FCI a DF may declare (what a short APDU's response carries).
const MAX_FCI: usize = 256;

/// The longest key value or master key read (keys are 8 or 16 bytes; longer ones are
/// refused by length afterwards with a clearer message).
const MAX_KEY: usize = 32;

/// Capacity, data and records of an EF's contents.
type Contents = (usize, Vec<u8>, Vec<Vec<u8>>);

/// A transparent EF: `size` (15-bit offsets) and `data`, zero-filled to the size.
fn transparent_contents(t: &EfToml) -> Result<Contents, String> {
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
        .map(|d| hex_field(d, "data", size))
        .transpose()?
        .unwrap_or_default();
    if data.len() > size {
        return Err(format!(
            "data: {} bytes do not fit in size {size}",
            data.len()
        ));
    }
    data.resize(size, 0);
    Ok((size, data, Vec::new()))
}

/// A record EF: `max_records` (1..=254), `record_size` (1..=255) and its initial `records`,
/// each one the card itself would store (`check_record` in card/files.rs): a linear record
/// of 1..=`record_size` bytes that is one simple-TLV object whose length agrees with its
/// value, a cyclic record of exactly `record_size` bytes. (A record the card would not store
/// was written to the state file and refused when it was reopened; a TLV whose length
/// disagreed was read back truncated.) A bad record's error is placed at the record.
fn record_contents(
    t: &EfToml,
    structure: Structure,
    record_size: usize,
) -> Result<Contents, Placed> {
    if t.data.is_some() || t.size.is_some() {
        return Err("a record EF has max_records and records, not size or data".into());
    }
    let max = t.max_records.ok_or("a record EF needs max_records")?;
    if !(1..=254).contains(&max) {
        return Err(format!("max_records: must be 1..=254, found {max}").into());
    }
    if !(1..=255).contains(&record_size) {
        return Err(format!("record_size: must be 1..=255, found {record_size}").into());
    }
    if t.records.len() > max {
        return Err(format!("{} records exceed max_records {max}", t.records.len()).into());
    }
    let records = t
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let record = |message: String| Placed {
                span: Some(r.span()),
                message,
            };
            let bytes = hex_field(r.get_ref(), &format!("records[{i}]"), 255).map_err(record)?;
            match structure {
                _ if bytes.is_empty() => Err(format!("records[{i}]: a record is 1..=255 bytes")),
                Structure::Cyclic if bytes.len() != record_size => Err(format!(
                    "records[{i}]: a cyclic record has record_size {record_size} bytes, found {}",
                    bytes.len()
                )),
                _ if bytes.len() > record_size => Err(format!(
                    "records[{i}]: {} bytes exceed record_size {record_size}",
                    bytes.len()
                )),
                Structure::Linear => match tlv_problem(&bytes) {
                    Some(problem) => Err(format!(
                        "records[{i}]: {problem}; a linear record is one simple-TLV object \
                         (tag, length, value) whose length counts its value bytes (the card \
                         answers 6A85 to such a write): correct the length or the value"
                    )),
                    None => Ok(bytes),
                },
                _ => Ok(bytes),
            }
            .map_err(record)
        })
        .collect::<Result<Vec<_>, Placed>>()?;
    Ok((max, Vec::new(), records))
}

/// Why `bytes` is not one simple-TLV object (ISO 7816-4 §5.2.1: a tag 01..FE, a length of
/// one byte, or FF and two bytes, and exactly that many value bytes), if it is not.
fn tlv_problem(bytes: &[u8]) -> Option<String> {
    if apdu::tlv::SimpleTlv::parse_exact(bytes).is_ok() {
        return None;
    }
    let (tag, rest) = bytes.split_first()?;
    if matches!(tag, 0x00 | 0xFF) {
        return Some(format!("{tag:02X} is not a simple-TLV tag (01 to FE)"));
    }
    let (length, header, value) = match rest {
        [0xFF, hi, lo, value @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), 4, value),
        [0xFF, ..] => return Some("the length FF needs two more bytes".into()),
        [len, value @ ..] => (usize::from(*len), 2, value),
        [] => return Some(format!("tag {tag:02X} has no length byte")),
    };
    let length_hex = apdu::hex_spaced(bytes.get(1..header).unwrap_or_default());
    Some(format!(
        "tag {tag:02X} length {length_hex} says {length} value bytes, and {} follow",
        value.len()
    ))
}

fn pin_def(t: &PinToml, index: &Index, pins: &[PinDef]) -> Result<PinDef, String> {
    index.known_parent(&t.parent)?;
    if pins
        .iter()
        .any(|p| p.parent == t.parent && p.reference == t.reference)
    {
        return Err(format!(
            "PIN reference {:02X} is used twice in {}",
            t.reference, t.parent
        ));
    }
    let encoding = t
        .encoding
        .parse::<PinEncoding>()
        .map_err(|e| format!("encoding: {e}"))?;
    if t.min_digits == 0 || t.min_digits > t.max_digits || t.max_digits > encoding.max_digits() {
        return Err(format!(
            "digits: need 1 <= min_digits <= max_digits <= {} for encoding {}",
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
        tries: t.max_tries,
        unblock,
    })
}

fn key_def(
    t: &KeyToml,
    index: &Index,
    keys: &[KeyDef],
    card_cipher: CipherSuite,
    factors: &crate::crypto::Factors<'_>,
) -> Result<KeyDef, String> {
    let cipher = card_cipher.for_app(index.kind(&t.parent));
    index.known_parent(&t.parent)?;
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
        (Some(v), None) if t.diversify.is_empty() => hex_field(v, "value", MAX_KEY)?,
        (Some(_), None) => return Err("diversify: goes with master, not value".into()),
        (None, Some(m)) => factors
            .derive(cipher, &hex_field(m, "master", MAX_KEY)?, &t.diversify)
            .map_err(|e| e.to_string())?,
        _ => return Err("give either value (the card key) or master (and diversify)".into()),
    };
    let ok = match cipher {
        CipherSuite::Des3 => matches!(value.len(), 8 | 16),
        CipherSuite::Sm4 | CipherSuite::Aes => value.len() == 16,
    };
    if !ok {
        return Err(format!(
            "value: {} bytes is not a key for {cipher} (DES: 8 or 16, SM4/AES: 16)",
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
        tries: t.max_tries,
    })
}

/// `[purse]` (docs/CARD.md §4.6, §6.8): in an SSSE DF declared above; each key a card key
/// of the DF's cipher (checked as a `[[key]]` is); the money within `max_balance`; the year
/// and starting day in BCD.
fn purse_def(
    t: &PurseToml,
    index: &Index,
    card_cipher: CipherSuite,
    factors: &crate::crypto::Factors<'_>,
) -> Result<crate::purse::PurseDef, String> {
    use crate::purse::{IndexedKey, PurseDef, PurseKeys, SecretBytes};
    if t.parent == "MF" || index.kind(&t.parent) != Some(AppKind::Ssse) {
        return Err(format!(
            "purse: parent {:?} is not a DF of the SSSE declared above",
            t.parent
        ));
    }
    let key = |k: &PurseKeyToml, name: &str, indexed: bool| -> Result<IndexedKey, String> {
        if !indexed && (k.index.is_some() || k.version.is_some()) {
            return Err(format!("purse.{name}: has no index or version"));
        }
        let as_key = KeyToml {
            parent: t.parent.clone(),
            id: 0,
            version: 0,
            value: k.value.clone(),
            master: k.master.clone(),
            diversify: k.diversify.clone(),
            max_tries: super::schema::default_key_tries(),
            tries: None,
        };
        let def = key_def(&as_key, index, &[], card_cipher, factors)
            .map_err(|m| format!("purse.{name}: {m}"))?;
        Ok(IndexedKey {
            index: k.index.unwrap_or(1),
            version: k.version.unwrap_or(1),
            value: def.value,
        })
    };
    let bcd2 = |v: &str, name: &str| -> Result<[u8; 2], String> {
        let bytes = apdu::parse_hex(v).map_err(|e| format!("purse.{name}: {e}"))?;
        match <[u8; 2]>::try_from(bytes) {
            Ok(b) if crate::purse::bcd_value(&b).is_some() => Ok(b),
            _ => Err(format!("purse.{name}: four decimal digits, found {v:?}")),
        }
    };
    let start_day = bcd2(&t.start_day, "start_day")?;
    if !crate::purse::valid_day(start_day) {
        return Err(format!("purse.start_day: MMDD, found {:?}", t.start_day));
    }
    if t.balance > t.max_balance {
        return Err(format!(
            "purse.balance: {} is above max_balance {}",
            t.balance, t.max_balance
        ));
    }
    Ok(PurseDef {
        parent: t.parent.clone(),
        keys: PurseKeys {
            dlk: key(&t.dlk, "dlk", true)?,
            dpk: key(&t.dpk, "dpk", true)?,
            dtk: SecretBytes(key(&t.dtk, "dtk", false)?.value),
            dsk: SecretBytes(key(&t.dsk, "dsk", false)?.value),
        },
        balance: t.balance,
        max_balance: t.max_balance,
        load_seq: t.load_seq,
        purchase_seq: t.purchase_seq,
        spip: t.spip,
        spfp: t.spfp,
        year: bcd2(&t.year, "year")?,
        start_day,
    })
}
