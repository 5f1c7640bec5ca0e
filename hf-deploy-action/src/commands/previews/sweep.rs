//! The sweep of stale previews, shared by `previews prune` and the action's
//! `command: previews-prune`.
//!
//! The Hub's listing gives the Spaces named `NS/NAME-pr-N` (all pages). A preview is this
//! tool's only when it carries the preview mark of this repository and this pull request
//! (`HF_DEPLOY_PREVIEW = owner/repo#N`, see `action/mark.rs`): any other Space of such a name is
//! listed as skipped, with the reason, and never touched. A marked preview is deleted when its
//! pull request is closed or merged (read from the GitHub API), or, with a maximum age, when it
//! has not changed for longer than that many days (the Hub's `lastModified`, else its
//! `createdAt`), whatever its pull request. A dry run reads the same and deletes nothing.

use hf_deploy_core::hub::{HubClient, ListedSpace};
use hf_deploy_core::{Error, Field, Redactor, RemoteText, SpaceId};
use octocrab::Octocrab;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::super::action::mark;
use crate::github::api::GitHubRepo;
use crate::github::inputs::PREVIEW_MARK;
use crate::github::pulls;

/// What to sweep.
pub(crate) struct Sweep<'a> {
    /// The Hub, with a token that may delete the previews.
    pub(crate) hub: &'a HubClient,
    /// The GitHub API, to read the pull requests.
    pub(crate) github: &'a Octocrab,
    /// The base Space: its previews are `{space}-pr-N`.
    pub(crate) space: &'a SpaceId,
    /// The repository the previews were made for.
    pub(crate) repo: &'a GitHubRepo,
    /// Delete previews unchanged for more than this many days, whatever their pull request.
    pub(crate) max_age: Option<u32>,
    /// Read only; delete nothing.
    pub(crate) dry_run: bool,
}

/// What became of one preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum Action {
    /// Deleted.
    #[serde(rename = "deleted")]
    Deleted,
    /// A dry run: it would be deleted.
    #[serde(rename = "would delete")]
    WouldDelete,
    /// This tool's, and its pull request is open (and it is not too old).
    #[serde(rename = "kept")]
    Kept,
    /// Not this tool's preview for this repository (or already gone): never touched.
    #[serde(rename = "skipped")]
    Skipped,
    /// Its mark or its pull request could not be read, or its deletion failed.
    #[serde(rename = "failed")]
    Failed,
}

impl Action {
    /// The word of the reports.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Action::Deleted => "deleted",
            Action::WouldDelete => "would delete",
            Action::Kept => "kept",
            Action::Skipped => "skipped",
            Action::Failed => "failed",
        }
    }
}

/// One Space named as a preview of the base Space.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Preview {
    /// `NS/NAME-pr-N`.
    pub(crate) space: String,
    /// The pull request its name gives.
    pub(crate) pr: u64,
    /// `open`, `closed` or `merged` when the pull request was read.
    pub(crate) state: Option<&'static str>,
    /// Whole days since its last change (`lastModified`, else `createdAt`), when the Hub says.
    pub(crate) age_days: Option<i64>,
    /// What was done.
    pub(crate) action: Action,
    /// Why, in our words.
    pub(crate) reason: String,
    /// Text from outside that explains it (a mark found instead of ours, an error), redacted;
    /// shown only through its destination's method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) detail: Option<RemoteText>,
}

/// The sweep's result.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Pruned {
    /// The base Space.
    pub(crate) space: String,
    /// The repository.
    pub(crate) repo: String,
    /// Nothing was deleted.
    pub(crate) dry_run: bool,
    /// The maximum age in days, when given.
    pub(crate) max_age_days: Option<u32>,
    /// What an age counts from.
    pub(crate) age_from: &'static str,
    /// Every Space named as a preview of the base Space, by pull request.
    pub(crate) previews: Vec<Preview>,
}

impl Pruned {
    /// True when something could not be read or deleted.
    pub(crate) fn failed(&self) -> bool {
        self.previews.iter().any(|p| p.action == Action::Failed)
    }

    /// The Spaces deleted (or, in a dry run, that would be).
    pub(crate) fn deleted(&self) -> Vec<&str> {
        self.previews
            .iter()
            .filter(|p| matches!(p.action, Action::Deleted | Action::WouldDelete))
            .map(|p| p.space.as_str())
            .collect()
    }
}

/// What an age counts from, as the reports say it.
const AGE_FROM: &str = "the Space's last change (lastModified), else its creation (createdAt)";

/// Sweep the previews of `sweep.space`.
///
/// # Errors
///
/// The Hub's listing failed; everything after it is per preview ([`Action::Failed`]).
pub(crate) async fn sweep(sweep: &Sweep<'_>) -> Result<Pruned, Error> {
    let listed = sweep
        .hub
        .list_spaces(sweep.space.namespace(), &search_text(sweep.space))
        .await?;
    let now = OffsetDateTime::now_utc();
    let mut previews = Vec::new();
    for item in &listed {
        if let Some((id, number)) = preview_of(sweep.space, &item.id) {
            previews.push(one(sweep, &id, number, age_days(item, now)).await);
        }
    }
    previews.sort_by_key(|p| p.pr);
    Ok(Pruned {
        space: sweep.space.to_string(),
        repo: sweep.repo.to_string(),
        dry_run: sweep.dry_run,
        max_age_days: sweep.max_age,
        age_from: AGE_FROM,
        previews,
    })
}

/// What the Hub's `search` is asked for: `NAME-pr-`, or the part of a long name every preview
/// keeps (a preview's name is cut to stay within 96 characters).
fn search_text(space: &SpaceId) -> String {
    // The longest suffix: `-pr-` and the 20 digits of the largest number.
    let keep = 96 - "-pr-".len() - 20;
    let name = space.name();
    if name.chars().count() <= keep {
        return format!("{name}-pr-");
    }
    name.chars()
        .take(keep)
        .collect::<String>()
        .trim_end_matches(['-', '.'])
        .to_string()
}

/// The pull request of `listed` when it is named exactly as a preview of `base`.
fn preview_of(base: &SpaceId, listed: &str) -> Option<(SpaceId, u64)> {
    let id = SpaceId::parse(listed, Field::Space).ok()?;
    let name = id.name().to_ascii_lowercase();
    let (_, digits) = name.rsplit_once("-pr-")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number: u64 = digits.parse().ok()?;
    base.preview(number)
        .to_string()
        .eq_ignore_ascii_case(listed)
        .then_some((id, number))
}

/// Whole days since the Space last changed (else since it was made); `None` when the Hub gives
/// neither time, or one it cannot read.
fn age_days(item: &ListedSpace, now: OffsetDateTime) -> Option<i64> {
    let at = item
        .last_modified
        .as_deref()
        .or(item.created_at.as_deref())?;
    let at = OffsetDateTime::parse(at, &Rfc3339).ok()?;
    Some((now - at).whole_days().max(0))
}

/// Outside text, redacted of nothing we hold (it carries no secret of ours), capped.
fn remote(text: &str) -> RemoteText {
    RemoteText::with_max_bytes(text, &Redactor::none(), 500)
}

/// Decide about one preview, and delete it when it is stale.
async fn one(sweep: &Sweep<'_>, id: &SpaceId, pr: u64, age_days: Option<i64>) -> Preview {
    let mut preview = Preview {
        space: id.to_string(),
        pr,
        state: None,
        age_days,
        action: Action::Skipped,
        reason: String::new(),
        detail: None,
    };
    let expected = mark::value(sweep.repo, pr);
    let found = match sweep.hub.variables(id).await {
        Ok(variables) => variables.get(PREVIEW_MARK).map(|v| v.value.clone()),
        Err(Error::NotFound { .. }) => {
            preview.reason = "already gone".into();
            return preview;
        }
        Err(error) => return failed(preview, "its preview mark could not be read: ", &error),
    };
    match found {
        None => {
            preview.reason = format!(
                "it carries no preview mark ({PREVIEW_MARK}): hf-deploy did not make it for a pull request of {}, so it is left alone",
                sweep.repo
            );
            return preview;
        }
        Some(found) if !found.eq_ignore_ascii_case(&expected) => {
            preview.reason = format!(
                "it is marked as another repository's or pull request's preview, not {expected}, so it is left alone; its mark:"
            );
            preview.detail = Some(remote(&found));
            return preview;
        }
        Some(_) => {}
    }
    let read = pulls::pull_request(sweep.github, sweep.repo, pr).await;
    let too_old = match (sweep.max_age, age_days) {
        (Some(max), Some(age)) if age > i64::from(max) => Some((age, max)),
        _ => None,
    };
    match (&read, too_old) {
        (Ok(pull), _) if !pull.open => {
            let state = if pull.merged { "merged" } else { "closed" };
            preview.state = Some(state);
            preview.reason = format!("pull request #{pr} is {state}");
        }
        (_, Some((age, max))) => {
            preview.state = read.as_ref().ok().map(|_| "open");
            preview.reason =
                format!("unchanged for {age} days, more than the maximum age of {max}");
        }
        (Ok(_), None) => {
            preview.state = Some("open");
            preview.action = Action::Kept;
            preview.reason = format!("pull request #{pr} is open");
            return preview;
        }
        (Err(error), None) => {
            return failed(preview, "its pull request could not be read: ", error);
        }
    }
    delete(sweep, id, preview).await
}

/// Delete a stale preview (not in a dry run).
async fn delete(sweep: &Sweep<'_>, id: &SpaceId, mut preview: Preview) -> Preview {
    if sweep.dry_run {
        preview.action = Action::WouldDelete;
        return preview;
    }
    match sweep.hub.delete_space(id).await {
        Ok(()) => preview.action = Action::Deleted,
        Err(Error::NotFound { .. }) => preview.reason = "already gone".into(),
        Err(error) => {
            let why = format!("{}; deleting it failed: ", preview.reason);
            return failed(preview, &why, &error);
        }
    }
    preview
}

fn failed(mut preview: Preview, reason: &str, error: &dyn std::fmt::Display) -> Preview {
    preview.action = Action::Failed;
    preview.reason = reason.trim_end_matches([':', ' ']).to_string();
    preview.detail = Some(remote(&error.to_string()));
    preview
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> SpaceId {
        SpaceId::parse(text, Field::Space).expect("id")
    }

    #[test]
    fn only_names_of_this_spaces_previews_count() {
        let base = id("alice/app");
        assert_eq!(
            preview_of(&base, "alice/app-pr-12").map(|(_, n)| n),
            Some(12)
        );
        assert_eq!(preview_of(&base, "alice/App-PR-3").map(|(_, n)| n), Some(3));
        for other in [
            "alice/my-app-pr-1",
            "alice/app-pr-",
            "alice/app-pr-01",
            "alice/app-pr-2-old",
            "bob/app-pr-1",
            "alice/app",
        ] {
            assert!(preview_of(&base, other).is_none(), "{other}");
        }
        let long = id(&format!("alice/{}", "n".repeat(96)));
        let preview = long.preview(7).to_string();
        assert_eq!(preview_of(&long, &preview).map(|(_, n)| n), Some(7));
        assert!(preview.contains(&search_text(&long)));
        assert_eq!(search_text(&base), "app-pr-");
    }

    #[test]
    fn age_counts_from_the_last_change_else_the_creation() {
        let now = OffsetDateTime::parse("2026-12-10T12:00:00Z", &Rfc3339).expect("now");
        let item = |created: Option<&str>, modified: Option<&str>| ListedSpace {
            id: "alice/app-pr-1".into(),
            created_at: created.map(str::to_string),
            last_modified: modified.map(str::to_string),
            private: None,
        };
        assert_eq!(
            age_days(
                &item(
                    Some("2026-01-01T00:00:00.000Z"),
                    Some("2026-12-01T00:00:00.000Z")
                ),
                now
            ),
            Some(9)
        );
        assert_eq!(
            age_days(&item(Some("2026-11-30T00:00:00Z"), None), now),
            Some(10)
        );
        assert_eq!(age_days(&item(None, Some("yesterday")), now), None);
        assert_eq!(age_days(&item(None, None), now), None);
    }
}
