//! Putting an earlier tree back: [`rollback`] (a command of its own: the tree of a commit of the
//! Space's history pushed as a new commit on top, then the wait and the verification of a
//! deploy), and [`after_failure`] (a deploy whose new revision failed, with rollback on failure:
//! the previous head's tree pushed back and verified; the deploy still fails). Secrets and
//! variables are left as they are; nothing is force-pushed.

use std::time::Instant;

use crate::error::{Error, Result};
use crate::hub::{HubClient, SpaceStage};
use crate::inputs::{DeployOptions, PollSettings, RollbackOptions};
use crate::push::{self, RestoreOutcome, RestoreRequest, RestoreTarget};
use crate::report::DeployReport;
use crate::space::SpaceId;
use crate::untrusted::{Redactor, RemoteText};
use crate::wait::RetryPolicy;

use super::push::file_changes;
use super::verify::Verification;
use super::{
    DeployOutcome, Event, Phase, Progress, build, first_report, millis, outcome, verify,
    with_wait_events,
};

/// Roll the Space back: push the tree of `options.to` (else of the deploy before the head) as
/// a new commit, wait for it to run and verify it, as a deploy does. The report's
/// `commit_sha` is the new commit, `restored_commit` the commit whose tree it restores,
/// `rolled_back_from` the head before.
///
/// A commit that is not in the Space's history, or no earlier deploy to go back to, is an
/// [`Error::InvalidInput`] naming [`crate::Field::RollbackTo`], found before anything is written.
pub async fn rollback(
    client: &HubClient,
    options: &RollbackOptions,
    progress: &dyn Progress,
) -> DeployOutcome {
    let client = &client.redacting(&options.redactor);
    let started = Instant::now();
    let mut report = first_report(
        client,
        &options.space,
        options.app_url.as_deref(),
        &options.health_path,
    );
    let deadline = Instant::now() + options.timeout;
    let result = with_wait_events(
        client,
        deadline,
        progress,
        run(client, options, progress, &mut report, deadline),
    )
    .await;
    outcome(client, started, report, result)
}

async fn run(
    client: &HubClient,
    options: &RollbackOptions,
    progress: &dyn Progress,
    report: &mut DeployReport,
    deadline: Instant,
) -> Result<()> {
    progress.event(Event::Phase(Phase::Restore));
    let info = client.space_info(&options.space).await?;
    report.visibility = Some(info.current_visibility().to_string());
    let target = match &options.to {
        Some(commit) => RestoreTarget::Commit(commit.clone()),
        None => RestoreTarget::PreviousDeploy,
    };
    let phase = Instant::now();
    let outcome = push::restore(request(client, &options.space, target))
        .await
        .map_err(|error| error.redacted(client.redactor()))?;
    report.durations.push_ms = Some(millis(phase.elapsed()));
    record(report, outcome, client.redactor());
    if options.app_url.is_none() {
        report.set_app_url(&info.app_url(&options.space), &options.health_path);
    }
    if !options.wait {
        report.stage = Some(
            client
                .runtime(&options.space)
                .await?
                .stage
                .to_remote(client.redactor()),
        );
        report.rolled_back = true;
        return Ok(());
    }
    wait_and_verify(
        client,
        &options.space,
        &options.poll,
        options.into(),
        progress,
        report,
        deadline,
    )
    .await?;
    report.rolled_back = true;
    Ok(())
}

/// The build wait and the verification of a pushed restore, recorded in `report`.
async fn wait_and_verify(
    client: &HubClient,
    space: &SpaceId,
    poll: &PollSettings,
    verification: Verification<'_>,
    progress: &dyn Progress,
    report: &mut DeployReport,
    deadline: Instant,
) -> Result<()> {
    progress.event(Event::Phase(Phase::Build));
    let phase = Instant::now();
    let runtime = build::wait_for_running(
        client,
        space,
        deadline,
        poll,
        report.changed,
        progress,
        report,
    )
    .await;
    report.durations.build_ms = Some(millis(phase.elapsed()));
    report.stage = Some(runtime?.stage.to_remote(client.redactor()));
    progress.event(Event::Phase(Phase::Health));
    verify::check(client, verification, progress, report, deadline).await
}

/// The restore of `target` to the Space of `space` through `client`'s git URL and token.
fn request(client: &HubClient, space: &SpaceId, target: RestoreTarget) -> RestoreRequest {
    RestoreRequest {
        remote_url: client.git_url(space),
        space: space.to_string(),
        token: client.token().cloned(),
        target,
        author: (
            "hf-deploy".to_string(),
            "hf-deploy@users.noreply.huggingface.co".to_string(),
        ),
        max_race_retries: 3,
        retry: RetryPolicy::git(),
    }
}

/// What a restore did, in the report.
fn record(report: &mut DeployReport, restored: RestoreOutcome, redactor: &Redactor) {
    report.commit_sha = Some(restored.commit_sha);
    report.changed = restored.changed;
    report.restored_commit = Some(restored.to);
    report.rolled_back_from = Some(restored.from);
    report.files = file_changes(
        restored.added,
        restored.modified,
        restored.removed,
        redactor,
    );
}

/// The Space as the deploy found it, before its push: what rollback on failure restores.
#[derive(Debug, Clone)]
pub(super) struct Previous {
    /// The head before the push (`None`: a new Space, or one without a commit).
    pub(super) head: Option<String>,
    /// Its runtime stage then, when the Hub said.
    pub(super) stage: Option<SpaceStage>,
}

impl Previous {
    /// The previous revision looked healthy: it ran (or slept after running).
    fn looked_healthy(&self) -> bool {
        matches!(
            self.stage,
            Some(
                SpaceStage::Running
                    | SpaceStage::RunningBuilding
                    | SpaceStage::RunningAppStarting
                    | SpaceStage::Sleeping
            )
        )
    }
}

/// Which failures rollback on failure answers: the new revision ended in an error stage, or
/// failed its health check (an unhealthy answer, or none before the deadline).
pub(super) fn answers(error: &Error, in_health: bool) -> bool {
    match error {
        Error::SpaceFailed { .. } => true,
        Error::Unhealthy { .. } | Error::Timeout { .. } => in_health,
        _ => false,
    }
}

/// After the new revision failed: push the previous head's tree back, wait for it and verify it
/// with a deadline of its own. The report keeps what failed; `restored_commit` names the commit
/// put back, `rolled_back` says it verified, and a warning says what happened either way.
pub(super) async fn after_failure(
    client: &HubClient,
    options: &DeployOptions,
    progress: &dyn Progress,
    report: &mut DeployReport,
    previous: &Previous,
) {
    let warn = |report: &mut DeployReport, text: String| {
        let warning = RemoteText::new(&text, client.redactor());
        progress.event(Event::Warning(&warning));
        report.warnings.push(warning);
    };
    let Some(head) = previous.head.clone() else {
        return warn(
            report,
            "rollback on failure: nothing to restore, the Space had no earlier revision".into(),
        );
    };
    if !report.changed {
        return warn(
            report,
            "rollback on failure: nothing to restore, this deploy did not change the Space's files"
                .into(),
        );
    }
    if !previous.looked_healthy() {
        let stage = previous
            .stage
            .as_ref()
            .map_or("unknown", SpaceStage::as_str);
        return warn(
            report,
            format!(
                "rollback on failure: the earlier revision {head} was not running before this deploy (stage {stage}); it was not restored"
            ),
        );
    }
    progress.event(Event::Phase(Phase::Restore));
    let mut restored = DeployReport {
        visibility: report.visibility.clone(),
        health_url: report.health_url.clone(),
        ..DeployReport::default()
    };
    let target = RestoreTarget::Commit(head.clone());
    let pushed = push::restore(request(client, &options.space, target)).await;
    let verified = match pushed {
        Ok(outcome) => {
            record(&mut restored, outcome, client.redactor());
            report.restored_commit = Some(head.clone());
            let deadline = Instant::now() + options.timeout;
            wait_and_verify(
                client,
                &options.space,
                &options.poll,
                options.into(),
                progress,
                &mut restored,
                deadline,
            )
            .await
        }
        Err(error) => Err(error),
    };
    let commit = restored.commit_sha.as_deref().unwrap_or("no commit");
    match verified {
        Ok(()) => {
            report.rolled_back = true;
            warn(
                report,
                format!(
                    "production restored: the tree of {head} was pushed back as {commit}, and it runs and answers healthy"
                ),
            );
        }
        Err(error) => warn(
            report,
            format!(
                "rollback on failure did not restore {head}: {}",
                error.redacted(client.redactor())
            ),
        ),
    }
}
