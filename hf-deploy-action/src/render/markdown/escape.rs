//! The one door for text into the Markdown: every value the templates print passes through
//! one of these filters, and the environment prints nothing else. Each filter is the core's
//! door for its place ([`RemoteText`]), so one rule serves every front end:
//!
//! - `md_text`: inline text and table cells, [`RemoteText::markdown_inline`]: one line, every
//!   ASCII punctuation character backslash-escaped, a zero-width space where GitHub would link
//!   the rendered text (`@name`, `#123`, `://`, `www.`): no link, image, autolink, mention,
//!   reference, HTML tag, heading, list, emphasis or table break.
//! - `md_span`: an inline code span no backtick inside can close, nor a table cell,
//!   [`RemoteText::markdown_code_span`].
//! - `md_code`: a fenced block no line inside can close, [`RemoteText::markdown_code_block`].
//! - `md_link`: a link to an http(s) URL (percent-encoded here, where the URL rules live), its
//!   text as `md_text` writes it.
//!
//! Every value is redacted by the run's [`Redactor`] on its way through. The formatter refuses
//! any string that did not come out of a filter (or from [`Ours`]), so a template line that
//! forgets its filter fails the tests instead of printing outside text raw. The built-in
//! `safe` and `escape` filters are removed.

use hf_deploy_core::{Redactor, RemoteText};
use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind, Output, State};
use serde::{Serialize, Serializer};

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

/// Install the filters, each redacting with `redactor`, and the formatter that only prints
/// their output.
pub(super) fn install(env: &mut Environment<'_>, redactor: &Redactor) {
    for builtin in ["safe", "escape", "e"] {
        env.remove_filter(builtin);
    }
    let r = redactor.clone();
    env.add_filter("md_text", move |text: &str| {
        Value::from_safe_string(md_text(text, &r))
    });
    let r = redactor.clone();
    env.add_filter("md_span", move |text: &str| {
        Value::from_safe_string(md_span(text, &r))
    });
    let r = redactor.clone();
    env.add_filter("md_code", move |text: &str, info: &str| {
        Value::from_safe_string(md_code(text, info, &r))
    });
    let r = redactor.clone();
    env.add_filter("md_link", move |text: &str, url: &str| {
        Value::from_safe_string(md_link(text, url, &r))
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

/// `text` as text from outside, redacted by `redactor`, uncut (the size budget is decided
/// before rendering).
fn remote(text: &str, redactor: &Redactor) -> RemoteText {
    RemoteText::with_max_bytes(text, redactor, usize::MAX)
}

/// Inline text and table cells: [`RemoteText::markdown_inline`].
pub(crate) fn md_text(text: &str, redactor: &Redactor) -> String {
    remote(text, redactor).markdown_inline()
}

/// An inline code span: [`RemoteText::markdown_code_span`].
pub(crate) fn md_span(text: &str, redactor: &Redactor) -> String {
    remote(text, redactor).markdown_code_span()
}

/// A fenced code block with the info string `info`: [`RemoteText::markdown_code_block`],
/// without its last line break (the template writes its own).
pub(crate) fn md_code(text: &str, info: &str, redactor: &Redactor) -> String {
    let block = remote(text, redactor).markdown_code_block(info);
    block.strip_suffix('\n').unwrap_or(&block).to_string()
}

/// `[text](url)` when `url` is an http(s) URL; otherwise the text alone, as [`md_text`]. The
/// URL is one of the report's own (the Space, the app, the workflow run), checked and
/// percent-encoded so that it cannot end the link; the text is [`md_text`]'s.
pub(crate) fn md_link(text: &str, url: &str, redactor: &Redactor) -> String {
    let url = remote(url, redactor).terminal();
    let url = url.trim();
    let is_web = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    if !is_web {
        return md_text(text, redactor);
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
    format!("[{}]({target})", md_text(text, redactor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hf_deploy_core::SecretString;

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

    const ZWSP: char = '\u{200b}';

    fn none() -> Redactor {
        Redactor::none()
    }

    /// What `md_text` wrote has nothing live: one line, every ASCII punctuation character
    /// escaped, no `@` or `#` before a word, no URL scheme or `www.` whole.
    fn assert_inert(input: &str, out: &str) {
        assert!(
            !out.contains(['\n', '\r']),
            "{input:?} -> {out:?}: a line break"
        );
        let mut rendered = String::new();
        let mut chars = out.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                let escaped = chars.next();
                assert!(
                    escaped.is_some_and(|e| e.is_ascii_punctuation()),
                    "{input:?} -> {out:?}: a lone backslash"
                );
                rendered.extend(escaped);
            } else {
                assert!(
                    !c.is_ascii_punctuation(),
                    "{input:?} -> {out:?}: a bare `{c}`"
                );
                rendered.push(c);
            }
        }
        let lower = rendered.to_lowercase();
        assert!(!lower.contains("://"), "{input:?} -> {out:?}: a URL");
        assert!(
            !lower.contains("www."),
            "{input:?} -> {out:?}: a www autolink"
        );
        let chars: Vec<char> = lower.chars().collect();
        for pair in chars.windows(2) {
            assert!(
                !(matches!(pair[0], '@' | '#') && pair[1].is_alphanumeric()),
                "{input:?} -> {out:?}: a mention or reference"
            );
        }
    }

    #[test]
    fn hostile_text_never_comes_out_live() {
        for input in HOSTILE {
            assert_inert(input, &md_text(input, &none()));
        }
        assert_eq!(
            md_text("[x](https://a)", &none()),
            format!("\\[x\\]\\(https\\:{ZWSP}\\/\\/a\\)")
        );
        assert_eq!(md_text("@someone", &none()), format!("\\@{ZWSP}someone"));
        assert_eq!(md_text("<img>", &none()), "\\<img\\>");
        assert_eq!(md_text("a | b\nc", &none()), "a \\| b c");
        assert_eq!(md_text("- item", &none()), "\\- item");
        // Plain words stay as they are.
        assert_eq!(
            md_text("qdrant answered 404 Not Found", &none()),
            "qdrant answered 404 Not Found"
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
                md_text(input, &none()),
                md_span(input, &none()),
                md_link(input, "https://ok.example/|", &none()),
            ] {
                assert_eq!(cell_breaks(&out), 0, "{input:?} -> {out:?}");
            }
        }
        assert_eq!(md_span("a\\|b", &none()), format!("`a\\{ZWSP}\\|b`"));
    }

    #[test]
    fn code_spans_and_blocks_cannot_be_closed_from_inside() {
        assert_eq!(md_span("plain", &none()), "`plain`");
        assert_eq!(md_span("a `tick`", &none()), "`` a `tick` ``");
        assert_eq!(md_span("``x``", &none()), "``` ``x`` ```");
        assert_eq!(md_span("a|b\nc", &none()), "`a\\|b c`");
        assert_eq!(md_span("", &none()), "");

        let body = "step 1\n````\n```python\n</details>\n~~~";
        let block = md_code(body, "text", &none());
        assert!(block.starts_with("~~~~text\n"), "{block}");
        assert!(block.ends_with("\n~~~~"), "{block}");
        let inner: Vec<&str> = block.lines().skip(1).collect();
        let inner = &inner[..inner.len() - 1];
        assert!(
            inner.iter().all(|line| !line.starts_with("~~~~")),
            "a line closes the fence: {block}"
        );
        assert_eq!(md_code("x", "te`xt\n", &none()), "```text\nx\n```");
    }

    #[test]
    fn links_go_only_to_web_urls_and_their_text_is_escaped() {
        assert_eq!(
            md_link(
                "alice/rag-chatbot",
                "https://huggingface.co/spaces/alice/rag-chatbot",
                &none()
            ),
            "[alice\\/rag\\-chatbot](https://huggingface.co/spaces/alice/rag-chatbot)"
        );
        assert_eq!(
            md_link("[x](https://evil)", "https://ok.example/a b(c)|", &none()),
            format!("[\\[x\\]\\(https\\:{ZWSP}\\/\\/evil\\)](https://ok.example/a%20b%28c%29%7C)")
        );
        for url in [
            "javascript:alert(1)",
            "data:text/html,x",
            "/relative",
            "not a url",
        ] {
            assert_eq!(md_link("click", url, &none()), "click", "{url}");
        }
        let out = md_link("x", "https://ok.example/\n![i](https://t)", &none());
        assert!(!out.contains('\n') && !out.contains("(https://t)"), "{out}");
    }

    #[test]
    fn every_filter_redacts_the_runs_secrets() {
        let redactor = Redactor::builder()
            .secret(&SecretString::new("AIzaSy-filter-secret-5"))
            .build();
        let text = "key=AIzaSy-filter-secret-5 | AIzaSy-filter-";
        for out in [
            md_text(text, &redactor),
            md_span(text, &redactor),
            md_code(text, "text", &redactor),
            md_link(text, "https://ok.example", &redactor),
        ] {
            assert!(
                !out.contains("filter-secret") && !out.contains("AIzaSy"),
                "{out}"
            );
        }
    }

    #[test]
    fn the_environment_prints_only_filtered_values() {
        let mut env = Environment::new();
        install(&mut env, &none());
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
            format!("\\[x\\]\\(https\\:{ZWSP}\\/\\/a\\) 3")
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
