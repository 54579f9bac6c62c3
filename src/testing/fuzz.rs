//! Fuzz target bodies, kept in the library so that `tests/fuzz_corpus.rs` runs them over the committed
//! corpus on stable Rust while `fuzz/` runs them under libFuzzer on nightly.
//!
//! [`decode_run`] turns any byte string into a setup and a sequence of steps (every byte string is
//! valid; missing bytes read as zero), using the same value tables as the proptest strategies.
//!
//! An input whose first byte is [`SANDBOX_MARK`] runs sandboxed: the rest decodes as any input does,
//! with a world `"sandbox": true` and remote and local sizes scaled down (every byte is written to a
//! host file and read back by the file checker after every step), so the harness materialises the
//! files in a fresh temporary folder and checks the file invariants (D40, D41, D63, D80) after every step.
//! No input of the corpus committed before the mode existed starts with that byte: they all mean
//! what they meant.
//!
//! An input whose first byte is [`FILES_MARK`] (a [`SANDBOX_MARK`] may follow) also draws the file
//! calls of [`make::file_call`] (AddFileWithRanges, File6 RequestFileRanges and
//! UpdateDownloadPosition, File2/3/5 setters) under the new draw tag [`FILE_CALL_TAG`]. Other inputs
//! keep the 32 tags they had: every tag byte value already occurs in the committed corpus, so no
//! value of the old table could be given a new meaning.
//!
//! An input whose first byte is [`HTTP_MARK`] (a [`FILES_MARK`], then a [`SANDBOX_MARK`], may follow)
//! runs in a world with HTTP gates ([`http_world`]): remotes that ask for server credentials (401),
//! present a bad server certificate, ask for a client certificate, need a custom header or redirect
//! to another generated server; a proxy that may ask for proxy credentials (407) or be invalid, used
//! as the system proxy or named by SetProxySettings; and a client certificate in the machine's store.
//! The kit's credential, certificate, header and proxy calls then meet gates that answer them. The
//! extra world bytes are read after the setup every input reads, so the rest decodes as before.
//!
//! An input whose first byte is [`ENUMS_MARK`] (the other marks may follow, in their order) also
//! draws the held enumerators of D46 ([`strategies::enumerator_draw`](super::strategies::enumerator_draw)):
//! such inputs read draw tags modulo 40, and tags [`ENUM_TAG`] and up (and [`FILE_CALL_TAG`] when no
//! [`FILES_MARK`] follows) are `enum_jobs`, `enum_files`, `enum_next`, `enum_skip`, `enum_reset`,
//! `enum_clone` and `check enum_count`. No input of the corpus committed before the mode existed
//! starts with that byte.

use super::draw::{local_names, local_path, make, remote_names, remote_url, Draw, Setup};
use super::draw::{UNKNOWN_URL, USER_NAMES};
use super::harness::Harness;
use super::replay::replay_with;
use super::strategies::{
    property_value, settable_properties, ADVANCE_SECS, BANDWIDTHS, HTTP_STATUSES, IDLE_BOUNDS,
    WIN32_CODES,
};
use crate::scenario::{Action, Op, SandboxSpec, Scenario, StateMethod, Step, UserSpec, WorldSpec};
use crate::world::{Chaos, Network, Remote, Response};
use crate::{HResult, JobType};

/// The longest step sequence a fuzz input decodes to (keeps every execution fast).
pub const MAX_FUZZ_OPS: usize = 64;

/// What one fuzz input may cost: virtual work (engine events, per step and in all) and memory (trace
/// events, jobs).
///
/// Two bounds find runaways and fail the target like a broken invariant: the engine events of one
/// step (an event loop that does not let time pass; a whole day of progress ticks is 69,120) and the
/// jobs (a leak: an input creates at most one per step). The other two are a budget: an input whose
/// run reaches them in all stops there, its steps so far checked, and passes. An ordinary run can
/// need any total: a job retrying every 5 s (D3's floor) through a proxy writes seven trace events
/// per attempt, 120,960 per whole-day step, and the fuzzer finds inputs with 28 such steps (3.4
/// million). The committed corpora reach 69,120 events in one step, 138,123 events, 207,374 trace
/// events and 51 jobs (`tests/fuzz_corpus.rs` measures them and keeps every bound at least twice
/// that, so no committed input stops early).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuzzLimits {
    /// Engine events one step may process (an `advance` of a day included): a runaway past it.
    pub max_events_per_step: u64,
    /// Engine events the whole input may process: the run stops there.
    pub max_events: u64,
    /// Trace events the run may record: the run stops there.
    pub max_trace: usize,
    /// Jobs the run may create: a leak past it.
    pub max_jobs: usize,
}

/// Where a run stands against [`FuzzLimits`] after a step.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Spent {
    /// Within every bound: the next step runs.
    Within,
    /// The budget (events or trace in all) is used up: the run stops, having passed.
    Budget,
    /// A runaway bound was exceeded: the target fails with this message.
    Runaway(String),
}

impl FuzzLimits {
    /// The bounds of the fuzz targets and of `tests/fuzz_corpus.rs`.
    pub const FUZZ: FuzzLimits = FuzzLimits {
        max_events_per_step: 500_000,
        max_events: 2_000_000,
        max_trace: 2_000_000,
        max_jobs: 2 * MAX_FUZZ_OPS,
    };

    /// What the run of `h` has used so far, as a `FuzzLimits` (for measuring the corpus).
    pub fn used(h: &Harness) -> FuzzLimits {
        FuzzLimits {
            max_events_per_step: 0,
            max_events: h.sim().with_service(|s| s.steps()),
            max_trace: h.sim().with_service(|s| s.trace().len()),
            max_jobs: h.sim().with_service(|s| s.job_count()),
        }
    }

    /// Whether the run of `h` may go on after step `step`: panics with what was exceeded past a
    /// runaway bound; `false` once the budget is used up (`last_events`: the engine events processed
    /// before the step; updated).
    fn enforce(&self, h: &Harness, last_events: &mut u64, step: usize) -> bool {
        match self.check(h, last_events, step) {
            Spent::Within => true,
            Spent::Budget => false,
            Spent::Runaway(over) => panic!("{over}"),
        }
    }

    /// Where step `step` left the run of `h` against the bounds (`last_events`: the engine events
    /// processed before the step; updated).
    fn check(&self, h: &Harness, last_events: &mut u64, step: usize) -> Spent {
        let used = FuzzLimits::used(h);
        let in_step = used.max_events - *last_events;
        *last_events = used.max_events;
        let over = |what: &str, n: u64, max: u64| {
            Spent::Runaway(format!(
                "step {step} exceeded the fuzz bound on {what}: {n} > {max}"
            ))
        };
        if in_step > self.max_events_per_step {
            return over(
                "engine events in one step",
                in_step,
                self.max_events_per_step,
            );
        }
        if used.max_jobs > self.max_jobs {
            return over("jobs", used.max_jobs as u64, self.max_jobs as u64);
        }
        if used.max_events > self.max_events || used.max_trace > self.max_trace {
            return Spent::Budget;
        }
        Spent::Within
    }
}

/// Remote sizes at the edges of what a scenario can state: the largest sizes (`u64::MAX` is
/// `BG_SIZE_UNKNOWN`, which no file can give), either side of 2^53 (where JSON readers that use
/// doubles lose integers), and tiny ones.
pub const EDGE_SIZES: [u64; 6] = [u64::MAX, u64::MAX - 1, 1 << 53, (1 << 53) + 1, 1, 0];
/// First byte of a fuzz input that selects a sandboxed run (see the module documentation).
pub const SANDBOX_MARK: u8 = 0xFD;
/// First byte of a fuzz input whose draw tags include [`FILE_CALL_TAG`] (see the module
/// documentation); a [`SANDBOX_MARK`] may follow it.
pub const FILES_MARK: u8 = 0xFC;
/// The draw tag of a file call ([`make::file_call`]) in an input that starts with [`FILES_MARK`]:
/// such inputs read draw tags modulo 33, every other input modulo 32 as before, so every input of
/// the committed corpus (none starts with that byte) decodes as it always did.
pub const FILE_CALL_TAG: u8 = 32;
/// First byte of a fuzz input whose world has HTTP gates (see the module documentation); a
/// [`FILES_MARK`], then a [`SANDBOX_MARK`], may follow it. No input of the corpus committed before
/// the mode existed starts with that byte.
pub const HTTP_MARK: u8 = 0xFB;

/// First byte of a fuzz input that draws the held enumerators (see the module documentation); an
/// [`HTTP_MARK`], a [`FILES_MARK`], then a [`SANDBOX_MARK`] may follow it.
pub const ENUMS_MARK: u8 = 0xFA;
/// The first draw tag of the held-enumerator steps in an input that starts with [`ENUMS_MARK`]
/// (tags modulo 40 there: [`ENUM_TAG`] to 39 are enumerator steps, one in five draws).
pub const ENUM_TAG: u8 = 33;

/// The proxy of an HTTP-gated world: the name SetProxySettings lists in the kit's proxy values.
pub const FUZZ_PROXY: &str = "proxy.test:8080";
/// The user and password the kit's `set_credentials` calls give, and that gated servers may ask for.
pub const FUZZ_CREDENTIALS: (&str, &str) = ("u", "p");
/// The header line the kit's custom headers hold, and that gated servers may require.
pub const FUZZ_HEADER: &str = "X-Key: k1";

/// [`EDGE_SIZES`] in a sandboxed run: the same first entry (`BG_SIZE_UNKNOWN`, refused as a size),
/// then sizes either side of the sandbox's 64 KiB write chunk and past two of them, and tiny ones.
pub const SANDBOX_EDGE_SIZES: [u64; 6] = [u64::MAX, 2 * 65_536 + 1, 65_536, 65_537, 1, 0];

/// HTTP statuses at the edges of 100..=599 (the loader's range) and outside it.
pub const EDGE_HTTP_STATUSES: [u16; 8] = [0, 99, 100, 199, 300, 599, 600, u16::MAX];
/// Win32 error numbers at the edges of 1..=65535 and outside it.
pub const EDGE_WIN32_CODES: [u32; 5] = [0, 1, 0xFFFF, 0x1_0000, u32::MAX];
/// User names at the edges: empty, a duplicate of the first, and one with characters JSON escapes.
pub const EDGE_USER_NAMES: [&str; 3] = ["", "alice", "Zoë \"q\" \\ \u{1F600}"];

/// Reads bytes, giving zeros once the input is used up.
struct Bytes<'a> {
    data: &'a [u8],
    at: usize,
    /// A sandboxed run: sizes are scaled down.
    sandbox: bool,
    /// The draw tag table has the file-call tag ([`FILES_MARK`]).
    files: bool,
    /// The world has HTTP gates ([`HTTP_MARK`]).
    http: bool,
    /// The draw tag table has the enumerator tags ([`ENUMS_MARK`]).
    enums: bool,
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
    let r = match b.u8() % 7 {
        0 | 1 => return Response::Ok,
        2 | 3 => Response::http(b.pick(&HTTP_STATUSES)),
        4 | 5 => Response::win32(b.pick(&WIN32_CODES)),
        _ if b.flag(2) => Response::http(b.pick(&EDGE_HTTP_STATUSES)),
        _ => Response::win32(b.pick(&EDGE_WIN32_CODES)),
    };
    if b.flag(4) {
        let scale = if b.sandbox { 10 } else { 1000 };
        r.after_bytes(u64::from(b.u8()) * scale)
    } else {
        r
    }
}

fn remote(b: &mut Bytes) -> Remote {
    let size = match b.u8() % 10 {
        0 => None,
        1 => Some(0),
        2 if b.sandbox => Some(b.pick(&SANDBOX_EDGE_SIZES)),
        2 => Some(b.pick(&EDGE_SIZES)),
        n if b.sandbox => Some(u64::from(n) * 1000 + u64::from(b.u8()) * 10),
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
        ..Remote::default()
    }
}

fn setup(b: &mut Bytes) -> Setup {
    let users = (0..1 + usize::from(b.u8() % 3))
        .map(|i| {
            let flags = b.u8();
            let name = if flags % 16 == 15 {
                b.pick(&EDGE_USER_NAMES)
            } else {
                USER_NAMES[i]
            };
            UserSpec {
                name: name.to_string(),
                admin: flags % 4 == 1,
                logged_on: flags % 5 != 4,
            }
        })
        .collect();
    let remotes = (0..1 + usize::from(b.u8() % 4))
        .map(|i| (remote_url(i), remote(b)))
        .collect();
    let locals = (0..usize::from(b.u8() % 3))
        .map(|i| {
            let scale = if b.sandbox { 50 } else { 500 };
            (local_path(i), u64::from(b.u8()) * scale)
        })
        .collect();
    let bandwidth = Some(b.pick(&BANDWIDTHS));
    let network = Some(if b.flag(10) {
        Network::Down
    } else {
        Network::Up
    });
    let chaos = if b.flag(5) {
        let seed = b.u64();
        Some(Chaos::new(seed, if b.u8() % 2 == 0 { 0.1 } else { 0.3 }))
    } else {
        None
    };
    Setup {
        world: WorldSpec {
            users,
            bandwidth,
            network,
            remotes,
            locals,
            options: Default::default(),
            sandbox: b.sandbox.then_some(SandboxSpec::Fresh),
            ..WorldSpec::default()
        },
        chaos,
    }
}

/// The HTTP gates of an [`HTTP_MARK`] input, read after the rest of the setup: each remote (two in
/// three) gets gates — server credentials (schemes, and a user and password that the kit's
/// credentials match or not), a server certificate (valid two times in three), a client certificate
/// asked for (the machine's, or one not in any store), [`FUZZ_HEADER`] required, a redirect to
/// another generated server in its script — then the proxy [`FUZZ_PROXY`] (maybe asking for proxy
/// credentials, maybe invalid, maybe the system proxy), and the machine's client certificate.
fn http_world(b: &mut Bytes, world: &mut WorldSpec) {
    let n = world.remotes.len();
    for i in 0..n {
        if b.flag(3) {
            continue;
        }
        let http = remote_http(b);
        let remote = &mut world.remotes[i].1;
        // No gate drawn: no `http` part (a scenario file cannot state an empty one).
        if http != crate::world::RemoteHttp::new() {
            remote.http = Some(Box::new(http));
        }
        if b.flag(3) {
            // A redirect to another generated server (or to the unknown one), first in the script
            // or as every answer.
            let to = if b.flag(4) {
                UNKNOWN_URL.to_string()
            } else {
                remote_url(usize::from(b.u8()) % 4)
            };
            let r = remote.redirect(b.pick(&REDIRECT_STATUSES), &to);
            if b.flag(4) {
                remote.otherwise = r;
            } else {
                remote.responses.push_front(r);
            }
        }
    }
    let proxy = b.u8();
    if proxy % 4 != 0 {
        world.proxies.push((
            FUZZ_PROXY.to_string(),
            crate::world::Proxy {
                valid: proxy % 8 != 1,
                auth: (proxy % 4 == 3).then(|| auth(b)),
            },
        ));
        if b.flag(2) {
            world.system_proxy = Some(FUZZ_PROXY.to_string());
        }
    }
    if b.u8() % 3 != 0 {
        world.certificates.push(crate::ClientCertificate {
            location: 0,
            store: "MY".to_string(),
            subject: "CN=Client, O=bitsim".to_string(),
            sha1: FUZZ_CERT_SHA1.to_string(),
        });
    }
}

/// Give `world` the HTTP gates of an [`HTTP_MARK`] input, decoded from `bytes` (missing bytes read
/// as zero): what [`strategies::http_setup`](super::strategies::http_setup) adds to a generated setup.
pub fn add_http_gates(world: &mut WorldSpec, bytes: &[u8]) {
    let mut b = Bytes {
        data: bytes,
        at: 0,
        sandbox: false,
        files: false,
        http: true,
        enums: false,
    };
    http_world(&mut b, world);
}

/// The SHA-1 hash of the machine's client certificate in an HTTP-gated world: the hash the kit's
/// SetClientCertificateByID gives.
const FUZZ_CERT_SHA1: &str = "00112233445566778899aabbccddeeff00112233";
/// The redirect statuses (scenario-format part 2).
const REDIRECT_STATUSES: [u16; 5] = [301, 302, 303, 307, 308];

/// A credentials gate: one or two schemes, the kit's user and password or another's (or any), and
/// the caller's logon accepted or not.
fn auth(b: &mut Bytes) -> crate::world::Auth {
    use crate::AuthScheme;
    let first = AuthScheme::ALL[usize::from(b.u8()) % AuthScheme::ALL.len()];
    let mut schemes = vec![first];
    if b.flag(3) {
        let second = AuthScheme::ALL[usize::from(b.u8()) % AuthScheme::ALL.len()];
        if second != first {
            schemes.push(second);
        }
    }
    let who = b.u8();
    let (user, password) = FUZZ_CREDENTIALS;
    crate::world::Auth {
        schemes,
        user: match who % 4 {
            0 => None,
            3 => Some("someone".to_string()),
            _ => Some(user.to_string()),
        },
        password: (who / 4 % 3 != 0).then(|| password.to_string()),
        implicit: who / 16 % 2 == 1,
    }
}

/// The gates of one remote (see [`http_world`]; the redirect is added by the caller).
fn remote_http(b: &mut Bytes) -> crate::world::RemoteHttp {
    use crate::world::ServerCertificate;
    let gates = b.u8();
    let certificate = if gates % 3 == 0 {
        ServerCertificate::ALL[usize::from(b.u8()) % ServerCertificate::ALL.len()].1
    } else {
        ServerCertificate::Valid
    };
    crate::world::RemoteHttp {
        auth: (gates / 3 % 2 == 0).then(|| auth(b)),
        required_headers: if gates / 6 % 4 == 0 {
            vec![FUZZ_HEADER.to_string()]
        } else {
            Vec::new()
        },
        certificate,
        client_certificate: match gates / 24 % 4 {
            0 => Some(vec![FUZZ_CERT_SHA1.to_string()]),
            1 => Some(vec!["ffeeddccbbaa99887766554433221100ffeeddcc".to_string()]),
            _ => None,
        },
        ..crate::world::RemoteHttp::new()
    }
}

fn name(b: &mut Bytes) -> String {
    match b.u8() % 8 {
        0 => "n".repeat(257),
        1 => String::new(),
        2 | 3 => "other".to_string(),
        _ => "update".to_string(),
    }
}

/// A (remote, local) pair from the name tables (built once per process).
fn file(b: &mut Bytes) -> (String, String) {
    static NAMES: std::sync::OnceLock<(Vec<String>, Vec<String>)> = std::sync::OnceLock::new();
    let (remotes, locals) = NAMES.get_or_init(|| (remote_names(), local_names()));
    let r = remotes[usize::from(b.u8() % 6) % remotes.len()].clone();
    let l = locals[usize::from(b.u8() % 6) % locals.len()].clone();
    (r, l)
}

fn job_action(b: &mut Bytes) -> Action {
    match b.u8() % 25 {
        0..=3 => {
            let (r, l) = file(b);
            make::add_file(&r, &l)
        }
        4 => make::add_file_set((0..b.u8() % 3).map(|_| file(b)).collect()),
        5..=8 => make::state(StateMethod::Resume),
        9 => make::state(StateMethod::Suspend),
        10 => make::state(StateMethod::Cancel),
        11 => make::state(StateMethod::Complete),
        12..=17 => {
            // Any settable property of the table, with a value around its limits.
            let props = settable_properties();
            let prop = props[usize::from(b.u8()) % props.len()];
            make::set(property_value(prop, b.u8()))
        }
        18 => make::take_ownership(),
        19 | 20 => make::get_error(b.u8() % 2 == 0),
        21 => make::register_callback(if b.flag(3) {
            HResult::E_FAIL
        } else {
            HResult::S_OK
        }),
        22 => make::state_check(),
        23 => make::progress_check(),
        _ => make::http_call(b.u8()),
    }
}

/// A held-enumerator step (D46), as [`strategies::enumerator_draw`](super::strategies::enumerator_draw)
/// draws them.
fn enum_draw(b: &mut Bytes) -> Draw {
    match b.u8() % 12 {
        0 | 1 => {
            let app = b.u8() % 4;
            Draw::call(app, 0, make::enum_jobs(b.u8() % 2 == 0))
        }
        2 | 3 => {
            let (app, handle) = (b.u8() % 4, b.u8() % 8);
            Draw::call(app, handle, make::enum_files())
        }
        4..=7 => {
            let e = b.u8() % 4;
            Draw::call(0, e, make::enum_next(1 + u32::from(b.u8() % 4)))
        }
        8 => {
            let e = b.u8() % 4;
            Draw::call(0, e, make::enum_skip(u32::from(b.u8() % 5)))
        }
        9 => Draw::call(0, b.u8() % 4, make::enum_reset()),
        10 => Draw::call(0, b.u8() % 4, make::enum_clone()),
        _ => Draw::call(0, b.u8() % 4, make::enum_count_check()),
    }
}

fn draw(b: &mut Bytes) -> Draw {
    let tag = if b.enums {
        b.u8() % 40
    } else if b.files {
        b.u8() % (FILE_CALL_TAG + 1)
    } else {
        b.u8() % 32
    };
    match tag {
        FILE_CALL_TAG if !b.files => enum_draw(b),
        ENUM_TAG.. => enum_draw(b),
        FILE_CALL_TAG => {
            let (app, handle) = (b.u8() % 4, b.u8() % 8);
            Draw::call(app, handle, make::file_call(b.u8()))
        }
        0..=2 => {
            let app = b.u8() % 4;
            let n = name(b);
            let t = match b.u8() % 8 {
                0 => JobType::Upload,
                1 => JobType::UploadReply,
                _ => JobType::Download,
            };
            Draw::call(app, 0, make::create_job(&n, t))
        }
        3 => {
            let app = b.u8() % 4;
            Draw::call(app, b.u8() % 8, make::get_job())
        }
        4 => {
            let app = b.u8() % 4;
            Draw::call(app, 0, make::jobs_check(b.u8() % 2 == 0))
        }
        5..=16 => {
            let (app, handle) = (b.u8() % 4, b.u8() % 8);
            Draw::call(app, handle, job_action(b))
        }
        17 => Draw::call(b.u8() % 4, 0, make::notifications_check()),
        18..=21 => Draw::env(Op::Advance {
            seconds: b.pick(&ADVANCE_SECS),
        }),
        22 => Draw::env(Op::RunUntilIdle {
            max_seconds: Some(b.pick(&IDLE_BOUNDS)),
        }),
        23 | 24 => Draw::env(Op::Network {
            state: if b.u8() % 2 == 0 {
                Network::Up
            } else {
                Network::Down
            },
        }),
        25 => Draw::call(0, b.u8() % 3, make::logon(true)),
        26 => Draw::call(0, b.u8() % 3, make::logon(false)),
        27 => Draw::call(0, b.u8() % 3, make::connect()),
        28 => Draw::call(b.u8() % 4, 0, Action::Do(Op::Exit)),
        29 => {
            let urls: Vec<String> = (0..4).map(remote_url).chain([UNKNOWN_URL.into()]).collect();
            let url = urls[usize::from(b.u8() % 5)].clone();
            Draw::env(Op::SetRemote {
                url,
                remote: Box::new(remote(b)),
            })
        }
        30 => Draw::env(Op::RestartService),
        _ => Draw::env(Op::NetworkCost {
            cost: b.pick(&super::strategies::NETWORK_COSTS),
        }),
    }
}

/// Whether `data` starts with `mark`, and the bytes after it if so.
fn strip_mark(data: &[u8], mark: u8) -> (bool, &[u8]) {
    match data.split_first() {
        Some((&m, rest)) if m == mark => (true, rest),
        _ => (false, data),
    }
}

/// Decode a fuzz input: a setup, then up to [`MAX_FUZZ_OPS`] steps until the bytes run out. Marks
/// first, each optional and in this order: [`ENUMS_MARK`] (the held-enumerator steps),
/// [`HTTP_MARK`] (a world with HTTP gates), [`FILES_MARK`] (the file calls), [`SANDBOX_MARK`] (a
/// sandboxed run: world `"sandbox": true`, sizes scaled down).
pub fn decode_run(data: &[u8]) -> (Setup, Vec<Draw>) {
    let (enums, data) = strip_mark(data, ENUMS_MARK);
    let (http, data) = strip_mark(data, HTTP_MARK);
    let (files, data) = strip_mark(data, FILES_MARK);
    let (sandbox, data) = strip_mark(data, SANDBOX_MARK);
    let mut b = Bytes {
        data,
        at: 0,
        sandbox,
        files,
        http,
        enums,
    };
    let mut setup = setup(&mut b);
    if b.http {
        http_world(&mut b, &mut setup.world);
    }
    let mut draws = Vec::new();
    while b.more() && draws.len() < MAX_FUZZ_OPS {
        draws.push(draw(&mut b));
    }
    (setup, draws)
}

/// The `ops` fuzz target: decode, run with every invariant checked after every step under the
/// bounds of [`FuzzLimits::FUZZ`], and panic with the failure report (violation and replay scenario)
/// on the first broken rule or exceeded bound. Setups no scenario file can state
/// ([`Setup::check_run`]: the harness, like a file, names users and remotes) are left to the
/// `scenario` target, which checks that they are refused.
pub fn fuzz_ops(data: &[u8]) {
    let (setup, draws) = decode_run(data);
    if setup.check_run(&draws).is_err() {
        return;
    }
    let limits = FuzzLimits::FUZZ;
    let mut h = Harness::new(&setup);
    let mut events = FuzzLimits::used(&h).max_events;
    for (i, d) in draws.iter().enumerate() {
        if let Err(failure) = h.step(d) {
            // The harness (and a sandboxed run's temporary folder) goes first: under libFuzzer a
            // panic aborts the process before anything unwinds.
            drop(h);
            panic!("{failure}");
        }
        match limits.check(&h, &mut events, i) {
            Spent::Within => {}
            Spent::Budget => return,
            Spent::Runaway(over) => {
                drop(h);
                panic!("{over}");
            }
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

/// Parse and run a scenario file with [`crate::scenario`]: the verdict [`fuzz_scenario`] needs. A
/// scenario that names a sandbox folder runs in a fresh temporary one instead (`"sandbox": true`,
/// removed afterwards): the fuzzer writes nowhere else.
pub fn run_scenario(text: &str) -> ScenarioVerdict {
    match crate::scenario::Scenario::parse(text, "fuzz.json") {
        Err(e) => ScenarioVerdict::Invalid(e.to_string()),
        Ok(mut sc) => {
            if let Some(SandboxSpec::Dir(_)) = sc.world.sandbox {
                sc.world.sandbox = Some(SandboxSpec::Fresh);
            }
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
/// decode to a run whose scenario file ([`replay`](super::replay), written by [`Scenario::to_json`]) reads back as
/// the same scenario, and which the runner must pass, since every step of it expects what the
/// simulator answered.
pub fn fuzz_scenario(data: &[u8], run: &dyn Fn(&str) -> ScenarioVerdict) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = run(text);
    }
    let (setup, draws) = decode_run(data);
    let limits = FuzzLimits::FUZZ;
    let mut events = 0;
    let bounded = replay_with(&setup, &draws, &mut |h, i| {
        limits.enforce(h, &mut events, i)
    });
    let scenario = match bounded {
        Ok(sc) => sc,
        Err(refused) => {
            // The kit refuses what the loader refuses: the same world, written as a file, does not load.
            let sc = Scenario {
                name: "refused".into(),
                description: String::new(),
                world: setup.world.clone(),
                steps: vec![Step {
                    app: None,
                    action: Action::Do(Op::Advance { seconds: 0 }),
                }],
            };
            let text = sc.to_json();
            if let Ok(back) = Scenario::parse(&text, "refused.json") {
                let steps_refused = setup.check().is_ok();
                if !steps_refused && back == sc {
                    panic!("the kit refused a world the loader accepts ({refused})\n{text}");
                }
            }
            return;
        }
    };
    let text = scenario.to_json();
    match Scenario::parse(&text, "generated.json") {
        Ok(back) if back == scenario => {}
        Ok(_) => panic!("the kit's scenario reads back differently\n{text}"),
        Err(e) => panic!("the kit wrote a scenario outside the contract: {e}\n{text}"),
    }
    match run(&text) {
        ScenarioVerdict::Passed => {}
        other => panic!("a generated scenario did not replay: {other:?}\n{text}"),
    }
}
