//! The commit API: `POST …/preupload/{rev}`, `POST …/commit/{rev}` (NDJSON) and
//! `GET …/xet-write-token/{rev}` (Xet is not emulated).
// The error type is the HTTP answer itself, built once per request: boxing it buys nothing.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::common::{H, Res, bad_request, flatten, ok, parse_json, writable};

use crate::git::{self, Change, CommitError};
use crate::hub::Hub;
use crate::util::{self, hub_error};

// ---- request bodies ----------------------------------------------------------------------------

/// `POST …/preupload/{rev}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreuploadBody {
    #[serde(default)]
    files: Vec<PreuploadFile>,
    git_attributes: Option<String>,
}

/// One file of a preupload request.
#[derive(Deserialize)]
struct PreuploadFile {
    path: Option<String>,
    size: Option<u64>,
    /// The first bytes of the file, base64.
    sample: Option<String>,
}

/// One NDJSON line of a commit: `{"key": …, "value": {…}}`; `value` is read by [`value_of`].
#[derive(Deserialize)]
struct CommitLine {
    key: Option<String>,
    #[serde(default)]
    value: Value,
}

/// `value` of the `header` line.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommitHeader {
    summary: Option<String>,
    description: Option<String>,
    parent_commit: Option<String>,
}

/// `value` of a `file` line: the content inline.
#[derive(Deserialize)]
struct FileOp {
    path: Option<String>,
    content: Option<String>,
    encoding: Option<String>,
}

/// `value` of an `lfsFile` line: an object uploaded through the LFS batch API.
#[derive(Deserialize)]
struct LfsFileOp {
    path: Option<String>,
    oid: Option<String>,
    size: Option<u64>,
}

/// `value` of a `deletedFile` or `deletedFolder` line.
#[derive(Deserialize)]
struct PathOp {
    path: Option<String>,
}

/// The typed `value` of a commit line whose `key` said what it is (a missing value reads as `{}`).
fn value_of<T: DeserializeOwned>(key: &str, value: Value) -> Result<T, Response> {
    let value = if value.is_null() { json!({}) } else { value };
    serde_json::from_value(value)
        .map_err(|e| bad_request(&format!("Invalid NDJSON line (`{key}`): {e}")))
}

// ---- shared checks -----------------------------------------------------------------------------

/// `GET …/xet-write-token/{rev}`: Xet is not emulated; say how to avoid it.
pub(crate) async fn xet_not_emulated() -> Response {
    hub_error(
        StatusCode::NOT_IMPLEMENTED,
        None,
        "The Hub stand-in does not emulate Xet storage: set HF_HUB_DISABLE_XET=1 so that the client uploads through LFS",
    )
}

fn resolve_rev(rev: &str) -> Result<&str, Response> {
    if rev == "main" || rev == "refs/heads/main" || rev == "HEAD" {
        Ok("main")
    } else {
        Err(hub_error(
            StatusCode::NOT_FOUND,
            Some("RevisionNotFound"),
            &format!("Invalid rev id: {rev} (the Hub stand-in only has the `main` branch)"),
        ))
    }
}

fn clean_path(p: Option<&str>) -> Result<String, Response> {
    let mut p = p.unwrap_or("");
    loop {
        if let Some(r) = p.strip_prefix('/') {
            p = r;
        } else if let Some(r) = p.strip_prefix("./") {
            p = r;
        } else {
            break;
        }
    }
    let bad = p.is_empty()
        || p.split('/')
            .any(|s| s.is_empty() || s == "." || s == ".." || s == ".git");
    if bad {
        return Err(bad_request(&format!("Invalid path in repo: `{p}`")));
    }
    Ok(p.to_owned())
}

// ---- preupload ---------------------------------------------------------------------------------

pub(crate) async fn preupload(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name, rev)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    flatten(
        async {
            let space = writable(&hub, &headers, &ns, &name)?;
            let rev = resolve_rev(&rev)?;
            let req: PreuploadBody = parse_json(&body)?;
            let head = git::rev_parse(&hub, &space.repo_dir, rev).await;
            let (patterns, existing) = match &head {
                Some(h) => {
                    let ga = git::read_file(&hub, &space.repo_dir, h, ".gitattributes").await.unwrap_or_default();
                    let entries = git::ls_tree(&hub, &space.repo_dir, h).await.unwrap_or_default();
                    (util::lfs_patterns(&String::from_utf8_lossy(&ga)), entries)
                }
                None => (Vec::new(), Vec::new()),
            };
            let mut extra = req.git_attributes.as_deref().map(util::lfs_patterns).unwrap_or_default();
            extra.extend(patterns);
            let mut files = Vec::new();
            for f in req.files {
                let path = clean_path(f.path.as_deref())?;
                let size = f.size.unwrap_or(0);
                let sample = f
                    .sample
                    .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                    .unwrap_or_default();
                let lfs = size > 0
                    && (extra.iter().any(|r| r.is_match(&path)) || size > util::MAX_REGULAR_FILE || util::looks_binary(&sample));
                let mut o = json!({"path": path, "uploadMode": if lfs { "lfs" } else { "regular" }, "shouldIgnore": false});
                if let Some(e) = existing.iter().find(|e| e.path == path) {
                    // The remote oid the client compares with: the git blob id for a regular file,
                    // the sha256 of the content for a file stored as an LFS pointer
                    // (huggingface_hub skips an LFS upload when the two match).
                    let pointer = match (&head, lfs) {
                        (Some(h), true) => git::read_file(&hub, &space.repo_dir, h, &path)
                            .await
                            .and_then(|data| util::parse_lfs_pointer(&data)),
                        _ => None,
                    };
                    o["oid"] = match pointer {
                        Some((sha256, _)) => json!(sha256),
                        None => json!(e.blob),
                    };
                }
                files.push(o);
            }
            let mut out = json!({"files": files});
            if let Some(h) = head {
                out["commitOid"] = json!(h);
            }
            ok(out)
        }
        .await,
    )
}

// ---- commit ------------------------------------------------------------------------------------

pub(crate) async fn commit(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name, rev)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    flatten(commit_inner(&hub, &headers, &ns, &name, &rev, &body).await)
}

/// A parsed commit payload: its header and its changes, with the files the Hub's size and
/// binary rules refuse (`(path, ref)`).
#[derive(Default)]
struct CommitPayload {
    summary: Option<String>,
    description: String,
    parent_commit: Option<String>,
    changes: Vec<Change>,
    too_big: Vec<(String, String)>,
    binary: Vec<(String, String)>,
}

impl CommitPayload {
    /// Reads the NDJSON lines; the first bad line is the answer.
    fn parse(hub: &Hub, rev: &str, body: &[u8]) -> Result<CommitPayload, Response> {
        let mut payload = CommitPayload::default();
        let text = String::from_utf8_lossy(body);
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let CommitLine { key, value } = serde_json::from_str(line)
                .map_err(|e| bad_request(&format!("Invalid NDJSON line: {e}")))?;
            payload.add_line(hub, rev, &key.unwrap_or_default(), value)?;
        }
        Ok(payload)
    }

    fn add_line(&mut self, hub: &Hub, rev: &str, key: &str, value: Value) -> Result<(), Response> {
        match key {
            "header" => {
                let h: CommitHeader = value_of(key, value)?;
                self.summary = h.summary;
                self.description = h.description.unwrap_or_default();
                self.parent_commit = h.parent_commit;
            }
            "file" => self.add_file(rev, value_of(key, value)?)?,
            "lfsFile" => {
                let change = lfs_change(hub, value_of(key, value)?)?;
                self.changes.push(change);
            }
            "deletedFile" => {
                let op: PathOp = value_of(key, value)?;
                let path = clean_path(op.path.as_deref())?;
                self.changes.push(Change::Delete { path });
            }
            "deletedFolder" => {
                let op: PathOp = value_of(key, value)?;
                let path = clean_path(op.path.as_deref())?;
                self.changes.push(Change::DeleteFolder { path });
            }
            other => {
                return Err(bad_request(&format!(
                    "Unknown key `{other}` in the commit payload"
                )));
            }
        }
        Ok(())
    }

    /// A `file` line: its content decoded, noted when too big or binary.
    fn add_file(&mut self, rev: &str, f: FileOp) -> Result<(), Response> {
        let path = clean_path(f.path.as_deref())?;
        let content = f.content.unwrap_or_default();
        let data = match f.encoding.as_deref().unwrap_or("utf-8") {
            "base64" => base64::engine::general_purpose::STANDARD
                .decode(&content)
                .map_err(|_| bad_request(&format!("`{path}`: content is not valid base64")))?,
            _ => content.into_bytes(),
        };
        if data.len() as u64 > util::MAX_REGULAR_FILE {
            self.too_big
                .push((path.clone(), format!("refs/heads/{rev}")));
        } else if data.len() as u64 >= util::MAX_BINARY_FILE && util::looks_binary(&data) {
            self.binary
                .push((path.clone(), format!("refs/heads/{rev}")));
        }
        self.changes.push(Change::Put { path, data });
        Ok(())
    }

    /// The summary, once the payload passes the Hub's rules (a summary, a change, no file too
    /// big or binary).
    fn check(&mut self) -> Result<String, Response> {
        let Some(summary) = self.summary.take().filter(|s| !s.trim().is_empty()) else {
            return Err(bad_request(
                "The commit payload needs a `header` line with a non-empty `summary`",
            ));
        };
        if self.changes.is_empty() {
            return Err(bad_request(
                "Add a line with the key `lfsFile`, `file` or `deletedFile`",
            ));
        }
        if !self.too_big.is_empty() {
            return Err(bad_request(&format!(
                "Bad request for commit endpoint: {}",
                util::large_files_message(&self.too_big)
            )));
        }
        if !self.binary.is_empty() {
            return Err(bad_request(&format!(
                "Bad request for commit endpoint: {}",
                util::binary_files_message(&self.binary)
            )));
        }
        Ok(summary)
    }
}

/// An `lfsFile` line: the pointer to an object uploaded through the LFS batch API.
fn lfs_change(hub: &Hub, f: LfsFileOp) -> Result<Change, Response> {
    let path = clean_path(f.path.as_deref())?;
    let oid = f.oid.unwrap_or_default().to_ascii_lowercase();
    let size = f.size;
    if !hub.lfs_has(&oid, size) {
        return Err(bad_request(&format!(
            "LFS file `{path}` (oid {oid}) was not uploaded: upload it through the LFS batch API first"
        )));
    }
    let size = size.or_else(|| {
        hub.lfs_object_path(&oid)
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
    });
    Ok(Change::Put {
        path,
        data: util::lfs_pointer(&oid, size.unwrap_or(0)).into_bytes(),
    })
}

/// The answer to a commit that git refused.
fn commit_error(e: CommitError) -> Response {
    match e {
        CommitError::EntryNotFound(p) => hub_error(
            StatusCode::NOT_FOUND,
            Some("EntryNotFound"),
            &format!("A file with this name doesn't exist: {p}"),
        ),
        CommitError::ParentMismatch => hub_error(
            StatusCode::CONFLICT,
            None,
            "The branch moved during the commit; retry",
        ),
        CommitError::Git(m) => hub_error(StatusCode::INTERNAL_SERVER_ERROR, None, &m),
    }
}

async fn commit_inner(
    hub: &Arc<Hub>,
    headers: &HeaderMap,
    ns: &str,
    name: &str,
    rev: &str,
    body: &[u8],
) -> Res {
    let space = writable(hub, headers, ns, name)?;
    let rev = resolve_rev(rev)?;
    let mut payload = CommitPayload::parse(hub, rev, body)?;
    let summary = payload.check()?;
    let who = hub
        .caller(headers)?
        .map(|c| c.user)
        .unwrap_or_else(|| "system".to_owned());
    let _guard = hub.write_lock.lock().await;
    let head = git::rev_parse(hub, &space.repo_dir, rev).await;
    if let (Some(p), Some(h)) = (&payload.parent_commit, &head) {
        if !h.starts_with(&p.to_ascii_lowercase()) {
            return Err(hub_error(
                StatusCode::PRECONDITION_FAILED,
                None,
                "A commit has happened since. Please refresh and try again. (parentCommit is not the head of the branch)",
            ));
        }
    }
    let message = if payload.description.is_empty() {
        summary
    } else {
        format!("{summary}\n\n{}", payload.description)
    };
    let oid = git::commit_changes(
        hub,
        &space.repo_dir,
        head.as_deref(),
        &payload.changes,
        &message,
        &who,
    )
    .await
    .map_err(commit_error)?;
    drop(_guard);
    hub.new_revision(&space);
    ok(json!({
        "success": true,
        "commitOid": oid,
        "commitUrl": format!("{}/spaces/{}/commit/{oid}", hub.base_url(), space.id),
        "hookOutput": "",
    }))
}
