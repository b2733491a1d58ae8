//! An EF's control parameters (ISO 7816-4 §5.3.3; docs/CARD.md §3): what the profile
//! declares and the file system keeps, apart from the contents.

use super::access::Access;
use super::kinds::Structure;

/// Identifiers, structure, size and access conditions of an elementary file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EfControl {
    /// File identifier.
    pub fid: u16,
    /// Short file identifier (1..=30).
    pub sfi: Option<u8>,
    /// Structure.
    pub structure: Structure,
    /// Transparent: size in bytes; record files: the maximum number of records.
    pub capacity: usize,
    /// Record files: the longest record accepted (a cyclic EF's records all have this size).
    pub record_size: usize,
    /// Read access condition.
    pub read: Access,
    /// Update access condition.
    pub update: Access,
}
