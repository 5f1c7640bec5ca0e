//! Point a frontend's API client at the deployed app: today's last manual step.
//!
//! [`rewrite`] finds the one place in a frontend source file that holds the production API base
//! URL and replaces its value with hostname detection:
//!
//! ```ts
//! const API_BASE_URL = (typeof window !== 'undefined' && (window.location.hostname === 'localhost' || window.location.hostname === '127.0.0.1'))
//!   ? 'http://localhost:8000'
//!   : 'https://alice-rag.hf.space';
//! ```
//!
//! Browser code must not read `process.env` (Docusaurus and Vite do not define `process`), so the
//! rewritten value depends only on `window.location`. Everything else in the file stays
//! byte-identical: only the value expression is replaced, in the file's own quote style.
//!
//! The shapes recognised:
//!
//! * `this.baseUrl = ...` (or any API-ish property) in a class constructor, and class fields
//!   such as `private readonly baseUrl = ...`;
//! * `export const API_URL = ...`, `const API_BASE_URL = process.env.X || '...'`,
//!   `import.meta.env.VITE_API_URL ?? '...'`;
//! * a property of a config object: `{ apiUrl: '...' }`, `axios.create({ baseURL: '...' })`.
//!
//! A candidate is an assignment to an API-ish name (`api`, `base`, `url`, `backend`, `server`,
//! `endpoint`, `host`, `origin`; never `key`, `token` or `secret`) whose value holds an http(s)
//! string literal or reads an API-ish environment variable. Exactly one candidate is required:
//! zero or several is an [`Error::FrontendRewrite`] that lists what was found.

use std::path::Path;

use regex::Regex;

use crate::error::{Error, Result};
use crate::field::Field;
use crate::urls::parse_http_url;

/// The result of [`rewrite`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontendRewrite {
    /// The whole file after the rewrite (equal to the input when nothing changed).
    pub new_source: String,
    /// Unified diff (`a/<path>` -> `b/<path>`); empty when nothing changed.
    pub diff: String,
    /// Things the user should look at (e.g. `process.env` reads left in browser code).
    pub warnings: Vec<String>,
    /// True when `new_source` differs from the input.
    pub changed: bool,
    /// Which shape was found: `class-property` (`this.baseUrl = ...` or a class field),
    /// `const` (`const API_URL = ...`), `config-object` (`{ baseURL: ... }`) or
    /// `hostname-detection` (already rewritten by an earlier run: only its production URL is
    /// replaced).
    pub shape: &'static str,
}

/// The localhost URL used when the file names none.
pub(crate) const DEFAULT_LOCAL_URL: &str = "http://localhost:8000";

/// Rewrite the production API base URL in `source` to hostname detection that answers
/// `api_url` outside localhost.
///
/// `path_for_messages` only names the file in the diff header and in errors; nothing is read
/// or written. Running it again with the same `api_url` changes nothing; with another URL it
/// replaces the production URL of the already rewritten expression.
pub fn rewrite(path_for_messages: &Path, source: &str, api_url: &str) -> Result<FrontendRewrite> {
    let api_url = parse_http_url(api_url, Field::ApiUrl)?;
    if api_url.contains(['\'', '"', '`', '\\', '$']) || api_url.chars().any(char::is_whitespace) {
        return Err(Error::invalid_input_hint(
            Field::ApiUrl,
            format!("`{api_url}` holds a quote, backslash, `$` or whitespace"),
            "give the plain app URL, e.g. `https://alice-rag.hf.space`",
        ));
    }
    let lexed = Lexed::new(source);
    let candidates = find_candidates(source, &lexed);
    let candidate = match candidates.as_slice() {
        [one] => one,
        [] => {
            return Err(Error::FrontendRewrite {
                path: path_for_messages.to_path_buf(),
                reason: "found no API base URL: looked for `this.baseUrl = ...`, \
                         `const API_URL = ...` and `{ baseURL: ... }` holding an http(s) URL \
                         or an environment read such as `process.env.REACT_APP_API_URL`"
                    .into(),
            });
        }
        many => {
            let list = many
                .iter()
                .map(|c| format!("line {} `{}`", line_of(source, c.name_start), c.name))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Error::FrontendRewrite {
                path: path_for_messages.to_path_buf(),
                reason: format!(
                    "found {} candidate API URLs ({list}); keep one API base URL in the file \
                     (derive the others from it) and run again",
                    many.len()
                ),
            });
        }
    };

    let expr = &source[candidate.expr_start..candidate.expr_end];
    let quote = lexed.quote_style(source, candidate.expr_start, candidate.expr_end);
    let (replace_start, replace_end, replacement, shape) = if let Some((start, end)) =
        rewritten_production_literal(source, &lexed, candidate)
    {
        // Already hostname detection: change only the production URL, keep its quotes.
        (start + 1, end - 1, api_url.clone(), "hostname-detection")
    } else {
        let local = local_url(source, &lexed, candidate);
        let indent = continuation_indent(source, candidate.expr_start);
        let nl = if source.contains("\r\n") {
            "\r\n"
        } else {
            "\n"
        };
        let expression = format!(
            "(typeof window !== {q}undefined{q} && (window.location.hostname === {q}localhost{q} || window.location.hostname === {q}127.0.0.1{q})){nl}{indent}? {q}{local}{q}{nl}{indent}: {q}{api_url}{q}",
            q = quote
        );
        (
            candidate.expr_start,
            candidate.expr_end,
            expression,
            candidate.shape,
        )
    };

    let mut new_source = String::with_capacity(source.len() + replacement.len());
    new_source.push_str(&source[..replace_start]);
    new_source.push_str(&replacement);
    new_source.push_str(&source[replace_end..]);

    let warnings = warnings(source, &lexed, candidate, expr);
    let changed = new_source != source;
    let diff = if changed {
        let name = path_for_messages.display().to_string();
        similar::TextDiff::from_lines(source, new_source.as_str())
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{name}"), &format!("b/{name}"))
            .to_string()
    } else {
        String::new()
    };
    Ok(FrontendRewrite {
        new_source,
        diff,
        warnings,
        changed,
        shape,
    })
}

/// One place that may hold the API base URL.
#[derive(Debug)]
struct Candidate {
    name: String,
    name_start: usize,
    expr_start: usize,
    expr_end: usize,
    shape: &'static str,
}

fn regex(pattern: &str) -> Regex {
    // The patterns are literals of this module, covered by its tests.
    Regex::new(pattern).expect("frontend patterns are valid regexes")
}

fn find_candidates(source: &str, lexed: &Lexed) -> Vec<Candidate> {
    let patterns: [(Regex, &'static str); 4] = [
        (
            regex(r"\bthis\s*\.\s*([A-Za-z_$][\w$]*)\s*=[^=>]"),
            "class-property",
        ),
        (
            regex(
                r"(?m)^[ \t]*(?:(?:private|public|protected|readonly|static)\s+)+([A-Za-z_$][\w$]*)\s*(?::[^=;\n]*)?=[^=>]",
            ),
            "class-property",
        ),
        (
            regex(r"\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=;\n]*)?=[^=>]"),
            "const",
        ),
        (
            regex(
                r#"(?:^|[{,\s])(?:([A-Za-z_$][\w$]*)|'([A-Za-z_$][\w$]*)'|"([A-Za-z_$][\w$]*)")\s*:[^:]"#,
            ),
            "config-object",
        ),
    ];
    let mut found: Vec<Candidate> = Vec::new();
    for (pattern, shape) in &patterns {
        for captures in pattern.captures_iter(source) {
            let (name, quoted) = match (captures.get(1), captures.get(2).or(captures.get(3))) {
                (Some(name), _) => (name, false),
                (None, Some(name)) => (name, true),
                (None, None) => continue,
            };
            // A bare name must be code; a quoted key must be a string literal of its own
            // (the quotes around the name, in code), not a piece of a longer string.
            let in_place = if quoted {
                lexed.is_literal(name.start() - 1, name.end() + 1)
            } else {
                lexed.is_code(name.start())
            };
            if !in_place {
                continue;
            }
            // The match ends one character after the `=` or `:` that starts the value.
            let Some(whole) = captures.get(0) else {
                continue;
            };
            let text = whole.as_str();
            let last_len = text.chars().next_back().map_or(0, char::len_utf8);
            let Some(sign) = text[..text.len() - last_len].rfind(['=', ':']) else {
                continue;
            };
            let sign = whole.start() + sign;
            let Some((expr_start, expr_end)) = value_extent(source, lexed, sign) else {
                continue;
            };
            let expr = &source[expr_start..expr_end];
            if !api_name(name.as_str()) || !api_value(expr, lexed, expr_start) {
                continue;
            }
            if *shape == "config-object"
                && object_key_is_ternary_branch(source, lexed, name.start())
            {
                continue;
            }
            found.push(Candidate {
                name: name.as_str().to_string(),
                name_start: name.start(),
                expr_start,
                expr_end,
                shape,
            });
        }
    }
    found.sort_by_key(|c| (c.name_start, c.expr_start));
    found.dedup_by_key(|c| (c.expr_start, c.expr_end));
    // Keep the innermost: `const api = axios.create({ baseURL: '...' })` is the `baseURL`.
    let ranges: Vec<(usize, usize)> = found.iter().map(|c| (c.expr_start, c.expr_end)).collect();
    found.retain(|c| {
        !ranges.iter().any(|&(s, e)| {
            (s, e) != (c.expr_start, c.expr_end) && c.expr_start <= s && e <= c.expr_end
        })
    });
    found
}

/// `cond ? a : b` must not read as the object key `a`.
fn object_key_is_ternary_branch(source: &str, lexed: &Lexed, key_start: usize) -> bool {
    let before = source[..key_start]
        .char_indices()
        .rev()
        .find(|&(i, c)| lexed.is_code(i) && !c.is_whitespace());
    matches!(before, Some((_, '?')))
}

fn api_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let api_ish = [
        "api", "base", "url", "uri", "backend", "server", "endpoint", "host", "origin",
    ]
    .iter()
    .any(|word| lower.contains(word));
    let excluded = [
        "key", "token", "secret", "timeout", "version", "path", "route", "hostname",
    ]
    .iter()
    .any(|word| lower.contains(word));
    api_ish && !excluded
}

fn env_reads(text: &str) -> Vec<(usize, String)> {
    let pattern = regex(
        r#"(process\.env|import\.meta\.env)(?:\.([A-Za-z_$][\w$]*)|\[\s*['"]([^'"]+)['"]\s*\])?"#,
    );
    pattern
        .captures_iter(text)
        .filter_map(|c| {
            let whole = c.get(0)?;
            Some((whole.start(), whole.as_str().to_string()))
        })
        .collect()
}

fn api_value(expr: &str, lexed: &Lexed, offset: usize) -> bool {
    // A value with a function or object literal in it is not a URL expression.
    let has_block = expr
        .char_indices()
        .any(|(i, c)| c == '{' && lexed.is_code(offset + i))
        || expr.contains("=>")
        || expr.contains("function");
    if has_block {
        return false;
    }
    let has_url_literal = lexed
        .strings_in(offset, offset + expr.len())
        .iter()
        .any(|&(s, e)| is_http_url(&lexed.text_of(s, e)));
    let url_env = regex(r"(?i)(url|uri|host|base|endpoint|origin|server|backend)");
    let has_env = env_reads(expr).iter().any(|(i, read)| {
        lexed.is_code(offset + i) && url_env.is_match(read.split('.').next_back().unwrap_or(""))
    });
    has_url_literal || has_env
}

fn is_http_url(text: &str) -> bool {
    text.starts_with("http://") || text.starts_with("https://")
}

fn is_local_url(text: &str) -> bool {
    regex(r"^https?://(localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(:\d+)?(/|$)").is_match(text)
}

/// The extent of the value that starts after the `=` or `:` at `sign`, trimmed of whitespace
/// and trailing comments: up to `;`, `,`, a closing bracket or a line end that does not
/// continue the expression.
fn value_extent(source: &str, lexed: &Lexed, sign: usize) -> Option<(usize, usize)> {
    let bytes = source.as_bytes();
    let mut i = sign + 1;
    let mut depth: i32 = 0;
    let mut start: Option<usize> = None;
    let mut end = i;
    while i < bytes.len() {
        if !lexed.is_code(i) {
            if lexed.is_string(i) {
                start.get_or_insert(i);
                end = i + 1;
            }
            i += 1;
            continue;
        }
        let b = bytes[i];
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            b';' | b',' if depth == 0 => break,
            b'\n' if depth == 0 => {
                if let Some(s) = start {
                    let so_far = source[s..end].trim_end();
                    let open_ended = so_far.ends_with(['=', '&', '|', '?', ':', '+', '(', '!']);
                    let next = next_code_char(source, lexed, i + 1);
                    let continues = matches!(next, Some('?' | ':' | '|' | '&' | '+' | '.'));
                    if !open_ended && !continues {
                        break;
                    }
                }
            }
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            start.get_or_insert(i);
            end = i + 1;
        }
        i += 1;
    }
    let start = start?;
    (end > start).then_some((start, end))
}

fn next_code_char(source: &str, lexed: &Lexed, from: usize) -> Option<char> {
    source[from..]
        .char_indices()
        .find(|&(i, c)| {
            (lexed.is_code(from + i) || lexed.is_string(from + i)) && !c.is_whitespace()
        })
        .map(|(_, c)| c)
}

/// For an already rewritten value (hostname detection), the byte range of the production URL
/// literal, quotes included: the last string literal, right after the ternary's `:`.
fn rewritten_production_literal(
    source: &str,
    lexed: &Lexed,
    candidate: &Candidate,
) -> Option<(usize, usize)> {
    let expr = &source[candidate.expr_start..candidate.expr_end];
    if !expr.contains("window.location.hostname") {
        return None;
    }
    let strings = lexed.strings_in(candidate.expr_start, candidate.expr_end);
    let &(start, end) = strings.last()?;
    if end != candidate.expr_end {
        return None;
    }
    let before = source[candidate.expr_start..start].trim_end();
    before.ends_with(':').then_some((start, end))
}

/// The localhost URL of the value, or the only localhost origin literal of the file, or the
/// default.
fn local_url(source: &str, lexed: &Lexed, candidate: &Candidate) -> String {
    let in_value = lexed
        .strings_in(candidate.expr_start, candidate.expr_end)
        .into_iter()
        .map(|(s, e)| lexed.text_of(s, e))
        .find(|text| is_local_url(text));
    if let Some(url) = in_value {
        return url.trim_end_matches('/').to_string();
    }
    let mut in_file: Vec<String> = lexed
        .strings_in(0, source.len())
        .into_iter()
        .map(|(s, e)| lexed.text_of(s, e))
        .filter(|text| is_local_url(text))
        .filter_map(|text| url::Url::parse(&text).ok())
        .filter(|url| url.path() == "/" && url.query().is_none())
        .map(|url| url.origin().ascii_serialization())
        .collect();
    in_file.sort();
    in_file.dedup();
    match in_file.as_slice() {
        [one] => one.clone(),
        _ => DEFAULT_LOCAL_URL.to_string(),
    }
}

/// The indentation of the line holding `at`, plus one indent unit of the file.
fn continuation_indent(source: &str, at: usize) -> String {
    let line_start = source[..at].rfind('\n').map_or(0, |i| i + 1);
    let indent: String = source[line_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let unit = if indent.starts_with('\t') {
        "\t".to_string()
    } else {
        let smallest = source
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| line.chars().take_while(|c| *c == ' ').count())
            .filter(|n| *n > 0)
            .min();
        let tabs = source.lines().filter(|line| line.starts_with('\t')).count();
        let spaces = source.lines().filter(|line| line.starts_with(' ')).count();
        if tabs > spaces {
            "\t".to_string()
        } else {
            " ".repeat(match smallest {
                Some(4) => 4,
                _ => 2,
            })
        }
    };
    format!("{indent}{unit}")
}

fn line_of(source: &str, at: usize) -> usize {
    source[..at].matches('\n').count() + 1
}

fn warnings(source: &str, lexed: &Lexed, candidate: &Candidate, expr: &str) -> Vec<String> {
    let mut warnings = Vec::new();
    let replaced = candidate.expr_start..candidate.expr_end;
    for (i, read) in env_reads(expr) {
        let at = candidate.expr_start + i;
        if !lexed.is_code(at) {
            continue;
        }
        let line = line_of(source, at);
        if read.starts_with("process.env") {
            warnings.push(format!(
                "`process` is not defined in the browser: line {line} read `{read}`, which \
                 throws `ReferenceError: process is not defined` unless the bundler inlines it; \
                 it is replaced by hostname detection"
            ));
        } else {
            warnings.push(format!(
                "line {line} read `{read}`: that build-time override is gone, the API URL now \
                 depends only on the page's hostname"
            ));
        }
    }
    for (i, read) in env_reads(source) {
        if replaced.contains(&i) || !lexed.is_code(i) || !read.starts_with("process.env") {
            continue;
        }
        warnings.push(format!(
            "`process` is not defined in the browser: line {} still reads `{read}`; use a \
             value that does not need `process` (or make sure the bundler inlines it)",
            line_of(source, i)
        ));
    }
    for (s, e) in lexed.strings_in(0, source.len()) {
        if replaced.contains(&s) {
            continue;
        }
        let text = lexed.text_of(s, e);
        if is_local_url(&text) {
            warnings.push(format!(
                "line {} still uses `{text}`, outside the rewritten API URL; build it from the \
                 API URL instead",
                line_of(source, s)
            ));
        }
    }
    warnings
}

/// What each byte of the source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Code,
    Comment,
    /// Inside a string or template literal, quotes included.
    Str,
}

/// A small JavaScript/TypeScript lexer: enough to tell code from comments and strings.
struct Lexed {
    classes: Vec<Class>,
    /// String literals as byte ranges, quotes included.
    strings: Vec<(usize, usize)>,
    source: String,
}

impl Lexed {
    fn new(source: &str) -> Self {
        let bytes = source.as_bytes();
        let mut classes = vec![Class::Code; bytes.len()];
        let mut strings = Vec::new();
        let mut i = 0;
        let mut last_code: Option<u8> = None;
        while i < bytes.len() {
            let b = bytes[i];
            let next = bytes.get(i + 1).copied();
            if b == b'/' && next == Some(b'/') {
                let end = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
                classes[i..end].fill(Class::Comment);
                i = end;
            } else if b == b'/' && next == Some(b'*') {
                let end = source[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
                classes[i..end].fill(Class::Comment);
                i = end;
            } else if matches!(b, b'\'' | b'"' | b'`') {
                let mut j = i + 1;
                while j < bytes.len() {
                    match bytes[j] {
                        b'\\' => j += 1,
                        c if c == b => break,
                        b'\n' if b != b'`' => break,
                        _ => {}
                    }
                    j += 1;
                }
                let end = (j + 1).min(bytes.len());
                classes[i..end].fill(Class::Str);
                strings.push((i, end));
                last_code = Some(b'"');
                i = end;
            } else if b == b'/' && last_code.is_none_or(|c| b"(,=:[!&|?{};+-*%<>~^".contains(&c)) {
                // A regular expression literal: skip it so its quotes do not open strings.
                let mut j = i + 1;
                let mut in_class = false;
                while j < bytes.len() && bytes[j] != b'\n' {
                    match bytes[j] {
                        b'\\' => j += 1,
                        b'[' => in_class = true,
                        b']' => in_class = false,
                        b'/' if !in_class => break,
                        _ => {}
                    }
                    j += 1;
                }
                last_code = Some(b'/');
                i = (j + 1).min(bytes.len());
            } else {
                if !b.is_ascii_whitespace() {
                    last_code = Some(b);
                }
                i += 1;
            }
        }
        Lexed {
            classes,
            strings,
            source: source.to_string(),
        }
    }

    fn is_code(&self, at: usize) -> bool {
        self.classes.get(at) == Some(&Class::Code)
    }

    fn is_string(&self, at: usize) -> bool {
        self.classes.get(at) == Some(&Class::Str)
    }

    /// True when `start..end` is exactly one string literal, quotes included.
    fn is_literal(&self, start: usize, end: usize) -> bool {
        self.strings.contains(&(start, end))
    }

    /// String literals entirely inside `start..end`.
    fn strings_in(&self, start: usize, end: usize) -> Vec<(usize, usize)> {
        self.strings
            .iter()
            .copied()
            .filter(|&(s, e)| s >= start && e <= end)
            .collect()
    }

    /// The text of a string literal without its quotes.
    fn text_of(&self, start: usize, end: usize) -> String {
        let inner_end = end.saturating_sub(1).max(start + 1);
        self.source
            .get(start + 1..inner_end)
            .unwrap_or("")
            .to_string()
    }

    /// The quote to write: the value's own string quote, else the file's most used one.
    fn quote_style(&self, source: &str, start: usize, end: usize) -> char {
        let quote_of = |&(s, _): &(usize, usize)| source[s..].chars().next();
        if let Some(q) = self
            .strings_in(start, end)
            .iter()
            .filter_map(quote_of)
            .find(|q| *q != '`')
        {
            return q;
        }
        let singles = self
            .strings
            .iter()
            .filter(|r| quote_of(r) == Some('\''))
            .count();
        let doubles = self
            .strings
            .iter()
            .filter(|r| quote_of(r) == Some('"'))
            .count();
        if doubles > singles { '"' } else { '\'' }
    }
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const API: &str = "https://alice-rag.hf.space";

    fn fixture_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/frontend")
    }

    fn read(name: &str) -> String {
        let path = fixture_dir().join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The snapshot: shape, diff and warnings.
    fn snapshot_of(result: &FrontendRewrite) -> String {
        let mut out = format!("shape: {}\nchanged: {}\n", result.shape, result.changed);
        out.push_str("--- warnings\n");
        for warning in &result.warnings {
            out.push_str(&format!("- {warning}\n"));
        }
        out.push_str("--- diff\n");
        out.push_str(&result.diff);
        out
    }

    /// Rewrite a fixture, check the invariants every successful rewrite keeps, and return it.
    fn rewrite_fixture(name: &str) -> FrontendRewrite {
        let source = read(name);
        let result =
            rewrite(Path::new(name), &source, API).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Idempotent: a second run with the same URL changes nothing.
        let again = rewrite(Path::new(name), &result.new_source, API).unwrap();
        assert!(
            !again.changed,
            "{name}: second run changed:\n{}",
            again.diff
        );
        assert_eq!(again.new_source, result.new_source);
        assert_eq!(again.shape, "hostname-detection");
        // Only the value changed: every line outside the hunk is byte-identical.
        let old_lines: Vec<&str> = source.split_inclusive('\n').collect();
        let new_lines: Vec<&str> = result.new_source.split_inclusive('\n').collect();
        let kept = similar::TextDiff::from_slices(&old_lines, &new_lines)
            .iter_all_changes()
            .filter(|c| c.tag() == similar::ChangeTag::Equal)
            .count();
        assert!(
            kept + 3 >= old_lines.len(),
            "{name}: more than the value changed"
        );
        assert!(result.new_source.contains(API));
        assert!(!result.new_source[..].contains("process.env.REACT_APP_API_URL ||"));
        result
    }

    #[test]
    fn frontend_docusaurus_chat_api_class() {
        let result = rewrite_fixture("chatApi.ts");
        assert_eq!(result.shape, "class-property");
        assert!(
            result
                .warnings
                .iter()
                .any(|w| w.starts_with("`process` is not defined in the browser"))
        );
        insta::assert_snapshot!("frontend_docusaurus_chat_api_class", snapshot_of(&result));
    }

    #[test]
    fn frontend_vite_import_meta_env() {
        let result = rewrite_fixture("vite-api.ts");
        assert_eq!(result.shape, "const");
        insta::assert_snapshot!("frontend_vite_import_meta_env", snapshot_of(&result));
    }

    #[test]
    fn frontend_axios_create_config() {
        let result = rewrite_fixture("axios-client.js");
        assert_eq!(result.shape, "config-object");
        // Double quotes, no semicolons: the file's style is kept.
        assert!(result.new_source.contains("? \"http://127.0.0.1:5000\"\n"));
        insta::assert_snapshot!("frontend_axios_create_config", snapshot_of(&result));
    }

    #[test]
    fn frontend_plain_config_object() {
        let result = rewrite_fixture("config.js");
        assert_eq!(result.shape, "config-object");
        insta::assert_snapshot!("frontend_plain_config_object", snapshot_of(&result));
    }

    #[test]
    fn frontend_nextjs_public_env() {
        let result = rewrite_fixture("next-api.ts");
        assert_eq!(result.shape, "const");
        insta::assert_snapshot!("frontend_nextjs_public_env", snapshot_of(&result));
    }

    #[test]
    fn frontend_class_field_with_tabs() {
        let result = rewrite_fixture("class-field-tabs.ts");
        assert_eq!(result.shape, "class-property");
        assert!(
            result
                .new_source
                .contains("\n\t\t? 'http://localhost:8000'\n")
        );
        insta::assert_snapshot!("frontend_class_field_with_tabs", snapshot_of(&result));
    }

    #[test]
    fn frontend_already_rewritten_is_idempotent_and_takes_a_new_url() {
        let source = read("already-rewritten.ts");
        let same = rewrite(
            Path::new("src/api.ts"),
            &source,
            "https://alice-rag.hf.space/",
        )
        .unwrap();
        assert!(!same.changed);
        assert!(same.diff.is_empty());
        assert_eq!(same.new_source, source);
        assert_eq!(same.shape, "hostname-detection");

        let moved = rewrite(Path::new("src/api.ts"), &source, "https://bob-rag.hf.space").unwrap();
        assert!(moved.changed);
        assert_eq!(
            moved.new_source,
            source.replace(API, "https://bob-rag.hf.space")
        );
        insta::assert_snapshot!("frontend_already_rewritten_new_url", snapshot_of(&moved));
    }

    #[test]
    fn frontend_refuses_a_file_without_api_url() {
        let error = rewrite(Path::new("src/utils.ts"), &read("no-url.ts"), API).unwrap_err();
        assert!(matches!(error, Error::FrontendRewrite { .. }));
        assert!(error.is_usage());
        insta::assert_snapshot!("frontend_refuses_no_url", error.to_string());
    }

    #[test]
    fn frontend_refuses_two_competing_urls() {
        let error = rewrite(Path::new("src/api.js"), &read("two-urls.js"), API).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("found 2 candidate API URLs (line 3 `API_URL`, line 9 `baseURL`)"),
            "{text}"
        );
        insta::assert_snapshot!("frontend_refuses_two_urls", text);
    }

    #[test]
    fn frontend_ignores_commented_out_urls_and_api_keys() {
        let source = "// const API_URL = 'http://old.example.com';\n\
                      const API_KEY = process.env.REACT_APP_API_KEY;\n\
                      /* baseURL: 'http://older.example.com' */\n\
                      export const API_URL = 'http://localhost:8000';\n";
        let result = rewrite(Path::new("a.ts"), source, API).unwrap();
        assert!(result.new_source.starts_with(
            "// const API_URL = 'http://old.example.com';\nconst API_KEY = process.env.REACT_APP_API_KEY;\n"
        ));
        assert!(result.new_source.ends_with(&format!("  : '{API}';\n")));
        // The API key read is outside the rewrite but still crashes in a browser.
        assert!(
            result
                .warnings
                .iter()
                .any(|w| w.contains("line 2 still reads `process.env.REACT_APP_API_KEY`"))
        );
    }

    #[test]
    fn frontend_prettier_ternary_on_node_env() {
        let source = "export const API_BASE_URL =\n  process.env.NODE_ENV === 'production'\n    ? 'https://old.onrender.com'\n    : 'http://localhost:8000';\n\nexport const x = 1;\n";
        let result = rewrite(Path::new("api.ts"), source, API).unwrap();
        assert_eq!(
            result.new_source,
            "export const API_BASE_URL =\n  (typeof window !== 'undefined' && (window.location.hostname === 'localhost' || window.location.hostname === '127.0.0.1'))\n    ? 'http://localhost:8000'\n    : 'https://alice-rag.hf.space';\n\nexport const x = 1;\n"
        );
        assert!(
            result.warnings[0].contains("line 2 read `process.env.NODE_ENV`"),
            "{:?}",
            result.warnings
        );
        assert!(
            !rewrite(Path::new("api.ts"), &result.new_source, API)
                .unwrap()
                .changed
        );
    }

    #[test]
    fn frontend_env_only_value_gets_the_default_localhost() {
        let source = "const API_URL = (import.meta.env.VITE_BACKEND_URL as string);\nexport default API_URL;\n";
        let result = rewrite(Path::new("api.ts"), source, API).unwrap();
        assert!(result.new_source.contains("\n  ? 'http://localhost:8000'\n  : 'https://alice-rag.hf.space';\nexport default API_URL;\n"));
        assert_eq!(result.shape, "const");
    }

    #[test]
    fn frontend_keeps_crlf_line_endings() {
        let source = "import x from 'x';\r\nexport const API_URL = 'http://localhost:3001';\r\nexport default x;\r\n";
        let result = rewrite(Path::new("a.js"), source, API).unwrap();
        assert_eq!(
            result.new_source.matches('\n').count(),
            result.new_source.matches("\r\n").count()
        );
        assert!(
            result.new_source.contains(
                "\r\n  ? 'http://localhost:3001'\r\n  : 'https://alice-rag.hf.space';\r\n"
            )
        );
        let again = rewrite(Path::new("a.js"), &result.new_source, API).unwrap();
        assert!(!again.changed);
    }

    #[test]
    fn frontend_rejects_a_bad_api_url() {
        for bad in ["alice-rag.hf.space", "ftp://x", "https://x/'a"] {
            let error = rewrite(
                Path::new("a.ts"),
                "const API_URL = 'http://localhost:8000'\n",
                bad,
            )
            .unwrap_err();
            assert!(
                error.to_string().starts_with("invalid `api_url`"),
                "{bad}: {error}"
            );
        }
    }
}
