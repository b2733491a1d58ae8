//! Card profiles: a TOML file describing one card (ATR, protocol, applications, files, PIN
//! objects), validated into a [`Profile`] that [`crate::Card::new`] builds a card from.
//!
//! Unknown keys are refused, and every error names the file, the line and the column.
//! Built-in profiles are embedded in the binary ([`Profile::builtin`]).

mod build;
mod canonical;
mod chosen;
mod error;
mod options;
mod schema;

use std::collections::HashMap;
use std::path::Path;

pub(crate) use build::{fid_field, hex_field};
pub use error::{ProfileError, line_col, location};

use crate::input::{InputProblem, read_text};

use crate::fs::{Df, Ef, EfContent, FileSystem, MF, NodeId};
use crate::model::{
    AppBlock, AppKind, CipherSuite, EfControl, PinEncoding, PinValue, Protocol, Structure, Unblock,
};

/// The built-in profiles: (name, TOML text).
pub const BUILTIN: [(&str, &str); 2] = [
    ("gen3", include_str!("../../profiles/gen3.toml")),
    ("gen2", include_str!("../../profiles/gen2.toml")),
];

/// The largest profile file [`Profile::load`] reads (the built-ins are about 14 KB).
pub const MAX_PROFILE_BYTES: u64 = 1 << 20;

/// The most bytes a card's files may hold together: transparent EFs' sizes, record EFs'
/// `max_records` × `record_size`, DFs' FCIs (a real SSC has some tens of KB; the built-ins
/// about 18 KB).
pub const MAX_CARD_BYTES: usize = 1 << 20;

/// The most files (DFs and EFs) under the MF: node numbers are 16 bits, the MF is 0.
pub const MAX_FILES: usize = u16::MAX as usize;

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "gen3";

/// The text of a built-in profile.
#[must_use]
pub fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A card key (docs/CARD.md §6.7): id, value, try counter.
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
    /// Tries after a success.
    pub max_tries: u8,
    /// Tries left when the card is made (`max_tries` unless the profile chooses fewer; 0:
    /// locked). Never more than `max_tries`.
    pub tries: u8,
}

/// Options that change behaviour the spec leaves open.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Options {
    /// Seed for GET CHALLENGE, for reproducible vectors; random when absent.
    pub challenge_seed: Option<u64>,
    /// The behaviour variants (`[behaviour]`, docs/CARD.md §9.9).
    pub behaviour: crate::model::Behaviour,
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
    /// The application blocked when the card is made (a chosen state; only an application
    /// that has the block: SSSE permanent, financial temporary or permanent).
    pub blocked: Option<AppBlock>,
}

/// An EF as the profile declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EfDef {
    /// The parent DF's label.
    pub parent: String,
    /// Identifiers, structure, size and access conditions.
    pub control: EfControl,
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
    /// Tries after a success.
    pub max_tries: u8,
    /// Tries left when the card is made (`max_tries` unless the profile chooses fewer; 0:
    /// blocked). Never more than `max_tries`.
    pub tries: u8,
    /// How it is unblocked when blocked.
    pub unblock: Unblock,
}

/// The file-system node of each DF of a profile, by label (the MF as `MF`).
#[derive(Debug)]
pub(crate) struct DfNodes<'a>(HashMap<&'a str, NodeId>);

impl DfNodes<'_> {
    /// The node of the DF labelled `label` (the MF for an unknown label, which validation
    /// rules out).
    pub(crate) fn node(&self, label: &str) -> NodeId {
        self.0.get(label).copied().unwrap_or(MF)
    }

    /// The label of each DF node (the MF as `MF`).
    pub(crate) fn labels(&self) -> HashMap<NodeId, String> {
        self.0.iter().map(|(l, n)| (*n, (*l).to_owned())).collect()
    }
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
    /// The card blocked when made (a chosen state: CARD BLOCK done).
    pub card_blocked: bool,
    /// The medical e-purse (docs/CARD.md §4.6, §6.8), when the card has one.
    pub purse: Option<crate::purse::PurseDef>,
}

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

    /// A profile from a built-in name or, if no built-in has that name, a file path: a
    /// regular file of at most [`MAX_PROFILE_BYTES`] ([`crate::input::read_text`]).
    ///
    /// # Errors
    /// [`ProfileError`] naming the file (unreadable, or what is wrong and where).
    pub fn load(name_or_path: &str) -> Result<Self, ProfileError> {
        if builtin_text(name_or_path).is_some() {
            return Self::builtin(name_or_path);
        }
        let path = Path::new(name_or_path);
        let text = read_text(path, MAX_PROFILE_BYTES).map_err(|e| ProfileError {
            source_name: name_or_path.to_owned(),
            line: 0,
            column: 0,
            message: if e.is_not_found() && !name_or_path.contains(['/', '.']) {
                format!(
                    "no built-in profile {name_or_path:?} and no such file (built-in: {})",
                    BUILTIN.map(|(n, _)| n).join(", ")
                )
            } else if let InputProblem::Io(io) = &e.problem {
                format!("cannot read profile: {io}")
            } else {
                e.problem.to_string()
            },
        })?;
        Self::parse(&text, name_or_path)
    }

    /// Parses and validates profile text; `source_name` is used in errors.
    ///
    /// # Errors
    /// [`ProfileError`] with line and column of the offending entry.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, ProfileError> {
        build::parse(text, source_name)
    }
}

impl Profile {
    /// The application kind of the DF labelled `label` (its own or its nearest ancestor's).
    #[must_use]
    pub fn kind_of_df(&self, label: &str) -> Option<AppKind> {
        kind_in(&self.dfs, label)
    }

    /// The FID of the DF labelled `label`, if it has one.
    #[must_use]
    pub fn fid_of_df(&self, label: &str) -> Option<u16> {
        self.dfs.iter().find(|d| d.id == label).and_then(|d| d.fid)
    }

    /// The card's file tree: the MF, then the DFs and EFs in declaration order (parents are
    /// declared before their children, which validation ensures); and the node of each DF
    /// by its label, for what the profile places in a DF (PINs, keys).
    #[must_use]
    pub(crate) fn file_system(&self) -> (FileSystem, DfNodes<'_>) {
        let mut fs = FileSystem::new();
        let mut nodes = DfNodes(HashMap::from([("MF", MF)]));
        for df in &self.dfs {
            let parent = nodes.node(&df.parent);
            let id = fs.add_df(Df {
                parent: Some(parent),
                fid: df.fid,
                name: df.name.clone(),
                fci: df.fci.clone(),
                children: Vec::new(),
                kind: df.kind,
            });
            nodes.0.insert(&df.id, id);
        }
        for ef in &self.efs {
            let content = match ef.control.structure {
                Structure::Transparent => EfContent::Transparent(ef.data.clone()),
                Structure::Linear | Structure::Cyclic => EfContent::Records(ef.records.clone()),
            };
            fs.add_ef(Ef {
                parent: nodes.node(&ef.parent),
                control: ef.control,
                content,
            });
        }
        (fs, nodes)
    }
}

/// The application kind a DF belongs to (its own or its nearest ancestor's), in time linear
/// in the number of DFs.
pub(super) fn kind_in<'a>(dfs: &'a [DfDef], mut label: &'a str) -> Option<AppKind> {
    let by_label: HashMap<&str, &DfDef> = dfs.iter().map(|d| (d.id.as_str(), d)).collect();
    for _ in 0..=dfs.len() {
        let df = by_label.get(label)?;
        if df.kind.is_some() {
            return df.kind;
        }
        label = &df.parent;
    }
    None
}
