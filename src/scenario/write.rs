//! Writing a scenario back as JSON (for tools that generate scenarios, such as a fuzzer writing a
//! replay file). Keys come out in the contract's order, `users` in the scenario's order, and defaults
//! are left out, so `Scenario::parse(&s.to_json(), ..)` gives `s` back.

use super::types::{
    Action, BytesTotal, Check, ErrorExpectation, PriorityValue, PropertyValue, Scenario, Step,
};
use crate::properties::Scalar;
use crate::world::{Fault, Network, Remote, Response};
use crate::HResult;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// A JSON value whose objects keep the order they were built in.
pub(super) enum Out {
    V(Value),
    Obj(Vec<(&'static str, Out)>),
    Map(Vec<(String, Out)>),
    Arr(Vec<Out>),
}

impl Serialize for Out {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Out::V(v) => v.serialize(s),
            Out::Obj(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Out::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Out::Arr(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
        }
    }
}

pub(super) fn v(x: impl Serialize) -> Out {
    Out::V(serde_json::to_value(x).unwrap_or(Value::Null))
}

impl Serialize for Scenario {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        scenario(self).serialize(s)
    }
}

impl Scenario {
    /// The scenario as pretty-printed JSON in the contract's format.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

fn scenario(sc: &Scenario) -> Out {
    let mut o = vec![("name", v(&sc.name)), ("description", v(&sc.description))];
    let w = &sc.world;
    let mut world = Vec::new();
    if !w.users.is_empty() {
        let users = w
            .users
            .iter()
            .map(|u| {
                let mut f = Vec::new();
                if u.admin {
                    f.push(("admin", v(true)));
                }
                if !u.logged_on {
                    f.push(("logged_on", v(false)));
                }
                if let Some((_, integrity, elevated)) =
                    w.options.user_tokens.iter().find(|t| t.0 == u.name)
                {
                    if let Some(i) = integrity {
                        f.push(("integrity", v(i)));
                    }
                    if let Some(e) = elevated {
                        f.push(("elevated", v(e)));
                    }
                }
                (u.name.clone(), Out::Obj(f))
            })
            .collect();
        world.push(("users", Out::Map(users)));
    }
    if let Some(b) = w.bandwidth {
        world.push(("bandwidth", v(b)));
    }
    if let Some(n) = w.network {
        world.push(("network", network(n)));
    }
    if !w.remotes.is_empty() {
        let r = w
            .remotes
            .iter()
            .map(|(u, r)| (u.clone(), remote(r)))
            .collect();
        world.push(("remotes", Out::Map(r)));
    }
    if !w.locals.is_empty() {
        let l = w
            .locals
            .iter()
            .map(|(p, size)| {
                let mut o = vec![("size", v(size))];
                if let Some((_, b)) = w.local_content.iter().find(|(q, _)| q == p) {
                    o.push(("content", body(b)));
                }
                if let Some((_, m)) = w.local_modified.iter().find(|(q, _)| q == p) {
                    o.push(("modified", v(m)));
                }
                (p.clone(), Out::Obj(o))
            })
            .collect();
        world.push(("locals", Out::Map(l)));
    }
    if let Some(c) = w.options.default_cost_flags {
        world.push(("default_cost_flags", v(c)));
    }
    if let Some(t) = w.options.inactivity_timeout {
        world.push(("inactivity_timeout", v(t)));
    }
    if let Some(c) = w.options.network_cost {
        world.push(("network_cost", network_cost(c)));
    }
    if w.options.block_background {
        world.push((
            "group_policy",
            Out::Obj(vec![("block_background", v(true))]),
        ));
    }
    match &w.sandbox {
        None => {}
        Some(super::types::SandboxSpec::Fresh) => world.push(("sandbox", v(true))),
        Some(super::types::SandboxSpec::Dir(d)) => {
            world.push(("sandbox", v(d.display().to_string())))
        }
    }
    super::http::write_world(w, &mut world);
    super::cmdline::write_world(&w.notify, &mut world);
    if !world.is_empty() {
        o.push(("world", Out::Obj(world)));
    }
    o.push(("steps", Out::Arr(sc.steps.iter().map(step).collect())));
    Out::Obj(o)
}

pub(super) fn network(n: Network) -> Out {
    v(match n {
        Network::Up => "up",
        Network::Down => "down",
    })
}

/// A network cost as the loader reads it: one state name, or an array of it and `ROAMING` (D53).
pub(super) fn network_cost(cost: u32) -> Out {
    let names: Vec<&str> = crate::world::COST_STATE_NAMES
        .iter()
        .filter(|(_, bit)| cost & bit != 0)
        .map(|(name, _)| *name)
        .collect();
    if names.len() == 1 && cost & 0x80 == 0 {
        v(names[0])
    } else {
        Out::Arr(names.into_iter().map(v).collect())
    }
}

pub(super) fn remote(r: &Remote) -> Out {
    let mut f = Vec::new();
    if let Some(size) = r.size {
        f.push(("size", v(size)));
    }
    let response = |x: &Response| response(x, r);
    if !r.responses.is_empty() {
        f.push((
            "responses",
            Out::Arr(r.responses.iter().map(response).collect()),
        ));
    }
    if r.otherwise != Response::Ok {
        f.push(("otherwise", response(&r.otherwise)));
    }
    if let Some(c) = &r.content {
        f.push(("content", body(c)));
    }
    if r.modified != 0 {
        f.push(("modified", v(r.modified)));
    }
    if !r.accept_ranges {
        f.push(("accept_ranges", v(false)));
    }
    if !r.headers.is_empty() {
        f.push(("headers", v(&r.headers)));
    }
    if r.peer {
        f.push(("peer", v(true)));
    }
    if let Some(h) = &r.http {
        super::http::write_remote_http(h, &mut f, response);
    }
    Out::Obj(f)
}

/// A body: `text` when its bytes are UTF-8, else `base64`; patterns as `pattern` + `length`.
pub(super) fn body(b: &crate::content::Body) -> Out {
    use crate::content::{base64_encode, Body};
    match b {
        Body::Bytes(bytes) => match std::str::from_utf8(bytes) {
            Ok(t) => Out::Obj(vec![("text", v(t))]),
            Err(_) => Out::Obj(vec![("base64", v(base64_encode(bytes)))]),
        },
        Body::Pattern { seed, length } => {
            Out::Obj(vec![("pattern", v(seed)), ("length", v(length))])
        }
    }
}

pub(super) fn response(r: &Response, remote: &Remote) -> Out {
    match r {
        Response::Ok => v("ok"),
        Response::Redirect { status, to } => Out::Obj(vec![
            (
                "redirect",
                v(remote.redirect_target(*to).unwrap_or_default()),
            ),
            ("http", v(status)),
        ]),
        Response::Fail { fault, after_bytes } => {
            let mut f = vec![match fault {
                Fault::Http(n) => ("http", v(n)),
                Fault::Win32(n) => ("win32", v(n)),
                Fault::HResult(h) => ("hresult", v(h.to_string())),
            }];
            if let Some(n) = after_bytes {
                f.push(("after_bytes", v(n)));
            }
            Out::Obj(f)
        }
    }
}

fn expect(f: &mut Vec<(&'static str, Out)>, h: HResult) {
    if h != HResult::S_OK {
        f.push(("expect", v(h.to_string())));
    }
}

/// A raw Job5 property value (D35): an integer, or a GUID when it does not fit in 64 bits.
pub(super) fn raw(n: u128) -> Out {
    match u64::try_from(n) {
        Ok(n) => v(n),
        Err(_) => v(crate::properties::show_guid(n)),
    }
}

pub(super) fn prop(p: &PropertyValue) -> Out {
    match p.scalar() {
        Some(Scalar::Text(s)) => v(s),
        Some(Scalar::Priority(PriorityValue::Named(p))) => v(p.name()),
        Some(Scalar::Priority(PriorityValue::Raw(n)) | Scalar::Number(n) | Scalar::Flags(n)) => {
            v(n)
        }
        Some(Scalar::Bool(b)) => v(b),
        Some(Scalar::Wide(n)) => v(n),
        Some(Scalar::Guid(g)) => v(crate::properties::show_guid(g)),
        Some(Scalar::Proxy(p)) => {
            let usage = match p.usage {
                0 => v("PRECONFIG"),
                1 => v("NO_PROXY"),
                2 => v("OVERRIDE"),
                3 => v("AUTODETECT"),
                n => v(n),
            };
            Out::Obj(vec![
                ("usage", usage),
                ("list", v(&p.list)),
                ("bypass", v(&p.bypass)),
            ])
        }
        Some(Scalar::OptText(t)) => v(t),
        Some(Scalar::CmdLine(c)) => Out::Obj(vec![
            ("program", v(&c.program)),
            ("parameters", v(&c.parameters)),
        ]),
        // Only settable properties are in scenario files, and they are all scalars.
        None => v(p.show()),
    }
}

/// The keys of one step, in the order they are put.
pub(super) struct Keys(Vec<(&'static str, Out)>);

impl Keys {
    /// `key: x`.
    pub fn put(&mut self, key: &'static str, x: impl Serialize) {
        self.0.push((key, v(x)));
    }

    /// `key: out`, for values with objects in them.
    pub fn put_out(&mut self, key: &'static str, out: Out) {
        self.0.push((key, out));
    }

    /// `expect`, left out when it is the default S_OK.
    pub fn expect(&mut self, h: HResult) {
        expect(&mut self.0, h);
    }
}

fn step(st: &Step) -> Out {
    let (tag, name) = match &st.action {
        Action::Do(op) => ("do", op.name()),
        Action::Check(c) => ("check", c.name()),
    };
    let mut f = Keys(vec![(tag, v(name))]);
    if let Some(a) = &st.app {
        f.put("app", a);
    }
    match &st.action {
        // Each operation's keys are written by its declaration (`super::ops`).
        Action::Do(op) => super::ops::write(op, &mut f),
        Action::Check(c) => check(&mut f.0, c),
    }
    Out::Obj(f.0)
}

fn check(f: &mut Vec<(&'static str, Out)>, c: &Check) {
    match c {
        Check::State { job, is } => {
            f.push(("job", v(job)));
            f.push(("is", v(is.name())));
        }
        Check::Error { job, expect } => {
            f.push(("job", v(job)));
            match expect {
                ErrorExpectation::None => f.push(("none", v(true))),
                ErrorExpectation::Some {
                    context,
                    code,
                    file,
                } => {
                    if let Some(x) = context {
                        f.push(("context", v(x.name())));
                    }
                    if let Some(x) = code {
                        f.push(("code", v(x.to_string())));
                    }
                    if let Some(x) = file {
                        f.push(("file", v(x)));
                    }
                }
            }
        }
        Check::ErrorObject { error, code } => {
            f.push(("error", v(error)));
            f.push(("code", v(code.to_string())));
        }
        Check::ErrorCount { job, is } => {
            f.push(("job", v(job)));
            f.push(("is", v(is)));
        }
        Check::Progress {
            job,
            bytes_total,
            bytes_transferred,
            files_total,
            files_transferred,
        } => {
            f.push(("job", v(job)));
            match bytes_total {
                Some(BytesTotal::Bytes(n)) => f.push(("bytes_total", v(n))),
                Some(BytesTotal::Unknown) => f.push(("bytes_total", v("UNKNOWN"))),
                None => {}
            }
            if let Some(n) = bytes_transferred {
                f.push(("bytes_transferred", v(n)));
            }
            if let Some(n) = files_total {
                f.push(("files_total", v(n)));
            }
            if let Some(n) = files_transferred {
                f.push(("files_transferred", v(n)));
            }
        }
        Check::Property { job, is } => {
            f.push(("job", v(job)));
            f.push(("property", v(is.property())));
            f.push(("is", prop(is)));
        }
        Check::Times {
            job,
            creation,
            modification,
            transfer_completion,
        } => {
            f.push(("job", v(job)));
            for (key, t) in [
                ("creation", creation),
                ("modification", modification),
                ("transfer_completion", transfer_completion),
            ] {
                match t {
                    Some(Some(s)) => f.push((key, v(s))),
                    Some(None) => f.push((key, v("UNKNOWN"))),
                    None => {}
                }
            }
        }
        Check::PropertyFails { job, prop, expect } => {
            f.push(("job", v(job)));
            f.push(("property", v(prop.name())));
            f.push(("expect", v(expect.to_string())));
        }
        Check::RawProperty {
            job,
            id,
            is,
            expect,
        } => {
            f.push(("job", v(job)));
            f.push(("property", v(id)));
            if let Some(n) = is {
                f.push(("is", raw(*n)));
            }
            if *expect != HResult::S_OK {
                f.push(("expect", v(expect.to_string())));
            }
        }
        Check::Owner { job, is } => {
            f.push(("job", v(job)));
            f.push(("is", v(is)));
        }
        Check::ClientCertificate {
            job,
            location,
            store,
            sha1,
            subject,
            expect,
        } => {
            f.push(("job", v(job)));
            f.push(("property", v("client_certificate")));
            if !expect.is_failure() {
                let mut is = Vec::new();
                if let Some(l) = location {
                    is.push((
                        "location",
                        match crate::http::CERT_STORE_LOCATIONS.get(*l as usize) {
                            Some(n) => v(*n),
                            None => v(l),
                        },
                    ));
                }
                for (k, val) in [("store", store), ("sha1", sha1), ("subject", subject)] {
                    if let Some(s) = val {
                        is.push((k, v(s)));
                    }
                }
                f.push(("is", Out::Obj(is)));
            }
            if *expect != HResult::S_OK {
                f.push(("expect", v(expect.to_string())));
            }
        }
        Check::Jobs {
            all_users,
            count,
            names,
            expect: e,
        } => {
            if *all_users {
                f.push(("all_users", v(true)));
            }
            if let Some(n) = count {
                f.push(("count", v(n)));
            }
            if let Some(n) = names {
                f.push(("names", v(n)));
            }
            expect(f, *e);
        }
        Check::Notifications { are } => {
            let items = are
                .iter()
                .map(|(e, j, file, ranges)| {
                    let mut o = vec![("event", v(e.name())), ("job", v(j))];
                    if let Some(f) = file {
                        o.push(("file", v(f)));
                    }
                    if *e == crate::notify::NotifyEvent::FileRangesTransferred {
                        o.push(("ranges", ranges_out(ranges)));
                    }
                    Out::Obj(o)
                })
                .collect::<Vec<_>>();
            f.push(("are", Out::Arr(items)));
        }
        Check::Launches { are } => {
            f.push(("are", Out::Arr(are.iter().map(|l| l.out()).collect())));
        }
        Check::Time { seconds } => f.push(("seconds", v(seconds))),
        Check::EnumCount {
            enumerator,
            is,
            expect: e,
        } => {
            f.push(("enum", v(enumerator)));
            if let Some(n) = is {
                f.push(("is", v(n)));
            }
            expect(f, *e);
        }
        Check::LocalFile {
            target,
            exists,
            body,
        } => {
            match &**target {
                super::types::LocalTarget::Path(p) => f.push(("path", v(p))),
                super::types::LocalTarget::File {
                    job,
                    file,
                    temporary,
                } => {
                    f.push(("job", v(job)));
                    f.push(("file", v(file)));
                    if *temporary {
                        f.push(("temporary", v(true)));
                    }
                }
            }
            if let Some(e) = exists {
                f.push(("exists", v(e)));
            }
            body_check(f, body);
        }
        Check::FileProperty {
            job,
            file,
            property,
            is,
            expect: e,
        } => {
            use super::types::FileValue as V;
            f.push(("job", v(job)));
            f.push(("file", v(file)));
            match property.parse::<u32>() {
                Ok(id) => f.push(("property", v(id))),
                Err(_) => f.push(("property", v(property))),
            }
            match is {
                None => {}
                Some(V::HttpResponseHeaders(lines)) => f.push(("is", v(lines))),
                Some(V::RemoteName(s) | V::LocalName(s)) => f.push(("is", v(s))),
                Some(V::ValidationState(b) | V::FromPeer(b)) => f.push(("is", v(b))),
                Some(V::FileRanges(rs) | V::FilledFileRanges(rs)) => f.push(("is", ranges_out(rs))),
                Some(V::TemporaryName { name, like }) => f.push((
                    "is",
                    if *like {
                        Out::Obj(vec![("like", v(name))])
                    } else {
                        v(name)
                    },
                )),
                Some(V::Progress {
                    bytes_total,
                    bytes_transferred,
                    completed,
                }) => {
                    let mut o = Vec::new();
                    match bytes_total {
                        Some(BytesTotal::Bytes(n)) => o.push(("bytes_total", v(n))),
                        Some(BytesTotal::Unknown) => o.push(("bytes_total", v("UNKNOWN"))),
                        None => {}
                    }
                    if let Some(n) = bytes_transferred {
                        o.push(("bytes_transferred", v(n)));
                    }
                    if let Some(c) = completed {
                        o.push(("completed", v(c)));
                    }
                    f.push(("is", Out::Obj(o)));
                }
            }
            expect(f, *e);
        }
        Check::LocalDir { dir, names } => {
            f.push(("dir", v(dir)));
            f.push(("names", v(names)));
        }
        Check::Requests { url, count, last } => {
            f.push(("url", v(url)));
            if let Some(c) = count {
                f.push(("count", v(c)));
            }
            if let Some(l) = last {
                let mut o = Vec::new();
                if let Some(m) = &l.method {
                    o.push(("method", v(m)));
                }
                if let Some(x) = l.from {
                    o.push(("from", v(x)));
                }
                if let Some(h) = &l.headers {
                    o.push(("headers", v(h)));
                }
                if let Some(c) = &l.credentials {
                    o.push((
                        "credentials",
                        match c {
                            None => v(()),
                            Some((t, s)) => {
                                Out::Obj(vec![("target", v(t.name())), ("scheme", v(s.name()))])
                            }
                        },
                    ));
                }
                f.push(("last", Out::Obj(o)));
            }
        }
        Check::UploadReceived { url, count, body } => {
            f.push(("url", v(url)));
            if let Some(c) = count {
                f.push(("count", v(c)));
            }
            body_check(f, body);
        }
        Check::ReplyProgress {
            job,
            bytes_total,
            bytes_transferred,
            expect,
        } => {
            f.push(("job", v(job)));
            f.push(("property", v("reply_progress")));
            if !expect.is_failure() {
                let mut is = Vec::new();
                if let Some(t) = bytes_total {
                    is.push((
                        "bytes_total",
                        match t {
                            super::types::BytesTotal::Bytes(n) => v(n),
                            super::types::BytesTotal::Unknown => v("UNKNOWN"),
                        },
                    ));
                }
                if let Some(n) = bytes_transferred {
                    is.push(("bytes_transferred", v(n)));
                }
                f.push(("is", Out::Obj(is)));
            }
            if *expect != HResult::S_OK {
                f.push(("expect", v(expect.to_string())));
            }
        }
        Check::ReplyData { job, body, expect } => {
            f.push(("job", v(job)));
            f.push(("property", v("reply_data")));
            if !expect.is_failure() || *expect == HResult::BG_E_TOO_LARGE {
                let mut is = Vec::new();
                body_check(&mut is, body);
                if !is.is_empty() {
                    f.push(("is", Out::Obj(is)));
                }
            }
            if *expect != HResult::S_OK {
                f.push(("expect", v(expect.to_string())));
            }
        }
        Check::Credentials {
            job,
            target,
            scheme,
            present,
            user,
        } => {
            f.push(("job", v(job)));
            f.push(("target", v(target.name())));
            f.push(("scheme", v(scheme.name())));
            f.push(("present", v(present)));
            if let Some(u) = user {
                f.push(("user", v(u)));
            }
        }
    }
}

/// The fields of a body check, defaults left out.
pub(super) fn body_check(f: &mut Vec<(&'static str, Out)>, b: &super::types::BodyCheck) {
    use super::types::SameAs;
    if let Some(n) = b.size {
        f.push(("size", v(n)));
    }
    if let Some(h) = &b.sha256 {
        f.push(("sha256", v(h)));
    }
    if let Some(t) = &b.text {
        f.push(("text", v(t)));
    }
    match &b.same_as {
        None => {}
        Some(SameAs::Local(p)) => f.push(("same_as", Out::Obj(vec![("local", v(p))]))),
        Some(SameAs::Remote { url, ranges }) => {
            let mut o = vec![("remote", v(url))];
            if let Some(rs) = ranges {
                o.push(("ranges", ranges_out(rs)));
            }
            f.push(("same_as", Out::Obj(o)));
        }
    }
}

/// Ranges as `[offset, length]` pairs, `"TO_EOF"` for a length to the end.
pub(super) fn ranges_out(rs: &[(u64, u64)]) -> Out {
    let one = |n: u64| if n == u64::MAX { v("TO_EOF") } else { v(n) };
    Out::Arr(
        rs.iter()
            .map(|&(o, n)| Out::Arr(vec![one(o), one(n)]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use crate::scenario::{run, Action, Op, RunOptions, Scenario};
    use crate::HResult;

    const SET: &str = r#"{
      "name": "file-set",
      "description": "§2.2 AddFileSet adds every file or none; an empty set is E_INVALIDARG.",
      "world": { "remotes": { "https://x.test/a": { "size": 10 }, "https://x.test/b": { "size": 20 } } },
      "steps": [
        { "do": "create_job", "name": "j", "bind": "j" },
        { "do": "add_file_set", "job": "j", "files": [] , "expect": "E_INVALIDARG" },
        { "do": "add_file_set", "job": "j", "files": [
            { "remote": "https://x.test/a", "local": "C:\\dl\\a" },
            { "remote": "ftp://x.test/b", "local": "C:\\dl\\b" } ], "expect": "E_INVALIDARG" },
        { "check": "progress", "job": "j", "files_total": 0 },
        { "do": "add_file_set", "job": "j", "files": [
            { "remote": "https://x.test/a", "local": "C:\\dl\\a" },
            { "remote": "https://x.test/b", "local": "C:\\dl\\b" } ] },
        { "do": "resume", "job": "j" },
        { "do": "advance", "seconds": 1 },
        { "check": "progress", "job": "j", "bytes_total": 30, "files_total": 2, "files_transferred": 2 }
      ]
    }"#;

    #[test]
    fn add_file_set_all_or_nothing_s2_2_is_loaded_run_and_written() {
        let sc = Scenario::parse(SET, "set.json").unwrap();
        let result = run(&sc, "set.json", &RunOptions::default());
        assert!(result.passed, "{:?}", result.failure);
        assert_eq!(result.steps_run, 8);
        match &sc.steps[4].action {
            Action::Do(Op::AddFileSet { files, expect, .. }) => {
                assert_eq!(files.len(), 2);
                assert_eq!(files[1].0, "https://x.test/b");
                assert_eq!(*expect, HResult::S_OK);
            }
            other => panic!("{other:?}"),
        }
        let text = sc.to_json();
        assert!(text.contains("\"do\": \"add_file_set\""), "{text}");
        assert_eq!(Scenario::parse(&text, "again.json").unwrap(), sc);
    }

    #[test]
    fn a_bad_file_of_a_set_is_named_by_its_pointer() {
        let bad = SET.replace(
            r#"{ "remote": "ftp://x.test/b", "local": "C:\\dl\\b" }"#,
            r#"{ "remote": "ftp://x.test/b" }"#,
        );
        let e = Scenario::parse(&bad, "bad.json").unwrap_err().to_string();
        assert!(e.contains("/steps/2/files/1") && e.contains("local"), "{e}");
        let extra = SET.replace(
            r#""files": [] ,"#,
            r#""files": [ { "remote": "a", "local": "b", "size": 1 } ],"#,
        );
        let e = Scenario::parse(&extra, "extra.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("/steps/1/files/0/size"), "{e}");
    }
}
