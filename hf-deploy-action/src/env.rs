//! The process environment the binary reads (the library reads none).

use std::time::Duration;

use hf_deploy_core::{Error, Field, SecretString};

/// The variable that bounds one HTTP request to a remote (see [`http_timeout`]).
pub(crate) const HTTP_TIMEOUT: &str = "HF_DEPLOY_HTTP_TIMEOUT";

/// Default Hub endpoint.
pub(crate) const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// `HF_ENDPOINT`, without a trailing slash.
pub(crate) fn endpoint() -> String {
    configured_endpoint().unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())
}

/// `HF_ENDPOINT` without a trailing slash, when set and not empty.
pub(crate) fn configured_endpoint() -> Option<String> {
    std::env::var("HF_ENDPOINT")
        .ok()
        .map(|v| v.trim().trim_end_matches('/').to_string())
        .filter(|v| !v.is_empty())
}

/// `GITHUB_SHA` when set and not empty (the source commit of a workflow run).
pub(crate) fn github_sha() -> Option<String> {
    std::env::var("GITHUB_SHA").ok().filter(|s| !s.is_empty())
}

/// The stored token: `HF_TOKEN`, else `HF_TOKEN_PATH`, else `$HF_HOME/token` (see `token.rs`).
pub(crate) fn token() -> Option<SecretString> {
    crate::token::stored()
}

/// An environment variable, for bare `--secret KEY`.
pub(crate) fn lookup(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// `HF_DEPLOY_HTTP_TIMEOUT`: how many seconds one HTTP request to a remote (the Hub API, the
/// job's ID token, the GitHub API) may wait for its answer before it counts as a transient
/// failure (and is retried where that is safe). Unset or empty: each client's default. A value
/// that is not a whole number of seconds from 1 to 3600 is a usage error naming the variable.
pub(crate) fn http_timeout() -> Result<Option<Duration>, Error> {
    let Ok(raw) = std::env::var(HTTP_TIMEOUT) else {
        return Ok(None);
    };
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    match raw.parse::<u64>() {
        Ok(seconds) if (1..=3600).contains(&seconds) => Ok(Some(Duration::from_secs(seconds))),
        _ => Err(Error::invalid_input_hint(
            Field::Other(HTTP_TIMEOUT),
            format!("`{raw}` is not a number of seconds from 1 to 3600"),
            "set it to a whole number of seconds, e.g. `60`, or unset it",
        )),
    }
}

/// [`http_timeout`], or `default` when it is unset or not valid (the Hub client, built first,
/// reports a bad value).
pub(crate) fn http_timeout_or(default: Duration) -> Duration {
    http_timeout().ok().flatten().unwrap_or(default)
}
