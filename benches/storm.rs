//! `storm/N`: N download jobs whose remotes each answer one HTTP 503 (transient, D5) before serving
//! the file. Every job fails at its first connection, waits in TRANSIENT_ERROR for the retry delay
//! (600 s, D3), retries and transfers. Default priority (NORMAL: one background job at a time, D12),
//! one remote per job (so the world holds N URLs), tracing ON (the default).
//!
//! Timed: `Sim::run_until_idle` from the moment all N jobs are QUEUED until every job is TRANSFERRED.
//! Untimed setup, per iteration: building the world, `create_job` + `add_file` + `resume` for each job
//! (reported separately as `storm_setup/N`), and dropping the machine afterwards.
//!
//! Throughput unit: engine events (`Throughput::Elements(events)`), where `events` is the number of
//! events the run really processes, as `Service::steps()` counts them (measured on a dry run before
//! timing; the run is deterministic). Criterion's "thrpt" line is then events per second, and
//! time / events is the per-event cost.
//!
//! Run: `cargo bench --bench storm`.

use bitsim::{JobState, JobType, Manager, Remote, Response, Sim, TraceKind, World};
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use std::time::Duration;

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];
/// 1,000 bytes at the default 1,000,000 bytes/s: 1 ms of virtual time per transfer.
const FILE_SIZE: u64 = 1_000;

fn url(i: usize) -> String {
    format!("https://cdn{}.example.test/files/{i:06}.bin", i % 16)
}

fn local(i: usize) -> String {
    format!("C:\\dl\\{i:06}.bin")
}

fn world(n: usize) -> World {
    let mut w = World::new();
    for i in 0..n {
        w = w.remote(
            url(i),
            Remote::sized(FILE_SIZE).with_responses([Response::http(503)]),
        );
    }
    w
}

/// A machine with `n` jobs, all resumed (QUEUED), nothing processed yet.
fn storm(n: usize) -> (Sim, Manager) {
    let sim = Sim::new(world(n));
    // An administrator: exempt from the per-user and per-machine job quotas (D14).
    let user = sim.admin("admin");
    let app = sim.connect("storm", user);
    for i in 0..n {
        let job = app.create_job("storm job", JobType::Download).unwrap();
        job.add_file(&url(i), &local(i)).unwrap();
        job.resume().unwrap();
    }
    (sim, app)
}

fn steps(sim: &Sim) -> u64 {
    sim.with_service(|s| s.steps())
}

/// Run the storm to idle; returns the machine so that dropping it is not timed.
fn run(m: (Sim, Manager)) -> (Sim, Manager) {
    m.0.run_until_idle().unwrap();
    m
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("storm");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    for n in SIZES {
        // Dry run: count the events and check the outcome.
        let m = storm(n);
        let before = steps(&m.0);
        let (sim, app) = run(m);
        let events = steps(&sim) - before;
        let jobs = app.enum_jobs(0).unwrap();
        assert_eq!(jobs.len(), n);
        assert!(
            jobs.iter()
                .all(|j| j.get_state() == Ok(JobState::Transferred)),
            "every job ends TRANSFERRED"
        );
        let errors = sim.with_service(|s| {
            s.trace()
                .iter()
                .filter(|e| matches!(e.kind, TraceKind::ErrorRecord { .. }))
                .count()
        });
        assert_eq!(errors, n, "every job failed once");
        eprintln!(
            "storm/{n}: {events} events ({:.2} per job), {} trace records",
            events as f64 / n as f64,
            sim.with_service(|s| s.trace().len())
        );
        drop((sim, app, jobs));

        g.throughput(Throughput::Elements(events));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter_batched(|| storm(n), run, BatchSize::PerIteration)
        });
    }
    g.finish();

    let mut g = c.benchmark_group("storm_setup");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    for n in SIZES {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter_batched(|| (), |()| storm(n), BatchSize::PerIteration)
        });
    }
    g.finish();
}

criterion_group! {
    name = storm_benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = benches
}
criterion_main!(storm_benches);
