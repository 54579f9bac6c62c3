//! The service's clock and scheduler: virtual time jumping from event to event (D13), the timers of
//! TRANSIENT_ERROR (retry D3, no-progress deadline D4, T11, T12), the background time slice (T7) and the
//! scheduler (D12): every foreground job at once, one background job at a time by priority.

use super::Service;
use crate::engine::{Event, Scheduled, Source, StepLimitExceeded, DEFAULT_MAX_STEPS};
use crate::job::{Job, JobId, Slot};
use crate::state::JobState;
use crate::time::{SimDuration, SimTime};
use crate::trace::TraceKind;
use crate::transition::{self, EngineEvent, Failure};
use crate::world::Network;

/// D85: the timer list is compacted once it holds this many timers and twice as many as after its
/// last compaction.
const COMPACT_MIN: usize = 1024;

/// D85: whether timer `e` was cancelled: its job no longer records `e`'s due time for it (a retry,
/// no-progress deadline or time slice disarmed or moved since it was put on the list). A cancelled
/// timer would fire as a no-op; it is dropped instead. Other timers (scheduler passes, callback
/// retries, launches) check their own conditions when they fire and are never dropped early.
pub(crate) fn cancelled(jobs: &[Job], e: &Scheduled) -> bool {
    let at = Some(e.time);
    let job = |id: JobId| jobs.get(id.index());
    match e.event {
        Event::Retry(id) => job(id).is_some_and(|j| j.timer(Slot::Retry) != at),
        Event::Deadline(id) => job(id)
            .is_some_and(|j| j.timer(Slot::DeadlineQueued) != at && j.timer(Slot::Deadline) != at),
        Event::Slice(id) => job(id).is_some_and(|j| j.timer(Slot::Slice) != at),
        _ => false,
    }
}

/// The next event: when it falls due (`at`), the next transfer point's time (`flow`) and the front
/// live timer's (`timer`), as [`Service::next_live_due`] found them.
#[derive(Clone, Copy, Debug)]
struct Due {
    at: SimTime,
    flow: Option<SimTime>,
    /// The front live timer's time and where it sits (`step` takes it from there).
    timer: Option<(SimTime, Source)>,
}

/// Where [`Service::idle_toward`] stopped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum IdleStep {
    /// Idle reached.
    Idle,
    /// The limit reached first (not idle).
    Limit,
    /// Call-outs to application code are pending.
    CallOut,
}

impl Service {
    // ================================================================== time

    /// Move virtual time forward by `d`, doing everything that falls due, in order (D13). Bounded:
    /// see [`Service::try_run_until`].
    pub fn advance(&mut self, d: SimDuration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// Process every event due at or before `t`, then set the clock to `t` (never backwards).
    /// Bounded: after [`DEFAULT_MAX_STEPS`] events it stops where it is and records
    /// [`TraceKind::StepLimit`] (use [`Service::try_run_until`] to get the error).
    pub fn run_until(&mut self, t: SimTime) {
        let _ = self.try_run_until(t, DEFAULT_MAX_STEPS);
    }

    /// [`Service::advance`] with an explicit bound of `max_steps` events.
    pub fn try_advance(&mut self, d: SimDuration, max_steps: u64) -> Result<(), StepLimitExceeded> {
        let until = self.now + d;
        self.try_run_until(until, max_steps)
    }

    /// [`Service::run_until`] with an explicit bound: after `max_steps` events the clock stays at the
    /// last event processed, a [`TraceKind::StepLimit`] record is made, and the error says where.
    pub fn try_run_until(&mut self, t: SimTime, max_steps: u64) -> Result<(), StepLimitExceeded> {
        let mut steps = 0;
        self.run_toward(t, &mut steps, max_steps, false).map(|_| ())
    }

    /// The clock loop under every clock method: process events due at or before `t`, counting them
    /// in `steps` against `max_steps`. With `stop_at_callout`, return `Ok(false)` right after a step
    /// that left call-outs to application code pending (the facade delivers them, then calls again);
    /// otherwise `Ok(true)` once `t` is reached (the clock is then at `t`).
    pub(crate) fn run_toward(
        &mut self,
        t: SimTime,
        steps: &mut u64,
        max_steps: u64,
        stop_at_callout: bool,
    ) -> Result<bool, StepLimitExceeded> {
        while let Some(next) = self.next_live_due() {
            if next.at > t {
                break;
            }
            if *steps >= max_steps {
                return Err(self.step_limit(*steps));
            }
            self.step(next);
            *steps += 1;
            if stop_at_callout && self.has_callouts() {
                return Ok(false);
            }
        }
        if t > self.now {
            self.now = t;
        }
        Ok(true)
    }

    /// A clock method of the facade was called from inside a callback (D19).
    pub(crate) fn record_clock_in_callback(&mut self) {
        self.record(TraceKind::ClockInCallback);
    }

    /// The bound was hit after `steps` events: record it and say where the clock stopped.
    pub(crate) fn step_limit(&mut self, steps: u64) -> StepLimitExceeded {
        self.record(TraceKind::StepLimit { steps });
        StepLimitExceeded {
            steps,
            time: self.now,
        }
    }

    /// Advance until no job can change state without a call (no armed retry or no-progress timer, no
    /// transfer under way, no scheduler pass pending). The clock stops at the last event. Gives up with
    /// [`StepLimitExceeded`] after `max_steps` events instead of looping.
    pub fn run_until_idle(&mut self, max_steps: u64) -> Result<(), StepLimitExceeded> {
        self.run_until_idle_before(SimTime::MAX, max_steps)
            .map(|_| ())
    }

    /// Like [`Service::run_until_idle`] but never past `limit`: returns `Ok(true)` when idle was reached,
    /// `Ok(false)` when the clock reached `limit` first (the clock is then at `limit`).
    pub fn run_until_idle_before(
        &mut self,
        limit: SimTime,
        max_steps: u64,
    ) -> Result<bool, StepLimitExceeded> {
        let mut steps = 0u64;
        loop {
            match self.idle_toward(limit, &mut steps, max_steps, false)? {
                IdleStep::Idle => return Ok(true),
                IdleStep::Limit => return Ok(false),
                IdleStep::CallOut => {}
            }
        }
    }

    /// The loop under `run_until_idle`: like [`Service::run_toward`], stopping at idle, at `limit`, or
    /// (with `stop_at_callout`) after a step that left call-outs pending.
    pub(crate) fn idle_toward(
        &mut self,
        limit: SimTime,
        steps: &mut u64,
        max_steps: u64,
        stop_at_callout: bool,
    ) -> Result<IdleStep, StepLimitExceeded> {
        while !self.is_idle() {
            match self.next_live_due() {
                Some(next) if next.at <= limit => {
                    if *steps >= max_steps {
                        return Err(self.step_limit(*steps));
                    }
                    self.step(next);
                    *steps += 1;
                    if stop_at_callout && self.has_callouts() {
                        return Ok(IdleStep::CallOut);
                    }
                }
                _ => {
                    if limit != SimTime::MAX && limit > self.now {
                        self.run_toward(limit, steps, max_steps, false)?;
                    }
                    return Ok(if self.is_idle() {
                        IdleStep::Idle
                    } else {
                        IdleStep::Limit
                    });
                }
            }
        }
        Ok(IdleStep::Idle)
    }

    /// No job can change state without a method call or an environment change.
    pub fn is_idle(&self) -> bool {
        // With no bandwidth, running transfers cannot move: they count as waiting, not as work.
        self.engine.armed == 0
            && !self.engine.schedule_pending
            && self.engine.launches_pending == 0
            && (self.engine.flow.points.is_empty() || self.world.bandwidth == 0)
    }

    /// When the next event falls due (cancelled timers do not count, D85).
    pub fn next_event_time(&self) -> Option<SimTime> {
        let heap = match self.engine.peek_event() {
            // The front timer was cancelled since the clock last ran (a method call): the earliest
            // live one, found without changing anything.
            Some(e) if cancelled(&self.jobs, e) => self
                .engine
                .pending_events()
                .filter(|e| !cancelled(&self.jobs, e))
                .map(|e| e.time)
                .min(),
            front => front.map(|e| e.time),
        };
        self.next_due(heap)
    }

    /// D85: drop the cancelled timers at the front of the list (they are not events: no step, no
    /// clock movement), then when the next event falls due, with what [`Service::step`] needs to
    /// know about it.
    #[inline(always)]
    fn next_live_due(&mut self) -> Option<Due> {
        // The held time slice (usually cancelled by now: its job finished) goes unseen.
        if self.engine.held.is_some_and(|h| cancelled(&self.jobs, &h)) {
            self.engine.held = None;
        }
        let front = loop {
            match self.engine.peek_front() {
                Some((e, source)) if cancelled(&self.jobs, e) => {
                    self.engine.pop_from(source);
                }
                front => break front.map(|(e, source)| (e.time, source)),
            }
        };
        let flow = self.engine.flow.next_time(self.world.bandwidth);
        self.next_due_of(front.map(|(at, _)| at), flow)
            .map(|at| Due {
                at,
                flow,
                timer: front,
            })
    }

    /// When the next event falls due, given the front timer's time `heap`.
    fn next_due(&self, heap: Option<SimTime>) -> Option<SimTime> {
        let flow = self.engine.flow.next_time(self.world.bandwidth);
        self.next_due_of(heap, flow)
    }

    /// When the next event falls due, given the front timer's time `heap` and the next transfer
    /// point's `flow`.
    #[inline]
    fn next_due_of(&self, heap: Option<SimTime>, flow: Option<SimTime>) -> Option<SimTime> {
        let due = match (heap, flow) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // T23 (D55): the maximum download deadlines.
        let due = match (due, self.engine.max_download.first().map(|&(d, _)| d)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // T22 (D36): the inactivity deadlines come after everything else due at the same instant.
        match (due, self.engine.scavenge.due()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Process one thing due at `due.at`: transfer points first, then timers in scheduling order.
    /// `due` is what [`Service::next_live_due`] found just before, nothing having changed since: the
    /// next transfer point's time and the front live timer's are not looked up again.
    fn step(&mut self, due: Due) {
        let t = due.at;
        debug_assert!(t >= self.now, "time never goes backwards");
        debug_assert_eq!(due.flow, self.engine.flow.next_time(self.world.bandwidth));
        debug_assert_eq!(
            due.timer,
            self.engine.peek_front().map(|(e, source)| (e.time, source))
        );
        self.now = t;
        self.engine.steps += 1;
        let bw = self.world.bandwidth;
        if due.flow == Some(t) {
            self.engine.flow.sync(t, bw);
            if let Some(&(p, id)) = self.engine.flow.points.first() {
                if p <= self.engine.flow.s {
                    self.transfer_point(id.index());
                    return;
                }
            }
        }
        let Some(source) = due.timer.filter(|&(at, _)| at <= t).map(|(_, s)| s) else {
            if self
                .engine
                .max_download
                .first()
                .is_some_and(|&(d, _)| d <= t)
            {
                self.max_download_pass(t); // T23
                return;
            }
            if self.engine.scavenge.due().is_some_and(|d| d <= t) {
                self.scavenge_pass(t);
            }
            return;
        };
        let Some(ev) = self.engine.pop_from(source) else {
            return;
        };
        match ev.event {
            Event::Schedule => self.schedule_pass(),
            Event::Retry(id) => {
                let j = id.index();
                if self.jobs[j].timer(Slot::Retry) == Some(t) {
                    self.disarm_retry(j);
                    self.on_event(j, EngineEvent::RetryTimer); // T11
                }
            }
            Event::Deadline(id) => {
                let j = id.index();
                if self.jobs[j].timer(Slot::DeadlineQueued) == Some(t) {
                    self.jobs[j].set_slot(Slot::DeadlineQueued, None);
                }
                if self.jobs[j].timer(Slot::Deadline) == Some(t) {
                    self.disarm_deadline(j);
                    self.on_event(j, EngineEvent::NoProgressTimeout); // T12, D4
                }
            }
            Event::Slice(id) => {
                let j = id.index();
                if self.jobs[j].timer(Slot::Slice) == Some(t) {
                    self.jobs[j].set_slot(Slot::Slice, None);
                    self.time_slice_over(j);
                }
            }
            Event::NotifyRetry { job, serial, event } => self.notify_retry(job, serial, event),
            Event::Launch { job, event } => self.launch(job, event),
            Event::FileNotifyRetry { job, file, serial } => {
                self.file_notify_retry(job, file, serial)
            }
        }
    }

    // ================================================================== timers

    /// D18, the end of time: the due time of a timer set `delay` after `from`, or `None` when a
    /// positive delay reaches [`SimTime::MAX`] (the last instant, where saturation would make the
    /// timer fall due again and again at the same instant). Such a timer is never armed: what it
    /// would start never happens.
    pub(crate) fn due_after(from: SimTime, delay: SimDuration) -> Option<SimTime> {
        let at = from + delay;
        (at < SimTime::MAX || delay == SimDuration::ZERO).then_some(at)
    }

    pub(crate) fn push_event(&mut self, time: SimTime, event: Event) {
        self.engine.push_event(self.now, time, event);
        self.compact_timers();
    }

    /// D85: once the list has doubled since its last compaction, the cancelled timers go (so in a
    /// steady state at most half of it is dead); amortised O(1) per timer.
    fn compact_timers(&mut self) {
        if self.engine.timer_list_len() >= self.engine.compact_at.max(COMPACT_MIN) {
            let jobs = &self.jobs;
            self.engine.retain_timers(|e| !cancelled(jobs, e));
            self.engine.compact_at = 2 * self.engine.timer_list_len();
        }
    }

    pub(crate) fn request_schedule(&mut self) {
        self.engine.request_schedule(self.now);
    }

    fn arm_retry(&mut self, j: usize, at: SimTime) {
        if self.jobs[j].set_slot(Slot::Retry, Some(at)).is_none() {
            self.engine.armed += 1;
        }
        let job = self.jobs[j].id();
        self.push_event(at, Event::Retry(job));
        self.record(TraceKind::RetryArmed { job, at });
    }

    pub(crate) fn disarm_retry(&mut self, j: usize) {
        if self.jobs[j].set_slot(Slot::Retry, None).is_some() {
            self.engine.armed -= 1;
        }
    }

    fn arm_deadline(&mut self, j: usize, at: SimTime) {
        let job = &mut self.jobs[j];
        if job.set_slot(Slot::Deadline, Some(at)).is_none() {
            self.engine.armed += 1;
        }
        if job.timer(Slot::DeadlineQueued) != Some(at) {
            job.set_slot(Slot::DeadlineQueued, Some(at));
            let id = job.id();
            self.push_event(at, Event::Deadline(id));
            self.record(TraceKind::DeadlineArmed { job: id, at });
        }
    }

    fn disarm_deadline(&mut self, j: usize) {
        if self.jobs[j].set_slot(Slot::Deadline, None).is_some() {
            self.engine.armed -= 1;
        }
    }

    /// Disarm the retry and no-progress timers (the time slice belongs to the slot, see `enter`).
    pub(crate) fn disarm_timers(&mut self, j: usize) {
        // Neither armed (every entry but those out of TRANSIENT_ERROR): nothing to clear.
        let job = &self.jobs[j];
        if job.timer(Slot::Retry).is_none() && job.timer(Slot::Deadline).is_none() {
            return;
        }
        self.disarm_retry(j);
        self.disarm_deadline(j);
    }

    /// On entry into TRANSIENT_ERROR: the retry timer (D3) unless BITS waits for the network, and the
    /// no-progress deadline (D4).
    pub(crate) fn arm_transient_timers(&mut self, j: usize) {
        let now = self.now;
        let since = self.jobs[j].no_progress_clock(now);
        let job = &self.jobs[j];
        // D18: a retry or deadline beyond the end of time is not armed (`None` is "never").
        let deadline = Self::due_after(since, job.no_progress_timeout());
        let retry = (!job.waiting_for_network() && self.world.network == Network::Up)
            .then(|| Self::due_after(job.state_since(), job.retry_delay()))
            .flatten();
        // D4: no retry at or after the no-progress deadline — at that instant the timeout wins.
        if let Some(at) = retry.filter(|&at| deadline.is_none_or(|d| at.max(self.now) < d)) {
            self.arm_retry(j, at.max(self.now));
        }
        if let Some(deadline) = deadline {
            self.arm_deadline(j, deadline.max(self.now));
        }
    }

    /// SetMinimumRetryDelay / SetNoProgressTimeout while in TRANSIENT_ERROR: move the timers; a timeout
    /// already used up sends the job to ERROR at this instant (D4, T12).
    pub(crate) fn rearm_transient_timers(&mut self, j: usize) {
        if self.jobs[j].state() != JobState::TransientError {
            return;
        }
        let job = &self.jobs[j];
        let since = job.no_progress_since().unwrap_or(job.state_since());
        // The same D4 test as at error time; T25 is for errors about to be retried, not for a job
        // already waiting, whose deadline simply falls before its retry.
        let escalated = transition::escalate(
            job.no_progress_timeout(),
            job.retry_delay(),
            since,
            self.now,
            false,
        );
        self.disarm_timers(j);
        if escalated != Failure::Transient {
            self.on_event(j, EngineEvent::NoProgressTimeout);
        } else {
            self.arm_transient_timers(j);
        }
    }

    // ================================================================== queues and slots

    /// A job entered QUEUED: ready queue if its owner is logged on, else parked (D10).
    #[inline]
    pub(crate) fn enqueue(&mut self, j: usize) {
        let job = &self.jobs[j];
        let logged_on = self.users[job.owner().index()].logged_on;
        let key = self.engine.enqueue(job.id(), job.priority(), logged_on);
        self.jobs[j].set_ready_key(Some(key));
        self.request_schedule();
    }

    /// A job left QUEUED (or its priority or owner changes and it is re-queued).
    #[inline]
    pub(crate) fn unqueue(&mut self, j: usize) {
        let job = &mut self.jobs[j];
        let key = job.set_ready_key(None);
        self.engine.unqueue(job.id(), job.priority(), key);
    }

    /// Take job `j` out of its queue and put it back (its owner logged on or off, or changed).
    pub(crate) fn requeue(&mut self, j: usize) {
        self.unqueue(j);
        self.enqueue(j);
    }

    // ================================================================== the scheduler (D12)

    fn schedule_pass(&mut self) {
        self.engine.schedule_pending = false;
        if self.world.network == Network::Down {
            // T18: nothing can connect; queued jobs wait in TRANSIENT_ERROR for the network.
            for id in self.engine.queued() {
                self.network_lost(id.index());
            }
            return;
        }
        // All foreground jobs run at once.
        while let Some((_, id)) = self.engine.ready_fg.first().copied() {
            self.start(id.index());
        }
        // One background job at a time: HIGH before NORMAL before LOW, first come first served.
        loop {
            let key = |s: &Self, id: JobId| {
                let job = &s.jobs[id.index()];
                (job.priority(), job.state_since(), id)
            };
            // The best running background job, found without allocating (there is at most one in
            // the usual case).
            let mut current = None;
            let mut running_bg = 0usize;
            for &id in self.engine.running_bg() {
                debug_assert!(!self.jobs[id.index()].priority().is_foreground());
                running_bg += 1;
                let k = key(self, id);
                if current.is_none_or(|c| k < c) {
                    current = Some(k);
                }
            }
            if running_bg > 1 {
                // A priority change can leave two background jobs running: the better one keeps the
                // slot; the others lose it, in order (T7).
                let mut bg: Vec<JobId> = self.engine.running_bg().to_vec();
                bg.sort_by_key(|&id| key(self, id));
                for extra in bg.iter().skip(1) {
                    self.on_event(extra.index(), EngineEvent::TimeSliceEnd);
                }
            }
            let Some((best_priority, _, best)) = self.engine.first_ready_bg() else {
                break;
            };
            if !self.cost_allows(best.index()) {
                // T21a (D53): the network's cost blocks it; it leaves the queue and waits.
                self.cost_block(best.index());
                continue;
            }
            if self.world.policy_blocks_background {
                // T21 (D99): Group Policy blocks every background job; it leaves the queue and
                // waits.
                self.policy_block(best.index());
                continue;
            }
            // The cost and the policy were just checked, and nothing changed since: `start_allowed`.
            match current.map(|(_, _, id)| id) {
                None => self.start_allowed(best.index()),
                // A higher priority pre-empts a lower one (spec §1.6, T7).
                Some(cur) if best_priority < self.jobs[cur.index()].priority() => {
                    self.on_event(cur.index(), EngineEvent::TimeSliceEnd);
                    self.start_allowed(best.index());
                }
                Some(_) => break,
            }
        }
    }

    /// T4 and the first connection attempt. Only QUEUED jobs are in the ready queues. A job the
    /// network's cost blocks waits instead (T21a, D53), then one Group Policy blocks (T21, D99);
    /// one whose maximum download time is already used up goes to ERROR before its attempt (T23,
    /// D55).
    fn start(&mut self, j: usize) {
        if !self.cost_allows(j) {
            self.cost_block(j);
            return;
        }
        if !self.policy_allows(j) {
            self.policy_block(j);
            return;
        }
        self.start_allowed(j);
    }

    /// [`Service::start`] of a job whose cost flags were just checked against the network's cost,
    /// and Group Policy's block against its priority (the background path of the scheduler checks
    /// before it decides to pre-empt).
    fn start_allowed(&mut self, j: usize) {
        debug_assert!(self.cost_allows(j) && self.policy_allows(j));
        self.on_event(j, EngineEvent::SchedulerTurn);
        let id = self.jobs[j].id();
        let priority = self.jobs[j].priority();
        self.engine.set_running(id, Some(priority));
        if !priority.is_foreground() {
            self.arm_slice(j);
        }
        if self.max_download_used_up(j) {
            self.max_download_fire(j);
            return;
        }
        self.connect_next_file(j);
    }

    /// T7: rotate if another background job of the same or a higher priority waits; else keep going.
    fn time_slice_over(&mut self, j: usize) {
        let job = &self.jobs[j];
        if !job.state().is_running() || job.priority().is_foreground() {
            return;
        }
        let waiting = self
            .engine
            .first_ready_bg()
            .is_some_and(|(p, _, _)| p <= job.priority());
        if waiting {
            self.on_event(j, EngineEvent::TimeSliceEnd);
        } else {
            self.arm_slice(j);
        }
    }

    /// The end of job `j`'s time slice (T7, D12a). The slice is at least 1 s (a zero slice is
    /// refused at the source, D20); a slice ending beyond the end of time is not armed, so the job
    /// keeps its slot (D18).
    #[inline(always)]
    fn arm_slice(&mut self, j: usize) {
        let slice = SimDuration::from_secs(self.world.time_slice_secs.max(1));
        let at = Self::due_after(self.now, slice);
        self.jobs[j].set_slot(Slot::Slice, at);
        if let Some(at) = at {
            let id = self.jobs[j].id();
            // A held slice cancelled since (its job stopped running) is dropped, not put on the
            // heap (D85); the new one is held in its place.
            if self.engine.held.is_some_and(|h| cancelled(&self.jobs, &h)) {
                self.engine.held = None;
            }
            self.engine.push_held(at, Event::Slice(id));
            self.compact_timers();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::COMPACT_MIN;
    use crate::service::Service;
    use crate::{JobType, Remote, SimDuration, World};

    const URL: &str = "https://x.test/big";

    /// One background job on a 10 GB remote, resumed and running (its time slice armed).
    fn running() -> (Service, crate::AppId, crate::JobId) {
        let mut s = Service::new(World::new().remote(URL, Remote::sized(10_000_000_000)));
        let u = s.add_user("u", false, true);
        let app = s.connect("a", u);
        let j = s.create_job(app, "j", JobType::Download).unwrap();
        s.add_file(app, j, URL, "C:\\f").unwrap();
        s.resume(app, j).unwrap();
        s.advance(SimDuration::from_millis(1));
        (s, app, j)
    }

    /// Suspend and resume `n` times, 1 ms apart: each start arms a time slice (T7) that the next
    /// Suspend cancels.
    fn cycle(s: &mut Service, app: crate::AppId, j: crate::JobId, n: usize) {
        for _ in 0..n {
            s.suspend(app, j).unwrap();
            s.resume(app, j).unwrap();
            s.advance(SimDuration::from_millis(1));
        }
    }

    #[test]
    fn d85_cancelled_time_slices_do_not_pile_up_or_count_as_events() {
        let (mut s, app, j) = running();
        cycle(&mut s, app, j, 5_000);
        // Without D85 the heap holds the 5,000 cancelled slices.
        assert!(
            s.engine.timer_list_len() <= COMPACT_MIN,
            "{} timers on the heap and in the runs",
            s.engine.timer_list_len()
        );
        // Only the live slice is due (armed at the last start, 5 s): the cancelled ones (due at
        // 600 s … 604.999 s) are not events.
        let before = s.steps();
        let live = s.next_event_time().unwrap();
        assert_eq!(live.as_millis(), 5_000 + 600_000);
        s.advance(SimDuration::from_secs(606));
        // The live slice fires and is re-armed (nobody waits, T7): one event.
        assert_eq!(s.steps() - before, 1);
    }

    #[test]
    fn d85_snapshots_leave_cancelled_timers_out_and_files_listing_them_load() {
        let (mut s, app, j) = running();
        cycle(&mut s, app, j, 3);
        let json = s.to_snapshot_json();
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let timers = v["timers"].as_array().unwrap().clone();
        assert_eq!(
            timers,
            vec![serde_json::json!({"at": 600_003, "event": {"time_slice": {"job": 0}}})],
            "only the live slice"
        );
        // A file written before D85 lists the cancelled slices too: it loads, and they are dropped.
        let dead = |at: u64| serde_json::json!({"at": at, "event": {"time_slice": {"job": 0}}});
        v["timers"] = serde_json::json!([
            dead(600_000),
            dead(600_001),
            dead(600_002),
            timers[0].clone()
        ]);
        let path = std::path::Path::new("old.json");
        let mut old = Service::from_snapshot_json(&v.to_string(), path).unwrap();
        assert_eq!(old.next_event_time(), s.next_event_time());
        assert_eq!(
            old.to_snapshot_json(),
            json,
            "saved again without the cancelled ones"
        );
        let before = old.steps();
        old.advance(SimDuration::from_secs(700));
        assert_eq!(old.steps() - before, 1, "only the live slice is an event");
    }
}
