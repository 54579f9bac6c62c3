//! The harness's job method calls and its probes after every step.

use super::super::invariants::{Method, Observed, Seen, Value};
use super::super::op::{pick, JobCall};
use super::{Done, Harness, HeldSlot};
use crate::HResult;

impl Harness {
    /// Make `call` through handle slot `hs`, recording it. A handle from before a service restart is
    /// first obtained again with GetJob (as the scenario runner does); if that fails, so does the call.
    pub(super) fn job_call(&mut self, hs: usize, call: &JobCall, step: Option<usize>) -> Done {
        let pick_file = |&(r, l): &(u8, u8)| {
            let remote = pick(&self.remotes, r)
                .map(|p| p.1.clone())
                .unwrap_or_default();
            let local = pick(&self.locals, l)
                .map(|p| p.1.clone())
                .unwrap_or_default();
            (remote, local)
        };
        let files: Vec<(String, String)> = match call {
            JobCall::AddFile { remote, local } => vec![pick_file(&(*remote, *local))],
            JobCall::AddFileSet { files } => files.iter().map(pick_file).collect(),
            _ => Vec::new(),
        };
        if self.handles[hs].generation != self.generation() {
            let before = self.trace_len();
            let slot = &self.apps[self.handles[hs].app];
            let (manager, generation, app) = (slot.manager.clone(), slot.generation, slot.id);
            let id = self.jobs[self.handles[hs].job].id;
            let r = manager.get_job(id);
            self.observe(
                before,
                step,
                Seen::GetJob {
                    app,
                    generation,
                    job: id,
                    result: r.as_ref().map(|_| ()).map_err(|e| *e),
                },
            );
            match r {
                Ok(handle) => {
                    self.handles[hs].handle = handle;
                    self.handles[hs].generation = self.generation();
                }
                Err(e) => {
                    return Done::Call {
                        handle: hs,
                        call: call.clone(),
                        files,
                        held: None,
                        result: Err(e),
                    }
                }
            }
        }
        let before = self.trace_len();
        let slot = &self.handles[hs];
        let (job, app, generation) = (slot.handle.clone(), self.apps[slot.app].id, slot.generation);
        let unit = |r: Result<(), HResult>| r.map(|_| Value::Unit);
        let returned = |r: Result<HResult, HResult>| r.map(Value::Returned);
        let mut kept = None;
        let (method, result) = match call {
            JobCall::AddFile { .. } => (
                Method::AddFile,
                unit(job.add_file(&files[0].0, &files[0].1)),
            ),
            JobCall::AddFileSet { .. } => {
                let set: Vec<(&str, &str)> = files
                    .iter()
                    .map(|(r, l)| (r.as_str(), l.as_str()))
                    .collect();
                (Method::AddFileSet, unit(job.add_file_set(&set)))
            }
            JobCall::Resume => (Method::Resume, returned(job.resume())),
            JobCall::Suspend => (Method::Suspend, returned(job.suspend())),
            JobCall::Cancel => (Method::Cancel, returned(job.cancel())),
            JobCall::Complete => (Method::Complete, returned(job.complete())),
            JobCall::SetDisplayName(n) => (
                Method::SetDisplayName,
                unit(job.set_display_name(&n.text())),
            ),
            JobCall::SetDescription(n) => (
                Method::SetDescription,
                unit(job.set_description(&"d".repeat(usize::from(*n)))),
            ),
            JobCall::SetPriority(p) => (Method::SetPriority, unit(job.set_priority_raw(*p))),
            JobCall::SetNotifyFlags(f) => (Method::SetNotifyFlags, unit(job.set_notify_flags(*f))),
            JobCall::SetMinimumRetryDelay(s) => (
                Method::SetMinimumRetryDelay,
                unit(job.set_minimum_retry_delay(*s)),
            ),
            JobCall::SetNoProgressTimeout(s) => (
                Method::SetNoProgressTimeout,
                unit(job.set_no_progress_timeout(*s)),
            ),
            JobCall::TakeOwnership => (Method::TakeOwnership, unit(job.take_ownership())),
            JobCall::RegisterCallback { answer } => (
                Method::SetNotifyInterface,
                unit(job.set_notify_answer(*answer)),
            ),
            JobCall::GetError { hold } => {
                let r = job.get_error().and_then(|e| {
                    let (c, code) = e.get_error()?;
                    let file = e.get_file().ok().map(|f| f.index());
                    Ok((e, Value::Error(c, code, file)))
                });
                let r = r.map(|(e, v)| {
                    if *hold {
                        kept = Some(e);
                    }
                    v
                });
                (Method::GetError, r)
            }
            JobCall::GetState => (Method::GetState, job.get_state().map(Value::State)),
            JobCall::GetProgress => (Method::GetProgress, job.get_progress().map(Value::Progress)),
            JobCall::GetErrorCount => (
                Method::GetErrorCount,
                job.get_error_count().map(Value::Count),
            ),
            JobCall::GetOwner => (Method::GetOwner, job.get_owner().map(Value::Owner)),
        };
        let held = kept.map(|object| {
            let i = self.held.len();
            self.held.push(HeldSlot {
                handle: hs,
                alias: format!("e{i}"),
                object,
            });
            i
        });
        if result.is_ok() && matches!(method, Method::AddFile | Method::AddFileSet) {
            let j = self.handles[hs].job;
            self.jobs[j].files.extend(files.iter().map(|f| f.0.clone()));
        }
        self.observe(
            before,
            step,
            Seen::JobCall {
                app,
                handle: Some(hs),
                handle_generation: generation,
                job: job.id(),
                method,
                held,
                result: result.clone(),
            },
        );
        Done::Call {
            handle: hs,
            call: call.clone(),
            files,
            held,
            result,
        }
    }

    /// Ask every handle what it sees, and every held error object whether it still works.
    pub(super) fn probe(&mut self) {
        let at = self.trace_len();
        for hs in 0..self.handles.len() {
            let slot = &self.handles[hs];
            let (job, app, generation) = (&slot.handle, self.apps[slot.app].id, slot.generation);
            let seen = |method, result| Seen::JobCall {
                app,
                handle: Some(hs),
                handle_generation: generation,
                job: job.id(),
                method,
                held: None,
                result,
            };
            let probes = [
                seen(Method::GetState, job.get_state().map(Value::State)),
                seen(
                    Method::GetErrorCount,
                    job.get_error_count().map(Value::Count),
                ),
                seen(Method::GetProgress, job.get_progress().map(Value::Progress)),
                seen(
                    Method::GetError,
                    job.get_error().and_then(|e| {
                        let (c, code) = e.get_error()?;
                        Ok(Value::Error(c, code, e.get_file().ok().map(|f| f.index())))
                    }),
                ),
            ];
            for seen in probes {
                self.obs.push(Observed {
                    before: at,
                    after: at,
                    step: None,
                    seen,
                });
            }
        }
        for (i, held) in self.held.iter().enumerate() {
            self.obs.push(Observed {
                before: at,
                after: at,
                step: None,
                seen: Seen::ErrorObject {
                    held: i,
                    result: held.object.get_error(),
                },
            });
        }
    }
}
