//! The order of a deploy: scaffold, create, secrets and variables, push, wait for the build,
//! verify health and CORS, report.
//!
//! [`deploy`] never stops at the first error without a report: it returns a [`DeployOutcome`] with
//! everything known so far, plus the error. Bad input is found before any remote call.

use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::error::{Error, Result};
use crate::field::{Field, Phrase};
use crate::fingerprint::Description;
use crate::hub::{CreateSpace, HubClient, LogKind, SpaceRuntime, SpaceStage};
use crate::inputs::{DeployOptions, PollSettings};
use crate::push::{self, PushRequest};
use crate::report::{DeployReport, FileChanges};
use crate::scaffold::Scaffold;
use crate::secret::SecretString;
use crate::space::SpaceId;
use crate::urls::HealthPath;
use crate::verify::{self, VerifyEvent};
use crate::wait::{self, Poll, RetryPolicy};

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

    // 1. The scaffold, built by the plan: its warnings and how long it took.
    let scaffolded = options.scaffold.clone();
    report.warnings.extend(scaffolded.warnings.iter().cloned());
    report.durations.scaffold_ms = Some(millis(options.scaffold_time));

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
pub(crate) async fn wait_for_running(
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::field::Field;

    /// Every event of a wait, as text.
    #[derive(Default)]
    struct Events(std::sync::Mutex<Vec<String>>);

    impl Progress for Events {
        fn event(&self, event: Event<'_>) {
            let text = match event {
                Event::Stage { stage, .. } => format!("stage {stage}"),
                Event::Warning(message) => format!("warning {message}"),
                _ => return,
            };
            self.0.lock().expect("events").push(text);
        }
    }

    impl Events {
        /// Stages in the order seen, each once per run of equal stages.
        fn stages(&self) -> Vec<String> {
            let mut stages: Vec<String> = Vec::new();
            for event in self.0.lock().expect("events").iter() {
                if let Some(stage) = event.strip_prefix("stage ")
                    && stages.last().map(String::as_str) != Some(stage)
                {
                    stages.push(stage.to_string());
                }
            }
            stages
        }

        fn warnings(&self) -> Vec<String> {
            let events = self.0.lock().expect("events");
            events
                .iter()
                .filter_map(|e| e.strip_prefix("warning ").map(str::to_string))
                .collect()
        }
    }

    /// A fake Hub whose runtime answers `answers` (stage, sha) in turn, the last one from then
    /// on; every other path (the build log) is 404. Returns its URL and the number of polls.
    async fn fake_runtime_hub(
        answers: Vec<(&'static str, Option<&'static str>)>,
    ) -> (String, Arc<AtomicUsize>) {
        let polls = Arc::new(AtomicUsize::new(0));
        let counter = polls.clone();
        let app = axum::Router::new().route(
            "/api/spaces/local/app/runtime",
            axum::routing::get(move || {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let (stage, sha) = answers[n.min(answers.len() - 1)];
                async move {
                    axum::Json(serde_json::json!({
                        "stage": stage,
                        "hardware": {"current": "cpu-basic", "requested": "cpu-basic"},
                        "sha": sha,
                    }))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        (url, polls)
    }

    fn client(url: String) -> HubClient {
        HubClient::builder()
            .endpoint(url)
            .token(SecretString::new("hf_FakeToken1234567890abcdef"))
            .max_attempts(1)
            .build()
            .expect("client")
    }

    /// Fast polls, and a grace of `grace` for the Hub to show the build.
    fn poll(grace: Duration) -> PollSettings {
        PollSettings {
            runtime_initial: Duration::from_millis(20),
            runtime_max: Duration::from_millis(40),
            build_grace: grace,
            ..PollSettings::default()
        }
    }

    fn space() -> SpaceId {
        SpaceId::parse("local/app", Field::Space).expect("space id")
    }

    /// The Hub first keeps showing the previous revision's RUNNING (it has not noticed the push
    /// yet), then RUNNING_BUILDING and RUNNING_APP_STARTING while the previous one serves, then
    /// RUNNING: only that last RUNNING is the new revision's.
    #[tokio::test]
    async fn the_wait_goes_through_the_running_stages_and_returns_when_the_new_revision_runs() {
        let (url, polls) = fake_runtime_hub(vec![
            ("RUNNING", None),
            ("RUNNING", None),
            ("RUNNING_BUILDING", None),
            ("RUNNING_BUILDING", None),
            ("RUNNING_APP_STARTING", None),
            ("RUNNING", None),
        ])
        .await;
        let events = Events::default();
        let mut report = DeployReport::default();
        let runtime = wait_for_running(
            &client(url),
            &space(),
            Instant::now() + Duration::from_secs(30),
            &poll(Duration::from_secs(10)),
            true,
            &events,
            &mut report,
        )
        .await
        .expect("running");
        assert_eq!(runtime.stage, SpaceStage::Running);
        assert_eq!(
            events.stages(),
            [
                "RUNNING",
                "RUNNING_BUILDING",
                "RUNNING_APP_STARTING",
                "RUNNING"
            ],
            "the RUNNING of the previous revision (before the Hub showed the build) was not taken"
        );
        assert_eq!(
            polls.load(Ordering::SeqCst),
            6,
            "returned at the new RUNNING"
        );
        assert_eq!(events.warnings(), Vec::<String>::new());
    }

    #[tokio::test]
    async fn a_hub_that_never_shows_the_build_gets_running_with_a_warning() {
        let (url, _polls) = fake_runtime_hub(vec![("RUNNING", None)]).await;
        let events = Events::default();
        let mut report = DeployReport::default();
        let started = Instant::now();
        let grace = Duration::from_millis(300);
        let runtime = wait_for_running(
            &client(url),
            &space(),
            started + Duration::from_secs(30),
            &poll(grace),
            true,
            &events,
            &mut report,
        )
        .await
        .expect("running");
        assert_eq!(runtime.stage, SpaceStage::Running);
        assert!(
            started.elapsed() >= grace,
            "RUNNING is not trusted within the grace"
        );
        let warnings = events.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("no build was seen") && warnings[0].contains("previous revision"),
            "{warnings:?}"
        );
        assert_eq!(report.warnings, warnings, "the report says it too");
    }

    /// Not in any recorded Hub answer (UNCONFIRMED): when the runtime names the commit it runs,
    /// the wait after a push trusts it, grace or not: the previous commit's RUNNING is not ours.
    #[tokio::test]
    async fn when_the_runtime_names_its_commit_only_the_pushed_one_counts() {
        const OLD: &str = "1111111111111111111111111111111111111111";
        const NEW: &str = "2222222222222222222222222222222222222222";
        let (url, polls) = fake_runtime_hub(vec![
            ("RUNNING", Some(OLD)),
            ("RUNNING", Some(OLD)),
            ("RUNNING", Some(OLD)),
            ("RUNNING", Some(NEW)),
        ])
        .await;
        let mut report = DeployReport {
            changed: true,
            commit_sha: Some(NEW.into()),
            ..DeployReport::default()
        };
        let events = Events::default();
        // No grace at all: without the commit, the first RUNNING would be taken.
        let runtime = wait_for_running(
            &client(url),
            &space(),
            Instant::now() + Duration::from_secs(20),
            &poll(Duration::ZERO),
            true,
            &events,
            &mut report,
        )
        .await
        .expect("running");
        assert_eq!(runtime.sha.as_deref(), Some(NEW));
        assert_eq!(
            polls.load(Ordering::SeqCst),
            4,
            "three RUNNING of the old commit skipped"
        );
        assert_eq!(events.warnings(), Vec::<String>::new());
    }
}
