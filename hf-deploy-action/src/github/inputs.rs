//! Action inputs: read from `INPUT_*` variables, then validated into an [`ActionConfig`].
//!
//! The runner passes every declared input of a container action as `INPUT_<NAME>` with the
//! name upper-cased and hyphens kept (`hf-token` -> `INPUT_HF-TOKEN`); envy lower-cases the rest
//! back to `hf-token`. An input that was not given arrives as `""`, which means "unset" here.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hf_deploy_core::inputs;
use hf_deploy_core::{Field, RawEntry, RawInputs};
use hf_deploy_core::{SecretString, SpaceId, Spelling};
use serde::{Deserialize, Deserializer};

use super::commands;

/// Errors of input validation: always [`hf_deploy_core::Error::InvalidInput`] naming the input
/// (exit code 2, nothing sent anywhere).
pub(crate) type InputError = hf_deploy_core::Error;

/// The raw inputs as the runner passed them. Every field is `None` when the input was not
/// given (absent or `""`). `Debug` never shows the tokens or the `secrets` input.
#[derive(Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct ActionInputs {
    /// `hf-token`: the Hub token.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) hf_token: Option<String>,
    /// `hf-endpoint`: the Hub's base URL (read in `github/oidc.rs`; empty: `HF_ENDPOINT`).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) hf_endpoint: Option<String>,
    /// `space`: `ns/name`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) space: Option<String>,
    /// `source`: backend folder relative to the workspace.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) source: Option<String>,
    /// `secrets`: multiline `KEY=VALUE`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) secrets: Option<String>,
    /// `variables`: multiline `KEY=VALUE`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) variables: Option<String>,
    /// `frontend-url`: comma or newline separated origins.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) frontend_url: Option<String>,
    /// `health-path`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) health_path: Option<String>,
    /// `app-url`: override of the app URL.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) app_url: Option<String>,
    /// `private`: boolean.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) private: Option<String>,
    /// `hardware`: flavor such as `cpu-basic`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) hardware: Option<String>,
    /// `wait`: boolean.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) wait: Option<String>,
    /// `timeout-minutes`: positive integer.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) timeout_minutes: Option<String>,
    /// `dry-run`: boolean.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) dry_run: Option<String>,
    /// `title` (README front matter).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) title: Option<String>,
    /// `emoji` (README front matter).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) emoji: Option<String>,
    /// `color-from` (README front matter).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) color_from: Option<String>,
    /// `color-to` (README front matter).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) color_to: Option<String>,
    /// `short-description` (README front matter).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) short_description: Option<String>,
    /// `github-token`: for the PR comment and deployment statuses.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) github_token: Option<String>,
    /// `comment`: boolean.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) comment: Option<String>,
    /// `preview`: boolean.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) preview: Option<String>,
    /// `allow-degraded`: boolean.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) allow_degraded: Option<String>,
    /// `allow-forks`: boolean.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) allow_forks: Option<String>,
    /// `rollback-on-failure`: boolean.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) rollback_on_failure: Option<String>,
    /// `github-deployment`: boolean.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) github_deployment: Option<String>,
    /// `environment`: the GitHub deployment's environment name.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) environment: Option<String>,
    /// `preview-label`: the label a pull request needs for a preview.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) preview_label: Option<String>,
    /// `config`: the `hf-deploy.toml` to read, relative to the workspace.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) config: Option<String>,
    /// `command`: `deploy` (default), `plan`, ...
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) command: Option<String>,
    /// `changed-since`: with `command: plan`, only the Spaces changed since this revision.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) changed_since: Option<String>,
    /// Not an input: the `secrets-file` of the `hf-deploy.toml` entry, set after reading it.
    #[serde(skip)]
    pub(crate) secrets_file: Option<PathBuf>,
    /// `visibility`: `public`, `protected` or `private`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) visibility: Option<String>,
    /// `factory-reboot`: boolean.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) factory_reboot: Option<String>,
    /// `sleep-time`: seconds (`-1`: never).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) sleep_time: Option<String>,
    /// `max-age`: with `command: previews-prune`, days after which a preview goes anyway.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) max_age: Option<String>,
}

/// `""` (and whitespace only) -> `None`: the runner sets every declared input, empty when the
/// workflow did not give it.
fn empty_as_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    Ok(value.filter(|v| !v.trim().is_empty()))
}

/// Inputs whose values are secret: `Debug` shows only whether they are set.
const SECRET_INPUTS: [&str; 3] = ["hf-token", "secrets", "github-token"];

impl ActionInputs {
    /// Every input as `(name in action.yml, value)`.
    fn fields(&self) -> [(&'static str, &Option<String>); 35] {
        [
            ("hf-token", &self.hf_token),
            ("hf-endpoint", &self.hf_endpoint),
            ("space", &self.space),
            ("source", &self.source),
            ("secrets", &self.secrets),
            ("variables", &self.variables),
            ("frontend-url", &self.frontend_url),
            ("health-path", &self.health_path),
            ("app-url", &self.app_url),
            ("private", &self.private),
            ("visibility", &self.visibility),
            ("hardware", &self.hardware),
            ("factory-reboot", &self.factory_reboot),
            ("sleep-time", &self.sleep_time),
            ("wait", &self.wait),
            ("timeout-minutes", &self.timeout_minutes),
            ("dry-run", &self.dry_run),
            ("title", &self.title),
            ("emoji", &self.emoji),
            ("color-from", &self.color_from),
            ("color-to", &self.color_to),
            ("short-description", &self.short_description),
            ("github-token", &self.github_token),
            ("comment", &self.comment),
            ("preview", &self.preview),
            ("allow-degraded", &self.allow_degraded),
            ("rollback-on-failure", &self.rollback_on_failure),
            ("allow-forks", &self.allow_forks),
            ("github-deployment", &self.github_deployment),
            ("environment", &self.environment),
            ("preview-label", &self.preview_label),
            ("config", &self.config),
            ("command", &self.command),
            ("changed-since", &self.changed_since),
            ("max-age", &self.max_age),
        ]
    }
}

impl fmt::Debug for ActionInputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("ActionInputs");
        for (name, value) in self.fields() {
            if SECRET_INPUTS.contains(&name) {
                debug.field(name, &if value.is_some() { "<set>" } else { "<unset>" });
            } else {
                debug.field(name, value);
            }
        }
        debug.finish()
    }
}

/// The runner's own variables (`GITHUB_*`) that the action uses. Empty values read as unset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct RunnerEnv {
    /// `GITHUB_REPOSITORY`: `owner/name`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) repository: Option<String>,
    /// `GITHUB_API_URL`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) api_url: Option<String>,
    /// `GITHUB_SERVER_URL`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) server_url: Option<String>,
    /// `GITHUB_RUN_ID`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) run_id: Option<String>,
    /// `GITHUB_RUN_ATTEMPT`: above 1, a re-run, whose event payload may be stale.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) run_attempt: Option<String>,
    /// `GITHUB_SHA`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) sha: Option<String>,
    /// `GITHUB_EVENT_NAME`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) event_name: Option<String>,
    /// `GITHUB_EVENT_PATH`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) event_path: Option<String>,
    /// `GITHUB_OUTPUT`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) output: Option<String>,
    /// `GITHUB_STEP_SUMMARY`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) step_summary: Option<String>,
    /// `GITHUB_WORKSPACE`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) workspace: Option<String>,
}

impl RunnerEnv {
    /// Read from `(name, value)` pairs such as `std::env::vars()`.
    pub(crate) fn from_env<I>(vars: I) -> Result<Self, InputError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        envy::prefixed("GITHUB_").from_iter(vars).map_err(|e| {
            hf_deploy_core::Error::invalid_input(Field::Other("GITHUB_* variables"), e.to_string())
        })
    }

    /// `GITHUB_API_URL`, or `https://api.github.com`.
    pub(crate) fn api_url(&self) -> &str {
        self.api_url.as_deref().unwrap_or("https://api.github.com")
    }

    /// `GITHUB_SERVER_URL`, or `https://github.com`.
    pub(crate) fn server_url(&self) -> &str {
        self.server_url.as_deref().unwrap_or("https://github.com")
    }

    /// `GITHUB_REPOSITORY`, when set and of the form `owner/name`.
    pub(crate) fn repository(&self) -> Option<super::api::GitHubRepo> {
        self.repository
            .as_deref()
            .and_then(|r| super::api::GitHubRepo::parse(r).ok())
    }

    /// True for a re-run (`GITHUB_RUN_ATTEMPT` above 1): the runner hands it the first attempt's
    /// event payload, so labels and state in it may be stale.
    pub(crate) fn is_rerun(&self) -> bool {
        self.run_attempt
            .as_deref()
            .and_then(|a| a.trim().parse::<u32>().ok())
            .is_some_and(|attempt| attempt > 1)
    }
}

/// The spellings of `true` a workflow input accepts: YAML 1.2's core schema, as
/// `@actions/core`'s `getBooleanInput` reads it.
const TRUE_VALUES: [&str; 3] = ["true", "True", "TRUE"];
/// The spellings of `false`; see [`TRUE_VALUES`].
const FALSE_VALUES: [&str; 3] = ["false", "False", "FALSE"];

/// A boolean input; unset (`None`) gives `default`. Anything but the six spellings of
/// [`TRUE_VALUES`] and [`FALSE_VALUES`] (surrounding whitespace aside) is a bad input naming
/// `field`.
fn boolean(field: Field, value: Option<&str>, default: bool) -> Result<bool, InputError> {
    let Some(value) = value.map(str::trim) else {
        return Ok(default);
    };
    if TRUE_VALUES.contains(&value) {
        return Ok(true);
    }
    if FALSE_VALUES.contains(&value) {
        return Ok(false);
    }
    let accepted: Vec<String> = TRUE_VALUES
        .iter()
        .chain(&FALSE_VALUES)
        .map(|v| format!("`{v}`"))
        .collect();
    Err(hf_deploy_core::Error::invalid_input_hint(
        field,
        format!("`{}` is not a boolean", value.escape_debug()),
        format!("use one of {} (YAML 1.2 core schema)", accepted.join(", ")),
    ))
}

/// How a workflow words what the library names: fields as the input names of `action.yml`,
/// commands as the command line's.
pub(crate) const SPELLING: Spelling = Spelling::new(spelling, crate::cli::command);

/// How a workflow spells each field: the input names of `action.yml`.
pub(crate) fn spelling(field: Field) -> &'static str {
    match field {
        Field::Token => "hf-token",
        Field::Timeout => "timeout-minutes",
        Field::SecretsFile => "secrets-file",
        Field::FrontendUrl => "frontend-url",
        Field::HealthPath => "health-path",
        Field::AppUrl => "app-url",
        Field::ApiUrl => "api-url",
        Field::DryRun => "dry-run",
        Field::AllowDegraded => "allow-degraded",
        Field::ColorFrom => "color-from",
        Field::ColorTo => "color-to",
        Field::ShortDescription => "short-description",
        Field::FactoryReboot => "factory-reboot",
        Field::SleepTime => "sleep-time",
        Field::RollbackOnFailure => "rollback-on-failure",
        other => other.name(),
    }
}

/// The checked action-only inputs, and the raw inputs shared with the command line (checked
/// by [`hf_deploy_core::inputs::resolve`]).
#[derive(Debug, Clone)]
pub(crate) struct ActionConfig {
    /// Hub token.
    pub(crate) hf_token: SecretString,
    /// Target Space (for a preview, the base Space: see `api::preview_space`).
    pub(crate) space: SpaceId,
    /// GitHub token, when given.
    pub(crate) github_token: Option<SecretString>,
    /// Post or update the pull-request comment.
    pub(crate) comment: bool,
    /// Deploy pull requests to `{space}-pr-{number}`.
    pub(crate) preview: bool,
    /// Deploy pull requests from forks (a stranger's code with the Space's secrets).
    pub(crate) allow_forks: bool,
    /// Record deploys as GitHub deployments with statuses.
    pub(crate) github_deployment: bool,
    /// The GitHub deployment's environment name, when given.
    pub(crate) environment: Option<String>,
    /// The label a pull request must carry for its preview, when given.
    pub(crate) preview_label: Option<String>,
    /// Everything the deploy uses, as given (`space` and `source` filled in).
    pub(crate) raw: RawInputs,
}

/// The Space variable that marks a preview Space as made by this tool for one pull request:
/// `{owner}/{repo}#{number}`. Reserved: the `variables` input may not set it.
pub(crate) const PREVIEW_MARK: &str = "HF_DEPLOY_PREVIEW";

/// GitHub's longest environment name.
const ENVIRONMENT_MAX: usize = 255;
/// GitHub's longest label name.
const LABEL_MAX: usize = 50;

/// A name input (`environment`, `preview-label`): trimmed, at most `max` characters, no
/// control character; `None` when not given.
fn name_input(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, InputError> {
    let Some(value) = value.map(str::trim) else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(hf_deploy_core::Error::invalid_input(
            Field::Other(field),
            format!("longer than GitHub's {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(hf_deploy_core::Error::invalid_input(
            Field::Other(field),
            "it contains a line break or another control character",
        ));
    }
    Ok(Some(value.to_string()))
}

/// The rule of a name input (`environment`, `preview-label`) alone, for a value that comes from
/// elsewhere (a key of `hf-deploy.toml`).
pub(crate) fn check_name_input(field: &'static str, value: &str) -> Result<(), InputError> {
    let max = if field == "environment" {
        ENVIRONMENT_MAX
    } else {
        LABEL_MAX
    };
    name_input(field, Some(value), max).map(drop)
}

/// `variables` may not set [`PREVIEW_MARK`]: a copied mark would let a pull request's closing
/// delete a Space this tool did not make for it.
fn check_reserved_variables(entries: &[RawEntry]) -> Result<(), InputError> {
    let reserved = entries.iter().find(|entry| {
        entry
            .text
            .split_once('=')
            .is_some_and(|(key, _)| key.trim() == PREVIEW_MARK)
    });
    match reserved {
        Some(entry) => Err(hf_deploy_core::Error::invalid_input_hint(
            Field::Variables,
            format!(
                "line {}: `{PREVIEW_MARK}` is reserved for the preview mark",
                entry.line.unwrap_or(1)
            ),
            "leave it out: the action sets it on the preview Spaces it creates",
        )),
        None => Ok(()),
    }
}

/// The `frontend-url` input's origins: comma or newline separated, blanks dropped.
fn origins(text: Option<&str>) -> Vec<String> {
    text.unwrap_or_default()
        .split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// What a run of the action does (`command`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActionCommand {
    /// Deploy the Space (the default).
    Deploy,
    /// Print the matrix of the Spaces of `hf-deploy.toml` (the `matrix` output).
    Plan,
    /// Sweep away the stale previews of the Space.
    PreviewsPrune,
    /// Push the tree of the deploy before the Space's head back, wait and verify.
    Rollback,
}

/// The inputs of `command: previews-prune`, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PruneInputs {
    /// `dry-run`: list only.
    pub(crate) dry_run: bool,
    /// `max-age`: days after which a preview goes whatever its pull request.
    pub(crate) max_age: Option<u32>,
}

impl ActionInputs {
    /// `command`: `deploy` when not given, `plan`, `previews-prune` or `rollback`.
    pub(crate) fn command(&self) -> Result<ActionCommand, InputError> {
        match self.command.as_deref().map(str::trim) {
            None | Some("deploy") => Ok(ActionCommand::Deploy),
            Some("plan") => Ok(ActionCommand::Plan),
            Some("previews-prune") => Ok(ActionCommand::PreviewsPrune),
            Some("rollback") => Ok(ActionCommand::Rollback),
            Some(other) => Err(hf_deploy_core::Error::invalid_input_hint(
                Field::Other("command"),
                format!("`{}` is not a command of this action", other.escape_debug()),
                "use `deploy` (the default), `plan`, `previews-prune` or `rollback`",
            )),
        }
    }

    /// The inputs of `command: previews-prune`: `dry-run` and `max-age` (whole days, 0 to
    /// 36500).
    pub(crate) fn prune_inputs(&self) -> Result<PruneInputs, InputError> {
        let max_age = match self.max_age.as_deref().map(str::trim) {
            None => None,
            Some(text) => match text.parse::<u32>() {
                Ok(days) if days <= 36_500 => Some(days),
                _ => {
                    return Err(hf_deploy_core::Error::invalid_input_hint(
                        Field::Other("max-age"),
                        format!("`{}` is not a whole number of days", text.escape_debug()),
                        "give the days after which a preview is deleted whatever its pull request, e.g. `14`",
                    ));
                }
            },
        };
        Ok(PruneInputs {
            dry_run: boolean(Field::DryRun, self.dry_run.as_deref(), false)?,
            max_age,
        })
    }
}

/// The inputs about the Space itself (`visibility`, `factory-reboot`, `sleep-time`), into `raw`
/// (the plan checks the words and numbers).
fn runtime_inputs(
    raw: &mut RawInputs,
    visibility: Option<String>,
    factory_reboot: Option<String>,
    sleep_time: Option<String>,
) -> Result<(), InputError> {
    raw.visibility = visibility;
    raw.factory_reboot = boolean(Field::FactoryReboot, factory_reboot.as_deref(), false)?;
    raw.sleep_time = sleep_time;
    Ok(())
}

impl ActionInputs {
    /// Read the inputs from `(name, value)` pairs such as `std::env::vars()`. Only `INPUT_*`
    /// names are looked at; unknown inputs are ignored.
    pub(crate) fn from_env<I>(vars: I) -> Result<Self, InputError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        envy::prefixed("INPUT_").from_iter(vars).map_err(|e| {
            // envy's messages name a field and the expected type, never a value.
            hf_deploy_core::Error::invalid_input(Field::Other("action inputs"), e.to_string())
        })
    }

    /// `::add-mask::` commands for every secret the inputs hold: both tokens and every value
    /// of the `secrets` input (each line of it, parsed leniently so that even a malformed list
    /// is masked before anything is printed). Print this before any other output.
    pub(crate) fn mask_commands(&self) -> String {
        let mut out = String::new();
        for (_, value) in self.secret_values() {
            out.push_str(&commands::mask(&value));
        }
        out
    }

    /// Every secret value the inputs hold, as [`ActionInputs::mask_commands`] masks them, with
    /// its key when it has one: both tokens, and every value of the `secrets` input (as written
    /// and trimmed).
    pub(crate) fn secret_values(&self) -> Vec<(Option<&str>, String)> {
        let mut values: Vec<(Option<&str>, String)> = [&self.hf_token, &self.github_token]
            .into_iter()
            .flatten()
            .map(|token| (None, token.clone()))
            .collect();
        if let Some(secrets) = &self.secrets {
            for line in secrets.lines() {
                let line = line.trim_end_matches('\r');
                if line.trim().is_empty() || line.trim_start().starts_with('#') {
                    continue;
                }
                match line.split_once('=') {
                    Some((key, value)) => {
                        let key = Some(key.trim());
                        values.push((key, value.to_string()));
                        if value.trim() != value {
                            values.push((key, value.trim().to_string()));
                        }
                    }
                    None => values.push((None, line.to_string())),
                }
            }
        }
        values
    }

    /// Check the action-only inputs and fill the raw inputs shared with the command line.
    /// `workspace` is where a relative `source` lives; `github_sha` (the runner's `GITHUB_SHA`)
    /// names the deployed commit in the Space's commit message.
    pub(crate) fn validate(
        self,
        workspace: &Path,
        github_sha: Option<&str>,
    ) -> Result<ActionConfig, InputError> {
        // `hf-token` may be empty: the action then deploys keyless (see `github/oidc.rs`).
        let missing: Vec<&str> = [("space", &self.space)]
            .into_iter()
            .filter(|(_, v)| v.is_none())
            .map(|(name, _)| name)
            .collect();
        if let Some(first) = missing.first() {
            let names = missing
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" and ");
            let field = if *first == "space" {
                Field::Space
            } else {
                Field::Token
            };
            return Err(hf_deploy_core::Error::invalid_input_hint(
                field,
                if missing.len() == 1 {
                    format!("required input {names} is not set")
                } else {
                    format!("required inputs {names} are not set")
                },
                "set it under `with:` in the workflow step; for a token use a secret, e.g. `hf-token: ${{ secrets.HF_TOKEN }}` (secrets are not given to pull requests from forks)",
            ));
        }
        let hf_token = SecretString::new(self.hf_token.unwrap_or_default().trim().to_string());
        let space_text = self.space.unwrap_or_default().trim().to_string();
        let space = SpaceId::parse(&space_text, Field::Space)?;

        if let Some(endpoint) = &self.hf_endpoint {
            hub_endpoint(endpoint)?;
        }
        let source = source_in_workspace(
            workspace,
            self.source.as_deref().map(str::trim).unwrap_or("backend"),
        )?;
        let frontend_urls = origins(self.frontend_url.as_deref());
        let timeout = match self.timeout_minutes.as_deref() {
            None => Duration::from_secs(20 * 60),
            Some(text) => inputs::minutes(Field::Timeout, text)?,
        };
        let variables = RawEntry::lines(self.variables.as_deref().unwrap_or_default());
        check_reserved_variables(&variables)?;
        let mut raw = RawInputs {
            space: Some(space_text),
            commit_message: crate::commit::message(github_sha, &source),
            source: source.clone(),
            secrets: RawEntry::lines(self.secrets.as_deref().unwrap_or_default()),
            secrets_file: self.secrets_file,
            variables,
            frontend_urls,
            health_path: self.health_path,
            app_url: self.app_url,
            private: boolean(Field::Private, self.private.as_deref(), false)?,
            hardware: self.hardware,
            wait: boolean(Field::Wait, self.wait.as_deref(), true)?,
            timeout,
            dry_run: boolean(Field::DryRun, self.dry_run.as_deref(), false)?,
            allow_degraded: boolean(Field::AllowDegraded, self.allow_degraded.as_deref(), false)?,
            rollback_on_failure: boolean(
                Field::RollbackOnFailure,
                self.rollback_on_failure.as_deref(),
                false,
            )?,
            source_commit: crate::commit::source_commit(github_sha, &source),
            title: self.title,
            emoji: self.emoji,
            color_from: self.color_from,
            color_to: self.color_to,
            short_description: self.short_description,
            ..RawInputs::default()
        };
        runtime_inputs(
            &mut raw,
            self.visibility,
            self.factory_reboot,
            self.sleep_time,
        )?;
        Ok(ActionConfig {
            hf_token,
            space,
            github_token: self
                .github_token
                .map(|t| SecretString::new(t.trim().to_string())),
            comment: boolean(Field::Other("comment"), self.comment.as_deref(), true)?,
            preview: boolean(Field::Other("preview"), self.preview.as_deref(), false)?,
            allow_forks: boolean(
                Field::Other("allow-forks"),
                self.allow_forks.as_deref(),
                false,
            )?,
            github_deployment: boolean(
                Field::Other("github-deployment"),
                self.github_deployment.as_deref(),
                true,
            )?,
            environment: name_input("environment", self.environment.as_deref(), ENVIRONMENT_MAX)?,
            preview_label: name_input("preview-label", self.preview_label.as_deref(), LABEL_MAX)?,
            raw,
        })
    }
}

/// The `hf-endpoint` input: an http(s) URL without credentials (checked here, so that the
/// error names the input rather than `HF_ENDPOINT`).
fn hub_endpoint(value: &str) -> Result<(), InputError> {
    let field = Field::Other("hf-endpoint");
    inputs::check_value(Field::Endpoint, value).map_err(|_| {
        hf_deploy_core::Error::invalid_input_hint(
            field,
            "it is not an http(s) URL without credentials",
            "give the Hub's base URL, e.g. `https://huggingface.co`, or leave it empty",
        )
    })?;
    Ok(())
}

/// The `source` input as a path: relative to `workspace`, or absolute inside it. A path leading
/// out of the workspace (`../x`, `/srv/x`) is refused: the backend is the repository's. The
/// check is on the path as written (`.` and `..` resolved, links not followed).
fn source_in_workspace(workspace: &Path, source: &str) -> Result<PathBuf, InputError> {
    let given = Path::new(source);
    let base = std::path::absolute(workspace).unwrap_or_else(|_| workspace.to_path_buf());
    let full = if given.is_absolute() {
        given.to_path_buf()
    } else {
        base.join(given)
    };
    let inside = lexical(&full)
        .zip(lexical(&base))
        .is_some_and(|(full, base)| full.starts_with(base));
    if !inside {
        return Err(hf_deploy_core::Error::invalid_input_hint(
            Field::Source,
            format!(
                "`{}` leads out of the workspace `{}`",
                source.escape_debug(),
                workspace.display()
            ),
            "give the backend folder relative to the repository root, e.g. `backend`",
        ));
    }
    Ok(if given.is_absolute() {
        given.to_path_buf()
    } else {
        workspace.join(given)
    })
}

/// `path` with `.` and `..` resolved as written; `None` when a `..` climbs above its start.
fn lexical(path: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    return None;
                }
                out.pop();
            }
            other => out.push(other),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use hf_deploy_core::DeployOptions;

    use super::*;

    const TOKEN: &str = "hf_fake_token_for_tests_0000";

    /// What the runner passes to `docker run -e` for a typical step: every declared input,
    /// with `""` for those not given, plus the runner's own variables.
    fn runner_env(overrides: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = [
            ("INPUT_HF-TOKEN", TOKEN),
            ("INPUT_SPACE", "alice/rag-chatbot"),
            ("INPUT_SOURCE", "backend"),
            (
                "INPUT_SECRETS",
                "GEMINI_API_KEY=AIzaSyA-gemini-value\n# the vector store\nQDRANT_URL=https://abc.qdrant.io:6333\n\nQDRANT_API_KEY=qd-key=with=equals\nDATABASE_URL=postgresql://u:p@db/x\n",
            ),
            ("INPUT_VARIABLES", "LOG_LEVEL=info\n"),
            ("INPUT_FRONTEND-URL", "https://my-app.vercel.app, http://localhost:3000\nhttps://my-app.vercel.app/"),
            ("INPUT_HEALTH-PATH", "/api/health"),
            ("INPUT_APP-URL", ""),
            ("INPUT_PRIVATE", "false"),
            ("INPUT_HARDWARE", ""),
            ("INPUT_WAIT", "true"),
            ("INPUT_TIMEOUT-MINUTES", "20"),
            ("INPUT_DRY-RUN", "false"),
            ("INPUT_TITLE", "RAG Chatbot"),
            ("INPUT_EMOJI", ""),
            ("INPUT_COLOR-FROM", ""),
            ("INPUT_COLOR-TO", ""),
            ("INPUT_SHORT-DESCRIPTION", ""),
            ("INPUT_GITHUB-TOKEN", "ghs_16C7e42F292c6912E7710c838347Ae178B4a"),
            ("INPUT_COMMENT", "true"),
            ("INPUT_PREVIEW", "false"),
            ("GITHUB_REPOSITORY", "alice/app"),
            ("GITHUB_WORKSPACE", "/github/workspace"),
            ("HOME", "/github/home"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (key, value) in overrides {
            match vars.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value.to_string(),
                None => vars.push((key.to_string(), value.to_string())),
            }
        }
        vars
    }

    fn config(overrides: &[(&str, &str)]) -> Result<ActionConfig, InputError> {
        ActionInputs::from_env(runner_env(overrides))?
            .validate(Path::new("/github/workspace"), None)
    }

    /// The action-only checks, then the shared step (with the example backend as `source`).
    fn resolved(overrides: &[(&str, &str)]) -> Result<DeployOptions, InputError> {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rag-chatbot");
        let config = ActionInputs::from_env(runner_env(overrides))?.validate(&workspace, None)?;
        inputs::resolve(&config.raw)
    }

    /// The error as a workflow reads it.
    fn error_text(overrides: &[(&str, &str)]) -> String {
        let error = match resolved(overrides) {
            Ok(_) => panic!("expected an input error for {overrides:?}"),
            Err(e) => e,
        };
        assert!(error.is_usage(), "{error}");
        format!(
            "{} | hint: {}",
            error.message_with(SPELLING),
            error.hint_with(SPELLING).unwrap_or_default()
        )
    }

    #[test]
    fn reads_a_full_runner_environment_with_hyphenated_names() {
        let inputs = ActionInputs::from_env(runner_env(&[])).expect("inputs");
        assert_eq!(inputs.hf_token.as_deref(), Some(TOKEN));
        assert_eq!(inputs.timeout_minutes.as_deref(), Some("20"));
        assert!(inputs.app_url.is_none(), "\"\" must read as unset");
        assert!(inputs.hardware.is_none());

        let config = inputs
            .validate(Path::new("/github/workspace"), None)
            .expect("valid");
        assert_eq!(config.hf_token.expose(), TOKEN);
        assert_eq!(config.space.to_string(), "alice/rag-chatbot");
        assert_eq!(
            config.raw.source,
            PathBuf::from("/github/workspace/backend")
        );
        assert_eq!(
            config.raw.secrets.len(),
            4,
            "comments and blank lines skipped"
        );
        assert_eq!(config.raw.secrets[2].line, Some(5));
        assert_eq!(config.raw.timeout, Duration::from_secs(20 * 60));
        assert!(config.comment && !config.preview && config.github_token.is_some());
        assert!(config.raw.wait && !config.raw.private && !config.raw.dry_run);

        let options = resolved(&[]).expect("valid");
        let names: Vec<&str> = options
            .settings
            .secrets
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            names,
            [
                "ALLOWED_ORIGINS",
                "DATABASE_URL",
                "GEMINI_API_KEY",
                "QDRANT_API_KEY",
                "QDRANT_URL"
            ]
        );
        assert_eq!(
            options.settings.secrets["QDRANT_API_KEY"].expose(),
            "qd-key=with=equals",
            "split on the first `=` only"
        );
        assert_eq!(options.settings.variables["LOG_LEVEL"], "info");
        assert_eq!(
            options.frontend_origins,
            ["https://my-app.vercel.app", "http://localhost:3000"]
        );
        assert_eq!(options.health_path, "/api/health");
        assert_eq!(options.scaffold.config.title, "RAG Chatbot");

        let debug = format!(
            "{config:?} {:?} {options:?}",
            ActionInputs::from_env(runner_env(&[])).expect("inputs")
        );
        for secret in [TOKEN, "AIzaSyA-gemini-value", "qd-key", "ghs_16C7"] {
            assert!(!debug.contains(secret), "Debug leaks a secret: {debug}");
        }
    }

    #[test]
    fn runner_variables_are_read_with_defaults() {
        let env = runner_env(&[
            ("GITHUB_API_URL", "https://ghe.example.com/api/v3"),
            ("GITHUB_RUN_ID", "1658821493"),
            ("GITHUB_EVENT_PATH", "/github/workflow/event.json"),
            ("GITHUB_OUTPUT", "/github/file_commands/set_output_abc"),
            ("GITHUB_STEP_SUMMARY", ""),
        ]);
        let runner = RunnerEnv::from_env(env).expect("runner env");
        assert_eq!(runner.repository.as_deref(), Some("alice/app"));
        assert_eq!(runner.api_url(), "https://ghe.example.com/api/v3");
        assert_eq!(runner.server_url(), "https://github.com");
        assert_eq!(runner.run_id.as_deref(), Some("1658821493"));
        assert_eq!(
            runner.event_path.as_deref(),
            Some("/github/workflow/event.json")
        );
        assert_eq!(
            runner.output.as_deref(),
            Some("/github/file_commands/set_output_abc")
        );
        assert_eq!(runner.step_summary, None);
        assert_eq!(runner.workspace.as_deref(), Some("/github/workspace"));
        assert_eq!(
            RunnerEnv::from_env(Vec::new()).expect("empty").api_url(),
            "https://api.github.com"
        );
    }

    #[test]
    fn empty_inputs_take_the_defaults() {
        let blank: Vec<(&str, &str)> = [
            "INPUT_SOURCE",
            "INPUT_SECRETS",
            "INPUT_VARIABLES",
            "INPUT_FRONTEND-URL",
            "INPUT_HEALTH-PATH",
            "INPUT_PRIVATE",
            "INPUT_WAIT",
            "INPUT_TIMEOUT-MINUTES",
            "INPUT_DRY-RUN",
            "INPUT_TITLE",
            "INPUT_GITHUB-TOKEN",
            "INPUT_COMMENT",
            "INPUT_PREVIEW",
        ]
        .iter()
        .map(|k| (*k, ""))
        .collect();
        let config = config(&blank).expect("valid");
        assert_eq!(
            config.raw.source,
            PathBuf::from("/github/workspace/backend")
        );
        assert!(
            config.raw.secrets.is_empty()
                && config.raw.variables.is_empty()
                && config.raw.frontend_urls.is_empty()
        );
        assert_eq!(config.raw.health_path, None);
        assert_eq!(config.raw.timeout, Duration::from_secs(1200));
        assert!(config.raw.wait && config.comment && !config.raw.private);
        assert!(!config.raw.dry_run && !config.preview);
        assert!(config.raw.title.is_none() && config.github_token.is_none());
    }

    #[test]
    fn source_stays_in_the_workspace() {
        for source in [
            "backend",
            "./backend",
            "apps/../backend",
            "/github/workspace/backend",
            ".",
        ] {
            let config = config(&[("INPUT_SOURCE", source)]).expect(source);
            assert!(
                config.raw.source.starts_with("/github/workspace"),
                "{source}"
            );
        }
        for source in [
            "../backend",
            "/srv/backend",
            "backend/../../x",
            "/github/workspace/../x",
            "/github",
        ] {
            let error = config(&[("INPUT_SOURCE", source)]).expect_err(source);
            assert_eq!(error.field(), Some(Field::Source), "{source}");
            let text = error.message_with(SPELLING);
            assert!(
                text.starts_with(&format!(
                    "invalid `source`: `{source}` leads out of the workspace"
                )),
                "{text}"
            );
        }
    }

    #[test]
    fn hf_endpoint_is_an_http_url_without_credentials() {
        config(&[("INPUT_HF-ENDPOINT", "http://127.0.0.1:7861/")]).expect("valid");
        for bad in [
            "not a url",
            "ftp://hub.example.com",
            "https://user:pw@hub.example.com",
        ] {
            let error = config(&[("INPUT_HF-ENDPOINT", bad)]).expect_err(bad);
            let text = error.message_with(SPELLING);
            assert!(text.starts_with("invalid `hf-endpoint`"), "{text}");
            assert!(!text.contains("pw"), "{text}");
        }
    }

    #[test]
    fn missing_required_inputs_are_named() {
        // `hf-token` may be empty (keyless deploys); `space` may not.
        let text = error_text(&[("INPUT_HF-TOKEN", ""), ("INPUT_SPACE", "  ")]);
        assert!(text.contains("`space`"), "{text}");
        assert!(!text.contains("`hf-token`"), "{text}");
    }

    #[test]
    fn booleans_follow_the_yaml_core_schema() {
        for (value, expected) in [
            ("true", true),
            ("True", true),
            ("TRUE", true),
            ("false", false),
            ("False", false),
            ("FALSE", false),
        ] {
            let config = config(&[("INPUT_PRIVATE", value), ("INPUT_WAIT", value)]).expect("valid");
            assert_eq!(config.raw.private, expected, "{value}");
            assert_eq!(config.raw.wait, expected, "{value}");
        }
        let text = error_text(&[("INPUT_DRY-RUN", "yes")]);
        assert!(
            text.starts_with("invalid `dry-run`: `yes` is not a boolean"),
            "{text}"
        );
        for accepted in TRUE_VALUES.iter().chain(&FALSE_VALUES) {
            assert!(text.contains(&format!("`{accepted}`")), "{text}");
        }
        assert_eq!(
            text,
            "invalid `dry-run`: `yes` is not a boolean | hint: use one of `true`, `True`, `TRUE`, `false`, `False`, `FALSE` (YAML 1.2 core schema)"
        );
        let padded = config(&[("INPUT_DRY-RUN", " true\n")]).expect("valid");
        assert!(padded.raw.dry_run, "surrounding whitespace is ignored");
        for bad in ["on", "1", "tRUE", "y"] {
            let text = error_text(&[("INPUT_PREVIEW", bad)]);
            assert!(text.contains("invalid `preview`"), "{text}");
        }
    }

    #[test]
    fn booleans_are_the_yaml_core_schema_spellings() {
        assert!(boolean(Field::Private, Some(" True "), false).unwrap());
        assert!(!boolean(Field::Wait, Some("FALSE"), true).unwrap());
        assert!(boolean(Field::Wait, None, true).unwrap());
        for bad in ["yes", "1", "on", "tRUE"] {
            let error = boolean(Field::DryRun, Some(bad), false).expect_err(bad);
            assert_eq!(error.field(), Some(Field::DryRun));
            assert!(error.to_string().contains("is not a boolean"), "{error}");
        }
    }

    #[test]
    fn event_inputs_are_read_and_checked() {
        let defaults = config(&[]).expect("defaults");
        assert!(!defaults.allow_forks && defaults.github_deployment);
        assert_eq!((defaults.environment, defaults.preview_label), (None, None));
        let config = config(&[
            ("INPUT_ALLOW-FORKS", "true"),
            ("INPUT_GITHUB-DEPLOYMENT", "False"),
            ("INPUT_ENVIRONMENT", " previews "),
            ("INPUT_PREVIEW-LABEL", "deploy preview"),
        ])
        .expect("valid");
        assert!(config.allow_forks && !config.github_deployment);
        assert_eq!(config.environment.as_deref(), Some("previews"));
        assert_eq!(config.preview_label.as_deref(), Some("deploy preview"));

        let text = error_text(&[("INPUT_ALLOW-FORKS", "yes")]);
        assert!(text.starts_with("invalid `allow-forks`"), "{text}");
        let text = error_text(&[("INPUT_PREVIEW-LABEL", &"x".repeat(51))]);
        assert!(
            text.starts_with("invalid `preview-label`: longer than GitHub's 50 characters"),
            "{text}"
        );
        let text = error_text(&[("INPUT_ENVIRONMENT", "a\u{7}b")]);
        assert!(text.starts_with("invalid `environment`"), "{text}");
        let text = error_text(&[("INPUT_VARIABLES", "LOG_LEVEL=info\nHF_DEPLOY_PREVIEW=a/b#1")]);
        assert!(
            text.starts_with(
                "invalid `variables`: line 2: `HF_DEPLOY_PREVIEW` is reserved for the preview mark"
            ),
            "{text}"
        );
    }

    #[test]
    fn timeout_minutes_must_be_a_positive_integer() {
        assert_eq!(
            config(&[("INPUT_TIMEOUT-MINUTES", " 45 ")])
                .expect("valid")
                .raw
                .timeout,
            Duration::from_secs(2700)
        );
        for bad in ["0", "-5", "1.5", "twenty", "99999"] {
            let text = error_text(&[("INPUT_TIMEOUT-MINUTES", bad)]);
            assert!(
                text.contains("invalid `timeout-minutes`") && text.contains(bad),
                "{text}"
            );
        }
    }

    #[test]
    fn multiline_lists_report_the_line_number_and_never_the_value() {
        let cases = [
            (
                "GOOD=ok-s3cr3t\nthis-line-has-no-equals-sign-s3cr3t",
                "line 2: the line is not `KEY=VALUE`",
            ),
            ("# comment\n\n=orphan-s3cr3t", "line 3: the key is empty"),
            (
                "A=first-s3cr3t\nB=x\nA=second-s3cr3t",
                "line 3: secret `A` is given twice with different values (first on line 1)",
            ),
            (
                "GEMINI_API_KEY=",
                "line 1: `GEMINI_API_KEY` has an empty value",
            ),
            (
                "OK=1\n\n\nPAD= padded-s3cr3t ",
                "line 4: the value of `PAD` starts or ends with whitespace",
            ),
            (
                "BAD KEY=spaced-s3cr3t",
                "line 1: `BAD...` is not a valid key",
            ),
        ];
        for (text, expected) in cases {
            let message = error_text(&[("INPUT_SECRETS", text)]);
            assert!(
                message.starts_with(&format!("invalid `secrets`: {expected}")),
                "{message}"
            );
            for value in ["s3cr3t", "orphan", "padded"] {
                assert!(
                    !message.contains(value),
                    "the message shows a value: {message}"
                );
            }
        }
        let message = error_text(&[("INPUT_VARIABLES", "LOG_LEVEL=info\r\nnot a pair")]);
        assert!(
            message.starts_with("invalid `variables`: line 2:"),
            "{message}"
        );
    }

    #[test]
    fn frontend_urls_and_paths_are_checked() {
        let text = error_text(&[(
            "INPUT_FRONTEND-URL",
            "https://ok.example.com,https://bad.example.com/path",
        )]);
        assert!(text.contains("invalid `frontend-url`"), "{text}");
        let text = error_text(&[("INPUT_HEALTH-PATH", "api/health")]);
        assert!(text.contains("invalid `health-path`"), "{text}");
        let text = error_text(&[("INPUT_SPACE", "not-a-space-id")]);
        assert!(text.contains("invalid `space`"), "{text}");
        let text = error_text(&[("INPUT_COLOR-FROM", "orange")]);
        assert!(text.starts_with("invalid `color-from`"), "{text}");
        let options =
            resolved(&[("INPUT_APP-URL", "https://proxy.example.com/app/")]).expect("valid");
        assert_eq!(
            options.app_url.as_deref(),
            Some("https://proxy.example.com/app")
        );
    }

    #[test]
    fn every_secret_is_masked_before_validation() {
        let inputs = ActionInputs::from_env(runner_env(&[(
            "INPUT_SECRETS",
            "A=one-value\nB=two%value\n  stray-line-without-equals  \nC=",
        )]))
        .expect("inputs");
        let masks = inputs.mask_commands();
        let lines: Vec<&str> = masks.lines().collect();
        for expected in [
            format!("::add-mask::{TOKEN}"),
            "::add-mask::ghs_16C7e42F292c6912E7710c838347Ae178B4a".to_string(),
            "::add-mask::one-value".to_string(),
            "::add-mask::two%25value".to_string(),
            "::add-mask::  stray-line-without-equals  ".to_string(),
        ] {
            assert!(
                lines.contains(&expected.as_str()),
                "missing {expected:?} in {masks}"
            );
        }
        assert!(
            lines.iter().all(|l| l.len() > "::add-mask::".len()),
            "no empty masks: {masks}"
        );
        // The list is malformed (line 3), yet everything was masked above.
        let config = inputs
            .validate(Path::new("/w"), None)
            .expect("action-only inputs are fine");
        let error = inputs::resolve(&config.raw).expect_err("the malformed list is refused");
        assert_eq!(error.field(), Some(Field::Secrets), "{error}");
    }

    #[test]
    fn action_yml_declares_exactly_the_inputs_read_here() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../action.yml");
        let text = std::fs::read_to_string(&path).expect("action.yml at the repository root");
        let action: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("valid YAML");
        let inputs = action["inputs"].as_mapping().expect("inputs");
        let declared: Vec<&str> = inputs.keys().filter_map(|k| k.as_str()).collect();
        let read: Vec<&str> = ActionInputs::default()
            .fields()
            .iter()
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(
            declared, read,
            "action.yml inputs and ActionInputs fields, in order"
        );

        // Each declared input, as the runner names it, lands in its own field.
        for name in &declared {
            let env = vec![(format!("INPUT_{}", name.to_uppercase()), "x".to_string())];
            let inputs = ActionInputs::from_env(env).expect("inputs");
            let set: Vec<&str> = inputs
                .fields()
                .iter()
                .filter(|(_, v)| v.is_some())
                .map(|(n, _)| *n)
                .collect();
            assert_eq!(set, [*name]);
        }

        // Defaults of interface.md.
        let default = |name: &str| inputs[name]["default"].as_str().map(str::to_string);
        assert_eq!(
            default("github-token").as_deref(),
            Some("${{ github.token }}")
        );
        for (name, value) in [
            ("source", "backend"),
            ("health-path", "/api/health"),
            ("private", "false"),
            ("wait", "true"),
            ("timeout-minutes", "20"),
            ("dry-run", "false"),
            ("comment", "true"),
            ("preview", "false"),
            ("allow-degraded", "false"),
            ("allow-forks", "false"),
            ("rollback-on-failure", "false"),
            ("github-deployment", "true"),
            ("environment", ""),
            ("preview-label", ""),
            ("config", ""),
            ("command", "deploy"),
            ("changed-since", ""),
        ] {
            assert_eq!(default(name).as_deref(), Some(value), "default of `{name}`");
        }
        assert!(
            inputs["allow-forks"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("secrets") && d.contains("pull_request_target")),
            "the opt-in says what it risks"
        );
        // With an `hf-deploy.toml`, `space` picks its entry and may be left out.
        assert_eq!(inputs["space"]["required"].as_bool(), Some(false));
        // Empty `hf-token`: a keyless deploy (Trusted Publishers).
        assert_eq!(inputs["hf-token"]["required"].as_bool(), Some(false));
        assert_eq!(default("hf-token").as_deref(), Some(""));
        assert_eq!(default("hf-endpoint").as_deref(), Some(""));
        for (name, input) in inputs {
            assert!(
                input["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{name:?}"
            );
        }

        let outputs: Vec<&str> = action["outputs"]
            .as_mapping()
            .expect("outputs")
            .keys()
            .filter_map(|k| k.as_str())
            .collect();
        assert_eq!(
            outputs,
            [
                "space-id",
                "space-url",
                "app-url",
                "docs-url",
                "health-url",
                "commit-sha",
                "changed",
                "stage",
                "health",
                "rolled-back",
                "matrix",
                "pruned"
            ]
        );
        assert_eq!(action["runs"]["using"].as_str(), Some("docker"));
        assert_eq!(action["runs"]["args"][0].as_str(), Some("action"));
    }

    #[test]
    fn visibility_factory_reboot_sleep_time_and_the_prune_inputs() {
        let options = resolved(&[
            ("INPUT_VISIBILITY", "protected"),
            ("INPUT_FACTORY-REBOOT", "true"),
            ("INPUT_SLEEP-TIME", "3600"),
        ])
        .expect("valid");
        assert_eq!(
            options.visibility,
            Some(hf_deploy_core::Visibility::Protected)
        );
        assert!(options.factory_reboot);
        assert_eq!(options.sleep_time, Some(3600));

        let text = error_text(&[("INPUT_VISIBILITY", "public"), ("INPUT_PRIVATE", "true")]);
        assert!(
            text.contains("`visibility`") && text.contains("`private`"),
            "{text}"
        );
        let text = error_text(&[("INPUT_SLEEP-TIME", "soon")]);
        assert!(text.starts_with("invalid `sleep-time`"), "{text}");
        let error = config(&[("INPUT_FACTORY-REBOOT", "yes")]).expect_err("not a boolean");
        assert!(
            error.message_with(SPELLING).contains("`factory-reboot`"),
            "{error}"
        );

        let inputs =
            |given: &[(&str, &str)]| ActionInputs::from_env(runner_env(given)).expect("inputs");
        assert_eq!(inputs(&[]).command().unwrap(), ActionCommand::Deploy);
        assert_eq!(
            inputs(&[("INPUT_COMMAND", " previews-prune ")])
                .command()
                .unwrap(),
            ActionCommand::PreviewsPrune
        );
        let error = inputs(&[("INPUT_COMMAND", "prune")])
            .command()
            .expect_err("unknown");
        assert!(
            error.message_with(SPELLING).contains("`command`"),
            "{error}"
        );
        let prune = inputs(&[("INPUT_MAX-AGE", "14"), ("INPUT_DRY-RUN", "true")])
            .prune_inputs()
            .unwrap();
        assert_eq!(
            prune,
            PruneInputs {
                dry_run: true,
                max_age: Some(14)
            }
        );
        for bad in ["-1", "two weeks", "99999"] {
            let error = inputs(&[("INPUT_MAX-AGE", bad)])
                .prune_inputs()
                .expect_err(bad);
            assert!(
                error.message_with(SPELLING).contains("`max-age`"),
                "{error}"
            );
        }
    }
}
