//! `hf-deploy init [SOURCE]`: write a commented `hf-deploy.toml` for an existing backend, from
//! what the scaffold detects (the secrets the app reads, its health route) and a Space name
//! suggested by the git remote and the folder.

use std::path::Path;
use std::process::ExitCode;

use hf_deploy_core::HealthPath;
use hf_deploy_core::scaffold::{self, ScaffoldOptions, SecretDoc};
use hf_deploy_core::{Field, SpaceId};

use super::layered::usage;
use crate::cli::InitArgs;
use crate::config::changed;
use crate::config::{self, ConfigFile};
use crate::ui::{Ui, UsageError};

/// What `init` writes into the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Detected {
    /// `namespace/name`.
    pub(crate) space: String,
    /// The source folder relative to the file, with `/` separators.
    pub(crate) source: String,
    /// The secrets the app reads (names and what they are for).
    pub(crate) secrets: Vec<SecretDoc>,
    /// Other environment variables the app reads.
    pub(crate) variables: Vec<String>,
    /// The health route.
    pub(crate) health_path: String,
    /// True when the scan found the health route in the app.
    pub(crate) health_found: bool,
    /// The Space's title as the scaffold would write it.
    pub(crate) title: String,
}

/// Folder names that say nothing about the app: the Space is named after the repository.
const GENERIC_NAMES: [&str; 8] = [
    "backend", "api", "server", "app", "src", "service", "services", ".",
];

/// Route names that look like a health check, when the default route is not there.
const HEALTH_NAMES: [&str; 5] = ["health", "healthz", "healthcheck", "health-check", "ping"];

pub(crate) async fn run(args: InitArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let source = match &args.source {
        Some(source) => cwd.join(source),
        None if cwd.join("backend/requirements.txt").is_file() => cwd.join("backend"),
        None => cwd.clone(),
    };
    let target = match &args.config {
        Some(path) => cwd.join(path),
        None => changed::repository_root(&cwd)
            .unwrap_or_else(|| cwd.clone())
            .join(config::FILE_NAME),
    };
    let shown = config::shown(&target, &cwd);
    if target.exists() && !args.force {
        return Err(UsageError::error(
            format!("`{shown}` exists already"),
            Some("edit it, or pass `--force` to write a new one over it"),
        ));
    }
    if let Some(space) = &args.space {
        SpaceId::parse(space.trim(), Field::Space)?;
    }
    let folder = target.parent().unwrap_or(Path::new(".")).to_path_buf();
    let space = match &args.space {
        Some(space) => space.trim().to_string(),
        None => suggest_space(&source, &folder),
    };
    let scaffolded = {
        let options = ScaffoldOptions {
            space: SpaceId::parse(&space, Field::Space).ok(),
            ..ScaffoldOptions::default()
        };
        let source = source.clone();
        tokio::task::spawn_blocking(move || scaffold::scaffold(&source, &options)).await??
    };
    let detected = detect(&scaffolded.config, &source, &folder, space);
    let text = render(&detected);
    // What `init` writes must read back: a file that did not would be this tool's bug.
    ConfigFile::parse(&text, &target, &shown).map_err(usage)?;
    std::fs::write(&target, &text)
        .map_err(|error| anyhow::anyhow!("failed to write `{shown}`: {error}"))?;
    ui.info(&format!(
        "Wrote `{shown}`: Space `{}` from `{}`{}.",
        detected.space,
        detected.source,
        match detected.secrets.len() {
            0 => String::new(),
            n => format!(", {n} secrets by name (their values come from the environment)"),
        }
    ));
    ui.info("Review it, then deploy with `hf-deploy deploy` (flags override the file).");
    Ok(ExitCode::SUCCESS)
}

/// What to write for the backend at `source`, the file living in `folder`.
pub(crate) fn detect(
    found: &scaffold::SpaceConfig,
    source: &Path,
    folder: &Path,
    space: String,
) -> Detected {
    let relative = changed::relative_to(source, folder)
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| ".".into());
    let health_found = found
        .endpoints
        .iter()
        .any(|e| e.method == "GET" && e.path == HealthPath::DEFAULT);
    let other_health = found.endpoints.iter().find(|e| {
        e.method == "GET" && HEALTH_NAMES.contains(&e.path.rsplit('/').next().unwrap_or_default())
    });
    let (health_path, health_found) = match (health_found, other_health) {
        (false, Some(endpoint)) => (endpoint.path.clone(), true),
        (found, _) => (HealthPath::DEFAULT.to_string(), found),
    };
    Detected {
        title: found.title.clone(),
        space,
        source: relative,
        secrets: found
            .secrets
            .iter()
            .filter(|s| s.name != "ALLOWED_ORIGINS")
            .cloned()
            .collect(),
        variables: found.variables.clone(),
        health_path,
        health_found,
    }
}

/// `owner/name`: the owner of the git remote `origin` (else a placeholder) and the folder's name
/// (the repository's when the folder's says nothing, like `backend`).
fn suggest_space(source: &Path, folder: &Path) -> String {
    let remote = changed::origin_url(folder);
    let (owner, repository) = remote
        .as_deref()
        .and_then(owner_and_name)
        .map_or((None, None), |(o, n)| (Some(o), Some(n)));
    let folder_name = |path: &Path| {
        path.canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
    };
    let name = folder_name(source)
        .filter(|name| !GENERIC_NAMES.contains(&name.to_ascii_lowercase().as_str()))
        .or(repository)
        .or_else(|| folder_name(folder))
        .unwrap_or_else(|| "app".into());
    format!(
        "{}/{}",
        clean(&owner.unwrap_or_else(|| "your-hf-username".into())),
        clean(&name)
    )
}

/// `owner` and `name` of a remote URL (`https://github.com/owner/name.git`,
/// `git@github.com:owner/name.git`).
fn owner_and_name(url: &str) -> Option<(String, String)> {
    let path = url.trim().trim_end_matches('/').trim_end_matches(".git");
    let mut parts = path.rsplit(['/', ':']);
    let name = parts.next()?.to_string();
    let owner = parts.next()?.to_string();
    (!owner.is_empty() && !name.is_empty()).then_some((owner, name))
}

/// A name the Hub accepts: letters, digits, `-`, `_`, `.`; lower case; no leading or trailing
/// punctuation.
fn clean(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let cleaned = cleaned
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    if cleaned.is_empty() {
        "app".into()
    } else {
        cleaned
    }
}

/// The file's text: one commented `[[space]]` table.
pub(crate) fn render(detected: &Detected) -> String {
    let mut out = String::from(HEADER);
    out.push_str("\n[[space]]\n");
    out.push_str("# The Space, `namespace/name` (created by the first deploy).\n");
    out.push_str(&format!("space = {}\n", quoted(&detected.space)));
    out.push_str("# The backend folder (with `requirements.txt`), relative to this file.\n");
    out.push_str(&format!("source = {}\n", quoted(&detected.source)));
    secrets(&mut out, &detected.secrets);
    out.push_str("# Public settings, shown on the Space's page.\n");
    let example = detected
        .variables
        .first()
        .map_or("LOG_LEVEL", String::as_str);
    out.push_str(&format!("# variables = {{ {example} = \"...\" }}\n"));
    if detected.variables.len() > 1 {
        let names: Vec<String> = detected
            .variables
            .iter()
            .map(|v| format!("`{v}`"))
            .collect();
        wrapped(
            &mut out,
            &format!("The app also reads: {}.", names.join(", ")),
        );
    }
    out.push_str("# Frontend origins: added to the `ALLOWED_ORIGINS` secret, checked for CORS.\n");
    out.push_str("# frontend-url = [\"https://my-app.vercel.app\"]\n");
    if detected.health_found {
        out.push_str("# The health route the deploy waits for (found in the app).\n");
    } else {
        out.push_str("# The health route the deploy waits for (not found in the app: add one, or change this).\n");
    }
    out.push_str(&format!(
        "health-path = {}\n",
        quoted(&detected.health_path)
    ));
    out.push_str("# Deadline of the build plus the health check.\n");
    out.push_str("# timeout-minutes = 20\n");
    out.push_str("# The Space's card.\n");
    out.push_str(&format!("# title = {}\n", quoted(&detected.title)));
    out.push_str("# emoji = \"🚀\"\n");
    out.push_str("# hardware = \"cpu-basic\"\n");
    out.push_str("# private = false\n");
    out
}

const HEADER: &str = "\
# hf-deploy.toml: how `hf-deploy deploy` and the hf-deploy GitHub Action deploy this
# repository's backends to Hugging Face Spaces, one `[[space]]` table per Space.
#
# Keys are the action's input names. Command-line flags and action inputs win over the
# environment, which wins over this file. This file is committed: never write a secret's
# value here; `secrets` lists names, and each value comes from the environment variable of
# that name (in a workflow, the step's `env:`, from `secrets.*`).
";

/// `text` as comment lines of at most 96 characters.
fn wrapped(out: &mut String, text: &str) {
    let mut line = String::from("#");
    for word in text.split(' ') {
        if line.len() + 1 + word.len() > 96 && line.len() > 1 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
}

fn secrets(out: &mut String, secrets: &[SecretDoc]) {
    out.push_str("# Secrets the app reads, by name; each value comes from the environment.\n");
    if secrets.is_empty() {
        out.push_str("# secrets = [\"API_KEY\"]\n");
        return;
    }
    out.push_str("secrets = [\n");
    for secret in secrets {
        let about = secret
            .description
            .as_deref()
            .map(|d| format!(" # {}", d.replace(['\n', '\r'], " ")))
            .unwrap_or_default();
        out.push_str(&format!("  {},{about}\n", quoted(&secret.name)));
    }
    out.push_str("]\n");
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn example() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rag-chatbot/backend")
    }

    #[test]
    fn the_example_backend_gets_a_commented_file_that_reads_back() {
        let backend = example();
        let options = ScaffoldOptions {
            space: SpaceId::parse("alice/rag-chatbot", Field::Space).ok(),
            ..ScaffoldOptions::default()
        };
        let found = scaffold::scaffold(&backend, &options).expect("scaffold");
        let detected = detect(
            &found.config,
            &backend,
            &backend.join(".."),
            "alice/rag-chatbot".into(),
        );
        let text = render(&detected);
        insta::assert_snapshot!(text);
        let file = ConfigFile::parse(&text, &backend.join("../hf-deploy.toml"), "hf-deploy.toml")
            .expect("reads back");
        let entry = &file.entries[0];
        assert_eq!(entry.space.value, "alice/rag-chatbot");
        assert_eq!(
            file.source_of(entry).canonicalize().ok(),
            backend.canonicalize().ok()
        );
    }

    #[test]
    fn the_space_is_named_after_the_remote_and_the_folder() {
        assert_eq!(
            owner_and_name("https://github.com/Alice/rag-book.git"),
            Some(("Alice".into(), "rag-book".into()))
        );
        assert_eq!(
            owner_and_name("git@github.com:alice/rag-book.git"),
            Some(("alice".into(), "rag-book".into()))
        );
        assert_eq!(clean("My App!"), "my-app");
        assert_eq!(clean("--"), "app");
        assert_eq!(quoted("a \"b\" \\ c"), "\"a \\\"b\\\" \\\\ c\"");
    }
}
