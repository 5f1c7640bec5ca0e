//! `--local` in a build without the `local` feature (the action's image): the same names as
//! `local_runtime.rs`, and a usage error instead of a stand-in.

use crate::ui::{Ui, UsageError};

pub(crate) const DEFAULT_USER: &str = "local";
pub(crate) const DEFAULT_WRITE_TOKEN: &str = "";

/// No value of this type exists: without the stand-in there is nothing to run.
pub(crate) enum Emulator {}

impl Emulator {
    pub(crate) fn url(&self) -> String {
        match *self {}
    }

    pub(crate) async fn shutdown(self) {
        match self {}
    }
}

pub(crate) async fn start_local(
    _ui: &Ui,
    _forced: Option<&str>,
) -> anyhow::Result<(Emulator, &'static str)> {
    Err(UsageError::error(
        "this `hf-deploy` was built without the local Hub stand-in",
        Some("use a build with the default `local` feature for `--local`"),
    ))
}
