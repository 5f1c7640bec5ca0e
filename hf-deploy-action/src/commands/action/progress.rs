//! The action's progress in the job log: one `::group::` per phase, stage changes, build log
//! lines and health attempts inside, warnings and rate-limit waits as annotations. The build
//! phase is the live build log, folded in `::group::Build log (NS/NAME)`, each line as the
//! build wrote it. What the Hub and the app wrote goes through the door for the workflow log
//! ([`RemoteText::workflow_log`](hf_deploy_core::RemoteText::workflow_log)): no line of it can
//! become a workflow command, and the run's secrets read `***`. The open group is closed when
//! the deploy ends, whatever the end ([`GroupPrinter::close`]).

use std::sync::Mutex;

use hf_deploy_core::{Event, Phase, Progress, SpaceId};

use super::joblog::emit;
use crate::github::commands as gha;
use crate::guard;

/// Progress in the job log: one `::group::` per phase, stage changes and build log lines inside.
pub(super) struct GroupPrinter {
    /// The Space deployed, named by the build log's group.
    space: SpaceId,
    open: Mutex<bool>,
    last_stage: Mutex<String>,
}

impl GroupPrinter {
    pub(super) fn new(space: &SpaceId) -> Self {
        GroupPrinter {
            space: space.clone(),
            open: Mutex::new(false),
            last_stage: Mutex::new(String::new()),
        }
    }

    /// The title of a phase's group.
    fn title(&self, phase: Phase) -> String {
        match phase {
            Phase::Build => format!("Build log ({})", self.space),
            phase => format!("hf-deploy: {phase}"),
        }
    }

    pub(super) fn close(&self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if *open {
            emit(gha::endgroup());
            *open = false;
        }
    }
}

impl Progress for GroupPrinter {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Phase(phase) => {
                self.close();
                emit(&gha::group(&self.title(phase)));
                *self.open.lock().unwrap_or_else(|e| e.into_inner()) = true;
            }
            Event::Stage { stage, elapsed } => {
                let stage = stage.to_remote(&guard::redactor()).workflow_log();
                let mut last = self.last_stage.lock().unwrap_or_else(|e| e.into_inner());
                if *last != stage {
                    emit(&format!("stage {stage} ({}s)\n", elapsed.as_secs()));
                    *last = stage;
                }
            }
            Event::BuildLog(line) => emit(&format!("{}\n", line.workflow_log())),
            Event::HealthAttempt(what) => emit(&format!("health: {}\n", what.workflow_log())),
            Event::Warning(message) => emit(&gha::warning("hf-deploy", message.as_data())),
            Event::RateLimitWait {
                action,
                wait,
                until,
            } => emit(&gha::notice(
                "hf-deploy: rate-limited",
                &format!(
                    "the Hub rate-limited the request to {action}: waiting until {} ({}s) for its window to reset",
                    hf_deploy_core::report::utc(until),
                    wait.as_secs()
                ),
            )),
            _ => {}
        }
    }
}
