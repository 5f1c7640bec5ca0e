//! Fingerprints of secret values, kept in the secret's `description`, so that a redeploy can tell
//! whether a secret changed without reading it (the Hub never returns secret values).
//!
//! Every secret write restarts the Space on the Hub, even with the same value; so a redeploy
//! writes a secret only when its fingerprint does not match the value it would write.
//!
//! # Format
//!
//! The description the Hub stores is the user's own text (possibly empty), then, on its own last
//! line, the marker and a PHC string of an Argon2id hash of the value:
//!
//! ```text
//! <the user's own description text>
//! hf-deploy:fingerprint $argon2id$v=19$m=7168,t=5,p=1$<salt, base64>$<hash, base64>
//! ```
//!
//! With no user text, the description is the marker line alone. The salt is 16 random bytes drawn
//! for every write, so two Spaces (or two secrets) with one value carry unrelated fingerprints,
//! and the slow hash makes guessing a value from its fingerprint costly: Argon2id with 7 MiB and
//! 5 passes, one of the OWASP minimum settings (all of equal cost: 19 MiB and 2 passes, 12 MiB
//! and 3, 9 MiB and 4, 7 MiB and 5). Of those, the smallest memory: a deploy hashes its secrets
//! at once, one per core, and 19 MiB each doubled the peak memory of a deploy with two secrets
//! (BENCHMARKS.md). A fingerprint is checked with the parameters written in it, so those made
//! with 19 MiB and 2 passes (hf-deploy before this change) still match. Only people with write access to the Space can list descriptions, and
//! they could read the value anyway by deploying code that prints it.
//!
//! A description without the marker (written by hand, or by another tool) never matches: the
//! secret is written once, with a fingerprint, and left alone from then on.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::secret::SecretString;

/// The marker that starts the fingerprint line of a description.
pub(crate) const MARKER: &str = "hf-deploy:fingerprint ";

/// A description split into the user's own text and our fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Description {
    /// The user's own text, without the fingerprint line; empty when none.
    pub user_text: String,
    /// The PHC string of the fingerprint, when there is one.
    pub fingerprint: Option<String>,
}

impl Description {
    /// Split a description as listed by the Hub. Whitespace after the fingerprint line (line
    /// breaks included, as an editor or the web form may add) is not a new last line.
    pub(crate) fn parse(description: Option<&str>) -> Description {
        let text = description.unwrap_or("").trim_end();
        let (user_text, last) = match text.rsplit_once('\n') {
            Some((before, last)) => (before, last),
            None => ("", text),
        };
        match last.trim().strip_prefix(MARKER.trim_end()) {
            Some(rest) if rest.trim_start().starts_with("$argon2") => Description {
                user_text: user_text.trim_end().to_string(),
                fingerprint: Some(rest.trim().to_string()),
            },
            _ => Description {
                user_text: text.trim_end().to_string(),
                fingerprint: None,
            },
        }
    }

    /// True when the fingerprint is the one of `value`.
    pub(crate) fn matches(&self, value: &SecretString) -> bool {
        self.fingerprint
            .as_deref()
            .is_some_and(|fingerprint| matches(fingerprint, value))
    }

    /// The origins an `ALLOWED_ORIGINS` secret held when this tool last wrote it (its
    /// [`ORIGINS_MARK`] line): the Hub never shows a secret's value, and origins are public.
    pub(crate) fn origins(&self) -> Option<&str> {
        self.user_text
            .lines()
            .find_map(|line| line.trim().strip_prefix(ORIGINS_MARK.trim_end()))
            .map(str::trim)
    }

    /// This description with its [`ORIGINS_MARK`] line saying `origins` (added, or replacing
    /// the one there).
    pub(crate) fn with_origins(&self, origins: &str) -> Description {
        let mut lines: Vec<String> = self
            .user_text
            .lines()
            .filter(|line| !line.trim().starts_with(ORIGINS_MARK.trim_end()))
            .map(str::to_string)
            .collect();
        lines.push(format!("{ORIGINS_MARK}{origins}"));
        Description {
            user_text: lines.join("\n"),
            fingerprint: self.fingerprint.clone(),
        }
    }

    /// The description to write with `value`: the user's text kept, a new fingerprint line.
    pub(crate) fn with_value(&self, value: &SecretString) -> String {
        let line = format!("{MARKER}{}", fingerprint(value));
        if self.user_text.is_empty() {
            line
        } else {
            format!("{}\n{line}", self.user_text)
        }
    }
}

/// The line of the `ALLOWED_ORIGINS` secret's description that keeps its origins readable, so
/// the next deploy adds to them instead of replacing them.
pub(crate) const ORIGINS_MARK: &str = "hf-deploy origins: ";

/// Memory (KiB) and passes of new fingerprints: OWASP's 7 MiB / 5 passes setting.
const MEMORY_KIB: u32 = 7 * 1024;
const PASSES: u32 = 5;

/// A fresh fingerprint of `value` (PHC string, new random salt).
pub(crate) fn fingerprint(value: &SecretString) -> String {
    let salt = SaltString::generate(&mut OsRng);
    // Hashing with valid parameters and a fresh valid salt cannot fail (it fails only on
    // parameter or output-length errors); an empty fingerprint would simply never match.
    let Ok(params) = argon2::Params::new(MEMORY_KIB, PASSES, 1, None) else {
        return String::new();
    };
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(value.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .unwrap_or_default()
}

/// True when `fingerprint` (a PHC string) is the one of `value`.
pub(crate) fn matches(fingerprint: &str, value: &SecretString) -> bool {
    let Ok(hash) = PasswordHash::new(fingerprint) else {
        return false;
    };
    Argon2::default()
        .verify_password(value.expose().as_bytes(), &hash)
        .is_ok()
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origins_line_is_read_replaced_and_kept_beside_the_users_text() {
        let none = Description::parse(Some("CORS origins"));
        assert_eq!(none.origins(), None);
        let once = none.with_origins("https://a.example");
        assert_eq!(once.origins(), Some("https://a.example"));
        let written = once.with_value(&secret("https://a.example"));
        let read = Description::parse(Some(&written));
        assert_eq!(read.origins(), Some("https://a.example"));
        assert!(read.matches(&secret("https://a.example")));
        let twice = read.with_origins("https://a.example,https://b.example");
        assert_eq!(
            twice.user_text,
            "CORS origins\nhf-deploy origins: https://a.example,https://b.example"
        );
        assert_eq!(
            crate::settings::merge_origins(
                "https://a.example",
                "https://b.example, https://a.example"
            ),
            "https://a.example,https://b.example"
        );
    }

    fn secret(value: &str) -> SecretString {
        SecretString::from(value.to_string())
    }

    #[test]
    fn a_fingerprint_matches_its_value_only() {
        let value = secret("s3cret-value");
        let line = Description::default().with_value(&value);
        assert!(line.starts_with("hf-deploy:fingerprint $argon2id$v=19$m=7168,t=5,p=1$"));
        assert!(!line.contains("s3cret-value"));
        let parsed = Description::parse(Some(&line));
        assert!(parsed.user_text.is_empty());
        assert!(parsed.matches(&value));
        assert!(!parsed.matches(&secret("s3cret-valuf")));
    }

    #[test]
    fn a_fingerprint_made_with_the_earlier_19_mib_setting_still_matches() {
        let value = secret("s3cret-value");
        let salt = SaltString::generate(&mut OsRng);
        let old = Argon2::default()
            .hash_password(value.expose().as_bytes(), &salt)
            .expect("hash")
            .to_string();
        assert!(old.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{old}");
        let parsed = Description::parse(Some(&format!("{MARKER}{old}")));
        assert!(parsed.matches(&value));
        assert!(!parsed.matches(&secret("other")));
    }

    #[test]
    fn every_fingerprint_has_its_own_salt() {
        let value = secret("same");
        assert_ne!(fingerprint(&value), fingerprint(&value));
    }

    #[test]
    fn the_users_text_is_kept_beside_the_fingerprint() {
        let value = secret("v1");
        let first = Description::parse(Some("Key for the Gemini API\nsee the wiki"));
        assert_eq!(first.user_text, "Key for the Gemini API\nsee the wiki");
        assert_eq!(first.fingerprint, None);
        assert!(!first.matches(&value));
        let written = first.with_value(&value);
        assert!(
            written.starts_with(
                "Key for the Gemini API\nsee the wiki\nhf-deploy:fingerprint $argon2id$"
            )
        );
        let again = Description::parse(Some(&written));
        assert_eq!(again.user_text, first.user_text);
        assert!(again.matches(&value));
        // Rewriting keeps the text once, not twice.
        let rewritten = again.with_value(&secret("v2"));
        assert_eq!(rewritten.matches("Key for the Gemini API").count(), 1);
        assert!(Description::parse(Some(&rewritten)).matches(&secret("v2")));
    }

    #[test]
    fn a_mangled_fingerprint_never_matches() {
        let value = secret("v");
        for description in [
            None,
            Some(""),
            Some("hf-deploy:fingerprint"),
            Some("hf-deploy:fingerprint $argon2id$garbage"),
            Some("hf-deploy:fingerprint plain-text"),
        ] {
            assert!(
                !Description::parse(description).matches(&value),
                "{description:?}"
            );
        }
    }
}
