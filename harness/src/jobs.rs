//! `--jobs N`: cases spread over N transports (independent in-process cards, or several
//! readers), each case on one of them, results put back in file order — the same report as
//! a serial run, but for the times.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::identity::RunIdentity;
use crate::runner::{self, CaseResult, Options, RunReport, SkipPolicy};
use crate::transport::{Transport, TransportError};
use crate::vectors::Case;

/// Opens the transport of job `n`; its error is the caller's.
pub type Open<'a, E> = dyn Fn(usize) -> Result<Box<dyn Transport>, E> + Sync + 'a;

/// A job's thread ended in a panic (a bug: reported, not propagated).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a job thread panicked")]
pub struct JobPanicked;

/// Runs `cases` over `jobs` transports; a progress bar on stderr when it is a terminal. The
/// identity's ATR is the first job's card's, read once before its first case.
///
/// # Errors
/// The first transport that cannot be opened (`open`'s error) or fails.
pub fn run_parallel<E>(
    jobs: usize,
    open: &Open<'_, E>,
    cases: Vec<Case>,
    skip: &(dyn Fn(&Case) -> Option<String> + Sync),
    options: Options<'_>,
) -> Result<RunReport, E>
where
    E: From<TransportError> + From<JobPanicked> + Send,
{
    let started = Instant::now();
    let total = cases.len();
    let progress = Progress::new(total);
    if jobs <= 1 {
        let mut t = open(0)?;
        let skip: SkipPolicy<'_> = skip;
        let mut report =
            runner::run_with_progress(t.as_mut(), cases, skip, options, &mut |d, n| {
                progress.show(d, n);
            })?;
        progress.done();
        report.duration = started.elapsed();
        return Ok(report);
    }
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<CaseResult>>> = (0..total).map(|_| Mutex::new(None)).collect();
    let target = Mutex::new(String::new());
    let identity = Mutex::new(RunIdentity::starting_now(None));
    let stopped: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|scope| -> Result<(), E> {
        let workers: Vec<_> = (0..jobs)
            .map(|n| {
                let (cases, next, done, slots, target, identity, progress, stopped) = (
                    &cases, &next, &done, &slots, &target, &identity, &progress, &stopped,
                );
                scope.spawn(move || -> Result<(), E> {
                    let mut t = open(n)?;
                    if n == 0 {
                        let atr = t.atr()?;
                        if let Ok(mut name) = target.lock() {
                            *name = format!("{} (x{jobs} jobs)", t.describe());
                        }
                        if let Ok(mut id) = identity.lock() {
                            id.atr = Some(atr);
                        }
                    }
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(case) = cases.get(i) else {
                            return Ok(());
                        };
                        let why = stopped.lock().ok().and_then(|s| s.clone());
                        let r = match why {
                            Some(why) => runner::skipped(case.clone(), &why),
                            None => runner::run_one(t.as_mut(), case.clone(), skip, options)?,
                        };
                        if options.stop_on_spent_try
                            && let Some(why) = runner::spent_a_try(&r)
                            && let Ok(mut s) = stopped.lock()
                        {
                            s.get_or_insert(why);
                        }
                        if let Some(slot) = slots.get(i)
                            && let Ok(mut s) = slot.lock()
                        {
                            *s = Some(r);
                        }
                        progress.show(done.fetch_add(1, Ordering::SeqCst) + 1, total);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().map_err(|_| JobPanicked)??;
        }
        Ok(())
    })?;
    progress.done();
    let results = slots
        .into_iter()
        .filter_map(|s| s.into_inner().ok().flatten())
        .collect();
    Ok(RunReport {
        target: target.into_inner().unwrap_or_default(),
        identity: identity.into_inner().unwrap_or_default(),
        requirements: None,
        results,
        duration: started.elapsed(),
    })
}

/// A one-line progress bar on stderr, only when stderr is a terminal and the run is long
/// enough to want one.
struct Progress {
    on: bool,
}

impl Progress {
    fn new(total: usize) -> Self {
        use std::io::IsTerminal;
        Self {
            on: std::io::stderr().is_terminal() && total >= 50,
        }
    }

    fn show(&self, done: usize, total: usize) {
        if !self.on || (!done.is_multiple_of(10) && done != total) {
            return;
        }
        let width = 30;
        let filled = done * width / total.max(1);
        eprint!(
            "\r[{}{}] {done}/{total}",
            "=".repeat(filled),
            " ".repeat(width - filled)
        );
    }

    fn done(&self) {
        if self.on {
            eprint!("\r{}\r", " ".repeat(50));
        }
    }
}
