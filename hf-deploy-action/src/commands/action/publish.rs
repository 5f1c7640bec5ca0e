//! Step 4 of the action: what the run tells the workflow and the pull request. The outputs,
//! the step summary, the deployment's final status and the pull-request comment, in that
//! order. Only an outputs file that cannot be written fails the run; the rest warns.

use std::path::Path;

use hf_deploy_core::report::{DeployReport, HealthSummary};
use hf_deploy_core::verify::Verdict;
use hf_deploy_core::{Error, Redactor, RemoteText};
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
    let redactor = crate::guard::redactor();
    write_outputs(&run.runner, report)?;
    write_summary(&run.runner, report, &redactor);
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
            redactor: &redactor,
        });
        post_comment(github, number, &marker, &body, true).await;
    }
    Ok(())
}

/// The words the `health` output takes (`action.yml`); empty when health was not checked.
pub(super) const HEALTH_WORDS: [&str; 4] = ["healthy", "degraded", "unhealthy", "unknown"];

/// The `health` output: one word of [`HEALTH_WORDS`], never the app's text. The app's word
/// when it is one of them (in any case), else the word of its verdict (`ok`, `up`, `pass` are
/// healthy; `warn`, `partial` degraded; anything else unhealthy); empty without an answer.
pub(super) fn health_word(health: Option<&HealthSummary>) -> &'static str {
    let Some(health) = health else {
        return "";
    };
    match health.status.output_word(&HEALTH_WORDS, "") {
        "" => match health.verdict() {
            Verdict::Healthy => "healthy",
            Verdict::Degraded => "degraded",
            Verdict::Unhealthy => "unhealthy",
        },
        word => word,
    }
}

/// The `stage` output: the stage's name when it is one word of capitals, digits and `_` (every
/// stage the Hub names, `DELETED` for a removed preview), `UNKNOWN` for anything else the Hub
/// sent; empty without a stage.
pub(super) fn stage_word(stage: Option<&RemoteText>) -> String {
    let Some(stage) = stage else {
        return String::new();
    };
    let name = stage.as_data();
    let word = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if word {
        name.to_string()
    } else {
        "UNKNOWN".to_string()
    }
}

/// The action's outputs (`action.yml`), from the report. `health` and `stage` are words of a
/// fixed vocabulary, never text that the app or the Hub wrote (a later step may put an output
/// in a script).
pub(super) fn write_outputs(runner: &RunnerEnv, report: &DeployReport) -> anyhow::Result<()> {
    let Some(path) = runner.output.as_deref() else {
        return Ok(());
    };
    let health = health_word(report.health.as_ref()).to_string();
    let outputs = [
        ("space-id", report.space_id.clone()),
        ("space-url", report.space_url.clone()),
        ("app-url", report.app_url.clone()),
        ("docs-url", report.docs_url.clone()),
        ("health-url", report.health_url.clone()),
        ("commit-sha", report.commit_sha.clone().unwrap_or_default()),
        ("changed", report.changed.to_string()),
        ("stage", stage_word(report.stage.as_ref())),
        ("health", health),
        ("rolled-back", report.rolled_back.to_string()),
    ];
    let pairs: Vec<(&str, &str)> = outputs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    files::write_outputs(Path::new(path), &pairs)?;
    Ok(())
}

/// The report in the step summary, every value redacted by `redactor` (the run's).
fn write_summary(runner: &RunnerEnv, report: &DeployReport, redactor: &Redactor) {
    let Some(path) = runner.step_summary.as_deref() else {
        return;
    };
    if let Err(error) = files::append_summary(Path::new(path), &markdown::summary(report, redactor))
    {
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
    use hf_deploy_core::report::samples::{build_error, text};
    use hf_deploy_core::{SecretString, SpaceId};
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
        let redactor = Redactor::builder().secrets(&secrets).build();
        let mut report = build_error();
        report.log_tail = vec![
            text("Traceback (most recent call last):"),
            text(
                "  settings: GEMINI_API_KEY=AIzaSyD-gemini-secret-value QDRANT_API_KEY=qdrant-api-key-987",
            ),
            text("RuntimeError: ```boom```"),
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
            redactor: &redactor,
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

    #[test]
    fn the_health_output_is_one_word_of_its_vocabulary() {
        let health = |status: &str| HealthSummary {
            status: text(status),
            services: Default::default(),
        };
        for (status, word) in [
            ("healthy", "healthy"),
            ("Degraded", "degraded"),
            ("unhealthy", "unhealthy"),
            ("unknown", "unknown"),
            ("ok", "healthy"),
            ("warn", "degraded"),
            ("down", "unhealthy"),
            ("healthy\n::error file=x::forged", "unhealthy"),
            ("$(curl evil.example)", "unhealthy"),
        ] {
            assert_eq!(health_word(Some(&health(status))), word, "{status:?}");
        }
        assert_eq!(health_word(None), "");
    }

    #[test]
    fn the_stage_output_is_one_word() {
        assert_eq!(stage_word(Some(&text("RUNNING"))), "RUNNING");
        assert_eq!(stage_word(Some(&text("HIBERNATING_2"))), "HIBERNATING_2");
        assert_eq!(stage_word(Some(&text("X\n::error::forged"))), "UNKNOWN");
        assert_eq!(stage_word(Some(&text("running"))), "UNKNOWN");
        assert_eq!(stage_word(None), "");
    }
}
