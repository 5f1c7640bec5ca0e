//! One module per subcommand.

mod action;
mod deploy;
#[cfg(feature = "local")]
mod emulator;
mod frontend;
mod history;
mod init;
mod layered;
#[cfg(feature = "local")]
mod local_runtime;
#[cfg(not(feature = "local"))]
#[path = "local_runtime_lean.rs"]
mod local_runtime;
mod plan;
mod previews;
mod rollback;
mod scaffold;
mod signal;
mod space;
mod verify;

use std::process::ExitCode;

use crate::cli::{Command, PreviewsCommand};
use crate::ui::{Ui, UsageError};

pub(crate) async fn run(command: Command, ui: &Ui) -> anyhow::Result<ExitCode> {
    // The action takes its token from an input, never from a file.
    let stored_token = !matches!(command, Command::Action);
    crate::env::check_text()?;
    let result = match command {
        Command::Scaffold(args) => signal::or_interrupted(scaffold::run(args, ui), ui).await,
        Command::Deploy(args) => deploy::run(*args, ui).await,
        Command::Init(args) => init::run(args, ui).await,
        Command::Plan(args) => plan::run(args, ui).await,
        Command::Verify(args) => verify::run(args, ui).await,
        Command::Status(args) => space::status(args, ui).await,
        Command::Logs(args) => space::logs(args, ui).await,
        Command::Delete(args) => space::delete(args, ui).await,
        Command::Frontend(args) => frontend::run(args, ui).await,
        Command::Previews(PreviewsCommand::Prune(args)) => previews::prune(args, ui).await,
        Command::History(args) => history::run(args, ui).await,
        Command::Rollback(args) => rollback::run(args, ui).await,
        #[cfg(feature = "local")]
        Command::Emulator(args) => emulator::run(args, ui).await,
        Command::Action => signal::or_interrupted(action::run(ui), ui).await,
    };
    result.map_err(|error| {
        let error = word_for_the_command_line(error);
        if stored_token {
            crate::stored_token::explain(error)
        } else {
            error
        }
    })
}

/// A bad input from the library names a field: say it as the command line spells it
/// (`--color-from`). Other errors pass unchanged.
fn word_for_the_command_line(error: anyhow::Error) -> anyhow::Error {
    match error.downcast::<hf_deploy_core::Error>() {
        Ok(core) if core.field().is_some() => anyhow::Error::new(UsageError {
            message: core.message_with(crate::cli::SPELLING),
            hint: core.hint_with(crate::cli::SPELLING),
        }),
        Ok(core) => anyhow::Error::new(core),
        Err(error) => error,
    }
}
