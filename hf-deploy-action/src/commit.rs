//! The commit message of a deploy: it names the source commit, so that the Space's history
//! points back at what was deployed.

use std::path::Path;

/// `Deploy {sha} with hf-deploy`: the sha is `github_sha` (the runner's `GITHUB_SHA`) when
/// given, else the HEAD of the git repository holding `source`; `Deploy with hf-deploy` when
/// neither is known.
pub(crate) fn message(github_sha: Option<&str>, source: &Path) -> String {
    match source_commit(github_sha, source) {
        Some(sha) => format!("Deploy {sha} with hf-deploy"),
        None => "Deploy with hf-deploy".to_string(),
    }
}

/// The source commit deployed: `github_sha` when given, else the HEAD of the repository holding
/// `source`. The library names it in the commit's `Hf-Deploy-Source` trailer.
pub(crate) fn source_commit(github_sha: Option<&str>, source: &Path) -> Option<String> {
    github_sha
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or_else(|| source_head(source))
}

/// The commit at HEAD of the repository that holds `source`, read in-process.
fn source_head(source: &Path) -> Option<String> {
    let repo = git2::Repository::discover(source).ok()?;
    let head = repo.head().ok()?.peel_to_commit().ok()?;
    Some(head.id().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_runner_sha_else_the_source_head() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(
            message(Some("f00d"), dir.path()),
            "Deploy f00d with hf-deploy"
        );
        assert_eq!(message(None, dir.path()), "Deploy with hf-deploy");
        assert_eq!(message(Some(""), dir.path()), "Deploy with hf-deploy");

        let repo = git2::Repository::init(dir.path()).expect("init");
        let signature = git2::Signature::now("a", "a@example.com").expect("signature");
        let tree = repo
            .find_tree(repo.index().expect("index").write_tree().expect("tree"))
            .expect("tree");
        let head = repo
            .commit(Some("HEAD"), &signature, &signature, "first", &tree, &[])
            .expect("commit");
        assert_eq!(
            message(None, dir.path()),
            format!("Deploy {head} with hf-deploy")
        );
    }
}
