//! `Win32::System::Com` as BITS clients use it, and the per-thread attachment to a bitsim application.

use crate::core::{Interface, GUID, HRESULT};
use crate::Win32::Foundation::{
    CO_E_NOTINITIALIZED, REGDB_E_CLASSNOTREG, RPC_E_CHANGED_MODE, S_FALSE, S_OK,
};
use crate::Win32::System::Com::{CLSCTX, CLSCTX_LOCAL_SERVER, COINIT, COINIT_APARTMENTTHREADED};
use bitsim::{Manager, Sim, SimDuration};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// How virtual time moves for client code that waits with `std::thread::sleep` or a blocking loop
/// (it cannot call `Sim::advance` itself). See the README section "Run your windows-rs BITS code on
/// Linux" for the trade-offs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimePolicy {
    /// Time moves only when the test moves it (`Sim::advance`, `run_until_idle`). Right for tests
    /// that drive the clock themselves; an unmodified polling loop spins forever.
    Manual,
    /// A poll (IBackgroundCopyJob::GetState or GetProgress) of a job the service is working on
    /// (QUEUED, CONNECTING, TRANSFERRING, TRANSIENT_ERROR) first runs the simulator to its next
    /// scheduled event. A polling loop sees every state the job passes through and reaches the end
    /// in as many polls as there are events, with no real waiting. A job in any other state only
    /// changes when the client acts, so polling it does not move the clock. The default.
    RunToNextEventOnPoll,
    /// A poll (as above) of a job the service is working on first advances virtual time by this
    /// step (events in between happen in order). A loop's iteration count then maps to virtual time
    /// (a 1 s step and a loop that sleeps 1 s agree), at the cost of many polls for long waits (a
    /// 600 s retry delay is 600 polls of 1 s).
    AdvanceOnPoll(SimDuration),
}

pub(crate) struct Attached {
    pub manager: Manager,
    pub sim: Sim,
    pub policy: Cell<TimePolicy>,
    /// The callback object registered per job through this attachment (GetNotifyInterface).
    pub callbacks: RefCell<BTreeMap<bitsim::JobId, windows_core::IUnknown>>,
}

thread_local! {
    static ATTACHED: RefCell<Vec<std::rc::Rc<Attached>>> = const { RefCell::new(Vec::new()) };
    /// CoInitializeEx calls not yet balanced by CoUninitialize, and the apartment of the first.
    static COM_INIT: Cell<(u32, i32)> = const { Cell::new((0, 0)) };
}

/// The guard [`attach`] returns: while it lives, COM calls on this thread act as its application.
/// Attachments nest; dropping one restores the one before.
pub struct Attachment {
    at: std::rc::Rc<Attached>,
}

impl Attachment {
    /// Change the time policy (default [`TimePolicy::RunToNextEventOnPoll`]).
    pub fn set_time_policy(&self, policy: TimePolicy) {
        self.at.policy.set(policy);
    }
    /// The time policy in force.
    pub fn time_policy(&self) -> TimePolicy {
        self.at.policy.get()
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        ATTACHED.with(|a| {
            let mut a = a.borrow_mut();
            if let Some(i) = a.iter().rposition(|x| std::rc::Rc::ptr_eq(x, &self.at)) {
                a.remove(i);
            }
        });
    }
}

/// Attach this thread to `manager`'s application: until the returned guard drops,
/// `CoCreateInstance(&BackgroundCopyManager, None, CLSCTX_LOCAL_SERVER)` returns an
/// IBackgroundCopyManager acting as that application.
pub fn attach(manager: &Manager) -> Attachment {
    let at = std::rc::Rc::new(Attached {
        manager: manager.clone(),
        sim: manager.sim(),
        policy: Cell::new(TimePolicy::RunToNextEventOnPoll),
        callbacks: RefCell::new(BTreeMap::new()),
    });
    ATTACHED.with(|a| a.borrow_mut().push(at.clone()));
    Attachment { at }
}

pub(crate) fn current() -> Option<std::rc::Rc<Attached>> {
    ATTACHED.with(|a| a.borrow().last().cloned())
}

impl Attached {
    /// Apply the time policy before a poll of `job` (never inside a callback: there the clock
    /// stands still, D19).
    pub(crate) fn poll(&self, job: &bitsim::Job) {
        use bitsim::JobState as S;
        if self.sim.in_callback() {
            return;
        }
        let working = matches!(
            job.get_state(),
            Ok(S::Queued | S::Connecting | S::Transferring | S::TransientError)
        );
        if !working {
            return;
        }
        match self.policy.get() {
            TimePolicy::Manual => {}
            TimePolicy::AdvanceOnPoll(d) => self.sim.advance(d),
            TimePolicy::RunToNextEventOnPoll => {
                if let Some(t) = self.sim.with_service(|s| s.next_event_time()) {
                    self.sim.run_until(t);
                }
            }
        }
    }
}

/// CoInitializeEx: initialises COM on this thread. S_OK the first time, S_FALSE when already
/// initialised in the same apartment, RPC_E_CHANGED_MODE in another one.
///
/// # Safety
/// None needed here; `unsafe` only to keep the windows crate's signature.
pub unsafe fn CoInitializeEx(
    _pvreserved: Option<*const core::ffi::c_void>,
    dwcoinit: COINIT,
) -> HRESULT {
    let mode = dwcoinit.0 & COINIT_APARTMENTTHREADED.0;
    COM_INIT.with(|c| {
        let (n, m) = c.get();
        if n == 0 {
            c.set((1, mode));
            S_OK
        } else if m == mode {
            c.set((n + 1, m));
            S_FALSE
        } else {
            RPC_E_CHANGED_MODE
        }
    })
}

/// CoUninitialize: balances one successful CoInitializeEx.
///
/// # Safety
/// None needed here; `unsafe` only to keep the windows crate's signature.
pub unsafe fn CoUninitialize() {
    COM_INIT.with(|c| {
        let (n, m) = c.get();
        c.set((n.saturating_sub(1), m));
    });
}

/// CoCreateInstance for the BITS manager classes. CO_E_NOTINITIALIZED before CoInitializeEx;
/// REGDB_E_CLASSNOTREG for any other class, for a context without CLSCTX_LOCAL_SERVER (BITS is a
/// service: a local server), or when the thread is not attached to a bitsim application (no BITS
/// service there); E_NOINTERFACE when the manager does not implement `T`.
///
/// # Safety
/// `rclsid` points to a GUID.
pub unsafe fn CoCreateInstance<P0, T>(
    rclsid: *const GUID,
    punkouter: P0,
    dwclscontext: CLSCTX,
) -> windows_core::Result<T>
where
    P0: windows_core::Param<windows_core::IUnknown>,
    T: Interface,
{
    if COM_INIT.with(|c| c.get().0) == 0 {
        return Err(CO_E_NOTINITIALIZED.into());
    }
    if rclsid.is_null() {
        return Err(crate::Win32::Foundation::E_INVALIDARG.into());
    }
    // SAFETY: non-null, and the caller passes a pointer to a GUID.
    let clsid = unsafe { *rclsid };
    // SAFETY: `param` is the windows-core conversion of the caller's argument.
    let outer = unsafe { punkouter.param() };
    if !outer.abi().is_null() {
        return Err(crate::Win32::Foundation::CLASS_E_NOAGGREGATION.into());
    }
    if !crate::objects::is_manager_class(&clsid) || (dwclscontext.0 & CLSCTX_LOCAL_SERVER.0) == 0 {
        return Err(REGDB_E_CLASSNOTREG.into());
    }
    let Some(at) = current() else {
        return Err(REGDB_E_CLASSNOTREG.into());
    };
    crate::objects::manager(at)?.cast()
}

/// Every string handed out and not freed yet: its address → (the thread it was handed out on, the
/// units).
#[allow(clippy::type_complexity)]
static ALLOCATIONS: Mutex<BTreeMap<usize, (std::thread::ThreadId, Box<[u16]>)>> =
    Mutex::new(BTreeMap::new());

/// A copy of `s` as a NUL-terminated string the caller frees with [`CoTaskMemFree`].
pub(crate) fn alloc_string(s: &str) -> crate::core::PWSTR {
    let mut b: Box<[u16]> = s.encode_utf16().chain(Some(0)).collect();
    let p = b.as_mut_ptr();
    ALLOCATIONS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(p as usize, (std::thread::current().id(), b));
    crate::core::PWSTR(p)
}

/// A copy of `bytes` the caller frees with [`CoTaskMemFree`] (counted by [`live_allocations`]).
pub(crate) fn alloc_bytes(bytes: &[u8]) -> *mut u8 {
    let mut b: Box<[u16]> = vec![0u16; bytes.len().div_ceil(2).max(1)].into_boxed_slice();
    let p = b.as_mut_ptr().cast::<u8>();
    // SAFETY: the buffer holds at least `bytes.len()` bytes and does not overlap `bytes`.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
    ALLOCATIONS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(p as usize, (std::thread::current().id(), b));
    p
}

/// A copy of `bytes` at an 8-byte aligned address (arrays of BG_FILE_RANGE), freed with
/// [`CoTaskMemFree`] like the others (counted by [`live_allocations`]).
pub(crate) fn alloc_bytes_aligned8(bytes: &[u8]) -> *mut u8 {
    // Three spare u16s leave room to move the start up to the next multiple of 8.
    let mut b: Box<[u16]> = vec![0u16; bytes.len().div_ceil(2).max(1) + 3].into_boxed_slice();
    let base = b.as_mut_ptr().cast::<u8>();
    let p = base.wrapping_add(base.align_offset(8));
    // SAFETY: `p` is at most 6 bytes past `base` and the buffer holds `bytes.len() + 6` bytes; it does
    // not overlap `bytes`.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
    ALLOCATIONS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(p as usize, (std::thread::current().id(), b));
    p
}

/// CoTaskMemFree: frees a string a BITS method returned (null is ignored; so is a pointer this
/// crate did not hand out).
///
/// # Safety
/// `pv` is null or a pointer a method of this crate returned and not yet freed.
pub unsafe fn CoTaskMemFree(pv: Option<*const core::ffi::c_void>) {
    if let Some(p) = pv {
        ALLOCATIONS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(p as usize));
    }
}

/// How many strings this crate handed out on this thread that were not freed with
/// [`CoTaskMemFree`] yet (by any thread): a test asserts that a client freed every string it was
/// given (tests running in parallel on other threads do not disturb the count).
pub fn live_allocations() -> usize {
    let me = std::thread::current().id();
    ALLOCATIONS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .filter(|(t, _)| *t == me)
        .count()
}
