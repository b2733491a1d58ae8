//! The `$…` references of vector files as parsed (vectors/README.md, "Declared values"):
//! what they name, before a declaration gives their value.

use applet_sim::model::AppKind;

/// A reference that is not one of the forms of vectors/README.md (a parse error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadReference(pub String);

/// The application a reference starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    Mf,
    Ssse,
    Bank,
    Pki,
}

impl Role {
    pub(super) fn named(name: &str) -> Option<Self> {
        Some(match name {
            "mf" => Self::Mf,
            "ssse" => Self::Ssse,
            "bank" => Self::Bank,
            "pki" => Self::Pki,
            _ => return None,
        })
    }

    pub(super) fn kind(self) -> Option<AppKind> {
        match self {
            Self::Mf => None,
            Self::Ssse => Some(AppKind::Ssse),
            Self::Bank => Some(AppKind::Pboc),
            Self::Pki => Some(AppKind::Pki),
        }
    }

    pub(super) fn describe(self) -> &'static str {
        match self {
            Self::Mf => "MF",
            Self::Ssse => "SSSE application",
            Self::Bank => "financial application",
            Self::Pki => "PKI application",
        }
    }
}

/// A parsed `$…` reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Reference {
    pub(super) text: String,
    pub(super) what: What,
    /// `+N` / `-N` after a count.
    pub(super) offset: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum What {
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
    /// `$key.APP.ID.version`: the declared key's version byte (§6.7: up to three key groups);
    /// `$key.APP.ID.unheld`: the smallest version in which the card holds no such key.
    KeyVersion {
        role: Role,
        id: u8,
        unheld: bool,
    },
    /// `$aid.APP`: the application's DF name; `$aid.bank` the first named DF below the
    /// financial application's PSE (its ADF), `$aid.pse` the PSE's.
    Aid {
        role: Role,
        adf: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PinPart {
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
    pub(super) fn is_count(&self) -> bool {
        matches!(
            self.what,
            What::Pin {
                part: PinPart::Tries | PinPart::Digits,
                ..
            } | What::KeyTries { .. }
        )
    }

    pub(super) fn parse(text: &str) -> Result<Self, BadReference> {
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
            ["key", app, id, part] => {
                let role = role(app)?;
                let id = (id.len() == 2)
                    .then(|| u8::from_str_radix(id, 16).ok())
                    .flatten()
                    .ok_or_else(|| bad("expected a key id of 2 hex digits"))?;
                match *part {
                    "tries" => What::KeyTries { role, id },
                    "version" | "unheld" => What::KeyVersion {
                        role,
                        id,
                        unheld: *part == "unheld",
                    },
                    _ => return Err(bad("expected tries, version or unheld")),
                }
            }
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
        let reference = Self {
            text: text.to_owned(),
            what,
            offset,
        };
        if offset != 0 && !reference.is_count() {
            return Err(bad("only counts (tries, digits) take + or -"));
        }
        Ok(reference)
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
