//! Credentials: `Authorization: Bearer <token>` (API) or `Basic` with the token as password (git).
// The error type is the HTTP answer itself, built once per request: boxing it buys nothing.
#![allow(clippy::result_large_err)]

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine;

use crate::hub::{Caller, Hub};
use crate::util::hub_error;

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

/// `Ok(None)` = anonymous; `Err` = credentials present but unknown.
pub(crate) fn caller(hub: &Hub, headers: &HeaderMap) -> Result<Option<Caller>, Response> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let value = value.trim();
    let token = if let Some(t) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    {
        t.trim().to_owned()
    } else if let Some(b) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .map_err(|_| invalid_credentials())?;
        let text = String::from_utf8(decoded).map_err(|_| invalid_credentials())?;
        match text.split_once(':') {
            Some((_user, password)) => password.to_owned(),
            None => return Err(invalid_credentials()),
        }
    } else {
        return Err(invalid_credentials());
    };
    hub.caller_for_token(&token)
        .map(Some)
        .ok_or_else(invalid_credentials)
}
