//! File methods of IBackgroundCopyFile2 and IBackgroundCopyFile3 (scenario contract part 2, file
//! properties): SetRemoteName, GetTemporaryName, Get/SetValidationState, IsDownloadedFromPeer, and
//! File5 Get/SetProperty (D64).

use crate::hresult::HResult;
use crate::job::{AppId, JobId};
use crate::names::valid_remote;
use crate::record::ErrorReport;
use crate::sandbox::Sandbox;
use crate::service::Service;
use crate::state::ErrorContext;
use crate::trace::{RestartReason, TraceKind};
use crate::transition::MethodCall;

/// E_PENDING (0x8000000A): SetValidationState before the file finished transferring.
pub(crate) const E_PENDING: HResult = HResult::from_u32(0x8000_000A);

/// BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS (SDK bits5_0 BITS_FILE_PROPERTY_ID).
pub const FILE_PROPERTY_HTTP_RESPONSE_HEADERS: u32 = 1;

impl Service {
    fn file_index(&self, j: usize, index: u32) -> Result<usize, HResult> {
        if (index as usize) < self.jobs[j].files().len() {
            Ok(index as usize)
        } else {
            Err(HResult::BG_E_FILE_NOT_FOUND)
        }
    }

    /// IBackgroundCopyFile2::SetRemoteName (§2.6): E_NOTIMPL for upload types, E_INVALIDARG for a bad
    /// name, BG_E_INVALID_STATE in a final state. The file continues at its offset unless the new
    /// remote's size or time stamp differ (D38) or it ignores ranges (D39); a finished file is not
    /// downloaded again. ModificationTime moves (§2.0).
    pub fn set_remote_name(
        &mut self,
        app: AppId,
        job: JobId,
        index: u32,
        remote: &str,
    ) -> Result<(), HResult> {
        let j = self.access(app, job)?;
        let f = self.file_index(j, index)?;
        let jb = &self.jobs[j];
        if jb.job_type().is_upload() {
            return Err(HResult::E_NOTIMPL);
        }
        if jb.state().is_final() {
            return Err(HResult::BG_E_INVALID_STATE);
        }
        if !valid_remote(remote, jb.job_type()) {
            return Err(HResult::E_INVALIDARG);
        }
        self.jobs[j].files_mut()[f].set_remote(remote);
        // The trace's `remote_name_changed` record (scenario-format part 2), as ReplaceRemotePrefix
        // and the redirect policies write it.
        self.record(crate::trace::TraceKind::RemoteNameChanged {
            job,
            file: f as u32,
            to: crate::trace::TraceText::new(remote),
        });
        self.modified(j);
        Ok(())
    }

    /// IBackgroundCopyFile2::GetFileRanges: the ranges AddFileWithRanges gave, in the order given, a
    /// BG_LENGTH_TO_EOF length kept as given. Empty for a file added without ranges and for upload
    /// types, which the facade answers with S_FALSE
    /// (`SDK bits2_0/nf-bits2_0-ibackgroundcopyfile2-getfileranges`).
    pub fn file_ranges(
        &self,
        app: AppId,
        job: JobId,
        index: u32,
    ) -> Result<Vec<(u64, u64)>, HResult> {
        let j = self.access(app, job)?;
        let f = self.file_index(j, index)?;
        Ok(self.jobs[j].files()[f]
            .ranges()
            .map(<[_]>::to_vec)
            .unwrap_or_default())
    }

    /// IBackgroundCopyFile3::GetTemporaryName: the Windows name of the file's temporary file,
    /// `BIT<hex>.tmp` in the local file's folder (D40).
    pub fn temporary_name(&self, app: AppId, job: JobId, index: u32) -> Result<String, HResult> {
        let j = self.access(app, job)?;
        let f = self.file_index(j, index)?;
        let jb = &self.jobs[j];
        if jb.options().high_performance && !jb.job_type().is_upload() {
            // D63: a HIGH_PERFORMANCE job writes straight to the local name.
            return Ok(jb.files()[f].local().to_string());
        }
        Ok(Sandbox::temp_name(jb.files()[f].local(), jb.id(), index))
    }

    /// IBackgroundCopyFile3::GetValidationState: FALSE until the application validates the file
    /// (§2.10).
    pub fn validation_state(&self, app: AppId, job: JobId, index: u32) -> Result<bool, HResult> {
        let j = self.access(app, job)?;
        let f = self.file_index(j, index)?;
        Ok(self.jobs[j].files()[f]
            .extra
            .as_ref()
            .is_some_and(|e| e.validated))
    }

    /// IBackgroundCopyFile3::SetValidationState: E_PENDING until the file finished transferring
    /// (`SDK bits3_0/nf-bits3_0-ibackgroundcopyfile3-setvalidationstate`). TRUE marks it valid.
    /// FALSE rejects the content: from the origin server, the file's progress goes back to 0 (its
    /// temporary file emptied, trace `restarted` "validation") and the job enters ERROR with
    /// BG_E_VALIDATION_FAILED, context REMOTE_FILE, naming the file (T29, D59), Resume downloads the
    /// file again; from a peer (D65), the file is downloaded again from the origin (T32, D79).
    pub fn set_validation_state(
        &mut self,
        app: AppId,
        job: JobId,
        index: u32,
        valid: bool,
    ) -> Result<(), HResult> {
        let j = self.access(app, job)?;
        let f = self.file_index(j, index)?;
        if self.jobs[j].state().is_final() {
            return Err(HResult::BG_E_INVALID_STATE);
        }
        let file = &self.jobs[j].files()[f];
        if !file.is_done() || self.live_bytes(j).is_some_and(|(a, _)| a == index) {
            return Err(E_PENDING);
        }
        if !valid {
            let from_peer = file.extra.as_ref().is_some_and(|e| e.from_peer);
            return if from_peer {
                self.peer_content_rejected(j, f)
            } else {
                self.validation_failed(j, f)
            };
        }
        self.jobs[j].files_mut()[f]
            .extra
            .get_or_insert_with(Default::default)
            .validated = true;
        Ok(())
    }

    /// T29, D59: content of finished file `f` (from the origin server) was rejected.
    fn validation_failed(&mut self, j: usize, f: usize) -> Result<(), HResult> {
        let id = self.jobs[j].id();
        let job = &mut self.jobs[j];
        let download = job.job_type() == crate::state::JobType::Download;
        let file = &mut job.files_mut()[f];
        file.bytes_transferred = 0;
        // T17b, D97: a file a failed Complete renamed is no longer done; the next Complete renames
        // it again.
        file.completed &= !download;
        let extra = file.extra.get_or_insert_with(Default::default);
        extra.validated = false;
        if let Some(od) = extra.on_demand.as_deref_mut() {
            // D74: nothing of the file is on disk any more.
            od.filled.clear();
            od.unreported.clear();
        }
        file.shrink_extra();
        let report = ErrorReport::transfer(
            ErrorContext::RemoteFile,
            HResult::BG_E_VALIDATION_FAILED,
            f as u32,
            file.remote(),
        );
        job.file_unfinished(f);
        self.record(TraceKind::Restarted {
            job: id,
            file: f as u32,
            reason: RestartReason::Validation,
        });
        self.sandbox_truncate(j, f);
        self.on_method(j, MethodCall::ValidationFailed(report))?;
        Ok(())
    }

    /// §5.5, T32, D79: content of finished file `f` that came from a peer was rejected: the file's
    /// progress goes back to 0 (its temporary file emptied, trace `restarted` "validation"), it will
    /// come from the origin server from now on, and a TRANSFERRED job is queued again; no error.
    fn peer_content_rejected(&mut self, j: usize, f: usize) -> Result<(), HResult> {
        let id = self.jobs[j].id();
        let job = &mut self.jobs[j];
        let download = job.job_type() == crate::state::JobType::Download;
        let file = &mut job.files_mut()[f];
        file.bytes_transferred = 0;
        file.completed &= !download; // T17b, D97, as in `validation_failed`
        let extra = file.extra.get_or_insert_with(Default::default);
        extra.validated = false;
        extra.peer_rejected = true;
        job.file_unfinished(f);
        self.record(TraceKind::Restarted {
            job: id,
            file: f as u32,
            reason: RestartReason::Validation,
        });
        self.sandbox_truncate(j, f);
        let from = self.jobs[j].state();
        self.on_method(j, MethodCall::PeerContentRejected)?;
        if self.jobs[j].state() == from {
            // The file's progress changed: ModificationTime and JobModification (§8.2, D11).
            self.modified(j);
        }
        Ok(())
    }

    /// IBackgroundCopyFile3::IsDownloadedFromPeer: TRUE when the file's last answer came from a peer
    /// (a `peer` remote and a job with ENABLE_PEERCACHING_CLIENT, D65).
    pub fn downloaded_from_peer(
        &self,
        app: AppId,
        job: JobId,
        index: u32,
    ) -> Result<bool, HResult> {
        let j = self.access(app, job)?;
        let f = self.file_index(j, index)?;
        Ok(self.jobs[j].files()[f]
            .extra
            .as_ref()
            .is_some_and(|e| e.from_peer))
    }

    /// IBackgroundCopyFile5::GetProperty (D64): BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS (1) gives
    /// the headers of the server's last successful answer (or what SetProperty stored since), `""`
    /// before any; another id is BG_E_UNKNOWN_PROPERTY_ID.
    pub fn file_property(
        &self,
        app: AppId,
        job: JobId,
        index: u32,
        id: u32,
    ) -> Result<String, HResult> {
        let j = self.access(app, job)?;
        let f = self.file_index(j, index)?;
        if id != FILE_PROPERTY_HTTP_RESPONSE_HEADERS {
            return Err(HResult::BG_E_UNKNOWN_PROPERTY_ID);
        }
        Ok(self.jobs[j].files()[f]
            .extra
            .as_ref()
            .and_then(|e| e.response_headers.clone())
            .unwrap_or_default())
    }

    /// IBackgroundCopyFile5::SetProperty (D64): stores `value` as the file's HTTP_RESPONSE_HEADERS
    /// until the next answer replaces it; BG_E_UNKNOWN_PROPERTY_ID for another id, BG_E_INVALID_STATE
    /// in a final state.
    pub fn set_file_property(
        &mut self,
        app: AppId,
        job: JobId,
        index: u32,
        id: u32,
        value: &str,
    ) -> Result<(), HResult> {
        let j = self.access(app, job)?;
        let f = self.file_index(j, index)?;
        if id != FILE_PROPERTY_HTTP_RESPONSE_HEADERS {
            return Err(HResult::BG_E_UNKNOWN_PROPERTY_ID);
        }
        if self.jobs[j].state().is_final() {
            return Err(HResult::BG_E_INVALID_STATE);
        }
        self.jobs[j].files_mut()[f]
            .extra
            .get_or_insert_with(Default::default)
            .response_headers = Some(value.to_string());
        Ok(())
    }
}
