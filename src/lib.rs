//! # bitsim — a deterministic simulator of Windows BITS
//!
//! bitsim models the Background Intelligent Transfer Service the way a BITS application sees it: the
//! job state machine, error objects and their lifetimes, retries and timeouts, callbacks, and per-user
//! security — on a virtual clock, against a scripted world of servers, in pure Rust on any OS.
//!
//! ```sh
//! cargo run --release -- run fixtures/scenarios   # the main job: run the shipped scenario suite
//! cargo test --release                            # the tests
//! ```
//!
//! Every rule traces back to `docs/bits-semantics.md`: the transition rows (§1.5, `T1`…`T28`) and
//! the simulator decisions (`D1`…`D52`) are cited where they are implemented.
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
//! let app = sim.connect("updater", alice)?;
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
//! ## The public surface
//! Every item has one path. At the crate root:
//! * the simulator and its handles, named after the COM interfaces: [`Sim`], [`Manager`], [`Job`],
//!   [`File`], [`CopyError`], the enumerator objects [`JobEnum`] and [`FileEnum`] (D46) (every method returns `Result<T, HResult>`, and its docs list the HRESULTs
//!   it returns, in which states, under which row), and [`NotifyFlagsArg`];
//! * values: [`HResult`] (every code the real one; a [`std::error::Error`]), [`JobState`], [`JobType`],
//!   [`Priority`], [`ErrorContext`], [`NotifyFlags`], [`ProxyUsage`], [`ProxySettings`],
//!   [`JobProgress`], [`FileProgress`], [`FileInfo`], [`JobTimes`], [`JobId`], [`UserId`], [`AppId`],
//!   [`Protocol`], [`ErrorRecord`], [`ErrorObject`], [`BG_SIZE_UNKNOWN`], [`BG_JOB_ENUM_ALL_USERS`],
//!   and the job defaults and limits in [`defaults`];
//! * virtual time: [`SimTime`], [`SimDuration`] (D13);
//! * the world a test scripts: [`World`] (built with its builder methods), [`Remote`], [`Response`],
//!   [`Fault`], [`Local`], [`Network`], [`Chaos`], [`Class`] and [`default_classification`] (D5);
//! * callbacks (D11, D19): [`Callback`], [`Notification`], [`NotifyEvent`], [`Delivery`], [`Notifier`],
//!   [`AppCode`];
//! * the core under the handles: [`Service`] with [`User`], [`App`], [`Limits`], snapshots
//!   ([`SnapshotError`]), the trace ([`Trace`], [`TraceEvent`], [`TraceKind`], [`TraceIter`],
//!   [`Rule`]) and the engine's bounds ([`StepLimitExceeded`], [`ClockStop`], [`DEFAULT_MAX_STEPS`]);
//! * errors of parsing: [`ParseHResultError`].
//!
//! Two public modules: [`scenario`], the JSON scenario format and its runner (`docs/scenario-format.md`),
//! and `testing` (feature `testing`), the kit of proptest strategies, harness and invariant checker.
//!
//! ## Cargo features
//! * `cli` (default): the `bitsim` command-line tool (clap).
//! * `testing` (default): the `bitsim::testing` kit (proptest).
//!
//! With `default-features = false` the library depends on serde, serde_json and thiserror only; the
//! facade, the core, snapshots, traces and the scenario runner are all there.
//!
//! ## Determinism
//! The same inputs (and chaos seed) give the same trace, byte for byte. Nothing reads the host clock;
//! time is virtual (D13) and moves only when the test advances it, jumping from event to event. No
//! output depends on hash-map iteration order. Host durations convert with
//! `SimDuration::from(std::time::Duration)`, which drops sub-millisecond parts.
//!
//! ## Callbacks and threads
//! A [`Sim`] is single-threaded: it and its handles share one `Rc`, so they are neither `Send` nor
//! `Sync`, and the compiler keeps them on the thread that made them:
//! ```compile_fail
//! fn needs_send<T: Send>(_: T) {}
//! needs_send(bitsim::Sim::default()); // error: `Rc<..>` cannot be sent between threads safely
//! ```
//! A callback registered with [`Job::set_notify_interface`] runs on that thread, at the virtual
//! instant of its event, with the simulator free (D19): the step that caused it queues a call-out,
//! and the simulator delivers it after the step, before the next event is processed (a method call
//! that causes one delivers it before returning). So a callback can act, as Microsoft's samples do:
//! ```
//! use bitsim::{Callback, HResult, Job, JobState, JobType, Notification, Remote, Sim, World};
//!
//! struct CompleteWhenDone;
//! impl Callback for CompleteWhenDone {
//!     fn job_transferred(&mut self, job: &Job, _: &Notification) -> HResult {
//!         match job.complete() {
//!             Ok(_) => HResult::S_OK,
//!             Err(_) => HResult::E_FAIL, // BITS calls again after the retry delay (D11)
//!         }
//!     }
//! }
//! let sim = Sim::new(World::new().remote("https://x.test/a", Remote::sized(10)));
//! let app = sim.connect("app", sim.user("alice"))?;
//! let job = app.create_job("dl", JobType::Download)?;
//! job.add_file("https://x.test/a", "C:\\dl\\a")?;
//! job.set_notify_interface(CompleteWhenDone)?;
//! job.resume()?;
//! sim.advance_secs(1);
//! assert_eq!(job.get_state()?, JobState::Acknowledged);
//! # Ok::<(), HResult>(())
//! ```
//! Inside a callback:
//! * every read works: [`Sim::now`] (the delivery's time), [`Sim::in_callback`] (`true`),
//!   [`Sim::trace`], [`Sim::with_service`], every handle getter;
//! * every handle method works: the callback receives the notified [`Job`] (and, for JobError, its
//!   [`CopyError`]); Complete, Cancel, Resume, GetErrorDescription, [`Manager::exit`] (the
//!   registration is dropped: no more calls) and [`Manager::take_notifications`] (the deliveries so
//!   far; the one in progress is logged when the callback returns, with its answer);
//! * the clock methods ([`Sim::advance`], [`Sim::run_until`], [`Sim::run_until_idle`] and their
//!   `try_` forms) do not move the clock: they record [`TraceKind::ClockInCallback`] and report
//!   [`ClockStop::InCallback`] ([`Sim::last_stop`], or the `Result` of the `try_` forms) — a
//!   callback runs at a fixed instant between two events.
//!
//! What a callback causes (a JobModification for its own Complete, say) is delivered after it
//! returns, in order. A closure `FnMut(&Notification) -> HResult` is a callback that sees only the
//! notification. Scripted answers ([`Job::set_notify_answer`], the scenario format's
//! `register_callback`) are answered inside the step, and [`Manager::take_notifications`] is their
//! pull form. A bare [`Service`] (no `Sim`) has no application to call out to: call-outs to code
//! registered with [`Notifier::Callback`] wait in its queue ([`Service::has_callouts`]) until a `Sim`
//! around it delivers them.
//!
//! Only inside a closure given to [`Sim::with_service`] or [`Sim::with_service_mut`] is the
//! simulator busy: there handle methods fail with RPC_E_CANTCALLOUT_ININPUTSYNCCALL and the other
//! `Sim` methods panic with a message saying so.
//!
//! ## Step bounds
//! Every clock method — [`Service::advance`], [`Service::run_until`], [`Service::run_until_idle`],
//! and the same on [`Sim`] — processes at most [`DEFAULT_MAX_STEPS`] events per call (on a `Sim`,
//! callback deliveries count as events). A call that hits the bound stops with the clock at its last
//! event, records [`TraceKind::StepLimit`], and says so: [`Sim::advance`] and [`Sim::run_until`]
//! return `()` (the common case needs no handling) and [`Sim::last_stop`] tells why they stopped;
//! [`Sim::try_advance`], [`Sim::try_run_until`] and `run_until_idle` return
//! `Err(`[`ClockStop`]`)`; [`Service::try_advance`] and [`Service::try_run_until`] take their own bound
//! and return [`StepLimitExceeded`]; the scenario runner turns it into a step failure naming the
//! bound. No correct run comes near the bound except on purpose: the background time slice is at
//! least 1 s (0 is taken as 1, D20) and nothing is rescheduled at the last instant
//! [`SimTime::MAX`] (D18).
//!
//! In an async program, keep the simulator on one thread: a current-thread runtime, with the
//! simulator's tasks on a `LocalSet` (tokio is not a dependency of this crate, so this block is not
//! compiled here):
//! ```ignore
//! let rt = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
//! let local = tokio::task::LocalSet::new();
//! local.block_on(&rt, async {
//!     let sim = bitsim::Sim::default();
//!     let app = sim.connect("updater", sim.user("alice"))?;
//!     let poller = tokio::task::spawn_local({
//!         let sim = sim.clone();
//!         async move {
//!             // drive the client under test; move virtual time explicitly
//!             sim.advance_secs(60);
//!         }
//!     });
//!     poller.await?;
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })?;
//! ```
//! Other threads talk to that thread through channels. The same shape with the standard library only:
//! ```
//! use bitsim::{JobState, JobType, Remote, Sim, World};
//! use std::sync::mpsc;
//!
//! enum Ask { Download(String), AdvanceSecs(u64), State(mpsc::Sender<Option<JobState>>) }
//! let (tx, rx) = mpsc::channel::<Ask>();
//! let owner = std::thread::spawn(move || {
//!     // The Sim lives and dies on this thread.
//!     let sim = Sim::new(World::new().remote("https://x.test/a", Remote::sized(10)));
//!     let app = sim.connect("app", sim.user("alice")).unwrap();
//!     let mut job = None;
//!     for ask in rx {
//!         match ask {
//!             Ask::Download(url) => {
//!                 let j = app.create_job("dl", JobType::Download).unwrap();
//!                 j.add_file(&url, "C:\\dl\\a").unwrap();
//!                 j.resume().unwrap();
//!                 job = Some(j);
//!             }
//!             Ask::AdvanceSecs(s) => sim.advance_secs(s),
//!             Ask::State(reply) => {
//!                 let _ = reply.send(job.as_ref().and_then(|j| j.get_state().ok()));
//!             }
//!         }
//!     }
//! });
//! tx.send(Ask::Download("https://x.test/a".into())).unwrap();
//! tx.send(Ask::AdvanceSecs(1)).unwrap();
//! let (reply, answer) = mpsc::channel();
//! tx.send(Ask::State(reply)).unwrap();
//! assert_eq!(answer.recv().unwrap(), Some(JobState::Transferred));
//! drop(tx);
//! owner.join().unwrap();
//! ```
//!
//! ## What is modelled
//! Download, upload and upload-reply jobs; every state and transition of spec §1.5 driven by a method
//! call, a transfer outcome, a timer, the network, logon/logoff or a service restart; error records and
//! error objects (D1, D2); retry delay and no-progress timeout (D3, D4) with the D5 classification;
//! error counts (D6); Complete and partial Complete (D7); ownership, administrators and quotas (D9, D14);
//! scheduling by priority with one background job at a time and shared bandwidth (D12); callbacks with
//! retry of failed deliveries (D11); command-line notification and NOTIFICATION_CLSID servers
//! (`World::program`, `World::com_server`, `Service::take_launches`; D49–D52); network cost blocking
//! (T21a, T21b, D53) and the maximum download time (T23, D55); upload-reply server applications and
//! their replies (`Remote::with_reply`, Job2's reply methods; D66, D71, D72); proxies, credentials and
//! HTTP options (D24–D31); the Job3/Job4/Job5 properties (D32–D37); byte ranges (AddFileWithRanges,
//! D57, D58) and rejected content (T29, D59; from a peer T32, D79); Callback2 FileTransferred (D60); on-demand files (File6,
//! ON_DEMAND_MODE, T30) and Callback3 FileRangesTransferred (D61, D73–D77); the Job5 file effects,
//! File5 response headers and peers (D62–D65); downloads materialised in a sandbox folder (D40, D41);
//! service restart (D15).
//!
//! ## What is not modelled
//! Peer caching beyond IsDownloadedFromPeer, helper tokens (T24), battery policies, reply files on disk (the reply is held
//! in memory), and the host file system outside a sandbox.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(unnameable_types)]

// The core modules are private: every public item has exactly one path, the crate root (below), except
// the two public modules `scenario` (the JSON scenario runner) and `testing` (the test kit).
mod api;
mod calls;
mod cmdline;
mod content;
mod engine;
mod enumerate;
mod file_calls;
mod growth;
mod heap;
mod hresult;
mod http;
mod job;
mod job_options;
mod names;
mod notify;
mod ondemand;
mod ord_set;
mod properties;
#[cfg(any(test, feature = "testing"))]
mod proptest_config;
mod ranges;
mod record;
mod reply;
mod sandbox;
pub mod scenario;
mod service;
mod snapshot;
mod state;
#[cfg(feature = "testing")]
pub mod testing;
mod time;
mod trace;
mod transition;
mod url_map;
mod world;

pub use api::{Callback, CopyError, File, Job, Manager, NotifyFlagsArg, Sim};
pub use calls::{ErrorObject, FileInfo};
pub use cmdline::{ComServer, Launch, NotifyWorld, Program, ProgramAction};
pub use content::{Body, Sha256};
pub use engine::{ClockStop, StepLimitExceeded, DEFAULT_MAX_STEPS};
pub use enumerate::{FileEnum, JobEnum};
pub use hresult::{HResult, ParseHResultError};
pub use http::{AuthScheme, AuthTarget, ClientCertificate, Credentials};
pub use job::defaults;
pub use job::{AppId, ErrorRecord, FileProgress, JobId, JobProgress, JobTimes, Protocol, UserId};
pub use notify::{AppCode, Delivery, Notification, Notifier, NotifyEvent};
pub use properties::{
    CertificateBy, CmdLineValue, PriorityValue, Prop, PropertyDecl, PropertyValue, ProxySettings,
    ProxyValue, Scalar, ScalarKind, PROPERTIES,
};
pub use ranges::BG_LENGTH_TO_EOF;
pub use reply::{ReplyData, ReplyProgress, MAX_REPLY_DATA};
pub use service::{App, Limits, Service, User};
pub use snapshot::SnapshotError;
pub use state::{
    ErrorContext, JobState, JobType, NotifyFlags, Priority, ProxyUsage, BG_JOB_ENUM_ALL_USERS,
    BG_SIZE_UNKNOWN,
};
pub use time::{SimDuration, SimTime};
pub use trace::{
    RedirectOutcome, ReplyEvent, RestartReason, TempAction, Trace, TraceEvent, TraceIter,
    TraceKind, TraceText,
};
pub use transition::{EventKind, Rule};
pub use url_map::UrlMap;
pub use world::{
    default_classification, Auth, Chaos, Class, Fault, HttpWorld, Local, Network, Proxy, Received,
    Remote, RemoteHttp, RemoteReply, Request, Requests, Response, ServerCertificate, ServerRecord,
    World,
};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
