//! The bench workloads as a plain program, for profilers (callgrind counts instructions exactly, so
//! its numbers are reproducible on a busy machine where timings are not):
//!
//! ```text
//! cargo build --release --example profile
//! valgrind --tool=callgrind --callgrind-out-file=cg.storm target/release/examples/profile storm 10000
//! valgrind --tool=callgrind --callgrind-out-file=cg.life  target/release/examples/profile lifecycle 10000
//! callgrind_annotate cg.storm | head -40
//! ```
//!
//! `storm-repeat N K` (`storm-urls-repeat N K`) builds, runs and drops K such machines in one process as
//! criterion does, timing only the runs (page faults per run included).
//! `storm N` (one remote whose script answers N × 503 then serves) or `storm-urls N` (one remote per
//! job, each answering one 503) builds the `storm/N` machine of `benches/storm.rs` and runs it to idle (the setup is
//! included in the profile; `callgrind_annotate --inclusive=yes` separates it); `lifecycle K` runs K job
//! lifecycles of `benches/lifecycle.rs`; `foreground N` runs N FOREGROUND jobs of different sizes at
//! once (a scheduler pass after each finish); `restart N` restarts the service with N QUEUED jobs;
//! `restart-final N K` cancels N jobs and then restarts the service K times;
//! `files N` runs one administrator's job of N one-byte files from `resume` to TRANSFERRED (the
//! engine looks for the next file after each one);
//! `fuzz-ops K` / `fuzz-scenario K` run the body of that fuzz target (`bitsim::testing::fuzz_ops` /
//! `fuzz_scenario`) over every input of `fuzz/corpus/<target>/` K times and report executions per second
//! (the figure libFuzzer prints as `exec/s`, without libFuzzer's own work; `BITSIM_FUZZ_DIR=dir` reads
//! the inputs from `dir` instead);
//! `scenarios K` parses and runs every shipped fixture K times, a fresh machine every 1,000 jobs. `notrace` as a third
//! argument turns tracing off (`Service::set_tracing(false)`); tracing is on by default.

use bitsim::{JobState, JobType, Remote, Response, Sim, World};

#[path = "../benches/support/floor.rs"]
mod floor;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).map(String::as_str).unwrap_or("storm");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let tracing = args.get(3).map(String::as_str) != Some("notrace");
    match what {
        "storm" => storm(n, tracing, false),
        "storm-urls" => storm(n, tracing, true),
        "storm-repeat" => storm_repeat(n, k_arg(&args), false),
        "storm-urls-repeat" => storm_repeat(n, k_arg(&args), true),
        "foreground" => foreground(n, tracing),
        "restart" => restart(n),
        "restart-final" => restart_final(n, args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1)),
        "scenarios" => scenarios(n),
        "lifecycle" => lifecycle(n, tracing),
        "lifecycle-floor" => lifecycle_floor(n, false),
        "lifecycle-floor-reuse" => lifecycle_floor(n, true),
        "files" => files(n),
        "fuzz-ops" => fuzz_corpus("ops", n),
        "fuzz-scenario" => fuzz_corpus("scenario", n),
        other => panic!("unknown workload {other:?}: storm N | lifecycle K [notrace]"),
    }
}

/// The `storm/N` machine of `benches/storm.rs`: N jobs resumed, nothing processed yet.
fn storm_machine(n: usize, tracing: bool, urls: bool) -> Sim {
    let url = |i: usize| {
        if urls {
            format!("https://cdn{}.example.test/files/{i:06}.bin", i % 16)
        } else {
            "https://cdn.example.test/files/storm.bin".to_string()
        }
    };
    let mut w = World::new();
    if urls {
        for i in 0..n {
            w = w.remote(
                url(i),
                Remote::sized(1_000).with_responses([Response::http(503)]),
            );
        }
    } else {
        w = w.remote(
            url(0),
            Remote::sized(1_000).with_responses(vec![Response::http(503); n]),
        );
    }
    let sim = Sim::new(w);
    sim.with_service_mut(|s| s.set_tracing(tracing));
    let app = sim.connect("storm", sim.admin("admin")).unwrap();
    for i in 0..n {
        let job = app.create_job("storm job", JobType::Download).unwrap();
        job.add_file(&url(i), &format!("C:\\dl\\{i:06}.bin"))
            .unwrap();
        job.resume().unwrap();
    }
    sim
}

fn storm(n: usize, tracing: bool, urls: bool) {
    let sim = storm_machine(n, tracing, urls);
    let before = sim.with_service(|s| s.steps());
    let faults = minor_faults();
    let t = std::time::Instant::now();
    run(&sim);
    let took = t.elapsed();
    let faults = minor_faults() - faults;
    let events = sim.with_service(|s| s.steps()) - before;
    println!(
        "storm {n}: {events} events, {:.1} ns/event (wall clock, noisy), {faults} page faults",
        took.as_nanos() as f64 / events as f64
    );
}

/// `storm-repeat N K` / `storm-urls-repeat N K`: K storms of N jobs one after the other in one
/// process, as criterion runs them (`iter_batched` per iteration: build, time the run, drop the
/// machine untimed), after one untimed machine (criterion's warm-up). Prints the timed part's mean
/// and best per event and its page faults per run.
fn storm_repeat(n: usize, k: usize, urls: bool) {
    let (mut total, mut best, mut faults, mut events) = (0u128, u128::MAX, 0u64, 0u64);
    // One untimed machine first, as criterion warms up.
    run(&storm_machine(n, true, urls));
    for _ in 0..k.max(1) {
        let sim = storm_machine(n, true, urls);
        let before = sim.with_service(|s| s.steps());
        let f = minor_faults();
        let t = std::time::Instant::now();
        run(&sim);
        let took = t.elapsed().as_nanos();
        faults += minor_faults() - f;
        events = sim.with_service(|s| s.steps()) - before;
        total += took;
        best = best.min(took);
        drop(sim);
    }
    let k = k.max(1) as u128;
    println!(
        "storm{} {n} x{k}: {events} events, {:.1} ns/event mean, {:.1} best (wall clock), {} page faults per run",
        if urls { "-urls" } else { "" },
        (total / k) as f64 / events as f64,
        best as f64 / events as f64,
        faults / k as u64
    );
}

/// `foreground N`: N FOREGROUND jobs (all run at once, D12) of different sizes, so they finish one by
/// one, each finish followed by a scheduler pass.
fn foreground(n: usize, tracing: bool) {
    let url = |i: usize| format!("https://cdn.example.test/files/{i:06}.bin");
    let mut w = World::new();
    for i in 0..n {
        w = w.remote(url(i), Remote::sized(1_000 + 10 * i as u64));
    }
    let sim = Sim::new(w);
    sim.with_service_mut(|s| s.set_tracing(tracing));
    let app = sim.connect("fg", sim.admin("admin")).unwrap();
    for i in 0..n {
        let job = app.create_job("fg job", JobType::Download).unwrap();
        job.add_file(&url(i), &format!("C:\\dl\\{i:06}.bin"))
            .unwrap();
        job.set_priority(bitsim::Priority::Foreground).unwrap();
        job.resume().unwrap();
    }
    let before = sim.with_service(|s| s.steps());
    let t = std::time::Instant::now();
    run(&sim);
    let took = t.elapsed();
    let events = sim.with_service(|s| s.steps()) - before;
    println!(
        "foreground {n}: {events} events, {:.1} ns/event (wall clock, noisy)",
        took.as_nanos() as f64 / events as f64
    );
}

/// `restart N`: N QUEUED jobs, then `restart_service` (D15: the service goes through a snapshot).
fn restart(n: usize) {
    const URL: &str = "https://example.test/a.bin";
    let sim = Sim::new(World::new().remote(URL, Remote::sized(1_000)));
    let app = sim.connect("r", sim.admin("admin")).unwrap();
    for i in 0..n {
        let job = app.create_job("queued", JobType::Download).unwrap();
        job.add_file(URL, &format!("C:\\dl\\{i:06}.bin")).unwrap();
        job.resume().unwrap();
    }
    let t = std::time::Instant::now();
    sim.restart_service();
    println!(
        "restart with {n} queued jobs: {:?} (wall clock, noisy)",
        t.elapsed()
    );
}

/// `restart-final N K`: N jobs created and cancelled, then K service restarts (D23: the first one
/// releases the final jobs; the others round-trip only what is live).
fn restart_final(n: usize, k: usize) {
    const URL: &str = "https://example.test/a.bin";
    let sim = Sim::new(World::new().remote(URL, Remote::sized(1_000)));
    let app = sim.connect("r", sim.admin("admin")).unwrap();
    for i in 0..n {
        let job = app.create_job("cancelled", JobType::Download).unwrap();
        job.add_file(URL, &format!("C:\\dl\\{i:06}.bin")).unwrap();
        job.cancel().unwrap();
    }
    let t = std::time::Instant::now();
    for _ in 0..k {
        sim.restart_service();
    }
    println!(
        "{k} restarts with {n} cancelled jobs: {:?} (wall clock, noisy)",
        t.elapsed()
    );
}

/// Minor page faults of this process so far (Linux; 0 elsewhere).
/// The third argument as a count (default 10).
fn k_arg(args: &[String]) -> usize {
    args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10)
}

fn minor_faults() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after_name = &s[s.rfind(')')? + 2..];
            after_name.split(' ').nth(7)?.parse().ok()
        })
        .unwrap_or(0)
}

/// `scenarios K`: parse and run every fixture in `fixtures/scenarios/` K times (the
/// `scenario/fixtures` bench).
fn scenarios(k: usize) {
    use bitsim::scenario::{run, RunOptions, Scenario};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/scenarios");
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    let opts = RunOptions::default();
    let mut passed = 0;
    for _ in 0..k {
        for (name, text) in &files {
            let sc = Scenario::parse(text, name).unwrap();
            passed += usize::from(run(&sc, name, &opts).passed);
        }
    }
    println!("scenarios: {passed} of {} passed", k * files.len());
}

#[inline(never)]
fn run(sim: &Sim) {
    sim.run_until_idle().unwrap();
}

fn lifecycle(k: usize, tracing: bool) {
    const URL: &str = "https://example.test/pkg/update-1.2.3.bin";
    let machine = || {
        let sim = Sim::new(World::new().remote(URL, Remote::sized(1_000)));
        sim.with_service_mut(|s| s.set_tracing(tracing));
        let app = sim.connect("updater", sim.user("alice")).unwrap();
        (sim, app)
    };
    let mut m = machine();
    for i in 0..k {
        if i > 0 && i % 1_000 == 0 {
            m = machine();
        }
        let job =
            m.1.create_job("updater: update-1.2.3", JobType::Download)
                .unwrap();
        job.add_file(URL, "C:\\ProgramData\\updater\\update-1.2.3.bin")
            .unwrap();
        job.resume().unwrap();
        m.0.run_until_idle().unwrap();
        job.complete().unwrap();
        debug_assert_eq!(job.get_state(), Ok(JobState::Acknowledged));
    }
    println!("lifecycle {k}");
}

/// `lifecycle-floor K` / `lifecycle-floor-reuse K`: the `lifecycle/floor` (`floor_reuse`) bench's
/// work K times, from the same source (`benches/support/floor.rs`): three strings and an id per job,
/// five trace records, the next machine every 1,000 jobs. To set beside `lifecycle K` in an
/// instruction profile.
fn lifecycle_floor(k: usize, reuse: bool) {
    let mut m = floor::FloorMachine::default();
    for i in 0..k {
        if i > 0 && i % 1_000 == 0 {
            m.next(reuse);
        }
        floor::floor(&mut m);
    }
    println!(
        "lifecycle-floor {k} ({} jobs, {} records)",
        m.jobs.len(),
        m.trace.len()
    );
}

/// `fuzz-ops K` / `fuzz-scenario K`: the fuzz target's body over its committed corpus, K passes.
fn fuzz_corpus(target: &str, k: usize) {
    // `BITSIM_FUZZ_DIR` names another directory of inputs (a subset, or mutated inputs).
    let dir = match std::env::var_os("BITSIM_FUZZ_DIR") {
        Some(d) => std::path::PathBuf::from(d),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target),
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let inputs: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let cpu = cpu_secs();
    let t = std::time::Instant::now();
    let mut slowest = (std::time::Duration::ZERO, 0);
    for _ in 0..k {
        for (i, data) in inputs.iter().enumerate() {
            let one = std::time::Instant::now();
            match target {
                "ops" => bitsim::testing::fuzz_ops(data),
                _ => bitsim::testing::fuzz_scenario(data, &bitsim::testing::run_scenario),
            }
            let took = one.elapsed();
            if took > slowest.0 {
                slowest = (took, i);
            }
        }
    }
    let took = t.elapsed();
    let cpu = cpu_secs() - cpu;
    let execs = k * inputs.len();
    println!(
        "fuzz {target}: {execs} executions in {:.2} s wall = {:.0} exec/s; {cpu:.2} s CPU (user+sys) = {:.0} exec/s; slowest {:?} ({})",
        took.as_secs_f64(),
        execs as f64 / took.as_secs_f64(),
        execs as f64 / cpu,
        slowest.0,
        files[slowest.1].display()
    );
}

/// CPU time (user + system) of this process so far, in seconds (Linux; 0 elsewhere). On a shared
/// machine the wall clock also counts the time other processes held the cores.
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let mut f = s[s.rfind(')')? + 2..].split(' ');
            let utime: f64 = f.nth(11)?.parse().ok()?;
            let stime: f64 = f.next()?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(0.0)
}

/// `files N`: one administrator's job with N one-byte files, from `resume` to TRANSFERRED.
fn files(n: usize) {
    let url = |i: usize| format!("https://cdn.example.test/f/{i:06}.bin");
    let mut w = World::new();
    for i in 0..n {
        w = w.remote(url(i), Remote::sized(1));
    }
    let sim = Sim::new(w);
    let app = sim.connect("files", sim.admin("admin")).unwrap();
    let job = app.create_job("many files", JobType::Download).unwrap();
    for i in 0..n {
        job.add_file(&url(i), &format!("C:\\dl\\{i:06}.bin"))
            .unwrap();
    }
    job.resume().unwrap();
    let t = std::time::Instant::now();
    run(&sim);
    let took = t.elapsed();
    assert_eq!(job.get_state(), Ok(JobState::Transferred));
    println!("files {n}: resume to TRANSFERRED in {took:?} (wall clock, noisy)");
}
