//! `hf-deploy history`: a Space's deploys, newest first.

use std::process::ExitCode;

use hf_deploy_core::history::{self, DEFAULT_LIMIT, History};
use hf_deploy_core::{Field, SpaceId};

use crate::cli::HistoryArgs;
use crate::env;
use crate::guard::shown_remote;
use crate::ui::Ui;

pub(crate) async fn run(args: HistoryArgs, _ui: &Ui) -> anyhow::Result<ExitCode> {
    let id = SpaceId::parse(&args.space, Field::Space)?;
    let client = super::deploy::build_client(&env::endpoint(), env::token())?;
    let found = history::history(&client, &id, DEFAULT_LIMIT)
        .await
        .map_err(|e| crate::token::unless_anonymous(e, &client, "read a private Space"))?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&found)?);
    } else {
        out!("{}", render(&found));
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per commit: the commit, the source commit, the time, who made it; the head marked.
fn render(found: &History) -> String {
    let stage = found
        .stage
        .as_ref()
        .map_or_else(|| "unknown".to_string(), shown_remote);
    let mut text = format!("Space {}  (stage now: {stage})\n", found.space_id);
    text.push_str("  commit   source   time                  by         title\n");
    for entry in &found.deploys {
        let short = |id: &str| id.chars().take(7).collect::<String>();
        let source = entry.source_commit.as_deref().map_or("-".into(), short);
        let by = if entry.by_hf_deploy {
            "hf-deploy"
        } else {
            "other"
        };
        let mut title = shown_remote(&entry.title);
        if let Some(restored) = &entry.restores {
            title = format!("{title} (restores {})", short(restored));
        }
        text.push_str(&format!(
            "{} {}  {:<7}  {:<20}  {:<9}  {}\n",
            if entry.current { "*" } else { " " },
            short(&entry.commit),
            source,
            time(&shown_remote(&entry.time)),
            by,
            title,
        ));
    }
    text.push_str("health of earlier revisions: unknown (no record is kept); * the current head\n");
    text
}

/// `2026-12-03T07:55:12.000Z` -> `2026-12-03 07:55:12`.
fn time(iso: &str) -> String {
    iso.replacen('T', " ", 1)
        .chars()
        .take(19)
        .collect::<String>()
}

#[cfg(test)]
mod tests {
    use hf_deploy_core::history::HistoryEntry;
    use hf_deploy_core::{Redactor, RemoteText};

    use super::*;

    #[test]
    fn one_line_per_commit_with_its_source() {
        let redactor = Redactor::builder().build();
        let text = |s: &str| RemoteText::new(s, &redactor);
        let entry = |commit: &str, source: Option<&str>, by: bool, current: bool| HistoryEntry {
            commit: commit.into(),
            source_commit: source.map(str::to_string),
            time: text("2026-12-03T07:55:12.000Z"),
            title: text("Deploy with hf-deploy"),
            by_hf_deploy: by,
            version: by.then(|| "0.1.0".to_string()),
            restores: None,
            current,
            healthy: None,
        };
        let found = History {
            space_id: "alice/app".into(),
            stage: Some(text("RUNNING")),
            deploys: vec![
                entry("b".repeat(40).as_str(), Some(&"1".repeat(40)), true, true),
                entry("a".repeat(40).as_str(), None, false, false),
            ],
        };
        insta::assert_snapshot!(render(&found));
    }
}
