//! The verify step: health, then accept, then CORS: the sequence `verify::verify_app` runs for
//! any app, here against the URLs of the report.

use std::time::Instant;

use crate::error::Result;
use crate::hub::HubClient;
use crate::inputs::{DeployOptions, PollSettings, RollbackOptions};
use crate::report::DeployReport;
use crate::verify::{self, AppCheck, VerifyEvent};
use crate::visibility::Visibility;

use super::{Event, Phase, Progress};

/// What the verification needs of a run's options (a deploy's or a rollback's).
pub(super) struct Verification<'a> {
    poll: &'a PollSettings,
    origins: &'a [String],
    allow_degraded: bool,
}

impl<'a> From<&'a DeployOptions> for Verification<'a> {
    fn from(options: &'a DeployOptions) -> Self {
        Verification {
            poll: &options.poll,
            origins: &options.frontend_origins,
            allow_degraded: options.allow_degraded,
        }
    }
}

impl<'a> From<&'a RollbackOptions> for Verification<'a> {
    fn from(options: &'a RollbackOptions) -> Self {
        Verification {
            poll: &options.poll,
            origins: &options.frontend_origins,
            allow_degraded: options.allow_degraded,
        }
    }
}

/// Verify the deployed app by `deadline` and record what was found.
pub(super) async fn check(
    client: &HubClient,
    options: Verification<'_>,
    progress: &dyn Progress,
    report: &mut DeployReport,
    deadline: Instant,
) -> Result<()> {
    // A private Space's app answers its owner's token only; no other app is sent it.
    let token = if report.visibility.as_deref() == Some(Visibility::Private.as_str()) {
        client.current_token().await?
    } else {
        None
    };
    let check = AppCheck {
        health_url: report.health_url.clone(),
        token,
        deadline,
        poll: (options.poll.health_initial, options.poll.health_max),
        origins: options.origins.to_vec(),
        allow_degraded: options.allow_degraded,
        redactor: client.redactor().clone(),
    };
    let outcome = verify::verify_app(&check, &mut |event| match event {
        VerifyEvent::HealthAttempt(attempt) => {
            progress.event(Event::HealthAttempt(&attempt.outcome));
        }
        VerifyEvent::Cors => progress.event(Event::Phase(Phase::Cors)),
    })
    .await;
    match report.record_verification(outcome) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}
