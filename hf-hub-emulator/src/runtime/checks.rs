//! The checks the Hub makes of a revision before any build: the README's front matter
//! (CONFIG_ERROR) and, for a Docker Space, the Dockerfile (NO_APP_FILE).

use serde_json::Value;

use super::stages::{fail, log_line};
use crate::git;
use crate::hub::{Hub, Space};
use crate::util;

/// The README's configuration (its card) at `head`, or the messages of what is wrong with it,
/// the first one the `errorMessage`.
async fn readme_card(hub: &Hub, space: &Space, head: &str) -> Result<Value, Vec<String>> {
    let Some(readme) = git::read_file(hub, &space.repo_dir, head, "README.md").await else {
        return Err(vec![
            "Missing configuration in README: README.md not found".to_owned(),
        ]);
    };
    let readme = String::from_utf8_lossy(&readme).into_owned();
    if util::front_matter(&readme).is_none() {
        return Err(vec![
            "Missing configuration in README: no YAML front matter".to_owned(),
        ]);
    }
    let card = util::card_data(&readme)
        .map_err(|e| vec![format!("Invalid configuration in README: {e}")])?;
    let errors = util::space_config_errors(&card);
    if errors.is_empty() {
        Ok(card)
    } else {
        Err(errors
            .iter()
            .map(|e| format!("Invalid configuration in README: {e}"))
            .collect())
    }
}

/// Checks revision `head` of `space` as the Hub does before a build. Returns its README's card
/// (the Space's SDK is taken from it), or `None` once the generation ended in CONFIG_ERROR or
/// NO_APP_FILE (after the building delay, as on the Hub).
pub(super) async fn check_repo(
    hub: &Hub,
    space: &Space,
    generation: u64,
    head: &str,
) -> Option<Value> {
    let card = match readme_card(hub, space, head).await {
        Ok(card) => card,
        Err(errors) => {
            tokio::time::sleep(hub.delays.building).await;
            for e in &errors[1..] {
                log_line(space, generation, false, e);
            }
            fail(space, generation, "CONFIG_ERROR", &errors[0], false);
            return None;
        }
    };
    if let Some(sdk) = card.get("sdk").and_then(Value::as_str) {
        space.lock().sdk = sdk.to_owned();
    }
    let sdk = space.lock().sdk.clone();
    if sdk == "docker"
        && git::read_file(hub, &space.repo_dir, head, "Dockerfile")
            .await
            .is_none()
    {
        tokio::time::sleep(hub.delays.building).await;
        fail(
            space,
            generation,
            "NO_APP_FILE",
            "No Dockerfile found at the root of the repository",
            false,
        );
        return None;
    }
    Some(card)
}
