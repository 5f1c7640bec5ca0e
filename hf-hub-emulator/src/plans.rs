//! Plans: since July 2026 the Hub answers 402 to creating a Gradio or Docker Space on free
//! `cpu-basic` hardware for an account without PRO (hub-docs `spaces-overview.md`,
//! huggingface_hub #4535). It checks this before it looks for an existing repo, so
//! `create_repo(exist_ok=True)` on an existing Space answers 402 too.
//!
//! `protected` Spaces (private repository, public app) need a paid plan too (hub-2026 §9): the
//! same 402, with a message naming `protected` (the wording is the stand-in's).
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

/// The 402 text for `protected` (UNCONFIRMED wording: the Hub's is not recorded anywhere public).
pub(crate) const PROTECTED_PAYWALL_MESSAGE: &str = "Protected Spaces (private repository, public app) require a PRO subscription or a Team or Enterprise organization.";

/// `Err(402)` when `user` may not make a Space `protected`.
#[allow(clippy::result_large_err)]
pub(crate) fn check_protected(hub: &Hub, user: &str) -> Result<(), Response> {
    if lock(&hub.free_users).contains(&user.to_ascii_lowercase()) {
        return Err(hub_error(
            StatusCode::PAYMENT_REQUIRED,
            None,
            PROTECTED_PAYWALL_MESSAGE,
        ));
    }
    Ok(())
}

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
