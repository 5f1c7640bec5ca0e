//! Symbolic links in the source, judged by where they lead.
//!
//! A link is resolved (every link on the way, within the source) once the walk is done, and its
//! target must pass the rules a file at the target's path passes: the target goes into the Space
//! only when the walk took that very file (so never a file under `.git/`, one the ignore files or
//! the excludes leave out, nor a `.env*` file); otherwise the link is left out, with the reason.
//! A link that leaves the source, points to nothing or into a loop is an error; one to a folder
//! is left out (not followed); one to a FIFO, socket or device is refused.
//!
//! A link that passes goes into the Space as a regular file with its target's content (and
//! executable bit), not as a link: the Space build copies the repository into the image with
//! `COPY`, and a link whose target is not part of the Space (or lies elsewhere in the image)
//! would dangle there, while a copy always works; git stores equal contents once, so a link to a
//! file that is itself in the Space costs no second upload.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

use super::special;
use super::walk::{ENV_REASON, Walked, add_file, is_env_name, rel_path};

/// The most links a chain may go through (Linux's limit for a path).
const MAX_LINKS: usize = 40;

/// A symbolic link the walk met.
pub(super) struct Link {
    /// Its path in the source, with `/`.
    pub(super) rel: String,
    /// Its path on disk.
    pub(super) path: PathBuf,
}

/// What becomes of one link.
enum Verdict {
    /// Into the Space with the content of this file (canonical, inside the source).
    Take(PathBuf, std::fs::Metadata),
    /// Left out: the path to list (folders end in `/`) and why.
    Skip(String, String),
}

/// Judge every link the walk met: add the ones that pass to `walked`, note the others in
/// `skipped`. `skipped` holds what the walk left out and why (folders end in `/`).
pub(super) fn add_links(
    root: &Path,
    source: &Path,
    links: Vec<Link>,
    skipped: &mut BTreeMap<String, String>,
    walked: &mut Walked,
) -> Result<()> {
    for link in links {
        match judge(root, source, &link, skipped, walked)? {
            Verdict::Take(target, metadata) => add_file(walked, link.rel, target, &metadata),
            Verdict::Skip(shown, reason) => {
                skipped.insert(shown, reason);
            }
        }
    }
    Ok(())
}

fn judge(
    root: &Path,
    source: &Path,
    link: &Link,
    skipped: &BTreeMap<String, String>,
    walked: &Walked,
) -> Result<Verdict> {
    let rel = &link.rel;
    check_chain(root, source, link)?;
    let resolved = std::fs::canonicalize(&link.path).map_err(|e| Error::InvalidSource {
        path: source.to_path_buf(),
        reason: format!("symbolic link `{rel}` points to nothing ({e})"),
        hint: Some("remove the link or exclude it".into()),
    })?;
    if !resolved.starts_with(root) {
        return Err(Error::InvalidSource {
            path: source.to_path_buf(),
            reason: format!("symbolic link `{rel}` points outside the backend folder"),
            hint: Some("copy the file into the backend folder, or exclude the link".into()),
        });
    }
    let metadata = std::fs::metadata(&resolved).map_err(|e| Error::io("inspect", &resolved, e))?;
    if metadata.is_dir() {
        return Ok(Verdict::Skip(
            format!("{rel}/"),
            "symbolic link to a folder (not followed)".into(),
        ));
    }
    let target = rel_path(root, &resolved).ok_or_else(|| Error::InvalidSource {
        path: source.to_path_buf(),
        reason: format!(
            "symbolic link `{rel}` points to `{}`, whose name is not UTF-8",
            resolved.display()
        ),
        hint: Some("rename it or exclude the link".into()),
    })?;
    if let Some(kind) = special::special_kind(metadata.file_type()) {
        return Err(special::refuse_link(source, rel, &target, kind));
    }
    let name = target.rsplit('/').next().unwrap_or(&target);
    if is_env_name(name) {
        return Ok(Verdict::Skip(rel.clone(), ENV_REASON.into()));
    }
    if walked.files.contains_key(&target) {
        return Ok(Verdict::Take(resolved, metadata));
    }
    let why = left_out(&target, skipped).map_or_else(
        || {
            "the ignore files (`.gitignore`, `.ignore`, `.git/info/exclude`) leave it out"
                .to_string()
        },
        |reason| format!("it is left out: {reason}"),
    );
    Ok(Verdict::Skip(
        rel.clone(),
        format!("symbolic link to `{target}`, which is not deployed ({why})"),
    ))
}

/// Why the walk left `path` out, when it said so: the reason noted for it or for a folder
/// holding it.
fn left_out<'a>(path: &str, skipped: &'a BTreeMap<String, String>) -> Option<&'a str> {
    if let Some(reason) = skipped.get(path) {
        return Some(reason);
    }
    let mut end = path.len();
    while let Some(slash) = path[..end].rfind('/') {
        if let Some(reason) = skipped.get(&path[..=slash]) {
            return Some(reason);
        }
        end = slash;
    }
    None
}

/// Follow the link's chain one link at a time: an error when it comes back to a link it passed
/// (a loop) or goes through more than [`MAX_LINKS`].
fn check_chain(root: &Path, source: &Path, link: &Link) -> Result<()> {
    let mut chain = vec![link.path.clone()];
    let mut current = link.path.clone();
    loop {
        let is_link = std::fs::symlink_metadata(&current).is_ok_and(|m| m.file_type().is_symlink());
        let Some(target) = is_link.then(|| std::fs::read_link(&current).ok()).flatten() else {
            return Ok(());
        };
        let next = normalize(&current.parent().unwrap_or(root).join(target));
        let looped = chain.contains(&next);
        chain.push(next.clone());
        if looped || chain.len() > MAX_LINKS {
            let shown: Vec<String> = chain
                .iter()
                .take(8)
                .map(|p| match rel_path(root, p) {
                    Some(rel) if p.starts_with(root) => format!("`{rel}`"),
                    _ => format!("`{}`", p.display()),
                })
                .collect();
            let more = if chain.len() > 8 { " -> ..." } else { "" };
            let what = if looped {
                "leads into a loop of symbolic links"
            } else {
                "goes through too many symbolic links"
            };
            return Err(Error::InvalidSource {
                path: source.to_path_buf(),
                reason: format!(
                    "symbolic link `{}` {what} ({}{more})",
                    link.rel,
                    shown.join(" -> ")
                ),
                hint: Some("point the link at a file, or remove it or exclude it".into()),
            });
        }
        current = next;
    }
}

/// `.` and `..` resolved as written.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn left_out_finds_the_reason_of_the_path_or_a_folder_above() {
        let skipped: BTreeMap<String, String> = [
            (
                ".git/".to_string(),
                "excluded by default (`.git/`)".to_string(),
            ),
            (
                "a/b.txt".to_string(),
                "excluded by pattern `b.txt`".to_string(),
            ),
        ]
        .into();
        assert_eq!(
            left_out(".git/config", &skipped),
            Some("excluded by default (`.git/`)")
        );
        assert_eq!(left_out("x/.git/y/z", &skipped), None, "no `x/.git/` noted");
        assert_eq!(
            left_out("a/b.txt", &skipped),
            Some("excluded by pattern `b.txt`")
        );
        assert_eq!(left_out("a/c.txt", &skipped), None);
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
    }
}
