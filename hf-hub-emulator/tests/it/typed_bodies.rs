//! Request bodies are typed: a field of the wrong type is a 400 naming the problem, and nothing
//! changes; well-typed bodies (with fields the stand-in ignores) are accepted.

use crate::common;

use common::{auth, client};
use hf_hub_emulator::ScriptedRunner;
use serde_json::{Value, json};

/// Sends `body` with the write token and returns the status and the `error` text.
async fn send(method: reqwest::Method, url: &str, body: Value) -> (u16, String) {
    let r = client()
        .request(method, url)
        .header("authorization", auth())
        .json(&body)
        .send()
        .await
        .expect("request to the stand-in");
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    let error = v
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    (status, error)
}

#[tokio::test]
async fn wrong_types_are_refused_and_change_nothing() {
    let emu = common::scripted(ScriptedRunner::running()).await;
    let url = emu.url();
    let space = format!("{url}/api/spaces/local/typed");
    use reqwest::Method;

    // create: `private` must be a boolean; nothing is created.
    let (status, error) = send(
        Method::POST,
        &format!("{url}/api/repos/create"),
        json!({"name": "typed", "type": "space", "sdk": "docker", "private": "yes"}),
    )
    .await;
    assert_eq!(status, 400, "{error}");
    assert!(
        error.starts_with("Invalid JSON body: invalid type"),
        "{error}"
    );
    assert!(emu.space_dir("local/typed").is_none());

    // a well-typed create with a field the stand-in does not use is accepted (on paid hardware,
    // where a sleep time can be set: free hardware's is fixed at 48 h)
    let (status, error) = send(
        Method::POST,
        &format!("{url}/api/repos/create"),
        json!({"name": "typed", "organization": null, "type": "space", "sdk": "docker",
               "private": false, "storage": null, "hardware": "cpu-upgrade", "sleepTimeSeconds": 3600,
               "secrets": [{"key": "S1", "value": "v", "description": null}]}),
    )
    .await;
    assert_eq!(status, 200, "{error}");

    let wrong: [(Method, &str, Value); 6] = [
        (Method::POST, "secrets", json!({"key": 42, "value": "v"})),
        (
            Method::POST,
            "variables",
            json!({"key": "V", "value": ["v"]}),
        ),
        (
            Method::POST,
            "hardware",
            json!({"flavor": "cpu-upgrade", "sleepTimeSeconds": "1h"}),
        ),
        (Method::POST, "sleeptime", json!({"seconds": "3600"})),
        (Method::PUT, "settings", json!({"private": "true"})),
        (
            Method::POST,
            "preupload/main",
            json!({"files": [{"path": "a.txt", "size": "12"}]}),
        ),
    ];
    for (method, route, body) in wrong {
        let (status, error) = send(method, &format!("{space}/{route}"), body).await;
        assert_eq!(status, 400, "{route}: {error}");
        assert!(
            error.starts_with("Invalid JSON body: invalid type"),
            "{route}: {error}"
        );
    }

    // nothing changed: hardware, sleep time, visibility and variables are as created
    let rt: Value = client()
        .get(format!("{space}/runtime"))
        .header("authorization", auth())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rt["hardware"]["requested"], json!("cpu-upgrade"), "{rt}");
    assert_eq!(rt["gcTimeout"], json!(3600), "{rt}");
    let vars: Value = client()
        .get(format!("{space}/variables"))
        .header("authorization", auth())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(vars, json!({}));

    // commit: a `file` line whose path is not a string names the line
    let ndjson = format!(
        "{}\n{}\n",
        json!({"key": "header", "value": {"summary": "typed"}}),
        json!({"key": "file", "value": {"path": 7, "content": "x"}})
    );
    let r = client()
        .post(format!("{space}/commit/main"))
        .header("authorization", auth())
        .header("content-type", "application/x-ndjson")
        .body(ndjson)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    let error = v["error"].as_str().unwrap_or("");
    assert!(
        error.starts_with("Invalid NDJSON line (`file`): invalid type"),
        "{error}"
    );

    emu.shutdown().await;
}
