//! Every wait of the library, and the only module that sleeps.
//!
//! One [`RetryPolicy`] decides how long to wait before trying again ([`decide`]): after a
//! transient failure of a Hub API call, a git fetch or push, a Git LFS request, an OIDC token
//! exchange, a log stream that dropped, and between the polls of a build stage or a health URL.
//! Each caller has its own parameters (attempts, base, max, idempotency); a wait the server asks
//! for (`Retry-After`, `RateLimit`) is honoured as long as it ends before the run's deadline.
//! The loops built on it:
//!
//! * [`run`] / [`run_observed`]: send until the answer is final (the HTTP callers);
//! * [`Poll`]: a poll bounded by a deadline instead of a count (build stage, health);
//! * [`Retries`]: transient failures counted across the steps of a longer loop (the push's
//!   fetch and publish, the reconnections of a log stream).
//!
//! Tests pass short delays through the policy value.

use std::future::Future;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::header::HeaderMap;

/// How many attempts and how long to wait between them.
///
/// The delay before attempt `n + 1` is `base_delay * 2^(n-1)`, capped at `max_delay`; with
/// `jitter`, a random point in its upper half. A wait the server asks for (`Retry-After`,
/// `RateLimit`) is honoured exactly, up to `max_server_wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Attempts in total, the first one included (at least 1; `u32::MAX` for a poll bounded by a
    /// deadline instead).
    pub(crate) max_attempts: u32,
    /// Backoff before the second attempt; doubled for each later one.
    pub(crate) base_delay: Duration,
    /// Upper bound of one backoff delay.
    pub(crate) max_delay: Duration,
    /// Longest wait the server may ask for (`Retry-After`, `RateLimit`). Asked for more, we
    /// stop and report [`crate::Error::RateLimited`] instead of sleeping.
    pub(crate) max_server_wait: Duration,
    /// Spread the delays randomly over their upper half (many clients, one server); off for
    /// polls, whose progress output shows the delays.
    pub(crate) jitter: bool,
}

impl Default for RetryPolicy {
    /// [`RetryPolicy::hub`].
    fn default() -> Self {
        RetryPolicy::hub()
    }
}

impl RetryPolicy {
    /// Hub API calls: the schedule of `huggingface_hub`'s `http_backoff`, 5 attempts, 1-2-4-8 s.
    pub(crate) const fn hub() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            max_server_wait: Duration::from_secs(60),
            jitter: true,
        }
    }

    /// Git LFS requests (content-addressed, so idempotent): 3 attempts, 1-2 s.
    pub(crate) const fn lfs() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(2),
            max_server_wait: Duration::from_secs(60),
            jitter: true,
        }
    }

    /// Transient git fetch and push failures, per push on top of races: 3 attempts, 1-2 s.
    pub(crate) const fn git() -> Self {
        RetryPolicy::lfs()
    }

    /// The pause after a push lost a race (`main` moved under it) before it fetches the new
    /// head and commits its tree on top again: short, doubling, spread at random so that
    /// pushers racing each other do not meet again at the same instant. The number of races is
    /// bounded by the push's own count, not by this policy.
    pub(crate) const fn race() -> Self {
        RetryPolicy {
            max_attempts: u32::MAX,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
            max_server_wait: Duration::from_secs(2),
            jitter: true,
        }
    }

    /// A poll bounded by a deadline, not a count: `initial`, doubled after each poll, up to
    /// `max`, without jitter. `max` is how late a poll may see the change it waits for: a deploy
    /// polls the build stage and the health URL with `initial` = `max` = 1 s, so the report
    /// follows a healthy app within a second.
    pub(crate) fn poll(initial: Duration, max: Duration) -> Self {
        RetryPolicy {
            max_attempts: u32::MAX,
            base_delay: initial,
            max_delay: max.max(initial),
            max_server_wait: max.max(initial),
            jitter: false,
        }
    }

    /// This policy for a run that must end by `deadline`: a wait the server asks for is
    /// honoured as long as it ends before the deadline (a 5-minute rate-limit window included),
    /// and refused at once when it would end after it.
    pub(crate) fn until(mut self, deadline: Instant) -> Self {
        self.max_server_wait = deadline.saturating_duration_since(Instant::now());
        self
    }

    /// [`decide`] with a random jitter when the policy asks for one.
    pub(crate) fn next_delay(
        &self,
        idempotency: Idempotency,
        attempt: u32,
        outcome: Outcome,
    ) -> Option<Duration> {
        let jitter = if self.jitter {
            rand::thread_rng().gen_range(0.0..=1.0)
        } else {
            1.0
        };
        decide(self, idempotency, attempt, outcome, jitter)
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
    /// Not there yet (a poll): try again after the backoff.
    Pending,
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
        Outcome::Pending => None,
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

/// The longest wait a server's number can mean: a day. A larger one (up to `u64::MAX`
/// seconds) is read as a day, so no clock or deadline arithmetic on it can overflow; any wait
/// past the run's deadline stops the call anyway.
pub(crate) const LONGEST_SERVER_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// The wait the server asked for: `RateLimit: "api";r=0;t=55` (only when nothing remains), else
/// `Retry-After: <seconds>` (HTTP dates are ignored, as `huggingface_hub` does); at most
/// [`LONGEST_SERVER_WAIT`].
pub(crate) fn server_wait(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some((0, reset)) = text("ratelimit").and_then(parse_ratelimit) {
        return Some(Duration::from_secs(reset).min(LONGEST_SERVER_WAIT));
    }
    text("retry-after").and_then(parse_retry_after)
}

/// `Retry-After` in whole seconds, at most [`LONGEST_SERVER_WAIT`].
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .map(|secs| Duration::from_secs(secs).min(LONGEST_SERVER_WAIT))
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
    attempt: F,
    classify: impl Fn(&T) -> Outcome,
) -> (T, u32)
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = T>,
{
    run_observed(policy, idempotency, attempt, classify, |_| {}).await
}

/// [`run`], telling `on_server_wait` before each sleep the server asked for (`Retry-After`,
/// `RateLimit`): a rate-limit window can last minutes, and whoever waits should know until when.
pub(crate) async fn run_observed<T, F, Fut>(
    policy: &RetryPolicy,
    idempotency: Idempotency,
    mut attempt: F,
    classify: impl Fn(&T) -> Outcome,
    on_server_wait: impl Fn(Duration),
) -> (T, u32)
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = T>,
{
    let mut number = 1;
    loop {
        let result = attempt(number).await;
        let outcome = classify(&result);
        match policy.next_delay(idempotency, number, outcome) {
            Some(delay) => {
                if let Outcome::Transient {
                    server_wait: Some(wait),
                    ..
                } = outcome
                {
                    if wait == delay {
                        on_server_wait(wait);
                    }
                }
                tracing::debug!(
                    attempt = number,
                    ?outcome,
                    delay_ms = delay.as_millis() as u64,
                    "retrying request"
                );
                sleep(delay).await;
                number += 1;
            }
            None => return (result, number),
        }
    }
}

/// A poll bounded by a deadline: the waits between polls follow [`RetryPolicy::poll`] and
/// never reach past the deadline.
#[derive(Debug, Clone)]
pub(crate) struct Poll {
    policy: RetryPolicy,
    deadline: Instant,
    polls: u32,
}

impl Poll {
    /// Polls `initial` apart, doubling up to `max`, until `deadline`.
    pub(crate) fn new(initial: Duration, max: Duration, deadline: Instant) -> Self {
        Poll {
            policy: RetryPolicy::poll(initial, max),
            deadline,
            polls: 0,
        }
    }

    /// Count one poll and return the wait before the next one, cut at the deadline; `None` once
    /// the deadline has passed.
    pub(crate) fn next_delay(&mut self) -> Option<Duration> {
        self.polls += 1;
        let left = self.deadline.checked_duration_since(Instant::now())?;
        if left.is_zero() {
            return None;
        }
        let delay = self
            .policy
            .next_delay(Idempotency::Idempotent, self.polls, Outcome::Pending)
            .unwrap_or(self.policy.max_delay);
        Some(delay.min(left))
    }
}

/// Transient failures of a loop that does more than send one request (the push's fetch and
/// publish, the reconnections of a log stream), counted against one policy.
#[derive(Debug, Clone)]
pub(crate) struct Retries {
    policy: RetryPolicy,
    failures: u32,
}

impl Retries {
    /// No failure yet.
    pub(crate) fn new(policy: RetryPolicy) -> Self {
        Retries {
            policy,
            failures: 0,
        }
    }

    /// Transient failures so far.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// Start counting again (the stream gave a new line).
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }

    /// Count one more transient failure and return the backoff before trying again, or `None`
    /// when the policy allows no more attempts.
    pub(crate) fn next_delay(&mut self) -> Option<Duration> {
        let delay = self.policy.next_delay(
            Idempotency::Idempotent,
            self.failures + 1,
            Outcome::Transport { connect: false },
        )?;
        self.failures += 1;
        Some(delay)
    }
}

/// Sleep `delay` on the async runtime.
pub(crate) async fn sleep(delay: Duration) {
    tokio::time::sleep(delay).await;
}

/// Sleep `delay` on a blocking thread (the push's git work runs on tokio's blocking pool).
pub(crate) fn sleep_blocking(delay: Duration) {
    std::thread::sleep(delay);
}

/// Sleep `delay` while `work` runs beside it: the sleep always lasts `delay`; `work` is dropped
/// when the sleep ends first. Returns what `work` gave when it ended in time.
pub(crate) async fn sleep_beside<T>(delay: Duration, work: impl Future<Output = T>) -> Option<T> {
    let sleep = tokio::time::sleep(delay);
    tokio::pin!(sleep);
    tokio::pin!(work);
    tokio::select! {
        () = &mut sleep => None,
        out = &mut work => {
            sleep.await;
            Some(out)
        }
    }
}

/// `work`, unless it takes longer than `limit`: then `None`.
pub(crate) async fn within<T>(limit: Duration, work: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(limit, work).await.ok()
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
            jitter: true,
        }
    }

    #[test]
    fn each_caller_has_its_schedule_from_one_policy() {
        let full = |policy: RetryPolicy| -> Vec<Option<u64>> {
            (1..=6)
                .map(|attempt| {
                    decide(
                        &policy,
                        Idempotency::Idempotent,
                        attempt,
                        Outcome::Pending,
                        1.0,
                    )
                    .map(|d| d.as_millis() as u64)
                })
                .collect()
        };
        assert_eq!(
            full(RetryPolicy::hub()),
            [Some(1000), Some(2000), Some(4000), Some(8000), None, None]
        );
        assert_eq!(
            full(RetryPolicy::lfs()),
            [Some(1000), Some(2000), None, None, None, None]
        );
        assert_eq!(full(RetryPolicy::git()), full(RetryPolicy::lfs()));
        let poll = RetryPolicy::poll(Duration::from_millis(10), Duration::from_millis(40));
        assert_eq!(
            full(poll),
            [Some(10), Some(20), Some(40), Some(40), Some(40), Some(40)]
        );
        assert!(!poll.jitter, "polls show their delays: no jitter");
        // Without jitter, `next_delay` is the full delay, every time.
        for _ in 0..20 {
            assert_eq!(
                poll.next_delay(Idempotency::Idempotent, 2, Outcome::Pending),
                Some(Duration::from_millis(20))
            );
        }
        // With jitter, it stays in the upper half.
        for _ in 0..20 {
            let delay = RetryPolicy::hub()
                .next_delay(Idempotency::Idempotent, 3, Outcome::Pending)
                .expect("retried");
            assert!((Duration::from_secs(2)..=Duration::from_secs(4)).contains(&delay));
        }
        // A poll's minimum never exceeds its maximum.
        let odd = RetryPolicy::poll(Duration::from_secs(3), Duration::from_secs(1));
        assert_eq!(odd.max_delay, Duration::from_secs(3));
    }

    #[test]
    fn a_run_with_a_deadline_waits_for_a_window_that_resets_before_it_and_no_longer() {
        let now = std::time::Instant::now();
        let window = |policy: RetryPolicy, secs: u64| {
            decide(
                &policy,
                Idempotency::Idempotent,
                1,
                Outcome::Transient {
                    status: 429,
                    server_wait: Some(Duration::from_secs(secs)),
                },
                1.0,
            )
        };
        // Without a deadline, the default cap (60 s) refuses a 5-minute window...
        assert_eq!(window(RetryPolicy::hub(), 300), None);
        // ...a run with 10 minutes left waits it out, one with 1 minute left does not.
        let long = RetryPolicy::hub().until(now + Duration::from_secs(600));
        assert_eq!(window(long, 300), Some(Duration::from_secs(300)));
        let short = RetryPolicy::hub().until(now + Duration::from_secs(60));
        assert_eq!(window(short, 300), None);
        assert_eq!(window(short, 5), Some(Duration::from_secs(5)));
        // A deadline already past refuses every wait.
        let past = RetryPolicy::hub().until(now);
        assert_eq!(window(past, 1), None);
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

    #[test]
    fn a_huge_server_wait_is_read_as_a_day_and_stops_the_call() {
        let huge = u64::MAX.to_string();
        assert_eq!(parse_retry_after(&huge), Some(LONGEST_SERVER_WAIT));
        let mut headers = HeaderMap::new();
        let ratelimit = format!("\"api\";r=0;t={huge}");
        headers.insert("ratelimit", HeaderValue::from_str(&ratelimit).unwrap());
        let wait = server_wait(&headers).expect("a wait");
        assert_eq!(wait, LONGEST_SERVER_WAIT);
        // The clock arithmetic a caller does on it stays in range.
        assert!(std::time::SystemTime::now().checked_add(wait).is_some());
        assert!(Instant::now().checked_add(wait).is_some());
        let outcome = Outcome::Transient {
            status: 429,
            server_wait: Some(wait),
        };
        assert_eq!(
            decide(
                &RetryPolicy::hub(),
                Idempotency::Idempotent,
                1,
                outcome,
                1.0
            ),
            None
        );
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
