//! What applications observed (the checker's input) and what it reports (a [`Violation`], with the
//! [`Expect`]ation a replay ends with). Calls are described by the scenario vocabulary itself
//! ([`Action`]): an operation with `expect` set to what it returned, or a check holding the values
//! its getter read.

use crate::scenario::{Action, Check, Step};
use crate::{AppId, ErrorContext, HResult, JobId, JobType, SimDuration, SimTime};
use std::fmt;

/// What an application saw.
#[derive(Clone, PartialEq, Debug)]
pub enum Seen {
    /// A method called through a job handle.
    JobCall {
        /// The calling application.
        app: AppId,
        /// The handle as a scenario names it (application, job alias), if the call has a scenario
        /// form.
        handle: Option<(String, String)>,
        /// The service generation the handle was obtained in.
        handle_generation: u32,
        /// The job.
        job: JobId,
        /// The call: an operation whose `expect` is what it returned, or a check holding what the
        /// getter read (its values mean nothing when `result` is a failure).
        action: Action,
        /// For GetError binding the object: the error alias.
        held: Option<String>,
        /// The HRESULT the call returned (a check that read its values: S_OK).
        result: HResult,
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
        /// Its error alias.
        error: String,
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
#[derive(Clone, PartialEq, Debug)]
pub struct Observed {
    /// Trace length when the call started.
    pub before: usize,
    /// Trace length when it returned.
    pub after: usize,
    /// The step (index in the run) that made it; `None` for the harness's own probes.
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

/// What the spec expects, as the end of a replay.
#[derive(Clone, PartialEq, Debug)]
pub enum Expect {
    /// The operation of step `step` must return this HRESULT (its `expect` is set to it).
    Returns {
        /// The step index.
        step: usize,
        /// The HRESULT the spec requires.
        hresult: HResult,
    },
    /// This step, appended.
    Then(Step),
    /// This check of `job`, appended, through a handle that can still reach the job (the check's own
    /// `job` alias is filled in when the replay is written).
    Job {
        /// The job.
        job: JobId,
        /// The check.
        check: Check,
    },
}

/// A broken rule.
#[derive(Clone, PartialEq, Debug)]
pub struct Violation {
    /// The spec rule or decision (`"D1"`, `"§1.3"`, `"panic"`).
    pub rule: String,
    /// What happened, and what the rule required.
    pub message: String,
    /// The step during or after which it was seen.
    pub step: Option<usize>,
    /// What the spec expects, as a check a replay can end with.
    pub expect: Option<Box<Expect>>,
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
        self.expect = self.expect.or(e.map(Box::new));
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
