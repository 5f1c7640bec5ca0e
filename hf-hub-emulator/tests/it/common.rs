//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, Runner, ScriptedRunner, StageDelays,
};

/// The workspace root (`hf-hub-emulator/..`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// A tool installed by `scripts/bootstrap.sh`; fails (never skips) when missing.
pub fn tool(rel: &str) -> PathBuf {
    let p = workspace_root().join(rel);
    assert!(
        p.exists(),
        "`{}` is missing: run `bash scripts/bootstrap.sh` at the workspace root",
        p.display()
    );
    p
}

/// A scripted stand-in with short stage delays.
pub async fn scripted(runner: ScriptedRunner) -> Emulator {
    let config = EmulatorConfig {
        runner: Runner::Scripted(runner),
        stage_delays: StageDelays {
            building: Duration::from_millis(300),
            app_starting: Duration::from_millis(300),
        },
        ..EmulatorConfig::default()
    };
    Emulator::start(config).await.expect("start the stand-in")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

pub fn auth() -> String {
    format!("Bearer {DEFAULT_WRITE_TOKEN}")
}

/// Creates a docker Space `local/<name>` with the write token.
pub async fn create_space(emu: &Emulator, name: &str, private: bool) -> serde_json::Value {
    let r = client()
        .post(format!("{}/api/repos/create", emu.url()))
        .header("authorization", auth())
        .json(&serde_json::json!({"name": name, "organization": null, "type": "space", "sdk": "docker", "private": private}))
        .send()
        .await
        .expect("create request");
    assert_eq!(r.status(), 200, "create `{name}`");
    r.json().await.expect("create json")
}

/// Commits files over the HTTP commit API (`(path, content)`).
pub async fn commit_files(emu: &Emulator, id: &str, files: &[(&str, &str)]) -> serde_json::Value {
    use base64::Engine;
    let mut body = serde_json::json!({"key": "header", "value": {"summary": "test commit", "description": ""}}).to_string();
    body.push('\n');
    for (p, c) in files {
        let line = serde_json::json!({"key": "file", "value": {"path": p, "encoding": "base64",
            "content": base64::engine::general_purpose::STANDARD.encode(c)}});
        body.push_str(&line.to_string());
        body.push('\n');
    }
    let r = client()
        .post(format!("{}/api/spaces/{id}/commit/main", emu.url()))
        .header("authorization", auth())
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .expect("commit request");
    let status = r.status();
    let v: serde_json::Value = r.json().await.expect("commit json");
    assert_eq!(status, 200, "commit to `{id}`: {v}");
    v
}

/// Polls `/runtime` until the stage is not intermediate; returns every stage seen.
pub async fn wait_stage(emu: &Emulator, id: &str, timeout: Duration) -> Vec<String> {
    let start = Instant::now();
    let mut seen: Vec<String> = Vec::new();
    loop {
        let v: serde_json::Value = client()
            .get(format!("{}/api/spaces/{id}/runtime", emu.url()))
            .header("authorization", auth())
            .send()
            .await
            .expect("runtime request")
            .json()
            .await
            .expect("runtime json");
        let stage = v["stage"].as_str().unwrap_or("").to_owned();
        if seen.last() != Some(&stage) {
            seen.push(stage.clone());
        }
        if !matches!(
            stage.as_str(),
            "BUILDING" | "APP_STARTING" | "RUNNING_BUILDING" | "RUNNING_APP_STARTING"
        ) {
            return seen;
        }
        assert!(
            start.elapsed() < timeout,
            "`{id}` still {stage} after {timeout:?}; stages {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads the SSE log stream (`follow=false`) and returns the `data` values.
pub async fn log_lines(emu: &Emulator, id: &str, kind: &str) -> Vec<String> {
    let text = client()
        .get(format!(
            "{}/api/spaces/{id}/logs/{kind}?follow=false",
            emu.url()
        ))
        .header("authorization", auth())
        .send()
        .await
        .expect("logs request")
        .text()
        .await
        .expect("logs text");
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .filter_map(|v| v["data"].as_str().map(str::to_owned))
        .collect()
}

/// A `git` command isolated from the user's and system's configuration.
pub fn git(home: &Path, cwd: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(cwd)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env_remove("GIT_DIR");
    c
}

/// Runs a command, returning (success, stdout + stderr).
pub fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("spawn command");
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), s)
}
