//! The card declaration: the profile that says what the card under test holds (its ATR,
//! data, PINs and their try limits, keys, applications, protocol and cipher), and the
//! declared values vector files refer to with `$…` instead of the built-in card's bytes
//! (vectors/README.md, "Declared values").
//!
//! In process the card is built from the declaration; on a reader the declaration says what
//! the card in it should be, and the suite's expectations follow it either way.

use std::collections::VecDeque;
use std::fmt;

use applet_sim::Profile;
use applet_sim::model::{AppKind, CipherSuite, PinEncoding, Protocol, Structure, Unblock};
use applet_sim::profile::{EfDef, PinDef};

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// Hex: a PIN as the card's encoding carries it, a count as hex digits.
    Hex,
    /// Text: a PIN as its digits, a count in decimal.
    Text,
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
#[derive(Clone, Debug)]
pub struct Declaration {
    /// The profile (a built-in name or a file).
    pub profile: Profile,
    /// The name it was given by (`gen3`, `vendor.toml`).
    pub name: String,
}

impl Declaration {
    /// The declaration of `profile`, known as `name`.
    #[must_use]
    pub fn new(name: &str, profile: Profile) -> Self {
        Self {
            profile,
            name: name.to_owned(),
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

    /// The labels of the DFs under (and including) the application of `role`, nearest first.
    fn subtree(&self, role: Role) -> Result<Vec<&str>, Missing> {
        let root = match role.kind() {
            None => "MF",
            Some(kind) => self
                .profile
                .dfs
                .iter()
                .find(|d| d.kind == Some(kind))
                .map(|d| d.id.as_str())
                .ok_or_else(|| Missing(format!("the declared card has no {}", role.describe())))?,
        };
        let mut order = vec![root];
        let mut queue = VecDeque::from([root]);
        while let Some(label) = queue.pop_front() {
            for d in self.profile.dfs.iter().filter(|d| d.parent == label) {
                order.push(&d.id);
                queue.push_back(&d.id);
            }
        }
        Ok(order)
    }

    /// The PIN of `role` (`$pin.ROLE`) or the PUK of the PKI user PIN (`$puk.pki`).
    fn pin(&self, role: Role, puk: bool) -> Result<&PinDef, Missing> {
        let labels = self.subtree(role)?;
        let in_app = |p: &&PinDef| labels.contains(&p.parent.as_str());
        let found = match (role, puk) {
            (Role::Pki, false) => self
                .profile
                .pins
                .iter()
                .filter(in_app)
                .find(|p| matches!(p.unblock, Unblock::Puk(_))),
            (Role::Pki, true) => self
                .profile
                .pins
                .iter()
                .filter(in_app)
                .find_map(|p| match p.unblock {
                    Unblock::Puk(r) => Some((p.parent.clone(), r)),
                    _ => None,
                })
                .and_then(|(parent, r)| {
                    self.profile
                        .pins
                        .iter()
                        .find(|p| p.parent == parent && p.reference == r)
                }),
            (_, false) => self.profile.pins.iter().find(in_app),
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

    /// The EF found by following `fids` from the application of `role` (each one the
    /// nearest file of that identifier below the previous).
    fn ef(&self, role: Role, fids: &[u16]) -> Result<&EfDef, Missing> {
        let (last, dfs) = fids
            .split_last()
            .ok_or_else(|| Missing("no file named".into()))?;
        let mut labels = self.subtree(role)?;
        for fid in dfs {
            let df = labels
                .iter()
                .find_map(|l| {
                    self.profile
                        .dfs
                        .iter()
                        .find(|d| d.id == *l && d.fid == Some(*fid))
                })
                .ok_or_else(|| Missing(format!("the declared card has no DF {fid:04X}")))?;
            labels = self.subtree_of(&df.id);
        }
        labels
            .iter()
            .find_map(|l| {
                self.profile
                    .efs
                    .iter()
                    .find(|e| e.parent == *l && e.control.fid == *last)
            })
            .ok_or_else(|| {
                Missing(format!(
                    "the declared card has no EF {last:04X} in its {}",
                    role.describe()
                ))
            })
    }

    fn subtree_of<'a>(&'a self, root: &'a str) -> Vec<&'a str> {
        let mut order = vec![root];
        let mut i = 0;
        while let Some(label) = order.get(i).copied() {
            order.extend(
                self.profile
                    .dfs
                    .iter()
                    .filter(|d| d.parent == label)
                    .map(|d| d.id.as_str()),
            );
            i += 1;
        }
        order
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
        Ok(self.value(&reference, context))
    }

    /// What stands for the reference `name` when the declaration cannot give it (the case is
    /// N/A, but its lines must still parse): one hex digit for a count in a `<` line
    /// (`63C$pin.pki.tries-1`), a byte for other values, `0` in text.
    #[must_use]
    pub fn placeholder(name: &str, context: Context) -> &'static str {
        let count = Reference::parse(name).is_ok_and(|r| r.is_count());
        match context {
            Context::Hex if !count => "00",
            _ => "0",
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
                Context::Text => n.to_string(),
            })
        };
        match &r.what {
            What::Atr => Ok(apdu::hex_compact(&self.profile.atr)),
            What::Pin { role, puk, part } => {
                let pin = self.pin(*role, *puk)?;
                let digits = pin_digits(pin);
                match part {
                    PinPart::Value => Ok(encode(&digits, pin.encoding, context)),
                    PinPart::Wrong(k) => Ok(encode(&wrong(&digits, *k), pin.encoding, context)),
                    PinPart::Tries => number(i64::from(pin.max_tries)),
                    PinPart::Digits => number(i64::try_from(digits.len()).unwrap_or(0)),
                }
            }
            What::KeyTries { role, id } => {
                let labels = self.subtree(*role)?;
                let key = self
                    .profile
                    .keys
                    .iter()
                    .find(|k| k.id == *id && labels.contains(&k.parent.as_str()))
                    .ok_or_else(|| {
                        Missing(format!(
                            "the declared {} has no key {id:02X}",
                            role.describe()
                        ))
                    })?;
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
        Context::Text => digits.iter().map(|d| char::from(b'0' + d)).collect(),
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
        assert_eq!(
            Declaration::placeholder("pin.pki.tries-1", Context::Hex),
            "0"
        );
        assert_eq!(
            Declaration::placeholder("rec.ssse.EF05.1", Context::Hex),
            "00"
        );
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
