//! The action's inputs under `hf-deploy.toml`: the file's entry fills every input the workflow
//! left empty or at its default, as the runner would have passed it (`INPUT_<NAME>`), before
//! the inputs are read and checked as usual.
//!
//! The runner passes every declared input, a default included, so "given" cannot be told from
//! "left at its default": an input equal to its `action.yml` default counts as not given, and
//! the file wins over it. Lists add up (`secrets`, `frontend-url`); `variables` merge name by
//! name, the input's value winning. `hf-endpoint` from the file yields to `HF_ENDPOINT`.
//!
//! The file lives in the workspace (`config`, else `hf-deploy.toml` at its root); its `source`
//! and `secrets-file` are relative to the file's folder. Each secret the file names takes its
//! value from the job's environment (the step's `env:`), masked at once.

use std::path::{Path, PathBuf};

use hf_deploy_core::{RawEntry, RawInputs};

use super::joblog::emit;
use crate::config::changed::relative_to;
use crate::config::{self, ConfigError, ConfigFile, Entry, Kind, Location, Value};
use crate::github::commands::{self as gha, Level, Properties};
use crate::github::inputs::ActionInputs;
use crate::ui::Reported;

/// The `action.yml` defaults that are not empty, for the inputs the file can set (pinned
/// against `action.yml` by a test).
pub(super) const DEFAULTS: [(&str, &str); 13] = [
    ("source", "backend"),
    ("health-path", "/api/health"),
    ("private", "false"),
    ("factory-reboot", "false"),
    ("wait", "true"),
    ("timeout-minutes", "20"),
    ("dry-run", "false"),
    ("comment", "true"),
    ("preview", "false"),
    ("allow-degraded", "false"),
    ("allow-forks", "false"),
    ("github-deployment", "true"),
    ("rollback-on-failure", "false"),
];

/// What the file added that is not an input.
#[derive(Debug, Default)]
pub(super) struct Applied {
    /// The entry's `secrets-file`, under the file's folder.
    pub(super) secrets_file: Option<PathBuf>,
}

/// The inputs of this run under `hf-deploy.toml`, when there is one: the inputs read again
/// once the file's entry has filled them. A bad file is annotated on the job page and ends the
/// run (exit code 2).
pub(super) fn read(
    inputs: ActionInputs,
    vars: &mut Vec<(String, String)>,
) -> anyhow::Result<ActionInputs> {
    let workspace = workspace(vars);
    let applied = match load(vars, &workspace) {
        Ok(None) => return Ok(inputs),
        Ok(Some(file)) => apply(vars, &file, &workspace),
        Err(error) => Err(error),
    };
    let applied = applied.map_err(failure)?;
    let mut inputs =
        ActionInputs::from_env(vars.iter().cloned()).map_err(|error| anyhow::anyhow!("{error}"))?;
    inputs.secrets_file = applied.secrets_file;
    Ok(inputs)
}

/// `GITHUB_OUTPUT`, when set.
pub(super) fn output_path(vars: &[(String, String)]) -> Option<String> {
    input(vars, "GITHUB_OUTPUT")
}

/// `GITHUB_WORKSPACE`, or `.`.
pub(super) fn workspace(vars: &[(String, String)]) -> PathBuf {
    PathBuf::from(input(vars, "GITHUB_WORKSPACE").unwrap_or_else(|| ".".into()))
}

/// A bad file: annotated for the job page; the error carries its text and exit code 2.
pub(super) fn failure(error: ConfigError) -> anyhow::Error {
    emit(&annotation(&error));
    let mut text = format!("error: {error}");
    if let Some(hint) = &error.hint {
        text.push_str(&format!("\nhint: {hint}"));
    }
    Reported(text, 2).into()
}

/// The configuration file of this run: the `config` input (relative to the workspace), else
/// `hf-deploy.toml` at the workspace's root when there is one.
pub(super) fn load(
    vars: &[(String, String)],
    workspace: &Path,
) -> Result<Option<ConfigFile>, ConfigError> {
    let (path, named_by) = match input(vars, "config") {
        Some(path) => (workspace.join(path.trim()), Some("config")),
        None => {
            let path = workspace.join(config::FILE_NAME);
            if !path.is_file() {
                return Ok(None);
            }
            (path, None)
        }
    };
    let shown = config::shown(&path, workspace);
    ConfigFile::read(&path, &shown, named_by).map(Some)
}

/// Fill the inputs of `vars` from the entry of `file` that the `space` input picks.
pub(super) fn apply(
    vars: &mut Vec<(String, String)>,
    file: &ConfigFile,
    workspace: &Path,
) -> Result<Applied, ConfigError> {
    let entry = file.select(input(vars, "space").as_deref(), "space")?;
    if input(vars, "space").is_none() {
        set(vars, "space", entry.space.value.clone());
    }
    let source = file.source_of(entry);
    if left_at_default(vars, "source") {
        let relative = relative_to(&source, workspace)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| source.display().to_string());
        set(
            vars,
            "source",
            if relative.is_empty() {
                ".".into()
            } else {
                relative
            },
        );
    }
    for (key, item) in &entry.values {
        let text = match &item.value {
            Value::Text(text) if key.kind == Kind::Text => text.clone(),
            Value::Bool(flag) => flag.to_string(),
            Value::Minutes(minutes) => minutes.to_string(),
            Value::Seconds(seconds) => seconds.to_string(),
            _ => continue,
        };
        let env_wins = key.name == "hf-endpoint" && input(vars, "HF_ENDPOINT").is_some();
        // `private: true` is `visibility: private`: either given leaves the file's other alone.
        let other = match key.name {
            "private" => Some("visibility"),
            "visibility" => Some("private"),
            _ => None,
        };
        let other_given = other.is_some_and(|name| !left_at_default(vars, name));
        if key.name != "space" && !env_wins && !other_given && left_at_default(vars, key.name) {
            set(vars, key.name, text);
        }
    }
    add_secrets(vars, file, entry)?;
    add_lines(
        vars,
        "variables",
        entry
            .table("variables")
            .iter()
            .map(|(k, v)| (k.value.as_str(), v.value.as_str())),
    );
    let origins: Vec<&str> = entry
        .list("frontend-url")
        .iter()
        .map(|i| i.value.as_str())
        .collect();
    if !origins.is_empty() {
        let given = input(vars, "frontend-url").unwrap_or_default();
        let joined = std::iter::once(given.as_str())
            .chain(origins)
            .filter(|s| !s.is_empty());
        set(vars, "frontend-url", joined.collect::<Vec<_>>().join("\n"));
    }
    Ok(Applied {
        secrets_file: secrets_file(file, entry)?,
    })
}

/// The value of input `name` (or, for an upper-case name, of that environment variable), when
/// not empty.
fn input(vars: &[(String, String)], name: &str) -> Option<String> {
    let key = variable(name);
    vars.iter()
        .rev()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.clone())
        .filter(|v| !v.trim().is_empty())
}

/// `INPUT_<NAME>` for an input name; an upper-case name is an environment variable.
fn variable(name: &str) -> String {
    if name.chars().any(|c| c.is_ascii_lowercase()) {
        format!("INPUT_{}", name.to_uppercase())
    } else {
        name.to_string()
    }
}

fn set(vars: &mut Vec<(String, String)>, name: &str, value: String) {
    let key = variable(name);
    vars.retain(|(k, _)| *k != key);
    vars.push((key, value));
}

/// The input is empty, or equal to its `action.yml` default: the file may set it.
fn left_at_default(vars: &[(String, String)], name: &str) -> bool {
    match input(vars, name) {
        None => true,
        Some(value) => DEFAULTS
            .iter()
            .any(|(input, default)| *input == name && value.trim() == *default),
    }
}

/// The keys of a multiline `KEY=VALUE` input.
fn keys_of(text: &str) -> Vec<String> {
    RawEntry::lines(text)
        .iter()
        .filter_map(|entry| {
            entry
                .text
                .split_once('=')
                .map(|(k, _)| k.trim().to_string())
        })
        .collect()
}

/// Append `KEY=VALUE` lines to a multiline input, for the keys it does not give.
fn add_lines<'a>(
    vars: &mut Vec<(String, String)>,
    name: &str,
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
) {
    let mut text = input(vars, name).unwrap_or_default();
    let given = keys_of(&text);
    let mut added = false;
    for (key, value) in pairs {
        if given.iter().any(|g| g == key) {
            continue;
        }
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!("{key}={value}\n"));
        added = true;
    }
    if added {
        set(vars, name, text);
    }
}

/// The secrets the file names, each with its value from the job's environment, masked at once
/// and checked by the library's rules (a missing or bad one is reported at its name).
fn add_secrets(
    vars: &mut Vec<(String, String)>,
    file: &ConfigFile,
    entry: &Entry,
) -> Result<(), ConfigError> {
    let given = keys_of(&input(vars, "secrets").unwrap_or_default());
    let mut pairs = Vec::new();
    for name in entry.list("secrets") {
        if given.contains(&name.value) {
            continue;
        }
        let value = vars
            .iter()
            .find(|(k, _)| *k == name.value)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty());
        let Some(value) = value else {
            return Err(missing_secret(file, &name.value, name.at));
        };
        emit(&gha::mask(&value));
        hf_deploy_core::inputs::resolve_settings(&RawInputs {
            secrets: vec![RawEntry {
                text: name.value.clone(),
                line: None,
                from_env: Some(value.clone()),
            }],
            ..RawInputs::default()
        })
        .map_err(|error| ConfigError::from_core(&file.shown, name.at, &error))?;
        pairs.push((name.value.clone(), value));
    }
    add_lines(
        vars,
        "secrets",
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    Ok(())
}

fn missing_secret(file: &ConfigFile, name: &str, at: Location) -> ConfigError {
    ConfigError::new(
        &file.shown,
        Some(at),
        format!(
            "secret `{name}` is listed in `secrets`, but the job's environment has no `{name}` (or it is empty)"
        ),
        Some(format!(
            "give it to the step: `env: {{ {name}: ${{{{ secrets.{name} }}}} }}` (and create the repository secret `{name}`)"
        )),
    )
}

/// The entry's `secrets-file`, under the file's folder; its values are masked at once.
fn secrets_file(file: &ConfigFile, entry: &Entry) -> Result<Option<PathBuf>, ConfigError> {
    let Some((path, at)) = entry.text("secrets-file") else {
        return Ok(None);
    };
    let path = file.dir().join(path.trim());
    let text = std::fs::read_to_string(&path).map_err(|error| {
        ConfigError::new(
            &file.shown,
            Some(at),
            format!("cannot read `secrets-file` `{}`: {error}", path.display()),
            Some(
                "give the path of a dotenv file made by an earlier step, relative to this file"
                    .into(),
            ),
        )
    })?;
    for line in text.lines() {
        if let Some((_, value)) = line.split_once('=') {
            let value = value.trim().trim_matches(['"', '\'']);
            emit(&gha::mask(value));
        }
    }
    Ok(Some(path))
}

/// A bad file as the job page shows it: an `::error` annotation on the file and line.
pub(super) fn annotation(error: &ConfigError) -> String {
    let message = match &error.hint {
        Some(hint) => format!("{error}\nhint: {hint}"),
        None => error.to_string(),
    };
    let properties = Properties {
        title: Some("hf-deploy: invalid configuration file".into()),
        file: Some(error.file.clone()),
        line: error.at.and_then(|at| u32::try_from(at.line).ok()),
        end_line: None,
    };
    gha::annotation(Level::Error, &properties, &message)
}

#[cfg(test)]
mod tests;
