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
//!
//! The core holds application code opaquely ([`AppCode`]): the callback trait, whose methods receive
//! the facade's handles, belongs to the facade ([`crate::Callback`]).

use crate::record::ErrorRecord;
use crate::{AppId, ErrorContext, HResult, JobId, JobState, NotifyFlags, SimTime};
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::fmt;

/// The three IBackgroundCopyCallback methods and Callback2's FileTransferred (D60).
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
    /// Callback2 `FileTransferred`: one file of a download job finished, or an upload-reply job's
    /// reply came in (D60, D94). Delivered only to a callback that implements
    /// IBackgroundCopyCallback2 or newer.
    #[serde(rename = "FILE_TRANSFERRED")]
    FileTransferred,
    /// Callback3 `FileRangesTransferred`: byte ranges of an on-demand file are on disk (D76).
    /// Delivered only to a callback that implements IBackgroundCopyCallback3.
    #[serde(rename = "FILE_RANGES_TRANSFERRED")]
    FileRangesTransferred,
}

impl NotifyEvent {
    /// The scenario spelling (`JOB_TRANSFERRED`).
    pub const fn name(self) -> &'static str {
        match self {
            NotifyEvent::JobTransferred => "JOB_TRANSFERRED",
            NotifyEvent::JobError => "JOB_ERROR",
            NotifyEvent::JobModification => "JOB_MODIFICATION",
            NotifyEvent::FileTransferred => "FILE_TRANSFERRED",
            NotifyEvent::FileRangesTransferred => "FILE_RANGES_TRANSFERRED",
        }
    }
    /// The BG_NOTIFY_* flag that enables it.
    pub const fn flag(self) -> NotifyFlags {
        match self {
            NotifyEvent::JobTransferred => NotifyFlags::JOB_TRANSFERRED,
            NotifyEvent::JobError => NotifyFlags::JOB_ERROR,
            NotifyEvent::JobModification => NotifyFlags::JOB_MODIFICATION,
            NotifyEvent::FileTransferred => NotifyFlags::FILE_TRANSFERRED,
            NotifyEvent::FileRangesTransferred => NotifyFlags::FILE_RANGES_TRANSFERRED,
        }
    }
    /// The IBackgroundCopyCallback interface level a callback must implement to receive it (1 for
    /// IBackgroundCopyCallback, 2 for Callback2; D60).
    pub const fn interface_level(self) -> u8 {
        match self {
            NotifyEvent::FileTransferred => 2,
            NotifyEvent::FileRangesTransferred => 3,
            _ => 1,
        }
    }
    /// Whether it is a per-file event (FILE_*), which carries a file index (D60).
    pub const fn is_file_event(self) -> bool {
        matches!(
            self,
            NotifyEvent::FileTransferred | NotifyEvent::FileRangesTransferred
        )
    }
    /// Parse the scenario spelling.
    pub fn from_name(s: &str) -> Option<NotifyEvent> {
        [
            NotifyEvent::JobTransferred,
            NotifyEvent::JobError,
            NotifyEvent::JobModification,
            NotifyEvent::FileTransferred,
            NotifyEvent::FileRangesTransferred,
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
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
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
    /// For FileTransferred: the index of the file (in the order added; D60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<u32>,
    /// For FileRangesTransferred: the `(offset, length)` ranges filled since the last one, merged
    /// and ordered by offset (D76).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<(u64, u64)>,
}

/// What stands behind a registration.
pub enum Notifier {
    /// A callback that answers every call with the given HRESULT (the scenario format's
    /// `register_callback`, and the pull interface: register `Answer(S_OK)` and poll the deliveries).
    /// Answered inside the step that caused it.
    Answer(HResult),
    /// Application code, called out to after the step (D19): make it with
    /// [`AppCode::new`] from a [`crate::Callback`].
    Callback(AppCode),
}

/// Application code behind a registration ([`Notifier::Callback`]): a [`crate::Callback`] held by the
/// core without knowing its type. The core only queues call-outs to it; the facade calls it (D19).
/// The second field is the newest IBackgroundCopyCallback interface it implements (1–3; D60).
pub struct AppCode(pub(crate) Box<dyn Any>, pub(crate) u8);

impl fmt::Debug for AppCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppCode(..)")
    }
}

impl Notifier {
    /// The scripted answer, if this is one (snapshots keep those).
    pub(crate) fn answer(&self) -> Option<HResult> {
        match self {
            Notifier::Answer(h) => Some(*h),
            Notifier::Callback(_) => None,
        }
    }

    /// The newest IBackgroundCopyCallback interface it implements: application code says so itself
    /// ([`crate::Callback::implements`]); a scripted answer implements `scripted` (D60).
    pub(crate) fn implements(&self, scripted: u8) -> u8 {
        match self {
            Notifier::Answer(_) => scripted,
            Notifier::Callback(c) => c.1,
        }
    }

    /// Lend the application code out for a call-out (a placeholder stays registered).
    pub(crate) fn lend(&mut self) -> Option<AppCode> {
        match self {
            Notifier::Answer(_) => None,
            Notifier::Callback(cb) => {
                let level = cb.1;
                Some(std::mem::replace(cb, AppCode(Box::new(()), level)))
            }
        }
    }

    /// Take the lent code back.
    pub(crate) fn give_back(&mut self, code: AppCode) {
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
    /// For JobError: what the callback's error object is made of (the record, the job's TRANSFERRING
    /// epoch and the service generation, as GetError takes them; D2).
    pub error: Option<(ErrorRecord, u32, u32)>,
}

/// One callback invocation, as logged for the application that registered it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
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
    /// The newest IBackgroundCopyCallback interface the object answers QueryInterface for (1–3):
    /// FILE_TRANSFERRED needs 2 (D60).
    pub implements: u8,
}
