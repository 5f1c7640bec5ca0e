//! Faulty and hostile servers for the trust tests: faults on every remote call, a held answer,
//! redirects to the foreign host (which records credentials), LFS targets on the foreign host,
//! endless and huge bodies, and the numbers fault of the token exchange.

use crate::common;

use std::time::{Duration, Instant};

use common::{auth, client};
use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, FaultRule, HUB_AUDIENCE, JobClaims, ScriptedApp,
    ScriptedResponse, ScriptedRoute, ScriptedRunner, TrustedPublisher, issue_github_oidc_token,
};
use serde_json::{Value, json};

const OID: &str = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

/// A scripted stand-in with a RUNNING Space `local/target` whose app answers `GET /health`.
async fn emulator() -> Emulator {
    let app = ScriptedApp::new()
        .route(ScriptedRoute::get("/health").then(ScriptedResponse::json(200, "{}")));
    let emu = common::scripted(ScriptedRunner::running().app(app).skip_repo_checks()).await;
    common::create_space(&emu, "target", false).await;
    common::wait_stage(&emu, "local/target", Duration::from_secs(5)).await;
    emu
}

/// One request of each remote call the tool makes: (method, url, body, the rule for it).
fn calls(emu: &Emulator) -> Vec<(&'static str, String, Vec<u8>, FaultRule)> {
    let url = emu.url();
    let host = emu.space_host("local/target").unwrap();
    let space = format!("{url}/spaces/local/target");
    let batch = json!({"operation": "upload", "transfers": ["basic"], "objects": [{"oid": OID, "size": 3}]});
    vec![
        (
            "GET",
            format!("{url}/api/spaces/local/target/runtime"),
            vec![],
            FaultRule::new("GET", "/api/spaces/*/runtime"),
        ),
        (
            "GET",
            format!("{space}/info/refs?service=git-upload-pack"),
            vec![],
            FaultRule::new("GET", "/spaces/*/info/refs").query("service=git-upload-pack"),
        ),
        (
            "GET",
            format!("{space}/info/refs?service=git-receive-pack"),
            vec![],
            FaultRule::new("GET", "/spaces/*/info/refs").query("service=git-receive-pack"),
        ),
        (
            "POST",
            format!("{space}/git-upload-pack"),
            vec![],
            FaultRule::new("POST", "/spaces/*/git-upload-pack"),
        ),
        (
            "POST",
            format!("{space}/git-receive-pack"),
            vec![],
            FaultRule::new("POST", "/spaces/*/git-receive-pack"),
        ),
        (
            "POST",
            format!("{space}.git/info/lfs/objects/batch"),
            batch.to_string().into_bytes(),
            FaultRule::new("POST", "/spaces/*/info/lfs/objects/batch"),
        ),
        (
            "PUT",
            format!("{url}/lfs/upload/{OID}"),
            b"foo".to_vec(),
            FaultRule::new("PUT", "/lfs/upload/*"),
        ),
        (
            "POST",
            format!("{url}/lfs/verify/local/target"),
            json!({"oid": OID, "size": 3}).to_string().into_bytes(),
            FaultRule::new("POST", "/lfs/verify/*"),
        ),
        (
            "POST",
            format!("{url}/oauth/token"),
            b"{}".to_vec(),
            FaultRule::new("POST", "/oauth/token"),
        ),
        (
            "GET",
            format!("{host}/health"),
            vec![],
            FaultRule::app("GET", "/health"),
        ),
    ]
}

async fn send(method: &str, url: &str, body: &[u8]) -> reqwest::Result<reqwest::Response> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    client()
        .request(method, url)
        .header("authorization", auth())
        .body(body.to_vec())
        .send()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_remote_call_can_fail_each_way() {
    let emu = emulator().await;
    for (method, url, body, rule) in calls(&emu) {
        emu.faults().add(rule.clone().rate_limited(9).times(1));
        for status in [500, 502, 503] {
            emu.faults().add(rule.clone().status(status).times(1));
        }
        emu.faults().add(rule.clone().drop_connection().times(1));
        let r = send(method, &url, &body).await.unwrap();
        assert_eq!(r.status(), 429, "{method} {url}");
        assert_eq!(r.headers()["retry-after"], "9", "{method} {url}");
        for status in [500, 502, 503] {
            let r = send(method, &url, &body).await.unwrap();
            assert_eq!(r.status(), status, "{method} {url}");
        }
        assert!(
            send(method, &url, &body).await.is_err(),
            "{method} {url}: dropped"
        );
        // the rules are spent: the call is answered for real
        assert_eq!(emu.faults().active(), 0, "{method} {url}");
        let r = send(method, &url, &body).await.unwrap();
        assert_ne!(r.status(), 429, "{method} {url}");
    }
    // a query narrows a rule: the fetch advertisement is not the push one
    emu.faults().add(
        FaultRule::new("GET", "/spaces/*/info/refs")
            .query("service=git-receive-pack")
            .status(503),
    );
    let space = format!("{}/spaces/local/target", emu.url());
    let fetch = send(
        "GET",
        &format!("{space}/info/refs?service=git-upload-pack"),
        b"",
    )
    .await
    .unwrap();
    assert_eq!(fetch.status(), 200);
    let push = send(
        "GET",
        &format!("{space}/info/refs?service=git-receive-pack"),
        b"",
    )
    .await
    .unwrap();
    assert_eq!(push.status(), 503);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_answer_holds_no_other_request_and_shutdown_ends_it() {
    let emu = emulator().await;
    emu.faults().add(
        FaultRule::new("GET", "/api/whoami-v2")
            .latency(Duration::from_secs(120))
            .times(1),
    );
    let url = emu.url();
    let held = tokio::spawn(async move {
        let started = Instant::now();
        let r = client()
            .get(format!("{url}/api/whoami-v2"))
            .header("authorization", auth())
            .send()
            .await;
        (started.elapsed(), r.map(|r| r.status().as_u16()))
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // meanwhile other requests, the same route included, answer at once
    for path in ["/api/whoami-v2", "/api/spaces/local/target/runtime"] {
        let started = Instant::now();
        let r = client()
            .get(format!("{}{path}", emu.url()))
            .header("authorization", auth())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{path}: {:?}",
            started.elapsed()
        );
    }
    let host = emu.space_host("local/target").unwrap();
    assert_eq!(
        client()
            .get(format!("{host}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(!held.is_finished(), "the held request is still waiting");
    emu.shutdown().await;
    let (elapsed, result) = tokio::time::timeout(Duration::from_secs(10), held)
        .await
        .expect("shutdown ends the held request")
        .unwrap();
    assert!(result.is_err(), "cut, not answered: {result:?}");
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_lead_to_the_foreign_host_which_records_credentials() {
    let emu = emulator().await;
    let foreign = emu.foreign_host().clone();
    assert!(foreign.url().starts_with("http://127.0.0.1:") && foreign.url() != emu.url());
    let no_follow = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (status, path, query) in [
        (301, "/api/spaces/local/target/runtime", ""),
        (
            302,
            "/spaces/local/target/info/refs",
            "service=git-upload-pack",
        ),
        (307, "/spaces/local/target.git/info/lfs/objects/batch", ""),
        (308, "/lfs/upload/x", ""),
    ] {
        emu.faults().add(
            FaultRule::new("*", path)
                .redirect_to_foreign(status)
                .times(1),
        );
        let url = if query.is_empty() {
            format!("{}{path}", emu.url())
        } else {
            format!("{}{path}?{query}", emu.url())
        };
        let r = no_follow
            .get(&url)
            .bearer_auth(DEFAULT_WRITE_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let want = if query.is_empty() {
            format!("{}{path}", foreign.url())
        } else {
            format!("{}{path}?{query}", foreign.url())
        };
        assert_eq!(location, want);
    }
    // a client that drops credentials on another origin (reqwest does) leaves none there
    emu.faults().add(
        FaultRule::new("GET", "/api/spaces/*/runtime")
            .redirect_to_foreign(307)
            .times(1),
    );
    let r = client()
        .get(format!("{}/api/spaces/local/target/runtime", emu.url()))
        .bearer_auth(DEFAULT_WRITE_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({}),
        "the foreign host answered"
    );
    assert_eq!(foreign.requests().len(), 1);
    assert!(
        foreign.credentials_seen().is_empty(),
        "{:?}",
        foreign.requests()
    );
    // one that carries them is caught: a header, or a token in the query
    let leaky = no_follow
        .get(format!("{}/anything", foreign.url()))
        .header(
            "authorization",
            format!(
                "Basic {}",
                "aGZfdXNlcjpoZl9lbXVsYXRvcl93cml0ZV90b2tlbl8wMDAw"
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(leaky.status(), 200);
    foreign.set_status(404);
    let r = no_follow
        .get(format!("{}/x?token={DEFAULT_WRITE_TOKEN}", foreign.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let seen = foreign.credentials_seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let shown = format!("{seen:?}");
    assert!(
        !shown.contains(DEFAULT_WRITE_TOKEN) && !shown.contains("aGZf"),
        "{shown}"
    );
    assert_eq!(
        seen[0]
            .header("authorization")
            .map(|h| h.starts_with("Basic ")),
        Some(true)
    );
    foreign.clear();
    assert!(foreign.requests().is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn lfs_targets_can_point_at_the_foreign_host() {
    let emu = emulator().await;
    let batch = |transfers: Value, size: u64| {
        let url = format!(
            "{}/spaces/local/target.git/info/lfs/objects/batch",
            emu.url()
        );
        async move {
            let r = client()
                .post(url)
                .header("authorization", auth())
                .header("content-type", "application/vnd.git-lfs+json")
                .json(&json!({"operation": "upload", "transfers": transfers, "objects": [{"oid": OID, "size": size}]}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let foreign = emu.foreign_host().url();
    emu.point_lfs_at_foreign_host(true, false);
    let v = batch(json!(["basic"]), 3).await;
    let actions = &v["objects"][0]["actions"];
    assert!(
        actions["upload"]["href"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{foreign}/lfs/upload/")),
        "{v}"
    );
    assert!(
        actions["upload"].get("header").is_none(),
        "no credentials of its own: {v}"
    );
    assert!(
        actions["verify"]["href"]
            .as_str()
            .unwrap()
            .starts_with(&emu.url()),
        "{v}"
    );
    emu.point_lfs_at_foreign_host(false, true);
    let v = batch(json!(["basic", "multipart"]), 20 * 1024 * 1024).await;
    let actions = &v["objects"][0]["actions"];
    assert_eq!(v["transfer"], "multipart");
    assert!(
        actions["upload"]["href"]
            .as_str()
            .unwrap()
            .starts_with(&emu.url()),
        "{v}"
    );
    assert!(
        actions["verify"]["href"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{foreign}/lfs/verify/")),
        "{v}"
    );
    emu.point_lfs_at_foreign_host(true, true);
    let v = batch(json!(["basic", "multipart"]), 20 * 1024 * 1024).await;
    let header = v["objects"][0]["actions"]["upload"]["header"]
        .as_object()
        .unwrap();
    assert!(
        header["00001"].as_str().unwrap().starts_with(&foreign),
        "every part: {v}"
    );
    emu.point_lfs_at_foreign_host(false, false);
    let v = batch(json!(["basic"]), 3).await;
    assert!(
        v["objects"][0]["actions"]["upload"]["href"]
            .as_str()
            .unwrap()
            .starts_with(&emu.url())
    );
    emu.shutdown().await;
}

/// Reads `r`'s body until `cap` bytes or its end; the bytes read and whether it ended.
async fn read_capped(mut r: reqwest::Response, cap: usize) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    while got.len() < cap {
        match r.chunk().await {
            Ok(Some(c)) => got.extend_from_slice(&c),
            Ok(None) | Err(_) => return (got, true),
        }
    }
    (got, false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_and_huge_bodies() {
    let emu = emulator().await;
    let cap = 4 * 1024 * 1024;
    emu.faults().add(
        FaultRule::new("GET", "/api/spaces/*/runtime")
            .endless_body()
            .times(1),
    );
    let r = send(
        "GET",
        &format!("{}/api/spaces/local/target/runtime", emu.url()),
        b"",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let (body, ended) = read_capped(r, cap).await;
    assert!(
        !ended && body.starts_with(b"{\"data\":\"aaaa"),
        "{}",
        body.len()
    );

    emu.faults().add(
        FaultRule::new("GET", "/api/whoami-v2")
            .huge_body(1 << 30)
            .times(1),
    );
    let r = send("GET", &format!("{}/api/whoami-v2", emu.url()), b"")
        .await
        .unwrap();
    assert_eq!(r.headers()["content-length"], "1073741824");
    let (body, ended) = read_capped(r, cap).await;
    assert!(!ended && body.len() >= cap);

    emu.faults().add(
        FaultRule::new("GET", "/api/spaces/*/logs/*")
            .endless_sse_line()
            .times(1),
    );
    let r = send(
        "GET",
        &format!("{}/api/spaces/local/target/logs/run", emu.url()),
        b"",
    )
    .await
    .unwrap();
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let (body, ended) = read_capped(r, cap).await;
    assert!(!ended && body.starts_with(b"data: {\"data\":\"xxx") && !body.contains(&b'\n'));

    // the app's answer too (a health check's body cap)
    emu.faults()
        .add(FaultRule::app("GET", "/health").endless_body());
    let host = emu.space_host("local/target").unwrap();
    let r = client().get(format!("{host}/health")).send().await.unwrap();
    let (_, ended) = read_capped(r, cap).await;
    assert!(!ended);
    // shutdown ends an endless body that is still being read
    let r = client().get(format!("{host}/health")).send().await.unwrap();
    let reader = tokio::spawn(read_capped(r, usize::MAX));
    tokio::time::sleep(Duration::from_millis(200)).await;
    emu.shutdown().await;
    let (_, ended) = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .expect("the endless body ends with the stand-in")
        .unwrap();
    assert!(ended);
}

#[tokio::test]
async fn the_token_exchange_can_answer_impossible_lifetimes() {
    let emu = emulator().await;
    emu.add_trusted_publisher(
        "local/target",
        TrustedPublisher {
            repository: "acme/app".into(),
            workflow: None,
            git_ref: None,
        },
    );
    let exchange = || async {
        let job = issue_github_oidc_token(&JobClaims::new(
            "acme/app",
            "Deploy",
            "refs/heads/main",
            "push",
            HUB_AUDIENCE,
        ));
        let r = client()
            .post(format!("{}/oauth/token", emu.url()))
            .json(&json!({
                "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
                "subject_token": job,
                "resource": "spaces/local/target",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap()
    };
    let normal: Value = serde_json::from_str(&exchange().await).unwrap();
    assert_eq!(normal["expires_in"], 3600);
    for raw in ["18446744073709551615", "1e30", "-1", "\"3600\""] {
        emu.set_token_expires_in(Some(raw));
        let text = exchange().await;
        assert!(text.contains(&format!("\"expires_in\":{raw},")), "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        // the token itself still works
        let token = v["access_token"].as_str().unwrap();
        let r = client()
            .get(format!("{}/api/spaces/local/target/runtime", emu.url()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{raw}");
    }
    emu.set_token_expires_in(None);
    let v: Value = serde_json::from_str(&exchange().await).unwrap();
    assert_eq!(v["expires_in"], 3600);
    emu.shutdown().await;
}
