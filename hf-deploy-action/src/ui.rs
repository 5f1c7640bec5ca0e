//! Presentation: colors, error chains and hints, exit codes. Every message passes the door
//! (`guard::shown`): an error or a warning may quote a server, the app or a file name.

use std::io::IsTerminal;

use owo_colors::OwoColorize;

/// A usage error raised by the binary itself (exit code 2, nothing sent anywhere).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct UsageError {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

impl UsageError {
    /// The usage error as an [`anyhow::Error`], ready to return.
    pub(crate) fn error(message: impl Into<String>, hint: Option<&str>) -> anyhow::Error {
        anyhow::Error::new(UsageError {
            message: message.into(),
            hint: hint.map(str::to_string),
        })
    }
}

/// A library error with the binary's own hint in place of the library's (the binary knows
/// things the library does not, such as where the token came from).
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub(crate) struct Hinted {
    pub(crate) error: hf_deploy_core::Error,
    pub(crate) hint: String,
}

/// An error already reported to the user (e.g. as a JSON report), only carrying the exit code.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Reported(pub(crate) String, pub(crate) u8);

/// Terminal settings.
pub(crate) struct Ui {
    pub(crate) color_err: bool,
    pub(crate) color_out: bool,
}

impl Ui {
    pub(crate) fn from_env() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Ui {
            color_err: !no_color && std::io::stderr().is_terminal(),
            color_out: !no_color && std::io::stdout().is_terminal(),
        }
    }

    /// `error: <what failed>`, then each cause, then the hint.
    pub(crate) fn print_error(&self, error: &anyhow::Error) {
        if let Some(reported) = error.downcast_ref::<Reported>() {
            // Made of shown pieces already (`render_error`, `annotate::failure`).
            if !reported.0.is_empty() {
                errln!("{}", reported.0);
            }
            return;
        }
        errln!("{}", render_error(error, self.color_err));
    }

    pub(crate) fn warn(&self, message: &str) {
        let message = crate::guard::shown(message);
        if self.color_err {
            errln!("{} {message}", "warning:".yellow().bold());
        } else {
            errln!("warning: {message}");
        }
    }

    pub(crate) fn info(&self, message: &str) {
        errln!("{}", crate::guard::shown(message));
    }
}

/// The error text the user sees: the message, the causes, what the Hub said, the hint; each
/// through the door (they quote servers and the app).
pub(crate) fn render_error(error: &anyhow::Error, color: bool) -> String {
    use crate::guard::shown;
    let mut out = String::new();
    let head = if color {
        "error:".red().bold().to_string()
    } else {
        "error:".to_string()
    };
    out.push_str(&format!("{head} {}", shown(&error.to_string())));
    for cause in error.chain().skip(1) {
        out.push_str(&format!("\n  caused by: {}", shown(&cause.to_string())));
    }
    if let Some(core) = find_core(error) {
        if let Some(context) = core.http_context() {
            out.push_str(&format!(
                "\n  the Hub said: {}",
                shown(&context.to_string())
            ));
        }
    }
    if let Some(hint) = hint(error).map(|hint| shown(&hint)) {
        let label = if color {
            "hint:".cyan().bold().to_string()
        } else {
            "hint:".to_string()
        };
        for (index, line) in hint.lines().enumerate() {
            if index == 0 {
                out.push_str(&format!("\n{label} {line}"));
            } else {
                out.push_str(&format!("\n      {line}"));
            }
        }
    }
    out
}

fn find_core(error: &anyhow::Error) -> Option<&hf_deploy_core::Error> {
    error.chain().find_map(|cause| {
        cause
            .downcast_ref::<hf_deploy_core::Error>()
            .or_else(|| cause.downcast_ref::<Hinted>().map(|hinted| &hinted.error))
    })
}

fn hint(error: &anyhow::Error) -> Option<String> {
    if let Some(usage) = error.downcast_ref::<UsageError>() {
        return usage.hint.clone();
    }
    if let Some(hinted) = error.downcast_ref::<Hinted>() {
        return Some(hinted.hint.clone());
    }
    find_core(error).and_then(|core| core.hint_with(crate::cli::SPELLING))
}

/// 2 for bad input (nothing was sent), 1 for everything else.
pub(crate) fn exit_code(error: &anyhow::Error) -> u8 {
    if let Some(reported) = error.downcast_ref::<Reported>() {
        return reported.1;
    }
    if error.downcast_ref::<UsageError>().is_some() {
        return 2;
    }
    match find_core(error) {
        Some(core) if core.is_usage() => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors_exit_two_and_show_their_hint() {
        let error = UsageError::error("`--yes` is required to delete a Space", Some("add `--yes`"));
        assert_eq!(exit_code(&error), 2);
        assert_eq!(
            render_error(&error, false),
            "error: `--yes` is required to delete a Space\nhint: add `--yes`"
        );
    }

    #[test]
    fn core_input_errors_exit_two_remote_errors_exit_one() {
        let error = anyhow::Error::new(hf_deploy_core::Error::invalid_input(
            hf_deploy_core::Field::Port,
            "must be 1-65535",
        ));
        assert_eq!(exit_code(&error), 2);
        let error = anyhow::Error::new(hf_deploy_core::Error::PushRace { attempts: 3 });
        assert_eq!(exit_code(&error), 1);
    }
}
