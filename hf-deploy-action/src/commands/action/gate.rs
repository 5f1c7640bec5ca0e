//! Who may deploy what: the checks on a pull request before anything is written.
//!
//! - **Forks**: a pull request whose head repository is not the base repository (or was
//!   deleted) is skipped with a notice in every event about a pull request, unless
//!   `allow-forks: true`. Under `pull_request_target`, `issue_comment` or `pull_request_review`
//!   the job has the repository's secrets, so deploying a fork's head would run a stranger's
//!   code with them.
//! - **Still open**: before a preview is created or updated, the pull request is read again
//!   from the API: a late run after the merge must not bring the preview back.
//! - **Labels**: with `preview-label`, the labels are the API's when it was read (a re-run's
//!   payload is the first attempt's).
//!
//! A comment's payload (`issue_comment`) names no head: the pull request is always read, and a
//! comment whose pull request cannot be read is not deployed.

use std::process::ExitCode;

use octocrab::Octocrab;

use super::joblog::emit;
use crate::github::api::{self, GitHubRepo, Rules, Target};
use crate::github::commands as gha;
use crate::github::files::PullRequestEvent;
use crate::github::inputs::ActionConfig;
use crate::github::pulls;

/// The notice of a skipped fork, when `pr` is one and forks are not allowed.
pub(super) fn fork_skip(pr: &PullRequestEvent, allow_forks: bool) -> Option<String> {
    if allow_forks || !pr.head_known || !pr.is_fork() {
        return None;
    }
    let head = match &pr.head_repo {
        Some(head) => format!("comes from the fork `{head}`"),
        None => "comes from a head repository that was deleted".to_string(),
    };
    Some(format!(
        "pull request #{} {head}: skipped, nothing was deployed. Deploying it would run code from outside this repository with the Space's secrets; set `allow-forks: true` to deploy such pull requests anyway",
        pr.number
    ))
}

/// The outcome of [`recheck`].
pub(super) enum Checked {
    /// Go on with this target.
    Go(Target),
    /// End here (a notice or warning said why).
    Stop(ExitCode),
}

/// Read the pull request again where the event alone cannot decide: a comment's pull request
/// (head unknown), or a preview about to be created or updated. `first` is the target decided
/// from the event; `github` the API client and the workflow's repository. The error: a
/// comment's pull request that cannot be read.
pub(super) async fn recheck(
    github: Option<(&Octocrab, &GitHubRepo)>,
    event: Option<&PullRequestEvent>,
    first: Target,
    config: &ActionConfig,
    github_sha: &str,
) -> Result<Checked, crate::github::Error> {
    let Some(pr) = event else {
        return Ok(Checked::Go(first));
    };
    let preview_deploy = matches!(first, Target::Deploy { preview: true, .. });
    if pr.head_known && !preview_deploy {
        return Ok(Checked::Go(first));
    }
    let read = match github {
        Some((client, repo)) => Some(pulls::pull_request(client, repo, pr.number).await),
        None => None,
    };
    let fresh = match read {
        Some(Ok(pull)) => pr.refreshed(&pull),
        Some(Err(error)) if !pr.head_known => return Err(error),
        None if !pr.head_known => {
            emit(&gha::notice(
                "hf-deploy: skipped",
                &format!(
                    "the comment is on pull request #{}, which cannot be read without `github-token` and `GITHUB_REPOSITORY` (its head decides what may be deployed): nothing was deployed",
                    pr.number
                ),
            ));
            return Ok(Checked::Stop(ExitCode::SUCCESS));
        }
        Some(Err(error)) => {
            emit(&gha::warning(
                "hf-deploy",
                &format!(
                    "could not check that pull request #{} is still open ({error}); going by the event",
                    pr.number
                ),
            ));
            return Ok(Checked::Go(first));
        }
        None => {
            emit(&gha::warning(
                "hf-deploy",
                &format!(
                    "no `github-token`: could not check that pull request #{} is still open; going by the event",
                    pr.number
                ),
            ));
            return Ok(Checked::Go(first));
        }
    };
    Ok(decide(&fresh, config, github_sha))
}

/// The decision on the pull request as the API describes it now.
fn decide(fresh: &PullRequestEvent, config: &ActionConfig, github_sha: &str) -> Checked {
    let stop = |text: String| {
        emit(&gha::notice("hf-deploy: skipped", &text));
        Checked::Stop(ExitCode::SUCCESS)
    };
    if let Some(text) = fork_skip(fresh, config.allow_forks) {
        return stop(text);
    }
    if config.preview && !fresh.open {
        return stop(format!(
            "pull request #{} is {} (read from the GitHub API): its preview is neither created nor updated",
            fresh.number,
            if fresh.merged { "merged" } else { "closed" }
        ));
    }
    match api::target(&config.space, &rules(config), Some(fresh), github_sha) {
        Target::Nothing(text) => stop(text),
        target => Checked::Go(target),
    }
}

/// The [`Rules`] of the inputs.
pub(super) fn rules(config: &ActionConfig) -> Rules<'_> {
    Rules {
        preview: config.preview,
        preview_label: config.preview_label.as_deref(),
        environment: config.environment.as_deref(),
    }
}
