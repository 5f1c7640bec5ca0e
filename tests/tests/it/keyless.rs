//! End-to-end: keyless deploys (Trusted Publishers) in action mode. The fake GitHub serves the
//! job's OIDC token (signed by the stand-in's fake issuer); the stand-in exchanges it at
//! `/oauth/token` for a token scoped to the Space.

use hf_deploy_tests::fake_github::{FakeGitHub, ID_TOKEN_REQUEST_TOKEN, Mode};
use hf_deploy_tests::{
    CliOutput, action_inputs, copy_dir, copy_tree, example_backend, run_action, workspace_root,
};
use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, Runner, ScriptedApp, ScriptedResponse,
    ScriptedRoute, ScriptedRunner, TrustedPublisher,
};

pub(crate) const SPACE: &str = "local/keyless-app";
pub(crate) const REPOSITORY: &str = "Codertocat/Hello-World";

pub(crate) async fn emulator() -> Emulator {
    let app = ScriptedApp::new().route(
        ScriptedRoute::get("/api/health")
            .then(ScriptedResponse::json(200, r#"{"status":"healthy"}"#)),
    );
    let config = EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running().app(app)),
        ..EmulatorConfig::default()
    };
    Emulator::start(config).await.unwrap()
}

/// Create the Space once with a personal token (a scoped token cannot), and trust `publisher`.
pub(crate) async fn create_space(emulator: &Emulator, publisher: TrustedPublisher) {
    let answer = reqwest::Client::new()
        .post(format!("{}/api/repos/create", emulator.url()))
        .bearer_auth(DEFAULT_WRITE_TOKEN)
        .json(&serde_json::json!({"name": "keyless-app", "organization": "local", "type": "space", "sdk": "docker"}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{answer:?}");
    emulator.add_trusted_publisher(SPACE, publisher);
}

pub(crate) fn publisher(workflow: Option<&str>, git_ref: Option<&str>) -> TrustedPublisher {
    TrustedPublisher {
        repository: REPOSITORY.into(),
        workflow: workflow.map(str::to_string),
        git_ref: git_ref.map(str::to_string),
    }
}

pub(crate) struct Job {
    dir: tempfile::TempDir,
    _backend: tempfile::TempDir,
}

impl Job {
    pub(crate) fn new() -> Job {
        let backend = copy_tree(&example_backend());
        let dir = tempfile::tempdir().unwrap();
        copy_dir(backend.path(), &dir.path().join("backend"));
        Job {
            dir,
            _backend: backend,
        }
    }

    /// The runner's environment; `oidc` adds the id-token variables (`id-token: write`).
    pub(crate) fn env(
        &self,
        emulator: &Emulator,
        github: &FakeGitHub,
        pull_request: bool,
        oidc: bool,
        given: &[(&str, &str)],
    ) -> Vec<(String, String)> {
        let path = |name: &str| self.dir.path().join(name).display().to_string();
        let mut env: Vec<(String, String)> = vec![
            ("GITHUB_ACTIONS".into(), "true".into()),
            ("GITHUB_WORKSPACE".into(), path("")),
            ("GITHUB_REPOSITORY".into(), REPOSITORY.into()),
            ("GITHUB_API_URL".into(), github.url.clone()),
            ("GITHUB_SERVER_URL".into(), "https://github.com".into()),
            ("GITHUB_RUN_ID".into(), "1658821493".into()),
            (
                "GITHUB_SHA".into(),
                "1111111111111111111111111111111111111111".into(),
            ),
            ("GITHUB_OUTPUT".into(), path("output.txt")),
            ("GITHUB_STEP_SUMMARY".into(), path("summary.md")),
        ];
        if pull_request {
            let event = self.dir.path().join("event.json");
            std::fs::copy(
                workspace_root().join("tests/fixtures/github/pull_request.opened.json"),
                &event,
            )
            .unwrap();
            env.push(("GITHUB_EVENT_NAME".into(), "pull_request".into()));
            env.push(("GITHUB_EVENT_PATH".into(), event.display().to_string()));
        } else {
            env.push(("GITHUB_EVENT_NAME".into(), "push".into()));
        }
        if oidc {
            env.push(("ACTIONS_ID_TOKEN_REQUEST_URL".into(), github.id_token_url()));
            env.push((
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
                ID_TOKEN_REQUEST_TOKEN.into(),
            ));
        }
        let endpoint = emulator.url();
        let mut given: Vec<(&str, &str)> = given.to_vec();
        for (name, value) in [
            ("space", SPACE),
            ("source", "backend"),
            ("timeout-minutes", "5"),
            ("hf-endpoint", endpoint.as_str()),
        ] {
            if !given.iter().any(|(n, _)| *n == name) {
                given.push((name, value));
            }
        }
        env.extend(action_inputs(&given));
        env
    }
}

/// The scoped token the action masked, and the check that the mask came before any other line.
fn masked_scoped_token(output: &CliOutput) -> String {
    let lines: Vec<&str> = output.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("::add-mask::hf_jwt_"))
        .unwrap_or_else(|| panic!("the scoped token is not masked:\n{}", output.both()));
    assert!(
        lines[..at].iter().all(|l| l.starts_with("::add-mask::")),
        "the scoped token must be masked before anything else is printed:\n{}",
        output.both()
    );
    lines[at].trim_start_matches("::add-mask::").to_string()
}

async fn keyless_deploy(pull_request: bool, git_ref: &str) {
    let emulator = emulator().await;
    create_space(&emulator, publisher(Some("Deploy"), Some(git_ref))).await;
    let github = FakeGitHub::start(Mode::default()).await;
    github.set_job(
        REPOSITORY,
        "Deploy",
        git_ref,
        if pull_request { "pull_request" } else { "push" },
    );
    let job = Job::new();
    let before = emulator.request_log().len();
    let output = run_action(job.env(&emulator, &github, pull_request, true, &[])).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let token = masked_scoped_token(&output);
    let unmasked: String = output
        .stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!unmasked.contains(&token) && !output.stderr.contains(&token));
    let log = emulator.request_log();
    let log = &log[before..];
    assert!(
        log.iter()
            .any(|r| r.path == "/oauth/token" && r.status == 200),
        "{log:#?}"
    );
    assert!(
        !log.iter()
            .any(|r| r.path == "/api/whoami-v2" || r.path == "/api/repos/create"),
        "a keyless deploy depends on neither whoami nor create: {log:#?}"
    );
    assert!(
        log.iter()
            .any(|r| r.path.ends_with("/git-receive-pack") && r.status == 200),
        "the scoped token pushed: {log:#?}"
    );
    // The Hub attributes a keyless push to the synthetic user `[OIDC]`: the stand-in's reflog
    // of `main` records the pusher of each update, newest first.
    let space_dir = emulator.space_dir(SPACE).expect("the Space exists");
    let pushers = hf_deploy_tests::git(&space_dir, &["log", "-g", "--format=%gn", "main"]);
    assert_eq!(
        pushers.lines().next(),
        Some(hf_hub_emulator::OIDC_USER),
        "pushers of `main`, newest first:\n{pushers}"
    );
    let summary = std::fs::read_to_string(job.dir.path().join("summary.md")).unwrap();
    assert!(summary.contains("healthy"), "{summary}");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_push_deploys_keyless_with_a_masked_space_scoped_token() {
    keyless_deploy(false, "refs/heads/main").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pull_request_deploys_keyless() {
    keyless_deploy(true, "refs/pull/2/merge").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn neither_a_token_nor_id_token_permission_is_exit_2_naming_both_ways() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let job = Job::new();
    let output = run_action(job.env(&emulator, &github, false, false, &[])).await;
    assert_eq!(output.code, 2, "{}", output.both());
    let text = output.both();
    for expected in [
        "hf-token",
        "id-token: write",
        "Trusted Publisher",
        "secrets.HF_TOKEN",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    assert!(emulator.request_log().is_empty(), "nothing was sent");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_publisher_that_does_not_match_prints_the_claims_this_job_presents() {
    let emulator = emulator().await;
    create_space(&emulator, publisher(Some("Release"), None)).await;
    let github = FakeGitHub::start(Mode::default()).await;
    github.set_job(REPOSITORY, "Deploy", "refs/heads/main", "push");
    let job = Job::new();
    let output = run_action(job.env(&emulator, &github, false, true, &[])).await;
    assert_eq!(output.code, 1, "{}", output.both());
    let text = output.both();
    for expected in [
        "invalid_grant",
        "repository: Codertocat/Hello-World",
        "workflow: Deploy",
        "ref: refs/heads/main",
        "Trusted Publishers",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_space_says_to_create_it_once_with_a_personal_token() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    github.set_job(REPOSITORY, "Deploy", "refs/heads/main", "push");
    let job = Job::new();
    let output = run_action(job.env(&emulator, &github, false, true, &[])).await;
    assert_eq!(output.code, 1, "{}", output.both());
    assert!(
        output
            .both()
            .contains("create it once with a personal token"),
        "{}",
        output.both()
    );
    assert!(emulator.space_dir(SPACE).is_none());
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_settings_call_refused_to_the_scoped_token_names_the_fix() {
    let emulator = emulator().await;
    create_space(&emulator, publisher(None, None)).await;
    let github = FakeGitHub::start(Mode::default()).await;
    github.set_job(REPOSITORY, "Deploy", "refs/heads/main", "push");
    let job = Job::new();
    let output = run_action(job.env(
        &emulator,
        &github,
        false,
        true,
        &[("secrets", "GEMINI_API_KEY=keyless-secret-value")],
    ))
    .await;
    assert_eq!(output.code, 1, "{}", output.both());
    let text = output.both();
    assert!(text.contains("Space-scoped token"), "{text}");
    assert!(text.contains("personal token"), "{text}");
    assert!(
        !text
            .replace("::add-mask::keyless-secret-value", "")
            .contains("keyless-secret-value")
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preview_or_a_wait_past_the_tokens_hour_is_exit_2_before_any_write() {
    let emulator = emulator().await;
    create_space(&emulator, publisher(None, None)).await;
    let github = FakeGitHub::start(Mode::default()).await;
    github.set_job(REPOSITORY, "Deploy", "refs/heads/main", "push");
    let job = Job::new();
    let before = emulator.request_log().len();
    let output = run_action(job.env(&emulator, &github, true, true, &[("preview", "true")])).await;
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output.both().contains("personal token"),
        "{}",
        output.both()
    );
    assert_eq!(emulator.request_log().len(), before, "nothing was sent");

    let output = run_action(job.env(
        &emulator,
        &github,
        false,
        true,
        &[("timeout-minutes", "90")],
    ))
    .await;
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output.both().contains("Space-scoped token"),
        "{}",
        output.both()
    );
    let log = emulator.request_log();
    assert!(
        !log[before..]
            .iter()
            .any(|r| r.method != "GET" && r.path != "/oauth/token"),
        "no write: {:#?}",
        &log[before..]
    );
    emulator.shutdown().await;
}
