//! URLs: what a user gives (an http(s) URL, a browser origin, the health path) and how a path
//! is appended to the app URL (as text, never resolved against the host root).

use std::fmt;

use serde::{Serialize, Serializer};

use crate::error::{Error, Result};
use crate::field::Field;

/// The health path of the app: starts with `/`, a plain path of URL-safe characters (no query
/// or fragment). Built once from the user's text ([`HealthPath::parse`]) and carried as it is;
/// [`HealthPath::default`] is `/api/health`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HealthPath(String);

impl HealthPath {
    /// The path used when none is given.
    pub const DEFAULT: &'static str = "/api/health";

    /// Check a health path as the user typed it (surrounding spaces ignored).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming [`Field::HealthPath`] when it does not start with `/` or
    /// holds a character a plain path may not hold.
    pub fn parse(value: &str) -> Result<Self> {
        let path = value.trim();
        if !path.starts_with('/') {
            return Err(Error::invalid_input_hint(
                Field::HealthPath,
                format!("`{}` does not start with `/`", path.escape_debug()),
                format!(
                    "give the path part of the URL, e.g. `/{}`",
                    path.trim_start_matches('/')
                ),
            ));
        }
        if let Some(bad) = path
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "/-._~%".contains(*c)))
        {
            return Err(Error::invalid_input_hint(
                Field::HealthPath,
                format!(
                    "`{}` contains {bad:?}, which a health path may not hold",
                    path.escape_debug()
                ),
                "use a plain path without spaces, query or fragment, e.g. `/api/health`",
            ));
        }
        Ok(HealthPath(path.to_string()))
    }

    /// The path, e.g. `/api/health`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The health URL of the app at `app_url`: the path appended as text (the app URL may
    /// carry a path itself, behind a proxy).
    pub fn url(&self, app_url: &str) -> String {
        join_url(app_url, &self.0)
    }
}

impl Default for HealthPath {
    fn default() -> Self {
        HealthPath(HealthPath::DEFAULT.to_string())
    }
}

impl fmt::Display for HealthPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for HealthPath {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for HealthPath {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl Serialize for HealthPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// The docs URL of the app at `app_url` (FastAPI's `/docs`).
pub(crate) fn docs_url(app_url: &str) -> String {
    join_url(app_url, "/docs")
}

/// Append `path` to `base` as text: `https://h/prefix` + `/api/health` =
/// `https://h/prefix/api/health`. The base may carry a path (a proxy); we never resolve
/// against the host root.
pub(crate) fn join_url(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    if path.is_empty() {
        return base.to_string();
    }
    if path.starts_with('/') {
        format!("{base}{path}")
    } else {
        format!("{base}/{path}")
    }
}

/// Validate an http(s) URL given by the user (the app URL, the API URL, the Hub endpoint).
/// Returns it without a trailing slash.
pub(crate) fn parse_http_url(value: &str, input: Field) -> Result<String> {
    let parsed = url::Url::parse(value).map_err(|e| {
        Error::invalid_input_hint(
            input,
            format!("`{value}` is not a URL ({e})"),
            "give a full URL such as `https://alice-rag-chatbot.hf.space`",
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(Error::invalid_input_hint(
            input,
            format!("`{value}` is not an http(s) URL"),
            "give a full URL such as `https://alice-rag-chatbot.hf.space`",
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::invalid_input(
            input,
            "the URL must not carry credentials",
        ));
    }
    Ok(value.trim_end_matches('/').to_string())
}

/// Validate a browser origin `scheme://host[:port]` (a frontend URL). Returns the canonical
/// origin text (what a browser sends in `Origin`).
pub(crate) fn parse_origin(value: &str, input: Field) -> Result<String> {
    let hint = "give an origin such as `https://my-app.vercel.app` (scheme, host and optional port; no path)";
    let trimmed = value.trim();
    if trimmed != value {
        return Err(Error::invalid_input_hint(
            input,
            format!("`{}` has leading or trailing whitespace", value.trim()),
            hint,
        ));
    }
    let parsed = url::Url::parse(value).map_err(|e| {
        Error::invalid_input_hint(input, format!("`{value}` is not an origin ({e})"), hint)
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(Error::invalid_input_hint(
            input,
            format!("`{value}` is not an http(s) origin"),
            hint,
        ));
    }
    let path_ok = parsed.path() == "/" && !value.trim_end_matches('/').ends_with("//");
    if !path_ok
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
    {
        return Err(Error::invalid_input_hint(
            input,
            format!("`{value}` is a URL with a path, query or credentials, not an origin"),
            hint,
        ));
    }
    Ok(parsed.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_path_rules_live_here_only() {
        assert_eq!(HealthPath::default(), "/api/health");
        assert_eq!(HealthPath::parse(" /healthz ").unwrap(), "/healthz");
        for bad in ["api/health", "/health?x=1", "/he'alth", "/a b", "/a\nb"] {
            let error = HealthPath::parse(bad).expect_err(bad);
            assert_eq!(error.field(), Some(Field::HealthPath), "{bad}");
            assert!(error.hint().is_some(), "{bad}");
        }
        let path = HealthPath::parse("/api/health").unwrap();
        assert_eq!(path.url("https://h/prefix/"), "https://h/prefix/api/health");
        assert_eq!(docs_url("https://h/"), "https://h/docs");
    }

    #[test]
    fn join_url_appends_to_a_base_with_a_path() {
        assert_eq!(
            join_url("https://h/prefix/", "/api/health"),
            "https://h/prefix/api/health"
        );
        assert_eq!(
            join_url("http://127.0.0.1:5/", "docs"),
            "http://127.0.0.1:5/docs"
        );
    }

    #[test]
    fn origins_are_scheme_host_port_only() {
        assert_eq!(
            parse_origin("https://a.vercel.app", Field::FrontendUrl).unwrap(),
            "https://a.vercel.app"
        );
        assert_eq!(
            parse_origin("http://localhost:3000/", Field::FrontendUrl).unwrap(),
            "http://localhost:3000"
        );
        for bad in [
            "a.vercel.app",
            "https://a.app/path",
            "ftp://a",
            "https://a.app?x=1",
            " https://a.app",
        ] {
            assert!(parse_origin(bad, Field::FrontendUrl).is_err(), "{bad}");
        }
    }
}
