//! Verify a deployed app: wait for a healthy answer, explain known failures, check CORS.
//!
//! [`verify_app`] is the one verification sequence of a deploy and of a check of any running
//! app:
//!
//! * it polls the health URL through the cold start (502, 503, connection errors) until it
//!   answers JSON ([`Health`], one [`HealthAttempt`] per poll), judges the answer with one rule
//!   ([`Verdict`]; degraded passes only with `allow_degraded`);
//! * then sends what a browser sends (a preflight and a simple `GET`) from each frontend origin
//!   and reports whether the app lets it through ([`CorsResult`]).
//!
//! A health answer that fails carries its diagnoses: the known failures of a FastAPI + Qdrant +
//! PostgreSQL + Gemini backend turned into advice (a suspended Qdrant cluster, a missing `sslmode`, a rejected key, a secret that
//! was never set).
//!
//! Private Spaces need `Authorization: Bearer <token>` on the app URL too; the token travels
//! only in that header and never appears in an error, a `Debug` output or an attempt report.
//!
//! What the app says (the health status, its services' names, statuses and details, the CORS
//! headers) is a [`RemoteText`], redacted by the check's [`Redactor`] when it is read.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use serde::{Deserialize, Serialize};

use crate::error::{Error, HttpContext, Result};
use crate::field::{Command, Field, Phrase};
use crate::secret::SecretString;
use crate::untrusted::{Redactor, RemoteText};
use crate::wait::{self, Poll};

/// Consecutive 404 (or other 4xx) answers after which the health path is taken as wrong.
pub(crate) const NOT_FOUND_LIMIT: u32 = 5;
/// Consecutive 200 answers that are not JSON after which the health path is taken as wrong.
pub(crate) const NOT_JSON_LIMIT: u32 = 3;
/// Longest single health request.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The most bytes kept of a status word or a service name.
const MAX_WORD_BYTES: usize = 256;
/// The most bytes kept of a service's detail or a header value.
const MAX_DETAIL_BYTES: usize = 2048;

/// How to poll a health endpoint.
#[derive(Clone)]
pub(crate) struct HealthCheck {
    /// The full health URL, e.g. `https://alice-rag.hf.space/api/health`.
    pub url: String,
    /// Sent as `Authorization: Bearer` (private Spaces).
    pub token: Option<SecretString>,
    /// Give up after this instant.
    pub deadline: Instant,
    /// Delay between attempts: the initial delay, doubled after each attempt up to the maximum.
    pub poll: (Duration, Duration),
    /// The client to use; a default one (with [`REQUEST_TIMEOUT`]) when `None`.
    pub client: Option<reqwest::Client>,
    /// Redacts what the app says.
    pub redactor: Redactor,
}

// By hand: a client's `Debug` prints its default headers, which may carry a token.
impl std::fmt::Debug for HealthCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthCheck")
            .field("url", &self.url)
            .field("token", &self.token)
            .field("deadline", &self.deadline)
            .field("poll", &self.poll)
            .field("client", &self.client.as_ref().map(|_| "reqwest::Client"))
            .field("redactor", &self.redactor)
            .finish()
    }
}

/// A client for requests to the app (health, CORS): [`REQUEST_TIMEOUT`] per request and, for a
/// private Space, `Authorization: Bearer <token>` on every request, marked sensitive so that
/// the client's `Debug` never shows it.
pub(crate) fn app_client(token: Option<&SecretString>) -> Result<reqwest::Client> {
    let mut headers = HeaderMap::new();
    if let Some(token) = token {
        let mut value = header::HeaderValue::from_str(&format!("Bearer {}", token.expose()))
            .map_err(|_| {
                Error::invalid_input(
                    Field::Token,
                    "the token holds characters that cannot be sent in an HTTP header",
                )
            })?;
        value.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, value);
    }
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .default_headers(headers)
        .redirect(crate::http::same_host_redirects())
        .build()
        .map_err(|source| Error::Request {
            action: "build the HTTP client for the app".into(),
            url: String::new(),
            source,
        })
}

/// One health poll of [`verify_app`], for progress output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthAttempt {
    /// 1-based attempt number.
    pub attempt: u32,
    /// Time since the first attempt started.
    pub elapsed: Duration,
    /// The HTTP status, when the app answered.
    pub http_status: Option<u16>,
    /// What happened, e.g. `503 Service Unavailable (HTML)`, `could not connect`, or the
    /// status the app answered (`200 \`healthy\``: the app's word, so text from outside).
    pub outcome: RemoteText,
    /// The wait before the next attempt; `None` when this attempt ended the polling.
    pub next_delay: Option<Duration>,
}

/// The parsed answer of a health endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// The overall status as the app reports it (`healthy`, `degraded`, `unhealthy`, ...).
    /// When the JSON has no `status`, `healthy` for a 2xx answer and `unhealthy` otherwise.
    pub status: RemoteText,
    /// Each service the app checks, by name (the app's names).
    pub services: BTreeMap<RemoteText, ServiceHealth>,
    /// The HTTP status of the answer.
    pub http_status: u16,
    /// Time from the first attempt to this answer.
    pub elapsed: Duration,
}

impl Health {
    /// What the app's overall status means (one rule for every health word, see [`Verdict`]).
    pub fn verdict(&self) -> Verdict {
        verdict(self.status.as_data())
    }

    /// True when the overall status means healthy ([`Verdict::Healthy`]).
    pub fn is_healthy(&self) -> bool {
        self.verdict() == Verdict::Healthy
    }

    /// Parse a health body. Services come from `services` (or `checks`, `components`,
    /// `dependencies`); each is a bare status string (`"fastapi": "ok"`) or an object with
    /// `status` and `error` (or `detail`, `message`, `reason`). Every text is redacted by
    /// `redactor`.
    pub(crate) fn from_json(
        raw: &serde_json::Value,
        http_status: u16,
        elapsed: Duration,
        redactor: &Redactor,
    ) -> Self {
        let default_status = if (200..300).contains(&http_status) {
            "healthy"
        } else {
            "unhealthy"
        };
        let status = raw
            .get("status")
            .and_then(|s| s.as_str())
            .unwrap_or(default_status);
        let status = RemoteText::with_max_bytes(status, redactor, MAX_WORD_BYTES);
        let name = |name: &str| RemoteText::with_max_bytes(name, redactor, MAX_WORD_BYTES);
        let mut services = BTreeMap::new();
        let listed = ["services", "checks", "components", "dependencies"]
            .iter()
            .find_map(|key| raw.get(*key).and_then(|v| v.as_object()));
        if let Some(listed) = listed {
            for (key, value) in listed {
                services.insert(name(key), ServiceHealth::from_json(value, redactor));
            }
        } else if let Some(top) = raw.as_object() {
            // No service list: take top-level objects that carry their own state.
            for (key, value) in top {
                let has_state = value.get("status").is_some_and(|s| s.is_string())
                    || value
                        .get("healthy")
                        .or(value.get("ok"))
                        .is_some_and(|v| v.is_boolean());
                if has_state {
                    services.insert(name(key), ServiceHealth::from_json(value, redactor));
                }
            }
        }
        Health {
            status,
            services,
            http_status,
            elapsed,
        }
    }
}

/// The state of one service in a health answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceHealth {
    /// `ok`, `error`, `not_configured`, ...
    pub status: RemoteText,
    /// The error text the app gave, when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<RemoteText>,
}

impl ServiceHealth {
    /// Parse one service entry; see [`Health::from_json`].
    pub(crate) fn from_json(value: &serde_json::Value, redactor: &Redactor) -> Self {
        let (status, detail) = ServiceHealth::words(value);
        ServiceHealth {
            status: RemoteText::with_max_bytes(&status, redactor, MAX_WORD_BYTES),
            detail: detail.map(|d| RemoteText::with_max_bytes(&d, redactor, MAX_DETAIL_BYTES)),
        }
    }

    /// The status and detail of a service entry, as the app wrote them.
    fn words(value: &serde_json::Value) -> (String, Option<String>) {
        match value {
            serde_json::Value::String(status) => (status.clone(), None),
            serde_json::Value::Bool(ok) => (if *ok { "ok" } else { "error" }.to_string(), None),
            serde_json::Value::Object(fields) => {
                let status = match fields.get("status") {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(serde_json::Value::Bool(ok)) => if *ok { "ok" } else { "error" }.into(),
                    _ => match fields
                        .get("healthy")
                        .or(fields.get("ok"))
                        .and_then(|v| v.as_bool())
                    {
                        Some(true) => "ok".into(),
                        Some(false) => "error".into(),
                        None => "unknown".into(),
                    },
                };
                let detail = ["error", "detail", "message", "reason"]
                    .iter()
                    .find_map(|key| fields.get(*key))
                    .and_then(|v| match v {
                        serde_json::Value::String(s) => Some(s.clone()),
                        serde_json::Value::Null => None,
                        other => Some(other.to_string()),
                    });
                (status, detail)
            }
            other => (other.to_string(), None),
        }
    }

    /// True when the status means the service works ([`Verdict::Healthy`]).
    pub fn is_ok(&self) -> bool {
        verdict(self.status.as_data()) == Verdict::Healthy
    }
}

/// What a health status word means. The one rule, used by the deploy's accept step (with or
/// without [`crate::Field::AllowDegraded`]), [`verify_app`] and the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Works: `healthy`, `ok`, `up`, `pass`, `passing`, `connected`, `available`, `green`.
    Healthy,
    /// Answers, but part of it does not work: `degraded`, `warn`, `warning`, `partial`,
    /// `yellow`. Accepted only when degraded health is allowed ([`crate::Field::AllowDegraded`]).
    Degraded,
    /// Anything else (`unhealthy`, `error`, `fail`, `down`, an unknown word).
    Unhealthy,
}

/// The [`Verdict`] of a health status word, case and surrounding space ignored.
pub(crate) fn verdict(status: &str) -> Verdict {
    match status.trim().to_ascii_lowercase().as_str() {
        "ok" | "healthy" | "up" | "pass" | "passing" | "passed" | "connected" | "available"
        | "green" => Verdict::Healthy,
        "degraded" | "warn" | "warning" | "partial" | "yellow" => Verdict::Degraded,
        _ => Verdict::Unhealthy,
    }
}

/// Poll `check.url` until it answers JSON, and return that answer whatever its status.
///
/// Retried until the deadline: connection errors, 5xx answers without a JSON `status`, and
/// (up to [`NOT_FOUND_LIMIT`] times in a row) 404 or other 4xx answers, (up to
/// [`NOT_JSON_LIMIT`] times in a row) 200 answers that are not JSON. A 5xx answer whose body is
/// JSON with a `status` is the app's own verdict and is returned. `on_attempt` is called after
/// every attempt.
///
/// Errors: [`Error::Timeout`] with the last status seen; [`Error::Unhealthy`] when the health
/// path persistently answers 404 or HTML (the diagnosis says to check the health path setting);
/// [`Error::InvalidToken`] / [`Error::Forbidden`] on 401 / 403.
pub(crate) async fn wait_healthy(
    check: &HealthCheck,
    on_attempt: &mut dyn FnMut(&HealthAttempt),
) -> Result<Health> {
    let client = match &check.client {
        Some(client) => client.clone(),
        None => reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .redirect(crate::http::same_host_redirects())
            .build()
            .map_err(|source| Error::Request {
                action: "build the health-check client".into(),
                url: check.url.clone(),
                source,
            })?,
    };
    let started = Instant::now();
    let (initial, max) = check.poll;
    let mut poll = Poll::new(initial, max, check.deadline);
    let mut attempt = 0u32;
    let mut in_a_row = InARow::default();
    loop {
        attempt += 1;
        let outcome = poll_once(&client, check, started).await;
        let seen = RemoteText::new(&outcome.seen(), &check.redactor);
        let give_up = in_a_row.count(&outcome, &check.url, &check.redactor);
        let finished = matches!(outcome, Outcome::Done(_) | Outcome::Fail(_)) || give_up.is_some();
        let next_delay = if finished { None } else { poll.next_delay() };
        on_attempt(&HealthAttempt {
            attempt,
            elapsed: started.elapsed(),
            http_status: outcome.http_status(),
            outcome: seen.clone(),
            next_delay,
        });
        match outcome {
            Outcome::Done(mut health) => {
                health.elapsed = started.elapsed();
                return Ok(health);
            }
            Outcome::Fail(error) => return Err(*error),
            _ => {}
        }
        if let Some(error) = give_up {
            return Err(error);
        }
        let Some(wait) = next_delay else {
            return Err(Error::Timeout {
                what: format!("a healthy answer from `{}`", check.url),
                elapsed: started.elapsed(),
                last_seen: seen,
                diagnoses: Vec::new(),
            });
        };
        wait::sleep(wait).await;
    }
}

/// One request to the health URL, within the deadline.
async fn poll_once(client: &reqwest::Client, check: &HealthCheck, started: Instant) -> Outcome {
    let remaining = check.deadline.saturating_duration_since(Instant::now());
    let mut request = client
        .get(&check.url)
        .header(header::ACCEPT, "application/json");
    if let Some(token) = &check.token {
        request = request.bearer_auth(token.expose());
    }
    if !remaining.is_zero() {
        request = request.timeout(remaining.min(REQUEST_TIMEOUT));
    }
    match request.send().await {
        Err(error) => Outcome::Retry {
            status: None,
            seen: describe_transport(&error),
        },
        Ok(response) => {
            let status = response.status();
            let is_html = content_type(response.headers()).contains("html");
            // A health answer is a small JSON document: one that goes on past the cap is not.
            let json = match crate::http::read_whole(response, crate::http::HEALTH_CAP).await {
                Ok(body) => serde_json::from_slice::<serde_json::Value>(&body).ok(),
                Err(_) => None,
            };
            let answer = Answer {
                status,
                is_html,
                json,
            };
            classify(answer, &check.url, started.elapsed(), &check.redactor)
        }
    }
}

/// Answers in a row that say the health path is wrong: 4xx, or 200 that is not JSON.
#[derive(Default)]
struct InARow {
    not_found: u32,
    not_json: u32,
}

impl InARow {
    /// Count `outcome`; the error when the health path is now taken as wrong.
    fn count(&mut self, outcome: &Outcome, url: &str, redactor: &Redactor) -> Option<Error> {
        match outcome {
            Outcome::NotFound { .. } => self.not_found += 1,
            Outcome::NotJson { .. } => self.not_json += 1,
            _ => *self = InARow::default(),
        }
        match outcome {
            Outcome::NotFound { seen, .. } if self.not_found >= NOT_FOUND_LIMIT => {
                Some(health_path_error(url, seen, self.not_found, redactor))
            }
            Outcome::NotJson { seen, .. } if self.not_json >= NOT_JSON_LIMIT => {
                Some(health_path_error(url, seen, self.not_json, redactor))
            }
            _ => None,
        }
    }
}

/// What one health poll got.
enum Outcome {
    Done(Health),
    Retry { status: Option<u16>, seen: String },
    NotFound { status: Option<u16>, seen: String },
    NotJson { status: Option<u16>, seen: String },
    Fail(Box<Error>),
}

impl Outcome {
    fn http_status(&self) -> Option<u16> {
        match self {
            Outcome::Done(health) => Some(health.http_status),
            Outcome::Retry { status, .. }
            | Outcome::NotFound { status, .. }
            | Outcome::NotJson { status, .. } => *status,
            Outcome::Fail(_) => None,
        }
    }

    /// What was seen, in words.
    fn seen(&self) -> String {
        match self {
            Outcome::Done(health) => {
                format!("{} `{}`", health.http_status, health.status.as_data())
            }
            Outcome::Retry { seen, .. }
            | Outcome::NotFound { seen, .. }
            | Outcome::NotJson { seen, .. } => seen.clone(),
            Outcome::Fail(_) => "refused".into(),
        }
    }
}

/// What a health answer was, before it is judged.
struct Answer {
    status: StatusCode,
    is_html: bool,
    json: Option<serde_json::Value>,
}

fn classify(answer: Answer, url: &str, elapsed: Duration, redactor: &Redactor) -> Outcome {
    let Answer {
        status,
        is_html,
        json,
    } = answer;
    let code = status.as_u16();
    let label = format!(
        "{code} {}{}",
        status.canonical_reason().unwrap_or(""),
        if is_html {
            " (HTML)"
        } else if json.is_none() {
            " (not JSON)"
        } else {
            ""
        }
    )
    .replace("  ", " ");
    let object = json.filter(|v| v.is_object());
    if status.is_success() {
        return match object {
            Some(body) => Outcome::Done(Health::from_json(&body, code, elapsed, redactor)),
            None => Outcome::NotJson {
                status: Some(code),
                seen: label,
            },
        };
    }
    if status.is_server_error() {
        // The app's own verdict (FastAPI apps often answer 503 with the health JSON).
        return match object.filter(|body| body.get("status").is_some_and(|s| s.is_string())) {
            Some(body) => Outcome::Done(Health::from_json(&body, code, elapsed, redactor)),
            None => Outcome::Retry {
                status: Some(code),
                seen: label,
            },
        };
    }
    if matches!(code, 401 | 403) {
        let context = Box::new(HttpContext {
            method: "GET".into(),
            url: url.to_string(),
            status: code,
            request_id: None,
            error_code: None,
            server_message: None,
        });
        let action =
            "read the health of the app (private Spaces need a token that may read the Space)"
                .to_string();
        let error = if code == 401 {
            Error::InvalidToken { action, context }
        } else {
            Error::Forbidden { action, context }
        };
        return Outcome::Fail(Box::new(error));
    }
    if status.is_client_error() {
        return Outcome::NotFound {
            status: Some(code),
            seen: label,
        };
    }
    // 1xx/3xx (redirects are followed by the client): keep polling.
    Outcome::Retry {
        status: Some(code),
        seen: label,
    }
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn describe_transport(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "no answer in time".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else if error.is_redirect() {
        "a redirect off the app's host (not followed)".into()
    } else {
        // Without the URL (it is already named by the caller) and never a header.
        let mut text = error.to_string();
        if let Some(url) = error.url() {
            text = text.replace(url.as_str(), "the health URL");
        }
        text
    }
}

fn health_path_error(url: &str, seen: &str, times: u32, redactor: &Redactor) -> Error {
    Error::Unhealthy {
        url: url.to_string(),
        status: RemoteText::new(seen, redactor),
        failing: Vec::new(),
        diagnoses: vec![health_path_diagnosis(url, seen, times).into()],
    }
}

fn health_path_diagnosis(url: &str, seen: &str, times: u32) -> String {
    format!(
        "`{url}` answered {seen} {times} times in a row, not the health JSON: the app does not \
         serve its health check there; check the health path setting (the route of the FastAPI \
         health endpoint, e.g. `/api/health` or `/health`)"
    )
}

/// The failing services of `health`, as `name: status: detail` lines.
pub(crate) fn failing_services(health: &Health, redactor: &Redactor) -> Vec<RemoteText> {
    health
        .services
        .iter()
        .filter(|(_, service)| !service.is_ok())
        .map(|(name, service)| {
            let (name, status) = (name.as_data(), service.status.as_data());
            let line = match &service.detail {
                Some(detail) => format!("{name}: {status}: {}", detail.as_data()),
                None => format!("{name}: {status}"),
            };
            RemoteText::new(&line, redactor)
        })
        .collect()
}

/// Known failures in `health`, as actionable advice (one line each, no duplicates).
pub(crate) fn diagnose(health: &Health) -> Vec<Phrase> {
    let mut out: Vec<Phrase> = Vec::new();
    let mut push = |text: Phrase| {
        if !out.contains(&text) {
            out.push(text);
        }
    };
    let mut not_configured: Vec<String> = Vec::new();
    for (name, service) in &health.services {
        if service.is_ok() {
            continue;
        }
        let lname = name.as_data().to_ascii_lowercase();
        let status = service.status.as_data().to_ascii_lowercase();
        let ldetail = service
            .detail
            .as_ref()
            .map(|detail| detail.as_data().to_ascii_lowercase())
            .unwrap_or_default();
        let about = |word: &str| lname.contains(word) || ldetail.contains(word);
        if status == "not_configured" || status == "not configured" || status == "missing" {
            for secret in secrets_for(&lname) {
                if !not_configured.contains(&secret) {
                    not_configured.push(secret);
                }
            }
            continue;
        }
        if about("qdrant") && (ldetail.contains("404") || ldetail.contains("not found")) {
            push(
                "Qdrant answered 404: free-tier Qdrant Cloud clusters are suspended after a \
                 period of inactivity; resume the cluster in the Qdrant Cloud console \
                 (https://cloud.qdrant.io), then restart the Space"
                    .into(),
            );
        } else if about("qdrant")
            && (ldetail.contains("401")
                || ldetail.contains("403")
                || ldetail.contains("api key")
                || ldetail.contains("api_key"))
        {
            push("Qdrant rejected the API key: check the `QDRANT_API_KEY` secret".into());
        } else if (about("postgres") || lname.contains("database") || lname == "db")
            && (ldetail.contains("ssl") || ldetail.contains("sslmode"))
        {
            push(
                "PostgreSQL requires SSL: add `?sslmode=require` to the `DATABASE_URL` secret \
                 (or `&sslmode=require` when it already has a query)"
                    .into(),
            );
        } else if (about("gemini") || lname.contains("llm") || lname.contains("embedding"))
            && (ldetail.contains("key") || ldetail.contains("401") || ldetail.contains("403"))
        {
            push(
                "Gemini rejected the API key: check the `GEMINI_API_KEY` secret (create a key at \
                 https://aistudio.google.com/apikey)"
                    .into(),
            );
        } else if about("postgres")
            && (ldetail.contains("password authentication failed")
                || ldetail.contains("authentication"))
        {
            push("PostgreSQL refused the credentials: check the user and password in the `DATABASE_URL` secret".into());
        }
    }
    if !not_configured.is_empty() {
        let list = not_configured
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ");
        push(Phrase::new(format!(
            "not configured: set the Space secret(s) {list} in this deploy's secrets"
        )));
    }
    if health.services.is_empty()
        && !health.is_healthy()
        && !(200..300).contains(&health.http_status)
    {
        push(
            Phrase::new(format!(
                "the app answered {} with status `{}` and no service list; look at the run log with ",
                health.http_status,
                health.status.as_data()
            ))
            .command(Command::RunLog),
        );
    }
    out
}

/// The secrets a service of the example backend needs, by service name.
fn secrets_for(service: &str) -> Vec<String> {
    let names: &[&str] = if service.contains("qdrant") || service.contains("vector") {
        &["QDRANT_URL", "QDRANT_API_KEY"]
    } else if service.contains("postgres") || service.contains("database") || service == "db" {
        &["DATABASE_URL"]
    } else if service.contains("gemini") || service.contains("llm") || service.contains("embedding")
    {
        &["GEMINI_API_KEY"]
    } else {
        return vec![format!(
            "{}_*",
            service.to_ascii_uppercase().replace(['-', ' ', '.'], "_")
        )];
    };
    names.iter().map(|s| s.to_string()).collect()
}

/// True when a health answer with this [`Verdict`] passes: healthy, or degraded when
/// `allow_degraded` ([`crate::Field::AllowDegraded`]) is set.
pub(crate) fn accepts(verdict: Verdict, allow_degraded: bool) -> bool {
    match verdict {
        Verdict::Healthy => true,
        Verdict::Degraded => allow_degraded,
        Verdict::Unhealthy => false,
    }
}

/// The error for a health answer that is not healthy: the failing services and the diagnoses.
pub(crate) fn health_error(health: &Health, url: &str, redactor: &Redactor) -> Error {
    Error::Unhealthy {
        url: url.to_string(),
        status: health.status.clone(),
        failing: failing_services(health, redactor),
        diagnoses: diagnose(health),
    }
}

/// What one frontend origin gets from the app's CORS policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsResult {
    /// The origin, e.g. `https://my-app.vercel.app`.
    pub origin: String,
    /// True when both the preflight and the `GET` let the origin through.
    pub allowed: bool,
    /// The status of the preflight, when it got an answer.
    pub preflight_status: Option<u16>,
    /// `Access-Control-Allow-Origin` of the preflight (or of the `GET` without it): the app's.
    pub allow_origin: Option<RemoteText>,
    /// What was seen, in words (quoting the app's headers).
    pub detail: RemoteText,
}

/// [`Error::CorsBlocked`] naming every blocked origin, or `None` when all are allowed.
pub(crate) fn cors_error(results: &[CorsResult]) -> Option<Error> {
    let origins: Vec<String> = results
        .iter()
        .filter(|c| !c.allowed)
        .map(|c| c.origin.clone())
        .collect();
    (!origins.is_empty()).then_some(Error::CorsBlocked { origins })
}

/// What [`verify_app`] checks: the health URL, then CORS from each origin.
#[derive(Debug, Clone)]
pub struct AppCheck {
    /// The health URL of the app, e.g. `https://alice-rag.hf.space/api/health` (see
    /// [`HealthPath::url`](crate::HealthPath::url)); also the URL the CORS probe sends to.
    pub health_url: String,
    /// Sent as `Authorization: Bearer` on every request to the app (private Spaces).
    pub token: Option<SecretString>,
    /// Give up waiting for a health answer after this instant.
    pub deadline: Instant,
    /// Delay between health polls: the initial delay, doubled after each poll up to the maximum.
    pub poll: (Duration, Duration),
    /// Frontend origins to check CORS for; none skips the CORS step.
    pub origins: Vec<String>,
    /// Accept a [`Verdict::Degraded`] answer (with a warning) instead of failing.
    pub allow_degraded: bool,
    /// Redacts what the app says: every known secret of the run (a deploy's plan builds it in
    /// [`crate::DeployOptions::redactor`]), the token included.
    pub redactor: Redactor,
}

/// What happens during [`verify_app`], for a progress display.
#[derive(Debug)]
#[non_exhaustive]
pub enum VerifyEvent<'a> {
    /// One health poll.
    HealthAttempt(&'a HealthAttempt),
    /// The CORS check starts.
    Cors,
}

/// What [`verify_app`] found: everything known, also on failure.
#[derive(Debug)]
pub struct VerifyOutcome {
    /// The app's health answer, when one came.
    pub health: Option<Health>,
    /// Time spent waiting for the health answer.
    pub health_elapsed: Duration,
    /// One result per origin; empty without origins or when the app never answered.
    pub cors: Vec<CorsResult>,
    /// Things that did not fail the check (a degraded answer accepted by `allow_degraded`,
    /// quoting the app).
    pub warnings: Vec<RemoteText>,
    /// Why the app does not pass: no health answer, a health answer not accepted, or a blocked
    /// origin, in that order of precedence.
    pub error: Option<Error>,
}

impl VerifyOutcome {
    /// The verdict of the health answer, when one came.
    pub fn verdict(&self) -> Option<Verdict> {
        self.health.as_ref().map(Health::verdict)
    }
}

/// The one verification sequence of a deploy and of a check of a running app: wait for the
/// health answer, judge it ([`Verdict`], degraded accepted only with `allow_degraded`), then
/// (only when the app answered) check CORS from each origin. Never fails early: the outcome holds what was seen and the first error.
pub async fn verify_app(
    check: &AppCheck,
    on_event: &mut dyn FnMut(VerifyEvent<'_>),
) -> VerifyOutcome {
    let mut outcome = VerifyOutcome {
        health: None,
        health_elapsed: Duration::ZERO,
        cors: Vec::new(),
        warnings: Vec::new(),
        error: None,
    };
    let client = match app_client(check.token.as_ref()) {
        Ok(client) => client,
        Err(error) => {
            outcome.error = Some(error);
            return outcome;
        }
    };
    let health_url = &check.health_url;
    let health_check = HealthCheck {
        url: health_url.clone(),
        // The client carries the token on every request.
        token: None,
        deadline: check.deadline,
        poll: check.poll,
        client: Some(client.clone()),
        redactor: check.redactor.clone(),
    };
    let started = Instant::now();
    let health = wait_healthy(&health_check, &mut |attempt| {
        on_event(VerifyEvent::HealthAttempt(attempt))
    })
    .await;
    outcome.health_elapsed = started.elapsed();
    let health = match health {
        Ok(health) => health,
        Err(error) => {
            outcome.error = Some(error);
            return outcome;
        }
    };
    let verdict = health.verdict();
    if !accepts(verdict, check.allow_degraded) {
        outcome.error = Some(health_error(&health, health_url, &check.redactor));
    } else if verdict != Verdict::Healthy {
        let error = health_error(&health, health_url, &check.redactor);
        outcome
            .warnings
            .push(RemoteText::new(&error.to_string(), &check.redactor));
    }
    outcome.health = Some(health);
    if !check.origins.is_empty() {
        on_event(VerifyEvent::Cors);
        outcome.cors = check_cors(health_url, &check.origins, &client, &check.redactor).await;
        if outcome.error.is_none() {
            outcome.error = cors_error(&outcome.cors);
        }
    }
    outcome
}

/// Check, for each origin, what a browser would be allowed to do against `url`.
///
/// Sends a preflight `OPTIONS` (with `Origin`, `Access-Control-Request-Method: POST` and
/// `Access-Control-Request-Headers: content-type`) and a `GET` with `Origin`. An origin is
/// allowed only when both answers carry `Access-Control-Allow-Origin` equal to it (or `*`) and
/// the preflight allows `POST` and the `content-type` header. For a private Space, give a
/// `client` whose default headers carry the token.
pub(crate) async fn check_cors(
    url: &str,
    origins: &[String],
    client: &reqwest::Client,
    redactor: &Redactor,
) -> Vec<CorsResult> {
    let mut results = Vec::with_capacity(origins.len());
    for origin in origins {
        results.push(check_origin(url, origin, client, redactor).await);
    }
    results
}

async fn check_origin(
    url: &str,
    origin: &str,
    client: &reqwest::Client,
    redactor: &Redactor,
) -> CorsResult {
    let remote = |text: &str| RemoteText::with_max_bytes(text, redactor, MAX_DETAIL_BYTES);
    let preflight = client
        .request(reqwest::Method::OPTIONS, url)
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
        .send()
        .await;
    let preflight = match preflight {
        Ok(response) => response,
        Err(error) => {
            return CorsResult {
                origin: origin.to_string(),
                allowed: false,
                preflight_status: None,
                allow_origin: None,
                detail: remote(&format!(
                    "the preflight got no answer: {}",
                    describe_transport(&error)
                )),
            };
        }
    };
    let status = preflight.status().as_u16();
    let headers = preflight.headers();
    let pre_origin = header_text(headers, header::ACCESS_CONTROL_ALLOW_ORIGIN);
    let methods = header_text(headers, header::ACCESS_CONTROL_ALLOW_METHODS);
    let allow_headers = header_text(headers, header::ACCESS_CONTROL_ALLOW_HEADERS);
    let mut problems: Vec<String> = Vec::new();
    if !preflight.status().is_success() {
        problems.push(format!("the preflight answered {status}"));
    }
    match &pre_origin {
        None => problems.push("the preflight has no `Access-Control-Allow-Origin`".into()),
        Some(value) if !origin_matches(value, origin) => {
            problems.push(format!("the preflight allows `{value}`, not this origin"))
        }
        Some(_) => {}
    }
    // POST is a CORS-safelisted method: browsers accept a preflight that does not list it.
    if let Some(methods) = &methods {
        if !list_contains(methods, "POST") {
            problems.push(format!(
                "the preflight allows the methods `{methods}`, not `POST`"
            ));
        }
    }
    match &allow_headers {
        Some(value) if list_contains(value, "content-type") => {}
        Some(value) => problems.push(format!(
            "the preflight allows the headers `{value}`, not `content-type`"
        )),
        None => problems.push("the preflight does not allow the `content-type` header".into()),
    }

    let get = client.get(url).header(header::ORIGIN, origin).send().await;
    let get_origin = match get {
        Ok(response) => {
            let value = header_text(response.headers(), header::ACCESS_CONTROL_ALLOW_ORIGIN);
            match &value {
                None => problems.push(format!(
                    "the GET answered {} without `Access-Control-Allow-Origin`",
                    response.status().as_u16()
                )),
                Some(value) if !origin_matches(value, origin) => {
                    problems.push(format!("the GET allows `{value}`, not this origin"))
                }
                Some(_) => {}
            }
            value
        }
        Err(error) => {
            problems.push(format!(
                "the GET got no answer: {}",
                describe_transport(&error)
            ));
            None
        }
    };
    let allowed = problems.is_empty();
    let allow_origin = pre_origin.or(get_origin);
    let detail = if allowed {
        format!(
            "preflight {status} and GET allow it (`Access-Control-Allow-Origin: {}`)",
            allow_origin.as_deref().unwrap_or("")
        )
    } else {
        problems.join("; ")
    };
    CorsResult {
        origin: origin.to_string(),
        allowed,
        preflight_status: Some(status),
        allow_origin: allow_origin.as_deref().map(remote),
        detail: remote(&detail),
    }
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
}

fn origin_matches(allowed: &str, origin: &str) -> bool {
    allowed == "*" || allowed.trim_end_matches('/') == origin.trim_end_matches('/')
}

fn list_contains(list: &str, wanted: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|item| item == "*" || item.eq_ignore_ascii_case(wanted))
}

// Table-driven tests list one case per health answer: long by nature.
#[cfg(test)]
#[allow(clippy::too_many_lines)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::http::{HeaderMap as AxumHeaders, Method, StatusCode as AxumStatus};
    use axum::response::{IntoResponse, Response};
    use axum::routing::any;

    /// Text from outside, for a test.
    fn t(text: &str) -> RemoteText {
        RemoteText::new(text, &Redactor::none())
    }

    /// Serve `app` on 127.0.0.1:0 and return its base URL.
    async fn serve(app: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        format!("http://{addr}")
    }

    fn json(status: u16, body: &str) -> Response {
        (
            AxumStatus::from_u16(status).expect("status"),
            [("content-type", "application/json")],
            body.to_string(),
        )
            .into_response()
    }

    fn html(status: u16) -> Response {
        (
            AxumStatus::from_u16(status).expect("status"),
            [("content-type", "text/html; charset=utf-8")],
            "<!doctype html><html><body>Space is starting</body></html>",
        )
            .into_response()
    }

    fn fast_check(url: String, timeout: Duration) -> HealthCheck {
        HealthCheck {
            url,
            token: None,
            deadline: Instant::now() + timeout,
            poll: (Duration::from_millis(10), Duration::from_millis(40)),
            client: None,
            redactor: Redactor::none(),
        }
    }

    const HEALTHY: &str = r#"{"status": "healthy", "services": {"fastapi": "ok", "qdrant": {"status": "ok"}, "postgres": {"status": "ok"}, "gemini": {"status": "ok"}}}"#;
    const DEGRADED: &str = r#"{"status": "degraded", "services": {"fastapi": "ok",
        "qdrant": {"status": "error", "error": "qdrant answered 404 Not Found: the cluster may be suspended; resume it in the Qdrant Cloud console"},
        "postgres": {"status": "error", "error": "connection failed: SSL connection is required. Please specify SSL options and retry."},
        "gemini": {"status": "error", "error": "gemini rejected the API key (HTTP 400); check GEMINI_API_KEY"},
        "embedding": {"status": "not_configured"}}}"#;

    #[tokio::test]
    async fn verify_healthy_answer_is_parsed() {
        let base =
            serve(Router::new().route("/api/health", any(|| async { json(200, HEALTHY) }))).await;
        let mut attempts = Vec::new();
        let health = wait_healthy(
            &fast_check(format!("{base}/api/health"), Duration::from_secs(5)),
            &mut |a| attempts.push(a.clone()),
        )
        .await
        .expect("healthy");
        assert!(health.is_healthy());
        assert_eq!(health.http_status, 200);
        assert_eq!(health.services.len(), 4);
        assert_eq!(
            health.services[&t("fastapi")],
            ServiceHealth {
                status: t("ok"),
                detail: None
            }
        );
        assert!(diagnose(&health).is_empty());
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].next_delay, None);
    }

    #[tokio::test]
    async fn verify_degraded_lists_each_failing_service_and_diagnosis() {
        let base =
            serve(Router::new().route("/api/health", any(|| async { json(200, DEGRADED) }))).await;
        let url = format!("{base}/api/health");
        let health = wait_healthy(
            &fast_check(url.clone(), Duration::from_secs(5)),
            &mut |_| {},
        )
        .await
        .expect("answer");
        assert_eq!(health.status, "degraded");
        assert!(!health.is_healthy());
        let error = health_error(&health, &url, &Redactor::none());
        let Error::Unhealthy {
            failing,
            diagnoses,
            status,
            ..
        } = &error
        else {
            panic!("not Unhealthy: {error:?}");
        };
        assert_eq!(status, "degraded");
        assert_eq!(failing.len(), 4, "{failing:?}");
        assert!(failing.contains(&t("embedding: not_configured")));
        assert!(failing.iter().any(|f| {
            f.as_data()
                .starts_with("qdrant: error: qdrant answered 404")
        }));
        insta::assert_snapshot!(
            "verify_degraded_error",
            format!(
                "{}\n\nhint:\n{}",
                error.to_string().replace(&base, "http://[APP]"),
                error.hint().unwrap_or_default()
            )
        );
        assert_eq!(diagnoses.len(), 4, "{diagnoses:?}");
    }

    #[tokio::test]
    async fn verify_cold_start_503_three_times_then_200() {
        let hits = Arc::new(Mutex::new(0u32));
        let counter = hits.clone();
        let app = Router::new().route(
            "/api/health",
            any(move || {
                let counter = counter.clone();
                async move {
                    let mut n = counter.lock().expect("lock");
                    *n += 1;
                    if *n <= 3 {
                        html(503)
                    } else {
                        json(200, HEALTHY)
                    }
                }
            }),
        );
        let base = serve(app).await;
        let mut attempts = Vec::new();
        let health = wait_healthy(
            &fast_check(format!("{base}/api/health"), Duration::from_secs(10)),
            &mut |a| attempts.push(a.clone()),
        )
        .await
        .expect("healthy after cold start");
        assert!(health.is_healthy());
        assert_eq!(*hits.lock().expect("lock"), 4);
        let seen: Vec<_> = attempts
            .iter()
            .map(|a| (a.http_status, a.outcome.as_data()))
            .collect();
        assert_eq!(
            seen,
            vec![
                (Some(503), "503 Service Unavailable (HTML)"),
                (Some(503), "503 Service Unavailable (HTML)"),
                (Some(503), "503 Service Unavailable (HTML)"),
                (Some(200), "200 `healthy`"),
            ]
        );
        // Backoff grows from the initial delay to the maximum.
        let delays: Vec<_> = attempts.iter().filter_map(|a| a.next_delay).collect();
        assert_eq!(
            delays,
            vec![
                Duration::from_millis(10),
                Duration::from_millis(20),
                Duration::from_millis(40)
            ]
        );
    }

    #[tokio::test]
    async fn verify_html_200_says_to_check_the_health_path() {
        let base = serve(Router::new().fallback(any(|| async { html(200) }))).await;
        let url = format!("{base}/health");
        let error = wait_healthy(
            &fast_check(url.clone(), Duration::from_secs(10)),
            &mut |_| {},
        )
        .await
        .unwrap_err();
        let Error::Unhealthy {
            diagnoses, status, ..
        } = &error
        else {
            panic!("{error:?}")
        };
        assert_eq!(status, "200 OK (HTML)");
        assert!(
            diagnoses[0]
                .to_string()
                .contains("check the health path setting"),
            "{diagnoses:?}"
        );
        assert!(
            diagnoses[0]
                .to_string()
                .contains(&format!("`{url}` answered 200 OK (HTML) 3 times in a row"))
        );
    }

    #[tokio::test]
    async fn verify_persistent_404_says_to_check_the_health_path() {
        let base = serve(Router::new()).await;
        let error = wait_healthy(
            &fast_check(format!("{base}/nope"), Duration::from_secs(10)),
            &mut |_| {},
        )
        .await
        .unwrap_err();
        assert_eq!(error.kind(), "unhealthy");
        assert!(
            error
                .hint()
                .unwrap_or_default()
                .contains("check the health path setting"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn verify_timeout_reports_the_last_status() {
        let base = serve(Router::new().route("/api/health", any(|| async { html(502) }))).await;
        let url = format!("{base}/api/health");
        let started = Instant::now();
        let error = wait_healthy(
            &fast_check(url.clone(), Duration::from_millis(300)),
            &mut |_| {},
        )
        .await
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3));
        let Error::Timeout {
            what, last_seen, ..
        } = &error
        else {
            panic!("{error:?}")
        };
        assert_eq!(what, &format!("a healthy answer from `{url}`"));
        assert_eq!(last_seen, "502 Bad Gateway (HTML)");
    }

    #[tokio::test]
    async fn verify_timeout_on_connection_errors() {
        // Bind and drop: nothing listens on this port any more.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/api/health", listener.local_addr().expect("addr"));
        drop(listener);
        let error = wait_healthy(&fast_check(url, Duration::from_millis(200)), &mut |_| {})
            .await
            .unwrap_err();
        let Error::Timeout { last_seen, .. } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(last_seen, "could not connect");
    }

    #[tokio::test]
    async fn verify_private_check_sends_the_bearer_token_and_never_shows_it() {
        const TOKEN: &str = "hf_privatetokenvalue123456";
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let log = seen.clone();
        let app = Router::new().route(
            "/api/health",
            any(move |headers: AxumHeaders| {
                let log = log.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    log.lock().expect("lock").push(auth.clone());
                    if auth == format!("Bearer {TOKEN}") {
                        json(200, HEALTHY)
                    } else {
                        json(401, r#"{"error":"Invalid credentials"}"#)
                    }
                }
            }),
        );
        let base = serve(app).await;
        let mut check = fast_check(format!("{base}/api/health"), Duration::from_secs(5));
        check.token = Some(SecretString::new(TOKEN));
        assert!(!format!("{check:?}").contains(TOKEN));
        let health = wait_healthy(&check, &mut |_| {})
            .await
            .expect("healthy with token");
        assert!(health.is_healthy());
        assert_eq!(
            seen.lock().expect("lock").as_slice(),
            [format!("Bearer {TOKEN}")]
        );

        // A wrong token: refused at once, and the error shows neither token.
        check.token = Some(SecretString::new("hf_wrongtoken987654321"));
        let mut attempts = Vec::new();
        let error = wait_healthy(&check, &mut |a| attempts.push(a.clone()))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), "invalid_token");
        let shown = format!("{error} {error:?} {:?} {attempts:?}", error.hint());
        assert!(
            !shown.contains("hf_wrongtoken") && !shown.contains(TOKEN),
            "{shown}"
        );
        assert_eq!(attempts.len(), 1);

        // The token in the client instead (as for the CORS check): sent, never shown.
        let client = app_client(Some(&SecretString::new(TOKEN))).expect("client");
        assert!(!format!("{client:?}").contains(TOKEN), "{client:?}");
        check.token = None;
        check.client = Some(client);
        assert!(!format!("{check:?}").contains(TOKEN));
        let health = wait_healthy(&check, &mut |_| {})
            .await
            .expect("healthy with client token");
        assert!(health.is_healthy());
        assert_eq!(
            seen.lock().expect("lock").last(),
            Some(&format!("Bearer {TOKEN}"))
        );
    }

    #[tokio::test]
    async fn verify_503_with_health_json_is_the_apps_verdict() {
        let body = r#"{"status": "unhealthy", "services": {"postgres": {"status": "not_configured"}, "qdrant": {"status": "not_configured"}}}"#;
        let base =
            serve(Router::new().route("/api/health", any(move || async move { json(503, body) })))
                .await;
        let health = wait_healthy(
            &fast_check(format!("{base}/api/health"), Duration::from_secs(5)),
            &mut |_| {},
        )
        .await
        .expect("answer");
        assert_eq!(
            (health.status.as_data(), health.http_status),
            ("unhealthy", 503)
        );
        assert_eq!(
            diagnose(&health),
            vec![Phrase::new(
                "not configured: set the Space secret(s) `DATABASE_URL`, `QDRANT_URL`, `QDRANT_API_KEY` in this deploy's secrets"
            )]
        );
    }

    #[test]
    fn verify_parses_bare_strings_objects_and_top_level_services() {
        let raw = serde_json::json!({"status": "ok", "database": {"healthy": false, "detail": "timeout"}, "version": "1.0"});
        let health = Health::from_json(&raw, 200, Duration::ZERO, &Redactor::none());
        assert!(health.is_healthy());
        assert_eq!(health.services.len(), 1);
        assert_eq!(
            health.services[&t("database")],
            ServiceHealth {
                status: t("error"),
                detail: Some(t("timeout"))
            }
        );
        let raw = serde_json::json!({"checks": {"redis": true, "s3": {"status": "error", "message": "denied"}}});
        let health = Health::from_json(&raw, 503, Duration::ZERO, &Redactor::none());
        assert_eq!(health.status, "unhealthy");
        assert_eq!(
            health.services[&t("s3")]
                .detail
                .as_ref()
                .map(RemoteText::as_data),
            Some("denied")
        );
        assert!(health.services[&t("redis")].is_ok());
    }

    /// A fake app with Starlette-like CORS: `allowed` origins are echoed, `star` answers `*`.
    async fn cors_app(allowed: &'static [&'static str], star: bool) -> String {
        let handler = move |method: Method, headers: AxumHeaders| async move {
            let origin = headers
                .get("origin")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let allow = if star {
                Some("*".to_string())
            } else {
                allowed.contains(&origin.as_str()).then_some(origin)
            };
            if method == Method::OPTIONS {
                match allow {
                    Some(value) => (
                        AxumStatus::OK,
                        [
                            ("access-control-allow-origin", value),
                            (
                                "access-control-allow-methods",
                                "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT".to_string(),
                            ),
                            ("access-control-allow-headers", "content-type".to_string()),
                        ],
                    )
                        .into_response(),
                    None => (AxumStatus::BAD_REQUEST, "Disallowed CORS origin").into_response(),
                }
            } else {
                let mut response = json(200, HEALTHY);
                if let Some(value) = allow {
                    response.headers_mut().insert(
                        "access-control-allow-origin",
                        value.parse().expect("header"),
                    );
                }
                response
            }
        };
        serve(Router::new().route("/api/health", any(handler))).await
    }

    #[tokio::test]
    async fn verify_cors_allowed_and_blocked() {
        let base = cors_app(&["https://good.vercel.app"], false).await;
        let client = reqwest::Client::new();
        let origins = vec![
            "https://good.vercel.app".to_string(),
            "https://evil.example.com".to_string(),
        ];
        let results = check_cors(
            &format!("{base}/api/health"),
            &origins,
            &client,
            &Redactor::none(),
        )
        .await;
        assert_eq!(results.len(), 2);
        let good = &results[0];
        assert!(good.allowed, "{good:?}");
        assert_eq!(good.preflight_status, Some(200));
        assert_eq!(
            good.allow_origin.as_ref().map(RemoteText::as_data),
            Some("https://good.vercel.app")
        );
        let bad = &results[1];
        assert!(!bad.allowed);
        assert_eq!(bad.preflight_status, Some(400));
        assert_eq!(bad.allow_origin, None);
        insta::assert_snapshot!("verify_cors_blocked_detail", bad.detail.as_data());
    }

    #[tokio::test]
    async fn verify_cors_star_allows_every_origin() {
        let base = cors_app(&[], true).await;
        let client = reqwest::Client::new();
        let results = check_cors(
            &format!("{base}/api/health"),
            &["https://any.example.org".to_string()],
            &client,
            &Redactor::none(),
        )
        .await;
        assert!(results[0].allowed, "{:?}", results[0]);
        assert_eq!(
            results[0].allow_origin.as_ref().map(RemoteText::as_data),
            Some("*")
        );
    }

    #[tokio::test]
    async fn verify_cors_unreachable_is_blocked_with_detail() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        drop(listener);
        let results = check_cors(
            &format!("{base}/api/health"),
            &["https://a.app".to_string()],
            &reqwest::Client::new(),
            &Redactor::none(),
        )
        .await;
        assert!(!results[0].allowed);
        assert_eq!(results[0].preflight_status, None);
        assert_eq!(
            results[0].detail,
            "the preflight got no answer: could not connect"
        );
    }

    #[test]
    fn verify_verdict_is_one_rule_for_every_health_word() {
        let table = [
            ("healthy", Verdict::Healthy),
            ("ok", Verdict::Healthy),
            ("OK", Verdict::Healthy),
            (" up ", Verdict::Healthy),
            ("pass", Verdict::Healthy),
            ("passing", Verdict::Healthy),
            ("connected", Verdict::Healthy),
            ("available", Verdict::Healthy),
            ("degraded", Verdict::Degraded),
            ("Degraded", Verdict::Degraded),
            ("warn", Verdict::Degraded),
            ("unhealthy", Verdict::Unhealthy),
            ("fail", Verdict::Unhealthy),
            ("error", Verdict::Unhealthy),
            ("down", Verdict::Unhealthy),
            ("", Verdict::Unhealthy),
            ("<html>", Verdict::Unhealthy),
        ];
        for (word, expected) in table {
            assert_eq!(verdict(word), expected, "{word:?}");
            let summary = crate::report::HealthSummary {
                status: t(word),
                services: BTreeMap::new(),
            };
            assert_eq!(summary.verdict(), expected, "report of {word:?}");
            assert_eq!(
                ServiceHealth {
                    status: t(word),
                    detail: None
                }
                .is_ok(),
                expected == Verdict::Healthy,
                "service {word:?}"
            );
        }
        assert!(accepts(Verdict::Healthy, false));
        assert!(!accepts(Verdict::Degraded, false));
        assert!(accepts(Verdict::Degraded, true));
        assert!(!accepts(Verdict::Unhealthy, true));
    }

    /// Serve `answer` on `/api/health` (and CORS for `https://ok.app` on it), run the one
    /// verification sequence and record it in a report, as `deploy` and `verify` do.
    async fn verify_and_report(
        answer: fn() -> Response,
        allow_degraded: bool,
    ) -> (Seen, crate::report::DeployReport, Option<Error>) {
        let app = Router::new().route(
            "/api/health",
            any(move |method: Method| async move {
                if method == Method::OPTIONS {
                    return (
                        AxumStatus::OK,
                        [
                            ("access-control-allow-origin", "https://ok.app"),
                            ("access-control-allow-methods", "GET, POST"),
                            ("access-control-allow-headers", "content-type"),
                        ],
                    )
                        .into_response();
                }
                let mut response = answer();
                response.headers_mut().insert(
                    "access-control-allow-origin",
                    axum::http::HeaderValue::from_static("https://ok.app"),
                );
                response
            }),
        );
        let base = serve(app).await;
        let check = AppCheck {
            health_url: format!("{base}/api/health"),
            token: None,
            deadline: Instant::now() + Duration::from_secs(5),
            poll: (Duration::from_millis(5), Duration::from_millis(20)),
            origins: vec!["https://ok.app".into()],
            allow_degraded,
            redactor: Redactor::none(),
        };
        let mut events = Vec::new();
        let outcome = verify_app(&check, &mut |event| {
            events.push(match event {
                VerifyEvent::HealthAttempt(_) => "health",
                VerifyEvent::Cors => "cors",
            })
        })
        .await;
        assert_eq!(events.first(), Some(&"health"));
        assert_eq!(
            events.contains(&"cors"),
            outcome.health.is_some(),
            "CORS runs once the app answered, only then"
        );
        let seen = Seen {
            verdict: outcome.verdict(),
            answered: outcome.health.is_some(),
            unhealthy_error: matches!(outcome.error, Some(Error::Unhealthy { .. })),
        };
        let mut report = crate::report::DeployReport {
            app_url: base,
            ..Default::default()
        };
        let error = report.record_verification(outcome);
        if let Some(error) = &error {
            report.set_error(error, &Redactor::none());
        }
        (seen, report, error)
    }

    struct Seen {
        verdict: Option<Verdict>,
        answered: bool,
        unhealthy_error: bool,
    }

    #[tokio::test]
    async fn verify_deploy_accept_and_report_agree_on_every_health_answer() {
        use crate::report::Outcome as Shown;
        fn passing() -> Response {
            json(200, r#"{"status": "passing"}"#)
        }
        fn ok() -> Response {
            json(200, r#"{"status": "ok", "services": {"db": "ok"}}"#)
        }
        fn healthy() -> Response {
            json(200, HEALTHY)
        }
        fn no_status() -> Response {
            json(200, r#"{"version": "1.2.3"}"#)
        }
        fn degraded() -> Response {
            json(200, DEGRADED)
        }
        fn warn() -> Response {
            json(200, r#"{"status": "warn"}"#)
        }
        fn unhealthy_503() -> Response {
            json(
                503,
                r#"{"status": "unhealthy", "services": {"db": "error"}}"#,
            )
        }
        fn html_200() -> Response {
            html(200)
        }
        // (name, answer, verdict, accepted without and with `--allow-degraded`, shown as)
        type Case = (
            &'static str,
            fn() -> Response,
            Option<Verdict>,
            [bool; 2],
            [Shown; 2],
        );
        let cases: [Case; 8] = [
            (
                "passing",
                passing,
                Some(Verdict::Healthy),
                [true, true],
                [Shown::Healthy; 2],
            ),
            (
                "ok",
                ok,
                Some(Verdict::Healthy),
                [true, true],
                [Shown::Healthy; 2],
            ),
            (
                "healthy",
                healthy,
                Some(Verdict::Healthy),
                [true, true],
                [Shown::Healthy; 2],
            ),
            (
                "no status",
                no_status,
                Some(Verdict::Healthy),
                [true, true],
                [Shown::Healthy; 2],
            ),
            (
                "degraded",
                degraded,
                Some(Verdict::Degraded),
                [false, true],
                [Shown::Failed, Shown::Degraded],
            ),
            (
                "warn",
                warn,
                Some(Verdict::Degraded),
                [false, true],
                [Shown::Failed, Shown::Degraded],
            ),
            (
                "unhealthy 503",
                unhealthy_503,
                Some(Verdict::Unhealthy),
                [false, false],
                [Shown::Failed; 2],
            ),
            ("HTML", html_200, None, [false, false], [Shown::Failed; 2]),
        ];
        for (name, answer, expected, accepted, shown) in cases {
            for (i, allow_degraded) in [false, true].into_iter().enumerate() {
                let (outcome, report, error) = verify_and_report(answer, allow_degraded).await;
                let context = format!("{name}, allow_degraded={allow_degraded}");
                assert_eq!(outcome.verdict, expected, "{context}");
                assert_eq!(error.is_none(), accepted[i], "{context}: {error:?}");
                assert_eq!(report.outcome(), shown[i], "{context}");
                assert_eq!(
                    report.health.as_ref().map(|h| h.verdict()),
                    expected,
                    "{context}: the report judges the answer as the deploy did"
                );
                // An accepted degraded answer is a warning; a healthy one is not.
                assert_eq!(
                    !report.warnings.is_empty(),
                    accepted[i] && expected == Some(Verdict::Degraded),
                    "{context}: {:?}",
                    report.warnings
                );
                if outcome.answered {
                    assert_eq!(report.cors.len(), 1, "{context}");
                    assert!(report.cors[0].allowed, "{context}: {:?}", report.cors);
                } else {
                    assert!(report.cors.is_empty(), "{context}");
                    assert!(outcome.unhealthy_error, "{context}: {error:?}");
                }
            }
        }
    }

    #[tokio::test]
    async fn verify_app_fails_on_a_blocked_origin_after_a_healthy_answer() {
        let base =
            serve(Router::new().route("/api/health", any(|| async { json(200, HEALTHY) }))).await;
        let check = AppCheck {
            health_url: format!("{base}/api/health"),
            token: None,
            deadline: Instant::now() + Duration::from_secs(5),
            poll: (Duration::from_millis(5), Duration::from_millis(20)),
            origins: vec!["https://blocked.app".into()],
            allow_degraded: false,
            redactor: Redactor::none(),
        };
        let outcome = verify_app(&check, &mut |_| {}).await;
        assert_eq!(outcome.verdict(), Some(Verdict::Healthy));
        assert!(!outcome.cors[0].allowed);
        let Some(Error::CorsBlocked { origins }) = &outcome.error else {
            panic!("{:?}", outcome.error);
        };
        assert_eq!(origins, &["https://blocked.app".to_string()]);
    }
}
