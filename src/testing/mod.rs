//! The testing kit: property tests, model tests and fuzzing against the simulator — for this crate and
//! for BITS client code tested with it.
//!
//! The kit speaks the scenario vocabulary ([`crate::scenario`]): a generated run is a list of
//! scenario steps ([`Draw`]: a [`scenario::Action`](crate::scenario::Action) whose names are picked by
//! index when it runs), applied by the scenario runner's own interpreter, and written back by the
//! scenario writer. Calls the contract has as checks (GetState, GetProgress, GetErrorCount, GetOwner,
//! GetError, EnumJobs, the callback deliveries, an enumerator's GetCount) are generated as checks and
//! run in *observe mode*: the runner records what the getter read instead of comparing it, and the
//! step written to the replay states the observed value, so the replay passes exactly when the
//! simulator answers the same way again. Operations are written with the HRESULT they returned, and
//! `enum_next` with the `fetched` and `names` it handed out.
//!
//! The steps drawn: CreateJob, GetJob, the job methods and setters (the property table's, the HTTP
//! and Job3 calls, the file calls), GetError kept or not, the checks above, time, network, logon and
//! logoff, `set_remote`, applications connecting and exiting, service restarts, and the held
//! enumerators of D46 ([`strategies::enumerator_draw`]: `enum_jobs`, `enum_files`, `enum_next`,
//! `enum_skip`, `enum_reset`, `enum_clone`, `check enum_count`, the enumerator picked by index among
//! those held).
//!
//! * [`strategies`]: proptest strategies for [`Setup`]s (scenario worlds, users, chaos) and step
//!   sequences by several applications and users.
//! * [`Harness`]: runs steps, records what every call returned, probes every handle and held error
//!   object after every step, and checks the invariants.
//! * [`check_invariants`] / [`Checker`]: the rules every run obeys — D1 (GetError succeeds iff the
//!   job entered an error state since it last entered TRANSFERRING), D2 (held error objects and
//!   handles work until TRANSFERRING / application exit / service restart, then fail with the right
//!   code), §1.3 (final states absorb, mutators there give BG_E_INVALID_STATE), D6 (the error count
//!   never decreases and moves as decided), D9 (no user sees or changes another's job), D12 and D10
//!   (the scheduler at settled instants), D13 (time never goes back), §1.1/§1.5 (one state at a time,
//!   only edges of the table), D46 for every held enumerator ([`EnumCursor`]: the snapshot of
//!   `enum_jobs` is what EnumJobs lists then, §2.1, and `enum_files`' is the job's files then;
//!   GetCount is the snapshot's size and never changes, a clone's too; Next hands out at most celt
//!   and returns S_FALSE exactly when fewer; Skip likewise, Reset rewinds, Clone keeps the position;
//!   RPC_E_DISCONNECTED once its application exited or the service restarted).
//! * [`FileChecker`]: the file invariants of a sandboxed run (a setup whose world has `"sandbox":
//!   true`: the [`Harness`] makes a fresh folder under the system's temporary folder, removes it when
//!   dropped, also while a panic unwinds, and runs this checker after every step too) — D40 (a
//!   non-final download's temporary file holds exactly its `bytes_transferred`, the bytes the service
//!   has written, and they are that prefix of the remote's body as the crate's content generator makes it,
//!   ranges concatenated per D58; a completed job's fully transferred files hold exactly the body at
//!   their local names; a completed or cancelled job's temporary files are gone for good), D63 (a
//!   HIGH_PERFORMANCE job's local name holds its bytes instead), D41 (nothing in the sandbox that no
//!   job or world local accounts for, no symbolic link, nothing written beside the sandbox).
//! * [`replay`] and [`Counterexample`]: any run as a [`Scenario`](crate::scenario::Scenario), ready to
//!   commit as a regression fixture.
//! * [`fuzz_ops`], [`fuzz_scenario`]: the fuzz target bodies. An input whose first byte is
//!   [`SANDBOX_MARK`] runs sandboxed (sizes scaled down), file invariants included.
//!   A first byte [`FILES_MARK`] adds the file calls (draw tag [`FILE_CALL_TAG`]); a first byte
//!   [`HTTP_MARK`] gives the world HTTP gates (credentials, certificates, headers, redirects, a proxy).
//!   A first byte [`ENUMS_MARK`] adds the held-enumerator steps (draw tags [`ENUM_TAG`] and up).
//!
//! ## Testing your own client
//! Drive a [`Sim`](crate::Sim) with your client's code under generated worlds, and check both the
//! simulator's invariants and your client's own properties:
//!
//! ```
//! use bitsim::testing::{check_invariants, config, strategies, Observations};
//! use bitsim::{JobState, JobType, Sim};
//! use proptest::test_runner::TestRunner;
//!
//! let mut runner = TestRunner::new(config(16));
//! runner
//!     .run(&strategies::world(), |world| {
//!         let url = world.remotes().keys().next().unwrap().clone();
//!         let sim = Sim::new(world);
//!         let app = sim.connect("client", sim.user("alice")).unwrap();
//!         // "the client": download one file, give up after a day
//!         let job = app.create_job("update", JobType::Download).unwrap();
//!         job.add_file(&url, "C:\\dl\\update.bin").unwrap();
//!         job.resume().unwrap();
//!         sim.advance_secs(86_400);
//!         match job.get_state().unwrap() {
//!             JobState::Transferred => { job.complete().unwrap(); }
//!             _ => { job.cancel().unwrap(); }
//!         }
//!         // the client's property: it never leaves a job behind
//!         assert!(job.get_state().unwrap().is_final());
//!         check_invariants(&sim, &Observations::default()).unwrap();
//!         Ok(())
//!     })
//!     .unwrap();
//! ```
//!
//! `examples/updater.rs` and `tests/example_policy.rs` do this for a realistic update client,
//! including a deliberately broken variant that the kit catches.

mod draw;
mod fuzz;
mod harness;
mod history;
mod invariants;
mod replay;
pub mod strategies;

#[cfg(test)]
mod selftest;

pub use draw::{
    local_names, local_path, make, remote_names, remote_url, Draw, Setup, SetupError,
    DOWNLOAD_LOCALS, INVALID_LOCALS, INVALID_REMOTES, UNKNOWN_URL, USER_NAMES,
};
pub use fuzz::{
    add_http_gates, decode_run, fuzz_ops, fuzz_scenario, run_scenario, FuzzLimits, ScenarioVerdict,
    EDGE_HTTP_STATUSES, EDGE_SIZES, EDGE_USER_NAMES, EDGE_WIN32_CODES, ENUMS_MARK, ENUM_TAG,
    FILES_MARK, FILE_CALL_TAG, FUZZ_CREDENTIALS, FUZZ_HEADER, FUZZ_PROXY, HTTP_MARK, MAX_FUZZ_OPS,
    SANDBOX_EDGE_SIZES, SANDBOX_MARK,
};
pub use harness::{AppSlot, EnumSlot, HandleSlot, Harness, HeldSlot, JobSlot, Record};
pub use history::{legal_edge, History, JobFacts};
pub use invariants::{
    check_invariants, Checker, EnumCursor, Expect, FileChecker, Judge, Moved, Observations,
    Observed, Seen, Violation,
};
pub use replay::{replay, Counterexample};

pub use crate::proptest_config::{config, DEFAULT_SEED};
