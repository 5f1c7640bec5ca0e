//! `hf-deploy deploy`: scaffold, push, configure, wait, verify.

use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::Context;
use hf_deploy_core::hub::HubClient;
use hf_deploy_core::inputs;
use hf_deploy_core::report::DeployReport;
use hf_deploy_core::{DeployOutcome, Error, Event, Field, Progress, SecretString};

use super::local_runtime::{DEFAULT_WRITE_TOKEN, Emulator, start_local};

use crate::cli::DeployArgs;
use crate::env;
use crate::ui::{Reported, Ui};

pub(crate) async fn run(args: DeployArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    // Everything the user gave (flags, environment, `hf-deploy.toml`) is checked, and the
    // source scaffolded, before anything is sent.
    let layered = super::layered::deploy_inputs(&args)?;
    let raw = layered.raw.clone();
    let options = match tokio::task::spawn_blocking(move || inputs::resolve(&raw))
        .await
        .context("input validation stopped")?
    {
        Ok(options) => options,
        Err(error) => return Err(layered.explain(error)),
    };
    // Every secret of the plan is redacted from everything the run writes.
    crate::guard::learn(&options.redactor);

    // The local stand-in, when asked for.
    let (emulator, local_runtime) = if args.local {
        let (emulator, runtime) = start_local(ui, args.local_runtime.as_deref()).await?;
        (Some(emulator), Some(runtime))
    } else {
        (None, None)
    };
    let (endpoint, token) = match &emulator {
        Some(emulator) => (emulator.url(), Some(SecretString::new(DEFAULT_WRITE_TOKEN))),
        None => (layered.endpoint.clone(), env::token()),
    };
    if token.is_none() && !options.dry_run {
        return Err(crate::token::missing("deploy"));
    }
    let client = build_client(&endpoint, token)?;
    let printer = Printer::new(ui, args.json);
    // A signal during the deploy removes its temporary folders (the push repository) and, in a
    // local deploy (e.g. during the build), stops the stand-in and its containers first.
    let mut outcome = tokio::select! {
        outcome = hf_deploy_core::deploy(&client, &options, &printer) => outcome,
        signal = super::signal::until_signal() => {
            if let Some(emulator) = emulator {
                ui.warn(&format!("{signal}: stopping the local Space"));
                emulator.shutdown().await;
            }
            super::signal::interrupted(ui, signal);
        }
    };
    outcome.report.local_runtime = local_runtime.map(str::to_string);
    finish(outcome, &args, ui, emulator).await
}

async fn finish(
    outcome: DeployOutcome,
    args: &DeployArgs,
    ui: &Ui,
    emulator: Option<Emulator>,
) -> anyhow::Result<ExitCode> {
    let DeployOutcome { report, error } = outcome;
    let usage_error = error.as_ref().is_some_and(Error::is_usage);
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else if !usage_error {
        // Bad input found while scaffolding: nothing was sent, so there is nothing to report
        // but the error itself.
        out!("{}", crate::render::text::render(&report, ui.color_out));
    }
    let result = match error {
        Some(error) if args.json => {
            // The report on stdout already holds the error; stderr gets the one-line reason.
            let code = if error.is_usage() { 2 } else { 1 };
            let error = match &emulator {
                Some(_) => anyhow::Error::new(error),
                None => crate::stored_token::explain(anyhow::Error::new(error)),
            };
            Err(Reported(crate::ui::render_error(&error, ui.color_err), code).into())
        }
        Some(error) => Err(anyhow::Error::new(error)),
        None => Ok(ExitCode::SUCCESS),
    };
    if let Some(emulator) = emulator {
        if args.serve && result.is_ok() {
            serve(&report, ui).await?;
        }
        emulator.shutdown().await;
    }
    result
}

async fn serve(report: &DeployReport, ui: &Ui) -> anyhow::Result<()> {
    ui.info(&format!(
        "Serving {} until Ctrl-C (API docs: {}).",
        report.app_url, report.docs_url
    ));
    let signal = super::signal::until_signal().await;
    ui.info(&format!("{signal}: stopping"));
    Ok(())
}

/// A Hub client for `endpoint`, or a usage error naming `HF_ENDPOINT`.
pub(crate) fn build_client(
    endpoint: &str,
    token: Option<SecretString>,
) -> anyhow::Result<HubClient> {
    let mut builder = HubClient::builder()
        .endpoint(endpoint)
        .user_agent(concat!("hf-deploy/", env!("CARGO_PKG_VERSION")))
        .redactor(crate::guard::redactor());
    if let Some(timeout) = crate::env::http_timeout()? {
        builder = builder.timeout(timeout);
    }
    if let Some(token) = token {
        crate::guard::learn_secrets([&token]);
        builder = builder.token(token);
    }
    // The library checks the endpoint first; the environment variable names it here.
    builder.build().map_err(|error| match error.field() {
        Some(Field::Endpoint) => Error::invalid_input_hint(
            Field::Other("HF_ENDPOINT"),
            format!("`{endpoint}` is not an http(s) URL"),
            "set it to the Hub's base URL, e.g. `https://huggingface.co`, or unset it",
        )
        .into(),
        _ => anyhow::Error::new(error),
    })
}

/// Progress on stderr: phases, stage changes with elapsed time, and the build log as it streams.
pub(crate) struct Printer<'a> {
    ui: &'a Ui,
    quiet: bool,
    last_stage: Mutex<String>,
}

impl<'a> Printer<'a> {
    pub(crate) fn new(ui: &'a Ui, quiet: bool) -> Self {
        Printer {
            ui,
            quiet,
            last_stage: Mutex::new(String::new()),
        }
    }
}

impl Progress for Printer<'_> {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Warning(message) => self.ui.warn(message.as_data()),
            Event::RateLimitWait {
                action,
                wait,
                until,
            } => self.ui.warn(&format!(
                "the Hub rate-limited the request to {action}: waiting until {} ({}s) for its window to reset",
                hf_deploy_core::report::utc(until),
                wait.as_secs()
            )),
            _ if self.quiet => {}
            Event::Phase(phase) => self.ui.info(&format!("==> {phase}")),
            Event::Stage { stage, elapsed } => {
                let stage = crate::guard::shown_remote(&stage.to_remote(&crate::guard::redactor()));
                let mut last = self.last_stage.lock().unwrap_or_else(|e| e.into_inner());
                if *last != stage {
                    self.ui
                        .info(&format!("    stage {stage} ({}s)", elapsed.as_secs()));
                    *last = stage;
                }
            }
            Event::BuildLog(line) => self
                .ui
                .info(&format!("    | {}", crate::guard::shown_remote(line))),
            Event::HealthAttempt(what) => self
                .ui
                .info(&format!("    health: {}", crate::guard::shown_remote(what))),
            _ => {}
        }
    }
}
