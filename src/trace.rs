//! The event trace: every state change, error-record creation and removal, retry, timeout, connection
//! attempt, notification and environment change, each with its virtual time.
//!
//! Records are small `Copy` values (no allocation per record), so tracing stays on by default; turn it
//! off with `Service::set_tracing(false)` when only the end state matters (long benches). The same
//! inputs give the same trace, byte for byte.

use crate::transition::Rule;
use crate::{AppId, ErrorContext, HResult, JobId, JobState, NotifyEvent, SimTime, UserId};
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
        /// S_OK, or the fault's code.
        result: HResult,
        /// The failure is scripted after this many bytes of the attempt.
        after_bytes: Option<u64>,
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
    /// A remote's behaviour was changed by the test.
    RemoteChanged,
    /// The world injects seeded random faults: the seed that replays the run.
    ChaosSeed {
        /// The seed.
        seed: u64,
        /// Faults per million connection attempts.
        rate_ppm: u32,
    },
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
            | TraceKind::FileDone { job, .. }
            | TraceKind::Notified { job, .. }
            | TraceKind::OwnerChanged { job, .. } => Some(job),
            TraceKind::Network { .. }
            | TraceKind::Logon { .. }
            | TraceKind::AppConnected { .. }
            | TraceKind::AppExited { .. }
            | TraceKind::ServiceRestarted
            | TraceKind::RemoteChanged
            | TraceKind::ChaosSeed { .. } => None,
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
                after_bytes,
            } => match after_bytes {
                Some(n) => format!(
                    "{t} {} file {file} connect: ok, then {result} after {n} bytes",
                    job(j)
                ),
                None if result == HResult::S_OK => {
                    format!("{t} {} file {file} connect: ok", job(j))
                }
                None => format!("{t} {} file {file} connect: {result}", job(j)),
            },
            TraceKind::FileDone {
                job: j,
                file,
                bytes,
            } => format!("{t} {} file {file} done ({bytes} bytes)", job(j)),
            TraceKind::Notified {
                app: a,
                job: j,
                event,
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
            TraceKind::RemoteChanged => format!("{t} remote changed"),
            TraceKind::ChaosSeed { seed, rate_ppm } => {
                format!("{t} chaos: seed {seed}, {rate_ppm} faults per million attempts")
            }
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
