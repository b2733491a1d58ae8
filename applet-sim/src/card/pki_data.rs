//! The PKI application's secrets on the card (docs/CARD.md §3.7): the SM2 private keys
//! (persistent, on the state file, never answered) and the session (the chosen key pair and
//! an imported SM4 key). Kept apart from the commands (`pki.rs`) so the card's state and its
//! durable records depend on the data only.

use std::fmt;

use crate::command::KeyPairFiles;
use crate::fs::{FileSystem, Node, NodeId};
use crate::pki;

/// One SM2 private key: the DF that holds it, its file id, the scalar.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct PrivateKey {
    pub(super) df: NodeId,
    pub(super) fid: u16,
    pub(super) d: [u8; 32],
}

/// The PKI application's SM2 private keys (persistent; docs/CARD.md §3.7). Not printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct PrivateKeys(Vec<PrivateKey>);

impl fmt::Debug for PrivateKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKeys({} keys)", self.0.len())
    }
}

impl PrivateKeys {
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn get(&self, df: NodeId, fid: u16) -> Option<sm2::SecretKey> {
        self.0
            .iter()
            .find(|k| k.df == df && k.fid == fid)
            .and_then(|k| pki::secret_key(&k.d))
    }

    /// Adds or replaces the key of `df`'s file `fid`.
    pub(super) fn put(&mut self, df: NodeId, fid: u16, d: [u8; 32]) {
        self.0.retain(|k| !(k.df == df && k.fid == fid));
        self.0.push(PrivateKey { df, fid, d });
    }

    /// The state file's form (`Record::PkiKeys`).
    pub(super) fn to_record(&self) -> Vec<(u16, u16, [u8; 32])> {
        self.0.iter().map(|k| (k.df.raw(), k.fid, k.d)).collect()
    }

    /// From the state file: each key in a DF of this file system, a valid scalar, once.
    pub(super) fn from_record(
        fs: &FileSystem,
        keys: Vec<(u16, u16, [u8; 32])>,
    ) -> Result<Self, String> {
        let mut out = Self::default();
        for (node, fid, d) in keys {
            let df = NodeId::from_raw(node);
            if !matches!(fs.node(df), Some(Node::Df(_))) {
                return Err(format!("a private key in file #{node}, which is not a DF"));
            }
            if pki::secret_key(&d).is_none() || out.get(df, fid).is_some() {
                return Err(format!(
                    "a private key {fid:04X} that is not valid or twice"
                ));
            }
            out.0.push(PrivateKey { df, fid, d });
        }
        Ok(out)
    }
}

/// What the PKI application keeps until reset or another application: the key pair chosen
/// for export (`80 C9 82 00`) and the SM4 key imported by `80 4A` [I]. Not printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Session {
    pub(super) export: Option<KeyPairFiles>,
    pub(super) session_key: Option<[u8; 16]>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Session {{ export: {:?}, session key: {} }}",
            self.export,
            self.session_key.is_some()
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::profile::Profile;

    #[test]
    fn a_state_files_private_keys_are_checked() {
        let profile = Profile::builtin("gen3").unwrap();
        let (fs, dfs) = profile.file_system();
        let cert = dfs.node("CERT").raw();
        let good = [7u8; 32];
        let keys =
            PrivateKeys::from_record(&fs, vec![(cert, 0x13, good), (cert, 0x15, good)]).unwrap();
        assert_eq!(keys.to_record().len(), 2);
        // A scalar out of range, the same file twice, a node that is no DF: refused.
        for bad in [
            vec![(cert, 0x13, [0u8; 32])],
            vec![(cert, 0x13, [0xFF; 32])],
            vec![(cert, 0x13, good), (cert, 0x13, good)],
            vec![(u16::MAX, 0x13, good)],
        ] {
            assert!(PrivateKeys::from_record(&fs, bad).is_err());
        }
        // One good key alone is accepted (neither check fires on its own).
        assert!(PrivateKeys::from_record(&fs, vec![(cert, 0x13, good)]).is_ok());
        assert!(PrivateKeys::default().is_empty() && !keys.is_empty());
    }
}
