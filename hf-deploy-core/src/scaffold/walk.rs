//! Walking the source folder with `.gitignore` semantics and our excludes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::{DirEntry, WalkBuilder};

use crate::content::FileContent;
use crate::error::{Error, Result};

use super::{DEFAULT_EXCLUDES, Skipped};
use crate::field::Field;

/// Files bigger than this are refused by the Hub unless stored with Git LFS.
const LFS_THRESHOLD: u64 = 10 * 1024 * 1024;

/// Why a `.env*` file is left out.
pub(super) const ENV_REASON: &str =
    "`.env*` files may hold secrets and are never deployed; pass them as Space secrets instead";

/// What the walk found.
pub(super) struct Walked {
    /// Every file, as its path in the source: nothing is read here.
    pub(super) files: BTreeMap<String, FileContent>,
    /// Files with an executable bit (kept as mode 755 in the Space, e.g. an entrypoint script).
    pub(super) executable: BTreeSet<String>,
    pub(super) skipped: Vec<Skipped>,
    pub(super) warnings: Vec<String>,
}

/// True for names that hold environment files (`.env`, `.env.local`, `.envrc`, ...).
pub(super) fn is_env_name(name: &str) -> bool {
    name.starts_with(".env")
}

fn matcher(root: &Path, patterns: &[&str]) -> Result<Gitignore> {
    let mut builder = GitignoreBuilder::new(root);
    for pattern in patterns {
        builder.add_line(None, pattern).map_err(|e| {
            Error::invalid_input(
                Field::Exclude,
                format!("`{pattern}` is not a valid pattern ({e})"),
            )
        })?;
    }
    builder.build().map_err(|e| {
        Error::invalid_input(
            Field::Exclude,
            format!("the exclude patterns do not compile ({e})"),
        )
    })
}

fn rel_path(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let mut parts = Vec::new();
    for component in rel.components() {
        parts.push(component.as_os_str().to_str()?.to_string());
    }
    Some(parts.join("/"))
}

/// Skipped paths (folders end in `/`) and why, filled by the walk's filter as it goes.
type SkippedMap = Arc<Mutex<BTreeMap<String, String>>>;

/// Walk `root` (canonical) and list every file that goes into the Space (contents are read
/// later, when needed). `source` is the path as the user gave it, for messages.
pub(super) fn walk(root: &Path, source: &Path, user_excludes: &[String]) -> Result<Walked> {
    let skipped: SkippedMap = Arc::default();
    let walker = WalkBuilder::new(root)
        .hidden(false)
        .parents(true)
        .ignore(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(exclusions(root, user_excludes, &skipped)?)
        .build();

    let mut walked = Walked {
        files: BTreeMap::new(),
        executable: BTreeSet::new(),
        skipped: Vec::new(),
        warnings: Vec::new(),
    };
    for entry in walker {
        let entry = entry.map_err(walk_error(root))?;
        if entry.depth() > 0 {
            add_entry(root, source, &entry, &skipped, &mut walked)?;
        }
    }

    let mut skipped = Arc::try_unwrap(skipped)
        .map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner))
        .unwrap_or_else(|arc| arc.lock().unwrap_or_else(PoisonError::into_inner).clone());
    add_hidden_env_files(root, &mut skipped);
    walked.skipped = skipped
        .into_iter()
        .map(|(path, reason)| Skipped { path, reason })
        .collect();
    Ok(walked)
}

/// The walk's filter: `.env*` files, the default excludes and the user's leave a path out (and
/// are noted in `skipped` with the reason); `.gitignore` matches are left to the walker.
fn exclusions(
    root: &Path,
    user_excludes: &[String],
    skipped: &SkippedMap,
) -> Result<impl Fn(&DirEntry) -> bool + Send + Sync + 'static> {
    let defaults = matcher(root, DEFAULT_EXCLUDES)?;
    let user_patterns: Vec<&str> = user_excludes.iter().map(String::as_str).collect();
    let user = matcher(root, &user_patterns)?;
    let root = root.to_path_buf();
    let skipped = Arc::clone(skipped);
    Ok(move |entry: &DirEntry| -> bool {
        if entry.depth() == 0 {
            return true;
        }
        let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
        let Some(rel) = rel_path(&root, entry.path()) else {
            return true;
        };
        let shown = if is_dir { format!("{rel}/") } else { rel };
        let name = entry.file_name().to_string_lossy();
        let reason = if is_env_name(&name) {
            Some(ENV_REASON.to_string())
        } else if let ignore::Match::Ignore(glob) = defaults.matched(entry.path(), is_dir) {
            Some(format!("excluded by default (`{}`)", glob.original()))
        } else if let ignore::Match::Ignore(glob) = user.matched(entry.path(), is_dir) {
            Some(format!("excluded by pattern `{}`", glob.original()))
        } else {
            None
        };
        match reason {
            Some(reason) => {
                skipped
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(shown, reason);
                false
            }
            None => true,
        }
    })
}

/// One entry of the walk: a file joins the tree; a symbolic link is followed when it stays
/// inside the source (an error when it leaves it or points to nothing).
fn add_entry(
    root: &Path,
    source: &Path,
    entry: &DirEntry,
    skipped: &SkippedMap,
    walked: &mut Walked,
) -> Result<()> {
    let path = entry.path().to_path_buf();
    let Some(rel) = rel_path(root, &path) else {
        return Err(Error::InvalidSource {
            path: source.to_path_buf(),
            reason: format!("`{}` has a name that is not UTF-8", path.display()),
            hint: Some("rename it or exclude it".into()),
        });
    };
    let Some(file_type) = entry.file_type() else {
        return Ok(());
    };
    if file_type.is_dir() {
        return Ok(());
    }
    let mut target = path.clone();
    if file_type.is_symlink() {
        let note = |path: String, reason: &str| {
            skipped
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(path, reason.to_string());
        };
        match link_target(root, source, &path, &rel)? {
            Link::File(resolved) => target = resolved,
            Link::Folder => {
                note(
                    format!("{rel}/"),
                    "symbolic link to a folder (not followed)",
                );
                return Ok(());
            }
            Link::EnvFile => {
                note(rel, ENV_REASON);
                return Ok(());
            }
        }
    }
    let metadata = std::fs::metadata(&target).map_err(|e| Error::io("read", &target, e))?;
    if is_executable(&metadata) {
        walked.executable.insert(rel.clone());
    }
    let size = metadata.len();
    if size > LFS_THRESHOLD {
        walked.warnings.push(format!(
            "`{rel}` is larger than 10 MiB: a deploy uploads it with Git LFS, but a plain `git push` of the scaffold needs Git LFS for it (or exclude it)"
        ));
    }
    walked
        .files
        .insert(rel, FileContent::Source { path: target, size });
    Ok(())
}

/// Where a symbolic link inside the source leads.
enum Link {
    /// A file inside the source.
    File(PathBuf),
    /// A folder: not followed.
    Folder,
    /// A `.env*` file: never deployed.
    EnvFile,
}

fn link_target(root: &Path, source: &Path, path: &Path, rel: &str) -> Result<Link> {
    let resolved = std::fs::canonicalize(path).map_err(|_| Error::InvalidSource {
        path: source.to_path_buf(),
        reason: format!("symbolic link `{rel}` points to nothing"),
        hint: Some("remove the link or exclude it".into()),
    })?;
    if !resolved.starts_with(root) {
        return Err(Error::InvalidSource {
            path: source.to_path_buf(),
            reason: format!("symbolic link `{rel}` points outside the backend folder"),
            hint: Some("copy the file into the backend folder, or exclude the link".into()),
        });
    }
    if resolved.is_dir() {
        return Ok(Link::Folder);
    }
    let target_name = resolved
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    if target_name.as_deref().is_some_and(is_env_name) {
        return Ok(Link::EnvFile);
    }
    Ok(Link::File(resolved))
}

/// `.env*` files that `.gitignore` already hides are reported too, so that the user sees that
/// they were considered and left out.
fn add_hidden_env_files(root: &Path, skipped: &mut BTreeMap<String, String>) {
    let hidden_env = WalkBuilder::new(root)
        .standard_filters(false)
        .hidden(false)
        .follow_links(false)
        .filter_entry(|entry| {
            entry.depth() == 0
                || !entry.file_type().is_some_and(|t| t.is_dir())
                || !matches!(
                    entry.file_name().to_str(),
                    Some(".git" | "node_modules" | ".venv" | "venv" | "__pycache__")
                )
        })
        .build();
    for entry in hidden_env.flatten() {
        if entry.depth() == 0 || entry.file_type().is_some_and(|t| t.is_dir()) {
            continue;
        }
        if !is_env_name(&entry.file_name().to_string_lossy()) {
            continue;
        }
        if let Some(rel) = rel_path(root, entry.path()) {
            let covered = skipped
                .keys()
                .any(|k| k == &rel || (k.ends_with('/') && rel.starts_with(k.as_str())));
            if !covered {
                skipped.insert(rel, ENV_REASON.into());
            }
        }
    }
}

fn walk_error(root: &Path) -> impl Fn(ignore::Error) -> Error + '_ {
    move |err: ignore::Error| {
        let path: PathBuf = match &err {
            ignore::Error::WithPath { path, .. } => path.clone(),
            _ => root.to_path_buf(),
        };
        let source = if err.io_error().is_some() {
            err.into_io_error()
                .unwrap_or_else(|| std::io::Error::other("walk failed"))
        } else {
            std::io::Error::other(err)
        };
        Error::io("read", path, source)
    }
}

/// True when the file has an executable bit (Unix); an entrypoint script must stay runnable.
fn is_executable(metadata: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        metadata.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
        false
    }
}
