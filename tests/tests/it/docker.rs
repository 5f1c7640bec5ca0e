//! End-to-end on a real Docker engine: `deploy` builds the scaffolded image as the Hub does and
//! runs it (uid 1000, app_port behind the stand-in's `host`), `deploy --local` leaves no container
//! on any exit path. Needs an engine and `python:3.11-slim`: `scripts/test.sh` (through
//! `scripts/bootstrap.sh`) starts one and makes the image. Without them these tests fail.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use hf_deploy_tests::engine_proxy::{
    BUILD, CREATE, EngineProxy, PROXY_FAULT_MESSAGE, ProxyFault, engine_socket,
};
use hf_deploy_tests::{
    example_backend, hf_deploy_bin, hub_env, run_cli, run_cli_async, signal_and_wait, strings,
};
use hf_hub_emulator::{DEFAULT_WRITE_TOKEN, DockerRunnerConfig, Emulator, EmulatorConfig, Runner};

const SECRET: &str = "AIza-docker-e2e-SECRET-7c1d";

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

fn containers_of(space: &str) -> Vec<String> {
    docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=hf-deploy.space={space}"),
    ])
    .split_whitespace()
    .map(str::to_owned)
    .collect()
}

/// `deploy` of the example into `space`, `--local --local-runtime docker`, then `extra`.
fn local_docker_deploy(space: &str, extra: &[&str]) -> Vec<String> {
    let mut args = strings(&[
        "deploy",
        &example_backend().display().to_string(),
        "--local",
        "--local-runtime",
        "docker",
        "--space",
        space,
    ]);
    args.extend(strings(extra));
    args
}

async fn docker_emulator() -> Emulator {
    assert!(
        hf_hub_emulator::docker_engine_answers().await,
        "no Docker engine answers: run `bash scripts/bootstrap.sh` (it starts dockerd) or `scripts/test.sh`"
    );
    Emulator::start(EmulatorConfig {
        runner: Runner::Docker(DockerRunnerConfig::default()),
        ..EmulatorConfig::default()
    })
    .await
    .expect("start the stand-in")
}

/// The example deploys into the Docker runtime, runs as uid 1000 with its secret in the
/// environment only, and a redeploy of the same tree changes nothing (same container, no build).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_runs_in_docker_as_uid_1000_and_a_no_change_redeploy_does_not_rebuild() {
    let emu = docker_emulator().await;
    let space = "local/docker-example";
    let args = strings(&[
        "deploy",
        &example_backend().display().to_string(),
        "--space",
        space,
        "--secret",
        "GEMINI_API_KEY",
        "--variable",
        "MODEL_NAME=gemini-1.5",
        "--allow-degraded",
        "--json",
    ]);
    let mut env = hub_env(&emu, DEFAULT_WRITE_TOKEN);
    env.push(("GEMINI_API_KEY".into(), SECRET.into()));
    let first = run_cli_async(args.clone(), env.clone()).await;
    assert_eq!(first.code, 0, "{}", first.both());
    let report: serde_json::Value = serde_json::from_str(&first.stdout).unwrap();
    assert_eq!(report["stage"], "RUNNING", "{}", first.both());
    assert_eq!(report["health"]["services"]["fastapi"]["status"], "ok");
    assert!(
        report.get("local_runtime").is_none(),
        "not a --local deploy"
    );
    let first_sha = report["commit_sha"].clone();

    let ids = containers_of(space);
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(docker(&["exec", &ids[0], "id", "-u"]).trim(), "1000");
    let env_json = docker(&["inspect", "--format", "{{json .Config.Env}}", &ids[0]]);
    assert!(env_json.contains(&format!("GEMINI_API_KEY={SECRET}")));
    let image = docker(&["inspect", "--format", "{{.Image}}", &ids[0]]);
    let history = docker(&["history", "--no-trunc", image.trim()]);
    assert!(!history.contains(SECRET), "secret in docker history");
    // Through the stand-in's host, the health answer comes from the container.
    let host = emu.space_host(space).unwrap();
    let health = reqwest::get(format!("{host}/api/health"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(health.contains("\"fastapi\""), "{health}");

    let second = run_cli_async(args, env).await;
    assert_eq!(second.code, 0, "{}", second.both());
    let report: serde_json::Value = serde_json::from_str(&second.stdout).unwrap();
    assert_eq!(report["changed"], false, "{}", second.both());
    assert_eq!(report["commit_sha"], first_sha);
    // The deploy sets its secrets again (their values cannot be read back), which restarts the
    // Space; the image of the same tree and settings is reused, not rebuilt.
    let ids2 = containers_of(space);
    assert_eq!(ids2.len(), 1, "{ids2:?}");
    assert_eq!(
        docker(&["inspect", "--format", "{{.Image}}", &ids2[0]]),
        image,
        "a no-change redeploy rebuilt the image"
    );
    if ids2 != ids {
        let build = reqwest::Client::new()
            .get(format!(
                "{}/api/spaces/{space}/logs/build?follow=false",
                emu.url()
            ))
            .bearer_auth(DEFAULT_WRITE_TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(build.contains("not rebuilt"), "{build}");
    }
    emu.shutdown().await;
    assert!(containers_of(space).is_empty(), "shutdown left a container");
}

/// `deploy --local` picks Docker, reports it, and removes its container when it exits.
#[test]
fn deploy_local_uses_docker_and_leaves_no_container() {
    let space = "local/docker-local";
    let output = run_cli(
        &[
            "deploy",
            &example_backend().display().to_string(),
            "--local",
            "--space",
            space,
            "--allow-degraded",
            "--json",
        ],
        &[],
    );
    assert_eq!(output.code, 0, "{}", output.both());
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["local_runtime"], "docker", "{}", output.both());
    assert_eq!(report["stage"], "RUNNING");
    assert!(
        containers_of(space).is_empty(),
        "{:?}",
        containers_of(space)
    );
}

/// `--local-runtime docker` with no engine is bad input (exit 2); without the flag the process
/// runner is used, with a warning.
#[test]
fn local_runtime_docker_without_an_engine_is_exit_2() {
    let backend = example_backend().display().to_string();
    let no_engine = [("DOCKER_HOST", "unix:///nonexistent/docker.sock")];
    let forced = run_cli(
        &["deploy", &backend, "--local", "--local-runtime", "docker"],
        &no_engine,
    );
    assert_eq!(forced.code, 2, "{}", forced.both());
    assert!(
        forced.stderr.contains("--local-runtime docker") && forced.stderr.contains("process"),
        "{}",
        forced.both()
    );
    let fallback = run_cli(
        &["deploy", &backend, "--local", "--dry-run", "--json"],
        &no_engine,
    );
    assert_eq!(fallback.code, 0, "{}", fallback.both());
    assert!(
        fallback.stderr.contains("no Docker engine answers"),
        "{}",
        fallback.both()
    );
    let report: serde_json::Value = serde_json::from_str(&fallback.stdout).unwrap();
    assert_eq!(report["local_runtime"], "process");
}

/// A backend shaped like the seed project (Qdrant, Gemini, asyncpg, dotenv) builds and runs as uid
/// 1000; `--serve` prints the report as soon as it is verified and, on SIGTERM, removes its container.
#[test]
fn seed_shaped_backend_serves_in_docker_and_sigterm_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let backend = dir.path().join("seed-backend");
    std::fs::create_dir_all(backend.join("app")).unwrap();
    std::fs::write(
        backend.join("requirements.txt"),
        "fastapi>=0.115,<1\nuvicorn>=0.30,<1\nqdrant-client>=1.9,<2\ngoogle-generativeai>=0.7,<1\nasyncpg>=0.29,<1\npython-dotenv>=1,<2\n",
    )
    .unwrap();
    std::fs::write(backend.join("app/__init__.py"), "").unwrap();
    std::fs::write(
        backend.join("app/main.py"),
        r#"import os

import asyncpg  # noqa: F401
import google.generativeai as genai  # noqa: F401
from dotenv import load_dotenv
from fastapi import FastAPI
from qdrant_client import QdrantClient  # noqa: F401

load_dotenv()
app = FastAPI()


@app.get("/api/health")
def health():
    return {"status": "healthy", "services": {"fastapi": "ok"}, "uid": os.getuid()}
"#,
    )
    .unwrap();
    let space = "local/docker-seed";
    let mut child = Command::new(hf_deploy_bin())
        .args([
            "deploy",
            &backend.display().to_string(),
            "--local",
            "--local-runtime",
            "docker",
            "--space",
            space,
            "--serve",
            "--json",
            "--timeout",
            "900",
        ])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The JSON report comes first on stdout, flushed, while the Space keeps running.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        text.push_str(&line);
        if line == "}\n" {
            break;
        }
        line.clear();
    }
    let report: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        let _ = child.kill();
        panic!("report: {e}\n{text}")
    });
    assert_eq!(report["stage"], "RUNNING", "{text}");
    assert_eq!(report["local_runtime"], "docker");
    assert_eq!(report["health"]["status"], "healthy", "{text}");
    let ids = containers_of(space);
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(docker(&["exec", &ids[0], "id", "-u"]).trim(), "1000");

    let status = signal_and_wait(&mut child, "TERM", Duration::from_secs(30), "while serving");
    assert!(status.success(), "{status}");
    assert!(
        containers_of(space).is_empty(),
        "{:?}",
        containers_of(space)
    );
}

/// SIGTERM while the image builds: the command stops the build and leaves no container.
#[test]
fn sigterm_during_the_build_leaves_no_container() {
    let space = "local/docker-sigterm";
    let mut child = Command::new(hf_deploy_bin())
        .args(local_docker_deploy(
            space,
            &["--variable", "CACHE_BUST=sigterm"],
        ))
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    for line in stderr.lines() {
        let line = line.unwrap();
        let building = line.contains("stage BUILDING");
        seen.push(line);
        if building {
            break;
        }
    }
    let status = signal_and_wait(
        &mut child,
        "TERM",
        Duration::from_secs(30),
        &format!("stderr: {seen:?}"),
    );
    assert_eq!(status.code(), Some(130), "{seen:?}");
    assert!(
        containers_of(space).is_empty(),
        "{:?}",
        containers_of(space)
    );
}

/// Faults while the engine is in use: a proxy in front of the real engine answers the first
/// `POST /build` with a 500, cuts the second, then answers the container's creation (`docker
/// run`) with a 500. Each local deploy fails with exit 1 and a message naming the step (the
/// build, `docker run`) and what Docker said; the fourth deploy (the proxy passes everything
/// through by then) runs in Docker, and no container is left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_failing_the_build_or_the_run_is_a_clear_error_and_a_rerun_converges() {
    assert!(
        hf_hub_emulator::docker_engine_answers().await,
        "no Docker engine answers: run `bash scripts/bootstrap.sh` (it starts dockerd) or `scripts/test.sh`"
    );
    let faults = [
        (
            BUILD,
            ProxyFault::Status500,
            "BUILD_ERROR",
            "Build failed with exit code: 1",
            PROXY_FAULT_MESSAGE,
        ),
        (
            BUILD,
            ProxyFault::Cut,
            "BUILD_ERROR",
            "Build failed with exit code: 1",
            "error during connect: Post",
        ),
        (
            CREATE,
            ProxyFault::Status500,
            "RUNTIME_ERROR",
            "docker run failed",
            PROXY_FAULT_MESSAGE,
        ),
    ];
    let proxy = EngineProxy::start(
        engine_socket(),
        &faults.map(|(route, fault, ..)| (route, fault)),
    )
    .await;
    let space = "local/docker-engine-fault";
    let args = local_docker_deploy(space, &["--allow-degraded", "--json", "--timeout", "600"]);
    let env = vec![("DOCKER_HOST".to_string(), proxy.host.clone())];
    for (route, fault, stage, step, docker_said) in faults {
        let failed = run_cli_async(args.clone(), env.clone()).await;
        let what = format!("{route} {fault:?}");
        assert_eq!(failed.code, 1, "{what}: {}", failed.both());
        let report = failed.json();
        assert_eq!(report["stage"], stage, "{what}: {}", failed.both());
        // The report's log tail carries the Space's error message: the step and what Docker said.
        let tail = report["log_tail"].to_string();
        assert!(
            tail.contains(step) && tail.contains(docker_said),
            "{what}: the failure does not name {step:?} and Docker's answer: {}",
            failed.both()
        );
        assert!(
            containers_of(space).is_empty(),
            "{what}: {:?}",
            containers_of(space)
        );
    }
    assert_eq!(proxy.faults_left(), 0, "a fault was never used");
    let rerun = run_cli_async(args, env).await;
    assert_eq!(rerun.code, 0, "{}", rerun.both());
    let report = rerun.json();
    assert_eq!(report["stage"], "RUNNING", "{}", rerun.both());
    assert_eq!(report["local_runtime"], "docker");
    assert!(
        containers_of(space).is_empty(),
        "{:?}",
        containers_of(space)
    );
}
