//! The issuer-security flows against `ssc-card shell`, driven by a terminal written
//! independently in Python (`scripts/independent_terminal.py`: `cryptography` and `hashlib`,
//! no code shared with the card): INTERNAL/EXTERNAL AUTHENTICATE, EF06, PIN reset and
//! unblock, a secure-messaging write, APPLICATION and CARD BLOCK, the PKI VERIFY cryptogram
//! and the PBOC commands, for the SM4 (gen3) and DES (gen2) profiles; the medical e-purse
//! (a load then a purchase, MAC2 and TAC checked); on gen3 the PKI commands too (docs/CARD.md
//! §3.7.1: `80 C4`, key pair generation, export and a signature verified by the script's own
//! SM2, the envelope imports, `84 5E`, `84 D4`).
//!
//! Needs `python3` with `cryptography` (Debian: python3-cryptography). Without it the test
//! says so and passes, except under CI (`CI` set), where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

fn python() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import cryptography, hashlib; hashlib.new('sm3')"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn an_independent_terminal_agrees_with_the_card() {
    let Some(python) = python() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI: python3 with cryptography (and OpenSSL's SM3) is required"
        );
        eprintln!(
            "SKIPPED: no python3 with `cryptography` and SM3 (apt-get install python3-cryptography)"
        );
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/independent_terminal.py");
    for profile in ["gen3", "gen2"] {
        let out = Command::new(python)
            .arg(&script)
            .arg(env!("CARGO_BIN_EXE_ssc-card"))
            .arg(profile)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.starts_with("ok:"),
            "{profile}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
