//! The BITS methods on the core: IBackgroundCopyManager, IBackgroundCopyJob, IBackgroundCopyFile and
//! IBackgroundCopyError, each taking the calling application and checking, in this order: the
//! application is alive (D2), the job exists and the caller may touch it (D9), the job is not final
//! (§1.3, for mutators), then the arguments (D14) — and only then acting.

use crate::hresult::HResult;
use crate::job::{AppId, ErrorRecord, FileData, FileProgress, Job, JobId};
use crate::names::{valid_display_name, valid_local, valid_remote, valid_remote_memo};
use crate::notify::{Notifier, NotifyEvent, Registration};
use crate::service::Service;
use crate::state::{JobState, JobType, BG_JOB_ENUM_ALL_USERS};
use crate::trace::TraceKind;
use crate::transition::{EngineEvent, MethodCall};
use crate::url_map::Slot;
use serde::{Deserialize, Serialize};

/// What `IBackgroundCopyFile` reports.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct FileInfo {
    /// GetRemoteName.
    pub remote_name: String,
    /// GetLocalName (exactly as given to AddFile).
    pub local_name: String,
    /// GetProgress.
    pub progress: FileProgress,
}

/// An error object handed to an application by GetError (D2): a snapshot of the job's error record,
/// usable until the job next enters TRANSFERRING or the application exits.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The application that obtained it.
    pub app: AppId,
    /// The job it is about.
    pub job: JobId,
    /// The job's TRANSFERRING epoch when it was obtained.
    pub(crate) epoch: u32,
    /// The service generation when it was obtained.
    pub(crate) generation: u32,
    /// The record as it was.
    pub record: ErrorRecord,
}

/// GetErrorDescription's language check: English and the neutral/default languages are installed.
fn language_supported(lang: u32) -> bool {
    lang == 0 || lang == 0x0400 || lang == 0x0800 || lang & 0x3FF == 0x09
}

impl Service {
    /// A job index the caller may change: alive, allowed (D9), not final (§1.3).
    fn mutable(&self, app: AppId, job: JobId) -> Result<usize, HResult> {
        let j = self.access(app, job)?;
        if self.jobs[j].state().is_final() {
            return Err(HResult::BG_E_INVALID_STATE);
        }
        Ok(j)
    }

    // ================================================================== IBackgroundCopyManager

    /// CreateJob (T1): a new SUSPENDED job owned by the caller's user. E_INVALIDARG for a display name
    /// over 256 characters (D14); BG_E_TOO_MANY_JOBS_PER_USER / _PER_MACHINE past the quotas for
    /// non-administrators (D14).
    pub fn create_job(
        &mut self,
        app: AppId,
        display_name: &str,
        job_type: JobType,
    ) -> Result<JobId, HResult> {
        let user = self.live_app(app)?.user;
        if !valid_display_name(display_name) {
            return Err(HResult::E_INVALIDARG);
        }
        if !self.is_admin(user) {
            if self.live_jobs_per_user[user.index()] >= self.limits.max_jobs_per_user {
                return Err(HResult::BG_E_TOO_MANY_JOBS_PER_USER);
            }
            if self.live_jobs >= self.limits.max_jobs_per_machine {
                return Err(HResult::BG_E_TOO_MANY_JOBS_PER_MACHINE);
            }
        }
        let id = JobId(u32::try_from(self.jobs.len()).map_err(|_| HResult::E_OUTOFMEMORY)?);
        // D68: the job vector grows in steps, not by doubling. (A new job has no registration:
        // the registrations reach only as far as the last job given one.) The name is copied,
        // then room made, then the job built: one copy of the 200-byte job into its slot instead
        // of two (building it before the room was made passed it through `growth::push`). The
        // name's block comes before the vector's growth, as it did: the other order changes
        // which blocks the allocator hands out and trims (4,200 -> 7,900 page faults in
        // `profile lifecycle 1000000`).
        let name: Box<str> = display_name.into();
        self.jobs.reserve_one();
        self.jobs.push(Job::new(id, user, job_type, name, self.now));
        // D33: the cost flags come from the machine's default.
        let cost = self.world.default_cost_flags;
        if cost != crate::job_options::TRANSFER_STANDARD {
            self.jobs[id.index()].edit_options(|o| o.cost_flags = cost);
        }
        // T22: a new job (SUSPENDED, not final) was last modified now, when it was created.
        self.note_inactivity_from(id, self.now);
        self.live_jobs_per_user[user.index()] += 1;
        self.live_jobs += 1;
        self.record(TraceKind::Created { job: id });
        Ok(id)
    }

    /// GetJob: BG_E_NOT_FOUND for an unknown or final job (D9), E_ACCESSDENIED for another user's job
    /// unless the caller is an administrator.
    pub fn get_job(&self, app: AppId, id: JobId) -> Result<JobId, HResult> {
        self.live_app(app)?;
        match self.jobs.get(id.index()) {
            Some(job) if !job.state().is_final() => self.access(app, id).map(|_| id),
            _ => Err(HResult::BG_E_NOT_FOUND),
        }
    }

    /// EnumJobs: the caller's non-final jobs, or with [`BG_JOB_ENUM_ALL_USERS`] everyone's (administrators
    /// only, else E_ACCESSDENIED, D9). In creation order.
    pub fn enum_jobs(&self, app: AppId, flags: u32) -> Result<Vec<JobId>, HResult> {
        let user = self.live_app(app)?.user;
        if flags & !BG_JOB_ENUM_ALL_USERS != 0 {
            return Err(HResult::E_INVALIDARG);
        }
        let all = flags & BG_JOB_ENUM_ALL_USERS != 0;
        if all && !self.is_admin(user) {
            return Err(HResult::E_ACCESSDENIED);
        }
        Ok(self
            .jobs
            .iter()
            .filter(|j| !j.state().is_final() && (all || j.owner() == user))
            .map(|j| j.id())
            .collect())
    }

    /// GetErrorDescription: the message text of `code` in language `lang` (a LANGID). English and the
    /// neutral/default languages are available; any other language gives ERROR_RESOURCE_LANG_NOT_FOUND
    /// (0x80070717); a code with no message gives ERROR_MR_MID_NOT_FOUND.
    pub fn get_error_description(
        &self,
        app: AppId,
        code: HResult,
        lang: u32,
    ) -> Result<String, HResult> {
        self.live_app(app)?;
        if !language_supported(lang) {
            return Err(HResult::ERROR_RESOURCE_LANG_NOT_FOUND);
        }
        code.description().ok_or(HResult::ERROR_MR_MID_NOT_FOUND)
    }

    // ================================================================== IBackgroundCopyJob: files

    /// AddFile.
    pub fn add_file(
        &mut self,
        app: AppId,
        job: JobId,
        remote: &str,
        local: &str,
    ) -> Result<(), HResult> {
        self.add_file_set(app, job, &[(remote, local)])
    }

    /// AddFileSet: all or nothing. E_INVALIDARG for an empty set or a bad name (spec §2.6);
    /// BG_E_TOO_MANY_FILES for a second file in an upload job; BG_E_TOO_MANY_FILES_IN_JOB past
    /// MaxFilesPerJob for non-administrators (D14). A TRANSFERRED job goes back to SUSPENDED (D8).
    pub fn add_file_set(
        &mut self,
        app: AppId,
        job: JobId,
        files: &[(&str, &str)],
    ) -> Result<(), HResult> {
        let j = self.mutable(app, job)?;
        let caller = self.apps[app.index()].user;
        let jb = &self.jobs[j];
        let job_type = jb.job_type();
        if files.is_empty() {
            return Err(HResult::E_INVALIDARG);
        }
        // Each remote's slot among the world's remotes is found now: it keeps whether its URL is
        // valid for each job type (checked once per URL), and the file keeps it, so the first
        // connection attempt need not hash the URL. One file (AddFile) needs no list.
        let remotes = &mut self.world.remotes;
        let mut slot_of = |r: &str| {
            let slot = remotes.find(r, Slot::NONE);
            let valid = match slot {
                Some(s) => valid_remote_memo(r, job_type, &mut remotes.side_mut(s).memo),
                None => valid_remote(r, job_type),
            };
            valid.then(|| slot.unwrap_or_default())
        };
        // One file (AddFile): its slot in a local, no list.
        let invalid = || HResult::E_INVALIDARG;
        let (one, many) = match files {
            [(r, l)] => (
                slot_of(r).filter(|_| valid_local(l)).ok_or_else(invalid)?,
                Vec::new(),
            ),
            _ => (
                Slot::NONE,
                files
                    .iter()
                    .map(|&(r, l)| slot_of(r).filter(|_| valid_local(l)).ok_or_else(invalid))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let jb = &self.jobs[j];
        let have = jb.files().len();
        if job_type.is_upload() && have + files.len() > 1 {
            return Err(HResult::BG_E_TOO_MANY_FILES);
        }
        if !self.is_admin(caller) && have + files.len() > self.limits.max_files_per_job as usize {
            return Err(HResult::BG_E_TOO_MANY_FILES_IN_JOB);
        }
        let jb = &mut self.jobs[j];
        let new_files = files
            .iter()
            .enumerate()
            .map(|(i, &(r, l))| FileData::with_slot(r, l, many.get(i).copied().unwrap_or(one)));
        let list = jb.files_mut();
        if list.capacity() == 0 {
            // The first file(s): exactly what is asked for (`extend` would reserve 4 slots for one
            // file); later additions grow by doubling as usual. The vector replaced never allocated
            // and holds nothing, so it is forgotten rather than dropped (a call to the drop glue).
            std::mem::forget(std::mem::replace(list, new_files.collect()));
        } else {
            list.extend(new_files);
        }
        let before = jb.state();
        self.on_method(j, MethodCall::AddFile)?;
        if self.jobs[j].state() == before {
            self.modified(j);
        }
        Ok(())
    }

    /// IBackgroundCopyJob3::AddFileWithRanges (§2.4): one download file of which only `ranges` are
    /// transferred. Checked in this order (D57): the application and access, a final state
    /// (BG_E_INVALID_STATE), an upload type (E_NOTIMPL), no ranges, a bad name or an SMB remote
    /// (E_INVALIDARG: BITS 3.0 and later take ranges over HTTP only; before those, D77: an
    /// ON_DEMAND_MODE or DYNAMIC_CONTENT job gives BG_E_RANDOM_ACCESS_NOT_SUPPORTED), then the ranges
    /// (`ranges::check`) and AddFile's own limits. Whether a range lies past the remote's end,
    /// and whether the server honours ranges, is found after Resume (D58).
    pub fn add_file_with_ranges(
        &mut self,
        app: AppId,
        job: JobId,
        remote: &str,
        local: &str,
        ranges: &[(u64, u64)],
    ) -> Result<(), HResult> {
        let j = self.mutable(app, job)?;
        let job_type = self.jobs[j].job_type();
        if job_type.is_upload() {
            return Err(HResult::E_NOTIMPL);
        }
        let o = self.jobs[j].options();
        if o.on_demand || o.dynamic_content {
            // D77: ranges are not for ON_DEMAND_MODE or DYNAMIC_CONTENT jobs (the header's text for
            // BG_E_RANDOM_ACCESS_NOT_SUPPORTED names dynamic and multi-range transfers).
            return Err(HResult::BG_E_RANDOM_ACCESS_NOT_SUPPORTED);
        }
        let http = ["http://", "https://"].iter().any(|p| {
            remote
                .get(..p.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(p))
        });
        if ranges.is_empty() || !http || !valid_remote(remote, job_type) || !valid_local(local) {
            return Err(HResult::E_INVALIDARG);
        }
        // D57: MaxRangesPerFile, like the other quotas, does not bind administrators.
        let caller = self.apps[app.index()].user;
        crate::ranges::check(ranges, !self.is_admin(caller))?;
        self.add_file_set(app, job, &[(remote, local)])?;
        let file = self.jobs[j]
            .files_mut()
            .last_mut()
            .expect("AddFileSet added the file");
        file.extra.get_or_insert_with(Default::default).ranges = Some(ranges.to_vec());
        Ok(())
    }

    /// EnumFiles: how many files the job has (the facade hands out one handle per file).
    pub fn file_count(&self, app: AppId, job: JobId) -> Result<u32, HResult> {
        let j = self.access(app, job)?;
        Ok(u32::try_from(self.jobs[j].files().len()).unwrap_or(u32::MAX))
    }

    /// IBackgroundCopyFile::GetRemoteName / GetLocalName / GetProgress for file `index`.
    pub fn file_info(&self, app: AppId, job: JobId, index: u32) -> Result<FileInfo, HResult> {
        let j = self.access(app, job)?;
        let f = self.jobs[j]
            .files()
            .get(index as usize)
            .ok_or(HResult::BG_E_FILE_NOT_FOUND)?;
        let live = self
            .live_bytes(j)
            .filter(|&(file, _)| file == index)
            .map(|(_, b)| b);
        Ok(FileInfo {
            remote_name: f.remote().to_string(),
            local_name: f.local().to_string(),
            progress: FileProgress {
                bytes_total: f.bytes_total,
                bytes_transferred: live.unwrap_or(f.bytes_transferred),
                completed: f.completed,
            },
        })
    }

    // ================================================================== state changers (§1.4)

    /// The four state-changing methods share this: table, then ModificationTime (§2.0).
    fn state_call(
        &mut self,
        app: AppId,
        job: JobId,
        call: impl FnOnce(&Job) -> MethodCall,
    ) -> Result<HResult, HResult> {
        let j = self.access(app, job)?;
        self.state_call_at(j, call)
    }

    /// [`Service::state_call`] for job index `j`, the caller's access already checked.
    fn state_call_at(
        &mut self,
        j: usize,
        call: impl FnOnce(&Job) -> MethodCall,
    ) -> Result<HResult, HResult> {
        let call = call(&self.jobs[j]);
        let r = self.on_method(j, call)?;
        self.jobs[j].touch(self.now);
        Ok(r)
    }

    /// Suspend (T15): any non-final state → SUSPENDED; idempotent.
    pub fn suspend(&mut self, app: AppId, job: JobId) -> Result<HResult, HResult> {
        self.state_call(app, job, |_| MethodCall::Suspend)
    }

    /// Resume: T2/T3 from SUSPENDED, T13 from TRANSIENT_ERROR, T14 from ERROR, no-op in action states (T28).
    pub fn resume(&mut self, app: AppId, job: JobId) -> Result<HResult, HResult> {
        let r = self.state_call(app, job, |jb| MethodCall::Resume {
            has_files: !jb.files().is_empty(),
        })?;
        // D33: Job5 properties settable only before the first Resume are read-only from now on.
        let j = job.index();
        self.jobs[j].mark_resumed();
        // T23: Resume resets the elapsed download time (SetMaximumDownloadTime page, D55).
        self.max_download_reset(j);
        Ok(r)
    }

    /// Cancel (T16).
    pub fn cancel(&mut self, app: AppId, job: JobId) -> Result<HResult, HResult> {
        self.state_call(app, job, |_| MethodCall::Cancel)
    }

    /// Complete (D7, T17a, T17c): a download keeps its fully transferred files and returns S_OK, or
    /// BG_S_PARTIAL_COMPLETE when some were not; upload types only from TRANSFERRED. With a sandbox a
    /// download's files are renamed first: a rename that fails is returned and the job stays in the
    /// queue, the files renamed before it Completed (T17b, D97).
    pub fn complete(&mut self, app: AppId, job: JobId) -> Result<HResult, HResult> {
        let j = self.access(app, job)?;
        if self.jobs[j].state().is_running() {
            self.settle(j);
        }
        if self.sandbox.is_some()
            && !self.jobs[j].state().is_final()
            && self.jobs[j].job_type() == crate::state::JobType::Download
        {
            self.complete_renames(j)?;
        }
        let r = self.state_call_at(j, |jb| MethodCall::Complete {
            job_type: jb.job_type(),
            all_transferred: jb.all_files_done(),
        })?;
        for f in self.jobs[j].files_mut() {
            if f.is_done() {
                f.completed = true;
            }
        }
        Ok(r)
    }

    // ================================================================== getters

    /// GetId (checks the caller like every method).
    pub fn job_id(&self, app: AppId, job: JobId) -> Result<JobId, HResult> {
        self.access(app, job).map(|j| self.jobs[j].id())
    }

    /// GetNotifyInterface: whether a callback is registered (none by default).
    pub fn has_notify_interface(&self, app: AppId, job: JobId) -> Result<bool, HResult> {
        self.access(app, job)
            .map(|j| self.registration(j).is_some())
    }

    /// GetError (D1): the error object, or BG_E_ERROR_INFORMATION_UNAVAILABLE when the job has no error
    /// record.
    pub fn get_error(&self, app: AppId, job: JobId) -> Result<ErrorObject, HResult> {
        let j = self.access(app, job)?;
        let jb = &self.jobs[j];
        let record = jb
            .error()
            .cloned()
            .ok_or(HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE)?;
        Ok(ErrorObject {
            app,
            job,
            epoch: jb.transfer_epoch(),
            generation: self.generation,
            record,
        })
    }

    /// Whether an error object still works (D2): RPC_E_DISCONNECTED once its application exited or the
    /// service restarted (D15), BG_E_ERROR_INFORMATION_UNAVAILABLE once its job entered TRANSFERRING.
    pub fn check_error_object<'o>(&self, obj: &'o ErrorObject) -> Result<&'o ErrorRecord, HResult> {
        self.live_app(obj.app)?;
        if obj.generation != self.generation {
            return Err(HResult::RPC_E_DISCONNECTED);
        }
        match self.jobs.get(obj.job.index()) {
            Some(j) if j.transfer_epoch() == obj.epoch => Ok(&obj.record),
            _ => Err(HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE),
        }
    }

    // ================================================================== setters

    /// SetNotifyInterface: the last registration wins; `None` clears (D11). Registering on a job that is
    /// already TRANSFERRED or in ERROR delivers that notification now.
    pub fn set_notify_interface(
        &mut self,
        app: AppId,
        job: JobId,
        notifier: Option<Notifier>,
    ) -> Result<(), HResult> {
        self.set_notify_interface_implementing(app, job, notifier, 3)
    }

    /// SetNotifyInterface with a scripted answer that implements IBackgroundCopyCallback up to
    /// `implements` (1–3, as the scenario format's `register_callback implements`; 3 for
    /// [`Service::set_notify_interface`]). Application code says its own level (D60).
    pub fn set_notify_interface_implementing(
        &mut self,
        app: AppId,
        job: JobId,
        notifier: Option<Notifier>,
        implements: u8,
    ) -> Result<(), HResult> {
        let j = self.mutable(app, job)?;
        self.next_serial += 1;
        let serial = self.next_serial;
        let registration = notifier.map(|notifier| {
            Box::new(Registration {
                app,
                serial,
                implements: notifier.implements(implements.clamp(1, 3)),
                notifier,
            })
        });
        self.set_registration(j, registration);
        self.jobs[j].touch(self.now);
        match self.jobs[j].state() {
            JobState::Transferred => self.notify(j, NotifyEvent::JobTransferred),
            JobState::Error => self.notify(j, NotifyEvent::JobError),
            _ => {}
        }
        Ok(())
    }

    /// TakeOwnership: the caller becomes the owner. Needs an elevated administrator unless the caller
    /// owns the job already (D9, D95). The job then runs only while the new owner is logged on (D10).
    pub fn take_ownership(&mut self, app: AppId, job: JobId) -> Result<(), HResult> {
        let j = self.mutable(app, job)?;
        let caller = self.apps[app.index()].user;
        let old = self.jobs[j].owner();
        if old == caller {
            self.jobs[j].touch(self.now);
            return Ok(());
        }
        // D95: taking another user's job needs an administrator running elevated (§2.2; the
        // TakeOwnership page: on Vista and later the caller must run in an elevated state).
        if !self.is_admin(caller) {
            return Err(HResult::E_ACCESSDENIED);
        }
        self.live_jobs_per_user[old.index()] -= 1;
        self.live_jobs_per_user[caller.index()] += 1;
        self.jobs[j].set_owner(caller);
        self.drop_owner_secrets(j);
        self.drop_cmd_line(j);
        self.record(TraceKind::OwnerChanged { job, user: caller });
        match self.jobs[j].state() {
            JobState::Queued => self.requeue(j),
            // D10: the new owner is not logged on; a running job waits as at logoff (T20).
            s if s.is_running() && !self.users[caller.index()].logged_on => {
                self.on_event(j, EngineEvent::OwnerLogoff);
            }
            _ => {}
        }
        self.modified(j);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_error_description_languages() {
        assert!(language_supported(0x0409));
        assert!(language_supported(0x0809));
        assert!(language_supported(0));
        assert!(!language_supported(0x0407));
    }
}
