//! Step 4 of the action: what the run tells the workflow and the pull request. The outputs,
//! the step summary, the deployment's final status and the pull-request comment, in that
//! order. Only an outputs file that cannot be written fails the run; the rest warns.

use std::path::Path;

use hf_deploy_core::report::DeployReport;
use hf_deploy_core::{Error, SecretString};
use octocrab::models::repos::DeploymentStatusState;

use super::joblog::{emit, warn_on_error};
use super::resolve::{Deploy, GitHub, Run};
use crate::github::api::{self, CommentOutcome, StatusText, StatusUpdate};
use crate::github::commands as gha;
use crate::github::inputs::RunnerEnv;
use crate::github::{files, identity};
use crate::render::markdown;

/// What the deploy step leaves for publishing.
pub(super) struct Deployed {
    /// The deploy's report.
    pub(super) report: DeployReport,
    /// Why it failed, when it did.
    pub(super) error: Option<Error>,
    /// The GitHub deployment recording it, when one was made.
    pub(super) deployment: Option<u64>,
}

/// Step 4.
pub(super) async fn publish(run: &Run, job: &Deploy, deployed: &Deployed) -> anyhow::Result<()> {
    let report = &deployed.report;
    let redact: Vec<SecretString> = job.options.settings.secrets.values().cloned().collect();
    write_outputs(&run.runner, report)?;
    write_summary(&run.runner, report, &redact);
    let Some(github) = &run.github else {
        return Ok(());
    };
    if let Some(id) = deployed.deployment {
        finish_deployment(github, id, run, deployed).await;
    }
    if let (Some(number), true, false) = (job.pr_number, run.config.comment, job.options.dry_run) {
        let marker = api::marker(&job.space);
        let space = job.space.to_string();
        let body = markdown::comment(&markdown::Comment {
            report,
            space: &space,
            succeeded: deployed.error.is_none(),
            head_sha: Some(job.sha.as_str()),
            run_url: run.run_url.as_deref(),
            marker: &marker,
            redact: &redact,
        });
        post_comment(github, number, &marker, &body, true).await;
    }
    Ok(())
}

/// The action's outputs (`action.yml`), from the report.
pub(super) fn write_outputs(runner: &RunnerEnv, report: &DeployReport) -> anyhow::Result<()> {
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

/// The report in the step summary, its log tail redacted.
fn write_summary(runner: &RunnerEnv, report: &DeployReport, redact: &[SecretString]) {
    let Some(path) = runner.step_summary.as_deref() else {
        return;
    };
    if let Err(error) = files::append_summary(Path::new(path), &markdown::summary(report, redact)) {
        emit(&gha::warning(
            "hf-deploy",
            &format!("no step summary: {error}"),
        ));
    }
}

/// The deployment's final status: success with the app's URL, or failure.
async fn finish_deployment(github: &GitHub, id: u64, run: &Run, deployed: &Deployed) {
    let succeeded = deployed.error.is_none();
    let update = StatusUpdate {
        state: if succeeded {
            DeploymentStatusState::Success
        } else {
            DeploymentStatusState::Failure
        },
        environment_url: Some(deployed.report.app_url.as_str()),
        log_url: run.run_url.as_deref(),
        description: Some(if succeeded {
            StatusText::Running
        } else {
            StatusText::Failed
        }),
    };
    warn_on_error(api::set_status(&github.client, &github.repo, id, &update).await);
}

/// Create or update the one comment carrying `marker` that the token's own identity wrote
/// (`github::identity`) on pull request `number` (with `create` false, only update it);
/// GitHub's refusal or an error is a warning.
pub(super) async fn post_comment(
    github: &GitHub,
    number: u64,
    marker: &str,
    body: &str,
    create: bool,
) {
    let identity = match identity::identity(&github.client).await {
        Ok(identity) => identity,
        Err(error) => {
            emit(&gha::warning(
                "hf-deploy: no pull-request comment",
                &error.to_string(),
            ));
            return;
        }
    };
    let written = if create {
        api::upsert_comment(
            &github.client,
            &github.repo,
            number,
            marker,
            body,
            &identity,
        )
        .await
    } else {
        api::update_comment(
            &github.client,
            &github.repo,
            number,
            marker,
            body,
            &identity,
        )
        .await
    };
    match written {
        Ok(CommentOutcome::Skipped(reason)) => {
            emit(&gha::warning("hf-deploy: no pull-request comment", &reason));
        }
        Ok(_) => {}
        Err(error) => emit(&gha::warning(
            "hf-deploy: no pull-request comment",
            &error.to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use hf_deploy_core::SpaceId;
    use hf_deploy_core::report::samples::build_error;
    use hf_deploy_tests::fake_github::{FakeGitHub, Mode};

    use super::*;
    use crate::github::api::{DeploymentOutcome, GitHubRepo};

    const GITHUB_TOKEN: &str = "ghs_FakeInstallationToken0123456789abcd";

    #[tokio::test]
    async fn no_secret_value_reaches_github() {
        let fake = FakeGitHub::start(Mode::default()).await;
        let github = GitHub {
            client: api::client(&fake.url, &SecretString::new(GITHUB_TOKEN)).expect("client"),
            repo: GitHubRepo::parse("Codertocat/Hello-World").expect("repo"),
        };
        let secrets = [
            SecretString::new("AIzaSyD-gemini-secret-value"),
            SecretString::new("qdrant-api-key-987"),
        ];
        let mut report = build_error();
        report.log_tail = vec![
            "Traceback (most recent call last):".into(),
            "  settings: GEMINI_API_KEY=AIzaSyD-gemini-secret-value QDRANT_API_KEY=qdrant-api-key-987".into(),
            "RuntimeError: ```boom```".into(),
        ];
        let preview = SpaceId::parse("alice/rag-chatbot", hf_deploy_core::Field::Space)
            .expect("space")
            .preview(2);
        let marker = api::marker(&preview);
        let body = markdown::comment(&markdown::Comment {
            report: &report,
            space: &preview.to_string(),
            succeeded: false,
            head_sha: Some("ec26c3e57ca3a959ca5aad62de7213c562f8c821"),
            run_url: Some("https://github.com/Codertocat/Hello-World/actions/runs/1"),
            marker: &marker,
            redact: &secrets,
        });
        post_comment(&github, 2, &marker, &body, true).await;
        let created = api::create_deployment(
            &github.client,
            &github.repo,
            &api::NewDeployment {
                sha: "ec26c3e",
                environment: &api::environment_name(&preview),
                space: &preview,
                preview_of: Some(2),
                production: false,
            },
        )
        .await
        .expect("deploy");
        if let DeploymentOutcome::Created(id) = created {
            let update = StatusUpdate {
                state: DeploymentStatusState::Failure,
                environment_url: None,
                log_url: Some("https://github.com/Codertocat/Hello-World/actions/runs/1"),
                description: Some(StatusText::Failed),
            };
            api::set_status(&github.client, &github.repo, id, &update)
                .await
                .expect("status");
        }
        let requests = fake.requests();
        assert!(requests.len() >= 4);
        for request in &requests {
            for secret in secrets
                .iter()
                .map(SecretString::expose)
                .chain([GITHUB_TOKEN])
            {
                assert!(
                    !request.body.contains(secret) && !request.path.contains(secret),
                    "{request:?}"
                );
            }
        }
        assert!(
            fake.comment_with(&marker)
                .is_some_and(|b| b.contains("GEMINI_API_KEY=***"))
        );
    }
}
