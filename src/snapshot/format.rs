//! The v2 snapshot format: explicit types for the meaningful state of a service, independent of the
//! simulator's internal structs. Changing anything here changes the file format and bumps
//! [`super::VERSION`] (see `docs/snapshot-format.md`).
//!
//! Vocabulary shared with the scenario format is reused as it is spelled there: job states, types,
//! priorities, proxy usages, error contexts and notification events by their BITS names
//! (`TRANSIENT_ERROR`, `REMOTE_FILE`, `JOB_ERROR`), times as integer milliseconds on the virtual
//! clock. HRESULTs are always written as eight hex digits (`"0x80190194"`), so that a new symbolic name
//! in the HRESULT table never changes a file; symbolic names are accepted when reading.
//!
//! Jobs, users and applications are referred to by their number: their position in the `jobs`,
//! `users` and `apps` lists (the n-th job created is job n, its GUID derives from n).

use crate::{ErrorContext, HResult, JobState, JobType, NotifyEvent, Priority, ProxyUsage, SimTime};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An HRESULT in a snapshot: written `"0x%08X"`, read from hex or a symbolic name.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) struct Hr(pub HResult);

impl Serialize for Hr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("0x{:08X}", self.0.code()))
    }
}

impl<'de> Deserialize<'de> for Hr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        HResult::deserialize(deserializer).map(Hr)
    }
}

/// The whole file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SnapshotV2 {
    /// Always `"bitsim-snapshot"`.
    pub format: String,
    /// Always 2 for this shape.
    pub version: u32,
    /// The virtual clock.
    pub now: SimTime,
    /// Service restarts (and snapshot loads into a running service) so far; handles from an older
    /// generation are dead (D15).
    pub generation: u32,
    /// Engine events processed since the service was created (`Service::steps`).
    pub engine_steps: u64,
    /// Whether the trace is being recorded. The trace itself is output, not state: it is not saved.
    pub tracing: bool,
    /// The quota limits (D14).
    pub limits: LimitsV2,
    /// Everything outside the service.
    pub world: WorldV2,
    /// User accounts; user n is the n-th entry.
    pub users: Vec<UserV2>,
    /// Applications; application n is the n-th entry.
    pub apps: Vec<AppV2>,
    /// Every job ever created, final ones included, by ascending id, except final jobs released at a
    /// service restart (D23, see `job_ids_issued`).
    pub jobs: Vec<JobV2>,
    /// D23: how many job ids were given out, when that is more than `jobs` holds: the ids below it that
    /// `jobs` does not list belong to final jobs released at a service restart (reserved, never
    /// reused). Left out when every job is listed (then `jobs` is listed by id, 0, 1, 2, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_ids_issued: Option<u32>,
    /// The QUEUED jobs in the order they entered the queue (first come, first served within a
    /// priority, D12). Whether a queued job waits for its owner to log on (D10) follows from the
    /// owner's `logged_on`.
    pub queue: Vec<u32>,
    /// The transfers under way: exactly one for each CONNECTING or TRANSFERRING job.
    pub transfers: Vec<TransferV2>,
    /// Pending timers in the order they fire: by time, and in list order at the same time. Cancelled
    /// timers are left out (D85); a file that lists some still loads, and they are dropped unfired.
    pub timers: Vec<TimerV2>,
    /// SetNotifyInterface registrations that are scripted answers (D11). Callbacks that are
    /// application code cannot be saved and are dropped.
    pub callbacks: Vec<CallbackV2>,
    /// The serial the last registration got; the next one gets this plus one.
    pub last_callback_serial: u64,
    /// Command-line launches not yet read (§5.4; left out when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub launches: Vec<LaunchV2>,
}

/// One command-line launch (§5.4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LaunchV2 {
    pub time: SimTime,
    pub event: NotifyEvent,
    pub job: u32,
    pub program: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<String>,
    pub result: Hr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<u32>,
}

/// An out-of-process COM callback class of the world (§5.2, D52).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComServerV2 {
    /// The CLSID, braced.
    pub clsid: String,
    pub app: String,
    pub returns: Hr,
}

/// Per-machine limits for non-administrators (D14).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitsV2 {
    pub max_jobs_per_machine: u32,
    pub max_jobs_per_user: u32,
    pub max_files_per_job: u32,
}

/// The world: servers, local files, bandwidth, network, classification overrides, chaos.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorldV2 {
    /// Bytes per virtual second shared equally by the running transfers.
    pub bandwidth: u64,
    /// `"up"` or `"down"`.
    pub network: NetworkV2,
    /// The background time slice (T7), at least 1 s.
    pub time_slice_secs: u64,
    /// Servers by URL, each with the scripted responses it has not given yet.
    pub remotes: BTreeMap<String, RemoteV2>,
    /// Local files for uploads: path -> size in bytes.
    pub locals: BTreeMap<String, u64>,
    /// D5 overrides, by code.
    pub classify: Vec<ClassifyV2>,
    /// Seeded random faults and the generator's current state.
    pub chaos: Option<ChaosV2>,
    /// The cost flags of new jobs (D33); left out at TRANSFER_STANDARD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_cost_flags: Option<u32>,
    /// JobInactivityTimeout in seconds (T22); left out at 7,776,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactivity_timeout_secs: Option<u64>,
    /// The network's BITS_COST_STATE bits (D53); left out at UNRESTRICTED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_cost: Option<u32>,
    /// Group Policy blocks background transfers (T21, D99); left out when it does not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub policy_blocks_background: bool,
    /// The bodies of local files that have one; left out when none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub local_content: BTreeMap<String, crate::content::Body>,
    /// The last-write times (virtual seconds, D78) of local files whose time is not 0; left out
    /// when none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub local_modified: BTreeMap<String, u64>,
    /// Proxies and what servers received (left out when empty).
    #[serde(
        default,
        skip_serializing_if = "crate::world::HttpWorld::nothing_to_save"
    )]
    pub http: crate::world::HttpWorld,
    /// Programs command lines launch (§5.4; left out when none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub programs: BTreeMap<String, crate::Program>,
    /// COM callback classes (§5.2; left out when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub com_servers: Vec<ComServerV2>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum NetworkV2 {
    Up,
    Down,
}

/// One server-side file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RemoteV2 {
    /// The size the server announces; `null`: no length (BG_E_MISSING_FILE_SIZE).
    pub size: Option<u64>,
    /// Answers still to be consumed, one per connection attempt.
    pub responses: Vec<ResponseV2>,
    /// The answer once `responses` is used up.
    pub otherwise: ResponseV2,
    /// The body, when not the URL-seeded default; left out when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<crate::content::Body>,
    /// Last-Modified in virtual seconds; left out when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub modified: u64,
    /// Whether Range requests are honoured; left out when true.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub accept_ranges: bool,
    /// Response header lines; left out when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    /// Also served by a peer (D65); left out when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub peer: bool,
    /// The HTTP gates and redirect targets (left out for a plain server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<crate::world::RemoteHttp>,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// One answer to a connection attempt: success (`fault` null) or a fault, at once or after
/// `after_bytes` bytes of the attempt.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResponseV2 {
    pub fault: Option<FaultV2>,
    pub after_bytes: Option<u64>,
    /// A redirect: (status, index of the target in the remote's `http.redirects`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<(u16, u16)>,
}

/// A fault: `{"http": 503}`, `{"win32": 12030}` or `{"hresult": "0x80070005"}`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FaultV2 {
    Http(u16),
    Win32(u32),
    Hresult(Hr),
}

/// A D5 classification override.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClassifyV2 {
    pub code: Hr,
    pub class: ClassV2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ClassV2 {
    Success,
    Transient,
    Fatal,
}

/// Chaos: the seed the run started from, the fault rate, and the generator's state now.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChaosV2 {
    pub seed: u64,
    pub rate_ppm: u32,
    pub state: u64,
}

/// A user account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserV2 {
    pub name: String,
    /// Administrator (D9, D14).
    pub admin: bool,
    /// Logged on (D10).
    pub logged_on: bool,
    /// The token's integrity RID when not the default of D34; left out otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<u32>,
    /// The token's elevation when not the default of D34 (`admin`); left out otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elevated: Option<bool>,
}

/// An application and the callback deliveries it has not taken yet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppV2 {
    pub name: String,
    /// The user it runs as.
    pub user: u32,
    /// False once it exited (D2).
    pub alive: bool,
    /// Deliveries not yet taken, oldest first (at most `Service::DELIVERY_LOG_CAP`, D22).
    pub deliveries: Vec<DeliveryV2>,
    /// Deliveries dropped from the full log and not yet reported (D22); left out when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped_deliveries: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One callback invocation (D11).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeliveryV2 {
    pub event: NotifyEvent,
    pub job: u32,
    /// The job's state when the callback ran.
    pub state: JobState,
    /// For JOB_ERROR: the error's context and code.
    pub error: Option<ContextCodeV2>,
    pub time: SimTime,
    /// For FILE_TRANSFERRED: the file's index (D60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<u32>,
    /// For FILE_RANGES_TRANSFERRED: the ranges (D76).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<(u64, u64)>,
    /// What the callback answered.
    pub result: Hr,
}

/// An error context and code.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContextCodeV2 {
    pub context: ErrorContext,
    pub code: Hr,
}

/// A job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JobV2 {
    /// Its number: equal to its position in `jobs`.
    pub id: u32,
    /// The owner's user number.
    pub owner: u32,
    #[serde(rename = "type")]
    pub job_type: JobType,
    pub state: JobState,
    /// When it entered its current state.
    pub state_since: SimTime,
    pub display_name: String,
    pub description: String,
    pub priority: Priority,
    /// The BG_NOTIFY_* bits.
    pub notify_flags: u32,
    pub proxy_usage: ProxyUsage,
    /// MinimumRetryDelay in seconds (at least 5, D14).
    pub minimum_retry_delay_secs: u32,
    /// NoProgressTimeout in seconds.
    pub no_progress_timeout_secs: u32,
    /// Files in the order added.
    pub files: Vec<FileV2>,
    /// The error record (D1), if any.
    pub error: Option<ErrorRecordV2>,
    /// The error count (D6).
    pub error_count: u32,
    /// CreationTime.
    pub created: SimTime,
    /// ModificationTime.
    pub modified: SimTime,
    /// TransferCompletionTime (null until the job first became TRANSFERRED).
    pub transfer_completed: Option<SimTime>,
    /// Entries into TRANSFERRING so far (wrapping): error objects obtained before the last entry are
    /// dead (D2).
    pub transferring_entries: u32,
    /// When the no-progress clock started (D4), if it runs.
    pub no_progress_since: Option<SimTime>,
    /// The current or next attempt counts as a retry (D6).
    pub attempt_is_retry: bool,
    /// The last error was a network loss: no retry timer until the network is back (D3, T18).
    pub waiting_for_network: bool,
    /// When the armed retry timer fires (T11); TRANSIENT_ERROR only.
    pub retry_due: Option<SimTime>,
    /// When the armed no-progress deadline fires (T12, D4); TRANSIENT_ERROR only.
    pub no_progress_deadline: Option<SimTime>,
    /// The time of the last no-progress timer put on the timer list and not fired yet: re-arming the
    /// deadline at that same time adds no second timer.
    pub no_progress_timer_queued: Option<SimTime>,
    /// When the background time slice of a running job ends (T7).
    pub time_slice_due: Option<SimTime>,
    /// The Job3/Job4/Job5 properties that differ from their defaults (§2.4, §2.5, §2.10); left out
    /// when none does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<crate::job_options::JobOptions>,
    /// D33: the job was resumed though nothing else shows it (a Resume then a Suspend before any
    /// progress); left out when false. Elsewhere the loader infers it from state and history.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resumed: bool,
    /// The HTTP settings (proxy lists, credentials, HttpOptions); left out at their defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<crate::http::HttpSettings>,
}

/// One file of a job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileV2 {
    pub remote: String,
    pub local: String,
    /// The size, `null` until known.
    pub size: Option<u64>,
    /// Bytes recorded as moved (for the file of a running transfer, as of the last time the engine
    /// wrote them down; the transfer carries the live count).
    pub bytes_transferred: u64,
    /// Download: kept by Complete. Upload: uploaded.
    pub completed: bool,
    /// The file's part-2 data; left out when at its defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<crate::content::FileExtra>,
}

/// An error record (D1).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ErrorRecordV2 {
    pub context: ErrorContext,
    pub code: Hr,
    /// The file number, if the error is about a file.
    pub file: Option<u32>,
    /// `"http"` or `"file"`, if known.
    pub protocol: Option<ProtocolV2>,
    pub time: SimTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ProtocolV2 {
    Http,
    File,
}

/// A transfer under way: job `job` moves file `file`. `bytes` whole bytes of the file have moved by
/// now plus `sub_byte` / 720,720,000 of the next one (the engine counts progress in units of
/// 1/720,720,000 byte so that equal bandwidth shares stay exact); at byte `stop_at` the file ends
/// or, if `fault` is set, the scripted failure happens.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransferV2 {
    pub job: u32,
    pub file: u32,
    pub bytes: u64,
    pub sub_byte: u64,
    pub stop_at: u64,
    pub fault: Option<FaultV2>,
}

/// A pending timer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimerV2 {
    pub at: SimTime,
    pub event: TimerEventV2,
}

/// What a timer does when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum TimerEventV2 {
    /// A scheduler pass (D12).
    Schedule,
    /// The retry timer (T11): live only if the job's `retry_due` is this time.
    Retry { job: u32 },
    /// The no-progress deadline (T12): live only if the job's `no_progress_deadline` is this time.
    NoProgressDeadline { job: u32 },
    /// The end of a time slice (T7): live only if the job's `time_slice_due` is this time.
    TimeSlice { job: u32 },
    /// Call a failed JobTransferred / JobError callback again (D11), if registration `serial` is
    /// still the job's.
    NotifyRetry {
        job: u32,
        serial: u64,
        event: NotifyEvent,
    },
    /// Run the job's command line for this notification (§5.4, D50).
    Launch { job: u32, event: NotifyEvent },
    /// Call a failed FileTransferred again for file `file` (D60), if registration `serial` (0: the
    /// CLSID path) is still the job's.
    FileNotifyRetry { job: u32, file: u32, serial: u64 },
}

/// A registration that is a scripted answer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallbackV2 {
    pub job: u32,
    pub app: u32,
    pub serial: u64,
    /// What every call answers.
    pub answer: Hr,
    /// The newest IBackgroundCopyCallback interface it implements, when not 3 (D60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implements: Option<u8>,
}
