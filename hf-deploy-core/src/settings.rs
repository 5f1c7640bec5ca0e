//! Space secrets and variables, validated before any remote call.
//!
//! [`resolve`] gathers the secret entries, a secrets file (dotenv), the variable entries and the
//! frontend origins into one [`Settings`], and refuses the values that commonly break a deployed
//! app (leading or trailing whitespace, newlines, empty values, a Qdrant URL with a trailing
//! `/`). Nothing here reads the environment: a bare `KEY` entry carries the value its front end
//! looked up ([`RawEntry::from_env`]).
//!
//! No message, warning or `Debug` output ever contains a value: errors name the [`Field`], the
//! key and where it came from (a line of a list, `file:line`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::error::{Error, Result};
use crate::field::{Field, Phrase};
use crate::secret::SecretString;

/// One `KEY=VALUE` entry of a secrets or variables list, as typed. `Debug` shows the key only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RawEntry {
    /// `KEY=VALUE`, or a bare `KEY` (outside a list only: its value comes from `from_env`).
    pub text: String,
    /// 1-based line in a multiline list of entries, when it came from one. A line
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

/// Longest key accepted. The Hub documents no limit; environment variable names this long are
/// always a mistake.
pub(crate) const MAX_KEY_LEN: usize = 128;

/// The secret that carries the app's CORS origins, comma separated.
pub(crate) const ALLOWED_ORIGINS: &str = "ALLOWED_ORIGINS";

/// Two comma-separated origin lists as one: `before`'s first, then `after`'s new ones, each
/// once, blanks dropped.
pub(crate) fn merge_origins(before: &str, after: &str) -> String {
    let mut merged: Vec<&str> = Vec::new();
    for origin in before.split(',').chain(after.split(',')).map(str::trim) {
        if !origin.is_empty() && !merged.contains(&origin) {
            merged.push(origin);
        }
    }
    merged.join(",")
}

/// Resolved secrets and variables, ready to be sent to the Space.
///
/// `Debug` shows secret keys but never their values ([`SecretString`] redacts them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Secrets by key.
    pub secrets: BTreeMap<String, SecretString>,
    /// Variables (public) by key.
    pub variables: BTreeMap<String, String>,
    /// Things that work but are probably wrong, each naming the key and the fix.
    pub warnings: Vec<String>,
}

/// Raw inputs for [`resolve`]. `Debug` shows no value ([`RawEntry`] shows keys only).
#[derive(Debug)]
pub(crate) struct SettingsInput<'a> {
    /// Secret entries: `KEY=VALUE`, or a bare `KEY` with its value looked up by the front end.
    pub secrets: &'a [RawEntry],
    /// A dotenv file of secrets.
    pub secrets_file: Option<&'a Path>,
    /// Variable entries: `KEY=VALUE`.
    pub variables: &'a [RawEntry],
    /// Frontend origins, already validated; merged into the `ALLOWED_ORIGINS` secret.
    pub frontend_origins: &'a [String],
}

/// Where a key/value pair came from, to name it in messages.
#[derive(Debug, Clone)]
enum Origin {
    /// An entry of a field, maybe a line of a multiline list.
    Entry { field: Field, line: Option<usize> },
    /// A line of a dotenv file.
    File { name: String, line: usize },
}

impl Origin {
    fn field(&self) -> Field {
        match self {
            Origin::Entry { field, .. } => *field,
            Origin::File { .. } => Field::SecretsFile,
        }
    }

    /// `line 3: `, `` `prod.env:2`: `` or nothing, to put before a reason.
    fn at(&self) -> String {
        match self {
            Origin::Entry {
                line: Some(line), ..
            } => format!("line {line}: "),
            Origin::Entry { line: None, .. } => String::new(),
            Origin::File { name, line } => format!("`{name}:{line}`: "),
        }
    }

    fn error(&self, reason: impl Into<String>, hint: impl Into<Phrase>) -> Error {
        Error::invalid_input_hint(
            self.field(),
            format!("{}{}", self.at(), reason.into()),
            hint,
        )
    }
}

/// Split entries into `(key, value, origin)`, checking the key. A bare `KEY` takes its looked-up
/// value (`allow_bare`), and is a malformed line in a multiline list.
fn split_entries(
    entries: &[RawEntry],
    field: Field,
    allow_bare: bool,
) -> Result<Vec<(String, String, Origin)>> {
    let mut out = Vec::new();
    for entry in entries {
        let origin = Origin::Entry {
            field,
            line: entry.line,
        };
        match entry.text.split_once('=') {
            Some((key, value)) => {
                let key = if entry.line.is_some() {
                    key.trim()
                } else {
                    key
                };
                check_key_at(key, &origin)?;
                out.push((key.to_string(), value.to_string(), origin));
            }
            None if entry.line.is_some() => {
                // The line is not echoed: it may be a pasted value.
                return Err(origin.error(
                    "the line is not `KEY=VALUE` (it has no `=`)",
                    "write one `KEY=VALUE` per line; blank lines and lines starting with `#` are ignored",
                ));
            }
            None => {
                let key = entry.text.as_str();
                check_key_at(key, &origin)?;
                match (&entry.from_env, allow_bare) {
                    (Some(value), true) => {
                        out.push((key.to_string(), value.clone(), origin));
                    }
                    (None, true) => {
                        return Err(origin.error(
                            format!(
                                "a bare `{key}` takes its value from the environment variable `{key}`, which is not set"
                            ),
                            Phrase::new(format!("export `{key}` before running, or give "))
                                .field(field)
                                .text(format!(" as `{key}=VALUE`")),
                        ));
                    }
                    (_, false) => {
                        return Err(origin.error(
                            format!("`{key}` has no value"),
                            Phrase::new("give ")
                                .field(field)
                                .text(format!(" as `{key}=VALUE`")),
                        ));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Gather and validate secrets and variables. See the module docs for the rules.
pub(crate) fn resolve(input: &SettingsInput) -> Result<Settings> {
    let mut secrets = split_entries(input.secrets, Field::Secrets, true)?;
    if let Some(path) = input.secrets_file {
        // An unreadable secrets file is the user's input, not a remote failure (exit code 2).
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::invalid_input_hint(
                Field::SecretsFile,
                format!("cannot read `{}`: {e}", path.display()),
                "give the path of a dotenv file (`KEY=VALUE` lines)",
            )
        })?;
        let name = path.display().to_string();
        for (line, key, value) in parse_dotenv_lines(&text, &name)? {
            secrets.push((
                key,
                value,
                Origin::File {
                    name: name.clone(),
                    line,
                },
            ));
        }
    }
    let variables = split_entries(input.variables, Field::Variables, false)?;

    let mut warnings = Vec::new();
    let mut secret_map: BTreeMap<String, (String, Origin)> = BTreeMap::new();
    for (key, value, origin) in secrets {
        check_value(&key, &value, &origin, &mut warnings)?;
        insert_once(&mut secret_map, key, value, origin, "secret")?;
    }
    let mut variable_map: BTreeMap<String, (String, Origin)> = BTreeMap::new();
    for (key, value, origin) in variables {
        check_value(&key, &value, &origin, &mut warnings)?;
        insert_once(&mut variable_map, key, value, origin, "variable")?;
    }

    if !input.frontend_origins.is_empty() {
        let existing = secret_map.remove(ALLOWED_ORIGINS);
        let existing_items = existing
            .as_ref()
            .map(|(value, _)| value.as_str())
            .unwrap_or("");
        let value = merge_origins(existing_items, &input.frontend_origins.join(","));
        let origin = existing.map(|(_, o)| o).unwrap_or(Origin::Entry {
            field: Field::FrontendUrl,
            line: None,
        });
        secret_map.insert(ALLOWED_ORIGINS.to_string(), (value, origin));
    }

    if let Some((key, (_, origin))) = secret_map
        .iter()
        .find(|(key, _)| variable_map.contains_key(key.as_str()))
    {
        return Err(origin.error(
            format!("`{key}` is given both as a secret and as a variable"),
            Phrase::new(format!("keep `{key}` in one place: "))
                .field(Field::Secrets)
                .text(" for private values, ")
                .field(Field::Variables)
                .text(" for public ones"),
        ));
    }

    Ok(Settings {
        secrets: secret_map
            .into_iter()
            .map(|(k, (v, _))| (k, SecretString::new(v)))
            .collect(),
        variables: variable_map.into_iter().map(|(k, (v, _))| (k, v)).collect(),
        warnings,
    })
}

/// Parse dotenv text: `KEY=VALUE` lines, an optional `export ` prefix, `'literal'` and
/// `"escaped"` (`\n`, `\t`, `\"`, `\\`) quoted values, `#` comments and blank lines.
/// Unquoted values are trimmed and lose a trailing ` # comment`, as python-dotenv does.
///
/// A malformed line is an [`Error::InvalidInput`] naming `source_name:line`, never the value.
#[cfg(test)]
pub(crate) fn parse_dotenv(text: &str, source_name: &str) -> Result<Vec<(String, String)>> {
    Ok(parse_dotenv_lines(text, source_name)?
        .into_iter()
        .map(|(_, k, v)| (k, v))
        .collect())
}

fn parse_dotenv_lines(text: &str, source_name: &str) -> Result<Vec<(usize, String, String)>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let origin = Origin::File {
            name: source_name.to_string(),
            line: number,
        };
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(line);
        let Some((key, rest)) = line.split_once('=') else {
            // The line is not echoed: it may be a pasted value.
            return Err(origin.error(
                "the line is not `KEY=VALUE` (it has no `=`)",
                "write one `KEY=VALUE` per line; comments start with `#`",
            ));
        };
        let key = key.trim();
        check_key_at(key, &origin)?;
        let value = parse_dotenv_value(rest.trim_start(), key, &origin)?;
        out.push((number, key.to_string(), value));
    }
    Ok(out)
}

fn parse_dotenv_value(rest: &str, name: &str, origin: &Origin) -> Result<String> {
    let key = truncate_key(name);
    let quote = match rest.chars().next() {
        Some(q @ ('\'' | '"')) => q,
        _ => {
            // Unquoted: strip an inline comment (`#` after whitespace) and trim.
            let mut value = rest;
            if let Some(pos) = rest.char_indices().find_map(|(i, c)| {
                (c == '#' && rest[..i].ends_with(char::is_whitespace)).then_some(i)
            }) {
                value = &rest[..pos];
            }
            return Ok(value.trim().to_string());
        }
    };
    let body = &rest[1..];
    let mut value = String::new();
    let mut chars = body.char_indices();
    let mut end = None;
    while let Some((i, c)) = chars.next() {
        if c == quote {
            end = Some(i + c.len_utf8());
            break;
        }
        if c == '\\' && quote == '"' {
            match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, 't')) => value.push('\t'),
                Some((_, '"')) => value.push('"'),
                Some((_, '\\')) => value.push('\\'),
                Some((_, other)) => {
                    value.push('\\');
                    value.push(other);
                }
                None => value.push('\\'),
            }
        } else {
            value.push(c);
        }
    }
    let Some(end) = end else {
        return Err(origin.error(
            format!(
                "the value of `{key}` opens a {quote} quote that is not closed on the same line"
            ),
            "close the quote; values spanning several lines are not supported",
        ));
    };
    let tail = body[end..].trim_start();
    if !tail.is_empty() && !tail.starts_with('#') {
        return Err(origin.error(
            format!("the value of `{key}` has text after its closing quote"),
            "put the whole value inside the quotes",
        ));
    }
    Ok(value)
}

/// A key as errors show it. A key may be a value pasted without its key (a base64 value's
/// `=` padding makes the line read as `KEY=`): a key that looks like such a value (a lowercase
/// letter, and a character no key holds or a run of more than 8 characters without `_`) is
/// shown only by its first 4 characters; any other by its first word, up to 40 characters.
fn truncate_key(text: &str) -> String {
    let word: String = text.chars().take_while(|c| !c.is_whitespace()).collect();
    let lowercase = word.chars().any(char::is_lowercase);
    let not_a_key = word
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || c == '_'));
    let long_run = !word.contains('_') && word.chars().count() > 8;
    let shown: String = if lowercase && (not_a_key || long_run) {
        word.chars().take(4).collect()
    } else {
        word.chars().take(40).collect()
    };
    if shown.len() < text.len() {
        format!("{shown}...")
    } else {
        shown
    }
}

/// The one rule for a secret or variable key: letters, digits and `_`, not starting with a
/// digit, at most [`MAX_KEY_LEN`] characters. `field` names the input it came from.
pub(crate) fn check_key(key: &str, field: Field) -> Result<()> {
    check_key_at(key, &Origin::Entry { field, line: None })
}

fn check_key_at(key: &str, origin: &Origin) -> Result<()> {
    let hint = "keys are letters, digits and `_`, not starting with a digit, e.g. `GEMINI_API_KEY`";
    let mut chars = key.chars();
    let valid_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let valid_rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if key.is_empty() {
        return Err(origin.error("the key is empty", hint));
    }
    if !(valid_start && valid_rest) {
        return Err(origin.error(format!("`{}` is not a valid key", truncate_key(key)), hint));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(origin.error(
            format!(
                "the key `{}` is longer than {MAX_KEY_LEN} characters",
                truncate_key(key)
            ),
            hint,
        ));
    }
    Ok(())
}

fn check_value(name: &str, value: &str, origin: &Origin, warnings: &mut Vec<String>) -> Result<()> {
    let key = truncate_key(name);
    if value.is_empty() {
        return Err(origin.error(
            format!("`{key}` has an empty value"),
            format!(
                "give `{key}` a value, or remove it (a value taken from a CI secret is empty when that secret does not exist)"
            ),
        ));
    }
    if value.contains(['\n', '\r']) {
        return Err(origin.error(
            format!("the value of `{key}` contains a line break"),
            "trim the value: a pasted line break breaks connection strings and API keys",
        ));
    }
    if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
        return Err(origin.error(
            format!("the value of `{key}` starts or ends with whitespace"),
            "trim the value: leading or trailing spaces are the commonest cause of broken connections",
        ));
    }
    match name {
        "DATABASE_URL" => check_database_url(value, warnings),
        "QDRANT_URL" => check_qdrant_url(value, origin)?,
        _ => {}
    }
    Ok(())
}

/// PostgreSQL on a managed host (Neon, Supabase, RDS) needs TLS; without `sslmode=require` the
/// connection fails or goes in the clear.
fn check_database_url(value: &str, warnings: &mut Vec<String>) {
    let lower = value.to_ascii_lowercase();
    if !(lower.starts_with("postgres://") || lower.starts_with("postgresql://")) {
        return;
    }
    let (host, sslmode) = match url::Url::parse(value) {
        Ok(parsed) => (
            parsed
                .host_str()
                .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase()),
            parsed
                .query_pairs()
                .find(|(k, _)| k == "sslmode")
                .map(|(_, v)| v.to_ascii_lowercase()),
        ),
        Err(_) => (
            None,
            lower.split_once('?').and_then(|(_, query)| {
                query
                    .split('&')
                    .find_map(|pair| pair.strip_prefix("sslmode=").map(String::from))
            }),
        ),
    };
    if matches!(host.as_deref(), Some("localhost" | "127.0.0.1" | "::1")) {
        return;
    }
    if matches!(
        sslmode.as_deref(),
        Some("require" | "verify-ca" | "verify-full")
    ) {
        return;
    }
    let join = if value.contains('?') { "&" } else { "?" };
    warnings.push(format!(
        "`DATABASE_URL` connects to PostgreSQL without `sslmode=require`; hosted databases (Neon, Supabase, RDS) refuse or expose such connections: append `{join}sslmode=require` to it"
    ));
}

fn check_qdrant_url(value: &str, origin: &Origin) -> Result<()> {
    if value.contains(char::is_whitespace) {
        return Err(origin.error(
            "the value of `QDRANT_URL` contains a space",
            "give the cluster URL alone, e.g. `https://xyz.cloud.qdrant.io:443` (a Space reaches port 443, not 6333)",
        ));
    }
    if value.ends_with('/') {
        return Err(origin.error(
            "the value of `QDRANT_URL` ends with `/`",
            "remove the trailing `/`: the Qdrant client appends paths and a double `//` is refused",
        ));
    }
    Ok(())
}

fn insert_once(
    map: &mut BTreeMap<String, (String, Origin)>,
    key: String,
    value: String,
    origin: Origin,
    what: &str,
) -> Result<()> {
    if let Some((previous, previous_origin)) = map.get(&key) {
        if *previous == value {
            return Ok(());
        }
        let first = match previous_origin {
            Origin::Entry { line: None, .. } => String::new(),
            Origin::Entry {
                line: Some(line), ..
            } => format!(" (first on line {line})"),
            Origin::File { name, line } => format!(" (first at `{name}:{line}`)"),
        };
        return Err(origin.error(
            format!("{what} `{key}` is given twice with different values{first}"),
            format!("give `{key}` once"),
        ));
    }
    map.insert(key, (value, origin));
    Ok(())
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn entries(items: &[&str], lookup: &dyn Fn(&str) -> Option<String>) -> Vec<RawEntry> {
        items.iter().map(|s| RawEntry::arg(s, lookup)).collect()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn run(secrets: &[&str], variables: &[&str], origins: &[&str]) -> Result<Settings> {
        let secrets = entries(secrets, &no_env);
        let variables = entries(variables, &no_env);
        let origins = strings(origins);
        resolve(&SettingsInput {
            secrets: &secrets,
            secrets_file: None,
            variables: &variables,
            frontend_origins: &origins,
        })
    }

    fn run_file(text: &str) -> Result<Settings> {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(text.as_bytes()).expect("write temp file");
        resolve(&SettingsInput {
            secrets: &[],
            secrets_file: Some(file.path()),
            variables: &[],
            frontend_origins: &[],
        })
    }

    /// The rendered error and its hint, checked to never contain `value`.
    fn rejected(result: Result<Settings>, names: &str, value: &str) -> String {
        let error = result.expect_err("input should be refused");
        assert!(error.is_usage(), "{error}");
        let text = format!("{error} {} {error:?}", error.hint().unwrap_or_default());
        assert!(text.contains(names), "`{names}` missing from: {text}");
        assert!(!text.contains(value), "value `{value}` leaked in: {text}");
        assert!(error.hint().is_some(), "no hint: {text}");
        text
    }

    #[test]
    fn collects_secrets_variables_and_looks_up_bare_keys() {
        let lookup = |key: &str| (key == "QDRANT_API_KEY").then(|| "qd-456".to_string());
        let secrets = entries(&["GEMINI_API_KEY=gm-123", "QDRANT_API_KEY"], &lookup);
        let variables = entries(&["LOG_LEVEL=debug"], &lookup);
        let settings = resolve(&SettingsInput {
            secrets: &secrets,
            secrets_file: None,
            variables: &variables,
            frontend_origins: &[],
        })
        .expect("valid settings");
        assert_eq!(settings.secrets["GEMINI_API_KEY"].expose(), "gm-123");
        assert_eq!(settings.secrets["QDRANT_API_KEY"].expose(), "qd-456");
        assert_eq!(settings.variables["LOG_LEVEL"], "debug");
        assert!(settings.warnings.is_empty());
        let debug = format!("{settings:?}");
        assert!(debug.contains("GEMINI_API_KEY"), "{debug}");
        assert!(
            !debug.contains("gm-123") && !debug.contains("qd-456"),
            "{debug}"
        );
    }

    #[test]
    fn value_may_contain_equals_signs() {
        let settings = run(&["TOKEN=a=b=c"], &[], &[]).expect("valid");
        assert_eq!(settings.secrets["TOKEN"].expose(), "a=b=c");
    }

    #[test]
    fn same_secret_twice_with_same_value_is_fine() {
        let settings = run(&["A=1", "A=1"], &[], &[]).expect("valid");
        assert_eq!(settings.secrets.len(), 1);
    }

    #[test]
    fn frontend_origins_merge_into_allowed_origins_in_order_without_duplicates() {
        let settings = run(
            &["ALLOWED_ORIGINS=https://a.example, https://b.example"],
            &[],
            &[
                "https://b.example",
                "https://c.example",
                "https://c.example",
            ],
        )
        .expect("valid");
        assert_eq!(
            settings.secrets[ALLOWED_ORIGINS].expose(),
            "https://a.example,https://b.example,https://c.example"
        );
        let only_flags = run(&[], &[], &["http://localhost:5173"]).expect("valid");
        assert_eq!(
            only_flags.secrets[ALLOWED_ORIGINS].expose(),
            "http://localhost:5173"
        );
        let none = run(&["A=1"], &[], &[]).expect("valid");
        assert!(!none.secrets.contains_key(ALLOWED_ORIGINS));
    }

    #[test]
    fn database_url_without_sslmode_warns_without_the_value() {
        let value = "postgresql://user:pw-secret@ep-cool.neon.tech/db";
        let settings = run(&[&format!("DATABASE_URL={value}")], &[], &[]).expect("a warning only");
        assert_eq!(settings.warnings.len(), 1, "{:?}", settings.warnings);
        let warning = &settings.warnings[0];
        assert!(
            warning.contains("DATABASE_URL") && warning.contains("?sslmode=require"),
            "{warning}"
        );
        assert!(
            !warning.contains("pw-secret") && !warning.contains("neon.tech"),
            "{warning}"
        );

        let with_query = run(
            &["DATABASE_URL=postgres://u:p@db.example/x?connect_timeout=5"],
            &[],
            &[],
        )
        .expect("warning only");
        assert!(
            with_query.warnings[0].contains("&sslmode=require"),
            "{:?}",
            with_query.warnings
        );
        let disabled = run(
            &["DATABASE_URL=postgres://u:p@db.example/x?sslmode=disable"],
            &[],
            &[],
        )
        .expect("warning only");
        assert_eq!(disabled.warnings.len(), 1);
    }

    #[test]
    fn database_url_with_sslmode_or_on_localhost_or_not_postgres_is_quiet() {
        for value in [
            "postgresql://u:p@ep.neon.tech/db?sslmode=require",
            "postgres://u:p@ep.neon.tech/db?application_name=x&sslmode=verify-full",
            "postgres://u:p@db.example/x?sslmode=verify-ca",
            "postgresql://u:p@localhost:5432/db",
            "postgresql://u:p@127.0.0.1/db",
            "sqlite:///data/app.db",
        ] {
            let settings = run(&[&format!("DATABASE_URL={value}")], &[], &[]).expect("valid");
            assert!(
                settings.warnings.is_empty(),
                "{value}: {:?}",
                settings.warnings
            );
        }
    }

    #[test]
    fn parse_dotenv_handles_export_quotes_comments_and_blank_lines() {
        let text = "\u{feff}# comment\n\nexport A=1\nB = two words # trailing comment\nC='lit\\n # not a comment'\nD=\"x\\ny \\\"q\\\"\"  # c\nE=url#fragment\n";
        let parsed = parse_dotenv(text, ".env").expect("valid dotenv");
        assert_eq!(
            parsed,
            vec![
                ("A".to_string(), "1".to_string()),
                ("B".to_string(), "two words".to_string()),
                ("C".to_string(), "lit\\n # not a comment".to_string()),
                ("D".to_string(), "x\ny \"q\"".to_string()),
                ("E".to_string(), "url#fragment".to_string()),
            ]
        );
    }

    #[test]
    fn secrets_file_values_are_checked_and_named_by_file_and_line() {
        let settings = run_file("GEMINI_API_KEY=abc\nQDRANT_URL=\"https://q.example:6333\"\n")
            .expect("valid file");
        assert_eq!(
            settings.secrets["QDRANT_URL"].expose(),
            "https://q.example:6333"
        );
        let text = rejected(
            run_file("A=1\nB=\" padded-secret \"\n"),
            "B",
            "padded-secret",
        );
        assert!(text.contains(":2"), "{text}");
    }

    #[test]
    fn missing_secrets_file_is_an_io_error_naming_it() {
        let path = Path::new("/nonexistent/hf-deploy/secrets.env");
        let error = resolve(&SettingsInput {
            secrets: &[],
            secrets_file: Some(path),
            variables: &[],
            frontend_origins: &[],
        })
        .expect_err("missing file");
        assert!(error.to_string().contains("secrets.env"), "{error}");
    }

    // ----- bad input: each names the key and never shows the value -------------------------

    #[test]
    fn rejects_trailing_whitespace() {
        rejected(
            run(&["GEMINI_API_KEY=gm-secret-1 "], &[], &[]),
            "GEMINI_API_KEY",
            "gm-secret-1",
        );
    }

    #[test]
    fn rejects_leading_whitespace() {
        rejected(
            run(&["GEMINI_API_KEY= gm-secret-2"], &[], &[]),
            "GEMINI_API_KEY",
            "gm-secret-2",
        );
    }

    #[test]
    fn rejects_newline_in_value() {
        let text = rejected(
            run(&["API_KEY=abc-secret-3\n"], &[], &[]),
            "API_KEY",
            "abc-secret-3",
        );
        assert!(text.contains("line break"), "{text}");
    }

    #[test]
    fn rejects_newline_in_bare_secret_from_environment() {
        let lookup = |_: &str| Some("env-secret-4\n".to_string());
        let secrets = entries(&["HF_SECRET"], &lookup);
        let result = resolve(&SettingsInput {
            secrets: &secrets,
            secrets_file: None,
            variables: &[],
            frontend_origins: &[],
        });
        rejected(result, "HF_SECRET", "env-secret-4");
    }

    #[test]
    fn rejects_empty_value() {
        let text = rejected(run(&["EMPTY_KEY="], &[], &[]), "EMPTY_KEY", "\u{0}");
        assert!(text.contains("remove"), "{text}");
    }

    #[test]
    fn rejects_bare_secret_missing_from_environment() {
        let text = rejected(run(&["MISSING_KEY"], &[], &[]), "MISSING_KEY", "\u{0}");
        assert!(text.contains("not set"), "{text}");
    }

    #[test]
    fn rejects_invalid_key_syntax() {
        rejected(
            run(&["1BAD=value-secret-5"], &[], &[]),
            "1BAD",
            "value-secret-5",
        );
        rejected(
            run(&["BAD-KEY=value-secret-6"], &[], &[]),
            "BAD-KEY",
            "value-secret-6",
        );
        rejected(
            run(&["=value-secret-7"], &[], &[]),
            "secrets",
            "value-secret-7",
        );
    }

    #[test]
    fn rejects_overlong_key() {
        let key = "K".repeat(MAX_KEY_LEN + 1);
        rejected(
            run(&[&format!("{key}=value-secret-8")], &[], &[]),
            "KKKK",
            "value-secret-8",
        );
    }

    #[test]
    fn rejects_conflicting_duplicate_secret() {
        let text = rejected(
            run(&["DUP=first-secret-9", "DUP=second-secret-9"], &[], &[]),
            "DUP",
            "secret-9",
        );
        assert!(text.contains("twice"), "{text}");
    }

    #[test]
    fn rejects_duplicate_between_flag_and_file() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(b"DUP=file-secret-10\n").expect("write");
        let secrets = entries(&["DUP=flag-secret-10"], &no_env);
        let result = resolve(&SettingsInput {
            secrets: &secrets,
            secrets_file: Some(file.path()),
            variables: &[],
            frontend_origins: &[],
        });
        rejected(result, "DUP", "secret-10");
    }

    #[test]
    fn rejects_key_both_secret_and_variable() {
        rejected(
            run(&["BOTH=sec-secret-11"], &["BOTH=var-11"], &[]),
            "BOTH",
            "sec-secret-11",
        );
    }

    #[test]
    fn rejects_qdrant_url_with_space() {
        rejected(
            run(
                &["QDRANT_URL=https://q.example:6333 qd-secret-12"],
                &[],
                &[],
            ),
            "QDRANT_URL",
            "qd-secret-12",
        );
    }

    #[test]
    fn rejects_qdrant_url_with_trailing_slash() {
        let text = rejected(
            run(&["QDRANT_URL=https://qd-secret-13.example/"], &[], &[]),
            "QDRANT_URL",
            "qd-secret-13",
        );
        assert!(text.contains("trailing `/`"), "{text}");
    }

    #[test]
    fn rejects_variable_with_whitespace_and_bare_variable() {
        rejected(
            run(&[], &["LOG_LEVEL=debug-var-14 "], &[]),
            "LOG_LEVEL",
            "debug-var-14",
        );
        rejected(run(&[], &["LOG_LEVEL"], &[]), "LOG_LEVEL", "\u{0}");
    }

    #[test]
    fn rejects_malformed_dotenv_lines_naming_file_and_line() {
        let error = parse_dotenv("A=1\njust-some-secret-15\n", "prod.env").expect_err("malformed");
        let text = format!("{error} {}", error.hint().unwrap_or_default());
        assert!(text.contains("prod.env:2"), "{text}");
        assert!(!text.contains("some-secret-15"), "{text}");

        let error =
            parse_dotenv("TOKEN=\"unterminated-secret-16\n", "prod.env").expect_err("open quote");
        let text = format!("{error} {}", error.hint().unwrap_or_default());
        assert!(
            text.contains("prod.env:1") && text.contains("TOKEN"),
            "{text}"
        );
        assert!(!text.contains("unterminated-secret-16"), "{text}");

        let error =
            parse_dotenv("TOKEN='quoted-secret-17' trailing\n", "prod.env").expect_err("tail");
        let text = format!("{error} {}", error.hint().unwrap_or_default());
        assert!(
            text.contains("prod.env:1") && text.contains("TOKEN"),
            "{text}"
        );
        assert!(!text.contains("quoted-secret-17"), "{text}");

        let error = parse_dotenv("BAD KEY=spaced-secret-18\n", "prod.env").expect_err("bad key");
        let text = format!("{error} {}", error.hint().unwrap_or_default());
        assert!(text.contains("prod.env:1"), "{text}");
        assert!(!text.contains("spaced-secret-18"), "{text}");
    }

    #[test]
    fn settings_input_debug_hides_secret_values() {
        let secrets = entries(&["GEMINI_API_KEY=gm-secret-19"], &no_env);
        let input = SettingsInput {
            secrets: &secrets,
            secrets_file: None,
            variables: &[],
            frontend_origins: &[],
        };
        let debug = format!("{input:?}");
        assert!(
            debug.contains("GEMINI_API_KEY") && !debug.contains("gm-secret-19"),
            "{debug}"
        );
    }

    #[test]
    fn list_lines_name_the_line_and_refuse_a_line_without_equals() {
        let secrets = RawEntry::lines("# c\nA=1\n\njust-a-pasted-secret-20\n");
        let error = resolve(&SettingsInput {
            secrets: &secrets,
            secrets_file: None,
            variables: &[],
            frontend_origins: &[],
        })
        .expect_err("malformed line");
        let text = rejected(Err(error), "line 4", "pasted-secret-20");
        assert!(text.starts_with("invalid `secrets`"), "{text}");
    }
}
