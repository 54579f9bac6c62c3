//! proptest strategies for setups (worlds, users, chaos) and step sequences ([`Draw`]s of the
//! scenario vocabulary).
//!
//! Values are drawn from small tables of interesting cases (the HTTP statuses of D5, sizes 0 and
//! unknown, retry delays around the 5 s floor, time steps around the retry delay) rather than from
//! the whole integer range, so that a few hundred cases reach the corners of the spec. The same tables
//! drive the fuzzer's byte decoder ([`super::decode_run`]).
//!
//! ```
//! use bitsim::testing::{strategies, Harness};
//! use proptest::test_runner::TestRunner;
//!
//! let mut runner = TestRunner::new(bitsim::testing::config(8));
//! runner
//!     .run(&(strategies::setup(), strategies::draws(1..20)), |(setup, draws)| {
//!         Harness::run(&setup, &draws)?;
//!         Ok(())
//!     })
//!     .unwrap();
//! ```

use super::draw::{
    local_names, local_path, make, remote_names, remote_url, Draw, Setup, UNKNOWN_URL, USER_NAMES,
};
use crate::properties::{Prop, PropertyValue, Scalar, ScalarKind};
use crate::scenario::{Action, Op, StateMethod, UserSpec, WorldSpec};
use crate::world::{Chaos, Network, Remote, Response};
use crate::{HResult, JobType, World};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use std::ops::Range;

/// HTTP statuses servers answer with: fatal (403, 404, 410), transient (408, 500, 503), success (200).
pub const HTTP_STATUSES: [u16; 7] = [404, 500, 503, 403, 408, 410, 200];
/// WinHTTP errors: name not resolved, connection error, connection aborted, timeout (all transient).
pub const WIN32_CODES: [u32; 4] = [12007, 12029, 12030, 12002];
/// Time steps in seconds: none, small, around the default retry delay, an hour, a day.
pub const ADVANCE_SECS: [u64; 11] = [0, 1, 2, 5, 30, 60, 599, 600, 601, 3600, 86_400];
/// Bounds for run-until-idle, in seconds.
pub const IDLE_BOUNDS: [u64; 3] = [60, 3600, 86_400];
/// Numbers the kit gives number-valued properties (SetNotifyFlags, SetMinimumRetryDelay,
/// SetNoProgressTimeout, …), around every limit of D3, D4, D11 and D14: zero, the 5 s retry floor and
/// either side of it, the known notify-flag bits and the first unknown ones, either side of the
/// 600 s default, the 14-day default, and the largest values.
pub const PROPERTY_NUMBERS: [u32; 20] = [
    0,
    1,
    3,
    4,
    5,
    6,
    8,
    0xB,
    0x3F,
    0x40,
    30,
    60,
    599,
    600,
    601,
    3600,
    1_209_600,
    0xFFFF,
    u32::MAX - 1,
    u32::MAX,
];
/// SetPriority values: the four valid ones and invalid ones (E_NOTIMPL, D14).
pub const PRIORITIES: [u32; 7] = [0, 1, 2, 3, 4, 7, u32::MAX];
/// Lengths of text-valued properties (SetDisplayName, SetDescription, …) in UTF-16 units, around the
/// D14 limits (256 and 1,024): empty, short, either side of each limit.
pub const TEXT_LENGTHS: [usize; 8] = [0, 6, 255, 256, 257, 1023, 1024, 1025];
/// Bandwidths in bytes per second (0: nothing moves).
pub const BANDWIDTHS: [u64; 4] = [0, 1_000, 100_000, 1_000_000];

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
        http: None,
        size,
        responses: responses.into(),
        otherwise,
        ..Remote::default()
    })
}

/// Chaos (random faults on top of the scripted ones) in one world of five.
pub fn chaos() -> impl Strategy<Value = Option<Chaos>> {
    prop_oneof![
        8 => Just(None),
        2 => (any::<u64>(), select(&[0.1f64, 0.3][..])).prop_map(|(s, r)| Some(Chaos::new(s, r))),
    ]
}

/// A scenario world: `users`, 1–4 remotes, 0–2 upload sources, a bandwidth and the network (mostly
/// up).
pub fn world_spec_with(
    users: impl Strategy<Value = Vec<UserSpec>>,
) -> impl Strategy<Value = WorldSpec> {
    (
        users,
        vec(remote(), 1..5),
        vec(0u64..200_000, 0..3),
        select(&BANDWIDTHS[..]),
        prop_oneof![9 => Just(Network::Up), 1 => Just(Network::Down)],
    )
        .prop_map(|(users, remotes, locals, bandwidth, network)| WorldSpec {
            system_proxy: None,
            proxies: Vec::new(),
            certificates: Vec::new(),
            notify: Default::default(),
            users,
            bandwidth: Some(bandwidth),
            network: Some(network),
            remotes: remotes
                .into_iter()
                .enumerate()
                .map(|(i, r)| (remote_url(i), r))
                .collect(),
            locals: locals
                .into_iter()
                .enumerate()
                .map(|(i, size)| (local_path(i), size))
                .collect(),
            options: Default::default(),
            ..WorldSpec::default()
        })
}

/// A scenario world with up to three users.
pub fn world_spec() -> impl Strategy<Value = WorldSpec> {
    world_spec_with(users(3))
}

/// A setup: a world with up to three users, sometimes chaos.
pub fn setup() -> impl Strategy<Value = Setup> {
    (world_spec(), chaos()).prop_map(|(world, chaos)| Setup { world, chaos })
}

/// A [`setup`] with values at the edges of what a scenario file can state mixed in: remote sizes
/// ([`EDGE_SIZES`](super::EDGE_SIZES), `u64::MAX` among them), HTTP statuses and Win32 errors
/// either side of the loader's ranges, empty, duplicate and escaped user names. Some of these setups
/// are refused by [`replay`](super::replay) (as the loader refuses them); the others must load and
/// replay.
pub fn edge_setup() -> impl Strategy<Value = Setup> {
    use super::fuzz::{EDGE_HTTP_STATUSES, EDGE_SIZES, EDGE_USER_NAMES, EDGE_WIN32_CODES};
    let size = prop_oneof![Just(None), select(&EDGE_SIZES[..]).prop_map(Some)];
    let fault = prop_oneof![
        select(&EDGE_HTTP_STATUSES[..]).prop_map(Response::http),
        select(&EDGE_WIN32_CODES[..]).prop_map(Response::win32),
    ];
    let name = prop_oneof![2 => Just(None), 1 => select(&EDGE_USER_NAMES[..]).prop_map(Some)];
    (
        setup(),
        vec(prop_oneof![Just(None), size.prop_map(Some)], 0..3),
        vec((0usize..4, fault, any::<bool>()), 0..2),
        name,
    )
        .prop_map(|(mut setup, sizes, faults, name)| {
            let w = &mut setup.world;
            for (i, size) in sizes.into_iter().enumerate() {
                if let (Some(size), Some((_, r))) = (size, w.remotes.get_mut(i)) {
                    r.size = size;
                }
            }
            for (i, fault, otherwise) in faults {
                let n = w.remotes.len();
                let r = &mut w.remotes[i % n].1;
                if otherwise {
                    r.otherwise = fault;
                } else {
                    r.responses.push_front(fault);
                }
            }
            if let Some(name) = name {
                let last = w.users.len() - 1;
                w.users[last].name = name.to_string();
            }
            setup
        })
}

/// A [`setup`] whose world has HTTP gates, as the fuzz inputs that start with
/// [`HTTP_MARK`](super::HTTP_MARK) have: servers asking for credentials, with bad certificates,
/// asking for a client certificate or a header, redirecting; a proxy that may ask for credentials or
/// be invalid; a client certificate in the machine's store ([`add_http_gates`](super::fuzz::add_http_gates)).
pub fn http_setup() -> impl Strategy<Value = Setup> {
    (setup(), vec(any::<u8>(), 0..40)).prop_map(|(mut setup, bytes)| {
        super::fuzz::add_http_gates(&mut setup.world, &bytes);
        setup
    })
}

/// The simulator's world of a [`setup`] (for tests that drive a [`Sim`](crate::Sim) with their
/// own code).
pub fn world() -> impl Strategy<Value = World> {
    setup().prop_map(|s| s.to_world())
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

/// A setup with at least two users, the first a standard user who is logged on (for D9).
pub fn multi_user_setup() -> impl Strategy<Value = Setup> {
    let users = (users(3), users(2)).prop_map(|(mut a, b)| {
        a[0].admin = false;
        a[0].logged_on = true;
        if a.len() < 2 {
            let mut u = b[0].clone();
            u.name = USER_NAMES[1].to_string();
            a.push(u);
        }
        a
    });
    (world_spec_with(users), chaos()).prop_map(|(world, chaos)| Setup { world, chaos })
}

/// How often each kind of operation is drawn (relative weights).
#[derive(Clone, Copy, Debug)]
pub struct OpMix {
    /// CreateJob.
    pub create: u32,
    /// GetJob.
    pub get_job: u32,
    /// EnumJobs as a one-shot check (`check jobs`).
    pub enum_jobs: u32,
    /// The held enumerators of D46 ([`enumerator_draw`]): EnumJobs and EnumFiles keeping the
    /// enumerator, Next, Skip, Reset, Clone and GetCount on one held.
    pub enumerators: u32,
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
    /// The HTTP and Job3 calls of [`make::http_call`] (credentials, client certificates, custom
    /// headers write-only, ReplaceRemotePrefix), among job methods.
    pub http: u32,
}

impl Default for OpMix {
    fn default() -> OpMix {
        OpMix {
            create: 5,
            get_job: 2,
            enum_jobs: 1,
            enumerators: 3,
            call: 30,
            hold_error: 2,
            time: 9,
            world: 4,
            apps: 2,
            restart: 1,
            http: 2,
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

    /// Weighted toward several users looking at and touching each other's jobs (held enumerators
    /// too: EnumJobs for all users needs an administrator, §2.1).
    pub fn security() -> OpMix {
        OpMix {
            get_job: 8,
            enum_jobs: 4,
            enumerators: 8,
            apps: 5,
            ..OpMix::default()
        }
    }

    /// Weighted toward the held enumerators (D46).
    pub fn enumerators() -> OpMix {
        OpMix {
            enumerators: 20,
            ..OpMix::default()
        }
    }

    /// Weighted toward the HTTP calls (for worlds with HTTP gates, [`http_setup`]).
    pub fn http() -> OpMix {
        OpMix {
            http: 10,
            ..OpMix::default()
        }
    }
}

fn remote_name() -> impl Strategy<Value = String> {
    let names = remote_names();
    prop_oneof![
        6 => Just(names[0].clone()),
        4 => select(names[..4].to_vec()),
        1 => select(names),
    ]
}

fn local_name() -> impl Strategy<Value = String> {
    let names = local_names();
    prop_oneof![
        6 => select(names[..2].to_vec()),
        3 => select(names[2..4].to_vec()),
        1 => select(names),
    ]
}

/// The properties the kit sets: every property of the table ([`PROPERTIES`](crate::PROPERTIES)) with
/// a setter, in table order. Nothing here names a property: a row added to the table is generated
/// (and refused in final states, [`all_mutators`]) without a change to the kit.
pub fn settable_properties() -> Vec<Prop> {
    Prop::all().filter(|p| p.is_settable()).collect()
}

/// A text of `units` UTF-16 units. Odd picks put one character outside the Basic Multilingual Plane
/// first (two UTF-16 units, one `char`), so limits counted in UTF-16 units (D14) are tried with
/// strings whose `char` count is one less.
fn text(units: usize, pick: u8) -> String {
    if pick % 2 == 1 && units >= 2 {
        let mut s = "\u{1F600}".to_string();
        s.push_str(&"d".repeat(units - 2));
        s
    } else {
        "d".repeat(units)
    }
}

/// The value of `prop` the kit's `set` steps use, chosen by `pick` (modulo) from the table of the
/// property's kind ([`Prop::scalar_kind`]): [`TEXT_LENGTHS`], [`PROPERTY_NUMBERS`] or
/// [`PRIORITIES`] — values around each property's validation limits. The one place the kit makes
/// property values: the strategies, the fuzz decoder and [`all_mutators`] all come through here.
///
/// # Panics
/// If `prop` has no scenario scalar (such a property cannot be written in a scenario file: the
/// property test over [`settable_properties`] reports it).
pub fn property_value(prop: Prop, pick: u8) -> PropertyValue {
    fn at<T: Copy>(table: &[T], pick: u8) -> T {
        table[usize::from(pick) % table.len()]
    }
    let scalar = match prop.scalar_kind() {
        Some(ScalarKind::Text) => Scalar::Text(text(at(&TEXT_LENGTHS, pick), pick / 8)),
        Some(ScalarKind::Number) => Scalar::Number(at(&PROPERTY_NUMBERS, pick)),
        Some(ScalarKind::Priority) => Scalar::Priority(make::priority(at(&PRIORITIES, pick))),
        Some(ScalarKind::Flags(names)) if prop == Prop::CostFlags => {
            Scalar::Flags(cost_flags_value(names, pick))
        }
        Some(ScalarKind::Flags(names)) => Scalar::Flags(flags_value(names, pick)),
        Some(ScalarKind::Bool) => Scalar::Bool(pick % 2 == 1),
        Some(ScalarKind::Wide) => Scalar::Wide(at(&WIDE_NUMBERS, pick)),
        Some(ScalarKind::Guid) => Scalar::Guid(at(&GUIDS, pick)),
        Some(ScalarKind::Proxy) => Scalar::Proxy(proxy_value(pick)),
        Some(ScalarKind::CmdLine) => Scalar::CmdLine(cmd_line_value(pick)),
        Some(ScalarKind::OptText) => Scalar::OptText(match pick % 3 {
            0 => None,
            1 => Some("X-Key: k1\r\n".to_string()),
            _ => Some(text(at(&TEXT_LENGTHS, pick), pick / 8)),
        }),
        None => panic!("property {} has no scenario value", prop.name()),
    };
    PropertyValue::from_scalar(prop, scalar)
        .unwrap_or_else(|| panic!("property {} takes no {:?}", prop.name(), prop.scalar_kind()))
}

/// Command lines the kit tries (SetNotifyCmdLine, D49): none, a program with and without
/// parameters, NULL program with parameters (E_INVALIDARG) and an over-long program.
fn cmd_line_value(pick: u8) -> crate::CmdLineValue {
    let s = |x: &str| Some(x.to_string());
    let (program, parameters) = match pick % 5 {
        0 => (None, None),
        1 => (s("C:\\bin\\notify.exe"), None),
        2 => (s("C:\\bin\\notify.exe"), s("notify.exe /job 1")),
        3 => (None, s("notify.exe")),
        _ => (Some(format!("C:\\{}", "x".repeat(300))), None),
    };
    crate::CmdLineValue {
        program,
        parameters,
    }
}

/// Proxy settings the kit tries (SetProxySettings, D24): each usage with and without lists, an
/// unknown usage, and an over-long list.
fn proxy_value(pick: u8) -> crate::ProxyValue {
    let list = |s: &str| Some(s.to_string());
    let (usage, l, b) = match pick % 7 {
        0 => (0, None, None),
        1 => (1, None, None),
        2 => (2, list("proxy.test:8080"), list("<local>")),
        3 => (3, None, None),
        4 => (2, None, None),
        5 => (1, list("proxy.test:8080"), None),
        _ => (7, None, None),
    };
    crate::ProxyValue {
        usage,
        list: l,
        bypass: b,
    }
}

/// 64-bit property values the kit tries: zero, around the 32-bit limit, and the largest.
pub const WIDE_NUMBERS: [u64; 5] = [0, 1, 1 << 32, u64::MAX - 1, u64::MAX];

/// GUIDs the kit tries: GUID_NULL and two others.
pub const GUIDS: [u128; 3] = [0, 0x6e1a_d6d4_0c3a_4b4e_9a55_2f1d_3c4b_5a69, u128::MAX];

/// A flags value chosen by `pick`: no flag, each named value alone, every name OR-ed, every name
/// with one undeclared bit beside it, and all bits (the last two exercise the setters' checks of
/// unknown bits).
fn flags_value(names: crate::properties::FlagNames, pick: u8) -> u32 {
    let all = names.iter().fold(0, |a, (_, v)| a | v);
    let spare = (0..32)
        .map(|i| 1u32 << i)
        .find(|b| all & b == 0)
        .unwrap_or(0);
    let mut choices: Vec<u32> = vec![0];
    choices.extend(names.iter().map(|(_, v)| *v));
    choices.extend([all, all | spare, u32::MAX]);
    choices[usize::from(pick) % choices.len()]
}

/// The network costs the kit switches to (`network_cost`, D53): UNRESTRICTED most often, so runs
/// are not blocked for good, then costs the default TRANSFER_STANDARD allows (USAGE_BASED) and
/// forbids (NEAR_CAP, OVERCAP_CHARGED, BELOW_CAP with ROAMING).
pub const NETWORK_COSTS: [u32; 7] = [0x1, 0x1, 0x1, 0x40, 0x8, 0x10, 0x84];

/// Cost flags chosen by `pick`: mostly the BITS_JOB_TRANSFER_POLICY composites (every one allows
/// UNRESTRICTED, so a job on an unrestricted network still transfers), sometimes any value of
/// [`flags_value`] (single cost states that block it, unknown bits that are refused, D33, D53).
fn cost_flags_value(names: crate::properties::FlagNames, pick: u8) -> u32 {
    const COMPOSITES: [u32; 5] = [
        0x8000_0067, // TRANSFER_STANDARD
        0x8000_00FF, // TRANSFER_ALWAYS
        0x8000_007F, // TRANSFER_NOT_ROAMING
        0x8000_006F, // TRANSFER_NO_SURCHARGE
        0x8000_0021, // TRANSFER_UNRESTRICTED
    ];
    match pick % 8 {
        i @ 0..=5 => COMPOSITES[usize::from(i) % COMPOSITES.len()],
        _ => flags_value(names, pick / 8),
    }
}

/// Every mutator of a job, in a fixed order (for "every mutator in a final state is refused",
/// §1.3): the methods with valid arguments, and every settable property of the table with the first
/// and the last value of its kind's table (one valid, one out of range: in a final state both are
/// refused with BG_E_INVALID_STATE, which is checked before the argument, `PropertyDecl::settable_in`).
pub fn all_mutators() -> Vec<Action> {
    let local = |i: usize| super::draw::DOWNLOAD_LOCALS[i].to_string();
    let mut v = vec![
        make::add_file(&remote_url(0), &local(0)),
        make::add_file_set(vec![(remote_url(0), local(0)), (remote_url(0), local(1))]),
        make::state(StateMethod::Resume),
        make::state(StateMethod::Suspend),
        make::state(StateMethod::Cancel),
        make::state(StateMethod::Complete),
    ];
    for prop in settable_properties() {
        v.push(make::set(property_value(prop, 0)));
        v.push(make::set(property_value(prop, u8::MAX)));
    }
    v.push(make::take_ownership());
    v.push(make::register_callback(HResult::S_OK));
    v
}

/// A job method or job check with its arguments (valid ones mostly, invalid ones sometimes).
pub fn job_action(mix: OpMix) -> impl Strategy<Value = Action> {
    let answer = prop_oneof![3 => Just(HResult::S_OK), 1 => Just(HResult::E_FAIL)];
    let set = (select(settable_properties()), any::<u8>())
        .prop_map(|(p, i)| make::set(property_value(p, i)));
    prop_oneof![
        8 => (remote_name(), local_name()).prop_map(|(r, l)| make::add_file(&r, &l)),
        2 => vec((remote_name(), local_name()), 0..3).prop_map(make::add_file_set),
        10 => Just(make::state(StateMethod::Resume)),
        3 => Just(make::state(StateMethod::Suspend)),
        2 => Just(make::state(StateMethod::Cancel)),
        3 => Just(make::state(StateMethod::Complete)),
        9 => set,
        1 => Just(make::take_ownership()),
        mix.http.max(1) => any::<u8>().prop_map(make::http_call),
        1 => any::<u8>().prop_map(make::file_call),
        2 => Just(make::get_error(false)),
        mix.hold_error.max(1) => Just(make::get_error(true)),
        1 => answer.prop_map(make::register_callback),
        1 => Just(make::state_check()),
        1 => Just(make::progress_check()),
        1 => Just(make::error_count_check()),
        1 => Just(make::owner_check()),
    ]
}

fn job_type() -> impl Strategy<Value = JobType> {
    prop_oneof![
        6 => Just(JobType::Download),
        1 => Just(JobType::Upload),
        1 => Just(JobType::UploadReply),
    ]
}

/// One step on the held enumerators of D46 (application `app` picked as [`draw_with`] picks it):
/// `enum_jobs` (for the caller's user or for all users), `enum_files` through a handle picked by
/// index, and on a held enumerator picked by index (newest first, among every application's)
/// `enum_next` of 1 to 4, `enum_skip` of 0 to 4, `enum_reset`, `enum_clone` and `check enum_count`.
pub fn enumerator_draw(app: impl Strategy<Value = u8> + Clone) -> impl Strategy<Value = Draw> {
    prop_oneof![
        3 => (app.clone(), any::<bool>())
            .prop_map(|(app, all)| Draw::call(app, 0, make::enum_jobs(all))),
        3 => (app, 0u8..6).prop_map(|(app, handle)| Draw::call(app, handle, make::enum_files())),
        5 => (0u8..4, 1u32..=4).prop_map(|(e, n)| Draw::call(0, e, make::enum_next(n))),
        1 => (0u8..4, 0u32..=4).prop_map(|(e, n)| Draw::call(0, e, make::enum_skip(n))),
        1 => (0u8..4).prop_map(|e| Draw::call(0, e, make::enum_reset())),
        1 => (0u8..4).prop_map(|e| Draw::call(0, e, make::enum_clone())),
        1 => (0u8..4).prop_map(|e| Draw::call(0, e, make::enum_count_check())),
    ]
}

/// One step drawn with the weights of `mix`.
pub fn draw_with(mix: OpMix) -> impl Strategy<Value = Draw> {
    // Mostly the first application, which exists from the start and creates most jobs.
    let app = prop_oneof![5 => Just(0u8), 2 => 0u8..4];
    let name = prop_oneof![
        6 => Just("update".to_string()),
        2 => Just("other".to_string()),
        1 => Just("n".repeat(257)),
    ];
    let urls: Vec<String> = (0..4)
        .map(remote_url)
        .chain([UNKNOWN_URL.to_string()])
        .collect();
    let w = |n: u32| n.max(1);
    let env = |op: Op| Draw::env(op);
    prop_oneof![
        w(mix.create) => (app.clone(), name, job_type())
            .prop_map(|(app, name, t)| Draw::call(app, 0, make::create_job(&name, t))),
        w(mix.get_job) => (app.clone(), 0u8..6).prop_map(|(app, job)| Draw::call(app, job, make::get_job())),
        w(mix.enum_jobs) => (app.clone(), any::<bool>())
            .prop_map(|(app, all)| Draw::call(app, 0, make::jobs_check(all))),
        w(mix.enumerators) => enumerator_draw(app.clone()),
        w(mix.call) => (app.clone(), 0u8..6, job_action(mix))
            .prop_map(|(app, handle, action)| Draw::call(app, handle, action)),
        1 => app.clone().prop_map(|app| Draw::call(app, 0, make::notifications_check())),
        w(mix.time) => select(&ADVANCE_SECS[..]).prop_map(move |seconds| env(Op::Advance { seconds })),
        1 => select(&IDLE_BOUNDS[..])
            .prop_map(move |m| env(Op::RunUntilIdle { max_seconds: Some(m) })),
        w(mix.world) => any::<bool>().prop_map(move |up| env(Op::Network {
            state: if up { Network::Up } else { Network::Down },
        })),
        (w(mix.world) / 4).max(1) => select(&NETWORK_COSTS[..])
            .prop_map(move |cost| env(Op::NetworkCost { cost })),
        (w(mix.world) / 4).max(1) => any::<bool>()
            .prop_map(move |block_background| env(Op::GroupPolicy { block_background })),
        (w(mix.world) / 2).max(1) => (0u8..3).prop_map(|user| Draw::call(0, user, make::logon(true))),
        (w(mix.world) / 2).max(1) => (0u8..3).prop_map(|user| Draw::call(0, user, make::logon(false))),
        (w(mix.world) / 2).max(1) => (select(urls), remote())
            .prop_map(move |(url, remote)| {
                env(Op::SetRemote {
                    url,
                    remote: Box::new(remote),
                })
            }),
        w(mix.apps) => (0u8..3).prop_map(|user| Draw::call(0, user, make::connect())),
        w(mix.apps) => app.prop_map(|app| Draw::call(app, 0, Action::Do(Op::Exit))),
        w(mix.restart) => Just(env(Op::RestartService)),
    ]
}

/// A job's usual start as a run of steps: CreateJob, one to three AddFile through the new
/// handle, Resume, and sometimes a time step.
pub fn lifecycle() -> impl Strategy<Value = Vec<Draw>> {
    (
        prop_oneof![5 => Just(0u8), 1 => 0u8..3],
        job_type(),
        vec((remote_name(), local_name()), 1..4),
        prop_oneof![1 => Just(None), 2 => select(&ADVANCE_SECS[..]).prop_map(Some)],
    )
        .prop_map(|(app, job_type, files, advance)| {
            let mut v = vec![Draw::call(app, 0, make::create_job("update", job_type))];
            v.extend(
                files
                    .into_iter()
                    .map(|(remote, local)| Draw::call(0, 0, make::add_file(&remote, &local))),
            );
            v.push(Draw::call(0, 0, make::state(StateMethod::Resume)));
            v.extend(advance.map(|seconds| Draw::env(Op::Advance { seconds })));
            v
        })
}

/// A sequence of about `len` steps drawn with the weights of `mix`: single steps mixed with job
/// lifecycles ([`lifecycle`]).
pub fn draws_with(mix: OpMix, len: Range<usize>) -> impl Strategy<Value = Vec<Draw>> {
    let max = len.end.saturating_sub(1).max(1);
    let chunk = prop_oneof![
        6 => draw_with(mix).prop_map(|d| vec![d]),
        1 => lifecycle(),
    ];
    vec(chunk, len).prop_map(move |chunks| {
        let mut v: Vec<Draw> = chunks.into_iter().flatten().collect();
        v.truncate(max);
        v
    })
}

/// One step with the default weights.
pub fn draw() -> impl Strategy<Value = Draw> {
    draw_with(OpMix::default())
}

/// A sequence of about `len` steps with the default weights.
pub fn draws(len: Range<usize>) -> impl Strategy<Value = Vec<Draw>> {
    draws_with(OpMix::default(), len)
}
