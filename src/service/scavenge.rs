//! T22: the service cancels a job that saw no activity for JobInactivityTimeout (world
//! `inactivity_timeout`, default 7,776,000 s). Activity is what moves ModificationTime (§8.2: a
//! property change, a method call, a state change, bytes written down); a CONNECTING or
//! TRANSFERRING job counts as active (D36), and a job in the service's own retry loop is inactive
//! since the loop began (D91, `Service::inactive_since`). The deadlines are kept lazily ([`crate::engine::Scavenge`]):
//! nothing per job until the first one falls due, and a deadline that ModificationTime has since
//! moved is put back at its new time instead of firing.

use super::Service;
use crate::engine::Scavenge;
use crate::job::JobId;
use crate::time::{SimDuration, SimTime};
use crate::trace::TraceKind;
use crate::transition::EngineEvent;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

impl Service {
    /// JobInactivityTimeout.
    fn inactivity_timeout(&self) -> SimDuration {
        SimDuration::from_secs(self.world.inactivity_timeout_secs)
    }

    /// Job `j` was loaded: its inactivity deadline counts from its ModificationTime (CreateJob uses
    /// [`Service::note_inactivity_from`] with the creation instant).
    pub(crate) fn note_inactivity_deadline(&mut self, j: usize) {
        let job = &self.jobs[j];
        if job.state().is_final() {
            return;
        }
        let (id, modified) = (job.id(), job.times().modification_time);
        self.note_inactivity_from(id, modified);
    }

    /// Job `id`, not final, last modified at `modified`: its inactivity deadline (CreateJob passes
    /// the creation instant, the new job's ModificationTime, instead of reading the job back).
    #[inline]
    pub(crate) fn note_inactivity_from(&mut self, id: JobId, modified: SimTime) {
        if let Some(due) = Service::due_after(modified, self.inactivity_timeout()) {
            self.engine.scavenge.note(due, id);
        }
    }

    /// After a load: the deadlines of every job, from scratch.
    pub(crate) fn rebuild_inactivity_deadlines(&mut self) {
        self.engine.scavenge = Scavenge::default();
        for j in 0..self.jobs.len() {
            self.note_inactivity_deadline(j);
        }
    }

    /// The deadlines due at `t`: a job still inactive since then is cancelled by the service (T22);
    /// the others are put back at their new deadline.
    pub(crate) fn scavenge_pass(&mut self, t: SimTime) {
        let timeout = self.inactivity_timeout();
        let mut agenda = match self.engine.scavenge.agenda.take() {
            Some(a) => a,
            None => {
                let mut a = BinaryHeap::new();
                for (j, job) in self.jobs.iter().enumerate() {
                    if job.state().is_final() {
                        continue;
                    }
                    // D91: a job in a retry loop is inactive since the loop began.
                    if let Some(d) = Service::due_after(self.inactive_since(j), timeout) {
                        a.push(Reverse((d, job.id())));
                    }
                }
                self.engine.scavenge.next = None;
                a
            }
        };
        let mut due_now: Vec<JobId> = Vec::new();
        while let Some(&Reverse((d, id))) = agenda.peek() {
            if d > t {
                break;
            }
            agenda.pop();
            let job = &self.jobs[id.index()];
            if job.state().is_final() {
                continue;
            }
            let from = if job.state().is_running() {
                t
            } else {
                self.inactive_since(id.index())
            };
            match Service::due_after(from, timeout) {
                Some(d2) if d2 > t => agenda.push(Reverse((d2, id))),
                Some(_) => due_now.push(id),
                // D18: a deadline past the end of time never falls due.
                None => {}
            }
        }
        self.engine.scavenge.agenda = Some(agenda);
        for id in due_now {
            let j = id.index();
            if !self.jobs[j].state().is_final() {
                self.record(TraceKind::Scavenged { job: id });
                self.on_event(j, EngineEvent::InactivityTimeout);
            }
        }
    }
}
