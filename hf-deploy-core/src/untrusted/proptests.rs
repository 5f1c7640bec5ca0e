//! Property tests of the doors, one `proptest!` block per destination.
//!
//! Each case draws secret values (tokens, URL-valued secrets, short values, arbitrary strings)
//! and a text built from arbitrary strings, hostile pieces (escape sequences, workflow commands,
//! Markdown, HTML, fences, line breaks) and the values themselves (whole, cut across lines or
//! split by something unseen, cut at the edges, as `KEY=value`), made into a [`RemoteText`] in
//! one of its three ways (whole, capped, as a log tail). The recognisers below are written
//! apart from the sanitisers: they say what "live" means for each destination.
//!
//! The case count is proptest's `PROPTEST_CASES` (default 256); see the module documentation
//! of `untrusted` for the long mode.

use proptest::prelude::*;
use proptest::sample::Index;

use super::chars::{is_invisible, skip_escape};
use super::{Redactor, RemoteText};
use crate::secret::SecretString;

/// Pieces a hostile app or server would send.
const HOSTILE: &[&str] = &[
    "\u{1b}[31m",
    "\u{1b}[0m",
    "\u{1b}[2J",
    "\u{1b}]8;;https://evil.example\u{7}",
    "\u{1b}]0;title\u{1b}\\",
    "\u{1b}P1$r\u{1b}\\",
    "\u{1b}c",
    "\u{1b}",
    "\u{1b}]",
    "\u{9b}2J",
    "\u{9d}0;x\u{9c}",
    "\u{202e}",
    "\u{2066}",
    "\u{200f}",
    "\u{200b}",
    "\u{ad}",
    "\u{feff}",
    "::error file=app.py,line=1::forged",
    "::stop-commands::tok",
    "::add-mask::x",
    "  ::warning::x",
    "\u{200b}::notice::x",
    ":\u{200b}:",
    "##[error]x",
    "##[group]",
    "#\u{200b}#[",
    "%0A",
    "%0D",
    "%25",
    "%",
    "[fix](https://phish.example)",
    "![x](https://tracker.example/p.png)",
    "<https://auto.example>",
    "https://bare.example/x",
    "http://",
    "www.example.com",
    "WWW.",
    "user@example.com",
    "@someone",
    "@org/team",
    "#123",
    "org/repo#7",
    "GH-42",
    "<img src=x onerror=alert(1)>",
    "<script>",
    "</details>",
    "<!--",
    "&amp;",
    "&#64;",
    "`",
    "```",
    "````",
    "~~~",
    "~~~~~",
    "|",
    "\\",
    "*",
    "_",
    "# heading",
    "- list",
    "1. item",
    "> quote",
    "$x$",
    "[^1]",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "    ",
    "\u{2028}",
    "\u{85}",
    "\u{0}",
    "\u{7f}",
    "=",
    ": '",
    "***",
];

/// The vocabulary of the `health` output.
const HEALTH: &[&str] = &["healthy", "degraded", "unhealthy", "unknown"];

fn secret_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9_-]{4,40}",
        1 => "hf_[A-Za-z0-9]{34}",
        1 => "(postgresql|redis)://[a-z]{0,8}:[A-Za-z0-9%!*._~-]{1,16}@[a-z.]{3,12}/[a-z]{1,6}",
        2 => "[A-Za-z0-9=:'.-]{1,3}",
        2 => "[ -~]{4,24}",
        2 => any::<String>(),
    ]
}

/// A piece of text made from a secret value: whole, with line breaks or something unseen
/// inside, a prefix, a suffix, as the right side of an assignment, or the password alone of a
/// URL-valued one.
fn secret_piece(secrets: Vec<String>) -> impl Strategy<Value = String> {
    (any::<Index>(), 0u8..8, any::<Index>(), any::<Index>()).prop_map(
        move |(which, shape, a, b)| {
            let value = which.get(&secrets);
            let bounds: Vec<usize> = value
                .char_indices()
                .map(|(at, _)| at)
                .chain([value.len()])
                .collect();
            let at = *a.get(&bounds);
            let other = *b.get(&bounds);
            match shape {
                0 => value.clone(),
                1 => format!("{}\n{}", &value[..at], &value[at..]),
                2 => {
                    let (first, second) = (at.min(other), at.max(other));
                    format!(
                        "{}\r\n{}\n{}",
                        &value[..first],
                        &value[first..second],
                        &value[second..]
                    )
                }
                3 => format!("{}\u{1b}[0m{}\u{200b}", &value[..at], &value[at..]),
                4 => value[..at].to_string(),
                5 => value[at..].to_string(),
                6 => format!("SECRET_KEY={value}\n"),
                _ => url_password(value).unwrap_or(value).to_string(),
            }
        },
    )
}

fn piece(secrets: Vec<String>) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        4 => prop::sample::select(HOSTILE).prop_map(String::from),
        2 => "[ -~]{0,12}",
        1 => prop::sample::select(HEALTH).prop_map(String::from),
        3 => secret_piece(secrets),
    ]
}

/// How a case makes its [`RemoteText`].
#[derive(Debug, Clone)]
enum Made {
    New,
    Capped(usize),
    Tail { lines: usize, bytes: usize },
}

#[derive(Debug, Clone)]
struct Case {
    secrets: Vec<String>,
    text: String,
    made: Made,
}

fn case() -> impl Strategy<Value = Case> {
    prop::collection::vec(secret_value(), 1..4).prop_flat_map(|secrets| {
        let pieces = prop::collection::vec(piece(secrets.clone()), 0..10);
        let start = proptest::option::of(secret_piece(secrets.clone()));
        let end = proptest::option::of(secret_piece(secrets.clone()));
        let made = prop_oneof![
            2 => Just(Made::New),
            1 => (0usize..300).prop_map(Made::Capped),
            1 => (0usize..8, 0usize..300).prop_map(|(lines, bytes)| Made::Tail { lines, bytes }),
        ];
        (Just(secrets), start, pieces, end, made).prop_map(|(secrets, start, pieces, end, made)| {
            Case {
                secrets,
                text: start.into_iter().chain(pieces).chain(end).collect(),
                made,
            }
        })
    })
}

impl Case {
    fn redactor(&self) -> Redactor {
        self.secrets
            .iter()
            .fold(Redactor::builder(), |b, v| {
                b.secret(&SecretString::new(v.as_str()))
            })
            .build()
    }

    fn remote(&self) -> RemoteText {
        let redactor = self.redactor();
        match self.made {
            Made::New => RemoteText::new(&self.text, &redactor),
            Made::Capped(max) => RemoteText::with_max_bytes(&self.text, &redactor, max),
            Made::Tail { lines, bytes } => {
                let split: Vec<&str> = self.text.split('\n').collect();
                RemoteText::log_tail(&split, lines, bytes, &redactor)
            }
        }
    }
}

/// `text` as a reader sees it: escape sequences, controls (but `\t`), line breaks and
/// invisible characters left out.
fn seen(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        if c == '\u{1b}' {
            rest = skip_escape(rest);
        } else if !((c.is_control() && c != '\t')
            || matches!(c, '\u{2028}' | '\u{2029}')
            || is_invisible(c))
        {
            out.push(c);
        }
    }
    out
}

/// The password of a URL-valued secret as the generator writes one
/// (`scheme://user:password@host/db`).
fn url_password(value: &str) -> Option<&str> {
    let rest = value
        .strip_prefix("postgresql://")
        .or_else(|| value.strip_prefix("redis://"))?;
    let (userinfo, _) = rest.split_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    Some(password)
}

/// A value the redactor takes for a URL (`scheme://...`): its pieces at the edges of a text
/// are not redacted, its password's are (the module documentation says why).
fn is_url(value: &str) -> bool {
    value.trim().split_once("://").is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    })
}

/// `Err` naming the leak when `shown` holds a secret value of 4 characters or more (as a reader
/// sees both), or a piece of 4 characters or more of one at an edge (of its password, for a
/// URL-valued one); or a short value as the right side of `SECRET_KEY=`. The password of a
/// URL-valued secret is a secret value too.
fn no_secret(shown: &str, secrets: &[String]) -> Result<(), TestCaseError> {
    let view = seen(shown);
    let passwords = secrets.iter().filter_map(|secret| url_password(secret));
    for secret in secrets.iter().map(String::as_str).chain(passwords) {
        let value = seen(secret.trim());
        let chars = value.chars().count();
        if chars < 4 {
            let short = secret.trim();
            if !short.is_empty() {
                let assigned = format!("SECRET_KEY={short}");
                prop_assert!(
                    !shown.contains(&format!("{assigned}\n")) && !shown.ends_with(&assigned),
                    "short value {short:?} in {shown:?}"
                );
            }
            continue;
        }
        prop_assert!(!view.contains(&value), "{value:?} in {shown:?}");
        if is_url(secret) {
            continue;
        }
        for (n, (at, c)) in value.char_indices().enumerate() {
            if chars - n >= 4 {
                let suffix = &value[at..];
                prop_assert!(!view.starts_with(suffix), "{suffix:?} starts {shown:?}");
            }
            if n + 1 >= 4 {
                let prefix = &value[..at + c.len_utf8()];
                prop_assert!(!view.ends_with(prefix), "{prefix:?} ends {shown:?}");
            }
        }
    }
    Ok(())
}

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}')
}

/// Terminal-safe: no ESC, no control but `\n` and `\t`, no DEL or C1, no bidi control.
fn terminal_inert(text: &str) -> Result<(), TestCaseError> {
    let bad = text
        .chars()
        .find(|&c| (c.is_control() && c != '\n' && c != '\t') || is_bidi(c));
    prop_assert!(bad.is_none(), "{bad:?} in {text:?}");
    Ok(())
}

/// What the runner does to a command's data.
fn unescape_data(data: &str) -> String {
    data.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%")
}

/// No line the runner takes for a command, and no line break a command's data would decode.
fn workflow_inert(text: &str) -> Result<(), TestCaseError> {
    terminal_inert(text)?;
    for line in text.split('\n') {
        let visible: String = line.chars().filter(|&c| !is_invisible(c)).collect();
        prop_assert!(!visible.trim_start().starts_with("::"), "command {line:?}");
        prop_assert!(!visible.contains("##["), "legacy command {line:?}");
        let data = unescape_data(line);
        prop_assert!(!data.contains(['\n', '\r']), "decodes to lines {line:?}");
    }
    Ok(())
}

/// One line; every ASCII punctuation character escaped; nothing GitHub links in the rendered
/// text.
fn markdown_inert(text: &str) -> Result<String, TestCaseError> {
    terminal_inert(text)?;
    prop_assert!(!text.contains(['\n', '\r']), "line break in {text:?}");
    let mut rendered = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let escaped = chars.next();
            prop_assert!(
                escaped.is_some_and(|e| e.is_ascii_punctuation()),
                "a lone backslash in {text:?}"
            );
            rendered.extend(escaped);
        } else {
            prop_assert!(!c.is_ascii_punctuation(), "unescaped {c:?} in {text:?}");
            rendered.push(c);
        }
    }
    let lower = rendered.to_lowercase();
    prop_assert!(!lower.contains("://"), "URL in {rendered:?}");
    prop_assert!(!lower.contains("www."), "www. in {rendered:?}");
    let chars: Vec<char> = lower.chars().collect();
    for (at, pair) in chars.windows(2).enumerate() {
        let linked = match pair[0] {
            '@' | '#' => pair[1].is_alphanumeric() || pair[1] == '_',
            '-' => pair[1].is_ascii_digit() && at >= 2 && chars[at - 2..at] == ['g', 'h'],
            _ => false,
        };
        prop_assert!(!linked, "a link at {at} of {rendered:?}");
    }
    Ok(rendered)
}

/// The content of a code block, after checking that its fence holds.
fn code_block_content(block: &str, lang: &str) -> Result<String, TestCaseError> {
    let lines: Vec<&str> = block.split('\n').collect();
    prop_assert!(
        lines.len() >= 3 && lines[lines.len() - 1].is_empty(),
        "{block:?}"
    );
    let open = lines[0];
    let fence_char = open.chars().next().unwrap_or(' ');
    prop_assert!(fence_char == '`' || fence_char == '~', "fence {open:?}");
    let fence_len = open.chars().take_while(|&c| c == fence_char).count();
    prop_assert!(fence_len >= 3, "short fence {open:?}");
    let info = &open[fence_len..];
    let allowed: String = lang
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "+-._".contains(*c))
        .collect();
    prop_assert!(info == allowed, "info {info:?} from {lang:?}");
    let close = lines[lines.len() - 2];
    prop_assert!(
        close.len() == fence_len && close.chars().all(|c| c == fence_char),
        "close {close:?}"
    );
    let content = lines[1..lines.len() - 2].join("\n");
    let run: String = std::iter::repeat_n(fence_char, fence_len).collect();
    prop_assert!(!content.contains(&run), "the fence inside {content:?}");
    Ok(content)
}

proptest! {
    #[test]
    fn terminal_is_inert_and_shows_no_secret(case in case()) {
        let shown = case.remote().terminal();
        terminal_inert(&shown)?;
        no_secret(&shown, &case.secrets)?;
    }
}

proptest! {
    #[test]
    fn workflow_log_is_inert_and_shows_no_secret(case in case()) {
        let remote = case.remote();
        let shown = remote.workflow_log();
        workflow_inert(&shown)?;
        no_secret(&shown, &case.secrets)?;
        let data = remote.workflow_command_data();
        prop_assert!(!data.contains(['\n', '\r']), "{data:?}");
        let decoded = unescape_data(&data);
        terminal_inert(&decoded)?;
        prop_assert!(decoded == remote.terminal() || data == "***", "{data:?}");
        no_secret(&data, &case.secrets)?;
        no_secret(&decoded, &case.secrets)?;
    }
}

proptest! {
    #[test]
    fn markdown_inline_is_inert_and_shows_no_secret(case in case()) {
        let shown = case.remote().markdown_inline();
        let rendered = markdown_inert(&shown)?;
        no_secret(&shown, &case.secrets)?;
        no_secret(&rendered, &case.secrets)?;
    }
}

proptest! {
    #[test]
    fn markdown_code_block_holds_and_shows_no_secret(
        case in case(),
        lang in prop_oneof![Just(String::from("text")), any::<String>()],
    ) {
        let block = case.remote().markdown_code_block(&lang);
        no_secret(&block, &case.secrets)?;
        let content = code_block_content(&block, &lang)?;
        terminal_inert(&content)?;
        no_secret(&content, &case.secrets)?;
    }
}

proptest! {
    #[test]
    fn output_word_is_always_a_word_of_the_vocabulary(
        case in case(),
        word in prop::sample::select(HEALTH),
        padded in "[ \t\n]{0,2}",
        upper in any::<bool>(),
    ) {
        let remote = case.remote();
        let shown = remote.output_word(HEALTH, "unknown");
        prop_assert!(HEALTH.contains(&shown), "{shown:?}");
        let spelled = if upper { word.to_uppercase() } else { word.to_string() };
        let plain = RemoteText::new(&format!("{padded}{spelled}{padded}"), &case.redactor());
        let expected = if plain.as_data().trim().eq_ignore_ascii_case(word) { word } else { "unknown" };
        prop_assert_eq!(plain.output_word(HEALTH, "unknown"), expected);
    }
}

proptest! {
    #[test]
    fn data_debug_and_json_show_no_secret(case in case()) {
        let remote = case.remote();
        no_secret(remote.as_data(), &case.secrets)?;
        no_secret(&format!("{remote:?}"), &case.secrets)?;
        let json = serde_json::to_string(&remote).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: String = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back.as_str(), remote.as_data());
        if let Made::Tail { lines, .. } = case.made {
            prop_assert!(remote.as_data().split('\n').count() <= lines.max(1));
        }
    }
}

/// One line, terminal-safe; opened and closed by the same run of backticks, which no run
/// inside matches; no `|` without its backslash (a table cell break). The content is returned.
fn code_span_content(span: &str) -> Result<String, TestCaseError> {
    terminal_inert(span)?;
    prop_assert!(!span.contains(['\n', '\r']), "line break in {span:?}");
    if span.is_empty() {
        return Ok(String::new());
    }
    let open = span.chars().take_while(|&c| c == '`').count();
    let close = span.chars().rev().take_while(|&c| c == '`').count();
    prop_assert!(open >= 1 && open == close, "fence of {span:?}");
    prop_assert!(span.len() > 2 * open, "empty span {span:?}");
    let content = &span[open..span.len() - close];
    let mut run = 0;
    for c in content.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        prop_assert!(run < open, "a run that closes {span:?}");
    }
    let mut previous = ' ';
    for c in content.chars() {
        prop_assert!(c != '|' || previous == '\\', "a cell break in {span:?}");
        previous = c;
    }
    Ok(content.replace("\\|", "|"))
}

proptest! {
    #[test]
    fn markdown_code_span_holds_and_shows_no_secret(case in case()) {
        let span = case.remote().markdown_code_span();
        no_secret(&span, &case.secrets)?;
        let content = code_span_content(&span)?;
        no_secret(&content, &case.secrets)?;
    }
}

proptest! {
    #[test]
    fn the_lines_of_a_text_show_no_secret(case in case()) {
        let remote = case.remote();
        let lines = remote.lines();
        prop_assert_eq!(
            lines.iter().map(RemoteText::as_data).collect::<Vec<_>>().join("\n"),
            remote.as_data()
        );
        for line in &lines {
            prop_assert!(!line.as_data().contains('\n'));
            let shown = line.terminal();
            terminal_inert(&shown)?;
            no_secret(&shown, &case.secrets)?;
        }
    }
}
