//! Property tests of the README front matter.
//!
//! Each case draws the user-settable fields of the front matter (title, emoji, colours, short
//! description, port, pinned, license, tags) from arbitrary strings and pieces that mean
//! something to YAML or to the front matter (`---`, `: `, `#`, quotes, anchors, tags, flow
//! brackets, YAML 1.1 booleans, line separators, a BOM, noncharacters). The options go through
//! the plan's check; a model written here apart from it says which field must be refused. An
//! accepted case is rendered with the embedded README template, and its front matter must parse
//! back (`serde_yaml_ng`) to exactly those values under exactly the expected keys, end where ours
//! ends, and pass the check a user template's README gets.
//!
//! U+FFFE and U+FFFF (not allowed raw in YAML) and U+2028 and U+2029 (line breaks to a YAML
//! 1.1 reader) are written escaped; a unit test of each smallest input keeps them so.
//!
//! The case count is proptest's `PROPTEST_CASES` (default 256). The long mode:
//!
//! ```text
//! PROPTEST_CASES=1000000 cargo test -p hf-deploy-core --release --lib scaffold::render::proptests -- --test-threads 1
//! ```
//!
//! A failing case is kept in `hf-deploy-core/proptest-regressions/` and replayed first on every
//! later run; commit that file with the fix.

use std::path::Path;

use proptest::prelude::*;
use serde_yaml_ng::Value;

use super::{README, check_front_matter, front_matter, render_embedded, split_front_matter};
use crate::field::Field;
use crate::scaffold::{
    ALLOWED_COLORS, DEFAULT_COLOR_FROM, DEFAULT_COLOR_TO, DEFAULT_EMOJI, DEFAULT_PORT, FileOrigin,
    Installer, SHORT_DESCRIPTION_MAX, ScaffoldOptions, SecretDoc, SpaceConfig, check,
};

/// Pieces that mean something to YAML, to a front matter block or to a line-based reader.
const YAML_PIECES: &[&str] = &[
    "---",
    "\n---\n",
    "...",
    ": ",
    ":",
    " #",
    "#",
    "'",
    "\"",
    "''",
    "\\",
    "\\n",
    "\\u0041",
    "- ",
    "-",
    "? ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&anchor ",
    "*anchor",
    "!!str ",
    "!tag ",
    "|",
    ">",
    "%YAML 1.2",
    "@",
    "`",
    "null",
    "~",
    "true",
    "yes",
    "No",
    "on",
    "0x1F",
    "0o17",
    "1e3",
    ".inf",
    "-.nan",
    "2025-01-01",
    "12:30:00",
    "7860",
    "title: x",
    "sdk: gradio",
    "app_port: 1",
    " ",
    "  ",
    "\t",
    "\u{a0}",
    "\u{3000}",
    "\u{85}",
    "\u{2028}",
    "\u{2029}",
    "\u{feff}",
    "\u{fffe}",
    "\u{ffff}",
    "\u{1fffe}",
    "\u{200b}",
    "\u{202e}",
    "\n",
    "\r\n",
    "\r",
    "\u{0}",
    "\u{7f}",
    "\u{1b}[31m",
    "é",
    "日本語",
    "🤖",
    "👩‍💻",
];

/// A string made of YAML pieces, arbitrary strings and plain words.
fn text(max_pieces: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(YAML_PIECES).prop_map(str::to_string),
        3 => "[A-Za-z0-9 ]{1,12}",
        2 => any::<String>(),
        1 => "[ -~]{1,8}",
    ];
    prop::collection::vec(piece, 1..=max_pieces).prop_map(|pieces| pieces.concat())
}

/// Emoji the plan accepts.
const EMOJI_OK: &[&str] = &["🤖", "🚀", "❤️", "👩‍💻", "👍🏽", "🇫🇷", "👨‍👩‍👧", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "©"];

/// Emoji, strings that are not one emoji, and characters YAML treats apart.
const EMOJI: &[&str] = &[
    "🤖",
    "🚀",
    "❤️",
    "👩‍💻",
    "👍🏽",
    "🇫🇷",
    "👨‍👩‍👧",
    "1️⃣",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
    "©",
    "\u{feff}",
    "\u{fffe}",
    "\u{2028}",
    "",
    "a",
    "🤖 ",
    "🤖🚀",
    ":rocket:",
    "🇫",
    "\u{85}",
];

fn color() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(&ALLOWED_COLORS[..]).prop_map(str::to_string),
        1 => prop::sample::select(&ALLOWED_COLORS[..]).prop_map(|c| c.to_uppercase()),
        1 => prop::sample::select(&ALLOWED_COLORS[..]).prop_map(|c| format!("{c} ")),
        1 => text(2),
    ]
}

fn description() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => text(6),
        1 => (SHORT_DESCRIPTION_MAX - 2..SHORT_DESCRIPTION_MAX + 3)
            .prop_flat_map(|n| {
                prop::collection::vec(prop_oneof![Just('é'), Just('a'), Just(':')], n)
            })
            .prop_map(|chars| chars.into_iter().collect()),
    ]
}

fn license() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(&["mit", "apache-2.0", "cc-by-4.0", "other", "bsd-3-clause"][..])
            .prop_map(str::to_string),
        2 => text(3),
    ]
}

fn options() -> impl Strategy<Value = ScaffoldOptions> {
    (
        prop::option::weighted(0.9, text(8)),
        prop::option::weighted(
            0.7,
            prop_oneof![
                3 => prop::sample::select(EMOJI).prop_map(str::to_string),
                1 => "[^\\x00-\\x7f]{1,3}",
            ],
        ),
        prop::option::weighted(0.7, color()),
        prop::option::weighted(0.7, color()),
        prop::option::weighted(0.6, description()),
        prop::option::weighted(0.7, prop_oneof![9 => 1u16.., 1 => Just(0u16)]),
        prop::option::of(any::<bool>()),
        prop::option::weighted(0.5, license()),
        prop::collection::vec(text(3), 0..4),
    )
        .prop_map(
            |(
                title,
                emoji,
                color_from,
                color_to,
                short_description,
                port,
                pinned,
                license,
                tags,
            )| {
                ScaffoldOptions {
                    title,
                    emoji,
                    color_from,
                    color_to,
                    short_description,
                    port,
                    pinned,
                    license,
                    tags,
                    ..ScaffoldOptions::default()
                }
            },
        )
}

/// The field the plan must refuse first, by the documented rules; `None` when every rule the
/// model knows is kept (the emoji rule is the plan's own, see [`emoji_refused`]).
fn first_refused(options: &ScaffoldOptions) -> Option<Field> {
    let blank_or_control = |s: &str| s.trim().is_empty() || s.chars().any(char::is_control);
    if options.title.as_deref().is_some_and(blank_or_control) {
        return Some(Field::Title);
    }
    if emoji_refused(options.emoji.as_deref()) {
        return Some(Field::Emoji);
    }
    for (field, value) in [
        (Field::ColorFrom, &options.color_from),
        (Field::ColorTo, &options.color_to),
    ] {
        if value
            .as_deref()
            .is_some_and(|c| !ALLOWED_COLORS.contains(&c))
        {
            return Some(field);
        }
    }
    if let Some(description) = &options.short_description {
        if blank_or_control(description) || description.chars().count() > SHORT_DESCRIPTION_MAX {
            return Some(Field::ShortDescription);
        }
    }
    if options.port == Some(0) {
        return Some(Field::Port);
    }
    if let Some(license) = &options.license {
        if license.is_empty() || license.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Some(Field::License);
        }
    }
    if options.tags.iter().any(|t| blank_or_control(t)) {
        return Some(Field::Tags);
    }
    None
}

/// The emoji rules the model is sure of: empty, ASCII, whitespace or control characters, or two
/// emoji of the pool side by side, are refused.
fn emoji_refused(emoji: Option<&str>) -> bool {
    let Some(emoji) = emoji else {
        return false;
    };
    emoji.is_empty()
        || emoji
            .chars()
            .any(|c| c.is_ascii() || c.is_whitespace() || c.is_control())
        || emoji == "🤖🚀"
        || emoji == "🇫"
}

/// The configuration the scaffold resolves from accepted options (as `detect` does), with the
/// fields the front matter does not show fixed.
fn config(options: &ScaffoldOptions) -> SpaceConfig {
    SpaceConfig {
        space: Some("alice/rag-chatbot".into()),
        title: options
            .title
            .clone()
            .unwrap_or_else(|| "Rag Chatbot".into()),
        emoji: options
            .emoji
            .clone()
            .unwrap_or_else(|| DEFAULT_EMOJI.into()),
        color_from: options
            .color_from
            .clone()
            .unwrap_or_else(|| DEFAULT_COLOR_FROM.into()),
        color_to: options
            .color_to
            .clone()
            .unwrap_or_else(|| DEFAULT_COLOR_TO.into()),
        short_description: options.short_description.clone(),
        port: options.port.unwrap_or(DEFAULT_PORT),
        app_module: "app.main".into(),
        app_attr: "app".into(),
        app_file: "app/main.py".into(),
        health_path: "/api/health".into(),
        python_version: "3.11".into(),
        python_version_source: "default".into(),
        pinned: options.pinned,
        license: options.license.clone(),
        tags: options.tags.clone(),
        secrets: vec![SecretDoc::new("GEMINI_API_KEY")],
        variables: vec!["LOG_LEVEL".into()],
        endpoints: Vec::new(),
        requirement_files: vec!["requirements.txt".into()],
        dockerfile: FileOrigin::Embedded,
        readme: FileOrigin::Embedded,
        installer: Installer::Uv,
        build_tools: false,
    }
}

/// The keys and values the front matter of `config` must read back as, in order.
fn expected(config: &SpaceConfig) -> Vec<(&'static str, Value)> {
    let string = |s: &str| Value::String(s.to_string());
    let mut out = vec![
        ("title", string(&config.title)),
        ("emoji", string(&config.emoji)),
        ("colorFrom", string(&config.color_from)),
        ("colorTo", string(&config.color_to)),
        ("sdk", string("docker")),
        ("app_port", Value::Number(config.port.into())),
    ];
    if let Some(description) = &config.short_description {
        out.push(("short_description", string(description)));
    }
    if let Some(pinned) = config.pinned {
        out.push(("pinned", Value::Bool(pinned)));
    }
    if let Some(license) = &config.license {
        out.push(("license", string(license)));
    }
    if !config.tags.is_empty() {
        out.push((
            "tags",
            Value::Sequence(config.tags.iter().map(|t| string(t)).collect()),
        ));
    }
    out
}

/// The rendered README's front matter, parsed, as `(key, value)` pairs in file order.
fn read_back(readme: &str) -> Result<Vec<(String, Value)>, TestCaseError> {
    let (yaml, _) = split_front_matter(readme)
        .ok_or_else(|| TestCaseError::fail("the README has no front matter block"))?;
    let value: Value = serde_yaml_ng::from_str(yaml)
        .map_err(|e| TestCaseError::fail(format!("the front matter is not YAML ({e}):\n{yaml}")))?;
    let Value::Mapping(mapping) = value else {
        return Err(TestCaseError::fail(format!(
            "the front matter is not a mapping:\n{yaml}"
        )));
    };
    mapping
        .into_iter()
        .map(|(key, value)| match key {
            Value::String(key) => Ok((key, value)),
            other => Err(TestCaseError::fail(format!(
                "a key {other:?} that is not a string"
            ))),
        })
        .collect()
}

/// The property: refused where the model says so, else read back exactly.
fn round_trip(options: &ScaffoldOptions) -> Result<(), TestCaseError> {
    let refused = first_refused(options);
    let checked = check(options);
    // The model knows the emoji rule only for the pool: the plan may refuse an arbitrary
    // emoji before any later field.
    let emoji_unknown = options
        .emoji
        .as_deref()
        .is_some_and(|e| !EMOJI_OK.contains(&e) && !emoji_refused(Some(e)));
    let may_refuse_emoji = emoji_unknown && !matches!(refused, Some(Field::Title));
    match checked {
        Err(error) if may_refuse_emoji && error.field() == Some(Field::Emoji) => {
            return Ok(());
        }
        Err(error) => {
            // Refused, never rendered: the plan stops at the first bad field.
            prop_assert_eq!(error.field(), refused, "{}", error);
            return Ok(());
        }
        Ok(_) => prop_assert_eq!(refused, None, "accepted"),
    }

    let config = config(options);
    let block = front_matter(&config);
    let readme = render_embedded(README, &config, None)
        .map_err(|e| TestCaseError::fail(format!("render: {e}")))?;
    // The README opens with our block, and the block ends where ours ends: no value adds
    // a line or closes it early.
    prop_assert!(readme.starts_with(&block), "{}", readme);
    let inner = &block["---\n".len()..block.len() - "---\n".len()];
    prop_assert_eq!(
        split_front_matter(&readme).map(|(yaml, _)| yaml),
        Some(inner)
    );

    let got = read_back(&readme)?;
    let want = expected(&config);
    let got_keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
    let want_keys: Vec<&str> = want.iter().map(|(k, _)| *k).collect();
    prop_assert_eq!(got_keys, want_keys, "{}", block);
    for ((key, got), (_, want)) in got.iter().zip(&want) {
        prop_assert_eq!(got, want, "`{}` in\n{}", key, block);
    }

    // A user template that renders no front matter gets ours, which passes the check.
    let ensured = super::ensure_front_matter("# My Space\n", &config);
    prop_assert!(ensured.starts_with(&block));
    check_front_matter(&ensured, &config, Path::new("README.md.j2"))
        .map_err(|e| TestCaseError::fail(format!("check: {e}")))?;
    check_front_matter(&readme, &config, Path::new("README.md.j2"))
        .map_err(|e| TestCaseError::fail(format!("check: {e}")))?;
    Ok(())
}

proptest! {
    /// Every character the plan accepts, U+FFFE, U+FFFF, U+2028 and U+2029 included (YAML
    /// refuses the first two raw and a YAML 1.1 reader takes the last two for line breaks,
    /// folding the spaces around them; the front matter writes them escaped).
    #[test]
    fn front_matter_reads_back_every_accepted_character(options in options()) {
        round_trip(&options)?;
    }
}

#[test]
fn a_noncharacter_in_a_tag_reads_back() {
    let options = ScaffoldOptions {
        tags: vec!["\u{fffe}".into()],
        ..ScaffoldOptions::default()
    };
    assert!(check(&options).is_ok());
    let readme = render_embedded(README, &config(&options), None).expect("render");
    let back = read_back(&readme);
    assert!(back.is_ok(), "{back:?}");
}

#[test]
fn a_line_separator_in_the_title_keeps_the_space_before_it() {
    let options = ScaffoldOptions {
        title: Some("A \u{2028}".into()),
        ..ScaffoldOptions::default()
    };
    assert!(check(&options).is_ok());
    let readme = render_embedded(README, &config(&options), None).expect("render");
    let back = read_back(&readme).expect("YAML");
    assert_eq!(
        back[0],
        ("title".to_string(), Value::String("A \u{2028}".into()))
    );
}
