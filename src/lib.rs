//! # bitsim — a deterministic simulator of Windows BITS
//!
//! bitsim models the Background Intelligent Transfer Service the way a BITS application sees it: the
//! job state machine, error objects and their lifetimes, retries and timeouts, callbacks, and per-user
//! security — on a virtual clock, against a scripted world of servers, in pure Rust on any OS.
//!
//! Every rule traces back to `docs/bits-semantics.md`: the transition rows (§1.5, `T1`…`T28`) and
//! the simulator decisions (`D1`…`D15`) are cited where they are implemented.
//!
//! ## Determinism
//! The same inputs (and chaos seed) give the same trace, byte for byte. Nothing reads the host clock;
//! time is virtual (D13) and moves only when the test advances it, jumping from event to event. No
//! output depends on hash-map iteration order.
//!
//! ## Quick start
//! ```
//! use bitsim::{HResult, JobState, JobType, Remote, Response, Sim, World};
//!
//! let world = World::new()
//!     .remote("https://example.test/a.bin", Remote::sized(1_000_000))
//!     .remote("https://example.test/flaky.bin",
//!             Remote::sized(4096).with_responses([Response::http(503)]));
//! let sim = Sim::new(world);
//! let alice = sim.user("alice");
//! let app = sim.connect("updater", alice);
//!
//! let job = app.create_job("update", JobType::Download)?;
//! job.add_file("https://example.test/flaky.bin", "C:\\tmp\\flaky.bin")?;
//! job.resume()?;
//! sim.advance_secs(1);
//! // A 503 is transient: the job waits for the retry delay (600 s by default, D3).
//! assert_eq!(job.get_state()?, JobState::TransientError);
//! assert_eq!(job.get_error()?.get_error()?.1, HResult::http(503));
//! sim.advance_secs(600);
//! assert_eq!(job.get_state()?, JobState::Transferred);
//! assert_eq!(job.complete()?, HResult::S_OK);
//! # Ok::<(), HResult>(())
//! ```
//!
//! ## What is modelled
//! Download, upload and upload-reply jobs; every state and transition of spec §1.5 driven by a method
//! call, a transfer outcome, a timer, the network, logon/logoff or a service restart; error records and
//! error objects (D1, D2); retry delay and no-progress timeout (D3, D4) with the D5 classification;
//! error counts (D6); Complete and partial Complete (D7); ownership, administrators and quotas (D9, D14);
//! scheduling by priority with one background job at a time and shared bandwidth (D12); callbacks with
//! retry of failed deliveries (D11); service restart (D15).
//!
//! ## What is not modelled
//! Proxies and credentials (settings are stored, never used), byte ranges, peer caching, helper tokens,
//! cost and battery policies, the MaxDownloadTime and JobInactivityTimeout policies (T22–T24),
//! command-line notifications, FileTransferred callbacks, reply data of upload-reply jobs (the reply is
//! empty), elevation and integrity levels beyond the administrator flag, and the host file system.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
pub mod calls;
pub mod engine;
mod heap;
pub mod hresult;
pub mod job;
pub mod names;
pub mod notify;
pub mod properties;
pub mod record;
pub mod scenario;
pub mod service;
pub mod snapshot;
pub mod state;
pub mod testing;
pub mod time;
pub mod trace;
pub mod transition;
pub mod world;

pub use api::{CopyError, File, Job, Manager, Sim};
pub use calls::{ErrorObject, FileInfo};
pub use engine::{StepLimitExceeded, DEFAULT_MAX_STEPS};
pub use hresult::{HResult, ParseHResultError};
pub use job::{AppId, ErrorRecord, FileProgress, JobId, JobProgress, JobTimes, Protocol, UserId};
pub use notify::{Callback, Delivery, Notification, Notifier, NotifyEvent};
pub use properties::{Prop, PropertyDecl, PropertyValue, ProxySettings, PROPERTIES};
pub use service::{App, Limits, Service, User, WorldMut};
pub use snapshot::SnapshotError;
pub use state::{
    ErrorContext, JobState, JobType, NotifyFlags, Priority, ProxyUsage, BG_JOB_ENUM_ALL_USERS,
    BG_SIZE_UNKNOWN,
};
pub use time::{SimDuration, SimTime};
pub use trace::{Trace, TraceEvent, TraceIter, TraceKind};
pub use world::{Chaos, Class, Fault, Local, Network, Remote, Response, World};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
