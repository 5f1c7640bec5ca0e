//! `hf-deploy previews prune --space NS/NAME --repo OWNER/NAME [--max-age DAYS] [--dry-run]
//! [--json]`: sweep away the previews whose pull request is closed (see [`sweep`]). Pull
//! requests are read with `GITHUB_TOKEN` from `GITHUB_API_URL` (default
//! `https://api.github.com`).
//!
//! Everything is checked before the first call (bad input: exit 2, nothing sent). A preview
//! that could not be read or deleted makes the exit code 1, after the others were swept.

pub(crate) mod sweep;

use std::process::ExitCode;

use hf_deploy_core::{Field, Redactor, RemoteText, SpaceId};

use self::sweep::{Action, Pruned, Sweep};
use crate::cli::PruneArgs;
use crate::github::api::{self, GitHubRepo};
use crate::ui::{Ui, UsageError};

/// GitHub's API when `GITHUB_API_URL` is not set.
const DEFAULT_GITHUB_API: &str = "https://api.github.com";

pub(crate) async fn prune(args: PruneArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    // With a config file, `--space` may be left out (every entry): that file is read elsewhere;
    // here the flag is required.
    let Some(space) = args.space.as_deref() else {
        return Err(UsageError::error(
            "`--space` is required",
            Some("give the base Space as `--space NS/NAME`: its previews are `NS/NAME-pr-N`"),
        ));
    };
    let space = SpaceId::parse(space.trim(), Field::Space)?;
    let repo = GitHubRepo::parse(&args.repo).map_err(|_| {
        UsageError::error(
            format!(
                "invalid `--repo`: `{}` is not of the form `OWNER/NAME`",
                args.repo.escape_debug()
            ),
            Some("give the GitHub repository the previews were made for, e.g. `--repo octo/app`"),
        )
    })?;
    let Some(hf_token) = crate::env::token() else {
        return Err(crate::token::missing("delete previews"));
    };
    let github_token = std::env::var("GITHUB_TOKEN")
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            UsageError::error(
                "no GitHub token to read the pull requests: `GITHUB_TOKEN` is not set",
                Some(
                    "export `GITHUB_TOKEN` (e.g. `export GITHUB_TOKEN=$(gh auth token)`; in a workflow, `GITHUB_TOKEN: ${{ github.token }}`), a token that may read the repository's pull requests",
                ),
            )
        })?;
    let api_url = std::env::var("GITHUB_API_URL")
        .ok()
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_GITHUB_API.to_string());
    let github = api::client(&api_url, &hf_deploy_core::SecretString::new(github_token)).map_err(
        |error| {
            UsageError::error(
                format!("invalid `GITHUB_API_URL`: {error}"),
                Some("set it to GitHub's API URL, e.g. `https://api.github.com`, or unset it"),
            )
        },
    )?;
    let hub = super::deploy::build_client(&crate::env::endpoint(), Some(hf_token))?;
    let pruned = sweep::sweep(&Sweep {
        hub: &hub,
        github: &github,
        space: &space,
        repo: &repo,
        max_age: args.max_age,
        dry_run: args.dry_run,
    })
    .await
    .map_err(anyhow::Error::new)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&pruned)?);
    } else {
        out!("{}", text(&pruned));
    }
    if pruned.failed() {
        ui.warn("some previews could not be read or deleted: see the list above");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The sweep as lines for a terminal: one per preview.
pub(crate) fn text(pruned: &Pruned) -> String {
    lines(pruned, RemoteText::terminal)
}

/// The sweep as lines, the outside text of each shown by `show` (a terminal's, a workflow
/// log's) on the preview's one line.
pub(crate) fn lines(pruned: &Pruned, show: fn(&RemoteText) -> String) -> String {
    let mut out = format!(
        "previews of {} made for {}{}\n",
        pruned.space,
        pruned.repo,
        if pruned.dry_run {
            " (dry run: nothing deleted)"
        } else {
            ""
        }
    );
    if pruned.previews.is_empty() {
        out.push_str("  none found\n");
    }
    for preview in &pruned.previews {
        let age = preview
            .age_days
            .map_or_else(|| "-".to_string(), |days| format!("{days}d"));
        let detail = preview
            .detail
            .as_ref()
            .map(|d| format!(" {}", show(d).replace(['\n', '\r'], " ")))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {:<40} #{:<6} {:<7} {:>5}  {}: {}{detail}\n",
            preview.space,
            preview.pr,
            preview.state.unwrap_or("-"),
            age,
            preview.action.as_str(),
            preview.reason,
        ));
    }
    let gone = pruned.deleted().len();
    out.push_str(&format!(
        "{gone} {} {}\n",
        if gone == 1 { "preview" } else { "previews" },
        if pruned.dry_run {
            "would be deleted"
        } else {
            "deleted"
        }
    ));
    out
}

/// The sweep as a Markdown table (a step summary). Space ids are checked ids (letters, digits,
/// `-`, `_`, `.`); every sentence goes through the door, as outside text would.
pub(crate) fn markdown(pruned: &Pruned) -> String {
    let mut out = format!(
        "### Preview sweep of `{}`{}\n\n",
        pruned.space,
        if pruned.dry_run {
            " (dry run: nothing deleted)"
        } else {
            ""
        }
    );
    if pruned.previews.is_empty() {
        out.push_str("No preview Spaces found.\n");
        return out;
    }
    out.push_str("| Space | PR | State | Age (days) | Action | Why |\n|---|---|---|---|---|---|\n");
    for preview in &pruned.previews {
        let detail = preview
            .detail
            .as_ref()
            .map(|d| format!(" {}", d.markdown_inline()))
            .unwrap_or_default();
        out.push_str(&format!(
            "| `{}` | #{} | {} | {} | {} | {}{detail} |\n",
            preview.space,
            preview.pr,
            preview.state.unwrap_or("-"),
            preview
                .age_days
                .map_or_else(|| "-".to_string(), |d| d.to_string()),
            action_cell(preview.action),
            RemoteText::new(&preview.reason, &Redactor::none()).markdown_inline(),
        ));
    }
    out
}

fn action_cell(action: Action) -> &'static str {
    match action {
        Action::Deleted => "**deleted**",
        Action::WouldDelete => "would delete",
        Action::Kept => "kept",
        Action::Skipped => "skipped",
        Action::Failed => "**failed**",
    }
}
