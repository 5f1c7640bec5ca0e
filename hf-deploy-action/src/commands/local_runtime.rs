//! Where a local Space runs (`deploy --local-runtime`, `emulator --runtime`) and the signals that
//! end a local run.

use hf_hub_emulator::{
    DockerRunnerConfig, EmulatorConfig, RealRunnerConfig, Runner, ScriptedRunner,
};

use crate::ui::{Ui, UsageError};

/// The stand-in's configuration for `deploy --local`, and the runtime's name for the report.
pub(crate) async fn config(
    forced: Option<&str>,
    ui: &Ui,
) -> anyhow::Result<(EmulatorConfig, &'static str)> {
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

/// Waits for SIGINT (Ctrl-C) or SIGTERM and names it.
pub(crate) async fn until_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        },
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}
