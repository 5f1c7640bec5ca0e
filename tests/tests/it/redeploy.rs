//! End-to-end: a redeploy that changes nothing writes nothing (no secret, variable or git write,
//! no restart); a changed secret is written alone; a new Space gets its secrets in the create
//! call; the paywall answers before anything is written.

use std::path::Path;

use hf_deploy_tests::{
    CliOutput, copy_tree, example_backend, hub_env, run_cli_async, start_real_emulator, strings,
};
use hf_hub_emulator::{DEFAULT_WRITE_TOKEN, Emulator, LoggedRequest};

const GEMINI: &str = "AIzaSy-redeploy-gemini-key-0123456789";
const DB: &str = "postgresql://u:redeploy-pw@db.example.com:5432/app";

async fn deploy(emulator: &Emulator, source: &Path, space: &str, extra: &[&str]) -> CliOutput {
    let mut args = strings(&["deploy"]);
    args.push(source.display().to_string());
    args.extend(strings(&["--space", space, "--no-wait", "--json"]));
    args.extend(strings(extra));
    run_cli_async(args, hub_env(emulator, DEFAULT_WRITE_TOKEN)).await
}

fn names(value: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// Requests that change something on the Hub: every API call but GET/HEAD, and git pushes
/// (a fetch is a POST to `git-upload-pack` and reads only).
fn writes(log: &[LoggedRequest]) -> Vec<&LoggedRequest> {
    log.iter()
        .filter(|r| !r.app)
        .filter(|r| !matches!(r.method.as_str(), "GET" | "HEAD"))
        .filter(|r| !r.path.ends_with("/git-upload-pack"))
        .filter(|r| !r.path.ends_with("/info/lfs/objects/batch") || r.method != "POST")
        .collect()
}

const SETTINGS: [&str; 6] = [
    "--secret",
    "GEMINI_API_KEY=AIzaSy-redeploy-gemini-key-0123456789",
    "--secret",
    "DATABASE_URL=postgresql://u:redeploy-pw@db.example.com:5432/app",
    "--variable",
    "LOG_LEVEL=info",
];

#[tokio::test(flavor = "multi_thread")]
async fn a_redeploy_that_changes_nothing_writes_nothing_and_one_changed_secret_is_written_alone() {
    let emulator = start_real_emulator().await;
    let source = copy_tree(&example_backend());
    let space = "local/no-restart";
    let origins = ["--frontend-url", "https://book.example.com"];
    let args: Vec<&str> = SETTINGS.iter().copied().chain(origins).collect();

    // First deploy: the Space is created with its secrets and variables in the create call.
    let first = deploy(&emulator, source.path(), space, &args).await;
    assert_eq!(first.code, 0, "{}", first.both());
    let report = first.json();
    assert_eq!(
        names(&report["secrets_set"]),
        ["ALLOWED_ORIGINS", "DATABASE_URL", "GEMINI_API_KEY"]
    );
    assert_eq!(names(&report["variables_set"]), ["LOG_LEVEL"]);
    let log = emulator.request_log();
    assert!(
        !log.iter()
            .any(|r| r.path.ends_with("/secrets") || r.path.ends_with("/variables")),
        "a new Space gets its settings in the create call, not one write (and restart) each: {log:#?}"
    );
    // The secrets carry fingerprints, never their values.
    let listed: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/spaces/{space}/secrets", emulator.url()))
        .bearer_auth(DEFAULT_WRITE_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let description = listed["GEMINI_API_KEY"]["description"].as_str().unwrap();
    assert!(
        description.starts_with("hf-deploy:fingerprint $argon2id$"),
        "{listed}"
    );
    hf_deploy_tests::assert_no_leak("the secret listing", &listed.to_string(), &[GEMINI, DB]);
    let starts = emulator.space_starts(space);

    // Second deploy, nothing changed: zero writes, no restart.
    let before = emulator.request_log().len();
    let second = deploy(&emulator, source.path(), space, &args).await;
    assert_eq!(second.code, 0, "{}", second.both());
    let report = second.json();
    assert_eq!(report["changed"], false, "{report}");
    assert_eq!(report["secrets_set"], serde_json::json!([]), "{report}");
    assert_eq!(report["variables_set"], serde_json::json!([]), "{report}");
    assert_eq!(
        names(&report["secrets_unchanged"]),
        ["ALLOWED_ORIGINS", "DATABASE_URL", "GEMINI_API_KEY"]
    );
    assert_eq!(names(&report["variables_unchanged"]), ["LOG_LEVEL"]);
    let log = emulator.request_log();
    let log = &log[before..];
    assert_eq!(writes(log), Vec::<&LoggedRequest>::new(), "{log:#?}");
    assert!(
        !log.iter().any(|r| r.path == "/api/repos/create"),
        "the Space is looked up, not created: {log:#?}"
    );
    assert_eq!(emulator.space_starts(space), starts, "no restart");

    // Third deploy, one secret changed: exactly one secret write, one restart.
    let before = emulator.request_log().len();
    let changed: Vec<&str> = args
        .iter()
        .map(|a| {
            if a.starts_with("GEMINI_API_KEY=") {
                "GEMINI_API_KEY=AIzaSy-rotated-key"
            } else {
                a
            }
        })
        .collect();
    let third = deploy(&emulator, source.path(), space, &changed).await;
    assert_eq!(third.code, 0, "{}", third.both());
    let report = third.json();
    assert_eq!(names(&report["secrets_set"]), ["GEMINI_API_KEY"]);
    assert_eq!(
        names(&report["secrets_unchanged"]),
        ["ALLOWED_ORIGINS", "DATABASE_URL"]
    );
    let log = emulator.request_log();
    let log = &log[before..];
    let written = writes(log);
    assert_eq!(written.len(), 1, "{written:#?}");
    assert_eq!(written[0].method, "POST");
    assert_eq!(written[0].path, format!("/api/spaces/{space}/secrets"));
    assert_eq!(written[0].keys, ["GEMINI_API_KEY"]);
    assert_eq!(
        emulator.space_starts(space),
        starts + 1,
        "exactly one restart"
    );

    // The text report says what was written and what was left alone.
    let mut args = strings(&["deploy"]);
    args.push(source.path().display().to_string());
    args.extend(strings(&["--space", space, "--no-wait"]));
    args.extend(changed.iter().map(|s| s.to_string()));
    let text = run_cli_async(args, hub_env(&emulator, DEFAULT_WRITE_TOKEN)).await;
    assert_eq!(text.code, 0, "{}", text.both());
    assert!(
        text.stdout.contains("Secrets unchanged")
            && text
                .stdout
                .contains("ALLOWED_ORIGINS, DATABASE_URL, GEMINI_API_KEY"),
        "{}",
        text.both()
    );
    assert!(
        text.stdout.contains("Variables unchanged"),
        "{}",
        text.both()
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_pro_a_docker_space_answers_402_naming_the_ways_out_and_nothing_is_written() {
    let emulator = start_real_emulator().await;
    emulator.set_pro("local", false);
    let output = deploy(&emulator, &example_backend(), "local/paywalled", &SETTINGS).await;
    assert_eq!(output.code, 1, "{}", output.both());
    let report = output.json();
    assert_eq!(report["error"]["kind"], "payment_required", "{report}");
    let stderr = &output.stderr;
    for expected in [
        "local/paywalled",
        "requires a PRO subscription",
        "PRO",
        "organization",
        "--hardware",
    ] {
        assert!(stderr.contains(expected), "{expected}: {}", output.both());
    }
    let log = emulator.request_log();
    let written: Vec<_> = writes(&log)
        .into_iter()
        .filter(|r| r.status < 400)
        .collect();
    assert!(written.is_empty(), "{written:#?}");
    assert!(emulator.space_dir("local/paywalled").is_none());

    // An existing Space of a free account: looked up first, so the create's 402 never comes.
    emulator.set_pro("local", true);
    let source = copy_tree(&example_backend());
    let created = deploy(&emulator, source.path(), "local/kept", &[]).await;
    assert_eq!(created.code, 0, "{}", created.both());
    emulator.set_pro("local", false);
    let again = deploy(&emulator, source.path(), "local/kept", &[]).await;
    assert_eq!(again.code, 0, "{}", again.both());
    emulator.shutdown().await;
}
