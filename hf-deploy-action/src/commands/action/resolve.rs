//! Step 2 of the action: decide what this run does, with everything checked first.
//!
//! The runner's variables, the event, every input and the scaffold of the source are checked,
//! and the Hub client made (keyless: this job's OIDC token exchanged), before anything is
//! written anywhere: a bad input exits 2 with no deployment, no status, no comment and no Hub
//! call.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use hf_deploy_core::hub::{HubClient, IdTokenSource, KeylessToken, RENEW_BEFORE};
use hf_deploy_core::{DeployOptions, Error, SpaceId, Visibility, inputs};
use octocrab::Octocrab;

use super::annotate;
use super::gate::{self, Checked};
use super::joblog::emit;
use super::mark::{self, Found};
use crate::github::api::{self, GitHubRepo, Target};
use crate::github::commands as gha;
use crate::github::files;
use crate::github::inputs::{ActionConfig, ActionInputs, PREVIEW_MARK, RunnerEnv};
use crate::github::oidc;
use crate::ui::{Reported, Ui};

/// Everything a run works with once its inputs are checked.
pub(super) struct Run {
    /// The runner's `GITHUB_*` variables.
    pub(super) runner: RunnerEnv,
    /// `GITHUB_WORKSPACE` (`.` when unset): where a relative `source` lives.
    pub(super) workspace: PathBuf,
    /// The checked action-only inputs.
    pub(super) config: ActionConfig,
    /// The Hub client (with `hf-token`, or keyless).
    pub(super) hub: HubClient,
    /// The GitHub API, when there is a token and a repository.
    pub(super) github: Option<GitHub>,
    /// The workflow run's URL, when the runner names it.
    pub(super) run_url: Option<String>,
    /// What this run does.
    pub(super) job: Job,
}

/// The GitHub API client and the repository of the workflow.
pub(super) struct GitHub {
    /// The client.
    pub(super) client: Octocrab,
    /// `GITHUB_REPOSITORY`.
    pub(super) repo: GitHubRepo,
}

/// What a run does.
pub(super) enum Job {
    /// Deploy a Space.
    Deploy(Box<Deploy>),
    /// A pull request closed: remove its preview Space.
    ClosePreview(ClosePreview),
}

/// A deploy, as [`api::target`] decided it.
pub(super) struct Deploy {
    /// The checked options of the deploy.
    pub(super) options: DeployOptions,
    /// The Space (the preview Space for a preview).
    pub(super) space: SpaceId,
    /// The commit to record (the pull request's head, else `GITHUB_SHA`; may be empty).
    pub(super) sha: String,
    /// The GitHub environment of the deployment.
    pub(super) environment: String,
    /// True for a preview.
    pub(super) preview: bool,
    /// The pull request to comment on.
    pub(super) pr_number: Option<u64>,
}

/// A preview to delete: its pull request closed, or lost its `preview-label`.
pub(super) struct ClosePreview {
    /// The preview Space.
    pub(super) space: SpaceId,
    /// Its GitHub environment.
    pub(super) environment: String,
    /// The pull request.
    pub(super) pr_number: u64,
    /// True when it was merged.
    pub(super) merged: bool,
    /// The `preview-label` taken off the open pull request, when that is why.
    pub(super) label_removed: Option<String>,
}

/// The outcome of step 2: a run to carry out, or an early, successful end.
pub(super) enum Resolved {
    /// Go on.
    Run(Box<Run>),
    /// Nothing to do (a fork's pull request, a closed pull request without previews, one
    /// without the `preview-label`): a notice or warning said why.
    Stop(ExitCode),
}

/// Step 2. Errors are already annotated for the job page (see [`annotate::fail`]).
///
/// In order: the runner and the event (a payload that cannot be read, or a pull request
/// event without its pull request: bad input); every input (bad input: exit 2); the event alone
/// (a fork skipped, closing, labels); the scaffold of the source, for a deploy only (a closing
/// needs no source: its job may have no checkout); the pull request read again where the
/// event cannot be trusted ([`gate::recheck`]); the Hub client; for a preview, its mark.
pub(super) async fn resolve(
    inputs: ActionInputs,
    vars: &[(String, String)],
    ui: &Ui,
) -> anyhow::Result<Resolved> {
    let runner = match RunnerEnv::from_env(vars.iter().cloned()) {
        Ok(runner) => runner,
        Err(error) => return Err(annotate::failure(error, Path::new(""), ui)),
    };
    let workspace = PathBuf::from(runner.workspace.as_deref().unwrap_or("."));
    let fail = |error: Error| annotate::failure(error, &workspace, ui);
    let event = files::run_event(
        runner.event_name.as_deref(),
        runner.event_path.as_deref().map(Path::new),
    )
    .map_err(fail)?;
    let config = inputs
        .validate(&workspace, runner.sha.as_deref())
        .map_err(fail)?;
    if let Some(text) = event
        .as_ref()
        .and_then(|pr| gate::fork_skip(pr, config.allow_forks))
    {
        emit(&gha::notice("hf-deploy: skipped", &text));
        return Ok(Resolved::Stop(ExitCode::SUCCESS));
    }
    let github_sha = runner.sha.clone().unwrap_or_default();
    let mut rules = gate::rules(&config);
    if runner.is_rerun() {
        // A re-run's payload is the first attempt's: its labels are read again below.
        rules.preview_label = None;
    }
    let target = api::target(&config.space, &rules, event.as_ref(), &github_sha);
    if let Target::Nothing(reason) = &target {
        emit(&gha::notice("hf-deploy", reason));
        return Ok(Resolved::Stop(ExitCode::SUCCESS));
    }
    let options = match &target {
        Target::Deploy { .. } => Some(resolve_options(&config, &target).await?.map_err(fail)?),
        _ => None,
    };
    if let Some(options) = &options {
        // The passwords of URL-valued variables, and the secrets' other forms.
        crate::guard::learn(&options.redactor);
    }
    let (github, run_url) = github_api(&runner, &config);
    let api = github.as_ref().map(|g| (&g.client, &g.repo));
    let target = match gate::recheck(api, event.as_ref(), target, &config, &github_sha).await {
        Ok(Checked::Go(target)) => target,
        Ok(Checked::Stop(code)) => return Ok(Resolved::Stop(code)),
        Err(error) => {
            emit(&gha::error("hf-deploy", &error.to_string()));
            return Err(anyhow::Error::new(error));
        }
    };
    let space = match &target {
        Target::Deploy { space, .. } | Target::DeletePreview { space, .. } => space,
        Target::Nothing(_) => return Ok(Resolved::Stop(ExitCode::SUCCESS)),
    };
    let hub = match hub_client(vars, &config, &oidc::endpoint(vars), space).await {
        Ok(hub) => hub,
        Err(error) => return Err(error.downcast::<Error>().map_or_else(|e| e, fail)),
    };
    let job = job(target, options, &hub, runner.repository().as_ref()).await?;
    Ok(Resolved::Run(Box::new(Run {
        runner,
        workspace,
        config,
        hub,
        github,
        run_url,
        job,
    })))
}

/// The job of a target; a preview deploy gets its mark ([`mark`]) among its variables, after
/// checking that the Space, if it exists, is not another pull request's preview. `repo` is
/// `GITHUB_REPOSITORY`.
async fn job(
    target: Target,
    options: Option<DeployOptions>,
    hub: &HubClient,
    repo: Option<&GitHubRepo>,
) -> anyhow::Result<Job> {
    match target {
        Target::Deploy {
            space,
            sha,
            environment,
            preview,
            pr_number,
        } => {
            let mut options =
                options.ok_or_else(|| anyhow::anyhow!("a deploy without its checked inputs"))?;
            match (preview, pr_number, repo) {
                (true, Some(number), Some(repo)) => {
                    let expected = mark::value(repo, number);
                    check_mark(hub, &space, &expected).await?;
                    options
                        .settings
                        .variables
                        .insert(PREVIEW_MARK.to_string(), expected);
                }
                (true, _, None) => emit(&gha::warning(
                    "hf-deploy",
                    &format!(
                        "`GITHUB_REPOSITORY` is not set: preview Space `{space}` gets no preview mark, so closing its pull request will leave it in place"
                    ),
                )),
                _ => {}
            }
            Ok(Job::Deploy(Box::new(Deploy {
                options,
                space,
                sha,
                environment,
                preview,
                pr_number,
            })))
        }
        Target::DeletePreview {
            space,
            environment,
            pr_number,
            merged,
            label_removed,
        } => Ok(Job::ClosePreview(ClosePreview {
            space,
            environment,
            pr_number,
            merged,
            label_removed,
        })),
        Target::Nothing(reason) => Err(anyhow::anyhow!("nothing to do: {reason}")),
    }
}

/// A preview Space that exists must not carry another pull request's mark (deploying would
/// take it over, and this pull request's closing would then delete it); an unmarked one is
/// taken over with a warning (a preview made before marks existed).
async fn check_mark(hub: &HubClient, space: &SpaceId, expected: &str) -> anyhow::Result<()> {
    match mark::read(hub, space, expected).await {
        Ok(Found::Gone | Found::Ours) => Ok(()),
        Ok(Found::Unmarked) => {
            emit(&gha::warning(
                "hf-deploy",
                &format!(
                    "preview Space `{space}` exists without a preview mark: this deploy marks it as the preview of `{expected}`"
                ),
            ));
            Ok(())
        }
        Ok(found @ Found::Other(_)) => {
            let text = format!(
                "refusing to deploy the preview: {}",
                mark::why_kept(space, &found, expected)
            );
            emit(&gha::error("hf-deploy", &text));
            // The mark found is the Hub's text: through the door on stderr too.
            Err(Reported(format!("error: {}", crate::guard::shown(&text)), 1).into())
        }
        Err(error) => {
            emit(&annotate::annotations(&error, Path::new("")));
            Err(anyhow::Error::new(error))
        }
    }
}

/// The shared input step (every rule, the scaffold of the source), off the async threads;
/// the target's Space replaces the `space` input (a preview deploys to its own Space, created
/// protected unless `visibility` is given). The
/// outer error: the step itself stopped.
async fn resolve_options(
    config: &ActionConfig,
    target: &Target,
) -> anyhow::Result<Result<DeployOptions, Error>> {
    let mut raw = config.raw.clone();
    if let Target::Deploy { space, preview, .. } = target {
        raw.space = Some(space.to_string());
        if *preview {
            // A preview exists for its frontend: a new one is created protected (private code,
            // an app browsers reach) unless `visibility` says otherwise.
            raw.default_visibility = Visibility::Protected;
        }
    }
    tokio::task::spawn_blocking(move || inputs::resolve(&raw))
        .await
        .map_err(|error| anyhow::anyhow!("input validation stopped: {error}"))
}

/// The Hub client of this run: the `hf-token` input, else (or with `HF_OIDC_RESOURCE`) a
/// keyless token of `space`, this job's OIDC token exchanged at once (bad setups are usage
/// errors naming the fix; the token is masked before anything else is printed) and again
/// before it expires.
async fn hub_client(
    vars: &[(String, String)],
    config: &ActionConfig,
    endpoint: &str,
    space: &SpaceId,
) -> anyhow::Result<HubClient> {
    // A bad `HF_DEPLOY_HTTP_TIMEOUT` is reported before the job's token is asked for.
    let timeout = crate::env::http_timeout()?;
    let ids = match oidc::auth(vars, &config.hf_token, config.preview, space)? {
        oidc::Auth::Token(token) => {
            return super::super::deploy::build_client(endpoint, Some(token));
        }
        oidc::Auth::Keyless(ids) => ids,
    };
    let renews = ids.renews();
    let user_agent = concat!("hf-deploy/", env!("CARGO_PKG_VERSION"));
    let keyless = KeylessToken::new(endpoint, space.clone(), user_agent, Arc::new(ids));
    // The first exchange now: a refused one stops the run before anything is written.
    keyless.token().await?;
    let minutes = keyless.expires_at().map_or(0, |at| {
        at.saturating_duration_since(Instant::now()).as_secs() / 60
    });
    let mut builder = HubClient::builder()
        .endpoint(endpoint)
        .user_agent(user_agent)
        .redactor(crate::guard::redactor())
        .keyless(keyless);
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    let hub = builder.build()?;
    let lasts = if renews {
        format!(
            "valid {minutes} minutes, exchanged again with a fresh OIDC token {} s before it expires",
            RENEW_BEFORE.as_secs()
        )
    } else {
        format!(
            "valid {minutes} minutes; the OIDC token was given as is (`HF_OIDC_ID_TOKEN`), so it cannot be renewed"
        )
    };
    emit(&gha::notice(
        "hf-deploy",
        &format!(
            "keyless deploy: exchanged this job's OIDC token for a token of Space `{space}` (Trusted Publisher, {lasts})"
        ),
    ));
    Ok(hub)
}

/// The GitHub API (with `github-token` and `GITHUB_REPOSITORY`; a client that cannot be made
/// is a warning) and the workflow run's URL.
fn github_api(runner: &RunnerEnv, config: &ActionConfig) -> (Option<GitHub>, Option<String>) {
    let repo = runner.repository();
    let run_url = match (&repo, &runner.run_id) {
        (Some(repo), Some(run_id)) => Some(api::run_url(runner.server_url(), repo, run_id)),
        _ => None,
    };
    let (Some(token), Some(repo)) = (&config.github_token, repo) else {
        return (None, run_url);
    };
    match api::client(runner.api_url(), token) {
        Ok(client) => (Some(GitHub { client, repo }), run_url),
        Err(error) => {
            emit(&gha::warning(
                "hf-deploy",
                &format!("no GitHub API: {error}"),
            ));
            (None, run_url)
        }
    }
}
