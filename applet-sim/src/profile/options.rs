//! The profile's options where the specification is silent: `[behaviour]` (docs/CARD.md
//! §9.9), each key one of the options, each value one of its values.

use super::error::{Placer, ProfileError};
use super::schema::ProfileToml;
use crate::model::Behaviour;

/// `[behaviour]`: each key one of the options of docs/CARD.md §9.9, each value one of its
/// values (the error names the line).
pub(super) fn behaviour(raw: &ProfileToml, at: &Placer<'_>) -> Result<Behaviour, ProfileError> {
    let mut b = Behaviour::default();
    for (name, value) in &raw.behaviour {
        b.set(name, value.get_ref()).map_err(|e| {
            at.error(
                value.span(),
                format!("[behaviour] {}: {e}", crate::message::printable(name)),
            )
        })?;
    }
    Ok(b)
}
