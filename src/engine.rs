//! The discrete-event engine: virtual time (D13), the scheduler (D12), transfers sharing bandwidth,
//! failures and their classification (D5), retries (D3), the no-progress timeout (D4), logon (D10),
//! network loss and return (T18, T19), and service restart (D15).
//!
//! Time jumps from event to event; nothing ticks. Timers live in a binary heap keyed by
//! `(time, sequence)`; a timer is live only while the job still records the same due time, so a
//! cancelled timer costs nothing but its heap slot. Transfers do not use the heap at all: running
//! transfers share the bandwidth equally, so all of them advance along one shared counter `S` (bytes per
//! transfer, scaled); each transfer's next stop (file end or scripted failure) is a point on that counter,
//! kept in an ordered set, and the next transfer event is the smallest point. Adding or removing a
//! transfer changes only the counter's speed. Every step is O(log n).

use crate::job::{Active, FileData};
use crate::notify::NotifyEvent;
use crate::service::{Cause, Service};
use crate::trace::TraceKind;
use crate::transition::{self, Failure, Input};
use crate::world::{Class, Fault, Network, Response};
use crate::{ErrorContext, HResult, JobId, JobState, SimDuration, SimTime};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Units of the shared counter per byte: 1000 (milliseconds per second) × lcm(1..=16), so that the
/// per-millisecond rate `bandwidth × SCALE / (1000 × k)` is exact for up to 16 concurrent transfers
/// and equal shares finish exactly when arithmetic says they should.
pub(crate) const SCALE: u128 = 1000 * 720_720;

/// A timer in the heap.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub(crate) enum Event {
    /// Run a scheduler pass (coalesced).
    Schedule,
    /// The retry timer of a TRANSIENT_ERROR job (T11).
    Retry(JobId),
    /// The no-progress deadline (T12).
    Deadline(JobId),
    /// The background time slice (T7).
    Slice(JobId),
    /// Call a failed callback again (D11).
    NotifyRetry {
        job: JobId,
        serial: u64,
        event: NotifyEvent,
    },
}

/// A heap entry; ordered by time, then by the order it was scheduled in.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub(crate) struct Scheduled {
    pub time: SimTime,
    pub seq: u64,
    pub event: Event,
}

/// The shared progress counter of running transfers.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Flow {
    /// Per-transfer service so far, in bytes × SCALE.
    pub s: u128,
    /// When `s` was last brought up to date.
    pub s_time: SimTime,
    /// Each running transfer's next stop on the counter.
    pub points: BTreeSet<(u128, JobId)>,
}

impl Flow {
    /// Counter units per millisecond for each of `k` transfers sharing `bandwidth` bytes/s.
    fn rate(bandwidth: u64, k: usize) -> u128 {
        if bandwidth == 0 || k == 0 {
            0
        } else {
            (u128::from(bandwidth) * SCALE / (1000 * k as u128)).max(1)
        }
    }

    pub(crate) fn s_at(&self, now: SimTime, bandwidth: u64) -> u128 {
        let dt = u128::from(now.saturating_since(self.s_time).as_millis());
        self.s + Self::rate(bandwidth, self.points.len()) * dt
    }

    fn sync(&mut self, now: SimTime, bandwidth: u64) {
        self.s = self.s_at(now, bandwidth);
        self.s_time = now;
    }

    /// When the next point is reached.
    fn next_time(&self, bandwidth: u64) -> Option<SimTime> {
        let &(p, _) = self.points.first()?;
        if p <= self.s {
            return Some(self.s_time);
        }
        let rate = Self::rate(bandwidth, self.points.len());
        if rate == 0 {
            return None;
        }
        let dt = (p - self.s).div_ceil(rate);
        Some(self.s_time.saturating_add(SimDuration::from_millis(
            u64::try_from(dt).unwrap_or(u64::MAX),
        )))
    }
}

/// The engine could not reach idle within its step bound.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[error("the simulation did not become idle within {steps} events (stopped at {time})")]
pub struct StepLimitExceeded {
    /// Events processed in this call.
    pub steps: u64,
    /// Virtual time reached.
    pub time: SimTime,
}

/// The default bound of [`Service::run_until_idle`].
pub const DEFAULT_MAX_STEPS: u64 = 10_000_000;

impl Service {
    // ================================================================== time

    /// Move virtual time forward by `d`, doing everything that falls due, in order (D13).
    pub fn advance(&mut self, d: SimDuration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// Process every event due at or before `t`, then set the clock to `t` (never backwards).
    pub fn run_until(&mut self, t: SimTime) {
        while let Some(next) = self.next_due() {
            if next > t {
                break;
            }
            self.step(next);
        }
        if t > self.now {
            self.now = t;
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
        while !self.is_idle() {
            match self.next_due() {
                Some(next) if next <= limit => {
                    if steps >= max_steps {
                        return Err(StepLimitExceeded {
                            steps,
                            time: self.now,
                        });
                    }
                    self.step(next);
                    steps += 1;
                }
                _ => {
                    if limit != SimTime::MAX && limit > self.now {
                        self.run_until(limit);
                    }
                    return Ok(self.is_idle());
                }
            }
        }
        Ok(true)
    }

    /// No job can change state without a method call or an environment change.
    pub fn is_idle(&self) -> bool {
        // With no bandwidth, running transfers cannot move: they count as waiting, not as work.
        self.armed == 0
            && !self.schedule_pending
            && (self.flow.points.is_empty() || self.world.bandwidth == 0)
    }

    /// When the next event falls due.
    pub fn next_event_time(&self) -> Option<SimTime> {
        self.next_due()
    }

    fn next_due(&self) -> Option<SimTime> {
        let heap = self.peek_event().map(|e| e.time);
        let flow = self.flow.next_time(self.world.bandwidth);
        match (heap, flow) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Process one thing due at `t`: transfer points first, then timers in scheduling order.
    fn step(&mut self, t: SimTime) {
        debug_assert!(t >= self.now, "time never goes backwards");
        self.now = t;
        self.steps += 1;
        let bw = self.world.bandwidth;
        if self.flow.next_time(bw) == Some(t) {
            self.flow.sync(t, bw);
            if let Some(&(p, id)) = self.flow.points.first() {
                if p <= self.flow.s {
                    self.transfer_point(id.index());
                    return;
                }
            }
        }
        if self.peek_event().is_none_or(|e| e.time > t) {
            return;
        }
        let Some(ev) = self.pop_event() else {
            return;
        };
        match ev.event {
            Event::Schedule => self.schedule_pass(),
            Event::Retry(id) => {
                let j = id.index();
                if self.jobs[j].retry_at == Some(t) {
                    self.disarm_retry(j);
                    // T11
                    let _ = self.apply(j, Input::RetryTimer, Cause::Plain);
                }
            }
            Event::Deadline(id) => {
                let j = id.index();
                if self.jobs[j].deadline_queued == Some(t) {
                    self.jobs[j].deadline_queued = None;
                }
                if self.jobs[j].deadline_at == Some(t) {
                    self.disarm_deadline(j);
                    // T12, D4
                    let _ = self.apply(j, Input::NoProgressTimeout, Cause::Plain);
                }
            }
            Event::Slice(id) => {
                let j = id.index();
                if self.jobs[j].slice_at == Some(t) {
                    self.jobs[j].slice_at = None;
                    self.time_slice_over(j);
                }
            }
            Event::NotifyRetry { job, serial, event } => self.notify_retry(job, serial, event),
        }
    }

    // ================================================================== timers

    pub(crate) fn request_schedule(&mut self) {
        if !self.schedule_pending {
            self.schedule_pending = true;
            let now = self.now;
            self.push_event(now, Event::Schedule);
        }
    }

    fn arm_retry(&mut self, j: usize, at: SimTime) {
        if self.jobs[j].retry_at.replace(at).is_none() {
            self.armed += 1;
        }
        self.push_event(at, Event::Retry(self.jobs[j].id));
        let job = self.jobs[j].id;
        self.record(TraceKind::RetryArmed { job, at });
    }

    fn disarm_retry(&mut self, j: usize) {
        if self.jobs[j].retry_at.take().is_some() {
            self.armed -= 1;
        }
    }

    fn arm_deadline(&mut self, j: usize, at: SimTime) {
        let job = &mut self.jobs[j];
        if job.deadline_at.replace(at).is_none() {
            self.armed += 1;
        }
        if job.deadline_queued != Some(at) {
            job.deadline_queued = Some(at);
            let id = job.id;
            self.push_event(at, Event::Deadline(id));
            self.record(TraceKind::DeadlineArmed { job: id, at });
        }
    }

    fn disarm_deadline(&mut self, j: usize) {
        if self.jobs[j].deadline_at.take().is_some() {
            self.armed -= 1;
        }
    }

    /// Disarm the retry and no-progress timers (the time slice belongs to the slot, see `enter`).
    pub(crate) fn disarm_timers(&mut self, j: usize) {
        self.disarm_retry(j);
        self.disarm_deadline(j);
    }

    /// On entry into TRANSIENT_ERROR: the retry timer (D3) unless BITS waits for the network, and the
    /// no-progress deadline (D4).
    pub(crate) fn arm_transient_timers(&mut self, j: usize) {
        let now = self.now;
        let since = *self.jobs[j].no_progress_since.get_or_insert(now);
        let job = &self.jobs[j];
        let deadline = since + job.no_progress_timeout();
        let retry = (!job.waiting_for_network && self.world.network == Network::Up)
            .then(|| job.state_since + job.retry_delay());
        // D4: no retry at or after the no-progress deadline — at that instant the timeout wins.
        if let Some(at) = retry.filter(|&at| at.max(self.now) < deadline) {
            self.arm_retry(j, at.max(self.now));
        }
        self.arm_deadline(j, deadline.max(self.now));
    }

    /// SetMinimumRetryDelay / SetNoProgressTimeout while in TRANSIENT_ERROR: move the timers; a timeout
    /// already used up sends the job to ERROR at this instant (D4).
    pub(crate) fn rearm_transient_timers(&mut self, j: usize) {
        if self.jobs[j].state != JobState::TransientError {
            return;
        }
        let job = &self.jobs[j];
        let since = job.no_progress_since.unwrap_or(job.state_since);
        // The same D4 test as at error time; T25 is for errors about to be retried, not for a job
        // already waiting, whose deadline simply falls before its retry.
        let escalated = transition::escalate(
            job.no_progress_timeout(),
            job.retry_delay(),
            since,
            self.now,
            false,
        );
        if escalated != Failure::Transient {
            self.disarm_timers(j);
            let _ = self.apply(j, Input::NoProgressTimeout, Cause::Plain);
            return;
        }
        self.disarm_timers(j);
        self.arm_transient_timers(j);
    }

    // ================================================================== queues and slots

    /// A job entered QUEUED: ready queue if its owner is logged on, else parked (D10).
    pub(crate) fn enqueue(&mut self, j: usize) {
        self.seq += 1;
        let key = self.seq;
        let job = &mut self.jobs[j];
        job.ready_key = Some(key);
        let id = job.id;
        if self.users[job.owner.index()].logged_on {
            if job.priority.is_foreground() {
                self.ready_fg.insert((key, id));
            } else {
                self.ready_bg[job.priority.value() as usize].insert((key, id));
            }
        } else {
            self.parked.insert(id);
        }
        self.request_schedule();
    }

    /// A job left QUEUED (or its priority or owner changes and it is re-queued).
    pub(crate) fn unqueue(&mut self, j: usize) {
        let job = &mut self.jobs[j];
        let id = job.id;
        if let Some(key) = job.ready_key.take() {
            self.ready_fg.remove(&(key, id));
            self.ready_bg[job.priority.value() as usize].remove(&(key, id));
        }
        self.parked.remove(&id);
    }

    /// A job left CONNECTING/TRANSFERRING: account its bytes and give up the slot.
    pub(crate) fn release_slot(&mut self, j: usize) {
        self.settle(j);
        let bw = self.world.bandwidth;
        let job = &mut self.jobs[j];
        let id = job.id;
        if let Some(a) = job.active.take() {
            self.flow.sync(self.now, bw);
            self.flow.points.remove(&(stop_point(&a), id));
            self.spare_active.push(a);
        }
        self.running.remove(&id);
        self.set_running_bg(id, false);
        self.request_schedule();
    }

    /// Bytes moved by job `j`'s running transfer up to now (live, read-only).
    pub(crate) fn live_bytes(&self, j: usize) -> Option<(u32, u64)> {
        let a = *self.jobs[j].active.as_deref()?;
        let s = self.flow.s_at(self.now, self.world.bandwidth);
        let moved = u64::try_from((s.saturating_sub(a.s_base)) / SCALE).unwrap_or(u64::MAX);
        Some((a.file, a.bytes_base.saturating_add(moved).min(a.stop_at)))
    }

    /// Write the running transfer's bytes into its file. Returns the bytes gained. Progress resets the
    /// no-progress clock (D4) and moves ModificationTime (§8.2).
    pub(crate) fn settle(&mut self, j: usize) -> u64 {
        let Some((file, bytes)) = self.live_bytes(j) else {
            return 0;
        };
        let now = self.now;
        let job = &mut self.jobs[j];
        let f = &mut job.files[file as usize];
        let gained = bytes.saturating_sub(f.bytes_transferred);
        f.bytes_transferred = bytes;
        if gained > 0 {
            job.no_progress_since = None;
            job.times.modification_time = now;
        }
        gained
    }

    // ================================================================== the scheduler (D12)

    fn schedule_pass(&mut self) {
        self.schedule_pending = false;
        if self.world.network == Network::Down {
            // T18: nothing can connect; queued jobs wait in TRANSIENT_ERROR for the network.
            let queued: Vec<JobId> = self
                .ready_fg
                .iter()
                .map(|&(_, id)| id)
                .chain(self.ready_bg.iter().flatten().map(|&(_, id)| id))
                .chain(self.parked.iter().copied())
                .collect();
            for id in queued {
                self.network_lost(id.index());
            }
            return;
        }
        // All foreground jobs run at once.
        while let Some((_, id)) = self.ready_fg.first().copied() {
            self.start(id.index());
        }
        // One background job at a time: HIGH before NORMAL before LOW, first come first served.
        loop {
            let key = |s: &Self, id: JobId| {
                let job = &s.jobs[id.index()];
                (job.priority, job.state_since, id)
            };
            // The best running background job, found without allocating (there is at most one in
            // the usual case).
            let mut current = None;
            let mut running_bg = 0usize;
            for &id in &self.running_bg {
                debug_assert!(!self.jobs[id.index()].priority.is_foreground());
                running_bg += 1;
                let k = key(self, id);
                if current.is_none_or(|c| k < c) {
                    current = Some(k);
                }
            }
            if running_bg > 1 {
                // A priority change can leave two background jobs running: the better one keeps the
                // slot; the others lose it, in order.
                let mut bg: Vec<JobId> = self.running_bg.to_vec();
                bg.sort_by_key(|&id| key(self, id));
                for extra in bg.iter().skip(1) {
                    let _ = self.apply(extra.index(), Input::TimeSliceEnd, Cause::Plain);
                }
            }
            let Some((best_priority, _, best)) = self.first_ready_bg() else {
                break;
            };
            match current.map(|(_, _, id)| id) {
                None => self.start(best.index()),
                // A higher priority pre-empts a lower one (spec §1.6).
                Some(cur) if best_priority < self.jobs[cur.index()].priority => {
                    let _ = self.apply(cur.index(), Input::TimeSliceEnd, Cause::Plain); // T7
                    self.start(best.index());
                }
                Some(_) => break,
            }
        }
    }

    /// T4 and the first connection attempt.
    fn start(&mut self, j: usize) {
        if self.apply(j, Input::SchedulerTurn, Cause::Plain).is_err() {
            self.unqueue(j);
            return;
        }
        let id = self.jobs[j].id;
        self.running.insert(id);
        if !self.jobs[j].priority.is_foreground() {
            self.set_running_bg(id, true);
        }
        if !self.jobs[j].priority.is_foreground() {
            let at = self.now + SimDuration::from_secs(self.world.time_slice_secs);
            self.jobs[j].slice_at = Some(at);
            self.push_event(at, Event::Slice(id));
        }
        self.connect_next_file(j);
    }

    /// T7: rotate if another background job of the same or a higher priority waits; else keep going.
    fn time_slice_over(&mut self, j: usize) {
        let job = &self.jobs[j];
        if !job.state.is_running() || job.priority.is_foreground() {
            return;
        }
        let waiting = self
            .first_ready_bg()
            .is_some_and(|(p, _, _)| p <= job.priority);
        if waiting {
            let _ = self.apply(j, Input::TimeSliceEnd, Cause::Plain);
        } else {
            let at = self.now + SimDuration::from_secs(self.world.time_slice_secs);
            let id = job.id;
            self.jobs[j].slice_at = Some(at);
            self.push_event(at, Event::Slice(id));
        }
    }

    // ================================================================== transfers

    /// Connect for the job's next file (the job is CONNECTING, or TRANSFERRING between files). Files go
    /// one at a time in the order added (D12).
    fn connect_next_file(&mut self, j: usize) {
        loop {
            let Some(f) = self.jobs[j].next_file() else {
                // Nothing left to move: T5 (if still connecting) then T8.
                let _ = self.apply(j, Input::Connected, Cause::Plain);
                let _ = self.apply(j, Input::AllFilesDone, Cause::Plain);
                return;
            };
            let id = self.jobs[j].id;
            let upload = self.jobs[j].job_type.is_upload();
            let file = &self.jobs[j].files[f];
            let local_size = if upload {
                match self.world.locals.get(&*file.local) {
                    Some(l) => Some(l.size),
                    None => {
                        // Scenario contract: an unlisted upload source is ERROR_FILE_NOT_FOUND, LOCAL_FILE.
                        self.fail(
                            j,
                            HResult::ERROR_FILE_NOT_FOUND,
                            Some(ErrorContext::LocalFile),
                            Some(f as u32),
                        );
                        return;
                    }
                }
            } else {
                None
            };
            // Borrow the URL in place (the world and the jobs are disjoint fields): no copy per attempt.
            let attempt = self.world.attempt(&self.jobs[j].files[f].remote);
            let (fault, after_bytes) = match attempt.response {
                Response::Ok => (None, None),
                Response::Fail { fault, after_bytes } => {
                    if self.world.classify(fault.code()).0 == Class::Success {
                        (None, None)
                    } else {
                        (Some(fault), after_bytes)
                    }
                }
            };
            let (file, result) = (f as u32, fault.map_or(HResult::S_OK, Fault::code));
            self.record(match fault.and(after_bytes) {
                Some(after_bytes) => TraceKind::AttemptCut {
                    job: id,
                    file,
                    result,
                    after_bytes,
                },
                None => TraceKind::Attempt {
                    job: id,
                    file,
                    result,
                },
            });
            if let (Some(fault), None) = (fault, after_bytes) {
                self.fail(j, fault.code(), None, Some(f as u32));
                return;
            }
            // A length of 2^64-1 is BG_SIZE_UNKNOWN itself: no usable length either.
            let size = match local_size
                .or(attempt.size)
                .filter(|&s| s != crate::BG_SIZE_UNKNOWN)
            {
                Some(s) => s,
                None => {
                    // The server sent no length: BG_E_MISSING_FILE_SIZE, fatal (scenario contract, §4.5).
                    self.fail(j, HResult::BG_E_MISSING_FILE_SIZE, None, Some(f as u32));
                    return;
                }
            };
            {
                let file: &mut FileData = &mut self.jobs[j].files[f];
                if file.bytes_total != crate::BG_SIZE_UNKNOWN && file.bytes_total != size {
                    // §8.2: a changed size restarts the file from zero.
                    file.bytes_transferred = 0;
                }
                file.bytes_total = size;
                file.bytes_transferred = file.bytes_transferred.min(size);
            }
            let _ = self.apply(j, Input::Connected, Cause::Plain); // T5 (no-op between files)
            let file = &self.jobs[j].files[f];
            let have = file.bytes_transferred;
            let fail_at = after_bytes
                .map(|n| have.saturating_add(n))
                .filter(|&at| at < size);
            if fail_at.is_none() && have >= size {
                self.file_done(j, f);
                continue;
            }
            let stop_at = fail_at.unwrap_or(size);
            let bw = self.world.bandwidth;
            self.flow.sync(self.now, bw);
            let a = Active {
                file: f as u32,
                s_base: self.flow.s,
                bytes_base: have,
                stop_at,
                fail: fail_at.and(fault),
            };
            self.flow.points.insert((stop_point(&a), id));
            let boxed = match self.spare_active.pop() {
                Some(mut b) => {
                    *b = a;
                    b
                }
                None => Box::new(a),
            };
            self.jobs[j].active = Some(boxed);
            return;
        }
    }

    /// A running transfer reached its stop point: its file is done, or its scripted failure happens.
    fn transfer_point(&mut self, j: usize) {
        let a = *self.jobs[j]
            .active
            .as_deref()
            .expect("a transfer point belongs to an active transfer");
        let id = self.jobs[j].id;
        self.settle(j);
        self.flow.points.remove(&(stop_point(&a), id));
        if let Some(b) = self.jobs[j].active.take() {
            self.spare_active.push(b);
        }
        match a.fail {
            Some(fault) => self.fail(j, fault.code(), None, Some(a.file)),
            None => {
                self.file_done(j, a.file as usize);
                if self.jobs[j].next_file().is_some() {
                    // Progress on a job that keeps going: JobModification (D11).
                    self.notify(j, NotifyEvent::JobModification);
                }
                self.connect_next_file(j);
            }
        }
    }

    fn file_done(&mut self, j: usize, f: usize) {
        let job = &mut self.jobs[j];
        let file = &mut job.files[f];
        file.bytes_transferred = file.bytes_total;
        if job.job_type.is_upload() {
            file.completed = true; // §8.2: an upload file is complete once uploaded
        }
        let (id, bytes) = (job.id, file.bytes_total);
        self.record(TraceKind::FileDone {
            job: id,
            file: f as u32,
            bytes,
        });
    }

    /// A transfer error: classify (D5), run the no-progress clock (D4) and enter the error state.
    /// `context` overrides the classification's context (local-file errors).
    pub(crate) fn fail(
        &mut self,
        j: usize,
        code: HResult,
        context: Option<ErrorContext>,
        file: Option<u32>,
    ) {
        self.settle(j);
        let (class, ctx) = self.world.classify(code);
        let context = context.unwrap_or(ctx);
        let failure = match class {
            Class::Fatal => Failure::Fatal,
            Class::Transient | Class::Success => {
                let job = &mut self.jobs[j];
                let since = *job.no_progress_since.get_or_insert(self.now);
                transition::escalate(
                    job.no_progress_timeout(),
                    job.retry_delay(),
                    since,
                    self.now,
                    true,
                )
            }
        };
        let cause = Cause::Error {
            context,
            code,
            file,
            network_loss: false,
        };
        let r = self.apply(j, Input::Failure(failure), cause);
        debug_assert!(r.is_ok(), "failure refused in {:?}", self.jobs[j].state);
    }

    /// T18 for one job: QUEUED / CONNECTING / TRANSFERRING → TRANSIENT_ERROR with
    /// BG_E_NETWORK_DISCONNECTED, no error-count bump, no retry timer (D3, D6). A zero no-progress
    /// timeout still sends it to ERROR (T26).
    fn network_lost(&mut self, j: usize) {
        self.settle(j);
        let job = &mut self.jobs[j];
        let since = *job.no_progress_since.get_or_insert(self.now);
        let input = match transition::escalate(
            job.no_progress_timeout(),
            job.retry_delay(),
            since,
            self.now,
            false,
        ) {
            Failure::Transient => Input::NetworkLost,
            other => Input::Failure(other),
        };
        let cause = Cause::Error {
            context: ErrorContext::GeneralTransport,
            code: HResult::BG_E_NETWORK_DISCONNECTED,
            file: None,
            network_loss: true,
        };
        let _ = self.apply(j, input, cause);
    }

    // ================================================================== the environment

    /// The machine's network goes up or down (T18, T19).
    pub fn set_network(&mut self, network: Network) {
        if self.world.network == network {
            return;
        }
        self.world.network = network;
        self.record(TraceKind::Network {
            up: network == Network::Up,
        });
        match network {
            Network::Down => {
                for j in 0..self.jobs.len() {
                    match self.jobs[j].state {
                        JobState::Queued | JobState::Connecting | JobState::Transferring => {
                            self.network_lost(j)
                        }
                        // D3: no retry timer while disconnected.
                        JobState::TransientError => self.disarm_retry(j),
                        _ => {}
                    }
                }
            }
            Network::Up => {
                for j in 0..self.jobs.len() {
                    // T19: every TRANSIENT_ERROR job, whatever its code.
                    let _ = self.apply(j, Input::NetworkBack, Cause::Plain);
                }
            }
        }
    }

    /// Change the shared bandwidth (bytes per second) from now on.
    pub fn set_bandwidth(&mut self, bytes_per_sec: u64) {
        let bw = self.world.bandwidth;
        self.flow.sync(self.now, bw);
        self.world.bandwidth = bytes_per_sec;
    }

    /// Replace (or add) the remote at `url`; later connection attempts see the new behaviour.
    pub fn set_remote(&mut self, url: &str, remote: crate::world::Remote) {
        self.world.remotes.insert(url.to_string(), remote);
        self.record(TraceKind::RemoteChanged);
    }

    /// Mutable access to the world's scripted parts (remotes, locals, classification, chaos). Use
    /// [`Service::set_network`] and [`Service::set_bandwidth`] for the network and bandwidth, which the
    /// engine must observe as they change.
    pub fn world_mut(&mut self) -> WorldMut<'_> {
        WorldMut {
            world: &mut self.world,
        }
    }

    /// A user logs on: their queued jobs may run (D10).
    pub fn logon(&mut self, user: crate::UserId) {
        let Some(u) = self.users.get_mut(user.index()) else {
            return;
        };
        if u.logged_on {
            return;
        }
        u.logged_on = true;
        self.record(TraceKind::Logon { user, on: true });
        let parked: Vec<JobId> = self
            .parked
            .iter()
            .copied()
            .filter(|id| self.jobs[id.index()].owner == user)
            .collect();
        for id in parked {
            self.unqueue(id.index());
            self.enqueue(id.index());
        }
    }

    /// A user logs off: their CONNECTING and TRANSFERRING jobs go back to QUEUED and wait (D10, T20).
    pub fn logoff(&mut self, user: crate::UserId) {
        let Some(u) = self.users.get_mut(user.index()) else {
            return;
        };
        if !u.logged_on {
            return;
        }
        u.logged_on = false;
        self.record(TraceKind::Logon { user, on: false });
        for j in 0..self.jobs.len() {
            if self.jobs[j].owner != user {
                continue;
            }
            match self.jobs[j].state {
                JobState::Connecting | JobState::Transferring => {
                    let _ = self.apply(j, Input::OwnerLogoff, Cause::Plain);
                }
                JobState::Queued => {
                    self.unqueue(j);
                    self.enqueue(j);
                }
                _ => {}
            }
        }
    }

    /// The BITS service restarts (D15): jobs, properties and error records persist; CONNECTING and
    /// TRANSFERRING jobs restart from QUEUED; callback registrations and every handle applications hold
    /// die (their calls fail with RPC_E_DISCONNECTED); the applications themselves keep running.
    pub fn restart_service(&mut self) {
        // The service's state goes through the same save/load path as a snapshot on disk.
        self.reload_in_memory();
        self.generation = self.generation.wrapping_add(1);
        for r in &mut self.registrations {
            *r = None;
        }
        self.record(TraceKind::ServiceRestarted);
        for j in 0..self.jobs.len() {
            let _ = self.apply(j, Input::ServiceRestart, Cause::Plain);
        }
    }
}

/// A job's stop point on the shared counter.
pub(crate) fn stop_point(a: &Active) -> u128 {
    a.s_base + u128::from(a.stop_at.saturating_sub(a.bytes_base)) * SCALE
}

/// Mutable access to the scripted parts of the world.
pub struct WorldMut<'a> {
    world: &'a mut crate::World,
}

impl WorldMut<'_> {
    /// Remotes by URL.
    pub fn remotes(&mut self) -> &mut std::collections::BTreeMap<String, crate::world::Remote> {
        &mut self.world.remotes
    }
    /// Local files for uploads.
    pub fn locals(&mut self) -> &mut std::collections::BTreeMap<String, crate::world::Local> {
        &mut self.world.locals
    }
    /// D5 overrides.
    pub fn classify(&mut self) -> &mut std::collections::BTreeMap<HResult, Class> {
        &mut self.world.classify
    }
    /// Chaos settings.
    pub fn chaos(&mut self) -> &mut Option<crate::world::Chaos> {
        &mut self.world.chaos
    }
    /// The background time slice in seconds (T7).
    pub fn time_slice_secs(&mut self) -> &mut u64 {
        &mut self.world.time_slice_secs
    }
}
