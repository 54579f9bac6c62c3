//! The COM surface against the simulator: activation, the two acceptance clients, QueryInterface,
//! E_NOTIMPL, enumerators, GUIDs, strings, and the shape of every generated interface.
//! (On Windows the examples use the real `windows` crate and BITS, so these tests are not built there.)
#![cfg(not(windows))]

use bitsim::{JobType, Remote, Response, Sim, World};
use bitsim_windows::core::*;
use bitsim_windows::Win32::Foundation::*;
use bitsim_windows::Win32::Networking::BackgroundIntelligentTransferService::*;
use bitsim_windows::Win32::System::Com::*;
use bitsim_windows::{attach, live_allocations, TimePolicy};

#[allow(dead_code)]
#[path = "../examples/callback_client.rs"]
mod callback_client;

#[allow(dead_code)]
#[path = "../examples/polling_client.rs"]
mod polling_client;

fn sim() -> Sim {
    Sim::new(
        World::new()
            .remote("https://x.test/a", Remote::sized(1000))
            .remote(
                "https://x.test/404",
                Remote::sized(10).with_responses([Response::http(404)]),
            ),
    )
}

fn manager() -> IBackgroundCopyManager {
    unsafe {
        let _ = CoInitializeEx(None, COINIT_MULTITHREADED);
        CoCreateInstance(&BackgroundCopyManager, None, CLSCTX_LOCAL_SERVER).unwrap()
    }
}

fn create(m: &IBackgroundCopyManager, name: PCWSTR) -> (GUID, IBackgroundCopyJob) {
    let mut id = GUID::zeroed();
    let mut job = None;
    unsafe {
        m.CreateJob(name, BG_JOB_TYPE_DOWNLOAD, &mut id, &mut job)
            .unwrap()
    };
    (id, job.unwrap())
}

/// Acceptance 1: the sample-style callback client runs to the end.
#[test]
fn callback_client_runs_to_the_end() {
    let sim = Sim::new(World::new().remote("https://www.rust-lang.org/", Remote::sized(18_000)));
    let app = sim.connect("sample", sim.user("alice")).unwrap();
    let _a = attach(&app);
    callback_client::client().unwrap();
    // The JobTransferred callback called Complete: the job went TRANSFERRED -> ACKNOWLEDGED, after
    // the 18,000 bytes took virtual time (1,000,000 B/s by default), and the client polled nothing
    // after that.
    let ends: Vec<(bitsim::JobState, bitsim::JobState)> = sim
        .trace()
        .iter()
        .filter_map(|e| match e.kind {
            bitsim::TraceKind::State { from, to, .. } => Some((from, to)),
            _ => None,
        })
        .collect();
    assert_eq!(
        ends.last(),
        Some(&(
            bitsim::JobState::Transferred,
            bitsim::JobState::Acknowledged
        ))
    );
    assert!(
        sim.now() >= bitsim::SimTime::from_millis(18),
        "{}",
        sim.now()
    );
    assert!(app.enum_jobs(0).unwrap().is_empty());
}

/// Acceptance 2: the polling client finds its job with EnumJobs + Next, reads the error, and frees
/// every string it was given.
#[test]
fn polling_client_runs_to_the_end_and_frees_every_string() {
    let sim = Sim::new(
        World::new()
            .remote("https://u.test/a", Remote::sized(100_000))
            .remote(
                "https://u.test/b",
                Remote::sized(10).with_responses([Response::http(503), Response::http(404)]),
            ),
    );
    let app = sim.connect("updater", sim.user("alice")).unwrap();
    let _a = attach(&app);
    let end = polling_client::client(w!("https://u.test/a"), w!("https://u.test/b")).unwrap();
    assert_eq!(end, BG_JOB_STATE_ERROR);
    assert_eq!(live_allocations(), 0);
    // The job was cancelled by the client.
    assert!(app.enum_jobs(0).unwrap().is_empty());
}

#[test]
fn co_create_instance_needs_com_a_bits_class_and_an_attachment() {
    let r: Result<IBackgroundCopyManager> =
        unsafe { CoCreateInstance(&BackgroundCopyManager, None, CLSCTX_LOCAL_SERVER) };
    assert_eq!(r.unwrap_err().code(), CO_E_NOTINITIALIZED);
    assert_eq!(unsafe { CoInitializeEx(None, COINIT_MULTITHREADED) }, S_OK);
    assert_eq!(
        unsafe { CoInitializeEx(None, COINIT_MULTITHREADED) },
        S_FALSE
    );
    assert_eq!(
        unsafe { CoInitializeEx(None, COINIT_APARTMENTTHREADED) },
        RPC_E_CHANGED_MODE
    );
    let r: Result<IBackgroundCopyManager> =
        unsafe { CoCreateInstance(&BackgroundCopyManager, None, CLSCTX_LOCAL_SERVER) };
    assert_eq!(r.unwrap_err().code(), REGDB_E_CLASSNOTREG);
    let sim = sim();
    let app = sim.connect("app", sim.user("alice")).unwrap();
    {
        let _a = attach(&app);
        let other: Result<IBackgroundCopyManager> =
            unsafe { CoCreateInstance(&GUID::from_u128(1), None, CLSCTX_LOCAL_SERVER) };
        assert_eq!(other.unwrap_err().code(), REGDB_E_CLASSNOTREG);
        let inproc: Result<IBackgroundCopyManager> =
            unsafe { CoCreateInstance(&BackgroundCopyManager, None, CLSCTX_INPROC_SERVER) };
        assert_eq!(inproc.unwrap_err().code(), REGDB_E_CLASSNOTREG);
        let v10: Result<IBackgroundCopyManager> =
            unsafe { CoCreateInstance(&BackgroundCopyManager10_3, None, CLSCTX_LOCAL_SERVER) };
        assert!(v10.is_ok());
        let not_a_manager: Result<IBackgroundCopyJob> =
            unsafe { CoCreateInstance(&BackgroundCopyManager, None, CLSCTX_LOCAL_SERVER) };
        assert_eq!(not_a_manager.unwrap_err().code(), E_NOINTERFACE);
    }
    let after: Result<IBackgroundCopyManager> =
        unsafe { CoCreateInstance(&BackgroundCopyManager, None, CLSCTX_LOCAL_SERVER) };
    assert_eq!(after.unwrap_err().code(), REGDB_E_CLASSNOTREG);
    unsafe { CoUninitialize() };
    unsafe { CoUninitialize() };
}

#[test]
fn job_guids_map_one_to_one_and_survive_restart() {
    let sim = sim();
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let _a = attach(&app);
    let m = manager();
    let (id1, j1) = create(&m, w!("one"));
    let (id2, _) = create(&m, w!("two"));
    assert_ne!(id1, id2);
    assert_eq!(unsafe { j1.GetId() }.unwrap(), id1);
    let again = unsafe { m.GetJob(&id1) }.unwrap();
    let name = unsafe { again.GetDisplayName() }.unwrap();
    assert_eq!(unsafe { name.to_string() }.unwrap(), "one");
    unsafe { CoTaskMemFree(Some(name.0 as _)) };
    let unknown = unsafe { m.GetJob(&GUID::from_u128(0x1234)) };
    assert_eq!(unknown.unwrap_err().code().0, BG_E_NOT_FOUND);
    sim.restart_service();
    // Old objects are disconnected (D15); a new manager finds the job by the same GUID.
    assert_eq!(
        unsafe { j1.GetState() }.unwrap_err().code(),
        RPC_E_DISCONNECTED
    );
    let m2 = manager();
    let j = unsafe { m2.GetJob(&id1) }.unwrap();
    assert_eq!(unsafe { j.GetId() }.unwrap(), id1);
    assert_eq!(live_allocations(), 0);
}

#[test]
fn query_interface_covers_job1_to_5_and_http_options_1_to_3() {
    let sim = sim();
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let _a = attach(&app);
    let (_, job) = create(&manager(), w!("j"));
    assert!(job.cast::<IBackgroundCopyJob2>().is_ok());
    assert!(job.cast::<IBackgroundCopyJob3>().is_ok());
    assert!(job.cast::<IBackgroundCopyJob4>().is_ok());
    let j5 = job.cast::<IBackgroundCopyJob5>().unwrap();
    assert!(job.cast::<IBackgroundCopyJobHttpOptions>().is_ok());
    assert!(job.cast::<IBackgroundCopyJobHttpOptions2>().is_ok());
    let h3 = job.cast::<IBackgroundCopyJobHttpOptions3>().unwrap();
    assert_eq!(
        job.cast::<IBitsTokenOptions>().unwrap_err().code(),
        E_NOINTERFACE
    );
    assert_eq!(
        job.cast::<IBackgroundCopyFile>().unwrap_err().code(),
        E_NOINTERFACE
    );
    // Job2's command line (D49): "" and "" before any call, a round trip, NULL parameters read
    // back as "", a NULL program with parameters refused, NULL and NULL remove it.
    let j2 = job.cast::<IBackgroundCopyJob2>().unwrap();
    let cmd_line = || unsafe {
        let (mut p, mut q) = (PWSTR::null(), PWSTR::null());
        j2.GetNotifyCmdLine(&mut p, &mut q).unwrap();
        let got = (p.to_string().unwrap(), q.to_string().unwrap());
        CoTaskMemFree(Some(p.0 as _));
        CoTaskMemFree(Some(q.0 as _));
        got
    };
    assert_eq!(cmd_line(), (String::new(), String::new()));
    unsafe { j2.SetNotifyCmdLine(w!("C:\\bin\\a.exe"), w!("a.exe /j 1")) }.unwrap();
    assert_eq!(
        cmd_line(),
        ("C:\\bin\\a.exe".to_string(), "a.exe /j 1".to_string())
    );
    unsafe { j2.SetNotifyCmdLine(w!("C:\\bin\\b.exe"), PCWSTR::null()) }.unwrap();
    assert_eq!(cmd_line(), ("C:\\bin\\b.exe".to_string(), String::new()));
    assert_eq!(
        unsafe { j2.SetNotifyCmdLine(PCWSTR::null(), w!("a.exe")) }
            .unwrap_err()
            .code(),
        E_INVALIDARG
    );
    unsafe { j2.SetNotifyCmdLine(PCWSTR::null(), PCWSTR::null()) }.unwrap();
    assert_eq!(cmd_line(), (String::new(), String::new()));
    assert_eq!(
        unsafe { j2.GetNotifyCmdLine(std::ptr::null_mut(), std::ptr::null_mut()) }
            .unwrap_err()
            .code(),
        E_INVALIDARG
    );
    // Wired, but a download job has no reply (§2.3): E_NOTIMPL from the core.
    assert_eq!(
        unsafe { j2.GetReplyFileName() }.unwrap_err().code(),
        E_NOTIMPL
    );
    // Not modelled yet: E_NOTIMPL.
    assert_eq!(
        unsafe { h3.SetServerCertificateValidationInterface(None) }
            .unwrap_err()
            .code(),
        E_NOTIMPL
    );
    // Wired: answered by the core.
    assert_eq!(
        unsafe { j5.GetProperty(BITS_JOB_PROPERTY_ID_COST_FLAGS) }
            .map(|v| unsafe { v.Dword })
            .ok(),
        Some(app.enum_jobs(0).unwrap()[0].get_cost_flags().unwrap())
    );
    unsafe { h3.MakeCustomHeadersWriteOnly() }.unwrap();
}

fn hresult(h: bitsim::HResult) -> HRESULT {
    HRESULT(h.code() as i32)
}

/// Job4 and Job5 through COM: values round-trip, read-only-after-resume and unknown ids fail with
/// the BITS codes, and GetProperty agrees with the facade.
#[test]
fn job4_and_job5_properties_round_trip_through_com() {
    let sim = sim();
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let _a = attach(&app);
    let (_, job) = create(&manager(), w!("j"));
    let facade = app.enum_jobs(0).unwrap().remove(0);
    let j4 = job.cast::<IBackgroundCopyJob4>().unwrap();
    let j5 = job.cast::<IBackgroundCopyJob5>().unwrap();
    unsafe {
        j4.SetMaximumDownloadTime(3600).unwrap();
        assert_eq!(j4.GetMaximumDownloadTime().unwrap(), 3600);
        assert_eq!(facade.get_maximum_download_time().unwrap(), 3600);
        j4.SetPeerCachingFlags(BG_JOB_ENABLE_PEERCACHING_CLIENT)
            .unwrap();
        assert_eq!(
            j4.GetPeerCachingFlags().unwrap(),
            BG_JOB_ENABLE_PEERCACHING_CLIENT
        );
        assert_eq!(
            j4.SetPeerCachingFlags(0x100).unwrap_err().code(),
            E_INVALIDARG
        );
        assert_eq!(
            j4.GetOwnerIntegrityLevel().unwrap(),
            facade.get_owner_integrity_level().unwrap()
        );
        assert_eq!(
            j4.GetOwnerElevationState().unwrap().as_bool(),
            facade.get_owner_elevation_state().unwrap()
        );
        let j3 = job.cast::<IBackgroundCopyJob3>().unwrap();
        j3.SetFileACLFlags(BG_COPY_FILE_OWNER | BG_COPY_FILE_DACL)
            .unwrap();
        assert_eq!(
            j3.GetFileACLFlags().unwrap(),
            BG_COPY_FILE_OWNER | BG_COPY_FILE_DACL
        );

        // Job5: each member by its id.
        let mut v = BITS_JOB_PROPERTY_VALUE::default();
        v.Dword = 0x2;
        j5.SetProperty(BITS_JOB_PROPERTY_ID_COST_FLAGS, v).unwrap();
        assert_eq!(
            j5.GetProperty(BITS_JOB_PROPERTY_ID_COST_FLAGS)
                .unwrap()
                .Dword,
            0x2
        );
        assert_eq!(facade.get_cost_flags().unwrap(), 0x2);
        let clsid = GUID::from_u128(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        let mut v = BITS_JOB_PROPERTY_VALUE::default();
        v.ClsID = clsid;
        j5.SetProperty(BITS_JOB_PROPERTY_NOTIFICATION_CLSID, v)
            .unwrap();
        assert_eq!(
            j5.GetProperty(BITS_JOB_PROPERTY_NOTIFICATION_CLSID)
                .unwrap()
                .ClsID,
            clsid
        );
        assert_eq!(facade.get_notification_clsid().unwrap(), clsid.to_u128());
        let mut v = BITS_JOB_PROPERTY_VALUE::default();
        v.Enable = BOOL(1);
        j5.SetProperty(BITS_JOB_PROPERTY_HIGH_PERFORMANCE, v)
            .unwrap();
        assert!(j5
            .GetProperty(BITS_JOB_PROPERTY_HIGH_PERFORMANCE)
            .unwrap()
            .Enable
            .as_bool());
        let mut v = BITS_JOB_PROPERTY_VALUE::default();
        v.Uint64 = 5_000_000_000;
        j5.SetProperty(BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE, v)
            .unwrap();
        assert_eq!(
            j5.GetProperty(BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE)
                .unwrap()
                .Uint64,
            5_000_000_000
        );
        let mut v = BITS_JOB_PROPERTY_VALUE::default();
        v.Target = BG_AUTH_TARGET_PROXY;
        j5.SetProperty(BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS, v)
            .unwrap();
        assert_eq!(
            j5.GetProperty(BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS)
                .unwrap()
                .Target,
            BG_AUTH_TARGET_PROXY
        );
        // Unknown ids, both ways.
        assert_eq!(
            j5.GetProperty(BITS_JOB_PROPERTY_ID(6))
                .err()
                .map(|e| e.code()),
            Some(hresult(bitsim::HResult::BG_E_UNKNOWN_PROPERTY_ID))
        );
        assert_eq!(
            j5.SetProperty(BITS_JOB_PROPERTY_ID(99), v)
                .unwrap_err()
                .code(),
            hresult(bitsim::HResult::BG_E_UNKNOWN_PROPERTY_ID)
        );
        // MAX_DOWNLOAD_SIZE is read-only once the job was resumed.
        job.AddFile(w!("https://x.test/a"), w!("C:\\dl\\a"))
            .unwrap();
        job.Resume().unwrap();
        let mut v = BITS_JOB_PROPERTY_VALUE::default();
        v.Uint64 = 1;
        assert_eq!(
            j5.SetProperty(BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE, v)
                .unwrap_err()
                .code(),
            hresult(bitsim::HResult::BG_E_READ_ONLY_PROPERTY_AFTER_RESUME)
        );
        assert_eq!(facade.get_max_download_size().unwrap(), 5_000_000_000);
    }
    assert_eq!(live_allocations(), 0);
}

/// Proxy settings, credentials, HttpOptions 1-3 and ReplaceRemotePrefix through COM.
#[test]
fn proxy_credentials_and_http_options_through_com() {
    let sim = sim();
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let _a = attach(&app);
    let (_, job) = create(&manager(), w!("j"));
    let facade = app.enum_jobs(0).unwrap().remove(0);
    let h = job.cast::<IBackgroundCopyJobHttpOptions>().unwrap();
    let h2 = job.cast::<IBackgroundCopyJobHttpOptions2>().unwrap();
    let h3 = job.cast::<IBackgroundCopyJobHttpOptions3>().unwrap();
    let j2 = job.cast::<IBackgroundCopyJob2>().unwrap();
    let j3 = job.cast::<IBackgroundCopyJob3>().unwrap();
    unsafe {
        // Proxy: OVERRIDE with a list, NULL bypass list.
        job.SetProxySettings(BG_JOB_PROXY_USAGE_OVERRIDE, w!("proxy:80"), PCWSTR::null())
            .unwrap();
        let (mut usage, mut list, mut bypass) =
            (BG_JOB_PROXY_USAGE::default(), PWSTR::null(), PWSTR::null());
        job.GetProxySettings(&mut usage, &mut list, &mut bypass)
            .unwrap();
        assert_eq!(usage, BG_JOB_PROXY_USAGE_OVERRIDE);
        assert_eq!(list.to_string().unwrap(), "proxy:80");
        assert!(bypass.is_null());
        CoTaskMemFree(Some(list.0 as _));

        // Custom headers: none is S_FALSE with NULL; set, read, then write-only.
        assert!(h.GetCustomHeaders().unwrap().is_null());
        let hr = {
            let mut p = PWSTR::null();
            (Interface::vtable(&h).GetCustomHeaders)(Interface::as_raw(&h), &mut p)
        };
        assert_eq!(hr, S_FALSE);
        h.SetCustomHeaders(w!("X-A: 1")).unwrap();
        let got = h.GetCustomHeaders().unwrap();
        assert_eq!(got.to_string().unwrap(), "X-A: 1");
        CoTaskMemFree(Some(got.0 as _));
        h3.MakeCustomHeadersWriteOnly().unwrap();
        assert_eq!(h.GetCustomHeaders().unwrap_err().code(), E_ACCESSDENIED);

        // Security flags and the HTTP method.
        h.SetSecurityFlags(BG_SSL_IGNORE_CERT_CN_INVALID).unwrap();
        assert_eq!(h.GetSecurityFlags().unwrap(), BG_SSL_IGNORE_CERT_CN_INVALID);
        let m = h2.GetHttpMethod().unwrap();
        assert_eq!(m.to_string().unwrap(), "GET");
        CoTaskMemFree(Some(m.0 as _));
        h2.SetHttpMethod(w!("POST")).unwrap();
        assert_eq!(facade.get_http_method().unwrap(), "POST");

        // Client certificate: none yet.
        assert_eq!(
            (Interface::vtable(&h).RemoveClientCertificate)(Interface::as_raw(&h)),
            S_FALSE
        );
        let (mut loc, mut store, mut blob, mut subject) = (
            BG_CERT_STORE_LOCATION::default(),
            PWSTR::null(),
            std::ptr::null_mut(),
            PWSTR::null(),
        );
        assert_eq!(
            h.GetClientCertificate(&mut loc, &mut store, &mut blob, &mut subject)
                .unwrap_err()
                .code(),
            HRESULT(0x800706F7_u32 as i32)
        );

        // Credentials: set, then remove twice (S_OK, then S_FALSE).
        let creds = BG_AUTH_CREDENTIALS {
            Target: BG_AUTH_TARGET_SERVER,
            Scheme: BG_AUTH_SCHEME_BASIC,
            Credentials: BG_AUTH_CREDENTIALS_UNION {
                Basic: BG_BASIC_CREDENTIALS {
                    UserName: PWSTR(w!("bob").0 as _),
                    Password: PWSTR(w!("pw").0 as _),
                },
            },
        };
        j2.SetCredentials(&creds).unwrap();
        assert_eq!(
            (Interface::vtable(&j2).RemoveCredentials)(
                Interface::as_raw(&j2),
                BG_AUTH_TARGET_SERVER,
                BG_AUTH_SCHEME_BASIC
            ),
            S_OK
        );
        assert_eq!(
            (Interface::vtable(&j2).RemoveCredentials)(
                Interface::as_raw(&j2),
                BG_AUTH_TARGET_SERVER,
                BG_AUTH_SCHEME_BASIC
            ),
            S_FALSE
        );
        let hr = (Interface::vtable(&j2).SetCredentials)(Interface::as_raw(&j2), std::ptr::null());
        assert_eq!(hr, E_INVALIDARG);

        // ReplaceRemotePrefix: S_OK when a file matched, S_FALSE when none did.
        job.AddFile(w!("https://x.test/a"), w!("C:\\dl\\a"))
            .unwrap();
        assert_eq!(
            (Interface::vtable(&j3).ReplaceRemotePrefix)(
                Interface::as_raw(&j3),
                w!("https://x.test/"),
                w!("https://y.test/")
            ),
            S_OK
        );
        assert_eq!(
            (Interface::vtable(&j3).ReplaceRemotePrefix)(
                Interface::as_raw(&j3),
                w!("https://x.test/"),
                w!("https://z.test/")
            ),
            S_FALSE
        );
        let files = facade.enum_files().unwrap();
        assert_eq!(files[0].get_remote_name().unwrap(), "https://y.test/a");
    }
    assert_eq!(live_allocations(), 0);
}

/// File2/File3 through COM: SetRemoteName, the temporary name, the validation state (E_PENDING
/// before the file finished, then BOOL(1)) and IsDownloadedFromPeer.
#[test]
fn file3_methods_through_com() {
    let sim = sim();
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let a = attach(&app);
    a.set_time_policy(TimePolicy::Manual);
    let (_, job) = create(&manager(), w!("j"));
    let facade = app.enum_jobs(0).unwrap().remove(0);
    unsafe {
        job.AddFile(w!("https://x.test/404"), w!("C:\\dl\\a"))
            .unwrap();
        let files = job.EnumFiles().unwrap();
        let mut one = [None];
        let mut fetched = 0;
        files.Next(&mut one, &mut fetched).unwrap();
        let f3 = one[0]
            .as_ref()
            .unwrap()
            .cast::<IBackgroundCopyFile3>()
            .unwrap();
        f3.SetRemoteName(w!("https://x.test/a")).unwrap();
        assert_eq!(
            facade.enum_files().unwrap()[0].get_remote_name().unwrap(),
            "https://x.test/a"
        );
        let t = f3.GetTemporaryName().unwrap();
        assert_eq!(
            t.to_string().unwrap(),
            facade.enum_files().unwrap()[0]
                .get_temporary_name()
                .unwrap()
        );
        CoTaskMemFree(Some(t.0 as _));
        assert!(!f3.GetValidationState().unwrap().as_bool());
        assert_eq!(
            f3.SetValidationState(true).unwrap_err().code(),
            HRESULT(0x8000000A_u32 as i32)
        );
        assert!(!f3.IsDownloadedFromPeer().unwrap().as_bool());
        job.Resume().unwrap();
        sim.run_until_idle().unwrap();
        assert_eq!(job.GetState().unwrap(), BG_JOB_STATE_TRANSFERRED);
        f3.SetValidationState(true).unwrap();
        assert!(f3.GetValidationState().unwrap().as_bool());
    }
    assert_eq!(live_allocations(), 0);
}

/// File5 Get/SetProperty(HTTP_RESPONSE_HEADERS) round trip (D64); another id is
/// BG_E_UNKNOWN_PROPERTY_ID.
#[test]
fn file5_response_headers_through_com() {
    let sim = sim();
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let a = attach(&app);
    a.set_time_policy(TimePolicy::Manual);
    let (_, job) = create(&manager(), w!("j"));
    let facade = app.enum_jobs(0).unwrap().remove(0);
    unsafe {
        job.AddFile(w!("https://x.test/a"), w!("C:\\dl\\a"))
            .unwrap();
        let files = job.EnumFiles().unwrap();
        let mut one = [None];
        let mut fetched = 0;
        files.Next(&mut one, &mut fetched).unwrap();
        let f5 = one[0]
            .as_ref()
            .unwrap()
            .cast::<IBackgroundCopyFile5>()
            .unwrap();
        let v = f5
            .GetProperty(BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS)
            .unwrap();
        assert_eq!(v.String.to_string().unwrap(), "");
        CoTaskMemFree(Some(v.String.0 as _));
        let text: Vec<u16> = "X-App: 1\r\n\0".encode_utf16().collect();
        let set = BITS_FILE_PROPERTY_VALUE {
            String: PWSTR(text.as_ptr() as *mut u16),
        };
        f5.SetProperty(BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS, set)
            .unwrap();
        assert_eq!(
            facade.enum_files().unwrap()[0].get_property(1).unwrap(),
            "X-App: 1\r\n"
        );
        let v = f5
            .GetProperty(BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS)
            .unwrap();
        assert_eq!(v.String.to_string().unwrap(), "X-App: 1\r\n");
        CoTaskMemFree(Some(v.String.0 as _));
        assert_eq!(
            f5.GetProperty(BITS_FILE_PROPERTY_ID(2))
                .err()
                .map(|e| e.code()),
            Some(HRESULT(0x80200057_u32 as i32))
        );
    }
    assert_eq!(live_allocations(), 0);
}

/// Job3::AddFileWithRanges and File2::GetFileRanges reach the core (D57): the ranges come back as
/// given in an 8-byte aligned array the caller frees; a file without ranges gives S_FALSE, 0 and NULL.
#[test]
fn ranges_through_com() {
    let sim = sim();
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let a = attach(&app);
    a.set_time_policy(TimePolicy::Manual);
    let (_, job) = create(&manager(), w!("j"));
    let r = |o: u64, l: u64| BG_FILE_RANGE {
        InitialOffset: o,
        Length: l,
    };
    unsafe {
        let j3 = job.cast::<IBackgroundCopyJob3>().unwrap();
        assert_eq!(
            j3.AddFileWithRanges(w!("https://x.test/a"), w!("C:\\dl\\r"), &[])
                .unwrap_err()
                .code(),
            hresult(bitsim::HResult::E_INVALIDARG)
        );
        assert_eq!(
            j3.AddFileWithRanges(
                w!("https://x.test/a"),
                w!("C:\\dl\\r"),
                &[r(100, 5), r(100, 0)]
            )
            .unwrap_err()
            .code(),
            hresult(bitsim::HResult::BG_E_OVERLAPPING_RANGES)
        );
        j3.AddFileWithRanges(
            w!("https://x.test/a"),
            w!("C:\\dl\\r"),
            &[r(900, u64::MAX), r(0, 10)],
        )
        .unwrap();
        job.AddFile(w!("https://x.test/a"), w!("C:\\dl\\whole"))
            .unwrap();
        let files = job.EnumFiles().unwrap();
        let mut two = [None, None];
        let mut fetched = 0;
        files.Next(&mut two, &mut fetched).unwrap();
        let f2 = two[0]
            .as_ref()
            .unwrap()
            .cast::<IBackgroundCopyFile2>()
            .unwrap();
        let (mut n, mut p) = (0u32, std::ptr::null_mut());
        f2.GetFileRanges(&mut n, &mut p).unwrap();
        assert_eq!(n, 2);
        assert_eq!(p as usize % 8, 0);
        let got = std::slice::from_raw_parts(p, 2);
        assert_eq!(
            (
                got[0].InitialOffset,
                got[0].Length,
                got[1].InitialOffset,
                got[1].Length
            ),
            (900, u64::MAX, 0, 10)
        );
        CoTaskMemFree(Some(p as _));
        let plain = two[1]
            .as_ref()
            .unwrap()
            .cast::<IBackgroundCopyFile2>()
            .unwrap();
        let (mut n, mut p) = (
            7u32,
            std::ptr::NonNull::<BG_FILE_RANGE>::dangling().as_ptr(),
        );
        let raw =
            (Interface::vtable(&plain).GetFileRanges)(Interface::as_raw(&plain), &mut n, &mut p);
        assert_eq!((raw, n, p.is_null()), (S_FALSE, 0, true));
        job.Resume().unwrap();
        sim.run_until_idle().unwrap();
        assert_eq!(job.GetState().unwrap(), BG_JOB_STATE_TRANSFERRED);
        let mut progress = BG_JOB_PROGRESS::default();
        job.GetProgress(&mut progress).unwrap();
        assert_eq!(progress.BytesTotal, 110 + 1000);
    }
    assert_eq!(live_allocations(), 0);
}

#[test]
fn enumerators_next_skip_reset_clone_count_and_s_false() {
    let sim = sim();
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let _a = attach(&app);
    let m = manager();
    let (_, job) = create(&m, w!("a"));
    create(&m, w!("b"));
    unsafe {
        job.AddFile(w!("https://x.test/a"), w!("C:\\dl\\1"))
            .unwrap();
        job.AddFile(w!("https://x.test/a"), w!("C:\\dl\\2"))
            .unwrap();
        let e = m.EnumJobs(0).unwrap();
        assert_eq!(e.GetCount().unwrap(), 2);
        let mut three: [Option<IBackgroundCopyJob>; 3] = [None, None, None];
        let mut fetched = 0;
        let hr = (Interface::vtable(&e).Next)(
            Interface::as_raw(&e),
            3,
            three.as_mut_ptr() as _,
            &mut fetched,
        );
        assert_eq!((hr, fetched), (S_FALSE, 2));
        assert!(three[2].is_none());
        // pceltFetched NULL is allowed only for celt 1 (D46); rgelt NULL is E_POINTER.
        e.Reset().unwrap();
        let hr = (Interface::vtable(&e).Next)(
            Interface::as_raw(&e),
            2,
            three.as_mut_ptr() as _,
            std::ptr::null_mut(),
        );
        assert_eq!(hr, E_INVALIDARG);
        let hr = (Interface::vtable(&e).Next)(
            Interface::as_raw(&e),
            1,
            std::ptr::null_mut(),
            &mut fetched,
        );
        assert_eq!(hr, E_POINTER);
        let hr = (Interface::vtable(&e).Skip)(Interface::as_raw(&e), 5);
        assert_eq!(hr, S_FALSE);
        e.Reset().unwrap();
        e.Skip(1).unwrap();
        let c = e.Clone().unwrap();
        let mut one = [None];
        c.Next(&mut one, &mut fetched).unwrap();
        assert_eq!(fetched, 1);
        let name = one[0].as_ref().unwrap().GetDisplayName().unwrap();
        assert_eq!(name.to_string().unwrap(), "b");
        CoTaskMemFree(Some(name.0 as _));
        let files = job.EnumFiles().unwrap();
        assert_eq!(files.GetCount().unwrap(), 2);
        let mut two = [None, None];
        files.Next(&mut two, &mut fetched).unwrap();
        let local = two[1].as_ref().unwrap().GetLocalName().unwrap();
        assert_eq!(local.to_string().unwrap(), "C:\\dl\\2");
        CoTaskMemFree(Some(local.0 as _));
    }
    assert_eq!(live_allocations(), 0);
}

#[test]
fn null_out_parameters_give_e_invalidarg() {
    let sim = sim();
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let _a = attach(&app);
    let m = manager();
    let (_, job) = create(&m, w!("a"));
    unsafe {
        let hr =
            (Interface::vtable(&job).GetProgress)(Interface::as_raw(&job), std::ptr::null_mut());
        assert_eq!(hr, E_INVALIDARG);
        let hr = (Interface::vtable(&job).GetTimes)(Interface::as_raw(&job), std::ptr::null_mut());
        assert_eq!(hr, E_INVALIDARG);
        let mut job_out = std::ptr::null_mut();
        let hr = (Interface::vtable(&m).CreateJob)(
            Interface::as_raw(&m),
            w!("x"),
            BG_JOB_TYPE_DOWNLOAD,
            std::ptr::null_mut(),
            &mut job_out,
        );
        assert_eq!(hr, E_INVALIDARG);
    }
}

#[test]
fn time_policy_manual_and_advance_on_poll() {
    let sim = sim();
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let a = attach(&app);
    a.set_time_policy(TimePolicy::Manual);
    let (_, job) = create(&manager(), w!("a"));
    unsafe {
        job.AddFile(w!("https://x.test/a"), w!("C:\\dl\\a"))
            .unwrap();
        job.Resume().unwrap();
        assert_eq!(job.GetState().unwrap(), BG_JOB_STATE_QUEUED);
        assert_eq!(job.GetState().unwrap(), BG_JOB_STATE_QUEUED);
        a.set_time_policy(TimePolicy::AdvanceOnPoll(bitsim::SimDuration::from_secs(1)));
        assert_eq!(job.GetState().unwrap(), BG_JOB_STATE_TRANSFERRED);
        assert_eq!(sim.now().as_secs(), 1);
        // A job nobody is working on does not move the clock.
        assert_eq!(job.GetState().unwrap(), BG_JOB_STATE_TRANSFERRED);
        assert_eq!(sim.now().as_secs(), 1);
    }
}

/// JobError delivers the error interface; the callback may read and act from inside (D19).
#[test]
fn job_error_callback_reads_the_error_and_cancels() {
    use std::cell::RefCell;
    thread_local!(static SEEN: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) });
    #[implement(IBackgroundCopyCallback)]
    struct Cb;
    impl IBackgroundCopyCallback_Impl for Cb_Impl {
        fn JobTransferred(&self, _: Ref<IBackgroundCopyJob>) -> Result<()> {
            Ok(())
        }
        fn JobError(
            &self,
            job: Ref<IBackgroundCopyJob>,
            error: Ref<IBackgroundCopyError>,
        ) -> Result<()> {
            let (job, error) = (job.ok()?, error.ok()?);
            unsafe {
                let mut ctx = BG_ERROR_CONTEXT::default();
                let mut code = HRESULT(0);
                error.GetError(&mut ctx, &mut code)?;
                let file = error.GetFile()?;
                let remote = file.GetRemoteName()?;
                SEEN.with(|s| {
                    s.borrow_mut()
                        .push(format!("{:?} {:#X} {}", ctx, code.0, remote.display()))
                });
                CoTaskMemFree(Some(remote.0 as _));
                job.Cancel()
            }
        }
        fn JobModification(&self, _: Ref<IBackgroundCopyJob>, _: u32) -> Result<()> {
            Ok(())
        }
    }
    let sim = sim();
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let _a = attach(&app);
    let (_, job) = create(&manager(), w!("a"));
    unsafe {
        job.AddFile(w!("https://x.test/404"), w!("C:\\dl\\a"))
            .unwrap();
        let cb: IBackgroundCopyCallback = Cb.into();
        job.SetNotifyInterface(&cb).unwrap();
        assert_eq!(
            job.GetNotifyInterface().unwrap(),
            cb.cast::<IUnknown>().unwrap()
        );
        job.SetNotifyFlags(BG_NOTIFY_JOB_ERROR).unwrap();
        job.Resume().unwrap();
        sim.run_until_idle().unwrap();
        assert_eq!(job.GetState().unwrap(), BG_JOB_STATE_CANCELLED);
    }
    SEEN.with(|s| {
        assert_eq!(
            *s.borrow(),
            ["BG_ERROR_CONTEXT(5) 0x80190194 https://x.test/404"]
        )
    });
    assert_eq!(live_allocations(), 0);
    let _ = JobType::Download;
}

/// Callback2 (D60): an object that answers QueryInterface for IBackgroundCopyCallback2 gets
/// FileTransferred(job, file) with a real file interface, before JobTransferred.
#[test]
fn callback2_file_transferred_gets_the_file_interface() {
    use std::cell::RefCell;
    thread_local!(static SEEN: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) });
    #[implement(IBackgroundCopyCallback2)]
    struct Cb;
    impl IBackgroundCopyCallback_Impl for Cb_Impl {
        fn JobTransferred(&self, _: Ref<IBackgroundCopyJob>) -> Result<()> {
            SEEN.with(|s| s.borrow_mut().push("job".to_string()));
            Ok(())
        }
        fn JobError(&self, _: Ref<IBackgroundCopyJob>, _: Ref<IBackgroundCopyError>) -> Result<()> {
            Ok(())
        }
        fn JobModification(&self, _: Ref<IBackgroundCopyJob>, _: u32) -> Result<()> {
            Ok(())
        }
    }
    impl IBackgroundCopyCallback2_Impl for Cb_Impl {
        fn FileTransferred(
            &self,
            _: Ref<IBackgroundCopyJob>,
            file: Ref<IBackgroundCopyFile>,
        ) -> Result<()> {
            let file = file.ok()?;
            unsafe {
                let remote = file.GetRemoteName()?;
                SEEN.with(|s| s.borrow_mut().push(format!("file {}", remote.display())));
                CoTaskMemFree(Some(remote.0 as _));
            }
            Ok(())
        }
    }
    let sim = sim();
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let _a = attach(&app);
    let (_, job) = create(&manager(), w!("a"));
    unsafe {
        job.AddFile(w!("https://x.test/a"), w!("C:\\dl\\a"))
            .unwrap();
        let cb: IBackgroundCopyCallback2 = Cb.into();
        job.SetNotifyInterface(&cb).unwrap();
        job.SetNotifyFlags(BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_FILE_TRANSFERRED)
            .unwrap();
        job.Resume().unwrap();
        sim.run_until_idle().unwrap();
        assert_eq!(job.GetState().unwrap(), BG_JOB_STATE_TRANSFERRED);
    }
    SEEN.with(|s| assert_eq!(*s.borrow(), ["file https://x.test/a", "job"]));
}

/// File6 and Callback3 (D73–D76): RequestFileRanges, UpdateDownloadPosition and GetFilledFileRanges
/// answer from the core (its refusals included), and an object that answers QueryInterface for
/// IBackgroundCopyCallback3 gets FileRangesTransferred with the ranges put on disk.
#[test]
fn file6_and_callback3_file_ranges_transferred_through_com() {
    use std::cell::RefCell;
    thread_local!(static RANGES: RefCell<Vec<(u64, u64)>> = const { RefCell::new(Vec::new()) });
    #[implement(IBackgroundCopyCallback3)]
    struct Cb;
    impl IBackgroundCopyCallback_Impl for Cb_Impl {
        fn JobTransferred(&self, _: Ref<IBackgroundCopyJob>) -> Result<()> {
            Ok(())
        }
        fn JobError(&self, _: Ref<IBackgroundCopyJob>, _: Ref<IBackgroundCopyError>) -> Result<()> {
            Ok(())
        }
        fn JobModification(&self, _: Ref<IBackgroundCopyJob>, _: u32) -> Result<()> {
            Ok(())
        }
    }
    impl IBackgroundCopyCallback2_Impl for Cb_Impl {
        fn FileTransferred(
            &self,
            _: Ref<IBackgroundCopyJob>,
            _: Ref<IBackgroundCopyFile>,
        ) -> Result<()> {
            Ok(())
        }
    }
    impl IBackgroundCopyCallback3_Impl for Cb_Impl {
        fn FileRangesTransferred(
            &self,
            _: Ref<IBackgroundCopyJob>,
            _: Ref<IBackgroundCopyFile>,
            count: u32,
            ranges: *const BG_FILE_RANGE,
        ) -> Result<()> {
            let got = unsafe { std::slice::from_raw_parts(ranges, count as usize) };
            RANGES.with(|r| {
                r.borrow_mut()
                    .extend(got.iter().map(|x| (x.InitialOffset, x.Length)))
            });
            Ok(())
        }
    }
    let sim = sim();
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let _a = attach(&app);
    let (_, job) = create(&manager(), w!("od"));
    unsafe {
        job.AddFile(w!("https://x.test/a"), w!("C:\\dl\\od"))
            .unwrap();
        let files = job.EnumFiles().unwrap();
        let mut one = [None];
        let mut fetched = 0;
        files.Next(&mut one, &mut fetched).unwrap();
        let f6 = one[0]
            .as_ref()
            .unwrap()
            .cast::<IBackgroundCopyFile6>()
            .unwrap();
        assert_eq!(f6.RequestFileRanges(&[]).unwrap_err().code(), E_INVALIDARG);
        f6.RequestFileRanges(&[
            BG_FILE_RANGE {
                InitialOffset: 600,
                Length: 100,
            },
            BG_FILE_RANGE {
                InitialOffset: 0,
                Length: 50,
            },
        ])
        .unwrap();
        f6.UpdateDownloadPosition(900).unwrap();
        let cb: IBackgroundCopyCallback3 = Cb.into();
        job.SetNotifyInterface(&cb).unwrap();
        job.SetNotifyFlags(BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_FILE_RANGES_TRANSFERRED)
            .unwrap();
        job.Resume().unwrap();
        sim.run_until_idle().unwrap();
        // T30: the requested ranges are on disk, the file is not.
        assert_eq!(job.GetState().unwrap(), BG_JOB_STATE_SUSPENDED);
        let (mut n, mut out) = (0u32, std::ptr::null_mut());
        f6.GetFilledFileRanges(&mut n, &mut out).unwrap();
        let filled: Vec<(u64, u64)> = std::slice::from_raw_parts(out, n as usize)
            .iter()
            .map(|x| (x.InitialOffset, x.Length))
            .collect();
        CoTaskMemFree(Some(out as _));
        assert_eq!(filled, [(0, 50), (600, 100)]);
        // Past the size known since the connection (1,000 bytes): BG_E_INVALID_RANGE.
        assert_eq!(
            f6.RequestFileRanges(&[BG_FILE_RANGE {
                InitialOffset: 990,
                Length: 11,
            }])
            .unwrap_err()
            .code(),
            hresult(bitsim::HResult::BG_E_INVALID_RANGE)
        );
    }
    RANGES.with(|r| assert_eq!(*r.borrow(), [(0, 50), (600, 100)]));
    assert_eq!(live_allocations(), 0);
}

/// Every interface of the windows 0.62 BITS module has every method of its SDK page: the vtable of
/// each holds IUnknown's 3 slots plus the methods of the interface and of its bases, in order.
#[test]
fn every_bits_interface_has_every_method() {
    const P: usize = std::mem::size_of::<usize>();
    macro_rules! slots {
        ($($vtbl:ty => $n:expr),* $(,)?) => {
            $(assert_eq!(std::mem::size_of::<$vtbl>() / P, 3 + $n, stringify!($vtbl));)*
        };
    }
    // Method counts from the SDK pages of bits.h, bits1_5.h, bits2_0.h, bits2_5.h, bits3_0.h,
    // bits4_0.h, bits5_0.h, bits10_1.h, bits10_2.h, bits10_3.h and qmgr.h.
    slots! {
        IBackgroundCopyManager_Vtbl => 4,
        IBackgroundCopyJob_Vtbl => 32,
        IBackgroundCopyJob2_Vtbl => 32 + 8,
        IBackgroundCopyJob3_Vtbl => 40 + 4,
        IBackgroundCopyJob4_Vtbl => 44 + 6,
        IBackgroundCopyJob5_Vtbl => 50 + 2,
        IBackgroundCopyJobHttpOptions_Vtbl => 8,
        IBackgroundCopyJobHttpOptions2_Vtbl => 8 + 2,
        IBackgroundCopyJobHttpOptions3_Vtbl => 10 + 2,
        IBackgroundCopyFile_Vtbl => 3,
        IBackgroundCopyFile2_Vtbl => 3 + 2,
        IBackgroundCopyFile3_Vtbl => 5 + 4,
        IBackgroundCopyFile4_Vtbl => 9 + 1,
        IBackgroundCopyFile5_Vtbl => 10 + 2,
        IBackgroundCopyFile6_Vtbl => 12 + 3,
        IBackgroundCopyError_Vtbl => 5,
        IEnumBackgroundCopyJobs_Vtbl => 5,
        IEnumBackgroundCopyFiles_Vtbl => 5,
        IBackgroundCopyCallback_Vtbl => 3,
        IBackgroundCopyCallback2_Vtbl => 3 + 1,
        IBackgroundCopyCallback3_Vtbl => 4 + 1,
        AsyncIBackgroundCopyCallback_Vtbl => 6,
        IBackgroundCopyServerCertificateValidationCallback_Vtbl => 1,
        IBitsTokenOptions_Vtbl => 5,
        IBitsPeerCacheAdministration_Vtbl => 14,
        IBitsPeerCacheRecord_Vtbl => 7,
        IBitsPeer_Vtbl => 3,
        IEnumBitsPeerCacheRecords_Vtbl => 5,
        IEnumBitsPeers_Vtbl => 5,
        IBackgroundCopyQMgr_Vtbl => 3,
        IBackgroundCopyGroup_Vtbl => 15,
        IBackgroundCopyJob1_Vtbl => 8,
        IEnumBackgroundCopyGroups_Vtbl => 5,
        IEnumBackgroundCopyJobs1_Vtbl => 5,
        IBITSExtensionSetupFactory_Vtbl => 4 + 1, // IDispatch is its base
        IBITSExtensionSetup_Vtbl => 4 + 4,
    }
    // And the signatures client code calls, as the windows crate spells them.
    let _: unsafe fn(&IBackgroundCopyJob) -> Result<BG_JOB_STATE> = IBackgroundCopyJob::GetState;
    let _: unsafe fn(&IBackgroundCopyJob, *mut BG_JOB_PROGRESS) -> Result<()> =
        IBackgroundCopyJob::GetProgress;
    let _: unsafe fn(&IBackgroundCopyJob) -> Result<IBackgroundCopyError> =
        IBackgroundCopyJob::GetError;
    let _: unsafe fn(&IBackgroundCopyJob) -> Result<PWSTR> = IBackgroundCopyJob::GetDisplayName;
    let _: unsafe fn(&IBackgroundCopyJob, PCWSTR, PCWSTR) -> Result<()> =
        IBackgroundCopyJob::AddFile::<PCWSTR, PCWSTR>;
    let _: unsafe fn(&IBackgroundCopyJob, u32) -> Result<()> = IBackgroundCopyJob::SetNotifyFlags;
    let _: unsafe fn(&IBackgroundCopyError, *mut BG_ERROR_CONTEXT, *mut HRESULT) -> Result<()> =
        IBackgroundCopyError::GetError;
    let _: unsafe fn(&IBackgroundCopyError, u32) -> Result<PWSTR> =
        IBackgroundCopyError::GetErrorDescription;
    let _: unsafe fn(
        &IBackgroundCopyManager,
        PCWSTR,
        BG_JOB_TYPE,
        *mut GUID,
        *mut Option<IBackgroundCopyJob>,
    ) -> Result<()> = IBackgroundCopyManager::CreateJob::<PCWSTR>;
    let _: unsafe fn(&IBackgroundCopyManager, u32) -> Result<IEnumBackgroundCopyJobs> =
        IBackgroundCopyManager::EnumJobs;
    let _: unsafe fn(
        &IEnumBackgroundCopyJobs,
        &mut [Option<IBackgroundCopyJob>],
        *mut u32,
    ) -> Result<()> = IEnumBackgroundCopyJobs::Next;
    let _: unsafe fn(Option<*const core::ffi::c_void>) = CoTaskMemFree;
    let _: unsafe fn(Option<*const core::ffi::c_void>, COINIT) -> HRESULT = CoInitializeEx;
}

/// HttpOptions client certificate through COM: ByID takes the 20-byte SHA-1 hash, ByName a subject;
/// GetClientCertificate hands out the store, the hash blob and the subject, each freed with
/// CoTaskMemFree; NULL out-parameters give E_INVALIDARG.
#[test]
fn client_certificate_by_id_and_by_name_through_com() {
    let hash: [u8; 20] = std::array::from_fn(|i| (i as u8) * 13 + 1);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    let sim = Sim::new(World::new().certificate(bitsim::ClientCertificate {
        location: 0,
        store: "MY".into(),
        subject: "CN=client, O=Test".into(),
        sha1: hex,
    }));
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let _a = attach(&app);
    let (_, job) = create(&manager(), w!("j"));
    let h = job.cast::<IBackgroundCopyJobHttpOptions>().unwrap();
    unsafe {
        h.SetClientCertificateByID(BG_CERT_STORE_LOCATION_CURRENT_USER, w!("MY"), &hash)
            .unwrap();
        let (mut loc, mut store, mut blob, mut subject) = (
            BG_CERT_STORE_LOCATION(7),
            PWSTR::null(),
            std::ptr::null_mut(),
            PWSTR::null(),
        );
        h.GetClientCertificate(&mut loc, &mut store, &mut blob, &mut subject)
            .unwrap();
        assert_eq!(loc, BG_CERT_STORE_LOCATION_CURRENT_USER);
        assert_eq!(store.to_string().unwrap(), "MY");
        assert_eq!(subject.to_string().unwrap(), "CN=client, O=Test");
        assert_eq!(std::slice::from_raw_parts(blob, 20), &hash);
        assert_eq!(live_allocations(), 3);
        CoTaskMemFree(Some(store.0 as _));
        CoTaskMemFree(Some(blob as _));
        CoTaskMemFree(Some(subject.0 as _));
        let hr = (Interface::vtable(&h).GetClientCertificate)(
            Interface::as_raw(&h),
            &mut loc,
            std::ptr::null_mut(),
            &mut blob,
            &mut subject,
        );
        // RPC_X_NULL_REF_POINTER, as the GetClientCertificate page says.
        assert_eq!(hr, HRESULT(0x800706F4_u32 as i32));
        // Removing it: S_OK, then S_FALSE.
        assert_eq!(
            (Interface::vtable(&h).RemoveClientCertificate)(Interface::as_raw(&h)),
            S_OK
        );
        assert_eq!(
            (Interface::vtable(&h).RemoveClientCertificate)(Interface::as_raw(&h)),
            S_FALSE
        );
        // By name: a subject that matches nothing is CRYPT_E_NOT_FOUND; one that matches works.
        assert_eq!(
            h.SetClientCertificateByName(
                BG_CERT_STORE_LOCATION_CURRENT_USER,
                w!("MY"),
                w!("CN=nobody")
            )
            .unwrap_err()
            .code(),
            HRESULT(0x80092004_u32 as i32)
        );
        h.SetClientCertificateByName(BG_CERT_STORE_LOCATION_CURRENT_USER, w!("MY"), w!("client"))
            .unwrap();
        assert_eq!(
            app.enum_jobs(0).unwrap()[0]
                .get_client_certificate()
                .unwrap()
                .subject,
            "CN=client, O=Test"
        );
    }
    assert_eq!(live_allocations(), 0);
}

/// Job2's reply methods through COM (§2.3, D66, D71, D72): an upload-reply job's reply file name,
/// reply progress before and after the reply, the reply data (a CoTaskMemFree-able buffer), and
/// BG_E_TOO_LARGE with the length for a reply over 1 MB.
#[test]
fn upload_reply_methods_through_com() {
    let sim = Sim::new(
        World::new()
            .remote(
                "https://x.test/app",
                Remote::default().with_reply(bitsim::Body::text("id=7"), [None], []),
            )
            .remote(
                "https://x.test/big",
                Remote::default().with_reply(bitsim::Body::pattern(1, (1 << 20) + 1), [], []),
            )
            .local("C:\\up\\q.bin", 10),
    );
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let a = attach(&app);
    a.set_time_policy(TimePolicy::Manual);
    let m = manager();
    let make = |name: PCWSTR, url: PCWSTR| unsafe {
        let mut id = GUID::zeroed();
        let mut job = None;
        m.CreateJob(name, BG_JOB_TYPE_UPLOAD_REPLY, &mut id, &mut job)
            .unwrap();
        let job = job.unwrap();
        job.AddFile(url, w!("C:\\up\\q.bin")).unwrap();
        job.cast::<IBackgroundCopyJob2>().unwrap()
    };
    let j2 = make(w!("ask"), w!("https://x.test/app"));
    let big = make(w!("big"), w!("https://x.test/big"));
    unsafe {
        let name = j2.GetReplyFileName().unwrap();
        assert!(name.to_string().unwrap().starts_with("C:\\up\\BIT"));
        CoTaskMemFree(Some(name.0 as _));
        j2.SetReplyFileName(w!("C:\\replies\\r.txt")).unwrap();
        let name = j2.GetReplyFileName().unwrap();
        assert_eq!(name.to_string().unwrap(), "C:\\replies\\r.txt");
        CoTaskMemFree(Some(name.0 as _));
        assert_eq!(
            j2.SetReplyFileName(w!("r.txt")).unwrap_err().code(),
            E_INVALIDARG
        );
        let mut p = BG_JOB_REPLY_PROGRESS::default();
        j2.GetReplyProgress(&mut p).unwrap();
        assert_eq!((p.BytesTotal, p.BytesTransferred), (u64::MAX, 0));
        let (mut buf, mut len) = (std::ptr::null_mut(), 0u64);
        assert_eq!(
            j2.GetReplyData(&mut buf, &mut len).unwrap_err().code(),
            hresult(bitsim::HResult::BG_E_INVALID_STATE)
        );
        j2.Resume().unwrap();
        big.Resume().unwrap();
        sim.run_until_idle().unwrap();
        assert_eq!(j2.GetState().unwrap(), BG_JOB_STATE_TRANSFERRED);
        j2.GetReplyProgress(&mut p).unwrap();
        assert_eq!((p.BytesTotal, p.BytesTransferred), (4, 4));
        j2.GetReplyData(&mut buf, &mut len).unwrap();
        assert_eq!(std::slice::from_raw_parts(buf, len as usize), b"id=7");
        CoTaskMemFree(Some(buf as _));
        let (mut buf, mut len) = (std::ptr::NonNull::<u8>::dangling().as_ptr(), 0u64);
        assert_eq!(
            big.GetReplyData(&mut buf, &mut len).unwrap_err().code(),
            hresult(bitsim::HResult::BG_E_TOO_LARGE)
        );
        assert_eq!((buf.is_null(), len), (true, (1 << 20) + 1));
        assert_eq!(
            j2.SetReplyFileName(w!("C:\\replies\\late.txt"))
                .unwrap_err()
                .code(),
            hresult(bitsim::HResult::BG_E_INVALID_STATE)
        );
    }
    assert_eq!(live_allocations(), 0);
}
