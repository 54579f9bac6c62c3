//! The per-job data of the Job3/Job4/Job5 rows of the property table (`crate::properties`), kept
//! apart so that `job` can hold it without depending on the property table.

use serde::{Deserialize, Serialize};

/// The BG_COPY_FILE_* bits SetFileACLFlags accepts (§2.4).
pub const FILE_ACL_FLAGS_KNOWN: u32 = 0xF;
/// The peer caching bits SetPeerCachingFlags accepts (D32).
pub const PEER_CACHING_FLAGS_KNOWN: u32 = 0x7;
/// Every bit a cost flags value may hold: the eight cost states, IGNORE_CONGESTION and RESERVED (D33).
pub const COST_FLAGS_KNOWN: u32 = 0xC000_00FF;
/// BITS_JOB_TRANSFER_POLICY_STANDARD, the default of `default_cost_flags` (part 2 decision 3).
pub const TRANSFER_STANDARD: u32 = 0x8000_0067;
/// MaxDownloadTime's default: 7,776,000 s (90 days, §2.5).
pub const MAXIMUM_DOWNLOAD_TIME: u32 = 7_776_000;
/// MINIMUM_NOTIFICATION_INTERVAL_MS's default: 500 ms (§2.10).
pub const MINIMUM_NOTIFICATION_INTERVAL_MS: u32 = 500;

/// The Job3/Job4/Job5 data of one job. A job holds it boxed, and only while it differs from
/// [`JobOptions::DEFAULT`] (memory: an idle job pays 8 bytes for it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JobOptions {
    /// BG_COPY_FILE_* (§2.4).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub file_acl_flags: u32,
    /// Peer caching flags (D32).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub peer_caching_flags: u32,
    /// MaxDownloadTime in seconds (T23).
    #[serde(default = "max_download_time_default")]
    pub maximum_download_time: u32,
    /// Cost flags (Job5 id 1).
    #[serde(default = "cost_default")]
    pub cost_flags: u32,
    /// The notification CLSID (Job5 id 2); 0 is GUID_NULL.
    #[serde(default, skip_serializing_if = "is_zero_u128")]
    pub notification_clsid: u128,
    /// Job5 id 3.
    #[serde(default, skip_serializing_if = "is_false")]
    pub dynamic_content: bool,
    /// Job5 id 4.
    #[serde(default, skip_serializing_if = "is_false")]
    pub high_performance: bool,
    /// Job5 id 5 (0: no cap).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub max_download_size: u64,
    /// Job5 id 9.
    #[serde(default = "interval_default")]
    pub minimum_notification_interval_ms: u32,
    /// Job5 id 10.
    #[serde(default, skip_serializing_if = "is_false")]
    pub on_demand: bool,
    /// A File6 mutator (RequestFileRanges, UpdateDownloadPosition) was called on one of the job's
    /// files: the job moves its files by the on-demand rules (D75).
    #[serde(default, skip_serializing_if = "is_false")]
    pub file6: bool,
    /// T23 (D55): milliseconds spent in CONNECTING and TRANSFERRING since the last Resume, up to
    /// the start of the current stay there (a running job adds the time since it entered its
    /// state). Negative only for a job resumed while running: the part of the current stay before
    /// that Resume, which does not count. Kept only in QUEUED, TRANSIENT_ERROR and the running
    /// states (elsewhere a Resume must come first, and it resets the count), and left out of
    /// snapshots at 0.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub download_time_ms: i64,
    /// Job2 SetNotifyCmdLine (§2.3, §5.4, D49): boxed, as nearly every job has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_cmd_line: Option<Box<crate::cmdline::NotifyCmdLine>>,
    /// Upload-reply jobs: the reply file name and the reply's progress and data (§2.3, §7, §8.2,
    /// D71, D72); boxed, as only upload-reply jobs have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<Box<ReplyState>>,
    /// D81: Callback2 FileTransferred is serialised per job: the file whose call is outstanding
    /// (dispatched and not yet answered with a success code) first, then the finished files whose
    /// calls wait behind it, in the order they finished. Empty while no call is outstanding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub file_notices: Vec<u32>,
}

/// The reply of an upload-reply job (§2.3, §7, D71, D72).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplyState {
    /// SetReplyFileName's name, or the one generated at the first Resume (D72); `None`: neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// BG_JOB_REPLY_PROGRESS.BytesTotal: BG_SIZE_UNKNOWN until the reply starts (§8.2).
    pub bytes_total: u64,
    /// BG_JOB_REPLY_PROGRESS.BytesTransferred.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub bytes_transferred: u64,
    /// The server application accepted the upload: a retry downloads the reply without handing the
    /// upload to the application again (D71).
    #[serde(default, skip_serializing_if = "is_false")]
    pub app_ok: bool,
    /// The reply, once downloaded (GetReplyData).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<crate::content::Body>,
}

impl Default for ReplyState {
    fn default() -> ReplyState {
        ReplyState {
            file_name: None,
            bytes_total: crate::state::BG_SIZE_UNKNOWN,
            bytes_transferred: 0,
            app_ok: false,
            data: None,
        }
    }
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}
fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}
fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}
fn is_zero_u128(n: &u128) -> bool {
    *n == 0
}
fn is_false(b: &bool) -> bool {
    !*b
}
fn max_download_time_default() -> u32 {
    MAXIMUM_DOWNLOAD_TIME
}
fn cost_default() -> u32 {
    TRANSFER_STANDARD
}
fn interval_default() -> u32 {
    MINIMUM_NOTIFICATION_INTERVAL_MS
}

impl JobOptions {
    /// The documented defaults of a new job.
    pub const DEFAULT: JobOptions = JobOptions {
        file_acl_flags: 0,
        peer_caching_flags: 0,
        maximum_download_time: MAXIMUM_DOWNLOAD_TIME,
        cost_flags: TRANSFER_STANDARD,
        notification_clsid: 0,
        dynamic_content: false,
        high_performance: false,
        max_download_size: 0,
        minimum_notification_interval_ms: MINIMUM_NOTIFICATION_INTERVAL_MS,
        on_demand: false,
        file6: false,
        download_time_ms: 0,
        notify_cmd_line: None,
        reply: None,
        file_notices: Vec::new(),
    };
}

impl Default for JobOptions {
    fn default() -> Self {
        JobOptions::DEFAULT
    }
}
