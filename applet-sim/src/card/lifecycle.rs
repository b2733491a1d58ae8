//! Loss report and blocking (docs/CARD.md §4.1, §5.4; issue "issuer security" items 5-6):
//! APPLICATION BLOCK `84 1E`, APPLICATION UNBLOCK `84 18` (PBOC only) and CARD BLOCK
//! `84 16`, each authenticated by a MAC over the command under the current challenge.
//!
//! The SSSE uses the SSC MAC (§6.3): APPLICATION BLOCK under the STK (02) session key, CARD
//! BLOCK under the BK (05) session key. The financial application uses the PBOC MAC (IV =
//! challenge) under its maintenance key. A MAC failure costs no key try (§5.2 item 6).
//!
//! The blocks are persistent state: a blocked card answers every command 6A81, across resets
//! and restarts; a permanently blocked application answers 9303 (SELECT included); a
//! temporarily blocked PBOC application can be selected (6283) and unblocked.

use apdu::{ApduResult, Response, StatusWord};

use super::Card;
use super::durable::Datum;
use super::state::AppBlock;
use crate::command::Command;
use crate::model::AppKind;
use crate::model::WritePoint;
use crate::model::keys::pboc::DAMK;
use crate::model::keys::ssse::{BK, STK};

impl Card {
    /// The gate before any handler (after the card-block check of `process`): in a
    /// permanently blocked application everything but SELECT (which leaves it, or answers
    /// 9303 itself) answers 9303; in a temporarily blocked one only SELECT, GET CHALLENGE,
    /// GET RESPONSE and APPLICATION UNBLOCK are accepted, the rest 6985.
    pub(super) fn check_lifecycle(&self, command: &Command<'_>) -> ApduResult<()> {
        match (self.current_block(), command) {
            (None, _) | (Some(_), Command::Select { .. }) => Ok(()),
            (Some(AppBlock::Permanent), _) => Err(StatusWord::ApplicationBlocked),
            (
                Some(AppBlock::Temporary),
                Command::GetChallenge { .. }
                | Command::GetResponse { .. }
                | Command::ApplicationUnblock { .. },
            ) => Ok(()),
            (Some(AppBlock::Temporary), _) => Err(StatusWord::ConditionsOfUseNotSatisfied),
        }
    }

    /// Checks a blocking command's MAC by the current application's convention.
    fn check_block_mac(&mut self, header: [u8; 4], ssc_key: u8, mac: &[u8; 4]) -> ApduResult<()> {
        match self.app_kind() {
            Some(AppKind::Pboc) => self.check_pboc_mac(DAMK, header, &[], mac),
            _ => self.check_ssc_mac(ssc_key, header, &[], mac).map(|_| ()),
        }
    }

    /// APPLICATION BLOCK `84 1E 00 P2`.
    pub(super) fn application_block(
        &mut self,
        permanent: bool,
        mac: &[u8; 4],
    ) -> ApduResult<Response> {
        self.check_block_mac([0x84, 0x1E, 0x00, u8::from(permanent)], STK, mac)?;
        let app = self.persistent.fs.application_of(self.volatile.current_df);
        let block = if permanent {
            AppBlock::Permanent
        } else {
            AppBlock::Temporary
        };
        let blocks = &mut self.persistent.lifecycle.blocked_apps;
        match blocks.iter_mut().find(|(a, _)| *a == app) {
            // A permanent block is never weakened to a temporary one.
            Some((_, b)) => *b = (*b).max_block(block),
            None => blocks.push((app, block)),
        }
        self.commit(WritePoint::Lifecycle, Datum::Lifecycle)?;
        Ok(Response::status(StatusWord::Success))
    }

    /// APPLICATION UNBLOCK `84 18 00 00` (PBOC): lifts a temporary block; 9303 for a
    /// permanent one, 6985 when the application is not blocked.
    pub(super) fn application_unblock(&mut self, mac: &[u8; 4]) -> ApduResult<Response> {
        match self.current_block() {
            None => return Err(StatusWord::ConditionsOfUseNotSatisfied),
            Some(AppBlock::Permanent) => return Err(StatusWord::ApplicationBlocked),
            Some(AppBlock::Temporary) => {}
        }
        self.check_block_mac([0x84, 0x18, 0x00, 0x00], STK, mac)?;
        let app = self.persistent.fs.application_of(self.volatile.current_df);
        self.persistent
            .lifecycle
            .blocked_apps
            .retain(|(a, _)| *a != app);
        self.commit(WritePoint::Lifecycle, Datum::Lifecycle)?;
        Ok(Response::status(StatusWord::Success))
    }

    /// CARD BLOCK `84 16 00 00`: SSSE with the BK (05) session key, PBOC with its
    /// maintenance key. Afterwards every command answers 6A81.
    pub(super) fn card_block(&mut self, mac: &[u8; 4]) -> ApduResult<Response> {
        self.check_block_mac([0x84, 0x16, 0x00, 0x00], BK, mac)?;
        self.persistent.lifecycle.card_blocked = true;
        self.commit(WritePoint::Lifecycle, Datum::Lifecycle)?;
        Ok(Response::status(StatusWord::Success))
    }
}
