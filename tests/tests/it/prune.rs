//! End-to-end: the sweep of stale previews, `hf-deploy previews prune` and the action's
//! `command: previews-prune`, against the Hub stand-in and the fake GitHub.
//!
//! The stand-in holds previews of an open, a closed and a merged pull request of this
//! repository, one marked for another repository, one without a mark, one carrying another
//! pull request's mark, an old one of an open pull request, and a Space whose name only
//! resembles a preview: only the closed and merged previews of this repository are deleted; a
//! dry run deletes none; `--max-age` also takes the old one; the others are listed as skipped
//! with their reason (or not listed at all), and never touched.

use hf_deploy_tests::fake_github::{FakeGitHub, Mode, PullState};
use hf_deploy_tests::{CliOutput, run_action, run_cli_async, strings};
use hf_hub_emulator::{DEFAULT_WRITE_TOKEN, Emulator};
use serde_json::Value;

use super::events::{
    GITHUB_TOKEN, SPACE, Workspace, create_space, emulator, hub_writes, mark, space_exists, step,
};

const REPO: &str = "Codertocat/Hello-World";

/// The previews of [`SPACE`] by pull request, and what each is.
async fn seed(emulator: &Emulator, github: &FakeGitHub) {
    let closed = PullState {
        open: false,
        ..PullState::default()
    };
    let merged = PullState {
        open: false,
        merged: true,
        ..PullState::default()
    };
    for number in [3, 5, 6, 7] {
        github.set_pull(number, closed.clone());
    }
    github.set_pull(4, merged);
    let preview = |n: u64| format!("{SPACE}-pr-{n}");
    create_space(emulator, SPACE, &[]).await;
    create_space(emulator, &preview(2), &[("HF_DEPLOY_PREVIEW", &mark(2))]).await;
    create_space(emulator, &preview(3), &[("HF_DEPLOY_PREVIEW", &mark(3))]).await;
    create_space(emulator, &preview(4), &[("HF_DEPLOY_PREVIEW", &mark(4))]).await;
    create_space(
        emulator,
        &preview(5),
        &[("HF_DEPLOY_PREVIEW", "someone/else#5")],
    )
    .await;
    create_space(emulator, &preview(6), &[("LOG_LEVEL", "info")]).await;
    create_space(emulator, &preview(7), &[("HF_DEPLOY_PREVIEW", &mark(8))]).await;
    create_space(emulator, &preview(9), &[("HF_DEPLOY_PREVIEW", &mark(9))]).await;
    assert!(emulator.set_last_modified(&preview(9), "2020-01-01T00:00:00.000Z"));
    // Its name only resembles a preview of SPACE (the Hub's search finds it).
    create_space(
        emulator,
        "local/other-events-app-pr-3",
        &[("HF_DEPLOY_PREVIEW", &mark(3))],
    )
    .await;
}

async fn prune(emulator: &Emulator, github: &FakeGitHub, extra: &[&str]) -> CliOutput {
    let mut args = strings(&["previews", "prune", "--space", SPACE, "--repo", REPO]);
    args.extend(strings(extra));
    let env = vec![
        ("HF_ENDPOINT".to_string(), emulator.url()),
        ("HF_TOKEN".to_string(), DEFAULT_WRITE_TOKEN.to_string()),
        ("GITHUB_TOKEN".to_string(), GITHUB_TOKEN.to_string()),
        ("GITHUB_API_URL".to_string(), github.url.clone()),
    ];
    run_cli_async(args, env).await
}

/// `(pr, action)` of every preview of the JSON report.
fn actions(report: &Value) -> Vec<(u64, String)> {
    report["previews"]
        .as_array()
        .expect("previews")
        .iter()
        .map(|p| {
            (
                p["pr"].as_u64().expect("pr"),
                p["action"].as_str().expect("action").to_string(),
            )
        })
        .collect()
}

fn reason(report: &Value, pr: u64) -> String {
    report["previews"]
        .as_array()
        .expect("previews")
        .iter()
        .find(|p| p["pr"] == pr)
        .map(|p| format!("{} {}", p["reason"], p["detail"]))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_closed_previews_of_this_repository_are_deleted() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    seed(&emulator, &github).await;
    let before = hub_writes(&emulator).len();

    // A dry run lists and deletes nothing.
    let dry = prune(&emulator, &github, &["--dry-run", "--json"]).await;
    assert_eq!(dry.code, 0, "{}", dry.both());
    let report = dry.json();
    let expected = |three: &str, nine: &str| -> Vec<(u64, String)> {
        [
            (2, "kept"),
            (3, three),
            (4, three),
            (5, "skipped"),
            (6, "skipped"),
            (7, "skipped"),
            (9, nine),
        ]
        .iter()
        .map(|(n, a)| (*n, a.to_string()))
        .collect()
    };
    assert_eq!(actions(&report), expected("would delete", "kept"));
    assert_eq!(report["dry_run"], true);
    assert!(reason(&report, 5).contains("someone/else#5"), "{report}");
    assert!(reason(&report, 6).contains("no preview mark"), "{report}");
    assert!(reason(&report, 7).contains(&mark(8)), "{report}");
    assert!(reason(&report, 4).contains("merged"), "{report}");
    assert!(report["previews"][0]["age_days"].as_i64().is_some());
    assert_eq!(
        hub_writes(&emulator).len(),
        before,
        "a dry run writes nothing"
    );
    assert!(github.writes().is_empty(), "{:?}", github.writes());

    // The sweep: the closed and the merged preview go, nothing else.
    let swept = prune(&emulator, &github, &[]).await;
    assert_eq!(swept.code, 0, "{}", swept.both());
    assert!(
        swept.stdout.contains("2 previews deleted"),
        "{}",
        swept.stdout
    );
    for (n, exists) in [
        (2, true),
        (3, false),
        (4, false),
        (5, true),
        (6, true),
        (7, true),
        (9, true),
    ] {
        let id = format!("{SPACE}-pr-{n}");
        assert_eq!(space_exists(&emulator, &id).await, exists, "{id}");
    }
    assert!(space_exists(&emulator, SPACE).await);
    assert!(space_exists(&emulator, "local/other-events-app-pr-3").await);
    let writes = hub_writes(&emulator);
    assert_eq!(
        writes.len(),
        before + 2,
        "one delete each (the two above), nothing else written: {writes:#?}"
    );
    assert!(writes[before..].iter().all(|r| r.method == "DELETE"));

    // With a maximum age, the old preview of an open pull request goes too.
    let old = prune(&emulator, &github, &["--max-age", "30", "--json"]).await;
    assert_eq!(old.code, 0, "{}", old.both());
    let report = old.json();
    assert_eq!(
        actions(&report),
        [
            (2, "kept".to_string()),
            (5, "skipped".to_string()),
            (6, "skipped".to_string()),
            (7, "skipped".to_string()),
            (9, "deleted".to_string()),
        ]
    );
    assert!(reason(&report, 9).contains("more than the maximum age of 30"));
    assert!(!space_exists(&emulator, &format!("{SPACE}-pr-9")).await);
    assert!(space_exists(&emulator, &format!("{SPACE}-pr-2")).await);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_sends_nothing() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let env = |github_token: Option<&str>| {
        let mut env = vec![
            ("HF_ENDPOINT".to_string(), emulator.url()),
            ("HF_TOKEN".to_string(), DEFAULT_WRITE_TOKEN.to_string()),
            ("GITHUB_API_URL".to_string(), github.url.clone()),
        ];
        if let Some(token) = github_token {
            env.push(("GITHUB_TOKEN".to_string(), token.to_string()));
        }
        env
    };
    let cases: [(&[&str], Option<&str>, &str); 4] = [
        (&["--space", SPACE, "--repo", REPO], None, "GITHUB_TOKEN"),
        (
            &["--space", SPACE, "--repo", "not-a-repo"],
            Some(GITHUB_TOKEN),
            "--repo",
        ),
        (&["--repo", REPO], Some(GITHUB_TOKEN), "--space"),
        (
            &["--space", "not a space", "--repo", REPO],
            Some(GITHUB_TOKEN),
            "--space",
        ),
    ];
    for (extra, token, named) in cases {
        let mut args = strings(&["previews", "prune"]);
        args.extend(strings(extra));
        let output = run_cli_async(args, env(token)).await;
        assert_eq!(output.code, 2, "{extra:?}: {}", output.both());
        assert!(
            output.stderr.contains(named),
            "{extra:?} names {named}: {}",
            output.stderr
        );
    }
    assert!(emulator.request_log().is_empty(), "nothing sent to the Hub");
    assert!(github.requests().is_empty(), "nothing sent to GitHub");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_action_sweeps_on_command_previews_prune() {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    seed(&emulator, &github).await;
    let workspace = Workspace::without_source();

    let given = [("command", "previews-prune"), ("dry-run", "true")];
    let output = run_action(step(&workspace, &emulator, &github, None, &given)).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let pruned: Value =
        serde_json::from_str(&workspace.outputs()["pruned"]).expect("`pruned` is JSON");
    assert_eq!(
        pruned,
        serde_json::json!([format!("{SPACE}-pr-3"), format!("{SPACE}-pr-4")])
    );
    assert!(space_exists(&emulator, &format!("{SPACE}-pr-3")).await);
    let summary = std::fs::read_to_string(workspace.path("summary.md")).expect("summary");
    assert!(
        summary.contains("dry run") && summary.contains("would delete"),
        "{summary}"
    );

    let given = [("command", "previews-prune"), ("max-age", "30")];
    let output = run_action(step(&workspace, &emulator, &github, None, &given)).await;
    assert_eq!(output.code, 0, "{}", output.both());
    for (n, exists) in [(2, true), (3, false), (4, false), (5, true), (9, false)] {
        let id = format!("{SPACE}-pr-{n}");
        assert_eq!(space_exists(&emulator, &id).await, exists, "{id}");
    }
    assert!(
        output
            .stdout
            .lines()
            .any(|l| l.starts_with("::notice") && l.contains("3 of 7 previews deleted")),
        "{}",
        output.stdout
    );

    // An unknown command is bad input: nothing is sent.
    let before = emulator.request_log().len();
    let given = [("command", "sweep")];
    let output = run_action(step(&workspace, &emulator, &github, None, &given)).await;
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output.stdout.contains("invalid `command`"),
        "{}",
        output.stdout
    );
    assert_eq!(emulator.request_log().len(), before);
    emulator.shutdown().await;
}
