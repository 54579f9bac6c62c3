//! Bytes allocated per idle job: `create_job` + `add_file` (one file), left SUSPENDED, for 1,000,
//! 100,000 and 1,000,000 jobs, measured by a counting global allocator.
//!
//! Run: `cargo run --release --example memory` (each size is measured in a child process of its own,
//! `memory N on|off`, so that no block a dropped machine left behind — D88 — enters the count).
//!
//! "Live bytes" are the bytes the allocator holds after the jobs were created minus what it held
//! before (the machine with its user and application already exists), divided by the number of jobs.
//! They include every vector's spare capacity: the service's job vector and the trace (the
//! registrations reach only as far as the last job given one: none here) double while under 256 KiB and then grow by a sixteenth (D68), so the per-job share
//! depends on how full the last step is (1,000 jobs: capacity 1,024; 100,000 jobs: at most 6.25 %
//! slack). The job's own strings
//! (display name, remote URL, local name; exactly their lengths, as `str::to_string` allocates) are
//! reported apart from the rest. Tracing is on (the default), so each job also has its `Created`
//! trace record.
//!
//! The global allocator below is the only `unsafe` in the project; the library itself is
//! `#![forbid(unsafe_code)]`.

use bitsim::{JobType, Remote, Sim, World};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// Counts live bytes and allocation calls; everything else is the system allocator.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static CALLS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the same arguments and only adds relaxed counter
// updates, so `System`'s guarantees carry over unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Relaxed);
        CALLS.fetch_add(1, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Relaxed);
        CALLS.fetch_add(1, Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Relaxed);
        LIVE.fetch_sub(layout.size(), Relaxed);
        CALLS.fetch_add(1, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const NAME: &str = "updater: update-1.2.3";
const URL: &str = "https://example.test/pkg/update-1.2.3.bin";
const LOCAL: &str = "C:\\ProgramData\\updater\\update-1.2.3.bin";

fn measure(n: usize, tracing: bool) -> (f64, f64) {
    let sim = Sim::new(World::new().remote(URL, Remote::sized(1_000)));
    sim.with_service_mut(|s| s.set_tracing(tracing));
    // An administrator: exempt from the job quotas (D14), so 100,000 jobs can exist.
    let app = sim.connect("memory", sim.admin("admin")).unwrap();
    let mut handles = Vec::with_capacity(n);
    let (live0, calls0) = (LIVE.load(Relaxed), CALLS.load(Relaxed));
    for _ in 0..n {
        let job = app.create_job(NAME, JobType::Download).unwrap();
        job.add_file(URL, LOCAL).unwrap();
        // Keep the handle's id only: a handle (an Rc clone) is the application's memory, not the job's.
        handles.push(job.id());
    }
    let live = (LIVE.load(Relaxed) - live0) as f64 / n as f64;
    let calls = (CALLS.load(Relaxed) - calls0) as f64 / n as f64;
    assert_eq!(handles.len(), n);
    drop(sim);
    (live, calls)
}

fn main() {
    let strings = NAME.len() + URL.len() + LOCAL.len();
    println!(
        "job's own strings: {strings} bytes (display name {}, remote {}, local {})",
        NAME.len(),
        URL.len(),
        LOCAL.len()
    );
    println!(
        "{:>8} {:>8} {:>16} {:>16} {:>16}",
        "jobs", "tracing", "live bytes/job", "beyond strings", "allocs/job"
    );
    // Each size in a process of its own: a machine dropped leaves blocks for the next one (D88's
    // spare trace block), which this process's count would have charged to the earlier machine.
    let args: Vec<String> = std::env::args().collect();
    if let [_, n, tracing] = &args[..] {
        let (n, tracing): (usize, bool) = (n.parse().unwrap(), tracing == "on");
        let (live, calls) = measure(n, tracing);
        println!(
            "{n:>8} {:>8} {live:>16.1} {:>16.1} {calls:>16.2}",
            if tracing { "on" } else { "off" },
            live - strings as f64
        );
        return;
    }
    let exe = std::env::current_exe().unwrap();
    for tracing in ["on", "off"] {
        for n in [1_000, 100_000, 1_000_000] {
            let out = std::process::Command::new(&exe)
                .args([n.to_string(), tracing.to_string()])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout);
            print!(
                "{}",
                text.lines()
                    .last()
                    .map(|l| format!("{l}\n"))
                    .unwrap_or_default()
            );
        }
    }
}
