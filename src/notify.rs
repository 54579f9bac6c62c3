//! Notifications (D11): the callback an application registers per job with SetNotifyInterface, and the
//! log of deliveries each application can poll.
//!
//! Delivery is synchronous on the virtual timeline: a callback runs at the instant its event happens,
//! after the call or engine step that caused it has finished its own work. A callback receives a
//! [`Notification`] value, not the simulator, so it cannot re-enter it; an application that wants to act
//! (Complete on JobTransferred, say) polls its deliveries after the step, as real clients poll their
//! event queues.

use crate::{ErrorContext, HResult, JobId, JobState, NotifyFlags, SimTime};
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
/// Return `HResult::S_OK` to acknowledge. Any other value makes BITS call JobTransferred/JobError again
/// after the job's minimum retry delay, until it answers S_OK (D11).
pub trait Callback {
    /// The job entered TRANSFERRED.
    fn job_transferred(&mut self, n: &Notification) -> HResult {
        let _ = n;
        HResult::S_OK
    }
    /// The job entered ERROR.
    fn job_error(&mut self, n: &Notification) -> HResult {
        let _ = n;
        HResult::S_OK
    }
    /// Something else changed.
    fn job_modification(&mut self, n: &Notification) -> HResult {
        let _ = n;
        HResult::S_OK
    }
}

impl<F: FnMut(&Notification) -> HResult> Callback for F {
    fn job_transferred(&mut self, n: &Notification) -> HResult {
        self(n)
    }
    fn job_error(&mut self, n: &Notification) -> HResult {
        self(n)
    }
    fn job_modification(&mut self, n: &Notification) -> HResult {
        self(n)
    }
}

/// What stands behind a registration.
pub enum Notifier {
    /// A callback that answers every call with the given HRESULT (the scenario format's
    /// `register_callback`, and the pull interface: register `Answer(S_OK)` and poll the deliveries).
    Answer(HResult),
    /// Application code.
    Callback(Box<dyn Callback>),
}

impl Notifier {
    pub(crate) fn call(&mut self, n: &Notification) -> HResult {
        match self {
            Notifier::Answer(h) => *h,
            Notifier::Callback(cb) => match n.event {
                NotifyEvent::JobTransferred => cb.job_transferred(n),
                NotifyEvent::JobError => cb.job_error(n),
                NotifyEvent::JobModification => cb.job_modification(n),
            },
        }
    }
    /// The scripted answer, if this is one (snapshots keep those).
    pub(crate) fn answer(&self) -> Option<HResult> {
        match self {
            Notifier::Answer(h) => Some(*h),
            Notifier::Callback(_) => None,
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
