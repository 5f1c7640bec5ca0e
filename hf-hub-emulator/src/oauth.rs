//! Trusted Publishers (keyless pushes from CI, hub-2026.md §2): a fake GitHub Actions OIDC
//! issuer, publishers configured per Space, `POST /oauth/token` (RFC 8693 token exchange) and
//! the Space-scoped tokens it hands out.
//!
//! * The fake issuer signs job tokens (ES256) with a test key pair fixed below: it exists only
//!   for tests, and the stand-in knows its public key. [`issue_github_oidc_token`] mints one.
//! * [`crate::Emulator::add_trusted_publisher`] configures a publisher on a Space; claims are
//!   matched exactly (`repository` required, `workflow` and `ref` when set).
//! * A scoped token (`hf_jwt_…`) lives [`SCOPED_TOKEN_SECONDS`]; it may read and push its one
//!   Space (git, LFS, runtime, restart, logs) and nothing else: no create, no whoami, no other
//!   Space, and no settings (secrets, variables, hardware, sleep time), which the real Hub's
//!   answer to is not documented (the stand-in refuses, so clients must cope). Pushes are made
//!   by the synthetic user `[OIDC]`.
//!
//! This module is the engine (issuer, publishers, tokens); the routes, `POST /oauth/token` and the
//! scope guard, are `crate::api::oauth`'s.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::util::lock;

/// The issuer of GitHub Actions job tokens.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The only audience the Hub accepts.
pub const HUB_AUDIENCE: &str = "https://huggingface.co";
/// How long a Space-scoped token lives (the Hub's: 60 minutes, no refresh).
pub const SCOPED_TOKEN_SECONDS: u64 = 3600;
/// The synthetic user that pushes made with a scoped token are attributed to.
pub const OIDC_USER: &str = "[OIDC]";

// A P-256 key pair made for these tests only (`openssl genpkey -algorithm EC -pkeyopt
// ec_paramgen_curve:P-256`). It signs nothing but fake job tokens for the local stand-in.
const TEST_ISSUER_PRIVATE_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQggf23Le4AgExhFro4
cmVfBPda1OThr4ETcnvaNzjN48OhRANCAASGZCT70xgEpYGmhBwgFEmjC5FDyfvR
IKfbuJ06NrPUaTJsTqyboPltXPnVX0dli4EzXeWcZUet8JviC9JZjncv
-----END PRIVATE KEY-----
";
const TEST_ISSUER_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEhmQk+9MYBKWBpoQcIBRJowuRQ8n7
0SCn27idOjaz1GkybE6sm6D5bVz51V9HZYuBM13lnGVHrfCb4gvSWY53Lw==
-----END PUBLIC KEY-----
";

/// A Trusted Publisher of a Space: which GitHub workflow runs may push to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedPublisher {
    /// `owner/repo` (required, exact).
    pub repository: String,
    /// The workflow's name, when the publisher pins it (exact).
    pub workflow: Option<String>,
    /// The git ref, e.g. `refs/heads/main`, when the publisher pins it (exact).
    pub git_ref: Option<String>,
}

/// The claims of a fake GitHub Actions job token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobClaims {
    /// `owner/repo`.
    pub repository: String,
    /// The workflow's name.
    pub workflow: String,
    /// The ref, e.g. `refs/heads/main` or `refs/pull/7/merge`.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// `push`, `pull_request`, ...
    pub event_name: String,
    /// `repo:owner/repo:ref:refs/heads/main`, ...
    pub sub: String,
    /// The audience asked for.
    pub aud: String,
    /// The issuer.
    pub iss: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
}

impl JobClaims {
    /// The claims of a job of `repository` running `workflow` on `git_ref` for `event_name`,
    /// for the audience `aud`, valid for ten minutes.
    pub fn new(
        repository: &str,
        workflow: &str,
        git_ref: &str,
        event_name: &str,
        aud: &str,
    ) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let sub = if event_name == "pull_request" {
            format!("repo:{repository}:pull_request")
        } else {
            format!("repo:{repository}:ref:{git_ref}")
        };
        JobClaims {
            repository: repository.to_owned(),
            workflow: workflow.to_owned(),
            git_ref: git_ref.to_owned(),
            event_name: event_name.to_owned(),
            sub,
            aud: aud.to_owned(),
            iss: GITHUB_ISSUER.to_owned(),
            exp: now + 600,
            iat: now,
        }
    }
}

/// A job token (JWT, ES256) of the fake issuer; the stand-in's `/oauth/token` accepts it.
pub fn issue_github_oidc_token(claims: &JobClaims) -> String {
    let header = Header {
        kid: Some("hf-hub-emulator-test-issuer".into()),
        ..Header::new(Algorithm::ES256)
    };
    // The key is a constant checked by the tests: it always parses.
    EncodingKey::from_ec_pem(TEST_ISSUER_PRIVATE_KEY.as_bytes())
        .and_then(|key| jsonwebtoken::encode(&header, claims, &key))
        .unwrap_or_default()
}

/// Publishers and scoped tokens of a running stand-in.
#[derive(Default)]
pub(crate) struct Oidc {
    /// Publishers by Space id (lowercase).
    publishers: Mutex<HashMap<String, Vec<TrustedPublisher>>>,
    /// Scoped tokens: token -> (Space id, expiry, order of issue from 1).
    tokens: Mutex<HashMap<String, (String, Instant, usize)>>,
    /// Lifetimes of the next scoped tokens, in order (a test's short-lived tokens); then
    /// [`SCOPED_TOKEN_SECONDS`].
    lifetimes: Mutex<std::collections::VecDeque<Duration>>,
    /// The exchange answers this raw JSON as `expires_in` instead of [`SCOPED_TOKEN_SECONDS`]
    /// (a numbers fault: huge, negative, a float, a string).
    expires_in: Mutex<Option<String>>,
}

impl Oidc {
    pub(crate) fn set_lifetimes(&self, lifetimes: &[Duration]) {
        *lock(&self.lifetimes) = lifetimes.iter().copied().collect();
    }

    pub(crate) fn set_expires_in(&self, raw_json: Option<String>) {
        *lock(&self.expires_in) = raw_json;
    }

    /// The `expires_in` of the exchange's answer for a token living `lifetime`, as raw JSON.
    pub(crate) fn expires_in(&self, lifetime: Duration) -> String {
        lock(&self.expires_in)
            .clone()
            .unwrap_or_else(|| lifetime.as_secs().to_string())
    }

    /// The order of issue (from 1) of a scoped token, expired or not.
    pub(crate) fn serial(&self, token: &str) -> Option<usize> {
        lock(&self.tokens).get(token).map(|(_, _, serial)| *serial)
    }

    pub(crate) fn add_publisher(&self, space: &str, publisher: TrustedPublisher) {
        lock(&self.publishers)
            .entry(space.to_ascii_lowercase())
            .or_default()
            .push(publisher);
    }

    /// A token scoped to Space `space_id` for a job whose `claims` match one of its publishers
    /// exactly (`repository`; `workflow` and `ref` when the publisher pins them), living
    /// [`SCOPED_TOKEN_SECONDS`] (or the next lifetime set by a test); `None` when no publisher
    /// matches. Returns the token and its lifetime.
    pub(crate) fn issue_scoped_token(
        &self,
        space_id: &str,
        claims: &JobClaims,
    ) -> Option<(String, Duration)> {
        let matched = lock(&self.publishers)
            .get(&space_id.to_ascii_lowercase())
            .is_some_and(|publishers| {
                publishers.iter().any(|p| {
                    p.repository == claims.repository
                        && p.workflow.as_ref().is_none_or(|w| *w == claims.workflow)
                        && p.git_ref.as_ref().is_none_or(|r| *r == claims.git_ref)
                })
            });
        if !matched {
            return None;
        }
        let token = format!("hf_jwt_{}", hex::encode(rand::random::<[u8; 24]>()));
        let lifetime = lock(&self.lifetimes)
            .pop_front()
            .unwrap_or(Duration::from_secs(SCOPED_TOKEN_SECONDS));
        let mut tokens = lock(&self.tokens);
        let serial = tokens.len() + 1;
        tokens.insert(
            token.clone(),
            (space_id.to_owned(), Instant::now() + lifetime, serial),
        );
        Some((token, lifetime))
    }

    /// The caller behind a scoped token that has not expired.
    pub(crate) fn caller(&self, token: &str) -> Option<Caller> {
        let tokens = lock(&self.tokens);
        let (space, expires, _) = tokens.get(token)?;
        (Instant::now() < *expires).then(|| Caller {
            user: OIDC_USER.to_owned(),
            role: crate::config::Role::Write,
            scope: Some(space.clone()),
        })
    }
}

/// The claims of a job token signed by the fake issuer for the Hub's audience, if valid.
pub(crate) fn verify(token: &str) -> Option<JobClaims> {
    let key = DecodingKey::from_ec_pem(TEST_ISSUER_PUBLIC_KEY.as_bytes()).ok()?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[HUB_AUDIENCE]);
    validation.set_issuer(&[GITHUB_ISSUER]);
    jsonwebtoken::decode::<JobClaims>(token, &key, &validation)
        .ok()
        .map(|data| data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_issuer_signs_tokens_the_stand_in_accepts() {
        let claims = JobClaims::new(
            "acme/app",
            "Deploy",
            "refs/heads/main",
            "push",
            HUB_AUDIENCE,
        );
        let token = issue_github_oidc_token(&claims);
        assert_eq!(token.split('.').count(), 3, "{token}");
        assert_eq!(verify(&token), Some(claims));
    }

    #[test]
    fn another_audience_or_a_changed_payload_is_refused() {
        let claims = JobClaims::new("acme/app", "Deploy", "refs/heads/main", "push", "sigstore");
        assert_eq!(verify(&issue_github_oidc_token(&claims)), None);
        let good = issue_github_oidc_token(&JobClaims::new(
            "acme/app",
            "Deploy",
            "refs/heads/main",
            "push",
            HUB_AUDIENCE,
        ));
        let mut parts: Vec<&str> = good.split('.').collect();
        let forged = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"repository":"evil/app"}"#,
        );
        parts[1] = &forged;
        assert_eq!(verify(&parts.join(".")), None);
    }
}
