//! Scenario files from runs: [`ops_to_scenario`] turns a world and an operation list into a scenario
//! file of `docs/scenario-format.md` (only that vocabulary), every call expecting the HRESULT it
//! actually returned; a [`Failure`] adds, at the end, what the spec requires, so the file fails until
//! the bug is fixed and can be committed as a regression fixture as it is.
//!
//! Worlds with chaos are replayed exactly without a chaos field: the faults chaos injected are read
//! back from the trace and written into the remotes' scripted `responses`.

use super::harness::{Done, Harness, Step};
use super::invariants::{Expect, Value as Seen, Violation};
use super::op::{JobCall, Op, WorldSpec, INVALID_LOCALS, INVALID_REMOTES};
use crate::world::Response;
use crate::{HResult, Priority, BG_SIZE_UNKNOWN};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt;

mod world;

use world::{observed_answers, remote_json, replayed, world_json, Def};

/// The scenario file that replays `ops` from `world`, each call expecting what it returned.
pub fn ops_to_scenario(world: &WorldSpec, ops: &[Op]) -> Value {
    let mut h = Harness::unchecked(world);
    for op in ops {
        let _ = h.step(op);
    }
    render(&h, None)
}

/// A broken invariant with everything needed to reproduce it.
#[derive(Clone, Debug)]
pub struct Failure {
    /// What broke.
    pub violation: Violation,
    /// The world of the run.
    pub world: WorldSpec,
    /// The operations up to and including the one after which the violation was seen.
    pub ops: Vec<Op>,
    /// A scenario file replaying them, ending with what the spec requires.
    pub scenario: Value,
}

impl Failure {
    pub(crate) fn new(h: &Harness, violation: Violation) -> Failure {
        Failure {
            scenario: render(h, Some(&violation)),
            world: h.spec().clone(),
            ops: h.steps().iter().map(|s| s.op.clone()).collect(),
            violation,
        }
    }

    /// The scenario's name (also a good file name).
    pub fn name(&self) -> &str {
        self.scenario["name"].as_str().unwrap_or("regression")
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invariant broken: {}", self.violation)?;
        writeln!(
            f,
            "world: {}",
            serde_json::to_string(&self.world).unwrap_or_default()
        )?;
        writeln!(
            f,
            "ops ({}): {}",
            self.ops.len(),
            serde_json::to_string(&self.ops).unwrap_or_default()
        )?;
        writeln!(
            f,
            "replay (save as fixtures/scenarios/regressions/{}.json):",
            self.name()
        )?;
        let pretty = serde_json::to_string_pretty(&self.scenario).unwrap_or_default();
        write!(f, "{pretty}")
    }
}

impl std::error::Error for Failure {}

fn fnv(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

fn hr(h: HResult) -> Value {
    Value::String(h.to_string())
}

/// Renders steps; `notes` collects what the format cannot say.
struct Renderer<'a> {
    h: &'a Harness,
    out: Vec<(usize, Value)>,
    notes: Vec<String>,
}

impl Renderer<'_> {
    fn push(&mut self, op: usize, v: Value) {
        self.out.push((op, v));
    }

    fn handle_ref(&self, handle: usize) -> (String, String) {
        let slot = &self.h.handles()[handle];
        (self.h.apps()[slot.app].name.clone(), slot.alias.clone())
    }

    fn call(&mut self, handle: usize, what: &str) -> Map<String, Value> {
        let (app, job) = self.handle_ref(handle);
        let mut m = Map::new();
        m.insert("do".into(), json!(what));
        m.insert("app".into(), json!(app));
        m.insert("job".into(), json!(job));
        m
    }

    fn check(&mut self, handle: usize, what: &str) -> Map<String, Value> {
        let (app, job) = self.handle_ref(handle);
        let mut m = Map::new();
        m.insert("check".into(), json!(what));
        m.insert("app".into(), json!(app));
        m.insert("job".into(), json!(job));
        m
    }

    fn step(&mut self, i: usize, step: &Step, answers: &BTreeMap<(String, Def), Vec<Response>>) {
        let h = self.h;
        let app_name = |a: usize| h.apps()[a].name.clone();
        let user_name = |u: usize| h.spec().users[u].name.clone();
        let expect = |r: Result<HResult, HResult>| hr(r.unwrap_or_else(|e| e));
        match &step.done {
            Done::Skipped => {}
            Done::CreateJob {
                app,
                name,
                job_type,
                result,
            } => {
                let mut m = Map::new();
                m.insert("do".into(), json!("create_job"));
                m.insert("app".into(), json!(app_name(*app)));
                m.insert("name".into(), json!(name));
                m.insert("type".into(), json!(job_type.name()));
                // `bind` is required; a failed CreateJob binds an alias to no job.
                let alias = match result {
                    Ok(j) => h.jobs()[*j].alias.clone(),
                    Err(_) => format!("x{i}"),
                };
                m.insert("bind".into(), json!(alias));
                m.insert("expect".into(), expect(result.map(|_| HResult::S_OK)));
                self.push(i, Value::Object(m));
            }
            Done::GetJob { app, job, result } => {
                let mut m = Map::new();
                m.insert("do".into(), json!("get_job"));
                m.insert("app".into(), json!(app_name(*app)));
                m.insert("job".into(), json!(h.jobs()[*job].alias));
                if let Ok(hs) = result {
                    m.insert("bind".into(), json!(h.handles()[*hs].alias));
                }
                m.insert("expect".into(), expect(result.map(|_| HResult::S_OK)));
                self.push(i, Value::Object(m));
            }
            Done::EnumJobs {
                app,
                all_users,
                result,
                names,
            } => {
                let mut m = Map::new();
                m.insert("check".into(), json!("jobs"));
                m.insert("app".into(), json!(app_name(*app)));
                m.insert("all_users".into(), json!(all_users));
                match result {
                    Ok(jobs) => {
                        m.insert("count".into(), json!(jobs.len()));
                        let mut names = names.clone();
                        names.sort();
                        m.insert("names".into(), json!(names));
                    }
                    Err(e) => {
                        m.insert("expect".into(), hr(*e));
                    }
                }
                self.push(i, Value::Object(m));
            }
            Done::Call {
                handle,
                call,
                files,
                held,
                result,
            } => self.job_call(i, *handle, call, files, *held, result),
            Done::Notifications { app, deliveries } => {
                let are: Vec<Value> = deliveries
                    .iter()
                    .map(|(e, j)| json!({ "event": e.name(), "job": h.jobs()[*j].alias }))
                    .collect();
                self.push(
                    i,
                    json!({ "check": "notifications", "app": app_name(*app), "are": are }),
                );
            }
            Done::SetRemote { url, remote } => {
                let r = replayed(remote, answers.get(&(url.clone(), Def::Step(i))));
                self.push(
                    i,
                    json!({ "do": "set_remote", "url": url, "remote": remote_json(&r) }),
                );
            }
            Done::Environment { target } => {
                let v = match (&step.op, target) {
                    (Op::Advance { secs }, _) => json!({ "do": "advance", "seconds": secs }),
                    (Op::RunUntilIdle { max_secs }, _) => {
                        json!({ "do": "run_until_idle", "max_seconds": max_secs })
                    }
                    (Op::Network { up }, _) => {
                        json!({ "do": "network", "state": if *up { "up" } else { "down" } })
                    }
                    (Op::Logon { .. }, Some(u)) => json!({ "do": "logon", "user": user_name(*u) }),
                    (Op::Logoff { .. }, Some(u)) => {
                        json!({ "do": "logoff", "user": user_name(*u) })
                    }
                    (Op::Connect { .. }, Some(a)) => json!({
                        "do": "connect",
                        "app": app_name(*a),
                        "user": user_name(h.apps()[*a].user),
                    }),
                    (Op::Exit { .. }, Some(a)) => json!({ "do": "exit", "app": app_name(*a) }),
                    (Op::RestartService, _) => json!({ "do": "restart_service" }),
                    (op, _) => {
                        self.notes
                            .push(format!("step {i} ({op:?}) has no scenario form"));
                        return;
                    }
                };
                self.push(i, v);
            }
        }
    }

    fn job_call(
        &mut self,
        i: usize,
        handle: usize,
        call: &JobCall,
        files: &[(String, String)],
        held: Option<usize>,
        result: &Result<Seen, HResult>,
    ) {
        let code = match result {
            Ok(Seen::Returned(h)) => *h,
            Ok(_) => HResult::S_OK,
            Err(e) => *e,
        };
        let set = |r: &mut Self, property: &str, value: Value| {
            let mut m = r.call(handle, "set");
            m.insert("property".into(), json!(property));
            m.insert("value".into(), value);
            m.insert("expect".into(), hr(code));
            r.push(i, Value::Object(m));
        };
        let simple = |r: &mut Self, what: &str| {
            let mut m = r.call(handle, what);
            m.insert("expect".into(), hr(code));
            r.push(i, Value::Object(m));
        };
        let add = |r: &mut Self, (remote, local): &(String, String), code: HResult| {
            let mut m = r.call(handle, "add_file");
            m.insert("remote".into(), json!(remote));
            m.insert("local".into(), json!(local));
            m.insert("expect".into(), hr(code));
            r.push(i, Value::Object(m));
        };
        match call {
            JobCall::AddFile { .. } => add(self, &files[0], code),
            JobCall::AddFileSet { .. } => self.file_set(i, handle, files, code),
            JobCall::Resume => simple(self, "resume"),
            JobCall::Suspend => simple(self, "suspend"),
            JobCall::Cancel => simple(self, "cancel"),
            JobCall::Complete => simple(self, "complete"),
            JobCall::TakeOwnership => simple(self, "take_ownership"),
            JobCall::SetDisplayName(n) => set(self, "display_name", json!(n.text())),
            JobCall::SetDescription(n) => {
                set(self, "description", json!("d".repeat(usize::from(*n))))
            }
            JobCall::SetPriority(p) => {
                let v = Priority::from_value(*p).map_or(json!(p), |p| json!(p.name()));
                set(self, "priority", v)
            }
            JobCall::SetNotifyFlags(f) => set(self, "notify_flags", json!(f)),
            JobCall::SetMinimumRetryDelay(s) => set(self, "minimum_retry_delay", json!(s)),
            JobCall::SetNoProgressTimeout(s) => set(self, "no_progress_timeout", json!(s)),
            JobCall::RegisterCallback { answer } => {
                let mut m = self.call(handle, "register_callback");
                m.insert("returns".into(), hr(*answer));
                m.insert("expect".into(), hr(code));
                self.push(i, Value::Object(m));
            }
            JobCall::GetError { .. } => {
                let mut m = self.call(handle, "get_error");
                if let Some(e) = held {
                    m.insert("bind_error".into(), json!(self.h.held()[e].alias));
                }
                m.insert("expect".into(), hr(code));
                self.push(i, Value::Object(m));
            }
            // Getters that failed have no scenario form (checks carry no expect) and no effect.
            JobCall::GetState => {
                if let Ok(Seen::State(s)) = result {
                    let mut m = self.check(handle, "state");
                    m.insert("is".into(), json!(s.name()));
                    self.push(i, Value::Object(m));
                }
            }
            JobCall::GetErrorCount => {
                if let Ok(Seen::Count(n)) = result {
                    let mut m = self.check(handle, "error_count");
                    m.insert("is".into(), json!(n));
                    self.push(i, Value::Object(m));
                }
            }
            JobCall::GetProgress => {
                if let Ok(Seen::Progress(p)) = result {
                    let mut m = self.check(handle, "progress");
                    let total = if p.bytes_total == BG_SIZE_UNKNOWN {
                        json!("UNKNOWN")
                    } else {
                        json!(p.bytes_total)
                    };
                    m.insert("bytes_total".into(), total);
                    m.insert("bytes_transferred".into(), json!(p.bytes_transferred));
                    m.insert("files_total".into(), json!(p.files_total));
                    m.insert("files_transferred".into(), json!(p.files_transferred));
                    self.push(i, Value::Object(m));
                }
            }
            JobCall::GetOwner => {
                if let Ok(Seen::Owner(sid)) = result {
                    let name = self.h.sim().with_service(|s| {
                        s.user_by_sid(sid)
                            .and_then(|u| s.user(u).map(|u| u.name.clone()))
                    });
                    if let Some(name) = name {
                        let mut m = self.check(handle, "owner");
                        m.insert("is".into(), json!(name));
                        self.push(i, Value::Object(m));
                    }
                }
            }
        }
    }

    /// AddFileSet has no scenario form: a set that succeeded is its files added one by one (same
    /// files, same order, same end state); a set that failed changed nothing, and is written as the
    /// single AddFile that fails the same way when there is one, else left out.
    fn file_set(&mut self, i: usize, handle: usize, files: &[(String, String)], code: HResult) {
        let add = |r: &mut Self, (remote, local): &(String, String), code: HResult| {
            let mut m = r.call(handle, "add_file");
            m.insert("remote".into(), json!(remote));
            m.insert("local".into(), json!(local));
            m.insert("expect".into(), hr(code));
            r.push(i, Value::Object(m));
        };
        if code.is_success() {
            for f in files {
                add(self, f, code);
            }
            return;
        }
        let invalid = |(r, l): &&(String, String)| {
            INVALID_REMOTES.contains(&r.as_str()) || INVALID_LOCALS.contains(&l.as_str())
        };
        let same = match code {
            HResult::RPC_E_DISCONNECTED | HResult::E_ACCESSDENIED | HResult::BG_E_INVALID_STATE => {
                files.first()
            }
            HResult::E_INVALIDARG => files.iter().find(invalid),
            _ => None,
        };
        match same {
            Some(f) => add(self, f, code),
            None => self.notes.push(format!(
                "step {i}: AddFileSet of {} files failed with {code} and changed nothing; the \
                 scenario format has no AddFileSet, so it is left out",
                files.len()
            )),
        }
    }

    /// A handle that still reaches `job`: the newest of a live application of this generation.
    fn live_handle(&self, job: crate::JobId) -> Option<usize> {
        let h = self.h;
        let generation = h.sim().with_service(|s| s.generation());
        (0..h.handles().len()).rev().find(|&i| {
            let slot = &h.handles()[i];
            h.jobs()[slot.job].id == job
                && slot.generation == generation
                && h.history().app_alive(h.apps()[slot.app].id)
        })
    }

    /// Append what the spec requires (a violation's expectation).
    fn expect(&mut self, e: &Expect) {
        let end = usize::MAX;
        match e {
            Expect::Returns { step, hresult } => {
                let last = self.out.iter().rposition(|(op, v)| {
                    *op == *step && v.get("do").is_some() && v.get("expect").is_some()
                });
                match last {
                    Some(k) => self.out[k].1["expect"] = hr(*hresult),
                    None => {
                        // A getter that should have failed: any job method fails the same way when
                        // the handle is dead or the job is someone else's (D2, D9).
                        if let Some(Done::Call { handle, .. }) =
                            self.h.steps().get(*step).map(|s| &s.done)
                        {
                            let mut m = self.call(*handle, "get_error");
                            m.insert("expect".into(), hr(*hresult));
                            self.push(end, Value::Object(m));
                        }
                    }
                }
            }
            Expect::State { handle, is } => {
                let mut m = self.check(*handle, "state");
                m.insert("is".into(), json!(is.name()));
                self.push(end, Value::Object(m));
            }
            Expect::JobState { job, is } => {
                if let Some(handle) = self.live_handle(*job) {
                    let mut m = self.check(handle, "state");
                    m.insert("is".into(), json!(is.name()));
                    self.push(end, Value::Object(m));
                }
            }
            Expect::JobErrorCount { job, is } => {
                if let Some(handle) = self.live_handle(*job) {
                    let mut m = self.check(handle, "error_count");
                    m.insert("is".into(), json!(is));
                    self.push(end, Value::Object(m));
                }
            }
            Expect::GetError { handle, hresult } => {
                let mut m = self.call(*handle, "get_error");
                m.insert("expect".into(), hr(*hresult));
                self.push(end, Value::Object(m));
            }
            Expect::ErrorCount { handle, is } => {
                let mut m = self.check(*handle, "error_count");
                m.insert("is".into(), json!(is));
                self.push(end, Value::Object(m));
            }
            Expect::ErrorObject { held, code } => {
                let alias = self.h.held()[*held].alias.clone();
                self.push(
                    end,
                    json!({ "check": "error_object", "error": alias, "code": hr(*code) }),
                );
            }
        }
    }
}

/// The scenario of the harness's steps; with a violation, ending with what the spec requires.
pub(crate) fn render(h: &Harness, violation: Option<&Violation>) -> Value {
    let chaos = h.spec().world.chaos.is_some();
    let answers = if chaos {
        observed_answers(h)
    } else {
        BTreeMap::new()
    };
    let mut r = Renderer {
        h,
        out: Vec::new(),
        notes: Vec::new(),
    };
    for (i, step) in h.steps().iter().enumerate() {
        r.step(i, step, &answers);
    }
    if let Some(e) = violation.and_then(|v| v.expect.as_ref()) {
        r.expect(e);
    }
    let w = &h.spec().world;
    if !w.classify.is_empty() || w.time_slice_secs != crate::World::default().time_slice_secs {
        r.notes.push(
            "the world's classification overrides and time slice are not in the format".into(),
        );
    }
    if chaos {
        r.notes.push(
            "chaos faults are written as the remotes' scripted responses, as the run met them"
                .into(),
        );
    }
    let steps: Vec<Value> = r.out.into_iter().map(|(_, v)| v).collect();
    let world = world_json(h, &answers);
    let hash = fnv(&format!("{world}{steps:?}"));
    let (name, mut description) = match violation {
        Some(v) => {
            let slug: String = v
                .rule
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
                .collect();
            (
                format!("regression-{}-{hash:08x}", slug.trim_matches('-')),
                format!(
                    "Found by bitsim::testing: {}. Replays {} generated operations; every call expects \
                     what it returned{}.",
                    v,
                    h.steps().len(),
                    if v.expect.is_some() {
                        ", and the last expectation is what the spec requires"
                    } else {
                        ""
                    }
                ),
            )
        }
        None => (
            format!("generated-{hash:08x}"),
            format!(
                "Generated by bitsim::testing from {} operations; every call expects what it returned.",
                h.steps().len()
            ),
        ),
    };
    for n in &r.notes {
        description.push_str(&format!(" Note: {n}."));
    }
    json!({
        "name": name,
        "description": description,
        "world": world,
        "steps": steps,
    })
}
