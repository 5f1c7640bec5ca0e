//! Plans: since July 2026 the Hub answers 402 to creating a Gradio or Docker Space on free
//! `cpu-basic` hardware for an account without PRO (hub-docs `spaces-overview.md`,
//! huggingface_hub #4535). It checks this before it looks for an existing repo, so
//! `create_repo(exist_ok=True)` on an existing Space answers 402 too.
//!
//! Every user of the stand-in has PRO unless a test takes it away with
//! [`crate::Emulator::set_pro`].

use axum::http::StatusCode;
use axum::response::Response;

use crate::hub::Hub;
use crate::util::hub_error;
use crate::util::lock;

/// The Hub's message, word for word.
pub(crate) const PAYWALL_MESSAGE: &str = "Static Spaces are free for everyone, but hosting Gradio and Docker Spaces on free cpu-basic requires a PRO subscription.";

/// `Err(402)` when `user` may not create a Space with `sdk` on `hardware`.
#[allow(clippy::result_large_err)]
pub(crate) fn check_create(
    hub: &Hub,
    user: &str,
    sdk: &str,
    hardware: &str,
) -> Result<(), Response> {
    let paid_sdk = matches!(sdk, "docker" | "gradio");
    let free = lock(&hub.free_users).contains(&user.to_ascii_lowercase());
    if paid_sdk && hardware == "cpu-basic" && free {
        return Err(hub_error(
            StatusCode::PAYMENT_REQUIRED,
            None,
            PAYWALL_MESSAGE,
        ));
    }
    Ok(())
}
