//! `--trace`: a transport that reports every exchange as it happens, in the format of
//! `ssc-card serve -v` (`[name] > 00 A4 …`, `[name] < 90 00 : success`; the formatter is
//! the shell's, [`applet_sim::shell::answer_line`]). Wrapping the transports themselves
//! shows every APDU a flow sends — SELECTs and GET RESPONSEs included — to the card and to
//! the PSAM, in the order they are sent.

use apdu::hex_spaced;
use applet_sim::Profile;
use applet_sim::shell::answer_line;

use super::{Transport, TransportError};

/// Where the trace lines go.
pub type Sink = Box<dyn FnMut(&str)>;

/// A transport whose exchanges are reported to a sink, each line prefixed with `[name]`.
pub struct Traced {
    inner: Box<dyn Transport>,
    name: String,
    sink: Sink,
}

impl Traced {
    /// `inner`, its exchanges reported as `[name] …` lines to `sink`.
    #[must_use]
    pub fn new(inner: Box<dyn Transport>, name: &str, sink: Sink) -> Self {
        Self {
            inner,
            name: name.to_owned(),
            sink,
        }
    }

    fn line(&mut self, text: &str) {
        (self.sink)(&format!("[{}] {text}", self.name));
    }
}

impl Transport for Traced {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.line(&format!("> {}", hex_spaced(apdu)));
        let response = self.inner.transmit(apdu)?;
        self.line(&answer_line(&response));
        Ok(response)
    }

    fn reset(&mut self) -> Result<Vec<u8>, TransportError> {
        self.line("> reset");
        let atr = self.inner.reset()?;
        self.line(&format!("< {}", hex_spaced(&atr)));
        Ok(atr)
    }

    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        self.inner.atr()
    }

    fn profile(&self) -> Option<&Profile> {
        self.inner.profile()
    }

    fn use_profile(&mut self, profile: Option<&str>) -> Result<bool, TransportError> {
        self.inner.use_profile(profile)
    }

    fn fresh_card(&mut self) -> Result<(), TransportError> {
        self.inner.fresh_card()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::transport::SimTransport;

    #[test]
    fn every_exchange_is_reported_as_serve_v_does() {
        let lines = Rc::new(RefCell::new(Vec::<String>::new()));
        let sink = Rc::clone(&lines);
        let profile = Profile::builtin("gen3").unwrap();
        let mut t = Traced::new(
            Box::new(SimTransport::new(&profile)),
            "card",
            Box::new(move |l| sink.borrow_mut().push(l.to_owned())),
        );
        t.transmit(&crate::card::select_ssse(false)).unwrap();
        t.reset().unwrap();
        let lines = lines.borrow();
        assert_eq!(
            lines[0],
            "[card] > 00 A4 04 0C 0F 73 78 31 2E 73 68 2E C9 E7 BB E1 B1 A3 D5 CF"
        );
        assert_eq!(lines[1], "[card] < 90 00 : success");
        assert_eq!(lines[2], "[card] > reset");
        assert!(lines[3].starts_with("[card] < 3B 6D"), "{}", lines[3]);
    }
}
