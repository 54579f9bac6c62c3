//! Command-line notification (IBackgroundCopyJob2 SetNotifyCmdLine / GetNotifyCmdLine) and the two
//! notification paths that do not go through a live SetNotifyInterface object: the world's
//! `programs` that a command line launches and its `com_servers` that a job's NOTIFICATION_CLSID
//! activates.
//!
//! Rules: `docs/bits-semantics.md` §2.3 (the methods), §5.2 (the live object first, else the
//! CLSID), §5.3 (the command line only when no valid callback or the callback failed; both failing
//! → the notification again after the minimum retry delay), §5.4 (launches) and decisions D49–D52.
//!
//! The order of one JobTransferred / JobError notification, the same for its re-deliveries:
//! 1. a live registration (SetNotifyInterface) gets it (`notify.rs`, unchanged);
//! 2. otherwise a NOTIFICATION_CLSID activates its `com_servers` application (D52), whose answer
//!    is logged like any delivery; an unlisted CLSID fails with REGDB_E_CLASSNOTREG;
//! 3. a failed (or absent) callback runs the command line, if the job has one: the launch is queued
//!    as an engine event at the same instant (D50), so that what the program does to the job
//!    (`then`) never runs inside another state change;
//! 4. a failed launch, or a failed callback without a command line, sends the notification again
//!    after the job's minimum retry delay (D11, §5.3), through this same order.

use crate::engine::Event;
use crate::hresult::HResult;
use crate::job::{AppId, JobId, UserId};
use crate::notify::{Notification, NotifyEvent};
use crate::service::Service;
use crate::state::JobState;
use crate::time::SimTime;
use crate::trace::{TraceKind, TraceText};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// MAX_PATH: the longest program name SetNotifyCmdLine takes (§2.3).
pub const MAX_PROGRAM: usize = 260;
/// The longest parameters string SetNotifyCmdLine takes (§2.3).
pub const MAX_PARAMETERS: usize = 4000;

/// A job's command line (SetNotifyCmdLine), with the user whose context runs it (§5.4).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotifyCmdLine {
    /// The program's full path.
    pub program: String,
    /// The parameters (`None`: NULL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<String>,
    /// The user who called SetNotifyCmdLine: the program runs as that user (§5.4).
    pub user: UserId,
}

/// What a listed program does to the job that launched it, before it exits (world `programs`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgramAction {
    /// It calls Complete on the job.
    Complete,
    /// It calls Cancel on the job.
    Cancel,
}

impl ProgramAction {
    /// The scenario spelling.
    pub const fn name(self) -> &'static str {
        match self {
            ProgramAction::Complete => "complete",
            ProgramAction::Cancel => "cancel",
        }
    }
}

/// A program the machine has (world `programs`): what it does, then its exit code.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    /// The exit code (0: success; anything else makes BITS check the job, §5.4).
    #[serde(default)]
    pub exit_code: u32,
    /// What it does to the notifying job, as the user it runs as, before it exits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<ProgramAction>,
}

impl Program {
    /// A program that exits with `exit_code` and does nothing to the job.
    pub fn exits(exit_code: u32) -> Program {
        Program {
            exit_code,
            then: None,
        }
    }
    /// Builder: the program completes or cancels the job before it exits.
    pub fn then(mut self, action: ProgramAction) -> Program {
        self.then = Some(action);
        self
    }
}

/// An out-of-process COM callback class (world `com_servers`): the application that serves it and
/// what its callback methods return.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ComServer {
    /// The application activation starts (as the job's owner, D52) when it is not running.
    pub app: String,
    /// What every callback method of the class returns.
    pub returns: HResult,
}

impl ComServer {
    /// A class served by application `app` whose callbacks return `returns`.
    pub fn new(app: impl Into<String>, returns: HResult) -> ComServer {
        ComServer {
            app: app.into(),
            returns,
        }
    }
}

/// The notification side of the world: programs and COM servers.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct NotifyWorld {
    /// Programs by their Windows path (exact, case-sensitive match).
    pub programs: BTreeMap<String, Program>,
    /// COM callback classes by CLSID.
    pub com_servers: BTreeMap<u128, ComServer>,
}

impl NotifyWorld {
    /// Neither programs nor COM servers.
    pub fn is_empty(&self) -> bool {
        self.programs.is_empty() && self.com_servers.is_empty()
    }
}

/// One command-line launch (§5.4), as `check launches` reads it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Launch {
    /// When.
    pub time: SimTime,
    /// The notification that caused it.
    pub event: NotifyEvent,
    /// The job.
    pub job: JobId,
    /// The program.
    pub program: String,
    /// The parameters (`None`: NULL).
    pub parameters: Option<String>,
    /// S_OK, or why the launch failed (HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) for a program the
    /// world does not have, D51).
    pub result: HResult,
    /// The exit code of a program that ran.
    pub exit_code: Option<u32>,
}

/// The length in UTF-16 units, as Windows counts string lengths.
fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

impl Service {
    /// IBackgroundCopyJob2::GetNotifyCmdLine: the program and its parameters, each "" when not set
    /// (SDK page; D49: NULL parameters read back as "").
    pub fn notify_cmd_line(&self, app: AppId, job: JobId) -> Result<(String, String), HResult> {
        let j = self.access(app, job)?;
        Ok(match self.jobs[j].options().notify_cmd_line.as_deref() {
            Some(c) => (c.program.clone(), c.parameters.clone().unwrap_or_default()),
            None => (String::new(), String::new()),
        })
    }

    /// IBackgroundCopyJob2::SetNotifyCmdLine (§2.3, D49): after the common checks, BG_E_INVALID_STATE
    /// in a final state; E_INVALIDARG for a NULL program with non-NULL parameters; BG_E_STRING_TOO_LONG
    /// for a program over MAX_PATH (260) or parameters over 4,000 characters. Both NULL removes the
    /// command line. The caller's user is the one the program runs as (§5.4). On a job already
    /// TRANSFERRED or in ERROR the command line runs for that event (§5.4, D50).
    pub fn set_notify_cmd_line(
        &mut self,
        app: AppId,
        job: JobId,
        (program, parameters): (Option<&str>, Option<&str>),
    ) -> Result<(), HResult> {
        let j = self.settable(app, job, crate::Prop::NotifyCmdLine)?;
        if program.is_none() && parameters.is_some() {
            return Err(HResult::E_INVALIDARG);
        }
        if program.is_some_and(|p| units(p) > MAX_PROGRAM)
            || parameters.is_some_and(|p| units(p) > MAX_PARAMETERS)
        {
            return Err(HResult::BG_E_STRING_TOO_LONG);
        }
        let user = self.apps[app.index()].user;
        let cmd = program.map(|program| {
            Box::new(NotifyCmdLine {
                program: program.to_string(),
                parameters: parameters.map(str::to_string),
                user,
            })
        });
        let set = cmd.is_some();
        self.jobs[j].edit_options(|o| o.notify_cmd_line = cmd);
        self.modified(j);
        if set {
            // §5.4: "BITS will still execute the command line even if SetNotifyCmdLine is called
            // after the event" — when nothing else answers the notification (D50).
            let event = match self.jobs[j].state() {
                JobState::Transferred => Some(NotifyEvent::JobTransferred),
                JobState::Error => Some(NotifyEvent::JobError),
                _ => None,
            };
            if let Some(event) = event {
                let live = self.registration(j).is_some();
                let clsid = self.jobs[j].options().notification_clsid != 0;
                if !live && !clsid && self.jobs[j].notify_flags().delivers(event.flag()) {
                    self.queue_launch(j, event);
                }
            }
        }
        Ok(())
    }

    /// TakeOwnership deletes the command line (§5.4).
    pub(crate) fn drop_cmd_line(&mut self, j: usize) {
        if self.jobs[j].options().notify_cmd_line.is_some() {
            self.jobs[j].edit_options(|o| o.notify_cmd_line = None);
        }
    }

    /// The command-line launches since the last call, machine-wide, in order (`check launches`).
    pub fn take_launches(&mut self) -> Vec<Launch> {
        std::mem::take(&mut self.launches)
    }

    /// The newest application called `name` (alive ones first): a `com_servers` application that
    /// activation started has no other name a reader could know it by.
    pub fn app_named(&self, name: &str) -> Option<AppId> {
        let find = |alive: bool| {
            self.apps
                .iter()
                .rposition(|a| a.name == name && (a.alive || !alive))
                .map(|i| AppId(i as u32))
        };
        find(true).or_else(|| find(false))
    }

    /// A notification no live registration takes (§5.2, §5.3): the CLSID's COM server, else the
    /// command line. JobModification goes to the COM server only.
    /// FileTransferred (`file`, D60) goes to the COM server only (the command line ignores FILE flags,
    /// §5.4); the server implements Callback3 (D60).
    pub(crate) fn notify_without_registration(
        &mut self,
        j: usize,
        event: NotifyEvent,
        file: Option<u32>,
        ranges: &[(u64, u64)],
    ) -> bool {
        let clsid = self.jobs[j].options().notification_clsid;
        if clsid != 0 {
            match self.world.notify.com_servers.get(&clsid).cloned() {
                Some(server) => {
                    let owner = self.jobs[j].owner();
                    let app = match self.app_named(&server.app) {
                        Some(a) if self.apps[a.index()].alive => a,
                        // D52: activation starts the server as the job's owner.
                        _ => self.connect(&server.app, owner),
                    };
                    let mut n = self.notification(j, event);
                    n.file = file;
                    n.ranges = ranges.to_vec();
                    self.delivered(app, 0, n, server.returns);
                }
                None => {
                    // D52: the class is not registered: activation fails, a callback failure (§5.3).
                    self.record(TraceKind::ActivationFailed {
                        job: self.jobs[j].id(),
                        clsid: TraceText::new(&crate::properties::show_guid(clsid)),
                        result: HResult::REGDB_E_CLASSNOTREG,
                    });
                    match (event, file) {
                        (NotifyEvent::FileTransferred, Some(f)) => self.file_notify_again(j, f, 0),
                        (
                            NotifyEvent::JobModification
                            | NotifyEvent::FileTransferred
                            | NotifyEvent::FileRangesTransferred,
                            _,
                        ) => {}
                        _ => self.callback_failed(j, event, 0),
                    }
                }
            }
            return true;
        }
        if !matches!(
            event,
            NotifyEvent::JobModification
                | NotifyEvent::FileTransferred
                | NotifyEvent::FileRangesTransferred
        ) && self.jobs[j].options().notify_cmd_line.is_some()
        {
            self.queue_launch(j, event);
        }
        false
    }

    /// What a callback is told about job `j` now.
    pub(crate) fn notification(&self, j: usize, event: NotifyEvent) -> Notification {
        let job = &self.jobs[j];
        Notification {
            event,
            job: job.id(),
            state: job.state(),
            error: match event {
                NotifyEvent::JobError => job.error().map(|e| (e.context, e.code)),
                _ => None,
            },
            time: self.now,
            file: None,
            ranges: Vec::new(),
        }
    }

    /// A JobTransferred / JobError callback (registration `serial`, 0 for the CLSID path) failed:
    /// the command line runs instead and the COM method is not retried (§5.2, §5.3); without one,
    /// D11's re-delivery after the minimum retry delay.
    pub(crate) fn callback_failed(&mut self, j: usize, event: NotifyEvent, serial: u64) {
        if self.jobs[j].options().notify_cmd_line.is_some() {
            self.queue_launch(j, event);
        } else {
            self.notify_again(j, event, serial);
        }
    }

    /// D11 / §5.3: the notification again after the job's minimum retry delay (D18: never past the
    /// end of time).
    pub(crate) fn notify_again(&mut self, j: usize, event: NotifyEvent, serial: u64) {
        let delay = self.jobs[j].retry_delay();
        let job = self.jobs[j].id();
        if let Some(at) = Self::due_after(self.now, delay) {
            self.push_event(at, Event::NotifyRetry { job, serial, event });
        }
    }

    /// D60: FileTransferred of file `f` again after the job's minimum retry delay (the D11 interval;
    /// D18: never past the end of time).
    pub(crate) fn file_notify_again(&mut self, j: usize, file: u32, serial: u64) {
        let delay = self.jobs[j].retry_delay();
        let job = self.jobs[j].id();
        if let Some(at) = Self::due_after(self.now, delay) {
            self.push_event(at, Event::FileNotifyRetry { job, file, serial });
        }
    }

    /// D50: the launch happens as an engine event at this instant, after the step that caused it.
    fn queue_launch(&mut self, j: usize, event: NotifyEvent) {
        let job = self.jobs[j].id();
        self.engine.launches_pending += 1;
        let now = self.now;
        self.push_event(now, Event::Launch { job, event });
    }

    /// A queued launch falls due (§5.4): run the command line if the job is still in the state of
    /// `event` and still has one.
    pub(crate) fn launch(&mut self, id: JobId, event: NotifyEvent) {
        self.engine.launches_pending = self.engine.launches_pending.saturating_sub(1);
        let j = id.index();
        let due = match event {
            NotifyEvent::JobTransferred => self.jobs[j].state() == JobState::Transferred,
            NotifyEvent::JobError => self.jobs[j].state() == JobState::Error,
            NotifyEvent::JobModification
            | NotifyEvent::FileTransferred
            | NotifyEvent::FileRangesTransferred => false,
        };
        let Some(cmd) = self.jobs[j].options().notify_cmd_line.as_deref().cloned() else {
            return;
        };
        if !due {
            return;
        }
        // §5.4 never runs command lines of jobs owned by service accounts; the simulator has no
        // service accounts (D51), so every owner qualifies.
        let program = self.world.notify.programs.get(&cmd.program).copied();
        let (result, exit_code) = match program {
            Some(p) => (HResult::S_OK, Some(p.exit_code)),
            None => (HResult::ERROR_FILE_NOT_FOUND, None),
        };
        self.record(TraceKind::Launched {
            job: id,
            event,
            program: TraceText::new(&cmd.program),
            parameters: TraceText::new(cmd.parameters.as_deref().unwrap_or("")),
            has_parameters: cmd.parameters.is_some(),
            result,
            exit_code: exit_code.unwrap_or(0),
        });
        self.launches.push(Launch {
            time: self.now,
            event,
            job: id,
            program: cmd.program.clone(),
            parameters: cmd.parameters.clone(),
            result,
            exit_code,
        });
        if let Some(action) = program.and_then(|p| p.then) {
            // The program is a process of the user who set the command line (§5.4).
            let process = self.connect(&cmd.program, cmd.user);
            let _ = match action {
                ProgramAction::Complete => self.complete(process, id),
                ProgramAction::Cancel => self.cancel(process, id),
            };
            self.exit(process);
        }
        let again = match exit_code {
            // §5.3: the callback (or its absence) and the launch both failed.
            None => true,
            Some(0) => false,
            // §5.4: a non-zero exit, and the program neither completed nor cancelled the job.
            Some(_) => !self.jobs[j].state().is_final(),
        };
        if again {
            self.notify_again(j, event, 0);
        }
    }
}
