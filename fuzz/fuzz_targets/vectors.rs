//! The vector-file parser on arbitrary text: an error names a line and column inside the
//! text, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = harness::vectors::parse_str(&text, Path::new("fuzz.apdu")) {
        assert!(e.line >= 1 && e.line <= text.lines().count().max(1), "{e}");
    }
});
