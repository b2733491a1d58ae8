//! The in-process transport: a virtual card that answers through [`SmartCard`].

use applet_sim::{Card, Profile, SmartCard};

use super::{Transport, TransportError};

/// The in-process virtual card. Any [`SmartCard`] that can be copied serves
/// ([`SimTransport::with_card`]); the SSC card of a profile ([`SimTransport::new`]) can also
/// change profile for vector files that ask for one, and tells the PSAM its keys.
#[derive(Clone, Debug)]
pub struct SimTransport<C = Card> {
    name: String,
    /// The profile the card was built from (`None`: a card given as it is).
    profile: Option<Profile>,
    /// The card as issued: what [`Transport::fresh_card`] goes back to.
    template: C,
    card: C,
    /// The card is on a state file: a fresh card is a rewrite of it, not a copy.
    durable: bool,
    buffer: Vec<u8>,
    /// How to issue a card of another profile (`None`: the card cannot change).
    issue: Option<fn(&Profile) -> C>,
    /// Other profiles asked for by vector files, issued once: (name, profile, card).
    others: Vec<(String, Profile, C)>,
    /// The profile of the next fresh cards (`None`: the transport's own).
    current: Option<usize>,
}

impl<C: SmartCard + Clone> SimTransport<C> {
    /// A transport for any card, named `name` in reports; every case starts on a copy of
    /// `card` as given. It cannot change profile, so files that ask for one are skipped.
    #[must_use]
    pub fn with_card(name: &str, card: C) -> Self {
        Self {
            name: name.to_owned(),
            profile: None,
            card: card.clone(),
            template: card,
            durable: false,
            buffer: Vec::with_capacity(258),
            issue: None,
            others: Vec::new(),
            current: None,
        }
    }

    /// The profile of the next fresh cards and its initial card.
    fn current(&self) -> (Option<&Profile>, &C) {
        match self.current.and_then(|i| self.others.get(i)) {
            Some((_, p, card)) => (Some(p), card),
            None => (self.profile.as_ref(), &self.template),
        }
    }
}

impl SimTransport<Card> {
    /// A simulator transport for a profile.
    #[must_use]
    pub fn new(profile: &Profile) -> Self {
        Self {
            profile: Some(profile.clone()),
            issue: Some(Card::new),
            ..Self::with_card(&profile.source_name, Card::new(profile))
        }
    }

    /// The virtual card on a state file (durable mode, `--state`): its state is read back
    /// and kept; [`Transport::fresh_card`] rewrites it to the profile's initial state.
    ///
    /// # Errors
    /// The state file's error (refused, locked, I/O).
    pub fn durable(profile: &Profile, path: &std::path::Path) -> Result<Self, TransportError> {
        let card = Card::open(profile, path).map_err(TransportError::State)?;
        Ok(Self {
            name: format!("{}, state {}", profile.source_name, path.display()),
            card,
            durable: true,
            ..Self::new(profile)
        })
    }

    /// True when the card's persistent state differs from its initial state (a case that
    /// leaves such a change behind cannot run twice on one real card without restoring it).
    #[must_use]
    pub fn persistent_state_changed(&self) -> bool {
        !self.card.same_persistent_state(self.current().1)
    }

    /// True when the card was changed beyond what its own commands undo (see
    /// [`applet_sim::Card::irreversibly_changed`]): such a case is `destructive` on a real card.
    #[must_use]
    pub fn irreversibly_changed(&self) -> bool {
        self.card.irreversibly_changed()
    }
}

impl<C: SmartCard + Clone> Transport for SimTransport<C> {
    fn describe(&self) -> String {
        format!("sim ({})", self.name)
    }

    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.card.transmit_into(apdu, &mut self.buffer);
        Ok(self.buffer.clone())
    }

    fn reset(&mut self) -> Result<Vec<u8>, TransportError> {
        Ok(self.card.reset().to_vec())
    }

    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        Ok(self.card.atr().to_vec())
    }

    fn profile(&self) -> Option<&Profile> {
        self.current().0
    }

    fn use_profile(&mut self, profile: Option<&str>) -> Result<bool, TransportError> {
        let Some(name) = profile else {
            self.current = None;
            return Ok(true);
        };
        let Some(issue) = self.issue else {
            return Ok(false);
        };
        self.current = match self.others.iter().position(|(n, _, _)| n == name) {
            Some(i) => Some(i),
            None => {
                let p = Profile::load(name).map_err(TransportError::Profile)?;
                let card = issue(&p);
                self.others.push((name.to_owned(), p, card));
                Some(self.others.len() - 1)
            }
        };
        Ok(true)
    }

    fn fresh_card(&mut self) -> Result<(), TransportError> {
        if let Some((_, _, card)) = self.current.and_then(|i| self.others.get(i)) {
            // The card of another profile lives in memory, whatever this one was on.
            self.card.clone_from(card);
            self.durable = false;
            return Ok(());
        }
        if self.durable {
            return self
                .card
                .restore_from(&self.template)
                .map_err(TransportError::Restore);
        }
        self.card.clone_from(&self.template);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_smart_card_serves_and_starts_each_case_fresh() {
        let profile = Profile::builtin("gen3").unwrap();
        let mut t = SimTransport::with_card("plain", Card::new(&profile));
        assert_eq!(t.describe(), "sim (plain)");
        assert!(t.profile().is_none());
        assert!(!t.use_profile(Some("gen2")).unwrap());
        assert!(t.use_profile(None).unwrap());
        let select = crate::card::select_ssse(false);
        assert_eq!(t.transmit(&select).unwrap(), [0x90, 0x00]);
        t.fresh_card().unwrap();
        assert_eq!(t.atr().unwrap(), Card::new(&profile).atr());
    }
}
