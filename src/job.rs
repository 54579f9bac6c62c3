//! Job data: identity, properties with their documented defaults (spec §10 item 1), files, progress,
//! times and the error record.
//!
//! The fields are private to this module. The state and everything an entry into a state changes (the
//! error record and count, D1, D6; the TRANSFERRING epoch, D2; the retry flags, D3, D6) are written by
//! exactly one function, `Job::enter`, which `Service::enter` calls after the transition table has
//! accepted an input: no other code can write them. Properties have setters the property table
//! (`properties.rs`) calls; the engine's bookkeeping of armed timers and the running transfer is plain
//! crate data.

use crate::job_options::JobOptions;
pub use crate::record::{ErrorRecord, Protocol};
use crate::state::{JobState, JobType, NotifyFlags, Priority, ProxyUsage, BG_SIZE_UNKNOWN};
use crate::time::{SimDuration, SimTime};
use crate::transition::{self, ErrorEntry, Rule, Transition};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A job's identity: the GUID BITS hands out, made deterministic (the n-th job of a service).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub(crate) u32);

impl JobId {
    /// The index of the job in its service (0 for the first job created).
    pub const fn index(self) -> usize {
        self.0 as usize
    }
    /// The job's GUID in registry format, e.g. `{B175B175-0000-4000-8000-000000000001}`.
    pub fn guid(self) -> String {
        format!("{{B175B175-0000-4000-8000-{:012X}}}", u64::from(self.0) + 1)
    }
    /// Parse a GUID produced by [`JobId::guid`].
    pub fn from_guid(s: &str) -> Option<JobId> {
        let rest = s
            .strip_prefix("{B175B175-0000-4000-8000-")?
            .strip_suffix('}')?;
        if rest.len() != 12 {
            return None;
        }
        let n = u64::from_str_radix(rest, 16).ok()?;
        u32::try_from(n.checked_sub(1)?).ok().map(JobId)
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.guid())
    }
}

impl fmt::Debug for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job#{}", self.0)
    }
}

/// A user account known to the simulated machine.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub(crate) u32);

/// An application (client process) connected to the service.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AppId(pub(crate) u32);

impl UserId {
    /// Index in creation order.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl AppId {
    /// Index in connection order.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// The largest byte count a job's progress reports (D21): one below [`BG_SIZE_UNKNOWN`], which means
/// "unknown" and so can never be a sum.
pub const MAX_KNOWN_BYTES: u64 = BG_SIZE_UNKNOWN - 1;

/// D21: `a + b` for byte counts, saturating at [`MAX_KNOWN_BYTES`].
fn saturating_bytes(a: u64, b: u64) -> u64 {
    a.saturating_add(b).min(MAX_KNOWN_BYTES)
}

/// `BG_JOB_PROGRESS` (spec §8.1).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct JobProgress {
    /// Sum of the file sizes, or [`BG_SIZE_UNKNOWN`] while any file's size is unknown (0 for no files).
    pub bytes_total: u64,
    /// Bytes moved so far.
    pub bytes_transferred: u64,
    /// Number of files.
    pub files_total: u32,
    /// Number of files fully moved.
    pub files_transferred: u32,
}

/// `BG_FILE_PROGRESS` (spec §8.1).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct FileProgress {
    /// The file size, or [`BG_SIZE_UNKNOWN`] until it is known.
    pub bytes_total: u64,
    /// Bytes moved so far.
    pub bytes_transferred: u64,
    /// Download: the file is available under its local name (after Complete). Upload: it was uploaded.
    pub completed: bool,
}

/// `BG_JOB_TIMES` (spec §8.1) on the virtual clock (D13).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct JobTimes {
    /// When the job was created.
    pub creation_time: SimTime,
    /// The last change: AddFile, a Set* call, a state change, Suspend/Resume/Cancel/Complete, or bytes moved.
    pub modification_time: SimTime,
    /// When the job last entered TRANSFERRED; `None` (FILETIME 0) until then.
    pub transfer_completion_time: Option<SimTime>,
}

/// One file of a job.
///
/// The remote and local names share one allocation (`names`: the remote name followed by the local
/// one, `split` the remote's length in bytes): one block per file instead of two, and 16 bytes less
/// than two `Box<str>`s. `remote_slot` remembers where the remote's URL was last found among the
/// world's remotes (a [`crate::url_map::Slot`]), so that a connection attempt need not hash the URL
/// and compare it again; it is a cache only (never part of equality, `Debug` or snapshots) and is
/// forgotten whenever the remote name changes.
#[derive(Clone)]
pub(crate) struct FileData {
    names: Box<str>,
    /// BG_SIZE_UNKNOWN until the size is known.
    pub bytes_total: u64,
    pub bytes_transferred: u64,
    /// Everything else about the file (part 2: what the remote looked like, ranges, validation, ...);
    /// `None` while all of it is at its default, so a plain file costs one pointer.
    pub extra: Option<Box<crate::content::FileExtra>>,
    /// The remote name's length: `names[..split]` is the remote, `names[split..]` the local name.
    split: u32,
    /// The remote's slot among the world's remotes, checked before use ([`crate::url_map::Slot`]).
    pub(crate) remote_slot: crate::url_map::Slot,
    /// Set by Complete for kept files (download) or when uploaded (upload).
    pub completed: bool,
}

/// Names never reach 4 GiB: AddFile and SetRemoteName check MAX_REMOTE_NAME / MAX_PATH (spec §2.6),
/// and a redirect's target comes from the world's own URLs.
fn name_len(remote: &str) -> u32 {
    u32::try_from(remote.len()).expect("remote names are short (MAX_REMOTE_NAME)")
}

/// The two names in one block.
#[inline(always)]
fn join_names(remote: &str, local: &str) -> Box<str> {
    let mut s = String::with_capacity(remote.len() + local.len());
    s.push_str(remote);
    s.push_str(local);
    s.into_boxed_str()
}

impl PartialEq for FileData {
    /// Everything but the slot cache.
    fn eq(&self, other: &Self) -> bool {
        self.remote() == other.remote()
            && self.local() == other.local()
            && self.bytes_total == other.bytes_total
            && self.bytes_transferred == other.bytes_transferred
            && self.completed == other.completed
            && self.extra == other.extra
    }
}

impl Eq for FileData {}

impl fmt::Debug for FileData {
    /// As the derived `Debug` of the two-field struct printed it (the slot cache left out).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileData")
            .field("remote", &self.remote())
            .field("local", &self.local())
            .field("bytes_total", &self.bytes_total)
            .field("bytes_transferred", &self.bytes_transferred)
            .field("completed", &self.completed)
            .field("extra", &self.extra)
            .finish()
    }
}

impl FileData {
    pub fn new(remote: &str, local: &str) -> FileData {
        FileData::with_slot(remote, local, crate::url_map::Slot::NONE)
    }
    /// A new file whose remote's slot is already known (AddFile finds it first, so the file is
    /// built whole: setting the slot afterwards wrote it into the finished value, and copying that
    /// value then read the slot back before the write had landed).
    #[inline]
    pub fn with_slot(remote: &str, local: &str, remote_slot: crate::url_map::Slot) -> FileData {
        FileData {
            names: join_names(remote, local),
            bytes_total: BG_SIZE_UNKNOWN,
            bytes_transferred: 0,
            extra: None,
            split: name_len(remote),
            remote_slot,
            completed: false,
        }
    }
    /// The remote name (URL or UNC path).
    #[inline]
    pub fn remote(&self) -> &str {
        &self.names[..self.split as usize]
    }
    /// The local name.
    #[inline]
    pub fn local(&self) -> &str {
        &self.names[self.split as usize..]
    }
    /// Change the remote name (SetRemoteName, ReplaceRemotePrefix, a redirect's report, D30); the
    /// two names are joined anew, and the remembered slot goes with the old name.
    pub fn set_remote(&mut self, remote: &str) {
        self.names = join_names(remote, self.local());
        self.split = name_len(remote);
        self.remote_slot = crate::url_map::Slot::NONE;
    }
    /// D23: the names' memory goes (a released final job).
    pub fn release_names(&mut self) {
        self.names = Box::default();
        self.split = 0;
        self.remote_slot = crate::url_map::Slot::NONE;
    }
    /// The Last-Modified time the file's bytes so far came with (D38; 0 by default).
    pub fn seen_modified(&self) -> u64 {
        self.extra.as_ref().map_or(0, |e| e.seen_modified)
    }
    /// Record the Last-Modified time of the bytes being transferred (D38).
    pub fn set_seen_modified(&mut self, t: u64) {
        if t == self.seen_modified() {
            return;
        }
        self.extra
            .get_or_insert_with(Default::default)
            .seen_modified = t;
        self.shrink_extra();
    }
    /// Drop the extra box when everything in it is back at its default.
    pub fn shrink_extra(&mut self) {
        if self
            .extra
            .as_deref()
            .is_some_and(|e| *e == Default::default())
        {
            self.extra = None;
        }
    }
    /// The ranges the file was added with (AddFileWithRanges, §2.4), if any.
    pub fn ranges(&self) -> Option<&[(u64, u64)]> {
        self.extra.as_ref().and_then(|e| e.ranges.as_deref())
    }
    /// Every byte moved (and the size known).
    pub fn is_done(&self) -> bool {
        self.bytes_total != BG_SIZE_UNKNOWN && self.bytes_transferred >= self.bytes_total
    }
}

/// A transfer in progress (the job is CONNECTING or TRANSFERRING and holds a slot).
///
/// Bytes are counted on the engine's shared service counter `S` (see `engine.rs`): at `S = s_base` the
/// file had `bytes_base` bytes; it gains one byte per `SCALE` units of `S`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub(crate) struct Active {
    pub file: u32,
    pub s_base: u128,
    pub bytes_base: u64,
    /// The byte offset in the file where the next thing happens (file end, or the scripted failure).
    pub stop_at: u64,
    /// The failure that happens at `stop_at`, if it is not the file end.
    pub fail: Option<crate::world::Fault>,
}

/// D67: the seven optional times and keys of a job, packed: seven `u64`s in [`Job`]'s `slot_at` and
/// one bit each in its `slot_set` byte. A sentinel value cannot stand for "none" because a timer may
/// be armed at `SimTime::MAX` itself (D18: a zero delay at the last instant), so presence is a bit.
/// Sixteen bytes per `Option<u64>` became eight, and the seven presence flags share one byte of
/// padding: 48 bytes less per job.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(crate) enum Slot {
    /// `JobTimes::transfer_completion_time`.
    TransferCompleted = 0,
    /// The start of the no-progress clock (D4), if it runs.
    NoProgressSince = 1,
    /// The armed retry timer (D3).
    Retry = 2,
    /// The armed no-progress deadline (D4).
    Deadline = 3,
    /// The time of the deadline event in the queue (it may outlive a disarm).
    DeadlineQueued = 4,
    /// The end of the running job's time slice (T7, D12a).
    Slice = 5,
    /// Key in the scheduler's ready queue while QUEUED and runnable (not a time).
    ReadyKey = 6,
}

/// The bit of `Job::slot_set` that says the job has an error record (D1), kept in its box.
const ERROR_BIT: u8 = 1 << 7;

/// A job: everything BITS keeps about it.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    id: JobId,
    owner: UserId,
    job_type: JobType,
    /// Written only by [`Job::enter`].
    state: JobState,
    /// When the job entered its current state.
    state_since: SimTime,
    /// The display name followed by the description, in one `Box<str>` (like the file names: names
    /// never grow): one pointer and length for both, 16 bytes less per job than two. `name_len` is
    /// where the display name ends.
    names: Box<str>,
    /// Bytes of `names` that are the display name.
    name_len: u32,
    priority: Priority,
    notify_flags: NotifyFlags,
    proxy_usage: ProxyUsage,
    /// Seconds (default 600, floor 5).
    retry_delay: u32,
    /// Seconds (default 1,209,600).
    no_progress_timeout: u32,
    files: Vec<FileData>,
    /// Written only by [`Job::enter`] (D1). Boxed: most jobs never have one, and an idle job then
    /// pays 8 bytes instead of 24. The record exists only while bit [`ERROR_BIT`] of `slot_set` is
    /// set: the box stays when the record goes (entry into TRANSFERRING), so a job that fails again
    /// and again allocates it once.
    error: Option<Box<ErrorRecord>>,
    error_count: u32,
    /// `JobTimes::creation_time` and `modification_time` (the completion time is a [`Slot`]).
    created: SimTime,
    modified: SimTime,
    /// Bumped on every entry into TRANSFERRING: error objects obtained before are dead (D2).
    transfer_epoch: u32,
    /// The current attempt is a retry (D6).
    retry_attempt: bool,
    /// The TRANSIENT_ERROR is a network loss: no retry timer (D3, T18).
    waiting_for_network: bool,
    /// D67: the values of the seven [`Slot`]s (meaningful only where `slot_set` has the bit). The
    /// engine's timers among them are its bookkeeping of armed timers: an event is live only if it
    /// matches.
    slot_at: [u64; 7],
    /// D67: bit `s` set = [`Slot`] `s` holds a value; bit [`ERROR_BIT`]: the error record exists.
    slot_set: u8,
    /// Boxed: only running jobs have one, and an idle job then pays 8 bytes instead of 48 (and the
    /// 16-byte alignment of its `u128`). Serialises exactly as the unboxed value.
    pub(crate) active: Option<Box<Active>>,
    /// D23: a final job whose data the service let go at a restart; only its id stays reserved.
    released: bool,
    /// The Job3/Job4/Job5 data (§2.4, §2.5, §2.10): `None` while everything is at its default.
    options: Option<Box<JobOptions>>,
    /// The HTTP settings (proxy lists, credentials, HttpOptions): `None` while all are at their
    /// defaults, so an idle job pays one pointer for them.
    http: Option<Box<crate::http::HttpSettings>>,
    /// `files[..done_prefix]` are all done (a file becomes undone only by SetValidationState(FALSE),
    /// which lowers the hint: [`Job::file_unfinished`]), so [`Job::next_file`] starts there: O(1) amortised per file instead of
    /// a scan from the first file. A hint kept by [`Job::file_finished`]; not saved (0 after a load).
    done_prefix: u32,
    /// D33: the job has been resumed at least once (Job5 properties read-only after Resume). Kept
    /// inline (it fits in padding) so that Resume allocates nothing; saved only where it cannot be
    /// inferred ([`Job::looks_resumed`]).
    resumed: bool,
}

/// Spec §10 item 1 and §2.2: the defaults of a new job.
pub mod defaults {
    pub use crate::names::{MAX_DESCRIPTION, MAX_DISPLAY_NAME, MAX_LOCAL_NAME, MAX_REMOTE_NAME};
    /// MinimumRetryDelay: 600 s.
    pub const MINIMUM_RETRY_DELAY: u32 = 600;
    /// The floor SetMinimumRetryDelay raises smaller values to (D14).
    pub const MINIMUM_RETRY_DELAY_FLOOR: u32 = 5;
    /// NoProgressTimeout: 1,209,600 s (14 days).
    pub const NO_PROGRESS_TIMEOUT: u32 = 1_209_600;
}

/// What an entry into a state did to the error record, for the trace.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Entered {
    /// Nothing.
    Plain,
    /// The record went (entry into TRANSFERRING, D1).
    RecordDropped,
    /// A record was created (D1), and the error count is now `error_count` (D6).
    Record {
        context: crate::state::ErrorContext,
        code: crate::hresult::HResult,
        file: Option<u32>,
        error_count: u32,
    },
}

/// Everything a snapshot keeps of a job, as plain data: what [`Job::restore`] rebuilds a job from after
/// the snapshot loader has verified it (the only constructor besides [`Job::new`]; the state and error
/// record are otherwise written only by [`Job::enter`]).
pub(crate) struct SavedJob {
    pub id: JobId,
    pub owner: UserId,
    pub job_type: JobType,
    pub state: JobState,
    pub state_since: SimTime,
    pub display_name: Box<str>,
    pub description: String,
    pub priority: Priority,
    pub notify_flags: NotifyFlags,
    pub proxy_usage: ProxyUsage,
    pub retry_delay: u32,
    pub no_progress_timeout: u32,
    pub files: Vec<FileData>,
    pub error: Option<ErrorRecord>,
    pub error_count: u32,
    pub times: JobTimes,
    pub transfer_epoch: u32,
    pub no_progress_since: Option<SimTime>,
    pub retry_attempt: bool,
    pub waiting_for_network: bool,
    pub options: Option<Box<JobOptions>>,
    pub http: Option<Box<crate::http::HttpSettings>>,
}

impl Job {
    pub fn new(
        id: JobId,
        owner: UserId,
        job_type: JobType,
        display_name: Box<str>,
        now: SimTime,
    ) -> Job {
        Job {
            id,
            owner,
            job_type,
            state: JobState::Suspended, // T1
            state_since: now,
            name_len: u32::try_from(display_name.len()).expect("display names are short (D14)"),
            names: display_name,
            priority: Priority::Normal,
            notify_flags: NotifyFlags::DEFAULT,
            proxy_usage: ProxyUsage::Preconfig,
            retry_delay: defaults::MINIMUM_RETRY_DELAY,
            no_progress_timeout: defaults::NO_PROGRESS_TIMEOUT,
            files: Vec::new(),
            error: None,
            error_count: 0,
            created: now,
            modified: now,
            transfer_epoch: 0,
            retry_attempt: false,
            waiting_for_network: false,
            slot_at: [0; 7],
            slot_set: 0,
            active: None,
            released: false,
            options: None,
            http: None,
            done_prefix: 0,
            resumed: false,
        }
    }

    /// The place of a job id a snapshot leaves out (D23: the restart's own snapshot omits final jobs,
    /// which the restart then puts back released). A file written by hand with such gaps gets a
    /// CANCELLED job of user 0 with no data there.
    pub(crate) fn released(id: JobId) -> Job {
        let mut j = Job::new(
            id,
            UserId(0),
            JobType::Download,
            Box::default(),
            SimTime::ZERO,
        );
        j.state = JobState::Cancelled;
        j.released = true;
        j
    }

    /// D23: the final job's strings are released (display name, description, file names: the heap
    /// memory goes); everything fixed-size stays (state, owner, times, error record and count, file
    /// sizes and progress), so the core's getters keep answering. Only a final job is released.
    pub(crate) fn release(&mut self) {
        debug_assert!(self.state.is_final(), "only final jobs are released");
        if self.released {
            return;
        }
        self.names = Box::default();
        self.name_len = 0;
        for f in &mut self.files {
            f.release_names();
        }
        self.files.shrink_to_fit();
        self.http = None;
        self.released = true;
    }

    /// D23: released at a service restart (see [`Job::release`]).
    pub fn is_released(&self) -> bool {
        self.released
    }

    /// A job as a verified snapshot saved it (engine bookkeeping left empty for the loader to set).
    pub(crate) fn restore(j: SavedJob) -> Job {
        let mut job = Job {
            id: j.id,
            owner: j.owner,
            job_type: j.job_type,
            state: j.state,
            state_since: j.state_since,
            name_len: u32::try_from(j.display_name.len()).expect("display names are short (D14)"),
            names: [&*j.display_name, &j.description].concat().into_boxed_str(),
            priority: j.priority,
            notify_flags: j.notify_flags,
            proxy_usage: j.proxy_usage,
            retry_delay: j.retry_delay,
            no_progress_timeout: j.no_progress_timeout,
            files: j.files,
            error: None,
            error_count: j.error_count,
            created: j.times.creation_time,
            modified: j.times.modification_time,
            transfer_epoch: j.transfer_epoch,
            retry_attempt: j.retry_attempt,
            waiting_for_network: j.waiting_for_network,
            slot_at: [0; 7],
            slot_set: 0,
            active: None,
            released: false,
            options: j.options,
            http: j.http,
            done_prefix: 0,
            resumed: false,
        };
        if let Some(record) = j.error {
            job.error = Some(Box::new(record));
            job.slot_set |= ERROR_BIT;
        }
        job.set_slot(Slot::TransferCompleted, j.times.transfer_completion_time);
        job.set_slot(Slot::NoProgressSince, j.no_progress_since);
        job
    }

    /// D67: the value in `slot`, if it holds one.
    #[inline]
    fn slot(&self, slot: Slot) -> Option<u64> {
        let i = slot as usize;
        (self.slot_set & (1 << i) != 0).then(|| self.slot_at[i])
    }
    /// D67: put `value` in `slot` (or empty it); the previous value back, like `Option::replace`.
    #[inline]
    fn put_slot(&mut self, slot: Slot, value: Option<u64>) -> Option<u64> {
        let old = self.slot(slot);
        let i = slot as usize;
        match value {
            Some(v) => {
                self.slot_at[i] = v;
                self.slot_set |= 1 << i;
            }
            None => {
                self.slot_at[i] = 0;
                self.slot_set &= !(1 << i);
            }
        }
        old
    }
    /// D67: the time in `slot` (every slot but [`Slot::ReadyKey`] holds a time).
    #[inline]
    pub(crate) fn timer(&self, slot: Slot) -> Option<SimTime> {
        debug_assert!(slot != Slot::ReadyKey, "the ready key is not a time");
        self.slot(slot).map(SimTime::from_millis)
    }
    /// D67: set or clear the time in `slot`; the previous time back, like `Option::replace`.
    #[inline]
    pub(crate) fn set_slot(&mut self, slot: Slot, at: Option<SimTime>) -> Option<SimTime> {
        debug_assert!(slot != Slot::ReadyKey, "the ready key is not a time");
        self.put_slot(slot, at.map(SimTime::as_millis))
            .map(SimTime::from_millis)
    }
    /// Key in the scheduler's ready queue while QUEUED and runnable.
    #[inline]
    pub(crate) fn ready_key(&self) -> Option<u64> {
        self.slot(Slot::ReadyKey)
    }
    /// Set or clear the ready-queue key; the previous key back.
    #[inline]
    pub(crate) fn set_ready_key(&mut self, key: Option<u64>) -> Option<u64> {
        self.put_slot(Slot::ReadyKey, key)
    }

    /// The current attempt is a retry (D6).
    pub fn retry_attempt(&self) -> bool {
        self.retry_attempt
    }

    // ------------------------------------------------------------------ the one writer of the state

    /// Become `t.to` at `now`, as the transition table decided: the job's own entry actions — the state
    /// and when it was entered, ModificationTime (§8.2), the error record (D1) and count (D6), the
    /// TRANSFERRING epoch (D2), the retry flags (D3, D6) and the no-progress clock (D4). Called only by
    /// `Service::enter`, which does the service's part (slots, queues, timers, callbacks, trace).
    #[inline]
    pub(crate) fn enter(&mut self, t: Transition, now: SimTime) -> Entered {
        let from = self.state;
        self.state = t.to();
        self.state_since = now;
        self.modified = now;
        match t.to() {
            JobState::Transferring => {
                // D1: the error record goes; D2: error objects handed out so far die.
                self.transfer_epoch = self.transfer_epoch.wrapping_add(1);
                self.retry_attempt = false;
                if self.slot_set & ERROR_BIT != 0 {
                    // The record goes; its box stays for the next one.
                    self.slot_set &= !ERROR_BIT;
                    return Entered::RecordDropped;
                }
            }
            JobState::Error | JobState::TransientError => {
                // The table gives every entry into an error state its record (a test walks it).
                let entry = t
                    .error()
                    .expect("the table names the record of an error entry");
                return self.record_error(from, t.to(), entry, now);
            }
            JobState::Queued => {
                // D6: the next attempt is a retry only when the retry timer or Resume in
                // TRANSIENT_ERROR started it.
                self.retry_attempt = matches!(t.rule(), Rule::T11 | Rule::T13);
                if matches!(t.rule(), Rule::T2 | Rule::T14) {
                    // §3.3 [INFERRED]: after the application intervenes the no-progress clock starts
                    // afresh.
                    self.set_slot(Slot::NoProgressSince, None);
                }
            }
            JobState::Transferred => {
                self.set_slot(Slot::TransferCompleted, Some(now));
            }
            JobState::Suspended
            | JobState::Connecting
            | JobState::Acknowledged
            | JobState::Cancelled => {}
        }
        Entered::Plain
    }

    /// D1, D6: the record an entry into ERROR / TRANSIENT_ERROR creates.
    #[inline(never)]
    fn record_error(
        &mut self,
        from: JobState,
        to: JobState,
        entry: ErrorEntry,
        now: SimTime,
    ) -> Entered {
        match entry {
            ErrorEntry::New(report) => {
                let inc = transition::error_count_increment(
                    from,
                    self.retry_attempt,
                    report.network_loss,
                );
                self.error_count = self.error_count.saturating_add(inc);
                self.retry_attempt = false;
                self.waiting_for_network = report.network_loss && to == JobState::TransientError;
                let record = report.record(now);
                match &mut self.error {
                    // The box of an earlier record is reused (no allocation).
                    Some(b) => **b = record,
                    None => self.error = Some(Box::new(record)),
                }
                self.slot_set |= ERROR_BIT;
                Entered::Record {
                    context: report.context,
                    code: report.code,
                    file: report.file,
                    error_count: self.error_count,
                }
            }
            // D4: the no-progress timeout moves the job to ERROR keeping the last transient error's
            // context, code and file; the record is created anew.
            ErrorEntry::Renew => {
                self.retry_attempt = false;
                self.waiting_for_network = false;
                match self
                    .error
                    .as_deref_mut()
                    .filter(|_| self.slot_set & ERROR_BIT != 0)
                {
                    Some(rec) => {
                        rec.time = now;
                        Entered::Record {
                            context: rec.context,
                            code: rec.code,
                            file: rec.file,
                            error_count: self.error_count,
                        }
                    }
                    None => Entered::Plain,
                }
            }
        }
    }

    // ------------------------------------------------------------------ reading

    pub fn id(&self) -> JobId {
        self.id
    }
    pub fn owner(&self) -> UserId {
        self.owner
    }
    pub fn job_type(&self) -> JobType {
        self.job_type
    }
    pub fn state(&self) -> JobState {
        self.state
    }
    /// When the job entered its current state.
    pub fn state_since(&self) -> SimTime {
        self.state_since
    }
    pub fn display_name(&self) -> &str {
        &self.names[..self.name_len as usize]
    }
    pub fn description(&self) -> &str {
        &self.names[self.name_len as usize..]
    }
    pub fn priority(&self) -> Priority {
        self.priority
    }
    pub fn notify_flags(&self) -> NotifyFlags {
        self.notify_flags
    }
    pub fn proxy_usage(&self) -> ProxyUsage {
        self.proxy_usage
    }
    /// MinimumRetryDelay in seconds.
    pub fn retry_delay_secs(&self) -> u32 {
        self.retry_delay
    }
    /// NoProgressTimeout in seconds.
    pub fn no_progress_timeout_secs(&self) -> u32 {
        self.no_progress_timeout
    }
    pub fn files(&self) -> &[FileData] {
        &self.files
    }
    /// The error record (D1).
    pub fn error(&self) -> Option<&ErrorRecord> {
        self.error
            .as_deref()
            .filter(|_| self.slot_set & ERROR_BIT != 0)
    }
    pub fn error_count(&self) -> u32 {
        self.error_count
    }
    pub fn times(&self) -> JobTimes {
        JobTimes {
            creation_time: self.created,
            modification_time: self.modified,
            transfer_completion_time: self.timer(Slot::TransferCompleted),
        }
    }
    pub fn transfer_epoch(&self) -> u32 {
        self.transfer_epoch
    }
    /// The TRANSIENT_ERROR is a network loss: no retry timer (D3, T18).
    pub fn waiting_for_network(&self) -> bool {
        self.waiting_for_network
    }
    /// The start of the no-progress clock (D4), if it runs.
    pub fn no_progress_since(&self) -> Option<SimTime> {
        self.timer(Slot::NoProgressSince)
    }

    pub fn retry_delay(&self) -> SimDuration {
        SimDuration::from_secs(u64::from(self.retry_delay))
    }

    pub fn no_progress_timeout(&self) -> SimDuration {
        SimDuration::from_secs(u64::from(self.no_progress_timeout))
    }

    /// The first file not yet fully moved.
    pub fn next_file(&self) -> Option<usize> {
        let start = self.done_prefix as usize;
        debug_assert!(
            start == 0 || self.files[start - 1].is_done(),
            "a file before the done prefix became undone"
        );
        self.files[start..]
            .iter()
            .position(|f| !f.is_done())
            .map(|i| start + i)
    }

    /// Every file fully moved (vacuously true for no files).
    pub fn all_files_done(&self) -> bool {
        self.next_file().is_none()
    }

    /// A finished file is no longer done (T29, D59): lower the done-prefix hint to it.
    pub fn file_unfinished(&mut self, f: usize) {
        self.done_prefix = self.done_prefix.min(u32::try_from(f).unwrap_or(u32::MAX));
    }
    /// A file was fully moved: the done prefix grows past every done file at its end.
    pub fn file_finished(&mut self) {
        let mut p = self.done_prefix as usize;
        while self.files.get(p).is_some_and(FileData::is_done) {
            p += 1;
        }
        self.done_prefix = u32::try_from(p).unwrap_or(u32::MAX);
    }

    // ------------------------------------------------------------------ writing (not the state)

    /// The no-progress clock (D4): when it started, starting it now if it was not running.
    pub fn no_progress_clock(&mut self, now: SimTime) -> SimTime {
        match self.timer(Slot::NoProgressSince) {
            Some(t) => t,
            None => {
                self.set_slot(Slot::NoProgressSince, Some(now));
                now
            }
        }
    }
    /// Bytes moved at `now`: the no-progress clock stops (D4) and ModificationTime moves (§8.2).
    pub fn progressed(&mut self, now: SimTime) {
        self.set_slot(Slot::NoProgressSince, None);
        self.modified = now;
    }
    /// ModificationTime alone (what [`Job::times`] reports as `modification_time`).
    pub fn modified_at(&self) -> SimTime {
        self.modified
    }
    /// ModificationTime (§8.2).
    pub fn touch(&mut self, now: SimTime) {
        self.modified = now;
    }
    pub fn files_mut(&mut self) -> &mut Vec<FileData> {
        &mut self.files
    }
    /// The HTTP settings (defaults when `None`).
    pub fn http(&self) -> Option<&crate::http::HttpSettings> {
        self.http.as_deref()
    }
    /// The HTTP settings to change (boxed on first use); call [`Job::http_settle`] after.
    pub fn http_mut(&mut self) -> &mut crate::http::HttpSettings {
        self.http.get_or_insert_with(Box::default)
    }
    /// Drop the HTTP settings' box when they are back at their defaults.
    pub fn http_settle(&mut self) {
        if self.http.as_deref().is_some_and(|h| h.is_default()) {
            self.http = None;
        }
    }
    pub fn set_proxy_usage(&mut self, usage: ProxyUsage) {
        self.proxy_usage = usage;
    }
    /// TakeOwnership (D9).
    pub fn set_owner(&mut self, owner: UserId) {
        self.owner = owner;
    }
    pub fn set_display_name(&mut self, name: &str) {
        let names = [name, self.description()].concat().into_boxed_str();
        self.name_len = u32::try_from(name.len()).expect("display names are short (D14)");
        self.names = names;
    }
    pub fn set_description(&mut self, text: &str) {
        self.names = [self.display_name(), text].concat().into_boxed_str();
    }
    pub fn set_priority(&mut self, p: Priority) {
        self.priority = p;
    }
    pub fn set_notify_flags(&mut self, flags: NotifyFlags) {
        self.notify_flags = flags;
    }
    pub fn set_retry_delay_secs(&mut self, secs: u32) {
        self.retry_delay = secs;
    }
    pub fn set_no_progress_timeout_secs(&mut self, secs: u32) {
        self.no_progress_timeout = secs;
    }

    /// The Job3/Job4/Job5 data (the defaults when the job holds none).
    pub(crate) fn options(&self) -> &JobOptions {
        static DEFAULT: JobOptions = JobOptions::DEFAULT;
        match &self.options {
            Some(o) => o,
            None => &DEFAULT,
        }
    }
    /// Whether any Job3/Job4/Job5 datum differs from its default (the block exists).
    #[inline]
    pub(crate) fn has_options(&self) -> bool {
        self.options.is_some()
    }
    /// Change the Job3/Job4/Job5 data; the block goes again when everything is back at its default.
    pub(crate) fn edit_options(&mut self, edit: impl FnOnce(&mut JobOptions)) {
        edit(self.options.get_or_insert_with(Box::default));
        if self.options.as_deref() == Some(&JobOptions::DEFAULT) {
            self.options = None;
        }
    }
    /// D33: whether the job has been resumed at least once.
    pub(crate) fn resumed(&self) -> bool {
        self.resumed
    }
    /// D33: a successful Resume.
    pub(crate) fn mark_resumed(&mut self) {
        self.resumed = true;
    }
    /// D33: what a snapshot shows of a resumed job: it left SUSPENDED, or ever moved, failed or
    /// finished. A snapshot saves `resumed` only for a job where this says otherwise.
    pub(crate) fn looks_resumed(&self) -> bool {
        self.state() != JobState::Suspended
            || self.transfer_epoch() > 0
            || self.error_count() > 0
            || self.error().is_some()
            || self.times().transfer_completion_time.is_some()
            || self.files().iter().any(|f| f.bytes_transferred > 0)
    }
    /// The boxed block as a snapshot keeps it.
    pub(crate) fn options_block(&self) -> Option<&JobOptions> {
        self.options.as_deref()
    }
    /// Job5 DYNAMIC_CONTENT: an interrupted file restarts at byte 0 (its one file effect built so
    /// far; the others are read where they act).
    pub fn dynamic_content(&self) -> bool {
        self.options().dynamic_content
    }

    /// Progress, with `live` extra bytes on the file being transferred (§8.2).
    ///
    /// D21: the sums saturate at [`MAX_KNOWN_BYTES`] (one below BG_SIZE_UNKNOWN), so files of 2^63 bytes
    /// and more never wrap (release) or panic (debug), and a known total never reads as unknown. The
    /// file counts saturate at `u32::MAX` (ULONG in BG_JOB_PROGRESS).
    pub fn progress(&self, live: Option<(u32, u64)>) -> JobProgress {
        let mut p = JobProgress {
            files_total: u32::try_from(self.files.len()).unwrap_or(u32::MAX),
            ..JobProgress::default()
        };
        for (i, f) in self.files.iter().enumerate() {
            let bytes = match live {
                Some((file, b)) if file as usize == i => b,
                _ => f.bytes_transferred,
            };
            p.bytes_transferred = saturating_bytes(p.bytes_transferred, bytes);
            if p.bytes_total != BG_SIZE_UNKNOWN {
                p.bytes_total = if f.bytes_total == BG_SIZE_UNKNOWN {
                    BG_SIZE_UNKNOWN
                } else {
                    saturating_bytes(p.bytes_total, f.bytes_total)
                };
            }
            if f.bytes_total != BG_SIZE_UNKNOWN && bytes >= f.bytes_total {
                p.files_transferred = p.files_transferred.saturating_add(1);
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_id_guid_round_trips() {
        let id = JobId(41);
        assert_eq!(id.guid(), "{B175B175-0000-4000-8000-00000000002A}");
        assert_eq!(JobId::from_guid(&id.guid()), Some(id));
        assert_eq!(JobId::from_guid("{nope}"), None);
    }

    #[test]
    fn spec_10_item_1_defaults_of_a_new_job() {
        let j = Job::new(
            JobId(0),
            UserId(0),
            JobType::Download,
            "x".into(),
            SimTime::from_secs(3),
        );
        assert_eq!(j.state(), JobState::Suspended);
        assert_eq!(j.notify_flags().bits(), 0x3);
        assert_eq!(j.priority(), Priority::Normal);
        assert_eq!(j.retry_delay_secs(), 600);
        assert_eq!(j.no_progress_timeout_secs(), 1_209_600);
        assert_eq!(j.proxy_usage(), ProxyUsage::Preconfig);
        assert_eq!(
            j.progress(None),
            JobProgress {
                bytes_total: 0,
                bytes_transferred: 0,
                files_total: 0,
                files_transferred: 0
            }
        );
        assert_eq!(j.error(), None);
        assert_eq!(j.error_count(), 0);
        assert_eq!(j.times().transfer_completion_time, None);
        assert_eq!(j.description(), "");
    }

    /// D67: the packed timers, the boxed error record and the joined names keep a job at 200 bytes
    /// (288 before); an idle job's memory is mostly this (see BENCHMARKS.md).
    #[test]
    fn d67_job_size() {
        assert_eq!(std::mem::size_of::<Job>(), 200);
    }

    /// A file's two names share one block, and its remote's slot fits beside them: 56 bytes per
    /// file (64 with two `Box<str>`s and no slot).
    #[test]
    fn file_names_share_one_block() {
        assert_eq!(std::mem::size_of::<FileData>(), 56);
        let mut f = FileData::new("https://a.test/x.bin", "C:\\x.bin");
        assert_eq!(
            (f.remote(), f.local()),
            ("https://a.test/x.bin", "C:\\x.bin")
        );
        f.set_remote("https://b.test/longer/y.bin");
        assert_eq!(f.remote(), "https://b.test/longer/y.bin");
        assert_eq!(f.local(), "C:\\x.bin");
        assert_eq!(f, FileData::new("https://b.test/longer/y.bin", "C:\\x.bin"));
        assert_ne!(f, FileData::new("https://b.test/longer/y.bin", "C:\\x.bi"));
        assert!(format!("{f:?}").starts_with(
            "FileData { remote: \"https://b.test/longer/y.bin\", local: \"C:\\\\x.bin\", bytes_total: "
        ));
        f.release_names();
        assert_eq!((f.remote(), f.local()), ("", ""));
    }

    /// D67: a slot holds any `u64` including `SimTime::MAX` (D18), apart from "none".
    #[test]
    fn d67_slots_hold_the_end_of_time_and_none_apart() {
        let mut j = Job::new(
            JobId(0),
            UserId(0),
            JobType::Download,
            "n".into(),
            SimTime::ZERO,
        );
        for slot in [
            Slot::Retry,
            Slot::Deadline,
            Slot::DeadlineQueued,
            Slot::Slice,
        ] {
            assert_eq!(j.timer(slot), None);
            assert_eq!(j.set_slot(slot, Some(SimTime::MAX)), None);
            assert_eq!(j.timer(slot), Some(SimTime::MAX));
            assert_eq!(j.set_slot(slot, Some(SimTime::ZERO)), Some(SimTime::MAX));
            assert_eq!(j.timer(slot), Some(SimTime::ZERO));
        }
        assert_eq!(j.set_ready_key(Some(u64::MAX)), None);
        assert_eq!(j.ready_key(), Some(u64::MAX));
        // Each slot is its own: clearing one leaves the others.
        assert_eq!(j.set_slot(Slot::Deadline, None), Some(SimTime::ZERO));
        assert_eq!(j.timer(Slot::Deadline), None);
        assert_eq!(j.timer(Slot::Retry), Some(SimTime::ZERO));
        assert_eq!(j.timer(Slot::TransferCompleted), None);
        assert_eq!(
            j.no_progress_clock(SimTime::from_secs(7)),
            SimTime::from_secs(7)
        );
        assert_eq!(
            j.no_progress_clock(SimTime::from_secs(9)),
            SimTime::from_secs(7)
        );
        j.progressed(SimTime::from_secs(10));
        assert_eq!(j.no_progress_since(), None);
        assert_eq!(j.ready_key(), Some(u64::MAX));
    }

    #[test]
    fn joined_names_read_and_write_apart() {
        let mut j = Job::new(
            JobId(0),
            UserId(0),
            JobType::Download,
            "name".into(),
            SimTime::ZERO,
        );
        assert_eq!((j.display_name(), j.description()), ("name", ""));
        j.set_description("désc");
        assert_eq!((j.display_name(), j.description()), ("name", "désc"));
        j.set_display_name("ñ");
        assert_eq!((j.display_name(), j.description()), ("ñ", "désc"));
        j.set_description("");
        assert_eq!((j.display_name(), j.description()), ("ñ", ""));
    }

    #[test]
    fn progress_is_unknown_until_every_size_is_known() {
        let mut j = Job::new(
            JobId(0),
            UserId(0),
            JobType::Download,
            "x".into(),
            SimTime::ZERO,
        );
        j.files_mut().push(FileData::new("http://a/1", "C:\\1"));
        j.files_mut().push(FileData::new("http://a/2", "C:\\2"));
        assert_eq!(j.progress(None).bytes_total, BG_SIZE_UNKNOWN);
        j.files_mut()[0].bytes_total = 10;
        j.files_mut()[0].bytes_transferred = 10;
        assert_eq!(j.progress(None).bytes_total, BG_SIZE_UNKNOWN);
        assert_eq!(j.progress(None).files_transferred, 1);
        j.files_mut()[1].bytes_total = 5;
        assert_eq!(
            j.progress(Some((1, 3))),
            JobProgress {
                bytes_total: 15,
                bytes_transferred: 13,
                files_total: 2,
                files_transferred: 1
            }
        );
    }

    #[test]
    fn protocol_of_remote_names() {
        assert_eq!(Protocol::of("https://x/y"), Protocol::Http);
        assert_eq!(Protocol::of("HTTP://x/y"), Protocol::Http);
        assert_eq!(Protocol::of("\\\\server\\share\\f"), Protocol::File);
    }
}
