//! End-to-end: the Hub's runtime stages of 2026 (hub-2026.md §3). While a new revision builds or
//! starts (`RUNNING_BUILDING`, `RUNNING_APP_STARTING`) the previous one still answers: a deploy
//! waits through those stages and never takes the previous revision's health answer for its own.
//! `DELETING` fails at once with its fix; `SLEEPING` is woken with a restart; `verify` during a
//! rebuild says whose answer it got. The build wait's own stage rules (the previous revision's
//! RUNNING, a Hub that never shows the build, the runtime's commit) are tested in the library,
//! beside the wait.

use std::path::Path;
use std::time::{Duration, Instant};

use hf_deploy_tests::{CliOutput, copy_tree, example_backend, hub_env, run_cli_async, strings};
use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, Runner, ScriptedApp, ScriptedResponse,
    ScriptedRoute, ScriptedRunner,
};

const HEALTHY: &str = r#"{"status":"healthy","services":{"fastapi":"ok"}}"#;

async fn deploy(emulator: &Emulator, source: &Path, space: &str) -> CliOutput {
    let mut args = strings(&["deploy"]);
    args.push(source.display().to_string());
    args.extend(strings(&["--space", space, "--json", "--timeout", "120"]));
    run_cli_async(args, hub_env(emulator, DEFAULT_WRITE_TOKEN)).await
}

/// A healthy app whose `/api/health` route is `health` (its counter tells which revision answered).
fn app(health: &ScriptedRoute) -> ScriptedApp {
    ScriptedApp::new().route(health.clone())
}

fn healthy_route() -> ScriptedRoute {
    ScriptedRoute::get("/api/health").then(ScriptedResponse::json(200, HEALTHY))
}

/// A healthy `/api/health` that names its revision (`services.revision.detail`).
fn revision_route(revision: &str) -> ScriptedRoute {
    let body = format!(
        r#"{{"status":"healthy","services":{{"fastapi":"ok","revision":{{"status":"ok","detail":"{revision}"}}}}}}"#
    );
    ScriptedRoute::get("/api/health").then(ScriptedResponse::json(200, &body))
}

/// A stand-in that plays the Hub's rolling rebuilds, with a first revision deployed to `space`.
async fn deployed(space: &str, old_health: &ScriptedRoute) -> (Emulator, tempfile::TempDir) {
    let emulator = Emulator::start(EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running().app(app(old_health))),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the Hub stand-in starts");
    emulator.set_previous_serves(true);
    let source = copy_tree(&example_backend());
    let first = deploy(&emulator, source.path(), space).await;
    assert_eq!(first.code, 0, "{}", first.both());
    assert!(
        old_health.hits() >= 1,
        "the first deploy checked its health"
    );
    (emulator, source)
}

/// Poll the stand-in until Space `id` is in `stage`.
async fn until_stage(emulator: &Emulator, id: &str, stage: &str) {
    let started = Instant::now();
    while emulator.space_stage(id).as_deref() != Some(stage) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "Space {id} never reached {stage} (now {:?})",
            emulator.space_stage(id)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_previous_revision_serving_during_the_rebuild_is_never_taken_for_the_new_one() {
    let space = "local/rolling";
    let old_health = revision_route("old");
    let (emulator, source) = deployed(space, &old_health).await;

    // The new revision: the Hub first keeps showing RUNNING (it has not noticed the push yet),
    // then RUNNING_BUILDING and RUNNING_APP_STARTING while the old app answers, then RUNNING.
    let new_health = revision_route("new");
    assert!(
        emulator.script_space(
            space,
            ScriptedRunner::running()
                .stage("RUNNING", Duration::from_millis(1500))
                .stage("BUILDING", Duration::from_millis(2500))
                .stage("APP_STARTING", Duration::from_millis(2500))
                .app(app(&new_health)),
        )
    );
    std::fs::write(source.path().join("CHANGES.md"), "revision 2\n").unwrap();
    let before = old_health.hits();
    let host = emulator.space_host(space).unwrap();
    let probe = {
        let emulator_stages = async {
            until_stage(&emulator, space, "RUNNING_BUILDING").await;
            // The stand-in plays the Hub: the previous revision still answers meanwhile.
            let answer = reqwest::get(format!("{host}/api/health")).await.unwrap();
            assert_eq!(answer.status(), 200);
            assert!(answer.text().await.unwrap().contains(r#""detail":"old""#));
            until_stage(&emulator, space, "RUNNING_APP_STARTING").await;
        };
        let second = deploy(&emulator, source.path(), space);
        tokio::join!(emulator_stages, second).1
    };
    assert_eq!(probe.code, 0, "{}", probe.both());
    let json = probe.json();
    assert_eq!(json["changed"], true, "{json}");
    assert_eq!(json["stage"], "RUNNING", "{json}");
    assert_eq!(
        json["health"]["services"]["revision"]["detail"], "new",
        "the report carries the new revision's health answer: {json}"
    );
    assert_eq!(
        old_health.hits(),
        before + 1,
        "only the test's own probe reached the previous revision, never the deploy's health check"
    );
    assert!(
        new_health.hits() >= 1,
        "the deploy's health answer came from the new revision"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_space_being_deleted_fails_at_once_with_its_fix() {
    let space = "local/deleting";
    let health = healthy_route();
    let (emulator, source) = deployed(space, &health).await;
    assert!(emulator.hold_stage(space, "DELETING"));

    // Nothing changed: nothing is pushed, so the Space stays DELETING.
    let started = Instant::now();
    let output = deploy(&emulator, source.path(), space).await;
    assert_eq!(output.code, 1, "{}", output.both());
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "no wait helps a Space being deleted: {:?}",
        started.elapsed()
    );
    let json = output.json();
    assert_eq!(json["error"]["kind"], "space_failed", "{json}");
    assert_eq!(json["stage"], "DELETING", "{json}");
    assert!(
        output.stderr.contains("being deleted") && output.stderr.contains("deploy again"),
        "the fix is named:\n{}",
        output.both()
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sleeping_space_is_woken_by_a_restart() {
    let space = "local/sleeping";
    let health = healthy_route();
    let (emulator, source) = deployed(space, &health).await;
    assert!(emulator.hold_stage(space, "SLEEPING"));
    let before = emulator.request_log().len();
    let hits = health.hits();

    let started = Instant::now();
    let output = deploy(&emulator, source.path(), space).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let json = output.json();
    assert_eq!(json["stage"], "RUNNING", "{json}");
    assert!(
        !json["warnings"].to_string().contains("no build was seen"),
        "the restart's answer showed the build: {json}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "no grace wait after the restart: {:?}",
        started.elapsed()
    );
    assert!(
        output
            .stderr
            .contains("the Space is SLEEPING; restarting it"),
        "{}",
        output.both()
    );
    let log = emulator.request_log();
    let restarts = log[before..]
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/restart"))
        .count();
    assert_eq!(restarts, 1, "{:#?}", &log[before..]);
    assert!(health.hits() > hits, "health was checked after the wake-up");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_during_a_rebuild_says_the_previous_revision_answered() {
    let space = "local/verify-rolling";
    let health = revision_route("old");
    let (emulator, _source) = deployed(space, &health).await;
    assert!(
        emulator.script_space(
            space,
            ScriptedRunner::running()
                .stage("BUILDING", Duration::from_secs(60))
                .app(app(&healthy_route())),
        )
    );
    let restarted = reqwest::Client::new()
        .post(format!("{}/api/spaces/{space}/restart", emulator.url()))
        .bearer_auth(DEFAULT_WRITE_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(restarted.status(), 200);
    until_stage(&emulator, space, "RUNNING_BUILDING").await;

    let args = strings(&["verify", "--space", space, "--json"]);
    let output = run_cli_async(args, hub_env(&emulator, DEFAULT_WRITE_TOKEN)).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let json = output.json();
    assert_eq!(json["stage"], "RUNNING_BUILDING", "{json}");
    assert_eq!(
        json["health"]["services"]["revision"]["detail"], "old",
        "{json}"
    );
    let warnings = json["warnings"].to_string();
    assert!(
        warnings.contains("RUNNING_BUILDING") && warnings.contains("previous one answers"),
        "{json}"
    );
    emulator.shutdown().await;
}
