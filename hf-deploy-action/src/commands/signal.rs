//! The signals that end a local run (`deploy --local`, `--serve`, `emulator`).

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
