//! Commit the Space tree on top of the Space's `main` with git2 and push it.
//!
//! The Space mirrors the scaffold: each push fetches `main` (depth 1 over the network) into a
//! temporary bare repository, builds the new tree, and pushes one commit on top of the remote
//! head, never forced. Files the Hub refuses as plain git blobs (a `filter=lfs` pattern, more
//! than 10 MiB, a NUL byte in the first 8000 bytes) go to Git LFS and are committed as pointers.
//! If `main` moves during the push (another pusher won), the push fetches the new head after a
//! short random pause ([`RetryPolicy::race`]) and commits its tree on top of it again, a bounded
//! number of times; then it fails with [`Error::PushRace`], never pushing over another commit.
//!
//! Memory stays flat whatever the tree holds: source files are read one at a time (a plain one
//! whole, at most 10 MiB; an LFS one hashed and uploaded as a stream), and the new git objects
//! are kept in memory only while the plain bytes stay under [`IN_MEMORY_OBJECTS_LIMIT`].
//!
//! The token is given to git only through the credential callback (user `hf_user`) and to LFS
//! as a Basic auth header; it is never part of a URL.
//!
//! [`push`] is the async entry point. The blocking core is [`push_blocking`] (which leaves the
//! LFS upload to a callback) and the [`PushSession`] it drives.

mod attributes;
mod git;
pub(crate) mod lfs;
mod restore;
mod smart_http;

use std::collections::{BTreeMap, BTreeSet, HashSet};

pub(crate) use git::{IN_MEMORY_OBJECTS_LIMIT, Published, PushSession};
pub(crate) use lfs::LfsObject;
pub(crate) use restore::{RestoreOutcome, RestoreRequest, RestoreTarget, restore};

use crate::content::FileContent;
use crate::error::{Error, Result};
use crate::field::Field;
use crate::secret::SecretString;
use crate::wait::{self, Retries, RetryPolicy};

/// Path of the attributes file, always merged with the Space's, never dropped.
pub(crate) const GITATTRIBUTES: &str = ".gitattributes";

/// What to push, and where. `Debug` lists file paths and sizes, never the token.
#[derive(Clone)]
pub(crate) struct PushRequest {
    /// The Space's git URL, e.g. `https://huggingface.co/spaces/ns/name`; never with credentials.
    pub remote_url: String,
    /// Hub token: the git password (user `hf_user`) and the LFS Basic auth.
    pub token: Option<SecretString>,
    /// The Space tree from the scaffold: relative `/`-separated path to content. Source files
    /// are read one at a time (plain ones whole, at most 10 MiB; LFS ones streamed), so memory
    /// does not grow with the tree.
    pub files: BTreeMap<String, FileContent>,
    /// Paths of `files` committed as executable (mode 755); the others are mode 644.
    pub executable: BTreeSet<String>,
    /// Git-style globs of remote paths to keep even though the scaffold does not produce them.
    /// Without a match, remote files the scaffold does not produce are removed.
    pub keep: Vec<String>,
    /// Commit message.
    pub message: String,
    /// Author and committer: name and email.
    pub author: (String, String),
    /// How many times to fetch again and rebuild when `main` moved during the push.
    pub max_race_retries: u32,
    /// When to send a Git LFS request, a fetch or a push again after a transient failure (5xx,
    /// 429, a dropped connection); [`RetryPolicy::git`] by default. Races are not counted here.
    pub retry: RetryPolicy,
    /// Fetch and compute the plan only: no LFS upload, no commit, no push.
    pub dry_run: bool,
    /// The Space's head commit as the Hub API just said (`sha` of the Space info), when known:
    /// the first fetch then asks for it directly, in one request. Only a hint: a stale one makes
    /// the fetch fall back to the full exchange.
    pub head_hint: Option<String>,
    /// The Hub client's HTTP client: the first fetch goes through its pool (the connection the
    /// Space lookup opened) and its timeouts. `None`: a client of the push's own.
    pub http: Option<reqwest::Client>,
}

impl std::fmt::Debug for PushRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let files: BTreeMap<&str, u64> = self
            .files
            .iter()
            .map(|(path, content)| (path.as_str(), content.len()))
            .collect();
        f.debug_struct("PushRequest")
            .field("remote_url", &lfs::redact(&self.remote_url))
            .field("token", &self.token)
            .field("files", &files)
            .field("executable", &self.executable)
            .field("keep", &self.keep)
            .field("message", &self.message)
            .field("author", &self.author)
            .field("max_race_retries", &self.max_race_retries)
            .field("retry", &self.retry)
            .field("dry_run", &self.dry_run)
            .field("head_hint", &self.head_hint)
            .finish_non_exhaustive()
    }
}

/// What a push did (or, with `dry_run`, would do).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct PushOutcome {
    /// The new head of `main`; when nothing changed or on a dry run, the remote head (empty when
    /// the Space has no commit yet).
    pub commit_sha: String,
    /// True when the tree differs from the remote head's (pushed, or would be on a dry run).
    pub changed: bool,
    /// Paths new in the Space.
    pub added: Vec<String>,
    /// Paths whose content changed.
    pub modified: Vec<String>,
    /// Paths removed from the Space.
    pub removed: Vec<String>,
    /// Paths committed as LFS pointers.
    pub lfs: Vec<String>,
    /// Fetch-and-push attempts made (more than 1 after a race).
    pub attempts: u32,
}

/// Longest wait for a connection to git or Git LFS storage.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Longest silence of git or Git LFS storage once connected (an answer that stalls ends the
/// push with a timeout naming the call instead of hanging it).
const SILENCE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Push `request`: fetch, plan, upload LFS objects, commit and push, retrying races.
///
/// The git work runs on tokio's blocking pool; LFS uploads use reqwest on the caller's runtime.
pub(crate) async fn push(request: PushRequest) -> Result<PushOutcome> {
    push_with_hook(request, |_| Ok(())).await
}

/// [`push`] that fetches and plans at once but writes nothing (no LFS upload, no commit) until
/// `ready` says so: the deploy reads and writes the Space's settings meanwhile, and the push's
/// build must see them. A `false` (or a dropped sender: the settings failed) ends the push
/// before its first write. A tree with no change returns without waiting.
pub(crate) async fn push_when(
    request: PushRequest,
    ready: std::sync::mpsc::Receiver<bool>,
) -> Result<PushOutcome> {
    let mut open = false;
    push_with_hook(request, move |_| {
        open = open || ready.recv().unwrap_or(false);
        if open {
            Ok(())
        } else {
            Err(Error::Git {
                action: "wait for the Space's settings before pushing".into(),
                source: git2::Error::from_str("the settings were not written; nothing was pushed"),
            })
        }
    })
    .await
}

/// [`push`] with a hook called before the first write of each attempt (the LFS upload, else the
/// publish): [`push_when`] waits there, tests move `main` there. An error from the hook ends the
/// push with nothing written.
async fn push_with_hook(
    request: PushRequest,
    mut before_write: impl FnMut(u32) -> Result<()> + Send + 'static,
) -> Result<PushOutcome> {
    let handle = tokio::runtime::Handle::current();
    let task = tokio::task::spawn_blocking(move || {
        let batch_url = lfs::batch_url(&request.remote_url);
        // No time limit on a whole request (an upload may take long), but on each silence;
        // redirects only on the Hub's host (the token rides along).
        let client = reqwest::Client::builder()
            .user_agent(concat!("hf-deploy/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(SILENCE_TIMEOUT)
            .redirect(crate::http::same_host_redirects())
            .build()
            .map_err(|source| Error::Request {
                action: "set up the HTTP client for git and Git LFS".into(),
                url: lfs::redact(&request.remote_url),
                source,
            })?;
        let mut upload = |objects: &[LfsObject]| -> Result<()> {
            handle.block_on(lfs::upload(
                &client,
                &batch_url,
                request.token.as_ref(),
                objects,
                &request.retry,
            ))
        };
        let fetch_client = request.http.clone().unwrap_or_else(|| client.clone());
        let net = Net {
            runtime: &handle,
            client: &fetch_client,
        };
        push_blocking_with(&request, Some(&net), &mut upload, &mut before_write)
    });
    match task.await {
        Ok(result) => result,
        Err(error) => match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => Err(Error::Git {
                action: "finish the push".into(),
                source: git2::Error::from_str("the push task was cancelled"),
            }),
        },
    }
}

/// The blocking core of [`push`]. `upload_lfs` receives the LFS objects not uploaded yet in
/// this run, before the commit that points at them is pushed.
#[cfg(test)]
pub(crate) fn push_blocking(
    request: &PushRequest,
    upload_lfs: &mut dyn FnMut(&[LfsObject]) -> Result<()>,
) -> Result<PushOutcome> {
    push_blocking_with(request, None, upload_lfs, &mut |_| Ok(()))
}

/// The async runtime and HTTP client the blocking push may use for its first fetch.
struct Net<'a> {
    runtime: &'a tokio::runtime::Handle,
    client: &'a reqwest::Client,
}

fn push_blocking_with(
    request: &PushRequest,
    net: Option<&Net<'_>>,
    upload_lfs: &mut dyn FnMut(&[LfsObject]) -> Result<()>,
    before_write: &mut dyn FnMut(u32) -> Result<()>,
) -> Result<PushOutcome> {
    validate(request)?;
    let mut session = PushSession::open_with(
        &request.remote_url,
        request.token.clone(),
        plain_bytes(request) <= IN_MEMORY_OBJECTS_LIMIT,
    )?;
    let mut round = Round {
        request,
        net,
        upload_lfs,
        before_write,
        uploaded: HashSet::new(),
        retries: Retries::new(request.retry),
        may_have_landed: false,
    };
    let attempts = request.max_race_retries.saturating_add(1);
    let mut races = Retries::new(RetryPolicy::race());
    let mut attempt = 1;
    while attempt <= attempts {
        match round.run(&mut session, attempt) {
            Ok(Ended::Done(outcome)) => return Ok(outcome),
            Ok(Ended::Race) => {
                attempt += 1;
                // Another pusher moved `main`: after a random pause, fetch its head and commit
                // the same tree on top of it (never forced, never over its commit).
                if attempt <= attempts
                    && let Some(delay) = races.next_delay()
                {
                    wait::sleep_blocking(delay);
                }
            }
            // A transient failure repeats the attempt from its fetch; it does not count as one.
            Err(failure) => round.pause_after(failure)?,
        }
    }
    Err(Error::PushRace { attempts })
}

/// How one attempt of a push ended, when it did not fail.
enum Ended {
    /// Pushed, or nothing to push (or a dry run).
    Done(PushOutcome),
    /// `main` moved while we pushed: fetch again and rebuild.
    Race,
}

/// What failed in an attempt: a fetch or a publish may be tried again after a transient
/// failure, any other step may not.
enum Failed {
    Fetch(Error),
    Publish(Error),
    Other(Error),
}

/// The state a push keeps across its attempts.
struct Round<'a, 'n> {
    request: &'a PushRequest,
    net: Option<&'a Net<'n>>,
    upload_lfs: &'a mut dyn FnMut(&[LfsObject]) -> Result<()>,
    before_write: &'a mut dyn FnMut(u32) -> Result<()>,
    /// LFS objects uploaded by an earlier attempt.
    uploaded: HashSet<String>,
    retries: Retries,
    /// Set when a publish failed in a way that may still have landed (the answer was lost): a
    /// retry then finds the tree unchanged, and the deploy did change the Space.
    may_have_landed: bool,
}

impl Round<'_, '_> {
    /// Fetch, plan, upload the LFS objects, publish.
    fn run(&mut self, session: &mut PushSession, attempt: u32) -> Result<Ended, Failed> {
        let request = self.request;
        // The first fetch the short way (see `smart_http`); a later one (after a race or a
        // failure) the full way, as the hint is stale by then.
        let first = attempt == 1 && self.retries.failures() == 0;
        let fetched = match self.net {
            Some(net) if first => {
                let hint = request
                    .head_hint
                    .as_deref()
                    .and_then(|sha| git2::Oid::from_str(sha).ok());
                session.fetch_quick(net.runtime, net.client, hint)
            }
            _ => session.fetch(),
        };
        let head = fetched.map_err(Failed::Fetch)?;
        let plan = session.plan(request, head).map_err(Failed::Other)?;
        let outcome = |commit_sha: String| PushOutcome {
            commit_sha,
            changed: plan.changed || self.may_have_landed,
            added: plan.added.clone(),
            modified: plan.modified.clone(),
            removed: plan.removed.clone(),
            lfs: plan.lfs.iter().map(|o| o.path.clone()).collect(),
            attempts: attempt,
        };
        let head_sha = head.map(|oid| oid.to_string()).unwrap_or_default();
        if !plan.changed || request.dry_run {
            return Ok(Ended::Done(outcome(head_sha)));
        }
        let pending: Vec<LfsObject> = plan
            .lfs
            .iter()
            .filter(|object| !self.uploaded.contains(&object.oid))
            .cloned()
            .collect();
        (self.before_write)(attempt).map_err(Failed::Other)?;
        if !pending.is_empty() {
            (self.upload_lfs)(&pending).map_err(Failed::Other)?;
            self.uploaded
                .extend(pending.into_iter().map(|object| object.oid));
        }
        match session.publish(&plan, request) {
            Ok(Published::Pushed(commit)) => Ok(Ended::Done(outcome(commit.to_string()))),
            Ok(Published::Race) => Ok(Ended::Race),
            Err(error) => Err(Failed::Publish(error)),
        }
    }

    /// After a failed attempt: wait before trying it again when the failure is transient and
    /// the policy allows one more; else the error.
    fn pause_after(&mut self, failure: Failed) -> Result<()> {
        let (error, published) = match failure {
            Failed::Fetch(error) => (error, false),
            Failed::Publish(error) => (error, true),
            Failed::Other(error) => return Err(error),
        };
        if !is_transient(&error) {
            return Err(error);
        }
        let Some(delay) = self.retries.next_delay() else {
            return Err(error);
        };
        tracing::debug!(
            failures = self.retries.failures(),
            delay_ms = delay.as_millis() as u64,
            "retrying git"
        );
        // Safe to repeat a publish: the next round fetches `main` again, so a push that did
        // land is seen as an unchanged tree and nothing is committed twice.
        self.may_have_landed |= published;
        wait::sleep_blocking(delay);
        Ok(())
    }
}

/// Bytes of the files that may become plain git blobs (the others go to LFS as small pointers).
fn plain_bytes(request: &PushRequest) -> u64 {
    request
        .files
        .values()
        .map(FileContent::len)
        .filter(|len| *len <= attributes::MAX_PLAIN_SIZE as u64)
        .sum()
}

/// True for a git failure worth repeating: the server answered 5xx or 429, or the connection
/// failed. Never for refused credentials, certificates or a rejected push.
fn is_transient(error: &Error) -> bool {
    let Error::Git { source, .. } = error else {
        return false;
    };
    if matches!(
        source.code(),
        git2::ErrorCode::Auth | git2::ErrorCode::Certificate
    ) {
        return false;
    }
    let message = source.message().to_ascii_lowercase();
    let status = ["status code: 5", "status code: 429"]
        .iter()
        .any(|s| message.contains(s));
    let network = matches!(source.class(), git2::ErrorClass::Net | git2::ErrorClass::Os)
        || [
            "timed out",
            "connection reset",
            "broken pipe",
            "unexpected eof",
            "early eof",
        ]
        .iter()
        .any(|s| message.contains(s));
    status || network
}

/// Refuse requests that cannot make a sane tree, before anything is fetched.
fn validate(request: &PushRequest) -> Result<()> {
    if request.remote_url.contains('@')
        && url::Url::parse(&request.remote_url)
            .is_ok_and(|u| !u.username().is_empty() || u.password().is_some())
    {
        return Err(Error::invalid_input_hint(
            Field::Endpoint,
            "the Space git URL carries credentials",
            "give the URL without `user:token@`; the token goes in separately",
        ));
    }
    for pattern in &request.keep {
        if attributes::PathPattern::new(pattern).is_none() {
            return Err(Error::invalid_input_hint(
                Field::Keep,
                format!("`{pattern}` is not a usable path pattern"),
                "use git-style globs such as `data/**` or `*.db`",
            ));
        }
    }
    if request.files.is_empty() {
        return Err(Error::invalid_input(
            Field::Source,
            "the Space tree is empty: there is nothing to push",
        ));
    }
    for path in request.files.keys() {
        let bad = path.is_empty()
            || path.starts_with('/')
            || path.contains('\\')
            || path.contains('\0')
            || path.split('/').any(|part| {
                part.is_empty() || part == "." || part == ".." || part.eq_ignore_ascii_case(".git")
            });
        if bad {
            return Err(Error::invalid_input_hint(
                Field::Source,
                format!("`{path}` is not a relative path inside the Space"),
                "use `/`-separated relative paths without `.`, `..` or `.git` parts",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
