//! Every input of action mode with its bad values, and the runner's variables the action needs.
//!
//! The run is a pull request's, so a deploy that went ahead would also create a GitHub
//! deployment, statuses and a comment: both stand-ins are counted. The error must be an
//! `::error` annotation naming the input as the workflow spells it (`color-from`, never
//! `--color-from`); values of `secrets` (which hold `s3cr3t`) show only in `::add-mask::` lines.

use std::path::Path;

use hf_deploy_tests::{action_inputs, copy_dir, example_backend, run_action, workspace_root};
use hf_hub_emulator::DEFAULT_WRITE_TOKEN;

use super::{Places, Seen, Sends, Stands, Verdicts, label};

/// The input spoiled, its value (`{name}` placeholders filled by [`places`]) and the input the
/// `::error` line must name when not that one.
struct Row(&'static str, &'static str, Option<&'static str>);

/// The cases of this family (each one run and judged by its test).
pub(super) const CASES: usize = INPUTS.len() + RUNNER.len();

#[rustfmt::skip]
const INPUTS: &[Row] = &[
    Row("space", "a", None),
    Row("space", "-a/b", None),
    Row("space", "a/b.git", None),
    Row("space", "local/{name97}", None),
    Row("space", "ünï/x", None),
    Row("space", "a b/c", None),
    Row("space", "a/", None),
    Row("space", "local/x.", None),
    Row("space", "local/x..y", None),
    Row("space", "local/x\nlocal/y", None),
    Row("hf-token", "hf_s3cr3t\nsecond-line", None),
    Row("hf-token", "hf_s3cr3t\u{7f}", None),
    Row("hf-endpoint", "not a url", None),
    Row("hf-endpoint", "ftp://hub.example.com", None),
    Row("hf-endpoint", "https://user:pw@hub.example.com", None),
    Row("source", "../outside", None),
    Row("source", "{outside}", None),
    Row("source", "backend/../../outside", None),
    Row("source", ".", None),
    Row("source", "backend/app/main.py", None),
    Row("secrets", "export GEMINI_API_KEY=s3cr3t", None),
    Row("secrets", "GEMINI_API_KEY=s3cr3t\t", None),
    Row("secrets", "{key129}=s3cr3t", None),
    Row("secrets", "ÄPI_KEY=s3cr3t", None),
    Row("secrets", "A_KEY=s3cr3t\r\nstray-s3cr3t", None),
    Row("secrets", "   =s3cr3t", None),
    Row("secrets", "GEMINI_API_KEY=\"s3cr3t\" ", None),
    Row("secrets", "LOG_LEVEL=s3cr3t", None),
    Row("variables", "LOG_LEVEL=", None),
    Row("variables", "LOG_LEVEL= info", None),
    Row("variables", "1LOG=info", None),
    Row("variables", "LOG_LEVEL=info\nLOG_LEVEL=debug", None),
    Row("variables", "=info", None),
    Row("variables", "ALLOWED_ORIGINS=https://x.example.com", None),
    Row("frontend-url", "null", None),
    Row("frontend-url", "*", None),
    Row("frontend-url", "https://book.example.com?x=1", None),
    Row("frontend-url", "https://book.example.com#top", None),
    Row("frontend-url", "https://user@book.example.com", None),
    Row("frontend-url", "http://", None),
    Row("frontend-url", "file:///etc/passwd", None),
    Row("frontend-url", "https://ok.example.com\nhttps://bad.example.com/path", None),
    Row("health-path", "/api health", None),
    Row("health-path", "/health#top", None),
    Row("health-path", "health", None),
    Row("app-url", "//example.com", None),
    Row("app-url", "https://", None),
    Row("app-url", "mailto:a@example.com", None),
    Row("app-url", "http://exa mple.com", None),
    Row("app-url", "javascript:alert(1)", None),
    Row("private", "no", None),
    Row("private", "tru e", None),
    Row("wait", "0", None),
    Row("wait", "\"true\"", None),
    Row("dry-run", "off", None),
    Row("dry-run", "1", None),
    Row("comment", "False!", None),
    Row("comment", "on", None),
    Row("preview", "yes", None),
    Row("preview", "True False", None),
    Row("allow-degraded", "t", None),
    Row("timeout-minutes", "-1", None),
    Row("timeout-minutes", "1441", None),
    Row("timeout-minutes", "1e3", None),
    Row("timeout-minutes", "20m", None),
    Row("timeout-minutes", "٣", None),
    Row("timeout-minutes", "18446744073709551616", None),
    Row("timeout-minutes", "0x10", None),
    Row("timeout-minutes", "2 0", None),
    Row("title", "tab\there", None),
    Row("emoji", "x", None),
    Row("emoji", "🚀 x", None),
    Row("color-from", "Red", None),
    Row("color-to", "grey", None),
    Row("short-description", "two\nlines", None),
    Row("hardware", "CPU-BASIC", None),
    Row("hardware", "-cpu", None),
    Row("hardware", "cpu_basic", None),
    Row("hardware", "{hw65}", None),
    Row("hardware", "t4 small", None),
];

/// The runner's variables: `(name, value)`, `None` to unset it; the input the error names.
#[rustfmt::skip]
const RUNNER: &[(&str, Option<&str>, &str)] = &[
    ("GITHUB_WORKSPACE", None, "source"),
    ("GITHUB_WORKSPACE", Some("{d}/no-such-workspace"), "source"),
    ("GITHUB_WORKSPACE", Some("{d}/workspace/notes.txt"), "source"),
];

/// A valid step: what each case spoils one input of. `wait: false` keeps a deploy that goes
/// ahead (a known defect) short.
fn good_inputs() -> Vec<(&'static str, String)> {
    vec![
        ("hf-token", DEFAULT_WRITE_TOKEN.into()),
        ("space", "local/corpus-action".into()),
        ("source", "backend".into()),
        (
            "secrets",
            "GEMINI_API_KEY=s3cr3t-good\nDATABASE_URL=postgresql://u:s3cr3t@db.example.com/x?sslmode=require\n".into(),
        ),
        ("variables", "LOG_LEVEL=info".into()),
        ("frontend-url", "https://book.example.com".into()),
        ("timeout-minutes", "5".into()),
        ("wait", "false".into()),
        ("github-token", "ghs_corpusFakeToken0000000000000000".into()),
    ]
}

/// The runner's workspace `{d}/workspace` (the example backend at `backend/`, a note, the event)
/// and a valid backend outside it, `{d}/outside`.
fn places(stands: &Stands, dir: &Path) -> Places {
    let workspace = dir.join("workspace");
    copy_dir(&example_backend(), &workspace.join("backend"));
    copy_dir(&example_backend(), &dir.join("outside"));
    std::fs::write(workspace.join("notes.txt"), "x").expect("write");
    std::fs::copy(
        workspace_root().join("tests/fixtures/github/pull_request.opened.json"),
        dir.join("event.json"),
    )
    .expect("copy the event");
    let mut places = Places::new();
    places.path("d", dir);
    places.path("outside", &dir.join("outside"));
    places.set("hub", stands.emulator.url());
    places.set("name97", "n".repeat(97));
    places.set("key129", "K".repeat(129));
    places.set("hw65", "a".repeat(65));
    places
}

/// The runner's variables of a pull request run in `{d}/workspace`.
pub(super) fn runner(stands: &Stands, dir: &Path, event: &Path) -> Vec<(String, String)> {
    vec![
        ("GITHUB_ACTIONS".into(), "true".into()),
        (
            "GITHUB_WORKSPACE".into(),
            dir.join("workspace").display().to_string(),
        ),
        ("GITHUB_REPOSITORY".into(), "Codertocat/Hello-World".into()),
        ("GITHUB_API_URL".into(), stands.github.url.clone()),
        ("GITHUB_SERVER_URL".into(), "https://github.com".into()),
        ("GITHUB_RUN_ID".into(), "1658821493".into()),
        (
            "GITHUB_SHA".into(),
            "1111111111111111111111111111111111111111".into(),
        ),
        ("GITHUB_EVENT_NAME".into(), "pull_request".into()),
        ("GITHUB_EVENT_PATH".into(), event.display().to_string()),
        (
            "GITHUB_OUTPUT".into(),
            dir.join("output.txt").display().to_string(),
        ),
        ("HF_ENDPOINT".into(), stands.emulator.url()),
    ]
}

/// Every input of `action.yml` as the runner passes it: `good` with `(input, value)` on top.
pub(super) fn inputs(good: &[(&str, String)], spoil: &[(&str, String)]) -> Vec<(String, String)> {
    let mut given: Vec<(&str, &str)> = good
        .iter()
        .filter(|(name, _)| !spoil.iter().any(|(n, _)| n == name))
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    given.extend(spoil.iter().map(|(k, v)| (*k, v.as_str())));
    action_inputs(&given)
}

/// True when `text` holds a command-line flag in backticks, such as `` `--color-from` ``.
fn names_a_flag(text: &str) -> bool {
    text.match_indices("`--")
        .any(|(at, _)| text[at + 3..].starts_with(|c: char| c.is_ascii_lowercase()))
}

/// What the harness judges of an action run: the `::error` line names `` `names` `` and no
/// flag; no secret value outside the masks; no deploy phase started.
pub(super) fn judge(
    output: &hf_deploy_tests::CliOutput,
    names: &str,
    sent: (Vec<String>, Vec<String>),
) -> Seen {
    let error_line = output
        .stdout
        .lines()
        .find(|line| line.starts_with("::error"))
        .unwrap_or_default();
    let mut problems = Vec::new();
    if names_a_flag(error_line) {
        problems.push("the `::error` line names a command-line flag".to_string());
    }
    let shown = output
        .both()
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .any(|l| l.contains("s3cr3t"));
    if shown {
        problems.push("a secret value is shown".into());
    }
    if output.code == 2 && output.stdout.contains("::group::") {
        problems.push("a deploy phase started".into());
    }
    Seen {
        code: output.code,
        named: error_line.contains(&format!("`{names}`")),
        hub: sent.0,
        github: sent.1,
        problems,
        output: output.both(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn corpus_action_inputs() {
    let stands = Stands::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let places = places(&stands, dir.path());
    let runner = runner(&stands, dir.path(), &dir.path().join("event.json"));
    let mut verdicts = Verdicts::new("action");

    // The good run: a dry run reads the Hub and writes nothing anywhere (no comment either).
    let mark = stands.mark().await;
    let mut env = runner.clone();
    env.extend(inputs(&good_inputs(), &[("dry-run", "true".into())]));
    let output = run_action(env).await;
    let seen = judge(&output, "", stands.since(mark).await);
    verdicts.good_run(&seen, Sends::Reads, false);

    for Row(input, value, names) in INPUTS {
        let mut env = runner.clone();
        env.extend(inputs(&good_inputs(), &[(input, places.fill(value))]));
        let mark = stands.mark().await;
        let output = run_action(env).await;
        let seen = judge(&output, names.unwrap_or(input), stands.since(mark).await);
        verdicts.record(&label(&[&format!("{input}={value}")]), seen);
    }
    for (name, value, names) in RUNNER {
        let mut env: Vec<(String, String)> =
            runner.iter().filter(|(k, _)| k != name).cloned().collect();
        if let Some(value) = value {
            env.push((name.to_string(), places.fill(value)));
        }
        env.extend(inputs(&good_inputs(), &[]));
        let mark = stands.mark().await;
        let output = run_action(env).await;
        let seen = judge(&output, names, stands.since(mark).await);
        let case = match value {
            Some(value) => format!("runner: {name}={value}"),
            None => format!("runner: no {name}"),
        };
        verdicts.record(&label(&[&case]), seen);
    }
    verdicts.finish(80);
    stands.emulator.shutdown().await;
}
