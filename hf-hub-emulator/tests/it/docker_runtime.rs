//! `Runner::Docker`: the Space's tree is built by the real Docker engine and runs as the Hub runs
//! it. These tests need an engine and the base image `python:3.11-slim`: `scripts/test.sh` (through
//! `scripts/bootstrap.sh`) starts one and makes the image. Without them the tests fail, they never skip.

use crate::common;

use std::process::Command;
use std::time::Duration;

use hf_hub_emulator::{DockerRunnerConfig, Emulator, EmulatorConfig, Runner, StageDelays};

const README: &str = "---\ntitle: Docker test\nemoji: 🐳\ncolorFrom: blue\ncolorTo: green\nsdk: docker\napp_port: 7860\npinned: false\n---\n";

/// A stdlib-only app (no pip install: quick), answering its uid, a secret's presence and the
/// variable baked in at build time.
const APP: &str = r#"import json, os
from http.server import BaseHTTPRequestHandler, HTTPServer

if os.environ.get("CRASH_AT_START"):
    raise RuntimeError("boom at start: " + os.environ["CRASH_AT_START"])

class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({
            "status": "ok",
            "uid": os.getuid(),
            "secret_len": len(os.environ.get("API_KEY", "")),
            "model_env": os.environ.get("MODEL_NAME"),
            "model_built": open("model.txt").read().strip(),
            "space_id": os.environ.get("SPACE_ID"),
        }).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body)

HTTPServer(("0.0.0.0", 7860), H).serve_forever()
"#;

const DOCKERFILE: &str = "FROM python:3.11-slim\nRUN useradd -m -u 1000 user\nUSER user\nWORKDIR /home/user/app\nARG MODEL_NAME\nRUN echo \"$MODEL_NAME\" > model.txt\nRUN --mount=type=secret,id=API_KEY,uid=1000 test \"$(wc -c < /run/secrets/API_KEY)\" -gt 0 && echo secret mounted for the build\nCOPY --chown=user . .\nEXPOSE 7860\nCMD [\"python\", \"app.py\"]\n";

const SECRET: &str = "sk-docker-test-VALUE-5f3a9c";

async fn docker_emulator() -> Emulator {
    assert!(
        hf_hub_emulator::docker_engine_answers().await,
        "no Docker engine answers: run `bash scripts/bootstrap.sh` (it starts dockerd) or `scripts/test.sh`"
    );
    let config = EmulatorConfig {
        runner: Runner::Docker(DockerRunnerConfig::default()),
        stage_delays: StageDelays {
            building: Duration::from_millis(50),
            app_starting: Duration::from_millis(50),
        },
        startup_timeout: Duration::from_secs(60),
        ..EmulatorConfig::default()
    };
    Emulator::start(config).await.expect("start the stand-in")
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("run docker");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn containers_of(id: &str) -> Vec<String> {
    docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=hf-deploy.space={id}"),
    ])
    .split_whitespace()
    .map(str::to_owned)
    .collect()
}

async fn post(emu: &Emulator, path: &str, body: serde_json::Value) {
    let r = common::client()
        .post(format!("{}{path}", emu.url()))
        .header("authorization", common::auth())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "POST {path}");
}

/// Create Space `id` with one variable and the secret `API_KEY`, then commit the test app.
async fn push_app(emu: &Emulator, id: &str, (key, value): (&str, &str)) {
    let name = id.split_once('/').map_or(id, |(_, name)| name);
    common::create_space(emu, name, false).await;
    post(
        emu,
        &format!("/api/spaces/{id}/variables"),
        serde_json::json!({"key": key, "value": value}),
    )
    .await;
    post(
        emu,
        &format!("/api/spaces/{id}/secrets"),
        serde_json::json!({"key": "API_KEY", "value": SECRET}),
    )
    .await;
    common::commit_files(
        emu,
        id,
        &[
            ("README.md", README),
            ("app.py", APP),
            ("Dockerfile", DOCKERFILE),
        ],
    )
    .await;
}

async fn runtime(emu: &Emulator, id: &str) -> serde_json::Value {
    common::client()
        .get(format!("{}/api/spaces/{id}/runtime", emu.url()))
        .header("authorization", common::auth())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn space_builds_and_runs_as_uid_1000_with_secrets_in_env_only() {
    let emu = docker_emulator().await;
    let id = "local/docker-secrets";
    push_app(&emu, id, ("MODEL_NAME", "gemini-test")).await;
    let stages = common::wait_stage(&emu, id, Duration::from_secs(240)).await;
    let build = common::log_lines(&emu, id, "build").await;
    assert_eq!(
        stages.last().map(String::as_str),
        Some("RUNNING"),
        "stages {stages:?}, runtime {}, build log:\n{}",
        runtime(&emu, id).await,
        build.join("")
    );
    // The real build output streams into the build log.
    let text = build.join("");
    assert!(text.contains("secret mounted for the build"), "{text}");
    assert!(text.contains("Build complete"), "{text}");
    assert!(
        !text.contains(SECRET),
        "the secret value is in the build log"
    );

    let host = emu.space_host(id).unwrap();
    let v: serde_json::Value = common::client()
        .get(&host)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["uid"], 1000, "{v}");
    assert_eq!(v["secret_len"], SECRET.len(), "{v}");
    assert_eq!(v["model_env"], "gemini-test", "{v}");
    assert_eq!(v["model_built"], "gemini-test", "{v}");
    assert_eq!(v["space_id"], id, "{v}");

    // One labelled container; the secret is in its environment and in no layer of its image.
    let ids = containers_of(id);
    assert_eq!(ids.len(), 1, "{ids:?}");
    let env = docker(&["inspect", "--format", "{{json .Config.Env}}", &ids[0]]);
    assert!(env.contains(&format!("API_KEY={SECRET}")), "{env}");
    let image = docker(&["inspect", "--format", "{{.Image}}", &ids[0]])
        .trim()
        .to_owned();
    let history = docker(&["history", "--no-trunc", &image]);
    assert!(history.contains("model.txt"), "{history}");
    assert!(!history.contains(SECRET), "secret in docker history");
    let image_config = docker(&["image", "inspect", &image]);
    assert!(!image_config.contains(SECRET), "secret in the image config");
    let saved = Command::new("docker")
        .args(["save", &image])
        .output()
        .expect("docker save");
    assert!(saved.status.success());
    assert!(
        !saved
            .stdout
            .windows(SECRET.len())
            .any(|w| w == SECRET.as_bytes()),
        "the secret value is in an image layer"
    );

    // A restart with the same commit and settings reuses the image: no rebuild.
    post(
        &emu,
        &format!("/api/spaces/{id}/restart"),
        serde_json::json!({}),
    )
    .await;
    let stages = common::wait_stage(&emu, id, Duration::from_secs(120)).await;
    assert_eq!(stages.last().map(String::as_str), Some("RUNNING"));
    let build = common::log_lines(&emu, id, "build").await.join("");
    assert!(build.contains("not rebuilt"), "{build}");
    assert!(!build.contains("secret mounted for the build"), "{build}");
    let ids2 = containers_of(id);
    assert_eq!(ids2.len(), 1, "the old container is removed: {ids2:?}");
    assert_ne!(ids2, ids);
    let image2 = docker(&["inspect", "--format", "{{.Image}}", &ids2[0]])
        .trim()
        .to_owned();
    assert_eq!(image2, image);

    // Pause stops and removes the container; shutdown leaves nothing either.
    post(
        &emu,
        &format!("/api/spaces/{id}/pause"),
        serde_json::json!({}),
    )
    .await;
    let mut left = containers_of(id);
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = containers_of(id);
    }
    assert!(left.is_empty(), "paused Space left {left:?}");
    post(
        &emu,
        &format!("/api/spaces/{id}/restart"),
        serde_json::json!({}),
    )
    .await;
    let stages = common::wait_stage(&emu, id, Duration::from_secs(120)).await;
    assert_eq!(stages.last().map(String::as_str), Some("RUNNING"));
    assert_eq!(containers_of(id).len(), 1);
    emu.shutdown().await;
    assert!(containers_of(id).is_empty(), "shutdown left a container");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requirement_that_does_not_exist_is_a_build_error_quoting_pip() {
    let emu = docker_emulator().await;
    let id = "local/docker-badreq";
    common::create_space(&emu, "docker-badreq", false).await;
    common::commit_files(
        &emu,
        id,
        &[
            ("README.md", README),
            ("app.py", APP),
            ("requirements.txt", "hf-deploy-no-such-package-e2e==9.9.9\n"),
            (
                "Dockerfile",
                "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n",
            ),
        ],
    )
    .await;
    let stages = common::wait_stage(&emu, id, Duration::from_secs(240)).await;
    assert_eq!(stages.last().map(String::as_str), Some("BUILD_ERROR"));
    let rt = runtime(&emu, id).await;
    let msg = rt["errorMessage"].as_str().unwrap_or_default();
    assert!(
        msg.contains("No matching distribution found for hf-deploy-no-such-package-e2e==9.9.9"),
        "{msg}"
    );
    assert!(containers_of(id).is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_that_crashes_at_start_is_a_runtime_error_with_its_traceback() {
    let emu = docker_emulator().await;
    let id = "local/docker-crash";
    push_app(&emu, id, ("CRASH_AT_START", "on purpose")).await;
    let stages = common::wait_stage(&emu, id, Duration::from_secs(240)).await;
    let rt = runtime(&emu, id).await;
    assert_eq!(
        stages.last().map(String::as_str),
        Some("RUNTIME_ERROR"),
        "{rt}"
    );
    let msg = rt["errorMessage"].as_str().unwrap_or_default();
    assert!(msg.contains("Traceback (most recent call last)"), "{msg}");
    assert!(
        msg.contains("RuntimeError: boom at start: on purpose"),
        "{msg}"
    );
    let run = common::log_lines(&emu, id, "run").await.join("");
    assert!(run.contains("boom at start"), "{run}");
    // The exited container is removed when the generation ends.
    let mut left = containers_of(id);
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = containers_of(id);
    }
    assert!(left.is_empty(), "{left:?}");
    emu.shutdown().await;
}

/// A restart reuses the image of the same commit and settings; a factory reboot
/// (`?factory=true`) builds again with `--no-cache`: no step comes from the engine's cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_factory_reboot_rebuilds_without_the_cache() {
    let emu = docker_emulator().await;
    let id = "local/docker-factory";
    push_app(&emu, id, ("MODEL_NAME", "factory")).await;
    let restart_and_wait = |query: &'static str| {
        let url = format!("{}/api/spaces/{id}/restart{query}", emu.url());
        let emu = &emu;
        async move {
            let r = common::client()
                .post(url)
                .header("authorization", common::auth())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let stages = common::wait_stage(emu, id, Duration::from_secs(240)).await;
            let build = common::log_lines(emu, id, "build").await.join("");
            assert_eq!(
                stages.last().map(String::as_str),
                Some("RUNNING"),
                "{build}"
            );
            build
        }
    };
    let stages = common::wait_stage(&emu, id, Duration::from_secs(240)).await;
    assert_eq!(stages.last().map(String::as_str), Some("RUNNING"));
    let restarted = restart_and_wait("").await;
    assert!(restarted.contains("not rebuilt"), "{restarted}");
    let rebuilt = restart_and_wait("?factory=true").await;
    assert!(!rebuilt.contains("not rebuilt"), "{rebuilt}");
    assert!(
        rebuilt.contains("secret mounted for the build"),
        "{rebuilt}"
    );
    assert!(rebuilt.contains("Build complete"), "{rebuilt}");
    // only the base image (`FROM`, a local image) reads CACHED: every step ran again
    let cached: Vec<&str> = rebuilt.lines().filter(|l| l.ends_with(" CACHED")).collect();
    assert_eq!(cached.len(), 1, "{rebuilt}");
    assert!(rebuilt.contains("RUN useradd -m -u 1000 user"), "{rebuilt}");
    let host = emu.space_host(id).unwrap();
    let v: serde_json::Value = common::client()
        .get(&host)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["model_built"], "factory", "{v}");
    assert!(emu.request_log().iter().any(|r| r.query == "factory=true"));
    emu.shutdown().await;
}
