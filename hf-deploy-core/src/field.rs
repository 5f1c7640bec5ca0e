//! What the library names in its messages, independently of how a front end spells it: each
//! user input ([`Field`]) and each command a message points to ([`Command`]).
//!
//! The library speaks of fields, never of flags or action inputs: an error carries a [`Field`],
//! and its text and hint are [`Phrase`]s that mention fields and commands as values. A front end
//! renders them with its own [`Spelling`] ([`crate::Error::message_with`]): a flag, an input
//! name, a key of a config file. [`Spelling::NEUTRAL`] (the library's own names) is what
//! `Display` uses.

use std::fmt;

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
    /// Make the Space private (the same as [`Field::Visibility`] `private`).
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
    /// The Hub's base URL given to the Hub client (library option).
    Endpoint,
    /// The `User-Agent` of the Hub client (library option).
    UserAgent,
    /// The attempts per call of the Hub client (library option).
    MaxAttempts,
    /// Who reads the Space and reaches its app: public, protected or private.
    Visibility,
    /// Rebuild the Space without the build cache (a factory reboot).
    FactoryReboot,
    /// Seconds of inactivity before the Space sleeps.
    SleepTime,
    /// The earlier commit a rollback restores.
    RollbackTo,
    /// Push the previous tree back when the new revision fails.
    RollbackOnFailure,
    /// An input of a front end's own that the library does not know (e.g. a file argument).
    /// The library never builds one.
    Other(&'static str),
}

impl Field {
    /// Every input the library knows (not [`Field::Other`]).
    pub const ALL: [Field; 39] = [
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
        Field::Endpoint,
        Field::UserAgent,
        Field::MaxAttempts,
        Field::Visibility,
        Field::FactoryReboot,
        Field::SleepTime,
        Field::RollbackTo,
        Field::RollbackOnFailure,
    ];

    /// The library's own name: the variant in snake case (`health_path`), as a Rust program
    /// names the option. Used by `Display` and when no front end words the error.
    pub fn name(self) -> &'static str {
        match self {
            Field::Space => "space",
            Field::Source => "source",
            Field::Out => "out",
            Field::Secrets => "secrets",
            Field::SecretsFile => "secrets_file",
            Field::Variables => "variables",
            Field::FrontendUrl => "frontend_url",
            Field::HealthPath => "health_path",
            Field::AppUrl => "app_url",
            Field::ApiUrl => "api_url",
            Field::Private => "private",
            Field::Hardware => "hardware",
            Field::Wait => "wait",
            Field::Timeout => "timeout",
            Field::DryRun => "dry_run",
            Field::AllowDegraded => "allow_degraded",
            Field::Title => "title",
            Field::Emoji => "emoji",
            Field::ColorFrom => "color_from",
            Field::ColorTo => "color_to",
            Field::ShortDescription => "short_description",
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
            Field::Endpoint => "endpoint",
            Field::UserAgent => "user_agent",
            Field::MaxAttempts => "max_attempts",
            Field::Visibility => "visibility",
            Field::FactoryReboot => "factory_reboot",
            Field::SleepTime => "sleep_time",
            Field::RollbackTo => "rollback_to",
            Field::RollbackOnFailure => "rollback_on_failure",
            Field::Other(name) => name,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A command of a front end that a message points the user to ("look at the run log with
/// ..."). The library never spells a command: a front end words each as its users run it
/// ([`Spelling::new`]); [`Command::neutral`] says it in plain words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Command {
    /// The command that writes a scaffold into a folder.
    Scaffold,
    /// The command that shows the Space's run log.
    RunLog,
}

impl Command {
    /// Every command a message may point to.
    pub const ALL: [Command; 2] = [Command::Scaffold, Command::RunLog];

    /// The command in plain words, for a program without commands of its own.
    pub fn neutral(self) -> &'static str {
        match self {
            Command::Scaffold => "a scaffold",
            Command::RunLog => "the Logs tab of the Space's page",
        }
    }
}

/// How a front end spells what the library names: each [`Field`] (its flag, its input name)
/// and each [`Command`] (with its quoting, e.g. in backticks).
#[derive(Debug, Clone, Copy)]
pub struct Spelling {
    field: fn(Field) -> &'static str,
    command: fn(Command) -> &'static str,
}

impl Spelling {
    /// The library's own words: [`Field::name`] and [`Command::neutral`]. `Display` uses it.
    pub const NEUTRAL: Spelling = Spelling::new(Field::name, Command::neutral);

    /// A front end's spelling of fields and commands.
    pub const fn new(
        field: fn(Field) -> &'static str,
        command: fn(Command) -> &'static str,
    ) -> Self {
        Spelling { field, command }
    }

    /// How this front end spells `field` (without quotes).
    pub fn field(&self, field: Field) -> &'static str {
        (self.field)(field)
    }

    /// How this front end words `command`, quotes included.
    pub fn command(&self, command: Command) -> &'static str {
        (self.command)(command)
    }
}

/// Text that may mention fields and commands, rendered by a front end with its own
/// [`Spelling`]. A field renders as its spelling in backticks; a command as the front end
/// words it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Phrase(Vec<Part>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Field),
    Command(Command),
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

    /// Append a mention of `command`.
    pub fn command(mut self, command: Command) -> Self {
        self.0.push(Part::Command(command));
        self
    }

    /// Append another phrase.
    pub fn append(mut self, other: Phrase) -> Self {
        self.0.extend(other.0);
        self
    }

    /// The text with each field and command worded by `spelling`.
    pub fn render(&self, spelling: Spelling) -> String {
        self.0
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.clone(),
                Part::Field(field) => format!("`{}`", spelling.field(*field)),
                Part::Command(command) => spelling.command(*command).to_string(),
            })
            .collect()
    }

    /// The fields this phrase mentions.
    pub fn fields(&self) -> impl Iterator<Item = Field> + '_ {
        self.0.iter().filter_map(|part| match part {
            Part::Field(field) => Some(*field),
            Part::Text(_) | Part::Command(_) => None,
        })
    }
}

impl fmt::Display for Phrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Spelling::NEUTRAL))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for field in Field::ALL {
            let name = field.name();
            assert!(seen.insert(name), "{field:?}: {name} twice");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{field:?}: {name}"
            );
            assert_eq!(field.to_string(), name);
        }
    }

    #[test]
    fn phrases_spell_fields_and_commands_with_the_front_end_spelling() {
        let phrase = Phrase::new("raise ")
            .field(Field::Timeout)
            .text(" or look with ")
            .command(Command::RunLog);
        assert_eq!(
            phrase.to_string(),
            "raise `timeout` or look with the Logs tab of the Space's page"
        );
        let front_end = Spelling::new(
            |field| match field {
                Field::Timeout => "timeout-minutes",
                other => other.name(),
            },
            |_| "`tool logs`",
        );
        assert_eq!(
            phrase.render(front_end),
            "raise `timeout-minutes` or look with `tool logs`"
        );
        assert_eq!(phrase.fields().collect::<Vec<_>>(), [Field::Timeout]);
    }
}
