//! End-to-end: the Hub's rate limits (hub-2026.md §7). A 429 with `RateLimit: "api";r=0;t=N`
//! is waited out when its window resets before the run's deadline, and the wait says until
//! when; a reset past the deadline fails at once, naming that time, having written nothing.

use std::time::{Duration, Instant};

use hf_deploy_tests::{CliOutput, copy_tree, example_backend, hub_env, run_cli_async, strings};
use hf_hub_emulator::{DEFAULT_WRITE_TOKEN, Emulator, FaultRule};

async fn emulator() -> Emulator {
    hf_deploy_tests::start_scripted_emulator().await
}

async fn deploy(emulator: &Emulator, space: &str, timeout: &str) -> CliOutput {
    let source = copy_tree(&example_backend());
    let mut args = strings(&["deploy"]);
    args.push(source.path().display().to_string());
    args.extend(strings(&["--space", space, "--json", "--timeout", timeout]));
    run_cli_async(args, hub_env(emulator, DEFAULT_WRITE_TOKEN)).await
}

/// `2026-11-29 12:05:00 UTC` somewhere in `text`.
fn has_utc_time(text: &str) -> bool {
    regex::Regex::new(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC")
        .unwrap()
        .is_match(text)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_window_that_resets_before_the_deadline_is_waited_out_and_says_until_when() {
    let emulator = emulator().await;
    let space = "local/rate-limited";
    emulator.faults().add(
        FaultRule::new("GET", &format!("/api/spaces/{space}"))
            .rate_limited(2)
            .times(1),
    );
    let started = Instant::now();
    let output = deploy(&emulator, space, "120").await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "the 2 s window was waited out"
    );
    assert!(
        output.stderr.contains("rate-limited") && output.stderr.contains("waiting until"),
        "{}",
        output.both()
    );
    assert!(has_utc_time(&output.stderr), "{}", output.both());
    let log = emulator.request_log();
    let lookups: Vec<u16> = log
        .iter()
        .filter(|r| r.method == "GET" && r.path == format!("/api/spaces/{space}"))
        .map(|r| r.status)
        .collect();
    assert_eq!(lookups.first(), Some(&429), "{lookups:?}");
    assert_eq!(
        lookups.get(1),
        Some(&404),
        "sent again after the wait: {lookups:?}"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reset_past_the_deadline_fails_at_once_with_its_time() {
    let emulator = emulator().await;
    let space = "local/rate-limited-long";
    // A 5-minute window, for a run that may last one minute.
    emulator
        .faults()
        .add(FaultRule::new("GET", &format!("/api/spaces/{space}")).rate_limited(300));
    let started = Instant::now();
    let output = deploy(&emulator, space, "60").await;
    assert_ne!(output.code, 0, "{}", output.both());
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "no waiting for a window that outlasts the run: {:?}",
        started.elapsed()
    );
    let json = output.json();
    assert_eq!(json["error"]["kind"], "rate_limited", "{json}");
    let message = json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("rate-limited") && has_utc_time(message),
        "the error names the reset time: {message}"
    );
    assert!(
        output.stderr.contains("timeout"),
        "the hint names the way to wait: {}",
        output.both()
    );
    let writes: Vec<_> = emulator
        .request_log()
        .into_iter()
        .filter(|r| !matches!(r.method.as_str(), "GET" | "HEAD"))
        .collect();
    assert!(writes.is_empty(), "nothing written: {writes:#?}");
    emulator.shutdown().await;
}
