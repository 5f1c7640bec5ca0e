//! How the action ends on an error: `::error::` annotations for the job page, naming inputs as
//! the workflow spells them, and the error text with its exit code (2 for bad input).

use std::path::Path;
use std::process::ExitCode;

use hf_deploy_core::{Error, Field};

use super::joblog::emit;
use crate::github::commands::{self as gha, Level, Properties};
use crate::github::inputs::{SPELLING, spelling};
use crate::guard::shown;
use crate::ui::{Reported, Ui, render_error};

/// Annotate `error` for the job page and end with its exit code (2 for bad input).
pub(super) fn fail(error: Error, workspace: &Path, ui: &Ui) -> anyhow::Result<ExitCode> {
    Err(failure(error, workspace, ui))
}

/// [`fail`]'s error: the annotations are printed, the returned error carries the text and
/// the exit code. Inputs are named as the workflow spells them (`color-from`,
/// `timeout-minutes`).
pub(super) fn failure(error: Error, workspace: &Path, ui: &Ui) -> anyhow::Error {
    emit(&annotations(&error, workspace));
    let code = if error.is_usage() { 2 } else { 1 };
    let text = match error.field() {
        Some(_) => {
            let mut text = format!("error: {}", shown(&error.message_with(SPELLING)));
            if let Some(hint) = error.hint_with(SPELLING) {
                text.push_str(&format!("\nhint: {}", shown(&hint)));
            }
            text
        }
        None => render_error(&anyhow::Error::new(error), ui.color_err),
    };
    Reported(text, code).into()
}

/// `::error::` annotations, naming inputs as the workflow spells them; scaffold and lint errors
/// name the `source` input and point at the offending file and line, relative to the workspace.
pub(super) fn annotations(error: &Error, workspace: &Path) -> String {
    let relative = |path: &Path| -> String {
        let path = if path.is_absolute() {
            path.to_path_buf()
        } else {
            workspace.join(path)
        };
        path.strip_prefix(workspace)
            .unwrap_or(&path)
            .display()
            .to_string()
    };
    let message = match error.hint_with(SPELLING) {
        Some(hint) => format!("{}\nhint: {hint}", error.message_with(SPELLING)),
        None => error.message_with(SPELLING),
    };
    let source = spelling(Field::Source);
    match error {
        Error::DockerfileLint { path, violations } => violations
            .iter()
            .map(|violation| {
                let properties = Properties {
                    title: Some(format!(
                        "hf-deploy: `{source}` breaks Space rule `{}`",
                        violation.rule
                    )),
                    file: Some(relative(path)),
                    line: violation.line.and_then(|l| u32::try_from(l).ok()),
                    end_line: None,
                };
                gha::annotation(Level::Error, &properties, &violation.message)
            })
            .collect(),
        Error::InvalidSource { path, .. } => {
            let properties = Properties {
                title: Some(format!(
                    "hf-deploy: invalid `{source}` (the backend folder)"
                )),
                file: Some(relative(path)),
                ..Properties::default()
            };
            gha::annotation(Level::Error, &properties, &message)
        }
        _ => match error.field() {
            Some(field) => gha::error(
                &format!("hf-deploy: invalid `{}`", spelling(field)),
                &message,
            ),
            None => gha::error("hf-deploy", &message),
        },
    }
}
