//! The report for a terminal, coloured through `owo-colors` when asked. Every value passes the
//! door for a terminal (`guard::shown`): the report quotes the Hub, the app, its logs and file
//! names.

use std::fmt::Write as _;

use hf_deploy_core::report::{DeployReport, Outcome};
use hf_deploy_core::verify::Verdict;
use owo_colors::OwoColorize;

use super::{seconds, timings};
use crate::guard::{shown, shown_remote};

#[derive(Clone, Copy)]
enum Style {
    Green,
    Yellow,
    Red,
    Bold,
    Dim,
}

fn paint(text: &str, style: Style, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    match style {
        Style::Green => text.green().to_string(),
        Style::Yellow => text.yellow().to_string(),
        Style::Red => text.red().to_string(),
        Style::Bold => text.bold().to_string(),
        Style::Dim => text.dimmed().to_string(),
    }
}

/// The report for a terminal; ANSI colours only when `color`. Sections in order: headline,
/// links and settings, files, health, CORS, timings, warnings, error, log tail; each is empty
/// when the report has nothing for it.
pub(crate) fn render(report: &DeployReport, color: bool) -> String {
    let sections = [
        headline(report, color),
        rows(report, color),
        files(report, color),
        health(report, color),
        cors(report, color),
        timings_line(report, color),
        warnings(report, color),
        error(report, color),
        log_tail(report, color),
    ];
    sections.concat()
}

fn headline(report: &DeployReport, color: bool) -> String {
    let space = shown(&report.space_id);
    let stage = report
        .stage
        .as_ref()
        .map(|s| format!(" ({})", shown_remote(s)))
        .unwrap_or_default();
    let (text, style) = match report.outcome() {
        Outcome::Healthy => (
            format!("✓ {space} is deployed and healthy{stage}"),
            Style::Green,
        ),
        Outcome::Degraded => (
            format!("! {space} is deployed but not fully working{stage}"),
            Style::Yellow,
        ),
        Outcome::NotVerified => (
            format!("✓ {space} is pushed; health not checked{stage}"),
            Style::Green,
        ),
        Outcome::DryRun => (
            format!("Dry run for {space}: nothing was written"),
            Style::Bold,
        ),
        Outcome::Failed => (format!("✗ deploy of {space} failed{stage}"), Style::Red),
    };
    let text = match (&report.restored_commit, &report.rolled_back_from) {
        // `rollback`: the restore was the run.
        (Some(_), Some(_)) => text.replacen("deployed", "rolled back", 1),
        // A failed deploy with rollback on failure.
        (Some(restored), None) if report.rolled_back => {
            format!("{text}; production restored to {}", shown(restored))
        }
        _ => text,
    };
    format!("{}\n", paint(&text, style, color))
}

/// The links, the commit and the settings, as aligned `label value` rows.
fn rows(report: &DeployReport, color: bool) -> String {
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
    if let Some(restored) = &report.restored_commit {
        let restored = shown(restored);
        rows.push(match &report.rolled_back_from {
            Some(from) => ("Rolled back", format!("{} → {restored}", shown(from))),
            None if report.rolled_back => ("Restored", format!("{restored} (verified)")),
            None => (
                "Restored",
                format!("{restored} (pushed back, not verified)"),
            ),
        });
    }
    let (secrets_label, variables_label) = if report.dry_run {
        ("Secrets to set", "Variables to set")
    } else {
        ("Secrets set", "Variables set")
    };
    for (label, list) in [
        (secrets_label, &report.secrets_set),
        (variables_label, &report.variables_set),
        ("Secrets unchanged", &report.secrets_unchanged),
        ("Variables unchanged", &report.variables_unchanged),
    ] {
        if !list.is_empty() {
            rows.push((label, list.join(", ")));
        }
    }
    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (label, value) in &rows {
        let _ = writeln!(
            out,
            "  {} {}",
            paint(&format!("{label:<width$}"), Style::Bold, color),
            shown(value)
        );
    }
    out
}

fn files(report: &DeployReport, color: bool) -> String {
    let mut out = String::new();
    if !report.dry_run && report.files.is_empty() {
        return out;
    }
    let files = &report.files;
    let _ = writeln!(
        out,
        "\n{} {} added, {} modified, {} removed",
        paint("Files:", Style::Bold, color),
        files.added.len(),
        files.modified.len(),
        files.removed.len()
    );
    for (mark, code, list) in [
        ("+", Style::Green, &files.added),
        ("~", Style::Yellow, &files.modified),
        ("-", Style::Red, &files.removed),
    ] {
        for path in list {
            let _ = writeln!(out, "  {} {}", paint(mark, code, color), shown_remote(path));
        }
    }
    out
}

fn health(report: &DeployReport, color: bool) -> String {
    let mut out = String::new();
    let Some(health) = &report.health else {
        return out;
    };
    let code = match health.verdict() {
        Verdict::Healthy => Style::Green,
        Verdict::Degraded => Style::Yellow,
        Verdict::Unhealthy => Style::Red,
    };
    let _ = writeln!(
        out,
        "\n{} {}",
        paint("Health:", Style::Bold, color),
        paint(&shown_remote(&health.status), code, color)
    );
    let names: Vec<String> = health.services.keys().map(shown_remote).collect();
    let width = names.iter().map(|k| k.chars().count()).max().unwrap_or(0);
    for (name, service) in names.iter().zip(health.services.values()) {
        let (mark, code) = if service.is_ok() {
            ("✓", Style::Green)
        } else {
            ("✗", Style::Red)
        };
        let detail = service
            .detail
            .as_ref()
            .map(|d| format!(": {}", shown_remote(d)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} {name:<width$}  {}{detail}",
            paint(mark, code, color),
            shown_remote(&service.status)
        );
    }
    out
}

fn cors(report: &DeployReport, color: bool) -> String {
    let mut out = String::new();
    if report.cors.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\n{}", paint("CORS:", Style::Bold, color));
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
                paint("✓", Style::Green, color),
                shown(&cors.origin)
            )
        } else {
            format!(
                "{} {:<width$}  blocked: {}",
                paint("✗", Style::Red, color),
                shown(&cors.origin),
                shown_remote(&cors.detail)
            )
        };
        let _ = writeln!(out, "  {line}");
    }
    out
}

fn timings_line(report: &DeployReport, color: bool) -> String {
    let times = timings(&report.durations);
    if times.is_empty() {
        return String::new();
    }
    let list = times
        .iter()
        .map(|(name, ms)| format!("{name} {}", seconds(*ms)))
        .collect::<Vec<_>>()
        .join(", ");
    format!("\n{} {list}\n", paint("Timings:", Style::Bold, color))
}

fn warnings(report: &DeployReport, color: bool) -> String {
    let mut out = String::new();
    if report.warnings.is_empty() {
        return out;
    }
    out.push('\n');
    for warning in &report.warnings {
        let _ = writeln!(
            out,
            "{} {}",
            paint("warning:", Style::Yellow, color),
            shown_remote(warning)
        );
    }
    out
}

fn error(report: &DeployReport, color: bool) -> String {
    match &report.error {
        Some(error) => format!(
            "\n{} {}\n",
            paint(&format!("error[{}]:", error.kind), Style::Red, color),
            shown_remote(&error.message)
        ),
        None => String::new(),
    }
}

fn log_tail(report: &DeployReport, color: bool) -> String {
    let mut out = String::new();
    if report.log_tail.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\n{}",
        paint(
            &format!("Last {} log lines:", report.log_tail.len()),
            Style::Bold,
            color
        )
    );
    for line in &report.log_tail {
        let _ = writeln!(
            out,
            "  {} {}",
            paint("|", Style::Dim, color),
            shown_remote(line)
        );
    }
    out
}
