//! The signals that end a run: SIGINT (Ctrl-C) and SIGTERM.
//!
//! A local run (`deploy --local`, `--serve`, `emulator`) stops its stand-in on one. A command
//! that makes temporary folders (`scaffold`, `deploy`, `action`) removes them all on one and
//! ends the process at once with code 130, see [`interrupted`].

use std::future::Future;
use std::process::ExitCode;

use crate::ui::Ui;

/// The exit code of a run ended by SIGINT or SIGTERM.
const INTERRUPTED_CODE: i32 = 130;

/// Waits for SIGINT (Ctrl-C) or SIGTERM and names it.
pub(crate) async fn until_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        },
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

/// Run `work` until it ends or a signal comes; on a signal, [`interrupted`].
pub(crate) async fn or_interrupted(
    work: impl Future<Output = anyhow::Result<ExitCode>>,
    ui: &Ui,
) -> anyhow::Result<ExitCode> {
    tokio::select! {
        result = work => result,
        signal = until_signal() => interrupted(ui, signal),
    }
}

/// A signal ended the command: remove every temporary folder (the push repository, a
/// scaffold's staging folder), say so, and end the process with code 130.
///
/// The process ends here, without unwinding: a blocking task may still run (a git fetch held by
/// a slow server, a large copy), and letting it go on (or failing it by stopping the runtime)
/// could make a folder again after it was removed (libgit2 makes a missing repository folder
/// again when it writes a reference).
pub(crate) fn interrupted(ui: &Ui, signal: &str) -> ! {
    let removed = hf_deploy_core::remove_temporary_folders();
    let folders = match removed {
        0 => String::new(),
        1 => " (its temporary folder removed)".to_string(),
        n => format!(" (its {n} temporary folders removed)"),
    };
    ui.warn(&format!("{signal}: stopped{folders}"));
    std::process::exit(INTERRUPTED_CODE)
}
