//! Notifications (D11): the callback an application registers per job with SetNotifyInterface, and the
//! log of deliveries each application can poll.
//!
//! Two kinds of registration. A scripted answer ([`Notifier::Answer`]) is answered inside the step that
//! caused it. Application code ([`Notifier::Callback`]) is a call-out: the step queues it, and the
//! facade ([`crate::Sim`]) delivers it after releasing the service, at the same virtual instant, before
//! the next event, and feeds its answer back (delivery log, trace, D11 re-delivery). So a callback can
//! call back in: it receives the notified job's handle (and, for JobError, the error object) and may
//! call any handle method, as Microsoft's samples do (D19). A bare [`crate::Service`] has no one to
//! deliver call-outs to application code: they wait in its queue until a `Sim` around it delivers them.

use crate::api::{CopyError, Job};
use crate::calls::ErrorObject;
use crate::{AppId, ErrorContext, HResult, JobId, JobState, NotifyFlags, SimTime};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The three IBackgroundCopyCallback methods.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NotifyEvent {
    /// `JobTransferred`: the job entered TRANSFERRED.
    #[serde(rename = "JOB_TRANSFERRED")]
    JobTransferred,
    /// `JobError`: the job entered ERROR (never TRANSIENT_ERROR).
    #[serde(rename = "JOB_ERROR")]
    JobError,
    /// `JobModification`: any other state change, a property change, a file added, or progress.
    #[serde(rename = "JOB_MODIFICATION")]
    JobModification,
}

impl NotifyEvent {
    /// The scenario spelling (`JOB_TRANSFERRED`).
    pub const fn name(self) -> &'static str {
        match self {
            NotifyEvent::JobTransferred => "JOB_TRANSFERRED",
            NotifyEvent::JobError => "JOB_ERROR",
            NotifyEvent::JobModification => "JOB_MODIFICATION",
        }
    }
    /// The BG_NOTIFY_* flag that enables it.
    pub const fn flag(self) -> NotifyFlags {
        match self {
            NotifyEvent::JobTransferred => NotifyFlags::JOB_TRANSFERRED,
            NotifyEvent::JobError => NotifyFlags::JOB_ERROR,
            NotifyEvent::JobModification => NotifyFlags::JOB_MODIFICATION,
        }
    }
    /// Parse the scenario spelling.
    pub fn from_name(s: &str) -> Option<NotifyEvent> {
        [
            NotifyEvent::JobTransferred,
            NotifyEvent::JobError,
            NotifyEvent::JobModification,
        ]
        .into_iter()
        .find(|e| e.name() == s)
    }
}

impl fmt::Display for NotifyEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for NotifyEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a callback is told.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Notification {
    /// Which callback method.
    pub event: NotifyEvent,
    /// The job.
    pub job: JobId,
    /// The job's state when the callback runs.
    pub state: JobState,
    /// For JobError: the error's context and code (what the IBackgroundCopyError argument reports).
    pub error: Option<(ErrorContext, HResult)>,
    /// When it is delivered.
    pub time: SimTime,
}

/// An application's IBackgroundCopyCallback.
///
/// Each method receives the notified job's handle (as the application that registered sees it) and,
/// for JobError, the job's error object (what GetError would give), besides the [`Notification`]. It
/// runs at the instant of its event with the simulator free: it may read and call anything —
/// [`crate::Sim::trace`], handle getters, Complete, Cancel, [`crate::Manager::exit`] — except move the
/// clock (D19; see "Callbacks and threads" in the crate docs).
///
/// Return `HResult::S_OK` to acknowledge. Any other value makes BITS call JobTransferred/JobError again
/// after the job's minimum retry delay, until it answers S_OK (D11).
///
/// A closure `FnMut(&Notification) -> HResult` is a callback too (it sees only the notification).
pub trait Callback {
    /// The job entered TRANSFERRED.
    fn job_transferred(&mut self, job: &Job, n: &Notification) -> HResult {
        let _ = (job, n);
        HResult::S_OK
    }
    /// The job entered ERROR; `error` is its error object (D1, D2).
    fn job_error(&mut self, job: &Job, error: &CopyError, n: &Notification) -> HResult {
        let _ = (job, error, n);
        HResult::S_OK
    }
    /// Something else changed.
    fn job_modification(&mut self, job: &Job, n: &Notification) -> HResult {
        let _ = (job, n);
        HResult::S_OK
    }
}

impl<F: FnMut(&Notification) -> HResult> Callback for F {
    fn job_transferred(&mut self, _: &Job, n: &Notification) -> HResult {
        self(n)
    }
    fn job_error(&mut self, _: &Job, _: &CopyError, n: &Notification) -> HResult {
        self(n)
    }
    fn job_modification(&mut self, _: &Job, n: &Notification) -> HResult {
        self(n)
    }
}

/// What stands behind a registration.
pub enum Notifier {
    /// A callback that answers every call with the given HRESULT (the scenario format's
    /// `register_callback`, and the pull interface: register `Answer(S_OK)` and poll the deliveries).
    /// Answered inside the step that caused it.
    Answer(HResult),
    /// Application code, called out to after the step (D19).
    Callback(Box<dyn Callback>),
}

/// What stands in a registration while its callback is out being called.
struct Lent;

impl Callback for Lent {}

impl Notifier {
    /// The scripted answer, if this is one (snapshots keep those).
    pub(crate) fn answer(&self) -> Option<HResult> {
        match self {
            Notifier::Answer(h) => Some(*h),
            Notifier::Callback(_) => None,
        }
    }

    /// Lend the application code out for a call-out (a placeholder stays registered).
    pub(crate) fn lend(&mut self) -> Option<Box<dyn Callback>> {
        match self {
            Notifier::Answer(_) => None,
            Notifier::Callback(cb) => Some(std::mem::replace(cb, Box::new(Lent))),
        }
    }

    /// Take the lent code back.
    pub(crate) fn give_back(&mut self, code: Box<dyn Callback>) {
        if let Notifier::Callback(cb) = self {
            *cb = code;
        }
    }
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notifier::Answer(h) => write!(f, "Answer({h})"),
            Notifier::Callback(_) => f.write_str("Callback(..)"),
        }
    }
}

/// A call-out to application code, queued by the step that caused it (D19).
#[derive(Debug)]
pub(crate) struct CallOut {
    /// The application whose registration it is.
    pub app: AppId,
    /// The registration (a replaced or cleared one is not called).
    pub serial: u64,
    /// What to tell.
    pub notification: Notification,
    /// For JobError: the error object the callback receives.
    pub error: Option<ErrorObject>,
}

/// One callback invocation, as logged for the application that registered it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Delivery {
    /// What was delivered.
    pub notification: Notification,
    /// What the callback answered.
    pub result: HResult,
}

/// A job's current registration (SetNotifyInterface; the last one wins).
#[derive(Debug)]
pub(crate) struct Registration {
    pub app: crate::AppId,
    /// Distinguishes registrations, so retries of a replaced one are dropped.
    pub serial: u64,
    pub notifier: Notifier,
}
