//! The preview mark: the Space variable `HF_DEPLOY_PREVIEW` = `{owner}/{repo}#{number}`, sent in
//! the call that creates a preview Space. Closing a pull request (or taking its
//! `preview-label` off) deletes the preview only when the Space carries the mark of this
//! repository and this pull request: a Space of the same name that this tool did not make for
//! this pull request is left alone, with a warning that says why.

use hf_deploy_core::hub::HubClient;
use hf_deploy_core::{Error, SpaceId};

use crate::github::api::GitHubRepo;
use crate::github::inputs::PREVIEW_MARK;

/// The mark of pull request `number` of `repo`.
pub(crate) fn value(repo: &GitHubRepo, number: u64) -> String {
    format!("{repo}#{number}")
}

/// What the preview Space says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Found {
    /// No such Space.
    Gone,
    /// The Space carries the expected mark.
    Ours,
    /// The Space carries no mark.
    Unmarked,
    /// The Space carries another repository's or pull request's mark (the value found).
    Other(String),
}

/// Read the mark of `space` and compare it with `expected`.
pub(super) async fn read(hub: &HubClient, space: &SpaceId, expected: &str) -> Result<Found, Error> {
    match hub.variables(space).await {
        Err(Error::NotFound { .. }) => Ok(Found::Gone),
        Err(error) => Err(error),
        Ok(variables) => Ok(match variables.get(PREVIEW_MARK) {
            None => Found::Unmarked,
            Some(found) if found.value == expected => Found::Ours,
            Some(found) => Found::Other(found.value.clone()),
        }),
    }
}

/// Why a Space was left alone, for warnings.
pub(super) fn why_kept(space: &SpaceId, found: &Found, expected: &str) -> String {
    match found {
        Found::Other(other) => format!(
            "Space `{space}` carries the preview mark `{PREVIEW_MARK}={other}`, not `{expected}`: it is another pull request's preview, so it was left alone"
        ),
        _ => format!(
            "Space `{space}` carries no preview mark (`{PREVIEW_MARK}={expected}`): hf-deploy did not create it for this pull request, so it was left alone; delete it yourself if it is a preview"
        ),
    }
}
