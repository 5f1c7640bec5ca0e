//! End-to-end: `hf-deploy action` as the runner starts it (every declared input as `INPUT_*`,
//! `GITHUB_*` files and URLs), against the Hub stand-in and a fake GitHub API built from
//! `@octokit/openapi` examples, with real `pull_request` payloads from
//! `@octokit/webhooks-examples`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hf_deploy_tests::fake_github::{FakeGitHub, Mode};
use hf_deploy_tests::{
    action_inputs, copy_dir, copy_tree, example_backend, run_action, runner_read_outputs,
    workspace_root,
};
use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, FaultRule, Runner, ScriptedApp,
    ScriptedResponse, ScriptedRoute, ScriptedRunner,
};

const HEALTHY: &str = r#"{"status":"healthy","services":{"fastapi":"ok","qdrant":{"status":"ok"},"postgres":{"status":"ok"},"gemini":{"status":"ok"}}}"#;
const GEMINI: &str = "AIzaSy-action-secret-0123456789";
const DB_PASSWORD: &str = "pw-action-secret-42";
const GITHUB_TOKEN: &str = "ghs_fakeGitHubTokenForTests000000000000";
/// The head commit of the `pull_request` fixtures (not the merge commit).
const HEAD_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const MERGE_SHA: &str = "1111111111111111111111111111111111111111";

async fn emulator() -> Emulator {
    let app = ScriptedApp::new()
        .route(ScriptedRoute::get("/api/health").then(ScriptedResponse::json(200, HEALTHY)))
        .cors_origin("https://book.example.com");
    let config = EmulatorConfig {
        runner: Runner::Scripted(
            ScriptedRunner::running()
                .build_log("Step 1/9 : FROM python:3.11-slim")
                .app(app),
        ),
        ..EmulatorConfig::default()
    };
    Emulator::start(config).await.unwrap()
}

/// A runner's workspace: the backend at `backend/`, the event payload, outputs and summary files.
pub(crate) struct Workspace {
    dir: tempfile::TempDir,
    _backend: tempfile::TempDir,
}

impl Workspace {
    pub(crate) fn new() -> Workspace {
        let backend = copy_tree(&example_backend());
        let dir = tempfile::tempdir().unwrap();
        std::fs::rename(backend.path(), dir.path().join("backend")).unwrap_or_else(|_| {
            copy_dir(backend.path(), &dir.path().join("backend"));
        });
        Workspace {
            dir,
            _backend: backend,
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn event(&self, action: &str) -> PathBuf {
        let path = self.path(&format!("event-{action}.json"));
        std::fs::copy(
            workspace_root().join(format!("tests/fixtures/github/pull_request.{action}.json")),
            &path,
        )
        .unwrap();
        path
    }
}

pub(crate) fn runner_env(
    workspace: &Workspace,
    emulator: &Emulator,
    github: &FakeGitHub,
    event: Option<&Path>,
) -> Vec<(String, String)> {
    let mut env = vec![
        ("GITHUB_ACTIONS".into(), "true".into()),
        (
            "GITHUB_WORKSPACE".into(),
            workspace.dir.path().display().to_string(),
        ),
        ("GITHUB_REPOSITORY".into(), "Codertocat/Hello-World".into()),
        ("GITHUB_API_URL".into(), github.url.clone()),
        ("GITHUB_SERVER_URL".into(), "https://github.com".into()),
        ("GITHUB_RUN_ID".into(), "1658821493".into()),
        ("GITHUB_SHA".into(), MERGE_SHA.into()),
        (
            "GITHUB_OUTPUT".into(),
            workspace.path("output.txt").display().to_string(),
        ),
        (
            "GITHUB_STEP_SUMMARY".into(),
            workspace.path("summary.md").display().to_string(),
        ),
        ("HF_ENDPOINT".into(), emulator.url()),
    ];
    if let Some(event) = event {
        env.push(("GITHUB_EVENT_NAME".into(), "pull_request".into()));
        env.push(("GITHUB_EVENT_PATH".into(), event.display().to_string()));
    } else {
        env.push(("GITHUB_EVENT_NAME".into(), "push".into()));
    }
    env
}

pub(crate) fn base_inputs(extra: &[(&'static str, String)]) -> Vec<(String, String)> {
    let secrets = format!(
        "GEMINI_API_KEY={GEMINI}\nDATABASE_URL=postgresql://app:{DB_PASSWORD}@db.example.com/app?sslmode=require\n"
    );
    let mut given: Vec<(&str, String)> = vec![
        ("hf-token", DEFAULT_WRITE_TOKEN.into()),
        ("space", "local/action-app".into()),
        ("source", "backend".into()),
        ("secrets", secrets),
        ("variables", "LOG_LEVEL=info".into()),
        ("frontend-url", "https://book.example.com".into()),
        ("timeout-minutes", "5".into()),
        ("github-token", GITHUB_TOKEN.into()),
    ];
    for (name, value) in extra {
        given.retain(|(n, _)| n != name);
        given.push((name, value.clone()));
    }
    let given: Vec<(&str, &str)> = given.iter().map(|(k, v)| (*k, v.as_str())).collect();
    action_inputs(&given)
}

/// Read `GITHUB_OUTPUT` the way the runner does.
fn parse_outputs(path: &Path) -> BTreeMap<String, String> {
    runner_read_outputs(&std::fs::read_to_string(path).unwrap())
        .expect("the runner can read the outputs file")
}

/// stdout without the `::add-mask::` lines (which carry the values on purpose, for the runner).
pub(crate) fn without_masks(stdout: &str) -> String {
    stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_clean(what: &str, text: &str) {
    for secret in [GEMINI, DB_PASSWORD, DEFAULT_WRITE_TOKEN, GITHUB_TOKEN] {
        assert!(
            !text.contains(secret),
            "a secret leaked into {what}:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pull_request_deploy_sets_outputs_summary_deployment_and_one_comment() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    github.seed_comments(2, 120, None);
    let workspace = Workspace::new();
    let event = workspace.event("opened");
    let mut env = runner_env(&workspace, &emulator, &github, Some(&event));
    env.extend(base_inputs(&[]));

    let output = run_action(env.clone()).await;
    assert_eq!(output.code, 0, "{}", output.both());
    // Masks come first, one per secret value, before anything else.
    let first: Vec<&str> = output.stdout.lines().take(4).collect();
    assert!(
        first.iter().all(|l| l.starts_with("::add-mask::")),
        "{first:?}"
    );
    assert!(output.stdout.contains(&format!("::add-mask::{GEMINI}")));
    assert!(
        output.stdout.contains("::group::"),
        "one log group per phase:\n{}",
        output.stdout
    );

    let outputs = parse_outputs(&workspace.path("output.txt"));
    for name in [
        "space-id",
        "space-url",
        "app-url",
        "docs-url",
        "health-url",
        "commit-sha",
        "changed",
        "stage",
        "health",
    ] {
        assert!(
            outputs.contains_key(name),
            "output `{name}` missing: {outputs:?}"
        );
    }
    assert_eq!(outputs["space-id"], "local/action-app");
    assert_eq!(outputs["changed"], "true");
    assert_eq!(outputs["stage"], "RUNNING");
    assert_eq!(outputs["health"], "healthy");
    assert_eq!(outputs["commit-sha"].len(), 40);
    let app_url = outputs["app-url"].clone();
    assert_eq!(outputs["docs-url"], format!("{app_url}/docs"));

    let summary = std::fs::read_to_string(workspace.path("summary.md")).unwrap();
    assert!(summary.contains(&app_url), "{summary}");
    assert!(summary.contains("local/action-app"), "{summary}");

    // One comment among 120 others, then updated in place on a rerun.
    assert_eq!(github.comment_count(2), 121);
    let comment = github
        .comment_with("hf-deploy:space=local/action-app")
        .expect("our comment");
    assert!(comment.contains(&app_url), "{comment}");
    let rerun = run_action(env).await;
    assert_eq!(rerun.code, 0, "{}", rerun.both());
    assert_eq!(
        github.comment_count(2),
        121,
        "the rerun updates the comment instead of adding one"
    );

    // The deployment is of the PR head, not of the merge commit, and ends in success.
    let requests = github.requests();
    let deployments: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/deployments"))
        .collect();
    assert_eq!(deployments.len(), 2, "one per run");
    assert!(
        deployments[0].body.contains(HEAD_SHA),
        "{}",
        deployments[0].body
    );
    assert!(!deployments[0].body.contains(MERGE_SHA));
    assert!(!github.statuses_with_state("success").is_empty());
    assert!(
        requests
            .iter()
            .any(|r| r.body.contains(&app_url) && r.path.contains("/statuses")),
        "environment_url is the app URL"
    );
    assert!(
        github.unmatched().is_empty(),
        "unexpected GitHub calls: {:?}",
        github.unmatched()
    );

    // No secret anywhere but in the masks.
    assert_clean("stdout", &without_masks(&output.stdout));
    assert_clean("stderr", &output.stderr);
    assert_clean(
        "the outputs file",
        &std::fs::read_to_string(workspace.path("output.txt")).unwrap(),
    );
    assert_clean("the summary", &summary);
    for request in &requests {
        assert_clean(
            "a GitHub request",
            &format!("{} {}", request.path, request.body),
        );
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fork_pull_request_that_may_not_comment_still_deploys() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode {
        forbid_writes: true,
        ..Mode::default()
    })
    .await;
    let workspace = Workspace::new();
    let event = workspace.event("opened");
    let mut env = runner_env(&workspace, &emulator, &github, Some(&event));
    env.extend(base_inputs(&[]));
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(
        output.stdout.contains("::warning"),
        "a warning, not a failure:\n{}",
        output.stdout
    );
    assert_eq!(github.comment_count(2), 0);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preview_is_created_then_deleted_when_the_pull_request_closes() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::new();
    let opened = workspace.event("opened");
    let mut env = runner_env(&workspace, &emulator, &github, Some(&opened));
    env.extend(base_inputs(&[("preview", "true".into())]));
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert_eq!(
        parse_outputs(&workspace.path("output.txt"))["space-id"],
        "local/action-app-pr-2"
    );
    assert!(emulator.space_dir("local/action-app-pr-2").is_some());
    assert!(
        emulator.space_dir("local/action-app").is_none(),
        "previews leave the main Space alone"
    );

    std::fs::remove_file(workspace.path("output.txt")).unwrap();
    let closed = workspace.event("closed");
    let mut env = runner_env(&workspace, &emulator, &github, Some(&closed));
    env.extend(base_inputs(&[("preview", "true".into())]));
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let info = reqwest::Client::new()
        .get(format!(
            "{}/api/spaces/local/action-app-pr-2",
            emulator.url()
        ))
        .bearer_auth(DEFAULT_WRITE_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 404, "the preview Space is deleted");
    let comment = github
        .comment_with("hf-deploy:space=local/action-app-pr-2")
        .unwrap();
    assert!(comment.contains("deleted"), "{comment}");
    assert_eq!(github.comment_count(2), 1, "the same comment, updated");
    assert!(
        !github.statuses_with_state("inactive").is_empty(),
        "the preview deployment is marked inactive"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_inputs_fail_with_an_annotation_and_exit_2() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::new();
    for (name, value, named) in [
        ("wait", "yes", "wait"),
        ("space", "not a space", "space"),
        ("secrets", "GEMINI_API_KEY", "secrets"),
        ("timeout-minutes", "soon", "timeout-minutes"),
        (
            "frontend-url",
            "https://book.example.com/path",
            "frontend-url",
        ),
    ] {
        let mut env = runner_env(&workspace, &emulator, &github, None);
        env.extend(base_inputs(&[(name, value.to_string())]));
        let output = run_action(env).await;
        assert_eq!(output.code, 2, "{name}={value}: {}", output.both());
        assert!(
            output.stdout.contains("::error"),
            "{name}: {}",
            output.stdout
        );
        assert!(output.stderr.contains(named), "{name}: {}", output.both());
    }
    assert!(
        emulator.request_log().is_empty(),
        "bad input sends nothing to the Hub"
    );
    assert!(
        github.requests().is_empty(),
        "bad input sends nothing to GitHub"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dockerfile_that_breaks_the_space_rules_is_annotated_at_its_lines() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::new();
    std::fs::write(
        workspace.path("backend/Dockerfile"),
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nEXPOSE 8000\nCMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"8000\"]\n",
    )
    .unwrap();
    let mut env = runner_env(&workspace, &emulator, &github, None);
    env.extend(base_inputs(&[]));
    let output = run_action(env).await;
    assert_eq!(output.code, 2, "{}", output.both());
    let annotations: Vec<&str> = output
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect();
    assert!(
        annotations
            .iter()
            .any(|l| l.contains("file=backend/Dockerfile") && l.contains("line=")),
        "annotations point at the file and line: {annotations:?}"
    );
    assert!(emulator.request_log().is_empty(), "nothing is sent");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_deploy_is_reported_in_the_comment_with_its_log_tail() {
    let runner = ScriptedRunner::failing("BUILD_ERROR")
        .build_log("Step 4/9 : RUN pip install -r requirements.txt")
        .build_log("ERROR: No matching distribution found for torch==9.9.9")
        .build_log("a line with ``` backticks that must not close the fence");
    let emulator = Emulator::start(EmulatorConfig {
        runner: Runner::Scripted(runner),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::new();
    let event = workspace.event("opened");
    let mut env = runner_env(&workspace, &emulator, &github, Some(&event));
    env.extend(base_inputs(&[]));
    let output = run_action(env).await;
    assert_eq!(output.code, 1, "{}", output.both());
    let outputs = parse_outputs(&workspace.path("output.txt"));
    assert_eq!(outputs["stage"], "BUILD_ERROR");
    let comment = github
        .comment_with("hf-deploy:space=local/action-app")
        .expect("the failure is commented");
    assert!(comment.contains("torch==9.9.9"), "{comment}");
    // The log is in one fenced block that no line of it can close: its fence is of the
    // character the log has the shorter runs of (tildes here), longer than any of them.
    let open = comment.find("~~~text\n").expect("the log's fence");
    let close = comment[open + 8..].find("\n~~~\n").expect("its end") + open + 8;
    assert!(
        comment[open..close].contains("a line with ``` backticks"),
        "{comment}"
    );
    let summary = std::fs::read_to_string(workspace.path("summary.md")).unwrap();
    assert!(
        summary.contains("<details>") && summary.contains("torch==9.9.9"),
        "{summary}"
    );
    assert!(
        !github.statuses_with_state("failure").is_empty(),
        "the deployment is marked failed"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn degraded_health_fails_unless_allowed() {
    let degraded =
        r#"{"status":"degraded","services":{"fastapi":"ok","qdrant":{"status":"not_configured"}}}"#;
    let app = ScriptedApp::new()
        .route(ScriptedRoute::get("/api/health").then(ScriptedResponse::json(200, degraded)));
    let config = EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running().app(app)),
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config).await.unwrap();
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::new();

    let mut env = runner_env(&workspace, &emulator, &github, None);
    env.extend(base_inputs(&[("frontend-url", String::new())]));
    let output = run_action(env).await;
    assert_eq!(output.code, 1, "{}", output.both());
    assert!(output.stderr.contains("qdrant"), "{}", output.both());

    let mut env = runner_env(&workspace, &emulator, &github, None);
    env.extend(base_inputs(&[
        ("frontend-url", String::new()),
        ("allow-degraded", "true".into()),
    ]));
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert_eq!(
        parse_outputs(&workspace.path("output.txt"))["health"],
        "degraded"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limit_wait_is_a_notice_naming_its_utc_reset_time() {
    let emulator = emulator().await;
    emulator.faults().add(
        FaultRule::new("GET", "/api/spaces/local/action-app")
            .rate_limited(2)
            .times(1),
    );
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::new();
    let mut env = runner_env(&workspace, &emulator, &github, None);
    env.extend(base_inputs(&[]));
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let notice = output
        .stdout
        .lines()
        .find(|l| l.starts_with("::notice ") && l.contains("rate-limited the request"))
        .unwrap_or_else(|| panic!("no rate-limit notice:\n{}", output.both()));
    assert!(
        notice.contains("waiting until") && notice.contains(" UTC ("),
        "{notice}"
    );
    assert!(
        regex::Regex::new(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC")
            .unwrap()
            .is_match(notice),
        "{notice}"
    );
    assert_clean("stdout", &without_masks(&output.stdout));
    emulator.shutdown().await;
}
