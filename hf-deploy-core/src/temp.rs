//! The library's temporary folders: private (mode `0700`, only the user may enter them) and
//! removed on every exit.
//!
//! A deploy keeps its git objects in a temporary repository (the push) and a scaffold writes its
//! tree into a staging folder beside the target: both are made here, as a [`TempFolder`]. A
//! folder is removed when its `TempFolder` drops; a front end that ends the process on a signal
//! (where nothing drops) calls [`remove_temporary_folders`] first, which removes every folder
//! still there and refuses new ones from then on, so that a task still running cannot leave one
//! behind (it keeps removing them for a moment, should a task still writing make one again).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::wait;

/// After a removal of every folder: how often to look whether one came back, how many looks in a
/// row must find none, and how many looks at most.
const CHECK_EVERY: Duration = Duration::from_millis(5);
const QUIET_CHECKS: u32 = 4;
const MAX_CHECKS: u32 = 200;

/// The folders made and not yet removed, and whether the process is ending.
#[derive(Default)]
struct Live {
    /// Set by [`Registry::remove_all`]: no new folder from then on.
    closed: bool,
    paths: BTreeSet<PathBuf>,
}

/// A list of live folders: one for the process ([`PROCESS`]); tests make their own.
struct Registry(Mutex<Live>);

static PROCESS: Registry = Registry(Mutex::new(Live {
    closed: false,
    paths: BTreeSet::new(),
}));

impl Registry {
    fn live(&self) -> MutexGuard<'_, Live> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remove every folder on the list and refuse new ones.
    ///
    /// A task may still be writing into a folder (libgit2 making the push repository, say): a
    /// removal then fails half way, or the task makes the folder again. So the folders are
    /// removed again until each has stayed gone for [`QUIET_CHECKS`] checks in a row, at most
    /// [`MAX_CHECKS`] (a second in all).
    fn remove_all(&self) -> usize {
        let mut live = self.live();
        live.closed = true;
        let paths = std::mem::take(&mut live.paths);
        let remove = |paths: &BTreeSet<PathBuf>| {
            let mut found = false;
            for path in paths {
                if std::fs::symlink_metadata(path).is_ok() {
                    found = true;
                    let _ = std::fs::remove_dir_all(path);
                }
            }
            found
        };
        remove(&paths);
        let mut quiet = 0;
        for _ in 0..MAX_CHECKS {
            if quiet == QUIET_CHECKS {
                break;
            }
            wait::sleep_blocking(CHECK_EVERY);
            quiet = if remove(&paths) { 0 } else { quiet + 1 };
        }
        paths.len()
    }
}

/// A private temporary folder, removed when dropped (or by [`remove_temporary_folders`]).
pub(crate) struct TempFolder {
    /// `None` once renamed away ([`TempFolder::rename_to`]).
    dir: Option<tempfile::TempDir>,
    registry: &'static Registry,
}

impl std::fmt::Debug for TempFolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TempFolder").field(&self.path()).finish()
    }
}

impl TempFolder {
    /// A new folder `<prefix>XXXXXX` in the system's temporary folder, with mode `0700`.
    ///
    /// # Errors
    ///
    /// As [`TempFolder::new_in`].
    pub(crate) fn new(prefix: &str) -> std::io::Result<Self> {
        Self::new_in(prefix, &std::env::temp_dir())
    }

    /// A new folder `<prefix>XXXXXX` in `parent`, with mode `0700`.
    ///
    /// # Errors
    ///
    /// The folder could not be made, or [`remove_temporary_folders`] was called.
    pub(crate) fn new_in(prefix: &str, parent: &Path) -> std::io::Result<Self> {
        Self::listed_in(&PROCESS, prefix, parent)
    }

    fn listed_in(
        registry: &'static Registry,
        prefix: &str,
        parent: &Path,
    ) -> std::io::Result<Self> {
        // Made while the list is held, so that a removal of every folder cannot miss this one.
        let mut live = registry.live();
        if live.closed {
            return Err(std::io::Error::other(
                "the process is ending: no new temporary folder",
            ));
        }
        let mut builder = tempfile::Builder::new();
        builder.prefix(prefix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o700));
        }
        let dir = builder.tempdir_in(parent)?;
        live.paths.insert(dir.path().to_path_buf());
        Ok(TempFolder {
            dir: Some(dir),
            registry,
        })
    }

    /// Where the folder is.
    pub(crate) fn path(&self) -> &Path {
        match &self.dir {
            Some(dir) => dir.path(),
            None => Path::new(""),
        }
    }

    /// Rename the folder to `to`, which then is no longer temporary (nor removed). The rename
    /// happens while the list is held: a removal of every folder comes before it (the rename
    /// then fails) or after it (the folder is `to` by then and stays).
    ///
    /// # Errors
    ///
    /// The rename failed; the folder stays temporary (removed when this drops).
    pub(crate) fn rename_to(mut self, to: &Path) -> std::io::Result<()> {
        let mut live = self.registry.live();
        let Some(dir) = self.dir.take() else {
            return Err(std::io::Error::other("the temporary folder is gone"));
        };
        let renamed = std::fs::rename(dir.path(), to);
        if renamed.is_ok() {
            live.paths.remove(dir.path());
            // Already moved: nothing is left to remove at its old path.
            let _ = dir.keep();
        } else {
            self.dir = Some(dir);
        }
        // The list is let go before `self` drops (which takes it again).
        drop(live);
        renamed
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let mut live = self.registry.live();
            live.paths.remove(dir.path());
            // Removed while the list is held: a removal of every folder never races this one.
            drop(dir);
        }
    }
}

/// Remove every temporary folder the library made and has not removed yet, and refuse new ones
/// from then on (a push or a scaffold still running fails instead of making one).
///
/// For a front end about to end the process without unwinding (on SIGINT or SIGTERM): a deploy
/// cut short leaves no folder behind. Returns how many folders were removed.
pub fn remove_temporary_folders() -> usize {
    PROCESS.remove_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_private_removed_on_drop_renamed_away_and_all_removed_at_the_end() {
        // A list of its own: closing the process's would fail the other tests of this process.
        let registry: &'static Registry = Box::leak(Box::new(Registry(Mutex::default())));
        let new = |parent: &Path| TempFolder::listed_in(registry, "t-", parent);
        let parent = tempfile::tempdir().unwrap();
        let folder = new(parent.path()).unwrap();
        let path = folder.path().to_path_buf();
        assert!(path.is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "{mode:o}");
        }
        drop(folder);
        assert!(!path.exists());

        let moved = parent.path().join("moved");
        let folder = new(parent.path()).unwrap();
        std::fs::write(folder.path().join("f"), "x").unwrap();
        folder.rename_to(&moved).unwrap();
        assert!(moved.join("f").is_file());
        assert_eq!(registry.live().paths.len(), 0);

        // A failed rename keeps the folder temporary.
        let folder = new(parent.path()).unwrap();
        let kept = folder.path().to_path_buf();
        let occupied = parent.path().join("moved");
        assert!(folder.rename_to(&occupied.join("no/such/parent")).is_err());
        assert!(!kept.exists(), "dropped after the failed rename");

        let first = new(parent.path()).unwrap();
        let second = new(parent.path()).unwrap();
        std::fs::create_dir_all(second.path().join("a/b")).unwrap();
        let paths = [first.path().to_path_buf(), second.path().to_path_buf()];
        assert_eq!(registry.remove_all(), 2);
        assert!(paths.iter().all(|p| !p.exists()), "{paths:?}");
        assert!(new(parent.path()).is_err());
        // Dropping them afterwards is harmless.
        drop((first, second));
        assert!(moved.is_dir(), "a renamed folder is not temporary");
    }
}
