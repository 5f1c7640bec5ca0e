//! A pull request as GitHub describes it now: `GET /repos/{owner}/{repo}/pulls/{number}`.
//!
//! An event payload is a snapshot: a re-run gets the first attempt's payload, and a late run can
//! start after the pull request was merged. Before a preview is created or updated, and for a
//! comment's pull request (whose payload names no head), the action reads the pull request
//! again.

use octocrab::Octocrab;

use super::api::GitHubRepo;
use super::files::{self, PullRequestEvent};
use super::{Error, Result};

/// Read pull request `number` of `repo`.
pub(crate) async fn pull_request(
    gh: &Octocrab,
    repo: &GitHubRepo,
    number: u64,
) -> Result<PullRequestEvent> {
    let action = format!("read pull request `{repo}#{number}`");
    let route = format!("/repos/{}/{}/pulls/{number}", repo.owner, repo.name);
    let response = gh
        ._get(route)
        .await
        .map_err(|e| Error::from_octocrab(action.clone(), e))?;
    let response = octocrab::map_github_error(response)
        .await
        .map_err(|e| Error::from_octocrab(action.clone(), e))?;
    let text = gh
        .body_to_string(response)
        .await
        .map_err(|e| Error::from_octocrab(action.clone(), e))?;
    files::api_pull_request(&text).map_err(|source| Error::MalformedAnswer { action, source })
}

#[cfg(test)]
mod tests {
    use hf_deploy_core::SecretString;
    use hf_deploy_tests::fake_github::{FakeGitHub, Mode, PullState};

    use super::*;
    use crate::github::api::client;

    #[tokio::test]
    async fn reads_state_labels_and_head_repository() {
        let fake = FakeGitHub::start(Mode::default()).await;
        fake.set_pull(
            7,
            PullState {
                open: false,
                merged: true,
                labels: vec!["preview".into(), "bug".into()],
                head_repo: Some("mallory/Hello-World".into()),
                ..PullState::default()
            },
        );
        let gh = client(&fake.url, &SecretString::new("ghs_x")).expect("client");
        let repo = GitHubRepo::parse("Codertocat/Hello-World").expect("repo");
        let pull = pull_request(&gh, &repo, 7).await.expect("pull");
        assert_eq!(pull.number, 7);
        assert!(!pull.open && pull.merged && pull.is_fork());
        assert!(pull.has_label("preview") && !pull.has_label("deploy"));
        assert_eq!(pull.base_repo, "Codertocat/Hello-World");

        let open = pull_request(&gh, &repo, 2).await.expect("default pull");
        assert!(open.open && !open.is_fork() && open.labels.is_empty());
        assert_eq!(open.head_sha, "ec26c3e57ca3a959ca5aad62de7213c562f8c821");
        assert!(fake.unmatched().is_empty(), "{:?}", fake.unmatched());
    }
}
