//! Git LFS uploads through the Hub's batch API (`basic` and `multipart` transfers).
//!
//! Endpoint: `POST {remote}.git/info/lfs/objects/batch` (hub-api.md §7.3), HTTP Basic auth with
//! user `hf_user` and the token as password, as git-lfs sends it.

use std::collections::BTreeMap;
use std::io::{Seek, SeekFrom};

use base64::Engine as _;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, ETAG, HeaderMap, HeaderName, HeaderValue,
};
use serde::{Deserialize, Serialize};

use crate::content::{self, FileContent, STREAM_CHUNK};
use crate::error::{Error, HttpContext, Result};
use crate::field::Field;
use crate::secret::SecretString;
use crate::untrusted::RemoteText;
use crate::wait::{self, Idempotency, RetryPolicy};

/// Media type of every LFS API request and answer.
pub(crate) const LFS_MEDIA_TYPE: &str = "application/vnd.git-lfs+json";

/// Objects per batch request (git-lfs sends at most 100).
const BATCH_SIZE: usize = 100;

/// A file stored through LFS: its pointer goes into git, its bytes to LFS storage.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct LfsObject {
    /// Path in the Space.
    pub path: String,
    /// SHA-256 of the content, lowercase hex.
    pub oid: String,
    /// Content length in bytes.
    pub size: u64,
    /// The content: a source file is streamed from disk when uploaded, never held whole.
    pub content: FileContent,
}

impl std::fmt::Debug for LfsObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LfsObject")
            .field("path", &self.path)
            .field("oid", &self.oid)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl LfsObject {
    /// Hash in-memory `content` for `path`.
    #[cfg(test)]
    pub(crate) fn new(path: impl Into<String>, content: bytes::Bytes) -> Self {
        use sha2::Digest;
        let oid = hex::encode(sha2::Sha256::digest(&content));
        LfsObject {
            path: path.into(),
            oid,
            size: content.len() as u64,
            content: FileContent::Memory(content),
        }
    }

    /// Hash `content` for `path`, streaming a source file in 64 KiB reads.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the source file cannot be read or changed since the scaffold.
    pub(crate) fn hash(path: impl Into<String>, content: FileContent) -> Result<Self> {
        let (oid, size) = content.sha256()?;
        Ok(LfsObject {
            path: path.into(),
            oid,
            size,
            content,
        })
    }

    /// The request body for bytes `start..end` of the content: a slice when in memory, the
    /// source file streamed in [`STREAM_CHUNK`] reads otherwise (opened anew for each attempt,
    /// so that a retry sends the same bytes).
    fn body(&self, start: u64, end: u64) -> Result<reqwest::Body> {
        match &self.content {
            FileContent::Memory(bytes) => {
                // `start..end` lies within the content, whose length is `size`.
                Ok(reqwest::Body::from(
                    bytes.slice(start as usize..end as usize),
                ))
            }
            FileContent::Source { path, .. } => {
                let read = |e| Error::io("read", path, e);
                let mut file = std::fs::File::open(path).map_err(read)?;
                let found = file.metadata().map_err(read)?.len();
                content::check_size(path, self.size, found)?;
                file.seek(SeekFrom::Start(start)).map_err(read)?;
                let reader =
                    tokio::io::AsyncReadExt::take(tokio::fs::File::from_std(file), end - start);
                Ok(reqwest::Body::wrap_stream(
                    tokio_util::io::ReaderStream::with_capacity(reader, STREAM_CHUNK),
                ))
            }
        }
    }

    /// The pointer file committed in place of the content.
    pub(crate) fn pointer(&self) -> String {
        format!(
            "version https://git-lfs.github.com/spec/v1\noid sha256:{}\nsize {}\n",
            self.oid, self.size
        )
    }
}

/// The batch endpoint for a git remote URL: `{remote}.git/info/lfs/objects/batch`.
pub(crate) fn batch_url(remote_url: &str) -> String {
    let base = remote_url.trim_end_matches('/');
    let base = base.strip_suffix(".git").unwrap_or(base);
    format!("{base}.git/info/lfs/objects/batch")
}

/// Time limit of a whole Git LFS API call (batch, verify, multipart completion), its JSON
/// answer included; transfers have none but the client's limit on silence.
const API_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// `Basic base64(hf_user:token)`.
fn basic_auth(token: &SecretString) -> Result<HeaderValue> {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("hf_user:{}", token.expose()));
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).map_err(|_| {
        Error::invalid_input_hint(
            Field::Token,
            "the token holds characters that cannot go in an HTTP header",
            "copy the token again from https://huggingface.co/settings/tokens",
        )
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// The LFS transfers hf-deploy speaks (no `xet`: the Hub bridges Xet storage behind them).
const TRANSFERS: [&str; 2] = ["basic", "multipart"];

#[derive(Serialize)]
struct BatchRequest<'a> {
    operation: &'static str,
    transfers: [&'static str; 2],
    objects: Vec<BatchRequestObject<'a>>,
    hash_algo: &'static str,
    #[serde(rename = "ref")]
    reference: RefName,
}

#[derive(Serialize)]
struct BatchRequestObject<'a> {
    oid: &'a str,
    size: u64,
}

#[derive(Serialize)]
struct RefName {
    name: &'static str,
}

#[derive(Deserialize)]
struct BatchResponse {
    /// The transfer the server picked among those we listed; absent means `basic`.
    #[serde(default)]
    transfer: Option<String>,
    #[serde(default)]
    objects: Vec<BatchObject>,
}

#[derive(Deserialize)]
struct BatchObject {
    oid: String,
    #[serde(default)]
    actions: Option<Actions>,
    #[serde(default)]
    error: Option<ObjectError>,
}

#[derive(Deserialize)]
struct Actions {
    #[serde(default)]
    upload: Option<Action>,
    #[serde(default)]
    verify: Option<Action>,
}

#[derive(Deserialize)]
struct Action {
    href: String,
    #[serde(default)]
    header: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct ObjectError {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
}

#[derive(Serialize)]
struct Completion<'a> {
    oid: &'a str,
    parts: Vec<CompletedPart>,
}

#[derive(Serialize)]
struct CompletedPart {
    #[serde(rename = "partNumber")]
    part_number: usize,
    etag: String,
}

#[derive(Serialize)]
struct Verify<'a> {
    oid: &'a str,
    size: u64,
}

/// Upload `objects` that LFS storage does not have yet. Objects the batch answer lists without
/// `actions` are already stored and skipped.
pub(crate) async fn upload(
    client: &reqwest::Client,
    batch_url: &str,
    token: Option<&SecretString>,
    objects: &[LfsObject],
    retry: &RetryPolicy,
) -> Result<()> {
    let auth = token.map(basic_auth).transpose()?;
    for chunk in objects.chunks(BATCH_SIZE) {
        let body = BatchRequest {
            operation: "upload",
            transfers: TRANSFERS,
            objects: chunk
                .iter()
                .map(|o| BatchRequestObject {
                    oid: &o.oid,
                    size: o.size,
                })
                .collect(),
            hash_algo: "sha256",
            reference: RefName { name: "main" },
        };
        let action = format!("start the Git LFS upload of {}", describe(chunk));
        // `Content-Type` goes first: `.json` sets `application/json` only when none is set.
        let mut request = client
            .post(batch_url)
            .timeout(API_TIMEOUT)
            .header(ACCEPT, LFS_MEDIA_TYPE)
            .header(CONTENT_TYPE, LFS_MEDIA_TYPE)
            .json(&body);
        if let Some(auth) = &auth {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        let answer = batch_answer(request, batch_url, &action, retry).await?;
        if let Some(transfer) = answer
            .transfer
            .as_deref()
            .filter(|t| !TRANSFERS.contains(t))
        {
            return Err(Error::MalformedResponse {
                action,
                url: batch_url.to_string(),
                detail: RemoteText::unredacted(&format!(
                    "the Hub picked the `{transfer}` transfer, which hf-deploy does not speak (it offered {}); nothing was uploaded",
                    TRANSFERS.map(|t| format!("`{t}`")).join(" and ")
                )),
            });
        }
        for object in chunk {
            let Some(entry) = answer.objects.iter().find(|entry| entry.oid == object.oid) else {
                return Err(Error::MalformedResponse {
                    action,
                    url: batch_url.to_string(),
                    detail: RemoteText::unredacted(&format!(
                        "no entry for `{}` (oid {})",
                        object.path, object.oid
                    )),
                });
            };
            upload_one(client, batch_url, auth.as_ref(), object, entry, retry).await?;
        }
    }
    Ok(())
}

/// Send a batch request and read its answer, under `retry`: an answer cut while its body was
/// read (the connection reset) is asked for again like any transient failure, as the batch
/// request changes nothing on the server.
async fn batch_answer(
    request: reqwest::RequestBuilder,
    batch_url: &str,
    action: &str,
    retry: &RetryPolicy,
) -> Result<BatchResponse> {
    let mut cut = wait::Retries::new(*retry);
    loop {
        // A JSON body is in memory: a batch request can always be cloned.
        let this = request
            .try_clone()
            .ok_or_else(|| Error::MalformedResponse {
                action: action.to_string(),
                url: redact(batch_url),
                detail: RemoteText::unredacted("the request cannot be repeated"),
            })?;
        let response = send(this, "POST", batch_url, action, retry).await?;
        match read_json(response, batch_url, action).await {
            Err(Error::Request { .. }) if let Some(delay) = cut.next_delay() => {
                tracing::debug!(url = %redact(batch_url), "the Git LFS batch answer was cut; asking again");
                wait::sleep(delay).await;
            }
            answer => return answer,
        }
    }
}

fn describe(chunk: &[LfsObject]) -> String {
    match chunk {
        [one] => format!("`{}`", one.path),
        many => format!("{} files (`{}`, ...)", many.len(), many[0].path),
    }
}

async fn upload_one(
    client: &reqwest::Client,
    batch_url: &str,
    auth: Option<&HeaderValue>,
    object: &LfsObject,
    entry: &BatchObject,
    retry: &RetryPolicy,
) -> Result<()> {
    let path = &object.path;
    if let Some(error) = &entry.error {
        return Err(Error::Refused {
            action: format!("store `{path}` through Git LFS"),
            context: Box::new(HttpContext {
                method: "POST".into(),
                url: batch_url.to_string(),
                status: u16::try_from(error.code).unwrap_or(0),
                request_id: None,
                error_code: None,
                server_message: Some(RemoteText::unredacted(&error.message)),
            }),
        });
    }
    let Some(actions) = &entry.actions else {
        return Ok(());
    };
    if let Some(upload) = &actions.upload {
        if let Some(chunk_size) = upload.header.get("chunk_size") {
            upload_multipart(client, object, upload, chunk_size, retry).await?;
        } else {
            let action = format!("upload `{path}` to Git LFS storage");
            let headers = action_headers(&upload.header, &upload.href, &action)?;
            let make = || {
                Ok(client
                    .put(&upload.href)
                    .headers(headers.clone())
                    .header(CONTENT_LENGTH, object.size)
                    .body(object.body(0, object.size)?))
            };
            send_each(make, "PUT", &upload.href, &action, retry).await?;
        }
    }
    if let Some(verify) = &actions.verify {
        let action = format!("verify the Git LFS upload of `{path}`");
        let mut request = client
            .post(&verify.href)
            .timeout(API_TIMEOUT)
            .headers(action_headers(&verify.header, &verify.href, &action)?)
            .header(ACCEPT, LFS_MEDIA_TYPE)
            .header(CONTENT_TYPE, LFS_MEDIA_TYPE)
            .json(&Verify {
                oid: &object.oid,
                size: object.size,
            });
        // The token goes to the Hub's own host only: a `verify` address elsewhere gets the
        // headers the batch answer gave for it, and nothing else.
        if let Some(auth) = auth.filter(|_| crate::http::same_origin_str(batch_url, &verify.href)) {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        send(request, "POST", &verify.href, &action, retry).await?;
    }
    Ok(())
}

async fn upload_multipart(
    client: &reqwest::Client,
    object: &LfsObject,
    upload: &Action,
    chunk_size: &str,
    retry: &RetryPolicy,
) -> Result<()> {
    let action = format!("upload `{}` to Git LFS storage in parts", object.path);
    let malformed = |detail: String| Error::MalformedResponse {
        action: action.clone(),
        url: redact(&upload.href),
        detail: RemoteText::unredacted(&detail),
    };
    let chunk_size: u64 = chunk_size
        .parse()
        .ok()
        .filter(|size| *size > 0)
        .ok_or_else(|| {
            malformed(format!(
                "`chunk_size` is `{chunk_size}`, not a positive number"
            ))
        })?;
    let mut parts: Vec<(usize, &String)> = upload
        .header
        .iter()
        .filter_map(|(key, url)| {
            (!key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()))
                .then(|| key.parse::<usize>().ok().map(|n| (n, url)))
                .flatten()
        })
        .collect();
    parts.sort_by_key(|(number, _)| *number);
    let expected = object.size.div_ceil(chunk_size);
    if parts.len() as u64 != expected || parts.iter().enumerate().any(|(i, (n, _))| *n != i + 1) {
        return Err(malformed(format!(
            "{} part URLs for {} bytes in chunks of {chunk_size} (expected {expected}, numbered from 1)",
            parts.len(),
            object.size
        )));
    }
    let mut completed = Vec::with_capacity(parts.len());
    for (number, url) in parts {
        let start = (number as u64 - 1) * chunk_size;
        let end = (start + chunk_size).min(object.size);
        let part_action = format!("{action} (part {number})");
        let make = || {
            Ok(client
                .put(url.as_str())
                .header(CONTENT_LENGTH, end - start)
                .body(object.body(start, end)?))
        };
        let response = send_each(make, "PUT", url, &part_action, retry).await?;
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| {
                malformed(format!("part {number} was stored without an `ETag` header"))
            })?;
        completed.push(CompletedPart {
            part_number: number,
            etag,
        });
    }
    let request = client
        .post(&upload.href)
        .timeout(API_TIMEOUT)
        .header(ACCEPT, LFS_MEDIA_TYPE)
        .header(CONTENT_TYPE, LFS_MEDIA_TYPE)
        .json(&Completion {
            oid: &object.oid,
            parts: completed,
        });
    send(
        request,
        "POST",
        &upload.href,
        &format!("complete the multipart upload of `{}`", object.path),
        retry,
    )
    .await?;
    Ok(())
}

/// The headers an LFS action tells us to send (minus the multipart bookkeeping keys).
fn action_headers(
    header: &BTreeMap<String, String>,
    href: &str,
    action: &str,
) -> Result<HeaderMap> {
    let mut map = HeaderMap::new();
    for (key, value) in header {
        if key == "chunk_size" || key.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let (Ok(name), Ok(mut value)) = (
            HeaderName::try_from(key.as_str()),
            HeaderValue::from_str(value),
        ) else {
            return Err(Error::MalformedResponse {
                action: action.to_string(),
                url: redact(href),
                detail: RemoteText::unredacted(&format!("header `{key}` cannot be sent")),
            });
        };
        value.set_sensitive(true);
        map.insert(name, value);
    }
    Ok(map)
}

/// A URL fit for messages: no user info, no query (pre-signed storage URLs carry signatures).
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or_default().to_string(),
    }
}

/// Send `request` under `retry`: uploads are idempotent (content-addressed), so transient
/// failures (408, 429, 5xx, no connection, no answer in time, a connection reset) are sent again, honouring the
/// wait the server asks for.
async fn send(
    request: reqwest::RequestBuilder,
    method: &str,
    url: &str,
    action: &str,
    retry: &RetryPolicy,
) -> Result<reqwest::Response> {
    // Bodies here are in memory, so the request can always be cloned for another attempt; one
    // that cannot be is sent once.
    if request.try_clone().is_none() {
        return finish(request.send().await, method, url, action, 1).await;
    }
    let make = || {
        request.try_clone().ok_or_else(|| Error::MalformedResponse {
            action: action.to_string(),
            url: redact(url),
            detail: RemoteText::unredacted("the request cannot be repeated"),
        })
    };
    send_each(make, method, url, action, retry).await
}

/// [`send`] for a request built anew by `make` for each attempt (a streamed body cannot be
/// cloned: each attempt opens the file again).
async fn send_each(
    make: impl Fn() -> Result<reqwest::RequestBuilder>,
    method: &str,
    url: &str,
    action: &str,
    retry: &RetryPolicy,
) -> Result<reqwest::Response> {
    let (result, attempts) = wait::run(
        retry,
        Idempotency::Idempotent,
        |attempt| {
            let this = make();
            if attempt > 1 {
                tracing::debug!(attempt, url = %redact(url), "retrying Git LFS request");
            }
            async move {
                match this {
                    Ok(this) => this.send().await.map_err(Ok),
                    Err(local) => Err(Err(local)),
                }
            }
        },
        |result| match result {
            Ok(response) if wait::is_transient_status(response.status().as_u16()) => {
                wait::Outcome::Transient {
                    status: response.status().as_u16(),
                    server_wait: wait::server_wait(response.headers()),
                }
            }
            Err(Ok(error)) if error.is_connect() => wait::Outcome::Transport { connect: true },
            // Content-addressed, so safe to send again whatever became of the first one: no
            // answer in time, or a connection reset before or during the answer.
            Err(Ok(_)) => wait::Outcome::Transport { connect: false },
            _ => wait::Outcome::Final,
        },
    )
    .await;
    let result = match result {
        Ok(response) => Ok(response),
        Err(Ok(error)) => Err(error),
        // The request could not be built (the source file is gone or changed): nothing was sent.
        Err(Err(local)) => return Err(local),
    };
    finish(result, method, url, action, attempts).await
}

async fn finish(
    result: reqwest::Result<reqwest::Response>,
    method: &str,
    url: &str,
    action: &str,
    attempts: u32,
) -> Result<reqwest::Response> {
    let response = result.map_err(|source| Error::Request {
        action: action.to_string(),
        url: redact(url),
        source: source.without_url(),
    })?;
    if response.status().is_success() {
        return Ok(response);
    }
    Err(status_error(response, method, url, action, attempts).await)
}

async fn status_error(
    response: reqwest::Response,
    method: &str,
    url: &str,
    action: &str,
    attempts: u32,
) -> Error {
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let request_id = header("x-request-id").or_else(|| header("x-amzn-trace-id"));
    let error_code = header("x-error-code");
    let header_message = header("x-error-message");
    let body = crate::http::error_text(response).await;
    let body_message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .or_else(|| v.get("error"))
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .or_else(|| (!body.trim().is_empty()).then(|| body.trim().chars().take(500).collect()));
    let remote = |text: String| RemoteText::unredacted(&text);
    let context = Box::new(HttpContext {
        method: method.to_string(),
        url: redact(url),
        status,
        request_id: request_id.map(remote),
        error_code: error_code.map(remote),
        server_message: header_message.or(body_message).map(remote),
    });
    let action = action.to_string();
    match status {
        401 => Error::InvalidToken { action, context },
        403 => Error::ReadOnlyToken { action, context },
        404 => Error::NotFound {
            what: format!("the Git LFS endpoint `{}`", redact(url)),
            context,
        },
        429 => Error::RateLimited {
            action,
            retry_after: None,
            reset_at: None,
            context,
        },
        500..=599 => Error::Server {
            action,
            attempts,
            context,
        },
        _ => Error::Refused { action, context },
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
    url: &str,
    action: &str,
) -> Result<T> {
    let text = crate::http::read_whole(response, crate::http::JSON_CAP)
        .await
        .map_err(|error| error.into_error(action, redact(url)))?;
    serde_json::from_slice(&text).map_err(|e| Error::MalformedResponse {
        action: action.to_string(),
        url: redact(url),
        detail: RemoteText::unredacted(&format!("not a Git LFS batch answer ({e})")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_has_the_spec_format() {
        let object = LfsObject::new("a.bin", bytes::Bytes::from_static(b"hello"));
        assert_eq!(
            object.oid,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(
            object.pointer(),
            "version https://git-lfs.github.com/spec/v1\noid sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\nsize 5\n"
        );
        assert!(!format!("{object:?}").contains("hello"));
    }

    #[test]
    fn batch_url_appends_dot_git_once() {
        assert_eq!(
            batch_url("https://hf.co/spaces/a/b"),
            "https://hf.co/spaces/a/b.git/info/lfs/objects/batch"
        );
        assert_eq!(
            batch_url("https://hf.co/spaces/a/b.git/"),
            "https://hf.co/spaces/a/b.git/info/lfs/objects/batch"
        );
    }

    #[test]
    fn redact_drops_credentials_and_signatures() {
        assert_eq!(
            redact("https://user:pw@s3.example/bucket/obj?X-Amz-Signature=abc"),
            "https://s3.example/bucket/obj"
        );
    }
}
