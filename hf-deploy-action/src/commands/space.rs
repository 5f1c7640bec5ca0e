//! `hf-deploy status`, `logs` and `delete`: one Space, read or removed.

use std::process::ExitCode;

use futures_util::StreamExt;
use hf_deploy_core::SpaceId;
use hf_deploy_core::hub::{HubClient, LogKind};

use crate::cli::{DeleteArgs, LogsArgs, StatusArgs};
use crate::env;
use crate::guard::{shown, shown_remote};
use crate::ui::{Ui, UsageError};

fn client() -> anyhow::Result<HubClient> {
    super::deploy::build_client(&env::endpoint(), env::token())
}

pub(crate) async fn status(args: StatusArgs, _ui: &Ui) -> anyhow::Result<ExitCode> {
    let id = SpaceId::parse(&args.space, hf_deploy_core::Field::Space)?;
    let client = client()?;
    let info = client
        .space_info(&id)
        .await
        .map_err(|e| crate::token::unless_anonymous(e, &client, "read a private Space"))?;
    let runtime = match info.runtime.clone() {
        Some(runtime) => runtime,
        None => client.runtime(&id).await?,
    };
    let app_url = info.app_url(&id);
    let redactor = crate::guard::redactor();
    if args.json {
        let value = serde_json::json!({
            "space_id": id.to_string(),
            "stage": runtime.stage.to_remote(&redactor),
            "hardware": {"current": runtime.hardware.current, "requested": runtime.hardware.requested},
            "app_url": app_url,
            "sha": info.sha,
            "private": info.private,
            "space_url": id.web_url(client.endpoint()),
            "domains": runtime.domains.iter().map(|d| d.domain.clone()).collect::<Vec<_>>(),
        });
        outln!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        // What the Hub answered goes to the terminal through the door.
        outln!("Space     {id}");
        outln!(
            "stage     {}",
            shown_remote(&runtime.stage.to_remote(&redactor))
        );
        outln!(
            "hardware  {} (requested {})",
            shown(runtime.hardware.current.as_deref().unwrap_or("none")),
            shown(runtime.hardware.requested.as_deref().unwrap_or("none"))
        );
        outln!("app       {}", shown(&app_url));
        outln!("page      {}", id.web_url(client.endpoint()));
        outln!(
            "commit    {}",
            shown(info.sha.as_deref().unwrap_or("unknown"))
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn logs(args: LogsArgs, _ui: &Ui) -> anyhow::Result<ExitCode> {
    let id = SpaceId::parse(&args.space, hf_deploy_core::Field::Space)?;
    let kind = if args.run {
        LogKind::Run
    } else {
        LogKind::Build
    };
    let client = client()?;
    if client.token().is_none() {
        return Err(crate::token::missing("read the logs of a Space"));
    }
    if args.follow {
        let mut stream = client.logs(&id, kind).await?;
        while let Some(line) = stream.next().await {
            outln!("{}", shown_remote(&line?.text));
        }
    } else {
        let tail = client
            .logs_tail(&id, kind, usize::MAX, std::time::Duration::from_secs(2))
            .await?;
        for line in tail.lines() {
            outln!("{}", shown_remote(&line));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn delete(args: DeleteArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    let id = SpaceId::parse(&args.space, hf_deploy_core::Field::Space)?;
    if !args.yes {
        return Err(UsageError::error(
            format!("deleting Space `{id}` needs confirmation"),
            Some("add `--yes` to delete it; this cannot be undone"),
        ));
    }
    let client = client()?;
    if client.token().is_none() {
        return Err(crate::token::missing("delete a Space"));
    }
    client.delete_space(&id).await?;
    ui.info(&format!("Deleted Space `{id}`."));
    Ok(ExitCode::SUCCESS)
}
