//! The Space runtime: BUILDING -> APP_STARTING -> RUNNING (or an error stage), one generation at
//! a time. A generation starts when the Space is created, restarted or its settings change (the
//! routes call [`trigger`]) and when a new revision lands (a push or an HTTP commit: the engines
//! that write it announce it, and the runtime, subscribed by [`subscribe`], builds it). Its
//! pipeline checks the revision, then hands it to the runner:
//!
//! | module | what |
//! |---|---|
//! | `stages` | the stage machine every runner writes through (stages, logs, upstream; per generation) |
//! | `checks` | the Hub's checks before a build: README front matter (CONFIG_ERROR), Dockerfile (NO_APP_FILE) |
//! | `checkout` | the revision's tree on disk, LFS pointers smudged |
//! | `scripted` | `Runner::Scripted` and one Space's own script: the test's stages, logs and app |
//! | `process` | `Runner::Real`: a cached venv and the Dockerfile's command, on this machine |
//! | `dockerfile` | what the process runner reads of a Dockerfile; the command's ports |
//! | `docker` | `Runner::Docker`: the Docker engine builds the image and runs the container |
//! | `docker_cli` | the `docker` CLI it drives, each call under a deadline |
//! | `engine` | the engine probe: answers, absent, or failing (what answered instead) |
//! | `bounded` | outside programs in their own process group, killed at a deadline or when dropped |

mod bounded;
mod checkout;
mod checks;
pub(crate) mod docker;
mod docker_cli;
mod dockerfile;
pub(crate) mod engine;
mod process;
mod scripted;
mod stages;

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};

use crate::config::Runner;
use crate::git;
use crate::hub::{Hub, Space, Upstream};
use stages::{fail, log_line, set_stage};

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
        "gcTimeout": st.gc_timeout(),
        "replicas": replicas,
        "devMode": false,
        "domains": [{ "domain": format!("{}.hf.space", space.subdomain()), "stage": "READY" }],
    });
    if let Some(msg) = &st.error_message {
        v["errorMessage"] = json!(msg);
    }
    v
}

/// What a runner builds: the generation, its commit, its README card, when the generation
/// began, and whether it is a factory reboot (nothing cached is reused).
#[derive(Clone, Copy)]
pub(super) struct Job<'a> {
    pub generation: u64,
    pub head: &'a str,
    pub card: &'a Value,
    pub started: Instant,
    pub factory: bool,
}

/// Starts a new generation (cancelling the running one): BUILDING now (or, while the previous
/// revision keeps serving, the `RUNNING_` stages), the rest in the background.
pub(crate) fn trigger(hub: &Arc<Hub>, space: &Arc<Space>) {
    start(hub, space, false);
}

/// A factory reboot (`POST …/restart?factory=true`): a new generation built without any cache
/// (the Docker runner builds with `--no-cache` and reuses no image; the process runner does not
/// use the cached virtual environment: it builds a fresh one for the generation, without pip's
/// cache, and leaves the shared cache alone).
pub(crate) fn factory_reboot(hub: &Arc<Hub>, space: &Arc<Space>) {
    start(hub, space, true);
}

fn start(hub: &Arc<Hub>, space: &Arc<Space>, factory: bool) {
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
            _ = pipeline(&hub2, &space2, generation, factory) => {}
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

/// Builds every new revision announced (a push, an HTTP commit) as a new generation.
pub(crate) fn subscribe(hub: &Hub) {
    hub.on_new_revision(Box::new(trigger));
}

/// Removes what the runner left outside this process (the Docker runner's containers) when the
/// stand-in shuts down.
pub(crate) async fn shut_down(hub: &Arc<Hub>) {
    if matches!(hub.runner, Runner::Docker(_)) {
        docker::remove_instance_containers(hub).await;
    }
}

/// [`shut_down`], blocking (from `Drop`).
pub(crate) fn shut_down_blocking(hub: &Hub) {
    if matches!(hub.runner, Runner::Docker(_)) {
        docker::remove_instance_containers_blocking(hub);
    }
}

/// One generation: the revision's checks, then its runner (a Space's own script first).
async fn pipeline(hub: &Arc<Hub>, space: &Arc<Space>, generation: u64, factory: bool) {
    let started = Instant::now();
    let scripted = {
        let mut state = space.lock();
        state.script_once.take().or_else(|| state.script.clone())
    };
    let scripted = scripted.or_else(|| match &hub.runner {
        Runner::Scripted(s) => Some(s.clone()),
        Runner::Real(_) | Runner::Docker(_) => None,
    });
    let check = scripted.as_ref().is_none_or(|s| s.check_repo);
    let Some(head) = git::rev_parse(hub, &space.repo_dir, "refs/heads/main").await else {
        fail(
            space,
            generation,
            "NO_APP_FILE",
            "The repository is empty: push a Dockerfile",
            false,
        );
        return;
    };
    let card = if check {
        match checks::check_repo(hub, space, generation, &head).await {
            Some(card) => card,
            None => return,
        }
    } else {
        json!({})
    };
    let sdk = space.lock().sdk.clone();
    if let Some(s) = scripted {
        scripted::run(hub, space, generation, &s).await;
        return;
    }
    if sdk != "docker" {
        not_run(hub, space, generation, &sdk).await;
        return;
    }
    let job = Job {
        generation,
        head: &head,
        card: &card,
        started,
        factory,
    };
    match &hub.runner {
        Runner::Docker(cfg) => {
            if let Err((stage, msg)) = docker::run(hub, space, cfg, &job).await {
                // The message quotes the log's tail: only its first line goes to the log again.
                let first = msg.lines().next().unwrap_or_default();
                log_line(space, generation, stage == "RUNTIME_ERROR", first);
                set_stage(space, generation, stage, Some(msg), Some(Upstream::None));
            }
        }
        Runner::Real(cfg) => {
            if let Err((stage, msg)) = process::run(hub, space, cfg, &job).await {
                fail(space, generation, stage, &msg, stage == "RUNTIME_ERROR");
            }
        }
        Runner::Scripted(_) => {}
    }
}

/// A gradio, streamlit or static Space: nothing runs, the stages go to RUNNING (the Space's
/// `host` answers 502).
async fn not_run(hub: &Hub, space: &Space, generation: u64, sdk: &str) {
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
}
