//! `hf-deploy rollback`: an earlier deploy's tree pushed back as a new commit, waited for and
//! verified; reported as a deploy.

use std::process::ExitCode;
use std::time::Duration;

use hf_deploy_core::inputs::{self, RawInputs};
use hf_deploy_core::{DeployOutcome, Error};

use crate::cli::RollbackArgs;
use crate::env;
use crate::ui::{Reported, Ui};

/// The deadline when `--timeout` is not given: a deploy's.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1200);

pub(crate) async fn run(args: RollbackArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let options = inputs::resolve_rollback(&RawInputs {
        space: Some(args.space.clone()),
        rollback_to: args.to.clone(),
        health_path: args.health_path.clone(),
        frontend_urls: args.frontend_urls.clone(),
        wait: !args.no_wait,
        timeout: args.timeout.map_or(DEFAULT_TIMEOUT, Duration::from_secs),
        allow_degraded: args.allow_degraded,
        ..RawInputs::default()
    })?;
    let Some(token) = env::token() else {
        return Err(crate::token::missing("rollback"));
    };
    let client = super::deploy::build_client(&env::endpoint(), Some(token))?;
    let printer = super::deploy::Printer::new(ui, args.json);
    let outcome = tokio::select! {
        outcome = hf_deploy_core::rollback(&client, &options, &printer) => outcome,
        signal = super::signal::until_signal() => super::signal::interrupted(ui, signal),
    };
    finish(outcome, args.json, ui)
}

/// The report (text or JSON) and the exit code: 0 verified, 2 bad input, 1 otherwise.
pub(crate) fn finish(outcome: DeployOutcome, json: bool, ui: &Ui) -> anyhow::Result<ExitCode> {
    let DeployOutcome { report, error } = outcome;
    let usage_error = error.as_ref().is_some_and(Error::is_usage);
    if json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else if !usage_error {
        out!("{}", crate::render::text::render(&report, ui.color_out));
    }
    match error {
        Some(error) if json => {
            let code = if error.is_usage() { 2 } else { 1 };
            let error = crate::stored_token::explain(anyhow::Error::new(error));
            Err(Reported(crate::ui::render_error(&error, ui.color_err), code).into())
        }
        Some(error) => Err(anyhow::Error::new(error)),
        None => Ok(ExitCode::SUCCESS),
    }
}
