//! Auth, errors, visibility, logs, the scripted runner and fault injection.

use crate::common;

use std::time::Duration;

use common::{auth, client};
use hf_hub_emulator::{
    DEFAULT_READ_TOKEN, FaultRule, ScriptedApp, ScriptedResponse, ScriptedRoute, ScriptedRunner,
};
use serde_json::{Value, json};

#[tokio::test]
async fn auth_errors_and_visibility() {
    let emu = common::scripted(ScriptedRunner::running()).await;
    let url = emu.url();
    let c = client();
    // unknown token
    let r = c
        .get(format!("{url}/api/whoami-v2"))
        .header("authorization", "Bearer hf_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["x-error-message"],
        "Invalid credentials in Authorization header"
    );
    assert!(r.headers().contains_key("x-request-id"));
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": "Invalid username or password."})
    );
    // read token: whoami ok, writes refused
    let r = c
        .get(format!("{url}/api/whoami-v2"))
        .bearer_auth(DEFAULT_READ_TOKEN)
        .send()
        .await
        .unwrap();
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["auth"]["accessToken"]["role"], "read");
    assert_eq!(me["name"], "local");
    let r = c
        .post(format!("{url}/api/repos/create"))
        .bearer_auth(DEFAULT_READ_TOKEN)
        .json(&json!({"name": "x", "type": "space", "sdk": "docker"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    common::create_space(&emu, "priv", true).await;
    // owner sees it, with host/subdomain/cardData/siblings/runtime
    let info: Value = c
        .get(format!("{url}/api/spaces/local/priv"))
        .header("authorization", auth())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["id"], "local/priv");
    assert_eq!(info["private"], true);
    assert_eq!(info["subdomain"], "local-priv");
    assert_eq!(
        info["host"].as_str(),
        emu.space_host("local/priv").as_deref()
    );
    assert_eq!(info["cardData"]["sdk"], "docker");
    assert_eq!(info["sha"].as_str().unwrap().len(), 40);
    assert_eq!(
        info["siblings"],
        json!([{"rfilename": ".gitattributes"}, {"rfilename": "README.md"}])
    );
    assert!(info["runtime"]["stage"].is_string());
    // anonymous: 404 RepoNotFound, not 403
    let r = c
        .get(format!("{url}/api/spaces/local/priv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["x-error-code"], "RepoNotFound");
    // the app of a private Space needs a token
    let host = info["host"].as_str().unwrap().to_owned();
    assert_eq!(
        c.get(format!("{host}/")).send().await.unwrap().status(),
        401
    );
    // expand
    let r: Value = c
        .get(format!(
            "{url}/api/spaces/local/priv/revision/main?expand=sdk&expand=private"
        ))
        .header("authorization", auth())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        r.as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["_id", "id", "sdk", "private"]
    );
    let r = c
        .get(format!("{url}/api/spaces/local/priv?expand=bogus"))
        .header("authorization", auth())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = c
        .get(format!("{url}/api/spaces/local/priv/revision/nope"))
        .header("authorization", auth())
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-error-code"], "RevisionNotFound");
    // 409 carries the url
    let r = c
        .post(format!("{url}/api/repos/create"))
        .header("authorization", auth())
        .json(&json!({"name": "priv", "organization": "local", "type": "space", "sdk": "docker", "visibility": "private"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().await.unwrap()["url"],
        format!("{url}/spaces/local/priv")
    );
    // a fresh docker Space has no Dockerfile
    let stages = common::wait_stage(&emu, "local/priv", Duration::from_secs(5)).await;
    assert_eq!(stages.last().map(String::as_str), Some("NO_APP_FILE"));
    emu.shutdown().await;
}

#[tokio::test]
async fn config_errors_from_the_readme() {
    let emu = common::scripted(ScriptedRunner::running()).await;
    common::create_space(&emu, "cfg", false).await;
    common::commit_files(
        &emu,
        "local/cfg",
        &[("README.md", "---\nsdk: docker\ncolorFrom: teal\nshort_description: this description is definitely much longer than sixty characters\n---\n"), ("Dockerfile", "FROM scratch\n")],
    )
    .await;
    let stages = common::wait_stage(&emu, "local/cfg", Duration::from_secs(5)).await;
    assert_eq!(
        stages.last().map(String::as_str),
        Some("CONFIG_ERROR"),
        "{stages:?}"
    );
    let lines = common::log_lines(&emu, "local/cfg", "build").await;
    assert!(lines.iter().any(|l| l.contains("colorFrom")), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("short_description")),
        "{lines:?}"
    );
    // validate-yaml says the same
    let r = client()
        .post(format!("{}/api/validate-yaml", emu.url()))
        .json(&json!({"content": "---\nsdk: docker\ncolorTo: teal\n---\n", "repoType": "space"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.json::<Value>().await.unwrap()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("colorTo")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn scripted_app_and_sse_logs() {
    let health = ScriptedRoute::get("/health")
        .first(2, ScriptedResponse::status(503))
        .then(ScriptedResponse::json(200, r#"{"status":"ok"}"#));
    let runner = ScriptedRunner::running()
        .build_log("Step 1/4 : FROM python:3.12")
        .run_log("INFO:     Uvicorn running on http://0.0.0.0:7860")
        .app(
            ScriptedApp::new()
                .route(health)
                .cors_origin("https://me.github.io"),
        );
    let emu = common::scripted(runner).await;
    common::create_space(&emu, "app", false).await;
    common::commit_files(&emu, "local/app", &[("Dockerfile", "FROM python:3.12\n")]).await;
    let host = emu.space_host("local/app").unwrap();
    // not running yet: 503 like a cold start
    assert_eq!(
        client()
            .get(format!("{host}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    // follow mode: the build log stream ends once the build is over
    let sse = client()
        .get(format!("{}/api/spaces/local/app/logs/build", emu.url()))
        .header("authorization", auth())
        .send()
        .await
        .unwrap();
    assert_eq!(sse.headers()["content-type"], "text/event-stream");
    let text = tokio::time::timeout(Duration::from_secs(10), sse.text())
        .await
        .expect("stream ends")
        .unwrap();
    assert!(
        text.contains("data: {\"data\":\"Step 1/4 : FROM python:3.12\\n\",\"timestamp\":\""),
        "{text}"
    );
    let stages = common::wait_stage(&emu, "local/app", Duration::from_secs(5)).await;
    assert_eq!(stages.last().map(String::as_str), Some("RUNNING"));
    assert_eq!(
        common::log_lines(&emu, "local/app", "run").await,
        vec!["INFO:     Uvicorn running on http://0.0.0.0:7860\n"]
    );
    let c = client();
    assert_eq!(
        c.get(format!("{host}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    assert_eq!(
        c.get(format!("{host}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    let ok = c
        .get(format!("{host}/health"))
        .header("origin", "https://me.github.io")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://me.github.io"
    );
    assert_eq!(ok.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    let pre = c
        .request(reqwest::Method::OPTIONS, format!("{host}/chat"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(!pre.headers().contains_key("access-control-allow-origin"));
    emu.shutdown().await;
}

#[tokio::test]
async fn scripted_failure_stage() {
    let emu = common::scripted(
        ScriptedRunner::failing("BUILD_ERROR")
            .build_log("ERROR: No matching distribution found for fastapi==0.0.0"),
    )
    .await;
    common::create_space(&emu, "bad", false).await;
    common::commit_files(&emu, "local/bad", &[("Dockerfile", "FROM python:3.12\n")]).await;
    let stages = common::wait_stage(&emu, "local/bad", Duration::from_secs(5)).await;
    assert_eq!(
        stages.last().map(String::as_str),
        Some("BUILD_ERROR"),
        "{stages:?}"
    );
    let lines = common::log_lines(&emu, "local/bad", "build").await;
    assert!(lines.iter().any(|l| l.contains("No matching distribution")));
    emu.shutdown().await;
}

#[tokio::test]
async fn faults_503_twice_then_success() {
    let emu = common::scripted(ScriptedRunner::running()).await;
    emu.faults().add(
        FaultRule::new("POST", "/api/repos/create")
            .status(503)
            .times(2),
    );
    let body = json!({"name": "f", "type": "space", "sdk": "docker"});
    let c = client();
    for _ in 0..2 {
        let r = c
            .post(format!("{}/api/repos/create", emu.url()))
            .header("authorization", auth())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 503);
        assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    }
    let r = c
        .post(format!("{}/api/repos/create", emu.url()))
        .header("authorization", auth())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(emu.faults().active(), 0);
    let statuses: Vec<u16> = emu
        .request_log()
        .iter()
        .filter(|r| r.path == "/api/repos/create")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![503, 503, 200]);
    emu.shutdown().await;
}

#[tokio::test]
async fn faults_rate_limit_and_latency() {
    let emu = common::scripted(ScriptedRunner::running()).await;
    emu.faults().add(
        FaultRule::new("GET", "/api/whoami-v2")
            .rate_limited(7)
            .times(1),
    );
    emu.faults().add(
        FaultRule::new("GET", "/api/spaces/*")
            .latency(Duration::from_millis(400))
            .times(1),
    );
    let c = client();
    let r = c
        .get(format!("{}/api/whoami-v2", emu.url()))
        .header("authorization", auth())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(r.headers()["ratelimit"], "\"api\";r=0;t=7");
    assert_eq!(
        r.headers()["ratelimit-policy"],
        "\"fixed window\";\"api\";q=1000;w=300"
    );
    let r = c
        .get(format!("{}/api/whoami-v2", emu.url()))
        .header("authorization", auth())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let start = std::time::Instant::now();
    let r = c
        .get(format!("{}/api/spaces/local/none", emu.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(start.elapsed() >= Duration::from_millis(400));
    emu.shutdown().await;
}

#[tokio::test]
async fn faults_dropped_connection() {
    let emu = common::scripted(ScriptedRunner::running()).await;
    emu.faults().add(
        FaultRule::new("*", "/api/whoami-v2")
            .drop_connection()
            .times(1),
    );
    let c = client();
    let err = c
        .get(format!("{}/api/whoami-v2", emu.url()))
        .header("authorization", auth())
        .send()
        .await
        .unwrap_err();
    assert!(
        !err.is_status() && (err.is_request() || err.is_connect() || err.is_body()),
        "{err:?}"
    );
    let r = c
        .get(format!("{}/api/whoami-v2", emu.url()))
        .header("authorization", auth())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(emu.request_log()[0].status, 0);
    emu.shutdown().await;
}

#[tokio::test]
async fn other_users_and_the_request_log_file() {
    use hf_hub_emulator::{Emulator, EmulatorConfig, Role, Runner, TokenSpec};
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("requests.jsonl");
    let mut config = EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running()),
        request_log_file: Some(log_path.clone()),
        ..EmulatorConfig::default()
    };
    config
        .tokens
        .push(TokenSpec::new("hf_other_user_token", "other", Role::Write));
    let emu = Emulator::start(config).await.unwrap();
    common::create_space(&emu, "mine-private", true).await;
    common::create_space(&emu, "mine-public", false).await;
    let c = client();
    let other = |rb: reqwest::RequestBuilder| rb.bearer_auth("hf_other_user_token");
    let r = other(c.get(format!("{}/api/spaces/local/mine-private", emu.url())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = other(c.get(format!("{}/api/spaces/local/mine-public", emu.url())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = other(c.post(format!(
        "{}/api/spaces/local/mine-public/secrets",
        emu.url()
    )))
    .json(&json!({"key": "K", "value": "should-not-be-logged"}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    let r = other(c.post(format!("{}/api/repos/create", emu.url())))
        .json(&json!({"name": "x", "organization": "local", "type": "space", "sdk": "docker"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    emu.shutdown().await;
    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert_eq!(lines[4]["keys"], json!(["K"]));
    assert_eq!(lines[4]["status"], 403);
    assert!(!text.contains("should-not-be-logged") && !text.contains("hf_other_user_token"));
}

#[tokio::test]
async fn a_new_commit_cancels_the_running_build() {
    let runner = ScriptedRunner::running()
        .stage("BUILDING", Duration::from_millis(1500))
        .stage("APP_STARTING", Duration::from_millis(100));
    let emu = common::scripted(runner).await;
    common::create_space(&emu, "rebuild", false).await;
    common::commit_files(&emu, "local/rebuild", &[("Dockerfile", "FROM a\n")]).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    common::commit_files(&emu, "local/rebuild", &[("Dockerfile", "FROM b\n")]).await;
    let second = std::time::Instant::now();
    // the first build would have finished 800 ms after the second commit: it must not
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        emu.space_stage("local/rebuild").as_deref(),
        Some("BUILDING")
    );
    let stages = common::wait_stage(&emu, "local/rebuild", Duration::from_secs(5)).await;
    assert_eq!(stages.last().map(String::as_str), Some("RUNNING"));
    assert!(second.elapsed() >= Duration::from_millis(1500));
    emu.shutdown().await;
}

#[tokio::test]
async fn faults_on_the_app_and_app_requests_in_the_log() {
    let app = ScriptedApp::new()
        .route(ScriptedRoute::get("/health").then(ScriptedResponse::json(200, "{}")));
    let emu = common::scripted(ScriptedRunner::running().app(app)).await;
    common::create_space(&emu, "flaky", false).await;
    common::commit_files(&emu, "local/flaky", &[("Dockerfile", "FROM python:3.12\n")]).await;
    common::wait_stage(&emu, "local/flaky", Duration::from_secs(5)).await;
    emu.faults()
        .add(FaultRule::app("GET", "/health").status(502).times(1));
    emu.faults()
        .add(FaultRule::app("GET", "/health").drop_connection().times(1));
    let host = emu.space_host("local/flaky").unwrap();
    let c = client();
    assert_eq!(
        c.get(format!("{host}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        502
    );
    assert!(c.get(format!("{host}/health")).send().await.is_err());
    assert_eq!(
        c.get(format!("{host}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // an API rule does not touch the app and vice versa
    let app_log: Vec<(u16, bool)> = emu
        .request_log()
        .iter()
        .filter(|r| r.path == "/health")
        .map(|r| (r.status, r.app))
        .collect();
    assert_eq!(app_log, vec![(502, true), (0, true), (200, true)]);
    assert!(
        emu.request_log()
            .iter()
            .filter(|r| r.app)
            .all(|r| r.space.as_deref() == Some("local/flaky"))
    );
    emu.shutdown().await;
}
