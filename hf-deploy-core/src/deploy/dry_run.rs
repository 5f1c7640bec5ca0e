//! The dry run: read what is there, compute what would change, write nothing.

use crate::error::{Error, Result};
use crate::hub::HubClient;
use crate::inputs::DeployOptions;
use crate::push;
use crate::report::{DeployReport, FileChanges};
use crate::untrusted::RemoteText;

use super::app_url;
use super::push::{push_request, record};
use super::settings::{SettingsPlan, plan_settings};

/// Plan the deploy: the settings that would be written and the files the push would change.
pub(super) async fn plan(
    client: &HubClient,
    options: &DeployOptions,
    report: &mut DeployReport,
) -> Result<()> {
    let info = if client.has_token() {
        match client.space_info(&options.space).await {
            Ok(info) => Some(info),
            Err(Error::NotFound { .. }) => None,
            Err(error) => return Err(error),
        }
    } else {
        None
    };
    let Some(info) = info else {
        plan_new_space(client, options, report);
        return Ok(());
    };
    let visibility = options.visibility.unwrap_or(info.current_visibility());
    report.visibility = Some(visibility.to_string());
    let settings = read_settings(client, options).await?;
    if !settings.listed {
        report.warnings.push(RemoteText::new("this Hub does not list the secrets of a Space, so hf-deploy cannot tell which changed: a deploy would write them all", client.redactor()));
    }
    report.secrets_set = settings.secrets.into_iter().map(|(key, ..)| key).collect();
    report.secrets_unchanged = settings.secrets_unchanged;
    report.variables_set = settings.variables;
    report.variables_unchanged = settings.variables_unchanged;

    let request = push_request(
        client,
        options,
        options.scaffold.clone(),
        true,
        info.sha.clone(),
    )
    .await?;
    let outcome = push::push(request)
        .await
        .map_err(|error| error.redacted(client.redactor()))?;
    record(report, outcome, client.redactor());
    report.stage = info
        .runtime
        .as_ref()
        .map(|r| r.stage.to_remote(client.redactor()));
    report.set_app_url(&app_url(options, &info), &options.health_path);
    Ok(())
}

/// A Space that does not exist (or cannot be seen without a token): everything is new.
fn plan_new_space(client: &HubClient, options: &DeployOptions, report: &mut DeployReport) {
    let visibility = options.visibility.unwrap_or(options.default_visibility);
    report.visibility = Some(visibility.to_string());
    report.secrets_set = options.settings.secrets.keys().cloned().collect();
    report.variables_set = options.settings.variables.keys().cloned().collect();
    report.changed = true;
    report.files = FileChanges {
        added: options
            .scaffold
            .files
            .keys()
            .map(|path| RemoteText::new(path, client.redactor()))
            .collect(),
        ..FileChanges::default()
    };
    let app_url = options
        .app_url
        .clone()
        .unwrap_or_else(|| options.space.computed_app_url());
    report.set_app_url(&app_url, &options.health_path);
}

/// What the settings would need; a read token may not list secrets: then plan to write them
/// all, and compare the variables only.
async fn read_settings(client: &HubClient, options: &DeployOptions) -> Result<SettingsPlan> {
    match plan_settings(client, options).await {
        Ok(settings) => Ok(settings),
        Err(Error::Forbidden { .. } | Error::ReadOnlyToken { .. }) => {
            let remote_variables = client.variables(&options.space).await?;
            let mut same = Vec::new();
            let mut differ = Vec::new();
            for (key, value) in &options.settings.variables {
                if remote_variables.get(key).map(|v| v.value.as_str()) == Some(value.as_str()) {
                    same.push(key.clone());
                } else {
                    differ.push(key.clone());
                }
            }
            Ok(SettingsPlan {
                secrets: options
                    .settings
                    .secrets
                    .iter()
                    .map(|(key, value)| (key.clone(), value.clone(), String::new()))
                    .collect(),
                secrets_unchanged: Vec::new(),
                variables: differ,
                variables_unchanged: same,
                listed: true,
            })
        }
        Err(error) => Err(error),
    }
}
