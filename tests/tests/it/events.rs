//! End-to-end: which events may deploy, and what an action run writes. `hf-deploy action` as
//! the runner starts it, with real payloads from `@octokit/webhooks-examples` (edited only
//! where a test needs a field: a fork's head repository, an issue that is a pull request),
//! against the Hub stand-in and the fake GitHub.
//!
//! - a fork's pull request is skipped in every event about a pull request, token or not,
//!   with no write anywhere; `allow-forks: true` deploys it;
//! - a comment by someone else carrying the action's marker is never taken for its own;
//! - `dry-run` writes nothing to the Hub or to GitHub.
//!
//! The harness here (a runner's workspace, its environment, the payloads, the write logs) is
//! shared with `previews.rs`.

use std::path::PathBuf;

use hf_deploy_tests::fake_github::{
    ACTIONS_BOT_LOGIN, FakeGitHub, Mode, PERSONAL_ID, PERSONAL_LOGIN, PullState,
};
use hf_deploy_tests::{
    CliOutput, action_inputs, copy_dir, example_backend, run_action, webhook_examples,
};
use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, LoggedRequest, Runner, ScriptedApp,
    ScriptedResponse, ScriptedRoute, ScriptedRunner,
};
use serde_json::Value;

const HEALTHY: &str = r#"{"status":"healthy","services":{"fastapi":"ok"}}"#;
/// The workflow's `GITHUB_TOKEN`: an installation token.
pub(crate) const GITHUB_TOKEN: &str = "ghs_eventsFakeInstallationToken000000000";
/// A personal token (of the fake's user `alice`).
pub(crate) const PERSONAL_TOKEN: &str = concat!("ghp", "_eventsFakePersonalToken00000000000000");
pub(crate) const SECRET: &str = "AIzaSy-events-secret-0123456789";
/// The run id the runner names (`GITHUB_RUN_ID`).
pub(crate) const RUN_ID: &str = "1658821493";
/// The merge commit the runner names (`GITHUB_SHA`) on a pull request.
pub(crate) const MERGE_SHA: &str = "1111111111111111111111111111111111111111";
/// The head commit of the `pull_request` examples.
pub(crate) const HEAD_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
/// The Space the tests deploy; a preview of pull request N is `{SPACE}-pr-N`.
pub(crate) const SPACE: &str = "local/events-app";
/// The preview mark of pull request `n` of the examples' repository.
pub(crate) fn mark(n: u64) -> String {
    format!("Codertocat/Hello-World#{n}")
}

/// A Hub stand-in whose Spaces build at once and answer healthy.
pub(crate) async fn emulator() -> Emulator {
    let app = ScriptedApp::new()
        .route(ScriptedRoute::get("/api/health").then(ScriptedResponse::json(200, HEALTHY)));
    let config = EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running().app(app)),
        ..EmulatorConfig::default()
    };
    Emulator::start(config)
        .await
        .expect("the Hub stand-in starts")
}

/// A runner's workspace: maybe the backend at `backend/`, the payload, outputs and summary.
pub(crate) struct Workspace {
    pub(crate) dir: tempfile::TempDir,
}

impl Workspace {
    /// With the example backend checked out at `backend/`.
    pub(crate) fn with_source() -> Workspace {
        let workspace = Workspace::without_source();
        copy_dir(&example_backend(), &workspace.path("backend"));
        workspace
    }

    /// With nothing checked out (a `pull_request_target: [closed]` job without a checkout).
    pub(crate) fn without_source() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The outputs the run wrote, as the runner reads them.
    pub(crate) fn outputs(&self) -> std::collections::BTreeMap<String, String> {
        let text = std::fs::read_to_string(self.path("output.txt")).unwrap_or_default();
        hf_deploy_tests::runner_read_outputs(&text).expect("the runner reads the outputs")
    }
}

/// Example `index` of `event` in `@octokit/webhooks-examples`, edited by `edit`.
pub(crate) fn payload(event: &str, index: usize, edit: impl FnOnce(&mut Value)) -> Value {
    let mut value = webhook_examples(event)
        .get(index)
        .cloned()
        .unwrap_or_else(|| panic!("no example {index} of `{event}`"));
    edit(&mut value);
    value
}

/// A `pull_request` example with `action` (the first example of that action), edited.
pub(crate) fn pull_request(action: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let index = webhook_examples("pull_request")
        .iter()
        .position(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no `{action}` example"));
    payload("pull_request", index, edit)
}

/// Make the payload's pull request number `number`.
pub(crate) fn number(value: &mut Value, number: u64) {
    value["number"] = number.into();
    value["pull_request"]["number"] = number.into();
}

/// Make the payload's pull request come from a fork.
pub(crate) fn from_fork(value: &mut Value) {
    value["pull_request"]["head"]["repo"]["full_name"] = "mallory/Hello-World".into();
    value["pull_request"]["head"]["repo"]["fork"] = true.into();
}

/// The runner's environment for one step: event `name` with `payload` (none: a push), and
/// every input of `action.yml` with `given` over the defaults.
pub(crate) fn step(
    workspace: &Workspace,
    emulator: &Emulator,
    github: &FakeGitHub,
    event: Option<(&str, &Value)>,
    given: &[(&str, &str)],
) -> Vec<(String, String)> {
    let path = |name: &str| workspace.path(name).display().to_string();
    let mut env: Vec<(String, String)> = [
        ("GITHUB_ACTIONS", "true".to_string()),
        ("GITHUB_WORKSPACE", path("")),
        ("GITHUB_REPOSITORY", "Codertocat/Hello-World".into()),
        ("GITHUB_API_URL", github.url.clone()),
        ("GITHUB_SERVER_URL", "https://github.com".into()),
        ("GITHUB_RUN_ID", RUN_ID.into()),
        ("GITHUB_RUN_ATTEMPT", "1".into()),
        ("GITHUB_SHA", MERGE_SHA.into()),
        ("GITHUB_OUTPUT", path("output.txt")),
        ("GITHUB_STEP_SUMMARY", path("summary.md")),
        ("HF_ENDPOINT", emulator.url()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    match event {
        Some((name, payload)) => {
            let file = workspace.path(&format!("event-{name}.json"));
            std::fs::write(&file, payload.to_string()).expect("write the payload");
            env.push(("GITHUB_EVENT_NAME".into(), name.into()));
            env.push(("GITHUB_EVENT_PATH".into(), file.display().to_string()));
        }
        None => env.push(("GITHUB_EVENT_NAME".into(), "push".into())),
    }
    let secrets = format!("GEMINI_API_KEY={SECRET}");
    let mut inputs: Vec<(&str, &str)> = vec![
        ("hf-token", DEFAULT_WRITE_TOKEN),
        ("space", SPACE),
        ("secrets", &secrets),
        ("timeout-minutes", "5"),
        ("github-token", GITHUB_TOKEN),
    ];
    for (name, value) in given {
        inputs.retain(|(n, _)| n != name);
        inputs.push((name, value));
    }
    env.extend(action_inputs(&inputs));
    env
}

/// Requests that change something on the Hub: any method but `GET`/`HEAD`, except the
/// `git-upload-pack` POST of a fetch (a read over POST).
pub(crate) fn hub_writes(emulator: &Emulator) -> Vec<LoggedRequest> {
    emulator
        .request_log()
        .into_iter()
        .filter(|r| {
            r.method != "GET" && r.method != "HEAD" && !r.path.ends_with("/git-upload-pack")
        })
        .collect()
}

/// The notices of a run's job log.
pub(crate) fn notices(output: &CliOutput) -> Vec<&str> {
    output
        .stdout
        .lines()
        .filter(|l| l.starts_with("::notice"))
        .collect()
}

/// The warnings of a run's job log.
pub(crate) fn warnings(output: &CliOutput) -> Vec<&str> {
    output
        .stdout
        .lines()
        .filter(|l| l.starts_with("::warning"))
        .collect()
}

/// The Space exists on the stand-in.
pub(crate) async fn space_exists(emulator: &Emulator, id: &str) -> bool {
    let status = reqwest::Client::new()
        .get(format!("{}/api/spaces/{id}", emulator.url()))
        .bearer_auth(DEFAULT_WRITE_TOKEN)
        .send()
        .await
        .expect("space info")
        .status();
    status.as_u16() != 404
}

/// Create Space `id` on the stand-in with `variables`, as someone (or an older hf-deploy)
/// would have, outside the action.
pub(crate) async fn create_space(emulator: &Emulator, id: &str, variables: &[(&str, &str)]) {
    let (organization, name) = id.split_once('/').expect("ns/name");
    let variables: Vec<Value> = variables
        .iter()
        .map(|(key, value)| serde_json::json!({"key": key, "value": value}))
        .collect();
    let response = reqwest::Client::new()
        .post(format!("{}/api/repos/create", emulator.url()))
        .bearer_auth(DEFAULT_WRITE_TOKEN)
        .json(&serde_json::json!({
            "type": "space", "name": name, "organization": organization, "sdk": "docker",
            "variables": variables,
        }))
        .send()
        .await
        .expect("create");
    assert!(
        response.status().is_success(),
        "{:?}",
        response.text().await
    );
}

/// The value of variable `key` of Space `id`.
pub(crate) async fn variable(emulator: &Emulator, id: &str, key: &str) -> Option<String> {
    let variables: Value = reqwest::Client::new()
        .get(format!("{}/api/spaces/{id}/variables", emulator.url()))
        .bearer_auth(DEFAULT_WRITE_TOKEN)
        .send()
        .await
        .expect("variables")
        .json()
        .await
        .expect("variables JSON");
    variables[key]["value"].as_str().map(str::to_string)
}

fn assert_skipped_as_fork(output: &CliOutput, what: &str) {
    assert_eq!(output.code, 0, "{what}: {}", output.both());
    assert!(
        notices(output)
            .iter()
            .any(|n| n.contains("fork") || n.contains("deleted")),
        "{what}: a notice says why:\n{}",
        output.stdout
    );
    assert!(
        notices(output).iter().any(|n| n.contains("allow-forks")),
        "{what}: the notice names the opt-in:\n{}",
        output.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forks_pull_request_is_skipped_in_every_event_with_a_token_and_no_writes() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::with_source();
    github.set_pull(
        2,
        PullState {
            head_repo: Some("mallory/Hello-World".into()),
            ..PullState::default()
        },
    );
    let opened = pull_request("opened", from_fork);
    let gone = pull_request("synchronize", |v| {
        v["pull_request"]["head"]["repo"] = Value::Null;
    });
    let review = payload("pull_request_review", 0, from_fork);
    // An `issue_comment` example is on an issue; this one is on pull request #2, as GitHub
    // marks it: `issue.pull_request` with the pull request's URLs.
    let comment = payload("issue_comment", 0, |v| {
        v["issue"]["number"] = 2.into();
        v["issue"]["pull_request"] = serde_json::json!({
            "url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/2",
            "html_url": "https://github.com/Codertocat/Hello-World/pull/2",
        });
    });
    let closed = pull_request("closed", from_fork);
    let cases = [
        (
            "pull_request_target",
            &opened,
            "a fork under pull_request_target",
        ),
        ("pull_request", &opened, "a fork under pull_request"),
        ("pull_request_target", &gone, "a deleted head repository"),
        (
            "pull_request_review",
            &review,
            "a review of a fork's pull request",
        ),
        (
            "issue_comment",
            &comment,
            "a comment on a fork's pull request",
        ),
        ("pull_request_target", &closed, "a fork's closing"),
    ];
    for (name, payload, what) in cases {
        for preview in ["false", "true"] {
            let env = step(
                &workspace,
                &emulator,
                &github,
                Some((name, payload)),
                &[("preview", preview)],
            );
            let output = run_action(env).await;
            assert_skipped_as_fork(&output, what);
        }
    }
    assert!(
        emulator.request_log().is_empty(),
        "nothing was sent to the Hub: {:?}",
        emulator.request_log()
    );
    assert!(github.writes().is_empty(), "{:?}", github.writes());
    let reads: Vec<String> = github.requests().iter().map(|r| r.path.clone()).collect();
    assert!(
        reads
            .iter()
            .all(|p| p == "/repos/Codertocat/Hello-World/pulls/2"),
        "only the comment's pull request was read: {reads:?}"
    );
    assert!(!reads.is_empty(), "the comment's pull request was read");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn allow_forks_deploys_a_forks_pull_request() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::with_source();
    github.set_pull(
        2,
        PullState {
            head_repo: Some("mallory/Hello-World".into()),
            ..PullState::default()
        },
    );
    let opened = pull_request("opened", from_fork);
    let env = step(
        &workspace,
        &emulator,
        &github,
        Some(("pull_request_target", &opened)),
        &[("allow-forks", "true"), ("preview", "true")],
    );
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let preview = format!("{SPACE}-pr-2");
    assert_eq!(workspace.outputs()["space-id"], preview);
    assert!(space_exists(&emulator, &preview).await);
    assert_eq!(
        variable(&emulator, &preview, "HF_DEPLOY_PREVIEW")
            .await
            .as_deref(),
        Some(mark(2).as_str()),
        "the preview carries its mark"
    );
    assert!(
        github
            .comment_with(&format!("hf-deploy:space={preview}"))
            .is_some()
    );
    // Also for a comment: the head read from the API is deployed.
    let comment = payload("issue_comment", 0, |v| {
        v["issue"]["number"] = 2.into();
        v["issue"]["pull_request"] = serde_json::json!({
            "url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/2",
        });
    });
    let env = step(
        &workspace,
        &emulator,
        &github,
        Some(("issue_comment", &comment)),
        &[("allow-forks", "true"), ("preview", "true")],
    );
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let deployments: Vec<Value> = github
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/deployments"))
        .map(|r| serde_json::from_str(&r.body).expect("JSON"))
        .collect();
    assert_eq!(deployments.len(), 2, "one per run");
    assert!(deployments.iter().all(|d| d["ref"] == HEAD_SHA));
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_marker_comment_by_someone_else_is_ignored() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::with_source();
    let marker = format!("<!-- hf-deploy:space={SPACE} -->");
    // Mallory pastes the marker into a comment of her own, before the first deploy.
    let pasted = format!("I am the deploy report now {marker}");
    let mallory = github.seed_comment_by(2, &pasted, "mallory", 666);
    let opened = pull_request("opened", |_| {});
    let env = step(
        &workspace,
        &emulator,
        &github,
        Some(("pull_request", &opened)),
        &[],
    );

    let output = run_action(env.clone()).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let marked = github.comments_with(2, &marker);
    assert_eq!(marked.len(), 2, "a new comment of our own: {marked:?}");
    let ours = marked[1].0;
    assert_eq!(
        github.comment_author(ours).as_deref(),
        Some(ACTIONS_BOT_LOGIN)
    );
    assert_eq!(
        github.comment_body(mallory).as_deref(),
        Some(pasted.as_str())
    );

    let rerun = run_action(env).await;
    assert_eq!(rerun.code, 0, "{}", rerun.both());
    assert_eq!(
        github.comments_with(2, &marker).len(),
        2,
        "the rerun updates our own comment"
    );
    assert_eq!(
        github.comment_body(mallory).as_deref(),
        Some(pasted.as_str()),
        "mallory's comment is never edited"
    );
    let writes: Vec<String> = github
        .writes()
        .iter()
        .filter(|r| r.path.contains("/comments"))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        writes,
        [
            "/repos/Codertocat/Hello-World/issues/2/comments".to_string(),
            format!("/repos/Codertocat/Hello-World/issues/comments/{ours}"),
        ]
    );

    // A personal token is its user (`GET /user`): alice's own marked comment is hers to edit.
    let alices = github.seed_comment_by(2, &format!("older {marker}"), PERSONAL_LOGIN, PERSONAL_ID);
    let env = step(
        &workspace,
        &emulator,
        &github,
        Some(("pull_request", &opened)),
        &[("github-token", PERSONAL_TOKEN)],
    );
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert_eq!(github.comments_with(2, &marker).len(), 3);
    assert!(
        github
            .comment_body(alices)
            .is_some_and(|b| b.contains("deployed")),
        "alice's comment was updated"
    );
    assert!(github.unmatched().is_empty(), "{:?}", github.unmatched());
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_writes_nothing_to_the_hub_or_to_github() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::with_source();
    let opened = pull_request("opened", |_| {});
    for preview in ["false", "true"] {
        let env = step(
            &workspace,
            &emulator,
            &github,
            Some(("pull_request", &opened)),
            &[("dry-run", "true"), ("preview", preview)],
        );
        let output = run_action(env).await;
        assert_eq!(output.code, 0, "preview {preview}: {}", output.both());
    }
    let push = step(&workspace, &emulator, &github, None, &[("dry-run", "true")]);
    let output = run_action(push).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(
        hub_writes(&emulator).is_empty(),
        "{:?}",
        hub_writes(&emulator)
    );
    assert!(github.writes().is_empty(), "{:?}", github.writes());

    // A closing in a dry run deletes nothing either, though the preview is this PR's.
    let preview = format!("{SPACE}-pr-2");
    create_space(&emulator, &preview, &[("HF_DEPLOY_PREVIEW", &mark(2))]).await;
    let before = hub_writes(&emulator).len();
    let closed = pull_request("closed", |_| {});
    let env = step(
        &workspace,
        &emulator,
        &github,
        Some(("pull_request_target", &closed)),
        &[("dry-run", "true"), ("preview", "true")],
    );
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(
        output.stdout.contains("would be deleted"),
        "{}",
        output.stdout
    );
    assert!(space_exists(&emulator, &preview).await);
    assert_eq!(
        hub_writes(&emulator).len(),
        before,
        "{:?}",
        hub_writes(&emulator)
    );
    assert!(github.writes().is_empty(), "{:?}", github.writes());
    emulator.shutdown().await;
}
