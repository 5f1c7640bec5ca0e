//! Bad input through the real binary: exit code 2, a message that names the input, and not one
//! request to the Hub (checked in the stand-in's request log).

use hf_deploy_tests::{example_backend, hub_env, run_cli_async, strings};
use hf_hub_emulator::{DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig};

struct Case {
    args: Vec<String>,
    /// Text the error must contain: the input's name.
    names: &'static str,
    env: Vec<(String, String)>,
}

fn case(args: &[&str], names: &'static str) -> Case {
    Case {
        args: strings(args),
        names,
        env: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_exits_2_names_the_input_and_sends_nothing() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let backend = example_backend().display().to_string();
    let b = backend.as_str();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out").display().to_string();
    let o = out.as_str();
    let bad_env = dir.path().join("bad.env");
    std::fs::write(&bad_env, "GOOD=1\nthis line is not key value\n").unwrap();
    let bad_env = bad_env.display().to_string();
    let a_file = dir.path().join("file.txt");
    std::fs::write(&a_file, "x").unwrap();
    let a_file = a_file.display().to_string();
    let long = "x".repeat(61);

    let mut cases = vec![
        // scaffold
        case(
            &["scaffold", "/no/such/folder", "--out", o],
            "/no/such/folder",
        ),
        case(&["scaffold", &a_file, "--out", o], "file.txt"),
        case(
            &["scaffold", b, "--out", o, "--color-from", "magenta"],
            "--color-from",
        ),
        case(
            &["scaffold", b, "--out", o, "--color-to", "Blue!"],
            "--color-to",
        ),
        case(&["scaffold", b, "--out", o, "--emoji", "ab"], "--emoji"),
        case(
            &["scaffold", b, "--out", o, "--short-description", &long],
            "--short-description",
        ),
        case(&["scaffold", b, "--out", o, "--port", "0"], "--port"),
        case(&["scaffold", b, "--out", o, "--port", "70000"], "--port"),
        case(
            &["scaffold", b, "--out", o, "--app", "nosuchmodule:app"],
            "--app",
        ),
        case(&["scaffold", b, "--out", o, "--app", "app.main"], "--app"),
        case(
            &["scaffold", b, "--out", o, "--app", "app.main:nosuchattr"],
            "--app",
        ),
        case(
            &["scaffold", b, "--out", o, "--health-path", "api/health"],
            "--health-path",
        ),
        case(
            &["scaffold", b, "--out", o, "--space", "not-a-space-id"],
            "--space",
        ),
        case(
            &["scaffold", b, "--out", o, "--title", "two\nlines"],
            "--title",
        ),
        // deploy
        case(&["deploy", b, "--no-wait"], "--space"),
        case(&["deploy", b, "--space", "a/b/c"], "--space"),
        case(
            &[
                "deploy",
                b,
                "--space",
                "local/x",
                "--secret",
                "NOT_IN_ENV_ANYWHERE_42",
            ],
            "NOT_IN_ENV_ANYWHERE_42",
        ),
        case(
            &[
                "deploy",
                b,
                "--space",
                "local/x",
                "--secret",
                "GEMINI_API_KEY=abc ",
            ],
            "GEMINI_API_KEY",
        ),
        case(
            &[
                "deploy",
                b,
                "--space",
                "local/x",
                "--secret",
                "GEMINI_API_KEY=line\nbreak",
            ],
            "GEMINI_API_KEY",
        ),
        case(
            &["deploy", b, "--space", "local/x", "--secret", "=value"],
            "--secret",
        ),
        case(
            &["deploy", b, "--space", "local/x", "--secret", "1BAD=x"],
            "1BAD",
        ),
        case(
            &["deploy", b, "--space", "local/x", "--secret", "EMPTY="],
            "EMPTY",
        ),
        case(
            &[
                "deploy",
                b,
                "--space",
                "local/x",
                "--secret",
                "QDRANT_URL=https://q.example.com:6333/",
            ],
            "QDRANT_URL",
        ),
        case(
            &[
                "deploy",
                b,
                "--space",
                "local/x",
                "--secrets-file",
                "/no/such.env",
            ],
            "/no/such.env",
        ),
        case(
            &[
                "deploy",
                b,
                "--space",
                "local/x",
                "--secrets-file",
                &bad_env,
            ],
            "bad.env:2",
        ),
        case(
            &["deploy", b, "--space", "local/x", "--variable", "NOEQUALS"],
            "--variable",
        ),
        case(
            &[
                "deploy",
                b,
                "--space",
                "local/x",
                "--frontend-url",
                "https://book.example.com/path",
            ],
            "--frontend-url",
        ),
        case(
            &[
                "deploy",
                b,
                "--space",
                "local/x",
                "--frontend-url",
                "book.example.com",
            ],
            "--frontend-url",
        ),
        case(
            &[
                "deploy",
                b,
                "--space",
                "local/x",
                "--app-url",
                "ftp://example.com",
            ],
            "--app-url",
        ),
        case(
            &["deploy", b, "--space", "local/x", "--health-path", "health"],
            "--health-path",
        ),
        case(
            &["deploy", b, "--space", "local/x", "--timeout", "0"],
            "--timeout",
        ),
        case(
            &["deploy", "/no/such/backend", "--space", "local/x"],
            "/no/such/backend",
        ),
        case(
            &["deploy", b, "--space", "local/x", "--color-from", "teal"],
            "--color-from",
        ),
        // the rest
        case(&["delete", "--space", "local/x"], "--yes"),
        case(&["status", "--space", "nope"], "--space"),
        case(&["logs", "--space", "a//b"], "--space"),
        case(&["verify", "--app-url", "not a url"], "--app-url"),
        case(&["verify"], "--space"),
        case(
            &["frontend", &a_file, "--api-url", "localhost:8000"],
            "--api-url",
        ),
        case(
            &[
                "frontend",
                "/no/such/file.ts",
                "--api-url",
                "https://a.hf.space",
            ],
            "/no/such/file.ts",
        ),
    ];
    // A whitespace-padded value in a secrets file.
    let padded = dir.path().join("padded.env");
    std::fs::write(&padded, "DATABASE_URL=\" postgresql://u@h/db\"\n").unwrap();
    cases.push(Case {
        args: strings(&[
            "deploy",
            b,
            "--space",
            "local/x",
            "--secrets-file",
            &padded.display().to_string(),
        ]),
        names: "DATABASE_URL",
        env: Vec::new(),
    });
    cases.push(Case {
        args: strings(&["status", "--space", "local/x"]),
        names: "HF_ENDPOINT",
        env: vec![("HF_ENDPOINT".into(), "huggingface.co".into())],
    });
    assert!(cases.len() >= 20);

    let mut failures = Vec::new();
    for case in cases {
        let mut env = hub_env(&emulator, DEFAULT_WRITE_TOKEN);
        env.extend(case.env.clone());
        let output = run_cli_async(case.args.clone(), env).await;
        let problem = if output.code != 2 {
            Some(format!("exit {} instead of 2", output.code))
        } else if !output.stderr.contains(case.names) {
            Some(format!("stderr does not name `{}`", case.names))
        } else if !output.stderr.starts_with("error:") {
            Some("stderr does not start with `error:`".to_string())
        } else {
            None
        };
        if let Some(problem) = problem {
            failures.push(format!("{:?}: {problem}\n{}", case.args, output.both()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    let log = emulator.request_log();
    assert!(
        log.is_empty(),
        "bad input must send nothing, but the Hub saw: {:?}",
        log.iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect::<Vec<_>>()
    );
    assert!(
        !std::path::Path::new(o).exists(),
        "bad input must write no scaffold"
    );
    emulator.shutdown().await;
}
