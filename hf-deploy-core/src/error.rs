//! The one error type of `hf-deploy-core`.
//!
//! Each variant names a condition a caller acts on. Messages say what this crate was doing, with
//! the object in backticks; the cause stays in `#[source]` and is never repeated in the text.
//! Advice lives apart from the message, in [`Error::hint`]. No variant ever holds a secret value
//! or a token.
//!
//! What a server, an app or a log said is a [`RemoteText`], redacted when it was read. The
//! message (`Display`) quotes it as data (redacted, not sanitised): a front end shows a whole
//! message through the door for its destination (`RemoteText::new(&message, &redactor)`, then
//! `.terminal()`, `.workflow_command_data()`, `.markdown_inline()`), as the report does.

use std::path::PathBuf;
use std::time::Duration;

use crate::field::{Field, Phrase, Spelling};
use crate::stage::SpaceStage;
use crate::untrusted::{Redactor, RemoteText};

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the Hub said about a failed request. Carried by every HTTP-derived variant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HttpContext {
    /// HTTP method of the request.
    pub method: String,
    /// Request URL, never with credentials in it.
    pub url: String,
    /// Status code the server answered with.
    pub status: u16,
    /// `X-Request-Id` (or `X-Amzn-Trace-Id`) of the response, when present.
    pub request_id: Option<RemoteText>,
    /// `X-Error-Code` header, when present.
    pub error_code: Option<RemoteText>,
    /// `X-Error-Message` header, falling back to the JSON `error` field or the body text.
    pub server_message: Option<RemoteText>,
}

impl std::fmt::Display for HttpContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} answered {}", self.method, self.url, self.status)?;
        if let Some(message) = &self.server_message {
            write!(f, ": {}", message.as_data())?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {})", id.as_data())?;
        }
        Ok(())
    }
}

impl HttpContext {
    /// Redact what the server said again with `redactor`.
    fn redact(&mut self, redactor: &Redactor) {
        for text in [
            &mut self.request_id,
            &mut self.error_code,
            &mut self.server_message,
        ]
        .into_iter()
        .flatten()
        {
            *text = text.redacted_by(redactor);
        }
    }
}

/// One rule of the Space runtime that a Dockerfile breaks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LintViolation {
    /// 1-based line of the Dockerfile, when the violation is tied to a line.
    pub line: Option<usize>,
    /// Short rule id, e.g. `port`, `uid-1000`, `copy-chown`.
    pub rule: &'static str,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for LintViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: [{}] {}", self.rule, self.message),
            None => write!(f, "[{}] {}", self.rule, self.message),
        }
    }
}

/// Everything that can go wrong in `hf-deploy-core`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ----- bad input (nothing was sent anywhere) --------------------------------------------
    /// A value given by the user is not acceptable. `input` names the field; a front end
    /// words it with its own spelling ([`Error::message_with`]).
    #[error("invalid `{input}`: {reason}")]
    InvalidInput {
        /// The input, e.g. [`Field::Space`] or [`Field::Secrets`].
        input: Field,
        /// What is wrong with it; never contains a secret value.
        reason: Phrase,
        /// How to fix it.
        hint: Option<Phrase>,
    },

    /// The backend folder is not something we can deploy.
    #[error("cannot use `{path}` as the backend folder: {reason}")]
    InvalidSource {
        /// The folder given as SOURCE.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
        /// How to fix it.
        hint: Option<Phrase>,
    },

    /// A user-supplied Dockerfile breaks the Space rules.
    #[error("`{path}` breaks {} Space rule(s):\n{}", violations.len(), violations.iter().map(|v| format!("  {v}")).collect::<Vec<_>>().join("\n"))]
    DockerfileLint {
        /// The Dockerfile that was checked.
        path: PathBuf,
        /// Every rule it breaks.
        violations: Vec<LintViolation>,
    },

    /// A user's template (in the scaffold's templates folder) does not render: syntax, an
    /// unknown variable, attribute or filter, a missing include, an error while rendering, or
    /// bytes that are not UTF-8. Bad input ([`Field::TemplatesDir`]): nothing was sent.
    #[error("cannot render template `{}{}`: {reason}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    UserTemplate {
        /// The template's file.
        path: PathBuf,
        /// The 1-based line the template engine points at, when it does.
        line: Option<usize>,
        /// What the template engine (or the UTF-8 check) says is wrong.
        reason: String,
    },

    /// Rendering an embedded template failed (a bug of this crate).
    #[error("failed to render template `{name}`")]
    Template {
        /// Template name.
        name: String,
        /// The template engine's error.
        #[source]
        source: minijinja::Error,
    },

    // ----- local I/O --------------------------------------------------------------------------
    /// A file operation failed.
    #[error("failed to {action} `{path}`")]
    Io {
        /// What we were doing, e.g. `read`, `write`, `create folder`.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    // ----- the Hub API --------------------------------------------------------------------------
    /// The token was refused (401 with the invalid-credentials message, or no token at all).
    #[error("the Hub refused the token while trying to {action}")]
    InvalidToken {
        /// What we were doing.
        action: String,
        /// What the Hub said.
        context: Box<HttpContext>,
    },

    /// The token is valid but may not write.
    #[error("the token may not {action}: it is read-only or lacks write access to this namespace")]
    ReadOnlyToken {
        /// What we were doing.
        action: String,
        /// What the Hub said.
        context: Box<HttpContext>,
    },

    /// The Hub answered 403 for another reason.
    #[error("the Hub forbade {action}")]
    Forbidden {
        /// What we were doing.
        action: String,
        /// What the Hub said.
        context: Box<HttpContext>,
    },

    /// The repository or resource does not exist (or is private and invisible to this token).
    #[error("{what} was not found on the Hub")]
    NotFound {
        /// What was looked for, e.g. "Space `ns/name`".
        what: String,
        /// What the Hub said.
        context: Box<HttpContext>,
    },

    /// 402: the account needs a paid plan (Docker Spaces, hardware upgrades).
    #[error("the Hub requires a payment method to {action}")]
    PaymentRequired {
        /// What we were doing.
        action: String,
        /// What the Hub said.
        context: Box<HttpContext>,
    },

    /// 429 after all retries, or asking for a wait past the run's deadline.
    #[error("the Hub rate-limited {action}{}", reset_at.map(|at| format!(" until {}", utc(at))).unwrap_or_default())]
    RateLimited {
        /// What we were doing.
        action: String,
        /// How long the Hub asked us to wait, when it said.
        retry_after: Option<Duration>,
        /// When its window resets, when it said.
        reset_at: Option<std::time::SystemTime>,
        /// What the Hub said.
        context: Box<HttpContext>,
    },

    /// 409 (other than "already exists", which create handles).
    #[error("the Hub reported a conflict while trying to {action}")]
    Conflict {
        /// What we were doing.
        action: String,
        /// What the Hub said.
        context: Box<HttpContext>,
    },

    /// 5xx after all retries.
    #[error("the Hub failed with a server error while trying to {action}")]
    Server {
        /// What we were doing.
        action: String,
        /// How many attempts were made.
        attempts: u32,
        /// What the Hub said.
        context: Box<HttpContext>,
    },

    /// Any other unexpected status.
    #[error("the Hub refused to {action}")]
    Refused {
        /// What we were doing.
        action: String,
        /// What the Hub said.
        context: Box<HttpContext>,
    },

    /// The request did not get an answer (connection refused or reset, timeout, TLS).
    #[error("could not reach `{url}` to {action}")]
    Request {
        /// What we were doing.
        action: String,
        /// The URL, without credentials.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },

    /// The answer did not have the expected shape.
    #[error("unexpected answer from `{url}` while trying to {action}: {}", detail.as_data())]
    MalformedResponse {
        /// What we were doing.
        action: String,
        /// The URL, without credentials.
        url: String,
        /// What was wrong with it (a parser's words may quote the answer: from outside).
        detail: RemoteText,
    },

    // ----- git push ---------------------------------------------------------------------------
    /// A git operation failed.
    #[error("git failed to {action}")]
    Git {
        /// What we were doing, e.g. "fetch `main` from the Space".
        action: String,
        /// The libgit2 error (its message never contains the token: it is given only through
        /// the credential callback).
        #[source]
        source: git2::Error,
    },

    /// The Hub's pre-receive hook (or the server) refused the push.
    #[error("the Space refused the push: {}", reason.as_data())]
    PushRejected {
        /// What the remote said, line by line.
        reason: RemoteText,
        /// Files the remote named as offending.
        offending_files: Vec<RemoteText>,
    },

    /// Another writer kept moving the Space's `main`: every attempt's commit was built on a head
    /// that was no longer the head when it was pushed. Nothing was pushed over their commits.
    #[error(
        "another writer kept moving the Space's `main`: each of {attempts} push attempts found a newer commit there, so this run's commit was not pushed (nothing was forced over theirs)"
    )]
    PushRace {
        /// Attempts made.
        attempts: u32,
    },

    // ----- build, health, CORS ---------------------------------------------------------------
    /// The Space ended in an error stage.
    #[error("the Space ended in stage {stage}")]
    SpaceFailed {
        /// The stage (`BUILD_ERROR`, `RUNTIME_ERROR`, `CONFIG_ERROR`, `NO_APP_FILE`, `DELETING`).
        stage: SpaceStage,
        /// The last lines of the build or run log, redacted as one text
        /// ([`RemoteText::log_tail`]); [`RemoteText::lines`] gives them line by line.
        log_tail: RemoteText,
    },

    /// The deadline passed.
    #[error("timed out after {}s waiting for {what} (last seen: {})", elapsed.as_secs(), last_seen.as_data())]
    Timeout {
        /// What we waited for.
        what: String,
        /// How long we waited.
        elapsed: Duration,
        /// The last stage or status seen (a stage name or a health answer: from outside).
        last_seen: RemoteText,
        /// Known causes, most likely first (e.g. a service on a port a Space cannot reach).
        diagnoses: Vec<Phrase>,
    },

    /// The health endpoint answered, but not healthy.
    #[error("health check at `{url}` reports `{}`{}", status.as_data(), if failing.is_empty() { String::new() } else { format!(": {}", failing.iter().map(RemoteText::as_data).collect::<Vec<_>>().join(", ")) })]
    Unhealthy {
        /// The health URL.
        url: String,
        /// The reported overall status (or what the health URL answered instead).
        status: RemoteText,
        /// Each failing service with what it said.
        failing: Vec<RemoteText>,
        /// Known diagnoses (e.g. a suspended Qdrant cluster).
        diagnoses: Vec<Phrase>,
    },

    /// One or more frontend origins are blocked by the app's CORS policy.
    #[error("CORS blocks {}", origins.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", "))]
    CorsBlocked {
        /// Blocked origins.
        origins: Vec<String>,
    },

    // ----- frontend rewrite -------------------------------------------------------------------
    /// No single place to change in a frontend file.
    #[error("cannot update the API URL in `{path}`: {reason}")]
    FrontendRewrite {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },

    // ----- keyless deploys (Trusted Publishers) -----------------------------------------------
    /// The Space is missing and the token is a Space-scoped one, which cannot create it.
    #[error(
        "Space `{space}` does not exist, and a Space-scoped token from a Trusted Publisher exchange cannot create it"
    )]
    ScopedTokenCannotCreate {
        /// `namespace/name`.
        space: String,
    },
    /// The Hub refused to exchange the job's OIDC token (`invalid_grant`).
    #[error(
        "the Hub refused to exchange this job's OIDC token for a token of Space `{space}` (invalid_grant: no Trusted Publisher of the Space matches the job, or the Space does not exist)"
    )]
    OidcGrantRefused {
        /// `namespace/name`.
        space: String,
        /// The claims the job presents (`repository`, `workflow`, `ref`, ...).
        claims: Vec<(String, String)>,
        /// The request and the Hub's answer.
        context: Box<HttpContext>,
    },
    /// The CI runner did not hand out the job's OIDC token (its answer was not a success).
    #[error("the CI runner refused to {action}")]
    RunnerRefused {
        /// What we were doing.
        action: String,
        /// The request and the runner's answer.
        context: Box<HttpContext>,
    },
    /// A Space-scoped token was refused a call (settings, hardware) that a personal token may make.
    #[error("the Hub refused the Space-scoped token (Trusted Publisher) while trying to {action}")]
    ScopedTokenRefused {
        /// What we were doing.
        action: String,
        /// The request and the Hub's answer.
        context: Box<HttpContext>,
    },
}

impl Error {
    /// Shorthand for [`Error::InvalidInput`] without a hint.
    pub fn invalid_input(input: Field, reason: impl Into<Phrase>) -> Self {
        Error::InvalidInput {
            input,
            reason: reason.into(),
            hint: None,
        }
    }

    /// Shorthand for [`Error::InvalidInput`] with a hint.
    pub fn invalid_input_hint(
        input: Field,
        reason: impl Into<Phrase>,
        hint: impl Into<Phrase>,
    ) -> Self {
        Error::InvalidInput {
            input,
            reason: reason.into(),
            hint: Some(hint.into()),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// This error with every text from outside it carries redacted again by `redactor`: what
    /// a part that did not hold the run's redactor (the push) returns passes through this
    /// before anything can show it, and so does the error of a deploy.
    pub(crate) fn redacted(self, redactor: &Redactor) -> Error {
        let again = |text: RemoteText| text.redacted_by(redactor);
        match self {
            Error::PushRejected {
                reason,
                offending_files,
            } => Error::PushRejected {
                reason: again(reason),
                offending_files: offending_files.into_iter().map(again).collect(),
            },
            Error::SpaceFailed { stage, log_tail } => Error::SpaceFailed {
                stage,
                log_tail: again(log_tail),
            },
            Error::Timeout {
                what,
                elapsed,
                last_seen,
                diagnoses,
            } => Error::Timeout {
                what,
                elapsed,
                last_seen: again(last_seen),
                diagnoses,
            },
            Error::Unhealthy {
                url,
                status,
                failing,
                diagnoses,
            } => Error::Unhealthy {
                url,
                status: again(status),
                failing: failing.into_iter().map(again).collect(),
                diagnoses,
            },
            Error::MalformedResponse {
                action,
                url,
                detail,
            } => Error::MalformedResponse {
                action,
                url,
                detail: again(detail),
            },
            mut other => {
                if let Some(context) = other.http_context_mut() {
                    context.redact(redactor);
                }
                other
            }
        }
    }

    fn http_context_mut(&mut self) -> Option<&mut HttpContext> {
        match self {
            Error::InvalidToken { context, .. }
            | Error::ReadOnlyToken { context, .. }
            | Error::Forbidden { context, .. }
            | Error::NotFound { context, .. }
            | Error::PaymentRequired { context, .. }
            | Error::RateLimited { context, .. }
            | Error::Conflict { context, .. }
            | Error::Server { context, .. }
            | Error::Refused { context, .. }
            | Error::ScopedTokenRefused { context, .. }
            | Error::RunnerRefused { context, .. }
            | Error::OidcGrantRefused { context, .. } => Some(context),
            _ => None,
        }
    }

    /// True when the error is the user's input (exit code 2; nothing was sent to a remote).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::InvalidInput { .. }
                | Error::InvalidSource { .. }
                | Error::DockerfileLint { .. }
                | Error::UserTemplate { .. }
                | Error::FrontendRewrite { .. }
        )
    }

    /// A stable, machine-readable kind, used as `error.kind` in JSON reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidInput { .. } => "invalid_input",
            Error::InvalidSource { .. } => "invalid_source",
            Error::DockerfileLint { .. } => "dockerfile_lint",
            Error::UserTemplate { .. } => "user_template",
            Error::Template { .. } => "template",
            Error::Io { .. } => "io",
            Error::InvalidToken { .. } => "invalid_token",
            Error::ReadOnlyToken { .. } => "read_only_token",
            Error::Forbidden { .. } => "forbidden",
            Error::NotFound { .. } => "not_found",
            Error::PaymentRequired { .. } => "payment_required",
            Error::RateLimited { .. } => "rate_limited",
            Error::Conflict { .. } => "conflict",
            Error::Server { .. } => "server_error",
            Error::Refused { .. } => "refused",
            Error::Request { .. } => "network",
            Error::MalformedResponse { .. } => "malformed_response",
            Error::Git { .. } => "git",
            Error::PushRejected { .. } => "push_rejected",
            Error::PushRace { .. } => "push_race",
            Error::SpaceFailed { .. } => "space_failed",
            Error::Timeout { .. } => "timeout",
            Error::Unhealthy { .. } => "unhealthy",
            Error::CorsBlocked { .. } => "cors_blocked",
            Error::FrontendRewrite { .. } => "frontend_rewrite",
            Error::ScopedTokenCannotCreate { .. } => "scoped_token_cannot_create",
            Error::OidcGrantRefused { .. } => "oidc_invalid_grant",
            Error::ScopedTokenRefused { .. } => "scoped_token_refused",
            Error::RunnerRefused { .. } => "runner_refused",
        }
    }

    /// What the Hub said, for HTTP-derived errors.
    pub fn http_context(&self) -> Option<&HttpContext> {
        match self {
            Error::InvalidToken { context, .. }
            | Error::ReadOnlyToken { context, .. }
            | Error::Forbidden { context, .. }
            | Error::NotFound { context, .. }
            | Error::PaymentRequired { context, .. }
            | Error::RateLimited { context, .. }
            | Error::Conflict { context, .. }
            | Error::Server { context, .. }
            | Error::Refused { context, .. }
            | Error::ScopedTokenRefused { context, .. }
            | Error::RunnerRefused { context, .. }
            | Error::OidcGrantRefused { context, .. } => Some(context),
            _ => None,
        }
    }

    /// The field of an [`Error::InvalidInput`]; [`Field::TemplatesDir`] for an
    /// [`Error::UserTemplate`].
    pub fn field(&self) -> Option<Field> {
        match self {
            Error::InvalidInput { input, .. } => Some(*input),
            Error::UserTemplate { .. } => Some(Field::TemplatesDir),
            _ => None,
        }
    }

    /// The message with every field spelled by `spelling` (`Display` uses
    /// [`Spelling::NEUTRAL`]).
    pub fn message_with(&self, spelling: Spelling) -> String {
        match self {
            Error::InvalidInput { input, reason, .. } => format!(
                "invalid `{}`: {}",
                spelling.field(*input),
                reason.render(spelling)
            ),
            _ => self.to_string(),
        }
    }

    /// Advice for the user, kept apart from the message, in the library's own words
    /// ([`Spelling::NEUTRAL`]).
    pub fn hint(&self) -> Option<String> {
        self.hint_with(Spelling::NEUTRAL)
    }

    /// Advice for the user with every field spelled by `spelling`.
    pub fn hint_with(&self, spelling: Spelling) -> Option<String> {
        self.hint_phrase().map(|hint| hint.render(spelling))
    }

    fn hint_phrase(&self) -> Option<Phrase> {
        match self {
            Error::InvalidInput { hint, .. } | Error::InvalidSource { hint, .. } => hint.clone(),
            Error::DockerfileLint { .. } => Some(
                "fix the lines above, or drop your Dockerfile and let hf-deploy generate one"
                    .into(),
            ),
            Error::UserTemplate { .. } => Some(
                Phrase::new("fix the template (its variables are `space`, `app`, `front_matter`, `cmd`, `healthcheck`, `source_readme`, `health_example`, `uv_version`), or remove it from ")
                    .field(Field::TemplatesDir)
                    .text(" to use the built-in one"),
            ),
            Error::Template { .. } => Some(
                "if this is an embedded template, this is a bug in hf-deploy: please report it"
                    .into(),
            ),
            Error::InvalidToken { .. } => Some(
                Phrase::new("check that ")
                    .field(Field::Token)
                    .text(" holds a current access token from https://huggingface.co/settings/tokens"),
            ),
            Error::ReadOnlyToken { .. } => Some(
                "create a token with the `write` role (or fine-grained `repo.write` on this namespace)".into(),
            ),
            Error::PaymentRequired { action, .. } if action.contains(PROTECTED) => Some(
                Phrase::new("a protected Space (private code, public app) needs a PRO subscription or an organization with a Team or Enterprise plan; nothing was written. Ways out: a PRO subscription (https://huggingface.co/subscribe/pro), a Space under such an organization (")
                    .field(Field::Space)
                    .text(" `ORG/NAME`), or another ")
                    .field(Field::Visibility)
                    .text(": `public` (everyone reaches the app and reads the code) or `private` (the app answers only you: browsers, and so a frontend, cannot call it)"),
            ),
            Error::PaymentRequired { .. } => Some(
                Phrase::new("since July 2026 a Docker Space on free `cpu-basic` needs a paid plan; nothing was written. Ways out: a PRO subscription (https://huggingface.co/subscribe/pro), a Space under an organization with a Team or Enterprise plan (")
                    .field(Field::Space)
                    .text(" `ORG/NAME`), or paid hardware with ")
                    .field(Field::Hardware)
                    .text(" (e.g. `cpu-upgrade`) and a payment method (https://huggingface.co/settings/billing)"),
            ),
            Error::ScopedTokenCannotCreate { space } => Some(Phrase::new(format!(
                "create the Space once with a personal token (one deploy with a token of the `write` role, or `hf repos create {space} --repo-type space --space-sdk docker`), add this workflow as its Trusted Publisher, then rerun"
            ))),
            Error::OidcGrantRefused { space, claims, .. } => {
                let shown = if claims.is_empty() {
                    "  (the job token's payload could not be read)".to_string()
                } else {
                    claims
                        .iter()
                        .map(|(key, value)| format!("  {key}: {value}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                Some(Phrase::new(format!(
                    "this job presents:\n{shown}\nin the Space's Settings -> Trusted Publishers (https://huggingface.co/spaces/{space}/settings), add a GitHub Actions publisher whose `repository`, and `workflow` and `ref` if set, equal these values exactly (no prefix or pattern); the Space must exist (create it once with a personal token)"
                )))
            }
            Error::ScopedTokenRefused { .. } => Some(
                Phrase::new("a token from a Trusted Publisher exchange may push but not change settings here: pass a personal token with the `write` role (")
                    .field(Field::Token)
                    .text(") for runs that set secrets, variables or hardware, or leave them out of this run"),
            ),
            Error::RateLimited {
                reset_at: Some(_), ..
            } => Some(
                Phrase::new("the Hub's API limit is per 5-minute window: run again after that time, or raise ")
                    .field(Field::Timeout)
                    .text(" so the run can wait for it"),
            ),
            Error::RateLimited { .. } => {
                Some("wait a few minutes and run again; the Hub's API limit is per 5-minute window".into())
            }
            // The Hub's answer to a push with a read-only token (huggingface_hub #937).
            Error::PushRejected { reason, .. }
                if reason.as_data().contains("DENIED") && reason.as_data().contains("forbidden") =>
            {
                Some("the token may not push: create a token with the `write` role (or fine-grained `repo.write` on this namespace)".into())
            }
            Error::PushRejected { offending_files, .. } if !offending_files.is_empty() => Some(
                "track these files with Git LFS (add them to `.gitattributes`) or exclude them from the Space".into(),
            ),
            Error::Timeout { diagnoses, .. } => Some(lines(
                diagnoses.iter().cloned().chain([Phrase::new("raise ")
                    .field(Field::Timeout)
                    .text(", or read the Space's build log (the Logs tab of its page)")]),
            )),
            Error::CorsBlocked { .. } => Some(
                Phrase::new("add the origin to `ALLOWED_ORIGINS` (give it in ")
                    .field(Field::FrontendUrl)
                    .text(") and redeploy"),
            ),
            Error::Unhealthy { diagnoses, .. } if !diagnoses.is_empty() => {
                Some(lines(diagnoses.iter().cloned()))
            }
            Error::SpaceFailed { stage, log_tail } => Some(explain_failure(stage, log_tail)),
            Error::PushRace { .. } => Some(
                "another deploy, or a push by hand, is writing to this Space at the same time: wait until it is done, then run again; the rerun commits this tree on top of its commits, and what this run already wrote (secrets, variables) is found in place, not written twice".into(),
            ),
            _ => None,
        }
    }
}

/// The words of an action that asks for a protected Space (a Space name has no spaces, so no
/// name matches them): a 402 then gets the advice of protected Spaces.
pub(crate) const PROTECTED: &str = "a protected Space";

/// A moment as people read it in logs: `2026-11-29 12:05:00 UTC`.
pub fn utc(at: std::time::SystemTime) -> String {
    let t = time::OffsetDateTime::from(at);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// What a failed stage and its last log lines most likely mean, and what to do. A name quoted
/// from the log is cut to a word of at most 100 characters (it becomes part of a hint).
fn explain_failure(stage: &SpaceStage, log_tail: &RemoteText) -> Phrase {
    let mut advice: Vec<Phrase> = Vec::new();
    for line in log_tail.as_data().lines() {
        if let Some(rest) = line.split("No matching distribution found for ").nth(1) {
            advice.push(Phrase::new(format!(
                "`{}` is not on PyPI for this Python version: check its name and pin in `requirements.txt`",
                first_word(rest)
            )));
        } else if let Some(rest) = line.split("ModuleNotFoundError: No module named ").nth(1) {
            advice.push(Phrase::new(format!(
                "the app imports {} but it is not installed: add it to `requirements.txt`",
                first_word(rest)
            )));
        } else if line.contains("Address already in use") {
            advice.push("the port is taken: the app must listen on `app_port` only once".into());
        } else if line.contains("SyntaxError") || line.contains("IndentationError") {
            advice.push("the app does not compile: run it locally (`uvicorn app.main:app`) to see the error".into());
        } else if line.contains("Error loading ASGI app") {
            advice.push(
                Phrase::new("uvicorn cannot find the app: check ")
                    .field(Field::App)
                    .text(" (`MODULE:ATTR`)"),
            );
        }
    }
    advice.dedup();
    let general = match stage {
        SpaceStage::ConfigError => {
            "the README front matter is invalid: check the `---` block at the top of `README.md`"
        }
        SpaceStage::NoAppFile => {
            "the Space has no Dockerfile: let hf-deploy generate one, or add yours to the backend folder"
        }
        SpaceStage::RuntimeError => {
            "the app started and exited: the Space's run log (the Logs tab of its page) shows why"
        }
        SpaceStage::Deleting => {
            "the Space is being deleted (by someone or something else than this run): once it is \
             gone, deploy again to create it anew, or deploy under another name"
        }
        _ => "the Space's build log (the Logs tab of its page) shows the whole build",
    };
    advice.push(general.into());
    lines(advice)
}

/// The first word of a log line's rest, at most 100 characters: a name quoted in a hint.
fn first_word(rest: &str) -> String {
    rest.split_whitespace()
        .next()
        .unwrap_or_default()
        .chars()
        .take(100)
        .collect()
}

/// The phrases one per line.
fn lines(phrases: impl IntoIterator<Item = Phrase>) -> Phrase {
    let mut joined = Phrase::default();
    for (index, phrase) in phrases.into_iter().enumerate() {
        if index > 0 {
            joined = joined.text("\n");
        }
        joined = joined.append(phrase);
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(text: &str) -> RemoteText {
        RemoteText::new(text, &crate::untrusted::Redactor::none())
    }

    #[test]
    fn http_context_display_names_status_message_and_request_id() {
        let context = HttpContext {
            method: "POST".into(),
            url: "https://huggingface.co/api/repos/create".into(),
            status: 409,
            request_id: Some(remote("Root=1-abc")),
            error_code: None,
            server_message: Some(remote("You already created this space repo")),
        };
        assert_eq!(
            context.to_string(),
            "POST https://huggingface.co/api/repos/create answered 409: You already created this space repo (request id Root=1-abc)"
        );
    }

    #[test]
    fn a_failed_stage_is_explained_from_its_log() {
        let error = Error::SpaceFailed {
            stage: SpaceStage::BuildError,
            log_tail: remote(
                "ERROR: Could not find a version that satisfies the requirement nope==9\n\
                 ERROR: No matching distribution found for nope==9 (from -r requirements.txt)",
            ),
        };
        let hint = error.hint().unwrap_or_default();
        assert!(hint.starts_with("`nope==9` is not on PyPI"), "{hint}");
        assert!(hint.contains("build log"), "{hint}");
        let error = Error::SpaceFailed {
            stage: SpaceStage::RuntimeError,
            log_tail: remote("ModuleNotFoundError: No module named 'qdrant_client'"),
        };
        let hint = error.hint().unwrap_or_default();
        assert!(hint.contains("imports 'qdrant_client'"), "{hint}");
        assert!(hint.contains("run log"), "{hint}");
    }

    /// The push does not hold the run's redactor: what it quotes is redacted by its caller.
    #[test]
    fn an_error_is_redacted_again_by_the_runs_redactor() {
        let redactor = Redactor::builder()
            .secret(&crate::SecretString::new("hf_pushSecretToken0123"))
            .build();
        let rejected = Error::PushRejected {
            reason: RemoteText::unredacted("remote: token hf_pushSecretToken0123 refused"),
            offending_files: vec![RemoteText::unredacted("hf_pushSecretToken0123.txt")],
        }
        .redacted(&redactor);
        assert_eq!(
            rejected.to_string(),
            "the Space refused the push: remote: token *** refused"
        );
        let Error::PushRejected {
            offending_files, ..
        } = &rejected
        else {
            panic!("{rejected:?}")
        };
        assert_eq!(offending_files[0], "***.txt");
        let refused = Error::Refused {
            action: "upload".into(),
            context: Box::new(HttpContext {
                method: "PUT".into(),
                url: "https://lfs.example/x".into(),
                status: 400,
                request_id: Some(RemoteText::unredacted("id-hf_pushSecretToken0123")),
                error_code: None,
                server_message: Some(RemoteText::unredacted("bad token hf_pushSecretToken0123")),
            }),
        }
        .redacted(&redactor);
        let said = refused.http_context().expect("context").to_string();
        assert!(!said.contains("pushSecret"), "{said}");
        assert!(said.contains("bad token ***"), "{said}");
    }

    #[test]
    fn a_push_denied_by_the_hub_says_the_token_is_read_only() {
        let error = Error::PushRejected {
            reason: remote(
                "DENIED update refs/heads/main: forbidden\n(`main` pre-receive hook declined)",
            ),
            offending_files: Vec::new(),
        };
        assert!(error.hint().unwrap_or_default().contains("`write` role"));
    }

    #[test]
    fn usage_errors_are_exit_code_two() {
        assert!(Error::invalid_input(Field::Port, "must be 1-65535").is_usage());
        assert!(!Error::PushRace { attempts: 3 }.is_usage());
    }

    #[test]
    fn front_ends_word_the_field_and_the_hint() {
        let cli = Spelling::new(
            |field| match field {
                Field::Timeout => "--timeout",
                Field::ColorFrom => "--color-from",
                other => other.name(),
            },
            crate::field::Command::neutral,
        );
        let error = Error::invalid_input_hint(
            Field::ColorFrom,
            "`orange` is not a colour the Hub accepts",
            Phrase::new("see ").field(Field::Timeout),
        );
        assert_eq!(
            error.message_with(cli),
            "invalid `--color-from`: `orange` is not a colour the Hub accepts"
        );
        assert_eq!(error.hint_with(cli).as_deref(), Some("see `--timeout`"));
        assert_eq!(
            error.to_string(),
            "invalid `color_from`: `orange` is not a colour the Hub accepts"
        );
        assert_eq!(error.field(), Some(Field::ColorFrom));
        let timeout = Error::Timeout {
            what: "the build".into(),
            elapsed: Duration::from_secs(5),
            last_seen: remote("BUILDING"),
            diagnoses: Vec::new(),
        };
        assert!(
            timeout
                .hint_with(cli)
                .unwrap_or_default()
                .contains("`--timeout`"),
            "{timeout:?}"
        );
    }

    #[test]
    fn lint_error_lists_every_violation_with_its_line() {
        let error = Error::DockerfileLint {
            path: "Dockerfile".into(),
            violations: vec![
                LintViolation {
                    line: Some(3),
                    rule: "uid-1000",
                    message: "no user with UID 1000".into(),
                },
                LintViolation {
                    line: None,
                    rule: "port",
                    message: "EXPOSE 8000 but app_port is 7860".into(),
                },
            ],
        };
        let text = error.to_string();
        assert!(text.contains("line 3: [uid-1000]"), "{text}");
        assert!(text.contains("[port] EXPOSE 8000"), "{text}");
    }
}
