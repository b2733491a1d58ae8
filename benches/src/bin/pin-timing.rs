//! Does the PIN comparison take the same time whichever digit is wrong? A dudect-style test
//! (Reparaz, Balasch, Verbauwhede 2017): two classes of wrong PINs — the first digit wrong,
//! the last digit wrong — measured interleaved in random order, then Welch's t-test on the
//! raw times and on the times below several percentiles. |t| < 4.5 on every test after
//! 10^6 measurements per class: no leak detected. Exit 0 then, 1 otherwise.
//!
//! `cargo run --release -p benches --bin pin-timing [-- MEASUREMENTS_PER_CLASS [--leaky]]`.
//! Not a CI test: a loaded machine adds noise (run it on an idle one). `--leaky` times an
//! early-exit byte comparison instead, to show the test does detect a leak (it should fail).

// A measurement tool, not card code: indices are in range by construction.
#![allow(clippy::indexing_slicing, clippy::panic)]

use std::hint::black_box;
use std::time::Instant;

use applet_sim::model::{PinEncoding, PinObject, PinValue};
use applet_sim::model::{StorageFailure, WritePoint};

/// Verifies per timed sample (to rise well above the clock's resolution).
const BATCH: usize = 16;

#[allow(clippy::unnecessary_wraps)]
fn no_storage(_: WritePoint, _: &PinObject) -> Result<(), StorageFailure> {
    Ok(())
}

/// What the card must not do: stop at the first differing byte.
fn early_exit_eq(a: &[u8], b: &[u8]) -> bool {
    for (x, y) in a.iter().zip(b) {
        if black_box(*x) != black_box(*y) {
            return false;
        }
        std::hint::spin_loop();
    }
    a.len() == b.len()
}

/// Welch's t statistic of two samples.
fn welch(a: &[f64], b: &[f64]) -> f64 {
    let stats = |x: &[f64]| {
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (n, mean, var)
    };
    let (na, ma, va) = stats(a);
    let (nb, mb, vb) = stats(b);
    (ma - mb) / (va / na + vb / nb).sqrt()
}

fn main() {
    let per_class: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let leaky = std::env::args().any(|a| a == "--leaky");
    let secret_bcd = [0x12u8, 0x34, 0x56];
    let secret = PinValue::from_digits("123456").unwrap_or_else(|e| panic!("{e}"));
    let template = PinObject::new(0, PinEncoding::Bcd, (4, 16), secret, 15);
    // Class 0: first digit wrong; class 1: last digit wrong. Same length, same encoding.
    let candidates: [[u8; 3]; 2] = [[0x92, 0x34, 0x56], [0x12, 0x34, 0x59]];
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut times: [Vec<f64>; 2] = [Vec::with_capacity(per_class), Vec::with_capacity(per_class)];
    let mut pins = vec![template.clone(); BATCH];
    while times[0].len() < per_class || times[1].len() < per_class {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let class = usize::from(rng & 1 == 1);
        if times[class].len() >= per_class {
            continue;
        }
        for p in &mut pins {
            p.clone_from(&template);
        }
        let data = black_box(&candidates[class]);
        let t = Instant::now();
        if leaky {
            for _ in 0..BATCH {
                black_box(early_exit_eq(data, black_box(&secret_bcd)));
            }
        } else {
            for p in &mut pins {
                let _ = black_box(p.verify(data, &mut no_storage));
            }
        }
        let dt = t.elapsed().as_nanos() as f64;
        times[class].push(dt);
    }
    let mut pooled: Vec<f64> = times.iter().flatten().copied().collect();
    pooled.sort_by(f64::total_cmp);
    let mut worst = 0.0f64;
    println!(
        "{}: {per_class} measurements per class, {BATCH} comparisons each \
         (class 0: first digit wrong, class 1: last digit wrong)",
        if leaky {
            "early-exit comparison (--leaky, expected to FAIL)"
        } else {
            "PIN VERIFY comparison (PinObject::verify)"
        }
    );
    for crop in [
        None,
        Some(0.50),
        Some(0.75),
        Some(0.90),
        Some(0.95),
        Some(0.99),
    ] {
        let limit = crop.map_or(f64::INFINITY, |p| {
            pooled[((pooled.len() - 1) as f64 * p) as usize]
        });
        let a: Vec<f64> = times[0].iter().copied().filter(|v| *v <= limit).collect();
        let b: Vec<f64> = times[1].iter().copied().filter(|v| *v <= limit).collect();
        let t = welch(&a, &b);
        worst = worst.max(t.abs());
        let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64 / BATCH as f64;
        println!(
            "  {:<14} t = {t:+.3}   mean ns each: {:.2} vs {:.2}   (n = {}, {})",
            crop.map_or("raw".to_owned(), |p| format!("below p{:.0}", p * 100.0)),
            mean(&a),
            mean(&b),
            a.len(),
            b.len()
        );
    }
    if worst < 4.5 {
        println!("max |t| = {worst:.3} < 4.5: no timing difference detected");
    } else {
        println!("max |t| = {worst:.3} >= 4.5: the times differ by class");
        std::process::exit(1);
    }
}
