//! The scaffolded Space image on a real Docker engine: it builds with BuildKit, runs as UID 1000,
//! answers its health endpoint, passes its own HEALTHCHECK without curl, rebuilds a code-only change
//! without reinstalling the packages and reinstalls them when the requirements change.
//!
//! Needs a Docker engine with BuildKit (the Docker issue's `scripts/bootstrap.sh` sets one up, with
//! a local `python:3.11-slim`) and PyPI for the packages. A missing engine is a failure with a
//! hint, never a skip. Everything this test creates carries the label [`label`] and is removed
//! when the test ends, passed or failed (rebuilds leave the earlier images untagged: they are
//! found by the label).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use hf_deploy_core::scaffold::{ScaffoldOptions, scaffold};
use hf_deploy_tests::example_backend;

/// The label of everything this test creates; [`label`] adds this run's process id.
const LABEL: &str = "hf-deploy.test=space_image";

fn label() -> String {
    format!("{LABEL}-{}", std::process::id())
}

fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("could not run {command:?}: {e}"))
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A docker client that builds with BuildKit: `docker` when it has buildx, else the engine
/// package's own client (Debian's `docker.io` client has BuildKit built in).
fn buildkit_docker() -> PathBuf {
    let probe = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        probe.path().join("Dockerfile"),
        "FROM python:3.11-slim\nRUN --mount=type=cache,target=/tmp/c true\n",
    )
    .expect("write probe");
    let mut tried = Vec::new();
    for candidate in ["docker", "/usr/bin/docker"] {
        let output = Command::new(candidate)
            .args(["build", "-q", "--label", &label()])
            .arg(probe.path())
            .env("DOCKER_BUILDKIT", "1")
            .output();
        match output {
            Ok(output) if output.status.success() => {
                let id = stdout(&output);
                let _ = Command::new(candidate).args(["rmi", &id]).output();
                return PathBuf::from(candidate);
            }
            Ok(output) => tried.push(format!(
                "`{candidate}`: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )),
            Err(e) => tried.push(format!("`{candidate}`: {e}")),
        }
    }
    panic!(
        "no Docker client that builds with BuildKit and an engine with `python:3.11-slim` ({}): \
         install Docker with buildx (or Debian's docker.io) and run `scripts/bootstrap.sh`",
        tried.join("; ")
    );
}

/// Removes the test's containers and images, whatever happens.
struct Cleanup {
    docker: PathBuf,
    containers: Vec<String>,
    images: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for id in &self.containers {
            let _ = Command::new(&self.docker).args(["rm", "-f", id]).output();
        }
        let labelled = Command::new(&self.docker)
            .args(["images", "-q", "--filter", &format!("label={}", label())])
            .output()
            .map(|o| stdout(&o))
            .unwrap_or_default();
        let images = self
            .images
            .iter()
            .map(String::as_str)
            .chain(labelled.lines());
        for image in images {
            let _ = Command::new(&self.docker)
                .args(["rmi", "-f", image])
                .output();
        }
    }
}

/// `docker build` with plain progress; returns the build log.
fn build(docker: &Path, context: &Path, tag: &str) -> String {
    let output = run(Command::new(docker)
        .args(["build", "--progress=plain", "--label", &label(), "-t", tag])
        .arg(context)
        .env("DOCKER_BUILDKIT", "1"));
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "docker build failed:\n{log}");
    log
}

/// Whether the build step whose command contains `needle` came from the cache.
fn step_cached(log: &str, needle: &str) -> bool {
    let step = log
        .lines()
        .find(|line| line.starts_with('#') && line.contains(needle))
        .unwrap_or_else(|| panic!("no build step running `{needle}` in:\n{log}"));
    let number = step.split_whitespace().next().unwrap_or_default();
    log.lines()
        .any(|line| line.starts_with(&format!("{number} CACHED")))
}

#[test]
fn scaffolded_image_builds_runs_as_uid_1000_and_answers_health() {
    let docker = buildkit_docker();
    let out = scaffold(&example_backend(), &ScaffoldOptions::default()).expect("scaffold");
    let parent = tempfile::tempdir().expect("temp dir");
    let context = parent.path().join("space");
    out.write_to(&context).expect("write scaffold");

    let tag = format!("hf-deploy-test-space-image:{}", std::process::id());
    let mut cleanup = Cleanup {
        docker: docker.clone(),
        containers: Vec::new(),
        images: vec![tag.clone()],
    };
    let install = "uv pip install -r requirements.txt";
    let first = build(&docker, &context, &tag);
    assert!(first.contains(install), "{first}");

    let container = stdout(&run(Command::new(&docker)
        .args(["run", "-d", "--label", &label(), "-p", "127.0.0.1::7860"])
        .args(["-e", "HEALTH_CHECK_TIMEOUT=1"])
        .arg(&tag)));
    assert!(!container.is_empty(), "docker run printed no container id");
    cleanup.containers.push(container.clone());

    // The Space runs the image as UID 1000; so does the image by itself.
    let uid = stdout(&run(
        Command::new(&docker).args(["exec", &container, "id", "-u"])
    ));
    assert_eq!(uid, "1000");
    let owner = stdout(&run(Command::new(&docker).args([
        "exec",
        &container,
        "stat",
        "-c",
        "%u",
        "/home/user/venv",
    ])));
    assert_eq!(owner, "1000", "the virtual environment belongs to the user");

    // Health, from the host through the published port.
    let port_line = stdout(&run(
        Command::new(&docker).args(["port", &container, "7860"])
    ));
    let port = port_line
        .lines()
        .next()
        .and_then(|l| l.rsplit(':').next())
        .unwrap_or_else(|| panic!("no published port in `{port_line}`"))
        .to_string();
    let url = format!("http://127.0.0.1:{port}/api/health");
    let client = http::blocking_client();
    let deadline = Instant::now() + Duration::from_secs(60);
    let body: serde_json::Value = loop {
        if let Some(body) = client(&url) {
            break body;
        }
        if Instant::now() > deadline {
            let logs = run(Command::new(&docker).args(["logs", &container]));
            panic!(
                "{url} did not answer within 60 s; container log:\n{}{}",
                String::from_utf8_lossy(&logs.stdout),
                String::from_utf8_lossy(&logs.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(body["services"]["fastapi"], "ok", "{body}");

    // The image's own HEALTHCHECK works without curl.
    let test: Vec<String> = serde_json::from_str(&stdout(&run(Command::new(&docker).args([
        "inspect",
        "--format",
        "{{json .Config.Healthcheck.Test}}",
        &tag,
    ]))))
    .expect("HEALTHCHECK in exec form");
    assert_eq!(test[0], "CMD", "{test:?}");
    assert!(!test.iter().any(|a| a.contains("curl")), "{test:?}");
    let probe = run(Command::new(&docker)
        .args(["exec", &container])
        .args(&test[1..]));
    assert!(
        probe.status.success(),
        "the HEALTHCHECK command failed: {}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let no_curl =
        run(Command::new(&docker).args(["exec", &container, "sh", "-c", "command -v curl"]));
    assert!(
        !no_curl.status.success(),
        "curl is not installed in the image"
    );

    // A code-only change rebuilds without reinstalling the packages... (the changes are unique
    // to this run: BuildKit would otherwise find an earlier run's layers by content)
    let nonce = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    );
    let main = context.join("app/main.py");
    let mut code = std::fs::read_to_string(&main).expect("read main.py");
    code.push_str(&format!("\n# a code-only change {nonce}\n"));
    std::fs::write(&main, code).expect("write main.py");
    let code_only = build(&docker, &context, &tag);
    assert!(step_cached(&code_only, install), "{code_only}");
    assert!(
        !step_cached(&code_only, "COPY --chown=user . ."),
        "{code_only}"
    );

    // ...and a requirements change reinstalls them.
    let requirements = context.join("requirements.txt");
    let mut text = std::fs::read_to_string(&requirements).expect("read requirements");
    text.push_str(&format!("# a requirements change {nonce}\n"));
    std::fs::write(&requirements, text).expect("write requirements");
    let reinstall = build(&docker, &context, &tag);
    assert!(!step_cached(&reinstall, install), "{reinstall}");
}

mod http {
    /// A GET that returns the JSON body of any answer (the example answers 200 even when
    /// degraded), or `None` while the app is not up.
    pub(super) fn blocking_client() -> impl Fn(&str) -> Option<serde_json::Value> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let client = reqwest::Client::new();
        move |url: &str| {
            runtime.block_on(async {
                let response = client
                    .get(url)
                    .timeout(std::time::Duration::from_secs(10))
                    .send()
                    .await
                    .ok()?;
                response.json().await.ok()
            })
        }
    }
}
