//! The order of a deploy: scaffold, create, secrets and variables, push, wait for the build,
//! verify health and CORS, report.
//!
//! [`deploy`] never stops at the first error without a report: it returns a [`DeployOutcome`] with
//! everything known so far, plus the error. Bad input is found before any remote call.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::error::{Error, Result};
use crate::field::{Field, Phrase};
use crate::fingerprint::Description;
use crate::hub::{CreateSpace, HubClient, LogKind, SpaceRuntime, SpaceStage};
use crate::push::{self, PushRequest};
use crate::report::{DeployReport, FileChanges};
use crate::scaffold::{self, Scaffold, ScaffoldOptions};
use crate::secret::SecretString;
use crate::settings::Settings;
use crate::space::SpaceId;
use crate::urls::HealthPath;
use crate::verify::{self, VerifyEvent};
use crate::wait::{self, Poll, RetryPolicy};

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
    /// Health path.
    pub health_path: HealthPath,
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
    /// First interval between runtime polls (doubled after each poll).
    pub runtime_initial: Duration,
    /// Largest interval between runtime polls.
    pub runtime_max: Duration,
    /// First interval between health polls (doubled after each poll).
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
            // Every second, not doubling to 5 s: the report follows a healthy app within 1 s
            // (#11 goal 4). About 60 runtime reads a minute stay well inside the Hub's API
            // quota (1,000 requests per 5 minutes).
            runtime_initial: Duration::from_secs(1),
            runtime_max: Duration::from_secs(1),
            health_initial: Duration::from_secs(1),
            health_max: Duration::from_secs(1),
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
    let deadline = Instant::now() + options.timeout;
    let result = with_wait_events(
        client,
        deadline,
        progress,
        run(client, options, progress, &mut report),
    )
    .await;
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

    // A Space-scoped token lives an hour and cannot be renewed: a longer deadline is bad input.
    if let Some(until) = client.scoped_until() {
        let left = until.saturating_duration_since(Instant::now());
        if options.wait && options.timeout > left {
            return Err(Error::invalid_input_hint(
                Field::Timeout,
                format!(
                    "{}s is longer than the Space-scoped token from the Trusted Publisher exchange lives ({}s left); nothing was written",
                    options.timeout.as_secs(),
                    left.as_secs()
                ),
                Phrase::new("lower ")
                    .field(Field::Timeout)
                    .text(" below 60, or pass a personal token (")
                    .field(Field::Token)
                    .text(") for long builds"),
            ));
        }
    }

    // 2. Does the Space exist? Look first, create only when missing: the Hub answers 402 to a
    //    create of a Docker Space for a free account even when the Space exists, and a
    //    Space-scoped token cannot create at all.
    progress.event(Event::Phase("create"));
    // Its `sha` lets the push fetch `main` in one request (see `push::smart_http`).
    let mut head_hint = None;
    let created = match client.space_info(id).await {
        Ok(info) => {
            head_hint = info.sha;
            false
        }
        Err(Error::NotFound { .. }) if client.scoped_until().is_some() => {
            return Err(Error::ScopedTokenCannotCreate {
                space: id.to_string(),
            });
        }
        Err(Error::NotFound { .. }) => {
            // No whoami first: the create call names a bad token itself (401 outside
            // `/api/spaces/..` is the token) and a read-only one (403 saying so).
            let create = create_request(options).await?;
            let answer = client.create_space(id, &create).await?;
            !answer.existed
        }
        Err(error) => return Err(error),
    };

    // 3. Secrets and variables before the push's first write, so its build sees them (one
    //    build, not two). A new Space got them in the create call; an existing one gets only
    //    what changed: every secret write restarts the Space.
    // 4. Push. On an existing Space the settings' reads (and their Argon2id checks) run beside
    //    the push's fetch and plan; the push writes nothing until the settings are in place.
    progress.event(Event::Phase("settings"));
    let phase = Instant::now();
    let request = push_request(client, options, scaffolded, false, head_hint);
    let outcome = if created {
        report.secrets_set = secret_names;
        report.variables_set = options.settings.variables.keys().cloned().collect();
        progress.event(Event::Phase("push"));
        push::push(request).await?
    } else {
        let (ready, gate) = std::sync::mpsc::sync_channel(1);
        let settings = async {
            let result = apply_settings(client, options, progress, report)
                .await
                .map_err(|error| scoped_refusal(client, error));
            // A send fails only when the push already ended (an error, or no change).
            let _ = ready.send(result.is_ok());
            if result.is_ok() {
                progress.event(Event::Phase("push"));
            }
            result
        };
        let (settings, pushed) = tokio::join!(settings, push::push_when(request, gate));
        settings?;
        pushed?
    };
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
            client
                .request_hardware(id, flavor)
                .await
                .map_err(|error| scoped_refusal(client, error))?;
        }
    }

    // One read after the push: the app URL and, in the same answer, the runtime stage.
    let info = client.space_info(id).await?;
    set_urls(
        report,
        options.app_url.clone().unwrap_or_else(|| info.app_url(id)),
        &options.health_path,
    );

    if !options.wait {
        let stage = match &info.runtime {
            Some(runtime) => runtime.stage.to_string(),
            None => client.runtime(id).await?.stage.to_string(),
        };
        report.stage = Some(stage);
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
        health_path: options.health_path.to_string(),
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

/// The create call of a new Space: with its secrets (each fingerprinted, see [`crate::fingerprint`])
/// and variables, so the first build sees them and nothing restarts.
async fn create_request(options: &DeployOptions) -> Result<CreateSpace> {
    let secrets: Vec<(String, SecretString)> = options
        .settings
        .secrets
        .iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let secrets = each_blocking(
        secrets,
        options,
        "fingerprint the secrets",
        |(key, value)| {
            let description = Description::default().with_value(&value);
            (key, value, Some(description))
        },
    )
    .await?;
    Ok(CreateSpace {
        private: options.private,
        hardware: options.hardware.clone(),
        secrets,
        variables: options
            .settings
            .variables
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
        ..CreateSpace::default()
    })
}

/// What the secrets and variables of an existing Space need: which to write, which are in place.
struct SettingsPlan {
    /// Secrets to write, with the description to write them with.
    secrets: Vec<(String, String)>,
    /// Secrets in place with this value.
    secrets_unchanged: Vec<String>,
    /// Variables to write.
    variables: Vec<String>,
    /// Variables in place with this value.
    variables_unchanged: Vec<String>,
    /// False when the Hub does not list secrets: every secret is written.
    listed: bool,
}

/// Compare the wanted secrets and variables with the Space's, reading only (secret values are
/// never read: their fingerprints are compared, see [`crate::fingerprint`]).
async fn plan_settings(client: &HubClient, options: &DeployOptions) -> Result<SettingsPlan> {
    let id = &options.space;
    // The two reads at once; each only when something of its kind is wanted.
    let (listed, remote_variables) = tokio::join!(
        async {
            if options.settings.secrets.is_empty() {
                Ok(Some(Default::default()))
            } else {
                client.secrets(id).await
            }
        },
        async {
            if options.settings.variables.is_empty() {
                Ok(Default::default())
            } else {
                client.variables(id).await
            }
        }
    );
    let (listed, remote_variables) = (listed?, remote_variables?);
    let wanted: Vec<(String, SecretString, Description)> = options
        .settings
        .secrets
        .iter()
        .map(|(key, value)| {
            let description = listed
                .as_ref()
                .and_then(|listed| listed.get(key))
                .map(|info| Description::parse(info.description.as_deref()))
                .unwrap_or_default();
            (key.clone(), value.clone(), description)
        })
        .collect();
    let compared = each_blocking(
        wanted,
        options,
        "compare secret fingerprints",
        |(key, value, description)| {
            if description.matches(&value) {
                (key, None)
            } else {
                let text = description.with_value(&value);
                (key, Some(text))
            }
        },
    )
    .await?;
    let mut plan = SettingsPlan {
        secrets: Vec::new(),
        secrets_unchanged: Vec::new(),
        variables: Vec::new(),
        variables_unchanged: Vec::new(),
        listed: listed.is_some(),
    };
    for (key, write) in compared {
        match write {
            Some(description) => plan.secrets.push((key, description)),
            None => plan.secrets_unchanged.push(key),
        }
    }
    for (key, value) in &options.settings.variables {
        if remote_variables.get(key).map(|v| v.value.as_str()) == Some(value.as_str()) {
            plan.variables_unchanged.push(key.clone());
        } else {
            plan.variables.push(key.clone());
        }
    }
    Ok(plan)
}

/// `work` on every item, each on tokio's blocking pool and all at once: Argon2id is slow on
/// purpose (tens of milliseconds a secret), so it stays off the async threads and uses every core.
async fn each_blocking<T, R>(
    items: Vec<T>,
    options: &DeployOptions,
    action: &'static str,
    work: fn(T) -> R,
) -> Result<Vec<R>>
where
    T: Send + 'static,
    R: Send + 'static,
{
    let tasks: Vec<_> = items
        .into_iter()
        .map(|item| tokio::task::spawn_blocking(move || work(item)))
        .collect();
    let mut done = Vec::with_capacity(tasks.len());
    for task in tasks {
        done.push(task.await.map_err(|e| Error::Io {
            action,
            path: options.source.clone(),
            source: std::io::Error::other(e.to_string()),
        })?);
    }
    Ok(done)
}

/// Write the secrets and variables of an existing Space that changed, and only those.
async fn apply_settings(
    client: &HubClient,
    options: &DeployOptions,
    progress: &dyn Progress,
    report: &mut DeployReport,
) -> Result<()> {
    let id = &options.space;
    let plan = plan_settings(client, options).await?;
    if !plan.listed {
        let warning = format!(
            "this Hub does not list the secrets of a Space, so hf-deploy cannot tell which changed: wrote all {} (each secret write restarts the Space)",
            plan.secrets.len()
        );
        progress.event(Event::Warning(&warning));
        report.warnings.push(warning);
    }
    for (key, description) in &plan.secrets {
        if let Some(value) = options.settings.secrets.get(key) {
            client.set_secret(id, key, value, Some(description)).await?;
            report.secrets_set.push(key.clone());
        }
    }
    report.secrets_unchanged = plan.secrets_unchanged;
    for key in &plan.variables {
        if let Some(value) = options.settings.variables.get(key) {
            client.set_variable(id, key, value, None).await?;
            report.variables_set.push(key.clone());
        }
    }
    report.variables_unchanged = plan.variables_unchanged;
    Ok(())
}

/// A 401/403 to a Space-scoped token on a settings call is the token's scope, not a bad token.
fn scoped_refusal(client: &HubClient, error: Error) -> Error {
    if client.scoped_until().is_none() {
        return error;
    }
    match error {
        Error::InvalidToken { action, context }
        | Error::Forbidden { action, context }
        | Error::ReadOnlyToken { action, context } => Error::ScopedTokenRefused { action, context },
        // A settings read under `/api/spaces/..` answers 401 as "not found" for the Space.
        Error::NotFound { what, context } if context.status == 401 => Error::ScopedTokenRefused {
            action: format!("read the settings of {what}"),
            context,
        },
        other => other,
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
    let info = if client.token().is_some() {
        match client.space_info(id).await {
            Ok(info) => Some(info),
            Err(Error::NotFound { .. }) => None,
            Err(error) => return Err(error),
        }
    } else {
        None
    };
    match &info {
        Some(_) => {
            let settings = match plan_settings(client, options).await {
                Ok(settings) => settings,
                // A read token may not list secrets: plan to write them all.
                Err(Error::Forbidden { .. } | Error::ReadOnlyToken { .. }) => {
                    let remote_variables = client.variables(id).await?;
                    let mut same = Vec::new();
                    let mut differ = Vec::new();
                    for (key, value) in &options.settings.variables {
                        if remote_variables.get(key).map(|v| v.value.as_str())
                            == Some(value.as_str())
                        {
                            same.push(key.clone());
                        } else {
                            differ.push(key.clone());
                        }
                    }
                    SettingsPlan {
                        secrets: secret_names
                            .iter()
                            .map(|k| (k.clone(), String::new()))
                            .collect(),
                        secrets_unchanged: Vec::new(),
                        variables: differ,
                        variables_unchanged: same,
                        listed: true,
                    }
                }
                Err(error) => return Err(error),
            };
            if !settings.listed {
                report.warnings.push("this Hub does not list the secrets of a Space, so hf-deploy cannot tell which changed: a deploy would write them all".into());
            }
            report.secrets_set = settings.secrets.into_iter().map(|(key, _)| key).collect();
            report.secrets_unchanged = settings.secrets_unchanged;
            report.variables_set = settings.variables;
            report.variables_unchanged = settings.variables_unchanged;
        }
        None => {
            report.secrets_set = secret_names;
            report.variables_set = options.settings.variables.keys().cloned().collect();
        }
    }
    match &info {
        Some(info) => {
            let request = push_request(client, options, scaffolded, true, info.sha.clone());
            let outcome = push::push(request).await?;
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
    head_hint: Option<String>,
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
        retry: RetryPolicy::git(),
        dry_run,
        head_hint,
        http: Some(client.http()),
    }
}

fn set_urls(report: &mut DeployReport, app_url: String, health_path: &HealthPath) {
    report.set_app_url(&app_url, health_path);
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
    let mut polls = Poll::new(poll.runtime_initial, poll.runtime_max, deadline);
    let mut last_seen;
    // The build log is a nicety: when it cannot be opened, ends or fails, we keep polling.
    let mut logs = client.logs(id, LogKind::Build).await.ok();
    // What identifies the new revision: the pushed commit, when the runtime names the commit it
    // runs (UNCONFIRMED, see `SpaceRuntime::sha`); else a build stage seen after the push.
    let pushed = if expect_build && report.changed {
        report.commit_sha.clone()
    } else {
        None
    };
    loop {
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
            // `RUNNING_BUILDING` / `RUNNING_APP_STARTING` too: the previous revision serves
            // meanwhile, so nothing it answers may stand for this deploy; keep waiting.
            seen_build = true;
        } else if *stage == SpaceStage::Running {
            if let (Some(running), Some(pushed)) = (&runtime.sha, &pushed) {
                // The Hub says which revision runs: only ours will do.
                if running == pushed {
                    return Ok(runtime);
                }
            } else if !in_grace {
                if !seen_build {
                    // The Hub never showed a build of this deploy: the RUNNING seen may be
                    // the previous revision's. Say so rather than vouch for it.
                    let note = format!(
                        "no build was seen in the {}s after the push and the Space shows \
                         RUNNING: the health check may reach the previous revision",
                        poll.build_grace.as_secs()
                    );
                    progress.event(Event::Warning(&note));
                    report.warnings.push(note);
                }
                return Ok(runtime);
            }
        } else if *stage == SpaceStage::Deleting {
            // A Space being deleted never comes back: no wait helps.
            return Err(Error::SpaceFailed {
                stage: stage.clone(),
                log_tail: Vec::new(),
            });
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
                    stage: stage.clone(),
                    log_tail,
                });
            }
        } else if stage.needs_restart() && !restarted {
            progress.event(Event::Warning(&format!(
                "the Space is {stage}; restarting it"
            )));
            // The restart's answer is the new generation's runtime: a build that finishes
            // before the next poll is still this deploy's.
            let answer = client.restart(id, false).await?;
            restarted = true;
            seen_build = answer.stage.is_in_progress();
        }
        let Some(delay) = polls.next_delay() else {
            return Err(Error::Timeout {
                what: format!("Space `{id}` to reach RUNNING"),
                elapsed: started.elapsed(),
                last_seen,
            });
        };
        // Stream build-log lines while we wait for the next poll.
        let streamed = wait::sleep_beside(delay, async {
            if let Some(stream) = logs.as_mut() {
                while let Some(Ok(line)) = stream.next().await {
                    progress.event(Event::BuildLog(line.text.trim_end()));
                }
            }
        })
        .await;
        if streamed.is_some() {
            logs = None;
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
