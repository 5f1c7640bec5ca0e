//! The report as GitHub Markdown (step summary, pull request comment), through the strict
//! embedded template `templates/report.md.j2`. Every value is escaped here, for its place (a
//! table cell, a code span, a link), before the template lays it out.

use hf_deploy_core::report::{DeployReport, Outcome};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use super::{seconds, short_sha, strip_ansi, timings};

/// GitHub's limit for one step summary; [`render`] stays under it.
pub(crate) const MAX_MARKDOWN_BYTES: usize = 1024 * 1024;

pub(super) const TEMPLATE: (&str, &str) =
    ("report.md.j2", include_str!("../../templates/report.md.j2"));

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
pub(crate) fn render(report: &DeployReport) -> String {
    render_within(report, MAX_MARKDOWN_BYTES)
}

/// [`render`] under `max_bytes` (e.g. 65536 for a pull request comment): the log tail
/// loses its oldest lines first; as a last resort the text is cut.
pub(crate) fn render_within(report: &DeployReport, max_bytes: usize) -> String {
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

#[derive(Serialize)]
struct Context {
    headline: String,
    space: String,
    app: String,
    docs: String,
    health: String,
    commit: String,
    stage: String,
    settings: Vec<Setting>,
    files: Option<Files>,
    services: Vec<ServiceRow>,
    cors: Vec<CorsRow>,
    timings: Option<Timings>,
    warnings: Vec<String>,
    error: Option<ErrorBlock>,
    log: Option<Log>,
}

#[derive(Serialize)]
struct Setting {
    label: &'static str,
    names: String,
}

#[derive(Serialize)]
struct Files {
    added: usize,
    modified: usize,
    removed: usize,
    lines: Vec<FileLine>,
}

#[derive(Serialize)]
struct FileLine {
    mark: &'static str,
    path: String,
}

#[derive(Serialize)]
struct ServiceRow {
    name: String,
    mark: &'static str,
    status: String,
    detail: String,
}

#[derive(Serialize)]
struct CorsRow {
    origin: String,
    mark: &'static str,
    detail: String,
}

#[derive(Serialize)]
struct Timings {
    header: String,
    rule: String,
    values: String,
}

#[derive(Serialize)]
struct ErrorBlock {
    kind: String,
    message: String,
}

#[derive(Serialize)]
struct Log {
    keep: usize,
    cut: String,
    fence: String,
    body: String,
}

pub(super) fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    // The template is part of the binary and tested: it always parses.
    let _ = env.add_template(TEMPLATE.0, TEMPLATE.1);
    env
}

/// The Markdown with only the last `keep` log lines.
fn markdown(report: &DeployReport, keep: usize) -> String {
    let env = environment();
    let context = context(report, keep);
    match env
        .get_template(TEMPLATE.0)
        .and_then(|template| template.render(&context))
    {
        Ok(text) => text,
        // Only a broken template gets here, which the snapshot tests catch; say so rather
        // than post nothing.
        Err(error) => format!(
            "### Report could not be rendered\n\n{}\n",
            md_cell(&error.to_string())
        ),
    }
}

fn context(report: &DeployReport, keep: usize) -> Context {
    let space = md_code(&report.space_id);
    let headline = match report.outcome() {
        Outcome::Healthy => format!("✅ {space} is deployed and healthy"),
        Outcome::Degraded => format!("⚠️ {space} is deployed but not fully working"),
        Outcome::NotVerified => format!("✅ {space} is pushed (health not checked)"),
        Outcome::DryRun => format!("📝 Dry run for {space}: nothing was written"),
        Outcome::Failed => format!("❌ Deploy of {space} failed"),
    };
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
    let stage = report
        .stage
        .as_deref()
        .map(md_code)
        .unwrap_or_else(|| "unknown".into());
    let names = |list: &[String]| {
        list.iter()
            .map(|s| md_code(s))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut settings = Vec::new();
    if !report.secrets_set.is_empty() {
        settings.push(Setting {
            label: if report.dry_run {
                "Secrets to set"
            } else {
                "Secrets set"
            },
            names: names(&report.secrets_set),
        });
    }
    if !report.variables_set.is_empty() {
        settings.push(Setting {
            label: if report.dry_run {
                "Variables to set"
            } else {
                "Variables set"
            },
            names: names(&report.variables_set),
        });
    }
    for (label, list) in [
        ("Secrets unchanged", &report.secrets_unchanged),
        ("Variables unchanged", &report.variables_unchanged),
    ] {
        if !list.is_empty() {
            settings.push(Setting {
                label,
                names: names(list),
            });
        }
    }
    let files = (report.dry_run || !report.files.is_empty()).then(|| {
        let files = &report.files;
        let lines = [
            ("added", &files.added),
            ("modified", &files.modified),
            ("removed", &files.removed),
        ]
        .into_iter()
        .flat_map(|(mark, list)| {
            list.iter().map(move |path| FileLine {
                mark,
                path: md_code(path),
            })
        })
        .collect();
        Files {
            added: files.added.len(),
            modified: files.modified.len(),
            removed: files.removed.len(),
            lines,
        }
    });
    let services = report
        .health
        .iter()
        .flat_map(|health| &health.services)
        .map(|(name, service)| ServiceRow {
            name: md_cell(name),
            mark: if service.is_ok() { "✅" } else { "❌" },
            status: md_code(&service.status),
            detail: service.detail.as_deref().map(md_cell).unwrap_or_default(),
        })
        .collect();
    let cors = report
        .cors
        .iter()
        .map(|cors| CorsRow {
            origin: md_code(&cors.origin),
            mark: if cors.allowed { "✅ yes" } else { "❌ no" },
            detail: md_cell(&cors.detail),
        })
        .collect();
    let times = timings(&report.durations);
    let timings = (!times.is_empty()).then(|| Timings {
        header: times
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(" | "),
        rule: times.iter().map(|_| "---").collect::<Vec<_>>().join("|"),
        values: times
            .iter()
            .map(|(_, ms)| seconds(*ms))
            .collect::<Vec<_>>()
            .join(" | "),
    });
    let error = report.error.as_ref().map(|error| ErrorBlock {
        kind: md_code(&error.kind),
        message: md_cell(&error.message),
    });
    let log = (!report.log_tail.is_empty()).then(|| {
        let total = report.log_tail.len();
        let keep = keep.min(total);
        let body = report.log_tail[total - keep..]
            .iter()
            .map(|l| strip_ansi(l))
            .collect::<Vec<_>>()
            .join("\n");
        Log {
            keep,
            cut: if keep < total {
                format!(", {} earlier lines cut", total - keep)
            } else {
                String::new()
            },
            fence: "`".repeat(longest_backtick_run(&body).max(2) + 1),
            body,
        }
    });
    Context {
        headline,
        space: md_link(&report.space_id, &report.space_url),
        app: md_link(&report.app_url, &report.app_url),
        docs: md_link(&report.docs_url, &report.docs_url),
        health,
        commit,
        stage,
        settings,
        files,
        services,
        cors,
        timings,
        warnings: report.warnings.iter().map(|w| md_cell(w)).collect(),
        error,
        log,
    }
}
