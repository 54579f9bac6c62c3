//! The repository is all a user of the crate has: no tracked file may point outside it (at a `shared/`
//! folder) or at documents users never see (numbered issues or habits). Citations go to
//! `docs/bits-semantics.md` and `docs/scenario-format.md`, which must exist and hold the rows the code cites.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The tracked files (git ls-files), or, outside a git checkout (a published crate), every file under
/// the crate root except build output.
fn tracked_files() -> Vec<PathBuf> {
    let root = repo();
    if let Ok(out) = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["ls-files", "-z"])
        .output()
    {
        if out.status.success() && !out.stdout.is_empty() {
            return out
                .stdout
                .split(|b| *b == 0)
                .filter(|p| !p.is_empty())
                .map(|p| root.join(String::from_utf8_lossy(p).as_ref()))
                .collect();
        }
    }
    let mut files = Vec::new();
    walk(&root, &mut files);
    files
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

/// `needle` followed by optional spaces and a digit, case-insensitive ("issue 9", "Habit 2").
fn numbered(text: &str, needle: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find(needle) {
        let after = rest[i + needle.len()..].trim_start_matches([' ', '#']);
        if after.starts_with(|c: char| c.is_ascii_digit()) {
            return true;
        }
        rest = &rest[i + needle.len()..];
    }
    false
}

#[test]
fn no_tracked_file_points_outside_the_repository() {
    let root = repo();
    let mut offenders = Vec::new();
    let mut checked = 0;
    for path in tracked_files() {
        let rel = path.strip_prefix(&root).unwrap_or(&path).to_path_buf();
        // The fuzz corpora are generated inputs, not prose.
        if rel.starts_with("fuzz/corpus") || rel.starts_with("fuzz/artifacts") {
            continue;
        }
        // This file names the forbidden patterns in order to look for them.
        if rel == Path::new("tests/self_contained.rs") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // binary files
        };
        checked += 1;
        for (n, line) in text.lines().enumerate() {
            let bad = line.contains("shared/")
                || numbered(line, "issue ")
                || numbered(line, "issue#")
                || numbered(line, "habit ");
            if bad {
                offenders.push(format!("{}:{}: {}", rel.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} files checked: is the lister broken?"
    );
    assert!(
        offenders.is_empty(),
        "tracked files point outside the repository:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_cited_documents_are_in_the_repository() {
    let facts = std::fs::read_to_string(repo().join("docs/bits-semantics.md")).unwrap();
    let contract = std::fs::read_to_string(repo().join("docs/scenario-format.md")).unwrap();
    // The transition table and the decisions the code cites.
    for row in ["| T1 ", "| T12 ", "| T25 "] {
        assert!(
            facts.contains(row),
            "docs/bits-semantics.md lacks row {row}"
        );
    }
    for d in ["- **D1 ", "- **D4 ", "- **D15 "] {
        assert!(
            facts.contains(d),
            "docs/bits-semantics.md lacks decision {d}"
        );
    }
    assert!(contract.contains("## World") && contract.contains("### Checks"));
}

#[test]
fn the_pattern_finder_finds_what_it_must() {
    assert!(numbered("see Issue 12 for this", "issue "));
    assert!(numbered("habit  3", "habit "));
    assert!(!numbered("this issue is known", "issue "));
    assert!(!numbered("a habit of mind", "habit "));
}
