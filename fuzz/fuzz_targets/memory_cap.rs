//! A counting global allocator for the fuzz targets: every input runs under [`capped`], which fails
//! the input when the heap it allocates (peak live bytes above what was live before it) exceeds
//! [`MAX_INPUT_HEAP`]. libFuzzer's own `-rss_limit_mb` catches the process as a whole; this catches
//! one input that grows the simulator's state (trace, jobs, queues) far beyond what any input needs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The heap one input may use at its peak.
pub const MAX_INPUT_HEAP: usize = 256 << 20;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting live bytes and their peak.
pub struct Counting;

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call is forwarded unchanged to the system allocator; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Relaxed);
            grew(new_size);
        }
        p
    }
}

/// Run one input, then fail it if its peak heap went over [`MAX_INPUT_HEAP`].
pub fn capped(run: impl FnOnce()) {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    run();
    let used = PEAK.load(Relaxed).saturating_sub(base);
    assert!(
        used <= MAX_INPUT_HEAP,
        "the input used {used} bytes of heap at its peak, over the cap of {MAX_INPUT_HEAP}"
    );
}
