//! The workflow command writer (`::error`, `::warning`, `::notice`, `::add-mask::`,
//! `::group::`) against the runner's parser: whatever the message and properties, each command
//! is exactly one line, and the runner reads back exactly what the door shows of what was given
//! (the text itself when it holds no control character), so a message cannot start a second
//! command or change the first one's properties.

use proptest::prelude::*;

use super::text;
use crate::github::commands::{Level, Properties, annotation, error, group, mask, notice, warning};

/// One command line as the runner's `ActionCommand.TryParseV2` reads it
/// (`../shared/reference/github-actions.md` §C.4): it starts with `::`; the command info runs to
/// the next `::`, the command name to its first space, then the properties, split on `,` and
/// each on its first `=`; the message is the rest.
struct Parsed {
    command: String,
    properties: Vec<(String, String)>,
    message: String,
}

fn parse(line: &str) -> Option<Parsed> {
    let rest = line.strip_prefix("::")?;
    let end = rest.find("::")?;
    let (info, message) = (&rest[..end], &rest[end + 2..]);
    let (command, properties) = info.split_once(' ').unwrap_or((info, ""));
    let properties = properties
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (key, value) = p.split_once('=').unwrap_or((p, ""));
            (key.to_string(), unescape(value, true))
        })
        .collect();
    Some(Parsed {
        command: command.to_string(),
        properties,
        message: unescape(message, false),
    })
}

/// What the runner reads back of a message or property: the text as the door shows it in a
/// workflow command (no control but a tab or a line feed, which the runner reads back from
/// `%0A`), which is the text itself when it is plain: letters, digits, ASCII punctuation and
/// spaces (the door also drops invisible and direction marks).
fn shown(text: &str) -> Result<String, TestCaseError> {
    let shown = unescape(&crate::guard::door(text).workflow_command_data(), false);
    let control = |c: char| c.is_control() && !matches!(c, '\t' | '\n');
    prop_assert!(!shown.chars().any(control), "{:?} shows a control", text);
    let plain =
        |c: char| c.is_alphanumeric() || c.is_ascii_graphic() || matches!(c, ' ' | '\t' | '\n');
    if text.chars().all(plain) {
        prop_assert_eq!(&shown, text);
    }
    Ok(shown)
}

/// The runner's unescaping, read left to right: `%25`, `%0D`, `%0A` (and `%3A`, `%2C` in a
/// property); any other `%` stays as it is.
fn unescape(text: &str, property: bool) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let code = rest.get(at + 1..at + 3);
        let decoded = match code {
            Some("25") => Some('%'),
            Some("0D") => Some('\r'),
            Some("0A") => Some('\n'),
            Some("3A") if property => Some(':'),
            Some("2C") if property => Some(','),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[at + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The one line of `output`: it ends with `\n` and holds no other line break (`\r` included:
/// the runner reads a lone `\r` as the end of a line).
fn one_line(output: &str) -> Result<&str, TestCaseError> {
    let line = output
        .strip_suffix('\n')
        .ok_or_else(|| TestCaseError::fail(format!("no final newline: {output:?}")))?;
    prop_assert!(
        !line.contains(['\n', '\r']),
        "more than one line: {:?}",
        output
    );
    Ok(line)
}

fn level() -> impl Strategy<Value = Level> {
    prop_oneof![
        Just(Level::Error),
        Just(Level::Warning),
        Just(Level::Notice)
    ]
}

fn properties() -> impl Strategy<Value = Properties> {
    (
        prop::option::of(text(6)),
        prop::option::of(text(6)),
        prop::option::of(any::<u32>()),
        prop::option::of(any::<u32>()),
    )
        .prop_map(|(title, file, line, end_line)| Properties {
            title,
            file,
            line,
            end_line,
        })
}

proptest! {
    /// An annotation is one line; the runner reads back its level, each property and the
    /// message exactly.
    #[test]
    fn an_annotation_is_one_line_read_back_exactly(
        level in level(),
        properties in properties(),
        message in text(16),
    ) {
        let output = annotation(level, &properties, &message);
        let parsed = parse(one_line(&output)?)
            .ok_or_else(|| TestCaseError::fail(format!("not a command: {output:?}")))?;
        let name = match level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        };
        prop_assert_eq!(parsed.command, name);
        let mut expected = Vec::new();
        if let Some(file) = &properties.file {
            expected.push(("file".to_string(), shown(file)?));
        }
        if let Some(line) = properties.line {
            expected.push(("line".to_string(), line.to_string()));
        }
        if let Some(end_line) = properties.end_line {
            expected.push(("endLine".to_string(), end_line.to_string()));
        }
        if let Some(title) = &properties.title {
            expected.push(("title".to_string(), shown(title)?));
        }
        prop_assert_eq!(parsed.properties, expected);
        prop_assert_eq!(parsed.message, shown(&message)?);
    }

    /// The titled shorthands and groups are one line each, read back exactly.
    #[test]
    fn shorthands_and_groups_are_one_line(title in text(6), message in text(16)) {
        for (output, command) in [
            (error(&title, &message), "error"),
            (warning(&title, &message), "warning"),
            (notice(&title, &message), "notice"),
        ] {
            let parsed = parse(one_line(&output)?)
                .ok_or_else(|| TestCaseError::fail(format!("not a command: {output:?}")))?;
            prop_assert_eq!(parsed.command, command);
            prop_assert_eq!(parsed.properties, vec![("title".to_string(), shown(&title)?)]);
            prop_assert_eq!(&parsed.message, &shown(&message)?);
        }
        let output = group(&message);
        let parsed = parse(one_line(&output)?)
            .ok_or_else(|| TestCaseError::fail(format!("not a command: {output:?}")))?;
        prop_assert_eq!(parsed.command, "group");
        prop_assert_eq!(parsed.message, shown(&message)?);
    }

    /// `::add-mask::` registers each non-blank line of a value once, one command per line, and
    /// the runner reads back each line exactly (a multiline secret is masked line by line).
    #[test]
    fn a_mask_is_one_command_per_line_of_the_value(value in text(16)) {
        let output = mask(&value);
        let expected: Vec<&str> = value
            .split('\n')
            .map(|line| line.trim_end_matches('\r'))
            .filter(|line| !line.trim().is_empty())
            .collect();
        let mut lines = Vec::new();
        let mut rest = output.as_str();
        while !rest.is_empty() {
            let end = rest.find('\n').map_or(rest.len(), |at| at + 1);
            let line = one_line(&rest[..end])?;
            let parsed = parse(line)
                .ok_or_else(|| TestCaseError::fail(format!("not a command: {line:?}")))?;
            prop_assert_eq!(parsed.command, "add-mask");
            prop_assert!(parsed.properties.is_empty());
            lines.push(parsed.message);
            rest = &rest[end..];
        }
        prop_assert_eq!(lines, expected);
    }
}

#[test]
fn the_parser_reads_the_runners_format() {
    let parsed =
        parse("::error file=a%2Cb.rs,line=3,title=x%3A y::100%25 %0Adone:: %41").expect("command");
    assert_eq!(parsed.command, "error");
    assert_eq!(
        parsed.properties,
        [
            ("file".to_string(), "a,b.rs".to_string()),
            ("line".to_string(), "3".to_string()),
            ("title".to_string(), "x: y".to_string()),
        ]
    );
    assert_eq!(parsed.message, "100% \ndone:: %41");
    assert!(parse("error::x").is_none());
}
