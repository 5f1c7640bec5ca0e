//! Backend folder -> in-memory Space tree (Dockerfile, README, app files).
//!
//! [`scaffold`] is pure: it reads the backend folder and returns every file of the Space in a
//! [`Scaffold`], writing nothing. Only the files it generates or rewrites are held in memory; the
//! others stay paths into the source ([`FileContent::Source`]) and are read when needed, so a
//! gigabyte of data files costs no memory here. [`Scaffold::write_to`] puts that tree on disk.
//!
//! What goes into the tree:
//!
//! * Every file of the source, walked with `.gitignore` semantics (also outside a git
//!   repository; `.ignore` files and `.git/info/exclude` count too, the user's global git
//!   excludes do not), hidden files included, minus [`DEFAULT_EXCLUDES`] and the user's
//!   [`ScaffoldOptions::excludes`]. `.env*` files hold secrets: they are never included,
//!   even when `.gitignore` already ignores them they are listed in [`Scaffold::skipped`].
//! * A symbolic link is judged by its target, which must pass the rules a file at the target's
//!   path passes (so never a file under `.git/`, an ignored or excluded one, nor a `.env*` file):
//!   such a link is left out, with the reason; one that passes goes in as a regular file with
//!   the target's content. A link leaving the source, pointing to nothing or into a loop is an
//!   error; one to a folder is left out.
//! * A FIFO, a socket or a device file is refused (by its type, never opened), also through a
//!   link; the ignore files the walk reads must be regular files too.
//! * `requirements.txt` without the test-only requirements (see
//!   [`ScaffoldOptions::test_requirements`]).
//! * A missing `__init__.py` in every folder of the app package that holds Python files.
//! * `Dockerfile`: from `templates_dir/Dockerfile.j2` when given, else the source's own
//!   `Dockerfile`, else the embedded template. A Dockerfile that is not ours is linted against
//!   the Space rules (user 1000, app port, `--chown`, no `.env*`); every violation is reported
//!   with its line ([`Error::DockerfileLint`]).
//! * `README.md`: from `templates_dir/README.md.j2` when given, else the embedded template.
//!   A `README.md` in the source is replaced (with a warning): a repository README is written
//!   for developers, while the Space README must document the Space (its secrets, endpoints,
//!   health and cold start). Its body (front matter removed) is in the template context as
//!   `source_readme`, so a user template can keep it. The front matter writes every string as
//!   a JSON-escaped double-quoted scalar, which is valid YAML whatever the title holds; a user
//!   template that renders no front matter gets ours on top.
//! * `.gitattributes` with the Hub's default Git LFS patterns, unless the source has one.

mod links;
mod lint;
mod python;
mod render;
mod requirements;
mod special;
mod validate;
mod walk;
mod write;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::content::FileContent;
use crate::error::{Error, Result};
use crate::field::Field;
use crate::space::SpaceId;
use crate::urls::HealthPath;

pub(crate) use validate::Checked;

pub(crate) use lint::lint_dockerfile;
use requirements::filter_requirements;
pub use requirements::{DEFAULT_TEST_REQUIREMENTS, DroppedRequirement};

/// The port a Docker Space routes to when the README does not say otherwise.
pub const DEFAULT_PORT: u16 = 7860;
/// Python version of the image when the source does not pin one.
pub(crate) const DEFAULT_PYTHON_VERSION: &str = "3.11";
/// Colours the Hub accepts for `colorFrom` / `colorTo`.
pub const ALLOWED_COLORS: [&str; 8] = [
    "red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray",
];
/// Longest `short_description` the Hub accepts, in characters.
pub const SHORT_DESCRIPTION_MAX: usize = 60;
/// Emoji used when none is given.
pub(crate) const DEFAULT_EMOJI: &str = "🤖";
/// `colorFrom` used when none is given.
pub(crate) const DEFAULT_COLOR_FROM: &str = "blue";
/// `colorTo` used when none is given.
pub(crate) const DEFAULT_COLOR_TO: &str = "indigo";
/// Gitignore-style patterns that never go into a Space (besides `.env*`, which is always
/// refused): version control, caches, virtual environments, dependencies of a frontend, and
/// the test suite with its configuration.
pub const DEFAULT_EXCLUDES: &[&str] = &[
    ".git/",
    "__pycache__/",
    "*.pyc",
    ".venv/",
    "venv/",
    "tests/",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".coverage",
    "htmlcov/",
    "pytest.ini",
    "conftest.py",
    "tox.ini",
    "noxfile.py",
    ".coveragerc",
    "node_modules/",
    ".DS_Store",
];
/// Secret names recognised in a backend's source and documented in the README when found
/// (name, what it is), e.g. for a front end that warns when one is given as a public variable.
pub const WELL_KNOWN_SECRETS: [(&str, &str); 5] = [
    (
        "GEMINI_API_KEY",
        "Google Gemini API key used for chat completions and embeddings",
    ),
    (
        "QDRANT_URL",
        "URL of the Qdrant cluster holding the document vectors",
    ),
    ("QDRANT_API_KEY", "API key of the Qdrant cluster"),
    (
        "DATABASE_URL",
        "PostgreSQL connection string (`postgresql://user:password@host:5432/db`)",
    ),
    (
        "ALLOWED_ORIGINS",
        "comma separated frontend origins allowed by CORS",
    ),
];
/// Name of the file [`Scaffold::write_to`] leaves in a folder it wrote, so that it may replace
/// that folder next time. Not part of [`Scaffold::files`].
pub(crate) const MARKER_FILE: &str = ".hf-deploy-scaffold";

/// A secret the Space needs: its name and what it is for. Never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretDoc {
    /// Environment variable name, e.g. `GEMINI_API_KEY`.
    pub name: String,
    /// What it is for, shown in the README.
    pub description: Option<String>,
}

impl SecretDoc {
    /// A secret documented by name only.
    pub fn new(name: impl Into<String>) -> Self {
        SecretDoc {
            name: name.into(),
            description: None,
        }
    }
}

/// What the user asked for. Every field is optional; [`ScaffoldOptions::default`] scaffolds
/// the usual FastAPI layout (`app.main:app`, port 7860, health at `/api/health`).
#[derive(Debug, Clone, Default)]
pub struct ScaffoldOptions {
    /// The target Space; its name is the default title.
    pub space: Option<SpaceId>,
    /// README `title`.
    pub title: Option<String>,
    /// README `emoji`: a single emoji.
    pub emoji: Option<String>,
    /// README `colorFrom`, one of [`ALLOWED_COLORS`].
    pub color_from: Option<String>,
    /// README `colorTo`, one of [`ALLOWED_COLORS`].
    pub color_to: Option<String>,
    /// README `short_description`, at most 60 characters.
    pub short_description: Option<String>,
    /// Port the app listens on and the README's `app_port`; default 7860.
    pub port: Option<u16>,
    /// ASGI app as `module:attr`; default: detected, usually `app.main:app`.
    pub app: Option<String>,
    /// Health endpoint path; default `/api/health`.
    pub health_path: Option<HealthPath>,
    /// README `pinned`.
    pub pinned: Option<bool>,
    /// README `license` (a license id such as `mit`).
    pub license: Option<String>,
    /// README `tags`.
    pub tags: Vec<String>,
    /// Extra gitignore-style patterns to leave out of the Space. They cannot re-include
    /// anything (`!pattern` is refused).
    pub excludes: Vec<String>,
    /// Requirement names dropped from `requirements.txt` (`*` wildcards allowed);
    /// `None` means [`DEFAULT_TEST_REQUIREMENTS`].
    pub test_requirements: Option<Vec<String>>,
    /// A folder with the user's own `Dockerfile.j2` and/or `README.md.j2`.
    pub templates_dir: Option<PathBuf>,
    /// Secrets to document in the README (names and descriptions, never values).
    pub secrets: Vec<SecretDoc>,
    /// Variable names to document in the README.
    pub variables: Vec<String>,
    /// How the embedded Dockerfile installs the requirements ([`Field::Installer`]); default
    /// [`Installer::Uv`].
    pub installer: Installer,
    /// Install the C/C++ compilers (`gcc`, `g++`) in the image before the requirements, for a
    /// requirement that has no wheel for the image's platform.
    /// Off by default: the scaffold cannot know offline which requirements lack a wheel, and
    /// the compilers add a slow `apt-get` layer to every cold build. Without them, a
    /// requirement that needs compiling fails the image build with the compiler's error.
    pub build_tools: bool,
}

/// How the embedded Dockerfile installs the requirements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Installer {
    /// `uv` at a pinned version (installed with pip in its own layer) into a virtual environment
    /// owned by the Space user, with a BuildKit cache mount for uv's cache.
    #[default]
    Uv,
    /// `pip install --user`, as in the images of the Spaces documentation.
    Pip,
}

impl Installer {
    /// Parse the installer's name (`uv` or `pip`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming [`Field::Installer`] for
    /// any other value.
    pub fn parse(value: &str) -> Result<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "uv" => Ok(Installer::Uv),
            "pip" => Ok(Installer::Pip),
            _ => Err(Error::invalid_input_hint(
                Field::Installer,
                format!("`{value}` is not an installer"),
                "use `uv` (the default, faster) or `pip`",
            )),
        }
    }
}

/// The uv version the embedded Dockerfile installs (pinned, so that an image builds the same
/// way tomorrow).
pub(crate) const UV_VERSION: &str = "0.13.9";

/// A file of the source that was left out of the Space, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Path relative to the source, with `/` separators (folders end in `/`).
    pub path: String,
    /// Why it was left out.
    pub reason: String,
}

/// One route found by scanning the app's source.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Endpoint {
    /// Full path including router prefixes.
    pub path: String,
    /// HTTP method in upper case (`WEBSOCKET` for websocket routes).
    pub method: String,
}

/// Where the Dockerfile or README of the Space came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileOrigin {
    /// Rendered from the template embedded in hf-deploy.
    Embedded,
    /// Rendered from the user's template in `templates_dir`.
    UserTemplate,
    /// Taken from the source folder as it is (only a Dockerfile).
    Source,
}

/// The resolved configuration of the Space, as rendered into its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpaceConfig {
    /// The target Space, when known.
    pub space: Option<String>,
    /// README `title`.
    pub title: String,
    /// README `emoji`.
    pub emoji: String,
    /// README `colorFrom`.
    pub color_from: String,
    /// README `colorTo`.
    pub color_to: String,
    /// README `short_description`.
    pub short_description: Option<String>,
    /// README `app_port`, `EXPOSE` and the port of the uvicorn command.
    pub port: u16,
    /// Python module of the ASGI app, e.g. `app.main`.
    pub app_module: String,
    /// Attribute of the ASGI app in its module, e.g. `app`.
    pub app_attr: String,
    /// The module's file, relative to the source.
    pub app_file: String,
    /// Health endpoint path.
    pub health_path: String,
    /// `major.minor` Python version of the image.
    pub python_version: String,
    /// Where the Python version came from (`.python-version`, `runtime.txt`,
    /// `pyproject.toml` or `default`).
    pub python_version_source: String,
    /// README `pinned`.
    pub pinned: Option<bool>,
    /// README `license`.
    pub license: Option<String>,
    /// README `tags`.
    pub tags: Vec<String>,
    /// Secrets documented in the README: the user's plus the well-known ones found in the
    /// source.
    pub secrets: Vec<SecretDoc>,
    /// Other settings (environment variable names) documented in the README: the user's
    /// variables plus the names the source reads.
    pub variables: Vec<String>,
    /// Routes found in the source (best effort).
    pub endpoints: Vec<Endpoint>,
    /// Requirement files the image installs from (`requirements.txt` plus its `-r`/`-c`
    /// includes), relative to the source.
    pub requirement_files: Vec<String>,
    /// Where the Dockerfile came from.
    pub dockerfile: FileOrigin,
    /// Where the README came from.
    pub readme: FileOrigin,
    /// How the embedded Dockerfile installs the requirements.
    pub installer: Installer,
    /// Whether the embedded Dockerfile installs the C/C++ compilers.
    pub build_tools: bool,
}

impl SpaceConfig {
    /// The ASGI app as `module:attr`.
    pub fn app_spec(&self) -> String {
        format!("{}:{}", self.app_module, self.app_attr)
    }
}

/// The Space tree built from a backend folder. Nothing is written until
/// [`Scaffold::write_to`].
#[derive(Debug, Clone)]
pub struct Scaffold {
    /// Every file of the Space: path relative to the Space root (with `/`) -> content. Files
    /// hf-deploy generated or rewrote are in memory; the others are paths into the source, read
    /// when the push needs them (see [`FileContent`]).
    pub files: BTreeMap<String, FileContent>,
    /// Paths of `files` that are executable in the source (an entrypoint script): they keep
    /// the executable bit in the Space and in [`Scaffold::write_to`].
    pub executable: BTreeSet<String>,
    /// Source files left out, with the reason.
    pub skipped: Vec<Skipped>,
    /// Paths of `files` that hf-deploy created or changed (Dockerfile, README.md,
    /// `.gitattributes`, `__init__.py` files, the filtered `requirements.txt`).
    pub generated: Vec<String>,
    /// Requirements dropped from `requirements.txt` as test-only.
    pub dropped_requirements: Vec<DroppedRequirement>,
    /// Things the user should know that did not stop the scaffold.
    pub warnings: Vec<String>,
    /// The resolved configuration.
    pub config: SpaceConfig,
    /// The source folder (canonical): [`Scaffold::write_to`] never writes into it.
    source_root: PathBuf,
}

/// Build the Space tree of the backend at `source`. Reads `source` (and `templates_dir`),
/// writes nothing.
///
/// # Errors
///
/// [`Error::InvalidInput`] for an option that is not acceptable (naming its [`Field`]),
/// [`Error::InvalidSource`] when the folder is not a deployable backend (no requirements file,
/// no app module, a symbolic link leaving the folder, ...), [`Error::DockerfileLint`] when the
/// user's Dockerfile or template breaks the Space rules, [`Error::UserTemplate`] when a user's
/// template does not render (or is not UTF-8), [`Error::Io`] when a file cannot be read.
pub fn scaffold(source: &Path, options: &ScaffoldOptions) -> Result<Scaffold> {
    build(source, &check(options)?)
}

/// Check every option of a scaffold (the plan does, before it asks for the scaffold).
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the [`Field`] of the first option that is not acceptable.
pub(crate) fn check(options: &ScaffoldOptions) -> Result<Checked<'_>> {
    validate::options(options)
}

/// Build the Space tree of the backend at `source` from options that passed [`check`]. Reads
/// `source` (and `templates_dir`), writes nothing. See [`scaffold`] for the errors.
pub(crate) fn build(source: &Path, checked: &Checked<'_>) -> Result<Scaffold> {
    let options = checked.options;
    let root = validate::source_folder(source)?;
    let mut tree = collect(source, &root, options)?;
    let mut config = detect(source, &root, checked, &mut tree)?;
    render_files(source, options, &mut tree, &mut config)?;
    Ok(tree.finish(config, root))
}

/// The Space tree while it is built.
struct Tree {
    files: BTreeMap<String, FileContent>,
    executable: BTreeSet<String>,
    skipped: Vec<Skipped>,
    generated: Vec<String>,
    dropped_requirements: Vec<DroppedRequirement>,
    warnings: Vec<String>,
}

impl Tree {
    /// Put a file hf-deploy generated or rewrote into the tree.
    fn generate(&mut self, path: &str, content: FileContent) {
        self.files.insert(path.to_string(), content);
        self.generated.push(path.to_string());
    }

    fn finish(mut self, config: SpaceConfig, source_root: PathBuf) -> Scaffold {
        self.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        self.generated.sort();
        self.generated.dedup();
        let executable = self
            .executable
            .into_iter()
            .filter(|path| self.files.contains_key(path) && !self.generated.contains(path))
            .collect();
        Scaffold {
            files: self.files,
            executable,
            skipped: self.skipped,
            generated: self.generated,
            dropped_requirements: self.dropped_requirements,
            warnings: self.warnings,
            config,
            source_root,
        }
    }
}

/// Collect: every file of the source that goes into the Space (nothing is read yet).
fn collect(source: &Path, root: &Path, options: &ScaffoldOptions) -> Result<Tree> {
    // `lstat` only: a `requirements.txt` that is a link or not a regular file is the walk's to
    // judge.
    if std::fs::symlink_metadata(root.join("requirements.txt")).is_err() {
        return Err(missing_requirements(source, root));
    }
    let walked = walk::walk(root, source, &options.excludes)?;
    if !walked.files.contains_key("requirements.txt") {
        return Err(Error::InvalidSource {
            path: source.to_path_buf(),
            reason: "`requirements.txt` is excluded (by `.gitignore` or an exclude pattern)".into(),
            hint: Some(
                "the Space installs its packages from `requirements.txt`: do not exclude it".into(),
            ),
        });
    }
    Ok(Tree {
        files: walked.files,
        executable: walked.executable,
        skipped: walked.skipped,
        generated: Vec::new(),
        dropped_requirements: Vec::new(),
        warnings: walked.warnings,
    })
}

/// Detect: the app, the Python version, the requirements, the routes and the settings the
/// source reads; the missing `__init__.py` files and the filtered `requirements.txt` join the
/// tree.
fn detect(
    source: &Path,
    root: &Path,
    checked: &Checked<'_>,
    tree: &mut Tree,
) -> Result<SpaceConfig> {
    let options = checked.options;
    let app = python::resolve_app(source, &tree.files, options.app.as_deref())?;
    python::check_app_text(source, &tree.files, &app)?;
    let (python_version, python_version_source) = python::python_version(source, &tree.files)?;
    for init in python::missing_inits(&tree.files, &app) {
        tree.generate(&init, FileContent::from(Vec::new()));
    }
    let requirement_files = requirements(source, checked, tree)?;

    let sources = python::python_sources(&tree.files, &app)?;
    let endpoints = python::scan_endpoints(&sources);
    let (secrets, variables) = documented_settings(options, &sources);
    let health_path = options.health_path.clone().unwrap_or_default();
    if !endpoints.is_empty()
        && !endpoints
            .iter()
            .any(|e| e.path == health_path.as_str() && e.method == "GET")
    {
        tree.warnings.push(format!(
            "found no `GET {health_path}` route in the source (best-effort scan): the health check fails unless the app serves it; give its health path if it lives elsewhere"
        ));
    }
    let title = match &options.title {
        Some(title) => title.clone(),
        None => default_title(options.space.as_ref(), root),
    };
    Ok(SpaceConfig {
        space: options.space.as_ref().map(ToString::to_string),
        title,
        emoji: options
            .emoji
            .clone()
            .unwrap_or_else(|| DEFAULT_EMOJI.into()),
        color_from: options
            .color_from
            .clone()
            .unwrap_or_else(|| DEFAULT_COLOR_FROM.into()),
        color_to: options
            .color_to
            .clone()
            .unwrap_or_else(|| DEFAULT_COLOR_TO.into()),
        short_description: options.short_description.clone(),
        port: options.port.unwrap_or(DEFAULT_PORT),
        app_module: app.module.clone(),
        app_attr: app.attr.clone(),
        app_file: app.file.clone(),
        health_path: health_path.to_string(),
        python_version,
        python_version_source,
        pinned: options.pinned,
        license: options.license.clone(),
        tags: options.tags.clone(),
        secrets,
        variables,
        endpoints,
        requirement_files,
        dockerfile: FileOrigin::Embedded,
        readme: FileOrigin::Embedded,
        installer: options.installer,
        build_tools: options.build_tools,
    })
}

/// `requirements.txt` without the test-only requirements, and the requirement files the image
/// installs from (`requirements.txt` plus its `-r`/`-c` includes).
fn requirements(source: &Path, checked: &Checked<'_>, tree: &mut Tree) -> Result<Vec<String>> {
    let requirements_text = String::from_utf8(tree.files["requirements.txt"].read()?.into_owned())
        .map_err(|_| Error::InvalidSource {
            path: source.to_path_buf(),
            reason: "`requirements.txt` is not UTF-8 text".into(),
            hint: Some("save it as UTF-8".into()),
        })?;
    if let Some((line, problem)) = requirements::first_bad_line(&requirements_text) {
        return Err(Error::InvalidSource {
            path: source.to_path_buf(),
            reason: format!("`requirements.txt:{line}` is not a requirement: {problem}"),
            hint: Some("fix or remove the line: a requirement is `name[extras] specifiers ; marker` (PEP 508), a URL, a path, or a pip option such as `-r other.txt`".into()),
        });
    }
    let filtered = filter_requirements(&requirements_text, &checked.test_requirements)?;
    let mut requirement_files = vec!["requirements.txt".to_string()];
    for include in &filtered.includes {
        let path = python::normalize_rel(include);
        match path {
            Some(path) if tree.files.contains_key(&path) => {
                if !requirement_files.contains(&path) {
                    requirement_files.push(path);
                }
            }
            _ => tree.warnings.push(format!(
                "`requirements.txt` refers to `{include}`, which is not part of the Space: `pip install` will fail unless it is a URL"
            )),
        }
    }
    if !filtered.dropped.is_empty() {
        tree.generate("requirements.txt", FileContent::from(filtered.text.clone()));
    }
    tree.dropped_requirements = filtered.dropped;
    Ok(requirement_files)
}

/// The secrets and variables the README documents: the user's, the well-known secrets the
/// source mentions, and the environment names it reads.
fn documented_settings(
    options: &ScaffoldOptions,
    sources: &[(String, String)],
) -> (Vec<SecretDoc>, Vec<String>) {
    let env_names = python::scan_env_names(sources);
    let mut secrets = options.secrets.clone();
    for (name, description) in WELL_KNOWN_SECRETS {
        let found = sources.iter().any(|(_, text)| python::mentions(text, name));
        if found && !secrets.iter().any(|s| s.name == name) {
            secrets.push(SecretDoc {
                name: name.into(),
                description: Some(description.into()),
            });
        }
    }
    for secret in &mut secrets {
        if secret.description.is_none() {
            secret.description = WELL_KNOWN_SECRETS
                .iter()
                .find(|(name, _)| *name == secret.name)
                .map(|(_, d)| (*d).to_string());
        }
    }
    let mut variables = options.variables.clone();
    for name in env_names {
        if !secrets.iter().any(|s| s.name == name) && !variables.contains(&name) {
            variables.push(name);
        }
    }
    (secrets, variables)
}

/// Render: the Dockerfile (linted unless it is ours), the README and `.gitattributes`.
fn render_files(
    source: &Path,
    options: &ScaffoldOptions,
    tree: &mut Tree,
    config: &mut SpaceConfig,
) -> Result<()> {
    let templates = render::UserTemplates::load(options.templates_dir.as_deref())?;
    let source_readme = tree
        .files
        .get("README.md")
        .map(FileContent::text)
        .transpose()?;
    dockerfile(source, &templates, tree, config)?;
    readme(&templates, source_readme.as_deref(), tree, config)?;
    if !tree.files.contains_key(".gitattributes") {
        tree.generate(
            ".gitattributes",
            FileContent::from(render::default_gitattributes()),
        );
    }
    Ok(())
}

/// The Dockerfile: the user's template, else the source's own, else ours; linted against the
/// Space rules (every violation reported with its line).
fn dockerfile(
    source: &Path,
    templates: &render::UserTemplates,
    tree: &mut Tree,
    config: &mut SpaceConfig,
) -> Result<()> {
    let (dockerfile, origin, lint_path) = if let Some((path, text)) = &templates.dockerfile {
        if tree.files.contains_key("Dockerfile") {
            tree.warnings.push(format!(
                "the source's `Dockerfile` is replaced by the one rendered from `{}`",
                path.display()
            ));
        }
        (
            render::render_user(path, text, config, None)?,
            FileOrigin::UserTemplate,
            path.clone(),
        )
    } else if let Some(bytes) = tree.files.get("Dockerfile") {
        let text =
            String::from_utf8(bytes.read()?.into_owned()).map_err(|_| Error::InvalidSource {
                path: source.to_path_buf(),
                reason: "`Dockerfile` is not UTF-8 text".into(),
                hint: None,
            })?;
        (text, FileOrigin::Source, source.join("Dockerfile"))
    } else {
        (
            render::render_embedded(render::DOCKERFILE, config, None)?,
            FileOrigin::Embedded,
            PathBuf::from("Dockerfile (embedded template)"),
        )
    };
    let violations = lint_dockerfile(&dockerfile, config.port);
    if !violations.is_empty() {
        return Err(Error::DockerfileLint {
            path: lint_path,
            violations,
        });
    }
    config.dockerfile = origin;
    if origin != FileOrigin::Source {
        tree.generate("Dockerfile", FileContent::from(dockerfile));
    }
    Ok(())
}

/// The README: the user's template (with our front matter when it renders none), else ours.
fn readme(
    templates: &render::UserTemplates,
    source_readme: Option<&str>,
    tree: &mut Tree,
    config: &mut SpaceConfig,
) -> Result<()> {
    let (readme, origin) = if let Some((path, text)) = &templates.readme {
        let rendered = render::render_user(path, text, config, source_readme)?;
        let readme = render::ensure_front_matter(&rendered, config);
        render::check_front_matter(&readme, config, path)?;
        (readme, FileOrigin::UserTemplate)
    } else {
        if source_readme.is_some() {
            tree.warnings.push(
                "the source's `README.md` is replaced by the generated Space README (to keep it, use your own `README.md.j2` with `{{ source_readme }}`)".into(),
            );
        }
        (
            render::render_embedded(render::README, config, source_readme)?,
            FileOrigin::Embedded,
        )
    };
    config.readme = origin;
    tree.generate("README.md", FileContent::from(readme));
    Ok(())
}

fn missing_requirements(source: &Path, root: &Path) -> Error {
    let (reason, hint) = if root.join("pyproject.toml").is_file() || root.join("uv.lock").is_file()
    {
        (
            "it has `pyproject.toml`/`uv.lock` but no `requirements.txt`, which the Space image installs from",
            "export one: `uv export --no-dev --no-hashes -o requirements.txt` (or `pip-compile pyproject.toml -o requirements.txt`)",
        )
    } else {
        (
            "it has no `requirements.txt`",
            "SOURCE must be the backend folder holding `app/` and `requirements.txt`",
        )
    };
    Error::InvalidSource {
        path: source.to_path_buf(),
        reason: reason.into(),
        hint: Some(hint.into()),
    }
}

/// Title from the Space name (`rag-chatbot` -> `Rag Chatbot`), else from the folder name.
fn default_title(space: Option<&SpaceId>, root: &Path) -> String {
    let raw = match space {
        Some(space) => space.name().to_string(),
        None => root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let words: Vec<String> = raw
        .split(['-', '_', '.', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect();
    if words.is_empty() {
        "FastAPI Space".into()
    } else {
        words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend folder with the given files (`->target` makes a symbolic link).
    fn backend(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for (path, content) in files {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            match content.strip_prefix("->") {
                #[cfg(unix)]
                Some(target) => std::os::unix::fs::symlink(target, &full).expect("symlink"),
                _ => std::fs::write(&full, content).expect("write"),
            }
        }
        dir
    }

    const MAIN: &str = "from fastapi import FastAPI\nfrom app.api import health\napp = FastAPI()\napp.include_router(health.router, prefix=\"/api\")\n";
    const HEALTH: &str = "from fastapi import APIRouter\nrouter = APIRouter()\n@router.get(\"/health\")\ndef health():\n    return {\"status\": \"healthy\"}\n";

    fn minimal() -> Vec<(&'static str, &'static str)> {
        vec![
            ("requirements.txt", "fastapi\nuvicorn\npytest\n"),
            ("app/__init__.py", ""),
            ("app/main.py", MAIN),
            ("app/api/health.py", HEALTH),
        ]
    }

    fn with(extra: &[(&'static str, &'static str)]) -> tempfile::TempDir {
        let mut files = minimal();
        files.extend_from_slice(extra);
        backend(&files)
    }

    fn paths(scaffold: &Scaffold) -> Vec<&str> {
        scaffold.files.keys().map(String::as_str).collect()
    }

    fn skipped(scaffold: &Scaffold) -> Vec<(&str, &str)> {
        scaffold
            .skipped
            .iter()
            .map(|s| (s.path.as_str(), s.reason.as_str()))
            .collect()
    }

    #[test]
    fn minimal_backend_gets_dockerfile_readme_inits_and_filtered_requirements() {
        let dir = with(&[]);
        let out = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap();
        assert_eq!(
            paths(&out),
            [
                ".gitattributes",
                "Dockerfile",
                "README.md",
                "app/__init__.py",
                "app/api/__init__.py",
                "app/api/health.py",
                "app/main.py",
                "requirements.txt"
            ]
        );
        assert_eq!(
            out.generated,
            [
                ".gitattributes",
                "Dockerfile",
                "README.md",
                "app/api/__init__.py",
                "requirements.txt"
            ]
        );
        assert_eq!(
            out.files["requirements.txt"].read().unwrap().as_ref(),
            b"fastapi\nuvicorn\n"
        );
        assert_eq!(out.dropped_requirements[0].name, "pytest");
        assert_eq!(out.config.app_spec(), "app.main:app");
        assert_eq!(
            out.config.endpoints,
            [Endpoint {
                path: "/api/health".into(),
                method: "GET".into()
            }]
        );
        assert_eq!(out.config.python_version, "3.11");
        let dockerfile = out.files["Dockerfile"].text().unwrap();
        assert!(
            dockerfile.contains("FROM python:3.11-slim\n"),
            "{dockerfile}"
        );
        assert!(
            dockerfile.ends_with(
                "CMD [\"uvicorn\",\"app.main:app\",\"--host\",\"0.0.0.0\",\"--port\",\"7860\"]\n"
            ),
            "{dockerfile}"
        );
        assert_eq!(lint_dockerfile(&dockerfile, 7860), []);
        let readme = out.files["README.md"].text().unwrap();
        assert!(readme.contains("This app needs no secrets."), "{readme}");
        assert!(
            readme.contains("{\"status\": \"healthy\", \"services\": {\"fastapi\": \"ok\"}}"),
            "{readme}"
        );
        assert!(readme.contains("| `GET` | `/api/health` |"), "{readme}");
    }

    #[test]
    fn default_excludes_and_gitignore_apply_and_env_files_are_reported() {
        let dir = with(&[
            (".gitignore", "*.log\n.env\nsecret_dir/\n"),
            (".env", "GEMINI_API_KEY=real"),
            (".env.example", "GEMINI_API_KEY=placeholder"),
            ("config/.env.production", "X=1"),
            ("debug.log", "x"),
            ("secret_dir/a.txt", "x"),
            ("app/__pycache__/main.cpython-311.pyc", "x"),
            ("app/stale.pyc", "x"),
            ("tests/test_app.py", "x"),
            (".venv/bin/python", "x"),
            ("node_modules/x/index.js", "x"),
            (".pytest_cache/v", "x"),
            (".hidden_config", "kept"),
        ]);
        let out = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap();
        let files = paths(&out);
        assert!(files.contains(&".hidden_config"), "{files:?}");
        assert!(files.contains(&".gitignore"), "{files:?}");
        for gone in [
            ".env",
            ".env.example",
            "config/.env.production",
            "debug.log",
            "secret_dir/a.txt",
            "app/stale.pyc",
            "tests/test_app.py",
        ] {
            assert!(!files.contains(&gone), "{gone} in {files:?}");
        }
        let skipped = skipped(&out);
        let reason_of = |p: &str| skipped.iter().find(|(path, _)| *path == p).map(|(_, r)| *r);
        assert_eq!(reason_of(".env"), Some(walk::ENV_REASON), "{skipped:?}");
        assert_eq!(reason_of(".env.example"), Some(walk::ENV_REASON));
        assert_eq!(reason_of("config/.env.production"), Some(walk::ENV_REASON));
        assert_eq!(reason_of("tests/"), Some("excluded by default (`tests/`)"));
        assert_eq!(
            reason_of("app/__pycache__/"),
            Some("excluded by default (`__pycache__/`)")
        );
        assert_eq!(reason_of(".venv/"), Some("excluded by default (`.venv/`)"));
        assert_eq!(
            reason_of("node_modules/"),
            Some("excluded by default (`node_modules/`)")
        );
        assert_eq!(
            reason_of("app/stale.pyc"),
            Some("excluded by default (`*.pyc`)")
        );
        // Plain `.gitignore` matches are silent.
        assert_eq!(reason_of("debug.log"), None);
    }

    #[test]
    fn user_excludes_leave_files_out_and_cannot_reinclude() {
        let dir = with(&[
            ("docs/guide.md", "x"),
            ("data/big.csv", "x"),
            ("app/notes.txt", "x"),
        ]);
        let options = ScaffoldOptions {
            excludes: vec!["docs/".into(), "*.csv".into(), "/app/notes.txt".into()],
            ..Default::default()
        };
        let out = scaffold(dir.path(), &options).unwrap();
        let files = paths(&out);
        assert!(
            !files
                .iter()
                .any(|f| f.starts_with("docs/") || f.ends_with(".csv") || f.ends_with("notes.txt")),
            "{files:?}"
        );
        assert!(skipped(&out).contains(&("docs/", "excluded by pattern `docs/`")));
        let reinclude = ScaffoldOptions {
            excludes: vec!["!.env".into()],
            ..Default::default()
        };
        let err = scaffold(dir.path(), &reinclude).unwrap_err();
        assert!(err.to_string().contains("`exclude`"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_inside_are_read_and_outside_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "x").unwrap();
        let dir = with(&[
            ("shared/data.txt", "inside"),
            ("app/data.txt", "->../shared/data.txt"),
            ("app/env", "->../.env"),
            (".env", "A=1"),
        ]);
        let out = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap();
        assert_eq!(
            out.files["app/data.txt"].read().unwrap().as_ref(),
            b"inside"
        );
        assert!(!out.files.contains_key("app/env"));
        assert!(skipped(&out).contains(&("app/env", walk::ENV_REASON)));

        let target = outside.path().join("secret.txt");
        std::os::unix::fs::symlink(&target, dir.path().join("app/leak.txt")).unwrap();
        let err = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap_err();
        assert!(matches!(err, Error::InvalidSource { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains("symbolic link `app/leak.txt` points outside"),
            "{err}"
        );

        std::fs::remove_file(dir.path().join("app/leak.txt")).unwrap();
        std::os::unix::fs::symlink("/nonexistent/nowhere", dir.path().join("app/dangling"))
            .unwrap();
        let err = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains("`app/dangling` points to nothing"),
            "{err}"
        );
    }

    /// The reason `path` was left out, if it was.
    fn reason<'a>(out: &'a Scaffold, path: &str) -> Option<&'a str> {
        out.skipped
            .iter()
            .find(|s| s.path == path)
            .map(|s| s.reason.as_str())
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_judged_by_its_target_as_a_file_there_would_be() {
        let dir = with(&[
            (
                ".git/config",
                "[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n",
            ),
            (".gitignore", "secrets.json\n.env.local\n"),
            ("secrets.json", "{\"key\": \"s3cret\"}"),
            (".env.local", "A=1"),
            ("docs/guide.md", "guide"),
            ("shared/data.txt", "inside"),
            ("app/git_config", "->../.git/config"),
            ("app/settings.json", "->../secrets.json"),
            ("app/defaults.cfg", "->../.env.local"),
            ("app/guide.md", "->../docs/guide.md"),
            ("app/hop", "->../shared/data.txt"),
            ("app/data.txt", "->hop"),
        ]);
        let options = ScaffoldOptions {
            excludes: vec!["docs/".into()],
            ..Default::default()
        };
        let out = scaffold(dir.path(), &options).unwrap();
        for gone in [
            "app/git_config",
            "app/settings.json",
            "app/defaults.cfg",
            "app/guide.md",
            "secrets.json",
        ] {
            assert!(!out.files.contains_key(gone), "{gone}: {:?}", paths(&out));
        }
        assert_eq!(
            reason(&out, "app/git_config"),
            Some(
                "symbolic link to `.git/config`, which is not deployed (it is left out: excluded by default (`.git/`))"
            )
        );
        assert!(
            reason(&out, "app/settings.json")
                .is_some_and(|r| r.contains("`secrets.json`") && r.contains("`.gitignore`")),
            "{:?}",
            out.skipped
        );
        assert_eq!(reason(&out, "app/defaults.cfg"), Some(walk::ENV_REASON));
        assert!(
            reason(&out, "app/guide.md").is_some_and(|r| r.contains("excluded by pattern `docs/`")),
            "{:?}",
            out.skipped
        );
        // A chain of links inside the source goes in as the content of the file at its end.
        let root = dir.path().canonicalize().unwrap();
        assert_eq!(
            out.files["app/data.txt"],
            FileContent::Source {
                path: root.join("shared/data.txt"),
                size: 6
            }
        );
        assert_eq!(out.files["app/hop"].read().unwrap().as_ref(), b"inside");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_loop_or_a_too_long_chain_is_an_error_naming_the_chain() {
        let dir = with(&[("app/a", "->b"), ("app/b", "->a")]);
        let err = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap_err();
        assert!(err.is_usage(), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("symbolic link `app/a` leads into a loop of symbolic links (`app/a` -> `app/b` -> `app/a`)"),
            "{message}"
        );

        let dir = with(&[("app/self", "->self")]);
        let err = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains("`app/self` leads into a loop"),
            "{err}"
        );

        // A loop through a folder link: the chain only grows.
        let dir = with(&[("d", "->."), ("x", "->d/x")]);
        let err = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("symbolic link `x` goes through too many symbolic links"),
            "{err}"
        );
    }

    /// Make a FIFO at `path` (with `mkfifo`, as the library has no call for it).
    #[cfg(unix)]
    fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("run mkfifo");
        assert!(status.success());
    }

    #[cfg(unix)]
    #[test]
    fn fifos_sockets_and_devices_are_refused_unopened_also_through_links() {
        let dir = with(&[]);
        mkfifo(&dir.path().join("app/pipe"));
        // Opening the FIFO would block this test for good; the check must not.
        let err = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap_err();
        assert!(matches!(err, Error::InvalidSource { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains("`app/pipe` is a named pipe (FIFO), not a regular file"),
            "{err}"
        );
        assert!(
            err.hint().unwrap().contains("`exclude`"),
            "{:?}",
            err.hint()
        );

        // Left out (by a pattern or `.gitignore`), it is never looked at.
        let options = ScaffoldOptions {
            excludes: vec!["app/pipe".into()],
            ..Default::default()
        };
        assert!(scaffold(dir.path(), &options).is_ok());
        std::fs::write(dir.path().join(".gitignore"), "pipe\n").unwrap();
        assert!(scaffold(dir.path(), &ScaffoldOptions::default()).is_ok());

        // Through a link with an innocent name, also when the FIFO itself is ignored.
        std::os::unix::fs::symlink("pipe", dir.path().join("app/data.csv")).unwrap();
        let err = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains(
                "symbolic link `app/data.csv` points to `app/pipe`, which is a named pipe (FIFO)"
            ),
            "{err}"
        );
        std::fs::remove_file(dir.path().join("app/data.csv")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("app/zeros")).unwrap();
        let err = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap_err();
        assert!(err.to_string().contains("points outside"), "{err}");
        std::fs::remove_file(dir.path().join("app/zeros")).unwrap();

        let socket_dir = with(&[]);
        let _listener =
            std::os::unix::net::UnixListener::bind(socket_dir.path().join("app/app.sock")).unwrap();
        let err = scaffold(socket_dir.path(), &ScaffoldOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains("`app/app.sock` is a socket"),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn ignore_files_the_walk_reads_must_be_regular_files() {
        // In the source, in a sub-folder, and through a link to a device.
        let dir = with(&[]);
        mkfifo(&dir.path().join(".gitignore"));
        let err = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("`.gitignore` is a named pipe (FIFO), not a regular file"),
            "{err}"
        );

        let dir = with(&[]);
        mkfifo(&dir.path().join("app/.ignore"));
        let err = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains("`app/.ignore` is a named pipe"),
            "{err}"
        );

        let dir = with(&[("app/.gitignore", "->/dev/zero")]);
        let err = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("`app/.gitignore` is a character device"),
            "{err}"
        );

        // The repository's `info/exclude`, in the folder above the source.
        let repo = tempfile::tempdir().unwrap();
        let source = repo.path().join("backend");
        std::fs::create_dir_all(repo.path().join(".git/info")).unwrap();
        mkfifo(&repo.path().join(".git/info/exclude"));
        for (path, content) in minimal() {
            let full = source.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, content).unwrap();
        }
        let err = scaffold(&source, &ScaffoldOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains(".git/info/exclude` is a named pipe"),
            "{err}"
        );
    }

    #[test]
    fn write_to_refuses_the_source_a_folder_inside_it_or_one_holding_it() {
        let parent = tempfile::tempdir().unwrap();
        let source = parent.path().join("backend");
        for (path, content) in minimal() {
            let full = source.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, content).unwrap();
        }
        let out = scaffold(&source, &ScaffoldOptions::default()).unwrap();
        for (dir, relation) in [
            (source.clone(), "is the source folder"),
            (source.join("space"), "is inside the source folder"),
            (source.join("new/../app/x"), "is inside the source folder"),
            (parent.path().join("backend/./space/deeper"), "is inside"),
            (parent.path().to_path_buf(), "holds the source folder"),
        ] {
            let err = out.write_to(&dir).unwrap_err();
            assert_eq!(err.field(), Some(Field::Out), "{err:?}");
            assert!(err.to_string().contains(relation), "{dir:?}: {err}");
            assert!(
                err.hint().unwrap().contains("outside the source"),
                "{err:?}"
            );
        }
        assert!(!source.join("space").exists() && !source.join("new").exists());
        let names: Vec<_> = std::fs::read_dir(&source)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            !names
                .iter()
                .any(|n| n.to_string_lossy().starts_with(".hf-deploy")),
            "{names:?}"
        );
        // Beside the source is fine.
        out.write_to(&parent.path().join("space")).unwrap();
        assert!(parent.path().join("space/Dockerfile").is_file());
    }

    #[test]
    fn user_dockerfile_is_kept_when_it_passes_and_reported_line_by_line_when_not() {
        let good = "FROM python:3.12\nRUN useradd -m -u 1000 user\nUSER user\nWORKDIR /home/user/app\nCOPY --chown=user . .\nRUN pip install --user -r requirements.txt\nEXPOSE 7860\nCMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"7860\"]\n";
        let dir = with(&[("Dockerfile", good)]);
        let out = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap();
        assert_eq!(
            out.files["Dockerfile"].read().unwrap().as_ref(),
            good.as_bytes()
        );
        assert_eq!(out.config.dockerfile, FileOrigin::Source);
        assert!(!out.generated.contains(&"Dockerfile".to_string()));

        let bad = "FROM python:3.12\nCOPY .env .env\nRUN useradd -m -u 1000 user\nUSER user\nCOPY . .\nEXPOSE 8000\nCMD uvicorn app.main:app --port 8000\n";
        let dir = with(&[("Dockerfile", bad)]);
        let err = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap_err();
        let Error::DockerfileLint { path, violations } = &err else {
            panic!("{err:?}")
        };
        assert!(path.ends_with("Dockerfile"));
        let found: Vec<_> = violations.iter().map(|v| (v.line, v.rule)).collect();
        assert_eq!(
            found,
            [
                (Some(2), "env-file"),
                (Some(5), "copy-chown"),
                (Some(6), "port"),
                (Some(7), "port")
            ]
        );
        assert!(err.to_string().contains("line 6: [port]"), "{err}");
    }

    #[test]
    fn user_templates_are_rendered_with_the_same_context_and_linted() {
        let dir = with(&[(
            "README.md",
            "---\ntitle: old\n---\n# My backend\nKeep me.\n",
        )]);
        let templates = tempfile::tempdir().unwrap();
        std::fs::write(
            templates.path().join("README.md.j2"),
            "{{ front_matter }}\n# {{ space.title }}\n{{ source_readme }}\n{% for e in space.endpoints %}{{ e.method }} {{ e.path }}\n{% endfor %}",
        )
        .unwrap();
        std::fs::write(
            templates.path().join("Dockerfile.j2"),
            "FROM python:{{ space.python_version }}\nRUN useradd -m -u 1000 user\nUSER user\nCOPY . .\nEXPOSE {{ space.port }}\nCMD {{ cmd }}\n",
        )
        .unwrap();
        let options = ScaffoldOptions {
            templates_dir: Some(templates.path().into()),
            title: Some("Mine".into()),
            ..Default::default()
        };
        let err = scaffold(dir.path(), &options).unwrap_err();
        let Error::DockerfileLint { path, violations } = &err else {
            panic!("{err:?}")
        };
        assert!(path.ends_with("Dockerfile.j2"), "{path:?}");
        assert_eq!(
            violations
                .iter()
                .map(|v| (v.line, v.rule))
                .collect::<Vec<_>>(),
            [(Some(4), "copy-chown")]
        );

        std::fs::write(
            templates.path().join("Dockerfile.j2"),
            "FROM python:{{ space.python_version }}\nRUN useradd -m -u 1000 user\nUSER user\nCOPY --chown=user . .\nEXPOSE {{ space.port }}\nCMD {{ cmd }}\n",
        )
        .unwrap();
        let out = scaffold(dir.path(), &options).unwrap();
        assert_eq!(out.config.dockerfile, FileOrigin::UserTemplate);
        assert_eq!(out.config.readme, FileOrigin::UserTemplate);
        let readme = out.files["README.md"].text().unwrap();
        assert!(readme.starts_with("---\ntitle: \"Mine\"\n"), "{readme}");
        assert!(
            readme.contains("# Mine\n# My backend\nKeep me.\n"),
            "{readme}"
        );
        assert!(readme.contains("GET /api/health\n"), "{readme}");

        std::fs::write(
            templates.path().join("README.md.j2"),
            "{{ space.no_such_field }}",
        )
        .unwrap();
        let err = scaffold(dir.path(), &options).unwrap_err();
        assert!(
            matches!(&err, Error::UserTemplate { line: Some(1), .. }) && err.is_usage(),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("README.md.j2:1`: undefined value"),
            "{err}"
        );
        std::fs::write(
            templates.path().join("README.md.j2"),
            "---\nsdk: gradio\n---\nx\n",
        )
        .unwrap();
        let err = scaffold(dir.path(), &options).unwrap_err();
        assert!(
            err.to_string().contains("`templates_dir`") && err.to_string().contains("gradio"),
            "{err}"
        );
    }

    #[test]
    fn source_readme_is_replaced_with_a_warning() {
        let dir = with(&[("README.md", "# Dev notes\n")]);
        let out = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap();
        let readme = out.files["README.md"].text().unwrap();
        assert!(readme.contains("## Required secrets"), "{readme}");
        assert!(!readme.contains("Dev notes"));
        assert!(
            out.warnings.iter().any(|w| w.contains("README.md")),
            "{:?}",
            out.warnings
        );
    }

    #[test]
    fn requirement_includes_are_copied_before_install() {
        let dir = with(&[
            (
                "requirements.txt",
                "-r requirements/base.txt\n-c constraints.txt\npytest\n",
            ),
            ("requirements/base.txt", "fastapi\n"),
            ("constraints.txt", "fastapi<1\n"),
        ]);
        let out = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap();
        assert_eq!(
            out.config.requirement_files,
            [
                "requirements.txt",
                "requirements/base.txt",
                "constraints.txt"
            ]
        );
        let dockerfile = out.files["Dockerfile"].text().unwrap();
        assert!(
            dockerfile.contains("COPY --chown=user requirements/base.txt requirements/base.txt\n"),
            "{dockerfile}"
        );
    }

    #[test]
    fn write_to_is_atomic_and_only_replaces_its_own_folders() {
        let dir = with(&[]);
        let out = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap();
        let parent = tempfile::tempdir().unwrap();
        let target = parent.path().join("space");
        out.write_to(&target).unwrap();
        assert_eq!(
            std::fs::read(target.join("Dockerfile")).unwrap(),
            out.files["Dockerfile"].read().unwrap().as_ref()
        );
        assert!(target.join(MARKER_FILE).is_file());
        // Private while written, the output then has the mode of any new folder here.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let probe = parent.path().join("probe");
            std::fs::create_dir(&probe).unwrap();
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode();
            assert_eq!(mode(&target), mode(&probe));
            std::fs::remove_dir(&probe).unwrap();
        }
        // A stale file from an earlier scaffold disappears on the next one.
        std::fs::write(target.join("stale.txt"), "x").unwrap();
        out.write_to(&target).unwrap();
        assert!(!target.join("stale.txt").exists());
        // Only the target is left in the parent: no temporary folders.
        let names: Vec<_> = std::fs::read_dir(parent.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["space"]);
        // The source (a foreign, non-empty folder) is never overwritten.
        let err = out.write_to(dir.path()).unwrap_err();
        assert!(err.to_string().contains("`out`"), "{err}");
        assert!(dir.path().join("app/main.py").is_file());
        let file = parent.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert!(
            out.write_to(&file)
                .unwrap_err()
                .to_string()
                .contains("not a folder")
        );
        let empty = parent.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        out.write_to(&empty).unwrap();
        assert!(empty.join("README.md").is_file());
    }

    #[test]
    fn pyproject_only_projects_are_refused_with_an_export_hint() {
        let dir = backend(&[
            ("pyproject.toml", "[project]\nname = \"x\"\n"),
            ("app/main.py", MAIN),
        ]);
        let err = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap_err();
        assert!(matches!(err, Error::InvalidSource { .. }), "{err:?}");
        assert!(err.to_string().contains("requirements.txt"), "{err}");
        assert!(
            err.hint().unwrap().contains("uv export --no-dev"),
            "{:?}",
            err.hint()
        );
    }

    #[test]
    fn a_health_path_without_a_route_is_a_warning() {
        let dir = with(&[]);
        let out = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let options = ScaffoldOptions {
            health_path: Some(HealthPath::parse("/healthz").unwrap()),
            ..Default::default()
        };
        let out = scaffold(dir.path(), &options).unwrap();
        assert!(
            out.warnings.iter().any(|w| w.contains("`GET /healthz`")),
            "{:?}",
            out.warnings
        );
    }

    #[test]
    fn the_installer_and_build_tools_options_shape_the_dockerfile() {
        let dir = with(&[]);
        let dockerfile = |options: ScaffoldOptions| {
            let out = scaffold(dir.path(), &options).unwrap();
            out.files["Dockerfile"].text().unwrap()
        };
        let uv = dockerfile(ScaffoldOptions::default());
        assert!(
            uv.contains(&format!("pip install --no-cache-dir uv=={UV_VERSION}")),
            "{uv}"
        );
        assert!(uv.contains("uv pip install -r requirements.txt"), "{uv}");
        assert!(uv.contains("VIRTUAL_ENV=/home/user/venv"), "{uv}");
        assert!(!uv.contains("apt-get"), "no compilers by default: {uv}");
        assert!(!uv.contains("curl"), "{uv}");

        let pip = dockerfile(ScaffoldOptions {
            installer: Installer::Pip,
            ..Default::default()
        });
        assert!(
            pip.contains("RUN pip install --no-cache-dir --user -r requirements.txt"),
            "{pip}"
        );
        assert!(!pip.contains("uv ") && !pip.contains("UV_"), "{pip}");

        let tools = dockerfile(ScaffoldOptions {
            build_tools: true,
            ..Default::default()
        });
        assert!(
            tools.contains("apt-get install -y --no-install-recommends gcc g++"),
            "{tools}"
        );
        // Root work comes before `USER user`, in one layer.
        let apt = tools.find("apt-get install").unwrap();
        assert!(apt < tools.find("USER user").unwrap(), "{tools}");
        assert_eq!(tools.matches("\nRUN ").count(), 2, "{tools}");

        assert_eq!(Installer::parse("PIP").unwrap(), Installer::Pip);
        let err = Installer::parse("conda").unwrap_err();
        assert!(err.to_string().contains("`installer`"), "{err}");
    }

    #[test]
    fn source_files_stay_on_disk_and_only_generated_files_are_held() {
        let dir = with(&[("data/table.csv", "a,b\n1,2\n")]);
        let out = scaffold(dir.path(), &ScaffoldOptions::default()).unwrap();
        let root = dir.path().canonicalize().unwrap();
        assert_eq!(
            out.files["data/table.csv"],
            FileContent::Source {
                path: root.join("data/table.csv"),
                size: 8
            }
        );
        assert!(out.files["app/main.py"].in_memory().is_none());
        for generated in &out.generated {
            assert!(out.files[generated].in_memory().is_some(), "{generated}");
        }
        // `write_to` copies a source file as it is.
        let target = tempfile::tempdir().unwrap();
        let space = target.path().join("space");
        out.write_to(&space).unwrap();
        assert_eq!(
            std::fs::read(space.join("data/table.csv")).unwrap(),
            b"a,b\n1,2\n"
        );
    }

    #[test]
    fn default_title_comes_from_the_space_name() {
        let dir = with(&[]);
        let options = ScaffoldOptions {
            space: Some(SpaceId::parse("alice/rag-chat_bot", Field::Space).unwrap()),
            ..Default::default()
        };
        let out = scaffold(dir.path(), &options).unwrap();
        assert_eq!(out.config.title, "Rag Chat Bot");
        assert_eq!(out.config.space.as_deref(), Some("alice/rag-chat_bot"));
    }
}
