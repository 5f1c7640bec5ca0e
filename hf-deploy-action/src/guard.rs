//! The process's guard over what it writes: one redactor for the run, and the door for text
//! that reaches a terminal or the workflow log.
//!
//! The run's redactor grows as the run learns its secrets: the tokens it reads (`HF_TOKEN`,
//! `hf-token`, `github-token`, the job's OIDC token and the token it is exchanged for) and the
//! plan's redactor (every secret value, the password of every URL-valued variable). Every
//! writer of the binary passes its whole text through [`redact`] as a last guard: stdout and
//! stderr (`outln!`, `out!`, `errln!`), the job log, `GITHUB_OUTPUT`, the step summary, and the
//! bodies sent to the GitHub API (comments, deployments, statuses). The one exception is the
//! `::add-mask::` commands, which carry the values on purpose, for the runner.
//!
//! Text that is shown (messages, errors, hints, log lines, report fields) goes through
//! [`shown`] / [`shown_remote`]: [`RemoteText::terminal`] on the command line, and
//! [`RemoteText::workflow_log`] in action mode ([`use_workflow_log`]), where the runner reads
//! stdout and stderr for workflow commands.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{OnceLock, RwLock};

use hf_deploy_core::{Redactor, RemoteText, SecretString};

fn run() -> &'static RwLock<Redactor> {
    static RUN: OnceLock<RwLock<Redactor>> = OnceLock::new();
    RUN.get_or_init(|| RwLock::new(Redactor::none()))
}

static WORKFLOW_LOG: AtomicBool = AtomicBool::new(false);

/// The run's redactor, as known now.
pub(crate) fn redactor() -> Redactor {
    run().read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Add every value `more` knows to the run's redactor.
pub(crate) fn learn(more: &Redactor) {
    if more.is_empty() {
        return;
    }
    let mut run = run().write().unwrap_or_else(|e| e.into_inner());
    *run = Redactor::builder().include(&run).include(more).build();
}

/// Add secret values (tokens) to the run's redactor.
pub(crate) fn learn_secrets<'a>(values: impl IntoIterator<Item = &'a SecretString>) {
    learn(&Redactor::builder().secrets(values).build());
}

/// From now on, [`shown`] writes for the workflow log (action mode).
pub(crate) fn use_workflow_log() {
    WORKFLOW_LOG.store(true, Ordering::Relaxed);
}

/// `text` with every value the run knows replaced by `***`: the last guard of every writer.
pub(crate) fn redact(text: &str) -> Cow<'_, str> {
    let redactor = redactor();
    match redactor.redact(text) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        Cow::Owned(redacted) => Cow::Owned(redacted),
    }
}

/// `text` (a message that may quote a server, the app or a file name) as a [`RemoteText`] of
/// the run, uncut.
pub(crate) fn door(text: &str) -> RemoteText {
    RemoteText::with_max_bytes(text, &redactor(), usize::MAX)
}

/// `text` for stdout or stderr: see [`shown_remote`].
pub(crate) fn shown(text: &str) -> String {
    shown_remote(&door(text))
}

/// `text` for stdout or stderr: no escape sequence nor control ([`RemoteText::terminal`]),
/// and in action mode no line that the runner takes for a workflow command
/// ([`RemoteText::workflow_log`]).
pub(crate) fn shown_remote(text: &RemoteText) -> String {
    if WORKFLOW_LOG.load(Ordering::Relaxed) {
        text.workflow_log()
    } else {
        text.terminal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_learns_and_redacts_and_the_door_sanitises() {
        learn_secrets([&SecretString::new("hf_guardTestToken0123456789")]);
        learn(
            &Redactor::builder()
                .variable("postgresql://u:guard-db-pass@h/d")
                .build(),
        );
        assert_eq!(
            redact("a hf_guardTestToken0123456789 b guard-db-pass c"),
            "a *** b *** c"
        );
        assert_eq!(redact("nothing"), "nothing");
        assert_eq!(
            shown("\u{1b}[31mred\u{1b}[0m\n::error::x hf_guardTestToken0123456789"),
            "red\n::error::x ***"
        );
        use_workflow_log();
        assert_eq!(shown("ok\n::error::forged"), "ok\n\\::error::forged");
    }
}
