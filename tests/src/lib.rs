//! Shared helpers for the end-to-end tests: where the tools are, a Hub stand-in running the real
//! runner, the `hf-deploy` binary, and a scan for leaked secrets.
//!
//! Tools come from `scripts/bootstrap.sh` (the README's test command runs it first). A missing tool
//! is a failure with a hint, never a skip.

#![forbid(unsafe_code)]

pub mod engine_proxy;
pub mod fake_engine;
pub mod fake_github;
pub mod matrix;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hf_hub_emulator::{Emulator, EmulatorConfig, RealRunnerConfig, Runner};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A program from `./.venv/bin`, or a panic that says how to install it.
pub fn venv_bin(name: &str) -> PathBuf {
    let path = workspace_root().join(".venv/bin").join(name);
    assert!(
        path.exists(),
        "`{}` is missing: run `scripts/bootstrap.sh` (the test command `scripts/test.sh` does)",
        path.display()
    );
    path
}

/// The example backend folder.
pub fn example_backend() -> PathBuf {
    workspace_root().join("examples/rag-chatbot/backend")
}

/// The `hf-deploy` binary built by this `cargo test` run (it sits beside the test's `deps/`).
pub fn hf_deploy_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let bin = dir.join(format!("hf-deploy{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "`{}` is missing: build it with `cargo build -p hf-deploy-action` (cargo test --workspace does)",
        bin.display()
    );
    bin
}

/// The virtual-environment cache shared by every test's stand-in, so each requirements file is
/// installed once per machine.
pub fn venv_cache() -> PathBuf {
    workspace_root().join("target/emulator-venvs")
}

/// A runner that really installs and runs the app, using the bootstrap's Python and the shared
/// [`venv_cache`] (never the stand-in's default cache in the system's temporary folder).
pub fn real_runner() -> Runner {
    Runner::Real(RealRunnerConfig {
        python: venv_python_base(),
        venv_cache: venv_cache(),
    })
}

/// A stand-in whose runner really installs and runs the app ([`real_runner`]).
pub async fn start_real_emulator() -> Emulator {
    let config = EmulatorConfig {
        runner: real_runner(),
        ..EmulatorConfig::default()
    };
    Emulator::start(config)
        .await
        .expect("the Hub stand-in starts")
}

/// A stand-in whose runner is scripted (no app process): every Space builds at once and its app
/// answers `GET /api/health` healthy. For tests whose subject is not the app.
pub async fn start_scripted_emulator() -> Emulator {
    use hf_hub_emulator::{ScriptedApp, ScriptedResponse, ScriptedRoute, ScriptedRunner};
    let app = ScriptedApp::new().route(ScriptedRoute::get("/api/health").then(
        ScriptedResponse::json(200, r#"{"status":"healthy","services":{"fastapi":"ok"}}"#),
    ));
    Emulator::start(EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running().app(app)),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the Hub stand-in starts")
}

/// The base interpreter behind `.venv` (new virtual environments are made from it).
fn venv_python_base() -> PathBuf {
    let python = venv_bin("python");
    let output = Command::new(&python)
        .args(["-c", "import sys; print(sys._base_executable)"])
        .output()
        .expect("run the venv's python");
    let base = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if base.is_empty() {
        PathBuf::from("python3")
    } else {
        PathBuf::from(base)
    }
}

/// Run `hf-deploy` with a clean environment plus `env`.
pub fn run_cli(args: &[&str], env: &[(&str, &str)]) -> CliOutput {
    let output = cli_command(args, env).output().expect("run hf-deploy");
    CliOutput::from(output)
}

/// The `hf-deploy` command of [`run_cli`]: a cleared environment but `PATH`, `HOME`, `TMPDIR`,
/// `LANG`, `NO_COLOR=1`, and `env`.
fn cli_command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(hf_deploy_bin());
    command.args(args).env_clear();
    for key in ["PATH", "HOME", "TMPDIR", "LANG"] {
        if let Some(value) = std::env::var_os(key) {
            command.env(key, value);
        }
    }
    command.env("NO_COLOR", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

/// [`run_cli`] on the runtime, killed at `deadline` (`None` then): a hang is a result to
/// report, not a test that never ends.
pub async fn run_cli_within(
    args: &[&str],
    env: &[(&str, &str)],
    deadline: std::time::Duration,
) -> Option<CliOutput> {
    let mut command = tokio::process::Command::from(cli_command(args, env));
    command.kill_on_drop(true);
    let output = tokio::time::timeout(deadline, command.output())
        .await
        .ok()?;
    Some(CliOutput::from(output.expect("run hf-deploy")))
}

/// What a command printed and how it ended.
#[derive(Debug)]
pub struct CliOutput {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl From<Output> for CliOutput {
    fn from(output: Output) -> Self {
        CliOutput {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl CliOutput {
    /// stdout and stderr, for assertion messages.
    pub fn both(&self) -> String {
        format!(
            "--- exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// stdout read as one JSON object (the report of `--json`); panics, showing both streams,
    /// when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}):\n{}", self.both()))
    }
}

/// Panic if any of `needles` (tokens, secret values) appears in `haystack`.
pub fn assert_no_leak(what: &str, haystack: &str, needles: &[&str]) {
    for needle in needles {
        assert!(!needle.is_empty());
        assert!(
            !haystack.contains(needle),
            "a secret value leaked into {what}:\n{haystack}"
        );
    }
}

/// The standard output of `git --git-dir <bare_repo> <args>`, as text.
pub fn git(bare_repo: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("--git-dir")
        .arg(bare_repo)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("git {args:?}: {e}"));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every file's text in the git history of a bare repository (all commits, all blobs), and the
/// commit messages: for leak scans.
pub fn git_history_text(bare_repo: &Path) -> String {
    git(
        bare_repo,
        &["log", "--all", "-p", "--format=%H %an <%ae>%n%B"],
    )
}

/// Number of commits on `main` in a bare repository.
pub fn commit_count(bare_repo: &Path) -> usize {
    git(bare_repo, &["rev-list", "--count", "main"])
        .trim()
        .parse()
        .unwrap_or(0)
}

/// [`run_cli`] on a blocking thread, for tests whose stand-in runs on the same runtime.
pub async fn run_cli_async(args: Vec<String>, env: Vec<(String, String)>) -> CliOutput {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_cli(&args, &env)
    })
    .await
    .expect("hf-deploy runner thread")
}

/// `hf-deploy action` with the runner's environment `env` (see [`action_inputs`]), on a blocking
/// thread.
pub async fn run_action(env: Vec<(String, String)>) -> CliOutput {
    run_cli_async(vec!["action".into()], env).await
}

/// A loopback port that was free a moment ago (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a loopback port")
        .local_addr()
        .expect("the bound port's address")
        .port()
}

/// True when this test runs as root (uid 0), read from the owner of `/proc/self`.
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .expect("stat /proc/self")
        .uid()
        == 0
}

/// Copy a folder (without caches and virtual environments) into a new temporary directory.
pub fn copy_tree(from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(from, dir.path());
    dir
}

/// Copy a folder (without caches and virtual environments) to `to`, creating it.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let name = entry.file_name();
        if matches!(
            name.to_str(),
            Some("__pycache__" | ".venv" | ".pytest_cache")
        ) {
            continue;
        }
        let path = entry.path();
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).expect("copy file");
        }
    }
}

/// Strings of `args`.
pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// The environment for a deploy against `emulator` with `token`.
pub fn hub_env(emulator: &Emulator, token: &str) -> Vec<(String, String)> {
    vec![
        ("HF_ENDPOINT".into(), emulator.url()),
        ("HF_TOKEN".into(), token.into()),
    ]
}

/// The runner's reading of `GITHUB_OUTPUT` (`FileCommandManager.cs`,
/// `SetOutputFileCommand` / `TryReadHeredoc`): per line, `NAME=VALUE` when `=` comes first,
/// `NAME<<DELIM` when `<<` comes first; a heredoc runs to the first line equal to the
/// delimiter and its lines are joined with `\n`; a missing delimiter is an error.
pub fn runner_read_outputs(text: &str) -> std::result::Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let mut pending: Vec<&str> = lines.by_ref().collect();
    pending.reverse();
    while let Some(line) = pending.pop() {
        if line.is_empty() {
            continue;
        }
        let equals = line.find('=');
        let heredoc = line.find("<<");
        match (equals, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                let (name, value) = (&line[..e], &line[e + 1..]);
                if name.is_empty() {
                    return Err(format!("invalid name in {line:?}"));
                }
                out.insert(name.to_string(), value.to_string());
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delimiter.is_empty() {
                    return Err(format!("invalid heredoc in {line:?}"));
                }
                let mut value: Vec<&str> = Vec::new();
                loop {
                    match pending.pop() {
                        Some(l) if l == delimiter => break,
                        Some(l) => value.push(l),
                        None => {
                            return Err(format!("Matching delimiter not found '{delimiter}'"));
                        }
                    }
                }
                out.insert(name.to_string(), value.join("\n"));
            }
            _ => return Err(format!("Invalid format '{line}'")),
        }
    }
    Ok(out)
}

/// The `docker` CLI the Hub stand-in uses (`hf-hub-emulator/src/docker.rs`): `HF_DEPLOY_DOCKER`
/// when set, else the first `docker` on `PATH` that builds with BuildKit (one with the buildx
/// plugin, or one older than 23 whose built-in BuildKit client `DOCKER_BUILDKIT=1` turns on), else
/// plain `docker`. Run it with `DOCKER_BUILDKIT=1`.
pub fn docker_cli() -> PathBuf {
    if let Some(path) = std::env::var_os("HF_DEPLOY_DOCKER").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let answers = |cli: &Path, args: &[&str]| {
        Command::new(cli)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let cli = dir.join("docker");
        if !cli.is_file() {
            continue;
        }
        let buildkit = answers(&cli, &["buildx", "version"]).is_some()
            || answers(&cli, &["version", "--format", "{{.Client.Version}}"])
                .and_then(|v| v.split('.').next().and_then(|m| m.parse::<u32>().ok()))
                .is_some_and(|major| major < 23);
        if buildkit {
            return cli;
        }
    }
    PathBuf::from("docker")
}

/// The examples of one event in `@octokit/webhooks-examples` (installed in `.tools/node` by
/// `scripts/bootstrap.sh`): real payloads, as the runner writes them to `GITHUB_EVENT_PATH`.
pub fn webhook_examples(event: &str) -> Vec<serde_json::Value> {
    let path = workspace_root()
        .join(".tools/node/node_modules/@octokit/webhooks-examples/api.github.com/index.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "`{}`: {e}: run `scripts/bootstrap.sh` (the test command `scripts/test.sh` does)",
            path.display()
        )
    });
    let all: Vec<serde_json::Value> = serde_json::from_str(&text).expect("webhooks-examples JSON");
    all.into_iter()
        .find(|e| e["name"] == event)
        .and_then(|e| e["examples"].as_array().cloned())
        .unwrap_or_else(|| panic!("no `{event}` examples in {}", path.display()))
}

/// Every input declared in `action.yml`, as the runner passes them to the action: one
/// `INPUT_<NAME>` each (upper-cased, hyphens kept), `""` when neither given nor defaulted,
/// `given` over the defaults. A default that is an expression (`${{ github.token }}`) is
/// evaluated by the runner; here it is empty unless given.
pub fn action_inputs(given: &[(&str, &str)]) -> Vec<(String, String)> {
    let action: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(workspace_root().join("action.yml")).expect("read action.yml"),
    )
    .expect("action.yml is YAML");
    let mut values = BTreeMap::new();
    for (name, spec) in action["inputs"].as_mapping().expect("action.yml inputs") {
        let name = name.as_str().expect("input name").to_string();
        let default = spec.get("default").and_then(|d| d.as_str()).unwrap_or("");
        let default = if default.contains("${{") { "" } else { default };
        values.insert(name, default.to_string());
    }
    for (name, value) in given {
        assert!(
            values.contains_key(*name),
            "`{name}` is not declared in action.yml"
        );
        values.insert(name.to_string(), value.to_string());
    }
    values
        .into_iter()
        .map(|(k, v)| (format!("INPUT_{}", k.to_uppercase()), v))
        .collect()
}

/// Send `signal` (`"TERM"`, `"INT"`) to `child` through `kill` and wait for it to exit, at most
/// `within`; panics (with `context`) when it does not.
pub fn signal_and_wait(
    child: &mut std::process::Child,
    signal: &str,
    within: std::time::Duration,
    context: &str,
) -> std::process::ExitStatus {
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success(), "kill -{signal} failed");
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            return status;
        }
        assert!(
            started.elapsed() < within,
            "did not stop on SIG{signal} within {within:?}; {context}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
