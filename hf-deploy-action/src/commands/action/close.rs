//! The other road after step 2: a pull request closed with `preview` on. Its preview Space is
//! deleted, its GitHub environment marked inactive, the comment says so, and the outputs name
//! the Space with stage `DELETED`.

use std::path::Path;
use std::process::ExitCode;

use hf_deploy_core::Error;
use hf_deploy_core::report::DeployReport;

use super::annotate;
use super::joblog::{emit, warn_on_error};
use super::publish::{post_comment, write_outputs};
use super::resolve::{ClosePreview, Run};
use crate::github::api;
use crate::github::commands as gha;
use crate::render::markdown;

/// Delete the preview Space of a closed pull request (already gone is fine).
pub(super) async fn close_preview(run: &Run, close: &ClosePreview) -> anyhow::Result<ExitCode> {
    let space = &close.space;
    emit(&gha::group(&format!("Delete preview Space {space}")));
    let deleted = match run.hub.delete_space(space).await {
        Ok(()) => true,
        Err(Error::NotFound { .. }) => false,
        Err(error) => {
            emit(gha::endgroup());
            emit(&annotate::annotations(&error, Path::new("")));
            return Err(anyhow::Error::new(error));
        }
    };
    emit(&if deleted {
        format!("deleted {space}\n")
    } else {
        format!("{space} was already gone\n")
    });
    emit(gha::endgroup());
    if let Some(github) = &run.github {
        warn_on_error(
            api::deactivate_environment(&github.client, &github.repo, &close.environment).await,
        );
        if run.config.comment {
            let marker = api::marker(space);
            let body = markdown::closed(&space.to_string(), close.merged, deleted, &marker);
            post_comment(github, close.pr_number, &marker, &body).await;
        }
    }
    let report = DeployReport {
        space_id: space.to_string(),
        space_url: space.web_url(run.hub.endpoint()),
        stage: Some("DELETED".into()),
        ..DeployReport::default()
    };
    write_outputs(&run.runner, &report)?;
    Ok(ExitCode::SUCCESS)
}
