//! `hf-deploy emulator`: the local Hub stand-in on its own.

use std::process::ExitCode;

use anyhow::Context;
use hf_hub_emulator::{DEFAULT_READ_TOKEN, DEFAULT_WRITE_TOKEN, Emulator, EmulatorConfig};

use crate::cli::EmulatorArgs;
use crate::ui::Ui;

pub(crate) async fn run(args: EmulatorArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let (config, runtime) =
        super::local_runtime::emulator_config(args.runtime.as_deref(), ui).await?;
    let config = EmulatorConfig {
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], args.port)),
        request_latency: std::time::Duration::from_millis(args.latency_ms),
        ..config
    };
    let emulator = Emulator::start(config).await.with_context(|| {
        format!(
            "failed to start the Hub stand-in on 127.0.0.1:{}",
            args.port
        )
    })?;
    // These tokens are the stand-in's fixed, public test tokens, not secrets.
    outln!(
        "Hub stand-in listening on {} (Spaces run in {runtime})",
        emulator.url()
    );
    outln!("  export HF_ENDPOINT={}", emulator.url());
    outln!("  export HF_TOKEN={DEFAULT_WRITE_TOKEN}   # write token, user `local`");
    outln!("  read-only token: {DEFAULT_READ_TOKEN}");
    ui.info("Press Ctrl-C to stop.");
    let signal = super::signal::until_signal().await;
    ui.info(&format!("{signal}: stopping the Hub stand-in"));
    emulator.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
