//! End-to-end: previews that never linger and never take what is not theirs. `hf-deploy
//! action` with `preview: true` on real `pull_request` payloads (`@octokit/webhooks-examples`,
//! edited only where a test needs a field), against the Hub stand-in and the fake GitHub.
//!
//! - a closing deletes the preview without the source folder (no checkout) and when the source
//!   no longer scaffolds;
//! - only a Space that carries this repository's and this pull request's preview mark is
//!   deleted; any other is left in place with a warning;
//! - a pull request closed by the time the run starts gets no preview;
//! - `preview-label` gates previews, and taking the label off deletes the preview;
//! - `github-deployment: false` records no deployment; closing deactivates only its own
//!   preview's deployments; a job whose `environment:` GitHub records gets no second one.

use hf_deploy_tests::fake_github::{FakeGitHub, Mode, PullState};
use hf_deploy_tests::run_action;
use hf_hub_emulator::DEFAULT_WRITE_TOKEN;
use serde_json::Value;

use super::events::{
    GITHUB_TOKEN, MERGE_SHA, RUN_ID, SPACE, Workspace, create_space, emulator, hub_writes, mark,
    notices, number, pull_request, space_exists, step, variable, warnings,
};

/// Only the Space and the tokens: what a closing job needs.
fn closing_inputs() -> Vec<(String, String)> {
    hf_deploy_tests::action_inputs(&[
        ("hf-token", DEFAULT_WRITE_TOKEN),
        ("space", SPACE),
        ("preview", "true"),
        ("github-token", GITHUB_TOKEN),
    ])
}

/// [`step`]'s runner variables with only [`closing_inputs`]: no `secrets`, no source.
fn closing_step(
    workspace: &Workspace,
    emulator: &hf_hub_emulator::Emulator,
    github: &FakeGitHub,
    payload: &Value,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = step(
        workspace,
        emulator,
        github,
        Some(("pull_request_target", payload)),
        &[],
    )
    .into_iter()
    .filter(|(k, _)| !k.starts_with("INPUT_"))
    .collect();
    env.extend(closing_inputs());
    env
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closing_deletes_its_preview_without_the_source() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;

    // Pull request 2's preview, deployed by the action.
    let workspace = Workspace::with_source();
    let opened = pull_request("opened", |_| {});
    let env = step(
        &workspace,
        &emulator,
        &github,
        Some(("pull_request", &opened)),
        &[("preview", "true")],
    );
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let preview = format!("{SPACE}-pr-2");
    assert_eq!(
        variable(&emulator, &preview, "HF_DEPLOY_PREVIEW")
            .await
            .as_deref(),
        Some(mark(2).as_str())
    );
    let log = emulator.request_log();
    assert_eq!(
        log.iter().filter(|r| r.path == "/api/repos/create").count(),
        1
    );
    assert!(
        !log.iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/variables")),
        "the mark came with the create call, not a variable write of its own: {log:?}"
    );

    // Closed under `pull_request_target: [closed]` with no checkout at all.
    let bare = Workspace::without_source();
    let closed = pull_request("closed", |_| {});
    let output = run_action(closing_step(&bare, &emulator, &github, &closed)).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(
        !space_exists(&emulator, &preview).await,
        "{}",
        output.stdout
    );
    assert_eq!(bare.outputs()["stage"], "DELETED");
    let comment = github
        .comment_with(&format!("hf-deploy:space={preview}"))
        .expect("the comment");
    assert!(comment.contains("preview deleted"), "{comment}");
    assert_eq!(github.comment_count(2), 1, "the same comment, updated");

    // Pull request 5's preview; its source no longer scaffolds when it closes.
    let preview5 = format!("{SPACE}-pr-5");
    create_space(&emulator, &preview5, &[("HF_DEPLOY_PREVIEW", &mark(5))]).await;
    let broken = Workspace::without_source();
    std::fs::create_dir_all(broken.path("backend")).unwrap();
    std::fs::write(broken.path("backend/README.md"), "no app here\n").unwrap();
    let closed5 = pull_request("closed", |v| number(v, 5));
    let env = step(
        &broken,
        &emulator,
        &github,
        Some(("pull_request_target", &closed5)),
        &[("preview", "true")],
    );
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(
        !space_exists(&emulator, &preview5).await,
        "{}",
        output.stdout
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closing_leaves_a_space_without_its_mark_in_place() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::without_source();
    let preview = format!("{SPACE}-pr-2");
    let closed = pull_request("closed", |_| {});

    // A pull request that never had a preview: nothing to delete, and no comment to say so.
    let never = pull_request("closed", |v| number(v, 9));
    let output = run_action(closing_step(&workspace, &emulator, &github, &never)).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert_eq!(github.comment_count(9), 0);
    assert!(github.writes().is_empty(), "{:?}", github.writes());
    assert!(hub_writes(&emulator).is_empty());

    // A Space of the preview's name that the action did not make: no mark.
    create_space(&emulator, &preview, &[("LOG_LEVEL", "info")]).await;
    let output = run_action(closing_step(&workspace, &emulator, &github, &closed)).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(space_exists(&emulator, &preview).await);
    assert!(
        warnings(&output)
            .iter()
            .any(|w| w.contains("no preview mark") && w.contains("left alone")),
        "{}",
        output.stdout
    );
    let comment = github
        .comment_with(&format!("hf-deploy:space={preview}"))
        .expect("the comment says so");
    assert!(comment.contains("left in place"), "{comment}");
    assert_eq!(workspace.outputs()["stage"], "", "not deleted");

    // Another repository's mark, then another pull request's mark: left in place too.
    for other in ["someone/else#2", "Codertocat/Hello-World#3"] {
        set_variable(&emulator, &preview, "HF_DEPLOY_PREVIEW", other).await;
        let output = run_action(closing_step(&workspace, &emulator, &github, &closed)).await;
        assert_eq!(output.code, 0, "{}", output.both());
        assert!(space_exists(&emulator, &preview).await, "{other}");
        assert!(
            warnings(&output)
                .iter()
                .any(|w| w.contains(other) && w.contains("left alone")),
            "{other}: {}",
            output.stdout
        );
    }
    let deletes = |emulator: &hf_hub_emulator::Emulator| {
        hub_writes(emulator)
            .iter()
            .filter(|r| r.method == "DELETE")
            .count()
    };
    assert_eq!(deletes(&emulator), 0);

    // This pull request's mark: deleted.
    set_variable(&emulator, &preview, "HF_DEPLOY_PREVIEW", &mark(2)).await;
    let output = run_action(closing_step(&workspace, &emulator, &github, &closed)).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(!space_exists(&emulator, &preview).await);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preview_deploy_refuses_a_space_marked_for_another_pull_request() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::with_source();
    let preview = format!("{SPACE}-pr-2");
    create_space(
        &emulator,
        &preview,
        &[("HF_DEPLOY_PREVIEW", "someone/else#2")],
    )
    .await;
    let before = hub_writes(&emulator).len();
    let opened = pull_request("opened", |_| {});
    let env = step(
        &workspace,
        &emulator,
        &github,
        Some(("pull_request", &opened)),
        &[("preview", "true")],
    );
    let output = run_action(env).await;
    assert_eq!(output.code, 1, "{}", output.both());
    assert!(output.stdout.contains("::error"), "{}", output.stdout);
    assert!(
        output.stderr.contains("someone/else#2"),
        "{}",
        output.both()
    );
    assert_eq!(hub_writes(&emulator).len(), before, "nothing written");
    assert_eq!(
        variable(&emulator, &preview, "HF_DEPLOY_PREVIEW")
            .await
            .as_deref(),
        Some("someone/else#2")
    );
    assert!(github.writes().is_empty(), "{:?}", github.writes());
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pull_request_closed_by_the_time_the_run_starts_gets_no_preview() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::with_source();
    github.set_pull(
        2,
        PullState {
            open: false,
            merged: true,
            ..PullState::default()
        },
    );
    // The payload says `synchronize` (open); the API says merged.
    let late = pull_request("synchronize", |_| {});
    let env = step(
        &workspace,
        &emulator,
        &github,
        Some(("pull_request", &late)),
        &[("preview", "true")],
    );
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(
        notices(&output).iter().any(|n| n.contains("merged")),
        "{}",
        output.stdout
    );
    assert!(
        emulator.request_log().is_empty(),
        "{:?}",
        emulator.request_log()
    );
    assert!(github.writes().is_empty(), "{:?}", github.writes());
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preview_label_gates_the_preview_and_its_removal_deletes_it() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::with_source();
    let preview = format!("{SPACE}-pr-2");
    let label = [("preview", "true"), ("preview-label", "bug")];

    // Opened without the label: no preview.
    let opened = pull_request("opened", |v| {
        v["pull_request"]["labels"] = serde_json::json!([]);
    });
    let env = step(
        &workspace,
        &emulator,
        &github,
        Some(("pull_request", &opened)),
        &label,
    );
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(
        notices(&output).iter().any(|n| n.contains("`bug`")),
        "{}",
        output.stdout
    );
    assert!(emulator.request_log().is_empty());

    // Labeled `bug` (the example's label): deployed.
    github.set_pull(
        2,
        PullState {
            labels: vec!["bug".into()],
            ..PullState::default()
        },
    );
    let labeled = pull_request("labeled", |_| {});
    assert_eq!(labeled["label"]["name"], "bug");
    let env = step(
        &workspace,
        &emulator,
        &github,
        Some(("pull_request", &labeled)),
        &label,
    );
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(space_exists(&emulator, &preview).await);

    // A re-run of the first `opened` (its payload without the label): the API's labels count.
    let mut env = step(
        &workspace,
        &emulator,
        &github,
        Some(("pull_request", &opened)),
        &label,
    );
    env.retain(|(k, _)| k != "GITHUB_RUN_ATTEMPT");
    env.push(("GITHUB_RUN_ATTEMPT".into(), "2".into()));
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(
        output.stdout.contains("is live at"),
        "redeployed: {}",
        output.stdout
    );

    // The label is taken off: the preview is deleted (the payload's labels are after the change).
    github.set_pull(2, PullState::default());
    let unlabeled = pull_request("unlabeled", |v| {
        v["pull_request"]["labels"] = serde_json::json!([]);
    });
    assert_eq!(unlabeled["label"]["name"], "bug");
    let bare = Workspace::without_source();
    let env = step(
        &bare,
        &emulator,
        &github,
        Some(("pull_request", &unlabeled)),
        &label,
    );
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(
        !space_exists(&emulator, &preview).await,
        "{}",
        output.stdout
    );
    let comment = github
        .comment_with(&format!("hf-deploy:space={preview}"))
        .expect("the comment");
    assert!(comment.contains("lost the label `bug`"), "{comment}");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn github_deployment_false_records_no_deployment() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::with_source();
    let opened = pull_request("opened", |_| {});
    let env = step(
        &workspace,
        &emulator,
        &github,
        Some(("pull_request", &opened)),
        &[("github-deployment", "false")],
    );
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let push = step(
        &workspace,
        &emulator,
        &github,
        None,
        &[("github-deployment", "false")],
    );
    let output = run_action(push).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(
        !github
            .requests()
            .iter()
            .any(|r| r.path.contains("/deployments")),
        "{:?}",
        github.requests()
    );
    assert!(
        github.comment_with("hf-deploy:space=").is_some(),
        "still comments"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn closing_deactivates_only_its_own_previews_deployments() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::with_source();
    // Both previews in one shared environment, the hard case.
    let shared = [("preview", "true"), ("environment", "previews")];
    for n in [2, 3] {
        let opened = pull_request("opened", |v| number(v, n));
        let env = step(
            &workspace,
            &emulator,
            &github,
            Some(("pull_request", &opened)),
            &shared,
        );
        let output = run_action(env).await;
        assert_eq!(output.code, 0, "{}", output.both());
    }
    assert_eq!(github.deployment_environments(), ["previews", "previews"]);
    let ids = github.deployments_in("previews");
    let closed = pull_request("closed", |_| {});
    let mut env = closing_step(&workspace, &emulator, &github, &closed);
    env.retain(|(k, _)| k != "INPUT_ENVIRONMENT");
    env.push(("INPUT_ENVIRONMENT".into(), "previews".into()));
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let inactive = github.statuses_with_state("inactive");
    assert_eq!(inactive, [ids[0]], "only pull request 2's deployment");
    assert!(space_exists(&emulator, &format!("{SPACE}-pr-3")).await);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_that_github_records_as_a_deployment_gets_no_second_one() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::with_source();
    github.seed_job_deployment(MERGE_SHA, "production", RUN_ID);
    let push = step(&workspace, &emulator, &github, None, &[]);
    let output = run_action(push).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(
        notices(&output).iter().any(
            |n| n.contains("environment: production") && n.contains("github-deployment: false")
        ),
        "{}",
        output.stdout
    );
    assert!(
        !github
            .writes()
            .iter()
            .any(|r| r.path.contains("/deployments")),
        "{:?}",
        github.writes()
    );
    emulator.shutdown().await;
}

/// Set variable `key` of Space `id` on the stand-in.
async fn set_variable(emulator: &hf_hub_emulator::Emulator, id: &str, key: &str, value: &str) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/spaces/{id}/variables", emulator.url()))
        .bearer_auth(DEFAULT_WRITE_TOKEN)
        .json(&serde_json::json!({"key": key, "value": value}))
        .send()
        .await
        .expect("set variable");
    assert!(response.status().is_success());
}
