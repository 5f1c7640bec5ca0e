//! The plan: what the user typed -> a checked [`DeployOptions`] (with the scaffold of the source
//! already built), or the first bad input as [`Error::InvalidInput`] naming a [`Field`].
//!
//! The front ends fill a [`RawInputs`] with the values as the user gave them and call
//! [`resolve`] (a deploy), [`resolve_scaffold`] (a scaffold alone) or [`resolve_verify`] (a check
//! of a running app). Every rule about a user input is applied here, once, through the part that
//! owns it (the health path's [`HealthPath::parse`], the settings' key and value rules, the
//! scaffold's option and source folder checks, this module's own rules), before the first remote
//! call. Each input is then carried as its checked type.
//!
//! Errors name a [`Field`], never a front end's spelling of it (see [`crate::Spelling`]).

mod rollback;
mod rules;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::field::{Field, Phrase};
use crate::outbound::{self, BlockedPort};
use crate::scaffold::{self, Scaffold, ScaffoldOptions, SecretDoc};
use crate::settings::{self, RawEntry, Settings, SettingsInput};
use crate::space::SpaceId;
use crate::untrusted::Redactor;
use crate::urls::HealthPath;
use crate::visibility::Visibility;

pub use rollback::{RollbackOptions, resolve_rollback};
pub(crate) use rules::PRIVATE_WITH_FRONTEND;
pub use rules::minutes;

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
    /// Make the Space private: the same as `visibility` `private` (both given and disagreeing
    /// is a bad input).
    pub private: bool,
    /// The visibility asked for, as typed: `public`, `protected` or `private`. Given (or
    /// `private`), it is applied to an existing Space too; not given, an existing Space keeps its
    /// own and a new one gets `default_visibility`.
    pub visibility: Option<String>,
    /// What a new Space is created as when no visibility is asked for: public, unless the front
    /// end knows better (a preview: protected, so that its frontend reaches the app).
    pub default_visibility: Visibility,
    /// Hardware flavor.
    pub hardware: Option<String>,
    /// Rebuild the Space without the build cache after the push (alone when nothing changed).
    pub factory_reboot: bool,
    /// Seconds of inactivity before the Space sleeps, as typed (`-1`: never); paid hardware
    /// only.
    pub sleep_time: Option<String>,
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
    /// The source commit deployed (hex), named in the commit's trailers; anything else is left
    /// out of them.
    pub source_commit: Option<String>,
    /// When the new revision ends in an error stage or fails health, push the previous tree
    /// back and verify it (the deploy still fails).
    pub rollback_on_failure: bool,
    /// The earlier commit a rollback restores, as typed; `None`: the deploy before the head.
    pub rollback_to: Option<String>,
}

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
            visibility: None,
            default_visibility: Visibility::Public,
            hardware: None,
            factory_reboot: false,
            sleep_time: None,
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
            source_commit: None,
            rollback_on_failure: false,
            rollback_to: None,
        }
    }
}

/// Everything a deploy needs, checked: made by [`resolve`] only.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// The backend folder.
    pub source: PathBuf,
    /// The target Space.
    pub space: SpaceId,
    /// The Space tree built from `source`.
    pub scaffold: Scaffold,
    /// Secrets and variables to set.
    pub settings: Settings,
    /// Frontend origins to check CORS for (already merged into `ALLOWED_ORIGINS`).
    pub frontend_origins: Vec<String>,
    /// The health path.
    pub health_path: HealthPath,
    /// Explicit app URL; else the Hub's answer.
    pub app_url: Option<String>,
    /// The visibility asked for: applied to a new Space and to an existing one that differs.
    /// `None`: an existing Space keeps its own, a new one gets `default_visibility`.
    pub visibility: Option<Visibility>,
    /// What a new Space is created as when `visibility` is `None`.
    pub default_visibility: Visibility,
    /// Hardware flavor to request.
    pub hardware: Option<String>,
    /// Rebuild without the build cache (a factory reboot) after the push, or alone.
    pub factory_reboot: bool,
    /// Seconds of inactivity before the Space sleeps (`-1`: never); set on paid hardware only.
    pub sleep_time: Option<i64>,
    /// What the plan found that works but is probably wrong (a URL to a port a Space cannot
    /// reach, a private Space with frontend origins): shown at the start of the deploy and kept
    /// in its report. Never holds a value.
    pub warnings: Vec<String>,
    /// Wait for the build and verify (false: return after the push).
    pub wait: bool,
    /// Deadline for build plus health.
    pub timeout: Duration,
    /// Plan only: no remote write.
    pub dry_run: bool,
    /// Accept `degraded` health.
    pub allow_degraded: bool,
    /// The commit message (names the source commit); the push adds the trailers.
    pub commit_message: String,
    /// The source commit, when it is a commit id (see [`RawInputs::source_commit`]).
    pub source_commit: Option<String>,
    /// Push the previous tree back when the new revision fails (see
    /// [`RawInputs::rollback_on_failure`]).
    pub rollback_on_failure: bool,
    /// Remote paths kept even when the scaffold no longer produces them.
    pub keep: Vec<String>,
    /// The secrets and variables whose URL goes to a port a Space cannot reach.
    pub(crate) outbound: Vec<BlockedPort>,
    /// Redacts what the Hub and the app say during the deploy: every secret value of
    /// `settings` and the password of every URL-valued variable. A front end adds the
    /// credentials it holds (the Hub token goes in with the client, [`crate::deploy()`] merges
    /// the client's redactor with this one; add a CI job's OIDC token with
    /// [`crate::RedactorBuilder::include`]).
    pub redactor: Redactor,
    /// How long building the scaffold took.
    pub(crate) scaffold_time: Duration,
    /// Polling intervals.
    pub(crate) poll: PollSettings,
}

/// How often to poll; tests make these short.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PollSettings {
    /// First interval between runtime polls (doubled after each poll).
    pub(crate) runtime_initial: Duration,
    /// Largest interval between runtime polls.
    pub(crate) runtime_max: Duration,
    /// First interval between health polls (doubled after each poll).
    pub(crate) health_initial: Duration,
    /// Largest interval between health polls.
    pub(crate) health_max: Duration,
    /// After a push, a `RUNNING` stage is only trusted once a build stage was seen, or after this
    /// long (the Hub flips to `BUILDING` shortly after the push lands).
    pub(crate) build_grace: Duration,
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings {
            // Every second, not doubling to 5 s: the report follows a healthy app within 1 s
            // (#11 goal 4). About 60 runtime reads a minute stay well inside the Hub's API
            // quota (1,000 requests per 5 minutes).
            runtime_initial: Duration::from_secs(1),
            runtime_max: Duration::from_secs(1),
            health_initial: Duration::from_secs(1),
            health_max: Duration::from_secs(1),
            build_grace: Duration::from_secs(20),
        }
    }
}

/// Check every input, build the scaffold of the source, and return the options of the deploy.
/// Reads the source folder (and the secrets file); sends nothing anywhere.
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
    let frontend_origins = rules::origins(&raw.frontend_urls)?;
    let health_path = health_path(raw.health_path.as_deref())?;
    let app_url = raw.app_url.as_deref().map(rules::app_url).transpose()?;
    if let Some(flavor) = &raw.hardware {
        rules::hardware(flavor)?;
    }
    rules::timeout(raw.timeout)?;
    let visibility = rules::visibility(raw.visibility.as_deref(), raw.private)?;
    let sleep_time = raw
        .sleep_time
        .as_deref()
        .map(rules::sleep_time)
        .transpose()?;
    for pattern in &raw.keep {
        rules::keep_pattern(pattern)?;
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
    let checked = scaffold::check(&scaffold_options)?;
    let started = Instant::now();
    let scaffold = scaffold::build(&raw.source, &checked)?;
    let scaffold_time = started.elapsed();
    let outbound = outbound::blocked_ports(&settings);
    let mut warnings: Vec<String> = outbound.iter().map(outbound::warning).collect();
    let created_as = visibility.unwrap_or(raw.default_visibility);
    if !created_as.app_is_public() && !frontend_origins.is_empty() {
        warnings.push(rules::PRIVATE_WITH_FRONTEND.to_string());
    }
    let redactor = settings_redactor(&settings);
    Ok(DeployOptions {
        source: raw.source.clone(),
        space,
        scaffold,
        settings,
        frontend_origins,
        health_path,
        app_url,
        visibility,
        default_visibility: raw.default_visibility,
        hardware: raw.hardware.as_deref().map(|h| h.trim().to_string()),
        factory_reboot: raw.factory_reboot,
        sleep_time,
        warnings,
        wait: raw.wait,
        timeout: raw.timeout,
        dry_run: raw.dry_run,
        allow_degraded: raw.allow_degraded,
        commit_message: raw.commit_message.clone(),
        source_commit: rules::source_commit(raw.source_commit.as_deref()),
        rollback_on_failure: raw.rollback_on_failure,
        keep: raw.keep.clone(),
        outbound,
        redactor,
        scaffold_time,
        poll: PollSettings::default(),
    })
}

/// One value checked alone by the rule [`resolve`] applies to its field, for a front end that
/// checks each value where it was written (a configuration file) before it gathers them: the
/// health path, the app URL, the hardware flavor, one frontend origin, the Hub endpoint, the
/// README front matter (title, emoji, colours, short description), the visibility, the sleep
/// time; any other field is left to [`resolve`].
///
/// # Errors
///
/// [`Error::InvalidInput`] naming `field`.
pub fn check_value(field: Field, value: &str) -> Result<()> {
    match field {
        Field::HealthPath => HealthPath::parse(value).map(drop),
        Field::AppUrl => rules::app_url(value).map(drop),
        Field::Hardware => rules::hardware(value),
        Field::FrontendUrl => rules::origins(&[value.to_string()]).map(drop),
        Field::Endpoint => crate::urls::parse_http_url(value.trim(), Field::Endpoint).map(drop),
        Field::Visibility => rules::visibility(Some(value), false).map(drop),
        Field::SleepTime => rules::sleep_time(value).map(drop),
        Field::Title
        | Field::Emoji
        | Field::ColorFrom
        | Field::ColorTo
        | Field::ShortDescription => front_matter_value(field, value),
        _ => Ok(()),
    }
}

/// One README front matter value checked by the scaffold's rules, with no source folder.
fn front_matter_value(field: Field, value: &str) -> Result<()> {
    let given = Some(value.to_string());
    let mut raw = RawInputs::default();
    match field {
        Field::Title => raw.title = given,
        Field::Emoji => raw.emoji = given,
        Field::ColorFrom => raw.color_from = given,
        Field::ColorTo => raw.color_to = given,
        _ => raw.short_description = given,
    }
    let options = scaffold_options(&raw, None, &HealthPath::default());
    scaffold::check(&options).map(drop)
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
    let frontend_origins = rules::origins(&raw.frontend_urls)?;
    settings::resolve(&SettingsInput {
        secrets: &raw.secrets,
        secrets_file: raw.secrets_file.as_deref(),
        variables: &raw.variables,
        frontend_origins: &frontend_origins,
    })
}

/// The redactor of a deploy's settings: each secret value (with its other forms and, for a
/// URL, its password) and the password of each URL-valued variable. `ALLOWED_ORIGINS` is the
/// one secret left out: hf-deploy writes it from the frontend origins, which are public (every
/// browser reads them in the app's CORS answers) and which the report names.
fn settings_redactor(settings: &Settings) -> Redactor {
    let secrets = settings
        .secrets
        .iter()
        .filter(|(key, _)| key.as_str() != settings::ALLOWED_ORIGINS)
        .map(|(_, value)| value);
    settings
        .variables
        .values()
        .fold(Redactor::builder().secrets(secrets), |builder, value| {
            builder.variable(value)
        })
        .build()
}

/// Check the inputs a scaffold alone uses (the Space is optional) and build the scaffold of
/// the source. Reads the source folder; writes nothing.
///
/// # Errors
///
/// As [`resolve`], for the inputs a scaffold uses.
pub fn resolve_scaffold(raw: &RawInputs) -> Result<Scaffold> {
    let space = raw
        .space
        .as_deref()
        .map(|value| SpaceId::parse(value.trim(), Field::Space))
        .transpose()?;
    let health_path = health_path(raw.health_path.as_deref())?;
    let options = scaffold_options(raw, space, &health_path);
    let checked = scaffold::check(&options)?;
    scaffold::build(&raw.source, &checked)
}

fn scaffold_options(
    raw: &RawInputs,
    space: Option<SpaceId>,
    health_path: &HealthPath,
) -> ScaffoldOptions {
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
        health_path: Some(health_path.clone()),
        excludes: raw.excludes.clone(),
        installer: raw.installer,
        build_tools: raw.build_tools,
        ..ScaffoldOptions::default()
    }
}

/// What the user gave to check a running app, before any check.
#[derive(Debug, Clone, Default)]
pub struct VerifyInputs {
    /// The Space `namespace/name` whose app to check.
    pub space: Option<String>,
    /// The app URL; with a Space, it overrides the Hub's answer.
    pub app_url: Option<String>,
    /// Health path; default `/api/health`.
    pub health_path: Option<String>,
    /// Frontend origins to check CORS for.
    pub frontend_urls: Vec<String>,
    /// Accept `degraded` health.
    pub allow_degraded: bool,
}

/// A checked [`VerifyInputs`], made by [`resolve_verify`].
#[derive(Debug, Clone)]
pub struct VerifyPlan {
    /// The Space, when one was given.
    pub space: Option<SpaceId>,
    /// The app URL, when one was given (http(s), no trailing `/`).
    pub app_url: Option<String>,
    /// The health path.
    pub health_path: HealthPath,
    /// Frontend origins, canonical and without duplicates.
    pub origins: Vec<String>,
    /// Accept `degraded` health.
    pub allow_degraded: bool,
}

/// Check the inputs of a verification with the same rules as a deploy's.
///
/// # Errors
///
/// The first bad input: [`Error::InvalidInput`] naming its [`Field`].
pub fn resolve_verify(raw: &VerifyInputs) -> Result<VerifyPlan> {
    let health_path = health_path(raw.health_path.as_deref())?;
    let origins = rules::origins(&raw.frontend_urls)?;
    let space = raw
        .space
        .as_deref()
        .map(|value| SpaceId::parse(value, Field::Space))
        .transpose()?;
    let app_url = raw.app_url.as_deref().map(rules::app_url).transpose()?;
    Ok(VerifyPlan {
        space,
        app_url,
        health_path,
        origins,
        allow_degraded: raw.allow_degraded,
    })
}

/// The health path as typed, or the default when none was given.
pub(super) fn health_path(value: Option<&str>) -> Result<HealthPath> {
    value.map_or_else(|| Ok(HealthPath::default()), HealthPath::parse)
}

#[cfg(test)]
mod tests;
