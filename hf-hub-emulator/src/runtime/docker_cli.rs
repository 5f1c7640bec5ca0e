//! The `docker` CLI the Docker runner drives, and its deadlines: every call to it ends, by itself
//! or killed with its process group ([`super::bounded`]), so that an engine that answers slowly,
//! with errors or half an answer cannot hang a deploy or the stand-in's shutdown. What the CLI
//! printed on a failure is the engine's answer as it quotes it: outside text, carried as is to
//! the Space's stage message (the client shows it through its sanitiser).

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::process::Command;

use super::bounded::{Failure, output_within, output_within_blocking};

/// A call that asks the engine a question (`version`, `inspect`, `port`, `ps`, `image ls`, `rm`).
pub(super) const QUICK: Duration = Duration::from_secs(30);
/// `docker run -d` (creates and starts a container; the image is local).
pub(super) const START: Duration = Duration::from_secs(120);
/// `docker build` (pip installs included).
pub(super) const BUILD: Duration = Duration::from_secs(30 * 60);
/// A removal when a generation or the stand-in ends (blocking: keep it short).
pub(super) const REMOVAL: Duration = Duration::from_secs(15);
/// Finding which CLI builds with BuildKit (no engine asked).
const LOOKUP: Duration = Duration::from_secs(5);
/// Where the lookup's CLI looks for an engine: nowhere.
const NO_ENGINE: &str = "unix:///nonexistent/hf-deploy-no-engine.sock";

/// The `docker` CLI to use: `HF_DEPLOY_DOCKER` when set, else the first `docker` on `PATH` that
/// can build with BuildKit (a CLI with the buildx plugin, or a CLI older than 23 whose built-in
/// BuildKit client `DOCKER_BUILDKIT=1` turns on), else plain `docker`. Asks no engine.
pub(super) fn cli() -> &'static PathBuf {
    static CLI: OnceLock<PathBuf> = OnceLock::new();
    CLI.get_or_init(|| {
        if let Some(p) = std::env::var_os("HF_DEPLOY_DOCKER").filter(|p| !p.is_empty()) {
            return PathBuf::from(p);
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut seen = Vec::new();
        for dir in std::env::split_paths(&path) {
            let cand = dir.join("docker");
            let Ok(real) = std::fs::canonicalize(&cand) else {
                continue;
            };
            if seen.contains(&real) {
                continue;
            }
            seen.push(real);
            if buildkit_capable(&cand) {
                return cand;
            }
        }
        PathBuf::from("docker")
    })
}

/// A CLI older than 23 (`docker --version`: the client only), else one with the buildx plugin
/// (`docker buildx version`). The engine is not asked: `docker version` would wait on one that
/// does not answer, and a CLI older than 23 pings it before any command (up to 2 s each), so
/// these run with `DOCKER_HOST` at a socket that does not exist.
fn buildkit_capable(cli: &std::path::Path) -> bool {
    let ok = |args: &[&str]| {
        let mut cmd = std::process::Command::new(cli);
        cmd.args(args).env("DOCKER_HOST", NO_ENGINE);
        output_within_blocking(&mut cmd, LOOKUP)
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match ok(&["--version"]).and_then(|v| client_major(&v)) {
        Some(major) if major < 23 => true,
        Some(_) => ok(&["buildx", "version"]).is_some(),
        None => false,
    }
}

/// The major version in `Docker version 28.2.2, build e6534b4`.
fn client_major(version: &str) -> Option<u32> {
    version
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse().ok())
}

/// A `docker` command with the runner's environment (BuildKit on, no hints, no stdin; killed
/// when dropped).
pub(super) fn docker() -> Command {
    let mut c = Command::new(cli());
    c.env("DOCKER_BUILDKIT", "1")
        .env("DOCKER_CLI_HINTS", "false")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

/// `docker ARGS` within `deadline`: its trimmed stdout, or what went wrong (its stderr: the
/// engine's answer as the CLI quotes it; a deadline passed; no CLI).
pub(super) async fn output(args: &[&str], deadline: Duration) -> Result<String, String> {
    checked(output_within(docker().args(args), deadline).await, args)
}

/// [`output`] for `Drop` and shutdown (no runtime to wait on).
pub(super) fn output_blocking(args: &[&str], deadline: Duration) -> Result<String, String> {
    let mut cmd = std::process::Command::new(cli());
    cmd.env("DOCKER_CLI_HINTS", "false").args(args);
    checked(output_within_blocking(&mut cmd, deadline), args)
}

fn checked(out: Result<std::process::Output, Failure>, args: &[&str]) -> Result<String, String> {
    let what = || format!("docker {}", args.first().copied().unwrap_or_default());
    let out = out.map_err(|f| f.describe(&what()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(failed(&what(), &out.stderr))
    }
}

/// `docker X failed: <what the CLI printed>` (its last 2 KiB: the engine's answer is at the end).
pub(super) fn failed(what: &str, stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    let mut start = text.len().saturating_sub(2048);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    if text.is_empty() {
        format!("{what} failed (it printed nothing)")
    } else {
        format!("{what} failed: {}", &text[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_major_is_read_from_the_cli_version_line() {
        assert_eq!(
            client_major("Docker version 28.2.2, build e6534b4"),
            Some(28)
        );
        assert_eq!(
            client_major("Docker version 20.10.24+dfsg1, build 297e128"),
            Some(20)
        );
        assert_eq!(client_major("no version here"), None);
    }

    #[test]
    fn a_failure_quotes_the_end_of_what_the_cli_printed() {
        assert_eq!(
            failed("docker run", b"Error response from daemon: overloaded\n"),
            "docker run failed: Error response from daemon: overloaded"
        );
        assert_eq!(
            failed("docker rm", b""),
            "docker rm failed (it printed nothing)"
        );
        let long = format!("{}é{}", "x".repeat(3000), "the end");
        let shown = failed("docker build", long.as_bytes());
        assert!(shown.ends_with("the end") && shown.len() < 2100, "{shown}");
    }
}
