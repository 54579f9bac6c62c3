//! The world around the service: the network going down and up (T18, T19), bandwidth, scripted
//! remotes, users logging on and off (D10, T20) and the service restarting (D15).

use super::Service;
use crate::hresult::HResult;
use crate::job::UserId;
use crate::state::JobState;
use crate::trace::TraceKind;
use crate::transition::EngineEvent;
use crate::world::{Chaos, Class, Local, Network, Remote, World};
use std::collections::BTreeMap;

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
    pub fn restart_service(&mut self) {
        // The service's state goes through the same save/load path as a snapshot on disk.
        self.reload_in_memory();
        self.generation = self.generation.wrapping_add(1);
        for r in &mut self.registrations {
            *r = None;
        }
        self.record(TraceKind::ServiceRestarted);
        for j in 0..self.jobs.len() {
            // Every state takes the event (D15; final states stay, §1.3).
            self.on_event(j, EngineEvent::ServiceRestart);
        }
    }
}

/// Mutable access to the scripted parts of the world.
pub struct WorldMut<'a> {
    world: &'a mut World,
}

impl WorldMut<'_> {
    /// Remotes by URL.
    pub fn remotes(&mut self) -> &mut BTreeMap<String, Remote> {
        &mut self.world.remotes
    }
    /// Local files for uploads.
    pub fn locals(&mut self) -> &mut BTreeMap<String, Local> {
        &mut self.world.locals
    }
    /// D5 overrides.
    pub fn classify(&mut self) -> &mut BTreeMap<HResult, Class> {
        &mut self.world.classify
    }
    /// Chaos settings.
    pub fn chaos(&mut self) -> &mut Option<Chaos> {
        &mut self.world.chaos
    }
    /// The background time slice in seconds (T7).
    pub fn time_slice_secs(&mut self) -> &mut u64 {
        &mut self.world.time_slice_secs
    }
}
