//! The vocabulary of generated test runs: the world a run starts from ([`WorldSpec`]) and the
//! operations applied to it ([`Op`], [`JobCall`]).
//!
//! Operations name applications, handles and jobs by small indices that the
//! [`Harness`](super::Harness) resolves newest first and modulo what exists when the operation runs
//! (application 0 is the most recently started one; index 4 among 3 applications is index 1). Users
//! and remote names are picked oldest first. Generated sequences therefore stay meaningful when the
//! shrinker removes operations, and every byte string decodes to a valid sequence (the fuzzer relies
//! on this).

use crate::world::Remote;
use crate::{HResult, JobType, World};
use serde::{Deserialize, Serialize};

/// The user names a generated world uses, in order. They are alphabetical, so "the first user listed"
/// of a scenario file is the same whether a reader keeps the file's key order or sorts the keys.
pub const USER_NAMES: [&str; 4] = ["alice", "bob", "carol", "dave"];

/// A user account of a generated world.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct UserSpec {
    /// The account name (one of [`USER_NAMES`]).
    pub name: String,
    /// A member of Administrators.
    pub admin: bool,
    /// Logged on at the start.
    pub logged_on: bool,
}

/// Everything a run starts from: the users and the world around the service.
///
/// The first user runs the application `"app"`, connected before the first operation (as the scenario
/// format's implicit application is).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct WorldSpec {
    /// The users, in creation order (at least one).
    pub users: Vec<UserSpec>,
    /// Remotes, locals, bandwidth, network and optional chaos.
    pub world: World,
}

impl WorldSpec {
    /// One logged-on standard user called `alice` in `world`.
    pub fn single_user(world: World) -> WorldSpec {
        WorldSpec {
            users: vec![UserSpec {
                name: USER_NAMES[0].to_string(),
                admin: false,
                logged_on: true,
            }],
            world,
        }
    }

    /// The remote names operations pick from: the world's remotes in order, one URL no server
    /// answers (0x80072EE7), then names AddFile must refuse with E_INVALIDARG (spec §2.6).
    pub fn remote_pool(&self) -> Vec<String> {
        let mut v = self.served_urls();
        v.push(UNKNOWN_URL.to_string());
        v.extend(INVALID_REMOTES.iter().map(|s| s.to_string()));
        v
    }

    /// The local names operations pick from: download targets, the world's upload sources, then names
    /// AddFile must refuse (relative, wildcard, `\\?\` prefix).
    pub fn local_pool(&self) -> Vec<String> {
        let mut v: Vec<String> = DOWNLOAD_LOCALS.iter().map(|s| s.to_string()).collect();
        v.extend(self.world.locals.keys().cloned());
        v.extend(INVALID_LOCALS.iter().map(|s| s.to_string()));
        v
    }

    /// The URLs [`Op::SetRemote`] picks from: the world's remotes, then the unknown URL.
    pub fn url_pool(&self) -> Vec<String> {
        let mut v = self.served_urls();
        v.push(UNKNOWN_URL.to_string());
        v
    }

    /// The world's remote URLs other than [`UNKNOWN_URL`] (a replayed chaos run may list it).
    fn served_urls(&self) -> Vec<String> {
        self.world
            .remotes
            .keys()
            .filter(|k| k.as_str() != UNKNOWN_URL)
            .cloned()
            .collect()
    }
}

/// A URL that is not in any generated world: connecting fails with 0x80072EE7.
pub const UNKNOWN_URL: &str = "https://nowhere.test/missing.bin";
/// Remote names AddFile refuses.
pub const INVALID_REMOTES: [&str; 3] = ["ftp://example.test/a.bin", "https://", ""];
/// Valid local names for downloads.
pub const DOWNLOAD_LOCALS: [&str; 2] = ["C:\\dl\\a.bin", "C:\\dl\\b.bin"];
/// Local names AddFile refuses.
pub const INVALID_LOCALS: [&str; 3] = ["relative\\a.bin", "C:\\dl\\*.bin", "\\\\?\\C:\\dl\\c.bin"];

/// A display name: the valid ones, the empty one, and one over the 256-character limit (D14).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum NamePick {
    /// `"update"` — the name the example updater looks for.
    Update,
    /// `"other"`.
    Other,
    /// `""`.
    Empty,
    /// 257 characters: E_INVALIDARG.
    TooLong,
}

impl NamePick {
    /// The string.
    pub fn text(self) -> String {
        match self {
            NamePick::Update => "update".to_string(),
            NamePick::Other => "other".to_string(),
            NamePick::Empty => String::new(),
            NamePick::TooLong => "n".repeat(257),
        }
    }
}

/// A method called through a job handle.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum JobCall {
    /// AddFile with picks from [`WorldSpec::remote_pool`] and [`WorldSpec::local_pool`].
    AddFile {
        /// Index into the remote pool.
        remote: u8,
        /// Index into the local pool.
        local: u8,
    },
    /// AddFileSet (all or nothing); an empty set is E_INVALIDARG.
    AddFileSet {
        /// (remote, local) pool indices.
        files: Vec<(u8, u8)>,
    },
    /// Resume.
    Resume,
    /// Suspend.
    Suspend,
    /// Cancel.
    Cancel,
    /// Complete.
    Complete,
    /// SetDisplayName.
    SetDisplayName(NamePick),
    /// SetDescription with a string of this many characters (over 1,024 is E_INVALIDARG).
    SetDescription(u16),
    /// SetPriority with a raw value (over 3 is E_NOTIMPL).
    SetPriority(u32),
    /// SetNotifyFlags with raw bits (unknown bits are E_NOTIMPL).
    SetNotifyFlags(u32),
    /// SetMinimumRetryDelay in seconds (under 5 stores 5).
    SetMinimumRetryDelay(u32),
    /// SetNoProgressTimeout in seconds.
    SetNoProgressTimeout(u32),
    /// TakeOwnership.
    TakeOwnership,
    /// GetError; with `hold` the application keeps the error object and the harness checks it after
    /// every later step (D2).
    GetError {
        /// Keep the error object.
        hold: bool,
    },
    /// SetNotifyInterface with a callback answering every call with `answer` (D11).
    RegisterCallback {
        /// What the callback returns.
        answer: HResult,
    },
    /// GetState.
    GetState,
    /// GetProgress.
    GetProgress,
    /// GetErrorCount.
    GetErrorCount,
    /// GetOwner.
    GetOwner,
}

impl JobCall {
    /// Every mutator this enum can express, in a fixed order, with valid arguments (for "every
    /// mutator in a final state is refused" checks).
    pub fn all_mutators() -> Vec<JobCall> {
        vec![
            JobCall::AddFile {
                remote: 0,
                local: 0,
            },
            JobCall::AddFileSet {
                files: vec![(0, 0), (0, 1)],
            },
            JobCall::Resume,
            JobCall::Suspend,
            JobCall::Cancel,
            JobCall::Complete,
            JobCall::SetDisplayName(NamePick::Update),
            JobCall::SetDescription(3),
            JobCall::SetPriority(1),
            JobCall::SetNotifyFlags(0xB),
            JobCall::SetMinimumRetryDelay(60),
            JobCall::SetNoProgressTimeout(600),
            JobCall::TakeOwnership,
            JobCall::RegisterCallback {
                answer: HResult::S_OK,
            },
        ]
    }
}

/// One step of a generated run.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Op {
    /// IBackgroundCopyManager::CreateJob by application `app`.
    CreateJob {
        /// Application index (0: the most recent).
        app: u8,
        /// Display name.
        name: NamePick,
        /// Job type.
        job_type: JobType,
    },
    /// IBackgroundCopyManager::GetJob: on success the application holds a new handle to the job.
    GetJob {
        /// Application index.
        app: u8,
        /// Job index (0: the most recently created).
        job: u8,
    },
    /// IBackgroundCopyManager::EnumJobs (`all_users`: BG_JOB_ENUM_ALL_USERS).
    EnumJobs {
        /// Application index.
        app: u8,
        /// Ask for every user's jobs.
        all_users: bool,
    },
    /// A method of one of the handles application `app` holds.
    Job {
        /// Application index.
        app: u8,
        /// Index among that application's handles (0: the most recently obtained).
        handle: u8,
        /// The method.
        call: JobCall,
    },
    /// The application takes its callback deliveries (a `notifications` check in a scenario).
    TakeNotifications {
        /// Application index.
        app: u8,
    },
    /// Virtual time moves forward.
    Advance {
        /// Seconds.
        secs: u64,
    },
    /// Advance until idle, at most `max_secs`.
    RunUntilIdle {
        /// Bound in seconds.
        max_secs: u64,
    },
    /// The network goes up or down.
    Network {
        /// Up.
        up: bool,
    },
    /// A user logs on.
    Logon {
        /// User index.
        user: u8,
    },
    /// A user logs off.
    Logoff {
        /// User index.
        user: u8,
    },
    /// A new application starts as a user.
    Connect {
        /// User index.
        user: u8,
    },
    /// An application exits (D2).
    Exit {
        /// Application index.
        app: u8,
    },
    /// A server changes its behaviour.
    SetRemote {
        /// Index into [`WorldSpec::url_pool`].
        url: u8,
        /// The new behaviour.
        remote: Remote,
    },
    /// The BITS service restarts (D15).
    RestartService,
}

impl Op {
    /// Operations that call no BITS method and need no application.
    pub fn is_environment(&self) -> bool {
        matches!(
            self,
            Op::Advance { .. }
                | Op::RunUntilIdle { .. }
                | Op::Network { .. }
                | Op::Logon { .. }
                | Op::Logoff { .. }
                | Op::SetRemote { .. }
                | Op::RestartService
        )
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
