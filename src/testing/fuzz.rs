//! Fuzz target bodies, kept in the library so that `tests/fuzz_corpus.rs` runs them over the committed
//! corpus on stable Rust while `fuzz/` runs them under libFuzzer on nightly.
//!
//! [`decode_run`] turns any byte string into a world and a sequence of operations (every byte string
//! is valid; missing bytes read as zero), using the same value tables as the proptest strategies.

use super::harness::Harness;
use super::op::{JobCall, NamePick, Op, UserSpec, WorldSpec, USER_NAMES};
use super::scenario::ops_to_scenario;
use super::strategies::{
    local_path, remote_url, ADVANCE_SECS, BANDWIDTHS, DESCRIPTION_LENGTHS, HTTP_STATUSES,
    IDLE_BOUNDS, NOTIFY_FLAGS, NO_PROGRESS_TIMEOUTS, PRIORITIES, RETRY_DELAYS, WIN32_CODES,
};
use crate::world::{Chaos, Local, Network, Remote, Response};
use crate::{HResult, JobType, World};

/// The longest operation sequence a fuzz input decodes to (keeps every execution fast).
pub const MAX_FUZZ_OPS: usize = 64;

/// Reads bytes, giving zeros once the input is used up.
struct Bytes<'a> {
    data: &'a [u8],
    at: usize,
}

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }
    fn more(&self) -> bool {
        self.at < self.data.len()
    }
    fn u64(&mut self) -> u64 {
        (0..8).fold(0u64, |v, _| v << 8 | u64::from(self.u8()))
    }
    fn pick<T: Copy>(&mut self, table: &[T]) -> T {
        table[usize::from(self.u8()) % table.len()]
    }
    fn flag(&mut self, one_in: u8) -> bool {
        self.u8() % one_in == 0
    }
}

fn response(b: &mut Bytes) -> Response {
    let r = match b.u8() % 3 {
        0 => return Response::Ok,
        1 => Response::http(b.pick(&HTTP_STATUSES)),
        _ => Response::win32(b.pick(&WIN32_CODES)),
    };
    if b.flag(4) {
        r.after_bytes(u64::from(b.u8()) * 1000)
    } else {
        r
    }
}

fn remote(b: &mut Bytes) -> Remote {
    let size = match b.u8() % 10 {
        0 => None,
        1 | 2 => Some(0),
        n => Some(u64::from(n) * 100_000 + u64::from(b.u8()) * 1000),
    };
    let responses = (0..b.u8() % 4).map(|_| response(b)).collect();
    let otherwise = match b.u8() % 9 {
        0 => Response::http(503),
        1 => Response::http(404),
        2 => Response::win32(12029),
        _ => Response::Ok,
    };
    Remote {
        size,
        responses,
        otherwise,
    }
}

fn world_spec(b: &mut Bytes) -> WorldSpec {
    let users = (0..1 + usize::from(b.u8() % 3))
        .map(|i| {
            let flags = b.u8();
            UserSpec {
                name: USER_NAMES[i].to_string(),
                admin: flags % 4 == 1,
                logged_on: flags % 5 != 4,
            }
        })
        .collect();
    let mut w = World::new();
    for i in 0..1 + usize::from(b.u8() % 4) {
        w.remotes.insert(remote_url(i), remote(b));
    }
    for i in 0..usize::from(b.u8() % 3) {
        w.locals.insert(
            local_path(i),
            Local {
                size: u64::from(b.u8()) * 500,
            },
        );
    }
    w.bandwidth = b.pick(&BANDWIDTHS);
    if b.flag(10) {
        w.network = Network::Down;
    }
    if b.flag(5) {
        let seed = b.u64();
        w.chaos = Some(Chaos::new(seed, if b.u8() % 2 == 0 { 0.1 } else { 0.3 }));
    }
    WorldSpec { users, world: w }
}

fn name(b: &mut Bytes) -> NamePick {
    match b.u8() % 8 {
        0 => NamePick::TooLong,
        1 => NamePick::Empty,
        2 | 3 => NamePick::Other,
        _ => NamePick::Update,
    }
}

fn job_call(b: &mut Bytes) -> JobCall {
    match b.u8() % 24 {
        0..=3 => JobCall::AddFile {
            remote: b.u8() % 6,
            local: b.u8() % 6,
        },
        4 => JobCall::AddFileSet {
            files: (0..b.u8() % 3).map(|_| (b.u8() % 6, b.u8() % 6)).collect(),
        },
        5..=8 => JobCall::Resume,
        9 => JobCall::Suspend,
        10 => JobCall::Cancel,
        11 => JobCall::Complete,
        12 => JobCall::SetDisplayName(name(b)),
        13 => JobCall::SetDescription(b.pick(&DESCRIPTION_LENGTHS)),
        14 => JobCall::SetPriority(b.pick(&PRIORITIES)),
        15 => JobCall::SetNotifyFlags(b.pick(&NOTIFY_FLAGS)),
        16 => JobCall::SetMinimumRetryDelay(b.pick(&RETRY_DELAYS)),
        17 => JobCall::SetNoProgressTimeout(b.pick(&NO_PROGRESS_TIMEOUTS)),
        18 => JobCall::TakeOwnership,
        19 | 20 => JobCall::GetError {
            hold: b.u8() % 2 == 0,
        },
        21 => JobCall::RegisterCallback {
            answer: if b.flag(3) {
                HResult::E_FAIL
            } else {
                HResult::S_OK
            },
        },
        22 => JobCall::GetState,
        _ => JobCall::GetProgress,
    }
}

fn op(b: &mut Bytes) -> Op {
    let tag = b.u8() % 32;
    match tag {
        0..=2 => Op::CreateJob {
            app: b.u8() % 4,
            name: name(b),
            job_type: match b.u8() % 8 {
                0 => JobType::Upload,
                1 => JobType::UploadReply,
                _ => JobType::Download,
            },
        },
        3 => Op::GetJob {
            app: b.u8() % 4,
            job: b.u8() % 8,
        },
        4 => Op::EnumJobs {
            app: b.u8() % 4,
            all_users: b.u8() % 2 == 0,
        },
        5..=16 => Op::Job {
            app: b.u8() % 4,
            handle: b.u8() % 8,
            call: job_call(b),
        },
        17 => Op::TakeNotifications { app: b.u8() % 4 },
        18..=21 => Op::Advance {
            secs: b.pick(&ADVANCE_SECS),
        },
        22 => Op::RunUntilIdle {
            max_secs: b.pick(&IDLE_BOUNDS),
        },
        23 | 24 => Op::Network {
            up: b.u8() % 2 == 0,
        },
        25 => Op::Logon { user: b.u8() % 3 },
        26 => Op::Logoff { user: b.u8() % 3 },
        27 => Op::Connect { user: b.u8() % 3 },
        28 => Op::Exit { app: b.u8() % 4 },
        29 => Op::SetRemote {
            url: b.u8() % 5,
            remote: remote(b),
        },
        30 => Op::RestartService,
        _ => Op::Advance { secs: 1 },
    }
}

/// Decode a fuzz input: a world, then up to [`MAX_FUZZ_OPS`] operations until the bytes run out.
pub fn decode_run(data: &[u8]) -> (WorldSpec, Vec<Op>) {
    let mut b = Bytes { data, at: 0 };
    let spec = world_spec(&mut b);
    let mut ops = Vec::new();
    while b.more() && ops.len() < MAX_FUZZ_OPS {
        ops.push(op(&mut b));
    }
    (spec, ops)
}

/// The `ops` fuzz target: decode, run with the invariants checked after every step (except the
/// [`KNOWN_CORE_BUGS`](super::KNOWN_CORE_BUGS)), and panic with the failure report (violation and
/// replay scenario) on the first broken rule.
pub fn fuzz_ops(data: &[u8]) {
    let (spec, ops) = decode_run(data);
    let mut h = Harness::new(&spec);
    for rule in super::KNOWN_CORE_BUGS {
        h.waive(rule);
    }
    for op in &ops {
        if let Err(failure) = h.step(op) {
            panic!("{failure}");
        }
    }
}

/// What a scenario runner made of a scenario file.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ScenarioVerdict {
    /// Every step passed.
    Passed,
    /// A step failed (the message says which and how).
    Failed(String),
    /// The file is not a valid scenario.
    Invalid(String),
}

/// Parse and run a scenario file with [`crate::scenario`]: the verdict [`fuzz_scenario`] needs.
pub fn run_scenario(text: &str) -> ScenarioVerdict {
    match crate::scenario::Scenario::parse(text, "fuzz.json") {
        Err(e) => ScenarioVerdict::Invalid(e.to_string()),
        Ok(sc) => {
            let r = crate::scenario::run(&sc, "fuzz.json", &crate::scenario::RunOptions::default());
            match r.failure {
                None if r.passed => ScenarioVerdict::Passed,
                None => ScenarioVerdict::Failed("failed without a failing step".into()),
                Some(f) => ScenarioVerdict::Failed(format!(
                    "step {} ({}): expected {}, got {}: {}",
                    f.step, f.what, f.expected, f.actual, f.message
                )),
            }
        }
    }
}

/// The `scenario` fuzz target, for any runner `run` (normally [`run_scenario`]): raw bytes that
/// are UTF-8 go to the runner as they are (any verdict is fine, a panic is not); the same bytes also
/// decode to a run whose scenario file ([`ops_to_scenario`]) the runner must accept and pass, since
/// every step of it expects what the simulator returned.
pub fn fuzz_scenario(data: &[u8], run: &dyn Fn(&str) -> ScenarioVerdict) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = run(text);
    }
    let (spec, ops) = decode_run(data);
    let scenario = ops_to_scenario(&spec, &ops);
    if let Err(e) = super::contract::validate(&scenario) {
        panic!("the kit wrote a scenario outside the contract: {e}\n{scenario:#}");
    }
    let text = serde_json::to_string_pretty(&scenario).expect("a JSON value serialises");
    match run(&text) {
        ScenarioVerdict::Passed => {}
        other => panic!("a generated scenario did not replay: {other:?}\n{text}"),
    }
}
