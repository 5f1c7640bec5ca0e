//! Reading `hf-deploy.toml`: the parser's spanned document walked key by key, so that every
//! error names its `file:line:column`, the key, and what is allowed there.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{ConfigError, Location};
use super::keys::{self, Key, Kind};
use super::rules;

/// A value with the place it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item<T> {
    /// The value.
    pub(crate) value: T,
    /// Where the value starts.
    pub(crate) at: Location,
}

/// A value of a key, read by its [`Kind`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// [`Kind::Text`] and [`Kind::Path`] (the path as written).
    Text(String),
    /// [`Kind::Bool`].
    Bool(bool),
    /// [`Kind::Minutes`].
    Minutes(u64),
    /// [`Kind::Seconds`].
    Seconds(i64),
    /// [`Kind::Names`] and [`Kind::Strings`] (a single string is a list of one).
    List(Vec<Item<String>>),
    /// [`Kind::Table`]: names and values, in the order written.
    Table(Vec<(Item<String>, Item<String>)>),
}

/// One `[[space]]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Where the table starts.
    pub(crate) at: Location,
    /// Its `space`.
    pub(crate) space: Item<String>,
    /// Every key written, with its value, in the order written.
    pub(crate) values: Vec<(&'static Key, Item<Value>)>,
}

/// The document being read: its text and its name for messages.
struct Doc<'a> {
    text: &'a str,
    file: &'a str,
}

impl Doc<'_> {
    fn at(&self, span: &Range<usize>) -> Location {
        Location::start(self.text, span)
    }

    fn error(
        &self,
        span: &Range<usize>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> ConfigError {
        ConfigError::new(self.file, Some(self.at(span)), message, hint)
    }
}

/// Read the entries of a configuration file named `file` (for messages) holding `text`.
pub(crate) fn parse(text: &str, file: &str) -> Result<Vec<Entry>, ConfigError> {
    let doc = Doc { text, file };
    let root = DeTable::parse(text).map_err(|error| {
        let at = error.span().map(|span| Location::start(text, &span));
        ConfigError::new(
            file,
            at,
            format!("not valid TOML: {}", error.message().trim_end()),
            Some("see https://toml.io for the syntax; each Space is a `[[space]]` table".into()),
        )
    })?;
    let mut entries = Vec::new();
    for (key, value) in root.get_ref().iter() {
        let name: &str = key.get_ref();
        if name != "space" {
            return Err(top_level_key(&doc, name, &key.span()));
        }
        let DeValue::Array(items) = value.get_ref() else {
            return Err(doc.error(
                &key.span(),
                "`space` must be an array of tables",
                Some("write each Space as a `[[space]]` table (two brackets)".into()),
            ));
        };
        for item in items.iter() {
            let DeValue::Table(table) = item.get_ref() else {
                return Err(doc.error(
                    &item.span(),
                    format!(
                        "an item of `space` is {}, not a table",
                        item.get_ref().type_str()
                    ),
                    Some("write each Space as a `[[space]]` table".into()),
                ));
            };
            entries.push(entry(&doc, table, &item.span())?);
        }
    }
    if entries.is_empty() {
        return Err(ConfigError::new(
            file,
            None,
            "the file has no `[[space]]` table",
            Some(
                "add one with at least `space = \"namespace/name\"` (`hf-deploy init` writes one)"
                    .into(),
            ),
        ));
    }
    no_duplicates(&doc, &entries)?;
    Ok(entries)
}

/// An error for a key outside the `[[space]]` tables.
fn top_level_key(doc: &Doc<'_>, name: &str, span: &Range<usize>) -> ConfigError {
    if keys::is_credential(name) {
        return refused_key(doc, name, span);
    }
    let hint = if keys::find(name).is_some() {
        format!("put `{name}` inside a `[[space]]` table: every setting belongs to one Space")
    } else {
        "the file holds `[[space]]` tables only, one per Space".to_string()
    };
    doc.error(
        span,
        format!("unknown key `{name}` at the top level"),
        Some(hint),
    )
}

fn refused_key(doc: &Doc<'_>, name: &str, span: &Range<usize>) -> ConfigError {
    doc.error(
        span,
        format!("`{name}` would put a secret into the file, which is refused"),
        Some(keys::credential_hint(name)),
    )
}

/// One `[[space]]` table.
fn entry(doc: &Doc<'_>, table: &DeTable<'_>, span: &Range<usize>) -> Result<Entry, ConfigError> {
    let mut values = Vec::new();
    let mut space = None;
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        let spec = known_key(doc, name, &key.span())?;
        let item = Item {
            value: read(doc, spec, value)?,
            at: doc.at(&value.span()),
        };
        rules::check(spec, &item, doc.file)?;
        if let Value::Text(text) = &item.value {
            if spec.name == "space" {
                space = Some(Item {
                    value: text.trim().to_string(),
                    at: item.at,
                });
            }
        }
        values.push((spec, item));
    }
    let Some(space) = space else {
        return Err(doc.error(
            span,
            "this `[[space]]` table has no `space`",
            Some("add `space = \"namespace/name\"`, the Space it deploys to".into()),
        ));
    };
    Ok(Entry {
        at: doc.at(span),
        space,
        values,
    })
}

/// The key named `name`, or why it is not one.
fn known_key(doc: &Doc<'_>, name: &str, span: &Range<usize>) -> Result<&'static Key, ConfigError> {
    if let Some(key) = keys::find(name) {
        return Ok(key);
    }
    if keys::is_credential(name) {
        return Err(refused_key(doc, name, span));
    }
    let hint = match keys::suggest(name) {
        Some(close) => format!("did you mean `{close}`? The keys are: {}", keys::list()),
        None => format!("the keys are: {}", keys::list()),
    };
    Err(doc.error(span, format!("unknown key `{name}`"), Some(hint)))
}

/// The value of `key`, read by its kind.
fn read(doc: &Doc<'_>, key: &Key, value: &Spanned<DeValue<'_>>) -> Result<Value, ConfigError> {
    let wrong_type = || {
        doc.error(
            &value.span(),
            format!(
                "`{}` must be {}, not {}",
                key.name,
                key.kind.describe(),
                article(value.get_ref().type_str())
            ),
            None,
        )
    };
    match (key.kind, value.get_ref()) {
        (Kind::Text | Kind::Path, DeValue::String(text)) => {
            refuse_token_like(doc, key, text, &value.span())?;
            Ok(Value::Text(text.to_string()))
        }
        (Kind::Bool, DeValue::Boolean(flag)) => Ok(Value::Bool(*flag)),
        (Kind::Minutes | Kind::Seconds, DeValue::Integer(number)) => {
            let (digits, radix) = (number.as_str(), number.radix());
            let read = if key.kind == Kind::Minutes {
                u64::from_str_radix(digits, radix).ok().map(Value::Minutes)
            } else {
                i64::from_str_radix(digits, radix).ok().map(Value::Seconds)
            };
            read.ok_or_else(|| {
                doc.error(
                    &value.span(),
                    format!(
                        "`{}` must be {}, not `{number}`",
                        key.name,
                        key.kind.describe()
                    ),
                    None,
                )
            })
        }
        (Kind::Names, _) => names(doc, key, value),
        (Kind::Strings, DeValue::String(text)) => {
            refuse_token_like(doc, key, text, &value.span())?;
            Ok(Value::List(vec![Item {
                value: text.to_string(),
                at: doc.at(&value.span()),
            }]))
        }
        (Kind::Strings, DeValue::Array(items)) => {
            let mut list = Vec::new();
            for item in items.iter() {
                let DeValue::String(text) = item.get_ref() else {
                    return Err(doc.error(
                        &item.span(),
                        format!(
                            "an item of `{}` is {}; each must be a string",
                            key.name,
                            article(item.get_ref().type_str())
                        ),
                        None,
                    ));
                };
                list.push(Item {
                    value: text.to_string(),
                    at: doc.at(&item.span()),
                });
            }
            Ok(Value::List(list))
        }
        (Kind::Table, DeValue::Table(table)) => variables(doc, key, table),
        _ => Err(wrong_type()),
    }
}

/// `secrets`: a list of names. A value in its place (`NAME=value`, a table of values) is refused.
fn names(doc: &Doc<'_>, key: &Key, value: &Spanned<DeValue<'_>>) -> Result<Value, ConfigError> {
    let refused = |span: &Range<usize>, what: String| {
        doc.error(
            span,
            format!("{what}: secret values are refused in this file, which is committed"),
            Some(format!(
                "list names only, e.g. `{} = [\"GEMINI_API_KEY\"]`, and {}",
                key.name,
                value_elsewhere()
            )),
        )
    };
    let items = match value.get_ref() {
        DeValue::Array(items) => items,
        DeValue::Table(_) => {
            return Err(refused(
                &value.span(),
                format!("`{}` is a table of values", key.name),
            ));
        }
        DeValue::String(text) if text.contains('=') => {
            return Err(refused(
                &value.span(),
                format!("`{}` holds `{}=...`", key.name, key_part(text)),
            ));
        }
        other => {
            return Err(doc.error(
                &value.span(),
                format!(
                    "`{}` must be {}, not {}",
                    key.name,
                    key.kind.describe(),
                    article(other.type_str())
                ),
                None,
            ));
        }
    };
    let mut list = Vec::new();
    for item in items.iter() {
        let text = match item.get_ref() {
            DeValue::String(text) => text,
            DeValue::Table(_) => {
                return Err(refused(
                    &item.span(),
                    format!("an item of `{}` is a table", key.name),
                ));
            }
            other => {
                return Err(doc.error(
                    &item.span(),
                    format!(
                        "an item of `{}` is {}; each must be a secret's name",
                        key.name,
                        article(other.type_str())
                    ),
                    None,
                ));
            }
        };
        if text.contains('=') {
            return Err(refused(
                &item.span(),
                format!("`{}=...` is a name with a value", key_part(text)),
            ));
        }
        list.push(Item {
            value: text.trim().to_string(),
            at: doc.at(&item.span()),
        });
    }
    Ok(Value::List(list))
}

/// `variables`: a table of names and values (strings, numbers, booleans).
fn variables(doc: &Doc<'_>, key: &Key, table: &DeTable<'_>) -> Result<Value, ConfigError> {
    let mut out = Vec::new();
    for (name, value) in table.iter() {
        let text = match value.get_ref() {
            DeValue::String(text) => text.to_string(),
            DeValue::Integer(number) => number.to_string(),
            DeValue::Float(number) => number.to_string(),
            DeValue::Boolean(flag) => flag.to_string(),
            other => {
                return Err(doc.error(
                    &value.span(),
                    format!(
                        "`{}.{}` is {}; a variable's value is a string, a number or a boolean",
                        key.name,
                        name.get_ref(),
                        article(other.type_str())
                    ),
                    None,
                ));
            }
        };
        refuse_token_like(doc, key, &text, &value.span())?;
        out.push((
            Item {
                value: name.get_ref().to_string(),
                at: doc.at(&name.span()),
            },
            Item {
                value: text,
                at: doc.at(&value.span()),
            },
        ));
    }
    Ok(Value::Table(out))
}

/// A value that looks like a token or carries a password (`hf_...`, `scheme://user:pass@host`).
fn refuse_token_like(
    doc: &Doc<'_>,
    key: &Key,
    text: &str,
    span: &Range<usize>,
) -> Result<(), ConfigError> {
    match rules::looks_secret(text) {
        Some(what) => Err(doc.error(
            span,
            format!("the value of `{}` looks like {what}: secret values are refused in this file, which is committed", key.name),
            Some(format!("remove it; {}", value_elsewhere())),
        )),
        None => Ok(()),
    }
}

fn value_elsewhere() -> &'static str {
    "pass each secret's value in the environment (`export NAME=...`; in a workflow, the step's `env:` from `secrets.*`) or in a `secrets-file` kept out of git"
}

/// The key of `NAME=value` (never the value), shortened.
fn key_part(text: &str) -> String {
    let key = text.split('=').next().unwrap_or_default().trim();
    key.chars().take(40).collect()
}

/// `a string`, `an integer`, `an array`.
fn article(type_name: &str) -> String {
    let vowel = type_name.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {type_name}", if vowel { "an" } else { "a" })
}

/// Two entries for one Space: refused at the second.
fn no_duplicates(doc: &Doc<'_>, entries: &[Entry]) -> Result<(), ConfigError> {
    for (index, entry) in entries.iter().enumerate() {
        if let Some(first) = entries[..index]
            .iter()
            .find(|e| e.space.value.eq_ignore_ascii_case(&entry.space.value))
        {
            return Err(ConfigError::new(
                doc.file,
                Some(entry.space.at),
                format!(
                    "Space `{}` has a second `[[space]]` table (the first is at line {})",
                    entry.space.value, first.space.at.line
                ),
                Some("keep one table per Space: a Space deploys one source".into()),
            ));
        }
    }
    Ok(())
}
