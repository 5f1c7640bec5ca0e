//! What every HTTP client of the library holds to: a cap on each body it reads (read in chunks,
//! the rest left unread), and no redirect off the host a credential was given for.
//!
//! A body's deadline is its client's: the Hub's calls and the health check have a time limit
//! for the whole request, body included; streams (logs, git, LFS transfers) a limit on each
//! silence. The caps here bound the memory an endless or huge answer can take.

use std::fmt;

use reqwest::redirect::{Attempt, Policy};
use reqwest::{Response, Url};

use crate::error::Error;
use crate::untrusted::RemoteText;

/// Most bytes of an error answer kept (the message a status carries): 64 KiB. A front end's
/// own clients (the binary's GitHub API client) hold to it too.
pub const ERROR_BODY_CAP: usize = 64 * 1024;
/// Most bytes of a JSON answer of an API (the Hub's, LFS batch, token exchange): 16 MiB. A
/// front end's own clients (the binary's GitHub API client) hold to it too.
pub const JSON_CAP: usize = 16 * 1024 * 1024;
/// Most bytes of an app's health answer: 256 KiB.
pub(crate) const HEALTH_CAP: usize = 256 * 1024;
/// Most redirects followed on the same host.
const MAX_REDIRECTS: usize = 10;

/// A body read up to a cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Capped {
    /// The bytes read, at most the cap.
    pub(crate) bytes: Vec<u8>,
    /// True when the body went on past the cap (the rest was not read).
    pub(crate) cut: bool,
}

impl Capped {
    /// The bytes as text (invalid UTF-8 replaced), `…` marking a cut.
    pub(crate) fn text(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.bytes).into_owned();
        if self.cut {
            text.push('…');
        }
        text
    }
}

/// Read `response`'s body in chunks, at most `cap` bytes; what comes after is never read (the
/// connection is dropped with the response). A `Content-Length` is not trusted for anything.
pub(crate) async fn read_capped(
    mut response: Response,
    cap: usize,
) -> Result<Capped, reqwest::Error> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = cap.saturating_sub(bytes.len());
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            return Ok(Capped { bytes, cut: true });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Capped { bytes, cut: false })
}

/// The text of an error answer, at most [`ERROR_BODY_CAP`] bytes; what could be read when the
/// connection fails midway (an error answer is read for its message, never for data).
pub(crate) async fn error_text(response: Response) -> String {
    read_capped(response, ERROR_BODY_CAP)
        .await
        .map(|body| body.text())
        .unwrap_or_default()
}

/// Why a JSON body was not read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The connection failed or timed out while reading.
    Transport(reqwest::Error),
    /// The body went on past the cap (in bytes).
    TooLarge(usize),
}

impl BodyError {
    /// The words of a body that went on past `cap`.
    pub(crate) fn too_large(cap: usize) -> String {
        format!(
            "the answer is larger than {} KiB, more than hf-deploy reads",
            cap / 1024
        )
    }

    /// The error of `action` on `url` (shown as given: redacted by the caller): a transport
    /// failure as [`Error::Request`], a body past its cap as [`Error::MalformedResponse`].
    pub(crate) fn into_error(self, action: &str, url: String) -> Error {
        match self {
            BodyError::Transport(source) => Error::Request {
                action: action.to_string(),
                url,
                source: source.without_url(),
            },
            BodyError::TooLarge(cap) => Error::MalformedResponse {
                action: action.to_string(),
                url,
                detail: RemoteText::unredacted(&BodyError::too_large(cap)),
            },
        }
    }
}

/// The whole body of an answer that must be complete (a JSON document), at most `cap` bytes.
pub(crate) async fn read_whole(response: Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    let body = read_capped(response, cap)
        .await
        .map_err(BodyError::Transport)?;
    if body.cut {
        return Err(BodyError::TooLarge(cap));
    }
    Ok(body.bytes)
}

/// The redirect policy of a client that sends a credential: redirects are followed on the
/// host (scheme, host and port) of the first request only; one to any other host fails the
/// request, so no header, token or body goes there. reqwest's default policy would follow it
/// (dropping `Authorization` and cookies, but not a credential in another header).
pub(crate) fn same_host_redirects() -> Policy {
    Policy::custom(|attempt: Attempt<'_>| {
        let Some(first) = attempt.previous().first() else {
            return attempt.follow();
        };
        if !same_origin(first, attempt.url()) {
            return attempt.error(Refused::OffHost);
        }
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(Refused::TooMany);
        }
        attempt.follow()
    })
}

/// Scheme, host and port all equal (a port left out counts as the scheme's default).
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// [`same_origin`] for two URLs as text; false when either does not parse.
pub(crate) fn same_origin_str(a: &str, b: &str) -> bool {
    match (Url::parse(a), Url::parse(b)) {
        (Ok(a), Ok(b)) => same_origin(&a, &b),
        _ => false,
    }
}

/// A redirect the policy refused (the source of a request's error).
#[derive(Debug)]
enum Refused {
    OffHost,
    TooMany,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::OffHost => f.write_str(
                "the server redirected to another host; hf-deploy does not follow it, as the \
                 request carries a credential meant for this host only",
            ),
            Refused::TooMany => write!(f, "more than {MAX_REDIRECTS} redirects"),
        }
    }
}

impl std::error::Error for Refused {}

#[cfg(test)]
mod tests;
