//! End-to-end: `hf-deploy.toml` under the command line and under the action. Precedence (flags
//! over the environment over the file; inputs over the file, an input left at its default not
//! counting), every kind of bad file with its `file:line:column` (exit 2, nothing sent), a secret
//! value refused, `init` writing a file that reads back.

use std::path::{Path, PathBuf};
use std::process::Command;

use hf_deploy_tests::{
    CliOutput, action_inputs, copy_dir, example_backend, hf_deploy_bin, run_action,
    runner_read_outputs,
};
use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, Runner, ScriptedApp, ScriptedResponse,
    ScriptedRoute, ScriptedRunner,
};

const HEALTHY: &str = r#"{"status":"healthy","services":{"fastapi":"ok"}}"#;
const GEMINI: &str = "AIzaSy-config-secret-0123456789";
/// An endpoint where nothing listens: a deploy that used it would fail (exit 1), not exit 2.
const DEAD: &str = "http://127.0.0.1:9";

/// A stand-in whose scripted app answers health at `/api/health` and `/healthz`.
async fn emulator() -> Emulator {
    let app = ScriptedApp::new()
        .route(ScriptedRoute::get("/api/health").then(ScriptedResponse::json(200, HEALTHY)))
        .route(ScriptedRoute::get("/healthz").then(ScriptedResponse::json(200, HEALTHY)));
    let config = EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running().app(app)),
        ..EmulatorConfig::default()
    };
    Emulator::start(config).await.expect("the stand-in starts")
}

/// A repository folder: the example backend at `backend/` and `hf-deploy.toml` holding `toml`.
fn repository(toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&example_backend(), &dir.path().join("backend"));
    std::fs::create_dir(dir.path().join(".git")).expect(".git");
    std::fs::write(dir.path().join("hf-deploy.toml"), toml).expect("write the file");
    dir
}

/// `hf-deploy` run in `dir` with a clean environment plus `env`.
fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> CliOutput {
    let mut command = Command::new(hf_deploy_bin());
    command.args(args).current_dir(dir).env_clear();
    for key in ["PATH", "HOME", "TMPDIR", "LANG"] {
        if let Some(value) = std::env::var_os(key) {
            command.env(key, value);
        }
    }
    command.env("NO_COLOR", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    CliOutput::from(command.output().expect("run hf-deploy"))
}

async fn run_in_async(dir: PathBuf, args: Vec<String>, env: Vec<(String, String)>) -> CliOutput {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_in(&dir, &args, &env)
    })
    .await
    .expect("hf-deploy runner thread")
}

/// A bad file's run: exit 2, the error starting with `expected` (its `file:line:column`), nothing
/// on stdout.
fn assert_refused_at(output: &CliOutput, toml: &str, expected: &str) {
    assert_eq!(output.code, 2, "{toml}\n{}", output.both());
    assert!(
        output.stderr.starts_with(expected),
        "{toml}\n{}",
        output.both()
    );
    assert!(output.stdout.is_empty(), "{}", output.both());
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_file_yields_to_the_environment_which_yields_to_flags() {
    let emulator = emulator().await;
    let url = emulator.url();
    // The file alone: its Space, and its `hf-endpoint` (no `HF_ENDPOINT`).
    let repo = repository(&format!(
        "[[space]]\nspace = \"local/from-file\"\nhf-endpoint = \"{url}\"\nhealth-path = \"/healthz\"\ntimeout-minutes = 2\n"
    ));
    let dir = repo.path().to_path_buf();
    let token = ("HF_TOKEN", DEFAULT_WRITE_TOKEN);
    let output = run_in_async(dir.clone(), owned(&["deploy", "--json"]), pairs(&[token])).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let report = output.json();
    assert_eq!(report["space_id"], "local/from-file");
    assert!(
        report["health_url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/healthz")),
        "{report}"
    );

    // `HF_ENDPOINT` wins over the file's `hf-endpoint` (which now points nowhere), and
    // `HF_DEPLOY_SPACE` over its `space`.
    std::fs::write(
        dir.join("hf-deploy.toml"),
        format!("[[space]]\nspace = \"local/from-file\"\nhf-endpoint = \"{DEAD}\"\n"),
    )
    .expect("rewrite");
    let env = [
        token,
        ("HF_ENDPOINT", url.as_str()),
        ("HF_DEPLOY_SPACE", "local/from-env"),
    ];
    let output = run_in_async(dir.clone(), owned(&["deploy", "--json"]), pairs(&env)).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert_eq!(output.json()["space_id"], "local/from-env");

    // `--space` wins over both.
    let args = owned(&[
        "deploy",
        "--json",
        "--space",
        "local/from-flag",
        "--health-path",
        "/healthz",
    ]);
    let output = run_in_async(dir.clone(), args, pairs(&env)).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let report = output.json();
    assert_eq!(report["space_id"], "local/from-flag");
    assert!(
        report["health_url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/healthz")),
        "{report}"
    );

    // Without `HF_ENDPOINT`, the dead `hf-endpoint` of the file is used: the deploy fails
    // reaching it (exit 1), which shows the file's value counts when nothing is above it.
    let output = run_in_async(
        dir,
        owned(&["deploy", "--json", "--timeout", "5"]),
        pairs(&[token]),
    )
    .await;
    assert_eq!(output.code, 1, "{}", output.both());
}

#[test]
fn flags_win_over_single_values_and_add_to_lists() {
    let repo = repository(
        r#"
[[space]]
space = "alice/rag-chatbot"
secrets = ["GEMINI_API_KEY"]
variables = { LOG_LEVEL = "INFO", MODEL = "gemini" }
frontend-url = "https://file.example.com"
app-url = "https://file.example.com"
health-path = "/from-file"
dry-run = true
"#,
    );
    let env = [("GEMINI_API_KEY", GEMINI), ("HF_ENDPOINT", DEAD)];
    // `dry-run = true` in the file: no flag needed, nothing sent (the endpoint is dead).
    let output = run_in(repo.path(), &["deploy", "--json"], &env);
    assert_eq!(output.code, 0, "{}", output.both());
    let report = output.json();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["space_id"], "alice/rag-chatbot");
    assert_eq!(report["health_url"], "https://file.example.com/from-file");
    let secrets = report["secrets_set"].to_string();
    assert!(
        secrets.contains("GEMINI_API_KEY") && secrets.contains("ALLOWED_ORIGINS"),
        "{secrets}"
    );
    let variables = report["variables_set"].to_string();
    assert!(
        variables.contains("LOG_LEVEL") && variables.contains("MODEL"),
        "{variables}"
    );
    assert!(!output.both().contains(GEMINI), "{}", output.both());

    let output = run_in(
        repo.path(),
        &[
            "deploy",
            "--json",
            "--app-url",
            "https://flag.example.com",
            "--health-path",
            "/from-flag",
            "--variable",
            "LOG_LEVEL=DEBUG",
            "--secret",
            "GEMINI_API_KEY=from-the-flag",
        ],
        &env,
    );
    assert_eq!(output.code, 0, "{}", output.both());
    let report = output.json();
    assert_eq!(report["health_url"], "https://flag.example.com/from-flag");
    let variables = report["variables_set"].to_string();
    assert!(
        variables.contains("LOG_LEVEL") && variables.contains("MODEL"),
        "{variables}"
    );
}

#[test]
fn a_secret_the_file_names_comes_from_the_environment() {
    let repo = repository(
        "[[space]]\nspace = \"alice/app\"\ndry-run = true\nsecrets = [\n  \"GEMINI_API_KEY\",\n]\n",
    );
    let output = run_in(repo.path(), &["deploy", "--json"], &[("HF_ENDPOINT", DEAD)]);
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output.stderr.starts_with("error: hf-deploy.toml:5:3: secret `GEMINI_API_KEY` is listed in `secrets`, but the environment variable `GEMINI_API_KEY` is not set"),
        "{}",
        output.both()
    );
    let output = run_in(
        repo.path(),
        &["deploy", "--json"],
        &[("HF_ENDPOINT", DEAD), ("GEMINI_API_KEY", " padded ")],
    );
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output.stderr.starts_with("error: hf-deploy.toml:5:3: invalid `secrets`: the value of `GEMINI_API_KEY` starts or ends with whitespace"),
        "{}",
        output.both()
    );
}

/// Each bad file: exit 2, `file:line:column` first, nothing sent (the endpoint is dead, so a
/// deploy that went on would fail with exit 1).
#[test]
fn every_bad_file_is_named_at_its_place() {
    let cases: [(&str, &str); 8] = [
        (
            "[[space]]\nspace = \"alice/app\"\nhealth_path = \"/health\"\n",
            "error: hf-deploy.toml:3:1: unknown key `health_path`\nhint: did you mean `health-path`?",
        ),
        (
            "[[space]]\nspace = \"alice/app\"\ntimeout-minutes = \"20\"\n",
            "error: hf-deploy.toml:3:19: `timeout-minutes` must be a whole number of minutes (1 to 1440), not a string",
        ),
        (
            "[[space]]\nspace = \"alice/app\"\nhealth-path = \"api/health\"\n",
            "error: hf-deploy.toml:3:15: invalid `health-path`: `api/health` does not start with `/`\nhint: give the path part of the URL, e.g. `/api/health`",
        ),
        (
            "[[space]]\nspace = \"alice/app\"\nfrontend-url = [\"https://ok.example.com\", \"https://bad.example.com/app\"]\n",
            "error: hf-deploy.toml:3:43: invalid `frontend-url`: ",
        ),
        (
            "[[space]]\nspace = \"alice/app\"\ntitle = \"unterminated\n",
            "error: hf-deploy.toml:3:",
        ),
        (
            "[[space]]\nspace = \"alice/app\"\n\n[[space]]\nspace = \"alice/app\"\n",
            "error: hf-deploy.toml:5:9: Space `alice/app` has a second `[[space]]` table (the first is at line 2)",
        ),
        (
            "[[space]]\nspace = \"alice/app\"\nsource = \"backend/app\"\n",
            "error: hf-deploy.toml:3:10: ",
        ),
        (
            "[[space]]\nspace = \"alice/app\"\nsource = \"nowhere\"\n",
            "error: hf-deploy.toml:3:10: `source` `nowhere` is not a folder",
        ),
    ];
    for (toml, expected) in cases {
        let repo = repository(toml);
        let output = run_in(
            repo.path(),
            &["deploy"],
            &[("HF_ENDPOINT", DEAD), ("HF_TOKEN", DEFAULT_WRITE_TOKEN)],
        );
        assert_refused_at(&output, toml, expected);
    }
    // The source folder exists but is no backend: the library's check, pointed at `source`.
    let repo = repository("[[space]]\nspace = \"alice/app\"\nsource = \"backend/app\"\n");
    let output = run_in(repo.path(), &["deploy"], &[("HF_ENDPOINT", DEAD)]);
    assert!(
        output.stderr.contains("requirements.txt"),
        "{}",
        output.both()
    );
}

#[test]
fn a_secret_value_in_the_file_is_refused_and_never_shown() {
    for toml in [
        format!("[[space]]\nspace = \"alice/app\"\nsecrets = [\"GEMINI_API_KEY={GEMINI}\"]\n"),
        format!(
            "[[space]]\nspace = \"alice/app\"\nsecrets = {{ GEMINI_API_KEY = \"{GEMINI}\" }}\n"
        ),
        format!("[[space]]\nspace = \"alice/app\"\nhf-token = \"{GEMINI}\"\n"),
        format!(
            "[[space]]\nspace = \"alice/app\"\nvariables = {{ GEMINI_API_KEY = \"{GEMINI}\" }}\n"
        ),
    ] {
        let repo = repository(&toml);
        let output = run_in(
            repo.path(),
            &["deploy", "--dry-run"],
            &[("HF_ENDPOINT", DEAD)],
        );
        assert_eq!(output.code, 2, "{}", output.both());
        assert!(
            output.stderr.starts_with("error: hf-deploy.toml:3:"),
            "{}",
            output.both()
        );
        assert!(output.stderr.contains("\nhint: "), "{}", output.both());
        assert!(
            !output.both().contains(GEMINI),
            "the value leaked:\n{}",
            output.both()
        );
    }
}

#[test]
fn space_picks_the_entry_of_a_file_with_several() {
    let repo = repository(
        "[[space]]\nspace = \"alice/chat\"\nhealth-path = \"/chat\"\ndry-run = true\n\n[[space]]\nspace = \"alice/search\"\nhealth-path = \"/search\"\ndry-run = true\n",
    );
    let env = [("HF_ENDPOINT", DEAD)];
    let output = run_in(
        repo.path(),
        &["deploy", "--json", "--space", "alice/search"],
        &env,
    );
    assert_eq!(output.code, 0, "{}", output.both());
    let report = output.json();
    assert_eq!(report["space_id"], "alice/search");
    assert!(
        report["health_url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/search")),
        "{report}"
    );

    let output = run_in(repo.path(), &["deploy"], &env);
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output.stderr.starts_with("error: hf-deploy.toml: the file has 2 Spaces (`alice/chat`, `alice/search`): say which one to deploy with `--space`"),
        "{}",
        output.both()
    );
    let output = run_in(repo.path(), &["deploy", "--space", "bob/other"], &env);
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output.stderr.contains("`alice/chat`, `alice/search`"),
        "{}",
        output.both()
    );

    // Below the root, in the backend: the file is found upwards; `--no-config` ignores it.
    let output = run_in(
        &repo.path().join("backend/app"),
        &["deploy", "--json", "--space", "alice/chat"],
        &env,
    );
    assert_eq!(output.code, 0, "{}", output.both());
    let output = run_in(
        &repo.path().join("backend"),
        &[
            "deploy",
            "--no-config",
            ".",
            "--space",
            "a/b",
            "--dry-run",
            "--json",
        ],
        &env,
    );
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(
        output.json()["health_url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/api/health"))
    );
    // `--config` names another file; a missing one is its error.
    let output = run_in(repo.path(), &["deploy", "--config", "other.toml"], &env);
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output.stderr.starts_with(
            "error: other.toml: cannot read the configuration file (named by `--config`)"
        ),
        "{}",
        output.both()
    );
}

#[test]
fn init_writes_a_file_that_deploys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("rag-book");
    copy_dir(&example_backend(), &root.join("backend"));
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(&root)
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/Alice/rag-book.git",
    ]);
    let output = run_in(&root, &["init"], &[]);
    assert_eq!(output.code, 0, "{}", output.both());
    let text = std::fs::read_to_string(root.join("hf-deploy.toml")).expect("written");
    assert!(text.contains("space = \"alice/rag-book\""), "{text}");
    assert!(text.contains("source = \"backend\""), "{text}");
    assert!(text.contains("\"GEMINI_API_KEY\""), "{text}");

    // It reads back, as a plan and as a deploy (a dry run, every secret it names exported).
    let output = run_in(&root, &["plan", "--matrix"], &[]);
    assert_eq!(output.code, 0, "{}", output.both());
    assert_eq!(
        output.stdout.trim(),
        r#"{"include":[{"space":"alice/rag-book","source":"backend","name":"rag-book"}]}"#
    );
    let env = [
        ("HF_ENDPOINT", DEAD),
        ("GEMINI_API_KEY", GEMINI),
        ("QDRANT_URL", "https://q.example.com"),
        ("QDRANT_API_KEY", "qdrant-key"),
        (
            "DATABASE_URL",
            "postgresql://db.example.com/app?sslmode=require",
        ),
    ];
    let output = run_in(
        &root.join("backend"),
        &["deploy", "--dry-run", "--json"],
        &env,
    );
    assert_eq!(output.code, 0, "{}", output.both());
    assert_eq!(output.json()["space_id"], "alice/rag-book");

    // Not over an existing file, unless forced.
    let output = run_in(&root, &["init"], &[]);
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output.stderr.contains("`hf-deploy.toml` exists already"),
        "{}",
        output.both()
    );
    let output = run_in(
        &root,
        &["init", "backend", "--space", "alice/other", "--force"],
        &[],
    );
    assert_eq!(output.code, 0, "{}", output.both());
    let text = std::fs::read_to_string(root.join("hf-deploy.toml")).expect("written");
    assert!(text.contains("space = \"alice/other\""), "{text}");
}

#[test]
fn the_example_repository_has_a_file_that_reads() {
    let example = example_backend().join("..");
    let output = run_in(&example, &["plan", "--json"], &[]);
    assert_eq!(output.code, 0, "{}", output.both());
    assert_eq!(
        output.json()["spaces"][0]["space"],
        "your-hf-username/rag-chatbot"
    );
    let output = run_in(
        &example,
        &["deploy", "--dry-run", "--json"],
        &[("HF_ENDPOINT", DEAD)],
    );
    assert_eq!(output.code, 0, "{}", output.both());
    let report = output.json();
    assert_eq!(report["variables_set"][0], "SEARCH_LIMIT");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_action_reads_the_file_under_its_inputs() {
    let emulator = emulator().await;
    let repo = repository(
        "[[space]]\nspace = \"local/from-file\"\nhealth-path = \"/healthz\"\ntimeout-minutes = 3\nsecrets = [\"GEMINI_API_KEY\"]\nvariables = { LOG_LEVEL = \"INFO\" }\n",
    );
    let workspace = repo.path();
    let output_file = workspace.join("output.txt");
    let mut env = pairs(&[
        ("GITHUB_WORKSPACE", &workspace.display().to_string()),
        ("GITHUB_OUTPUT", &output_file.display().to_string()),
        ("GITHUB_EVENT_NAME", "push"),
        ("HF_ENDPOINT", &emulator.url()),
        ("GEMINI_API_KEY", GEMINI),
    ]);
    // Every input at its default (`space` empty, `source: backend`, `health-path: /api/health`,
    // `timeout-minutes: 20`): the file's values count. The app answers health only at `/healthz`.
    env.extend(action_inputs(&[
        ("hf-token", DEFAULT_WRITE_TOKEN),
        ("comment", "false"),
    ]));
    let output = run_action(env.clone()).await;
    assert_eq!(output.code, 0, "{}", output.both());
    assert!(
        output.stdout.contains(&format!("::add-mask::{GEMINI}")),
        "{}",
        output.stdout
    );
    let outputs = runner_read_outputs(&std::fs::read_to_string(&output_file).expect("outputs"))
        .expect("the runner reads them");
    assert_eq!(outputs["space-id"], "local/from-file");
    assert!(outputs["health-url"].ends_with("/healthz"), "{outputs:?}");
    assert_eq!(outputs["health"], "healthy");

    // An input given wins over the file: another `space` for this single entry, and a
    // `timeout-minutes` other than its default; `health-path`, still at its default, does not.
    std::fs::remove_file(&output_file).expect("clear outputs");
    let mut given = env.clone();
    given.retain(|(k, _)| k != "INPUT_SPACE" && k != "INPUT_TIMEOUT-MINUTES");
    given.push(("INPUT_SPACE".into(), "local/from-input".into()));
    given.push(("INPUT_TIMEOUT-MINUTES".into(), "4".into()));
    let output = run_action(given).await;
    assert_eq!(output.code, 0, "{}", output.both());
    let outputs = runner_read_outputs(&std::fs::read_to_string(&output_file).expect("outputs"))
        .expect("the runner reads them");
    assert_eq!(outputs["space-id"], "local/from-input");
    assert!(outputs["health-url"].ends_with("/healthz"), "{outputs:?}");

    // A bad file: an annotation on its file and line, exit 2.
    std::fs::write(
        workspace.join("hf-deploy.toml"),
        "[[space]]\nspace = \"local/x\"\nwait = \"no\"\n",
    )
    .expect("rewrite");
    let output = run_action(env).await;
    assert_eq!(output.code, 2, "{}", output.both());
    assert!(
        output.stdout.contains("::error file=hf-deploy.toml,line=3,title=hf-deploy%3A invalid configuration file::hf-deploy.toml:3:8: `wait` must be `true` or `false`, not a string"),
        "{}",
        output.both()
    );
}

/// `visibility` from the file yields to `--visibility` and to `--private` (its alias), and a
/// bad value is named at its `file:line:column` (exit 2, nothing sent: the endpoint is dead).
#[test]
fn visibility_from_the_file_yields_to_the_flags_and_a_bad_value_is_placed() {
    let repo = repository(
        "[[space]]\nspace = \"alice/app\"\ndry-run = true\nvisibility = \"protected\"\n",
    );
    let env = [("HF_ENDPOINT", DEAD)];
    for (flags, expected) in [
        (&[][..], "protected"),
        (&["--visibility", "public"][..], "public"),
        (&["--private"][..], "private"),
    ] {
        let mut args = vec!["deploy", "--json"];
        args.extend(flags);
        let output = run_in(repo.path(), &args, &env);
        assert_eq!(output.code, 0, "{flags:?}\n{}", output.both());
        assert_eq!(output.json()["visibility"], expected, "{flags:?}");
    }
    for (toml, expected) in [
        (
            "[[space]]\nspace = \"alice/app\"\ndry-run = true\nvisibility = \"hidden\"\n",
            "error: hf-deploy.toml:4:14: invalid `visibility`: ",
        ),
        (
            "[[space]]\nspace = \"alice/app\"\ndry-run = true\nsleep-time = 0\n",
            "error: hf-deploy.toml:4:14: invalid `sleep-time`: `0` is not a number of seconds",
        ),
        (
            "[[space]]\nspace = \"alice/app\"\nenvironment = \"a\\nb\"\n",
            "error: hf-deploy.toml:3:15: invalid `environment`: it contains a line break",
        ),
    ] {
        let repo = repository(toml);
        let output = run_in(repo.path(), &["deploy", "--json"], &env);
        assert_refused_at(&output, toml, expected);
    }
}
