//! The frozen v1 reader. Version 1 serialised the service's internal structs as they were when it was
//! retired; these are frozen copies of those shapes (do not change them, whatever the engine becomes),
//! converted to the v2 format, which is then verified like any v2 file. Cross-references that only v1
//! has (the stored ready queues, running set and transfer points) are checked here against the state
//! they index and then dropped: v2 rebuilds them.

use super::format::*;
use crate::{
    ErrorContext, JobState, JobType, NotifyEvent, Priority, ProxyUsage, SimTime, BG_SIZE_UNKNOWN,
};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Units of v1's shared transfer counter per byte (frozen).
const SCALE_V1: u128 = 1000 * 720_720;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SnapshotV1 {
    #[allow(dead_code)]
    format: String,
    #[allow(dead_code)]
    version: u32,
    now: SimTime,
    world: WorldV1,
    limits: LimitsV1,
    users: Vec<UserV1>,
    apps: Vec<AppV1>,
    jobs: Vec<JobV1>,
    generation: u32,
    registrations: Vec<RegistrationV1>,
    next_serial: u64,
    events: Vec<ScheduledV1>,
    seq: u64,
    #[allow(dead_code)]
    schedule_pending: bool,
    ready_fg: BTreeSet<(u64, u32)>,
    ready_bg: BTreeSet<(Priority, u64, u32)>,
    parked: BTreeSet<u32>,
    running: BTreeSet<u32>,
    flow: FlowV1,
    steps: u64,
    tracing: bool,
}

#[derive(Deserialize)]
struct WorldV1 {
    bandwidth: u64,
    network: NetworkV1,
    remotes: BTreeMap<String, RemoteV1>,
    locals: BTreeMap<String, LocalV1>,
    classify: BTreeMap<Hr, ClassV1>,
    time_slice_secs: u64,
    chaos: Option<ChaosV1>,
}

#[derive(Deserialize)]
struct LimitsV1 {
    max_jobs_per_machine: u32,
    max_jobs_per_user: u32,
    max_files_per_job: u32,
}

#[derive(Deserialize)]
struct UserV1 {
    name: String,
    admin: bool,
    logged_on: bool,
}

#[derive(Deserialize)]
struct ChaosV1 {
    seed: u64,
    rate_ppm: u32,
    state: u64,
}

#[derive(Deserialize)]
enum NetworkV1 {
    Up,
    Down,
}

#[derive(Deserialize)]
struct RemoteV1 {
    size: Option<u64>,
    responses: VecDeque<ResponseV1>,
    otherwise: ResponseV1,
}

#[derive(Deserialize)]
struct LocalV1 {
    size: u64,
}

#[derive(Clone, Copy, Deserialize)]
enum ResponseV1 {
    Ok,
    Fail {
        fault: FaultV1,
        after_bytes: Option<u64>,
    },
}

#[derive(Clone, Copy, Deserialize)]
enum FaultV1 {
    Http(u16),
    Win32(u32),
    HResult(Hr),
}

#[derive(Deserialize)]
enum ClassV1 {
    Success,
    Transient,
    Fatal,
}

#[derive(Deserialize)]
struct AppV1 {
    name: String,
    user: u32,
    alive: bool,
    deliveries: Vec<DeliveryV1>,
}

#[derive(Deserialize)]
struct DeliveryV1 {
    notification: NotificationV1,
    result: Hr,
}

#[derive(Deserialize)]
struct NotificationV1 {
    event: NotifyEvent,
    job: u32,
    state: JobState,
    error: Option<(ErrorContext, Hr)>,
    time: SimTime,
}

#[derive(Deserialize)]
struct FileV1 {
    remote: String,
    local: String,
    bytes_total: u64,
    bytes_transferred: u64,
    completed: bool,
}

#[derive(Deserialize)]
struct ErrorRecordV1 {
    context: ErrorContext,
    code: Hr,
    file: Option<u32>,
    protocol: Option<ProtocolV1>,
    time: SimTime,
}

#[derive(Deserialize)]
enum ProtocolV1 {
    Http,
    File,
}

#[derive(Deserialize)]
struct TimesV1 {
    creation_time: SimTime,
    modification_time: SimTime,
    transfer_completion_time: Option<SimTime>,
}

#[derive(Clone, Copy, Deserialize)]
struct ActiveV1 {
    file: u32,
    s_base: u128,
    bytes_base: u64,
    stop_at: u64,
    fail: Option<FaultV1>,
}

#[derive(Deserialize)]
struct JobV1 {
    id: u32,
    owner: u32,
    job_type: JobType,
    state: JobState,
    state_since: SimTime,
    display_name: String,
    description: String,
    priority: Priority,
    notify_flags: u32,
    proxy_usage: ProxyUsage,
    retry_delay: u32,
    no_progress_timeout: u32,
    files: Vec<FileV1>,
    error: Option<ErrorRecordV1>,
    error_count: u32,
    times: TimesV1,
    transfer_epoch: u32,
    no_progress_since: Option<SimTime>,
    retry_attempt: bool,
    waiting_for_network: bool,
    retry_at: Option<SimTime>,
    deadline_at: Option<SimTime>,
    deadline_queued: Option<SimTime>,
    slice_at: Option<SimTime>,
    ready_key: Option<u64>,
    active: Option<ActiveV1>,
}

#[derive(Deserialize)]
struct RegistrationV1 {
    job: u32,
    app: u32,
    serial: u64,
    answer: Hr,
}

#[derive(Clone, Copy, Deserialize)]
struct ScheduledV1 {
    time: SimTime,
    seq: u64,
    event: EventV1,
}

#[derive(Clone, Copy, Deserialize)]
enum EventV1 {
    Schedule,
    Retry(u32),
    Deadline(u32),
    Slice(u32),
    NotifyRetry {
        job: u32,
        serial: u64,
        event: NotifyEvent,
    },
}

#[derive(Deserialize)]
struct FlowV1 {
    s: u128,
    s_time: SimTime,
    points: BTreeSet<(u128, u32)>,
}

fn fault(f: FaultV1) -> FaultV2 {
    match f {
        FaultV1::Http(s) => FaultV2::Http(s),
        FaultV1::Win32(n) => FaultV2::Win32(n),
        FaultV1::HResult(h) => FaultV2::Hresult(h),
    }
}

fn response(r: ResponseV1) -> ResponseV2 {
    match r {
        ResponseV1::Ok => ResponseV2 {
            redirect: None,
            fault: None,
            after_bytes: None,
        },
        ResponseV1::Fail {
            fault: f,
            after_bytes,
        } => ResponseV2 {
            redirect: None,
            fault: Some(fault(f)),
            after_bytes,
        },
    }
}

/// v1's stop point of a transfer on its shared counter (frozen formula), `None` on overflow.
fn stop_point(a: &ActiveV1) -> Option<u128> {
    u128::from(a.stop_at.saturating_sub(a.bytes_base))
        .checked_mul(SCALE_V1)?
        .checked_add(a.s_base)
}

/// Convert a v1 snapshot to the v2 format, checking v1's own indexes on the way.
pub(crate) fn to_v2(s: SnapshotV1) -> Result<SnapshotV2, String> {
    let nj = s.jobs.len() as u32;
    let known = |what: &str, id: u32| {
        if id < nj {
            Ok(())
        } else {
            Err(format!("{what} names unknown job {id}"))
        }
    };
    for &(_, id) in &s.ready_fg {
        known("ready_fg", id)?;
    }
    for &(_, _, id) in &s.ready_bg {
        known("ready_bg", id)?;
    }
    for &id in &s.parked {
        known("parked", id)?;
    }
    for &id in &s.running {
        known("running", id)?;
    }
    for e in &s.events {
        if e.seq > s.seq {
            return Err("a pending timer has a sequence number from the future".into());
        }
    }
    for (i, job) in s.jobs.iter().enumerate() {
        if job.state.is_running() != s.running.contains(&(i as u32)) {
            return Err(format!("jobs[{i}]: running set and state disagree"));
        }
    }

    // The queue in enqueue order, from the stored ready queues and parked set.
    let mut queued: BTreeMap<u32, u64> = BTreeMap::new();
    for (key, id) in s
        .ready_fg
        .iter()
        .copied()
        .chain(s.ready_bg.iter().map(|&(_, key, id)| (key, id)))
    {
        if queued.insert(id, key).is_some() {
            return Err(format!("job {id} is in the ready queues twice"));
        }
    }
    for &id in &s.parked {
        let key = s.jobs[id as usize].ready_key.unwrap_or(u64::MAX);
        if queued.insert(id, key).is_some() {
            return Err(format!("job {id} is both ready and parked"));
        }
    }
    let mut queue: Vec<(u64, u32)> = queued.into_iter().map(|(id, key)| (key, id)).collect();
    queue.sort_unstable();

    // Transfers: every point matches its job's transfer, every transfer has its point.
    let points: BTreeSet<(u128, u32)> = s.flow.points.clone();
    let rate = if s.world.bandwidth == 0 || points.is_empty() {
        0
    } else {
        (u128::from(s.world.bandwidth) * SCALE_V1 / (1000 * points.len() as u128)).max(1)
    };
    let dt = u128::from(s.now.saturating_since(s.flow.s_time).as_millis());
    let s_now = rate
        .checked_mul(dt)
        .and_then(|x| x.checked_add(s.flow.s))
        .ok_or("the transfer counter overflows")?;
    let mut transfers = Vec::new();
    for (i, job) in s.jobs.iter().enumerate() {
        let Some(a) = job.active else { continue };
        let p = stop_point(&a).ok_or(format!("jobs[{i}]: transfer stop point overflows"))?;
        if !points.contains(&(p, i as u32)) {
            return Err(format!(
                "jobs[{i}]: its transfer has no matching transfer point"
            ));
        }
        if a.stop_at < a.bytes_base {
            return Err(format!("jobs[{i}]: active transfer is out of range"));
        }
        let moved = s_now.saturating_sub(a.s_base);
        let whole = u64::try_from(moved / SCALE_V1).unwrap_or(u64::MAX);
        let bytes = a.bytes_base.saturating_add(whole);
        let (bytes, sub_byte) = if bytes >= a.stop_at {
            (a.stop_at, 0)
        } else {
            (bytes, (moved % SCALE_V1) as u64)
        };
        transfers.push(TransferV2 {
            job: i as u32,
            file: a.file,
            bytes,
            sub_byte,
            stop_at: a.stop_at,
            fault: a.fail.map(fault),
        });
    }
    if transfers.len() != points.len() {
        return Err("a transfer point does not match its transfer".into());
    }

    let mut events = s.events.clone();
    events.sort_unstable_by_key(|e| (e.time, e.seq));
    let timers = events
        .iter()
        .map(|e| TimerV2 {
            at: e.time,
            event: match e.event {
                EventV1::Schedule => TimerEventV2::Schedule,
                EventV1::Retry(job) => TimerEventV2::Retry { job },
                EventV1::Deadline(job) => TimerEventV2::NoProgressDeadline { job },
                EventV1::Slice(job) => TimerEventV2::TimeSlice { job },
                EventV1::NotifyRetry { job, serial, event } => {
                    TimerEventV2::NotifyRetry { job, serial, event }
                }
            },
        })
        .collect();

    let w = s.world;
    let world = WorldV2 {
        http: Default::default(),
        programs: Default::default(),
        com_servers: Vec::new(),
        bandwidth: w.bandwidth,
        network: match w.network {
            NetworkV1::Up => NetworkV2::Up,
            NetworkV1::Down => NetworkV2::Down,
        },
        time_slice_secs: w.time_slice_secs,
        default_cost_flags: None,
        inactivity_timeout_secs: None,
        network_cost: None,
        policy_blocks_background: false,
        remotes: w
            .remotes
            .into_iter()
            .map(|(url, r)| {
                let remote = RemoteV2 {
                    http: None,
                    size: r.size,
                    responses: r.responses.into_iter().map(response).collect(),
                    otherwise: response(r.otherwise),
                    content: None,
                    modified: 0,
                    accept_ranges: true,
                    headers: Vec::new(),
                    peer: false,
                };
                (url, remote)
            })
            .collect(),
        locals: w.locals.into_iter().map(|(p, l)| (p, l.size)).collect(),
        classify: w
            .classify
            .into_iter()
            .map(|(code, class)| ClassifyV2 {
                code,
                class: match class {
                    ClassV1::Success => ClassV2::Success,
                    ClassV1::Transient => ClassV2::Transient,
                    ClassV1::Fatal => ClassV2::Fatal,
                },
            })
            .collect(),
        local_content: BTreeMap::new(),
        local_modified: BTreeMap::new(),
        chaos: w.chaos.map(|c| ChaosV2 {
            seed: c.seed,
            rate_ppm: c.rate_ppm,
            state: c.state,
        }),
    };

    let jobs = s
        .jobs
        .into_iter()
        .map(|j| JobV2 {
            id: j.id,
            owner: j.owner,
            job_type: j.job_type,
            state: j.state,
            state_since: j.state_since,
            display_name: j.display_name,
            description: j.description,
            priority: j.priority,
            notify_flags: j.notify_flags,
            proxy_usage: j.proxy_usage,
            minimum_retry_delay_secs: j.retry_delay,
            no_progress_timeout_secs: j.no_progress_timeout,
            files: j
                .files
                .into_iter()
                .map(|f| FileV2 {
                    remote: f.remote,
                    local: f.local,
                    size: (f.bytes_total != BG_SIZE_UNKNOWN).then_some(f.bytes_total),
                    bytes_transferred: f.bytes_transferred,
                    completed: f.completed,
                    extra: None,
                })
                .collect(),
            error: j.error.map(|e| ErrorRecordV2 {
                context: e.context,
                code: e.code,
                file: e.file,
                protocol: e.protocol.map(|p| match p {
                    ProtocolV1::Http => ProtocolV2::Http,
                    ProtocolV1::File => ProtocolV2::File,
                }),
                time: e.time,
            }),
            error_count: j.error_count,
            created: j.times.creation_time,
            modified: j.times.modification_time,
            transfer_completed: j.times.transfer_completion_time,
            transferring_entries: j.transfer_epoch,
            no_progress_since: j.no_progress_since,
            attempt_is_retry: j.retry_attempt,
            waiting_for_network: j.waiting_for_network,
            retry_due: j.retry_at,
            no_progress_deadline: j.deadline_at,
            no_progress_timer_queued: j.deadline_queued,
            time_slice_due: j.slice_at,
            options: None,
            resumed: false,
            http: None,
        })
        .collect();

    Ok(SnapshotV2 {
        launches: Vec::new(),
        format: super::FORMAT.to_string(),
        version: super::VERSION,
        now: s.now,
        generation: s.generation,
        engine_steps: s.steps,
        tracing: s.tracing,
        limits: LimitsV2 {
            max_jobs_per_machine: s.limits.max_jobs_per_machine,
            max_jobs_per_user: s.limits.max_jobs_per_user,
            max_files_per_job: s.limits.max_files_per_job,
        },
        world,
        users: s
            .users
            .into_iter()
            .map(|u| UserV2 {
                name: u.name,
                admin: u.admin,
                logged_on: u.logged_on,
                integrity: None,
                elevated: None,
            })
            .collect(),
        apps: s
            .apps
            .into_iter()
            .map(|a| {
                // D22: version 1 logs were unbounded; keep the newest entries and count the rest.
                let cap = crate::Service::DELIVERY_LOG_CAP;
                let dropped = a.deliveries.len().saturating_sub(cap);
                AppV2 {
                    name: a.name,
                    user: a.user,
                    alive: a.alive,
                    dropped_deliveries: dropped as u64,
                    deliveries: a
                        .deliveries
                        .into_iter()
                        .skip(dropped)
                        .map(|d| DeliveryV2 {
                            event: d.notification.event,
                            job: d.notification.job,
                            state: d.notification.state,
                            error: d
                                .notification
                                .error
                                .map(|(context, code)| ContextCodeV2 { context, code }),
                            time: d.notification.time,
                            file: None,
                            ranges: Vec::new(),
                            result: d.result,
                        })
                        .collect(),
                }
            })
            .collect(),
        job_ids_issued: None,
        jobs,
        queue: queue.into_iter().map(|(_, id)| id).collect(),
        transfers,
        timers,
        callbacks: s
            .registrations
            .into_iter()
            .map(|r| CallbackV2 {
                job: r.job,
                app: r.app,
                serial: r.serial,
                answer: r.answer,
                implements: None,
            })
            .collect(),
        last_callback_serial: s.next_serial,
    })
}
