//! The state file in memory, with a power cut at a chosen write operation in one of three
//! models (the write dropped, torn, or every unsynced write lost), as littlefs tests power
//! loss: the medium of the tearing test (`ssc-harness tear`) and of the durability tests.
//! Built only for tests and the `testing` feature.

use std::io;
use std::sync::{Arc, Mutex};

use super::Medium;

/// How a power cut treats the write it interrupts (the tearing tests' three models).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CutMode {
    /// The interrupted write is lost; earlier writes survive.
    Dropped,
    /// The interrupted write lands in part (half its bytes); earlier writes survive.
    Torn,
    /// Every write since the last sync is lost, the interrupted one included.
    UnsyncedLost,
}

impl CutMode {
    /// All three.
    pub const ALL: [Self; 3] = [Self::Dropped, Self::Torn, Self::UnsyncedLost];

    /// The name in reports.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Dropped => "dropped",
            Self::Torn => "torn",
            Self::UnsyncedLost => "unsynced-lost",
        }
    }
}

/// The disk as seen by the tests: what is written (`current`) and what would survive a power
/// cut (`durable`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Disk {
    current: Vec<u8>,
    durable: Vec<u8>,
}

/// A state file in memory, shared by clones, with an optional power cut at the n-th write
/// operation (counting append, replace and truncate). After the cut every operation fails.
#[derive(Clone, Debug, Default)]
pub struct MemMedium {
    disk: Arc<Mutex<Disk>>,
    plan: Arc<Mutex<CutPlan>>,
}

#[derive(Clone, Copy, Debug, Default)]
struct CutPlan {
    writes: usize,
    cut_at: Option<(usize, CutMode)>,
    cut: bool,
}

impl MemMedium {
    /// An empty medium.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A medium whose bytes are `bytes`, all durable.
    #[must_use]
    pub fn with_bytes(bytes: Vec<u8>) -> Self {
        let m = Self::new();
        if let Ok(mut d) = m.disk.lock() {
            d.durable.clone_from(&bytes);
            d.current = bytes;
        }
        m
    }

    /// An independent copy (what is written and what is durable), without a cut plan.
    #[must_use]
    pub fn fork(&self) -> Self {
        let m = Self::new();
        if let (Ok(mut to), Ok(from)) = (m.disk.lock(), self.disk.lock()) {
            *to = from.clone();
        }
        m
    }

    /// Cuts power at write operation `n` (0-based) in `mode`.
    pub fn cut_at(&self, n: usize, mode: CutMode) {
        if let Ok(mut p) = self.plan.lock() {
            p.cut_at = Some((n, mode));
        }
    }

    /// Write operations so far.
    #[must_use]
    pub fn writes(&self) -> usize {
        self.plan.lock().map_or(0, |p| p.writes)
    }

    /// Whether the power was cut.
    #[must_use]
    pub fn was_cut(&self) -> bool {
        self.plan.lock().is_ok_and(|p| p.cut)
    }

    /// The bytes as written (unsynced included).
    #[must_use]
    pub fn current(&self) -> Vec<u8> {
        self.disk
            .lock()
            .map(|d| d.current.clone())
            .unwrap_or_default()
    }

    /// The bytes a power-up finds: after a cut, what the cut mode left; else the durable
    /// bytes (a cut now, losing what is unsynced).
    #[must_use]
    pub fn after_power_cut(&self) -> Vec<u8> {
        let cut = self.was_cut();
        self.disk
            .lock()
            .map(|d| {
                if cut {
                    d.current.clone()
                } else {
                    d.durable.clone()
                }
            })
            .unwrap_or_default()
    }

    /// Counts a write operation; `Ok(None)` to perform it, `Ok(Some(mode))` when the power is
    /// cut at this one, an error after the cut.
    fn begin_write(&self) -> io::Result<Option<CutMode>> {
        let mut p = self.plan.lock().map_err(|_| io::Error::other("poisoned"))?;
        if p.cut {
            return Err(io::Error::other("power is off"));
        }
        let n = p.writes;
        p.writes += 1;
        match p.cut_at {
            Some((at, mode)) if at == n => {
                p.cut = true;
                Ok(Some(mode))
            }
            _ => Ok(None),
        }
    }

    fn disk(&self) -> io::Result<std::sync::MutexGuard<'_, Disk>> {
        self.disk.lock().map_err(|_| io::Error::other("poisoned"))
    }
}

fn power_cut() -> io::Error {
    io::Error::other("power cut")
}

impl Medium for MemMedium {
    fn read_all(&mut self) -> io::Result<Vec<u8>> {
        if self.was_cut() {
            return Err(power_cut());
        }
        Ok(self.disk()?.current.clone())
    }

    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let cut = self.begin_write()?;
        let mut d = self.disk()?;
        match cut {
            None => {
                d.current.extend_from_slice(bytes);
                Ok(())
            }
            Some(mode) => {
                // What survives: `current` becomes the power-up image.
                match mode {
                    CutMode::Dropped => {}
                    CutMode::Torn => {
                        let half = bytes.get(..bytes.len() / 2).unwrap_or_default();
                        d.current.extend_from_slice(half);
                    }
                    CutMode::UnsyncedLost => d.current = d.durable.clone(),
                }
                Err(power_cut())
            }
        }
    }

    fn sync(&mut self) -> io::Result<()> {
        if self.was_cut() {
            return Err(power_cut());
        }
        let mut d = self.disk()?;
        d.durable = d.current.clone();
        Ok(())
    }

    fn replace(&mut self, bytes: &[u8]) -> io::Result<()> {
        let cut = self.begin_write()?;
        let mut d = self.disk()?;
        match cut {
            None => {
                d.current = bytes.to_vec();
                d.durable = bytes.to_vec();
                Ok(())
            }
            // Rename is atomic: a cut leaves the old file (its unsynced tail lost when the
            // model says so).
            Some(CutMode::UnsyncedLost) => {
                d.current = d.durable.clone();
                Err(power_cut())
            }
            Some(CutMode::Dropped | CutMode::Torn) => Err(power_cut()),
        }
    }

    fn truncate(&mut self, len: usize) -> io::Result<()> {
        let cut = self.begin_write()?;
        let mut d = self.disk()?;
        match cut {
            None => {
                d.current.truncate(len);
                d.durable = d.current.clone();
                Ok(())
            }
            Some(CutMode::UnsyncedLost) => {
                d.current = d.durable.clone();
                Err(power_cut())
            }
            Some(CutMode::Dropped | CutMode::Torn) => Err(power_cut()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_medium_cut_models_the_three_losses() {
        for (mode, survives) in [
            (CutMode::Dropped, b"ab".to_vec()),
            (CutMode::Torn, b"abc".to_vec()),
            (CutMode::UnsyncedLost, b"a".to_vec()),
        ] {
            let mut m = MemMedium::new();
            m.append(b"a").unwrap();
            m.sync().unwrap();
            m.append(b"b").unwrap();
            m.cut_at(2, mode);
            assert!(m.append(b"cd").is_err());
            assert!(m.sync().is_err() && m.append(b"e").is_err());
            assert_eq!(m.after_power_cut(), survives, "{mode:?}");
        }
    }
}
