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
use applet_sim::model::{AppKind, CipherSuite, PinEncoding, Protocol, Structure, Unblock};
use applet_sim::profile::{EfDef, KeyDef, PinDef};

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
    /// SM4 keys (`sm4`, a third-generation card).
    Sm4,
    /// DES/3DES keys (`des`, a second-generation card).
    Des,
    /// T=0 (`t0`).
    T0,
    /// T=1 (`t1`).
    T1,
}

impl Feature {
    /// Every feature and its name in `needs` lines.
    pub const ALL: [(&'static str, Self); 8] = [
        ("ssse", Self::Ssse),
        ("bank", Self::Bank),
        ("bank-keys", Self::BankKeys),
        ("pki", Self::Pki),
        ("sm4", Self::Sm4),
        ("des", Self::Des),
        ("t0", Self::T0),
        ("t1", Self::T1),
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

/// A reference that is not one of the forms of vectors/README.md (a parse error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadReference(pub String);

/// The application a reference starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Mf,
    Ssse,
    Bank,
    Pki,
}

impl Role {
    fn named(name: &str) -> Option<Self> {
        Some(match name {
            "mf" => Self::Mf,
            "ssse" => Self::Ssse,
            "bank" => Self::Bank,
            "pki" => Self::Pki,
            _ => return None,
        })
    }

    fn kind(self) -> Option<AppKind> {
        match self {
            Self::Mf => None,
            Self::Ssse => Some(AppKind::Ssse),
            Self::Bank => Some(AppKind::Pboc),
            Self::Pki => Some(AppKind::Pki),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Mf => "MF",
            Self::Ssse => "SSSE application",
            Self::Bank => "financial application",
            Self::Pki => "PKI application",
        }
    }
}

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
            Feature::Sm4 => self.profile.cipher == CipherSuite::Sm4,
            Feature::Des => self.profile.cipher == CipherSuite::Des3,
            Feature::T0 => self.profile.protocol == Protocol::T0,
            Feature::T1 => self.profile.protocol == Protocol::T1,
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

/// A parsed `$…` reference.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Reference {
    text: String,
    what: What,
    /// `+N` / `-N` after a count.
    offset: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum What {
    Atr,
    Pin {
        role: Role,
        puk: bool,
        part: PinPart,
    },
    Record {
        role: Role,
        fids: Vec<u16>,
        number: usize,
    },
    Binary {
        role: Role,
        fids: Vec<u16>,
        offset: usize,
        len: usize,
    },
    KeyTries {
        role: Role,
        id: u8,
    },
    /// `$aid.APP`: the application's DF name; `$aid.bank` the first named DF below the
    /// financial application's PSE (its ADF), `$aid.pse` the PSE's.
    Aid {
        role: Role,
        adf: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PinPart {
    Value,
    /// A value of the same length, each digit plus k (mod 10): never the declared one.
    Wrong(u8),
    Tries,
    Digits,
}

/// The longest reference accepted (the forms are short; this bounds the work on junk).
const MAX_REFERENCE: usize = 64;

impl Reference {
    /// True for a count (tries, digits), which is a single hex digit in hex lines.
    fn is_count(&self) -> bool {
        matches!(
            self.what,
            What::Pin {
                part: PinPart::Tries | PinPart::Digits,
                ..
            } | What::KeyTries { .. }
        )
    }

    fn parse(text: &str) -> Result<Self, BadReference> {
        let bad = |why: &str| {
            BadReference(format!(
                "${text}: {why} (vectors/README.md, \"Declared values\")"
            ))
        };
        if text.len() > MAX_REFERENCE {
            return Err(bad("too long"));
        }
        let (body, offset) = match text.rfind(['+', '-']) {
            Some(i) => {
                let n: i64 = text
                    .get(i + 1..)
                    .filter(|d| {
                        !d.is_empty() && d.len() <= 2 && d.bytes().all(|b| b.is_ascii_digit())
                    })
                    .and_then(|d| d.parse().ok())
                    .ok_or_else(|| bad("expected a number of at most 2 digits after + or -"))?;
                let sign = if text.as_bytes().get(i) == Some(&b'-') {
                    -n
                } else {
                    n
                };
                (text.get(..i).unwrap_or_default(), sign)
            }
            None => (text, 0),
        };
        let parts: Vec<&str> = body.split('.').collect();
        let role = |s: &str| {
            Role::named(s).ok_or_else(|| bad("expected an application: mf, ssse, bank or pki"))
        };
        let what = match parts.as_slice() {
            ["atr"] => What::Atr,
            [kind @ ("pin" | "puk"), app, rest @ ..] => {
                let role = role(app)?;
                let puk = *kind == "puk";
                if role == Role::Mf || (puk && role != Role::Pki) {
                    return Err(bad("PINs are $pin.ssse, $pin.bank, $pin.pki and $puk.pki"));
                }
                let part = match rest {
                    [] => PinPart::Value,
                    ["tries"] => PinPart::Tries,
                    ["digits"] => PinPart::Digits,
                    [w] => match w.strip_prefix("wrong").and_then(|k| k.parse::<u8>().ok()) {
                        Some(k @ 1..=9) => PinPart::Wrong(k),
                        _ => return Err(bad("expected tries, digits or wrong1..wrong9")),
                    },
                    _ => return Err(bad("expected tries, digits or wrong1..wrong9")),
                };
                What::Pin { role, puk, part }
            }
            ["aid", "pse"] => What::Aid {
                role: Role::Bank,
                adf: false,
            },
            ["aid", app] => {
                let role = role(app)?;
                if role == Role::Mf {
                    return Err(bad("AIDs are $aid.ssse, $aid.bank, $aid.pse and $aid.pki"));
                }
                What::Aid {
                    role,
                    adf: role == Role::Bank,
                }
            }
            ["key", app, id, "tries"] => What::KeyTries {
                role: role(app)?,
                id: (id.len() == 2)
                    .then(|| u8::from_str_radix(id, 16).ok())
                    .flatten()
                    .ok_or_else(|| bad("expected a key id of 2 hex digits"))?,
            },
            ["rec", app, files @ .., n] if !files.is_empty() => What::Record {
                role: role(app)?,
                fids: fids(files)
                    .ok_or_else(|| bad("expected file identifiers of 4 hex digits"))?,
                number: n
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=254).contains(n))
                    .ok_or_else(|| bad("expected a record number from 1 to 254"))?,
            },
            ["bin", app, files @ .., off, len] if !files.is_empty() => What::Binary {
                role: role(app)?,
                fids: fids(files)
                    .ok_or_else(|| bad("expected file identifiers of 4 hex digits"))?,
                offset: hex_number(off).ok_or_else(|| bad("expected a hex offset"))?,
                len: hex_number(len).ok_or_else(|| bad("expected a hex length"))?,
            },
            _ => return Err(bad("unknown reference")),
        };
        let counts = matches!(
            what,
            What::Pin {
                part: PinPart::Tries | PinPart::Digits,
                ..
            } | What::KeyTries { .. }
        );
        if offset != 0 && !counts {
            return Err(bad("only counts (tries, digits) take + or -"));
        }
        Ok(Self {
            text: text.to_owned(),
            what,
            offset,
        })
    }
}

fn fids(parts: &[&str]) -> Option<Vec<u16>> {
    parts
        .iter()
        .map(|p| {
            (p.len() == 4)
                .then(|| u16::from_str_radix(p, 16).ok())
                .flatten()
        })
        .collect()
}

fn hex_number(text: &str) -> Option<usize> {
    (text.len() <= 4)
        .then(|| usize::from_str_radix(text, 16).ok())
        .flatten()
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
mod tests {
    use super::*;

    fn gen3() -> Declaration {
        Declaration::new("gen3", Profile::builtin("gen3").unwrap())
    }

    fn hex(d: &Declaration, r: &str) -> String {
        d.resolve(r, Context::Hex).unwrap().unwrap()
    }

    #[test]
    fn pins_in_their_encoding() {
        let d = gen3();
        assert_eq!(hex(&d, "pin.ssse"), "123456");
        assert_eq!(hex(&d, "pin.bank"), "888888");
        assert_eq!(hex(&d, "pin.pki"), "313233343536FFFF");
        assert_eq!(hex(&d, "puk.pki"), "3132333435363738");
        assert_eq!(
            d.resolve("pin.ssse", Context::Bcd).unwrap().unwrap(),
            "123456"
        );
        assert!(d.resolve("pin.pki", Context::Bcd).unwrap().is_err());
        assert_eq!(
            d.resolve("pin.pki.tries", Context::Bcd).unwrap().unwrap(),
            "3"
        );
        assert_eq!(
            d.resolve("pin.ssse", Context::Text).unwrap().unwrap(),
            "123456"
        );
        assert_eq!(hex(&d, "pin.ssse.wrong1"), "234567");
        assert_eq!(hex(&d, "pin.ssse.wrong9"), "012345");
        assert_eq!(hex(&d, "pin.ssse.tries"), "3");
        assert_eq!(hex(&d, "pin.ssse.tries-1"), "2");
        assert_eq!(hex(&d, "puk.pki.tries"), "A");
        assert_eq!(
            d.resolve("puk.pki.tries", Context::Text).unwrap().unwrap(),
            "10"
        );
        assert_eq!(hex(&d, "pin.ssse.digits+1"), "7");
        assert_eq!(hex(&d, "key.ssse.0A.tries-1"), "2");
        assert_eq!(
            d.resolve("key.bank.01.tries", Context::Text)
                .unwrap()
                .unwrap(),
            "3"
        );
        assert!(
            d.resolve("key.ssse.7F.tries", Context::Hex)
                .unwrap()
                .is_err()
        );
        assert!(d.resolve("key.ssse.A.tries", Context::Hex).is_err());
    }

    #[test]
    fn files_and_atr() {
        let d = gen3();
        assert_eq!(hex(&d, "rec.ssse.EF05.2"), "020133");
        assert!(hex(&d, "rec.ssse.DF01.EF07.1").starts_with("2901"));
        assert_eq!(hex(&d, "bin.ssse.EF08.0.4"), "FFD8FFE0");
        assert!(hex(&d, "rec.bank.0002.1").starts_with("70215A0A"));
        assert_eq!(hex(&d, "atr"), apdu::hex_compact(&d.profile.atr));
        assert_eq!(hex(&d, "aid.ssse"), "7378312E73682EC9E7BBE1B1A3D5CF");
        assert_eq!(hex(&d, "aid.bank"), "A000000333010101");
        assert_eq!(hex(&d, "aid.pse"), "315041592E5359532E4444463031");
        assert_eq!(hex(&d, "aid.pki"), "504B492EC9E7BBE1B1A3D5CF");
        assert!(d.resolve("aid.mf", Context::Hex).is_err());
        // A path through a DF that is not there is missing, not the DF above.
        assert!(
            d.resolve("rec.ssse.DF01.DF01.EF05.1", Context::Hex)
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn missing_and_bad() {
        let d = Declaration::new("gen2", Profile::builtin("gen2").unwrap());
        assert!(d.resolve("pin.pki", Context::Hex).unwrap().is_err());
        assert!(d.resolve("rec.ssse.EF05.9", Context::Hex).unwrap().is_err());
        assert!(
            d.resolve("pin.ssse.tries-9", Context::Hex)
                .unwrap()
                .is_err()
        );
        for bad in [
            "pin",
            "pin.mf",
            "puk.ssse",
            "pin.ssse.wrong0",
            "pin.ssse+1",
            "rec.ssse.EF5.1",
            "rec.ssse.EF05.0",
            "nonsense",
            "atr-1",
            "pin.ssse.tries-100",
        ] {
            assert!(d.resolve(bad, Context::Hex).is_err(), "{bad}");
        }
        assert!(!d.has(Feature::Pki) && d.has(Feature::Bank) && d.has(Feature::Des));
        assert!(!d.has(Feature::BankKeys) && gen3().has(Feature::BankKeys));
        assert_eq!(Declaration::placeholder("pin.pki.tries-1"), "0");
        assert_eq!(Declaration::placeholder("rec.ssse.EF05.1"), "00");
    }

    #[test]
    fn wrong_pins_never_equal_the_declared_one() {
        for digits in [[1u8, 2, 3, 4, 5, 6], [0; 6], [9; 6]] {
            for k in 1..=9 {
                let w = wrong(&digits, k);
                assert!(w.iter().zip(&digits).all(|(a, b)| a != b));
            }
        }
    }
}
