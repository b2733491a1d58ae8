//! Write points (docs/SECURITY.md §2): where a persistent change is made durable, and the
//! failure of such a write. The PIN object commits through these; storage implements them.

use std::fmt;

/// Where a persistent change is made durable (docs/SECURITY.md: "named write points").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WritePoint {
    /// A PIN's counter decremented, before the comparison.
    PinDecrement,
    /// A PIN's counter back to its maximum after a match or an unblock (not synced: losing it
    /// only loses a try).
    PinRestore,
    /// A PIN's value replaced (with its counter restored).
    PinValue,
    /// A key's counter decremented, before the comparison.
    KeyDecrement,
    /// A key's counter back to its maximum (not synced).
    KeyRestore,
    /// A key's value replaced, with its counter restored (the PKI key update `84 D4`).
    KeyValue,
    /// An SM2 private key stored, with its public key's EF when there is one (`80 40`,
    /// `80 C2`).
    KeyPair,
    /// An EF's content changed (UPDATE BINARY/RECORD, APPEND RECORD).
    FileUpdate,
    /// An application blocked or unblocked, or the card blocked.
    Lifecycle,
    /// The medical e-purse's balance and counters (with the EF08 record of a purchase).
    Purse,
}

impl WritePoint {
    /// The name used in reports and comments (`pin.decrement`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::PinDecrement => "pin.decrement",
            Self::PinRestore => "pin.restore",
            Self::PinValue => "pin.value",
            Self::KeyDecrement => "key.decrement",
            Self::KeyRestore => "key.restore",
            Self::KeyValue => "key.value",
            Self::KeyPair => "key.pair",
            Self::FileUpdate => "ef.update",
            Self::Lifecycle => "lifecycle",
            Self::Purse => "purse.update",
        }
    }

    /// Whether the record is synced before the command goes on.
    #[must_use]
    pub fn synced(self) -> bool {
        !matches!(self, Self::PinRestore | Self::KeyRestore)
    }
}

impl fmt::Display for WritePoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A write that did not reach the medium: the card answers 6581 and refuses every further
/// command until it is reopened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("storage failure at {point}: {message}")]
pub struct StorageFailure {
    /// The write point.
    pub point: WritePoint,
    /// What the medium said.
    pub message: String,
}
