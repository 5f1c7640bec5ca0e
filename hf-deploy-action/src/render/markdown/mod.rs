//! The report as GitHub Markdown, through strict embedded templates: the step summary
//! (`templates/report.md.j2`), the pull-request comment (`templates/comment.md.j2`, which
//! includes the report) and the comment left when a preview closes (`templates/closed.md.j2`).
//!
//! Three rules, each kept in one place: what the templates see and what is cut to fit
//! ([`context`]); how text from outside is escaped, one filter per place in the Markdown
//! ([`escape`]); the size budget ([`MAX_CHARS`]), decided before rendering, never by cutting
//! the rendered text.

mod context;
mod escape;

use hf_deploy_core::Redactor;
use hf_deploy_core::report::DeployReport;
use minijinja::{Environment, UndefinedBehavior, context};
use serde::Serialize;

use self::context::{Cut, Prepared, ReportContext};
use self::escape::Ours;
use super::short_sha;

/// The most characters a rendering may have: GitHub keeps at most 65,536 characters in a
/// comment (and 1 MiB of step summary); both the summary and the comment stay under this.
pub(crate) const MAX_CHARS: usize = 65_000;

/// The report alone: the step summary, and included by the comment.
const REPORT: &str = "report.md.j2";
const COMMENT: &str = "comment.md.j2";
const CLOSED: &str = "closed.md.j2";

/// Every template, by name.
pub(super) const TEMPLATES: [(&str, &str); 3] = [
    (REPORT, include_str!("../../../templates/report.md.j2")),
    (COMMENT, include_str!("../../../templates/comment.md.j2")),
    (CLOSED, include_str!("../../../templates/closed.md.j2")),
];

/// The environment of every Markdown rendering: strict undefined values, only filtered
/// values printed (`escape.rs`), each redacted by `redactor`.
pub(super) fn environment(redactor: &Redactor) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    escape::install(&mut env, redactor);
    for (name, source) in TEMPLATES {
        // The templates are part of the binary and tested: they always parse.
        let _ = env.add_template(name, source);
    }
    env
}

/// The report for the step summary, under [`MAX_CHARS`]; every value is redacted by
/// `redactor` (the run's).
pub(crate) fn summary(report: &DeployReport, redactor: &Redactor) -> String {
    let prepared = Prepared::new(report);
    fitted(REPORT, &prepared, redactor, |report| context! { report })
}

/// Everything in a pull-request comment about one deploy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Comment<'a> {
    /// The deploy's report.
    pub(crate) report: &'a DeployReport,
    /// The Space deployed (the preview Space for a preview).
    pub(crate) space: &'a str,
    /// True when the deploy succeeded.
    pub(crate) succeeded: bool,
    /// The commit deployed (the pull request's head).
    pub(crate) head_sha: Option<&'a str>,
    /// The workflow run's URL.
    pub(crate) run_url: Option<&'a str>,
    /// The hidden marker that finds the comment again (`github::api::marker`): our own text.
    pub(crate) marker: &'a str,
    /// The run's redactor: every value of the comment passes it.
    pub(crate) redactor: &'a Redactor,
}

/// The pull-request comment: a header, the report with its log tail, a footer with the
/// commit and the run, and the marker last; under [`MAX_CHARS`].
pub(crate) fn comment(comment: &Comment<'_>) -> String {
    #[derive(Serialize)]
    struct CommentContext<'a> {
        report: ReportContext<'a>,
        space: &'a str,
        succeeded: bool,
        commit: Option<&'a str>,
        run_url: Option<&'a str>,
        marker: Ours,
    }
    let prepared = Prepared::new(comment.report);
    fitted(COMMENT, &prepared, comment.redactor, |report| {
        CommentContext {
            report,
            space: comment.space,
            succeeded: comment.succeeded,
            commit: comment.head_sha.filter(|s| !s.is_empty()).map(short_sha),
            run_url: comment.run_url,
            marker: Ours(comment.marker.to_string()),
        }
    })
}

/// What became of a preview Space when its pull request closed or lost its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndOutcome<'a> {
    /// It was deleted.
    Deleted,
    /// It was already gone.
    Gone,
    /// It was left in place: it does not carry `expected`, this pull request's preview mark;
    /// `found` is the mark it carries instead (text from the Hub), when it carries one.
    Kept {
        /// The mark found.
        found: Option<&'a str>,
        /// The mark expected.
        expected: &'a str,
    },
}

/// Everything in the comment left when a preview ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ended<'a> {
    /// The preview Space.
    pub(crate) space: &'a str,
    /// The pull request was merged.
    pub(crate) merged: bool,
    /// The `preview-label` taken off the open pull request, when that is why.
    pub(crate) label_removed: Option<&'a str>,
    /// What became of the Space.
    pub(crate) outcome: EndOutcome<'a>,
    /// The hidden marker that finds the comment again: our own text.
    pub(crate) marker: &'a str,
}

/// The comment left when a preview ends: why (merged, closed or label removed) and what
/// became of the preview Space; the marker last. The label and the mark found are text from
/// outside: the filters take them through the door, redacted by `redactor`.
pub(crate) fn ended(ended: &Ended<'_>, redactor: &Redactor) -> String {
    let (outcome, found, expected) = match ended.outcome {
        EndOutcome::Deleted => ("deleted", None, None),
        EndOutcome::Gone => ("gone", None, None),
        EndOutcome::Kept { found, expected } => ("kept", found, Some(expected)),
    };
    render(
        &environment(redactor),
        CLOSED,
        &context! {
            space => ended.space,
            merged => ended.merged,
            label_removed => ended.label_removed,
            outcome => outcome,
            found => found,
            expected => expected,
            marker => Ours(ended.marker.to_string()),
        },
    )
}

/// Render `template` with the context `wrap` makes of the report, cut to fit [`MAX_CHARS`].
fn fitted<'a, C: Serialize>(
    template: &str,
    prepared: &Prepared<'a>,
    redactor: &Redactor,
    wrap: impl Fn(ReportContext<'a>) -> C,
) -> String {
    let env = environment(redactor);
    let render_cut = |cut: Cut| render(&env, template, &wrap(prepared.context(cut)));
    let cut = prepared.fit(|cut| render_cut(cut).chars().count() <= MAX_CHARS);
    render_cut(cut)
}

fn render<C: Serialize>(env: &Environment<'_>, template: &str, context: &C) -> String {
    match env
        .get_template(template)
        .and_then(|template| template.render(context))
    {
        Ok(text) => text,
        // Only a broken template gets here, which the tests catch; say so rather than post
        // nothing.
        Err(error) => format!(
            "### Report could not be rendered\n\n{}\n",
            escape::md_text(&error.to_string(), &Redactor::none())
        ),
    }
}

#[cfg(test)]
mod tests;
