//! [`Scaffold::write_to`]: the Space tree on disk, written into a private staging folder and
//! renamed into place.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::field::{Command, Field, Phrase};
use crate::temp::TempFolder;

use super::{MARKER_FILE, Scaffold};

impl Scaffold {
    /// Write the tree to `dir`, atomically: the files are written into a temporary folder
    /// beside `dir` (mode `0700` while it is written), which is then renamed to `dir`.
    ///
    /// `dir` may be missing, an empty folder, or a folder written by an earlier `write_to`
    /// (recognised by the marker file it leaves, `.hf-deploy-scaffold`); that folder is replaced
    /// as a whole. Any other non-empty folder is refused, so a scaffold never overwrites the
    /// user's work. `dir` may not be the source folder, lie inside it or hold it: the next
    /// scaffold of that source would copy the output into itself, and a deploy of it would push
    /// the copy.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] ([`Field::Out`]) when `dir` is a file, a foreign non-empty folder,
    /// or inside the source (or the source inside it); [`Error::Io`] when writing fails (the
    /// temporary folder is removed then).
    pub fn write_to(&self, dir: &Path) -> Result<()> {
        self.refuse_the_source(dir)?;
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let existing = existing_target(dir)?;
        std::fs::create_dir_all(&parent).map_err(|e| Error::io("create folder", &parent, e))?;
        let staging = TempFolder::new_in(".hf-deploy-scaffold-", &parent)
            .map_err(|e| Error::io("create a temporary folder in", &parent, e))?;
        self.write_tree(staging.path())?;
        let marker = staging.path().join(MARKER_FILE);
        std::fs::write(
            &marker,
            "Written by hf-deploy when it scaffolded this folder; the next scaffold into this folder replaces it.\n",
        )
        .map_err(|e| Error::io("write", &marker, e))?;
        open_up(staging.path())?;

        match existing {
            Existing::None => {}
            Existing::Empty => {
                std::fs::remove_dir(dir).map_err(|e| Error::io("remove folder", dir, e))?;
            }
            Existing::Ours => {
                let old = TempFolder::new_in(".hf-deploy-scaffold-old-", &parent)
                    .map_err(|e| Error::io("create a temporary folder in", &parent, e))?;
                let old_path = old.path().join("previous");
                std::fs::rename(dir, &old_path).map_err(|e| Error::io("move aside", dir, e))?;
                // `old` (and the previous scaffold inside it) is removed when it drops; on a
                // failure the previous scaffold is put back and the new one dropped.
                return staging.rename_to(dir).map_err(|e| {
                    let _ = std::fs::rename(&old_path, dir);
                    Error::io("rename the new scaffold to", dir, e)
                });
            }
        }
        staging
            .rename_to(dir)
            .map_err(|e| Error::io("rename the new scaffold to", dir, e))
    }

    /// Refuse a `dir` that is the source folder, lies inside it or holds it.
    fn refuse_the_source(&self, dir: &Path) -> Result<()> {
        let Some(out) = resolve(dir) else {
            return Ok(());
        };
        let source = &self.source_root;
        let relation = if out == *source {
            "is the source folder"
        } else if out.starts_with(source) {
            "is inside the source folder"
        } else if source.starts_with(&out) {
            "holds the source folder"
        } else {
            return Ok(());
        };
        Err(Error::invalid_input_hint(
            Field::Out,
            format!(
                "`{}` {relation} `{}`: the next scaffold of that folder would copy the output into itself, and a deploy of it would push the copy",
                dir.display(),
                source.display()
            ),
            "write the scaffold outside the source folder, e.g. in a folder beside it",
        ))
    }

    /// Every file of the tree, under `staging`.
    fn write_tree(&self, staging: &Path) -> Result<()> {
        for (rel, content) in &self.files {
            let path = staging.join(rel);
            if let Some(folder) = Path::new(rel).parent() {
                make_folders(staging, folder)?;
            }
            // Streamed, so that a large source file is never held whole.
            let mut reader = content.open()?;
            let mut file =
                std::fs::File::create(&path).map_err(|e| Error::io("write", &path, e))?;
            let copied =
                std::io::copy(&mut reader, &mut file).map_err(|e| Error::io("write", &path, e))?;
            if let Some(source) = content.source_path() {
                crate::content::check_size(source, content.len(), copied)?;
            }
            #[cfg(unix)]
            if self.executable.contains(rel) {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                    .map_err(|e| Error::io("make executable", &path, e))?;
            }
        }
        Ok(())
    }
}

/// What `dir` is before the scaffold is written to it.
enum Existing {
    /// Nothing: the staging folder is renamed to it.
    None,
    /// An empty folder: removed, then replaced.
    Empty,
    /// A folder an earlier scaffold wrote: moved aside, replaced, then removed.
    Ours,
}

fn existing_target(dir: &Path) -> Result<Existing> {
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => {
            let mut entries =
                std::fs::read_dir(dir).map_err(|e| Error::io("read folder", dir, e))?;
            if entries.next().is_none() {
                Ok(Existing::Empty)
            } else if dir.join(MARKER_FILE).is_file() {
                Ok(Existing::Ours)
            } else {
                Err(Error::invalid_input_hint(
                    Field::Out,
                    Phrase::new(format!(
                        "`{}` is a folder that is not empty and was not written by ",
                        dir.display()
                    ))
                    .command(Command::Scaffold),
                    "choose a new or empty folder",
                ))
            }
        }
        Ok(_) => Err(Error::invalid_input(
            Field::Out,
            format!("`{}` exists and is not a folder", dir.display()),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Existing::None),
        Err(e) => Err(Error::io("inspect", dir, e)),
    }
}

/// Make `folder` (relative) under `base`, one level at a time: unlike `create_dir_all`, never
/// makes `base` again should it be removed meanwhile (the process is ending).
fn make_folders(base: &Path, folder: &Path) -> Result<()> {
    let mut path = base.to_path_buf();
    for component in folder.components() {
        path.push(component);
        match std::fs::create_dir(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir() => {}
            Err(e) => return Err(Error::io("create folder", &path, e)),
        }
    }
    Ok(())
}

/// Give the staging folder the mode a new folder gets here (the user's umask), before it
/// becomes the output: private only while it is written.
fn open_up(staging: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let probe = staging.join(".hf-deploy-mode");
        std::fs::create_dir(&probe).map_err(|e| Error::io("create folder", &probe, e))?;
        let mode = std::fs::metadata(&probe).map(|m| m.permissions());
        let _ = std::fs::remove_dir(&probe);
        let mode = mode.map_err(|e| Error::io("inspect", &probe, e))?;
        std::fs::set_permissions(staging, mode)
            .map_err(|e| Error::io("set the mode of", staging, e))?;
    }
    #[cfg(not(unix))]
    let _ = staging;
    Ok(())
}

/// `path` made absolute and canonical as far as it exists; the missing rest is appended with
/// `.` and `..` resolved as written (a missing folder cannot be a symbolic link). `None` when
/// not even the current folder resolves.
fn resolve(path: &Path) -> Option<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let components: Vec<Component<'_>> = absolute.components().collect();
    for split in (1..=components.len()).rev() {
        let existing: PathBuf = components[..split].iter().collect();
        let Ok(mut resolved) = std::fs::canonicalize(&existing) else {
            continue;
        };
        for component in &components[split..] {
            match component {
                Component::CurDir => {}
                Component::ParentDir => {
                    resolved.pop();
                }
                other => resolved.push(other),
            }
        }
        return Some(resolved);
    }
    None
}
