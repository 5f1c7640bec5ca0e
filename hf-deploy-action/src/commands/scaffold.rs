//! `hf-deploy scaffold`: write the Space tree for a backend folder.

use std::process::ExitCode;

use hf_deploy_core::RawInputs;
use hf_deploy_core::inputs;
use hf_deploy_core::scaffold;

use crate::cli::{ScaffoldArgs, SpaceLayoutArgs};
use crate::ui::Ui;

/// The raw inputs of the shared layout flags.
pub(crate) fn layout_inputs(layout: &SpaceLayoutArgs, raw: RawInputs) -> RawInputs {
    RawInputs {
        title: layout.title.clone(),
        emoji: layout.emoji.clone(),
        color_from: layout.color_from.clone(),
        color_to: layout.color_to.clone(),
        short_description: layout.short_description.clone(),
        port: layout.port,
        app: layout.app.clone(),
        excludes: layout.excludes.clone(),
        installer: if layout.installer == "pip" {
            scaffold::Installer::Pip
        } else {
            scaffold::Installer::Uv
        },
        build_tools: layout.build_tools,
        ..raw
    }
}

pub(crate) async fn run(args: ScaffoldArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let raw = layout_inputs(
        &args.layout,
        RawInputs {
            space: args.space.clone(),
            source: args.source.clone(),
            health_path: args.health_path.clone(),
            ..RawInputs::default()
        },
    );
    // Checks every input, reads the source folder and writes the output: off the async workers,
    // so that a signal is heard meanwhile (the staging folder is then removed).
    let out = args.out.clone();
    let scaffold = tokio::task::spawn_blocking(move || {
        let scaffold = inputs::resolve_scaffold(&raw)?;
        scaffold.write_to(&out)?;
        Ok::<_, hf_deploy_core::Error>(scaffold)
    })
    .await??;
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
        crate::guard::shown(&args.out.display().to_string())
    );
    for path in scaffold.files.keys() {
        let mark = if scaffold.generated.contains(path) {
            "  (generated)"
        } else {
            ""
        };
        // File names from the source tree go to the terminal through the door.
        outln!("  {}{mark}", crate::guard::shown(path));
    }
    if !scaffold.skipped.is_empty() {
        outln!("Skipped {}:", scaffold.skipped.len());
        for skipped in &scaffold.skipped {
            outln!(
                "  {}  ({})",
                crate::guard::shown(&skipped.path),
                crate::guard::shown(&skipped.reason)
            );
        }
    }
    for warning in &scaffold.warnings {
        ui.warn(warning);
    }
    Ok(ExitCode::SUCCESS)
}
