//! Transfers: connecting for each file in turn (T5), bytes moving on the shared bandwidth flow, files
//! finishing (T8), and failures — classified (D5), escalated (D4, T12, T25, T26) and sent to the
//! transition table with their error record (D1) — and network loss (T18).

use super::Service;
use crate::content::Body;
use crate::engine::{stop_point, Flow};
use crate::hresult::HResult;
use crate::job::{Active, FileData};
use crate::notify::NotifyEvent;
use crate::record::ErrorReport;
use crate::state::{ErrorContext, JobState, JobType, BG_SIZE_UNKNOWN};
use crate::trace::{ReplyEvent, RestartReason, TraceKind};
use crate::transition::{self, EngineEvent, Failure};
use crate::world::{Class, Fault, Response};

impl Service {
    /// A job left CONNECTING/TRANSFERRING: account its bytes and give up the slot.
    pub(crate) fn release_slot(&mut self, j: usize) {
        self.settle(j);
        // A write error not reported by a failure dies with the transfer: the next one writes again.
        let _ = self.take_local_error(j);
        let bw = self.world.bandwidth;
        let job = &mut self.jobs[j];
        let id = job.id();
        if let Some(a) = job.active.take() {
            if let Some(sb) = self.sandbox.as_deref_mut() {
                sb.close(id, a.file);
            }
            self.engine.flow.sync(self.now, bw);
            self.engine.flow.points.remove(&(stop_point(&a), id));
            self.engine.spare_active.push(a);
        }
        self.engine.set_running(id, None);
        self.request_schedule();
    }

    /// Bytes moved by job `j`'s running transfer up to now (live, read-only).
    pub(crate) fn live_bytes(&self, j: usize) -> Option<(u32, u64)> {
        let a = *self.jobs[j].active.as_deref()?;
        let s = self.engine.flow.s_at(self.now, self.world.bandwidth);
        let moved = u64::try_from(Flow::bytes_in(s.saturating_sub(a.s_base))).unwrap_or(u64::MAX);
        Some((a.file, a.bytes_base.saturating_add(moved).min(a.stop_at)))
    }

    /// Write the running transfer's bytes into its file. Returns the bytes gained. Progress resets the
    /// no-progress clock (D4) and moves ModificationTime (§8.2).
    #[inline(always)]
    pub(crate) fn settle(&mut self, j: usize) -> u64 {
        let Some((file, bytes)) = self.live_bytes(j) else {
            return 0;
        };
        let now = self.now;
        let job = &mut self.jobs[j];
        let f = &mut job.files_mut()[file as usize];
        let before = f.bytes_transferred;
        let gained = bytes.saturating_sub(before);
        if gained == 0 {
            f.bytes_transferred = bytes;
            return 0;
        }
        if self.on_demand_job(j) && self.jobs[j].files()[file as usize].on_demand().is_some() {
            // D74: an on-demand file's bytes land at their offsets, by its connection's plan.
            let (reached, error) = self.on_demand_settle(j, file as usize, before, bytes);
            if reached > before {
                self.jobs[j].progressed(now);
            }
            if let Some(code) = error {
                self.local_write_failed(j, code, reached);
            }
            return reached - before;
        }
        if let Err((code, reached)) = self.sandbox_write(j, file as usize, before, bytes) {
            // D41: a failed write stops the transfer where the file's bytes end; the failure
            // carries the local-file error.
            let job = &mut self.jobs[j];
            job.files_mut()[file as usize].bytes_transferred = reached;
            if reached > before {
                job.progressed(now);
            }
            self.local_write_failed(j, code, reached);
            return reached - before;
        }
        let job = &mut self.jobs[j];
        job.files_mut()[file as usize].bytes_transferred = bytes;
        job.progressed(now);
        gained
    }

    /// A write into the sandbox failed: the running transfer stops at `have` bytes (what the file
    /// holds) and fails now with `code`, context LOCAL_FILE (D41).
    fn local_write_failed(&mut self, j: usize, code: HResult, have: u64) {
        self.note_local_error(j, code);
        self.replan_active(j, have, have, Some(Fault::HResult(code)));
    }

    /// The running transfer of job `j` now moves its file's counter from `have` to `stop_at` (a new
    /// on-demand plan, D75).
    pub(crate) fn rebase_active(&mut self, j: usize, have: u64, stop_at: u64) {
        self.replan_active(j, have, stop_at, None);
    }

    /// The running transfer of job `j` goes on from `have` bytes at this instant to `stop_at`, failing
    /// there with `fail` when one is given (else its fault, if any, stays).
    fn replan_active(&mut self, j: usize, have: u64, stop_at: u64, fail: Option<Fault>) {
        let bw = self.world.bandwidth;
        self.engine.flow.sync(self.now, bw);
        let s_now = self.engine.flow.s;
        let id = self.jobs[j].id();
        if let Some(a) = self.jobs[j].active.as_deref_mut() {
            self.engine.flow.points.remove(&(stop_point(a), id));
            a.s_base = s_now;
            a.bytes_base = have;
            a.stop_at = stop_at;
            if fail.is_some() {
                a.fail = fail;
            }
            self.engine.flow.points.insert((stop_point(a), id));
        }
    }

    /// Connect for the job's next file (the job is CONNECTING, or TRANSFERRING between files). Files go
    /// one at a time in the order added (D12).
    pub(crate) fn connect_next_file(&mut self, j: usize) {
        loop {
            let on_demand = self.on_demand_job(j);
            let next = if on_demand {
                self.on_demand_next_file(j)
            } else {
                self.jobs[j].next_file()
            };
            let Some(f) = next else {
                if on_demand && !self.jobs[j].all_files_done() {
                    // T30 (D75): nothing requested is left to move and a file is not complete.
                    self.on_event(j, EngineEvent::RangesDone);
                    return;
                }
                // Nothing left to move: T5 (if still connecting) then T8 — for an upload-reply
                // job only once the server application answered and the reply came (§7, D71).
                if !self.reply_phase(j) {
                    return;
                }
                self.connected(j);
                self.on_event(j, EngineEvent::AllFilesDone);
                return;
            };
            let id = self.jobs[j].id();
            let upload = self.jobs[j].job_type().is_upload();
            let file = &self.jobs[j].files()[f];
            let local_version = if upload {
                if let Err(code) = self.upload_source_check(j, f) {
                    // §7, D78: the upload source is not the version first read: ERROR with
                    // BG_E_LOCAL_FILE_CHANGED (fatal, LOCAL_FILE), before any attempt.
                    self.fail(j, code, Self::LOCAL, f as u32);
                    return;
                }
                match self.local_version(file.local()) {
                    Ok(v) => Some(v),
                    Err(code) => {
                        // Scenario contract: an unlisted upload source is ERROR_FILE_NOT_FOUND,
                        // LOCAL_FILE; in the sandbox also a file that cannot be read (D41).
                        self.fail(j, code, Self::LOCAL, f as u32);
                        return;
                    }
                }
            } else {
                None
            };
            let local_size = local_version.map(|(size, _)| size);
            // Borrow the URL in place (the world and the jobs are disjoint fields): no copy per attempt.
            let attempt = self.http_attempt(j, f);
            let (fault, after_bytes) = match attempt.response {
                Response::Ok => (None, None),
                // The gates resolve every redirect (service/http.rs); none reaches here.
                Response::Redirect { .. } => (
                    Some(Fault::HResult(HResult::ERROR_WINHTTP_REDIRECT_FAILED)),
                    None,
                ),
                Response::Fail { fault, after_bytes } => {
                    if self.world.classify(fault.code()).0 == Class::Success {
                        (None, None)
                    } else {
                        (Some(fault), after_bytes)
                    }
                }
            };
            let (file, result) = (f as u32, fault.map_or(HResult::S_OK, Fault::code));
            self.record(match fault.and(after_bytes) {
                Some(after_bytes) => TraceKind::AttemptCut {
                    job: id,
                    file,
                    result,
                    after_bytes,
                },
                None => TraceKind::Attempt {
                    job: id,
                    file,
                    result,
                    gate: attempt.gate,
                },
            });
            if let (Some(fault), None) = (fault, after_bytes) {
                self.fail(j, fault.code(), None, f as u32);
                return;
            }
            let dynamic = !upload && self.jobs[j].dynamic_content();
            // A length of 2^64-1 is BG_SIZE_UNKNOWN itself: no usable length either.
            let announced = local_size
                .or(attempt.size)
                .filter(|&s| s != BG_SIZE_UNKNOWN);
            let size = match announced {
                Some(s) => s,
                // D62: a dynamic-content job takes the body without a length and learns it at the end.
                None if dynamic => attempt.length,
                None => {
                    // The server sent no length: BG_E_MISSING_FILE_SIZE, fatal (scenario contract, §4.5,
                    // D62).
                    self.fail(j, HResult::BG_E_MISSING_FILE_SIZE, None, f as u32);
                    return;
                }
            };
            // §2.4, D58: a file added with ranges moves only those bytes.
            let size = match self.ranged_size(j, f, size, attempt.accept_ranges) {
                Ok(s) => s,
                Err(code) => {
                    self.fail(j, code, None, f as u32);
                    return;
                }
            };
            if on_demand && !attempt.accept_ranges {
                // D75: an on-demand file moves by Range requests only: like D58, no whole-body
                // fallback.
                self.fail(j, HResult::BG_E_INSUFFICIENT_RANGE_SUPPORT, None, f as u32);
                return;
            }
            // D62: MAX_DOWNLOAD_SIZE caps the bytes of the whole job (for a ranged file, the bytes of
            // its ranges).
            let room = if upload {
                None
            } else {
                self.download_room(j, f)
            };
            if let (Some(room), Some(len)) = (room, announced.map(|_| size)) {
                if len > room {
                    self.fail(j, HResult::BG_E_TOO_LARGE, None, f as u32);
                    return;
                }
            }
            let restart = {
                let file: &mut FileData = &mut self.jobs[j].files_mut()[f];
                let mut restart = None;
                // An upload's source was checked above (D78): it cannot differ here.
                if !upload
                    && file.bytes_total != BG_SIZE_UNKNOWN
                    && (file.bytes_total != size || file.seen_modified() != attempt.modified)
                {
                    // §8.2, D38: a changed size or Last-Modified time restarts the file from zero.
                    restart = Some(RestartReason::RemoteChanged);
                } else if !upload && !attempt.accept_ranges && file.bytes_transferred > 0 {
                    // D39: the server answers a Range request with the whole body: start over.
                    restart = Some(RestartReason::NoRangeSupport);
                } else if dynamic {
                    // §2.11 DYNAMIC_CONTENT row: an interrupted download restarts at 0.
                    restart = Some(RestartReason::DynamicContent);
                }
                let restart = restart.filter(|_| file.bytes_transferred > 0);
                if restart.is_some() {
                    file.bytes_transferred = 0;
                }
                // D62: without a length the file's size stays unknown until its last byte.
                file.bytes_total = if announced.is_some() {
                    size
                } else {
                    BG_SIZE_UNKNOWN
                };
                file.bytes_transferred = file.bytes_transferred.min(size);
                // D38 (downloads): the remote's time stamp; D78 (uploads): the local file's, read
                // with its size at the first successful connection.
                match local_version {
                    Some((_, modified)) => file.set_seen_modified(modified),
                    None => file.set_seen_modified(attempt.modified),
                }
                restart
            };
            if let Some(reason) = restart {
                self.record(TraceKind::Restarted {
                    job: id,
                    file: f as u32,
                    reason,
                });
                self.file_restarted(j, f);
            }
            // D74, D75: an on-demand file moves its plan: the counter runs to `have + plan`.
            let end = if on_demand {
                let have = self.jobs[j].files()[f].bytes_transferred;
                match self.on_demand_connect(j, f) {
                    Ok(len) => have.saturating_add(len),
                    Err(code) => {
                        self.fail(j, code, None, f as u32);
                        return;
                    }
                }
            } else {
                size
            };
            self.connected(j); // T5 (no-op between files)
            let file = &self.jobs[j].files()[f];
            let have = file.bytes_transferred;
            let extent = file.disk_extent();
            let mut fault = fault;
            let mut fail_at = after_bytes
                .map(|n| have.saturating_add(n))
                .filter(|&at| at < end);
            if let Some(room) = room.filter(|&r| r < size && announced.is_none()) {
                // D62: a body without a length fails when it passes the cap.
                if fail_at.is_none_or(|at| at > room) {
                    fail_at = Some(room);
                    fault = Some(Fault::HResult(HResult::BG_E_TOO_LARGE));
                }
            }
            if fail_at.is_none() && have >= end {
                if !on_demand || self.jobs[j].files()[f].is_done() {
                    self.file_done(j, f);
                }
                continue;
            }
            let stop_at = fail_at.unwrap_or(end);
            if let Err(code) = self.sandbox_connect(j, f, extent) {
                self.fail(j, code, Self::LOCAL, f as u32);
                return;
            }
            let bw = self.world.bandwidth;
            self.engine.flow.sync(self.now, bw);
            let a = Active {
                file: f as u32,
                s_base: self.engine.flow.s,
                bytes_base: have,
                stop_at,
                fail: fail_at.and(fault),
            };
            self.engine.flow.points.insert((stop_point(&a), id));
            let boxed = match self.engine.spare_active.pop() {
                Some(mut b) => {
                    *b = a;
                    b
                }
                None => Box::new(a),
            };
            self.jobs[j].active = Some(boxed);
            return;
        }
    }

    /// T5: a connection for job `j` succeeded. From CONNECTING the table moves the job to
    /// TRANSFERRING; in TRANSFERRING its T5 row stays in the state (a later file), which changes
    /// nothing, so the table is not asked.
    #[inline(always)]
    fn connected(&mut self, j: usize) {
        if self.jobs[j].state() != JobState::Transferring {
            self.on_event(j, EngineEvent::Connected);
        }
    }

    /// A running transfer reached its stop point: its file is done, or its scripted failure happens.
    pub(crate) fn transfer_point(&mut self, j: usize) {
        let id = self.jobs[j].id();
        let had_requests = self.on_demand_job(j) && self.job_requests(j);
        self.settle(j);
        // Read after settling: a failed sandbox write turns the stop into its failure (D41).
        let a = *self.jobs[j]
            .active
            .as_deref()
            .expect("a transfer point belongs to an active transfer");
        self.engine.flow.points.remove(&(stop_point(&a), id));
        if let Some(b) = self.jobs[j].active.take() {
            self.engine.spare_active.push(b);
        }
        // D78: the upload source is checked again when its last byte has gone, before the server
        // takes the file (client code may have rewritten the sandbox file meanwhile).
        let changed = match a.fail {
            None if self.jobs[j].job_type().is_upload() => {
                self.upload_source_check(j, a.file as usize).err()
            }
            _ => None,
        };
        if let Some(code) = changed {
            // The server does not take a changed file: its last byte is not counted as sent.
            let file = &mut self.jobs[j].files_mut()[a.file as usize];
            file.bytes_transferred = file
                .bytes_transferred
                .min(file.bytes_total.saturating_sub(1));
            self.fail(j, code, Self::LOCAL, a.file);
            return;
        }
        match a.fail {
            Some(fault) => self.fail(j, fault.code(), None, a.file),
            None if self.on_demand_job(j) => {
                let f = a.file as usize;
                // D76: Callback3 FileRangesTransferred with what this connection put on disk.
                self.notify_ranges(j, f);
                if self.jobs[j].files()[f].is_done() {
                    self.file_done(j, f);
                }
                if had_requests && !self.job_requests(j) && !self.jobs[j].all_files_done() {
                    // T30 (RequestFileRanges page): the requested ranges are downloaded, the file
                    // is not: SUSPENDED.
                    self.on_event(j, EngineEvent::RangesDone);
                    return;
                }
                if self.on_demand_next_file(j).is_some() {
                    self.notify(j, NotifyEvent::JobModification);
                }
                self.connect_next_file(j);
            }
            None => {
                self.file_done(j, a.file as usize);
                if self.jobs[j].next_file().is_some() {
                    // Progress on a job that keeps going: JobModification (D11).
                    self.notify(j, NotifyEvent::JobModification);
                }
                self.connect_next_file(j);
            }
        }
    }

    /// The reply phase of an upload-reply job whose upload is done (§7, D71): the server application
    /// receives the upload and answers (a failure is an error with context REMOTE_APPLICATION,
    /// classified per D5), then the reply downloads (its attempts scripted by the remote's
    /// `reply.responses`, context REMOTE_FILE). The reply takes no virtual time (D71). Returns whether
    /// the job may go on to TRANSFERRED; `false` after a failure was sent. Other job types: `true`.
    fn reply_phase(&mut self, j: usize) -> bool {
        if self.jobs[j].job_type() != JobType::UploadReply || self.jobs[j].files().is_empty() {
            return true;
        }
        let state = self.jobs[j].options().reply.as_deref();
        if state.is_some_and(|r| r.data.is_some()) {
            return true;
        }
        let app_ok = state.is_some_and(|r| r.app_ok);
        let id = self.jobs[j].id();
        let url = self.jobs[j].files()[0].remote().to_string();
        if !app_ok {
            // The server application receives the whole upload.
            let body = self.world.local_body(self.jobs[j].files()[0].local());
            let got = self.world.http.uploads.entry(url.clone()).or_default();
            got.count += 1;
            got.body = body;
            let answer = self
                .world
                .remotes
                .get_mut(&url)
                .and_then(|r| r.http.as_deref_mut())
                .and_then(|h| h.reply.as_deref_mut())
                .and_then(|r| r.app.pop_front())
                .flatten();
            self.record(TraceKind::Reply {
                job: id,
                event: ReplyEvent::App(answer),
            });
            if let Some(status) = answer {
                let code = HResult::http(status);
                if self.world.classify(code).0 != Class::Success {
                    self.fail(j, code, Some(ErrorContext::RemoteApplication), 0);
                    return false;
                }
            }
        }
        let spec = self
            .world
            .remotes
            .get_mut(&url)
            .and_then(|r| r.http.as_deref_mut())
            .and_then(|h| h.reply.as_deref_mut());
        let (body, response) = match spec {
            Some(r) => (r.body(), r.responses.pop_front().unwrap_or(Response::Ok)),
            None => (Body::Bytes(Vec::new()), Response::Ok),
        };
        let len = body.len();
        let mut have = 0;
        self.jobs[j].edit_options(|o| {
            let r = o.reply.get_or_insert_with(Box::default);
            r.app_ok = true;
            if r.bytes_total != len {
                // §8.2: BytesTotal is known from the reply's start; a changed reply starts over.
                r.bytes_total = len;
                r.bytes_transferred = 0;
            }
            have = r.bytes_transferred;
        });
        self.record(TraceKind::Reply {
            job: id,
            event: ReplyEvent::Started(len),
        });
        let fault = match response {
            Response::Fail { fault, after_bytes }
                if self.world.classify(fault.code()).0 != Class::Success =>
            {
                Some((fault, after_bytes))
            }
            _ => None,
        };
        // D80: with a sandbox the reply's bytes go to its temporary file; a local-file error there
        // fails the reply where the file's bytes end, with context LOCAL_FILE.
        let target = match fault {
            Some((_, after_bytes)) => have.saturating_add(after_bytes.unwrap_or(0)).min(len),
            None => len,
        };
        let (fault, target) = match self.sandbox_reply(j, have, target, &body) {
            Ok(()) => (
                fault.map(|(f, _)| (f, Some(ErrorContext::RemoteFile))),
                target,
            ),
            Err((code, at)) => (Some((Fault::HResult(code), Self::LOCAL)), at.min(target)),
        };
        if let Some((fault, context)) = fault {
            let reached = target;
            if reached > have {
                let now = self.now;
                self.jobs[j].edit_options(|o| {
                    if let Some(r) = o.reply.as_deref_mut() {
                        r.bytes_transferred = reached;
                    }
                });
                self.jobs[j].progressed(now);
            }
            self.fail(j, fault.code(), context, 0);
            return false;
        }
        let now = self.now;
        self.jobs[j].edit_options(|o| {
            if let Some(r) = o.reply.as_deref_mut() {
                r.bytes_transferred = len;
                r.data = Some(body);
            }
        });
        self.jobs[j].progressed(now);
        self.record(TraceKind::Reply {
            job: id,
            event: ReplyEvent::Finished(len),
        });
        // D94: the reply is the part of an upload-reply job that Callback2 FileTransferred reports
        // (about the job's one file), before the JobTransferred that follows in this step.
        self.notify_file(j, 0);
        true
    }

    /// A partly transferred file starts over at byte 0 (D38, D39): its temporary file is emptied.
    fn file_restarted(&mut self, j: usize, f: usize) {
        // D74: an on-demand file has nothing on disk any more (its requests stay).
        if let Some(od) = self.jobs[j].files_mut()[f]
            .extra
            .as_mut()
            .and_then(|e| e.on_demand.as_deref_mut())
        {
            od.filled.clear();
            od.unreported.clear();
        }
        self.sandbox_truncate(j, f);
    }

    #[inline(always)]
    fn file_done(&mut self, j: usize, f: usize) {
        let job = &mut self.jobs[j];
        let upload = job.job_type().is_upload();
        let reply = job.job_type() == JobType::UploadReply;
        let id = job.id();
        let file = &mut job.files_mut()[f];
        if file.bytes_total == BG_SIZE_UNKNOWN {
            // D62: a dynamic-content file learns its length at its last byte.
            file.bytes_total = file.bytes_transferred;
        }
        file.bytes_transferred = file.bytes_total;
        if upload {
            file.completed = true; // §8.2: an upload file is complete once uploaded
        }
        let bytes = file.bytes_total;
        if upload && !reply {
            // The server holds the whole upload (`check upload_received`); an upload-reply job's
            // is counted when its server application receives it (D71).
            let (url, local) = (file.remote().to_string(), file.local());
            let body = self.world.local_body(local);
            let got = self.world.http.uploads.entry(url).or_default();
            got.count += 1;
            got.body = body;
        }
        let job = &mut self.jobs[j];
        job.file_finished();
        self.record(TraceKind::FileDone {
            job: id,
            file: f as u32,
            bytes,
        });
        // D60: Callback2 FileTransferred, before the job's JobTransferred (which follows this step).
        // Upload files have none; an upload-reply job's comes when its reply is in (D94).
        if !upload {
            self.notify_file(j, f as u32);
        }
    }

    /// A transfer error about file `file`: classify (D5), run the no-progress clock (D4) and send the
    /// failure with its error record to the table. `context` overrides the classification's context
    /// (local-file errors).
    pub(crate) fn fail(
        &mut self,
        j: usize,
        code: HResult,
        context: Option<ErrorContext>,
        file: u32,
    ) {
        self.settle(j);
        // A local-file error met while writing this transfer's bytes is what failed (D41).
        let (code, context) = match self.take_local_error(j) {
            Some(local) => (local, Self::LOCAL),
            None => (code, context),
        };
        let (mut class, ctx) = self.world.classify(code);
        if class == Class::Transient && self.custom_method(j) {
            // D29: with a custom HTTP method an error that would be transient is fatal.
            class = Class::Fatal;
        }
        let context = context.unwrap_or(ctx);
        let now = self.now;
        let job = &mut self.jobs[j];
        let failure = match class {
            Class::Fatal => Failure::Fatal,
            Class::Transient | Class::Success => {
                let since = job.no_progress_clock(now);
                transition::escalate(
                    job.no_progress_timeout(),
                    job.retry_delay(),
                    since,
                    now,
                    true,
                )
            }
        };
        let report =
            ErrorReport::transfer(context, code, file, job.files()[file as usize].remote());
        self.on_event(j, EngineEvent::Failure(failure, report));
    }

    /// T18 for one job: QUEUED / CONNECTING / TRANSFERRING → TRANSIENT_ERROR with
    /// BG_E_NETWORK_DISCONNECTED, no error-count bump, no retry timer (D3, D6). A zero no-progress
    /// timeout still sends it to ERROR (T26).
    pub(crate) fn network_lost(&mut self, j: usize) {
        self.policy_wait(j, EngineEvent::NetworkLost, ErrorReport::NETWORK_LOST);
    }

    /// The wait of T18 (network loss) and T21a (cost block, D53): TRANSIENT_ERROR with `report`, no
    /// error-count bump, no retry timer; a zero or used-up no-progress timeout sends the job to ERROR
    /// instead (T26, T12; D4a).
    pub(crate) fn policy_wait(&mut self, j: usize, wait: EngineEvent, report: ErrorReport) {
        self.settle(j);
        let now = self.now;
        let job = &mut self.jobs[j];
        let since = job.no_progress_clock(now);
        let event = match transition::escalate(
            job.no_progress_timeout(),
            job.retry_delay(),
            since,
            now,
            false,
        ) {
            Failure::Transient => wait,
            other => EngineEvent::Failure(other, report),
        };
        self.on_event(j, event);
    }
}
