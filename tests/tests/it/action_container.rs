//! End-to-end on a real Docker engine: the action's image, built from the root `Dockerfile`, run
//! the way the GitHub runner starts a Docker action (`ContainerActionHandler.cs`,
//! `DockerCommandManager.DockerRun`): `docker run --name … --label … --workdir /github/workspace
//! --rm -e NAME… -e GITHUB_ACTIONS=true -e CI=true --network … -v …` with the runner's mounts
//! (`_temp/_github_home` -> `/github/home`, `_temp/_github_workflow` -> `/github/workflow`,
//! `_temp/_runner_file_commands` -> `/github/file_commands`, the workspace ->
//! `/github/workspace`), every `GITHUB_*` path translated to the container's, every value passed
//! by name (`-e NAME`, the value in the docker CLI's environment, so no secret is on its command
//! line), and the args of `action.yml`. `--network host` stands for the job network: the Hub
//! stand-in and the fake GitHub listen on 127.0.0.1.
//!
//! The image: the lean release binary (`cargo build --release -p hf-deploy-action
//! --no-default-features`, built by this test) through the `prebuilt` stage, on the local
//! `python:3.11-slim` (`scripts/docker-base-image.sh`) in place of distroless, which cannot be
//! pulled here. It is tagged by the hash of the Dockerfile, the binary and the base, so the cases
//! (one process each under nextest) share it; it is kept (label `hf-deploy.test=action-container`,
//! older ones of that label removed) so a rerun builds nothing. Containers are removed.
//!
//! Needs an engine and `python:3.11-slim`: `scripts/test.sh` (through `scripts/bootstrap.sh`)
//! starts one and makes the image. Without them these tests fail, never skip.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use hf_deploy_tests::fake_github::{FakeGitHub, Mode};
use hf_deploy_tests::{
    CliOutput, action_inputs, copy_dir, docker_cli, example_backend, is_root, runner_read_outputs,
    webhook_examples, workspace_root,
};
use hf_hub_emulator::{
    DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig, Runner, ScriptedApp, ScriptedResponse,
    ScriptedRoute, ScriptedRunner,
};
use sha2::{Digest, Sha256};

/// The label of the test's image and containers.
const LABEL: &str = "hf-deploy.test=action-container";
/// The runtime base used here in place of `gcr.io/distroless/cc-debian12`.
const RUNTIME_BASE: &str = "python:3.11-slim";
/// The runner's user on GitHub-hosted runners (`runner`, uid 1001); the container runs as root.
const HOSTED_RUNNER_UID: u32 = 1001;
const REPOSITORY: &str = "Codertocat/Hello-World";
const HEALTHY: &str =
    r#"{"status":"healthy","services":{"fastapi":"ok","qdrant":{"status":"ok"}}}"#;
const FRONTEND: &str = "https://book.example.com";
const GEMINI: &str = "AIzaSy-container-secret-0123456789";
const GITHUB_TOKEN: &str = "ghs_fakeContainerTokenForTests0000000000";
/// The head commit of the `pull_request` fixtures (not the merge commit).
const HEAD_SHA: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const MERGE_SHA: &str = "2222222222222222222222222222222222222222";

fn docker() -> Command {
    let mut command = Command::new(docker_cli());
    command
        .env("DOCKER_BUILDKIT", "1")
        .env("DOCKER_CLI_HINTS", "false")
        .stdin(Stdio::null());
    command
}

/// `docker args…`, its stdout; a panic with its stderr when it fails.
fn docker_ok(args: &[&str]) -> String {
    let out = docker().args(args).output().expect("run docker");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The lean release binary, built (or found up to date) by cargo with the Dockerfile's options.
fn lean_binary() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    // Without the variables cargo sets for this test's package: build scripts (ring's) track
    // some of them, so passing them on would rebuild what a plain `cargo build` from a shell
    // built, and the reverse.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
            "CARGO_PRIMARY_",
        ]
        .iter()
        .any(|p| key.starts_with(p))
            || key == "CARGO_TARGET_TMPDIR"
            || key == "OUT_DIR"
        {
            command.env_remove(key.as_ref());
        }
    }
    let out = command
        .current_dir(workspace_root())
        .args([
            "build",
            "--release",
            "-p",
            "hf-deploy-action",
            "--no-default-features",
            "--locked",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo");
    assert!(out.status.success(), "the lean release build failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "hf-deploy")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the hf-deploy executable")
}

/// The action image from the root `Dockerfile` (`BUILDER=prebuilt`, `RUNTIME_BASE` local).
fn action_image() -> String {
    let engine = docker()
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        engine,
        "no Docker engine answers: run `bash scripts/bootstrap.sh` (it starts dockerd) or `scripts/test.sh`"
    );
    let base = docker()
        .args(["image", "inspect", "--format", "{{.Id}}", RUNTIME_BASE])
        .output()
        .expect("run docker");
    assert!(
        base.status.success(),
        "`{RUNTIME_BASE}` is missing: run `bash scripts/docker-base-image.sh` (scripts/bootstrap.sh does)"
    );
    let binary = lean_binary();
    let dockerfile = workspace_root().join("Dockerfile");
    let mut hash = Sha256::new();
    hash.update(std::fs::read(&dockerfile).expect("read Dockerfile"));
    hash.update(std::fs::read(&binary).expect("read the binary"));
    hash.update(&base.stdout);
    let tag = format!(
        "hf-deploy-test/action:{}",
        &hex::encode(hash.finalize())[..16]
    );
    if docker()
        .args(["image", "inspect", &tag])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return tag;
    }
    let context = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&binary, context.path().join("hf-deploy")).expect("copy the binary");
    let dockerfile = dockerfile.display().to_string();
    let context_dir = context.path().display().to_string();
    let id = docker_ok(&[
        "build",
        "-q",
        "-f",
        &dockerfile,
        "--build-arg",
        "BUILDER=prebuilt",
        "--build-arg",
        &format!("RUNTIME_BASE={RUNTIME_BASE}"),
        "--label",
        LABEL,
        "-t",
        &tag,
        &context_dir,
    ]);
    // Keep this one, drop older builds of this test (best effort: one may be in use elsewhere).
    let old = docker_ok(&[
        "images",
        "-q",
        "--no-trunc",
        "--filter",
        &format!("label={LABEL}"),
    ]);
    for image in old.split_whitespace().filter(|i| *i != id) {
        let _ = docker().args(["image", "rm", "-f", image]).output();
    }
    tag
}

/// A GitHub-hosted runner's directories: `_work/_temp` and the workspace, owned by the runner's
/// user, with the event payload and the (empty) file-command files the runner makes before a step.
struct RunnerDirs {
    root: tempfile::TempDir,
    workspace: PathBuf,
    temp: PathBuf,
    suffix: String,
}

impl RunnerDirs {
    fn new(event: &serde_json::Value) -> RunnerDirs {
        let root = tempfile::tempdir().expect("tempdir");
        let workspace = root.path().join("_work/Hello-World/Hello-World");
        let temp = root.path().join("_work/_temp");
        copy_dir(&example_backend(), &workspace.join("backend"));
        for dir in ["_github_home", "_github_workflow", "_runner_file_commands"] {
            std::fs::create_dir_all(temp.join(dir)).expect("mkdir");
        }
        std::fs::write(
            temp.join("_github_workflow/event.json"),
            serde_json::to_string_pretty(event).expect("event JSON"),
        )
        .expect("write the event");
        let suffix = format!(
            "{:x}{:x}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_nanos()
        );
        let dirs = RunnerDirs {
            root,
            workspace,
            temp,
            suffix,
        };
        for prefix in [
            "set_output_",
            "step_summary_",
            "set_env_",
            "add_path_",
            "save_state_",
        ] {
            std::fs::write(dirs.file_command(prefix), "").expect("create a file-command file");
        }
        if is_root() {
            chown_tree(dirs.root.path(), HOSTED_RUNNER_UID);
        }
        dirs
    }

    /// A file command's host path (`prefix` as in `FileCommandManager.cs`).
    fn file_command(&self, prefix: &str) -> PathBuf {
        self.temp
            .join("_runner_file_commands")
            .join(format!("{prefix}{}", self.suffix))
    }

    /// The same file in the container.
    fn container_file_command(&self, prefix: &str) -> String {
        format!("/github/file_commands/{prefix}{}", self.suffix)
    }
}

/// The runner's user: this process's when it is not root (a test run on a runner), else uid 1001
/// (root plays the runner, whose directories and checks then belong to 1001).
fn runner_uid() -> u32 {
    if is_root() {
        HOSTED_RUNNER_UID
    } else {
        std::fs::metadata("/proc/self")
            .expect("stat /proc/self")
            .uid()
    }
}

fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).expect("chown");
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path).expect("read dir") {
            chown_tree(&entry.expect("dir entry").path(), uid);
        }
    }
}

/// Every path under `dir` with its owner and, for files, a hash of the content.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u32, Option<String>)> {
    fn walk(path: &Path, out: &mut BTreeMap<PathBuf, (u32, Option<String>)>) {
        let meta = std::fs::symlink_metadata(path).expect("stat");
        let content = meta
            .is_file()
            .then(|| hex::encode(Sha256::digest(std::fs::read(path).expect("read"))));
        out.insert(path.to_path_buf(), (meta.uid(), content));
        if meta.is_dir() {
            for entry in std::fs::read_dir(path).expect("read dir") {
                walk(&entry.expect("dir entry").path(), out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, &mut out);
    out
}

/// Removes the container if the run did not (`--rm` normally does).
struct ContainerGuard(String);

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        let _ = docker().args(["rm", "-f", &self.0]).output();
    }
}

/// `docker run` as the runner builds it for a Docker action.
fn run_as_the_runner(image: &str, dirs: &RunnerDirs, env: &[(String, String)]) -> CliOutput {
    let action: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(workspace_root().join("action.yml")).expect("read action.yml"),
    )
    .expect("action.yml is YAML");
    let runs = &action["runs"];
    assert_eq!(runs["using"], "docker");
    let name = format!("hf-deploy-test-action-{}", dirs.suffix);
    let _guard = ContainerGuard(name.clone());
    let mut command = docker();
    command.args([
        "run",
        "--name",
        &name,
        "--label",
        LABEL,
        "--workdir",
        "/github/workspace",
        "--rm",
    ]);
    for (key, value) in env {
        command.arg("-e").arg(key).env(key, value);
    }
    command.args(["-e", "GITHUB_ACTIONS=true", "-e", "CI=true"]);
    if let Some(entrypoint) = runs["entrypoint"].as_str() {
        command.args(["--entrypoint", entrypoint]);
    }
    command.args(["--network", "host"]);
    let mounts = [
        ("/var/run/docker.sock".into(), "/var/run/docker.sock"),
        (dirs.temp.clone(), "/github/runner_temp"),
        (dirs.temp.join("_github_home"), "/github/home"),
        (dirs.temp.join("_github_workflow"), "/github/workflow"),
        (
            dirs.temp.join("_runner_file_commands"),
            "/github/file_commands",
        ),
        (dirs.workspace.clone(), "/github/workspace"),
    ];
    for (host, container) in mounts {
        let host: PathBuf = host;
        command
            .arg("-v")
            .arg(format!("{}:{container}", host.display()));
    }
    command.arg(image);
    for arg in runs["args"].as_sequence().into_iter().flatten() {
        command.arg(arg.as_str().expect("args are strings"));
    }
    let output = CliOutput::from(command.output().expect("run docker"));
    let left = docker_ok(&["ps", "-aq", "--filter", &format!("name=^{name}$")]);
    assert!(left.is_empty(), "the container was not removed: {left}");
    output
}

/// The environment the runner gives the step: its `GITHUB_*` and `RUNNER_*` variables with the
/// container's paths, `HOME`, the step's `env:` (`HF_ENDPOINT`) and the inputs.
fn step_env(
    dirs: &RunnerDirs,
    emulator: &Emulator,
    github: &FakeGitHub,
    event: (&str, &str, &str),
) -> Vec<(String, String)> {
    let (event_name, git_ref, sha) = event;
    let mut env: Vec<(String, String)> = [
        ("HOME", "/github/home".to_string()),
        ("GITHUB_JOB", "deploy".into()),
        ("GITHUB_REF", git_ref.into()),
        ("GITHUB_SHA", sha.into()),
        ("GITHUB_REPOSITORY", REPOSITORY.into()),
        ("GITHUB_REPOSITORY_OWNER", "Codertocat".into()),
        ("GITHUB_RUN_ID", "1658821493".into()),
        ("GITHUB_RUN_NUMBER", "7".into()),
        ("GITHUB_RUN_ATTEMPT", "1".into()),
        ("GITHUB_ACTOR", "Codertocat".into()),
        ("GITHUB_WORKFLOW", "Deploy".into()),
        ("GITHUB_ACTION", "__hf-deploy_hf-deploy".into()),
        ("GITHUB_EVENT_NAME", event_name.into()),
        ("GITHUB_SERVER_URL", "https://github.com".into()),
        ("GITHUB_API_URL", github.url.clone()),
        ("GITHUB_GRAPHQL_URL", format!("{}/graphql", github.url)),
        ("GITHUB_WORKSPACE", "/github/workspace".into()),
        ("GITHUB_EVENT_PATH", "/github/workflow/event.json".into()),
        ("GITHUB_OUTPUT", dirs.container_file_command("set_output_")),
        (
            "GITHUB_STEP_SUMMARY",
            dirs.container_file_command("step_summary_"),
        ),
        ("GITHUB_ENV", dirs.container_file_command("set_env_")),
        ("GITHUB_PATH", dirs.container_file_command("add_path_")),
        ("GITHUB_STATE", dirs.container_file_command("save_state_")),
        ("RUNNER_OS", "Linux".into()),
        ("RUNNER_ARCH", "X64".into()),
        ("RUNNER_NAME", "GitHub Actions 2".into()),
        ("RUNNER_ENVIRONMENT", "github-hosted".into()),
        ("RUNNER_TEMP", "/github/runner_temp".into()),
        ("RUNNER_TOOL_CACHE", "/opt/hostedtoolcache".into()),
        ("HF_ENDPOINT", emulator.url()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let secrets = format!("GEMINI_API_KEY={GEMINI}\n");
    env.extend(action_inputs(&[
        ("hf-token", DEFAULT_WRITE_TOKEN),
        ("space", "local/container-app"),
        ("source", "backend"),
        ("secrets", &secrets),
        ("variables", "LOG_LEVEL=info"),
        ("frontend-url", FRONTEND),
        ("timeout-minutes", "5"),
        ("github-token", GITHUB_TOKEN),
    ]));
    env
}

async fn emulator() -> Emulator {
    let app = ScriptedApp::new()
        .route(ScriptedRoute::get("/api/health").then(ScriptedResponse::json(200, HEALTHY)))
        .cors_origin(FRONTEND);
    Emulator::start(EmulatorConfig {
        runner: Runner::Scripted(ScriptedRunner::running().app(app)),
        ..EmulatorConfig::default()
    })
    .await
    .expect("start the stand-in")
}

/// What one run left behind.
struct Run {
    output: CliOutput,
    outputs: BTreeMap<String, String>,
    summary: String,
}

/// Build (or reuse) the image, run the action in it for `event`, check what every run must show,
/// and that what the container wrote stays usable by the runner's user.
async fn run_event(
    emulator: &Emulator,
    github: &FakeGitHub,
    payload: serde_json::Value,
    event: (&'static str, &'static str, String),
) -> Run {
    let image = tokio::task::spawn_blocking(action_image)
        .await
        .expect("image thread");
    let dirs = RunnerDirs::new(&payload);
    let env = step_env(&dirs, emulator, github, (event.0, event.1, &event.2));
    let before = snapshot(dirs.root.path());
    let (output, dirs) = tokio::task::spawn_blocking(move || {
        let output = run_as_the_runner(&image, &dirs, &env);
        (output, dirs)
    })
    .await
    .expect("docker thread");
    assert_eq!(output.code, 0, "{}", output.both());

    // The runner reads the outputs file and the summary after the step, as its own user.
    let output_file = dirs.file_command("set_output_");
    let outputs = runner_read_outputs(&std::fs::read_to_string(&output_file).expect("outputs"))
        .expect("the runner can read the outputs file");
    let summary = std::fs::read_to_string(dirs.file_command("step_summary_")).expect("summary");
    assert!(!summary.trim().is_empty(), "no step summary");
    for prefix in ["set_output_", "step_summary_"] {
        let meta = std::fs::metadata(dirs.file_command(prefix)).expect("stat");
        assert_eq!(
            meta.uid(),
            runner_uid(),
            "{prefix}: the container appends to the runner's file, it does not replace it"
        );
    }

    // What the container (root) wrote or changed under the runner's directories.
    let after = snapshot(dirs.root.path());
    let written: Vec<&PathBuf> = after
        .iter()
        .filter(|(path, state)| before.get(*path) != Some(*state))
        .map(|(path, _)| path)
        .collect();
    let foreign: Vec<&PathBuf> = after
        .iter()
        .filter(|(_, (uid, _))| *uid != runner_uid())
        .map(|(path, _)| path)
        .collect();
    eprintln!("written by the container: {written:?}; not owned by the runner: {foreign:?}");
    let file_commands = [
        dirs.file_command("set_output_"),
        dirs.file_command("step_summary_"),
    ];
    assert!(
        written.iter().all(|p| file_commands.contains(p)),
        "the container wrote outside its outputs and summary: {written:?}"
    );
    // The backend's sources are left as they were.
    for (path, state) in &before {
        if path.starts_with(dirs.workspace.join("backend")) {
            assert_eq!(after.get(path), Some(state), "{} changed", path.display());
        }
    }
    // As the runner's user: overwrite every file the container wrote or owns, then clean the
    // workspace and the temp directory as the next checkout and the job's end do.
    let mut script = String::from("set -e\n");
    for path in written.iter().chain(foreign.iter()) {
        if path.is_file() {
            script.push_str(&format!("printf x > '{}'\n", path.display()));
        }
    }
    script.push_str(&format!(
        "rm -rf '{}' '{}'\n",
        dirs.workspace.display(),
        dirs.temp.display()
    ));
    let mut cleanup = Command::new("sh");
    cleanup.arg("-c").arg(&script);
    if is_root() {
        cleanup.uid(HOSTED_RUNNER_UID).gid(HOSTED_RUNNER_UID);
    }
    let cleanup = cleanup.output().expect("run sh as the runner's user");
    assert!(
        cleanup.status.success(),
        "the runner's user cannot overwrite or remove what the container wrote: {}",
        String::from_utf8_lossy(&cleanup.stderr)
    );
    assert!(!dirs.workspace.exists() && !dirs.temp.exists());

    // No secret outside the `::add-mask::` lines.
    let printed: String = output
        .stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    for secret in [GEMINI, DEFAULT_WRITE_TOKEN, GITHUB_TOKEN] {
        for (what, text) in [
            ("stdout", printed.as_str()),
            ("stderr", output.stderr.as_str()),
            ("the summary", summary.as_str()),
        ] {
            assert!(!text.contains(secret), "a secret leaked into {what}");
        }
        assert!(!outputs.values().any(|v| v.contains(secret)));
    }
    assert!(
        github.unmatched().is_empty(),
        "unexpected GitHub calls: {:?}",
        github.unmatched()
    );
    Run {
        output,
        outputs,
        summary,
    }
}

fn assert_deployed(run: &Run) {
    assert_eq!(run.outputs["space-id"], "local/container-app");
    assert_eq!(run.outputs["stage"], "RUNNING");
    assert_eq!(run.outputs["health"], "healthy");
    assert_eq!(run.outputs["changed"], "true");
    assert_eq!(run.outputs["commit-sha"].len(), 40);
    let app_url = &run.outputs["app-url"];
    assert_eq!(run.outputs["docs-url"], format!("{app_url}/docs"));
    assert!(run.summary.contains(app_url.as_str()), "{}", run.summary);
    assert!(
        run.output.stdout.contains("::add-mask::"),
        "{}",
        run.output.both()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_event_in_the_action_container_deploys_and_records_a_deployment() {
    let payload = webhook_examples("push")
        .into_iter()
        .find(|e| {
            e["ref"]
                .as_str()
                .is_some_and(|r| r.starts_with("refs/heads/"))
                && e["deleted"] == false
        })
        .expect("a branch push example");
    let sha = payload["after"].as_str().expect("after").to_string();
    let git_ref = "refs/heads/master";
    assert_eq!(payload["ref"], git_ref);
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;

    let run = run_event(&emulator, &github, payload, ("push", git_ref, sha.clone())).await;
    assert_deployed(&run);
    let requests = github.requests();
    let deployments: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/deployments"))
        .collect();
    assert_eq!(deployments.len(), 1, "{requests:?}");
    assert!(
        deployments[0].body.contains(&sha),
        "{}",
        deployments[0].body
    );
    assert!(!github.statuses_with_state("success").is_empty());
    assert!(
        !requests.iter().any(|r| r.path.contains("/comments")),
        "no pull request, no comment"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_request_event_in_the_action_container_comments_and_records_a_deployment() {
    let payload: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            workspace_root().join("tests/fixtures/github/pull_request.opened.json"),
        )
        .expect("fixture"),
    )
    .expect("fixture JSON");
    let number = payload["number"].as_u64().expect("number");
    let emulator = emulator().await;
    let github = FakeGitHub::start(Mode::default()).await;
    github.seed_comments(number, 3, None);

    let run = run_event(
        &emulator,
        &github,
        payload,
        ("pull_request", "refs/pull/2/merge", MERGE_SHA.to_string()),
    )
    .await;
    assert_deployed(&run);
    let app_url = &run.outputs["app-url"];
    assert_eq!(github.comment_count(number), 4, "one comment added");
    let comment = github
        .comment_with("hf-deploy:space=local/container-app")
        .expect("the pull-request comment");
    assert!(comment.contains(app_url.as_str()), "{comment}");
    assert!(!comment.contains(GEMINI));
    let requests = github.requests();
    let deployment = requests
        .iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/deployments"))
        .expect("a deployment");
    assert!(deployment.body.contains(HEAD_SHA), "{}", deployment.body);
    assert!(!deployment.body.contains(MERGE_SHA));
    assert!(!github.statuses_with_state("success").is_empty());
    assert!(
        requests
            .iter()
            .any(|r| r.path.contains("/statuses") && r.body.contains(app_url.as_str())),
        "environment_url is the app URL"
    );
    emulator.shutdown().await;
}

/// The image's binary has no stand-in (`--no-default-features`): its hints never offer `--local`,
/// and the flag itself is unknown. (No engine needed: the binary runs on this machine.)
#[test]
fn the_lean_binary_never_offers_the_local_stand_in() {
    let binary = lean_binary();
    let home = tempfile::tempdir().expect("tempdir");
    let source = example_backend();
    let run = |args: &[&str]| {
        let out = Command::new(&binary)
            .args(args)
            .env_clear()
            .env("HOME", home.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("run the lean binary");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let source = source.display().to_string();
    let (code, stderr) = run(&["deploy", &source]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--space"), "{stderr}");
    assert!(!stderr.contains("--local"), "{stderr}");
    let (code, stderr) = run(&["deploy", &source, "--space", "someone/app"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no Hub token"), "{stderr}");
    assert!(!stderr.contains("--local"), "{stderr}");
    let (code, stderr) = run(&["deploy", &source, "--local"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--local"),
        "clap names the unknown flag: {stderr}"
    );
}
