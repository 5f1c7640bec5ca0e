//! Walking the source folder with `.gitignore` semantics and our excludes; symbolic links are
//! judged in [`links`], FIFOs, sockets and devices refused in [`special`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::{DirEntry, WalkBuilder};

use crate::content::FileContent;
use crate::error::{Error, Result};

use super::links::{self, Link};
use super::special;
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

pub(super) fn rel_path(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let mut parts = Vec::new();
    for component in rel.components() {
        parts.push(component.as_os_str().to_str()?.to_string());
    }
    Some(parts.join("/"))
}

/// Skipped paths (folders end in `/`) and why, filled by the walk's filter as it goes.
type SkippedMap = Arc<Mutex<BTreeMap<String, String>>>;

/// A refusal found by the walk's filter (which cannot return an error): the walk stops on it.
type Refusal = Arc<Mutex<Option<Error>>>;

fn refused(refusal: &Refusal) -> Result<()> {
    match refusal
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Walk `root` (canonical) and list every file that goes into the Space (contents are read
/// later, when needed). `source` is the path as the user gave it, for messages.
///
/// Nothing is opened but regular files: the type of every entry is read first, and a FIFO, a
/// socket or a device is refused (see [`special`]). Symbolic links are judged once the walk is
/// done, by where they lead (see [`links`]).
pub(super) fn walk(root: &Path, source: &Path, user_excludes: &[String]) -> Result<Walked> {
    special::check_ignore_files_above(root, source)?;
    let skipped: SkippedMap = Arc::default();
    let refusal: Refusal = Arc::default();
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
        .filter_entry(exclusions(root, source, user_excludes, &skipped, &refusal)?)
        .build();

    let mut walked = Walked {
        files: BTreeMap::new(),
        executable: BTreeSet::new(),
        skipped: Vec::new(),
        warnings: Vec::new(),
    };
    let mut found_links = Vec::new();
    for entry in walker {
        let entry = entry.map_err(walk_error(root))?;
        refused(&refusal)?;
        if entry.depth() > 0 {
            add_entry(root, source, &entry, &mut found_links, &mut walked)?;
        }
    }
    refused(&refusal)?;

    let mut skipped = Arc::try_unwrap(skipped)
        .map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner))
        .unwrap_or_else(|arc| arc.lock().unwrap_or_else(PoisonError::into_inner).clone());
    add_hidden_env_files(root, &mut skipped);
    links::add_links(root, source, found_links, &mut skipped, &mut walked)?;
    walked.skipped = skipped
        .into_iter()
        .map(|(path, reason)| Skipped { path, reason })
        .collect();
    Ok(walked)
}

/// The walk's filter: `.env*` files, the default excludes and the user's leave a path out (and
/// are noted in `skipped` with the reason); `.gitignore` matches are left to the walker. A
/// folder the walk enters has its ignore files checked first (the walker reads them): one that
/// is not a regular file is a refusal, and the folder is not entered.
fn exclusions(
    root: &Path,
    source: &Path,
    user_excludes: &[String],
    skipped: &SkippedMap,
    refusal: &Refusal,
) -> Result<impl Fn(&DirEntry) -> bool + Send + Sync + 'static> {
    let defaults = matcher(root, DEFAULT_EXCLUDES)?;
    let user_patterns: Vec<&str> = user_excludes.iter().map(String::as_str).collect();
    let user = matcher(root, &user_patterns)?;
    let root = root.to_path_buf();
    let source = source.to_path_buf();
    let skipped = Arc::clone(skipped);
    let refusal = Arc::clone(refusal);
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
            None if is_dir => match special::check_ignore_files(&root, &source, entry.path()) {
                Ok(()) => true,
                Err(error) => {
                    *refusal.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
                    false
                }
            },
            None => true,
        }
    })
}

/// One entry of the walk: a regular file joins the tree; a symbolic link waits for the end of
/// the walk (see [`links`]); a FIFO, a socket or a device is refused, unopened.
fn add_entry(
    root: &Path,
    source: &Path,
    entry: &DirEntry,
    found_links: &mut Vec<Link>,
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
    if file_type.is_symlink() {
        found_links.push(Link { rel, path });
        return Ok(());
    }
    if let Some(kind) = special::special_kind(file_type) {
        return Err(special::refuse(source, &rel, kind));
    }
    // `lstat`: a regular file, as the walk saw it (nothing is opened here).
    let metadata = std::fs::symlink_metadata(&path).map_err(|e| Error::io("read", &path, e))?;
    if let Some(kind) = special::special_kind(metadata.file_type()) {
        return Err(special::refuse(source, &rel, kind));
    }
    add_file(walked, rel, path, &metadata);
    Ok(())
}

/// Put the regular file `target` into the tree as `rel` (a link's target under the link's
/// name), with its executable bit and a warning when it is large.
pub(super) fn add_file(
    walked: &mut Walked,
    rel: String,
    target: PathBuf,
    metadata: &std::fs::Metadata,
) {
    if is_executable(metadata) {
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
