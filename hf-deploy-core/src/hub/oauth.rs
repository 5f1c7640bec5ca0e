//! Trusted Publishers: exchange a CI job's OIDC token for a Space-scoped Hub token
//! (hub-2026.md §2, RFC 8693). No client authentication; the Hub answers `invalid_grant`
//! without saying which check failed, so the error names the claims this job presents.

use std::time::Duration;

use base64::Engine;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::json;

use crate::error::{Error, HttpContext, Result};
use crate::secret::SecretString;
use crate::space::SpaceId;

/// The only audience the Hub accepts for a job token.
pub const HUB_AUDIENCE: &str = "https://huggingface.co";

/// A Space-scoped token and how long it lives.
#[derive(Debug, Clone)]
pub struct ScopedToken {
    /// The token (`hf_jwt_…`): mask it before anything is printed.
    pub token: SecretString,
    /// Its lifetime as the Hub said (`expires_in`; 60 minutes on the Hub).
    pub expires_in: Duration,
}

#[derive(Deserialize)]
struct Answer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// `POST {endpoint}/oauth/token`: `job_token` (the job's OIDC token) for a token scoped to
/// `spaces/{space}`.
pub async fn exchange_job_token(
    endpoint: &str,
    job_token: &SecretString,
    space: &SpaceId,
    user_agent: &str,
) -> Result<ScopedToken> {
    let url = format!("{}/oauth/token", endpoint.trim_end_matches('/'));
    let action = format!("exchange the job's OIDC token for a token of Space `{space}`");
    let body = json!({
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "subject_token": job_token.expose(),
        "resource": format!("spaces/{space}"),
    });
    let http = reqwest::Client::builder()
        .user_agent(user_agent)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|source| Error::Request {
            action: action.clone(),
            url: url.clone(),
            source: source.without_url(),
        })?;
    let response = http
        .post(&url)
        .json(&body)
        .send()
        .await
        .map_err(|source| Error::Request {
            action: action.clone(),
            url: url.clone(),
            source: source.without_url(),
        })?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    if (200..300).contains(&status) {
        let answer: Answer = serde_json::from_str(&text).map_err(|e| Error::MalformedResponse {
            action: action.clone(),
            url: url.clone(),
            detail: format!("no `access_token` in the answer ({e})"),
        })?;
        return Ok(ScopedToken {
            token: SecretString::new(answer.access_token),
            expires_in: Duration::from_secs(answer.expires_in.unwrap_or(3600)),
        });
    }
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let error = parsed
        .get("error")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let description = parsed
        .get("error_description")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let context = Box::new(HttpContext {
        method: "POST".into(),
        url: url.clone(),
        status,
        request_id: header(&headers, "x-request-id"),
        error_code: None,
        server_message: Some(match &description {
            Some(d) if !error.is_empty() => format!("{error}: {d}"),
            Some(d) => d.clone(),
            None if !error.is_empty() => error.clone(),
            None => text.chars().take(300).collect(),
        }),
    });
    if status == 400 && error == "invalid_grant" {
        return Err(Error::OidcGrantRefused {
            space: space.to_string(),
            claims: job_claims(job_token),
            context,
        });
    }
    Err(Error::Refused { action, context })
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The claims a Trusted Publisher matches (`repository`, `workflow`, `ref`), read from the
/// job token's payload without checking its signature (the Hub checks it): for messages.
pub fn job_claims(job_token: &SecretString) -> Vec<(String, String)> {
    let Some(payload) = job_token.expose().split('.').nth(1) else {
        return Vec::new();
    };
    let Ok(bytes) =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('='))
    else {
        return Vec::new();
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    ["repository", "workflow", "ref", "event_name", "sub", "aud"]
        .iter()
        .filter_map(|key| {
            claims
                .get(*key)
                .and_then(|v| v.as_str())
                .map(|v| ((*key).to_string(), v.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claims_are_read_from_the_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            br#"{"repository":"acme/app","workflow":"Deploy","ref":"refs/heads/main","other":"x"}"#,
        );
        let token = SecretString::new(format!("eyJhbGciOiJFUzI1NiJ9.{payload}.c2ln"));
        assert_eq!(
            job_claims(&token),
            [
                ("repository".to_string(), "acme/app".to_string()),
                ("workflow".into(), "Deploy".into()),
                ("ref".into(), "refs/heads/main".into()),
            ]
        );
        assert!(job_claims(&SecretString::new("not-a-jwt")).is_empty());
    }
}
