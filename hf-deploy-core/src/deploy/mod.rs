//! A deploy as a pipeline of named steps: the plan's scaffold, then [`create`] (look the Space
//! up, create it when missing, its visibility), [`settings`] and [`push`] (the settings that
//! changed, then the push, which writes nothing before them), [`runtime`] (sleep time, factory
//! reboot), [`build`] (wait for the new revision to run), [`verify`] (health, accept, CORS) and
//! the report; [`dry_run`] reads and plans only.
//!
//! [`deploy`] never stops at the first error without a report: it returns a [`DeployOutcome`] with
//! everything known so far, plus the error. Bad input was found by the plan
//! ([`crate::inputs::resolve`]) before any remote call.

mod build;
mod create;
mod dry_run;
mod push;
mod rollback;
mod runtime;
mod settings;
mod verify;

use std::fmt;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::hub::{HubClient, SpaceInfo, SpaceStage};
use crate::inputs::DeployOptions;
use crate::outbound;
use crate::report::DeployReport;
use crate::untrusted::RemoteText;

pub use rollback::rollback;

/// What happens during a deploy, for a progress display.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A phase starts.
    Phase(Phase),
    /// The Hub rate-limited a call and asked to wait: the call is sent again at `until`.
    RateLimitWait {
        /// What was being done.
        action: &'a str,
        /// How long.
        wait: Duration,
        /// When the Hub's window resets (see [`crate::report::utc`] to print it).
        until: std::time::SystemTime,
    },
    /// The runtime stage seen by a poll.
    Stage {
        /// The stage.
        stage: &'a SpaceStage,
        /// Time since the wait started.
        elapsed: Duration,
    },
    /// One line of the build log, as it streams (the build's words, redacted).
    BuildLog(&'a RemoteText),
    /// One health poll that was not yet a healthy answer (it may quote the app).
    HealthAttempt(&'a RemoteText),
    /// A warning for the user (it may quote the Hub or the app; redacted).
    Warning(&'a RemoteText),
}

/// A step of a deploy, as [`Event::Phase`] announces it. `Display` gives its name (`create`,
/// `settings`, `push`, `build`, `health`, `cors`, `restore`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// Look the Space up; create it when missing.
    Create,
    /// Write the secrets and variables that changed.
    Settings,
    /// Push the scaffold.
    Push,
    /// Wait for the new revision to run.
    Build,
    /// Wait for a healthy answer and judge it.
    Health,
    /// Check CORS from each frontend origin.
    Cors,
    /// Push an earlier tree back (a rollback, or a failed deploy's rollback on failure).
    Restore,
}

impl Phase {
    /// The phase's name, e.g. `build`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Create => "create",
            Phase::Settings => "settings",
            Phase::Push => "push",
            Phase::Build => "build",
            Phase::Health => "health",
            Phase::Cors => "cors",
            Phase::Restore => "restore",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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

/// Run `work` while the Hub's rate-limit waits of `client` become [`Event::RateLimitWait`]s,
/// and a wait past `deadline` fails its call at once (see [`HubClient::watch_waits`]).
async fn with_wait_events<T>(
    client: &HubClient,
    deadline: Instant,
    progress: &dyn Progress,
    work: impl std::future::Future<Output = T>,
) -> T {
    let mut watch = client.watch_waits(deadline);
    tokio::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return out,
            Some(wait) = watch.recv() => progress.event(Event::RateLimitWait {
                action: &wait.action,
                wait: wait.wait,
                until: wait.until,
            }),
        }
    }
}

/// Run a deploy. See the module docs.
///
/// Everything it reads from outside is redacted by the run's redactor: the client's
/// ([`HubClient::redactor`], its token and what the front end gave it) with the plan's
/// ([`DeployOptions::redactor`], the secrets and the passwords of URL-valued variables). The
/// error it returns is redacted by it too.
pub async fn deploy(
    client: &HubClient,
    options: &DeployOptions,
    progress: &dyn Progress,
) -> DeployOutcome {
    let client = &client.redacting(&options.redactor);
    let redactor = client.redactor();
    let started = Instant::now();
    let mut report = first_report(
        client,
        &options.space,
        options.app_url.as_deref(),
        &options.health_path,
    );
    report.dry_run = options.dry_run;
    report.warnings.extend(
        options
            .settings
            .warnings
            .iter()
            .map(|warning| RemoteText::new(warning, redactor)),
    );
    // The plan's own warnings (ports a Space cannot reach, a private app with a frontend) are
    // shown at once: they may explain a failure long before it comes.
    for warning in &options.warnings {
        let warning = RemoteText::new(warning, redactor);
        progress.event(Event::Warning(&warning));
        report.warnings.push(warning);
    }
    let deadline = Instant::now() + options.timeout;
    let result = with_wait_events(
        client,
        deadline,
        progress,
        run(client, options, progress, &mut report),
    )
    .await;
    outcome(client, started, report, result)
}

/// The report a run starts from: the Space's URLs, with the explicit app URL or the one the
/// Hub's rule computes.
fn first_report(
    client: &HubClient,
    space: &crate::space::SpaceId,
    app_url: Option<&str>,
    health_path: &crate::urls::HealthPath,
) -> DeployReport {
    let app_url = app_url.map_or_else(|| space.computed_app_url(), str::to_string);
    DeployReport::for_space(space, client.endpoint(), &app_url, health_path)
}

/// The outcome of a run begun at `started`: its time, and its error (redacted by `client`'s
/// redactor) recorded in the report.
fn outcome(
    client: &HubClient,
    started: Instant,
    mut report: DeployReport,
    result: Result<()>,
) -> DeployOutcome {
    report.durations.total_ms = Some(millis(started.elapsed()));
    let redactor = client.redactor();
    let error = result.err().map(|error| error.redacted(redactor));
    if let Some(error) = &error {
        report.set_error(error, redactor);
    }
    DeployOutcome { report, error }
}

/// The steps of a deploy, in order.
async fn run(
    client: &HubClient,
    options: &DeployOptions,
    progress: &dyn Progress,
    report: &mut DeployReport,
) -> Result<()> {
    report.warnings.extend(
        options
            .scaffold
            .warnings
            .iter()
            .map(|warning| RemoteText::new(warning, client.redactor())),
    );
    report.durations.scaffold_ms = Some(millis(options.scaffold_time));
    if options.dry_run {
        return dry_run::plan(client, options, report).await;
    }
    warn_token_lifetime(client, options, progress, report);

    progress.event(Event::Phase(Phase::Create));
    let found = create::find_or_create(client, options, progress, report).await?;

    progress.event(Event::Phase(Phase::Settings));
    let previous = rollback::Previous {
        head: found.head.clone(),
        stage: found.stage.clone(),
    };
    let changed = push::settings_then_push(client, options, progress, report, found).await?;
    push::request_hardware(client, options).await?;
    runtime::sleep_time(client, options, progress, report).await?;
    runtime::factory_reboot(client, options, report).await?;

    // One read after the push: the app URL and, in the same answer, the runtime stage.
    let info = client.space_info(&options.space).await?;
    report.set_app_url(&app_url(options, &info), &options.health_path);
    if !options.wait {
        let stage = match &info.runtime {
            Some(runtime) => runtime.stage.to_remote(client.redactor()),
            None => client
                .runtime(&options.space)
                .await?
                .stage
                .to_remote(client.redactor()),
        };
        report.stage = Some(stage);
        return Ok(());
    }

    let (result, in_health) = build_and_verify(client, options, progress, report, changed).await;
    match result {
        Err(error) if options.rollback_on_failure && rollback::answers(&error, in_health) => {
            rollback::after_failure(client, options, progress, report, &previous).await;
            Err(error)
        }
        other => other,
    }
}

/// Wait for the new revision, then verify it; says whether it failed in the health step.
async fn build_and_verify(
    client: &HubClient,
    options: &DeployOptions,
    progress: &dyn Progress,
    report: &mut DeployReport,
    changed: bool,
) -> (Result<()>, bool) {
    progress.event(Event::Phase(Phase::Build));
    let deadline = Instant::now() + options.timeout;
    let explain = |error| outbound::explain(error, &options.outbound);
    if let Err(error) = build::wait(client, options, progress, report, deadline, changed).await {
        return (Err(explain(error)), false);
    }
    progress.event(Event::Phase(Phase::Health));
    let verified = verify::check(client, options.into(), progress, report, deadline).await;
    (verified.map_err(explain), true)
}

/// A keyless token that cannot be renewed (its ID token was given as is) lasts what the Hub
/// gave it: a deploy whose waits may outlast it gets a warning, not a refusal (most builds end
/// well before their time limit).
fn warn_token_lifetime(
    client: &HubClient,
    options: &DeployOptions,
    progress: &dyn Progress,
    report: &mut DeployReport,
) {
    let Some(keyless) = client.keyless() else {
        return;
    };
    let Some(expires) = keyless.expires_at() else {
        return;
    };
    let left = expires.saturating_duration_since(Instant::now());
    if keyless.renews() || !options.wait || options.timeout <= left {
        return;
    }
    let warning = RemoteText::new(
        &format!(
            "the Space-scoped token of this keyless deploy cannot be renewed (its ID token was given as is, so no fresh one can be had) and expires in {}s, before the deploy's time limit of {}s: a wait past it ends with the token refused. Let the job mint its ID tokens (`id-token: write`), lower the time limit, or use a personal token for long builds",
            left.as_secs(),
            options.timeout.as_secs()
        ),
        client.redactor(),
    );
    progress.event(Event::Warning(&warning));
    report.warnings.push(warning);
}

/// Where the app answers: the explicit app URL, else the Hub's answer.
fn app_url(options: &DeployOptions, info: &SpaceInfo) -> String {
    options
        .app_url
        .clone()
        .unwrap_or_else(|| info.app_url(&options.space))
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
