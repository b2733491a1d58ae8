//! [`SmartCard`]: what any card of this crate is to the outside world — the contacts of
//! ISO 7816-3 (power, reset, ATR) and the APDU exchange of ISO 7816-4. The shell, the vpcd
//! server and the harness's in-process transport take any implementation, so a second kind
//! of card (a PSAM) plugs in without touching them.

use std::io;

/// Anything that answers APDUs as a card in a reader does.
pub trait SmartCard {
    /// The answer to reset (ISO 7816-3 §8).
    fn atr(&self) -> &[u8];

    /// Warm reset: volatile state (selection, security status, pending data) is cleared;
    /// answers the ATR.
    fn reset(&mut self) -> &[u8];

    /// Power off (deactivation). Volatile state is lost; persistent state stays.
    fn power_off(&mut self) {
        self.reset();
    }

    /// Sends one command APDU; the response (data ‖ SW1 SW2) is written into `out`, which is
    /// cleared first so its buffer is reused.
    fn transmit_into(&mut self, apdu: &[u8], out: &mut Vec<u8>);

    /// Sends one command APDU and returns the response bytes (data ‖ SW1 SW2).
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.transmit_into(apdu, &mut out);
        out
    }

    /// Puts the card back as `issued` (a fresh card of the same declaration) with fresh
    /// volatile state; a card on durable storage rewrites its state.
    ///
    /// # Errors
    /// The I/O error of the rewrite; the card then refuses commands.
    fn restore_from(&mut self, issued: &Self) -> io::Result<()>
    where
        Self: Sized;

    /// Makes pending persistent writes durable (before a clean exit).
    ///
    /// # Errors
    /// The I/O error.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
