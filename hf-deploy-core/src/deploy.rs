//! The order of a deploy: scaffold, create, secrets and variables, push, wait for the build,
//! verify health and CORS, report.
//!
//! [`deploy`] never stops at the first error without a report: it returns a [`DeployOutcome`] with
//! everything known so far, plus the error. Bad input is found before any remote call.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::error::{Error, Result};
use crate::hub::retry::{Idempotency, Outcome as RetryOutcome};
use crate::hub::{CreateSpace, HubClient, LogKind, RetryPolicy, SpaceRuntime, SpaceStage};
use crate::push::{self, PushRequest};
use crate::report::{DeployReport, FileChanges};
use crate::scaffold::{self, Scaffold, ScaffoldOptions};
use crate::settings::Settings;
use crate::space::{SpaceId, join_url};
use crate::verify::{self, VerifyEvent};

/// Everything a deploy needs, already validated by the caller where it came from the user.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// The backend folder.
    pub source: PathBuf,
    /// The target Space.
    pub space: SpaceId,
    /// Front matter and layout.
    pub scaffold: ScaffoldOptions,
    /// Secrets and variables to set.
    pub settings: Settings,
    /// Frontend origins to check CORS for (already merged into `ALLOWED_ORIGINS`).
    pub frontend_origins: Vec<String>,
    /// Health path, starting with `/`.
    pub health_path: String,
    /// Explicit app URL; else the Hub's answer.
    pub app_url: Option<String>,
    /// Create the Space private.
    pub private: bool,
    /// Hardware flavor to request.
    pub hardware: Option<String>,
    /// Wait for the build and verify (false: return after the push).
    pub wait: bool,
    /// Deadline for build plus health.
    pub timeout: Duration,
    /// Plan only: no remote write.
    pub dry_run: bool,
    /// Accept `degraded` health.
    pub allow_degraded: bool,
    /// The commit message (names the source commit).
    pub commit_message: String,
    /// Remote paths kept even when the scaffold no longer produces them.
    pub keep: Vec<String>,
    /// Polling intervals.
    pub poll: PollSettings,
    /// The scaffold of `source` when it was already built (by [`crate::inputs::resolve`]);
    /// `None` scaffolds at the start of the deploy.
    pub prepared: Option<Scaffold>,
}

/// How often to poll; tests make these short.
#[derive(Debug, Clone, Copy)]
pub struct PollSettings {
    /// First interval between runtime polls (doubled after each poll, see
    /// [`RetryPolicy::poll`]).
    pub runtime_initial: Duration,
    /// Largest interval between runtime polls.
    pub runtime_max: Duration,
    /// First interval between health polls (doubled after each poll, see
    /// [`RetryPolicy::poll`]).
    pub health_initial: Duration,
    /// Largest interval between health polls.
    pub health_max: Duration,
    /// After a push, a `RUNNING` stage is only trusted once a build stage was seen, or after this
    /// long (the Hub flips to `BUILDING` shortly after the push lands).
    pub build_grace: Duration,
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings {
            runtime_initial: Duration::from_secs(1),
            runtime_max: Duration::from_secs(5),
            health_initial: Duration::from_secs(1),
            health_max: Duration::from_secs(5),
            build_grace: Duration::from_secs(20),
        }
    }
}

/// What happens during a deploy, for a progress display.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A phase starts: `create`, `settings`, `push`, `build`, `health`, `cors`.
    Phase(&'static str),
    /// The runtime stage seen by a poll.
    Stage {
        /// The stage.
        stage: &'a SpaceStage,
        /// Time since the wait started.
        elapsed: Duration,
    },
    /// One line of the build log, as it streams.
    BuildLog(&'a str),
    /// One health poll that was not yet a healthy answer.
    HealthAttempt(&'a str),
    /// A warning for the user (never holds a secret value).
    Warning(&'a str),
}

/// Receives [`Event`]s. The library prints nothing; the binary implements this.
pub trait Progress: Send + Sync {
    /// Called for every event.
    fn event(&self, event: Event<'_>);
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn event(&self, _event: Event<'_>) {}
}

/// The report of a deploy, and its error when it failed.
#[derive(Debug)]
pub struct DeployOutcome {
    /// Everything known, also on failure.
    pub report: DeployReport,
    /// Why it failed, if it did.
    pub error: Option<Error>,
}

/// Run a deploy. See the module docs.
pub async fn deploy(
    client: &HubClient,
    options: &DeployOptions,
    progress: &dyn Progress,
) -> DeployOutcome {
    let started = Instant::now();
    let app_url = options
        .app_url
        .clone()
        .unwrap_or_else(|| options.space.computed_app_url());
    let mut report = DeployReport::for_space(
        &options.space,
        client.endpoint(),
        &app_url,
        &options.health_path,
    );
    report.dry_run = options.dry_run;
    report
        .warnings
        .extend(options.settings.warnings.iter().cloned());
    let result = run(client, options, progress, &mut report).await;
    report.durations.total_ms = Some(millis(started.elapsed()));
    let error = result.err();
    if let Some(error) = &error {
        report.set_error(error);
    }
    DeployOutcome { report, error }
}

async fn run(
    client: &HubClient,
    options: &DeployOptions,
    progress: &dyn Progress,
    report: &mut DeployReport,
) -> Result<()> {
    let id = &options.space;

    // 1. Scaffold (pure, local, quick: no progress event). Bad input stops here, before any
    //    remote call.
    let phase = Instant::now();
    let mut scaffold_options = options.scaffold.clone();
    if scaffold_options.space.is_none() {
        scaffold_options.space = Some(id.clone());
    }
    if scaffold_options.health_path.is_none() {
        scaffold_options.health_path = Some(options.health_path.clone());
    }
    for key in options.settings.secrets.keys() {
        if !scaffold_options.secrets.iter().any(|doc| &doc.name == key) {
            scaffold_options.secrets.push(scaffold::SecretDoc::new(key));
        }
    }
    for key in options.settings.variables.keys() {
        if !scaffold_options.variables.contains(key) {
            scaffold_options.variables.push(key.clone());
        }
    }
    let scaffolded = match &options.prepared {
        Some(prepared) => prepared.clone(),
        None => {
            let source = options.source.clone();
            tokio::task::spawn_blocking(move || scaffold::scaffold(&source, &scaffold_options))
                .await
                .map_err(|e| Error::Io {
                    action: "scaffold",
                    path: options.source.clone(),
                    source: std::io::Error::other(e.to_string()),
                })??
        }
    };
    report.warnings.extend(scaffolded.warnings.iter().cloned());
    report.durations.scaffold_ms = Some(millis(phase.elapsed()));

    let secret_names: Vec<String> = options.settings.secrets.keys().cloned().collect();

    if options.dry_run {
        return plan(client, options, scaffolded, secret_names, report).await;
    }

    // 2. Who are we, and does the Space exist? (whoami is cached by the client.)
    progress.event(Event::Phase("create"));
    client.whoami().await?;
    let create = CreateSpace {
        private: options.private,
        hardware: options.hardware.clone(),
        ..CreateSpace::default()
    };
    client.create_space(id, &create).await?;

    // 3. Secrets and variables before the push, so the push's build sees them (one build, not two).
    progress.event(Event::Phase("settings"));
    for (key, value) in &options.settings.secrets {
        client.set_secret(id, key, value, None).await?;
    }
    report.secrets_set = secret_names;
    let remote_variables = client.variables(id).await?;
    for (key, value) in &options.settings.variables {
        if remote_variables.get(key).map(|v| v.value.as_str()) != Some(value.as_str()) {
            client.set_variable(id, key, value, None).await?;
            report.variables_set.push(key.clone());
        }
    }

    // 4. Push.
    progress.event(Event::Phase("push"));
    let phase = Instant::now();
    let outcome = push::push(push_request(client, options, scaffolded, false)).await?;
    report.durations.push_ms = Some(millis(phase.elapsed()));
    report.commit_sha = Some(outcome.commit_sha.clone());
    report.changed = outcome.changed;
    report.files = FileChanges {
        added: outcome.added.clone(),
        modified: outcome.modified.clone(),
        removed: outcome.removed.clone(),
    };

    if let Some(flavor) = &options.hardware {
        let runtime = client.runtime(id).await?;
        if runtime.hardware.requested.as_deref() != Some(flavor.as_str()) {
            client.request_hardware(id, flavor).await?;
        }
    }

    let info = client.space_info(id).await?;
    set_urls(
        report,
        options.app_url.clone().unwrap_or_else(|| info.app_url(id)),
        &options.health_path,
    );

    if !options.wait {
        let runtime = client.runtime(id).await?;
        report.stage = Some(runtime.stage.to_string());
        return Ok(());
    }

    // 5. Wait for the build.
    progress.event(Event::Phase("build"));
    let deadline = Instant::now() + options.timeout;
    let phase = Instant::now();
    let expect_build =
        outcome.changed || !report.secrets_set.is_empty() || !report.variables_set.is_empty();
    let runtime = wait_for_running(
        client,
        id,
        deadline,
        &options.poll,
        expect_build,
        progress,
        report,
    )
    .await;
    report.durations.build_ms = Some(millis(phase.elapsed()));
    let runtime = runtime?;
    report.stage = Some(runtime.stage.to_string());

    // 6. Health, then accept, then CORS: the sequence `verify` runs too.
    progress.event(Event::Phase("health"));
    let check = verify::AppCheck {
        app_url: report.app_url.clone(),
        health_path: options.health_path.clone(),
        token: if options.private {
            client.token().cloned()
        } else {
            None
        },
        deadline,
        poll: (options.poll.health_initial, options.poll.health_max),
        origins: options.frontend_origins.clone(),
        allow_degraded: options.allow_degraded,
    };
    let outcome = verify::verify_app(&check, &mut |event| match event {
        VerifyEvent::HealthAttempt(attempt) => {
            progress.event(Event::HealthAttempt(&attempt.outcome))
        }
        VerifyEvent::Cors => progress.event(Event::Phase("cors")),
    })
    .await;
    match report.record_verification(outcome) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// The dry run: read what is there, compute what would change, write nothing.
async fn plan(
    client: &HubClient,
    options: &DeployOptions,
    scaffolded: Scaffold,
    secret_names: Vec<String>,
    report: &mut DeployReport,
) -> Result<()> {
    let id = &options.space;
    report.secrets_set = secret_names;
    let info = if client.token().is_some() {
        match client.space_info(id).await {
            Ok(info) => Some(info),
            Err(Error::NotFound { .. }) => None,
            Err(error) => return Err(error),
        }
    } else {
        None
    };
    let remote_variables = match &info {
        Some(_) => client.variables(id).await?,
        None => Default::default(),
    };
    for (key, value) in &options.settings.variables {
        if remote_variables.get(key).map(|v| v.value.as_str()) != Some(value.as_str()) {
            report.variables_set.push(key.clone());
        }
    }
    match &info {
        Some(info) => {
            let outcome = push::push(push_request(client, options, scaffolded, true)).await?;
            report.commit_sha = Some(outcome.commit_sha);
            report.changed = outcome.changed;
            report.files = FileChanges {
                added: outcome.added,
                modified: outcome.modified,
                removed: outcome.removed,
            };
            report.stage = info.runtime.as_ref().map(|r| r.stage.to_string());
            set_urls(
                report,
                options.app_url.clone().unwrap_or_else(|| info.app_url(id)),
                &options.health_path,
            );
        }
        None => {
            report.changed = true;
            report.files = FileChanges {
                added: scaffolded.files.keys().cloned().collect(),
                ..FileChanges::default()
            };
            set_urls(
                report,
                options
                    .app_url
                    .clone()
                    .unwrap_or_else(|| id.computed_app_url()),
                &options.health_path,
            );
        }
    }
    Ok(())
}

/// The push of `scaffold` to the Space; with `dry_run`, the plan only (nothing is written).
fn push_request(
    client: &HubClient,
    options: &DeployOptions,
    scaffold: Scaffold,
    dry_run: bool,
) -> PushRequest {
    PushRequest {
        remote_url: client.git_url(&options.space),
        token: client.token().cloned(),
        files: scaffold.files,
        executable: scaffold.executable,
        keep: options.keep.clone(),
        message: options.commit_message.clone(),
        author: (
            "hf-deploy".to_string(),
            "hf-deploy@users.noreply.huggingface.co".to_string(),
        ),
        max_race_retries: if dry_run { 0 } else { 3 },
        retry: crate::hub::RetryPolicy::git(),
        dry_run,
    }
}

fn set_urls(report: &mut DeployReport, app_url: String, health_path: &str) {
    report.docs_url = join_url(&app_url, "/docs");
    report.health_url = join_url(&app_url, health_path);
    report.app_url = app_url;
}

/// Poll the runtime until `RUNNING` or an error stage, restarting a sleeping, paused or stopped
/// Space once, streaming the build log to `progress` as it comes.
pub async fn wait_for_running(
    client: &HubClient,
    id: &SpaceId,
    deadline: Instant,
    poll: &PollSettings,
    expect_build: bool,
    progress: &dyn Progress,
    report: &mut DeployReport,
) -> Result<SpaceRuntime> {
    let started = Instant::now();
    let mut seen_build = !expect_build;
    let mut restarted = false;
    let policy = RetryPolicy::poll(poll.runtime_initial, poll.runtime_max);
    let mut polls = 0u32;
    let mut last_seen;
    // The build log is a nicety: when it cannot be opened, ends or fails, we keep polling.
    let mut logs = client.logs(id, LogKind::Build).await.ok();
    loop {
        polls += 1;
        let runtime = client.runtime(id).await?;
        let stage = &runtime.stage;
        last_seen = stage.to_string();
        report.stage = Some(last_seen.clone());
        progress.event(Event::Stage {
            stage,
            elapsed: started.elapsed(),
        });
        let in_grace = !seen_build && started.elapsed() < poll.build_grace;
        if stage.is_in_progress() {
            seen_build = true;
        } else if *stage == SpaceStage::Running {
            if !in_grace {
                return Ok(runtime);
            }
        } else if stage.is_error() {
            if !in_grace {
                let kind = if *stage == SpaceStage::RuntimeError {
                    LogKind::Run
                } else {
                    LogKind::Build
                };
                let log_tail = client
                    .logs_tail(id, kind, 50, Duration::from_millis(1500))
                    .await
                    .unwrap_or_default();
                return Err(Error::SpaceFailed {
                    stage: last_seen,
                    log_tail,
                });
            }
        } else if stage.needs_restart() && !restarted {
            progress.event(Event::Warning(&format!(
                "the Space is {stage}; restarting it"
            )));
            client.restart(id, false).await?;
            restarted = true;
            seen_build = false;
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(Error::Timeout {
                what: format!("Space `{id}` to reach RUNNING"),
                elapsed: started.elapsed(),
                last_seen,
            });
        }
        let delay = policy
            .next_delay(Idempotency::Idempotent, polls, RetryOutcome::Pending)
            .unwrap_or(poll.runtime_max);
        let sleep = tokio::time::sleep(delay.min(deadline - now));
        tokio::pin!(sleep);
        // Stream build-log lines while we wait for the next poll.
        loop {
            let Some(stream) = logs.as_mut() else {
                sleep.as_mut().await;
                break;
            };
            tokio::select! {
                () = &mut sleep => break,
                line = stream.next() => match line {
                    Some(Ok(line)) => progress.event(Event::BuildLog(line.text.trim_end())),
                    Some(Err(_)) | None => logs = None,
                },
            }
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
