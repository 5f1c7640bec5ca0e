//! The Space's deploys: its commit log read through the Hub API, newest first, each commit with
//! what its trailers say (the source commit deployed, the version that pushed it, the commit a
//! rollback restored) and whether this tool made it.
//!
//! Health: the Hub keeps no record of a revision's health checks and this tool stores none, so
//! every commit's `healthy` is unknown (`None`); what is known is the head (`current`) and the
//! Space's stage now.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::hub::HubClient;
use crate::space::SpaceId;
use crate::trailer;
use crate::untrusted::RemoteText;

/// How many commits [`history`] reads by default.
pub const DEFAULT_LIMIT: usize = 50;

/// The Space's history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// `namespace/name`.
    pub space_id: String,
    /// The Space's runtime stage now (`RUNNING`, `BUILD_ERROR`, ...), as the Hub named it.
    pub stage: Option<RemoteText>,
    /// Its commits, newest first.
    pub deploys: Vec<HistoryEntry>,
}

/// One commit of the Space's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The commit id.
    pub commit: String,
    /// The source commit its trailer names, when it does.
    pub source_commit: Option<String>,
    /// When it was made, as the Hub says (ISO 8601).
    pub time: RemoteText,
    /// The first line of its message.
    pub title: RemoteText,
    /// True when this tool made it (it carries the version trailer).
    pub by_hf_deploy: bool,
    /// The version that pushed it, when this tool did.
    pub version: Option<String>,
    /// For a rollback's commit: the commit whose tree it restored.
    pub restores: Option<String>,
    /// True for the head (the commit on `main` now).
    pub current: bool,
    /// Whether it was seen healthy: `None` (unknown) for every commit, as no record of health
    /// is kept (see the module docs).
    pub healthy: Option<bool>,
}

/// The newest `limit` commits of the Space (at most 1000) and its stage now.
///
/// Endpoints: `GET /api/spaces/{ns}/{name}/commits/main`, `GET /api/spaces/{ns}/{name}/runtime`.
///
/// # Errors
///
/// The Hub's refusal ([`crate::Error::NotFound`] for a missing Space) or a malformed answer.
pub async fn history(client: &HubClient, space: &SpaceId, limit: usize) -> Result<History> {
    let (commits, runtime) = tokio::join!(client.commits(space, limit), client.runtime(space));
    let commits = commits?;
    let redactor = client.redactor();
    let deploys = commits
        .iter()
        .enumerate()
        .map(|(index, commit)| {
            let trailers = trailer::parse(&format!("{}\n\n{}", commit.title, commit.message));
            HistoryEntry {
                commit: commit.id.clone(),
                source_commit: trailers.source,
                time: RemoteText::new(&commit.date, redactor),
                title: RemoteText::new(&commit.title, redactor),
                by_hf_deploy: trailers.version.is_some(),
                version: trailers.version,
                restores: trailers.restores,
                current: index == 0,
                healthy: None,
            }
        })
        .collect();
    Ok(History {
        space_id: space.to_string(),
        stage: runtime
            .ok()
            .map(|runtime| runtime.stage.to_remote(redactor)),
        deploys,
    })
}
