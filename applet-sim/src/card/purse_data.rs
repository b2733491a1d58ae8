//! The medical e-purse's data on the card (docs/CARD.md §4.6): the purse (where it is, its
//! keys and limit, its persistent state) and the open transaction. Kept apart from the
//! commands (`purse.rs`) so the card's state and its durable records depend on the data only.

use crate::fs::{FileSystem, NodeId};
use crate::model::Structure;
use crate::purse::{Load, Purchase, PurseDef, PurseKeys, PurseState, SecretBytes};

/// The EF08 record size (§3.4): seq 2 ‖ type 1 ‖ terminal 6 ‖ time 7 ‖ three amounts 12.
pub(super) const RECORD_SIZE: usize = 0x1C;

/// The purse on the card: where it is, its keys and limit, and its persistent state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Purse {
    /// The DF that holds it; its commands answer 6D00 anywhere else.
    pub(super) owner: NodeId,
    /// The DF's cyclic EF08 of 0x1C-byte records, the purchase log, if it has one.
    pub(super) log: Option<NodeId>,
    pub(super) keys: PurseKeys,
    pub(super) max_balance: u32,
    /// Balance, counters, totals, starting day, proofs.
    pub(super) state: PurseState,
}

impl Purse {
    /// The purse a profile declares, in DF `owner`.
    pub(super) fn new(def: &PurseDef, owner: NodeId, fs: &FileSystem) -> Self {
        let log = fs.child_by_fid(owner, 0xEF08).filter(|&id| {
            fs.ef(id).is_some_and(|ef| {
                ef.control.structure == Structure::Cyclic && ef.control.record_size == RECORD_SIZE
            })
        });
        Self {
            owner,
            log,
            keys: def.keys.clone(),
            max_balance: def.max_balance,
            state: PurseState::initial(def),
        }
    }
}

/// An open transaction (volatile: a reset or any other command ends it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Session {
    /// After INIT LOAD: the load and its session key.
    Load {
        /// The load as INIT saw it.
        load: Load,
        /// SESLK.
        key: SecretBytes,
    },
    /// After INIT PURCHASE: the purchase, the card's random and the counter it answered.
    Purchase {
        /// The purchase as INIT saw it.
        purchase: Purchase,
        /// R_ICC.
        random: [u8; 4],
        /// The offline counter.
        seq: u16,
    },
}
