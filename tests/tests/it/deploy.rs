//! End-to-end: `hf-deploy deploy` (the real binary) against the Hub stand-in (real `git
//! http-backend`, real pre-receive rules). These tests use `--no-wait`; waiting and
//! verification are covered in `verify.rs`.

use std::path::Path;

use hf_deploy_tests::{
    assert_no_leak, commit_count, copy_tree, example_backend, git, git_history_text, hub_env,
    run_cli_async, start_real_emulator, strings,
};
use hf_hub_emulator::{DEFAULT_READ_TOKEN, DEFAULT_WRITE_TOKEN, Emulator, FaultRule};

const GEMINI: &str = "AIzaSy-test-gemini-key-0123456789";
const DB: &str = "postgresql://u:s3cr3t-pw@db.example.com:5432/app?sslmode=require";

async fn deploy(
    emulator: &Emulator,
    source: &Path,
    space: &str,
    extra: &[&str],
) -> hf_deploy_tests::CliOutput {
    let mut args = strings(&["deploy"]);
    args.push(source.display().to_string());
    args.extend(strings(&["--space", space, "--no-wait", "--json"]));
    args.extend(strings(extra));
    run_cli_async(args, hub_env(emulator, DEFAULT_WRITE_TOKEN)).await
}

fn tree_of(repo: &Path) -> Vec<String> {
    git(repo, &["ls-tree", "-r", "--name-only", "main"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn show(repo: &Path, path: &str) -> String {
    git(repo, &["show", &format!("main:{path}")])
}

async fn get_json(emulator: &Emulator, path: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{}{path}", emulator.url()))
        .bearer_auth(DEFAULT_WRITE_TOKEN)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_creates_the_space_pushes_and_sets_secrets_and_variables() {
    let emulator = start_real_emulator().await;
    let output = deploy(
        &emulator,
        &example_backend(),
        "local/rag-bot",
        &[
            "--secret",
            &format!("GEMINI_API_KEY={GEMINI}"),
            "--secret",
            &format!("DATABASE_URL={DB}"),
            "--variable",
            "LOG_LEVEL=info",
            "--frontend-url",
            "https://book.example.com",
        ],
    )
    .await;
    assert_eq!(output.code, 0, "{}", output.both());
    let report = output.json();
    assert_eq!(report["space_id"], "local/rag-bot");
    assert_eq!(report["changed"], true);
    let sha = report["commit_sha"].as_str().expect("commit_sha");
    assert_eq!(sha.len(), 40, "{report}");
    assert!(
        report["health"].is_null(),
        "--no-wait has no health: {report}"
    );
    let mut secrets: Vec<&str> = report["secrets_set"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    secrets.sort_unstable();
    assert_eq!(
        secrets,
        ["ALLOWED_ORIGINS", "DATABASE_URL", "GEMINI_API_KEY"]
    );
    assert_eq!(report["variables_set"], serde_json::json!(["LOG_LEVEL"]));
    let app_url = report["app_url"].as_str().unwrap();
    assert!(
        app_url.starts_with("http://127.0.0.1:"),
        "the stand-in's host is used: {app_url}"
    );
    assert_eq!(report["health_url"], format!("{app_url}/api/health"));
    assert_eq!(report["docs_url"], format!("{app_url}/docs"));

    // What the Hub has now.
    let repo = emulator
        .space_dir("local/rag-bot")
        .expect("the Space exists");
    let tree = tree_of(&repo);
    for expected in [
        ".gitattributes",
        "Dockerfile",
        "README.md",
        "requirements.txt",
        "app/main.py",
        "app/api/__init__.py",
        "app/api/health.py",
    ] {
        assert!(
            tree.contains(&expected.to_string()),
            "{expected} missing from {tree:?}"
        );
    }
    for absent in [".env", ".env.example", "tests/test_health.py"] {
        assert!(
            !tree.iter().any(|p| p == absent),
            "{absent} must not be pushed: {tree:?}"
        );
    }
    assert!(
        !show(&repo, "requirements.txt").contains("pytest"),
        "test requirements are filtered"
    );
    let readme = show(&repo, "README.md");
    assert!(
        readme.contains("sdk: docker") || readme.contains("sdk: \"docker\""),
        "{readme}"
    );
    let head = git(&repo, &["rev-parse", "main"]);
    assert_eq!(head.trim(), sha);

    let secrets = get_json(&emulator, "/api/spaces/local/rag-bot/secrets").await;
    for key in ["GEMINI_API_KEY", "DATABASE_URL", "ALLOWED_ORIGINS"] {
        assert!(
            secrets.get(key).is_some(),
            "secret {key} not set: {secrets}"
        );
    }
    let variables = get_json(&emulator, "/api/spaces/local/rag-bot/variables").await;
    assert_eq!(variables["LOG_LEVEL"]["value"], "info");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redeploy_with_no_change_makes_no_commit_and_mirrors_deletions() {
    let emulator = start_real_emulator().await;
    let source = copy_tree(&example_backend());
    let first = deploy(
        &emulator,
        source.path(),
        "local/mirror",
        &["--variable", "A=1"],
    )
    .await;
    assert_eq!(first.code, 0, "{}", first.both());
    let repo = emulator.space_dir("local/mirror").unwrap();
    let commits = commit_count(&repo);

    let second = deploy(
        &emulator,
        source.path(),
        "local/mirror",
        &["--variable", "A=1"],
    )
    .await;
    assert_eq!(second.code, 0, "{}", second.both());
    let report = second.json();
    assert_eq!(report["changed"], false, "{report}");
    assert_eq!(
        report["variables_set"],
        serde_json::json!([]),
        "unchanged variables are not set again"
    );
    assert_eq!(
        commit_count(&repo),
        commits,
        "no commit when nothing changed"
    );
    assert_eq!(report["commit_sha"], first.json()["commit_sha"]);

    std::fs::remove_file(source.path().join("app/services/llm.py")).unwrap();
    std::fs::remove_file(source.path().join("app/services/embedding.py")).unwrap();
    let keep = ["--keep", "app/services/embedding.py"];
    let third = deploy(&emulator, source.path(), "local/mirror", &keep).await;
    assert_eq!(third.code, 0, "{}", third.both());
    assert_eq!(third.json()["changed"], true);
    assert_eq!(commit_count(&repo), commits + 1, "exactly one commit");
    let tree = tree_of(&repo);
    assert!(
        !tree.contains(&"app/services/llm.py".to_string()),
        "deleted files leave the Space: {tree:?}"
    );
    assert!(
        tree.contains(&"app/services/embedding.py".to_string()),
        "`--keep` keeps a path: {tree:?}"
    );
    assert!(tree.contains(&".gitattributes".to_string()));
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn binary_and_large_files_go_through_lfs() {
    let emulator = start_real_emulator().await;
    let source = copy_tree(&example_backend());
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0];
    png.extend((0..2_000_000u32).map(|i| (i % 251) as u8));
    std::fs::create_dir_all(source.path().join("app/static")).unwrap();
    std::fs::write(source.path().join("app/static/logo.png"), &png).unwrap();
    std::fs::write(
        source.path().join("app/model.bin"),
        b"tiny but matched by *.bin",
    )
    .unwrap();
    // Text, but over the Hub's 10 MiB limit for plain git blobs, and over the stand-in's 8 MiB
    // multipart chunk: uploaded in parts.
    let csv: Vec<u8> = (0..12 * 1024 * 1024 / 16)
        .flat_map(|i: u32| format!("{i:>10},hello\n").into_bytes())
        .collect();
    std::fs::create_dir_all(source.path().join("app/data")).unwrap();
    std::fs::write(source.path().join("app/data/big.csv"), &csv).unwrap();

    let output = deploy(&emulator, source.path(), "local/lfs", &[]).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let repo = emulator.space_dir("local/lfs").unwrap();
    for path in ["app/static/logo.png", "app/model.bin", "app/data/big.csv"] {
        let pointer = show(&repo, path);
        assert!(
            pointer.starts_with("version https://git-lfs.github.com/spec/v1\noid sha256:"),
            "{path} is not a pointer: {pointer:.80}"
        );
    }
    let pointer = show(&repo, "app/static/logo.png");
    assert!(
        pointer.contains(&format!(
            "oid sha256:{}",
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&png))
        )),
        "{pointer}"
    );
    assert!(
        pointer.contains(&format!("size {}", png.len())),
        "{pointer}"
    );
    // The large file went up in parts, and the Hub has exactly its bytes.
    let oid = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&csv));
    let log = emulator.request_log();
    let parts = log
        .iter()
        .filter(|r| r.method == "PUT" && r.path.starts_with(&format!("/lfs/multipart/{oid}/")))
        .count();
    assert_eq!(parts, 2, "12 MiB in 8 MiB parts");
    assert!(
        log.iter()
            .any(|r| r.path == format!("/lfs/multipart/{oid}/complete"))
    );
    let stored = reqwest::Client::new()
        .get(format!("{}/lfs/objects/{oid}", emulator.url()))
        .bearer_auth(DEFAULT_WRITE_TOKEN)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        stored.as_ref() == csv.as_slice(),
        "the stored object differs"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deploying_to_an_existing_space_succeeds() {
    let emulator = start_real_emulator().await;
    let created = reqwest::Client::new()
        .post(format!("{}/api/repos/create", emulator.url()))
        .bearer_auth(DEFAULT_WRITE_TOKEN)
        .json(&serde_json::json!({"name": "exists", "organization": "local", "type": "space", "sdk": "docker"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let output = deploy(&emulator, &example_backend(), "local/exists", &[]).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let log = emulator.request_log();
    assert!(
        log.iter().filter(|r| r.path == "/api/repos/create").count() == 1,
        "an existing Space is looked up, never created again (the Hub may answer 402 even then): {log:#?}"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_deploys_at_once_keep_a_linear_history() {
    let emulator = start_real_emulator().await;
    let a = copy_tree(&example_backend());
    let b = copy_tree(&example_backend());
    std::fs::write(a.path().join("app/VERSION_A.txt"), "a\n").unwrap();
    std::fs::write(b.path().join("app/VERSION_B.txt"), "b\n").unwrap();
    let (first, second) = tokio::join!(
        deploy(&emulator, a.path(), "local/race", &[]),
        deploy(&emulator, b.path(), "local/race", &[]),
    );
    assert_eq!(first.code, 0, "{}", first.both());
    assert_eq!(second.code, 0, "{}", second.both());
    let repo = emulator.space_dir("local/race").unwrap();
    let merges = git(&repo, &["rev-list", "--merges", "--count", "main"]);
    assert_eq!(merges.trim(), "0", "no merge commits");
    // Both commits are in the history: none was lost by a force push.
    let history = git(&repo, &["rev-list", "main"]);
    for output in [&first, &second] {
        let sha = output.json()["commit_sha"].as_str().unwrap().to_string();
        assert!(history.contains(&sha), "commit {sha} lost from {history}");
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_token_fails_with_a_clear_message_and_writes_nothing() {
    let emulator = start_real_emulator().await;
    let mut args = strings(&["deploy"]);
    args.push(example_backend().display().to_string());
    args.extend(strings(&["--space", "local/x", "--no-wait"]));
    let output = run_cli_async(args, hub_env(&emulator, "hf_this_token_is_not_valid_123")).await;
    assert_eq!(output.code, 1, "{}", output.both());
    assert!(
        output.stderr.contains("refused the token"),
        "{}",
        output.both()
    );
    assert!(output.stderr.contains("hint:"), "{}", output.both());
    assert_no_leak(
        "stderr",
        &output.stderr,
        &["hf_this_token_is_not_valid_123"],
    );
    assert!(emulator.space_dir("local/x").is_none());
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_token_is_named_as_such() {
    let emulator = start_real_emulator().await;
    let mut args = strings(&["deploy"]);
    args.push(example_backend().display().to_string());
    args.extend(strings(&["--space", "local/ro", "--no-wait"]));
    let output = run_cli_async(args, hub_env(&emulator, DEFAULT_READ_TOKEN)).await;
    assert_eq!(output.code, 1, "{}", output.both());
    assert!(output.stderr.contains("read-only"), "{}", output.both());
    assert!(emulator.space_dir("local/ro").is_none());
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn recovers_from_injected_429_and_503() {
    let emulator = start_real_emulator().await;
    emulator.faults().add(
        FaultRule::new("POST", "/api/repos/create")
            .status(503)
            .times(2),
    );
    emulator.faults().add(
        FaultRule::new("POST", "/api/spaces/*/secrets")
            .rate_limited(1)
            .times(1),
    );
    emulator.faults().add(
        FaultRule::new("GET", "/api/spaces/*/variables")
            .status(502)
            .times(1),
    );
    let output = deploy(
        &emulator,
        &example_backend(),
        "local/flaky",
        &["--secret", "GEMINI_API_KEY=abc"],
    )
    .await;
    assert_eq!(output.code, 0, "{}", output.both());
    let log = emulator.request_log();
    let creates = log.iter().filter(|r| r.path == "/api/repos/create").count();
    assert_eq!(creates, 3, "two 503s then success");
    let secret_posts = |log: &[hf_hub_emulator::LoggedRequest]| {
        log.iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/secrets"))
            .count()
    };
    assert_eq!(
        secret_posts(&log),
        0,
        "a new Space gets its secrets in the create call"
    );
    let repo = emulator.space_dir("local/flaky").unwrap();
    assert_eq!(
        commit_count(&repo),
        2,
        "initial commit + exactly one deploy commit"
    );
    // A changed secret on the existing Space meets the 429 once, then is written once; the
    // variables listing meets the 502 once.
    let output = deploy(
        &emulator,
        &example_backend(),
        "local/flaky",
        &["--secret", "GEMINI_API_KEY=rotated", "--variable", "A=1"],
    )
    .await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert_eq!(
        secret_posts(&emulator.request_log()),
        2,
        "one 429, then one success: never more"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_writes_nothing() {
    let emulator = start_real_emulator().await;
    // First a real deploy, so that the dry run has something to diff against.
    let source = copy_tree(&example_backend());
    assert_eq!(
        deploy(
            &emulator,
            source.path(),
            "local/plan",
            &["--variable", "A=1"]
        )
        .await
        .code,
        0
    );
    let before = emulator.request_log().len();
    let repo = emulator.space_dir("local/plan").unwrap();
    let commits = commit_count(&repo);
    std::fs::write(source.path().join("app/NEW.txt"), "new\n").unwrap();
    std::fs::remove_file(source.path().join("app/services/llm.py")).unwrap();
    let output = deploy(
        &emulator,
        source.path(),
        "local/plan",
        &["--dry-run", "--variable", "A=2", "--secret", "S=x"],
    )
    .await;
    assert_eq!(output.code, 0, "{}", output.both());
    let report = output.json();
    assert_eq!(report["dry_run"], true);
    assert!(
        report["files"]["added"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "app/NEW.txt"),
        "{report}"
    );
    assert!(
        report["files"]["removed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "app/services/llm.py"),
        "{report}"
    );
    assert_eq!(report["variables_set"], serde_json::json!(["A"]));
    let writes: Vec<_> = emulator.request_log()[before..]
        .iter()
        .filter(|r| {
            r.method != "GET"
                || r.path.contains("git-receive-pack")
                || r.query.contains("git-receive-pack")
        })
        .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
        .collect();
    // upload-pack (a fetch) is a POST in smart HTTP but reads only.
    let writes: Vec<_> = writes
        .into_iter()
        .filter(|w| !w.contains("git-upload-pack"))
        .collect();
    assert!(writes.is_empty(), "the dry run wrote: {writes:?}");
    assert_eq!(commit_count(&repo), commits);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_token_or_secret_value_appears_anywhere() {
    let log_dir = tempfile::tempdir().unwrap();
    let log_file = log_dir.path().join("requests.jsonl");
    let config = hf_hub_emulator::EmulatorConfig {
        request_log_file: Some(log_file.clone()),
        runner: hf_deploy_tests::real_runner(),
        ..hf_hub_emulator::EmulatorConfig::default()
    };
    let emulator = Emulator::start(config).await.unwrap();
    let secrets_file = log_dir.path().join("prod.env");
    std::fs::write(&secrets_file, "QDRANT_API_KEY=qdrant-secret-value-42\n").unwrap();
    let mut outputs = Vec::new();
    for extra in [vec![], vec!["--dry-run"]] {
        let mut args = vec![
            "--secret".to_string(),
            format!("GEMINI_API_KEY={GEMINI}"),
            "--secret".to_string(),
            format!("DATABASE_URL={DB}"),
            "--secrets-file".to_string(),
            secrets_file.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = deploy(&emulator, &example_backend(), "local/leak", &args).await;
        assert_eq!(output.code, 0, "{}", output.both());
        outputs.push(output);
    }
    // A failing run prints errors too.
    let mut args = strings(&["deploy"]);
    args.push(example_backend().display().to_string());
    args.extend(strings(&[
        "--space",
        "local/leak",
        "--no-wait",
        "--secret",
        "BAD=trailing-space-secret ",
    ]));
    let bad = run_cli_async(args, hub_env(&emulator, DEFAULT_WRITE_TOKEN)).await;
    assert_eq!(bad.code, 2, "{}", bad.both());
    outputs.push(bad);

    let needles = [
        DEFAULT_WRITE_TOKEN,
        GEMINI,
        "s3cr3t-pw",
        "qdrant-secret-value-42",
        "trailing-space-secret",
    ];
    for output in &outputs {
        assert_no_leak("stdout", &output.stdout, &needles);
        assert_no_leak("stderr", &output.stderr, &needles);
    }
    let repo = emulator.space_dir("local/leak").unwrap();
    assert_no_leak(
        "the Space's git history",
        &git_history_text(&repo),
        &needles,
    );
    let requests = std::fs::read_to_string(&log_file).unwrap();
    assert!(!requests.is_empty());
    assert_no_leak("the stand-in's request log", &requests, &needles);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn executable_files_stay_executable() {
    use std::os::unix::fs::PermissionsExt;
    let emulator = start_real_emulator().await;
    let source = copy_tree(&example_backend());
    let script = source.path().join("start.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nexec uvicorn app.main:app --host 0.0.0.0 --port 7860\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();

    let output = deploy(&emulator, source.path(), "local/exec", &[]).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let repo = emulator.space_dir("local/exec").unwrap();
    let listing = git(&repo, &["ls-tree", "main", "start.sh", "requirements.txt"]);
    assert!(
        listing.contains("100755 blob") && listing.contains("start.sh"),
        "{listing}"
    );
    assert!(
        listing.contains("100644 blob"),
        "other files stay 644: {listing}"
    );

    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("space");
    let scaffold = run_cli_async(
        strings(&[
            "scaffold",
            &source.path().display().to_string(),
            "--out",
            &target.display().to_string(),
        ]),
        Vec::new(),
    )
    .await;
    assert_eq!(scaffold.code, 0, "{}", scaffold.both());
    let mode = std::fs::metadata(target.join("start.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "mode {mode:o}");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_commit_message_names_the_source_commit() {
    let emulator = start_real_emulator().await;
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let mut args = strings(&["deploy"]);
    args.push(example_backend().display().to_string());
    args.extend(strings(&["--space", "local/msg", "--no-wait"]));
    let mut env = hub_env(&emulator, DEFAULT_WRITE_TOKEN);
    env.push(("GITHUB_SHA".into(), sha.into()));
    let output = run_cli_async(args, env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let repo = emulator.space_dir("local/msg").unwrap();
    let log = git(&repo, &["log", "-1", "--format=%s%n%an", "main"]);
    assert!(log.contains(sha), "{log}");
    assert!(log.contains("hf-deploy"), "{log}");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_git_failures_are_retried_without_a_second_commit() {
    let emulator = start_real_emulator().await;
    emulator.faults().add(
        FaultRule::new("GET", "/spaces/*/info/refs")
            .status(502)
            .times(1),
    );
    emulator.faults().add(
        FaultRule::new("POST", "/spaces/*/git-receive-pack")
            .status(503)
            .times(1),
    );
    let output = deploy(&emulator, &example_backend(), "local/flaky-git", &[]).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert_eq!(output.json()["changed"], true);
    let repo = emulator.space_dir("local/flaky-git").unwrap();
    assert_eq!(
        commit_count(&repo),
        2,
        "initial commit + exactly one deploy commit"
    );
    let log = emulator.request_log();
    let failed: Vec<_> = log
        .iter()
        .filter(|r| r.status >= 500)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        failed.len(),
        2,
        "both injected failures were met: {failed:?}"
    );
    emulator.shutdown().await;
}
