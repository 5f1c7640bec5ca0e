//! Property tests of the frontend rewriter.
//!
//! Frontend files of the supported shapes (the snapshot tests' fixtures: a property set in a
//! class constructor, a class field, `const`/`let`/`var` with or without a type, on one line or
//! continued on the next, a config object, `axios.create({ .. })`), each with the value in one
//! of the forms those files use (a URL literal in any quote, `process.env.X || '..'`,
//! `import.meta.env.X ?? '..'`, an environment read alone, a template literal, a ternary on
//! `NODE_ENV`, on one line or in Prettier's layout), around arbitrary old and new URLs, with
//! two-space, four-space or tab indentation and LF or CRLF line ends. A model written here
//! says the whole expected file: everything outside the value byte for byte, the value
//! replaced by hostname detection in the file's quote and indentation, with the value's
//! localhost URL. Rewriting again with the same URL changes nothing; with another URL only the
//! production literal changes; the diff a front end shows in its check mode is empty exactly
//! when nothing changes and, applied to the file, gives the rewritten file. Arbitrary text made
//! of the pieces of such files never panics, and whatever is rewritten is rewritten once. The shape
//! properties rewrite four times a case, so they run `PROPTEST_CASES / 4` cases (64 by
//! default).
//!
//! A config object's quoted key (`'apiUrl': '...'`) is a candidate when the quoted name is a
//! string literal of its own: a property and a unit test of the smallest input.
//!
//! The case count is proptest's `PROPTEST_CASES` (default 256). The long mode:
//!
//! ```text
//! PROPTEST_CASES=1000000 cargo test -p hf-deploy-core --release --lib frontend::proptests -- --test-threads 1
//! ```
//!
//! A failing case is kept in `hf-deploy-core/proptest-regressions/` and replayed first on every
//! later run; commit that file with the fix.

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::Config;

use super::{DEFAULT_LOCAL_URL, FrontendRewrite, rewrite};
use crate::error::Error;
use crate::field::Field;

/// Hosts besides generated names.
const HOSTS: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "[::1]",
    "alice-rag.hf.space",
    "xn--bcher-kva.example",
];

/// An http(s) URL: scheme, host, maybe a port, a path, a query and a fragment.
fn url() -> impl Strategy<Value = String> {
    url_with(&["http", "https", "HTTPS"])
}

/// A URL as a file writes it in a literal: the scheme in lower case (the rewriter recognises
/// `http://` and `https://` as they are usually written, not `HTTPS://`).
fn literal_url() -> impl Strategy<Value = String> {
    url_with(&["http", "https"])
}

fn url_with(schemes: &'static [&'static str]) -> impl Strategy<Value = String> {
    (
        prop::sample::select(schemes),
        prop_oneof![
            4 => "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\\.[a-z]{2,6}){0,2}",
            1 => prop::sample::select(HOSTS).prop_map(str::to_string),
        ],
        prop::option::of(0u32..70000),
        "(/[A-Za-z0-9._~!&()*+,;=:@%-]{0,8}){0,3}/{0,2}",
        "(\\?[A-Za-z0-9=&%_/-]{0,10})?",
        "(#[A-Za-z0-9_/-]{0,6})?",
    )
        .prop_map(|(scheme, host, port, path, query, fragment)| {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            format!("{scheme}://{host}{port}{path}{query}{fragment}")
        })
}

/// What the rewriter must refuse as an API URL (the rules of `urls` and of the module).
fn refused_api_url(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return true;
    };
    !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
        || url.contains(['\'', '"', '`', '\\', '$'])
        || url.chars().any(char::is_whitespace)
}

/// A localhost URL of the kind a value names for development.
fn local_url() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["http", "https"][..]),
        prop::sample::select(&["localhost", "127.0.0.1", "0.0.0.0", "[::1]"][..]),
        prop::option::of(1u16..),
        prop::sample::select(&["", "/", "/api", "/api/"][..]),
    )
        .prop_map(|(scheme, host, port, path)| {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            format!("{scheme}://{host}{port}{path}")
        })
}

/// Names of constants, properties and keys that hold an API base URL.
const CONST_NAMES: &[&str] = &[
    "API_URL",
    "API_BASE_URL",
    "BACKEND_URL",
    "SERVER_URL",
    "apiBase",
    "baseURL",
    "API_ENDPOINT",
    "BASE_URI",
];
const PROPERTY_NAMES: &[&str] = &[
    "baseUrl",
    "apiUrl",
    "backendUrl",
    "baseURL",
    "apiBase",
    "serverOrigin",
];
/// Environment variables whose name says URL.
const ENV_NAMES: &[&str] = &[
    "REACT_APP_API_URL",
    "VITE_API_URL",
    "NEXT_PUBLIC_API_URL",
    "VITE_BACKEND_HOST",
    "API_BASE",
    "PUBLIC_SERVER_ORIGIN",
];

/// The value expression and what the model knows of it: the quote of its first non-template
/// string literal, and the localhost URL it names first.
#[derive(Debug, Clone)]
struct Value {
    text: String,
    quote: Option<char>,
    local: Option<String>,
}

fn value(indent: &'static str, multiline: bool) -> impl Strategy<Value = Value> {
    let literal = prop_oneof![literal_url(), local_url()];
    let plain = |u: &String| !u.contains(['\'', '"', '`', '\\', '$']);
    (
        0u8..7,
        prop::sample::select(&['\'', '"'][..]),
        literal,
        literal_url(),
        local_url(),
        prop::sample::select(ENV_NAMES),
    )
        .prop_filter(
            "a literal that is itself a string",
            move |(_, _, old, prod, ..)| plain(old) && plain(prod),
        )
        .prop_map(move |(form, q, old, prod, local, env)| {
            let literal = |text: String, local: Option<String>| Value {
                text,
                quote: Some(q),
                local,
            };
            let i = indent;
            match if multiline { 6 } else { form } {
                0 => literal(format!("{q}{old}{q}"), local_of(&old)),
                1 => literal(format!("process.env.{env} || {q}{old}{q}"), local_of(&old)),
                2 => literal(
                    format!("import.meta.env.{env} ?? {q}{old}{q}"),
                    local_of(&old),
                ),
                3 => Value {
                    text: format!("(import.meta.env.{env} as string)"),
                    quote: None,
                    local: None,
                },
                4 => Value {
                    text: format!("process.env.{env}"),
                    quote: None,
                    local: None,
                },
                5 => Value {
                    text: format!("`{old}`"),
                    quote: None,
                    local: local_of(&old),
                },
                _ if multiline => literal(
                    format!(
                        "process.env.NODE_ENV === {q}production{q}\n\
                         {i}{i}? {q}{prod}{q}\n{i}{i}: {q}{local}{q}"
                    ),
                    local_of(&prod).or_else(|| local_of(&local)),
                ),
                _ => literal(
                    format!(
                        "process.env.NODE_ENV === {q}production{q} ? {q}{prod}{q} : {q}{local}{q}"
                    ),
                    local_of(&prod).or_else(|| local_of(&local)),
                ),
            }
        })
}

/// The localhost URL a literal names, without its trailing `/`, when it names one.
fn local_of(url: &str) -> Option<String> {
    let pattern = r"^https?://(localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(:\d+)?(/|$)";
    let local = regex::Regex::new(pattern).is_ok_and(|pattern| pattern.is_match(url));
    local.then(|| url.trim_end_matches('/').to_string())
}

/// A frontend file cut around its value: `prefix`, the value, `suffix`.
#[derive(Debug, Clone)]
struct Case {
    prefix: String,
    value: Value,
    suffix: String,
    shape: &'static str,
    indent: &'static str,
    /// The quote of the file's other string literals.
    file_quote: char,
    /// Whether the file outside the value has string literals in `file_quote`.
    file_strings: bool,
    crlf: bool,
}

impl Case {
    fn source(&self) -> String {
        format!("{}{}{}", self.prefix, self.value.text, self.suffix)
    }

    /// The file the rewrite must give for `api_url`.
    fn expected(&self, api_url: &str) -> String {
        let q = self.value.quote.unwrap_or(if self.file_strings {
            self.file_quote
        } else {
            '\''
        });
        let line_start = self.prefix.rfind('\n').map_or(0, |i| i + 1);
        let own: String = self.prefix[line_start..]
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        // One indent unit of the file: its own, or two spaces when no line is indented.
        let indented = self
            .source()
            .lines()
            .any(|line| line.starts_with([' ', '\t']) && !line.trim().is_empty());
        let unit = if own.starts_with('\t') {
            "\t"
        } else if indented {
            self.indent
        } else {
            "  "
        };
        let indent = format!("{own}{unit}");
        let nl = if self.crlf { "\r\n" } else { "\n" };
        let local = self
            .value
            .local
            .clone()
            .unwrap_or_else(|| DEFAULT_LOCAL_URL.to_string());
        let api = api_url.trim_end_matches('/');
        format!(
            "{}(typeof window !== {q}undefined{q} && \
             (window.location.hostname === {q}localhost{q} || \
             window.location.hostname === {q}127.0.0.1{q})){nl}\
             {indent}? {q}{local}{q}{nl}{indent}: {q}{api}{q}{}",
            self.prefix, self.suffix
        )
    }
}

fn crlf(text: String, crlf: bool) -> String {
    if crlf {
        text.replace('\n', "\r\n")
    } else {
        text
    }
}

/// Lines before and after the value, with strings in the file's quote (`{Q}`), indented
/// (`{I}`).
const HEADERS: &[&str] = &[
    "",
    "// src/lib/api.ts\n",
    "import axios from {Q}axios{Q};\n\n",
    "{Q}use client{Q};\n\n",
    "/* Site configuration: the backend lives elsewhere. */\n",
];
const FOOTERS: &[&str] = &[
    "",
    "\nexport async function ask(question: string) {\n\
     {I}const res = await fetch({Q}/api/chat{Q}, { method: {Q}POST{Q} });\n\
     {I}return res.json();\n}\n",
    "\nexport default {\n{I}timeout: 15000,\n};\n",
    "\n// chat: `${API_URL}/api/chat`\nexport const chatPath = `/api/chat`;\n",
];

/// The names a file gives its value, and how it declares it.
#[derive(Debug, Clone)]
struct Names {
    constant: &'static str,
    property: &'static str,
    decl: &'static str,
    ty: &'static str,
    /// The quote around a config object's key (none, or the file's quote).
    key_quote: String,
}

/// The file around the value for `shape`: prefix, suffix and the shape's name.
fn layout(
    shape: u8,
    i: &str,
    fq: char,
    (header, footer): (&str, &str),
    semi: &str,
    names: &Names,
) -> (String, String, &'static str) {
    let Names {
        constant,
        property,
        decl,
        ty,
        key_quote: kq,
    } = names;
    match shape {
        0 => (
            format!("{header}{decl} {constant}{ty} = "),
            format!("{semi}\n{footer}"),
            "const",
        ),
        1 => (
            format!(
                "{header}class ChatApi {{\n{i}private {property}: string;\n\n\
                 {i}constructor() {{\n{i}{i}this.{property} = "
            ),
            format!("{semi}\n{i}}}\n}}\n{footer}"),
            "class-property",
        ),
        2 => (
            format!("{header}export class RagClient {{\n{i}private readonly {property} = "),
            format!(
                "{semi}\n\n{i}async ask() {{\n\
                 {i}{i}return fetch(`${{this.{property}}}/api/chat`);\n{i}}}\n}}\n{footer}"
            ),
            "class-property",
        ),
        3 => (
            format!(
                "{header}const config = {{\n{i}title: {fq}Physical AI{fq},\n{i}{kq}{property}{kq}: "
            ),
            format!(", // production backend\n{i}maxHistory: 10,\n}};\n{footer}"),
            "config-object",
        ),
        4 => (
            format!("{header}const client = axios.create({{\n{i}{property}: "),
            format!(",\n{i}timeout: 15000,\n}}){semi}\n{footer}"),
            "config-object",
        ),
        5 => (
            format!("{header}export const {constant}{ty} = "),
            format!(
                "{semi}\n\nexport const health = () => fetch(`${{{constant}}}/api/health`){semi}\n\
                 {footer}"
            ),
            "const",
        ),
        _ => (
            format!("{header}export const {constant} =\n{i}"),
            format!("{semi}\n{footer}"),
            "const",
        ),
    }
}

/// A case of a supported shape; `quoted_key`: a config object whose key is quoted (`'apiUrl':`).
fn case(quoted_key: bool) -> impl Strategy<Value = Case> {
    (
        if quoted_key {
            (3u8..4).boxed()
        } else {
            (0u8..7).boxed()
        },
        prop::sample::select(&["  ", "    ", "\t"][..]),
        prop::sample::select(&['\'', '"'][..]),
        prop::sample::select(HEADERS),
        prop::sample::select(FOOTERS),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(move |(shape, indent, fq, header, footer, semi, crlf)| {
            let names = (
                prop::sample::select(CONST_NAMES),
                prop::sample::select(PROPERTY_NAMES),
                prop::sample::select(&["const", "let", "var", "export const"][..]),
                prop::sample::select(&["", ": string"][..]),
            )
                .prop_map(move |(constant, property, decl, ty)| Names {
                    constant,
                    property,
                    decl,
                    ty,
                    key_quote: if quoted_key {
                        fq.to_string()
                    } else {
                        String::new()
                    },
                });
            (
                Just((shape, indent, fq, header, footer, semi, crlf)),
                value(indent, shape == 6),
                names,
            )
        })
        .prop_map(
            |((shape, indent, fq, header, footer, semi, is_crlf), value, names)| {
                let fill = |text: &str| text.replace("{Q}", &fq.to_string()).replace("{I}", indent);
                let semi = if semi { ";" } else { "" };
                let texts = (fill(header), fill(footer));
                let (prefix, suffix, shape_name) =
                    layout(shape, indent, fq, (&texts.0, &texts.1), semi, &names);
                let file_strings = [&prefix, &suffix].iter().any(|t| t.contains(fq));
                Case {
                    prefix: crlf(prefix, is_crlf),
                    value: Value {
                        text: crlf(value.text, is_crlf),
                        ..value
                    },
                    suffix: crlf(suffix, is_crlf),
                    shape: shape_name,
                    indent,
                    file_quote: fq,
                    file_strings,
                    crlf: is_crlf,
                }
            },
        )
}

/// Apply a unified diff (as the rewriter prints it) to `old`.
fn apply(old: &str, diff: &str) -> Result<String, String> {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let mut out = String::new();
    let mut pos = 0;
    let mut diff_lines = diff.split_inclusive('\n').peekable();
    while let Some(line) = diff_lines.next() {
        if line.starts_with("--- ") || line.starts_with("+++ ") {
            continue;
        }
        if let Some(header) = line.strip_prefix("@@ -") {
            let start: usize = header
                .split([',', ' '])
                .next()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("bad hunk header {line:?}"))?;
            let count_is_zero = header.split(' ').next().is_some_and(|r| r.ends_with(",0"));
            let target = if count_is_zero {
                start
            } else {
                start.saturating_sub(1)
            };
            while pos < target {
                out.push_str(old_lines.get(pos).ok_or("hunk past the end")?);
                pos += 1;
            }
            continue;
        }
        if line.starts_with('\\') {
            // "\ No newline at end of file": taken into account with the line before.
            continue;
        }
        let (tag, text) = line.split_at(1);
        let no_newline_next = diff_lines.peek().is_some_and(|next| next.starts_with('\\'));
        let text = if no_newline_next {
            text.strip_suffix('\n').unwrap_or(text)
        } else {
            text
        };
        match tag {
            " " | "-" => {
                let current = old_lines.get(pos).ok_or("context past the end")?;
                if *current != text {
                    return Err(format!(
                        "line {} is {current:?}, the diff says {text:?}",
                        pos + 1
                    ));
                }
                pos += 1;
                if tag == " " {
                    out.push_str(text);
                }
            }
            "+" => out.push_str(text),
            _ => return Err(format!("unexpected diff line {line:?}")),
        }
    }
    while pos < old_lines.len() {
        out.push_str(old_lines[pos]);
        pos += 1;
    }
    Ok(out)
}

/// A front end's check mode agrees with the rewrite: no diff exactly when nothing changes, and
/// the diff is the change.
fn check_agrees(path: &Path, source: &str, result: &FrontendRewrite) -> Result<(), TestCaseError> {
    prop_assert_eq!(result.changed, result.new_source != source);
    prop_assert_eq!(result.diff.is_empty(), !result.changed);
    if result.changed {
        let name = path.display();
        prop_assert!(
            result
                .diff
                .starts_with(&format!("--- a/{name}\n+++ b/{name}\n")),
            "{}",
            result.diff
        );
        let applied = apply(source, &result.diff).map_err(TestCaseError::fail)?;
        prop_assert_eq!(applied, result.new_source.clone(), "diff:\n{}", result.diff);
    }
    Ok(())
}

fn ok(result: crate::error::Result<FrontendRewrite>) -> Result<FrontendRewrite, TestCaseError> {
    result.map_err(|e| TestCaseError::fail(e.to_string()))
}

/// The property of a supported shape: the model's file, once, and the check mode agrees.
fn rewritten_as_the_model_says(
    case: &Case,
    api_url: &str,
    other_url: &str,
) -> Result<(), TestCaseError> {
    let path = Path::new("src/lib/api.ts");
    let source = case.source();
    let first = rewrite(path, &source, api_url);
    if refused_api_url(api_url) {
        let error = first.err();
        let refused = matches!(&error, Some(e @ Error::InvalidInput { .. })
            if e.field() == Some(Field::ApiUrl));
        prop_assert!(refused, "{:?}", error);
        return Ok(());
    }
    let first = ok(first)?;
    prop_assert_eq!(first.shape, case.shape);
    prop_assert_eq!(
        &first.new_source,
        &case.expected(api_url),
        "from:\n{}",
        source
    );
    check_agrees(path, &source, &first)?;

    // Again with the same URL: nothing changes.
    let again = ok(rewrite(path, &first.new_source, api_url))?;
    prop_assert!(!again.changed, "{}", again.diff);
    prop_assert_eq!(again.shape, "hostname-detection");
    prop_assert_eq!(&again.new_source, &first.new_source);
    check_agrees(path, &first.new_source, &again)?;

    // With another URL: only the production literal changes.
    if refused_api_url(other_url) {
        return Ok(());
    }
    let moved = ok(rewrite(path, &first.new_source, other_url))?;
    prop_assert_eq!(moved.shape, "hostname-detection");
    prop_assert_eq!(&moved.new_source, &case.expected(other_url));
    check_agrees(path, &first.new_source, &moved)?;
    let settled = ok(rewrite(path, &moved.new_source, other_url))?;
    prop_assert!(!settled.changed, "{}", settled.diff);
    Ok(())
}

/// Cases of the shape properties: each case rewrites four times, and the rewriter compiles its
/// patterns on every call.
fn shape_cases() -> u32 {
    (Config::default().cases / 4).max(16)
}

proptest! {
    #![proptest_config(Config::with_cases(shape_cases()))]

    #[test]
    fn a_supported_shape_is_rewritten_as_the_model_says_and_once(
        case in case(false),
        api_url in url(),
        other_url in url(),
    ) {
        rewritten_as_the_model_says(&case, &api_url, &other_url)?;
    }
}

proptest! {
    #![proptest_config(Config::with_cases(shape_cases()))]

    /// A config object whose key is quoted (`'apiUrl':`, `"apiUrl":`).
    #[test]
    fn a_quoted_config_key_is_rewritten_as_the_model_says(
        case in case(true),
        api_url in url(),
        other_url in url(),
    ) {
        rewritten_as_the_model_says(&case, &api_url, &other_url)?;
    }
}

#[test]
fn a_quoted_config_key_is_a_candidate() {
    let source = "const config = {\n  'apiUrl': 'http://a',\n};\n";
    let result = rewrite(Path::new("config.js"), source, "https://alice-rag.hf.space");
    assert!(result.is_ok(), "{result:?}");
}

proptest! {
    #[test]
    fn any_api_url_is_refused_by_the_rules_or_rewritten(
        api_url in prop_oneof![url(), any::<String>(), "[ -~]{0,30}", "https?://[ -~]{0,20}"],
    ) {
        let source = "export const API_URL = 'http://localhost:8000';\n";
        match rewrite(Path::new("a.ts"), source, &api_url) {
            Ok(result) => {
                prop_assert!(!refused_api_url(&api_url), "{:?} accepted", api_url);
                let api = api_url.trim_end_matches('/');
                let tail = format!("  : '{api}';\n");
                prop_assert!(result.new_source.ends_with(&tail), "{}", result.new_source);
            }
            Err(error) => {
                prop_assert!(refused_api_url(&api_url), "{:?}: {}", api_url, error);
                prop_assert_eq!(error.field(), Some(Field::ApiUrl));
            }
        }
    }
}

/// Pieces of frontend files, to build arbitrary ones from.
const PIECES: &[&str] = &[
    "const ",
    "let ",
    "export ",
    "API_URL",
    "baseUrl",
    "apiKey",
    "this.",
    "private ",
    "readonly ",
    " = ",
    "=",
    "==",
    "=>",
    ": ",
    ":",
    "?",
    "??",
    "||",
    "&&",
    "!",
    "+",
    ",",
    ";",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "'",
    "\"",
    "`",
    "${",
    "\\",
    "/",
    "//",
    "/*",
    "*/",
    "\n",
    "\r\n",
    " ",
    "  ",
    "\t",
    "'http://localhost:8000'",
    "\"https://old.example.com\"",
    "`https://tpl.example`",
    "'/api/chat'",
    "process.env.REACT_APP_API_URL",
    "process.env.NODE_ENV",
    "import.meta.env.VITE_API_URL",
    "window.location.hostname",
    "axios.create({",
    "function",
    "é",
    "/re[/']gex/",
    "1",
];

fn soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => prop::sample::select(PIECES).prop_map(str::to_string),
        1 => any::<String>(),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #[test]
    fn arbitrary_files_never_panic_and_a_rewrite_is_done_once(
        source in soup(),
        api_url in prop_oneof![Just("https://alice-rag.hf.space".to_string()), url()],
    ) {
        let path = Path::new("src/api.js");
        let Ok(first) = rewrite(path, &source, &api_url) else {
            return Ok(());
        };
        check_agrees(path, &source, &first)?;
        let again = ok(rewrite(path, &first.new_source, &api_url))?;
        prop_assert!(!again.changed, "from {:?}:\n{}", source, again.diff);
    }
}
