//! Property tests of the fingerprint in a secret's description.
//!
//! Descriptions are arbitrary text (someone else's), text built from the pieces of the format
//! (the marker, PHC strings, line breaks, spaces), and descriptions in the form the tool writes.
//! Parsing never panics and splits a description the way the format says: a fingerprint only
//! from a last line that is the marker and a PHC string, the user's text otherwise whole.
//! A written description parses back to the same user text and fingerprint. A fingerprint
//! matches its own value and never another: with Argon2id at a tiny cost for many cases, and
//! with the tool's own fingerprints ([`Description::with_value`], 7 MiB and 5 passes) for a
//! few. That last property is slow (three hashes a case), so it runs `PROPTEST_CASES / 64`
//! cases, at least 4 (4 by default).
//!
//! Whitespace after the fingerprint line (a description that ends with `\n`) is not a new last
//! line: a property and a unit test of the smallest input.
//!
//! The case count is proptest's `PROPTEST_CASES` (default 256). The long mode:
//!
//! ```text
//! PROPTEST_CASES=1000000 cargo test -p hf-deploy-core --release --lib fingerprint::proptests -- --test-threads 1
//! ```
//!
//! A failing case is kept in `hf-deploy-core/proptest-regressions/` and replayed first on every
//! later run; commit that file with the fix.

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use proptest::prelude::*;
use proptest::test_runner::Config;

use super::{Description, MARKER, matches};
use crate::secret::SecretString;

/// Cases of the property that hashes with the tool's own cost.
fn slow_cases() -> u32 {
    (Config::default().cases / 64).max(4)
}

/// A PHC string of the shape the tool writes (not a hash of anything).
fn phc() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["argon2id", "argon2i", "argon2d"][..]),
        prop::sample::select(&["m=7168,t=5,p=1", "m=19456,t=2,p=1", "m=8,t=1,p=1"][..]),
        "[A-Za-z0-9+/]{22}",
        "[A-Za-z0-9+/]{43}",
    )
        .prop_map(|(alg, params, salt, hash)| format!("${alg}$v=19${params}${salt}${hash}"))
}

const PIECES: &[&str] = &[
    "hf-deploy:fingerprint",
    "hf-deploy:fingerprint ",
    MARKER,
    "$argon2id$",
    "$argon2",
    "$v=19$m=7168,t=5,p=1$",
    "\n",
    "\r\n",
    "\r",
    " ",
    "\t",
    "\u{a0}",
    "\u{2028}",
    "Key for the Gemini API",
    "see the wiki",
    "$",
    "=",
    ",",
];

fn description() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => prop::sample::select(PIECES).prop_map(str::to_string),
        2 => phc(),
        2 => "[ -~]{0,12}",
        1 => any::<String>(),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

proptest! {
    #[test]
    fn any_description_splits_as_the_format_says(text in description()) {
        let parsed = Description::parse(Some(&text));
        // Whitespace at the end is not a last line.
        let trimmed = text.trim_end();
        let (before, last) = trimmed.rsplit_once('\n').unwrap_or(("", trimmed));
        match &parsed.fingerprint {
            Some(fingerprint) => {
                // Only from a last line that is the marker and a PHC string.
                let line = last.trim();
                let rest = line.strip_prefix("hf-deploy:fingerprint");
                prop_assert_eq!(rest.map(str::trim), Some(fingerprint.as_str()));
                prop_assert!(fingerprint.starts_with("$argon2"));
                prop_assert_eq!(parsed.user_text.as_str(), before.trim_end());
            }
            None => prop_assert_eq!(parsed.user_text.as_str(), text.trim_end()),
        }
        prop_assert_eq!(Description::parse(None), Description::parse(Some("")));
    }
}

/// The description the tool writes for `user_text` and a fingerprint (as
/// [`Description::with_value`] lays it out, without hashing).
fn laid_out(user_text: &str, fingerprint: &str) -> String {
    if user_text.is_empty() {
        format!("{MARKER}{fingerprint}")
    } else {
        format!("{user_text}\n{MARKER}{fingerprint}")
    }
}

proptest! {
    #[test]
    fn a_written_description_parses_back(text in description(), fingerprint in phc()) {
        // Someone else's description first, as a redeploy reads it.
        let theirs = Description::parse(Some(&text));
        let written = laid_out(&theirs.user_text, &fingerprint);
        let parsed = Description::parse(Some(&written));
        prop_assert_eq!(&parsed.user_text, &theirs.user_text);
        prop_assert_eq!(parsed.fingerprint.as_deref(), Some(fingerprint.as_str()));
        // Written again with a new fingerprint: the user's text once, not twice.
        let again = Description::parse(Some(&laid_out(&parsed.user_text, &fingerprint)));
        prop_assert_eq!(again, parsed);
    }
}

/// A PHC string of `value` at a tiny cost, and the cost the tool uses.
fn cheap_fingerprint(value: &str, salt: &[u8; 16]) -> String {
    let salt = SaltString::encode_b64(salt).expect("16 bytes is a valid salt");
    let params = Params::new(8, 1, 1, None).expect("valid parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(value.as_bytes(), &salt)
        .expect("hash")
        .to_string()
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{1,40}",
        any::<String>().prop_filter("not empty", |s| !s.is_empty()),
        "postgresql://u:[a-z]{1,8}@h/db",
    ]
}

/// A different value: one character changed, added or removed, or another value.
fn other(value: &str, how: u8, with: char) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    match how % 4 {
        0 => chars.push(with),
        1 => {
            chars.pop();
        }
        2 => {
            if let Some(first) = chars.first_mut() {
                *first = with;
            }
        }
        _ => chars.insert(0, with),
    }
    chars.into_iter().collect()
}

proptest! {
    #[test]
    fn a_fingerprint_matches_its_value_and_no_other(
        value in value(),
        how in any::<u8>(),
        with in any::<char>(),
        salt in any::<[u8; 16]>(),
        user_text in prop::option::of(description()),
    ) {
        let fingerprint = cheap_fingerprint(&value, &salt);
        let written = laid_out(
            &Description::parse(user_text.as_deref()).user_text,
            &fingerprint,
        );
        let parsed = Description::parse(Some(&written));
        prop_assert!(parsed.matches(&SecretString::new(value.clone())));
        prop_assert!(matches(&fingerprint, &SecretString::new(value.clone())));
        let other = other(&value, how, with);
        if other != value {
            let matched = parsed.matches(&SecretString::new(other.clone()));
            prop_assert!(!matched, "{:?} matched {:?}", other, value);
        }
    }
}

proptest! {
    #![proptest_config(Config::with_cases(slow_cases()))]

    /// Slow: three Argon2id hashes at the tool's cost (7 MiB, 5 passes) a case.
    #[test]
    fn the_tools_own_fingerprint_matches_its_value_and_no_other(
        value in value(),
        how in any::<u8>(),
        with in any::<char>(),
        user_text in prop::option::of(description()),
    ) {
        let secret = SecretString::new(value.clone());
        let theirs = Description::parse(user_text.as_deref());
        let written = theirs.with_value(&secret);
        let parsed = Description::parse(Some(&written));
        prop_assert_eq!(&parsed.user_text, &theirs.user_text);
        let fingerprint = parsed.fingerprint.clone().unwrap_or_default();
        prop_assert!(
            fingerprint.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"),
            "{}",
            fingerprint
        );
        if value.chars().count() >= 12 {
            prop_assert!(!fingerprint.contains(&value));
        }
        prop_assert!(parsed.matches(&secret));
        let other = other(&value, how, with);
        if other != value {
            prop_assert!(!parsed.matches(&SecretString::new(other)));
        }
    }
}

proptest! {
    /// Whitespace after the fingerprint line, line breaks included, is not a new last line.
    #[test]
    fn trailing_whitespace_does_not_hide_the_fingerprint(
        text in description(),
        fingerprint in phc(),
        tail in prop::sample::select(&[" ", "\t", "\n", "\r\n", "\n\n", " \n "][..]),
    ) {
        let theirs = Description::parse(Some(&text));
        let written = laid_out(&theirs.user_text, &fingerprint);
        let with_tail = Description::parse(Some(&format!("{written}{tail}")));
        prop_assert_eq!(with_tail, Description::parse(Some(&written)));
    }
}

#[test]
fn a_trailing_line_break_keeps_the_fingerprint() {
    let description = format!("{MARKER}$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA\n");
    let parsed = Description::parse(Some(&description));
    assert!(parsed.fingerprint.is_some(), "{parsed:?}");
    assert_eq!(parsed.user_text, "");
}
