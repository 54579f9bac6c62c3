//! The COM objects: manager, jobs, files, error objects and enumerators, each backed by a bitsim
//! handle (`bitsim::Manager`, `Job`, `File`, `CopyError`, `JobEnum`, `FileEnum`).
//!
//! Methods bitsim does not model yet return E_NOTIMPL (listed in the README):
//! HttpOptions3::SetServerCertificateValidationInterface and File4. Every other method of
//! Job..Job5, HttpOptions 1–3, File2, File3, File5 and File6 calls the facade method of the same COM
//! name.
//! Interfaces bitsim does not model are not
//! answered by QueryInterface (E_NOINTERFACE).

use crate::com::{alloc_bytes, alloc_string, Attached};
use crate::core::{implement, Interface, Ref, Result, BOOL, GUID, HRESULT, PCWSTR, PWSTR};
use crate::Win32::Foundation::{
    E_INVALIDARG, E_NOINTERFACE, E_NOTIMPL, E_POINTER, FILETIME, S_FALSE,
};
use crate::Win32::Networking::BackgroundIntelligentTransferService::*;
use bitsim::HResult;
use std::cell::RefCell;
use std::rc::Rc;

/// Every CLSID of the BITS manager class (one per BITS version; all make the same object here).
const MANAGER_CLASSES: [GUID; 10] = [
    BackgroundCopyManager,
    BackgroundCopyManager1_5,
    BackgroundCopyManager2_0,
    BackgroundCopyManager2_5,
    BackgroundCopyManager3_0,
    BackgroundCopyManager4_0,
    BackgroundCopyManager5_0,
    BackgroundCopyManager10_1,
    BackgroundCopyManager10_2,
    BackgroundCopyManager10_3,
];

pub(crate) fn is_manager_class(clsid: &GUID) -> bool {
    MANAGER_CLASSES.contains(clsid)
}

fn err(h: HResult) -> crate::core::Error {
    crate::core::Error::from_hresult(HRESULT(h.code() as i32))
}

fn hr(h: HRESULT) -> crate::core::Error {
    crate::core::Error::from_hresult(h)
}

/// Ok for S_OK; another success code (S_FALSE, BG_S_PARTIAL_COMPLETE) travels as the `Err` of a
/// `Result<()>`, which the generated vtable turns into that HRESULT (the caller's `.ok()` still
/// sees success).
fn code(h: HResult) -> Result<()> {
    if h == HResult::S_OK {
        Ok(())
    } else {
        Err(err(h))
    }
}

/// The caller's BG_FILE_RANGE array as `(offset, length)` pairs (RangeCount 0 is the core's
/// E_INVALIDARG; a NULL array with a count is E_INVALIDARG here).
fn read_ranges(count: u32, ranges: *const BG_FILE_RANGE) -> Result<Vec<(u64, u64)>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if ranges.is_null() {
        return Err(hr(E_INVALIDARG));
    }
    // SAFETY: non-null; the caller passes an array of `count` BG_FILE_RANGE.
    let slice = unsafe { std::slice::from_raw_parts(ranges, count as usize) };
    Ok(slice.iter().map(|r| (r.InitialOffset, r.Length)).collect())
}

/// Fill the out-parameters of GetFileRanges-like methods: a CoTaskMemFree-able array (NULL when
/// empty) and its length. Both pointers were checked non-null.
fn write_ranges(list: &[(u64, u64)], count: *mut u32, out: *mut *mut BG_FILE_RANGE) {
    let array = if list.is_empty() {
        std::ptr::null_mut()
    } else {
        let bytes: Vec<u8> = list
            .iter()
            .flat_map(|&(o, l)| o.to_ne_bytes().into_iter().chain(l.to_ne_bytes()))
            .collect();
        crate::com::alloc_bytes_aligned8(&bytes).cast::<BG_FILE_RANGE>()
    };
    // SAFETY: checked non-null by the caller; they point at the caller's out-parameters.
    unsafe {
        count.write(u32::try_from(list.len()).unwrap_or(u32::MAX));
        out.write(array);
    }
}

fn string(p: &PCWSTR) -> Result<String> {
    if p.is_null() {
        return Err(hr(E_INVALIDARG));
    }
    // SAFETY: non-null; a caller of a BITS method passes a NUL-terminated string.
    unsafe { p.to_string() }.map_err(|_| hr(E_INVALIDARG))
}

/// An optional string argument: NULL is `None`.
fn opt_string(p: &PCWSTR) -> Result<Option<String>> {
    if p.is_null() {
        Ok(None)
    } else {
        string(p).map(Some)
    }
}

fn filetime(t: Option<bitsim::SimTime>) -> FILETIME {
    // Virtual time from FILETIME 0 (D13): 1 ms is 10,000 units of 100 ns.
    let v = t.map_or(0, |t| t.as_millis().saturating_mul(10_000));
    FILETIME {
        dwLowDateTime: v as u32,
        dwHighDateTime: (v >> 32) as u32,
    }
}

/// The GUID of a job: its bitsim id's GUID (one-to-one, stable across restarts).
pub(crate) fn job_guid(id: bitsim::JobId) -> GUID {
    let n = id.index() as u64 + 1;
    GUID::from_values(
        0xB175_B175,
        0,
        0x4000,
        [
            0x80,
            0,
            (n >> 40) as u8,
            (n >> 32) as u8,
            (n >> 24) as u8,
            (n >> 16) as u8,
            (n >> 8) as u8,
            n as u8,
        ],
    )
}

fn job_id_of(g: &GUID) -> Option<bitsim::JobId> {
    if g.data1 != 0xB175_B175 || g.data2 != 0 || g.data3 != 0x4000 || g.data4[..2] != [0x80, 0] {
        return None;
    }
    let n = g.data4[2..]
        .iter()
        .fold(0u64, |n, b| (n << 8) | u64::from(*b));
    bitsim::JobId::from_guid(&format!("{{B175B175-0000-4000-8000-{n:012X}}}"))
}

// ------------------------------------------------------------------ manager

#[implement(IBackgroundCopyManager)]
struct Manager {
    at: Rc<Attached>,
    /// This object's connection: made at CoCreateInstance, so a manager made after a service
    /// restart works while older ones fail with RPC_E_DISCONNECTED (D15).
    m: bitsim::Manager,
}

pub(crate) fn manager(at: Rc<Attached>) -> Result<crate::core::IUnknown> {
    let m = at.manager.reconnect().map_err(err)?;
    Ok(Manager { at, m }.into())
}

impl IBackgroundCopyManager_Impl for Manager_Impl {
    fn CreateJob(
        &self,
        displayname: &PCWSTR,
        r#type: BG_JOB_TYPE,
        pjobid: *mut GUID,
        ppjob: crate::core::OutRef<'_, IBackgroundCopyJob>,
    ) -> Result<()> {
        if pjobid.is_null() || ppjob.is_null() {
            return Err(hr(E_INVALIDARG));
        }
        let name = string(displayname)?;
        let t = bitsim::JobType::from_value(r#type.0 as u32).ok_or_else(|| hr(E_INVALIDARG))?;
        let job = self.m.create_job(&name, t).map_err(err)?;
        // SAFETY: checked non-null; the caller passes a GUID to fill.
        unsafe { pjobid.write(job_guid(job.id())) };
        ppjob.write(Some(job_object(&self.at, job)))
    }

    fn GetJob(&self, jobid: *const GUID) -> Result<IBackgroundCopyJob> {
        if jobid.is_null() {
            return Err(hr(E_INVALIDARG));
        }
        // SAFETY: checked non-null; the caller passes a GUID.
        let g = unsafe { *jobid };
        let id = job_id_of(&g).ok_or_else(|| err(HResult::BG_E_NOT_FOUND))?;
        let job = self.m.get_job(id).map_err(err)?;
        Ok(job_object(&self.at, job))
    }

    fn EnumJobs(&self, dwflags: u32) -> Result<IEnumBackgroundCopyJobs> {
        let e = self.m.job_enum(dwflags).map_err(err)?;
        Ok(JobEnum {
            at: self.at.clone(),
            e: RefCell::new(e),
        }
        .into())
    }

    fn GetErrorDescription(&self, hresult: HRESULT, languageid: u32) -> Result<PWSTR> {
        let text = self
            .m
            .get_error_description(HResult::from_u32(hresult.0 as u32), languageid)
            .map_err(err)?;
        Ok(alloc_string(&text))
    }
}

// ------------------------------------------------------------------ jobs

#[implement(IBackgroundCopyJob5, IBackgroundCopyJobHttpOptions3)]
struct Job {
    at: Rc<Attached>,
    job: bitsim::Job,
}

fn job_object(at: &Rc<Attached>, job: bitsim::Job) -> IBackgroundCopyJob {
    let j: IBackgroundCopyJob5 = Job {
        at: at.clone(),
        job,
    }
    .into();
    j.into()
}

fn notimpl<T>() -> Result<T> {
    Err(hr(E_NOTIMPL))
}

/// The application's callback object, called by bitsim's delivery (D19) with the job's and the
/// error's interfaces.
struct ComCallback {
    at: Rc<Attached>,
    cb: IBackgroundCopyCallback,
    /// The object's IBackgroundCopyCallback2, when QueryInterface gives one (FileTransferred, D60).
    cb2: Option<IBackgroundCopyCallback2>,
    /// The object's IBackgroundCopyCallback3, when QueryInterface gives one (FileRangesTransferred,
    /// D76).
    cb3: Option<IBackgroundCopyCallback3>,
}

fn answer(r: Result<()>) -> HResult {
    match r {
        Ok(()) => HResult::S_OK,
        Err(e) => HResult::from_u32(e.code().0 as u32),
    }
}

impl bitsim::Callback for ComCallback {
    fn job_transferred(&mut self, job: &bitsim::Job, _: &bitsim::Notification) -> HResult {
        let j = job_object(&self.at, job.clone());
        // SAFETY: a COM call on a live interface the application registered.
        answer(unsafe { self.cb.JobTransferred(&j) })
    }
    fn job_error(
        &mut self,
        job: &bitsim::Job,
        error: &bitsim::CopyError,
        _: &bitsim::Notification,
    ) -> HResult {
        let j = job_object(&self.at, job.clone());
        let e: IBackgroundCopyError = CopyError {
            at: self.at.clone(),
            e: error.clone(),
        }
        .into();
        // SAFETY: as above.
        answer(unsafe { self.cb.JobError(&j, &e) })
    }
    fn job_modification(&mut self, job: &bitsim::Job, _: &bitsim::Notification) -> HResult {
        let j = job_object(&self.at, job.clone());
        // SAFETY: as above.
        answer(unsafe { self.cb.JobModification(&j, 0) })
    }
    fn file_transferred(
        &mut self,
        job: &bitsim::Job,
        file: &bitsim::File,
        _: &bitsim::Notification,
    ) -> HResult {
        let Some(cb2) = &self.cb2 else {
            return HResult::S_OK;
        };
        let j = job_object(&self.at, job.clone());
        let f = file_object(&self.at, file.clone());
        // SAFETY: as above.
        answer(unsafe { cb2.FileTransferred(&j, &f) })
    }
    fn file_ranges_transferred(
        &mut self,
        job: &bitsim::Job,
        file: &bitsim::File,
        ranges: &[(u64, u64)],
        _: &bitsim::Notification,
    ) -> HResult {
        let Some(cb3) = &self.cb3 else {
            return HResult::S_OK;
        };
        let j = job_object(&self.at, job.clone());
        let f = file_object(&self.at, file.clone());
        let list: Vec<BG_FILE_RANGE> = ranges
            .iter()
            .map(|&(o, l)| BG_FILE_RANGE {
                InitialOffset: o,
                Length: l,
            })
            .collect();
        // SAFETY: as above; the array lives until the call returns.
        answer(unsafe { cb3.FileRangesTransferred(&j, &f, &list) })
    }
    fn implements(&self) -> u8 {
        match (&self.cb2, &self.cb3) {
            (_, Some(_)) => 3,
            (Some(_), None) => 2,
            (None, None) => 1,
        }
    }
}

impl IBackgroundCopyJob_Impl for Job_Impl {
    fn AddFileSet(&self, cfilecount: u32, pfileset: *const BG_FILE_INFO) -> Result<()> {
        if pfileset.is_null() && cfilecount > 0 {
            return Err(hr(E_INVALIDARG));
        }
        let infos: &[BG_FILE_INFO] = if cfilecount == 0 {
            &[]
        } else {
            // SAFETY: non-null; the caller passes `cfilecount` BG_FILE_INFO.
            unsafe { std::slice::from_raw_parts(pfileset, cfilecount as usize) }
        };
        let mut owned = Vec::with_capacity(infos.len());
        for i in infos {
            owned.push((
                string(&PCWSTR(i.RemoteName.0))?,
                string(&PCWSTR(i.LocalName.0))?,
            ));
        }
        let set: Vec<(&str, &str)> = owned
            .iter()
            .map(|(r, l)| (r.as_str(), l.as_str()))
            .collect();
        self.job.add_file_set(&set).map_err(err)
    }
    fn AddFile(&self, remoteurl: &PCWSTR, localname: &PCWSTR) -> Result<()> {
        self.job
            .add_file(&string(remoteurl)?, &string(localname)?)
            .map_err(err)
    }
    fn EnumFiles(&self) -> Result<IEnumBackgroundCopyFiles> {
        let e = self.job.file_enum().map_err(err)?;
        Ok(FileEnum {
            at: self.at.clone(),
            e: RefCell::new(e),
        }
        .into())
    }
    fn Suspend(&self) -> Result<()> {
        self.job.suspend().map_err(err).and_then(code)
    }
    fn Resume(&self) -> Result<()> {
        self.job.resume().map_err(err).and_then(code)
    }
    fn Cancel(&self) -> Result<()> {
        self.job.cancel().map_err(err).and_then(code)
    }
    fn Complete(&self) -> Result<()> {
        self.job.complete().map_err(err).and_then(code)
    }
    fn GetId(&self) -> Result<GUID> {
        self.job.get_id().map(job_guid).map_err(err)
    }
    fn GetType(&self) -> Result<BG_JOB_TYPE> {
        self.job
            .get_type()
            .map(|t| BG_JOB_TYPE(t.value() as i32))
            .map_err(err)
    }
    fn GetProgress(&self, pval: *mut BG_JOB_PROGRESS) -> Result<()> {
        if pval.is_null() {
            return Err(hr(E_INVALIDARG));
        }
        self.at.poll(&self.job);
        let p = self.job.get_progress().map_err(err)?;
        // SAFETY: checked non-null; the caller passes a BG_JOB_PROGRESS to fill.
        unsafe {
            pval.write(BG_JOB_PROGRESS {
                BytesTotal: p.bytes_total,
                BytesTransferred: p.bytes_transferred,
                FilesTotal: p.files_total,
                FilesTransferred: p.files_transferred,
            })
        };
        Ok(())
    }
    fn GetTimes(&self, pval: *mut BG_JOB_TIMES) -> Result<()> {
        if pval.is_null() {
            return Err(hr(E_INVALIDARG));
        }
        let t = self.job.get_times().map_err(err)?;
        // SAFETY: checked non-null; the caller passes a BG_JOB_TIMES to fill.
        unsafe {
            pval.write(BG_JOB_TIMES {
                CreationTime: filetime(Some(t.creation_time)),
                ModificationTime: filetime(Some(t.modification_time)),
                TransferCompletionTime: filetime(t.transfer_completion_time),
            })
        };
        Ok(())
    }
    fn GetState(&self) -> Result<BG_JOB_STATE> {
        self.at.poll(&self.job);
        self.job
            .get_state()
            .map(|s| BG_JOB_STATE(s.value() as i32))
            .map_err(err)
    }
    fn GetError(&self) -> Result<IBackgroundCopyError> {
        let e = self.job.get_error().map_err(err)?;
        Ok(CopyError {
            at: self.at.clone(),
            e,
        }
        .into())
    }
    fn GetOwner(&self) -> Result<PWSTR> {
        self.job.get_owner().map(|s| alloc_string(&s)).map_err(err)
    }
    fn SetDisplayName(&self, val: &PCWSTR) -> Result<()> {
        self.job.set_display_name(&string(val)?).map_err(err)
    }
    fn GetDisplayName(&self) -> Result<PWSTR> {
        self.job
            .get_display_name()
            .map(|s| alloc_string(&s))
            .map_err(err)
    }
    fn SetDescription(&self, val: &PCWSTR) -> Result<()> {
        self.job.set_description(&string(val)?).map_err(err)
    }
    fn GetDescription(&self) -> Result<PWSTR> {
        self.job
            .get_description()
            .map(|s| alloc_string(&s))
            .map_err(err)
    }
    fn SetPriority(&self, val: BG_JOB_PRIORITY) -> Result<()> {
        self.job.set_priority_raw(val.0 as u32).map_err(err)
    }
    fn GetPriority(&self) -> Result<BG_JOB_PRIORITY> {
        self.job
            .get_priority()
            .map(|p| BG_JOB_PRIORITY(p.value() as i32))
            .map_err(err)
    }
    fn SetNotifyFlags(&self, val: u32) -> Result<()> {
        self.job.set_notify_flags_raw(val).map_err(err)
    }
    fn GetNotifyFlags(&self) -> Result<u32> {
        self.job.get_notify_flags().map(|f| f.bits()).map_err(err)
    }
    fn SetNotifyInterface(&self, val: Ref<'_, crate::core::IUnknown>) -> Result<()> {
        match val.as_ref() {
            None => {
                self.job.clear_notify_interface().map_err(err)?;
                self.at.callbacks.borrow_mut().remove(&self.job.id());
                Ok(())
            }
            Some(unknown) => {
                let cb: IBackgroundCopyCallback = unknown.cast().map_err(|_| hr(E_NOINTERFACE))?;
                // D60: the newest callback interface the object answers QueryInterface for.
                let cb2: Option<IBackgroundCopyCallback2> = unknown.cast().ok();
                let cb3: Option<IBackgroundCopyCallback3> = unknown.cast().ok();
                self.job
                    .set_notify_interface(ComCallback {
                        at: self.at.clone(),
                        cb,
                        cb2,
                        cb3,
                    })
                    .map_err(err)?;
                self.at
                    .callbacks
                    .borrow_mut()
                    .insert(self.job.id(), unknown.clone());
                Ok(())
            }
        }
    }
    fn GetNotifyInterface(&self) -> Result<crate::core::IUnknown> {
        if self.job.get_notify_interface().map_err(err)? {
            if let Some(u) = self.at.callbacks.borrow().get(&self.job.id()) {
                return Ok(u.clone());
            }
        }
        // No registration (or one made through another application): S_OK with NULL.
        Err(crate::core::Error::empty())
    }
    fn SetMinimumRetryDelay(&self, seconds: u32) -> Result<()> {
        self.job.set_minimum_retry_delay(seconds).map_err(err)
    }
    fn GetMinimumRetryDelay(&self) -> Result<u32> {
        self.job.get_minimum_retry_delay().map_err(err)
    }
    fn SetNoProgressTimeout(&self, seconds: u32) -> Result<()> {
        self.job.set_no_progress_timeout(seconds).map_err(err)
    }
    fn GetNoProgressTimeout(&self) -> Result<u32> {
        self.job.get_no_progress_timeout().map_err(err)
    }
    fn GetErrorCount(&self) -> Result<u32> {
        self.job.get_error_count().map_err(err)
    }
    fn SetProxySettings(
        &self,
        proxyusage: BG_JOB_PROXY_USAGE,
        proxylist: &PCWSTR,
        proxybypasslist: &PCWSTR,
    ) -> Result<()> {
        let list = opt_string(proxylist)?;
        let bypass = opt_string(proxybypasslist)?;
        self.job
            .set_proxy_settings((proxyusage.0 as u32, list.as_deref(), bypass.as_deref()))
            .map_err(err)
    }
    fn GetProxySettings(
        &self,
        pproxyusage: *mut BG_JOB_PROXY_USAGE,
        pproxylist: *mut PWSTR,
        pproxybypasslist: *mut PWSTR,
    ) -> Result<()> {
        if pproxyusage.is_null() || pproxylist.is_null() || pproxybypasslist.is_null() {
            return Err(hr(E_INVALIDARG));
        }
        let p = self.job.get_proxy_settings().map_err(err)?;
        let s = |o: &Option<String>| o.as_deref().map_or(PWSTR::null(), alloc_string);
        // SAFETY: checked non-null; the caller passes the three out-parameters.
        unsafe {
            pproxyusage.write(BG_JOB_PROXY_USAGE(p.usage as i32));
            pproxylist.write(s(&p.proxy_list));
            pproxybypasslist.write(s(&p.bypass_list));
        }
        Ok(())
    }
    fn TakeOwnership(&self) -> Result<()> {
        self.job.take_ownership().map_err(err)
    }
}

impl IBackgroundCopyJob2_Impl for Job_Impl {
    fn SetNotifyCmdLine(&self, program: &PCWSTR, parameters: &PCWSTR) -> Result<()> {
        // NULL is meaningful for both (both NULL removes the command line, D49).
        let program = opt_string(program)?;
        let parameters = opt_string(parameters)?;
        self.job
            .set_notify_cmd_line((program.as_deref(), parameters.as_deref()))
            .map_err(err)
    }
    fn GetNotifyCmdLine(&self, pprogram: *mut PWSTR, pparameters: *mut PWSTR) -> Result<()> {
        if pprogram.is_null() || pparameters.is_null() {
            return Err(hr(E_INVALIDARG));
        }
        let (program, parameters) = self.job.get_notify_cmd_line().map_err(err)?;
        // SAFETY: checked non-null; the caller passes the two out-parameters.
        unsafe {
            pprogram.write(alloc_string(&program));
            pparameters.write(alloc_string(&parameters));
        }
        Ok(())
    }
    fn GetReplyProgress(&self, pprogress: *mut BG_JOB_REPLY_PROGRESS) -> Result<()> {
        if pprogress.is_null() {
            return Err(hr(E_INVALIDARG));
        }
        let p = self.job.get_reply_progress().map_err(err)?;
        // SAFETY: checked non-null; the caller passes the out-parameter.
        unsafe {
            pprogress.write(BG_JOB_REPLY_PROGRESS {
                BytesTotal: p.bytes_total,
                BytesTransferred: p.bytes_transferred,
            });
        }
        Ok(())
    }
    fn GetReplyData(&self, ppbuffer: *mut *mut u8, plength: *mut u64) -> Result<()> {
        if ppbuffer.is_null() || plength.is_null() {
            return Err(hr(E_INVALIDARG));
        }
        // §2.3, D66: an empty reply is a NULL buffer; over 1 MB, BG_E_TOO_LARGE with the length.
        let (buffer, length, result) = match self.job.get_reply_data().map_err(err)? {
            bitsim::ReplyData::Data(bytes) if bytes.is_empty() => (std::ptr::null_mut(), 0, Ok(())),
            bitsim::ReplyData::Data(bytes) => {
                (crate::com::alloc_bytes(&bytes), bytes.len() as u64, Ok(()))
            }
            bitsim::ReplyData::TooLarge(n) => {
                (std::ptr::null_mut(), n, Err(err(HResult::BG_E_TOO_LARGE)))
            }
        };
        // SAFETY: checked non-null; the caller passes the two out-parameters.
        unsafe {
            ppbuffer.write(buffer);
            plength.write(length);
        }
        result
    }
    fn SetReplyFileName(&self, name: &PCWSTR) -> Result<()> {
        // NULL or "" lets BITS generate the name (D72).
        let name = opt_string(name)?;
        self.job.set_reply_file_name(name.as_deref()).map_err(err)
    }
    fn GetReplyFileName(&self) -> Result<PWSTR> {
        let name = self.job.get_reply_file_name().map_err(err)?;
        Ok(name.as_deref().map_or(PWSTR::null(), alloc_string))
    }
    fn SetCredentials(&self, credentials: *const BG_AUTH_CREDENTIALS) -> Result<()> {
        if credentials.is_null() {
            return Err(hr(E_INVALIDARG));
        }
        // SAFETY: checked non-null; the caller passes a BG_AUTH_CREDENTIALS whose union holds
        // its only member, Basic (user name and password, each possibly NULL).
        let (c, basic) = unsafe { (&*credentials, (*credentials).Credentials.Basic) };
        let user = opt_string(&PCWSTR(basic.UserName.0))?;
        let password = opt_string(&PCWSTR(basic.Password.0))?;
        self.job
            .set_credentials(&bitsim::Credentials {
                target: c.Target.0 as u32,
                scheme: c.Scheme.0 as u32,
                user,
                password,
            })
            .map_err(err)
    }
    fn RemoveCredentials(&self, target: BG_AUTH_TARGET, scheme: BG_AUTH_SCHEME) -> Result<()> {
        self.job
            .remove_credentials(target.0 as u32, scheme.0 as u32)
            .map_err(err)
            .and_then(code)
    }
}

impl IBackgroundCopyJob3_Impl for Job_Impl {
    fn ReplaceRemotePrefix(&self, oldprefix: &PCWSTR, newprefix: &PCWSTR) -> Result<()> {
        self.job
            .replace_remote_prefix(&string(oldprefix)?, &string(newprefix)?)
            .map_err(err)
            .and_then(code)
    }
    fn AddFileWithRanges(
        &self,
        remoteurl: &PCWSTR,
        localname: &PCWSTR,
        rangecount: u32,
        ranges: *const BG_FILE_RANGE,
    ) -> Result<()> {
        let list = read_ranges(rangecount, ranges)?;
        self.job
            .add_file_with_ranges(&string(remoteurl)?, &string(localname)?, &list)
            .map_err(err)
    }
    fn SetFileACLFlags(&self, flags: u32) -> Result<()> {
        self.job.set_file_acl_flags(flags).map_err(err)
    }
    fn GetFileACLFlags(&self) -> Result<u32> {
        self.job.get_file_acl_flags().map_err(err)
    }
}

impl IBackgroundCopyJob4_Impl for Job_Impl {
    fn SetPeerCachingFlags(&self, flags: u32) -> Result<()> {
        self.job.set_peer_caching_flags(flags).map_err(err)
    }
    fn GetPeerCachingFlags(&self) -> Result<u32> {
        self.job.get_peer_caching_flags().map_err(err)
    }
    fn GetOwnerIntegrityLevel(&self) -> Result<u32> {
        self.job.get_owner_integrity_level().map_err(err)
    }
    fn GetOwnerElevationState(&self) -> Result<BOOL> {
        self.job
            .get_owner_elevation_state()
            .map(BOOL::from)
            .map_err(err)
    }
    fn SetMaximumDownloadTime(&self, seconds: u32) -> Result<()> {
        self.job.set_maximum_download_time(seconds).map_err(err)
    }
    fn GetMaximumDownloadTime(&self) -> Result<u32> {
        self.job.get_maximum_download_time().map_err(err)
    }
}

impl IBackgroundCopyJob5_Impl for Job_Impl {
    fn SetProperty(
        &self,
        propertyid: BITS_JOB_PROPERTY_ID,
        propertyvalue: &BITS_JOB_PROPERTY_VALUE,
    ) -> Result<()> {
        let id = propertyid.0 as u32;
        // SAFETY: each id reads the union member bits5_0.h gives it; an unknown id reads nothing.
        let raw: u128 = unsafe {
            match JobPropertyMember::of(id) {
                Some(JobPropertyMember::Dword) => u128::from(propertyvalue.Dword),
                Some(JobPropertyMember::ClsId) => propertyvalue.ClsID.to_u128(),
                // Any nonzero BOOL is TRUE.
                Some(JobPropertyMember::Enable) => u128::from(propertyvalue.Enable.as_bool()),
                Some(JobPropertyMember::Uint64) => u128::from(propertyvalue.Uint64),
                Some(JobPropertyMember::Target) => u128::from(propertyvalue.Target.0 as u32),
                None => return Err(err(HResult::BG_E_UNKNOWN_PROPERTY_ID)),
            }
        };
        self.job.set_property_raw(id, raw).map_err(err)
    }
    fn GetProperty(&self, propertyid: BITS_JOB_PROPERTY_ID) -> Result<BITS_JOB_PROPERTY_VALUE> {
        let id = propertyid.0 as u32;
        let raw = self.job.get_property_raw(id).map_err(err)?;
        let mut v = BITS_JOB_PROPERTY_VALUE::default();
        match JobPropertyMember::of(id) {
            Some(JobPropertyMember::Dword) => v.Dword = raw as u32,
            Some(JobPropertyMember::ClsId) => v.ClsID = GUID::from_u128(raw),
            Some(JobPropertyMember::Enable) => v.Enable = BOOL::from(raw != 0),
            Some(JobPropertyMember::Uint64) => v.Uint64 = raw as u64,
            Some(JobPropertyMember::Target) => v.Target = BG_AUTH_TARGET(raw as i32),
            None => return Err(err(HResult::BG_E_UNKNOWN_PROPERTY_ID)),
        }
        Ok(v)
    }
}

/// The BITS_JOB_PROPERTY_VALUE member each BITS_JOB_PROPERTY_ID uses (`bits5_0.h`).
enum JobPropertyMember {
    Dword,
    ClsId,
    Enable,
    Uint64,
    Target,
}

impl JobPropertyMember {
    fn of(id: u32) -> Option<JobPropertyMember> {
        Some(match id {
            // COST_FLAGS, MINIMUM_NOTIFICATION_INTERVAL_MS
            1 | 9 => JobPropertyMember::Dword,
            // NOTIFICATION_CLSID
            2 => JobPropertyMember::ClsId,
            // DYNAMIC_CONTENT, HIGH_PERFORMANCE, ON_DEMAND_MODE
            3 | 4 | 10 => JobPropertyMember::Enable,
            // MAX_DOWNLOAD_SIZE
            5 => JobPropertyMember::Uint64,
            // USE_STORED_CREDENTIALS
            7 => JobPropertyMember::Target,
            _ => return None,
        })
    }
}

/// The 40 lowercase hex digits of a 20-byte SHA-1 hash, and back.
fn sha1_hex(hash: &[u8]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha1_bytes(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 40 || !hex.is_ascii() {
        return None;
    }
    (0..20)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect()
}

impl IBackgroundCopyJobHttpOptions_Impl for Job_Impl {
    fn SetClientCertificateByID(
        &self,
        storelocation: BG_CERT_STORE_LOCATION,
        storename: &PCWSTR,
        pcerthashblob: *const u8,
    ) -> Result<()> {
        let store = string(storename)?;
        if pcerthashblob.is_null() {
            return Err(hr(E_INVALIDARG));
        }
        // SAFETY: checked non-null; the caller passes the 20-byte SHA-1 hash.
        let hash = unsafe { std::slice::from_raw_parts(pcerthashblob, 20) };
        let hex = sha1_hex(hash);
        self.job
            .set_client_certificate(
                storelocation.0 as u32,
                &store,
                bitsim::CertificateBy::Sha1(&hex),
            )
            .map_err(err)
    }
    fn SetClientCertificateByName(
        &self,
        storelocation: BG_CERT_STORE_LOCATION,
        storename: &PCWSTR,
        subjectname: &PCWSTR,
    ) -> Result<()> {
        let store = string(storename)?;
        let subject = string(subjectname)?;
        self.job
            .set_client_certificate(
                storelocation.0 as u32,
                &store,
                bitsim::CertificateBy::Subject(&subject),
            )
            .map_err(err)
    }
    fn RemoveClientCertificate(&self) -> Result<()> {
        self.job
            .remove_client_certificate()
            .map_err(err)
            .and_then(code)
    }
    fn GetClientCertificate(
        &self,
        pstorelocation: *mut BG_CERT_STORE_LOCATION,
        pstorename: *mut PWSTR,
        ppcerthashblob: *mut *mut u8,
        psubjectname: *mut PWSTR,
    ) -> Result<()> {
        if pstorelocation.is_null()
            || pstorename.is_null()
            || ppcerthashblob.is_null()
            || psubjectname.is_null()
        {
            // The GetClientCertificate page names RPC_X_NULL_REF_POINTER for a NULL parameter.
            return Err(hr(HRESULT(HResult::RPC_X_NULL_REF_POINTER.as_i32())));
        }
        let c = self.job.get_client_certificate().map_err(err)?;
        let hash = sha1_bytes(&c.sha1).unwrap_or_else(|| vec![0; 20]);
        // SAFETY: checked non-null; the caller passes the four out-parameters.
        unsafe {
            pstorelocation.write(BG_CERT_STORE_LOCATION(c.location as i32));
            pstorename.write(alloc_string(&c.store));
            ppcerthashblob.write(alloc_bytes(&hash));
            psubjectname.write(alloc_string(&c.subject));
        }
        Ok(())
    }
    fn SetCustomHeaders(&self, requestheaders: &PCWSTR) -> Result<()> {
        // NULL (or an empty string) removes the headers; the core decides what empty means.
        let h = opt_string(requestheaders)?;
        self.job.set_custom_headers(h.as_deref()).map_err(err)
    }
    fn GetCustomHeaders(&self) -> Result<PWSTR> {
        match self.job.get_custom_headers().map_err(err)? {
            Some(h) => Ok(alloc_string(&h)),
            // No headers: S_FALSE with NULL (the caller's out-parameter stays NULL).
            None => Err(hr(S_FALSE)),
        }
    }
    fn SetSecurityFlags(&self, flags: u32) -> Result<()> {
        self.job.set_security_flags(flags).map_err(err)
    }
    fn GetSecurityFlags(&self) -> Result<u32> {
        self.job.get_security_flags().map_err(err)
    }
}

impl IBackgroundCopyJobHttpOptions2_Impl for Job_Impl {
    fn SetHttpMethod(&self, method: &PCWSTR) -> Result<()> {
        self.job.set_http_method(&string(method)?).map_err(err)
    }
    fn GetHttpMethod(&self) -> Result<PWSTR> {
        self.job
            .get_http_method()
            .map(|s| alloc_string(&s))
            .map_err(err)
    }
}

impl IBackgroundCopyJobHttpOptions3_Impl for Job_Impl {
    fn SetServerCertificateValidationInterface(
        &self,
        _: Ref<'_, crate::core::IUnknown>,
    ) -> Result<()> {
        notimpl()
    }
    fn MakeCustomHeadersWriteOnly(&self) -> Result<()> {
        self.job.make_custom_headers_write_only().map_err(err)
    }
}

// ------------------------------------------------------------------ files

#[implement(IBackgroundCopyFile6)]
struct File {
    file: bitsim::File,
}

fn file_object(_: &Rc<Attached>, file: bitsim::File) -> IBackgroundCopyFile {
    let f: IBackgroundCopyFile6 = File { file }.into();
    f.into()
}

impl IBackgroundCopyFile_Impl for File_Impl {
    fn GetRemoteName(&self) -> Result<PWSTR> {
        self.file
            .get_remote_name()
            .map(|s| alloc_string(&s))
            .map_err(err)
    }
    fn GetLocalName(&self) -> Result<PWSTR> {
        self.file
            .get_local_name()
            .map(|s| alloc_string(&s))
            .map_err(err)
    }
    fn GetProgress(&self, pval: *mut BG_FILE_PROGRESS) -> Result<()> {
        if pval.is_null() {
            return Err(hr(E_INVALIDARG));
        }
        let p = self.file.get_progress().map_err(err)?;
        // SAFETY: checked non-null; the caller passes a BG_FILE_PROGRESS to fill.
        unsafe {
            pval.write(BG_FILE_PROGRESS {
                BytesTotal: p.bytes_total,
                BytesTransferred: p.bytes_transferred,
                Completed: BOOL::from(p.completed),
            })
        };
        Ok(())
    }
}

impl IBackgroundCopyFile2_Impl for File_Impl {
    fn GetFileRanges(&self, rangecount: *mut u32, ranges: *mut *mut BG_FILE_RANGE) -> Result<()> {
        if rangecount.is_null() || ranges.is_null() {
            return Err(hr(E_INVALIDARG));
        }
        let list = self.file.get_file_ranges().map_err(err)?;
        write_ranges(&list, rangecount, ranges);
        if list.is_empty() {
            // None: RangeCount 0, Ranges NULL, S_FALSE (SDK GetFileRanges page).
            return Err(hr(S_FALSE));
        }
        Ok(())
    }
    fn SetRemoteName(&self, val: &PCWSTR) -> Result<()> {
        self.file.set_remote_name(&string(val)?).map_err(err)
    }
}

impl IBackgroundCopyFile3_Impl for File_Impl {
    fn GetTemporaryName(&self) -> Result<PWSTR> {
        self.file
            .get_temporary_name()
            .map(|s| alloc_string(&s))
            .map_err(err)
    }
    fn SetValidationState(&self, state: BOOL) -> Result<()> {
        self.file.set_validation_state(state.as_bool()).map_err(err)
    }
    fn GetValidationState(&self) -> Result<BOOL> {
        self.file
            .get_validation_state()
            .map(BOOL::from)
            .map_err(err)
    }
    fn IsDownloadedFromPeer(&self) -> Result<BOOL> {
        self.file
            .is_downloaded_from_peer()
            .map(BOOL::from)
            .map_err(err)
    }
}

impl IBackgroundCopyFile4_Impl for File_Impl {
    fn GetPeerDownloadStats(&self, _: *mut u64, _: *mut u64) -> Result<()> {
        notimpl()
    }
}

impl IBackgroundCopyFile5_Impl for File_Impl {
    fn SetProperty(
        &self,
        propertyid: BITS_FILE_PROPERTY_ID,
        value: &BITS_FILE_PROPERTY_VALUE,
    ) -> Result<()> {
        let id = propertyid.0 as u32;
        if propertyid != BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS {
            // The union is not read for an id the core refuses (BG_E_UNKNOWN_PROPERTY_ID, D64).
            return self.file.set_property(id, "").map_err(err);
        }
        // SAFETY: HTTP_RESPONSE_HEADERS uses the union's String member (`bits5_0.h`).
        let text = string(&PCWSTR(unsafe { value.String }.0))?;
        self.file.set_property(id, &text).map_err(err)
    }
    fn GetProperty(&self, propertyid: BITS_FILE_PROPERTY_ID) -> Result<BITS_FILE_PROPERTY_VALUE> {
        let text = self.file.get_property(propertyid.0 as u32).map_err(err)?;
        Ok(BITS_FILE_PROPERTY_VALUE {
            String: alloc_string(&text),
        })
    }
}

impl IBackgroundCopyFile6_Impl for File_Impl {
    fn UpdateDownloadPosition(&self, offset: u64) -> Result<()> {
        self.file.update_download_position(offset).map_err(err)
    }
    fn RequestFileRanges(&self, rangecount: u32, ranges: *const BG_FILE_RANGE) -> Result<()> {
        let list = read_ranges(rangecount, ranges)?;
        self.file.request_file_ranges(&list).map_err(err)
    }
    fn GetFilledFileRanges(
        &self,
        rangecount: *mut u32,
        ranges: *mut *mut BG_FILE_RANGE,
    ) -> Result<()> {
        if rangecount.is_null() || ranges.is_null() {
            return Err(hr(E_INVALIDARG));
        }
        let list = self.file.get_filled_file_ranges().map_err(err)?;
        write_ranges(&list, rangecount, ranges);
        Ok(())
    }
}

// ------------------------------------------------------------------ error objects

#[implement(IBackgroundCopyError)]
struct CopyError {
    at: Rc<Attached>,
    e: bitsim::CopyError,
}

impl IBackgroundCopyError_Impl for CopyError_Impl {
    fn GetError(&self, pcontext: *mut BG_ERROR_CONTEXT, pcode: *mut HRESULT) -> Result<()> {
        if pcontext.is_null() || pcode.is_null() {
            return Err(hr(E_INVALIDARG));
        }
        let (context, code) = self.e.get_error().map_err(err)?;
        // SAFETY: checked non-null; the caller passes both out-parameters.
        unsafe {
            pcontext.write(BG_ERROR_CONTEXT(context.value() as i32));
            pcode.write(HRESULT(code.code() as i32));
        }
        Ok(())
    }
    fn GetFile(&self) -> Result<IBackgroundCopyFile> {
        let f = self.e.get_file().map_err(err)?;
        Ok(file_object(&self.at, f))
    }
    fn GetErrorDescription(&self, languageid: u32) -> Result<PWSTR> {
        self.e
            .get_error_description(languageid)
            .map(|s| alloc_string(&s))
            .map_err(err)
    }
    fn GetErrorContextDescription(&self, languageid: u32) -> Result<PWSTR> {
        self.e
            .get_error_context_description(languageid)
            .map(|s| alloc_string(&s))
            .map_err(err)
    }
    fn GetProtocol(&self) -> Result<PWSTR> {
        self.e.get_protocol().map(alloc_string).map_err(err)
    }
}

// ------------------------------------------------------------------ enumerators

#[implement(IEnumBackgroundCopyJobs)]
struct JobEnum {
    at: Rc<Attached>,
    e: RefCell<bitsim::JobEnum>,
}

/// Next's argument rules (D46): rgelt must not be NULL (E_POINTER), pceltFetched may be NULL only for
/// celt 1 (E_INVALIDARG, from bitsim).
fn next_into<T, I: Interface>(
    celt: u32,
    rgelt: *mut Option<I>,
    pceltfetched: *mut u32,
    next: impl FnOnce(u32, bool) -> std::result::Result<(Vec<T>, HResult), HResult>,
    make: impl Fn(T) -> I,
) -> Result<()> {
    if rgelt.is_null() && celt > 0 {
        return Err(hr(E_POINTER));
    }
    let (items, h) = next(celt, !pceltfetched.is_null()).map_err(err)?;
    let n = items.len();
    for (i, item) in items.into_iter().enumerate() {
        // SAFETY: the caller passes room for `celt` elements and `i < n <= celt`; the slots are
        // out-parameters (not yet holding interfaces), so they are written without dropping.
        unsafe { rgelt.add(i).write(Some(make(item))) };
    }
    if !pceltfetched.is_null() {
        // SAFETY: checked non-null.
        unsafe { pceltfetched.write(n as u32) };
    }
    code(h)
}

impl IEnumBackgroundCopyJobs_Impl for JobEnum_Impl {
    fn Next(
        &self,
        celt: u32,
        rgelt: *mut Option<IBackgroundCopyJob>,
        pceltfetched: *mut u32,
    ) -> Result<()> {
        let mut e = self.e.borrow_mut();
        next_into(
            celt,
            rgelt,
            pceltfetched,
            |c, f| e.next_with(c, f),
            |j| job_object(&self.at, j),
        )
    }
    fn Skip(&self, celt: u32) -> Result<()> {
        self.e.borrow_mut().skip(celt).map_err(err).and_then(code)
    }
    fn Reset(&self) -> Result<()> {
        self.e.borrow_mut().reset().map_err(err)
    }
    fn Clone(&self) -> Result<IEnumBackgroundCopyJobs> {
        let e = self.e.borrow().clone_enum().map_err(err)?;
        Ok(JobEnum {
            at: self.at.clone(),
            e: RefCell::new(e),
        }
        .into())
    }
    fn GetCount(&self) -> Result<u32> {
        self.e.borrow().get_count().map_err(err)
    }
}

#[implement(IEnumBackgroundCopyFiles)]
struct FileEnum {
    at: Rc<Attached>,
    e: RefCell<bitsim::FileEnum>,
}

impl IEnumBackgroundCopyFiles_Impl for FileEnum_Impl {
    fn Next(
        &self,
        celt: u32,
        rgelt: *mut Option<IBackgroundCopyFile>,
        pceltfetched: *mut u32,
    ) -> Result<()> {
        let mut e = self.e.borrow_mut();
        next_into(
            celt,
            rgelt,
            pceltfetched,
            |c, f| e.next_with(c, f),
            |x| file_object(&self.at, x),
        )
    }
    fn Skip(&self, celt: u32) -> Result<()> {
        self.e.borrow_mut().skip(celt).map_err(err).and_then(code)
    }
    fn Reset(&self) -> Result<()> {
        self.e.borrow_mut().reset().map_err(err)
    }
    fn Clone(&self) -> Result<IEnumBackgroundCopyFiles> {
        let e = self.e.borrow().clone_enum().map_err(err)?;
        Ok(FileEnum {
            at: self.at.clone(),
            e: RefCell::new(e),
        }
        .into())
    }
    fn GetCount(&self) -> Result<u32> {
        self.e.borrow().get_count().map_err(err)
    }
}
