//! The world of a scenario file, and the replay of chaos: the answers chaos gave each remote, read
//! back from the trace, become the remote's scripted `responses`.

use super::super::harness::{Done, Harness};
use super::super::op::UNKNOWN_URL;
use super::hr;
use crate::trace::TraceKind;
use crate::world::{Fault, Remote, Response};
use crate::HResult;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub(super) fn response_json(r: &Response) -> Value {
    match r {
        Response::Ok => json!("ok"),
        Response::Fail { fault, after_bytes } => {
            let mut m = Map::new();
            match fault {
                Fault::Http(s) => m.insert("http".into(), json!(s)),
                Fault::Win32(n) => m.insert("win32".into(), json!(n)),
                Fault::HResult(h) => m.insert("hresult".into(), hr(*h)),
            };
            if let Some(n) = after_bytes {
                m.insert("after_bytes".into(), json!(n));
            }
            Value::Object(m)
        }
    }
}

pub(super) fn remote_json(r: &Remote) -> Value {
    let mut m = Map::new();
    if let Some(size) = r.size {
        m.insert("size".into(), json!(size));
    }
    if !r.responses.is_empty() {
        m.insert(
            "responses".into(),
            Value::Array(r.responses.iter().map(response_json).collect()),
        );
    }
    if r.otherwise != Response::Ok {
        m.insert("otherwise".into(), response_json(&r.otherwise));
    }
    Value::Object(m)
}

/// Where a remote's behaviour was defined: the world, or a `set_remote` step.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(super) enum Def {
    World,
    Step(usize),
}

/// With chaos: the answers each remote definition actually gave, in order, read from the trace.
pub(super) fn observed_answers(h: &Harness) -> BTreeMap<(String, Def), Vec<Response>> {
    let mut current: BTreeMap<String, Def> = BTreeMap::new();
    let mut seen: BTreeMap<(String, Def), Vec<Response>> = BTreeMap::new();
    h.sim().with_service(|s| {
        let trace = s.trace();
        for (i, step) in h.steps().iter().enumerate() {
            if let Done::SetRemote { url, .. } = &step.done {
                current.insert(url.clone(), Def::Step(i));
            }
            for ev in trace.range(step.trace.0..step.trace.1) {
                let (job, file, result, after_bytes) = match ev.kind {
                    TraceKind::Attempt { job, file, result } => (job, file, result, None),
                    TraceKind::AttemptCut {
                        job,
                        file,
                        result,
                        after_bytes,
                    } => (job, file, result, Some(after_bytes)),
                    _ => continue,
                };
                let Some(url) = h
                    .jobs()
                    .iter()
                    .find(|j| j.id == job)
                    .and_then(|j| j.files.get(file as usize))
                else {
                    continue;
                };
                let def = *current.get(url).unwrap_or(&Def::World);
                let answer = if result == HResult::S_OK {
                    Response::Ok
                } else {
                    let fault = match (result.http_status(), result.win32_code()) {
                        (Some(s), _) => Fault::Http(s),
                        (None, Some(n)) => Fault::Win32(n),
                        _ => Fault::HResult(result),
                    };
                    Response::Fail { fault, after_bytes }
                };
                seen.entry((url.clone(), def)).or_default().push(answer);
            }
        }
    });
    seen
}

/// `base` with its first answers replaced by the ones observed.
pub(super) fn replayed(base: &Remote, observed: Option<&Vec<Response>>) -> Remote {
    let Some(obs) = observed else {
        return base.clone();
    };
    let mut r = base.clone();
    let rest: Vec<Response> = base.responses.iter().skip(obs.len()).copied().collect();
    r.responses = obs.iter().copied().chain(rest).collect();
    r
}

pub(super) fn world_json(h: &Harness, answers: &BTreeMap<(String, Def), Vec<Response>>) -> Value {
    let spec = h.spec();
    let mut users = Map::new();
    for u in &spec.users {
        users.insert(
            u.name.clone(),
            json!({ "admin": u.admin, "logged_on": u.logged_on }),
        );
    }
    let mut remotes = Map::new();
    for (url, r) in &spec.world.remotes {
        let r = replayed(r, answers.get(&(url.clone(), Def::World)));
        remotes.insert(url.clone(), remote_json(&r));
    }
    if let Some(obs) = answers.get(&(UNKNOWN_URL.to_string(), Def::World)) {
        // Chaos also hit the URL nobody serves: keep its answers, then "name not resolved".
        let base = Remote::default().otherwise(Response::win32(12007));
        remotes.insert(
            UNKNOWN_URL.to_string(),
            remote_json(&replayed(&base, Some(obs))),
        );
    }
    let mut locals = Map::new();
    for (path, l) in &spec.world.locals {
        locals.insert(path.clone(), json!({ "size": l.size }));
    }
    json!({
        "users": users,
        "bandwidth": spec.world.bandwidth,
        "network": if spec.world.network == crate::world::Network::Up { "up" } else { "down" },
        "remotes": remotes,
        "locals": locals,
    })
}
