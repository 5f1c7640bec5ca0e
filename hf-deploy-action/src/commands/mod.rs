//! One module per subcommand.

mod action;
mod deploy;
#[cfg(feature = "local")]
mod emulator;
mod frontend;
mod scaffold;
mod space;
mod verify;

use std::process::ExitCode;

use crate::cli::Command;
use crate::ui::Ui;

pub(crate) async fn run(command: Command, ui: &Ui) -> anyhow::Result<ExitCode> {
    match command {
        Command::Scaffold(args) => scaffold::run(args, ui).await,
        Command::Deploy(args) => deploy::run(args, ui).await,
        Command::Verify(args) => verify::run(args, ui).await,
        Command::Status(args) => space::status(args, ui).await,
        Command::Logs(args) => space::logs(args, ui).await,
        Command::Delete(args) => space::delete(args, ui).await,
        Command::Frontend(args) => frontend::run(args, ui).await,
        #[cfg(feature = "local")]
        Command::Emulator(args) => emulator::run(args, ui).await,
        Command::Action => action::run(ui).await,
    }
}
