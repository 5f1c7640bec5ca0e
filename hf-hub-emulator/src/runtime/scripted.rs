//! The scripted runner (`Runner::Scripted`, or one Space's own script): the test decides the
//! stages, their delays, the logs and the app; nothing is built or run.

use super::stages::{log_line, set_stage};
use crate::hub::{Hub, Space, Upstream};
use crate::script::ScriptedRunner;

/// Plays `s`: its build log, its stages with their delays, its run log, then its final stage
/// (RUNNING with its app behind the Space's `host`, or the error stage it names).
pub(super) async fn run(hub: &Hub, space: &Space, generation: u64, s: &ScriptedRunner) {
    for line in &s.build_log {
        log_line(space, generation, false, line);
    }
    let steps = s.steps.clone().unwrap_or_else(|| {
        vec![
            ("BUILDING".to_owned(), hub.delays.building),
            ("APP_STARTING".to_owned(), hub.delays.app_starting),
        ]
    });
    for (stage, delay) in steps {
        if !set_stage(space, generation, &stage, None, None) {
            return;
        }
        tokio::time::sleep(delay).await;
    }
    for line in &s.run_log {
        log_line(space, generation, true, line);
    }
    let running = s.final_stage == "RUNNING";
    let upstream = if running {
        Upstream::Scripted(s.app.clone())
    } else {
        Upstream::None
    };
    let error = (!running && s.final_stage.ends_with("ERROR"))
        .then(|| format!("scripted {}", s.final_stage));
    set_stage(space, generation, &s.final_stage, error, Some(upstream));
}
