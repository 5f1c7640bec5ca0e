//! The scripted runner (`Runner::Scripted`, or one Space's own script): the test decides the
//! stages, their delays, the logs and the app; nothing is built or run.

use super::stages::{build_failed_message, exited_message, log_line, set_stage};
use crate::hub::{Hub, Space, Upstream};
use crate::script::{ScriptedError, ScriptedRunner};
use crate::util;

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
    if s.settings_dump {
        for line in settings_dump(space) {
            log_line(space, generation, true, &line);
        }
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
    let error = (!running && s.final_stage.ends_with("ERROR")).then(|| match &s.error {
        ScriptedError::Default => format!("scripted {}", s.final_stage),
        ScriptedError::Fixed(text) => text.clone(),
        ScriptedError::Exited => exited_message(space, "1"),
        ScriptedError::BuildFailed => build_failed_message(space, 1),
    });
    set_stage(space, generation, &s.final_stage, error, Some(upstream));
}

/// What an app built on pydantic-settings prints when its settings do not validate: the
/// settings it loaded (every secret and variable of the Space, values in clear), then the
/// traceback and the `ValidationError`, quoting each secret's value.
fn settings_dump(space: &Space) -> Vec<String> {
    let (secrets, variables) = {
        let st = space.lock();
        let kv = |v: &Vec<crate::hub::KeyEntry>| {
            v.iter()
                .map(|e| (e.key.clone(), e.value.clone()))
                .collect::<Vec<_>>()
        };
        (kv(&st.secrets), kv(&st.variables))
    };
    let loaded: Vec<String> = secrets
        .iter()
        .chain(&variables)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mut lines = vec![
        format!("===== Application Startup at {} =====", util::now_iso()),
        format!("Loading settings: {}", loaded.join(" ")),
        "Traceback (most recent call last):".to_owned(),
        "  File \"/home/user/app/app/main.py\", line 9, in <module>".to_owned(),
        "    settings = Settings()".to_owned(),
        "  File \"/usr/local/lib/python3.12/site-packages/pydantic_settings/main.py\", line 171, in __init__".to_owned(),
        "    super().__init__(".to_owned(),
    ];
    if secrets.is_empty() {
        lines.push(
            "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings"
                .to_owned(),
        );
        lines.push("gemini_api_key".to_owned());
        lines.push("  Field required [type=missing, input_value={}, input_type=dict]".to_owned());
        return lines;
    }
    let n = secrets.len();
    let plural = if n == 1 { "" } else { "s" };
    lines.push(format!(
        "pydantic_core._pydantic_core.ValidationError: {n} validation error{plural} for Settings"
    ));
    for (key, value) in &secrets {
        lines.push(key.to_ascii_lowercase());
        lines.push(format!(
            "  Value error, invalid value [type=value_error, input_value='{value}', input_type=str]"
        ));
        lines.push(
            "    For further information visit https://errors.pydantic.dev/2.9/v/value_error"
                .to_owned(),
        );
    }
    lines
}
