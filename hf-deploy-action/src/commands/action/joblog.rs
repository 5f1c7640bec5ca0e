//! The job log: everything the action prints goes to stdout at once, so that masks reach the
//! runner before any other line.

use crate::github::commands as gha;

/// Print to the job log (stdout, flushed at once).
pub(super) fn emit(text: &str) {
    // Nothing sensible is left to do when the job log itself cannot be written.
    let _ = gha::emit(&mut std::io::stdout().lock(), text);
}

/// A GitHub API failure that must not fail the deploy: a warning.
pub(super) fn warn_on_error<T>(result: Result<T, crate::github::Error>) {
    if let Err(error) = result {
        emit(&gha::warning("hf-deploy", &error.to_string()));
    }
}
