//! What the Markdown templates see, and the one size decision.
//!
//! Values keep the text they came with (the report's text from outside as its redacted data):
//! the templates escape each through a filter of `escape.rs`, which redacts it again with the
//! run's redactor, because a log may echo the environment and the runner's masking reaches
//! neither a step summary nor a comment.
//!
//! The size decision ([`Prepared::fit`]) is made once per rendering: when the whole report
//! does not fit, the file list loses its last lines first, then the log its oldest lines; a
//! report that fits with neither is shown as its headline and a note. Nothing else is cut,
//! and nothing is cut after rendering.

use hf_deploy_core::RemoteText;
use hf_deploy_core::report::{DeployReport, Outcome};
use serde::Serialize;

use super::super::{seconds, short_sha, timings};
use super::escape::Ours;

/// How much of a report a rendering keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cut {
    /// The first `file_lines` lines of the file list and the last `log_lines` of the log.
    Keep {
        /// File lines kept.
        file_lines: usize,
        /// Log lines kept (the newest).
        log_lines: usize,
    },
    /// The headline and a note only.
    HeadlineOnly,
}

/// A report made ready to render: the file list and the log as lines.
pub(super) struct Prepared<'a> {
    report: &'a DeployReport,
    file_lines: Vec<(&'static str, &'a str)>,
    log: Vec<&'a str>,
}

impl<'a> Prepared<'a> {
    /// Prepare `report`.
    pub(super) fn new(report: &'a DeployReport) -> Self {
        let files = &report.files;
        let file_lines = [
            ("added", &files.added),
            ("modified", &files.modified),
            ("removed", &files.removed),
        ]
        .into_iter()
        .flat_map(|(change, list)| list.iter().map(move |path| (change, path.as_data())))
        .collect();
        let log = report.log_tail.iter().map(RemoteText::as_data).collect();
        Prepared {
            report,
            file_lines,
            log,
        }
    }

    /// The smallest cut for which `fits` holds: nothing cut when the whole report fits; then
    /// file lines from the end of the list, then log lines from the oldest; the headline alone
    /// when even a report with neither does not fit.
    pub(super) fn fit(&self, mut fits: impl FnMut(Cut) -> bool) -> Cut {
        let most = self.file_lines.len() + self.log.len();
        if fits(self.drop(0)) {
            return self.drop(0);
        }
        if !fits(self.drop(most)) {
            return Cut::HeadlineOnly;
        }
        // `drop(high)` always fits; find the fewest lines dropped that still fits.
        let (mut low, mut high) = (1, most);
        while low < high {
            let middle = low + (high - low) / 2;
            if fits(self.drop(middle)) {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        self.drop(high)
    }

    /// The cut that drops `count` lines: file lines first, then log lines.
    fn drop(&self, count: usize) -> Cut {
        let files = self.file_lines.len();
        let log = self.log.len();
        Cut::Keep {
            file_lines: files.saturating_sub(count),
            log_lines: log.saturating_sub(count.saturating_sub(files)),
        }
    }

    /// What the report template sees for `cut`.
    pub(super) fn context(&self, cut: Cut) -> ReportContext<'a> {
        let report = self.report;
        let (file_lines, log_lines, too_large) = match cut {
            Cut::Keep {
                file_lines,
                log_lines,
            } => (file_lines, log_lines, false),
            Cut::HeadlineOnly => (0, 0, true),
        };
        ReportContext {
            outcome: outcome(report),
            too_large,
            space_id: &report.space_id,
            space_url: &report.space_url,
            app_url: &report.app_url,
            docs_url: &report.docs_url,
            health_url: &report.health_url,
            health: report.health.as_ref().map(|h| h.status.as_data()),
            commit: report.commit_sha.as_deref().map(|sha| Commit {
                sha: short_sha(sha),
                changed: report.changed,
            }),
            stage: report.stage.as_ref().map(RemoteText::as_data),
            restored: report.restored_commit.as_deref().map(|sha| Restored {
                commit: short_sha(sha),
                verified: report.rolled_back,
                from: report.rolled_back_from.as_deref().map(short_sha),
            }),
            settings: settings(report),
            files: self.files(file_lines),
            services: services(report),
            cors: report
                .cors
                .iter()
                .map(|cors| Cors {
                    origin: &cors.origin,
                    allowed: cors.allowed,
                    detail: cors.detail.as_data(),
                })
                .collect(),
            timings: timings_rows(report),
            warnings: report.warnings.iter().map(RemoteText::as_data).collect(),
            error: report.error.as_ref().map(|error| ErrorBlock {
                kind: &error.kind,
                message: error.message.as_data(),
            }),
            log: self.log(log_lines),
        }
    }

    fn files(&self, keep: usize) -> Option<Files<'a>> {
        let report = self.report;
        if !report.dry_run && report.files.is_empty() {
            return None;
        }
        let keep = keep.min(self.file_lines.len());
        Some(Files {
            added: report.files.added.len(),
            modified: report.files.modified.len(),
            removed: report.files.removed.len(),
            lines: self.file_lines[..keep]
                .iter()
                .map(|(change, path)| FileLine {
                    change: Ours((*change).to_string()),
                    path,
                })
                .collect(),
            more: self.file_lines.len() - keep,
        })
    }

    fn log(&self, keep: usize) -> Option<Log> {
        if self.log.is_empty() {
            return None;
        }
        let total = self.log.len();
        let keep = keep.min(total);
        Some(Log {
            kept: keep,
            cut: total - keep,
            text: self.log[total - keep..].join("\n"),
        })
    }
}

fn outcome(report: &DeployReport) -> &'static str {
    match report.outcome() {
        Outcome::Healthy => "healthy",
        Outcome::Degraded => "degraded",
        Outcome::NotVerified => "not_verified",
        Outcome::DryRun => "dry_run",
        Outcome::Failed => "failed",
    }
}

fn settings(report: &DeployReport) -> Vec<Setting<'_>> {
    let (secrets, variables) = if report.dry_run {
        ("Secrets to set", "Variables to set")
    } else {
        ("Secrets set", "Variables set")
    };
    [
        (secrets, &report.secrets_set),
        (variables, &report.variables_set),
        ("Secrets unchanged", &report.secrets_unchanged),
        ("Variables unchanged", &report.variables_unchanged),
    ]
    .into_iter()
    .filter(|(_, names)| !names.is_empty())
    .map(|(label, names)| Setting {
        label: Ours(label.to_string()),
        names,
    })
    .collect()
}

fn services(report: &DeployReport) -> Vec<Service<'_>> {
    report
        .health
        .iter()
        .flat_map(|health| &health.services)
        .map(|(name, service)| Service {
            name: name.as_data(),
            ok: service.is_ok(),
            status: service.status.as_data(),
            detail: service
                .detail
                .as_ref()
                .map(RemoteText::as_data)
                .unwrap_or_default(),
        })
        .collect()
}

fn timings_rows(report: &DeployReport) -> Option<Timings> {
    let times = timings(&report.durations);
    if times.is_empty() {
        return None;
    }
    let join = |cells: Vec<String>, separator: &str| Ours(cells.join(separator));
    Some(Timings {
        header: join(
            times.iter().map(|(name, _)| name.to_string()).collect(),
            " | ",
        ),
        rule: join(times.iter().map(|_| "---".to_string()).collect(), "|"),
        values: join(times.iter().map(|(_, ms)| seconds(*ms)).collect(), " | "),
    })
}

/// The report template's `report`.
#[derive(Serialize)]
pub(super) struct ReportContext<'a> {
    outcome: &'static str,
    too_large: bool,
    space_id: &'a str,
    space_url: &'a str,
    app_url: &'a str,
    docs_url: &'a str,
    health_url: &'a str,
    health: Option<&'a str>,
    commit: Option<Commit<'a>>,
    stage: Option<&'a str>,
    restored: Option<Restored<'a>>,
    settings: Vec<Setting<'a>>,
    files: Option<Files<'a>>,
    services: Vec<Service<'a>>,
    cors: Vec<Cors<'a>>,
    timings: Option<Timings>,
    warnings: Vec<&'a str>,
    error: Option<ErrorBlock<'a>>,
    log: Option<Log>,
}

/// An earlier tree pushed back: by `rollback` (`from` set) or by rollback on failure.
#[derive(Serialize)]
struct Restored<'a> {
    commit: &'a str,
    verified: bool,
    from: Option<&'a str>,
}

#[derive(Serialize)]
struct Commit<'a> {
    sha: &'a str,
    changed: bool,
}

#[derive(Serialize)]
struct Setting<'a> {
    label: Ours,
    names: &'a [String],
}

#[derive(Serialize)]
struct Files<'a> {
    added: usize,
    modified: usize,
    removed: usize,
    lines: Vec<FileLine<'a>>,
    more: usize,
}

#[derive(Serialize)]
struct FileLine<'a> {
    change: Ours,
    path: &'a str,
}

#[derive(Serialize)]
struct Service<'a> {
    name: &'a str,
    ok: bool,
    status: &'a str,
    detail: &'a str,
}

#[derive(Serialize)]
struct Cors<'a> {
    origin: &'a str,
    allowed: bool,
    detail: &'a str,
}

#[derive(Serialize)]
struct Timings {
    header: Ours,
    rule: Ours,
    values: Ours,
}

#[derive(Serialize)]
struct ErrorBlock<'a> {
    kind: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct Log {
    kept: usize,
    cut: usize,
    text: String,
}
