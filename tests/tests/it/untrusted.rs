//! End-to-end: text from outside (an app's logs and health answers) reaches every channel of
//! the real binary only through the door, redacted. One test per defect of issue 16, against
//! the stand-in's misbehaving apps (`ScriptedRunner::crash_printing_settings`,
//! `ScriptedApp::hostile_health`, `.hostile_build_log()`) and the fake GitHub.

use hf_deploy_tests::fake_github::{FakeGitHub, Mode, Recorded};
use hf_deploy_tests::{CliOutput, example_backend, hub_env, run_action, run_cli_async, strings};
use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, Runner, ScriptedApp, ScriptedResponse,
    ScriptedRoute, ScriptedRunner,
};

use crate::action::{Workspace, base_inputs, runner_env, without_masks};

/// Secret values that look like nothing else a run prints, so that a piece of one is a leak.
const GEMINI: &str = "gmKEYzq8WvX3rT5nLpQ";
const DB_PASSWORD: &str = "Pw7xQzLkV3mHy";
/// The password of a URL-valued *variable*: secret too.
const CACHE_PASSWORD: &str = "Cv5tRwNqJsXb";
const GITHUB_TOKEN: &str = "ghs_untrustedTestTokenAbCdEfGh012345";
const ORIGIN: &str = "https://book.example.com";
const HEALTHY: &str = r#"{"status":"healthy","services":{"fastapi":"ok"}}"#;

fn secrets_input() -> String {
    format!(
        "GEMINI_API_KEY={GEMINI}\nDATABASE_URL=postgresql://app:{DB_PASSWORD}@db.example.com/app?sslmode=require\n"
    )
}

fn variables_input() -> String {
    format!("LOG_LEVEL=info\nCACHE_URL=redis://cache:{CACHE_PASSWORD}@cache.example.com/0\n")
}

/// Panics when `text` holds a secret value, or a piece of 4 characters or more of one that a
/// cut could leave at an edge (a prefix or a suffix); or a token.
fn assert_no_secret(what: &str, text: &str) {
    for secret in [GEMINI, DB_PASSWORD, CACHE_PASSWORD] {
        let chars: Vec<char> = secret.chars().collect();
        for n in 4..=chars.len() {
            let prefix: String = chars[..n].iter().collect();
            let suffix: String = chars[chars.len() - n..].iter().collect();
            for piece in [prefix, suffix] {
                assert!(
                    !text.contains(&piece),
                    "`{piece}`, a piece of a secret, in {what}:\n{text}"
                );
            }
        }
    }
    for token in [DEFAULT_WRITE_TOKEN, GITHUB_TOKEN] {
        assert!(!text.contains(token), "a token in {what}:\n{text}");
    }
}

/// A stand-in whose every Space plays `runner`.
async fn stand_in(runner: ScriptedRunner) -> Emulator {
    Emulator::start(EmulatorConfig {
        runner: Runner::Scripted(runner),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the Hub stand-in starts")
}

/// What one action run left: its streams, outputs, summary and GitHub requests.
struct ActionRun {
    output: CliOutput,
    outputs_file: String,
    summary: String,
    requests: Vec<Recorded>,
    comment: Option<String>,
}

/// `hf-deploy action` for pull request #2 against `emulator`, with the secrets and variables
/// above, a frontend origin and a GitHub token.
async fn action_run(emulator: &Emulator) -> ActionRun {
    let github = FakeGitHub::start(Mode::default()).await;
    let workspace = Workspace::new();
    let event = workspace.event("opened");
    let mut env = runner_env(&workspace, emulator, &github, Some(&event));
    env.extend(base_inputs(&[
        ("secrets", secrets_input()),
        ("variables", variables_input()),
        ("frontend-url", ORIGIN.into()),
        ("github-token", GITHUB_TOKEN.into()),
    ]));
    let output = run_action(env).await;
    let read = |name: &str| std::fs::read_to_string(workspace.path(name)).unwrap_or_default();
    ActionRun {
        outputs_file: read("output.txt"),
        summary: read("summary.md"),
        requests: github.requests(),
        comment: github.comment_with("hf-deploy:space=local/action-app"),
        output,
    }
}

/// `hf-deploy deploy` of the example backend to `space` with the secrets and variables above.
async fn cli_deploy(emulator: &Emulator, space: &str, json: bool) -> CliOutput {
    let source = example_backend();
    let cache_url = format!("CACHE_URL=redis://cache:{CACHE_PASSWORD}@cache.example.com/0");
    let database_url =
        format!("DATABASE_URL=postgresql://app:{DB_PASSWORD}@db.example.com/app?sslmode=require");
    let gemini = format!("GEMINI_API_KEY={GEMINI}");
    let mut args = strings(&[
        "deploy",
        "--space",
        space,
        "--timeout",
        "120",
        "--frontend-url",
        ORIGIN,
        "--secret",
        &gemini,
        "--secret",
        &database_url,
        "--variable",
        "LOG_LEVEL=info",
        "--variable",
        &cache_url,
    ]);
    if json {
        args.push("--json".into());
    }
    args.push(source.display().to_string());
    run_cli_async(args, hub_env(emulator, DEFAULT_WRITE_TOKEN)).await
}

/// Defect: an app that prints its settings when it crashes (a pydantic `ValidationError`) put
/// `GEMINI_API_KEY=…` and the `DATABASE_URL` password in clear text in the PR comment, the step
/// summary, the CLI's JSON and text output. No secret value, nor a piece of one, reaches any
/// channel: the comment, the summary, stdout and stderr of action mode (annotations included),
/// the outputs file, deployment statuses and every other GitHub request, the CLI's `--json` and
/// text output.
#[tokio::test(flavor = "multi_thread")]
async fn a_crash_that_prints_the_settings_shows_no_secret_anywhere() {
    let emulator = stand_in(ScriptedRunner::crash_printing_settings()).await;
    let run = action_run(&emulator).await;
    assert_eq!(run.output.code, 1, "{}", run.output.both());
    let comment = run.comment.expect("the failure is commented");
    for (what, text) in [("the comment", &comment), ("the summary", &run.summary)] {
        assert!(text.contains("RUNTIME_ERROR"), "{what}: {text}");
        assert!(
            text.contains("GEMINI_API_KEY=***"),
            "the crash's settings are shown, redacted, in {what}: {text}"
        );
        assert!(text.contains("input_value='***'"), "{what}: {text}");
    }
    assert_no_secret("the comment", &comment);
    assert_no_secret("the step summary", &run.summary);
    assert_no_secret("action stdout", &without_masks(&run.output.stdout));
    assert_no_secret("action stderr", &run.output.stderr);
    assert_no_secret("the outputs file", &run.outputs_file);
    let statuses = run
        .requests
        .iter()
        .filter(|r| r.path.contains("/statuses"))
        .count();
    assert!(statuses >= 2, "deployment statuses were sent");
    for request in &run.requests {
        assert_no_secret(
            "a GitHub request",
            &format!("{} {} {}", request.method, request.path, request.body),
        );
    }

    let json = cli_deploy(&emulator, "local/crash-json", true).await;
    assert_eq!(json.code, 1, "{}", json.both());
    let report = json.json();
    let tail = report["log_tail"].to_string();
    assert!(tail.contains("GEMINI_API_KEY=***"), "{tail}");
    assert_no_secret("the CLI's JSON", &json.stdout);
    assert_no_secret("the CLI's stderr (JSON mode)", &json.stderr);

    let text = cli_deploy(&emulator, "local/crash-text", false).await;
    assert_eq!(text.code, 1, "{}", text.both());
    assert!(
        text.stdout.contains("GEMINI_API_KEY=***"),
        "{}",
        text.both()
    );
    assert_no_secret("the CLI's text report", &text.stdout);
    assert_no_secret("the CLI's stderr", &text.stderr);
    emulator.shutdown().await;
}

/// The workflow commands hf-deploy itself writes; any other line that the runner would take for
/// a command is forged.
fn is_own_command(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("::") else {
        return false;
    };
    let (command, _) = rest.split_once("::").unwrap_or((rest, ""));
    let mut words = command.splitn(2, ' ');
    let name = words.next().unwrap_or_default();
    let properties = words.next().unwrap_or_default();
    match name {
        "add-mask" | "endgroup" => properties.is_empty(),
        "group" => {
            properties.is_empty()
                && (rest.starts_with("group::hf-deploy: ")
                    || rest.starts_with("group::Build log ("))
        }
        "error" | "warning" | "notice" => properties
            .split(',')
            .any(|p| p.starts_with("title=hf-deploy")),
        _ => false,
    }
}

/// Every line of `stream` that the runner would act on is hf-deploy's own command: no other
/// line starts with `::`, and none holds a legacy `##[` command (a line that is one of the
/// tool's commands is that command, whatever its message quotes).
fn assert_no_forged_command(what: &str, stream: &str) {
    for line in stream.lines() {
        let start = line.trim_start();
        if start.starts_with("::") {
            assert!(
                is_own_command(start),
                "a forged workflow command in {what}: {line:?}\n{stream}"
            );
            continue;
        }
        assert!(
            !line.contains("##["),
            "a legacy command in {what}: {line:?}"
        );
    }
}

/// Defect: a health `status` of `"healthy\n::error file=…::…"` was printed to stdout as is
/// (forged annotations, `::stop-commands::`), and the `health` output became several lines of
/// the app's text. No line of stdout or stderr starts a workflow command other than the tool's
/// own, and the `health` output is one word of its vocabulary.
#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_health_status_forges_no_workflow_command_and_no_output() {
    let app = ScriptedApp::hostile_health("/api/health").cors_origin(ORIGIN);
    let emulator = stand_in(ScriptedRunner::running().app(app)).await;
    let run = action_run(&emulator).await;
    assert_eq!(
        run.output.code,
        1,
        "a status that is not a health word is unhealthy: {}",
        run.output.both()
    );
    assert_no_forged_command("stdout", &run.output.stdout);
    assert_no_forged_command("stderr", &run.output.stderr);
    assert!(
        run.output
            .stdout
            .lines()
            .any(|l| l.starts_with("::error title=hf-deploy") && l.contains("forged")),
        "the app's answer is shown, inside the tool's own annotation: {}",
        run.output.stdout
    );
    let outputs = parse_outputs_text(&run.outputs_file);
    let health = &outputs["health"];
    assert_eq!(health, "unhealthy", "{outputs:?}");
    for value in outputs.values() {
        assert!(!value.contains('\n'), "one line per output: {outputs:?}");
        assert!(!value.contains("forged"), "no text of the app: {outputs:?}");
    }
    emulator.shutdown().await;
}

fn parse_outputs_text(text: &str) -> std::collections::BTreeMap<String, String> {
    hf_deploy_tests::runner_read_outputs(text).expect("the runner reads the outputs file")
}

/// `markdown` without its fenced code blocks (CommonMark: a line of 3 or more backticks or
/// tildes opens one, closed by a line of the same character at least as long), where nothing
/// is live.
fn outside_code_blocks(markdown: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<(char, usize)> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        let run = |c: char| trimmed.chars().take_while(|&x| x == c).count();
        match fence {
            Some((c, n)) => {
                if run(c) >= n && trimmed.trim_end().chars().all(|x| x == c) {
                    fence = None;
                }
            }
            None => {
                let opened = ['`', '~']
                    .into_iter()
                    .map(|c| (c, run(c)))
                    .find(|(_, n)| *n >= 3);
                match opened {
                    Some(open) => fence = Some(open),
                    None => {
                        out.push_str(line);
                        out.push('\n');
                    }
                }
            }
        }
    }
    assert!(fence.is_none(), "a code block is never closed:\n{markdown}");
    out
}

/// Nothing of the app's Markdown is live: no link or image but the tool's own (to the Space,
/// the app and the workflow run), no HTML but the tool's `<details>` and marker, no mention, no
/// autolink; and the `<details>` of the log is closed once.
fn assert_inert_markdown(what: &str, markdown: &str) {
    let live = outside_code_blocks(markdown);
    for (at, _) in live.match_indices("](") {
        let target = &live[at + 2..];
        assert!(
            target.starts_with("http://127.0.0.1") || target.starts_with("https://github.com/"),
            "a link the app wrote in {what}: {}\n{markdown}",
            &live[at.saturating_sub(40)..(at + 60).min(live.len())]
        );
    }
    for forbidden in [
        "![",
        "<img",
        "<script",
        "@octocat",
        "@someone",
        "https://evil",
        "https://phish",
        "https://tracker",
        "<https",
    ] {
        // After a backslash, a punctuation character is text (CommonMark escapes).
        let unescaped = live
            .match_indices(forbidden)
            .any(|(at, _)| !live[..at].ends_with('\\'));
        assert!(!unescaped, "`{forbidden}` is live in {what}:\n{markdown}");
    }
    for (at, _) in live.match_indices("<!--") {
        assert!(
            live[at..].starts_with("<!-- hf-deploy:"),
            "an HTML comment the app wrote in {what}:\n{markdown}"
        );
    }
    assert_eq!(
        live.matches("<details>").count(),
        live.matches("</details>").count(),
        "{what}:\n{markdown}"
    );
    let hostile_table_row = live
        .lines()
        .any(|line| line.trim() == "| a | b |" || line.trim() == "| forged | table |");
    assert!(!hostile_table_row, "a table the app wrote in {what}");
}

/// Defect: Markdown from the app (`[fix](https://phish…)`, `![x](https://tracker…)`,
/// `@someone`, HTML) was live in the PR comment and the step summary. Health details and the
/// log tail are shown inert in both.
#[tokio::test(flavor = "multi_thread")]
async fn markdown_from_the_app_is_inert_in_the_comment_and_the_summary() {
    // Health details with links, images, mentions, HTML and a table.
    let app = ScriptedApp::hostile_health("/api/health").cors_origin(ORIGIN);
    let emulator = stand_in(ScriptedRunner::running().app(app)).await;
    let run = action_run(&emulator).await;
    let comment = run.comment.expect("the deploy is commented");
    assert!(
        comment.contains("click me"),
        "the details are shown: {comment}"
    );
    assert_inert_markdown("the comment (health)", &comment);
    assert_inert_markdown("the summary (health)", &run.summary);
    emulator.shutdown().await;

    // A failed build whose log carries Markdown and a fence and `</details>` of its own.
    let runner = ScriptedRunner::failing("BUILD_ERROR")
        .hostile_build_log()
        .build_log("[fix](https://phish.example/x) ![x](https://tracker.example/p.png) @someone")
        .build_log("<img src=x onerror=alert(1)> </details> <!-- hidden -->")
        .build_log("```")
        .build_log("~~~~")
        .build_log("after the fences: [again](https://phish.example/y)");
    let emulator = stand_in(runner).await;
    let run = action_run(&emulator).await;
    assert_eq!(run.output.code, 1, "{}", run.output.both());
    let comment = run.comment.expect("the failure is commented");
    assert!(
        comment.contains("after the fences"),
        "the log is shown: {comment}"
    );
    assert_inert_markdown("the comment (log)", &comment);
    assert_inert_markdown("the summary (log)", &run.summary);
    emulator.shutdown().await;
}

/// Escape sequences and the controls a terminal acts on.
fn assert_no_escape(what: &str, text: &str) {
    let bad = text.chars().find(|&c| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    });
    assert!(
        bad.is_none(),
        "{bad:?} reaches {what}:\n{}",
        text.escape_debug()
    );
}

/// Defect: build-log lines reached the terminal with escape sequences (colours, screen control,
/// OSC 8 links, OSC 0 titles, OSC 52 clipboard writes, an 8-bit CSI, `\r`, NUL). No ESC, BEL,
/// C1 or other control byte reaches the output of `deploy` on the command line, nor the
/// workflow log of the action (where no log line becomes a command either).
#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_build_log_puts_no_escape_on_the_terminal_nor_in_the_workflow_log() {
    let app = ScriptedApp::new()
        .route(ScriptedRoute::get("/api/health").then(ScriptedResponse::json(200, HEALTHY)))
        .cors_origin(ORIGIN);
    let runner = ScriptedRunner::running().hostile_build_log().app(app);
    let emulator = stand_in(runner).await;

    let cli = cli_deploy(&emulator, "local/hostile-log", false).await;
    assert_eq!(cli.code, 0, "{}", cli.both());
    assert!(
        cli.stderr.contains("screen cleared") && cli.stderr.contains("8-bit CSI"),
        "the build log streams to stderr: {}",
        cli.stderr
    );
    assert_no_escape("the CLI's stdout", &cli.stdout);
    assert_no_escape("the CLI's stderr", &cli.stderr);

    let run = action_run(&emulator).await;
    assert_eq!(run.output.code, 0, "{}", run.output.both());
    assert!(
        run.output.stdout.contains("forged annotation"),
        "the build log is in the job log: {}",
        run.output.stdout
    );
    assert_no_escape("the action's stdout", &run.output.stdout);
    assert_no_escape("the action's stderr", &run.output.stderr);
    assert_no_forged_command("the action's stdout", &run.output.stdout);
    assert_no_forged_command("the action's stderr", &run.output.stderr);
    emulator.shutdown().await;
}

/// Defect: a secret cut across two log lines, or cut by the first line of the log tail, was
/// shown in part. The run log prints the Gemini key cut by the 50-line tail's first line, and
/// the database password cut across two lines; neither shows, in the JSON report nor the
/// text report.
#[tokio::test(flavor = "multi_thread")]
async fn a_secret_cut_across_log_lines_or_by_the_tail_is_redacted() {
    let (gemini_head, gemini_rest) = GEMINI.split_at(7);
    let (db_head, db_rest) = DB_PASSWORD.split_at(6);
    let mut runner = ScriptedRunner::failing("RUNTIME_ERROR")
        .run_log("starting")
        .run_log(&format!("GEMINI_API_KEY={gemini_head}"))
        // The tail (the last 50 lines) starts here, inside the key.
        .run_log(&format!("{gemini_rest} <- the tail starts inside the key"));
    for n in 0..45 {
        runner = runner.run_log(&format!("filler line {n}"));
    }
    runner = runner
        .run_log(&format!("DATABASE_URL=postgresql://app:{db_head}"))
        .run_log(&format!("{db_rest}@db.example.com/app"))
        .run_log("ValueError: the settings do not validate")
        .run_log("exit 1");
    let emulator = stand_in(runner).await;

    let json = cli_deploy(&emulator, "local/cut-json", true).await;
    assert_eq!(json.code, 1, "{}", json.both());
    let report = json.json();
    let tail: Vec<&str> = report["log_tail"]
        .as_array()
        .expect("a log tail")
        .iter()
        .filter_map(|line| line.as_str())
        .collect();
    assert_eq!(tail.len(), 50, "{tail:?}");
    assert_eq!(
        tail[0], "*** <- the tail starts inside the key",
        "the key's piece at the tail's start"
    );
    assert_eq!(tail[46], "DATABASE_URL=postgresql://app:***", "{tail:?}");
    assert_eq!(tail[47], "***@db.example.com/app", "{tail:?}");
    assert_no_secret("the JSON report", &json.stdout);
    assert_no_secret("stderr (JSON mode)", &json.stderr);

    let text = cli_deploy(&emulator, "local/cut-text", false).await;
    assert_eq!(text.code, 1, "{}", text.both());
    assert!(
        text.stdout
            .contains("*** <- the tail starts inside the key"),
        "{}",
        text.both()
    );
    assert_no_secret("the text report", &text.stdout);
    assert_no_secret("stderr", &text.stderr);
    emulator.shutdown().await;
}
