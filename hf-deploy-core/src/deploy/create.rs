//! The create step: look the Space up first, create it only when missing. The Hub answers 402
//! to a create of a Docker Space for a free account even when the Space exists, and a
//! Space-scoped token cannot create at all.
//!
//! Visibility: a new Space is created with the visibility asked for, else the plan's default
//! (public; a preview's front end may pick protected). An existing Space's visibility is
//! changed only when one was asked for explicitly and differs: a deploy never makes a Space more
//! open (nor more closed) on its own. The change comes before any other write, so a refusal
//! (402 for protected without a paid plan) leaves the Space as it was.

use crate::error::{Error, Result};
use crate::fingerprint::Description;
use crate::hub::{CreateSpace, HubClient, SpaceInfo};
use crate::inputs::{DeployOptions, PRIVATE_WITH_FRONTEND};
use crate::report::DeployReport;
use crate::secret::SecretString;
use crate::untrusted::RemoteText;

use super::settings::{each_blocking, scoped_refusal};
use super::{Event, Progress};

/// What the create step found.
pub(super) struct Found {
    /// True when this deploy created the Space (its secrets and variables went with the create
    /// call).
    pub(super) created: bool,
    /// The Space's head commit, from its info: the push fetches `main` in one request with it
    /// (see `push::smart_http`).
    pub(super) head: Option<String>,
    /// The Space's runtime stage before the push, when its info said.
    pub(super) stage: Option<crate::hub::SpaceStage>,
}

/// Look the Space up; create it when missing, or set its visibility when asked for.
pub(super) async fn find_or_create(
    client: &HubClient,
    options: &DeployOptions,
    progress: &dyn Progress,
    report: &mut DeployReport,
) -> Result<Found> {
    let id = &options.space;
    match client.space_info(id).await {
        Ok(info) => {
            visibility(client, options, progress, report, &info).await?;
            Ok(Found {
                created: false,
                stage: info.runtime.as_ref().map(|runtime| runtime.stage.clone()),
                head: info.sha,
            })
        }
        Err(Error::NotFound { .. }) if client.keyless().is_some() => {
            Err(Error::ScopedTokenCannotCreate {
                space: id.to_string(),
            })
        }
        Err(Error::NotFound { .. }) => {
            // No whoami first: the create call names a bad token itself (401 outside
            // `/api/spaces/..` is the token) and a read-only one (403 saying so).
            let create = create_request(options).await?;
            let answer = client.create_space(id, &create).await?;
            report.visibility = Some(create.visibility.to_string());
            Ok(Found {
                created: !answer.existed,
                head: None,
                stage: None,
            })
        }
        Err(error) => Err(error),
    }
}

/// An existing Space: its visibility changed when one was asked for and differs; a private one
/// left private with frontend origins gets a warning.
async fn visibility(
    client: &HubClient,
    options: &DeployOptions,
    progress: &dyn Progress,
    report: &mut DeployReport,
    info: &SpaceInfo,
) -> Result<()> {
    let current = info.current_visibility();
    let now = match options.visibility {
        Some(asked) if asked != current => {
            client
                .set_visibility(&options.space, asked)
                .await
                .map_err(|error| scoped_refusal(client, error))?;
            if asked.is_more_open_than(current) {
                // Asked for, so done; said, because it shows more than before.
                let note = format!(
                    "Space `{}` was {current} and is now {asked}, as asked",
                    options.space
                );
                let note = RemoteText::new(&note, client.redactor());
                progress.event(Event::Warning(&note));
                report.warnings.push(note);
            }
            asked
        }
        _ => current,
    };
    report.visibility = Some(now.to_string());
    let warned = options.warnings.iter().any(|w| w == PRIVATE_WITH_FRONTEND);
    if !now.app_is_public() && !options.frontend_origins.is_empty() && !warned {
        let note = RemoteText::new(PRIVATE_WITH_FRONTEND, client.redactor());
        progress.event(Event::Warning(&note));
        report.warnings.push(note);
    }
    Ok(())
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
            let (key, value, description) =
                super::settings::with_origins_kept(&key, &value, Description::default());
            let description = description.with_value(&value);
            (key, value, Some(description))
        },
    )
    .await?;
    Ok(CreateSpace {
        visibility: options.visibility.unwrap_or(options.default_visibility),
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
