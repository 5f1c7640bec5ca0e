//! Space ids and the URLs derived from them.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::error::{Error, Result};
use crate::field::Field;

/// A validated `namespace/name` Space id.
///
/// Rules are the Hub clients' (`huggingface_hub` `validate_repo_id`): each part is 1 to 96
/// characters of `[A-Za-z0-9_.-]`, does not start or end with `-` or `.`, has no `--` or `..`,
/// and the id does not end in `.git`. Unlike the Python client we require the namespace:
/// a deploy must say where it goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpaceId {
    namespace: String,
    name: String,
}

/// Longest Space name the Hub accepts.
pub(crate) const MAX_NAME_LEN: usize = 96;

impl SpaceId {
    /// Parse and validate `ns/name`. `input` names the field for the error message.
    pub fn parse(value: &str, input: Field) -> Result<Self> {
        let hint = "use the form `namespace/name`, e.g. `alice/rag-chatbot`";
        let Some((namespace, name)) = value.split_once('/') else {
            return Err(Error::invalid_input_hint(
                input,
                format!("`{value}` is not of the form `namespace/name`"),
                hint,
            ));
        };
        if name.contains('/') {
            return Err(Error::invalid_input_hint(
                input,
                format!("`{value}` has more than one `/`"),
                hint,
            ));
        }
        for (part, label) in [(namespace, "namespace"), (name, "name")] {
            if let Some(reason) = part_problem(part) {
                return Err(Error::invalid_input_hint(
                    input,
                    format!("the {label} in `{value}` {reason}"),
                    "use letters, digits, `-`, `_` and `.`, at most 96 characters, not starting or ending with `-` or `.`",
                ));
            }
        }
        if value.ends_with(".git") {
            return Err(Error::invalid_input(
                input,
                format!("`{value}` must not end in `.git`"),
            ));
        }
        Ok(SpaceId {
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }

    /// The namespace (user or organisation).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The Space name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The id of this Space's preview for pull request `number`: `{name}-pr-{number}`, cut so
    /// that the name stays within the Hub's length limit (96) and still valid.
    pub fn preview(&self, number: u64) -> SpaceId {
        let suffix = format!("-pr-{number}");
        let keep = MAX_NAME_LEN.saturating_sub(suffix.len());
        let mut base: String = self.name.chars().take(keep).collect();
        while base.ends_with(['-', '.']) {
            base.pop();
        }
        SpaceId {
            namespace: self.namespace.clone(),
            name: format!("{base}{suffix}"),
        }
    }

    /// `https://{endpoint}/spaces/{ns}/{name}`.
    pub fn web_url(&self, endpoint: &str) -> String {
        format!("{}/spaces/{}", endpoint.trim_end_matches('/'), self)
    }

    /// The computed subdomain `{ns}-{name}`, lower-cased, with `_` and `.` turned into `-`.
    /// Only the last fallback for the app URL: the Hub's own answer wins.
    pub(crate) fn computed_subdomain(&self) -> String {
        format!("{}-{}", self.namespace, self.name)
            .to_lowercase()
            .replace(['_', '.'], "-")
    }

    /// The computed app URL `https://{subdomain}.hf.space`.
    pub fn computed_app_url(&self) -> String {
        format!("https://{}.hf.space", self.computed_subdomain())
    }
}

fn part_problem(part: &str) -> Option<&'static str> {
    if part.is_empty() {
        return Some("is empty");
    }
    if part.len() > MAX_NAME_LEN {
        return Some("is longer than 96 characters");
    }
    if !part
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Some("has characters other than letters, digits, `-`, `_` and `.`");
    }
    if part.starts_with(['-', '.']) || part.ends_with(['-', '.']) {
        return Some("starts or ends with `-` or `.`");
    }
    if part.contains("--") || part.contains("..") {
        return Some("contains `--` or `..`");
    }
    None
}

impl fmt::Display for SpaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

impl FromStr for SpaceId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        SpaceId::parse(s, Field::Space)
    }
}

impl Serialize for SpaceId {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_ids_the_hub_accepts() {
        for ok in [
            "a/b",
            "user/My.Space-1",
            "_a/a_",
            &format!("u/{}", "a".repeat(96)),
        ] {
            SpaceId::parse(ok, Field::Space).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn rejects_what_the_hub_rejects_and_names_the_input() {
        for bad in [
            "nospace",
            "a/b/c",
            "/b",
            "a/",
            "-a/b",
            "a/b-",
            "a/.b",
            "a/b.",
            "a/b--c",
            "a/b..c",
            "a/x.git",
            "a/café",
            "a/a b",
            &format!("u/{}", "a".repeat(97)),
        ] {
            let error = SpaceId::parse(bad, Field::Space).expect_err(bad);
            assert!(
                error.to_string().starts_with("invalid `space`"),
                "{bad}: {error}"
            );
            assert!(error.is_usage());
        }
    }

    #[test]
    fn computed_app_url_follows_the_observed_rule() {
        let id = SpaceId::parse("user/tmp_test_space", Field::Space).unwrap();
        assert_eq!(
            id.computed_app_url(),
            "https://user-tmp-test-space.hf.space"
        );
        let id = SpaceId::parse("Alice/My.Bot", Field::Space).unwrap();
        assert_eq!(id.computed_subdomain(), "alice-my-bot");
    }

    #[test]
    fn preview_names_stay_valid_and_short() {
        let id = SpaceId::parse("alice/rag", Field::Space).unwrap();
        assert_eq!(id.preview(7).to_string(), "alice/rag-pr-7");
        let long = SpaceId::parse(&format!("alice/{}", "b".repeat(96)), Field::Space).unwrap();
        let preview = long.preview(12345);
        assert_eq!(preview.name().len(), 96);
        SpaceId::parse(&preview.to_string(), Field::Space).unwrap();
        let dashy = SpaceId::parse(&format!("alice/{}-x", "b".repeat(85)), Field::Space).unwrap();
        SpaceId::parse(&dashy.preview(1234).to_string(), Field::Space).unwrap();
    }
}
