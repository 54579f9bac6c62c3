//! The BITS methods on the core: IBackgroundCopyManager, IBackgroundCopyJob, IBackgroundCopyFile and
//! IBackgroundCopyError, each taking the calling application and checking, in this order: the
//! application is alive (D2), the job exists and the caller may touch it (D9), the job is not final
//! (§1.3, for mutators), then the arguments (D14) — and only then acting.

use crate::job::{defaults, ErrorRecord, FileData, FileProgress, JobProgress, JobTimes};
use crate::notify::{Notifier, NotifyEvent, Registration};
use crate::service::{Cause, Service, User};
use crate::trace::TraceKind;
use crate::transition::Input;
use crate::{
    AppId, HResult, JobId, JobState, JobType, NotifyFlags, Priority, ProxyUsage,
    BG_JOB_ENUM_ALL_USERS,
};
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

/// `GetProxySettings`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ProxySettings {
    /// The usage (PRECONFIG by default).
    pub usage: ProxyUsage,
    /// The proxy list (none by default).
    pub proxy_list: Option<String>,
    /// The bypass list (none by default).
    pub bypass_list: Option<String>,
}

/// Characters in the UTF-16 sense, as BITS counts string limits.
fn wide_len(s: &str) -> usize {
    // ASCII (the usual case) is one UTF-16 unit per byte; `is_ascii` checks a word at a time.
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

/// `s` starts with the ASCII `prefix`, ignoring ASCII case (what lower-casing `s` and comparing did,
/// without allocating).
pub(crate) fn starts_with_ignore_ascii_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

// Byte classes for the name checks: one table lookup per byte instead of per-char predicates.
const NON_ASCII: u8 = 1;
/// `char::is_control` for ASCII: U+0000..=U+001F and U+007F. (`char::is_whitespace` for ASCII is
/// these controls' U+0009..=U+000D plus the space.)
const CONTROL: u8 = 2;
const SPACE: u8 = 4;
const STAR: u8 = 8;
const QUESTION: u8 = 16;
/// `"`, `<`, `>`, `|`: not allowed in local names.
const LOCAL_ONLY: u8 = 32;

static BYTE_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match i as u8 {
            0x80..=0xFF => NON_ASCII,
            0x00..=0x1F | 0x7F => CONTROL,
            b' ' => SPACE,
            b'*' => STAR,
            b'?' => QUESTION,
            b'"' | b'<' | b'>' | b'|' => LOCAL_ONLY,
            _ => 0,
        };
        i += 1;
    }
    t
};

/// The union of the classes of `s`'s bytes.
fn byte_classes(s: &str) -> u8 {
    s.bytes().fold(0, |acc, b| acc | BYTE_CLASS[usize::from(b)])
}

/// Spec §2.6: a remote name BITS accepts (http/https URL, or an SMB path for download and upload jobs).
fn valid_remote(remote: &str, job_type: JobType) -> bool {
    let classes = byte_classes(remote);
    let (len, bad_char) = if classes & NON_ASCII == 0 {
        // ASCII: one UTF-16 unit per byte, and the byte classes decide as the `char` scan below.
        let question = classes & QUESTION != 0 && !remote.contains("://");
        (
            remote.len(),
            classes & (CONTROL | SPACE | STAR) != 0 || question,
        )
    } else {
        let bad = |c: char| {
            c.is_control() || c.is_whitespace() || c == '*' || c == '?' && !remote.contains("://")
        };
        (wide_len(remote), remote.chars().any(bad))
    };
    if remote.is_empty() || len > defaults::MAX_REMOTE_NAME || bad_char {
        return false;
    }
    let http = ["http://", "https://"]
        .iter()
        .find(|p| starts_with_ignore_ascii_case(remote, p))
        .map(|p| &remote[p.len()..]);
    if let Some(rest) = http {
        return !rest.is_empty() && !rest.starts_with('/');
    }
    // SMB: UNC path or file:// URL; never for upload-reply jobs (spec §7).
    let smb = remote.starts_with("\\\\") && remote.len() > 2
        || starts_with_ignore_ascii_case(remote, "file://") && remote.len() > 7;
    smb && job_type != JobType::UploadReply
}

/// Spec §2.6: a local name must be a full path (drive or UNC), at most MAX_PATH, no wildcards, no
/// `\\?\` prefix, no NTFS stream.
fn valid_local(local: &str) -> bool {
    let classes = byte_classes(local);
    let (len, bad_char) = if classes & NON_ASCII == 0 {
        (
            local.len(),
            classes & (CONTROL | STAR | QUESTION | LOCAL_ONLY) != 0,
        )
    } else {
        let bad = |c: char| c.is_control() || matches!(c, '*' | '?' | '"' | '<' | '>' | '|');
        (wide_len(local), local.chars().any(bad))
    };
    if local.is_empty()
        || len > defaults::MAX_LOCAL_NAME
        || local.starts_with("\\\\?\\")
        || bad_char
    {
        return false;
    }
    let b = local.as_bytes();
    let drive = b.len() >= 3
        && b[0].is_ascii_alphabetic()
        && b[1] == b':'
        && (b[2] == b'\\' || b[2] == b'/');
    let unc = local.starts_with("\\\\") && local.len() > 2;
    let rest_has_colon = if drive {
        local[2..].contains(':')
    } else {
        local.contains(':')
    };
    (drive || unc) && !rest_has_colon
}

/// GetErrorDescription's language check: English and the neutral/default languages are installed.
fn language_supported(lang: u32) -> bool {
    lang == 0 || lang == 0x0400 || lang == 0x0800 || lang & 0x3FF == 0x09
}

impl Service {
    /// A job index the caller may change: alive, allowed (D9), not final (§1.3).
    fn mutable(&self, app: AppId, job: JobId) -> Result<usize, HResult> {
        let j = self.access(app, job)?;
        if self.jobs[j].state.is_final() {
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
        if wide_len(display_name) > defaults::MAX_DISPLAY_NAME {
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
        self.jobs.push(crate::job::Job::new(
            id,
            user,
            job_type,
            display_name.into(),
            self.now,
        ));
        self.registrations.push(None);
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
            Some(job) if !job.state.is_final() => self.access(app, id).map(|_| id),
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
            .filter(|j| !j.state.is_final() && (all || j.owner == user))
            .map(|j| j.id)
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
        if files.is_empty()
            || files
                .iter()
                .any(|(r, l)| !valid_remote(r, jb.job_type) || !valid_local(l))
        {
            return Err(HResult::E_INVALIDARG);
        }
        if jb.job_type.is_upload() && jb.files.len() + files.len() > 1 {
            return Err(HResult::BG_E_TOO_MANY_FILES);
        }
        if !self.is_admin(caller)
            && jb.files.len() + files.len() > self.limits.max_files_per_job as usize
        {
            return Err(HResult::BG_E_TOO_MANY_FILES_IN_JOB);
        }
        let jb = &mut self.jobs[j];
        let new_files = files
            .iter()
            .map(|&(r, l)| FileData::new(r.into(), l.into()));
        if jb.files.is_empty() {
            // The first file(s): exactly what is asked for (`extend` would reserve 4 slots for one
            // file); later additions grow by doubling as usual.
            jb.files = new_files.collect();
        } else {
            jb.files.extend(new_files);
        }
        let before = jb.state;
        self.apply(j, Input::AddFile, Cause::Plain)?;
        if self.jobs[j].state == before {
            self.modified(j);
        }
        Ok(())
    }

    /// EnumFiles: how many files the job has (the facade hands out one handle per file).
    pub fn file_count(&self, app: AppId, job: JobId) -> Result<u32, HResult> {
        let j = self.access(app, job)?;
        Ok(self.jobs[j].files.len() as u32)
    }

    /// IBackgroundCopyFile::GetRemoteName / GetLocalName / GetProgress for file `index`.
    pub fn file_info(&self, app: AppId, job: JobId, index: u32) -> Result<FileInfo, HResult> {
        let j = self.access(app, job)?;
        let f = self.jobs[j]
            .files
            .get(index as usize)
            .ok_or(HResult::BG_E_FILE_NOT_FOUND)?;
        let live = self
            .live_bytes(j)
            .filter(|&(file, _)| file == index)
            .map(|(_, b)| b);
        Ok(FileInfo {
            remote_name: f.remote.to_string(),
            local_name: f.local.to_string(),
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
        input: impl FnOnce(&Self, usize) -> Input,
    ) -> Result<HResult, HResult> {
        let j = self.access(app, job)?;
        let input = input(self, j);
        let r = self.apply(j, input, Cause::Plain)?;
        self.jobs[j].times.modification_time = self.now;
        Ok(r)
    }

    /// Suspend (T15): any non-final state → SUSPENDED; idempotent.
    pub fn suspend(&mut self, app: AppId, job: JobId) -> Result<HResult, HResult> {
        self.state_call(app, job, |_, _| Input::Suspend)
    }

    /// Resume: T2/T3 from SUSPENDED, T13 from TRANSIENT_ERROR, T14 from ERROR, no-op in action states (T28).
    pub fn resume(&mut self, app: AppId, job: JobId) -> Result<HResult, HResult> {
        self.state_call(app, job, |s, j| Input::Resume {
            has_files: !s.jobs[j].files.is_empty(),
        })
    }

    /// Cancel (T16).
    pub fn cancel(&mut self, app: AppId, job: JobId) -> Result<HResult, HResult> {
        self.state_call(app, job, |_, _| Input::Cancel)
    }

    /// Complete (D7, T17a, T17c): a download keeps its fully transferred files and returns S_OK, or
    /// BG_S_PARTIAL_COMPLETE when some were not; upload types only from TRANSFERRED.
    pub fn complete(&mut self, app: AppId, job: JobId) -> Result<HResult, HResult> {
        let j = self.access(app, job)?;
        if self.jobs[j].state.is_running() {
            self.settle(j);
        }
        let r = self.state_call(app, job, |s, j| Input::Complete {
            job_type: s.jobs[j].job_type,
            all_transferred: s.jobs[j].all_files_done(),
        })?;
        for f in &mut self.jobs[j].files {
            if f.is_done() {
                f.completed = true;
            }
        }
        Ok(r)
    }

    // ================================================================== getters

    /// GetState.
    pub fn state(&self, app: AppId, job: JobId) -> Result<JobState, HResult> {
        self.access(app, job).map(|j| self.jobs[j].state)
    }

    /// GetType.
    pub fn job_type(&self, app: AppId, job: JobId) -> Result<JobType, HResult> {
        self.access(app, job).map(|j| self.jobs[j].job_type)
    }

    /// GetId (checks the caller like every method).
    pub fn job_id(&self, app: AppId, job: JobId) -> Result<JobId, HResult> {
        self.access(app, job).map(|j| self.jobs[j].id)
    }

    /// GetProgress (§8.2), live to the current instant.
    pub fn progress(&self, app: AppId, job: JobId) -> Result<JobProgress, HResult> {
        self.access(app, job)
            .map(|j| self.jobs[j].progress(self.live_bytes(j)))
    }

    /// GetTimes (§8.2, D13).
    pub fn times(&self, app: AppId, job: JobId) -> Result<JobTimes, HResult> {
        self.access(app, job).map(|j| self.jobs[j].times)
    }

    /// GetOwner: the owner's SID string.
    pub fn owner(&self, app: AppId, job: JobId) -> Result<String, HResult> {
        self.access(app, job)
            .map(|j| User::sid_for(self.jobs[j].owner))
    }

    /// GetDisplayName.
    pub fn display_name(&self, app: AppId, job: JobId) -> Result<String, HResult> {
        self.access(app, job)
            .map(|j| self.jobs[j].display_name.to_string())
    }

    /// GetDescription (empty by default).
    pub fn description(&self, app: AppId, job: JobId) -> Result<String, HResult> {
        self.access(app, job)
            .map(|j| self.jobs[j].description.clone())
    }

    /// GetPriority (NORMAL by default).
    pub fn priority(&self, app: AppId, job: JobId) -> Result<Priority, HResult> {
        self.access(app, job).map(|j| self.jobs[j].priority)
    }

    /// GetNotifyFlags (0x3 by default).
    pub fn notify_flags(&self, app: AppId, job: JobId) -> Result<NotifyFlags, HResult> {
        self.access(app, job).map(|j| self.jobs[j].notify_flags)
    }

    /// GetNotifyInterface: whether a callback is registered (none by default).
    pub fn has_notify_interface(&self, app: AppId, job: JobId) -> Result<bool, HResult> {
        self.access(app, job)
            .map(|j| self.registrations[j].is_some())
    }

    /// GetMinimumRetryDelay in seconds (600 by default).
    pub fn minimum_retry_delay(&self, app: AppId, job: JobId) -> Result<u32, HResult> {
        self.access(app, job).map(|j| self.jobs[j].retry_delay)
    }

    /// GetNoProgressTimeout in seconds (1,209,600 by default).
    pub fn no_progress_timeout(&self, app: AppId, job: JobId) -> Result<u32, HResult> {
        self.access(app, job)
            .map(|j| self.jobs[j].no_progress_timeout)
    }

    /// GetErrorCount (D6).
    pub fn error_count(&self, app: AppId, job: JobId) -> Result<u32, HResult> {
        self.access(app, job).map(|j| self.jobs[j].error_count)
    }

    /// GetProxySettings (PRECONFIG, no lists, by default).
    pub fn proxy_settings(&self, app: AppId, job: JobId) -> Result<ProxySettings, HResult> {
        self.access(app, job).map(|j| ProxySettings {
            usage: self.jobs[j].proxy_usage,
            proxy_list: None,
            bypass_list: None,
        })
    }

    /// GetError (D1): the error object, or BG_E_ERROR_INFORMATION_UNAVAILABLE when the job has no error
    /// record.
    pub fn get_error(&self, app: AppId, job: JobId) -> Result<ErrorObject, HResult> {
        let j = self.access(app, job)?;
        let jb = &self.jobs[j];
        let record = jb
            .error
            .clone()
            .ok_or(HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE)?;
        Ok(ErrorObject {
            app,
            job,
            epoch: jb.transfer_epoch,
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
            Some(j) if j.transfer_epoch == obj.epoch => Ok(&obj.record),
            _ => Err(HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE),
        }
    }

    // ================================================================== setters

    /// SetDisplayName: E_INVALIDARG past 256 characters (D14).
    pub fn set_display_name(&mut self, app: AppId, job: JobId, name: &str) -> Result<(), HResult> {
        let j = self.mutable(app, job)?;
        if wide_len(name) > defaults::MAX_DISPLAY_NAME {
            return Err(HResult::E_INVALIDARG);
        }
        self.jobs[j].display_name = name.into();
        self.modified(j);
        Ok(())
    }

    /// SetDescription: E_INVALIDARG past 1,024 characters (D14).
    pub fn set_description(&mut self, app: AppId, job: JobId, text: &str) -> Result<(), HResult> {
        let j = self.mutable(app, job)?;
        if wide_len(text) > defaults::MAX_DESCRIPTION {
            return Err(HResult::E_INVALIDARG);
        }
        self.jobs[j].description = text.to_string();
        self.modified(j);
        Ok(())
    }

    /// SetPriority with a raw BG_JOB_PRIORITY value: E_NOTIMPL for values outside the enumeration (D14).
    pub fn set_priority(&mut self, app: AppId, job: JobId, value: u32) -> Result<(), HResult> {
        let j = self.mutable(app, job)?;
        let p = Priority::from_value(value).ok_or(HResult::E_NOTIMPL)?;
        if self.jobs[j].priority != p {
            let queued = self.jobs[j].state == JobState::Queued;
            if queued {
                self.unqueue(j);
            }
            self.jobs[j].priority = p;
            if queued {
                self.enqueue(j);
            } else if self.jobs[j].state.is_running() {
                // A running job is in `running` (the snapshot checks that); keep `running_bg` in step.
                let id = self.jobs[j].id;
                self.set_running_bg(id, !p.is_foreground());
                self.request_schedule();
            }
        }
        self.modified(j);
        Ok(())
    }

    /// SetNotifyFlags: E_NOTIMPL for unknown bits (D14, §5.1).
    pub fn set_notify_flags(&mut self, app: AppId, job: JobId, flags: u32) -> Result<(), HResult> {
        let j = self.mutable(app, job)?;
        let flags = NotifyFlags(flags);
        if !flags.is_known() {
            return Err(HResult::E_NOTIMPL);
        }
        self.jobs[j].notify_flags = flags;
        self.modified(j);
        Ok(())
    }

    /// SetNotifyInterface: the last registration wins; `None` clears (D11). Registering on a job that is
    /// already TRANSFERRED or in ERROR delivers that notification now.
    pub fn set_notify_interface(
        &mut self,
        app: AppId,
        job: JobId,
        notifier: Option<Notifier>,
    ) -> Result<(), HResult> {
        let j = self.mutable(app, job)?;
        self.next_serial += 1;
        let serial = self.next_serial;
        self.registrations[j] = notifier.map(|notifier| {
            Box::new(Registration {
                app,
                serial,
                notifier,
            })
        });
        self.jobs[j].times.modification_time = self.now;
        match self.jobs[j].state {
            JobState::Transferred => self.notify(j, NotifyEvent::JobTransferred),
            JobState::Error => self.notify(j, NotifyEvent::JobError),
            _ => {}
        }
        Ok(())
    }

    /// SetMinimumRetryDelay: values under 5 s store 5 and succeed (D14); a pending retry moves (D3).
    pub fn set_minimum_retry_delay(
        &mut self,
        app: AppId,
        job: JobId,
        seconds: u32,
    ) -> Result<(), HResult> {
        let j = self.mutable(app, job)?;
        self.jobs[j].retry_delay = seconds.max(defaults::MINIMUM_RETRY_DELAY_FLOOR);
        self.modified(j);
        self.rearm_transient_timers(j);
        Ok(())
    }

    /// SetNoProgressTimeout: lowering it below the time already spent without progress while in
    /// TRANSIENT_ERROR sends the job to ERROR at once (D4).
    pub fn set_no_progress_timeout(
        &mut self,
        app: AppId,
        job: JobId,
        seconds: u32,
    ) -> Result<(), HResult> {
        let j = self.mutable(app, job)?;
        self.jobs[j].no_progress_timeout = seconds;
        self.modified(j);
        self.rearm_transient_timers(j);
        Ok(())
    }

    /// TakeOwnership: the caller becomes the owner. Needs an administrator unless the caller owns the job
    /// already (D9). The job then runs only while the new owner is logged on (D10).
    pub fn take_ownership(&mut self, app: AppId, job: JobId) -> Result<(), HResult> {
        let j = self.mutable(app, job)?;
        let caller = self.apps[app.index()].user;
        let old = self.jobs[j].owner;
        if old == caller {
            self.jobs[j].times.modification_time = self.now;
            return Ok(());
        }
        if !self.is_admin(caller) {
            return Err(HResult::E_ACCESSDENIED);
        }
        self.live_jobs_per_user[old.index()] -= 1;
        self.live_jobs_per_user[caller.index()] += 1;
        self.jobs[j].owner = caller;
        self.record(TraceKind::OwnerChanged { job, user: caller });
        match self.jobs[j].state {
            JobState::Queued => {
                self.unqueue(j);
                self.enqueue(j);
            }
            s if s.is_running() && !self.users[caller.index()].logged_on => {
                let _ = self.apply(j, Input::OwnerLogoff, Cause::Plain);
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
    fn spec_2_6_remote_names() {
        assert!(valid_remote(
            "https://example.test/a.bin",
            JobType::Download
        ));
        assert!(valid_remote("http://example.test/a?x=1", JobType::Download));
        assert!(valid_remote("\\\\server\\share\\a.bin", JobType::Upload));
        assert!(!valid_remote(
            "\\\\server\\share\\a.bin",
            JobType::UploadReply
        ));
        assert!(!valid_remote("ftp://example.test/a", JobType::Download));
        assert!(!valid_remote("https://", JobType::Download));
        assert!(!valid_remote("https://ex ample.test/", JobType::Download));
        assert!(!valid_remote("", JobType::Download));
        assert!(!valid_remote(
            &format!("https://x.test/{}", "a".repeat(2200)),
            JobType::Download
        ));
    }

    #[test]
    fn spec_2_6_local_names() {
        assert!(valid_local("C:\\tmp\\a.bin"));
        assert!(valid_local("\\\\server\\share\\a.bin"));
        assert!(!valid_local("a.bin"));
        assert!(!valid_local("tmp\\a.bin"));
        assert!(!valid_local("C:\\tmp\\*.bin"));
        assert!(!valid_local("\\\\?\\C:\\a"));
        assert!(!valid_local("C:\\a.bin:stream"));
        assert!(!valid_local(&format!("C:\\{}", "a".repeat(258))));
    }

    /// The name checks as first written (char scans, allocating lower-case prefix): the fast paths
    /// must decide exactly as these do.
    mod reference {
        use super::super::defaults;
        use crate::JobType;

        pub fn wide_len(s: &str) -> usize {
            s.encode_utf16().count()
        }

        pub fn valid_remote(remote: &str, job_type: JobType) -> bool {
            if remote.is_empty()
                || wide_len(remote) > defaults::MAX_REMOTE_NAME
                || remote.chars().any(|c| {
                    c.is_control()
                        || c.is_whitespace()
                        || c == '*'
                        || c == '?' && !remote.contains("://")
                })
            {
                return false;
            }
            let lower = remote.get(..8).unwrap_or(remote).to_ascii_lowercase();
            let http = ["http://", "https://"]
                .iter()
                .find(|p| lower.starts_with(*p))
                .map(|p| &remote[p.len()..]);
            if let Some(rest) = http {
                return !rest.is_empty() && !rest.starts_with('/');
            }
            let smb = remote.starts_with("\\\\") && remote.len() > 2
                || lower.starts_with("file://") && remote.len() > 7;
            smb && job_type != JobType::UploadReply
        }

        pub fn valid_local(local: &str) -> bool {
            if local.is_empty()
                || wide_len(local) > defaults::MAX_LOCAL_NAME
                || local.starts_with("\\\\?\\")
            {
                return false;
            }
            if local
                .chars()
                .any(|c| c.is_control() || matches!(c, '*' | '?' | '"' | '<' | '>' | '|'))
            {
                return false;
            }
            let b = local.as_bytes();
            let drive = b.len() >= 3
                && b[0].is_ascii_alphabetic()
                && b[1] == b':'
                && (b[2] == b'\\' || b[2] == b'/');
            let unc = local.starts_with("\\\\") && local.len() > 2;
            let rest_has_colon = if drive {
                local[2..].contains(':')
            } else {
                local.contains(':')
            };
            (drive || unc) && !rest_has_colon
        }

        pub fn protocol_is_http(remote: &str) -> bool {
            let lower = remote.get(..8).unwrap_or(remote).to_ascii_lowercase();
            lower.starts_with("http://") || lower.starts_with("https://")
        }
    }

    /// Names built from pieces that matter to the checks: schemes in any case, separators, wildcards,
    /// controls, whitespace (ASCII and not), non-ASCII letters, and lengths near the limits.
    fn name() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just("http://".to_string()),
            Just("HTTPS://".to_string()),
            Just("hTtP://".to_string()),
            Just("file://".to_string()),
            Just("FILE://".to_string()),
            Just("\\\\".to_string()),
            Just("\\\\?\\".to_string()),
            Just("C:\\".to_string()),
            Just("z:/".to_string()),
            Just("/".to_string()),
            Just(":".to_string()),
            Just("?".to_string()),
            Just("*".to_string()),
            Just("<>|\"".to_string()),
            Just(" ".to_string()),
            Just("\t".to_string()),
            Just("\u{0B}".to_string()),
            Just("\u{7F}".to_string()),
            Just("\u{85}".to_string()),
            Just("\u{A0}".to_string()),
            Just("\u{3000}".to_string()),
            Just("é".to_string()),
            Just("日本".to_string()),
            Just("😀".to_string()),
            "[a-zA-Z0-9._-]{1,12}",
            (0usize..3).prop_map(|i| "a".repeat([250, 2190, 40][i])),
        ];
        proptest::collection::vec(piece, 0..6).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #[test]
        fn fast_name_checks_decide_as_the_reference(s in name()) {
            for t in [JobType::Download, JobType::Upload, JobType::UploadReply] {
                proptest::prop_assert_eq!(valid_remote(&s, t), reference::valid_remote(&s, t));
            }
            proptest::prop_assert_eq!(valid_local(&s), reference::valid_local(&s));
            proptest::prop_assert_eq!(wide_len(&s), reference::wide_len(&s));
            proptest::prop_assert_eq!(
                crate::job::Protocol::of(&s) == crate::job::Protocol::Http,
                reference::protocol_is_http(&s)
            );
        }
    }

    #[test]
    fn get_error_description_languages() {
        assert!(language_supported(0x0409));
        assert!(language_supported(0x0809));
        assert!(language_supported(0));
        assert!(!language_supported(0x0407));
    }
}
