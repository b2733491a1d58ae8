//! The in-process transport: a virtual card that answers through [`SmartCard`].

use applet_sim::{Card, Profile, SmartCard};

use super::{Transport, TransportError};

/// The in-process virtual card. Any [`SmartCard`] that can be copied serves
/// ([`SimTransport::with_card`]); the SSC card of a profile ([`SimTransport::new`]) can also
/// change profile for vector files that ask for one, and tells the PSAM its keys.
#[derive(Debug)]
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
    /// How a case's card is copied from the card as issued (a volatile copy).
    copy: fn(&C) -> C,
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
        Self::issued(name, card, C::clone)
    }
}

impl<C: SmartCard> SimTransport<C> {
    /// A transport whose cases start on `copy` of `card`.
    fn issued(name: &str, card: C, copy: fn(&C) -> C) -> Self {
        Self {
            name: name.to_owned(),
            profile: None,
            card: copy(&card),
            template: card,
            durable: false,
            buffer: Vec::with_capacity(258),
            copy,
            issue: None,
            others: Vec::new(),
            current: None,
        }
    }

    /// The card as it is now (tests and tools compare its state).
    #[must_use]
    pub fn card(&self) -> &C {
        &self.card
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
            ..Self::issued(
                &profile.source_name,
                Card::new(profile),
                Card::volatile_copy,
            )
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

impl<C: SmartCard> Transport for SimTransport<C> {
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
            self.card = (self.copy)(card);
            self.durable = false;
            return Ok(());
        }
        if self.durable {
            return self
                .card
                .restore_from(&self.template)
                .map_err(TransportError::Restore);
        }
        self.card = (self.copy)(&self.template);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A card that is not the SSC card: it answers every command with the number of
    /// commands it has seen and 9000.
    #[derive(Clone, Debug)]
    struct Counter {
        seen: u8,
    }

    impl SmartCard for Counter {
        fn atr(&self) -> &[u8] {
            &[0x3B, 0x00]
        }

        fn reset(&mut self) -> &[u8] {
            &[0x3B, 0x00]
        }

        fn transmit_into(&mut self, _apdu: &[u8], out: &mut Vec<u8>) {
            self.seen += 1;
            out.clear();
            out.extend_from_slice(&[self.seen, 0x90, 0x00]);
        }

        fn restore_from(&mut self, issued: &Self) -> std::io::Result<()> {
            *self = issued.clone();
            Ok(())
        }
    }

    #[test]
    fn any_smart_card_serves_and_starts_each_case_fresh() {
        let mut t = SimTransport::with_card("counter", Counter { seen: 0 });
        assert_eq!(t.describe(), "sim (counter)");
        assert!(t.profile().is_none());
        assert!(!t.use_profile(Some("gen2")).unwrap());
        assert!(t.use_profile(None).unwrap());
        assert_eq!(
            t.transmit(&[0x00, 0xB0, 0x00, 0x00]).unwrap(),
            [1, 0x90, 0x00]
        );
        assert_eq!(
            t.transmit(&[0x00, 0xB0, 0x00, 0x00]).unwrap(),
            [2, 0x90, 0x00]
        );
        t.fresh_card().unwrap();
        assert_eq!(
            t.transmit(&[0x00, 0xB0, 0x00, 0x00]).unwrap(),
            [1, 0x90, 0x00]
        );
        assert_eq!(t.atr().unwrap(), [0x3B, 0x00]);
    }

    #[test]
    fn the_ssc_card_starts_each_case_as_issued() {
        let profile = Profile::builtin("gen3").unwrap();
        let mut t = SimTransport::new(&profile);
        let select = crate::card::select_ssse(false);
        assert_eq!(t.transmit(&select).unwrap(), [0x90, 0x00]);
        // A wrong PIN costs a try on this card only.
        let wrong = [0x00, 0x20, 0x00, 0x00, 0x03, 0x11, 0x11, 0x11];
        assert_eq!(t.transmit(&wrong).unwrap(), [0x63, 0xC2]);
        t.fresh_card().unwrap();
        assert_eq!(t.transmit(&select).unwrap(), [0x90, 0x00]);
        assert_eq!(t.transmit(&wrong).unwrap(), [0x63, 0xC2]);
        assert_eq!(t.atr().unwrap(), Card::new(&profile).atr());
    }
}
