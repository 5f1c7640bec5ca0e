//! The result of a deploy, as JSON (`deploy --json`), terminal text and Markdown.
//!
//! [`DeployReport`] serializes to the object `interface.md` fixes for `deploy --json`
//! (`space_id`, `space_url`, `app_url`, `docs_url`, `health_url`, `commit_sha`, `changed`,
//! `stage`, `health`, `secrets_set`, `variables_set`), followed by `error` (only on failure),
//! `cors`, `durations`, `log_tail`, `files`, `warnings` and `dry_run`.
//!
//! [`render_text`] is for the terminal; [`render_markdown`] for a GitHub step summary or pull
//! request comment. Neither ever holds a secret value: the report has secret names only.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::space::{SpaceId, join_url};
use crate::verify::{CorsResult, Health, ServiceHealth};

/// GitHub's limit for one step summary; [`render_markdown`] stays under it.
pub const MAX_MARKDOWN_BYTES: usize = 1024 * 1024;

/// Everything a deploy (or a dry run) found out.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DeployReport {
    /// `namespace/name`.
    pub space_id: String,
    /// `https://huggingface.co/spaces/namespace/name`.
    pub space_url: String,
    /// The app's base URL, e.g. `https://namespace-name.hf.space`.
    pub app_url: String,
    /// `{app_url}/docs`.
    pub docs_url: String,
    /// `{app_url}{health_path}`.
    pub health_url: String,
    /// The commit now at the Space's `main` (`None` in a dry run or when the push failed).
    pub commit_sha: Option<String>,
    /// True when the push created a new commit.
    pub changed: bool,
    /// The last runtime stage seen (`RUNNING`, `BUILD_ERROR`, ...).
    pub stage: Option<String>,
    /// The health answer; `None` with `--no-wait`, in a dry run, or when none came.
    pub health: Option<HealthSummary>,
    /// Names (never values) of the secrets set.
    pub secrets_set: Vec<String>,
    /// Names of the variables set.
    pub variables_set: Vec<String>,
    /// Names of the secrets found already in place (same value) and left alone.
    #[serde(default)]
    pub secrets_unchanged: Vec<String>,
    /// Names of the variables found already in place (same value) and left alone.
    #[serde(default)]
    pub variables_unchanged: Vec<String>,
    /// What failed, when something did. Serialized only when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ReportError>,
    /// The CORS check, one entry per frontend origin.
    #[serde(default)]
    pub cors: Vec<CorsResult>,
    /// How long each step took.
    #[serde(default)]
    pub durations: Durations,
    /// The last lines of the build or run log (on failure).
    #[serde(default)]
    pub log_tail: Vec<String>,
    /// The files the push adds, modifies and removes (the plan).
    #[serde(default)]
    pub files: FileChanges,
    /// Things to look at that did not fail the deploy.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// True for `--dry-run`: nothing was written (reads only).
    #[serde(default)]
    pub dry_run: bool,
}

/// The health part of a report: the overall status and each service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthSummary {
    /// `healthy`, `degraded`, `unhealthy`, ...
    pub status: String,
    /// Each service by name.
    #[serde(default)]
    pub services: BTreeMap<String, ServiceHealth>,
}

impl From<&Health> for HealthSummary {
    fn from(health: &Health) -> Self {
        HealthSummary {
            status: health.status.clone(),
            services: health.services.clone(),
        }
    }
}

impl HealthSummary {
    /// True when the overall status means healthy.
    pub fn is_healthy(&self) -> bool {
        matches!(
            self.status.to_ascii_lowercase().as_str(),
            "healthy" | "ok" | "up" | "pass"
        )
    }
}

/// `error` of a failed report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportError {
    /// [`Error::kind`], e.g. `space_failed`.
    pub kind: String,
    /// The message with its causes, `: `-separated.
    pub message: String,
}

impl From<&Error> for ReportError {
    fn from(error: &Error) -> Self {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            let _ = write!(message, ": {cause}");
            source = cause.source();
        }
        ReportError {
            kind: error.kind().to_string(),
            message,
        }
    }
}

/// Milliseconds per step; `None` for a step that did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Durations {
    /// Scaffolding the Space tree.
    pub scaffold_ms: Option<u64>,
    /// Committing and pushing.
    pub push_ms: Option<u64>,
    /// Waiting for the build and start (stage `RUNNING`).
    pub build_ms: Option<u64>,
    /// Waiting for a healthy answer.
    pub health_ms: Option<u64>,
    /// The whole run.
    pub total_ms: Option<u64>,
}

/// Paths the push adds, modifies and removes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FileChanges {
    /// New files.
    pub added: Vec<String>,
    /// Changed files.
    pub modified: Vec<String>,
    /// Deleted files.
    pub removed: Vec<String>,
}

impl FileChanges {
    /// True when nothing changes.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }
}

impl DeployReport {
    /// A report with the URLs of `space` filled in: the Space page under `endpoint`, the docs
    /// and health URLs appended to `app_url` (which may carry a path).
    pub fn for_space(space: &SpaceId, endpoint: &str, app_url: &str, health_path: &str) -> Self {
        let app_url = app_url.trim_end_matches('/').to_string();
        DeployReport {
            space_id: space.to_string(),
            space_url: space.web_url(endpoint),
            docs_url: join_url(&app_url, "/docs"),
            health_url: join_url(&app_url, health_path),
            app_url,
            ..DeployReport::default()
        }
    }

    /// Record `error` (and, for a failed Space, its log tail).
    pub fn set_error(&mut self, error: &Error) {
        if let Error::SpaceFailed { stage, log_tail } = error {
            self.stage = Some(stage.clone());
            if self.log_tail.is_empty() {
                self.log_tail = log_tail.clone();
            }
        }
        self.error = Some(ReportError::from(error));
    }

    /// The one-word outcome the renderers lead with.
    pub fn outcome(&self) -> Outcome {
        if self.error.is_some() {
            Outcome::Failed
        } else if self.dry_run {
            Outcome::DryRun
        } else {
            match &self.health {
                None => Outcome::NotVerified,
                Some(health) if health.is_healthy() && self.cors.iter().all(|c| c.allowed) => {
                    Outcome::Healthy
                }
                Some(_) => Outcome::Degraded,
            }
        }
    }
}

/// How a deploy ended, as the renderers headline it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Healthy, and every origin passes CORS.
    Healthy,
    /// Answering, but not healthy (accepted with `--allow-degraded`) or an origin is blocked.
    Degraded,
    /// Pushed, but not waited for (`--no-wait`).
    NotVerified,
    /// `--dry-run`.
    DryRun,
    /// Something failed: see `error`.
    Failed,
}

// ----- text ------------------------------------------------------------------------------------

const GREEN: &str = "32";
const YELLOW: &str = "33";
const RED: &str = "31";
const BOLD: &str = "1";
const DIM: &str = "2";

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters and intermediates, then one final byte in `@`..=`~`.
                for next in chars.by_ref() {
                    if ('@'..='~').contains(&next) {
                        break;
                    }
                }
            }
            continue;
        }
        if c.is_control() && c != '\t' && c != '\n' {
            continue;
        }
        out.push(c);
    }
    out
}

fn seconds(ms: u64) -> String {
    if ms >= 60_000 {
        format!("{}m {:02}s", ms / 60_000, (ms % 60_000) / 1000)
    } else if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{:.1}s", ms as f64 / 1000.0)
    }
}

fn timings(durations: &Durations) -> Vec<(&'static str, u64)> {
    [
        ("scaffold", durations.scaffold_ms),
        ("push", durations.push_ms),
        ("build", durations.build_ms),
        ("health", durations.health_ms),
        ("total", durations.total_ms),
    ]
    .into_iter()
    .filter_map(|(name, ms)| ms.map(|ms| (name, ms)))
    .collect()
}

fn short_sha(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// The report for a terminal; ANSI colours only when `color`.
pub fn render_text(report: &DeployReport, color: bool) -> String {
    let mut out = String::new();
    let space = &report.space_id;
    let stage = report
        .stage
        .as_deref()
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    let headline = match report.outcome() {
        Outcome::Healthy => paint(
            &format!("✓ {space} is deployed and healthy{stage}"),
            GREEN,
            color,
        ),
        Outcome::Degraded => paint(
            &format!("! {space} is deployed but not fully working{stage}"),
            YELLOW,
            color,
        ),
        Outcome::NotVerified => paint(
            &format!("✓ {space} is pushed; health not checked{stage}"),
            GREEN,
            color,
        ),
        Outcome::DryRun => paint(
            &format!("Dry run for {space}: nothing was written"),
            BOLD,
            color,
        ),
        Outcome::Failed => paint(&format!("✗ deploy of {space} failed{stage}"), RED, color),
    };
    let _ = writeln!(out, "{headline}");
    let mut rows: Vec<(&str, String)> = vec![
        ("Space", report.space_url.clone()),
        ("App", report.app_url.clone()),
        ("API docs", report.docs_url.clone()),
        ("Health", report.health_url.clone()),
    ];
    if let Some(sha) = &report.commit_sha {
        let changed = if report.changed {
            "new commit"
        } else {
            "unchanged"
        };
        rows.push(("Commit", format!("{sha} ({changed})")));
    }
    let secrets_label = if report.dry_run {
        "Secrets to set"
    } else {
        "Secrets set"
    };
    let variables_label = if report.dry_run {
        "Variables to set"
    } else {
        "Variables set"
    };
    if !report.secrets_set.is_empty() {
        rows.push((secrets_label, report.secrets_set.join(", ")));
    }
    if !report.variables_set.is_empty() {
        rows.push((variables_label, report.variables_set.join(", ")));
    }
    if !report.secrets_unchanged.is_empty() {
        rows.push(("Secrets unchanged", report.secrets_unchanged.join(", ")));
    }
    if !report.variables_unchanged.is_empty() {
        rows.push(("Variables unchanged", report.variables_unchanged.join(", ")));
    }
    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    for (label, value) in &rows {
        let _ = writeln!(
            out,
            "  {} {}",
            paint(&format!("{label:<width$}"), BOLD, color),
            strip_ansi(value)
        );
    }

    if report.dry_run || !report.files.is_empty() {
        let files = &report.files;
        let _ = writeln!(
            out,
            "\n{} {} added, {} modified, {} removed",
            paint("Files:", BOLD, color),
            files.added.len(),
            files.modified.len(),
            files.removed.len()
        );
        for (mark, code, list) in [
            ("+", GREEN, &files.added),
            ("~", YELLOW, &files.modified),
            ("-", RED, &files.removed),
        ] {
            for path in list {
                let _ = writeln!(out, "  {} {}", paint(mark, code, color), strip_ansi(path));
            }
        }
    }

    if let Some(health) = &report.health {
        let code = if health.is_healthy() { GREEN } else { YELLOW };
        let _ = writeln!(
            out,
            "\n{} {}",
            paint("Health:", BOLD, color),
            paint(&strip_ansi(&health.status), code, color)
        );
        let width = health
            .services
            .keys()
            .map(|k| k.chars().count())
            .max()
            .unwrap_or(0);
        for (name, service) in &health.services {
            let (mark, code) = if service.is_ok() {
                ("✓", GREEN)
            } else {
                ("✗", RED)
            };
            let detail = service
                .detail
                .as_deref()
                .map(|d| format!(": {}", strip_ansi(d)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} {:<width$}  {}{detail}",
                paint(mark, code, color),
                strip_ansi(name),
                strip_ansi(&service.status)
            );
        }
    }

    if !report.cors.is_empty() {
        let _ = writeln!(out, "\n{}", paint("CORS:", BOLD, color));
        let width = report
            .cors
            .iter()
            .map(|c| c.origin.chars().count())
            .max()
            .unwrap_or(0);
        for cors in &report.cors {
            let line = if cors.allowed {
                format!(
                    "{} {:<width$}  allowed",
                    paint("✓", GREEN, color),
                    strip_ansi(&cors.origin)
                )
            } else {
                format!(
                    "{} {:<width$}  blocked: {}",
                    paint("✗", RED, color),
                    strip_ansi(&cors.origin),
                    strip_ansi(&cors.detail)
                )
            };
            let _ = writeln!(out, "  {line}");
        }
    }

    let times = timings(&report.durations);
    if !times.is_empty() {
        let list = times
            .iter()
            .map(|(name, ms)| format!("{name} {}", seconds(*ms)))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(out, "\n{} {list}", paint("Timings:", BOLD, color));
    }

    if !report.warnings.is_empty() {
        out.push('\n');
        for warning in &report.warnings {
            let _ = writeln!(
                out,
                "{} {}",
                paint("warning:", YELLOW, color),
                strip_ansi(warning)
            );
        }
    }

    if let Some(error) = &report.error {
        let _ = writeln!(
            out,
            "\n{} {}",
            paint(&format!("error[{}]:", error.kind), RED, color),
            strip_ansi(&error.message)
        );
    }

    if !report.log_tail.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            paint(
                &format!("Last {} log lines:", report.log_tail.len()),
                BOLD,
                color
            )
        );
        for line in &report.log_tail {
            let _ = writeln!(out, "  {} {}", paint("|", DIM, color), strip_ansi(line));
        }
    }
    out
}

// ----- markdown --------------------------------------------------------------------------------

/// Text for a Markdown table cell: no line breaks, no `|`, no raw HTML.
fn md_cell(text: &str) -> String {
    strip_ansi(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
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

/// An inline code span that no backtick in `text` can close.
fn md_code(text: &str) -> String {
    let text = strip_ansi(text).replace('\n', " ");
    let ticks = "`".repeat(longest_backtick_run(&text) + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{}{pad}{ticks}", text.replace('|', "\\|"))
}

/// A link whose text and target cannot break the table.
fn md_link(text: &str, url: &str) -> String {
    let url = strip_ansi(url).replace(['(', ')', ' ', '|', '<', '>'], "");
    format!("[{}]({url})", md_cell(text).replace(['[', ']'], ""))
}

/// The report as GitHub Markdown (step summary, pull request comment), under
/// [`MAX_MARKDOWN_BYTES`].
pub fn render_markdown(report: &DeployReport) -> String {
    render_markdown_within(report, MAX_MARKDOWN_BYTES)
}

/// [`render_markdown`] under `max_bytes` (e.g. 65536 for a pull request comment): the log tail
/// loses its oldest lines first; as a last resort the text is cut.
pub fn render_markdown_within(report: &DeployReport, max_bytes: usize) -> String {
    let full = markdown(report, report.log_tail.len());
    if full.len() <= max_bytes {
        return full;
    }
    // The most recent log lines that fit (binary search on how many are kept).
    let (mut low, mut high) = (0usize, report.log_tail.len());
    while low < high {
        let mid = (low + high).div_ceil(2);
        if markdown(report, mid).len() <= max_bytes {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    let best = markdown(report, low);
    if best.len() <= max_bytes {
        return best;
    }
    let note = "\n\n*(truncated to fit)*\n";
    let mut cut = max_bytes.saturating_sub(note.len());
    while cut > 0 && !best.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{note}", &best[..cut])
}

/// The Markdown with only the last `keep` log lines.
fn markdown(report: &DeployReport, keep: usize) -> String {
    let mut out = String::new();
    let space = md_code(&report.space_id);
    let headline = match report.outcome() {
        Outcome::Healthy => format!("✅ {space} is deployed and healthy"),
        Outcome::Degraded => format!("⚠️ {space} is deployed but not fully working"),
        Outcome::NotVerified => format!("✅ {space} is pushed (health not checked)"),
        Outcome::DryRun => format!("📝 Dry run for {space}: nothing was written"),
        Outcome::Failed => format!("❌ Deploy of {space} failed"),
    };
    let _ = writeln!(out, "### {headline}\n");

    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(
        out,
        "| **Space** | {} |",
        md_link(&report.space_id, &report.space_url)
    );
    let _ = writeln!(
        out,
        "| **App** | {} |",
        md_link(&report.app_url, &report.app_url)
    );
    let _ = writeln!(
        out,
        "| **API docs** | {} |",
        md_link(&report.docs_url, &report.docs_url)
    );
    let health = match &report.health {
        Some(health) => format!(
            "{} at {}",
            md_code(&health.status),
            md_link(&report.health_url, &report.health_url)
        ),
        None => format!(
            "not checked ({})",
            md_link(&report.health_url, &report.health_url)
        ),
    };
    let _ = writeln!(out, "| **Health** | {health} |");
    let commit = match &report.commit_sha {
        Some(sha) => format!(
            "{} ({})",
            md_code(short_sha(sha)),
            if report.changed {
                "new commit"
            } else {
                "unchanged"
            }
        ),
        None => "none".into(),
    };
    let _ = writeln!(out, "| **Commit** | {commit} |");
    let stage = report
        .stage
        .as_deref()
        .map(md_code)
        .unwrap_or_else(|| "unknown".into());
    let _ = writeln!(out, "| **Stage** | {stage} |");
    if !report.secrets_set.is_empty() {
        let label = if report.dry_run {
            "Secrets to set"
        } else {
            "Secrets set"
        };
        let names = report
            .secrets_set
            .iter()
            .map(|s| md_code(s))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(out, "| **{label}** | {names} |");
    }
    if !report.variables_set.is_empty() {
        let label = if report.dry_run {
            "Variables to set"
        } else {
            "Variables set"
        };
        let names = report
            .variables_set
            .iter()
            .map(|s| md_code(s))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(out, "| **{label}** | {names} |");
    }
    for (label, names) in [
        ("Secrets unchanged", &report.secrets_unchanged),
        ("Variables unchanged", &report.variables_unchanged),
    ] {
        if !names.is_empty() {
            let names: Vec<String> = names.iter().map(|s| md_code(s)).collect();
            let _ = writeln!(out, "| **{label}** | {} |", names.join(", "));
        }
    }

    if report.dry_run || !report.files.is_empty() {
        let files = &report.files;
        let _ = writeln!(
            out,
            "\n#### Files\n\n{} added, {} modified, {} removed\n",
            files.added.len(),
            files.modified.len(),
            files.removed.len()
        );
        for (mark, list) in [
            ("added", &files.added),
            ("modified", &files.modified),
            ("removed", &files.removed),
        ] {
            for path in list {
                let _ = writeln!(out, "- {mark}: {}", md_code(path));
            }
        }
    }

    if let Some(health) = &report.health {
        if !health.services.is_empty() {
            let _ = writeln!(
                out,
                "\n#### Health\n\n| Service | Status | Detail |\n|---|---|---|"
            );
            for (name, service) in &health.services {
                let mark = if service.is_ok() { "✅" } else { "❌" };
                let detail = service.detail.as_deref().map(md_cell).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "| {} | {mark} {} | {detail} |",
                    md_cell(name),
                    md_code(&service.status)
                );
            }
        }
    }

    if !report.cors.is_empty() {
        let _ = writeln!(
            out,
            "\n#### CORS\n\n| Origin | Allowed | Detail |\n|---|---|---|"
        );
        for cors in &report.cors {
            let mark = if cors.allowed { "✅ yes" } else { "❌ no" };
            let _ = writeln!(
                out,
                "| {} | {mark} | {} |",
                md_code(&cors.origin),
                md_cell(&cors.detail)
            );
        }
    }

    let times = timings(&report.durations);
    if !times.is_empty() {
        let header = times
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(" | ");
        let rule = times.iter().map(|_| "---").collect::<Vec<_>>().join("|");
        let values = times
            .iter()
            .map(|(_, ms)| seconds(*ms))
            .collect::<Vec<_>>()
            .join(" | ");
        let _ = writeln!(
            out,
            "\n#### Timings\n\n| {header} |\n|{rule}|\n| {values} |"
        );
    }

    if !report.warnings.is_empty() {
        let _ = writeln!(out, "\n> [!WARNING]");
        for warning in &report.warnings {
            let _ = writeln!(out, "> - {}", md_cell(warning));
        }
    }

    if let Some(error) = &report.error {
        let _ = writeln!(
            out,
            "\n#### Error\n\n{}: {}",
            md_code(&error.kind),
            md_cell(&error.message)
        );
    }

    if !report.log_tail.is_empty() {
        let total = report.log_tail.len();
        let keep = keep.min(total);
        let lines: Vec<String> = report.log_tail[total - keep..]
            .iter()
            .map(|l| strip_ansi(l))
            .collect();
        let body = lines.join("\n");
        let fence = "`".repeat(longest_backtick_run(&body).max(2) + 1);
        let cut = if keep < total {
            format!(", {} earlier lines cut", total - keep)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "\n<details><summary>Last {keep} log lines{cut}</summary>\n\n{fence}text\n{body}\n{fence}\n\n</details>"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn base() -> DeployReport {
        let space = SpaceId::parse("alice/rag-chatbot", "--space").expect("space id");
        let mut report = DeployReport::for_space(
            &space,
            "https://huggingface.co",
            "https://alice-rag-chatbot.hf.space/",
            "/api/health",
        );
        report.commit_sha = Some(SHA.into());
        report.changed = true;
        report.stage = Some("RUNNING".into());
        report.secrets_set = vec![
            "ALLOWED_ORIGINS".into(),
            "DATABASE_URL".into(),
            "GEMINI_API_KEY".into(),
            "QDRANT_URL".into(),
        ];
        report.variables_set = vec!["LOG_LEVEL".into()];
        report.durations = Durations {
            scaffold_ms: Some(42),
            push_ms: Some(2310),
            build_ms: Some(95_400),
            health_ms: Some(3200),
            total_ms: Some(101_000),
        };
        report
    }

    fn service(status: &str, detail: Option<&str>) -> ServiceHealth {
        ServiceHealth {
            status: status.into(),
            detail: detail.map(String::from),
        }
    }

    fn healthy() -> DeployReport {
        let mut report = base();
        report.health = Some(HealthSummary {
            status: "healthy".into(),
            services: [
                ("fastapi", "ok"),
                ("gemini", "ok"),
                ("postgres", "ok"),
                ("qdrant", "ok"),
            ]
            .into_iter()
            .map(|(n, s)| (n.to_string(), service(s, None)))
            .collect(),
        });
        report.cors = vec![CorsResult {
            origin: "https://alice.github.io".into(),
            allowed: true,
            preflight_status: Some(200),
            allow_origin: Some("https://alice.github.io".into()),
            detail: "preflight 200 and GET allow it (`Access-Control-Allow-Origin: https://alice.github.io`)".into(),
        }];
        report
    }

    fn degraded() -> DeployReport {
        let mut report = base();
        report.changed = false;
        report.health = Some(HealthSummary {
            status: "degraded".into(),
            services: BTreeMap::from([
                ("fastapi".to_string(), service("ok", None)),
                (
                    "qdrant".to_string(),
                    service(
                        "error",
                        Some("qdrant answered 404 Not Found: the cluster may be suspended"),
                    ),
                ),
                ("postgres".to_string(), service("not_configured", None)),
            ]),
        });
        report.cors = vec![CorsResult {
            origin: "https://bob.vercel.app".into(),
            allowed: false,
            preflight_status: Some(400),
            allow_origin: None,
            detail:
                "the preflight answered 400; the preflight has no `Access-Control-Allow-Origin`"
                    .into(),
        }];
        report.warnings =
            vec!["health is `degraded`; accepted because of `--allow-degraded`".into()];
        report
    }

    fn build_error() -> DeployReport {
        let mut report = base();
        report.health = None;
        report.durations.health_ms = None;
        report.set_error(&Error::SpaceFailed {
            stage: "BUILD_ERROR".into(),
            log_tail: vec![
                "Step 5/9 : RUN pip install --no-cache-dir -r requirements.txt".into(),
                "\x1b[91mERROR: Could not find a version that satisfies the requirement torch==9.9\x1b[0m".into(),
                "see the README: ```pip install``` needs a ````fence```` | pipe <b>html</b>".into(),
                "```".into(),
                "error: subprocess-exited-with-error".into(),
            ],
        });
        report
    }

    fn dry_run() -> DeployReport {
        let mut report = base();
        report.dry_run = true;
        report.commit_sha = None;
        report.changed = true;
        report.stage = None;
        report.durations = Durations {
            scaffold_ms: Some(12),
            total_ms: Some(15),
            ..Durations::default()
        };
        report.files = FileChanges {
            added: vec!["Dockerfile".into(), ".dockerignore".into()],
            modified: vec!["README.md".into(), "app/main.py".into()],
            removed: vec!["old_main.py".into()],
        };
        report.warnings = vec!["`.env` is not pushed (excluded from the Space)".into()];
        report
    }

    #[test]
    fn report_text_snapshots() {
        for (name, report) in [
            ("healthy", healthy()),
            ("degraded", degraded()),
            ("build_error", build_error()),
            ("dry_run", dry_run()),
        ] {
            insta::assert_snapshot!(format!("report_text_{name}"), render_text(&report, false));
        }
    }

    #[test]
    fn report_markdown_snapshots() {
        for (name, report) in [
            ("healthy", healthy()),
            ("degraded", degraded()),
            ("build_error", build_error()),
            ("dry_run", dry_run()),
        ] {
            insta::assert_snapshot!(format!("report_markdown_{name}"), render_markdown(&report));
        }
    }

    #[test]
    fn report_color_only_when_asked() {
        for report in [healthy(), degraded(), build_error(), dry_run()] {
            let plain = render_text(&report, false);
            let colored = render_text(&report, true);
            assert!(!plain.contains('\x1b'), "{plain}");
            assert!(colored.contains("\x1b["));
            assert_eq!(strip_ansi(&colored), plain);
        }
    }

    #[test]
    fn report_log_fence_is_longer_than_any_backtick_run() {
        let markdown = render_markdown(&build_error());
        // The log has a run of 4 backticks: the fence is 5, and it opens and closes once.
        assert_eq!(markdown.matches("`````text\n").count(), 1);
        assert!(markdown.contains("\n`````\n\n</details>"));
        assert!(!markdown.contains("``````"));
    }

    #[test]
    fn report_markdown_stays_under_the_limit_by_cutting_the_log_first() {
        let mut report = build_error();
        report.log_tail = (0..50_000)
            .map(|i| format!("log line {i:05} {}", "x".repeat(40)))
            .collect();
        let markdown = render_markdown(&report);
        assert!(markdown.len() <= MAX_MARKDOWN_BYTES);
        assert!(
            markdown.contains("log line 49999"),
            "the newest lines are kept"
        );
        assert!(
            !markdown.contains("log line 00000 "),
            "the oldest lines are cut"
        );
        assert!(markdown.contains("earlier lines cut</summary>"));
        assert!(markdown.contains("#### Error"), "everything else is kept");

        let comment = render_markdown_within(&report, 65_536);
        assert!(comment.len() <= 65_536);
        assert!(comment.trim_end().ends_with("</details>"));

        // Even without room for any log line, the limit holds.
        let tiny = render_markdown_within(&report, 300);
        assert!(tiny.len() <= 300, "{}", tiny.len());
    }

    #[test]
    fn report_json_has_exactly_the_interface_fields() {
        let json = serde_json::to_value(healthy()).expect("serialize");
        let keys: Vec<&str> = json
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "space_id",
                "space_url",
                "app_url",
                "docs_url",
                "health_url",
                "commit_sha",
                "changed",
                "stage",
                "health",
                "secrets_set",
                "variables_set",
                "secrets_unchanged",
                "variables_unchanged",
                "cors",
                "durations",
                "log_tail",
                "files",
                "warnings",
                "dry_run",
            ]
        );
        assert_eq!(json["health"]["status"], "healthy");
        assert_eq!(json["docs_url"], "https://alice-rag-chatbot.hf.space/docs");
        assert_eq!(
            json["health_url"],
            "https://alice-rag-chatbot.hf.space/api/health"
        );
        insta::assert_json_snapshot!("report_json_healthy", healthy());

        let failed = serde_json::to_value(build_error()).expect("serialize");
        assert_eq!(failed["error"]["kind"], "space_failed");
        assert_eq!(
            failed["error"]["message"],
            "the Space ended in stage BUILD_ERROR"
        );
        assert_eq!(failed["stage"], "BUILD_ERROR");
        assert_eq!(failed["health"], serde_json::Value::Null);
        assert_eq!(failed["log_tail"].as_array().map(Vec::len), Some(5));
    }

    #[test]
    fn report_json_round_trips_and_reads_the_interface_example() {
        for report in [healthy(), degraded(), build_error(), dry_run()] {
            let text = serde_json::to_string(&report).expect("serialize");
            let back: DeployReport = serde_json::from_str(&text).expect("deserialize");
            assert_eq!(back, report);
        }
        // The example of interface.md, as a client would parse it.
        let example = r#"{"space_id": "ns/name", "space_url": "https://huggingface.co/spaces/ns/name",
 "app_url": "https://ns-name.hf.space", "docs_url": "https://ns-name.hf.space/docs",
 "health_url": "https://ns-name.hf.space/api/health", "commit_sha": "0123456789abcdef0123456789abcdef01234567",
 "changed": true, "stage": "RUNNING",
 "health": {"status": "healthy", "services": {"fastapi": {"status": "ok"}}},
 "secrets_set": ["GEMINI_API_KEY"], "variables_set": ["LOG_LEVEL"]}"#;
        let parsed: DeployReport = serde_json::from_str(example).expect("interface example");
        assert_eq!(parsed.outcome(), Outcome::Healthy);
        assert!(parsed.error.is_none() && !parsed.dry_run);
    }

    #[test]
    fn report_error_message_carries_the_cause_chain() {
        let error = Error::io(
            "read",
            "backend/app/main.py",
            std::io::Error::other("permission denied"),
        );
        let reported = ReportError::from(&error);
        assert_eq!(reported.kind, "io");
        assert_eq!(
            reported.message,
            "failed to read `backend/app/main.py`: permission denied"
        );
    }
}
