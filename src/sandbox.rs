//! Materialised files (scenario contract part 2, "Materialised files"): with a sandbox folder, local
//! names map into it (`C:\dl\a.bin` → `SANDBOX/C/dl/a.bin`, `\\host\share\x` → `SANDBOX/UNC/host/share/x`),
//! downloads write their bytes into a temporary `BIT<hex>.tmp` beside the local file as they move, Complete
//! renames them, Cancel and restarts delete or truncate them, and uploads read the sandbox file.
//!
//! Safety (D41): nothing is ever written outside the sandbox. A name is resolved as Windows resolves a
//! full path (both separators, `.` dropped, `..` never above the drive or the UNC share, trailing dots and
//! spaces cut); a segment that names a DOS device or holds a reserved character cannot be a file there
//! (ERROR_INVALID_NAME), and a symbolic link met on the way (planted inside the sandbox) is refused
//! (E_ACCESSDENIED). Host I/O errors become the BITS error for them (disk full, access denied), never a
//! panic. Data is streamed in chunks: memory does not grow with file size.

use crate::content::Body;
use crate::hresult::HResult;
use crate::job::JobId;
use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// HRESULT_FROM_WIN32(ERROR_INVALID_NAME): a local name that cannot name a file.
pub(crate) const ERROR_INVALID_NAME: HResult = HResult::from_win32(123);

/// Bytes moved per write or read: memory stays flat whatever the file size.
const CHUNK: usize = 64 * 1024;

/// The sandbox of a running service.
#[derive(Debug)]
pub(crate) struct Sandbox {
    root: PathBuf,
    /// The body each running download reads from, fixed at its connection (a connection already moving
    /// bytes keeps the old body).
    open: BTreeMap<(JobId, u32), Body>,
    /// The concrete ranges of each running download added with ranges: its bytes are those ranges of
    /// the body, concatenated in the order given (§2.4).
    ranged: BTreeMap<(JobId, u32), Vec<(u64, u64)>>,
    /// Where each download's bytes on disk came from: `(offset, body)`, one entry per connection whose
    /// body differs from the one before, in offset order (a connection that continues at an offset
    /// with a remote of the same size and time stamp but other bytes splices two bodies, D38 and
    /// SetRemoteName §2.6). Emptied by a restart at 0, dropped with the temporary file. Read by the
    /// file checker ([`crate::testing`]) only.
    history: BTreeMap<(JobId, u32), Vec<(u64, Body)>>,
    /// A local-file error met while writing, reported by the transfer that caused it.
    pub pending: BTreeMap<JobId, HResult>,
    /// Test hook: the disk holds at most this many bytes written by transfers (simulated disk full).
    pub capacity: Option<u64>,
    written: u64,
    /// Jobs with HIGH_PERFORMANCE: their bytes go straight to the local name and nothing of theirs is
    /// removed (D63). Kept by the service before each operation on the job's files.
    direct: std::collections::BTreeSet<JobId>,
    /// D86: who wrote which bytes of each local file a HIGH_PERFORMANCE job has written (see
    /// [`Written`]); dropped when a whole file is written there (a Complete's rename, a world
    /// local). Read by the file checker ([`crate::testing`]) only.
    written_by: BTreeMap<PathBuf, Written>,
    /// D89: the last whole-file write to each local file: its number in `wholes` (every whole-file
    /// write of the sandbox counted) and whether the world made it (a world local written, D40)
    /// rather than a job's Complete (its temporary file renamed there, or an empty file created).
    /// The writer only, never the bytes. Read by the file checker ([`crate::testing`]) only.
    whole: BTreeMap<PathBuf, (u64, bool)>,
    wholes: u64,
}

/// D86: who put the bytes of a local file from an offset on (up to the next part's offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layer {
    /// What the last whole-file write put there (a Complete's rename, a world local).
    Before,
    /// Zeros: the file was made longer than its bytes (a HIGH_PERFORMANCE job continuing past the
    /// end of a shorter file, D86).
    Zeros,
    /// File `.1` of HIGH_PERFORMANCE job `.0`: its bytes at their own offsets.
    Job(JobId, u32),
}

/// D86: the writers of a local file written by HIGH_PERFORMANCE jobs: `parts` in offset order cover
/// `[0, len)`, each from its offset up to the next one's; no two neighbours have the same writer.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Written {
    pub parts: Vec<(u64, Layer)>,
    pub len: u64,
}

impl Written {
    /// The file was cut or zero-extended to `at` bytes (set_len).
    fn cut(&mut self, at: u64) {
        if at < self.len {
            while self.parts.last().is_some_and(|(from, _)| *from >= at) {
                self.parts.pop();
            }
        } else if at > self.len && self.parts.last().is_none_or(|(_, w)| *w != Layer::Zeros) {
            self.parts.push((self.len, Layer::Zeros));
        }
        self.len = at;
    }

    /// `writer` wrote bytes `from..to` (a write past the end leaves zeros before it).
    fn write(&mut self, from: u64, to: u64, writer: Layer) {
        if to <= from {
            return;
        }
        if from > self.len {
            self.cut(from);
        }
        // Who holds byte `to` now keeps the bytes from `to` on.
        let tail = (to < self.len).then(|| {
            let k = self.parts.partition_point(|(at, _)| *at <= to);
            self.parts[k - 1].1
        });
        let first = self.parts.partition_point(|(at, _)| *at < from);
        let last = self.parts.partition_point(|(at, _)| *at <= to);
        let mut new = vec![(from, writer)];
        if let Some(t) = tail {
            new.push((to, t));
        }
        self.parts.splice(first..last, new);
        self.parts.dedup_by(|b, a| a.1 == b.1);
        self.len = self.len.max(to);
    }
}

/// One resolved local name: its segments below the sandbox root (drive or `UNC/host/share` first).
fn segments(local: &str) -> Result<Vec<String>, HResult> {
    let b = local.as_bytes();
    let (mut out, rest, keep): (Vec<String>, Vec<&str>, usize) =
        if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
            (
                vec![(b[0] as char).to_string()],
                local[2..].split(['\\', '/']).collect(),
                1,
            )
        } else if local.starts_with("\\\\") || local.starts_with("//") {
            let mut parts = local[2..].split(['\\', '/']).filter(|s| !s.is_empty());
            let host = parts.next().ok_or(ERROR_INVALID_NAME)?;
            let share = parts.next().ok_or(ERROR_INVALID_NAME)?;
            if matches!(host, "." | "..") || matches!(share, "." | "..") {
                return Err(ERROR_INVALID_NAME);
            }
            (
                vec!["UNC".to_string(), host.to_string(), share.to_string()],
                parts.collect(),
                3,
            )
        } else {
            return Err(ERROR_INVALID_NAME);
        };
    for seg in out.iter().skip(1) {
        check_segment(seg)?;
    }
    for seg in rest {
        // Windows cuts trailing dots and spaces of a segment ("a.." is "a"), after `.`/`..` are taken.
        match seg {
            "" | "." => continue,
            ".." => {
                if out.len() > keep {
                    out.pop();
                }
                continue;
            }
            _ => {}
        }
        let cut = seg.trim_end_matches(['.', ' ']);
        if cut.is_empty() {
            continue;
        }
        check_segment(cut)?;
        out.push(cut.to_string());
    }
    if out.len() == keep {
        return Err(ERROR_INVALID_NAME); // a drive or share root is not a file
    }
    Ok(out)
}

/// A segment that can be a file name on Windows: no reserved or control characters, not a DOS device.
fn check_segment(seg: &str) -> Result<(), HResult> {
    if seg
        .chars()
        .any(|c| c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
    {
        return Err(ERROR_INVALID_NAME);
    }
    let stem = seg.split('.').next().unwrap_or("").trim_end_matches(' ');
    let upper = stem.to_ascii_uppercase();
    let device = matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) || (upper.len() == 4
        && (upper.starts_with("COM") || upper.starts_with("LPT"))
        && matches!(upper.as_bytes()[3], b'1'..=b'9'));
    if device {
        return Err(ERROR_INVALID_NAME);
    }
    Ok(())
}

/// The BITS error for a host I/O error on a local file (D41).
pub(crate) fn io_error(e: &io::Error) -> HResult {
    match e.raw_os_error() {
        Some(28) => HResult::ERROR_DISK_FULL, // ENOSPC
        Some(1) | Some(13) | Some(30) => HResult::E_ACCESSDENIED, // EPERM, EACCES, EROFS
        Some(40) => HResult::E_ACCESSDENIED,  // ELOOP: a link met on the way
        Some(17) | Some(21) => HResult::E_ACCESSDENIED, // EEXIST, EISDIR: a folder in the way
        Some(20) => HResult::ERROR_PATH_NOT_FOUND, // ENOTDIR: a file where a folder is
        _ => match e.kind() {
            io::ErrorKind::NotFound => HResult::ERROR_PATH_NOT_FOUND,
            io::ErrorKind::PermissionDenied => HResult::E_ACCESSDENIED,
            _ => HResult::from_win32(29), // ERROR_WRITE_FAULT
        },
    }
}

impl Sandbox {
    /// A sandbox rooted at `root` (created with the first file written there).
    pub fn new(root: PathBuf) -> Sandbox {
        Sandbox {
            root,
            open: BTreeMap::new(),
            ranged: BTreeMap::new(),
            history: BTreeMap::new(),
            pending: BTreeMap::new(),
            capacity: None,
            written: 0,
            direct: std::collections::BTreeSet::new(),
            written_by: BTreeMap::new(),
            whole: BTreeMap::new(),
            wholes: 0,
        }
    }

    /// D89: a whole file was written at `p` (by the world if `world`).
    fn note_whole(&mut self, p: PathBuf, world: bool) {
        self.wholes += 1;
        self.whole.insert(p, (self.wholes, world));
    }

    /// D89: the last whole-file write to each local file written whole: `(number, by the world)`,
    /// numbers growing with every whole-file write.
    #[cfg(feature = "testing")]
    pub fn whole_writes(&self) -> impl Iterator<Item = (&Path, u64, bool)> {
        self.whole.iter().map(|(p, (n, w))| (p.as_path(), *n, *w))
    }

    /// The sandbox folder.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))] // read by the testing kit's file checker
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// D63: whether job `job` writes straight to its local names (HIGH_PERFORMANCE).
    pub fn set_direct(&mut self, job: JobId, direct: bool) {
        if direct {
            self.direct.insert(job);
        } else if !self.direct.is_empty() {
            self.direct.remove(&job);
        }
    }

    /// The Windows name a download's bytes are written to: its temporary file, or for a
    /// HIGH_PERFORMANCE job the local name itself (D63).
    fn target(&self, local: &str, job: JobId, file: u32) -> String {
        if self.direct.contains(&job) {
            local.to_string()
        } else {
            Self::temp_name(local, job, file)
        }
    }

    /// The host path of a Windows local name, its folders checked (no link on the way).
    pub fn path(&self, local: &str) -> Result<PathBuf, HResult> {
        let segs = segments(local)?;
        let mut p = self.root.clone();
        for s in &segs {
            p.push(s);
            if let Ok(m) = fs::symlink_metadata(&p) {
                if m.file_type().is_symlink() {
                    return Err(HResult::E_ACCESSDENIED);
                }
            }
        }
        Ok(p)
    }

    /// The host path of a folder given by a Windows name (`C:\dl`), for `local_dir`.
    pub fn dir_path(&self, dir: &str) -> Result<PathBuf, HResult> {
        let trimmed = dir.trim_end_matches(['\\', '/']);
        if trimmed.len() == 2 && trimmed.as_bytes()[1] == b':' {
            let mut p = self.root.clone();
            p.push(&trimmed[..1]);
            return Ok(p);
        }
        self.path(trimmed)
    }

    /// Create the parent folders of `p` (inside the root), refusing links.
    fn make_parents(&self, p: &Path) -> Result<(), HResult> {
        let parent = p.parent().ok_or(ERROR_INVALID_NAME)?;
        fs::create_dir_all(parent).map_err(|e| io_error(&e))?;
        // A link planted after the check above would have been met by create_dir_all; check again.
        let rel = parent
            .strip_prefix(&self.root)
            .map_err(|_| ERROR_INVALID_NAME)?;
        let mut q = self.root.clone();
        for c in rel.components() {
            q.push(c);
            let m = fs::symlink_metadata(&q).map_err(|e| io_error(&e))?;
            if m.file_type().is_symlink() || !m.is_dir() {
                return Err(HResult::E_ACCESSDENIED);
            }
        }
        Ok(())
    }

    /// The Windows name of file `file` of job `job`'s temporary file: `BIT<hex>.tmp` in the local file's
    /// folder (D40).
    pub fn temp_name(local: &str, job: JobId, file: u32) -> String {
        let folder = match local.rfind(['\\', '/']) {
            Some(i) => &local[..i],
            None => "",
        };
        format!(
            "{folder}\\BIT{:X}.tmp",
            (u64::from(job.0) << 32) | u64::from(file)
        )
    }

    /// Start (or resume) writing a download's temporary file at `have` bytes, from `body`. Returns
    /// whether the file was created now.
    pub fn open_temp(
        &mut self,
        local: &str,
        job: JobId,
        file: u32,
        have: u64,
        body: Body,
    ) -> Result<bool, HResult> {
        let p = self.path(&self.target(local, job, file))?;
        self.path(local)?; // the local name itself must be a file name too
        self.make_parents(&p)?;
        let (created, old_len) = match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() || !m.is_file() => {
                return Err(HResult::E_ACCESSDENIED)
            }
            Ok(m) => (false, m.len()),
            Err(_) => (true, 0),
        };
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&p)
            .map_err(|e| io_error(&e))?;
        f.set_len(have).map_err(|e| io_error(&e))?;
        if self.direct.contains(&job) {
            // D86: cut or zero-extended to `have`; what was there before stays below it.
            let w = self.written_by.entry(p).or_insert_with(|| Written {
                parts: if old_len > 0 {
                    vec![(0, Layer::Before)]
                } else {
                    Vec::new()
                },
                len: old_len,
            });
            w.cut(have);
        }
        let history = self.history.entry((job, file)).or_default();
        while history.last().is_some_and(|(from, _)| *from >= have) {
            history.pop();
        }
        if history.last().is_none_or(|(_, b)| *b != body) {
            history.push((have, body.clone()));
        }
        self.open.insert((job, file), body);
        self.ranged.remove(&(job, file));
        Ok(created)
    }

    /// D86: who wrote the bytes of local file `p`, if a HIGH_PERFORMANCE job opened it since the last
    /// whole-file write there.
    #[cfg(feature = "testing")]
    pub fn written_by(&self, p: &Path) -> Option<&Written> {
        self.written_by.get(p)
    }

    /// D86: the local files HIGH_PERFORMANCE jobs opened since the last whole-file write to each.
    #[cfg(feature = "testing")]
    pub fn written_paths(&self) -> impl Iterator<Item = &Path> {
        self.written_by.keys().map(PathBuf::as_path)
    }

    /// The running download `(job, file)` transfers only these concrete ranges of its body (§2.4).
    pub fn set_ranges(&mut self, job: JobId, file: u32, ranges: Vec<(u64, u64)>) {
        self.ranged.insert((job, file), ranges);
    }

    /// Write bytes `from..to` of the running download's body into its temporary file. Err: the
    /// local-file error and the offset the file's bytes reach.
    pub fn write(
        &mut self,
        local: &str,
        job: JobId,
        file: u32,
        from: u64,
        to: u64,
    ) -> Result<(), (HResult, u64)> {
        if to <= from {
            return Ok(());
        }
        let Some(body) = self.open.get(&(job, file)) else {
            return Ok(());
        };
        let p = self
            .path(&self.target(local, job, file))
            .map_err(|e| (e, from))?;
        let direct = self.direct.contains(&job);
        let mut f = OpenOptions::new()
            .write(true)
            .open(&p)
            .map_err(|e| (io_error(&e), from))?;
        f.seek(SeekFrom::Start(from))
            .map_err(|e| (io_error(&e), from))?;
        // No larger than the bytes to write (zeroing a whole chunk for a short write cost more than
        // the write).
        let mut buf = vec![0u8; usize::try_from((to - from).min(CHUNK as u64)).unwrap_or(CHUNK)];
        let mut off = from;
        while off < to {
            let mut want = usize::try_from((to - off).min(CHUNK as u64)).unwrap_or(CHUNK);
            let room = self.capacity.map(|cap| cap.saturating_sub(self.written));
            if let Some(room) = room {
                want = want.min(usize::try_from(room).unwrap_or(usize::MAX));
                if want == 0 {
                    return Err((HResult::ERROR_DISK_FULL, off));
                }
            }
            let n = match self.ranged.get(&(job, file)) {
                Some(r) => crate::ranges::read_at(body, r, off, &mut buf[..want]),
                None => body.read_at(off, &mut buf[..want]),
            };
            if n == 0 {
                break;
            }
            f.write_all(&buf[..n]).map_err(|e| (io_error(&e), off))?;
            self.written = self.written.saturating_add(n as u64);
            if direct {
                if let Some(w) = self.written_by.get_mut(&p) {
                    w.write(off, off + n as u64, Layer::Job(job, file));
                }
            }
            off += n as u64;
        }
        Ok(())
    }

    /// The download stopped moving bytes (the body is no longer needed).
    pub fn close(&mut self, job: JobId, file: u32) {
        self.open.remove(&(job, file));
        self.ranged.remove(&(job, file));
    }

    /// Where the bytes of download `file` of `job` on disk came from: `(offset, body)` pairs in
    /// offset order, each body supplying the bytes from its offset up to the next pair's (empty when
    /// nothing was recorded: no connection yet, or the file restarted at 0).
    #[cfg(feature = "testing")]
    pub fn history(&self, job: JobId, file: u32) -> &[(u64, Body)] {
        self.history.get(&(job, file)).map_or(&[], Vec::as_slice)
    }

    /// Empty the temporary file (a restart at 0). Returns whether there was one.
    pub fn truncate_temp(&mut self, local: &str, job: JobId, file: u32) -> bool {
        self.history.remove(&(job, file));
        match self.path(&self.target(local, job, file)) {
            Ok(p) if p.is_file() => {
                let emptied = OpenOptions::new()
                    .write(true)
                    .open(&p)
                    .and_then(|f| f.set_len(0))
                    .is_ok();
                if emptied {
                    if let Some(w) = self.written_by.get_mut(&p) {
                        w.cut(0);
                    }
                }
                emptied
            }
            _ => false,
        }
    }

    /// Delete the temporary file. Returns whether there was one.
    pub fn delete_temp(&mut self, local: &str, job: JobId, file: u32) -> bool {
        self.history.remove(&(job, file));
        self.open.remove(&(job, file));
        self.ranged.remove(&(job, file));
        if self.direct.contains(&job) {
            // D63: a HIGH_PERFORMANCE job's partial content stays for the caller to clean up.
            return false;
        }
        match self.path(&Self::temp_name(local, job, file)) {
            Ok(p) if p.is_file() => fs::remove_file(&p).is_ok(),
            _ => false,
        }
    }

    /// Forget what the sandbox holds about download `file` of `job` (its temporary file renamed or
    /// given up).
    pub fn forget(&mut self, job: JobId, file: u32) {
        self.history.remove(&(job, file));
        self.open.remove(&(job, file));
        self.ranged.remove(&(job, file));
    }

    /// Rename the temporary file to the local name, replacing a file there. Returns whether it was
    /// renamed. A rename that fails (T17b, D97: a folder at the local name, a link or a file on the
    /// way, a host error) leaves the temporary file and what the sandbox knows of it as they were.
    pub fn rename_temp(&mut self, local: &str, job: JobId, file: u32) -> Result<bool, HResult> {
        if self.direct.contains(&job) {
            // D63: the bytes are already under the local name.
            self.forget(job, file);
            return Ok(false);
        }
        let from = self.path(&Self::temp_name(local, job, file))?;
        if !from.is_file() {
            self.forget(job, file);
            return Ok(false);
        }
        let to = self.path(local)?;
        if let Ok(m) = fs::symlink_metadata(&to) {
            if m.is_dir() {
                // MoveFileEx cannot replace a folder: ERROR_ACCESS_DENIED (D41, D97).
                return Err(HResult::E_ACCESSDENIED);
            }
        }
        fs::rename(&from, &to).map_err(|e| io_error(&e))?;
        self.forget(job, file);
        self.written_by.remove(&to);
        self.note_whole(to, false);
        Ok(true)
    }

    /// Write a whole local file (world `locals`, `set_local`), streamed, with its last-write time set
    /// to `modified` virtual seconds after the Unix epoch (D78; where the host cannot set it, the
    /// time of the write stands).
    pub fn write_local_at(
        &mut self,
        local: &str,
        body: &Body,
        modified: u64,
    ) -> Result<(), HResult> {
        self.write_whole(local, body, true)?;
        let p = self.path(local)?;
        let at = std::time::Duration::from_secs(modified);
        if let Some(t) = std::time::UNIX_EPOCH.checked_add(at) {
            if let Ok(f) = OpenOptions::new().write(true).open(&p) {
                let _ = f.set_modified(t);
            }
        }
        Ok(())
    }

    /// D78: the version of a local file an upload reads: its size and its host last-write time
    /// (seconds times 10^9 plus nanoseconds since the Unix epoch, wrapping: only compared for
    /// equality), or the error for a missing or unreadable file.
    pub fn local_version(&self, local: &str) -> Result<(u64, u64), HResult> {
        let p = self.path(local)?;
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => Err(HResult::E_ACCESSDENIED),
            Ok(m) if m.is_file() => {
                let stamp = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| {
                        d.as_secs()
                            .wrapping_mul(1_000_000_000)
                            .wrapping_add(u64::from(d.subsec_nanos()))
                    });
                Ok((m.len(), stamp))
            }
            _ => Err(HResult::ERROR_FILE_NOT_FOUND),
        }
    }

    /// Write a whole file, streamed (an empty file a Complete creates, D40).
    pub fn write_local(&mut self, local: &str, body: &Body) -> Result<(), HResult> {
        self.write_whole(local, body, false)
    }

    /// Write a whole file, streamed; the world's if `world` (D89).
    fn write_whole(&mut self, local: &str, body: &Body, world: bool) -> Result<(), HResult> {
        let p = self.path(local)?;
        self.make_parents(&p)?;
        if let Ok(m) = fs::symlink_metadata(&p) {
            if m.file_type().is_symlink() || m.is_dir() {
                return Err(HResult::E_ACCESSDENIED);
            }
        }
        let mut f = fs::File::create(&p).map_err(|e| io_error(&e))?;
        self.written_by.remove(&p);
        self.note_whole(p.clone(), world);
        let mut buf =
            vec![0u8; usize::try_from(body.len().clamp(1, CHUNK as u64)).unwrap_or(CHUNK)];
        let mut off = 0;
        loop {
            let n = body.read_at(off, &mut buf);
            if n == 0 {
                break;
            }
            f.write_all(&buf[..n]).map_err(|e| io_error(&e))?;
            off += n as u64;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(s: &str) -> Result<String, HResult> {
        segments(s).map(|v| v.join("/"))
    }

    #[test]
    fn d41_names_map_by_drive_and_unc_and_never_climb_out() {
        assert_eq!(segs("C:\\dl\\a.bin").unwrap(), "C/dl/a.bin");
        assert_eq!(segs("c:/dl/A.bin").unwrap(), "c/dl/A.bin");
        assert_eq!(segs("\\\\host\\share\\x").unwrap(), "UNC/host/share/x");
        assert_eq!(segs("C:\\a\\..\\..\\..\\etc\\x").unwrap(), "C/etc/x");
        assert_eq!(segs("\\\\h\\s\\..\\..\\x").unwrap(), "UNC/h/s/x");
        assert_eq!(segs("C:\\a\\.\\b\\\\c").unwrap(), "C/a/b/c");
        assert_eq!(segs("C:\\a\\b. . ").unwrap(), "C/a/b");
        for bad in [
            "C:\\dl\\CON",
            "C:\\dl\\nul.txt",
            "C:\\dl\\com1",
            "C:\\lpt9.log\\x",
            "C:\\dl\\a|b",
            "C:\\dl\\a\u{1}",
            "C:\\",
            "C:\\a\\..",
            "relative\\x",
            "\\\\host",
        ] {
            assert_eq!(segs(bad), Err(ERROR_INVALID_NAME), "{bad:?}");
        }
        assert!(segs("C:\\dl\\console.txt").is_ok());
        assert!(segs("C:\\dl\\com10").is_ok());
    }

    #[test]
    fn d86_the_record_of_writers_keeps_the_last_write_to_each_byte() {
        let (a, b) = (Layer::Job(JobId(1), 0), Layer::Job(JobId(2), 0));
        let mut w = Written {
            parts: vec![(0, Layer::Before)],
            len: 5000,
        };
        w.cut(2000); // b reopens at 2,000 over what was there
        w.write(2000, 3000, b);
        assert_eq!(w.parts, [(0, Layer::Before), (2000, b)]);
        assert_eq!(w.len, 3000);
        w.write(500, 1000, a); // a write inside another's bytes splits them
        assert_eq!(
            w.parts,
            [
                (0, Layer::Before),
                (500, a),
                (1000, Layer::Before),
                (2000, b)
            ]
        );
        w.write(1000, 2500, a); // and joins its own neighbour
        assert_eq!(w.parts, [(0, Layer::Before), (500, a), (2500, b)]);
        w.write(4000, 4100, b); // past the end: zeros between
        assert_eq!(
            w.parts,
            [
                (0, Layer::Before),
                (500, a),
                (2500, b),
                (3000, Layer::Zeros),
                (4000, b)
            ]
        );
        assert_eq!(w.len, 4100);
        w.cut(2600);
        assert_eq!(w.parts, [(0, Layer::Before), (500, a), (2500, b)]);
        w.cut(3000);
        assert_eq!(
            w.parts,
            [
                (0, Layer::Before),
                (500, a),
                (2500, b),
                (2600, Layer::Zeros)
            ]
        );
        w.write(0, 3000, a);
        assert_eq!((w.parts.as_slice(), w.len), ([(0, a)].as_slice(), 3000));
        w.cut(0);
        assert_eq!((w.parts.as_slice(), w.len), ([].as_slice(), 0));
    }

    #[test]
    fn d40_temp_names_sit_beside_the_local_file() {
        assert_eq!(
            Sandbox::temp_name("C:\\dl\\a.bin", JobId(1), 2),
            "C:\\dl\\BIT100000002.tmp"
        );
    }
}
