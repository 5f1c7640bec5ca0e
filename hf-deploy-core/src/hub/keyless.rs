//! A keyless run's token that lasts the job: the Space-scoped token of a Trusted Publisher
//! exchange ([`super::oauth`]), exchanged again [`RENEW_BEFORE`] before it expires with a fresh ID
//! token, as the `hf` CLI does (hub-2026.md §9). The library reads no environment: the front end
//! says where ID tokens come from ([`IdTokenSource`]) and learns every new token before it is
//! used (to mask and redact it); the client asks [`KeylessToken::token`] before each call.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::oauth::{self, ScopedToken};
use crate::error::Result;
use crate::secret::SecretString;
use crate::space::SpaceId;
use crate::wait::RetryPolicy;

/// How long before it expires a Space-scoped token is exchanged again (the `hf` CLI's 300 s);
/// for a token that lives less than twice as long, half its life.
pub const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// After a renewal failed while the token still works: how long before trying again (at most).
const RETRY_RENEWAL_AFTER: Duration = Duration::from_secs(30);

/// A future of an [`IdTokenSource`].
pub type IdTokenFuture<'a> = Pin<Box<dyn Future<Output = Result<SecretString>> + Send + 'a>>;

/// Where a keyless run's ID tokens (OIDC, audience [`oauth::HUB_AUDIENCE`]) come from, and who
/// learns the tokens of the run. The front end implements it: from the CI runner's endpoint
/// ([`oauth::fetch_id_token`]: a fresh token each call), or a token given as is.
pub trait IdTokenSource: Send + Sync {
    /// An ID token for the Hub's audience.
    fn id_token(&self) -> IdTokenFuture<'_>;

    /// Whether [`IdTokenSource::id_token`] mints a fresh token each call. `false` (a token given
    /// as is): the exchanged token is never renewed and lasts what the Hub gave it.
    fn renews(&self) -> bool;

    /// Told every new Space-scoped token before it is used, to mask and redact it.
    fn learn(&self, token: &SecretString);
}

/// The token in use and its times.
#[derive(Clone)]
struct Current {
    token: SecretString,
    expires: Instant,
    renew_at: Instant,
}

/// The Space-scoped token of a keyless run, exchanged on first use and renewed before it
/// expires (when its [`IdTokenSource`] renews). Given to [`super::HubClientBuilder::keyless`].
pub struct KeylessToken {
    endpoint: String,
    space: SpaceId,
    user_agent: String,
    source: Arc<dyn IdTokenSource>,
    policy: RetryPolicy,
    /// The token, behind an async lock: one exchange at a time, every caller waits for it.
    current: tokio::sync::Mutex<Option<Current>>,
    /// When the current token expires, readable without waiting.
    expires: std::sync::Mutex<Option<Instant>>,
}

impl fmt::Debug for KeylessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeylessToken")
            .field("endpoint", &self.endpoint)
            .field("space", &self.space)
            .field("renews", &self.source.renews())
            .finish_non_exhaustive()
    }
}

impl KeylessToken {
    /// Tokens scoped to `space`, exchanged at `{endpoint}/oauth/token` for ID tokens of
    /// `source`. Nothing is sent before the first [`KeylessToken::token`].
    pub fn new(
        endpoint: &str,
        space: SpaceId,
        user_agent: &str,
        source: Arc<dyn IdTokenSource>,
    ) -> Self {
        KeylessToken {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            space,
            user_agent: user_agent.to_string(),
            source,
            policy: RetryPolicy::hub(),
            current: tokio::sync::Mutex::new(None),
            expires: std::sync::Mutex::new(None),
        }
    }

    /// Whether the token is renewed before it expires (see [`IdTokenSource::renews`]).
    pub fn renews(&self) -> bool {
        self.source.renews()
    }

    /// When the token in use expires (`None` before the first exchange).
    pub fn expires_at(&self) -> Option<Instant> {
        *self.expires.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A token valid now: the first exchange, or a new one when the token in use is due for
    /// renewal ([`RENEW_BEFORE`] its expiry) and the source renews. A renewal that fails
    /// while the token in use has not expired keeps it (tried again later); after its expiry,
    /// the failure is the error.
    pub async fn token(&self) -> Result<SecretString> {
        let mut current = self.current.lock().await;
        let now = Instant::now();
        let due = match current.as_ref() {
            None => true,
            Some(token) => now >= token.renew_at && self.source.renews(),
        };
        if !due {
            return Ok(current
                .as_ref()
                .map(|c| c.token.clone())
                .unwrap_or_default());
        }
        match self.exchange().await {
            Ok(scoped) => {
                let next = schedule(scoped.token, scoped.expires_in, Instant::now());
                *self.expires.lock().unwrap_or_else(|e| e.into_inner()) = Some(next.expires);
                let token = next.token.clone();
                *current = Some(next);
                Ok(token)
            }
            Err(error) => match current.as_mut() {
                Some(old) if now < old.expires => {
                    let left = old.expires.saturating_duration_since(now);
                    old.renew_at = now + RETRY_RENEWAL_AFTER.min(left / 2);
                    tracing::debug!(%error, "renewing the Space-scoped token failed; keeping it");
                    Ok(old.token.clone())
                }
                _ => Err(error),
            },
        }
    }

    /// A fresh ID token exchanged for a Space-scoped token, learnt by the source before use.
    async fn exchange(&self) -> Result<ScopedToken> {
        let id_token = self.source.id_token().await?;
        let scoped = oauth::exchange_with(
            &self.endpoint,
            &id_token,
            &self.space,
            &self.user_agent,
            &self.policy,
        )
        .await?;
        self.source.learn(&scoped.token);
        Ok(scoped)
    }

    #[cfg(test)]
    fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }
}

/// The times of a token that lives `lifetime` from `now`: it expires then, and is renewed
/// [`RENEW_BEFORE`] earlier (half its life when it lives less than twice that). Saturating: a
/// lifetime too large for the clock is read as [`oauth::MAX_LIFETIME`].
fn schedule(token: SecretString, lifetime: Duration, now: Instant) -> Current {
    let lifetime = lifetime.min(oauth::MAX_LIFETIME);
    let margin = RENEW_BEFORE.min(lifetime / 2);
    let expires = now.checked_add(lifetime).unwrap_or(now);
    let renew_at = now
        .checked_add(lifetime.saturating_sub(margin))
        .unwrap_or(now);
    Current {
        token,
        expires,
        renew_at,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn a_token_is_renewed_300_seconds_before_it_expires_and_short_ones_at_half_life() {
        let now = Instant::now();
        let hub = schedule(SecretString::new("t"), Duration::from_secs(3600), now);
        assert_eq!(hub.expires - now, Duration::from_secs(3600));
        assert_eq!(hub.renew_at - now, Duration::from_secs(3300));
        let short = schedule(SecretString::new("t"), Duration::from_secs(6), now);
        assert_eq!(short.renew_at - now, Duration::from_secs(3));
        let huge = schedule(SecretString::new("t"), Duration::MAX, now);
        assert_eq!(huge.expires - now, oauth::MAX_LIFETIME);
        let none = schedule(SecretString::new("t"), Duration::ZERO, now);
        assert_eq!((none.expires, none.renew_at), (now, now));
    }

    #[test]
    fn expires_in_saturates_whatever_number_the_hub_sends() {
        use serde_json::json;
        let cases = [
            (json!(3600), Duration::from_secs(3600)),
            (json!(u64::MAX), oauth::MAX_LIFETIME),
            (json!(1e30), oauth::MAX_LIFETIME),
            (json!(-1), oauth::MIN_LIFETIME),
            (json!(i64::MIN), oauth::MIN_LIFETIME),
            (json!("3600"), Duration::from_secs(3600)),
            (json!("soon"), Duration::from_secs(3600)),
            (json!(null), Duration::from_secs(3600)),
            (json!(90.5), Duration::from_secs_f64(90.5)),
        ];
        for (raw, expected) in cases {
            assert_eq!(oauth::lifetime(Some(&raw)), expected, "{raw}");
        }
        assert_eq!(oauth::lifetime(None), Duration::from_secs(3600));
    }

    /// ID tokens counted; learnt tokens recorded.
    struct Counted {
        fetched: AtomicUsize,
        renews: bool,
        learnt: std::sync::Mutex<Vec<String>>,
    }

    impl IdTokenSource for Counted {
        fn id_token(&self) -> IdTokenFuture<'_> {
            let n = self.fetched.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move { Ok(SecretString::new(format!("eyJ.id{n}.sig"))) })
        }
        fn renews(&self) -> bool {
            self.renews
        }
        fn learn(&self, token: &SecretString) {
            self.learnt.lock().unwrap().push(token.expose().to_string());
        }
    }

    /// A token endpoint handing out `hf_jwt_<n>` tokens living `expires_in` seconds.
    async fn issuer(expires_in: u64) -> (String, Arc<AtomicUsize>) {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let app = axum::Router::new().route(
            "/oauth/token",
            axum::routing::post(move || {
                let counter = counter.clone();
                async move {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    axum::Json(serde_json::json!({
                        "access_token": format!("hf_jwt_{n}"),
                        "expires_in": expires_in,
                    }))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        (url, hits)
    }

    fn keyless(url: &str, renews: bool) -> (KeylessToken, Arc<Counted>) {
        let source = Arc::new(Counted {
            fetched: AtomicUsize::new(0),
            renews,
            learnt: std::sync::Mutex::new(Vec::new()),
        });
        let space = SpaceId::parse("alice/app", crate::Field::Space).expect("space");
        let token =
            KeylessToken::new(url, space, "test", source.clone()).with_policy(RetryPolicy {
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(4),
                ..RetryPolicy::hub()
            });
        (token, source)
    }

    #[tokio::test]
    async fn a_token_due_for_renewal_is_exchanged_again_with_a_fresh_id_token() {
        let (url, exchanges) = issuer(2).await;
        let (token, source) = keyless(&url, true);
        assert_eq!(token.token().await.expect("first").expose(), "hf_jwt_0");
        assert_eq!(token.token().await.expect("same").expose(), "hf_jwt_0");
        assert_eq!(exchanges.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(token.token().await.expect("renewed").expose(), "hf_jwt_1");
        assert_eq!(exchanges.load(Ordering::SeqCst), 2);
        assert_eq!(source.fetched.load(Ordering::SeqCst), 2);
        assert_eq!(*source.learnt.lock().unwrap(), ["hf_jwt_0", "hf_jwt_1"]);
    }

    #[tokio::test]
    async fn a_token_given_as_is_is_never_renewed() {
        let (url, exchanges) = issuer(2).await;
        let (token, source) = keyless(&url, false);
        assert_eq!(token.token().await.expect("first").expose(), "hf_jwt_0");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(token.token().await.expect("kept").expose(), "hf_jwt_0");
        assert_eq!(exchanges.load(Ordering::SeqCst), 1);
        assert_eq!(source.fetched.load(Ordering::SeqCst), 1);
        assert!(!token.renews());
    }
}
