//! What applications observed (the checker's input) and what it reports (a [`Violation`], with the
//! [`Expect`]ation a replay ends with).

use crate::{
    AppId, ErrorContext, HResult, JobId, JobProgress, JobState, JobType, SimDuration, SimTime,
};
use std::fmt;

/// A job method, as the checker classifies calls.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[allow(missing_docs)]
pub enum Method {
    AddFile,
    AddFileSet,
    Resume,
    Suspend,
    Cancel,
    Complete,
    SetDisplayName,
    SetDescription,
    SetPriority,
    SetNotifyFlags,
    SetMinimumRetryDelay,
    SetNoProgressTimeout,
    TakeOwnership,
    SetNotifyInterface,
    GetError,
    GetState,
    GetProgress,
    GetErrorCount,
    GetOwner,
}

impl Method {
    /// Changes the job: refused with BG_E_INVALID_STATE in a final state (§1.3, §2.0).
    pub fn is_mutator(self) -> bool {
        !matches!(
            self,
            Method::GetError
                | Method::GetState
                | Method::GetProgress
                | Method::GetErrorCount
                | Method::GetOwner
        )
    }
}

/// What a successful call returned.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Value {
    /// Nothing beyond success.
    Unit,
    /// The success code of Resume / Suspend / Cancel / Complete (S_OK, BG_S_PARTIAL_COMPLETE).
    Returned(HResult),
    /// GetState.
    State(JobState),
    /// GetProgress.
    Progress(JobProgress),
    /// GetErrorCount.
    Count(u32),
    /// GetError: context, code, file index.
    Error(ErrorContext, HResult, Option<u32>),
    /// GetOwner (SID string).
    Owner(String),
}

/// What an application saw.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Seen {
    /// A method called through a job handle.
    JobCall {
        /// The calling application.
        app: AppId,
        /// The harness's handle slot (to name it in a replay), if any.
        handle: Option<usize>,
        /// The service generation the handle was obtained in.
        handle_generation: u32,
        /// The job.
        job: JobId,
        /// The method.
        method: Method,
        /// For GetError with the object kept: the index of the held error object.
        held: Option<usize>,
        /// The outcome.
        result: Result<Value, HResult>,
    },
    /// CreateJob.
    CreateJob {
        /// The calling application.
        app: AppId,
        /// The generation its manager was obtained in.
        generation: u32,
        /// The requested type.
        job_type: JobType,
        /// The new job, or the refusal.
        result: Result<JobId, HResult>,
    },
    /// GetJob.
    GetJob {
        /// The calling application.
        app: AppId,
        /// The generation its manager was obtained in.
        generation: u32,
        /// The job asked for.
        job: JobId,
        /// Success, or the refusal.
        result: Result<(), HResult>,
    },
    /// EnumJobs.
    EnumJobs {
        /// The calling application.
        app: AppId,
        /// The generation its manager was obtained in.
        generation: u32,
        /// BG_JOB_ENUM_ALL_USERS.
        all_users: bool,
        /// The jobs listed, or the refusal.
        result: Result<Vec<JobId>, HResult>,
    },
    /// A call on a held error object (D2).
    ErrorObject {
        /// Its index among the held objects.
        held: usize,
        /// What the call returned.
        result: Result<(ErrorContext, HResult), HResult>,
    },
    /// Time moved by `advance` (exactly `by`) or by `run_until_idle` (at most `by`).
    Time {
        /// Before.
        from: SimTime,
        /// The step (exact for advance, a bound for run-until-idle).
        by: SimDuration,
        /// Whether `by` is exact.
        exact: bool,
        /// After.
        to: SimTime,
    },
}

/// One observation with its place in the trace.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Observed {
    /// Trace length when the call started.
    pub before: usize,
    /// Trace length when it returned.
    pub after: usize,
    /// The operation (index in the run) that made it; `None` for the harness's own probes.
    pub step: Option<usize>,
    /// What was seen.
    pub seen: Seen,
}

/// Everything applications observed during a run, in order.
#[derive(Clone, Debug, Default)]
pub struct Observations {
    /// The observations.
    pub items: Vec<Observed>,
}

impl Observations {
    /// Append one.
    pub fn push(&mut self, o: Observed) {
        self.items.push(o);
    }
}

/// A check of the scenario format that states what the spec expects, to end a replay with.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Expect {
    /// The step's call must return this HRESULT.
    Returns {
        /// The operation index.
        step: usize,
        /// The HRESULT the spec requires.
        hresult: HResult,
    },
    /// `check state` through a handle.
    State {
        /// The handle slot.
        handle: usize,
        /// The state the spec requires.
        is: JobState,
    },
    /// `do get_error` through a handle, expecting this result.
    GetError {
        /// The handle slot.
        handle: usize,
        /// S_OK or the refusal.
        hresult: HResult,
    },
    /// `check state` of a job through any handle that can still reach it.
    JobState {
        /// The job.
        job: JobId,
        /// The state the spec requires.
        is: JobState,
    },
    /// `check error_count` of a job through any handle that can still reach it.
    JobErrorCount {
        /// The job.
        job: JobId,
        /// The count the spec requires.
        is: u32,
    },
    /// `check error_count`.
    ErrorCount {
        /// The handle slot.
        handle: usize,
        /// The count.
        is: u32,
    },
    /// `check error_object`.
    ErrorObject {
        /// The held error object.
        held: usize,
        /// S_OK or the code calls on it must fail with.
        code: HResult,
    },
}

/// A broken rule.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Violation {
    /// The spec rule or decision (`"D1"`, `"§1.3"`, `"panic"`).
    pub rule: String,
    /// What happened, and what the rule required.
    pub message: String,
    /// The operation during or after which it was seen.
    pub step: Option<usize>,
    /// What the spec expects, as a check a replay can end with.
    pub expect: Option<Expect>,
}

impl Violation {
    /// A violation of `rule`.
    pub fn new(rule: &str, message: String) -> Violation {
        Violation {
            rule: rule.to_string(),
            message,
            step: None,
            expect: None,
        }
    }

    pub(super) fn at(mut self, step: Option<usize>) -> Violation {
        self.step = self.step.or(step);
        self
    }

    pub(crate) fn expecting(mut self, e: Option<Expect>) -> Violation {
        self.expect = self.expect.or(e);
        self
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.rule, self.message)?;
        if let Some(s) = self.step {
            write!(f, " (at step {s})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Violation {}
