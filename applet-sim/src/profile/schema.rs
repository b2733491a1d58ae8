//! The TOML shape of a profile (serde): unknown keys are refused; spans are kept so every
//! error can name its line and column. Validation is in `build.rs`.

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProfileToml {
    pub(super) card: CardToml,
    #[serde(default)]
    pub(super) df: Vec<Spanned<DfToml>>,
    #[serde(default)]
    pub(super) ef: Vec<Spanned<EfToml>>,
    #[serde(default)]
    pub(super) pin: Vec<Spanned<PinToml>>,
    #[serde(default)]
    pub(super) key: Vec<Spanned<KeyToml>>,
    #[serde(default)]
    pub(super) options: OptionsToml,
    /// `[behaviour]`: the choices where the specification is silent (docs/CARD.md §9.9).
    #[serde(default)]
    pub(super) behaviour: std::collections::BTreeMap<String, Spanned<String>>,
    /// The medical e-purse (docs/CARD.md §4.6, §6.8), when the card has one.
    pub(super) purse: Option<Spanned<PurseToml>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct OptionsToml {
    pub(super) challenge_seed: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CardToml {
    pub(super) description: String,
    pub(super) region: Option<String>,
    pub(super) atr: Spanned<String>,
    pub(super) protocol: Spanned<String>,
    pub(super) cipher: Spanned<String>,
    /// A card in a chosen state: blocked (CARD BLOCK done).
    #[serde(default)]
    pub(super) blocked: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DfToml {
    pub(super) id: String,
    pub(super) parent: String,
    pub(super) fid: Option<String>,
    pub(super) name: Option<String>,
    pub(super) dir_sfi: Option<u8>,
    pub(super) algorithm: Option<u8>,
    pub(super) fci: Option<String>,
    pub(super) kind: Option<String>,
    /// A card in a chosen state: the application blocked, `temporary` or `permanent`.
    pub(super) blocked: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EfToml {
    pub(super) parent: String,
    pub(super) fid: String,
    pub(super) sfi: Option<u8>,
    pub(super) structure: String,
    pub(super) size: Option<usize>,
    pub(super) max_records: Option<usize>,
    pub(super) record_size: Option<usize>,
    pub(super) read: String,
    pub(super) update: String,
    pub(super) data: Option<String>,
    /// Each record with its place in the text (a bad record's error names its column).
    #[serde(default)]
    pub(super) records: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PinToml {
    pub(super) parent: String,
    pub(super) reference: u8,
    pub(super) encoding: String,
    pub(super) min_digits: u8,
    pub(super) max_digits: u8,
    pub(super) value: String,
    pub(super) max_tries: u8,
    pub(super) unblock: String,
    /// A card in a chosen state: tries left (0 = blocked); `max_tries` when absent.
    pub(super) tries: Option<Spanned<u8>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct KeyToml {
    pub(super) parent: String,
    pub(super) id: u8,
    #[serde(default)]
    pub(super) version: u8,
    pub(super) value: Option<String>,
    pub(super) master: Option<String>,
    #[serde(default)]
    pub(super) diversify: Vec<String>,
    #[serde(default = "default_key_tries")]
    pub(super) max_tries: u8,
    /// A card in a chosen state: tries left (0 = locked); `max_tries` when absent.
    pub(super) tries: Option<Spanned<u8>>,
}

pub(super) fn default_key_tries() -> u8 {
    3
}

/// The medical e-purse (docs/CARD.md §4.6, §6.8): where it lives, its keys and its money.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PurseToml {
    pub(super) parent: String,
    pub(super) dlk: PurseKeyToml,
    pub(super) dpk: PurseKeyToml,
    pub(super) dtk: PurseKeyToml,
    pub(super) dsk: PurseKeyToml,
    #[serde(default)]
    pub(super) balance: u32,
    pub(super) max_balance: u32,
    #[serde(default)]
    pub(super) load_seq: u16,
    #[serde(default)]
    pub(super) purchase_seq: u16,
    #[serde(default)]
    pub(super) spip: u32,
    #[serde(default)]
    pub(super) spfp: u32,
    pub(super) year: String,
    pub(super) start_day: String,
}

/// A purse key: a card key (`value`) or a master key and its diversification, with the
/// index and version INIT uses (DTK and DSK have none).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PurseKeyToml {
    pub(super) index: Option<u8>,
    pub(super) version: Option<u8>,
    pub(super) value: Option<String>,
    pub(super) master: Option<String>,
    #[serde(default)]
    pub(super) diversify: Vec<String>,
}
