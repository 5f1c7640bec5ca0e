//! The process environment the binary reads (the library reads none).

use hf_deploy_core::SecretString;

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
