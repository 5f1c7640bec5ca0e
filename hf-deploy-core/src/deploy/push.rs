//! The push step: the settings first, the push beside them. On an existing Space the settings'
//! reads (and their Argon2id checks) run beside the push's fetch and plan, and the push writes
//! nothing until the settings are in place, so its build sees them (one build, not two). A new
//! Space got them in the create call.

use std::time::Instant;

use crate::error::Result;
use crate::hub::HubClient;
use crate::inputs::DeployOptions;
use crate::push::{self, PushOutcome, PushRequest};
use crate::report::{DeployReport, FileChanges};
use crate::scaffold::Scaffold;
use crate::trailer;
use crate::untrusted::{Redactor, RemoteText};
use crate::wait::RetryPolicy;

use super::create::Found;

/// How many times a push fetches `main` again and recommits its tree after another pusher moved
/// it (eight deploys of one Space at once all land within this many).
const MAX_RACE_RETRIES: u32 = 9;
use super::settings::{apply_settings, scoped_refusal};
use super::{Event, Phase, Progress, millis};

/// Write the settings that changed, push the scaffold, and record both; returns whether the
/// push changed the Space.
pub(super) async fn settings_then_push(
    client: &HubClient,
    options: &DeployOptions,
    progress: &dyn Progress,
    report: &mut DeployReport,
    found: Found,
) -> Result<bool> {
    let phase = Instant::now();
    let request =
        push_request(client, options, options.scaffold.clone(), false, found.head).await?;
    let outcome = if found.created {
        report.secrets_set = options.settings.secrets.keys().cloned().collect();
        report.variables_set = options.settings.variables.keys().cloned().collect();
        progress.event(Event::Phase(Phase::Push));
        let pushed = push::push(request).await;
        warn_settings_without_tree(client, progress, report, &pushed);
        pushed.map_err(|error| error.redacted(client.redactor()))?
    } else {
        let (ready, gate) = std::sync::mpsc::sync_channel(1);
        let settings = async {
            let result = apply_settings(client, options, progress, report)
                .await
                .map_err(|error| scoped_refusal(client, error));
            // A send fails only when the push already ended (an error, or no change).
            let _ = ready.send(result.is_ok());
            if result.is_ok() {
                progress.event(Event::Phase(Phase::Push));
            }
            result
        };
        let (settings, pushed) = tokio::join!(settings, push::push_when(request, gate));
        settings?;
        warn_settings_without_tree(client, progress, report, &pushed);
        pushed.map_err(|error| error.redacted(client.redactor()))?
    };
    report.durations.push_ms = Some(millis(phase.elapsed()));
    record(report, outcome, client.redactor());
    Ok(report.changed)
}

/// A push that failed after this run's secrets or variables were written (a lost race, a
/// refusal): say so, as the Space restarts with them on the files it had.
fn warn_settings_without_tree(
    client: &HubClient,
    progress: &dyn Progress,
    report: &mut DeployReport,
    pushed: &Result<PushOutcome>,
) {
    let written = report.secrets_set.len() + report.variables_set.len();
    if pushed.is_ok() || written == 0 {
        return;
    }
    let warning = RemoteText::new(
        &format!(
            "the push failed after this run wrote {written} secret(s) or variable(s) (the report lists them): the Space restarts with them on the files it had, until a run pushes this tree"
        ),
        client.redactor(),
    );
    progress.event(Event::Warning(&warning));
    report.warnings.push(warning);
}

/// What the push did, in the report (the file names redacted by `redactor`).
pub(super) fn record(report: &mut DeployReport, outcome: PushOutcome, redactor: &Redactor) {
    report.commit_sha = Some(outcome.commit_sha);
    report.changed = outcome.changed;
    report.files = file_changes(outcome.added, outcome.modified, outcome.removed, redactor);
}

/// The paths added, modified and removed, as the report names them (redacted by `redactor`).
pub(super) fn file_changes(
    added: Vec<String>,
    modified: Vec<String>,
    removed: Vec<String>,
    redactor: &Redactor,
) -> FileChanges {
    let names = |paths: Vec<String>| {
        paths
            .iter()
            .map(|path| RemoteText::new(path, redactor))
            .collect()
    };
    FileChanges {
        added: names(added),
        modified: names(modified),
        removed: names(removed),
    }
}

/// Ask for the hardware flavor of the options when the Space has not asked for it yet.
pub(super) async fn request_hardware(client: &HubClient, options: &DeployOptions) -> Result<()> {
    let Some(flavor) = &options.hardware else {
        return Ok(());
    };
    let runtime = client.runtime(&options.space).await?;
    if runtime.hardware.requested.as_deref() != Some(flavor.as_str()) {
        client
            .request_hardware(&options.space, flavor)
            .await
            .map_err(|error| scoped_refusal(client, error))?;
    }
    Ok(())
}

/// The push of `scaffold` to the Space; with `dry_run`, the plan only (nothing is written).
/// Its token is the one valid now (a keyless token renewed when due).
pub(super) async fn push_request(
    client: &HubClient,
    options: &DeployOptions,
    scaffold: Scaffold,
    dry_run: bool,
    head_hint: Option<String>,
) -> Result<PushRequest> {
    Ok(PushRequest {
        remote_url: client.git_url(&options.space),
        token: client.current_token().await?,
        files: scaffold.files,
        executable: scaffold.executable,
        keep: options.keep.clone(),
        message: trailer::with_trailers(
            &options.commit_message,
            options.source_commit.as_deref(),
            None,
        ),
        author: (
            "hf-deploy".to_string(),
            "hf-deploy@users.noreply.huggingface.co".to_string(),
        ),
        max_race_retries: if dry_run { 0 } else { MAX_RACE_RETRIES },
        retry: RetryPolicy::git(),
        dry_run,
        head_hint,
        http: Some(client.http()),
    })
}
