//! The software PSAM's keys: as a profile gives them to its card, or as a keys file
//! (`--keys FILE`, README "Keys files") gives them, card keys or master keys with their
//! diversification levels (docs/CARD.md §6.6); resolved for one card by its ATR.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use applet_sim::Profile;
use applet_sim::crypto::{DiversifyError, Factors};
use applet_sim::model::keys::df_specific;
use applet_sim::model::{AppKind, CipherSuite, UnknownName};
use serde::Deserialize;

/// Which application's key table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum App {
    /// The SSSE (SSC conventions, the card's cipher suite).
    Ssse,
    /// The financial application (PBOC conventions, 3DES).
    Pboc,
    /// A sub-application of the SSSE by its FID (`DF01`): its DF-specific keys (ids with b8
    /// set, docs/CARD.md §6.7), SSC conventions and the card's cipher suite.
    Sub(u16),
}

impl std::fmt::Display for App {
    /// `SSSE`, `financial application`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ssse => f.write_str("SSSE"),
            Self::Pboc => f.write_str("financial application"),
            Self::Sub(fid) => write!(f, "{fid:04X}"),
        }
    }
}

impl App {
    /// The card application this key table serves.
    #[must_use]
    pub fn kind(self) -> AppKind {
        match self {
            Self::Ssse | Self::Sub(_) => AppKind::Ssse,
            Self::Pboc => AppKind::Pboc,
        }
    }
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

/// Card keys by application and id, and the SSSE's cipher suite.
pub(super) type Resolved = BTreeMap<(App, u8), Vec<u8>>;

/// The largest keys file read (a few dozen keys take a few KB).
pub const MAX_KEYS_BYTES: u64 = 64 << 10;

/// A keys file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// The file cannot be read (missing, not a regular file, larger than [`MAX_KEYS_BYTES`]).
    #[error("{}: cannot read the keys file: {}", .0.path.display(), .0.problem)]
    Read(applet_sim::input::InputError),
    /// The file's content is wrong.
    #[error("{}: {problem}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line for a syntax or field error.
        problem: KeysFileError,
    },
}

/// What is wrong in the text of a keys file.
#[derive(Debug, thiserror::Error)]
pub enum KeysFileError {
    /// Not TOML, or a field that is not expected (with the line).
    #[error("{0}")]
    Syntax(toml::de::Error),
    /// An unknown cipher suite.
    #[error("cipher: {0}")]
    Cipher(UnknownName),
    /// A key entry that cannot be used.
    #[error("key #{number} (id {id:02X}): {problem}")]
    Key {
        /// 1-based position of the `[[key]]` entry.
        number: usize,
        /// Its id.
        id: u8,
        /// What is wrong.
        problem: KeyProblem,
    },
}

/// What is wrong with one `[[key]]` entry.
#[derive(Debug, thiserror::Error)]
pub enum KeyProblem {
    /// An unknown application.
    #[error("app: expected \"ssse\", \"pboc\" or a sub-application's FID (\"DF01\"), found {0:?}")]
    App(String),
    /// A key value that is not hex.
    #[error("{0}")]
    Hex(apdu::HexError),
    /// Neither a value nor a master key with its levels.
    #[error("give value, or master with diversify")]
    Source,
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

/// A sub-application's FID as keys files write it (`DF01`, docs/CARD.md §3.1).
fn sub_application(word: &str) -> Option<App> {
    let hex = word.strip_prefix("DF").filter(|h| h.len() == 2)?;
    let number = u8::from_str_radix(hex, 16).ok()?;
    Some(App::Sub(0xDF00 | u16::from(number)))
}

impl KeyToml {
    /// The entry's application and key.
    fn resolve(&self) -> Result<(App, KeySource), KeyProblem> {
        let app = match self.app.as_str() {
            "ssse" => App::Ssse,
            "pboc" => App::Pboc,
            other => sub_application(other).ok_or_else(|| KeyProblem::App(other.to_owned()))?,
        };
        let hex = |s: &str| apdu::parse_hex(s).map_err(KeyProblem::Hex);
        let source = match (&self.value, &self.master) {
            (Some(v), None) if self.diversify.is_empty() => KeySource::Card(hex(v)?),
            (None, Some(m)) => KeySource::Master {
                master: hex(m)?,
                levels: self.diversify.clone(),
            },
            _ => return Err(KeyProblem::Source),
        };
        Ok((app, source))
    }
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
                    // A DF-specific key of a DF below the SSSE (docs/CARD.md §6.7).
                    AppKind::Ssse if df_specific(k.id) => App::Sub(profile.fid_of_df(&k.parent)?),
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

    /// Reads a keys file (a regular file of at most [`MAX_KEYS_BYTES`]; TOML: `cipher`, optional `region`, `[[key]]` entries with `app`
    /// (`ssse` or `pboc`), `id`, and `value` or `master` + `diversify`).
    ///
    /// # Errors
    /// [`KeysError`] naming the file, and the line for a syntax or field error.
    pub fn load(path: &Path) -> Result<Self, KeysError> {
        let text = applet_sim::input::read_text(path, MAX_KEYS_BYTES).map_err(KeysError::Read)?;
        Self::parse(&text).map_err(|problem| KeysError::Invalid {
            path: path.to_owned(),
            problem,
        })
    }

    /// Parses the text of a keys file.
    ///
    /// # Errors
    /// [`KeysFileError`] with the line of the problem.
    pub fn parse(text: &str) -> Result<Self, KeysFileError> {
        let raw: KeysToml = toml::from_str(text).map_err(KeysFileError::Syntax)?;
        // The names of the profile field `cipher`.
        let cipher = raw
            .cipher
            .parse::<CipherSuite>()
            .map_err(KeysFileError::Cipher)?;
        let mut keys = Vec::with_capacity(raw.key.len());
        for (n, k) in raw.key.iter().enumerate() {
            let (app, source) = k.resolve().map_err(|problem| KeysFileError::Key {
                number: n + 1,
                id: k.id,
                problem,
            })?;
            keys.push((app, k.id, source));
        }
        Ok(Self {
            cipher,
            region: raw.region,
            keys,
        })
    }

    /// The cipher suite of the SSSE's keys.
    pub(super) fn cipher(&self) -> CipherSuite {
        self.cipher
    }

    /// The card keys of the card with `atr`: master keys diversified with the region and
    /// the card's identity (§6.6); the financial application's keys are 3DES.
    ///
    /// # Errors
    /// Why a master key cannot be diversified.
    pub(super) fn resolve(&self, atr: &[u8]) -> Result<Resolved, DiversifyError> {
        let factors = Factors {
            region: self.region.as_deref(),
            atr,
        };
        let mut resolved = BTreeMap::new();
        for (app, id, source) in &self.keys {
            let cipher = self.cipher.for_app(Some(app.kind()));
            let value = match source {
                KeySource::Card(v) => v.clone(),
                KeySource::Master { master, levels } => factors.derive(cipher, master, levels)?,
            };
            resolved.insert((*app, *id), value);
        }
        Ok(resolved)
    }
}
