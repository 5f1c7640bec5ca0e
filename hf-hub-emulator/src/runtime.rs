//! The Space runtime: BUILDING -> APP_STARTING -> RUNNING (or an error stage), one generation at a time.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use crate::config::{RealRunnerConfig, Runner};
use crate::git;
use crate::hub::{Hub, Space, Upstream};
use crate::scripted::ScriptedRunner;
use crate::util;

/// Stages a client keeps polling through.
pub(crate) fn is_intermediate(stage: &str) -> bool {
    matches!(
        stage,
        "BUILDING" | "RUNNING_BUILDING" | "APP_STARTING" | "RUNNING_APP_STARTING"
    )
}

/// The runtime JSON (`GET /api/spaces/{id}/runtime`).
pub(crate) fn runtime_json(space: &Space) -> Value {
    let st = space.lock();
    let running = st.stage == "RUNNING" || st.previous_serves;
    let mut replicas = json!({ "requested": 1 });
    if running {
        replicas["current"] = json!(1);
    }
    let mut v = json!({
        "stage": st.stage,
        "hardware": {
            "current": if running { Value::String(st.hardware.clone()) } else { Value::Null },
            "requested": st.hardware,
        },
        "storage": null,
        "gcTimeout": if st.sleep_time < 0 { Value::Null } else { json!(st.sleep_time) },
        "replicas": replicas,
        "devMode": false,
        "domains": [{ "domain": format!("{}.hf.space", space.subdomain()), "stage": "READY" }],
    });
    if let Some(msg) = &st.error_message {
        v["errorMessage"] = json!(msg);
    }
    v
}

/// Starts a new generation (cancelling the running one): BUILDING now (or, while the previous
/// revision keeps serving, the `RUNNING_` stages), the rest in the background.
pub(crate) fn trigger(hub: &Arc<Hub>, space: &Arc<Space>) {
    *crate::util::lock(&hub.starts)
        .entry(space.id.to_ascii_lowercase())
        .or_default() += 1;
    let (generation, cancel) = {
        let mut st = space.lock();
        st.cancel.cancel();
        st.generation += 1;
        st.cancel = hub.shutdown.child_token();
        // On the Hub the running revision keeps serving until the new one runs. Only a scripted
        // app outlives its generation here (a process or container is stopped with it).
        st.previous_serves = hub
            .previous_serves
            .load(std::sync::atomic::Ordering::SeqCst)
            && (st.stage == "RUNNING" || st.previous_serves)
            && matches!(st.upstream, Upstream::Scripted(_));
        // While the previous revision serves, the stage stays as it was until the build
        // begins (the Hub takes a moment to notice a push), then reads `RUNNING_BUILDING`.
        if !st.previous_serves {
            st.stage = "BUILDING".to_owned();
            st.upstream = Upstream::None;
        }
        st.error_message = None;
        st.build_log.reset();
        st.run_log.reset();
        (st.generation, st.cancel.clone())
    };
    space.bump();
    let (hub2, space2) = (hub.clone(), space.clone());
    hub.spawn(async move {
        let token = cancel.clone();
        tokio::select! {
            _ = pipeline(&hub2, &space2, generation) => {}
            _ = token.cancelled() => {}
        }
    });
}

/// Stops the app (pause / delete): no new generation runs.
pub(crate) fn stop(space: &Space, stage: &str) {
    {
        let mut st = space.lock();
        st.cancel.cancel();
        st.generation += 1;
        st.stage = stage.to_owned();
        st.error_message = None;
        st.upstream = Upstream::None;
        st.previous_serves = false;
    }
    space.bump();
}

/// Appends a line to the build (`run == false`) or run log, if `generation` is still current.
pub(crate) fn log_line(space: &Space, generation: u64, run: bool, line: &str) {
    {
        let mut st = space.lock();
        if st.generation != generation {
            return;
        }
        let mut text = line.to_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let buf = if run {
            &mut st.run_log
        } else {
            &mut st.build_log
        };
        buf.lines.push((text, util::now_iso()));
    }
    space.bump();
}

pub(crate) fn set_stage(
    space: &Space,
    generation: u64,
    stage: &str,
    error: Option<String>,
    upstream: Option<Upstream>,
) -> bool {
    {
        let mut st = space.lock();
        if st.generation != generation {
            return false;
        }
        match upstream {
            // The new revision runs or failed: the previous one stops serving.
            Some(u) => {
                st.upstream = u;
                st.previous_serves = false;
                st.stage = stage.to_owned();
            }
            // Still on its way while the previous revision serves: the `RUNNING_` stages.
            None if st.previous_serves && matches!(stage, "BUILDING" | "APP_STARTING") => {
                st.stage = format!("RUNNING_{stage}");
            }
            None => st.stage = stage.to_owned(),
        }
        st.error_message = error;
    }
    space.bump();
    true
}

fn fail(space: &Space, generation: u64, stage: &str, msg: &str, run: bool) {
    log_line(space, generation, run, msg);
    set_stage(
        space,
        generation,
        stage,
        Some(msg.to_owned()),
        Some(Upstream::None),
    );
}

async fn pipeline(hub: &Arc<Hub>, space: &Arc<Space>, generation: u64) {
    let started = Instant::now();
    let scripted = space.lock().script.clone().or_else(|| match &hub.runner {
        Runner::Scripted(s) => Some(s.clone()),
        Runner::Real(_) | Runner::Docker(_) => None,
    });
    let check = scripted.as_ref().is_none_or(|s| s.check_repo);
    let repo = space.repo_dir.clone();
    let Some(head) = git::rev_parse(hub, &repo, "refs/heads/main").await else {
        fail(
            space,
            generation,
            "NO_APP_FILE",
            "The repository is empty: push a Dockerfile",
            false,
        );
        return;
    };
    let mut card = json!({});
    if check {
        let readme = git::read_file(hub, &repo, &head, "README.md").await;
        let Some(readme) = readme else {
            tokio::time::sleep(hub.delays.building).await;
            fail(
                space,
                generation,
                "CONFIG_ERROR",
                "Missing configuration in README: README.md not found",
                false,
            );
            return;
        };
        let readme = String::from_utf8_lossy(&readme).into_owned();
        if util::front_matter(&readme).is_none() {
            tokio::time::sleep(hub.delays.building).await;
            fail(
                space,
                generation,
                "CONFIG_ERROR",
                "Missing configuration in README: no YAML front matter",
                false,
            );
            return;
        }
        card = match util::card_data(&readme) {
            Ok(c) => c,
            Err(e) => {
                tokio::time::sleep(hub.delays.building).await;
                fail(
                    space,
                    generation,
                    "CONFIG_ERROR",
                    &format!("Invalid configuration in README: {e}"),
                    false,
                );
                return;
            }
        };
        let errors = util::space_config_errors(&card);
        if !errors.is_empty() {
            tokio::time::sleep(hub.delays.building).await;
            for e in &errors[1..] {
                log_line(
                    space,
                    generation,
                    false,
                    &format!("Invalid configuration in README: {e}"),
                );
            }
            fail(
                space,
                generation,
                "CONFIG_ERROR",
                &format!("Invalid configuration in README: {}", errors[0]),
                false,
            );
            return;
        }
        if let Some(sdk) = card.get("sdk").and_then(Value::as_str) {
            space.lock().sdk = sdk.to_owned();
        }
    }
    let sdk = space.lock().sdk.clone();
    if check
        && sdk == "docker"
        && git::read_file(hub, &repo, &head, "Dockerfile")
            .await
            .is_none()
    {
        tokio::time::sleep(hub.delays.building).await;
        fail(
            space,
            generation,
            "NO_APP_FILE",
            "No Dockerfile found at the root of the repository",
            false,
        );
        return;
    }
    if let Some(s) = scripted {
        run_scripted(hub, space, generation, &s).await;
        return;
    }
    if sdk != "docker" {
        log_line(
            space,
            generation,
            false,
            &format!("hf-hub-emulator: the {sdk} SDK is not run, only docker Spaces are"),
        );
        tokio::time::sleep(hub.delays.building).await;
        if set_stage(space, generation, "APP_STARTING", None, None) {
            tokio::time::sleep(hub.delays.app_starting).await;
            set_stage(space, generation, "RUNNING", None, Some(Upstream::None));
        }
        return;
    }
    if let Runner::Docker(cfg) = &hub.runner {
        if let Err((stage, msg)) =
            crate::docker::run(hub, space, generation, cfg, &head, &card, started).await
        {
            // The message quotes the log's tail: only its first line goes to the log again.
            let first = msg.lines().next().unwrap_or_default();
            log_line(space, generation, stage == "RUNTIME_ERROR", first);
            set_stage(space, generation, stage, Some(msg), Some(Upstream::None));
        }
        return;
    }
    let Runner::Real(cfg) = &hub.runner else {
        return;
    };
    if let Err(msg) = run_real(hub, space, generation, cfg, &head, &card, started).await {
        let stage = msg.0;
        fail(space, generation, stage, &msg.1, stage == "RUNTIME_ERROR");
    }
}

async fn run_scripted(hub: &Hub, space: &Space, generation: u64, s: &ScriptedRunner) {
    for line in &s.build_log {
        log_line(space, generation, false, line);
    }
    let steps = s.steps.clone().unwrap_or_else(|| {
        vec![
            ("BUILDING".to_owned(), hub.delays.building),
            ("APP_STARTING".to_owned(), hub.delays.app_starting),
        ]
    });
    for (stage, delay) in steps {
        if !set_stage(space, generation, &stage, None, None) {
            return;
        }
        tokio::time::sleep(delay).await;
    }
    for line in &s.run_log {
        log_line(space, generation, true, line);
    }
    let running = s.final_stage == "RUNNING";
    let upstream = if running {
        Upstream::Scripted(s.app.clone())
    } else {
        Upstream::None
    };
    let error = (!running && s.final_stage.ends_with("ERROR"))
        .then(|| format!("scripted {}", s.final_stage));
    set_stage(space, generation, &s.final_stage, error, Some(upstream));
}

/// Kills a whole process group when dropped (uvicorn workers, pip's children...).
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn pipe_lines<R: AsyncRead + Unpin + Send + 'static>(
    space: Arc<Space>,
    generation: u64,
    run: bool,
    r: R,
) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(r).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            log_line(&space, generation, run, &line);
        }
    });
}

pub(crate) type StageFailure = (&'static str, String);

/// What the emulator understands of a Dockerfile.
#[derive(Debug, Default)]
struct Dockerfile {
    env: Vec<(String, String)>,
    cmd: Option<Vec<String>>,
    entrypoint: Option<Vec<String>>,
    copy_dir: Option<String>,
    requirements: Option<String>,
}

fn parse_dockerfile(text: &str) -> Dockerfile {
    let mut df = Dockerfile::default();
    let mut logical = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let t = line.trim();
        if cur.is_empty() && (t.starts_with('#') || t.is_empty()) {
            continue;
        }
        if let Some(s) = t.strip_suffix('\\') {
            cur.push_str(s);
            cur.push(' ');
        } else {
            cur.push_str(t);
            logical.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        logical.push(cur);
    }
    let exec_or_shell = |rest: &str| -> Vec<String> {
        serde_json::from_str::<Vec<String>>(rest.trim())
            .unwrap_or_else(|_| vec!["sh".to_owned(), "-c".to_owned(), rest.trim().to_owned()])
    };
    let req_re = regex::Regex::new(r"-r\s+(\S+)").ok();
    for l in logical {
        let (instr, rest) = l
            .split_once(char::is_whitespace)
            .unwrap_or((l.as_str(), ""));
        match instr.to_ascii_uppercase().as_str() {
            "ENV" => {
                let rest = rest.trim();
                if rest.contains('=') {
                    for part in split_words(rest) {
                        if let Some((k, v)) = part.split_once('=') {
                            df.env.push((k.to_owned(), v.to_owned()));
                        }
                    }
                } else if let Some((k, v)) = rest.split_once(char::is_whitespace) {
                    df.env.push((k.to_owned(), v.trim().to_owned()));
                }
            }
            "CMD" => df.cmd = Some(exec_or_shell(rest)),
            "ENTRYPOINT" => df.entrypoint = Some(exec_or_shell(rest)),
            "COPY" | "ADD" => {
                let words: Vec<String> = split_words(rest)
                    .into_iter()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                if rest.contains("--from") || words.len() != 2 {
                    continue;
                }
                let src = words[0].trim_start_matches("./").trim_end_matches('/');
                if !src.is_empty() && src != "." && !src.contains('*') && !src.contains('.') {
                    df.copy_dir = Some(src.to_owned());
                }
            }
            "RUN" if rest.contains("pip") => {
                if let Some(c) = req_re.as_ref().and_then(|r| r.captures(rest)) {
                    df.requirements = Some(c[1].to_owned());
                }
            }
            _ => {}
        }
    }
    df
}

fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    for c in s.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            (_, c) => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "::1" | "[::1]")
}

/// Points the command at local ports instead of the container's: the `app_port` (where the Hub
/// routes traffic) becomes `routed`, any other port becomes `unrouted` (the app runs, nothing reaches
/// it, like on the Hub). Forms: `--port N`, `--port=N`, `-p N`, a bare `N` (`python -m http.server
/// 7860`), `HOST:N` (gunicorn `--bind`), and inside `sh -c` strings. A loopback `--host` (or bind
/// address) is unreachable from outside a container: everything goes to `unrouted` then.
/// Returns what is wrong with the command (empty when the Hub could reach the app).
fn rewrite_port(argv: &mut [String], app_port: u64, routed: u16, unrouted: u16) -> Vec<String> {
    let app = app_port.to_string();
    let mut problems = Vec::new();
    let mut loopback = None;
    let wrong_port = |n: &str, problems: &mut Vec<String>| {
        if n == app {
            routed.to_string()
        } else {
            problems.push(format!(
                "the app is told to listen on port {n} but the README's app_port is {app_port}: \
                 the Space routes traffic to port {app_port} only"
            ));
            unrouted.to_string()
        }
    };
    let mut i = 0;
    while i < argv.len() {
        let a = argv[i].clone();
        if (a == "--port" || a == "-p") && i + 1 < argv.len() {
            argv[i + 1] = wrong_port(&argv[i + 1].clone(), &mut problems);
            i += 1;
        } else if let Some(n) = a.strip_prefix("--port=") {
            argv[i] = format!("--port={}", wrong_port(n, &mut problems));
        } else if (a == "--host" || a == "-h") && i + 1 < argv.len() {
            if is_loopback(&argv[i + 1]) {
                loopback = Some(argv[i + 1].clone());
            }
            argv[i + 1] = "127.0.0.1".to_owned();
            i += 1;
        } else if a == app {
            argv[i] = routed.to_string();
        } else if let Some((host, n)) = a.rsplit_once(':').filter(|(h, n)| {
            !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && !h.contains('/')
                && !h.contains(' ')
        }) {
            if is_loopback(host) {
                loopback = Some(host.to_owned());
            }
            argv[i] = format!("127.0.0.1:{}", wrong_port(n, &mut problems));
        } else if i >= 1 && argv[i - 1] == "-c" {
            if let Some(h) = ["127.0.0.1", "localhost"].iter().find(|h| {
                a.contains(&format!("--host {h}"))
                    || a.contains(&format!("--host={h}"))
                    || a.contains(&format!("{h}:{app}"))
            }) {
                loopback = Some((*h).to_owned());
            }
            argv[i] = a
                .replace(&format!("--port {app}"), &format!("--port {routed}"))
                .replace(&format!("--port={app}"), &format!("--port={routed}"))
                .replace(&format!("0.0.0.0:{app}"), &format!("127.0.0.1:{routed}"))
                .replace(&format!(":-{app}}}"), &format!(":-{routed}}}"))
                .replace(&format!(" {app} "), &format!(" {routed} "))
                .replace("--host 0.0.0.0", "--host 127.0.0.1");
            if argv[i].ends_with(&format!(" {app}")) {
                let cut = argv[i].len() - app.len();
                argv[i] = format!("{}{routed}", &argv[i][..cut]);
            }
        }
        i += 1;
    }
    if let Some(h) = loopback {
        problems.push(format!(
            "the app listens on {h}, which is unreachable from outside the container: \
             listen on 0.0.0.0 (e.g. `--host 0.0.0.0`)"
        ));
        for a in argv.iter_mut() {
            *a = a.replace(&routed.to_string(), &unrouted.to_string());
        }
    }
    problems
}

fn free_port() -> Option<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()
        .map(|a| a.port())
}

pub(crate) async fn checkout(
    hub: &Hub,
    space: &Space,
    head: &str,
    generation: u64,
) -> Result<PathBuf, String> {
    let prefix = format!("{}--", space.subdomain());
    // Checkouts of older generations (their apps are stopped) are not needed any more.
    if let Ok(mut entries) = tokio::fs::read_dir(&hub.work_dir).await {
        while let Ok(Some(e)) = entries.next_entry().await {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = tokio::fs::remove_dir_all(e.path()).await;
            }
        }
    }
    let dir = hub.work_dir.join(format!(
        "{prefix}{}-{generation}",
        &head[..12.min(head.len())]
    ));
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let tar = git::git(
        hub,
        &space.repo_dir,
        &["archive", "--format=tar", head],
        None,
        &[],
    )
    .await?;
    let mut child = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    if let Some(mut w) = child.stdin.take() {
        use tokio::io::AsyncWriteExt;
        tokio::spawn(async move {
            let _ = w.write_all(&tar).await;
        });
    }
    let out = child.wait_with_output().await.map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "tar failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // Smudge LFS pointers whose objects are stored.
    for e in git::ls_tree(hub, &space.repo_dir, head)
        .await?
        .into_iter()
        .filter(|e| e.size < 1024)
    {
        let p = dir.join(&e.path);
        if let Ok(data) = tokio::fs::read(&p).await {
            if let Some((oid, _)) = util::parse_lfs_pointer(&data) {
                if let Some(obj) = hub.lfs_object_path(&oid).filter(|o| o.exists()) {
                    let _ = tokio::fs::copy(obj, &p).await;
                }
            }
        }
    }
    Ok(dir)
}

async fn ensure_venv(
    hub: &Hub,
    space: &Arc<Space>,
    generation: u64,
    cfg: &RealRunnerConfig,
    requirements: Option<&Path>,
) -> Result<PathBuf, StageFailure> {
    let req = match requirements {
        Some(p) => tokio::fs::read(p).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let mut h = Sha256::new();
    h.update(cfg.python.to_string_lossy().as_bytes());
    h.update([0]);
    h.update(&req);
    let key = hex::encode(h.finalize());
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
    tokio::fs::create_dir_all(&cfg.venv_cache)
        .await
        .map_err(|e| {
            (
                "BUILD_ERROR",
                format!(
                    "cannot create venv cache `{}`: {e}",
                    cfg.venv_cache.display()
                ),
            )
        })?;
    let tmp = cfg
        .venv_cache
        .join(format!(".tmp-{}-{}", &key[..12], util::mongo_id()));
    log_line(
        space,
        generation,
        false,
        &format!("Creating virtual environment with {}", cfg.python.display()),
    );
    run_logged(
        space,
        generation,
        Command::new(&cfg.python).arg("-m").arg("venv").arg(&tmp),
    )
    .await
    .map_err(|e| {
        (
            "BUILD_ERROR",
            format!("creating the virtual environment failed: {e}"),
        )
    })?;
    if let Some(req_path) = requirements {
        log_line(
            space,
            generation,
            false,
            "RUN pip install --no-cache-dir -r requirements.txt",
        );
        let res = run_logged(
            space,
            generation,
            Command::new(tmp.join("bin").join("python"))
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--no-input",
                    "-r",
                ])
                .arg(req_path),
        )
        .await;
        if let Err(e) = res {
            let _ = tokio::fs::remove_dir_all(&tmp).await;
            return Err((
                "BUILD_ERROR",
                format!("pip install -r requirements.txt failed: {e}"),
            ));
        }
    }
    let _ = tokio::fs::write(tmp.join(".complete"), b"").await;
    if tokio::fs::rename(&tmp, &final_dir).await.is_err() {
        // Another build of the same requirements won the race.
        let _ = tokio::fs::remove_dir_all(&tmp).await;
        if !final_dir.join(".complete").exists() {
            return Err((
                "BUILD_ERROR",
                "cannot store the virtual environment in the cache".to_owned(),
            ));
        }
    }
    let _ = hub;
    Ok(final_dir)
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
        let s = space.clone();
        readers.push(tokio::spawn(async move {
            let mut l = BufReader::new(o).lines();
            while let Ok(Some(line)) = l.next_line().await {
                log_line(&s, generation, false, &line);
            }
        }));
    }
    if let Some(o) = child.stderr.take() {
        let s = space.clone();
        readers.push(tokio::spawn(async move {
            let mut l = BufReader::new(o).lines();
            while let Ok(Some(line)) = l.next_line().await {
                log_line(&s, generation, false, &line);
            }
        }));
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

async fn run_real(
    hub: &Arc<Hub>,
    space: &Arc<Space>,
    generation: u64,
    cfg: &RealRunnerConfig,
    head: &str,
    card: &Value,
    started: Instant,
) -> Result<(), StageFailure> {
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
    let mut req_candidates = Vec::new();
    if let Some(r) = &df.requirements {
        let name = r.trim_start_matches("./");
        req_candidates.push(dir.join(name));
        req_candidates.push(workdir.join(name));
        if let Some(base) = Path::new(name).file_name() {
            req_candidates.push(workdir.join(base));
        }
    }
    req_candidates.push(dir.join("requirements.txt"));
    req_candidates.push(workdir.join("requirements.txt"));
    let requirements = req_candidates.into_iter().find(|p| p.is_file());
    let venv = ensure_venv(hub, space, generation, cfg, requirements.as_deref()).await?;
    let mut argv: Vec<String> = df.entrypoint.clone().unwrap_or_default();
    argv.extend(df.cmd.clone().unwrap_or_default());
    if argv.is_empty() {
        return Err((
            "BUILD_ERROR",
            "The Dockerfile has no CMD or ENTRYPOINT".to_owned(),
        ));
    }
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
        .env("VIRTUAL_ENV", &venv);
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
        .env("PORT", port.to_string())
        .current_dir(&workdir)
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
        pipe_lines(space.clone(), generation, true, o);
    }
    if let Some(o) = child.stderr.take() {
        pipe_lines(space.clone(), generation, true, o);
    }
    for p in &problems {
        log_line(space, generation, true, &format!("hf-hub-emulator: {p}"));
    }
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
            break;
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

/// A token for tasks that should end with the emulator.
#[allow(dead_code)]
pub(crate) fn child_token(hub: &Hub) -> CancellationToken {
    hub.shutdown.child_token()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn port_is_rewritten() {
        let mut a = argv(&["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "7860"]);
        assert!(rewrite_port(&mut a, 7860, 5000, 6000).is_empty());
        assert_eq!(
            a,
            argv(&[
                "uvicorn",
                "main:app",
                "--host",
                "127.0.0.1",
                "--port",
                "5000"
            ])
        );
        let mut b = argv(&["python", "-m", "http.server", "7860"]);
        assert!(rewrite_port(&mut b, 7860, 5000, 6000).is_empty());
        assert_eq!(b[3], "5000");
        let mut c = argv(&["gunicorn", "--bind", "0.0.0.0:7860", "app:app"]);
        assert!(rewrite_port(&mut c, 7860, 5000, 6000).is_empty());
        assert_eq!(c[2], "127.0.0.1:5000");
        assert_eq!(c[3], "app:app");
        let mut d = argv(&["sh", "-c", "uvicorn main:app --port ${PORT:-7860}"]);
        assert!(rewrite_port(&mut d, 7860, 5000, 6000).is_empty());
        assert_eq!(d[2], "uvicorn main:app --port ${PORT:-5000}");
    }

    #[test]
    fn unreachable_commands_are_reported() {
        let mut a = argv(&["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]);
        let p = rewrite_port(&mut a, 7860, 5000, 6000);
        assert_eq!(a[5], "6000");
        assert!(
            p[0].contains("port 8000") && p[0].contains("app_port is 7860"),
            "{p:?}"
        );
        let mut b = argv(&[
            "uvicorn",
            "main:app",
            "--host",
            "127.0.0.1",
            "--port",
            "7860",
        ]);
        let p = rewrite_port(&mut b, 7860, 5000, 6000);
        assert_eq!(b[5], "6000");
        assert!(p[0].contains("unreachable"), "{p:?}");
    }

    #[test]
    fn dockerfile_is_understood() {
        let df = parse_dockerfile(
            "FROM python:3.12\nENV A=1 B=\"two words\"\nENV C 3\nWORKDIR /app\nCOPY backend/ .\n\
             RUN pip install --no-cache-dir \\\n  -r requirements.txt\nCMD [\"uvicorn\", \"main:app\", \"--port\", \"7860\"]\n",
        );
        assert_eq!(
            df.env,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("C".into(), "3".into())
            ]
        );
        assert_eq!(
            df.cmd.unwrap(),
            vec!["uvicorn", "main:app", "--port", "7860"]
        );
        assert_eq!(df.copy_dir.as_deref(), Some("backend"));
        assert_eq!(df.requirements.as_deref(), Some("requirements.txt"));
    }
}
