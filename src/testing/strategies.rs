//! proptest strategies for worlds, users and operation sequences.
//!
//! Values are drawn from small tables of interesting cases (the HTTP statuses of D5, sizes 0 and
//! unknown, retry delays around the 5 s floor, time steps around the retry delay) rather than from
//! the whole integer range, so that a few hundred cases reach the corners of the spec. The same tables
//! drive the fuzzer's byte decoder ([`super::decode_run`]).
//!
//! ```
//! use bitsim::testing::{strategies, Harness};
//! use proptest::prelude::*;
//! use proptest::test_runner::TestRunner;
//!
//! let mut runner = TestRunner::new(bitsim::testing::config(8));
//! runner
//!     .run(&(strategies::world_spec(), strategies::ops(1..20)), |(world, ops)| {
//!         Harness::run(&world, &ops)?;
//!         Ok(())
//!     })
//!     .unwrap();
//! ```

use super::op::{JobCall, NamePick, Op, UserSpec, WorldSpec, USER_NAMES};
use crate::world::{Chaos, Local, Network, Remote, Response};
use crate::{HResult, JobType, World};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use std::collections::BTreeMap;
use std::ops::Range;

/// HTTP statuses servers answer with: fatal (403, 404, 410), transient (408, 500, 503), success (200).
pub const HTTP_STATUSES: [u16; 7] = [404, 500, 503, 403, 408, 410, 200];
/// WinHTTP errors: name not resolved, connection error, connection aborted, timeout (all transient).
pub const WIN32_CODES: [u32; 4] = [12007, 12029, 12030, 12002];
/// Time steps in seconds: none, small, around the default retry delay, an hour, a day.
pub const ADVANCE_SECS: [u64; 11] = [0, 1, 2, 5, 30, 60, 599, 600, 601, 3600, 86_400];
/// Bounds for run-until-idle, in seconds.
pub const IDLE_BOUNDS: [u64; 3] = [60, 3600, 86_400];
/// SetMinimumRetryDelay values: under the floor, the floor, and common ones.
pub const RETRY_DELAYS: [u32; 6] = [0, 4, 5, 60, 600, 3600];
/// SetNoProgressTimeout values: zero (T26), short, the default, the largest.
pub const NO_PROGRESS_TIMEOUTS: [u32; 5] = [0, 30, 600, 1_209_600, u32::MAX];
/// SetPriority values: the four valid ones and invalid ones (E_NOTIMPL).
pub const PRIORITIES: [u32; 7] = [0, 1, 2, 3, 4, 7, u32::MAX];
/// SetNotifyFlags values: valid combinations and unknown bits (E_NOTIMPL).
pub const NOTIFY_FLAGS: [u32; 10] = [0, 1, 2, 3, 4, 8, 0xB, 0x3F, 0x40, 0xFFFF];
/// SetDescription lengths: empty, short, the limit, one over.
pub const DESCRIPTION_LENGTHS: [u16; 4] = [0, 3, 1024, 1025];
/// Bandwidths in bytes per second (0: nothing moves).
pub const BANDWIDTHS: [u64; 4] = [0, 1_000, 100_000, 1_000_000];

/// The URL of generated remote `i`.
pub fn remote_url(i: usize) -> String {
    format!("https://r{i}.test/f{i}.bin")
}

/// The local path of generated upload source `i`.
pub fn local_path(i: usize) -> String {
    format!("C:\\up\\u{i}.bin")
}

/// One answer to a connection attempt: ok, an HTTP status, or a WinHTTP error, sometimes only after
/// some bytes.
pub fn response() -> impl Strategy<Value = Response> {
    let fault = prop_oneof![
        3 => select(&HTTP_STATUSES[..]).prop_map(Response::http),
        2 => select(&WIN32_CODES[..]).prop_map(Response::win32),
    ];
    let after = prop_oneof![3 => Just(None), 1 => (0u64..200_000).prop_map(Some)];
    prop_oneof![
        4 => Just(Response::Ok),
        5 => (fault, after).prop_map(|(r, a)| match a {
            Some(n) => r.after_bytes(n),
            None => r,
        }),
    ]
}

/// A remote: a size (sometimes 0, sometimes missing), a short script of answers, and what it answers
/// once the script is used up.
pub fn remote() -> impl Strategy<Value = Remote> {
    let size = prop_oneof![
        1 => Just(None),
        2 => Just(Some(0u64)),
        7 => (1u64..3_000_000).prop_map(Some),
    ];
    let otherwise = prop_oneof![
        6 => Just(Response::Ok),
        1 => Just(Response::http(503)),
        1 => Just(Response::http(404)),
        1 => Just(Response::win32(12029)),
    ];
    (size, vec(response(), 0..4), otherwise).prop_map(|(size, responses, otherwise)| Remote {
        size,
        responses: responses.into(),
        otherwise,
    })
}

/// A world: 1–4 remotes, 0–2 upload sources, a bandwidth, the network (mostly up) and sometimes chaos.
pub fn world() -> impl Strategy<Value = World> {
    let chaos = prop_oneof![
        8 => Just(None),
        2 => (any::<u64>(), select(&[0.1f64, 0.3][..])).prop_map(|(s, r)| Some(Chaos::new(s, r))),
    ];
    (
        vec(remote(), 1..5),
        vec(0u64..200_000, 0..3),
        select(&BANDWIDTHS[..]),
        prop_oneof![9 => Just(Network::Up), 1 => Just(Network::Down)],
        chaos,
    )
        .prop_map(|(remotes, locals, bandwidth, network, chaos)| {
            let mut w = World::new().bandwidth(bandwidth);
            w.network = network;
            w.chaos = chaos;
            w.remotes = remotes
                .into_iter()
                .enumerate()
                .map(|(i, r)| (remote_url(i), r))
                .collect();
            w.locals = locals
                .into_iter()
                .enumerate()
                .map(|(i, size)| (local_path(i), Local { size }))
                .collect::<BTreeMap<_, _>>();
            w
        })
}

/// 1 to `max` users (at most 4): standard or administrator, logged on or off.
pub fn users(max: usize) -> impl Strategy<Value = Vec<UserSpec>> {
    let user = (
        prop_oneof![3 => Just(false), 1 => Just(true)],
        prop_oneof![4 => Just(true), 1 => Just(false)],
    );
    vec(user, 1..=max.clamp(1, USER_NAMES.len())).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (admin, logged_on))| UserSpec {
                name: USER_NAMES[i].to_string(),
                admin,
                logged_on,
            })
            .collect()
    })
}

/// A world with up to three users.
pub fn world_spec() -> impl Strategy<Value = WorldSpec> {
    (users(3), world()).prop_map(|(users, world)| WorldSpec { users, world })
}

/// A world with at least two users, the first a standard user who is logged on (for D9).
pub fn multi_user_world_spec() -> impl Strategy<Value = WorldSpec> {
    (users(3), users(2), world()).prop_map(|(mut a, b, world)| {
        a[0].admin = false;
        a[0].logged_on = true;
        if a.len() < 2 {
            let mut u = b[0].clone();
            u.name = USER_NAMES[1].to_string();
            a.push(u);
        }
        WorldSpec { users: a, world }
    })
}

/// How often each kind of operation is drawn (relative weights).
#[derive(Clone, Copy, Debug)]
pub struct OpMix {
    /// CreateJob.
    pub create: u32,
    /// GetJob.
    pub get_job: u32,
    /// EnumJobs.
    pub enum_jobs: u32,
    /// Job methods.
    pub call: u32,
    /// GetError keeping the object, among job methods.
    pub hold_error: u32,
    /// Advance and run-until-idle.
    pub time: u32,
    /// Network, logon, logoff, set_remote.
    pub world: u32,
    /// Connect and exit.
    pub apps: u32,
    /// Service restart.
    pub restart: u32,
}

impl Default for OpMix {
    fn default() -> OpMix {
        OpMix {
            create: 5,
            get_job: 2,
            enum_jobs: 1,
            call: 30,
            hold_error: 2,
            time: 9,
            world: 4,
            apps: 2,
            restart: 1,
        }
    }
}

impl OpMix {
    /// Weighted toward error objects and their end: GetError kept, TRANSFERRING again, exits.
    pub fn lifetimes() -> OpMix {
        OpMix {
            hold_error: 8,
            apps: 4,
            restart: 2,
            ..OpMix::default()
        }
    }

    /// Weighted toward several users looking at and touching each other's jobs.
    pub fn security() -> OpMix {
        OpMix {
            get_job: 8,
            enum_jobs: 4,
            apps: 5,
            ..OpMix::default()
        }
    }
}

fn remote_pick() -> impl Strategy<Value = u8> {
    prop_oneof![6 => Just(0u8), 4 => 0u8..4, 1 => any::<u8>()]
}

fn local_pick() -> impl Strategy<Value = u8> {
    prop_oneof![6 => 0u8..2, 3 => 2u8..4, 1 => any::<u8>()]
}

/// A job method with its arguments (valid ones mostly, invalid ones sometimes).
pub fn job_call(mix: OpMix) -> impl Strategy<Value = JobCall> {
    let name = prop_oneof![
        4 => Just(NamePick::Update),
        2 => Just(NamePick::Other),
        1 => Just(NamePick::Empty),
        1 => Just(NamePick::TooLong),
    ];
    let answer = prop_oneof![3 => Just(HResult::S_OK), 1 => Just(HResult::E_FAIL)];
    prop_oneof![
        8 => (remote_pick(), local_pick()).prop_map(|(remote, local)| JobCall::AddFile { remote, local }),
        2 => vec((remote_pick(), local_pick()), 0..3).prop_map(|files| JobCall::AddFileSet { files }),
        10 => Just(JobCall::Resume),
        3 => Just(JobCall::Suspend),
        2 => Just(JobCall::Cancel),
        3 => Just(JobCall::Complete),
        1 => name.prop_map(JobCall::SetDisplayName),
        1 => select(&DESCRIPTION_LENGTHS[..]).prop_map(JobCall::SetDescription),
        2 => select(&PRIORITIES[..]).prop_map(JobCall::SetPriority),
        1 => select(&NOTIFY_FLAGS[..]).prop_map(JobCall::SetNotifyFlags),
        2 => select(&RETRY_DELAYS[..]).prop_map(JobCall::SetMinimumRetryDelay),
        2 => select(&NO_PROGRESS_TIMEOUTS[..]).prop_map(JobCall::SetNoProgressTimeout),
        1 => Just(JobCall::TakeOwnership),
        2 => Just(JobCall::GetError { hold: false }),
        mix.hold_error.max(1) => Just(JobCall::GetError { hold: true }),
        1 => answer.prop_map(|answer| JobCall::RegisterCallback { answer }),
        1 => Just(JobCall::GetState),
        1 => Just(JobCall::GetProgress),
        1 => Just(JobCall::GetErrorCount),
        1 => Just(JobCall::GetOwner),
    ]
}

/// One operation drawn with the weights of `mix`.
pub fn op_with(mix: OpMix) -> impl Strategy<Value = Op> {
    // Mostly the first application, which exists from the start and creates most jobs.
    let app = prop_oneof![5 => Just(0u8), 2 => 0u8..4];
    let job_type = prop_oneof![
        6 => Just(JobType::Download),
        1 => Just(JobType::Upload),
        1 => Just(JobType::UploadReply),
    ];
    let name = prop_oneof![
        6 => Just(NamePick::Update),
        2 => Just(NamePick::Other),
        1 => Just(NamePick::TooLong),
    ];
    let w = |n: u32| n.max(1);
    prop_oneof![
        w(mix.create) => (app.clone(), name, job_type)
            .prop_map(|(app, name, job_type)| Op::CreateJob { app, name, job_type }),
        w(mix.get_job) => (app.clone(), 0u8..6).prop_map(|(app, job)| Op::GetJob { app, job }),
        w(mix.enum_jobs) => (app.clone(), any::<bool>())
            .prop_map(|(app, all_users)| Op::EnumJobs { app, all_users }),
        w(mix.call) => (app.clone(), 0u8..6, job_call(mix))
            .prop_map(|(app, handle, call)| Op::Job { app, handle, call }),
        1 => app.clone().prop_map(|app| Op::TakeNotifications { app }),
        w(mix.time) => select(&ADVANCE_SECS[..]).prop_map(|secs| Op::Advance { secs }),
        1 => select(&IDLE_BOUNDS[..]).prop_map(|max_secs| Op::RunUntilIdle { max_secs }),
        w(mix.world) => any::<bool>().prop_map(|up| Op::Network { up }),
        (w(mix.world) / 2).max(1) => (0u8..3).prop_map(|user| Op::Logon { user }),
        (w(mix.world) / 2).max(1) => (0u8..3).prop_map(|user| Op::Logoff { user }),
        (w(mix.world) / 2).max(1) => (0u8..5, remote())
            .prop_map(|(url, remote)| Op::SetRemote { url, remote }),
        w(mix.apps) => (0u8..3).prop_map(|user| Op::Connect { user }),
        w(mix.apps) => app.prop_map(|app| Op::Exit { app }),
        w(mix.restart) => Just(Op::RestartService),
    ]
}

/// A job's usual start as a run of operations: CreateJob, one to three AddFile through the new
/// handle, Resume, and sometimes a time step.
pub fn lifecycle(mix: OpMix) -> impl Strategy<Value = Vec<Op>> {
    let _ = mix;
    let job_type = prop_oneof![
        6 => Just(JobType::Download),
        1 => Just(JobType::Upload),
        1 => Just(JobType::UploadReply),
    ];
    (
        prop_oneof![5 => Just(0u8), 1 => 0u8..3],
        job_type,
        vec((remote_pick(), local_pick()), 1..4),
        prop_oneof![1 => Just(None), 2 => select(&ADVANCE_SECS[..]).prop_map(Some)],
    )
        .prop_map(|(app, job_type, files, advance)| {
            let mut v = vec![Op::CreateJob {
                app,
                name: NamePick::Update,
                job_type,
            }];
            let call = |call| Op::Job {
                app: 0,
                handle: 0,
                call,
            };
            v.extend(
                files
                    .into_iter()
                    .map(|(remote, local)| call(JobCall::AddFile { remote, local })),
            );
            v.push(call(JobCall::Resume));
            v.extend(advance.map(|secs| Op::Advance { secs }));
            v
        })
}

/// A sequence of about `len` operations drawn with the weights of `mix`: single operations mixed
/// with job lifecycles ([`lifecycle`]).
pub fn ops_with(mix: OpMix, len: Range<usize>) -> impl Strategy<Value = Vec<Op>> {
    let max = len.end.saturating_sub(1).max(1);
    let chunk = prop_oneof![
        6 => op_with(mix).prop_map(|op| vec![op]),
        1 => lifecycle(mix),
    ];
    vec(chunk, len).prop_map(move |chunks| {
        let mut v: Vec<Op> = chunks.into_iter().flatten().collect();
        v.truncate(max);
        v
    })
}

/// One operation with the default weights.
pub fn op() -> impl Strategy<Value = Op> {
    op_with(OpMix::default())
}

/// A sequence of about `len` operations with the default weights.
pub fn ops(len: Range<usize>) -> impl Strategy<Value = Vec<Op>> {
    ops_with(OpMix::default(), len)
}
