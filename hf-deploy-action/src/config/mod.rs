//! `hf-deploy.toml`: the settings of every Space of a repository, in one file next to the code.
//!
//! One `[[space]]` table per Space; its keys are the action's input names ([`keys::KEYS`]) with
//! TOML types. Both front ends read the selected table into the one input model
//! (`RawInputs`): the command line under its flags and the environment, the action under its
//! inputs. This module reads and checks the file; it knows no front end.
//!
//! Every value is checked when the file is read, by the library's rule for its input, so that a
//! bad value is reported at its `file:line:column`. Secret values never belong in the file:
//! `secrets` lists names, whose values come from the environment; a key or value that holds a
//! credential is refused with a hint saying how to pass it instead.

pub(crate) mod changed;
mod error;
mod keys;
mod parse;
mod rules;

use std::path::{Path, PathBuf};

pub(crate) use error::{ConfigError, Location};
pub(crate) use keys::{Kind, spelling};
pub(crate) use parse::{Entry, Item, Value};

/// The file's name, looked for from the current directory up to the repository's root.
pub(crate) const FILE_NAME: &str = "hf-deploy.toml";

/// The folder of an entry without `source`, relative to the file (the action's default).
pub(crate) const DEFAULT_SOURCE: &str = "backend";

/// A checked configuration file.
#[derive(Debug, Clone)]
pub(crate) struct ConfigFile {
    /// The file as messages show it.
    pub(crate) shown: String,
    /// The file's path (absolute when the file was found by a search).
    pub(crate) path: PathBuf,
    /// Its entries, in the order written; at least one, no two for one Space.
    pub(crate) entries: Vec<Entry>,
}

impl ConfigFile {
    /// Read and check the file at `path`. `shown` names it in messages; `named_by` is the flag or
    /// input that named it, if any (a missing file is then that input's error).
    pub(crate) fn read(
        path: &Path,
        shown: &str,
        named_by: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            let by = named_by.map(|n| format!(" (named by `{n}`)")).unwrap_or_default();
            ConfigError::new(
                shown,
                None,
                format!("cannot read the configuration file{by}: {error}"),
                Some("give the path of an `hf-deploy.toml`, relative to the current directory (in a workflow, to the workspace)".into()),
            )
        })?;
        ConfigFile::parse(&text, path, shown)
    }

    /// Check the file's `text`.
    pub(crate) fn parse(text: &str, path: &Path, shown: &str) -> Result<Self, ConfigError> {
        Ok(ConfigFile {
            shown: shown.to_string(),
            path: path.to_path_buf(),
            entries: parse::parse(text, shown)?,
        })
    }

    /// The folder relative paths of the file are relative to.
    pub(crate) fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }

    /// The backend folder of `entry`: its `source` (default [`DEFAULT_SOURCE`]) under the file's
    /// folder.
    pub(crate) fn source_of(&self, entry: &Entry) -> PathBuf {
        let written = entry
            .text("source")
            .map_or(DEFAULT_SOURCE, |(text, _)| text);
        self.dir().join(written.trim())
    }

    /// The entry `asked` names (by its `space`, case aside), or the only entry. `spelled` is how
    /// the front end spells the input that asks (`--space`, `space`).
    ///
    /// With one entry, that entry is used whatever `asked` says (the front end then deploys it
    /// to the Space asked for); with several, `asked` must name one of them.
    pub(crate) fn select(&self, asked: Option<&str>, spelled: &str) -> Result<&Entry, ConfigError> {
        let asked = asked.map(str::trim).filter(|s| !s.is_empty());
        if let Some(asked) = asked {
            if let Some(entry) = self
                .entries
                .iter()
                .find(|e| e.space.value.eq_ignore_ascii_case(asked))
            {
                return Ok(entry);
            }
        }
        if let [only] = self.entries.as_slice() {
            return Ok(only);
        }
        let message = match asked {
            Some(asked) => format!(
                "`{spelled}` `{asked}` names no entry of the file; its Spaces are {}",
                self.names()
            ),
            None => format!(
                "the file has {} Spaces ({}): say which one to deploy with `{spelled}`",
                self.entries.len(),
                self.names()
            ),
        };
        Err(ConfigError::new(
            &self.shown,
            None,
            message,
            Some(format!("give `{spelled}` one of {}", self.names())),
        ))
    }

    /// The Spaces of the file, for messages: `` `a/x`, `b/y` ``.
    pub(crate) fn names(&self) -> String {
        self.entries
            .iter()
            .map(|e| format!("`{}`", e.space.value))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Entry {
    /// The value of `name`, when written.
    pub(crate) fn get(&self, name: &str) -> Option<&Item<Value>> {
        self.values
            .iter()
            .find(|(key, _)| key.name == name)
            .map(|(_, item)| item)
    }

    /// Where the value of `name` starts, when written.
    pub(crate) fn at(&self, name: &str) -> Option<Location> {
        self.get(name).map(|item| item.at)
    }

    /// A string value (a [`Kind::Text`] or [`Kind::Path`] key).
    pub(crate) fn text(&self, name: &str) -> Option<(&str, Location)> {
        match self.get(name) {
            Some(Item {
                value: Value::Text(text),
                at,
            }) => Some((text.as_str(), *at)),
            _ => None,
        }
    }

    /// A boolean value.
    pub(crate) fn flag(&self, name: &str) -> Option<(bool, Location)> {
        match self.get(name) {
            Some(Item {
                value: Value::Bool(flag),
                at,
            }) => Some((*flag, *at)),
            _ => None,
        }
    }

    /// `timeout-minutes`.
    pub(crate) fn minutes(&self) -> Option<(u64, Location)> {
        match self.get("timeout-minutes") {
            Some(Item {
                value: Value::Minutes(minutes),
                at,
            }) => Some((*minutes, *at)),
            _ => None,
        }
    }

    /// `sleep-time`.
    pub(crate) fn seconds(&self) -> Option<(i64, Location)> {
        match self.get("sleep-time") {
            Some(Item {
                value: Value::Seconds(seconds),
                at,
            }) => Some((*seconds, *at)),
            _ => None,
        }
    }

    /// The items of a list (`secrets`, `frontend-url`); empty when not written.
    pub(crate) fn list(&self, name: &str) -> &[Item<String>] {
        match self.get(name) {
            Some(Item {
                value: Value::List(list),
                ..
            }) => list,
            _ => &[],
        }
    }

    /// The names and values of a table (`variables`); empty when not written.
    pub(crate) fn table(&self, name: &str) -> &[(Item<String>, Item<String>)] {
        match self.get(name) {
            Some(Item {
                value: Value::Table(table),
                ..
            }) => table,
            _ => &[],
        }
    }

    /// The entry's settings without their places, to compare two versions of the file.
    pub(crate) fn fingerprint(&self) -> String {
        let mut out = String::new();
        for (key, item) in &self.values {
            let value = match &item.value {
                Value::Text(text) => format!("{text:?}"),
                Value::Bool(flag) => flag.to_string(),
                Value::Minutes(minutes) => minutes.to_string(),
                Value::Seconds(seconds) => seconds.to_string(),
                Value::List(list) => {
                    format!("{:?}", list.iter().map(|i| &i.value).collect::<Vec<_>>())
                }
                Value::Table(table) => format!(
                    "{:?}",
                    table
                        .iter()
                        .map(|(k, v)| (&k.value, &v.value))
                        .collect::<Vec<_>>()
                ),
            };
            out.push_str(&format!("{}={value}\n", key.name));
        }
        out
    }
}

/// The configuration file found from `start` upwards: in `start` or a folder above it, up to and
/// including the repository's root (the folder holding `.git`). Outside a repository, only
/// `start` itself is looked at.
pub(crate) fn find(start: &Path) -> Option<PathBuf> {
    let in_repository = start.ancestors().any(|dir| dir.join(".git").exists());
    for dir in start.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if !in_repository || dir.join(".git").exists() {
            break;
        }
    }
    None
}

/// Every key of a `[[space]]` table, for tests of the front ends.
#[cfg(test)]
pub(crate) fn keys_for_tests() -> impl Iterator<Item = &'static str> {
    keys::KEYS.iter().map(|key| key.name)
}

/// `path` as messages show it: relative to `base` when under it.
pub(crate) fn shown(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests;
