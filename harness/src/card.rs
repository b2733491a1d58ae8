//! What the harness knows of the SSC card, written once: the applications' names and the key
//! ids of the issuer-security flows (docs/CARD.md §3, §5, §6.7), and the commands built from
//! them.

/// The SSSE's DF name, `sx1.sh.社会保障` (the Chinese in GBK; §3.2).
pub const SSSE_NAME: &[u8] = b"sx1.sh.\xC9\xE7\xBB\xE1\xB1\xA3\xD5\xCF";

/// The PKI application's DF name, `PKI.社会保障` (§3.7).
pub const PKI_NAME: &[u8] = b"PKI.\xC9\xE7\xBB\xE1\xB1\xA3\xD5\xCF";

/// The certificate application's DF name, `SS.CERT.ADF1` (§3.7).
pub const CERT_NAME: &[u8] = b"SS.CERT.ADF1";

/// The financial application's AID (PBOC debit/credit, §3.6).
pub const BANK_AID: &[u8] = &[0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x01];

/// The payment system environment's DF name, `1PAY.SYS.DDF01` (§3.6).
pub const PSE_NAME: &[u8] = b"1PAY.SYS.DDF01";

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
    select_by_name(SSSE_NAME, fci).unwrap_or_default()
}

/// Key ids (§6.7 for the SSSE; the financial application's after PBOC).
pub mod key {
    /// SSSE: internal authentication key (IRK).
    pub const IRK: u8 = 0x00;
    /// SSSE: secure messaging and PIN reset key (STK).
    pub const STK: u8 = 0x02;
    /// SSSE: card block key (BK).
    pub const BK: u8 = 0x05;
    /// SSSE: the issuer's PUK key (external authentication before a PIN reset or unblock).
    pub const PUK: u8 = 0x06;
    /// SSSE: the external authentication key of the reader that reads EF06 (RKSSSE).
    pub const RKSSSE: u8 = 0x0A;
    /// Financial application: application maintenance key (DAMK).
    pub const DAMK: u8 = 0x01;
    /// Financial application: PIN unblock key (DPUK).
    pub const DPUK: u8 = 0x02;
    /// Financial application: PIN reload key (DPRK).
    pub const DPRK: u8 = 0x03;
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
        assert_eq!(apdu::hex_compact(PKI_NAME), "504B492EC9E7BBE1B1A3D5CF");
        assert_eq!(apdu::hex_compact(CERT_NAME), "53532E434552542E41444631");
        assert_eq!(apdu::hex_compact(PSE_NAME), "315041592E5359532E4444463031");
    }
}
