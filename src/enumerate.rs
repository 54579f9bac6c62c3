//! Enumerator objects: IEnumBackgroundCopyJobs and IEnumBackgroundCopyFiles (§2.1, D46).
//!
//! An enumerator is a snapshot of a set taken when it is made (EnumJobs: the jobs listed then;
//! EnumFiles: the job's files then) and a cursor over it. The items it hands out are live handles.
//! It is held by the application that made it and dies with it, or with the service (D2, D15): then
//! every method fails with RPC_E_DISCONNECTED. Nothing of it is stored in the service or in a job.

use crate::api::{File, Handle, Job};
use crate::{HResult, JobId};
use std::rc::Rc;

/// The cursor rules every enumerator shares (D46).
#[derive(Clone, Debug)]
struct Cursor {
    len: u32,
    pos: u32,
}

impl Cursor {
    /// Next(celt): the range of positions handed out and the HRESULT (S_FALSE when fewer than
    /// `celt`). `fetched_given` is false when the caller passed no pceltFetched, which the SDK
    /// allows only for celt 1 (E_INVALIDARG otherwise, D46).
    fn next(&mut self, celt: u32, fetched_given: bool) -> Result<(u32, u32, HResult), HResult> {
        if !fetched_given && celt != 1 {
            return Err(HResult::E_INVALIDARG);
        }
        let start = self.pos;
        let n = celt.min(self.len - start);
        self.pos = start + n;
        let hr = if n == celt {
            HResult::S_OK
        } else {
            HResult::S_FALSE
        };
        Ok((start, n, hr))
    }

    /// Skip(celt): S_FALSE when fewer than `celt` were left (the cursor stops at the end).
    fn skip(&mut self, celt: u32) -> HResult {
        let n = celt.min(self.len - self.pos);
        self.pos += n;
        if n == celt {
            HResult::S_OK
        } else {
            HResult::S_FALSE
        }
    }
}

/// IEnumBackgroundCopyJobs, as held by one application ([`crate::Manager::job_enum`]).
///
/// Every method fails with RPC_E_DISCONNECTED once its application exited or the service restarted
/// (D2, D15), and with RPC_E_CANTCALLOUT_ININPUTSYNCCALL inside a closure given to
/// `Sim::with_service`.
pub struct JobEnum {
    h: Handle,
    ids: Rc<[JobId]>,
    cursor: Cursor,
}

impl std::fmt::Debug for JobEnum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "JobEnum({} jobs, at {} via {:?})",
            self.cursor.len,
            self.cursor.pos,
            self.h.app()
        )
    }
}

impl JobEnum {
    pub(crate) fn new(h: Handle, ids: Vec<JobId>) -> JobEnum {
        let len = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        JobEnum {
            h,
            ids: ids.into(),
            cursor: Cursor { len, pos: 0 },
        }
    }

    fn live(&self) -> Result<(), HResult> {
        self.h.read(|_, _| Ok(()))
    }

    /// Next(celt, rgelt, pceltFetched): up to `celt` jobs from the cursor on, and S_OK when all
    /// `celt` came back, S_FALSE when fewer (§2.1). The jobs are live handles: a job that became
    /// final since the enumerator was made is still handed out (the set is a snapshot, §2.1).
    pub fn next(&mut self, celt: u32) -> Result<(Vec<Job>, HResult), HResult> {
        self.next_with(celt, true)
    }

    /// Next with or without pceltFetched (`fetched_given` false: NULL), for COM glue: without it
    /// only celt 1 is allowed, anything else gives E_INVALIDARG (D46).
    pub fn next_with(
        &mut self,
        celt: u32,
        fetched_given: bool,
    ) -> Result<(Vec<Job>, HResult), HResult> {
        self.live()?;
        let (start, n, hr) = self.cursor.next(celt, fetched_given)?;
        let jobs = self.ids[start as usize..(start + n) as usize]
            .iter()
            .map(|id| self.h.job(*id))
            .collect();
        Ok((jobs, hr))
    }

    /// Skip(celt): S_OK, or S_FALSE when fewer than `celt` jobs were left (§2.1).
    pub fn skip(&mut self, celt: u32) -> Result<HResult, HResult> {
        self.live()?;
        Ok(self.cursor.skip(celt))
    }

    /// Reset: back to the first job of the snapshot.
    pub fn reset(&mut self) -> Result<(), HResult> {
        self.live()?;
        self.cursor.pos = 0;
        Ok(())
    }

    /// Clone: a new enumerator over the same snapshot at the same position; the two move
    /// independently (D46).
    pub fn clone_enum(&self) -> Result<JobEnum, HResult> {
        self.live()?;
        Ok(JobEnum {
            h: self.h.clone(),
            ids: self.ids.clone(),
            cursor: self.cursor.clone(),
        })
    }

    /// GetCount: the number of jobs in the snapshot (not the number left).
    pub fn get_count(&self) -> Result<u32, HResult> {
        self.live()?;
        Ok(self.cursor.len)
    }
}

/// IEnumBackgroundCopyFiles, as held by one application ([`Job::file_enum`]).
///
/// Every method fails as [`JobEnum`]'s do.
pub struct FileEnum {
    h: Handle,
    job: JobId,
    cursor: Cursor,
}

impl std::fmt::Debug for FileEnum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FileEnum({:?}, {} files, at {} via {:?})",
            self.job,
            self.cursor.len,
            self.cursor.pos,
            self.h.app()
        )
    }
}

impl FileEnum {
    pub(crate) fn new(h: Handle, job: JobId, len: u32) -> FileEnum {
        FileEnum {
            h,
            job,
            cursor: Cursor { len, pos: 0 },
        }
    }

    fn live(&self) -> Result<(), HResult> {
        self.h.read(|_, _| Ok(()))
    }

    /// Next(celt, rgelt, pceltFetched): up to `celt` files from the cursor on, in the order added;
    /// S_OK when all `celt` came back, S_FALSE when fewer. Files added after the enumerator was made
    /// are not in it (D46).
    pub fn next(&mut self, celt: u32) -> Result<(Vec<File>, HResult), HResult> {
        self.next_with(celt, true)
    }

    /// Next with or without pceltFetched, as [`JobEnum::next_with`].
    pub fn next_with(
        &mut self,
        celt: u32,
        fetched_given: bool,
    ) -> Result<(Vec<File>, HResult), HResult> {
        self.live()?;
        let (start, n, hr) = self.cursor.next(celt, fetched_given)?;
        Ok((
            (start..start + n)
                .map(|i| self.h.file(self.job, i))
                .collect(),
            hr,
        ))
    }

    /// Skip(celt): S_OK, or S_FALSE when fewer than `celt` files were left.
    pub fn skip(&mut self, celt: u32) -> Result<HResult, HResult> {
        self.live()?;
        Ok(self.cursor.skip(celt))
    }

    /// Reset: back to the first file.
    pub fn reset(&mut self) -> Result<(), HResult> {
        self.live()?;
        self.cursor.pos = 0;
        Ok(())
    }

    /// Clone: a new enumerator over the same files at the same position.
    pub fn clone_enum(&self) -> Result<FileEnum, HResult> {
        self.live()?;
        Ok(FileEnum {
            h: self.h.clone(),
            job: self.job,
            cursor: self.cursor.clone(),
        })
    }

    /// GetCount: the number of files in the snapshot.
    pub fn get_count(&self) -> Result<u32, HResult> {
        self.live()?;
        Ok(self.cursor.len)
    }

    /// The job whose files these are (no call is made).
    pub fn job_id(&self) -> JobId {
        self.job
    }
}

#[cfg(test)]
mod tests {
    use crate::{HResult, JobType, Remote, Sim, World, BG_JOB_ENUM_ALL_USERS};

    fn sim() -> Sim {
        Sim::new(World::new().remote("https://x.test/a", Remote::sized(10)))
    }

    /// D46: Next hands out up to celt, S_FALSE when fewer; Skip likewise; Reset rewinds; GetCount is
    /// the size of the snapshot.
    #[test]
    fn d46_next_skip_reset_count() {
        let sim = sim();
        let app = sim.connect("app", sim.user("alice")).unwrap();
        for n in ["a", "b", "c"] {
            app.create_job(n, JobType::Download).unwrap();
        }
        let mut e = app.job_enum(0).unwrap();
        assert_eq!(e.get_count(), Ok(3));
        let (got, hr) = e.next(2).unwrap();
        assert_eq!(hr, HResult::S_OK);
        let names: Vec<String> = got.iter().map(|j| j.get_display_name().unwrap()).collect();
        assert_eq!(names, ["a", "b"]);
        let (got, hr) = e.next(2).unwrap();
        assert_eq!((got.len(), hr), (1, HResult::S_FALSE));
        assert_eq!(e.next(1).unwrap().1, HResult::S_FALSE);
        e.reset().unwrap();
        assert_eq!(e.skip(2), Ok(HResult::S_OK));
        assert_eq!(e.skip(2), Ok(HResult::S_FALSE));
        assert_eq!(e.skip(0), Ok(HResult::S_OK));
        assert_eq!(e.next(0).unwrap().1, HResult::S_OK);
        assert_eq!(e.get_count(), Ok(3));
    }

    /// D46: without pceltFetched only celt 1 is allowed.
    #[test]
    fn d46_null_fetched_needs_celt_one() {
        let sim = sim();
        let app = sim.connect("app", sim.user("alice")).unwrap();
        app.create_job("a", JobType::Download).unwrap();
        let mut e = app.job_enum(0).unwrap();
        assert_eq!(e.next_with(2, false).unwrap_err(), HResult::E_INVALIDARG);
        assert_eq!(e.next_with(0, false).unwrap_err(), HResult::E_INVALIDARG);
        assert_eq!(e.next_with(1, false).unwrap().1, HResult::S_OK);
    }

    /// D46 / §2.1: a snapshot of the set; Clone keeps the position and moves independently.
    #[test]
    fn d46_snapshot_and_clone() {
        let sim = sim();
        let app = sim.connect("app", sim.user("alice")).unwrap();
        let a = app.create_job("a", JobType::Download).unwrap();
        app.create_job("b", JobType::Download).unwrap();
        let mut e = app.job_enum(0).unwrap();
        app.create_job("c", JobType::Download).unwrap();
        a.cancel().unwrap();
        assert_eq!(e.get_count(), Ok(2));
        e.skip(1).unwrap();
        let mut c = e.clone_enum().unwrap();
        assert_eq!(c.next(5).unwrap().0[0].get_display_name().unwrap(), "b");
        assert_eq!(c.next(1).unwrap().1, HResult::S_FALSE);
        assert_eq!(e.next(1).unwrap().0[0].get_display_name().unwrap(), "b");
        e.reset().unwrap();
        // The cancelled job is still handed out, and reads work on it (§1.3).
        let (first, _) = e.next(1).unwrap();
        assert_eq!(first[0].get_display_name().unwrap(), "a");
        // A new enumeration no longer lists it (D9).
        assert_eq!(app.job_enum(0).unwrap().get_count(), Ok(2));
    }

    /// D46: enumerators die with their application and with the service (D2, D15).
    #[test]
    fn d46_enumerators_die_with_app_and_service() {
        let sim = sim();
        let app = sim.connect("app", sim.user("alice")).unwrap();
        let j = app.create_job("a", JobType::Download).unwrap();
        j.add_file("https://x.test/a", "C:\\a").unwrap();
        let e = app.job_enum(0).unwrap();
        let f = j.file_enum().unwrap();
        sim.restart_service();
        assert_eq!(e.get_count(), Err(HResult::RPC_E_DISCONNECTED));
        assert_eq!(f.get_count(), Err(HResult::RPC_E_DISCONNECTED));
        let app2 = app.reconnect().unwrap();
        let mut e2 = app2.job_enum(0).unwrap();
        app2.exit().unwrap();
        assert_eq!(e2.next(1).unwrap_err(), HResult::RPC_E_DISCONNECTED);
        assert_eq!(e2.reset(), Err(HResult::RPC_E_DISCONNECTED));
    }

    /// D46: the file enumerator lists the files at its making, in order; later files are not in it.
    #[test]
    fn d46_file_enum_is_a_snapshot_in_order() {
        let sim = sim();
        let admin = sim.admin("root");
        let app = sim.connect("app", sim.user("alice")).unwrap();
        let j = app.create_job("a", JobType::Download).unwrap();
        j.add_file("https://x.test/a", "C:\\one").unwrap();
        j.add_file("https://x.test/a", "C:\\two").unwrap();
        let mut f = j.file_enum().unwrap();
        j.add_file("https://x.test/a", "C:\\three").unwrap();
        let (files, hr) = f.next(3).unwrap();
        assert_eq!(hr, HResult::S_FALSE);
        let names: Vec<String> = files.iter().map(|f| f.get_local_name().unwrap()).collect();
        assert_eq!(names, ["C:\\one", "C:\\two"]);
        assert_eq!(j.file_enum().unwrap().get_count(), Ok(3));
        // EnumJobs rules hold for the object too (D9).
        assert_eq!(
            app.job_enum(BG_JOB_ENUM_ALL_USERS).unwrap_err(),
            HResult::E_ACCESSDENIED
        );
        let root = sim.connect("root", admin).unwrap();
        assert_eq!(
            root.job_enum(BG_JOB_ENUM_ALL_USERS).unwrap().get_count(),
            Ok(1)
        );
    }
}
