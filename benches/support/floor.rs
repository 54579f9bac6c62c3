//! `lifecycle/floor` and `lifecycle/floor_reuse`: the unavoidable work of one job lifecycle, by hand
//! (see `benches/lifecycle.rs`). Shared by that bench and by `examples/profile.rs`
//! (`lifecycle-floor K`), which include this file with `#[path]`.

use bitsim::JobState;
use std::hint::black_box;

pub const URL: &str = "https://example.test/pkg/update-1.2.3.bin";
pub const LOCAL: &str = "C:\\ProgramData\\updater\\update-1.2.3.bin";
pub const NAME: &str = "updater: update-1.2.3";

pub struct FloorJob {
    _id: u32,
    _display_name: String,
    _remote: String,
    _local: String,
    state: JobState,
}

/// The size of a real trace record (`bitsim::TraceEvent` is 40 bytes): time, job, from, to, rule.
#[allow(dead_code)]
pub struct FloorRecord {
    time: u64,
    job: u32,
    from: JobState,
    to: JobState,
    rule: u32,
}

#[derive(Default)]
pub struct FloorMachine {
    pub jobs: Vec<FloorJob>,
    pub trace: Vec<FloorRecord>,
    pub now: u64,
}

pub fn floor(m: &mut FloorMachine) {
    let id = m.jobs.len() as u32;
    let mut job = FloorJob {
        _id: id,
        _display_name: black_box(NAME).to_string(),
        _remote: black_box(URL).to_string(),
        _local: black_box(LOCAL).to_string(),
        state: JobState::Suspended,
    };
    for (rule, to) in [
        JobState::Queued,
        JobState::Connecting,
        JobState::Transferring,
        JobState::Transferred,
        JobState::Acknowledged,
    ]
    .into_iter()
    .enumerate()
    {
        m.trace.push(FloorRecord {
            time: m.now,
            job: id,
            from: job.state,
            to,
            rule: rule as u32,
        });
        job.state = to;
    }
    m.now += 1;
    m.jobs.push(job);
    black_box(&m.jobs);
}

impl FloorMachine {
    /// The next machine: new job and trace vectors (`floor`), or these emptied, their blocks kept
    /// (`floor_reuse`, what D88 does for bitsim).
    pub fn next(&mut self, reuse: bool) {
        if reuse {
            self.jobs.clear();
            self.trace.clear();
            self.now = 0;
        } else {
            *self = FloorMachine::default();
        }
    }
}
