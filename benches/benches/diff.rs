//! `ssc-harness diff` in process (docs/DIFF.md): the card under test is a variant of gen3
//! (`verify_query_verified = "63Cx"`), the model is gen3; 200 sequences from one seed,
//! shrinking included. Throughput is in commands sent to the card under test.

#![allow(clippy::panic)] // a benchmark whose setup fails has nothing to measure

use std::hint::black_box;

use applet_sim::Profile;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use harness::declaration::Declaration;
use harness::diff::{DiffOptions, Differ, Summary};
use harness::transport::SimTransport;

fn run(card: &Profile, declaration: &Declaration, options: &DiffOptions) -> Summary {
    let mut target = SimTransport::new(card);
    match Differ::new(&mut target, declaration, None, options.clone()).diff(|_, _| {}) {
        Ok(summary) => summary,
        Err(e) => panic!("diff: {e}"),
    }
}

fn diff(c: &mut Criterion) {
    let Ok(gen3) = Profile::builtin("gen3") else {
        panic!("the built-in gen3");
    };
    let Some(text) = applet_sim::profile::builtin_text("gen3") else {
        panic!("the built-in gen3's text");
    };
    let Ok(variant) = Profile::parse(
        &format!("{text}\n[behaviour]\nverify_query_verified = \"63Cx\"\n"),
        "variant",
    ) else {
        panic!("the variant");
    };
    let declaration = Declaration::new("gen3", gen3.clone());
    let options = DiffOptions {
        seed: 1,
        sequences: 200,
        restorable: true,
        in_process: true,
        ..DiffOptions::default()
    };
    let mut g = c.benchmark_group("diff");
    for (name, card) in [("variant_vs_model", &variant), ("identical", &gen3)] {
        let commands = run(card, &declaration, &options).commands;
        g.throughput(Throughput::Elements(u64::try_from(commands).unwrap_or(0)));
        g.bench_function(format!("{name}_200_sequences"), |b| {
            b.iter(|| black_box(run(card, &declaration, &options)));
        });
    }
    g.finish();
}

criterion_group!(benches, diff);
criterion_main!(benches);
