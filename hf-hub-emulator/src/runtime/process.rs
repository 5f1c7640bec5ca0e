//! The process runner (`Runner::Real`): no image is built; the commit is checked out, its
//! requirements installed in a virtual environment cached by sha256(python + requirements), and
//! the Dockerfile's `ENTRYPOINT` + `CMD` runs on this machine, on a free local port, in its own
//! process group (killed with its generation).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::process::{Child, Command};

use super::Job;
use super::bounded::GroupGuard;
use super::checkout::checkout;
use super::dockerfile::{Dockerfile, parse_dockerfile, rewrite_port};
use super::stages::{StageFailure, log_line, pipe, set_stage};
use crate::config::RealRunnerConfig;
use crate::hub::{Hub, Space, Upstream};
use crate::util;

fn free_port() -> Option<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()
        .map(|a| a.port())
}

/// The commit, built: its checkout, what its Dockerfile says, where the app runs from, its
/// virtual environment and its command.
struct Built {
    df: Dockerfile,
    workdir: PathBuf,
    venv: PathBuf,
    argv: Vec<String>,
    /// A factory reboot's own virtual environment, removed when the generation ends.
    fresh: Option<tempfile::TempDir>,
}

/// One generation as a local process: build (checkout, venv), start, wait until the port
/// accepts connections, RUNNING, then watch the process until it exits.
pub(super) async fn run(
    hub: &Arc<Hub>,
    space: &Arc<Space>,
    cfg: &RealRunnerConfig,
    job: &Job<'_>,
) -> Result<(), StageFailure> {
    let Job {
        generation,
        head,
        card,
        started,
        factory,
    } = *job;
    let Built {
        df,
        workdir,
        venv,
        mut argv,
        fresh: _fresh,
    } = build(hub, space, generation, cfg, head, factory).await?;
    let remaining = hub.delays.building.saturating_sub(started.elapsed());
    tokio::time::sleep(remaining).await;
    log_line(space, generation, false, "Build complete");
    let no_port = || ("RUNTIME_ERROR", "no free local port".to_owned());
    let port = free_port().ok_or_else(no_port)?;
    let unrouted = free_port().filter(|p| *p != port).ok_or_else(no_port)?;
    let app_port = card.get("app_port").and_then(Value::as_u64).unwrap_or(7860);
    let problems = rewrite_port(&mut argv, app_port, port, unrouted);
    if !set_stage(space, generation, "APP_STARTING", None, None) {
        return Ok(());
    }
    let app_started = Instant::now();
    let mut cmd = app_command(&argv, &venv, &df, space, card, port);
    cmd.current_dir(&workdir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    log_line(
        space,
        generation,
        true,
        &format!("===== Application Startup at {} =====", util::now_iso()),
    );
    let mut child = cmd
        .spawn()
        .map_err(|e| ("RUNTIME_ERROR", format!("cannot start `{}`: {e}", argv[0])))?;
    let _guard = GroupGuard(child.id());
    if let Some(o) = child.stdout.take() {
        pipe(space.clone(), generation, true, o);
    }
    if let Some(o) = child.stderr.take() {
        pipe(space.clone(), generation, true, o);
    }
    for p in &problems {
        log_line(space, generation, true, &format!("hf-hub-emulator: {p}"));
    }
    wait_listening(hub, &mut child, port, app_port, &problems).await?;
    tokio::time::sleep(
        hub.delays
            .app_starting
            .saturating_sub(app_started.elapsed()),
    )
    .await;
    if !set_stage(
        space,
        generation,
        "RUNNING",
        None,
        Some(Upstream::Port(port)),
    ) {
        return Ok(());
    }
    let status = child
        .wait()
        .await
        .map_err(|e| ("RUNTIME_ERROR", e.to_string()))?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    Err((
        "RUNTIME_ERROR",
        format!("The application exited with {status}"),
    ))
}

/// The build: checkout, the Dockerfile read, the requirements installed, the command found.
async fn build(
    hub: &Hub,
    space: &Arc<Space>,
    generation: u64,
    cfg: &RealRunnerConfig,
    head: &str,
    factory: bool,
) -> Result<Built, StageFailure> {
    let dir = checkout(hub, space, head, generation)
        .await
        .map_err(|e| ("BUILD_ERROR", e))?;
    let text = tokio::fs::read_to_string(dir.join("Dockerfile"))
        .await
        .unwrap_or_default();
    let df = parse_dockerfile(&text);
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
    log_line(
        space,
        generation,
        false,
        &format!(
            "hf-hub-emulator: no Docker image is built; the Dockerfile's CMD runs on this machine with `{}` in a virtual environment",
            cfg.python.display()
        ),
    );
    let workdir = match &df.copy_dir {
        Some(d) if dir.join(d).is_dir() => dir.join(d),
        _ => dir.clone(),
    };
    let requirements = requirements_file(&df, &dir, &workdir);
    let (venv, fresh) = if factory {
        let fresh = fresh_venv(space, generation, cfg, requirements.as_deref()).await?;
        (fresh.path().to_path_buf(), Some(fresh))
    } else {
        let cached = ensure_venv(space, generation, cfg, requirements.as_deref()).await?;
        (cached, None)
    };
    let mut argv: Vec<String> = df.entrypoint.clone().unwrap_or_default();
    argv.extend(df.cmd.clone().unwrap_or_default());
    if argv.is_empty() {
        return Err((
            "BUILD_ERROR",
            "The Dockerfile has no CMD or ENTRYPOINT".to_owned(),
        ));
    }
    Ok(Built {
        df,
        workdir,
        venv,
        argv,
        fresh,
    })
}

/// The requirements to install: the file of `RUN pip install -r FILE` (from the checkout's root
/// or the app's directory), else a `requirements.txt` in either.
fn requirements_file(df: &Dockerfile, dir: &Path, workdir: &Path) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(r) = &df.requirements {
        let name = r.trim_start_matches("./");
        candidates.push(dir.join(name));
        candidates.push(workdir.join(name));
        if let Some(base) = Path::new(name).file_name() {
            candidates.push(workdir.join(base));
        }
    }
    candidates.push(dir.join("requirements.txt"));
    candidates.push(workdir.join("requirements.txt"));
    candidates.into_iter().find(|p| p.is_file())
}

/// The app's command: `python` and the venv's scripts from the venv, a clean environment with
/// the Dockerfile's `ENV`, the Space's variables and secrets and the Hub's `SPACE_*` variables.
fn app_command(
    argv: &[String],
    venv: &Path,
    df: &Dockerfile,
    space: &Space,
    card: &Value,
    port: u16,
) -> Command {
    let bin = venv.join("bin");
    let host_path = std::env::var("PATH").unwrap_or_default();
    let mut cmd = if argv[0] == "python" || argv[0] == "python3" {
        let mut c = Command::new(bin.join("python"));
        c.args(&argv[1..]);
        c
    } else if bin.join(&argv[0]).is_file() {
        let mut c = Command::new(bin.join("python"));
        c.arg(bin.join(&argv[0])).args(&argv[1..]);
        c
    } else {
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]);
        c
    };
    cmd.env_clear()
        .env("PATH", format!("{}:{host_path}", bin.display()))
        .env(
            "HOME",
            std::env::var("HOME").unwrap_or_else(|_| "/tmp".to_owned()),
        )
        .env("LANG", "C.UTF-8")
        .env("PYTHONUNBUFFERED", "1")
        .env("VIRTUAL_ENV", venv);
    for (k, v) in &df.env {
        if k != "PATH" && k != "HOME" {
            cmd.env(k, v);
        }
    }
    {
        let st = space.lock();
        for e in st.variables.iter().chain(st.secrets.iter()) {
            cmd.env(&e.key, &e.value);
        }
    }
    let title = card
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or(&space.name)
        .to_owned();
    cmd.env("SPACE_ID", &space.id)
        .env("SPACE_AUTHOR_NAME", &space.ns)
        .env("SPACE_REPO_NAME", &space.name)
        .env("SPACE_TITLE", title)
        .env("SPACE_HOST", format!("{}.hf.space", space.subdomain()))
        .env("SPACE_CREATOR_USER_ID", "000000000000000000000000")
        .env("CPU_CORES", "2")
        .env("MEMORY", "16Gi")
        .env("PORT", port.to_string());
    cmd
}

/// Waits until `port` accepts connections; the app exiting first, or the startup timeout, is a
/// RUNTIME_ERROR.
async fn wait_listening(
    hub: &Hub,
    child: &mut Child,
    port: u16,
    app_port: u64,
    problems: &[String],
) -> Result<(), StageFailure> {
    // The Hub would wait for its startup timeout (30 min); when the command is known to be
    // unreachable, do not make tests wait that long.
    let timeout = if problems.is_empty() {
        hub.startup_timeout
    } else {
        hub.startup_timeout.min(Duration::from_secs(10))
    };
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            return Err((
                "RUNTIME_ERROR",
                format!("The application exited during startup with {status}"),
            ));
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            let mut msg = format!(
                "Launch timed out: nothing listened on app_port {app_port} within {}s",
                timeout.as_secs()
            );
            if let Some(p) = problems.first() {
                msg.push_str(&format!(" ({p})"));
            }
            return Err(("RUNTIME_ERROR", msg));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The cache key of a virtual environment: sha256 of the Python and the requirements' bytes.
fn venv_key(cfg: &RealRunnerConfig, requirements: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(cfg.python.to_string_lossy().as_bytes());
    h.update([0]);
    h.update(requirements);
    hex::encode(h.finalize())
}

/// The virtual environment of these requirements: from the cache, or built in a temporary
/// directory renamed into the cache (concurrent builds are safe; the second one is instant).
async fn ensure_venv(
    space: &Arc<Space>,
    generation: u64,
    cfg: &RealRunnerConfig,
    requirements: Option<&Path>,
) -> Result<PathBuf, StageFailure> {
    let req = match requirements {
        Some(p) => tokio::fs::read(p).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let key = venv_key(cfg, &req);
    let final_dir = cfg.venv_cache.join(&key[..24]);
    if final_dir.join(".complete").exists() {
        log_line(
            space,
            generation,
            false,
            &format!("Using cached virtual environment {}", &key[..12]),
        );
        return Ok(final_dir);
    }
    // A `TempDir`: removed when the build fails or this task is dropped half-way (a stand-in
    // shut down mid-build), kept only once renamed into the cache.
    let tmp = temp_in_cache(cfg, &format!(".tmp-{}-", &key[..12])).await?;
    create_venv(space, generation, cfg, tmp.path(), requirements, false).await?;
    let _ = tokio::fs::write(tmp.path().join(".complete"), b"").await;
    if tokio::fs::rename(tmp.path(), &final_dir).await.is_ok() {
        // Renamed away: nothing is left at the temporary path to remove.
        let _ = tmp.keep();
    } else if !final_dir.join(".complete").exists() {
        // (Else another build of the same requirements won the race; `tmp` is removed.)
        return Err((
            "BUILD_ERROR",
            "cannot store the virtual environment in the cache".to_owned(),
        ));
    }
    Ok(final_dir)
}

/// A factory reboot's virtual environment: the cached one is not used, a fresh one is built
/// without pip's cache in a directory of this generation (removed when it ends). The cache is
/// left alone: other Spaces, and other stand-ins sharing `venv_cache`, may run from it.
async fn fresh_venv(
    space: &Arc<Space>,
    generation: u64,
    cfg: &RealRunnerConfig,
    requirements: Option<&Path>,
) -> Result<tempfile::TempDir, StageFailure> {
    log_line(
        space,
        generation,
        false,
        "hf-hub-emulator: factory reboot: the cached virtual environment is not used, a fresh one is built",
    );
    let dir = temp_in_cache(cfg, ".factory-").await?;
    create_venv(space, generation, cfg, dir.path(), requirements, true).await?;
    Ok(dir)
}

/// A new folder in the virtual-environment cache (created if missing), removed when dropped.
async fn temp_in_cache(
    cfg: &RealRunnerConfig,
    prefix: &str,
) -> Result<tempfile::TempDir, StageFailure> {
    tokio::fs::create_dir_all(&cfg.venv_cache)
        .await
        .and_then(|()| {
            tempfile::Builder::new()
                .prefix(prefix)
                .tempdir_in(&cfg.venv_cache)
        })
        .map_err(|e| {
            (
                "BUILD_ERROR",
                format!(
                    "cannot create a virtual environment in `{}`: {e}",
                    cfg.venv_cache.display()
                ),
            )
        })
}

/// `python -m venv tmp`, then `pip install -r requirements` in it (output to the build log;
/// `no_cache`: without pip's cache).
async fn create_venv(
    space: &Arc<Space>,
    generation: u64,
    cfg: &RealRunnerConfig,
    tmp: &Path,
    requirements: Option<&Path>,
    no_cache: bool,
) -> Result<(), StageFailure> {
    log_line(
        space,
        generation,
        false,
        &format!("Creating virtual environment with {}", cfg.python.display()),
    );
    // `venv` (ensurepip) and pip unpack into `TMPDIR`; a process killed half-way leaves its
    // files there, so it is a folder of ours, removed when this call ends or is dropped.
    let scratch = temp_in_cache(cfg, ".scratch-").await?;
    run_logged(
        space,
        generation,
        Command::new(&cfg.python)
            .env("TMPDIR", scratch.path())
            .arg("-m")
            .arg("venv")
            .arg(tmp),
    )
    .await
    .map_err(|e| {
        (
            "BUILD_ERROR",
            format!("creating the virtual environment failed: {e}"),
        )
    })?;
    let Some(req_path) = requirements else {
        return Ok(());
    };
    log_line(
        space,
        generation,
        false,
        "RUN pip install --no-cache-dir -r requirements.txt",
    );
    let mut pip = Command::new(tmp.join("bin").join("python"));
    pip.env("TMPDIR", scratch.path()).args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
    ]);
    if no_cache {
        pip.arg("--no-cache-dir");
    }
    let res = run_logged(space, generation, pip.arg("-r").arg(req_path)).await;
    if let Err(e) = res {
        let _ = tokio::fs::remove_dir_all(tmp).await;
        return Err((
            "BUILD_ERROR",
            format!("pip install -r requirements.txt failed: {e}"),
        ));
    }
    Ok(())
}

/// Runs a command in its own process group, its output going to the build log.
async fn run_logged(space: &Arc<Space>, generation: u64, cmd: &mut Command) -> Result<(), String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    let _guard = GroupGuard(child.id());
    let mut readers = Vec::new();
    if let Some(o) = child.stdout.take() {
        readers.push(pipe(space.clone(), generation, false, o));
    }
    if let Some(o) = child.stderr.take() {
        readers.push(pipe(space.clone(), generation, false, o));
    }
    let status = child.wait().await.map_err(|e| e.to_string())?;
    for r in readers {
        let _ = r.await;
    }
    if status.success() {
        Ok(())
    } else {
        Err(format!("exit status {}", status.code().unwrap_or(-1)))
    }
}
