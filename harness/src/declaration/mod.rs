//! The card declaration: the profile that says what the card under test holds (its ATR,
//! data, PINs and their try limits, keys, applications, protocol and cipher), and the
//! declared values vector files refer to with `$…` instead of the built-in card's bytes
//! (vectors/README.md, "Declared values").
//!
//! In process the card is built from the declaration; on a reader the declaration says what
//! the card in it should be, and the suite's expectations follow it either way.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use applet_sim::Profile;
use applet_sim::model::keys::df_specific;
use applet_sim::model::{AppKind, CipherSuite, PinEncoding, Protocol, Structure, Unblock};
use applet_sim::profile::{EfDef, KeyDef, PinDef};

mod reference;

pub use self::reference::BadReference;
use self::reference::{PinPart, Reference, Role, What};

/// What a case can need of the declared card (`needs FEATURE…`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// The SSSE application (`ssse`).
    Ssse,
    /// The financial application (`bank`).
    Bank,
    /// The PKI application (`pki`).
    Pki,
    /// Keys of the financial application (`bank-keys`: DAMK, DPUK, DPRK, docs/CARD.md §5.4).
    BankKeys,
    /// The sub-applications' own keys (`df-keys`: DF-specific keys, ids 82-8F, in a DF
    /// below the SSSE, docs/CARD.md §6.7).
    SubKeys,
    /// SM4 keys (`sm4`, a third-generation card).
    Sm4,
    /// DES/3DES keys (`des`, a second-generation card).
    Des,
    /// T=0 (`t0`).
    T0,
    /// T=1 (`t1`).
    T1,
    /// The medical e-purse (`purse`, docs/CARD.md §4.6): a `[purse]` in the profile.
    Purse,
}

impl Feature {
    /// Every feature and its name in `needs` lines.
    pub const ALL: [(&'static str, Self); 10] = [
        ("ssse", Self::Ssse),
        ("bank", Self::Bank),
        ("bank-keys", Self::BankKeys),
        ("pki", Self::Pki),
        ("df-keys", Self::SubKeys),
        ("sm4", Self::Sm4),
        ("des", Self::Des),
        ("t0", Self::T0),
        ("t1", Self::T1),
        ("purse", Self::Purse),
    ];

    /// The feature named `name` in a `needs` line.
    #[must_use]
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    /// Its name in `needs` lines.
    #[must_use]
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("?", |(n, _)| n)
    }
}

/// Where a declared value goes: raw bytes (`>`, `<`, `reset` lines) or the arguments of a
/// directive (`verify $pin.ssse`, `repeat $pin.ssse.tries`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Context {
    /// Hex: a PIN as the card's encoding carries it, a count as hex digits.
    Hex,
    /// Text: a PIN as its digits, a count in decimal.
    Text,
    /// The arguments of `verify` and `change-pin`, which send a PIN in BCD: as `Text`, and
    /// a PIN the card takes in another encoding is missing (the case is N/A).
    Bcd,
}

/// A reference the declaration cannot give: the case that uses it is not applicable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing(pub String);

/// A declared card.
#[derive(Debug)]
pub struct Declaration {
    /// The profile (a built-in name or a file).
    pub profile: Profile,
    /// The name it was given by (`gen3`, `vendor.toml`).
    pub name: String,
    /// Each DF's children (indices into `profile.dfs`), by the DF's label (the MF as `MF`).
    children: HashMap<String, Vec<usize>>,
    /// Values already resolved: a suite names the same few values thousands of times, and
    /// a profile may hold tens of thousands of DFs.
    resolved: Mutex<HashMap<(String, Context), Result<String, Missing>>>,
}

impl Clone for Declaration {
    fn clone(&self) -> Self {
        Self::new(&self.name, self.profile.clone())
    }
}

impl Declaration {
    /// The declaration of `profile`, known as `name`.
    #[must_use]
    pub fn new(name: &str, profile: Profile) -> Self {
        let mut children: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, d) in profile.dfs.iter().enumerate() {
            children.entry(d.parent.clone()).or_default().push(i);
        }
        Self {
            profile,
            name: name.to_owned(),
            children,
            resolved: Mutex::new(HashMap::new()),
        }
    }

    /// True when the declared card has `feature`.
    #[must_use]
    pub fn has(&self, feature: Feature) -> bool {
        let app = |kind| self.profile.dfs.iter().any(|d| d.kind == Some(kind));
        match feature {
            Feature::Ssse => app(AppKind::Ssse),
            Feature::Bank => app(AppKind::Pboc),
            Feature::Pki => app(AppKind::Pki),
            Feature::BankKeys => self.subtree(Role::Bank).is_ok_and(|labels| {
                self.profile
                    .keys
                    .iter()
                    .any(|k| labels.contains(&k.parent.as_str()))
            }),
            Feature::SubKeys => self.root(Role::Ssse).is_ok_and(|ssse| {
                let below = self.subtree_of(ssse);
                self.profile.keys.iter().any(|k| {
                    df_specific(k.id) && k.parent != ssse && below.contains(&k.parent.as_str())
                })
            }),
            Feature::Sm4 => self.profile.cipher == CipherSuite::Sm4,
            Feature::Des => self.profile.cipher == CipherSuite::Des3,
            Feature::T0 => self.profile.protocol == Protocol::T0,
            Feature::T1 => self.profile.protocol == Protocol::T1,
            Feature::Purse => self.profile.purse.is_some(),
        }
    }

    /// The label of the application of `role` (the MF as `MF`).
    fn root(&self, role: Role) -> Result<&str, Missing> {
        match role.kind() {
            None => Ok("MF"),
            Some(kind) => self
                .profile
                .dfs
                .iter()
                .find(|d| d.kind == Some(kind))
                .map(|d| d.id.as_str())
                .ok_or_else(|| Missing(format!("the declared card has no {}", role.describe()))),
        }
    }

    /// The labels of the DFs under (and including) the application of `role`, nearest first.
    fn subtree(&self, role: Role) -> Result<Vec<&str>, Missing> {
        Ok(self.subtree_of(self.root(role)?))
    }

    /// The labels of `root` and the DFs below it, breadth first (nearest first).
    fn subtree_of<'a>(&'a self, root: &'a str) -> Vec<&'a str> {
        let mut order = vec![root];
        let mut i = 0;
        while let Some(label) = order.get(i).copied() {
            if let Some(kids) = self.children.get(label) {
                order.extend(
                    kids.iter()
                        .filter_map(|k| self.profile.dfs.get(*k))
                        .map(|d| d.id.as_str()),
                );
            }
            i += 1;
        }
        order
    }

    /// The first of `items` (in profile order) whose parent is the nearest DF of `labels`
    /// that has one: an application's own object before those of its sub-DFs.
    fn nearest<'a, T>(
        labels: &[&str],
        items: impl Iterator<Item = &'a T> + Clone,
        parent: impl Fn(&T) -> &str,
    ) -> Option<&'a T>
    where
        T: 'a,
    {
        labels
            .iter()
            .find_map(|l| items.clone().find(|item| parent(item) == *l))
    }

    /// The PIN of `role` (`$pin.ROLE`: the application's own, nearest first) or the PUK of
    /// the PKI user PIN (`$puk.pki`).
    fn pin(&self, role: Role, puk: bool) -> Result<&PinDef, Missing> {
        let labels = self.subtree(role)?;
        let pins = self.profile.pins.iter();
        let user = |p: &&PinDef| matches!(p.unblock, Unblock::Puk(_));
        let found =
            match (role, puk) {
                (Role::Pki, false) => Self::nearest(&labels, pins.filter(user), |p| &p.parent),
                (Role::Pki, true) => Self::nearest(&labels, pins.filter(user), |p| &p.parent)
                    .and_then(|u| match u.unblock {
                        Unblock::Puk(r) => self
                            .profile
                            .pins
                            .iter()
                            .find(|p| p.parent == u.parent && p.reference == r),
                        _ => None,
                    }),
                (_, false) => Self::nearest(&labels, pins, |p| &p.parent),
                (_, true) => None,
            };
        found.ok_or_else(|| {
            Missing(format!(
                "the declared card's {} has no {}",
                role.describe(),
                if puk { "PUK" } else { "PIN" }
            ))
        })
    }

    /// The EF found by following `fids` from the application of `role`: each DF the
    /// nearest one of that identifier strictly below the previous, then the nearest EF.
    fn ef(&self, role: Role, fids: &[u16]) -> Result<&EfDef, Missing> {
        let (last, dfs) = fids
            .split_last()
            .ok_or_else(|| Missing("no file named".into()))?;
        let mut labels = self.subtree(role)?;
        for fid in dfs {
            let df = labels
                .iter()
                .skip(1)
                .find_map(|l| {
                    self.profile
                        .dfs
                        .iter()
                        .find(|d| d.id == *l && d.fid == Some(*fid))
                })
                .ok_or_else(|| Missing(format!("the declared card has no DF {fid:04X} there")))?;
            labels = self.subtree_of(&df.id);
        }
        Self::nearest(
            &labels,
            self.profile.efs.iter().filter(|e| e.control.fid == *last),
            |e| &e.parent,
        )
        .ok_or_else(|| {
            Missing(format!(
                "the declared card has no EF {last:04X} in its {}",
                role.describe()
            ))
        })
    }

    /// The key `id` of the application of `role` (its own, nearest first).
    fn key(&self, role: Role, id: u8) -> Result<&KeyDef, Missing> {
        let labels = self.subtree(role)?;
        Self::nearest(
            &labels,
            self.profile.keys.iter().filter(|k| k.id == id),
            |k| &k.parent,
        )
        .ok_or_else(|| {
            Missing(format!(
                "the declared {} has no key {id:02X}",
                role.describe()
            ))
        })
    }

    /// The declared value of `pin` as VERIFY carries it.
    #[must_use]
    pub fn pin_data(&self, pin: &PinDef) -> Vec<u8> {
        encode_bytes(&pin_digits(pin), pin.encoding)
    }

    /// The value of the reference `name` (without the `$`), in `context`: `Ok(Ok(text))`,
    /// `Ok(Err(missing))` when the declared card has no such thing, `Err` when the reference
    /// is not a known form.
    ///
    /// # Errors
    /// [`BadReference`] for a reference that is not one of the documented forms.
    pub fn resolve(
        &self,
        name: &str,
        context: Context,
    ) -> Result<Result<String, Missing>, BadReference> {
        let reference = Reference::parse(name)?;
        let key = (name.to_owned(), context);
        if let Some(known) = self.resolved.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(known);
        }
        let value = self.value(&reference, context);
        if let Ok(mut m) = self.resolved.lock() {
            m.insert(key, value.clone());
        }
        Ok(value)
    }

    /// What stands for the reference `name` when the declaration cannot give it (the case is
    /// N/A, but its lines must still parse): one digit for a count (`63C$pin.pki.tries-1`,
    /// `repeat $pin.pki.tries`), a byte for other values.
    #[must_use]
    pub fn placeholder(name: &str) -> &'static str {
        if Reference::parse(name).is_ok_and(|r| r.is_count()) {
            "0"
        } else {
            "00"
        }
    }

    fn value(&self, r: &Reference, context: Context) -> Result<String, Missing> {
        let number = |n: i64| -> Result<String, Missing> {
            let n = n + r.offset;
            if n < 0 {
                return Err(Missing(format!(
                    "${} is negative: the declared card has fewer than the case needs",
                    r.text
                )));
            }
            Ok(match context {
                Context::Hex => format!("{n:X}"),
                Context::Text | Context::Bcd => n.to_string(),
            })
        };
        match &r.what {
            What::Atr => Ok(apdu::hex_compact(&self.profile.atr)),
            What::Pin { role, puk, part } => {
                let pin = self.pin(*role, *puk)?;
                if pin.tries == 0 {
                    return Err(Missing(format!(
                        "the declared card's {} {} is blocked (tries = 0)",
                        role.describe(),
                        if *puk { "PUK" } else { "PIN" }
                    )));
                }
                if *part == PinPart::Tries && pin.tries < pin.max_tries {
                    return Err(Missing(format!(
                        "the declared PIN starts with {} of its {} tries (a chosen state): the \
                         case needs full counters",
                        pin.tries, pin.max_tries
                    )));
                }
                if context == Context::Bcd
                    && pin.encoding != PinEncoding::Bcd
                    && matches!(part, PinPart::Value | PinPart::Wrong(_))
                {
                    return Err(Missing(format!(
                        "`verify` and `change-pin` send BCD, and the declared card takes its \
                         {} {} in another encoding (write `> 00 20 00 REF $lc ${}` instead)",
                        role.describe(),
                        if *puk { "PUK" } else { "PIN" },
                        r.text
                    )));
                }
                let digits = pin_digits(pin);
                match part {
                    PinPart::Value => Ok(encode(&digits, pin.encoding, context)),
                    PinPart::Wrong(k) => Ok(encode(&wrong(&digits, *k), pin.encoding, context)),
                    PinPart::Tries => number(i64::from(pin.max_tries)),
                    PinPart::Digits => number(i64::try_from(digits.len()).unwrap_or(0)),
                }
            }
            What::Aid { role, adf } => {
                let root = self.root(*role)?;
                let labels = self.subtree_of(root);
                labels
                    .iter()
                    .skip(usize::from(*adf))
                    .find_map(|l| {
                        self.profile
                            .dfs
                            .iter()
                            .find(|d| d.id == *l)
                            .and_then(|d| d.name.as_deref())
                    })
                    .map(apdu::hex_compact)
                    .ok_or_else(|| {
                        Missing(format!("the declared {} has no DF name", role.describe()))
                    })
            }
            What::KeyTries { role, id } => {
                let key = self.key(*role, *id)?;
                if key.tries < key.max_tries {
                    return Err(Missing(format!(
                        "the declared key {id:02X} starts with {} of its {} tries (a chosen \
                         state): the case needs full counters",
                        key.tries, key.max_tries
                    )));
                }
                number(i64::from(key.max_tries))
            }
            What::KeyVersion { role, id, unheld } => {
                let key = self.key(*role, *id)?;
                let version = if *unheld {
                    let held = |v: u8| {
                        self.profile
                            .keys
                            .iter()
                            .any(|k| k.id == *id && k.parent == key.parent && k.version == v)
                    };
                    (0..=u8::MAX).find(|v| !held(*v)).ok_or_else(|| {
                        Missing(format!(
                            "the declared key {id:02X} is held in every version"
                        ))
                    })?
                } else {
                    key.version
                };
                Ok(format!("{version:02X}"))
            }
            What::Record { role, fids, number } => {
                let ef = self.ef(*role, fids)?;
                if ef.control.structure == Structure::Transparent {
                    return Err(Missing(format!("${} names a transparent EF", r.text)));
                }
                ef.records
                    .get(number.wrapping_sub(1))
                    .map(|rec| apdu::hex_compact(rec))
                    .ok_or_else(|| {
                        Missing(format!(
                            "the declared EF has no record {number} (${})",
                            r.text
                        ))
                    })
            }
            What::Binary {
                role,
                fids,
                offset,
                len,
            } => {
                let ef = self.ef(*role, fids)?;
                let mut data = ef.data.clone();
                data.resize(ef.control.capacity, 0);
                data.get(*offset..offset.saturating_add(*len))
                    .map(apdu::hex_compact)
                    .ok_or_else(|| Missing(format!("the declared EF is shorter than ${}", r.text)))
            }
        }
    }
}

impl fmt::Display for Declaration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.profile.source_name)
    }
}

/// The declared PIN's digits (`"123456"`).
fn pin_digits(pin: &PinDef) -> Vec<u8> {
    let bytes = pin.value.to_bytes();
    let (digits, len) = bytes.split_at(bytes.len() - 1);
    let n = len.first().map_or(0, |l| usize::from(*l));
    digits.get(..n).unwrap_or_default().to_vec()
}

/// Each digit plus `k`, mod 10.
fn wrong(digits: &[u8], k: u8) -> Vec<u8> {
    digits.iter().map(|d| (d + k) % 10).collect()
}

/// Digits as a command carries them (hex) or as text.
fn encode(digits: &[u8], encoding: PinEncoding, context: Context) -> String {
    match context {
        Context::Text | Context::Bcd => digits.iter().map(|d| char::from(b'0' + d)).collect(),
        Context::Hex => apdu::hex_compact(&encode_bytes(digits, encoding)),
    }
}

/// Digits in the PIN's encoding (docs/CARD.md §5.1, §3.7).
fn encode_bytes(digits: &[u8], encoding: PinEncoding) -> Vec<u8> {
    let ascii: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    match encoding {
        PinEncoding::Bcd => digits
            .chunks(2)
            .map(|p| match p {
                [hi, lo] => hi << 4 | lo,
                [hi] => hi << 4 | 0x0F,
                _ => 0xFF,
            })
            .collect(),
        PinEncoding::Ascii => ascii.into_bytes(),
        PinEncoding::AsciiFfPadded => {
            let mut b = ascii.into_bytes();
            b.resize(b.len().max(8), 0xFF);
            b
        }
    }
}

#[cfg(test)]
mod tests;
