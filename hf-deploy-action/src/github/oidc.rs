//! Keyless deploys (Trusted Publishers): with an empty `hf-token`, fetch the job's OIDC token
//! (audience `https://huggingface.co`) from the runner and exchange it at the Hub for a token
//! scoped to the Space (hub-2026.md §2). Each refusal says what to change.

use std::time::Duration;

use hf_deploy_core::hub::oauth::{self, HUB_AUDIENCE, ScopedToken};
use hf_deploy_core::{Error, Field, HttpContext, RemoteText, SecretString, SpaceId};
use serde::Deserialize;

const REQUEST_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
const REQUEST_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";

fn var<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
    vars.iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// The Hub the action talks to: the `hf-endpoint` input, else `HF_ENDPOINT`, else the Hub.
pub(crate) fn endpoint(vars: &[(String, String)]) -> String {
    match var(vars, "INPUT_HF-ENDPOINT").or_else(|| var(vars, "INPUT_HF_ENDPOINT")) {
        Some(endpoint) => endpoint.trim_end_matches('/').to_string(),
        None => crate::env::endpoint(),
    }
}

/// Bad input of a keyless run, found before anything is sent: no OIDC token for the job (and
/// no `hf-token`), or a preview (a scoped token cannot create the preview Space).
pub(crate) fn check(vars: &[(String, String)], preview: bool) -> Result<(), Error> {
    if var(vars, REQUEST_URL).is_none() || var(vars, REQUEST_TOKEN).is_none() {
        return Err(Error::invalid_input_hint(
            Field::Other("hf-token"),
            "is empty, and the job has no OIDC token either (`ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN` are not set)",
            "pick one of the two ways: pass a token, `hf-token: ${{ secrets.HF_TOKEN }}`; or deploy keyless: give the job `permissions: id-token: write` and add this workflow as a Trusted Publisher in the Space's Settings (pull requests from forks get neither)",
        ));
    }
    if preview {
        return Err(Error::invalid_input_hint(
            Field::Other("preview"),
            "needs a personal token: a keyless (Trusted Publisher) token is scoped to one existing Space and cannot create the preview Space",
            "pass `hf-token: ${{ secrets.HF_TOKEN }}` for preview runs, or set `preview: false`",
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
struct JobToken {
    value: String,
}

/// The job's OIDC token for the Hub's audience, then the exchange. The caller masks the
/// returned token before printing anything.
pub(crate) async fn scoped_token(
    vars: &[(String, String)],
    endpoint: &str,
    space: &SpaceId,
) -> Result<ScopedToken, Error> {
    let request_url = var(vars, REQUEST_URL).unwrap_or_default();
    let request_token = var(vars, REQUEST_TOKEN).unwrap_or_default();
    let separator = if request_url.contains('?') { '&' } else { '?' };
    let url = format!(
        "{request_url}{separator}audience={}",
        url::form_urlencoded::byte_serialize(HUB_AUDIENCE.as_bytes()).collect::<String>()
    );
    // Shown in errors without its query (the runner's URL carries no secret, but stay terse).
    let shown = request_url
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    let action = "fetch the job's OIDC token from the runner".to_string();
    let user_agent = concat!("hf-deploy/", env!("CARGO_PKG_VERSION"));
    // The request token goes to the runner's endpoint only: no redirect is followed.
    let http = reqwest::Client::builder()
        .user_agent(user_agent)
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|source| Error::Request {
            action: action.clone(),
            url: shown.clone(),
            source: source.without_url(),
        })?;
    let response = http
        .get(&url)
        .header(
            reqwest::header::AUTHORIZATION,
            format!("bearer {request_token}"),
        )
        .send()
        .await
        .map_err(|source| Error::Request {
            action: action.clone(),
            url: shown.clone(),
            source: source.without_url(),
        })?;
    let status = response.status().as_u16();
    let text = capped_text(response).await;
    // The runner's request token, and the job token in the answer, are secrets of the run.
    crate::guard::learn_secrets([&SecretString::new(request_token)]);
    let redactor = crate::guard::redactor();
    if !(200..300).contains(&status) {
        return Err(Error::Refused {
            action,
            context: Box::new(HttpContext {
                method: "GET".into(),
                url: shown,
                status,
                request_id: None,
                error_code: None,
                server_message: Some(RemoteText::with_max_bytes(&text, &redactor, 300)),
            }),
        });
    }
    let job_token = serde_json::from_str::<JobToken>(&text)
        .map(|answer| SecretString::new(answer.value))
        .map_err(|e| Error::MalformedResponse {
            action,
            url: shown,
            detail: RemoteText::new(&format!("no `value` in the answer ({e})"), &redactor),
        })?;
    crate::guard::learn_secrets([&job_token]);
    oauth::exchange_job_token(endpoint, &job_token, space, user_agent).await
}

/// Most bytes of the runner's answer read: a job token is a few KiB.
const ANSWER_CAP: usize = 64 * 1024;

/// The answer's text, at most [`ANSWER_CAP`] bytes (an endless answer is cut, the rest unread;
/// a cut token does not parse and fails the run with a clear error).
async fn capped_text(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = ANSWER_CAP - bytes.len();
        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if bytes.len() == ANSWER_CAP {
            break;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
