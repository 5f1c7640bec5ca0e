//! Where a local Space runs (`deploy --local-runtime`, `emulator --runtime`) and the signals that
//! end a local run.

use anyhow::Context;
pub(crate) use hf_hub_emulator::{DEFAULT_USER, DEFAULT_WRITE_TOKEN, Emulator};
use hf_hub_emulator::{
    DockerRunnerConfig, EmulatorConfig, EngineProbe, RealRunnerConfig, Runner, ScriptedRunner,
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

/// The runner: Docker when an engine answers its probe (or forced), else the process runner with
/// a warning. A forced Docker runtime whose engine is absent or fails its probe is bad input
/// (exit 2) naming the flag and what answered; what the engine said is outside text, shown
/// through the door by the printer.
async fn runner(
    forced: Option<&str>,
    flag: &str,
    ui: &Ui,
) -> anyhow::Result<(Runner, &'static str)> {
    if forced == Some("process") {
        return Ok((process_runner(), "process"));
    }
    let probe = hf_hub_emulator::probe_docker_engine().await;
    let hint = || {
        format!(
            "start Docker (e.g. `sudo dockerd &`, or `scripts/bootstrap.sh` in a checkout), or use `{flag} process`"
        )
    };
    match (forced, probe) {
        (_, EngineProbe::Answers) => Ok((Runner::Docker(DockerRunnerConfig::default()), "docker")),
        (Some(_), EngineProbe::Absent(why)) => Err(UsageError::error(
            format!(
                "`{flag} docker`: no Docker engine answers (`DOCKER_HOST`, else the default socket): {why}"
            ),
            Some(&hint()),
        )),
        (Some(_), EngineProbe::Failing(what)) => Err(UsageError::error(
            format!("`{flag} docker`: the Docker engine does not work: {what}"),
            Some(&format!(
                "check the engine (`docker version`, its log), or use `{flag} process`"
            )),
        )),
        (None, EngineProbe::Absent(_)) => {
            ui.warn(&format!("no Docker engine answers: {PROCESS_INSTEAD}"));
            Ok((process_runner(), "process"))
        }
        (None, EngineProbe::Failing(what)) => {
            ui.warn(&format!(
                "the Docker engine does not work ({what}): {PROCESS_INSTEAD}"
            ));
            Ok((process_runner(), "process"))
        }
    }
}

/// The rest of the warning when the process runner stands in for Docker.
const PROCESS_INSTEAD: &str = "the Space runs with this machine's Python (process runner), \
     not in the image the Hub builds; start Docker to see the real build";

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
