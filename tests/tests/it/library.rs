//! The library as another Rust program uses it: the runnable example
//! `hf-deploy-core/examples/deploy_space.rs` (compiled into this test, so the test runs the
//! example's own code) deploys the example backend into the Hub stand-in.

#[allow(dead_code)] // the example's `main` and its stderr printer are not called here
#[path = "../../../hf-deploy-core/examples/deploy_space.rs"]
mod deploy_space;

use deploy_space::{Args, run};
use hf_deploy_core::{Command, Field, NoProgress, Spelling};
use hf_deploy_tests::{example_backend, git, start_real_emulator};
use hf_hub_emulator::{DEFAULT_WRITE_TOKEN, Emulator};

fn args(emulator: &Emulator, extra: &[&str]) -> Args {
    let env = |name: &str| match name {
        "HF_TOKEN" => Some(DEFAULT_WRITE_TOKEN.to_string()),
        _ => None,
    };
    let mut list: Vec<String> = vec!["--endpoint".into(), emulator.url()];
    list.extend(extra.iter().map(|s| s.to_string()));
    Args::parse(list, &env).expect("the example's arguments")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_program_creates_the_space_and_pushes_the_commit() {
    let emulator = start_real_emulator().await;
    let source = example_backend().display().to_string();
    let args = args(
        &emulator,
        &["--space", "local/library-demo", "--no-wait", &source],
    );
    assert_eq!(
        args.token.as_ref().map(|t| t.expose()),
        Some(DEFAULT_WRITE_TOKEN),
        "the token comes from the program's HF_TOKEN"
    );

    let outcome = run(&args, &NoProgress).await.expect("valid inputs");
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let report = outcome.report;
    assert_eq!(report.space_id, "local/library-demo");
    assert!(report.changed, "a new Space gets a commit");
    let sha = report.commit_sha.clone().expect("commit_sha");
    assert_eq!(sha.len(), 40, "{sha}");

    // The Space exists on the stand-in and its `main` is the commit the report names.
    let repo = emulator
        .space_dir("local/library-demo")
        .expect("the example created the Space");
    assert_eq!(git(&repo, &["rev-parse", "main"]).trim(), sha);
    assert_eq!(
        git(&repo, &["log", "-1", "--format=%s", "main"]).trim(),
        "Deploy with the hf-deploy-core example"
    );
    let tree = git(&repo, &["ls-tree", "-r", "--name-only", "main"]);
    for expected in ["Dockerfile", "README.md", "requirements.txt", "app/main.py"] {
        assert!(
            tree.lines().any(|l| l == expected),
            "{expected} pushed:\n{tree}"
        );
    }

    assert!(
        !emulator.request_log().is_empty(),
        "the stand-in logs the requests (the bad-input test counts on it)"
    );

    // What the example prints: the report as JSON.
    let json = serde_json::to_value(&report).expect("the report is JSON");
    assert_eq!(json["space_id"], "local/library-demo");
    assert_eq!(json["commit_sha"], sha);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_input_stops_the_example_before_any_request() {
    let emulator = start_real_emulator().await;
    let source = example_backend().display().to_string();
    let args = args(&emulator, &["--space", "not a space", &source]);

    let error = run(&args, &NoProgress)
        .await
        .expect_err("the Space id is refused");
    assert!(error.is_usage(), "exit 2: {error}");
    assert_eq!(error.field(), Some(Field::Space));
    let spelling = Spelling::new(|_| "--space", Command::neutral);
    assert!(
        error.message_with(spelling).contains("--space"),
        "the program words the field its own way: {}",
        error.message_with(spelling)
    );
    assert_eq!(
        emulator.request_log().len(),
        0,
        "nothing was sent to the Hub: {:?}",
        emulator.request_log()
    );
    assert!(emulator.space_dir("not a space").is_none());
    emulator.shutdown().await;
}

#[test]
fn the_example_reads_its_own_arguments_and_environment() {
    let env = |name: &str| match name {
        "HF_ENDPOINT" => Some("http://127.0.0.1:9".to_string()),
        _ => None,
    };
    let args = Args::parse(["--space".into(), "a/b".into(), "src".into()], &env).expect("args");
    assert_eq!(args.endpoint, "http://127.0.0.1:9");
    assert!(args.token.is_none());
    assert!(args.wait);
    assert!(!args.allow_degraded);
    assert_eq!(args.source, std::path::PathBuf::from("src"));

    let missing = Args::parse(["--space".into(), "a/b".into()], &env).expect_err("no SOURCE");
    assert!(missing.contains("SOURCE"), "{missing}");
    let unknown = Args::parse(["--spaec".into()], &env).expect_err("typo");
    assert!(unknown.contains("--spaec"), "{unknown}");
}
