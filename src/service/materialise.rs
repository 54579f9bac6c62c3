//! The service's side of the sandbox (scenario contract part 2, "Materialised files"; D40, D41):
//! temporary files created, written, truncated, renamed and deleted as transfers and state changes
//! happen. Without a sandbox every function here does nothing.

use super::Service;
use crate::content::Body;
use crate::hresult::HResult;
use crate::sandbox::Sandbox;
use crate::state::ErrorContext;
use crate::trace::{TempAction, TraceKind};

impl Service {
    /// Open the world's sandbox and write the world's local files into it (before step 0).
    pub(crate) fn open_sandbox(&mut self) {
        let Some(root) = self.world.sandbox.clone() else {
            return;
        };
        let mut sb = Sandbox::new(root);
        let locals: Vec<String> = self.world.locals.keys().cloned().collect();
        for path in locals {
            if let Some(body) = self.world.local_body(&path) {
                // A local that cannot be written is simply absent: the upload that reads it fails
                // with the error for it (ERROR_FILE_NOT_FOUND or the name's own).
                let modified = self.world.locals.get(&path).map_or(0, |l| l.modified);
                let _ = sb.write_local_at(&path, &body, modified);
            }
        }
        sb.capacity = self.world.sandbox_capacity;
        self.sandbox = Some(Box::new(sb));
    }

    /// Write every running download's bytes so far into its temporary file, so that the sandbox
    /// holds exactly the bytes transferred up to now (read by `check local_file`).
    pub fn flush_sandbox(&mut self) {
        if self.sandbox.is_none() {
            return;
        }
        for j in 0..self.jobs.len() {
            if self.jobs[j].active.is_some() {
                self.settle(j);
            }
        }
    }

    /// A local file changes (`set_local`): its size, last-write time and body, and the sandbox file
    /// too. Recorded in the trace as `local_changed`. An upload reading that file right now checks
    /// it at once (D78): a changed size or time sends its job to ERROR with BG_E_LOCAL_FILE_CHANGED.
    pub fn set_local_file(&mut self, path: &str, size: u64, modified: u64, content: Option<Body>) {
        self.world
            .locals
            .insert(path.to_string(), crate::world::Local { size, modified });
        match content {
            Some(b) => self.world.local_content.insert(path.to_string(), b),
            None => self.world.local_content.remove(path),
        };
        self.record(TraceKind::LocalChanged);
        self.materialise_local(path);
        for j in 0..self.jobs.len() {
            let job = &self.jobs[j];
            let Some(a) = job.active.as_deref() else {
                continue;
            };
            let f = a.file as usize;
            if !job.job_type().is_upload() || *job.files()[f].local() != *path {
                continue;
            }
            if let Err(code) = self.upload_source_check(j, f) {
                self.fail(j, code, Self::LOCAL, f as u32);
            }
        }
    }

    /// A world local changed: the sandbox file too.
    pub(crate) fn materialise_local(&mut self, path: &str) {
        let body = self.world.local_body(path);
        let modified = self.world.locals.get(path).map_or(0, |l| l.modified);
        if let (Some(sb), Some(body)) = (self.sandbox.as_deref_mut(), body) {
            let _ = sb.write_local_at(path, &body, modified);
        }
    }

    /// D78: the version of an upload's local file now: its size and last-write time, from the
    /// sandbox file when there is a sandbox (client code may rewrite it), else from the world.
    /// Err: the local-file error (missing: ERROR_FILE_NOT_FOUND).
    pub(crate) fn local_version(&self, local: &str) -> Result<(u64, u64), HResult> {
        match self.sandbox.as_deref() {
            Some(sb) => sb.local_version(local),
            None => self
                .world
                .locals
                .get(local)
                .map(|l| (l.size, l.modified))
                .ok_or(HResult::ERROR_FILE_NOT_FOUND),
        }
    }

    /// D78: check upload file `f` of job `j` against the version read first (once its size is
    /// known): Err(BG_E_LOCAL_FILE_CHANGED) for another size or last-write time, or the error of a
    /// file that can no longer be read.
    pub(crate) fn upload_source_check(&self, j: usize, f: usize) -> Result<(), HResult> {
        let file = &self.jobs[j].files()[f];
        if file.bytes_total == crate::state::BG_SIZE_UNKNOWN {
            return Ok(());
        }
        let (size, modified) = self.local_version(file.local())?;
        if size != file.bytes_total || modified != file.seen_modified() {
            return Err(HResult::BG_E_LOCAL_FILE_CHANGED);
        }
        Ok(())
    }

    /// The body a download of `url` reads at this connection.
    fn remote_body(&self, url: &str) -> Body {
        match self.world.remotes.get(url) {
            Some(r) => r.body(url),
            None => Body::Bytes(Vec::new()),
        }
    }

    /// A download connection that will move bytes from `have` on: open its temporary file. Err: the
    /// local-file error to fail with.
    pub(crate) fn sandbox_connect(&mut self, j: usize, f: usize, have: u64) -> Result<(), HResult> {
        if self.sandbox.is_none() || self.jobs[j].job_type().is_upload() {
            return Ok(());
        }
        let id = self.jobs[j].id();
        let body = self.remote_body(self.jobs[j].files()[f].remote());
        let local = self.jobs[j].files()[f].local();
        // §2.4: a file added with ranges holds those ranges of the body, concatenated in order
        // (ranged_size already refused ranges past the end).
        let ranges = self.jobs[j].files()[f]
            .ranges()
            .and_then(|r| crate::ranges::resolve(r, body.len()).ok());
        let direct = self.jobs[j].options().high_performance;
        let sb = self.sandbox.as_deref_mut().expect("checked above");
        sb.set_direct(id, direct);
        let created = sb.open_temp(local, id, f as u32, have, body)?;
        if let Some(r) = ranges {
            sb.set_ranges(id, f as u32, r);
        }
        // D63: a HIGH_PERFORMANCE job has no temporary file to report.
        if created && !direct {
            self.record(TraceKind::TempFile {
                job: id,
                file: f as u32,
                action: TempAction::Created,
            });
        }
        Ok(())
    }

    /// Bytes `from..to` of a running download moved: write them. Err: the local-file error.
    #[inline]
    pub(crate) fn sandbox_write(
        &mut self,
        j: usize,
        f: usize,
        from: u64,
        to: u64,
    ) -> Result<(), (HResult, u64)> {
        if self.sandbox.is_none() {
            return Ok(());
        }
        self.sandbox_write_file(j, f, from, to)
    }

    /// [`Service::sandbox_write`] with a sandbox.
    #[inline(never)]
    fn sandbox_write_file(
        &mut self,
        j: usize,
        f: usize,
        from: u64,
        to: u64,
    ) -> Result<(), (HResult, u64)> {
        let Some(sb) = self.sandbox.as_deref_mut() else {
            return Ok(());
        };
        let job = &self.jobs[j];
        if job.job_type().is_upload() {
            return Ok(());
        }
        sb.set_direct(job.id(), job.options().high_performance);
        sb.write(job.files()[f].local(), job.id(), f as u32, from, to)
    }

    /// A file restarted at 0: empty its temporary file.
    pub(crate) fn sandbox_truncate(&mut self, j: usize, f: usize) {
        let Some(sb) = self.sandbox.as_deref_mut() else {
            return;
        };
        let job = &self.jobs[j];
        sb.set_direct(job.id(), job.options().high_performance);
        if !job.job_type().is_upload()
            && sb.truncate_temp(job.files()[f].local(), job.id(), f as u32)
        {
            let id = job.id();
            self.record(TraceKind::TempFile {
                job: id,
                file: f as u32,
                action: TempAction::Truncated,
            });
        }
    }

    /// A local-file error met by a write, to be reported by the failure it causes (context
    /// LOCAL_FILE), if any.
    pub(crate) fn take_local_error(&mut self, j: usize) -> Option<HResult> {
        let id = self.jobs[j].id();
        self.sandbox.as_deref_mut()?.pending.remove(&id)
    }

    /// Remember a local-file error of job `j` for the failure it causes.
    pub(crate) fn note_local_error(&mut self, j: usize, code: HResult) {
        let id = self.jobs[j].id();
        if let Some(sb) = self.sandbox.as_deref_mut() {
            sb.pending.insert(id, code);
        }
    }

    /// D80: the reply of upload-reply job `j` moves bytes `have..to` of `body` into its temporary
    /// file (created, or cut back to `have`, first). Err: the local-file error and the offset the
    /// file's bytes reach. Without a sandbox: nothing.
    pub(crate) fn sandbox_reply(
        &mut self,
        j: usize,
        have: u64,
        to: u64,
        body: &Body,
    ) -> Result<(), (HResult, u64)> {
        if self.sandbox.is_none() {
            return Ok(());
        }
        let Some(name) = self.reply_name_of(j) else {
            return Ok(());
        };
        let id = self.jobs[j].id();
        let slot = crate::reply::REPLY_SLOT;
        let sb = self.sandbox.as_deref_mut().expect("checked above");
        sb.set_direct(id, false);
        let created = sb
            .open_temp(&name, id, slot, have, body.clone())
            .map_err(|e| (e, have))?;
        let written = sb.write(&name, id, slot, have, to);
        sb.close(id, slot);
        if created {
            self.record(TraceKind::TempFile {
                job: id,
                file: slot,
                action: TempAction::Created,
            });
        }
        written
    }

    /// The job became ACKNOWLEDGED (`completed`) or CANCELLED: Complete renames each fully transferred
    /// file's temporary file to its local name (replacing a file there) and deletes the others; Cancel
    /// deletes them all.
    pub(crate) fn sandbox_final(&mut self, j: usize, completed: bool) {
        let Some(sb) = self.sandbox.as_deref_mut() else {
            return;
        };
        let job = &self.jobs[j];
        if job.job_type().is_upload() {
            // D80: the reply file of an upload-reply job becomes visible at Complete; Cancel and
            // T22 discard it.
            if job.job_type() != crate::state::JobType::UploadReply {
                return;
            }
            let (id, slot) = (job.id(), crate::reply::REPLY_SLOT);
            let Some(name) = self.reply_name_of(j) else {
                return;
            };
            let sb = self.sandbox.as_deref_mut().expect("checked above");
            sb.set_direct(id, false);
            let action = if completed {
                // T17c: the job completes whatever becomes of the reply file's rename.
                sb.rename_temp(&name, id, slot)
                    .unwrap_or_else(|_| {
                        sb.forget(id, slot);
                        false
                    })
                    .then_some(TempAction::Renamed)
            } else {
                sb.delete_temp(&name, id, slot)
                    .then_some(TempAction::Deleted)
            };
            if let Some(action) = action {
                self.record(TraceKind::TempFile {
                    job: id,
                    file: slot,
                    action,
                });
            }
            return;
        }
        let id = job.id();
        sb.set_direct(id, job.options().high_performance);
        let mut records = Vec::new();
        for (f, file) in job.files().iter().enumerate() {
            let f32 = f as u32;
            if completed && file.is_done() {
                // Renamed by Complete before the job left the queue (`complete_renames`).
                continue;
            }
            if sb.delete_temp(file.local(), id, f32) {
                records.push((f32, TempAction::Deleted));
            }
        }
        for (file, action) in records {
            self.record(TraceKind::TempFile {
                job: id,
                file,
                action,
            });
        }
    }

    /// Complete of a download job with a sandbox (D40, T17a, T17b, D97): rename each fully
    /// transferred file's temporary file to its local name (an empty file, which has none, is
    /// created empty), in the order the files were added, skipping the files an earlier Complete
    /// renamed. Each renamed file becomes Completed (BG_FILE_PROGRESS, §8.2). The first rename that
    /// fails stops there: it is traced (`rename_failed`) and returned, and the job stays as it is
    /// (T17b: in the queue, its other files untouched) — the caller then changes nothing else. Called
    /// before the transition, so that the job leaves the queue only when every rename succeeded.
    pub(crate) fn complete_renames(&mut self, j: usize) -> Result<(), HResult> {
        let Some(sb) = self.sandbox.as_deref_mut() else {
            return Ok(());
        };
        let job = &self.jobs[j];
        let id = job.id();
        sb.set_direct(id, job.options().high_performance);
        let mut renamed = Vec::new();
        let mut failed = None;
        for (f, file) in job.files().iter().enumerate() {
            if file.completed || !file.is_done() {
                continue;
            }
            let done = match sb.rename_temp(file.local(), id, f as u32) {
                Ok(true) => Ok(true),
                // An empty file moves no byte and has no temporary file: it is created empty.
                Ok(false) if file.bytes_total == 0 => sb
                    .write_local(file.local(), &Body::Bytes(Vec::new()))
                    .map(|()| false),
                Ok(false) => Ok(false),
                Err(e) => Err(e),
            };
            match done {
                Ok(traced) => renamed.push((f, traced)),
                Err(code) => {
                    failed = Some((f as u32, code));
                    break;
                }
            }
        }
        for (f, traced) in renamed {
            self.jobs[j].files_mut()[f].completed = true;
            if traced {
                self.record(TraceKind::TempFile {
                    job: id,
                    file: f as u32,
                    action: TempAction::Renamed,
                });
            }
        }
        match failed {
            Some((file, code)) => {
                self.record(TraceKind::RenameFailed {
                    job: id,
                    file,
                    code,
                });
                Err(code)
            }
            None => Ok(()),
        }
    }

    /// The error context a local-file error carries.
    pub(crate) const LOCAL: Option<ErrorContext> = Some(ErrorContext::LocalFile);
}
