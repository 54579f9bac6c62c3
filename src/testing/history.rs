//! What the trace says happened: each job's state, error record and error count, which applications
//! are alive, how many times the service restarted — rebuilt event by event from
//! [`Sim::trace`](crate::Sim::trace), checking on the way the rules a trace must obey on its own.
//!
//! The invariant checker compares what applications observed through the API against this history.

use super::invariants::Violation;
use crate::trace::{TraceEvent, TraceKind};
use crate::transition::Rule;
use crate::{AppId, ErrorContext, HResult, JobId, JobState, NotifyEvent, SimTime, UserId};
use std::collections::BTreeMap;

/// What the trace says about one job.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct JobFacts {
    /// Its current state (exactly one; SUSPENDED at creation, T1).
    pub state: JobState,
    /// The job entered ERROR or TRANSIENT_ERROR since it last entered TRANSFERRING (D1): the
    /// condition under which GetError succeeds.
    pub error_since_transferring: bool,
    /// The last error record created: context, code, file (D1).
    pub record: Option<(ErrorContext, HResult, Option<u32>)>,
    /// The error count after the last error (D6); 0 before any.
    pub error_count: u32,
    /// How many times the job entered TRANSFERRING (error objects obtained before the last entry are
    /// dead, D2).
    pub transferring_entries: u32,
    /// The owner, when known (set by the caller of [`History::set_owner`], changed by TakeOwnership).
    pub owner: Option<UserId>,
    /// The rule of the last entry into QUEUED, to tell a retry attempt from a first attempt (D6).
    last_queued_by: Option<Rule>,
    /// The no-progress deadline last armed (D4).
    deadline: Option<SimTime>,
    /// The [`History::stamp`] of the last change to these facts.
    pub(crate) changed: u64,
    /// The [`History::stamp`] of the last change to the facts a property getter's verdict reads: the
    /// job's creation and its owner (see [`crate::testing::Checker::check_moved`]).
    pub(crate) owner_changed: u64,
}

impl JobFacts {
    fn new() -> JobFacts {
        JobFacts {
            state: JobState::Suspended,
            error_since_transferring: false,
            record: None,
            error_count: 0,
            transferring_entries: 0,
            owner: None,
            last_queued_by: None,
            deadline: None,
            changed: 0,
            owner_changed: 0,
        }
    }
}

/// The machine's history as rebuilt from its trace.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Facts per job, by id.
    pub jobs: BTreeMap<JobId, JobFacts>,
    /// Applications and their users, with whether they are still alive.
    pub apps: BTreeMap<AppId, (UserId, bool)>,
    /// Service restarts so far (handles from an earlier generation are dead, D15).
    pub generation: u32,
    /// Time of the last event.
    pub last_time: SimTime,
    /// Events consumed so far.
    pub position: usize,
    /// A state entry whose record event must come next: (job, from, to, rule).
    pending: Option<Pending>,
    /// Violations of rules that leave the history consistent (the checker reports them after the
    /// history has taken the event in).
    pub soft: Vec<Violation>,
    /// Counts changes to the facts (see [`History::stamp`]).
    clock: u64,
    /// The stamp of the last change to the applications or the generation.
    pub(crate) apps_changed: u64,
    /// The stamp of the last change to each application (connected, exited).
    app_changed: BTreeMap<AppId, u64>,
    /// The stamp of the last change of generation.
    generation_changed: u64,
}

#[derive(Clone, Copy, Debug)]
enum Pending {
    /// Entered ERROR / TRANSIENT_ERROR: an `ErrorRecord` must follow (D1).
    Record {
        job: JobId,
        from: JobState,
        rule: Rule,
    },
    /// Entered TRANSFERRING with a record: an `ErrorRecordDropped` must follow (D1).
    Drop { job: JobId },
}

/// Spec §1.5: may a job move from `from` to `to` at all (by any row)?
pub fn legal_edge(from: JobState, to: JobState) -> bool {
    use JobState as S;
    if from.is_final() || from == to {
        return false;
    }
    match to {
        // T15, T16, T17a (download Complete from any non-final state)
        S::Suspended | S::Cancelled | S::Acknowledged => true,
        // T2, T7, T11, T13, T14, T19, T20 (D10), D15
        S::Queued => matches!(
            from,
            S::Suspended | S::Connecting | S::Transferring | S::TransientError | S::Error
        ),
        S::Connecting => from == S::Queued,        // T4
        S::Transferring => from == S::Connecting,  // T5
        S::Transferred => from == S::Transferring, // T8
        // T6, T9, T18 (QUEUED too)
        S::TransientError => matches!(from, S::Queued | S::Connecting | S::Transferring),
        // T10, T12, T25/T26 (a network loss while QUEUED with no-progress timeout 0)
        S::Error => matches!(
            from,
            S::Queued | S::Connecting | S::Transferring | S::TransientError
        ),
    }
}

impl History {
    /// An empty history (before any event).
    pub fn new() -> History {
        History::default()
    }

    /// A number that grows whenever a fact of the history changes (a job's facts, the applications,
    /// the generation): two equal stamps mean the same facts. Each job's facts and the applications
    /// remember the stamp of their last change, so a verdict that read only those can tell whether
    /// it would read anything new.
    pub fn stamp(&self) -> u64 {
        self.clock
    }

    /// A new stamp, for a change made now.
    pub(crate) fn bump(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// `job`'s facts, to change them (their stamp moves).
    fn job_mut(&mut self, job: JobId) -> Option<&mut JobFacts> {
        self.clock += 1;
        let stamp = self.clock;
        let f = self.jobs.get_mut(&job)?;
        f.changed = stamp;
        Some(f)
    }

    /// The facts about `job`, if the trace created it.
    pub fn job(&self, job: JobId) -> Option<&JobFacts> {
        self.jobs.get(&job)
    }

    /// Record who owns `job` (the trace's `Created` event does not say).
    pub fn set_owner(&mut self, job: JobId, owner: UserId) {
        if let Some(f) = self.job_mut(job) {
            f.owner = Some(owner);
            f.owner_changed = f.changed;
        }
    }

    /// Whether `app` is connected and has not exited.
    pub fn app_alive(&self, app: AppId) -> bool {
        self.apps.get(&app).is_some_and(|a| a.1)
    }

    /// The stamp of the last change to what the history says about `app` (alive, user) or the
    /// generation: all a verdict on a call of `app` reads of the applications.
    pub(crate) fn app_changed(&self, app: AppId) -> u64 {
        let own = self.app_changed.get(&app).copied().unwrap_or(0);
        own.max(self.generation_changed)
    }

    /// The user `app` runs as.
    pub fn app_user(&self, app: AppId) -> Option<UserId> {
        self.apps.get(&app).map(|a| a.0)
    }

    /// Consume every event of `trace` after the ones already seen, checking each.
    pub fn advance_to(&mut self, trace: &[TraceEvent], end: usize) -> Result<(), Violation> {
        while self.position < end.min(trace.len()) {
            let ev = trace[self.position];
            self.position += 1;
            self.apply(&ev)?;
        }
        Ok(())
    }

    /// Consume one event. The rules a trace obeys on its own are checked here: time never goes back
    /// (D13), each state change starts from the job's one current state, follows an edge of §1.5 and
    /// never leaves a final state (§1.3), error records are created exactly on entry into an error
    /// state and dropped exactly on entry into TRANSFERRING (D1), the error count never decreases and
    /// moves as D6 says, and callbacks reach only live applications in the matching state (D2, D11).
    pub fn apply(&mut self, ev: &TraceEvent) -> Result<(), Violation> {
        if ev.time < self.last_time {
            return Err(Violation::new(
                "D13",
                format!(
                    "time went backwards in the trace: {} after {}",
                    ev.time, self.last_time
                ),
            ));
        }
        self.last_time = ev.time;
        let pending = self.pending.take();
        match (pending, ev.kind) {
            (Some(Pending::Record { job, from, rule }), TraceKind::ErrorRecord { job: j, .. })
                if j == job =>
            {
                return self.error_record(ev, from, rule);
            }
            (Some(Pending::Drop { job }), TraceKind::ErrorRecordDropped { job: j }) if j == job => {
                let f = self.job_mut(job).expect("pending job exists");
                f.record = None;
                return Ok(());
            }
            (Some(Pending::Record { job, .. }), _) => {
                return Err(Violation::new(
                    "D1",
                    format!("{job:?} entered an error state without an error record"),
                ))
            }
            (Some(Pending::Drop { job }), _) => {
                return Err(Violation::new(
                    "D1",
                    format!("{job:?} entered TRANSFERRING but kept its error record"),
                ))
            }
            (None, _) => {}
        }
        match ev.kind {
            TraceKind::Created { job } => {
                let mut facts = JobFacts::new();
                facts.changed = self.bump();
                facts.owner_changed = facts.changed;
                if self.jobs.insert(job, facts).is_some() {
                    return Err(Violation::new("T1", format!("{job:?} created twice")));
                }
            }
            TraceKind::State {
                job,
                from,
                to,
                rule,
            } => self.state(job, from, to, rule)?,
            TraceKind::ErrorRecord { job, .. } => {
                return Err(Violation::new(
                    "D1",
                    format!("{job:?}: an error record was created without entering an error state"),
                ))
            }
            TraceKind::ErrorRecordDropped { job } => {
                return Err(Violation::new(
                    "D1",
                    format!("{job:?}: the error record was dropped without entering TRANSFERRING"),
                ))
            }
            TraceKind::OwnerChanged { job, user } => {
                if let Some(f) = self.job_mut(job) {
                    f.owner = Some(user);
                    f.owner_changed = f.changed;
                }
            }
            TraceKind::AppConnected { app, user } => {
                self.apps_changed = self.bump();
                self.app_changed.insert(app, self.apps_changed);
                self.apps.insert(app, (user, true));
            }
            TraceKind::AppExited { app } => {
                self.apps_changed = self.bump();
                self.app_changed.insert(app, self.apps_changed);
                if let Some(a) = self.apps.get_mut(&app) {
                    a.1 = false;
                }
            }
            TraceKind::ServiceRestarted => {
                self.apps_changed = self.bump();
                self.generation_changed = self.apps_changed;
                self.generation += 1;
            }
            TraceKind::Notified {
                app, job, event, ..
            } => self.notified(app, job, event)?,
            TraceKind::DeadlineArmed { job, at } => {
                if let Some(f) = self.job_mut(job) {
                    f.deadline = Some(at);
                }
            }
            TraceKind::RetryArmed { .. }
            | TraceKind::Attempt { .. }
            | TraceKind::AttemptCut { .. }
            | TraceKind::FileDone { .. }
            | TraceKind::Restarted { .. }
            | TraceKind::Reply { .. }
            | TraceKind::TempFile { .. }
            | TraceKind::RenameFailed { .. }
            | TraceKind::Network { .. }
            | TraceKind::Logon { .. }
            | TraceKind::RemoteChanged
            | TraceKind::LocalChanged
            | TraceKind::ChaosSeed { .. }
            | TraceKind::StepLimit { .. }
            | TraceKind::ClockInCallback
            | TraceKind::EventRefused { .. }
            | TraceKind::Scavenged { .. }
            | TraceKind::Proxy { .. }
            | TraceKind::Challenged { .. }
            | TraceKind::Redirected { .. }
            | TraceKind::RemoteNameChanged { .. }
            | TraceKind::NetworkCost { .. }
            | TraceKind::CostBlocked { .. }
            | TraceKind::CostCleared { .. }
            | TraceKind::GroupPolicy { .. }
            | TraceKind::PolicyBlocked { .. }
            | TraceKind::PolicyCleared { .. }
            | TraceKind::MaxDownloadTime { .. }
            | TraceKind::Launched { .. }
            | TraceKind::ActivationFailed { .. } => {}
        }
        Ok(())
    }

    fn state(
        &mut self,
        job: JobId,
        from: JobState,
        to: JobState,
        rule: Rule,
    ) -> Result<(), Violation> {
        let stamp = self.bump();
        let Some(f) = self.jobs.get_mut(&job) else {
            return Err(Violation::new(
                "T1",
                format!("{job:?} changed state before it was created"),
            ));
        };
        f.changed = stamp;
        if f.state != from {
            return Err(Violation::new(
                "§1.1",
                format!(
                    "{job:?} left {from} by {rule} but its one current state was {}",
                    f.state
                ),
            ));
        }
        if from.is_final() {
            return Err(Violation::new(
                "§1.3",
                format!("{job:?} left the final state {from} for {to} ({rule})"),
            ));
        }
        // T29 (D59): File3 SetValidationState(FALSE) on a finished file moves any non-final state
        // to ERROR, TRANSFERRED and SUSPENDED included.
        let t29 = to == JobState::Error && rule == crate::transition::Rule::T29;
        if !legal_edge(from, to) && !t29 {
            return Err(Violation::new(
                "§1.5",
                format!("{job:?} moved {from} -> {to} ({rule}): no row of §1.5 allows it"),
            ));
        }
        f.state = to;
        match to {
            JobState::Error | JobState::TransientError => {
                f.error_since_transferring = true;
                self.pending = Some(Pending::Record { job, from, rule });
            }
            JobState::Transferring => {
                f.transferring_entries += 1;
                f.error_since_transferring = false;
                if f.record.is_some() {
                    self.pending = Some(Pending::Drop { job });
                }
            }
            JobState::Queued => {
                f.last_queued_by = Some(rule);
                // D4: once the no-progress clock reaches the timeout the job goes to ERROR; the retry
                // timer does not start another attempt at (or after) that instant.
                if let (Rule::T11, Some(d)) = (rule, f.deadline) {
                    if self.last_time >= d {
                        let count = super::invariants::Expect::Job {
                            job,
                            check: crate::scenario::Check::ErrorCount {
                                job: String::new(),
                                is: f.error_count,
                            },
                        };
                        self.soft.push(Violation::new(
                            "D4",
                            format!(
                                "{job:?} was retried (T11) at {}, when its no-progress deadline {d} \
                                 had come: it must go to ERROR keeping its last transient error",
                                self.last_time
                            ),
                        )
                        .expecting(Some(count)));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// D1 and D6 on an error record that follows an entry into an error state.
    fn error_record(
        &mut self,
        ev: &TraceEvent,
        from: JobState,
        rule: Rule,
    ) -> Result<(), Violation> {
        let TraceKind::ErrorRecord {
            job,
            context,
            code,
            file,
            error_count,
        } = ev.kind
        else {
            unreachable!("called on ErrorRecord events only");
        };
        let f = self.job_mut(job).expect("pending job exists");
        let before = f.error_count;
        if error_count < before {
            return Err(Violation::new(
                "D6",
                format!("{job:?}: the error count went down from {before} to {error_count}"),
            ));
        }
        let inc = error_count - before;
        // D6, from the spec's words. `None` where the spec does not decide (0 or 1 allowed).
        // A network loss (T18), a cost block (T21a, D53) or a policy block (T21, D99) is waited
        // out, never counted.
        let network = code == HResult::BG_E_NETWORK_DISCONNECTED
            || code == HResult::BG_E_BLOCKED_BY_COST_TRANSFER_POLICY
            || code == HResult::BG_E_BLOCKED_BY_POLICY;
        // T12 (the no-progress timeout) is not a failure, and network disconnects never count.
        let expected: Option<u32> = if from == JobState::TransientError || network {
            Some(0)
        } else if from == JobState::Transferring {
            Some(1)
        } else if from == JobState::Connecting {
            match f.last_queued_by {
                Some(Rule::T11 | Rule::T13) => Some(1), // a retry attempt failed
                Some(Rule::T2 | Rule::T14) => Some(0),  // first attempt after Resume
                _ => None,
            }
        } else {
            None
        };
        let ok = match expected {
            Some(n) => inc == n,
            None => inc <= 1,
        };
        if !ok {
            return Err(Violation::new(
                "D6",
                format!(
                    "{job:?}: entering an error state from {from} ({rule}, {code}) changed the error \
                     count by {inc} (from {before}); D6 says {}",
                    expected.map_or("0 or 1".to_string(), |n| n.to_string())
                ),
            ));
        }
        if rule == Rule::T12 && from == JobState::TransientError {
            // D4: the no-progress timeout keeps the last transient error's context and code (a new
            // failure that meets an expired clock is itself the last transient error).
            if let Some((c, h, _)) = f.record {
                if (c, h) != (context, code) {
                    return Err(Violation::new(
                        "D4",
                        format!(
                            "{job:?}: the no-progress timeout replaced the last transient error \
                             {h} ({c}) by {code} ({context})"
                        ),
                    ));
                }
            }
        }
        f.error_count = error_count;
        f.record = Some((context, code, file));
        Ok(())
    }

    fn notified(&self, app: AppId, job: JobId, event: NotifyEvent) -> Result<(), Violation> {
        if !self.app_alive(app) {
            return Err(Violation::new(
                "D2",
                format!("{app:?} was called back for {job:?} ({event}) after it exited"),
            ));
        }
        let state = self.jobs.get(&job).map(|f| f.state);
        let ok = match event {
            NotifyEvent::JobTransferred => state == Some(JobState::Transferred),
            NotifyEvent::JobError => state == Some(JobState::Error),
            NotifyEvent::JobModification
            | NotifyEvent::FileTransferred
            | NotifyEvent::FileRangesTransferred => true,
        };
        if !ok {
            return Err(Violation::new(
                "D11",
                format!("{event} delivered for {job:?} while it is {state:?}"),
            ));
        }
        Ok(())
    }
}
