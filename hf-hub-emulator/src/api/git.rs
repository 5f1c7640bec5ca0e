//! Git routes: everything under `/spaces/{ns}/{repo}[.git]/…`: the LFS batch and locks API
//! (handled by `crate::lfs`) and git smart HTTP (handled by `crate::git`).

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::common::H;

use crate::middleware::LoggedBodyBytes;
use crate::{git, lfs, races};

pub(crate) async fn git_route(
    State(hub): H,
    method: Method,
    headers: HeaderMap,
    Path((ns, repo, rest)): Path<(String, String, String)>,
    q: RawQuery,
    body: Bytes,
) -> Response {
    let name = repo.strip_suffix(".git").unwrap_or(&repo);
    let who = match hub.caller(&headers) {
        Ok(w) => w,
        Err(_) if rest.starts_with("info/lfs") => {
            let mut r = (
                StatusCode::UNAUTHORIZED,
                "{\"message\":\"Invalid credentials\"}",
            )
                .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Authentication required\""),
            );
            return r;
        }
        Err(_) => return git::basic_challenge(),
    };
    let Some(space) = hub.space(&ns, name) else {
        if rest.starts_with("info/lfs") {
            return (
                StatusCode::NOT_FOUND,
                "{\"message\":\"Repository not found\"}",
            )
                .into_response();
        }
        return (StatusCode::NOT_FOUND, "Repository not found\n").into_response();
    };
    match (method.as_str(), rest.as_str()) {
        ("POST", "info/lfs/objects/batch") => lfs::batch(hub.clone(), space, who, &body).await,
        ("POST", "info/lfs/locks/verify") => lfs::locks(true),
        ("GET", "info/lfs/locks") => lfs::locks(false),
        (m, r) if r.starts_with("info/lfs") => {
            let _ = m;
            (StatusCode::NOT_FOUND, "{\"message\":\"Not found\"}").into_response()
        }
        (m, r) => {
            let received = body.len() as u64;
            if m == "POST" && r == "git-receive-pack" {
                races::before_push(&hub, &space, who.as_ref()).await;
            }
            let request = git::GitRequest {
                rest: r,
                method: m,
                query: q.0.as_deref().unwrap_or(""),
                headers: &headers,
                body,
            };
            let mut response = git::smart_http(hub.clone(), space, request, who).await;
            response.extensions_mut().insert(LoggedBodyBytes(received));
            response
        }
    }
}
