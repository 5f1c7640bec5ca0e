//! End-to-end: keyless deploys (Trusted Publishers) in action mode. The fake GitHub serves the
//! job's OIDC token (signed by the stand-in's fake issuer); the stand-in exchanges it at
//! `/oauth/token` for a token scoped to the Space, renewed before it expires (the stand-in's
//! short token lifetimes make a token expire mid-run in seconds).

use hf_deploy_tests::fake_github::{FakeGitHub, ID_TOKEN_REQUEST_TOKEN, Mode};
use hf_deploy_tests::{
    CliOutput, action_inputs, copy_dir, copy_tree, example_backend, run_action, workspace_root,
};
use std::time::Duration;

use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, FaultRule, HUB_AUDIENCE, JobClaims,
    LoggedRequest, Runner, ScriptedApp, ScriptedResponse, ScriptedRoute, ScriptedRunner,
    StageDelays, TrustedPublisher, issue_github_oidc_token,
};

pub(crate) const SPACE: &str = "local/keyless-app";
pub(crate) const REPOSITORY: &str = "Codertocat/Hello-World";

pub(crate) async fn emulator() -> Emulator {
    emulator_building(StageDelays::default().building).await
}

/// A stand-in whose builds take `building`.
async fn emulator_building(building: Duration) -> Emulator {
    let app = ScriptedApp::new().route(
        ScriptedRoute::get("/api/health")
            .then(ScriptedResponse::json(200, r#"{"status":"healthy"}"#)),
    );
    let config = EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running().app(app)),
        stage_delays: StageDelays {
            building,
            ..StageDelays::default()
        },
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
    assert!(masked_tokens(&output).contains(&token));
    assert_no_token_shown(&output, &job, &github);
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
async fn a_keyless_preview_is_exit_2_before_any_write() {
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
    emulator.shutdown().await;
}

/// `emulator` holding the Space, trusting workflow `Deploy` of the repository; the fake GitHub
/// serving the token of that workflow's job for a push to `main`; the job's workspace.
async fn push_job(emulator: Emulator) -> (Emulator, FakeGitHub, Job) {
    create_space(&emulator, publisher(Some("Deploy"), None)).await;
    let github = FakeGitHub::start(Mode::default()).await;
    github.set_job(REPOSITORY, "Deploy", "refs/heads/main", "push");
    (emulator, github, Job::new())
}

/// The values the run masked that are tokens (`hf_jwt_…` exchanged, `eyJ…` ID tokens), in order.
fn masked_tokens(output: &CliOutput) -> Vec<String> {
    output
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("::add-mask::"))
        .filter(|v| v.starts_with("hf_jwt_") || v.starts_with("eyJ"))
        .map(str::to_string)
        .collect()
}

/// No token the run masked shows anywhere but in its mask: stdout, stderr, the step summary,
/// the outputs, and what was sent to GitHub.
fn assert_no_token_shown(output: &CliOutput, job: &Job, github: &FakeGitHub) {
    let tokens = masked_tokens(output);
    assert!(!tokens.is_empty(), "{}", output.both());
    let unmasked: String = output
        .stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    let read = |name: &str| std::fs::read_to_string(job.dir.path().join(name)).unwrap_or_default();
    let sent: String = github.writes().iter().map(|r| r.body.clone()).collect();
    for token in &tokens {
        for (what, text) in [
            ("stdout", &unmasked),
            ("stderr", &output.stderr),
            ("summary", &read("summary.md")),
            ("outputs", &read("output.txt")),
            ("GitHub bodies", &sent),
        ] {
            assert!(!text.contains(token.as_str()), "a token in {what}:\n{text}");
        }
    }
}

fn id_token_fetches(github: &FakeGitHub) -> usize {
    github
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/_apis/idtoken"))
        .count()
}

fn exchanges(log: &[LoggedRequest]) -> usize {
    log.iter()
        .filter(|r| r.path == "/oauth/token" && r.status == 200)
        .count()
}

/// The exchanged token expires mid-run: it is exchanged again, with a fresh ID token, before
/// it expires; the push and the waits after that carry the new token, never the old one. A
/// time limit past the token's life is not refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_token_that_expires_mid_run_is_exchanged_again_with_a_fresh_id_token() {
    let (emulator, github, job) = push_job(emulator_building(Duration::from_secs(2)).await).await;
    // The first token lives 4 s (renewed after 2 s); the next ones the Hub's hour. The first
    // read of the Space is held 3 s, so the push comes after the renewal is due.
    emulator.set_scoped_token_lifetimes(&[Duration::from_secs(4)]);
    emulator.faults().add(
        FaultRule::new("GET", &format!("/api/spaces/{SPACE}"))
            .latency(Duration::from_secs(3))
            .times(1),
    );
    let output = run_action(job.env(
        &emulator,
        &github,
        false,
        true,
        &[("timeout-minutes", "90")],
    ))
    .await;
    assert_eq!(output.code, 0, "{}", output.both());
    let log = emulator.request_log();
    assert_eq!(id_token_fetches(&github), 2, "{:#?}", github.requests());
    assert_eq!(exchanges(&log), 2, "{log:#?}");
    assert!(!log.iter().any(|r| r.status == 401), "{log:#?}");
    let renewed = log
        .iter()
        .rposition(|r| r.path == "/oauth/token")
        .expect("the second exchange");
    let after = &log[renewed + 1..];
    assert!(
        after.iter().all(|r| r.app || r.scoped_token == Some(2)),
        "every call after the renewal carries the new token: {after:#?}"
    );
    for what in ["/git-receive-pack", "/runtime"] {
        assert!(
            after.iter().any(|r| r.path.ends_with(what)),
            "{what} after the renewal: {after:#?}"
        );
    }
    assert_eq!(
        masked_tokens(&output).len(),
        4,
        "two ID tokens, two exchanged tokens"
    );
    assert_no_token_shown(&output, &job, &github);
    emulator.shutdown().await;
}

/// `HF_OIDC_ID_TOKEN`: used as is, the runner is not asked; the exchanged token cannot be
/// renewed, so a time limit past its life is a warning, not a refusal.
#[tokio::test(flavor = "multi_thread")]
async fn a_given_id_token_is_used_without_a_fetch_and_a_long_wait_is_a_warning() {
    let (emulator, github, job) = push_job(emulator().await).await;
    emulator.set_scoped_token_lifetimes(&[Duration::from_secs(120)]);
    let given = issue_github_oidc_token(&JobClaims::new(
        REPOSITORY,
        "Deploy",
        "refs/heads/main",
        "push",
        HUB_AUDIENCE,
    ));
    let mut env = job.env(&emulator, &github, false, true, &[]);
    env.push(("HF_OIDC_ID_TOKEN".into(), given.clone()));
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert_eq!(id_token_fetches(&github), 0, "{:#?}", github.requests());
    assert_eq!(exchanges(&emulator.request_log()), 1);
    assert!(masked_tokens(&output).contains(&given), "{}", output.stdout);
    let warning = output
        .stdout
        .lines()
        .find(|l| l.starts_with("::warning") && l.contains("cannot be renewed"))
        .unwrap_or_else(|| panic!("a warning: {}", output.both()));
    assert!(warning.contains("300s"), "{warning}");
    assert_no_token_shown(&output, &job, &github);
    emulator.shutdown().await;
}

/// `HF_OIDC_RESOURCE` turns the exchange on over an `hf-token`; naming another Space is exit 2
/// before anything is sent.
#[tokio::test(flavor = "multi_thread")]
async fn hf_oidc_resource_deploys_keyless_over_a_token_and_must_name_the_space() {
    let (emulator, github, job) = push_job(emulator().await).await;
    let given = [("hf-token", DEFAULT_WRITE_TOKEN)];

    let mut env = job.env(&emulator, &github, false, true, &given);
    env.push(("HF_OIDC_RESOURCE".into(), "spaces/local/other-app".into()));
    let before = emulator.request_log().len();
    let output = run_action(env).await;
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output.both().contains("HF_OIDC_RESOURCE"),
        "{}",
        output.both()
    );
    assert_eq!(emulator.request_log().len(), before, "nothing was sent");

    let mut env = job.env(&emulator, &github, false, true, &given);
    env.push(("HF_OIDC_RESOURCE".into(), format!("spaces/{SPACE}")));
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let log = emulator.request_log();
    let log = &log[before..];
    assert_eq!(exchanges(log), 1, "{log:#?}");
    assert!(
        log.iter()
            .filter(|r| !r.app && r.path != "/oauth/token")
            .all(|r| r.scoped_token.is_some()),
        "every Hub call carries the scoped token, none the personal one: {log:#?}"
    );
    emulator.shutdown().await;
}
