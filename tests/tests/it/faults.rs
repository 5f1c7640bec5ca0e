//! End-to-end: the fault matrix (issue 16). Every remote call of a deploy (the Hub API, git smart
//! HTTP, Git LFS, the token exchange, the job's ID token, the GitHub API, the app's health) under
//! each fault (429 with `Retry-After`, 500, 502, 503, an answer cut after the request was served,
//! an answer slower than the client's timeout), injected for the first [`FAULT_COUNT`] matching
//! requests only. Each cell either succeeds with exactly one new commit and every setting applied
//! (the stand-in's state is read), or fails with a clear message (exit 1) and a rerun without the
//! fault converges (one commit in all for the same tree, the settings right). No cell may hang:
//! each runs under [`CELL_DEADLINE`].
//!
//! `cargo nextest run -p hf-deploy-tests -E 'test(/^faults::/)' --no-capture` prints the matrix
//! (call × fault → outcome).

use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::{PasswordHash, PasswordVerifier};
use hf_deploy_tests::fake_github::{
    FakeGitHub, FaultKind, GitHubFault, ID_TOKEN_REQUEST_TOKEN, Mode,
};
use hf_deploy_tests::matrix;
use hf_deploy_tests::{
    CliOutput, action_inputs, copy_dir, copy_tree, example_backend, git, hub_env, run_cli_async,
    start_scripted_emulator, strings, workspace_root,
};
use hf_hub_emulator::{DEFAULT_WRITE_TOKEN, Emulator, FaultRule, TrustedPublisher};

/// How many matching requests each fault hits (then the real answer comes).
const FAULT_COUNT: u32 = 2;
/// The clients' timeout for one request (`HF_DEPLOY_HTTP_TIMEOUT`), in seconds.
const HTTP_TIMEOUT_SECS: u64 = 2;
/// How late a "slow" answer comes: past the clients' timeout.
const SLOW: Duration = Duration::from_secs(5);
/// No cell may take longer (both runs included).
const CELL_DEADLINE: Duration = Duration::from_secs(150);
/// Cells run at once.
const PARALLEL: usize = 8;

const REPOSITORY: &str = "Codertocat/Hello-World";
const PR_NUMBER: u64 = 2;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    RateLimited,
    Status(u16),
    Reset,
    Slow,
}

impl Fault {
    const ALL: [Fault; 6] = [
        Fault::RateLimited,
        Fault::Status(500),
        Fault::Status(502),
        Fault::Status(503),
        Fault::Reset,
        Fault::Slow,
    ];

    fn name(self) -> String {
        match self {
            Fault::RateLimited => "429 Retry-After".into(),
            Fault::Status(code) => code.to_string(),
            Fault::Reset => "reset mid-answer".into(),
            Fault::Slow => "slower than timeout".into(),
        }
    }

    fn on_hub(self, rule: FaultRule) -> FaultRule {
        let rule = match self {
            Fault::RateLimited => rule.rate_limited(1),
            Fault::Status(code) => rule.status(code),
            Fault::Reset => rule.reset_mid_answer(),
            Fault::Slow => rule.latency(SLOW),
        };
        rule.times(FAULT_COUNT)
    }

    fn on_github(self, method: &str, path: &str) -> GitHubFault {
        let kind = match self {
            Fault::RateLimited => FaultKind::RateLimited(1),
            Fault::Status(code) => FaultKind::Status(code),
            Fault::Reset => FaultKind::ResetMidAnswer,
            Fault::Slow => FaultKind::Slow(SLOW),
        };
        GitHubFault::new(method, path, kind, FAULT_COUNT)
    }
}

/// Which run of a deploy the call belongs to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Scenario {
    /// `hf-deploy deploy` to a new Space (lookup, create with its settings, push, build, health).
    Create,
    /// `hf-deploy deploy` of a changed tree (a new LFS file) and changed settings to an existing
    /// Space (settings read and written, push, build, health).
    Redeploy,
    /// `hf-deploy action` on a pull request, keyless (the job's ID token, the exchange), with
    /// the PR comment and the deployment status.
    Action,
}

/// Where the faulted call goes.
#[derive(Debug, Clone, Copy)]
enum Remote {
    /// The Hub stand-in's API listener: method, path pattern, query pattern.
    Hub(&'static str, &'static str, Option<&'static str>),
    /// The Space's app.
    App(&'static str, &'static str),
    /// The fake GitHub: method, path pattern.
    GitHub(&'static str, &'static str),
}

struct Call {
    name: &'static str,
    scenario: Scenario,
    remote: Remote,
}

const fn call(name: &'static str, scenario: Scenario, remote: Remote) -> Call {
    Call {
        name,
        scenario,
        remote,
    }
}

fn calls() -> Vec<Call> {
    use Remote::{App, GitHub, Hub};
    use Scenario::{Action, Create, Redeploy};
    vec![
        call(
            "space info",
            Redeploy,
            Hub("GET", "/api/spaces/local/faulty", None),
        ),
        call("create", Create, Hub("POST", "/api/repos/create", None)),
        call(
            "secrets read",
            Redeploy,
            Hub("GET", "/api/spaces/*/secrets", None),
        ),
        call(
            "secrets write",
            Redeploy,
            Hub("POST", "/api/spaces/*/secrets", None),
        ),
        call(
            "variables read",
            Redeploy,
            Hub("GET", "/api/spaces/*/variables", None),
        ),
        call(
            "variables write",
            Redeploy,
            Hub("POST", "/api/spaces/*/variables", None),
        ),
        call(
            "runtime poll",
            Redeploy,
            Hub("GET", "/api/spaces/*/runtime", None),
        ),
        call(
            "info/refs (fetch)",
            Redeploy,
            Hub(
                "GET",
                "/spaces/*/info/refs",
                Some("service=git-upload-pack"),
            ),
        ),
        call(
            "upload-pack",
            Redeploy,
            Hub("POST", "/spaces/*/git-upload-pack", None),
        ),
        call(
            "info/refs (push)",
            Redeploy,
            Hub(
                "GET",
                "/spaces/*/info/refs",
                Some("service=git-receive-pack"),
            ),
        ),
        call(
            "receive-pack",
            Redeploy,
            Hub("POST", "/spaces/*/git-receive-pack", None),
        ),
        call(
            "LFS batch",
            Redeploy,
            Hub("POST", "/spaces/*/info/lfs/objects/batch", None),
        ),
        call("LFS upload", Redeploy, Hub("PUT", "/lfs/upload/*", None)),
        call("app health", Redeploy, App("GET", "/api/health")),
        call("job ID token", Action, GitHub("GET", "/_apis/idtoken")),
        call("OIDC exchange", Action, Hub("POST", "/oauth/token", None)),
        call(
            "PR comment",
            Action,
            GitHub("POST", "/repos/*/issues/*/comments"),
        ),
        call(
            "deployment status",
            Action,
            GitHub("POST", "/repos/*/deployments/*/statuses"),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_remote_call_under_every_fault_succeeds_once_or_fails_clearly_and_converges() {
    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut tasks = Vec::new();
    for call in calls() {
        let call = Arc::new(call);
        for fault in Fault::ALL {
            let gate = gate.clone();
            let call = call.clone();
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire().await.expect("the gate stays open");
                let outcome = tokio::time::timeout(CELL_DEADLINE, run_cell(&call, fault))
                    .await
                    .unwrap_or_else(|_| Err(format!("HANG: over {CELL_DEADLINE:?}")));
                matrix::Cell {
                    call: call.name,
                    fault: fault.name(),
                    outcome,
                }
            }));
        }
    }
    let mut cells = Vec::new();
    for task in tasks {
        cells.push(task.await.expect("a cell's task"));
    }
    let bad = matrix::print(&format!("fault matrix ({:?})", started.elapsed()), &cells);
    assert!(
        bad.is_empty(),
        "cells that neither succeeded once nor failed clearly and converged:\n{}",
        bad.join("\n\n")
    );
}

/// A git server that accepts the push and then says nothing: libgit2 waits forever by default,
/// the binary gives its sockets the HTTP clients' silence limit (`HF_DEPLOY_HTTP_TIMEOUT`). The
/// deploy ends with a timeout naming the push, nothing half-written, and a rerun
/// converges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_git_server_that_stalls_ends_the_push_with_a_timeout_and_a_rerun_converges() {
    let world = World::start(Scenario::Redeploy)
        .await
        .expect("the stand-ins");
    world.emulator.faults().add(
        FaultRule::new("POST", "/spaces/*/git-receive-pack")
            .latency(Duration::from_secs(3600))
            .times(1000),
    );
    let started = Instant::now();
    let first = tokio::time::timeout(CELL_DEADLINE, world.run())
        .await
        .expect("the deploy ends although git stalls");
    let took = started.elapsed();
    world.emulator.faults().clear();
    assert_eq!(first.code, 1, "{}", first.both());
    world.failure_message(&first).expect("a message");
    let message = first.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains("push `main`") && message.contains("timed out"),
        "{message}\n{}",
        first.both()
    );
    assert_eq!(world.commits(), world.base_commits, "nothing landed");
    eprintln!("a stalled git-receive-pack ended the deploy in {took:?}: {message}");
    rerun_converges(&world).await.expect("the rerun converges");
    world.shutdown().await;
}

/// One cell: the stand-ins, the seed (for a redeploy or an action), the faulted run, its check,
/// and a rerun without the fault when the first run did not finish the job.
async fn run_cell(call: &Call, fault: Fault) -> Result<String, String> {
    let world = World::start(call.scenario).await?;
    match call.remote {
        Remote::Hub(method, path, query) => {
            let mut rule = FaultRule::new(method, path);
            if let Some(query) = query {
                rule = rule.query(query);
            }
            world.emulator.faults().add(fault.on_hub(rule));
        }
        Remote::App(method, path) => world
            .emulator
            .faults()
            .add(fault.on_hub(FaultRule::app(method, path))),
        Remote::GitHub(method, path) => world.github.add_fault(fault.on_github(method, path)),
    }
    let before = world.emulator.request_log().len();
    let first = world.run().await;
    let hit = match call.remote {
        Remote::GitHub(method, path) => world.github.requests().iter().any(|r| {
            r.method == method && glob(path, r.path.split('?').next().unwrap_or_default())
        }),
        Remote::Hub(method, path, _) | Remote::App(method, path) => world.emulator.request_log()
            [before..]
            .iter()
            .any(|r| r.method == method && glob(path, &r.path)),
    };
    world.emulator.faults().clear();
    world.github.clear_faults();
    let result = match first.code {
        0 if world.scenario == Scenario::Action => match world.check().and(world.check_github()) {
            Ok(()) => Ok("ok".to_string()),
            // The deploy landed; what GitHub refused is a warning, and the rerun writes it.
            Err(missing) => {
                let warned = first
                    .stdout
                    .lines()
                    .find(|l| l.starts_with("::warning"))
                    .map(|l| l.chars().take(120).collect::<String>())
                    .ok_or_else(|| format!("{missing}, without a warning"));
                match warned {
                    Ok(warning) => rerun_converges(&world)
                        .await
                        .map(|()| format!("deployed; {missing} ({warning}); rerun converged")),
                    Err(e) => Err(e),
                }
            }
        },
        0 => world.check().map(|()| "ok".to_string()),
        1 => match world.failure_message(&first) {
            Ok(message) => rerun_converges(&world)
                .await
                .map(|()| format!("failed clearly ({message}); rerun converged")),
            Err(e) => Err(e),
        },
        code => Err(format!("exit {code}: {}", first.both())),
    };
    world.shutdown().await;
    if !hit {
        return Err("the faulted call was never made".into());
    }
    result.map_err(|e| format!("{e}\n--- first run\n{}", first.both()))
}

/// A second run without the fault ends well and leaves the Space (and GitHub) as one run would.
async fn rerun_converges(world: &World) -> Result<(), String> {
    let rerun = world.run().await;
    if rerun.code != 0 {
        return Err(format!("the rerun failed: {}", rerun.both()));
    }
    world.check()?;
    if world.scenario == Scenario::Action {
        world.check_github()?;
    }
    Ok(())
}

/// `pattern` (`*`: any run of characters) matches all of `text`.
fn glob(pattern: &str, text: &str) -> bool {
    let re = pattern
        .split('*')
        .map(regex::escape)
        .collect::<Vec<_>>()
        .join(".*");
    regex::Regex::new(&format!("^{re}$")).is_ok_and(|r| r.is_match(text))
}

/// The secret and variable the faulted run sets (the seed set other values).
const SECRET: (&str, &str) = ("API_KEY", "sk-after-the-fault-0123456789");
const SEED_SECRET: &str = "sk-before-the-fault-0123456789";
const VARIABLE: (&str, &str) = ("LOG_LEVEL", "debug");

/// The stand-ins of one cell and the source folder it deploys.
struct World {
    scenario: Scenario,
    emulator: Emulator,
    github: FakeGitHub,
    space: String,
    /// The job's workspace (the source is `backend/` in it).
    job: tempfile::TempDir,
    /// Commits on `main` before the faulted run.
    base_commits: usize,
}

impl World {
    async fn start(scenario: Scenario) -> Result<World, String> {
        let emulator = start_scripted_emulator().await;
        let github = FakeGitHub::start(Mode::default()).await;
        let job = tempfile::tempdir().map_err(|e| e.to_string())?;
        let backend = copy_tree(&example_backend());
        copy_dir(backend.path(), &job.path().join("backend"));
        let mut world = World {
            scenario,
            emulator,
            github,
            space: "local/faulty".into(),
            job,
            base_commits: 0,
        };
        world.seed().await?;
        // The faulted run's tree: one more file, binary (so it goes to Git LFS).
        let mut blob = vec![0u8; 4096];
        blob[100..132].copy_from_slice(b"a tree of the faulted run (lfs)\n");
        std::fs::write(world.source().join("app/model.bin"), blob).map_err(|e| e.to_string())?;
        world.base_commits = world.commits();
        Ok(world)
    }

    fn source(&self) -> std::path::PathBuf {
        self.job.path().join("backend")
    }

    /// A redeploy's Space, deployed once without faults; an action's Space, created and trusting
    /// the job (a keyless token cannot create it).
    async fn seed(&mut self) -> Result<(), String> {
        match self.scenario {
            Scenario::Create => Ok(()),
            Scenario::Redeploy => {
                let out = self.deploy(SEED_SECRET, "info").await;
                match out.code {
                    0 => Ok(()),
                    _ => Err(format!("the seed deploy failed: {}", out.both())),
                }
            }
            Scenario::Action => {
                let answer = reqwest::Client::new()
                    .post(format!("{}/api/repos/create", self.emulator.url()))
                    .bearer_auth(DEFAULT_WRITE_TOKEN)
                    .json(&serde_json::json!({"name": "faulty", "organization": "local", "type": "space", "sdk": "docker"}))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if !answer.status().is_success() {
                    return Err(format!("create the action's Space: {answer:?}"));
                }
                self.emulator.add_trusted_publisher(
                    &self.space,
                    TrustedPublisher {
                        repository: REPOSITORY.into(),
                        workflow: None,
                        git_ref: None,
                    },
                );
                self.github
                    .set_job(REPOSITORY, "Deploy", "refs/pull/2/merge", "pull_request");
                Ok(())
            }
        }
    }

    fn space_dir(&self) -> Option<std::path::PathBuf> {
        self.emulator.space_dir(&self.space)
    }

    /// Commits on `main` made by hf-deploy (a new Space also has the Hub's first commit).
    fn commits(&self) -> usize {
        self.space_dir().map_or(0, |dir| {
            git(&dir, &["rev-list", "--count", "--author=hf-deploy", "main"])
                .trim()
                .parse()
                .unwrap_or(0)
        })
    }

    /// The faulted run (and the rerun): a deploy, or the action.
    async fn run(&self) -> CliOutput {
        match self.scenario {
            Scenario::Create | Scenario::Redeploy => self.deploy(SECRET.1, VARIABLE.1).await,
            Scenario::Action => self.action().await,
        }
    }

    async fn deploy(&self, secret: &str, log_level: &str) -> CliOutput {
        let mut args = strings(&["deploy"]);
        args.push(self.source().display().to_string());
        args.extend(strings(&[
            "--space",
            &self.space,
            "--json",
            "--timeout",
            "60",
        ]));
        args.extend(strings(&["--secret", &format!("{}={secret}", SECRET.0)]));
        args.extend(strings(&[
            "--variable",
            &format!("{}={log_level}", VARIABLE.0),
        ]));
        let mut env = hub_env(&self.emulator, DEFAULT_WRITE_TOKEN);
        env.push((
            "HF_DEPLOY_HTTP_TIMEOUT".into(),
            HTTP_TIMEOUT_SECS.to_string(),
        ));
        run_cli_async(args, env).await
    }

    async fn action(&self) -> CliOutput {
        let path = |name: &str| self.job.path().join(name).display().to_string();
        let event = self.job.path().join("event.json");
        let _ = std::fs::copy(
            workspace_root().join("tests/fixtures/github/pull_request.opened.json"),
            &event,
        );
        let mut env: Vec<(String, String)> = [
            ("GITHUB_ACTIONS", "true".to_string()),
            ("GITHUB_WORKSPACE", path("")),
            ("GITHUB_REPOSITORY", REPOSITORY.into()),
            ("GITHUB_API_URL", self.github.url.clone()),
            ("GITHUB_SERVER_URL", "https://github.com".into()),
            ("GITHUB_RUN_ID", "1658821493".into()),
            (
                "GITHUB_SHA",
                "1111111111111111111111111111111111111111".into(),
            ),
            ("GITHUB_OUTPUT", path("output.txt")),
            ("GITHUB_STEP_SUMMARY", path("summary.md")),
            ("GITHUB_EVENT_NAME", "pull_request".into()),
            ("GITHUB_EVENT_PATH", event.display().to_string()),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", self.github.id_token_url()),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                ID_TOKEN_REQUEST_TOKEN.into(),
            ),
            ("HF_DEPLOY_HTTP_TIMEOUT", HTTP_TIMEOUT_SECS.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let endpoint = self.emulator.url();
        // No secrets or variables: a keyless token may push but not change settings.
        env.extend(action_inputs(&[
            ("space", &self.space),
            ("source", "backend"),
            ("timeout-minutes", "1"),
            ("hf-endpoint", &endpoint),
            ("github-token", "ghs_fake_installation_token_0123456789"),
        ]));
        run_cli_async(vec!["action".into()], env).await
    }

    /// The message of a failed run: the JSON report's error (a deploy) or the `::error` line
    /// (the action). It must say what failed and what the remote said.
    fn failure_message(&self, out: &CliOutput) -> Result<String, String> {
        let message = match self.scenario {
            Scenario::Action => out
                .stdout
                .lines()
                .chain(out.stderr.lines())
                .find(|l| l.starts_with("::error"))
                .unwrap_or_default()
                .to_string(),
            _ => serde_json::from_str::<serde_json::Value>(&out.stdout)
                .ok()
                .and_then(|j| j["error"]["message"].as_str().map(str::to_string))
                .unwrap_or_default(),
        };
        if message.trim().is_empty() {
            return Err(format!("no error message: {}", out.both()));
        }
        let first = out.stderr.lines().next().unwrap_or_default();
        Ok(first.chars().take(150).collect())
    }

    /// The Space after a successful run: exactly one commit more than before the faulted run,
    /// carrying this run's tree; the secret with this run's value and a fingerprint of it, the
    /// variable with this run's value; for the action, its writes to GitHub.
    fn check(&self) -> Result<(), String> {
        let commits = self.commits();
        if commits != self.base_commits + 1 {
            return Err(format!(
                "{commits} commits on `main`, {} expected (one more than the {} before)",
                self.base_commits + 1,
                self.base_commits
            ));
        }
        let dir = self.space_dir().ok_or("no Space")?;
        let files = git(&dir, &["ls-tree", "-r", "--name-only", "main"]);
        if !files.lines().any(|f| f == "app/model.bin") {
            return Err(format!("the head's tree is not this run's:\n{files}"));
        }
        if self.scenario == Scenario::Action {
            return Ok(());
        }
        let settings = self
            .emulator
            .space_settings(&self.space)
            .ok_or("no Space settings")?;
        let secret = settings
            .secrets
            .iter()
            .find(|s| s.key == SECRET.0)
            .ok_or("the secret is missing")?;
        if secret.value != SECRET.1 {
            return Err("the secret keeps a stale value".into());
        }
        fingerprint_matches(secret.description.as_deref(), SECRET.1)?;
        let variable = settings.variables.iter().find(|v| v.key == VARIABLE.0);
        if variable.map(|v| v.value.as_str()) != Some(VARIABLE.1) {
            return Err(format!(
                "the variable is not `{}`: {variable:?}",
                VARIABLE.1
            ));
        }
        Ok(())
    }

    /// The action's writes to GitHub: exactly one PR comment, and a deployment whose last
    /// status is `success`.
    fn check_github(&self) -> Result<(), String> {
        let comments = self.github.comment_count(PR_NUMBER);
        if comments != 1 {
            return Err(format!("{comments} PR comments, one expected"));
        }
        if self.github.statuses_with_state("success").is_empty() {
            return Err("no deployment status `success`".into());
        }
        Ok(())
    }

    async fn shutdown(self) {
        self.emulator.shutdown().await;
    }
}

/// The secret's description holds an Argon2id fingerprint of `value`.
fn fingerprint_matches(description: Option<&str>, value: &str) -> Result<(), String> {
    let phc = description
        .and_then(|d| d.split("hf-deploy:fingerprint ").nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap_or_default())
        .ok_or_else(|| format!("no fingerprint in {description:?}"))?;
    let hash = PasswordHash::new(phc).map_err(|e| format!("a mangled fingerprint: {e}"))?;
    argon2::Argon2::default()
        .verify_password(value.as_bytes(), &hash)
        .map_err(|_| "the fingerprint is stale (not of the value)".to_string())
}
