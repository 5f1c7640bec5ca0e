//! Whether GitHub already records this job as a deployment.
//!
//! A job that declares `environment: NAME` gets a deployment of `GITHUB_SHA` to `NAME` from
//! GitHub itself, created by `github-actions[bot]`, whose statuses link to the job's run
//! (`.../actions/runs/{run_id}/job/{job_id}`). Nothing in the runner's environment names that
//! environment, so the action looks for such a deployment before it records its own, and
//! records none when it finds one (two deployments per run otherwise). The cure that needs no
//! detection: `github-deployment: false`, or `environment: {name: NAME, deployment: false}`.
//!
//! The lookup is bounded: the newest page of deployments of `GITHUB_SHA`, and the statuses of
//! at most [`MAX_CANDIDATES`] of them. It can only find a deployment whose status already
//! links to this run; the status's link shape is GitHub's and not documented, so a miss is
//! possible, never a false match on another run.

use octocrab::Octocrab;
use octocrab::models::repos::{Deployment, DeploymentStatus};

use super::api::{GitHubRepo, PAYLOAD_KEY};
use super::identity::{ACTIONS_BOT_ID, ACTIONS_BOT_LOGIN};
use super::{Error, Result};

/// The most deployments whose statuses are read.
const MAX_CANDIDATES: usize = 5;

/// The environment of the deployment GitHub made for this job (run `run_id`, commit `sha`),
/// if one is found.
pub(crate) async fn job_environment(
    gh: &Octocrab,
    repo: &GitHubRepo,
    sha: &str,
    run_id: &str,
) -> Result<Option<String>> {
    let action = format!("list the deployments of `{sha}` in `{repo}`");
    let handler = gh.repos(&repo.owner, &repo.name);
    let page = handler
        .deployments()
        .list()
        .sha(sha)
        .per_page(30u8)
        .send()
        .await
        .map_err(|e| Error::from_octocrab(action, e))?;
    let candidates = page
        .items
        .iter()
        .filter(|d| by_github_for_a_job(d))
        .take(MAX_CANDIDATES);
    let run = format!("/actions/runs/{run_id}");
    for deployment in candidates {
        let action = format!(
            "list the statuses of deployment {} in `{repo}`",
            deployment.id
        );
        let statuses = handler
            .deployments()
            .statuses(deployment.id.0)
            .list()
            .per_page(10u8)
            .send()
            .await
            .map_err(|e| Error::from_octocrab(action, e))?;
        if statuses.items.iter().any(|s| links_to_run(s, &run)) {
            return Ok(Some(deployment.environment.clone()));
        }
    }
    Ok(None)
}

/// Made by `github-actions[bot]` and not by this action (whose deployments carry
/// [`PAYLOAD_KEY`]).
fn by_github_for_a_job(deployment: &Deployment) -> bool {
    let by_actions = deployment
        .creator
        .as_ref()
        .is_some_and(|c| c.id.0 == ACTIONS_BOT_ID && c.login == ACTIONS_BOT_LOGIN);
    by_actions && deployment.payload.get(PAYLOAD_KEY).is_none()
}

/// The status's log or target URL is this run's page (or a job of it).
fn links_to_run(status: &DeploymentStatus, run: &str) -> bool {
    [status.log_url.as_deref(), status.target_url.as_deref()]
        .into_iter()
        .flatten()
        .any(|url| {
            url.split_once(run)
                .is_some_and(|(_, rest)| rest.is_empty() || rest.starts_with('/'))
        })
}

#[cfg(test)]
mod tests {
    use hf_deploy_core::SecretString;
    use hf_deploy_tests::fake_github::{FakeGitHub, Mode};

    use super::*;
    use crate::github::api::client;

    #[tokio::test]
    async fn finds_the_deployment_github_made_for_this_run_only() {
        let fake = FakeGitHub::start(Mode::default()).await;
        let gh = client(&fake.url, &SecretString::new("ghs_x")).expect("client");
        let repo = GitHubRepo::parse("Codertocat/Hello-World").expect("repo");
        assert_eq!(
            job_environment(&gh, &repo, "abc", "42")
                .await
                .expect("list"),
            None
        );
        fake.seed_job_deployment("abc", "staging", "41");
        assert_eq!(
            job_environment(&gh, &repo, "abc", "42")
                .await
                .expect("list"),
            None,
            "another run's deployment (run 41 is not run 42, nor 421)"
        );
        fake.seed_job_deployment("abc", "production", "42");
        fake.seed_job_deployment("def", "other-sha", "42");
        assert_eq!(
            job_environment(&gh, &repo, "abc", "42")
                .await
                .expect("list"),
            Some("production".into())
        );
        assert_eq!(
            job_environment(&gh, &repo, "abc", "4").await.expect("list"),
            None,
            "run 4 is not a prefix match of run 41 or 42"
        );
        assert!(fake.unmatched().is_empty(), "{:?}", fake.unmatched());
    }
}
