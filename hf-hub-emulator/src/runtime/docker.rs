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

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::process::Command;

use super::Job;
use super::bounded::{output_within, spawn_in_group};
use super::checkout::checkout;
use super::docker_cli::{BUILD, QUICK, REMOVAL, START, docker, failed, output, output_blocking};
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

/// This stand-in's label value: its data directory, hashed (unique per running stand-in).
fn instance(hub: &Hub) -> String {
    let h = Sha256::digest(hub.data_dir.to_string_lossy().as_bytes());
    hex::encode(h)[..12].to_owned()
}

/// Removes every container this stand-in started (shutdown path; also run from `Drop`); each
/// `docker` call bounded, so that an engine that stalls cannot hang the shutdown.
pub(super) fn remove_instance_containers_blocking(hub: &Hub) {
    let filter = format!("label={INSTANCE_LABEL}={}", instance(hub));
    let Ok(out) = output_blocking(&["ps", "-aq", "--filter", &filter], REMOVAL) else {
        return;
    };
    let ids: Vec<&str> = out.split_whitespace().collect();
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(ids);
        let _ = output_blocking(&args, REMOVAL);
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
        let _ = output_blocking(&["rm", "-f", &self.0], REMOVAL);
    }
}

/// The image name of a Space (one repository per Space; the tag is the build key).
fn image_repo(space: &Space) -> String {
    format!(
        "hf-space/{}",
        space.subdomain().to_ascii_lowercase().replace('_', "-")
    )
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
    let (mut logs, _logs_group) = spawn_in_group(&mut logs)
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
    if let Err(lost) = wait_exit(&name).await {
        if !has_exited(&name).await {
            return Err(("RUNTIME_ERROR", lost));
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), logs.wait()).await;
    Err(exited(space, readers, &name).await)
}

/// `docker wait`: as long as the container runs (no deadline), in its own process group. An
/// error is what the CLI said (the engine failed, not the app).
async fn wait_exit(name: &str) -> Result<(), String> {
    let mut cmd = docker();
    cmd.args(["wait", name])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let (child, _group) = spawn_in_group(&mut cmd).map_err(|e| format!("docker wait: {e}"))?;
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| format!("docker wait: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(failed("docker wait", &out.stderr))
    }
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
        output(&["image", "inspect", "--format", "{{.Id}}", &tag], QUICK)
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
    let out = output_within(&mut cmd, START)
        .await
        .map_err(|f| ("RUNTIME_ERROR", f.describe("docker run")))?;
    if !out.status.success() {
        return Err(("RUNTIME_ERROR", failed("docker run", &out.stderr)));
    }
    Ok(())
}

/// The loopback port the engine published the container's `app_port` on.
async fn published_port(name: &str, app_port: u64) -> Result<u16, StageFailure> {
    output(&["port", name, &format!("{app_port}/tcp")], QUICK)
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
    let state = output(&["inspect", "--format", "{{.State.Status}}", name], QUICK)
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
    let code = output(&["inspect", "--format", "{{.State.ExitCode}}", name], QUICK)
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
/// older images of the Space are removed once it succeeds. The build runs in its own process
/// group, at most [`BUILD`]; an engine that refuses or cuts it fails it with the CLI's words in
/// the build log.
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
    let mut cmd = build_command(space, cfg, dir, tag, key, settings, &iidfile);
    let (mut child, _group) = spawn_in_group(&mut cmd)
        .map_err(|e| ("BUILD_ERROR", format!("cannot run `docker build`: {e}")))?;
    let mut readers = Vec::new();
    if let Some(o) = child.stdout.take() {
        readers.push(pipe(space.clone(), generation, false, o));
    }
    if let Some(o) = child.stderr.take() {
        readers.push(pipe(space.clone(), generation, false, o));
    }
    let status = match tokio::time::timeout(BUILD, child.wait()).await {
        Ok(status) => status.map_err(|e| ("BUILD_ERROR", e.to_string()))?,
        Err(_) => {
            return Err((
                "BUILD_ERROR",
                format!(
                    "`docker build` did not end within {} minutes (killed)",
                    BUILD.as_secs() / 60
                ),
            ));
        }
    };
    for r in readers {
        let _ = tokio::time::timeout(Duration::from_secs(5), r).await;
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
    let reference = format!("reference={}", image_repo(space));
    let listed = [
        "image",
        "ls",
        "--filter",
        &reference,
        "--format",
        "{{.Repository}}:{{.Tag}}",
    ];
    if let Ok(list) = output(&listed, QUICK).await {
        for old in list.lines().filter(|t| *t != tag && !t.is_empty()) {
            let _ = output(&["image", "rm", old], QUICK).await;
        }
    }
    log_line(space, generation, false, "Build complete");
    Ok(id)
}

/// The `docker build` command line: labels, the iid file, the network, variables as build
/// arguments, secrets through the CLI's environment.
fn build_command(
    space: &Space,
    cfg: &DockerRunnerConfig,
    dir: &Path,
    tag: &str,
    key: &str,
    settings: &Settings,
    iidfile: &Path,
) -> Command {
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
        .arg(iidfile);
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
    cmd
}
