//! [`HubClient`]: its builder, its state (endpoint, token, HTTP client, retry policy, whoami
//! cache, the rate-limit waits watched by a run) and its accessors. The calls themselves live
//! by resource beside it (`repos`, `settings`, `runtime`, `logs`), all sent through
//! `transport`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderValue;

use super::keyless::KeylessToken;
use super::models::WhoAmI;
use crate::error::{Error, Result};
use crate::field::Field;
use crate::secret::SecretString;
use crate::space::SpaceId;
use crate::untrusted::Redactor;
use crate::urls::parse_http_url;
use crate::wait::RetryPolicy;

/// The public Hub.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest silence on a log stream before the connection counts as dead (`huggingface_hub` uses
/// 120 s in follow mode; the Hub sends keep-alives well within it).
const STREAM_READ_TIMEOUT: Duration = Duration::from_secs(120);

/// Client of the Hub HTTP API. Cheap to clone (one `Arc`); clones share the whoami cache.
///
/// The library reads no environment: pass the endpoint and token to [`HubClient::builder`].
///
/// What the Hub says (error bodies, logs, a runtime's error message) comes out of the client
/// as [`crate::RemoteText`], redacted by [`HubClient::redactor`]: the values given to
/// [`HubClientBuilder::redactor`] and the client's own token.
#[derive(Clone)]
pub struct HubClient {
    pub(super) inner: Arc<Inner>,
    /// Redacts what the Hub says.
    pub(super) redactor: Redactor,
}

pub(super) struct Inner {
    pub(super) http: reqwest::Client,
    pub(super) endpoint: String,
    pub(super) token: Option<SecretString>,
    pub(super) user_agent: String,
    pub(super) retry: RetryPolicy,
    pub(super) timeout: Duration,
    pub(super) whoami: tokio::sync::OnceCell<WhoAmI>,
    /// A keyless run's Space-scoped token (Trusted Publisher exchange), renewed as it expires;
    /// it stands in for `token`.
    pub(super) keyless: Option<Arc<KeylessToken>>,
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
pub(crate) struct ServerWait {
    /// What the client was doing, e.g. "read Space `user/app`".
    pub(crate) action: String,
    /// How long.
    pub(crate) wait: Duration,
    /// When the window resets: the call is sent again then.
    pub(crate) until: SystemTime,
}

/// The rate-limit waits of a run, from [`HubClient::watch_waits`]; stops watching when dropped.
#[derive(Debug)]
pub(crate) struct WaitWatch {
    client: HubClient,
    id: u64,
    receiver: tokio::sync::mpsc::UnboundedReceiver<ServerWait>,
}

impl WaitWatch {
    /// The next wait the Hub asked for (pending until there is one).
    pub(crate) async fn recv(&mut self) -> Option<ServerWait> {
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
            .field("token_set", &self.has_token())
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
    keyless: Option<KeylessToken>,
    redactor: Redactor,
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

    /// The values to redact from what the Hub says (a run's redactor: the secrets of the
    /// deploy, the tokens its front end holds); the client's token is always added. Default:
    /// the token alone.
    pub fn redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = redactor;
        self
    }

    /// Keyless: the token of every call is `token`'s, a Space-scoped one from a Trusted
    /// Publisher (OIDC) exchange, renewed before it expires; it writes one Space only, cannot
    /// create one, and may be refused settings calls. It stands in for [`Self::token`].
    pub fn keyless(mut self, token: KeylessToken) -> Self {
        self.keyless = Some(token);
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
        let redactor = Redactor::builder()
            .include(&self.redactor)
            .secrets(&self.token)
            .build();
        let http = reqwest::Client::builder()
            .user_agent(user_agent.clone())
            .connect_timeout(timeout)
            .read_timeout(timeout.max(STREAM_READ_TIMEOUT))
            .redirect(crate::http::same_host_redirects())
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
                keyless: self.keyless.map(Arc::new),
                watchers: Default::default(),
            }),
            redactor,
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

    /// The fixed token given to [`HubClientBuilder::token`]; `None` for a keyless client,
    /// whose token changes (see [`Self::current_token`]).
    pub fn token(&self) -> Option<&SecretString> {
        self.inner.token.as_ref()
    }

    /// Whether calls carry a token: a fixed one or a keyless one.
    pub fn has_token(&self) -> bool {
        self.inner.token.is_some() || self.inner.keyless.is_some()
    }

    /// The token to send now: the fixed one, or the keyless token (exchanged, or renewed when
    /// it is due). For the git/LFS code that sends it itself (as a Basic-auth password through
    /// a credential callback, never in a URL), and for each Hub call.
    pub async fn current_token(&self) -> Result<Option<SecretString>> {
        match &self.inner.keyless {
            Some(keyless) => keyless.token().await.map(Some),
            None => Ok(self.inner.token.clone()),
        }
    }

    /// What redacts the Hub's words: the values given to [`HubClientBuilder::redactor`] and
    /// the token.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// This client (sharing its connections and caches) redacting `more` too.
    pub(crate) fn redacting(&self, more: &Redactor) -> HubClient {
        HubClient {
            inner: self.inner.clone(),
            redactor: Redactor::builder()
                .include(&self.redactor)
                .include(more)
                .build(),
        }
    }

    /// The keyless token, when the client has one (a Trusted Publisher exchange).
    pub fn keyless(&self) -> Option<&KeylessToken> {
        self.inner.keyless.as_deref()
    }

    /// Watch the waits the Hub asks for while `deadline` stands: until the returned watch is
    /// dropped, a wait that ends before `deadline` is slept (a 5-minute rate-limit window
    /// included) and sent to the watch first; one that would end after it fails the call at
    /// once with [`Error::RateLimited`] and the reset time. Without a watch, waits longer than
    /// [`HubClientBuilder::max_retry_wait`] fail.
    pub(crate) fn watch_waits(&self, deadline: std::time::Instant) -> WaitWatch {
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
    pub(super) fn policy(&self) -> RetryPolicy {
        let deadline = self.watchers().iter().map(|w| w.deadline).min();
        match deadline {
            Some(deadline) => self.inner.retry.until(deadline),
            None => self.inner.retry,
        }
    }

    pub(super) fn tell_wait(&self, action: &str, wait: Duration) {
        // A wait is bounded by the policy before it is told, but a clock near its end must
        // not panic either.
        let until = SystemTime::now()
            .checked_add(wait)
            .unwrap_or(SystemTime::UNIX_EPOCH);
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
}
