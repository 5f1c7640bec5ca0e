//! A user `Dockerfile` in the backend folder breaking a rule of the Docker Space runtime, given
//! as `deploy SOURCE`: the error names the Dockerfile and the rule (`[port]`), nothing is sent.

use std::path::Path;

use hf_deploy_tests::run_cli_async;

use super::{MAIN_PY, REQUIREMENTS, Seen, Sends, Stands, Verdicts, cli_problems, write_tree};

/// A Dockerfile that keeps every rule.
const GOOD: &str = "FROM python:3.11-slim
RUN useradd -m -u 1000 user
USER user
ENV HOME=/home/user PATH=/home/user/.local/bin:$PATH
WORKDIR $HOME/app
COPY --chown=user requirements.txt ./
RUN pip install --no-cache-dir --user -r requirements.txt
COPY --chown=user . .
EXPOSE 7860
CMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"7860\"]
";

const CMD: &str =
    "CMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"7860\"]\n";

/// A case: its name, the change to [`GOOD`] (`from` replaced by `to`), the rule the error must
/// name, and extra `deploy` flags.
struct Row {
    name: &'static str,
    from: &'static str,
    to: &'static str,
    rule: &'static str,
    flags: &'static [&'static str],
}

const fn row(name: &'static str, from: &'static str, to: &'static str, rule: &'static str) -> Row {
    Row {
        name,
        from,
        to,
        rule,
        flags: &[],
    }
}

/// The cases of this family (each one run and judged by its test).
pub(super) const CASES: usize = DOCKERFILES.len();

#[rustfmt::skip]
const DOCKERFILES: &[Row] = &[
    row("EXPOSE another port", "EXPOSE 7860", "EXPOSE 8000", "[port]"),
    row("CMD on another port", "\"--port\", \"7860\"", "\"--port\", \"8000\"", "[port]"),
    row("shell CMD --port=", CMD, "CMD uvicorn app.main:app --host 0.0.0.0 --port=8000\n", "[port]"),
    row("gunicorn --bind", CMD, "CMD gunicorn -k uvicorn.workers.UvicornWorker --bind 0.0.0.0:8080 app.main:app\n", "[port]"),
    row("ENTRYPOINT on another port", CMD, "ENTRYPOINT [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"9000\"]\n", "[port]"),
    Row { name: "--port differs from the Dockerfile", from: "", to: "", rule: "[port]", flags: &["--port", "8000"] },
    row("no UID 1000 user", "useradd -m -u 1000 user", "useradd -m user", "[uid-1000]"),
    row("UID 1001", "-u 1000", "-u 1001", "[uid-1000]"),
    row("UID 1000 only in an earlier stage", "FROM python:3.11-slim\nRUN useradd -m -u 1000 user\n", "FROM python:3.11-slim AS build\nRUN useradd -m -u 1000 user\nFROM python:3.11-slim\n", "[uid-1000]"),
    row("no USER", "USER user\n", "", "[user]"),
    row("USER root at the end", "EXPOSE 7860", "USER root\nEXPOSE 7860", "[user]"),
    row("USER 0 at the end", "EXPOSE 7860", "USER 0\nEXPOSE 7860", "[user]"),
    row("USER another user", "USER user", "USER nobody", "[user]"),
    row("COPY without --chown after USER", "COPY --chown=user . .", "COPY . .", "[copy-chown]"),
    row("ADD without --chown after USER", "COPY --chown=user requirements.txt ./", "ADD requirements.txt ./", "[copy-chown]"),
    row("COPY .env", "EXPOSE 7860", "COPY --chown=user .env ./\nEXPOSE 7860", "[env-file]"),
    row("no FROM", "FROM python:3.11-slim\n", "", "[from]"),
    row("empty Dockerfile", GOOD, "", "[from]"),
    row("no CMD", CMD, "", "CMD"),
];

#[tokio::test(flavor = "multi_thread")]
async fn corpus_user_dockerfiles() {
    let stands = Stands::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut verdicts = Verdicts::new("dockerfiles");
    let backend = |name: &str, dockerfile: &str| {
        write_tree(
            dir.path(),
            name,
            &[
                ("requirements.txt", REQUIREMENTS),
                ("app/main.py", MAIN_PY),
                ("Dockerfile", dockerfile.as_bytes()),
            ],
        )
    };
    let deploy = |source: &Path, flags: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "deploy",
            &source.display().to_string(),
            "--space",
            "local/corpus-dockerfiles",
            "--no-wait",
        ]
        .map(str::to_string)
        .to_vec();
        args.extend(flags.iter().map(|f| f.to_string()));
        args
    };

    let good = backend("good", GOOD);
    let mark = stands.mark().await;
    let output = run_cli_async(deploy(&good, &[]), stands.cli_env()).await;
    let (hub, github) = stands.since(mark).await;
    let seen = Seen {
        code: output.code,
        named: true,
        hub,
        github,
        problems: cli_problems(&output, &[]),
        output: output.both(),
    };
    verdicts.good_run(&seen, Sends::Writes, false);

    for (index, row) in DOCKERFILES.iter().enumerate() {
        let text = GOOD.replacen(row.from, row.to, 1);
        assert!(
            row.from.is_empty() || text != GOOD,
            "{}: `{}` is not in the good Dockerfile",
            row.name,
            row.from
        );
        let source = backend(&format!("case-{index}"), &text);
        let mark = stands.mark().await;
        let output = run_cli_async(deploy(&source, row.flags), stands.cli_env()).await;
        let (hub, github) = stands.since(mark).await;
        let dockerfile = format!("`{}`", source.join("Dockerfile").display());
        let seen = Seen {
            code: output.code,
            named: output.stderr.contains(&dockerfile) && output.stderr.contains(row.rule),
            hub,
            github,
            problems: cli_problems(&output, &[]),
            output: output.both(),
        };
        verdicts.record(row.name, seen);
    }
    verdicts.finish(15);
    stands.emulator.shutdown().await;
}
