//! The event trace: every state change, error-record creation and removal, retry, timeout, connection
//! attempt, notification and environment change, each with its virtual time.
//!
//! Records are small `Copy` values (no allocation per record), so tracing stays on by default; turn it
//! off with `Service::set_tracing(false)` when only the end state matters (long benches). The same
//! inputs give the same trace, byte for byte.

use crate::hresult::HResult;
use crate::job::{AppId, JobId, UserId};
use crate::notify::NotifyEvent;
use crate::state::{ErrorContext, JobState};
use crate::time::SimTime;
use crate::transition::{EventKind, Rule};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One thing that happened.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum TraceKind {
    /// A job was created (T1).
    Created {
        /// The job.
        job: JobId,
    },
    /// A job changed state (or a rule kept it in place, for Resume/Suspend no-ops it is not recorded).
    State {
        /// The job.
        job: JobId,
        /// From.
        from: JobState,
        /// To.
        to: JobState,
        /// The spec row.
        rule: Rule,
    },
    /// An error record was created (D1).
    ErrorRecord {
        /// The job.
        job: JobId,
        /// Its context.
        context: ErrorContext,
        /// Its code.
        code: HResult,
        /// The file index.
        file: Option<u32>,
        /// The error count after this error (D6).
        error_count: u32,
    },
    /// T22: the service cancelled the job after JobInactivityTimeout without activity (its
    /// `scenario-format.md` record `scavenged`).
    Scavenged {
        /// The job.
        job: JobId,
    },
    /// The error record was dropped because the job entered TRANSFERRING (D1).
    ErrorRecordDropped {
        /// The job.
        job: JobId,
    },
    /// A retry was armed for `at` (D3).
    RetryArmed {
        /// The job.
        job: JobId,
        /// When it fires.
        at: SimTime,
    },
    /// The no-progress deadline is `at` (D4).
    DeadlineArmed {
        /// The job.
        job: JobId,
        /// When it falls due.
        at: SimTime,
    },
    /// A connection attempt to a file's remote and what it met.
    Attempt {
        /// The job.
        job: JobId,
        /// File index.
        file: u32,
        /// S_OK, or the fault's code (the attempt failed at connection).
        result: HResult,
        /// The attempt stopped at an HTTP gate before the remote's script (scenario-format part 2,
        /// the per-attempt gate order): the proxy (invalid, not running, or its credentials), the
        /// server certificate, the client certificate, the server's credentials or a required
        /// header. No scripted answer (and no chaos fault) was used.
        gate: bool,
    },
    /// A connection attempt that connected, with a failure scripted after some bytes.
    AttemptCut {
        /// The job.
        job: JobId,
        /// File index.
        file: u32,
        /// The code the attempt will fail with.
        result: HResult,
        /// The failure comes after this many bytes of the attempt.
        after_bytes: u64,
    },
    /// A file finished.
    FileDone {
        /// The job.
        job: JobId,
        /// File index.
        file: u32,
        /// Its size.
        bytes: u64,
    },
    /// A callback was called (D11).
    Notified {
        /// The application whose callback it is.
        app: AppId,
        /// The job.
        job: JobId,
        /// Which method.
        event: NotifyEvent,
        /// For FileTransferred: the file's index (D60, D81).
        file: Option<u32>,
        /// What it answered.
        result: HResult,
    },
    /// The network went up or down.
    Network {
        /// Up after the change.
        up: bool,
    },
    /// A user logged on or off.
    Logon {
        /// Who.
        user: UserId,
        /// Logged on after the change.
        on: bool,
    },
    /// An application connected.
    AppConnected {
        /// Which.
        app: AppId,
        /// As whom.
        user: UserId,
    },
    /// An application exited: its handles and registrations died (D2).
    AppExited {
        /// Which.
        app: AppId,
    },
    /// The job changed owner (TakeOwnership).
    OwnerChanged {
        /// The job.
        job: JobId,
        /// The new owner.
        user: UserId,
    },
    /// The service restarted (D15).
    ServiceRestarted,
    /// A broken invariant: the engine sent an event the transition table does not take in the job's
    /// state. Never part of a correct run (debug builds assert instead).
    EventRefused {
        /// The job.
        job: JobId,
        /// Its state.
        state: JobState,
        /// The event.
        event: EventKind,
    },
    /// A remote's behaviour was changed by the test.
    RemoteChanged,
    /// The world injects seeded random faults: the seed that replays the run.
    ChaosSeed {
        /// The seed.
        seed: u64,
        /// Faults per million connection attempts.
        rate_ppm: u32,
    },
    /// A clock method stopped at its bound of events per call, before its target (the clock stays at
    /// this record's time; see "Step bounds" in the crate docs).
    StepLimit {
        /// Events processed by the call.
        steps: u64,
    },
    /// A clock method was called from inside a callback and refused: the clock did not move (D19).
    ClockInCallback,
    /// A partly transferred file restarted at byte 0 (D38, D39).
    Restarted {
        /// The job.
        job: JobId,
        /// File index.
        file: u32,
        /// Why.
        reason: RestartReason,
    },
    /// An upload-reply job's server application answered, or its reply started or finished (§7,
    /// D71).
    Reply {
        /// The job.
        job: JobId,
        /// What happened.
        event: ReplyEvent,
    },
    /// A local file changed (`set_local`).
    LocalChanged,
    /// A file's temporary file in the sandbox was created, renamed, truncated or deleted (D40).
    TempFile {
        /// The job.
        job: JobId,
        /// File index.
        file: u32,
        /// What happened to it.
        action: TempAction,
    },
    /// Complete could not rename file `file`'s temporary file to its local name: it returned `code`
    /// and the job stayed in the queue (T17b, D97; its `scenario-format.md` record `rename_failed`).
    RenameFailed {
        /// The job.
        job: JobId,
        /// File index.
        file: u32,
        /// What Complete returned.
        code: HResult,
    },
    /// An attempt went through a proxy (`bypassed` false), or bypassed the job's proxy (D27).
    Proxy {
        /// The job.
        job: JobId,
        /// File index.
        file: u32,
        /// The proxy's name (`host:port`).
        proxy: TraceText,
        /// The URL's host matched a bypass entry: the request went direct.
        bypassed: bool,
    },
    /// A 401 or 407 was answered, and which credentials the request that answered it sent (D27).
    Challenged {
        /// The job.
        job: JobId,
        /// File index.
        file: u32,
        /// 401 (server) or 407 (proxy).
        status: u16,
        /// The credentials sent in answer (`None`: none matched, the attempt fails).
        sent: Option<(crate::AuthTarget, crate::AuthScheme)>,
    },
    /// An attempt was redirected (D30).
    Redirected {
        /// The job.
        job: JobId,
        /// File index.
        file: u32,
        /// The 3xx status.
        status: u16,
        /// The URL that answered with the redirect.
        from: TraceText,
        /// Where it points.
        to: TraceText,
        /// What the job did: followed (ALLOW_SILENT), reported (ALLOW_REPORT) or refused.
        outcome: RedirectOutcome,
    },
    /// A file's remote name changed: redirect policy ALLOW_REPORT or DISALLOW (D30), or
    /// ReplaceRemotePrefix (§2.4, D37).
    RemoteNameChanged {
        /// The job.
        job: JobId,
        /// File index.
        file: u32,
        /// The new remote name.
        to: TraceText,
    },
    /// The network's cost changed (`network_cost`, D53).
    NetworkCost {
        /// The BITS_COST_STATE bits after the change.
        cost: u32,
    },
    /// The network's cost blocks the job: it waits in TRANSIENT_ERROR (T21a, D53).
    CostBlocked {
        /// The job.
        job: JobId,
        /// The network's cost.
        cost: u32,
        /// The job's cost flags.
        flags: u32,
    },
    /// The job no longer waits for the network's cost (T21b, D53).
    CostCleared {
        /// The job.
        job: JobId,
    },
    /// Group Policy started or stopped blocking background transfers (`group_policy`, T21, D99).
    GroupPolicy {
        /// Whether background transfers are blocked now.
        block_background: bool,
    },
    /// Group Policy blocks the job: it waits in TRANSIENT_ERROR (T21, D99).
    PolicyBlocked {
        /// The job.
        job: JobId,
    },
    /// The job no longer waits for Group Policy (T21, D99).
    PolicyCleared {
        /// The job.
        job: JobId,
    },
    /// The job used up its maximum download time and went to ERROR (T23, D55).
    MaxDownloadTime {
        /// The job.
        job: JobId,
        /// Its MaxDownloadTime in seconds.
        seconds: u32,
    },
    /// A command line ran, or failed to start, for a notification (§5.4, D50, D51).
    Launched {
        /// The job.
        job: JobId,
        /// JOB_TRANSFERRED or JOB_ERROR.
        event: NotifyEvent,
        /// The program.
        program: TraceText,
        /// The parameters ("" when `has_parameters` is false: NULL).
        parameters: TraceText,
        /// Whether the parameters were given (not NULL).
        has_parameters: bool,
        /// S_OK, or why the launch failed.
        result: HResult,
        /// The exit code (when `result` is S_OK).
        exit_code: u32,
    },
    /// Activating a job's NOTIFICATION_CLSID failed: the class is not in the world's `com_servers`
    /// (§5.2, D52).
    ActivationFailed {
        /// The job.
        job: JobId,
        /// The CLSID, braced.
        clsid: TraceText,
        /// REGDB_E_CLASSNOTREG.
        result: HResult,
    },
}

/// Why a file restarted at byte 0.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, Serialize, Deserialize)]
pub enum RestartReason {
    /// The server ignores Range requests, so a resumed file starts over (D39).
    NoRangeSupport,
    /// The remote's size or Last-Modified time changed (D38).
    RemoteChanged,
    /// The job downloads dynamic content (Job5 DYNAMIC_CONTENT).
    DynamicContent,
    /// The application rejected the content (File3 SetValidationState FALSE).
    Validation,
}

impl fmt::Display for RestartReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RestartReason::NoRangeSupport => "no range support",
            RestartReason::RemoteChanged => "remote changed",
            RestartReason::DynamicContent => "dynamic content",
            RestartReason::Validation => "validation",
        })
    }
}

/// What a `reply` trace record tells (§7, D71).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, Serialize, Deserialize)]
pub enum ReplyEvent {
    /// The server application answered the upload: `None` ok, else this HTTP status.
    App(Option<u16>),
    /// The reply download started (its length).
    Started(u64),
    /// The reply download finished (its length).
    Finished(u64),
}

impl fmt::Display for ReplyEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyEvent::App(None) => f.write_str("server application answered ok"),
            ReplyEvent::App(Some(s)) => write!(f, "server application answered HTTP {s}"),
            ReplyEvent::Started(n) => write!(f, "reply started ({n} bytes)"),
            ReplyEvent::Finished(n) => write!(f, "reply finished ({n} bytes)"),
        }
    }
}

/// What a job did with a redirect (SetSecurityFlags' redirect policy, D30).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum RedirectOutcome {
    /// Followed without telling (ALLOW_SILENT).
    Followed,
    /// Followed; the remote name becomes the final URL (ALLOW_REPORT).
    Reported,
    /// Not followed (DISALLOW, HTTPS to HTTP without ALLOW_HTTPS_TO_HTTP, or more than 10 hops).
    Refused,
}

impl fmt::Display for RedirectOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RedirectOutcome::Followed => "followed",
            RedirectOutcome::Reported => "reported",
            RedirectOutcome::Refused => "refused",
        })
    }
}

/// What happened to a temporary file (sandbox).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, Serialize, Deserialize)]
pub enum TempAction {
    /// Created at its first transferred byte.
    Created,
    /// Renamed to the file's local name by Complete.
    Renamed,
    /// Emptied (the file restarted at 0).
    Truncated,
    /// Deleted (Cancel, Complete of a partial file).
    Deleted,
}

impl fmt::Display for TempAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TempAction::Created => "created",
            TempAction::Renamed => "renamed to its local name",
            TempAction::Truncated => "truncated",
            TempAction::Deleted => "deleted",
        })
    }
}

/// A string in a trace record (a URL, a proxy name), kept `Copy` like the records: each distinct
/// text is stored once for the life of the process (texts come from worlds and job settings, so
/// there are few of them).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceText(u32);

/// The texts of [`TraceText`]: each distinct one once, by number, and the numbers by text.
fn trace_texts() -> std::sync::MutexGuard<
    'static,
    (
        Vec<&'static str>,
        std::collections::BTreeMap<&'static str, u32>,
    ),
> {
    use std::sync::{Mutex, OnceLock};
    type Texts = (
        Vec<&'static str>,
        std::collections::BTreeMap<&'static str, u32>,
    );
    static TEXTS: OnceLock<Mutex<Texts>> = OnceLock::new();
    TEXTS
        .get_or_init(|| Mutex::new((Vec::new(), std::collections::BTreeMap::new())))
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl TraceText {
    /// The text for `s` (stored on first use).
    pub fn new(s: &str) -> TraceText {
        let mut t = trace_texts();
        if let Some(&n) = t.1.get(s) {
            return TraceText(n);
        }
        let text: &'static str = Box::leak(s.to_string().into_boxed_str());
        let n = u32::try_from(t.0.len()).unwrap_or(u32::MAX);
        t.0.push(text);
        t.1.insert(text, n);
        TraceText(n)
    }

    /// The text.
    pub fn as_str(self) -> &'static str {
        trace_texts().0.get(self.0 as usize).copied().unwrap_or("")
    }
}

impl fmt::Debug for TraceText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for TraceText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TraceText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TraceText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(TraceText::new(&s))
    }
}

/// A trace record: when and what.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TraceEvent {
    /// Virtual time.
    pub time: SimTime,
    /// What.
    pub kind: TraceKind,
}

impl TraceEvent {
    /// The job the record is about, if any.
    pub fn job(&self) -> Option<JobId> {
        match self.kind {
            TraceKind::Created { job }
            | TraceKind::State { job, .. }
            | TraceKind::ErrorRecord { job, .. }
            | TraceKind::ErrorRecordDropped { job }
            | TraceKind::RetryArmed { job, .. }
            | TraceKind::DeadlineArmed { job, .. }
            | TraceKind::Attempt { job, .. }
            | TraceKind::AttemptCut { job, .. }
            | TraceKind::FileDone { job, .. }
            | TraceKind::Restarted { job, .. }
            | TraceKind::Reply { job, .. }
            | TraceKind::TempFile { job, .. }
            | TraceKind::RenameFailed { job, .. }
            | TraceKind::Notified { job, .. }
            | TraceKind::OwnerChanged { job, .. }
            | TraceKind::EventRefused { job, .. }
            | TraceKind::Scavenged { job }
            | TraceKind::Proxy { job, .. }
            | TraceKind::Challenged { job, .. }
            | TraceKind::Redirected { job, .. }
            | TraceKind::RemoteNameChanged { job, .. }
            | TraceKind::CostBlocked { job, .. }
            | TraceKind::CostCleared { job }
            | TraceKind::PolicyBlocked { job }
            | TraceKind::PolicyCleared { job }
            | TraceKind::MaxDownloadTime { job, .. }
            | TraceKind::Launched { job, .. }
            | TraceKind::ActivationFailed { job, .. } => Some(job),
            TraceKind::NetworkCost { .. }
            | TraceKind::GroupPolicy { .. }
            | TraceKind::Network { .. }
            | TraceKind::Logon { .. }
            | TraceKind::AppConnected { .. }
            | TraceKind::AppExited { .. }
            | TraceKind::ServiceRestarted
            | TraceKind::RemoteChanged
            | TraceKind::LocalChanged
            | TraceKind::ChaosSeed { .. }
            | TraceKind::StepLimit { .. }
            | TraceKind::ClockInCallback => None,
        }
    }

    /// Render with custom names for jobs, users and applications (the scenario runner uses aliases).
    pub fn render(
        &self,
        job: &dyn Fn(JobId) -> String,
        user: &dyn Fn(UserId) -> String,
        app: &dyn Fn(AppId) -> String,
    ) -> String {
        let t = self.time;
        match self.kind {
            TraceKind::Created { job: j } => format!("{t} {} created SUSPENDED (T1)", job(j)),
            TraceKind::State {
                job: j,
                from,
                to,
                rule,
            } => format!("{t} {} {from} -> {to} ({rule})", job(j)),
            TraceKind::ErrorRecord {
                job: j,
                context,
                code,
                file,
                error_count,
            } => {
                let file = file.map_or("-".to_string(), |f| f.to_string());
                format!(
                    "{t} {} error record created: {code} context {context} file {file} (error count {error_count}) (D1)",
                    job(j)
                )
            }
            TraceKind::ErrorRecordDropped { job: j } => {
                format!("{t} {} error record dropped (D1)", job(j))
            }
            TraceKind::Scavenged { job: j } => {
                format!(
                    "{t} {} scavenged: no activity for the inactivity timeout (T22)",
                    job(j)
                )
            }
            TraceKind::RetryArmed { job: j, at } => {
                format!("{t} {} retry armed for {at} (D3)", job(j))
            }
            TraceKind::DeadlineArmed { job: j, at } => {
                format!("{t} {} no-progress deadline {at} (D4)", job(j))
            }
            TraceKind::Attempt {
                job: j,
                file,
                result,
                ..
            } if result == HResult::S_OK => {
                format!("{t} {} file {file} connect: ok", job(j))
            }
            TraceKind::Attempt {
                job: j,
                file,
                result,
                gate: false,
            } => {
                format!("{t} {} file {file} connect: {result}", job(j))
            }
            TraceKind::Attempt {
                job: j,
                file,
                result,
                gate: true,
            } => {
                format!("{t} {} file {file} connect: {result} at a gate", job(j))
            }
            TraceKind::AttemptCut {
                job: j,
                file,
                result,
                after_bytes,
            } => format!(
                "{t} {} file {file} connect: ok, then {result} after {after_bytes} bytes",
                job(j)
            ),
            TraceKind::FileDone {
                job: j,
                file,
                bytes,
            } => format!("{t} {} file {file} done ({bytes} bytes)", job(j)),
            TraceKind::Restarted {
                job: j,
                file,
                reason,
            } => format!("{t} {} restarted file {file} at byte 0: {reason}", job(j)),
            TraceKind::TempFile {
                job: j,
                file,
                action,
            } if file == crate::reply::REPLY_SLOT => {
                format!("{t} {} temp_file of the reply {action} (D80)", job(j))
            }
            TraceKind::TempFile {
                job: j,
                file,
                action,
            } => format!("{t} {} temp_file of file {file} {action}", job(j)),
            TraceKind::RenameFailed {
                job: j,
                file,
                code,
            } => format!(
                "{t} {} rename_failed: file {file} not renamed to its local name: {code} (T17b)",
                job(j)
            ),
            TraceKind::Reply { job: j, event } => format!("{t} {} reply: {event} (D71)", job(j)),
            TraceKind::Notified {
                app: a,
                job: j,
                event,
                file: Some(f),
                result,
            } => {
                format!(
                    "{t} {} notified {event} of file {f} for {} -> {result} (D60)",
                    app(a),
                    job(j)
                )
            }
            TraceKind::Notified {
                app: a,
                job: j,
                event,
                file: None,
                result,
            } => {
                format!(
                    "{t} {} notified {event} for {} -> {result} (D11)",
                    app(a),
                    job(j)
                )
            }
            TraceKind::Network { up } => {
                format!("{t} network {}", if up { "up (T19)" } else { "down (T18)" })
            }
            TraceKind::Logon { user: u, on } => {
                format!(
                    "{t} user {} {} (D10)",
                    user(u),
                    if on { "logged on" } else { "logged off" }
                )
            }
            TraceKind::AppConnected { app: a, user: u } => {
                format!("{t} {} connected as {}", app(a), user(u))
            }
            TraceKind::AppExited { app: a } => format!("{t} {} exited (D2)", app(a)),
            TraceKind::OwnerChanged { job: j, user: u } => {
                format!("{t} {} now owned by {}", job(j), user(u))
            }
            TraceKind::ServiceRestarted => format!("{t} service restarted (D15)"),
            TraceKind::EventRefused {
                job: j,
                state,
                event,
            } => format!(
                "{t} {} BUG: the table refuses the engine event \"{}\" in {state}",
                job(j),
                event.name()
            ),
            TraceKind::RemoteChanged => format!("{t} remote changed"),
            TraceKind::LocalChanged => format!("{t} local_changed"),
            TraceKind::ChaosSeed { seed, rate_ppm } => {
                format!("{t} chaos: seed {seed}, {rate_ppm} faults per million attempts")
            }
            TraceKind::StepLimit { steps } => {
                format!("{t} clock stopped: bound of {steps} events per call reached")
            }
            TraceKind::ClockInCallback => {
                format!("{t} clock method refused: called from inside a callback (D19)")
            }
            TraceKind::Proxy {
                job: j,
                file,
                proxy,
                bypassed,
            } => {
                if bypassed {
                    format!("{t} {} file {file} proxy: {proxy} bypassed (D27)", job(j))
                } else {
                    format!("{t} {} file {file} proxy: through {proxy} (D27)", job(j))
                }
            }
            TraceKind::Challenged {
                job: j,
                file,
                status,
                sent,
            } => match sent {
                Some((target, scheme)) => format!(
                    "{t} {} file {file} challenged: {status}, sent {} {} credentials (D27)",
                    job(j),
                    target.name(),
                    scheme.name()
                ),
                None => format!(
                    "{t} {} file {file} challenged: {status}, no credentials to send (D27)",
                    job(j)
                ),
            },
            TraceKind::Redirected {
                job: j,
                file,
                status,
                from,
                to,
                outcome,
            } => format!(
                "{t} {} file {file} redirected: {status} {from} -> {to} {outcome} (D30)",
                job(j)
            ),
            TraceKind::RemoteNameChanged { job: j, file, to } => {
                format!("{t} {} file {file} remote_name_changed: {to}", job(j))
            }
            TraceKind::NetworkCost { cost } => {
                format!("{t} network_cost {} (D53)", crate::world::cost_state_names(cost))
            }
            TraceKind::CostBlocked {
                job: j,
                cost,
                flags,
            } => format!(
                "{t} {} cost_blocked: network cost {} not allowed by cost flags {flags:#010x} (T21a)",
                job(j),
                crate::world::cost_state_names(cost)
            ),
            TraceKind::CostCleared { job: j } => format!("{t} {} cost_cleared (T21b)", job(j)),
            TraceKind::GroupPolicy { block_background } => format!(
                "{t} group_policy: background transfers {} (D99)",
                if block_background { "blocked" } else { "allowed" }
            ),
            TraceKind::PolicyBlocked { job: j } => format!(
                "{t} {} policy_blocked: group policy blocks background transfers (T21)",
                job(j)
            ),
            TraceKind::PolicyCleared { job: j } => format!("{t} {} policy_cleared (T21)", job(j)),
            TraceKind::MaxDownloadTime { job: j, seconds } => format!(
                "{t} {} max_download_time: {seconds} s in CONNECTING and TRANSFERRING (T23)",
                job(j)
            ),
            TraceKind::Launched {
                job: j,
                event,
                program,
                parameters,
                has_parameters,
                result,
                exit_code,
            } => {
                let params = if has_parameters {
                    serde_json::to_string(parameters.as_str()).unwrap_or_default()
                } else {
                    "NULL".to_string()
                };
                let outcome = if result == HResult::S_OK {
                    format!("exit code {exit_code}")
                } else {
                    format!("not started: {result}")
                };
                format!(
                    "{t} {} launched for {event}: {} {params}, {outcome} (§5.4)",
                    job(j),
                    serde_json::to_string(program.as_str()).unwrap_or_default()
                )
            }
            TraceKind::ActivationFailed {
                job: j,
                clsid,
                result,
            } => format!(
                "{t} {} activation of {clsid} failed: {result} (D52)",
                job(j)
            ),
        }
    }
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.render(
            &|j| format!("job#{}", j.0),
            &|u| format!("user#{}", u.0),
            &|a| format!("app#{}", a.0),
        );
        f.write_str(&s)
    }
}

/// The recorded trace: every [`TraceEvent`] in the order it happened (32 bytes a record). The
/// trace's block (up to 64 MiB) is kept for the next trace when it is dropped (D88).
///
/// A compact byte encoding (5–22 bytes a record) was measured and dropped: it saved memory on very
/// long runs but cost about ten times the instructions per record, which made every ordinary run
/// slower (see BENCHMARKS.md). The type keeps the iteration-based API so the storage can change
/// without breaking callers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    events: Vec<TraceEvent>,
}

impl Trace {
    /// An empty trace.
    pub fn new() -> Trace {
        Trace::default()
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// No records.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Bytes the records occupy.
    pub fn encoded_bytes(&self) -> usize {
        self.events.len() * std::mem::size_of::<TraceEvent>()
    }

    /// Forget every record.
    pub fn clear(&mut self) {
        self.events.clear();
    }

    /// Append a record.
    #[inline]
    pub fn push(&mut self, e: TraceEvent) {
        if self.events.len() == self.events.capacity() {
            self.grow();
        }
        self.events.push(e);
    }

    /// Room for one more record. The first record of a trace takes D88's spare block when one is
    /// kept (nothing to copy); after that the trace grows by D68's step (double while small, then
    /// a sixteenth).
    #[cold]
    fn grow(&mut self) {
        if self.events.capacity() == 0 {
            if let Some(spare) = SPARE.take() {
                self.events = spare;
                return;
            }
        }
        crate::growth::reserve_one(&mut self.events);
    }

    /// Every record, in order.
    pub fn iter(&self) -> TraceIter<'_> {
        self.iter_from(0)
    }

    /// The records from index `start` on.
    pub fn iter_from(&self, start: usize) -> TraceIter<'_> {
        TraceIter {
            inner: self.events.get(start..).unwrap_or(&[]).iter(),
        }
    }

    /// The records with indices in `range` (clamped to the trace).
    pub fn range(&self, range: std::ops::Range<usize>) -> std::iter::Take<TraceIter<'_>> {
        self.iter_from(range.start)
            .take(range.end.saturating_sub(range.start))
    }

    /// Record `i`.
    pub fn get(&self, i: usize) -> Option<TraceEvent> {
        self.events.get(i).copied()
    }

    /// The last record.
    pub fn last(&self) -> Option<TraceEvent> {
        self.events.last().copied()
    }

    /// The records as a slice.
    pub fn as_slice(&self) -> &[TraceEvent] {
        &self.events
    }

    /// Every record, copied.
    pub fn to_vec(&self) -> Vec<TraceEvent> {
        self.events.clone()
    }

    /// Take the records out, leaving the trace empty.
    pub fn take(&mut self) -> Vec<TraceEvent> {
        std::mem::take(&mut self.events)
    }
}

/// D88: the block of the last trace dropped.
static SPARE: crate::growth::Spare<TraceEvent> = crate::growth::Spare::new();

impl Drop for Trace {
    /// D88: a trace's block (any size up to 64 MiB) is kept for the next trace.
    fn drop(&mut self) {
        SPARE.keep_from(&mut self.events, 0);
    }
}

impl<'a> IntoIterator for &'a Trace {
    type Item = TraceEvent;
    type IntoIter = TraceIter<'a>;
    fn into_iter(self) -> TraceIter<'a> {
        self.iter()
    }
}

/// Iterates a [`Trace`]'s records in order.
#[derive(Clone, Debug)]
pub struct TraceIter<'a> {
    inner: std::slice::Iter<'a, TraceEvent>,
}

impl Iterator for TraceIter<'_> {
    type Item = TraceEvent;
    fn next(&mut self) -> Option<TraceEvent> {
        self.inner.next().copied()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for TraceIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transition::Rule;

    fn every_kind() -> Vec<TraceKind> {
        let (job, app, user) = (JobId(70_000), AppId(3), UserId(2));
        vec![
            TraceKind::Created { job },
            TraceKind::State {
                job,
                from: JobState::Queued,
                to: JobState::Connecting,
                rule: Rule::T4,
            },
            TraceKind::State {
                job,
                from: JobState::Transferred,
                to: JobState::Suspended,
                rule: Rule::Unchanged,
            },
            TraceKind::ErrorRecord {
                job,
                context: ErrorContext::RemoteFile,
                code: HResult::http(503),
                file: Some(0),
                error_count: 2015,
            },
            TraceKind::ErrorRecord {
                job,
                context: ErrorContext::GeneralTransport,
                code: HResult::BG_E_NETWORK_DISCONNECTED,
                file: None,
                error_count: 0,
            },
            TraceKind::ErrorRecordDropped { job },
            TraceKind::Scavenged { job },
            TraceKind::RetryArmed {
                job,
                at: SimTime::from_secs(600),
            },
            TraceKind::DeadlineArmed {
                job,
                at: SimTime::from_millis(3),
            },
            TraceKind::Attempt {
                job,
                file: 1,
                result: HResult::S_OK,
                gate: false,
            },
            TraceKind::Attempt {
                job,
                file: 1,
                result: HResult::http(403),
                gate: true,
            },
            TraceKind::AttemptCut {
                job,
                file: 4,
                result: HResult::from_win32(12030),
                after_bytes: u64::MAX,
            },
            TraceKind::FileDone {
                job,
                file: 0,
                bytes: 1 << 40,
            },
            TraceKind::Notified {
                app,
                job,
                event: NotifyEvent::JobModification,
                file: None,
                result: HResult::E_FAIL,
            },
            TraceKind::Notified {
                app,
                job,
                event: NotifyEvent::JobError,
                file: None,
                result: HResult::S_OK,
            },
            TraceKind::Network { up: false },
            TraceKind::Logon { user, on: true },
            TraceKind::AppConnected { app, user },
            TraceKind::AppExited { app },
            TraceKind::OwnerChanged { job, user },
            TraceKind::ServiceRestarted,
            TraceKind::EventRefused {
                job,
                state: JobState::Suspended,
                event: crate::transition::EventKind::RetryTimer,
            },
            TraceKind::RemoteChanged,
            TraceKind::ChaosSeed {
                seed: u64::MAX,
                rate_ppm: 1_000_000,
            },
            TraceKind::StepLimit { steps: u64::MAX },
            TraceKind::ClockInCallback,
            TraceKind::Proxy {
                job,
                file: 0,
                proxy: TraceText::new("proxy.test:8080"),
                bypassed: true,
            },
            TraceKind::Challenged {
                job,
                file: 0,
                status: 407,
                sent: Some((crate::AuthTarget::Proxy, crate::AuthScheme::Ntlm)),
            },
            TraceKind::Redirected {
                job,
                file: 0,
                status: 301,
                from: TraceText::new("https://a.test/"),
                to: TraceText::new("https://b.test/"),
                outcome: RedirectOutcome::Reported,
            },
            TraceKind::RemoteNameChanged {
                job,
                file: 0,
                to: TraceText::new("https://b.test/"),
            },
            TraceKind::NetworkCost { cost: 0xC0 },
            TraceKind::CostBlocked {
                job,
                cost: 0x40,
                flags: 0x8000_0067,
            },
            TraceKind::CostCleared { job },
            TraceKind::GroupPolicy {
                block_background: true,
            },
            TraceKind::PolicyBlocked { job },
            TraceKind::PolicyCleared { job },
            TraceKind::MaxDownloadTime { job, seconds: 10 },
        ]
    }

    #[test]
    fn every_record_reads_back_as_recorded_from_any_start() {
        let mut trace = Trace::new();
        let mut expected = Vec::new();
        // Times go forwards, stand still, and (after a snapshot load) may even go back.
        let times = [0u64, 0, 5, 600_000, 600_000, 1_209_600_000, 7, u64::MAX / 2];
        for i in 0..300 {
            let kinds = every_kind();
            let e = TraceEvent {
                time: SimTime::from_millis(times[i % times.len()]),
                kind: kinds[i % kinds.len()],
            };
            trace.push(e);
            expected.push(e);
        }
        assert_eq!(trace.len(), 300);
        assert_eq!(trace.to_vec(), expected);
        for start in [0, 1, 63, 64, 65, 128, 299, 300, 1000] {
            let got: Vec<TraceEvent> = trace.iter_from(start).collect();
            assert_eq!(got, expected[start.min(300)..], "from {start}");
        }
        assert_eq!(trace.range(10..20).collect::<Vec<_>>(), expected[10..20]);
        assert_eq!(trace.last(), expected.last().copied());
        assert_eq!(
            trace.encoded_bytes(),
            300 * std::mem::size_of::<TraceEvent>()
        );
        trace.clear();
        assert!(trace.is_empty() && trace.iter().next().is_none());
    }

    #[test]
    fn d88_a_trace_after_a_dropped_long_one_holds_only_its_own_records() {
        let kinds = every_kind();
        let record = |i: usize| TraceEvent {
            time: SimTime::from_millis(i as u64),
            kind: kinds[i % kinds.len()],
        };
        // Long enough for its block to be kept (over 256 KiB); other tests' traces may take the
        // kept block in between, so this checks the contents either way.
        for round in 0..3 {
            let mut long = Trace::new();
            for i in 0..10_000 {
                long.push(record(i + round));
            }
            assert!(long.encoded_bytes() >= crate::growth::STEP_FROM_BYTES);
            drop(long);
            let mut next = Trace::new();
            assert!(next.is_empty());
            for i in 0..5 {
                next.push(record(i));
            }
            assert_eq!(next.len(), 5);
            assert_eq!(next.to_vec(), (0..5).map(record).collect::<Vec<_>>());
            assert_eq!(next.last(), Some(record(4)));
        }
    }
}
