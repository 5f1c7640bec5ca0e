//! GitHub Actions runner integration: inputs, workflow commands, the runner's files (outputs,
//! step summary, event payload) and the GitHub API (pull-request comment, deployments).
//!
//! Everything here takes its paths, tokens and URLs as arguments: `main.rs` reads the
//! environment once and passes values in, so every function is testable without `set_var`.

pub(crate) mod api;
pub(crate) mod commands;
pub(crate) mod files;
pub(crate) mod identity;
pub(crate) mod inputs;
pub(crate) mod job;
pub(crate) mod oidc;
pub(crate) mod pulls;
pub(crate) mod transport;

use std::path::PathBuf;

/// Everything that can go wrong while talking to the runner or to the GitHub API.
///
/// Messages say what this module was doing, with the object in backticks; causes stay in
/// `#[source]`. No variant holds a token or a secret value.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// A runner file (outputs, summary, event payload) could not be read or written.
    #[error("failed to {action} `{path}`")]
    Io {
        /// What we were doing, e.g. `append outputs to`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// An output name the runner cannot read back.
    #[error("cannot write output `{name}`: {reason}")]
    OutputName {
        /// The output name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// An output value contains the random heredoc delimiter (practically impossible, but the
    /// runner would cut the value there, so refuse instead).
    #[error("the value of output `{name}` contains its heredoc delimiter")]
    OutputDelimiter {
        /// The output name.
        name: String,
    },

    /// `GITHUB_REPOSITORY` is not `owner/name`.
    #[error("`GITHUB_REPOSITORY` value `{value}` is not of the form `owner/name`")]
    Repository {
        /// The value seen.
        value: String,
    },

    /// The GitHub client could not be built (bad `GITHUB_API_URL` or token characters).
    #[error("cannot set up the GitHub API client for `{api_url}`")]
    Client {
        /// The API base URL.
        api_url: String,
        /// What is wrong.
        #[source]
        source: transport::BuildError,
    },

    /// GitHub answered with an error status.
    #[error("GitHub answered {status} while trying to {action}: {}", message.as_data())]
    Api {
        /// What we were doing, with the object in backticks.
        action: String,
        /// The HTTP status code.
        status: u16,
        /// GitHub's `message` field: text from outside, redacted by the run's redactor.
        message: hf_deploy_core::RemoteText,
    },

    /// No usable answer from GitHub (connection, timeout, or a body of the wrong shape).
    #[error("no usable answer from GitHub while trying to {action}")]
    Transport {
        /// What we were doing, with the object in backticks.
        action: String,
        /// octocrab's error.
        #[source]
        source: octocrab::Error,
    },

    /// The answer went on past its cap, or the call past its deadline (`github::transport`).
    #[error("no usable answer from GitHub while trying to {action}: {limit}")]
    Limit {
        /// What we were doing, with the object in backticks.
        action: String,
        /// Which limit.
        limit: transport::Limit,
    },

    /// GitHub answered success with a body of the wrong shape.
    #[error("unexpected answer from GitHub while trying to {action}")]
    MalformedAnswer {
        /// What we were doing, with the object in backticks.
        action: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// Map an octocrab error. octocrab's own `Display` of an API error is just "GitHub", so the
    /// status and GitHub's `message` are taken out of it here.
    pub(crate) fn from_octocrab(action: impl Into<String>, error: octocrab::Error) -> Self {
        match error {
            octocrab::Error::GitHub { source, .. } => Error::Api {
                action: action.into(),
                status: source.status_code.as_u16(),
                message: hf_deploy_core::RemoteText::new(
                    &source.message,
                    &crate::guard::redactor(),
                ),
            },
            other => match transport::Limit::find(&other) {
                Some(limit) => Error::Limit {
                    action: action.into(),
                    limit,
                },
                None => Error::Transport {
                    action: action.into(),
                    source: other,
                },
            },
        }
    }

    /// The HTTP status GitHub answered with, for API errors.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Result alias for this module.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;
