//! End-to-end: the smaller commands (`status`, `logs`, `delete`, `frontend`, `emulator`) and the
//! README's quick start (`deploy --local`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use hf_deploy_tests::{
    example_backend, hf_deploy_bin, hub_env, run_cli, run_cli_async, signal_and_wait, strings,
    workspace_root,
};
use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, Runner, ScriptedApp, ScriptedResponse,
    ScriptedRoute, ScriptedRunner,
};

const HEALTHY: &str = r#"{"status":"healthy","services":{"fastapi":"ok"}}"#;

async fn scripted() -> Emulator {
    let runner =
        ScriptedRunner::running()
            .build_log("Step 1/9 : FROM python:3.11-slim")
            .build_log("Step 9/9 : CMD uvicorn")
            .run_log("INFO:     Uvicorn running on http://0.0.0.0:7860")
            .app(ScriptedApp::new().route(
                ScriptedRoute::get("/api/health").then(ScriptedResponse::json(200, HEALTHY)),
            ));
    Emulator::start(EmulatorConfig {
        runner: Runner::Scripted(runner),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

async fn cli(emulator: &Emulator, args: &[&str]) -> hf_deploy_tests::CliOutput {
    run_cli_async(strings(args), hub_env(emulator, DEFAULT_WRITE_TOKEN)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn status_logs_and_delete_a_space() {
    let emulator = scripted().await;
    let backend = example_backend().display().to_string();
    let deployed = cli(
        &emulator,
        &["deploy", &backend, "--space", "local/ops", "--json"],
    )
    .await;
    assert_eq!(deployed.code, 0, "{}", deployed.both());
    let report: serde_json::Value = serde_json::from_str(&deployed.stdout).unwrap();

    let status = cli(&emulator, &["status", "--space", "local/ops", "--json"]).await;
    assert_eq!(status.code, 0, "{}", status.both());
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["space_id"], "local/ops");
    assert_eq!(status["stage"], "RUNNING");
    assert_eq!(status["app_url"], report["app_url"]);
    assert_eq!(status["sha"], report["commit_sha"]);
    assert!(
        status["hardware"].get("current").is_some()
            && status["hardware"].get("requested").is_some(),
        "{status}"
    );
    let text = cli(&emulator, &["status", "--space", "local/ops"]).await;
    assert!(text.stdout.contains("RUNNING"), "{}", text.both());

    let build = cli(&emulator, &["logs", "--space", "local/ops", "--build"]).await;
    assert_eq!(build.code, 0, "{}", build.both());
    assert!(
        build.stdout.contains("Step 1/9 : FROM python:3.11-slim"),
        "{}",
        build.both()
    );
    let run = cli(&emulator, &["logs", "--space", "local/ops", "--run"]).await;
    assert!(run.stdout.contains("Uvicorn running"), "{}", run.both());

    let missing = cli(&emulator, &["status", "--space", "local/nope"]).await;
    assert_eq!(missing.code, 1, "{}", missing.both());
    assert!(missing.stderr.contains("local/nope"), "{}", missing.both());

    let deleted = cli(&emulator, &["delete", "--space", "local/ops", "--yes"]).await;
    assert_eq!(deleted.code, 0, "{}", deleted.both());
    assert!(emulator.space_dir("local/ops").is_none());
    let again = cli(&emulator, &["delete", "--space", "local/ops", "--yes"]).await;
    assert_eq!(
        again.code,
        1,
        "deleting a missing Space fails: {}",
        again.both()
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_space_is_restarted_by_the_next_deploy() {
    let emulator = scripted().await;
    let backend = example_backend().display().to_string();
    assert_eq!(
        cli(&emulator, &["deploy", &backend, "--space", "local/sleepy"])
            .await
            .code,
        0
    );
    let paused = reqwest::Client::new()
        .post(format!("{}/api/spaces/local/sleepy/pause", emulator.url()))
        .bearer_auth(DEFAULT_WRITE_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(paused.status(), 200);
    let output = cli(
        &emulator,
        &["deploy", &backend, "--space", "local/sleepy", "--json"],
    )
    .await;
    assert_eq!(output.code, 0, "{}", output.both());
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["changed"], false);
    assert_eq!(report["stage"], "RUNNING");
    assert!(
        emulator
            .request_log()
            .iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/restart")),
        "the paused Space was restarted"
    );
    emulator.shutdown().await;
}

#[test]
fn the_frontend_command_rewrites_checks_and_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chatApi.ts");
    std::fs::write(
        &file,
        "export class ChatApi {\n  private baseUrl: string;\n  constructor() {\n    this.baseUrl = process.env.REACT_APP_API_URL || 'http://localhost:8000';\n  }\n}\n",
    )
    .unwrap();
    let path = file.display().to_string();
    let url = "https://alice-rag.hf.space";

    let check = run_cli(&["frontend", &path, "--api-url", url, "--check"], &[]);
    assert_eq!(
        check.code,
        1,
        "a needed change fails --check: {}",
        check.both()
    );
    assert!(
        check.stdout.contains("+") && check.stdout.contains(url),
        "--check shows the diff: {}",
        check.both()
    );
    assert!(
        !std::fs::read_to_string(&file).unwrap().contains(url),
        "--check writes nothing"
    );
    assert!(
        check.stderr.contains("process"),
        "warns about process.env in browser code: {}",
        check.both()
    );

    let apply = run_cli(&["frontend", &path, "--api-url", url], &[]);
    assert_eq!(apply.code, 0, "{}", apply.both());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("window.location.hostname") && text.contains(url),
        "{text}"
    );
    assert!(
        text.contains("http://localhost:8000"),
        "localhost keeps the local API: {text}"
    );
    assert!(!text.contains("process.env"), "{text}");

    let again = run_cli(&["frontend", &path, "--api-url", url, "--check"], &[]);
    assert_eq!(again.code, 0, "nothing left to change: {}", again.both());

    let none = dir.path().join("none.ts");
    std::fs::write(
        &none,
        "export const greet = (name: string) => `hello ${name}`;\n",
    )
    .unwrap();
    let refused = run_cli(
        &["frontend", &none.display().to_string(), "--api-url", url],
        &[],
    );
    assert_eq!(refused.code, 2, "{}", refused.both());
    assert!(refused.stderr.contains("none.ts"), "{}", refused.both());
}

#[test]
fn the_emulator_command_serves_until_interrupted() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(hf_deploy_bin())
        .args(["emulator", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains(&format!("127.0.0.1:{port}")), "{first}");
    let whoami = std::process::Command::new("curl")
        .args([
            "-sf",
            "-H",
            &format!("Authorization: Bearer {DEFAULT_WRITE_TOKEN}"),
        ])
        .arg(format!("http://127.0.0.1:{port}/api/whoami-v2"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&whoami.stdout).contains("\"name\""),
        "{whoami:?}"
    );
    let status = signal_and_wait(&mut child, "INT", Duration::from_secs(10), "Ctrl-C");
    assert!(status.success(), "{status}");
}

/// The README's first quick-start command, as a new user runs it (with `--json` to read it).
#[test]
fn the_quick_start_deploys_the_example_locally() {
    let cache = workspace_root().join("target/quick-start-cache");
    let backend = example_backend().display().to_string();
    let output = run_cli(
        &["deploy", &backend, "--local", "--allow-degraded", "--json"],
        &[("XDG_CACHE_HOME", &cache.display().to_string())],
    );
    assert_eq!(output.code, 0, "{}", output.both());
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["space_id"], "local/backend");
    assert_eq!(report["stage"], "RUNNING");
    assert_eq!(report["health"]["status"], "degraded");
    assert_eq!(report["health"]["services"]["fastapi"]["status"], "ok");
    assert!(
        output.stderr.contains("Local Hub stand-in"),
        "{}",
        output.both()
    );
}

/// `--serve` keeps the stand-in and the app up until Ctrl-C, then stops both. The test stops
/// reading stderr after the `Serving` line, as `| head` would: the command must not panic on
/// the closed pipe when it prints while stopping.
#[test]
fn serve_keeps_the_local_app_up_until_interrupted() {
    let cache = workspace_root().join("target/quick-start-cache");
    let mut child = Command::new(hf_deploy_bin())
        .args([
            "deploy",
            &example_backend().display().to_string(),
            "--local",
            "--serve",
            "--allow-degraded",
        ])
        .env("XDG_CACHE_HOME", &cache)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut app_url = None;
    for line in stderr.lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("Serving ") {
            app_url = rest.split_whitespace().next().map(str::to_string);
            break;
        }
    }
    let app_url = app_url.expect("a `Serving <url>` line");
    let health = Command::new("curl")
        .args(["-sf", &format!("{app_url}/api/health")])
        .output()
        .unwrap();
    assert!(
        health.status.success(),
        "the app answers while serving: {health:?}"
    );
    assert!(String::from_utf8_lossy(&health.stdout).contains("\"fastapi\""));

    let status = signal_and_wait(&mut child, "INT", Duration::from_secs(20), "Ctrl-C");
    assert!(status.success(), "{status}");
    let after = Command::new("curl")
        .args(["-sf", "--max-time", "2", &format!("{app_url}/api/health")])
        .status()
        .unwrap();
    assert!(!after.success(), "the app stops with the command");
}
