//! What applications observed (the checker's input) and what it reports (a [`Violation`], with the
//! [`Expect`]ation a replay ends with). Calls are described by the scenario vocabulary itself
//! ([`Action`]): an operation with `expect` set to what it returned, or a check holding the values
//! its getter read.

use crate::scenario::{Check, Step};
use crate::{HResult, JobId};
use std::fmt;

pub use crate::scenario::observe::{Observed, Seen};

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
