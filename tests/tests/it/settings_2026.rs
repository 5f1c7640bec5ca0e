//! End-to-end: the Hub's 2026 settings through the real binary, against the stand-in.
//!
//! - visibility: `--visibility` creates a Space public, protected or private; a redeploy
//!   without it leaves an existing Space's alone, with it changes it (one `PUT .../settings`);
//!   `--private` and `--visibility` that disagree are bad input (nothing sent); protected
//!   without a paid plan is a 402 whose hint names the way out; a preview is created protected;
//!   a private Space with a frontend gets a warning;
//! - outbound ports: a URL to a port a Space cannot reach is a warning at input time (key and
//!   port, never the value), and the diagnosis of a health timeout or of an unreachable service;
//! - a factory reboot restarts with `factory=true` (alone when nothing changed) and the report
//!   says so; the sleep time is written once on paid hardware, never on `cpu-basic`;
//! - a refused token read from `$HF_HOME/token` says to run `hf auth login` again.

use std::path::Path;

use hf_deploy_tests::fake_github::{FakeGitHub, Mode};
use hf_deploy_tests::{CliOutput, copy_tree, example_backend, run_action, run_cli_async, strings};
use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, Runner, ScriptedApp, ScriptedResponse,
    ScriptedRoute, ScriptedRunner,
};
use serde_json::Value;

use super::events::{Workspace, pull_request, step};

const HEALTHY: &str = r#"{"status":"healthy","services":{"fastapi":"ok"}}"#;

/// A stand-in whose Spaces run at once and answer `health` at `/api/health`.
async fn stand_in(health: ScriptedResponse) -> Emulator {
    let app = ScriptedApp::new().route(ScriptedRoute::get("/api/health").then(health));
    let config = EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running().app(app)),
        ..EmulatorConfig::default()
    };
    Emulator::start(config)
        .await
        .expect("the Hub stand-in starts")
}

async fn deploy(emulator: &Emulator, source: &Path, space: &str, extra: &[&str]) -> CliOutput {
    let mut args = strings(&["deploy"]);
    args.push(source.display().to_string());
    args.extend(strings(&["--space", space, "--json"]));
    if !extra.contains(&"--timeout") {
        args.extend(strings(&["--timeout", "60"]));
    }
    args.extend(strings(extra));
    let env = vec![
        ("HF_ENDPOINT".to_string(), emulator.url()),
        ("HF_TOKEN".to_string(), DEFAULT_WRITE_TOKEN.to_string()),
    ];
    run_cli_async(args, env).await
}

/// The Space's info as the stand-in answers it.
async fn info(emulator: &Emulator, id: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/api/spaces/{id}", emulator.url()))
        .bearer_auth(DEFAULT_WRITE_TOKEN)
        .send()
        .await
        .expect("space info")
        .json()
        .await
        .expect("space info JSON")
}

/// How many calls of `method` to a path ending in `suffix` the stand-in saw.
fn calls(emulator: &Emulator, method: &str, suffix: &str) -> usize {
    emulator
        .request_log()
        .iter()
        .filter(|r| r.method == method && r.path.ends_with(suffix))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn visibility_is_set_at_creation_and_changed_only_when_asked() {
    let emulator = stand_in(ScriptedResponse::json(200, HEALTHY)).await;
    let source = copy_tree(&example_backend());
    let space = "local/vis-app";

    let created = deploy(
        &emulator,
        source.path(),
        space,
        &["--visibility", "protected"],
    )
    .await;
    assert_eq!(created.code, 0, "{}", created.both());
    assert_eq!(created.json()["visibility"], "protected");
    assert_eq!(info(&emulator, space).await["visibility"], "protected");

    // Not asked: the Space keeps its visibility, nothing is written for it.
    let again = deploy(&emulator, source.path(), space, &[]).await;
    assert_eq!(again.code, 0, "{}", again.both());
    assert_eq!(again.json()["visibility"], "protected");
    assert_eq!(calls(&emulator, "PUT", "/settings"), 0);

    // Asked: one settings write.
    let public = deploy(&emulator, source.path(), space, &["--visibility", "public"]).await;
    assert_eq!(public.code, 0, "{}", public.both());
    assert_eq!(info(&emulator, space).await["visibility"], "public");
    assert_eq!(calls(&emulator, "PUT", "/settings"), 1);
    assert!(
        public
            .stderr
            .contains("was protected and is now public, as asked"),
        "a Space made more open says so: {}",
        public.stderr
    );

    // `--private` is `--visibility private`; with a frontend it warns that browsers cannot
    // reach the app. The health check then carries the owner's token (the app answers no one
    // else), and passes.
    let private = deploy(
        &emulator,
        source.path(),
        space,
        &["--private", "--frontend-url", "https://book.example.com"],
    )
    .await;
    assert_eq!(private.json()["visibility"], "private");
    assert_eq!(info(&emulator, space).await["visibility"], "private");
    assert!(
        private.stderr.contains("browsers"),
        "the warning comes at once: {}",
        private.stderr
    );
    assert!(
        private.json()["warnings"].as_array().is_some_and(|w| w
            .iter()
            .any(|w| w.as_str().unwrap_or("").contains("browsers"))),
        "{}",
        private.stdout
    );
    assert_eq!(private.json()["health"]["status"], "healthy");

    // Both given and disagreeing: bad input, nothing sent.
    let before = emulator.request_log().len();
    let both = deploy(
        &emulator,
        source.path(),
        space,
        &["--private", "--visibility", "public"],
    )
    .await;
    assert_eq!(both.code, 2, "{}", both.both());
    assert!(
        both.stderr.contains("`--visibility`") && both.stderr.contains("`--private`"),
        "{}",
        both.stderr
    );
    assert_eq!(emulator.request_log().len(), before, "nothing was sent");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn protected_without_a_paid_plan_names_the_way_out_and_writes_nothing() {
    let emulator = stand_in(ScriptedResponse::json(200, HEALTHY)).await;
    let source = copy_tree(&example_backend());
    emulator.set_pro("local", false);

    // A new Space on paid hardware passes the Docker paywall, not the protected one.
    let new = deploy(
        &emulator,
        source.path(),
        "local/free-new",
        &["--visibility", "protected", "--hardware", "cpu-upgrade"],
    )
    .await;
    assert_eq!(new.code, 1, "{}", new.both());
    for words in ["protected Space", "`--visibility`", "`public`", "PRO"] {
        assert!(new.stderr.contains(words), "{words}: {}", new.stderr);
    }
    assert!(!super::events::space_exists(&emulator, "local/free-new").await);

    // An existing Space (made while on PRO): the refusal comes before the push.
    emulator.set_pro("local", true);
    let space = "local/free-old";
    let first = deploy(&emulator, source.path(), space, &["--no-wait"]).await;
    assert_eq!(first.code, 0, "{}", first.both());
    emulator.set_pro("local", false);
    let pushes = calls(&emulator, "POST", "/git-receive-pack");
    std::fs::write(source.path().join("app/extra.py"), "X = 1\n").expect("a change");
    let refused = deploy(
        &emulator,
        source.path(),
        space,
        &["--visibility", "protected"],
    )
    .await;
    assert_eq!(refused.code, 1, "{}", refused.both());
    assert!(
        refused.stderr.contains("`--visibility`"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        calls(&emulator, "POST", "/git-receive-pack"),
        pushes,
        "nothing pushed"
    );
    assert_eq!(info(&emulator, space).await["visibility"], "public");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preview_is_created_protected_unless_visibility_says_otherwise() {
    let emulator = stand_in(ScriptedResponse::json(200, HEALTHY)).await;
    let github = FakeGitHub::start(Mode::default()).await;
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
    let preview = format!("{}-pr-2", super::events::SPACE);
    assert_eq!(info(&emulator, &preview).await["visibility"], "protected");

    let public = pull_request("opened", |v| super::events::number(v, 3));
    let env = step(
        &workspace,
        &emulator,
        &github,
        Some(("pull_request", &public)),
        &[("preview", "true"), ("visibility", "public")],
    );
    let output = run_action(env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let preview = format!("{}-pr-3", super::events::SPACE);
    assert_eq!(info(&emulator, &preview).await["visibility"], "public");
    emulator.shutdown().await;
}

const QDRANT: &str = "https://xyz-cluster.cloud.qdrant.io:6333";
const DATABASE: &str = "postgresql://app:pg-secret-pw@ep-cool.neon.tech/db?sslmode=require";

#[tokio::test(flavor = "multi_thread")]
async fn a_url_to_a_blocked_port_is_a_warning_then_the_diagnosis() {
    // The health check never answers JSON: a health timeout.
    let emulator = stand_in(ScriptedResponse::text(503, "starting")).await;
    let source = copy_tree(&example_backend());
    let secrets = [
        "--secret",
        &format!("QDRANT_URL={QDRANT}"),
        "--secret",
        &format!("DATABASE_URL={DATABASE}"),
    ]
    .map(|s| s.to_string());
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();

    let mut args = secrets.clone();
    args.push("--dry-run");
    let dry = deploy(&emulator, source.path(), "local/ports", &args).await;
    assert_eq!(dry.code, 0, "{}", dry.both());
    for words in [
        "secret `QDRANT_URL` points to port 6333",
        "secret `DATABASE_URL` points to port 5432",
        "80, 443 and 8080",
    ] {
        assert!(dry.stderr.contains(words), "{words}: {}", dry.stderr);
    }
    let warnings = dry.json()["warnings"].to_string();
    assert!(
        warnings.contains("`QDRANT_URL` points to port 6333"),
        "{warnings}"
    );
    hf_deploy_tests::assert_no_leak(
        "the output",
        &dry.both(),
        &["xyz-cluster", "pg-secret-pw", "neon.tech"],
    );

    let mut args = secrets.clone();
    args.extend(["--timeout", "6"]);
    let timed_out = deploy(&emulator, source.path(), "local/ports", &args).await;
    assert_eq!(timed_out.code, 1, "{}", timed_out.both());
    assert!(
        timed_out.stderr.contains("timed out")
            && timed_out
                .stderr
                .contains("`QDRANT_URL` points to port 6333")
            && timed_out.stderr.contains("Networking"),
        "{}",
        timed_out.stderr
    );
    emulator.shutdown().await;

    // The health answer names the vector store unreachable.
    let unreachable = r#"{"status":"unhealthy","services":{"qdrant":{"status":"error","error":"timed out connecting to the cluster"}}}"#;
    let emulator = stand_in(ScriptedResponse::json(503, unreachable)).await;
    let output = deploy(&emulator, source.path(), "local/ports", &secrets).await;
    assert_eq!(output.code, 1, "{}", output.both());
    assert!(
        output.stderr.contains("`QDRANT_URL` points to port 6333"),
        "{}",
        output.stderr
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_factory_reboot_rebuilds_and_the_sleep_time_is_written_once() {
    let emulator = stand_in(ScriptedResponse::json(200, HEALTHY)).await;
    let source = copy_tree(&example_backend());
    let space = "local/rebuilt";
    let first = deploy(&emulator, source.path(), space, &[]).await;
    assert_eq!(first.code, 0, "{}", first.both());
    assert!(first.json().get("factory_reboot").is_none());

    // Nothing changed: the factory reboot alone, then the wait for its build.
    let rebooted = deploy(&emulator, source.path(), space, &["--factory-reboot"]).await;
    assert_eq!(rebooted.code, 0, "{}", rebooted.both());
    let report = rebooted.json();
    assert_eq!(report["changed"], false);
    assert_eq!(report["factory_reboot"], true);
    assert_eq!(report["stage"], "RUNNING");
    let factory: Vec<_> = emulator
        .request_log()
        .into_iter()
        .filter(|r| r.path.ends_with("/restart"))
        .collect();
    assert_eq!(factory.len(), 1, "{factory:?}");
    assert!(factory[0].query.contains("factory=true"), "{factory:?}");

    // On cpu-basic the sleep time is not written: a warning says the Hub ignores it there.
    let free = deploy(&emulator, source.path(), space, &["--sleep-time", "3600"]).await;
    assert_eq!(free.code, 0, "{}", free.both());
    assert!(free.stderr.contains("cpu-basic"), "{}", free.stderr);
    assert_eq!(calls(&emulator, "POST", "/sleeptime"), 0);

    // On paid hardware it is written once; the same value again writes nothing.
    let paid = ["--hardware", "cpu-upgrade", "--sleep-time", "3600"];
    let set = deploy(&emulator, source.path(), space, &paid).await;
    assert_eq!(set.code, 0, "{}", set.both());
    assert_eq!(calls(&emulator, "POST", "/sleeptime"), 1);
    let runtime: Value = reqwest::Client::new()
        .get(format!("{}/api/spaces/{space}/runtime", emulator.url()))
        .bearer_auth(DEFAULT_WRITE_TOKEN)
        .send()
        .await
        .expect("runtime")
        .json()
        .await
        .expect("runtime JSON");
    assert_eq!(runtime["gcTimeout"], 3600);
    let same = deploy(&emulator, source.path(), space, &paid).await;
    assert_eq!(same.code, 0, "{}", same.both());
    assert_eq!(calls(&emulator, "POST", "/sleeptime"), 1, "nothing written");
    let never = deploy(
        &emulator,
        source.path(),
        space,
        &["--hardware", "cpu-upgrade", "--sleep-time", "-1"],
    )
    .await;
    assert_eq!(never.code, 0, "{}", never.both());
    assert_eq!(calls(&emulator, "POST", "/sleeptime"), 2);

    let bad = deploy(&emulator, source.path(), space, &["--sleep-time", "soon"]).await;
    assert_eq!(bad.code, 2, "{}", bad.both());
    assert!(bad.stderr.contains("`--sleep-time`"), "{}", bad.stderr);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_stored_token_says_to_log_in_again() {
    let emulator = stand_in(ScriptedResponse::json(200, HEALTHY)).await;
    let home = tempfile::tempdir().expect("tempdir");
    std::fs::write(home.path().join("token"), "hf_expired_oauth_token_0000\n").expect("token");
    let hf_home = home.path().display().to_string();
    let status = |env: Vec<(String, String)>| {
        run_cli_async(strings(&["status", "--space", "local/anything"]), env)
    };

    let stored = status(vec![
        ("HF_ENDPOINT".into(), emulator.url()),
        ("HF_HOME".into(), hf_home.clone()),
    ])
    .await;
    assert_eq!(stored.code, 1, "{}", stored.both());
    assert!(
        stored.stderr.contains("refused the token")
            && stored.stderr.contains("hf auth login` again")
            && stored.stderr.contains(&hf_home),
        "{}",
        stored.stderr
    );
    hf_deploy_tests::assert_no_leak("stderr", &stored.stderr, &["hf_expired_oauth_token_0000"]);

    // From `HF_TOKEN`: the usual advice, nothing about `hf auth login`.
    let from_env = status(vec![
        ("HF_ENDPOINT".into(), emulator.url()),
        ("HF_HOME".into(), hf_home.clone()),
        ("HF_TOKEN".into(), "hf_wrong_env_token_0000".into()),
    ])
    .await;
    assert_eq!(from_env.code, 1, "{}", from_env.both());
    assert!(
        from_env.stderr.contains("refused the token"),
        "{}",
        from_env.stderr
    );
    assert!(
        !from_env.stderr.contains("hf auth login"),
        "{}",
        from_env.stderr
    );

    // A deploy's JSON report path says it too.
    let source = copy_tree(&example_backend());
    let mut args = strings(&["deploy"]);
    args.push(source.path().display().to_string());
    args.extend(strings(&["--space", "local/anything", "--json"]));
    let deployed = run_cli_async(
        args,
        vec![
            ("HF_ENDPOINT".into(), emulator.url()),
            ("HF_HOME".into(), hf_home),
        ],
    )
    .await;
    assert_eq!(deployed.code, 1, "{}", deployed.both());
    assert!(
        deployed.stderr.contains("hf auth login` again"),
        "{}",
        deployed.stderr
    );
    emulator.shutdown().await;
}
