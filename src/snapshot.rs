//! Durable state: the whole simulated service — jobs, files, error records, users, applications, clock,
//! world and pending timers — saved to JSON with a format version and loaded back exactly.
//!
//! Loading validates before it replaces anything: a file that is corrupt, truncated, from an unknown
//! version or internally inconsistent fails with an error naming the file and the problem, and the
//! running service is left untouched. Saving to a path is atomic: the JSON goes to a temporary file in
//! the same directory, is flushed to disk, then renamed over the target, so a failed or interrupted
//! save leaves the previous file intact.
//!
//! `restart_service` (D15) goes through the same path: the service is saved to JSON in memory, loaded
//! back, and only then are the restart rules applied. What a snapshot cannot hold: callbacks that are
//! application code ([`crate::Notifier::Callback`]) — they are dropped; scripted answers
//! ([`crate::Notifier::Answer`]) are kept. The trace is an output, not state, and is not saved.

use crate::engine::{Event, Flow, Scheduled};
use crate::job::Job;
use crate::notify::{Notifier, Registration};
use crate::service::{App, Limits, Service, User};
use crate::{HResult, JobId, JobState, Priority, SimTime, World};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The format name written into every snapshot.
pub const FORMAT: &str = "bitsim-snapshot";
/// The snapshot format version this build writes and reads.
pub const VERSION: u32 = 1;

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
    /// The file is a snapshot of another format version.
    #[error("{path}: snapshot format {found_format:?} version {found_version} is not supported (expected {FORMAT:?} version {VERSION})")]
    Version {
        /// The file.
        path: PathBuf,
        /// The format name found.
        found_format: String,
        /// The version found.
        found_version: u32,
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

/// A registration that can be saved: only scripted answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct SavedRegistration {
    job: JobId,
    app: crate::AppId,
    serial: u64,
    answer: HResult,
}

/// The serialised form of a [`Service`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Snapshot {
    format: String,
    version: u32,
    now: SimTime,
    world: World,
    limits: Limits,
    users: Vec<User>,
    apps: Vec<App>,
    jobs: Vec<Job>,
    generation: u32,
    registrations: Vec<SavedRegistration>,
    next_serial: u64,
    events: Vec<Scheduled>,
    seq: u64,
    schedule_pending: bool,
    ready_fg: BTreeSet<(u64, JobId)>,
    ready_bg: BTreeSet<(Priority, u64, JobId)>,
    parked: BTreeSet<JobId>,
    running: BTreeSet<JobId>,
    flow: Flow,
    steps: u64,
    tracing: bool,
}

/// Just enough to read the version before trusting the rest.
#[derive(Deserialize)]
struct Header {
    format: String,
    version: u32,
}

impl Service {
    /// The service as snapshot JSON.
    pub fn to_snapshot_json(&self) -> String {
        let mut events: Vec<Scheduled> = self.engine.pending_events().copied().collect();
        events.sort();
        let registrations = self
            .registrations
            .iter()
            .enumerate()
            .filter_map(|(j, r)| {
                let r = r.as_ref()?;
                Some(SavedRegistration {
                    job: self.jobs[j].id(),
                    app: r.app,
                    serial: r.serial,
                    answer: r.notifier.answer()?,
                })
            })
            .collect();
        let snap = Snapshot {
            format: FORMAT.to_string(),
            version: VERSION,
            now: self.now,
            world: self.world.clone(),
            limits: self.limits,
            users: self.users.clone(),
            apps: self.apps.clone(),
            jobs: self.jobs.clone(),
            generation: self.generation,
            registrations,
            next_serial: self.next_serial,
            events,
            seq: self.engine.timer_seq,
            schedule_pending: self.engine.schedule_pending,
            ready_fg: self.engine.ready_fg.clone(),
            ready_bg: self.engine.ready_bg_entries().collect(),
            parked: self.engine.parked.clone(),
            running: self.engine.running().clone(),
            flow: self.engine.flow.clone(),
            steps: self.engine.steps,
            tracing: self.tracing,
        };
        serde_json::to_string(&snap).expect("a snapshot always serialises")
    }

    /// A service from snapshot JSON; `origin` names the source in errors.
    pub fn from_snapshot_json(json: &str, origin: &Path) -> Result<Service, SnapshotError> {
        let parse_err = |e: serde_json::Error| SnapshotError::Parse {
            path: origin.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        let header: Header = serde_json::from_str(json).map_err(parse_err)?;
        if header.format != FORMAT || header.version != VERSION {
            return Err(SnapshotError::Version {
                path: origin.to_path_buf(),
                found_format: header.format,
                found_version: header.version,
            });
        }
        let snap: Snapshot = serde_json::from_str(json).map_err(parse_err)?;
        let inconsistent = |problem: String| SnapshotError::Inconsistent {
            path: origin.to_path_buf(),
            problem,
        };
        validate(&snap).map_err(inconsistent)?;
        Ok(build(snap))
    }

    /// Save to `path` atomically (temporary file in the same directory, flush, rename).
    pub fn save(&self, path: &Path) -> Result<(), SnapshotError> {
        save_atomically(path, self.to_snapshot_json().as_bytes(), |_| Ok(()))
    }

    /// Load from `path`, replacing this service only if the file is a valid, consistent snapshot.
    /// The trace recorded so far is kept.
    pub fn load(&mut self, path: &Path) -> Result<(), SnapshotError> {
        let json = std::fs::read_to_string(path).map_err(|source| SnapshotError::Io {
            path: path.to_path_buf(),
            op: "read",
            source,
        })?;
        let mut loaded = Service::from_snapshot_json(&json, path)?;
        loaded.trace = std::mem::take(&mut self.trace);
        *self = loaded;
        Ok(())
    }

    /// Replace this service by a save-and-load round trip of itself (used by `restart_service`).
    /// User callbacks are dropped; everything else is kept exactly.
    pub(crate) fn reload_in_memory(&mut self) {
        let json = self.to_snapshot_json();
        let mut loaded = Service::from_snapshot_json(&json, Path::new("<memory>"))
            .expect("a snapshot of a consistent service loads back");
        loaded.trace = std::mem::take(&mut self.trace);
        *self = loaded;
    }
}

/// The stages of an atomic save, for fault injection in tests.
#[doc(hidden)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SaveStage {
    /// The temporary file is created and partly written.
    Written,
    /// The temporary file is flushed to disk, not yet renamed.
    Flushed,
}

/// Write `bytes` to `path` atomically; `fault` may abort at a stage (tests). On any failure the
/// temporary file is removed and `path` is untouched.
#[doc(hidden)]
pub fn save_atomically(
    path: &Path,
    bytes: &[u8],
    fault: impl Fn(SaveStage) -> std::io::Result<()>,
) -> Result<(), SnapshotError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snapshot".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let io = |op: &'static str| {
        move |source| SnapshotError::Io {
            path: path.to_path_buf(),
            op,
            source,
        }
    };
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io("create temporary file"))?;
        let half = bytes.len() / 2;
        f.write_all(&bytes[..half]).map_err(io("write"))?;
        fault(SaveStage::Written).map_err(io("write"))?;
        f.write_all(&bytes[half..]).map_err(io("write"))?;
        f.sync_all().map_err(io("flush"))?;
        fault(SaveStage::Flushed).map_err(io("flush"))?;
        std::fs::rename(&tmp, path).map_err(io("rename"))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Everything a snapshot must satisfy before it replaces a running service.
fn validate(s: &Snapshot) -> Result<(), String> {
    let (nj, nu, na) = (s.jobs.len(), s.users.len(), s.apps.len());
    if nu == 0 && nj > 0 {
        return Err("jobs exist but no users".into());
    }
    for (i, app) in s.apps.iter().enumerate() {
        if app.user.index() >= nu {
            return Err(format!(
                "application {i} runs as unknown user {}",
                app.user.index()
            ));
        }
    }
    // Every job listed in a queue, gathered once (looking each job up in the queues by a scan was
    // O(jobs × queued)).
    let listed: BTreeSet<JobId> = s
        .ready_fg
        .iter()
        .map(|e| e.1)
        .chain(s.ready_bg.iter().map(|e| e.2))
        .chain(s.parked.iter().copied())
        .collect();
    for (i, job) in s.jobs.iter().enumerate() {
        let at = |what: &str| format!("job {i} ({}): {what}", job.id().guid());
        if job.id().index() != i {
            return Err(at("id does not match its position"));
        }
        if job.owner().index() >= nu {
            return Err(at("owner is not a known user"));
        }
        if job.job_type().is_upload() && job.files().len() > 1 {
            return Err(at("an upload job has more than one file"));
        }
        for (f, file) in job.files().iter().enumerate() {
            if file.bytes_total != crate::BG_SIZE_UNKNOWN
                && file.bytes_transferred > file.bytes_total
            {
                return Err(at(&format!(
                    "file {f} has more bytes transferred than its size"
                )));
            }
        }
        if let Some(e) = job.error() {
            if e.file.is_some_and(|f| f as usize >= job.files().len()) {
                return Err(at("error record names a file the job does not have"));
            }
        }
        let times = job.times();
        if times.modification_time > s.now || times.creation_time > times.modification_time {
            return Err(at("times are out of order or in the future"));
        }
        match job.active.as_deref() {
            Some(_) if !job.state().is_running() => {
                return Err(at(&format!("active transfer while {}", job.state())))
            }
            Some(a) if a.file as usize >= job.files().len() || a.stop_at < a.bytes_base => {
                return Err(at("active transfer is out of range"))
            }
            _ => {}
        }
        if job.state().is_running() != s.running.contains(&job.id()) {
            return Err(at("running set and state disagree"));
        }
        let queued = job.state() == JobState::Queued;
        if queued != listed.contains(&job.id()) {
            return Err(at("queue membership and state disagree"));
        }
        if (job.retry_at.is_some() || job.deadline_at.is_some())
            && job.state() != JobState::TransientError
        {
            return Err(at("timer armed outside TRANSIENT_ERROR"));
        }
        if job.no_progress_timeout_secs() == 0 && job.state() == JobState::TransientError {
            return Err(at("TRANSIENT_ERROR with a zero no-progress timeout (T26)"));
        }
        if job.retry_delay_secs() < crate::job::defaults::MINIMUM_RETRY_DELAY_FLOOR {
            return Err(at("minimum retry delay below 5 s (D14)"));
        }
    }
    for r in &s.registrations {
        if r.job.index() >= nj || r.app.index() >= na {
            return Err(format!(
                "registration for job {} by app {} names an unknown job or app",
                r.job.index(),
                r.app.index()
            ));
        }
    }
    for e in &s.events {
        let job = match e.event {
            Event::Schedule => None,
            Event::Retry(j)
            | Event::Deadline(j)
            | Event::Slice(j)
            | Event::NotifyRetry { job: j, .. } => Some(j),
        };
        if job.is_some_and(|j| j.index() >= nj) {
            return Err(format!(
                "a pending timer names unknown job {}",
                job.map_or(0, |j| j.index())
            ));
        }
        if e.seq > s.seq {
            return Err("a pending timer has a sequence number from the future".into());
        }
    }
    for &(_, id) in &s.flow.points {
        if s.jobs.get(id.index()).is_none_or(|j| j.active.is_none()) {
            return Err(format!(
                "a transfer point names job {} which has no active transfer",
                id.index()
            ));
        }
    }
    Ok(())
}

/// Rebuild a service from a validated snapshot; counters are derived, not trusted.
fn build(s: Snapshot) -> Service {
    let mut svc = Service::new(s.world);
    svc.now = s.now;
    svc.limits = s.limits;
    svc.users = s.users;
    svc.apps = s.apps;
    svc.live_jobs_per_user = vec![0; svc.users.len()];
    svc.registrations = (0..s.jobs.len()).map(|_| None).collect();
    for job in &s.jobs {
        if !job.state().is_final() {
            svc.live_jobs += 1;
            svc.live_jobs_per_user[job.owner().index()] += 1;
        }
        svc.engine.armed +=
            u64::from(job.retry_at.is_some()) + u64::from(job.deadline_at.is_some());
        // The ready-queue counter is derived: past every key a job holds.
        svc.engine.queue_seq = svc.engine.queue_seq.max(job.ready_key.unwrap_or(0));
    }
    svc.jobs = s.jobs;
    for r in s.registrations {
        svc.registrations[r.job.index()] = Some(Box::new(Registration {
            app: r.app,
            serial: r.serial,
            notifier: Notifier::Answer(r.answer),
        }));
    }
    svc.generation = s.generation;
    svc.next_serial = s.next_serial;
    let e = &mut svc.engine;
    e.events = crate::heap::MinHeap::from_vec(s.events);
    e.timer_seq = s.seq;
    e.schedule_pending = s.schedule_pending;
    e.ready_fg = s.ready_fg;
    for (priority, seq, id) in s.ready_bg {
        e.ready_bg[priority.value() as usize].insert((seq, id));
    }
    e.parked = s.parked;
    e.restore_running(
        s.running
            .iter()
            .map(|&id| (id, svc.jobs[id.index()].priority())),
    );
    e.flow = s.flow;
    e.steps = s.steps;
    svc.tracing = s.tracing;
    svc
}
