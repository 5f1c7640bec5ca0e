//! What every resource module of the API shares: the handler types, the answers that are not about
//! one resource (errors, 404), the JSON body parser and the access checks. Imports no resource module.
// The error type is the HTTP answer itself, built once per request: boxing it buys nothing.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::{Caller, auth_required};
use crate::hub::{Hub, Space, Visibility, can_read, can_write};
use crate::info;
use crate::util::{hub_error, json_response, repo_not_found};

/// The state every handler extracts.
pub(super) type H = State<Arc<Hub>>;
/// A handler's result: both sides are the HTTP answer.
pub(super) type Res = Result<Response, Response>;

pub(super) fn ok(v: Value) -> Res {
    Ok(json_response(StatusCode::OK, &v))
}

pub(super) fn bad_request(msg: &str) -> Response {
    hub_error(StatusCode::BAD_REQUEST, None, msg)
}

pub(super) fn forbidden(msg: &str) -> Response {
    hub_error(StatusCode::FORBIDDEN, None, msg)
}

/// A typed request body; a body that is not JSON or does not fit `T` is a 400.
pub(super) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| bad_request(&format!("Invalid JSON body: {e}")))
}

pub(super) fn query_pairs(q: &Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.as_deref().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

pub(super) fn flatten(r: Res) -> Response {
    r.unwrap_or_else(|e| e)
}

/// The `expand` (or `expand[]`) values of a query; 400 for one the Hub does not know.
pub(super) fn expand_values(pairs: &[(String, String)]) -> Result<Vec<String>, Response> {
    let expand: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "expand" || k == "expand[]")
        .map(|(_, v)| v.clone())
        .collect();
    if let Some(bad) = info::unknown_expand(&expand) {
        return Err(bad_request(&format!(
            "\"expand\" must be one of [{}], got \"{bad}\"",
            info::EXPAND.join(", ")
        )));
    }
    Ok(expand)
}

/// The value of query parameter `key`, if given.
pub(super) fn query_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The page size of a listing: `limit` (at most `max`), else `default`; 400 when `limit` is not
/// a number.
pub(super) fn page_limit(
    pairs: &[(String, String)],
    default: usize,
    max: usize,
) -> Result<usize, Response> {
    match query_value(pairs, "limit") {
        None => Ok(default.clamp(1, max)),
        Some(v) => v
            .parse::<usize>()
            .map(|n| n.clamp(1, max))
            .map_err(|_| bad_request(&format!("\"limit\" must be a number, got \"{v}\""))),
    }
}

/// Adds the Hub's pagination header: `Link: <next>; rel="next"` (GitHub's format, which
/// huggingface_hub and huggingface.js follow) to `resp`.
pub(super) fn with_next_link(mut resp: Response, next: Option<String>) -> Response {
    if let Some(v) = next.and_then(|n| HeaderValue::from_str(&format!("<{n}>; rel=\"next\"")).ok())
    {
        resp.headers_mut().insert(header::LINK, v);
    }
    resp
}

/// The Hub's text when a request names both `visibility` and `private` (its OpenAPI text).
const VISIBILITY_AND_PRIVATE: &str =
    "`protected` is only supported for Spaces. Cannot be specified along with private.";

/// The visibility a create or settings request asks for: `visibility` (`public`, `private`,
/// `protected`) or the older `private`; `None` when it names neither; 400 when it names both
/// or an unknown value.
pub(super) fn requested_visibility(
    visibility: Option<&str>,
    private: Option<bool>,
) -> Result<Option<Visibility>, Response> {
    match (visibility, private) {
        (Some(_), Some(_)) => Err(bad_request(VISIBILITY_AND_PRIVATE)),
        (Some(v), None) => Visibility::parse(v).map(Some).ok_or_else(|| {
            bad_request(&format!(
                "\"visibility\" must be one of [public, private, protected], got \"{v}\""
            ))
        }),
        (None, Some(true)) => Ok(Some(Visibility::Private)),
        (None, Some(false)) => Ok(Some(Visibility::Public)),
        (None, None) => Ok(None),
    }
}

/// The Space, if the caller may see it (private Spaces of others are 404).
pub(super) fn readable(
    hub: &Hub,
    headers: &HeaderMap,
    ns: &str,
    name: &str,
) -> Result<(Arc<Space>, Option<Caller>), Response> {
    let who = hub.caller(headers)?;
    let space = hub.space(ns, name).ok_or_else(repo_not_found)?;
    if !can_read(&space.lock(), &space.ns, who.as_ref()) {
        return Err(repo_not_found());
    }
    Ok((space, who))
}

/// The Space, if the caller may change it.
pub(super) fn writable(
    hub: &Hub,
    headers: &HeaderMap,
    ns: &str,
    name: &str,
) -> Result<Arc<Space>, Response> {
    let (space, who) = readable(hub, headers, ns, name)?;
    let Some(who) = who else {
        return Err(auth_required());
    };
    if !can_write(&space.ns, Some(&who)) {
        return Err(forbidden(&format!(
            "You don't have the rights to write to the space `{}` with this token (role {})",
            space.id,
            who.role.as_str()
        )));
    }
    Ok(space)
}

/// The answer to any route the stand-in does not serve.
pub(crate) async fn not_found(method: Method) -> Response {
    let _ = method;
    hub_error(
        StatusCode::NOT_FOUND,
        None,
        "Sorry, we can't find the page you are looking for.",
    )
}
