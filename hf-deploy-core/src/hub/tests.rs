//! [`HubClient`] against fake Hubs: a tiny axum app (or a raw socket) on `127.0.0.1:0` per test.
//! The server is fake, the client is the real one.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use futures_util::StreamExt;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::{map_http_error, server_message};
use super::transport::{Call, CallKind, Failed};
use super::*;
use crate::wait::Idempotency;
use crate::{Error, Redactor, RemoteText, SecretString, SpaceId};

const TOKEN: &str = "hf_FakeToken1234567890abcdef";

// ----- the fake Hub ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: Option<String>,
    authorization: Option<String>,
    body: String,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: ReplyBody,
}

#[derive(Debug, Clone, Copy)]
enum End {
    /// Finish the body.
    Close,
    /// Keep the stream open.
    HoldOpen,
    /// Break the connection mid-body.
    Abort,
}

enum ReplyBody {
    Text(String),
    /// Chunks sent with a pause before each, then `end`.
    Chunks {
        chunks: Vec<(Duration, String)>,
        end: End,
    },
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply::text(status, body.to_string())
            .header("content-type", "application/json; charset=utf-8")
    }

    fn text(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: ReplyBody::Text(body.into()),
        }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }
}

type Responder = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

struct FakeHub {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeHub {
    /// Serve `respond(request, index of the request)` for every request.
    async fn start(respond: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> FakeHub {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let respond: Arc<Responder> = Arc::new(respond);
        let log = seen.clone();
        let app = axum::Router::new().fallback(move |request: Request| {
            let log = log.clone();
            let respond = respond.clone();
            async move { handle(request, log, respond).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        FakeHub { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    fn client(&self) -> HubClient {
        self.builder().build().expect("client")
    }

    fn builder(&self) -> HubClientBuilder {
        HubClient::builder()
            .endpoint(&self.url)
            .token(SecretString::new(TOKEN))
            .base_delay(Duration::from_millis(5))
            .max_delay(Duration::from_millis(20))
            .timeout(Duration::from_secs(10))
    }
}

async fn handle(request: Request, log: Arc<Mutex<Vec<Seen>>>, respond: Arc<Responder>) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let seen = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        authorization: parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    let index = {
        let mut log = log.lock().expect("lock");
        log.push(seen.clone());
        log.len() - 1
    };
    let reply = respond(&seen, index);
    let mut builder = Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        builder = builder.header(*name, value);
    }
    let body = match reply.body {
        ReplyBody::Text(text) => Body::from(text),
        ReplyBody::Chunks { chunks, end } => {
            let chunks = futures_util::stream::iter(chunks).then(|(pause, chunk)| async move {
                tokio::time::sleep(pause).await;
                Ok::<_, std::io::Error>(bytes::Bytes::from(chunk))
            });
            match end {
                End::Close => Body::from_stream(chunks),
                End::HoldOpen => Body::from_stream(chunks.chain(futures_util::stream::pending())),
                // The pause lets the server flush what it sent before the connection breaks.
                End::Abort => Body::from_stream(chunks.chain(futures_util::stream::once(async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Err(std::io::Error::other("connection lost"))
                }))),
            }
        }
    };
    builder.body(body).expect("response")
}

fn space() -> SpaceId {
    SpaceId::parse("user/tmp_test_space", crate::Field::Space).expect("space id")
}

fn whoami_json(role: &str) -> Value {
    json!({"type":"user","id":"62f264b9f3c90f4b6514a269","name":"user","fullname":"A User","orgs":[{"type":"org","name":"acme"}],
           "auth":{"type":"access_token","accessToken":{"displayName":"deploy","role":role,"createdAt":"2025-01-01T00:00:00.000Z"}}})
}

const RUNTIME_BUILDING: &str = r#"{"stage":"BUILDING","hardware":{"current":null,"requested":"cpu-basic"},"storage":null,"gcTimeout":172800,"replicas":{"requested":1},"devMode":false,"domains":[{"domain":"user-tmp-test-space.hf.space","stage":"READY"}]}"#;

fn runtime_reply() -> Reply {
    Reply::text(200, RUNTIME_BUILDING).header("content-type", "application/json; charset=utf-8")
}

/// Neither Display nor Debug of an error may carry the token.
fn assert_no_token(error: &Error) {
    let shown = format!("{error} {error:?} {:?}", error.hint());
    assert!(
        !shown.contains(TOKEN) && !shown.contains("FakeToken"),
        "token leaked: {shown}"
    );
}

// ----- whoami ---------------------------------------------------------------------------------

#[tokio::test]
async fn whoami_is_cached_after_the_first_success_and_shared_by_clones() {
    let hub = FakeHub::start(|_, _| Reply::json(200, whoami_json("write"))).await;
    let client = hub.client();
    let me = client.whoami().await.expect("whoami");
    assert_eq!(me.name, "user");
    assert_eq!(me.token_role(), Some("write"));
    let again = client.clone().whoami().await.expect("cached whoami");
    assert_eq!(again, me);
    let seen = hub.seen();
    assert_eq!(seen.len(), 1, "the second whoami must not reach the Hub");
    assert_eq!(seen[0].path, "/api/whoami-v2");
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test]
async fn whoami_failure_is_not_cached_and_401_is_an_invalid_token() {
    let hub = FakeHub::start(|_, index| {
        if index == 0 {
            Reply::json(401, json!({"error": "Invalid username or password."}))
                .header("x-request-id", "Root=1-whoami")
        } else {
            Reply::json(200, whoami_json("read"))
        }
    })
    .await;
    let client = hub.client();
    let error = client.whoami().await.expect_err("401");
    assert!(matches!(error, Error::InvalidToken { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "the Hub refused the token while trying to look up the account of the token"
    );
    assert_eq!(
        error.http_context().map(ToString::to_string).as_deref(),
        Some(
            format!(
                "GET {}/api/whoami-v2 answered 401: Invalid username or password. (request id Root=1-whoami)",
                hub.url
            )
            .as_str()
        )
    );
    assert_no_token(&error);
    assert!(client.whoami().await.expect("second try").is_read_only());
    assert_eq!(hub.seen().len(), 2);
}

// ----- create ---------------------------------------------------------------------------------

#[tokio::test]
async fn create_sends_the_documented_body_and_reads_the_url() {
    let hub = FakeHub::start(|_, _| {
        Reply::json(200, json!({"url":"https://huggingface.co/spaces/user/tmp_test_space","name":"user/tmp_test_space","id":"67cae57bc3f95553ede73be7"}))
    })
    .await;
    let options = CreateSpace {
        visibility: crate::Visibility::Private,
        hardware: Some("cpu-basic".into()),
        sleep_time_seconds: Some(3600),
        ..CreateSpace::default()
    };
    let created = hub
        .client()
        .create_space(&space(), &options)
        .await
        .expect("create");
    assert_eq!(
        created,
        Created {
            url: "https://huggingface.co/spaces/user/tmp_test_space".into(),
            existed: false
        }
    );
    let seen = hub.seen();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("POST", "/api/repos/create")
    );
    assert_eq!(
        seen[0].json(),
        json!({"name":"tmp_test_space","organization":"user","type":"space","sdk":"docker","private":true,"hardware":"cpu-basic","sleepTimeSeconds":3600})
    );
}

#[tokio::test]
async fn create_409_means_it_exists() {
    let hub = FakeHub::start(|_, _| {
        Reply::json(409, json!({"error":"You already created this space repo","url":"https://huggingface.co/spaces/user/tmp_test_space"}))
    })
    .await;
    let created = hub
        .client()
        .create_space(&space(), &CreateSpace::default())
        .await
        .expect("exists");
    assert_eq!(
        created,
        Created {
            url: "https://huggingface.co/spaces/user/tmp_test_space".into(),
            existed: true
        }
    );
    assert_eq!(hub.seen().len(), 1, "a plain 409 is not retried");
}

#[tokio::test]
async fn create_retries_a_conflicting_operation_409() {
    let hub = FakeHub::start(|_, index| {
        if index == 0 {
            Reply::json(
                409,
                json!({"error":"Cannot create repo: another conflicting operation is in progress"}),
            )
        } else {
            Reply::json(
                200,
                json!({"url":"https://huggingface.co/spaces/user/tmp_test_space"}),
            )
        }
    })
    .await;
    let created = hub
        .client()
        .create_space(&space(), &CreateSpace::default())
        .await
        .expect("create");
    assert!(!created.existed);
    assert_eq!(hub.seen().len(), 2);
}

#[tokio::test]
async fn create_402_fails_with_payment_required_when_the_space_is_not_visible() {
    let hub = FakeHub::start(|seen, _| match seen.path.as_str() {
        "/api/repos/create" => {
            Reply::json(402, json!({"error":"Docker Spaces require a paid plan"}))
                .header("x-request-id", "Root=1-pay")
        }
        _ => Reply::json(404, json!({"error":"Repository not found"}))
            .header("x-error-code", "RepoNotFound"),
    })
    .await;
    let error = hub
        .client()
        .create_space(&space(), &CreateSpace::default())
        .await
        .expect_err("402");
    assert!(matches!(error, Error::PaymentRequired { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "the Hub requires a payment method to create Space `user/tmp_test_space`"
    );
    let hint = error.hint().unwrap_or_default();
    for way_out in ["PRO", "organization", "`hardware`", "nothing was written"] {
        assert!(hint.contains(way_out), "{way_out}: {hint}");
    }
    assert_eq!(
        error
            .http_context()
            .and_then(|c| c.request_id.as_ref().map(RemoteText::as_data)),
        Some("Root=1-pay")
    );
    let paths: Vec<String> = hub.seen().into_iter().map(|s| s.path).collect();
    assert_eq!(
        paths,
        ["/api/repos/create", "/api/spaces/user/tmp_test_space"]
    );
    assert_no_token(&error);
}

#[tokio::test]
async fn create_403_succeeds_when_the_space_is_visible() {
    let hub = FakeHub::start(|seen, _| match seen.path.as_str() {
        "/api/repos/create" => Reply::json(
            403,
            json!({"error":"You don't have the rights to create a space under this namespace"}),
        ),
        "/api/whoami-v2" => Reply::json(200, whoami_json("fineGrained")),
        _ => Reply::json(200, json!({"id":"user/tmp_test_space","private":false})),
    })
    .await;
    let created = hub
        .client()
        .create_space(&space(), &CreateSpace::default())
        .await
        .expect("visible");
    assert_eq!(
        created,
        Created {
            url: format!("{}/spaces/user/tmp_test_space", hub.url),
            existed: true
        }
    );
}

#[tokio::test]
async fn create_401_with_the_invalid_credentials_message_is_an_invalid_token() {
    let hub = FakeHub::start(|seen, _| {
        Reply::json(401, json!({"error":"Invalid username or password."}))
            .header(
                "x-error-message",
                "Invalid credentials in Authorization header",
            )
            .header("x-request-id", format!("Root=1-{}", seen.path.len()))
    })
    .await;
    let error = hub
        .client()
        .create_space(&space(), &CreateSpace::default())
        .await
        .expect_err("401");
    assert!(matches!(error, Error::InvalidToken { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "the Hub refused the token while trying to create Space `user/tmp_test_space`"
    );
    assert_eq!(
        error.http_context().map(ToString::to_string),
        Some(format!(
            "POST {}/api/repos/create answered 401: Invalid credentials in Authorization header (request id Root=1-17)",
            hub.url
        ))
    );
    assert!(error.hint().is_some_and(|hint| hint.contains("`token`")));
    assert_no_token(&error);
}

// ----- info, runtime, lifecycle ---------------------------------------------------------------

#[tokio::test]
async fn space_info_and_app_url_from_the_hub_answer() {
    let hub = FakeHub::start(|_, _| {
        Reply::json(200, json!({"_id":"67cae57bc3f95553ede73be7","id":"user/tmp_test_space","author":"user","sha":"403adf5c8b48aecc6b4e5d3bfc402587153a707a",
            "private":true,"subdomain":"user-tmp-test-space","sdk":"docker","cardData":{"title":"X","sdk":"docker","app_port":7860},
            "siblings":[{"rfilename":".gitattributes"},{"rfilename":"Dockerfile"}],"likes":0,
            "runtime":serde_json::from_str::<Value>(RUNTIME_BUILDING).expect("runtime json")}))
    })
    .await;
    let info = hub.client().space_info(&space()).await.expect("info");
    assert_eq!(
        info.sha.as_deref(),
        Some("403adf5c8b48aecc6b4e5d3bfc402587153a707a")
    );
    assert!(info.private);
    assert_eq!(
        info.card_data.as_ref().and_then(|c| c.get("app_port")),
        Some(&json!(7860))
    );
    assert_eq!(info.siblings.len(), 2);
    assert_eq!(
        info.runtime.as_ref().map(|r| &r.stage),
        Some(&SpaceStage::Building)
    );
    assert_eq!(
        info.app_url(&space()),
        "https://user-tmp-test-space.hf.space"
    );
}

#[tokio::test]
async fn runtime_parses_the_recorded_answer_and_unknown_stages() {
    let hub = FakeHub::start(|_, index| {
        if index == 0 {
            runtime_reply()
        } else {
            Reply::json(
                200,
                json!({"stage":"WARMING_UP","hardware":null,"someNewField":[1,2]}),
            )
        }
    })
    .await;
    let client = hub.client();
    let runtime = client.runtime(&space()).await.expect("runtime");
    assert_eq!(runtime.stage, SpaceStage::Building);
    assert!(runtime.stage.is_in_progress());
    assert_eq!(runtime.hardware.requested.as_deref(), Some("cpu-basic"));
    assert_eq!(runtime.domains[0].domain, "user-tmp-test-space.hf.space");
    let unknown = client.runtime(&space()).await.expect("unknown stage");
    assert_eq!(unknown.stage, SpaceStage::from_wire("WARMING_UP"));
    assert_eq!(
        hub.seen()[0].path,
        "/api/spaces/user/tmp_test_space/runtime"
    );
}

#[tokio::test]
async fn lifecycle_calls_send_the_documented_requests() {
    let hub = FakeHub::start(|_, _| runtime_reply()).await;
    let client = hub.client();
    client
        .restart(&space(), true)
        .await
        .expect("factory restart");
    client.restart(&space(), false).await.expect("restart");
    client.pause(&space()).await.expect("pause");
    client.set_sleep_time(&space(), -1).await.expect("sleep");
    client
        .request_hardware(&space(), "cpu-upgrade")
        .await
        .expect("hardware");
    let seen: Vec<(String, String, Option<String>, Value)> = hub
        .seen()
        .iter()
        .map(|s| (s.method.clone(), s.path.clone(), s.query.clone(), s.json()))
        .collect();
    let base = "/api/spaces/user/tmp_test_space";
    assert_eq!(
        seen,
        vec![
            (
                "POST".into(),
                format!("{base}/restart"),
                Some("factory=true".into()),
                Value::Null
            ),
            ("POST".into(), format!("{base}/restart"), None, Value::Null),
            ("POST".into(), format!("{base}/pause"), None, Value::Null),
            (
                "POST".into(),
                format!("{base}/sleeptime"),
                None,
                json!({"seconds": -1})
            ),
            (
                "POST".into(),
                format!("{base}/hardware"),
                None,
                json!({"flavor": "cpu-upgrade"})
            ),
        ]
    );
}

#[tokio::test]
async fn restart_is_not_sent_again_after_a_server_error_but_pause_is() {
    let hub = FakeHub::start(|seen, index| {
        if seen.path.ends_with("/restart") || index == 1 {
            Reply::text(503, "upstream unavailable")
        } else {
            runtime_reply()
        }
    })
    .await;
    let client = hub.client();
    let error = client.restart(&space(), true).await.expect_err("503");
    assert!(
        matches!(error, Error::Server { attempts: 1, .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "the Hub failed with a server error while trying to factory-rebuild Space `user/tmp_test_space`"
    );
    let url = error
        .http_context()
        .map(|c| c.url.clone())
        .unwrap_or_default();
    assert_eq!(
        url,
        format!("{}/api/spaces/user/tmp_test_space/restart", hub.url),
        "no query in error URLs"
    );
    assert_eq!(hub.seen().len(), 1);
    client
        .pause(&space())
        .await
        .expect("pause retried past one 503");
    assert_eq!(hub.seen().len(), 3);
}

// ----- secrets and variables ------------------------------------------------------------------

#[tokio::test]
async fn secrets_listing_is_optional_on_404_and_405_but_not_for_a_missing_space() {
    let hub = FakeHub::start(|_, index| match index {
        0 => Reply::json(200, json!({"ALLOWED_ORIGINS":{"description":"CORS","updatedAt":"2026-01-01T00:00:00.000Z"},"GEMINI_API_KEY":{}})),
        1 => Reply::text(404, "Cannot GET /api/spaces/user/tmp_test_space/secrets"),
        2 => Reply::text(405, ""),
        _ => Reply::json(404, json!({"error":"Repository not found"})).header("x-error-code", "RepoNotFound"),
    })
    .await;
    let client = hub.client();
    let listed = client
        .secrets(&space())
        .await
        .expect("list")
        .expect("supported");
    assert_eq!(
        listed.keys().collect::<Vec<_>>(),
        ["ALLOWED_ORIGINS", "GEMINI_API_KEY"]
    );
    assert_eq!(
        listed["ALLOWED_ORIGINS"].description.as_deref(),
        Some("CORS")
    );
    assert_eq!(client.secrets(&space()).await.expect("404"), None);
    assert_eq!(client.secrets(&space()).await.expect("405"), None);
    let error = client.secrets(&space()).await.expect_err("missing space");
    assert_eq!(
        error.to_string(),
        "Space `user/tmp_test_space` was not found on the Hub"
    );
}

#[derive(Debug, Deserialize)]
struct Cassette {
    interactions: Vec<Interaction>,
}

#[derive(Debug, Clone, Deserialize)]
struct Interaction {
    request: RecordedRequest,
    response: RecordedResponse,
}

#[derive(Debug, Clone, Deserialize)]
struct RecordedRequest {
    body: Option<String>,
    method: String,
    uri: String,
}

#[derive(Debug, Clone, Deserialize)]
struct RecordedResponse {
    body: RecordedBody,
    #[serde(default)]
    headers: BTreeMap<String, Vec<String>>,
    status: RecordedStatus,
}

#[derive(Debug, Clone, Deserialize)]
struct RecordedBody {
    string: String,
}

#[derive(Debug, Clone, Deserialize)]
struct RecordedStatus {
    code: u16,
}

impl Interaction {
    fn path(&self) -> &str {
        let uri = self
            .request
            .uri
            .trim_start_matches("https://huggingface.co");
        uri.split('?').next().unwrap_or(uri)
    }

    fn request_json(&self) -> Value {
        self.request
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null)
    }

    fn response_header(&self, name: &str) -> Option<&str> {
        self.response
            .headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, values)| values.first())
            .map(String::as_str)
    }
}

fn cassette(name: &str) -> Vec<Interaction> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/hub-cassettes")
        .join(format!("TestSpaceAPIProduction.{name}.yaml"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let cassette: Cassette =
        serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    cassette.interactions
}

/// The calls this client makes (the cassettes also hold huggingface_hub's commit calls).
fn is_client_call(interaction: &Interaction) -> bool {
    let path = interaction.path();
    path.starts_with("/api/repos/")
        || path.ends_with("/secrets")
        || path.ends_with("/variables")
        || path.ends_with("/runtime")
}

/// A fake Hub that answers with the recorded responses, in order, and notes every request that
/// differs from the recorded one.
async fn replay(interactions: Vec<Interaction>) -> (FakeHub, Arc<Mutex<Vec<String>>>) {
    let queue = Arc::new(Mutex::new(VecDeque::from(interactions)));
    let mismatches: Arc<Mutex<Vec<String>>> = Arc::default();
    let noted = mismatches.clone();
    let hub = FakeHub::start(move |seen, _| {
        let Some(recorded) = queue.lock().expect("lock").pop_front() else {
            noted
                .lock()
                .expect("lock")
                .push(format!("unexpected {} {}", seen.method, seen.path));
            return Reply::text(418, "no more recorded interactions");
        };
        let expected = (
            recorded.request.method.as_str(),
            recorded.path(),
            recorded.request_json(),
        );
        if (seen.method.as_str(), seen.path.as_str(), seen.json()) != expected {
            noted.lock().expect("lock").push(format!(
                "sent {} {} {}, recorded {expected:?}",
                seen.method, seen.path, seen.body
            ));
        }
        let mut reply = Reply::text(
            recorded.response.status.code,
            recorded.response.body.string.clone(),
        );
        for name in ["content-type", "x-request-id"] {
            if let Some(value) = recorded.response_header(name) {
                reply = reply.header(name, value);
            }
        }
        reply
    })
    .await;
    (hub, mismatches)
}

#[tokio::test]
async fn secrets_round_trip_against_the_recorded_hub() {
    let interactions: Vec<Interaction> = cassette("test_manage_secrets")
        .into_iter()
        .filter(is_client_call)
        .collect();
    assert_eq!(
        interactions.len(),
        11,
        "create, 7 sets, 2 deletes, delete repo"
    );
    let (hub, mismatches) = replay(interactions.clone()).await;
    let client = hub.client();
    for interaction in &interactions {
        let body = interaction.request_json();
        let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
        match (interaction.request.method.as_str(), interaction.path()) {
            ("POST", "/api/repos/create") => {
                let options = CreateSpace {
                    visibility: crate::Visibility::Private,
                    sdk: "gradio".into(),
                    ..CreateSpace::default()
                };
                let created = client
                    .create_space(&space(), &options)
                    .await
                    .expect("create");
                assert!(created.existed, "the recording answers 409");
                assert_eq!(
                    created.url,
                    "https://huggingface.co/spaces/user/tmp_test_space"
                );
            }
            ("POST", _) => {
                let value = SecretString::new(text("value").expect("value"));
                let key = text("key").expect("key");
                client
                    .set_secret(&space(), &key, &value, text("description").as_deref())
                    .await
                    .expect("set");
            }
            ("DELETE", "/api/repos/delete") => {
                client.delete_space(&space()).await.expect("delete repo")
            }
            ("DELETE", _) => client
                .delete_secret(&space(), &text("key").expect("key"))
                .await
                .expect("delete"),
            other => panic!("unexpected recorded call {other:?}"),
        }
    }
    assert_eq!(
        mismatches.lock().expect("lock").clone(),
        Vec::<String>::new()
    );
    assert_eq!(hub.seen().len(), 11);
}

#[tokio::test]
async fn variables_round_trip_against_the_recorded_hub() {
    let interactions: Vec<Interaction> = cassette("test_manage_variables")
        .into_iter()
        .filter(is_client_call)
        .collect();
    assert_eq!(
        interactions.len(),
        11,
        "create, 2 lists, 5 sets, 2 deletes, delete repo"
    );
    let (hub, mismatches) = replay(interactions.clone()).await;
    let client = hub.client();
    for interaction in &interactions {
        let body = interaction.request_json();
        let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
        let recorded = || -> BTreeMap<String, Variable> {
            serde_json::from_str(&interaction.response.body.string).expect("recorded map")
        };
        match (interaction.request.method.as_str(), interaction.path()) {
            ("POST", "/api/repos/create") => {
                let options = CreateSpace {
                    visibility: crate::Visibility::Private,
                    sdk: "gradio".into(),
                    ..CreateSpace::default()
                };
                let created = client
                    .create_space(&space(), &options)
                    .await
                    .expect("create");
                assert!(!created.existed);
            }
            ("GET", _) => assert_eq!(client.variables(&space()).await.expect("list"), recorded()),
            ("POST", _) => {
                let map = client
                    .set_variable(
                        &space(),
                        &text("key").expect("key"),
                        &text("value").expect("value"),
                        text("description").as_deref(),
                    )
                    .await
                    .expect("set");
                assert_eq!(map, recorded());
            }
            ("DELETE", "/api/repos/delete") => {
                client.delete_space(&space()).await.expect("delete repo")
            }
            ("DELETE", _) => {
                let map = client
                    .delete_variable(&space(), &text("key").expect("key"))
                    .await
                    .expect("delete");
                assert_eq!(map, recorded());
            }
            other => panic!("unexpected recorded call {other:?}"),
        }
    }
    assert_eq!(
        mismatches.lock().expect("lock").clone(),
        Vec::<String>::new()
    );
    let last = client.variables(&space()).await;
    assert!(
        last.is_err(),
        "the replay is exhausted: nothing was skipped"
    );
    let updated = &interactions[9].response.body.string;
    let map: BTreeMap<String, Variable> = serde_json::from_str(updated).expect("map");
    assert_eq!(
        map["foo"],
        Variable {
            value: "456".into(),
            description: Some("updated description".into()),
            updated_at: Some("2025-03-07T12:24:19.875Z".into())
        }
    );
}

#[test]
fn every_recorded_answer_parses_into_its_model() {
    let mut parsed = BTreeMap::<&str, usize>::new();
    for name in [
        "test_manage_secrets",
        "test_manage_variables",
        "test_space_runtime",
    ] {
        for interaction in cassette(name) {
            let body = &interaction.response.body.string;
            let status = interaction.response.status.code;
            let path = interaction.path().to_string();
            let method = interaction.request.method.as_str();
            let kind = match (method, path.as_str()) {
                ("POST", "/api/repos/create") => {
                    let url =
                        serde_json::from_str::<Value>(body).expect("create answer")["url"].clone();
                    assert_eq!(
                        url,
                        json!("https://huggingface.co/spaces/user/tmp_test_space"),
                        "{status}"
                    );
                    "create"
                }
                ("DELETE", "/api/repos/delete") => {
                    assert_eq!(body, "OK");
                    "delete"
                }
                (_, p) if p.ends_with("/runtime") => {
                    let runtime: SpaceRuntime = serde_json::from_str(body).expect("runtime");
                    assert_eq!(runtime.stage, SpaceStage::Building);
                    "runtime"
                }
                (_, p) if p.ends_with("/variables") => {
                    serde_json::from_str::<BTreeMap<String, Variable>>(body).expect("variables");
                    "variables"
                }
                (_, p) if p.ends_with("/secrets") => {
                    let map: BTreeMap<String, SecretInfo> =
                        serde_json::from_str(body).expect("secrets");
                    assert!(map.is_empty());
                    "secrets"
                }
                ("GET", p) if p.contains("/revision/") => {
                    let info: SpaceInfo = serde_json::from_str(body).expect("space info");
                    assert_eq!(info.id, "user/tmp_test_space");
                    "space info"
                }
                _ => "not ours",
            };
            *parsed.entry(kind).or_default() += 1;
        }
    }
    assert_eq!(
        parsed,
        BTreeMap::from([
            ("create", 3),
            ("delete", 3),
            ("not ours", 6),
            ("runtime", 1),
            ("secrets", 9),
            ("space info", 3),
            ("variables", 9),
        ])
    );
}

// ----- retries --------------------------------------------------------------------------------

#[tokio::test]
async fn recovers_from_two_503_then_200() {
    let hub = FakeHub::start(|_, index| {
        if index < 2 {
            Reply::text(503, "busy")
        } else {
            runtime_reply()
        }
    })
    .await;
    let runtime = hub.client().runtime(&space()).await.expect("third attempt");
    assert_eq!(runtime.stage, SpaceStage::Building);
    assert_eq!(hub.seen().len(), 3);
}

#[tokio::test]
async fn server_errors_give_up_after_max_attempts_and_say_how_many() {
    let hub = FakeHub::start(|_, _| {
        Reply::json(
            500,
            json!({"error":"Internal Error - We're working hard to fix this as soon as possible!"}),
        )
        .header("x-amzn-trace-id", "Root=1-trace")
    })
    .await;
    let client = hub.builder().max_attempts(3).build().expect("client");
    let error = client.runtime(&space()).await.expect_err("500");
    assert!(
        matches!(error, Error::Server { attempts: 3, .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "the Hub failed with a server error while trying to read the runtime of Space `user/tmp_test_space`"
    );
    assert_eq!(
        error.http_context().map(ToString::to_string),
        Some(format!(
            "GET {}/api/spaces/user/tmp_test_space/runtime answered 500: Internal Error - We're working hard to fix this as soon as possible! (request id Root=1-trace)",
            hub.url
        ))
    );
    assert_eq!(hub.seen().len(), 3);
}

#[tokio::test]
async fn honours_a_one_second_retry_after() {
    let hub = FakeHub::start(|_, index| {
        if index == 0 {
            Reply::json(429, json!({"error":"rate limited"})).header("retry-after", "1")
        } else {
            runtime_reply()
        }
    })
    .await;
    let started = Instant::now();
    hub.client()
        .runtime(&space())
        .await
        .expect("after the wait");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(1), "waited only {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "waited {elapsed:?}");
    assert_eq!(hub.seen().len(), 2);
}

#[tokio::test]
async fn a_wait_beyond_the_cap_fails_at_once_with_rate_limited() {
    let hub = FakeHub::start(|_, _| {
        Reply::json(429, json!({"error":"You've hit the rate limit"}))
            .header("ratelimit", "\"api\";r=0;t=120")
            .header("ratelimit-policy", "\"fixed window\";\"api\";q=500;w=300")
    })
    .await;
    let started = Instant::now();
    let error = hub.client().variables(&space()).await.expect_err("429");
    assert!(started.elapsed() < Duration::from_secs(2));
    match &error {
        Error::RateLimited { retry_after, .. } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(120)))
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    // The message names when the window resets, in UTC.
    let message = error.to_string();
    let (what, when) = message.split_once(" until ").expect("a reset time");
    assert_eq!(
        what,
        "the Hub rate-limited list the variables of Space `user/tmp_test_space`"
    );
    assert!(when.ends_with(" UTC") && when.len() == 23, "{message}");
    assert_eq!(hub.seen().len(), 1);
}

#[tokio::test]
async fn a_400_is_not_retried() {
    let hub = FakeHub::start(|_, _| {
        Reply::json(400, json!({"error":"Invalid flavor","error_description":"`gpu-huge` is not a hardware flavor"}))
    })
    .await;
    let error = hub
        .client()
        .request_hardware(&space(), "gpu-huge")
        .await
        .expect_err("400");
    assert!(matches!(error, Error::Refused { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "the Hub refused to request hardware `gpu-huge` for Space `user/tmp_test_space`"
    );
    assert_eq!(
        error
            .http_context()
            .and_then(|c| c.server_message.as_ref().map(RemoteText::as_data)),
        Some("Invalid flavor: `gpu-huge` is not a hardware flavor")
    );
    assert_eq!(hub.seen().len(), 1);
}

/// A raw socket: the first connection reads the request and closes without answering.
#[tokio::test]
async fn a_dropped_connection_is_retried_for_get() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        for connection in 0..2 {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut buffer = vec![0u8; 8192];
            let mut read = 0;
            while !buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buffer[read..]).await.expect("read");
                if n == 0 {
                    break;
                }
                read += n;
            }
            if connection == 0 {
                drop(socket);
                continue;
            }
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                RUNTIME_BUILDING.len(),
                RUNTIME_BUILDING
            );
            socket.write_all(response.as_bytes()).await.expect("write");
        }
    });
    let client = HubClient::builder()
        .endpoint(&url)
        .token(SecretString::new(TOKEN))
        .base_delay(Duration::from_millis(5))
        .build()
        .expect("client");
    let runtime = client
        .runtime(&space())
        .await
        .expect("second connection answers");
    assert_eq!(runtime.stage, SpaceStage::Building);
    server.await.expect("server");
}

#[tokio::test]
async fn nothing_listening_is_a_request_error_naming_the_url() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let client = HubClient::builder()
        .endpoint(&url)
        .token(SecretString::new(TOKEN))
        .max_attempts(2)
        .base_delay(Duration::from_millis(1))
        .build()
        .expect("client");
    let error = client.space_info(&space()).await.expect_err("refused");
    assert!(matches!(error, Error::Request { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "could not reach `{url}/api/spaces/user/tmp_test_space` to read Space `user/tmp_test_space`"
        )
    );
    assert_eq!(error.kind(), "network");
    assert_no_token(&error);
}

// ----- error mapping --------------------------------------------------------------------------

#[tokio::test]
async fn not_found_names_the_space_and_carries_the_request_id() {
    let hub = FakeHub::start(|_, _| {
        Reply::json(404, json!({"error":"Repository not found"}))
            .header("x-error-code", "RepoNotFound")
            .header("x-request-id", "Root=1-67cae57a-abc;dce0b1eb")
    })
    .await;
    let error = hub.client().space_info(&space()).await.expect_err("404");
    assert_eq!(
        error.to_string(),
        "Space `user/tmp_test_space` was not found on the Hub"
    );
    assert_eq!(error.kind(), "not_found");
    let context = error.http_context().expect("context");
    assert_eq!(
        context.to_string(),
        format!(
            "GET {}/api/spaces/user/tmp_test_space answered 404: Repository not found (request id Root=1-67cae57a-abc;dce0b1eb)",
            hub.url
        )
    );
    assert_eq!(
        context.error_code.as_ref().map(RemoteText::as_data),
        Some("RepoNotFound")
    );
}

#[tokio::test]
async fn forbidden_write_with_a_read_token_is_read_only() {
    for (role, expected) in [("read", "read_only_token"), ("write", "forbidden")] {
        let hub = FakeHub::start(move |seen, _| match seen.path.as_str() {
            "/api/whoami-v2" => Reply::json(200, whoami_json(role)),
            _ => Reply::json(403, json!({"error":"Forbidden"})),
        })
        .await;
        let error = hub
            .client()
            .set_secret(
                &space(),
                "GEMINI_API_KEY",
                &SecretString::new("sk-very-secret"),
                None,
            )
            .await
            .expect_err("403");
        assert_eq!(error.kind(), expected, "{role}: {error:?}");
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("sk-very-secret"), "{shown}");
        assert_no_token(&error);
    }
}

fn call(path: &str, kind: CallKind) -> Call {
    Call {
        method: if kind == CallKind::Write {
            reqwest::Method::POST
        } else {
            reqwest::Method::GET
        },
        path: path.into(),
        query: Vec::new(),
        body: None,
        action: "do it".into(),
        what: "Space `a/b`".into(),
        kind,
        idempotency: Idempotency::Idempotent,
    }
}

fn failed(status: u16, headers: &[(&'static str, &str)], body: &str) -> Failed {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, value.parse().expect("header"));
    }
    Failed {
        status,
        headers: map,
        body: body.into(),
    }
}

fn kind_of(call: &Call, failed: &Failed, role: Option<&str>) -> &'static str {
    map_http_error(call, "https://hub/x", failed, 1, role, &Redactor::none()).kind()
}

#[test]
fn status_mapping_table() {
    let space_read = call("/api/spaces/a/b", CallKind::Read);
    let space_write = call("/api/spaces/a/b/secrets", CallKind::Write);
    let create = call("/api/repos/create", CallKind::Write);
    let whoami = call("/api/whoami-v2", CallKind::WhoAmI);
    let invalid = [(
        "x-error-message",
        "Invalid credentials in Authorization header",
    )];
    let cases: Vec<(&Call, Failed, Option<&str>, &str)> = vec![
        (
            &space_read,
            failed(401, &[], "{\"error\":\"Invalid username or password.\"}"),
            None,
            "not_found",
        ),
        (
            &space_read,
            failed(401, &invalid, ""),
            None,
            "invalid_token",
        ),
        (&whoami, failed(401, &[], ""), None, "invalid_token"),
        (&create, failed(401, &[], ""), None, "invalid_token"),
        (
            &space_write,
            failed(401, &[], "{\"error\":\"Invalid username or password.\"}"),
            None,
            "invalid_token",
        ),
        (&space_read, failed(404, &[], ""), None, "not_found"),
        (
            &space_read,
            failed(400, &[("x-error-code", "RepoNotFound")], ""),
            None,
            "not_found",
        ),
        (&create, failed(402, &[], ""), None, "payment_required"),
        (
            &space_write,
            failed(
                403,
                &[],
                "{\"error\":\"You must add a payment method to your account to upgrade your space's hardware.\"}",
            ),
            None,
            "payment_required",
        ),
        (
            &space_write,
            failed(403, &[], ""),
            Some("read"),
            "read_only_token",
        ),
        (
            &space_write,
            failed(403, &[], ""),
            Some("fineGrained"),
            "forbidden",
        ),
        (
            &create,
            failed(
                403,
                &[],
                "{\"error\":\"You don't have the rights to create a space under this namespace\"}",
            ),
            None,
            "read_only_token",
        ),
        (&space_read, failed(403, &[], ""), Some("read"), "forbidden"),
        (&space_write, failed(409, &[], ""), None, "conflict"),
        (&space_read, failed(429, &[], ""), None, "rate_limited"),
        (
            &space_read,
            failed(502, &[], "<html>Bad Gateway</html>"),
            None,
            "server_error",
        ),
        (&space_read, failed(400, &[], ""), None, "refused"),
        (&space_read, failed(418, &[], ""), None, "refused"),
    ];
    for (call, failed, role, expected) in cases {
        assert_eq!(
            kind_of(call, &failed, role),
            expected,
            "{} {} {:?}",
            call.path,
            failed.status,
            failed.body
        );
    }
}

#[test]
fn server_message_reads_every_documented_body_shape() {
    let none = HeaderMap::new();
    let nothing = Redactor::none();
    let message =
        |body: &str| server_message(&none, body, &nothing).map(|m| m.as_data().to_string());
    assert_eq!(
        message("{\"error\":\"Repository not found\"}").as_deref(),
        Some("Repository not found")
    );
    assert_eq!(
        message("{\"error\":[\"first\",\"second\"]}").as_deref(),
        Some("first; second")
    );
    assert_eq!(
        message("{\"error\":\"invalid_grant\",\"error_description\":\"expired\"}").as_deref(),
        Some("invalid_grant: expired")
    );
    assert_eq!(
        message("{\"error_description\":\"only this\"}").as_deref(),
        Some("only this")
    );
    assert_eq!(
        message("{\"message\":\"from JS\"}").as_deref(),
        Some("from JS")
    );
    assert_eq!(
        message("{\"errors\":[{\"message\":\"a\"},{\"message\":\"b\"}]}").as_deref(),
        Some("a; b")
    );
    assert_eq!(
        message("Bad request for commit endpoint").as_deref(),
        Some("Bad request for commit endpoint")
    );
    assert_eq!(message("<html><body>502</body></html>"), None);
    assert_eq!(message("  "), None);
    assert_eq!(message(&"x".repeat(2000)).map(|m| m.len()), Some(500));

    let mut headers = HeaderMap::new();
    headers.insert(
        "x-error-message",
        "Access to this resource is disabled."
            .parse()
            .expect("header"),
    );
    assert_eq!(
        server_message(&headers, "{\"error\":\"other\"}", &nothing)
            .as_ref()
            .map(RemoteText::as_data),
        Some("Access to this resource is disabled.")
    );
    let token = SecretString::new(TOKEN);
    let echoed = format!("{{\"error\":\"token {TOKEN} is not allowed\"}}");
    assert_eq!(
        server_message(&none, &echoed, &Redactor::builder().secret(&token).build())
            .as_ref()
            .map(RemoteText::as_data),
        Some("token *** is not allowed")
    );
}

// ----- client construction --------------------------------------------------------------------

#[test]
fn client_and_log_stream_can_cross_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync::<HubClient>();
    assert_send::<LogStream>();
}

#[test]
fn debug_never_shows_the_token() {
    let client = HubClient::builder()
        .token(SecretString::new(TOKEN))
        .user_agent("hf-deploy-test/1")
        .build()
        .expect("client");
    let debug = format!(
        "{client:?} {client:#?} {:?}",
        HubClient::builder().token(SecretString::new(TOKEN))
    );
    assert!(debug.contains("token_set: true"), "{debug}");
    assert!(
        !debug.contains(TOKEN) && !debug.contains("FakeToken"),
        "{debug}"
    );
    assert_eq!(client.endpoint(), "https://huggingface.co");
    assert_eq!(client.token().map(SecretString::expose), Some(TOKEN));
    let anonymous = HubClient::builder().build().expect("anonymous");
    assert!(format!("{anonymous:?}").contains("token_set: false"));
}

#[test]
fn git_url_is_the_space_page_without_credentials() {
    let client = HubClient::builder()
        .endpoint("http://127.0.0.1:9/proxy/")
        .token(SecretString::new(TOKEN))
        .build()
        .expect("client");
    assert_eq!(client.endpoint(), "http://127.0.0.1:9/proxy");
    assert_eq!(
        client.git_url(&space()),
        "http://127.0.0.1:9/proxy/spaces/user/tmp_test_space"
    );
}

#[test]
fn builder_rejects_bad_input_without_echoing_the_token() {
    let error = HubClient::builder()
        .endpoint("ftp://hub")
        .build()
        .expect_err("scheme");
    assert!(
        error.to_string().starts_with("invalid `endpoint`"),
        "{error}"
    );
    let error = HubClient::builder()
        .endpoint("https://user:pw@hub.example")
        .build()
        .expect_err("credentials");
    assert!(
        error.is_usage() && !error.to_string().contains("pw@"),
        "{error}"
    );
    let error = HubClient::builder()
        .token(SecretString::new(format!("{TOKEN}\n")))
        .build()
        .expect_err("newline");
    assert_eq!(
        error.to_string(),
        "invalid `token`: contains spaces, line breaks or non-ASCII characters"
    );
    assert_no_token(&error);
    let error = HubClient::builder()
        .token(SecretString::new(""))
        .build()
        .expect_err("empty");
    assert_eq!(error.to_string(), "invalid `token`: is empty");
    let error = HubClient::builder()
        .max_attempts(0)
        .build()
        .expect_err("zero");
    assert!(error.is_usage());
}

// ----- logs -----------------------------------------------------------------------------------

fn event(text: &str, timestamp: &str) -> String {
    format!(
        "data: {}\n\n",
        json!({"data": format!("{text}\n"), "timestamp": timestamp})
    )
}

#[tokio::test]
async fn logs_stream_yields_lines_across_chunks_and_skips_keep_alives() {
    let stream = format!(
        "{}data:\n\n: comment\n\n{}{}",
        event(
            "===== Application Startup at 2025-03-07 12:30:00 =====",
            "2025-03-07T12:30:00.123Z"
        ),
        event(
            "INFO:     Uvicorn running on http://0.0.0.0:7860",
            "2025-03-07T12:30:02.456Z"
        ),
        event("GET /health 200", "2025-03-07T12:30:03.000Z"),
    )
    .replace('\n', "\r\n");
    let bytes = stream.into_bytes();
    let chunks: Vec<(Duration, String)> = bytes
        .chunks(7)
        .map(|chunk| (Duration::ZERO, String::from_utf8_lossy(chunk).into_owned()))
        .collect();
    let hub = FakeHub::start(move |_, _| Reply {
        status: 200,
        headers: vec![("content-type", "text/event-stream".into())],
        body: ReplyBody::Chunks {
            chunks: chunks.clone(),
            end: End::Close,
        },
    })
    .await;
    let stream = hub
        .client()
        .logs(&space(), LogKind::Run)
        .await
        .expect("open");
    let lines: Vec<LogLine> = stream.map(|line| line.expect("line")).collect().await;
    assert_eq!(
        lines.iter().map(|l| l.text.as_data()).collect::<Vec<_>>(),
        [
            "===== Application Startup at 2025-03-07 12:30:00 =====",
            "INFO:     Uvicorn running on http://0.0.0.0:7860",
            "GET /health 200"
        ]
    );
    assert_eq!(
        lines[1].timestamp.as_deref(),
        Some("2025-03-07T12:30:02.456Z")
    );
    assert_eq!(
        hub.seen()[0].path,
        "/api/spaces/user/tmp_test_space/logs/run"
    );
}

#[tokio::test]
async fn logs_tail_stops_at_the_first_idle_pause_and_keeps_the_last_lines() {
    let mut chunks: Vec<(Duration, String)> = (1..=5)
        .map(|n| {
            (
                Duration::ZERO,
                event(&format!("Step {n}/5"), "2025-03-07T12:30:00.000Z"),
            )
        })
        .collect();
    chunks.push((Duration::from_millis(50), "data:\n\n".into()));
    chunks.push((
        Duration::from_secs(30),
        event("too late", "2025-03-07T12:31:00.000Z"),
    ));
    let hub = FakeHub::start(move |_, _| Reply {
        status: 200,
        headers: vec![("content-type", "text/event-stream".into())],
        body: ReplyBody::Chunks {
            chunks: chunks.clone(),
            end: End::HoldOpen,
        },
    })
    .await;
    let started = Instant::now();
    let tail = hub
        .client()
        .logs_tail(&space(), LogKind::Build, 3, Duration::from_millis(300))
        .await
        .expect("tail");
    assert_eq!(tail.as_data(), "Step 3/5\nStep 4/5\nStep 5/5");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    assert_eq!(
        hub.seen()[0].path,
        "/api/spaces/user/tmp_test_space/logs/build"
    );
}

#[tokio::test]
async fn logs_tail_stops_at_a_line_written_after_the_request() {
    let future = (time::OffsetDateTime::now_utc() + time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let body = format!(
        "{}{}",
        event("buffered", "2020-01-01T00:00:00.000Z"),
        event("new", &future)
    );
    let hub = FakeHub::start(move |_, _| Reply {
        status: 200,
        headers: vec![("content-type", "text/event-stream".into())],
        body: ReplyBody::Chunks {
            chunks: vec![(Duration::ZERO, body.clone())],
            end: End::HoldOpen,
        },
    })
    .await;
    let started = Instant::now();
    let tail = hub
        .client()
        .logs_tail(&space(), LogKind::Run, 50, Duration::from_secs(20))
        .await
        .expect("tail");
    assert_eq!(tail.as_data(), "buffered");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped by the timestamp, not the idle pause"
    );
}

#[tokio::test]
async fn logs_of_a_missing_space_fail_before_streaming() {
    let hub = FakeHub::start(|_, _| {
        Reply::json(404, json!({"error":"Repository not found"}))
            .header("x-error-code", "RepoNotFound")
    })
    .await;
    let error = hub
        .client()
        .logs_tail(&space(), LogKind::Build, 10, Duration::from_millis(50))
        .await
        .expect_err("404");
    assert_eq!(
        error.to_string(),
        "Space `user/tmp_test_space` was not found on the Hub"
    );
    assert_eq!(hub.seen().len(), 1, "4xx is never retried");
}

#[tokio::test]
async fn a_followed_log_reconnects_and_skips_the_replayed_lines() {
    let all = [
        event("Step 1/3", "2025-03-07T12:30:00.000Z"),
        event("Step 2/3", "2025-03-07T12:30:01.000Z"),
        event("Step 2/3 again, same second", "2025-03-07T12:30:01.000Z"),
        event("Step 3/3", "2025-03-07T12:30:02.000Z"),
    ];
    let hub = FakeHub::start(move |_, index| {
        let (chunks, end) = match index {
            0 => (all[..2].to_vec(), End::Abort),
            1 => (all[..3].to_vec(), End::Abort),
            _ => (all.to_vec(), End::Close),
        };
        Reply {
            status: 200,
            headers: vec![("content-type", "text/event-stream".into())],
            body: ReplyBody::Chunks {
                chunks: chunks
                    .into_iter()
                    .map(|chunk| (Duration::ZERO, chunk))
                    .collect(),
                end,
            },
        }
    })
    .await;
    let stream = hub
        .client()
        .logs(&space(), LogKind::Build)
        .await
        .expect("open");
    let lines: Vec<String> = stream
        .map(|line| line.expect("line").text.as_data().to_string())
        .collect()
        .await;
    assert_eq!(
        lines,
        [
            "Step 1/3",
            "Step 2/3",
            "Step 2/3 again, same second",
            "Step 3/3"
        ]
    );
    assert_eq!(hub.seen().len(), 3);
}

#[tokio::test]
async fn a_log_stream_gives_up_after_max_attempts_drops_in_a_row() {
    let hub = FakeHub::start(|_, _| Reply {
        status: 200,
        headers: vec![("content-type", "text/event-stream".into())],
        body: ReplyBody::Chunks {
            chunks: vec![(
                Duration::ZERO,
                event("only line", "2025-03-07T12:30:00.000Z"),
            )],
            end: End::Abort,
        },
    })
    .await;
    let client = hub.builder().max_attempts(3).build().expect("client");
    let items: Vec<Result<LogLine, Error>> = client
        .logs(&space(), LogKind::Run)
        .await
        .expect("open")
        .collect()
        .await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(
        items[0].as_ref().map(|l| l.text.as_data()).ok(),
        Some("only line")
    );
    let error = items[1].as_ref().expect_err("gave up");
    assert_eq!(error.kind(), "network");
    assert_eq!(hub.seen().len(), 3, "opened once and reopened twice");

    let tail = client
        .logs_tail(&space(), LogKind::Run, 10, Duration::from_secs(5))
        .await
        .expect("tail");
    assert_eq!(tail.as_data(), "only line");
    assert_eq!(hub.seen().len(), 4, "a tail never reopens");
}

// ----- visibility and the listing -------------------------------------------------------------

#[tokio::test]
async fn protected_is_sent_as_visibility_alone_and_a_402_names_the_way_out() {
    let hub = FakeHub::start(|seen, _| match seen.path.as_str() {
        "/api/repos/create" => Reply::json(
            402,
            json!({"error": "Protected Spaces are available with a PRO subscription."}),
        ),
        _ => Reply::json(404, json!({"error": "Repository not found"}))
            .header("x-error-code", "RepoNotFound"),
    })
    .await;
    let options = CreateSpace {
        visibility: crate::Visibility::Protected,
        ..CreateSpace::default()
    };
    let error = hub
        .client()
        .create_space(&space(), &options)
        .await
        .expect_err("402");
    assert_eq!(
        hub.seen()[0].json(),
        json!({"name":"tmp_test_space","organization":"user","type":"space","sdk":"docker","visibility":"protected"})
    );
    assert_eq!(error.kind(), "payment_required");
    let hint = error.hint().unwrap_or_default();
    assert!(
        hint.contains("protected Space") && hint.contains("`public`") && hint.contains("PRO"),
        "{hint}"
    );
    // A public create keeps the `private` field every recorded create sends.
    let public = FakeHub::start(|_, _| Reply::json(200, json!({"url": "u"}))).await;
    public
        .client()
        .create_space(&space(), &CreateSpace::default())
        .await
        .expect("create");
    assert_eq!(public.seen()[0].json()["private"], json!(false));
    assert_eq!(public.seen()[0].json().get("visibility"), None);
}

#[tokio::test]
async fn set_visibility_puts_the_settings() {
    let hub = FakeHub::start(|_, _| Reply::json(200, json!({}))).await;
    hub.client()
        .set_visibility(&space(), crate::Visibility::Public)
        .await
        .expect("settings");
    let seen = hub.seen();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("PUT", "/api/spaces/user/tmp_test_space/settings")
    );
    assert_eq!(seen[0].json(), json!({"visibility": "public"}));
}

#[tokio::test]
async fn the_listing_follows_every_page_on_the_endpoint_only() {
    let own: Arc<std::sync::OnceLock<String>> = Arc::default();
    let base = own.clone();
    let hub = FakeHub::start(move |seen, index| {
        let item = |id: &str| json!({"id": id, "createdAt": "2026-01-01T00:00:00.000Z"});
        let url = base.get().cloned().unwrap_or_default();
        match index {
            0 => Reply::json(200, json!([item("user/app-pr-1")])).header(
                "link",
                format!("<{url}/api/spaces?author=user&cursor=b>; rel=\"next\""),
            ),
            1 => {
                assert_eq!(seen.query.as_deref(), Some("author=user&cursor=b"));
                Reply::json(200, json!([item("user/app-pr-2")]))
                    .header("link", "</api/spaces?cursor=c>; rel=\"next\"")
            }
            2 => Reply::json(200, json!([item("user/app-pr-3")])),
            _ => Reply::json(200, json!([]))
                .header("link", "<http://127.0.0.2:9/api/spaces?x=1>; rel=\"next\""),
        }
    })
    .await;
    own.set(hub.url.clone()).expect("once");
    let client = hub.client();
    let listed = client.list_spaces("user", "app-pr-").await.expect("list");
    let ids: Vec<&str> = listed.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["user/app-pr-1", "user/app-pr-2", "user/app-pr-3"]);
    assert_eq!(
        hub.seen()[0].query.as_deref(),
        Some("author=user&search=app-pr-&full=true")
    );
    assert_eq!(
        listed[0].created_at.as_deref(),
        Some("2026-01-01T00:00:00.000Z")
    );
    let error = client.list_spaces("user", "x").await.expect_err("foreign");
    assert!(error.to_string().contains("leads off"), "{error}");
    assert_eq!(hub.seen().len(), 4, "the foreign link is not followed");
}

// ----- the door: what the Hub says is redacted ------------------------------------------------

const RUN_SECRET: &str = "AIzaSy-run-secret-0123456789";

fn run_redactor() -> Redactor {
    Redactor::builder()
        .secret(&SecretString::new(RUN_SECRET))
        .build()
}

/// A crash log in which a secret is whole, cut across two lines, and cut by the start of the
/// tail; and an error body that echoes the secret and the token.
#[tokio::test]
async fn logs_tails_and_error_bodies_come_out_redacted_by_the_runs_redactor() {
    let (head, rest) = RUN_SECRET.split_at(10);
    let lines = [
        format!("GEMINI_API_KEY={RUN_SECRET}"),
        format!("cut: {head}"),
        format!("{rest} <- was cut"),
        format!("token {TOKEN}"),
    ];
    let stream: String = lines
        .iter()
        .map(|line| event(line, "2025-03-07T12:30:00.000Z"))
        .collect();
    let hub = FakeHub::start(move |seen, _| {
        if seen.path.contains("/logs/") {
            Reply {
                status: 200,
                headers: vec![("content-type", "text/event-stream".into())],
                body: ReplyBody::Chunks {
                    chunks: vec![(Duration::ZERO, stream.clone())],
                    end: End::Close,
                },
            }
        } else {
            Reply::json(
                400,
                json!({"error": format!("bad value {RUN_SECRET} for token {TOKEN}")}),
            )
        }
    })
    .await;
    let client = hub
        .builder()
        .redactor(run_redactor())
        .build()
        .expect("client");
    let shown: Vec<String> = client
        .logs(&space(), LogKind::Run)
        .await
        .expect("open")
        .map(|line| line.expect("line").text.terminal())
        .collect()
        .await;
    assert_eq!(
        shown,
        [
            "GEMINI_API_KEY=***",
            "cut: ***",
            "*** <- was cut",
            "token ***"
        ]
    );
    let tail = client
        .logs_tail(&space(), LogKind::Run, 2, Duration::from_secs(5))
        .await
        .expect("tail");
    assert_eq!(tail.as_data(), "*** <- was cut\ntoken ***");
    let error = client.runtime(&space()).await.expect_err("400");
    let said = error
        .http_context()
        .and_then(|c| c.server_message.as_ref())
        .map(RemoteText::as_data);
    assert_eq!(said, Some("bad value *** for token ***"));
    assert!(!error.to_string().contains(RUN_SECRET), "{error}");
    assert!(!format!("{error:?}").contains(RUN_SECRET), "{error:?}");
}

/// Without a redactor the client still redacts its own token.
#[tokio::test]
async fn a_client_always_redacts_its_token() {
    let hub =
        FakeHub::start(|_, _| Reply::json(403, json!({"error": format!("token {TOKEN} may not")})))
            .await;
    let client = hub.client();
    assert!(!client.redactor().is_empty());
    let error = client.runtime(&space()).await.expect_err("403");
    let context = error.http_context().expect("context").to_string();
    assert!(context.contains("token *** may not"), "{context}");
}

#[tokio::test]
async fn a_stalled_answer_ends_with_a_timeout_naming_the_call() {
    // Headers and the start of the JSON, then silence for good.
    let hub = FakeHub::start(|_, _| Reply {
        status: 200,
        headers: vec![("content-type", "application/json".into())],
        body: ReplyBody::Chunks {
            chunks: vec![(Duration::ZERO, "{\"id\":".into())],
            end: End::HoldOpen,
        },
    })
    .await;
    let client = hub
        .builder()
        .max_attempts(1)
        .timeout(Duration::from_millis(500))
        .build()
        .expect("client");
    let started = std::time::Instant::now();
    let error = client.runtime(&space()).await.expect_err("stalled");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let Error::Request { action, source, .. } = &error else {
        panic!("{error:?}");
    };
    assert!(source.is_timeout(), "{source:?}");
    assert_eq!(action, "read the runtime of Space `user/tmp_test_space`");
}

#[tokio::test]
async fn an_endless_error_body_is_read_up_to_64_kib() {
    let chunk = "e".repeat(16 * 1024);
    let hub = FakeHub::start(move |_, _| Reply {
        status: 400,
        headers: vec![("content-type", "text/plain".into())],
        body: ReplyBody::Chunks {
            chunks: vec![(Duration::ZERO, chunk.clone()); 10_000],
            end: End::HoldOpen,
        },
    })
    .await;
    let client = hub.builder().max_attempts(1).build().expect("client");
    let started = std::time::Instant::now();
    let error = client.runtime(&space()).await.expect_err("refused");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let message = error
        .http_context()
        .and_then(|context| context.server_message.as_ref())
        .map(|message| message.as_data().to_string())
        .unwrap_or_default();
    assert!(
        message.len() <= crate::http::ERROR_BODY_CAP + 4,
        "{}",
        message.len()
    );
}
