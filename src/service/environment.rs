//! The world around the service: the network going down and up (T18, T19), bandwidth, scripted
//! remotes, users logging on and off (D10, T20) and the service restarting (D15).

use super::Service;
use crate::hresult::HResult;
use crate::job::UserId;
use crate::state::JobState;
use crate::trace::TraceKind;
use crate::transition::EngineEvent;
use crate::world::{Chaos, Class, Network, Remote};

impl Service {
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
                    match self.jobs[j].state() {
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
                    // T19: every TRANSIENT_ERROR job, whatever its code; every state takes the event.
                    self.on_event(j, EngineEvent::NetworkBack);
                }
            }
        }
    }

    /// Change the shared bandwidth (bytes per second) from now on.
    pub fn set_bandwidth(&mut self, bytes_per_sec: u64) {
        let bw = self.world.bandwidth;
        self.engine.flow.sync(self.now, bw);
        self.world.bandwidth = bytes_per_sec;
    }

    /// Replace (or add) the remote at `url`; later connection attempts see the new behaviour.
    pub fn set_remote(&mut self, url: &str, remote: Remote) {
        self.world.put_remote(url.to_string(), remote);
        self.record(TraceKind::RemoteChanged);
    }

    /// Add or replace the local file at `path` that upload jobs read; later attempts see it.
    pub fn set_local(&mut self, path: &str, size: u64) {
        self.set_local_file(path, size, 0, None);
    }

    /// Override the D5 classification of `code` from now on (`None` restores the default, spec §4.5).
    pub fn set_class_override(&mut self, code: HResult, class: Option<Class>) {
        match class {
            Some(c) => self.world.classify.insert(code, c),
            None => self.world.classify.remove(&code),
        };
    }

    /// Replace the chaos settings (seeded random faults) from the next connection attempt on.
    pub fn set_chaos(&mut self, chaos: Option<Chaos>) {
        self.world.chaos = chaos;
    }

    /// Change the background time slice (T7, D12) for slices that start from now on. At least 1 s:
    /// 0 is taken as 1 (D20).
    pub fn set_time_slice_secs(&mut self, secs: u64) {
        self.world.time_slice_secs = secs.max(1);
    }

    /// A user logs on: their queued jobs may run (D10).
    pub fn logon(&mut self, user: UserId) {
        let Some(u) = self.users.get_mut(user.index()) else {
            return;
        };
        if u.logged_on {
            return;
        }
        u.logged_on = true;
        self.record(TraceKind::Logon { user, on: true });
        let parked: Vec<usize> = self
            .engine
            .parked
            .iter()
            .map(|id| id.index())
            .filter(|&j| self.jobs[j].owner() == user)
            .collect();
        for j in parked {
            self.requeue(j);
        }
    }

    /// A user logs off: their CONNECTING and TRANSFERRING jobs go back to QUEUED and wait (D10, T20).
    pub fn logoff(&mut self, user: UserId) {
        let Some(u) = self.users.get_mut(user.index()) else {
            return;
        };
        if !u.logged_on {
            return;
        }
        u.logged_on = false;
        self.record(TraceKind::Logon { user, on: false });
        for j in 0..self.jobs.len() {
            if self.jobs[j].owner() != user {
                continue;
            }
            match self.jobs[j].state() {
                JobState::Connecting | JobState::Transferring => {
                    self.on_event(j, EngineEvent::OwnerLogoff);
                }
                JobState::Queued => self.requeue(j),
                _ => {}
            }
        }
    }

    /// The BITS service restarts (D15): jobs, properties and error records persist; CONNECTING and
    /// TRANSFERRING jobs restart from QUEUED; callback registrations and every handle applications hold
    /// die (their calls fail with RPC_E_DISCONNECTED); the applications themselves keep running.
    ///
    /// D23: final jobs (ACKNOWLEDGED, CANCELLED) skip the snapshot round trip (they never change
    /// again) and their strings are released here: no handle can read them afterwards (handles die
    /// here; GetJob and EnumJobs never answer a final job, D9). Their ids, states, error records and
    /// progress stay, so the restart's cost follows the live jobs and nothing observable moves.
    pub fn restart_service(&mut self) {
        // The service's state goes through the same save/load path as a snapshot on disk.
        self.reload_in_memory();
        self.generation = self.generation.wrapping_add(1);
        for r in &mut self.registrations {
            *r = None;
        }
        self.record(TraceKind::ServiceRestarted);
        for j in 0..self.jobs.len() {
            // Every state takes the event (D15; final states stay, §1.3). Released jobs (D23) are
            // final and gone: nothing to tell them.
            if !self.jobs[j].state().is_final() {
                self.on_event(j, EngineEvent::ServiceRestart);
            }
        }
    }
}
