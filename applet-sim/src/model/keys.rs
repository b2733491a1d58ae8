//! Card key identifiers (docs/CARD.md §6.7): the id a command names in P2 of EXTERNAL
//! AUTHENTICATE or that a secured command's MAC is computed with. Ids are scoped to the DF
//! that holds the key; the same number means different keys in the SSSE and in the financial
//! application. An id with b8 set is DF-specific (Part 5 Table 14, docs/CARD.md §4.1): it
//! names a key of the current DF only, never one of a DF above.

use super::kinds::AppKind;

/// A card key id.
pub type KeyId = u8;

/// Which way a key authenticates (docs/CARD.md §6.5, §6.7). A key serves one direction only,
/// so the card's own answer can never be reflected back as the terminal's proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// Proves the card to the terminal: INTERNAL AUTHENTICATE (the IRK).
    Internal,
    /// Proves the terminal to the card: EXTERNAL AUTHENTICATE, command MACs.
    External,
}

/// The usage of key `id` in an application of this kind: the SSSE's (and the MF's) key 00 is
/// the IRK; every other key authenticates the terminal (the PKI application's 00 is its
/// master key, S15, docs/CARD.md §3.7).
#[must_use]
pub fn usage(kind: Option<AppKind>, id: KeyId) -> Usage {
    match (kind, id) {
        (Some(AppKind::Pboc | AppKind::Pki), _) => Usage::External,
        (_, ssse::IRK) => Usage::Internal,
        _ => Usage::External,
    }
}

/// SSSE and MF keys (§6.7).
pub mod ssse {
    use super::KeyId;

    /// IRK: internal authentication (the card's authenticity).
    pub const IRK: KeyId = 0x00;
    /// STK (STKSSSE): MAC and encryption for secure messaging, blocks and PIN unblock.
    pub const STK: KeyId = 0x02;
    /// UK (UKMF / UKSSSE): external authentication before writing EF05/EF06.
    pub const UK: KeyId = 0x04;
    /// BK: card block.
    pub const BK: KeyId = 0x05;
    /// PUK key: external authentication before `84 24` (PIN reset or unblock).
    pub const PUK_KEY: KeyId = 0x06;
    /// RKSSSE (3.0): external authentication before reading EF06/EF07/EF08.
    pub const RK: KeyId = 0x0A;
}

/// Whether `id` names DF-specific reference data (Part 5 Table 14: b8 = 1; docs/CARD.md
/// §6.7): a key of the DF itself, not inherited from the DFs above it.
#[must_use]
pub const fn df_specific(id: KeyId) -> bool {
    id & 0x80 != 0
}

/// The DF-specific keys of the SSSE's sub-applications DF01-DF07 (docs/CARD.md §6.7):
/// each DF's STK has id 82; its UKn and RKn ids 83-8E are in the profile (docs/CARD.md §3.5).
pub mod df {
    use super::KeyId;

    /// STKDFxx: the DF's own secure-messaging key (CLA 04 writes, §6.3).
    pub const STK: KeyId = 0x82;
}

/// Keys of the financial (PBOC) application (§5.4).
pub mod pboc {
    use super::KeyId;

    /// DAMK: application maintenance (block, unblock, card block).
    pub const DAMK: KeyId = 0x01;
    /// DPUK: PIN unblock.
    pub const DPUK: KeyId = 0x02;
    /// DPRK: PIN reload.
    pub const DPRK: KeyId = 0x03;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_ssse_key_00_is_internal() {
        assert_eq!(usage(Some(AppKind::Ssse), ssse::IRK), Usage::Internal);
        assert_eq!(usage(None, ssse::IRK), Usage::Internal);
        assert_eq!(usage(Some(AppKind::Pki), ssse::IRK), Usage::External);
        // In the financial application 00 is not the IRK.
        assert_eq!(usage(Some(AppKind::Pboc), 0x00), Usage::External);
        assert_eq!(usage(Some(AppKind::Ssse), ssse::RK), Usage::External);
        assert_eq!(usage(Some(AppKind::Pboc), pboc::DAMK), Usage::External);
        assert_eq!(usage(Some(AppKind::Ssse), df::STK), Usage::External);
    }

    #[test]
    fn b8_makes_an_id_df_specific() {
        assert!(df_specific(df::STK) && df_specific(0x80) && df_specific(0x8E));
        assert!(!df_specific(ssse::STK) && !df_specific(ssse::RK) && !df_specific(0x7F));
    }
}
