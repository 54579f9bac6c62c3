//! A BITS client written the way the windows-rs BITS sample is: CoInitializeEx, CoCreateInstance,
//! CreateJob with out-parameters and `w!`, AddFile, an `#[implement]` callback that calls Complete
//! on JobTransferred and Cancel + GetErrorDescription on JobError, SetNotifyFlags, Resume.
//!
//! Only the `use` line differs between Windows and bitsim. On Linux, `main` first builds a scripted
//! world and attaches the thread to an application of it; the client code below is untouched.
//! `cargo run -p bitsim-windows --example callback_client`

#[cfg(not(windows))]
use bitsim_windows as win;
#[cfg(windows)]
use windows as win;

use std::sync::atomic::{AtomicBool, Ordering};
use win::core::*;
use win::Win32::Networking::BackgroundIntelligentTransferService::*;
use win::Win32::System::Com::*;

static DONE: AtomicBool = AtomicBool::new(false);

#[implement(IBackgroundCopyCallback)]
struct Callback;

impl IBackgroundCopyCallback_Impl for Callback_Impl {
    fn JobTransferred(&self, job: Ref<IBackgroundCopyJob>) -> Result<()> {
        let job = job.ok()?;
        unsafe { job.Complete()? };
        println!("transferred and completed");
        DONE.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn JobError(
        &self,
        job: Ref<IBackgroundCopyJob>,
        error: Ref<IBackgroundCopyError>,
    ) -> Result<()> {
        let job = job.ok()?;
        let error = error.ok()?;
        unsafe {
            job.Cancel()?;
            // MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US)
            let text = error.GetErrorDescription(0x0409)?;
            println!("error: {}", text.display());
            CoTaskMemFree(Some(text.0 as _));
        }
        DONE.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn JobModification(&self, _: Ref<IBackgroundCopyJob>, _: u32) -> Result<()> {
        Ok(())
    }
}

/// The client, as it would run on Windows.
pub fn client() -> Result<()> {
    unsafe {
        CoInitializeEx(None, COINIT_MULTITHREADED).ok()?;
        let manager: IBackgroundCopyManager =
            CoCreateInstance(&BackgroundCopyManager, None, CLSCTX_LOCAL_SERVER)?;
        let mut job_id = GUID::zeroed();
        let mut job = None;
        manager.CreateJob(w!("sample"), BG_JOB_TYPE_DOWNLOAD, &mut job_id, &mut job)?;
        let job = job.ok_or_else(|| Error::from(E_POINTER_VALUE))?;
        job.AddFile(w!("https://www.rust-lang.org/"), w!("C:\\Temp\\rust.html"))?;
        let callback: IBackgroundCopyCallback = Callback.into();
        job.SetNotifyInterface(&callback)?;
        job.SetNotifyFlags(BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR)?;
        job.Resume()?;
        // Wait for a callback, checking the state now and then.
        while !DONE.load(Ordering::SeqCst) {
            let _ = job.GetState()?;
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        CoUninitialize();
    }
    Ok(())
}

const E_POINTER_VALUE: HRESULT = HRESULT(0x8000_4003_u32 as i32);

#[cfg(not(windows))]
pub fn main() -> Result<()> {
    use bitsim::{Remote, Sim, World};
    let sim = Sim::new(World::new().remote("https://www.rust-lang.org/", Remote::sized(18_000)));
    let app = sim
        .connect("sample", sim.user("alice"))
        .expect("a user of the world");
    let _attached = bitsim_windows::attach(&app);
    client()?;
    println!("virtual time at the end: {}", sim.now());
    Ok(())
}

#[cfg(windows)]
fn main() -> Result<()> {
    client()
}
