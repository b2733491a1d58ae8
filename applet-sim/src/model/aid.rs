//! The applications' names and AIDs (docs/CARD.md §3.1, §3.6, §3.7), as SELECT by name
//! (`00 A4 04 ..`) carries them.

/// The SSSE, "sx1.sh.社会保障" (the Chinese in GBK).
pub const SSSE: &[u8] = b"sx1.sh.\xC9\xE7\xBB\xE1\xB1\xA3\xD5\xCF";

/// The PKI application, "PKI.社会保障" (GBK).
pub const PKI: &[u8] = b"PKI.\xC9\xE7\xBB\xE1\xB1\xA3\xD5\xCF";

/// The PKI application's certificate ADF, "SS.CERT.ADF1".
pub const PKI_CERT: &[u8] = b"SS.CERT.ADF1";

/// The payment system environment, "1PAY.SYS.DDF01".
pub const PSE: &[u8] = b"1PAY.SYS.DDF01";

/// The financial application's ADF (UnionPay debit/credit).
pub const BANK: &[u8] = &[0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x01];

/// Every named application with the short name vector steps and tools use for it.
pub const NAMED: [(&str, &[u8]); 5] = [
    ("ssse", SSSE),
    ("pki", PKI),
    ("cert", PKI_CERT),
    ("bank", BANK),
    ("pse", PSE),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_spec_bytes() {
        assert_eq!(apdu::hex_compact(SSSE), "7378312E73682EC9E7BBE1B1A3D5CF");
        assert_eq!(apdu::hex_compact(PKI), "504B492EC9E7BBE1B1A3D5CF");
        assert_eq!(apdu::hex_compact(PKI_CERT), "53532E434552542E41444631");
        assert_eq!(apdu::hex_compact(PSE), "315041592E5359532E4444463031");
        assert_eq!(apdu::hex_compact(BANK), "A000000333010101");
    }
}
