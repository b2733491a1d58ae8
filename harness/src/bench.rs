//! `ssc-harness bench`: correct-PIN VERIFY in a loop, wall-clock rate and latency
//! percentiles. It never sends a wrong PIN: if the first VERIFY is not answered 9000 the run
//! stops there, having cost at most one try.

use std::time::{Duration, Instant};

use apdu::{Response, StatusWord};

use crate::transport::{Transport, TransportError};

/// What a bench run measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BenchResult {
    /// What it ran against.
    pub target: String,
    /// VERIFY commands answered 9000.
    pub ops: u64,
    /// Wall time of the loop.
    pub seconds: f64,
    /// Correct-PIN VERIFYs per second.
    pub verify_per_s: f64,
    /// Median latency, microseconds.
    pub p50_us: f64,
    /// 90th-percentile latency, microseconds.
    pub p90_us: f64,
    /// 99th-percentile latency, microseconds.
    pub p99_us: f64,
    /// Slowest VERIFY, microseconds.
    pub max_us: f64,
    /// With a state file: appends of one PIN record each followed by one fdatasync per
    /// second on the same disk, measured in the same run (the ceiling of a durable VERIFY).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fsync_per_s: Option<f64>,
    /// `verify_per_s / fsync_per_s`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fsync_ratio: Option<f64>,
}

/// One write of a PIN record's size and one fdatasync per loop, in a scratch file in `dir`,
/// for `duration`: how many a second this disk allows. The scratch file is private (0600),
/// has an unpredictable name and is created exclusively (never through a planted file or
/// symlink), and is removed at once: it is written through its descriptor only.
///
/// # Errors
/// I/O on the scratch file.
pub fn fsync_baseline(dir: &std::path::Path, duration: Duration) -> std::io::Result<f64> {
    use std::io::Write;
    let (path, mut f) = applet_sim::create_private(dir, ".ssc-fsync-probe-")?;
    // Unlinked now: a SIGKILL leaves nothing behind.
    std::fs::remove_file(&path)?;
    let record = [0x5Au8; 33];
    let started = Instant::now();
    let mut ops = 0u64;
    let result = (|| {
        while started.elapsed() < duration {
            f.write_all(&record)?;
            f.sync_data()?;
            ops += 1;
        }
        Ok::<(), std::io::Error>(())
    })();
    let seconds = started.elapsed().as_secs_f64();
    result?;
    Ok(ops as f64 / seconds)
}

/// Why a bench run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The transport failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The card did not answer 9000.
    #[error("{step} answered {sw}; stopping (no wrong PIN is ever sent twice)")]
    Refused {
        /// The step.
        step: &'static str,
        /// What the card said.
        sw: StatusWord,
    },
}

fn sw_of(response: &[u8]) -> StatusWord {
    Response::split(response).map_or(StatusWord::NoPreciseDiagnosis, |(_, sw)| sw)
}

/// A PIN the bench cannot send.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("--pin: 4 to 16 decimal digits")]
pub struct BadPin;

/// VERIFY of the SSSE PIN `00 20 00 00`: packed BCD, F-padded (docs/CARD.md §5.1).
///
/// # Errors
/// [`BadPin`] unless the PIN is 4 to 16 decimal digits.
pub fn verify_apdu(pin: &str) -> Result<Vec<u8>, BadPin> {
    if pin.len() < 4 {
        return Err(BadPin);
    }
    crate::card::verify(0x00, pin).map_err(|_| BadPin)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let last = sorted.len() - 1;
    // Index by rank; the casts are of small, non-negative values.
    let rank = ((last as f64) * p).round() as usize;
    f64::from(sorted.get(rank.min(last)).copied().unwrap_or(0)) / 1e3
}

/// Selects the application with `select`, then sends `verify` for `duration` (the caller
/// decides whether the card starts fresh).
///
/// # Errors
/// [`BenchError`] when the transport fails or the card refuses.
pub fn verify_loop(
    transport: &mut dyn Transport,
    select: &[u8],
    verify: &[u8],
    duration: Duration,
) -> Result<BenchResult, BenchError> {
    let sw = sw_of(&transport.transmit(select)?);
    if !sw.is_success() {
        return Err(BenchError::Refused { step: "SELECT", sw });
    }
    let sw = sw_of(&transport.transmit(verify)?);
    if sw != StatusWord::Success {
        return Err(BenchError::Refused {
            step: "the first VERIFY",
            sw,
        });
    }
    let mut latencies: Vec<u32> = Vec::with_capacity(1 << 20);
    let started = Instant::now();
    let mut ops = 0u64;
    while started.elapsed() < duration {
        let t = Instant::now();
        let response = transport.transmit(verify)?;
        let dt = t.elapsed();
        if response != [0x90, 0x00] {
            return Err(BenchError::Refused {
                step: "VERIFY",
                sw: sw_of(&response),
            });
        }
        latencies.push(u32::try_from(dt.as_nanos()).unwrap_or(u32::MAX));
        ops += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    Ok(BenchResult {
        target: transport.describe(),
        ops,
        seconds,
        verify_per_s: ops as f64 / seconds,
        p50_us: percentile(&latencies, 0.50),
        p90_us: percentile(&latencies, 0.90),
        p99_us: percentile(&latencies, 0.99),
        max_us: percentile(&latencies, 1.0),
        fsync_per_s: None,
        fsync_ratio: None,
    })
}

#[cfg(test)]
mod probe_tests {
    use std::time::Duration;

    /// Issue 16 item 1: the probe was `File::create(DIR/.ssc-fsync-probe-<pid>)`, which
    /// wrote through a symlink planted at that name and was left behind after a SIGKILL.
    #[test]
    fn the_fsync_probe_uses_no_predictable_name_and_leaves_nothing() {
        let dir = std::env::temp_dir().join(format!("ssc-probe-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let planted = dir.join(format!(".ssc-fsync-probe-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        let rate = super::fsync_baseline(&dir, Duration::from_millis(20)).unwrap();
        assert!(rate > 0.0);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        let mut left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [planted.file_name().unwrap(), victim.file_name().unwrap()]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
