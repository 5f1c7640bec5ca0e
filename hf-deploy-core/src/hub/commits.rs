//! The commit log of a Space's repository: `GET /api/spaces/{id}/commits/{rev}`, newest first
//! (huggingface_hub `list_repo_commits`, huggingface.js `listCommits`).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::client::HubClient;
use crate::error::Result;
use crate::space::SpaceId;

/// The most commits one call reads (the Hub's largest page).
pub(crate) const MAX_COMMITS: usize = 1000;

/// One commit of the Space's log, as the Hub lists it. Every text is the Hub's (or the
/// committer's) words: show them through [`crate::RemoteText`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitEntry {
    /// The commit id (40 hex digits).
    pub id: String,
    /// The first line of the message.
    #[serde(default)]
    pub title: String,
    /// The rest of the message (the trailers are in it).
    #[serde(default)]
    pub message: String,
    /// When it was made (ISO 8601, as the Hub gives it).
    #[serde(default)]
    pub date: String,
}

impl HubClient {
    /// The newest `limit` commits of the Space's `main` (at most 1000), newest first.
    ///
    /// Endpoint: `GET /api/spaces/{ns}/{name}/commits/main?limit={limit}`.
    ///
    /// # Errors
    ///
    /// The Hub's refusal as for any call ([`crate::Error::NotFound`] for a Space without a
    /// commit or not found); [`crate::Error::MalformedResponse`] when the answer is not a list
    /// of commits.
    pub async fn commits(&self, space: &SpaceId, limit: usize) -> Result<Vec<CommitEntry>> {
        let limit = limit.clamp(1, MAX_COMMITS);
        let call = self.space_call(
            Method::GET,
            format!("/api/spaces/{space}/commits/main?limit={limit}"),
            space,
            format!("read the commit log of Space `{space}`"),
        );
        self.execute_json(&call).await
    }
}
