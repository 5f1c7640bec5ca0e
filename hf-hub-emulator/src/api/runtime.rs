//! Runtime endpoints: `GET …/runtime`, `POST …/restart`, `POST …/pause`, `GET …/logs/{build|run}`
//! and `GET …/host`. The Space runtime engine itself is `crate::runtime`.
// The error type is the HTTP answer itself, built once per request: boxing it buys nothing.
#![allow(clippy::result_large_err)]

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::common::{H, bad_request, flatten, ok, query_pairs, readable, writable};
use crate::auth::auth_required;
use crate::logs;
use crate::runtime as engine;
use crate::util::hub_error;

pub(crate) async fn runtime(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    flatten(readable(&hub, &headers, &ns, &name).and_then(|(s, _)| ok(engine::runtime_json(&s))))
}

/// `POST …/restart[?factory=true]`: a restart, or with `factory=true` a factory reboot (rebuilt
/// without any cache; the query is in the request log).
pub(crate) async fn restart(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
    q: RawQuery,
) -> Response {
    flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        if space.lock().sdk == "static" {
            return Err(bad_request("Static Spaces cannot be restarted"));
        }
        let factory = query_pairs(&q.0)
            .iter()
            .any(|(k, v)| k == "factory" && (v == "true" || v == "1"));
        if factory {
            engine::factory_reboot(&hub, &space);
        } else {
            engine::trigger(&hub, &space);
        }
        ok(engine::runtime_json(&space))
    })())
}

pub(crate) async fn pause(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    flatten((|| {
        let space = writable(&hub, &headers, &ns, &name)?;
        if space.lock().sdk == "static" {
            return Err(bad_request("Static Spaces cannot be paused"));
        }
        engine::stop(&space, "PAUSED");
        ok(engine::runtime_json(&space))
    })())
}

pub(crate) async fn host(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    flatten((|| {
        let (space, _) = readable(&hub, &headers, &ns, &name)?;
        ok(json!({"subdomain": space.subdomain(), "host": space.proxy_url}))
    })())
}

pub(crate) async fn logs(
    State(hub): H,
    headers: HeaderMap,
    Path((ns, name, kind)): Path<(String, String, String)>,
    q: RawQuery,
) -> Response {
    flatten((|| {
        let (space, who) = readable(&hub, &headers, &ns, &name)?;
        if who.is_none() {
            return Err(auth_required());
        }
        let run = match kind.as_str() {
            "build" => false,
            "run" => true,
            _ => {
                return Err(hub_error(
                    StatusCode::NOT_FOUND,
                    None,
                    "Log type must be `build` or `run`",
                ));
            }
        };
        let follow = !query_pairs(&q.0)
            .iter()
            .any(|(k, v)| k == "follow" && (v == "false" || v == "0"));
        Ok(logs::sse(hub.clone(), space, run, follow))
    })())
}
