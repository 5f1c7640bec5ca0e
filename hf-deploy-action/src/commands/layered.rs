//! The inputs of `deploy` from three layers, read as cargo and uv read theirs: flags over the
//! environment over `hf-deploy.toml`.
//!
//! * Flags: what was typed. A flag that can only switch something on (`--private`,
//!   `--no-wait`) leaves the file's value alone when it is not typed.
//! * The environment: `HF_DEPLOY_SPACE` and `HF_DEPLOY_CONFIG` (read under their flags),
//!   `HF_ENDPOINT` over the file's `hf-endpoint`, and the value of each secret the file names.
//! * The file's entry: everything not given above. Lists add up (`frontend-url`, `secrets`);
//!   `variables` merge name by name, a flag's value winning.
//!
//! A value taken from the file keeps its place: when the library refuses it, the error points
//! at `file:line:column`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hf_deploy_core::{Error, Field, RawEntry, RawInputs};

use super::local_runtime::DEFAULT_USER;
use crate::cli::{ConfigArgs, DeployArgs};
use crate::config::{self, ConfigError, ConfigFile, Entry, Location};
use crate::env;
use crate::ui::UsageError;

/// The deadline of a deploy when neither `--timeout` nor `timeout-minutes` gives one.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1200);

/// The deploy's raw inputs with the three layers merged, and where the file's values came from.
pub(crate) struct Layered {
    /// Everything `inputs::resolve` checks.
    pub(crate) raw: RawInputs,
    /// The Hub's base URL: `HF_ENDPOINT`, else the file's `hf-endpoint`, else the Hub.
    pub(crate) endpoint: String,
    /// The file, as messages show it, when one was read.
    file: Option<String>,
    /// The inputs whose value is the file's, with the place of that value.
    from_file: Vec<(Field, Location)>,
}

impl Layered {
    /// A bad input found by the library: when its value came from the file, the error points
    /// at it (`hf-deploy.toml:7:15: invalid `health-path`: ...`); other errors pass unchanged.
    pub(crate) fn explain(&self, error: Error) -> anyhow::Error {
        let field = match &error {
            Error::InvalidSource { .. } => Some(Field::Source),
            other => other.field(),
        };
        let place = field.and_then(|field| self.from_file.iter().find(|(f, _)| *f == field));
        match (&self.file, place) {
            (Some(file), Some((_, at))) => usage(ConfigError::from_core(file, *at, &error)),
            _ => error.into(),
        }
    }
}

/// A configuration error as the command line reports it (exit code 2).
pub(crate) fn usage(error: ConfigError) -> anyhow::Error {
    anyhow::Error::new(UsageError {
        message: error.to_string(),
        hint: error.hint,
    })
}

/// The configuration file the flags point at: `--config` (or `HF_DEPLOY_CONFIG`), else the
/// nearest `hf-deploy.toml` from the current directory up to the repository's root; none with
/// `--no-config`.
pub(crate) fn load(args: &ConfigArgs) -> anyhow::Result<Option<ConfigFile>> {
    if args.no_config {
        return Ok(None);
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let (path, named_by) = match &args.config {
        Some(path) => (cwd.join(path), Some("--config")),
        None => match config::find(&cwd) {
            Some(path) => (path, None),
            None => return Ok(None),
        },
    };
    let shown = config::shown(&path, &cwd);
    ConfigFile::read(&path, &shown, named_by)
        .map(Some)
        .map_err(usage)
}

/// The inputs of `deploy`: its flags, the environment, and the entry of the configuration file.
pub(crate) fn deploy_inputs(args: &DeployArgs) -> anyhow::Result<Layered> {
    let file = load(&args.config)?;
    let chosen = match &file {
        Some(file) => Some((
            file,
            file.select(args.space.as_deref(), "--space")
                .map_err(usage)?,
        )),
        None => None,
    };
    let mut from_file = Vec::new();
    let source = match (&args.source, chosen) {
        (Some(source), _) => source.clone(),
        (None, Some((file, entry))) => {
            let source = file.source_of(entry);
            from_file.push((Field::Source, entry.at("source").unwrap_or(entry.at)));
            check_source(file, entry, &source)?;
            source
        }
        (None, None) => return Err(no_source()),
    };
    let space = target_space(
        args,
        chosen.map(|(_, entry)| entry),
        &source,
        &mut from_file,
    )?;
    // A bare `--secret KEY` reads `KEY` from the environment: refused when it is not text.
    for key in args.secrets.iter().filter(|arg| !arg.contains('=')) {
        env::lookup(key.trim())?;
    }
    let mut raw = flags(args, space, source);
    let mut endpoint = env::configured_endpoint();
    if let Some((file, entry)) = chosen {
        under_flags(&mut raw, args, entry, &mut from_file);
        under_flags_settings(&mut raw, file, entry, &mut from_file)?;
        if endpoint.is_none() {
            endpoint = entry
                .text("hf-endpoint")
                .map(|(text, _)| text.trim().trim_end_matches('/').to_string());
        }
    }
    raw.timeout = match (args.timeout, chosen.and_then(|(_, e)| e.minutes())) {
        (Some(seconds), _) => Duration::from_secs(seconds),
        (None, Some((minutes, at))) => {
            from_file.push((Field::Timeout, at));
            Duration::from_secs(minutes * 60)
        }
        (None, None) => DEFAULT_TIMEOUT,
    };
    Ok(Layered {
        raw,
        endpoint: endpoint.unwrap_or_else(|| env::DEFAULT_ENDPOINT.to_string()),
        file: file.map(|f| f.shown),
        from_file,
    })
}

/// The raw inputs of the flags alone.
fn flags(args: &DeployArgs, space: String, source: PathBuf) -> RawInputs {
    super::scaffold::layout_inputs(
        &args.layout,
        RawInputs {
            space: Some(space),
            commit_message: crate::commit::message(env::github_sha().as_deref(), &source),
            source: source.clone(),
            secrets: args
                .secrets
                .iter()
                .map(|arg| RawEntry::arg(arg, &|key| env::lookup(key).ok().flatten()))
                .collect(),
            secrets_file: args.secrets_file.clone(),
            variables: args
                .variables
                .iter()
                .map(|arg| RawEntry::arg(arg, &|_| None))
                .collect(),
            frontend_urls: args.frontend_urls.clone(),
            health_path: args.health_path.clone(),
            app_url: args.app_url.clone(),
            private: args.private,
            visibility: args.visibility.clone(),
            hardware: args.hardware.clone(),
            factory_reboot: args.factory_reboot,
            sleep_time: args.sleep_time.clone(),
            wait: !args.no_wait,
            timeout: DEFAULT_TIMEOUT,
            dry_run: args.dry_run,
            allow_degraded: args.allow_degraded,
            keep: args.keep.clone(),
            rollback_on_failure: args.rollback_on_failure,
            source_commit: crate::commit::source_commit(env::github_sha().as_deref(), &source),
            ..RawInputs::default()
        },
    )
}

/// The Space to deploy to: `--space` (or `HF_DEPLOY_SPACE`), else the entry's. A local deploy of
/// an entry goes to the stand-in's only user (`local/<name>`), so that the file works with
/// `--local` as it is.
fn target_space(
    args: &DeployArgs,
    entry: Option<&Entry>,
    source: &Path,
    from_file: &mut Vec<(Field, Location)>,
) -> anyhow::Result<String> {
    if let Some(space) = &args.space {
        return Ok(space.clone());
    }
    if let Some(entry) = entry {
        from_file.push((Field::Space, entry.space.at));
        let space = &entry.space.value;
        if args.local {
            let name = space.rsplit('/').next().unwrap_or(space);
            return Ok(format!("{DEFAULT_USER}/{name}"));
        }
        return Ok(space.clone());
    }
    if args.local {
        return Ok(local_space_id(source));
    }
    Err(UsageError::error(
        "`--space` is required",
        Some(if cfg!(feature = "local") {
            "give the target Space as `--space namespace/name` (or use `--local`), or write it in an `hf-deploy.toml` (`hf-deploy init`)"
        } else {
            "give the target Space as `--space namespace/name`, or write it in an `hf-deploy.toml` (`hf-deploy init`)"
        }),
    ))
}

fn no_source() -> anyhow::Error {
    UsageError::error(
        "`SOURCE` is required: no `hf-deploy.toml` names it",
        Some(
            "give the backend folder, e.g. `hf-deploy deploy backend --space alice/app`, or write an `hf-deploy.toml` (`hf-deploy init`)",
        ),
    )
}

/// The entry's source folder exists (said at its `source`, or at the entry when it has none).
fn check_source(file: &ConfigFile, entry: &Entry, source: &Path) -> anyhow::Result<()> {
    if source.is_dir() {
        return Ok(());
    }
    let (at, what) = match entry.text("source") {
        Some((text, at)) => (at, format!("`source` `{text}` is not a folder")),
        None => (
            entry.at,
            format!(
                "the entry of `{}` has no `source`, and the default `{}` is not a folder",
                entry.space.value,
                config::DEFAULT_SOURCE
            ),
        ),
    };
    Err(usage(ConfigError::new(
        &file.shown,
        Some(at),
        format!("{what} (looked for `{}`)", source.display()),
        Some("give `source` as the backend folder, relative to the file's folder".into()),
    )))
}

/// The entry's single values, where no flag gave one.
fn under_flags(
    raw: &mut RawInputs,
    args: &DeployArgs,
    entry: &Entry,
    from_file: &mut Vec<(Field, Location)>,
) {
    let texts: [(Field, &mut Option<String>); 8] = [
        (Field::HealthPath, &mut raw.health_path),
        (Field::AppUrl, &mut raw.app_url),
        (Field::Hardware, &mut raw.hardware),
        (Field::Title, &mut raw.title),
        (Field::Emoji, &mut raw.emoji),
        (Field::ColorFrom, &mut raw.color_from),
        (Field::ColorTo, &mut raw.color_to),
        (Field::ShortDescription, &mut raw.short_description),
    ];
    for (field, slot) in texts {
        if slot.is_none() {
            if let Some((text, at)) = entry.text(config::spelling(field)) {
                *slot = Some(text.to_string());
                from_file.push((field, at));
            }
        }
    }
    // `--private` is `--visibility private`: either typed leaves the file's visibility alone.
    if raw.visibility.is_none() && !args.private {
        if let Some((text, at)) = entry.text(config::spelling(Field::Visibility)) {
            raw.visibility = Some(text.to_string());
            from_file.push((Field::Visibility, at));
        }
    }
    if raw.sleep_time.is_none() {
        if let Some((seconds, at)) = entry.seconds() {
            raw.sleep_time = Some(seconds.to_string());
            from_file.push((Field::SleepTime, at));
        }
    }
    let flags: [(Field, bool, &mut bool); 6] = [
        (
            Field::Private,
            args.private || args.visibility.is_some(),
            &mut raw.private,
        ),
        (
            Field::FactoryReboot,
            args.factory_reboot,
            &mut raw.factory_reboot,
        ),
        (Field::Wait, args.no_wait, &mut raw.wait),
        (Field::DryRun, args.dry_run, &mut raw.dry_run),
        (
            Field::AllowDegraded,
            args.allow_degraded,
            &mut raw.allow_degraded,
        ),
        (
            Field::RollbackOnFailure,
            args.rollback_on_failure,
            &mut raw.rollback_on_failure,
        ),
    ];
    for (field, typed, slot) in flags {
        if !typed {
            if let Some((value, at)) = entry.flag(config::spelling(field)) {
                *slot = value;
                from_file.push((field, at));
            }
        }
    }
}

/// The entry's secrets, secrets file, variables and frontend origins under the flags': lists
/// add up, a name given by a flag keeps the flag's value.
fn under_flags_settings(
    raw: &mut RawInputs,
    file: &ConfigFile,
    entry: &Entry,
    from_file: &mut Vec<(Field, Location)>,
) -> anyhow::Result<()> {
    let key_of = |entry: &RawEntry| entry.text.split('=').next().unwrap_or_default().to_string();
    let flagged: Vec<String> = raw.secrets.iter().map(key_of).collect();
    for name in entry.list("secrets") {
        if flagged.contains(&name.value) {
            continue;
        }
        raw.secrets
            .push(secret_from_env(file, &name.value, name.at)?);
    }
    if raw.secrets_file.is_none() {
        if let Some((path, at)) = entry.text("secrets-file") {
            raw.secrets_file = Some(file.dir().join(path.trim()));
            from_file.push((Field::SecretsFile, at));
        }
    }
    let flagged: Vec<String> = raw.variables.iter().map(key_of).collect();
    for (name, value) in entry.table("variables") {
        if !flagged.contains(&name.value) {
            raw.variables.push(RawEntry {
                text: format!("{}={}", name.value, value.value),
                line: None,
                from_env: None,
            });
        }
    }
    for origin in entry.list("frontend-url") {
        raw.frontend_urls.push(origin.value.clone());
    }
    for (field, name) in [
        (Field::Secrets, "secrets"),
        (Field::Variables, "variables"),
        (Field::FrontendUrl, "frontend-url"),
    ] {
        if let Some(at) = entry.at(name) {
            from_file.push((field, at));
        }
    }
    Ok(())
}

/// A secret the file names, with its value from the environment variable of that name; checked
/// here, by the library's rules, so that a missing or bad value points at the name in the file.
fn secret_from_env(file: &ConfigFile, name: &str, at: Location) -> anyhow::Result<RawEntry> {
    let value = env::lookup(name)?.filter(|value| !value.is_empty());
    if value.is_none() {
        return Err(usage(ConfigError::new(
            &file.shown,
            Some(at),
            format!(
                "secret `{name}` is listed in `secrets`, but the environment variable `{name}` is not set (or is empty)"
            ),
            Some(format!(
                "export `{name}` before running (its value never goes in the file), or pass it as `--secret {name}=...` or in a `--secrets-file`"
            )),
        )));
    }
    let entry = RawEntry {
        text: name.to_string(),
        line: None,
        from_env: value,
    };
    hf_deploy_core::inputs::resolve_settings(&RawInputs {
        secrets: vec![entry.clone()],
        ..RawInputs::default()
    })
    .map_err(|error| usage(ConfigError::from_core(&file.shown, at, &error)))?;
    Ok(entry)
}

/// `local/<folder name>`, the stand-in's Space for a local deploy without `--space`.
fn local_space_id(source: &Path) -> String {
    let name = std::fs::canonicalize(source)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "backend".to_string());
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches('-').to_string();
    let cleaned = if cleaned.is_empty() {
        "backend".to_string()
    } else {
        cleaned
    };
    format!("{DEFAULT_USER}/{cleaned}")
}
