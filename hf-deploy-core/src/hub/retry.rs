//! When and how long to wait before sending a Hub request again.
//!
//! One loop ([`run`]) and one pure decision ([`decide`]) so the whole schedule is unit-tested
//! without a network and without long sleeps.

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use reqwest::header::HeaderMap;

/// How many attempts and how long to wait between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Attempts in total, the first one included (at least 1).
    pub(crate) max_attempts: u32,
    /// Backoff before the second attempt; doubled for each later one.
    pub(crate) base_delay: Duration,
    /// Upper bound of one backoff delay.
    pub(crate) max_delay: Duration,
    /// Longest wait the server may ask for (`Retry-After`, `RateLimit`). Asked for more, we
    /// stop and report [`crate::Error::RateLimited`] instead of sleeping.
    pub(crate) max_server_wait: Duration,
}

impl Default for RetryPolicy {
    /// The schedule of `huggingface_hub`'s `http_backoff`: 5 attempts, 1-2-4-8 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            max_server_wait: Duration::from_secs(60),
        }
    }
}

/// Which failures a call may be sent again after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// Sending it twice has the effect of sending it once (GET, DELETE, settings, secrets and
    /// variables keyed by name, create where 409 means "exists"): retry every transient failure.
    Idempotent,
    /// A second copy has a visible effect (restart: each one cancels the running build and starts
    /// over). Retry only when the server surely did not act on it: the connection was never made,
    /// or the server answered 408 or 429 without doing the work.
    OnlyIfNotActedOn,
}

/// What one attempt ended with, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// An answer that is final (success or a non-transient status).
    Final,
    /// No answer. `connect` is true when no connection was made, so nothing was sent.
    Transport {
        /// The connection could not be opened.
        connect: bool,
    },
    /// A status that may go away (408, 429, 500, 502, 503, 504, or a create-side conflict in
    /// progress), with the wait the server asked for, if any.
    Transient {
        /// The HTTP status.
        status: u16,
        /// From `RateLimit` (when `r=0`) or `Retry-After`.
        server_wait: Option<Duration>,
    },
}

/// Statuses worth sending again (`huggingface_hub`'s `http_backoff` list).
pub(crate) fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// What to do after attempt number `attempt` (1-based) ended with `outcome`: `Some(delay)` to try
/// again after `delay`, `None` to stop and report the outcome.
///
/// `jitter` in `[0, 1]` picks the point in the upper half of the backoff delay (`1.0` = the full
/// delay); the server's requested wait is honoured exactly.
pub(crate) fn decide(
    policy: &RetryPolicy,
    idempotency: Idempotency,
    attempt: u32,
    outcome: Outcome,
    jitter: f64,
) -> Option<Duration> {
    if attempt >= policy.max_attempts {
        return None;
    }
    let server_wait = match outcome {
        Outcome::Final => return None,
        Outcome::Transport { connect } => {
            if idempotency == Idempotency::OnlyIfNotActedOn && !connect {
                return None;
            }
            None
        }
        Outcome::Transient {
            status,
            server_wait,
        } => {
            if idempotency == Idempotency::OnlyIfNotActedOn && !matches!(status, 408 | 429) {
                return None;
            }
            server_wait
        }
    };
    match server_wait {
        Some(wait) if wait > policy.max_server_wait => None,
        Some(wait) => Some(wait),
        None => Some(backoff(policy, attempt, jitter)),
    }
}

/// The backoff before attempt `attempt + 1`: `base * 2^(attempt-1)`, capped at `max_delay`,
/// scaled into `[delay/2, delay]` by `jitter`.
pub(crate) fn backoff(policy: &RetryPolicy, attempt: u32, jitter: f64) -> Duration {
    let exponent = attempt.saturating_sub(1).min(20);
    let full = policy
        .base_delay
        .saturating_mul(1u32 << exponent)
        .min(policy.max_delay);
    let jitter = jitter.clamp(0.0, 1.0);
    full.mul_f64(0.5 + 0.5 * jitter)
}

/// The wait the server asked for: `RateLimit: "api";r=0;t=55` (only when nothing remains), else
/// `Retry-After: <seconds>` (HTTP dates are ignored, as `huggingface_hub` does).
pub(crate) fn server_wait(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some((0, reset)) = text("ratelimit").and_then(parse_ratelimit) {
        return Some(Duration::from_secs(reset));
    }
    text("retry-after").and_then(parse_retry_after)
}

/// `Retry-After` in whole seconds.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// `"api";r=<remaining>;t=<seconds until reset>` -> `(remaining, reset)`.
pub(crate) fn parse_ratelimit(value: &str) -> Option<(u64, u64)> {
    let mut remaining = None;
    let mut reset = None;
    for part in value.split(';') {
        let Some((key, number)) = part.split_once('=') else {
            continue;
        };
        let number = number.trim().parse::<u64>().ok();
        match key.trim() {
            "r" => remaining = number,
            "t" => reset = number,
            _ => {}
        }
    }
    Some((remaining?, reset?))
}

/// Send with `attempt` until `classify` calls the result final, the policy says stop, or the
/// attempts run out. Returns the last result and how many attempts were made.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    idempotency: Idempotency,
    mut attempt: F,
    classify: impl Fn(&T) -> Outcome,
) -> (T, u32)
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = T>,
{
    let mut number = 1;
    loop {
        let result = attempt(number).await;
        let outcome = classify(&result);
        let jitter = rand::thread_rng().gen_range(0.0..=1.0);
        match decide(policy, idempotency, number, outcome, jitter) {
            Some(delay) => {
                tracing::debug!(
                    attempt = number,
                    ?outcome,
                    delay_ms = delay.as_millis() as u64,
                    "retrying Hub request"
                );
                tokio::time::sleep(delay).await;
                number += 1;
            }
            None => return (result, number),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            max_server_wait: Duration::from_secs(60),
        }
    }

    /// Guards against an unbounded schedule: with the defaults, the backoff alone never adds more
    /// than 15 s (1 + 2 + 4 + 8) to a failing call, and even a server asking for the longest
    /// accepted wait on every attempt keeps a call under 4 minutes.
    #[test]
    fn retry_delay_budget_is_bounded() {
        let policy = RetryPolicy::default();
        let backoff_total: Duration = (1..policy.max_attempts)
            .map(|attempt| {
                decide(
                    &policy,
                    Idempotency::Idempotent,
                    attempt,
                    Outcome::Transport { connect: false },
                    1.0,
                )
                .expect("retried")
            })
            .sum();
        assert_eq!(backoff_total, Duration::from_secs(15));
        let server_total: Duration = (1..policy.max_attempts)
            .map(|attempt| {
                let outcome = Outcome::Transient {
                    status: 429,
                    server_wait: Some(policy.max_server_wait),
                };
                decide(&policy, Idempotency::Idempotent, attempt, outcome, 1.0).expect("retried")
            })
            .sum();
        assert_eq!(server_total, Duration::from_secs(240));
        let outcome = Outcome::Transport { connect: true };
        assert_eq!(
            decide(
                &policy,
                Idempotency::Idempotent,
                policy.max_attempts,
                outcome,
                1.0
            ),
            None
        );
    }

    #[test]
    fn backoff_doubles_is_capped_and_jitter_stays_in_the_upper_half() {
        let policy = RetryPolicy::default();
        let delays: Vec<u64> = (1..=6)
            .map(|a| backoff(&policy, a, 1.0).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 8, 8]);
        assert_eq!(backoff(&policy, 3, 0.0), Duration::from_secs(2));
        assert_eq!(backoff(&policy, 3, 0.5), Duration::from_secs(3));
        assert_eq!(backoff(&policy, 200, 1.0), Duration::from_secs(8));
    }

    #[test]
    fn a_wait_beyond_the_cap_stops_instead_of_sleeping() {
        let policy = RetryPolicy::default();
        let long = Outcome::Transient {
            status: 429,
            server_wait: Some(Duration::from_secs(61)),
        };
        assert_eq!(decide(&policy, Idempotency::Idempotent, 1, long, 1.0), None);
        let short = Outcome::Transient {
            status: 429,
            server_wait: Some(Duration::from_secs(7)),
        };
        assert_eq!(
            decide(&policy, Idempotency::Idempotent, 1, short, 0.0),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn restart_like_calls_retry_only_what_the_server_did_not_act_on() {
        let policy = RetryPolicy::default();
        let once = Idempotency::OnlyIfNotActedOn;
        assert!(decide(&policy, once, 1, Outcome::Transport { connect: true }, 1.0).is_some());
        assert!(decide(&policy, once, 1, Outcome::Transport { connect: false }, 1.0).is_none());
        for status in [500, 502, 503, 504] {
            let outcome = Outcome::Transient {
                status,
                server_wait: None,
            };
            assert!(decide(&policy, once, 1, outcome, 1.0).is_none(), "{status}");
            assert!(
                decide(&policy, Idempotency::Idempotent, 1, outcome, 1.0).is_some(),
                "{status}"
            );
        }
        for status in [408, 429] {
            let outcome = Outcome::Transient {
                status,
                server_wait: None,
            };
            assert!(decide(&policy, once, 1, outcome, 1.0).is_some(), "{status}");
        }
        assert!(decide(&policy, Idempotency::Idempotent, 1, Outcome::Final, 1.0).is_none());
    }

    #[test]
    fn transient_statuses_are_hf_hubs_list() {
        let transient: Vec<u16> = (100..600).filter(|s| is_transient_status(*s)).collect();
        assert_eq!(transient, [408, 429, 500, 502, 503, 504]);
    }

    #[test]
    fn parses_ratelimit_and_retry_after() {
        assert_eq!(parse_ratelimit("\"api\";r=0;t=55"), Some((0, 55)));
        assert_eq!(parse_ratelimit("\"pages\" ; r = 12 ; t = 3"), Some((12, 3)));
        assert_eq!(parse_ratelimit("\"api\";q=500;w=300"), None);
        assert_eq!(parse_retry_after(" 30 "), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);

        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(server_wait(&headers), Some(Duration::from_secs(3)));
        headers.insert("ratelimit", HeaderValue::from_static("\"api\";r=0;t=55"));
        assert_eq!(server_wait(&headers), Some(Duration::from_secs(55)));
        headers.insert("ratelimit", HeaderValue::from_static("\"api\";r=4;t=55"));
        assert_eq!(server_wait(&headers), Some(Duration::from_secs(3)));
    }

    #[tokio::test]
    async fn run_stops_at_the_first_final_answer_and_counts_attempts() {
        let answers = [503u16, 502, 200, 200];
        let (status, attempts) = run(
            &fast(),
            Idempotency::Idempotent,
            |n| async move { answers[n as usize - 1] },
            |status| {
                if is_transient_status(*status) {
                    Outcome::Transient {
                        status: *status,
                        server_wait: None,
                    }
                } else {
                    Outcome::Final
                }
            },
        )
        .await;
        assert_eq!((status, attempts), (200, 3));
    }

    #[tokio::test]
    async fn run_gives_up_after_max_attempts_with_the_last_answer() {
        let (status, attempts) = run(
            &fast(),
            Idempotency::Idempotent,
            |n| async move { 500 + n },
            |_| Outcome::Transient {
                status: 500,
                server_wait: None,
            },
        )
        .await;
        assert_eq!((status, attempts), (504, 4));
    }
}
