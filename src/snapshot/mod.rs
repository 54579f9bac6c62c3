//! Durable state: the whole simulated service — clock, world, users, applications, limits, jobs,
//! transfers under way, pending timers and scripted callbacks — saved to JSON in a versioned format
//! of its meaningful state, and loaded back exactly.
//!
//! # The format (version 2)
//!
//! The file is one JSON object (`docs/snapshot-format.md` has the field list and the version history):
//!
//! - `format` (`"bitsim-snapshot"`), `version` (2), `now` (virtual milliseconds), `generation` (D15),
//!   `engine_steps`, `tracing` (whether the trace is recorded; the trace itself is output, not state);
//! - `limits` (D14) and `world`: bandwidth, network, time slice (T7), remotes by URL with the scripted
//!   responses they have not given yet, local files, D5 overrides, chaos with its generator state;
//! - `users`, `apps` (with the callback deliveries not taken yet), `jobs` (identity, owner, type,
//!   state and since when, properties, files and progress, times, error record, error count, the
//!   no-progress clock, due times of the retry, no-progress and time-slice timers);
//! - `queue`: the QUEUED jobs in enqueue order; `transfers`: one per running job, with its live byte
//!   count, where it stops and whether it fails there; `timers`: pending timers as an ordered list of
//!   `(at, event)`, the order at equal times being the tie-break; `callbacks`: registrations that are
//!   scripted answers ([`crate::Notifier::Answer`]; code callbacks cannot be saved and are dropped).
//!
//! Nothing internal is stored: sequence numbers, ready-queue keys, the running sets, the transfer
//! counter and its stop points, and the quota and idleness counters are rebuilt on load. Saving, loading
//! and running the same inputs gives the same trace and the same final snapshot as not saving.
//!
//! # Loading verifies, it does not trust
//!
//! A file that is not JSON, is truncated, is of an unknown format or version, or contradicts itself is
//! refused with a [`SnapshotError`] naming the file and the problem, and the running service is left
//! untouched. Every reference (users, applications, jobs, files, registration serials) is checked, and
//! so are the invariants the engine relies on: times never in the future and timers never in the past,
//! exactly one transfer per CONNECTING/TRANSFERRING job and none for others, transfers within their
//! file, QUEUED jobs in the queue exactly once, armed timers really pending, error records where D1
//! puts them, and a scheduler pass pending whenever a ready job could start.
//!
//! Version 1 files (the internal structs serialised as they were) still load through a frozen reader
//! that converts them to version 2 and checks their own indexes on the way.
//!
//! # Saving
//!
//! Saving is atomic: the JSON goes to a uniquely named temporary file in the same directory, is
//! flushed to disk, then renamed over the target, so a failed or interrupted save leaves the previous
//! file intact; concurrent savers and stale temporaries do not interfere. Only a regular file (or
//! nothing) is replaced: a symbolic link, directory or device node is refused.
//!
//! `restart_service` (D15) goes through the same conversion (without the JSON text): the service is
//! captured in the format, verified and rebuilt, and only then are the restart rules applied.
//! [`Service::load`] into a running service bumps the generation, so handles and error objects from
//! before fail with RPC_E_DISCONNECTED.

mod capture;
mod file;
mod format;
mod restore;
mod v1;

use crate::Service;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The format name written into every snapshot.
pub const FORMAT: &str = "bitsim-snapshot";
/// The snapshot format version this build writes (it reads this one and every earlier one).
pub const VERSION: u32 = 2;

/// Why a snapshot could not be saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Reading or writing the file failed.
    #[error("{path}: {op}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid snapshot JSON (corrupt or truncated).
    #[error("{path}: line {line}, column {column}: not a valid bitsim snapshot: {message}")]
    Parse {
        /// The file (or `<memory>`).
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde expected.
        message: String,
    },
    /// The file is not a bitsim snapshot, or of a version this build does not read.
    #[error("{path}: snapshot format {found_format:?} version {found_version} is not supported (this build reads {FORMAT:?} versions 1 to {VERSION})")]
    Version {
        /// The file.
        path: PathBuf,
        /// The format name found.
        found_format: String,
        /// The version found.
        found_version: u32,
    },
    /// The save target exists and is not a regular file.
    #[error(
        "{path}: refusing to replace {kind} with a snapshot (only a regular file is replaced)"
    )]
    NotARegularFile {
        /// The target.
        path: PathBuf,
        /// What it is.
        kind: &'static str,
    },
    /// The file parses but contradicts itself.
    #[error("{path}: inconsistent snapshot: {problem}")]
    Inconsistent {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

/// Just enough to read the version before trusting the rest.
#[derive(Deserialize)]
struct Header {
    format: String,
    version: u32,
}

impl Service {
    /// The service as snapshot JSON (the current format version).
    pub fn to_snapshot_json(&self) -> String {
        serde_json::to_string(&capture::capture(self, false)).expect("a snapshot always serialises")
    }

    /// A service from snapshot JSON of any supported version, verified; `origin` names the source in
    /// errors. The service is exactly the one saved (same generation); see [`Service::load`] for
    /// replacing a running service.
    pub fn from_snapshot_json(json: &str, origin: &Path) -> Result<Service, SnapshotError> {
        let parse_err = |e: serde_json::Error| SnapshotError::Parse {
            path: origin.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        let inconsistent = |problem: String| SnapshotError::Inconsistent {
            path: origin.to_path_buf(),
            problem,
        };
        let header: Header = serde_json::from_str(json).map_err(parse_err)?;
        let snap = match (header.format == FORMAT, header.version) {
            (true, 1) => {
                let v1: v1::SnapshotV1 = serde_json::from_str(json).map_err(parse_err)?;
                v1::to_v2(v1).map_err(inconsistent)?
            }
            (true, 2) => serde_json::from_str::<format::SnapshotV2>(json).map_err(parse_err)?,
            _ => {
                return Err(SnapshotError::Version {
                    path: origin.to_path_buf(),
                    found_format: header.format,
                    found_version: header.version,
                })
            }
        };
        if snap.format != FORMAT || snap.version != VERSION {
            // Only reachable through a v1 conversion bug; refuse rather than guess.
            return Err(inconsistent(
                "converted snapshot has the wrong header".into(),
            ));
        }
        restore::restore(snap).map_err(inconsistent)
    }

    /// Save to `path` atomically (unique temporary file in the same directory, flush, rename). Refuses
    /// to replace anything but a regular file.
    pub fn save(&self, path: &Path) -> Result<(), SnapshotError> {
        file::save_atomically(path, self.to_snapshot_json().as_bytes(), |_| Ok(()))
    }

    /// Load from `path`, replacing this service only if the file is a valid, consistent snapshot. The
    /// trace recorded so far is kept. The generation becomes one more than both this service's and the
    /// file's, so every handle and error object obtained before the load fails with RPC_E_DISCONNECTED
    /// (as after a restart, D15): an old handle can never reach a job of the loaded service.
    pub fn load(&mut self, path: &Path) -> Result<(), SnapshotError> {
        let json = std::fs::read_to_string(path).map_err(|source| SnapshotError::Io {
            path: path.to_path_buf(),
            op: "read",
            source,
        })?;
        let mut loaded = Service::from_snapshot_json(&json, path)?;
        loaded.generation = loaded.generation.max(self.generation).wrapping_add(1);
        loaded.trace = std::mem::take(&mut self.trace);
        // The sandbox is host state, not service state: it stays as it is.
        loaded.world.sandbox = self.world.sandbox.take();
        loaded.world.sandbox_capacity = self.world.sandbox_capacity;
        loaded.sandbox = self.sandbox.take();
        // What servers received is theirs, not the service's: it outlives the restart.
        loaded.world.keep_server_logs(&mut self.world);
        loaded.world.http.uploads = std::mem::take(&mut self.world.http.uploads);
        *self = loaded;
        Ok(())
    }

    /// Replace this service by a capture-and-restore round trip of itself (used by
    /// `restart_service`). User callbacks are dropped and final jobs released (D23); everything else
    /// is kept exactly.
    pub(crate) fn reload_in_memory(&mut self) {
        // D23: final jobs never change again (§1.3): they skip the round trip and move over as they
        // are, released, so a restart costs in proportion to the live jobs.
        let mut loaded = restore::restore(capture::capture(self, true))
            .unwrap_or_else(|e| panic!("a snapshot of a running service verifies: {e}"));
        for (j, mut job) in std::mem::take(&mut *self.jobs).into_iter().enumerate() {
            if job.state().is_final() {
                job.release();
                loaded.jobs[j] = job;
            }
        }
        loaded.trace = std::mem::take(&mut self.trace);
        loaded.world.keep_server_logs(&mut self.world);
        loaded.world.http.uploads = std::mem::take(&mut self.world.http.uploads);
        // D40: the sandbox is host state: a service restart keeps it (and goes on writing there).
        loaded.world.sandbox = self.world.sandbox.take();
        loaded.world.sandbox_capacity = self.world.sandbox_capacity;
        loaded.sandbox = self.sandbox.take();
        *self = loaded;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{JobType, Remote, Response, SimDuration, World};

    /// A service with transfers under way at an uneven bandwidth (fractions of bytes), a transient
    /// error with its timers, and a parked job.
    fn busy() -> Service {
        let world = World::new()
            .remote("https://x.test/a", Remote::sized(3_000_000))
            .remote(
                "https://x.test/b",
                Remote::sized(1_000).with_responses([Response::http(503)]),
            )
            .bandwidth(999_983);
        let mut s = Service::new(world);
        let u = s.add_user("u", false, true);
        let off = s.add_user("off", false, false);
        let (a, b) = (s.connect("a", u), s.connect("b", off));
        for (app, url, prio) in [
            (a, "https://x.test/a", 0),
            (a, "https://x.test/a", 0),
            (a, "https://x.test/b", 2),
            (b, "https://x.test/a", 2),
        ] {
            let j = s.create_job(app, "j", JobType::Download).unwrap();
            s.add_file(app, j, url, "C:\\f").unwrap();
            s.set_priority(app, j, prio).unwrap();
            s.resume(app, j).unwrap();
        }
        s.advance(SimDuration::from_millis(1_234));
        s
    }

    #[test]
    fn capture_restore_capture_is_the_identity_and_keeps_sub_byte_progress() {
        let s = busy();
        let snap = capture::capture(&s, false);
        assert_eq!(snap.transfers.len(), 2);
        assert!(
            snap.transfers.iter().all(|t| t.sub_byte > 0),
            "999,983 B/s shared by two leaves fractions of a byte: {:?}",
            snap.transfers
        );
        let back = restore::restore(snap.clone()).unwrap();
        assert_eq!(capture::capture(&back, false), snap);
        assert_eq!(back.live_bytes(0), s.live_bytes(0));
        assert_eq!(back.next_event_time(), s.next_event_time());
    }

    #[test]
    fn json_round_trip_is_exact() {
        let s = busy();
        let json = s.to_snapshot_json();
        let back = Service::from_snapshot_json(&json, Path::new("mem")).unwrap();
        assert_eq!(back.to_snapshot_json(), json);
    }
}
