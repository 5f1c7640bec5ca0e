//! Property tests of the requirements filter.
//!
//! Two kinds of input. Requirements files written from a grammar (names spelled in any case
//! with any run of `-`, `_` and `.`, extras, versions, markers, direct references, comments,
//! options with their includes, URLs and paths, hash lines continued with a backslash, blank
//! lines, LF or CRLF): a model written here says which entries name a test-only project (PEP 503
//! normalisation and `*` wildcards of its own), and the filter must drop exactly those, keep
//! every other line byte for byte, and report each include. And arbitrary text (pieces of
//! requirements, backslashes, line ends, arbitrary strings): the filter never panics, every
//! line is either kept byte for byte or part of a dropped entry, a dropped name matches a
//! pattern, and filtering again changes nothing.
//!
//! Lines are split as pip splits them, with Python's `str.splitlines` (a lone CR, form feed,
//! U+2028...), and a leading BOM is not part of the first name: a property for such files and a
//! unit test of each smallest input.
//!
//! The case count is proptest's `PROPTEST_CASES` (default 256). The long mode:
//!
//! ```text
//! PROPTEST_CASES=1000000 cargo test -p hf-deploy-core --release --lib scaffold::requirements::proptests -- --test-threads 1
//! ```
//!
//! A failing case is kept in `hf-deploy-core/proptest-regressions/` and replayed first on every
//! later run; commit that file with the fix.

use proptest::prelude::*;

use super::{DEFAULT_TEST_REQUIREMENTS, filter_requirements};

/// Project names, test-only and not, and names that only look like test tools.
const NAMES: &[&str] = &[
    "pytest",
    "pytest-asyncio",
    "pytest-cov",
    "pytest-mock",
    "coverage",
    "tox",
    "nox",
    "hypothesis",
    "mock",
    "faker",
    "black",
    "ruff",
    "fastapi",
    "uvicorn",
    "httpx",
    "pydantic-settings",
    "qdrant-client",
    "google-generativeai",
    "pytestify",
    "my-pytest",
    "tox-ini",
    "mockito",
    "py-test",
    "nose2",
    "a",
    "x1",
];

/// Test requirement patterns a user may give (the plan allows letters, digits, `-_.*`).
const PATTERNS: &[&str] = &[
    "pytest", "pytest-*", "pytest_*", "PyTest.*", "black", "ru*", "*-mock", "*cov*", "mock",
    "Faker", "tox", "nox*", "*test*", "py_test", "x1", "a",
];

/// PEP 503: lower case, every run of `-`, `_`, `.` is one `-` (written apart from the filter's).
fn pep503(name: &str) -> String {
    let mut out = String::new();
    let mut pending = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            pending = true;
            continue;
        }
        if pending {
            out.push('-');
            pending = false;
        }
        out.push(c.to_ascii_lowercase());
    }
    if pending {
        out.push('-');
    }
    out
}

/// `*` matches any run of characters, everything else itself.
fn wildcard(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    // matches[j]: pattern[..i] matches name[..j].
    let mut matches = vec![false; name.len() + 1];
    matches[0] = true;
    for &p in &pattern {
        let mut next = vec![false; name.len() + 1];
        if p == '*' {
            let mut seen = false;
            for j in 0..=name.len() {
                seen |= matches[j];
                next[j] = seen;
            }
        } else {
            for j in 1..=name.len() {
                next[j] = matches[j - 1] && name[j - 1] == p;
            }
        }
        matches = next;
    }
    matches[name.len()]
}

fn is_test_only(name: &str, patterns: &[String]) -> bool {
    let name = pep503(name);
    patterns.iter().any(|p| wildcard(&pep503(p), &name))
}

/// A name spelled with any case and any run of `-`, `_`, `.` between its words.
fn spelled(name: &'static str) -> impl Strategy<Value = String> {
    let words: Vec<&'static str> = name.split('-').collect();
    let n = words.len();
    (
        prop::collection::vec(
            prop::sample::select(&["-", "_", ".", "--", "_.", "-_-"][..]),
            n,
        ),
        prop::collection::vec(any::<bool>(), name.len()),
    )
        .prop_map(move |(separators, upper)| {
            let mut out = String::new();
            for (i, word) in words.iter().enumerate() {
                if i > 0 {
                    out.push_str(separators[i]);
                }
                out.push_str(word);
            }
            out.chars()
                .zip(upper.iter().chain(std::iter::repeat(&false)))
                .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
                .collect()
        })
}

/// pip's archive extensions: a requirement ending in one is a file, not a name.
fn is_archive(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        ".zip",
        ".whl",
        ".tar.bz2",
        ".tbz",
        ".tar.xz",
        ".txz",
        ".tlz",
        ".tar.lz",
        ".tar.lzma",
        ".tar.gz",
        ".tgz",
        ".tar",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext))
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(NAMES).prop_flat_map(spelled),
        1 => "[A-Za-z][A-Za-z0-9._-]{0,8}[A-Za-z0-9]".prop_filter(
            "pip reads a name with an archive's extension as a path",
            |name| !is_archive(name),
        ),
    ]
}

/// One logical entry of a requirements file: its physical lines (without line ends), the name
/// it installs (none for comments, options, URLs and paths) and the file it includes.
#[derive(Debug, Clone)]
struct Entry {
    lines: Vec<String>,
    name: Option<String>,
    include: Option<String>,
}

fn requirement() -> impl Strategy<Value = Entry> {
    (
        name(),
        "[ \t]{0,2}",
        prop::sample::select(&["", "[toml]", "[a,b]", "[ standard ]"][..]),
        prop::sample::select(
            &[
                "",
                "==1.0",
                ">=8,<10",
                " >= 0.115 , < 1",
                "~=2.1",
                "!=3",
                "===1.0+local",
                "==1.*",
            ][..],
        ),
        prop::sample::select(
            &[
                "",
                "; python_version < \"3.11\"",
                " ; sys_platform == 'win32' and extra == \"x\"",
            ][..],
        ),
        prop::sample::select(&["", "  # pinned", "\t# pytest plugin", " #"][..]),
        0usize..3,
        any::<bool>(),
    )
        .prop_map(
            |(name, lead, extras, spec, marker, comment, hashes, split)| {
                let mut lines = Vec::new();
                if split && !spec.is_empty() {
                    // The specifier on a continuation line.
                    lines.push(format!("{lead}{name}{extras} \\"));
                    lines.push(format!("    {spec}{marker}"));
                } else {
                    lines.push(format!("{lead}{name}{extras}{spec}{marker}"));
                }
                for h in 0..hashes {
                    let last = lines.len() - 1;
                    lines[last].push_str(" \\");
                    lines.push(format!("    --hash=sha256:{h:064x}"));
                }
                let last = lines.len() - 1;
                lines[last].push_str(comment);
                Entry {
                    lines,
                    name: Some(name),
                    include: None,
                }
            },
        )
}

fn direct_reference() -> impl Strategy<Value = Entry> {
    (
        name(),
        prop::sample::select(
            &[
                " @ https://example.com/pkg-1.0-py3-none-any.whl",
                "@ git+https://github.com/org/repo.git@v1",
                " @ file:///wheels/pkg.tar.gz",
            ][..],
        ),
    )
        .prop_map(|(name, reference)| Entry {
            lines: vec![format!("{name}{reference}")],
            name: Some(name),
            include: None,
        })
}

fn comment() -> impl Strategy<Value = Entry> {
    prop_oneof![
        prop::sample::select(
            &[
                "# Runtime",
                "# pytest",
                "#pytest==8",
                "  # test tools \\",
                "## mock",
                "#",
                "# a comment \\",
            ][..]
        )
        .prop_map(str::to_string),
        "#[ -~]{0,20}",
    ]
    .prop_map(|line| Entry {
        lines: vec![line],
        name: None,
        include: None,
    })
}

fn blank() -> impl Strategy<Value = Entry> {
    prop::sample::select(&["", " ", "\t", "   "][..]).prop_map(|line| Entry {
        lines: vec![line.to_string()],
        name: None,
        include: None,
    })
}

fn option() -> impl Strategy<Value = Entry> {
    let include = (
        prop::sample::select(
            &[
                "-r ",
                "-r  ",
                "--requirement ",
                "--requirement=",
                "-c ",
                "--constraint ",
                "--constraint=",
                "-r",
                "-c",
            ][..],
        ),
        prop::sample::select(
            &[
                "base.txt",
                "requirements/prod.txt",
                "pytest.txt",
                "../constraints.txt",
            ][..],
        ),
        prop::sample::select(&["", "  # shared pins"][..]),
    )
        .prop_map(|(option, file, comment)| Entry {
            lines: vec![format!("{option}{file}{comment}")],
            name: None,
            include: Some(file.to_string()),
        });
    let other = prop::sample::select(
        &[
            "--index-url https://pypi.org/simple",
            "-i https://pypi.org/simple",
            "--extra-index-url https://pytest.example/simple",
            "-e git+https://github.com/pytest-dev/pytest.git#egg=pytest",
            "-e ./pytest-plugin",
            "--editable .",
            "-f https://download.example/pytest/",
            "--find-links ./wheels",
            "--trusted-host pytest.example",
            "--pre",
            "--prefer-binary",
            "--only-binary :all:",
            "--no-binary pytest",
        ][..],
    )
    .prop_map(|line| Entry {
        lines: vec![line.to_string()],
        name: None,
        include: None,
    });
    prop_oneof![include, other]
}

fn url_or_path() -> impl Strategy<Value = Entry> {
    prop::sample::select(
        &[
            "https://example.com/pytest-8.0-py3-none-any.whl",
            "http://example.com/mock-5.0.tar.gz",
            "git+https://github.com/pytest-dev/pytest.git#egg=pytest",
            "git+https://github.com/org/mock.git@main#egg=mock",
            "file:///wheels/pytest-8.0-py3-none-any.whl",
            "./pytest-plugin",
            "../libs/mock",
            ".",
            "pytest-8.0-py3-none-any.whl",
            "mock-1.0.zip",
            "faker-2.0.tar.gz",
        ][..],
    )
    .prop_map(|line| Entry {
        lines: vec![line.to_string()],
        name: None,
        include: None,
    })
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        8 => requirement(),
        1 => direct_reference(),
        2 => comment(),
        2 => blank(),
        2 => option(),
        1 => url_or_path(),
    ]
}

fn patterns() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        2 => Just(DEFAULT_TEST_REQUIREMENTS.iter().map(|s| (*s).to_string()).collect()),
        1 => prop::collection::vec(prop::sample::select(PATTERNS).prop_map(str::to_string), 0..4),
    ]
}

/// A file: its entries and, per physical line, the line end (`\n` or `\r\n`; the last line may
/// have none).
#[derive(Debug, Clone)]
struct File {
    entries: Vec<Entry>,
    crlf: Vec<bool>,
    final_newline: bool,
}

impl File {
    fn text(&self) -> String {
        let lines: Vec<&String> = self.entries.iter().flat_map(|e| &e.lines).collect();
        let mut out = String::new();
        for (i, line) in lines.iter().enumerate() {
            out.push_str(line);
            // An empty last line is a line only with its line end.
            if i + 1 < lines.len() || self.final_newline || line.is_empty() {
                out.push_str(if self.crlf[i % self.crlf.len()] {
                    "\r\n"
                } else {
                    "\n"
                });
            }
        }
        out
    }
}

fn file() -> impl Strategy<Value = File> {
    (
        prop::collection::vec(entry(), 0..12),
        prop::collection::vec(prop::bool::weighted(0.3), 1..8),
        prop::bool::weighted(0.8),
    )
        .prop_map(|(entries, crlf, final_newline)| File {
            entries,
            crlf,
            final_newline,
        })
}

/// Pieces of requirements files, to build arbitrary text from.
const PIECES: &[&str] = &[
    "pytest",
    "PyTest_Cov",
    "mock",
    "fastapi",
    "==1.0",
    "[x]",
    "; python_version<'3'",
    " @ ",
    "https://",
    "git+ssh://git@host/x.git",
    "@",
    "-r",
    "--requirement",
    "--constraint=",
    "-c",
    "-e",
    "--hash=sha256:00",
    " ",
    "\t",
    "#",
    " # ",
    "\\",
    " \\",
    "\n",
    "\r\n",
    "\r",
    ".",
    "-",
    "_",
    "*",
    ".whl",
    ".tar.gz",
    "./",
    "\u{feff}",
    "é",
];

fn arbitrary_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => prop::sample::select(PIECES).prop_map(str::to_string),
        2 => prop::sample::select(NAMES).prop_map(str::to_string),
        1 => any::<String>(),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

/// Every physical line of `text` is kept byte for byte or belongs to one dropped entry, and
/// what was kept and dropped is consistent with the patterns; returns the kept text.
/// Python's `str.splitlines(keepends=True)`, written apart from the filter's: `\r\n`, `\n`
/// and every break of [`PIP_LINE_BREAKS`] end a line.
fn splitlines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let cut = rest
            .char_indices()
            .find_map(|(i, c)| {
                let after = &rest[i..];
                if after.starts_with("\r\n") {
                    Some(i + 2)
                } else if c == '\n' || PIP_LINE_BREAKS.iter().any(|b| after.starts_with(b)) {
                    Some(i + c.len_utf8())
                } else {
                    None
                }
            })
            .unwrap_or(rest.len());
        lines.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    lines
}

/// A line of [`splitlines`] without its line break.
fn without_break(line: &str) -> &str {
    line.strip_suffix("\r\n")
        .or_else(|| line.strip_suffix('\n'))
        .or_else(|| PIP_LINE_BREAKS.iter().find_map(|b| line.strip_suffix(b)))
        .unwrap_or(line)
}

fn check_partition(text: &str, patterns: &[String]) -> Result<String, TestCaseError> {
    let out = filter_requirements(text, patterns)
        .map_err(|e| TestCaseError::fail(format!("filter: {e}")))?;
    // pip's reading: a leading BOM decoded away (the filter keeps it in place), lines cut
    // by `str.splitlines`.
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines = splitlines(body);
    let mut kept = text[..text.len() - body.len()].to_string();
    let mut dropped = out.dropped.iter().peekable();
    let mut i = 0;
    while i < lines.len() {
        match dropped.peek() {
            Some(d) if d.line == i + 1 => {
                let n = d.text.split('\n').count();
                prop_assert!(i + n <= lines.len(), "dropped {:?} runs past the end", d);
                let physical: Vec<&str> =
                    lines[i..i + n].iter().map(|l| without_break(l)).collect();
                prop_assert_eq!(&d.text, &physical.join("\n"));
                prop_assert!(
                    patterns.iter().any(|p| wildcard(&pep503(p), &d.name)),
                    "dropped {:?}, which no pattern matches",
                    d
                );
                prop_assert_eq!(&pep503(&d.name), &d.name, "the name is not normalised");
                i += n;
                dropped.next();
            }
            _ => {
                kept.push_str(lines[i]);
                i += 1;
            }
        }
    }
    prop_assert!(
        dropped.next().is_none(),
        "dropped entries out of order or past the end: {:?}",
        out.dropped
    );
    prop_assert_eq!(&out.text, &kept);
    Ok(out.text)
}

proptest! {
    #[test]
    fn drops_exactly_the_test_only_entries_and_keeps_the_rest_byte_for_byte(
        file in file(),
        patterns in patterns(),
    ) {
        let text = file.text();
        let out = filter_requirements(&text, &patterns)
            .map_err(|e| TestCaseError::fail(format!("filter: {e}")))?;

        // The model: entry by entry, kept or dropped, with its first line number.
        let mut expected_text = String::new();
        let mut expected_dropped = Vec::new();
        let mut expected_includes = Vec::new();
        let physical: Vec<&str> = text.split_inclusive('\n').collect();
        let mut line = 0;
        for entry in &file.entries {
            let n = entry.lines.len();
            let drop = entry.name.as_deref().is_some_and(|name| is_test_only(name, &patterns));
            if drop {
                let name = pep503(entry.name.as_deref().unwrap_or_default());
                expected_dropped.push((line + 1, entry.lines.join("\n"), name));
            } else {
                physical[line..line + n].iter().for_each(|l| expected_text.push_str(l));
            }
            expected_includes.extend(entry.include.clone());
            line += n;
        }
        let dropped: Vec<(usize, String, String)> = out
            .dropped
            .iter()
            .map(|d| (d.line, d.text.clone(), d.name.clone()))
            .collect();
        prop_assert_eq!(dropped, expected_dropped, "in:\n{}", text);
        prop_assert_eq!(&out.text, &expected_text);
        prop_assert_eq!(&out.includes, &expected_includes);

        // Idempotent: nothing more to drop.
        let again = filter_requirements(&out.text, &patterns)
            .map_err(|e| TestCaseError::fail(format!("filter: {e}")))?;
        prop_assert_eq!(&again.text, &out.text);
        prop_assert!(again.dropped.is_empty());
        prop_assert_eq!(again.includes, out.includes);
    }
}

proptest! {
    #[test]
    fn arbitrary_text_is_partitioned_and_filtering_again_changes_nothing(
        text in arbitrary_text(),
        patterns in patterns(),
    ) {
        let kept = check_partition(&text, &patterns)?;
        let again = filter_requirements(&kept, &patterns)
            .map_err(|e| TestCaseError::fail(format!("filter: {e}")))?;
        prop_assert_eq!(&again.text, &kept);
        prop_assert!(again.dropped.is_empty(), "{:?}", again.dropped);
    }
}

/// The line breaks of Python's `str.splitlines`, which pip reads a requirements file with,
/// besides `\n` and `\r\n`.
const PIP_LINE_BREAKS: &[&str] = &[
    "\r", "\u{b}", "\u{c}", "\u{1c}", "\u{1d}", "\u{1e}", "\u{85}", "\u{2028}", "\u{2029}",
];

proptest! {
    /// Files as pip reads them: a leading BOM (pip decodes it away) and every line break of
    /// `str.splitlines`: a lone CR ends a line (`pytest\rfastapi` drops only `pytest`), and a
    /// BOM is not part of the first name.
    #[test]
    fn files_with_every_line_break_pip_reads(
        file in file(),
        patterns in patterns(),
        breaks in prop::collection::vec(prop::sample::select(PIP_LINE_BREAKS), 1..4),
        bom in any::<bool>(),
    ) {
        let lines: Vec<&String> = file.entries.iter().flat_map(|e| &e.lines).collect();
        let mut text = String::from(if bom { "\u{feff}" } else { "" });
        for (i, line) in lines.iter().enumerate() {
            text.push_str(line);
            text.push_str(breaks[i % breaks.len()]);
        }
        let out = filter_requirements(&text, &patterns)
            .map_err(|e| TestCaseError::fail(format!("filter: {e}")))?;
        let mut dropped: Vec<String> = out.dropped.iter().map(|d| d.name.clone()).collect();
        let mut expected: Vec<String> = file
            .entries
            .iter()
            .filter_map(|e| e.name.as_deref())
            .filter(|name| is_test_only(name, &patterns))
            .map(pep503)
            .collect();
        dropped.sort();
        expected.sort();
        prop_assert_eq!(dropped, expected, "in {:?}", text);
    }
}

fn defaults() -> Vec<String> {
    DEFAULT_TEST_REQUIREMENTS
        .iter()
        .map(|s| (*s).to_string())
        .collect()
}

#[test]
fn a_lone_cr_ends_a_line() {
    let out = filter_requirements("pytest\rfastapi\n", &defaults()).expect("filter");
    assert!(out.text.contains("fastapi"), "{out:?}");
}

#[test]
fn a_leading_bom_is_not_part_of_the_first_name() {
    let out = filter_requirements("\u{feff}pytest\n", &defaults()).expect("filter");
    assert_eq!(out.dropped.len(), 1, "{out:?}");
}

#[test]
fn the_models_normalisation_and_wildcards() {
    assert_eq!(pep503("PyTest__Asyncio"), "pytest-asyncio");
    assert_eq!(pep503("a.-_b"), "a-b");
    assert_eq!(pep503("-x-"), "-x-");
    assert!(wildcard("pytest-*", "pytest-"));
    assert!(wildcard("*cov*", "pytest-cov"));
    assert!(!wildcard("pytest-*", "pytest"));
    assert!(!wildcard("ru*", "black"));
    assert!(is_test_only("PyTest.Mock", &defaults()));
    assert!(!is_test_only("pytestify", &defaults()));
}
