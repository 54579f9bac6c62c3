//! The `bitsim` binary: exit codes, the human summary, the `--json` report, `--trace`, and `graph`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{json_files, root};

fn bitsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bitsim"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("bitsim runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scenario file in a fresh folder under the test temp dir.
fn temp_file(dir: &str, name: &str, text: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(dir);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const FAILING: &str = r#"{
  "name": "expects-too-much",
  "description": "T2: Resume gives QUEUED; this file wrongly expects TRANSFERRING to test the report.",
  "world": { "remotes": { "https://x.test/a": { "size": 10 } } },
  "steps": [
    { "do": "create_job", "name": "p", "bind": "j" },
    { "do": "add_file", "job": "j", "remote": "https://x.test/a", "local": "C:\\a" },
    { "do": "resume", "job": "j" },
    { "check": "state", "job": "j", "is": "TRANSFERRING" },
    { "check": "time", "seconds": 0 }
  ]
}"#;

#[test]
fn fixture_folder_exits_0_and_ends_with_the_count() {
    let o = bitsim(&["run", "fixtures/scenarios"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let n = json_files(&root().join("fixtures/scenarios")).len();
    assert_eq!(
        out.lines().last(),
        Some(format!("{n} passed, 0 failed").as_str())
    );
    assert!(
        out.contains(
            "PASS http-404-is-fatal (fixtures/scenarios/http-404-is-fatal.json, 10 steps)"
        ),
        "{out}"
    );
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn a_failing_step_exits_1_with_step_expected_and_actual() {
    let p = temp_file("cli-fail", "fail.json", FAILING);
    let o = bitsim(&["run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("FAIL expects-too-much"), "{out}");
    assert!(
        out.contains("step 3 (check state j is TRANSFERRING)"),
        "{out}"
    );
    assert!(out.contains("expected TRANSFERRING\n"), "{out}");
    assert!(out.contains("actual   QUEUED\n"), "{out}");
    assert!(
        out.contains("j is QUEUED, but the scenario expects TRANSFERRING"),
        "{out}"
    );
    assert_eq!(out.lines().last(), Some("0 passed, 1 failed"));
}

#[test]
fn json_report_has_exactly_the_contract_shape() {
    let p = temp_file("cli-json", "fail.json", FAILING);
    let ok = root().join("fixtures/scenarios/resume-empty-job-is-bg-e-empty.json");
    let o = bitsim(&["run", "--json", ok.to_str().unwrap(), p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is one JSON object");
    let mut top: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    top.sort();
    assert_eq!(top, ["failed", "passed", "scenarios"]);
    assert_eq!(v["passed"], 1);
    assert_eq!(v["failed"], 1);
    let s = v["scenarios"].as_array().unwrap();
    assert_eq!(s.len(), 2);
    let keys: Vec<&str> = s[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["failure", "file", "name", "passed", "steps_run"]);
    assert_eq!(s[0]["name"], "resume-empty-job-is-bg-e-empty");
    assert_eq!(s[0]["passed"], true);
    assert_eq!(s[0]["steps_run"], 8);
    assert!(s[0]["failure"].is_null());
    assert_eq!(s[1]["file"], p.display().to_string());
    assert_eq!(s[1]["passed"], false);
    assert_eq!(s[1]["steps_run"], 4);
    let f = s[1]["failure"].as_object().unwrap();
    let mut fkeys: Vec<&str> = f.keys().map(String::as_str).collect();
    fkeys.sort();
    assert_eq!(fkeys, ["actual", "expected", "message", "step"]);
    assert_eq!(f["step"], 3);
    assert_eq!(f["expected"], "TRANSFERRING");
    assert_eq!(f["actual"], "QUEUED");
    // The library's typed report reads it back (unknown fields would be refused).
    let r: bitsim::scenario::Report = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((r.passed, r.failed), (1, 1));
}

#[test]
fn invalid_files_exit_2_name_the_place_and_valid_ones_still_run() {
    let bad = root().join("fixtures/malformed/unknown-job-alias.json");
    let good = root().join("fixtures/scenarios/new-job-defaults.json");
    let o = bitsim(&["run", bad.to_str().unwrap(), good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("unknown-job-alias.json:7:31: /steps/3/job: unknown job alias \"j2\""),
        "{err}"
    );
    let out = stdout(&o);
    assert!(out.contains("PASS new-job-defaults"), "{out}");
    // The invalid file is a failure on stdout too, with its error.
    assert!(
        out.contains("\nINVALID ")
            && out.contains("unknown-job-alias.json:7:31: /steps/3/job: unknown job alias \"j2\""),
        "{out}"
    );
    assert_eq!(out.lines().last(), Some("1 passed, 1 failed"));
    let n = std::fs::read_dir(root().join("fixtures/malformed"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    let o = bitsim(&["run", "fixtures/malformed"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stdout(&o).lines().last(),
        Some(format!("0 passed, {n} failed").as_str())
    );
    assert_eq!(
        stderr(&o)
            .lines()
            .filter(|l| l.starts_with("error: "))
            .count(),
        n
    );

    let o = bitsim(&["run", "no/such/file.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no/such/file.json: no such file or folder"));
}

#[test]
fn trace_prints_state_changes_with_virtual_times() {
    let o = bitsim(&[
        "run",
        "--trace",
        "fixtures/scenarios/http-500-transient-retry-succeeds.json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for line in [
        "== http-500-transient-retry-succeeds",
        "[3] do advance 0s",
        "t=0s j QUEUED -> CONNECTING (T4)",
        "t=0s j file 0 connect: BG_E_HTTP_ERROR_500",
        "t=0s j CONNECTING -> TRANSIENT_ERROR (T6)",
        "t=0s j retry armed for t=600s (D3)",
        "t=600s j TRANSIENT_ERROR -> QUEUED (T11)",
        "t=600s j CONNECTING -> TRANSFERRING (T5)",
        "t=600s j error record dropped (D1)",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    assert_eq!(out.lines().last(), Some("1 passed, 0 failed"));
}

#[test]
fn graph_is_generated_from_the_table() {
    let o = bitsim(&["graph"]);
    assert_eq!(o.status.code(), Some(0));
    let dot = stdout(&o);
    assert!(dot.starts_with("digraph"));
    assert!(
        dot.contains("SUSPENDED -> QUEUED [label=\"Resume (T2)\"];"),
        "{dot}"
    );
    let o = bitsim(&["graph", "--mermaid"]);
    let committed = std::fs::read_to_string(root().join("docs/state-machine.md")).unwrap();
    assert_eq!(stdout(&o), committed);
    assert!(committed.contains("SUSPENDED --> QUEUED: Resume (T2)"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(bitsim(&["run"]).status.code(), Some(2));
    assert_eq!(bitsim(&["frobnicate"]).status.code(), Some(2));
}
