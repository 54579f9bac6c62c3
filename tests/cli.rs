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

/// A scenario that passes, named `name`.
fn passing(name: &str) -> String {
    format!(
        r#"{{ "name": {}, "description": "T1: a new job is SUSPENDED.", "steps": [
  {{ "do": "create_job", "name": "n", "bind": "j" }},
  {{ "check": "state", "job": "j", "is": "SUSPENDED" }}
] }}"#,
        serde_json::to_string(name).unwrap()
    )
}

/// A fresh, empty folder under the test temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    if d.exists() {
        // Restore permissions a previous run may have taken away, then start over.
        let _ = Command::new("chmod")
            .arg("-R")
            .arg("u+rwx")
            .arg(&d)
            .status();
        std::fs::remove_dir_all(&d).unwrap();
    }
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn json_nested_past_the_limit_exits_2_with_place_and_pointer_not_a_stack_overflow() {
    // 50,000 levels used to overflow the stack of the positioned reader (abort, exit 134).
    let n = 50_000;
    let text = format!(
        "{{\"name\": \"deep\", \"description\": \"d\",\n \"steps\": [{}{}]}}",
        "[".repeat(n),
        "]".repeat(n)
    );
    let p = temp_file("cli-deep", "deep.json", &text);
    let o = bitsim(&["run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    // The file is level 1 and `steps` level 2 (column 11 of line 2); level 3 opens at column 12,
    // so level 129, the first one refused, at column 12 + 126.
    let place = format!(
        "deep.json:2:{}: /steps/0{}: nested deeper than 128 levels",
        12 + 126,
        "/0".repeat(126)
    );
    assert!(err.contains(&place), "{err}");
    assert_eq!(stdout(&o).lines().last(), Some("0 passed, 1 failed"));
}

#[cfg(unix)]
#[test]
fn folder_walks_survive_loops_fifos_unreadable_entries_and_duplicates() {
    use std::os::unix::fs::symlink;
    let d = temp_dir("cli-walk");
    std::fs::write(d.join("a.json"), passing("a")).unwrap();
    std::fs::create_dir_all(d.join("sub/deeper")).unwrap();
    std::fs::write(d.join("sub/b.json"), passing("b")).unwrap();
    std::fs::write(d.join("sub/deeper/c.json"), passing("c")).unwrap();
    // Two symlink loops: following them gave 2^40 paths (a hang).
    symlink("..", d.join("sub/up")).unwrap();
    symlink("../..", d.join("sub/deeper/up2")).unwrap();
    // A FIFO named *.json blocked forever.
    let fifo = d.join("sub/pipe.json");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    // An entry that cannot be read, reported under its own path.
    symlink("nowhere", d.join("sub/broken.json")).unwrap();
    // A subfolder that cannot be read (unless running as root, which reads anyway).
    std::fs::create_dir_all(d.join("locked")).unwrap();
    std::fs::write(d.join("locked/x.json"), passing("x")).unwrap();
    assert!(Command::new("chmod")
        .arg("000")
        .arg(d.join("locked"))
        .status()
        .unwrap()
        .success());
    // Root reads the folder anyway: run as "nobody" when that is possible.
    let root_user = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let drop_to_nobody = root_user
        && Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "true"])
            .status()
            .is_ok_and(|s| s.success());
    let locked_readable = !drop_to_nobody && std::fs::read_dir(d.join("locked")).is_ok();

    let dir = d.to_str().unwrap().to_string();
    let a = d.join("a.json").to_str().unwrap().to_string();
    let args = ["run", &dir, &a, &dir];
    let started = std::time::Instant::now();
    let o = if drop_to_nobody {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_bitsim"))
            .args(args)
            .current_dir(root())
            .output()
            .unwrap()
    } else {
        bitsim(&args)
    };
    assert!(started.elapsed().as_secs() < 60, "the walk must not hang");
    let _ = Command::new("chmod")
        .arg("755")
        .arg(d.join("locked"))
        .status();
    let out = stdout(&o);
    let err = stderr(&o);
    // Every regular file runs exactly once, in path order.
    let passes: Vec<&str> = out.lines().filter(|l| l.starts_with("PASS ")).collect();
    let mut want = vec![
        format!("PASS a ({dir}/a.json, 2 steps)"),
        format!("PASS b ({dir}/sub/b.json, 2 steps)"),
        format!("PASS c ({dir}/sub/deeper/c.json, 2 steps)"),
    ];
    if locked_readable {
        want.insert(1, format!("PASS x ({dir}/locked/x.json, 2 steps)"));
    } else {
        assert!(
            err.contains(&format!("error: {dir}/locked: cannot read the folder")),
            "{err}"
        );
    }
    assert_eq!(passes, want, "{out}{err}");
    // The broken entry is a failure under its own path; the rest still ran.
    assert!(
        err.contains(&format!(
            "error: {dir}/sub/broken.json: cannot read the file"
        )),
        "{err}"
    );
    let failed = if locked_readable { 1 } else { 2 };
    assert_eq!(
        out.lines().last(),
        Some(format!("{} passed, {failed} failed", want.len()).as_str())
    );
    assert_eq!(o.status.code(), Some(2));
    // What was passed over, and why.
    for note in [
        format!("skipped: {dir}/sub/pipe.json: not a regular file (a FIFO)"),
        format!("skipped: {dir}/sub/up: a folder already searched"),
        format!("skipped: {dir}/sub/deeper/up2: a folder already searched"),
        format!("skipped: {a}: named more than once; it runs once"),
        format!("skipped: {dir}: a folder already searched; its files run once"),
    ] {
        assert!(err.contains(&note), "missing {note:?} in\n{err}");
    }
}

#[test]
fn the_same_file_named_twice_runs_once() {
    let p = temp_file("cli-twice", "t.json", &passing("t"));
    let p = p.to_str().unwrap();
    let o = bitsim(&["run", p, p]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).matches("PASS t ").count(), 1);
    assert_eq!(stdout(&o).lines().last(), Some("1 passed, 0 failed"));
}

/// A retry storm in about 500 bytes: a 503 every 5 s for `seconds`.
fn storm(seconds: u64) -> String {
    format!(
        r#"{{"name":"storm","description":"D3: a 503 is retried every 5 s, for ever.","world":{{"remotes":{{"https://x.test/a":{{"size":10,"otherwise":{{"http":503}}}}}}}},
"steps":[{{"do":"create_job","name":"a","bind":"a"}},{{"do":"add_file","job":"a","remote":"https://x.test/a","local":"C:\\a"}},
{{"do":"set","job":"a","property":"minimum_retry_delay","value":5}},{{"do":"set","job":"a","property":"no_progress_timeout","value":4294967295}},
{{"do":"resume","job":"a"}},{{"do":"advance","seconds":{seconds}}},{{"do":"advance","seconds":1}}]}}"#
    )
}

#[test]
fn trace_is_bounded_per_scenario_and_says_how_much_it_left_out() {
    let p = temp_file("cli-storm", "storm.json", &storm(20_000));
    let p = p.to_str().unwrap();
    let all = bitsim(&["run", "--trace", "--trace-limit", "0", p]);
    assert_eq!(all.status.code(), Some(0));
    let all_out = stdout(&all);
    let events = all_out
        .lines()
        .filter(|l| l.starts_with("      t="))
        .count();
    assert!(events > 20_000, "{events}");

    let cut = bitsim(&["run", "--trace", "--trace-limit", "1000", p]);
    assert_eq!(cut.status.code(), Some(0));
    let out = stdout(&cut);
    let shown: Vec<&str> = out.lines().filter(|l| l.starts_with("      t=")).collect();
    assert_eq!(shown.len(), 1000);
    // The lines shown are the first 1000 of the full trace, and the note counts the rest: the
    // events past the limit and the one step (the second advance) whose heading was left out.
    let first: Vec<&str> = all_out
        .lines()
        .filter(|l| l.starts_with("      t="))
        .take(1000)
        .collect();
    assert_eq!(shown, first);
    let note = format!(
        "  … {} more events in 1 more steps not shown (--trace-limit 1000)",
        events - 1000
    );
    assert!(out.lines().any(|l| l == note), "missing {note:?}");
    assert_eq!(out.lines().last(), Some("1 passed, 0 failed"));
}

#[test]
fn names_paths_and_pointers_are_escaped_and_long_values_cut() {
    // A name with newlines used to forge a PASS line and a summary.
    let forged = "x\nPASS forged (f.json, 1 steps)\n1 passed, 0 failed";
    let text = FAILING.replace(
        "\"expects-too-much\"",
        &serde_json::to_string(forged).unwrap(),
    );
    let p = temp_file("cli-escape", "fail.json", &text);
    let o = bitsim(&["run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(!out.lines().any(|l| l.starts_with("PASS")), "{out}");
    assert!(!out.lines().any(|l| l == "1 passed, 0 failed"), "{out}");
    assert!(
        out.contains("FAIL x\\nPASS forged (f.json, 1 steps)\\n1 passed, 0 failed ("),
        "{out}"
    );
    assert_eq!(out.lines().last(), Some("0 passed, 1 failed"));

    // A key holding NUL and ESC: the pointer shows escapes, never the raw bytes.
    let p = temp_file(
        "cli-escape-ptr",
        "nul.json",
        "{\"name\": \"n\", \"description\": \"d\", \"steps\": [], \"world\": {\"a\\u0000\\u001b[2Jb\": 1}}",
    );
    let o = bitsim(&["run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!o.stderr.contains(&0) && !o.stdout.contains(&0));
    assert!(!o.stderr.contains(&0x1b) && !o.stdout.contains(&0x1b));
    assert!(
        stderr(&o).contains("nul.json:1:58: /world/a\\u{0}\\u{1b}[2Jb: unknown field"),
        "{}",
        stderr(&o)
    );

    // A 100 KB number is not echoed in full.
    let digits = "7".repeat(100_000);
    let p = temp_file(
        "cli-long-number",
        "num.json",
        &format!(
            "{{\"name\": \"n\", \"description\": \"d\", \"steps\": [], \"world\": {{\"bandwidth\": {digits}}}}}"
        ),
    );
    let o = bitsim(&["run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.len() < 1000, "{} bytes", err.len());
    assert!(
        err.contains(&format!(
            "/world/bandwidth: {}… (a number of 100000 characters, the first 40 shown) is too large",
            &digits[..40]
        )),
        "{err}"
    );
}

#[test]
fn json_report_lists_invalid_inputs_as_failures_with_their_error() {
    let bad = root().join("fixtures/malformed/unknown-job-alias.json");
    let good = root().join("fixtures/scenarios/new-job-defaults.json");
    let o = bitsim(&[
        "run",
        "--json",
        good.to_str().unwrap(),
        bad.to_str().unwrap(),
        "no/such.json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let r: bitsim::scenario::Report = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((r.passed, r.failed), (1, 2));
    assert_eq!(r.scenarios.len(), 3);
    assert!(r.scenarios[0].passed && r.scenarios[0].invalid.is_none());
    // Inputs met while collecting come first among the invalid ones, then files that failed to load.
    let missing = &r.scenarios[1];
    assert_eq!(missing.file, "no/such.json");
    assert!(!missing.passed);
    assert_eq!(missing.steps_run, 0);
    let e = missing.invalid.as_ref().unwrap();
    assert_eq!((e.line, e.column, e.pointer.as_deref()), (None, None, None));
    assert_eq!(e.message, "no such file or folder");
    let invalid = &r.scenarios[2];
    assert_eq!(invalid.file, bad.display().to_string());
    let e = invalid.invalid.as_ref().unwrap();
    assert_eq!(
        (e.line, e.column, e.pointer.as_deref()),
        (Some(7), Some(31), Some("/steps/3/job"))
    );
    let f = invalid.failure.as_ref().unwrap();
    assert_eq!(f.expected, "a valid scenario file");
    assert!(
        f.actual.starts_with("unknown job alias \"j2\""),
        "{}",
        f.actual
    );
    assert!(
        f.message
            .contains("unknown-job-alias.json:7:31: /steps/3/job: unknown job alias"),
        "{}",
        f.message
    );
    // Entries that ran keep exactly the contract's fields.
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["scenarios"][0].get("invalid").is_none());
}
