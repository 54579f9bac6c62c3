//! The invariant checker: after every step, what applications observed through the API must agree
//! with the spec and with the machine's own history (its trace).
//!
//! [`check_invariants`] checks a whole run at once; [`Checker`] does the same incrementally (the
//! [`Harness`](super::Harness) calls it after every operation, so a failure names the first step that
//! broke a rule). With empty [`Observations`] only the trace-level rules are checked, which is what a
//! test that drives a [`Sim`] with its own code gets:
//!
//! ```
//! use bitsim::testing::{check_invariants, Observations};
//! use bitsim::{JobType, Remote, Sim, World};
//!
//! let sim = Sim::new(World::new().remote("https://x.test/a", Remote::sized(10)));
//! let app = sim.connect("app", sim.user("alice")).unwrap();
//! let job = app.create_job("j", JobType::Download).unwrap();
//! job.add_file("https://x.test/a", "C:\\a").unwrap();
//! job.resume().unwrap();
//! sim.advance_secs(5);
//! check_invariants(&sim, &Observations::default()).unwrap();
//! ```

use super::history::History;
use crate::scenario::{Action, BytesTotal, Check, ErrorExpectation, Op, StateMethod, Step};
use crate::{
    AppId, ErrorContext, HResult, JobId, JobState, JobType, Sim, SimTime, TraceKind, UserId,
};
use std::collections::{BTreeMap, BTreeSet};

mod enums;
mod files;
mod observe;

pub(crate) use enums::EnumCall;
pub use enums::EnumCursor;
pub use files::FileChecker;

pub use observe::{Expect, Observations, Observed, Seen, Violation};

/// `check state` of `job` through a handle the replay picks.
fn job_state(job: JobId, is: JobState) -> Expect {
    Expect::Job {
        job,
        check: Check::State {
            job: String::new(),
            is,
        },
    }
}

/// Check a whole run: the trace of `sim` and every observation (see [`Checker`]).
pub fn check_invariants(sim: &Sim, obs: &Observations) -> Result<(), Violation> {
    Checker::new().check(sim, obs)
}

/// What a held error object was when obtained: (application, job, service generation, the job's
/// TRANSFERRING entries, the error's context and code).
type HeldFacts = (AppId, JobId, u32, u32, (ErrorContext, HResult));

/// The judge [`Checker::check_moved_each`] lends its caller: judges one moved observation.
pub type Judge<'j> = dyn FnMut(Moved<'_>) -> Result<(), Violation> + 'j;

/// What the skip of a moved reading read last: (application, handle generation, job, history stamp)
/// and (dead handle, the application's stamp, the job's stamps for a check and for a property).
type SkipMemo = Option<((AppId, u32, JobId, u64), (bool, u64, (u64, u64)))>;

/// The incremental checker: remembers how far it got in the trace and the observations.
#[derive(Clone, Debug, Default)]
pub struct Checker {
    history: History,
    next_obs: usize,
    types: BTreeMap<JobId, JobType>,
    /// Held error objects, by alias.
    held: BTreeMap<String, HeldFacts>,
    last_now: SimTime,
    /// The administrators among the users seen so far (a user's `admin` flag is fixed when it is
    /// added, and users are never removed), and how many users that covers: each check only looks
    /// at users added since the last one instead of rebuilding the set.
    admins: BTreeSet<UserId>,
    users_seen: u32,
    /// The history stamp when the administrators last grew (see [`Checker::check_moved`]).
    admins_changed: u64,
}

/// An observation read again at other trace positions (a probe whose getter read the same as when
/// the observation was stored), for [`Checker::check_moved`].
#[derive(Debug)]
pub struct Moved<'o> {
    /// The stored observation.
    pub observed: &'o Observed,
    /// Trace length when the repeated reading started.
    pub before: usize,
    /// Trace length when it returned.
    pub after: usize,
    /// The [`History::stamp`] the reading was last checked at (`None`: never), updated by the
    /// checker. Kept by the caller from one check to the next for the same reading.
    pub checked: &'o mut Option<u64>,
}

impl Checker {
    /// A checker at the start of a run.
    pub fn new() -> Checker {
        Checker::default()
    }

    /// The history rebuilt so far.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Check everything new since the last call: trace events and observations, in order.
    pub fn check(&mut self, sim: &Sim, obs: &Observations) -> Result<(), Violation> {
        self.check_with(sim, obs, [])
    }

    /// [`Checker::check`], then `again`: observations kept outside `obs` (a probe that read the same
    /// as before, checked at its new trace position without being stored twice), each no earlier
    /// in the trace than the last of `obs`.
    pub fn check_with<'o>(
        &mut self,
        sim: &Sim,
        obs: &Observations,
        again: impl IntoIterator<Item = &'o Observed>,
    ) -> Result<(), Violation> {
        let mut never = Vec::new();
        let again: Vec<&Observed> = again.into_iter().collect();
        never.resize(again.len(), None);
        let moved = again.into_iter().zip(&mut never).map(|(o, checked)| Moved {
            observed: o,
            before: o.before,
            after: o.after,
            checked,
        });
        self.check_moved(sim, obs, moved)
    }

    /// [`Checker::check`], then `again`: observations of `obs` read again, each checked at the
    /// trace positions of its [`Moved`] (no earlier in the trace than the last of `obs`). A moved
    /// check (a getter's reading, `Action::Check`) that reads no events and was already checked
    /// against the same facts ([`Moved::checked`]: nothing the verdict reads has changed since) is
    /// not checked again: the verdict on a check depends only on the reading, whether it spans
    /// trace events, and the history's facts about its job, its own application and user (not the
    /// others'), the service generation and the administrators. For a property getter's reading (`Check::Property`) the
    /// facts about its job that count are only that it exists and who owns it: its verdict is the
    /// preconditions (D2, D9) and D1, and no method rule reads its state or error facts.
    pub fn check_moved<'o>(
        &mut self,
        sim: &Sim,
        obs: &Observations,
        again: impl IntoIterator<Item = Moved<'o>>,
    ) -> Result<(), Violation> {
        self.check_moved_each(sim, obs, |judge| {
            for m in again {
                judge(m)?;
            }
            Ok(())
        })
    }

    /// [`Checker::check_moved`], with the moved observations given one at a time: `again` calls
    /// the judge it is given with each (stopping at the first violation it returns), so that each
    /// may be built just before it is judged, in storage the caller reuses.
    pub fn check_moved_each(
        &mut self,
        sim: &Sim,
        obs: &Observations,
        again: impl FnOnce(&mut Judge<'_>) -> Result<(), Violation>,
    ) -> Result<(), Violation> {
        sim.with_service(|s| {
            while let Some(u) = s.user(UserId(self.users_seen)) {
                if u.admin_powers() {
                    self.admins.insert(UserId(self.users_seen));
                    self.admins_changed = self.history.bump();
                }
                self.users_seen += 1;
            }
        });
        let admins = std::mem::take(&mut self.admins);
        let r = self.check_with_admins(sim, obs, again, &admins);
        self.admins = admins;
        r
    }

    /// The history stamps of the last change to anything the verdict on a check of `job` through
    /// application `app` reads: the job's facts, the application (alive, user) and the generation,
    /// the administrators; and the same for a property getter's reading, whose verdict reads of the
    /// job's facts only that it exists and who owns it.
    fn facts_changed(&self, app: AppId, job: JobId) -> (u64, u64) {
        let h = &self.history;
        let (facts, owner) = h.job(job).map_or((0, 0), |f| (f.changed, f.owner_changed));
        let others = h.app_changed(app).max(self.admins_changed);
        (facts.max(others), owner.max(others))
    }

    fn check_with_admins(
        &mut self,
        sim: &Sim,
        obs: &Observations,
        again: impl FnOnce(&mut Judge<'_>) -> Result<(), Violation>,
        admins: &BTreeSet<UserId>,
    ) -> Result<(), Violation> {
        let now = sim.now();
        sim.with_service(|s| -> Result<(), Violation> {
            let trace = s.trace().as_slice();
            while self.next_obs < obs.items.len() {
                let o = &obs.items[self.next_obs];
                self.next_obs += 1;
                self.history
                    .advance_to(trace, o.before)
                    .map_err(|v| v.at(o.step))?;
                self.observation(o, (o.before, o.after), trace, admins)
                    .map_err(|v| v.at(o.step))?;
            }
            // What the skip below reads about the last reading's application, handle generation
            // and job, at the history stamp it was read at (the readings of one handle come
            // together; the stamp moves with every change of a fact, so the same key reads the same).
            let mut memo: SkipMemo = None;
            let mut judge = |m: Moved<'_>| -> Result<(), Violation> {
                let o = m.observed;
                self.history
                    .advance_to(trace, m.before)
                    .map_err(|v| v.at(o.step))?;
                let unchanged = match (&o.seen, *m.checked) {
                    (
                        Seen::JobCall {
                            app,
                            handle_generation,
                            job,
                            action: Action::Check(check),
                            ..
                        },
                        Some(at),
                    ) if m.after == m.before => {
                        // A dead handle (D2, D15) stays dead while its application and the
                        // generation stay as they were; its verdict reads nothing else.
                        let h = &self.history;
                        let key = (*app, *handle_generation, *job, h.stamp());
                        let (dead, app_changed, facts) = match memo {
                            Some((k, v)) if k == key => v,
                            _ => {
                                let dead = !h.app_alive(*app) || *handle_generation != h.generation;
                                let v = (dead, h.app_changed(*app), self.facts_changed(*app, *job));
                                memo = Some((key, v));
                                v
                            }
                        };
                        // A property getter's verdict (`precondition`: D2, D9; `method_rules`
                        // has no rule for it) reads of the job only its existence and owner.
                        let facts = match check {
                            Check::Property { .. } => facts.1,
                            _ => facts.0,
                        };
                        (dead && app_changed <= at) || facts <= at
                    }
                    _ => false,
                };
                if unchanged {
                    return Ok(());
                }
                self.observation(o, (m.before, m.after), trace, admins)
                    .map_err(|v| v.at(o.step))?;
                *m.checked = Some(self.history.stamp());
                Ok(())
            };
            again(&mut judge)?;
            self.history.advance_to(trace, trace.len())?;
            let soft = std::mem::take(&mut self.history.soft);
            if let Some(v) = soft.into_iter().chain(self.settled(s)).next() {
                return Err(v);
            }
            if now < self.last_now || now < self.history.last_time {
                return Err(Violation::new(
                    "D13",
                    format!(
                        "the clock reads {now}, earlier than {} seen before",
                        self.last_now.max(self.history.last_time)
                    ),
                ));
            }
            self.last_now = now;
            Ok(())
        })
    }

    /// At an instant where nothing more is due, the scheduler's rules hold: transfers run only
    /// while their owner is logged on (D10); with the network down nothing is queued or running
    /// (T18); with it up every runnable foreground job runs, at most one background job runs, and a
    /// background job waits only behind a running one of the same or a higher priority (D12).
    fn settled(&self, s: &crate::Service) -> Vec<Violation> {
        let mut found = Vec::new();
        if s.next_event_time().is_some_and(|t| t <= s.now()) {
            return found;
        }
        let h = &self.history;
        let logged_on = |u: UserId| s.user(u).is_some_and(|u| u.logged_on);
        let network_up = s.world().network == crate::world::Network::Up;
        // Priorities are read through any live application that may see the job.
        let priority = |job: JobId, owner: UserId| {
            h.apps.iter().find_map(|(&app, &(user, alive))| {
                let may = user == owner || s.user(user).is_some_and(|u| u.admin_powers());
                (alive && may).then(|| s.priority(app, job).ok()).flatten()
            })
        };
        let mut running_bg = Vec::new();
        let mut waiting_bg = Vec::new();
        for (&job, f) in &h.jobs {
            let Some(owner) = f.owner else { continue };
            let running = f.state.is_running();
            if running && !logged_on(owner) {
                found.push(
                    Violation::new(
                        "D10",
                        format!("{job:?} is {} while its owner is logged off", f.state),
                    )
                    .expecting(Some(job_state(job, JobState::Queued))),
                );
            }
            if !network_up && (running || f.state == JobState::Queued) {
                found.push(
                    Violation::new(
                        "T18",
                        format!("{job:?} is {} while the network is down", f.state),
                    )
                    .expecting(Some(job_state(job, JobState::TransientError))),
                );
            }
            let runnable = running || (f.state == JobState::Queued && logged_on(owner));
            if !network_up || !runnable {
                continue;
            }
            let Some(p) = priority(job, owner) else {
                return found; // a job nobody can see: the slot rules cannot be checked
            };
            match (p.is_foreground(), running) {
                (true, false) => found.push(Violation::new(
                    "D12",
                    format!(
                        "foreground {job:?} waits QUEUED; all foreground jobs transfer at once"
                    ),
                )),
                (true, true) => {}
                (false, true) => running_bg.push((p, job)),
                (false, false) => waiting_bg.push((p, job)),
            }
        }
        if running_bg.len() > 1 {
            // The spec's choice among equals is first come, first served; the checker names the
            // last created of the lowest priority as the one that should be waiting.
            let extra = running_bg
                .iter()
                .max()
                .map(|&(_, job)| job_state(job, JobState::Queued));
            found.push(
                Violation::new(
                    "D12",
                    format!("background jobs {running_bg:?} transfer at once; one at a time"),
                )
                .expecting(extra),
            );
        }
        if let Some(&(p, job)) = waiting_bg.iter().min() {
            match running_bg.iter().min() {
                Some(&(rp, _)) if rp <= p => {}
                other => found.push(Violation::new(
                    "D12",
                    format!("{job:?} ({p}) waits QUEUED while the background slot holds {other:?}"),
                )),
            }
        }
        found
    }

    /// The error the spec requires before a job method runs at all, if any: D2 / D15 (dead handle),
    /// D9 (another user's job), §1.3 (mutator on a final job).
    fn precondition(
        &self,
        app: AppId,
        handle_generation: u32,
        job: JobId,
        action: &Action,
        admins: &BTreeSet<UserId>,
    ) -> Option<HResult> {
        let h = &self.history;
        if !h.app_alive(app) || handle_generation != h.generation {
            return Some(HResult::RPC_E_DISCONNECTED);
        }
        let facts = h.job(job)?;
        let caller = h.app_user(app)?;
        if let Some(owner) = facts.owner {
            if owner != caller && !admins.contains(&caller) {
                return Some(HResult::E_ACCESSDENIED);
            }
        }
        // §1.3: a setter works only in the states its row of the property table declares
        // (`PropertyDecl::settable_in`); every other mutator only in non-final states.
        let refused = match action {
            Action::Do(Op::Set { value, .. }) => {
                !value.prop().decl().settable_in.contains(&facts.state)
            }
            // D64: File5 SetProperty checks the id before the state.
            Action::Do(Op::SetFile {
                value: crate::scenario::FileSet::Property { id, .. },
                ..
            }) if *id != crate::file_calls::FILE_PROPERTY_HTTP_RESPONSE_HEADERS => false,
            a => a.is_mutator() && facts.state.is_final(),
        };
        if refused {
            return Some(HResult::BG_E_INVALID_STATE);
        }
        None
    }

    /// The verdict on observation `o`, made at trace positions `before..after` (its own, or those
    /// of a probe that read the same again).
    fn observation(
        &mut self,
        o: &Observed,
        (before, after): (usize, usize),
        trace: &[crate::TraceEvent],
        admins: &BTreeSet<UserId>,
    ) -> Result<(), Violation> {
        let changed = after > before;
        match &o.seen {
            Seen::JobCall {
                app,
                handle,
                handle_generation,
                job,
                action,
                held,
                result,
            } => {
                let pre = self.precondition(*app, *handle_generation, *job, action, admins);
                let method = action.method().unwrap_or("?");
                // §2.6: File2 SetRemoteName answers E_NOTIMPL for an upload job before it
                // looks at the state (the history does not keep the job's type: the checker's
                // own record of created jobs does; a job it did not see created may be either).
                let upload_rename = matches!(
                    action,
                    Action::Do(Op::SetFile {
                        value: crate::scenario::FileSet::RemoteName(_),
                        ..
                    })
                ) && *result == HResult::E_NOTIMPL
                    && self.types.get(job).is_none_or(|t| t.is_upload());
                if let Some(code) =
                    pre.filter(|c| !(upload_rename && *c == HResult::BG_E_INVALID_STATE))
                {
                    if *result != code {
                        let rule = match code {
                            HResult::E_ACCESSDENIED => "D9",
                            HResult::BG_E_INVALID_STATE => "§1.3",
                            _ => "D2",
                        };
                        return Err(Violation::new(
                            rule,
                            format!("{method} on {job:?} by {app:?} returned {result}; the spec requires {code}"),
                        )
                        .expecting(returns(o.step, handle, action, code)));
                    }
                }
                // T17b, D97: a Complete whose rename failed keeps the renames made before it
                // (traced) and traces the one that failed, with the code it returned.
                let failed_rename = |t: &[crate::TraceEvent]| {
                    method == "Complete"
                        && t.last().is_some_and(|e| {
                            matches!(e.kind, TraceKind::RenameFailed { code, .. } if code == *result)
                        })
                        && t.iter().all(|e| {
                            matches!(
                                e.kind,
                                TraceKind::RenameFailed { .. }
                                    | TraceKind::TempFile {
                                        action: crate::TempAction::Renamed,
                                        ..
                                    }
                            )
                        })
                };
                if result.is_failure() && changed && !failed_rename(&trace[before..after]) {
                    return Err(Violation::new(
                        "D1",
                        format!(
                            "{method} on {job:?} failed ({result}) but changed the machine: {}",
                            describe(&trace[before..after])
                        ),
                    ));
                }
                if pre.is_none() {
                    let call = Call {
                        job: *job,
                        app: *app,
                        handle: handle.as_ref(),
                        action,
                        held: held.as_deref(),
                        result: *result,
                    };
                    self.method_rules(o, trace, call)?;
                }
            }
            Seen::CreateJob {
                app,
                generation,
                job_type,
                result,
            } => {
                let h = &self.history;
                if (!h.app_alive(*app) || *generation != h.generation)
                    && *result != Err(HResult::RPC_E_DISCONNECTED)
                {
                    return Err(Violation::new(
                        "D2",
                        format!("CreateJob by the dead manager of {app:?} returned {result:?}"),
                    ));
                }
                if let Ok(job) = result {
                    self.history.advance_to(trace, after)?;
                    let user = self.history.app_user(*app);
                    let facts = self.history.job(*job).cloned();
                    match (user, facts) {
                        (Some(u), Some(f)) if f.state == JobState::Suspended => {
                            self.history.set_owner(*job, u);
                            self.types.insert(*job, *job_type);
                        }
                        _ => {
                            return Err(Violation::new(
                                "T1",
                                format!(
                                    "CreateJob returned {job:?}, which is not a new SUSPENDED job"
                                ),
                            ))
                        }
                    }
                }
            }
            Seen::GetJob {
                app,
                generation,
                job,
                result,
            } => {
                let h = &self.history;
                let expected = if !h.app_alive(*app) || *generation != h.generation {
                    Err(HResult::RPC_E_DISCONNECTED)
                } else {
                    match (h.job(*job), h.app_user(*app)) {
                        (Some(f), _) if f.state.is_final() => Err(HResult::BG_E_NOT_FOUND),
                        (Some(f), Some(u))
                            if f.owner.is_some_and(|o| o != u) && !admins.contains(&u) =>
                        {
                            Err(HResult::E_ACCESSDENIED)
                        }
                        (Some(_), _) => Ok(()),
                        (None, _) => Err(HResult::BG_E_NOT_FOUND),
                    }
                };
                if *result != expected {
                    return Err(Violation::new(
                        "D9",
                        format!("GetJob({job:?}) by {app:?} returned {result:?}, the spec requires {expected:?}"),
                    )
                    .expecting(o.step.map(|step| Expect::Returns {
                        step,
                        hresult: expected.err().unwrap_or(HResult::S_OK),
                    })));
                }
            }
            Seen::EnumJobs {
                app,
                generation,
                all_users,
                result,
            } => {
                let h = &self.history;
                let user = h.app_user(*app);
                let admin = user.is_some_and(|u| admins.contains(&u));
                let expected = if !h.app_alive(*app) || *generation != h.generation {
                    Err(HResult::RPC_E_DISCONNECTED)
                } else if *all_users && !admin {
                    Err(HResult::E_ACCESSDENIED)
                } else {
                    Ok(h.jobs
                        .iter()
                        .filter(|(_, f)| !f.state.is_final() && (*all_users || f.owner == user))
                        .map(|(id, _)| *id)
                        .collect::<Vec<_>>())
                };
                let got = result.clone().map(|mut v| {
                    v.sort();
                    v
                });
                if got != expected {
                    return Err(Violation::new(
                        "D9",
                        format!(
                            "EnumJobs(all_users={all_users}) by {app:?} returned {result:?}; the spec \
                             requires {expected:?} (own non-final jobs; everyone's for administrators only)"
                        ),
                    ));
                }
            }
            Seen::ErrorObject { error, result } => {
                let Some(&(app, job, generation, entries, value)) = self.held.get(error) else {
                    return Ok(());
                };
                let h = &self.history;
                let expected = if !h.app_alive(app) || generation != h.generation {
                    Err(HResult::RPC_E_DISCONNECTED)
                } else if h
                    .job(job)
                    .is_some_and(|f| f.transferring_entries != entries)
                {
                    Err(HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE)
                } else {
                    Ok(value)
                };
                if *result != expected {
                    return Err(Violation::new(
                        "D2",
                        format!(
                            "held error object {error} of {job:?} answered {result:?}; D2 requires \
                             {expected:?} (usable until the job enters TRANSFERRING or its application \
                             exits)"
                        ),
                    )
                    .expecting(Some(Expect::Then(Step {
                        app: None,
                        action: Action::Check(Check::ErrorObject {
                            error: error.clone(),
                            code: expected.err().unwrap_or(HResult::S_OK),
                        }),
                    }))));
                }
            }
            Seen::Time {
                from,
                by,
                exact,
                to,
            } => {
                let ok = if *exact {
                    *to == *from + *by
                } else {
                    *to >= *from && *to <= *from + *by
                };
                if !ok {
                    return Err(Violation::new(
                        "D13",
                        format!(
                            "time moved from {from} to {to} on a step of {by} (exact: {exact})"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Rules of single methods that the history can decide, for calls that passed the preconditions.
    fn method_rules(
        &mut self,
        o: &Observed,
        trace: &[crate::TraceEvent],
        c: Call,
    ) -> Result<(), Violation> {
        let job = c.job;
        let Some(facts) = self.history.job(job).cloned() else {
            return Ok(());
        };
        let method = c.action.method().unwrap_or("?");
        let fail = |rule: &str, what: String, expect: Option<Expect>| {
            Err(Violation::new(rule, format!("{method} on {job:?}: {what}")).expecting(expect))
        };
        // The check through the same handle, stating what the spec requires.
        let then = |check: Check| {
            c.handle.map(|(app, alias)| {
                let mut action = Action::Check(check);
                if let Some(j) = action.job_mut() {
                    *j = alias.clone();
                }
                Expect::Then(Step {
                    app: Some(app.clone()),
                    action,
                })
            })
        };
        let ok = c.result.is_success();
        match c.action {
            Action::Check(Check::State { is: s, .. }) if ok && *s != facts.state => fail(
                "§1.1",
                format!("GetState says {s}, the trace says {}", facts.state),
                then(Check::State {
                    job: String::new(),
                    is: facts.state,
                }),
            ),
            Action::Check(Check::ErrorCount { is: n, .. }) if ok && *n != facts.error_count => {
                fail(
                    "D6",
                    format!(
                        "GetErrorCount says {n}, the trace says {}",
                        facts.error_count
                    ),
                    then(Check::ErrorCount {
                        job: String::new(),
                        is: facts.error_count,
                    }),
                )
            }
            Action::Check(Check::Error { expect: seen, .. }) => {
                // D1: GetError succeeds iff the job entered an error state since it last entered
                // TRANSFERRING, and reports the last record.
                let want = match (facts.error_since_transferring, facts.record) {
                    (false, _) => Ok(ErrorExpectation::None),
                    (true, Some((context, code, file))) => Ok(ErrorExpectation::Some {
                        context: Some(context),
                        code: Some(code),
                        file,
                    }),
                    (true, None) => Err(HResult::E_UNEXPECTED),
                };
                let got = if ok { Ok(seen.clone()) } else { Err(c.result) };
                if got != want {
                    return fail(
                        "D1",
                        format!(
                            "GetError read {got:?}; D1 requires {want:?} (entered an error state \
                             since the last TRANSFERRING: {})",
                            facts.error_since_transferring
                        ),
                        want.ok().and_then(|expect| {
                            then(Check::Error {
                                job: String::new(),
                                expect,
                            })
                        }),
                    );
                }
                Ok(())
            }
            Action::Do(Op::GetError { .. }) => {
                let want = if facts.error_since_transferring {
                    HResult::S_OK
                } else {
                    HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE
                };
                if c.result != want {
                    return fail(
                        "D1",
                        format!(
                            "GetError returned {}; D1 requires {want} (entered an error state \
                             since the last TRANSFERRING: {})",
                            c.result, facts.error_since_transferring
                        ),
                        o.step.map(|step| Expect::Returns {
                            step,
                            hresult: want,
                        }),
                    );
                }
                if let (Some(alias), Some((context, code, _))) = (c.held, facts.record) {
                    let entry = (
                        c.app,
                        job,
                        self.history.generation,
                        facts.transferring_entries,
                        (context, code),
                    );
                    self.held.insert(alias.to_string(), entry);
                }
                Ok(())
            }
            Action::Check(Check::Progress {
                bytes_total,
                bytes_transferred,
                files_total,
                files_transferred,
                ..
            }) if ok => {
                let bytes_ok = match (bytes_total, bytes_transferred) {
                    (Some(BytesTotal::Bytes(t)), Some(b)) => b <= t,
                    _ => true,
                };
                let files_ok = match (files_total, files_transferred) {
                    (Some(t), Some(n)) => n <= t,
                    _ => true,
                };
                if !bytes_ok || !files_ok {
                    return fail(
                        "§8",
                        format!("progress out of bounds: {:?}", c.action),
                        None,
                    );
                }
                Ok(())
            }
            Action::Do(Op::State { method: m, .. }) => {
                let to = match m {
                    StateMethod::Complete => {
                        let upload = self.types.get(&job).is_some_and(|t| t.is_upload());
                        if upload && facts.state != JobState::Transferred && ok {
                            return fail(
                                "D7",
                                format!("an upload job completed from {}", facts.state),
                                o.step.map(|step| Expect::Returns {
                                    step,
                                    hresult: HResult::BG_E_INVALID_STATE,
                                }),
                            );
                        }
                        JobState::Acknowledged
                    }
                    StateMethod::Cancel => JobState::Cancelled,
                    StateMethod::Suspend => JobState::Suspended,
                    StateMethod::Resume => return Ok(()),
                };
                if !ok {
                    return Ok(());
                }
                self.after_state(o, trace, job, method, to)
            }
            // No rule for a property getter's reading (`Check::Property`): one added here must
            // make `check_moved`'s skip read the facts it reads.
            _ => Ok(()),
        }
    }

    /// §1.4: a state changer that succeeded leaves the job in `to` (its own events are consumed now;
    /// the next observation would consume them anyway).
    fn after_state(
        &mut self,
        o: &Observed,
        trace: &[crate::TraceEvent],
        job: JobId,
        method: &str,
        to: JobState,
    ) -> Result<(), Violation> {
        self.history.advance_to(trace, o.after)?;
        let now = self.history.job(job).map(|f| f.state);
        if now != Some(to) {
            return Err(Violation::new(
                "§1.4",
                format!("{method} on {job:?} succeeded but left the job {now:?}, not {to}"),
            ));
        }
        Ok(())
    }
}

fn describe(events: &[crate::TraceEvent]) -> String {
    events
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A job method call that passed the preconditions, as the method rules read it.
struct Call<'a> {
    job: JobId,
    app: AppId,
    handle: Option<&'a (String, String)>,
    action: &'a Action,
    held: Option<&'a str>,
    result: HResult,
}

/// The expectation for a call that must return `code`: the step's own `expect` when it is an
/// operation of a step, else a `get_error` through the same handle (every job method fails the
/// same way on a dead handle or another user's job, D2, D9).
fn returns(
    step: Option<usize>,
    handle: &Option<(String, String)>,
    action: &Action,
    code: HResult,
) -> Option<Expect> {
    match (step, action) {
        (Some(step), Action::Do(_)) => Some(Expect::Returns {
            step,
            hresult: code,
        }),
        _ => handle.as_ref().map(|(app, alias)| {
            Expect::Then(Step {
                app: Some(app.clone()),
                action: Action::Do(Op::GetError {
                    job: alias.clone(),
                    bind_error: None,
                    expect: code,
                }),
            })
        }),
    }
}
