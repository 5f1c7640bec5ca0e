//! The Docker runtime: the Space's tree is built by a real Docker engine and the image runs as the
//! Hub runs it (the image's `USER`, `app_port` published on a loopback port behind the Space's
//! `host`, variables and secrets in the environment).
//!
//! The engine is reached through the `docker` CLI (`tokio::process`), not an API crate: the Hub's
//! build secrets (`RUN --mount=type=secret,id=KEY`) need BuildKit, whose secrets travel over a
//! client-side session (gRPC over a hijacked connection) that only the CLI implements completely;
//! the CLI also reads the user's `DOCKER_HOST`/context like every other tool, streams the real
//! build output (`--progress plain`), and adds no dependency to the stand-in.
//!
//! Every container and image carries `hf-deploy.space=<ns/name>`; containers also carry
//! `hf-deploy.emulator=<instance>`, so that [`remove_instance_containers`] removes whatever a
//! stand-in started when it shuts down. A container is also removed when its generation ends
//! (the pipeline future is dropped on pause, restart, rebuild, delete and shutdown).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::process::Command;

use super::Job;
use super::checkout::checkout;
use super::stages::{
    StageFailure, build_failed_message, exited_message, log_line, pipe, set_stage,
};
use crate::config::DockerRunnerConfig;
use crate::hub::{Hub, Space, Upstream};
use crate::util;

/// The label every container and image of a Space carries.
pub const SPACE_LABEL: &str = "hf-deploy.space";
const INSTANCE_LABEL: &str = "hf-deploy.emulator";
const KEY_LABEL: &str = "hf-deploy.build-key";

/// The `docker` CLI to use: `HF_DEPLOY_DOCKER` when set, else the first `docker` on `PATH` that
/// can build with BuildKit (a CLI with the buildx plugin, or a CLI older than 23 whose built-in
/// BuildKit client `DOCKER_BUILDKIT=1` turns on), else plain `docker`.
fn cli() -> &'static PathBuf {
    static CLI: OnceLock<PathBuf> = OnceLock::new();
    CLI.get_or_init(|| {
        if let Some(p) = std::env::var_os("HF_DEPLOY_DOCKER").filter(|p| !p.is_empty()) {
            return PathBuf::from(p);
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut seen = Vec::new();
        for dir in std::env::split_paths(&path) {
            let cand = dir.join("docker");
            let Ok(real) = std::fs::canonicalize(&cand) else {
                continue;
            };
            if seen.contains(&real) {
                continue;
            }
            seen.push(real);
            if buildkit_capable(&cand) {
                return cand;
            }
        }
        PathBuf::from("docker")
    })
}

fn buildkit_capable(cli: &std::path::Path) -> bool {
    let ok = |args: &[&str]| {
        std::process::Command::new(cli)
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    if ok(&["buildx", "version"]).is_some() {
        return true;
    }
    ok(&["version", "--format", "{{.Client.Version}}"])
        .and_then(|v| v.split('.').next().and_then(|m| m.parse::<u32>().ok()))
        .is_some_and(|major| major < 23)
}

fn docker() -> Command {
    let mut c = Command::new(cli());
    c.env("DOCKER_BUILDKIT", "1")
        .env("DOCKER_CLI_HINTS", "false")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

/// True when a Docker engine answers (`DOCKER_HOST`, else the default socket) within 5 s.
pub async fn engine_answers() -> bool {
    let mut c = docker();
    c.args(["version", "--format", "{{.Server.Version}}"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    matches!(
        tokio::time::timeout(Duration::from_secs(5), c.status()).await,
        Ok(Ok(s)) if s.success()
    )
}

/// This stand-in's label value: its data directory, hashed (unique per running stand-in).
fn instance(hub: &Hub) -> String {
    let h = Sha256::digest(hub.data_dir.to_string_lossy().as_bytes());
    hex::encode(h)[..12].to_owned()
}

/// Removes every container this stand-in started (shutdown path; also run from `Drop`).
pub(super) fn remove_instance_containers_blocking(hub: &Hub) {
    let filter = format!("label={INSTANCE_LABEL}={}", instance(hub));
    let Ok(out) = std::process::Command::new(cli())
        .args(["ps", "-aq", "--filter", &filter])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    else {
        return;
    };
    let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if !ids.is_empty() {
        let _ = std::process::Command::new(cli())
            .args(["rm", "-f"])
            .args(&ids)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Async form of [`remove_instance_containers_blocking`].
pub(super) async fn remove_instance_containers(hub: &Arc<Hub>) {
    let hub = hub.clone();
    let _ = tokio::task::spawn_blocking(move || remove_instance_containers_blocking(&hub)).await;
}

/// Removes the container when the generation ends, however it ends (the pipeline is dropped on
/// pause, restart, a new push, delete and shutdown).
struct ContainerGuard(String);

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        let _ = std::process::Command::new(cli())
            .args(["rm", "-f", &self.0])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The image name of a Space (one repository per Space; the tag is the build key).
fn image_repo(space: &Space) -> String {
    format!(
        "hf-space/{}",
        space.subdomain().to_ascii_lowercase().replace('_', "-")
    )
}

/// Runs a `docker` command, returns its trimmed stdout or its stderr as the error.
async fn output(args: &[&str]) -> Result<String, String> {
    let out = docker()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .map_err(|e| format!("cannot run `{}`: {e}", cli().display()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// A Space's variables and secrets as the engine gets them (build arguments and build secrets,
/// then the container's environment).
struct Settings {
    variables: Vec<(String, String)>,
    secrets: Vec<(String, String)>,
    /// A factory reboot: build with `--no-cache`, reuse no image.
    factory: bool,
}

impl Settings {
    fn of(space: &Space, factory: bool) -> Settings {
        let st = space.lock();
        let kv = |v: &Vec<crate::hub::KeyEntry>| {
            v.iter()
                .map(|e| (e.key.clone(), e.value.clone()))
                .collect::<Vec<_>>()
        };
        Settings {
            variables: kv(&st.variables),
            secrets: kv(&st.secrets),
            factory,
        }
    }

    /// The build key: same tree, same variables and same secrets, same image.
    fn build_key(&self, head: &str) -> String {
        let mut h = Sha256::new();
        h.update(head.as_bytes());
        for (k, v) in self.variables.iter().chain(self.secrets.iter()) {
            h.update([0]);
            h.update(k.as_bytes());
            h.update([0]);
            h.update(v.as_bytes());
        }
        hex::encode(h.finalize())[..20].to_owned()
    }
}

/// One generation on the engine: build (or reuse the image of the same inputs), run, watch.
pub(super) async fn run(
    hub: &Arc<Hub>,
    space: &Arc<Space>,
    cfg: &DockerRunnerConfig,
    job: &Job<'_>,
) -> Result<(), StageFailure> {
    let Job {
        generation,
        head,
        card,
        started,
        factory,
    } = *job;
    let dir = checkout(hub, space, head, generation)
        .await
        .map_err(|e| ("BUILD_ERROR", e))?;
    log_line(
        space,
        generation,
        false,
        &format!(
            "===== Build Queued at {} / Commit SHA: {} =====",
            util::now_iso(),
            &head[..7]
        ),
    );
    let settings = Settings::of(space, factory);
    let image = image(space, generation, cfg, &dir, head, &settings).await?;
    let remaining = hub.delays.building.saturating_sub(started.elapsed());
    tokio::time::sleep(remaining).await;
    if !set_stage(space, generation, "APP_STARTING", None, None) {
        return Ok(());
    }
    let app_port = card.get("app_port").and_then(Value::as_u64).unwrap_or(7860);
    let name = format!(
        "hf-space-{}-{}-{generation}",
        instance(hub),
        space.subdomain().to_ascii_lowercase().replace('_', "-")
    );
    log_line(
        space,
        generation,
        true,
        &format!("===== Application Startup at {} =====", util::now_iso()),
    );
    let _guard = ContainerGuard(name.clone());
    start_container(hub, space, card, &image, &name, app_port, &settings).await?;
    let mut logs = docker();
    logs.args(["logs", "-f", &name])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut logs = logs
        .spawn()
        .map_err(|e| ("RUNTIME_ERROR", format!("cannot follow the app's log: {e}")))?;
    let mut readers = Vec::new();
    if let Some(o) = logs.stdout.take() {
        readers.push(pipe(space.clone(), generation, true, o));
    }
    if let Some(o) = logs.stderr.take() {
        readers.push(pipe(space.clone(), generation, true, o));
    }
    let port = match published_port(&name, app_port).await {
        Ok(port) => port,
        // An app that crashes at once has exited before its port could be read: that is the
        // failure to report (its exit code and traceback), not the missing port.
        Err(_) if has_exited(&name).await => return Err(exited(space, readers, &name).await),
        Err(e) => return Err(e),
    };
    wait_answering(hub, space, &name, port, app_port, &mut readers).await?;
    if !set_stage(
        space,
        generation,
        "RUNNING",
        None,
        Some(Upstream::Port(port)),
    ) {
        return Ok(());
    }
    let _ = docker()
        .args(["wait", &name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
    let _ = logs.wait().await;
    Err(exited(space, readers, &name).await)
}

/// The image of this commit and these settings: the one tagged with their key when it exists
/// ("not rebuilt"), else a new build.
async fn image(
    space: &Arc<Space>,
    generation: u64,
    cfg: &DockerRunnerConfig,
    dir: &Path,
    head: &str,
    settings: &Settings,
) -> Result<String, StageFailure> {
    let key = settings.build_key(head);
    let tag = format!("{}:{key}", image_repo(space));
    let existing = if settings.factory {
        None
    } else {
        output(&["image", "inspect", "--format", "{{.Id}}", &tag])
            .await
            .ok()
    };
    match existing {
        Some(id) if !id.is_empty() => {
            log_line(
                space,
                generation,
                false,
                &format!(
                    "hf-hub-emulator: the image for this commit and these settings exists ({}): not rebuilt",
                    &id[..id.len().min(19)]
                ),
            );
            Ok(id)
        }
        _ => build(space, generation, cfg, dir, &tag, &key, settings).await,
    }
}

/// `docker run -d` of the image: the Space's labels, `app_port` published on a loopback port,
/// the `SPACE_*` variables, variables and secrets in the environment (values through the CLI's
/// environment, never its argv).
async fn start_container(
    hub: &Hub,
    space: &Space,
    card: &Value,
    image: &str,
    name: &str,
    app_port: u64,
    settings: &Settings,
) -> Result<(), StageFailure> {
    let title = card
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or(&space.name)
        .to_owned();
    let mut cmd = docker();
    cmd.args(["run", "-d", "--name", name])
        .arg("--label")
        .arg(format!("{SPACE_LABEL}={}", space.id))
        .arg("--label")
        .arg(format!("{INSTANCE_LABEL}={}", instance(hub)))
        .arg("-p")
        .arg(format!("127.0.0.1::{app_port}"));
    // Values go through the CLI's environment (`-e KEY` copies it), never its argv.
    let mut env: Vec<(String, String)> = vec![
        ("SPACE_ID".into(), space.id.clone()),
        ("SPACE_AUTHOR_NAME".into(), space.ns.clone()),
        ("SPACE_REPO_NAME".into(), space.name.clone()),
        ("SPACE_TITLE".into(), title),
        (
            "SPACE_HOST".into(),
            format!("{}.hf.space", space.subdomain()),
        ),
        (
            "SPACE_CREATOR_USER_ID".into(),
            "000000000000000000000000".into(),
        ),
        ("CPU_CORES".into(), "2".into()),
        ("MEMORY".into(), "16Gi".into()),
    ];
    env.extend(settings.variables.iter().cloned());
    env.extend(settings.secrets.iter().cloned());
    for (k, v) in &env {
        cmd.arg("-e").arg(k).env(k, v);
    }
    cmd.arg(image);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let out = cmd.output().await.map_err(|e| {
        (
            "RUNTIME_ERROR",
            format!("cannot run `{}`: {e}", cli().display()),
        )
    })?;
    if !out.status.success() {
        return Err((
            "RUNTIME_ERROR",
            format!(
                "docker run failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(())
}

/// The loopback port the engine published the container's `app_port` on.
async fn published_port(name: &str, app_port: u64) -> Result<u16, StageFailure> {
    output(&["port", name, &format!("{app_port}/tcp")])
        .await
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.trim().rsplit_once(':').and_then(|(_, p)| p.parse().ok()))
        })
        .ok_or_else(|| {
            (
                "RUNTIME_ERROR",
                format!("the container's app_port {app_port} was not published"),
            )
        })
}

/// Whether container `name` has stopped (`exited` or `dead`).
async fn has_exited(name: &str) -> bool {
    let state = output(&["inspect", "--format", "{{.State.Status}}", name])
        .await
        .unwrap_or_default();
    state == "exited" || state == "dead"
}

/// The RUNTIME_ERROR of a container that exited: its exit code and the run log's tail (once the
/// log readers are done, at most 5 s each).
async fn exited(
    space: &Space,
    readers: Vec<tokio::task::JoinHandle<()>>,
    name: &str,
) -> StageFailure {
    let code = output(&["inspect", "--format", "{{.State.ExitCode}}", name])
        .await
        .unwrap_or_else(|_| "?".into());
    for r in readers {
        let _ = tokio::time::timeout(Duration::from_secs(5), r).await;
    }
    ("RUNTIME_ERROR", exited_message(space, &code))
}

/// Waits until something answers HTTP on the published port; the container exiting first, or
/// the startup timeout, is a RUNTIME_ERROR.
async fn wait_answering(
    hub: &Hub,
    space: &Space,
    name: &str,
    port: u16,
    app_port: u64,
    readers: &mut Vec<tokio::task::JoinHandle<()>>,
) -> Result<(), StageFailure> {
    // Ready when something answers HTTP on app_port (the engine's proxy accepts connections even
    // when nothing listens behind it, so a TCP connect proves nothing).
    let probe = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap_or_default();
    let deadline = Instant::now() + hub.startup_timeout;
    loop {
        if has_exited(name).await {
            return Err(exited(space, std::mem::take(readers), name).await);
        }
        if probe
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err((
                "RUNTIME_ERROR",
                format!(
                    "Launch timed out: nothing answered on app_port {app_port} within {}s (does the app listen on 0.0.0.0:{app_port}?)",
                    hub.startup_timeout.as_secs()
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `docker build` of the checkout, tagged `tag` and labelled with the Space and the build key;
/// older images of the Space are removed once it succeeds.
async fn build(
    space: &Arc<Space>,
    generation: u64,
    cfg: &DockerRunnerConfig,
    dir: &Path,
    tag: &str,
    key: &str,
    settings: &Settings,
) -> Result<String, StageFailure> {
    let iidfile = dir.with_extension("iid");
    let mut cmd = docker();
    cmd.args(["build", "--progress", "plain", "--tag", tag]);
    if settings.factory {
        cmd.arg("--no-cache");
    }
    cmd.arg("--label")
        .arg(format!("{SPACE_LABEL}={}", space.id))
        .arg("--label")
        .arg(format!("{KEY_LABEL}={key}"))
        .arg("--iidfile")
        .arg(&iidfile);
    if let Some(net) = &cfg.build_network {
        cmd.arg("--network").arg(net);
    }
    // Variables are build arguments (the Hub passes them so); secrets are only mountable with
    // `RUN --mount=type=secret,id=KEY`, read by the CLI from its own environment.
    for (k, v) in &settings.variables {
        cmd.arg("--build-arg").arg(format!("{k}={v}"));
    }
    for (k, v) in &settings.secrets {
        cmd.arg("--secret").arg(format!("id={k},env={k}")).env(k, v);
    }
    cmd.arg(dir).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        (
            "BUILD_ERROR",
            format!("cannot run `{}`: {e}", cli().display()),
        )
    })?;
    let mut readers = Vec::new();
    if let Some(o) = child.stdout.take() {
        readers.push(pipe(space.clone(), generation, false, o));
    }
    if let Some(o) = child.stderr.take() {
        readers.push(pipe(space.clone(), generation, false, o));
    }
    let status = child
        .wait()
        .await
        .map_err(|e| ("BUILD_ERROR", e.to_string()))?;
    for r in readers {
        let _ = r.await;
    }
    if !status.success() {
        return Err((
            "BUILD_ERROR",
            build_failed_message(space, status.code().unwrap_or(-1)),
        ));
    }
    let id = tokio::fs::read_to_string(&iidfile)
        .await
        .map(|s| s.trim().to_owned())
        .map_err(|e| ("BUILD_ERROR", format!("the build wrote no image id: {e}")))?;
    let _ = tokio::fs::remove_file(&iidfile).await;
    // Older images of this Space (other commits or settings) are not needed any more.
    if let Ok(list) = output(&[
        "image",
        "ls",
        "--filter",
        &format!("reference={}", image_repo(space)),
        "--format",
        "{{.Repository}}:{{.Tag}}",
    ])
    .await
    {
        for old in list.lines().filter(|t| *t != tag && !t.is_empty()) {
            let _ = output(&["image", "rm", old]).await;
        }
    }
    log_line(space, generation, false, "Build complete");
    Ok(id)
}
