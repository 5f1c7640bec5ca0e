//! What every resource module of the API shares: the handler types, the answers that are not about
//! one resource (errors, 404), the JSON body parser and the access checks. Imports no resource module.
// The error type is the HTTP answer itself, built once per request: boxing it buys nothing.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::{Caller, auth_required};
use crate::hub::{Hub, Space, can_read, can_write};
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
