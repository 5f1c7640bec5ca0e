//! Replays the real Hub interactions recorded in `shared/fixtures/hub-cassettes/` against the stand-in:
//! every response must have the recorded status and a body with the same keys and value types.

use crate::common;

use std::time::Duration;

use hf_hub_emulator::{DEFAULT_USER, DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, StageDelays};
use serde_json::Value;

#[derive(serde::Deserialize)]
struct Cassette {
    interactions: Vec<Interaction>,
}

#[derive(serde::Deserialize)]
struct Interaction {
    request: Req,
    response: Resp,
}

#[derive(serde::Deserialize)]
struct Req {
    body: Option<String>,
    method: String,
    uri: String,
}

#[derive(serde::Deserialize)]
struct Resp {
    body: RespBody,
    status: Status,
}

#[derive(serde::Deserialize)]
struct RespBody {
    string: String,
}

#[derive(serde::Deserialize)]
struct Status {
    code: u16,
}

const RECORDED_USER: &str = "user";

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Same keys and value types, recursively; plus equal values for fields that do not depend on time or ids.
fn same_shape(path: &str, recorded: &Value, actual: &Value, problems: &mut Vec<String>) {
    if type_name(recorded) != type_name(actual) {
        problems.push(format!(
            "{path}: recorded {} `{recorded}`, got {} `{actual}`",
            type_name(recorded),
            type_name(actual)
        ));
        return;
    }
    match (recorded, actual) {
        (Value::Object(r), Value::Object(a)) => {
            let rk: Vec<&String> = r.keys().collect();
            let ak: Vec<&String> = a.keys().collect();
            if rk != ak {
                problems.push(format!("{path}: recorded keys {rk:?}, got {ak:?}"));
            }
            for (k, rv) in r {
                if let Some(av) = a.get(k) {
                    if [
                        "stage",
                        "uploadMode",
                        "shouldIgnore",
                        "success",
                        "hookOutput",
                        "value",
                        "description",
                        "error",
                    ]
                    .contains(&k.as_str())
                        && rv != av
                    {
                        problems.push(format!("{path}.{k}: recorded `{rv}`, got `{av}`"));
                    }
                    same_shape(&format!("{path}.{k}"), rv, av, problems);
                }
            }
        }
        (Value::Array(r), Value::Array(a)) => {
            if r.len() != a.len() {
                problems.push(format!(
                    "{path}: recorded {} items, got {}",
                    r.len(),
                    a.len()
                ));
            }
            for (i, (rv, av)) in r.iter().zip(a).enumerate() {
                same_shape(&format!("{path}[{i}]"), rv, av, problems);
            }
        }
        _ => {}
    }
}

async fn replay(file: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/hub-cassettes")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading `{}`: {e}", path.display()));
    let cassette: Cassette = serde_yaml_ng::from_str(&text).expect("cassette YAML");
    // Long enough for the recorded `BUILDING` right after the commit to be observed.
    let config = EmulatorConfig {
        stage_delays: StageDelays {
            building: Duration::from_secs(3),
            app_starting: Duration::from_millis(100),
        },
        ..EmulatorConfig::default()
    };
    let emu = Emulator::start(config).await.expect("start");
    let client = common::client();
    let map_user = |s: &str| {
        s.replace("https://huggingface.co", &emu.url())
            .replace(&format!("/{RECORDED_USER}/"), &format!("/{DEFAULT_USER}/"))
            .replace(
                &format!("\"organization\": \"{RECORDED_USER}\""),
                &format!("\"organization\": \"{DEFAULT_USER}\""),
            )
    };
    let mut problems = Vec::new();
    for (i, it) in cassette.interactions.iter().enumerate() {
        let body = it.request.body.as_deref().map(map_user);
        if i == 0 && it.request.uri.ends_with("/api/repos/create") && it.response.status.code == 409
        {
            // The recording was made while the Space already existed.
            let r = client
                .post(format!("{}/api/repos/create", emu.url()))
                .header("authorization", format!("Bearer {DEFAULT_WRITE_TOKEN}"))
                .header("content-type", "application/json")
                .body(body.clone().unwrap_or_default())
                .send()
                .await
                .expect("pre-create");
            assert_eq!(r.status(), 200);
        }
        let url = map_user(&it.request.uri);
        let method = reqwest::Method::from_bytes(it.request.method.as_bytes()).expect("method");
        let mut rb = client
            .request(method, &url)
            .header("authorization", format!("Bearer {DEFAULT_WRITE_TOKEN}"));
        if let Some(b) = body {
            let ct = if url.contains("/commit/") {
                "application/x-ndjson"
            } else {
                "application/json"
            };
            rb = rb.header("content-type", ct).body(b);
        }
        let resp = rb.send().await.expect("send");
        let status = resp.status().as_u16();
        assert!(
            resp.headers().contains_key("x-request-id"),
            "{file} #{i}: no X-Request-Id"
        );
        let text = resp.text().await.expect("body");
        let label = format!("{file} #{i} {} {}", it.request.method, it.request.uri);
        if status != it.response.status.code {
            problems.push(format!(
                "{label}: recorded status {}, got {status} ({text})",
                it.response.status.code
            ));
            continue;
        }
        match serde_json::from_str::<Value>(&it.response.body.string) {
            Ok(recorded) => match serde_json::from_str::<Value>(&text) {
                Ok(actual) => same_shape(&label, &recorded, &actual, &mut problems),
                Err(_) => problems.push(format!("{label}: recorded JSON, got `{text}`")),
            },
            Err(_) => {
                if text != it.response.body.string {
                    problems.push(format!(
                        "{label}: recorded `{}`, got `{text}`",
                        it.response.body.string
                    ));
                }
            }
        }
    }
    emu.shutdown().await;
    assert!(
        problems.is_empty(),
        "differences from the real Hub:\n{}",
        problems.join("\n")
    );
}

#[tokio::test]
async fn manage_secrets_cassette() {
    replay("TestSpaceAPIProduction.test_manage_secrets.yaml").await;
}

#[tokio::test]
async fn manage_variables_cassette() {
    replay("TestSpaceAPIProduction.test_manage_variables.yaml").await;
}

#[tokio::test]
async fn space_runtime_cassette() {
    replay("TestSpaceAPIProduction.test_space_runtime.yaml").await;
}
