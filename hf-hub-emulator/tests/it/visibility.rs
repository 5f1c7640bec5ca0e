//! Visibility (`public`, `private`, `protected`), who reaches a Space's app, the paywall of
//! `protected`, the sleep time of free and paid hardware, and factory reboots.

use crate::common;

use std::time::Duration;

use common::{auth, client};
use hf_hub_emulator::{
    Emulator, EmulatorConfig, Role, Runner, ScriptedApp, ScriptedResponse, ScriptedRoute,
    ScriptedRunner, StageDelays, TokenSpec,
};
use serde_json::{Value, json};

const OTHER_TOKEN: &str = "hf_other_user_token_visibility";

/// A scripted stand-in whose apps answer `GET /health`, with a second user `other`.
async fn emulator() -> Emulator {
    let app = ScriptedApp::new()
        .route(ScriptedRoute::get("/health").then(ScriptedResponse::json(200, "{}")))
        .cors_origin("https://me.github.io");
    let mut config = EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running().app(app).skip_repo_checks()),
        stage_delays: StageDelays {
            building: Duration::from_millis(100),
            app_starting: Duration::from_millis(100),
        },
        ..EmulatorConfig::default()
    };
    config
        .tokens
        .push(TokenSpec::new(OTHER_TOKEN, "other", Role::Write));
    Emulator::start(config).await.expect("start the stand-in")
}

async fn create(emu: &Emulator, body: Value) -> (u16, Value) {
    let r = client()
        .post(format!("{}/api/repos/create", emu.url()))
        .header("authorization", auth())
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn info(emu: &Emulator, id: &str, token: Option<&str>) -> (u16, Value) {
    let mut rb = client().get(format!("{}/api/spaces/{id}", emu.url()));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn settings(emu: &Emulator, id: &str, body: Value) -> (u16, Value) {
    let r = client()
        .put(format!("{}/api/spaces/{id}/settings", emu.url()))
        .header("authorization", auth())
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// The status of `GET {host}/health` with `token` (and `OPTIONS` as a browser's preflight).
async fn app_status(emu: &Emulator, id: &str, token: Option<&str>, preflight: bool) -> u16 {
    let host = emu.space_host(id).unwrap();
    let mut rb = if preflight {
        client()
            .request(reqwest::Method::OPTIONS, format!("{host}/health"))
            .header("origin", "https://me.github.io")
            .header("access-control-request-method", "GET")
    } else {
        client().get(format!("{host}/health"))
    };
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    rb.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn protected_spaces_hide_the_repository_and_serve_the_app_to_anyone() {
    let emu = emulator().await;
    let token = hf_hub_emulator::DEFAULT_WRITE_TOKEN;
    for (name, visibility) in [
        ("prot", "protected"),
        ("priv", "private"),
        ("pub", "public"),
    ] {
        let (status, v) = create(
            &emu,
            json!({"name": name, "type": "space", "sdk": "docker", "visibility": visibility}),
        )
        .await;
        assert_eq!(status, 200, "{visibility}: {v}");
    }
    for id in ["local/prot", "local/priv", "local/pub"] {
        let stages = common::wait_stage(&emu, id, Duration::from_secs(5)).await;
        assert_eq!(stages.last().map(String::as_str), Some("RUNNING"), "{id}");
    }
    // the repository: private for `private` and `protected`
    let (_, prot) = info(&emu, "local/prot", Some(token)).await;
    assert_eq!(
        (prot["private"].clone(), prot["visibility"].clone()),
        (json!(true), json!("protected"))
    );
    let (_, priv_) = info(&emu, "local/priv", Some(token)).await;
    assert_eq!(
        (priv_["private"].clone(), priv_["visibility"].clone()),
        (json!(true), json!("private"))
    );
    let (_, public) = info(&emu, "local/pub", None).await;
    assert_eq!(
        (public["private"].clone(), public["visibility"].clone()),
        (json!(false), json!("public"))
    );
    assert_eq!(info(&emu, "local/prot", None).await.0, 404);
    assert_eq!(info(&emu, "local/prot", Some(OTHER_TOKEN)).await.0, 404);
    // the app: anyone for `protected` (a browser's preflight too), only readers for `private`
    for preflight in [false, true] {
        assert_eq!(app_status(&emu, "local/prot", None, preflight).await, 200);
        assert_eq!(app_status(&emu, "local/pub", None, preflight).await, 200);
        assert_eq!(app_status(&emu, "local/priv", None, preflight).await, 401);
        assert_eq!(
            app_status(&emu, "local/priv", Some(OTHER_TOKEN), preflight).await,
            401
        );
        assert_eq!(
            app_status(&emu, "local/priv", Some("hf_unknown"), preflight).await,
            401
        );
    }
    assert_eq!(
        app_status(&emu, "local/priv", Some(token), false).await,
        200
    );

    // `visibility` and `private` together, or an unknown visibility: 400, nothing created
    let (status, v) = create(
        &emu,
        json!({"name": "both", "type": "space", "sdk": "docker", "visibility": "protected", "private": true}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        v["error"],
        "`protected` is only supported for Spaces. Cannot be specified along with private."
    );
    let (status, _) = create(
        &emu,
        json!({"name": "both", "type": "space", "sdk": "docker", "visibility": "secret"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(emu.space_dir("local/both").is_none());

    // settings: `visibility` moves a Space between the three; both fields are a 400
    assert_eq!(
        settings(&emu, "local/pub", json!({"visibility": "protected"}))
            .await
            .0,
        200
    );
    let (_, v) = info(&emu, "local/pub", Some(token)).await;
    assert_eq!(v["visibility"], "protected");
    assert_eq!(info(&emu, "local/pub", None).await.0, 404);
    assert_eq!(app_status(&emu, "local/pub", None, false).await, 200);
    assert_eq!(
        settings(&emu, "local/pub", json!({"visibility": "private"}))
            .await
            .0,
        200
    );
    assert_eq!(app_status(&emu, "local/pub", None, false).await, 401);
    assert_eq!(
        settings(&emu, "local/pub", json!({"private": false}))
            .await
            .0,
        200
    );
    assert_eq!(app_status(&emu, "local/pub", None, false).await, 200);
    let (status, v) = settings(
        &emu,
        "local/pub",
        json!({"private": true, "visibility": "public"}),
    )
    .await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(info(&emu, "local/pub", None).await.0, 200, "unchanged");
    emu.shutdown().await;
}

#[tokio::test]
async fn protected_needs_a_paid_plan() {
    let emu = emulator().await;
    emu.set_pro("local", false);
    // a static Space passes the SDK paywall: the 402 is protected's
    let (status, v) = create(
        &emu,
        json!({"name": "s", "type": "space", "sdk": "static", "visibility": "protected"}),
    )
    .await;
    assert_eq!(status, 402, "{v}");
    assert!(v["error"].as_str().unwrap().contains("Protected"), "{v}");
    assert!(emu.space_dir("local/s").is_none());
    let (status, _) = create(
        &emu,
        json!({"name": "s", "type": "space", "sdk": "static", "visibility": "private"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, v) = settings(&emu, "local/s", json!({"visibility": "protected"})).await;
    assert_eq!(status, 402, "{v}");
    assert_eq!(
        info(&emu, "local/s", Some(hf_hub_emulator::DEFAULT_WRITE_TOKEN))
            .await
            .1["visibility"],
        "private"
    );
    emu.set_pro("local", true);
    assert_eq!(
        settings(&emu, "local/s", json!({"visibility": "protected"}))
            .await
            .0,
        200
    );
    emu.shutdown().await;
}

async fn post(emu: &Emulator, path: &str, body: Value) -> Value {
    let r = client()
        .post(format!("{}/api/spaces/local/sleepy/{path}", emu.url()))
        .header("authorization", auth())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn the_sleep_time_is_fixed_on_free_hardware_and_set_on_paid_hardware() {
    let emu = emulator().await;
    // asked at creation on cpu-basic: ignored
    let (status, _) = create(
        &emu,
        json!({"name": "sleepy", "type": "space", "sdk": "docker", "sleepTimeSeconds": 300}),
    )
    .await;
    assert_eq!(status, 200);
    let rt = post(&emu, "sleeptime", json!({"seconds": 3600})).await;
    assert_eq!(
        rt["gcTimeout"], 172800,
        "free hardware sleeps after 48 h: {rt}"
    );
    assert_eq!(rt["hardware"]["requested"], "cpu-basic");
    let (_, v) = info(
        &emu,
        "local/sleepy",
        Some(hf_hub_emulator::DEFAULT_WRITE_TOKEN),
    )
    .await;
    assert_eq!(v["runtime"]["gcTimeout"], 172800);
    // paid hardware: never sleeps unless asked, then as asked
    let rt = post(&emu, "hardware", json!({"flavor": "cpu-upgrade"})).await;
    assert_eq!(rt["gcTimeout"], Value::Null, "{rt}");
    assert_eq!(
        post(&emu, "sleeptime", json!({"seconds": 3600})).await["gcTimeout"],
        3600
    );
    assert_eq!(
        post(&emu, "sleeptime", json!({"seconds": -1})).await["gcTimeout"],
        Value::Null
    );
    let rt = post(
        &emu,
        "hardware",
        json!({"flavor": "t4-small", "sleepTimeSeconds": 600}),
    )
    .await;
    assert_eq!(rt["gcTimeout"], 600);
    // back on free hardware: 48 h again
    assert_eq!(
        post(
            &emu,
            "hardware",
            json!({"flavor": "cpu-basic", "sleepTimeSeconds": 60})
        )
        .await["gcTimeout"],
        172800
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn a_factory_reboot_restarts_and_is_in_the_request_log() {
    let emu = emulator().await;
    common::create_space(&emu, "fact", false).await;
    common::wait_stage(&emu, "local/fact", Duration::from_secs(5)).await;
    let starts = emu.space_starts("local/fact");
    let r = client()
        .post(format!(
            "{}/api/spaces/local/fact/restart?factory=true",
            emu.url()
        ))
        .header("authorization", auth())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["stage"], "BUILDING");
    assert_eq!(emu.space_starts("local/fact"), starts + 1);
    let stages = common::wait_stage(&emu, "local/fact", Duration::from_secs(5)).await;
    assert_eq!(stages.last().map(String::as_str), Some("RUNNING"));
    assert!(emu.request_log().iter().any(|r| r.method == "POST"
        && r.path == "/api/spaces/local/fact/restart"
        && r.query == "factory=true"
        && r.status == 200));
    emu.shutdown().await;
}
