//! The process environment the binary reads (the library reads none).

use hf_deploy_core::SecretString;

/// Default Hub endpoint.
pub(crate) const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// `HF_ENDPOINT`, without a trailing slash.
pub(crate) fn endpoint() -> String {
    std::env::var("HF_ENDPOINT")
        .ok()
        .map(|v| v.trim().trim_end_matches('/').to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())
}

/// `HF_TOKEN`, when set and not empty.
pub(crate) fn token() -> Option<SecretString> {
    std::env::var("HF_TOKEN")
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .map(SecretString::new)
}

/// An environment variable, for bare `--secret KEY`.
pub(crate) fn lookup(key: &str) -> Option<String> {
    std::env::var(key).ok()
}
