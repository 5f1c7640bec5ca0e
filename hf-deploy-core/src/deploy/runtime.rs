//! The runtime step, after the push: the sleep time (written only when it differs from the
//! runtime's `gcTimeout`, and never on `cpu-basic`, where the Hub ignores it), then a factory
//! reboot when asked for (a rebuild without the build cache: the fix for a Space stuck in
//! "Build queued"; alone when the push changed nothing).

use crate::error::Result;
use crate::hub::{HubClient, SpaceRuntime};
use crate::inputs::DeployOptions;
use crate::report::DeployReport;
use crate::untrusted::RemoteText;

use super::settings::scoped_refusal;
use super::{Event, Progress};

/// The free flavor, on which the Hub fixes the sleep time at 48 hours.
const FREE_FLAVOR: &str = "cpu-basic";

/// Set the sleep time of the options when the Space's differs; on `cpu-basic`, a warning and no
/// write.
pub(super) async fn sleep_time(
    client: &HubClient,
    options: &DeployOptions,
    progress: &dyn Progress,
    report: &mut DeployReport,
) -> Result<()> {
    let Some(seconds) = options.sleep_time else {
        return Ok(());
    };
    let runtime = client.runtime(&options.space).await?;
    if flavor(options, &runtime) == FREE_FLAVOR {
        let note = format!(
            "the sleep time ({seconds}s) was not set: on `{FREE_FLAVOR}` the Hub ignores it and the Space sleeps after 48 hours without visits; it applies to paid hardware"
        );
        let note = RemoteText::new(&note, client.redactor());
        progress.event(Event::Warning(&note));
        report.warnings.push(note);
        return Ok(());
    }
    if same_sleep_time(runtime.gc_timeout, seconds) {
        return Ok(());
    }
    client
        .set_sleep_time(&options.space, seconds)
        .await
        .map_err(|error| scoped_refusal(client, error))?;
    Ok(())
}

/// The flavor the Space runs on once this deploy is done: the one asked for, else the one it
/// asked for before, else the one it runs; none known is the Hub's default, `cpu-basic`.
fn flavor<'a>(options: &'a DeployOptions, runtime: &'a SpaceRuntime) -> &'a str {
    options
        .hardware
        .as_deref()
        .or(runtime.hardware.requested.as_deref())
        .or(runtime.hardware.current.as_deref())
        .unwrap_or(FREE_FLAVOR)
}

/// True when `gc_timeout` (the runtime's; `None`: never sleeps) already is `seconds` (`-1`:
/// never).
fn same_sleep_time(gc_timeout: Option<i64>, seconds: i64) -> bool {
    match gc_timeout {
        None => seconds == -1,
        Some(current) => current == seconds || (current < 0 && seconds == -1),
    }
}

/// Restart the Space with `factory=true` when asked for; the report says it happened.
pub(super) async fn factory_reboot(
    client: &HubClient,
    options: &DeployOptions,
    report: &mut DeployReport,
) -> Result<()> {
    if !options.factory_reboot {
        return Ok(());
    }
    client
        .restart(&options.space, true)
        .await
        .map_err(|error| scoped_refusal(client, error))?;
    report.factory_reboot = true;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_sleeping_is_none_or_negative() {
        assert!(same_sleep_time(None, -1));
        assert!(same_sleep_time(Some(-1), -1));
        assert!(same_sleep_time(Some(3600), 3600));
        assert!(!same_sleep_time(None, 3600));
        assert!(!same_sleep_time(Some(172_800), 3600));
        assert!(!same_sleep_time(Some(3600), -1));
    }
}
