//! Scenario files: the JSON format of `docs/scenario-format.md`, its loader, its runner and its
//! reports.
//!
//! A scenario sets up a simulated world, drives BITS through a list of steps, and checks what comes
//! back. Scenarios are the project's fixtures, its conformance suite, the replay format for failures
//! found by fuzzing, and the input of the `bitsim` command line, which is a thin shell over this module.
//!
//! ```
//! use bitsim::scenario::{run, RunOptions, Scenario};
//!
//! let text = r#"{
//!   "name": "resume-empty",
//!   "description": "T3: Resume on a job without files returns BG_E_EMPTY and keeps it SUSPENDED.",
//!   "steps": [
//!     { "do": "create_job", "name": "empty", "bind": "j" },
//!     { "do": "resume", "job": "j", "expect": "BG_E_EMPTY" },
//!     { "check": "state", "job": "j", "is": "SUSPENDED" }
//!   ]
//! }"#;
//! let sc = Scenario::parse(text, "inline.json").unwrap();
//! let result = run(&sc, "inline.json", &RunOptions::default());
//! assert!(result.passed, "{:?}", result.failure);
//! ```
//!
//! Decisions where the contract is silent (none of them loosens it):
//! - Step indexes in reports are 0-based, the same numbers as the JSON pointers `/steps/N`.
//! - `create_job` requires `bind`; aliases (job and error) are bound once per file and must be new.
//! - `connect` names a new application (one that is not connected at that point; an exited name may
//!   connect again). `app` is refused on steps no application makes (`advance`, `network`, …) and
//!   `expect` on steps that call no BITS method.
//! - `check error` takes `none: true` alone, or at least one of `context`, `code`, `file`.
//! - `check jobs`: `count` is required when EnumJobs is expected to succeed and refused when it is
//!   expected to fail; `names` must be written sorted.
//! - Checks that can never pass are refused at load (the list is in `docs/scenario-format.md`,
//!   "Checks"); JSON nesting is limited to 128 levels, a file to 16 MiB.
//! - `check progress` needs at least one field; `users`, when given, lists at least one user.
//! - `run_until_idle` with `max_seconds` stops at the bound without failing; without it, the engine's
//!   step limit is a step failure. `advance` is bounded by the same number of engine events
//!   (`DEFAULT_MAX_STEPS`): a step that hits it fails, naming the bound and where the clock stopped.
//! - HTTP statuses are 100–599; Win32 error numbers 1–65535; a remote `size` of 2^64−1 is refused (it
//!   is BG_SIZE_UNKNOWN: leave `size` out instead).
//! - `get_job` without `bind` (re)binds the calling application's handle for the alias it names.
//! - An empty `steps` array is a valid scenario that passes with 0 steps run; a folder without any
//!   `*.json` file is an input error (exit status 2), like a path that does not exist.
//! - Report values `expected` and `actual` are strings; `bitsim run --json --trace` keeps stdout the
//!   bare report and prints the trace on stderr.
//!
//! Files are read by a loader of our own rather than by derived `Deserialize` impls: a reader of JSON's
//! exact grammar builds a position-keeping tree borrowing from the text (a text it refuses gets
//! serde_json's syntax message, with line and column), which lets every semantic error name its JSON
//! pointer *and* its line and column, keeps the `users` order, and refuses duplicate keys.
//! Unknown fields are refused everywhere, each message listing the fields that are allowed there.

pub(crate) mod checks;
mod cmdline;
pub(crate) mod convention;
mod file_checks;
pub mod graph;
mod http;
mod json;
mod load;
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) mod observe;
mod ops;
mod read_checks;
mod report;
pub(crate) mod runner;
mod steps;
mod types;
mod write;

pub use cmdline::LaunchSpec;
pub use load::{InvalidScenario, MAX_FILE_BYTES};
pub use report::{
    collect, run_paths, run_paths_keeping, run_paths_traced, Batch, FailureReport, Inputs,
    InvalidReport, Report, ScenarioReport, DEFAULT_TRACE_LIMIT,
};
pub use runner::{
    describe, run, run_keeping, run_traced, run_traced_keeping, RunOptions, ScenarioResult,
    StepFailure, TraceBlock, TraceSink,
};
pub use types::{
    Action, BytesTotal, Check, ErrorExpectation, LastRequest, Op, Scenario, StateMethod, Step,
    UserSpec, WorldOptions, WorldSpec, DEFAULT_APP, DEFAULT_USER,
};
pub use types::{BodyCheck, FileSet, FileValue, LocalTarget, SameAs, SandboxSpec};
