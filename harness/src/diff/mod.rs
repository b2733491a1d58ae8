//! `ssc-harness diff`: the reference model as the oracle (docs/DIFF.md). Random command
//! sequences over the declared card's whole command set go to the card under test and to a
//! fresh model built from its declaration, in lockstep; every answer is compared. A sequence
//! on which they differ is shrunk to a minimal one that still differs the same way, and
//! written as a native vector that passes on the model and fails on the card. Differences
//! are grouped by the first command that differs.
//!
//! A card that cannot be restored is protected as in a conformance run: each unit is first
//! run on a copy of the model, and a unit that would block a PIN or key, or change the card
//! for good, is not sent (unless `allow_destructive`); without a restore, only units that
//! leave the persistent state as it was are sent.

pub mod grammar;
mod lockstep;

use applet_sim::Card;

pub use self::grammar::{Action, Palette, SplitMix, Unit};
pub use self::lockstep::{Exchange, Lockstep, ModelOnly};
use crate::declaration::Declaration;
use crate::psam::{Keys, Psam, PsamError};
use crate::transport::{Transport, TransportError};

/// How a differential run goes.
#[derive(Clone, Debug)]
pub struct DiffOptions {
    /// The seed of the generator (the same seed, the same sequences).
    pub seed: u64,
    /// How many sequences.
    pub sequences: usize,
    /// Units per sequence, at most.
    pub max_len: usize,
    /// The card can be put back in its initial state between sequences (the virtual card,
    /// or a reader with a restore command): writes are generated.
    pub restorable: bool,
    /// Units that block a PIN or key or change the card for good may be sent.
    pub allow_destructive: bool,
    /// The card is rebuilt for every sequence at no cost (the virtual card): no dry run.
    pub in_process: bool,
    /// Authentication units (the PSAM's EXTERNAL and INTERNAL AUTHENTICATE, the challenge's
    /// life) are generated: on a reader only when the keys were checked against the card.
    pub authenticate: bool,
}

impl Default for DiffOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            sequences: DEFAULT_SEQUENCES,
            max_len: DEFAULT_MAX_LEN,
            restorable: false,
            allow_destructive: false,
            in_process: false,
            authenticate: true,
        }
    }
}

/// The default number of sequences.
pub const DEFAULT_SEQUENCES: usize = 2000;
/// The default number of units per sequence.
pub const DEFAULT_MAX_LEN: usize = 6;

/// One kind of difference, with its minimal sequence.
#[derive(Clone, Debug)]
pub struct Difference {
    /// What groups it: the first command that differs and the classes of the two answers.
    pub group: String,
    /// In words, from the minimal sequence: `VERIFY (00 20 00 00): the card answers 63C5,
    /// the model 63C3`.
    pub title: String,
    /// The minimal sequence.
    pub sequence: Vec<Action>,
    /// Its run: every exchange up to the first that differs, and the range of exchanges of
    /// each action.
    pub exchanges: Vec<Exchange>,
    /// For each action of `sequence`, the exchanges it made (indices into `exchanges`).
    pub spans: Vec<std::ops::Range<usize>>,
    /// The sequence (0-based) it was first seen in.
    pub found_in: usize,
    /// How many sequences showed it.
    pub occurrences: usize,
}

/// What a differential run found.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// The seed.
    pub seed: u64,
    /// Sequences run.
    pub sequences: usize,
    /// Commands sent to the card under test (resets included, shrinking included).
    pub commands: usize,
    /// Units not sent because the dry run on the model showed they could block or change
    /// the card.
    pub withheld: usize,
    /// The differences, in the order found.
    pub differences: Vec<Difference>,
    /// Why the run stopped before its budget, if it did: a card that spent a try where its
    /// declaration spends none (on a reader, without `allow_destructive`).
    pub stopped: Option<String>,
}

/// Why a differential run cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// The card cannot be reached.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The PSAM cannot work for this card (its keys).
    #[error("the PSAM: {0}")]
    Psam(#[from] PsamError),
}

/// One run of a sequence.
struct Run {
    log: Vec<Exchange>,
    spans: Vec<std::ops::Range<usize>>,
    /// Actions run (the sequence flattened, up to the one that differed).
    actions: Vec<Action>,
    /// Units looked at, withheld ones included (the last may be the one that differed).
    units_run: usize,
    withheld: usize,
}

impl Run {
    fn first_difference(&self) -> Option<usize> {
        self.log.iter().position(|e| !e.agrees())
    }

    /// The group of the first difference.
    fn group(&self) -> Option<String> {
        self.log.iter().find(|e| !e.agrees()).map(group_of)
    }
}

/// The card under test against the model of its declaration.
pub struct Differ<'a> {
    target: &'a mut dyn Transport,
    template: Card,
    keys: Keys,
    palette: Palette,
    options: DiffOptions,
    psam: Option<(Vec<u8>, Psam)>,
    commands: usize,
    /// An ATR difference was reported: later ones are not (every sequence starts with one).
    atr_reported: bool,
}

impl<'a> Differ<'a> {
    /// The card behind `target`, declared by `declaration`; the PSAM's keys are `keys`
    /// (the declaration's when `None`).
    #[must_use]
    pub fn new(
        target: &'a mut dyn Transport,
        declaration: &Declaration,
        keys: Option<Keys>,
        options: DiffOptions,
    ) -> Self {
        let profile = &declaration.profile;
        Self {
            target,
            template: Card::new(profile),
            keys: keys.unwrap_or_else(|| Keys::from_profile(profile)),
            palette: Palette::new(declaration, options.restorable, options.authenticate),
            options,
            psam: None,
            commands: 0,
            atr_reported: false,
        }
    }

    /// Runs `units` from a fresh card (the virtual card rebuilt, a reader restored by its
    /// restore command or else reset) and a fresh model, up to the first difference.
    fn run(&mut self, units: &[Unit]) -> Result<Run, DiffError> {
        self.target.fresh_card()?;
        let mut actions = Vec::new();
        let mut spans = Vec::new();
        let mut units_run = 0;
        let mut withheld = 0;
        let model = self.template.volatile_copy();
        // The lockstep borrows the target; the PSAM lives outside it.
        let mut psam = self.psam.take();
        let target: &mut dyn Transport = &mut *self.target;
        let mut ls = Lockstep::new(target, model);
        ls.ignore_atr = self.atr_reported;
        let atr = ls.reset()?;
        if ls.first_difference().is_some() {
            // The ATR differs: the run is that reset.
            actions.push(Action::Reset);
            spans.push(0..1);
        }
        if psam.as_ref().is_none_or(|(a, _)| *a != atr) {
            psam = Some((atr.clone(), Psam::new(&self.keys, &atr)?));
        }
        let result = (|| -> Result<(), DiffError> {
            for unit in units {
                if ls.first_difference().is_some() {
                    break;
                }
                units_run += 1;
                // The dry run needs the model: a short-lived copy of the lockstep's.
                if !self.options.in_process {
                    let model = ls.model.volatile_copy();
                    let ok = allowed_with(&self.keys, &self.options, unit, &model)?;
                    if !ok {
                        withheld += 1;
                        continue;
                    }
                }
                let mut rest = unit.iter();
                for action in rest.by_ref() {
                    let start = ls.log.len();
                    send(&mut ls, psam.as_mut().map(|(_, p)| p), action)?;
                    actions.push(action.clone());
                    spans.push(start..ls.log.len());
                    if ls.first_difference().is_some() {
                        break;
                    }
                }
                // The card spent a try where the model spends none: nothing more is sent
                // (the right value after it would spend another).
                if !self.options.in_process
                    && !self.options.allow_destructive
                    && ls
                        .first_difference()
                        .and_then(|i| ls.log.get(i))
                        .is_some_and(spent_unexpectedly)
                {
                    break;
                }
                // Another difference inside a unit: the unit is finished anyway, so the right
                // PIN or cryptogram after a wrong one still gives the card its try back; these
                // exchanges are not part of the difference.
                let seen = ls.log.len();
                for action in rest {
                    send(&mut ls, psam.as_mut().map(|(_, p)| p), action)?;
                }
                if ls.log.len() > seen {
                    self.commands += ls.log.len() - seen;
                    ls.log.truncate(seen);
                }
            }
            Ok(())
        })();
        self.psam = psam;
        let log = ls.take_log();
        self.commands += log.len();
        result?;
        Ok(Run {
            log,
            spans,
            actions,
            units_run,
            withheld,
        })
    }

    /// Runs the sequences; `progress(done, differences)` after each.
    ///
    /// # Errors
    /// [`DiffError`] when the card cannot be reached or the PSAM cannot work for it.
    pub fn diff(&mut self, mut progress: impl FnMut(usize, usize)) -> Result<Summary, DiffError> {
        let mut rng = SplitMix::new(self.options.seed);
        let mut summary = Summary {
            seed: self.options.seed,
            ..Summary::default()
        };
        for n in 0..self.options.sequences {
            let len = 1 + rng.below(self.options.max_len.max(1));
            let units: Vec<Unit> = (0..len).map(|_| self.palette.unit(&mut rng)).collect();
            let run = self.run(&units)?;
            summary.sequences += 1;
            summary.withheld += run.withheld;
            let first = run.first_difference().and_then(|at| run.log.get(at));
            let guarded = !self.options.in_process && !self.options.allow_destructive;
            let spent = guarded && first.is_some_and(spent_unexpectedly);
            if first.is_some_and(|e| e.command.is_empty()) {
                self.atr_reported = true;
            }
            if let Some(group) = first.map(group_of) {
                if let Some(d) = summary.differences.iter_mut().find(|d| d.group == group) {
                    d.occurrences += 1;
                } else {
                    let ran = units.get(..run.units_run).unwrap_or(&units);
                    // A card that spent a try unexpectedly is not given the sequence again.
                    let found = if spent {
                        run
                    } else {
                        self.shrink(ran, &group, run)?
                    };
                    summary.differences.push(Difference {
                        title: title_of(&found.log, found.first_difference().unwrap_or(0)),
                        group,
                        sequence: found.actions,
                        exchanges: found.log,
                        spans: found.spans,
                        found_in: n,
                        occurrences: 1,
                    });
                }
            }
            progress(n + 1, summary.differences.len());
            if spent {
                summary.stopped = Some(
                    "the card answered 63Cx or 6983 where its declaration spends no try: the \
                     run stopped there so that no PIN or key is blocked (--allow-destructive \
                     goes on)"
                        .to_owned(),
                );
                break;
            }
        }
        summary.commands = self.commands;
        Ok(summary)
    }

    /// The smallest sequence found that still differs in `group` (delta debugging: units
    /// first; then single actions when the card can be restored).
    fn shrink(&mut self, units: &[Unit], group: &str, first: Run) -> Result<Run, DiffError> {
        let mut best = first;
        let mut units: Vec<Unit> = units.to_vec();
        let (shrunk, run) = self.ddmin(units.clone(), group)?;
        if let Some(run) = run {
            units = shrunk;
            best = run;
        }
        if self.options.restorable {
            let singles: Vec<Unit> = units.into_iter().flatten().map(|a| vec![a]).collect();
            let (_, run) = self.ddmin(singles, group)?;
            if let Some(run) = run {
                best = run;
            }
        }
        Ok(best)
    }

    /// Delta debugging over `items`: removes chunks while the run still differs in `group`.
    /// Returns the smallest list and its run (`None` when nothing could be removed and the
    /// list itself was not rerun).
    fn ddmin(
        &mut self,
        mut items: Vec<Unit>,
        group: &str,
    ) -> Result<(Vec<Unit>, Option<Run>), DiffError> {
        let mut best: Option<Run> = None;
        let mut n = 2usize;
        while items.len() >= 2 {
            let chunk = items.len().div_ceil(n);
            let mut reduced = false;
            let mut start = 0;
            while start < items.len() {
                let mut candidate = items.clone();
                candidate.drain(start..(start + chunk).min(items.len()));
                let run = self.run(&candidate)?;
                if run.group().as_deref() == Some(group) {
                    items = candidate;
                    best = Some(run);
                    reduced = true;
                    break;
                }
                start += chunk;
            }
            if reduced {
                n = (n - 1).max(2);
            } else if n >= items.len() {
                break;
            } else {
                n = (n * 2).min(items.len());
            }
        }
        if best.is_none() {
            let run = self.run(&items)?;
            if run.group().as_deref() == Some(group) {
                best = Some(run);
            }
        }
        Ok((items, best))
    }
}

/// Whether `unit` may go to a card that is not rebuilt for free (the module docs): it is run
/// on a copy of `model` first.
fn allowed_with(
    keys: &Keys,
    options: &DiffOptions,
    unit: &Unit,
    model: &Card,
) -> Result<bool, DiffError> {
    let mut copy = model.volatile_copy();
    let atr = model.atr().to_vec();
    let mut dry = Psam::new(keys, &atr)?;
    let (pins0, keys0) = model.counters();
    // A counter the unit takes down to its last try (or to none): one more failure on a
    // card that differs — the right value after a wrong one failing too — would block it.
    let low = |a: &[u8], b: &[u8]| a.iter().zip(b).any(|(x, y)| *x >= 2 && *y < 2);
    let blocks = |a: &[u8], b: &[u8]| a.iter().zip(b).any(|(x, y)| *x > 0 && *y == 0);
    {
        let mut t = ModelOnly(&mut copy);
        for action in unit {
            send(&mut t, Some(&mut dry), action)?;
            if !options.allow_destructive {
                let (pins1, keys1) = t.0.counters();
                if low(&pins0, &pins1) || low(&keys0, &keys1) {
                    return Ok(false);
                }
            }
        }
    }
    if !options.allow_destructive {
        let (pins1, keys1) = copy.counters();
        if blocks(&pins0, &pins1)
            || blocks(&keys0, &keys1)
            || (copy.irreversibly_changed() && !model.irreversibly_changed())
        {
            return Ok(false);
        }
    }
    Ok(options.restorable || copy.same_persistent_state(model))
}

/// True when the card answered `63Cx` or `6983` to a command that is not a tries query, and
/// the model answered neither: the card spent (or has no) try where its declaration spends
/// none.
fn spent_unexpectedly(e: &Exchange) -> bool {
    let failed =
        |a: &[u8]| matches!(a, [.., 0x63, x] if x & 0xF0 == 0xC0) || a.ends_with(&[0x69, 0x83]);
    let query = matches!(
        e.command.as_slice(),
        [_, 0x20, _, _] | [_, 0x20, _, _, 0x00]
    );
    !e.command.is_empty() && !query && failed(&e.card) && !failed(&e.model)
}

/// Sends `action` through `t` (a PSAM operation through `psam`, skipped without one).
fn send(t: &mut dyn Transport, psam: Option<&mut Psam>, action: &Action) -> Result<(), DiffError> {
    match action {
        Action::Reset => {
            t.reset()?;
        }
        Action::Apdu(a) => {
            t.transmit(a)?;
        }
        Action::Psam(op) => {
            if let Some(p) = psam {
                op.run(p, t)?;
            }
        }
    }
    Ok(())
}

/// The status word of an answer as a class: `63Cx`, `61xx` and `6Cxx` keep only their
/// kind (counts and lengths vary with the sequence), others are exact.
fn sw_class(answer: &[u8]) -> String {
    match answer {
        [.., 0x63, x] if x & 0xF0 == 0xC0 => "63Cx".to_owned(),
        [.., 0x61, _] => "61xx".to_owned(),
        [.., 0x6C, _] => "6Cxx".to_owned(),
        [.., a, b] => format!("{a:02X}{b:02X}"),
        _ => "no answer".to_owned(),
    }
}

/// The group of a differing exchange: `ATR`, or the command's CLA INS and the classes of
/// the two answers (`data` when only the data differ).
fn group_of(e: &Exchange) -> String {
    match e.command.as_slice() {
        [] => "ATR".to_owned(),
        [cla, ins, ..] => {
            let (c, m) = (sw_class(&e.card), sw_class(&e.model));
            if c == m {
                format!("{cla:02X} {ins:02X}: data")
            } else {
                format!("{cla:02X} {ins:02X}: card {c}, model {m}")
            }
        }
        [b] => format!("{b:02X}: malformed"),
    }
}

/// The instruction's name (ISO 7816-4, docs/CARD.md §4.1).
fn ins_name(ins: u8) -> &'static str {
    match ins {
        0xA4 => "SELECT",
        0xB0 => "READ BINARY",
        0xB2 => "READ RECORD",
        0xD6 => "UPDATE BINARY",
        0xDC => "UPDATE RECORD",
        0xE2 => "APPEND RECORD",
        0x20 => "VERIFY",
        0x24 => "PIN CHANGE/UNBLOCK",
        0x5E => "CHANGE PIN",
        0x82 => "EXTERNAL AUTHENTICATE",
        0x88 => "INTERNAL AUTHENTICATE",
        0x84 => "GET CHALLENGE",
        0xC0 => "GET RESPONSE",
        0xCA => "GET DATA",
        0xA8 => "GET PROCESSING OPTIONS",
        _ => "command",
    }
}

/// The title of the difference at `log[at]`, in words.
fn title_of(log: &[Exchange], at: usize) -> String {
    let Some(e) = log.get(at) else {
        return "no difference".to_owned();
    };
    let sw = |a: &[u8]| {
        a.len()
            .checked_sub(2)
            .and_then(|n| a.get(n..))
            .map_or_else(|| "nothing".to_owned(), apdu::hex_compact)
    };
    match e.command.as_slice() {
        [] => format!(
            "ATR: the card answers {}, the model {}",
            apdu::hex_compact(&e.card),
            apdu::hex_compact(&e.model)
        ),
        c => {
            let header = apdu::hex_spaced(c.get(..4).unwrap_or(c));
            let name = ins_name(c.get(1).copied().unwrap_or(0));
            if sw(&e.card) == sw(&e.model) {
                format!(
                    "{name} ({header}): the same status {}, other data (card {}, model {})",
                    sw(&e.card),
                    apdu::hex_compact(&e.card),
                    apdu::hex_compact(&e.model)
                )
            } else {
                format!(
                    "{name} ({header}): the card answers {}, the model {}",
                    sw(&e.card),
                    sw(&e.model)
                )
            }
        }
    }
}

/// The expectation line for an answer of the model: exact, except the data of GET
/// CHALLENGE and of PSAM operations (random or over a random), written as their length.
fn expectation(answer: &[u8], random_data: bool) -> String {
    let n = answer.len().saturating_sub(2);
    let (data, sw) = answer.split_at(n);
    let sw = apdu::hex_compact(sw);
    if data.is_empty() {
        sw
    } else if random_data {
        format!("*{n} {sw}")
    } else {
        format!("{} {sw}", apdu::hex_compact(data))
    }
}

/// The difference as a native vector (vectors/README.md, format version 3): the minimal
/// sequence with the model's answers, so it passes on the model and fails on the card.
#[must_use]
pub fn vector_text(d: &Difference, index: usize, declaration: &str, seed: u64) -> String {
    let mut out = String::new();
    let at = d.exchanges.iter().position(|e| !e.agrees());
    out.push_str("version 3\n");
    out.push_str(&format!(
        "# Written by `ssc-harness diff --profile {} --seed {seed}` (sequence {}): a minimal\n\
         # sequence on which the card differs from its declaration. The expectations are the\n\
         # model's answers.\n# {}\n",
        applet_sim::message::printable(declaration),
        d.found_in,
        d.title
    ));
    // The tags a run on a reader goes by (vectors/README.md): what may spend a try, what
    // may change the card.
    let ins = |a: &Action| match a {
        Action::Apdu(c) => c.get(1).copied(),
        _ => None,
    };
    let mut tags = vec!["diff"];
    if d.sequence.iter().any(|a| {
        matches!(a, Action::Psam(_))
            || matches!(ins(a), Some(0x82 | 0x24 | 0x5E))
            || matches!(a, Action::Apdu(c) if c.get(1) == Some(&0x20) && c.len() > 5)
    }) {
        tags.push("spends-tries");
    }
    if d.sequence
        .iter()
        .any(|a| matches!(ins(a), Some(0xD6 | 0xDC | 0xE2 | 0x5E)))
    {
        tags.push("stateful");
    }
    out.push_str(&format!(
        "case diff.{:03}\n  tags {}\n",
        index + 1,
        tags.join(" ")
    ));
    for (action, span) in d.sequence.iter().zip(&d.spans) {
        let last = span.end.checked_sub(1).and_then(|i| d.exchanges.get(i));
        let differs = at.is_some_and(|i| span.contains(&i));
        if differs && let Some(e) = at.and_then(|i| d.exchanges.get(i)) {
            out.push_str(&format!(
                "  # here the card answered {}\n",
                if e.command.is_empty() {
                    apdu::hex_compact(&e.card)
                } else {
                    apdu::hex_spaced(&e.card)
                }
            ));
        }
        match action {
            Action::Reset => {
                let atr = last
                    .map(|e| apdu::hex_compact(&e.model))
                    .unwrap_or_default();
                out.push_str(&format!("  reset {atr}\n"));
            }
            Action::Apdu(a) => {
                out.push_str(&format!("  {}\n", action.line()));
                let random = matches!(a.as_slice(), [0x00, 0x84, 0x00, 0x00, _]);
                let expect = last
                    .map(|e| expectation(&e.model, random))
                    .unwrap_or_default();
                out.push_str(&format!("  < {expect}\n"));
            }
            Action::Psam(_) => {
                out.push_str(&format!("  {}\n", action.line()));
                let expect = last
                    .map(|e| expectation(&e.model, true))
                    .unwrap_or_default();
                out.push_str(&format!("  < {expect}\n"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
