//! Fault injection on the API/git listener.

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
}

/// One fault: which requests (method + path pattern) and what happens to them, how many times.
///
/// The pattern is matched against the request path (no query); `*` matches any run of characters,
/// including `/`. The method `*` matches any method.
#[derive(Debug, Clone)]
pub struct FaultRule {
    pub(crate) method: String,
    pub(crate) regex: Option<regex::Regex>,
    pub(crate) action: FaultAction,
    pub(crate) latency: Duration,
    pub(crate) remaining: Option<u32>,
    pub(crate) app: bool,
}

impl FaultRule {
    /// A rule for `method` and `path_pattern` that, until told otherwise, does nothing.
    pub fn new(method: &str, path_pattern: &str) -> Self {
        let re = format!(
            "^{}$",
            path_pattern
                .split('*')
                .map(regex::escape)
                .collect::<Vec<_>>()
                .join(".*")
        );
        FaultRule {
            method: method.to_ascii_uppercase(),
            regex: regex::Regex::new(&re).ok(),
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

    /// Wait this long before acting (or before answering normally).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Apply to the next `n` matching requests only (default: every one).
    pub fn times(mut self, n: u32) -> Self {
        self.remaining = Some(n);
        self
    }

    fn matches(&self, method: &str, path: &str, app: bool) -> bool {
        self.app == app
            && (self.method == "*" || self.method == method)
            && self.regex.as_ref().is_some_and(|r| r.is_match(path))
    }
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
        app: bool,
    ) -> Option<(FaultAction, Duration)> {
        let mut rules = self.lock();
        let rule = rules
            .iter_mut()
            .find(|r| r.remaining != Some(0) && r.matches(method, path, app))?;
        if let Some(n) = rule.remaining.as_mut() {
            *n -= 1;
        }
        Some((rule.action.clone(), rule.latency))
    }
}
