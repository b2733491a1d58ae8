//! Commands the harness builds from what the card model names once: the applications' names
//! ([`applet_sim::model::aid`]) and key ids ([`applet_sim::model::keys`]), docs/CARD.md §3,
//! §6.7.

use applet_sim::model::{PinTextError, PinValue, aid};

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

/// VERIFY `00 20 00 <reference>` of a PIN given as digits, packed BCD and F-padded as the
/// SSSE and the financial application take it (docs/CARD.md §5.1).
///
/// # Errors
/// [`PinTextError`] when the PIN is not 1 to 16 decimal digits.
pub fn verify(reference: u8, pin: &str) -> Result<Vec<u8>, PinTextError> {
    let block = PinValue::from_digits(pin)?.to_bcd();
    let mut apdu = vec![0x00, 0x20, 0x00, reference];
    // At most 16 digits: 8 bytes.
    apdu.push(u8::try_from(block.len()).unwrap_or(0));
    apdu.extend(block);
    Ok(apdu)
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
        assert_eq!(
            apdu::hex_compact(&verify(0, "123456").unwrap()),
            "0020000003123456"
        );
        assert_eq!(
            apdu::hex_compact(&verify(0x81, "12345").unwrap()),
            "002000810312345F"
        );
        assert!(verify(0, "12a4").is_err());
    }
}
