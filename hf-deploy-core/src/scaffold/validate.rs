//! Checks of the source folder and of every option of a scaffold, before anything is read:
//! the one place of these rules (the plan calls [`options`] before it asks for the scaffold).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::field::{Field, Phrase};

use super::{ALLOWED_COLORS, DEFAULT_TEST_REQUIREMENTS, SHORT_DESCRIPTION_MAX, ScaffoldOptions};

/// Options that passed [`options`], with what the later steps use in the form they use it.
/// Only [`options`] makes one, so a scaffold built from it was checked.
#[derive(Debug)]
pub(crate) struct Checked<'a> {
    /// The options as given.
    pub(super) options: &'a ScaffoldOptions,
    /// Requirement name patterns to drop.
    pub(super) test_requirements: Vec<String>,
}

/// The source must exist and be a folder; returns its canonical path.
pub(super) fn source_folder(source: &Path) -> Result<PathBuf> {
    let invalid = |reason: &str, hint: &str| Error::InvalidSource {
        path: source.to_path_buf(),
        reason: reason.into(),
        hint: Some(hint.into()),
    };
    match std::fs::metadata(source) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(invalid(
                "it is a file, not a folder",
                "give the backend folder (the one holding `app/` and `requirements.txt`)",
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(invalid(
                "it does not exist",
                "give the backend folder (the one holding `app/` and `requirements.txt`)",
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            let file = source
                .ancestors()
                .skip(1)
                .find(|a| a.is_file())
                .map_or_else(
                    || "a part of it".to_string(),
                    |a| format!("`{}`", a.display()),
                );
            return Err(invalid(
                &format!("it leads through {file}, which is a file, not a folder"),
                "give the backend folder (the one holding `app/` and `requirements.txt`)",
            ));
        }
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::InvalidFilename | std::io::ErrorKind::InvalidInput
            ) =>
        {
            return Err(invalid(
                "the system refuses the path (a name in it is too long, or it holds a NUL byte)",
                "give the backend folder (the one holding `app/` and `requirements.txt`)",
            ));
        }
        Err(e) => return Err(Error::io("inspect", source, e)),
    }
    std::fs::canonicalize(source).map_err(|e| Error::io("resolve", source, e))
}

/// Validate every option of a scaffold.
pub(crate) fn options(options: &ScaffoldOptions) -> Result<Checked<'_>> {
    front_matter(options)?;
    layout(options)?;
    library_only(options)?;
    let test_requirements = test_requirements(options)?;
    if let Some(dir) = &options.templates_dir {
        templates_dir(dir)?;
    }
    Ok(Checked {
        options,
        test_requirements,
    })
}

/// README `license`, `tags`, the documented secrets and variables: options of a Rust program.
fn library_only(options: &ScaffoldOptions) -> Result<()> {
    if let Some(license) = &options.license {
        if license.is_empty() || license.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::invalid_input_hint(
                Field::License,
                format!("`{license}` is not a license id"),
                "use an id such as `mit` or `apache-2.0`",
            ));
        }
    }
    for tag in &options.tags {
        if tag.trim().is_empty() || tag.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                Field::Tags,
                format!("tag {tag:?} is empty or contains a control character"),
            ));
        }
    }
    for secret in &options.secrets {
        crate::settings::check_key(&secret.name, Field::Secrets)?;
        if let Some(description) = &secret.description {
            if description.chars().any(char::is_control) {
                return Err(Error::invalid_input(
                    Field::Secrets,
                    format!(
                        "the description of `{}` contains a control character",
                        secret.name
                    ),
                ));
            }
        }
    }
    for variable in &options.variables {
        crate::settings::check_key(variable, Field::Variables)?;
    }
    Ok(())
}

/// The requirement name patterns to drop: the user's, checked, or the defaults.
fn test_requirements(options: &ScaffoldOptions) -> Result<Vec<String>> {
    Ok(match &options.test_requirements {
        None => DEFAULT_TEST_REQUIREMENTS
            .iter()
            .map(|s| (*s).to_string())
            .collect(),
        Some(list) => {
            for name in list {
                let ok = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.*".contains(c));
                if !ok {
                    return Err(Error::invalid_input_hint(
                        Field::TestRequirements,
                        format!("`{name}` is not a requirement name pattern"),
                        "use package names, optionally with `*`, e.g. `pytest-*`",
                    ));
                }
            }
            list.clone()
        }
    })
}

/// A folder of user templates holds at least one of ours.
fn templates_dir(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        return Err(Error::invalid_input_hint(
            Field::TemplatesDir,
            format!("`{}` is not a folder", dir.display()),
            "give a folder holding `Dockerfile.j2` and/or `README.md.j2`",
        ));
    }
    if !dir.join("Dockerfile.j2").is_file() && !dir.join("README.md.j2").is_file() {
        return Err(Error::invalid_input_hint(
            Field::TemplatesDir,
            format!(
                "`{}` holds neither `Dockerfile.j2` nor `README.md.j2`",
                dir.display()
            ),
            "name the templates `Dockerfile.j2` and `README.md.j2`",
        ));
    }
    Ok(())
}

/// README front matter: title, emoji, colours, short description.
fn front_matter(options: &ScaffoldOptions) -> Result<()> {
    if let Some(title) = &options.title {
        if title.trim().is_empty() {
            return Err(Error::invalid_input(Field::Title, "the title is empty"));
        }
        if title.chars().any(char::is_control) {
            return Err(Error::invalid_input_hint(
                Field::Title,
                "the title contains a newline or another control character",
                "give a single-line title",
            ));
        }
    }
    if let Some(emoji) = &options.emoji {
        if let Some(reason) = emoji_problem(emoji) {
            return Err(Error::invalid_input_hint(
                Field::Emoji,
                format!("`{emoji}` {reason}"),
                "give exactly one emoji, e.g. `🚀`",
            ));
        }
    }
    for (field, value) in [
        (Field::ColorFrom, &options.color_from),
        (Field::ColorTo, &options.color_to),
    ] {
        if let Some(color) = value {
            if !ALLOWED_COLORS.contains(&color.as_str()) {
                return Err(Error::invalid_input_hint(
                    field,
                    format!("`{}` is not a colour the Hub accepts", color.escape_debug()),
                    format!("use one of: {}", ALLOWED_COLORS.join(", ")),
                ));
            }
        }
    }
    if let Some(description) = &options.short_description {
        let count = description.chars().count();
        if description.trim().is_empty() {
            return Err(Error::invalid_input(
                Field::ShortDescription,
                "the description is empty",
            ));
        }
        if description.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                Field::ShortDescription,
                "the description contains a newline or another control character",
            ));
        }
        if count > SHORT_DESCRIPTION_MAX {
            return Err(Error::invalid_input_hint(
                Field::ShortDescription,
                format!(
                    "it is {count} characters long; the Hub accepts at most {SHORT_DESCRIPTION_MAX}"
                ),
                "shorten it; put the long text in the README body",
            ));
        }
    }
    Ok(())
}

/// The app's layout: port, ASGI app, exclude patterns.
fn layout(options: &ScaffoldOptions) -> Result<()> {
    if options.port == Some(0) {
        return Err(Error::invalid_input(
            Field::Port,
            "port 0 is not a port; use 1-65535",
        ));
    }
    if let Some(app) = &options.app {
        parse_app(app)?;
    }
    for pattern in &options.excludes {
        exclude_pattern(pattern)?;
    }
    Ok(())
}

/// Split `module:attr` and check both halves are Python identifiers.
pub(super) fn parse_app(app: &str) -> Result<(String, String)> {
    let hint = "use `MODULE:ATTR`, e.g. `app.main:app`";
    let Some((module, attr)) = app.split_once(':') else {
        return Err(Error::invalid_input_hint(
            Field::App,
            format!("`{app}` has no `:`"),
            hint,
        ));
    };
    if module.is_empty() || !module.split('.').all(is_identifier) {
        return Err(Error::invalid_input_hint(
            Field::App,
            format!("`{module}` in `{app}` is not a dotted Python module name"),
            hint,
        ));
    }
    if !is_identifier(attr) {
        return Err(Error::invalid_input_hint(
            Field::App,
            format!("`{attr}` in `{app}` is not a Python identifier"),
            hint,
        ));
    }
    Ok((module.to_string(), attr.to_string()))
}

/// A Python identifier (ASCII subset).
pub(super) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn exclude_pattern(pattern: &str) -> Result<()> {
    if pattern.trim().is_empty() {
        return Err(Error::invalid_input(
            Field::Exclude,
            "an exclude pattern is empty",
        ));
    }
    if pattern.starts_with('!') {
        return Err(Error::invalid_input_hint(
            Field::Exclude,
            format!(
                "`{pattern}` would re-include files; exclude patterns can only leave files out"
            ),
            Phrase::new(
                "drop the leading `!` (`.env*` files are never deployed; pass secrets with ",
            )
            .field(Field::Secrets)
            .text(")"),
        ));
    }
    let mut builder = ignore::gitignore::GitignoreBuilder::new("/");
    builder.add_line(None, pattern).map_err(|e| {
        Error::invalid_input_hint(
            Field::Exclude,
            format!("`{pattern}` is not a valid gitignore-style pattern ({e})"),
            "see https://git-scm.com/docs/gitignore#_pattern_format",
        )
    })?;
    builder.build().map_err(|e| {
        Error::invalid_input(
            Field::Exclude,
            format!("`{pattern}` is not a valid gitignore-style pattern ({e})"),
        )
    })?;
    Ok(())
}

/// Why `value` is not a single emoji, if it is not.
fn emoji_problem(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        return Some("is empty");
    }
    if value
        .chars()
        .any(|c| c.is_ascii() || c.is_whitespace() || c.is_control())
    {
        return Some("is not an emoji (it holds letters, digits, spaces or punctuation)");
    }
    if value.chars().count() > 12 {
        return Some("is more than one emoji");
    }
    // Joiners, variation selectors, skin tones, keycaps and tag characters decorate the
    // emoji before them; regional indicators come in pairs (flags).
    let mut base: usize = 0;
    let mut regional: usize = 0;
    for c in value.chars() {
        let u = c as u32;
        let modifier = u == 0x200D
            || (0xFE00..=0xFE0F).contains(&u)
            || (0x1F3FB..=0x1F3FF).contains(&u)
            || u == 0x20E3
            || (0xE0020..=0xE007F).contains(&u);
        if modifier {
            continue;
        }
        if (0x1F1E6..=0x1F1FF).contains(&u) {
            regional += 1;
            continue;
        }
        base += 1;
    }
    let joiners = value.chars().filter(|c| *c == '\u{200D}').count();
    let flags = regional.div_ceil(2);
    if regional % 2 == 1 {
        return Some("is not a complete flag emoji");
    }
    if base + flags == 0 {
        return Some("is not an emoji");
    }
    if base + flags > joiners + 1 {
        return Some("is more than one emoji");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_accepts_single_emoji_and_sequences() {
        for ok in ["🤖", "🚀", "❤️", "👩‍💻", "👍🏽", "🇫🇷", "👨‍👩‍👧"]
        {
            assert_eq!(emoji_problem(ok), None, "{ok}");
        }
        for bad in ["", "a", "🤖🚀", "🤖 ", ":rocket:", "🇫", "🇫🇷🇩🇪"] {
            assert!(emoji_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn app_spec_parsing() {
        assert_eq!(
            parse_app("app.main:app").unwrap(),
            ("app.main".into(), "app".into())
        );
        for bad in [
            "app.main",
            "app..main:app",
            ":app",
            "app.main:",
            "app-x.main:app",
            "a:b c",
        ] {
            let err = parse_app(bad).unwrap_err();
            assert_eq!(err.field(), Some(Field::App), "{err}");
        }
    }
}
