//! [`HubClient`]: the Hub HTTP API calls a deploy needs, over reqwest.
//!
//! Every call goes through `HubClient::send` (retries, see `retry.rs`) and, when the answer is an
//! error status, `map_http_error` (the one place that turns status, headers and body into an
//! [`Error`]).

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use futures_util::{Stream, StreamExt};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::models::{
    CreateSpace, Created, LogKind, LogLine, SecretInfo, SpaceInfo, SpaceRuntime, Variable, WhoAmI,
};
use super::sse::{LogEvent, SseParser, parse_log_event};
use crate::error::{Error, HttpContext, Result};
use crate::field::Field;
use crate::secret::SecretString;
use crate::space::SpaceId;
use crate::urls::parse_http_url;
use crate::wait::{self, Idempotency, Outcome, Retries, RetryPolicy};

/// The public Hub.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest silence on a log stream before the connection counts as dead (`huggingface_hub` uses
/// 120 s in follow mode; the Hub sends keep-alives well within it).
const STREAM_READ_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest server message kept in an error.
const MAX_MESSAGE_CHARS: usize = 500;

/// Client of the Hub HTTP API. Cheap to clone (one `Arc`); clones share the whoami cache.
///
/// The library reads no environment: pass the endpoint and token to [`HubClient::builder`].
#[derive(Clone)]
pub struct HubClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoint: String,
    token: Option<SecretString>,
    user_agent: String,
    retry: RetryPolicy,
    timeout: Duration,
    whoami: tokio::sync::OnceCell<WhoAmI>,
    /// When the token is a repo-scoped one from a Trusted Publisher exchange: when it expires.
    scoped_until: Option<std::time::Instant>,
    /// Runs watching this client's rate-limit waits ([`HubClient::watch_waits`]).
    watchers: std::sync::Mutex<Vec<Watcher>>,
}

struct Watcher {
    id: u64,
    deadline: std::time::Instant,
    sender: tokio::sync::mpsc::UnboundedSender<ServerWait>,
}

/// A wait the Hub asked for (`RateLimit: "api";r=0;t=N` or `Retry-After`), about to be slept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerWait {
    /// What the client was doing, e.g. "read Space `user/app`".
    pub action: String,
    /// How long.
    pub wait: Duration,
    /// When the window resets: the call is sent again then.
    pub until: SystemTime,
}

/// The rate-limit waits of a run, from [`HubClient::watch_waits`]; stops watching when dropped.
#[derive(Debug)]
pub struct WaitWatch {
    client: HubClient,
    id: u64,
    receiver: tokio::sync::mpsc::UnboundedReceiver<ServerWait>,
}

impl WaitWatch {
    /// The next wait the Hub asked for (pending until there is one).
    pub async fn recv(&mut self) -> Option<ServerWait> {
        self.receiver.recv().await
    }
}

impl Drop for WaitWatch {
    fn drop(&mut self) {
        self.client
            .watchers()
            .retain(|watcher| watcher.id != self.id);
    }
}

impl fmt::Debug for HubClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubClient")
            .field("endpoint", &self.inner.endpoint)
            .field("token_set", &self.inner.token.is_some())
            .field("user_agent", &self.inner.user_agent)
            .field("max_attempts", &self.inner.retry.max_attempts)
            .field("timeout", &self.inner.timeout)
            .finish()
    }
}

/// Options of a [`HubClient`]; every option unset means its default, applied in
/// [`HubClientBuilder::build`].
#[derive(Default)]
pub struct HubClientBuilder {
    endpoint: Option<String>,
    token: Option<SecretString>,
    user_agent: Option<String>,
    max_attempts: Option<u32>,
    base_delay: Option<Duration>,
    max_delay: Option<Duration>,
    max_retry_wait: Option<Duration>,
    timeout: Option<Duration>,
    scoped_until: Option<std::time::Instant>,
}

impl fmt::Debug for HubClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubClientBuilder")
            .field("endpoint", &self.endpoint)
            .field("token_set", &self.token.is_some())
            .field("user_agent", &self.user_agent)
            .finish_non_exhaustive()
    }
}

impl HubClientBuilder {
    /// Hub base URL; default [`DEFAULT_ENDPOINT`]. May carry a path (a proxy).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Access token, sent as `Authorization: Bearer`. Without one only public reads work.
    pub fn token(mut self, token: SecretString) -> Self {
        self.token = Some(token);
        self
    }

    /// The token is a repo-scoped one from a Trusted Publisher (OIDC) exchange, valid until
    /// `until`: it writes one Space only, cannot create one, and may be refused settings calls.
    pub fn scoped_token(mut self, until: std::time::Instant) -> Self {
        self.scoped_until = Some(until);
        self
    }

    /// `User-Agent`; default `hf-deploy/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Attempts per call, the first included; default 5. `1` turns retries off.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// Backoff before the first retry, doubled each time; default 1 s.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = Some(delay);
        self
    }

    /// Longest backoff between two attempts; default 8 s.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = Some(delay);
        self
    }

    /// Longest wait honoured when the Hub asks for one (`Retry-After`, `RateLimit`); asked for
    /// more, the call fails with [`Error::RateLimited`] at once. Default 60 s.
    pub fn max_retry_wait(mut self, wait: Duration) -> Self {
        self.max_retry_wait = Some(wait);
        self
    }

    /// Time limit of one request (connect and answer), log streams excepted; default 60 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Validate the options and build the client.
    pub fn build(self) -> Result<HubClient> {
        let endpoint = match self.endpoint {
            Some(endpoint) => parse_http_url(endpoint.trim(), Field::Endpoint)?,
            None => DEFAULT_ENDPOINT.to_string(),
        };
        if let Some(token) = &self.token {
            check_token(token)?;
        }
        let user_agent = self
            .user_agent
            .unwrap_or_else(|| format!("hf-deploy/{}", env!("CARGO_PKG_VERSION")));
        if HeaderValue::from_str(&user_agent).is_err() {
            return Err(Error::invalid_input(
                Field::UserAgent,
                "contains characters that cannot be sent in an HTTP header",
            ));
        }
        let max_attempts = self.max_attempts.unwrap_or(5);
        if max_attempts == 0 {
            return Err(Error::invalid_input(
                Field::MaxAttempts,
                "must be at least 1",
            ));
        }
        let defaults = RetryPolicy::default();
        let retry = RetryPolicy {
            max_attempts,
            base_delay: self.base_delay.unwrap_or(defaults.base_delay),
            max_delay: self.max_delay.unwrap_or(defaults.max_delay),
            max_server_wait: self.max_retry_wait.unwrap_or(defaults.max_server_wait),
            jitter: defaults.jitter,
        };
        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let http = reqwest::Client::builder()
            .user_agent(user_agent.clone())
            .connect_timeout(timeout)
            .read_timeout(timeout.max(STREAM_READ_TIMEOUT))
            .build()
            .map_err(|source| Error::Request {
                action: "set up the HTTP client".into(),
                url: endpoint.clone(),
                source: source.without_url(),
            })?;
        Ok(HubClient {
            inner: Arc::new(Inner {
                http,
                endpoint,
                token: self.token,
                user_agent,
                retry,
                timeout,
                whoami: tokio::sync::OnceCell::new(),
                scoped_until: self.scoped_until,
                watchers: Default::default(),
            }),
        })
    }
}

fn check_token(token: &SecretString) -> Result<()> {
    let hint = "copy the token again from https://huggingface.co/settings/tokens (it looks like `hf_...`, with no spaces or newline)";
    let value = token.expose();
    if value.is_empty() {
        return Err(Error::invalid_input_hint(Field::Token, "is empty", hint));
    }
    if !value.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(Error::invalid_input_hint(
            Field::Token,
            "contains spaces, line breaks or non-ASCII characters",
            hint,
        ));
    }
    Ok(())
}

/// What one call is, for sending, retrying and naming it in errors.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) method: Method,
    /// Path under the endpoint, e.g. `/api/spaces/ns/name/runtime`.
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, &'static str)>,
    pub(crate) body: Option<Value>,
    /// What we were doing, for messages: "read the runtime of Space `ns/name`".
    pub(crate) action: String,
    /// What a 404 means: "Space `ns/name`".
    pub(crate) what: String,
    pub(crate) kind: CallKind,
    pub(crate) idempotency: Idempotency,
}

/// How a status is read depends on the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallKind {
    /// `GET /api/whoami-v2`: every 401 is the token.
    WhoAmI,
    /// A read.
    Read,
    /// A change: a 403 may mean a read-only token.
    Write,
}

/// A non-2xx answer, read in full.
#[derive(Debug, Clone)]
pub(crate) struct Failed {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

/// What one attempt ended with.
enum Attempt {
    Success(Response),
    Failed(Failed),
    Transport(reqwest::Error),
}

/// What [`HubClient::send`] ended with when no transport error is left.
enum Answer {
    Success(Response),
    Failed { failed: Failed, attempts: u32 },
}

impl HubClient {
    /// A builder with every option unset.
    pub fn builder() -> HubClientBuilder {
        HubClientBuilder::default()
    }

    /// The Hub base URL, without a trailing slash.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// The HTTP client (its connection pool and timeouts), for git requests to the same host.
    pub(crate) fn http(&self) -> reqwest::Client {
        self.inner.http.clone()
    }

    /// The token, for the git/LFS code that sends it itself (as a Basic-auth password through a
    /// credential callback, never in a URL).
    pub fn token(&self) -> Option<&SecretString> {
        self.inner.token.as_ref()
    }

    /// When the token is repo-scoped (a Trusted Publisher exchange): the moment it expires.
    pub fn scoped_until(&self) -> Option<std::time::Instant> {
        self.inner.scoped_until
    }

    /// Watch the waits the Hub asks for while `deadline` stands: until the returned watch is
    /// dropped, a wait that ends before `deadline` is slept (a 5-minute rate-limit window
    /// included) and sent to the watch first; one that would end after it fails the call at
    /// once with [`Error::RateLimited`] and the reset time. Without a watch, waits longer than
    /// [`HubClientBuilder::max_retry_wait`] fail.
    pub fn watch_waits(&self, deadline: std::time::Instant) -> WaitWatch {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        self.watchers().push(Watcher {
            id,
            deadline,
            sender,
        });
        WaitWatch {
            client: self.clone(),
            id,
            receiver,
        }
    }

    fn watchers(&self) -> std::sync::MutexGuard<'_, Vec<Watcher>> {
        self.inner
            .watchers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The retry policy of a call now: bounded by the earliest watched deadline, if any.
    fn policy(&self) -> RetryPolicy {
        let deadline = self.watchers().iter().map(|w| w.deadline).min();
        match deadline {
            Some(deadline) => self.inner.retry.until(deadline),
            None => self.inner.retry,
        }
    }

    fn tell_wait(&self, action: &str, wait: Duration) {
        let until = SystemTime::now() + wait;
        for watcher in self.watchers().iter() {
            let _ = watcher.sender.send(ServerWait {
                action: action.to_string(),
                wait,
                until,
            });
        }
    }

    /// The git remote of a Space: `{endpoint}/spaces/{ns}/{name}`, never with credentials.
    pub fn git_url(&self, space: &SpaceId) -> String {
        space.web_url(&self.inner.endpoint)
    }

    /// The account behind the token. Cached after the first success: the Hub rate-limits this
    /// endpoint strictly.
    ///
    /// Endpoint: `GET /api/whoami-v2`.
    pub async fn whoami(&self) -> Result<WhoAmI> {
        self.inner
            .whoami
            .get_or_try_init(|| self.load_whoami())
            .await
            .cloned()
    }

    async fn load_whoami(&self) -> Result<WhoAmI> {
        let call = Call {
            method: Method::GET,
            path: "/api/whoami-v2".into(),
            query: Vec::new(),
            body: None,
            action: "look up the account of the token".into(),
            what: "the account of the token".into(),
            kind: CallKind::WhoAmI,
            idempotency: Idempotency::Idempotent,
        };
        match self.send(&call).await? {
            Answer::Success(response) => self.json(&call, response).await,
            Answer::Failed { failed, attempts } => Err(map_http_error(
                &call,
                &self.url(&call),
                &failed,
                attempts,
                None,
                self.token(),
            )),
        }
    }

    /// Create the Space. A 409 means it exists: `Ok` with `existed: true`. On 401, 402 or 403
    /// the Space may still exist and be ours (a token without create scope, a free account and a
    /// Docker Space): then `Ok(existed: true)` if [`HubClient::space_info`] sees it, as
    /// `huggingface_hub`'s `create_repo(exist_ok=True)` does.
    ///
    /// Endpoint: `POST /api/repos/create`.
    pub async fn create_space(&self, space: &SpaceId, options: &CreateSpace) -> Result<Created> {
        let mut body = json!({
            "name": space.name(),
            "organization": space.namespace(),
            "type": "space",
            "sdk": options.sdk,
            "private": options.private,
        });
        if let Some(hardware) = &options.hardware {
            body["hardware"] = json!(hardware);
        }
        if let Some(seconds) = options.sleep_time_seconds {
            body["sleepTimeSeconds"] = json!(seconds);
        }
        if !options.secrets.is_empty() {
            let secrets: Vec<Value> = options
                .secrets
                .iter()
                .map(|(key, value, description)| match description {
                    Some(d) => json!({"key": key, "value": value.expose(), "description": d}),
                    None => json!({"key": key, "value": value.expose()}),
                })
                .collect();
            body["secrets"] = Value::Array(secrets);
        }
        if !options.variables.is_empty() {
            let variables: Vec<Value> = options
                .variables
                .iter()
                .map(|(key, value)| json!({"key": key, "value": value}))
                .collect();
            body["variables"] = Value::Array(variables);
        }
        let call = Call {
            body: Some(body),
            ..self.space_call(
                Method::POST,
                "/api/repos/create".into(),
                space,
                format!("create Space `{space}`"),
            )
        };
        let (failed, attempts) = match self.send(&call).await? {
            Answer::Success(response) => {
                let created: CreateAnswer = self.json(&call, response).await?;
                let url = created.url.unwrap_or_else(|| self.git_url(space));
                return Ok(Created {
                    url,
                    existed: false,
                });
            }
            Answer::Failed { failed, attempts } => (failed, attempts),
        };
        if failed.status == 409 && !is_conflicting_operation(&failed.body) {
            let url = serde_json::from_str::<CreateAnswer>(&failed.body)
                .ok()
                .and_then(|answer| answer.url)
                .unwrap_or_else(|| self.git_url(space));
            return Ok(Created { url, existed: true });
        }
        if matches!(failed.status, 401..=403) && self.space_info(space).await.is_ok() {
            tracing::debug!(space = %space, status = failed.status, "create refused but the Space is visible");
            return Ok(Created {
                url: self.git_url(space),
                existed: true,
            });
        }
        Err(self.http_error(&call, &failed, attempts).await)
    }

    /// The Space: id, sha, host, subdomain, runtime, card data, files.
    ///
    /// Endpoint: `GET /api/spaces/{ns}/{name}`.
    pub async fn space_info(&self, space: &SpaceId) -> Result<SpaceInfo> {
        let call = self.space_call(
            Method::GET,
            format!("/api/spaces/{space}"),
            space,
            format!("read Space `{space}`"),
        );
        self.execute_json(&call).await
    }

    /// Delete the Space.
    ///
    /// Endpoint: `DELETE /api/repos/delete`.
    pub async fn delete_space(&self, space: &SpaceId) -> Result<()> {
        let call = Call {
            body: Some(
                json!({"name": space.name(), "organization": space.namespace(), "type": "space"}),
            ),
            ..self.space_call(
                Method::DELETE,
                "/api/repos/delete".into(),
                space,
                format!("delete Space `{space}`"),
            )
        };
        self.execute(&call).await.map(drop)
    }

    /// Secret names with their descriptions (never their values). `Ok(None)` when this Hub does
    /// not offer the listing (404 without `RepoNotFound`, or 405): it was absent from 2022 to 2026.
    ///
    /// Endpoint: `GET /api/spaces/{ns}/{name}/secrets`.
    pub async fn secrets(&self, space: &SpaceId) -> Result<Option<BTreeMap<String, SecretInfo>>> {
        let call = self.space_call(
            Method::GET,
            format!("/api/spaces/{space}/secrets"),
            space,
            format!("list the secrets of Space `{space}`"),
        );
        match self.send(&call).await? {
            Answer::Success(response) => self.json(&call, response).await.map(Some),
            Answer::Failed { failed, .. }
                if failed.status == 405
                    || (failed.status == 404
                        && error_code(&failed.headers).as_deref() != Some("RepoNotFound")) =>
            {
                Ok(None)
            }
            Answer::Failed { failed, attempts } => {
                Err(self.http_error(&call, &failed, attempts).await)
            }
        }
    }

    /// Add or replace a secret. The value is sent once, in the body, and never logged.
    ///
    /// Endpoint: `POST /api/spaces/{ns}/{name}/secrets`.
    pub async fn set_secret(
        &self,
        space: &SpaceId,
        key: &str,
        value: &SecretString,
        description: Option<&str>,
    ) -> Result<()> {
        let mut body = json!({"key": key, "value": value.expose()});
        if let Some(description) = description {
            body["description"] = json!(description);
        }
        let call = Call {
            body: Some(body),
            ..self.space_call(
                Method::POST,
                format!("/api/spaces/{space}/secrets"),
                space,
                format!("set secret `{key}` of Space `{space}`"),
            )
        };
        self.execute(&call).await.map(drop)
    }

    /// Delete a secret; deleting a missing one succeeds.
    ///
    /// Endpoint: `DELETE /api/spaces/{ns}/{name}/secrets`.
    pub async fn delete_secret(&self, space: &SpaceId, key: &str) -> Result<()> {
        let call = Call {
            body: Some(json!({"key": key})),
            ..self.space_call(
                Method::DELETE,
                format!("/api/spaces/{space}/secrets"),
                space,
                format!("delete secret `{key}` of Space `{space}`"),
            )
        };
        self.execute(&call).await.map(drop)
    }

    /// All variables.
    ///
    /// Endpoint: `GET /api/spaces/{ns}/{name}/variables`.
    pub async fn variables(&self, space: &SpaceId) -> Result<BTreeMap<String, Variable>> {
        let call = self.space_call(
            Method::GET,
            format!("/api/spaces/{space}/variables"),
            space,
            format!("list the variables of Space `{space}`"),
        );
        self.execute_json(&call).await
    }

    /// Add or replace a variable; returns all variables after the change.
    ///
    /// Endpoint: `POST /api/spaces/{ns}/{name}/variables`.
    pub async fn set_variable(
        &self,
        space: &SpaceId,
        key: &str,
        value: &str,
        description: Option<&str>,
    ) -> Result<BTreeMap<String, Variable>> {
        let mut body = json!({"key": key, "value": value});
        if let Some(description) = description {
            body["description"] = json!(description);
        }
        let call = Call {
            body: Some(body),
            ..self.space_call(
                Method::POST,
                format!("/api/spaces/{space}/variables"),
                space,
                format!("set variable `{key}` of Space `{space}`"),
            )
        };
        self.execute_json(&call).await
    }

    /// Delete a variable (a missing one is no error); returns all variables after the change.
    ///
    /// Endpoint: `DELETE /api/spaces/{ns}/{name}/variables`.
    pub async fn delete_variable(
        &self,
        space: &SpaceId,
        key: &str,
    ) -> Result<BTreeMap<String, Variable>> {
        let call = Call {
            body: Some(json!({"key": key})),
            ..self.space_call(
                Method::DELETE,
                format!("/api/spaces/{space}/variables"),
                space,
                format!("delete variable `{key}` of Space `{space}`"),
            )
        };
        self.execute_json(&call).await
    }

    /// Stage, hardware, domains, sleep time.
    ///
    /// Endpoint: `GET /api/spaces/{ns}/{name}/runtime`.
    pub async fn runtime(&self, space: &SpaceId) -> Result<SpaceRuntime> {
        let call = self.space_call(
            Method::GET,
            format!("/api/spaces/{space}/runtime"),
            space,
            format!("read the runtime of Space `{space}`"),
        );
        self.execute_json(&call).await
    }

    /// Restart the Space; `factory` rebuilds the image without cache.
    ///
    /// Retried only when the Hub surely did not act on it (no connection, 408, 429): each restart
    /// cancels the build the previous one started, so after a 5xx or a connection lost mid-request
    /// the error is reported instead of restarting a second time.
    ///
    /// Endpoint: `POST /api/spaces/{ns}/{name}/restart[?factory=true]`.
    pub async fn restart(&self, space: &SpaceId, factory: bool) -> Result<SpaceRuntime> {
        let action = if factory {
            format!("factory-rebuild Space `{space}`")
        } else {
            format!("restart Space `{space}`")
        };
        let call = Call {
            query: if factory {
                vec![("factory", "true")]
            } else {
                Vec::new()
            },
            idempotency: Idempotency::OnlyIfNotActedOn,
            ..self.space_call(
                Method::POST,
                format!("/api/spaces/{space}/restart"),
                space,
                action,
            )
        };
        self.execute_json(&call).await
    }

    /// Pause the Space (it stays paused until restarted).
    ///
    /// Endpoint: `POST /api/spaces/{ns}/{name}/pause`.
    pub async fn pause(&self, space: &SpaceId) -> Result<SpaceRuntime> {
        let call = self.space_call(
            Method::POST,
            format!("/api/spaces/{space}/pause"),
            space,
            format!("pause Space `{space}`"),
        );
        self.execute_json(&call).await
    }

    /// Set the sleep time in seconds (`-1` = never sleep; fixed at 48 h on `cpu-basic`).
    ///
    /// Endpoint: `POST /api/spaces/{ns}/{name}/sleeptime`.
    pub async fn set_sleep_time(&self, space: &SpaceId, seconds: i64) -> Result<SpaceRuntime> {
        let call = Call {
            body: Some(json!({"seconds": seconds})),
            ..self.space_call(
                Method::POST,
                format!("/api/spaces/{space}/sleeptime"),
                space,
                format!("set the sleep time of Space `{space}`"),
            )
        };
        self.execute_json(&call).await
    }

    /// Ask for a hardware flavor, e.g. `cpu-upgrade`.
    ///
    /// Endpoint: `POST /api/spaces/{ns}/{name}/hardware`.
    pub async fn request_hardware(&self, space: &SpaceId, flavor: &str) -> Result<SpaceRuntime> {
        let call = Call {
            body: Some(json!({"flavor": flavor})),
            ..self.space_call(
                Method::POST,
                format!("/api/spaces/{space}/hardware"),
                space,
                format!("request hardware `{flavor}` for Space `{space}`"),
            )
        };
        self.execute_json(&call).await
    }

    /// Follow a log: the lines the Hub has buffered, then new ones as they come, until the Hub
    /// closes the stream. Keep-alives are skipped. A connection lost mid-stream is opened again
    /// (with the client's backoff, up to `max_attempts - 1` times in a row without a new line),
    /// skipping the lines the Hub replays: by timestamp, or by count when lines have none. When
    /// that fails too, the stream ends with the error as its last item.
    ///
    /// Endpoint: `GET /api/spaces/{ns}/{name}/logs/{build|run}` (Server-Sent Events).
    pub async fn logs(&self, space: &SpaceId, kind: LogKind) -> Result<LogStream> {
        self.open_logs(space, kind, true).await
    }

    async fn open_logs(
        &self,
        space: &SpaceId,
        kind: LogKind,
        reconnect: bool,
    ) -> Result<LogStream> {
        let call = self.space_call(
            Method::GET,
            format!("/api/spaces/{space}/logs/{}", kind.as_str()),
            space,
            format!("read the {} log of Space `{space}`", kind.as_str()),
        );
        let response = self.execute(&call).await?;
        let server_date = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| httpdate::parse_http_date(value).ok());
        let state = LogState {
            client: self.clone(),
            url: self.url(&call),
            call,
            body: Box::pin(response.bytes_stream()),
            parser: SseParser::default(),
            pending: VecDeque::new(),
            done: false,
            reconnect,
            retries: Retries::new(self.inner.retry),
            seen: Progress::default(),
            skip: None,
        };
        let stream = futures_util::stream::unfold(state, |mut state| async move {
            loop {
                if let Some(item) = state.pending.pop_front() {
                    return Some((item, state));
                }
                if state.done {
                    return None;
                }
                match state.body.next().await {
                    Some(Ok(chunk)) => {
                        let events = state.parser.push(&chunk);
                        state.enqueue(events);
                    }
                    Some(Err(source)) => state.connection_lost(source).await,
                    None => {
                        let events = state.parser.finish();
                        state.enqueue(events);
                        state.done = true;
                    }
                }
            }
        });
        Ok(LogStream {
            inner: Box::pin(stream),
            server_date,
        })
    }

    /// The end of a log, for diagnostics: reads what the Hub has buffered and stops at the first
    /// pause of `idle` without a log line, at the end of the stream, or at the first line stamped
    /// more than 1 s after the Hub's `Date` (a line written after we asked). Keeps the last
    /// `max_lines`. A connection lost after some lines returns those lines.
    ///
    /// Endpoint: `GET /api/spaces/{ns}/{name}/logs/{build|run}`.
    pub async fn logs_tail(
        &self,
        space: &SpaceId,
        kind: LogKind,
        max_lines: usize,
        idle: Duration,
    ) -> Result<Vec<String>> {
        let mut stream = self.open_logs(space, kind, false).await?;
        let cutoff = stream
            .server_date()
            .map(|date| date + Duration::from_secs(1));
        let mut lines = VecDeque::new();
        loop {
            let line = match wait::within(idle, stream.next()).await {
                None | Some(None) => break,
                Some(Some(Ok(line))) => line,
                Some(Some(Err(error))) if lines.is_empty() => return Err(error),
                Some(Some(Err(error))) => {
                    tracing::debug!(%error, "log stream ended early; keeping the lines read");
                    break;
                }
            };
            let stamp = line.timestamp.as_deref().and_then(parse_timestamp);
            if matches!((cutoff, stamp), (Some(cutoff), Some(stamp)) if stamp > cutoff) {
                break;
            }
            lines.push_back(line.text);
            if lines.len() > max_lines {
                lines.pop_front();
            }
        }
        Ok(lines.into())
    }

    // ----- plumbing ---------------------------------------------------------------------------

    fn space_call(&self, method: Method, path: String, space: &SpaceId, action: String) -> Call {
        let kind = if method == Method::GET {
            CallKind::Read
        } else {
            CallKind::Write
        };
        Call {
            method,
            path,
            query: Vec::new(),
            body: None,
            action,
            what: format!("Space `{space}`"),
            kind,
            idempotency: Idempotency::Idempotent,
        }
    }

    /// The URL of a call as errors show it: the endpoint (validated without credentials) and
    /// the path, without the query.
    fn url(&self, call: &Call) -> String {
        format!("{}{}", self.inner.endpoint, call.path)
    }

    /// Send with retries. Transport errors that outlive the retries become [`Error::Request`];
    /// error statuses are returned for the caller to read.
    async fn send(&self, call: &Call) -> Result<Answer> {
        let url = self.url(call);
        let (attempt, attempts) = wait::run_observed(
            &self.policy(),
            call.idempotency,
            |_| self.attempt(call, &url),
            |attempt| match attempt {
                Attempt::Success(_) => Outcome::Final,
                Attempt::Transport(error) => Outcome::Transport {
                    connect: error.is_connect(),
                },
                Attempt::Failed(failed) if wait::is_transient_status(failed.status) => {
                    Outcome::Transient {
                        status: failed.status,
                        server_wait: wait::server_wait(&failed.headers),
                    }
                }
                Attempt::Failed(failed)
                    if failed.status == 409 && is_conflicting_operation(&failed.body) =>
                {
                    Outcome::Transient {
                        status: 409,
                        server_wait: None,
                    }
                }
                Attempt::Failed(_) => Outcome::Final,
            },
            |wait| self.tell_wait(&call.action, wait),
        )
        .await;
        match attempt {
            Attempt::Success(response) => Ok(Answer::Success(response)),
            Attempt::Failed(failed) => Ok(Answer::Failed { failed, attempts }),
            Attempt::Transport(source) => {
                tracing::debug!(attempts, url = %url, "Hub request failed without an answer");
                Err(Error::Request {
                    action: call.action.clone(),
                    url,
                    source: source.without_url(),
                })
            }
        }
    }

    async fn attempt(&self, call: &Call, url: &str) -> Attempt {
        let mut request = self.inner.http.request(call.method.clone(), url);
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if let Some(token) = &self.inner.token {
            // Checked in `build`: the token is visible ASCII, so the header is valid.
            if let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {}", token.expose())) {
                value.set_sensitive(true);
                request = request.header(AUTHORIZATION, value);
            }
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let streaming = call.path.contains("/logs/");
        if !streaming {
            request = request.timeout(self.inner.timeout);
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => Attempt::Success(response),
            Ok(response) => {
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let body = response.text().await.unwrap_or_default();
                Attempt::Failed(Failed {
                    status,
                    headers,
                    body,
                })
            }
            Err(error) => Attempt::Transport(error),
        }
    }

    async fn execute(&self, call: &Call) -> Result<Response> {
        match self.send(call).await? {
            Answer::Success(response) => Ok(response),
            Answer::Failed { failed, attempts } => {
                Err(self.http_error(call, &failed, attempts).await)
            }
        }
    }

    async fn execute_json<T: DeserializeOwned>(&self, call: &Call) -> Result<T> {
        let response = self.execute(call).await?;
        self.json(call, response).await
    }

    async fn json<T: DeserializeOwned>(&self, call: &Call, response: Response) -> Result<T> {
        let url = self.url(call);
        let text = response.text().await.map_err(|source| Error::Request {
            action: call.action.clone(),
            url: url.clone(),
            source: source.without_url(),
        })?;
        serde_json::from_str(&text).map_err(|error| Error::MalformedResponse {
            action: call.action.clone(),
            url,
            detail: format!("the JSON does not fit ({error})"),
        })
    }

    /// [`map_http_error`], with the token's role when a write was forbidden.
    async fn http_error(&self, call: &Call, failed: &Failed, attempts: u32) -> Error {
        let role = if failed.status == 403 && call.kind == CallKind::Write {
            self.inner
                .whoami
                .get_or_try_init(|| self.load_whoami())
                .await
                .ok()
                .and_then(|me| me.token_role().map(str::to_string))
        } else {
            None
        };
        map_http_error(
            call,
            &self.url(call),
            failed,
            attempts,
            role.as_deref(),
            self.token(),
        )
    }
}

/// The 200 or 409 answer of `POST /api/repos/create`.
#[derive(serde::Deserialize)]
struct CreateAnswer {
    #[serde(default)]
    url: Option<String>,
}

/// The 409 that means "try again" rather than "exists" (`huggingface_hub` loops on it).
fn is_conflicting_operation(body: &str) -> bool {
    body.contains("another conflicting operation is in progress")
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_string)
}

fn error_code(headers: &HeaderMap) -> Option<String> {
    header(headers, "x-error-code")
}

/// What the Hub said: `X-Error-Message`, else the body's `error` (text or list) with its
/// `error_description`, `message`, `errors[].message`, else the body text if it is not HTML.
/// Cut to 500 characters; the token, should a server echo it, is masked.
pub(crate) fn server_message(
    headers: &HeaderMap,
    body: &str,
    token: Option<&SecretString>,
) -> Option<String> {
    let message = header(headers, "x-error-message").or_else(|| body_message(body))?;
    let mut message: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
    if let Some(token) = token.filter(|token| !token.is_empty()) {
        message = message.replace(token.expose(), "***");
    }
    Some(message)
}

fn body_message(body: &str) -> Option<String> {
    let text = body.trim();
    if text.is_empty() {
        return None;
    }
    let Ok(json) = serde_json::from_str::<Value>(text) else {
        return (!text.starts_with('<')).then(|| text.to_string());
    };
    let string = |value: &Value| {
        value
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let error = match json.get("error") {
        Some(Value::Array(items)) => {
            let items: Vec<String> = items.iter().filter_map(string).collect();
            (!items.is_empty()).then(|| items.join("; "))
        }
        Some(value) => string(value),
        None => None,
    };
    let description = json.get("error_description").and_then(string);
    let errors = json.get("errors").and_then(Value::as_array).map(|items| {
        items
            .iter()
            .filter_map(|item| item.get("message").and_then(string))
            .collect::<Vec<_>>()
            .join("; ")
    });
    match (error, description) {
        (Some(error), Some(description)) => Some(format!("{error}: {description}")),
        (Some(error), None) => Some(error),
        (None, Some(description)) => Some(description),
        (None, None) => json
            .get("message")
            .and_then(string)
            .or(errors.filter(|e| !e.is_empty())),
    }
}

fn says_read_only(message: &str) -> bool {
    let message = message.to_lowercase();
    [
        "read-only",
        "read only",
        "write access",
        "write permission",
        "don't have the rights",
        "do not have the rights",
    ]
    .iter()
    .any(|phrase| message.contains(phrase))
}

/// The one place where an error status becomes an [`Error`].
///
/// * 401: the token ([`Error::InvalidToken`]) when the Hub says "Invalid credentials", on whoami,
///   outside `/api/spaces/..`, or on a change under `/api/spaces/..` (OAuth tokens from
///   `hf auth login` get 401 on restart, sleeptime and hardware while reads work). A read under
///   `/api/spaces/..` answers 401 for a private and for a missing Space alike, so there it is
///   [`Error::NotFound`] (as `huggingface_hub` reads it).
/// * 404 or `X-Error-Code: RepoNotFound`: [`Error::NotFound`] naming `call.what`.
/// * 402, or 403 saying "payment method": [`Error::PaymentRequired`].
/// * 403 on a write: [`Error::ReadOnlyToken`] when whoami says the role is `read` or the message
///   says so; else [`Error::Forbidden`].
/// * 409 [`Error::Conflict`], 429 [`Error::RateLimited`], 5xx [`Error::Server`] with `attempts`,
///   anything else [`Error::Refused`].
pub(crate) fn map_http_error(
    call: &Call,
    url: &str,
    failed: &Failed,
    attempts: u32,
    token_role: Option<&str>,
    token: Option<&SecretString>,
) -> Error {
    let server_message = server_message(&failed.headers, &failed.body, token);
    let error_code = error_code(&failed.headers);
    let context = Box::new(HttpContext {
        method: call.method.to_string(),
        url: url.to_string(),
        status: failed.status,
        request_id: header(&failed.headers, "x-request-id")
            .or_else(|| header(&failed.headers, "x-amzn-trace-id")),
        error_code: error_code.clone(),
        server_message: server_message.clone(),
    });
    let message = server_message.unwrap_or_default();
    let action = call.action.clone();
    let what = call.what.clone();
    match failed.status {
        401 if message.contains("Invalid credentials") || call.kind == CallKind::WhoAmI => {
            Error::InvalidToken { action, context }
        }
        401 if call.path.starts_with("/api/spaces/") && call.kind == CallKind::Read => {
            Error::NotFound { what, context }
        }
        401 => Error::InvalidToken { action, context },
        _ if failed.status == 404 || error_code.as_deref() == Some("RepoNotFound") => {
            Error::NotFound { what, context }
        }
        402 => Error::PaymentRequired { action, context },
        403 if message.to_lowercase().contains("payment method") => {
            Error::PaymentRequired { action, context }
        }
        403 if call.kind == CallKind::Write
            && (token_role == Some("read") || says_read_only(&message)) =>
        {
            Error::ReadOnlyToken { action, context }
        }
        403 => Error::Forbidden { action, context },
        409 => Error::Conflict { action, context },
        429 => {
            let retry_after = wait::server_wait(&failed.headers);
            Error::RateLimited {
                action,
                retry_after,
                reset_at: retry_after.map(|wait| SystemTime::now() + wait),
                context,
            }
        }
        500..=599 => Error::Server {
            action,
            attempts,
            context,
        },
        _ => Error::Refused { action, context },
    }
}

fn parse_timestamp(value: &str) -> Option<SystemTime> {
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(SystemTime::from)
}

struct LogState {
    client: HubClient,
    call: Call,
    url: String,
    body: Pin<Box<dyn Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    parser: SseParser,
    pending: VecDeque<Result<LogLine>>,
    done: bool,
    /// Open the stream again when the connection drops.
    reconnect: bool,
    /// Reconnections since the last new line.
    retries: Retries,
    seen: Progress,
    /// After a reconnection: what the Hub replays and we already gave out.
    skip: Option<Skip>,
}

impl LogState {
    fn enqueue(&mut self, events: Vec<super::sse::SseEvent>) {
        for event in events {
            match parse_log_event(&event) {
                Ok(LogEvent::KeepAlive) => {}
                Ok(LogEvent::Line { text, timestamp }) => {
                    let line = LogLine { text, timestamp };
                    if let Some(skip) = &mut self.skip {
                        if skip.is_replayed(&line) {
                            continue;
                        }
                        self.skip = None;
                    }
                    self.seen.record(&line);
                    self.retries.reset();
                    self.pending.push_back(Ok(line));
                }
                Err(detail) => self.pending.push_back(Err(Error::MalformedResponse {
                    action: self.call.action.clone(),
                    url: self.url.clone(),
                    detail,
                })),
            }
        }
    }

    async fn connection_lost(&mut self, source: reqwest::Error) {
        let delay = if self.reconnect {
            self.retries.next_delay()
        } else {
            None
        };
        let Some(delay) = delay else {
            self.done = true;
            self.pending.push_back(Err(Error::Request {
                action: self.call.action.clone(),
                url: self.url.clone(),
                source: source.without_url(),
            }));
            return;
        };
        tracing::debug!(error = %source, failures = self.retries.failures(), "log stream dropped; opening it again");
        wait::sleep(delay).await;
        match self.client.execute(&self.call).await {
            Ok(response) => {
                self.body = Box::pin(response.bytes_stream());
                self.parser = SseParser::default();
                self.skip = Some(Skip {
                    until: self.seen.clone(),
                    skipped_total: 0,
                    skipped_at_last: 0,
                });
            }
            Err(error) => {
                self.done = true;
                self.pending.push_back(Err(error));
            }
        }
    }
}

/// How far a log stream got: lines given out, the last timestamp and how many lines had it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Progress {
    total: usize,
    last_timestamp: Option<String>,
    at_last: usize,
}

impl Progress {
    fn record(&mut self, line: &LogLine) {
        self.total += 1;
        if line.timestamp.is_some() && line.timestamp == self.last_timestamp {
            self.at_last += 1;
        } else {
            self.last_timestamp = line.timestamp.clone();
            self.at_last = 1;
        }
    }
}

/// Recognises the lines a reopened stream replays.
#[derive(Debug)]
struct Skip {
    until: Progress,
    skipped_total: usize,
    skipped_at_last: usize,
}

impl Skip {
    fn is_replayed(&mut self, line: &LogLine) -> bool {
        match (&self.until.last_timestamp, &line.timestamp) {
            (Some(last), Some(stamp)) => match compare_timestamps(stamp, last) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Equal if self.skipped_at_last < self.until.at_last => {
                    self.skipped_at_last += 1;
                    true
                }
                _ => false,
            },
            _ if self.skipped_total < self.until.total => {
                self.skipped_total += 1;
                true
            }
            _ => false,
        }
    }
}

fn compare_timestamps(left: &str, right: &str) -> std::cmp::Ordering {
    match (parse_timestamp(left), parse_timestamp(right)) {
        (Some(left), Some(right)) => left.cmp(&right),
        _ => left.cmp(right),
    }
}

/// The lines of a Space log as they arrive (see [`HubClient::logs`]).
pub struct LogStream {
    inner: Pin<Box<dyn Stream<Item = Result<LogLine>> + Send>>,
    server_date: Option<SystemTime>,
}

impl LogStream {
    /// The `Date` the Hub sent with the stream: lines stamped later were written after the
    /// request.
    pub fn server_date(&self) -> Option<SystemTime> {
        self.server_date
    }
}

impl fmt::Debug for LogStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogStream")
            .field("server_date", &self.server_date)
            .finish_non_exhaustive()
    }
}

impl Stream for LogStream {
    type Item = Result<LogLine>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}
