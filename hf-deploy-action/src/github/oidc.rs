//! Keyless deploys (Trusted Publishers): the job's OIDC token (audience
//! `https://huggingface.co`) exchanged at the Hub for a token scoped to the Space
//! (hub-2026.md §2), renewed before it expires with a fresh OIDC token (§9), as the `hf` CLI
//! does. This module reads the variables and decides; the core exchanges and renews
//! ([`KeylessToken`](hf_deploy_core::hub::KeylessToken)) with the ID tokens of
//! [`JobIdTokens`]. Each refusal says what to change.
//!
//! The variables, as the `hf` CLI reads them (huggingface_hub `utils/_auth.py`):
//! - `HF_OIDC_RESOURCE` turns the exchange on, over an `hf-token`. UNCONFIRMED: its value is
//!   taken to be the exchange's `resource` (`spaces/NS/NAME`); it must name the Space deployed.
//! - `HF_OIDC_ID_TOKEN`: an ID token minted beforehand, used as is (no request to the runner);
//!   it cannot be minted again, so the exchanged token is not renewed.
//! - Otherwise the runner's `ACTIONS_ID_TOKEN_REQUEST_URL` / `ACTIONS_ID_TOKEN_REQUEST_TOKEN`
//!   (`permissions: id-token: write`) mint a fresh ID token for each exchange.

use std::time::Duration;

use hf_deploy_core::hub::oauth;
use hf_deploy_core::hub::{IdTokenFuture, IdTokenSource};
use hf_deploy_core::{Error, Field, SecretString, SpaceId};

use super::commands as gha;

const REQUEST_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
const REQUEST_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
const ID_TOKEN: &str = "HF_OIDC_ID_TOKEN";
const RESOURCE: &str = "HF_OIDC_RESOURCE";
const USER_AGENT: &str = concat!("hf-deploy/", env!("CARGO_PKG_VERSION"));

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

/// How this run authenticates at the Hub.
pub(crate) enum Auth {
    /// The `hf-token` input.
    Token(SecretString),
    /// Keyless: Space-scoped tokens exchanged for these ID tokens.
    Keyless(JobIdTokens),
}

/// Where a keyless run's ID tokens come from.
pub(crate) enum JobIdTokens {
    /// The runner's endpoint: a fresh token for each exchange.
    Runner {
        url: String,
        request_token: SecretString,
    },
    /// `HF_OIDC_ID_TOKEN`, used as is.
    Given(SecretString),
}

/// Mask `token` for the runner and add it to the run's redactor, before it is used.
fn learn(token: &SecretString) {
    let _ = gha::emit(&mut std::io::stdout().lock(), &gha::mask(token.expose()));
    crate::guard::learn_secrets([token]);
}

impl IdTokenSource for JobIdTokens {
    fn id_token(&self) -> IdTokenFuture<'_> {
        Box::pin(async move {
            match self {
                JobIdTokens::Runner { url, request_token } => {
                    let timeout = crate::env::http_timeout_or(Duration::from_secs(30));
                    let token =
                        oauth::fetch_id_token(url, request_token, USER_AGENT, timeout).await?;
                    learn(&token);
                    Ok(token)
                }
                JobIdTokens::Given(token) => Ok(token.clone()),
            }
        })
    }

    fn renews(&self) -> bool {
        matches!(self, JobIdTokens::Runner { .. })
    }

    fn learn(&self, token: &SecretString) {
        learn(token);
    }
}

/// Bad input of a keyless run, found before anything is sent: `HF_OIDC_RESOURCE` naming
/// another resource, no ID token for the job (and no `hf-token`), or a preview (a scoped token
/// cannot create the preview Space). A given ID token and the runner's request token are
/// masked and redacted here, before anything else is printed.
pub(crate) fn auth(
    vars: &[(String, String)],
    hf_token: &SecretString,
    preview: bool,
    space: &SpaceId,
) -> Result<Auth, Error> {
    let resource = var(vars, RESOURCE);
    if let Some(resource) = resource {
        check_resource(resource, space)?;
    } else if !hf_token.expose().is_empty() {
        return Ok(Auth::Token(hf_token.clone()));
    }
    let ids = match (
        var(vars, ID_TOKEN),
        var(vars, REQUEST_URL),
        var(vars, REQUEST_TOKEN),
    ) {
        (Some(given), _, _) => {
            let given = SecretString::new(given);
            learn(&given);
            JobIdTokens::Given(given)
        }
        (None, Some(url), Some(request_token)) => {
            let request_token = SecretString::new(request_token);
            crate::guard::learn_secrets([&request_token]);
            JobIdTokens::Runner {
                url: url.to_string(),
                request_token,
            }
        }
        _ if resource.is_some() => {
            return Err(Error::invalid_input_hint(
                Field::Other(RESOURCE),
                "is set, so this run deploys keyless, but the job has no OIDC token (`ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN` are not set, nor `HF_OIDC_ID_TOKEN`)",
                "give the job `permissions: id-token: write`, or unset `HF_OIDC_RESOURCE` to deploy with `hf-token`",
            ));
        }
        _ => {
            return Err(Error::invalid_input_hint(
                Field::Other("hf-token"),
                "is empty, and the job has no OIDC token either (`ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN` are not set)",
                "pick one of the two ways: pass a token, `hf-token: ${{ secrets.HF_TOKEN }}`; or deploy keyless: give the job `permissions: id-token: write` and add this workflow as a Trusted Publisher in the Space's Settings (pull requests from forks get neither)",
            ));
        }
    };
    if preview {
        return Err(Error::invalid_input_hint(
            Field::Other("preview"),
            "needs a personal token: a keyless (Trusted Publisher) token is scoped to one existing Space and cannot create the preview Space",
            "pass `hf-token: ${{ secrets.HF_TOKEN }}` for preview runs (and no `HF_OIDC_RESOURCE`), or set `preview: false`",
        ));
    }
    Ok(Auth::Keyless(ids))
}

/// `HF_OIDC_RESOURCE` must be the resource of the Space deployed, `spaces/NS/NAME`: a token
/// scoped to anything else could not push it.
fn check_resource(resource: &str, space: &SpaceId) -> Result<(), Error> {
    let expected = format!("spaces/{space}");
    if resource.eq_ignore_ascii_case(&expected) {
        return Ok(());
    }
    Err(Error::invalid_input_hint(
        Field::Other(RESOURCE),
        format!(
            "names `{resource}`, but this run deploys Space `{space}`: a token scoped to another resource cannot push it"
        ),
        format!("set `HF_OIDC_RESOURCE: {expected}`, or unset it"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    fn space() -> SpaceId {
        SpaceId::parse("alice/app", Field::Space).expect("space")
    }

    #[test]
    fn the_resource_turns_the_exchange_on_over_a_token() {
        let token = SecretString::new("hf_personal");
        let runner = [(REQUEST_URL, "http://runner/x?a=1"), (REQUEST_TOKEN, "rt")];
        let plain = auth(&vars(&runner), &token, false, &space()).expect("token");
        assert!(matches!(plain, Auth::Token(_)));
        let mut with = runner.to_vec();
        with.push((RESOURCE, "spaces/Alice/App"));
        let keyless = auth(&vars(&with), &token, false, &space()).expect("keyless");
        assert!(matches!(keyless, Auth::Keyless(JobIdTokens::Runner { .. })));
        with.push((RESOURCE, "spaces/alice/other"));
        with.swap_remove(2);
        let error = auth(&vars(&with), &token, false, &space())
            .err()
            .expect("another Space");
        assert!(error.is_usage(), "{error}");
        assert!(error.to_string().contains("spaces/alice/other"), "{error}");
    }

    #[test]
    fn a_given_id_token_wins_over_the_runner_and_does_not_renew() {
        let given = [
            (REQUEST_URL, "http://runner/x"),
            (REQUEST_TOKEN, "rt"),
            (ID_TOKEN, "eyJ.given.sig"),
        ];
        let empty = SecretString::new("");
        match auth(&vars(&given), &empty, false, &space()).expect("keyless") {
            Auth::Keyless(ids @ JobIdTokens::Given(_)) => assert!(!ids.renews()),
            _ => panic!("the given ID token is used"),
        }
        let error = auth(
            &vars(&[(RESOURCE, "spaces/alice/app")]),
            &empty,
            false,
            &space(),
        )
        .err()
        .expect("no ID token");
        assert!(error.to_string().contains(RESOURCE), "{error}");
    }
}
