//! The other road after step 2: a preview ends (its pull request closed, or lost its
//! `preview-label`). Its Space is deleted when it carries this pull request's preview mark
//! ([`super::mark`]; otherwise it is left in place with a warning), this preview's GitHub
//! deployments are marked inactive, the comment says what happened, and the outputs name the
//! Space (stage `DELETED` when it is gone).
//!
//! Nothing here needs the source folder, the scaffold or any deploy input beyond the Space
//! and the tokens: a `pull_request_target: [closed]` job without a checkout closes previews.
//! With `dry-run`, only reads happen: what would be done is printed, nothing is written.

use std::path::Path;
use std::process::ExitCode;

use hf_deploy_core::report::DeployReport;
use hf_deploy_core::{Error, Redactor, RemoteText};

use super::annotate;
use super::joblog::{emit, warn_on_error};
use super::mark::{self, Found};
use super::publish::{post_comment, write_outputs};
use super::resolve::{ClosePreview, Run};
use crate::github::api;
use crate::github::commands as gha;
use crate::render::markdown::{self, EndOutcome, Ended};

/// What became of the preview Space.
enum Outcome {
    Deleted,
    Gone,
    /// Left in place: what was found instead of the expected mark, and the expected mark.
    Kept(Found, String),
    /// `dry-run`: it carries the mark and would be deleted.
    WouldDelete,
    /// No `GITHUB_REPOSITORY`: the mark cannot be checked, so the Space is left in place.
    Unchecked,
}

/// End the preview of `close` (already gone is fine).
pub(super) async fn close_preview(run: &Run, close: &ClosePreview) -> anyhow::Result<ExitCode> {
    let space = &close.space;
    let dry_run = run.config.raw.dry_run;
    emit(&gha::group(&format!("Delete preview Space {space}")));
    let outcome = match decide(run, close, dry_run).await {
        Ok(outcome) => outcome,
        Err(error) => {
            emit(gha::endgroup());
            emit(&annotate::annotations(&error, Path::new("")));
            return Err(anyhow::Error::new(error));
        }
    };
    emit(&match &outcome {
        Outcome::Deleted => format!("deleted {space}\n"),
        Outcome::Gone => format!("{space} was already gone\n"),
        Outcome::WouldDelete => format!(
            "dry run: {space} carries this pull request's preview mark and would be deleted\n"
        ),
        Outcome::Kept(..) | Outcome::Unchecked => format!("{space} was left in place\n"),
    });
    emit(gha::endgroup());
    let kept = match &outcome {
        Outcome::Kept(found, expected) => Some(mark::why_kept(space, found, expected)),
        Outcome::Unchecked => Some(format!(
            "`GITHUB_REPOSITORY` is not set, so the preview mark of Space `{space}` cannot be checked: it was left in place"
        )),
        _ => None,
    };
    if let Some(why) = kept {
        emit(&gha::warning("hf-deploy: preview left in place", &why));
    }
    if dry_run {
        emit(&gha::notice(
            "hf-deploy",
            "dry run: nothing was deleted, no deployment was marked inactive and no comment was written",
        ));
    } else if let Some(github) = &run.github {
        if run.config.github_deployment {
            warn_on_error(
                api::deactivate_preview(
                    &github.client,
                    &github.repo,
                    &close.environment,
                    space,
                    close.pr_number,
                )
                .await,
            );
        }
        if run.config.comment {
            let marker = api::marker(space);
            let body = comment(close, &outcome, &marker);
            // A pull request that never had a preview is not told that it has none (a
            // `pull_request_target: [closed]` job runs for every pull request).
            let create = !matches!(outcome, Outcome::Gone);
            post_comment(github, close.pr_number, &marker, &body, create).await;
        }
    }
    let gone = matches!(outcome, Outcome::Deleted | Outcome::Gone);
    let report = DeployReport {
        space_id: space.to_string(),
        space_url: space.web_url(run.hub.endpoint()),
        stage: gone.then(|| RemoteText::new("DELETED", &Redactor::none())),
        ..DeployReport::default()
    };
    write_outputs(&run.runner, &report)?;
    Ok(ExitCode::SUCCESS)
}

/// Read the mark; delete when it is this pull request's (not in a dry run).
async fn decide(run: &Run, close: &ClosePreview, dry_run: bool) -> Result<Outcome, Error> {
    let space = &close.space;
    let Some(repo) = run.runner.repository() else {
        // Without the repository the mark cannot be checked: never delete blind.
        return Ok(Outcome::Unchecked);
    };
    let expected = mark::value(&repo, close.pr_number);
    match mark::read(&run.hub, space, &expected).await? {
        Found::Gone => Ok(Outcome::Gone),
        Found::Ours if dry_run => Ok(Outcome::WouldDelete),
        Found::Ours => match run.hub.delete_space(space).await {
            Ok(()) => Ok(Outcome::Deleted),
            Err(Error::NotFound { .. }) => Ok(Outcome::Gone),
            Err(error) => Err(error),
        },
        found => Ok(Outcome::Kept(found, expected)),
    }
}

/// The comment of an ended preview.
fn comment(close: &ClosePreview, outcome: &Outcome, marker: &str) -> String {
    let space = close.space.to_string();
    let outcome = match outcome {
        Outcome::Deleted | Outcome::WouldDelete => EndOutcome::Deleted,
        Outcome::Gone => EndOutcome::Gone,
        Outcome::Unchecked => EndOutcome::Kept {
            found: None,
            expected: "",
        },
        Outcome::Kept(found, expected) => EndOutcome::Kept {
            found: match found {
                Found::Other(other) => Some(other.as_str()),
                _ => None,
            },
            expected,
        },
    };
    markdown::ended(
        &Ended {
            space: &space,
            merged: close.merged,
            label_removed: close.label_removed.as_deref(),
            outcome,
            marker,
        },
        &crate::guard::redactor(),
    )
}
