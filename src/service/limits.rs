//! Three limits on when a job transfers: the network's cost (T21a, T21b, D53), Group Policy's block
//! of background transfers (T21, D99) and the maximum download time (T23, D55).
//!
//! Policy: while Group Policy allows background transfers no bandwidth (MaxInternetBandwidth 0 in
//! its window), a job that is not FOREGROUND waits in TRANSIENT_ERROR with BG_E_BLOCKED_BY_POLICY
//! the same way; it is queued again when the block ends or the job becomes FOREGROUND.
//!
//! Cost: a job transfers only while every bit of the network's cost is in its cost flags. Otherwise
//! it waits in TRANSIENT_ERROR with BG_E_BLOCKED_BY_COST_TRANSFER_POLICY, like a network loss: no
//! retry timer, no error count, the no-progress clock running; it is queued again when the cost or
//! its cost flags change so that it may transfer.
//!
//! Maximum download time: the time a job spends in CONNECTING and TRANSFERRING since its last Resume
//! is counted in its `JobOptions`; when it reaches the limit the job goes to ERROR with
//! BG_E_MAXDOWNLOAD_TIMEOUT. The deadline of each running job sits in `Engine::max_download`.

use super::Service;
use crate::hresult::HResult;
use crate::record::ErrorReport;
use crate::state::JobState;
use crate::time::{SimDuration, SimTime};
use crate::trace::TraceKind;
use crate::transition::EngineEvent;
use crate::world::{cost_allows, Network, COST_STATES_KNOWN};

/// A condition a queued or running job waits out in TRANSIENT_ERROR, without the retry timer or an
/// error count, queued again when it clears: the network's cost (T21a, T21b, D53) or Group Policy's
/// block of background transfers (T21, D99).
#[derive(Clone, Copy)]
enum Block {
    Cost,
    Policy,
}

impl Block {
    /// The code of the record a job waiting for it holds.
    const fn code(self) -> HResult {
        match self {
            Block::Cost => HResult::BG_E_BLOCKED_BY_COST_TRANSFER_POLICY,
            Block::Policy => HResult::BG_E_BLOCKED_BY_POLICY,
        }
    }
}

impl Service {
    // ================================================================== cost (T21a, T21b, D53)

    /// D53: the job's cost flags allow the network's current cost.
    pub(crate) fn cost_allows(&self, j: usize) -> bool {
        cost_allows(self.jobs[j].options().cost_flags, self.world.network_cost)
    }

    /// T21a for one QUEUED, CONNECTING or TRANSFERRING job: TRANSIENT_ERROR with the cost record, no
    /// error-count bump, no retry timer (D53, as T18). A zero no-progress timeout, or one already
    /// used up, still sends it to ERROR (T26, T12; D4a).
    pub(crate) fn cost_block(&mut self, j: usize) {
        let job = &self.jobs[j];
        self.record(TraceKind::CostBlocked {
            job: job.id(),
            cost: self.world.network_cost,
            flags: job.options().cost_flags,
        });
        self.policy_wait(j, EngineEvent::CostBlocked, ErrorReport::COST_BLOCKED);
    }

    /// The network's cost or the job's cost flags changed (COST_FLAGS is effective at once): see
    /// [`Service::block_changed`] (T21a, T21b).
    pub(crate) fn cost_changed(&mut self, j: usize) {
        self.block_changed(j, Block::Cost);
    }

    /// The network's cost changes (BITS_COST_STATE_* bits; bits outside the eight states are
    /// dropped): every job is checked against it (T21a, T21b, D53).
    pub fn set_network_cost(&mut self, cost: u32) {
        let cost = cost & COST_STATES_KNOWN;
        if self.world.network_cost == cost {
            return;
        }
        self.world.network_cost = cost;
        self.record(TraceKind::NetworkCost { cost });
        self.block_changed_all(Block::Cost);
    }

    // ================================================================== group policy (T21, D99)

    /// D99: Group Policy lets job `j` transfer now (only background jobs are blocked).
    #[inline]
    pub(crate) fn policy_allows(&self, j: usize) -> bool {
        !self.world.policy_blocks_background || self.jobs[j].priority().is_foreground()
    }

    /// T21 for one QUEUED, CONNECTING or TRANSFERRING job: TRANSIENT_ERROR with the policy record,
    /// no error-count bump, no retry timer (D99, as T18 and T21a). A zero no-progress timeout, or
    /// one already used up, still sends it to ERROR (T26, T12; D4a).
    pub(crate) fn policy_block(&mut self, j: usize) {
        let id = self.jobs[j].id();
        self.record(TraceKind::PolicyBlocked { job: id });
        self.policy_wait(j, EngineEvent::PolicyBlocked, ErrorReport::POLICY_BLOCKED);
    }

    /// The job's priority changed while Group Policy blocks background transfers: see
    /// [`Service::block_changed`] (T21). A job waiting for the network's cost keeps waiting for it
    /// (T21a comes before T21 at a scheduler turn).
    pub(crate) fn policy_changed(&mut self, j: usize) {
        self.block_changed(j, Block::Policy);
    }

    /// Group Policy starts or stops allowing background transfers no bandwidth (MaxInternetBandwidth
    /// 0 in its window): every job is checked against it (T21, D99).
    pub fn set_background_policy_block(&mut self, blocked: bool) {
        if self.world.policy_blocks_background == blocked {
            return;
        }
        self.world.policy_blocks_background = blocked;
        self.record(TraceKind::GroupPolicy {
            block_background: blocked,
        });
        self.block_changed_all(Block::Policy);
    }

    // ================================================================== both blocks

    /// The job waits in TRANSIENT_ERROR for `block` (T21a, T21).
    fn waiting_for(&self, j: usize, block: Block) -> bool {
        let job = &self.jobs[j];
        job.state() == JobState::TransientError
            && job.waiting_for_network()
            && job.error().is_some_and(|e| e.code == block.code())
    }

    /// What `block` depends on changed for job `j`: a queued or running job it no longer allows
    /// waits (T21a, T21), a job waiting for it that it now allows is queued again (T21b, T21).
    /// While the network is down the scheduler's T18 comes first.
    fn block_changed(&mut self, j: usize, block: Block) {
        let allows = match block {
            Block::Cost => self.cost_allows(j),
            Block::Policy => self.policy_allows(j),
        };
        match self.jobs[j].state() {
            JobState::Queued | JobState::Connecting | JobState::Transferring
                if !allows && self.world.network == Network::Up =>
            {
                match block {
                    Block::Cost => self.cost_block(j),
                    Block::Policy => self.policy_block(j),
                }
            }
            JobState::TransientError if allows && self.waiting_for(j, block) => {
                let job = self.jobs[j].id();
                let (record, event) = match block {
                    Block::Cost => (TraceKind::CostCleared { job }, EngineEvent::CostCleared),
                    Block::Policy => (TraceKind::PolicyCleared { job }, EngineEvent::PolicyCleared),
                };
                self.record(record);
                self.on_event(j, event);
            }
            _ => {}
        }
    }

    /// [`Service::block_changed`] for every job not in a final state.
    fn block_changed_all(&mut self, block: Block) {
        for j in 0..self.jobs.len() {
            if !self.jobs[j].state().is_final() {
                self.block_changed(j, block);
            }
        }
    }

    // ================================================================== maximum download time (T23, D55)

    /// When a running job's maximum download time is used up (`None`: after the end of time, D18).
    /// Always at or after the instant the job entered its state.
    #[inline]
    fn max_download_due(&self, j: usize) -> Option<SimTime> {
        let job = &self.jobs[j];
        // No options block: the default limit with nothing counted, a constant (the usual job:
        // five look-ups per lifecycle that need not reach the block's defaults).
        let remaining = if job.has_options() {
            max_download_remaining(job.options())
        } else {
            DEFAULT_MAX_DOWNLOAD_REMAINING
        };
        Self::due_after(job.state_since(), remaining)
    }

    /// Job `j` entered CONNECTING or TRANSFERRING: its deadline (T23).
    #[inline(always)]
    pub(crate) fn max_download_enter(&mut self, j: usize) {
        if let Some(due) = self.max_download_due(j) {
            let id = self.jobs[j].id();
            self.engine.max_download.insert((due, id));
        }
    }

    /// Job `j` leaves CONNECTING or TRANSFERRING for `to`: its deadline goes, and the time spent
    /// there is counted (D55) — or dropped, in the states that only a Resume leaves (SUSPENDED,
    /// ERROR, TRANSFERRED and the final states), since that Resume resets it.
    ///
    /// Returns the deadline left in place when `to` is running too ([`Service::max_download_move`]
    /// then moves it, or keeps it where the count makes it fall at the same instant — the usual
    /// case: CONNECTING → TRANSFERRING at one instant).
    #[inline(always)]
    pub(crate) fn max_download_leave(&mut self, j: usize, to: JobState) -> Option<SimTime> {
        let due = self.max_download_due(j);
        let kept = if to.is_running() {
            due
        } else {
            if let Some(due) = due {
                let id = self.jobs[j].id();
                self.engine.max_download.remove(&(due, id));
            }
            None
        };
        let spent = self
            .now
            .saturating_since(self.jobs[j].state_since())
            .as_millis();
        let keep = matches!(
            to,
            JobState::Queued
                | JobState::Connecting
                | JobState::Transferring
                | JobState::TransientError
        );
        let used = self.jobs[j].options().download_time_ms;
        let after = if keep {
            used.saturating_add(i64::try_from(spent).unwrap_or(i64::MAX))
        } else {
            0
        };
        if after != used {
            self.jobs[j].edit_options(|o| o.download_time_ms = after);
        }
        kept
    }

    /// Job `j` entered a running state from a running one, whose deadline `kept` was left in
    /// place by [`Service::max_download_leave`]: the entry becomes the new deadline (the same set
    /// as a removal then [`Service::max_download_enter`]).
    #[inline(always)]
    pub(crate) fn max_download_move(&mut self, j: usize, kept: Option<SimTime>) {
        let due = self.max_download_due(j);
        if due == kept {
            return;
        }
        let id = self.jobs[j].id();
        if let Some(old) = kept {
            self.engine.max_download.remove(&(old, id));
        }
        if let Some(due) = due {
            self.engine.max_download.insert((due, id));
        }
    }

    /// A job entering a waiting state other than from a running one keeps its count only in QUEUED
    /// and TRANSIENT_ERROR (D55).
    pub(crate) fn max_download_settle(&mut self, j: usize, to: JobState) {
        let keep = matches!(to, JobState::Queued | JobState::TransientError) || to.is_running();
        if !keep && self.jobs[j].options().download_time_ms != 0 {
            self.jobs[j].edit_options(|o| o.download_time_ms = 0);
        }
    }

    /// A successful Resume resets the elapsed time (T23; SetMaximumDownloadTime page): a running job
    /// counts again from this instant.
    pub(crate) fn max_download_reset(&mut self, j: usize) {
        let running = self.jobs[j].state().is_running();
        if running {
            if let Some(due) = self.max_download_due(j) {
                let id = self.jobs[j].id();
                self.engine.max_download.remove(&(due, id));
            }
        }
        let before = if running {
            let spent = self
                .now
                .saturating_since(self.jobs[j].state_since())
                .as_millis();
            -i64::try_from(spent).unwrap_or(i64::MAX)
        } else {
            0
        };
        if self.jobs[j].options().download_time_ms != before {
            self.jobs[j].edit_options(|o| o.download_time_ms = before);
        }
        if running {
            self.max_download_enter(j);
        }
    }

    /// SetMaximumDownloadTime changes the limit of job `j` from `old` seconds: a running job's
    /// deadline moves, and a limit already used up sends it to ERROR at this instant (D55).
    pub(crate) fn max_download_limit_changed(&mut self, j: usize, old: u32) {
        if !self.jobs[j].state().is_running() {
            return;
        }
        let id = self.jobs[j].id();
        let new = self.jobs[j].options().maximum_download_time;
        self.jobs[j].edit_options(|o| o.maximum_download_time = old);
        if let Some(due) = self.max_download_due(j) {
            self.engine.max_download.remove(&(due, id));
        }
        self.jobs[j].edit_options(|o| o.maximum_download_time = new);
        match self.max_download_due(j) {
            Some(due) if due <= self.now => self.max_download_fire(j),
            Some(due) => {
                self.engine.max_download.insert((due, id));
            }
            None => {}
        }
    }

    /// Whether a running job's maximum download time is used up at this instant.
    pub(crate) fn max_download_used_up(&self, j: usize) -> bool {
        self.max_download_due(j).is_some_and(|d| d <= self.now)
    }

    /// T23: the job goes to ERROR with BG_E_MAXDOWNLOAD_TIMEOUT.
    pub(crate) fn max_download_fire(&mut self, j: usize) {
        let job = &self.jobs[j];
        self.record(TraceKind::MaxDownloadTime {
            job: job.id(),
            seconds: job.options().maximum_download_time,
        });
        self.on_event(j, EngineEvent::MaxDownloadTimeout);
    }

    /// The deadlines due at `t`: the first one fires (one step each).
    pub(crate) fn max_download_pass(&mut self, t: SimTime) {
        let Some(&(due, id)) = self.engine.max_download.first() else {
            return;
        };
        if due > t {
            return;
        }
        // The entry goes with the job's stay in a running state (`enter` removes it on the way
        // out), so the job is running; the removal below only guards against a loop.
        if self.jobs[id.index()].state().is_running() {
            self.max_download_fire(id.index());
        }
        self.engine.max_download.remove(&(due, id));
    }

    /// After a load: the deadlines of the running jobs, from scratch.
    pub(crate) fn rebuild_max_download_deadlines(&mut self) {
        self.engine.max_download.clear();
        for j in 0..self.jobs.len() {
            if self.jobs[j].state().is_running() {
                self.max_download_enter(j);
            }
        }
    }
}

/// [`max_download_remaining`] of a job whose options are all at their defaults: the default
/// maximum download time (D55), nothing counted yet.
const DEFAULT_MAX_DOWNLOAD_REMAINING: SimDuration =
    SimDuration::from_millis(crate::job_options::MAXIMUM_DOWNLOAD_TIME as u64 * 1000);

/// T23 (D55): how long a job that is running since its state began may still spend in CONNECTING
/// and TRANSFERRING, counted from the instant it entered its state (the count in `options` is the
/// time spent before that instant, or minus the part of the stay before a Resume).
pub(crate) fn max_download_remaining(o: &crate::job_options::JobOptions) -> SimDuration {
    let limit = u64::from(o.maximum_download_time) * 1000;
    let used = o.download_time_ms;
    let remaining = if used <= 0 {
        limit.saturating_add(used.unsigned_abs())
    } else {
        limit.saturating_sub(used.unsigned_abs())
    };
    SimDuration::from_millis(remaining)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The constant of the no-options fast path is what the block's defaults give.
    #[test]
    fn d55_default_remaining_is_the_defaults_remaining() {
        assert_eq!(
            DEFAULT_MAX_DOWNLOAD_REMAINING,
            max_download_remaining(&crate::job_options::JobOptions::DEFAULT)
        );
        assert_eq!(
            DEFAULT_MAX_DOWNLOAD_REMAINING,
            SimDuration::from_secs(7_776_000)
        );
    }
}
