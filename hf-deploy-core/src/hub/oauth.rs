//! Trusted Publishers: exchange a CI job's OIDC token for a Space-scoped Hub token
//! (hub-2026.md §2, RFC 8693). No client authentication; the Hub answers `invalid_grant`
//! without saying which check failed, so the error names the claims this job presents.

use std::time::Duration;

use base64::Engine;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::json;

use crate::error::{Error, HttpContext, Result};
use crate::secret::SecretString;
use crate::space::SpaceId;
use crate::untrusted::{Redactor, RemoteText};
use crate::wait::{self, Idempotency, Outcome, RetryPolicy};

/// The only audience the Hub accepts for a job token.
pub const HUB_AUDIENCE: &str = "https://huggingface.co";

/// A Space-scoped token and how long it lives.
#[derive(Debug, Clone)]
pub struct ScopedToken {
    /// The token (`hf_jwt_…`): mask it before anything is printed.
    pub token: SecretString,
    /// Its lifetime as the Hub said (`expires_in`; 60 minutes on the Hub), saturated between
    /// 2 seconds and 24 hours.
    pub expires_in: Duration,
}

/// The lifetime a token is given when the Hub's answer names none (the Hub's 60 minutes).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// The shortest lifetime a token is taken to have: a smaller `expires_in` (0, negative) would
/// make every call exchange again.
pub(crate) const MIN_LIFETIME: Duration = Duration::from_secs(2);
/// The longest: a larger `expires_in` (up to `u64::MAX`, `1e30`) is read as this, so no clock
/// arithmetic overflows.
pub(crate) const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

#[derive(Deserialize)]
struct Answer {
    access_token: String,
    /// Any JSON: a number is clamped, anything else means the Hub's hour.
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// The lifetime an `expires_in` says, saturated into [`MIN_LIFETIME`]..=[`MAX_LIFETIME`]: any
/// JSON number (negative, huge, a float) or a string of digits; anything else, or none, is the
/// Hub's 60 minutes.
pub(crate) fn lifetime(expires_in: Option<&serde_json::Value>) -> Duration {
    let seconds = match expires_in {
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .map(|s| s as f64)
            .or_else(|| n.as_i64().map(|s| s as f64))
            .or_else(|| n.as_f64()),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match seconds {
        Some(s) if s.is_nan() => DEFAULT_LIFETIME,
        Some(s) if s >= MAX_LIFETIME.as_secs_f64() => MAX_LIFETIME,
        Some(s) if s <= MIN_LIFETIME.as_secs_f64() => MIN_LIFETIME,
        Some(s) => Duration::from_secs_f64(s),
        None => DEFAULT_LIFETIME,
    }
}

/// `POST {endpoint}/oauth/token`: `job_token` (the job's OIDC token) for a token scoped to
/// `spaces/{space}`. A transient failure (429 with its `Retry-After`, a 5xx, a connection
/// reset) is tried again with the Hub client's schedule; any other 4xx is final.
pub async fn exchange_job_token(
    endpoint: &str,
    job_token: &SecretString,
    space: &SpaceId,
    user_agent: &str,
) -> Result<ScopedToken> {
    exchange_with(endpoint, job_token, space, user_agent, &RetryPolicy::hub()).await
}

/// A complete answer of the token endpoint.
struct Reply {
    status: u16,
    headers: HeaderMap,
    text: String,
}

/// [`exchange_job_token`] with its retry policy.
pub(crate) async fn exchange_with(
    endpoint: &str,
    job_token: &SecretString,
    space: &SpaceId,
    user_agent: &str,
    policy: &RetryPolicy,
) -> Result<ScopedToken> {
    let url = format!("{}/oauth/token", endpoint.trim_end_matches('/'));
    let action = format!("exchange the job's OIDC token for a token of Space `{space}`");
    let body = json!({
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "subject_token": job_token.expose(),
        "resource": format!("spaces/{space}"),
    });
    let sender = Sender {
        policy,
        action: &action,
        shown: &url,
        user_agent,
        timeout: Duration::from_secs(30),
        redirect: crate::http::same_host_redirects(),
    };
    let reply = sender.send(|http| http.post(&url).json(&body)).await?;
    if (200..300).contains(&reply.status) {
        let answer: Answer =
            serde_json::from_str(&reply.text).map_err(|e| Error::MalformedResponse {
                action: action.clone(),
                url: url.clone(),
                detail: RemoteText::new(
                    &format!("no `access_token` in the answer ({e})"),
                    &Redactor::builder().secret(job_token).build(),
                ),
            })?;
        return Ok(ScopedToken {
            token: SecretString::new(answer.access_token),
            expires_in: lifetime(answer.expires_in.as_ref()),
        });
    }
    Err(refusal(&reply, url, action, space, job_token))
}

#[derive(Deserialize)]
struct IdTokenAnswer {
    value: String,
}

/// A CI job's ID token (OIDC) for the Hub's audience from the runner's endpoint, as GitHub
/// Actions serves it: `GET {request_url}&audience=https://huggingface.co` with
/// `Authorization: bearer {request_token}`, answered `{"value": "<jwt>"}`. Each call mints a
/// new token. A transient failure is tried again with the Hub client's schedule; a 4xx is final.
/// Each attempt waits at most `timeout` for its answer.
pub async fn fetch_id_token(
    request_url: &str,
    request_token: &SecretString,
    user_agent: &str,
    timeout: Duration,
) -> Result<SecretString> {
    let policy = RetryPolicy::hub();
    fetch_id_token_with(request_url, request_token, user_agent, timeout, &policy).await
}

/// [`fetch_id_token`] with its retry policy.
pub(crate) async fn fetch_id_token_with(
    request_url: &str,
    request_token: &SecretString,
    user_agent: &str,
    timeout: Duration,
    policy: &RetryPolicy,
) -> Result<SecretString> {
    let separator = if request_url.contains('?') { '&' } else { '?' };
    let url = format!(
        "{request_url}{separator}audience={}",
        url::form_urlencoded::byte_serialize(HUB_AUDIENCE.as_bytes()).collect::<String>()
    );
    // Shown in errors without its query (the runner's URL carries no secret, but stay terse).
    let shown = request_url
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    let action = "fetch the job's OIDC token from the runner".to_string();
    let authorization = format!("bearer {}", request_token.expose());
    let sender = Sender {
        policy,
        action: &action,
        shown: &shown,
        user_agent,
        timeout,
        redirect: reqwest::redirect::Policy::none(),
    };
    let reply = sender
        .send(|http| {
            http.get(&url)
                .header(reqwest::header::AUTHORIZATION, &authorization)
        })
        .await?;
    let redactor = Redactor::builder().secret(request_token).build();
    if !(200..300).contains(&reply.status) {
        return Err(Error::RunnerRefused {
            action,
            context: Box::new(HttpContext {
                method: "GET".into(),
                url: shown,
                status: reply.status,
                request_id: None,
                error_code: None,
                server_message: Some(RemoteText::with_max_bytes(&reply.text, &redactor, 300)),
            }),
        });
    }
    match serde_json::from_str::<IdTokenAnswer>(&reply.text) {
        Ok(answer) if !answer.value.trim().is_empty() => Ok(SecretString::new(answer.value)),
        Ok(_) => Err(Error::MalformedResponse {
            action,
            url: shown,
            detail: RemoteText::new("an empty `value` in the answer", &redactor),
        }),
        Err(e) => Err(Error::MalformedResponse {
            action,
            url: shown,
            detail: RemoteText::new(&format!("no `value` in the answer ({e})"), &redactor),
        }),
    }
}

/// How a token request is sent: `policy`'s retries, each attempt waiting at most `timeout`;
/// a transport failure is [`Error::Request`] naming `action` and `shown` (the URL as errors
/// show it).
struct Sender<'a> {
    policy: &'a RetryPolicy,
    action: &'a str,
    shown: &'a str,
    user_agent: &'a str,
    timeout: Duration,
    /// Which redirects are followed: none for the runner (its request token goes to its
    /// endpoint only), the same host for the Hub.
    redirect: reqwest::redirect::Policy,
}

impl Sender<'_> {
    /// Send the request `build` makes: the complete answer, or the transport failure.
    async fn send(
        self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Reply> {
        let request_error = |source: reqwest::Error| Error::Request {
            action: self.action.to_string(),
            url: self.shown.to_string(),
            source: source.without_url(),
        };
        let http = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .timeout(self.timeout)
            .redirect(self.redirect)
            .build()
            .map_err(request_error)?;
        let (reply, _attempts) = wait::run(
            self.policy,
            Idempotency::Idempotent,
            |_| send(build(&http)),
            classify,
        )
        .await;
        reply.map_err(request_error)
    }
}

async fn send(request: reqwest::RequestBuilder) -> std::result::Result<Reply, reqwest::Error> {
    let response = request.send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    // A token answer is a few hundred bytes, an error a line: either fits the error cap. A body
    // cut by a reset is a transport failure, tried again.
    let text = crate::http::read_capped(response, crate::http::ERROR_BODY_CAP)
        .await?
        .text();
    Ok(Reply {
        status,
        headers,
        text,
    })
}

/// Retry 429 (after its `Retry-After`), the 5xx of [`wait::is_transient_status`] and transport
/// failures; never another 4xx.
fn classify(reply: &std::result::Result<Reply, reqwest::Error>) -> Outcome {
    match reply {
        Err(error) if error.is_redirect() => Outcome::Final,
        Err(error) => Outcome::Transport {
            connect: error.is_connect(),
        },
        Ok(reply) if reply.status != 408 && wait::is_transient_status(reply.status) => {
            Outcome::Transient {
                status: reply.status,
                server_wait: wait::server_wait(&reply.headers),
            }
        }
        Ok(_) => Outcome::Final,
    }
}

/// The error of an answer that is not a token: `invalid_grant` names the claims of the job.
fn refusal(
    reply: &Reply,
    url: String,
    action: String,
    space: &SpaceId,
    job_token: &SecretString,
) -> Error {
    let parsed: serde_json::Value = serde_json::from_str(&reply.text).unwrap_or_default();
    let error = parsed
        .get("error")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let description = parsed
        .get("error_description")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let redactor = Redactor::builder().secret(job_token).build();
    let message = match &description {
        Some(d) if !error.is_empty() => format!("{error}: {d}"),
        Some(d) => d.clone(),
        None if !error.is_empty() => error.clone(),
        None => reply.text.clone(),
    };
    let context = Box::new(HttpContext {
        method: "POST".into(),
        url,
        status: reply.status,
        request_id: header(&reply.headers, "x-request-id")
            .map(|id| RemoteText::with_max_bytes(&id, &redactor, 200)),
        error_code: None,
        server_message: Some(RemoteText::with_max_bytes(&message, &redactor, 500)),
    });
    if reply.status == 400 && error == "invalid_grant" {
        return Error::OidcGrantRefused {
            space: space.to_string(),
            claims: job_claims(job_token),
            context,
        };
    }
    Error::Refused { action, context }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The claims a Trusted Publisher matches (`repository`, `workflow`, `ref`), read from the
/// job token's payload without checking its signature (the Hub checks it): for messages.
pub(crate) fn job_claims(job_token: &SecretString) -> Vec<(String, String)> {
    let Some(payload) = job_token.expose().split('.').nth(1) else {
        return Vec::new();
    };
    let Ok(bytes) =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('='))
    else {
        return Vec::new();
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    ["repository", "workflow", "ref", "event_name", "sub", "aud"]
        .iter()
        .filter_map(|key| {
            claims
                .get(*key)
                .and_then(|v| v.as_str())
                .map(|v| ((*key).to_string(), v.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn the_claims_are_read_from_the_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            br#"{"repository":"acme/app","workflow":"Deploy","ref":"refs/heads/main","other":"x"}"#,
        );
        let token = SecretString::new(format!("eyJhbGciOiJFUzI1NiJ9.{payload}.c2ln"));
        assert_eq!(
            job_claims(&token),
            [
                ("repository".to_string(), "acme/app".to_string()),
                ("workflow".into(), "Deploy".into()),
                ("ref".into(), "refs/heads/main".into()),
            ]
        );
        assert!(job_claims(&SecretString::new("not-a-jwt")).is_empty());
    }

    /// A token endpoint answering `statuses` in turn (the last one from then on), then a token.
    async fn token_endpoint(
        statuses: Vec<u16>,
    ) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let app = axum::Router::new().route(
            "/oauth/token",
            axum::routing::post(move || {
                let counter = counter.clone();
                let statuses = statuses.clone();
                async move {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    let status = statuses[n.min(statuses.len() - 1)];
                    let body = if status == 200 {
                        r#"{"access_token":"hf_jwt_scoped","expires_in":3600}"#.to_string()
                    } else if status == 400 {
                        r#"{"error":"invalid_grant"}"#.to_string()
                    } else {
                        "upstream unavailable".to_string()
                    };
                    (
                        axum::http::StatusCode::from_u16(status).expect("status"),
                        [("content-type", "application/json")],
                        body,
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        (url, hits)
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            ..RetryPolicy::hub()
        }
    }

    #[tokio::test]
    async fn the_exchange_is_sent_again_after_a_503() {
        let (url, hits) = token_endpoint(vec![503, 200]).await;
        let space = SpaceId::parse("alice/app", crate::Field::Space).expect("space");
        let token = SecretString::new("eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
        let scoped = exchange_with(&url, &token, &space, "test", &fast())
            .await
            .expect("the second answer is a token");
        assert_eq!(scoped.token.expose(), "hf_jwt_scoped");
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    /// A runner's ID-token endpoint answering `statuses` in turn (the last one from then on);
    /// a 200 carries a token when the request carries the request token and the audience.
    async fn id_token_endpoint(statuses: Vec<u16>) -> (String, Arc<AtomicUsize>) {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let app = axum::Router::new().route(
            "/idtoken",
            axum::routing::get(
                move |query: axum::extract::RawQuery, headers: axum::http::HeaderMap| {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    let status = statuses[n.min(statuses.len() - 1)];
                    let asked = query
                        .0
                        .unwrap_or_default()
                        .contains("audience=https%3A%2F%2Fhuggingface.co")
                        && headers.get("authorization").and_then(|v| v.to_str().ok())
                            == Some("bearer request-token-value");
                    async move {
                        let status = if status == 200 && !asked { 400 } else { status };
                        let body = if status == 200 {
                            r#"{"count":1,"value":"eyJ.fresh.sig"}"#
                        } else {
                            "request-token-value refused"
                        };
                        (
                            axum::http::StatusCode::from_u16(status).expect("status"),
                            body,
                        )
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!(
            "http://{}/idtoken?api-version=2.0",
            listener.local_addr().expect("addr")
        );
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        (url, hits)
    }

    #[tokio::test]
    async fn the_id_token_is_fetched_again_after_a_503_and_a_refusal_is_final() {
        let request_token = SecretString::new("request-token-value");
        let fetch = |url: String| {
            let request_token = request_token.clone();
            async move {
                let timeout = Duration::from_secs(5);
                fetch_id_token_with(&url, &request_token, "test", timeout, &fast()).await
            }
        };
        let (url, hits) = id_token_endpoint(vec![503, 200]).await;
        let token = fetch(url).await.expect("the second answer is a token");
        assert_eq!(token.expose(), "eyJ.fresh.sig");
        assert_eq!(hits.load(Ordering::SeqCst), 2);

        let (url, hits) = id_token_endpoint(vec![401]).await;
        let error = fetch(url).await.expect_err("refused");
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert!(matches!(error, Error::RunnerRefused { .. }), "{error:?}");
        assert!(
            error
                .to_string()
                .starts_with("the CI runner refused to fetch the job's OIDC token"),
            "{error}"
        );
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("request-token-value"), "{shown}");
        assert!(!shown.contains("api-version"), "{shown}");
    }

    #[tokio::test]
    async fn a_refused_exchange_is_not_sent_again() {
        let (url, hits) = token_endpoint(vec![400]).await;
        let space = SpaceId::parse("alice/app", crate::Field::Space).expect("space");
        let token = SecretString::new("eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
        let error = exchange_with(&url, &token, &space, "test", &fast())
            .await
            .expect_err("invalid_grant");
        assert!(matches!(error, Error::OidcGrantRefused { .. }), "{error:?}");
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
