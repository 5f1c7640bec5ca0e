//! The one place where an error status of the Hub becomes an [`Error`], and what the Hub said
//! (`X-Error-Message`, the body's `error`, the request id).

use std::time::SystemTime;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::transport::{Call, CallKind, Failed};
use crate::error::{Error, HttpContext};
use crate::untrusted::{Redactor, RemoteText};
use crate::wait;

/// Longest server message kept in an error, in bytes.
const MAX_MESSAGE_BYTES: usize = 500;
/// Longest request id or error code kept.
const MAX_HEADER_BYTES: usize = 200;

/// The 409 that means "try again" rather than "exists" (`huggingface_hub` loops on it).
pub(super) fn is_conflicting_operation(body: &str) -> bool {
    body.contains("another conflicting operation is in progress")
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_string)
}

pub(super) fn error_code(headers: &HeaderMap) -> Option<String> {
    header(headers, "x-error-code")
}

/// What the Hub said: `X-Error-Message`, else the body's `error` (text or list) with its
/// `error_description`, `message`, `errors[].message`, else the body text if it is not HTML.
/// Redacted by `redactor` (the token and the run's secrets, should a server echo them), then
/// cut to 500 bytes.
pub(crate) fn server_message(
    headers: &HeaderMap,
    body: &str,
    redactor: &Redactor,
) -> Option<RemoteText> {
    let message = header(headers, "x-error-message").or_else(|| body_message(body))?;
    Some(RemoteText::with_max_bytes(
        &message,
        redactor,
        MAX_MESSAGE_BYTES,
    ))
}

/// A header of the answer as text from outside, cut to 200 bytes.
fn remote_header(headers: &HeaderMap, name: &str, redactor: &Redactor) -> Option<RemoteText> {
    header(headers, name)
        .map(|value| RemoteText::with_max_bytes(&value, redactor, MAX_HEADER_BYTES))
}

fn body_message(body: &str) -> Option<String> {
    let text = body.trim();
    if text.is_empty() {
        return None;
    }
    let Ok(json) = serde_json::from_str::<Value>(text) else {
        return (!text.starts_with('<')).then(|| text.to_string());
    };
    let string = |value: &Value| {
        value
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let error = match json.get("error") {
        Some(Value::Array(items)) => {
            let items: Vec<String> = items.iter().filter_map(string).collect();
            (!items.is_empty()).then(|| items.join("; "))
        }
        Some(value) => string(value),
        None => None,
    };
    let description = json.get("error_description").and_then(string);
    let errors = json.get("errors").and_then(Value::as_array).map(|items| {
        items
            .iter()
            .filter_map(|item| item.get("message").and_then(string))
            .collect::<Vec<_>>()
            .join("; ")
    });
    match (error, description) {
        (Some(error), Some(description)) => Some(format!("{error}: {description}")),
        (Some(error), None) => Some(error),
        (None, Some(description)) => Some(description),
        (None, None) => json
            .get("message")
            .and_then(string)
            .or(errors.filter(|e| !e.is_empty())),
    }
}

fn says_read_only(message: &str) -> bool {
    let message = message.to_lowercase();
    [
        "read-only",
        "read only",
        "write access",
        "write permission",
        "don't have the rights",
        "do not have the rights",
    ]
    .iter()
    .any(|phrase| message.contains(phrase))
}

/// The one place where an error status becomes an [`Error`].
///
/// * 401: the token ([`Error::InvalidToken`]) when the Hub says "Invalid credentials", on whoami,
///   outside `/api/spaces/..`, or on a change under `/api/spaces/..` (OAuth tokens from
///   `hf auth login` get 401 on restart, sleeptime and hardware while reads work). A read under
///   `/api/spaces/..` answers 401 for a private and for a missing Space alike, so there it is
///   [`Error::NotFound`] (as `huggingface_hub` reads it).
/// * 404 or `X-Error-Code: RepoNotFound`: [`Error::NotFound`] naming `call.what`.
/// * 402, or 403 saying "payment method": [`Error::PaymentRequired`].
/// * 403 on a write: [`Error::ReadOnlyToken`] when whoami says the role is `read` or the message
///   says so; else [`Error::Forbidden`].
/// * 409 [`Error::Conflict`], 429 [`Error::RateLimited`], 5xx [`Error::Server`] with `attempts`,
///   anything else [`Error::Refused`].
pub(crate) fn map_http_error(
    call: &Call,
    url: &str,
    failed: &Failed,
    attempts: u32,
    token_role: Option<&str>,
    redactor: &Redactor,
) -> Error {
    let server_message = server_message(&failed.headers, &failed.body, redactor);
    let error_code = error_code(&failed.headers);
    let context = Box::new(HttpContext {
        method: call.method.to_string(),
        url: url.to_string(),
        status: failed.status,
        request_id: remote_header(&failed.headers, "x-request-id", redactor)
            .or_else(|| remote_header(&failed.headers, "x-amzn-trace-id", redactor)),
        error_code: remote_header(&failed.headers, "x-error-code", redactor),
        server_message: server_message.clone(),
    });
    let message = server_message
        .map(|message| message.as_data().to_string())
        .unwrap_or_default();
    let action = call.action.clone();
    let what = call.what.clone();
    match failed.status {
        401 if message.contains("Invalid credentials") || call.kind == CallKind::WhoAmI => {
            Error::InvalidToken { action, context }
        }
        401 if call.path.starts_with("/api/spaces/") && call.kind == CallKind::Read => {
            Error::NotFound { what, context }
        }
        401 => Error::InvalidToken { action, context },
        _ if failed.status == 404 || error_code.as_deref() == Some("RepoNotFound") => {
            Error::NotFound { what, context }
        }
        402 => Error::PaymentRequired { action, context },
        403 if message.to_lowercase().contains("payment method") => {
            Error::PaymentRequired { action, context }
        }
        403 if call.kind == CallKind::Write
            && (token_role == Some("read") || says_read_only(&message)) =>
        {
            Error::ReadOnlyToken { action, context }
        }
        403 => Error::Forbidden { action, context },
        409 => Error::Conflict { action, context },
        429 => {
            let retry_after = wait::server_wait(&failed.headers);
            Error::RateLimited {
                action,
                retry_after,
                reset_at: retry_after.and_then(|wait| SystemTime::now().checked_add(wait)),
                context,
            }
        }
        500..=599 => Error::Server {
            action,
            attempts,
            context,
        },
        _ => Error::Refused { action, context },
    }
}
