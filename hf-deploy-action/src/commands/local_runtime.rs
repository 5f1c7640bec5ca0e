//! Where a local Space runs (`deploy --local-runtime`, `emulator --runtime`) and the signals that
//! end a local run.

use anyhow::Context;
pub(crate) use hf_hub_emulator::{DEFAULT_USER, DEFAULT_WRITE_TOKEN, Emulator};
use hf_hub_emulator::{
    DockerRunnerConfig, EmulatorConfig, RealRunnerConfig, Runner, ScriptedRunner,
};

use crate::ui::{Ui, UsageError};

/// Starts the in-process Hub stand-in for `deploy --local`, and names the runtime its Space
/// runs in (for the report).
pub(crate) async fn start_local(
    ui: &Ui,
    forced: Option<&str>,
) -> anyhow::Result<(Emulator, &'static str)> {
    let (config, runtime) = config(forced, ui).await?;
    let emulator = Emulator::start(config)
        .await
        .context("failed to start the local Hub stand-in")?;
    ui.info(&format!(
        "Local Hub stand-in at {} (no account, nothing leaves this machine; the Space runs in {runtime}).",
        emulator.url()
    ));
    Ok((emulator, runtime))
}

/// The stand-in's configuration for `deploy --local`, and the runtime's name for the report.
async fn config(forced: Option<&str>, ui: &Ui) -> anyhow::Result<(EmulatorConfig, &'static str)> {
    let (runner, name) = runner(forced, "--local-runtime", ui).await?;
    Ok((
        EmulatorConfig {
            runner,
            ..EmulatorConfig::default()
        },
        name,
    ))
}

/// The stand-in's configuration for `hf-deploy emulator --runtime`.
pub(crate) async fn emulator_config(
    forced: Option<&str>,
    ui: &Ui,
) -> anyhow::Result<(EmulatorConfig, &'static str)> {
    if forced == Some("scripted") {
        return Ok((
            EmulatorConfig {
                runner: Runner::Scripted(ScriptedRunner::default()),
                ..EmulatorConfig::default()
            },
            "scripted",
        ));
    }
    let (runner, name) = runner(forced, "--runtime", ui).await?;
    Ok((
        EmulatorConfig {
            runner,
            ..EmulatorConfig::default()
        },
        name,
    ))
}

async fn runner(
    forced: Option<&str>,
    flag: &str,
    ui: &Ui,
) -> anyhow::Result<(Runner, &'static str)> {
    let answers = hf_hub_emulator::docker_engine_answers().await;
    match (forced, answers) {
        (Some("docker"), false) => Err(UsageError::error(
            format!(
                "`{flag} docker`: no Docker engine answers (`DOCKER_HOST`, else the default socket)"
            ),
            Some(&format!(
                "start Docker (e.g. `sudo dockerd &`, or `scripts/bootstrap.sh` in a checkout), or use `{flag} process`"
            )),
        )),
        (Some("docker"), true) | (None, true) => {
            Ok((Runner::Docker(DockerRunnerConfig::default()), "docker"))
        }
        (None, false) => {
            ui.warn(
                "no Docker engine answers: the Space runs with this machine's Python (process runner), \
                 not in the image the Hub builds; start Docker to see the real build",
            );
            Ok((process_runner(), "process"))
        }
        _ => Ok((process_runner(), "process")),
    }
}

fn process_runner() -> Runner {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("hf-deploy/emulator-venvs");
    Runner::Real(RealRunnerConfig {
        venv_cache: cache,
        ..RealRunnerConfig::default()
    })
}
