//! `hf-deploy verify`: health and CORS of a deployed app, without deploying.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use hf_deploy_core::report::{self, DeployReport, HealthSummary};
use hf_deploy_core::space::{join_url, parse_http_url, parse_origin};
use hf_deploy_core::verify::{self, HealthCheck};
use hf_deploy_core::{Error, SpaceId};

use crate::cli::VerifyArgs;
use crate::env;
use crate::ui::{Reported, Ui, UsageError};

pub(crate) async fn run(args: VerifyArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let health_path = super::deploy::health_path(args.health_path.as_deref())?;
    let origins = args
        .frontend_urls
        .iter()
        .map(|url| parse_origin(url, "--frontend-url"))
        .collect::<Result<Vec<_>, _>>()?;
    let space = args
        .space
        .as_deref()
        .map(|s| SpaceId::parse(s, "--space"))
        .transpose()?;
    let explicit = args
        .app_url
        .as_deref()
        .map(|u| parse_http_url(u, "--app-url"))
        .transpose()?;
    let endpoint = env::endpoint();
    let token = env::token();

    let (mut report, private) = match (&space, explicit) {
        (Some(id), app_url) => {
            let client = super::deploy::build_client(&endpoint, token.clone())?;
            let info = client
                .space_info(id)
                .await
                .map_err(|e| crate::token::unless_anonymous(e, &client, "read a private Space"))?;
            let app_url = app_url.unwrap_or_else(|| info.app_url(id));
            let mut report = DeployReport::for_space(id, client.endpoint(), &app_url, &health_path);
            report.commit_sha = info.sha.clone();
            report.stage = info.runtime.as_ref().map(|r| r.stage.to_string());
            (report, info.private)
        }
        (None, Some(app_url)) => {
            let report = DeployReport {
                docs_url: join_url(&app_url, "/docs"),
                health_url: join_url(&app_url, &health_path),
                app_url,
                ..DeployReport::default()
            };
            (report, false)
        }
        (None, None) => {
            return Err(UsageError::error("give `--space` or `--app-url`", None));
        }
    };

    let started = Instant::now();
    let check = HealthCheck {
        url: report.health_url.clone(),
        token: if private { token } else { None },
        deadline: Instant::now() + Duration::from_secs(args.timeout),
        poll: (Duration::from_secs(1), Duration::from_secs(5)),
        client: None,
    };
    let mut error: Option<Error> = None;
    match verify::wait_healthy(&check, &mut |_| {}).await {
        Ok(health) => {
            report.health = Some(HealthSummary::from(&health));
            if !verify::accepts(&health, args.allow_degraded) {
                error = Some(verify::health_error(&health, &report.health_url));
            }
        }
        Err(e) => error = Some(e),
    }
    report.durations.health_ms =
        Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    if !origins.is_empty() {
        let http = verify::app_client(check.token.as_ref())?;
        report.cors = verify::check_cors(&report.app_url, &health_path, &origins, &http).await;
        if error.is_none() {
            error = verify::cors_error(&report.cors);
        }
    }
    if let Some(error) = &error {
        report.set_error(error);
    }
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        out!("{}", report::render_text(&report, ui.color_out));
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
