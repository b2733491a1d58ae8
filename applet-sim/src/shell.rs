//! `ssc-card shell`: APDUs as hex lines on stdin, answers on stdout (the command-line
//! contract of docs/ARCHITECTURE.md).
//!
//! Input lines: a hex APDU (spaces optional; bytes may be separated by colons, as
//! `opensc-tool` prints them: `00:A4:04:00`), `reset`, `exit` or `quit` (as in scriptor: the
//! shell ends there), `# comment`, or blank. Output: one
//! line per command, `< ` + uppercase hex bytes separated by single spaces, then ` : ` and the
//! status word's meaning; `reset` answers the ATR the same way. A line that is not valid input
//! gets one line starting with `! ` and the shell goes on. Output is flushed after every line.

use std::io::{self, BufRead, Write};

use apdu::{Response, hex_spaced, parse_hex};

use crate::SmartCard;

/// Runs the shell until end of input, `exit` or `quit`.
///
/// # Errors
/// Only I/O errors on `input` or `output`.
pub fn run(
    card: &mut impl SmartCard,
    input: impl BufRead,
    mut output: impl Write,
) -> io::Result<()> {
    let mut response = Vec::new();
    for line in input.lines() {
        let line = line?;
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if text.eq_ignore_ascii_case("exit") || text.eq_ignore_ascii_case("quit") {
            break;
        }
        if text.eq_ignore_ascii_case("reset") {
            writeln!(output, "< {}", hex_spaced(card.reset()))?;
        } else {
            match parse_hex(&text.replace(':', " ")) {
                // Malformed APDUs go to the card, which answers them as a card does (6700).
                Ok(apdu) => {
                    card.transmit_into(&apdu, &mut response);
                    writeln!(output, "{}", answer_line(&response))?;
                }
                Err(e) => writeln!(
                    output,
                    "! not a hex APDU (e.g. 00 A4 00 00 or 00:A4:00:00), `reset`, `exit` or \
                     `quit`: {e}"
                )?,
            }
        }
        output.flush()?;
    }
    Ok(())
}

/// `< 6F 1C ... 90 00 : success`.
#[must_use]
pub fn answer_line(response: &[u8]) -> String {
    match Response::split(response) {
        Some((_, sw)) => format!("< {} : {}", hex_spaced(response), sw.meaning()),
        None => format!("< {}", hex_spaced(response)),
    }
}
