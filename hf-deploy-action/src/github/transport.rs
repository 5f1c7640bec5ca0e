//! The one GitHub API client: octocrab's calls over a stack of our own, so that every answer has
//! a cap and every call a deadline, whichever octocrab call reads it (the comment list and its
//! pages, `GET /user`, pull requests, deployments and their statuses, the sweep's reads).
//!
//! octocrab's own `build()` reads a body to its end however long it is, and its read timeout
//! bounds only each silence (a server trickling a byte a second never ends a call). Here the
//! stack is octocrab's layers (base URI, `Authorization` for the API host only, `User-Agent`)
//! over [`Bounded`] over hyper's client (rustls with the system's roots, as octocrab's is):
//!
//! - a success answer is read up to [`JSON_CAP`]; one byte more fails the call with
//!   [`Limit::TooLarge`] ("the GitHub API answer is larger than 16384 KiB"), the rest unread;
//! - an error answer is read up to [`ERROR_BODY_CAP`], then cut and marked `…` (octocrab reads
//!   it for GitHub's message, never for data);
//! - the whole call, the body included, ends at one deadline ([`Limit::Deadline`]).
//!
//! No automatic retries (a repeated POST could post a comment or a deployment twice) and no
//! redirects followed, as before.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use hf_deploy_core::SecretString;
use http::{HeaderValue, Request, Response, Uri};
use http_body::{Body, Frame, SizeHint};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use octocrab::service::middleware::auth_header::AuthHeaderLayer;
use octocrab::service::middleware::base_uri::BaseUriLayer;
use octocrab::service::middleware::extra_headers::ExtraHeadersLayer;
use octocrab::{AuthState, OctoBody, Octocrab, OctocrabBuilder};
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

/// Most bytes of an error answer kept (GitHub's message): the library's cap, 64 KiB, then cut
/// and marked `…`.
pub(crate) use hf_deploy_core::ERROR_BODY_CAP;
/// Most bytes of a success answer (a JSON document): the library's cap for the Hub's, 16 MiB.
/// A page of the comment list stays under it (`api::COMMENTS_PER_PAGE`).
pub(crate) use hf_deploy_core::JSON_CAP;
/// The time to connect (the whole call has its own deadline too).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a GitHub API call was given up by this stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// The success answer went on past this many bytes.
    TooLarge(usize),
    /// The call, its body included, did not end within this time.
    Deadline(Duration),
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::TooLarge(cap) => write!(
                f,
                "the GitHub API answer is larger than {} KiB, more than hf-deploy reads",
                cap / 1024
            ),
            Limit::Deadline(limit) => write!(
                f,
                "the GitHub API did not answer in full within {} s (`{}`)",
                limit.as_secs(),
                crate::env::HTTP_TIMEOUT
            ),
        }
    }
}

impl std::error::Error for Limit {}

impl Limit {
    /// The [`Limit`] somewhere in `error`'s chain of causes, if this stack gave the call up.
    pub(crate) fn find(error: &(dyn std::error::Error + 'static)) -> Option<Limit> {
        let mut cause = Some(error);
        while let Some(error) = cause {
            if let Some(limit) = error.downcast_ref::<Limit>() {
                return Some(*limit);
            }
            cause = error.source();
        }
        None
    }
}

/// Why the client could not be built (never holding the token).
#[derive(Debug, thiserror::Error)]
pub(crate) enum BuildError {
    /// `GITHUB_API_URL` is not a URI.
    #[error("it is not a URL")]
    Url(#[source] http::uri::InvalidUri),
    /// The token has bytes an HTTP header cannot carry.
    #[error("the token has characters an HTTP header cannot carry")]
    Token,
    /// The system's root certificates could not be read.
    #[error("cannot read the system's root certificates")]
    Roots(#[source] std::io::Error),
}

/// The client for `api_url` with `token` (`Authorization: Bearer`, sent to that host only),
/// every call of it ending within `limit`.
pub(crate) fn client(
    api_url: &str,
    token: &SecretString,
    limit: Duration,
) -> Result<Octocrab, BuildError> {
    let base = api_url.parse::<Uri>().map_err(BuildError::Url)?;
    let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
        .map_err(|_| BuildError::Token)?;
    auth.set_sensitive(true);
    let user_agent = HeaderValue::from_static(concat!("hf-deploy/", env!("CARGO_PKG_VERSION")));
    let headers = Arc::new(vec![(http::header::USER_AGENT, user_agent)]);
    let built = OctocrabBuilder::new_empty()
        .with_service(hyper_client()?)
        .with_layer(&BoundedLayer { limit })
        .with_layer(&ExtraHeadersLayer::new(headers))
        .with_layer(&BaseUriLayer::new(base.clone()))
        // Uploads go to the API host too: no second host gets the token.
        .with_layer(&AuthHeaderLayer::new(Some(auth), base.clone(), base))
        .with_auth(AuthState::None)
        .build();
    match built {
        Ok(octocrab) => Ok(octocrab),
        Err(never) => match never {},
    }
}

/// hyper's client as octocrab's `build()` makes it: rustls (the process's crypto provider, else
/// ring) with the system's roots, HTTP/1.1, `http://` allowed (GHES, tests), a connect timeout.
fn hyper_client()
-> Result<Client<hyper_rustls::HttpsConnector<HttpConnector>, OctoBody>, BuildError> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(BuildError::Roots)?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// The layer of [`Bounded`].
struct BoundedLayer {
    limit: Duration,
}

impl<S> Layer<S> for BoundedLayer {
    type Service = Bounded<S>;

    fn layer(&self, inner: S) -> Bounded<S> {
        Bounded {
            inner,
            limit: self.limit,
        }
    }
}

/// A call that ends within `limit`, its answer read through a [`BoundedBody`].
pub(crate) struct Bounded<S> {
    inner: S,
    limit: Duration,
}

impl<S, Req, B> Service<Request<Req>> for Bounded<S>
where
    S: Service<Request<Req>, Response = Response<B>>,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Response = Response<BoundedBody<B>>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<Req>) -> Self::Future {
        let limit = self.limit;
        let deadline = Instant::now() + limit;
        let call = self.inner.call(request);
        Box::pin(async move {
            let response = match tokio::time::timeout_at(deadline, call).await {
                Ok(response) => response.map_err(Into::into)?,
                Err(_) => return Err(Box::new(Limit::Deadline(limit)) as BoxError),
            };
            let (cap, cut) = if response.status().is_success() {
                (JSON_CAP, false)
            } else {
                (ERROR_BODY_CAP, true)
            };
            Ok(response.map(|inner| BoundedBody {
                inner,
                left: cap,
                cap,
                cut,
                done: false,
                deadline: Box::pin(tokio::time::sleep_until(deadline)),
                limit,
            }))
        })
    }
}

/// A body read up to `cap` bytes before `deadline`: past the cap an error answer is cut (its
/// last frame marked `…`, the rest unread), any other fails with [`Limit::TooLarge`]; at the
/// deadline it fails with [`Limit::Deadline`].
pub(crate) struct BoundedBody<B> {
    inner: B,
    left: usize,
    cap: usize,
    cut: bool,
    done: bool,
    deadline: Pin<Box<Sleep>>,
    limit: Duration,
}

impl<B> Body for BoundedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.done = true;
            return Poll::Ready(Some(Err(Box::new(Limit::Deadline(this.limit)))));
        }
        let frame = match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error.into()))),
            Poll::Ready(Some(Ok(frame))) => frame,
        };
        let Some(data) = frame.data_ref() else {
            return Poll::Ready(Some(Ok(frame)));
        };
        if data.len() <= this.left {
            this.left -= data.len();
            return Poll::Ready(Some(Ok(frame)));
        }
        this.done = true;
        if !this.cut {
            return Poll::Ready(Some(Err(Box::new(Limit::TooLarge(this.cap)))));
        }
        let mut kept = BytesMut::from(&data[..this.left]);
        kept.extend_from_slice("…".as_bytes());
        Poll::Ready(Some(Ok(Frame::data(kept.freeze()))))
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        // What the server announces is not trusted; nothing is known in advance.
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests;
