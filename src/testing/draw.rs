//! What generated runs are made of: a [`Setup`] (the scenario's world, plus optional chaos) and
//! [`Draw`]s — scenario steps (the one vocabulary, [`scenario::Action`](crate::scenario::Action))
//! whose application, handle, job, user and new aliases are chosen by index when the
//! [`Harness`](super::Harness) runs them.
//!
//! Indices resolve newest first and modulo what exists when the step runs (application 0 is the most
//! recently started one; handle 4 among 3 is handle 1); users are picked oldest first. Generated
//! sequences therefore stay meaningful when the shrinker removes steps, and every byte string decodes
//! to a valid sequence (the fuzzer relies on this).

use crate::scenario::{Action, Op, UserSpec, WorldSpec};
use crate::world::{Chaos, Fault, Remote, Response, World};
use crate::BG_SIZE_UNKNOWN;
use std::fmt;

/// The user names a generated world uses, in order.
pub const USER_NAMES: [&str; 4] = ["alice", "bob", "carol", "dave"];

/// A URL that is not in any generated world: connecting fails with 0x80072EE7.
pub const UNKNOWN_URL: &str = "https://nowhere.test/missing.bin";
/// Remote names AddFile refuses (spec §2.6).
pub const INVALID_REMOTES: [&str; 3] = ["ftp://example.test/a.bin", "https://", ""];
/// Valid local names for downloads.
pub const DOWNLOAD_LOCALS: [&str; 2] = ["C:\\dl\\a.bin", "C:\\dl\\b.bin"];
/// Local names AddFile refuses (relative, wildcard, `\\?\` prefix).
pub const INVALID_LOCALS: [&str; 3] = ["relative\\a.bin", "C:\\dl\\*.bin", "\\\\?\\C:\\dl\\c.bin"];

/// The URL of generated remote `i`.
pub fn remote_url(i: usize) -> String {
    format!("https://r{i}.test/f{i}.bin")
}

/// The local path of generated upload source `i`.
pub fn local_path(i: usize) -> String {
    format!("C:\\up\\u{i}.bin")
}

/// The remote names generated calls pick from: the four URLs generated worlds may serve, one no
/// world serves, then names AddFile refuses.
pub fn remote_names() -> Vec<String> {
    let mut v: Vec<String> = (0..4).map(remote_url).collect();
    v.push(UNKNOWN_URL.to_string());
    v.extend(INVALID_REMOTES.iter().map(|s| s.to_string()));
    v
}

/// The local names generated calls pick from: download targets, the upload sources generated worlds
/// may have, then names AddFile refuses.
pub fn local_names() -> Vec<String> {
    let mut v: Vec<String> = DOWNLOAD_LOCALS.iter().map(|s| s.to_string()).collect();
    v.extend((0..2).map(local_path));
    v.extend(INVALID_LOCALS.iter().map(|s| s.to_string()));
    v
}

/// What a generated run starts from: the scenario's world and, optionally, chaos (random faults;
/// a replay writes the answers the run met as the remotes' scripted `responses`).
#[derive(Clone, PartialEq, Debug)]
pub struct Setup {
    /// The world, as a scenario file states it (users listed explicitly).
    pub world: WorldSpec,
    /// Random faults on top of the scripted ones.
    pub chaos: Option<Chaos>,
}

impl Setup {
    /// `world` without chaos.
    pub fn new(world: WorldSpec) -> Setup {
        Setup { world, chaos: None }
    }

    /// The same machine with one logged-on standard user, `alice`.
    pub fn single_user(mut self) -> Setup {
        self.world.users = vec![UserSpec {
            name: USER_NAMES[0].to_string(),
            admin: false,
            logged_on: true,
        }];
        self
    }

    /// Whether a scenario file can state this setup: the rules of the scenario loader
    /// (`docs/scenario-format.md`), checked on the setup itself so that the kit refuses a world it could
    /// not write as a file that loads. User names are non-empty and distinct; remote URLs and local
    /// paths are distinct; no remote announces the size `BG_SIZE_UNKNOWN` (u64::MAX: leave the size
    /// out for a server that sends no length); HTTP statuses are 100 to 599 and Win32 errors 1 to 65535.
    pub fn check(&self) -> Result<(), SetupError> {
        let w = &self.world;
        for (i, u) in w.users.iter().enumerate() {
            let place = format!("world.users[{i}]");
            if u.name.is_empty() {
                return Err(SetupError::new(place, "a user name must not be empty"));
            }
            if w.users[..i].iter().any(|v| v.name == u.name) {
                return Err(SetupError::new(
                    place,
                    format!("duplicate user name {:?}: user names are distinct", u.name),
                ));
            }
        }
        for (i, (url, remote)) in w.remotes.iter().enumerate() {
            let place = format!("world.remotes[{url:?}]");
            if w.remotes[..i].iter().any(|(u, _)| u == url) {
                return Err(SetupError::new(
                    place,
                    "duplicate remote URL: each URL is served once",
                ));
            }
            check_remote(&place, remote)?;
        }
        for (i, (path, _)) in w.locals.iter().enumerate() {
            if w.locals[..i].iter().any(|(p, _)| p == path) {
                return Err(SetupError::new(
                    format!("world.locals[{path:?}]"),
                    "duplicate local path: each path is listed once",
                ));
            }
        }
        Ok(())
    }

    /// [`Setup::check`] for the setup and the remotes the steps `draws` install (`set_remote`).
    pub fn check_run(&self, draws: &[Draw]) -> Result<(), SetupError> {
        self.check()?;
        for (i, d) in draws.iter().enumerate() {
            if let Action::Do(Op::SetRemote { url, remote }) = &d.action {
                check_remote(&format!("step {i} (set_remote {url:?})"), remote)?;
            }
        }
        Ok(())
    }

    /// The simulator's world (with the chaos).
    pub fn to_world(&self) -> World {
        let mut w = self.world.to_world();
        w.chaos = self.chaos.clone();
        w
    }
}

/// A setup (or a `set_remote` step) no scenario file can state: where, and what is expected there.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SetupError {
    /// The place: `world.users[1]`, `world.remotes["https://…"]`, `step 3 (set_remote …)`.
    pub place: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl SetupError {
    fn new(place: String, message: impl Into<String>) -> SetupError {
        SetupError {
            place,
            message: message.into(),
        }
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

impl std::error::Error for SetupError {}

/// The loader's rules for one remote: a size that is not `BG_SIZE_UNKNOWN`, statuses 100 to 599,
/// Win32 errors 1 to 65535.
fn check_remote(place: &str, remote: &Remote) -> Result<(), SetupError> {
    if remote.size == Some(BG_SIZE_UNKNOWN) {
        return Err(SetupError::new(
            format!("{place}.size"),
            "18446744073709551615 is BG_SIZE_UNKNOWN, not a size: use no size (None) for a server that sends no length",
        ));
    }
    let responses = remote
        .responses
        .iter()
        .enumerate()
        .map(|(i, r)| (format!("{place}.responses[{i}]"), r));
    for (at, r) in responses.chain([(format!("{place}.otherwise"), &remote.otherwise)]) {
        match r {
            Response::Fail {
                fault: Fault::Http(s),
                ..
            } if !(100..=599).contains(s) => {
                return Err(SetupError::new(
                    at,
                    format!("{s} is not an HTTP status code: expected 100 to 599"),
                ))
            }
            Response::Fail {
                fault: Fault::Win32(n),
                ..
            } if !(1..=0xFFFF).contains(n) => {
                return Err(SetupError::new(
                    at,
                    format!("{n} is not a Win32 error number: expected 1 to 65535"),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// One generated step before its names are chosen.
///
/// `action` is a scenario step whose names are placeholders (`""`) that the harness fills in when it
/// runs the step: the job alias of a job method or check (the handle `pick` of application `app`),
/// the job of `get_job` (job `pick`), the user of `connect` / `logon` / `logoff` (user `pick`), the
/// error alias of `error_object` (held error object `pick`), the enumerator of `enum_next`,
/// `enum_skip`, `enum_reset`, `enum_clone` and `check enum_count` (held enumerator `pick`, among
/// those every application holds, newest first; the step is made by its holder), and the new aliases
/// `bind` / `bind_error` / `bind_enum` (a `Some` placeholder asks for one; `bind_enum` is always
/// filled in). Every `expect` and every checked value is
/// replaced by what the simulator answered, so the written step passes on replay.
#[derive(Clone, PartialEq, Debug)]
pub struct Draw {
    /// The application making the step (0: the most recently started), where one does.
    pub app: u8,
    /// The handle, job, user or error object the step names (see above).
    pub pick: u8,
    /// The step.
    pub action: Action,
}

impl Draw {
    /// A step that names nothing by index (time, network, servers, restarts).
    pub fn env(op: Op) -> Draw {
        Draw {
            app: 0,
            pick: 0,
            action: Action::Do(op),
        }
    }

    /// A step of application `app` through its handle `handle`.
    pub fn call(app: u8, handle: u8, action: Action) -> Draw {
        Draw {
            app,
            pick: handle,
            action,
        }
    }
}

/// Placeholder helpers for building generated actions.
pub mod make {
    use crate::scenario::{Action, Check, ErrorExpectation, FileSet, Op, StateMethod};
    use crate::{HResult, JobState, JobType, Priority};
    use crate::{PriorityValue, PropertyValue};

    fn job_op(op: Op) -> Action {
        Action::Do(op)
    }

    /// `create_job` (bind filled in).
    pub fn create_job(name: &str, job_type: JobType) -> Action {
        job_op(Op::CreateJob {
            name: name.to_string(),
            job_type,
            bind: String::new(),
            expect: HResult::S_OK,
        })
    }
    /// `get_job` of job `pick`, binding a new alias for the handle.
    pub fn get_job() -> Action {
        job_op(Op::GetJob {
            job: String::new(),
            bind: Some(String::new()),
            expect: HResult::S_OK,
        })
    }
    /// `add_file`.
    pub fn add_file(remote: &str, local: &str) -> Action {
        job_op(Op::AddFile {
            job: String::new(),
            remote: remote.to_string(),
            local: local.to_string(),
            expect: HResult::S_OK,
        })
    }
    /// `add_file_set`.
    pub fn add_file_set(files: Vec<(String, String)>) -> Action {
        job_op(Op::AddFileSet {
            job: String::new(),
            files,
            expect: HResult::S_OK,
        })
    }
    /// `resume`, `suspend`, `cancel` or `complete`.
    pub fn state(method: StateMethod) -> Action {
        job_op(Op::State {
            method,
            job: String::new(),
            expect: HResult::S_OK,
        })
    }
    /// `set`.
    pub fn set(value: PropertyValue) -> Action {
        job_op(Op::Set {
            job: String::new(),
            value,
            expect: HResult::S_OK,
        })
    }
    /// A priority as a scenario writes it: a name when it has one, else the raw number.
    pub fn priority(value: u32) -> PriorityValue {
        Priority::from_value(value).map_or(PriorityValue::Raw(value), PriorityValue::Named)
    }
    /// One of the HTTP and Job3 calls, chosen by `pick`: `set_credentials` / `remove_credentials`
    /// (valid pairs, and an unknown target, D25), `set_client_certificate` by name or hash and
    /// `remove_client_certificate` (D31; generated worlds hold no certificate, so the store is not
    /// found), `make_custom_headers_write_only` (D28) and `replace_remote_prefix` (a rename to
    /// another generated server, one no name starts with, and an empty prefix, D37).
    pub fn http_call(pick: u8) -> Action {
        let job = String::new();
        let expect = HResult::S_OK;
        let target = 1 + u32::from(pick / 16 % 3); // SERVER, PROXY, an unknown target
        let scheme = 1 + u32::from(pick / 4 % 5);
        let prefix = |old: &str, new: &str| Op::ReplaceRemotePrefix {
            job: String::new(),
            old_prefix: old.to_string(),
            new_prefix: new.to_string(),
            expect,
        };
        job_op(match pick % 9 {
            0 | 1 => Op::SetCredentials {
                job,
                credentials: crate::Credentials {
                    target,
                    scheme,
                    user: (pick % 2 == 0).then(|| "u".to_string()),
                    password: (pick % 2 == 0).then(|| "p".to_string()),
                },
                expect,
            },
            2 => Op::RemoveCredentials {
                job,
                target,
                scheme,
                expect,
            },
            3 => Op::SetClientCertificate {
                job,
                location: u32::from(pick / 16 % 9),
                store: "MY".to_string(),
                by: if pick / 4 % 2 == 0 {
                    (true, "Client".to_string())
                } else {
                    (
                        false,
                        "00112233445566778899aabbccddeeff00112233".to_string(),
                    )
                },
                expect,
            },
            4 => Op::RemoveClientCertificate { job, expect },
            5 => Op::MakeCustomHeadersWriteOnly { job, expect },
            6 => prefix("https://r0.test/", "https://r1.test/"),
            7 => prefix("https://none.test/", "https://r0.test/"),
            _ => prefix("", "https://r0.test/"),
        })
    }
    /// One of the file calls, chosen by `pick`: `add_file_with_ranges` (Job3, §2.4, D57),
    /// `request_file_ranges` and `update_download_position` (File6, D73-D75) and `set_file`
    /// (File2 SetRemoteName to a generated world's URL, File3 SetValidationState(FALSE), File5
    /// SetProperty by raw id, D64). Ranges are small: within and beyond small sizes, empty, and
    /// TO_EOF lengths; the file index is 0 or 1 (the harness maps it onto the job's files).
    pub fn file_call(pick: u8) -> Action {
        let job = String::new();
        let expect = HResult::S_OK;
        let file = u32::from(pick / 8 % 2);
        let eof = u64::MAX;
        let ranges = match pick / 16 % 6 {
            0 => vec![(0, 100)],
            1 => vec![(0, 10), (50, eof)],
            2 => vec![],
            3 => vec![(1_000_000, 10)],
            4 => vec![(10, 0)],
            _ => vec![(0, eof)],
        };
        let value = match pick / 16 % 4 {
            0 => FileSet::RemoteName(super::remote_url(usize::from(pick / 64 % 2))),
            1 => FileSet::ValidationState(false),
            2 => FileSet::Property {
                id: u32::from(pick / 64),
                named: false,
                value: "X-A: b".to_string(),
            },
            _ => FileSet::RemoteName(super::UNKNOWN_URL.to_string()),
        };
        job_op(match pick % 8 {
            0 | 1 => Op::AddFileWithRanges {
                job,
                remote: super::remote_url(usize::from(pick / 8 % 2)),
                local: super::DOWNLOAD_LOCALS[usize::from(pick / 8 % 2)].to_string(),
                ranges,
                expect,
            },
            2 | 3 => Op::RequestFileRanges {
                job,
                file,
                ranges,
                expect,
            },
            4 | 5 => Op::UpdateDownloadPosition {
                job,
                file,
                offset: [0, 10, 100, 1_000_000][usize::from(pick / 16 % 4)],
                expect,
            },
            _ => Op::SetFile {
                job,
                file,
                value,
                expect,
            },
        })
    }
    /// `take_ownership`.
    pub fn take_ownership() -> Action {
        job_op(Op::TakeOwnership {
            job: String::new(),
            expect: HResult::S_OK,
        })
    }
    /// `get_error`; with `hold` the application keeps the object (an error alias is bound) and the
    /// harness checks it after every later step (D2).
    pub fn get_error(hold: bool) -> Action {
        job_op(Op::GetError {
            job: String::new(),
            bind_error: hold.then(String::new),
            expect: HResult::S_OK,
        })
    }
    /// `register_callback` answering `returns` (D11).
    pub fn register_callback(returns: HResult) -> Action {
        job_op(Op::RegisterCallback {
            job: String::new(),
            returns,
            implements: 3,
            expect: HResult::S_OK,
        })
    }
    /// `check state` (GetState), observed.
    pub fn state_check() -> Action {
        Action::Check(Check::State {
            job: String::new(),
            is: JobState::Suspended,
        })
    }
    /// `check progress` (GetProgress), observed.
    pub fn progress_check() -> Action {
        Action::Check(Check::Progress {
            job: String::new(),
            bytes_total: None,
            bytes_transferred: None,
            files_total: None,
            files_transferred: None,
        })
    }
    /// `check error_count` (GetErrorCount), observed.
    pub fn error_count_check() -> Action {
        Action::Check(Check::ErrorCount {
            job: String::new(),
            is: 0,
        })
    }
    /// `check owner` (GetOwner), observed.
    pub fn owner_check() -> Action {
        Action::Check(Check::Owner {
            job: String::new(),
            is: String::new(),
        })
    }
    /// `check error` (GetError and the error object's values), observed.
    pub fn error_check() -> Action {
        Action::Check(Check::Error {
            job: String::new(),
            expect: ErrorExpectation::None,
        })
    }
    /// `check jobs` (EnumJobs), observed.
    pub fn jobs_check(all_users: bool) -> Action {
        Action::Check(Check::Jobs {
            all_users,
            count: None,
            names: None,
            expect: HResult::S_OK,
        })
    }
    /// `enum_jobs` (IBackgroundCopyManager::EnumJobs keeping the enumerator, D46; `bind_enum`
    /// filled in). Without administrator rights `all_users` is refused (§2.1).
    pub fn enum_jobs(all_users: bool) -> Action {
        job_op(Op::EnumJobs {
            all_users,
            bind_enum: String::new(),
            expect: HResult::S_OK,
        })
    }
    /// `enum_files` of the handle `pick` (EnumFiles keeping the enumerator, D46; `bind_enum`
    /// filled in).
    pub fn enum_files() -> Action {
        job_op(Op::EnumFiles {
            job: String::new(),
            bind_enum: String::new(),
            expect: HResult::S_OK,
        })
    }
    /// `enum_next` of `count` (celt, at least 1) on held enumerator `pick`; `fetched` and `names`
    /// are observed.
    pub fn enum_next(count: u32) -> Action {
        job_op(Op::EnumNext {
            enumerator: String::new(),
            count: count.max(1),
            fetched: None,
            names: None,
            expect: HResult::S_OK,
        })
    }
    /// `enum_skip` of `count` on held enumerator `pick`.
    pub fn enum_skip(count: u32) -> Action {
        job_op(Op::EnumSkip {
            enumerator: String::new(),
            count,
            expect: HResult::S_OK,
        })
    }
    /// `enum_reset` of held enumerator `pick`.
    pub fn enum_reset() -> Action {
        job_op(Op::EnumReset {
            enumerator: String::new(),
            expect: HResult::S_OK,
        })
    }
    /// `enum_clone` of held enumerator `pick` (`bind_enum` filled in).
    pub fn enum_clone() -> Action {
        job_op(Op::EnumClone {
            enumerator: String::new(),
            bind_enum: String::new(),
            expect: HResult::S_OK,
        })
    }
    /// `check enum_count` (GetCount) of held enumerator `pick`, observed.
    pub fn enum_count_check() -> Action {
        Action::Check(Check::EnumCount {
            enumerator: String::new(),
            is: None,
            expect: HResult::S_OK,
        })
    }
    /// `check notifications` (the deliveries since the application's previous one), observed.
    pub fn notifications_check() -> Action {
        Action::Check(Check::Notifications { are: Vec::new() })
    }
    /// `connect` as user `pick`.
    pub fn connect() -> Action {
        job_op(Op::Connect {
            user: String::new(),
        })
    }
    /// `logon` / `logoff` of user `pick`.
    pub fn logon(on: bool) -> Action {
        let user = String::new();
        job_op(if on {
            Op::Logon { user }
        } else {
            Op::Logoff { user }
        })
    }
}

/// Pick `items[i % len]`, or `None` when there is nothing to pick from.
pub(crate) fn pick<T>(items: &[T], i: u8) -> Option<(usize, &T)> {
    if items.is_empty() {
        None
    } else {
        let k = usize::from(i) % items.len();
        Some((k, &items[k]))
    }
}

/// Pick the `i`-th most recent item (0 = the last), modulo the length.
pub(crate) fn pick_recent<T>(items: &[T], i: u8) -> Option<(usize, &T)> {
    if items.is_empty() {
        None
    } else {
        let k = items.len() - 1 - usize::from(i) % items.len();
        Some((k, &items[k]))
    }
}
