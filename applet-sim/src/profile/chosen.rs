//! A card in a chosen state (docs/CARD.md §4.5): the `tries` and `blocked` fields of a
//! profile, checked against what the card's own commands could lead to.

use toml::Spanned;

use super::error::Placer;
use super::error::ProfileError;
use super::kind_in;
use super::schema::ProfileToml;
use super::{DfDef, KeyDef, PinDef};
use crate::model::{AppBlock, AppKind, Vocabulary};

/// A card in a chosen state (docs/CARD.md §4.5): a PIN's or key's `tries` (at most its
/// `max_tries`: a profile never gives more tries than the maximum), an application's
/// `blocked` (only where the card has that block: the SSSE's permanent one, the financial
/// application's temporary or permanent one). Each error is placed at its field.
pub(super) fn chosen_state(
    raw: &ProfileToml,
    dfs: &mut [DfDef],
    pins: &mut [PinDef],
    keys: &mut [KeyDef],
    at: &Placer<'_>,
) -> Result<(), ProfileError> {
    let tries = |field: &Spanned<u8>, max: u8, what: &str| {
        let n = *field.get_ref();
        if n > max {
            return Err(at.error(
                field.span(),
                format!(
                    "tries: {n} is more than max_tries {max} of this {what} (0 = blocked, \
                     at most max_tries)"
                ),
            ));
        }
        Ok(n)
    };
    for (t, pin) in raw.pin.iter().zip(pins.iter_mut()) {
        if let Some(field) = &t.get_ref().tries {
            pin.tries = tries(field, pin.max_tries, "PIN")?;
        }
    }
    for (t, key) in raw.key.iter().zip(keys.iter_mut()) {
        if let Some(field) = &t.get_ref().tries {
            // The IRK proves the card and is never counted (EXTERNAL AUTHENTICATE refuses
            // it): no command leads to a used-up IRK, so no profile starts with one.
            let kind = kind_in(dfs, &key.parent);
            if crate::model::keys::usage(kind, key.id) == crate::model::keys::Usage::Internal {
                return Err(at.error(
                    field.span(),
                    "tries: the IRK (key 00) has no try counter the card uses".into(),
                ));
            }
            key.tries = tries(field, key.max_tries, "key")?;
        }
    }
    let parents: std::collections::HashMap<String, String> = dfs
        .iter()
        .map(|d| (d.id.clone(), d.parent.clone()))
        .collect();
    for (t, df) in raw.df.iter().zip(dfs.iter_mut()) {
        let Some(field) = &t.get_ref().blocked else {
            continue;
        };
        let block = field
            .get_ref()
            .parse::<AppBlock>()
            .map_err(|e| at.error(field.span(), format!("blocked: {e}")))?;
        let allowed = match (df.parent.as_str(), df.kind, block) {
            ("MF", Some(AppKind::Pboc), _) | ("MF", Some(AppKind::Ssse), AppBlock::Permanent) => {
                Ok(())
            }
            ("MF", Some(AppKind::Ssse), AppBlock::Temporary) => Err(
                "blocked: the SSSE has only the permanent block (84 1E 00 01), not \"temporary\""
                    .to_owned(),
            ),
            ("MF", kind, _) => Err(format!(
                "blocked: an application of kind {} has no APPLICATION BLOCK (only ssse and pboc)",
                kind.map_or("(none)", |k| k.name())
            )),
            _ => Err("blocked: only an application directly under the MF can be blocked".into()),
        };
        // A temporary block is lifted with the DAMK (84 18): without it the card could never
        // have been blocked so, nor be unblocked.
        let damk = keys.iter().any(|k| {
            k.id == crate::model::keys::pboc::DAMK && top_df(&parents, &k.parent) == df.id
        });
        let allowed = allowed.and_then(|()| match (df.kind, block) {
            (Some(AppKind::Pboc), AppBlock::Temporary) if !damk => Err(
                "blocked: a temporary block needs the application's DAMK (key 01) to lift it"
                    .to_owned(),
            ),
            _ => Ok(()),
        });
        allowed.map_err(|m| at.error(field.span(), m))?;
        df.blocked = Some(block);
    }
    Ok(())
}

/// The DF directly under the MF that `label` is (or is below), by the DFs' parents.
fn top_df<'a>(
    parents: &'a std::collections::HashMap<String, String>,
    mut label: &'a str,
) -> &'a str {
    // Parents are declared before their children, so the walk ends; bounded all the same.
    for _ in 0..parents.len() {
        match parents.get(label) {
            Some(parent) if parent != "MF" => label = parent,
            _ => break,
        }
    }
    label
}
