//! v2 format -> Service: verify every cross-reference and invariant, then build the service. The one
//! place that writes the service's internals from a snapshot. Indexes (ready queues, running sets,
//! counters, the transfer counter's stop points, timer sequence numbers) are rebuilt from the
//! meaningful state, never read from the file.

use super::format::*;
use crate::engine::{stop_point, Event, Flow, Scheduled, SCALE};
use crate::job::{
    defaults, Active, ErrorRecord, FileData, Job, JobTimes, Protocol, SavedJob, Slot,
};
use crate::notify::{Delivery, Notification, Notifier, Registration};
use crate::service::{App, Limits, User};
use crate::world::{Chaos, Class, Fault, Local, Network, Remote, Response};
use crate::{
    AppId, JobId, JobState, NotifyFlags, Service, SimTime, UserId, World, BG_SIZE_UNKNOWN,
};
use std::collections::{BTreeMap, BTreeSet};

/// Counters beyond 2^53 are refused: no run gets there, and readers that use doubles for JSON
/// numbers would lose precision.
const MAX_COUNTER: u64 = 1 << 53;

/// The kinds of job timers, for the "is this armed timer really pending" checks.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Retry,
    Deadline,
    Slice,
}

/// Everything a v2 snapshot must satisfy before it replaces a running service. `Err` names the
/// place and the problem.
pub(crate) fn verify(s: &SnapshotV2) -> Result<(), String> {
    let nu = s.users.len();
    // D23: ids given out; the ones `jobs` does not list were released at a restart.
    let nj = match s.job_ids_issued {
        None => s.jobs.len(),
        // A placeholder for a left-out id is owned by user 0, which must exist.
        Some(n) if n as usize > s.jobs.len() && nu == 0 => {
            return Err("job_ids_issued leaves ids out but there is no user".into())
        }
        Some(n) if n as usize >= s.jobs.len() => n as usize,
        Some(n) => {
            return Err(format!(
                "job_ids_issued is {n}, fewer than the {} jobs listed",
                s.jobs.len()
            ))
        }
    };
    let now = s.now;
    if s.engine_steps > MAX_COUNTER {
        return Err("engine_steps is beyond 2^53".into());
    }
    if s.last_callback_serial > MAX_COUNTER {
        return Err("last_callback_serial is beyond 2^53".into());
    }

    // ---- world
    let w = &s.world;
    for c in &w.com_servers {
        if crate::scenario::convention::parse_guid(&c.clsid).is_none() {
            return Err(format!("world.com_servers: {:?} is not a GUID", c.clsid));
        }
    }
    for l in &s.launches {
        if l.job as usize >= nj {
            return Err(format!("launches: names unknown job {}", l.job));
        }
    }
    if w.time_slice_secs == 0 {
        return Err("world.time_slice_secs is 0 (the time slice, T7, is at least 1 s)".into());
    }
    if w.network_cost
        .is_some_and(|c| c & !crate::world::COST_STATES_KNOWN != 0)
    {
        return Err(
            "world.network_cost has bits outside the eight BITS_COST_STATE bits (0xFF)".into(),
        );
    }
    let response_ok = |r: &ResponseV2| r.fault.is_some() || r.after_bytes.is_none();
    for (url, r) in &w.remotes {
        if !r.responses.iter().all(response_ok) || !response_ok(&r.otherwise) {
            return Err(format!(
                "world.remotes[{url:?}]: a success response with after_bytes (only faults happen after bytes)"
            ));
        }
    }
    // A body or a last-write time belongs to a local file the world has (D78): one naming no
    // local would be dropped or kept for a file nobody can read.
    for (what, path) in w
        .local_content
        .keys()
        .map(|p| ("local_content", p))
        .chain(w.local_modified.keys().map(|p| ("local_modified", p)))
    {
        if !w.locals.contains_key(path) {
            return Err(format!(
                "world.{what}[{path:?}]: not a local file of the world (expected a name listed in world.locals)"
            ));
        }
    }
    let mut codes = BTreeSet::new();
    for c in &w.classify {
        if !codes.insert(c.code) {
            return Err(format!(
                "world.classify: code {} is classified twice",
                c.code.0
            ));
        }
    }

    // ---- users and applications
    let mut names = BTreeSet::new();
    for (i, u) in s.users.iter().enumerate() {
        if !names.insert(u.name.as_str()) {
            return Err(format!("users[{i}]: the name {:?} is taken twice", u.name));
        }
    }
    for (i, a) in s.apps.iter().enumerate() {
        if a.user as usize >= nu {
            return Err(format!("apps[{i}]: runs as unknown user {}", a.user));
        }
        if a.deliveries.len() > Service::DELIVERY_LOG_CAP {
            return Err(format!(
                "apps[{i}]: {} deliveries, more than the log keeps ({}, D22)",
                a.deliveries.len(),
                Service::DELIVERY_LOG_CAP
            ));
        }
        for d in &a.deliveries {
            if d.job as usize >= nj {
                return Err(format!("apps[{i}]: a delivery names unknown job {}", d.job));
            }
        }
    }

    // ---- timers: in firing order, never in the past, naming known jobs
    let mut armed: BTreeSet<(Kind, u32, SimTime)> = BTreeSet::new();
    let mut schedules = 0usize;
    let mut last = now;
    for (i, t) in s.timers.iter().enumerate() {
        let at = |what: &str| format!("timers[{i}] (at {} ms): {what}", t.at.as_millis());
        if t.at < now {
            return Err(at("due before the clock (time never goes backwards, D13)"));
        }
        if t.at < last {
            return Err(at(
                "listed after a later timer (the list is in firing order)",
            ));
        }
        last = t.at;
        let job = match t.event {
            TimerEventV2::Schedule => {
                schedules += 1;
                None
            }
            TimerEventV2::Retry { job } => {
                armed.insert((Kind::Retry, job, t.at));
                Some(job)
            }
            TimerEventV2::NoProgressDeadline { job } => {
                armed.insert((Kind::Deadline, job, t.at));
                Some(job)
            }
            TimerEventV2::TimeSlice { job } => {
                armed.insert((Kind::Slice, job, t.at));
                Some(job)
            }
            TimerEventV2::Launch { job, .. } => Some(job),
            TimerEventV2::FileNotifyRetry { job, serial, .. } => {
                if serial > s.last_callback_serial {
                    return Err(at(
                        "a callback retry names a registration serial not given yet",
                    ));
                }
                Some(job)
            }
            TimerEventV2::NotifyRetry { job, serial, .. } => {
                if serial > s.last_callback_serial {
                    return Err(at(
                        "a callback retry names a registration serial not given yet",
                    ));
                }
                Some(job)
            }
        };
        if let Some(j) = job.filter(|&j| j as usize >= nj) {
            return Err(at(&format!("names unknown job {j}")));
        }
    }
    if schedules > 1 {
        return Err("timers: more than one scheduler pass pending (passes are coalesced)".into());
    }

    // ---- transfers
    let mut transfer_of: BTreeMap<u32, &TransferV2> = BTreeMap::new();
    for (i, t) in s.transfers.iter().enumerate() {
        let at = |what: &str| format!("transfers[{i}] (job {}): {what}", t.job);
        let Some(job) = find_job(&s.jobs, t.job) else {
            return Err(at("unknown job (or one the snapshot leaves out)"));
        };
        if transfer_of.insert(t.job, t).is_some() {
            return Err(at("a second transfer for the same job"));
        }
        if !job.state.is_running() {
            return Err(at(&format!("the job is {}, not running", job.state)));
        }
        if s.world.network == NetworkV2::Down {
            return Err(at(
                "under way while the network is down (T18 ends every transfer)",
            ));
        }
        if s.users
            .get(job.owner as usize)
            .is_some_and(|u| !u.logged_on)
        {
            return Err(at("under way while its owner is logged off (D10, T20)"));
        }
        let Some(file) = job.files.get(t.file as usize) else {
            return Err(at(&format!("names file {} the job does not have", t.file)));
        };
        let dynamic = job.options.as_ref().is_some_and(|o| o.dynamic_content);
        let size = match file.size {
            Some(size) => size,
            // D62: a dynamic-content body without a length moves with its size unknown; its
            // transfer stops at the body's end (or fails before it).
            None if dynamic => match t.fault {
                None => t.stop_at,
                Some(_) => u64::MAX,
            },
            None => {
                return Err(at(
                    "the file's size is not known (a transfer starts once it is, D62)",
                ))
            }
        };
        if t.sub_byte >= SCALE as u64 {
            return Err(at("sub_byte is a whole byte or more"));
        }
        if t.bytes > t.stop_at || t.stop_at > size {
            return Err(at("bytes <= stop_at <= file size does not hold"));
        }
        // D74, D75: an on-demand transfer stops at the end of its plan.
        let plan_end = file
            .extra
            .as_ref()
            .and_then(|e| e.on_demand.as_deref())
            .map(|od| {
                od.plan_base
                    .saturating_add(crate::ondemand::total(&od.plan))
            });
        if t.fault.is_none() && t.stop_at != size && Some(t.stop_at) != plan_end {
            return Err(at("a transfer without a fault stops at the file end"));
        }
        if t.fault.is_some() && t.stop_at >= size {
            return Err(at("a scripted failure must happen before the file end"));
        }
        if file.bytes_transferred > t.bytes {
            return Err(at("the file's recorded bytes are ahead of its transfer"));
        }
        // D12: files go in order — but not under D75's on-demand rules (ON_DEMAND_MODE, or a File6
        // mutator called on a file), where a requested range of a later file goes first.
        let on_demand = !job.job_type.is_upload()
            && job.options.as_ref().is_some_and(|o| o.on_demand || o.file6);
        let earlier_done = on_demand
            || job.files[..t.file as usize]
                .iter()
                .all(|f| f.size.is_some_and(|n| f.bytes_transferred >= n));
        if !earlier_done {
            return Err(at(
                "an earlier file of the job is not done (files go in order, D12)",
            ));
        }
    }

    // ---- queue
    let mut in_queue = BTreeSet::new();
    for (i, &id) in s.queue.iter().enumerate() {
        let Some(job) = find_job(&s.jobs, id) else {
            return Err(format!("queue[{i}]: unknown job {id}"));
        };
        if job.state != JobState::Queued {
            return Err(format!("queue[{i}]: job {id} is {}, not QUEUED", job.state));
        }
        if !in_queue.insert(id) {
            return Err(format!("queue[{i}]: job {id} is queued twice"));
        }
    }

    // ---- jobs
    for (i, job) in s.jobs.iter().enumerate() {
        let at = |what: &str| format!("jobs[{i}] ({}): {what}", JobId(job.id).guid());
        // Listed by ascending id, every id given out (D23: gaps are released final jobs).
        let after_previous = i == 0 || s.jobs[i - 1].id < job.id;
        if job.id as usize >= nj || !after_previous {
            return Err(at(if s.job_ids_issued.is_none() {
                "id does not match its position"
            } else {
                "ids are not ascending below job_ids_issued"
            }));
        }
        if job.owner as usize >= nu {
            return Err(at("owner is not a known user"));
        }
        if job
            .options
            .as_ref()
            .and_then(|o| o.notify_cmd_line.as_deref())
            .is_some_and(|c| c.user.index() >= nu)
        {
            return Err(at("the command line's user is not a known user (§5.4)"));
        }
        if job.job_type.is_upload() && job.files.len() > 1 {
            return Err(at("an upload job has more than one file"));
        }
        // T23 (D55): elapsed download time is kept in QUEUED, TRANSIENT_ERROR and the running
        // states only, and is negative only for a running job (resumed while running).
        let used = job.options.as_ref().map_or(0, |o| o.download_time_ms);
        let keeps = matches!(job.state, JobState::Queued | JobState::TransientError)
            || job.state.is_running();
        if (used != 0 && !keeps) || (used < 0 && !job.state.is_running()) {
            return Err(at(&format!(
                "download_time_ms {used} is not possible in {} (T23)",
                job.state
            )));
        }
        // A running job's T23 deadline is at or after the snapshot's instant: an earlier one
        // would have ended it (ERROR) before the snapshot was taken.
        if job.state.is_running() {
            let default_options;
            let o = match &job.options {
                Some(o) => o,
                None => {
                    default_options = crate::job_options::JobOptions::default();
                    &default_options
                }
            };
            let remaining = crate::service::max_download_remaining(o);
            if job.state_since + remaining < now {
                return Err(at(
                    "a running job whose maximum download time ran out before the snapshot's time (T23)",
                ));
            }
        }
        if job.minimum_retry_delay_secs < defaults::MINIMUM_RETRY_DELAY_FLOOR {
            return Err(at("minimum retry delay below 5 s (D14)"));
        }
        if !NotifyFlags(job.notify_flags).is_known() {
            return Err(at("notify flags with unknown bits (D14)"));
        }
        for (f, file) in job.files.iter().enumerate() {
            let ok = match file.size {
                Some(n) => file.bytes_transferred <= n,
                None => file.bytes_transferred == 0,
            };
            if !ok {
                return Err(at(&format!(
                    "file {f} has more bytes transferred than its size"
                )));
            }
        }
        if let Some(e) = &job.error {
            if e.file.is_some_and(|f| f as usize >= job.files.len()) {
                return Err(at("error record names a file the job does not have"));
            }
            if e.time > now {
                return Err(at("error record from the future"));
            }
        }
        let times_ok = job.created <= job.state_since
            && job.state_since <= job.modified
            && job.modified <= now
            && job.transfer_completed.is_none_or(|t| t <= now)
            && job.no_progress_since.is_none_or(|t| t <= now);
        if !times_ok {
            return Err(at(
                "times are out of order or in the future (created <= state_since <= modified <= now)",
            ));
        }
        match job.state {
            JobState::Transferring if job.error.is_some() => {
                return Err(at(
                    "an error record while TRANSFERRING (D1 drops it on entry)",
                ))
            }
            JobState::Error | JobState::TransientError if job.error.is_none() => {
                return Err(at(&format!("{} without an error record (D1)", job.state)))
            }
            JobState::Transferred if job.transfer_completed.is_none() => {
                return Err(at("TRANSFERRED without a transfer completion time"))
            }
            _ => {}
        }
        let transient = job.state == JobState::TransientError;
        if (job.retry_due.is_some() || job.no_progress_deadline.is_some()) && !transient {
            return Err(at(
                "retry or no-progress timer armed outside TRANSIENT_ERROR",
            ));
        }
        if transient && job.no_progress_deadline.is_none() {
            return Err(at("TRANSIENT_ERROR without a no-progress deadline (D4)"));
        }
        if transient && job.no_progress_timeout_secs == 0 {
            return Err(at("TRANSIENT_ERROR with a zero no-progress timeout (T26)"));
        }
        if job.no_progress_deadline.is_some()
            && job.no_progress_timer_queued != job.no_progress_deadline
        {
            return Err(at(
                "the no-progress deadline is not the queued deadline timer",
            ));
        }
        if job.time_slice_due.is_some() && !job.state.is_running() {
            return Err(at("a time slice while not running"));
        }
        for (kind, due, name) in [
            (Kind::Retry, job.retry_due, "retry_due"),
            (
                Kind::Deadline,
                job.no_progress_timer_queued,
                "no_progress_timer_queued",
            ),
            (Kind::Slice, job.time_slice_due, "time_slice_due"),
        ] {
            if let Some(t) = due {
                if !armed.contains(&(kind, job.id, t)) {
                    return Err(at(&format!(
                        "{name} is {} ms but no such timer is pending",
                        t.as_millis()
                    )));
                }
            }
        }
        if job.state.is_running() != transfer_of.contains_key(&job.id) {
            return Err(at(&format!(
                "{} jobs have exactly one transfer under way, and only they",
                job.state
            )));
        }
        if (job.state == JobState::Queued) != in_queue.contains(&job.id) {
            return Err(at("QUEUED jobs are in the queue, and only they"));
        }
    }

    // ---- callbacks
    let mut registered = BTreeSet::new();
    let mut serials = BTreeSet::new();
    for (i, c) in s.callbacks.iter().enumerate() {
        let at = |what: &str| format!("callbacks[{i}] (job {}): {what}", c.job);
        if find_job(&s.jobs, c.job).is_none() {
            return Err(at("unknown job (or one the snapshot leaves out)"));
        }
        let Some(app) = s.apps.get(c.app as usize) else {
            return Err(at(&format!("unknown application {}", c.app)));
        };
        if !app.alive {
            return Err(at(
                "registered by an application that exited (D2 drops those)",
            ));
        }
        if !registered.insert(c.job) {
            return Err(at(
                "a second registration for the job (the last one wins, D11)",
            ));
        }
        if c.serial == 0 || c.serial > s.last_callback_serial || !serials.insert(c.serial) {
            return Err(at("serial is 0, reused, or beyond last_callback_serial"));
        }
    }

    // ---- the scheduler can make progress: a ready job waits only for a pending pass, or (in the
    // background) for the running background job (D12).
    let schedule_pending = schedules == 1;
    let running_bg = s
        .transfers
        .iter()
        .filter_map(|t| find_job(&s.jobs, t.job))
        .any(|j| !j.priority.is_foreground());
    for &id in &s.queue {
        // Every queued id names a listed job (checked above).
        let Some(job) = find_job(&s.jobs, id) else {
            continue;
        };
        if !s.users[job.owner as usize].logged_on || schedule_pending {
            continue;
        }
        if job.priority.is_foreground() || !running_bg {
            return Err(format!(
                "queue: job {id} is ready but no scheduler pass is pending and nothing runs ahead of it"
            ));
        }
    }
    Ok(())
}

fn fault(f: FaultV2) -> Fault {
    match f {
        FaultV2::Http(s) => Fault::Http(s),
        FaultV2::Win32(n) => Fault::Win32(n),
        FaultV2::Hresult(h) => Fault::HResult(h.0),
    }
}

fn response(r: ResponseV2) -> Response {
    if let Some((status, to)) = r.redirect {
        return Response::Redirect { status, to };
    }
    match r.fault {
        None => Response::Ok,
        Some(f) => Response::Fail {
            fault: fault(f),
            after_bytes: r.after_bytes,
        },
    }
}

fn world(w: WorldV2) -> World {
    World {
        bandwidth: w.bandwidth,
        network: match w.network {
            NetworkV2::Up => Network::Up,
            NetworkV2::Down => Network::Down,
        },
        remotes: w
            .remotes
            .into_iter()
            .map(|(url, r)| {
                let remote = Remote {
                    size: r.size,
                    responses: r.responses.into_iter().map(response).collect(),
                    otherwise: response(r.otherwise),
                    content: r.content,
                    modified: r.modified,
                    accept_ranges: r.accept_ranges,
                    headers: r.headers,
                    peer: r.peer,
                    http: r.http.map(Box::new),
                };
                (url, remote)
            })
            .collect(),
        locals: w
            .locals
            .into_iter()
            .map(|(p, size)| {
                let modified = w.local_modified.get(&p).copied().unwrap_or(0);
                (p, Local { size, modified })
            })
            .collect(),
        classify: w
            .classify
            .into_iter()
            .map(|c| {
                let class = match c.class {
                    ClassV2::Success => Class::Success,
                    ClassV2::Transient => Class::Transient,
                    ClassV2::Fatal => Class::Fatal,
                };
                (c.code.0, class)
            })
            .collect(),
        time_slice_secs: w.time_slice_secs,
        default_cost_flags: w
            .default_cost_flags
            .unwrap_or(crate::job_options::TRANSFER_STANDARD),
        network_cost: w.network_cost.unwrap_or(crate::world::COST_UNRESTRICTED),
        policy_blocks_background: w.policy_blocks_background,
        inactivity_timeout_secs: w
            .inactivity_timeout_secs
            .unwrap_or(crate::world::INACTIVITY_TIMEOUT_SECS),
        local_content: w.local_content,
        sandbox: None,
        sandbox_capacity: None,
        chaos: w.chaos.map(|c| Chaos {
            seed: c.seed,
            rate_ppm: c.rate_ppm,
            state: c.state,
        }),
        http: w.http,
        notify: crate::NotifyWorld {
            programs: w.programs,
            com_servers: w
                .com_servers
                .into_iter()
                .filter_map(|c| {
                    let clsid = crate::scenario::convention::parse_guid(&c.clsid)?;
                    Some((clsid, crate::ComServer::new(c.app, c.returns.0)))
                })
                .collect(),
        },
    }
}

fn job(j: JobV2) -> Job {
    let mut job = Job::restore(SavedJob {
        id: JobId(j.id),
        owner: UserId(j.owner),
        job_type: j.job_type,
        state: j.state,
        state_since: j.state_since,
        display_name: j.display_name.into(),
        description: j.description,
        priority: j.priority,
        notify_flags: NotifyFlags(j.notify_flags),
        proxy_usage: j.proxy_usage,
        http: j.http.filter(|h| !h.is_default()).map(Box::new),
        retry_delay: j.minimum_retry_delay_secs,
        no_progress_timeout: j.no_progress_timeout_secs,
        files: j
            .files
            .into_iter()
            .map(|f| {
                let mut file = FileData::new(&f.remote, &f.local);
                file.bytes_total = f.size.unwrap_or(BG_SIZE_UNKNOWN);
                file.bytes_transferred = f.bytes_transferred;
                file.completed = f.completed;
                file.extra = f.extra.map(Box::new);
                file
            })
            .collect(),
        error: j.error.map(|e| ErrorRecord {
            context: e.context,
            code: e.code.0,
            file: e.file,
            protocol: e.protocol.map(|p| match p {
                ProtocolV2::Http => Protocol::Http,
                ProtocolV2::File => Protocol::File,
            }),
            time: e.time,
        }),
        error_count: j.error_count,
        times: JobTimes {
            creation_time: j.created,
            modification_time: j.modified,
            transfer_completion_time: j.transfer_completed,
        },
        transfer_epoch: j.transferring_entries,
        no_progress_since: j.no_progress_since,
        retry_attempt: j.attempt_is_retry,
        waiting_for_network: j.waiting_for_network,
        options: j.options.map(Box::new),
    });
    // D33: a job that left SUSPENDED or ever moved, failed or finished has been resumed; the file
    // says so of any other.
    if j.resumed || job.looks_resumed() {
        job.mark_resumed();
    }
    job.set_slot(Slot::Retry, j.retry_due);
    job.set_slot(Slot::Deadline, j.no_progress_deadline);
    job.set_slot(Slot::DeadlineQueued, j.no_progress_timer_queued);
    job.set_slot(Slot::Slice, j.time_slice_due);
    job
}

/// The listed job with this id (`jobs` is by ascending id, verified).
fn find_job(jobs: &[JobV2], id: u32) -> Option<&JobV2> {
    jobs.binary_search_by_key(&id, |j| j.id)
        .ok()
        .map(|i| &jobs[i])
}

/// A service from a v2 snapshot, after [`verify`].
pub(crate) fn restore(s: SnapshotV2) -> Result<Service, String> {
    verify(&s)?;
    let mut svc = Service::new(world(s.world));
    svc.now = s.now;
    svc.generation = s.generation;
    svc.engine.steps = s.engine_steps;
    svc.tracing = s.tracing;
    svc.limits = Limits {
        max_jobs_per_machine: s.limits.max_jobs_per_machine,
        max_jobs_per_user: s.limits.max_jobs_per_user,
        max_files_per_job: s.limits.max_files_per_job,
    };
    svc.users = s
        .users
        .into_iter()
        .map(|u| User {
            name: u.name,
            admin: u.admin,
            logged_on: u.logged_on,
            integrity: u.integrity,
            elevated: u.elevated,
        })
        .collect();
    // The name index; the first user of a name wins, as `Service::user_id` always answered.
    for (i, u) in svc.users.iter().enumerate() {
        svc.user_index
            .entry(u.name.clone())
            .or_insert(UserId(i as u32));
    }
    svc.apps = s
        .apps
        .into_iter()
        .map(|a| App {
            name: a.name,
            user: UserId(a.user),
            alive: a.alive,
            deliveries: a
                .deliveries
                .into_iter()
                .map(|d| Delivery {
                    notification: Notification {
                        event: d.event,
                        job: JobId(d.job),
                        state: d.state,
                        error: d.error.map(|e| (e.context, e.code.0)),
                        time: d.time,
                        file: d.file,
                        ranges: d.ranges,
                    },
                    result: d.result.0,
                })
                .collect(),
            dropped_deliveries: a.dropped_deliveries,
        })
        .collect();
    // By id; the ids `jobs` leaves out were released at a restart and keep their place (D23).
    let issued = s.job_ids_issued.map_or(s.jobs.len(), |n| n as usize);
    let mut jobs = Vec::with_capacity(issued);
    for j in s.jobs {
        while jobs.len() < j.id as usize {
            jobs.push(Job::released(JobId(jobs.len() as u32)));
        }
        jobs.push(job(j));
    }
    while jobs.len() < issued {
        jobs.push(Job::released(JobId(jobs.len() as u32)));
    }
    svc.jobs = crate::service::Jobs::new(jobs);

    // Derived counters (D14 quotas, idleness).
    svc.live_jobs_per_user = vec![0; svc.users.len()];
    svc.live_jobs = 0;
    svc.engine.armed = 0;
    for job in svc.jobs.iter() {
        if !job.state().is_final() {
            svc.live_jobs += 1;
            svc.live_jobs_per_user[job.owner().index()] += 1;
        }
        svc.engine.armed += u64::from(job.timer(Slot::Retry).is_some())
            + u64::from(job.timer(Slot::Deadline).is_some());
    }

    // Registrations.
    svc.registrations = (0..svc.jobs.len()).map(|_| None).collect();
    for c in s.callbacks {
        svc.registrations[c.job as usize] = Some(Box::new(Registration {
            app: AppId(c.app),
            serial: c.serial,
            notifier: Notifier::Answer(c.answer.0),
            implements: c.implements.unwrap_or(3),
        }));
    }
    svc.next_serial = s.last_callback_serial;
    svc.launches = s
        .launches
        .into_iter()
        .map(|l| crate::Launch {
            time: l.time,
            event: l.event,
            job: JobId(l.job),
            program: l.program,
            parameters: l.parameters,
            result: l.result.0,
            exit_code: l.exit_code,
        })
        .collect();

    // Timers: sequence numbers in list order (the tie-break at equal times).
    let mut seq = 0u64;
    let mut events = Vec::with_capacity(s.timers.len());
    for t in &s.timers {
        seq += 1;
        let event = match t.event {
            TimerEventV2::Schedule => Event::Schedule,
            TimerEventV2::Retry { job } => Event::Retry(JobId(job)),
            TimerEventV2::NoProgressDeadline { job } => Event::Deadline(JobId(job)),
            TimerEventV2::TimeSlice { job } => Event::Slice(JobId(job)),
            TimerEventV2::NotifyRetry { job, serial, event } => Event::NotifyRetry {
                job: JobId(job),
                serial,
                event,
            },
            TimerEventV2::FileNotifyRetry { job, file, serial } => Event::FileNotifyRetry {
                job: JobId(job),
                file,
                serial,
            },
            TimerEventV2::Launch { job, event } => Event::Launch {
                job: JobId(job),
                event,
            },
        };
        events.push(Scheduled {
            time: t.at,
            seq,
            event,
        });
    }
    svc.engine.schedule_pending = events.iter().any(|e| e.event == Event::Schedule);
    svc.engine.launches_pending = events
        .iter()
        .filter(|e| matches!(e.event, Event::Launch { .. }))
        .count() as u32;
    svc.engine.clear_queued();
    svc.engine.events = crate::heap::MinHeap::from_vec(events);
    svc.engine.held = None;
    svc.engine.timer_seq = seq;

    // The queue: ready (by priority) or parked (owner logged off, D10), in enqueue order; the keys
    // are numbered afresh (the engine's own queue counter).
    for &id in &s.queue {
        let job = &svc.jobs[id as usize];
        let (id, priority) = (job.id(), job.priority());
        let logged_on = svc.users[job.owner().index()].logged_on;
        let key = svc.engine.enqueue(id, priority, logged_on);
        svc.jobs[id.index()].set_ready_key(Some(key));
    }

    // Transfers: one shared counter at `SCALE` now; each transfer's base puts it `sub_byte` into
    // its next byte, so every stop point keeps its distance from the counter.
    svc.engine.flow = Flow {
        s: SCALE,
        s_time: s.now,
        points: crate::ord_set::OrdSet::new(),
    };
    for t in s.transfers {
        let a = Active {
            file: t.file,
            s_base: SCALE - u128::from(t.sub_byte),
            bytes_base: t.bytes,
            stop_at: t.stop_at,
            fail: t.fault.map(fault),
        };
        let id = JobId(t.job);
        svc.engine.flow.points.insert((stop_point(&a), id));
        let priority = svc.jobs[id.index()].priority();
        svc.engine.set_running(id, Some(priority));
        svc.jobs[id.index()].active = Some(Box::new(a));
    }
    svc.rebuild_inactivity_deadlines(); // T22
    svc.rebuild_max_download_deadlines(); // T23
    Ok(svc)
}
