//! The create step: look the Space up first, create it only when missing. The Hub answers 402
//! to a create of a Docker Space for a free account even when the Space exists, and a
//! Space-scoped token cannot create at all.

use crate::error::{Error, Result};
use crate::fingerprint::Description;
use crate::hub::{CreateSpace, HubClient};
use crate::inputs::DeployOptions;
use crate::secret::SecretString;

use super::settings::each_blocking;

/// What the create step found.
pub(super) struct Found {
    /// True when this deploy created the Space (its secrets and variables went with the create
    /// call).
    pub(super) created: bool,
    /// The Space's head commit, from its info: the push fetches `main` in one request with it
    /// (see `push::smart_http`).
    pub(super) head: Option<String>,
}

/// Look the Space up; create it when missing.
pub(super) async fn find_or_create(client: &HubClient, options: &DeployOptions) -> Result<Found> {
    let id = &options.space;
    match client.space_info(id).await {
        Ok(info) => Ok(Found {
            created: false,
            head: info.sha,
        }),
        Err(Error::NotFound { .. }) if client.scoped_until().is_some() => {
            Err(Error::ScopedTokenCannotCreate {
                space: id.to_string(),
            })
        }
        Err(Error::NotFound { .. }) => {
            // No whoami first: the create call names a bad token itself (401 outside
            // `/api/spaces/..` is the token) and a read-only one (403 saying so).
            let create = create_request(options).await?;
            let answer = client.create_space(id, &create).await?;
            Ok(Found {
                created: !answer.existed,
                head: None,
            })
        }
        Err(error) => Err(error),
    }
}

/// The create call of a new Space: with its secrets (each fingerprinted, see [`crate::fingerprint`])
/// and variables, so the first build sees them and nothing restarts.
async fn create_request(options: &DeployOptions) -> Result<CreateSpace> {
    let secrets: Vec<(String, SecretString)> = options
        .settings
        .secrets
        .iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let secrets = each_blocking(
        secrets,
        options,
        "fingerprint the secrets",
        |(key, value)| {
            let description = Description::default().with_value(&value);
            (key, value, Some(description))
        },
    )
    .await?;
    Ok(CreateSpace {
        private: options.private,
        hardware: options.hardware.clone(),
        secrets,
        variables: options
            .settings
            .variables
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
        ..CreateSpace::default()
    })
}
