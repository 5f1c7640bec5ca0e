//! The one door for text from outside into the Markdown: every value the templates print
//! passes through one of these filters, and the environment prints nothing else.
//!
//! - `md_text`: inline text and table cells. No link, image, autolink, @mention, #reference,
//!   HTML tag, heading, list or table break can come out of it: Markdown punctuation is
//!   backslash-escaped, `<`, `>`, `&` become entities, `@`, `#`, `://` and `www.` get a
//!   zero-width space (`&#8203;`) that GitHub's mention, reference and autolink passes do not
//!   cross, line breaks become `<br>`. A balanced code span of the text (`` `x` ``) stays a
//!   code span, rebuilt by `md_span`.
//! - `md_span`: an inline code span no backtick inside can close.
//! - `md_code`: a fenced block no line inside can close.
//! - `md_link`: a link to an http(s) URL, its text as `md_text` writes it (without the
//!   zero-width spaces: nothing is linked inside a link).
//!
//! The formatter refuses any string that did not come out of a filter (or from
//! [`Ours`]), so a template line that forgets its filter fails the tests instead of
//! printing outside text raw. The built-in `safe` and `escape` filters are removed.

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind, Output, State};
use serde::{Serialize, Serializer};

use super::super::strip_ansi;

/// Text this program wrote (labels, timings, the comment's marker): printed as it is. Never
/// holds a value from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Ours(pub(super) String);

impl Serialize for Ours {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Through minijinja's serializer this stays one safe value.
        Value::from_safe_string(self.0.clone()).serialize(serializer)
    }
}

/// Install the filters and the formatter that only prints their output.
pub(super) fn install(env: &mut Environment<'_>) {
    for builtin in ["safe", "escape", "e"] {
        env.remove_filter(builtin);
    }
    env.add_filter("md_text", |text: &str| {
        Value::from_safe_string(md_text(text))
    });
    env.add_filter("md_span", |text: &str| {
        Value::from_safe_string(md_span(text))
    });
    env.add_filter("md_code", |text: &str, info: &str| {
        Value::from_safe_string(md_code(text, info))
    });
    env.add_filter("md_link", |text: &str, url: &str| {
        Value::from_safe_string(md_link(text, url))
    });
    env.set_formatter(only_filtered);
}

/// Numbers print; strings only when a filter (or [`Ours`]) made them safe.
fn only_filtered(out: &mut Output<'_>, _: &State<'_, '_>, value: &Value) -> Result<(), Error> {
    if value.is_safe() || value.is_number() {
        return write!(out, "{value}").map_err(|_| {
            Error::new(
                ErrorKind::WriteFailure,
                "failed to write the Markdown output",
            )
        });
    }
    Err(Error::new(
        ErrorKind::InvalidOperation,
        format!(
            "a {} value reached the Markdown without a filter (md_text, md_span, md_code, md_link)",
            value.kind()
        ),
    ))
}

/// Where inline text lands: plain text, or the text of a link (where GitHub links nothing).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Text,
    LinkText,
}

/// Inline text and table cells: see the module documentation.
pub(crate) fn md_text(text: &str) -> String {
    inline(text, Place::Text)
}

/// An inline code span that no backtick in `text` can close (line breaks become spaces). A `|`
/// is escaped for table cells, which split a row before code spans are read; after a
/// backslash it also gets a zero-width space, so that `\\|` cannot read as an escaped
/// backslash and a cell break. Empty text gives nothing.
pub(crate) fn md_span(text: &str) -> String {
    let text = strip_ansi(text).replace('\n', " ");
    if text.is_empty() {
        return String::new();
    }
    let ticks = fence_for(&text, 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    let mut code = String::with_capacity(text.len() + 2);
    let mut after_backslash = false;
    for c in text.chars() {
        if c == '|' {
            if after_backslash {
                code.push('\u{200b}');
            }
            code.push_str("\\|");
        } else {
            code.push(c);
        }
        after_backslash = c == '\\';
    }
    format!("{ticks}{pad}{code}{pad}{ticks}")
}

/// A fenced code block of `text` with the info string `info` (letters, digits, `-`, `_`
/// only): the fence is longer than any backtick run inside, so no line can close it.
pub(crate) fn md_code(text: &str, info: &str) -> String {
    let body = strip_ansi(text);
    let fence = fence_for(&body, 3);
    let info: String = info
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    format!("{fence}{info}\n{body}\n{fence}")
}

/// The one fence rule, for code spans and fenced blocks alike: a run of backticks longer than
/// any run in `text`, and `at_least` long (1 for a span, 3 for a block).
pub(crate) fn fence_for(text: &str, at_least: usize) -> String {
    "`".repeat((longest_backtick_run(text) + 1).max(at_least))
}

/// `[text](url)` when `url` is an http(s) URL; otherwise the text alone, as [`md_text`].
pub(crate) fn md_link(text: &str, url: &str) -> String {
    let url = strip_ansi(url);
    let url = url.trim();
    let is_web = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    if !is_web {
        return md_text(text);
    }
    let mut target = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            ' ' => target.push_str("%20"),
            '\n' => target.push_str("%0A"),
            '\t' => target.push_str("%09"),
            '(' => target.push_str("%28"),
            ')' => target.push_str("%29"),
            '<' => target.push_str("%3C"),
            '>' => target.push_str("%3E"),
            '|' => target.push_str("%7C"),
            '\\' => target.push_str("%5C"),
            '`' => target.push_str("%60"),
            c => target.push(c),
        }
    }
    format!("[{}]({target})", inline(text, Place::LinkText))
}

fn longest_backtick_run(text: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

/// Split `text` into plain stretches and balanced code spans (a run of N backticks closed by
/// the next run of exactly N, as CommonMark reads it); escape the first, rebuild the second.
fn inline(text: &str, place: Place) -> String {
    let chars: Vec<char> = strip_ansi(text).chars().collect();
    let mut out = String::with_capacity(chars.len() + 16);
    let mut plain = String::new();
    let mut at_start = true;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            plain.push(chars[i]);
            i += 1;
            continue;
        }
        let run = run_at(&chars, i);
        match closing_run(&chars, i + run, run) {
            Some(close) => {
                out.push_str(&escape_plain(&plain, at_start, place));
                plain.clear();
                at_start = false;
                out.push_str(&md_span(&span_content(&chars[i + run..close])));
                i = close + run;
            }
            None => {
                plain.extend(&chars[i..i + run]);
                i += run;
            }
        }
    }
    out.push_str(&escape_plain(&plain, at_start, place));
    out
}

/// The length of the backtick run starting at `start`.
fn run_at(chars: &[char], start: usize) -> usize {
    chars[start..].iter().take_while(|c| **c == '`').count()
}

/// Where the next run of exactly `run` backticks at or after `from` starts.
fn closing_run(chars: &[char], from: usize, run: usize) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == '`' {
            let length = run_at(chars, i);
            if length == run {
                return Some(i);
            }
            i += length;
        } else {
            i += 1;
        }
    }
    None
}

/// A code span's content as CommonMark reads it: line breaks as spaces, and one space off
/// each end when both ends have one (and it is not all spaces).
fn span_content(chars: &[char]) -> String {
    let content: String = chars
        .iter()
        .map(|c| if *c == '\n' { ' ' } else { *c })
        .collect();
    let strip = content.len() >= 2
        && content.starts_with(' ')
        && content.ends_with(' ')
        && !content.chars().all(|c| c == ' ');
    if strip {
        content[1..content.len() - 1].to_string()
    } else {
        content
    }
}

/// The zero-width space GitHub's mention, reference and autolink passes do not cross.
const BREAK: &str = "&#8203;";

/// Escape a stretch of plain text; `at_start` when it begins the value (where a `-`, `+`,
/// `=` or `1.` could start a list or a heading underline).
fn escape_plain(text: &str, at_start: bool, place: Place) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let rest = &chars[i + 1..];
        if i == 0 && at_start && matches!(c, '-' | '+' | '=') {
            out.push('\\');
            out.push(c);
            continue;
        }
        match c {
            '\\' | '`' | '*' | '_' | '~' | '[' | ']' | '(' | ')' | '!' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '.' if at_start && i > 0 && chars[..i].iter().all(char::is_ascii_digit) => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' => out.push_str("<br>"),
            '#' if place == Place::LinkText => out.push_str("\\#"),
            '#' | '@' if place == Place::Text => {
                out.push(c);
                out.push_str(BREAK);
            }
            ':' if place == Place::Text && rest.starts_with(&['/', '/']) => {
                out.push(':');
                out.push_str(BREAK);
            }
            'w' | 'W' if place == Place::Text && starts_www(&chars[i..]) => {
                out.push(c);
                out.push_str(BREAK);
            }
            c => out.push(c),
        }
    }
    out
}

/// `www.`, in any case.
fn starts_www(chars: &[char]) -> bool {
    chars.len() >= 4 && chars[..3].iter().all(|c| c.eq_ignore_ascii_case(&'w')) && chars[3] == '.'
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings from outside that would be live Markdown if printed raw.
    const HOSTILE: [&str; 16] = [
        "[x](https://a)",
        "![x](https://t)",
        "@someone",
        "ping @someone, or @org/team",
        "fixes #12 and GH-3 and owner/repo#4",
        "<img src=x onerror=alert(1)>",
        "<https://autolink.example>",
        "see https://evil.example/path and www.evil.example",
        "mail me: a@evil.example",
        "a | b | c",
        "line one\nline two\r\n| --- |",
        "*bold* _em_ ~~gone~~",
        "&lt;img&gt; &#64;someone",
        "[ref]: https://defined.example",
        "<!-- hidden --> </details>",
        "\\[x\\](https://a) ends with a backslash \\",
    ];

    /// What `md_text` wrote has nothing live: every Markdown punctuation character is escaped,
    /// the only tag is our `<br>`, the only entities are ours, `@` and `#` are broken, and no
    /// URL scheme or `www.` is left whole.
    fn assert_inert(input: &str, out: &str) {
        assert!(!out.contains('\n'), "{input:?} -> {out:?}: a line break");
        assert!(!out.contains("://"), "{input:?} -> {out:?}: a URL");
        assert!(
            !out.to_ascii_lowercase().contains("www."),
            "{input:?} -> {out:?}: a www autolink"
        );
        let chars: Vec<char> = out.chars().collect();
        let at = |i: usize, text: &str| {
            chars[i..]
                .iter()
                .copied()
                .take(text.chars().count())
                .eq(text.chars())
        };
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '\\' => {
                    assert!(
                        i + 1 < chars.len(),
                        "{input:?} -> {out:?}: a trailing backslash"
                    );
                    i += 2;
                    continue;
                }
                '[' | ']' | '(' | ')' | '!' | '`' | '*' | '_' | '~' | '|' | '>' => {
                    panic!("{input:?} -> {out:?}: a bare `{c}` at {i}")
                }
                '<' => assert!(at(i, "<br>"), "{input:?} -> {out:?}: a tag at {i}"),
                '&' => {
                    let entity = ["&lt;", "&gt;", "&amp;", BREAK]
                        .into_iter()
                        .find(|e| at(i, e));
                    let Some(entity) = entity else {
                        panic!("{input:?} -> {out:?}: an entity at {i}")
                    };
                    i += entity.len();
                    continue;
                }
                '@' | '#' => assert!(
                    at(i + 1, BREAK),
                    "{input:?} -> {out:?}: a mention or reference at {i}"
                ),
                _ => {}
            }
            // Skip our own `<br>`.
            i += if at(i, "<br>") { 4 } else { 1 };
        }
    }

    #[test]
    fn hostile_text_never_comes_out_live() {
        for input in HOSTILE {
            assert_inert(input, &md_text(input));
        }
        assert_eq!(md_text("[x](https://a)"), "\\[x\\]\\(https:&#8203;//a\\)");
        assert_eq!(md_text("![x](y)"), "\\!\\[x\\]\\(y\\)");
        assert_eq!(md_text("@someone"), "@&#8203;someone");
        assert_eq!(md_text("<img>"), "&lt;img&gt;");
        assert_eq!(md_text("a | b\nc"), "a \\| b<br>c");
        assert_eq!(md_text("- item"), "\\- item");
        assert_eq!(md_text("12. item"), "12\\. item");
        // Plain words stay as they are.
        assert_eq!(
            md_text("qdrant answered 404 Not Found: the cluster may be suspended"),
            "qdrant answered 404 Not Found: the cluster may be suspended"
        );
    }

    /// The `|` a table row would split on: not escaped by a backslash (which escapes any
    /// ASCII punctuation, a backslash too, when GitHub splits a row into cells).
    fn cell_breaks(text: &str) -> usize {
        let chars: Vec<char> = text.chars().collect();
        let (mut i, mut breaks) = (0, 0);
        while i < chars.len() {
            if chars[i] == '\\' && chars.get(i + 1).is_some_and(char::is_ascii_punctuation) {
                i += 2;
                continue;
            }
            breaks += usize::from(chars[i] == '|');
            i += 1;
        }
        breaks
    }

    #[test]
    fn no_value_breaks_a_table_cell() {
        for input in [
            "a|b",
            "a\\|b",
            "a\\\\|b",
            "`a\\|b`",
            "`a|b` | c",
            "ends with \\",
            "| x |",
        ] {
            for out in [
                md_text(input),
                md_span(input),
                md_link(input, "https://ok.example/|"),
            ] {
                assert_eq!(cell_breaks(&out), 0, "{input:?} -> {out:?}");
                assert!(
                    !out.ends_with('\\') || out.ends_with("\\\\"),
                    "{input:?} -> {out:?}"
                );
            }
        }
        assert_eq!(md_span("a\\|b"), "`a\\\u{200b}\\|b`");
    }

    #[test]
    fn balanced_code_spans_stay_code_and_cannot_break_out() {
        assert_eq!(
            md_text("health is `degraded`; accepted because of `--allow-degraded`"),
            "health is `degraded`; accepted because of `--allow-degraded`"
        );
        // Inside a code span nothing is live, so its text is kept as it is.
        assert_eq!(md_text("run `[x](https://a)`"), "run `[x](https://a)`");
        // A run with no closer of its length is text: escaped, and so is what follows.
        assert_eq!(
            md_text("``open [x](https://a)"),
            "\\`\\`open \\[x\\]\\(https:&#8203;//a\\)"
        );
        // A span whose content holds a shorter run gets a longer fence.
        assert_eq!(md_text("``a ` b``"), "``a ` b``");
        // An unmatched backtick after a span cannot extend the span's fence.
        let out = md_text("`a`` [x](https://a)");
        assert!(!out.contains("](https"), "{out}");
        // A pipe inside a span is escaped for table cells.
        assert_eq!(md_text("`a|b`"), "`a\\|b`");
        for input in ["`", "``", "```x", "a ` b `` c ``` d", "`x` `"] {
            let out = md_text(input);
            let plain = out.replace("\\`", "");
            assert!(
                plain.matches('`').count() % 2 == 0,
                "{input:?} -> {out:?}: an odd backtick can open a span"
            );
        }
    }

    #[test]
    fn code_spans_and_blocks_cannot_be_closed_from_inside() {
        assert_eq!(md_span("plain"), "`plain`");
        assert_eq!(md_span("a `tick`"), "`` a `tick` ``");
        assert_eq!(md_span("``x``"), "``` ``x`` ```");
        assert_eq!(md_span("a|b\nc"), "`a\\|b c`");
        assert_eq!(md_span(""), "");

        let body = "step 1\n````\n```python\n</details>\n~~~";
        let block = md_code(body, "text");
        assert!(block.starts_with("`````text\n"), "{block}");
        assert!(block.ends_with("\n`````"), "{block}");
        let inner: Vec<&str> = block.lines().skip(1).collect();
        let inner = &inner[..inner.len() - 1];
        assert!(
            inner.iter().all(|line| !line.starts_with("`````")),
            "a line closes the fence: {block}"
        );
        assert_eq!(md_code("x", "te`xt\n"), "```text\nx\n```");
        assert_eq!(fence_for("no ticks", 3), "```");
        assert_eq!(fence_for("no ticks", 1), "`");
        assert_eq!(fence_for("a ``````` b", 3), "````````");
        assert_eq!(fence_for("a ` b", 1), "``");
    }

    #[test]
    fn links_go_only_to_web_urls_and_their_text_is_escaped() {
        assert_eq!(
            md_link(
                "alice/rag-chatbot",
                "https://huggingface.co/spaces/alice/rag-chatbot"
            ),
            "[alice/rag-chatbot](https://huggingface.co/spaces/alice/rag-chatbot)"
        );
        assert_eq!(
            md_link("https://a.hf.space", "https://a.hf.space"),
            "[https://a.hf.space](https://a.hf.space)"
        );
        assert_eq!(
            md_link("[x](https://evil)", "https://ok.example/a b(c)|"),
            "[\\[x\\]\\(https://evil\\)](https://ok.example/a%20b%28c%29%7C)"
        );
        for url in [
            "javascript:alert(1)",
            "data:text/html,x",
            "/relative",
            "not a url",
        ] {
            assert_eq!(md_link("click", url), "click", "{url}");
        }
        let out = md_link("x", "https://ok.example/\n![i](https://t)");
        assert!(!out.contains('\n') && !out.contains("(https://t)"), "{out}");
    }

    #[test]
    fn the_environment_prints_only_filtered_values() {
        let mut env = Environment::new();
        install(&mut env);
        let value = "[x](https://a)";
        let error = env
            .render_str("{{ value }}", minijinja::context! { value })
            .expect_err("a raw string is refused");
        assert_eq!(error.kind(), ErrorKind::InvalidOperation);
        assert!(error.to_string().contains("without a filter"), "{error}");
        for bypass in [
            "{{ value | safe }}",
            "{{ value | e }}",
            "{{ value | escape }}",
        ] {
            assert!(
                env.render_str(bypass, minijinja::context! { value })
                    .is_err(),
                "{bypass}"
            );
        }
        assert_eq!(
            env.render_str(
                "{{ value | md_text }} {{ n }}",
                minijinja::context! { value, n => 3 }
            )
            .expect("filtered"),
            "\\[x\\]\\(https:&#8203;//a\\) 3"
        );
        assert_eq!(
            env.render_str(
                "{{ ours }}",
                minijinja::context! { ours => Ours("<!-- m -->".into()) }
            )
            .expect("ours"),
            "<!-- m -->"
        );
    }
}
