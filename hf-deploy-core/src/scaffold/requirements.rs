//! Dropping test-only requirements from `requirements.txt`.

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::field::Field;

/// Requirement names dropped by default: test runners and their plugins, coverage and test
/// helpers. Runtime libraries that tests also use (such as `httpx`) are kept.
pub const DEFAULT_TEST_REQUIREMENTS: &[&str] = &[
    "pytest",
    "pytest-*",
    "coverage",
    "tox",
    "nox",
    "hypothesis",
    "mock",
    "faker",
];

/// A requirement left out of the Space's `requirements.txt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DroppedRequirement {
    /// 1-based line where the requirement starts.
    pub line: usize,
    /// The requirement as written (its continuation lines joined with newlines).
    pub text: String,
    /// Its normalised name (PEP 503).
    pub name: String,
}

/// `requirements.txt` after [`filter_requirements`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FilteredRequirements {
    /// The kept lines, byte for byte (comments, markers, options, hashes).
    pub text: String,
    /// What was dropped, in file order.
    pub dropped: Vec<DroppedRequirement>,
    /// Files named by `-r`/`--requirement`/`-c`/`--constraint` lines, as written.
    pub includes: Vec<String>,
}

/// PEP 503 normalisation: lower case, runs of `-`, `_`, `.` become one `-`.
fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_sep = false;
        }
    }
    out
}

fn patterns(list: &[String]) -> Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for pattern in list {
        let glob = Glob::new(&normalize(pattern)).map_err(|e| {
            Error::invalid_input(
                Field::TestRequirements,
                format!("`{pattern}` is not a valid pattern ({e})"),
            )
        })?;
        builder.add(glob);
    }
    builder.build().map_err(|e| {
        Error::invalid_input(
            Field::TestRequirements,
            format!("the patterns do not compile ({e})"),
        )
    })
}

/// The project name a requirement line installs, when it names one.
fn requirement_name(logical: &str) -> Option<String> {
    // pip strips comments that start a line or follow whitespace.
    let mut content = logical;
    let bytes = logical.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            content = &logical[..i];
            break;
        }
    }
    let content = content.trim();
    if content.is_empty() || content.starts_with('-') {
        return None;
    }
    if content.contains("://") && !content.contains('@') {
        return None;
    }
    let end = content
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(content.len());
    let name = &content[..end];
    // A path like `./pkg` or `pkg.whl` is not a name.
    if name.is_empty()
        || name.starts_with('.')
        || name.ends_with(".whl")
        || name.ends_with(".zip")
        || name.ends_with(".tar.gz")
    {
        return None;
    }
    if !name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    Some(normalize(name))
}

/// The file named by a `-r`/`-c` option line.
fn include_of(logical: &str) -> Option<String> {
    let content = logical.trim();
    for option in ["--requirement", "--constraint", "-r", "-c"] {
        if let Some(rest) = content.strip_prefix(option) {
            let rest = rest.strip_prefix('=').unwrap_or(rest);
            if !(rest.starts_with(char::is_whitespace)
                || content.starts_with("--")
                || option.len() == 2)
            {
                continue;
            }
            let file = rest.split_whitespace().next()?;
            if file.starts_with('#') {
                return None;
            }
            return Some(file.to_string());
        }
    }
    None
}

/// The characters that end a line for pip, which reads a requirements file with Python's
/// `str.splitlines`: `\n`, `\r` (alone or before `\n`), and seven more.
const PIP_LINE_BREAKS: [char; 10] = [
    '\n', '\r', '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}', '\u{2029}',
];

/// `text` cut into lines as `str.splitlines(keepends=True)` does (`\r\n` is one break).
fn pip_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if !PIP_LINE_BREAKS.contains(&c) {
            continue;
        }
        let mut end = at + c.len_utf8();
        if c == '\r' && chars.peek().is_some_and(|&(_, next)| next == '\n') {
            chars.next();
            end += 1;
        }
        lines.push(&text[start..end]);
        start = end;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// The logical lines of a requirements file split into `lines`: `(first, end, text)`, the
/// physical lines `first..end` joined where a line ends in a backslash (a comment line does not
/// continue, even when it ends in one).
fn logical_lines<'a>(lines: &'a [&'a str]) -> impl Iterator<Item = (usize, usize, String)> + 'a {
    let mut i = 0;
    std::iter::from_fn(move || {
        if i >= lines.len() {
            return None;
        }
        let start = i;
        let mut logical = String::new();
        loop {
            // A U+FEFF starting a line reads as the BOM it becomes once the lines before it
            // are dropped, so that filtering again changes nothing.
            let line = lines[i]
                .trim_end_matches(PIP_LINE_BREAKS)
                .trim_start_matches('\u{feff}');
            i += 1;
            let is_comment = line.trim_start().starts_with('#');
            match line.strip_suffix('\\') {
                Some(head) if !is_comment && i < lines.len() => {
                    logical.push_str(head);
                    logical.push(' ');
                }
                _ => {
                    logical.push_str(
                        line.strip_suffix('\\')
                            .filter(|_| !is_comment)
                            .unwrap_or(line),
                    );
                    break;
                }
            }
        }
        Some((start, i, logical))
    })
}

/// The first line of a requirements file that pip could not read as a requirement, roughly by
/// PEP 508 (a name, `[extras]`, version specifiers or `@ URL`, `; marker`), a URL, a path or an
/// archive, or a pip option line (`-r`, `-c`, `-e`, `--index-url`, ...): its 1-based number and
/// what is wrong. Permissive: what pip reads is accepted, and only shapes it refuses are named.
pub(crate) fn first_bad_line(text: &str) -> Option<(usize, String)> {
    let lines = pip_lines(text.strip_prefix('\u{feff}').unwrap_or(text));
    logical_lines(&lines).find_map(|(start, _, logical)| {
        requirement_problem(without_comment(&logical).trim()).map(|problem| (start + 1, problem))
    })
}

/// `logical` without its comment: pip strips a `#` that starts the line or follows whitespace.
fn without_comment(logical: &str) -> &str {
    let bytes = logical.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &logical[..i];
        }
    }
    logical
}

/// What keeps `content` (a logical line without its comment, trimmed) from being a line of a
/// requirements file, or `None`.
fn requirement_problem(content: &str) -> Option<String> {
    if content.is_empty() {
        return None;
    }
    let first = content.split_whitespace().next().unwrap_or(content);
    if let Some(option) = content.strip_prefix('-') {
        let long = option.strip_prefix('-');
        let ok = match long {
            Some(name) => name.starts_with(|c: char| c.is_ascii_alphabetic()),
            None => option.starts_with(|c: char| c.is_ascii_alphabetic()),
        };
        return (!ok).then(|| format!("`{}` is not a pip option", clip(first)));
    }
    let archive = [".whl", ".zip", ".tar.gz", ".tar.bz2", ".tgz"]
        .iter()
        .any(|end| first.ends_with(end));
    if first.contains("://")
        || first.starts_with("file:")
        || first.starts_with(['.', '/', '~', '$'])
        || archive
    {
        return None;
    }
    let name_end = content
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(content.len());
    let name = &content[..name_end];
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !name.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Some(
            "it does not start with a project name (letters, digits, `-`, `_`, `.`)".into(),
        );
    }
    let after = |what: &str| format!("after `{}`, {what}", clip(name));
    let mut rest = content[name_end..].trim_start();
    if let Some(extras) = rest.strip_prefix('[') {
        let Some((list, tail)) = extras.split_once(']') else {
            return Some(after("`[` opens extras that `]` does not close"));
        };
        let names_ok = list.split(',').map(str::trim).all(|e| {
            e.is_empty()
                || e.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        });
        if !names_ok {
            return Some(after("the extras are not names separated by commas"));
        }
        rest = tail.trim_start();
    }
    if let Some(url) = rest.strip_prefix('@') {
        let url = url.trim_start();
        let token = url.split_whitespace().next().unwrap_or("");
        if !(token.contains("://") || token.starts_with("file:")) {
            return Some(after("`@` is not followed by a URL"));
        }
        rest = url[token.len()..].trim_start();
    } else {
        rest = match specifiers(rest) {
            Ok(tail) => tail,
            Err(problem) => return Some(after(&problem)),
        };
    }
    if rest.is_empty() || rest.starts_with("--") {
        return None;
    }
    match rest.strip_prefix(';') {
        Some(marker) if !marker.trim().is_empty() => None,
        Some(_) => Some(after("`;` is followed by no environment marker")),
        None => Some(after(
            "expected a version specifier (`==1.0`, `>=1,<2`), `[extras]`, `@ URL` or `; marker`",
        )),
    }
}

/// The version specifiers at the start of `text` (`>=1,<2`, or in parentheses): what follows
/// them, or what is wrong.
fn specifiers(text: &str) -> std::result::Result<&str, String> {
    const OPERATORS: [&str; 8] = ["===", "~=", "==", "!=", "<=", ">=", "<", ">"];
    let (mut rest, closing) = match text.strip_prefix('(') {
        Some(inner) => (inner.trim_start(), true),
        None => (text, false),
    };
    let mut first = true;
    loop {
        let Some(op) = OPERATORS.iter().find(|op| rest.starts_with(**op)) else {
            if first && !closing {
                return Ok(rest);
            }
            return Err(
                "a comparison (`==`, `>=`, `~=`, ...) is missing in the version specifiers".into(),
            );
        };
        let version = rest[op.len()..].trim_start();
        let allowed = |c: char| {
            if *op == "===" {
                !c.is_whitespace() && !matches!(c, ',' | ';' | ')')
            } else {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '*' | '+' | '!' | '-' | '_')
            }
        };
        let end = version.find(|c: char| !allowed(c)).unwrap_or(version.len());
        if end == 0 {
            return Err(format!("`{op}` is not followed by a version"));
        }
        rest = version[end..].trim_start();
        first = false;
        match rest.strip_prefix(',') {
            Some(more) => rest = more.trim_start(),
            None => break,
        }
    }
    if closing {
        return rest
            .strip_prefix(')')
            .map(str::trim_start)
            .ok_or_else(|| "`(` opens version specifiers that `)` does not close".to_string());
    }
    Ok(rest)
}

/// At most 40 characters of `text`, for a message.
fn clip(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Drop the requirements whose (normalised) name matches one of `test_requirements`
/// (`*` wildcards allowed). Comments, blank lines, options (`-r`, `-c`, `--index-url`, ...),
/// environment markers and hashes of kept requirements stay exactly as written; a dropped
/// requirement's backslash-continued lines (`--hash=...`) go with it.
///
/// # Errors
///
/// [`Error::InvalidInput`] (`test_requirements`) for a pattern that does not compile.
pub(crate) fn filter_requirements(
    text: &str,
    test_requirements: &[String],
) -> Result<FilteredRequirements> {
    let set = patterns(test_requirements)?;
    let mut kept = String::with_capacity(text.len());
    let mut dropped = Vec::new();
    let mut includes = Vec::new();

    // pip decodes a leading BOM away; it stays in the file as it was.
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    kept.push_str(&text[..text.len() - body.len()]);
    let lines = pip_lines(body);
    for (start, i, logical) in logical_lines(&lines) {
        let physical = &lines[start..i];
        if let Some(file) = include_of(&logical) {
            includes.push(file);
        }
        match requirement_name(&logical) {
            Some(name) if set.is_match(&name) => dropped.push(DroppedRequirement {
                line: start + 1,
                text: physical
                    .iter()
                    .map(|l| l.trim_end_matches(PIP_LINE_BREAKS))
                    .collect::<Vec<_>>()
                    .join("\n"),
                name,
            }),
            _ => physical.iter().for_each(|l| kept.push_str(l)),
        }
    }
    Ok(FilteredRequirements {
        text: kept,
        dropped,
        includes,
    })
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Vec<String> {
        DEFAULT_TEST_REQUIREMENTS
            .iter()
            .map(|s| (*s).to_string())
            .collect()
    }

    #[test]
    fn drops_test_tools_and_keeps_comments_markers_and_runtime() {
        let text = "# Runtime\nfastapi>=0.115,<1\nhttpx>=0.27\ntomli>=2; python_version < \"3.11\"\n\n# Test-only\npytest>=8,<10\npytest-asyncio>=0.23\npytest_cov[toml]>=5  # coverage\nCoverage==7.0\n";
        let out = filter_requirements(text, &defaults()).unwrap();
        assert_eq!(
            out.text,
            "# Runtime\nfastapi>=0.115,<1\nhttpx>=0.27\ntomli>=2; python_version < \"3.11\"\n\n# Test-only\n"
        );
        let names: Vec<_> = out
            .dropped
            .iter()
            .map(|d| (d.line, d.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                (7, "pytest"),
                (8, "pytest-asyncio"),
                (9, "pytest-cov"),
                (10, "coverage")
            ]
        );
        assert_eq!(out.dropped[2].text, "pytest_cov[toml]>=5  # coverage");
    }

    #[test]
    fn a_dropped_requirement_takes_its_hash_lines_along() {
        let text = "fastapi==0.115.0 \\\n    --hash=sha256:aaa \\\n    --hash=sha256:bbb\npytest==8.3.0 \\\n    --hash=sha256:ccc \\\n    --hash=sha256:ddd\nuvicorn==0.30.0 \\\n    --hash=sha256:eee\n";
        let out = filter_requirements(text, &defaults()).unwrap();
        assert_eq!(
            out.text,
            "fastapi==0.115.0 \\\n    --hash=sha256:aaa \\\n    --hash=sha256:bbb\nuvicorn==0.30.0 \\\n    --hash=sha256:eee\n"
        );
        assert_eq!(out.dropped.len(), 1);
        assert_eq!(out.dropped[0].line, 4);
        assert_eq!(
            out.dropped[0].text,
            "pytest==8.3.0 \\\n    --hash=sha256:ccc \\\n    --hash=sha256:ddd"
        );
    }

    #[test]
    fn options_and_includes_are_kept_and_reported() {
        let text = "-r base.txt\n--constraint=constraints.txt\n-c  pins.txt\n--index-url https://pypi.org/simple\n-e git+https://example.com/pytest-thing.git#egg=pytest-thing\n./local-pkg\nhttps://example.com/pytest.whl\nmock==5\n";
        let out = filter_requirements(text, &defaults()).unwrap();
        assert_eq!(out.includes, ["base.txt", "constraints.txt", "pins.txt"]);
        assert_eq!(
            out.text,
            "-r base.txt\n--constraint=constraints.txt\n-c  pins.txt\n--index-url https://pypi.org/simple\n-e git+https://example.com/pytest-thing.git#egg=pytest-thing\n./local-pkg\nhttps://example.com/pytest.whl\n"
        );
        assert_eq!(out.dropped[0].name, "mock");
    }

    #[test]
    fn names_are_matched_whole_and_normalised() {
        let text = "pytestify==1\nmy-pytest==1\nPyTest.Mock>=3\ntox-ini==1\nnox\npytest @ https://example.com/p.whl\n";
        let out = filter_requirements(text, &defaults()).unwrap();
        assert_eq!(out.text, "pytestify==1\nmy-pytest==1\ntox-ini==1\n");
        let names: Vec<_> = out.dropped.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["pytest-mock", "nox", "pytest"]);
    }

    #[test]
    fn lines_pip_reads_pass_and_others_are_named() {
        let good = "# Runtime\nfastapi>=0.115,<1\nuvicorn[standard]\npsycopg[binary]>=3.2,<4\ntomli>=2; python_version < \"3.11\"\nhuggingface_hub>=1.0\nfoo (>=1.0, <2)\nbar===weird!build\nbaz == 1.*\nqux~=1.4.2 ; sys_platform == 'linux'\npkg @ https://example.com/p.whl ; python_version >= '3.9'\nfastapi==0.115.0 \\\n    --hash=sha256:aaa\n-r base.txt\n--index-url https://pypi.org/simple\n-e git+https://example.com/x.git#egg=x\n./local-pkg\nhttps://example.com/pytest.whl\ndist/x-1.0.tar.gz\n\n  # indented comment\nname1.0-x_y  # a comment\n";
        assert_eq!(first_bad_line(good), None);
        for (text, line, says) in [
            (
                "fastapi\nthis is === not a requirement <<<\n",
                2,
                "after `this`, expected a version specifier",
            ),
            ("fastapi==\n", 1, "`==` is not followed by a version"),
            ("x[a\n", 1, "does not close"),
            ("x @ not-a-url\n", 1, "not followed by a URL"),
            ("x>=1,\n", 1, "a comparison"),
            ("<3\n", 1, "does not start with a project name"),
            ("x (>=1\n", 1, "`)` does not close"),
            ("x>=1;\n", 1, "no environment marker"),
            ("a\nb\n-\n", 3, "is not a pip option"),
        ] {
            let (at, problem) = first_bad_line(text).expect(text);
            assert_eq!(at, line, "{text}");
            assert!(problem.contains(says), "{text}: {problem}");
        }
    }

    #[test]
    fn custom_list_and_crlf() {
        let text = "fastapi\r\nblack==24\r\nruff\r\n";
        let out = filter_requirements(text, &["black".into(), "ru*".into()]).unwrap();
        assert_eq!(out.text, "fastapi\r\n");
        assert_eq!(out.dropped.len(), 2);
        let none = filter_requirements(text, &[]).unwrap();
        assert_eq!(none.text, text);
    }

    #[test]
    fn no_trailing_newline_and_comment_with_backslash() {
        let text = "# a comment \\\npytest\nfastapi";
        let out = filter_requirements(text, &defaults()).unwrap();
        assert_eq!(out.text, "# a comment \\\nfastapi");
    }
}
