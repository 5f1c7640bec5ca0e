//! The build step: poll the runtime until the new revision runs (`RUNNING_BUILDING` and
//! `RUNNING_APP_STARTING` are waited through: the previous revision serves meanwhile) or the
//! Space ends in an error stage, streaming the build log between polls.

use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::error::{Error, Result};
use crate::hub::{HubClient, LogKind, LogStream, SpaceRuntime, SpaceStage};
use crate::inputs::{DeployOptions, PollSettings};
use crate::report::DeployReport;
use crate::space::SpaceId;
use crate::untrusted::RemoteText;
use crate::wait::{self, Poll};

use super::{Event, Progress, millis};

/// Wait for the new revision to run; records the time and the stage it ended in.
pub(super) async fn wait(
    client: &HubClient,
    options: &DeployOptions,
    progress: &dyn Progress,
    report: &mut DeployReport,
    deadline: Instant,
    changed: bool,
) -> Result<()> {
    let phase = Instant::now();
    let expect_build = changed
        || report.factory_reboot
        || !report.secrets_set.is_empty()
        || !report.variables_set.is_empty();
    let runtime = wait_for_running(
        client,
        &options.space,
        deadline,
        &options.poll,
        expect_build,
        progress,
        report,
    )
    .await;
    report.durations.build_ms = Some(millis(phase.elapsed()));
    report.stage = Some(runtime?.stage.to_remote(client.redactor()));
    Ok(())
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
    let mut watch = Watch {
        client,
        id,
        progress,
        started: Instant::now(),
        build_grace: poll.build_grace,
        seen_build: !expect_build,
        restarted: false,
        // What identifies the new revision: the pushed commit, when the runtime names the
        // commit it runs (UNCONFIRMED, see `SpaceRuntime::sha`); else a build stage seen after
        // the push.
        pushed: if expect_build && report.changed {
            report.commit_sha.clone()
        } else {
            None
        },
    };
    let mut polls = Poll::new(poll.runtime_initial, poll.runtime_max, deadline);
    // The build log is a nicety: when it cannot be opened, ends or fails, we keep polling.
    let mut logs = client.logs(id, LogKind::Build).await.ok();
    loop {
        let runtime = client.runtime(id).await?;
        let last_seen = runtime.stage.to_remote(client.redactor());
        report.stage = Some(last_seen.clone());
        progress.event(Event::Stage {
            stage: &runtime.stage,
            elapsed: watch.started.elapsed(),
        });
        if let Some(running) = watch.judge(runtime, report).await? {
            return Ok(running);
        }
        let Some(delay) = polls.next_delay() else {
            return Err(Error::Timeout {
                what: format!("Space `{id}` to reach RUNNING"),
                elapsed: watch.started.elapsed(),
                last_seen,
                diagnoses: Vec::new(),
            });
        };
        stream_log_for(delay, &mut logs, progress).await;
    }
}

/// What the wait knows between two polls.
struct Watch<'a> {
    client: &'a HubClient,
    id: &'a SpaceId,
    progress: &'a dyn Progress,
    started: Instant,
    /// After a push, a `RUNNING` stage is only trusted once a build stage was seen, or after
    /// this long.
    build_grace: Duration,
    seen_build: bool,
    restarted: bool,
    pushed: Option<String>,
}

impl Watch<'_> {
    /// What one runtime answer means: the new revision runs (`Some`), keep waiting (`None`),
    /// or the Space failed.
    async fn judge(
        &mut self,
        runtime: SpaceRuntime,
        report: &mut DeployReport,
    ) -> Result<Option<SpaceRuntime>> {
        let stage = &runtime.stage;
        let in_grace = !self.seen_build && self.started.elapsed() < self.build_grace;
        if stage.is_in_progress() {
            // `RUNNING_BUILDING` / `RUNNING_APP_STARTING` too: the previous revision serves
            // meanwhile, so nothing it answers may stand for this deploy; keep waiting.
            self.seen_build = true;
        } else if *stage == SpaceStage::Running {
            return Ok(self.running(runtime, in_grace, report));
        } else if *stage == SpaceStage::Deleting {
            // A Space being deleted never comes back: no wait helps.
            return Err(Error::SpaceFailed {
                stage: stage.clone(),
                log_tail: RemoteText::default(),
            });
        } else if stage.is_error() {
            if !in_grace {
                return Err(self.failed(stage).await);
            }
        } else if stage.needs_restart() && !self.restarted {
            self.progress.event(Event::Warning(&RemoteText::new(
                &format!("the Space is {stage}; restarting it"),
                self.client.redactor(),
            )));
            // The restart's answer is the new generation's runtime: a build that finishes
            // before the next poll is still this deploy's.
            let answer = self.client.restart(self.id, false).await?;
            self.restarted = true;
            self.seen_build = answer.stage.is_in_progress();
        }
        Ok(None)
    }

    /// A `RUNNING` answer: the new revision's when the Hub names the pushed commit, or when a
    /// build was seen (or the grace passed: then with a warning).
    fn running(
        &self,
        runtime: SpaceRuntime,
        in_grace: bool,
        report: &mut DeployReport,
    ) -> Option<SpaceRuntime> {
        if let (Some(running), Some(pushed)) = (&runtime.sha, &self.pushed) {
            // The Hub says which revision runs: only ours will do.
            return (running == pushed).then_some(runtime);
        }
        if in_grace {
            return None;
        }
        if !self.seen_build {
            // The Hub never showed a build of this deploy: the RUNNING seen may be the previous
            // revision's. Say so rather than vouch for it.
            let note = RemoteText::new(
                &format!(
                    "no build was seen in the {}s after the push and the Space shows \
                     RUNNING: the health check may reach the previous revision",
                    self.build_grace.as_secs()
                ),
                self.client.redactor(),
            );
            self.progress.event(Event::Warning(&note));
            report.warnings.push(note);
        }
        Some(runtime)
    }

    /// The error of an error stage, with the end of the log that explains it.
    async fn failed(&self, stage: &SpaceStage) -> Error {
        let kind = if *stage == SpaceStage::RuntimeError {
            LogKind::Run
        } else {
            LogKind::Build
        };
        let log_tail = self
            .client
            .logs_tail(self.id, kind, 50, Duration::from_millis(1500))
            .await
            .unwrap_or_default();
        Error::SpaceFailed {
            stage: stage.clone(),
            log_tail,
        }
    }
}

/// Wait `delay` for the next poll, giving the build log's lines to `progress` as they come; a
/// log that ends or fails is dropped.
async fn stream_log_for(delay: Duration, logs: &mut Option<LogStream>, progress: &dyn Progress) {
    let ended = wait::sleep_beside(delay, async {
        if let Some(stream) = logs.as_mut() {
            while let Some(Ok(line)) = stream.next().await {
                progress.event(Event::BuildLog(&line.text));
            }
        }
    })
    .await;
    if ended.is_some() {
        *logs = None;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::field::Field;
    use crate::secret::SecretString;

    /// Every event of a wait, as text.
    #[derive(Default)]
    struct Events(std::sync::Mutex<Vec<String>>);

    impl Progress for Events {
        fn event(&self, event: Event<'_>) {
            let text = match event {
                Event::Stage { stage, .. } => format!("stage {stage}"),
                Event::Warning(message) => format!("warning {}", message.as_data()),
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
        assert_eq!(
            report
                .warnings
                .iter()
                .map(RemoteText::as_data)
                .collect::<Vec<_>>(),
            warnings,
            "the report says it too"
        );
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
