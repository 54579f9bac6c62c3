//! `calls/*`: one method call through the application-facing API (`bitsim::Job` handle methods) on a
//! live job. Throughput unit: one call (`Throughput::Elements(1)`), so the reported time is per call.
//!
//! Run: `cargo bench --bench calls`.

use bitsim::{HResult, JobState, JobType, Priority, Remote, Response, Sim, World};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

const OK_URL: &str = "https://example.test/ok.bin";
const GONE_URL: &str = "https://example.test/gone.bin";

fn calls(c: &mut Criterion) {
    let sim = Sim::new(
        World::new()
            .remote(OK_URL, Remote::sized(1_000_000))
            .remote(
                GONE_URL,
                Remote::sized(1_000).otherwise(Response::http(404)),
            ),
    );
    let user = sim.user("alice");
    let app = sim.connect("bench", user).unwrap();

    // A live job: one file, SUSPENDED (as between AddFile and Resume).
    let live = app.create_job("live", JobType::Download).unwrap();
    live.add_file(OK_URL, "C:\\dl\\ok.bin").unwrap();

    // A job in ERROR: the remote answers 404 (fatal, D5).
    let failed = app.create_job("failed", JobType::Download).unwrap();
    failed.add_file(GONE_URL, "C:\\dl\\gone.bin").unwrap();
    failed.resume().unwrap();
    sim.run_until_idle().unwrap();
    assert_eq!(failed.get_state(), Ok(JobState::Error));
    assert_eq!(
        failed.get_error().unwrap().get_error().unwrap().1,
        HResult::http(404)
    );

    let mut g = c.benchmark_group("calls");
    g.throughput(Throughput::Elements(1));

    g.bench_function("get_state", |b| b.iter(|| black_box(&live).get_state()));

    // Alternate HIGH and NORMAL so every call really changes the priority.
    let mut high = false;
    g.bench_function("set_priority", |b| {
        b.iter(|| {
            high = !high;
            let p = if high {
                Priority::High
            } else {
                Priority::Normal
            };
            black_box(&live).set_priority(black_box(p))
        })
    });

    // The error object (an `IBackgroundCopyError` handle) is dropped inside the timed loop.
    g.bench_function("get_error", |b| b.iter(|| black_box(&failed).get_error()));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = calls
}
criterion_main!(benches);
