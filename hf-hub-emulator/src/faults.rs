//! Fault injection on the API/git listener (the Hub API, git smart HTTP, the LFS batch API and
//! its transfer targets, `/oauth/token`) and on each Space's app listener ([`FaultRule::app`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a matching request gets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FaultAction {
    /// Only the added latency, then the real answer.
    Pass,
    /// An error status with a Hub-like JSON error body.
    Status(u16),
    /// 429 with `Retry-After`, `RateLimit` and `RateLimit-Policy`.
    RateLimited { retry_after: u64 },
    /// The connection is closed without any response.
    Drop,
    /// The request is served (the handler acts), then its answer is cut: the status line, the
    /// headers and half the body go out, then the connection is reset.
    ResetMidAnswer,
    /// A redirect (`301`, `302`, `307`, `308`) to the same path and query on another host.
    Redirect { status: u16, to: RedirectTarget },
    /// 200 with a body that never ends (streamed until the client stops reading or shutdown).
    EndlessBody,
    /// 200 with a body of this many bytes (`Content-Length` set), generated as it is sent.
    HugeBody(u64),
    /// 200 `text/event-stream` whose one `data:` line never ends (no newline, streamed forever).
    EndlessSseLine,
}

/// Where a redirect fault sends the client.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RedirectTarget {
    /// The stand-in's foreign host ([`crate::ForeignHost`]), same path and query.
    Foreign,
    /// This base URL (scheme, host, port), same path and query.
    Url(String),
}

/// One fault: which requests (method + path pattern) and what happens to them, how many times.
///
/// The pattern is matched against the request path (no query); `*` matches any run of characters,
/// including `/`. The method `*` matches any method. [`FaultRule::query`] narrows a rule to a
/// query (e.g. `service=git-receive-pack`: a push's `info/refs`, not a fetch's).
///
/// Which request goes where (all on the API listener unless [`FaultRule::app`]):
///
/// | remote call | path pattern |
/// |---|---|
/// | Hub API | `/api/…` (e.g. `/api/spaces/*/runtime`) |
/// | git smart HTTP | `/spaces/*/info/refs` (with `.query("service=git-upload-pack")` or `git-receive-pack`), `/spaces/*/git-upload-pack`, `/spaces/*/git-receive-pack` |
/// | LFS batch | `/spaces/*/info/lfs/objects/batch` |
/// | LFS transfers | `/lfs/upload/*`, `/lfs/multipart/*`, `/lfs/verify/*`, `/lfs/objects/*` |
/// | token exchange | `/oauth/token` |
/// | the Space's app | `FaultRule::app("GET", "/health")` |
///
/// Per count: [`FaultRule::times`] (the next `n` matching requests, then the real answer).
#[derive(Debug, Clone)]
pub struct FaultRule {
    pub(crate) method: String,
    pub(crate) regex: Option<regex::Regex>,
    pub(crate) query: Option<regex::Regex>,
    pub(crate) action: FaultAction,
    pub(crate) latency: Duration,
    pub(crate) remaining: Option<u32>,
    pub(crate) app: bool,
}

impl FaultRule {
    /// A rule for `method` and `path_pattern` that, until told otherwise, does nothing.
    pub fn new(method: &str, path_pattern: &str) -> Self {
        FaultRule {
            method: method.to_ascii_uppercase(),
            regex: glob(path_pattern),
            query: None,
            action: FaultAction::Pass,
            latency: Duration::ZERO,
            remaining: None,
            app: false,
        }
    }

    /// A rule for requests to a Space's app (its `host` URL) instead of the Hub API, e.g. a health
    /// check answering 503 a few times. `drop_connection` works there too.
    pub fn app(method: &str, path_pattern: &str) -> Self {
        FaultRule {
            app: true,
            ..FaultRule::new(method, path_pattern)
        }
    }

    /// Only requests whose raw query contains `pattern` (`*` matches any run of characters), e.g.
    /// `service=git-receive-pack`.
    pub fn query(mut self, pattern: &str) -> Self {
        self.query = glob(&format!("*{pattern}*"));
        self
    }

    /// Answer with `status` (e.g. 500, 502, 503) and `{"error": ...}`.
    pub fn status(mut self, status: u16) -> Self {
        self.action = FaultAction::Status(status);
        self
    }

    /// Answer 429 with `Retry-After: secs` and the Hub's rate-limit headers.
    pub fn rate_limited(mut self, retry_after_secs: u64) -> Self {
        self.action = FaultAction::RateLimited {
            retry_after: retry_after_secs,
        };
        self
    }

    /// Close the connection without answering.
    pub fn drop_connection(mut self) -> Self {
        self.action = FaultAction::Drop;
        self
    }

    /// Serve the request (its effect happens), then cut the answer: the status and headers, half
    /// the body, then a reset connection. The client cannot tell whether the server acted: a
    /// retry must not do the work twice.
    pub fn reset_mid_answer(mut self) -> Self {
        self.action = FaultAction::ResetMidAnswer;
        self
    }

    /// Answer with a redirect (`status`: 301, 302, 307 or 308) to the same path and query on the
    /// stand-in's foreign host ([`crate::Emulator::foreign_host`]), which records what arrives:
    /// a client that follows it must not carry its credentials there.
    pub fn redirect_to_foreign(mut self, status: u16) -> Self {
        self.action = FaultAction::Redirect {
            status,
            to: RedirectTarget::Foreign,
        };
        self
    }

    /// Answer with a redirect (`status`) to the same path and query on `base_url`
    /// (e.g. `http://127.0.0.1:9`).
    pub fn redirect(mut self, status: u16, base_url: &str) -> Self {
        self.action = FaultAction::Redirect {
            status,
            to: RedirectTarget::Url(base_url.trim_end_matches('/').to_owned()),
        };
        self
    }

    /// Answer 200 with a body that never ends (`{"data":"aaaa…`, streamed until the client
    /// stops reading or the stand-in shuts down): for a client's body cap.
    pub fn endless_body(mut self) -> Self {
        self.action = FaultAction::EndlessBody;
        self
    }

    /// Answer 200 with a body of `bytes` bytes (`Content-Length` set, generated as it is sent:
    /// 1 GiB costs no memory).
    pub fn huge_body(mut self, bytes: u64) -> Self {
        self.action = FaultAction::HugeBody(bytes);
        self
    }

    /// Answer 200 `text/event-stream` with one `data: {"data":"xxxx…` line that never ends (no
    /// newline): for a log reader's line cap.
    pub fn endless_sse_line(mut self) -> Self {
        self.action = FaultAction::EndlessSseLine;
        self
    }

    /// Wait this long before acting (or before answering normally). Other requests are not held
    /// up, and shutting the stand-in down cuts the held request's connection: a latency of
    /// minutes is how a test makes an answer slower than a client's timeout.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Apply to the next `n` matching requests only (default: every one).
    pub fn times(mut self, n: u32) -> Self {
        self.remaining = Some(n);
        self
    }

    fn matches(&self, method: &str, path: &str, query: &str, app: bool) -> bool {
        self.app == app
            && (self.method == "*" || self.method == method)
            && self.regex.as_ref().is_some_and(|r| r.is_match(path))
            && self.query.as_ref().is_none_or(|q| q.is_match(query))
    }
}

/// `*` matches any run of characters; everything else literally.
fn glob(pattern: &str) -> Option<regex::Regex> {
    let re = format!(
        "^{}$",
        pattern
            .split('*')
            .map(regex::escape)
            .collect::<Vec<_>>()
            .join(".*")
    );
    regex::Regex::new(&re).ok()
}

/// Handle to the fault rules of a running stand-in (cheap to clone, shared).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    rules: Arc<Mutex<Vec<FaultRule>>>,
}

impl Faults {
    /// Adds a rule; rules are tried in insertion order, the first live match applies.
    pub fn add(&self, rule: FaultRule) {
        self.lock().push(rule);
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Number of rules that can still fire.
    pub fn active(&self) -> usize {
        self.lock()
            .iter()
            .filter(|r| r.remaining != Some(0))
            .count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<FaultRule>> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Finds the rule for this request and consumes one use of it.
    pub(crate) fn take(
        &self,
        method: &str,
        path: &str,
        query: &str,
        app: bool,
    ) -> Option<(FaultAction, Duration)> {
        let mut rules = self.lock();
        let rule = rules
            .iter_mut()
            .find(|r| r.remaining != Some(0) && r.matches(method, path, query, app))?;
        if let Some(n) = rule.remaining.as_mut() {
            *n -= 1;
        }
        Some((rule.action.clone(), rule.latency))
    }
}
