//! End-to-end: the Hub's runtime stages of 2026 (hub-2026.md §3). While a new revision builds or
//! starts (`RUNNING_BUILDING`, `RUNNING_APP_STARTING`) the previous one still answers: a deploy
//! waits through those stages and never takes the previous revision's health answer for its own.
//! `DELETING` fails at once with its fix; `SLEEPING` is woken with a restart; `verify` during a
//! rebuild says whose answer it got.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hf_deploy_core::hub::{HubClient, SpaceStage};
use hf_deploy_core::report::DeployReport;
use hf_deploy_core::{Event, PollSettings, Progress, wait_for_running};
use hf_deploy_core::{Field, SecretString, SpaceId};
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

/// Every event of a wait, as text.
#[derive(Default)]
struct Events(std::sync::Mutex<Vec<String>>);

impl Progress for Events {
    fn event(&self, event: Event<'_>) {
        let text = match event {
            Event::Stage { stage, .. } => format!("stage {stage}"),
            Event::Warning(message) => format!("warning {message}"),
            _ => return,
        };
        self.0.lock().unwrap().push(text);
    }
}

impl Events {
    /// Stages in the order seen, each once per run of equal stages.
    fn stages(&self) -> Vec<String> {
        let mut stages: Vec<String> = Vec::new();
        for event in self.0.lock().unwrap().iter() {
            if let Some(stage) = event.strip_prefix("stage ")
                && stages.last().map(String::as_str) != Some(stage)
            {
                stages.push(stage.to_string());
            }
        }
        stages
    }

    fn warnings(&self) -> Vec<String> {
        let events = self.0.lock().unwrap();
        events
            .iter()
            .filter_map(|e| e.strip_prefix("warning ").map(str::to_string))
            .collect()
    }
}

fn client(emulator: &Emulator) -> HubClient {
    HubClient::builder()
        .endpoint(emulator.url())
        .token(SecretString::new(DEFAULT_WRITE_TOKEN))
        .build()
        .unwrap()
}

/// Fast polls, and a grace of `grace` for the Hub to show the build.
fn poll(grace: Duration) -> PollSettings {
    PollSettings {
        runtime_initial: Duration::from_millis(50),
        runtime_max: Duration::from_millis(100),
        build_grace: grace,
        ..PollSettings::default()
    }
}

async fn restart(emulator: &Emulator, space: &str) {
    let answer = reqwest::Client::new()
        .post(format!("{}/api/spaces/{space}/restart", emulator.url()))
        .bearer_auth(DEFAULT_WRITE_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_wait_goes_through_the_running_stages_and_returns_when_the_new_revision_runs() {
    let space = "local/rolling-wait";
    let old_health = healthy_route();
    let (emulator, _source) = deployed(space, &old_health).await;
    let new_health = healthy_route();
    emulator.script_space(
        space,
        ScriptedRunner::running()
            .stage("RUNNING", Duration::from_millis(400))
            .stage("BUILDING", Duration::from_millis(600))
            .stage("APP_STARTING", Duration::from_millis(600))
            .app(app(&new_health)),
    );
    restart(&emulator, space).await;

    let id = SpaceId::parse(space, Field::Space).unwrap();
    let events = Events::default();
    let mut report = DeployReport::default();
    let deadline = Instant::now() + Duration::from_secs(30);
    let runtime = wait_for_running(
        &client(&emulator),
        &id,
        deadline,
        &poll(Duration::from_secs(10)),
        true,
        &events,
        &mut report,
    )
    .await
    .unwrap();
    assert_eq!(runtime.stage, SpaceStage::Running);
    assert_eq!(
        events.stages(),
        [
            "RUNNING",
            "RUNNING_BUILDING",
            "RUNNING_APP_STARTING",
            "RUNNING"
        ],
        "the RUNNING of the previous revision (before the Hub showed the build) was not taken"
    );
    assert_eq!(events.warnings(), Vec::<String>::new());
    // When the wait returns, the app that answers is the new revision.
    let (old, new) = (old_health.hits(), new_health.hits());
    let host = emulator.space_host(space).unwrap();
    let answer = reqwest::get(format!("{host}/api/health")).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!((old_health.hits(), new_health.hits()), (old, new + 1));
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hub_that_never_shows_the_build_gets_running_with_a_warning() {
    let space = "local/never-building";
    let old_health = healthy_route();
    let (emulator, _source) = deployed(space, &old_health).await;
    // The Hub keeps showing RUNNING (the previous revision) well past the grace.
    emulator.script_space(
        space,
        ScriptedRunner::running()
            .stage("RUNNING", Duration::from_secs(60))
            .app(app(&healthy_route())),
    );
    restart(&emulator, space).await;

    let id = SpaceId::parse(space, Field::Space).unwrap();
    let events = Events::default();
    let mut report = DeployReport::default();
    let started = Instant::now();
    let grace = Duration::from_millis(700);
    let runtime = wait_for_running(
        &client(&emulator),
        &id,
        started + Duration::from_secs(30),
        &poll(grace),
        true,
        &events,
        &mut report,
    )
    .await
    .unwrap();
    assert_eq!(runtime.stage, SpaceStage::Running);
    assert!(
        started.elapsed() >= grace,
        "RUNNING is not trusted within the grace"
    );
    let warnings = events.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("no build was seen") && warnings[0].contains("previous revision"),
        "{warnings:?}"
    );
    assert_eq!(report.warnings, warnings, "the report says it too");
    emulator.shutdown().await;
}

/// A fake Hub whose runtime answers RUNNING with `sha` fields in turn (the last one repeats).
async fn fake_runtime_hub(shas: Vec<&'static str>) -> (String, Arc<AtomicUsize>) {
    let polls = Arc::new(AtomicUsize::new(0));
    let counter = polls.clone();
    let app = axum::Router::new().route(
        "/api/spaces/local/sha/runtime",
        axum::routing::get(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let sha = shas[n.min(shas.len() - 1)];
            async move {
                axum::Json(serde_json::json!({
                    "stage": "RUNNING",
                    "hardware": {"current": "cpu-basic", "requested": "cpu-basic"},
                    "sha": sha,
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, polls)
}

/// Not in any recorded Hub answer (UNCONFIRMED): when the runtime names the commit it runs, the
/// wait after a push trusts it, grace or not: the previous commit's RUNNING is not ours.
#[tokio::test(flavor = "multi_thread")]
async fn when_the_runtime_names_its_commit_only_the_pushed_one_counts() {
    const OLD: &str = "1111111111111111111111111111111111111111";
    const NEW: &str = "2222222222222222222222222222222222222222";
    let (url, polls) = fake_runtime_hub(vec![OLD, OLD, OLD, NEW]).await;
    let client = HubClient::builder()
        .endpoint(url)
        .token(SecretString::new(DEFAULT_WRITE_TOKEN))
        .max_attempts(1)
        .build()
        .unwrap();
    let id = SpaceId::parse("local/sha", Field::Space).unwrap();
    let mut report = DeployReport {
        changed: true,
        commit_sha: Some(NEW.into()),
        ..DeployReport::default()
    };
    let events = Events::default();
    // No grace at all: without the commit, the first RUNNING would be taken.
    let runtime = wait_for_running(
        &client,
        &id,
        Instant::now() + Duration::from_secs(20),
        &poll(Duration::ZERO),
        true,
        &events,
        &mut report,
    )
    .await
    .unwrap();
    assert_eq!(runtime.sha.as_deref(), Some(NEW));
    assert_eq!(
        polls.load(Ordering::SeqCst),
        4,
        "three RUNNING of the old commit skipped"
    );
    assert_eq!(events.warnings(), Vec::<String>::new());
}
