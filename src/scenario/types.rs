//! The scenario file format as Rust types (`docs/scenario-format.md`).
//!
//! Files are read by [`Scenario::parse`] (see `load.rs`), which rejects everything the contract does not
//! name. The types serialise back to the same format ([`Scenario::to_json`]), so tools such as a fuzzer
//! can write replay files that the runner reads.

pub use super::ops::FileSet;
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
    /// The part-2 world fields of the job options (`default_cost_flags`, `inactivity_timeout`, the
    /// users' `integrity` and `elevated`).
    pub options: WorldOptions,
    /// The bodies of the locals that give `content`, in file order.
    pub local_content: Vec<(String, crate::Body)>,
    /// The last-write times (virtual seconds) of the locals that give a nonzero `modified`, in file
    /// order (D78).
    pub local_modified: Vec<(String, u64)>,
    /// Where files are materialised (`None`: nowhere, nothing touches the host file system).
    pub sandbox: Option<SandboxSpec>,
    /// The proxy PRECONFIG and AUTODETECT jobs use (`None`: direct).
    pub system_proxy: Option<String>,
    /// Proxies by name, in file order.
    pub proxies: Vec<(String, crate::world::Proxy)>,
    /// The machine's client certificates, in file order.
    pub certificates: Vec<crate::ClientCertificate>,
    /// `programs` and `com_servers` (§5.2–§5.4).
    pub notify: crate::NotifyWorld,
}

/// The part-2 world fields of the job options (all optional; the defaults of D33, D34, T22).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct WorldOptions {
    /// `default_cost_flags` (`None`: TRANSFER_STANDARD).
    pub default_cost_flags: Option<u32>,
    /// `inactivity_timeout` in seconds (`None`: 7,776,000).
    pub inactivity_timeout: Option<u64>,
    /// `network_cost`, BITS_COST_STATE bits (`None`: UNRESTRICTED, D53).
    pub network_cost: Option<u32>,
    /// `group_policy` `block_background` (false when absent; T21, D99).
    pub block_background: bool,
    /// Users with a token given in the file: name, `integrity` and `elevated` (D34).
    pub user_tokens: Vec<(String, Option<u32>, Option<bool>)>,
}

/// World `sandbox`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SandboxSpec {
    /// `true`: a fresh folder per run, removed afterwards unless `--keep-sandbox`.
    Fresh,
    /// A folder (resolved against the scenario file's folder), empty when loaded; it is kept.
    Dir(std::path::PathBuf),
}

/// What `check file_property` expects of a file getter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileValue {
    /// GetRemoteName.
    RemoteName(String),
    /// GetLocalName.
    LocalName(String),
    /// GetProgress (any subset).
    Progress {
        /// BytesTotal.
        bytes_total: Option<BytesTotal>,
        /// BytesTransferred.
        bytes_transferred: Option<u64>,
        /// Completed.
        completed: Option<bool>,
    },
    /// File3::GetTemporaryName: the exact name, or a `like` pattern (`*` matches any run).
    TemporaryName {
        /// The name or pattern.
        name: String,
        /// `name` is a `like` pattern.
        like: bool,
    },
    /// File3::GetValidationState.
    ValidationState(bool),
    /// File3::IsDownloadedFromPeer.
    FromPeer(bool),
    /// File2::GetFileRanges (`u64::MAX` for "TO_EOF"; empty with S_FALSE).
    FileRanges(Vec<(u64, u64)>),
    /// File6::GetFilledFileRanges: the ranges on disk, merged, ordered by offset (D73).
    FilledFileRanges(Vec<(u64, u64)>),
    /// File5::GetProperty(HTTP_RESPONSE_HEADERS): lines that must each appear (D64).
    HttpResponseHeaders(Vec<String>),
}

impl FileValue {
    /// The property's name in scenario files.
    pub fn property(&self) -> &'static str {
        match self {
            FileValue::RemoteName(_) => "remote_name",
            FileValue::LocalName(_) => "local_name",
            FileValue::Progress { .. } => "progress",
            FileValue::TemporaryName { .. } => "temporary_name",
            FileValue::ValidationState(_) => "validation_state",
            FileValue::FromPeer(_) => "from_peer",
            FileValue::FileRanges(_) => "file_ranges",
            FileValue::FilledFileRanges(_) => "filled_file_ranges",
            FileValue::HttpResponseHeaders(_) => "http_response_headers",
        }
    }
}

/// Which sandbox file a `local_file` check reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalTarget {
    /// A Windows local name.
    Path(String),
    /// File `file` of a job (its local name, or its temporary file).
    File {
        /// The job alias.
        job: String,
        /// The file index.
        file: u32,
        /// Its temporary file instead of its local name.
        temporary: bool,
    },
}

/// What a body check compares (any subset).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BodyCheck {
    /// Length in bytes.
    pub size: Option<u64>,
    /// SHA-256, 64 lowercase hex digits.
    pub sha256: Option<String>,
    /// Exact UTF-8 text.
    pub text: Option<String>,
    /// The same bytes as another body.
    pub same_as: Option<SameAs>,
}

/// `same_as` of a body check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SameAs {
    /// A remote's current body, or those ranges of it concatenated in order (`u64::MAX` length:
    /// to the end).
    Remote {
        /// Its URL.
        url: String,
        /// `[offset, length]` pairs.
        ranges: Option<Vec<(u64, u64)>>,
    },
    /// A world local's body.
    Local(String),
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
                | Check::PropertyFails { job, .. }
                | Check::RawProperty { job, .. }
                | Check::ClientCertificate { job, .. }
                | Check::ReplyProgress { job, .. }
                | Check::ReplyData { job, .. }
                | Check::Times { job, .. }
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
                | Check::PropertyFails { job, .. }
                | Check::RawProperty { job, .. }
                | Check::ClientCertificate { job, .. }
                | Check::ReplyProgress { job, .. }
                | Check::ReplyData { job, .. }
                | Check::Times { job, .. }
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
                Check::PropertyFails { prop, .. } => prop.decl().getter,
                Check::RawProperty { .. } => "IBackgroundCopyJob5::GetProperty",
                Check::ClientCertificate { .. } => {
                    "IBackgroundCopyJobHttpOptions::GetClientCertificate"
                }
                Check::ReplyProgress { .. } => "IBackgroundCopyJob2::GetReplyProgress",
                Check::ReplyData { .. } => "IBackgroundCopyJob2::GetReplyData",
                Check::Times { .. } => "GetTimes",
                Check::Owner { .. } => "GetOwner",
                Check::Jobs { .. } => "EnumJobs",
                Check::EnumCount { .. } => "GetCount",
                Check::FileProperty { .. } => "IBackgroundCopyFile::Get*",
                Check::Notifications { .. }
                | Check::Launches { .. }
                | Check::Time { .. }
                | Check::LocalFile { .. }
                | Check::LocalDir { .. }
                | Check::Credentials { .. }
                | Check::Requests { .. }
                | Check::UploadReceived { .. } => return None,
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

/// An expected delivery of `check notifications`: event, job alias, file index (FILE_* events),
/// ranges (FILE_RANGES_TRANSFERRED; empty for the others).
pub type ExpectedDelivery = (NotifyEvent, String, Option<u32>, Vec<(u64, u64)>);

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
    /// A getter that must fail (`check property` with a failing `expect`; `is` left out).
    PropertyFails {
        /// The job.
        job: String,
        /// The property.
        prop: crate::properties::Prop,
        /// The failure the getter must return.
        expect: HResult,
    },
    /// IBackgroundCopyJob5::GetProperty by raw BITS_JOB_PROPERTY_ID (`check property` with an
    /// integer `property`, D35).
    RawProperty {
        /// The job.
        job: String,
        /// The BITS_JOB_PROPERTY_ID.
        id: u32,
        /// The value as a number (left out with a failing `expect`).
        is: Option<u128>,
        /// The HRESULT the getter must return.
        expect: HResult,
    },
    /// HttpOptions::GetClientCertificate (`check property client_certificate`, D31): the fields
    /// given must equal the certificate's; with a failing `expect` (RPC_X_BAD_STUB_DATA when the job
    /// has none) no field is given.
    ClientCertificate {
        /// The job.
        job: String,
        /// BG_CERT_STORE_LOCATION.
        location: Option<u32>,
        /// The store name.
        store: Option<String>,
        /// The SHA-1 hash (40 lowercase hex digits).
        sha1: Option<String>,
        /// The subject.
        subject: Option<String>,
        /// The HRESULT the getter must return.
        expect: HResult,
    },
    /// Job2::GetReplyProgress (`check property reply_progress`, §2.3, §8.2): each field given
    /// must match; none with a failing `expect`.
    ReplyProgress {
        /// The job.
        job: String,
        /// BytesTotal (UNKNOWN: BG_SIZE_UNKNOWN).
        bytes_total: Option<BytesTotal>,
        /// BytesTransferred.
        bytes_transferred: Option<u64>,
        /// The HRESULT the getter must return.
        expect: HResult,
    },
    /// Job2::GetReplyData (`check property reply_data`, §2.3, D66): a body check of the reply;
    /// with BG_E_TOO_LARGE only `size`, the length reported.
    ReplyData {
        /// The job.
        job: String,
        /// What the reply holds (boxed: most steps are smaller).
        body: Box<BodyCheck>,
        /// The HRESULT the getter must return.
        expect: HResult,
    },
    /// GetTimes (part 2 `check times`): each given time in whole virtual seconds since the start,
    /// `None` for UNKNOWN (a zero FILETIME, D13).
    Times {
        /// The job.
        job: String,
        /// CreationTime.
        creation: Option<Option<u64>>,
        /// ModificationTime.
        modification: Option<Option<u64>>,
        /// TransferCompletionTime.
        transfer_completion: Option<Option<u64>>,
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
        /// The expected deliveries, in order: event, job alias, for FILE_TRANSFERRED and
        /// FILE_RANGES_TRANSFERRED the file index (D60, D76), and for FILE_RANGES_TRANSFERRED the
        /// ranges (empty for the others).
        are: Vec<ExpectedDelivery>,
    },
    /// Command-line launches since the previous `launches` check, machine-wide (§5.4).
    Launches {
        /// The expected launches, in order.
        are: Vec<super::cmdline::LaunchSpec>,
    },
    /// Virtual time.
    Time {
        /// Seconds since the start.
        seconds: u64,
    },
    /// GetCount of a held enumerator (D46).
    EnumCount {
        /// The `bind_enum` alias.
        enumerator: String,
        /// The count (absent when a failure is expected).
        is: Option<u32>,
        /// The HRESULT GetCount returns.
        expect: HResult,
    },
    /// A file getter (IBackgroundCopyFile, File2, File3).
    FileProperty {
        /// The job.
        job: String,
        /// The file index.
        file: u32,
        /// The property's name.
        property: String,
        /// The value expected (absent with a failing `expect`).
        is: Option<FileValue>,
        /// The HRESULT the getter returns.
        expect: HResult,
    },
    /// A sandbox file.
    LocalFile {
        /// Which file (boxed: most steps are smaller).
        target: Box<LocalTarget>,
        /// Whether it exists.
        exists: Option<bool>,
        /// What it holds (boxed: most steps are smaller).
        body: Box<BodyCheck>,
    },
    /// The entries directly in a sandbox folder.
    LocalDir {
        /// The folder's Windows name.
        dir: String,
        /// The entry names, sorted.
        names: Vec<String>,
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
    /// What a server holds for an upload URL (§7, D71): how many uploads its application
    /// received, and the latest one's bytes.
    UploadReceived {
        /// The URL.
        url: String,
        /// Uploads received (when checked).
        count: Option<u64>,
        /// The latest upload's bytes (boxed: most steps are smaller).
        body: Box<BodyCheck>,
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
            Check::Property { .. }
            | Check::PropertyFails { .. }
            | Check::RawProperty { .. }
            | Check::ClientCertificate { .. }
            | Check::ReplyProgress { .. }
            | Check::ReplyData { .. } => "property",
            Check::Owner { .. } => "owner",
            Check::Times { .. } => "times",
            Check::Jobs { .. } => "jobs",
            Check::Notifications { .. } => "notifications",
            Check::Launches { .. } => "launches",
            Check::Time { .. } => "time",
            Check::EnumCount { .. } => "enum_count",
            Check::FileProperty { .. } => "file_property",
            Check::LocalFile { .. } => "local_file",
            Check::LocalDir { .. } => "local_dir",
            Check::Credentials { .. } => "credentials",
            Check::Requests { .. } => "requests",
            Check::UploadReceived { .. } => "upload_received",
        }
    }
}
