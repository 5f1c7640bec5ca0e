//! End-to-end: servers that misbehave (issue 16, "Servers"). Every body has a cap and a
//! deadline, no credential goes to a host other than the one it was given for (redirects and
//! the LFS `verify` address included), and no number or byte from outside panics the process:
//! exit 101 never happens. One test per defect, against the stand-in's faults, its foreign host
//! (which records every credential that reaches it) and the real binary.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hf_deploy_tests::fake_github::{FakeGitHub, FaultKind, GitHubFault, Mode};
use hf_deploy_tests::{
    CliOutput, copy_tree, example_backend, hf_deploy_bin, hub_env, run_action, run_cli_async,
    strings,
};
use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, FaultRule, Runner, ScriptedApp,
    ScriptedResponse, ScriptedRoute, ScriptedRunner,
};

use crate::action::{Workspace, base_inputs, runner_env};
use crate::keyless;

async fn emulator() -> Emulator {
    let app = ScriptedApp::new()
        .route(
            ScriptedRoute::get("/api/health").then(ScriptedResponse::json(
                200,
                r#"{"status":"healthy","services":{"fastapi":"ok"}}"#,
            )),
        )
        .cors_origin("https://a.example")
        .cors_origin("https://b.example");
    Emulator::start(EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running().app(app)),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the Hub stand-in starts")
}

/// `hf-deploy deploy` of the example backend (plus `extra` files) to `space`.
async fn deploy_with(
    emulator: &Emulator,
    space: &str,
    extra: &[(&str, &[u8])],
    flags: &[&str],
) -> CliOutput {
    let source = copy_tree(&example_backend());
    for (name, bytes) in extra {
        std::fs::write(source.path().join(name), bytes).expect("write an extra file");
    }
    let mut args = strings(&["deploy"]);
    args.push(source.path().display().to_string());
    args.extend(strings(&["--space", space, "--timeout", "60"]));
    args.extend(strings(flags));
    run_cli_async(args, hub_env(emulator, DEFAULT_WRITE_TOKEN)).await
}

/// Neither a panic (101) nor a success.
fn assert_clean_failure(output: &CliOutput) {
    assert_ne!(output.code, 0, "{}", output.both());
    assert_ne!(output.code, 101, "a panic:\n{}", output.both());
    assert!(!output.stderr.contains("panicked"), "{}", output.both());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_hub_answer_fails_the_deploy_at_the_cap() {
    let emulator = emulator().await;
    let space = "local/endless-answer";
    emulator
        .faults()
        .add(FaultRule::new("GET", &format!("/api/spaces/{space}")).endless_body());
    let started = Instant::now();
    let output = deploy_with(&emulator, space, &[], &[]).await;
    assert_clean_failure(&output);
    assert!(
        output.stderr.contains("larger than 16384 KiB"),
        "{}",
        output.both()
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    emulator.shutdown().await;
}

/// The peak resident set (`VmHWM`, KiB) of process `pid` as last read, every 10 ms until it
/// ends (its memory lines go then) or `period` has passed.
fn peak_rss_kib(pid: u32, period: Duration) -> u64 {
    let until = Instant::now() + period;
    let mut peak = 0;
    while Instant::now() < until {
        let Some(hwm) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|line| line.strip_prefix("VmHWM:"))
                    .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            })
        else {
            break;
        };
        peak = hwm;
        std::thread::sleep(Duration::from_millis(10));
    }
    peak
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_log_line_keeps_the_memory_bounded() {
    let emulator = emulator().await;
    let space = "local/endless-log";
    let created = deploy_with(&emulator, space, &[], &[]).await;
    assert_eq!(created.code, 0, "{}", created.both());
    emulator
        .faults()
        .add(FaultRule::new("GET", &format!("/api/spaces/{space}/logs/*")).endless_sse_line());
    let mut child = Command::new(hf_deploy_bin())
        .args(["logs", "--space", space, "--build", "--follow"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("HF_ENDPOINT", emulator.url())
        .env("HF_TOKEN", DEFAULT_WRITE_TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hf-deploy logs");
    let pid = child.id();
    let peak = tokio::task::spawn_blocking(move || peak_rss_kib(pid, Duration::from_secs(6)))
        .await
        .expect("sampler");
    let still_running = child.try_wait().expect("wait").is_none();
    let _ = child.kill();
    let output = child.wait_with_output().expect("output");
    assert_ne!(output.status.code(), Some(101), "{output:?}");
    assert!(still_running, "the stream is still read: {output:?}");
    // The stand-in sends the line as fast as loopback goes (hundreds of MiB in 6 s): a reader
    // without a line cap grows with it.
    assert!(peak > 0 && peak < 150 * 1024, "peak RSS {peak} KiB");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hub_redirect_to_another_host_carries_no_credential_there() {
    let emulator = emulator().await;
    let space = "local/redirected";
    emulator
        .faults()
        .add(FaultRule::new("GET", &format!("/api/spaces/{space}")).redirect_to_foreign(307));
    let started = Instant::now();
    let output = deploy_with(&emulator, space, &[], &[]).await;
    assert_clean_failure(&output);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "a refused redirect is not tried again: {:?}",
        started.elapsed()
    );
    assert!(
        output.both().contains("redirected to another host"),
        "{}",
        output.both()
    );
    let foreign = emulator.foreign_host().requests();
    assert!(foreign.is_empty(), "not followed at all: {foreign:?}");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_git_redirect_to_another_host_carries_no_credential_there() {
    let emulator = emulator().await;
    let space = "local/git-redirected";
    // Another host name for the same listener: libgit2 tells hosts apart by name alone (a
    // redirect to another port of the same name is one it follows, as git does).
    let foreign = emulator.foreign_host().url().replace("127.0.0.1", "127.1");
    for (method, path) in [
        ("GET", "/spaces/*/info/refs"),
        ("POST", "/spaces/*/git-upload-pack"),
        ("POST", "/spaces/*/git-receive-pack"),
    ] {
        emulator
            .faults()
            .add(FaultRule::new(method, path).redirect(307, &foreign));
    }
    let output = deploy_with(&emulator, space, &[], &[]).await;
    assert_clean_failure(&output);
    let carrying = emulator.foreign_host().credentials_seen();
    let agents: Vec<Option<&str>> = carrying.iter().map(|r| r.header("user-agent")).collect();
    assert!(
        carrying.is_empty(),
        "credentials went to the foreign host: {carrying:?} {agents:?}"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_lfs_verify_address_on_another_host_gets_no_token() {
    let emulator = emulator().await;
    emulator.point_lfs_at_foreign_host(false, true);
    // A NUL byte makes it binary: it goes through Git LFS, and its `verify` to the foreign host.
    let weights: &[u8] = b"\0\x01\x02 model weights";
    let output = deploy_with(
        &emulator,
        "local/lfs-verify",
        &[("weights.bin", weights)],
        &[],
    )
    .await;
    assert_ne!(output.code, 101, "{}", output.both());
    let foreign = emulator.foreign_host().requests();
    assert!(
        foreign.iter().any(|r| r.method == "POST"),
        "the verify went to the foreign host: {foreign:?}\n{}",
        output.both()
    );
    let carrying = emulator.foreign_host().credentials_seen();
    assert!(carrying.is_empty(), "the token went along: {carrying:?}");
    assert_eq!(output.code, 0, "{}", output.both());
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_retry_after_fails_as_a_rate_limit_not_a_panic() {
    let emulator = emulator().await;
    let space = "local/huge-wait";
    emulator
        .faults()
        .add(FaultRule::new("GET", &format!("/api/spaces/{space}")).rate_limited(u64::MAX));
    let started = Instant::now();
    let output = deploy_with(&emulator, space, &[], &[]).await;
    assert_clean_failure(&output);
    assert!(output.stderr.contains("rate"), "{}", output.both());
    assert!(started.elapsed() < Duration::from_secs(30));
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_expires_in_from_the_token_exchange_does_not_panic() {
    for raw in ["18446744073709551615", "1e308", "-1"] {
        let emulator = keyless::emulator().await;
        keyless::create_space(
            &emulator,
            keyless::publisher(Some("Deploy"), Some("refs/heads/main")),
        )
        .await;
        emulator.set_token_expires_in(Some(raw));
        let github = FakeGitHub::start(Mode::default()).await;
        github.set_job(keyless::REPOSITORY, "Deploy", "refs/heads/main", "push");
        let job = keyless::Job::new();
        let output = run_action(job.env(&emulator, &github, false, true, &[])).await;
        assert_eq!(output.code, 0, "expires_in {raw}:\n{}", output.both());
        emulator.shutdown().await;
    }
}

/// `hf-deploy args` with `name` set to bytes that are not UTF-8, and nothing else of ours.
fn run_with_bytes(args: &[&str], env: &[(String, String)], name: &str) -> CliOutput {
    let output = Command::new(hf_deploy_bin())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env(name, OsString::from_vec(b"hf_\xff\xfe".to_vec()))
        .output()
        .expect("run hf-deploy");
    CliOutput::from(output)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_environment_variable_that_is_not_utf8_is_exit_2_naming_it() {
    let emulator = emulator().await;
    let source = copy_tree(&example_backend());
    let path = source.path().display().to_string();
    let endpoint = vec![("HF_ENDPOINT".to_string(), emulator.url())];
    let deploy = ["deploy", path.as_str(), "--space", "local/bytes"];
    let output = run_with_bytes(&deploy, &endpoint, "HF_TOKEN");
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output.stderr.contains("`HF_TOKEN` is not UTF-8"),
        "{}",
        output.both()
    );
    let mut runner = hub_env(&emulator, DEFAULT_WRITE_TOKEN);
    runner.push(("GITHUB_ACTIONS".into(), "true".into()));
    let output = run_with_bytes(&["action"], &runner, "INPUT_SPACE");
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output.stderr.contains("`INPUT_SPACE` is not UTF-8"),
        "{}",
        output.both()
    );
    // A variable the binary does not read may hold any bytes.
    let output = run_with_bytes(&["status", "--space", "local/none"], &runner, "LC_BYTES");
    assert_ne!(output.code, 101, "{}", output.both());
    assert!(emulator.request_log().iter().all(|r| r.method == "GET"));
    emulator.shutdown().await;
}

/// Deploy `space` with one frontend origin; the Space's `ALLOWED_ORIGINS` after it, and the
/// secret writes the deploy made.
async fn deploy_origin(emulator: &Emulator, space: &str, origin: &str) -> (String, usize) {
    let before = emulator.request_log().len();
    let output = deploy_with(emulator, space, &[], &["--frontend-url", origin]).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let writes = emulator.request_log()[before..]
        .iter()
        .filter(|r| r.method != "GET" && r.path.ends_with("/secrets"))
        .count();
    let value = emulator
        .secret_value(space, "ALLOWED_ORIGINS")
        .unwrap_or_default();
    (value, writes)
}

#[tokio::test(flavor = "multi_thread")]
async fn allowed_origins_are_merged_with_what_the_space_had() {
    let emulator = emulator().await;
    let space = "local/origins";
    let (first, _) = deploy_origin(&emulator, space, "https://a.example").await;
    assert_eq!(first, "https://a.example");
    let (second, writes) = deploy_origin(&emulator, space, "https://b.example").await;
    assert_eq!(second, "https://a.example,https://b.example");
    assert_eq!(writes, 1);
    // The same origin again: nothing to write (a secret write restarts the Space).
    let (third, writes) = deploy_origin(&emulator, space, "https://b.example").await;
    assert_eq!(third, "https://a.example,https://b.example");
    assert_eq!(writes, 0);
    emulator.shutdown().await;
}

/// `hf-deploy args` with a clean environment plus `env`, on a blocking thread: its output, its
/// peak resident set in KiB ([`peak_rss_kib`]) and how long it ran.
async fn run_measured(args: Vec<String>, env: Vec<(String, String)>) -> (CliOutput, u64, Duration) {
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(hf_deploy_bin());
        command.args(&args).env_clear();
        for key in ["PATH", "HOME", "TMPDIR", "LANG"] {
            if let Some(value) = std::env::var_os(key) {
                command.env(key, value);
            }
        }
        command.env("NO_COLOR", "1").envs(env);
        let started = Instant::now();
        let child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run hf-deploy");
        let pid = child.id();
        // Longer than any run here: the sampler ends with the process.
        let sampler = std::thread::spawn(move || peak_rss_kib(pid, Duration::from_secs(600)));
        let output = child.wait_with_output().expect("hf-deploy output");
        let took = started.elapsed();
        let peak = sampler.join().expect("sampler");
        (CliOutput::from(output), peak, took)
    })
    .await
    .expect("hf-deploy runner thread")
}

/// The `::warning` lines of the job log.
fn warnings(output: &CliOutput) -> Vec<&str> {
    output
        .stdout
        .lines()
        .filter(|l| l.starts_with("::warning"))
        .collect()
}

/// An action-mode deploy with a pull-request comment, then a rerun whose comment list gets
/// `fault`: the rerun deploys, warns naming the call and `expected` words, makes no second
/// comment, and keeps its memory near the first run's. The rerun's output and how long it ran.
async fn comment_list_under(fault: FaultKind, expected: &str) -> (CliOutput, Duration, u64) {
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::new();
    let event = workspace.event("opened");
    let mut env = runner_env(&workspace, &emulator, &github, Some(&event));
    env.extend(base_inputs(&[("frontend-url", "https://a.example".into())]));
    env.push(("HF_DEPLOY_HTTP_TIMEOUT".into(), "5".into()));
    let (first, first_peak, _) = run_measured(vec!["action".into()], env.clone()).await;
    assert_eq!(first.code, 0, "{}", first.both());
    assert_eq!(github.comment_count(2), 1, "{}", first.both());

    github.add_fault(GitHubFault::new(
        "GET",
        "/repos/*/issues/2/comments",
        fault,
        1,
    ));
    let (rerun, peak, took) = run_measured(vec!["action".into()], env).await;
    assert_eq!(rerun.code, 0, "the deploy succeeds:\n{}", rerun.both());
    let warned = warnings(&rerun);
    assert!(
        warned.iter().any(|w| w.contains("no pull-request comment")
            && w.contains("list the comments of pull request `Codertocat/Hello-World#2`")
            && w.contains(expected)),
        "a warning naming the call: {warned:#?}\n{}",
        rerun.both()
    );
    assert_eq!(github.comment_count(2), 1, "no second comment");
    assert!(
        peak < first_peak + 64 * 1024,
        "peak RSS {peak} KiB, {first_peak} KiB without the fault"
    );
    emulator.shutdown().await;
    (rerun, took, github.bytes_streamed())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_github_answer_warns_at_the_cap_and_the_deploy_succeeds() {
    let (_, took, sent) = comment_list_under(
        FaultKind::EndlessBody(200),
        "the GitHub API answer is larger than 16384 KiB",
    )
    .await;
    // What the fake managed to send: the cap, and what the sockets buffer.
    assert!(
        sent > 16 * 1024 * 1024 && sent < 32 * 1024 * 1024,
        "{sent} bytes sent"
    );
    assert!(took < Duration::from_secs(60), "{took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trickling_github_answer_ends_at_the_calls_deadline() {
    let (_, took, sent) = comment_list_under(
        FaultKind::Trickle,
        "the GitHub API did not answer in full within 5 s",
    )
    .await;
    // Each byte came well within any read timeout: only the whole call's deadline ends it.
    assert!((3..=10).contains(&sent), "{sent} bytes trickled");
    assert!(took < Duration::from_secs(60), "{took:?}");
}

/// Bytes an app server below has sent from its endless and trickling answers.
#[derive(Clone, Default)]
struct Sent(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl Sent {
    fn add(&self, bytes: usize) {
        self.0
            .fetch_add(bytes as u64, std::sync::atomic::Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Text an app must never get into the output as it is: an escape sequence that clears the
/// terminal and a workflow command.
const HOSTILE: &str = "\u{1b}[2J\u{1b}]0;owned\u{7}\n::error::forged by the app\n";

/// An app on loopback whose health answers misbehave: `/healthy` is a good answer, `/big` a
/// healthy JSON padded past 256 KiB, `/endless` a JSON that never ends, `/trickle` one byte a
/// second for ever. Its address and the count of what `/endless` and `/trickle` sent.
async fn misbehaving_app() -> (String, Sent) {
    use axum::body::{Body, Bytes};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use futures_util::StreamExt;

    fn json(body: Body) -> Response {
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
    let sent = Sent::default();
    let big = format!(
        r#"{{"status":"healthy","pad":"{}"}}"#,
        "a".repeat(300 * 1024)
    );
    let endless = {
        let sent = sent.clone();
        move || {
            let sent = sent.clone();
            let head = Bytes::from_static(br#"{"status":"healthy","pad":""#);
            let chunk = Bytes::from(HOSTILE.repeat(4096));
            let stream = futures_util::stream::once(std::future::ready(head))
                .chain(futures_util::stream::repeat(chunk))
                .map(move |bytes| {
                    sent.add(bytes.len());
                    Ok::<_, std::io::Error>(bytes)
                });
            std::future::ready(json(Body::from_stream(stream)))
        }
    };
    let trickle = {
        let sent = sent.clone();
        move || {
            let sent = sent.clone();
            let stream = futures_util::stream::unfold(HOSTILE.bytes(), move |mut bytes| {
                let sent = sent.clone();
                async move {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let byte = bytes.next().unwrap_or(b' ');
                    sent.add(1);
                    Some((Ok::<_, std::io::Error>(Bytes::from(vec![byte])), bytes))
                }
            });
            std::future::ready(json(Body::from_stream(stream)))
        }
    };
    let router = axum::Router::new()
        .route(
            "/healthy",
            get(|| std::future::ready(json(Body::from(r#"{"status":"healthy"}"#)))),
        )
        .route(
            "/big",
            get(move || std::future::ready(json(Body::from(big.clone())))),
        )
        .route("/endless", get(endless))
        .route("/trickle", get(trickle));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, sent)
}

/// `hf-deploy verify --json` of `path` on the app at `url`, within `timeout` seconds.
async fn verify_path(url: &str, path: &str, timeout: u64) -> (CliOutput, u64, Duration) {
    let args = strings(&[
        "verify",
        "--app-url",
        url,
        "--health-path",
        path,
        "--timeout",
        &timeout.to_string(),
        "--json",
    ]);
    run_measured(args, Vec::new()).await
}

/// Nothing of [`HOSTILE`] in `output` as it is: no escape, no bell, no workflow command.
fn assert_sanitised(output: &CliOutput) {
    let both = output.both();
    assert!(
        !both.contains('\u{1b}') && !both.contains('\u{7}'),
        "a control character reached the output:\n{both:?}"
    );
    assert!(
        !both.lines().any(|l| l.trim_start().starts_with("::")),
        "a workflow command reached the output:\n{both}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_health_answer_past_its_cap_is_not_a_health_json_end_to_end() {
    let (url, sent) = misbehaving_app().await;
    let (healthy, healthy_peak, _) = verify_path(&url, "/healthy", 20).await;
    assert_eq!(healthy.code, 0, "{}", healthy.both());

    // Healthy JSON, were it read whole: past 256 KiB it is not a health answer.
    let (big, _, took) = verify_path(&url, "/big", 20).await;
    assert_clean_failure(&big);
    assert_eq!(big.json()["error"]["kind"], "unhealthy", "{}", big.both());
    assert!(big.both().contains("not the health JSON"), "{}", big.both());
    assert!(took < Duration::from_secs(25), "{took:?}");

    let (endless, peak, took) = verify_path(&url, "/endless", 20).await;
    assert_clean_failure(&endless);
    assert!(
        endless.both().contains("not the health JSON"),
        "{}",
        endless.both()
    );
    assert_sanitised(&endless);
    assert!(took < Duration::from_secs(25), "{took:?}");
    assert!(
        peak < healthy_peak + 32 * 1024,
        "peak RSS {peak} KiB, {healthy_peak} KiB for a good answer"
    );
    // Each poll reads 256 KiB and drops the rest: what the app could send stays near that.
    assert!(sent.get() < 64 * 1024 * 1024, "{} bytes sent", sent.get());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trickling_health_answer_times_out_naming_the_health_url() {
    let (url, sent) = misbehaving_app().await;
    let (output, _, took) = verify_path(&url, "/trickle", 8).await;
    assert_clean_failure(&output);
    assert!(
        took >= Duration::from_secs(8) && took < Duration::from_secs(20),
        "{took:?}"
    );
    let message = output.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains(&format!("{url}/trickle")),
        "names the health URL: {message}\n{}",
        output.both()
    );
    assert!(sent.get() >= 3, "the trickle had begun: {}", sent.get());
    assert_sanitised(&output);
}
