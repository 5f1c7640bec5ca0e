//! `command: previews-prune`: the action's road to the preview sweep (`commands/previews`),
//! for a scheduled workflow. The Space is the `space` input (its previews are `{space}-pr-N`),
//! the repository the workflow's (`GITHUB_REPOSITORY`), pull requests are read with
//! `github-token`. It needs `hf-token`: a token from a Trusted Publisher exchange is scoped to
//! one Space and cannot delete its previews. `dry-run` lists and deletes nothing; `max-age`
//! also sweeps previews unchanged for longer than that many days.
//!
//! It writes a log group (one line per preview), a table to the step summary and the output
//! `pruned` (the JSON list of the Spaces deleted, or that would be).

use std::path::Path;
use std::process::ExitCode;

use hf_deploy_core::{Error, Field, Phrase, RemoteText, SecretString, SpaceId};
use octocrab::Octocrab;

use super::annotate;
use super::joblog::emit;
use crate::commands::previews::sweep::{self, Pruned, Sweep};
use crate::commands::previews::{lines, markdown};
use crate::github::api::{self, GitHubRepo};
use crate::github::commands as gha;
use crate::github::files;
use crate::github::inputs::{ActionInputs, PruneInputs, RunnerEnv};
use crate::github::oidc;
use crate::ui::{Reported, Ui};

/// The checked inputs of a sweep.
struct Checked {
    runner: RunnerEnv,
    space: SpaceId,
    repo: GitHubRepo,
    options: PruneInputs,
    hf_token: SecretString,
    github: Octocrab,
}

/// The sweep, as the action runs it. Bad inputs: an annotation and exit 2, nothing sent.
pub(super) async fn run(
    inputs: ActionInputs,
    vars: &[(String, String)],
    ui: &Ui,
) -> anyhow::Result<ExitCode> {
    let checked = match check(&inputs, vars) {
        Ok(checked) => checked,
        Err(error) => return annotate::fail(error, Path::new(""), ui),
    };
    let hub = super::super::deploy::build_client(&oidc::endpoint(vars), Some(checked.hf_token))?;
    emit(&gha::group(&format!(
        "Sweep the previews of {}",
        checked.space
    )));
    let result = sweep::sweep(&Sweep {
        hub: &hub,
        github: &checked.github,
        space: &checked.space,
        repo: &checked.repo,
        max_age: checked.options.max_age,
        dry_run: checked.options.dry_run,
    })
    .await;
    let pruned = match result {
        Ok(pruned) => pruned,
        Err(error) => {
            emit(gha::endgroup());
            return annotate::fail(error, Path::new(""), ui);
        }
    };
    publish(&checked.runner, &pruned)
}

/// Every input of the sweep, before anything is sent.
fn check(inputs: &ActionInputs, vars: &[(String, String)]) -> Result<Checked, Error> {
    let runner = RunnerEnv::from_env(vars.iter().cloned())?;
    let space = match inputs.space.as_deref().map(str::trim) {
        Some(space) => SpaceId::parse(space, Field::Space)?,
        None => {
            return Err(Error::invalid_input_hint(
                Field::Space,
                "required input `space` is not set",
                "give the base Space: its previews are `{space}-pr-N`",
            ));
        }
    };
    let options = inputs.prune_inputs()?;
    let hf_token = inputs
        .hf_token
        .as_deref()
        .map(|t| SecretString::new(t.trim()))
        .ok_or_else(|| {
            Error::invalid_input_hint(
                Field::Token,
                "the sweep needs a Hub token",
                Phrase::new("set ").field(Field::Token).text(
                    " to a token with the write role on the namespace: a token from a Trusted Publisher exchange is scoped to one Space and cannot delete its previews",
                ),
            )
        })?;
    let repo = runner.repository().ok_or_else(|| {
        Error::invalid_input(
            Field::Other("GITHUB_REPOSITORY"),
            "the runner does not name the repository as `owner/name`",
        )
    })?;
    let token = inputs
        .github_token
        .as_deref()
        .map(|t| SecretString::new(t.trim()))
        .ok_or_else(|| {
            Error::invalid_input_hint(
                Field::Other("github-token"),
                "the sweep reads the pull requests and needs a GitHub token",
                "leave `github-token` at its default (`${{ github.token }}`) with `pull-requests: read`",
            )
        })?;
    let github = api::client(runner.api_url(), &token)
        .map_err(|error| Error::invalid_input(Field::Other("GITHUB_API_URL"), error.to_string()))?;
    Ok(Checked {
        runner,
        space,
        repo,
        options,
        hf_token,
        github,
    })
}

/// The log lines, a notice, the step summary and the `pruned` output; exit 1 when a preview
/// could not be read or deleted.
fn publish(runner: &RunnerEnv, pruned: &Pruned) -> anyhow::Result<ExitCode> {
    // Outside text goes through the door as the workflow log needs it: no line of it may
    // pass for a workflow command.
    emit(&lines(pruned, RemoteText::workflow_log));
    emit(gha::endgroup());
    let deleted = pruned.deleted();
    let verb = if pruned.dry_run {
        "would be deleted"
    } else {
        "deleted"
    };
    emit(&gha::notice(
        "hf-deploy",
        &format!(
            "{} of {} previews {verb}: {}",
            deleted.len(),
            pruned.previews.len(),
            if deleted.is_empty() {
                "none".to_string()
            } else {
                deleted.join(", ")
            }
        ),
    ));
    if let Some(path) = runner.step_summary.as_deref() {
        if let Err(error) = files::append_summary(Path::new(path), &markdown(pruned)) {
            emit(&gha::warning("hf-deploy", &error.to_string()));
        }
    }
    if let Some(path) = runner.output.as_deref() {
        let list = serde_json::to_string(&deleted)?;
        files::write_outputs(Path::new(path), &[("pruned", list.as_str())])?;
    }
    if pruned.failed() {
        let text = "some previews could not be read or deleted: see the list above";
        emit(&gha::error("hf-deploy", text));
        return Err(Reported(format!("error: {text}"), 1).into());
    }
    Ok(ExitCode::SUCCESS)
}
