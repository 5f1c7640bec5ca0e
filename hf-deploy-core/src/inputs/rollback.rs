//! The plan of a rollback: the inputs of [`RawInputs`] a rollback uses, checked by the same rules
//! as a deploy's (no source folder is read: the tree comes from the Space's own history).

use std::time::Duration;

use super::{DeployOptions, PollSettings, RawInputs, health_path, rules};
use crate::error::{Error, Result};
use crate::field::{Field, Phrase};
use crate::space::SpaceId;
use crate::untrusted::Redactor;
use crate::urls::HealthPath;

/// Everything a rollback needs, checked: made by [`resolve_rollback`] only.
#[derive(Debug, Clone)]
pub struct RollbackOptions {
    /// The Space.
    pub space: SpaceId,
    /// The commit to restore (hex, maybe abbreviated); `None`: the deploy before the head.
    pub to: Option<String>,
    /// The health path.
    pub health_path: HealthPath,
    /// Explicit app URL; else the Hub's answer.
    pub app_url: Option<String>,
    /// Frontend origins to check CORS for.
    pub frontend_origins: Vec<String>,
    /// Accept `degraded` health.
    pub allow_degraded: bool,
    /// Wait for the build and verify (false: return after the push).
    pub wait: bool,
    /// Deadline for build plus health.
    pub timeout: Duration,
    /// Redacts what the Hub and the app say (the client's redactor is merged in).
    pub redactor: Redactor,
    /// Polling intervals.
    pub(crate) poll: PollSettings,
}

/// Check the inputs of a rollback: the Space, the commit to restore, the health path, the app
/// URL, the frontend origins and the timeout. Sends nothing anywhere; reads no file.
///
/// # Errors
///
/// The first bad input: [`Error::InvalidInput`] naming its [`Field`].
pub fn resolve_rollback(raw: &RawInputs) -> Result<RollbackOptions> {
    let Some(space) = raw.space.as_deref() else {
        return Err(Error::invalid_input_hint(
            Field::Space,
            "no target Space was given",
            Phrase::new("give ")
                .field(Field::Space)
                .text(" as `namespace/name`, e.g. `alice/rag-chatbot`"),
        ));
    };
    let space = SpaceId::parse(space.trim(), Field::Space)?;
    let to = raw
        .rollback_to
        .as_deref()
        .map(rules::rollback_to)
        .transpose()?;
    let frontend_origins = rules::origins(&raw.frontend_urls)?;
    let health_path = health_path(raw.health_path.as_deref())?;
    let app_url = raw.app_url.as_deref().map(rules::app_url).transpose()?;
    rules::timeout(raw.timeout)?;
    Ok(RollbackOptions {
        space,
        to,
        health_path,
        app_url,
        frontend_origins,
        allow_degraded: raw.allow_degraded,
        wait: raw.wait,
        timeout: raw.timeout,
        redactor: Redactor::builder().build(),
        poll: PollSettings::default(),
    })
}

/// The rollback of a deploy's Space to the deploy before its head, checked as that deploy's
/// options were (its health path, app URL, origins, wait, deadline and redactor).
impl From<&DeployOptions> for RollbackOptions {
    fn from(options: &DeployOptions) -> Self {
        RollbackOptions {
            space: options.space.clone(),
            to: None,
            health_path: options.health_path.clone(),
            app_url: options.app_url.clone(),
            frontend_origins: options.frontend_origins.clone(),
            allow_degraded: options.allow_degraded,
            wait: options.wait,
            timeout: options.timeout,
            redactor: options.redactor.clone(),
            poll: options.poll,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(space: &str, to: Option<&str>) -> RawInputs {
        RawInputs {
            space: Some(space.into()),
            rollback_to: to.map(str::to_string),
            ..RawInputs::default()
        }
    }

    #[test]
    fn a_commit_id_is_hex_and_a_bad_one_names_the_field() {
        let options = resolve_rollback(&raw("alice/app", Some(" ABCDEF1 "))).expect("valid");
        assert_eq!(options.to.as_deref(), Some("abcdef1"));
        assert_eq!(
            resolve_rollback(&raw("alice/app", None)).expect("valid").to,
            None
        );
        for bad in ["main", "abc", "xyz1234", "abcdef1; rm", &"a".repeat(41)] {
            let error = resolve_rollback(&raw("alice/app", Some(bad))).expect_err(bad);
            assert_eq!(error.field(), Some(Field::RollbackTo), "{bad}");
            assert!(error.is_usage(), "{bad}");
        }
        let error = resolve_rollback(&raw("not a space", None)).expect_err("space");
        assert_eq!(error.field(), Some(Field::Space));
    }
}
