//! Property tests of the dotenv reader and of the `KEY=VALUE` lists.
//!
//! Keys and values that the rules accept (a key of letters, digits and `_`; a value that is
//! not empty, holds no line break and has no whitespace at its ends; a Qdrant URL without a
//! space or a trailing `/`) are written in every form the reader documents: bare, `'literal'`
//! or `"escaped"`, after `export `, with spaces around `=`, with a trailing comment, between
//! comment and blank lines, with LF or CRLF line ends and a BOM. They must read back as the
//! same pairs on the same lines, and as lists (one `KEY=VALUE` a line) resolve to the same
//! secrets and variables. Arbitrary text never panics, and an error names the file and the line
//! that is wrong (the first line that is wrong on its own). Lines whose values look like
//! secrets, some of them malformed, give errors in which no piece of any value appears.
//!
//! A value pasted alone on a line with `=` padding (base64) reads as `KEY=`: the error shows
//! only the first characters of such a "key" (a property and a unit test of the smallest input).
//!
//! The case count is proptest's `PROPTEST_CASES` (default 256). The long mode:
//!
//! ```text
//! PROPTEST_CASES=1000000 cargo test -p hf-deploy-core --release --lib settings::proptests -- --test-threads 1
//! ```
//!
//! A failing case is kept in `hf-deploy-core/proptest-regressions/` and replayed first on every
//! later run; commit that file with the fix.

use proptest::prelude::*;

use super::{Origin, RawEntry, SettingsInput, check_value, parse_dotenv_lines, resolve};
use crate::error::Error;

/// Keys with a rule of their own, and short ones.
const KEYS: &[&str] = &[
    "GEMINI_API_KEY",
    "QDRANT_URL",
    "DATABASE_URL",
    "ALLOWED_ORIGINS",
    "_",
    "a",
    "export_",
];

/// Keys the rules accept, well-known ones among them.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => prop::sample::select(KEYS).prop_map(str::to_string),
        4 => "[A-Za-z_][A-Za-z0-9_]{0,30}",
        1 => "[A-Z_][A-Z0-9_]{120,127}",
    ]
    .prop_filter("`export = 1` reads as the export prefix", |k| k != "export")
}

/// Values the rules accept for `key`.
fn accepted(key: &str, value: &str) -> bool {
    let ok = !value.is_empty()
        && !value.contains(['\n', '\r'])
        && !value.starts_with(char::is_whitespace)
        && !value.ends_with(char::is_whitespace);
    ok && (key != "QDRANT_URL" || !(value.contains(char::is_whitespace) || value.ends_with('/')))
}

/// Pieces values are made of: what quotes, comments and escapes are about.
const VALUE_PIECES: &[&str] = &[
    "#",
    " #",
    "\t#",
    "'",
    "\"",
    "\\",
    "\\n",
    "\\\"",
    "=",
    "==",
    " ",
    "\t",
    "export ",
    "${X}",
    "$",
    "`",
    "https://q.example:6333",
    "/",
    "postgresql://u:p@h/db",
    "é",
    "\u{feff}",
    "\u{2028}",
];

fn value() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => prop::sample::select(VALUE_PIECES).prop_map(str::to_string),
        3 => "[A-Za-z0-9_.:/+-]{1,12}",
        1 => any::<String>(),
    ];
    prop::collection::vec(piece, 1..6).prop_map(|pieces| pieces.concat())
}

/// How a pair is written on its line.
#[derive(Debug, Clone)]
struct Written {
    key: String,
    value: String,
    indent: &'static str,
    export: &'static str,
    equals: &'static str,
    /// 0 bare, 1 single quotes, 2 double quotes (taken in turn until one can hold the value).
    quote: usize,
    comment: &'static str,
}

impl Written {
    /// The line, in the first form from `quote` on that can hold the value.
    fn line(&self) -> String {
        let Written {
            key,
            value,
            indent,
            export,
            equals,
            comment,
            ..
        } = self;
        let bare_ok = !value.starts_with(['\'', '"'])
            && !value
                .char_indices()
                .any(|(i, c)| c == '#' && value[..i].ends_with(char::is_whitespace));
        let quoted = match self.quote {
            0 if bare_ok => {
                // A comment after a bare value needs whitespace before its `#`.
                let comment = if comment.starts_with('#') {
                    ""
                } else {
                    comment
                };
                return format!("{indent}{export}{key}{equals}{value}{comment}");
            }
            0 | 1 if !value.contains('\'') => format!("'{value}'"),
            _ => format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\"")),
        };
        format!("{indent}{export}{key}{equals}{quoted}{comment}")
    }
}

fn written() -> impl Strategy<Value = Written> {
    (key(), value())
        .prop_filter("a value the rules accept", |(k, v)| accepted(k, v))
        .prop_flat_map(|(key, value)| {
            (
                Just(key),
                Just(value),
                prop::sample::select(&["", " ", "\t", "  "][..]),
                prop::sample::select(&["", "", "export ", "export  "][..]),
                prop::sample::select(&["=", " = ", "= ", " =", "\t=\t"][..]),
                0usize..3,
                prop::sample::select(&["", " # comment", "  #c", "# c", " ", "\t# KEY=v"][..]),
            )
        })
        .prop_map(
            |(key, value, indent, export, equals, quote, comment)| Written {
                key,
                value,
                indent,
                export,
                equals,
                quote,
                comment,
            },
        )
}

/// Lines that hold no pair.
const FILLERS: &[&str] = &[
    "",
    "  ",
    "\t",
    "# comment",
    "   # indented",
    "#KEY=value",
    "#",
    "# export A=1",
];

#[derive(Debug, Clone)]
enum Line {
    Pair(Written),
    Filler(&'static str),
}

fn dotenv() -> impl Strategy<Value = (Vec<Line>, bool, Vec<bool>, bool)> {
    (
        prop::collection::vec(
            prop_oneof![
                3 => written().prop_map(Line::Pair),
                1 => prop::sample::select(FILLERS).prop_map(Line::Filler),
            ],
            0..10,
        ),
        any::<bool>(),
        prop::collection::vec(any::<bool>(), 1..4),
        any::<bool>(),
    )
}

fn render(lines: &[Line], bom: bool, crlf: &[bool], final_newline: bool) -> String {
    let mut text = String::from(if bom { "\u{feff}" } else { "" });
    for (i, line) in lines.iter().enumerate() {
        match line {
            Line::Pair(written) => text.push_str(&written.line()),
            Line::Filler(filler) => text.push_str(filler),
        }
        if i + 1 < lines.len() || final_newline {
            text.push_str(if crlf[i % crlf.len()] { "\r\n" } else { "\n" });
        }
    }
    text
}

proptest! {
    #[test]
    fn accepted_pairs_written_in_every_documented_form_read_back(
        (lines, bom, crlf, final_newline) in dotenv(),
    ) {
        let text = render(&lines, bom, &crlf, final_newline);
        let parsed = parse_dotenv_lines(&text, "prod.env")
            .map_err(|e| TestCaseError::fail(format!("{e}: {text:?}")))?;
        let expected: Vec<(usize, String, String)> = lines
            .iter()
            .enumerate()
            .filter_map(|(i, line)| match line {
                Line::Pair(w) => Some((i + 1, w.key.clone(), w.value.clone())),
                Line::Filler(_) => None,
            })
            .collect();
        prop_assert_eq!(&parsed, &expected, "{:?}", text);
        for (line, key, value) in &parsed {
            let origin = Origin::File { name: "prod.env".into(), line: *line };
            let result = check_value(key, value, &origin, &mut Vec::new());
            prop_assert!(result.is_ok(), "{:?}", result);
        }
    }
}

/// Pieces of dotenv files, to build arbitrary text from.
const PIECES: &[&str] = &[
    "KEY", "A_1", "export ", "export", "=", " = ", "'", "\"", "\\", "\\\"", "#", " # ", "\n",
    "\r\n", "\r", " ", "\t", "\u{feff}", "1bad", "a-b", "value", "é",
];

fn arbitrary_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => prop::sample::select(PIECES).prop_map(str::to_string),
        1 => any::<String>(),
    ];
    prop::collection::vec(piece, 0..30).prop_map(|pieces| pieces.concat())
}

/// Lists of secrets and variables, without a file or frontend origins.
fn input<'a>(secrets: &'a [RawEntry], variables: &'a [RawEntry]) -> SettingsInput<'a> {
    SettingsInput {
        secrets,
        secrets_file: None,
        variables,
        frontend_origins: &[],
    }
}

/// The text of an error as a user sees it: message, hint and `Debug`.
fn shown(error: &Error) -> String {
    format!("{error} {} {error:?}", error.hint().unwrap_or_default())
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics_and_an_error_names_its_line(text in arbitrary_text()) {
        let Err(error) = parse_dotenv_lines(&text, "prod.env") else {
            return Ok(());
        };
        // The first line that is wrong on its own (the BOM belongs to the first line).
        let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
        // A space before each line keeps a BOM that is not the text's first from being read
        // as one (a line is read after its leading whitespace anyway).
        let wrong = body
            .lines()
            .position(|line| parse_dotenv_lines(&format!(" {line}"), "prod.env").is_err())
            .map(|i| i + 1);
        let message = error.to_string();
        prop_assert!(wrong.is_some(), "an error, but no line is wrong alone: {}", message);
        let at = format!("`prod.env:{}`", wrong.unwrap_or_default());
        prop_assert!(message.contains(&at), "{} does not name {}", message, at);
        prop_assert!(error.is_usage());
    }
}

/// A secret-looking value: long, with lower-case letters (keys here have none), maybe
/// malformed (an open quote, text after the closing quote, spaces at its ends, an escaped line
/// break).
fn secret_line() -> impl Strategy<Value = (String, String)> {
    let secret = "[a-z][a-z0-9+/._-]{9,30}";
    let key_part = prop_oneof![
        3 => "[A-Z_][A-Z0-9_]{0,12}",
        1 => "[A-Z_ !.-]{1,12}",
        1 => Just(String::new()),
        1 => "export [A-Z_]{1,8}",
    ];
    (key_part, secret, 0u8..8).prop_map(|(key, secret, shape)| {
        let raw = match shape {
            0 => secret.clone(),
            1 => format!("'{secret}"),
            2 => format!("\"{secret}"),
            3 => format!("'{secret}' tail"),
            4 => format!("\" {secret} \""),
            5 => format!("\"{secret}\\nmore\""),
            6 => format!("{secret}=="),
            _ => format!("\"{secret}\"x"),
        };
        (format!("{key}={raw}"), secret)
    })
}

/// No piece of six characters or more of `secret` with a lower-case letter in it is in `text`.
fn leaks(text: &str, secret: &str) -> Option<String> {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .windows(6)
        .map(|w| w.iter().collect::<String>())
        .filter(|piece| piece.chars().any(|c| c.is_ascii_lowercase()))
        .find(|piece| text.contains(piece.as_str()))
}

proptest! {
    #[test]
    fn no_error_shows_a_value(
        lines in prop::collection::vec(secret_line(), 1..6),
        pasted in prop::option::of("[a-z][a-z0-9+/._-]{9,30}"),
    ) {
        let mut text: Vec<String> = lines.iter().map(|(line, _)| line.clone()).collect();
        let mut secrets: Vec<String> = lines.iter().map(|(_, s)| s.clone()).collect();
        // A value pasted alone on a line, without `KEY=`.
        if let Some(value) = pasted {
            text.push(value.clone());
            secrets.push(value);
        }
        let text = text.join("\n");
        let mut errors = Vec::new();
        match parse_dotenv_lines(&text, "prod.env") {
            Err(error) => errors.push(error),
            Ok(pairs) => {
                for (line, key, value) in pairs {
                    let origin = Origin::File { name: "prod.env".into(), line };
                    if let Err(error) = check_value(&key, &value, &origin, &mut Vec::new()) {
                        errors.push(error);
                    }
                }
            }
        }
        // The same lines as a list of secrets, and as a list of variables.
        let entries = RawEntry::lines(&text);
        for (secrets_list, variables_list) in [(&entries[..], &[][..]), (&[][..], &entries[..])] {
            if let Err(error) = resolve(&input(secrets_list, variables_list)) {
                errors.push(error);
            }
        }
        for error in &errors {
            let shown = shown(error);
            for secret in &secrets {
                prop_assert_eq!(leaks(&shown, secret), None, "in {}", shown);
            }
        }
    }
}

/// A `KEY=VALUE` list line: the key maybe padded (lists trim keys, not values).
fn list_line() -> impl Strategy<Value = (String, String, String)> {
    (
        key(),
        value(),
        prop::sample::select(&["", " ", "\t"][..]),
        prop::sample::select(&["", " ", "\t"][..]),
    )
        .prop_filter("a value the rules accept", |(k, v, _, _)| accepted(k, v))
        .prop_map(|(key, value, before, after)| {
            (format!("{before}{key}{after}={value}"), key, value)
        })
}

proptest! {
    #[test]
    fn lists_resolve_to_the_pairs_written(
        lines in prop::collection::vec(
            prop_oneof![
                4 => list_line().prop_map(Some),
                1 => prop::sample::select(FILLERS).prop_map(|_| None),
            ],
            0..8,
        ),
        as_variables in any::<bool>(),
        crlf in any::<bool>(),
    ) {
        // Keys once each (a key twice with two values is an error of its own).
        let mut seen = std::collections::BTreeSet::new();
        let lines: Vec<Option<(String, String, String)>> = lines
            .into_iter()
            .filter(|line| line.as_ref().is_none_or(|(_, key, _)| seen.insert(key.clone())))
            .collect();
        let end = if crlf { "\r\n" } else { "\n" };
        let text: String = lines
            .iter()
            .map(|line| match line {
                Some((written, _, _)) => format!("{written}{end}"),
                None => format!("# a comment{end}"),
            })
            .collect();
        let entries = RawEntry::lines(&text);
        let input = if as_variables {
            input(&[], &entries)
        } else {
            input(&entries, &[])
        };
        let settings = resolve(&input).map_err(|e| TestCaseError::fail(format!("{e}: {text:?}")))?;
        let got: Vec<(String, String)> = if as_variables {
            prop_assert!(settings.secrets.is_empty());
            settings.variables.into_iter().collect()
        } else {
            prop_assert!(settings.variables.is_empty());
            settings.secrets.iter().map(|(k, v)| (k.clone(), v.expose().to_string())).collect()
        };
        let mut want: Vec<(String, String)> = lines
            .into_iter()
            .flatten()
            .map(|(_, key, value)| (key, value))
            .collect();
        want.sort();
        prop_assert_eq!(got, want);
    }
}

proptest! {
    #[test]
    fn a_list_error_names_the_first_wrong_line(text in arbitrary_text()) {
        let entries = RawEntry::lines(&text);
        let Err(error) = resolve(&input(&entries, &[])) else {
            return Ok(());
        };
        // A line that is not `KEY=VALUE` with a valid key is found before any value is looked
        // at; then the first value the rules refuse, or the first key given again with another
        // value.
        let split: Vec<(usize, Option<(String, String)>)> = entries
            .iter()
            .map(|e| {
                let pair = e.text.split_once('=').and_then(|(k, v)| {
                    let k = k.trim();
                    let valid = k.len() <= 128
                        && k.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    valid.then(|| (k.to_string(), v.to_string()))
                });
                (e.line.unwrap_or_default(), pair)
            })
            .collect();
        let wrong = match split.iter().find(|(_, pair)| pair.is_none()) {
            Some((line, _)) => *line,
            None => {
                let mut seen = std::collections::BTreeMap::new();
                let mut wrong = None;
                for (line, pair) in &split {
                    let Some((key, value)) = pair else { continue };
                    if !accepted(key, value) || seen.get(key).is_some_and(|v| v != value) {
                        wrong = Some(*line);
                        break;
                    }
                    seen.entry(key.clone()).or_insert_with(|| value.clone());
                }
                let Some(wrong) = wrong else {
                    return Err(TestCaseError::fail(format!("{error}, but no line is wrong")));
                };
                wrong
            }
        };
        let message = error.to_string();
        let at = format!("line {wrong}: ");
        prop_assert!(message.contains(&at), "{} (expected line {})", message, wrong);
    }
}

proptest! {
    /// A base64 value pasted alone on a line ends in `=` padding, so the line reads as
    /// `KEY=` with the value as its key, and no piece of it may be shown.
    #[test]
    fn a_pasted_padded_value_is_not_shown(
        pasted in "[a-z][A-Za-z0-9+/]{15,40}={1,2}",
        before in prop::sample::select(&["", "A=1\n", "export "][..]),
    ) {
        let text = format!("{before}{pasted}\n");
        let secret = pasted.trim_end_matches('=');
        let mut errors = Vec::new();
        match parse_dotenv_lines(&text, "prod.env") {
            Err(error) => errors.push(error),
            Ok(pairs) => {
                for (line, key, value) in pairs {
                    let origin = Origin::File { name: "prod.env".into(), line };
                    if let Err(error) = check_value(&key, &value, &origin, &mut Vec::new()) {
                        errors.push(error);
                    }
                }
            }
        }
        let entries = RawEntry::lines(&text);
        errors.extend(resolve(&input(&entries, &[])).err());
        for error in &errors {
            let shown = shown(error);
            prop_assert_eq!(leaks(&shown, secret), None, "in {}", shown);
        }
    }
}

#[test]
fn a_pasted_base64_value_is_not_shown() {
    let error = parse_dotenv_lines("c2VjcmV0+dmFsdWU=\n", "prod.env").expect_err("not a key");
    assert!(!shown(&error).contains("c2VjcmV0"), "{}", shown(&error));
}
