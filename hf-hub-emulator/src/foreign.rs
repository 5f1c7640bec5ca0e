//! The foreign host: a second listener on another loopback port, standing for a host that is not
//! the Hub (where a redirect fault or a hostile LFS answer sends a client). It answers every
//! request with a fixed status (200 `{}` by default) and records what arrived, so a test can ask
//! whether any request carried credentials there.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::util::lock;

/// Headers that carry credentials by their nature.
const CREDENTIAL_HEADERS: [&str; 5] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "x-xet-access-token",
];

/// One request the foreign host received. Its `Debug` never shows a header's value, and shows
/// token-like text of the path and query redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct ForeignRequest {
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Raw query string (empty when none).
    pub query: String,
    /// Every header, name (lowercase) and value, in arrival order.
    pub headers: Vec<(String, String)>,
    /// Body bytes received.
    pub body_bytes: u64,
    tokens: Arc<Vec<String>>,
}

impl ForeignRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether this request carried credentials: an `Authorization`, `Proxy-Authorization`,
    /// `Cookie`, `X-Api-Key` or `X-Xet-Access-Token` header, or a Hub token (one the stand-in
    /// accepts, or any `hf_…` text) anywhere in a header, the path or the query.
    pub fn carries_credentials(&self) -> bool {
        let token_in = |text: &str| {
            token_like().is_some_and(|re| re.is_match(text))
                || self.tokens.iter().any(|t| text.contains(t.as_str()))
        };
        self.headers.iter().any(|(k, v)| {
            CREDENTIAL_HEADERS.contains(&k.to_ascii_lowercase().as_str()) || token_in(v)
        }) || token_in(&self.path)
            || token_in(&self.query)
    }
}

impl std::fmt::Debug for ForeignRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ForeignRequest")
            .field("method", &self.method)
            .field("path", &redact(&self.path))
            .field("query", &redact(&self.query))
            .field("header_names", &names)
            .field("body_bytes", &self.body_bytes)
            .field("carries_credentials", &self.carries_credentials())
            .finish()
    }
}

/// Text that looks like a Hub token (`hf_…`, `hf_jwt_…`).
fn token_like() -> Option<&'static regex::Regex> {
    static RE: OnceLock<Option<regex::Regex>> = OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"hf_[A-Za-z0-9_]{6,}").ok())
        .as_ref()
}

fn redact(text: &str) -> String {
    match token_like() {
        Some(re) => re.replace_all(text, "hf_<redacted>").into_owned(),
        None => text.to_owned(),
    }
}

/// Handle to the foreign host of a running stand-in (cheap to clone, shared).
#[derive(Clone)]
pub struct ForeignHost {
    inner: Arc<Inner>,
}

struct Inner {
    url: OnceLock<String>,
    status: AtomicU16,
    requests: Mutex<Vec<ForeignRequest>>,
    tokens: Arc<Vec<String>>,
}

impl std::fmt::Debug for ForeignHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForeignHost")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

impl ForeignHost {
    /// A foreign host that counts `tokens` (the stand-in's) as credentials; not listening yet.
    pub(crate) fn new(tokens: Vec<String>) -> ForeignHost {
        ForeignHost {
            inner: Arc::new(Inner {
                url: OnceLock::new(),
                status: AtomicU16::new(200),
                requests: Mutex::new(Vec::new()),
                tokens: Arc::new(tokens),
            }),
        }
    }

    /// Binds another loopback port and serves until `shutdown`.
    pub(crate) async fn start(
        &self,
        shutdown: CancellationToken,
    ) -> std::io::Result<JoinHandle<()>> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let _ = self.inner.url.set(format!("http://127.0.0.1:{port}"));
        let app = Router::new().fallback(record).with_state(self.clone());
        Ok(crate::listener::serve(listener, app, shutdown))
    }

    /// Its base URL, e.g. `http://127.0.0.1:40123` (another port than the Hub's: another origin).
    pub fn url(&self) -> String {
        self.inner.url.get().cloned().unwrap_or_default()
    }

    /// Every request it received so far.
    pub fn requests(&self) -> Vec<ForeignRequest> {
        lock(&self.inner.requests).clone()
    }

    /// The requests that carried credentials ([`ForeignRequest::carries_credentials`]): a test
    /// that proves no credential left for another host asserts this is empty.
    pub fn credentials_seen(&self) -> Vec<ForeignRequest> {
        self.requests()
            .into_iter()
            .filter(ForeignRequest::carries_credentials)
            .collect()
    }

    /// The status it answers from now on (200 by default; e.g. 404).
    pub fn set_status(&self, status: u16) {
        self.inner.status.store(status, Ordering::SeqCst);
    }

    /// Forgets the requests received so far.
    pub fn clear(&self) {
        lock(&self.inner.requests).clear();
    }
}

/// Records the request and answers the configured status with `{}` (or `{"error": …}`).
async fn record(State(host): State<ForeignHost>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body_bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .map(|b| b.len() as u64)
        .unwrap_or(0);
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    lock(&host.inner.requests).push(ForeignRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers,
        body_bytes,
        tokens: host.inner.tokens.clone(),
    });
    let status =
        StatusCode::from_u16(host.inner.status.load(Ordering::SeqCst)).unwrap_or(StatusCode::OK);
    let body = if status.is_success() {
        "{}".to_owned()
    } else {
        format!(
            "{{\"error\":\"foreign host answered {}\"}}",
            status.as_u16()
        )
    };
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
