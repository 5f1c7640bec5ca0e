//! `hf-deploy action`: the GitHub Action's entry point.
//!
//! Order matters: every secret is masked before anything else is printed; then the inputs are
//! checked (bad input: an `::error::` annotation and exit code 2, nothing sent); then the deploy
//! runs with one log group per phase; then outputs, the step summary, the deployment status and
//! the pull-request comment are written. A failure to comment (a fork, a token without
//! `pull-requests: write`) is a warning, never a failed deploy.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use hf_deploy_core::inputs;
use hf_deploy_core::report::DeployReport;
use hf_deploy_core::{DeployOutcome, Error, Event, Field, Progress, SecretString, SpaceId};
use octocrab::models::repos::DeploymentStatusState;

use crate::github::api::{
    self, CommentContent, CommentOutcome, DeploymentOutcome, GitHubRepo, Target,
};
use crate::github::commands::{self as gha, Level, Properties};
use crate::github::inputs::{ActionConfig, ActionInputs, RunnerEnv, SPELLING, spelling};
use crate::github::{files, oidc};
use crate::ui::{Reported, Ui, render_error};

/// Largest PR comment we post (GitHub's limit is 65,536 characters).
const COMMENT_MAX_BYTES: usize = 60_000;

/// Print to the job log (stdout, flushed at once so that masks reach the runner first).
fn emit(text: &str) {
    // Nothing sensible is left to do when the job log itself cannot be written.
    let _ = gha::emit(&mut std::io::stdout().lock(), text);
}

pub(crate) async fn run(ui: &Ui) -> anyhow::Result<ExitCode> {
    let vars: Vec<(String, String)> = std::env::vars().collect();

    // 1. Mask every secret before anything else is printed.
    let inputs = match ActionInputs::from_env(vars.iter().cloned()) {
        Ok(inputs) => inputs,
        Err(error) => return fail(error, Path::new(""), ui),
    };
    emit(&inputs.mask_commands());
    let runner = match RunnerEnv::from_env(vars.iter().cloned()) {
        Ok(runner) => runner,
        Err(error) => return fail(error, Path::new(""), ui),
    };
    let workspace = PathBuf::from(runner.workspace.as_deref().unwrap_or("."));

    // 2. The event: a pull request (number, head SHA, fork), or none.
    let event = match runner.event_path.as_deref() {
        Some(path) => match files::event(Path::new(path)) {
            Ok(event) => event,
            Err(error) => {
                emit(&gha::warning(
                    "hf-deploy",
                    &format!("ignoring the event payload: {error}"),
                ));
                None
            }
        },
        None => None,
    };
    if let Some(pr) = &event {
        if pr.is_fork() && inputs_lack_token(&vars) {
            emit(&gha::warning(
                "hf-deploy: skipped",
                &format!(
                    "pull request #{} comes from a fork, whose workflow runs get no secrets: nothing was deployed",
                    pr.number
                ),
            ));
            return Ok(ExitCode::SUCCESS);
        }
    }

    // 3. Check every input, the scaffold of the source included, before anything is written
    //    anywhere (bad input: exit 2, no deployment, no status, no comment, no Hub call).
    let config = match inputs.validate(&workspace) {
        Ok(config) => config,
        Err(error) => return fail(error, &workspace, ui),
    };
    let github_sha = runner.sha.clone().unwrap_or_default();
    let target = api::target(&config.space, config.preview, event.as_ref(), &github_sha);
    let mut raw = config.raw.clone();
    if let Target::Deploy { space, .. } = &target {
        raw.space = Some(space.to_string());
    }
    let options = match tokio::task::spawn_blocking(move || inputs::resolve(&raw)).await {
        Ok(Ok(options)) => options,
        Ok(Err(error)) => return fail(error, &workspace, ui),
        Err(error) => return Err(anyhow::anyhow!("input validation stopped: {error}")),
    };
    // The Hub client: with `hf-token`, or keyless (Trusted Publishers) when it is empty: this
    // job's OIDC token is exchanged for a token of the target Space, masked at once. Nothing is
    // written anywhere before this succeeds.
    let endpoint = oidc::endpoint(&vars);
    let hub = match &target {
        Target::Nothing(reason) => {
            emit(&gha::notice("hf-deploy", reason));
            return Ok(ExitCode::SUCCESS);
        }
        Target::Deploy { space, .. } | Target::DeletePreview { space, .. } => {
            match hub_client(&vars, &config, &endpoint, space).await {
                Ok(hub) => hub,
                Err(error) => match error.downcast::<Error>() {
                    Ok(error) => return fail(error, &workspace, ui),
                    Err(error) => return Err(error),
                },
            }
        }
    };

    let repo = runner
        .repository
        .as_deref()
        .and_then(|r| GitHubRepo::parse(r).ok());
    let github = match (&config.github_token, &repo) {
        (Some(token), Some(_)) => match api::client(runner.api_url(), token) {
            Ok(client) => Some(client),
            Err(error) => {
                emit(&gha::warning(
                    "hf-deploy",
                    &format!("no GitHub API: {error}"),
                ));
                None
            }
        },
        _ => None,
    };
    let github = github.as_ref().zip(repo.as_ref());
    let run_url = match (&repo, &runner.run_id) {
        (Some(repo), Some(run_id)) => Some(api::run_url(runner.server_url(), repo, run_id)),
        _ => None,
    };

    let (space, sha, environment, preview, pr_number) = match target {
        Target::Deploy {
            space,
            sha,
            environment,
            preview,
            pr_number,
        } => (space, sha, environment, preview, pr_number),
        Target::DeletePreview {
            space,
            environment,
            pr_number,
            merged,
        } => {
            return close_preview(
                &hub,
                &space,
                &environment,
                pr_number,
                merged,
                &config,
                github,
                &runner,
            )
            .await;
        }
        Target::Nothing(reason) => {
            emit(&gha::notice("hf-deploy", &reason));
            return Ok(ExitCode::SUCCESS);
        }
    };

    // 4. Deploy, one log group per phase, recorded as a GitHub deployment.
    let deployment = match (github, sha.is_empty() || options.dry_run) {
        (Some((gh, repo)), false) => {
            match api::create_deployment(gh, repo, &sha, &environment, preview, pr_number.is_none())
                .await
            {
                Ok(DeploymentOutcome::Created(id)) => {
                    let update = api::StatusUpdate {
                        state: DeploymentStatusState::InProgress,
                        environment_url: None,
                        log_url: run_url.as_deref(),
                        description: Some("Deploying to the Hugging Face Space"),
                    };
                    warn_on_error(api::set_status(gh, repo, id, &update).await);
                    Some(id)
                }
                Ok(DeploymentOutcome::NotCreated(reason)) => {
                    emit(&gha::warning("hf-deploy: no GitHub deployment", &reason));
                    None
                }
                Err(error) => {
                    emit(&gha::warning(
                        "hf-deploy: no GitHub deployment",
                        &error.to_string(),
                    ));
                    None
                }
            }
        }
        _ => None,
    };

    let printer = GroupPrinter::default();
    let DeployOutcome { report, error } = hf_deploy_core::deploy(&hub, &options, &printer).await;
    printer.close();

    // 5. Outputs, summary, deployment status, comment.
    write_outputs(&runner, &report)?;
    if let Some(path) = runner.step_summary.as_deref() {
        if let Err(error) =
            files::append_summary(Path::new(path), &crate::render::markdown::render(&report))
        {
            emit(&gha::warning(
                "hf-deploy",
                &format!("no step summary: {error}"),
            ));
        }
    }
    if let (Some((gh, repo)), Some(id)) = (github, deployment) {
        let state = if error.is_none() {
            DeploymentStatusState::Success
        } else {
            DeploymentStatusState::Failure
        };
        let update = api::StatusUpdate {
            state,
            environment_url: Some(report.app_url.as_str()),
            log_url: run_url.as_deref(),
            description: Some(if error.is_none() {
                "The Space is running"
            } else {
                "The deploy failed"
            }),
        };
        warn_on_error(api::set_status(gh, repo, id, &update).await);
    }
    if let (Some((gh, repo)), Some(number), true) = (github, pr_number, config.comment) {
        let markdown = crate::render::markdown::render_within(&report, COMMENT_MAX_BYTES);
        let redact: Vec<SecretString> = options.settings.secrets.values().cloned().collect();
        let body = api::comment_body(&CommentContent {
            space: &space,
            succeeded: error.is_none(),
            report_markdown: &markdown,
            log_tail: &report.log_tail,
            head_sha: Some(sha.as_str()).filter(|s| !s.is_empty()),
            run_url: run_url.as_deref(),
            redact: &redact,
        });
        post_comment(gh, repo, number, &space, &body).await;
    }

    match error {
        None => {
            emit(&gha::notice(
                "hf-deploy",
                &format!("{} is live at {}", report.space_id, report.app_url),
            ));
            Ok(ExitCode::SUCCESS)
        }
        Some(error) => fail(error, &workspace, ui),
    }
}

async fn post_comment(
    gh: &octocrab::Octocrab,
    repo: &GitHubRepo,
    number: u64,
    space: &SpaceId,
    body: &str,
) {
    match api::upsert_comment(gh, repo, number, &api::marker(space), body).await {
        Ok(CommentOutcome::Skipped(reason)) => {
            emit(&gha::warning("hf-deploy: no pull-request comment", &reason))
        }
        Ok(_) => {}
        Err(error) => emit(&gha::warning(
            "hf-deploy: no pull-request comment",
            &error.to_string(),
        )),
    }
}

/// The raw `hf-token` input is absent or empty.
fn inputs_lack_token(vars: &[(String, String)]) -> bool {
    !vars
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("INPUT_HF-TOKEN") && !v.trim().is_empty())
}

/// Annotate the error for the job page and end with its exit code (2 for bad input). Inputs
/// are named as the workflow spells them (`color-from`, `timeout-minutes`).
/// The Hub client of this run: the `hf-token` input, else a token of `space` exchanged for this
/// job's OIDC token (keyless deploys; bad setups are usage errors naming the fix).
async fn hub_client(
    vars: &[(String, String)],
    config: &ActionConfig,
    endpoint: &str,
    space: &SpaceId,
) -> anyhow::Result<hf_deploy_core::hub::HubClient> {
    if !config.hf_token.is_empty() {
        return super::deploy::build_client(endpoint, Some(config.hf_token.clone()));
    }
    oidc::check(vars, config.preview)?;
    let scoped = oidc::scoped_token(vars, endpoint, space).await?;
    // Masked before anything else is printed.
    emit(&gha::mask(scoped.token.expose()));
    let until = std::time::Instant::now() + scoped.expires_in;
    let hub = hf_deploy_core::hub::HubClient::builder()
        .endpoint(endpoint)
        .user_agent(concat!("hf-deploy/", env!("CARGO_PKG_VERSION")))
        .token(scoped.token)
        .scoped_token(until)
        .build()?;
    emit(&gha::notice(
        "hf-deploy",
        &format!(
            "keyless deploy: exchanged this job's OIDC token for a token of Space `{space}` (Trusted Publisher, valid {} minutes)",
            scoped.expires_in.as_secs() / 60
        ),
    ));
    Ok(hub)
}

fn fail(error: Error, workspace: &Path, ui: &Ui) -> anyhow::Result<ExitCode> {
    emit(&annotations(&error, workspace));
    let code = if error.is_usage() { 2 } else { 1 };
    let text = match error.field() {
        Some(_) => {
            let mut text = format!("error: {}", error.message_with(SPELLING));
            if let Some(hint) = error.hint_with(SPELLING) {
                text.push_str(&format!("\nhint: {hint}"));
            }
            text
        }
        None => render_error(&anyhow::Error::new(error), ui.color_err),
    };
    Err(Reported(text, code).into())
}

fn write_outputs(runner: &RunnerEnv, report: &DeployReport) -> anyhow::Result<()> {
    let Some(path) = runner.output.as_deref() else {
        return Ok(());
    };
    let health = report
        .health
        .as_ref()
        .map(|h| h.status.clone())
        .unwrap_or_default();
    let outputs = [
        ("space-id", report.space_id.clone()),
        ("space-url", report.space_url.clone()),
        ("app-url", report.app_url.clone()),
        ("docs-url", report.docs_url.clone()),
        ("health-url", report.health_url.clone()),
        ("commit-sha", report.commit_sha.clone().unwrap_or_default()),
        ("changed", report.changed.to_string()),
        ("stage", report.stage.clone().unwrap_or_default()),
        ("health", health),
    ];
    let pairs: Vec<(&str, &str)> = outputs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    files::write_outputs(Path::new(path), &pairs)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn close_preview(
    hub: &hf_deploy_core::hub::HubClient,
    space: &SpaceId,
    environment: &str,
    pr_number: u64,
    merged: bool,
    config: &ActionConfig,
    github: Option<(&octocrab::Octocrab, &GitHubRepo)>,
    runner: &RunnerEnv,
) -> anyhow::Result<ExitCode> {
    emit(&gha::group(&format!("Delete preview Space {space}")));
    let deleted = match hub.delete_space(space).await {
        Ok(()) => true,
        Err(Error::NotFound { .. }) => false,
        Err(error) => {
            emit(gha::endgroup());
            emit(&annotations(&error, Path::new("")));
            return Err(anyhow::Error::new(error));
        }
    };
    emit(&if deleted {
        format!("deleted {space}\n")
    } else {
        format!("{space} was already gone\n")
    });
    emit(gha::endgroup());
    if let Some((gh, repo)) = github {
        warn_on_error(api::deactivate_environment(gh, repo, environment).await);
        if config.comment {
            post_comment(
                gh,
                repo,
                pr_number,
                space,
                &api::closed_comment(space, merged, deleted),
            )
            .await;
        }
    }
    let report = DeployReport {
        space_id: space.to_string(),
        space_url: space.web_url(hub.endpoint()),
        stage: Some("DELETED".into()),
        ..DeployReport::default()
    };
    write_outputs(runner, &report)?;
    Ok(ExitCode::SUCCESS)
}

fn warn_on_error<T>(result: Result<T, crate::github::Error>) {
    if let Err(error) = result {
        emit(&gha::warning("hf-deploy", &error.to_string()));
    }
}

/// `::error::` annotations, naming inputs as the workflow spells them; scaffold and lint errors
/// name the `source` input and point at the offending file and line, relative to the workspace.
fn annotations(error: &Error, workspace: &Path) -> String {
    let relative = |path: &Path| -> String {
        let path = if path.is_absolute() {
            path.to_path_buf()
        } else {
            workspace.join(path)
        };
        path.strip_prefix(workspace)
            .unwrap_or(&path)
            .display()
            .to_string()
    };
    let message = match error.hint_with(SPELLING) {
        Some(hint) => format!("{}\nhint: {hint}", error.message_with(SPELLING)),
        None => error.message_with(SPELLING),
    };
    let source = spelling(Field::Source);
    match error {
        Error::DockerfileLint { path, violations } => violations
            .iter()
            .map(|violation| {
                let properties = Properties {
                    title: Some(format!(
                        "hf-deploy: `{source}` breaks Space rule `{}`",
                        violation.rule
                    )),
                    file: Some(relative(path)),
                    line: violation.line.and_then(|l| u32::try_from(l).ok()),
                    end_line: None,
                };
                gha::annotation(Level::Error, &properties, &violation.message)
            })
            .collect(),
        Error::InvalidSource { path, .. } => {
            let properties = Properties {
                title: Some(format!(
                    "hf-deploy: invalid `{source}` (the backend folder)"
                )),
                file: Some(relative(path)),
                ..Properties::default()
            };
            gha::annotation(Level::Error, &properties, &message)
        }
        _ => match error.field() {
            Some(field) => gha::error(
                &format!("hf-deploy: invalid `{}`", spelling(field)),
                &message,
            ),
            None => gha::error("hf-deploy", &message),
        },
    }
}

/// Progress in the job log: one `::group::` per phase, stage changes and build log lines inside.
#[derive(Default)]
struct GroupPrinter {
    open: Mutex<bool>,
    last_stage: Mutex<String>,
}

impl GroupPrinter {
    fn close(&self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if *open {
            emit(gha::endgroup());
            *open = false;
        }
    }
}

impl Progress for GroupPrinter {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Phase(phase) => {
                self.close();
                emit(&gha::group(&format!("hf-deploy: {phase}")));
                *self.open.lock().unwrap_or_else(|e| e.into_inner()) = true;
            }
            Event::Stage { stage, elapsed } => {
                let stage = stage.to_string();
                let mut last = self.last_stage.lock().unwrap_or_else(|e| e.into_inner());
                if *last != stage {
                    emit(&format!("stage {stage} ({}s)\n", elapsed.as_secs()));
                    *last = stage;
                }
            }
            Event::BuildLog(line) => emit(&format!("| {line}\n")),
            Event::HealthAttempt(what) => emit(&format!("health: {what}\n")),
            Event::Warning(message) => emit(&gha::warning("hf-deploy", message)),
            Event::RateLimitWait {
                action,
                wait,
                until,
            } => emit(&gha::notice(
                "hf-deploy: rate-limited",
                &format!(
                    "the Hub rate-limited the request to {action}: waiting until {} ({}s) for its window to reset",
                    hf_deploy_core::report::utc(until),
                    wait.as_secs()
                ),
            )),
            _ => {}
        }
    }
}
