//! The scenario file format as Rust types (`docs/scenario-format.md`).
//!
//! Files are read by [`Scenario::parse`] (see `load.rs`), which rejects everything the contract does not
//! name. The types serialise back to the same format ([`Scenario::to_json`]), so tools such as a fuzzer
//! can write replay files that the runner reads.

pub use super::ops::Op;
use crate::world::{Network, Remote};
use crate::{ErrorContext, HResult, JobState, NotifyEvent};

/// One scenario file.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// A short name, shown in reports.
    pub name: String,
    /// What the scenario proves and which spec rows it covers.
    pub description: String,
    /// The simulated world.
    pub world: WorldSpec,
    /// The steps, run in order.
    pub steps: Vec<Step>,
}

/// The `world` object.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct WorldSpec {
    /// Users in file order (the implicit application runs as the first). Empty: one standard user
    /// named `user`.
    pub users: Vec<UserSpec>,
    /// Bytes per virtual second shared by running transfers (`None`: 1,000,000).
    pub bandwidth: Option<u64>,
    /// The network at the start (`None`: up).
    pub network: Option<Network>,
    /// Servers by URL, in file order.
    pub remotes: Vec<(String, Remote)>,
    /// Local files for uploads (path, size), in file order.
    pub locals: Vec<(String, u64)>,
    /// The proxy PRECONFIG and AUTODETECT jobs use (`None`: direct).
    pub system_proxy: Option<String>,
    /// Proxies by name, in file order.
    pub proxies: Vec<(String, crate::world::Proxy)>,
    /// The machine's client certificates, in file order.
    pub certificates: Vec<crate::ClientCertificate>,
}

/// One entry of `users`.
#[derive(Clone, Debug, PartialEq)]
pub struct UserSpec {
    /// The account name.
    pub name: String,
    /// An administrator (default false).
    pub admin: bool,
    /// Logged on at the start (default true).
    pub logged_on: bool,
}

impl WorldSpec {
    /// The users the world really has: the listed ones, or the default `user`.
    pub fn effective_users(&self) -> Vec<UserSpec> {
        if self.users.is_empty() {
            vec![UserSpec {
                name: DEFAULT_USER.to_string(),
                admin: false,
                logged_on: true,
            }]
        } else {
            self.users.clone()
        }
    }
}

/// The user of a world without `users`.
pub const DEFAULT_USER: &str = "user";
/// The application connected implicitly at the start.
pub const DEFAULT_APP: &str = "app";

/// One step: exactly one operation or one check, made by `app`.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The application named in the file (`None`: the default application where one applies).
    pub app: Option<String>,
    /// What the step does.
    pub action: Action,
}

impl Step {
    /// The application that makes the step's calls.
    pub fn app_name(&self) -> &str {
        self.app.as_deref().unwrap_or(DEFAULT_APP)
    }
}

/// `do` or `check`.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// An operation.
    Do(Op),
    /// An assertion.
    Check(Check),
}

/// Suspend, Resume, Cancel or Complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateMethod {
    /// `resume`.
    Resume,
    /// `suspend`.
    Suspend,
    /// `cancel`.
    Cancel,
    /// `complete`.
    Complete,
}

impl StateMethod {
    /// The `do` spelling.
    pub const fn op_name(self) -> &'static str {
        match self {
            StateMethod::Resume => "resume",
            StateMethod::Suspend => "suspend",
            StateMethod::Cancel => "cancel",
            StateMethod::Complete => "complete",
        }
    }
    /// The COM method name.
    pub const fn method(self) -> &'static str {
        match self {
            StateMethod::Resume => "Resume",
            StateMethod::Suspend => "Suspend",
            StateMethod::Cancel => "Cancel",
            StateMethod::Complete => "Complete",
        }
    }
}

impl Action {
    /// The job alias the step calls a job method through (`get_job` names a job, not a handle: `None`).
    pub fn job(&self) -> Option<&str> {
        match self {
            Action::Do(op) => op.job().map(String::as_str),
            Action::Check(
                Check::State { job, .. }
                | Check::Error { job, .. }
                | Check::ErrorCount { job, .. }
                | Check::Progress { job, .. }
                | Check::Property { job, .. }
                | Check::Owner { job, .. },
            ) => Some(job),
            _ => None,
        }
    }

    /// The same, to fill in.
    pub fn job_mut(&mut self) -> Option<&mut String> {
        match self {
            Action::Do(op) => op.job_mut(),
            Action::Check(
                Check::State { job, .. }
                | Check::Error { job, .. }
                | Check::ErrorCount { job, .. }
                | Check::Progress { job, .. }
                | Check::Property { job, .. }
                | Check::Owner { job, .. },
            ) => Some(job),
            _ => None,
        }
    }

    /// A job method that changes the job: refused with BG_E_INVALID_STATE in a final state (§1.3,
    /// §2.0). GetError and every check only read.
    pub fn is_mutator(&self) -> bool {
        matches!(self, Action::Do(op) if op.is_mutator())
    }

    /// The COM method the step calls (`None` for steps that call none).
    pub fn method(&self) -> Option<&'static str> {
        Some(match self {
            Action::Do(op) => return op.method(),
            Action::Check(c) => match c {
                Check::State { .. } => "GetState",
                Check::Error { .. } => "GetError",
                Check::ErrorObject { .. } => "IBackgroundCopyError::GetError",
                Check::ErrorCount { .. } => "GetErrorCount",
                Check::Progress { .. } => "GetProgress",
                Check::Property { is, .. } => is.getter(),
                Check::Owner { .. } => "GetOwner",
                Check::Jobs { .. } => "EnumJobs",
                Check::Notifications { .. }
                | Check::Time { .. }
                | Check::Credentials { .. }
                | Check::Requests { .. } => return None,
            },
        })
    }
}

// A property of `set` and `check property`, with its value, and a priority as a name or a raw
// number: declared with every job property in the property table (`crate::PropertyValue`).
pub(crate) use crate::properties::{PriorityValue, PropertyValue};

/// What `check error` expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorExpectation {
    /// `none: true`: GetError returns BG_E_ERROR_INFORMATION_UNAVAILABLE.
    None,
    /// An error object whose given fields match.
    Some {
        /// BG_ERROR_CONTEXT.
        context: Option<ErrorContext>,
        /// The code.
        code: Option<HResult>,
        /// The 0-based file index.
        file: Option<u32>,
    },
}

/// `bytes_total` of `check progress`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BytesTotal {
    /// A byte count.
    Bytes(u64),
    /// `"UNKNOWN"`: BG_SIZE_UNKNOWN.
    Unknown,
}

/// A check (`check`).
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// GetState.
    State {
        /// The job.
        job: String,
        /// The expected state.
        is: JobState,
    },
    /// GetError.
    Error {
        /// The job.
        job: String,
        /// What is expected.
        expect: ErrorExpectation,
    },
    /// A held error object.
    ErrorObject {
        /// The `bind_error` alias.
        error: String,
        /// What calls on it return (S_OK while usable).
        code: HResult,
    },
    /// GetErrorCount.
    ErrorCount {
        /// The job.
        job: String,
        /// The expected count.
        is: u32,
    },
    /// GetProgress.
    Progress {
        /// The job.
        job: String,
        /// BytesTotal.
        bytes_total: Option<BytesTotal>,
        /// BytesTransferred.
        bytes_transferred: Option<u64>,
        /// FilesTotal.
        files_total: Option<u32>,
        /// FilesTransferred.
        files_transferred: Option<u32>,
    },
    /// A Get* method.
    Property {
        /// The job.
        job: String,
        /// The property and its expected value.
        is: PropertyValue,
    },
    /// GetOwner.
    Owner {
        /// The job.
        job: String,
        /// The owner's user name.
        is: String,
    },
    /// EnumJobs.
    Jobs {
        /// BG_JOB_ENUM_ALL_USERS.
        all_users: bool,
        /// How many jobs (absent when a failure is expected).
        count: Option<u32>,
        /// The sorted display names.
        names: Option<Vec<String>>,
        /// The HRESULT EnumJobs returns.
        expect: HResult,
    },
    /// Callback deliveries since the previous check.
    Notifications {
        /// The expected deliveries, in order.
        are: Vec<(NotifyEvent, String)>,
    },
    /// Virtual time.
    Time {
        /// Seconds since the start.
        seconds: u64,
    },
    /// Whether a job holds credentials for a (target, scheme) pair (simulator inspection: BITS has
    /// no getter, §2.3).
    Credentials {
        /// The job.
        job: String,
        /// BG_AUTH_TARGET.
        target: crate::AuthTarget,
        /// BG_AUTH_SCHEME.
        scheme: crate::AuthScheme,
        /// Whether credentials are held.
        present: bool,
        /// The user name they carry (`Some(None)`: NULL, the caller's logon), when checked.
        user: Option<Option<String>>,
    },
    /// What a URL received (the server's record).
    Requests {
        /// The URL.
        url: String,
        /// How many requests (when checked).
        count: Option<u64>,
        /// What the latest one must show (when checked).
        last: Option<LastRequest>,
    },
}

/// `last` of `check requests`: each field compared when given.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LastRequest {
    /// The method.
    pub method: Option<String>,
    /// The start offset.
    pub from: Option<u64>,
    /// Header lines that must each appear.
    pub headers: Option<Vec<String>>,
    /// The credentials it carried (`Some(None)`: none).
    pub credentials: Option<Option<(crate::AuthTarget, crate::AuthScheme)>>,
}

impl Check {
    /// The `check` spelling.
    pub const fn name(&self) -> &'static str {
        match self {
            Check::State { .. } => "state",
            Check::Error { .. } => "error",
            Check::ErrorObject { .. } => "error_object",
            Check::ErrorCount { .. } => "error_count",
            Check::Progress { .. } => "progress",
            Check::Property { .. } => "property",
            Check::Owner { .. } => "owner",
            Check::Jobs { .. } => "jobs",
            Check::Notifications { .. } => "notifications",
            Check::Time { .. } => "time",
            Check::Credentials { .. } => "credentials",
            Check::Requests { .. } => "requests",
        }
    }
}
