//! The operations of scenario files (`"do"`), declared once.
//!
//! `operations!` below is the declaration, modelled on the property table (`crate::properties`): one
//! block per operation holds everything scenario files know about it —
//! - the [`Op`] variant and its fields;
//! - `json`: its `do` spelling(s), each with the keys it allows besides `do`, in the contract's order
//!   (whether `app` and `expect` apply is read off this list);
//! - `name` (only where one variant has several spellings), `new_app` (the step's `app` names a new
//!   application), `method` (the COM method it calls, for operations that call one), `job` (the field
//!   holding the job alias it calls a job method through), `expect` (the field holding the expected
//!   HRESULT), `mutator` (a job method refused in a final state, §1.3), `holds` (the field holding
//!   the alias of an error object it binds: the testing kit follows that object);
//! - four hooks: `load` (read and validate the step, in file order: the value of the block is the
//!   [`Op`]; the calling application is already read into `app` unless `new_app`), `write` (put its
//!   keys back in the contract's order, defaults left out), `describe` (its short text in reports and
//!   traces) and `run` (make the call through the public API: `Some((actual HRESULT, note))`, or
//!   `None` for a step that calls no BITS method).
//!
//! Generated from it: the enum [`Op`], `Op::name`, `Op::method`, `Op::job`, `Op::expect_mut`,
//! `Op::is_mutator`, `Op::holds`, the loader's table of operations and its dispatch ([`OPS`],
//! [`load`]), the writer's ([`write`]), the short descriptions ([`describe`]) and the runner's calls
//! ([`run`]).
//!
//! Adding an operation: one block here (and its row in `docs/scenario-format.md`, the contract).

use super::json::quote;
use super::load::{
    array, at, hresult, integer, named, network, remote, string, u64_field, Fields, R,
};
use super::runner::{Fail, Runner};
use super::steps::{opt_string, property, raw_property_id, raw_property_value, StepReader};
use super::types::{Action, PropertyValue, StateMethod, Step, DEFAULT_APP};
use super::write::{self, Keys, Out};
use crate::api::Job;
use crate::scenario::observe::Seen;
use crate::world::{Network, Remote};
use crate::{HResult, JobType};

/// `$e`, or `$d` when `$e` is not given.
macro_rules! either {
    (; $d:expr) => {
        $d
    };
    ($e:expr; $d:expr) => {
        $e
    };
}

/// The declaration's grammar and what it generates; see the module docs.
macro_rules! operations {
    ($(
        $(#[$doc:meta])*
        $variant:ident $({ $($(#[$fdoc:meta])* $field:ident: $fty:ty),* $(,)? })? => {
            json: { $($spelling:literal: [$($key:literal),* $(,)?]),+ $(,)? },
            $(name: $name:expr,)?
            $(new_app: $new_app:literal,)?
            $(method: $method:expr,)?
            $(job: $job:ident,)?
            $(expect: $expect:ident,)?
            $(mutator: $mutator:literal,)?
            $(holds: $holds:ident,)?
            load($rd:ident, $f:ident, $kind:ident, $app:ident) $load:block
            write($o:ident) $write:block
            describe $describe:block
            run($r:ident, $run_app:ident) $run:block
        }
    )*) => {
        /// An operation (`do`).
        #[derive(Clone, Debug, PartialEq)]
        pub enum Op {
            $(
                $(#[$doc])*
                $variant $({ $($(#[$fdoc])* $field: $fty),* })?,
            )*
        }

        impl Op {
            /// The `do` spelling.
            #[allow(unused_variables)]
            pub const fn name(&self) -> &'static str {
                match self {
                    $(Op::$variant { $($($field),*)? } => either!($($name)?; [$($spelling),+][0]),)*
                }
            }

            /// The COM method the operation calls (`None` for operations that call none).
            #[allow(unused_variables)]
            pub(crate) fn method(&self) -> Option<&'static str> {
                match self {
                    $(Op::$variant { $($($field),*)? } => either!($(Some($method))?; None),)*
                }
            }

            /// The job alias the operation calls a job method through.
            pub(crate) fn job(&self) -> Option<&String> {
                match self {
                    $(Op::$variant { $($job,)? .. } => either!($(Some($job))?; None),)*
                }
            }

            /// The same, to fill in.
            pub(crate) fn job_mut(&mut self) -> Option<&mut String> {
                match self {
                    $(Op::$variant { $($job,)? .. } => either!($(Some($job))?; None),)*
                }
            }

            /// The HRESULT expected, for operations that call a BITS method.
            pub(crate) fn expect(&self) -> Option<&HResult> {
                match self {
                    $(Op::$variant { $($expect,)? .. } => either!($(Some($expect))?; None),)*
                }
            }

            /// The HRESULT the operation expects, for operations that call a BITS method.
            pub fn expect_mut(&mut self) -> Option<&mut HResult> {
                match self {
                    $(Op::$variant { $($expect,)? .. } => either!($(Some($expect))?; None),)*
                }
            }

            /// A job method that changes the job: refused with BG_E_INVALID_STATE in a final state
            /// (§1.3, §2.0).
            pub(crate) fn is_mutator(&self) -> bool {
                match self {
                    $(Op::$variant { .. } => either!($($mutator)?; false),)*
                }
            }

            /// The alias of the error object the operation binds, if it binds one.
            #[cfg_attr(not(feature = "testing"), allow(dead_code))] // used by the testing kit
            pub(crate) fn holds(&self) -> Option<&String> {
                match self {
                    $(Op::$variant { $($holds,)? .. } => either!($($holds.as_ref())?; None),)*
                }
            }
        }

        /// Each `do` spelling and the keys it allows besides `do`.
        pub(super) const OPS: &[(&str, &[&str])] = &[$($(($spelling, &[$($key),*]),)+)*];

        /// Read the operation `kind` (a spelling of [`OPS`]) from its fields.
        #[allow(unused_variables, unused_mut, unused_assignments)]
        pub(super) fn load(rd: &mut StepReader, f: &Fields, kind: &str) -> R<Step> {
            match kind {
                $($($spelling)|+ => {
                    let $rd = rd;
                    let $f = f;
                    let $kind = kind;
                    let mut $app: Option<String> =
                        if either!($($new_app)?; false) { None } else { $rd.app($f)? };
                    let op: Op = $load;
                    Ok(Step { app: $app, action: Action::Do(op) })
                })*
                _ => Err(super::load::At {
                    ptr: f.ptr("do"),
                    pos: f.get("do").map_or(0, |n| n.pos),
                    msg: format!("unknown operation {kind:?}"),
                }),
            }
        }

        /// Put the operation's keys (after `do` and `app`).
        #[allow(unused_variables)]
        pub(super) fn write(op: &Op, o: &mut Keys) {
            match op {
                $(Op::$variant { $($($field),*)? } => {
                    let $o = o;
                    $write
                })*
            }
        }

        /// The operation in short, for reports and traces.
        #[allow(unused_variables)]
        pub(super) fn describe(op: &Op) -> String {
            match op {
                $(Op::$variant { $($($field),*)? } => $describe,)*
            }
        }

        /// Make the operation's call as `app`: `Some((actual, note))`, or `None` for an operation
        /// that calls no BITS method.
        #[allow(unused_variables)]
        pub(super) fn run(op: &Op, r: &mut Runner, app: &str) -> Result<Option<(HResult, String)>, Fail> {
            match op {
                $(Op::$variant { $($($field),*)? } => {
                    let $r = r;
                    let $run_app = app;
                    $run
                })*
            }
        }
    };
}

operations! {
    /// A new application starts as `user` (the step's `app` names it).
    Connect {
        /// The user it runs as.
        user: String,
    } => {
        json: { "connect": ["app", "user"] },
        new_app: true,
        load(rd, f, kind, app) {
            let n = f.req("app", "the name of the new application")?;
            let p = f.ptr("app");
            let name = string(n, &p)?;
            if rd.alive.contains(&name) {
                return at(
                    n,
                    &p,
                    format!("application {} is already connected", quote(&name)),
                );
            }
            let user = f.req_with("user", "the user it runs as", |n, p| rd.user(n, p))?;
            rd.alive.insert(name.clone());
            rd.known.insert(name.clone());
            app = Some(name);
            Op::Connect { user }
        }
        write(o) {
            o.put("user", user);
        }
        describe { format!("do connect as {user}") }
        run(r, app) {
            let user = r.user_id(user)?;
            r.connect(app, user);
            Ok(None)
        }
    }

    /// The step's application exits.
    Exit => {
        json: { "exit": ["app"] },
        load(rd, f, kind, app) {
            let name = app.clone().unwrap_or_else(|| DEFAULT_APP.to_string());
            rd.alive.remove(&name);
            Op::Exit
        }
        write(o) {}
        describe { "do exit".to_string() }
        run(r, app) {
            if let Some(a) = r.apps.get(app) {
                a.manager
                    .exit()
                    .expect("no call is made from inside a callback here");
            }
            Ok(None)
        }
    }

    /// A user logs on.
    Logon {
        /// Who.
        user: String,
    } => {
        json: { "logon": ["user"] },
        load(rd, f, kind, app) {
            Op::Logon { user: f.req_with("user", "a user name", |n, p| rd.user(n, p))? }
        }
        write(o) {
            o.put("user", user);
        }
        describe { format!("do logon {user}") }
        run(r, app) {
            let u = r.user_id(user)?;
            r.sim.logon(u);
            Ok(None)
        }
    }

    /// A user logs off.
    Logoff {
        /// Who.
        user: String,
    } => {
        json: { "logoff": ["user"] },
        load(rd, f, kind, app) {
            Op::Logoff { user: f.req_with("user", "a user name", |n, p| rd.user(n, p))? }
        }
        write(o) {
            o.put("user", user);
        }
        describe { format!("do logoff {user}") }
        run(r, app) {
            let u = r.user_id(user)?;
            r.sim.logoff(u);
            Ok(None)
        }
    }

    /// IBackgroundCopyManager::CreateJob.
    CreateJob {
        /// The display name.
        name: String,
        /// The job type (default DOWNLOAD).
        job_type: JobType,
        /// The alias the new job gets.
        bind: String,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "create_job": ["app", "name", "type", "bind", "expect"] },
        method: "CreateJob",
        expect: expect,
        load(rd, f, kind, app) {
            let name = f.req_with("name", "the job's display name", string)?;
            let job_type = f
                .opt_with("type", |n, p| {
                    named(
                        n,
                        p,
                        "job type",
                        &JobType::ALL.iter().map(|v| v.name()).collect::<Vec<_>>(),
                        JobType::from_name,
                    )
                })?
                .unwrap_or(JobType::Download);
            let expect = StepReader::expect(f)?;
            let b = f.req("bind", "the alias the new job gets")?;
            let bind = rd.new_job_alias(b, &f.ptr("bind"))?;
            Op::CreateJob {
                name,
                job_type,
                bind,
                expect,
            }
        }
        write(o) {
            o.put("name", name);
            if *job_type != JobType::Download {
                o.put("type", job_type.name());
            }
            o.put("bind", bind);
            o.expect(*expect);
        }
        describe { format!("do create_job {} as {bind}", quote(name)) }
        run(r, app) {
            let (manager, app_id, generation) = r.manager_of(app)?;
            let before = if r.log.is_some() { r.trace_len() } else { 0 };
            let made = manager.create_job(name, *job_type);
            let result = made.as_ref().map(Job::id).map_err(|e| *e);
            r.note(before, || Seen::CreateJob {
                app: app_id,
                generation,
                job_type: *job_type,
                result,
            });
            let actual = match made {
                Ok(job) => {
                    let id = job.id();
                    r.jobs.insert(bind.clone(), Some(id));
                    r.job_names.entry(id).or_insert_with(|| bind.clone());
                    if let Some(a) = r.apps.get_mut(app) {
                        a.handles.insert(bind.clone(), job);
                    }
                    HResult::S_OK
                }
                Err(h) => {
                    r.jobs.insert(bind.clone(), None);
                    h
                }
            };
            Ok(Some((actual, String::new())))
        }
    }

    /// IBackgroundCopyManager::GetJob.
    GetJob {
        /// The job asked for.
        job: String,
        /// An optional new alias for the handle.
        bind: Option<String>,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "get_job": ["app", "job", "bind", "expect"] },
        method: "GetJob",
        expect: expect,
        load(rd, f, kind, app) {
            let job = rd.job(f, "job")?;
            let expect = StepReader::expect(f)?;
            let bind = match f.get("bind") {
                Some(b) => Some(rd.new_job_alias(b, &f.ptr("bind"))?),
                None => None,
            };
            Op::GetJob { job, bind, expect }
        }
        write(o) {
            o.put("job", job);
            if let Some(b) = bind {
                o.put("bind", b);
            }
            o.expect(*expect);
        }
        describe {
            match bind {
                Some(b) => format!("do get_job {job} as {b}"),
                None => format!("do get_job {job}"),
            }
        }
        run(r, app) {
            let id = r.job_id(job)?;
            let (manager, app_id, generation) = r.manager_of(app)?;
            let before = if r.log.is_some() { r.trace_len() } else { 0 };
            let got = manager.get_job(id);
            let result = got.as_ref().map(|_| ()).map_err(|e| *e);
            r.note(before, || Seen::GetJob {
                app: app_id,
                generation,
                job: id,
                result,
            });
            let alias = bind.clone().unwrap_or_else(|| job.clone());
            let actual = match got {
                Ok(handle) => {
                    r.jobs.insert(alias.clone(), Some(id));
                    r.job_names.entry(id).or_insert_with(|| alias.clone());
                    if let Some(a) = r.apps.get_mut(app) {
                        a.handles.insert(alias, handle);
                    }
                    HResult::S_OK
                }
                Err(h) => {
                    if bind.is_some() {
                        r.jobs.insert(alias, None);
                    }
                    h
                }
            };
            Ok(Some((actual, String::new())))
        }
    }

    /// AddFile.
    AddFile {
        /// The job.
        job: String,
        /// The remote URL.
        remote: String,
        /// The local name.
        local: String,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "add_file": ["app", "job", "remote", "local", "expect"] },
        method: "AddFile",
        job: job,
        expect: expect,
        mutator: true,
        load(rd, f, kind, app) {
            Op::AddFile {
                job: rd.job(f, "job")?,
                remote: f.req_with("remote", "the remote URL", string)?,
                local: f.req_with("local", "the local file name", string)?,
                expect: StepReader::expect(f)?,
            }
        }
        write(o) {
            o.put("job", job);
            o.put("remote", remote);
            o.put("local", local);
            o.expect(*expect);
        }
        describe { format!("do add_file {job} {remote}") }
        run(r, app) {
            r.with_job(app, job, |j| unit(j.add_file(remote, local))).map(Some)
        }
    }

    /// AddFileSet: every file or none (§2.2).
    AddFileSet {
        /// The job.
        job: String,
        /// (remote URL, local name) of each file, in order.
        files: Vec<(String, String)>,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "add_file_set": ["app", "job", "files", "expect"] },
        method: "AddFileSet",
        job: job,
        expect: expect,
        mutator: true,
        load(rd, f, kind, app) {
            Op::AddFileSet {
                job: rd.job(f, "job")?,
                files: f.req_with(
                    "files",
                    "an array of {\"remote\", \"local\"} objects",
                    file_set,
                )?,
                expect: StepReader::expect(f)?,
            }
        }
        write(o) {
            o.put("job", job);
            let set = files
                .iter()
                .map(|(r, l)| Out::Obj(vec![("remote", write::v(r)), ("local", write::v(l))]))
                .collect();
            o.put_out("files", Out::Arr(set));
            o.expect(*expect);
        }
        describe { format!("do add_file_set {job} ({} files)", files.len()) }
        run(r, app) {
            let set: Vec<(&str, &str)> = files
                .iter()
                .map(|(r, l)| (r.as_str(), l.as_str()))
                .collect();
            r.with_job(app, job, |j| unit(j.add_file_set(&set))).map(Some)
        }
    }

    /// IBackgroundCopyJob3::AddFileWithRanges (§2.4, D57).
    AddFileWithRanges {
        /// The job.
        job: String,
        /// The remote URL.
        remote: String,
        /// The local name.
        local: String,
        /// The ranges, `(offset, length)`, `u64::MAX` for "TO_EOF".
        ranges: Vec<(u64, u64)>,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "add_file_with_ranges": ["app", "job", "remote", "local", "ranges", "expect"] },
        method: "AddFileWithRanges",
        job: job,
        expect: expect,
        mutator: true,
        load(rd, f, kind, app) {
            Op::AddFileWithRanges {
                job: rd.job(f, "job")?,
                remote: f.req_with("remote", "the remote URL", string)?,
                local: f.req_with("local", "the local file name", string)?,
                ranges: f.req_with(
                    "ranges",
                    "an array of [offset, length] pairs",
                    super::read_checks::ranges,
                )?,
                expect: StepReader::expect(f)?,
            }
        }
        write(o) {
            o.put("job", job);
            o.put("remote", remote);
            o.put("local", local);
            o.put_out("ranges", write::ranges_out(ranges));
            o.expect(*expect);
        }
        describe { format!("do add_file_with_ranges {job} {remote} ({} ranges)", ranges.len()) }
        run(r, app) {
            r.with_job(app, job, |j| unit(j.add_file_with_ranges(remote, local, ranges))).map(Some)
        }
    }

    /// Resume, Suspend, Cancel or Complete.
    State {
        /// Which method.
        method: StateMethod,
        /// The job.
        job: String,
        /// The HRESULT expected (success codes count: BG_S_PARTIAL_COMPLETE).
        expect: HResult,
    } => {
        json: {
            "resume": ["app", "job", "expect"],
            "suspend": ["app", "job", "expect"],
            "cancel": ["app", "job", "expect"],
            "complete": ["app", "job", "expect"],
        },
        name: method.op_name(),
        method: method.method(),
        job: job,
        expect: expect,
        mutator: true,
        load(rd, f, kind, app) {
            Op::State {
                method: match kind {
                    "resume" => StateMethod::Resume,
                    "suspend" => StateMethod::Suspend,
                    "cancel" => StateMethod::Cancel,
                    _ => StateMethod::Complete,
                },
                job: rd.job(f, "job")?,
                expect: StepReader::expect(f)?,
            }
        }
        write(o) {
            o.put("job", job);
            o.expect(*expect);
        }
        describe { format!("do {} {job}", method.op_name()) }
        run(r, app) {
            r.with_job(app, job, |j| {
                let done = match method {
                    StateMethod::Resume => j.resume(),
                    StateMethod::Suspend => j.suspend(),
                    StateMethod::Cancel => j.cancel(),
                    StateMethod::Complete => j.complete(),
                };
                done.unwrap_or_else(|e| e)
            })
            .map(Some)
        }
    }

    /// A Set* method.
    Set {
        /// The job.
        job: String,
        /// The property and its new value.
        value: PropertyValue,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "set": ["app", "job", "property", "value", "expect"] },
        method: value.setter(),
        job: job,
        expect: expect,
        mutator: true,
        load(rd, f, kind, app) {
            let job = rd.job(f, "job")?;
            match raw_property_id(f)? {
                // An integer property: IBackgroundCopyJob5::SetProperty by raw id (D35).
                Some(id) => Op::SetRaw {
                    job,
                    id,
                    value: raw_property_value(f, "value")?,
                    expect: StepReader::expect(f)?,
                },
                None => Op::Set {
                    job,
                    value: property(f, "value")?,
                    expect: StepReader::expect(f)?,
                },
            }
        }
        write(o) {
            o.put("job", job);
            o.put("property", value.property());
            o.put_out("value", write::prop(value));
            o.expect(*expect);
        }
        describe { format!("do set {job} {} = {}", value.property(), value.show()) }
        run(r, app) {
            r.with_job(app, job, |j| unit(j.set_property(value))).map(Some)
        }
    }

    /// IBackgroundCopyJob5::SetProperty by raw BITS_JOB_PROPERTY_ID: `set` with an integer
    /// `property` (D35).
    SetRaw {
        /// The job.
        job: String,
        /// The BITS_JOB_PROPERTY_ID.
        id: u32,
        /// The value as a number (a CLSID as its 128 bits).
        value: u128,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "set_property_raw": ["app", "job", "property", "value", "expect"] },
        name: "set",
        method: "IBackgroundCopyJob5::SetProperty",
        job: job,
        expect: expect,
        mutator: true,
        load(rd, f, kind, app) {
            at::<Op>(
                f.get("do").unwrap_or(f.node),
                &f.ptr("do"),
                "write IBackgroundCopyJob5::SetProperty by raw id as \"set\" with an integer \"property\"",
            )?
        }
        write(o) {
            o.put("job", job);
            o.put("property", *id);
            o.put_out("value", write::raw(*value));
            o.expect(*expect);
        }
        describe { format!("do set {job} #{id} = {value}") }
        run(r, app) {
            let (id, value) = (*id, *value);
            r.with_job(app, job, |j| unit(j.set_property_raw(id, value))).map(Some)
        }
    }

    /// IBackgroundCopyJob3::ReplaceRemotePrefix (§2.4, D37).
    ReplaceRemotePrefix {
        /// The job.
        job: String,
        /// The prefix replaced.
        old_prefix: String,
        /// Its replacement.
        new_prefix: String,
        /// The HRESULT expected (S_FALSE: no file matched).
        expect: HResult,
    } => {
        json: { "replace_remote_prefix": ["app", "job", "old_prefix", "new_prefix", "expect"] },
        method: "IBackgroundCopyJob3::ReplaceRemotePrefix",
        job: job,
        expect: expect,
        mutator: true,
        load(rd, f, kind, app) {
            Op::ReplaceRemotePrefix {
                job: rd.job(f, "job")?,
                old_prefix: f.req_with("old_prefix", "the prefix to replace", string)?,
                new_prefix: f.req_with("new_prefix", "its replacement", string)?,
                expect: StepReader::expect(f)?,
            }
        }
        write(o) {
            o.put("job", job);
            o.put("old_prefix", old_prefix);
            o.put("new_prefix", new_prefix);
            o.expect(*expect);
        }
        describe { format!("do replace_remote_prefix {job} {} -> {}", quote(old_prefix), quote(new_prefix)) }
        run(r, app) {
            r.with_job(app, job, |j| {
                j.replace_remote_prefix(old_prefix, new_prefix)
                    .unwrap_or_else(|e| e)
            })
            .map(Some)
        }
    }

    /// TakeOwnership.
    TakeOwnership {
        /// The job.
        job: String,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "take_ownership": ["app", "job", "expect"] },
        method: "TakeOwnership",
        job: job,
        expect: expect,
        mutator: true,
        load(rd, f, kind, app) {
            Op::TakeOwnership {
                job: rd.job(f, "job")?,
                expect: StepReader::expect(f)?,
            }
        }
        write(o) {
            o.put("job", job);
            o.expect(*expect);
        }
        describe { format!("do take_ownership {job}") }
        run(r, app) {
            r.with_job(app, job, |j| unit(j.take_ownership())).map(Some)
        }
    }

    /// GetError.
    GetError {
        /// The job.
        job: String,
        /// An optional alias for the error object.
        bind_error: Option<String>,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "get_error": ["app", "job", "bind_error", "expect"] },
        method: "GetError",
        job: job,
        expect: expect,
        holds: bind_error,
        load(rd, f, kind, app) {
            let job = rd.job(f, "job")?;
            let expect = StepReader::expect(f)?;
            let bind_error = match f.get("bind_error") {
                None => None,
                Some(n) => {
                    let p = f.ptr("bind_error");
                    let alias = string(n, &p)?;
                    if alias.is_empty() {
                        return at(n, &p, "an error alias must not be empty");
                    }
                    if rd.errors.contains_key(&alias) {
                        return at(
                            n,
                            &p,
                            format!(
                                "error alias {} is already bound; choose a new name",
                                quote(&alias)
                            ),
                        );
                    }
                    let holder = app.clone().unwrap_or_else(|| DEFAULT_APP.to_string());
                    rd.errors.insert(alias.clone(), holder);
                    Some(alias)
                }
            };
            Op::GetError {
                job,
                bind_error,
                expect,
            }
        }
        write(o) {
            o.put("job", job);
            if let Some(b) = bind_error {
                o.put("bind_error", b);
            }
            o.expect(*expect);
        }
        describe { format!("do get_error {job}") }
        run(r, app) {
            let mut obj = None;
            let (actual, note) = r.with_job(app, job, |j| match j.get_error() {
                Ok(e) => {
                    obj = Some(e);
                    HResult::S_OK
                }
                Err(h) => h,
            })?;
            if let Some(alias) = bind_error {
                r.errors.insert(alias.clone(), obj);
            }
            Ok(Some((actual, note)))
        }
    }

    /// SetNotifyInterface with a callback answering `returns`.
    RegisterCallback {
        /// The job.
        job: String,
        /// What the callback answers (S_OK by default).
        returns: HResult,
        /// The newest IBackgroundCopyCallback interface it implements (1–3, 3 by default; D60).
        implements: u8,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "register_callback": ["app", "job", "returns", "implements", "expect"] },
        method: "SetNotifyInterface",
        job: job,
        expect: expect,
        mutator: true,
        load(rd, f, kind, app) {
            Op::RegisterCallback {
                job: rd.job(f, "job")?,
                returns: f.opt_with("returns", hresult)?.unwrap_or(HResult::S_OK),
                implements: f
                    .opt_with("implements", |n, p| {
                        match integer(n, p, u64::MAX, "an interface level 1, 2 or 3")? {
                        v @ 1..=3 => Ok(v as u8),
                        v => at(
                            n,
                            p,
                            format!("implements must be 1, 2 or 3 (IBackgroundCopyCallback, Callback2, Callback3), not {v}"),
                        ),
                    }
                    })?
                    .unwrap_or(3),
                expect: StepReader::expect(f)?,
            }
        }
        write(o) {
            o.put("job", job);
            if *returns != HResult::S_OK {
                o.put("returns", returns.to_string());
            }
            if *implements != 3 {
                o.put("implements", u64::from(*implements));
            }
            o.expect(*expect);
        }
        describe { format!("do register_callback {job} returning {returns}") }
        run(r, app) {
            r.with_job(app, job, |j| {
                unit(j.set_notify_answer_implementing(*returns, *implements))
            })
            .map(Some)
        }
    }

    /// Virtual time moves forward.
    Advance {
        /// Whole seconds.
        seconds: u64,
    } => {
        json: { "advance": ["seconds"] },
        load(rd, f, kind, app) {
            Op::Advance {
                seconds: f.req_with("seconds", "whole seconds ≥ 0", u64_field("seconds"))?,
            }
        }
        write(o) {
            o.put("seconds", seconds);
        }
        describe { format!("do advance {seconds}s") }
        run(r, app) {
            r.advance(*seconds).map(|()| None)
        }
    }

    /// Advance until idle, optionally at most `max_seconds`.
    RunUntilIdle {
        /// The bound.
        max_seconds: Option<u64>,
    } => {
        json: { "run_until_idle": ["max_seconds"] },
        load(rd, f, kind, app) {
            Op::RunUntilIdle {
                max_seconds: f.opt_with("max_seconds", u64_field("seconds"))?,
            }
        }
        write(o) {
            if let Some(m) = max_seconds {
                o.put("max_seconds", m);
            }
        }
        describe {
            match max_seconds {
                Some(m) => format!("do run_until_idle (at most {m}s)"),
                None => "do run_until_idle".to_string(),
            }
        }
        run(r, app) {
            r.run_until_idle(*max_seconds).map(|()| None)
        }
    }

    /// The network goes up or down.
    Network {
        /// The new state.
        state: Network,
    } => {
        json: { "network": ["state"] },
        load(rd, f, kind, app) {
            Op::Network {
                state: f.req_with("state", "\"up\" or \"down\"", network)?,
            }
        }
        write(o) {
            o.put_out("state", write::network(*state));
        }
        describe { format!("do network {state:?}").to_lowercase() }
        run(r, app) {
            r.sim.set_network(*state);
            Ok(None)
        }
    }

    /// The network's cost changes (T21a, T21b, D53).
    NetworkCost {
        /// BITS_COST_STATE_* bits.
        cost: u32,
    } => {
        json: { "network_cost": ["cost"] },
        load(rd, f, kind, app) {
            Op::NetworkCost {
                cost: f.req_with("cost", "a network cost", super::load::network_cost)?,
            }
        }
        write(o) {
            o.put_out("cost", write::network_cost(*cost));
        }
        describe { format!("do network_cost {}", crate::world::cost_state_names(*cost)) }
        run(r, app) {
            r.sim.set_network_cost(*cost);
            Ok(None)
        }
    }

    /// Group Policy starts or stops blocking background transfers (T21, D99).
    GroupPolicy {
        /// MaxInternetBandwidth 0 is in effect now.
        block_background: bool,
    } => {
        json: { "group_policy": ["block_background"] },
        load(rd, f, kind, app) {
            Op::GroupPolicy {
                block_background: f.req_with("block_background", "true or false", super::load::boolean)?,
            }
        }
        write(o) {
            o.put("block_background", *block_background);
        }
        describe { format!("do group_policy block_background {block_background}") }
        run(r, app) {
            r.sim.set_background_policy_block(*block_background);
            Ok(None)
        }
    }

    /// A server changes its behaviour.
    SetRemote {
        /// The URL.
        url: String,
        /// The new behaviour (boxed: most steps are smaller).
        remote: Box<Remote>,
    } => {
        json: { "set_remote": ["url", "remote"] },
        load(rd, f, kind, app) {
            Op::SetRemote {
                url: f.req_with("url", "the remote's URL", string)?,
                remote: Box::new(f.req_with("remote", "the remote, as in the world", remote)?),
            }
        }
        write(o) {
            o.put("url", url);
            o.put_out("remote", write::remote(remote));
        }
        describe { format!("do set_remote {url}") }
        run(r, app) {
            r.sim.set_remote(url, (**remote).clone());
            Ok(None)
        }
    }

    /// The BITS service restarts.
    RestartService => {
        json: { "restart_service": [] },
        load(rd, f, kind, app) {
            Op::RestartService
        }
        write(o) {}
        describe { "do restart_service".to_string() }
        run(r, app) {
            r.restart();
            Ok(None)
        }
    }
    /// IBackgroundCopyManager::EnumJobs, keeping the enumerator object (D46).
    EnumJobs {
        /// BG_JOB_ENUM_ALL_USERS.
        all_users: bool,
        /// The alias the enumerator gets (held by the step's application).
        bind_enum: String,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "enum_jobs": ["app", "all_users", "bind_enum", "expect"] },
        method: "EnumJobs",
        expect: expect,
        load(rd, f, kind, app) {
            let all_users = f.opt_with("all_users", super::load::boolean)?.unwrap_or(false);
            let expect = StepReader::expect(f)?;
            let holder = app.clone().unwrap_or_else(|| DEFAULT_APP.to_string());
            let bind_enum = new_enum_alias(rd, f, holder, true)?;
            Op::EnumJobs { all_users, bind_enum, expect }
        }
        write(o) {
            if *all_users {
                o.put("all_users", true);
            }
            o.put("bind_enum", bind_enum);
            o.expect(*expect);
        }
        describe { format!("do enum_jobs as {bind_enum}") }
        run(r, app) {
            let flags = if *all_users { crate::BG_JOB_ENUM_ALL_USERS } else { 0 };
            let (manager, app_id, generation) = r.manager_of(app)?;
            let before = r.trace_len();
            let made = manager.job_enum(flags);
            // With the testing kit's log on: the snapshot, judged as what EnumJobs lists then (D46,
            // §2.1), read through a clone so that the enumerator's cursor does not move.
            r.note(before, || crate::scenario::observe::Seen::EnumJobs {
                app: app_id,
                generation,
                all_users: *all_users,
                result: match &made {
                    Ok(e) => e.clone_enum().and_then(|mut c| {
                        c.next(u32::MAX)
                            .map(|(v, _)| v.iter().map(crate::Job::id).collect())
                    }),
                    Err(h) => Err(*h),
                },
            });
            let (held, actual) = match made {
                Ok(e) => (Some(HeldEnum::Jobs(e)), HResult::S_OK),
                Err(h) => (None, h),
            };
            r.enums.insert(bind_enum.clone(), held);
            Ok(Some((actual, String::new())))
        }
    }

    /// IBackgroundCopyJob::EnumFiles, keeping the enumerator object (D46).
    EnumFiles {
        /// The job.
        job: String,
        /// The alias the enumerator gets (held by the step's application).
        bind_enum: String,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "enum_files": ["app", "job", "bind_enum", "expect"] },
        method: "EnumFiles",
        job: job,
        expect: expect,
        load(rd, f, kind, app) {
            let job = rd.job(f, "job")?;
            let expect = StepReader::expect(f)?;
            let holder = app.clone().unwrap_or_else(|| DEFAULT_APP.to_string());
            let bind_enum = new_enum_alias(rd, f, holder, false)?;
            Op::EnumFiles { job, bind_enum, expect }
        }
        write(o) {
            o.put("job", job);
            o.put("bind_enum", bind_enum);
            o.expect(*expect);
        }
        describe { format!("do enum_files {job} as {bind_enum}") }
        run(r, app) {
            let mut held = None;
            let (actual, note) = r.with_job(app, job, |j| match j.file_enum() {
                Ok(e) => {
                    held = Some(HeldEnum::Files(e));
                    HResult::S_OK
                }
                Err(h) => h,
            })?;
            r.enums.insert(bind_enum.clone(), held);
            Ok(Some((actual, note)))
        }
    }

    /// Next on a held enumerator (D46).
    EnumNext {
        /// The `bind_enum` alias.
        enumerator: String,
        /// celt (at least 1).
        count: u32,
        /// How many come back (absent when a failure is expected).
        fetched: Option<u32>,
        /// The display names (job enumerators, compared sorted) or local names (file enumerators,
        /// in order) of what came back.
        names: Option<Vec<String>>,
        /// The HRESULT expected: S_OK when `fetched` is `count`, S_FALSE when fewer.
        expect: HResult,
    } => {
        json: { "enum_next": ["app", "enum", "count", "fetched", "names", "expect"] },
        method: "Next",
        expect: expect,
        load(rd, f, kind, app) {
            let enumerator = held_enum(rd, f, app.as_deref())?;
            let count = f.req_with("count", "celt, at least 1", super::load::u32_field("a count"))?;
            if count == 0 {
                let n = f.req("count", "celt")?;
                return at(n, &f.ptr("count"), "\"count\" (celt) must be at least 1");
            }
            let expect = StepReader::expect(f)?;
            let (fetched, names) = fetched_and_names(f, count, expect)?;
            Op::EnumNext { enumerator, count, fetched, names, expect }
        }
        write(o) {
            o.put("enum", enumerator);
            o.put("count", count);
            if let Some(n) = fetched {
                o.put("fetched", n);
            }
            if let Some(n) = names {
                o.put("names", n);
            }
            o.expect(*expect);
        }
        describe { format!("do enum_next {enumerator} {count}") }
        run(r, app) {
            r.next_seen = None;
            let Some(Some(held)) = r.enums.get_mut(enumerator) else {
                return no_enum(enumerator);
            };
            let got: Result<(Vec<String>, bool), HResult> = match held {
                HeldEnum::Jobs(e) => e.next(*count).map(|(v, hr)| {
                    let mut n: Vec<String> = v
                        .iter()
                        .map(|j| j.get_display_name().unwrap_or_else(|h| format!("<{h}>")))
                        .collect();
                    n.sort();
                    (n, hr == HResult::S_OK)
                }),
                HeldEnum::Files(e) => e.next(*count).map(|(v, hr)| {
                    let n = v
                        .iter()
                        .map(|f| f.get_local_name().unwrap_or_else(|h| format!("<{h}>")))
                        .collect();
                    (n, hr == HResult::S_OK)
                }),
            };
            let (got, all) = match got {
                Ok(x) => x,
                Err(h) => return Ok(Some((h, String::new()))),
            };
            let actual = if all { HResult::S_OK } else { HResult::S_FALSE };
            if let Some(want) = fetched {
                if got.len() != *want as usize {
                    return Err(Fail {
                        expected: format!("{want} fetched"),
                        actual: format!("{} fetched", got.len()),
                        message: format!(
                            "Next({count}) on {enumerator} returned {} elements, but the scenario expects {want}",
                            got.len()
                        ),
                    });
                }
            }
            if let Some(want) = names {
                let mut want = want.clone();
                if matches!(r.enums.get(enumerator), Some(Some(HeldEnum::Jobs(_)))) {
                    want.sort();
                }
                if want != got {
                    return Err(Fail {
                        expected: format!("{want:?}"),
                        actual: format!("{got:?}"),
                        message: format!("Next({count}) on {enumerator} returned other elements than the scenario expects"),
                    });
                }
            }
            // What came back, for observe mode (the step written states it).
            r.next_seen = Some(got);
            Ok(Some((actual, String::new())))
        }
    }

    /// Skip on a held enumerator (D46).
    EnumSkip {
        /// The `bind_enum` alias.
        enumerator: String,
        /// celt.
        count: u32,
        /// The HRESULT expected (S_FALSE when fewer were left).
        expect: HResult,
    } => {
        json: { "enum_skip": ["app", "enum", "count", "expect"] },
        method: "Skip",
        expect: expect,
        load(rd, f, kind, app) {
            Op::EnumSkip {
                enumerator: held_enum(rd, f, app.as_deref())?,
                count: f.req_with("count", "celt", super::load::u32_field("a count"))?,
                expect: StepReader::expect(f)?,
            }
        }
        write(o) {
            o.put("enum", enumerator);
            o.put("count", count);
            o.expect(*expect);
        }
        describe { format!("do enum_skip {enumerator} {count}") }
        run(r, app) {
            let hr = match r.enums.get_mut(enumerator) {
                Some(Some(HeldEnum::Jobs(e))) => e.skip(*count),
                Some(Some(HeldEnum::Files(e))) => e.skip(*count),
                _ => return no_enum(enumerator),
            };
            Ok(Some((hr.unwrap_or_else(|e| e), String::new())))
        }
    }

    /// Reset on a held enumerator (D46).
    EnumReset {
        /// The `bind_enum` alias.
        enumerator: String,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "enum_reset": ["app", "enum", "expect"] },
        method: "Reset",
        expect: expect,
        load(rd, f, kind, app) {
            Op::EnumReset {
                enumerator: held_enum(rd, f, app.as_deref())?,
                expect: StepReader::expect(f)?,
            }
        }
        write(o) {
            o.put("enum", enumerator);
            o.expect(*expect);
        }
        describe { format!("do enum_reset {enumerator}") }
        run(r, app) {
            let done = match r.enums.get_mut(enumerator) {
                Some(Some(HeldEnum::Jobs(e))) => e.reset(),
                Some(Some(HeldEnum::Files(e))) => e.reset(),
                _ => return no_enum(enumerator),
            };
            Ok(Some((unit(done), String::new())))
        }
    }

    /// Clone of a held enumerator (D46): a new alias held by the same application.
    EnumClone {
        /// The `bind_enum` alias cloned.
        enumerator: String,
        /// The alias the clone gets.
        bind_enum: String,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "enum_clone": ["app", "enum", "bind_enum", "expect"] },
        method: "Clone",
        expect: expect,
        load(rd, f, kind, app) {
            let enumerator = held_enum(rd, f, app.as_deref())?;
            let (holder, jobs) = rd.enums[&enumerator].clone();
            let expect = StepReader::expect(f)?;
            let bind_enum = new_enum_alias(rd, f, holder, jobs)?;
            Op::EnumClone { enumerator, bind_enum, expect }
        }
        write(o) {
            o.put("enum", enumerator);
            o.put("bind_enum", bind_enum);
            o.expect(*expect);
        }
        describe { format!("do enum_clone {enumerator} as {bind_enum}") }
        run(r, app) {
            let made = match r.enums.get(enumerator) {
                Some(Some(HeldEnum::Jobs(e))) => e.clone_enum().map(HeldEnum::Jobs),
                Some(Some(HeldEnum::Files(e))) => e.clone_enum().map(HeldEnum::Files),
                _ => return no_enum(enumerator),
            };
            let (held, actual) = match made {
                Ok(e) => (Some(e), HResult::S_OK),
                Err(h) => (None, h),
            };
            r.enums.insert(bind_enum.clone(), held);
            Ok(Some((actual, String::new())))
        }
    }

    /// A file setter (IBackgroundCopyFile2::SetRemoteName, IBackgroundCopyFile3::SetValidationState).
    SetFile {
        /// The job.
        job: String,
        /// The file index (in the order added).
        file: u32,
        /// The property and its value.
        value: FileSet,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "set_file": ["app", "job", "file", "property", "value", "expect"] },
        method: "IBackgroundCopyFile::Set*",
        job: job,
        expect: expect,
        mutator: true,
        load(rd, f, kind, app) {
            let raw = match f.get("property") {
                Some(n) if matches!(n.kind, super::json::Kind::Num(_)) => {
                    // File5::SetProperty by raw BITS_FILE_PROPERTY_ID (D64).
                    Some(super::load::u32_field("a BITS_FILE_PROPERTY_ID")(n, &f.ptr("property"))?)
                }
                _ => None,
            };
            let property = match raw {
                Some(_) => String::new(),
                None => f.req_with("property", "a file property", string)?,
            };
            let value = match (raw, property.as_str()) {
                (Some(id), _) => FileSet::Property { id, named: false, value: f.req_with("value", "the property's string value", string)? },
                (None, "http_response_headers") => FileSet::Property {
                    id: crate::file_calls::FILE_PROPERTY_HTTP_RESPONSE_HEADERS,
                    named: true,
                    value: f.req_with("value", "the header lines (a string)", string)?,
                },
                (None, "remote_name") => FileSet::RemoteName(f.req_with("value", "the new remote name", string)?),
                (None, "validation_state") => FileSet::ValidationState(f.req_with("value", "true or false", super::load::boolean)?),
                (None, other) => {
                    return at(
                        f.get("property").unwrap_or(f.node),
                        &f.ptr("property"),
                        format!(
                            "{} is not a file property set_file can set; expected \"remote_name\", \"validation_state\", \"http_response_headers\" or an integer BITS_FILE_PROPERTY_ID",
                            quote(other)
                        ),
                    )
                }
            };
            Op::SetFile {
                job: rd.job(f, "job")?,
                file: f.req_with("file", "the file's index in its job", super::load::u32_field("a file index"))?,
                value,
                expect: StepReader::expect(f)?,
            }
        }
        write(o) {
            o.put("job", job);
            o.put("file", file);
            match value {
                FileSet::RemoteName(n) => {
                    o.put("property", "remote_name");
                    o.put("value", n);
                }
                FileSet::ValidationState(b) => {
                    o.put("property", "validation_state");
                    o.put("value", b);
                }
                FileSet::Property { id, named, value } => {
                    if *named {
                        o.put("property", "http_response_headers");
                    } else {
                        o.put("property", id);
                    }
                    o.put("value", value);
                }
            }
            o.expect(*expect);
        }
        describe { format!("do set_file {job} file {file} {}", value.name()) }
        run(r, app) {
            let i = *file as usize;
            let got = r.call(app, job, |j| {
                let files = j.enum_files()?;
                let Some(f) = files.get(i) else { return Ok(None) };
                Ok::<_, HResult>(Some(unit(match value {
                    FileSet::RemoteName(n) => f.set_remote_name(n),
                    FileSet::ValidationState(b) => f.set_validation_state(*b),
                    FileSet::Property { id, value, .. } => f.set_property(*id, value),
                })))
            })?;
            match got {
                Ok(Ok(Some(h))) => Ok(Some((h, String::new()))),
                Ok(Ok(None)) => Err(Fail {
                    expected: format!("file {i} of {job}"),
                    actual: "no such file".to_string(),
                    message: format!("{job} has no file {i} (files are numbered from 0 in the order added)"),
                }),
                Ok(Err(h)) => Ok(Some((h, " (EnumFiles failed)".to_string()))),
                Err(h) => Ok(Some((h, format!(" (application {app:?} could not obtain a handle to {job:?}: GetJob returned {h})")))),
            }
        }
    }

    /// IBackgroundCopyFile6::RequestFileRanges (D73, D74; T30).
    RequestFileRanges {
        /// The job.
        job: String,
        /// The file index (in the order added).
        file: u32,
        /// The ranges, `(offset, length)`, `u64::MAX` for "TO_EOF".
        ranges: Vec<(u64, u64)>,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "request_file_ranges": ["app", "job", "file", "ranges", "expect"] },
        method: "IBackgroundCopyFile6::RequestFileRanges",
        job: job,
        expect: expect,
        mutator: true,
        load(rd, f, kind, app) {
            Op::RequestFileRanges {
                job: rd.job(f, "job")?,
                file: f.req_with("file", "the file's index in its job", super::load::u32_field("a file index"))?,
                ranges: f.req_with(
                    "ranges",
                    "an array of [offset, length] pairs",
                    super::read_checks::ranges,
                )?,
                expect: StepReader::expect(f)?,
            }
        }
        write(o) {
            o.put("job", job);
            o.put("file", file);
            o.put_out("ranges", write::ranges_out(ranges));
            o.expect(*expect);
        }
        describe { format!("do request_file_ranges {job} file {file} ({} ranges)", ranges.len()) }
        run(r, app) {
            file6_call(r, app, job, *file, |f| f.request_file_ranges(ranges))
        }
    }

    /// IBackgroundCopyFile6::UpdateDownloadPosition (D73, D75).
    UpdateDownloadPosition {
        /// The job.
        job: String,
        /// The file index (in the order added).
        file: u32,
        /// The new download position.
        offset: u64,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "update_download_position": ["app", "job", "file", "offset", "expect"] },
        method: "IBackgroundCopyFile6::UpdateDownloadPosition",
        job: job,
        expect: expect,
        mutator: true,
        load(rd, f, kind, app) {
            Op::UpdateDownloadPosition {
                job: rd.job(f, "job")?,
                file: f.req_with("file", "the file's index in its job", super::load::u32_field("a file index"))?,
                offset: f.req_with("offset", "a byte offset", super::load::u64_field("a byte offset"))?,
                expect: StepReader::expect(f)?,
            }
        }
        write(o) {
            o.put("job", job);
            o.put("file", file);
            o.put("offset", offset);
            o.expect(*expect);
        }
        describe { format!("do update_download_position {job} file {file} {offset}") }
        run(r, app) {
            file6_call(r, app, job, *file, |f| f.update_download_position(*offset))
        }
    }

    /// A local file changes (in the sandbox too).
    SetLocal {
        /// Its Windows path.
        path: String,
        /// Its size.
        size: u64,
        /// Its body (`None`: `size` bytes of the path-seeded pattern).
        content: Option<crate::Body>,
        /// Its last-write time in virtual seconds (D78).
        modified: u64,
    } => {
        json: { "set_local": ["path", "local"] },
        load(rd, f, kind, app) {
            let path = f.req_with("path", "the local file's Windows path", string)?;
            let (size, content, modified) =
                f.req_with("local", "the local file, as in the world", super::load::local)?;
            Op::SetLocal { path, size, content, modified }
        }
        write(o) {
            o.put("path", path);
            let mut l = vec![("size", write::v(size))];
            if let Some(b) = content {
                l.push(("content", write::body(b)));
            }
            if *modified != 0 {
                l.push(("modified", write::v(modified)));
            }
            o.put_out("local", Out::Obj(l));
        }
        describe { format!("do set_local {path}") }
        run(r, app) {
            r.sim.with_service_mut(|s| s.set_local_file(path, *size, *modified, content.clone()));
            Ok(None)
        }
    }

    /// IBackgroundCopyJob2::SetCredentials (§2.3, D25).
    SetCredentials {
        /// The job.
        job: String,
        /// BG_AUTH_TARGET and BG_AUTH_SCHEME (raw, so that invalid values can be tried), user
        /// name and password.
        credentials: crate::Credentials,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "set_credentials": ["app", "job", "target", "scheme", "user", "password", "expect"] },
        method: "SetCredentials",
        job: job,
        expect: expect,
        mutator: true,
        load(rd, f, kind, app) {
            Op::SetCredentials {
                job: rd.job(f, "job")?,
                credentials: crate::Credentials {
                    target: f.req_with("target", "SERVER, PROXY or an integer", auth_target)?,
                    scheme: f.req_with(
                        "scheme",
                        "BASIC, DIGEST, NTLM, NEGOTIATE, PASSPORT or an integer",
                        auth_scheme,
                    )?,
                    user: f.req_with("user", "the user name (a string or null)", opt_string)?,
                    password: f.req_with("password", "the password (a string or null)", opt_string)?,
                },
                expect: StepReader::expect(f)?,
            }
        }
        write(o) {
            o.put("job", job);
            o.put_out("target", auth_out(credentials.target, true));
            o.put_out("scheme", auth_out(credentials.scheme, false));
            o.put("user", &credentials.user);
            o.put("password", &credentials.password);
            o.expect(*expect);
        }
        describe {
            format!(
                "do set_credentials {job} {} {}",
                auth_name(credentials.target, true),
                auth_name(credentials.scheme, false)
            )
        }
        run(r, app) {
            r.with_job(app, job, |j| unit(j.set_credentials(credentials))).map(Some)
        }
    }

    /// IBackgroundCopyJob2::RemoveCredentials (§2.3: S_FALSE when none were held).
    RemoveCredentials {
        /// The job.
        job: String,
        /// BG_AUTH_TARGET (raw).
        target: u32,
        /// BG_AUTH_SCHEME (raw).
        scheme: u32,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "remove_credentials": ["app", "job", "target", "scheme", "expect"] },
        method: "RemoveCredentials",
        job: job,
        expect: expect,
        mutator: true,
        load(rd, f, kind, app) {
            Op::RemoveCredentials {
                job: rd.job(f, "job")?,
                target: f.req_with("target", "SERVER, PROXY or an integer", auth_target)?,
                scheme: f.req_with(
                    "scheme",
                    "BASIC, DIGEST, NTLM, NEGOTIATE, PASSPORT or an integer",
                    auth_scheme,
                )?,
                expect: StepReader::expect(f)?,
            }
        }
        write(o) {
            o.put("job", job);
            o.put_out("target", auth_out(*target, true));
            o.put_out("scheme", auth_out(*scheme, false));
            o.expect(*expect);
        }
        describe {
            format!(
                "do remove_credentials {job} {} {}",
                auth_name(*target, true),
                auth_name(*scheme, false)
            )
        }
        run(r, app) {
            r.with_job(app, job, |j| j.remove_credentials(*target, *scheme).unwrap_or_else(|e| e))
                .map(Some)
        }
    }

    /// IBackgroundCopyJobHttpOptions3::MakeCustomHeadersWriteOnly (D28).
    MakeCustomHeadersWriteOnly {
        /// The job.
        job: String,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "make_custom_headers_write_only": ["app", "job", "expect"] },
        method: "MakeCustomHeadersWriteOnly",
        job: job,
        expect: expect,
        mutator: true,
        load(rd, f, kind, app) {
            Op::MakeCustomHeadersWriteOnly {
                job: rd.job(f, "job")?,
                expect: StepReader::expect(f)?,
            }
        }
        write(o) {
            o.put("job", job);
            o.expect(*expect);
        }
        describe { format!("do make_custom_headers_write_only {job}") }
        run(r, app) {
            r.with_job(app, job, |j| unit(j.make_custom_headers_write_only())).map(Some)
        }
    }

    /// HttpOptions::SetClientCertificateByName (`subject`) / SetClientCertificateByID (`sha1`), D31.
    SetClientCertificate {
        /// The job.
        job: String,
        /// BG_CERT_STORE_LOCATION (raw, so that invalid values can be tried).
        location: u32,
        /// The store name.
        store: String,
        /// `(true, subject)` or `(false, sha1)`.
        by: (bool, String),
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "set_client_certificate": ["app", "job", "location", "store", "subject", "sha1", "expect"] },
        name: "set_client_certificate",
        method: if by.0 { "SetClientCertificateByName" } else { "SetClientCertificateByID" },
        job: job,
        expect: expect,
        mutator: true,
        load(rd, f, kind, app) {
            let job = rd.job(f, "job")?;
            let location = f.req_with(
                "location",
                "a certificate store location (a name or an integer)",
                super::http::location,
            )?;
            let store = f.req_with("store", "the store name", string)?;
            let by = match (f.get("subject"), f.get("sha1")) {
                (Some(_), None) => (true, f.req_with("subject", "the subject", string)?),
                (None, Some(_)) => (false, f.req_with("sha1", "the SHA-1 hash", super::http::sha1)?),
                _ => {
                    return at(
                        f.get("sha1").or(f.get("subject")).unwrap_or(f.req("job", "")?),
                        &f.ptr(if f.has("sha1") { "sha1" } else { "subject" }),
                        "set_client_certificate takes exactly one of \"subject\" and \"sha1\"",
                    )
                }
            };
            Op::SetClientCertificate {
                job,
                location,
                store,
                by,
                expect: StepReader::expect(f)?,
            }
        }
        write(o) {
            o.put("job", job);
            match crate::http::CERT_STORE_LOCATIONS.get(*location as usize) {
                Some(n) => o.put("location", n),
                None => o.put("location", location),
            }
            o.put("store", store);
            o.put(if by.0 { "subject" } else { "sha1" }, &by.1);
            o.expect(*expect);
        }
        describe { format!("do set_client_certificate {job} {store} {}", quote(&by.1)) }
        run(r, app) {
            let how = if by.0 {
                crate::CertificateBy::Subject(&by.1)
            } else {
                crate::CertificateBy::Sha1(&by.1)
            };
            r.with_job(app, job, |j| unit(j.set_client_certificate(*location, store, how)))
                .map(Some)
        }
    }

    /// HttpOptions::RemoveClientCertificate (S_FALSE when the job has none).
    RemoveClientCertificate {
        /// The job.
        job: String,
        /// The HRESULT expected.
        expect: HResult,
    } => {
        json: { "remove_client_certificate": ["app", "job", "expect"] },
        method: "RemoveClientCertificate",
        job: job,
        expect: expect,
        mutator: true,
        load(rd, f, kind, app) {
            Op::RemoveClientCertificate {
                job: rd.job(f, "job")?,
                expect: StepReader::expect(f)?,
            }
        }
        write(o) {
            o.put("job", job);
            o.expect(*expect);
        }
        describe { format!("do remove_client_certificate {job}") }
        run(r, app) {
            r.with_job(app, job, |j| j.remove_client_certificate().unwrap_or_else(|e| e)).map(Some)
        }
    }
}

/// What `set_file` sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileSet {
    /// IBackgroundCopyFile2::SetRemoteName.
    RemoteName(String),
    /// IBackgroundCopyFile3::SetValidationState.
    ValidationState(bool),
    /// IBackgroundCopyFile5::SetProperty (D64): `http_response_headers` (`named`) or a raw id.
    Property {
        /// The BITS_FILE_PROPERTY_ID.
        id: u32,
        /// Written as `http_response_headers` rather than the integer.
        named: bool,
        /// The string value.
        value: String,
    },
}

impl FileSet {
    fn name(&self) -> &'static str {
        match self {
            FileSet::RemoteName(_) => "remote_name",
            FileSet::ValidationState(_) => "validation_state",
            FileSet::Property { named: true, .. } => "http_response_headers",
            FileSet::Property { .. } => "property by id",
        }
    }
}

/// The `files` of `add_file_set`: `{ "remote", "local" }` objects, in order (an empty array is valid:
/// AddFileSet refuses it with E_INVALIDARG, which a scenario may want to show).
fn file_set(n: &super::json::Node, p: &str) -> R<Vec<(String, String)>> {
    let items = array(n, p, "an array of {\"remote\", \"local\"} objects")?;
    let mut files = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let ip = format!("{p}/{i}");
        let f = Fields::new(item, &ip, "a file of the set", &["remote", "local"])?;
        files.push((
            f.req_with("remote", "the remote URL", string)?,
            f.req_with("local", "the local file name", string)?,
        ));
    }
    Ok(files)
}

/// An enumerator held by a scenario (D46): what `bind_enum` names.
pub(crate) enum HeldEnum {
    /// IEnumBackgroundCopyJobs.
    Jobs(crate::JobEnum),
    /// IEnumBackgroundCopyFiles.
    Files(crate::FileEnum),
}

/// Read `bind_enum`: a new enumerator alias held by `holder` (`jobs`: a job enumerator).
fn new_enum_alias(rd: &mut StepReader, f: &Fields, holder: String, jobs: bool) -> R<String> {
    let n = f.req("bind_enum", "the alias the enumerator gets")?;
    let p = f.ptr("bind_enum");
    let alias = string(n, &p)?;
    if alias.is_empty() {
        return at(n, &p, "an enumerator alias must not be empty");
    }
    if rd.enums.contains_key(&alias) {
        return at(
            n,
            &p,
            format!(
                "enumerator alias {} is already bound; choose a new name",
                quote(&alias)
            ),
        );
    }
    rd.enums.insert(alias.clone(), (holder, jobs));
    Ok(alias)
}

/// Read `enum`: an enumerator alias bound earlier, held by the step's application when it names one.
pub(super) fn held_enum(rd: &StepReader, f: &Fields, app: Option<&str>) -> R<String> {
    let n = f.req(
        "enum",
        "an enumerator alias bound by enum_jobs, enum_files or enum_clone",
    )?;
    let p = f.ptr("enum");
    let alias = string(n, &p)?;
    let Some((holder, _)) = rd.enums.get(&alias) else {
        return at(
            n,
            &p,
            format!(
                "unknown enumerator alias {}; aliases bound so far: {}",
                quote(&alias),
                super::steps::list(rd.enums.keys())
            ),
        );
    };
    if let Some(a) = app {
        if a != holder {
            return at(
                f.get("app").unwrap_or(n),
                &f.ptr("app"),
                format!(
                    "enumerator {} is held by application {}, not {}",
                    quote(&alias),
                    quote(holder),
                    quote(a)
                ),
            );
        }
    }
    Ok(alias)
}

/// `fetched` and `names` of `enum_next`, checked against `count` and `expect`.
fn fetched_and_names(
    f: &Fields,
    count: u32,
    expect: HResult,
) -> R<(Option<u32>, Option<Vec<String>>)> {
    if expect.is_failure() {
        for k in ["fetched", "names"] {
            if let Some(n) = f.get(k) {
                return at(
                    n,
                    &f.ptr(k),
                    format!(
                        "\"{k}\" cannot be checked when Next is expected to fail with {expect}"
                    ),
                );
            }
        }
        return Ok((None, None));
    }
    let fetched = f.req_with(
        "fetched",
        "how many elements come back",
        super::load::u32_field("a count"),
    )?;
    let n = f.req("fetched", "how many elements come back")?;
    let p = f.ptr("fetched");
    if fetched > count {
        return at(n, &p, format!("Next({count}) never returns more than {count} elements ({fetched} given): this check can never pass"));
    }
    let want = if fetched == count {
        HResult::S_OK
    } else {
        HResult::S_FALSE
    };
    if expect != want {
        return at(
            n,
            &p,
            format!("Next returns {want} when {fetched} of {count} come back, not {expect} (D46): this check can never pass"),
        );
    }
    let names = match f.get("names") {
        None => None,
        Some(node) => {
            let np = f.ptr("names");
            let items = array(node, &np, "the names of the elements returned")?;
            let mut v = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                v.push(string(item, &format!("{np}/{i}"))?);
            }
            if v.len() != fetched as usize {
                return at(
                    node,
                    &np,
                    format!(
                        "\"names\" lists {} names but \"fetched\" is {fetched}: this check can never pass",
                        v.len()
                    ),
                );
            }
            Some(v)
        }
    };
    Ok((Some(fetched), names))
}

/// A step failure for an enumerator alias whose binding call failed.
fn no_enum<T>(alias: &str) -> Result<T, Fail> {
    Err(Fail {
        expected: format!("enumerator {alias:?}"),
        actual: "no enumerator".to_string(),
        message: format!(
            "enumerator alias {alias:?} holds no enumerator: the step that binds it failed"
        ),
    })
}

/// The HRESULT of a call that returns nothing else.
/// Call a File6 method on file `i` of `job` (reached through EnumFiles, as `set_file` does).
fn file6_call(
    r: &mut Runner,
    app: &str,
    job: &str,
    i: u32,
    call: impl FnOnce(&crate::api::File) -> Result<(), HResult>,
) -> Result<Option<(HResult, String)>, Fail> {
    let idx = i as usize;
    let got = r.call(app, job, |j| {
        let files = j.enum_files()?;
        let Some(f) = files.get(idx) else {
            return Ok(None);
        };
        Ok::<_, HResult>(Some(unit(call(f))))
    })?;
    match got {
        Ok(Ok(Some(h))) => Ok(Some((h, String::new()))),
        Ok(Ok(None)) => Err(Fail {
            expected: format!("file {idx} of {job}"),
            actual: "no such file".to_string(),
            message: format!(
                "{job} has no file {idx} (files are numbered from 0 in the order added)"
            ),
        }),
        Ok(Err(h)) => Ok(Some((h, " (EnumFiles failed)".to_string()))),
        Err(h) => Ok(Some((
            h,
            format!(
                " (application {app:?} could not obtain a handle to {job:?}: GetJob returned {h})"
            ),
        ))),
    }
}

fn unit(r: Result<(), HResult>) -> HResult {
    r.err().unwrap_or(HResult::S_OK)
}

/// A BG_AUTH_TARGET: `SERVER`, `PROXY` or a raw integer.
pub(super) fn auth_target(n: &super::json::Node, p: &str) -> R<u32> {
    auth_value(n, p, "authentication target", &["SERVER", "PROXY"], |s| {
        crate::AuthTarget::from_name(s).map(crate::AuthTarget::value)
    })
}

/// A BG_AUTH_SCHEME: `BASIC` … `PASSPORT` or a raw integer.
pub(super) fn auth_scheme(n: &super::json::Node, p: &str) -> R<u32> {
    auth_value(
        n,
        p,
        "authentication scheme",
        &["BASIC", "DIGEST", "NTLM", "NEGOTIATE", "PASSPORT"],
        |s| crate::AuthScheme::from_name(s).map(crate::AuthScheme::value),
    )
}

fn auth_value(
    n: &super::json::Node,
    p: &str,
    what: &str,
    names: &[&str],
    parse: impl Fn(&str) -> Option<u32>,
) -> R<u32> {
    match &n.kind {
        super::json::Kind::Num(_) => super::load::u32_field("a raw integer")(n, p),
        _ => named(n, p, what, names, parse),
    }
}

/// A target (`target`) or scheme as its name when it has one.
pub(super) fn auth_name(v: u32, target: bool) -> String {
    let name = if target {
        crate::AuthTarget::from_value(v).map(crate::AuthTarget::name)
    } else {
        crate::AuthScheme::from_value(v).map(crate::AuthScheme::name)
    };
    name.map_or_else(|| v.to_string(), str::to_string)
}

/// The same, for writing a scenario back.
pub(super) fn auth_out(v: u32, target: bool) -> Out {
    let name = if target {
        crate::AuthTarget::from_value(v).map(crate::AuthTarget::name)
    } else {
        crate::AuthScheme::from_value(v).map(crate::AuthScheme::name)
    };
    match name {
        Some(n) => write::v(n),
        None => write::v(v),
    }
}

#[cfg(test)]
mod tests {
    use super::OPS;
    use crate::scenario::{Action, Scenario};
    use std::path::{Path, PathBuf};

    fn fixtures(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                fixtures(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }

    #[test]
    fn every_declared_operation_has_its_row_in_the_contract() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let doc = std::fs::read_to_string(root.join("docs/scenario-format.md")).unwrap();
        let rows: Vec<&str> = doc.lines().filter(|l| l.starts_with("| `")).collect();
        let mut seen = Vec::new();
        for (spelling, _) in OPS {
            assert!(!seen.contains(spelling), "{spelling} is declared twice");
            seen.push(*spelling);
            let quoted = format!("`{spelling}`");
            assert!(
                rows.iter()
                    .any(|r| r.split('|').nth(1).is_some_and(|c| c.contains(&quoted))),
                "docs/scenario-format.md has no table row for the operation {quoted}"
            );
        }
    }

    /// The declaration's keys agree with its variants on every operation of every fixture: an
    /// operation that calls a BITS method allows `app` and `expect`; one that calls through a job
    /// handle allows `job`; a mutator (§1.3) calls through a handle; its spelling is declared.
    #[test]
    fn declared_keys_method_and_expect_agree_on_every_fixture_operation() {
        let mut files = Vec::new();
        fixtures(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios"),
            &mut files,
        );
        assert!(files.len() >= 70, "{}", files.len());
        let mut checked = 0;
        for f in files {
            let sc = Scenario::load(&f).unwrap();
            for st in &sc.steps {
                let Action::Do(op) = &st.action else { continue };
                let keys = OPS
                    .iter()
                    .find(|(s, _)| *s == op.name())
                    .map(|(_, k)| *k)
                    .unwrap_or_else(|| panic!("{} is not declared", op.name()));
                let what = format!("{} in {}", op.name(), f.display());
                assert_eq!(op.method().is_some(), op.expect().is_some(), "{what}");
                assert_eq!(keys.contains(&"expect"), op.expect().is_some(), "{what}");
                if op.method().is_some() {
                    assert!(keys.contains(&"app"), "{what}");
                }
                if op.job().is_some() {
                    assert!(keys.contains(&"job"), "{what}");
                }
                if op.is_mutator() {
                    assert!(op.job().is_some(), "{what}");
                }
                checked += 1;
            }
        }
        assert!(checked > 300, "{checked}");
    }

    /// D46: enumerator steps name a bound alias held by the step's application, and `enum_next`
    /// refuses counts and results that can never come back.
    #[test]
    fn enumerator_steps_are_validated_with_clear_messages() {
        let case = |steps: &str| {
            let text = format!(
                r#"{{"name": "x", "description": "d", "world": {{"users": {{"alice": {{}}}}}}, "steps": [
                    {{"do": "connect", "app": "b", "user": "alice"}},
                    {{"do": "create_job", "name": "a", "bind": "a"}},
                    {{"do": "enum_jobs", "bind_enum": "e"}},
                    {steps}]}}"#
            );
            Scenario::parse(&text, "t.json")
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        assert!(case(r#"{"do": "enum_next", "enum": "e", "count": 1, "fetched": 1}"#).is_ok());
        let e = case(r#"{"do": "enum_next", "enum": "zz", "count": 1, "fetched": 1}"#).unwrap_err();
        assert!(e.contains("unknown enumerator alias \"zz\""), "{e}");
        let e = case(r#"{"do": "enum_reset", "app": "b", "enum": "e"}"#).unwrap_err();
        assert!(e.contains("held by application"), "{e}");
        let e = case(r#"{"do": "enum_next", "enum": "e", "count": 0, "fetched": 0}"#).unwrap_err();
        assert!(e.contains("at least 1"), "{e}");
        let e = case(r#"{"do": "enum_next", "enum": "e", "count": 1, "fetched": 2}"#).unwrap_err();
        assert!(e.contains("never returns more"), "{e}");
        let e = case(r#"{"do": "enum_next", "enum": "e", "count": 2, "fetched": 1}"#).unwrap_err();
        assert!(e.contains("S_FALSE"), "{e}");
        let e = case(r#"{"do": "enum_next", "enum": "e", "count": 1, "fetched": 1, "names": []}"#)
            .unwrap_err();
        assert!(e.contains("\"names\" lists 0"), "{e}");
        let e = case(r#"{"do": "enum_clone", "enum": "e", "bind_enum": "e"}"#).unwrap_err();
        assert!(e.contains("already bound"), "{e}");
        let e = case(r#"{"check": "enum_count", "enum": "e", "is": 1, "expect": "E_FAIL"}"#)
            .unwrap_err();
        assert!(e.contains("cannot be checked"), "{e}");
    }
}
