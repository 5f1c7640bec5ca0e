//! End-to-end: `hf-deploy plan --matrix [--changed-since REF]` in a real git repository made
//! here with several commits, and the action's `command: plan` setting the `matrix` output.

use std::path::Path;
use std::process::Command;

use hf_deploy_tests::{CliOutput, action_inputs, hf_deploy_bin, run_action, runner_read_outputs};

const FILE: &str = r#"
[[space]]
space = "alice/chat"
source = "services/chat"

[[space]]
space = "alice/search"
source = "services/search"
title = "Search"
"#;

/// A repository with two source folders and the file, committed once.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for service in ["chat", "search"] {
        let folder = dir.path().join("services").join(service);
        std::fs::create_dir_all(folder.join("app")).expect("folders");
        std::fs::write(folder.join("requirements.txt"), "fastapi\n").expect("requirements");
        std::fs::write(folder.join("app/main.py"), "app = None\n").expect("app");
    }
    std::fs::write(dir.path().join("README.md"), "two backends\n").expect("readme");
    std::fs::write(dir.path().join("hf-deploy.toml"), FILE).expect("file");
    git(dir.path(), &["init", "-q", "-b", "main"]);
    commit(dir.path(), "first");
    dir
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .output()
        .expect("git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn commit(dir: &Path, message: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

fn plan(dir: &Path, extra: &[&str]) -> CliOutput {
    let output = Command::new(hf_deploy_bin())
        .args(["plan", "--matrix"])
        .args(extra)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .output()
        .expect("run hf-deploy");
    CliOutput::from(output)
}

/// The Spaces of the matrix printed by `plan --matrix`.
fn spaces(output: &CliOutput) -> Vec<String> {
    assert_eq!(output.code, 0, "{}", output.both());
    let matrix: serde_json::Value =
        serde_json::from_str(output.stdout.trim()).expect("one JSON line");
    assert_eq!(output.stdout.trim().lines().count(), 1, "one line");
    matrix["include"]
        .as_array()
        .expect("include")
        .iter()
        .map(|item| item["space"].as_str().expect("space").to_string())
        .collect()
}

#[test]
fn the_matrix_holds_every_space_or_those_changed() {
    let repo = repository();
    let dir = repo.path();
    let output = plan(dir, &[]);
    assert_eq!(
        output.stdout.trim(),
        r#"{"include":[{"space":"alice/chat","source":"services/chat","name":"chat"},{"space":"alice/search","source":"services/search","name":"search"}]}"#
    );
    let first = git(dir, &["rev-parse", "HEAD"]);
    assert!(
        spaces(&plan(dir, &["--changed-since", "HEAD"])).is_empty(),
        "nothing changed"
    );

    // A file under one source: that Space only. A file elsewhere: none.
    std::fs::write(dir.join("services/chat/app/main.py"), "app = 1\n").expect("edit");
    std::fs::write(dir.join("README.md"), "edited\n").expect("edit");
    let second = commit(dir, "chat changed");
    assert_eq!(
        spaces(&plan(dir, &["--changed-since", &first])),
        ["alice/chat"]
    );

    // The other entry's table changed: that Space.
    std::fs::write(
        dir.join("hf-deploy.toml"),
        FILE.replace("title = \"Search\"", "title = \"Find\""),
    )
    .expect("edit");
    commit(dir, "search entry changed");
    assert_eq!(
        spaces(&plan(dir, &["--changed-since", &second])),
        ["alice/search"]
    );
    assert_eq!(
        spaces(&plan(dir, &["--changed-since", &first])),
        ["alice/chat", "alice/search"]
    );
    // Comments and layout alone change no entry.
    let third = git(dir, &["rev-parse", "HEAD"]);
    let text = std::fs::read_to_string(dir.join("hf-deploy.toml")).expect("read");
    std::fs::write(dir.join("hf-deploy.toml"), format!("# the Spaces\n{text}")).expect("edit");
    commit(dir, "a comment");
    assert!(spaces(&plan(dir, &["--changed-since", &third])).is_empty());

    // GitHub's `before` of a new branch (forty zeros): every Space.
    let zeros = "0".repeat(40);
    assert_eq!(spaces(&plan(dir, &["--changed-since", &zeros])).len(), 2);

    // A revision the clone does not have: exit 2 naming the flag.
    let output = plan(dir, &["--changed-since", "no-such-ref"]);
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output.stderr.starts_with(
            "error: `--changed-since` `no-such-ref` is not a commit of this repository"
        ),
        "{}",
        output.both()
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn plan_needs_a_file_and_lists_it_as_text_or_json() {
    let empty = tempfile::tempdir().expect("tempdir");
    let output = plan(empty.path(), &[]);
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output.stderr.contains("no `hf-deploy.toml` was found"),
        "{}",
        output.both()
    );

    let repo = repository();
    let output = Command::new(hf_deploy_bin())
        .args(["plan", "--json"])
        .current_dir(repo.path())
        .output()
        .expect("run");
    let output = CliOutput::from(output);
    assert_eq!(output.code, 0, "{}", output.both());
    let json = output.json();
    assert_eq!(json["spaces"][1]["space"], "alice/search");
    assert_eq!(json["matrix"]["include"].as_array().map(Vec::len), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_action_sets_the_matrix_output() {
    let repo = repository();
    let dir = repo.path();
    let first = git(dir, &["rev-parse", "HEAD"]);
    std::fs::write(dir.join("services/search/app/main.py"), "app = 2\n").expect("edit");
    commit(dir, "search changed");
    let output_file = dir.join(".output");
    let mut env: Vec<(String, String)> = vec![
        ("GITHUB_WORKSPACE".into(), dir.display().to_string()),
        ("GITHUB_OUTPUT".into(), output_file.display().to_string()),
    ];
    // No token, no Space: a plan needs neither.
    env.extend(action_inputs(&[
        ("command", "plan"),
        ("changed-since", &first),
    ]));
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let outputs = runner_read_outputs(&std::fs::read_to_string(&output_file).expect("outputs"))
        .expect("the runner reads them");
    assert_eq!(
        outputs["matrix"],
        r#"{"include":[{"space":"alice/search","source":"services/search","name":"search"}]}"#
    );
    assert!(
        output
            .stdout
            .contains("::notice title=hf-deploy plan::1 of 2 Spaces changed since"),
        "{}",
        output.stdout
    );
}
