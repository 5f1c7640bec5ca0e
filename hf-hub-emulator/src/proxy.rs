//! The per-Space listener behind the Space's `host` URL: forwards to the app while RUNNING. The
//! app of a `private` Space answers only its readers' tokens; `public` and `protected` apps
//! answer anyone.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;

use crate::hub::{Hub, Space, Upstream, can_read};

const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

#[derive(Clone)]
struct ProxyState {
    hub: Arc<Hub>,
    space: Arc<Space>,
}

/// Serves `space`'s app on `listener` until the task is aborted.
pub(crate) fn serve(
    hub: Arc<Hub>,
    space: Arc<Space>,
    listener: tokio::net::TcpListener,
) -> tokio::task::JoinHandle<()> {
    let shutdown = hub.shutdown.clone();
    let layer_state = (hub.clone(), space.id.clone());
    let app = Router::new()
        .fallback(handle)
        .with_state(ProxyState { hub, space })
        .layer(axum::middleware::from_fn_with_state(
            layer_state,
            crate::middleware::app,
        ));
    crate::listener::serve(listener, app, shutdown)
}

/// Whether `req` carries the token of a user who may read `space` (`Authorization: Bearer`). A
/// private Space's app answers nothing else, a CORS preflight included: on the Hub a browser
/// without the owner's session cannot reach it.
fn reader(hub: &Hub, space: &Space, req: &Request) -> bool {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let caller = token.and_then(|t| hub.caller_for_token(t));
    caller.is_some() && can_read(&space.lock(), &space.ns, caller.as_ref())
}

fn text(status: StatusCode, msg: &str) -> Response {
    (status, msg.to_owned()).into_response()
}

async fn handle(State(ps): State<ProxyState>, req: Request) -> Response {
    let ProxyState { hub, space } = ps;
    let (visibility, upstream, stage, previous_serves) = {
        let st = space.lock();
        (
            st.visibility,
            st.upstream.clone(),
            st.stage.clone(),
            st.previous_serves,
        )
    };
    if !visibility.app_public() && !reader(&hub, &space, &req) {
        return text(
            StatusCode::UNAUTHORIZED,
            "This Space is private: its app answers only requests with `Authorization: Bearer <token>` of a user who can read it\n",
        );
    }
    // While a new revision builds or starts (`RUNNING_BUILDING`, `RUNNING_APP_STARTING`), the
    // previous one still answers, as on the Hub.
    if stage != "RUNNING" && !previous_serves {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("The Space is not running (stage {stage})\n"),
        );
    }
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    match upstream {
        Upstream::None => text(
            StatusCode::BAD_GATEWAY,
            "This Space has no app the emulator can run\n",
        ),
        Upstream::Scripted(app) => {
            let origin = req
                .headers()
                .get(header::ORIGIN)
                .and_then(|v| v.to_str().ok());
            let r = app.respond(&method, &path, origin);
            let mut resp = Response::new(Body::from(r.body));
            *resp.status_mut() =
                StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            if let Some(ct) = r.content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
                resp.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            for (k, v) in r.headers {
                if let (Ok(k), Ok(v)) = (
                    HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(&v),
                ) {
                    resp.headers_mut().append(k, v);
                }
            }
            resp
        }
        Upstream::Port(port) => forward(&hub, port, req).await,
    }
}

async fn forward(hub: &Hub, port: u16, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let pq = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let url = format!("http://127.0.0.1:{port}{pq}");
    let Ok(method) = reqwest::Method::from_bytes(parts.method.as_str().as_bytes()) else {
        return text(StatusCode::METHOD_NOT_ALLOWED, "unsupported method\n");
    };
    let body = match axum::body::to_bytes(body, 256 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n"),
    };
    let mut rb = hub.http.request(method, url).body(body);
    for (k, v) in parts.headers.iter() {
        if HOP_BY_HOP.contains(&k.as_str()) || k == header::HOST || k == header::CONTENT_LENGTH {
            continue;
        }
        rb = rb.header(k.as_str(), v.as_bytes());
    }
    let upstream = match rb.send().await {
        Ok(r) => r,
        Err(_) => return text(StatusCode::BAD_GATEWAY, "The app did not answer\n"),
    };
    let status =
        StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut builder = Response::builder().status(status);
    for (k, v) in upstream.headers() {
        if HOP_BY_HOP.contains(&k.as_str()) || k.as_str() == "content-length" {
            continue;
        }
        builder = builder.header(k.as_str(), v.as_bytes());
    }
    let stream = upstream.bytes_stream().map_err(std::io::Error::other);
    builder
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| text(StatusCode::BAD_GATEWAY, "bad upstream response\n"))
}
