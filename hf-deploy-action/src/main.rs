//! `hf-deploy`: the command line and the GitHub Action.
//!
//! A thin binary over `hf-deploy-core`: it reads the environment (`HF_TOKEN`, `HF_ENDPOINT`,
//! `NO_COLOR`, the runner's `INPUT_*` and `GITHUB_*`), owns presentation and exit codes, and
//! calls the library. Exit codes: 0 success, 1 the deploy or check failed, 2 bad input, 130
//! ended by SIGINT or SIGTERM (its temporary folders removed).

#[macro_use]
mod print;

mod cli;
mod commands;
mod commit;
mod config;
mod env;
#[cfg(test)]
mod fuzz;
mod github;
mod guard;
mod render;
mod stored_token;
mod token;
mod ui;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    limit_git_waits();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // clap's own errors: help and version print to stdout and exit 0; usage errors 2.
            let _ = error.print();
            return match error.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            errln!("error: failed to start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let ui = ui::Ui::from_env();
    let code = match runtime.block_on(commands::run(cli.command, &ui)) {
        Ok(code) => code,
        Err(error) => {
            ui.print_error(&error);
            ExitCode::from(ui::exit_code(&error))
        }
    };
    // A blocking task still running (none should be) gets a moment, never forever; whatever
    // temporary folder is left then is removed. (A signal ends the process earlier, in
    // `commands::signal`.)
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    hf_deploy_core::remove_temporary_folders();
    code
}

/// libgit2's sockets (the push's `git-receive-pack`, a fallback fetch) wait forever by default:
/// a server that accepts the connection and then says nothing would hang the deploy. Give them
/// the limits the HTTP clients have: 30 s to connect, and `HF_DEPLOY_HTTP_TIMEOUT` (else 120 s)
/// of silence on each read or write. The options are process-wide C globals, so they are set
/// here, first in `main`, before any thread exists; the library cannot set them for its host.
#[allow(unsafe_code)]
fn limit_git_waits() {
    const CONNECT: std::time::Duration = std::time::Duration::from_secs(30);
    let silence = env::http_timeout_or(std::time::Duration::from_secs(120));
    let millis = |d: std::time::Duration| i32::try_from(d.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: `git2::opts` writes libgit2 globals without synchronisation and must run before
    // any thread is spawned; this is the first statement of `main`, no thread exists yet (the
    // async runtime is built after it). Both calls only store an integer and cannot fail.
    unsafe {
        let _ = git2::opts::set_server_connect_timeout_in_milliseconds(millis(CONNECT));
        let _ = git2::opts::set_server_timeout_in_milliseconds(millis(silence));
    }
}
