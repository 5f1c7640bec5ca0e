//! Credentials: who a request is (`Caller`), the token it carries (`Authorization: Bearer <token>`
//! for the API, `Basic` with the token as password for git) and the 401 answers. Which token
//! belongs to whom is the shared state's (`Hub::caller`); this module knows no state.
// The error type is the HTTP answer itself, built once per request: boxing it buys nothing.
#![allow(clippy::result_large_err)]

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine;

use crate::config::Role;
use crate::util::hub_error;

/// The caller behind a request's credentials.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub user: String,
    pub role: Role,
    /// For a Space-scoped token (Trusted Publisher exchange): the one Space it may use.
    pub scope: Option<String>,
}

/// The 401 the Hub answers for an unknown token.
pub(crate) fn invalid_credentials() -> Response {
    let mut r = hub_error(
        StatusCode::UNAUTHORIZED,
        None,
        "Invalid username or password.",
    );
    if let Ok(v) = "Invalid credentials in Authorization header".parse() {
        r.headers_mut().insert("x-error-message", v);
    }
    r
}

/// The 401 for a request that needs credentials and has none.
pub(crate) fn auth_required() -> Response {
    let mut r = hub_error(
        StatusCode::UNAUTHORIZED,
        None,
        "Invalid username or password.",
    );
    r.headers_mut().remove("x-error-message");
    r
}

/// The token of a request: `Ok(None)` = no credentials; `Err` = an `Authorization` header that
/// is neither `Bearer` nor a well-formed `Basic`.
pub(crate) fn token(headers: &HeaderMap) -> Result<Option<String>, Response> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let value = value.trim();
    if let Some(t) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    {
        return Ok(Some(t.trim().to_owned()));
    }
    let Some(b) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return Err(invalid_credentials());
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b.trim())
        .map_err(|_| invalid_credentials())?;
    let text = String::from_utf8(decoded).map_err(|_| invalid_credentials())?;
    match text.split_once(':') {
        Some((_user, password)) => Ok(Some(password.to_owned())),
        None => Err(invalid_credentials()),
    }
}
