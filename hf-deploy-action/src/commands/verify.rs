//! `hf-deploy verify`: health and CORS of a deployed app, without deploying.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use hf_deploy_core::RemoteText;
use hf_deploy_core::inputs::{self, VerifyInputs};
use hf_deploy_core::report::DeployReport;
use hf_deploy_core::verify::{self, AppCheck};

use crate::cli::VerifyArgs;
use crate::env;
use crate::ui::{Reported, Ui, UsageError};

pub(crate) async fn run(args: VerifyArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let plan = inputs::resolve_verify(&VerifyInputs {
        space: args.space.clone(),
        app_url: args.app_url.clone(),
        health_path: args.health_path.clone(),
        frontend_urls: args.frontend_urls.clone(),
        allow_degraded: args.allow_degraded,
    })?;
    let endpoint = env::endpoint();
    let token = env::token();
    crate::guard::learn_secrets(&token);
    let redactor = crate::guard::redactor();

    let (mut report, private) = match (&plan.space, plan.app_url) {
        (Some(id), app_url) => {
            let client = super::deploy::build_client(&endpoint, token.clone())?;
            let info = client
                .space_info(id)
                .await
                .map_err(|e| crate::token::unless_anonymous(e, &client, "read a private Space"))?;
            let app_url = app_url.unwrap_or_else(|| info.app_url(id));
            let mut report =
                DeployReport::for_space(id, client.endpoint(), &app_url, &plan.health_path);
            report.commit_sha = info.sha.clone();
            report.stage = info.runtime.as_ref().map(|r| r.stage.to_remote(&redactor));
            if let Some(runtime) = info.runtime.as_ref().filter(|r| r.stage.previous_serves()) {
                report.warnings.push(RemoteText::new(
                    &format!(
                        "the Space is {}: until the new revision runs, the previous one \
                         answers this check",
                        runtime.stage
                    ),
                    &redactor,
                ));
            }
            (report, info.private)
        }
        (None, Some(app_url)) => (DeployReport::for_app(&app_url, &plan.health_path), false),
        (None, None) => {
            return Err(UsageError::error("give `--space` or `--app-url`", None));
        }
    };

    let check = AppCheck {
        health_url: report.health_url.clone(),
        token: if private { token } else { None },
        deadline: Instant::now() + Duration::from_secs(args.timeout),
        poll: (Duration::from_secs(1), Duration::from_secs(5)),
        origins: plan.origins,
        allow_degraded: plan.allow_degraded,
        redactor: redactor.clone(),
    };
    let outcome = verify::verify_app(&check, &mut |_| {}).await;
    let error = report.record_verification(outcome);
    if let Some(error) = &error {
        report.set_error(error, &redactor);
    }
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        out!("{}", crate::render::text::render(&report, ui.color_out));
    }
    match error {
        Some(error) if args.json => Err(Reported(
            crate::ui::render_error(&anyhow::Error::new(error), ui.color_err),
            1,
        )
        .into()),
        Some(error) => Err(error.into()),
        None => Ok(ExitCode::SUCCESS),
    }
}
