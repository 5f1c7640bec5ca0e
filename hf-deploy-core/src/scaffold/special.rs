//! Files the scaffold never opens: named pipes (FIFOs), sockets and device files.
//!
//! Opening a FIFO waits for a writer that may never come; a device may never end (`/dev/zero`).
//! So every file's type is read (from the walk's entry, or `stat`, which opens nothing) before
//! it is read, and such a file is refused, naming it and its kind. The ignore files the walk
//! itself reads (`.gitignore`, `.ignore`, `.git/info/exclude`, in the source, its sub-folders and
//! the folders above it) are checked the same way before the walk reads them.

use std::fs::FileType;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::field::{Field, Phrase};

/// What a file that is neither a regular file, a folder nor a symbolic link is, in words;
/// `None` for those three.
pub(super) fn special_kind(file_type: FileType) -> Option<&'static str> {
    if file_type.is_file() || file_type.is_dir() || file_type.is_symlink() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a named pipe (FIFO)");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
        if file_type.is_block_device() {
            return Some("a block device");
        }
        if file_type.is_char_device() {
            return Some("a character device");
        }
    }
    Some("neither a regular file nor a folder")
}

/// The refusal of the file `shown` (its path in the source), which is `kind`.
pub(super) fn refuse(source: &Path, shown: &str, kind: &str) -> Error {
    Error::InvalidSource {
        path: source.to_path_buf(),
        reason: format!(
            "`{shown}` is {kind}, not a regular file: hf-deploy never reads one (it could block for good or never end)"
        ),
        hint: Some(
            Phrase::new("remove it, or leave it out with ")
                .field(Field::Exclude)
                .text(" or `.gitignore`"),
        ),
    }
}

/// The refusal of the symbolic link `link`, which leads to `target`, which is `kind`.
pub(super) fn refuse_link(source: &Path, link: &str, target: &str, kind: &str) -> Error {
    Error::InvalidSource {
        path: source.to_path_buf(),
        reason: format!(
            "symbolic link `{link}` points to `{target}`, which is {kind}, not a regular file: hf-deploy never reads one (it could block for good or never end)"
        ),
        hint: Some(
            Phrase::new("remove the link, or leave it out with ")
                .field(Field::Exclude)
                .text(" or `.gitignore`"),
        ),
    }
}

/// Check the ignore files of `root` and of every folder above it, which the walk reads before
/// it starts.
pub(super) fn check_ignore_files_above(root: &Path, source: &Path) -> Result<()> {
    for dir in root.ancestors() {
        check_ignore_files(root, source, dir)?;
    }
    Ok(())
}

/// Check the files the walk reads in `dir` before it lists it: `.gitignore`, `.ignore`, and the
/// repository's `info/exclude` (through `.git`, a folder or a `gitdir:` file): each must be a
/// regular file (or missing; a folder fails to read and is passed over by the walk).
pub(super) fn check_ignore_files(root: &Path, source: &Path, dir: &Path) -> Result<()> {
    for name in [".gitignore", ".ignore"] {
        readable(root, source, &dir.join(name))?;
    }
    let git = dir.join(".git");
    let Ok(meta) = std::fs::metadata(&git) else {
        return Ok(());
    };
    if meta.is_dir() {
        return readable(root, source, &git.join("info/exclude"));
    }
    if !meta.is_file() {
        // The walk reads a `.git` file only; through anything else `info/exclude` fails to open.
        return Ok(());
    }
    // A `.git` file (a worktree, a submodule): `gitdir: <folder>`, whose `commondir` file names
    // the repository that holds `info/exclude`.
    let Some(line) = first_line(&git) else {
        return Ok(());
    };
    let Some(git_dir) = line.strip_prefix("gitdir: ").map(PathBuf::from) else {
        return Ok(());
    };
    let commondir = git_dir.join("commondir");
    if std::fs::metadata(&commondir).is_err() {
        return Ok(());
    }
    readable(root, source, &commondir)?;
    let Some(common) = first_line(&commondir) else {
        return Ok(());
    };
    let common = if common.starts_with('.') {
        git_dir.join(common)
    } else {
        PathBuf::from(common)
    };
    readable(root, source, &common.join("info/exclude"))
}

/// `path` is missing, a regular file or a folder (links followed); anything else is refused.
fn readable(root: &Path, source: &Path, path: &Path) -> Result<()> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    match special_kind(meta.file_type()) {
        None => Ok(()),
        Some(kind) => {
            let shown = match path.strip_prefix(root) {
                Ok(rel) => rel.display().to_string(),
                Err(_) => path.display().to_string(),
            };
            Err(Error::InvalidSource {
                path: source.to_path_buf(),
                reason: format!(
                    "`{shown}` is {kind}, not a regular file: the scaffold reads the ignore files (`.gitignore`, `.ignore`, `.git/info/exclude`) and never opens anything else"
                ),
                hint: Some("replace it with a regular file, or remove it".into()),
            })
        }
    }
}

/// The first line of a regular file (at most 4 KiB of it), as the walk reads it.
fn first_line(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let mut line = String::new();
    std::io::BufReader::new(file.take(4096))
        .read_line(&mut line)
        .ok()?;
    Some(line.trim_end_matches(['\n', '\r']).to_string())
}
