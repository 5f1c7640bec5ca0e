//! End-to-end: the Space's history and rollbacks, against the stand-in. `history` lists the
//! deploys with the source commits of their trailers; `rollback` pushes an earlier deploy's tree
//! as exactly one new commit, verifies it and leaves secrets alone; a bad `--to` writes nothing;
//! `--rollback-on-failure` (and the action's `rollback-on-failure`) puts the previous tree back
//! after a build that fails and after an app that crashes at start, and the run still fails.

use std::path::Path;

use hf_deploy_tests::fake_github::{FakeGitHub, Mode};
use hf_deploy_tests::{
    CliOutput, copy_tree, example_backend, git, hub_env, run_action, run_cli_async,
    runner_read_outputs, strings,
};
use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, LoggedRequest, Runner, ScriptedApp,
    ScriptedResponse, ScriptedRoute, ScriptedRunner,
};

use super::action::{Workspace, base_inputs, runner_env};

const HEALTHY: &str = r#"{"status":"healthy","services":{"fastapi":"ok"}}"#;
const GEMINI: &str = "AIzaSy-rollback-gemini-key-0123456789";
const SOURCE_1: &str = "1111111111111111111111111111111111111111";
const SOURCE_2: &str = "2222222222222222222222222222222222222222";
const SOURCE_3: &str = "3333333333333333333333333333333333333333";

/// A stand-in whose Spaces build and run a healthy app (that lets the action tests' frontend in).
async fn emulator() -> Emulator {
    let app = ScriptedApp::new()
        .route(ScriptedRoute::get("/api/health").then(ScriptedResponse::json(200, HEALTHY)))
        .cors_origin("https://book.example.com");
    Emulator::start(EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running().app(app)),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the Hub stand-in starts")
}

/// `hf-deploy ARGS` against `emulator`, as the runner at source commit `sha` would run it.
async fn cli(emulator: &Emulator, args: &[&str], sha: Option<&str>) -> CliOutput {
    let mut env = hub_env(emulator, DEFAULT_WRITE_TOKEN);
    if let Some(sha) = sha {
        env.push(("GITHUB_SHA".into(), sha.into()));
    }
    run_cli_async(strings(args), env).await
}

/// Deploy `source` to `space` at source commit `sha`, with one secret, plus `extra` flags.
async fn deploy(
    emulator: &Emulator,
    source: &Path,
    space: &str,
    sha: &str,
    extra: &[&str],
) -> CliOutput {
    let source = source.display().to_string();
    let secret = format!("GEMINI_API_KEY={GEMINI}");
    let mut args = vec!["deploy", &source, "--space", space, "--timeout", "120"];
    args.extend(["--secret", &secret]);
    args.extend(extra);
    cli(emulator, &args, Some(sha)).await
}

/// `git -C <the Space's repository> ARGS`, trimmed.
fn space_git(emulator: &Emulator, space: &str, args: &[&str]) -> String {
    let dir = emulator.space_dir(space).expect("the Space exists");
    git(&dir, args).trim().to_string()
}

fn tree_of(emulator: &Emulator, space: &str, commit: &str) -> String {
    space_git(
        emulator,
        space,
        &["rev-parse", &format!("{commit}^{{tree}}")],
    )
}

fn commits(emulator: &Emulator, space: &str) -> usize {
    space_git(emulator, space, &["rev-list", "--count", "main"])
        .parse()
        .expect("a count")
}

/// The requests from `from` on that change something: every API call but GET/HEAD, and git
/// pushes (a fetch is a POST to `git-upload-pack` and reads only).
fn writes_since(emulator: &Emulator, from: usize) -> Vec<LoggedRequest> {
    emulator
        .request_log()
        .into_iter()
        .skip(from)
        .filter(|r| !r.app)
        .filter(|r| !matches!(r.method.as_str(), "GET" | "HEAD"))
        .filter(|r| !r.path.ends_with("/git-upload-pack"))
        .collect()
}

/// The Space's secrets as the Hub lists them (names, fingerprints in the descriptions).
async fn secrets(emulator: &Emulator, space: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{}/api/spaces/{space}/secrets", emulator.url()))
        .bearer_auth(DEFAULT_WRITE_TOKEN)
        .send()
        .await
        .expect("list the secrets")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn history_lists_deploys_and_a_rollback_restores_the_earlier_tree_as_one_verified_commit() {
    let emulator = emulator().await;
    let source = copy_tree(&example_backend());
    let space = "local/roll-back";
    let first = deploy(&emulator, source.path(), space, SOURCE_1, &["--json"]).await;
    assert_eq!(first.code, 0, "{}", first.both());
    let first_commit = first.json()["commit_sha"].as_str().unwrap().to_string();
    std::fs::write(source.path().join("CHANGES.md"), "revision 2\n").unwrap();
    let second = deploy(&emulator, source.path(), space, SOURCE_2, &["--json"]).await;
    assert_eq!(second.code, 0, "{}", second.both());
    let second_commit = second.json()["commit_sha"].as_str().unwrap().to_string();
    assert!(
        space_git(&emulator, space, &["log", "-1", "--format=%B"])
            .contains(&format!("Hf-Deploy-Source: {SOURCE_2}")),
        "the pushed commit names its source commit in a trailer"
    );

    // History: newest first, each deploy with its source commit.
    let history = cli(&emulator, &["history", "--space", space, "--json"], None).await;
    assert_eq!(history.code, 0, "{}", history.both());
    let json = history.json();
    let deploys = json["deploys"].as_array().unwrap();
    assert_eq!(deploys[0]["commit"], second_commit.as_str(), "{json}");
    assert_eq!(deploys[0]["source_commit"], SOURCE_2, "{json}");
    assert_eq!(deploys[0]["current"], true, "{json}");
    assert_eq!(deploys[1]["commit"], first_commit.as_str(), "{json}");
    assert_eq!(deploys[1]["source_commit"], SOURCE_1, "{json}");
    assert!(
        deploys[..2]
            .iter()
            .all(|d| d["by_hf_deploy"] == true && d["healthy"].is_null()),
        "{json}"
    );
    let text = cli(&emulator, &["history", "--space", space], None).await;
    assert_eq!(text.code, 0, "{}", text.both());
    assert!(
        text.stdout.contains(&second_commit[..7]) && text.stdout.contains(&SOURCE_1[..7]),
        "{}",
        text.stdout
    );

    // A bad `--to` names the flag, exits 2 and writes nothing.
    let fingerprints = secrets(&emulator, space).await;
    let before = emulator.request_log().len();
    for bad in ["main", "0123456789abcdef0123456789abcdef01234567"] {
        let refused = cli(
            &emulator,
            &["rollback", "--space", space, "--to", bad],
            None,
        )
        .await;
        assert_eq!(refused.code, 2, "{bad}: {}", refused.both());
        assert!(refused.stderr.contains("--to"), "{bad}: {}", refused.stderr);
    }
    assert!(writes_since(&emulator, before).is_empty());
    let count = commits(&emulator, space);

    // The rollback: the first deploy's tree, as one new commit on top, verified.
    let rolled = cli(&emulator, &["rollback", "--space", space, "--json"], None).await;
    assert_eq!(rolled.code, 0, "{}", rolled.both());
    let report = rolled.json();
    assert_eq!(report["rolled_back"], true, "{report}");
    assert_eq!(report["restored_commit"], first_commit.as_str(), "{report}");
    assert_eq!(report["health"]["status"], "healthy", "{report}");
    assert_eq!(report["stage"], "RUNNING", "{report}");
    assert_eq!(
        commits(&emulator, space),
        count + 1,
        "exactly one new commit"
    );
    let head = space_git(&emulator, space, &["rev-parse", "main"]);
    assert_eq!(report["commit_sha"], head.as_str(), "{report}");
    assert_eq!(
        space_git(&emulator, space, &["rev-parse", "main^"]),
        second_commit
    );
    assert_eq!(
        tree_of(&emulator, space, "main"),
        tree_of(&emulator, space, &first_commit)
    );
    let writes = writes_since(&emulator, before);
    assert!(
        !writes
            .iter()
            .any(|r| r.path.contains("/secrets") || r.path.contains("/variables")),
        "a rollback writes no secret or variable: {writes:#?}"
    );
    assert_eq!(secrets(&emulator, space).await, fingerprints);

    // The history shows the rollback's commit restoring the first deploy.
    let after = cli(&emulator, &["history", "--space", space, "--json"], None).await;
    let json = after.json();
    assert_eq!(
        json["deploys"][0]["restores"],
        first_commit.as_str(),
        "{json}"
    );
    assert_eq!(json["deploys"][0]["source_commit"], SOURCE_1, "{json}");
    emulator.shutdown().await;
}

/// Deploy a first revision, then a second whose build follows `failing`, with rollback on
/// failure: the first tree is back and running, and the run failed.
async fn failed_revision_is_rolled_back(space: &str, failing: ScriptedRunner, kind: &str) {
    let emulator = emulator().await;
    let source = copy_tree(&example_backend());
    let first = deploy(&emulator, source.path(), space, SOURCE_1, &["--json"]).await;
    assert_eq!(first.code, 0, "{}", first.both());
    let first_commit = first.json()["commit_sha"].as_str().unwrap().to_string();
    let count = commits(&emulator, space);
    assert!(emulator.script_next_build(space, failing));
    std::fs::write(source.path().join("CHANGES.md"), "broken revision\n").unwrap();
    let args = ["--rollback-on-failure", "--json"];
    let failed = deploy(&emulator, source.path(), space, SOURCE_3, &args).await;
    assert_eq!(failed.code, 1, "{}", failed.both());
    let report = failed.json();
    assert_eq!(report["error"]["kind"], kind, "{report}");
    assert_eq!(report["rolled_back"], true, "{report}");
    assert_eq!(report["restored_commit"], first_commit.as_str(), "{report}");
    assert!(
        report["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().starts_with("production restored")),
        "{report}"
    );
    assert_eq!(
        commits(&emulator, space),
        count + 2,
        "the deploy, then the restore"
    );
    assert_eq!(
        tree_of(&emulator, space, "main"),
        tree_of(&emulator, space, &first_commit)
    );
    assert_eq!(emulator.space_stage(space).as_deref(), Some("RUNNING"));
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_build_that_fails_is_rolled_back_and_the_deploy_still_fails() {
    failed_revision_is_rolled_back(
        "local/roll-build",
        ScriptedRunner::build_fails(),
        "space_failed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_that_crashes_at_start_is_rolled_back_and_the_deploy_still_fails() {
    let crash = ScriptedRunner::failing("RUNTIME_ERROR").run_log("Traceback: the app exited");
    failed_revision_is_rolled_back("local/roll-crash", crash, "space_failed").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_previous_revision_nothing_is_restored_and_the_text_says_so() {
    let emulator = Emulator::start(EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::build_fails()),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the Hub stand-in starts");
    let source = copy_tree(&example_backend());
    let space = "local/roll-new";
    let failed = deploy(
        &emulator,
        source.path(),
        space,
        SOURCE_1,
        &["--rollback-on-failure"],
    )
    .await;
    assert_eq!(failed.code, 1, "{}", failed.both());
    assert!(
        failed
            .stderr
            .contains("nothing to restore, the Space had no earlier revision"),
        "{}",
        failed.both()
    );
    assert!(
        !failed.stdout.contains("production restored"),
        "{}",
        failed.stdout
    );
    assert_eq!(
        space_git(&emulator, space, &["log", "-1", "--format=%s"]),
        format!("Deploy {SOURCE_1} with hf-deploy")
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_action_restores_production_after_a_crash_and_says_so_everywhere() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::new();
    let space = "local/action-app";
    let mut env = runner_env(&workspace, &emulator, &github, None);
    env.extend(base_inputs(&[]));
    let first = run_action(env).await;
    assert_eq!(first.code, 0, "{}", first.both());
    let first_commit = space_git(&emulator, space, &["rev-parse", "main"]);

    assert!(emulator.script_next_build(space, ScriptedRunner::failing("RUNTIME_ERROR")));
    std::fs::write(workspace.path("backend/CHANGES.md"), "crashing revision\n").unwrap();
    let event = workspace.event("opened");
    let mut env = runner_env(&workspace, &emulator, &github, Some(&event));
    env.extend(base_inputs(&[("rollback-on-failure", "true".into())]));
    let failed = run_action(env).await;
    assert_eq!(failed.code, 1, "{}", failed.both());
    let text = std::fs::read_to_string(workspace.path("output.txt")).unwrap();
    let outputs = runner_read_outputs(&text).expect("the runner reads the outputs");
    assert_eq!(outputs["rolled-back"], "true", "{outputs:?}");
    assert_eq!(
        outputs["stage"], "RUNTIME_ERROR",
        "what failed: {outputs:?}"
    );
    assert_eq!(
        tree_of(&emulator, space, "main"),
        tree_of(&emulator, space, &first_commit)
    );
    assert_eq!(emulator.space_stage(space).as_deref(), Some("RUNNING"));
    let summary = std::fs::read_to_string(workspace.path("summary.md")).unwrap();
    for text in [
        summary,
        github
            .comment_with("hf-deploy:space=local/action-app")
            .unwrap(),
    ] {
        assert!(text.contains("Deploy of"), "what failed: {text}");
        assert!(text.contains("Production was restored"), "{text}");
        assert!(text.contains(&first_commit[..7]), "{text}");
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_action_command_rollback_restores_the_deploy_before_the_head() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::new();
    let space = "local/action-app";
    let run = |extra: Vec<(&'static str, String)>| {
        let mut env = runner_env(&workspace, &emulator, &github, None);
        env.extend(base_inputs(&extra));
        run_action(env)
    };
    let first = run(Vec::new()).await;
    assert_eq!(first.code, 0, "{}", first.both());
    let first_commit = space_git(&emulator, space, &["rev-parse", "main"]);
    std::fs::write(workspace.path("backend/CHANGES.md"), "revision 2\n").unwrap();
    assert_eq!(run(Vec::new()).await.code, 0);
    let count = commits(&emulator, space);
    let rolled = run(vec![("command", "rollback".into())]).await;
    assert_eq!(rolled.code, 0, "{}", rolled.both());
    let text = std::fs::read_to_string(workspace.path("output.txt")).unwrap();
    let outputs = runner_read_outputs(&text).expect("the runner reads the outputs");
    assert_eq!(outputs["rolled-back"], "true", "{outputs:?}");
    assert_eq!(commits(&emulator, space), count + 1);
    assert_eq!(
        tree_of(&emulator, space, "main"),
        tree_of(&emulator, space, &first_commit)
    );
    emulator.shutdown().await;
}
