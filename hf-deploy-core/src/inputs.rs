//! One raw-to-validated step: what the user typed -> [`DeployOptions`] (with the scaffold of the
//! source already built), or the first bad input as [`Error::InvalidInput`] naming a [`Field`].
//!
//! The front ends (the command line, the GitHub Action) fill a [`RawInputs`] with the values as
//! the user gave them and call [`resolve`]. Every rule about a user input lives here (or in a
//! function this module calls: secrets and variables in the settings module, the scaffold's own
//! checks of the source folder and of a user Dockerfile in [`crate::scaffold`]), so that
//! everything that can be checked is checked before the first remote call.
//!
//! The library speaks of fields, never of flags: an error carries a [`Field`], and its text and
//! hint are [`Phrase`]s that mention other fields by [`Field`] too. A front end renders them with
//! its own spelling ([`Error::message_with`], [`Error::hint_with`]): the command line says
//! `--color-from`, a workflow says `color-from`. [`Field::name`] is the neutral spelling used by
//! `Display`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::deploy::{DeployOptions, PollSettings};
use crate::error::{Error, Result};
use crate::scaffold::{
    self, ALLOWED_COLORS, DEFAULT_HEALTH_PATH, SHORT_DESCRIPTION_MAX, ScaffoldOptions, SecretDoc,
};
use crate::settings::{self, Settings, SettingsInput};
pub use crate::space::parse_http_url;
use crate::space::{SpaceId, parse_origin};

/// A user input, named independently of how a front end spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// The target Space `namespace/name`.
    Space,
    /// The backend folder.
    Source,
    /// The folder a scaffold is written to.
    Out,
    /// Space secrets (`KEY=VALUE` entries).
    Secrets,
    /// A dotenv file of secrets.
    SecretsFile,
    /// Space variables (`KEY=VALUE` entries).
    Variables,
    /// Frontend origins.
    FrontendUrl,
    /// The health endpoint path.
    HealthPath,
    /// The app URL override.
    AppUrl,
    /// The deployed app URL given to the frontend rewrite.
    ApiUrl,
    /// Create the Space private.
    Private,
    /// The hardware flavor.
    Hardware,
    /// Wait for the build and verify.
    Wait,
    /// The deadline for build plus health.
    Timeout,
    /// Plan only.
    DryRun,
    /// Accept `degraded` health.
    AllowDegraded,
    /// README `title`.
    Title,
    /// README `emoji`.
    Emoji,
    /// README `colorFrom`.
    ColorFrom,
    /// README `colorTo`.
    ColorTo,
    /// README `short_description`.
    ShortDescription,
    /// The port the app listens on.
    Port,
    /// The ASGI app `MODULE:ATTR`.
    App,
    /// Patterns left out of the Space.
    Exclude,
    /// Remote paths kept although the scaffold does not produce them.
    Keep,
    /// The Hub token.
    Token,
    /// README `license` (library option).
    License,
    /// README `tags` (library option).
    Tags,
    /// Requirement names dropped as test-only (library option).
    TestRequirements,
    /// A folder of user templates (library option).
    TemplatesDir,
    /// How the Dockerfile installs the requirements (`uv` or `pip`).
    Installer,
    /// A parameter of a library call that no front end exposes (e.g. `max attempts`).
    Other(&'static str),
}

impl Field {
    /// Every input a front end may spell (not [`Field::Other`]).
    pub const ALL: [Field; 31] = [
        Field::Space,
        Field::Source,
        Field::Out,
        Field::Secrets,
        Field::SecretsFile,
        Field::Variables,
        Field::FrontendUrl,
        Field::HealthPath,
        Field::AppUrl,
        Field::ApiUrl,
        Field::Private,
        Field::Hardware,
        Field::Wait,
        Field::Timeout,
        Field::DryRun,
        Field::AllowDegraded,
        Field::Title,
        Field::Emoji,
        Field::ColorFrom,
        Field::ColorTo,
        Field::ShortDescription,
        Field::Port,
        Field::App,
        Field::Exclude,
        Field::Keep,
        Field::Token,
        Field::License,
        Field::Tags,
        Field::TestRequirements,
        Field::TemplatesDir,
        Field::Installer,
    ];

    /// The neutral name (kebab case), used by `Display` and when no front end words the error.
    pub fn name(self) -> &'static str {
        match self {
            Field::Space => "space",
            Field::Source => "source",
            Field::Out => "out",
            Field::Secrets => "secrets",
            Field::SecretsFile => "secrets-file",
            Field::Variables => "variables",
            Field::FrontendUrl => "frontend-url",
            Field::HealthPath => "health-path",
            Field::AppUrl => "app-url",
            Field::ApiUrl => "api-url",
            Field::Private => "private",
            Field::Hardware => "hardware",
            Field::Wait => "wait",
            Field::Timeout => "timeout",
            Field::DryRun => "dry-run",
            Field::AllowDegraded => "allow-degraded",
            Field::Title => "title",
            Field::Emoji => "emoji",
            Field::ColorFrom => "color-from",
            Field::ColorTo => "color-to",
            Field::ShortDescription => "short-description",
            Field::Port => "port",
            Field::App => "app",
            Field::Exclude => "exclude",
            Field::Keep => "keep",
            Field::Token => "token",
            Field::License => "license",
            Field::Tags => "tags",
            Field::TestRequirements => "test_requirements",
            Field::TemplatesDir => "templates_dir",
            Field::Installer => "installer",
            Field::Other(name) => name,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A field by its neutral name; any other name is a [`Field::Other`].
impl From<&'static str> for Field {
    fn from(name: &'static str) -> Self {
        Field::ALL
            .into_iter()
            .find(|field| field.name() == name)
            .unwrap_or(Field::Other(name))
    }
}

impl PartialEq<str> for Field {
    fn eq(&self, other: &str) -> bool {
        self.name() == other
    }
}

/// How a front end spells each field.
pub type Spelling = fn(Field) -> &'static str;

/// Text that may mention fields, rendered by a front end with its own spelling. Fields render
/// as the spelling in backticks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Phrase(Vec<Part>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Field),
}

impl Phrase {
    /// A phrase starting with `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Phrase(vec![Part::Text(text.into())])
    }

    /// Append text.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.0.push(Part::Text(text.into()));
        self
    }

    /// Append a mention of `field`.
    pub fn field(mut self, field: Field) -> Self {
        self.0.push(Part::Field(field));
        self
    }

    /// Append another phrase.
    pub fn append(mut self, other: Phrase) -> Self {
        self.0.extend(other.0);
        self
    }

    /// The text with each field spelled by `spelling`, in backticks.
    pub fn render(&self, spelling: Spelling) -> String {
        self.0
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.clone(),
                Part::Field(field) => format!("`{}`", spelling(*field)),
            })
            .collect()
    }

    /// The fields this phrase mentions.
    pub fn fields(&self) -> impl Iterator<Item = Field> + '_ {
        self.0.iter().filter_map(|part| match part {
            Part::Field(field) => Some(*field),
            Part::Text(_) => None,
        })
    }
}

impl fmt::Display for Phrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Field::name))
    }
}

impl From<String> for Phrase {
    fn from(text: String) -> Self {
        Phrase::new(text)
    }
}

impl From<&str> for Phrase {
    fn from(text: &str) -> Self {
        Phrase::new(text)
    }
}

/// One `KEY=VALUE` entry of a secrets or variables list, as typed. `Debug` shows the key only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RawEntry {
    /// `KEY=VALUE`, or a bare `KEY` (command line only: its value comes from `from_env`).
    pub text: String,
    /// 1-based line in a multiline list (the action's `secrets`), when it came from one. A line
    /// without `=` is malformed; a bare key is only accepted outside a list.
    pub line: Option<usize>,
    /// For a bare `KEY`: the value of the environment variable `KEY`, looked up by the front end
    /// (the library reads no environment). `None` when it is not set.
    pub from_env: Option<String>,
}

impl fmt::Debug for RawEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.text.split_once('=').map_or("<bare>", |(k, _)| k);
        f.debug_struct("RawEntry")
            .field("key", &key)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

impl RawEntry {
    /// A command-line entry: `KEY=VALUE`, or a bare `KEY` whose value `lookup` gives.
    pub fn arg(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Self {
        let from_env = if text.contains('=') {
            None
        } else {
            lookup(text)
        };
        RawEntry {
            text: text.to_string(),
            line: None,
            from_env,
        }
    }

    /// The entries of a multiline list: one `KEY=VALUE` per line, blank lines and lines starting
    /// with `#` skipped, `\r` line ends accepted. Each entry keeps its line number.
    pub fn lines(text: &str) -> Vec<Self> {
        text.lines()
            .enumerate()
            .filter_map(|(index, raw)| {
                let line = raw.trim_end_matches('\r');
                if line.trim().is_empty() || line.trim_start().starts_with('#') {
                    return None;
                }
                Some(RawEntry {
                    text: line.to_string(),
                    line: Some(index + 1),
                    from_env: None,
                })
            })
            .collect()
    }
}

/// What the user gave, before any check. Front ends fill it; [`resolve`] checks it.
#[derive(Debug, Clone)]
pub struct RawInputs {
    /// Target Space `namespace/name`; required by [`resolve`].
    pub space: Option<String>,
    /// The backend folder.
    pub source: PathBuf,
    /// Secret entries.
    pub secrets: Vec<RawEntry>,
    /// A dotenv file of secrets.
    pub secrets_file: Option<PathBuf>,
    /// Variable entries.
    pub variables: Vec<RawEntry>,
    /// Frontend origins, one per item.
    pub frontend_urls: Vec<String>,
    /// Health path; default `/api/health`.
    pub health_path: Option<String>,
    /// App URL override.
    pub app_url: Option<String>,
    /// Create the Space private.
    pub private: bool,
    /// Hardware flavor.
    pub hardware: Option<String>,
    /// Wait for the build and verify.
    pub wait: bool,
    /// Deadline for build plus health.
    pub timeout: Duration,
    /// Plan only.
    pub dry_run: bool,
    /// Accept `degraded` health.
    pub allow_degraded: bool,
    /// README `title`.
    pub title: Option<String>,
    /// README `emoji`.
    pub emoji: Option<String>,
    /// README `colorFrom`.
    pub color_from: Option<String>,
    /// README `colorTo`.
    pub color_to: Option<String>,
    /// README `short_description`.
    pub short_description: Option<String>,
    /// App port.
    pub port: Option<u16>,
    /// ASGI app `MODULE:ATTR`.
    pub app: Option<String>,
    /// Exclude patterns.
    pub excludes: Vec<String>,
    /// How the Dockerfile installs the requirements.
    pub installer: crate::scaffold::Installer,
    /// Install compilers in the image (for a requirement without a wheel).
    pub build_tools: bool,
    /// Keep globs.
    pub keep: Vec<String>,
    /// The commit message of the push.
    pub commit_message: String,
}

/// Longest deadline accepted: one day.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

impl Default for RawInputs {
    fn default() -> Self {
        RawInputs {
            space: None,
            source: PathBuf::from("backend"),
            secrets: Vec::new(),
            secrets_file: None,
            variables: Vec::new(),
            frontend_urls: Vec::new(),
            health_path: None,
            app_url: None,
            private: false,
            hardware: None,
            wait: true,
            timeout: Duration::from_secs(1200),
            dry_run: false,
            allow_degraded: false,
            title: None,
            emoji: None,
            color_from: None,
            color_to: None,
            short_description: None,
            port: None,
            app: None,
            excludes: Vec::new(),
            installer: crate::scaffold::Installer::default(),
            build_tools: false,
            keep: Vec::new(),
            commit_message: "Deploy with hf-deploy".into(),
        }
    }
}

/// Check every input, build the scaffold of the source, and return the options of the deploy
/// with that scaffold in [`DeployOptions::prepared`]. Reads the source folder (and the secrets
/// file); sends nothing anywhere.
///
/// # Errors
///
/// The first bad input: [`Error::InvalidInput`] naming its [`Field`], or the scaffold's
/// [`Error::InvalidSource`] / [`Error::DockerfileLint`].
pub fn resolve(raw: &RawInputs) -> Result<DeployOptions> {
    let space = match raw.space.as_deref() {
        Some(value) => SpaceId::parse(value.trim(), Field::Space)?,
        None => {
            return Err(Error::invalid_input_hint(
                Field::Space,
                "no target Space was given",
                Phrase::new("give ")
                    .field(Field::Space)
                    .text(" as `namespace/name`, e.g. `alice/rag-chatbot`"),
            ));
        }
    };
    let frontend_origins = origins(&raw.frontend_urls)?;
    let health_path = health_path(raw.health_path.as_deref())?;
    let app_url = raw.app_url.as_deref().map(app_url).transpose()?;
    if let Some(flavor) = &raw.hardware {
        hardware(flavor)?;
    }
    timeout(raw.timeout)?;
    for pattern in &raw.keep {
        keep_pattern(pattern)?;
    }
    let settings = settings::resolve(&SettingsInput {
        secrets: &raw.secrets,
        secrets_file: raw.secrets_file.as_deref(),
        variables: &raw.variables,
        frontend_origins: &frontend_origins,
    })?;
    let mut scaffold_options = scaffold_options(raw, Some(space.clone()), &health_path);
    for key in settings.secrets.keys() {
        scaffold_options.secrets.push(SecretDoc::new(key));
    }
    scaffold_options
        .variables
        .extend(settings.variables.keys().cloned());
    let prepared = scaffold::scaffold(&raw.source, &scaffold_options)?;
    Ok(DeployOptions {
        source: raw.source.clone(),
        space,
        scaffold: scaffold_options,
        settings,
        frontend_origins,
        health_path,
        app_url,
        private: raw.private,
        hardware: raw.hardware.as_deref().map(|h| h.trim().to_string()),
        wait: raw.wait,
        timeout: raw.timeout,
        dry_run: raw.dry_run,
        allow_degraded: raw.allow_degraded,
        commit_message: raw.commit_message.clone(),
        keep: raw.keep.clone(),
        poll: PollSettings::default(),
        prepared: Some(prepared),
    })
}

/// Check the inputs a scaffold alone uses (the Space is optional) and return its options.
/// [`scaffold::scaffold`] then checks the source folder.
pub fn resolve_scaffold(raw: &RawInputs) -> Result<ScaffoldOptions> {
    let space = raw
        .space
        .as_deref()
        .map(|value| SpaceId::parse(value.trim(), Field::Space))
        .transpose()?;
    let health_path = health_path(raw.health_path.as_deref())?;
    let options = scaffold_options(raw, space, &health_path);
    check_scaffold_options(&options)?;
    Ok(options)
}

/// The settings part of [`resolve`] alone: the secrets, the secrets file, the variables and the
/// frontend origins of `raw` checked and gathered by the same rules, without the Space or the
/// source. For a front end that checks a part of its inputs on its own first (each entry of a
/// configuration file, to point at the one that is wrong).
///
/// # Errors
///
/// The first bad entry: [`Error::InvalidInput`] naming [`Field::Secrets`],
/// [`Field::SecretsFile`], [`Field::Variables`] or [`Field::FrontendUrl`].
pub fn resolve_settings(raw: &RawInputs) -> Result<Settings> {
    let frontend_origins = origins(&raw.frontend_urls)?;
    settings::resolve(&SettingsInput {
        secrets: &raw.secrets,
        secrets_file: raw.secrets_file.as_deref(),
        variables: &raw.variables,
        frontend_origins: &frontend_origins,
    })
}

fn scaffold_options(raw: &RawInputs, space: Option<SpaceId>, health_path: &str) -> ScaffoldOptions {
    let trimmed = |value: &Option<String>| value.as_deref().map(|v| v.trim().to_string());
    ScaffoldOptions {
        space,
        title: raw.title.clone(),
        emoji: trimmed(&raw.emoji),
        color_from: trimmed(&raw.color_from),
        color_to: trimmed(&raw.color_to),
        short_description: raw.short_description.clone(),
        port: raw.port,
        app: trimmed(&raw.app),
        health_path: Some(health_path.to_string()),
        excludes: raw.excludes.clone(),
        installer: raw.installer,
        build_tools: raw.build_tools,
        ..ScaffoldOptions::default()
    }
}

// ----- the rules, one function each ---------------------------------------------------------

/// The health path (default `/api/health`): starts with `/`, a plain path of URL-safe
/// characters, no query or fragment.
pub fn health_path(value: Option<&str>) -> Result<String> {
    let path = value.map(str::trim).unwrap_or(DEFAULT_HEALTH_PATH);
    if !path.starts_with('/') {
        return Err(Error::invalid_input_hint(
            Field::HealthPath,
            format!("`{}` does not start with `/`", path.escape_debug()),
            format!(
                "give the path part of the URL, e.g. `/{}`",
                path.trim_start_matches('/')
            ),
        ));
    }
    if let Some(bad) = path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "/-._~%".contains(*c)))
    {
        return Err(Error::invalid_input_hint(
            Field::HealthPath,
            format!(
                "`{}` contains {bad:?}, which a health path may not hold",
                path.escape_debug()
            ),
            "use a plain path without spaces, query or fragment, e.g. `/api/health`",
        ));
    }
    Ok(path.to_string())
}

/// An explicit app URL: http(s), no credentials; returned without a trailing `/`.
pub fn app_url(value: &str) -> Result<String> {
    parse_http_url(value.trim(), Field::AppUrl)
}

/// Frontend origins, canonical and without duplicates.
pub fn origins(values: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        let origin = parse_origin(value, Field::FrontendUrl)?;
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    Ok(out)
}

/// A deadline between one second and [`MAX_TIMEOUT`].
pub fn timeout(value: Duration) -> Result<()> {
    if value.is_zero() || value > MAX_TIMEOUT {
        return Err(Error::invalid_input_hint(
            Field::Timeout,
            format!(
                "{}s is not a deadline between 1 second and one day",
                value.as_secs()
            ),
            Phrase::new("give ")
                .field(Field::Timeout)
                .text(" a positive value, e.g. 20 minutes"),
        ));
    }
    Ok(())
}

/// A whole number of minutes as typed (the action's `timeout-minutes`), between 1 and 1440.
pub fn minutes(field: Field, text: &str) -> Result<Duration> {
    let text = text.trim();
    match text.parse::<u64>() {
        Ok(n) if n > 0 && n <= MAX_TIMEOUT.as_secs() / 60 => Ok(Duration::from_secs(n * 60)),
        _ => Err(Error::invalid_input_hint(
            field,
            format!(
                "`{}` is not a whole number of minutes between 1 and 1440",
                text.escape_debug()
            ),
            "give a positive integer such as `20`",
        )),
    }
}

/// The spellings of a boolean in a workflow (YAML 1.2 core schema, as `getBooleanInput`).
pub const TRUE_VALUES: [&str; 3] = ["true", "True", "TRUE"];
/// See [`TRUE_VALUES`].
pub const FALSE_VALUES: [&str; 3] = ["false", "False", "FALSE"];

/// A boolean typed as text; `None` gives `default`.
pub fn boolean(field: Field, value: Option<&str>, default: bool) -> Result<bool> {
    let Some(value) = value.map(str::trim) else {
        return Ok(default);
    };
    if TRUE_VALUES.contains(&value) {
        Ok(true)
    } else if FALSE_VALUES.contains(&value) {
        Ok(false)
    } else {
        Err(Error::invalid_input_hint(
            field,
            format!("`{}` is not a boolean", value.escape_debug()),
            format!(
                "use one of {} (YAML 1.2 core schema)",
                TRUE_VALUES
                    .iter()
                    .chain(&FALSE_VALUES)
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }
}

/// A hardware flavor: lower-case letters, digits and `-` (the Hub's list grows, so any such
/// name is passed on; the Hub refuses an unknown one).
pub fn hardware(value: &str) -> Result<()> {
    let value = value.trim();
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !value.starts_with('-');
    if ok {
        return Ok(());
    }
    Err(Error::invalid_input_hint(
        Field::Hardware,
        format!("`{}` is not a hardware flavor name", value.escape_debug()),
        "use a flavor such as `cpu-basic`, `cpu-upgrade`, `t4-small` or `a10g-small`",
    ))
}

/// A keep glob: not empty, relative, no `..`.
pub fn keep_pattern(pattern: &str) -> Result<()> {
    let bad = pattern.trim().is_empty()
        || pattern.starts_with('/')
        || pattern.starts_with('!')
        || pattern.split('/').any(|part| part == "..");
    if bad {
        return Err(Error::invalid_input_hint(
            Field::Keep,
            format!("`{}` is not a usable path pattern", pattern.escape_debug()),
            "use git-style globs relative to the Space root, such as `data/**` or `*.db`",
        ));
    }
    Ok(())
}

/// Every option of a scaffold that a user gives. Called by [`resolve`] through
/// [`scaffold::scaffold`], and by the scaffold itself for options built by hand.
pub(crate) fn check_scaffold_options(options: &ScaffoldOptions) -> Result<()> {
    if let Some(title) = &options.title {
        if title.trim().is_empty() {
            return Err(Error::invalid_input(Field::Title, "the title is empty"));
        }
        if title.chars().any(char::is_control) {
            return Err(Error::invalid_input_hint(
                Field::Title,
                "the title contains a newline or another control character",
                "give a single-line title",
            ));
        }
    }
    if let Some(emoji) = &options.emoji {
        if let Some(reason) = emoji_problem(emoji) {
            return Err(Error::invalid_input_hint(
                Field::Emoji,
                format!("`{emoji}` {reason}"),
                "give exactly one emoji, e.g. `🚀`",
            ));
        }
    }
    for (field, value) in [
        (Field::ColorFrom, &options.color_from),
        (Field::ColorTo, &options.color_to),
    ] {
        if let Some(color) = value {
            if !ALLOWED_COLORS.contains(&color.as_str()) {
                return Err(Error::invalid_input_hint(
                    field,
                    format!("`{}` is not a colour the Hub accepts", color.escape_debug()),
                    format!("use one of: {}", ALLOWED_COLORS.join(", ")),
                ));
            }
        }
    }
    if let Some(description) = &options.short_description {
        let count = description.chars().count();
        if description.trim().is_empty() {
            return Err(Error::invalid_input(
                Field::ShortDescription,
                "the description is empty",
            ));
        }
        if description.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                Field::ShortDescription,
                "the description contains a newline or another control character",
            ));
        }
        if count > SHORT_DESCRIPTION_MAX {
            return Err(Error::invalid_input_hint(
                Field::ShortDescription,
                format!(
                    "it is {count} characters long; the Hub accepts at most {SHORT_DESCRIPTION_MAX}"
                ),
                "shorten it; put the long text in the README body",
            ));
        }
    }
    if options.port == Some(0) {
        return Err(Error::invalid_input(
            Field::Port,
            "port 0 is not a port; use 1-65535",
        ));
    }
    if let Some(app) = &options.app {
        parse_app(app)?;
    }
    if let Some(path) = &options.health_path {
        health_path(Some(path))?;
    }
    for pattern in &options.excludes {
        exclude_pattern(pattern)?;
    }
    Ok(())
}

/// Split `module:attr` and check both halves are Python identifiers.
pub(crate) fn parse_app(app: &str) -> Result<(String, String)> {
    let hint = "use `MODULE:ATTR`, e.g. `app.main:app`";
    let Some((module, attr)) = app.split_once(':') else {
        return Err(Error::invalid_input_hint(
            Field::App,
            format!("`{app}` has no `:`"),
            hint,
        ));
    };
    if module.is_empty() || !module.split('.').all(is_identifier) {
        return Err(Error::invalid_input_hint(
            Field::App,
            format!("`{module}` in `{app}` is not a dotted Python module name"),
            hint,
        ));
    }
    if !is_identifier(attr) {
        return Err(Error::invalid_input_hint(
            Field::App,
            format!("`{attr}` in `{app}` is not a Python identifier"),
            hint,
        ));
    }
    Ok((module.to_string(), attr.to_string()))
}

/// A Python identifier (ASCII subset).
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn exclude_pattern(pattern: &str) -> Result<()> {
    if pattern.trim().is_empty() {
        return Err(Error::invalid_input(
            Field::Exclude,
            "an exclude pattern is empty",
        ));
    }
    if pattern.starts_with('!') {
        return Err(Error::invalid_input_hint(
            Field::Exclude,
            format!(
                "`{pattern}` would re-include files; exclude patterns can only leave files out"
            ),
            Phrase::new(
                "drop the leading `!` (`.env*` files are never deployed; pass secrets with ",
            )
            .field(Field::Secrets)
            .text(")"),
        ));
    }
    let mut builder = ignore::gitignore::GitignoreBuilder::new("/");
    builder.add_line(None, pattern).map_err(|e| {
        Error::invalid_input_hint(
            Field::Exclude,
            format!("`{pattern}` is not a valid gitignore-style pattern ({e})"),
            "see https://git-scm.com/docs/gitignore#_pattern_format",
        )
    })?;
    builder.build().map_err(|e| {
        Error::invalid_input(
            Field::Exclude,
            format!("`{pattern}` is not a valid gitignore-style pattern ({e})"),
        )
    })?;
    Ok(())
}

/// Why `value` is not a single emoji, if it is not.
fn emoji_problem(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        return Some("is empty");
    }
    if value
        .chars()
        .any(|c| c.is_ascii() || c.is_whitespace() || c.is_control())
    {
        return Some("is not an emoji (it holds letters, digits, spaces or punctuation)");
    }
    if value.chars().count() > 12 {
        return Some("is more than one emoji");
    }
    // Joiners, variation selectors, skin tones, keycaps and tag characters decorate the
    // emoji before them; regional indicators come in pairs (flags).
    let mut base: usize = 0;
    let mut regional: usize = 0;
    for c in value.chars() {
        let u = c as u32;
        let modifier = u == 0x200D
            || (0xFE00..=0xFE0F).contains(&u)
            || (0x1F3FB..=0x1F3FF).contains(&u)
            || u == 0x20E3
            || (0xE0020..=0xE007F).contains(&u);
        if modifier {
            continue;
        }
        if (0x1F1E6..=0x1F1FF).contains(&u) {
            regional += 1;
            continue;
        }
        base += 1;
    }
    let joiners = value.chars().filter(|c| *c == '\u{200D}').count();
    let flags = regional.div_ceil(2);
    if regional % 2 == 1 {
        return Some("is not a complete flag emoji");
    }
    if base + flags == 0 {
        return Some("is not an emoji");
    }
    if base + flags > joiners + 1 {
        return Some("is more than one emoji");
    }
    None
}

#[cfg(test)]
mod tests;
