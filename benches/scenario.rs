//! `scenario/fixtures`: parse and run every fixture in `fixtures/scenarios/` (one iteration = all of
//! them, read from memory: the file reads are done once, before timing).
//!
//! The scenario runner (`bitsim::scenario`) is part of the library in every configuration, so this
//! bench needs no cargo feature.
//!
//! Throughput unit: scenarios (`Throughput::Elements(number of fixture files)`).
//!
//! Run: `cargo bench --bench scenario`.

use bitsim::scenario::{run, RunOptions, Scenario};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

fn fixtures() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/scenarios");
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("fixtures/scenarios exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable fixture");
            (p.display().to_string(), text)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {dir}");
    files
}

fn benches(c: &mut Criterion) {
    let files = fixtures();
    let opts = RunOptions::default();
    // Every fixture parses and passes before it is timed.
    for (name, text) in &files {
        let sc = Scenario::parse(text, name).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let r = run(&sc, name, &opts);
        assert!(r.passed, "{name}: {:?}", r.failure);
    }
    let mut g = c.benchmark_group("scenario");
    g.throughput(Throughput::Elements(files.len() as u64));
    g.bench_function("fixtures", |b| {
        b.iter(|| {
            for (name, text) in &files {
                let sc = Scenario::parse(black_box(text), name).unwrap();
                black_box(run(&sc, name, &opts).passed);
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = scenario_benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(scenario_benches);
