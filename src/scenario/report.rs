//! Running many files and reporting: the JSON report of the contract, the human summary, the trace
//! listing, and the exit status (0 all passed, 1 a step failed, 2 an input was unreadable or invalid).
//!
//! Folders are walked without following a symbolic link into a folder already visited (loops and
//! second links are skipped with a note), only regular `*.json` files are read from them (a FIFO or a
//! device is skipped with a note), an unreadable entry is reported under its own path while the rest
//! still runs, and a file named twice (or reached twice) runs once. Human output escapes control
//! characters in every name, path and message, so a line always means what it says.

use super::json::escape_text;
use super::load::InvalidScenario;
use super::runner::{run, RunOptions, ScenarioResult, TraceSink};
use super::types::Scenario;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

/// The `--json` report: exactly the contract's object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// One entry per scenario run, in file order.
    pub scenarios: Vec<ScenarioReport>,
    /// How many passed.
    pub passed: usize,
    /// How many failed.
    pub failed: usize,
}

/// One scenario in the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioReport {
    /// The file.
    pub file: String,
    /// The scenario's name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Steps run (the failing one included).
    pub steps_run: usize,
    /// `null`, or the first failure. For an input that is not a valid scenario: step 0, `expected`
    /// "a valid scenario file", `actual` what is wrong, `message` the whole error line.
    pub failure: Option<FailureReport>,
    /// Present only for an input that could not be read or is not a valid scenario (nothing of it
    /// ran): where and what.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<InvalidReport>,
}

/// Why an input is not a valid scenario, in the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvalidReport {
    /// 1-based line, when the error has a place in the text.
    pub line: Option<usize>,
    /// 1-based column (characters).
    pub column: Option<usize>,
    /// JSON pointer of the offending value.
    pub pointer: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

/// A failure in the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureReport {
    /// 0-based step index.
    pub step: usize,
    /// What was expected.
    pub expected: String,
    /// What was seen.
    pub actual: String,
    /// A sentence.
    pub message: String,
}

/// Everything one `bitsim run` produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// Results of the valid scenarios, in path order.
    pub results: Vec<ScenarioResult>,
    /// Inputs that could not be read or are not valid scenarios (none of them ran). Each counts as
    /// a failure.
    pub invalid: Vec<InvalidScenario>,
    /// Entries passed over on purpose, one sentence each: non-regular files, folders already
    /// visited (symbolic link loops), files named twice.
    pub skipped: Vec<String>,
}

/// The scenario files named by some paths: see [`collect`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Files to load, each once, in order: the arguments in the order given, a folder's files
    /// sorted by path.
    pub files: Vec<PathBuf>,
    /// Paths that cannot be read (each under its own path).
    pub invalid: Vec<InvalidScenario>,
    /// Entries passed over on purpose, one sentence each.
    pub skipped: Vec<String>,
}

/// Every scenario file named by `paths`: files as given (any kind of file: `bitsim run /dev/stdin`
/// reads a pipe), folders searched for regular `*.json` files, sorted by path. A folder reached a
/// second time (a symbolic link loop, or a second link) is not entered again; a file reached a
/// second time is listed once; an unreadable folder or entry is reported under its own path.
pub fn collect(paths: &[PathBuf]) -> Inputs {
    let mut c = Collector::default();
    for p in paths {
        match std::fs::metadata(p) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                c.inputs
                    .invalid
                    .push(unreadable(p, "no such file or folder"));
            }
            Err(e) => c
                .inputs
                .invalid
                .push(unreadable(p, &format!("cannot read it: {e}"))),
            Ok(m) if m.is_dir() => c.folder(p),
            Ok(_) => c.file(p),
        }
    }
    c.inputs
}

#[derive(Default)]
struct Collector {
    inputs: Inputs,
    /// Canonical path of every folder entered.
    folders: BTreeSet<PathBuf>,
    /// Canonical path → the path it was first listed as.
    files: BTreeMap<PathBuf, PathBuf>,
}

impl Collector {
    fn skip(&mut self, p: &Path, why: &str) {
        self.inputs.skipped.push(format!("{}: {why}", p.display()));
    }

    fn file(&mut self, p: &Path) {
        let key = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        match self.files.get(&key) {
            Some(first) if first == p => {
                let why = "named more than once; it runs once";
                self.skip(p, why);
            }
            Some(first) => {
                let why = format!("the same file as {}; it runs once", first.display());
                self.skip(p, &why);
            }
            None => {
                self.files.insert(key, p.to_path_buf());
                self.inputs.files.push(p.to_path_buf());
            }
        }
    }

    /// Walk `root` (iteratively: deep trees use no stack) and list its regular `*.json` files.
    fn folder(&mut self, root: &Path) {
        match std::fs::canonicalize(root).map(|c| self.folders.insert(c)) {
            Ok(true) => {}
            Ok(false) => {
                return self.skip(root, "a folder already searched; its files run once");
            }
            Err(e) => {
                let msg = format!("cannot read the folder: {e}");
                return self.inputs.invalid.push(unreadable(root, &msg));
            }
        }
        let errors_before = self.inputs.invalid.len();
        let mut found = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let mut entries = Vec::new();
            match std::fs::read_dir(&dir) {
                Err(e) => {
                    let msg = format!("cannot read the folder: {e}");
                    self.inputs.invalid.push(unreadable(&dir, &msg));
                    continue;
                }
                Ok(list) => {
                    for e in list {
                        match e {
                            Ok(e) => entries.push(e.path()),
                            Err(e) => {
                                let msg = format!("cannot list every entry of the folder: {e}");
                                self.inputs.invalid.push(unreadable(&dir, &msg));
                                break;
                            }
                        }
                    }
                }
            }
            entries.sort();
            let mut subfolders = Vec::new();
            for p in entries {
                let json = p.extension().is_some_and(|x| x == "json");
                match std::fs::metadata(&p) {
                    Err(e) if json => {
                        let msg = format!("cannot read the file: {e}");
                        self.inputs.invalid.push(unreadable(&p, &msg));
                    }
                    Err(e) => self.skip(&p, &format!("cannot follow it: {e}")),
                    Ok(m) if m.is_dir() => match std::fs::canonicalize(&p).map(|c| self.folders.insert(c)) {
                        Ok(true) => subfolders.push(p),
                        Ok(false) => self.skip(
                            &p,
                            "a folder already searched (named before, a symbolic link loop or a second link); not entered again",
                        ),
                        Err(e) => {
                            let msg = format!("cannot read the folder: {e}");
                            self.inputs.invalid.push(unreadable(&p, &msg));
                        }
                    },
                    Ok(m) if m.is_file() => {
                        if json {
                            found.push(p);
                        }
                    }
                    Ok(m) if json => {
                        let why = format!(
                            "not a regular file ({}); only regular files are read from a folder",
                            kind_of(&m.file_type())
                        );
                        self.skip(&p, &why);
                    }
                    Ok(_) => {}
                }
            }
            // Depth first, in path order (the first path to a folder reached twice is the one kept).
            stack.extend(subfolders.into_iter().rev());
        }
        if found.is_empty() && self.inputs.invalid.len() == errors_before {
            self.inputs
                .invalid
                .push(unreadable(root, "the folder holds no *.json file"));
        }
        found.sort();
        for f in found {
            self.file(&f);
        }
    }
}

/// What kind of non-regular file this is, for the note that skips it.
fn kind_of(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    let _ = t;
    "not a file or folder"
}

fn unreadable(p: &Path, msg: &str) -> InvalidScenario {
    InvalidScenario {
        file: p.display().to_string(),
        line: None,
        column: None,
        pointer: None,
        message: msg.to_string(),
    }
}

/// Load every file named by `paths`; run the valid ones (an invalid file runs nothing). With
/// [`RunOptions::trace`] each result keeps its trace; [`run_paths_traced`] writes it out instead.
pub fn run_paths(paths: &[PathBuf], opts: &RunOptions) -> Batch {
    run_all(paths, |sc, file| run(sc, file, opts))
}

/// [`run_paths`] (or, with a `trace_to` writer and limit, [`run_paths_traced`]) with
/// `--keep-sandbox DIR`: sandboxes of `"sandbox": true` go to `DIR/<scenario name>/` and stay.
pub fn run_paths_keeping(
    paths: &[PathBuf],
    opts: &RunOptions,
    trace_to: Option<(&mut dyn io::Write, usize)>,
    keep_sandbox: &Path,
) -> Batch {
    match trace_to {
        None => run_all(paths, |sc, file| {
            super::runner::run_keeping(sc, file, opts, Some(keep_sandbox))
        }),
        Some((out, limit)) => traced(paths, out, limit, Some(keep_sandbox)),
    }
}

/// The event lines `--trace` prints per scenario unless told otherwise (about 8 MB of text; a
/// retry storm of a 600-byte file otherwise renders hundreds of megabytes).
pub const DEFAULT_TRACE_LIMIT: usize = 100_000;

/// Like [`run_paths`], writing each scenario's trace to `out` while it runs: `== name (file)`, then
/// per step its heading and its events. At most `limit` event lines per scenario are written (0: no
/// limit); past it the scenario's remaining steps and events are counted in one closing line.
/// Nothing of the trace is kept in memory. Write errors (a closed pipe) end the listing, not the run.
pub fn run_paths_traced(paths: &[PathBuf], out: &mut dyn io::Write, limit: usize) -> Batch {
    traced(paths, out, limit, None)
}

fn traced(
    paths: &[PathBuf],
    out: &mut dyn io::Write,
    limit: usize,
    keep_sandbox: Option<&Path>,
) -> Batch {
    let mut listing = Listing {
        out,
        limit,
        broken: false,
        shown: 0,
        hidden_events: 0,
        hidden_steps: 0,
    };
    run_all(paths, |sc, file| {
        listing.line(&format!("== {} ({file})", sc.name), "");
        listing.shown = 0;
        listing.hidden_events = 0;
        listing.hidden_steps = 0;
        let r = super::runner::run_traced_keeping(sc, file, &mut listing, keep_sandbox);
        listing.close();
        r
    })
}

fn run_all(paths: &[PathBuf], mut run_one: impl FnMut(&Scenario, &str) -> ScenarioResult) -> Batch {
    let inputs = collect(paths);
    let mut batch = Batch {
        results: Vec::new(),
        invalid: inputs.invalid,
        skipped: inputs.skipped,
    };
    for f in inputs.files {
        match Scenario::load(&f) {
            Ok(sc) => batch.results.push(run_one(&sc, &f.display().to_string())),
            Err(e) => batch.invalid.push(e),
        }
    }
    batch
}

/// The streaming `--trace` writer.
struct Listing<'w> {
    out: &'w mut dyn io::Write,
    limit: usize,
    broken: bool,
    shown: usize,
    hidden_events: u64,
    hidden_steps: u64,
}

impl Listing<'_> {
    fn full(&self) -> bool {
        self.limit != 0 && self.shown >= self.limit
    }

    /// One line, escaped, after `indent`.
    fn line(&mut self, text: &str, indent: &str) {
        if self.broken {
            return;
        }
        let r = writeln!(self.out, "{indent}{}", escape_text(text));
        self.broken = r.is_err();
    }

    fn close(&mut self) {
        if self.hidden_events > 0 || self.hidden_steps > 0 {
            let note = format!(
                "… {} more events in {} more steps not shown (--trace-limit {})",
                self.hidden_events, self.hidden_steps, self.limit
            );
            self.line(&note, "  ");
        }
        if !self.broken {
            self.broken = self.out.flush().is_err();
        }
    }
}

impl TraceSink for Listing<'_> {
    fn heading(&mut self, heading: &str) {
        if self.full() {
            self.hidden_steps += 1;
        } else {
            self.line(heading, "  ");
        }
    }

    fn event(&mut self, render: &mut dyn FnMut() -> String) {
        if self.full() {
            self.hidden_events += 1;
        } else {
            self.shown += 1;
            let line = render();
            self.line(&line, "      ");
        }
    }
}

impl Batch {
    /// 2 when an input was invalid, else 1 when a scenario failed, else 0.
    pub fn exit_code(&self) -> i32 {
        if !self.invalid.is_empty() {
            2
        } else if self.results.iter().any(|r| !r.passed) {
            1
        } else {
            0
        }
    }

    /// How many passed, and how many failed (invalid inputs included).
    pub fn counts(&self) -> (usize, usize) {
        let passed = self.results.iter().filter(|r| r.passed).count();
        (passed, self.results.len() - passed + self.invalid.len())
    }

    /// The contract's report object: the scenarios run, in path order, then the invalid inputs
    /// (`passed: false`, `steps_run: 0`, with `failure` and `invalid` saying why).
    pub fn report(&self) -> Report {
        let mut scenarios: Vec<ScenarioReport> = self
            .results
            .iter()
            .map(|r| ScenarioReport {
                file: r.file.clone(),
                name: r.name.clone(),
                passed: r.passed,
                steps_run: r.steps_run,
                failure: r.failure.as_ref().map(|f| FailureReport {
                    step: f.step,
                    expected: f.expected.clone(),
                    actual: f.actual.clone(),
                    message: f.message.clone(),
                }),
                invalid: None,
            })
            .collect();
        scenarios.extend(self.invalid.iter().map(|e| ScenarioReport {
            file: e.file.clone(),
            name: String::new(),
            passed: false,
            steps_run: 0,
            failure: Some(FailureReport {
                step: 0,
                expected: "a valid scenario file".to_string(),
                actual: e.message.clone(),
                message: e.to_string(),
            }),
            invalid: Some(InvalidReport {
                line: e.line,
                column: e.column,
                pointer: e.pointer.clone(),
                message: e.message.clone(),
            }),
        }));
        let (passed, failed) = self.counts();
        Report {
            scenarios,
            passed,
            failed,
        }
    }

    /// The human summary: one line per scenario, details for failures, one `INVALID` line per input
    /// that could not be run, then `N passed, M failed` (invalid inputs counted as failed). Every
    /// value is escaped: a name holding a newline cannot forge a line.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let mut line = |text: String| {
            let _ = writeln!(s, "{}", escape_text(&text));
        };
        for r in &self.results {
            match &r.failure {
                None => line(format!(
                    "PASS {} ({}, {} steps)",
                    r.name, r.file, r.steps_run
                )),
                Some(f) => {
                    line(format!("FAIL {} ({})", r.name, r.file));
                    line(format!("     step {} ({})", f.step, f.what));
                    line(format!("       expected {}", f.expected));
                    line(format!("       actual   {}", f.actual));
                    line(format!("     {}", f.message));
                }
            }
        }
        for e in &self.invalid {
            // The error's Display escapes its parts already.
            let _ = writeln!(s, "INVALID {e}");
        }
        let (passed, failed) = self.counts();
        let _ = writeln!(s, "{passed} passed, {failed} failed");
        s
    }

    /// The `--trace` listing of results run with [`RunOptions::trace`]: per scenario, per step, every
    /// event with its virtual time (escaped like the summary).
    pub fn trace_listing(&self) -> String {
        let mut s = String::new();
        for r in &self.results {
            let _ = writeln!(s, "== {}", escape_text(&format!("{} ({})", r.name, r.file)));
            for b in &r.trace {
                let _ = writeln!(s, "  {}", escape_text(&b.heading));
                for e in &b.events {
                    let _ = writeln!(s, "      {}", escape_text(e));
                }
            }
        }
        s
    }

    /// One line per invalid input (`error: …`) and per skipped entry (`skipped: …`), for stderr.
    pub fn errors(&self) -> String {
        let mut s = String::new();
        for k in &self.skipped {
            let _ = writeln!(s, "skipped: {}", escape_text(k));
        }
        for e in &self.invalid {
            let _ = writeln!(s, "error: {e}");
        }
        s
    }
}
