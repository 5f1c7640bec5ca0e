//! Scripted apps that misbehave: one that crashes printing its settings (secrets in clear), a
//! hostile health answer, escape sequences in the build log, a build that fails.

use crate::common;

use std::time::Duration;

use common::{auth, client};
use hf_hub_emulator::{HOSTILE_LOG_LINES, ScriptedApp, ScriptedRunner};
use serde_json::{Value, json};

async fn runtime(emu: &hf_hub_emulator::Emulator, id: &str) -> Value {
    client()
        .get(format!("{}/api/spaces/{id}/runtime", emu.url()))
        .header("authorization", auth())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_app_crashes_printing_the_spaces_secrets() {
    let emu = common::scripted(ScriptedRunner::running()).await;
    common::create_space(&emu, "leaky", false).await;
    let id = "local/leaky";
    for (key, value) in [
        ("GEMINI_API_KEY", "AIzaSy-leaked-gemini-key-0123456789"),
        (
            "DATABASE_URL",
            "postgresql://app:s3cret-db-password@db.example:5432/app",
        ),
    ] {
        let r = client()
            .post(format!("{}/api/spaces/{id}/secrets", emu.url()))
            .header("authorization", auth())
            .json(&json!({"key": key, "value": value}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert!(emu.script_space(id, ScriptedRunner::crash_printing_settings()));
    common::commit_files(&emu, id, &[("Dockerfile", "FROM python:3.12\n")]).await;
    let stages = common::wait_stage(&emu, id, Duration::from_secs(5)).await;
    assert_eq!(
        stages.last().map(String::as_str),
        Some("RUNTIME_ERROR"),
        "{stages:?}"
    );
    let run = common::log_lines(&emu, id, "run").await.concat();
    assert!(
        run.contains("GEMINI_API_KEY=AIzaSy-leaked-gemini-key-0123456789"),
        "{run}"
    );
    assert!(
        run.contains("DATABASE_URL=postgresql://app:s3cret-db-password@db.example:5432/app"),
        "{run}"
    );
    assert!(
        run.contains(
            "pydantic_core._pydantic_core.ValidationError: 2 validation errors for Settings"
        ),
        "{run}"
    );
    assert!(
        run.contains("input_value='postgresql://app:s3cret-db-password@"),
        "{run}"
    );
    let rt = runtime(&emu, id).await;
    let message = rt["errorMessage"].as_str().unwrap();
    assert!(
        message.starts_with("Exit code: 1. Reason: the application exited."),
        "{message}"
    );
    assert!(
        message.contains("s3cret-db-password") && message.contains("AIzaSy-leaked"),
        "{message}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn hostile_health_answers_and_build_logs() {
    let emu = common::scripted(
        ScriptedRunner::running()
            .hostile_build_log()
            .app(ScriptedApp::hostile_health("/health")),
    )
    .await;
    common::create_space(&emu, "hostile", false).await;
    let id = "local/hostile";
    common::commit_files(&emu, id, &[("Dockerfile", "FROM python:3.12\n")]).await;
    let stages = common::wait_stage(&emu, id, Duration::from_secs(5)).await;
    assert_eq!(stages.last().map(String::as_str), Some("RUNNING"));
    let build = common::log_lines(&emu, id, "build").await;
    let want: Vec<String> = HOSTILE_LOG_LINES.iter().map(|l| format!("{l}\n")).collect();
    assert_eq!(build, want, "the escapes arrive as they were printed");
    assert!(
        build
            .iter()
            .any(|l| l.contains("\u{1b}]8;;https://evil.example"))
    );
    let host = emu.space_host(id).unwrap();
    let health: Value = client()
        .get(format!("{host}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "healthy\n::error file=x::forged");
    let error = health["services"]["postgres"]["error"].as_str().unwrap();
    for part in [
        "](https://evil.example/phish)",
        "![tracker]",
        "@octocat",
        "<img src=x onerror",
        "\u{1b}[31m",
    ] {
        assert!(error.contains(part), "{part}: {error}");
    }
    assert!(
        health["services"]
            .get("<script>alert(1)</script>")
            .is_some()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn a_build_that_fails_quotes_its_log_and_messages_can_be_set() {
    let emu = common::scripted(ScriptedRunner::build_fails()).await;
    common::create_space(&emu, "broken", false).await;
    common::commit_files(
        &emu,
        "local/broken",
        &[("Dockerfile", "FROM python:3.12\n")],
    )
    .await;
    let stages = common::wait_stage(&emu, "local/broken", Duration::from_secs(5)).await;
    assert_eq!(stages.last().map(String::as_str), Some("BUILD_ERROR"));
    let message = runtime(&emu, "local/broken").await["errorMessage"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.starts_with("Build failed with exit code: 1. Build log:\n"),
        "{message}"
    );
    assert!(
        message.contains("No matching distribution found for fastapi==0.0.0"),
        "{message}"
    );
    // a fixed message
    assert!(
        emu.script_space(
            "local/broken",
            ScriptedRunner::failing("RUNTIME_ERROR")
                .error_message("Scheduling failure: not enough hardware capacity"),
        )
    );
    common::commit_files(
        &emu,
        "local/broken",
        &[("Dockerfile", "FROM python:3.13\n")],
    )
    .await;
    common::wait_stage(&emu, "local/broken", Duration::from_secs(5)).await;
    assert_eq!(
        runtime(&emu, "local/broken").await["errorMessage"],
        "Scheduling failure: not enough hardware capacity"
    );
    emu.shutdown().await;
}
