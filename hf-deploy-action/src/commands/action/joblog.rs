//! The job log: everything the action prints goes to stdout at once, so that masks reach the
//! runner before any other line.

use crate::github::commands as gha;

/// Print to the job log (stdout, flushed at once), every value of the run's redactor as `***`
/// (the last guard: the runner masks only what it was told, as it was told).
pub(super) fn emit(text: &str) {
    // Nothing sensible is left to do when the job log itself cannot be written.
    let _ = gha::emit(&mut std::io::stdout().lock(), &crate::guard::redact(text));
}

/// Print `::add-mask::` commands, which carry the values on purpose: the one text of the job
/// log the guard lets through as it is.
pub(super) fn emit_masks(masks: &str) {
    let _ = gha::emit(&mut std::io::stdout().lock(), masks);
}

/// A GitHub API failure that must not fail the deploy: a warning.
pub(super) fn warn_on_error<T>(result: Result<T, crate::github::Error>) {
    if let Err(error) = result {
        emit(&gha::warning("hf-deploy", &error.to_string()));
    }
}
