//! Command-APDU parsing throughput.

use std::hint::black_box;

use apdu::CommandApdu;
use benches::{VERIFY_GOOD, select_ssse};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("apdu_parse");
    let select = select_ssse(true);
    for (name, bytes) in [("select_ssse", &select[..]), ("verify", &VERIFY_GOOD[..])] {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| black_box(CommandApdu::parse(black_box(bytes))))
        });
    }
    let mut extended = vec![0x00, 0xD6, 0x00, 0x00, 0x00, 0x10, 0x00];
    extended.extend(std::iter::repeat_n(0x5A, 0x1000));
    g.throughput(Throughput::Bytes(extended.len() as u64));
    g.bench_function("extended_4k", |b| {
        b.iter(|| black_box(CommandApdu::parse(black_box(&extended))))
    });
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
