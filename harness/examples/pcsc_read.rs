//! A PC/SC client of your own, with the `pcsc` crate alone, talking to the card that
//! `ssc-card serve` puts in pcscd's virtual reader: SELECT the SSSE, read the card number
//! (EF05 record 7), ask how many PIN tries are left (VERIFY without data costs none).
//!
//! ```sh
//! ssc-card serve &                                          # the card, in "Virtual PCD 00 00"
//! cargo run -p harness --features pcsc --example pcsc_read  # or: -- 'Other Reader Name'
//! ```
//!
//! Nothing here is specific to the virtual card: pointed at a reader holding a real social
//! security card it does the same. scripts/e2e-pcsc.sh runs it.

use std::error::Error;
use std::ffi::CString;

use pcsc::{Context, Protocols, Scope, ShareMode};

/// The SSSE's name, `sx1.sh.社会保障` in GBK (docs/CARD.md §3.2).
const SSSE: [u8; 15] = [
    0x73, 0x78, 0x31, 0x2E, 0x73, 0x68, 0x2E, 0xC9, 0xE7, 0xBB, 0xE1, 0xB1, 0xA3, 0xD5, 0xCF,
];

fn main() -> Result<(), Box<dyn Error>> {
    let reader = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Virtual PCD 00 00".to_owned());
    let ctx = Context::establish(Scope::User)?;
    let card = ctx.connect(
        &CString::new(reader.as_str())?,
        ShareMode::Shared,
        Protocols::ANY,
    )?;
    let mut buffer = [0u8; pcsc::MAX_BUFFER_SIZE];

    // SELECT the SSSE by name, without the FCI (P2 = 0C): 90 00.
    let mut select = vec![0x00, 0xA4, 0x04, 0x0C, 0x0F];
    select.extend_from_slice(&SSSE);
    let answer = card.transmit(&select, &mut buffer)?;
    if answer != [0x90, 0x00] {
        return Err(format!("SELECT SSSE answered {answer:02X?}").into());
    }

    // READ RECORD 7 of EF05 (SFI 5, P2 = 5 << 3 | 4), 11 bytes: tag 07, length 09, the card
    // number, then 90 00.
    let answer = card.transmit(&[0x00, 0xB2, 0x07, 0x2C, 0x0B], &mut buffer)?;
    let Some(([0x07, len], rest)) = answer.split_first_chunk::<2>() else {
        return Err(format!("READ RECORD 7 answered {answer:02X?}").into());
    };
    let (number, sw) = rest.split_at(rest.len().saturating_sub(2));
    if sw != [0x90, 0x00] || number.len() != usize::from(*len) {
        return Err(format!("READ RECORD 7 answered {answer:02X?}").into());
    }
    println!("reader       {reader}");
    println!("card number  {}", String::from_utf8_lossy(number));

    // VERIFY without data: 63 Cx, x tries left (9000 once verified); never costs a try.
    let answer = card.transmit(&[0x00, 0x20, 0x00, 0x00], &mut buffer)?;
    match answer {
        [0x63, x] if x & 0xF0 == 0xC0 => println!("PIN tries    {} left", x & 0x0F),
        [0x69, 0x83] => println!("PIN tries    none: the PIN is blocked"),
        other => println!("PIN status   {other:02X?}"),
    }
    Ok(())
}
