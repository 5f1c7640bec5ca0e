//! Each value of the file checked by the library's own rule for its input, so that a bad value
//! is reported at its `file:line:column` (and the same rule that `inputs::resolve` applies).

use hf_deploy_core::RawEntry;
use hf_deploy_core::inputs::{self, RawInputs};
use hf_deploy_core::{Error, Field, SpaceId};

use super::error::ConfigError;
use super::keys::Key;
use super::parse::{Item, Value};

/// Check `item`, the value of `key`, with the library's rule for it.
pub(crate) fn check(key: &Key, item: &Item<Value>, file: &str) -> Result<(), ConfigError> {
    let at_value = |error: Error| ConfigError::from_core(file, item.at, &error);
    match &item.value {
        Value::Text(text) => text_rule(key, text).map_err(at_value),
        Value::Minutes(minutes) => inputs::minutes(Field::Timeout, &minutes.to_string())
            .map(drop)
            .map_err(at_value),
        Value::Seconds(seconds) => {
            inputs::check_value(Field::SleepTime, &seconds.to_string()).map_err(at_value)
        }
        Value::Bool(_) => Ok(()),
        Value::List(list) => {
            for entry in list {
                list_rule(key, &entry.value)
                    .map_err(|error| ConfigError::from_core(file, entry.at, &error))?;
            }
            Ok(())
        }
        Value::Table(table) => {
            for (name, value) in table {
                variable_rule(name, value, file)?;
            }
            Ok(())
        }
    }
}

/// The rule of a string key.
fn text_rule(key: &Key, text: &str) -> Result<(), Error> {
    match key.field {
        Field::Space => SpaceId::parse(text.trim(), Field::Space).map(drop),
        Field::HealthPath | Field::AppUrl | Field::Hardware => inputs::check_value(key.field, text),
        Field::Other("hf-endpoint") => inputs::check_value(Field::Endpoint, text),
        Field::Source | Field::SecretsFile if text.trim().is_empty() => {
            Err(Error::invalid_input(key.field, "the path is empty"))
        }
        Field::Title
        | Field::Emoji
        | Field::ColorFrom
        | Field::ColorTo
        | Field::ShortDescription
        | Field::Visibility => inputs::check_value(key.field, text),
        Field::Other(name @ ("environment" | "preview-label")) => {
            crate::github::inputs::check_name_input(name, text)
        }
        _ => Ok(()),
    }
}

/// The rule of one item of a list key (`secrets`: a name; `frontend-url`: an origin).
fn list_rule(key: &Key, text: &str) -> Result<(), Error> {
    match key.field {
        Field::Secrets => secret_name(text),
        Field::FrontendUrl => inputs::check_value(Field::FrontendUrl, text),
        _ => Ok(()),
    }
}

/// A secret's name, by the one key rule of the library. Its value is not known yet (it comes
/// from the environment when the entry is used): a stand-in value is checked with it.
pub(crate) fn secret_name(name: &str) -> Result<(), Error> {
    inputs::resolve_settings(&RawInputs {
        secrets: vec![RawEntry {
            text: name.to_string(),
            line: None,
            from_env: Some("set".into()),
        }],
        ..RawInputs::default()
    })
    .map(drop)
}

/// One variable: its name (a public variable may not carry a secret's name), then its value.
fn variable_rule(name: &Item<String>, value: &Item<String>, file: &str) -> Result<(), ConfigError> {
    let check = |text: String| {
        inputs::resolve_settings(&RawInputs {
            variables: vec![RawEntry {
                text,
                line: None,
                from_env: None,
            }],
            ..RawInputs::default()
        })
        .map(drop)
    };
    check(format!("{}=set", name.value)).map_err(|e| ConfigError::from_core(file, name.at, &e))?;
    if looks_like_a_secret_name(&name.value) {
        return Err(ConfigError::new(
            file,
            Some(name.at),
            format!(
                "`{}` is a secret's name, but variables are public (shown on the Space's page) and this file is committed",
                name.value
            ),
            Some(format!(
                "move it to `secrets = [\"{}\"]` and pass its value in the environment",
                name.value
            )),
        ));
    }
    check(format!("{}={}", name.value, value.value))
        .map_err(|e| ConfigError::from_core(file, value.at, &e))
}

/// A variable name that says it holds a secret (`*_KEY`, `*_TOKEN`, `*_SECRET`, `*PASSWORD*`,
/// the secrets the scaffold knows).
fn looks_like_a_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["_KEY", "_TOKEN", "_SECRET"]
        .iter()
        .any(|end| upper.ends_with(end))
        || ["PASSWORD", "PASSWD"]
            .iter()
            .any(|part| upper.contains(part))
        || hf_deploy_core::scaffold::WELL_KNOWN_SECRETS
            .iter()
            .any(|(known, _)| *known == upper && *known != "ALLOWED_ORIGINS")
}

/// What a value looks like when it is a credential: a token (`hf_...`, `ghp_...`) or a URL
/// with a password in it.
pub(crate) fn looks_secret(text: &str) -> Option<&'static str> {
    let text = text.trim();
    let token_body = |rest: &str| {
        rest.len() >= 20 && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if let Some(rest) = text.strip_prefix("hf_") {
        if token_body(rest) {
            return Some("a Hugging Face token");
        }
    }
    for prefix in ["ghp_", "ghs_", "gho_", "ghu_", "github_pat_"] {
        if text.strip_prefix(prefix).is_some_and(token_body) {
            return Some("a GitHub token");
        }
    }
    if let Some((_, rest)) = text.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if userinfo.contains(':') {
                return Some("a URL with a password in it");
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_recognised_by_their_shape() {
        assert_eq!(
            looks_secret(concat!("hf", "_abcdefghijklmnopqrstuvwxyz0123")),
            Some("a Hugging Face token")
        );
        assert_eq!(
            looks_secret(concat!("ghp", "_abcdefghijklmnopqrstuvwxyz0123")),
            Some("a GitHub token")
        );
        assert_eq!(
            looks_secret("postgresql://app:pw@db.example.com/app"),
            Some("a URL with a password in it")
        );
        for fine in [
            "https://my-book.vercel.app",
            "postgresql://db.example.com/app",
            "hf_short",
            "alice/rag-chatbot",
            "INFO",
        ] {
            assert_eq!(looks_secret(fine), None, "{fine}");
        }
    }

    #[test]
    fn secret_names_are_not_variables() {
        for name in [
            "GEMINI_API_KEY",
            "GITHUB_TOKEN",
            "DB_PASSWORD",
            "DATABASE_URL",
            "JWT_SECRET",
        ] {
            assert!(looks_like_a_secret_name(name), "{name}");
        }
        for name in ["LOG_LEVEL", "ALLOWED_ORIGINS", "MODEL_NAME", "KEYWORDS"] {
            assert!(!looks_like_a_secret_name(name), "{name}");
        }
    }
}
