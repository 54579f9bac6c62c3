//! A checker of the scenario contract (`shared/spec/scenario-format.md`): field names, value shapes,
//! and that every alias, application and user is introduced before it is used. It guards the kit's
//! own output ([`ops_to_scenario`](super::ops_to_scenario)); it is no replacement for the runner's
//! parser, which also reports lines and columns.

use crate::{HResult, JobState};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

type Res = Result<(), String>;

fn only(m: &Map<String, Value>, allowed: &[&str], at: &str) -> Res {
    match m.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("{at}: unknown field {k:?} (allowed: {allowed:?})")),
        None => Ok(()),
    }
}

fn obj<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{at}: expected an object"))
}

fn string<'a>(m: &'a Map<String, Value>, k: &str, at: &str) -> Result<&'a str, String> {
    m.get(k)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{at}: {k:?} must be a string"))
}

fn uint(m: &Map<String, Value>, k: &str, at: &str) -> Res {
    m.get(k)
        .and_then(Value::as_u64)
        .map(|_| ())
        .ok_or_else(|| format!("{at}: {k:?} must be a non-negative integer"))
}

fn hresult(v: &Value, at: &str) -> Res {
    let s = v
        .as_str()
        .ok_or_else(|| format!("{at}: an HRESULT must be a string"))?;
    HResult::parse(s)
        .map(|_| ())
        .map_err(|e| format!("{at}: {e}"))
}

fn entry(v: &Value, at: &str) -> Res {
    if v.as_str() == Some("ok") {
        return Ok(());
    }
    let m = obj(v, at)?;
    only(m, &["http", "win32", "hresult", "after_bytes"], at)?;
    let kinds = ["http", "win32", "hresult"]
        .iter()
        .filter(|k| m.contains_key(**k))
        .count();
    if kinds != 1 {
        return Err(format!(
            "{at}: an answer has exactly one of http, win32, hresult"
        ));
    }
    if m.contains_key("http") {
        uint(m, "http", at)?;
    }
    if m.contains_key("win32") {
        uint(m, "win32", at)?;
    }
    if let Some(h) = m.get("hresult") {
        hresult(h, at)?;
    }
    if m.contains_key("after_bytes") {
        uint(m, "after_bytes", at)?;
    }
    Ok(())
}

fn remote(v: &Value, at: &str) -> Res {
    let m = obj(v, at)?;
    only(m, &["size", "responses", "otherwise"], at)?;
    if m.contains_key("size") {
        uint(m, "size", at)?;
    }
    if let Some(r) = m.get("responses") {
        let list = r
            .as_array()
            .ok_or_else(|| format!("{at}: responses must be a list"))?;
        for (i, e) in list.iter().enumerate() {
            entry(e, &format!("{at}.responses[{i}]"))?;
        }
    }
    if let Some(o) = m.get("otherwise") {
        entry(o, &format!("{at}.otherwise"))?;
    }
    Ok(())
}

/// Names introduced so far.
#[derive(Default)]
struct Scope {
    users: BTreeSet<String>,
    apps: BTreeSet<String>,
    jobs: BTreeSet<String>,
    errors: BTreeSet<String>,
}

fn world(v: &Value, scope: &mut Scope) -> Res {
    let m = obj(v, "world")?;
    only(
        m,
        &["users", "bandwidth", "network", "remotes", "locals"],
        "world",
    )?;
    if let Some(u) = m.get("users") {
        for (name, flags) in obj(u, "world.users")? {
            let at = format!("world.users.{name}");
            let f = obj(flags, &at)?;
            only(f, &["admin", "logged_on"], &at)?;
            if f.values().any(|b| !b.is_boolean()) {
                return Err(format!("{at}: flags must be booleans"));
            }
            scope.users.insert(name.clone());
        }
    }
    if m.contains_key("bandwidth") {
        uint(m, "bandwidth", "world")?;
    }
    if let Some(n) = m.get("network") {
        if n != "up" && n != "down" {
            return Err("world.network must be \"up\" or \"down\"".into());
        }
    }
    if let Some(r) = m.get("remotes") {
        for (url, rem) in obj(r, "world.remotes")? {
            remote(rem, &format!("world.remotes[{url}]"))?;
        }
    }
    if let Some(l) = m.get("locals") {
        for (path, local) in obj(l, "world.locals")? {
            let at = format!("world.locals[{path}]");
            let f = obj(local, &at)?;
            only(f, &["size"], &at)?;
            uint(f, "size", &at)?;
        }
    }
    Ok(())
}

const DO_FIELDS: &[(&str, &[&str])] = &[
    ("connect", &["app", "user"]),
    ("exit", &["app"]),
    ("logon", &["user"]),
    ("logoff", &["user"]),
    ("create_job", &["app", "name", "type", "bind", "expect"]),
    ("get_job", &["app", "job", "bind", "expect"]),
    ("add_file", &["app", "job", "remote", "local", "expect"]),
    ("resume", &["app", "job", "expect"]),
    ("suspend", &["app", "job", "expect"]),
    ("cancel", &["app", "job", "expect"]),
    ("complete", &["app", "job", "expect"]),
    ("set", &["app", "job", "property", "value", "expect"]),
    ("take_ownership", &["app", "job", "expect"]),
    ("get_error", &["app", "job", "bind_error", "expect"]),
    ("register_callback", &["app", "job", "returns", "expect"]),
    ("advance", &["seconds"]),
    ("run_until_idle", &["max_seconds"]),
    ("network", &["state"]),
    ("set_remote", &["url", "remote"]),
    ("restart_service", &[]),
];

const CHECK_FIELDS: &[(&str, &[&str])] = &[
    ("state", &["app", "job", "is"]),
    ("error", &["app", "job", "none", "context", "code", "file"]),
    ("error_object", &["app", "error", "code"]),
    ("error_count", &["app", "job", "is"]),
    (
        "progress",
        &[
            "app",
            "job",
            "bytes_total",
            "bytes_transferred",
            "files_total",
            "files_transferred",
        ],
    ),
    ("property", &["app", "job", "property", "is"]),
    ("owner", &["app", "job", "is"]),
    ("jobs", &["app", "all_users", "count", "names", "expect"]),
    ("notifications", &["app", "are"]),
    ("time", &["seconds"]),
];

const PROPERTIES: [&str; 6] = [
    "display_name",
    "description",
    "priority",
    "notify_flags",
    "minimum_retry_delay",
    "no_progress_timeout",
];

fn step(v: &Value, i: usize, scope: &mut Scope) -> Res {
    let at = format!("steps[{i}]");
    let m = obj(v, &at)?;
    let (kind, table) = match (m.get("do"), m.get("check")) {
        (Some(d), None) => (d, DO_FIELDS),
        (None, Some(c)) => (c, CHECK_FIELDS),
        _ => return Err(format!("{at}: a step has exactly one of do, check")),
    };
    let kind = kind
        .as_str()
        .ok_or_else(|| format!("{at}: do/check must be a string"))?;
    let fields = table
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, f)| *f)
        .ok_or_else(|| format!("{at}: unknown operation or check {kind:?}"))?;
    let mut allowed = fields.to_vec();
    allowed.push(if table == DO_FIELDS { "do" } else { "check" });
    only(m, &allowed, &at)?;
    if let Some(e) = m.get("expect") {
        hresult(e, &format!("{at}.expect"))?;
    }
    if let Some(h) = m.get("returns") {
        hresult(h, &format!("{at}.returns"))?;
    }
    let app = m.get("app").and_then(Value::as_str).unwrap_or("app");
    if kind == "connect" {
        let user = string(m, "user", &at)?;
        if !scope.users.contains(user) {
            return Err(format!("{at}: unknown user {user:?}"));
        }
        scope.apps.insert(string(m, "app", &at)?.to_string());
        return Ok(());
    }
    if m.contains_key("app") && !scope.apps.contains(app) {
        return Err(format!("{at}: application {app:?} was never connected"));
    }
    if let Some(u) = m.get("user") {
        if !u.as_str().is_some_and(|u| scope.users.contains(u)) {
            return Err(format!("{at}: unknown user {u}"));
        }
    }
    if let Some(j) = m.get("job") {
        if !j.as_str().is_some_and(|j| scope.jobs.contains(j)) {
            return Err(format!("{at}: job alias {j} is not bound"));
        }
    }
    if let Some(e) = m.get("error").filter(|_| kind == "error_object") {
        if !e.as_str().is_some_and(|e| scope.errors.contains(e)) {
            return Err(format!("{at}: error alias {e} is not bound"));
        }
        hresult(m.get("code").unwrap_or(&Value::Null), &format!("{at}.code"))?;
    }
    match kind {
        "create_job" | "get_job" => {
            if kind == "create_job" {
                string(m, "name", &at)?;
                if let Some(t) = m.get("type") {
                    if !["DOWNLOAD", "UPLOAD", "UPLOAD_REPLY"]
                        .iter()
                        .any(|n| t == n)
                    {
                        return Err(format!("{at}: unknown job type {t}"));
                    }
                }
            }
            if let Some(b) = m.get("bind") {
                scope.jobs.insert(
                    b.as_str()
                        .ok_or(format!("{at}: bind must be a string"))?
                        .into(),
                );
            }
        }
        "get_error" => {
            if let Some(b) = m.get("bind_error") {
                scope.errors.insert(
                    b.as_str()
                        .ok_or(format!("{at}: bind_error must be a string"))?
                        .into(),
                );
            }
        }
        "add_file" => {
            string(m, "remote", &at)?;
            string(m, "local", &at)?;
        }
        "set" | "property" => {
            let p = string(m, "property", &at)?;
            if !PROPERTIES.contains(&p) {
                return Err(format!("{at}: unknown property {p:?}"));
            }
        }
        "advance" | "time" => uint(m, "seconds", &at)?,
        "network" => {
            let s = string(m, "state", &at)?;
            if s != "up" && s != "down" {
                return Err(format!("{at}: state must be up or down"));
            }
        }
        "set_remote" => {
            string(m, "url", &at)?;
            remote(
                m.get("remote").unwrap_or(&Value::Null),
                &format!("{at}.remote"),
            )?;
        }
        "state" => {
            let s = string(m, "is", &at)?;
            if JobState::from_name(s).is_none() {
                return Err(format!("{at}: unknown state {s:?}"));
            }
        }
        "error_count" => uint(m, "is", &at)?,
        "jobs" => {
            let fails = m
                .get("expect")
                .and_then(Value::as_str)
                .and_then(|h| HResult::parse(h).ok())
                .is_some_and(HResult::is_failure);
            if fails == m.contains_key("count") {
                return Err(format!(
                    "{at}: count goes with a jobs check that succeeds, only"
                ));
            }
            if !fails {
                uint(m, "count", &at)?;
            }
            if !m.get("all_users").is_some_and(Value::is_boolean) {
                return Err(format!("{at}: all_users must be a boolean"));
            }
        }
        "notifications" => {
            let are = m
                .get("are")
                .and_then(Value::as_array)
                .ok_or(format!("{at}: are must be a list"))?;
            for n in are {
                let n = obj(n, &at)?;
                only(n, &["event", "job"], &at)?;
                let e = string(n, "event", &at)?;
                if !["JOB_TRANSFERRED", "JOB_ERROR", "JOB_MODIFICATION"].contains(&e) {
                    return Err(format!("{at}: unknown event {e:?}"));
                }
                if !scope.jobs.contains(string(n, "job", &at)?) {
                    return Err(format!("{at}: notification names an unbound job"));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Check that `scenario` is a scenario file of the contract, using only its vocabulary.
pub fn validate(scenario: &Value) -> Result<(), String> {
    let m = obj(scenario, "scenario")?;
    only(m, &["name", "description", "world", "steps"], "scenario")?;
    string(m, "name", "scenario")?;
    string(m, "description", "scenario")?;
    let mut scope = Scope::default();
    match m.get("world") {
        Some(w) => world(w, &mut scope)?,
        None => {
            scope.users.insert("user".into());
        }
    }
    if scope.users.is_empty() {
        scope.users.insert("user".into());
    }
    scope.apps.insert("app".into());
    let steps = m
        .get("steps")
        .and_then(Value::as_array)
        .ok_or("scenario: steps must be a list")?;
    for (i, s) in steps.iter().enumerate() {
        step(s, i, &mut scope)?;
    }
    Ok(())
}
