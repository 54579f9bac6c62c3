//! The engine's own data: the timers (a heap keyed by `(time, sequence)` beside sorted runs, D13), the
//! scheduler's ready queues and running sets (D12), and the shared bandwidth flow of running transfers.
//! It knows job ids and priorities, not jobs: the service drives it (`service/run.rs`,
//! `service/transfer.rs`) and asks it where things stand.
//!
//! Time jumps from event to event; nothing ticks. A timer is live only while the job still records the
//! same due time; a cancelled timer is dropped when it reaches the front and by a compaction of the
//! heap whenever it has doubled (D85, `service/run.rs`). Transfers do not use the heap:
//! running transfers share the bandwidth equally, so all of them advance along one shared counter `S`
//! (bytes per transfer, scaled); each transfer's next stop (file end or scripted failure) is a point on
//! that counter, kept in an ordered set, and the next transfer event is the smallest point. Adding or
//! removing a transfer changes only the counter's speed. Every step is O(log n).
//!
//! Two sequence counters, one per use: `timer_seq` orders timers due at the same instant, `queue_seq`
//! orders the ready queues (first come, first served).

use crate::heap::MinHeap;
use crate::job::{Active, JobId};
use crate::notify::NotifyEvent;
use crate::ord_set::OrdSet;
use crate::state::Priority;
use crate::time::SimTime;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Units of the shared counter per byte: 1000 (milliseconds per second) × lcm(1..=16), so that the
/// per-millisecond rate `bandwidth × SCALE / (1000 × k)` is exact for up to 16 concurrent transfers
/// and equal shares finish exactly when arithmetic says they should.
pub(crate) const SCALE: u128 = 1000 * 720_720;

/// Sorted runs of timers beside the heap ([`Engine::runs`]).
pub(crate) const RUNS: usize = 2;

/// [`Engine::runs`]: the sorted runs of timers. When dropped, each long run's block is kept for the
/// same run of the next engine (D88: its memory is written already; a storm's runs hold 100,000
/// timers each at 100,000 jobs).
#[derive(Debug, Default)]
pub(crate) struct Runs(pub(crate) [VecDeque<Scheduled>; RUNS]);

/// D88: the block of each run of the last engine dropped, by run.
static RUN_SPARES: [crate::growth::Spare<Scheduled>; RUNS] =
    [crate::growth::Spare::new(), crate::growth::Spare::new()];

impl std::ops::Deref for Runs {
    type Target = [VecDeque<Scheduled>; RUNS];
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Runs {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for Runs {
    fn drop(&mut self) {
        for (run, spare) in self.0.iter_mut().zip(&RUN_SPARES) {
            run.clear();
            let mut block = Vec::from(std::mem::take(run));
            spare.keep(&mut block);
        }
    }
}

/// Run `i`'s first timer: it takes the kept block of that run, if any (D88).
#[cold]
fn first_in_run(run: &mut VecDeque<Scheduled>, i: usize) {
    if let Some(block) = RUN_SPARES[i].take() {
        *run = VecDeque::from(block);
    }
}

/// Where the next pending timer sits ([`Engine::peek_front`]), for [`Engine::pop_from`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Source {
    Heap,
    Now,
    Run(usize),
    Held,
}

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
    /// Run a job's command line for a notification (§5.4, D50).
    Launch { job: JobId, event: NotifyEvent },
    /// Call a failed FileTransferred again for file `file` (D60).
    FileNotifyRetry { job: JobId, file: u32, serial: u64 },
}

/// A heap entry; ordered by time, then by the order it was scheduled in.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub(crate) struct Scheduled {
    pub time: SimTime,
    pub seq: u64,
    pub event: Event,
}

/// The shared progress counter of running transfers.
#[derive(Clone, Debug, Default)]
pub(crate) struct Flow {
    /// Per-transfer service so far, in bytes × SCALE.
    pub s: u128,
    /// When `s` was last brought up to date.
    pub s_time: SimTime,
    /// Each running transfer's next stop on the counter.
    pub points: OrdSet<(u128, JobId)>,
}

impl Flow {
    /// Counter units per millisecond for each of `k` transfers sharing `bandwidth` bytes/s.
    #[inline]
    pub(crate) fn rate(bandwidth: u64, k: usize) -> u128 {
        if bandwidth == 0 || k == 0 {
            0
        } else {
            // `bandwidth × SCALE / (1000 × k)` = `bandwidth × (SCALE / 1000) / k` exactly (SCALE is a
            // multiple of 1000); in 64 bits when the product fits (no 128-bit division call).
            let units = u128::from(bandwidth) * (SCALE / 1000);
            match u64::try_from(units) {
                Ok(u) => u128::from(u / k as u64).max(1),
                Err(_) => (units / k as u128).max(1),
            }
        }
    }

    /// `a.div_ceil(b)` (`b > 0`), in 64 bits when both fit.
    #[inline]
    fn div_ceil(a: u128, b: u128) -> u128 {
        match (u64::try_from(a), u64::try_from(b)) {
            (Ok(a), Ok(b)) => u128::from(a.div_ceil(b)),
            _ => a.div_ceil(b),
        }
    }

    /// Whole bytes in `units` of the counter (`units / SCALE`), in 64 bits when `units` fits.
    #[inline]
    pub(crate) fn bytes_in(units: u128) -> u128 {
        match u64::try_from(units) {
            Ok(u) => u128::from(u / SCALE as u64),
            Err(_) => units / SCALE,
        }
    }

    #[inline]
    pub(crate) fn s_at(&self, now: SimTime, bandwidth: u64) -> u128 {
        let dt = u128::from(now.saturating_since(self.s_time).as_millis());
        if dt == 0 {
            // Synced at this instant already (the usual case: every step syncs first): no rate.
            return self.s;
        }
        // Saturating: a huge bandwidth over a span near the end of time must not overflow (D18).
        self.s
            .saturating_add(Self::rate(bandwidth, self.points.len()).saturating_mul(dt))
    }

    pub(crate) fn sync(&mut self, now: SimTime, bandwidth: u64) {
        self.s = self.s_at(now, bandwidth);
        self.s_time = now;
    }

    /// When the next point is reached; `None` when never: no bandwidth, or the point lies beyond
    /// the end of time (D18: a transfer that would finish after [`SimTime::MAX`] never finishes,
    /// instead of being stepped at the last instant forever).
    #[inline]
    pub(crate) fn next_time(&self, bandwidth: u64) -> Option<SimTime> {
        let &(p, _) = self.points.first()?;
        if p <= self.s {
            return Some(self.s_time);
        }
        let rate = Self::rate(bandwidth, self.points.len());
        if rate == 0 {
            return None;
        }
        let dt = u64::try_from(Self::div_ceil(p - self.s, rate)).ok()?;
        self.s_time
            .as_millis()
            .checked_add(dt)
            .map(SimTime::from_millis)
    }
}

/// A clock method stopped at its step bound: it processed `steps` events and stopped at `time`
/// (the instant of the last event processed) without reaching its target. See "Step bounds" in the
/// crate docs.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[error("the simulation stopped at its bound of {steps} events per call, at {time}, before reaching its target (a loop of events?)")]
pub struct StepLimitExceeded {
    /// Events processed in this call.
    pub steps: u64,
    /// Virtual time reached.
    pub time: SimTime,
}

/// Why a clock method of [`crate::Sim`] stopped before its target (see "Step bounds" and
/// "Callbacks and threads" in the crate docs).
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
pub enum ClockStop {
    /// The call processed its bound of events ([`DEFAULT_MAX_STEPS`]) first.
    #[error(transparent)]
    StepLimit(#[from] StepLimitExceeded),
    /// The call was made from inside one of the simulator's callbacks, which run at a fixed instant
    /// between two events: the clock did not move.
    #[error("a clock method was called from inside a callback at {time}; the clock did not move (the callback runs at a fixed instant: act on the clock after it returns)")]
    InCallback {
        /// The instant of the delivery.
        time: SimTime,
    },
}

impl ClockStop {
    /// The virtual time when the call stopped.
    pub fn time(&self) -> SimTime {
        match self {
            ClockStop::StepLimit(e) => e.time,
            ClockStop::InCallback { time } => *time,
        }
    }
}

/// The bound of every clock method: events processed per call (`advance`, `run_until`,
/// `run_until_idle` of [`crate::Service`] and [`crate::Sim`]). Callback deliveries of a [`crate::Sim`]
/// count as events.
pub const DEFAULT_MAX_STEPS: u64 = 10_000_000;

/// The engine: timers, ready queues, running sets and the bandwidth flow, with its own counters.
#[derive(Debug, Default)]
pub(crate) struct Engine {
    pub(crate) events: MinHeap<Scheduled>,
    /// Timers kept out of the heap in [`RUNS`] sorted FIFOs: a timer that sorts after the last
    /// one of a run is appended to it (the first such run), so timers armed in due order — a storm
    /// of retries 600 s after their failures, and of no-progress deadlines 14 days after — cost
    /// O(1) to add and to take instead of a walk down the heap; the rest go into the heap. The next
    /// timer is the smallest of the heap's top and the runs' fronts: the same order as one heap.
    pub(crate) runs: Runs,
    /// Timers in all of `runs` (0: `queued_front` looks no further than the heap and the FIFO).
    in_runs: usize,
    /// D85: the size of the heap and the runs together that triggers their next compaction (twice
    /// their size after the last one).
    /// Not saved.
    pub(crate) compact_at: usize,
    /// Timers pushed for the instant they were pushed at (mostly scheduler passes), kept out of the
    /// heap in a FIFO: always sorted by `(time, seq)`, so the next event is the smaller of this front
    /// and the heap's top — the same order as if they were in the heap, at O(1) instead of O(log n).
    pub(crate) now_events: VecDeque<Scheduled>,
    /// The last time slice armed (T7), held out of the heap with its sequence number already
    /// taken: every look at the timers treats it as one of them (`peek_front`, `pop_from`,
    /// `pending_events`), so the order is the heap's. A job that finishes within its slice has it
    /// cancelled by then, and it is dropped without ever entering the heap (D85 drops cancelled
    /// timers unseen anyway); a live one goes into the heap when the next slice is armed. Not
    /// saved: snapshots list it like any pending timer.
    pub(crate) held: Option<Scheduled>,
    /// The sequence of the last timer pushed.
    pub(crate) timer_seq: u64,
    /// The key of the last job enqueued.
    pub(crate) queue_seq: u64,
    /// Number of armed state-changing timers (retry, no-progress deadline); 0 and no transfers = idle.
    pub(crate) armed: u64,
    pub(crate) schedule_pending: bool,
    /// Command-line launches queued and not yet run (D50): work, for `is_idle`.
    pub(crate) launches_pending: u32,
    pub(crate) ready_fg: OrdSet<(u64, JobId)>,
    /// QUEUED background jobs by `(enqueue sequence, job)`, one set per priority value (index
    /// `Priority::value()`; FOREGROUND's stays empty): the queue `(priority, sequence, job)` without
    /// comparing priorities inside a B-tree search. `first_ready_bg` gives its first entry.
    pub(crate) ready_bg: [OrdSet<(u64, JobId)>; 4],
    /// Entries in all of `ready_bg` (kept by [`Engine::enqueue`] and [`Engine::unqueue`], the only
    /// writers of `ready_bg`): `first_ready_bg` answers "none" without looking at the four sets.
    ready_bg_len: usize,
    /// QUEUED jobs whose owner is logged off.
    pub(crate) parked: OrdSet<JobId>,
    /// The running (CONNECTING, TRANSFERRING) jobs whose priority is not FOREGROUND, in no order
    /// (derived from the jobs' states and priorities; not saved): the scheduler looks at these without scanning every running
    /// foreground job. Normally one; more only between a priority change and the next scheduler pass.
    /// A `Vec`, not a set: it keeps its allocation when it empties. Changed only by
    /// [`Engine::set_running`]. (The running jobs as a whole are not kept: nothing asks for them
    /// apart from the jobs' states.)
    running_bg: Vec<JobId>,
    pub(crate) flow: Flow,
    /// Boxes of finished transfers (`Job::active`), reused by the next ones so a transfer does not
    /// allocate; at most as many as ever ran at once. Not state: not saved.
    #[allow(clippy::vec_box)] // the boxes themselves are what is kept for reuse
    pub(crate) spare_active: Vec<Box<Active>>,
    pub(crate) steps: u64,
    /// Call-outs to application code (`Notifier::Callback`) made during a step and not yet delivered:
    /// the facade delivers them after releasing the service, at the same instant, before the next
    /// event (D11, D19). Not saved: code callbacks do not persist (D15).
    pub(crate) callouts: VecDeque<crate::notify::CallOut>,
    /// D81: a drain of waiting FileTransferred calls is running (answers met inside it only mark
    /// their call done, so the drain is a loop, never a recursion). Not saved: within one call.
    pub(crate) draining_file_notices: bool,
    /// T22's inactivity deadlines (D36). Not saved: rebuilt from the jobs' ModificationTime at load.
    pub(crate) scavenge: Scavenge,
    /// T23's deadlines (D55): one per running job whose maximum download time ends before the end
    /// of time, at the instant it is used up. Not saved: rebuilt from the running jobs at load.
    pub(crate) max_download: OrdSet<(SimTime, JobId)>,
}

/// T22's inactivity deadlines, kept lazily (D36): until the first deadline falls due only the
/// earliest is known (`next`, no memory per job); from then on `agenda` holds one lower bound per
/// non-final job, checked against the job's ModificationTime when it falls due.
#[derive(Debug, Default)]
pub(crate) struct Scavenge {
    pub(crate) next: Option<SimTime>,
    pub(crate) agenda: Option<std::collections::BinaryHeap<std::cmp::Reverse<(SimTime, JobId)>>>,
}

impl Scavenge {
    /// When the next check falls due.
    pub(crate) fn due(&self) -> Option<SimTime> {
        match &self.agenda {
            Some(a) => a.peek().map(|r| r.0 .0),
            None => self.next,
        }
    }
    /// Job `id` is inactive from `due` on unless something happens to it.
    pub(crate) fn note(&mut self, due: SimTime, id: JobId) {
        match &mut self.agenda {
            Some(a) => a.push(std::cmp::Reverse((due, id))),
            None => self.next = Some(self.next.map_or(due, |n| n.min(due))),
        }
    }
}

impl Engine {
    /// Schedule `event` at `time`; `now` is the current instant.
    pub(crate) fn push_event(&mut self, now: SimTime, time: SimTime, event: Event) {
        self.timer_seq += 1;
        let e = Scheduled {
            time,
            seq: self.timer_seq,
            event,
        };
        // Sequence numbers only grow, so appending keeps the FIFO sorted whenever `time` is not
        // earlier than its last entry's.
        if time == now && self.now_events.back().is_none_or(|b| b.time <= time) {
            self.now_events.push_back(e);
        } else {
            self.push_later(e);
        }
    }

    /// A timer not for the FIFO: into the first run it sorts after, else into the heap.
    #[inline(never)]
    fn push_later(&mut self, e: Scheduled) {
        if let Some((i, run)) = self
            .runs
            .iter_mut()
            .enumerate()
            .find(|(_, r)| r.back().is_none_or(|b| *b < e))
        {
            if run.capacity() == 0 {
                first_in_run(run, i);
            }
            run.push_back(e);
            self.in_runs += 1;
        } else {
            self.events.push(e);
        }
    }

    /// Timers on the heap and in the runs (not the FIFO of timers due at their own instant, nor
    /// the held slice): what D85's compaction counts.
    pub(crate) fn timer_list_len(&self) -> usize {
        debug_assert_eq!(
            self.in_runs,
            self.runs.iter().map(VecDeque::len).sum::<usize>()
        );
        self.events.len() + self.in_runs
    }

    /// D85: keep only the timers of the heap and the runs that `keep` accepts (each run stays
    /// sorted; the order of the rest is unchanged).
    pub(crate) fn retain_timers(&mut self, mut keep: impl FnMut(&Scheduled) -> bool) {
        self.events.retain(&mut keep);
        for run in self.runs.iter_mut() {
            run.retain(&mut keep);
        }
        self.in_runs = self.runs.iter().map(VecDeque::len).sum();
    }

    /// Every timer of the heap, the FIFO and the runs is dropped (a snapshot load puts its timers
    /// in the heap afterwards).
    pub(crate) fn clear_queued(&mut self) {
        self.events = MinHeap::default();
        self.now_events.clear();
        for run in self.runs.iter_mut() {
            run.clear();
        }
        self.in_runs = 0;
    }

    /// Hold the time slice `event` due at `time` out of the heap (see [`Engine::held`]), with its
    /// sequence number taken now; a slice held before goes into the heap.
    pub(crate) fn push_held(&mut self, time: SimTime, event: Event) {
        self.timer_seq += 1;
        let e = Scheduled {
            time,
            seq: self.timer_seq,
            event,
        };
        if let Some(old) = self.held.replace(e) {
            // Into the heap (never the FIFO): its sequence is older than timers pushed since.
            self.events.push(old);
        }
    }

    /// The next pending timer of the heap, the FIFO and the runs, in `(time, seq)` order, and
    /// where it sits.
    #[inline(always)]
    fn queued_front(&self) -> Option<(&Scheduled, Source)> {
        let best = match (self.events.peek(), self.now_events.front()) {
            (Some(h), Some(f)) if f < h => Some((f, Source::Now)),
            (Some(h), _) => Some((h, Source::Heap)),
            (None, f) => f.map(|f| (f, Source::Now)),
        };
        if self.in_runs == 0 {
            // The usual machine: no timer armed ahead in order (scheduler passes and a slice).
            return best;
        }
        self.runs_front(best)
    }

    /// [`Engine::queued_front`] once the runs hold timers: the smallest of `best` and their fronts.
    #[inline(never)]
    fn runs_front<'a>(
        &'a self,
        mut best: Option<(&'a Scheduled, Source)>,
    ) -> Option<(&'a Scheduled, Source)> {
        for (i, run) in self.runs.iter().enumerate() {
            if let Some(e) = run.front() {
                if best.is_none_or(|(b, _)| e < b) {
                    best = Some((e, Source::Run(i)));
                }
            }
        }
        best
    }

    /// The next pending timer in `(time, seq)` order, without removing it, and where it sits.
    #[inline(always)]
    pub(crate) fn peek_front(&self) -> Option<(&Scheduled, Source)> {
        match (self.queued_front(), self.held.as_ref()) {
            (Some((q, source)), Some(h)) => Some(if h < q {
                (h, Source::Held)
            } else {
                (q, source)
            }),
            (q, None) => q,
            (None, h) => h.map(|h| (h, Source::Held)),
        }
    }

    /// The next pending timer in `(time, seq)` order, without removing it.
    #[inline(always)]
    pub(crate) fn peek_event(&self) -> Option<&Scheduled> {
        self.peek_front().map(|(e, _)| e)
    }

    /// Remove the timer [`Engine::peek_front`] just found at `source` (nothing changed since).
    #[inline(always)]
    pub(crate) fn pop_from(&mut self, source: Source) -> Option<Scheduled> {
        match source {
            Source::Heap => self.events.pop(),
            Source::Now => self.now_events.pop_front(),
            Source::Run(i) => {
                self.in_runs -= 1;
                self.runs[i].pop_front()
            }
            Source::Held => self.held.take(),
        }
    }

    /// Remove and return the next pending timer in `(time, seq)` order (the clock loop pops
    /// with [`Engine::pop_from`] where it peeked).
    #[cfg(test)]
    pub(crate) fn pop_event(&mut self) -> Option<Scheduled> {
        let source = self.peek_front()?.1;
        self.pop_from(source)
    }

    /// Every pending timer, in no particular order.
    pub(crate) fn pending_events(&self) -> impl Iterator<Item = &Scheduled> {
        self.events
            .iter()
            .chain(self.now_events.iter())
            .chain(self.runs.iter().flatten())
            .chain(self.held.iter())
    }

    /// Ask for a scheduler pass at `now` (coalesced: one pending pass at a time).
    pub(crate) fn request_schedule(&mut self, now: SimTime) {
        if !self.schedule_pending {
            self.schedule_pending = true;
            self.push_event(now, now, Event::Schedule);
        }
    }

    /// A job entered QUEUED: the ready queue of its priority if its owner is logged on, else parked
    /// (D10). Returns its queue key.
    #[inline]
    pub(crate) fn enqueue(&mut self, id: JobId, priority: Priority, owner_logged_on: bool) -> u64 {
        self.queue_seq += 1;
        let key = self.queue_seq;
        if owner_logged_on {
            if priority.is_foreground() {
                self.ready_fg.insert((key, id));
            } else if self.ready_bg[priority.value() as usize].insert((key, id)) {
                self.ready_bg_len += 1;
            }
        } else {
            self.parked.insert(id);
        }
        key
    }

    /// A job left QUEUED (or is re-queued): out of its ready queue (key `key`) or the parked set.
    #[inline]
    pub(crate) fn unqueue(&mut self, id: JobId, priority: Priority, key: Option<u64>) {
        // A queued job's priority does not change while it is queued (SetPriority takes it out
        // first), so its key can only be in the ready queue of that priority.
        if let Some(key) = key {
            if priority.is_foreground() {
                self.ready_fg.remove(&(key, id));
            } else if self.ready_bg[priority.value() as usize].remove(&(key, id)) {
                self.ready_bg_len -= 1;
            }
        }
        if !self.parked.is_empty() {
            self.parked.remove(&id);
        }
    }

    /// The first background job in the ready queue: the best priority, then the earliest enqueued.
    #[inline]
    pub(crate) fn first_ready_bg(&self) -> Option<(Priority, u64, JobId)> {
        debug_assert_eq!(
            self.ready_bg_len,
            self.ready_bg.iter().map(OrdSet::len).sum::<usize>()
        );
        if self.ready_bg_len == 0 {
            return None;
        }
        self.ready_bg.iter().enumerate().find_map(|(p, set)| {
            let &(seq, id) = set.first()?;
            let priority = Priority::from_value(p as u32).expect("an index of a priority value");
            Some((priority, seq, id))
        })
    }

    /// Every QUEUED job (ready or parked): foreground, then background by priority, then parked.
    pub(crate) fn queued(&self) -> Vec<JobId> {
        self.ready_fg
            .iter()
            .map(|&(_, id)| id)
            .chain(self.ready_bg.iter().flatten().map(|&(_, id)| id))
            .chain(self.parked.iter().copied())
            .collect()
    }

    /// The one place `running_bg` changes: job `id` runs (CONNECTING or TRANSFERRING) with
    /// `priority`, or (`None`) does not run. Called when a job starts or stops running and when a
    /// running job's priority changes.
    pub(crate) fn set_running(&mut self, id: JobId, priority: Option<Priority>) {
        let background = priority.is_some_and(|p| !p.is_foreground());
        let at = self.running_bg.iter().position(|&x| x == id);
        match (at, background) {
            (None, true) => self.running_bg.push(id),
            (Some(i), false) => {
                self.running_bg.swap_remove(i);
            }
            _ => {}
        }
    }

    /// The running jobs with a background priority, in no order.
    pub(crate) fn running_bg(&self) -> &[JobId] {
        &self.running_bg
    }
}

/// A job's stop point on the shared counter.
pub(crate) fn stop_point(a: &Active) -> u128 {
    a.s_base + u128::from(a.stop_at.saturating_sub(a.bytes_base)) * SCALE
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A held time slice comes out in `(time, seq)` order among the heap's and the FIFO's timers,
    /// and a second one sends the first into the heap without changing that order.
    #[test]
    fn held_slices_keep_the_timer_order() {
        let mut e = Engine::default();
        let now = SimTime::from_millis(10);
        let at = SimTime::from_millis(20);
        let job = JobId(0);
        e.push_event(now, at, Event::Retry(job)); // seq 1, heap
        e.push_held(at, Event::Slice(job)); // seq 2, held
        e.push_event(now, now, Event::Schedule); // seq 3, FIFO (due now)
        e.push_event(now, at, Event::Deadline(job)); // seq 4, heap
        e.push_held(SimTime::from_millis(15), Event::Slice(JobId(1))); // seq 5; seq 2 to the heap
        assert_eq!(e.pending_events().count(), 5);
        let order: Vec<u64> = std::iter::from_fn(|| e.pop_event().map(|s| s.seq)).collect();
        assert_eq!(order, vec![3, 5, 1, 2, 4]);
        assert!(e.held.is_none() && e.peek_event().is_none());
    }

    /// Timers spread over the heap, the FIFO and the runs come out in `(time, seq)` order, as
    /// from one heap, whatever order they were armed in (a model list checks every pop); the
    /// runs take the in-order ones.
    #[test]
    fn runs_and_heap_pop_in_timer_order() {
        let mut used_runs = false;
        for seed in 1..40u64 {
            let mut e = Engine::default();
            let mut model: Vec<(u64, u64)> = Vec::new();
            let mut x = seed;
            let mut now = 0u64;
            let pop = |e: &mut Engine, model: &mut Vec<(u64, u64)>, now: &mut u64| {
                let p = e.pop_event().expect("a pending timer");
                let min = *model.iter().min().unwrap();
                assert_eq!((p.time.as_millis(), p.seq), min);
                model.retain(|&m| m != min);
                *now = (*now).max(p.time.as_millis());
            };
            for step in 0..400u32 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let r = x >> 33;
                // Mostly in order (a storm's retries and deadlines), sometimes anywhere.
                let at = match r % 4 {
                    0 => now + 600_000,
                    1 => now + 1_209_600_000,
                    2 => now,
                    _ => now + r % 5_000,
                };
                let (now_t, at_t) = (SimTime::from_millis(now), SimTime::from_millis(at));
                e.push_event(now_t, at_t, Event::Retry(JobId(step)));
                model.push((at, e.timer_seq));
                used_runs |= e.runs.iter().any(|r| !r.is_empty());
                assert_eq!(e.pending_events().count(), model.len());
                if r % 3 == 0 {
                    pop(&mut e, &mut model, &mut now);
                }
            }
            while !model.is_empty() {
                pop(&mut e, &mut model, &mut now);
            }
            assert!(e.pop_event().is_none() && e.timer_list_len() == 0);
        }
        assert!(used_runs);
    }
}
