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

/// Walk `root` (canonical) and list every file that goes into the Space (contents are read
/// later, when needed). `source` is the
/// path as the user gave it, for messages.
pub(super) fn walk(root: &Path, source: &Path, user_excludes: &[String]) -> Result<Walked> {
    let defaults = Arc::new(matcher(root, DEFAULT_EXCLUDES)?);
    let user_patterns: Vec<&str> = user_excludes.iter().map(String::as_str).collect();
    let user = Arc::new(matcher(root, &user_patterns)?);
    let skipped: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();

    let filter = {
        let root = root.to_path_buf();
        let skipped = Arc::clone(&skipped);
        move |entry: &DirEntry| -> bool {
            if entry.depth() == 0 {
                return true;
            }
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            let Some(rel) = rel_path(&root, entry.path()) else {
                return true;
            };
            let shown = if is_dir {
                format!("{rel}/")
            } else {
                rel.clone()
            };
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
        }
    };

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
        .filter_entry(filter)
        .build();

    let mut files = BTreeMap::new();

    let mut executable = BTreeSet::new();
    let mut warnings = Vec::new();
    for entry in walker {
        let entry = entry.map_err(walk_error(root))?;
        if entry.depth() == 0 {
            continue;
        }
        let path = entry.path().to_path_buf();
        let Some(rel) = rel_path(root, &path) else {
            return Err(Error::InvalidSource {
                path: source.to_path_buf(),
                reason: format!("`{}` has a name that is not UTF-8", path.display()),
                hint: Some("rename it or exclude it".into()),
            });
        };
        let Some(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            continue;
        }
        let mut target = path.clone();
        if file_type.is_symlink() {
            let resolved = std::fs::canonicalize(&path).map_err(|_| Error::InvalidSource {
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
                skipped
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(
                        format!("{rel}/"),
                        "symbolic link to a folder (not followed)".into(),
                    );
                continue;
            }
            let target_name = resolved
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            if target_name.as_deref().is_some_and(is_env_name) {
                skipped
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(rel, ENV_REASON.into());
                continue;
            }
            target = resolved;
        }
        let metadata = std::fs::metadata(&target).map_err(|e| Error::io("read", &target, e))?;
        if is_executable(&metadata) {
            executable.insert(rel.clone());
        }
        let size = metadata.len();
        if size > LFS_THRESHOLD {
            warnings.push(format!(
                "`{rel}` is larger than 10 MiB: `hf-deploy deploy` uploads it with Git LFS, but a plain `git push` of the scaffold needs Git LFS for it (or exclude it)"
            ));
        }
        files.insert(rel, FileContent::Source { path: target, size });
    }

    // `.env*` files that `.gitignore` already hides are reported too, so that the user sees
    // that they were considered and left out.
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
    let mut skipped = Arc::try_unwrap(skipped)
        .map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner))
        .unwrap_or_else(|arc| arc.lock().unwrap_or_else(PoisonError::into_inner).clone());
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

    Ok(Walked {
        files,
        executable,
        skipped: skipped
            .into_iter()
            .map(|(path, reason)| Skipped { path, reason })
            .collect(),
        warnings,
    })
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
