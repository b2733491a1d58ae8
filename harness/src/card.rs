//! Commands the harness builds from what the card model names once: the applications' names
//! ([`applet_sim::model::aid`]) and key ids ([`applet_sim::model::keys`]), docs/CARD.md §3,
//! §6.7.

use applet_sim::model::aid;

/// SELECT by DF name `00 A4 04 P2 Lc name [Le]`: with `fci`, P2 00 and Le 00 (the FCI
/// returned); without, P2 0C and no Le. `None` for a name longer than 255 bytes.
#[must_use]
pub fn select_by_name(name: &[u8], fci: bool) -> Option<Vec<u8>> {
    let lc = u8::try_from(name.len()).ok()?;
    let mut apdu = vec![0x00, 0xA4, 0x04, if fci { 0x00 } else { 0x0C }, lc];
    apdu.extend_from_slice(name);
    if fci {
        apdu.push(0x00);
    }
    Some(apdu)
}

/// SELECT the SSSE by name (§3.2), FCI requested or not.
#[must_use]
pub fn select_ssse(fci: bool) -> Vec<u8> {
    select_by_name(aid::SSSE, fci).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_ssse_is_the_spec_bytes() {
        assert_eq!(
            apdu::hex_compact(&select_ssse(false)),
            "00A4040C0F7378312E73682EC9E7BBE1B1A3D5CF"
        );
        assert_eq!(
            apdu::hex_compact(&select_ssse(true)),
            "00A404000F7378312E73682EC9E7BBE1B1A3D5CF00"
        );
    }
}
