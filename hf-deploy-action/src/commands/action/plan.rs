//! The `command` input, and `command: plan`: the `matrix` output that a later job's
//! `strategy.matrix` fans out into one deploy per Space of `hf-deploy.toml`.

use std::path::Path;
use std::process::ExitCode;

use hf_deploy_core::{Error, Field};

use super::from_file;
use super::joblog::emit;
use crate::commands::plan::{self, PlanError};
use crate::github::commands as gha;
use crate::github::files;
use crate::github::inputs::ActionInputs;
use crate::ui::Reported;

/// `command: plan`: the Spaces of the file (those changed since `changed-since`, when given)
/// as one line of JSON in the `matrix` output, and a notice naming them.
pub(super) fn run(inputs: &ActionInputs, vars: &[(String, String)]) -> anyhow::Result<ExitCode> {
    let workspace = from_file::workspace(vars);
    let file = match from_file::load(vars, &workspace) {
        Ok(Some(file)) => file,
        Ok(None) => {
            let error = Error::invalid_input_hint(
                Field::Other("config"),
                "`command: plan` needs an `hf-deploy.toml`, and the workspace has none at its root",
                "add one (`hf-deploy init` writes it), or name it with the `config` input",
            );
            emit(&gha::error(
                "hf-deploy: invalid `config`",
                &error.to_string(),
            ));
            return Err(Reported(format!("error: {error}"), 2).into());
        }
        Err(error) => return Err(from_file::failure(error)),
    };
    let planned = match plan::plan(&file, inputs.changed_since.as_deref(), "changed-since") {
        Ok(planned) => planned,
        Err(PlanError::Config(error)) => return Err(from_file::failure(error)),
        Err(error) => {
            let (message, hint) = error.parts();
            let text = match hint {
                Some(hint) => format!("{message}\nhint: {hint}"),
                None => message,
            };
            emit(&gha::error("hf-deploy: invalid `changed-since`", &text));
            return Err(Reported(format!("error: {text}"), 2).into());
        }
    };
    let matrix = plan::matrix(&planned).to_string();
    match from_file::output_path(vars) {
        Some(path) => files::write_outputs(Path::new(&path), &[("matrix", &matrix)])?,
        None => outln!("matrix={matrix}"),
    }
    let chosen: Vec<&str> = planned
        .iter()
        .filter(|p| p.changed != Some(false))
        .map(|p| p.space.as_str())
        .collect();
    let names = chosen
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let summary = match (chosen.len(), inputs.changed_since.as_deref()) {
        (0, Some(base)) => format!(
            "no Space of `{}` changed since `{base}`: nothing to deploy",
            file.shown
        ),
        (n, Some(base)) => format!(
            "{n} of {} Spaces changed since `{base}`: {names}",
            planned.len()
        ),
        (_, None) => format!("{} Spaces: {names}", planned.len()),
    };
    emit(&gha::notice("hf-deploy plan", &summary));
    Ok(ExitCode::SUCCESS)
}
