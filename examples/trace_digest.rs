//! A behaviour fingerprint for optimisation work: runs a mixed workload that touches every engine
//! path (chaos faults with mid-transfer failures, all four priorities, time slices and pre-emption,
//! several users with logoff/logon, network loss and return, failing callbacks that are retried,
//! suspend/resume/cancel/complete, a service restart) and prints a digest of the full rendered trace,
//! the final snapshot JSON and the event count. An optimisation that preserves behaviour leaves all
//! three unchanged, byte for byte:
//!
//! ```text
//! git stash; cargo run --release --example trace_digest > before.txt; git stash pop
//! cargo run --release --example trace_digest > after.txt; diff before.txt after.txt
//! ```

use bitsim::{
    HResult, JobState, JobType, Network, Priority, Remote, Response, Sim, SimDuration, World,
};
use std::hash::{DefaultHasher, Hash, Hasher};

fn digest(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

fn url(i: usize) -> String {
    format!("https://h{}.example.test/f/{i}.bin", i % 7)
}

fn world() -> World {
    let mut w = World::new().chaos(42, 0.3).bandwidth(250_000);
    for i in 0..64 {
        let r = match i % 5 {
            0 => Remote::sized(10_000 + i as u64 * 997),
            1 => {
                Remote::sized(50_000).with_responses([Response::http(503), Response::win32(12029)])
            }
            2 => Remote::sized(20_000).with_responses([Response::http(500).after_bytes(7_000)]),
            3 if i % 2 == 0 => Remote::sized(5_000).otherwise(Response::http(404)),
            3 => Remote::sized(5_000).otherwise(Response::http(503)),
            _ => Remote::sized(20_000_000).with_responses([Response::http(408)]),
        };
        w = w.remote(url(i), r);
    }
    w.local("C:\\up\\a.bin", 30_000)
}

fn run() -> (String, String, u64) {
    let sim = Sim::new(world());
    let alice = sim.user("alice");
    let bob = sim.user("bob");
    let admin = sim.admin("root");
    let apps = [
        sim.connect("a", alice).unwrap(),
        sim.connect("b", bob).unwrap(),
        sim.connect("r", admin).unwrap(),
    ];
    let mut jobs = Vec::new();
    for i in 0..48 {
        let app = &apps[i % 3];
        let ty = if i % 11 == 5 {
            JobType::Upload
        } else {
            JobType::Download
        };
        let job = app.create_job(&format!("job {i}"), ty).unwrap();
        if ty == JobType::Upload {
            job.add_file(&url(i), "C:\\up\\a.bin").unwrap();
        } else {
            job.add_file(&url(i), &format!("C:\\dl\\{i}.bin")).unwrap();
            if i % 4 == 0 {
                job.add_file(&url(i + 1), &format!("C:\\dl\\{i}b.bin"))
                    .unwrap();
            }
        }
        let p = [
            Priority::Foreground,
            Priority::High,
            Priority::Normal,
            Priority::Low,
        ][i % 4];
        job.set_priority(p).unwrap();
        job.set_minimum_retry_delay(30 + (i as u32 % 5) * 60)
            .unwrap();
        if i % 6 == 3 {
            job.set_no_progress_timeout(900).unwrap();
        }
        if i % 5 == 0 {
            job.set_notify_answer(if i % 10 == 0 {
                HResult::E_FAIL
            } else {
                HResult::S_OK
            })
            .unwrap();
        }
        job.resume().unwrap();
        jobs.push(job);
    }
    sim.with_service_mut(|s| s.set_time_slice_secs(20));
    sim.advance_secs(3);
    jobs[3].set_priority(Priority::Foreground).unwrap();
    // Running FOREGROUND jobs become background ones: several background jobs run at once until the
    // next scheduler pass keeps the best.
    jobs[0].set_priority(Priority::Low).unwrap();
    jobs[4].set_priority(Priority::High).unwrap();
    jobs[8].set_priority(Priority::High).unwrap();
    jobs[7].suspend().unwrap();
    sim.advance_secs(40);
    sim.logoff(bob);
    sim.advance_secs(100);
    sim.set_network(Network::Down);
    sim.advance_secs(50);
    sim.set_network(Network::Up);
    jobs[7].resume().unwrap();
    jobs[9].cancel().unwrap();
    sim.advance_secs(200);
    sim.logon(bob);
    for k in 0..6 {
        sim.advance_secs(45);
        if k % 2 == 0 {
            sim.logoff(alice);
        } else {
            sim.logon(alice);
        }
    }
    sim.set_bandwidth(2_000_000);
    sim.advance_secs(400);
    sim.restart_service();
    let apps: Vec<_> = apps.iter().map(|a| a.reconnect().unwrap()).collect();
    let _ = sim.run_until_idle_within(SimDuration::from_secs(20_000));
    for (i, job) in jobs.iter().enumerate() {
        if let Ok(j) = apps[i % 3].get_job(job.id()) {
            match j.get_state() {
                Ok(JobState::Transferred) => {
                    j.complete().unwrap();
                }
                Ok(JobState::Error) if i % 2 == 0 => {
                    j.resume().unwrap();
                }
                _ => {}
            }
        }
    }
    let _ = sim.run_until_idle_within(SimDuration::from_secs(20_000));
    let trace: String = sim.trace().iter().map(|e| format!("{e}\n")).collect();
    let snap = sim.with_service(|s| s.to_snapshot_json());
    let steps = sim.with_service(|s| s.steps());
    (trace, snap, steps)
}

/// Several FOREGROUND jobs running at once become background ones: the next scheduler pass keeps the
/// best running and sends the others back to QUEUED (T7), then rotates them by time slice.
fn demoted() -> String {
    let sim = Sim::new(World::new().remote(url(0), Remote::sized(50_000_000)));
    let app = sim.connect("d", sim.user("dora")).unwrap();
    let jobs: Vec<_> = (0..4)
        .map(|i| {
            let job = app.create_job(&format!("d{i}"), JobType::Download).unwrap();
            job.add_file(&url(0), &format!("C:\\d\\{i}.bin")).unwrap();
            job.set_priority(Priority::Foreground).unwrap();
            job.resume().unwrap();
            job
        })
        .collect();
    sim.advance_secs(2);
    jobs[2].set_priority(Priority::Normal).unwrap();
    jobs[0].set_priority(Priority::Low).unwrap();
    jobs[3].set_priority(Priority::Normal).unwrap();
    jobs[1].set_priority(Priority::High).unwrap();
    sim.advance_secs(2_000);
    let lines = sim.trace().iter().map(|e| format!("{e}\n")).collect();
    lines
}

fn main() {
    let (mut trace, snap, steps) = run();
    trace.push_str(&demoted());
    if std::env::args().any(|a| a == "--print") {
        print!("{trace}");
    }
    println!(
        "trace: {} lines, digest {:016x}",
        trace.lines().count(),
        digest(&trace)
    );
    println!(
        "snapshot: {} bytes, digest {:016x}",
        snap.len(),
        digest(&snap)
    );
    println!("events: {steps}");
}
