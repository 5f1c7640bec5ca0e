//! Repositories: the token's account, create, read and delete a Space.

use reqwest::Method;
use serde_json::{Value, json};

use super::client::HubClient;
use super::errors::{is_conflicting_operation, map_http_error};
use super::models::{CreateSpace, Created, SpaceInfo, WhoAmI};
use super::transport::{Answer, Call, CallKind};
use crate::error::{PROTECTED, Result};
use crate::space::SpaceId;
use crate::visibility::Visibility;
use crate::wait::Idempotency;

impl HubClient {
    /// The account behind the token. Cached after the first success: the Hub rate-limits this
    /// endpoint strictly.
    ///
    /// Endpoint: `GET /api/whoami-v2`.
    pub async fn whoami(&self) -> Result<WhoAmI> {
        self.inner
            .whoami
            .get_or_try_init(|| self.load_whoami())
            .await
            .cloned()
    }

    pub(super) async fn load_whoami(&self) -> Result<WhoAmI> {
        let call = Call {
            method: Method::GET,
            path: "/api/whoami-v2".into(),
            query: Vec::new(),
            body: None,
            action: "look up the account of the token".into(),
            what: "the account of the token".into(),
            kind: CallKind::WhoAmI,
            idempotency: Idempotency::Idempotent,
        };
        match self.send(&call).await? {
            Answer::Success(response) => self.json(&call, response).await,
            Answer::Failed { failed, attempts } => Err(map_http_error(
                &call,
                &self.url(&call),
                &failed,
                attempts,
                None,
                &self.redactor,
            )),
        }
    }

    /// Create the Space. A 409 means it exists: `Ok` with `existed: true`. On 401, 402 or 403
    /// the Space may still exist and be ours (a token without create scope, a free account and a
    /// Docker Space): then `Ok(existed: true)` if [`HubClient::space_info`] sees it, as
    /// `huggingface_hub`'s `create_repo(exist_ok=True)` does.
    ///
    /// Endpoint: `POST /api/repos/create`.
    pub async fn create_space(&self, space: &SpaceId, options: &CreateSpace) -> Result<Created> {
        let mut body = json!({
            "name": space.name(),
            "organization": space.namespace(),
            "type": "space",
            "sdk": options.sdk,
        });
        // `private` for public and private, as every recorded create sends it; `visibility`
        // only for protected (the Hub refuses both together).
        match options.visibility {
            Visibility::Protected => body["visibility"] = json!(options.visibility.as_str()),
            other => body["private"] = json!(other == Visibility::Private),
        }
        if let Some(hardware) = &options.hardware {
            body["hardware"] = json!(hardware);
        }
        if let Some(seconds) = options.sleep_time_seconds {
            body["sleepTimeSeconds"] = json!(seconds);
        }
        if !options.secrets.is_empty() {
            let secrets: Vec<Value> = options
                .secrets
                .iter()
                .map(|(key, value, description)| match description {
                    Some(d) => json!({"key": key, "value": value.expose(), "description": d}),
                    None => json!({"key": key, "value": value.expose()}),
                })
                .collect();
            body["secrets"] = Value::Array(secrets);
        }
        if !options.variables.is_empty() {
            let variables: Vec<Value> = options
                .variables
                .iter()
                .map(|(key, value)| json!({"key": key, "value": value}))
                .collect();
            body["variables"] = Value::Array(variables);
        }
        let action = match options.visibility {
            Visibility::Protected => format!("create Space `{space}` as {PROTECTED}"),
            _ => format!("create Space `{space}`"),
        };
        let call = Call {
            body: Some(body),
            ..self.space_call(Method::POST, "/api/repos/create".into(), space, action)
        };
        let (failed, attempts) = match self.send(&call).await? {
            Answer::Success(response) => {
                let created: CreateAnswer = self.json(&call, response).await?;
                let url = created.url.unwrap_or_else(|| self.git_url(space));
                return Ok(Created {
                    url,
                    existed: false,
                });
            }
            Answer::Failed { failed, attempts } => (failed, attempts),
        };
        if failed.status == 409 && !is_conflicting_operation(&failed.body) {
            let url = serde_json::from_str::<CreateAnswer>(&failed.body)
                .ok()
                .and_then(|answer| answer.url)
                .unwrap_or_else(|| self.git_url(space));
            return Ok(Created { url, existed: true });
        }
        if matches!(failed.status, 401..=403) && self.space_info(space).await.is_ok() {
            tracing::debug!(space = %space, status = failed.status, "create refused but the Space is visible");
            return Ok(Created {
                url: self.git_url(space),
                existed: true,
            });
        }
        Err(self.http_error(&call, &failed, attempts).await)
    }

    /// The Space: id, sha, host, subdomain, runtime, card data, files.
    ///
    /// Endpoint: `GET /api/spaces/{ns}/{name}`.
    pub async fn space_info(&self, space: &SpaceId) -> Result<SpaceInfo> {
        let call = self.space_call(
            Method::GET,
            format!("/api/spaces/{space}"),
            space,
            format!("read Space `{space}`"),
        );
        let mut info: SpaceInfo = self.execute_json(&call).await?;
        info.runtime = info.runtime.map(|runtime| runtime.redacted(&self.redactor));
        Ok(info)
    }

    /// Make the Space public, protected or private (protected needs a paid plan: a 402 then,
    /// with advice that names the ways out).
    ///
    /// Endpoint: `PUT /api/spaces/{ns}/{name}/settings`.
    pub async fn set_visibility(&self, space: &SpaceId, visibility: Visibility) -> Result<()> {
        let action = match visibility {
            Visibility::Protected => format!("turn Space `{space}` into {PROTECTED}"),
            other => format!("make Space `{space}` {other}"),
        };
        let call = Call {
            body: Some(json!({ "visibility": visibility.as_str() })),
            ..self.space_call(
                Method::PUT,
                format!("/api/spaces/{space}/settings"),
                space,
                action,
            )
        };
        self.execute(&call).await.map(drop)
    }

    /// Delete the Space.
    ///
    /// Endpoint: `DELETE /api/repos/delete`.
    pub async fn delete_space(&self, space: &SpaceId) -> Result<()> {
        let call = Call {
            body: Some(
                json!({"name": space.name(), "organization": space.namespace(), "type": "space"}),
            ),
            ..self.space_call(
                Method::DELETE,
                "/api/repos/delete".into(),
                space,
                format!("delete Space `{space}`"),
            )
        };
        self.execute(&call).await.map(drop)
    }
}

/// The 200 or 409 answer of `POST /api/repos/create`.
#[derive(serde::Deserialize)]
struct CreateAnswer {
    #[serde(default)]
    url: Option<String>,
}
