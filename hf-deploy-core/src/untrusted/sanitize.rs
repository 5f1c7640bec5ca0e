//! The sanitisers, one per destination, on text that is already redacted. They know nothing of
//! secrets; [`super::RemoteText`] redacts again after each of them (see its methods).

use super::chars::{is_invisible, is_unsafe_for_terminal, skip_escape};

/// Text for a terminal: escape sequences (CSI, OSC, DCS, SOS, PM, APC, and the two- and
/// three-character ESC sequences) removed; `\r\n`, a lone `\r`, NEL, U+2028 and U+2029 as `\n`;
/// every other control and bidi control shown escaped (`\u{7}`).
pub(super) fn terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            '\u{1b}' => rest = skip_escape(rest),
            '\r' => {
                out.push('\n');
                rest = rest.strip_prefix('\n').unwrap_or(rest);
            }
            '\u{85}' | '\u{2028}' | '\u{2029}' => out.push('\n'),
            c if is_unsafe_for_terminal(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// Terminal text (see [`terminal`]) for the workflow log, where no line may become a workflow
/// command. What the runner would act on gets one visible character that it does not:
///
/// * a line whose first visible characters are `::` starts with `\::` instead;
/// * `##[` (legacy commands, recognised anywhere in a line) becomes `##\[`;
/// * `%0A` and `%0D`, which a command's data decodes to line breaks, become `%250A` and
///   `%250D`, which it decodes to `%0A` and `%0D`.
///
/// Invisible characters between the characters of `::` or `##[` do not hide them.
pub(super) fn workflow(terminal_text: &str) -> String {
    let mut out = String::with_capacity(terminal_text.len() + 8);
    for (n, line) in terminal_text.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let lead = line
            .find(|c: char| !(c.is_whitespace() || is_invisible(c)))
            .unwrap_or(line.len());
        let (lead, body) = line.split_at(lead);
        out.push_str(lead);
        if visible_start(body, "::") {
            out.push('\\');
        }
        neutralise_inline(body, &mut out);
    }
    out
}

/// True when `text`, invisible characters left out, starts with `prefix`.
fn visible_start(text: &str, prefix: &str) -> bool {
    let mut visible = text.chars().filter(|&c| !is_invisible(c));
    prefix.chars().all(|p| visible.next() == Some(p))
}

/// `##[` and `%0A`/`%0D` anywhere in a line (see [`workflow`]).
fn neutralise_inline(body: &str, out: &mut String) {
    let mut hashes = 0;
    for (at, c) in body.char_indices() {
        match c {
            '[' if hashes >= 2 => out.push('\\'),
            '%' if body[at + 1..].starts_with("0A") || body[at + 1..].starts_with("0D") => {
                out.push_str("%25");
                hashes = 0;
                continue;
            }
            _ => {}
        }
        out.push(c);
        if c == '#' {
            hashes += 1;
        } else if !is_invisible(c) {
            hashes = 0;
        }
    }
}

/// Terminal text (see [`terminal`]) as the data of a workflow command (the message of
/// `::error::`, `::warning::`, `::notice::`, a group title): `%`, `\r` and `\n` escaped as
/// the runner unescapes them, so the command shows the text as it is, on one line.
pub(super) fn command_data(terminal_text: &str) -> String {
    let mut out = String::with_capacity(terminal_text.len());
    for c in terminal_text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Whitespace runs (line breaks and tabs included) as one space, the ends trimmed.
pub(super) fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The zero-width space, put between the characters of what GitHub would otherwise link.
const BREAK: char = '\u{200b}';

/// One folded line (see [`fold`]) as inert GitHub-flavoured Markdown.
///
/// * Every ASCII punctuation character is backslash-escaped (CommonMark: "any ASCII
///   punctuation character may be backslash-escaped" and is then literal): no link, image,
///   HTML tag, entity, code span, emphasis, table-cell break, heading, list, quote or math.
/// * GitHub's own links, made from the rendered text, not the Markdown: a zero-width space
///   after `@` and `#` before a letter or digit (mentions, `#123`, `org/repo#123`), between
///   `:` and `//` (`https://`), between `www` and `.`, and after `GH-` before a digit.
///   The text reads the same; nothing links.
pub(super) fn markdown_inline(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len() * 2);
    for (at, &c) in chars.iter().enumerate() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
        let next = chars.get(at + 1).copied();
        let before = |n: usize| at.checked_sub(n).and_then(|i| chars.get(i)).copied();
        let breaks = match c {
            '@' | '#' => next.is_some_and(|n| n.is_alphanumeric() || n == '_'),
            ':' => next == Some('/'),
            'w' | 'W' => {
                next == Some('.')
                    && [before(1), before(2)]
                        .iter()
                        .all(|b| b.is_some_and(|b| b.eq_ignore_ascii_case(&'w')))
            }
            '-' => {
                next.is_some_and(|n| n.is_ascii_digit())
                    && before(1).is_some_and(|b| b.eq_ignore_ascii_case(&'h'))
                    && before(2).is_some_and(|b| b.eq_ignore_ascii_case(&'g'))
            }
            _ => false,
        };
        if breaks {
            out.push(BREAK);
        }
    }
    out
}

/// One folded line (see [`fold`]) as an inline code span that it cannot close: backticks one
/// more than its longest run, a space inside them when it starts or ends with a backtick (which
/// CommonMark strips), and `|` written `\|` for a table (a zero-width space before it after a
/// backslash). Empty text gives an empty span's text: nothing.
pub(super) fn code_span(line: &str) -> String {
    if line.is_empty() {
        return String::new();
    }
    let ticks: String = std::iter::repeat_n('`', longest_run(line, '`') + 1).collect();
    let pad = if line.starts_with('`') || line.ends_with('`') {
        " "
    } else {
        ""
    };
    let mut code = String::with_capacity(line.len() + 2 * ticks.len() + 4);
    code.push_str(&ticks);
    code.push_str(pad);
    let mut after_backslash = false;
    for c in line.chars() {
        if c == '|' {
            if after_backslash {
                code.push(BREAK);
            }
            code.push_str("\\|");
        } else {
            code.push(c);
        }
        after_backslash = c == '\\';
    }
    code.push_str(pad);
    code.push_str(&ticks);
    code
}

/// Terminal text (see [`terminal`]) as a fenced Markdown code block that it cannot close: the
/// fence is the character (backtick or tilde) whose longest run in the text is shorter, one
/// longer than that run and at least three long. `lang` keeps only `A-Z a-z 0-9 + - . _`.
/// Ends with a line break.
pub(super) fn code_block(terminal_text: &str, lang: &str) -> String {
    let lang: String = lang
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "+-._".contains(*c))
        .collect();
    let backticks = longest_run(terminal_text, '`');
    let tildes = longest_run(terminal_text, '~');
    let (fence_char, run) = if backticks <= tildes {
        ('`', backticks)
    } else {
        ('~', tildes)
    };
    let fence: String = std::iter::repeat_n(fence_char, (run + 1).max(3)).collect();
    let mut out = String::with_capacity(terminal_text.len() + 2 * fence.len() + lang.len() + 3);
    out.push_str(&fence);
    out.push_str(&lang);
    out.push('\n');
    out.push_str(terminal_text);
    if !terminal_text.is_empty() && !terminal_text.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&fence);
    out.push('\n');
    out
}

/// The longest run of `c` in `text`.
pub(super) fn longest_run(text: &str, c: char) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for found in text.chars() {
        if found == c {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_drops_escape_sequences_and_escapes_controls() {
        assert_eq!(terminal("\u{1b}[1;31mred\u{1b}[0m"), "red");
        assert_eq!(
            terminal("\u{1b}]8;;https://evil.example\u{7}link\u{1b}]8;;\u{1b}\\"),
            "link"
        );
        assert_eq!(terminal("\u{1b}]0;title\u{1b}\\after"), "after");
        assert_eq!(terminal("\u{1b}P1$r\u{1b}\\x"), "x");
        assert_eq!(terminal("\u{1b}(Bx\u{1b}7y\u{1b}cz"), "xyz");
        assert_eq!(terminal("a\u{1b}"), "a");
        assert_eq!(terminal("\u{1b}]unterminated"), "unterminated");
        assert_eq!(terminal("\u{1b}[12"), "");
        assert_eq!(terminal("\u{1b}[12é"), "é");
        assert_eq!(terminal("\u{1b}]x\u{1b}[31my"), "y");
        assert_eq!(terminal("a\r\nb\rc\u{2028}d\u{85}e"), "a\nb\nc\nd\ne");
        assert_eq!(terminal("bell\u{7}\u{0}\u{7f}"), "bell\\u{7}\\u{0}\\u{7f}");
        assert_eq!(terminal("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(
            terminal("abc\u{202e}fed\u{2066}"),
            "abc\\u{202e}fed\\u{2066}"
        );
        assert_eq!(terminal("tab\tand\nline"), "tab\tand\nline");
    }

    #[test]
    fn workflow_lines_never_start_a_command() {
        assert_eq!(
            workflow("healthy\n::error file=app.py::forged"),
            "healthy\n\\::error file=app.py::forged"
        );
        assert_eq!(workflow("  ::stop-commands::x"), "  \\::stop-commands::x");
        assert_eq!(workflow("\u{200b}::warning::x"), "\u{200b}\\::warning::x");
        assert_eq!(workflow(":\u{200b}:warning::x"), "\\:\u{200b}:warning::x");
        assert_eq!(workflow("text ##[error]x"), "text ##\\[error]x");
        assert_eq!(workflow("#\u{ad}#[group]x"), "#\u{ad}#\\[group]x");
        assert_eq!(workflow("a%0Ab%0Dc%0a"), "a%250Ab%250Dc%0a");
        assert_eq!(workflow("a: ::b # [c]"), "a: ::b # [c]");
    }

    #[test]
    fn command_data_keeps_one_line() {
        assert_eq!(command_data("50% done\nnext\r"), "50%25 done%0Anext%0D");
    }

    #[test]
    fn markdown_inline_is_inert() {
        assert_eq!(fold("  a\n\n b\t c  "), "a b c");
        assert_eq!(
            markdown_inline("[fix](https://phish.example)"),
            "\\[fix\\]\\(https\\:\u{200b}\\/\\/phish\\.example\\)"
        );
        assert_eq!(markdown_inline("@someone"), "\\@\u{200b}someone");
        assert_eq!(markdown_inline("#123"), "\\#\u{200b}123");
        assert_eq!(markdown_inline("GH-12"), "GH\\-\u{200b}12");
        assert_eq!(markdown_inline("www.x"), "www\u{200b}\\.x");
        assert_eq!(markdown_inline("<b>&amp;|"), "\\<b\\>\\&amp\\;\\|");
        assert_eq!(markdown_inline("a @ # b"), "a \\@ \\# b");
    }

    #[test]
    fn code_span_cannot_be_closed_from_inside_nor_break_a_cell() {
        assert_eq!(code_span("plain"), "`plain`");
        assert_eq!(code_span("a `tick`"), "`` a `tick` ``");
        assert_eq!(code_span("``x``"), "``` ``x`` ```");
        assert_eq!(code_span("a|b"), "`a\\|b`");
        assert_eq!(code_span("a\\|b"), "`a\\\u{200b}\\|b`");
        assert_eq!(
            code_span("[x](https://a) @me <b>"),
            "`[x](https://a) @me <b>`"
        );
        assert_eq!(code_span(""), "");
    }

    #[test]
    fn code_block_fence_is_longer_than_any_run_inside() {
        assert_eq!(code_block("x", "text"), "```text\nx\n```\n");
        assert_eq!(code_block("a\n```\nb\n", ""), "~~~\na\n```\nb\n~~~\n");
        assert_eq!(
            code_block("````` and ~~~~", "log`x"),
            "~~~~~logx\n````` and ~~~~\n~~~~~\n"
        );
        assert_eq!(code_block("", "sh"), "```sh\n```\n");
    }
}
