//! Running many files and reporting: the JSON report of the contract, the human summary, the trace
//! listing, and the exit status (0 all passed, 1 a step failed, 2 an input was unreadable or invalid).

use super::load::InvalidScenario;
use super::runner::{run, RunOptions, ScenarioResult};
use super::types::Scenario;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
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
    /// `null`, or the first failure.
    pub failure: Option<FailureReport>,
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
    /// Inputs that could not be read or are not valid scenarios (none of them ran).
    pub invalid: Vec<InvalidScenario>,
}

/// Every scenario file named by `paths`: files as given, folders searched recursively for `*.json`,
/// sorted by path. Paths that cannot be read are reported as invalid inputs.
pub fn collect(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<InvalidScenario>) {
    let mut files = Vec::new();
    let mut bad = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            if let Err(e) = walk(p, &mut found) {
                bad.push(unreadable(p, &format!("cannot read the folder: {e}")));
                continue;
            }
            if found.is_empty() {
                bad.push(unreadable(p, "the folder holds no *.json file"));
            }
            found.sort();
            files.extend(found);
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            bad.push(unreadable(p, "no such file or folder"));
        }
    }
    (files, bad)
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

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
    Ok(())
}

/// Load every file named by `paths`; run the valid ones (an invalid file runs nothing).
pub fn run_paths(paths: &[PathBuf], opts: &RunOptions) -> Batch {
    let (files, mut invalid) = collect(paths);
    let mut results = Vec::new();
    for f in files {
        match Scenario::load(&f) {
            Ok(sc) => results.push(run(&sc, &f.display().to_string(), opts)),
            Err(e) => invalid.push(e),
        }
    }
    Batch { results, invalid }
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

    /// The contract's report object.
    pub fn report(&self) -> Report {
        let scenarios: Vec<ScenarioReport> = self
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
            })
            .collect();
        let passed = scenarios.iter().filter(|s| s.passed).count();
        Report {
            failed: scenarios.len() - passed,
            passed,
            scenarios,
        }
    }

    /// The human summary: one line per scenario, details for failures, then `N passed, M failed`.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for r in &self.results {
            match &r.failure {
                None => {
                    let _ = writeln!(s, "PASS {} ({}, {} steps)", r.name, r.file, r.steps_run);
                }
                Some(f) => {
                    let _ = writeln!(s, "FAIL {} ({})", r.name, r.file);
                    let _ = writeln!(s, "     step {} ({})", f.step, f.what);
                    let _ = writeln!(s, "       expected {}", f.expected);
                    let _ = writeln!(s, "       actual   {}", f.actual);
                    let _ = writeln!(s, "     {}", f.message);
                }
            }
        }
        let report = self.report();
        let _ = writeln!(s, "{} passed, {} failed", report.passed, report.failed);
        s
    }

    /// The `--trace` listing: per scenario, per step, every event with its virtual time.
    pub fn trace_listing(&self) -> String {
        let mut s = String::new();
        for r in &self.results {
            let _ = writeln!(s, "== {} ({})", r.name, r.file);
            for b in &r.trace {
                let _ = writeln!(s, "  {}", b.heading);
                for e in &b.events {
                    let _ = writeln!(s, "      {e}");
                }
            }
        }
        s
    }

    /// One line per invalid input.
    pub fn errors(&self) -> String {
        let mut s = String::new();
        for e in &self.invalid {
            let _ = writeln!(s, "error: {e}");
        }
        s
    }
}
