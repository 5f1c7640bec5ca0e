//! The keys of a `[[space]]` table: the action's input names (kebab-case), each with its TOML
//! type and the field it fills. `hf-token` and `github-token` are not among them: tokens never
//! go in a file that is committed.

use hf_deploy_core::Field;

/// The TOML type of a key's value, and how it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A string.
    Text,
    /// A string naming a path, relative to the file's folder.
    Path,
    /// `true` or `false`.
    Bool,
    /// A whole number of minutes, 1 to 1440.
    Minutes,
    /// A whole number of seconds (`-1`: never), for `sleep-time`.
    Seconds,
    /// A list of secret names (their values come from the environment).
    Names,
    /// A table of `NAME = value` (strings, numbers or booleans).
    Table,
    /// A string or a list of strings.
    Strings,
}

impl Kind {
    /// What a value of this kind looks like, for messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::Text => "a string",
            Kind::Path => "a string (a path relative to this file)",
            Kind::Bool => "`true` or `false`",
            Kind::Minutes => "a whole number of minutes (1 to 1440)",
            Kind::Seconds => "a whole number of seconds (1 to a year), or -1 (never)",
            Kind::Names => "a list of secret names, e.g. `[\"GEMINI_API_KEY\"]`",
            Kind::Table => "a table, e.g. `{ LOG_LEVEL = \"INFO\" }`",
            Kind::Strings => "a string or a list of strings",
        }
    }
}

/// One key of a `[[space]]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    /// The key, as written in the file (the action's input name).
    pub(crate) name: &'static str,
    /// Its type.
    pub(crate) kind: Kind,
    /// The input it fills.
    pub(crate) field: Field,
}

const fn key(name: &'static str, kind: Kind, field: Field) -> Key {
    Key { name, kind, field }
}

/// Every key a `[[space]]` table may hold, in the order of `action.yml`.
pub(crate) const KEYS: [Key; 30] = [
    key("hf-endpoint", Kind::Text, Field::Other("hf-endpoint")),
    key("space", Kind::Text, Field::Space),
    key("source", Kind::Path, Field::Source),
    key("secrets", Kind::Names, Field::Secrets),
    key("secrets-file", Kind::Path, Field::SecretsFile),
    key("variables", Kind::Table, Field::Variables),
    key("frontend-url", Kind::Strings, Field::FrontendUrl),
    key("health-path", Kind::Text, Field::HealthPath),
    key("app-url", Kind::Text, Field::AppUrl),
    key("private", Kind::Bool, Field::Private),
    key("visibility", Kind::Text, Field::Visibility),
    key("hardware", Kind::Text, Field::Hardware),
    key("factory-reboot", Kind::Bool, Field::FactoryReboot),
    key("sleep-time", Kind::Seconds, Field::SleepTime),
    key("wait", Kind::Bool, Field::Wait),
    key("timeout-minutes", Kind::Minutes, Field::Timeout),
    key("dry-run", Kind::Bool, Field::DryRun),
    key("title", Kind::Text, Field::Title),
    key("emoji", Kind::Text, Field::Emoji),
    key("color-from", Kind::Text, Field::ColorFrom),
    key("color-to", Kind::Text, Field::ColorTo),
    key("short-description", Kind::Text, Field::ShortDescription),
    key("comment", Kind::Bool, Field::Other("comment")),
    key("preview", Kind::Bool, Field::Other("preview")),
    key("allow-degraded", Kind::Bool, Field::AllowDegraded),
    key("allow-forks", Kind::Bool, Field::Other("allow-forks")),
    key(
        "github-deployment",
        Kind::Bool,
        Field::Other("github-deployment"),
    ),
    key("environment", Kind::Text, Field::Other("environment")),
    key("preview-label", Kind::Text, Field::Other("preview-label")),
    key("rollback-on-failure", Kind::Bool, Field::RollbackOnFailure),
];

/// The key named `name`.
pub(crate) fn find(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|key| key.name == name)
}

/// The key that fills `field`.
pub(crate) fn of_field(field: Field) -> Option<&'static Key> {
    KEYS.iter().find(|key| key.field == field)
}

/// How the file spells each field: its key (the action's input names).
pub(crate) fn spelling(field: Field) -> &'static str {
    match of_field(field) {
        Some(key) => key.name,
        None => match field {
            Field::Token => "hf-token",
            other => other.name(),
        },
    }
}

/// A key that would hold a token or a password: never in this file.
pub(crate) fn is_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase().replace('_', "-");
    matches!(
        name.as_str(),
        "token" | "password" | "secret" | "api-key" | "apikey"
    ) || ["-token", "-password", "-api-key", "-secret"]
        .iter()
        .any(|end| name.ends_with(end))
}

/// How to give a credential instead of writing it into the file.
pub(crate) fn credential_hint(name: &str) -> String {
    let name = name.to_ascii_lowercase().replace('_', "-");
    match name.as_str() {
        "hf-token" | "token" => "the Hub token comes from `HF_TOKEN` (or the file `hf auth login` writes) on the command line, and from the action's `hf-token` input (`${{ secrets.HF_TOKEN }}`) or a keyless deploy in a workflow; never from this file, which is committed".into(),
        "github-token" => "the action's `github-token` input takes it (default `${{ github.token }}`); never this file, which is committed".into(),
        _ => "list the secret's NAME under `secrets = [...]` and pass its value in the environment (in a workflow: `env:` from `secrets.*`), or in a `secrets-file` kept out of git".into(),
    }
}

/// The closest key to a mistyped `name` (`health_path` -> `health-path`, `titel` -> `title`).
pub(crate) fn suggest(name: &str) -> Option<&'static str> {
    let kebab = name.to_ascii_lowercase().replace('_', "-");
    if let Some(key) = find(&kebab) {
        return Some(key.name);
    }
    KEYS.iter()
        .map(|key| (distance(&kebab, key.name), key.name))
        .filter(|(d, name)| *d <= 2.max(name.len() / 5))
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

/// Levenshtein distance, for [`suggest`].
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
}

/// Every key, for a message: `space`, `source`, ...
pub(crate) fn list() -> String {
    KEYS.iter()
        .map(|key| format!("`{}`", key.name))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_spelling_of_their_fields() {
        for key in KEYS {
            assert_eq!(spelling(key.field), key.name);
            assert_eq!(find(key.name), Some(&key));
            assert!(!is_credential(key.name), "{}", key.name);
        }
        assert_eq!(spelling(Field::Timeout), "timeout-minutes");
    }

    #[test]
    fn credentials_and_typos_are_recognised() {
        for name in [
            "hf-token",
            "HF_TOKEN",
            "github-token",
            "token",
            "db-password",
            "api_key",
        ] {
            assert!(is_credential(name), "{name}");
        }
        for name in ["title", "secrets", "secrets-file", "preview"] {
            assert!(!is_credential(name), "{name}");
        }
        assert_eq!(suggest("health_path"), Some("health-path"));
        assert_eq!(suggest("titel"), Some("title"));
        assert_eq!(suggest("frontend-urls"), Some("frontend-url"));
        assert_eq!(suggest("completely-else"), None);
    }
}
