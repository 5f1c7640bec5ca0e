//! What every request goes through, on the API listener and on each Space's app listener: the
//! injected faults, the request log and (API only) the Hub's headers (`X-Request-Id`,
//! `X-Powered-By`, the exposed headers). Handlers hand the log what only they know through the
//! response's extensions ([`LoggedKeys`], [`LoggedBodyBytes`]).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::faults::{FaultAction, RedirectTarget};
use crate::hub::{Hub, LoggedRequest};
use crate::listener::ConnKill;
use crate::util;

/// Keys of a secrets/variables request, handed to the request log.
#[derive(Clone)]
pub(crate) struct LoggedKeys(pub Vec<String>);

/// Size of a request body read whole by its handler, handed to the request log.
#[derive(Clone, Copy)]
pub(crate) struct LoggedBodyBytes(pub u64);

/// The middleware of the API (and git) listener.
pub(crate) async fn api(State(hub): State<Arc<Hub>>, req: Request, next: Next) -> Response {
    apply_faults_and_log(&hub, None, req, next).await
}

/// The middleware of a Space's app listener.
pub(crate) async fn app(
    State((hub, space)): State<(Arc<Hub>, String)>,
    req: Request,
    next: Next,
) -> Response {
    apply_faults_and_log(&hub, Some(space), req, next).await
}

/// `namespace/name` of the Space an API or git path is about.
fn space_of(path: &str) -> Option<String> {
    let rest = path
        .strip_prefix("/api/spaces/")
        .or_else(|| path.strip_prefix("/spaces/"))?;
    let mut it = rest.split('/');
    let ns = it.next()?;
    let name = it.next()?.trim_end_matches(".git");
    (!ns.is_empty() && !name.is_empty()).then(|| format!("{ns}/{name}"))
}

/// The log entry of a request as it arrives (status and timings are filled in later).
fn arriving(req: &Request, app_space: Option<String>) -> LoggedRequest {
    let path = req.uri().path().to_owned();
    let request_bytes = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    LoggedRequest {
        method: req.method().as_str().to_owned(),
        query: req.uri().query().unwrap_or("").to_owned(),
        status: 0,
        app: app_space.is_some(),
        space: app_space.or_else(|| space_of(&path)),
        path,
        time: util::now_iso(),
        keys: Vec::new(),
        elapsed_ms: 0,
        request_bytes,
        scoped_token: None,
    }
}

/// The answer an injected fault gives instead of the handler's (`None`: the handler answers).
fn fault_answer(hub: &Hub, action: FaultAction, path: &str, query: &str) -> Option<Response> {
    match action {
        FaultAction::Pass | FaultAction::Drop | FaultAction::ResetMidAnswer => None,
        FaultAction::Redirect { status, to } => {
            let base = match to {
                RedirectTarget::Foreign => hub.foreign.url(),
                RedirectTarget::Url(url) => url,
            };
            let query = if query.is_empty() {
                String::new()
            } else {
                format!("?{query}")
            };
            Some(bodies::redirect(status, &format!("{base}{path}{query}")))
        }
        FaultAction::EndlessBody => Some(bodies::endless(
            "application/json",
            b"{\"data\":\"",
            b'a',
            hub.shutdown.clone(),
        )),
        FaultAction::HugeBody(bytes) => Some(bodies::huge(bytes, hub.shutdown.clone())),
        FaultAction::EndlessSseLine => Some(bodies::endless(
            "text/event-stream",
            b"data: {\"data\":\"",
            b'x',
            hub.shutdown.clone(),
        )),
        FaultAction::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Some(util::hub_error(
                status,
                None,
                "Injected fault: the Hub stand-in failed this request on purpose",
            ))
        }
        FaultAction::RateLimited { retry_after } => {
            let mut r = util::hub_error(
                StatusCode::TOO_MANY_REQUESTS,
                None,
                "You have exceeded our hourly quotas for action 'api'. Retry later.",
            );
            let h = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                h.insert("retry-after", v);
            }
            if let Ok(v) = HeaderValue::from_str(&format!("\"api\";r=0;t={retry_after}")) {
                h.insert("ratelimit", v);
            }
            h.insert(
                "ratelimit-policy",
                HeaderValue::from_static("\"fixed window\";\"api\";q=1000;w=300"),
            );
            Some(r)
        }
    }
}

/// The headers every Hub API and git answer carries.
fn hub_headers(resp: &mut Response, trace: Option<&str>) {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&util::request_id(trace)) {
        h.insert("x-request-id", v);
    }
    h.insert("x-powered-by", HeaderValue::from_static("huggingface-moon"));
    h.insert(
        "access-control-expose-headers",
        HeaderValue::from_static("X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,Accept-Ranges,Content-Range"),
    );
}

/// Faults, request id and the request log. `app_space` is set for a Space's app listener.
async fn apply_faults_and_log(
    hub: &Hub,
    app_space: Option<String>,
    req: Request,
    next: Next,
) -> Response {
    let trace = req
        .headers()
        .get("x-amzn-trace-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let conn = req
        .extensions()
        .get::<ConnectInfo<ConnKill>>()
        .map(|c| c.0.clone());
    let mut entry = arriving(&req, app_space);
    entry.scoped_token = crate::auth::token(req.headers())
        .ok()
        .flatten()
        .and_then(|token| hub.oidc.serial(&token));
    let arrived = Instant::now();
    let mut injected = None;
    let mut reset = false;
    if let Some((action, latency)) =
        hub.faults
            .take(&entry.method, &entry.path, &entry.query, entry.app)
    {
        // A held request holds nobody else up (each connection is its own task); shutting the
        // stand-in down cuts it.
        let shut_down = !latency.is_zero()
            && tokio::select! {
                () = tokio::time::sleep(latency) => false,
                () = hub.shutdown.cancelled() => true,
            };
        if action == FaultAction::Drop || shut_down {
            if let Some(c) = conn {
                c.cut();
            }
            entry.elapsed_ms = arrived.elapsed().as_millis() as u64;
            hub.record(entry);
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        reset = action == FaultAction::ResetMidAnswer;
        injected = fault_answer(hub, action, &entry.path, &entry.query);
    }
    let mut resp = match injected {
        Some(r) => r,
        None => next.run(req).await,
    };
    if reset {
        resp = bodies::cut_in_half(resp).await;
    }
    if let Some(keys) = resp.extensions_mut().remove::<LoggedKeys>() {
        entry.keys = keys.0;
    }
    if let Some(bytes) = resp.extensions_mut().remove::<LoggedBodyBytes>() {
        entry.request_bytes = bytes.0;
    }
    entry.elapsed_ms = arrived.elapsed().as_millis() as u64;
    if !entry.app {
        hub_headers(&mut resp, trace.as_deref());
    }
    entry.status = resp.status().as_u16();
    hub.record(entry);
    resp
}

/// The bodies of the fault answers that are not errors: redirects, endless and huge bodies.
mod bodies {
    use axum::body::Body;
    use axum::http::{HeaderValue, StatusCode, header};
    use axum::response::{IntoResponse, Response};
    use bytes::Bytes;
    use futures_util::StreamExt;
    use tokio_util::sync::CancellationToken;

    const CHUNK: usize = 64 * 1024;

    /// `resp` with its status and headers, half its body, then an error that resets the
    /// connection (the client reads a truncated answer).
    pub(super) async fn cut_in_half(resp: Response) -> Response {
        let (mut parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, 256 * 1024 * 1024)
            .await
            .unwrap_or_default();
        let half = bytes.slice(..bytes.len() / 2);
        // The full length is announced, so even a client that ignores the reset sees a short body.
        if let Ok(v) = HeaderValue::from_str(&bytes.len().max(1).to_string()) {
            parts.headers.insert(header::CONTENT_LENGTH, v);
        }
        let stream = futures_util::stream::iter([
            Ok(half),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "injected fault: the answer was cut",
            )),
        ]);
        Response::from_parts(parts, Body::from_stream(stream))
    }

    /// `status` (a 3xx) with `Location: location`.
    pub(super) fn redirect(status: u16, location: &str) -> Response {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::TEMPORARY_REDIRECT);
        let mut resp = (status, format!("Redirecting to {location}\n")).into_response();
        if let Ok(v) = HeaderValue::from_str(location) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        resp
    }

    /// 200 `content_type`: `prefix`, then `fill` bytes forever (until the client stops reading
    /// or `shutdown`).
    pub(super) fn endless(
        content_type: &'static str,
        prefix: &'static [u8],
        fill: u8,
        shutdown: CancellationToken,
    ) -> Response {
        let chunk = Bytes::from(vec![fill; CHUNK]);
        let stream = futures_util::stream::once(async move { Bytes::from_static(prefix) })
            .chain(futures_util::stream::repeat(chunk))
            .map(Ok::<_, std::io::Error>)
            .take_until(shutdown.cancelled_owned());
        let mut resp = Response::new(Body::from_stream(stream));
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        resp
    }

    /// 200 with `bytes` bytes of `a` (`Content-Length: bytes`), made chunk by chunk as sent.
    pub(super) fn huge(bytes: u64, shutdown: CancellationToken) -> Response {
        let chunk = Bytes::from(vec![b'a'; CHUNK]);
        let full = bytes / CHUNK as u64;
        let rest = (bytes % CHUNK as u64) as usize;
        let stream = futures_util::stream::iter(0..full)
            .map(move |_| chunk.clone())
            .chain(futures_util::stream::iter(
                (rest > 0).then(|| Bytes::from(vec![b'a'; rest])),
            ))
            .map(Ok::<_, std::io::Error>)
            .take_until(shutdown.cancelled_owned());
        let mut resp = Response::new(Body::from_stream(stream));
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        if let Ok(v) = HeaderValue::from_str(&bytes.to_string()) {
            h.insert(header::CONTENT_LENGTH, v);
        }
        resp
    }
}
