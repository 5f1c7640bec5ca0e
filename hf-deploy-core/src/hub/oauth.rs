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
    /// Its lifetime as the Hub said (`expires_in`; 60 minutes on the Hub).
    pub expires_in: Duration,
}

#[derive(Deserialize)]
struct Answer {
    access_token: String,
    /// Any JSON: a number is clamped, anything else means the Hub's hour.
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// The Hub's lifetime of a scoped token, when the answer gives none that makes sense.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// The longest lifetime believed: a day (a larger number, up to `u64::MAX` or `1e308`, would
/// overflow the clock arithmetic of whoever keeps the expiry).
const LONGEST_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// `expires_in` as a lifetime: a positive number of seconds (an integer, a float or a numeric
/// string) clamped to [`LONGEST_LIFETIME`]; zero, negative, not a number or absent: an hour.
fn lifetime(expires_in: Option<&serde_json::Value>) -> Duration {
    let seconds = match expires_in {
        Some(serde_json::Value::Number(number)) => number.as_f64(),
        Some(serde_json::Value::String(text)) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    match seconds {
        Some(seconds) if seconds.is_finite() && seconds >= 1.0 => {
            Duration::from_secs_f64(seconds.min(LONGEST_LIFETIME.as_secs_f64()))
        }
        _ => DEFAULT_LIFETIME,
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
    let request_error = |source: reqwest::Error| Error::Request {
        action: action.clone(),
        url: url.clone(),
        source: source.without_url(),
    };
    let http = reqwest::Client::builder()
        .user_agent(user_agent)
        .timeout(Duration::from_secs(30))
        .redirect(crate::http::same_host_redirects())
        .build()
        .map_err(request_error)?;
    let (reply, _attempts) = wait::run(
        policy,
        Idempotency::Idempotent,
        |_| send(&http, &url, &body),
        classify,
    )
    .await;
    let reply = reply.map_err(request_error)?;
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

async fn send(
    http: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> std::result::Result<Reply, reqwest::Error> {
    let response = http.post(url).json(body).send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    // A token answer is a few hundred bytes, an error a line: either fits the error cap.
    let text = crate::http::error_text(response).await;
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
    use super::*;

    #[test]
    fn any_expires_in_is_a_lifetime_between_a_second_and_a_day() {
        let read = |raw: &str| lifetime(serde_json::from_str(raw).ok().as_ref());
        assert_eq!(read("3600"), Duration::from_secs(3600));
        assert_eq!(read("\"120\""), Duration::from_secs(120));
        for huge in [
            "18446744073709551615",
            "1e30",
            "1e308",
            "99999999999999999999999",
        ] {
            assert_eq!(read(huge), LONGEST_LIFETIME, "{huge}");
            assert!(std::time::Instant::now().checked_add(read(huge)).is_some());
        }
        for odd in ["-1", "0", "0.5", "null", "\"soon\"", "[]", "{}", "-1e308"] {
            assert_eq!(read(odd), DEFAULT_LIFETIME, "{odd}");
        }
        assert_eq!(lifetime(None), DEFAULT_LIFETIME);
    }

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
