//! Rendering the Dockerfile and README from templates, and the README front matter.

use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::error::{Error, Result};

use super::SpaceConfig;

/// Name and text of the embedded Dockerfile template.
pub(super) const DOCKERFILE: (&str, &str) = (
    "Dockerfile.j2",
    include_str!("../../templates/Dockerfile.j2"),
);
/// Name and text of the embedded README template.
pub(super) const README: (&str, &str) =
    ("README.md.j2", include_str!("../../templates/README.md.j2"));

/// The Hub's default Git LFS patterns for a new repository.
const LFS_PATTERNS: &[&str] = &[
    "*.7z",
    "*.arrow",
    "*.bin",
    "*.bz2",
    "*.ckpt",
    "*.ftz",
    "*.gz",
    "*.h5",
    "*.joblib",
    "*.lfs.*",
    "*.mlmodel",
    "*.model",
    "*.msgpack",
    "*.npy",
    "*.npz",
    "*.onnx",
    "*.ot",
    "*.parquet",
    "*.pb",
    "*.pickle",
    "*.pkl",
    "*.pt",
    "*.pth",
    "*.rar",
    "*.safetensors",
    "saved_model/**/*",
    "*.tar.*",
    "*.tar",
    "*.tflite",
    "*.tgz",
    "*.wasm",
    "*.xz",
    "*.zip",
    "*.zst",
    "*tfevents*",
];

/// What the templates see.
///
/// THESE FIELDS ARE LOAD-BEARING: the embedded templates and users' own `Dockerfile.j2` /
/// `README.md.j2` use them. Only add fields.
#[derive(Serialize)]
struct TemplateContext<'a> {
    /// The resolved configuration (`space.title`, `space.port`, `space.endpoints`, ...).
    space: &'a SpaceConfig,
    /// `module:attr` of the ASGI app.
    app: String,
    /// The README front matter, `---` lines included, ending in a newline.
    front_matter: String,
    /// The container command in exec form (a JSON array).
    cmd: String,
    /// The `HEALTHCHECK` command in exec form (a JSON array).
    healthcheck: String,
    /// The body of the source's own `README.md` (front matter removed), or none.
    source_readme: Option<&'a str>,
    /// An example healthy answer of the health endpoint, with the services the source uses.
    health_example: String,
    /// The pinned uv version the Dockerfile installs when `space.installer` is `uv`.
    uv_version: &'static str,
}

fn json_string(value: &str) -> String {
    // Serialising a `&str` cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| format!("{value:?}"))
}

fn context<'a>(config: &'a SpaceConfig, source_readme: Option<&'a str>) -> TemplateContext<'a> {
    let cmd = [
        "uvicorn".to_string(),
        config.app_spec(),
        "--host".into(),
        "0.0.0.0".into(),
        "--port".into(),
        config.port.to_string(),
    ];
    let probe = format!(
        "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{}{}', timeout=4)",
        config.port, config.health_path
    );
    let healthcheck = ["python".to_string(), "-c".into(), probe];
    TemplateContext {
        space: config,
        app: config.app_spec(),
        front_matter: front_matter(config),
        cmd: serde_json::to_string(&cmd).unwrap_or_default(),
        healthcheck: serde_json::to_string(&healthcheck).unwrap_or_default(),
        source_readme: source_readme
            .map(|text| split_front_matter(text).map_or(text, |(_, body)| body)),
        health_example: health_example(config),
        uv_version: super::UV_VERSION,
    }
}

/// `{"status": "healthy", "services": {"fastapi": "ok", ...}}` with one entry per backing
/// service whose settings the source reads.
fn health_example(config: &SpaceConfig) -> String {
    let uses = |name: &str| config.secrets.iter().any(|s| s.name == name);
    let mut services = String::from(r#""fastapi": "ok""#);
    for (service, setting) in [
        ("qdrant", "QDRANT_URL"),
        ("postgres", "DATABASE_URL"),
        ("gemini", "GEMINI_API_KEY"),
    ] {
        if uses(setting) {
            services.push_str(&format!(r#", "{service}": {{"status": "ok"}}"#));
        }
    }
    format!(r#"{{"status": "healthy", "services": {{{services}}}}}"#)
}

/// Escape a value for a Markdown table cell.
fn md_cell(value: String) -> String {
    value
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_filter("md_cell", md_cell);
    env.add_filter("json", |value: String| json_string(&value));
    env
}

/// One trailing newline, LF line endings.
fn normalise(text: &str) -> String {
    let mut out = text.replace("\r\n", "\n");
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

fn render(
    name: &str,
    source: &str,
    config: &SpaceConfig,
    source_readme: Option<&str>,
) -> std::result::Result<String, minijinja::Error> {
    let mut env = environment();
    env.add_template(name, source)?;
    let text = env
        .get_template(name)?
        .render(context(config, source_readme))?;
    Ok(normalise(&text))
}

/// Render an embedded template (an error is a bug of this crate: [`Error::Template`]).
pub(super) fn render_embedded(
    template: (&str, &str),
    config: &SpaceConfig,
    source_readme: Option<&str>,
) -> Result<String> {
    render(template.0, template.1, config, source_readme).map_err(|source| Error::Template {
        name: template.0.to_string(),
        source,
    })
}

/// Render a user's template read from `path`: an error is the user's
/// ([`Error::UserTemplate`], naming the file and the line the engine points at).
pub(super) fn render_user(
    path: &Path,
    text: &str,
    config: &SpaceConfig,
    source_readme: Option<&str>,
) -> Result<String> {
    render(&path.display().to_string(), text, config, source_readme).map_err(|error| {
        let reason = match error.detail() {
            Some(detail) => format!("{}: {detail}", error.kind()),
            None => error.kind().to_string(),
        };
        Error::UserTemplate {
            path: path.to_path_buf(),
            line: error.line(),
            reason,
        }
    })
}

/// The user's templates, read from `templates_dir`.
#[derive(Default)]
pub(super) struct UserTemplates {
    pub(super) dockerfile: Option<(PathBuf, String)>,
    pub(super) readme: Option<(PathBuf, String)>,
}

impl UserTemplates {
    pub(super) fn load(dir: Option<&Path>) -> Result<Self> {
        let Some(dir) = dir else {
            return Ok(Self::default());
        };
        let read = |name: &str| -> Result<Option<(PathBuf, String)>> {
            let path = dir.join(name);
            if !path.is_file() {
                return Ok(None);
            }
            let bytes = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
            match String::from_utf8(bytes) {
                Ok(text) => Ok(Some((path, text))),
                Err(error) => {
                    let at = error.utf8_error().valid_up_to();
                    let bytes = error.as_bytes();
                    let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
                    Err(Error::UserTemplate {
                        path,
                        line: Some(line),
                        reason: format!("it is not UTF-8 text (byte {})", at + 1),
                    })
                }
            }
        };
        Ok(UserTemplates {
            dockerfile: read("Dockerfile.j2")?,
            readme: read("README.md.j2")?,
        })
    }
}

/// `value` as a YAML double-quoted scalar: a JSON string (titles holding `:`, `#`, quotes or a
/// leading `-` read back unchanged) with the four characters JSON leaves as they are but YAML
/// does not carry escaped: U+FFFE and U+FFFF (not allowed in a YAML stream) and U+2028 and
/// U+2029 (line breaks to a YAML 1.1 reader, which folds the spaces around them).
fn yaml_string(value: &str) -> String {
    let json = json_string(value);
    if !json.contains(['\u{fffe}', '\u{ffff}', '\u{2028}', '\u{2029}']) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 12);
    for c in json.chars() {
        match c {
            '\u{fffe}' | '\u{ffff}' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04X}", u32::from(c)));
            }
            _ => out.push(c),
        }
    }
    out
}

/// The README front matter of `config`: `---`, one `key: value` per line, `---`, newline.
///
/// Every string is written by [`yaml_string`].
fn front_matter(config: &SpaceConfig) -> String {
    let mut out = String::from("---\n");
    let mut line = |key: &str, value: String| {
        out.push_str(key);
        out.push_str(": ");
        out.push_str(&value);
        out.push('\n');
    };
    line("title", yaml_string(&config.title));
    line("emoji", yaml_string(&config.emoji));
    line("colorFrom", yaml_string(&config.color_from));
    line("colorTo", yaml_string(&config.color_to));
    line("sdk", json_string("docker"));
    line("app_port", config.port.to_string());
    if let Some(description) = &config.short_description {
        line("short_description", yaml_string(description));
    }
    if let Some(pinned) = config.pinned {
        line("pinned", pinned.to_string());
    }
    if let Some(license) = &config.license {
        line("license", yaml_string(license));
    }
    if !config.tags.is_empty() {
        out.push_str("tags:\n");
        for tag in &config.tags {
            out.push_str("  - ");
            out.push_str(&yaml_string(tag));
            out.push('\n');
        }
    }
    out.push_str("---\n");
    out
}

/// Split `text` into (front matter block, body) when it starts with a `---` block.
fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            let end = offset + line.len();
            return Some((&rest[..offset], &rest[end..]));
        }
        offset += line.len();
    }
    None
}

/// A rendered user README without front matter gets ours.
pub(super) fn ensure_front_matter(text: &str, config: &SpaceConfig) -> String {
    if split_front_matter(text).is_some() {
        text.to_string()
    } else {
        normalise(&format!("{}\n{}", front_matter(config), text))
    }
}

/// A user's README must declare a Docker Space on our port.
pub(super) fn check_front_matter(text: &str, config: &SpaceConfig, path: &Path) -> Result<()> {
    let invalid = |reason: String| Error::InvalidInput {
        input: crate::field::Field::TemplatesDir,
        reason: format!("`{}`: {reason}", path.display()).into(),
        hint: Some("start the template with `{{ front_matter }}`".into()),
    };
    let Some((yaml, _)) = split_front_matter(text) else {
        return Err(invalid("the rendered README has no front matter".into()));
    };
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml)
        .map_err(|e| invalid(format!("the rendered front matter is not valid YAML ({e})")))?;
    let sdk = value.get("sdk").and_then(|v| v.as_str());
    if sdk != Some("docker") {
        return Err(invalid(format!(
            "the front matter says `sdk: {}`, not `docker`",
            sdk.unwrap_or("(missing)")
        )));
    }
    let port = value.get("app_port").and_then(serde_yaml_ng::Value::as_u64);
    if port.is_some_and(|p| p != u64::from(config.port))
        || (port.is_none() && config.port != super::DEFAULT_PORT)
    {
        return Err(invalid(format!(
            "the front matter's `app_port` is {} but the app listens on {}",
            port.map_or("missing (7860)".to_string(), |p| p.to_string()),
            config.port
        )));
    }
    Ok(())
}

/// `.gitattributes` with the Hub's default Git LFS patterns.
pub(super) fn default_gitattributes() -> String {
    LFS_PATTERNS
        .iter()
        .map(|p| format!("{p} filter=lfs diff=lfs merge=lfs -text\n"))
        .collect()
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_templates_compile() {
        let mut env = environment();
        for (name, source) in [DOCKERFILE, README] {
            env.add_template(name, source)
                .expect("embedded template compiles");
        }
    }

    #[test]
    fn front_matter_splitting() {
        assert_eq!(
            split_front_matter("---\na: 1\n---\nbody\n"),
            Some(("a: 1\n", "body\n"))
        );
        assert_eq!(split_front_matter("# no front matter\n"), None);
        assert_eq!(split_front_matter("---\nunterminated\n"), None);
    }

    #[test]
    fn md_cells_are_escaped() {
        assert_eq!(md_cell("a|b\nc".into()), "a\\|b c");
    }
}
