//! The choke point: the transition table's answer is applied here and nowhere else. Method calls come
//! in through [`Service::on_method`] (a refusal is the HRESULT the method returns), engine events
//! through [`Service::on_event`] (a refusal is a broken invariant: asserted in debug builds, traced in
//! release builds). Both end in `enter`, which does every entry and exit action: slots and queues,
//! the job's own entry (`Job::enter`: error record D1, error count D6, error objects D2), timers (D3,
//! D4), ModificationTime (§8.2), callbacks (D11) and the trace.

use super::Service;
use crate::hresult::HResult;
use crate::job::{AppId, Entered, JobId};
use crate::notify::{AppCode, CallOut, Delivery, Notification, NotifyEvent};
use crate::state::JobState;
use crate::trace::TraceKind;
use crate::transition::{self, EngineEvent, MethodCall, Transition};

impl Service {
    /// Feed a method call to the transition table for job `j`; on acceptance, enter the new state.
    /// Returns what the method returns (S_OK / BG_S_PARTIAL_COMPLETE) or the refusal.
    /// Always inlined: at most call sites the method is a constant, so the table's lookup reduces
    /// to a dispatch on the state.
    #[inline(always)]
    pub(crate) fn on_method(&mut self, j: usize, call: MethodCall) -> Result<HResult, HResult> {
        let from = self.jobs[j].state();
        let t = transition::on_method(from, call)?;
        if t.to() != from {
            self.enter(j, t);
        }
        Ok(t.returns())
    }

    /// Feed an engine event to the transition table for job `j`; on acceptance, enter the new state.
    /// The engine sends an event only in a state that takes it: a refusal is a bug, asserted in debug
    /// builds and recorded as [`TraceKind::EventRefused`] in release builds. Returns whether the table
    /// took the event.
    /// Inlined: at a call site the event is a constant, so the table's lookup reduces to a
    /// dispatch on the state.
    #[inline(always)]
    pub(crate) fn on_event(&mut self, j: usize, event: EngineEvent) -> bool {
        let from = self.jobs[j].state();
        match transition::on_event(from, event) {
            Some(t) => {
                if t.to() != from {
                    self.enter(j, t);
                }
                true
            }
            None => self.event_refused(j, from, event),
        }
    }

    /// The table refused an engine event (a bug): asserted in debug builds, traced in release.
    #[cold]
    #[inline(never)]
    fn event_refused(&mut self, j: usize, from: JobState, event: EngineEvent) -> bool {
        let job = self.jobs[j].id();
        debug_assert!(
            false,
            "{job:?} in {from} cannot take the engine event {event:?}"
        );
        self.record(TraceKind::EventRefused {
            job,
            state: from,
            event: event.kind(),
        });
        false
    }

    /// Enter `t.to` by `t.rule`: the one place where entry and exit actions happen.
    #[inline(always)]
    fn enter(&mut self, j: usize, t: Transition) {
        let now = self.now;
        let to = t.to();
        let (from, id) = {
            let job = &self.jobs[j];
            (job.state(), job.id())
        };
        let (from_running, to_running) = (from.is_running(), to.is_running());
        debug_assert!(!from.is_final(), "final states are absorbing");

        // ---- leave `from`
        if from_running && !to_running {
            self.release_slot(j);
            self.jobs[j].set_slot(crate::job::Slot::Slice, None);
        }
        if from == JobState::Queued {
            self.unqueue(j);
        }
        self.disarm_timers(j);
        // T23 (D55): the time spent running is counted, or dropped where only a Resume leads on.
        let kept_deadline = if from_running {
            self.max_download_leave(j, to)
        } else {
            self.max_download_settle(j, to);
            None
        };

        // ---- become `t.to`: the job's own part, then the service's
        let modified_before = self.jobs[j].modified_at();
        let entered = self.jobs[j].enter(t, now);
        self.note_retry_idle(id, t, modified_before);
        self.record(TraceKind::State {
            job: id,
            from,
            to,
            rule: t.rule(),
        });
        match entered {
            Entered::Plain => {}
            Entered::RecordDropped => self.record(TraceKind::ErrorRecordDropped { job: id }),
            Entered::Record {
                context,
                code,
                file,
                error_count,
            } => self.record(TraceKind::ErrorRecord {
                job: id,
                context,
                code,
                file,
                error_count,
            }),
        }
        if to_running {
            // T23
            if from_running {
                self.max_download_move(j, kept_deadline);
            } else {
                self.max_download_enter(j);
            }
        }

        // ---- the entry's own actions, then the timers and notifications that follow it (one
        // dispatch on the new state; each arm in that order)
        match to {
            JobState::Queued => {
                self.enqueue(j);
                self.notify(j, NotifyEvent::JobModification);
            }
            JobState::Acknowledged | JobState::Cancelled => {
                self.sandbox_final(j, to == JobState::Acknowledged);
                let owner = self.jobs[j].owner();
                self.live_jobs = self.live_jobs.saturating_sub(1);
                let per_user = &mut self.live_jobs_per_user[owner.index()];
                *per_user = per_user.saturating_sub(1);
                self.notify(j, NotifyEvent::JobModification);
            }
            JobState::TransientError => {
                self.arm_transient_timers(j);
                self.notify(j, NotifyEvent::JobModification);
            }
            JobState::Error => self.notify(j, NotifyEvent::JobError),
            JobState::Transferred => self.notify(j, NotifyEvent::JobTransferred),
            JobState::Suspended | JobState::Connecting | JobState::Transferring => {
                self.notify(j, NotifyEvent::JobModification)
            }
        }
    }

    /// D91: a retry loop is not activity. An entry into TRANSIENT_ERROR starts (or continues) the
    /// job's loop; the service's own changes among QUEUED, CONNECTING and TRANSIENT_ERROR continue
    /// it while nothing else moved ModificationTime since the loop's last change (no progress, no
    /// method call); anything else ends it. T22 counts a job in its loop as inactive since the
    /// loop began ([`Service::inactive_since`]).
    #[inline]
    fn note_retry_idle(&mut self, id: JobId, t: Transition, modified_before: crate::time::SimTime) {
        use crate::transition::Rule;
        let to = t.to();
        if to != JobState::TransientError && self.retry_idle.is_empty() {
            return;
        }
        let own = matches!(
            t.rule(),
            Rule::T4
                | Rule::T6
                | Rule::T7
                | Rule::T11
                | Rule::T18
                | Rule::T19
                | Rule::T20
                | Rule::T21a
                | Rule::T21b
                | Rule::D10
                | Rule::D15
        ) && matches!(
            to,
            JobState::Queued | JobState::Connecting | JobState::TransientError
        );
        let now = self.now;
        if own {
            if let Some(e) = self.retry_idle.get_mut(id) {
                if e.1 == modified_before {
                    e.1 = now;
                    return;
                }
            }
        }
        if to == JobState::TransientError {
            self.retry_idle.insert(id, (now, now));
        } else {
            self.retry_idle.remove(id);
        }
    }

    /// T22 (D36, D91): since when job `j` (not running) has been inactive: the start of its retry
    /// loop while the loop's last change is still its last modification, else its ModificationTime.
    pub(crate) fn inactive_since(&self, j: usize) -> crate::time::SimTime {
        let job = &self.jobs[j];
        let modified = job.modified_at();
        match self.retry_idle.get(job.id()) {
            Some((began, last)) if last == modified => began,
            _ => modified,
        }
    }

    // ------------------------------------------------------------------ notifications (D11)

    /// Deliver `event` for job `j` to its registration, if its flag is set and DISABLE is not. A
    /// scripted answer is answered here; application code is queued as a call-out for the facade to
    /// deliver after the step (D19).
    #[inline]
    pub(crate) fn notify(&mut self, j: usize, event: NotifyEvent) {
        // The usual case, decided without the call: the event's flag is off (JobModification by
        // default), or nobody can take it — no registration, and no options block, so no CLSID
        // (D52) and no command line (§5.3, D50). `notify_about` would return `false` having done
        // nothing.
        let job = &self.jobs[j];
        if !job.notify_flags().delivers(event.flag())
            || (!job.has_options() && self.registration(j).is_none())
        {
            return;
        }
        self.notify_about(j, event, None, &[]);
    }

    /// Callback2 FileTransferred for file `f` of job `j` (D60): when the job's flags include
    /// FILE_TRANSFERRED and not DISABLE, to a registration that implements Callback2 or newer (or the
    /// CLSID's server, D52); never to the command line (§5.4).
    ///
    /// D81: the calls are serialised per job: while an earlier file's call is outstanding (its
    /// call-out not answered yet, or answered with a failure and waiting for its retry) this file's
    /// call waits behind it, and waiting calls go out in the order the files finished once the
    /// outstanding one is answered with a success code (or dropped).
    pub(crate) fn notify_file(&mut self, j: usize, f: u32) {
        // A call that goes nowhere holds nothing back (D81): with the flag off and nothing waiting,
        // there is nothing to queue (and the job's options are not touched).
        if !self.jobs[j]
            .notify_flags()
            .delivers(NotifyEvent::FileTransferred.flag())
            && self.jobs[j].options().file_notices.is_empty()
        {
            return;
        }
        if !self.jobs[j].options().file_notices.is_empty() {
            self.jobs[j].edit_options(|o| o.file_notices.push(f));
            return;
        }
        self.jobs[j].edit_options(|o| o.file_notices.push(f));
        self.drain_file_notices(j);
    }

    /// D81: dispatch the job's first waiting FileTransferred call, and the next ones while each is
    /// answered with a success code at once or not delivered at all (flag off, no Callback2, no
    /// one registered); stop at one that stays outstanding. A file no longer finished, or a job in
    /// a final state, has its waiting call dropped.
    fn drain_file_notices(&mut self, j: usize) {
        if self.engine.draining_file_notices {
            return;
        }
        self.engine.draining_file_notices = true;
        while let Some(&f) = self.jobs[j].options().file_notices.first() {
            let job = &self.jobs[j];
            let due =
                !job.state().is_final() && job.files().get(f as usize).is_some_and(|x| x.is_done());
            let before = job.options().file_notices.len();
            let taken = due && self.notify_about(j, NotifyEvent::FileTransferred, Some(f), &[]);
            if !taken {
                self.pop_file_notice(j, f);
                continue;
            }
            if self.jobs[j].options().file_notices.len() == before {
                break; // outstanding: a call-out in flight, or a failure waiting for its retry
            }
        }
        self.engine.draining_file_notices = false;
    }

    /// D81: file `f`'s FileTransferred call is no longer outstanding (a success answer, or the
    /// call was dropped): take it off the front of the job's queue.
    fn pop_file_notice(&mut self, j: usize, f: u32) {
        if self.jobs[j].options().file_notices.first() == Some(&f) {
            self.jobs[j].edit_options(|o| {
                o.file_notices.remove(0);
            });
        }
    }

    /// D81: the outstanding FileTransferred call of file `f` is done (answered with a success code,
    /// or dropped): the calls waiting behind it go out.
    pub(crate) fn file_notice_done(&mut self, j: usize, f: u32) {
        self.pop_file_notice(j, f);
        self.drain_file_notices(j);
    }

    /// Callback3 FileRangesTransferred for file `f` of job `j` with `ranges` (D76): when the job's
    /// flags include FILE_RANGES_TRANSFERRED and not DISABLE, to a registration that implements
    /// Callback3 (or the CLSID's server, D52); never to the command line (§5.4). Not re-called.
    pub(crate) fn notify_file_ranges(&mut self, j: usize, f: u32, ranges: Vec<(u64, u64)>) {
        self.notify_about(j, NotifyEvent::FileRangesTransferred, Some(f), &ranges);
    }

    /// Deliver (or queue as a call-out) `event` for job `j`; returns whether anyone took it (a
    /// registration that implements the event's interface, or the CLSID path).
    fn notify_about(
        &mut self,
        j: usize,
        event: NotifyEvent,
        file: Option<u32>,
        ranges: &[(u64, u64)],
    ) -> bool {
        if !self.jobs[j].notify_flags().delivers(event.flag()) {
            return false;
        }
        let Some(reg) = self.registration(j) else {
            // §5.2, §5.3: no live object: the CLSID's server, else the command line (D50, D52).
            return self.notify_without_registration(j, event, file, ranges);
        };
        // D60: QueryInterface for the event's interface fails: the object is not called, and the
        // notification does not go elsewhere (the live object took it).
        if reg.implements < event.interface_level() {
            return false;
        }
        let (app, serial, answer) = (reg.app, reg.serial, reg.notifier.answer());
        let mut n = self.notification(j, event);
        n.file = file;
        n.ranges = ranges.to_vec();
        match answer {
            Some(result) => self.delivered(app, serial, n, result),
            None => {
                let job = &self.jobs[j];
                let error = match event {
                    NotifyEvent::JobError => match job.error() {
                        Some(r) => Some((r.clone(), job.transfer_epoch(), self.generation)),
                        // ERROR always has a record (D1); without one there is nothing to report.
                        None => return false,
                    },
                    _ => None,
                };
                self.engine.callouts.push_back(CallOut {
                    app,
                    serial,
                    notification: n,
                    error,
                });
            }
        }
        true
    }

    /// A callback answered `result` to `n`: the application's delivery log, the trace, and D11's
    /// re-delivery.
    pub(crate) fn delivered(&mut self, app: AppId, serial: u64, n: Notification, result: HResult) {
        self.record(TraceKind::Notified {
            app,
            job: n.job,
            event: n.event,
            file: n.file,
            result,
        });
        let (event, file, job) = (n.event, n.file, n.job);
        if let Some(a) = self.apps.get_mut(app.index()) {
            a.log_delivery(Delivery {
                notification: n,
                result,
            });
        }
        // D11: a failing JobTransferred / JobError is called again after the minimum retry delay until it
        // answers S_OK. JobModification has no retry rule (spec §5.2) and is not repeated. D18: a
        // re-delivery beyond the end of time never happens. §5.3: with a command line, the command
        // line runs instead (D50).
        match (event, file) {
            // D60: FileTransferred is called again while it answers a negative HRESULT, after the
            // minimum retry delay; never through the command line (§5.4 ignores FILE flags).
            (NotifyEvent::FileTransferred, Some(f)) => {
                if result.is_failure() {
                    self.file_notify_again(job.index(), f, serial);
                } else {
                    self.file_notice_done(job.index(), f); // D81
                }
            }
            // D76: FileRangesTransferred is not called again.
            (
                NotifyEvent::JobModification
                | NotifyEvent::FileTransferred
                | NotifyEvent::FileRangesTransferred,
                _,
            ) => {}
            _ => {
                if result != HResult::S_OK {
                    self.callback_failed(job.index(), event, serial);
                }
            }
        }
    }

    /// Whether call-outs to application code are waiting for the facade (D19).
    pub fn has_callouts(&self) -> bool {
        !self.engine.callouts.is_empty()
    }

    /// The next call-out to deliver, with its callback lent out of the registration; call-outs of a
    /// registration replaced, cleared or dropped since they were queued are skipped (D11).
    pub(crate) fn next_callout(&mut self) -> Option<(CallOut, AppCode)> {
        while let Some(c) = self.engine.callouts.pop_front() {
            let reg = self
                .registrations
                .get_mut(c.notification.job.index())
                .and_then(Option::as_mut)
                .filter(|r| r.serial == c.serial);
            if let Some(code) = reg.and_then(|r| r.notifier.lend()) {
                return Some((c, code));
            }
            if let (NotifyEvent::FileTransferred, Some(f)) =
                (c.notification.event, c.notification.file)
            {
                // D81: a FileTransferred call dropped with its registration no longer holds back
                // the next file's.
                self.file_notice_done(c.notification.job.index(), f);
            }
        }
        None
    }

    /// The callback of call-out `c` answered `result`: give the code back to its registration (if
    /// it is still the same one) and log the delivery.
    pub(crate) fn callout_answered(&mut self, c: CallOut, code: AppCode, result: HResult) {
        if let Some(r) = self
            .registrations
            .get_mut(c.notification.job.index())
            .and_then(Option::as_mut)
            .filter(|r| r.serial == c.serial)
        {
            r.notifier.give_back(code);
        }
        self.delivered(c.app, c.serial, c.notification, result);
    }

    /// A scheduled re-delivery of a failed JobTransferred / JobError (D11).
    pub(crate) fn notify_retry(&mut self, id: JobId, serial: u64, event: NotifyEvent) {
        let j = id.index();
        // Serial 0: a notification of the CLSID or command-line path (§5.3, D50), sent again through
        // whatever is registered now.
        let still_registered =
            serial == 0 || self.registration(j).is_some_and(|r| r.serial == serial);
        let still_due = match event {
            NotifyEvent::JobTransferred => self.jobs[j].state() == JobState::Transferred,
            NotifyEvent::JobError => self.jobs[j].state() == JobState::Error,
            NotifyEvent::JobModification
            | NotifyEvent::FileTransferred
            | NotifyEvent::FileRangesTransferred => false,
        };
        if still_registered && still_due {
            self.notify(j, event);
        }
    }

    /// A scheduled re-delivery of a failed FileTransferred (D60): while the registration is the same
    /// (serial 0: the CLSID path) and the file is still finished in a job not yet ACKNOWLEDGED or
    /// CANCELLED.
    pub(crate) fn file_notify_retry(&mut self, id: JobId, file: u32, serial: u64) {
        let j = id.index();
        let still_registered =
            serial == 0 || self.registration(j).is_some_and(|r| r.serial == serial);
        let job = &self.jobs[j];
        let still_due = !job.state().is_final()
            && job.files().get(file as usize).is_some_and(|f| {
                f.bytes_total != crate::BG_SIZE_UNKNOWN && f.bytes_transferred == f.bytes_total
            });
        // D81: the retried call is the job's outstanding one; dropped, or not taken any more, it
        // lets the next file's call go.
        let outstanding = job.options().file_notices.first() == Some(&file);
        let taken = still_registered
            && still_due
            && self.notify_about(j, NotifyEvent::FileTransferred, Some(file), &[]);
        if !taken && outstanding {
            self.file_notice_done(j, file);
        }
    }

    /// The job changed without changing state (property, file added, progress): ModificationTime and
    /// JobModification (§8.2, D11).
    pub(crate) fn modified(&mut self, j: usize) {
        self.jobs[j].touch(self.now);
        self.notify(j, NotifyEvent::JobModification);
    }
}

#[cfg(test)]
mod tests {
    use crate::state::{JobState, JobType};
    use crate::trace::TraceKind;
    use crate::transition::{EngineEvent, EventKind};
    use crate::{Service, World};
    use std::panic::{catch_unwind, AssertUnwindSafe};

    #[test]
    fn a_refused_engine_event_is_asserted_in_debug_and_traced_in_release() {
        let mut s = Service::new(World::default());
        let user = s.add_user("alice", false, true);
        let app = s.connect("app", user);
        let job = s.create_job(app, "j", JobType::Download).unwrap();
        // SUSPENDED has no retry timer (T11 is a TRANSIENT_ERROR row).
        let took = catch_unwind(AssertUnwindSafe(|| {
            s.on_event(job.index(), EngineEvent::RetryTimer)
        }));
        if cfg!(debug_assertions) {
            assert!(took.is_err(), "debug builds assert");
        } else {
            assert_eq!(took.ok(), Some(false));
            assert_eq!(
                s.trace().last().map(|e| e.kind),
                Some(TraceKind::EventRefused {
                    job,
                    state: JobState::Suspended,
                    event: EventKind::RetryTimer,
                })
            );
        }
        assert_eq!(s.state(app, job), Ok(JobState::Suspended));
    }
}
