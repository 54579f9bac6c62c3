//! Service -> v2 format: the one place that reads the service's internals for a snapshot.

use super::format::*;
use super::{FORMAT, VERSION};
use crate::engine::{Event, Scheduled, SCALE};
use crate::job::{Job, Protocol, Slot};
use crate::world::{Class, Fault, Network, Response};
use crate::{JobState, Service, BG_SIZE_UNKNOWN};

pub(crate) fn fault(f: Fault) -> FaultV2 {
    match f {
        Fault::Http(s) => FaultV2::Http(s),
        Fault::Win32(n) => FaultV2::Win32(n),
        Fault::HResult(h) => FaultV2::Hresult(Hr(h)),
    }
}

fn response(r: Response) -> ResponseV2 {
    match r {
        Response::Ok => ResponseV2 {
            fault: None,
            after_bytes: None,
            redirect: None,
        },
        Response::Redirect { status, to } => ResponseV2 {
            fault: None,
            after_bytes: None,
            redirect: Some((status, to)),
        },
        Response::Fail {
            fault: f,
            after_bytes,
        } => ResponseV2 {
            fault: Some(fault(f)),
            after_bytes,
            redirect: None,
        },
    }
}

fn job(j: &Job) -> JobV2 {
    JobV2 {
        id: j.id().0,
        owner: j.owner().0,
        job_type: j.job_type(),
        state: j.state(),
        state_since: j.state_since(),
        display_name: j.display_name().to_string(),
        description: j.description().to_string(),
        priority: j.priority(),
        notify_flags: j.notify_flags().0,
        proxy_usage: j.proxy_usage(),
        minimum_retry_delay_secs: j.retry_delay_secs(),
        no_progress_timeout_secs: j.no_progress_timeout_secs(),
        files: j
            .files()
            .iter()
            .map(|f| FileV2 {
                remote: f.remote().to_string(),
                local: f.local().to_string(),
                size: (f.bytes_total != BG_SIZE_UNKNOWN).then_some(f.bytes_total),
                bytes_transferred: f.bytes_transferred,
                completed: f.completed,
                extra: f.extra.as_deref().cloned(),
            })
            .collect(),
        error: j.error().map(|e| ErrorRecordV2 {
            context: e.context,
            code: Hr(e.code),
            file: e.file,
            protocol: e.protocol.map(|p| match p {
                Protocol::Http => ProtocolV2::Http,
                Protocol::File => ProtocolV2::File,
            }),
            time: e.time,
        }),
        error_count: j.error_count(),
        created: j.times().creation_time,
        modified: j.times().modification_time,
        transfer_completed: j.times().transfer_completion_time,
        transferring_entries: j.transfer_epoch(),
        no_progress_since: j.no_progress_since(),
        attempt_is_retry: j.retry_attempt(),
        waiting_for_network: j.waiting_for_network(),
        retry_due: j.timer(Slot::Retry),
        no_progress_deadline: j.timer(Slot::Deadline),
        no_progress_timer_queued: j.timer(Slot::DeadlineQueued),
        time_slice_due: j.timer(Slot::Slice),
        options: j.options_block().cloned(),
        resumed: j.resumed() && !j.looks_resumed(),
        http: j.http().cloned(),
    }
}

/// The meaningful state of `s` in the v2 format. With `release_final` (the restart's own snapshot,
/// D23) the ACKNOWLEDGED and CANCELLED jobs are left out: the restart moves them over itself.
pub(crate) fn capture(s: &Service, release_final: bool) -> SnapshotV2 {
    let kept = |j: &&Job| !(release_final && j.state().is_final());
    let w = &s.world;
    let world = WorldV2 {
        bandwidth: w.bandwidth,
        network: match w.network {
            Network::Up => NetworkV2::Up,
            Network::Down => NetworkV2::Down,
        },
        time_slice_secs: w.time_slice_secs,
        default_cost_flags: (w.default_cost_flags != crate::job_options::TRANSFER_STANDARD)
            .then_some(w.default_cost_flags),
        network_cost: (w.network_cost != crate::world::COST_UNRESTRICTED).then_some(w.network_cost),
        policy_blocks_background: w.policy_blocks_background,
        inactivity_timeout_secs: (w.inactivity_timeout_secs
            != crate::world::INACTIVITY_TIMEOUT_SECS)
            .then_some(w.inactivity_timeout_secs),
        remotes: w
            .remotes
            .iter()
            .map(|(url, r)| {
                let remote = RemoteV2 {
                    size: r.size,
                    responses: r.responses.iter().copied().map(response).collect(),
                    otherwise: response(r.otherwise),
                    content: r.content.clone(),
                    modified: r.modified,
                    accept_ranges: r.accept_ranges,
                    headers: r.headers.clone(),
                    peer: r.peer,
                    http: r.http.as_deref().cloned(),
                };
                (url.clone(), remote)
            })
            .collect(),
        locals: w.locals.iter().map(|(p, l)| (p.clone(), l.size)).collect(),
        local_content: w.local_content.clone(),
        local_modified: w
            .locals
            .iter()
            .filter(|(_, l)| l.modified != 0)
            .map(|(p, l)| (p.clone(), l.modified))
            .collect(),
        classify: w
            .classify
            .iter()
            .map(|(&code, &class)| ClassifyV2 {
                code: Hr(code),
                class: match class {
                    Class::Success => ClassV2::Success,
                    Class::Transient => ClassV2::Transient,
                    Class::Fatal => ClassV2::Fatal,
                },
            })
            .collect(),
        chaos: w.chaos.as_ref().map(|c| ChaosV2 {
            seed: c.seed,
            rate_ppm: c.rate_ppm,
            state: c.state,
        }),
        http: w.http.clone(),
        programs: w.notify.programs.clone(),
        com_servers: w
            .notify
            .com_servers
            .iter()
            .map(|(&clsid, c)| super::format::ComServerV2 {
                clsid: crate::properties::show_guid(clsid),
                app: c.app.clone(),
                returns: Hr(c.returns),
            })
            .collect(),
    };

    // The queue in enqueue order: every QUEUED job carries its enqueue sequence number (parked ones
    // too); the numbers themselves are not saved, only the order.
    let mut queued: Vec<(u64, u32)> = s
        .jobs
        .iter()
        .filter(|j| j.state() == JobState::Queued)
        .map(|j| (j.ready_key().unwrap_or(u64::MAX), j.id().0))
        .collect();
    queued.sort_unstable();

    // Transfers: the live byte count and the fraction of the next byte, from the shared counter.
    let s_now = s.engine.flow.s_at(s.now, w.bandwidth);
    let transfers = s
        .jobs
        .iter()
        .filter_map(|j| {
            let a = j.active.as_deref()?;
            let moved = s_now.saturating_sub(a.s_base);
            let whole = u64::try_from(moved / SCALE).unwrap_or(u64::MAX);
            let bytes = a.bytes_base.saturating_add(whole);
            let (bytes, sub_byte) = if bytes >= a.stop_at {
                (a.stop_at, 0)
            } else {
                (bytes, (moved % SCALE) as u64)
            };
            Some(TransferV2 {
                job: j.id().0,
                file: a.file,
                bytes,
                sub_byte,
                stop_at: a.stop_at,
                fault: a.fail.map(fault),
            })
        })
        .collect();

    // D85: cancelled timers are left out.
    let mut events: Vec<Scheduled> = s
        .engine
        .pending_events()
        .filter(|e| !crate::service::cancelled(&s.jobs, e))
        .copied()
        .collect();
    events.sort_unstable();
    let timers = events
        .iter()
        .map(|e| TimerV2 {
            at: e.time,
            event: match e.event {
                Event::Schedule => TimerEventV2::Schedule,
                Event::Retry(j) => TimerEventV2::Retry { job: j.0 },
                Event::Deadline(j) => TimerEventV2::NoProgressDeadline { job: j.0 },
                Event::Slice(j) => TimerEventV2::TimeSlice { job: j.0 },
                Event::NotifyRetry { job, serial, event } => TimerEventV2::NotifyRetry {
                    job: job.0,
                    serial,
                    event,
                },
                Event::Launch { job, event } => TimerEventV2::Launch { job: job.0, event },
                Event::FileNotifyRetry { job, file, serial } => TimerEventV2::FileNotifyRetry {
                    job: job.0,
                    file,
                    serial,
                },
            },
        })
        .collect();

    let callbacks = s
        .registrations
        .iter()
        .enumerate()
        .filter_map(|(j, r)| {
            let r = r.as_ref()?;
            // A final job's registration can never be called again (§1.3); a released job has none.
            if !kept(&&s.jobs[j]) {
                return None;
            }
            Some(CallbackV2 {
                job: s.jobs[j].id().0,
                app: r.app.0,
                serial: r.serial,
                answer: Hr(r.notifier.answer()?),
                // Written only when not the default 3 (D60).
                implements: (r.implements != 3).then_some(r.implements),
            })
        })
        .collect();

    let jobs: Vec<JobV2> = s.jobs.iter().filter(kept).map(job).collect();
    SnapshotV2 {
        format: FORMAT.to_string(),
        version: VERSION,
        now: s.now,
        generation: s.generation,
        engine_steps: s.engine.steps,
        tracing: s.tracing,
        limits: LimitsV2 {
            max_jobs_per_machine: s.limits.max_jobs_per_machine,
            max_jobs_per_user: s.limits.max_jobs_per_user,
            max_files_per_job: s.limits.max_files_per_job,
        },
        world,
        users: s
            .users
            .iter()
            .map(|u| UserV2 {
                name: u.name.clone(),
                admin: u.admin,
                logged_on: u.logged_on,
                integrity: u.integrity,
                elevated: u.elevated,
            })
            .collect(),
        apps: s
            .apps
            .iter()
            .map(|a| AppV2 {
                name: a.name.clone(),
                user: a.user.0,
                alive: a.alive,
                deliveries: a
                    .deliveries
                    .iter()
                    .map(|d| DeliveryV2 {
                        event: d.notification.event,
                        job: d.notification.job.0,
                        state: d.notification.state,
                        error: d.notification.error.map(|(context, code)| ContextCodeV2 {
                            context,
                            code: Hr(code),
                        }),
                        time: d.notification.time,
                        file: d.notification.file,
                        ranges: d.notification.ranges.clone(),
                        result: Hr(d.result),
                    })
                    .collect(),
                dropped_deliveries: a.dropped_deliveries,
            })
            .collect(),
        job_ids_issued: (jobs.len() != s.jobs.len()).then_some(s.jobs.len() as u32),
        jobs,
        queue: queued.into_iter().map(|(_, id)| id).collect(),
        transfers,
        timers,
        callbacks,
        last_callback_serial: s.next_serial,
        launches: s
            .launches
            .iter()
            .map(|l| super::format::LaunchV2 {
                time: l.time,
                event: l.event,
                job: l.job.0,
                program: l.program.clone(),
                parameters: l.parameters.clone(),
                result: Hr(l.result),
                exit_code: l.exit_code,
            })
            .collect(),
    }
}
