//! The stage machine every runner writes through: stages, build and run logs, and what the
//! Space's `host` forwards to, each write guarded by its generation (a newer generation's
//! state is never touched by an older one still winding down).

use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use crate::hub::{Space, Upstream};
use crate::util;

/// Why a generation failed: its error stage and the `errorMessage`.
pub(super) type StageFailure = (&'static str, String);

/// Appends a line to the build (`run == false`) or run log, if `generation` is still current.
pub(super) fn log_line(space: &Space, generation: u64, run: bool, line: &str) {
    {
        let mut st = space.lock();
        if st.generation != generation {
            return;
        }
        let mut text = line.to_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let buf = if run {
            &mut st.run_log
        } else {
            &mut st.build_log
        };
        buf.lines.push((text, util::now_iso()));
    }
    space.bump();
}

/// Sets the stage of `generation` (nothing when a newer one started: `false`). `upstream` is
/// set when the revision runs or failed (`Some`); while it is on its way (`None`) and the
/// previous revision serves, `BUILDING`/`APP_STARTING` read `RUNNING_BUILDING`/`RUNNING_APP_STARTING`.
pub(super) fn set_stage(
    space: &Space,
    generation: u64,
    stage: &str,
    error: Option<String>,
    upstream: Option<Upstream>,
) -> bool {
    {
        let mut st = space.lock();
        if st.generation != generation {
            return false;
        }
        match upstream {
            // The new revision runs or failed: the previous one stops serving.
            Some(u) => {
                st.upstream = u;
                st.previous_serves = false;
                st.stage = stage.to_owned();
            }
            // Still on its way while the previous revision serves: the `RUNNING_` stages.
            None if st.previous_serves && matches!(stage, "BUILDING" | "APP_STARTING") => {
                st.stage = format!("RUNNING_{stage}");
            }
            None => st.stage = stage.to_owned(),
        }
        st.error_message = error;
    }
    space.bump();
    true
}

/// Ends `generation` in the error `stage` with `msg` (also written to the build or run log).
pub(super) fn fail(space: &Space, generation: u64, stage: &str, msg: &str, run: bool) {
    log_line(space, generation, run, msg);
    set_stage(
        space,
        generation,
        stage,
        Some(msg.to_owned()),
        Some(Upstream::None),
    );
}

/// The last `n` lines of the build (`run == false`) or run log, for an `errorMessage`.
pub(super) fn tail(space: &Space, run: bool, n: usize) -> String {
    let st = space.lock();
    let buf = if run { &st.run_log } else { &st.build_log };
    let lines = &buf.lines[buf.lines.len().saturating_sub(n)..];
    lines
        .iter()
        .map(|(l, _)| l.trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Lines of log quoted in an `errorMessage`.
pub(super) const TAIL: usize = 30;

/// The `errorMessage` of an app that exited with `code`: the run log's tail.
pub(super) fn exited_message(space: &Space, code: &str) -> String {
    format!(
        "Exit code: {code}. Reason: the application exited. Container log:\n{}",
        tail(space, true, TAIL)
    )
}

/// The `errorMessage` of a build that failed with `code`: the build log's tail.
pub(super) fn build_failed_message(space: &Space, code: i32) -> String {
    format!(
        "Build failed with exit code: {code}. Build log:\n{}",
        tail(space, false, TAIL)
    )
}

/// Streams `r`'s lines to the build or run log of `generation`; the task ends with the stream.
pub(super) fn pipe<R: AsyncRead + Unpin + Send + 'static>(
    space: Arc<Space>,
    generation: u64,
    run: bool,
    r: R,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(r).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            log_line(&space, generation, run, &line);
        }
    })
}
