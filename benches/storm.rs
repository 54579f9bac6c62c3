//! `storm/N`: N download jobs that all fail once with a transient error and retry until they succeed.
//! The world has one remote whose script answers the first N connection attempts with HTTP 503
//! (transient, D5) and then serves the file: every job fails at its first connection, waits in
//! TRANSIENT_ERROR for the retry delay (600 s, D3), retries and transfers. Default priority (NORMAL:
//! one background job at a time, D12), tracing ON (the default).
//!
//! `storm_notrace/N`: `storm/N` with `Service::set_tracing(false)`.
//!
//! `storm_urls/N`: the same storm with one remote per job (N URLs in the world, each answering one
//! 503): the same events, plus a URL lookup among N remotes per connection attempt.
//!
//! `storm_setup/N`: the untimed setup of `storm/N` on its own (building the world, then
//! `create_job` + `add_file` + `resume` for each job), per job.
//!
//! Timed (`storm`, `storm_urls`): `Sim::run_until_idle` from the moment all N jobs are QUEUED until
//! every job is TRANSFERRED. Setup and dropping the machine afterwards are not timed.
//!
//! Throughput unit: engine events (`Throughput::Elements(events)`), where `events` is the number of
//! events the run really processes, as `Service::steps()` counts them, measured on a dry run before
//! timing (the run is deterministic; the dry run also checks that every job failed once and ended
//! TRANSFERRED). Criterion's "thrpt" is then events per second, and time / events is the per-event
//! cost. `storm_setup` counts jobs.
//!
//! Run: `cargo bench --bench storm`.

use bitsim::{JobState, JobType, Manager, Remote, Response, Sim, TraceKind, World};
use criterion::{criterion_group, BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput};
use std::time::Duration;

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];
/// The traced storm also runs at a million jobs (`storm/1000000`: about 1 GB of jobs and trace).
const STORM_SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];
/// 1,000 bytes at the default 1,000,000 bytes/s: 1 ms of virtual time per transfer.
const FILE_SIZE: u64 = 1_000;
const SHARED_URL: &str = "https://cdn.example.test/files/storm.bin";

#[derive(Clone, Copy, PartialEq)]
enum Remotes {
    /// One remote scripting N × 503, then serving.
    Shared,
    /// One remote per job, each scripting one 503.
    PerJob,
}

fn url(remotes: Remotes, i: usize) -> String {
    match remotes {
        Remotes::Shared => SHARED_URL.to_string(),
        Remotes::PerJob => format!("https://cdn{}.example.test/files/{i:06}.bin", i % 16),
    }
}

fn world(remotes: Remotes, n: usize) -> World {
    match remotes {
        Remotes::Shared => World::new().remote(
            SHARED_URL,
            Remote::sized(FILE_SIZE).with_responses(vec![Response::http(503); n]),
        ),
        Remotes::PerJob => (0..n).fold(World::new(), |w, i| {
            w.remote(
                url(remotes, i),
                Remote::sized(FILE_SIZE).with_responses([Response::http(503)]),
            )
        }),
    }
}

/// A machine with `n` jobs, all resumed (QUEUED), nothing processed yet.
fn storm(remotes: Remotes, n: usize) -> (Sim, Manager) {
    storm_traced(remotes, n, true)
}

fn storm_traced(remotes: Remotes, n: usize, tracing: bool) -> (Sim, Manager) {
    let sim = Sim::new(world(remotes, n));
    sim.with_service_mut(|s| s.set_tracing(tracing));
    // An administrator: exempt from the per-user and per-machine job quotas (D14).
    let app = sim.connect("storm", sim.admin("admin")).unwrap();
    for i in 0..n {
        let job = app.create_job("storm job", JobType::Download).unwrap();
        job.add_file(&url(remotes, i), &format!("C:\\dl\\{i:06}.bin"))
            .unwrap();
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

/// The events of one run, checking its outcome.
fn dry_run(remotes: Remotes, n: usize) -> u64 {
    let m = storm(remotes, n);
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
    let (errors, records) = sim.with_service(|s| {
        let errors = s
            .trace()
            .iter()
            .filter(|e| matches!(e.kind, TraceKind::ErrorRecord { .. }))
            .count();
        (errors, s.trace().len())
    });
    assert_eq!(errors, n, "every job failed once");
    eprintln!(
        "{n} jobs: {events} events ({:.2} per job), {records} trace records",
        events as f64 / n as f64
    );
    events
}

fn group(c: &mut Criterion, name: &str, remotes: Remotes, tracing: bool, sizes: &[usize]) {
    let mut g = c.benchmark_group(name);
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    for &n in sizes {
        if n >= 1_000_000 {
            // One iteration of the million-job storm is seconds (plus its untimed setup): the least
            // criterion allows (10 samples of one iteration, no warm-up to speak of), so that a run
            // of it is a minute or two and `cargo bench --no-run` builds nothing more.
            g.warm_up_time(Duration::from_millis(1));
            g.measurement_time(Duration::from_secs(1));
        }
        g.throughput(Throughput::Elements(dry_run(remotes, n)));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter_batched(
                || storm_traced(remotes, n, tracing),
                run,
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    group(c, "storm", Remotes::Shared, true, &STORM_SIZES);
    group(c, "storm_notrace", Remotes::Shared, false, &SIZES);
    group(c, "storm_urls", Remotes::PerJob, true, &SIZES);

    let mut g = c.benchmark_group("storm_setup");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    for n in SIZES {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter_batched(
                || (),
                |()| storm(Remotes::Shared, n),
                BatchSize::PerIteration,
            )
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
fn main() {
    // Criterion finds the target directory by running `cargo metadata` when CARGO_TARGET_DIR is
    // unset, and reading that output leaves glibc's malloc in a state where the traced storm/1000's
    // buffers are mapped and faulted in afresh on every iteration: 8x the page faults and twice the
    // time of the same run in any other process state (see BENCHMARKS.md). Pointing it at the
    // package's target directory, where `cargo metadata` would point, keeps the figures about bitsim.
    if std::env::var_os("CARGO_TARGET_DIR").is_none() {
        std::env::set_var(
            "CARGO_TARGET_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/target"),
        );
    }
    storm_benches();
    Criterion::default().configure_from_args().final_summary();
}
