//! End-to-end: deploys at once (issue 16). Eight `hf-deploy deploy` processes push eight
//! different trees to one Space: `main` ends linear with every reported commit on it, each
//! process reports its own commit (its tree) or a clear conflict, and the secret they all set
//! ends with a fingerprint of the value it holds. Eight deploys to eight Spaces at once all
//! succeed. Races lost on purpose (the stand-in's other writer, `Emulator::script_push_races`):
//! a deploy or a rollback that loses fewer than its retries lands on top of the other writer's
//! commits; one that loses them all reports a clear conflict, pushes nothing of its own, leaves
//! no stale fingerprint, and a rerun converges.

use std::collections::BTreeSet;

use argon2::{PasswordHash, PasswordVerifier};
use hf_deploy_tests::{
    CliOutput, commit_count, copy_tree, example_backend, git, hub_env, run_cli_async,
    start_scripted_emulator, strings,
};
use hf_hub_emulator::{DEFAULT_WRITE_TOKEN, Emulator};

const DEPLOYS: usize = 8;

async fn emulator() -> Emulator {
    start_scripted_emulator().await
}

/// A copy of the example backend whose tree is deploy `n`'s own (`app/who.txt`).
fn tree(n: usize) -> tempfile::TempDir {
    let source = copy_tree(&example_backend());
    std::fs::write(source.path().join("app/who.txt"), format!("deploy {n}\n")).unwrap();
    source
}

fn secret_value(n: usize) -> String {
    format!("sk-concurrent-deploy-{n}-0123456789")
}

async fn deploy(emulator: &Emulator, source: &std::path::Path, space: &str, n: usize) -> CliOutput {
    let mut args = strings(&["deploy"]);
    args.push(source.display().to_string());
    args.extend(strings(&["--space", space, "--json", "--timeout", "120"]));
    args.extend(strings(&[
        "--secret",
        &format!("API_KEY={}", secret_value(n)),
    ]));
    args.extend(strings(&["--variable", &format!("WHO=deploy-{n}")]));
    run_cli_async(args, hub_env(emulator, DEFAULT_WRITE_TOKEN)).await
}

/// `app/who.txt` in `commit` of the bare repository.
fn who(dir: &std::path::Path, commit: &str) -> String {
    git(dir, &["show", &format!("{commit}:app/who.txt")])
}

#[tokio::test(flavor = "multi_thread")]
async fn eight_deploys_of_different_trees_to_one_space_end_linear_each_with_its_own_commit() {
    let emulator = emulator().await;
    let space = "local/contended";
    // The Space exists (its creation is not the subject here): one deploy first.
    let seed = tree(99);
    let first = deploy(&emulator, seed.path(), space, 99).await;
    assert_eq!(first.code, 0, "{}", first.both());
    let dir = emulator.space_dir(space).expect("the Space exists");
    let before = commit_count(&dir);

    let sources: Vec<tempfile::TempDir> = (0..DEPLOYS).map(tree).collect();
    let runs = sources
        .iter()
        .enumerate()
        .map(|(n, source)| deploy(&emulator, source.path(), space, n));
    let outputs = futures_util::future::join_all(runs).await;

    let history: Vec<String> = git(&dir, &["rev-list", "main"])
        .lines()
        .map(str::to_string)
        .collect();
    let merges = git(&dir, &["rev-list", "--merges", "main"]);
    assert!(merges.trim().is_empty(), "no merge commit: {merges}");
    let first_parent = git(&dir, &["rev-list", "--first-parent", "main"]);
    assert_eq!(
        first_parent.lines().count(),
        history.len(),
        "a linear history"
    );
    let mut reported = BTreeSet::new();
    let mut conflicts = 0;
    for (n, out) in outputs.iter().enumerate() {
        match out.code {
            0 => {
                let report = out.json();
                let sha = report["commit_sha"].as_str().unwrap().to_string();
                assert!(
                    history.contains(&sha),
                    "deploy {n} exited 0 with commit {sha}, which is not in the history: {history:?}"
                );
                assert_eq!(
                    who(&dir, &sha),
                    format!("deploy {n}\n"),
                    "deploy {n} reported another's tree"
                );
                assert_eq!(report["changed"], true, "{report}");
                assert!(reported.insert(sha), "deploy {n} reported another's commit");
            }
            1 => {
                assert_clear_conflict(out);
                assert!(
                    history.iter().all(|commit| !is_deploy(&dir, commit, n)),
                    "deploy {n} reported a conflict, yet its tree landed"
                );
                conflicts += 1;
            }
            code => panic!("deploy {n} ended with {code}: {}", out.both()),
        }
    }
    let pushes = emulator
        .request_log()
        .iter()
        .filter(|r| r.path.ends_with("/git-receive-pack") && r.method == "POST")
        .count();
    eprintln!(
        "{} of {DEPLOYS} deploys pushed their own commit, {conflicts} reported a conflict; {pushes} pushes in all (more than one per deploy: races lost and retried)",
        reported.len()
    );
    assert_eq!(reported.len() + conflicts, DEPLOYS);
    assert_eq!(
        commit_count(&dir),
        before + reported.len(),
        "one commit per successful deploy, none lost, none doubled"
    );
    assert!(!reported.is_empty(), "at least one deploy lands");

    // Whoever wrote last, the secret's fingerprint is of the value it holds.
    let value = assert_fingerprint_of_its_value(&emulator, space);
    assert!(
        (0..DEPLOYS).any(|n| value == secret_value(n)),
        "the secret holds one deploy's value"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn eight_deploys_to_eight_spaces_at_once_all_succeed() {
    let emulator = emulator().await;
    let sources: Vec<tempfile::TempDir> = (0..DEPLOYS).map(tree).collect();
    let spaces: Vec<String> = (0..DEPLOYS)
        .map(|n| format!("local/parallel-{n}"))
        .collect();
    let runs = sources
        .iter()
        .zip(&spaces)
        .enumerate()
        .map(|(n, (source, space))| deploy(&emulator, source.path(), space, n));
    let outputs = futures_util::future::join_all(runs).await;
    for (n, out) in outputs.iter().enumerate() {
        assert_eq!(out.code, 0, "deploy {n}: {}", out.both());
        let dir = emulator.space_dir(&spaces[n]).expect("the Space exists");
        let sha = out.json()["commit_sha"].as_str().unwrap().to_string();
        assert_eq!(
            git(&dir, &["rev-parse", "main"]).trim(),
            sha,
            "{}",
            spaces[n]
        );
        let deploys = git(&dir, &["log", "--format=%H", "main", "--", "app/who.txt"]);
        assert_eq!(
            deploys.lines().count(),
            1,
            "one deploy commit on {}",
            spaces[n]
        );
        assert_eq!(who(&dir, &sha), format!("deploy {n}\n"));
    }
    emulator.shutdown().await;
}

/// The value of the Space's secret `API_KEY`, after checking that its fingerprint (in its
/// description) is of that value: no secret is left with a stale fingerprint.
fn assert_fingerprint_of_its_value(emulator: &Emulator, space: &str) -> String {
    let settings = emulator
        .space_settings(space)
        .expect("the Space's settings");
    let secret = settings
        .secrets
        .iter()
        .find(|s| s.key == "API_KEY")
        .expect("the secret");
    let description = secret.description.as_deref().unwrap_or_default();
    let phc = description
        .split("hf-deploy:fingerprint ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no fingerprint: {description}"));
    let hash = PasswordHash::new(phc).expect("a fingerprint");
    assert!(
        argon2::Argon2::default()
            .verify_password(secret.value.as_bytes(), &hash)
            .is_ok(),
        "a stale fingerprint: not of the value the secret holds"
    );
    secret.value.clone()
}

/// The Space holds deploy `n`'s secret, with the fingerprint of its value, and its variable.
fn assert_settings_of(emulator: &Emulator, space: &str, n: usize) {
    assert_eq!(
        assert_fingerprint_of_its_value(emulator, space),
        secret_value(n)
    );
    let who = emulator
        .space_settings(space)
        .expect("the Space's settings")
        .variables
        .into_iter()
        .find(|v| v.key == "WHO")
        .map(|v| v.value);
    assert_eq!(who, Some(format!("deploy-{n}")));
}

/// A lost race, as the binary reports it: exit 1, the JSON report's `error` of kind
/// `push_race` saying what moved and how many tries were made, and stderr's hint saying what to
/// do. Returns the number of attempts the message gives.
fn assert_clear_conflict(out: &CliOutput) -> usize {
    assert_eq!(out.code, 1, "{}", out.both());
    let report = out.json();
    assert_eq!(report["error"]["kind"], "push_race", "{report}");
    let message = report["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("another writer kept moving the Space's `main`")
            && message.contains("so this run's commit was not pushed"),
        "not a clear conflict: {message}"
    );
    let attempts = message
        .split("each of ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of attempts: {message}"));
    assert!(
        out.stderr.contains(message) && out.stderr.contains("hint:"),
        "stderr: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("then run again"),
        "the hint says to rerun: {}",
        out.stderr
    );
    attempts
}

/// True when `commit` of the bare repository in `dir` holds deploy `n`'s tree.
fn is_deploy(dir: &std::path::Path, commit: &str, n: usize) -> bool {
    std::process::Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(["show", &format!("{commit}:app/who.txt")])
        .output()
        .is_ok_and(|out| out.status.success() && out.stdout == format!("deploy {n}\n").as_bytes())
}

/// Pushes (receive-pack POSTs) to `space` from the request at `from` on.
fn pushes_since(emulator: &Emulator, space: &str, from: usize) -> usize {
    emulator
        .request_log()
        .iter()
        .skip(from)
        .filter(|r| r.space.as_deref() == Some(space))
        .filter(|r| r.method == "POST" && r.path.ends_with("/git-receive-pack"))
        .count()
}

/// The authors of the commits of `main` after `since`, newest first.
fn authors_since(dir: &std::path::Path, since: &str) -> Vec<String> {
    git(dir, &["log", "--format=%an", &format!("{since}..main")])
        .lines()
        .map(str::to_string)
        .collect()
}

/// `main` has no merge commit and every commit is on its first-parent line.
fn assert_linear(dir: &std::path::Path) {
    let merges = git(dir, &["rev-list", "--merges", "main"]);
    assert!(merges.trim().is_empty(), "no merge commit: {merges}");
    assert_eq!(
        git(dir, &["rev-list", "--first-parent", "main"])
            .lines()
            .count(),
        git(dir, &["rev-list", "main"]).lines().count(),
        "a linear history"
    );
}

/// A Space with one deploy (of tree 99) on it; its bare repository and head.
async fn seeded(emulator: &Emulator, space: &str) -> (std::path::PathBuf, String) {
    let seed = tree(99);
    let first = deploy(emulator, seed.path(), space, 99).await;
    assert_eq!(first.code, 0, "{}", first.both());
    let dir = emulator.space_dir(space).expect("the Space exists");
    let head = git(&dir, &["rev-parse", "main"]).trim().to_string();
    (dir, head)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_push_that_loses_fewer_races_than_its_retries_lands_on_top_of_the_other_writer() {
    let emulator = emulator().await;
    let space = "local/raced";
    let (dir, seed_head) = seeded(&emulator, space).await;
    let races = 3;
    assert!(emulator.script_push_races(space, races));
    let from = emulator.request_log().len();
    let source = tree(1);
    let started = std::time::Instant::now();
    let out = deploy(&emulator, source.path(), space, 1).await;
    eprintln!(
        "a deploy that lost {races} races took {:?}",
        started.elapsed()
    );
    assert_eq!(out.code, 0, "{}", out.both());
    let sha = out.json()["commit_sha"].as_str().unwrap().to_string();
    assert_eq!(git(&dir, &["rev-parse", "main"]).trim(), sha, "ours on top");
    assert!(is_deploy(&dir, &sha, 1), "its own tree");
    assert_linear(&dir);
    // The other writer's commits are kept (nothing forced), under exactly one commit of ours.
    let authors = authors_since(&dir, &seed_head);
    assert_eq!(
        authors,
        ["hf-deploy", "other-writer", "other-writer", "other-writer"],
        "{authors:?}"
    );
    assert_eq!(pushes_since(&emulator, space, from), races as usize + 1);
    assert_settings_of(&emulator, space, 1);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_push_that_loses_every_race_reports_a_clear_conflict_and_a_rerun_converges() {
    let emulator = emulator().await;
    let space = "local/lost";
    let (dir, seed_head) = seeded(&emulator, space).await;
    // More races than any number of retries: every attempt loses.
    assert!(emulator.script_push_races(space, 1000));
    let from = emulator.request_log().len();
    let source = tree(1);
    let started = std::time::Instant::now();
    let lost = deploy(&emulator, source.path(), space, 1).await;
    eprintln!("a deploy that lost every race took {:?}", started.elapsed());
    let attempts = assert_clear_conflict(&lost);
    assert_eq!(
        pushes_since(&emulator, space, from),
        attempts,
        "one push per attempt, as the message counts them"
    );
    let authors = authors_since(&dir, &seed_head);
    assert_eq!(authors.len(), attempts, "{authors:?}");
    assert!(
        authors.iter().all(|a| a == "other-writer"),
        "no commit of ours: {authors:?}"
    );
    assert_linear(&dir);
    let history = git(&dir, &["rev-list", "main"]);
    assert!(history.lines().all(|commit| !is_deploy(&dir, commit, 1)));
    // The settings were written before the push (its build must see them): each with the
    // fingerprint of its value, and the report says they came without the tree.
    let report = lost.json();
    assert_settings_of(&emulator, space, 1);
    assert_eq!(
        report["secrets_set"],
        serde_json::json!(["API_KEY"]),
        "{report}"
    );
    let warned = report["warnings"].as_array().is_some_and(|w| {
        w.iter().any(|w| {
            w.as_str().is_some_and(|w| {
                w.contains("the push failed after this run wrote 2 secret(s) or variable(s)")
            })
        })
    });
    assert!(warned, "{report}");

    // Once the other writer stops, the same deploy converges: one commit of ours on top of
    // theirs, the settings found in place (not written again).
    assert!(emulator.script_push_races(space, 0));
    let rerun = deploy(&emulator, source.path(), space, 1).await;
    assert_eq!(rerun.code, 0, "{}", rerun.both());
    let report = rerun.json();
    let sha = report["commit_sha"].as_str().unwrap();
    assert_eq!(git(&dir, &["rev-parse", "main"]).trim(), sha);
    assert!(is_deploy(&dir, sha, 1));
    assert_eq!(authors_since(&dir, &seed_head).len(), attempts + 1);
    assert_eq!(authors_since(&dir, &seed_head)[0], "hf-deploy");
    assert_eq!(report["secrets_set"], serde_json::json!([]), "{report}");
    assert_eq!(report["variables_set"], serde_json::json!([]), "{report}");
    assert_settings_of(&emulator, space, 1);
    assert_linear(&dir);
    emulator.shutdown().await;
}

/// `hf-deploy rollback --space SPACE --json [--to COMMIT]`.
async fn rollback(emulator: &Emulator, space: &str, to: Option<&str>) -> CliOutput {
    let mut args = strings(&["rollback", "--space", space, "--json", "--timeout", "120"]);
    if let Some(to) = to {
        args.extend(strings(&["--to", to]));
    }
    run_cli_async(args, hub_env(emulator, DEFAULT_WRITE_TOKEN)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_retries_lost_races_then_reports_a_clear_conflict() {
    let emulator = emulator().await;
    let space = "local/rolled";
    let (dir, first) = seeded(&emulator, space).await;
    let source = tree(1);
    let second = deploy(&emulator, source.path(), space, 1).await;
    assert_eq!(second.code, 0, "{}", second.both());
    let second = git(&dir, &["rev-parse", "main"]).trim().to_string();
    let first_tree = git(&dir, &["rev-parse", &format!("{first}^{{tree}}")]);
    let settings = emulator
        .space_settings(space)
        .expect("the Space's settings");

    // Two races lost, then the restore lands on top of the other writer's commits.
    assert!(emulator.script_push_races(space, 2));
    let rolled = rollback(&emulator, space, None).await;
    assert_eq!(rolled.code, 0, "{}", rolled.both());
    let report = rolled.json();
    assert_eq!(report["restored_commit"], first.as_str(), "{report}");
    let head = git(&dir, &["rev-parse", "main"]).trim().to_string();
    assert_eq!(report["commit_sha"], head.as_str(), "{report}");
    assert_eq!(
        git(&dir, &["rev-parse", &format!("{head}^{{tree}}")]),
        first_tree,
        "the first deploy's tree, back"
    );
    assert_eq!(
        authors_since(&dir, &second),
        ["hf-deploy", "other-writer", "other-writer"]
    );
    assert_linear(&dir);

    // Every race lost (putting the second deploy back): a clear conflict, nothing of ours pushed.
    assert!(emulator.script_push_races(space, 1000));
    let from = emulator.request_log().len();
    let lost = rollback(&emulator, space, Some(&second)).await;
    let attempts = assert_clear_conflict(&lost);
    assert_eq!(pushes_since(&emulator, space, from), attempts);
    let authors = authors_since(&dir, &head);
    assert_eq!(authors.len(), attempts, "{authors:?}");
    assert!(authors.iter().all(|a| a == "other-writer"), "{authors:?}");
    assert_linear(&dir);
    // A rollback leaves the settings alone (a secret written again would have a new salt).
    assert_eq!(emulator.space_settings(space), Some(settings));
    assert_settings_of(&emulator, space, 1);
    emulator.shutdown().await;
}
