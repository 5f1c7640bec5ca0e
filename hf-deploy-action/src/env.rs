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

/// An environment variable named by `hf-deploy.toml`'s `secrets`: `None` when unset or empty.
/// A value that is not UTF-8 is refused (exit 2) naming the variable, never read as unset.
pub(crate) fn lookup(key: &str) -> anyhow::Result<Option<String>> {
    match std::env::var_os(key) {
        None => Ok(None),
        Some(value) => value.into_string().map(Some).map_err(|_| not_text(key)),
    }
}

/// Variables the binary reads as text, besides the runner's prefixes below.
const READ_AS_TEXT: [&str; 6] = [
    "HF_TOKEN",
    "HF_TOKEN_PATH",
    "HF_HOME",
    "HF_ENDPOINT",
    "XDG_CACHE_HOME",
    "HOME",
];

/// Prefixes of variables read as text: the runner's inputs and context, ours.
const READ_AS_TEXT_PREFIXES: [&str; 4] = ["INPUT_", "GITHUB_", "RUNNER_", "HF_DEPLOY_"];

fn read_as_text(name: &str) -> bool {
    READ_AS_TEXT.contains(&name)
        || READ_AS_TEXT_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix))
}

/// Refuse (exit 2, naming it) a variable this binary reads as text whose value is not UTF-8:
/// read as unset it would silently change what a run does (another token, another endpoint),
/// and `std::env::vars` would panic on it. Other variables are none of our business.
pub(crate) fn check_text() -> anyhow::Result<()> {
    check_text_in(std::env::vars_os())
}

fn check_text_in(
    vars: impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> anyhow::Result<()> {
    for (name, value) in vars {
        let Some(name) = name.to_str() else {
            continue;
        };
        if read_as_text(name) && value.to_str().is_none() {
            return Err(not_text(name));
        }
    }
    Ok(())
}

fn not_text(name: &str) -> anyhow::Error {
    // A name is shown as it is only when it is a plain identifier (it goes to the job log).
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    let name = if plain {
        name
    } else {
        "(a name with odd characters)"
    };
    crate::ui::UsageError::error(
        format!("the environment variable `{name}` is not UTF-8 text"),
        Some("set it to UTF-8 text, or unset it"),
    )
}

/// Every variable whose name and value are text (for the runner's `INPUT_*`/`GITHUB_*`,
/// checked by [`check_text`] first); others are left out instead of panicking.
pub(crate) fn text_vars() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .collect()
}

/// `HF_DEPLOY_HTTP_TIMEOUT`: how many seconds one HTTP request to a remote (the Hub API, the
/// job's ID token, the GitHub API) may wait for its answer before it counts as a transient
/// failure (and is retried where that is safe); also the longest silence of libgit2's sockets
/// (`limit_git_waits` in `main.rs`). Unset or empty: each client's default. A value
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

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    use super::*;

    fn pair(name: &str, value: &[u8]) -> (OsString, OsString) {
        (OsString::from(name), OsString::from_vec(value.to_vec()))
    }

    #[test]
    fn a_variable_read_as_text_that_is_not_utf8_is_named() {
        for name in [
            "HF_TOKEN",
            "INPUT_SPACE",
            "GITHUB_REPOSITORY",
            "HF_ENDPOINT",
        ] {
            let vars = vec![pair("PATH", b"/bin"), pair(name, b"hf_\xff\xfe")];
            let error = check_text_in(vars.into_iter()).expect_err(name);
            let usage = error
                .downcast_ref::<crate::ui::UsageError>()
                .expect("usage");
            assert_eq!(
                usage.message,
                format!("the environment variable `{name}` is not UTF-8 text")
            );
        }
    }

    #[test]
    fn other_variables_may_hold_any_bytes() {
        let vars = vec![
            pair("LANG_BYTES", b"\xff"),
            (
                OsString::from_vec(b"\xffNAME".to_vec()),
                OsString::from("x"),
            ),
            pair("HF_TOKEN", b"hf_ok"),
        ];
        assert!(check_text_in(vars.into_iter()).is_ok());
    }
}
