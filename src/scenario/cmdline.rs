//! The scenario side of command-line notification and COM servers (`docs/scenario-format.md`
//! part 2): the world's `programs` and `com_servers`, read and written back, and `check launches`.
//! The rules are the core's (`crate::cmdline`, §5.2–§5.4, D49–D52).

use super::json::{child_pointer, quote, Node};
use super::load::{at, hresult, map_members, named, string, u32_field, At, Fields, R};
use super::write::{v, Out};
use crate::{ComServer, HResult, NotifyEvent, NotifyWorld, Program, ProgramAction};

/// World `programs`: Windows path → `{ "exit_code": u32 (default 0), "then": "complete" | "cancel" }`.
pub(super) fn programs(n: &Node, p: &str, into: &mut NotifyWorld) -> R<()> {
    for (path, _, item) in map_members(n, p, "the programs (path → { exit_code, then })")? {
        let ip = child_pointer(p, path);
        let f = Fields::new(
            item,
            &ip,
            "a program ({ exit_code, then })",
            &["exit_code", "then"],
        )?;
        let program = Program {
            exit_code: f
                .opt_with("exit_code", u32_field("an exit code"))?
                .unwrap_or(0),
            then: f.opt_with("then", |n, p| {
                named(
                    n,
                    p,
                    "program action",
                    &["complete", "cancel"],
                    |s| match s {
                        "complete" => Some(ProgramAction::Complete),
                        "cancel" => Some(ProgramAction::Cancel),
                        _ => None,
                    },
                )
            })?,
        };
        into.programs.insert(path.to_string(), program);
    }
    Ok(())
}

/// World `com_servers`: CLSID → `{ "app": name (required), "returns": HRESULT (default S_OK) }`.
pub(super) fn com_servers(n: &Node, p: &str, into: &mut NotifyWorld) -> R<()> {
    for (key, key_pos, item) in map_members(n, p, "the COM servers (CLSID → { app, returns })")? {
        let ip = child_pointer(p, key);
        let Some(clsid) = super::convention::parse_guid(key) else {
            return Err(At {
                ptr: ip,
                pos: *key_pos,
                msg: format!(
                    "{} is not a CLSID: expected \"{{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}}\"",
                    quote(key)
                ),
            });
        };
        if clsid == 0 {
            return Err(At {
                ptr: ip,
                pos: *key_pos,
                msg: "GUID_NULL names no class (it clears a job's notification_clsid)".to_string(),
            });
        }
        if into.com_servers.contains_key(&clsid) {
            return Err(At {
                ptr: ip,
                pos: *key_pos,
                msg: format!("CLSID {} is listed twice (in another case)", quote(key)),
            });
        }
        let f = Fields::new(
            item,
            &ip,
            "a COM server ({ app, returns })",
            &["app", "returns"],
        )?;
        let app = f.req_with("app", "the application that serves the class", string)?;
        if app.is_empty() {
            return at(item, &f.ptr("app"), "the application name is empty");
        }
        let returns = f.opt_with("returns", hresult)?.unwrap_or(HResult::S_OK);
        into.com_servers.insert(clsid, ComServer { app, returns });
    }
    Ok(())
}

/// Put `programs` and `com_servers` back.
pub(super) fn write_world(w: &NotifyWorld, world: &mut Vec<(&'static str, Out)>) {
    if !w.programs.is_empty() {
        let m = w
            .programs
            .iter()
            .map(|(path, p)| {
                let mut f = Vec::new();
                if p.exit_code != 0 {
                    f.push(("exit_code", v(p.exit_code)));
                }
                if let Some(a) = p.then {
                    f.push(("then", v(a.name())));
                }
                (path.clone(), Out::Obj(f))
            })
            .collect();
        world.push(("programs", Out::Map(m)));
    }
    if !w.com_servers.is_empty() {
        let m = w
            .com_servers
            .iter()
            .map(|(&clsid, c)| {
                let mut f = vec![("app", v(&c.app))];
                if c.returns != HResult::S_OK {
                    f.push(("returns", v(c.returns.to_string())));
                }
                (crate::properties::show_guid(clsid), Out::Obj(f))
            })
            .collect();
        world.push(("com_servers", Out::Map(m)));
    }
}

/// One expected launch of `check launches`: `event` and `job` required, the rest compared when given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchSpec {
    /// JOB_TRANSFERRED or JOB_ERROR.
    pub event: NotifyEvent,
    /// The job alias.
    pub job: String,
    /// The program.
    pub program: Option<String>,
    /// The parameters (`Some(None)`: NULL).
    pub parameters: Option<Option<String>>,
    /// S_OK or why the launch failed.
    pub result: Option<HResult>,
    /// The exit code.
    pub exit_code: Option<u32>,
}

/// The fields of one expected launch (the job alias is resolved by the caller).
pub(super) fn launch_fields<'n>(item: &'n Node, ip: &str) -> R<(Fields<'n>, LaunchSpecNoJob)> {
    let e = Fields::new(
        item,
        ip,
        "a launch ({ event, job, program, parameters, result, exit_code })",
        &[
            "event",
            "job",
            "program",
            "parameters",
            "result",
            "exit_code",
        ],
    )?;
    let event = e.req_with("event", "the notification", |n, p| {
        named(
            n,
            p,
            "launch event",
            &["JOB_TRANSFERRED", "JOB_ERROR"],
            |s| match NotifyEvent::from_name(s) {
                Some(NotifyEvent::JobModification) | None => None,
                some => some,
            },
        )
    })?;
    let program = e.opt_with("program", string)?;
    let parameters = e.opt_with("parameters", super::steps::opt_string)?;
    let result = e.opt_with("result", hresult)?;
    let exit_code = e.opt_with("exit_code", u32_field("an exit code"))?;
    Ok((
        e,
        LaunchSpecNoJob {
            event,
            program,
            parameters,
            result,
            exit_code,
        },
    ))
}

/// A [`LaunchSpec`] before its job alias is read.
pub(super) struct LaunchSpecNoJob {
    pub event: NotifyEvent,
    pub program: Option<String>,
    pub parameters: Option<Option<String>>,
    pub result: Option<HResult>,
    pub exit_code: Option<u32>,
}

impl LaunchSpecNoJob {
    pub(super) fn with_job(self, job: String) -> LaunchSpec {
        LaunchSpec {
            event: self.event,
            job,
            program: self.program,
            parameters: self.parameters,
            result: self.result,
            exit_code: self.exit_code,
        }
    }
}

impl LaunchSpec {
    /// Whether launch `l` of job alias `job` is this one.
    pub(super) fn matches(&self, l: &crate::Launch, job: &str) -> bool {
        self.event == l.event
            && self.job == job
            && self.program.as_ref().is_none_or(|p| *p == l.program)
            && self.parameters.as_ref().is_none_or(|p| *p == l.parameters)
            && self.result.is_none_or(|r| r == l.result)
            && self.exit_code.is_none_or(|c| Some(c) == l.exit_code)
    }

    /// As a report shows it.
    pub(super) fn show(&self) -> String {
        let mut s = format!("{} {}", self.event, self.job);
        if let Some(p) = &self.program {
            s.push_str(&format!(" {}", quote(p)));
        }
        if let Some(p) = &self.parameters {
            s.push_str(&format!(
                " {}",
                p.as_deref().map_or("NULL".to_string(), quote)
            ));
        }
        if let Some(r) = self.result {
            s.push_str(&format!(" {r}"));
        }
        if let Some(c) = self.exit_code {
            s.push_str(&format!(" exit {c}"));
        }
        s
    }

    /// The expected launch as a scenario file writes it.
    pub(super) fn out(&self) -> Out {
        let mut f = vec![("event", v(self.event.name())), ("job", v(&self.job))];
        if let Some(p) = &self.program {
            f.push(("program", v(p)));
        }
        if let Some(p) = &self.parameters {
            f.push(("parameters", v(p)));
        }
        if let Some(r) = self.result {
            f.push(("result", v(r.to_string())));
        }
        if let Some(c) = self.exit_code {
            f.push(("exit_code", v(c)));
        }
        Out::Obj(f)
    }
}

/// A launch as a report shows it (everything it has).
pub(super) fn show_launch(l: &crate::Launch, job: &str) -> String {
    let mut s = format!("{} {job} {}", l.event, quote(&l.program));
    s.push_str(&format!(
        " {}",
        l.parameters.as_deref().map_or("NULL".to_string(), quote)
    ));
    s.push_str(&format!(" {}", l.result));
    if let Some(c) = l.exit_code {
        s.push_str(&format!(" exit {c}"));
    }
    s
}

/// A launch as `check launches` writes it (the observe mode).
pub(super) fn spec_of(l: &crate::Launch, job: String) -> LaunchSpec {
    LaunchSpec {
        event: l.event,
        job,
        program: Some(l.program.clone()),
        parameters: Some(l.parameters.clone()),
        result: Some(l.result),
        exit_code: l.exit_code,
    }
}
