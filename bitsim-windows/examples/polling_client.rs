//! A polling BITS client: it finds its job by display name with EnumJobs + Next, polls GetState and
//! GetProgress (into BG_JOB_PROGRESS), reads GetError with out-parameters and GetErrorDescription
//! with MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US), and frees every string with CoTaskMemFree.
//!
//! Only the `use` line differs between Windows and bitsim.
//! `cargo run -p bitsim-windows --example polling_client`

#[cfg(not(windows))]
use bitsim_windows as win;
#[cfg(windows)]
use windows as win;

use win::core::*;
use win::Win32::Networking::BackgroundIntelligentTransferService::*;
use win::Win32::System::Com::*;

/// MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US).
const LANG_EN_US: u32 = (0x01 << 10) | 0x09;

/// The first job of this user whose display name is `name`.
unsafe fn find_job(
    manager: &IBackgroundCopyManager,
    name: &str,
) -> Result<Option<IBackgroundCopyJob>> {
    unsafe {
        let jobs = manager.EnumJobs(0)?;
        loop {
            let mut one = [None];
            let mut fetched = 0;
            jobs.Next(&mut one, &mut fetched)?;
            if fetched == 0 {
                return Ok(None);
            }
            let Some(job) = one[0].take() else {
                return Ok(None);
            };
            let display = job.GetDisplayName()?;
            let same = display.to_string().map(|s| s == name).unwrap_or(false);
            CoTaskMemFree(Some(display.0 as _));
            if same {
                return Ok(Some(job));
            }
        }
    }
}

/// The client: download two files, poll until the job is done, report an error if one comes.
/// Returns the final state.
pub fn client(url_ok: PCWSTR, url_bad: PCWSTR) -> Result<BG_JOB_STATE> {
    unsafe {
        CoInitializeEx(None, COINIT_APARTMENTTHREADED).ok()?;
        let manager: IBackgroundCopyManager =
            CoCreateInstance(&BackgroundCopyManager, None, CLSCTX_LOCAL_SERVER)?;
        let mut id = GUID::zeroed();
        let mut created = None;
        manager.CreateJob(
            w!("nightly update"),
            BG_JOB_TYPE_DOWNLOAD,
            &mut id,
            &mut created,
        )?;
        let created = created.ok_or_else(|| Error::from(HRESULT(0x8000_4003_u32 as i32)))?;
        created.AddFile(url_ok, w!("C:\\Updates\\a.bin"))?;
        created.AddFile(url_bad, w!("C:\\Updates\\b.bin"))?;
        created.Resume()?;
        drop(created);

        // Later (another run of the program): find the job by name and watch it.
        let job = find_job(&manager, "nightly update")?
            .ok_or_else(|| Error::from(HRESULT(0x8020_0001_u32 as i32)))?;
        loop {
            let state = job.GetState()?;
            let mut progress = BG_JOB_PROGRESS::default();
            job.GetProgress(&mut progress)?;
            println!(
                "state {:?}: {} of {} bytes, {} of {} files",
                state,
                progress.BytesTransferred,
                progress.BytesTotal,
                progress.FilesTransferred,
                progress.FilesTotal
            );
            if state == BG_JOB_STATE_TRANSFERRED {
                job.Complete()?;
                return Ok(state);
            }
            if state == BG_JOB_STATE_ERROR || state == BG_JOB_STATE_TRANSIENT_ERROR {
                let error = job.GetError()?;
                let mut context = BG_ERROR_CONTEXT::default();
                let mut code = HRESULT(0);
                error.GetError(&mut context, &mut code)?;
                let text = error.GetErrorDescription(LANG_EN_US)?;
                println!(
                    "error {:#010X} in context {:?}: {}",
                    code.0,
                    context,
                    text.display()
                );
                CoTaskMemFree(Some(text.0 as _));
                if state == BG_JOB_STATE_ERROR {
                    job.Cancel()?;
                    return Ok(state);
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

#[cfg(not(windows))]
fn main() -> Result<()> {
    use bitsim::{Remote, Response, Sim, World};
    let sim = Sim::new(
        World::new()
            .remote("https://updates.test/a.bin", Remote::sized(1_000_000))
            .remote(
                "https://updates.test/b.bin",
                Remote::sized(5_000).with_responses([Response::http(503), Response::http(404)]),
            ),
    );
    let app = sim
        .connect("updater", sim.user("alice"))
        .expect("a user of the world");
    let _attached = bitsim_windows::attach(&app);
    let end = client(
        w!("https://updates.test/a.bin"),
        w!("https://updates.test/b.bin"),
    )?;
    println!(
        "final state {end:?} at {}; strings not freed: {}",
        sim.now(),
        bitsim_windows::live_allocations()
    );
    Ok(())
}

#[cfg(windows)]
fn main() -> Result<()> {
    client(
        w!("https://www.rust-lang.org/"),
        w!("https://www.rust-lang.org/missing"),
    )
    .map(|_| ())
}
