//! Bad input in action mode: each case exits 2, its `::error::` annotation names the input as
//! the workflow spells it (`color-from`, never `--color-from`), and not one request reaches the
//! Hub stand-in or the fake GitHub (both request logs are counted). The run is a pull request,
//! so a deploy that went ahead would create a deployment, statuses and a comment.

use std::path::Path;

use hf_deploy_tests::fake_github::{FakeGitHub, Mode};
use hf_deploy_tests::{
    action_inputs, copy_dir, copy_tree, example_backend, run_cli_async, workspace_root,
};
use hf_hub_emulator::{DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig};

const GITHUB_TOKEN: &str = "ghs_fakeGitHubTokenForTests000000000000";

/// Every input declared in `action.yml` as the runner passes it, with `given` on top.
fn inputs(given: &[(&str, String)]) -> Vec<(String, String)> {
    let given: Vec<(&str, &str)> = given.iter().map(|(k, v)| (*k, v.as_str())).collect();
    action_inputs(&given)
}

/// A valid step: what each case spoils one input of.
fn good_inputs() -> Vec<(&'static str, String)> {
    vec![
        ("hf-token", DEFAULT_WRITE_TOKEN.into()),
        ("space", "local/action-input".into()),
        ("source", "backend".into()),
        (
            "secrets",
            "GEMINI_API_KEY=AIzaSy-input-secret-0123\nDATABASE_URL=postgresql://u:p@db.example.com/x?sslmode=require\n"
                .into(),
        ),
        ("variables", "LOG_LEVEL=info".into()),
        ("frontend-url", "https://book.example.com".into()),
        ("timeout-minutes", "5".into()),
        ("github-token", GITHUB_TOKEN.into()),
    ]
}

struct Case {
    /// The input spoiled, as `action.yml` names it; the `::error::` line must name it.
    input: &'static str,
    value: String,
    /// The input the error names, when not `input` itself.
    names: Option<&'static str>,
}

fn case(input: &'static str, value: &str) -> Case {
    Case {
        input,
        value: value.to_string(),
        names: None,
    }
}

fn write_workspace(dir: &Path) -> Vec<tempfile::TempDir> {
    let mut keep = Vec::new();
    for (name, dockerfile) in [
        ("backend", None),
        (
            "baddocker",
            Some(
                "FROM python:3.11\nWORKDIR /app\nCOPY . .\nEXPOSE 8000\nCMD [\"uvicorn\", \"app.main:app\", \"--port\", \"8000\"]\n",
            ),
        ),
    ] {
        let copy = copy_tree(&example_backend());
        copy_dir(copy.path(), &dir.join(name));
        if let Some(text) = dockerfile {
            std::fs::write(dir.join(name).join("Dockerfile"), text).unwrap();
        }
        keep.push(copy);
    }
    std::fs::write(dir.join("notadir"), "x").unwrap();
    std::fs::create_dir(dir.join("noapp")).unwrap();
    std::fs::write(dir.join("noapp/requirements.txt"), "fastapi\n").unwrap();
    std::fs::copy(
        workspace_root().join("tests/fixtures/github/pull_request.opened.json"),
        dir.join("event.json"),
    )
    .unwrap();
    keep
}

/// True when `text` holds a command-line flag in backticks, such as `` `--color-from` ``.
fn names_a_flag(text: &str) -> bool {
    text.match_indices("`--")
        .any(|(at, _)| text[at + 3..].starts_with(|c: char| c.is_ascii_lowercase()))
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_action_inputs_exit_2_name_the_input_and_send_nothing_anywhere() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let github = FakeGitHub::start(Mode::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let _copies = write_workspace(dir.path());
    let runner = vec![
        ("GITHUB_ACTIONS".to_string(), "true".to_string()),
        ("GITHUB_WORKSPACE".into(), dir.path().display().to_string()),
        ("GITHUB_REPOSITORY".into(), "Codertocat/Hello-World".into()),
        ("GITHUB_API_URL".into(), github.url.clone()),
        ("GITHUB_SERVER_URL".into(), "https://github.com".into()),
        ("GITHUB_RUN_ID".into(), "1658821493".into()),
        (
            "GITHUB_SHA".into(),
            "1111111111111111111111111111111111111111".into(),
        ),
        ("GITHUB_EVENT_NAME".into(), "pull_request".into()),
        (
            "GITHUB_EVENT_PATH".into(),
            dir.path().join("event.json").display().to_string(),
        ),
        (
            "GITHUB_OUTPUT".into(),
            dir.path().join("output.txt").display().to_string(),
        ),
        ("HF_ENDPOINT".into(), emulator.url()),
    ];
    let long = "x".repeat(61);

    let cases = vec![
        // space
        case("space", "not-a-space-id"),
        case("space", "a/b/c"),
        case("space", "alice/bad--name"),
        case("space", ""),
        // hf-token
        case("hf-token", ""),
        case("hf-token", "hf_two words"),
        // source
        case("source", "no-such-folder"),
        case("source", "notadir"),
        case("source", "noapp"),
        case("source", "baddocker"),
        // secrets: never echo the value
        case("secrets", "GEMINI_API_KEY=trailing-space "),
        case("secrets", "GEMINI_API_KEY= leading-space"),
        case("secrets", "1BAD=value"),
        case("secrets", "BAD-KEY=value"),
        case("secrets", "A=1\njust-a-pasted-line"),
        case("secrets", "=orphan-value"),
        case("secrets", "DUP=first\nDUP=second"),
        case("secrets", "EMPTY="),
        case("secrets", "QDRANT_URL=https://q.example.com:6333/"),
        // variables
        case("variables", "NOEQUALS"),
        case("variables", "BAD KEY=x"),
        case("variables", "LOG_LEVEL=padded "),
        Case {
            input: "variables",
            value: "GEMINI_API_KEY=public".into(),
            names: Some("secrets"),
        },
        // frontend-url
        case("frontend-url", "https://book.example.com/path"),
        case("frontend-url", "book.example.com"),
        case(
            "frontend-url",
            "https://ok.example.com,ftp://files.example.com",
        ),
        // health-path
        case("health-path", "api/health"),
        case("health-path", "/health?x=1"),
        // app-url
        case("app-url", "ftp://example.com"),
        case("app-url", "not a url"),
        case("app-url", "https://user:pw@example.com"),
        // booleans
        case("private", "yes"),
        case("wait", "1"),
        case("dry-run", "on"),
        case("comment", "maybe"),
        case("preview", "tRUE"),
        case("allow-degraded", "y"),
        // timeout-minutes
        case("timeout-minutes", "0"),
        case("timeout-minutes", "abc"),
        case("timeout-minutes", "99999"),
        case("timeout-minutes", "1.5"),
        // README front matter
        case("title", "two\nlines"),
        case("emoji", "ab"),
        case("emoji", "🤖🚀"),
        case("color-from", "orange"),
        case("color-to", "Blue!"),
        case("short-description", &long),
        // hardware
        case("hardware", "Big GPU"),
    ];
    assert!(cases.len() >= 45, "{}", cases.len());

    let mut failures = Vec::new();
    for case in &cases {
        let mut given = good_inputs();
        given.retain(|(name, _)| *name != case.input);
        given.push((case.input, case.value.clone()));
        let mut env = runner.clone();
        env.extend(inputs(&given));
        let output = run_cli_async(vec!["action".into()], env).await;
        let names = case.names.unwrap_or(case.input);
        let error_line = output
            .stdout
            .lines()
            .find(|line| line.starts_with("::error"))
            .unwrap_or_default()
            .to_string();
        let hub = emulator.request_log().len();
        let gh = github.requests().len();
        let problem = if output.code != 2 {
            Some(format!("exit {} instead of 2", output.code))
        } else if !error_line.contains(&format!("`{names}`")) {
            Some(format!("the `::error::` line does not name `{names}`"))
        } else if names_a_flag(&error_line) {
            Some("the `::error::` line names a command-line flag".into())
        } else if hub != 0 || gh != 0 {
            Some(format!(
                "{hub} request(s) reached the Hub and {gh} GitHub so far"
            ))
        } else if output.stdout.contains("::group::") {
            Some("a deploy phase started".into())
        } else {
            None
        };
        if let Some(problem) = problem {
            failures.push(format!(
                "{}={:?}: {problem}\n{}",
                case.input,
                case.value,
                output.both()
            ));
        }
        // Values of the `secrets` input never appear outside their `::add-mask::` lines.
        if case.input == "secrets" {
            for word in [
                "trailing-space",
                "leading-space",
                "pasted-line",
                "orphan-value",
            ] {
                let shown = output
                    .both()
                    .lines()
                    .filter(|l| !l.starts_with("::add-mask::"))
                    .any(|l| l.contains(word));
                if shown {
                    failures.push(format!("secrets={:?}: `{word}` shown", case.value));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} case(s) failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    assert!(emulator.request_log().is_empty());
    assert!(
        github.requests().is_empty(),
        "GitHub saw: {:?}",
        github
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect::<Vec<_>>()
    );

    // The same step with good inputs does reach both (the counts above can fail).
    let mut env = runner.clone();
    env.extend(inputs(&good_inputs()));
    env.push(("INPUT_DRY-RUN".into(), "true".into()));
    let output = run_cli_async(vec!["action".into()], env).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(
        !emulator.request_log().is_empty(),
        "a dry run reads the Hub: {}",
        output.both()
    );
    emulator.shutdown().await;
}
