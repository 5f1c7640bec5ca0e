//! Bare repositories driven through the `git` CLI, and git smart HTTP through `git http-backend`.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::auth::Caller;
use crate::hub::{Hub, Space, can_read, can_write};

const ZERO_OID: &str = "0000000000000000000000000000000000000000";

/// The pre-receive hook installed in every bare repo: the Hub's push rules.
const PRE_RECEIVE: &str = r#"#!/bin/sh
# Installed by hf-hub-emulator: the Hugging Face Hub's push rules.
zero=0000000000000000000000000000000000000000
if [ "$HF_EMU_ROLE" != "write" ]; then
  while read old new ref; do echo "DENIED update $ref: forbidden" >&2; done
  exit 1
fi
found=$(mktemp) || exit 1
list=$(mktemp) || exit 1
trap 'rm -f "$found" "$list"' EXIT
# A fixed number of processes per push, not per blob: one listing of the new objects, one batch
# read of the blobs whose content matters (under 1 KiB: an LFS pointer? 1 MiB and more: binary?),
# perl (Debian's essential perl-base) for the checks. The rules are the Hub's: over 10 MiB is
# refused, an LFS pointer must name an uploaded object, a file of 1 MiB or more with a NUL byte
# in its first 8000 bytes is binary.
while read old new ref; do
  [ "$new" = "$zero" ] && continue
  if [ "$old" = "$zero" ]; then set -- "$new" --not --all; else set -- "$old..$new"; fi
  git rev-list --objects "$@" |
    git cat-file --batch-check='%(objecttype) %(objectsize) %(objectname) %(rest)' |
    perl -ne 'chomp; my ($t, $s, $sha, $p) = split / /, $_, 4; next unless $t eq "blob";
      if ($s > 10485760) { print "big $sha $p\n" } elsif ($s < 1024 || $s >= 1048576) { print "chk $sha $p\n" }' > "$list"
  REF="$ref" perl -ne 'chomp; my ($k, $sha, $p) = split / /, $_, 3; print "big  - $p (ref: $ENV{REF})\n" if $k eq "big"' "$list" >> "$found"
  perl -ne 'print "$1\n" if /^chk (\S+)/' "$list" | git cat-file --batch |
    REF="$ref" perl -e '
      open(my $l, "<", $ARGV[0]) or die; my %path;
      while (<$l>) { chomp; my ($k, $sha, $p) = split / /, $_, 3; $path{$sha} = $p if $k eq "chk" }
      while (my $h = <STDIN>) {
        my ($sha, $type, $size) = split / /, $h; read(STDIN, my $c, $size); read(STDIN, my $nl, 1);
        if ($size < 1024) {
          next unless $c =~ m{\Aversion https://git-lfs.github.com/spec/};
          my ($oid) = $c =~ /^oid sha256:([0-9a-fA-F]*)/m;
          my $dir = $ENV{HF_EMU_LFS_DIR} // "";
          print "lfs  - $path{$sha} (ref: $ENV{REF})\n" if $dir ne "" && !-f "$dir/$oid";
        } elsif (index(substr($c, 0, 8000), "\0") >= 0) {
          print "bin  - $path{$sha} (ref: $ENV{REF})\n";
        }
      }' "$list" >> "$found"
done
line=-------------------------------------------------------------------------
if grep -q '^big' "$found"; then
  echo "$line" >&2
  echo "Your push was rejected because it contains files larger than 10 MiB." >&2
  echo "Please use https://git-lfs.github.com/ to store large files." >&2
  echo "See also: https://hf.co/docs/hub/repositories-getting-started#terminal" >&2
  echo "" >&2
  echo "Offending files:" >&2
  sed -n 's/^big  /  /p' "$found" >&2
  echo "$line" >&2
  exit 1
fi
if grep -q '^bin' "$found"; then
  echo "$line" >&2
  echo "Your push was rejected because it contains binary files." >&2
  echo "Please use https://huggingface.co/docs/hub/xet to store binary files." >&2
  echo "Offending files:" >&2
  sed -n 's/^bin  /  /p' "$found" >&2
  echo "$line" >&2
  exit 1
fi
if grep -q '^lfs' "$found"; then
  echo "$line" >&2
  echo "Your push was rejected because an LFS pointer pointed to a file that does not exist." >&2
  echo "Upload the LFS objects first (git lfs push, or a client that supports LFS)." >&2
  echo "Offending files:" >&2
  sed -n 's/^lfs  /  /p' "$found" >&2
  echo "$line" >&2
  exit 1
fi
exit 0
"#;

fn base_command(hub: &Hub) -> Command {
    let mut cmd = Command::new("git");
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", &hub.data_dir)
        .env("XDG_CONFIG_HOME", hub.data_dir.join(".config"))
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .kill_on_drop(true);
    cmd
}

/// Runs `git --git-dir=<repo> <args>`; returns stdout or an error text (stderr).
pub(crate) async fn git(
    hub: &Hub,
    repo: &Path,
    args: &[&str],
    stdin: Option<&[u8]>,
    env: &[(&str, &str)],
) -> Result<Vec<u8>, String> {
    let mut cmd = base_command(hub);
    cmd.arg("--git-dir").arg(repo).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run git: {e}"))?;
    if let (Some(data), Some(mut w)) = (stdin, child.stdin.take()) {
        let data = data.to_vec();
        tokio::spawn(async move {
            let _ = w.write_all(&data).await;
        });
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| format!("git failed: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!(
            "git {} failed: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// `git init --bare` + config + hook. Every ref update is logged (`core.logAllRefUpdates`)
/// with its pusher: `git http-backend` makes `REMOTE_USER` the committer of the reflog entry,
/// so a push with a Space-scoped token reads `[OIDC]` there, as the Hub attributes it.
pub(crate) async fn init_repo(hub: &Hub, repo: &Path) -> Result<(), String> {
    let mut cmd = base_command(hub);
    cmd.args(["init", "--bare", "--quiet", "-b", "main"])
        .arg(repo)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let out = cmd
        .output()
        .await
        .map_err(|e| format!("cannot run git init: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let config = repo.join("config");
    let mut text = tokio::fs::read_to_string(&config)
        .await
        .map_err(|e| e.to_string())?;
    // `allowAnySHA1InWant`: a fetch may name any commit by its id (`want <sha>`), e.g. an older
    // deploy. UNCONFIRMED on the Hub; assumed because the Hub's git runs on Gitaly (huggingface.js
    // types a Space's `gitalyUid`), whose upload-pack sets it.
    text.push_str(
        "[http]\n\treceivepack = true\n\tuploadpack = true\n[receive]\n\tdenyNonFastForwards = true\n\tdenyDeletes = true\n\
         [uploadpack]\n\tallowFilter = true\n\tallowAnySHA1InWant = true\n\
         [core]\n\tlogAllRefUpdates = always\n",
    );
    tokio::fs::write(&config, text)
        .await
        .map_err(|e| e.to_string())?;
    let hook = repo.join("hooks").join("pre-receive");
    tokio::fs::create_dir_all(repo.join("hooks"))
        .await
        .map_err(|e| e.to_string())?;
    tokio::fs::write(&hook, PRE_RECEIVE)
        .await
        .map_err(|e| e.to_string())?;
    use std::os::unix::fs::PermissionsExt;
    tokio::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The commit `rev` points to, if any.
pub(crate) async fn rev_parse(hub: &Hub, repo: &Path, rev: &str) -> Option<String> {
    let spec = format!("{rev}^{{commit}}");
    let out = git(
        hub,
        repo,
        &["rev-parse", "--verify", "--quiet", &spec],
        None,
        &[],
    )
    .await
    .ok()?;
    let s = String::from_utf8_lossy(&out).trim().to_owned();
    (!s.is_empty()).then_some(s)
}

/// The content of `path` at `rev`.
pub(crate) async fn read_file(hub: &Hub, repo: &Path, rev: &str, path: &str) -> Option<Vec<u8>> {
    git(
        hub,
        repo,
        &["cat-file", "blob", &format!("{rev}:{path}")],
        None,
        &[],
    )
    .await
    .ok()
}

/// One commit of a history, as `git log` tells it.
pub(crate) struct LogEntry {
    pub id: String,
    pub author_name: String,
    pub author_email: String,
    /// Committer time, seconds since the epoch.
    pub time: i64,
    /// The raw message (title line, then the body).
    pub message: String,
}

/// How many commits `rev` has (its own and its ancestors).
pub(crate) async fn count_commits(hub: &Hub, repo: &Path, rev: &str) -> Result<u64, String> {
    let out = git(hub, repo, &["rev-list", "--count", rev], None, &[]).await?;
    String::from_utf8_lossy(&out)
        .trim()
        .parse()
        .map_err(|e| format!("git rev-list --count: {e}"))
}

/// `max` commits of `rev`'s history after the first `skip`, newest first.
pub(crate) async fn log(
    hub: &Hub,
    repo: &Path,
    rev: &str,
    skip: u64,
    max: u64,
) -> Result<Vec<LogEntry>, String> {
    let skip = format!("--skip={skip}");
    let max = format!("--max-count={max}");
    let out = git(
        hub,
        repo,
        &[
            "log",
            "-z",
            "--no-color",
            "--format=%H%x1f%an%x1f%ae%x1f%ct%x1f%B",
            &skip,
            &max,
            rev,
            "--",
        ],
        None,
        &[],
    )
    .await?;
    Ok(out
        .split(|b| *b == 0)
        .filter(|r| !r.is_empty())
        .filter_map(|r| {
            let text = String::from_utf8_lossy(r);
            let mut f = text.splitn(5, '\u{1f}');
            Some(LogEntry {
                id: f.next()?.trim().to_owned(),
                author_name: f.next()?.to_owned(),
                author_email: f.next()?.to_owned(),
                time: f.next()?.parse().ok()?,
                message: f.next().unwrap_or("").to_owned(),
            })
        })
        .collect())
}

/// One file of a tree.
pub(crate) struct TreeEntry {
    pub path: String,
    pub blob: String,
    pub size: u64,
}

/// All files at `rev` (recursive).
pub(crate) async fn ls_tree(hub: &Hub, repo: &Path, rev: &str) -> Result<Vec<TreeEntry>, String> {
    let out = git(hub, repo, &["ls-tree", "-r", "-l", "-z", rev], None, &[]).await?;
    let mut entries = Vec::new();
    for rec in out.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let rec = String::from_utf8_lossy(rec);
        let Some((meta, path)) = rec.split_once('\t') else {
            continue;
        };
        let parts: Vec<&str> = meta.split_whitespace().collect();
        if parts.len() < 4 || parts[1] != "blob" {
            continue;
        }
        entries.push(TreeEntry {
            path: path.to_owned(),
            blob: parts[2].to_owned(),
            size: parts[3].parse().unwrap_or(0),
        });
    }
    Ok(entries)
}

/// A change of an HTTP commit.
pub(crate) enum Change {
    Put { path: String, data: Vec<u8> },
    Delete { path: String },
    DeleteFolder { path: String },
}

/// Why a commit failed.
pub(crate) enum CommitError {
    ParentMismatch,
    EntryNotFound(String),
    Git(String),
}

/// Writes `changes` on top of `parent` (None = root commit) and moves `refs/heads/main`.
pub(crate) async fn commit_changes(
    hub: &Hub,
    repo: &Path,
    parent: Option<&str>,
    changes: &[Change],
    message: &str,
    author: &str,
) -> Result<String, CommitError> {
    let index = tempfile::Builder::new()
        .prefix("index-")
        .tempfile_in(&hub.work_dir)
        .map_err(|e| CommitError::Git(e.to_string()))?;
    let index_path = index.path().to_string_lossy().into_owned();
    // An empty file is not a valid index: let git create it.
    let _ = std::fs::remove_file(index.path());
    let env = [("GIT_INDEX_FILE", index_path.as_str())];
    if let Some(p) = parent {
        git(hub, repo, &["read-tree", p], None, &env)
            .await
            .map_err(CommitError::Git)?;
    }
    let listing = git(hub, repo, &["ls-files", "-z"], None, &env)
        .await
        .map_err(CommitError::Git)?;
    let existing: Vec<String> = listing
        .split(|b| *b == 0)
        .filter(|r| !r.is_empty())
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .collect();
    let mut info = String::new();
    for change in changes {
        match change {
            Change::Put { path, data } => {
                let out = git(
                    hub,
                    repo,
                    &["hash-object", "-w", "--stdin"],
                    Some(data),
                    &[],
                )
                .await
                .map_err(CommitError::Git)?;
                let sha = String::from_utf8_lossy(&out).trim().to_owned();
                info.push_str(&format!("100644 {sha}\t{path}\n"));
            }
            Change::Delete { path } => {
                if !existing.iter().any(|e| e == path) {
                    return Err(CommitError::EntryNotFound(path.clone()));
                }
                info.push_str(&format!("0 {ZERO_OID}\t{path}\n"));
            }
            Change::DeleteFolder { path } => {
                let prefix = format!("{}/", path.trim_end_matches('/'));
                for e in existing.iter().filter(|e| e.starts_with(&prefix)) {
                    info.push_str(&format!("0 {ZERO_OID}\t{e}\n"));
                }
            }
        }
    }
    if !info.is_empty() {
        git(
            hub,
            repo,
            &["update-index", "--index-info"],
            Some(info.as_bytes()),
            &env,
        )
        .await
        .map_err(CommitError::Git)?;
    }
    let tree = git(hub, repo, &["write-tree"], None, &env)
        .await
        .map_err(CommitError::Git)?;
    let tree = String::from_utf8_lossy(&tree).trim().to_owned();
    let email = format!("{author}@users.noreply.huggingface.co");
    let ident = [
        ("GIT_AUTHOR_NAME", author),
        ("GIT_AUTHOR_EMAIL", email.as_str()),
        ("GIT_COMMITTER_NAME", author),
        ("GIT_COMMITTER_EMAIL", email.as_str()),
    ];
    let mut args = vec!["commit-tree", tree.as_str(), "-m", message];
    if let Some(p) = parent {
        args.extend(["-p", p]);
    }
    let commit = git(hub, repo, &args, None, &ident)
        .await
        .map_err(CommitError::Git)?;
    let commit = String::from_utf8_lossy(&commit).trim().to_owned();
    let old = parent.unwrap_or(ZERO_OID);
    git(
        hub,
        repo,
        &["update-ref", "refs/heads/main", &commit, old],
        None,
        &[],
    )
    .await
    .map_err(|_| CommitError::ParentMismatch)?;
    Ok(commit)
}

/// `Authorization: Basic` challenge.
pub(crate) fn basic_challenge() -> Response {
    let mut resp = (StatusCode::UNAUTHORIZED, "Authentication required\n").into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"Authentication required\", charset=\"UTF-8\""),
    );
    resp
}

/// A git smart HTTP request, as `git http-backend` gets it.
pub(crate) struct GitRequest<'a> {
    /// The path after the repository (`info/refs`, `git-upload-pack`, `git-receive-pack`).
    pub rest: &'a str,
    pub method: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: Bytes,
}

impl GitRequest<'_> {
    fn is_push(&self) -> bool {
        self.rest == "git-receive-pack" || self.query.contains("service=git-receive-pack")
    }
}

/// Git smart HTTP through `git http-backend` (CGI). A push that moves `main` is announced as a
/// new revision ([`Hub::new_revision`]).
pub(crate) async fn smart_http(
    hub: Arc<Hub>,
    space: Arc<Space>,
    req: GitRequest<'_>,
    caller: Option<Caller>,
) -> Response {
    let is_push = req.is_push();
    let readable = can_read(&space.lock(), &space.ns, caller.as_ref());
    if (is_push || !readable) && caller.is_none() {
        return basic_challenge();
    }
    if !readable {
        return (StatusCode::NOT_FOUND, "Repository not found\n").into_response();
    }
    let role = if can_write(&space.ns, caller.as_ref()) {
        "write"
    } else {
        "read"
    };
    let push_post = is_push && req.method == "POST";
    let cmd = http_backend(&hub, &space, &req, caller.as_ref(), role);
    let out = match run_cgi(cmd, req.body).await {
        Ok(out) => out,
        Err(response) => return response,
    };
    let resp = cgi_response(&out);
    // This push moved `main` when receive-pack reports `ok refs/heads/main` (in a side-band
    // packet or a plain pkt-line). Comparing `main` before and after would also credit a push
    // that lost to another one running at the same time.
    if push_post && contains(&out, b"ok refs/heads/main") {
        hub.new_revision(&space);
    }
    resp
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `git http-backend` with the CGI environment of `req`, the caller as `REMOTE_USER` (the
/// reflog's pusher) and what the pre-receive hook reads (`HF_EMU_ROLE`, `HF_EMU_LFS_DIR`).
fn http_backend(
    hub: &Hub,
    space: &Space,
    req: &GitRequest<'_>,
    caller: Option<&Caller>,
    role: &str,
) -> Command {
    let rel = space
        .repo_dir
        .strip_prefix(&hub.repos_dir)
        .unwrap_or(&space.repo_dir)
        .to_string_lossy()
        .into_owned();
    let mut cmd = Command::new("git");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &hub.data_dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_PROJECT_ROOT", &hub.repos_dir)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", format!("/{rel}/{}", req.rest))
        .env("REQUEST_METHOD", req.method)
        .env("QUERY_STRING", req.query)
        .env("CONTENT_LENGTH", req.body.len().to_string())
        .env("REMOTE_ADDR", "127.0.0.1")
        .env(
            "REMOTE_USER",
            caller.map(|c| c.user.as_str()).unwrap_or("anonymous"),
        )
        .env("HF_EMU_ROLE", role)
        .env("HF_EMU_LFS_DIR", &hub.lfs_dir)
        .arg("http-backend")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let header = |name| req.headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ct) = header(header::CONTENT_TYPE.as_str()) {
        cmd.env("CONTENT_TYPE", ct);
    }
    if let Some(ce) = header(header::CONTENT_ENCODING.as_str()) {
        cmd.env("HTTP_CONTENT_ENCODING", ce);
    }
    if let Some(gp) = header("git-protocol") {
        cmd.env("GIT_PROTOCOL", gp).env("HTTP_GIT_PROTOCOL", gp);
    }
    cmd
}

/// Runs the CGI with `body` on its stdin; its stdout, or the 500 when it cannot run.
async fn run_cgi(mut cmd: Command, body: Bytes) -> Result<Vec<u8>, Response> {
    let mut child = cmd.spawn().map_err(|e| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot run git http-backend: {e}\n"),
        )
            .into_response()
    })?;
    if let Some(mut w) = child.stdin.take() {
        tokio::spawn(async move {
            let _ = w.write_all(&body).await;
        });
    }
    let out = child.wait_with_output().await.map_err(|e| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("git http-backend failed: {e}\n"),
        )
            .into_response()
    })?;
    if !out.stderr.is_empty() {
        tracing::debug!(stderr = %String::from_utf8_lossy(&out.stderr), "git http-backend");
    }
    Ok(out.stdout)
}

fn cgi_response(out: &[u8]) -> Response {
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p, p + 4))
        .or_else(|| {
            out.windows(2)
                .position(|w| w == b"\n\n")
                .map(|p| (p, p + 2))
        });
    let Some((head_end, body_start)) = split else {
        return (
            StatusCode::BAD_GATEWAY,
            "malformed CGI output from git http-backend\n",
        )
            .into_response();
    };
    let head = String::from_utf8_lossy(&out[..head_end]);
    let mut status = StatusCode::OK;
    let mut builder = Response::builder();
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            if let Some(code) = value
                .split_whitespace()
                .next()
                .and_then(|c| c.parse::<u16>().ok())
            {
                status = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
            }
        } else {
            builder = builder.header(name.trim(), value);
        }
    }
    builder
        .status(status)
        .body(Body::from(out[body_start..].to_vec()))
        .unwrap_or_else(|_| (StatusCode::BAD_GATEWAY, "bad CGI headers\n").into_response())
}
