//! The report for a terminal, coloured through `owo-colors` when asked.

use std::fmt::Write as _;

use hf_deploy_core::report::{DeployReport, Outcome};
use hf_deploy_core::verify::Verdict;
use owo_colors::OwoColorize;

use super::{seconds, strip_ansi, timings};

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

/// The report for a terminal; ANSI colours only when `color`.
pub(crate) fn render(report: &DeployReport, color: bool) -> String {
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
            Style::Green,
            color,
        ),
        Outcome::Degraded => paint(
            &format!("! {space} is deployed but not fully working{stage}"),
            Style::Yellow,
            color,
        ),
        Outcome::NotVerified => paint(
            &format!("✓ {space} is pushed; health not checked{stage}"),
            Style::Green,
            color,
        ),
        Outcome::DryRun => paint(
            &format!("Dry run for {space}: nothing was written"),
            Style::Bold,
            color,
        ),
        Outcome::Failed => paint(
            &format!("✗ deploy of {space} failed{stage}"),
            Style::Red,
            color,
        ),
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
            paint(&format!("{label:<width$}"), Style::Bold, color),
            strip_ansi(value)
        );
    }

    if report.dry_run || !report.files.is_empty() {
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
                let _ = writeln!(out, "  {} {}", paint(mark, code, color), strip_ansi(path));
            }
        }
    }

    if let Some(health) = &report.health {
        let code = match health.verdict() {
            Verdict::Healthy => Style::Green,
            Verdict::Degraded => Style::Yellow,
            Verdict::Unhealthy => Style::Red,
        };
        let _ = writeln!(
            out,
            "\n{} {}",
            paint("Health:", Style::Bold, color),
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
                ("✓", Style::Green)
            } else {
                ("✗", Style::Red)
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
                    strip_ansi(&cors.origin)
                )
            } else {
                format!(
                    "{} {:<width$}  blocked: {}",
                    paint("✗", Style::Red, color),
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
        let _ = writeln!(out, "\n{} {list}", paint("Timings:", Style::Bold, color));
    }

    if !report.warnings.is_empty() {
        out.push('\n');
        for warning in &report.warnings {
            let _ = writeln!(
                out,
                "{} {}",
                paint("warning:", Style::Yellow, color),
                strip_ansi(warning)
            );
        }
    }

    if let Some(error) = &report.error {
        let _ = writeln!(
            out,
            "\n{} {}",
            paint(&format!("error[{}]:", error.kind), Style::Red, color),
            strip_ansi(&error.message)
        );
    }

    if !report.log_tail.is_empty() {
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
                strip_ansi(line)
            );
        }
    }
    out
}
