//! The PSAM's declaration (docs/PSAM.md §7): its ATR, public files and, per application, the
//! key table that `BF DE` addresses by usage and key id. TOML like the card's profiles,
//! unknown keys refused, every error placed at its line and column.

use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::crypto::BlockCipher;
use crate::input::{InputProblem, read_text};
use crate::model::CipherSuite;
use crate::profile::{MAX_PROFILE_BYTES, ProfileError, fid_field, hex_field, line_col};

/// The built-in PSAM declarations: name and TOML text.
pub const BUILTIN: [(&str, &str); 1] = [("psam", include_str!("../../profiles/psam.toml"))];

/// The default built-in PSAM: the one paired with the built-in cards `gen3` and `gen2`.
pub const DEFAULT_PSAM: &str = "psam";

/// A validated PSAM declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PsamProfile {
    /// Where it came from (`builtin:NAME` or the file name).
    pub source_name: String,
    /// Free text.
    pub description: String,
    /// The answer to reset.
    pub atr: Vec<u8>,
    /// EF15 (SFI 15): serial (10) ‖ version ‖ key card type ‖ command set version ‖ FCI byte.
    pub public: [u8; 14],
    /// EF16 (SFI 16): the terminal number (6 bytes).
    pub terminal: [u8; 6],
    /// The applications, in declaration order.
    pub applications: Vec<PsamApplication>,
}

/// One PSAM application and its key table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PsamApplication {
    /// The profile's label, e.g. `"3.0"`.
    pub label: String,
    /// How the terminal selects it.
    pub selection: Selection,
    /// The cipher of its keys.
    pub cipher: CipherSuite,
    /// Its keys.
    pub keys: Vec<PsamKey>,
}

/// How an application is selected (docs/PSAM.md §1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// SELECT by name reaches the application itself (the 2.0 PSAM's AID `D15600000590`).
    Aid(Vec<u8>),
    /// SELECT by name reaches a directory, then SELECT of `df` by FID the application (the
    /// 3.0 PSAM: "sx3.sh.社会保障", then `DF01`).
    NameThenDf {
        /// The directory's name.
        name: Vec<u8>,
        /// The application DF's FID.
        df: u16,
    },
}

/// At most this many applications in a PSAM profile.
pub const MAX_APPLICATIONS: usize = 16;

/// A key record: addressed by `BF DE <usage> <id>` (docs/PSAM.md §2).
#[derive(Clone, PartialEq, Eq)]
pub struct PsamKey {
    /// Key id (P2 of `BF DE`).
    pub id: u8,
    /// Usage byte (P1 of `BF DE`): b8–b6 the diversification levels, b5–b1 the key type.
    pub usage: u8,
    /// The key.
    pub value: Vec<u8>,
}

impl std::fmt::Debug for PsamKey {
    /// The key value is not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PsamKey {{ id: {:#04x}, usage: {:#04x}, value: {} bytes }}",
            self.id,
            self.usage,
            self.value.len()
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PsamToml {
    psam: HeaderToml,
    #[serde(default)]
    application: Vec<Spanned<ApplicationToml>>,
    #[serde(default)]
    key: Vec<Spanned<KeyToml>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderToml {
    description: String,
    atr: Spanned<String>,
    serial: Spanned<String>,
    #[serde(default = "default_version")]
    version: u8,
    terminal: Spanned<String>,
}

fn default_version() -> u8 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplicationToml {
    label: String,
    aid: Option<String>,
    name: Option<String>,
    df: Option<String>,
    cipher: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyToml {
    application: String,
    id: u8,
    usage: u8,
    value: String,
}

impl PsamProfile {
    /// A built-in PSAM by name.
    ///
    /// # Errors
    /// [`ProfileError`] for an unknown name.
    pub fn builtin(name: &str) -> Result<Self, ProfileError> {
        let text = builtin_text(name).ok_or_else(|| whole_file(name, unknown_builtin(name)))?;
        Self::parse(text, &format!("builtin:{name}"))
    }

    /// A built-in PSAM by name or, if none has that name, a declaration file (a regular file
    /// of at most 1 MiB).
    ///
    /// # Errors
    /// [`ProfileError`] naming the file and what is wrong where.
    pub fn load(name_or_path: &str) -> Result<Self, ProfileError> {
        if builtin_text(name_or_path).is_some() {
            return Self::builtin(name_or_path);
        }
        let text = read_text(Path::new(name_or_path), MAX_PROFILE_BYTES).map_err(|e| {
            whole_file(
                name_or_path,
                if e.is_not_found() && !name_or_path.contains(['/', '.']) {
                    format!("{} and no such file", unknown_builtin(name_or_path))
                } else if let InputProblem::Io(io) = &e.problem {
                    format!("cannot read PSAM profile: {io}")
                } else {
                    e.problem.to_string()
                },
            )
        })?;
        Self::parse(&text, name_or_path)
    }

    /// Parses and validates a PSAM declaration; `source_name` is used in errors.
    ///
    /// # Errors
    /// [`ProfileError`] with the line and column of the offending entry.
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
        let raw: PsamToml = toml::from_str(text)
            .map_err(|e| at(e.span().unwrap_or(0..0), e.message().trim().to_owned()))?;
        let h = &raw.psam;
        let field = |s: &Spanned<String>, name: &str, len: Range<usize>| {
            let bytes = hex_field(s.get_ref(), name, len.end).map_err(|m| at(s.span(), m))?;
            if len.contains(&bytes.len()) {
                Ok(bytes)
            } else {
                Err(at(
                    s.span(),
                    format!("{name}: {} bytes, expected {len:?}", bytes.len()),
                ))
            }
        };
        let atr = field(&h.atr, "atr", 2..34)?;
        if atr.first() != Some(&0x3B) {
            return Err(at(
                h.atr.span(),
                "atr: an ATR starts with 3B (direct convention)".into(),
            ));
        }
        let serial = field(&h.serial, "serial", 10..11)?;
        let terminal = field(&h.terminal, "terminal", 6..7)?;
        let mut public = [0u8; 14];
        public[..10].copy_from_slice(&serial);
        public[10] = h.version;
        if let Some(extra) = raw.application.get(MAX_APPLICATIONS) {
            return Err(at(
                extra.span(),
                format!("at most {MAX_APPLICATIONS} applications"),
            ));
        }
        let mut applications: Vec<PsamApplication> = Vec::new();
        for entry in &raw.application {
            let app =
                application(entry.get_ref(), &applications).map_err(|m| at(entry.span(), m))?;
            applications.push(app);
        }
        if let Some(extra) = raw.key.get(256) {
            return Err(at(extra.span(), "at most 256 keys".into()));
        }
        if applications.is_empty() {
            return Err(at(0..0, "a PSAM has at least one [[application]]".into()));
        }
        for entry in &raw.key {
            key(entry.get_ref(), &mut applications).map_err(|m| at(entry.span(), m))?;
        }
        Ok(Self {
            source_name: source_name.to_owned(),
            description: h.description.clone(),
            atr,
            public,
            terminal: terminal.try_into().unwrap_or_default(),
            applications,
        })
    }
}

fn application(t: &ApplicationToml, before: &[PsamApplication]) -> Result<PsamApplication, String> {
    if t.label.is_empty() {
        return Err("label: empty".into());
    }
    if before.iter().any(|a| a.label == t.label) {
        return Err(format!("application {:?} is declared twice", t.label));
    }
    let name = |v: &str, f: &str| {
        let b = hex_field(v, f, 16)?;
        if b.len() < 5 {
            return Err(format!("{f}: {} bytes, expected 5 to 16", b.len()));
        }
        Ok(b)
    };
    let selection = match (&t.aid, &t.name, &t.df) {
        (Some(aid), None, None) => Selection::Aid(name(aid, "aid")?),
        (None, Some(n), Some(df)) => {
            let df = fid_field(df).map_err(|e| e.replacen("fid", "df", 1))?;
            Selection::NameThenDf {
                name: name(n, "name")?,
                df,
            }
        }
        _ => {
            return Err(
                "an application has either `aid` (selected by AID) or `name` and `df` \
                 (a directory selected by name, then the application DF by FID)"
                    .into(),
            );
        }
    };
    let names: Vec<&[u8]> = before.iter().map(|a| a.selection.name()).collect();
    if names.contains(&selection.name()) {
        return Err("two applications are selected by the same name".into());
    }
    Ok(PsamApplication {
        label: t.label.clone(),
        selection,
        cipher: t.cipher.parse().map_err(|e| format!("cipher: {e}"))?,
        keys: Vec::new(),
    })
}

fn key(t: &KeyToml, apps: &mut [PsamApplication]) -> Result<(), String> {
    let Some(i) = apps.iter().position(|a| a.label == t.application) else {
        let labels: Vec<&str> = apps.iter().map(|a| a.label.as_str()).collect();
        return Err(format!(
            "application {:?} is not declared above (declared: {})",
            t.application,
            labels.join(", ")
        ));
    };
    let app = apps.get_mut(i).ok_or("no application")?;
    if t.usage >> 5 > 3 {
        return Err(format!(
            "usage {:#04x}: b8-b6 give {} diversification levels, at most 3",
            t.usage,
            t.usage >> 5
        ));
    }
    if app.keys.iter().any(|k| (k.id, k.usage) == (t.id, t.usage)) {
        return Err(format!(
            "key {:#04x} is declared twice in {:?}",
            t.id, app.label
        ));
    }
    let value = hex_field(&t.value, "value", 16)?;
    BlockCipher::new(app.cipher, &value).map_err(|e| format!("value: {e}"))?;
    app.keys.push(PsamKey {
        id: t.id,
        usage: t.usage,
        value,
    });
    Ok(())
}

impl Selection {
    /// The name SELECT by name matches.
    #[must_use]
    pub fn name(&self) -> &[u8] {
        match self {
            Self::Aid(n) | Self::NameThenDf { name: n, .. } => n,
        }
    }
}

fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

fn unknown_builtin(name: &str) -> String {
    format!(
        "no built-in PSAM {name:?} (built-in: {})",
        BUILTIN.map(|(n, _)| n).join(", ")
    )
}

fn whole_file(source: &str, message: String) -> ProfileError {
    ProfileError {
        source_name: source.to_owned(),
        line: 0,
        column: 0,
        message,
    }
}
