//! Atomic saves: write a uniquely named temporary file in the target's directory, flush it to disk,
//! rename it over the target, then flush the directory. The target must be a regular file or not
//! exist; anything else (a symbolic link, a directory, a device node) is refused by name.
//!
//! Temporary names are `.NAME.tmp-PID-N-XXXXXXXX` with a per-process counter `N` and a few bits from
//! the address of a stack value, created exclusively: concurrent savers (threads or processes) never
//! share one, a stale temporary left by a crashed run never blocks a save (another name is tried), and a
//! failed save removes only its own temporary. None of this touches the simulation (no effect on traces).

use super::SnapshotError;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The stages of an atomic save, for fault injection in the unit tests below.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SaveStage {
    /// The temporary file is created and partly written.
    Written,
    /// The temporary file is flushed to disk, not yet renamed.
    Flushed,
}

/// How many names to try before giving up (each collision needs an existing file of that name).
const NAME_ATTEMPTS: u32 = 64;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary name next to `path`, unique in this process and unlikely to be taken by another.
fn temp_name(dir: &Path, name: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let probe = 0u8;
    let addr = std::ptr::addr_of!(probe) as usize as u64;
    // Mix the stack address (it varies between threads and, with ASLR, between runs) with the counter.
    let mut x = addr ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 32;
    dir.join(format!(
        ".{name}.tmp-{}-{n}-{:08x}",
        std::process::id(),
        x as u32
    ))
}

/// Refuse a target that exists and is not a regular file (checked without following links).
fn check_target(path: &Path) -> Result<(), SnapshotError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) => {
            let t = m.file_type();
            if t.is_file() {
                return Ok(());
            }
            let kind = if t.is_symlink() {
                "a symbolic link"
            } else if t.is_dir() {
                "a directory"
            } else {
                "a device, socket or pipe"
            };
            Err(SnapshotError::NotARegularFile {
                path: path.to_path_buf(),
                kind,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(SnapshotError::Io {
            path: path.to_path_buf(),
            op: "inspect the target",
            source,
        }),
    }
}

/// Write `bytes` to `path` atomically; `fault` may abort at a stage (tests). On any failure the
/// temporary file is removed and `path` is untouched.
pub(crate) fn save_atomically(
    path: &Path,
    bytes: &[u8],
    fault: impl Fn(SaveStage) -> std::io::Result<()>,
) -> Result<(), SnapshotError> {
    check_target(path)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snapshot".into());
    let io = |op: &'static str| {
        move |source| SnapshotError::Io {
            path: path.to_path_buf(),
            op,
            source,
        }
    };
    let mut attempt = 0;
    let (tmp, mut f) = loop {
        let tmp = temp_name(dir, &name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < NAME_ATTEMPTS => {
                attempt += 1;
            }
            Err(e) => return Err(io("create temporary file")(e)),
        }
    };
    let result = (|| {
        let half = bytes.len() / 2;
        f.write_all(&bytes[..half]).map_err(io("write"))?;
        fault(SaveStage::Written).map_err(io("write"))?;
        f.write_all(&bytes[half..]).map_err(io("write"))?;
        f.sync_all().map_err(io("flush"))?;
        fault(SaveStage::Flushed).map_err(io("flush"))?;
        drop(f);
        // The target may have been replaced since the first look.
        check_target(path)?;
        std::fs::rename(&tmp, path).map_err(io("rename"))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    // Make the rename itself durable. Best effort: some file systems cannot flush a directory.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("bitsim-snapfile-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_failed_or_interrupted_save_leaves_the_previous_file_intact() {
        let dir = tmpdir("atomic");
        let path = dir.join("state.json");
        save_atomically(&path, b"{\"previous\":true}", |_| Ok(())).unwrap();
        let before = std::fs::read(&path).unwrap();
        for stage in [SaveStage::Written, SaveStage::Flushed] {
            let r = save_atomically(&path, b"{\"half\":", |at| {
                if at == stage {
                    Err(std::io::Error::other("power cut"))
                } else {
                    Ok(())
                }
            });
            let e = r.unwrap_err();
            assert!(e.to_string().contains("power cut"), "{e}");
            assert!(e.to_string().contains("state.json"), "{e}");
            assert_eq!(
                std::fs::read(&path).unwrap(),
                before,
                "interrupted at {stage:?}"
            );
            assert_eq!(
                std::fs::read_dir(&dir).unwrap().count(),
                1,
                "temporary file removed"
            );
        }
        let missing = dir.join("no-such-dir").join("state.json");
        assert!(matches!(
            save_atomically(&missing, b"{}", |_| Ok(())),
            Err(SnapshotError::Io { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn temporary_names_differ_between_calls_and_threads() {
        let dir = Path::new("/x");
        let mut names: Vec<PathBuf> = (0..100).map(|_| temp_name(dir, "s.json")).collect();
        let from_threads: Vec<PathBuf> = (0..8)
            .map(|_| std::thread::spawn(|| temp_name(Path::new("/x"), "s.json")))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        names.extend(from_threads);
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
        let first = names[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            first.starts_with(&format!(".s.json.tmp-{}-", std::process::id())),
            "{first}"
        );
    }

    #[test]
    fn a_failure_after_a_name_collision_removes_only_its_own_temporary() {
        let dir = tmpdir("own");
        let path = dir.join("state.json");
        // Someone else's temporary (a concurrent saver, or a crashed run).
        let other = dir.join(".state.json.tmp-other");
        std::fs::write(&other, b"theirs").unwrap();
        let e = save_atomically(&path, b"{}", |_| Err(std::io::Error::other("disk full")));
        assert!(e.is_err());
        assert_eq!(std::fs::read(&other).unwrap(), b"theirs");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
