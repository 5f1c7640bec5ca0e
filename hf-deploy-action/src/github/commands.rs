//! Workflow commands (`::add-mask::`, annotations, groups), rendered as strings with the
//! runner's escaping so that callers print them to stdout (or any writer in tests).
//!
//! Escaping is `@actions/core`'s `command.ts`: data escapes `%`, `\r`, `\n`; properties escape
//! those and also `:` and `,`. A message or property is text that may quote a server, the app
//! or a file name: it goes through the door first (`RemoteText::workflow_command_data`: no
//! escape sequence, no control, one line, every value of the run's redactor as `***`). The
//! values of `::add-mask::` alone are written as they are.

use std::io::{self, Write};

/// The data part of a workflow command (after `::`), through the door.
pub(crate) fn escape_data(value: &str) -> String {
    crate::guard::door(value).workflow_command_data()
}

/// The data of `::add-mask::`: the value itself, escaped only as the runner unescapes it.
fn escape_mask(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value (`title=...`, `file=...`).
pub(crate) fn escape_property(value: &str) -> String {
    escape_data(value).replace(':', "%3A").replace(',', "%2C")
}

/// `::add-mask::` lines for a value: one per line of a multiline value (the runner masks a
/// line at a time, so a multiline secret must be registered line by line), skipping empty
/// lines. An empty value gives an empty string.
pub(crate) fn mask(value: &str) -> String {
    let mut out = String::new();
    for line in value.split('\n').map(|l| l.trim_end_matches('\r')) {
        if line.trim().is_empty() {
            continue;
        }
        out.push_str("::add-mask::");
        out.push_str(&escape_mask(line));
        out.push('\n');
    }
    out
}

/// Severity of an annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// `::error`.
    Error,
    /// `::warning`.
    Warning,
    /// `::notice`.
    Notice,
}

impl Level {
    fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

/// Optional properties of an annotation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Properties {
    /// Title shown above the message.
    pub(crate) title: Option<String>,
    /// File the annotation points at, relative to the repository root.
    pub(crate) file: Option<String>,
    /// 1-based line in `file`.
    pub(crate) line: Option<u32>,
    /// 1-based last line in `file`.
    pub(crate) end_line: Option<u32>,
}

/// One annotation command line, ending in `\n`.
pub(crate) fn annotation(level: Level, properties: &Properties, message: &str) -> String {
    let mut props: Vec<String> = Vec::new();
    if let Some(file) = &properties.file {
        props.push(format!("file={}", escape_property(file)));
    }
    if let Some(line) = properties.line {
        props.push(format!("line={line}"));
    }
    if let Some(end_line) = properties.end_line {
        props.push(format!("endLine={end_line}"));
    }
    if let Some(title) = &properties.title {
        props.push(format!("title={}", escape_property(title)));
    }
    let props = if props.is_empty() {
        String::new()
    } else {
        format!(" {}", props.join(","))
    };
    format!("::{}{}::{}\n", level.command(), props, escape_data(message))
}

/// `::error` with a title.
pub(crate) fn error(title: &str, message: &str) -> String {
    annotation(
        Level::Error,
        &Properties {
            title: Some(title.into()),
            ..Properties::default()
        },
        message,
    )
}

/// `::warning` with a title.
pub(crate) fn warning(title: &str, message: &str) -> String {
    annotation(
        Level::Warning,
        &Properties {
            title: Some(title.into()),
            ..Properties::default()
        },
        message,
    )
}

/// `::notice` with a title.
pub(crate) fn notice(title: &str, message: &str) -> String {
    annotation(
        Level::Notice,
        &Properties {
            title: Some(title.into()),
            ..Properties::default()
        },
        message,
    )
}

/// Start a collapsible group in the log.
pub(crate) fn group(name: &str) -> String {
    format!("::group::{}\n", escape_data(name))
}

/// End the current group.
pub(crate) fn endgroup() -> &'static str {
    "::endgroup::\n"
}

/// Write a rendered command (or several) to `out` and flush, so that masks reach the runner
/// before anything that could contain the masked values.
pub(crate) fn emit(out: &mut dyn Write, commands: &str) -> io::Result<()> {
    out.write_all(commands.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runner's unescaping (`ActionCommand.cs` `UnescapeValue`), to check round trips.
    fn unescape(value: &str) -> String {
        value
            .replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    }

    #[test]
    fn masks_every_line_of_a_multiline_value() {
        let key = "-----BEGIN KEY-----\r\nAbC%0A123\n\n  \nXyZ\n-----END KEY-----\n";
        let out = mask(key);
        assert_eq!(
            out,
            "::add-mask::-----BEGIN KEY-----\n::add-mask::AbC%250A123\n::add-mask::XyZ\n::add-mask::-----END KEY-----\n"
        );
        for line in out.lines() {
            let data = line.strip_prefix("::add-mask::").expect("mask line");
            assert!(key.contains(&unescape(data)));
        }
        assert_eq!(mask(""), "");
        assert_eq!(mask("\n\n"), "");
    }

    #[test]
    fn annotations_escape_data_and_properties() {
        let props = Properties {
            title: Some("Deploy failed: a, b".into()),
            file: Some("backend/app/main.py".into()),
            line: Some(12),
            end_line: None,
        };
        let line = annotation(Level::Error, &props, "100% broken\nsee log\r");
        assert_eq!(
            line,
            "::error file=backend/app/main.py,line=12,title=Deploy failed%3A a%2C b::100%25 broken%0Asee log%0A\n"
        );
        let (head, data) = line
            .trim_end()
            .split_once("::")
            .map(|(_, rest)| rest.split_once("::").expect("data"))
            .expect("cmd");
        assert_eq!(unescape(data), "100% broken\nsee log\n");
        assert!(head.contains("title=Deploy failed%3A a%2C b"));
        assert_eq!(
            warning("Comment skipped", "x: y"),
            "::warning title=Comment skipped::x: y\n"
        );
        assert_eq!(notice("n", "m"), "::notice title=n::m\n");
        assert_eq!(error("e", "m"), "::error title=e::m\n");
        assert_eq!(
            annotation(Level::Notice, &Properties::default(), "plain"),
            "::notice::plain\n"
        );
    }

    #[test]
    fn groups_and_emit() {
        let mut buffer: Vec<u8> = Vec::new();
        emit(&mut buffer, &group("Push to `a/b`\nnext")).expect("write");
        emit(&mut buffer, endgroup()).expect("write");
        assert_eq!(
            String::from_utf8(buffer).expect("utf8"),
            "::group::Push to `a/b`%0Anext\n::endgroup::\n"
        );
    }

    #[test]
    fn messages_from_outside_cannot_leave_their_command() {
        let forged = "healthy\n::error file=x::forged \u{1b}]0;title\u{7}\u{1b}[31mred";
        let line = warning("hf-deploy", forged);
        assert_eq!(line.matches('\n').count(), 1, "{line:?}");
        assert!(
            !line.contains('\u{1b}') && !line.contains('\u{7}'),
            "{line:?}"
        );
        assert_eq!(
            line,
            "::warning title=hf-deploy::healthy%0A::error file=x::forged red\n"
        );
        let group = group("build\r\n::endgroup::");
        assert_eq!(group, "::group::build%0A::endgroup::\n");
    }
}
