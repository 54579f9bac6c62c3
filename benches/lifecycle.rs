//! `lifecycle/*`: one download job's whole life through the public API, and its cost floor.
//!
//! - `lifecycle/bitsim`: `create_job`, `add_file`, `resume`, the engine runs the virtual clock until the
//!   job is TRANSFERRED (`Sim::run_until_idle`), `complete` (ACKNOWLEDGED). A standard (non-admin)
//!   user, so the quota checks run; tracing ON (the default).
//! - `lifecycle/bitsim_notrace`: the same with `Service::set_tracing(false)`.
//! - `lifecycle/floor`: only the unavoidable work of that lifecycle, by hand: allocate the job's three
//!   strings (display name, remote URL, local name) and its id, keep the job in a vector, and push one
//!   trace record per state change (SUSPENDED→QUEUED→CONNECTING→TRANSFERRING→TRANSFERRED→ACKNOWLEDGED)
//!   into a trace vector.
//! - `lifecycle/floor_reuse`: the same floor, but a new machine reuses the blocks of the last one's
//!   job and trace vectors (emptied) instead of growing new ones: the strict floor, beside what D88
//!   does for bitsim (a dropped machine's job vector and trace blocks go to the next machine).
//!
//! Memory across iterations: a `Sim` keeps every job it ever created (final ones too, as BITS ids stay
//! valid) and its trace, so iterations cannot share one `Sim` forever. The benches use `iter_custom`
//! and start a fresh machine (a new `Sim` with its user and application; for the floor, new job and
//! trace vectors; for `floor_reuse`, the same vectors emptied) every `JOBS_PER_MACHINE` jobs, **inside
//! the timed region**: the per-job cost includes the amortised machine creation (1/1000 of it), the
//! growth of the job and trace vectors where a machine grows them (the floor's do; bitsim's and
//! `floor_reuse`'s reuse the last machine's blocks from the second machine on), and dropping the jobs.
//! Nothing per job is hidden in untimed setup. The fresh `floor` pays its vectors' growth, and the page
//! faults of their memory, on every machine: about a third of its time (BENCHMARKS.md, "The ninth
//! performance round"), so report the ratio to both floors.
//!
//! Throughput unit: one job lifecycle (`Throughput::Elements(1)`).
//!
//! Run: `cargo bench --bench lifecycle`.

use bitsim::{JobState, JobType, Manager, Remote, Sim, World};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "support/floor.rs"]
mod floor;
use floor::{FloorMachine, LOCAL, NAME, URL};

/// Jobs per machine before a fresh one is started (bounds memory; see the module docs).
const JOBS_PER_MACHINE: u64 = 1_000;
/// 1,000 bytes at the default 1,000,000 bytes/s: 1 ms of virtual time.
const SIZE: u64 = 1_000;

struct Machine {
    sim: Sim,
    app: Manager,
}

fn machine(tracing: bool) -> Machine {
    let sim = Sim::new(World::new().remote(URL, Remote::sized(SIZE)));
    sim.with_service_mut(|s| s.set_tracing(tracing));
    let user = sim.user("alice");
    let app = sim.connect("updater", user).unwrap();
    Machine { sim, app }
}

/// One job, created to ACKNOWLEDGED.
fn lifecycle(m: &Machine) {
    let job = m
        .app
        .create_job(black_box(NAME), JobType::Download)
        .unwrap();
    job.add_file(black_box(URL), black_box(LOCAL)).unwrap();
    job.resume().unwrap();
    m.sim.run_until_idle().unwrap();
    job.complete().unwrap();
}

fn benches(c: &mut Criterion) {
    // The benched lifecycle really reaches ACKNOWLEDGED.
    {
        let m = machine(true);
        let job = m.app.create_job(NAME, JobType::Download).unwrap();
        job.add_file(URL, LOCAL).unwrap();
        job.resume().unwrap();
        m.sim.run_until_idle().unwrap();
        assert_eq!(job.get_state(), Ok(JobState::Transferred));
        job.complete().unwrap();
        assert_eq!(job.get_state(), Ok(JobState::Acknowledged));
    }

    let mut g = c.benchmark_group("lifecycle");
    g.throughput(Throughput::Elements(1));
    for (name, tracing) in [("bitsim", true), ("bitsim_notrace", false)] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                let mut m = machine(tracing);
                for i in 0..iters {
                    if i > 0 && i % JOBS_PER_MACHINE == 0 {
                        m = machine(tracing);
                    }
                    lifecycle(&m);
                }
                drop(m);
                start.elapsed()
            })
        });
    }
    for (name, reuse) in [("floor_reuse", true), ("floor", false)] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                let mut m = FloorMachine::default();
                for i in 0..iters {
                    if i > 0 && i % JOBS_PER_MACHINE == 0 {
                        m.next(reuse);
                    }
                    floor::floor(&mut m);
                }
                drop(m);
                start.elapsed()
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = lifecycle_benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(lifecycle_benches);
