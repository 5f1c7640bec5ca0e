//! Trusted Publisher routes: `POST /oauth/token` (RFC 8693 token exchange: a GitHub job token for
//! a Space-scoped token) and the guard keeping a scoped token to its one Space. The issuer, the
//! publishers and the tokens are the engine's (`crate::oauth`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;

use crate::auth::{Caller, invalid_credentials};
use crate::hub::Hub;
use crate::oauth;
use crate::util::{hub_error, json_response};

fn oauth_error(error: &str, description: Option<&str>) -> Response {
    let mut body = json!({ "error": error });
    if let Some(description) = description {
        body["error_description"] = json!(description);
    }
    json_response(StatusCode::BAD_REQUEST, &body)
}

#[derive(Deserialize)]
struct ExchangeRequest {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    subject_token_type: String,
    #[serde(default)]
    subject_token: String,
    #[serde(default)]
    resource: String,
}

/// `POST /oauth/token`: a job token for a Space-scoped token. Like the Hub, a refusal never says
/// which check failed (`invalid_grant` covers a missing Space, no matching publisher, claims,
/// signature, audience and expiry).
pub(crate) async fn token_exchange(State(hub): State<Arc<Hub>>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<ExchangeRequest>(&body) else {
        return oauth_error("invalid_request", Some("the body must be a JSON object"));
    };
    if request.grant_type != "urn:ietf:params:oauth:grant-type:token-exchange"
        || request.subject_token_type != "urn:ietf:params:oauth:token-type:id_token"
        || request.subject_token.is_empty()
    {
        return oauth_error("invalid_request", None);
    }
    let Some((ns, name)) = request
        .resource
        .strip_prefix("spaces/")
        .and_then(|rest| rest.split_once('/'))
    else {
        return oauth_error(
            "invalid_request",
            Some("`resource` must be `spaces/<ns>/<name>`"),
        );
    };
    let Some(claims) = oauth::verify(&request.subject_token) else {
        return oauth_error("invalid_grant", None);
    };
    let Some(space) = hub.space(ns, name) else {
        return oauth_error("invalid_grant", None);
    };
    let Some((token, lifetime)) = hub.oidc.issue_scoped_token(&space.id, &claims) else {
        return oauth_error("invalid_grant", None);
    };
    // Written by hand: `expires_in` may be a numbers fault's raw JSON, which a JSON value could
    // not carry verbatim (`1e30`, a number beyond u64).
    let body = format!(
        "{{\"access_token\":{},\"token_type\":\"bearer\",\"expires_in\":{},\"issued_token_type\":\"urn:ietf:params:oauth:token-type:access_token\"}}",
        json!(token),
        hub.oidc.expires_in(lifetime)
    );
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

/// Keeps a scoped token to its one Space: its git, LFS and API paths, settings excepted.
pub(crate) async fn scope_guard(State(hub): State<Arc<Hub>>, req: Request, next: Next) -> Response {
    let scope = match hub.caller(req.headers()) {
        Ok(Some(Caller {
            scope: Some(scope), ..
        })) => scope,
        _ => return next.run(req).await,
    };
    let path = req.uri().path();
    let own = |prefix: &str| {
        path.strip_prefix(prefix).is_some_and(|rest| {
            let rest = rest.to_ascii_lowercase();
            let scope = scope.to_ascii_lowercase();
            rest == scope
                || rest.starts_with(&format!("{scope}/"))
                || rest.starts_with(&format!("{scope}.git"))
        })
    };
    if path == "/api/whoami-v2" {
        return invalid_credentials();
    }
    if own("/api/spaces/") {
        let setting = path.rsplit('/').next().unwrap_or("");
        if matches!(
            setting,
            "secrets" | "variables" | "hardware" | "sleeptime" | "settings"
        ) {
            return hub_error(
                StatusCode::FORBIDDEN,
                None,
                &format!(
                    "This token was issued to a Trusted Publisher of `{scope}`: it may push to the Space but not change its settings"
                ),
            );
        }
        return next.run(req).await;
    }
    if own("/spaces/") || path.starts_with("/lfs/") {
        return next.run(req).await;
    }
    hub_error(
        StatusCode::FORBIDDEN,
        None,
        &format!(
            "This token was issued to a Trusted Publisher of `{scope}` and is valid for that Space only"
        ),
    )
}
