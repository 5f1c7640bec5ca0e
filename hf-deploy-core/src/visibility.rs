//! Who reads a Space's repository and who reaches its app: the Hub's `visibility`.
//!
//! The Hub knows three (hub-2026 §9): `public` (everyone reads the code and reaches the app),
//! `protected` (the code is private, the app public; paid plans only) and `private` (the code
//! and the app answer the owner only: a browser without the owner's session cannot call the
//! app, so a frontend cannot either).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::field::{Field, Phrase};

/// A Space's visibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Visibility {
    /// Everyone reads the repository and reaches the app.
    #[default]
    Public,
    /// The repository is private, the app public (PRO, Team or Enterprise plans).
    Protected,
    /// Only the owner reads the repository and reaches the app.
    Private,
}

impl Visibility {
    /// Every visibility, from the most open to the most closed.
    pub const ALL: [Visibility; 3] = [
        Visibility::Public,
        Visibility::Protected,
        Visibility::Private,
    ];

    /// The Hub's word: `public`, `protected` or `private`.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Protected => "protected",
            Visibility::Private => "private",
        }
    }

    /// Parse the Hub's word (case and surrounding spaces aside); `field` names the input in
    /// the error.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming `field` for any other word.
    pub fn parse(text: &str, field: Field) -> Result<Self> {
        let word = text.trim().to_ascii_lowercase();
        Visibility::ALL
            .into_iter()
            .find(|v| v.as_str() == word)
            .ok_or_else(|| {
                Error::invalid_input_hint(
                    field,
                    format!("`{}` is not a visibility", text.trim().escape_debug()),
                    Phrase::new("use `public`, `protected` (private code, public app; paid plans) or `private` (code and app for the owner only)"),
                )
            })
    }

    /// True when a browser without the owner's session reaches the app (public, protected).
    pub fn app_is_public(self) -> bool {
        !matches!(self, Visibility::Private)
    }

    /// How open it is: 2 public, 1 protected, 0 private.
    fn openness(self) -> u8 {
        match self {
            Visibility::Public => 2,
            Visibility::Protected => 1,
            Visibility::Private => 0,
        }
    }

    /// True when `self` shows more than `other` (its code or its app).
    pub fn is_more_open_than(self, other: Visibility) -> bool {
        self.openness() > other.openness()
    }

    /// The Hub's word read leniently: an unknown word (a visibility this crate does not know
    /// yet) or `null` is `None`.
    pub(crate) fn lenient<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Option<Visibility>, D::Error> {
        let word = Option::<String>::deserialize(deserializer)?;
        Ok(word.and_then(|w| Visibility::parse(&w, Field::Other("visibility")).ok()))
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_hubs_words_only() {
        for v in Visibility::ALL {
            assert_eq!(Visibility::parse(v.as_str(), Field::Space).ok(), Some(v));
        }
        assert_eq!(
            Visibility::parse(" Protected ", Field::Space).ok(),
            Some(Visibility::Protected)
        );
        let error = Visibility::parse("secret", Field::Space).expect_err("refused");
        assert!(error.is_usage());
        assert!(error.to_string().contains("`secret`"), "{error}");
    }

    #[test]
    fn openness_orders_public_protected_private() {
        assert!(Visibility::Public.is_more_open_than(Visibility::Protected));
        assert!(Visibility::Protected.is_more_open_than(Visibility::Private));
        assert!(!Visibility::Private.is_more_open_than(Visibility::Private));
        assert!(Visibility::Protected.app_is_public() && !Visibility::Private.app_is_public());
    }

    #[test]
    fn unknown_words_read_as_none() {
        #[derive(Deserialize)]
        struct Info {
            #[serde(default, deserialize_with = "Visibility::lenient")]
            visibility: Option<Visibility>,
        }
        let read = |json: &str| serde_json::from_str::<Info>(json).expect("json").visibility;
        assert_eq!(
            read(r#"{"visibility":"protected"}"#),
            Some(Visibility::Protected)
        );
        assert_eq!(read(r#"{"visibility":"internal"}"#), None);
        assert_eq!(read(r#"{"visibility":null}"#), None);
        assert_eq!(read("{}"), None);
    }
}
