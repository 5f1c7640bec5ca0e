//! Put an earlier tree of the Space back: fetch the whole history of `main`, pick the commit
//! (given, or the deploy before the head), and push its tree as one new commit on top of the
//! head (history kept, never forced). Nothing is uploaded: every blob and LFS object of that tree
//! is on the Hub already.

use git2::{Oid, Repository};

use super::git::{Published, PushSession, changes, flatten};
use super::is_transient;
use crate::error::{Error, Result};
use crate::field::{Field, Phrase};
use crate::secret::SecretString;
use crate::trailer;
use crate::wait::{self, Retries, RetryPolicy};

/// Which earlier commit to restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RestoreTarget {
    /// A commit id (full or abbreviated, checked as hex): it must be the head or one of its
    /// ancestors.
    Commit(String),
    /// The newest commit made by this tool before the head (through the commit a restore head
    /// put back) whose tree differs from the head's.
    PreviousDeploy,
}

/// What to restore, and where. `Debug` never shows the token.
#[derive(Clone)]
pub(crate) struct RestoreRequest {
    /// The Space's git URL, never with credentials.
    pub remote_url: String,
    /// `namespace/name`, for messages.
    pub space: String,
    /// Hub token: the git password.
    pub token: Option<SecretString>,
    /// The commit to restore.
    pub target: RestoreTarget,
    /// Author and committer: name and email.
    pub author: (String, String),
    /// How many times to fetch again when `main` moved during the push.
    pub max_race_retries: u32,
    /// When to fetch or push again after a transient failure.
    pub retry: RetryPolicy,
}

impl std::fmt::Debug for RestoreRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestoreRequest")
            .field("remote_url", &super::lfs::redact(&self.remote_url))
            .field("space", &self.space)
            .field("token_set", &self.token.is_some())
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RestoreOutcome {
    /// The head before the restore.
    pub from: String,
    /// The commit whose tree is restored (full id).
    pub to: String,
    /// The new head: the restore's commit, or `from` when its tree was already the target's.
    pub commit_sha: String,
    /// True when a commit was pushed.
    pub changed: bool,
    /// Paths the restore adds back, changes and removes.
    pub added: Vec<String>,
    /// Paths whose content changes.
    pub modified: Vec<String>,
    /// Paths removed.
    pub removed: Vec<String>,
}

/// Restore `request.target`'s tree as a new commit on top of `main` (see the module docs).
pub(crate) async fn restore(request: RestoreRequest) -> Result<RestoreOutcome> {
    let task = tokio::task::spawn_blocking(move || restore_blocking(&request));
    match task.await {
        Ok(result) => result,
        Err(error) => match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => Err(Error::Git {
                action: "finish the restore".into(),
                source: git2::Error::from_str("the restore task was cancelled"),
            }),
        },
    }
}

/// The blocking core of [`restore`].
pub(crate) fn restore_blocking(request: &RestoreRequest) -> Result<RestoreOutcome> {
    let mut session = PushSession::open_with(&request.remote_url, request.token.clone(), true)?;
    let mut retries = Retries::new(request.retry);
    let mut races = 0;
    let mut race_pauses = Retries::new(RetryPolicy::race());
    // A push whose answer was lost may have landed: the next fetch then finds the tree in place.
    let mut may_have_landed = false;
    let mut target = request.target.clone();
    loop {
        let head = match session.fetch_history() {
            Ok(Some(head)) => head,
            Ok(None) => return Err(nothing_to_restore(request, "the Space has no commit yet")),
            Err(error) => {
                pause(&mut retries, error)?;
                continue;
            }
        };
        let chosen = choose(session.repository(), head, &target, request)?;
        // A try after a race or a failure restores the same commit, whatever the head is then.
        target = RestoreTarget::Commit(chosen.outcome.to.clone());
        let mut outcome = chosen.outcome;
        if outcome.added.is_empty() && outcome.modified.is_empty() && outcome.removed.is_empty() {
            outcome.changed = may_have_landed;
            return Ok(outcome);
        }
        let message = trailer::with_trailers(
            &format!("Restore {} with hf-deploy", short(&outcome.to)),
            chosen.source.as_deref(),
            Some(&outcome.to),
        );
        match session.publish_tree(chosen.tree, Some(head), &message, &request.author) {
            Ok(Published::Pushed(commit)) => {
                outcome.commit_sha = commit.to_string();
                outcome.changed = true;
                return Ok(outcome);
            }
            Ok(Published::Race) => {
                races += 1;
                if races > request.max_race_retries {
                    return Err(Error::PushRace { attempts: races });
                }
                // Another pusher moved `main`: after a random pause (as a deploy's push does),
                // fetch its head and put the same tree back on top of it.
                if let Some(delay) = race_pauses.next_delay() {
                    wait::sleep_blocking(delay);
                }
            }
            Err(error) => {
                pause(&mut retries, error)?;
                may_have_landed = true;
            }
        }
    }
}

/// The commit picked, its tree and the source commit its trailer names.
struct Chosen {
    tree: Oid,
    source: Option<String>,
    outcome: RestoreOutcome,
}

fn choose(
    repo: &Repository,
    head: Oid,
    target: &RestoreTarget,
    request: &RestoreRequest,
) -> Result<Chosen> {
    let git = |action: &str| {
        let action = action.to_string();
        move |source| Error::Git { action, source }
    };
    let head_commit = repo
        .find_commit(head)
        .map_err(git("read the Space's head"))?;
    let target = match target {
        RestoreTarget::Commit(text) => given(repo, head, text, request)?,
        RestoreTarget::PreviousDeploy => previous_deploy(repo, &head_commit, request)?,
    };
    let target_commit = repo
        .find_commit(target)
        .map_err(git("read the commit to restore"))?;
    let tree = target_commit
        .tree()
        .map_err(git("read the tree to restore"))?;
    let head_tree = head_commit.tree().map_err(git("read the Space's head"))?;
    let entries = flatten(&tree).map_err(git("read the tree to restore"))?;
    let remote = flatten(&head_tree).map_err(git("read the Space's head"))?;
    let (added, modified, removed) = changes(&entries, &remote);
    let source = trailer::parse(target_commit.message().unwrap_or_default()).source;
    Ok(Chosen {
        tree: tree.id(),
        source,
        outcome: RestoreOutcome {
            from: head.to_string(),
            to: target.to_string(),
            commit_sha: head.to_string(),
            changed: false,
            added,
            modified,
            removed,
        },
    })
}

/// The commit `text` names: the head or one of its ancestors; else a bad input naming the
/// field (nothing was written).
fn given(repo: &Repository, head: Oid, text: &str, request: &RestoreRequest) -> Result<Oid> {
    let not_ours = || {
        Error::invalid_input_hint(
            Field::RollbackTo,
            format!(
                "`{text}` is not a commit of Space `{}`; nothing was written",
                request.space
            ),
            "pick a commit from the Space's history",
        )
    };
    let found = repo
        .revparse_single(text)
        .and_then(|object| object.peel_to_commit())
        .map_err(|_| not_ours())?
        .id();
    let ours = found == head || repo.graph_descendant_of(head, found).unwrap_or(false);
    if ours { Ok(found) } else { Err(not_ours()) }
}

/// The deploy before the head (see [`RestoreTarget::PreviousDeploy`]).
fn previous_deploy(
    repo: &Repository,
    head: &git2::Commit<'_>,
    request: &RestoreRequest,
) -> Result<Oid> {
    let head_tree = head.tree_id();
    // A head that put an earlier tree back stands for that commit: go on from before it.
    let mut start = head.clone();
    while let Some(restored) = trailer::parse(start.message().unwrap_or_default())
        .restores
        .and_then(|id| repo.revparse_single(&id).ok())
        .and_then(|object| object.peel_to_commit().ok())
    {
        if restored.id() == start.id() {
            break;
        }
        start = restored;
    }
    let mut walk = repo.revwalk().map_err(|source| Error::Git {
        action: "walk the Space's history".into(),
        source,
    })?;
    walk.push(start.id())
        .and_then(|()| walk.simplify_first_parent())
        .map_err(|source| Error::Git {
            action: "walk the Space's history".into(),
            source,
        })?;
    for oid in walk.skip(1).flatten() {
        let Ok(commit) = repo.find_commit(oid) else {
            continue;
        };
        let by_tool = trailer::parse(commit.message().unwrap_or_default())
            .version
            .is_some();
        if by_tool && commit.tree_id() != head_tree {
            return Ok(oid);
        }
    }
    Err(nothing_to_restore(
        request,
        "no earlier deploy by hf-deploy is in its history",
    ))
}

fn nothing_to_restore(request: &RestoreRequest, why: &str) -> Error {
    Error::invalid_input_hint(
        Field::RollbackTo,
        format!(
            "nothing to roll Space `{}` back to: {why}; nothing was written",
            request.space
        ),
        Phrase::new("give the commit to restore with ").field(Field::RollbackTo),
    )
}

/// After a failed fetch or push: wait before the next try when the failure is transient and
/// the policy allows one more; else the error.
fn pause(retries: &mut Retries, error: Error) -> Result<()> {
    if !is_transient(&error) {
        return Err(error);
    }
    let Some(delay) = retries.next_delay() else {
        return Err(error);
    };
    wait::sleep_blocking(delay);
    Ok(())
}

/// The first 7 digits of a commit id.
fn short(id: &str) -> &str {
    &id[..id.len().min(7)]
}
