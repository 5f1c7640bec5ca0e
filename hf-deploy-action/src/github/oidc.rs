//! Keyless deploys (Trusted Publishers): with an empty `hf-token`, fetch the job's OIDC token
//! (audience `https://huggingface.co`) from the runner and exchange it at the Hub for a token
//! scoped to the Space (hub-2026.md §2). Each refusal says what to change.

use std::time::Duration;

use hf_deploy_core::hub::oauth::{self, HUB_AUDIENCE, ScopedToken};
use hf_deploy_core::{Error, Field, SecretString, SpaceId};

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

/// The job's OIDC token for the Hub's audience, then the exchange. The caller masks the
/// returned token before printing anything.
pub(crate) async fn scoped_token(
    vars: &[(String, String)],
    endpoint: &str,
    space: &SpaceId,
) -> Result<ScopedToken, Error> {
    let request_url = var(vars, REQUEST_URL).unwrap_or_default();
    let request_token = SecretString::new(var(vars, REQUEST_TOKEN).unwrap_or_default().to_string());
    // The runner's request token, and the job token in the answer, are secrets of the run.
    crate::guard::learn_secrets([&request_token]);
    let user_agent = concat!("hf-deploy/", env!("CARGO_PKG_VERSION"));
    let job_token = oauth::fetch_job_token(
        request_url,
        &request_token,
        HUB_AUDIENCE,
        user_agent,
        crate::env::http_timeout_or(Duration::from_secs(30)),
        &crate::guard::redactor(),
    )
    .await?;
    crate::guard::learn_secrets([&job_token]);
    oauth::exchange_job_token(endpoint, &job_token, space, user_agent).await
}
