//! `hf-deploy frontend`: point a frontend's API client at the deployed app.

use std::process::ExitCode;

use anyhow::Context;
use hf_deploy_core::frontend;

use crate::cli::FrontendArgs;
use crate::ui::{Reported, Ui};

pub(crate) async fn run(args: FrontendArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let source =
        std::fs::read_to_string(&args.file).map_err(|e| hf_deploy_core::Error::InvalidInput {
            input: hf_deploy_core::Field::Other("FILE"),
            reason: format!("cannot read `{}`: {e}", args.file.display()).into(),
            hint: Some("give the path of the frontend file that holds the API base URL".into()),
        })?;
    let rewrite = frontend::rewrite(&args.file, &source, &args.api_url)?;
    for warning in &rewrite.warnings {
        ui.warn(warning);
    }
    if !rewrite.changed {
        outln!(
            "`{}` already points at {}; nothing to change.",
            args.file.display(),
            args.api_url
        );
        return Ok(ExitCode::SUCCESS);
    }
    out!("{}", rewrite.diff);
    if args.check {
        return Err(Reported(
            format!(
                "`{}` needs the change above (run without `--check` to apply it)",
                args.file.display()
            ),
            1,
        )
        .into());
    }
    std::fs::write(&args.file, &rewrite.new_source)
        .with_context(|| format!("failed to write `{}`", args.file.display()))?;
    outln!("Updated `{}` ({}).", args.file.display(), rewrite.shape);
    Ok(ExitCode::SUCCESS)
}
