//! The settings step: the secrets and variables of an existing Space, compared with what is
//! there (secret values are never read: their fingerprints are compared, see
//! [`crate::fingerprint`]) and written only when they changed: every secret write restarts the
//! Space.

use crate::error::{Error, Result};
use crate::fingerprint::Description;
use crate::hub::HubClient;
use crate::inputs::DeployOptions;
use crate::report::DeployReport;
use crate::secret::SecretString;
use crate::settings::{ALLOWED_ORIGINS, merge_origins};
use crate::untrusted::RemoteText;

use super::{Event, Progress};

/// What the secrets and variables of an existing Space need: which to write, which are in place.
pub(super) struct SettingsPlan {
    /// Secrets to write: key, value (for `ALLOWED_ORIGINS`, merged with the origins the Space
    /// had) and the description to write them with.
    pub(super) secrets: Vec<(String, SecretString, String)>,
    /// Secrets in place with this value.
    pub(super) secrets_unchanged: Vec<String>,
    /// Variables to write.
    pub(super) variables: Vec<String>,
    /// Variables in place with this value.
    pub(super) variables_unchanged: Vec<String>,
    /// False when the Hub does not list secrets: every secret is written.
    pub(super) listed: bool,
}

/// Compare the wanted secrets and variables with the Space's, reading only (secret values are
/// never read: their fingerprints are compared, see [`crate::fingerprint`]).
pub(super) async fn plan_settings(
    client: &HubClient,
    options: &DeployOptions,
) -> Result<SettingsPlan> {
    let id = &options.space;
    // The two reads at once; each only when something of its kind is wanted.
    let (listed, remote_variables) = tokio::join!(
        async {
            if options.settings.secrets.is_empty() {
                Ok(Some(Default::default()))
            } else {
                client.secrets(id).await
            }
        },
        async {
            if options.settings.variables.is_empty() {
                Ok(Default::default())
            } else {
                client.variables(id).await
            }
        }
    );
    let (listed, remote_variables) = (listed?, remote_variables?);
    let wanted: Vec<(String, SecretString, Description)> = options
        .settings
        .secrets
        .iter()
        .map(|(key, value)| {
            let description = listed
                .as_ref()
                .and_then(|listed| listed.get(key))
                .map(|info| Description::parse(info.description.as_deref()))
                .unwrap_or_default();
            with_origins_kept(key, value, description)
        })
        .collect();
    let compared = each_blocking(
        wanted,
        options,
        "compare secret fingerprints",
        |(key, value, description)| {
            if description.matches(&value) {
                (key, value, None)
            } else {
                let text = description.with_value(&value);
                (key, value, Some(text))
            }
        },
    )
    .await?;
    let mut plan = SettingsPlan {
        secrets: Vec::new(),
        secrets_unchanged: Vec::new(),
        variables: Vec::new(),
        variables_unchanged: Vec::new(),
        listed: listed.is_some(),
    };
    for (key, value, write) in compared {
        match write {
            Some(description) => plan.secrets.push((key, value, description)),
            None => plan.secrets_unchanged.push(key),
        }
    }
    for (key, value) in &options.settings.variables {
        if remote_variables.get(key).map(|v| v.value.as_str()) == Some(value.as_str()) {
            plan.variables_unchanged.push(key.clone());
        } else {
            plan.variables.push(key.clone());
        }
    }
    Ok(plan)
}

/// `ALLOWED_ORIGINS` is merged with the origins the Space had (its description's
/// [`ORIGINS_MARK`](crate::fingerprint::ORIGINS_MARK) line, written by the last deploy), never
/// replaced, and its description says the merged list; other secrets pass as they are.
pub(super) fn with_origins_kept(
    key: &str,
    value: &SecretString,
    description: Description,
) -> (String, SecretString, Description) {
    if key != ALLOWED_ORIGINS {
        return (key.to_string(), value.clone(), description);
    }
    let merged = merge_origins(description.origins().unwrap_or(""), value.expose());
    let description = description.with_origins(&merged);
    (key.to_string(), SecretString::new(merged), description)
}

/// `work` on every item, each on tokio's blocking pool and all at once: Argon2id is slow on
/// purpose (tens of milliseconds a secret), so it stays off the async threads and uses every core.
pub(super) async fn each_blocking<T, R>(
    items: Vec<T>,
    options: &DeployOptions,
    action: &'static str,
    work: fn(T) -> R,
) -> Result<Vec<R>>
where
    T: Send + 'static,
    R: Send + 'static,
{
    let tasks: Vec<_> = items
        .into_iter()
        .map(|item| tokio::task::spawn_blocking(move || work(item)))
        .collect();
    let mut done = Vec::with_capacity(tasks.len());
    for task in tasks {
        done.push(task.await.map_err(|e| Error::Io {
            action,
            path: options.source.clone(),
            source: std::io::Error::other(e.to_string()),
        })?);
    }
    Ok(done)
}

/// Write the secrets and variables of an existing Space that changed, and only those.
pub(super) async fn apply_settings(
    client: &HubClient,
    options: &DeployOptions,
    progress: &dyn Progress,
    report: &mut DeployReport,
) -> Result<()> {
    let id = &options.space;
    let plan = plan_settings(client, options).await?;
    if !plan.listed {
        let warning = RemoteText::new(
            &format!(
                "this Hub does not list the secrets of a Space, so hf-deploy cannot tell which changed: wrote all {} (each secret write restarts the Space)",
                plan.secrets.len()
            ),
            client.redactor(),
        );
        progress.event(Event::Warning(&warning));
        report.warnings.push(warning);
    }
    for (key, value, description) in &plan.secrets {
        client.set_secret(id, key, value, Some(description)).await?;
        report.secrets_set.push(key.clone());
    }
    report.secrets_unchanged = plan.secrets_unchanged;
    for key in &plan.variables {
        if let Some(value) = options.settings.variables.get(key) {
            client.set_variable(id, key, value, None).await?;
            report.variables_set.push(key.clone());
        }
    }
    report.variables_unchanged = plan.variables_unchanged;
    Ok(())
}

/// A 401/403 to a Space-scoped token on a settings call is the token's scope, not a bad token.
pub(super) fn scoped_refusal(client: &HubClient, error: Error) -> Error {
    if client.keyless().is_none() {
        return error;
    }
    match error {
        Error::InvalidToken { action, context }
        | Error::Forbidden { action, context }
        | Error::ReadOnlyToken { action, context } => Error::ScopedTokenRefused { action, context },
        // A settings read under `/api/spaces/..` answers 401 as "not found" for the Space.
        Error::NotFound { what, context } if context.status == 401 => Error::ScopedTokenRefused {
            action: format!("read the settings of {what}"),
            context,
        },
        other => other,
    }
}
