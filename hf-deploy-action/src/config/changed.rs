//! Which entries of the file changed between a revision and `HEAD`: an entry changed when a
//! file under its source folder changed, or when its `[[space]]` table reads differently (or is
//! new). The trees are compared in-process (no `git` child), as the deploy's commit message is
//! read.

use std::path::{Component, Path, PathBuf};

use git2::{Repository, Tree};

use super::{ConfigFile, Entry, parse};

/// Whether one entry changed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    /// True when the entry must be deployed again.
    pub(crate) changed: bool,
    /// Why, in a few words (`source changed`, `entry changed`, `unchanged`).
    pub(crate) why: &'static str,
}

/// A revision that cannot be compared (usage error: nothing was sent anywhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChangedError {
    /// What is wrong; names the input as the front end spells it.
    pub(crate) message: String,
    /// How to fix it.
    pub(crate) hint: String,
}

/// The root of the work tree holding `file`, when it is in a repository.
pub(crate) fn work_tree(file: &ConfigFile) -> Option<PathBuf> {
    repository_root(file.dir())
}

/// The root of the work tree holding `dir`, when it is in a repository.
pub(crate) fn repository_root(dir: &Path) -> Option<PathBuf> {
    let repository = Repository::discover(dir).ok()?;
    repository
        .workdir()
        .map(|dir| dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()))
}

/// The URL of the remote `origin` of the repository holding `dir`.
pub(crate) fn origin_url(dir: &Path) -> Option<String> {
    let repository = Repository::discover(dir).ok()?;
    let remote = repository.find_remote("origin").ok()?;
    remote.url().map(str::to_string)
}

/// For each entry of `file` (in order), whether it changed between `base` and `HEAD`.
/// `spelled` is how the front end names the input that gave `base` (`--changed-since`).
///
/// A `base` of forty zeros (what GitHub sends as `github.event.before` for a new branch) has no
/// tree to compare with: every entry counts as changed.
pub(crate) fn changes(
    file: &ConfigFile,
    base: &str,
    spelled: &str,
) -> Result<Vec<Change>, ChangedError> {
    let base = base.trim();
    if base.len() == 40 && base.chars().all(|c| c == '0') {
        return Ok(file
            .entries
            .iter()
            .map(|_| Change {
                changed: true,
                why: "no earlier commit",
            })
            .collect());
    }
    let repository = Repository::discover(file.dir()).map_err(|error| ChangedError {
        message: format!(
            "`{spelled}` needs a git repository, and `{}` is not in one ({})",
            file.shown,
            error.message()
        ),
        hint: format!("run it in a clone of the repository, or leave `{spelled}` out"),
    })?;
    let bad_revision = |why: String| {
        ChangedError {
        message: format!("`{spelled}` `{base}` is not a commit of this repository: {why}"),
        hint: "give a commit, branch or tag that the clone has (in a workflow, check out with `fetch-depth: 0`)".into(),
    }
    };
    let base_tree = repository
        .revparse_single(base)
        .and_then(|object| object.peel_to_tree())
        .map_err(|e| bad_revision(e.message().to_string()))?;
    let head_tree = repository
        .head()
        .and_then(|head| head.peel_to_tree())
        .map_err(|e| bad_revision(format!("`HEAD` has no commit ({})", e.message())))?;
    let paths = changed_paths(&repository, &base_tree, &head_tree)
        .map_err(|e| bad_revision(e.message().to_string()))?;
    let root = work_tree(file).unwrap_or_default();
    let earlier = earlier_entries(&repository, &base_tree, file, &root);
    Ok(file
        .entries
        .iter()
        .map(|entry| {
            let source = relative_to(&file.source_of(entry), &root);
            let source_changed = match &source {
                Some(source) => paths.iter().any(|path| path.starts_with(source)),
                // A source outside the repository: it cannot be compared, so it is deployed.
                None => true,
            };
            let entry_changed = earlier
                .as_ref()
                .is_none_or(|old| !old.iter().any(|o| same_entry(o, entry)));
            match (source_changed, entry_changed) {
                (true, _) => Change {
                    changed: true,
                    why: "source changed",
                },
                (false, true) => Change {
                    changed: true,
                    why: "entry changed",
                },
                (false, false) => Change {
                    changed: false,
                    why: "unchanged",
                },
            }
        })
        .collect())
}

/// Every path (old and new names) that differs between the two trees, relative to the root.
fn changed_paths(
    repository: &Repository,
    base: &Tree<'_>,
    head: &Tree<'_>,
) -> Result<Vec<PathBuf>, git2::Error> {
    let diff = repository.diff_tree_to_tree(Some(base), Some(head), None)?;
    let mut paths = Vec::new();
    for delta in diff.deltas() {
        for path in [delta.old_file().path(), delta.new_file().path()]
            .into_iter()
            .flatten()
        {
            paths.push(path.to_path_buf());
        }
    }
    Ok(paths)
}

/// The entries of the file as it was in `base`; `None` when it was not there or did not read
/// (every entry then counts as changed).
fn earlier_entries(
    repository: &Repository,
    base: &Tree<'_>,
    file: &ConfigFile,
    root: &Path,
) -> Option<Vec<Entry>> {
    let path = relative_to(&file.path, root)?;
    let blob = base
        .get_path(&path)
        .ok()?
        .to_object(repository)
        .ok()?
        .peel_to_blob()
        .ok()?;
    let text = std::str::from_utf8(blob.content()).ok()?;
    parse::parse(text, &file.shown).ok()
}

fn same_entry(old: &Entry, new: &Entry) -> bool {
    old.space.value.eq_ignore_ascii_case(&new.space.value) && old.fingerprint() == new.fingerprint()
}

/// `path` relative to `root`, both made absolute and without `.` or `..`; `None` when it is not
/// under `root`.
pub(crate) fn relative_to(path: &Path, root: &Path) -> Option<PathBuf> {
    let path = normalize(&absolute(path));
    let root = normalize(&absolute(root));
    path.strip_prefix(&root).ok().map(Path::to_path_buf)
}

/// `path` made absolute (its existing part resolved, so that links and `/tmp` aliases agree with
/// the repository's own root).
fn absolute(path: &Path) -> PathBuf {
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while let Some(name) = existing.file_name().map(|n| n.to_os_string()) {
        existing.pop();
        rest.push(name);
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            for name in rest.iter().rev() {
                out.push(name);
            }
            return out;
        }
    }
    std::env::current_dir().map_or_else(|_| path.to_path_buf(), |cwd| cwd.join(path))
}

/// `path` without `.` and `..` components (lexically).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
