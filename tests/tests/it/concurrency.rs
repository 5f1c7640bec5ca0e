//! End-to-end: deploys at once (issue 16). Eight `hf-deploy deploy` processes push eight
//! different trees to one Space: `main` ends linear with every reported commit on it, each
//! process reports its own commit (its tree) or a clear conflict, and the secret they all set
//! ends with a fingerprint of the value it holds. Eight deploys to eight Spaces at once all
//! succeed.

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
                    "deploy {n}'s commit {sha} was lost: {history:?}"
                );
                assert_eq!(
                    who(&dir, &sha),
                    format!("deploy {n}\n"),
                    "deploy {n} reported another's tree"
                );
                assert_eq!(report["changed"], true, "{report}");
                reported.insert(sha);
            }
            1 => {
                let message = out.json()["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                assert!(
                    message.contains("kept changing"),
                    "deploy {n}: not a clear conflict: {}",
                    out.both()
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
    assert!(
        (0..DEPLOYS).any(|n| secret.value == secret_value(n)),
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
