//! Correct-PIN VERIFY through the whole path (bytes in, bytes out), the wrong-PIN path on a
//! fresh card each time, and SELECT + READ RECORD.

use std::hint::black_box;

use benches::{READ_EF05_REC1, VERIFY_BAD, VERIFY_GOOD, card_in_ssse, select_ssse};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

fn verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("verify");
    g.throughput(Throughput::Elements(1));
    let mut card = card_in_ssse();
    let mut out = Vec::with_capacity(258);
    g.bench_function("correct_pin_transmit_into", |b| {
        b.iter(|| {
            card.transmit_into(black_box(&VERIFY_GOOD), &mut out);
            black_box(&out);
        });
    });
    g.bench_function("correct_pin_transmit", |b| {
        b.iter(|| black_box(card.transmit(black_box(&VERIFY_GOOD))));
    });
    g.bench_function("wrong_pin_fresh_card", |b| {
        b.iter_batched(
            card_in_ssse,
            |mut c| black_box(c.transmit(black_box(&VERIFY_BAD))),
            BatchSize::SmallInput,
        );
    });
    g.finish();
}

fn select_read(c: &mut Criterion) {
    let mut g = c.benchmark_group("select_read");
    g.throughput(Throughput::Elements(1));
    let mut card = card_in_ssse();
    let mut out = Vec::with_capacity(258);
    let select = select_ssse(true);
    g.bench_function("select_ssse_get_response_read_record", |b| {
        b.iter(|| {
            card.transmit_into(black_box(&select), &mut out);
            card.transmit_into(&[0x00, 0xC0, 0x00, 0x00, 0x1E], &mut out);
            card.transmit_into(black_box(&READ_EF05_REC1), &mut out);
            black_box(&out);
        });
    });
    g.finish();
}

criterion_group!(benches, verify, select_read);
criterion_main!(benches);
