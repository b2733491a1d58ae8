//! Two cards in lockstep: every command goes to the card under test, then to the model, and
//! the answers are compared. The card's challenge is handed to the model first, so the
//! cryptograms the PSAM computes over it are right or wrong for both alike (docs/DIFF.md).

use applet_sim::Card;

use crate::transport::{Transport, TransportError};

/// One command and the two answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// The command (for a reset: empty).
    pub command: Vec<u8>,
    /// The card under test's answer (for a reset: its ATR).
    pub card: Vec<u8>,
    /// The model's answer (for a reset: its ATR).
    pub model: Vec<u8>,
}

impl Exchange {
    /// True when the answers agree.
    #[must_use]
    pub fn agrees(&self) -> bool {
        self.card == self.model
    }
}

/// The card under test and the model, behind one [`Transport`] (the PSAM operations run
/// through it unchanged).
pub struct Lockstep<'a> {
    target: &'a mut dyn Transport,
    /// The model.
    pub model: Card,
    /// Every exchange so far.
    pub log: Vec<Exchange>,
    /// ATRs are not compared (a difference in them was reported already).
    pub ignore_atr: bool,
    /// The index of the first exchange whose answers differ.
    first: Option<usize>,
}

impl<'a> Lockstep<'a> {
    /// `target` and `model`, nothing exchanged yet.
    pub fn new(target: &'a mut dyn Transport, model: Card) -> Self {
        Self {
            target,
            model,
            log: Vec::new(),
            ignore_atr: false,
            first: None,
        }
    }

    /// The index of the first exchange whose answers differ.
    #[must_use]
    pub fn first_difference(&self) -> Option<usize> {
        self.first.filter(|i| *i < self.log.len())
    }

    /// Logs an exchange, noting the first that differs.
    fn push(&mut self, e: Exchange) {
        if self.first.is_none() && !e.agrees() {
            self.first = Some(self.log.len());
        }
        self.log.push(e);
    }

    /// Takes the log (the lockstep starts a new one).
    pub fn take_log(&mut self) -> Vec<Exchange> {
        self.first = None;
        std::mem::take(&mut self.log)
    }
}

/// GET CHALLENGE `00 84 00 00 Le`, with Le.
fn is_get_challenge(apdu: &[u8]) -> bool {
    matches!(apdu, [0x00, 0x84, 0x00, 0x00, _])
}

impl Transport for Lockstep<'_> {
    fn describe(&self) -> String {
        format!("{} against the model", self.target.describe())
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let card = self.target.transmit(apdu)?;
        if is_get_challenge(apdu)
            && let Some(random) = card.len().checked_sub(2).and_then(|n| card.get(..n))
            && card.ends_with(&[0x90, 0x00])
        {
            self.model.feed_random(random);
        }
        let model = self.model.transmit(apdu);
        self.push(Exchange {
            command: apdu.to_vec(),
            card: card.clone(),
            model,
        });
        Ok(card)
    }

    fn reset(&mut self) -> Result<Vec<u8>, TransportError> {
        let card = self.target.reset()?;
        let model = self.model.reset().to_vec();
        let model = if self.ignore_atr { card.clone() } else { model };
        self.push(Exchange {
            command: Vec::new(),
            card: card.clone(),
            model,
        });
        Ok(card)
    }

    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        self.target.atr()
    }

    fn fresh_card(&mut self) -> Result<(), TransportError> {
        self.target.fresh_card()
    }
}

/// A model card alone behind a [`Transport`]: the dry run of a unit before a card that
/// cannot be restored is given it.
pub struct ModelOnly<'a>(pub &'a mut Card);

impl Transport for ModelOnly<'_> {
    fn describe(&self) -> String {
        "the model".to_owned()
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        Ok(self.0.transmit(apdu))
    }

    fn reset(&mut self) -> Result<Vec<u8>, TransportError> {
        Ok(self.0.reset().to_vec())
    }

    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        Ok(self.0.atr().to_vec())
    }

    fn fresh_card(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}
