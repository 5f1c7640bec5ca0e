//! `hf-deploy scaffold`: write the Space tree for a backend folder.

use std::process::ExitCode;

use hf_deploy_core::SpaceId;
use hf_deploy_core::scaffold::{self, ScaffoldOptions};

use crate::cli::{ScaffoldArgs, SpaceLayoutArgs};
use crate::ui::Ui;

/// Scaffold options from the shared layout flags.
pub(crate) fn options(
    space: Option<SpaceId>,
    layout: &SpaceLayoutArgs,
    health_path: Option<String>,
) -> ScaffoldOptions {
    ScaffoldOptions {
        space,
        title: layout.title.clone(),
        emoji: layout.emoji.clone(),
        color_from: layout.color_from.clone(),
        color_to: layout.color_to.clone(),
        short_description: layout.short_description.clone(),
        port: layout.port,
        app: layout.app.clone(),
        health_path,
        excludes: layout.excludes.clone(),
        installer: if layout.installer == "pip" {
            scaffold::Installer::Pip
        } else {
            scaffold::Installer::Uv
        },
        build_tools: layout.build_tools,
        ..ScaffoldOptions::default()
    }
}

pub(crate) async fn run(args: ScaffoldArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let space = args
        .space
        .as_deref()
        .map(|s| SpaceId::parse(s, "--space"))
        .transpose()?;
    let options = options(space, &args.layout, args.health_path.clone());
    let source = args.source.clone();
    let scaffold =
        tokio::task::spawn_blocking(move || scaffold::scaffold(&source, &options)).await??;
    scaffold.write_to(&args.out)?;
    if args.json {
        let value = serde_json::json!({
            "out": args.out,
            "files": scaffold.files.keys().collect::<Vec<_>>(),
            "generated": scaffold.generated,
            "skipped": scaffold.skipped.iter().map(|s| serde_json::json!({"path": s.path, "reason": s.reason})).collect::<Vec<_>>(),
            "warnings": scaffold.warnings,
        });
        outln!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "Wrote {} files to `{}`:",
        scaffold.files.len(),
        args.out.display()
    );
    for path in scaffold.files.keys() {
        let mark = if scaffold.generated.contains(path) {
            "  (generated)"
        } else {
            ""
        };
        outln!("  {path}{mark}");
    }
    if !scaffold.skipped.is_empty() {
        outln!("Skipped {}:", scaffold.skipped.len());
        for skipped in &scaffold.skipped {
            outln!("  {}  ({})", skipped.path, skipped.reason);
        }
    }
    for warning in &scaffold.warnings {
        ui.warn(warning);
    }
    Ok(ExitCode::SUCCESS)
}
