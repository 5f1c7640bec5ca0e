//! `hf-deploy action`: the GitHub Action's entry point, as four named steps.
//!
//! 1. [`mask`]: every secret is masked before anything else is printed.
//! 2. [`resolve`](resolve::resolve): the runner, the event and every input are checked, the
//!    source scaffolded and the Hub client made (bad input: an `::error::` annotation and exit
//!    code 2, nothing sent anywhere), and what this run does is decided.
//! 3. [`deploy`]: recorded as a GitHub deployment, one log group per phase.
//! 4. [`publish`](publish::publish): outputs, the step summary, the deployment status and the
//!    pull-request comment. A failure to comment (a fork, a token without
//!    `pull-requests: write`) is a warning, never a failed deploy.
//!
//! A preview that ends (its pull request closed, or lost its `preview-label`) takes the other
//! road after step 2: [`close::close_preview`]. `command: previews-prune` takes its own road
//! after step 1: [`prune`], the sweep of stale previews. Who may deploy what (forks, closed pull
//! requests, labels) is [`gate`]'s; the preview mark is [`mark`]'s. `dry-run` writes nothing
//! anywhere: no Hub write, no deployment, no status, no comment.
//!
//! Before step 2, an `hf-deploy.toml` entry fills the inputs left empty or at their default
//! ([`from_file`]); `command: plan` sets the `matrix` output instead of deploying ([`plan`]);
//! `command: rollback` takes the same steps with the library's rollback in step 3 ([`restore`]).

mod annotate;
mod close;
mod from_file;
mod gate;
mod joblog;
pub(super) mod mark;
mod plan;
mod progress;
mod prune;
mod publish;
mod resolve;

use std::path::Path;
use std::process::ExitCode;

use hf_deploy_core::{DeployOptions, Error, SecretString};
use octocrab::models::repos::DeploymentStatusState;

use crate::github::api::{self, DeploymentOutcome, NewDeployment, StatusText, StatusUpdate};
use crate::github::commands as gha;
use crate::github::inputs::{ActionCommand, ActionInputs};
use crate::github::job;
use crate::ui::Ui;

use self::joblog::{emit, emit_masks, warn_on_error};
use self::publish::Deployed;
use self::resolve::{Deploy, GitHub, Job, Resolved, Run};

pub(crate) async fn run(ui: &Ui) -> anyhow::Result<ExitCode> {
    // The runner reads stdout and stderr for workflow commands: what is shown is written for
    // the workflow log from here on.
    crate::guard::use_workflow_log();
    // `std::env::vars` panics on a value that is not UTF-8: `commands::run` refused the ones
    // read as text (exit 2, named); the rest are left out.
    let mut vars: Vec<(String, String)> = crate::env::text_vars();
    let inputs = match mask(&vars) {
        Ok(inputs) => inputs,
        Err(error) => return annotate::fail(error, Path::new(""), ui),
    };
    // `command: plan` needs no token and deploys nothing; a deploy reads `hf-deploy.toml` first.
    let command = inputs.command();
    match command {
        Ok(ActionCommand::Deploy | ActionCommand::Rollback) => {}
        Ok(ActionCommand::Plan) => return plan::run(&inputs, &vars),
        Ok(ActionCommand::PreviewsPrune) => return prune::run(inputs, &vars, ui).await,
        Err(error) => return annotate::fail(error, Path::new(""), ui),
    }
    let inputs = from_file::read(inputs, &mut vars)?;
    let run = match resolve::resolve(inputs, &vars, ui).await? {
        Resolved::Run(run) => run,
        Resolved::Stop(code) => return Ok(code),
    };
    match &run.job {
        Job::ClosePreview(close) => close::close_preview(&run, close).await,
        Job::Deploy(job) => {
            let deployed = if matches!(command, Ok(ActionCommand::Rollback)) {
                restore(&run, job).await
            } else {
                deploy(&run, job).await
            };
            publish::publish(&run, job, &deployed).await?;
            finish(deployed, &run, ui)
        }
    }
}

/// Step 1: read the inputs and print an `::add-mask::` for every secret they hold; the run's
/// redactor learns them at once, for what the runner does not mask (the comment, outputs).
fn mask(vars: &[(String, String)]) -> Result<ActionInputs, Error> {
    let inputs = ActionInputs::from_env(vars.iter().cloned())?;
    emit_masks(&inputs.mask_commands());
    // `ALLOWED_ORIGINS` holds the frontend origins, which are public (the plan leaves them
    // out of its redactor too, and the report names them).
    let values: Vec<SecretString> = inputs
        .secret_values()
        .into_iter()
        .filter(|(key, _)| *key != Some("ALLOWED_ORIGINS"))
        .map(|(_, value)| SecretString::new(value))
        .collect();
    crate::guard::learn_secrets(&values);
    Ok(inputs)
}

/// Step 3: record a GitHub deployment (in progress), then deploy with one log group per phase.
async fn deploy(run: &Run, job: &Deploy) -> Deployed {
    let deployment = start_deployment(run, job, &job.options).await;
    let printer = progress::GroupPrinter::new(&job.space);
    let outcome = hf_deploy_core::deploy(&run.hub, &job.options, &printer).await;
    printer.close();
    Deployed {
        report: outcome.report,
        error: outcome.error,
        deployment,
    }
}

/// `command: rollback`: the tree of the deploy before the Space's head pushed back as a new
/// commit, waited for and verified with the deploy's checks (no GitHub deployment; a dry run
/// writes nothing and says so).
async fn restore(run: &Run, job: &Deploy) -> Deployed {
    if job.options.dry_run {
        let mut report = hf_deploy_core::report::DeployReport::for_space(
            &job.space,
            run.hub.endpoint(),
            &job.space.computed_app_url(),
            &job.options.health_path,
        );
        report.dry_run = true;
        return Deployed {
            report,
            error: None,
            deployment: None,
        };
    }
    let options = hf_deploy_core::inputs::RollbackOptions::from(&job.options);
    let printer = progress::GroupPrinter::new(&job.space);
    let outcome = hf_deploy_core::rollback(&run.hub, &options, &printer).await;
    printer.close();
    Deployed {
        report: outcome.report,
        error: outcome.error,
        deployment: None,
    }
}

/// A GitHub deployment of the commit, marked in progress; none without the GitHub API, without
/// a commit, in a dry run, with `github-deployment: false`, when GitHub already records this
/// job as a deployment (a notice says so), or when GitHub declines (a warning says why).
async fn start_deployment(run: &Run, job: &Deploy, options: &DeployOptions) -> Option<u64> {
    let github = run.github.as_ref()?;
    if job.sha.is_empty() || options.dry_run || !run.config.github_deployment {
        return None;
    }
    if let Some(environment) = job_environment(run, github).await {
        emit(&gha::notice(
            "hf-deploy: no second GitHub deployment",
            &format!(
                "this job declares `environment: {environment}`, which GitHub records as a deployment already; hf-deploy records none of its own. To keep this notice away, set `github-deployment: false`, or declare `environment: {{name: {environment}, deployment: false}}` to let hf-deploy record it"
            ),
        ));
        return None;
    }
    let new = NewDeployment {
        sha: &job.sha,
        environment: &job.environment,
        space: &job.space,
        preview_of: if job.preview { job.pr_number } else { None },
        production: job.pr_number.is_none(),
    };
    let created = api::create_deployment(&github.client, &github.repo, &new).await;
    match created {
        Ok(DeploymentOutcome::Created(id)) => {
            let update = StatusUpdate {
                state: DeploymentStatusState::InProgress,
                environment_url: None,
                log_url: run.run_url.as_deref(),
                description: Some(StatusText::Deploying),
            };
            warn_on_error(api::set_status(&github.client, &github.repo, id, &update).await);
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

/// The environment of the deployment GitHub made for this job (`environment:` on the job), if
/// one is found ([`job::job_environment`]); a failed lookup finds none.
async fn job_environment(run: &Run, github: &GitHub) -> Option<String> {
    let (sha, run_id) = (run.runner.sha.as_deref()?, run.runner.run_id.as_deref()?);
    job::job_environment(&github.client, &github.repo, sha, run_id)
        .await
        .ok()
        .flatten()
}

/// The run's end: a notice naming the live app, or the deploy's error with its exit code.
fn finish(deployed: Deployed, run: &Run, ui: &Ui) -> anyhow::Result<ExitCode> {
    match deployed.error {
        None => {
            emit(&gha::notice(
                "hf-deploy",
                &format!(
                    "{} is live at {}",
                    deployed.report.space_id, deployed.report.app_url
                ),
            ));
            Ok(ExitCode::SUCCESS)
        }
        Some(error) => annotate::fail(error, &run.workspace, ui),
    }
}
