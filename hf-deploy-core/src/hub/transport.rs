//! How a call goes to the Hub: one [`Call`] value per request, sent with retries through
//! [`wait::run_observed`] (transient statuses, resets, a create-side conflict in progress, the
//! waits the Hub asks for), the token in a sensitive header; an error status read up to 64 KiB
//! and turned into an [`Error`] by `errors`; a JSON answer read up to 16 MiB (`crate::http`).

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::client::HubClient;
use super::errors::{is_conflicting_operation, map_http_error};
use crate::error::{Error, Result};
use crate::http;
use crate::secret::SecretString;
use crate::space::SpaceId;
use crate::untrusted::RemoteText;
use crate::wait::{self, Idempotency, Outcome};

/// What one call is, for sending, retrying and naming it in errors.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) method: Method,
    /// Path under the endpoint, e.g. `/api/spaces/ns/name/runtime`.
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, &'static str)>,
    pub(crate) body: Option<Value>,
    /// What we were doing, for messages: "read the runtime of Space `ns/name`".
    pub(crate) action: String,
    /// What a 404 means: "Space `ns/name`".
    pub(crate) what: String,
    pub(crate) kind: CallKind,
    pub(crate) idempotency: Idempotency,
}

/// How a status is read depends on the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallKind {
    /// `GET /api/whoami-v2`: every 401 is the token.
    WhoAmI,
    /// A read.
    Read,
    /// A change: a 403 may mean a read-only token.
    Write,
}

/// A non-2xx answer, its body read up to [`http::ERROR_BODY_CAP`].
#[derive(Debug, Clone)]
pub(crate) struct Failed {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

/// What one attempt ended with.
pub(super) enum Attempt {
    Success(Response),
    Failed(Failed),
    Transport(reqwest::Error),
}

/// What [`HubClient::send`] ended with when no transport error is left.
pub(super) enum Answer {
    Success(Response),
    Failed { failed: Failed, attempts: u32 },
}

impl HubClient {
    pub(super) fn space_call(
        &self,
        method: Method,
        path: String,
        space: &SpaceId,
        action: String,
    ) -> Call {
        let kind = if method == Method::GET {
            CallKind::Read
        } else {
            CallKind::Write
        };
        Call {
            method,
            path,
            query: Vec::new(),
            body: None,
            action,
            what: format!("Space `{space}`"),
            kind,
            idempotency: Idempotency::Idempotent,
        }
    }

    /// The URL of a call as errors show it: the endpoint (validated without credentials) and
    /// the path, without the query.
    pub(super) fn url(&self, call: &Call) -> String {
        format!("{}{}", self.inner.endpoint, call.path)
    }

    /// Send with retries. Transport errors that outlive the retries become [`Error::Request`];
    /// error statuses are returned for the caller to read.
    pub(super) async fn send(&self, call: &Call) -> Result<Answer> {
        let url = self.url(call);
        // Asked once per call: a keyless token is renewed here, before it expires.
        let token = self.current_token().await?;
        let (attempt, attempts) = wait::run_observed(
            &self.policy(),
            call.idempotency,
            |_| self.attempt(call, &url, token.as_ref()),
            |attempt| match attempt {
                Attempt::Success(_) => Outcome::Final,
                // A refused redirect is refused again: no second try.
                Attempt::Transport(error) if error.is_redirect() => Outcome::Final,
                Attempt::Transport(error) => Outcome::Transport {
                    connect: error.is_connect(),
                },
                Attempt::Failed(failed) if wait::is_transient_status(failed.status) => {
                    Outcome::Transient {
                        status: failed.status,
                        server_wait: wait::server_wait(&failed.headers),
                    }
                }
                Attempt::Failed(failed)
                    if failed.status == 409 && is_conflicting_operation(&failed.body) =>
                {
                    Outcome::Transient {
                        status: 409,
                        server_wait: None,
                    }
                }
                Attempt::Failed(_) => Outcome::Final,
            },
            |wait| self.tell_wait(&call.action, wait),
        )
        .await;
        match attempt {
            Attempt::Success(response) => Ok(Answer::Success(response)),
            Attempt::Failed(failed) => Ok(Answer::Failed { failed, attempts }),
            Attempt::Transport(source) => {
                tracing::debug!(attempts, url = %url, "Hub request failed without an answer");
                Err(Error::Request {
                    action: call.action.clone(),
                    url,
                    source: source.without_url(),
                })
            }
        }
    }

    pub(super) async fn attempt(
        &self,
        call: &Call,
        url: &str,
        token: Option<&SecretString>,
    ) -> Attempt {
        let mut request = self.inner.http.request(call.method.clone(), url);
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if let Some(token) = token {
            // Checked in `build`: the token is visible ASCII, so the header is valid.
            if let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {}", token.expose())) {
                value.set_sensitive(true);
                request = request.header(AUTHORIZATION, value);
            }
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let streaming = call.path.contains("/logs/");
        if !streaming {
            request = request.timeout(self.inner.timeout);
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => Attempt::Success(response),
            Ok(response) => {
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let body = http::error_text(response).await;
                Attempt::Failed(Failed {
                    status,
                    headers,
                    body,
                })
            }
            Err(error) => Attempt::Transport(error),
        }
    }

    pub(super) async fn execute(&self, call: &Call) -> Result<Response> {
        match self.send(call).await? {
            Answer::Success(response) => Ok(response),
            Answer::Failed { failed, attempts } => {
                Err(self.http_error(call, &failed, attempts).await)
            }
        }
    }

    pub(super) async fn execute_json<T: DeserializeOwned>(&self, call: &Call) -> Result<T> {
        let response = self.execute(call).await?;
        self.json(call, response).await
    }

    pub(super) async fn json<T: DeserializeOwned>(
        &self,
        call: &Call,
        response: Response,
    ) -> Result<T> {
        let url = self.url(call);
        let bytes = http::read_whole(response, http::JSON_CAP)
            .await
            .map_err(|error| error.into_error(&call.action, url.clone()))?;
        serde_json::from_slice(&bytes).map_err(|error| Error::MalformedResponse {
            action: call.action.clone(),
            url,
            detail: RemoteText::new(&format!("the JSON does not fit ({error})"), &self.redactor),
        })
    }

    /// [`map_http_error`], with the token's role when a write was forbidden.
    pub(super) async fn http_error(&self, call: &Call, failed: &Failed, attempts: u32) -> Error {
        let role = if failed.status == 403 && call.kind == CallKind::Write {
            self.inner
                .whoami
                .get_or_try_init(|| self.load_whoami())
                .await
                .ok()
                .and_then(|me| me.token_role().map(str::to_string))
        } else {
            None
        };
        map_http_error(
            call,
            &self.url(call),
            failed,
            attempts,
            role.as_deref(),
            &self.redactor,
        )
    }
}
