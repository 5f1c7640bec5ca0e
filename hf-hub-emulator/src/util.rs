//! Small helpers: Hub-style error answers, timestamps, README front matter, `.gitattributes` patterns,
//! a lock that survives a panicked holder.

use std::sync::{Mutex, MutexGuard};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde_json::{Value, json};

/// Locks `m`, also after a holder panicked (the state is plain data: still usable).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A Hub-style error: `{"error": msg}` + `X-Error-Message` (+ `X-Error-Code`).
pub(crate) fn hub_error(status: StatusCode, code: Option<&str>, msg: &str) -> Response {
    let mut resp = json_response(status, &json!({ "error": msg }));
    if let Ok(v) = HeaderValue::from_str(&msg.replace(['\r', '\n'], " ")) {
        resp.headers_mut().insert("x-error-message", v);
    }
    if let Some(v) = code.and_then(|c| HeaderValue::from_str(c).ok()) {
        resp.headers_mut().insert("x-error-code", v);
    }
    resp
}

/// 404 RepoNotFound.
pub(crate) fn repo_not_found() -> Response {
    hub_error(
        StatusCode::NOT_FOUND,
        Some("RepoNotFound"),
        "Repository not found",
    )
}

/// JSON body with the Hub's content type.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

/// `2025-03-07T12:24:18.657Z`.
pub(crate) fn now_iso() -> String {
    iso(time::OffsetDateTime::now_utc())
}

pub(crate) fn iso(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".to_owned())
}

/// 24 hex chars, like a Mongo id.
pub(crate) fn mongo_id() -> String {
    let mut b = [0u8; 12];
    rand::thread_rng().fill(&mut b);
    hex::encode(b)
}

/// `Root=1-<8 hex>-<24 hex>` (+ `;<trace id>` when the client sent one).
pub(crate) fn request_id(trace: Option<&str>) -> String {
    let mut b = [0u8; 12];
    rand::thread_rng().fill(&mut b);
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    match trace {
        Some(t) => format!("Root=1-{secs:08x}-{};{t}", hex::encode(b)),
        None => format!("Root=1-{secs:08x}-{}", hex::encode(b)),
    }
}

/// `user/tmp_test_space` -> `user-tmp-test-space` (the rule observed on the Hub; `.` also becomes `-`).
pub(crate) fn subdomain(id: &str) -> String {
    id.to_ascii_lowercase().replace(['/', '_', '.'], "-")
}

/// Repo name rule of the Python client (`validate_repo_id`), applied to one segment.
pub(crate) fn valid_name(name: &str) -> bool {
    let ok_chars = !name.is_empty()
        && name.len() <= 96
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok_chars
        && !name.starts_with(['-', '.'])
        && !name.ends_with(['-', '.'])
        && !name.contains("--")
        && !name.contains("..")
        && !name.ends_with(".git")
}

/// Splits README text into (front matter YAML, present?).
pub(crate) fn front_matter(readme: &str) -> Option<&str> {
    let rest = readme
        .strip_prefix("---\n")
        .or_else(|| readme.strip_prefix("---\r\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Some(&rest[..offset]);
        }
        offset += line.len();
    }
    None
}

/// Parses the README front matter as JSON (`{}` when there is none).
pub(crate) fn card_data(readme: &str) -> Result<Value, String> {
    let Some(yaml) = front_matter(readme) else {
        return Ok(json!({}));
    };
    if yaml.trim().is_empty() {
        return Ok(json!({}));
    }
    let v: Value = serde_yaml_ng::from_str(yaml)
        .map_err(|e| format!("Invalid YAML in README.md front matter: {e}"))?;
    match v {
        Value::Object(_) => Ok(v),
        Value::Null => Ok(json!({})),
        _ => Err("README.md front matter must be a YAML mapping".to_owned()),
    }
}

/// The free hardware: its sleep time is fixed at [`FREE_SLEEP_SECONDS`].
pub(crate) const FREE_HARDWARE: &str = "cpu-basic";
/// The sleep time (`gcTimeout`) of a Space on free hardware: 48 h, not configurable
/// (hub-api.md §5; huggingface_hub warns when a sleep time is asked for on `cpu-basic`).
pub(crate) const FREE_SLEEP_SECONDS: u64 = 172_800;

pub(crate) const COLORS: [&str; 8] = [
    "red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray",
];
pub(crate) const SDKS: [&str; 4] = ["gradio", "docker", "static", "streamlit"];

/// The checks the Hub applies to a Space's README configuration; returns the error messages.
pub(crate) fn space_config_errors(card: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let get = |k: &str| card.get(k);
    match get("sdk") {
        None => errors.push("\"sdk\" is required in the README.md configuration".to_owned()),
        Some(Value::String(s)) if SDKS.contains(&s.as_str()) => {}
        Some(other) => errors.push(format!(
            "\"sdk\" must be one of [{}], got {other}",
            SDKS.join(", ")
        )),
    }
    for key in ["colorFrom", "colorTo"] {
        if let Some(v) = get(key) {
            if !v.as_str().is_some_and(|s| COLORS.contains(&s)) {
                errors.push(format!(
                    "\"{key}\" must be one of [{}], got {v}",
                    COLORS.join(", ")
                ));
            }
        }
    }
    if let Some(v) = get("app_port") {
        if !v.as_u64().is_some_and(|p| (1..=65535).contains(&p)) {
            errors.push(format!(
                "\"app_port\" must be an integer between 1 and 65535, got {v}"
            ));
        }
    }
    if let Some(v) = get("short_description") {
        match v.as_str() {
            Some(s) if s.chars().count() <= 60 => {}
            Some(_) => errors.push(
                "\"short_description\" length must be less than or equal to 60 characters long"
                    .to_owned(),
            ),
            None => errors.push("\"short_description\" must be a string".to_owned()),
        }
    }
    for key in ["pinned", "fullWidth", "hf_oauth", "disable_embedding"] {
        if let Some(v) = get(key) {
            if !v.is_boolean() {
                errors.push(format!("\"{key}\" must be a boolean, got {v}"));
            }
        }
    }
    for key in [
        "title",
        "emoji",
        "app_file",
        "base_path",
        "python_version",
        "sdk_version",
        "license",
    ] {
        if let Some(v) = get(key) {
            if !(v.is_string() || key == "python_version" || key == "sdk_version") {
                errors.push(format!("\"{key}\" must be a string, got {v}"));
            }
        }
    }
    if let Some(Value::String(bp)) = get("base_path") {
        if !bp.starts_with('/') {
            errors.push("\"base_path\" must start with /".to_owned());
        }
    }
    errors
}

/// The default `.gitattributes` of a new repo. Kept here on purpose rather than taken from
/// `hf-deploy-core`: the stand-in plays the Hub and must not share the client's assumptions.
pub(crate) const DEFAULT_LFS_PATTERNS: &[&str] = &[
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

pub(crate) fn default_gitattributes() -> String {
    DEFAULT_LFS_PATTERNS
        .iter()
        .map(|p| format!("{p} filter=lfs diff=lfs merge=lfs -text\n"))
        .collect()
}

/// The LFS patterns of a `.gitattributes` text, as regexes matched against repo paths.
pub(crate) fn lfs_patterns(gitattributes: &str) -> Vec<regex::Regex> {
    gitattributes
        .lines()
        .filter(|l| l.split_whitespace().skip(1).any(|a| a == "filter=lfs"))
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|p| glob_regex(p).ok())
        .collect()
}

fn glob_regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    let anchored = pattern.contains('/');
    let pat = pattern.trim_start_matches('/');
    let mut re = String::from(if anchored { "^" } else { "(^|/)" });
    let mut chars = pat.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                    re.push_str("(.*/)?");
                } else {
                    re.push_str(".*");
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re)
}

/// A git LFS pointer file: `(oid, size)`.
pub(crate) fn parse_lfs_pointer(data: &[u8]) -> Option<(String, u64)> {
    if data.len() > 1024 {
        return None;
    }
    let text = std::str::from_utf8(data).ok()?;
    let mut lines = text.lines();
    if !lines
        .next()?
        .starts_with("version https://git-lfs.github.com/spec/")
    {
        return None;
    }
    let mut oid = None;
    let mut size = None;
    for l in lines {
        if let Some(o) = l.strip_prefix("oid sha256:") {
            oid = Some(o.trim().to_owned());
        } else if let Some(s) = l.strip_prefix("size ") {
            size = s.trim().parse().ok();
        }
    }
    Some((oid?, size?))
}

pub(crate) fn lfs_pointer(oid: &str, size: u64) -> String {
    format!("version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n")
}

/// Git's own "is binary" heuristic: a NUL byte in the first 8000 bytes.
pub(crate) fn looks_binary(data: &[u8]) -> bool {
    data.iter().take(8000).any(|b| *b == 0)
}

/// Non-LFS files above this are refused (git push and HTTP commit).
pub(crate) const MAX_REGULAR_FILE: u64 = 10 * 1024 * 1024;
/// Binary (NUL in the first 8000 bytes) non-LFS files of this size or more are refused.
pub(crate) const MAX_BINARY_FILE: u64 = 1024 * 1024;

pub(crate) fn large_files_message(files: &[(String, String)]) -> String {
    let mut s = String::from(
        "-------------------------------------------------------------------------\n\
         Your push was rejected because it contains files larger than 10 MiB.\n\
         Please use https://git-lfs.github.com/ to store large files.\n\
         See also: https://hf.co/docs/hub/repositories-getting-started#terminal\n\n\
         Offending files:\n",
    );
    for (f, r) in files {
        s.push_str(&format!("  - {f} (ref: {r})\n"));
    }
    s.push_str("-------------------------------------------------------------------------\n");
    s
}

pub(crate) fn binary_files_message(files: &[(String, String)]) -> String {
    let mut s = String::from(
        "-------------------------------------------------------------------------\n\
         Your push was rejected because it contains binary files.\n\
         Please use https://huggingface.co/docs/hub/xet to store binary files.\n\
         Offending files:\n",
    );
    for (f, r) in files {
        s.push_str(&format!("  - {f} (ref: {r})\n"));
    }
    s.push_str("-------------------------------------------------------------------------\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lfs_globs_match_like_git() {
        let p = lfs_patterns(&default_gitattributes());
        let is_lfs = |path: &str| p.iter().any(|r| r.is_match(path));
        assert!(is_lfs("model.bin"));
        assert!(is_lfs("dir/model.safetensors"));
        assert!(is_lfs("saved_model/a/b.pb"));
        assert!(is_lfs("x.tar.gz"));
        assert!(!is_lfs("main.py"));
        assert!(!is_lfs("bin/run.sh"));
    }

    #[test]
    fn front_matter_and_config_checks() {
        let card =
            card_data("---\ntitle: X\nsdk: docker\napp_port: 7860\ncolorFrom: teal\n---\nhi")
                .unwrap();
        assert_eq!(card["app_port"], 7860);
        let errs = space_config_errors(&card);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("colorFrom"));
        let long = format!(
            "---\nsdk: docker\nshort_description: {}\n---\n",
            "x".repeat(61)
        );
        assert_eq!(space_config_errors(&card_data(&long).unwrap()).len(), 1);
        assert!(card_data("---\nsdk: [\n---\n").is_err());
    }

    #[test]
    fn names_and_subdomains() {
        assert!(valid_name("My.Space-1") && valid_name("_a"));
        assert!(
            !valid_name("-a") && !valid_name("a..b") && !valid_name("x.git") && !valid_name("a b")
        );
        assert_eq!(subdomain("user/tmp_test_space"), "user-tmp-test-space");
    }
}
