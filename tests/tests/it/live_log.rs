//! End-to-end: the live build log in action mode. While the build runs, its lines go to the
//! job log folded in one `::group::Build log (NS/NAME)`, each through the door for the workflow
//! log (no line starts a workflow command, secrets read `***`), and the group is closed however
//! the deploy ends.

use hf_deploy_tests::fake_github::{FakeGitHub, Mode};
use hf_deploy_tests::run_action;
use hf_hub_emulator::{
    Emulator, EmulatorConfig, Runner, ScriptedApp, ScriptedResponse, ScriptedRoute, ScriptedRunner,
};

use crate::action::{Workspace, base_inputs, runner_env, without_masks};

/// A secret value that looks like nothing else a run prints.
const SECRET: &str = "lvKEYq7WzX2rT9nMpQ";
const GROUP: &str = "::group::Build log (local/action-app)";

/// A build whose log forges a workflow command and prints the secret.
fn hostile(runner: ScriptedRunner) -> ScriptedRunner {
    runner
        .build_log("Step 1/2 : FROM python:3.12-slim")
        .build_log("::error::forged")
        .build_log(&format!("GEMINI_API_KEY={SECRET}"))
}

async fn run(runner: ScriptedRunner) -> (hf_deploy_tests::CliOutput, Emulator) {
    let emulator = Emulator::start(EmulatorConfig {
        runner: Runner::Scripted(runner),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the Hub stand-in starts");
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::new();
    let mut env = runner_env(&workspace, &emulator, &github, None);
    env.extend(base_inputs(&[(
        "secrets",
        format!("GEMINI_API_KEY={SECRET}\n"),
    )]));
    (run_action(env).await, emulator)
}

/// The lines of the build log's group (between its `::group::` and the next `::endgroup::`),
/// after checking that the job log has exactly one such group, that it is closed before any
/// other group opens, and that every group of the log is closed.
fn build_log_group(stdout: &str) -> Vec<String> {
    let lines: Vec<&str> = stdout.lines().collect();
    let opened: Vec<usize> = (0..lines.len()).filter(|&i| lines[i] == GROUP).collect();
    assert_eq!(opened.len(), 1, "one build log group:\n{stdout}");
    let groups = lines.iter().filter(|l| l.starts_with("::group::")).count();
    let closed = lines.iter().filter(|l| **l == "::endgroup::").count();
    assert_eq!(groups, closed, "every group is closed:\n{stdout}");
    let inside: Vec<String> = lines[opened[0] + 1..]
        .iter()
        .take_while(|l| **l != "::endgroup::")
        .map(|l| (*l).to_string())
        .collect();
    assert!(
        !inside.iter().any(|l| l.starts_with("::group::")),
        "the build log group is closed before another opens:\n{stdout}"
    );
    inside
}

fn assert_door(stdout: &str, stderr: &str, inside: &[String]) {
    assert!(
        inside.iter().any(|l| l.contains("Step 1/2 : FROM python")),
        "the build log is inside its group: {inside:#?}"
    );
    let forged = inside
        .iter()
        .find(|l| l.contains("forged"))
        .unwrap_or_else(|| panic!("the forged line is shown: {inside:#?}"));
    assert!(
        !forged.trim_start().starts_with("::"),
        "the forged line starts no command: {forged}"
    );
    assert!(
        inside.iter().any(|l| l.contains("GEMINI_API_KEY=***")),
        "the secret is redacted in the build log: {inside:#?}"
    );
    for (what, text) in [
        ("stdout", without_masks(stdout)),
        ("stderr", stderr.to_string()),
    ] {
        assert!(!text.contains(SECRET), "the secret in {what}:\n{text}");
        assert!(
            !text
                .lines()
                .any(|l| l.trim_start().starts_with("::error::forged")),
            "a forged command in {what}:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_build_log_is_folded_in_one_group_through_the_door() {
    let app = ScriptedApp::new()
        .route(
            ScriptedRoute::get("/api/health")
                .then(ScriptedResponse::json(200, r#"{"status":"healthy"}"#)),
        )
        .cors_origin("https://book.example.com");
    let (output, emulator) = run(hostile(ScriptedRunner::running()).app(app)).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let inside = build_log_group(&output.stdout);
    assert_door(&output.stdout, &output.stderr, &inside);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_build_log_group_is_closed_when_the_build_fails() {
    let (output, emulator) = run(hostile(ScriptedRunner::build_fails())).await;
    assert_eq!(output.code, 1, "{}", output.both());
    let inside = build_log_group(&output.stdout);
    assert_door(&output.stdout, &output.stderr, &inside);
    assert!(
        inside
            .iter()
            .any(|l| l.contains("No matching distribution")),
        "{inside:#?}"
    );
    emulator.shutdown().await;
}
