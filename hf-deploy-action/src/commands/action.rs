//! `hf-deploy action`: the GitHub Action's entry point.
//!
//! Order matters: every secret is masked before anything else is printed; then the inputs are
//! checked (bad input: an `::error::` annotation and exit code 2, nothing sent); then the deploy
//! runs with one log group per phase; then outputs, the step summary, the deployment status and
//! the pull-request comment are written. A failure to comment (a fork, a token without
//! `pull-requests: write`) is a warning, never a failed deploy.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use hf_deploy_core::deploy::{self, DeployOptions, DeployOutcome, Event, PollSettings, Progress};
use hf_deploy_core::report::{self, DeployReport};
use hf_deploy_core::settings::{self, SettingsInput};
use hf_deploy_core::{Error, SecretString, SpaceId};
use octocrab::models::repos::DeploymentStatusState;

use crate::github::api::{self, CommentContent, CommentOutcome, DeploymentOutcome, GitHubRepo};
use crate::github::commands::{self as gha, Level, Properties};
use crate::github::files::{self, PullRequestEvent};
use crate::github::inputs::{ActionConfig, ActionInputs};
use crate::ui::{Reported, Ui, render_error};

/// Largest PR comment we post (GitHub's limit is 65,536 characters).
const COMMENT_MAX_BYTES: usize = 60_000;

/// What the runner tells the action through the environment.
#[derive(Debug, Default)]
struct Runner {
    workspace: PathBuf,
    event_path: Option<PathBuf>,
    repository: Option<String>,
    api_url: String,
    server_url: String,
    run_id: Option<String>,
    sha: Option<String>,
    output: Option<PathBuf>,
    step_summary: Option<PathBuf>,
    hf_endpoint: String,
}

impl Runner {
    fn from_vars(vars: &[(String, String)]) -> Runner {
        let get = |key: &str| {
            vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).filter(|v| !v.is_empty())
        };
        Runner {
            workspace: get("GITHUB_WORKSPACE").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")),
            event_path: get("GITHUB_EVENT_PATH").map(PathBuf::from),
            repository: get("GITHUB_REPOSITORY"),
            api_url: get("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
            server_url: get("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into()),
            run_id: get("GITHUB_RUN_ID"),
            sha: get("GITHUB_SHA"),
            output: get("GITHUB_OUTPUT").map(PathBuf::from),
            step_summary: get("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            hf_endpoint: get("HF_ENDPOINT")
                .map(|v| v.trim_end_matches('/').to_string())
                .unwrap_or_else(|| crate::env::DEFAULT_ENDPOINT.to_string()),
        }
    }
}

fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

pub(crate) async fn run(ui: &Ui) -> anyhow::Result<ExitCode> {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    let runner = Runner::from_vars(&vars);

    // 1. Mask every secret before anything else is printed.
    let inputs = match ActionInputs::from_env(vars.iter().cloned()) {
        Ok(inputs) => inputs,
        Err(error) => return fail_early(error, &runner, ui),
    };
    emit(&inputs.mask_commands());

    // 2. The event: a pull request (number, head SHA, fork), or none.
    let event = match &runner.event_path {
        Some(path) => match files::event(path) {
            Ok(event) => event,
            Err(error) => {
                emit(&gha::warning("hf-deploy", &format!("ignoring the event payload: {error}")));
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

    // 3. Check every input (exit 2 on bad input, nothing sent).
    let config = match inputs.validate() {
        Ok(config) => config,
        Err(error) => return fail_early(error, &runner, ui),
    };
    let repo = runner.repository.as_deref().and_then(|r| GitHubRepo::parse(r).ok());
    let github = match (&config.github_token, &repo) {
        (Some(token), Some(_)) => match api::client(&runner.api_url, token) {
            Ok(client) => Some(client),
            Err(error) => {
                emit(&gha::warning("hf-deploy", &format!("no GitHub API: {error}")));
                None
            }
        },
        _ => None,
    };
    let github = github.as_ref().zip(repo.as_ref());

    let space = match (&event, config.preview) {
        (Some(pr), true) => api::preview_space(&config.space, pr.number),
        _ => config.space.clone(),
    };
    let hub = super::deploy::build_client(&runner.hf_endpoint, Some(config.hf_token.clone()))?;

    // A closed pull request with previews: remove the preview, and say so.
    if let (Some(pr), true) = (&event, config.preview) {
        if pr.is_closed() {
            return close_preview(&hub, &space, pr, &config, github, &runner).await;
        }
    }

    // 4. Deploy, one log group per phase.
    let options = deploy_options(&config, &space, &runner)?;
    let head_sha = event.as_ref().map(|pr| pr.head_sha.clone()).or_else(|| runner.sha.clone());
    let run_url = match (&repo, &runner.run_id) {
        (Some(repo), Some(run_id)) => Some(api::run_url(&runner.server_url, repo, run_id)),
        _ => None,
    };
    let environment = api::environment_name(&space);
    let deployment = match (github, &head_sha, config.dry_run) {
        (Some((gh, repo)), Some(sha), false) => {
            let transient = event.is_some() && config.preview;
            let production = event.is_none();
            match api::create_deployment(gh, repo, sha, &environment, transient, production).await {
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
                    emit(&gha::warning("hf-deploy: no GitHub deployment", &error.to_string()));
                    None
                }
            }
        }
        _ => None,
    };

    let printer = GroupPrinter::default();
    let DeployOutcome { report, error } = deploy::deploy(&hub, &options, &printer).await;
    printer.close();

    // 5. Outputs, summary, deployment status, comment.
    write_outputs(&runner, &report)?;
    if let Some(path) = &runner.step_summary {
        if let Err(error) = files::append_summary(path, &report::render_markdown(&report)) {
            emit(&gha::warning("hf-deploy", &format!("no step summary: {error}")));
        }
    }
    if let (Some((gh, repo)), Some(id)) = (github, deployment) {
        let state = if error.is_none() { DeploymentStatusState::Success } else { DeploymentStatusState::Failure };
        let update = api::StatusUpdate {
            state,
            environment_url: Some(report.app_url.as_str()),
            log_url: run_url.as_deref(),
            description: Some(if error.is_none() { "The Space is running" } else { "The deploy failed" }),
        };
        warn_on_error(api::set_status(gh, repo, id, &update).await);
    }
    if let (Some((gh, repo)), Some(pr), true) = (github, &event, config.comment) {
        let markdown = report::render_markdown_within(&report, COMMENT_MAX_BYTES);
        let redact: Vec<SecretString> = config.secrets.iter().map(|(_, v)| v.clone()).collect();
        let body = api::comment_body(&CommentContent {
            space: &space,
            succeeded: error.is_none(),
            report_markdown: &markdown,
            log_tail: &report.log_tail,
            head_sha: head_sha.as_deref(),
            run_url: run_url.as_deref(),
            redact: &redact,
        });
        match api::upsert_comment(gh, repo, pr.number, &api::marker(&space), &body).await {
            Ok(CommentOutcome::Skipped(reason)) => {
                emit(&gha::warning("hf-deploy: no pull-request comment", &reason));
            }
            Ok(_) => {}
            Err(error) => emit(&gha::warning("hf-deploy: no pull-request comment", &error.to_string())),
        }
    }

    match error {
        None => {
            emit(&gha::notice("hf-deploy", &format!("{} is live at {}", report.space_id, report.app_url)));
            Ok(ExitCode::SUCCESS)
        }
        Some(error) => {
            emit(&annotations(&error, &config.source, &runner.workspace));
            let code = if error.is_usage() { 2 } else { 1 };
            Err(Reported(render_error(&anyhow::Error::new(error), ui.color_err), code).into())
        }
    }
}

/// The raw `hf-token` input is absent or empty.
fn inputs_lack_token(vars: &[(String, String)]) -> bool {
    !vars.iter().any(|(k, v)| k.eq_ignore_ascii_case("INPUT_HF-TOKEN") && !v.trim().is_empty())
}

fn fail_early(error: Error, runner: &Runner, ui: &Ui) -> anyhow::Result<ExitCode> {
    emit(&annotations(&error, Path::new(""), &runner.workspace));
    let code = if error.is_usage() { 2 } else { 1 };
    Err(Reported(render_error(&anyhow::Error::new(error), ui.color_err), code).into())
}

fn deploy_options(config: &ActionConfig, space: &SpaceId, runner: &Runner) -> anyhow::Result<DeployOptions> {
    let secret_args: Vec<String> =
        config.secrets.iter().map(|(key, value)| format!("{key}={}", value.expose())).collect();
    let variable_args: Vec<String> = config.variables.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let settings = settings::resolve(&SettingsInput {
        secret_args: &secret_args,
        secrets_file: None,
        variable_args: &variable_args,
        frontend_origins: &config.frontend_urls,
        lookup: &|_| None,
    })?;
    let source = config.source_in(&runner.workspace);
    let layout = crate::cli::SpaceLayoutArgs {
        title: config.title.clone(),
        emoji: config.emoji.clone(),
        color_from: config.color_from.clone(),
        color_to: config.color_to.clone(),
        short_description: config.short_description.clone(),
        ..crate::cli::SpaceLayoutArgs::default()
    };
    Ok(DeployOptions {
        scaffold: super::scaffold::options(Some(space.clone()), &layout, Some(config.health_path.clone())),
        commit_message: super::deploy::commit_message(&source),
        source,
        space: space.clone(),
        settings,
        frontend_origins: config.frontend_urls.clone(),
        health_path: config.health_path.clone(),
        app_url: config.app_url.clone(),
        private: config.private,
        hardware: config.hardware.clone(),
        wait: config.wait,
        timeout: config.timeout,
        dry_run: config.dry_run,
        allow_degraded: false,
        keep: Vec::new(),
        poll: PollSettings::default(),
    })
}

fn write_outputs(runner: &Runner, report: &DeployReport) -> anyhow::Result<()> {
    let Some(path) = &runner.output else { return Ok(()) };
    let health = report.health.as_ref().map(|h| h.status.clone()).unwrap_or_default();
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
    files::write_outputs(path, &pairs)?;
    Ok(())
}

async fn close_preview(
    hub: &hf_deploy_core::hub::HubClient,
    space: &SpaceId,
    pr: &PullRequestEvent,
    config: &ActionConfig,
    github: Option<(&octocrab::Octocrab, &GitHubRepo)>,
    runner: &Runner,
) -> anyhow::Result<ExitCode> {
    emit(&gha::group(&format!("Delete preview Space {space}")));
    let deleted = match hub.delete_space(space).await {
        Ok(()) => true,
        Err(Error::NotFound { .. }) => false,
        Err(error) => {
            emit(gha::endgroup());
            emit(&annotations(&error, Path::new(""), &runner.workspace));
            return Err(anyhow::Error::new(error));
        }
    };
    emit(&format!("{}\n", if deleted { format!("deleted {space}") } else { format!("{space} was already gone") }));
    emit(gha::endgroup());
    if let Some((gh, repo)) = github {
        match api::deactivate_environment(gh, repo, &api::environment_name(space)).await {
            Ok(_) => {}
            Err(error) => emit(&gha::warning("hf-deploy", &error.to_string())),
        }
        if config.comment {
            let body = api::closed_comment(space, pr.merged, deleted);
            match api::upsert_comment(gh, repo, pr.number, &api::marker(space), &body).await {
                Ok(CommentOutcome::Skipped(reason)) => emit(&gha::warning("hf-deploy: no pull-request comment", &reason)),
                Ok(_) => {}
                Err(error) => emit(&gha::warning("hf-deploy: no pull-request comment", &error.to_string())),
            }
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

/// `::error::` annotations; scaffold and lint errors point at the offending file and line,
/// relative to the workspace.
fn annotations(error: &Error, source: &Path, workspace: &Path) -> String {
    let relative = |path: &Path| -> String {
        let path = if path.is_absolute() { path.to_path_buf() } else { workspace.join(source).join(path) };
        path.strip_prefix(workspace).unwrap_or(&path).display().to_string()
    };
    let message = match error.hint() {
        Some(hint) => format!("{error}\nhint: {hint}"),
        None => error.to_string(),
    };
    match error {
        Error::DockerfileLint { path, violations } => violations
            .iter()
            .map(|violation| {
                let properties = Properties {
                    title: Some(format!("Space rule `{}`", violation.rule)),
                    file: Some(relative(path)),
                    line: violation.line.and_then(|l| u32::try_from(l).ok()),
                    end_line: None,
                };
                gha::annotation(Level::Error, &properties, &violation.message)
            })
            .collect(),
        Error::InvalidSource { path, .. } => {
            let properties = Properties {
                title: Some("hf-deploy: bad backend folder".into()),
                file: Some(relative(path)),
                ..Properties::default()
            };
            gha::annotation(Level::Error, &properties, &message)
        }
        _ => gha::error("hf-deploy", &message),
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
            _ => {}
        }
    }
}
