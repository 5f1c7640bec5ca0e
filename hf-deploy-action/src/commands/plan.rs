//! `hf-deploy plan`: the Spaces of `hf-deploy.toml`, or (`--matrix`) the GitHub Actions matrix
//! that fans their deploys out, one job per Space; with `--changed-since REF`, only the Spaces
//! whose source folder or `[[space]]` table changed between REF and `HEAD`.

use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use super::layered::{load, usage};
use crate::cli::PlanArgs;
use crate::config::changed::{self, Change, ChangedError};
use crate::config::{ConfigError, ConfigFile, Entry};
use crate::ui::{Ui, UsageError};

/// One Space of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Planned {
    /// `namespace/name`.
    pub(crate) space: String,
    /// The source folder, relative to the repository's root (else to the file's folder), with
    /// `/` separators: what the action's `source` input takes.
    pub(crate) source: String,
    /// The Space's name (after the `/`), for job names.
    pub(crate) name: String,
    /// Whether it changed since the revision asked about; `None` when none was asked about.
    pub(crate) changed: Option<bool>,
    /// Why it is deployed or not (`source changed`, `entry changed`, `unchanged`).
    pub(crate) why: Option<&'static str>,
}

/// The plan of `file`: every entry, each marked changed or not when `changed_since` is given.
/// `spelled` is how the front end names that input (`--changed-since`, `changed-since`).
pub(crate) fn plan(
    file: &ConfigFile,
    changed_since: Option<&str>,
    spelled: &str,
) -> Result<Vec<Planned>, PlanError> {
    let changes: Vec<Option<Change>> = match changed_since.map(str::trim).filter(|s| !s.is_empty())
    {
        Some(base) => changed::changes(file, base, spelled)?
            .into_iter()
            .map(Some)
            .collect(),
        None => file.entries.iter().map(|_| None).collect(),
    };
    let root = changed::work_tree(file);
    let mut planned = Vec::new();
    for (entry, change) in file.entries.iter().zip(changes) {
        let source = file.source_of(entry);
        source_is_a_folder(file, entry, &source)?;
        let shown = root
            .as_deref()
            .and_then(|root| changed::relative_to(&source, root))
            .or_else(|| changed::relative_to(&source, file.dir()))
            .unwrap_or(source);
        let shown = slashed(&shown);
        let space = entry.space.value.clone();
        planned.push(Planned {
            name: space.rsplit('/').next().unwrap_or(&space).to_string(),
            space,
            source: if shown.is_empty() { ".".into() } else { shown },
            changed: change.as_ref().map(|c| c.changed),
            why: change.map(|c| c.why),
        });
    }
    Ok(planned)
}

/// `{"include":[{"space":…,"source":…,"name":…},…]}`: the Spaces to deploy, for
/// `strategy.matrix`.
pub(crate) fn matrix(planned: &[Planned]) -> serde_json::Value {
    let include: Vec<serde_json::Value> = planned
        .iter()
        .filter(|p| p.changed != Some(false))
        .map(|p| serde_json::json!({"space": p.space, "source": p.source, "name": p.name}))
        .collect();
    serde_json::json!({ "include": include })
}

/// Why a plan could not be made: the file (at a place in it) or the revision.
#[derive(Debug)]
pub(crate) enum PlanError {
    /// An entry's source folder is missing.
    Config(ConfigError),
    /// The revision cannot be compared.
    Changed(ChangedError),
}

impl From<ChangedError> for PlanError {
    fn from(error: ChangedError) -> Self {
        PlanError::Changed(error)
    }
}

impl PlanError {
    /// The message and the hint.
    pub(crate) fn parts(self) -> (String, Option<String>) {
        match self {
            PlanError::Config(error) => (error.to_string(), error.hint),
            PlanError::Changed(error) => (error.message, Some(error.hint)),
        }
    }
}

fn source_is_a_folder(file: &ConfigFile, entry: &Entry, source: &Path) -> Result<(), PlanError> {
    if source.is_dir() {
        return Ok(());
    }
    let at = entry.at("source").unwrap_or(entry.at);
    Err(PlanError::Config(ConfigError::new(
        &file.shown,
        Some(at),
        format!(
            "the source folder of `{}` is missing (looked for `{}`)",
            entry.space.value,
            source.display()
        ),
        Some("give `source` as the backend folder, relative to the file's folder".into()),
    )))
}

/// A path with `/` separators.
fn slashed(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

pub(crate) async fn run(args: PlanArgs, _ui: &Ui) -> anyhow::Result<ExitCode> {
    let Some(file) = load(&args.config)? else {
        return Err(UsageError::error(
            "no `hf-deploy.toml` was found (looked from the current directory up to the repository's root)",
            Some("write one with `hf-deploy init`, or name one with `--config FILE`"),
        ));
    };
    let changed_since = args.changed_since.clone();
    let planned = tokio::task::spawn_blocking({
        let file = file.clone();
        move || plan(&file, changed_since.as_deref(), "--changed-since")
    })
    .await?
    .map_err(|error| match error {
        PlanError::Config(error) => usage(error),
        other => {
            let (message, hint) = other.parts();
            anyhow::Error::new(UsageError { message, hint })
        }
    })?;
    if args.matrix {
        outln!("{}", matrix(&planned));
    } else if args.json {
        let value = serde_json::json!({
            "file": file.shown,
            "changed_since": args.changed_since,
            "spaces": planned,
            "matrix": matrix(&planned),
        });
        outln!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_text(&file, &planned, args.changed_since.as_deref());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_text(file: &ConfigFile, planned: &[Planned], changed_since: Option<&str>) {
    let deployed = planned.iter().filter(|p| p.changed != Some(false)).count();
    let spaces = match planned.len() {
        1 => "1 Space".to_string(),
        n => format!("{n} Spaces"),
    };
    match changed_since {
        Some(base) => outln!(
            "`{}`: {spaces}, {deployed} to deploy (changed since `{base}`):",
            file.shown
        ),
        None => outln!("`{}`: {spaces}:", file.shown),
    }
    let width = planned.iter().map(|p| p.space.len()).max().unwrap_or(0);
    let source_width = planned.iter().map(|p| p.source.len()).max().unwrap_or(0);
    for p in planned {
        let why = p.why.map(|w| format!("  {w}")).unwrap_or_default();
        let line = format!("  {:width$}  {:source_width$}{why}", p.space, p.source);
        outln!("{}", line.trim_end());
    }
}
