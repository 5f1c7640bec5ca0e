//! The commit a generation builds, on disk: the process runner runs it, the Docker runner
//! sends it to the engine as the build context.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::process::Command;

use crate::git;
use crate::hub::{Hub, Space};
use crate::util;

/// Writes the tree of commit `head` to a fresh directory of the work dir (`git archive`, LFS
/// pointers smudged with the stored objects) and removes the Space's older checkouts.
pub(super) async fn checkout(
    hub: &Hub,
    space: &Space,
    head: &str,
    generation: u64,
) -> Result<PathBuf, String> {
    let prefix = format!("{}--", space.subdomain());
    // Checkouts of older generations (their apps are stopped) are not needed any more.
    if let Ok(mut entries) = tokio::fs::read_dir(&hub.work_dir).await {
        while let Ok(Some(e)) = entries.next_entry().await {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = tokio::fs::remove_dir_all(e.path()).await;
            }
        }
    }
    let dir = hub.work_dir.join(format!(
        "{prefix}{}-{generation}",
        &head[..12.min(head.len())]
    ));
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let tar = git::git(
        hub,
        &space.repo_dir,
        &["archive", "--format=tar", head],
        None,
        &[],
    )
    .await?;
    let mut child = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    if let Some(mut w) = child.stdin.take() {
        use tokio::io::AsyncWriteExt;
        tokio::spawn(async move {
            let _ = w.write_all(&tar).await;
        });
    }
    let out = child.wait_with_output().await.map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "tar failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // Smudge LFS pointers whose objects are stored.
    for e in git::ls_tree(hub, &space.repo_dir, head)
        .await?
        .into_iter()
        .filter(|e| e.size < 1024)
    {
        let p = dir.join(&e.path);
        if let Ok(data) = tokio::fs::read(&p).await {
            if let Some((oid, _)) = util::parse_lfs_pointer(&data) {
                if let Some(obj) = hub.lfs_object_path(&oid).filter(|o| o.exists()) {
                    let _ = tokio::fs::copy(obj, &p).await;
                }
            }
        }
    }
    Ok(dir)
}
